/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path: the packets that make up nearly all traffic, handled in two tight
 * passes over the burst with one bulk FIB lookup in between. Pass 2 takes consecutive
 * packets to the same next hop from the same context as a run (fast_run()): the next
 * hop, its neighbor and its TX buffer are read and checked once per run.
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
 * Two differences are visible: within a burst, fast-path packets are queued for TX before
 * the ones the general path forwards, so a flow whose packets alternate between the paths
 * (e.g. some with IP options) can be reordered inside one burst; and a burst's IPv4
 * packets leave before its IPv6 ones (different flows, so no flow is reordered).
 */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#if defined(RTE_ARCH_X86)
#include <emmintrin.h>
#endif

#include "dataplane/esp.h"
#include "dataplane/output.h"
#include "dataplane/pkt.h"
#include "dataplane/worker.h"

/* GCC's SLP vectorizer packs the per-run counters into vector registers and moves them
 * in and out on every packet: measured 13 instructions per packet more. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-slp-vectorize")
#endif

#define ETH_VLAN_HLEN (RTE_ETHER_HDR_LEN + 4)
/* Headroom pass 1 requires, so that no next hop's headers need a check in pass 2: the
 * longest (6 + PF_NH_HDR_MAX, GRE) in front of the shortest offset (untagged). */
#define FAST_HEADROOM (RTE_ETHER_ADDR_LEN + PF_NH_HDR_MAX - RTE_ETHER_HDR_LEN)

/* RFC 1812 5.3.7 (same rule as ip_input.c): sources in 0/8, 127/8 and 224/3 are never
 * forwarded; by first byte, one load instead of three compares. */
static const bool martian4[256] = {[0] = true, [127] = true, [224 ... 255] = true};

/* RFC 4291 2.5.2/2.5.3 (same rule as ip_input.c): unspecified, loopback, multicast. */
static inline bool
martian_src6(const uint8_t *ip)
{
	uint64_t hi, lo;

	memcpy(&hi, ip + 8, 8);
	memcpy(&lo, ip + 16, 8);
	return ip[8] == 0xff || (hi == 0 && (lo == 0 || lo == PF_BE64(1)));
}

#define FAST_PAD 4

/* The packets of one round, by family. Packets of different families belong to
 * different flows, so handling the IPv4 ones first reorders no flow. */
struct fast_batch {
	uint16_t n4, n6;
	struct rte_mbuf *m4[PF_MAX_BURST], *m6[PF_MAX_BURST];
	/* FAST_PAD more: fast_run_end() compares whole vectors past the end */
	uint32_t ctx4[PF_MAX_BURST + FAST_PAD], dst4[PF_MAX_BURST], res4[PF_MAX_BURST + FAST_PAD];
	uint32_t ctx6[PF_MAX_BURST + FAST_PAD], res6[PF_MAX_BURST + FAST_PAD];
	uint8_t dst6[PF_MAX_BURST][16];
};

/* IPv4 or IPv6 header checks (RFC 1812 5.2.2 / RFC 8200, same rules as ip_input.c);
 * true and m added to b when the packet may take the fast path. avail: the bytes from ip
 * on, at least 20 (the callers check). n4, n6: b's counts (the caller's registers while
 * it fills b). */
static __rte_always_inline bool
fast_ip(struct fast_batch *b, uint16_t *n4, uint16_t *n6, struct rte_mbuf *m, const uint8_t *ip,
	uint32_t avail, uint16_t et, uint16_t c)
{
	uint16_t tlen;

	if (et == RTE_ETHER_TYPE_IPV4) {
		uint64_t q0, q1, s;
		uint32_t q2;

		/* (the caller checked avail >= 20) */
		/* the header as three words: version/IHL, TOS, length, ID, fragment |
		 * TTL, protocol, checksum, source | destination */
		memcpy(&q0, ip, 8);
		memcpy(&q1, ip + 8, 8);
		memcpy(&q2, ip + 16, 4);
		tlen = pf_rd16(ip + 2);
		if ((uint8_t)q0 != 0x45 ||
		    tlen - sizeof(struct rte_ipv4_hdr) > avail - sizeof(struct rte_ipv4_hdr) ||
		    ip[8] <= 1 || martian4[ip[12]])
			return false;
		/* RFC 1071 sum, here over 64-bit words with end-around carry (RFC 1071
		 * 2(B)-(C)): the 16-bit sum is 0xffff exactly when it is a multiple of
		 * 0xffff, which divides 2^64 - 1 (pf_ip4_hdr20_ok()) */
		s = q0 + q1;
		s += s < q1;
		s += q2;
		s += s < q2;
		if (s % 0xffff)
			return false;
		b->m4[*n4] = m;
		b->ctx4[*n4] = c;
		b->dst4[(*n4)++] = PF_BE32(q2);
	} else if (et == RTE_ETHER_TYPE_IPV6) {
		if (avail < sizeof(struct rte_ipv6_hdr))
			return false;
		tlen = sizeof(struct rte_ipv6_hdr) + pf_rd16(ip + 4);
		/* version 6; multicast destinations are neighbor discovery's */
		if ((ip[0] >> 4) != 6 || tlen > avail || ip[7] <= 1 || ip[24] == 0xff ||
		    martian_src6(ip))
			return false;
		b->m6[*n6] = m;
		b->ctx6[*n6] = c;
		memcpy(b->dst6[(*n6)++], ip + 24, 16);
	} else {
		return false;
	}
	return true;
}

static inline void
fast_lookup(const struct pf_tables *t, struct fast_batch *b)
{
	if (b->n4)
		fib4_lookup_bulk(t->fib, b->ctx4, b->dst4, b->res4, b->n4);
	if (b->n6)
		fib6_lookup_bulk(t->fib, b->ctx6, (const uint8_t(*)[16])b->dst6, b->res6, b->n6);
}

/*
 * GRE to one of our addresses (gre.c's rules, the common form only: K bit alone, outer
 * header without options, not a fragment): the inner packet is added to inner when the
 * customer's endpoints match and it passes fast_ip(). Nothing is changed in m; anything
 * unusual returns false and the general path decides.
 */
/* The last GRE key looked up and its customer (0xffff: none yet): a burst from the
 * cloud mostly comes through few tunnels. */
struct fast_gre_cache {
	uint32_t key;
	uint16_t ci;
};

static __rte_always_inline bool
fast_decap(const struct pf_tables *t, struct rte_mbuf *m, const uint8_t *ip,
	   struct fast_batch *inner, struct fast_gre_cache *gc)
{
	uint32_t tlen = pf_rd16(ip + 2), key;
	const uint8_t *g = ip + sizeof(struct rte_ipv4_hdr);
	const struct pf_customer *c;
	uint16_t ci, proto, fo;

	memcpy(&fo, ip + 6, 2);
	if (ip[9] != IPPROTO_GRE || (fo & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    tlen < 2 * sizeof(struct rte_ipv4_hdr) + PF_GRE_KEY_HLEN || pf_rd16(g) != 0x2000)
		return false;
	proto = pf_rd16(g + 2);
	key = pf_rd32(g + 4);
	if (key != gc->key || gc->ci == 0xffff) {
		gc->key = key;
		gc->ci = pf_gre_lookup(t, key);
	}
	ci = gc->ci;
	if (ci == 0xffff)
		return false;
	c = &t->cust[ci];
	/* IPsec customers' GRE is only valid out of their ESP SAs (esp.c, gre.c) */
	if (c->ipsec || memcmp(ip + 16, &c->tun_src, 4) != 0 || memcmp(ip + 12, &c->tun_dst, 4) != 0)
		return false;
	return fast_ip(inner, &inner->n4, &inner->n6, m, g + PF_GRE_KEY_HLEN,
		       tlen - sizeof(struct rte_ipv4_hdr) - PF_GRE_KEY_HLEN, proto, c->ctx);
}

/* Pass 2's state, kept in registers for the whole burst and written back once: the TX
 * buffer of the last port used and its count, the next IP ID, and on edge ports the
 * counters of the current input context (bursts usually come from a single VLAN). */
struct fast_out {
	struct pf_txbuf *tb;
	uint16_t tx_port, tn, ip_id;
	uint16_t esp_ids; /* IP IDs ESP took for its own outer headers */
	uint16_t run_ctx;
	uint32_t run_pkts, run_bytes, run_cloud_pkts, run_cloud_bytes;
	struct fast_gre_cache gre;
};

/* The input context's counters: ctx in, and the customer's to_cloud for CORE and GRE
 * next hops (pf_bill()). */
static inline void
fast_run_flush(struct pf_worker *w, const struct fast_out *o)
{
	uint16_t cu;

	if (o->run_pkts == 0)
		return;
	w->c.ctx[o->run_ctx].in.pkts += o->run_pkts;
	w->c.ctx[o->run_ctx].in.bytes += o->run_bytes;
	cu = w->t->ctx[o->run_ctx].customer;
	if (o->run_cloud_pkts != 0 && cu != 0xffff) {
		w->c.cust[cu].to_cloud.pkts += o->run_cloud_pkts;
		w->c.cust[cu].to_cloud.bytes += o->run_cloud_bytes;
	}
}

/* Edge ports: n packets of in_bytes (from the IP header on) from context c, of which
 * cloud_n of cloud_bytes (IP length) go toward the cloud. */
static __rte_always_inline void
fast_count_in(struct pf_worker *w, struct fast_out *o, uint16_t c, uint32_t n, uint32_t in_bytes,
	      uint32_t cloud_n, uint32_t cloud_bytes)
{
	if (unlikely(c != o->run_ctx)) {
		fast_run_flush(w, o);
		o->run_ctx = c;
		o->run_pkts = o->run_bytes = o->run_cloud_pkts = o->run_cloud_bytes = 0;
	}
	o->run_pkts += n;
	o->run_bytes += in_bytes;
	o->run_cloud_pkts += cloud_n;
	o->run_cloud_bytes += cloud_bytes;
}

/* pf_tx() in two halves: select the port's buffer, then queue. */
static __rte_always_inline void
fast_tx_port(struct pf_worker *w, struct fast_out *o, uint16_t port)
{
	if (unlikely(port != o->tx_port)) {
		if (o->tb != NULL)
			o->tb->n = o->tn;
		o->tx_port = port;
		o->tb = &w->tx[port];
		o->tn = o->tb->n;
	}
}

static __rte_always_inline void
fast_tx(struct pf_worker *w, struct fast_out *o, struct rte_mbuf *m)
{
	o->tb->pkts[o->tn++] = m;
	if (unlikely(o->tn == RTE_DIM(o->tb->pkts))) {
		o->tb->n = o->tn;
		pf_tx_flush_port(w, o->tx_port);
		o->tn = o->tb->n;
	}
}

/* The rewrite of a committed single-segment packet of tlen IP bytes at ip, off bytes
 * into the frame: Ethernet padding cut off (it must not travel on), TTL / hop limit,
 * then the next hop's headers (output.h) in the headroom pass 1 checked. */
static __rte_always_inline void
fast_rewrite(struct rte_mbuf *m, uint8_t *ip, unsigned off, uint8_t family, unsigned tlen,
	     uint8_t type, unsigned hl, unsigned proto_off, uint32_t hsum, const uint8_t *hdr,
	     uint64_t mac, uint16_t ip_id)
{
	m->data_off = (uint16_t)(m->data_off + off - hl);
	m->data_len = (uint16_t)(tlen + hl);
	m->pkt_len = tlen + hl;
	if (family == 4)
		pf_ip4_dec_ttl((struct rte_ipv4_hdr *)ip);
	else
		ip[7]--; /* hop limit */
	pf_output_hdr(ip - hl, family, type, hl, proto_off, hsum, hdr, mac, tlen, ip_id);
}

#define FAST_ARRAYS(b, family)                                                              \
	struct rte_mbuf *const *mb = (family) == 4 ? (b)->m4 : (b)->m6;                     \
	const uint32_t *res = (family) == 4 ? (b)->res4 : (b)->res6;                        \
	const uint32_t *ctx = (family) == 4 ? (b)->ctx4 : (b)->ctx6

static __rte_always_inline unsigned
fast_tlen(const uint8_t *ip, uint8_t family)
{
	return family == 4 ? pf_rd16(ip + 2) : sizeof(struct rte_ipv6_hdr) + pf_rd16(ip + 4);
}

/* The end of the run of packets from k on with k's next hop and input context, which the
 * caller found to include k + 1: four packets per comparison (an SSE2 compare of each
 * array), against 3-4 instructions per packet for a scalar loop condition. Lanes past n
 * compare garbage and are cut off. */
static __rte_always_inline uint16_t
fast_run_end(const uint32_t *res, const uint32_t *ctx, uint16_t k, uint16_t n)
{
	uint16_t j = k + 2;

#if defined(RTE_ARCH_X86)
	const __m128i r = _mm_set1_epi32((int)res[k]), c = _mm_set1_epi32((int)ctx[k]);

	for (; j < n; j += 4) {
		__m128i a = _mm_loadu_si128((const __m128i *)(res + j));
		__m128i b = _mm_loadu_si128((const __m128i *)(ctx + j));
		unsigned same = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
			_mm_and_si128(_mm_cmpeq_epi32(a, r), _mm_cmpeq_epi32(b, c))));

		if (same != 0xf) {
			j += __builtin_ctz(~same);
			break;
		}
	}
	return RTE_MIN(j, n);
#else
	while (j < n && res[j] == res[k] && ctx[j] == ctx[k])
		j++;
	return j;
#endif
}

/*
 * The packets from index k on (at least k and k + 1) that share k's next hop and input
 * context (a VLAN's traffic to the cloud all goes to its customer's one GRE tunnel): the
 * next hop is read and checked once and kept in registers, each packet costs its length
 * check against the MTU, the rewrite and the TX queue. nh: allowed in this direction, no ESP, its
 * neighbor's MAC word mac valid; gre: nh is a GRE next hop (each kind compiled apart).
 * Packets over the MTU go to pkts[*nslow...] unchanged. Returns the index after the run.
 */
static __rte_always_inline uint16_t
fast_run(struct pf_worker *w, struct fast_out *o, const bool core, const unsigned off,
	 const uint8_t family, const bool decap, const bool gre, const struct fast_batch *b,
	 uint16_t k, uint16_t n, const struct pf_nexthop *nh, uint64_t mac,
	 struct rte_mbuf **pkts, uint16_t *nslow)
{
	FAST_ARRAYS(b, family);
	const uint32_t c = ctx[k];
	const uint8_t type = gre ? PF_NH_GRE : nh->type;
	const unsigned mtu = nh->mtu;
	const unsigned hl = gre ? PF_NH_GRE_HLEN : nh->hlen;
	const unsigned proto_off = gre ? PF_NH_GRE_PROTO_OFF : nh->proto_off;
	const uint32_t hsum = nh->hsum;
	uint32_t cnt = 0, in_bytes = 0, ip_bytes = 0;
	uint16_t ip_id = o->ip_id;
	const uint16_t end = fast_run_end(res, ctx, k, n);

	fast_tx_port(w, o, nh->port);
	for (; k < end; k++) {
		struct rte_mbuf *m = mb[k];
		uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
		unsigned tlen = fast_tlen(ip, family);
		unsigned avail = rte_pktmbuf_data_len(m) - off;

		if (unlikely(tlen > mtu)) {
			pkts[(*nslow)++] = m;
			continue;
		}
		fast_rewrite(m, ip, off, family, tlen, type, hl, proto_off, hsum, nh->hdr, mac, ip_id);
		ip_id += gre;
		cnt++;
		in_bytes += avail;
		ip_bytes += tlen;
		fast_tx(w, o, m);
	}
	o->ip_id = ip_id;
	if (decap)
		w->c.event[PF_EV_gre_decap] += cnt;
	if (!core) {
		/* pf_bill() for packets from an edge port, the input context's part in o */
		if (type != PF_NH_EDGE) {
			fast_count_in(w, o, (uint16_t)c, cnt, in_bytes, cnt, ip_bytes);
		} else {
			fast_count_in(w, o, (uint16_t)c, cnt, in_bytes, 0, 0);
			pf_bill_n(w, (uint16_t)c, false, nh, cnt, ip_bytes);
		}
	} else {
		pf_bill_n(w, (uint16_t)c, true, nh, cnt, ip_bytes);
	}
	return k;
}

/*
 * Packet k alone, for everything fast_run() does not take: ECMP groups (a member per
 * flow), GRE for us (queued in inner for the second round, when inner is not NULL),
 * ESP next hops, and the packets that fail a check, which go to pkts[nslow...] unchanged.
 * Returns the new nslow.
 */
static __rte_always_inline uint16_t
fast_one(struct pf_worker *w, struct fast_out *o, const bool core, const unsigned off,
	 const uint8_t family, const bool decap, const struct fast_batch *b, uint16_t k,
	 struct fast_batch *inner, struct rte_mbuf **pkts, uint16_t nslow)
{
	FAST_ARRAYS(b, family);
	const struct pf_tables *t = w->t;
	const uint8_t dir = core ? PF_NH_FAST_FROM_CORE : PF_NH_FAST_FROM_EDGE;
	struct rte_mbuf *m = mb[k];
	const struct pf_nexthop *nh = &t->nh[res[k]];
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	unsigned tlen = fast_tlen(ip, family);
	unsigned avail = rte_pktmbuf_data_len(m) - off;
	uint64_t mac;

	if (!(nh->fast & dir)) {
		if (nh->type == PF_NH_ECMP) {
			struct pf_meta md = {.l3 = off, .family = family, .ctx = ctx[k]};

			nh = pf_ecmp_pick(t, m, &md, nh);
			if (!(nh->fast & dir))
				goto slow;
		} else if (inner != NULL && nh->type == PF_NH_LOCAL && family == 4 &&
			   fast_decap(t, m, ip, inner, &o->gre)) {
			return nslow;
		} else {
			/* cloud traffic never hairpins back to the core (ip_input.c: wrong_dir) */
			goto slow;
		}
	}
	if (tlen > nh->mtu)
		goto slow;
	mac = __atomic_load_n(&t->neigh_mac[nh->neigh], __ATOMIC_ACQUIRE);
	if (!(mac & PF_NEIGH_VALID))
		goto slow;

	/* Committed: from here on this packet is the fast path's. Next-hop fields are read
	 * before the first store into the packet, which may alias them. */
	const uint8_t type = nh->type, esp = nh->esp;
	const uint16_t port = nh->port;

	if (decap)
		w->c.event[PF_EV_gre_decap]++;
	fast_rewrite(m, ip, off, family, tlen, type, nh->hlen, nh->proto_off, nh->hsum, nh->hdr,
		     mac, o->ip_id);
	o->ip_id += type == PF_NH_GRE;
	if (!core) {
		fast_count_in(w, o, (uint16_t)ctx[k], 1, avail, type != PF_NH_EDGE,
			      type != PF_NH_EDGE ? tlen : 0);
		if (type == PF_NH_EDGE)
			pf_bill(w, (uint16_t)ctx[k], false, nh, tlen);
	} else {
		pf_bill(w, (uint16_t)ctx[k], true, nh, tlen);
	}
	if (esp) {
		/* batched, encrypted at flush (esp.c), which may transmit and number outer
		 * headers: hand over what is kept in registers */
		uint16_t before = o->ip_id;

		if (o->tb != NULL)
			o->tb->n = o->tn;
		w->ip_id = o->ip_id;
		pf_esp_output(w, m, nh);
		o->ip_id = w->ip_id;
		o->esp_ids += (uint16_t)(o->ip_id - before);
		if (o->tb != NULL)
			o->tn = o->tb->n;
		return nslow;
	}
	fast_tx_port(w, o, port);
	fast_tx(w, o, m);
	return nslow;
slow:
	pkts[nslow++] = m;
	return nslow;
}

/*
 * Pass 2 over the packets of one family: next-hop checks, then rewrite and queue for
 * TX, by runs of packets to the same next hop (fast_run()) or one by one (fast_one());
 * what fails a check is appended to pkts[nslow...] for the general path, unchanged.
 * off: the IP header's offset (for decap: the inner one's). inner (IPv4 of the first
 * round on core ports): where GRE for us goes.
 */
static __rte_always_inline uint16_t
fast_output(struct pf_worker *w, const bool core, const unsigned off, struct fast_batch *b,
	    const uint8_t family, struct rte_mbuf **pkts, uint16_t nslow, const bool decap,
	    struct fast_batch *inner)
{
	const struct pf_tables *t = w->t;
	const uint8_t dir = core ? PF_NH_FAST_FROM_CORE : PF_NH_FAST_FROM_EDGE;
	const uint16_t n = family == 4 ? b->n4 : b->n6;
	const uint32_t *res = family == 4 ? b->res4 : b->res6;
	const uint32_t *ctx = family == 4 ? b->ctx4 : b->ctx6;
	/* IP IDs go to GRE packets (and ESP's outer headers), so they count them too */
	struct fast_out o = {.tx_port = UINT16_MAX, .ip_id = w->ip_id, .gre.ci = 0xffff};
	const uint16_t ip_id0 = o.ip_id;

	o.run_ctx = (uint16_t)ctx[0];
	for (uint16_t k = 0; k < n;) {
		const struct pf_nexthop *nh = &t->nh[res[k]];

		/* runs of two or more; a packet alone costs less in fast_one() */
		if (likely((nh->fast & dir) && !nh->esp) && k + 1 < n && res[k + 1] == res[k] &&
		    ctx[k + 1] == ctx[k]) {
			uint64_t mac = __atomic_load_n(&t->neigh_mac[nh->neigh], __ATOMIC_ACQUIRE);

			if (likely(mac & PF_NEIGH_VALID)) {
				if (nh->type == PF_NH_GRE)
					k = fast_run(w, &o, core, off, family, decap, true, b, k, n, nh,
						     mac, pkts, &nslow);
				else
					k = fast_run(w, &o, core, off, family, decap, false, b, k, n,
						     nh, mac, pkts, &nslow);
				continue;
			}
		}
		nslow = fast_one(w, &o, core, off, family, decap, b, k, inner, pkts, nslow);
		k++;
	}
	if (o.tb != NULL)
		o.tb->n = o.tn;
	if (!core)
		fast_run_flush(w, &o);
	w->ip_id = o.ip_id;
	w->c.event[PF_EV_gre_encap] += (uint16_t)(o.ip_id - ip_id0 - o.esp_ids);
	return nslow;
}

/* Pass 1 for one packet m from a port of MAC mac (low 48 bits), VLAN table vlan_ctx and
 * span = MTU - 20: true when m was added to b. */
static __rte_always_inline bool
fast_classify1(struct fast_batch *b, uint16_t *n4, uint16_t *n6, const bool core,
	       struct rte_mbuf *m, const uint16_t *vlan_ctx, uint32_t span, uint64_t mac)
{
	const unsigned off = core ? RTE_ETHER_HDR_LEN : ETH_VLAN_HLEN;
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), tag;
	uint64_t d64;
	uint16_t c, et;

	/* one segment, room for any next hop's headers, an IPv4 header at least, the MTU
	 * at most (a shorter frame wraps above span) */
	if (m->nb_segs != 1 || m->data_off < FAST_HEADROOM ||
	    len - off - sizeof(struct rte_ipv4_hdr) > span)
		return false;
	/* destination MAC: the first 8 bytes without the 2 of the source */
	memcpy(&d64, d, 8);
	if ((d64 ^ mac) << 16)
		return false;
	if (core) {
		et = pf_rd16(d + 12);
		c = PF_CTX_CORE;
	} else {
		tag = pf_rd32(d + 12);
		if ((tag >> 16) != RTE_ETHER_TYPE_VLAN)
			return false;
		et = pf_rd16(d + 16);
		c = vlan_ctx[tag & 0xfff];
		if (c == PF_CTX_NONE)
			return false;
	}
	return fast_ip(b, n4, n6, m, d + off, len - off, et, c);
}

/*
 * Pass 1: L2 and IP header checks, context and destination of every packet of a burst
 * from port p into b; the others are compacted at the start of pkts, their number
 * returned.
 */
static __rte_always_inline uint16_t
fast_classify(struct fast_batch *b, const struct pf_port *p, const bool core,
	      struct rte_mbuf **pkts, uint16_t n)
{
	const uint16_t *vlan_ctx = p->vlan_ctx;
	const uint32_t span = p->mtu - sizeof(struct rte_ipv4_hdr);
	const uint64_t mac = pf_mac_to_u64(&p->mac);
	uint16_t nslow = 0, n4 = 0, n6 = 0, i = 0;

	/* The packet two ahead is prefetched; two loops, so that doing so costs no bound
	 * check per packet. */
	for (; i + 2 < n; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 2], void *));
		if (!fast_classify1(b, &n4, &n6, core, pkts[i], vlan_ctx, span, mac))
			pkts[nslow++] = pkts[i];
	}
	for (; i < n; i++)
		if (!fast_classify1(b, &n4, &n6, core, pkts[i], vlan_ctx, span, mac))
			pkts[nslow++] = pkts[i];
	b->n4 = n4;
	b->n6 = n6;
	return nslow;
}

uint16_t
pf_fast_input(struct pf_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	const struct pf_tables *t = w->t;
	const struct pf_port *p = &t->port[port];
	const bool core = p->is_core;
	const unsigned off_in = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + PF_GRE_KEY_HLEN;
	uint16_t nslow;
	struct fast_batch b, inner;


	/* Pass 1: L2 and IP header checks, context, destination. */
	nslow = core ? fast_classify(&b, p, true, pkts, n) : fast_classify(&b, p, false, pkts, n);
	if (b.n4 + b.n6 == 0)
		return nslow;
	fast_lookup(t, &b);

	/* Pass 2, one loop per family (each compiled for its family). */
	if (!core) {
		if (b.n4)
			nslow = fast_output(w, false, ETH_VLAN_HLEN, &b, 4, pkts, nslow, false, NULL);
		if (b.n6)
			nslow = fast_output(w, false, ETH_VLAN_HLEN, &b, 6, pkts, nslow, false, NULL);
		return nslow;
	}
	inner.n4 = inner.n6 = 0;
	if (b.n4)
		nslow = fast_output(w, true, RTE_ETHER_HDR_LEN, &b, 4, pkts, nslow, false, &inner);
	if (b.n6)
		nslow = fast_output(w, true, RTE_ETHER_HDR_LEN, &b, 6, pkts, nslow, false, NULL);
	if (inner.n4 + inner.n6 == 0)
		return nslow;
	/* Second round: the decapsulated packets in their customers' contexts. */
	fast_lookup(t, &inner);
	if (inner.n4)
		nslow = fast_output(w, true, off_in, &inner, 4, pkts, nslow, true, NULL);
	if (inner.n6)
		nslow = fast_output(w, true, off_in, &inner, 6, pkts, nslow, true, NULL);
	return nslow;
}
