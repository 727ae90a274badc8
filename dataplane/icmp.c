/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP we originate: echo replies for our addresses, and errors about packets we could
 * not forward (RFC 792, RFC 1812 4.3, RFC 1191; ICMPv6 RFC 4443). Errors are rate limited
 * per worker with a token bucket (RFC 1812 4.3.2.8, RFC 4443 2.4(f)).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/pkt.h"
#include "dataplane/worker.h"

#define ICMP4_QUOTE_MAX 576  /* RFC 1812 4.3.2.3: whole error datagram <= 576 bytes */
#define ICMP6_QUOTE_MAX 1280 /* RFC 4443 2.4(c): as much as fits the minimum MTU */
#define PF_L2_ROOM 64        /* headroom left for Ethernet, tags and GRE */

static bool
icmp_allowed(struct pf_worker *w)
{
	uint64_t now = rte_rdtsc();

	if (w->icmp_tsc_per_token == 0)
		return false; /* icmp_rate_pps 0: never */
	if (now - w->icmp_last_tsc >= w->icmp_tsc_per_token) {
		uint64_t add = (now - w->icmp_last_tsc) / w->icmp_tsc_per_token;
		uint64_t burst = w->t->icmp_rate_pps; /* at most one second's worth banked */

		w->icmp_tokens = RTE_MIN(w->icmp_tokens + add, burst ? burst : 1);
		w->icmp_last_tsc += add * w->icmp_tsc_per_token;
	}
	if (w->icmp_tokens == 0) {
		w->c.drop[PF_DROP_icmp_rate_limited]++;
		return false;
	}
	w->icmp_tokens--;
	return true;
}

void
pf_route_local(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md)
{
	const struct pf_tables *t = w->t;
	uint32_t nhi;
	const struct pf_nexthop *nh;

	if (md->family == 4) {
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);
		nhi = fib4_lookup(t->fib, md->ctx, rte_be_to_cpu_32(ip->dst_addr));
	} else {
		const struct rte_ipv6_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, md->l3);
		nhi = fib6_lookup(t->fib, md->ctx, ip->dst_addr);
	}
	nh = &t->nh[nhi];
	if (nh->type == PF_NH_ECMP)
		nh = pf_ecmp_pick(t, m, md, nh);
	switch (nh->type) {
	case PF_NH_EDGE:
	case PF_NH_CORE:
	case PF_NH_GRE:
		pf_ip_output(w, m, md, nh, true);
		break;
	case PF_NH_DROP:
		pf_drop(w, m, PF_DROP_blackhole);
		break;
	default:
		pf_drop(w, m, PF_DROP_no_route);
		break;
	}
}

void
pf_icmp_echo(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md)
{
	if (md->family == 4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, md->l3);
		unsigned hlen = (ip->version_ihl & 0xf) * 4u;
		unsigned len = rte_be_to_cpu_16(ip->total_length) - hlen;
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + hlen);
		rte_be32_t a;

		if (len < sizeof(*ic) || rte_raw_cksum(ic, len) != 0xffff) {
			pf_drop(w, m, PF_DROP_icmp_unhandled);
			return;
		}
		if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
			pf_drop(w, m, PF_DROP_icmp_unhandled);
			return;
		}
		if (hlen != sizeof(*ip)) {
			/* RFC 1122 3.2.2.6 would have us reflect options; we do not. */
			pf_drop(w, m, PF_DROP_ip_options);
			return;
		}
		ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
		ic->icmp_cksum = pf_cksum_update16(ic->icmp_cksum, RTE_BE16(RTE_IP_ICMP_ECHO_REQUEST << 8),
						   RTE_BE16(RTE_IP_ICMP_ECHO_REPLY << 8));
		a = ip->src_addr;
		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->time_to_live = 64;
		ip->fragment_offset = 0;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, md->l3);
		unsigned len = rte_be_to_cpu_16(ip->payload_len);
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
		uint8_t a[16];

		if (len < sizeof(*ic) || rte_ipv6_udptcp_cksum_verify(ip, ic) != 0 ||
		    ic->icmp_type != PF_ICMP6_ECHO_REQUEST || ic->icmp_code != 0) {
			pf_drop(w, m, PF_DROP_icmp_unhandled);
			return;
		}
		ic->icmp_type = PF_ICMP6_ECHO_REPLY;
		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->hop_limits = 64;
		ic->icmp_cksum = 0;
		ic->icmp_cksum = rte_ipv6_udptcp_cksum(ip, ic);
	}
	w->c.event[PF_EV_icmp_echo_reply]++;
	if (md->decap) {
		/* asked through a tunnel: the way back is a route (again through the tunnel) */
		md->decap = 0;
		pf_route_local(w, m, md);
		return;
	}
	/* Answer the way the request came: to the requester's MAC, on the same port and
	 * tags. A routed reply could go to another router or wait for ARP, and a peer
	 * checking its link (e.g. the standby circuit's router) must get its answer. */
	{
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		const struct pf_port *p = &w->t->port[md->in_port];

		eth->dst_addr = eth->src_addr;
		eth->src_addr = p->mac;
		if (!p->is_core) {
			w->c.ctx[md->ctx].out.pkts++;
			w->c.ctx[md->ctx].out.bytes += rte_pktmbuf_data_len(m) - md->l3;
		}
		pf_tx(w, md->in_port, m);
	}
}

/* RFC 1812 4.3.2.7: never an error about an ICMP error, a non-initial fragment, or a
 * packet whose source does not name a single host. */
static bool
ip4_may_answer(const struct rte_ipv4_hdr *ip)
{
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);

	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return false;
	if (src == 0 || (src >> 28) >= 14 || src == 0xffffffff)
		return false;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		const uint8_t *ic = (const uint8_t *)ip + (ip->version_ihl & 0xf) * 4u;
		uint8_t type;

		/* the packet ends at total_length (trimmed): no ICMP type byte, no answer */
		if (rte_be_to_cpu_16(ip->total_length) < (ip->version_ihl & 0xf) * 4u + 1u)
			return false;
		type = ic[0];
		return type == 0 || type == 8 || type == 13 || type == 14 || type == 15 ||
		       type == 16 || type == 17 || type == 18;
	}
	return true;
}

static bool
ip6_may_answer(const struct rte_ipv6_hdr *ip)
{
	/* RFC 4443 2.4(e): not about ICMPv6 errors (types < 128) */
	if (ip->proto == IPPROTO_ICMPV6) {
		const uint8_t *ic = (const uint8_t *)(ip + 1);
		if (rte_be_to_cpu_16(ip->payload_len) < 1 || ic[0] < 128)
			return false;
	}
	return ip->src_addr[0] != 0xff && !pf_ip6_is_unspec(ip->src_addr);
}

/* Build and send an error about m (which the caller still owns and drops). */
void
pf_icmp_error(struct pf_worker *w, struct rte_mbuf *m, const struct pf_meta *md,
	      uint8_t type, uint8_t code, uint32_t info)
{
	const struct pf_tables *t = w->t;
	const struct pf_context *cx = &t->ctx[md->ctx];
	struct pf_meta emd = *md;
	struct rte_mbuf *e;
	uint8_t *d;
	unsigned qlen;

	if (md->family == 4) {
		const struct rte_ipv4_hdr *oip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);
		struct rte_ipv4_hdr *ip;
		struct rte_icmp_hdr *ic;

		if (!ip4_may_answer(oip) || cx->addr4 == 0 || !icmp_allowed(w))
			return;
		qlen = RTE_MIN((unsigned)rte_be_to_cpu_16(oip->total_length),
			       ICMP4_QUOTE_MAX - (unsigned)(sizeof(*ip) + sizeof(*ic)));
		e = rte_pktmbuf_alloc(w->pool);
		if (e == NULL) {
			w->c.drop[PF_DROP_no_mbuf]++;
			return;
		}
		d = (uint8_t *)rte_pktmbuf_append(e, sizeof(*ip) + sizeof(*ic) + qlen);
		if (d == NULL) {
			pf_drop(w, e, PF_DROP_no_mbuf);
			return;
		}
		ip = (struct rte_ipv4_hdr *)d;
		ic = (struct rte_icmp_hdr *)(ip + 1);
		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*ic) + qlen);
		ip->packet_id = rte_cpu_to_be_16(w->ip_id++);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_ICMP;
		ip->src_addr = cx->addr4;
		ip->dst_addr = oip->src_addr;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		ic->icmp_type = type;
		ic->icmp_code = code;
		ic->icmp_cksum = 0;
		/* RFC 1191: the next-hop MTU sits in the low 16 bits of the second word */
		{
			rte_be32_t v = rte_cpu_to_be_32(info & 0xffff);
			memcpy(&ic->icmp_ident, &v, 4);
		}
		memcpy(ic + 1, oip, qlen);
		ic->icmp_cksum = ~rte_raw_cksum(ic, sizeof(*ic) + qlen);
		if (type == PF_ICMP_TIME_EXCEEDED)
			w->c.event[PF_EV_icmp_time_exceeded]++;
		else
			w->c.event[PF_EV_icmp_frag_needed]++;
	} else {
		const struct rte_ipv6_hdr *oip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, md->l3);
		const uint8_t *src = cx->addr6;
		struct rte_ipv6_hdr *ip;
		struct rte_icmp_hdr *ic;

		if (pf_ip6_is_unspec(src))
			src = t->ctx[PF_CTX_CORE].addr6;
		if (!ip6_may_answer(oip) || pf_ip6_is_unspec(src) || !icmp_allowed(w))
			return;
		qlen = RTE_MIN((unsigned)(rte_pktmbuf_data_len(m) - md->l3),
			       ICMP6_QUOTE_MAX - (unsigned)(sizeof(*ip) + sizeof(*ic)));
		/* a 1280-byte error needs more than the default data room minus our headroom */
		qlen = RTE_MIN(qlen, (unsigned)rte_pktmbuf_data_room_size(w->pool) -
					     RTE_PKTMBUF_HEADROOM - sizeof(*ip) - sizeof(*ic));
		e = rte_pktmbuf_alloc(w->pool);
		if (e == NULL) {
			w->c.drop[PF_DROP_no_mbuf]++;
			return;
		}
		d = (uint8_t *)rte_pktmbuf_append(e, sizeof(*ip) + sizeof(*ic) + qlen);
		if (d == NULL) {
			pf_drop(w, e, PF_DROP_no_mbuf);
			return;
		}
		ip = (struct rte_ipv6_hdr *)d;
		ic = (struct rte_icmp_hdr *)(ip + 1);
		ip->vtc_flow = RTE_BE32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*ic) + qlen);
		ip->proto = IPPROTO_ICMPV6;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src, 16);
		memcpy(ip->dst_addr, oip->src_addr, 16);
		ic->icmp_type = type;
		ic->icmp_code = code;
		ic->icmp_cksum = 0;
		{
			rte_be32_t v = rte_cpu_to_be_32(info); /* MTU for packet too big */
			memcpy(&ic->icmp_ident, &v, 4);
		}
		memcpy(ic + 1, oip, qlen);
		ic->icmp_cksum = rte_ipv6_udptcp_cksum(ip, ic);
		if (type == PF_ICMP6_TIME_EXCEEDED)
			w->c.event[PF_EV_icmp_time_exceeded]++;
		else
			w->c.event[PF_EV_icmp_frag_needed]++;
	}
	emd.l3 = 0;
	emd.decap = 0;
	pf_route_local(w, e, &emd);
}
