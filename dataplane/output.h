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

/* Context and customer counters for n packets of len bytes in all to one next hop:
 * customer IP bytes, before our encapsulation, counted once per packet even when we
 * fragment it (circuit billing basis). */
static __rte_always_inline void
pf_bill_n(struct pf_worker *w, uint16_t in_ctx, bool from_core, const struct pf_nexthop *nh,
	  uint32_t n, uint32_t len)
{
	const struct pf_tables *t = w->t;

	if (nh->type == PF_NH_EDGE) {
		struct pf_ctx_counters *cc = &w->c.ctx[nh->ctx];
		uint16_t cu = t->ctx[nh->ctx].customer;

		cc->out.pkts += n;
		cc->out.bytes += len;
		if (from_core && cu != 0xffff) {
			w->c.cust[cu].from_cloud.pkts += n;
			w->c.cust[cu].from_cloud.bytes += len;
		}
	} else if (!from_core) {
		uint16_t cu = t->ctx[in_ctx].customer;

		if (cu != 0xffff) {
			w->c.cust[cu].to_cloud.pkts += n;
			w->c.cust[cu].to_cloud.bytes += len;
		}
	}
}

static inline void
pf_bill(struct pf_worker *w, uint16_t in_ctx, bool from_core, const struct pf_nexthop *nh,
	unsigned len)
{
	pf_bill_n(w, in_ctx, from_core, nh, 1, len);
}

/* The neighbor's MAC, then the next hop's template (nexthop.c) behind it. The copies are
 * fixed-size and may overlap: 8 + 8 bytes cover the 8, 12 and 16 bytes of an Ethernet
 * header with 0-2 tags, 32 + 4 the 36 of a GRE next hop. */
static __rte_always_inline void
pf_output_copy(uint8_t *d, uint64_t mac, const uint8_t *hdr, uint8_t type, unsigned hl)
{
	memcpy(d, &mac, 8); /* bytes 6-7 are overwritten below */
	if (type == PF_NH_GRE) {
		memcpy(d + RTE_ETHER_ADDR_LEN, hdr, PF_NH_HDR_MAX);
	} else {
		unsigned tl = hl - RTE_ETHER_ADDR_LEN;
		uint64_t a, b;

		memcpy(&a, hdr, 8);
		memcpy(&b, hdr + tl - 8, 8);
		memcpy(d + RTE_ETHER_ADDR_LEN, &a, 8);
		memcpy(d + RTE_ETHER_ADDR_LEN + tl - 8, &b, 8);
	}
}

/*
 * Write the headers of an IP packet of len bytes that starts hl bytes after d (the first
 * byte of the frame). type, hl, proto_off, hsum, hdr: an EDGE, CORE or GRE next hop's
 * fields of those names (nexthop.c), passed one by one so that a caller forwarding many
 * packets to one next hop keeps them in registers. mac: the neighbor's MAC word
 * (PF_NEIGH_VALID checked by the caller). ip_id: the outer header's ID for GRE; the
 * caller counts PF_EV_gre_encap.
 */
static __rte_always_inline void
pf_output_hdr(uint8_t *d, uint8_t family, uint8_t type, unsigned hl, unsigned proto_off,
	      uint32_t hsum, const uint8_t *hdr, uint64_t mac, unsigned len, uint16_t ip_id)
{
	pf_output_copy(d, mac, hdr, type, hl);
	if (family == 6)
		pf_wr16(d + proto_off, RTE_ETHER_TYPE_IPV6);
	if (type == PF_NH_GRE) {
		uint8_t *o = d + RTE_ETHER_HDR_LEN; /* GRE next hops are untagged */
		const uint8_t *in = d + hl;
		uint32_t tos, df, w0, w1;
		uint64_t s;
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
		/* Words 0-1 of the outer header as they lie in memory (little-endian):
		 * version/IHL, TOS, length | ID, DF. The checksum is taken on the words as
		 * stored too (byte order independent, RFC 1071 2(B)): the template's
		 * constant words (hsum, version/IHL included) plus these, w0 still without
		 * its version/IHL byte. A sum of 32-bit words modulo 0xffff is the ones'
		 * complement sum of their 16-bit halves (2^16 = 1 mod 0xffff) with 0 for a
		 * folded 0xffff, so the complement of the folded sum (1..0xffff, the sum is
		 * never 0) is 0xfffe - (s - 1) mod 0xffff. */
		w0 = tos << 8 | (uint32_t)PF_BE16((uint16_t)(len + sizeof(struct rte_ipv4_hdr) +
							      PF_GRE_KEY_HLEN)) << 16;
		w1 = PF_BE16(ip_id) | df << 16;
		s = (uint64_t)hsum + w0 + w1;
		ck = (uint16_t)(0xfffe - (s - 1) % 0xffff);
		w0 |= RTE_IPV4_VHL_DEF;
		memcpy(o, &w0, 4);
		memcpy(o + 4, &w1, 4);
		memcpy(o + 10, &ck, 2);
	}
}

/* pf_output_hdr() in front of the IP packet at offset l3 of the single-segment m, whose
 * headroom the caller checked (l3 + headroom >= hl). */
static __rte_always_inline void
pf_output_put(struct rte_mbuf *m, unsigned l3, uint8_t family, uint8_t type, unsigned hl,
	      unsigned proto_off, uint32_t hsum, const uint8_t *hdr, uint64_t mac, unsigned len,
	      uint16_t ip_id)
{
	/* rte_pktmbuf_adj / _prepend without their re-checks: l3 lies in the first
	 * segment, and the headroom is checked. */
	int delta = (int)l3 - (int)hl;

	m->data_off += delta;
	m->data_len -= delta;
	m->pkt_len -= delta;
	pf_output_hdr(rte_pktmbuf_mtod(m, uint8_t *), family, type, hl, proto_off, hsum, hdr, mac,
		      len, ip_id);
}

/* pf_output_put() with nh's fields; their reads come before the first store into the
 * packet, which may alias anything. */
static __rte_always_inline void
pf_output_write(struct rte_mbuf *m, unsigned l3, uint8_t family, const struct pf_nexthop *nh,
		uint64_t mac, unsigned len, uint16_t ip_id)
{
	pf_output_put(m, l3, family, nh->type, nh->hlen, nh->proto_off, nh->hsum, nh->hdr, mac,
		      len, ip_id);
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
