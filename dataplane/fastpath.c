/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path: the packets that make up nearly all traffic, handled in two tight
 * passes over the burst with one bulk FIB lookup in between.
 *
 * A packet stays on it when it is a single-segment frame to our MAC, untagged on a core
 * port or with one 802.1Q tag whose VLAN names a context on an edge port, carrying IPv4
 * with a plain 20-byte header that checks out (RFC 1812 5.2.2) or IPv6 (RFC 8200) to a
 * unicast destination, from a routable source, with TTL / hop limit > 1, and its FIB next
 * hop (or the flow's ECMP member) is a customer router, the
 * core or the customer's GRE tunnel, allowed in that direction, whose MTU the packet fits
 * and whose neighbor MAC is known.
 *
 * GRE from a customer's cloud endpoint to our address (K bit only, RFC 2890 key) whose
 * inner packet passes the same checks is decapsulated and the inner packet looked up in
 * the customer's context in a second round (the decap benchmark's path).
 *
 * Everything else (ARP, neighbor discovery, QinQ, options, TTL expiry, oversize, local delivery and GRE
 * termination, unresolved neighbors, blackholes, every malformed frame) is returned
 * untouched, and the general path (worker.c, eth_input.c, ...) decides it from scratch.
 * Both paths take the same decisions, write the same bytes (output.h) and count the same
 * way; tests/unit/test_dataplane.c runs its packets through both and compares.
 *
 * One difference is visible: within a burst, fast-path packets are queued for TX before
 * the ones the general path forwards, so a flow whose packets alternate between the paths
 * (e.g. some with IP options) can be reordered inside one burst.
 */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "dataplane/esp.h"
#include "dataplane/output.h"
#include "dataplane/pkt.h"
#include "dataplane/worker.h"

#define ETH_VLAN_HLEN (RTE_ETHER_HDR_LEN + 4)

/* RFC 1812 5.3.7 (same rule as ip_input.c): 0/8, 127/8 and 224/3 never forwarded. */
static inline bool
martian_src(const uint8_t *ip)
{
	uint8_t a = ip[12];

	return a == 0 || a == 127 || a >= 224;
}

/* RFC 4291 2.5.2/2.5.3 (same rule as ip_input.c): unspecified, loopback, multicast. */
static inline bool
martian_src6(const uint8_t *ip)
{
	uint64_t hi, lo;

	memcpy(&hi, ip + 8, 8);
	memcpy(&lo, ip + 16, 8);
	return ip[8] == 0xff || (hi == 0 && (lo == 0 || lo == PF_BE64(1)));
}

/* The packets of one round: arrival order, with their lookups split by family. */
struct fast_batch {
	uint16_t n, n4, n6;
	struct rte_mbuf *m[PF_MAX_BURST];
	uint16_t ctx[PF_MAX_BURST];
	uint16_t slot[PF_MAX_BURST];   /* index into the family's lookup arrays */
	uint8_t fam[PF_MAX_BURST];
	uint32_t res[PF_MAX_BURST];
	uint32_t ctx4[PF_MAX_BURST], dst4[PF_MAX_BURST], res4[PF_MAX_BURST];
	uint32_t ctx6[PF_MAX_BURST], res6[PF_MAX_BURST];
	uint8_t dst6[PF_MAX_BURST][16];
};

/* IPv4 or IPv6 header checks (RFC 1812 5.2.2 / RFC 8200, same rules as ip_input.c);
 * true and m added to b when the packet may take the fast path. */
static __rte_always_inline bool
fast_ip(struct fast_batch *b, struct rte_mbuf *m, const uint8_t *ip, uint32_t avail,
	uint16_t et, uint16_t c)
{
	uint16_t tlen;

	if (et == RTE_ETHER_TYPE_IPV4) {
		if (avail < sizeof(struct rte_ipv4_hdr))
			return false;
		tlen = pf_rd16(ip + 2);
		if (ip[0] != 0x45 || tlen < sizeof(struct rte_ipv4_hdr) || tlen > avail || ip[8] <= 1 ||
		    martian_src(ip) || !pf_ip4_hdr20_ok(ip))
			return false;
		b->ctx4[b->n4] = c;
		b->dst4[b->n4] = pf_rd32(ip + 16);
		b->slot[b->n] = b->n4++;
		b->fam[b->n] = 4;
	} else if (et == RTE_ETHER_TYPE_IPV6) {
		if (avail < sizeof(struct rte_ipv6_hdr))
			return false;
		tlen = sizeof(struct rte_ipv6_hdr) + pf_rd16(ip + 4);
		/* version 6; multicast destinations are neighbor discovery's */
		if ((ip[0] >> 4) != 6 || tlen > avail || ip[7] <= 1 || ip[24] == 0xff ||
		    martian_src6(ip))
			return false;
		b->ctx6[b->n6] = c;
		memcpy(b->dst6[b->n6], ip + 24, 16);
		b->slot[b->n] = b->n6++;
		b->fam[b->n] = 6;
	} else {
		return false;
	}
	b->m[b->n] = m;
	b->ctx[b->n] = c;
	b->n++;
	return true;
}

static inline void
fast_lookup(const struct pf_tables *t, struct fast_batch *b)
{
	if (b->n4)
		fib4_lookup_bulk(t->fib, b->ctx4, b->dst4, b->res4, b->n4);
	if (b->n6)
		fib6_lookup_bulk(t->fib, b->ctx6, (const uint8_t(*)[16])b->dst6, b->res6, b->n6);
	for (uint16_t k = 0; k < b->n; k++)
		b->res[k] = b->fam[k] == 4 ? b->res4[b->slot[k]] : b->res6[b->slot[k]];
}

/*
 * GRE to one of our addresses (gre.c's rules, the common form only: K bit alone, outer
 * header without options, not a fragment): the inner packet is added to inner when the
 * customer's endpoints match and it passes fast_ip(). Nothing is changed in m; anything
 * unusual returns false and the general path decides.
 */
static __rte_always_inline bool
fast_decap(const struct pf_tables *t, struct rte_mbuf *m, const uint8_t *ip,
	   struct fast_batch *inner)
{
	uint32_t tlen = pf_rd16(ip + 2), key;
	const uint8_t *g = ip + sizeof(struct rte_ipv4_hdr);
	const struct pf_customer *c;
	uint16_t ci, proto, fo;

	memcpy(&fo, ip + 6, 2);
	if (ip[9] != IPPROTO_GRE || (fo & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    tlen < sizeof(struct rte_ipv4_hdr) + PF_GRE_KEY_HLEN || pf_rd16(g) != 0x2000)
		return false;
	proto = pf_rd16(g + 2);
	key = pf_rd32(g + 4);
	ci = pf_gre_lookup(t, key);
	if (ci == 0xffff)
		return false;
	c = &t->cust[ci];
	/* IPsec customers' GRE is only valid out of their ESP SAs (esp.c, gre.c) */
	if (c->ipsec || memcmp(ip + 16, &c->tun_src, 4) != 0 || memcmp(ip + 12, &c->tun_dst, 4) != 0)
		return false;
	return fast_ip(inner, m, g + PF_GRE_KEY_HLEN,
		       tlen - sizeof(struct rte_ipv4_hdr) - PF_GRE_KEY_HLEN, proto, c->ctx);
}

/*
 * Pass 2: next-hop checks, then rewrite and queue for TX; what fails a check is appended
 * to pkts[nslow...] for the general path, unchanged. off: the IP header's offset (for
 * decap: the inner one's). inner (first round on core ports): where GRE for us goes.
 */
static __rte_always_inline uint16_t
fast_output(struct pf_worker *w, const bool core, const unsigned off, struct fast_batch *b,
	    struct rte_mbuf **pkts, uint16_t nslow, const bool only4, const bool decap,
	    struct fast_batch *inner)
{
	const struct pf_tables *t = w->t;

	for (uint16_t k = 0; k < b->n; k++) {
		struct rte_mbuf *m = b->m[k];
		const struct pf_nexthop *nh = &t->nh[b->res[k]];
		uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
		const uint8_t family = only4 ? 4 : b->fam[k];
		unsigned tlen = family == 4 ? pf_rd16(ip + 2)
					    : sizeof(struct rte_ipv6_hdr) + pf_rd16(ip + 4);
		unsigned avail = rte_pktmbuf_data_len(m) - off, l2;
		uint64_t mac;

		if (unlikely(nh->type == PF_NH_ECMP)) {
			struct pf_meta md = {.l3 = off, .family = family, .ctx = b->ctx[k]};

			nh = pf_ecmp_pick(t, m, &md, nh);
		}
		if (unlikely(nh->type != PF_NH_EDGE && nh->type != PF_NH_CORE &&
			     nh->type != PF_NH_GRE)) {
			if (inner != NULL && nh->type == PF_NH_LOCAL && family == 4 &&
			    fast_decap(t, m, ip, inner))
				continue;
			goto slow2;
		}
		/* cloud traffic never hairpins back to the core (ip_input.c: wrong_dir) */
		if (unlikely(core && nh->type != PF_NH_EDGE))
			goto slow2;
		if (unlikely(tlen > nh->mtu))
			goto slow2;
		mac = __atomic_load_n(&t->neigh_mac[nh->neigh], __ATOMIC_ACQUIRE);
		if (unlikely(!(mac & PF_NEIGH_VALID)))
			goto slow2;
		l2 = pf_output_hlen(nh);
		if (unlikely(off < l2 && rte_pktmbuf_headroom(m) < l2 - off))
			goto slow2;

		/* Committed: from here on this packet is the fast path's. */
		if (!core) {
			w->c.ctx[b->ctx[k]].in.pkts++;
			w->c.ctx[b->ctx[k]].in.bytes += avail;
		}
		if (decap)
			w->c.event[PF_EV_gre_decap]++;
		/* Ethernet pads short frames; the padding must not travel on. */
		if (tlen < avail)
			rte_pktmbuf_trim(m, avail - tlen);
		if (family == 4)
			pf_ip4_dec_ttl((struct rte_ipv4_hdr *)ip);
		else
			ip[7]--; /* hop limit */
		pf_output_headers(w, m, off, family, nh, mac, tlen);
		pf_bill(w, b->ctx[k], core, nh, tlen);
		if (unlikely(nh->esp))
			pf_esp_output(w, m, nh); /* batched, encrypted at flush (esp.c) */
		else
			pf_tx(w, nh->port, m);
		continue;
slow2:
		pkts[nslow++] = m;
	}
	return nslow;
}

uint16_t
pf_fast_input(struct pf_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	const struct pf_tables *t = w->t;
	const struct pf_port *p = &t->port[port];
	const bool core = p->is_core;
	const unsigned off = core ? RTE_ETHER_HDR_LEN : ETH_VLAN_HLEN;
	/* our MAC as one 32-bit and one 16-bit word */
	uint32_t mac_lo;
	uint16_t mac_hi, avail_max = p->mtu, nslow = 0;
	struct fast_batch b, inner;

	memcpy(&mac_lo, &p->mac, 4);
	memcpy(&mac_hi, &p->mac.addr_bytes[4], 2);
	b.n = b.n4 = b.n6 = 0;

	/* Pass 1: L2 and IP header checks, context, destination. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m), d32;
		uint16_t d16, c, et;

		if (i + 2 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 2], void *));
		if (m->nb_segs != 1 || len < off || len - off > avail_max)
			goto slow;
		memcpy(&d32, d, 4);
		memcpy(&d16, d + 4, 2);
		if (d32 != mac_lo || d16 != mac_hi)
			goto slow;
		if (core) {
			et = pf_rd16(d + 12);
			c = PF_CTX_CORE;
		} else {
			uint32_t tag = pf_rd32(d + 12);

			if ((tag >> 16) != RTE_ETHER_TYPE_VLAN)
				goto slow;
			et = pf_rd16(d + 16);
			c = p->vlan_ctx[tag & 0xfff];
			if (c == PF_CTX_NONE)
				goto slow;
		}
		if (fast_ip(&b, m, d + off, len - off, et, c))
			continue;
slow:
		pkts[nslow++] = m;
	}
	if (b.n == 0)
		return nslow;
	fast_lookup(t, &b);

	/* Pass 2, in arrival order. A burst without IPv6 (the usual case) runs a copy of
	 * the loop compiled for IPv4 only: measured 14 instructions per packet less. */
	if (!core) {
		if (b.n6 == 0)
			return fast_output(w, false, ETH_VLAN_HLEN, &b, pkts, nslow, true, false, NULL);
		return fast_output(w, false, ETH_VLAN_HLEN, &b, pkts, nslow, false, false, NULL);
	}
	inner.n = inner.n4 = inner.n6 = 0;
	nslow = fast_output(w, true, RTE_ETHER_HDR_LEN, &b, pkts, nslow, b.n6 == 0, false, &inner);
	if (inner.n == 0)
		return nslow;
	/* Second round: the decapsulated packets in their customers' contexts. */
	fast_lookup(t, &inner);
	return fast_output(w, true, RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + PF_GRE_KEY_HLEN,
			   &inner, pkts, nslow, false, true, NULL);
}
