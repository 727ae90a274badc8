/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRE termination (RFC 2784 with the RFC 2890 key extension). The key names the customer
 * (its VNet), and only the customer's configured tunnel endpoints may use that key:
 * this is what keeps customers with overlapping address space apart.
 */
#include <rte_byteorder.h>
#include <rte_gre.h>
#include <rte_ip.h>

#include "dataplane/pkt.h"
#include "dataplane/worker.h"

#define GRE_C 0x8000u
#define GRE_R 0x4000u
#define GRE_K 0x2000u
#define GRE_S 0x1000u
#define GRE_RESERVED 0x0ff8u /* Reserved0 bits 4..12 (RFC 2784 2.3, strict source route etc.) */
#define GRE_VERSION 0x0007u

/* On success m's meta points at the inner packet in its customer's context (0). */
int
pf_gre_decap(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md)
{
	const struct pf_tables *t = w->t;
	const struct rte_ipv4_hdr *ip;
	const struct pf_customer *c;
	const uint8_t *g;
	uint32_t avail, hlen, glen = 4, key;
	uint16_t flags, proto, ci;

	if (md->family != 4) {
		pf_drop(w, m, PF_DROP_not_for_us);
		return -1;
	}
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);
	hlen = (ip->version_ihl & 0xf) * 4u;
	avail = rte_be_to_cpu_16(ip->total_length) - hlen; /* ip_input trimmed to this */
	g = (const uint8_t *)ip + hlen;
	if (avail < 4) {
		pf_drop(w, m, PF_DROP_runt);
		return -1;
	}
	flags = pf_rd16(g);
	proto = pf_rd16(g + 2);
	if ((flags & (GRE_R | GRE_RESERVED | GRE_VERSION)) != 0 ||
	    (proto != RTE_ETHER_TYPE_IPV4 && proto != RTE_ETHER_TYPE_IPV6)) {
		pf_drop(w, m, PF_DROP_gre_bad_header);
		return -1;
	}
	if (flags & GRE_C)
		glen += 4;
	if (!(flags & GRE_K)) {
		pf_drop(w, m, PF_DROP_gre_unknown_key);
		return -1;
	}
	if (avail < glen + 4) {
		pf_drop(w, m, PF_DROP_runt);
		return -1;
	}
	key = pf_rd32(g + glen);
	glen += 4;
	if (flags & GRE_S)
		glen += 4; /* RFC 2890 sequence number: accepted, we do not reorder */
	if (avail < glen) {
		pf_drop(w, m, PF_DROP_runt);
		return -1;
	}
	if ((flags & GRE_C) && rte_raw_cksum(g, avail) != 0xffff) {
		pf_drop(w, m, PF_DROP_gre_bad_header);
		return -1;
	}
	ci = pf_gre_lookup(t, key);
	if (ci == 0xffff) {
		pf_drop(w, m, PF_DROP_gre_unknown_key);
		return -1;
	}
	c = &t->cust[ci];
	if (ip->dst_addr != c->tun_src || ip->src_addr != c->tun_dst) {
		pf_drop(w, m, PF_DROP_gre_bad_endpoint);
		return -1;
	}
	/* IPsec customers take GRE only out of their own SAs (esp.c marks md->esp_cust) */
	if (unlikely(c->ipsec | md->esp_cust)) {
		if (md->esp_cust == 0) {
			pf_drop(w, m, PF_DROP_gre_plain_on_ipsec);
			return -1;
		}
		if (md->esp_cust != ci + 1u) {
			pf_drop(w, m, PF_DROP_esp_wrong_customer);
			return -1;
		}
	}
	md->l3 += hlen + glen;
	md->family = proto == RTE_ETHER_TYPE_IPV4 ? 4 : 6;
	md->ctx = c->ctx;
	md->decap = 1;
	w->c.event[PF_EV_gre_decap]++;
	return 0;
}
