/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address resolution for our addresses and our next hops: ARP (RFC 826) and IPv6
 * neighbor discovery (RFC 4861). Workers answer for our own addresses and solicit
 * unresolved next hops; what they learn goes to control, the only writer of the
 * neighbor table, through the learn ring.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ring.h>

#include "dataplane/worker.h"
#include "dataplane/pkt.h"

/* Hand a neighbor's MAC to control if ip is one of our known next hops in ctx. */
static bool
learn(struct pf_worker *w, uint16_t ctx, int family, const uint8_t *ip,
      const struct rte_ether_addr *mac)
{
	const struct pf_tables *t = w->t;
	uint32_t nhi;
	const struct pf_nexthop *nh;
	const struct pf_neigh *ng;
	struct pf_learn_msg msg;

	if (family == 4) {
		uint32_t a;

		memcpy(&a, ip, 4);
		nhi = fib4_lookup(t->fib, ctx, rte_be_to_cpu_32(a));
	} else {
		nhi = fib6_lookup(t->fib, ctx, ip);
	}
	nh = &t->nh[nhi];
	if (nh->type != PF_NH_EDGE && nh->type != PF_NH_CORE)
		return false;
	ng = &t->neigh[nh->neigh];
	if (ng->is_static) /* configured MACs win; do not load the ring for them */
		return false;
	if (ng->family != family || memcmp(ng->ip, ip, family == 4 ? 4 : 16) != 0)
		return false;
	msg.neigh = nh->neigh;
	msg.pad = 0;
	msg.mac = pf_mac_to_u64(mac) | PF_NEIGH_VALID;
	if (__atomic_load_n(&t->neigh_mac[nh->neigh], __ATOMIC_RELAXED) == msg.mac)
		return false; /* nothing new: do not load the ring */
	if (rte_ring_enqueue_elem(w->learn, &msg, sizeof(msg)) != 0) {
		w->c.drop[PF_DROP_punt_full]++;
		return false;
	}
	return true;
}

void
pf_arp_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md)
{
	const struct pf_tables *t = w->t;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp;
	uint32_t tip;
	uint16_t op;

	if (rte_pktmbuf_data_len(m) < md->l3 + sizeof(*arp)) {
		pf_drop(w, m, PF_DROP_runt);
		return;
	}
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, md->l3);
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
	    arp->arp_plen != 4) {
		pf_drop(w, m, PF_DROP_arp_bad);
		return;
	}
	op = rte_be_to_cpu_16(arp->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		pf_drop(w, m, PF_DROP_arp_bad);
		return;
	}
	/* Either kind tells us the sender's MAC (RFC 826 "merge" step). */
	if (learn(w, md->ctx, 4, (const uint8_t *)&arp->arp_data.arp_sip,
		  &arp->arp_data.arp_sha))
		w->c.event[PF_EV_arp_learned]++;
	if (op == RTE_ARP_OP_REPLY) {
		rte_pktmbuf_free(m);
		return;
	}
	tip = arp->arp_data.arp_tip;
	if (t->nh[fib4_lookup(t->fib, md->ctx, rte_be_to_cpu_32(tip))].type != PF_NH_LOCAL) {
		/* a request for someone else on the VLAN: not ours to answer */
		pf_drop(w, m, PF_DROP_arp_bad);
		return;
	}
	/* Answer in place; the frame keeps its tags, so the reply leaves on the same VLAN. */
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = t->port[md->in_port].mac;
	arp->arp_data.arp_sip = tip;
	eth->dst_addr = arp->arp_data.arp_tha;
	eth->src_addr = t->port[md->in_port].mac;
	/* drop any trailer: the reply is exactly ARP-sized (padded by the NIC if needed) */
	rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - (md->l3 + sizeof(*arp)));
	w->c.event[PF_EV_arp_reply_sent]++;
	pf_tx(w, md->in_port, m);
}

/* ICMPv6 neighbor discovery (RFC 4861 section 4.3/4.4). */
struct nd_msg {
	uint8_t type, code;
	rte_be16_t cksum;
	rte_be32_t flags;
	uint8_t target[16];
} __rte_packed;

#define ND_NS 135
#define ND_NA 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define NA_FLAG_R 0x80000000u
#define NA_FLAG_S 0x40000000u
#define NA_FLAG_O 0x20000000u

/* Find a link-layer address option of the given type; NULL if none. Options are
 * validated (non-zero length, inside the message) as RFC 4861 7.1.1 requires. */
static const struct rte_ether_addr *
nd_find_lla(const uint8_t *opt, uint32_t len, uint8_t type, bool *bad)
{
	const struct rte_ether_addr *found = NULL;

	while (len >= 2) {
		uint32_t olen = opt[1] * 8u;

		if (olen == 0 || olen > len) {
			*bad = true;
			return NULL;
		}
		if (opt[0] == type && olen >= 8)
			found = (const void *)(opt + 2);
		opt += olen;
		len -= olen;
	}
	return found;
}

/* Returns true when m was consumed (answered, learned or dropped). */
bool
pf_nd_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md)
{
	const struct pf_tables *t = w->t;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, md->l3);
	uint32_t plen = rte_be_to_cpu_16(ip6->payload_len);
	struct nd_msg *nd = (struct nd_msg *)(ip6 + 1);
	const struct rte_ether_addr *lla;
	bool bad = false;
	const struct pf_port *p = &t->port[md->in_port];

	if (ip6->proto != IPPROTO_ICMPV6 || plen < sizeof(*nd) ||
	    (nd->type != ND_NS && nd->type != ND_NA))
		return false;
	/* RFC 4861 7.1: hop limit 255 proves the sender is on-link; code 0. */
	if (ip6->hop_limits != 255 || nd->code != 0 ||
	    rte_ipv6_udptcp_cksum_verify(ip6, nd) != 0) {
		pf_drop(w, m, PF_DROP_nd_bad);
		return true;
	}
	lla = nd_find_lla((const uint8_t *)(nd + 1), plen - sizeof(*nd),
			  nd->type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA, &bad);
	if (bad || (nd->target[0] == 0xff)) {
		pf_drop(w, m, PF_DROP_nd_bad);
		return true;
	}
	if (nd->type == ND_NA) {
		if (learn(w, md->ctx, 6, nd->target, lla ? lla : &eth->src_addr))
			w->c.event[PF_EV_nd_learned]++;
		rte_pktmbuf_free(m);
		return true;
	}
	/* NS: learn the solicitor if it is a next hop of ours and told us its MAC. */
	if (lla && learn(w, md->ctx, 6, ip6->src_addr, lla))
		w->c.event[PF_EV_nd_learned]++;
	if (t->nh[fib6_lookup(t->fib, md->ctx, nd->target)].type != PF_NH_LOCAL) {
		rte_pktmbuf_free(m); /* someone else's address: silently ignored per RFC */
		w->c.drop[PF_DROP_nd_bad]++;
		return true;
	}
	{
		uint8_t target[16];
		bool dad = pf_ip6_is_unspec(ip6->src_addr);
		uint8_t *opt;

		memcpy(target, nd->target, 16);
		/* RFC 4861 7.2.4: reply to the solicitor, or to all-nodes for DAD */
		if (dad) {
			static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
			memcpy(ip6->dst_addr, all_nodes, 16);
			eth->dst_addr = (struct rte_ether_addr){{0x33, 0x33, 0, 0, 0, 1}};
		} else {
			memcpy(ip6->dst_addr, ip6->src_addr, 16);
			eth->dst_addr = lla ? *lla : eth->src_addr;
		}
		memcpy(ip6->src_addr, target, 16);
		eth->src_addr = p->mac;
		ip6->hop_limits = 255;
		ip6->payload_len = rte_cpu_to_be_16(sizeof(*nd) + 8);
		nd->type = ND_NA;
		nd->code = 0;
		nd->flags = rte_cpu_to_be_32(NA_FLAG_R | NA_FLAG_O | (dad ? 0 : NA_FLAG_S));
		{
			/* the NA may be longer than the NS (which need not carry an option) */
			uint32_t want = md->l3 + sizeof(*ip6) + sizeof(*nd) + 8;
			uint32_t have = rte_pktmbuf_data_len(m);

			if (have > want)
				rte_pktmbuf_trim(m, have - want);
			else if (have < want && rte_pktmbuf_append(m, want - have) == NULL) {
				pf_drop(w, m, PF_DROP_no_mbuf);
				return true;
			}
		}
		opt = (uint8_t *)(nd + 1);
		opt[0] = ND_OPT_TLLA;
		opt[1] = 1;
		memcpy(opt + 2, &p->mac, 6);
		nd->cksum = 0;
		nd->cksum = rte_ipv6_udptcp_cksum(ip6, nd);
		w->c.event[PF_EV_nd_na_sent]++;
		pf_tx(w, md->in_port, m);
	}
	return true;
}

/* Write the context's tags after the MACs; returns the offset of the EtherType. */
static uint16_t
put_tags(uint8_t *d, const struct pf_tags *tags)
{
	uint16_t off = 12;

	for (unsigned i = 0; i < tags->n; i++) {
		memcpy(d + off, &tags->tpid[i], 2);
		memcpy(d + off + 2, &tags->tci[i], 2);
		off += 4;
	}
	return off;
}

/* Ask for an unresolved next hop's MAC: at most once a second per neighbor per worker. */
void
pf_solicit(struct pf_worker *w, uint32_t ni)
{
	const struct pf_tables *t = w->t;
	const struct pf_neigh *ng = &t->neigh[ni];
	const struct pf_port *p = &t->port[ng->port];
	uint64_t now = rte_rdtsc();
	struct rte_mbuf *m;
	uint8_t *d;
	uint16_t off;

	if (w->solicit_tsc[ni] != 0 && now - w->solicit_tsc[ni] < rte_get_tsc_hz())
		return;
	w->solicit_tsc[ni] = now;
	m = rte_pktmbuf_alloc(w->pool);
	if (m == NULL) {
		w->c.drop[PF_DROP_no_mbuf]++;
		return;
	}
	d = (uint8_t *)rte_pktmbuf_append(m, 14 + 8 + 28 + 40 + 32);
	if (d == NULL) {
		pf_drop(w, m, PF_DROP_no_mbuf);
		return;
	}
	memcpy(d + 6, &p->mac, 6);
	off = put_tags(d, &ng->tags);
	if (ng->family == 4) {
		struct rte_arp_hdr *arp = (void *)(d + off + 2);

		memset(d, 0xff, 6);
		pf_wr16(d + off, RTE_ETHER_TYPE_ARP);
		arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
		arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		arp->arp_hlen = 6;
		arp->arp_plen = 4;
		arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
		arp->arp_data.arp_sha = p->mac;
		memcpy(&arp->arp_data.arp_sip, ng->src_ip, 4);
		memset(&arp->arp_data.arp_tha, 0, 6);
		memcpy(&arp->arp_data.arp_tip, ng->ip, 4);
		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - (off + 2 + sizeof(*arp)));
		w->c.event[PF_EV_arp_request_sent]++;
	} else {
		struct rte_ipv6_hdr *ip6 = (void *)(d + off + 2);
		struct nd_msg *nd = (void *)(ip6 + 1);
		uint8_t *opt = (uint8_t *)(nd + 1);
		/* solicited-node multicast ff02::1:ffXX:XXXX (RFC 4291 2.7.1) */
		uint8_t snm[16] = {0xff, 2, [11] = 1, [12] = 0xff};

		memcpy(snm + 13, ng->ip + 13, 3);
		d[0] = 0x33; d[1] = 0x33;
		memcpy(d + 2, snm + 12, 4);
		pf_wr16(d + off, RTE_ETHER_TYPE_IPV6);
		ip6->vtc_flow = RTE_BE32(6u << 28);
		ip6->payload_len = rte_cpu_to_be_16(sizeof(*nd) + 8);
		ip6->proto = IPPROTO_ICMPV6;
		ip6->hop_limits = 255;
		memcpy(ip6->src_addr, ng->src_ip, 16);
		memcpy(ip6->dst_addr, snm, 16);
		nd->type = ND_NS;
		nd->code = 0;
		nd->flags = 0;
		memcpy(nd->target, ng->ip, 16);
		opt[0] = ND_OPT_SLLA;
		opt[1] = 1;
		memcpy(opt + 2, &p->mac, 6);
		nd->cksum = 0;
		nd->cksum = rte_ipv6_udptcp_cksum(ip6, nd);
		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) -
				       (off + 2 + sizeof(*ip6) + sizeof(*nd) + 8));
		w->c.event[PF_EV_nd_ns_sent]++;
	}
	pf_tx(w, ng->port, m);
}
