/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The last step of every forwarded packet, shared by the general path (ip_output.c) and
 * the fast path (fastpath.c) so that both write the same bytes and count the same way:
 * billing, then the L2 header (neighbor MAC, our MAC, the egress context's tags), for GRE
 * next hops preceded by outer IPv4 + GRE with the customer's key (RFC 2784, RFC 2890).
 * Inline because the fast path calls it once per packet.
 */
#ifndef PEERFWD_OUTPUT_H
#define PEERFWD_OUTPUT_H

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/pkt.h"
#include "dataplane/worker.h"

#define PF_GRE_KEY_HLEN 8 /* flags/version, protocol, key */

/* Context and customer counters: customer IP bytes, before our encapsulation, counted
 * once per packet even when we fragment it (circuit billing basis). */
static inline void
pf_bill(struct pf_worker *w, uint16_t in_ctx, bool from_core, const struct pf_nexthop *nh,
	unsigned len)
{
	const struct pf_tables *t = w->t;

	if (nh->type == PF_NH_EDGE) {
		struct pf_ctx_counters *cc = &w->c.ctx[nh->ctx];
		uint16_t cu = t->ctx[nh->ctx].customer;

		cc->out.pkts++;
		cc->out.bytes += len;
		if (from_core && cu != 0xffff) {
			w->c.cust[cu].from_cloud.pkts++;
			w->c.cust[cu].from_cloud.bytes += len;
		}
	} else if (!from_core) {
		uint16_t cu = t->ctx[in_ctx].customer;

		if (cu != 0xffff) {
			w->c.cust[cu].to_cloud.pkts++;
			w->c.cust[cu].to_cloud.bytes += len;
		}
	}
}

/* Bytes in front of the IP packet that nh needs. */
static inline unsigned
pf_output_hlen(const struct pf_nexthop *nh)
{
	return nh->hlen;
}

/* The neighbor's MAC, then the next hop's template (nexthop.c) behind it. The copies are
 * fixed-size and may overlap: 8 + 8 bytes cover the 8, 12 and 16 bytes of an Ethernet
 * header with 0-2 tags, 32 + 4 the 36 of a GRE next hop. */
static __rte_always_inline void
pf_output_copy(uint8_t *d, uint64_t mac, const struct pf_nexthop *nh, uint8_t type, unsigned hl)
{
	memcpy(d, &mac, 8); /* bytes 6-7 are overwritten below */
	if (type == PF_NH_GRE) {
		memcpy(d + RTE_ETHER_ADDR_LEN, nh->hdr, PF_NH_HDR_MAX);
	} else {
		unsigned tl = hl - RTE_ETHER_ADDR_LEN;
		uint64_t a, b;

		memcpy(&a, nh->hdr, 8);
		memcpy(&b, nh->hdr + tl - 8, 8);
		memcpy(d + RTE_ETHER_ADDR_LEN, &a, 8);
		memcpy(d + RTE_ETHER_ADDR_LEN + tl - 8, &b, 8);
	}
}

/*
 * Write the headers in front of the IP packet of len bytes at offset l3 of the
 * single-segment m, whose headroom the caller checked (l3 + headroom >= nh->hlen).
 * mac: the neighbor's MAC word (PF_NEIGH_VALID checked by the caller). nh: EDGE, CORE
 * or GRE (hlen != 0). ip_id: the outer header's ID for GRE; the caller counts
 * PF_EV_gre_encap.
 */
static __rte_always_inline void
pf_output_write(struct rte_mbuf *m, unsigned l3, uint8_t family, const struct pf_nexthop *nh,
		uint64_t mac, unsigned len, uint16_t ip_id)
{
	/* read before the first store into the packet, which may alias anything */
	const uint8_t type = nh->type, proto_off = nh->proto_off;
	const unsigned hl = nh->hlen;
	const uint32_t hsum = nh->hsum;
	/* rte_pktmbuf_adj / _prepend without their re-checks: l3 lies in the first
	 * segment, and the headroom is checked. */
	int delta = (int)l3 - (int)hl;
	uint8_t *d;

	m->data_off += delta;
	m->data_len -= delta;
	m->pkt_len -= delta;
	d = rte_pktmbuf_mtod(m, uint8_t *);
	pf_output_copy(d, mac, nh, type, hl);
	if (family == 6)
		pf_wr16(d + proto_off, RTE_ETHER_TYPE_IPV6);
	if (type == PF_NH_GRE) {
		uint8_t *o = d + RTE_ETHER_HDR_LEN; /* GRE next hops are untagged */
		const uint8_t *in = d + hl;
		uint32_t tos, df, s, w0, w1, olen, id;
		uint16_t ck;

		/* RFC 2983 uniform model for DSCP/ECN; DF copied so PMTUD keeps working
		 * (IPv6 is never fragmented en route: DF set). */
		if (family == 4) {
			tos = in[1];
			df = in[6] & (RTE_IPV4_HDR_DF_FLAG >> 8);
		} else {
			tos = (pf_rd16(in) >> 4) & 0xff;
			df = RTE_IPV4_HDR_DF_FLAG >> 8;
		}
		/* Words 0-3 of the outer header as they lie in memory: version/IHL, TOS,
		 * length, ID, DF. The sum is taken on the words as stored too (byte order
		 * independent, RFC 1071 2(B)): the template's constant words plus these. */
		olen = PF_BE32(len + sizeof(struct rte_ipv4_hdr) + PF_GRE_KEY_HLEN) >> 16;
		id = PF_BE32((uint32_t)ip_id) >> 16;
		w0 = RTE_IPV4_VHL_DEF | tos << 8 | olen << 16;
		w1 = id | df << 16;
		memcpy(o, &w0, 4);
		memcpy(o + 4, &w1, 4);
		s = hsum + (tos << 8) + olen + id + df;
		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		ck = (uint16_t)~s;
		memcpy(o + 10, &ck, 2);
	}
}

/* pf_output_write() after checking the headroom: 0, or -1 when it is too small (nothing
 * changed). */
static inline int
pf_output_headers(struct pf_worker *w, struct rte_mbuf *m, unsigned l3, uint8_t family,
		  const struct pf_nexthop *nh, uint64_t mac, unsigned len)
{
	if (rte_pktmbuf_headroom(m) + l3 < nh->hlen)
		return -1;
	pf_output_write(m, l3, family, nh, mac, len, w->ip_id);
	if (nh->type == PF_NH_GRE) {
		w->ip_id++;
		w->c.event[PF_EV_gre_encap]++;
	}
	return 0;
}

#endif
