/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP output: the next hop's action. MTU first (fragment, or tell the sender: RFC 1191 /
 * RFC 8201), then the neighbor's MAC, then the headers: the context's VLAN tags toward a
 * customer router, none toward the core, or outer IPv4 + GRE with the customer's key
 * (RFC 2784, RFC 2890) toward the cloud.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/esp.h"
#include "dataplane/output.h"
#include "dataplane/pkt.h"
#include "dataplane/worker.h"

static unsigned
ip_len(const struct rte_mbuf *m, const struct pf_meta *md)
{
	if (md->family == 4)
		return rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								  md->l3)->total_length);
	return sizeof(struct rte_ipv6_hdr) +
	       rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *,
							md->l3)->payload_len);
}

/* RFC 791: options whose "copied" bit is set go into every fragment. */
static unsigned
ip4_copied_options(const uint8_t *opt, unsigned len, uint8_t *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < len;) {
		uint8_t type = opt[i], olen;

		if (type == 0) /* end of option list */
			break;
		if (type == 1) { /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
			break;
		olen = opt[i + 1];
		if (type & 0x80) {
			memcpy(out + n, opt + i, olen);
			n += olen;
		}
		i += olen;
	}
	while (n % 4)
		out[n++] = 0;
	return n;
}

/* Fragment an IPv4 packet (DF clear) into pieces of at most mtu bytes, send each. */
static void
ip4_fragment(struct pf_worker *w, struct rte_mbuf *m, const struct pf_meta *md,
	     const struct pf_nexthop *nh, unsigned mtu)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);
	unsigned hlen = (ip->version_ihl & 0xf) * 4u;
	unsigned tlen = rte_be_to_cpu_16(ip->total_length);
	uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	unsigned base = (fo & RTE_IPV4_HDR_OFFSET_MASK) * 8u;
	bool last_mf = fo & RTE_IPV4_HDR_MF_FLAG;
	const uint8_t *payload = (const uint8_t *)ip + hlen;
	unsigned plen = tlen - hlen, off = 0, nfrag = 0;
	uint8_t opts[40];
	unsigned olen = ip4_copied_options((const uint8_t *)(ip + 1), hlen - sizeof(*ip), opts);
	struct pf_meta fmd = *md;
	struct rte_mbuf *frags[64];

	fmd.l3 = 0;
	fmd.billed = 1;
	while (off < plen) {
		bool first = off == 0;
		unsigned fh = first ? hlen : sizeof(*ip) + olen;
		unsigned chunk = RTE_MIN(plen - off, (mtu - fh) & ~7u);
		struct rte_mbuf *f;
		struct rte_ipv4_hdr *fip;

		if (chunk == 0 || nfrag == RTE_DIM(frags) || (f = rte_pktmbuf_alloc(w->pool)) == NULL) {
			for (unsigned i = 0; i < nfrag; i++)
				rte_pktmbuf_free(frags[i]);
			pf_drop(w, m, PF_DROP_frag_failed);
			return;
		}
		fip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(f, fh + chunk);
		if (fip == NULL) {
			rte_pktmbuf_free(f);
			for (unsigned i = 0; i < nfrag; i++)
				rte_pktmbuf_free(frags[i]);
			pf_drop(w, m, PF_DROP_frag_failed);
			return;
		}
		if (first) {
			memcpy(fip, ip, hlen);
		} else {
			memcpy(fip, ip, sizeof(*ip));
			memcpy(fip + 1, opts, olen);
			fip->version_ihl = 0x40 | (fh / 4);
		}
		memcpy((uint8_t *)fip + fh, payload + off, chunk);
		fip->total_length = rte_cpu_to_be_16(fh + chunk);
		fip->fragment_offset = rte_cpu_to_be_16(
			((base + off) / 8) |
			((off + chunk < plen || last_mf) ? RTE_IPV4_HDR_MF_FLAG : 0));
		fip->hdr_checksum = 0;
		fip->hdr_checksum = rte_ipv4_cksum(fip);
		frags[nfrag++] = f;
		off += chunk;
	}
	w->c.event[PF_EV_fragmented]++;
	w->c.event[PF_EV_fragments_out] += nfrag;
	if (!md->billed)
		pf_bill(w, md->ctx, md->from_core, nh, tlen);
	rte_pktmbuf_free(m);
	for (unsigned i = 0; i < nfrag; i++)
		pf_ip_output(w, frags[i], &fmd, nh, true);
}

void
pf_ip_output(struct pf_worker *w, struct rte_mbuf *m, const struct pf_meta *md,
	     const struct pf_nexthop *nh, bool originated)
{
	const struct pf_tables *t = w->t;
	unsigned len = ip_len(m, md);
	uint64_t mac;

	if (len > nh->mtu) {
		if (md->family == 4) {
			const struct rte_ipv4_hdr *ip =
				rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);

			if (!(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))) {
				ip4_fragment(w, m, md, nh, nh->mtu);
				return;
			}
			if (!originated)
				pf_icmp_error(w, m, md, PF_ICMP_DEST_UNREACH,
					      PF_ICMP_FRAG_NEEDED, nh->mtu);
		} else if (!originated) {
			pf_icmp_error(w, m, md, PF_ICMP6_PACKET_TOO_BIG, 0, nh->mtu);
		}
		pf_drop(w, m, PF_DROP_frag_needed);
		return;
	}
	mac = __atomic_load_n(&t->neigh_mac[nh->neigh], __ATOMIC_ACQUIRE);
	if (!(mac & PF_NEIGH_VALID)) {
		pf_solicit(w, nh->neigh);
		pf_drop(w, m, PF_DROP_neigh_unresolved);
		return;
	}
	if (pf_output_headers(w, m, md->l3, md->family, nh, mac, len) != 0) {
		pf_drop(w, m, PF_DROP_no_mbuf);
		return;
	}
	if (!md->billed)
		pf_bill(w, md->ctx, md->from_core, nh, len);
	if (unlikely(nh->esp)) {
		pf_esp_output(w, m, nh); /* batched, encrypted at flush (esp.c) */
		return;
	}
	pf_tx(w, nh->port, m);
}
