/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP input: validate (RFC 1812 5.2.2 for IPv4, RFC 8200 for IPv6), look the destinations
 * of the whole burst up in their contexts' FIBs at once, then act on each next hop.
 */
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dataplane/esp.h"
#include "dataplane/pkt.h"
#include "dataplane/worker.h"

/* RFC 4291 2.5.2/2.5.3: unspecified, loopback or multicast sources are never routed.
 * (Duplicate address detection uses the unspecified source: it is multicast and goes to
 * neighbor discovery before this check.) */
static inline bool
ip6_martian_src(const uint8_t *a)
{
	static const uint8_t loopback[16] = {[15] = 1};

	return pf_ip6_is_unspec(a) || a[0] == 0xff || memcmp(a, loopback, 16) == 0;
}

/* RFC 1812 5.3.7: never forward from these sources. */
static inline bool
ip4_martian_src(uint32_t src)
{
	uint8_t a = src >> 24;

	return a == 0 || a == 127 || a >= 224;
}

/* True when m is a well-formed IPv4 packet (padding trimmed); else *why is set. */
static bool
ip4_ok(struct rte_mbuf *m, const struct pf_meta *md, enum pf_drop *why)
{
	uint32_t avail = rte_pktmbuf_data_len(m) - md->l3;
	const struct rte_ipv4_hdr *ip;
	unsigned hlen, tlen;

	if (avail < sizeof(*ip)) {
		*why = md->decap ? PF_DROP_gre_bad_inner : PF_DROP_runt;
		return false;
	}
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);
	if ((ip->version_ihl >> 4) != 4) {
		*why = PF_DROP_ip4_bad_version;
		return false;
	}
	hlen = (ip->version_ihl & 0xf) * 4u;
	if (hlen < sizeof(*ip) || hlen > avail) {
		*why = PF_DROP_ip4_bad_ihl;
		return false;
	}
	tlen = rte_be_to_cpu_16(ip->total_length);
	if (tlen < hlen || tlen > avail) {
		*why = PF_DROP_ip4_bad_len;
		return false;
	}
	if (pf_ip4_cksum_check(ip, hlen) != 0) {
		*why = PF_DROP_ip4_bad_cksum;
		return false;
	}
	if (ip4_martian_src(rte_be_to_cpu_32(ip->src_addr))) {
		*why = PF_DROP_ip4_bad_src;
		return false;
	}
	/* Ethernet pads short frames; the padding must not travel on (e.g. into GRE). */
	if (tlen < avail)
		rte_pktmbuf_trim(m, avail - tlen);
	return true;
}

static bool
ip6_ok(struct rte_mbuf *m, const struct pf_meta *md, enum pf_drop *why)
{
	uint32_t avail = rte_pktmbuf_data_len(m) - md->l3;
	const struct rte_ipv6_hdr *ip;
	uint32_t tlen;

	if (avail < sizeof(*ip)) {
		*why = md->decap ? PF_DROP_gre_bad_inner : PF_DROP_runt;
		return false;
	}
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, md->l3);
	if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6) {
		*why = PF_DROP_ip6_bad_version;
		return false;
	}
	tlen = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if (tlen > avail) {
		*why = PF_DROP_ip6_bad_len;
		return false;
	}
	if (tlen < avail)
		rte_pktmbuf_trim(m, avail - tlen);
	return true;
}

/* One member of an ECMP group per flow, so a flow's packets are never reordered:
 * addresses, protocol and (unless a fragment) the first four L4 bytes, i.e. the ports. */
const struct pf_nexthop *
pf_ecmp_pick(const struct pf_tables *t, const struct rte_mbuf *m, const struct pf_meta *md,
	     const struct pf_nexthop *nh)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->l3);
	uint32_t avail = rte_pktmbuf_data_len(m) - md->l3, h;

	if (md->family == 4) {
		const struct rte_ipv4_hdr *ip = (const void *)l3;
		unsigned hlen = (ip->version_ihl & 0xf) * 4u;

		h = pf_rd32(&ip->src_addr) * 31 + pf_rd32(&ip->dst_addr);
		h = h * 31 + ip->next_proto_id;
		if (!(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) &&
		    avail >= hlen + 4)
			h = h * 31 + pf_rd32(l3 + hlen);
	} else {
		const struct rte_ipv6_hdr *ip = (const void *)l3;

		h = rte_raw_cksum(ip->src_addr, 32) * 31u + ip->proto;
		if (avail >= sizeof(*ip) + 4 && ip->proto != IPPROTO_FRAGMENT)
			h = h * 31 + pf_rd32(l3 + sizeof(*ip));
	}
	h = pf_hash32(h);
	return &t->nh[nh->ecmp[h % nh->n_ecmp]];
}

static void
forward(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md,
	const struct pf_nexthop *nh)
{
	/* Cloud traffic must leave toward a customer; never hairpin it back to the core. */
	if (md->from_core && (nh->type == PF_NH_CORE || nh->type == PF_NH_GRE)) {
		pf_drop(w, m, PF_DROP_wrong_dir);
		return;
	}
	if (md->family == 4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3);

		/* Too big with DF: answer before touching the TTL, so the ICMP error quotes the
		 * header as it was received (RFC 1812 4.3.2.3). Without DF, ip_output fragments. */
		if (rte_be_to_cpu_16(ip->total_length) > nh->mtu &&
		    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))) {
			pf_icmp_error(w, m, md, PF_ICMP_DEST_UNREACH, PF_ICMP_FRAG_NEEDED, nh->mtu);
			pf_drop(w, m, PF_DROP_frag_needed);
			return;
		}
		if (ip->time_to_live <= 1) {
			/* RFC 1812 5.3.1 */
			pf_icmp_error(w, m, md, PF_ICMP_TIME_EXCEEDED, 0, 0);
			pf_drop(w, m, PF_DROP_ttl_expired);
			return;
		}
		pf_ip4_dec_ttl(ip);
	} else {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, md->l3);

		/* RFC 8200 5: routers never fragment IPv6; RFC 4443 3.2 */
		if (sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len) > nh->mtu) {
			pf_icmp_error(w, m, md, PF_ICMP6_PACKET_TOO_BIG, 0, nh->mtu);
			pf_drop(w, m, PF_DROP_frag_needed);
			return;
		}
		if (ip->hop_limits <= 1) {
			/* RFC 4443 3.3 */
			pf_icmp_error(w, m, md, PF_ICMP6_TIME_EXCEEDED, 0, 0);
			pf_drop(w, m, PF_DROP_ttl_expired);
			return;
		}
		ip->hop_limits--;
	}
	pf_ip_output(w, m, md, nh, false);
}

void
pf_ip_input(struct pf_worker *w, struct rte_mbuf **pkts, struct pf_meta *md, uint16_t n)
{
	const struct pf_tables *t = w->t;
	uint32_t ctx4[PF_MAX_BURST], dst4[PF_MAX_BURST], res4[PF_MAX_BURST];
	uint32_t ctx6[PF_MAX_BURST], res6[PF_MAX_BURST];
	uint8_t dst6[PF_MAX_BURST][16];
	uint16_t idx4[PF_MAX_BURST], idx6[PF_MAX_BURST];
	uint16_t n4 = 0, n6 = 0, n_again = 0;
	struct rte_mbuf *again[PF_MAX_BURST];
	struct pf_meta again_md[PF_MAX_BURST];
	uint32_t nhi[PF_MAX_BURST];

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		enum pf_drop r;

		if (md[i].family == 4) {
			const struct rte_ipv4_hdr *ip;

			if (!ip4_ok(m, &md[i], &r)) {
				pf_drop(w, m, r);
				pkts[i] = NULL;
				continue;
			}
			ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md[i].l3);
			ctx4[n4] = md[i].ctx;
			dst4[n4] = rte_be_to_cpu_32(ip->dst_addr);
			idx4[n4++] = i;
		} else {
			const struct rte_ipv6_hdr *ip;

			if (!ip6_ok(m, &md[i], &r)) {
				pf_drop(w, m, r);
				pkts[i] = NULL;
				continue;
			}
			ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, md[i].l3);
			if (ip->dst_addr[0] == 0xff) {
				/* multicast: only neighbor discovery concerns us */
				if (!pf_nd_input(w, m, &md[i]))
					pf_drop(w, m, PF_DROP_not_for_us);
				pkts[i] = NULL;
				continue;
			}
			if (ip6_martian_src(ip->src_addr)) {
				pf_drop(w, m, PF_DROP_ip6_bad_src);
				pkts[i] = NULL;
				continue;
			}
			ctx6[n6] = md[i].ctx;
			memcpy(dst6[n6], ip->dst_addr, 16);
			idx6[n6++] = i;
		}
	}
	if (n4)
		fib4_lookup_bulk(t->fib, ctx4, dst4, res4, n4);
	if (n6)
		fib6_lookup_bulk(t->fib, ctx6, (const uint8_t(*)[16])dst6, res6, n6);
	for (uint16_t k = 0; k < n4; k++)
		nhi[idx4[k]] = res4[k];
	for (uint16_t k = 0; k < n6; k++)
		nhi[idx6[k]] = res6[k];

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct pf_nexthop *nh;

		if (m == NULL)
			continue;
		nh = &t->nh[nhi[i]];
		if (nh->type == PF_NH_ECMP)
			nh = pf_ecmp_pick(t, m, &md[i], nh);
		switch (nh->type) {
		case PF_NH_NONE:
			pf_drop(w, m, PF_DROP_no_route);
			break;
		case PF_NH_DROP:
			pf_drop(w, m, PF_DROP_blackhole);
			break;
		case PF_NH_LOCAL:
			pf_local_input(w, m, &md[i], again, again_md, &n_again);
			break;
		default:
			forward(w, m, &md[i], nh);
			break;
		}
	}
	/* ESP batched by local.c: decrypted GRE packets join again[] (esp.c) */
	if (unlikely(w->esp != NULL))
		pf_esp_input_flush(w, again, again_md, &n_again);
	/* Packets a tunnel of ours carried, now routed in their customer's context. */
	if (n_again)
		pf_ip_input(w, again, again_md, n_again);
}
