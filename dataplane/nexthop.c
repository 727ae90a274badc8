/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop header templates. Everything in front of a forwarded IP packet that does not
 * change from packet to packet is computed once, when control creates the next hop: our
 * MAC, the context's tags, the EtherType and, for GRE, the outer IPv4 header (RFC 791)
 * and the GRE header with the customer's key (RFC 2784, RFC 2890). output.h copies the
 * template behind the neighbor's MAC and fills in the few per-packet fields.
 */
#include <errno.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "dataplane/output.h"
#include "dataplane/pkt.h"
#include "dataplane/tables.h"

int
pf_nh_prepare(struct pf_nexthop *nh, const struct rte_ether_addr *src)
{
	uint8_t *h = nh->hdr; /* frame byte 6 + i is h[i] */
	unsigned off = RTE_ETHER_ADDR_LEN;
	uint32_t sum;

	nh->fast = 0;
	nh->hlen = 0;
	nh->proto_off = 0;
	nh->hsum = 0;
	memset(nh->hdr, 0, sizeof(nh->hdr));
	if (nh->type != PF_NH_EDGE && nh->type != PF_NH_CORE && nh->type != PF_NH_GRE)
		return 0;
	if (nh->tags.n > 2 || (nh->type == PF_NH_GRE && nh->tags.n != 0))
		return -EINVAL;

	memcpy(h, src->addr_bytes, RTE_ETHER_ADDR_LEN);
	off = RTE_ETHER_ADDR_LEN;
	for (unsigned i = 0; i < nh->tags.n; i++, off += 4) {
		memcpy(h + off, &nh->tags.tpid[i], 2);
		memcpy(h + off + 2, &nh->tags.tci[i], 2);
	}
	pf_wr16(h + off, RTE_ETHER_TYPE_IPV4);
	off += 2;
	nh->proto_off = RTE_ETHER_ADDR_LEN + off - 2;
	if (nh->type == PF_NH_GRE) {
		struct rte_ipv4_hdr o = {
			.version_ihl = RTE_IPV4_VHL_DEF,
			.time_to_live = 64,
			.next_proto_id = IPPROTO_GRE,
			.src_addr = nh->tun_src,
			.dst_addr = nh->tun_dst,
		};
		uint8_t *g = h + off + sizeof(o);

		memcpy(h + off, &o, sizeof(o));
		pf_wr16(g, 0x2000); /* K bit, version 0 */
		pf_wr16(g + 2, RTE_ETHER_TYPE_IPV4);
		memcpy(g + 4, &nh->gre_key, 4);
		nh->proto_off = RTE_ETHER_ADDR_LEN + off + sizeof(o) + 2;
		/* The constant words of the outer header, summed as they lie in memory;
		 * the packet adds TOS, length, ID and DF the same way (output.h). */
		sum = 0;
		for (unsigned i = 0; i < sizeof(o); i += 2) {
			uint16_t v;

			memcpy(&v, h + off + i, 2);
			sum += v;
		}
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		nh->hsum = (uint16_t)sum;
		off += sizeof(o) + PF_GRE_KEY_HLEN;
	}
	nh->hlen = RTE_ETHER_ADDR_LEN + off;
	RTE_BUILD_BUG_ON(PF_NH_GRE_HLEN != RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
					  PF_GRE_KEY_HLEN);
	RTE_BUILD_BUG_ON(PF_NH_GRE_PROTO_OFF != RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + 2);
	if (nh->type == PF_NH_EDGE)
		nh->fast = PF_NH_FAST_FROM_EDGE | PF_NH_FAST_FROM_CORE;
	else
		nh->fast = PF_NH_FAST_FROM_EDGE;
	return 0;
}
