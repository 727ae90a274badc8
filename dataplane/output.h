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
	unsigned l2 = RTE_ETHER_HDR_LEN + 4u * nh->tags.n;

	if (nh->type == PF_NH_GRE)
		l2 += sizeof(struct rte_ipv4_hdr) + PF_GRE_KEY_HLEN;
	return l2;
}

/*
 * Write the headers in front of the IP packet of len bytes at offset l3 of the
 * single-segment m and return 0, or -1 when the headroom is too small (nothing changed).
 * mac: the neighbor's MAC word (PF_NEIGH_VALID checked by the caller).
 */
static inline int
pf_output_headers(struct pf_worker *w, struct rte_mbuf *m, unsigned l3, uint8_t family,
		  const struct pf_nexthop *nh, uint64_t mac, unsigned len)
{
	unsigned l2 = pf_output_hlen(nh), ntags = nh->tags.n;
	uint8_t *d;

	/* rte_pktmbuf_adj / _prepend without their re-checks: l3 lies in the first
	 * segment, and the headroom is checked here. */
	int delta = (int)l3 - (int)l2;

	if (delta < 0 && rte_pktmbuf_headroom(m) < (unsigned)-delta)
		return -1;
	m->data_off += delta;
	m->data_len -= delta;
	m->pkt_len -= delta;
	d = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(d, &mac, 6);
	memcpy(d + 6, &w->t->port[nh->port].mac, 6);
	d += 12;
	for (unsigned i = 0; i < ntags; i++, d += 4) {
		memcpy(d, &nh->tags.tpid[i], 2);
		memcpy(d + 2, &nh->tags.tci[i], 2);
	}
	if (nh->type == PF_NH_GRE) {
		struct rte_ipv4_hdr o;
		uint8_t *g = d + 2 + sizeof(o);
		const uint8_t *in = g + PF_GRE_KEY_HLEN;
		uint8_t tos;
		rte_be16_t df;

		pf_wr16(d, RTE_ETHER_TYPE_IPV4);
		if (family == 4) {
			tos = in[1];
			df = ((const struct rte_ipv4_hdr *)in)->fragment_offset &
			     RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
		} else {
			tos = pf_rd32(in) >> 20;
			df = RTE_BE16(RTE_IPV4_HDR_DF_FLAG); /* IPv6 is never fragmented en route */
		}
		/* RFC 2983 uniform model for DSCP/ECN; DF copied so PMTUD keeps working. The
		 * header is built in registers and stored once (the frame is not 4-byte aligned
		 * after the tags). */
		o.version_ihl = RTE_IPV4_VHL_DEF;
		o.type_of_service = tos;
		o.total_length = PF_BE16((uint16_t)(len + sizeof(o) + PF_GRE_KEY_HLEN));
		o.packet_id = PF_BE16(w->ip_id++);
		o.fragment_offset = df;
		o.time_to_live = 64;
		o.next_proto_id = IPPROTO_GRE;
		o.src_addr = nh->tun_src;
		o.dst_addr = nh->tun_dst;
		o.hdr_checksum = 0;
		o.hdr_checksum = pf_ip4_cksum20(&o);
		memcpy(d + 2, &o, sizeof(o));
		pf_wr16(g, 0x2000); /* K bit, version 0 */
		pf_wr16(g + 2, family == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
		memcpy(g + 4, &nh->gre_key, 4);
		w->c.event[PF_EV_gre_encap]++;
	} else {
		pf_wr16(d, family == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	}
	return 0;
}

#endif
