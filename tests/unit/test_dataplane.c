/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the packet path (dataplane/): frames crafted byte by byte go through
 * pf_worker_input() + pf_worker_flush() of one worker whose tables control built from
 * configs/exchange-provider.json; what the two ring ports transmitted is checked byte by
 * byte (MACs, tags, TTL, checksums recomputed here, GRE, ICMP) together with the worker's
 * counters (every drop reason that a frame can trigger moves exactly its counter).
 *
 * The ports are ring PMDs (rte_eth_from_rings). Their ethdev names are "net_ring_<name>",
 * so the example configuration is rewritten to a temporary copy with those names; the
 * copy also adds one "drop" route (10.99.0.0/16 in contoso-private) for the blackhole case
 * and an IPv6 subnet on contoso-private's secondary link (2001:db8:a2::/126, no static
 * neighbor) so that neighbor solicitation can be exercised.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <jansson.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "common/config.h"
#include "common/counters.h"
#include "control/control.h"
#include "dataplane/pkt.h"
#include "dataplane/worker.h"
#include "tests/common/pftest.h"
#include "tests/common/pftest_check.h"
#include "tests/common/pftest_pipe.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"

#define POOL_SIZE 4095
#define RING_SIZE 1024
#define LEARN_SIZE 64
#define MAXOUT 96

/* ------------------------------------------------------------------------------------ */
/* Fixture                                                                              */

enum { EDGE = PFT_EDGE, CORE = PFT_CORE };

static struct pft_pipe P; /* pool, ports, tables, worker (tests/common/pftest_pipe.h) */
static struct pf_worker *w; /* P.w */

/* contexts and customers, looked up by name in the built tables */
static uint16_t cx_core, cx_cpriv, cx_cpub, cx_fpriv, cx_fms;
static uint16_t cu_contoso, cu_fabrikam;

static const uint8_t MAC_EDGE[6] = {0x02, 0, 0, 0, 0x0e, 0x01};
static const uint8_t MAC_CORE[6] = {0x02, 0, 0, 0, 0x0c, 0x01};
static const uint8_t MAC_GW[6] = {0x02, 0, 0, 0, 0x0c, 0xfe};
static const uint8_t MAC_A101[6] = {0x02, 0, 0, 0, 0xa1, 0x01};
static const uint8_t MAC_A105[6] = {0x02, 0, 0, 0, 0xa1, 0x05};
static const uint8_t MAC_B201[6] = {0x02, 0, 0, 0, 0xb2, 0x01};
static const uint8_t MAC_NEW[6] = {0x02, 0, 0, 0, 0xa1, 0x99};
static const uint8_t MAC_OTHER[6] = {0x02, 0, 0, 0, 0x99, 0x99};
static const uint8_t MAC_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MAC_ZERO[6];
static const uint8_t MAC_SNM2[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x02}; /* ff02::1:ff00:2 */
static const uint8_t MAC_ALLNODES[6] = {0x33, 0x33, 0, 0, 0, 0x01};

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define IP_CORE IP4(192, 0, 2, 1)
#define IP_GW IP4(192, 0, 2, 254)
#define IP_TUN1 IP4(198, 51, 100, 1)     /* contoso's cloud endpoint */
#define IP_TUN2 IP4(198, 51, 100, 2)     /* fabrikam's cloud endpoint */
#define IP_CPRIV_US IP4(172, 16, 1, 2)
#define IP_CPRIV_PEER IP4(172, 16, 1, 1)
#define IP_CPRIV2_US IP4(172, 16, 2, 2)
#define IP_CPRIV2_PEER IP4(172, 16, 2, 1) /* secondary link, no static MAC */
#define IP_CPUB_US IP4(172, 16, 1, 6)
#define IP_ONPREM_C IP4(216, 221, 239, 233)
#define IP_ONPREM_F IP4(198, 18, 0, 5)
#define IP_VNET IP4(10, 0, 1, 5)
#define IP_AZURE IP4(13, 64, 1, 1)       /* contoso-public: 13.64.0.0/11 via core */
#define IP_MSFT IP4(40, 64, 0, 1)        /* fabrikam-microsoft: 40.64.0.0/10 via core */
#define IP_CPUBPFX IP4(203, 0, 113, 5)   /* contoso's public prefix, via peer */
#define IP_BLACKHOLE IP4(10, 99, 1, 1)   /* the drop route of the rewritten config */
#define KEY_C 1001u
#define KEY_F 2002u
#define VLAN_CPRIV 555
#define VLAN_CPUB 556
#define S_TAG 100

struct in6 { uint8_t a[16]; };

static struct in6
V6(const char *s)
{
	struct in6 r;

	if (inet_pton(AF_INET6, s, r.a) != 1) {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
	return r;
}

/* ------------------------------------------------------------------------------------ */
/* Assertions with a readable message                                                   */

/* The expectation helpers are called through macros that set pft_line to the test's line
 * (tests/common/pftest_check.h), the outermost one when a helper uses others: a failed
 * check inside names the line of the test that called. */
static unsigned line_depth;

static void
line_enter(int line)
{
	if (line_depth++ == 0)
		pft_line = line;
}

static unsigned
line_done(unsigned v)
{
	if (line_depth != 0 && --line_depth == 0)
		pft_line = 0;
	return v;
}

static void
line_reset(void)
{
	line_depth = 0;
	pft_line = 0;
}

/* call (a helper returning unsigned, or void), attributed to this line; value or 0 */
#define AT_LINE(call) (line_enter(__LINE__), line_done(call))
#define AT_LINE_V(call) (line_enter(__LINE__), (call), line_done(0))

static int
memdiff(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return (int)i;
	return -1;
}

#define CHECK_MEM(got, exp, len)                                                           \
	do {                                                                               \
		int _o = memdiff((got), (exp), (len));                                     \
		if (_o < 0) {                                                              \
			CU_PASS(#got " == " #exp);                                         \
		} else                                                                     \
			pft_failf(__FILE__, __LINE__, "%s differs from %s at byte %d: %02x, expected %02x", \
			          #got, #exp, _o, ((const uint8_t *)(got))[_o],            \
			          ((const uint8_t *)(exp))[_o]);                           \
	} while (0)

/* Counters: everything not listed must be 0. */
struct kv {
	int k;
	uint64_t v;
};
#define D(r, n) {PF_DROP_##r, (n)},
#define E(e, n) {PF_EV_##e, (n)},

static void
check_counters(const uint64_t *arr, unsigned n, const char *const *names, const char *what,
	       const struct kv *exp)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t want = 0;

		for (const struct kv *e = exp; e->k >= 0; e++)
			if ((unsigned)e->k == i)
				want = e->v;
		if (arr[i] == want) {
			CU_PASS("counter");
		} else
			pft_failf(__FILE__, __LINE__, "%s counter %s = %llu, expected %llu", what, names[i],
			          (unsigned long long)arr[i], (unsigned long long)want);
	}
}

#define DROPS(...)                                                                         \
	AT_LINE_V(check_counters(w->c.drop, PF_DROP_MAX, pf_drop_names, "drop",            \
				 (const struct kv[]){__VA_ARGS__{-1, 0}}))
#define EVENTS(...)                                                                        \
	AT_LINE_V(check_counters(w->c.event, PF_EV_MAX, pf_event_names, "event",           \
				 (const struct kv[]){__VA_ARGS__{-1, 0}}))

/* ------------------------------------------------------------------------------------ */
/* Checksums, computed here independently of DPDK and of the dataplane                  */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) << 16 | rd16(p + 2); }
static void wr16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, v >> 16); wr16(p + 2, v & 0xffff); }

/* The IPv4 header checksum recomputed from scratch equals the one in the header. */
static bool
ip4_cksum_ok(const uint8_t *ip)
{
	unsigned hlen = (ip[0] & 0xf) * 4u;
	uint8_t tmp[60];

	if (hlen < 20)
		return false;
	memcpy(tmp, ip, hlen);
	tmp[10] = tmp[11] = 0;
	return pft_cksum(tmp, hlen) == rd16(ip + 10);
}

/* The upper-layer checksum of an IPv6 packet (pseudo header, RFC 8200 8.1) checks out. */
static bool
l4_cksum6_ok(const uint8_t *ip6)
{
	unsigned plen = rd16(ip6 + 4);
	uint32_t s = pft_sum16(ip6 + 8, 32, 0);

	s += plen;
	s += ip6[6];
	s = pft_sum16(ip6 + 40, plen, s);
	return pft_fold(s) == 0xffff;
}

/* ------------------------------------------------------------------------------------ */
/* Frame builder                                                                        */

struct pb {
	uint8_t d[4096];
	unsigned n;
};

static void *
put(struct pb *b, const void *s, unsigned len)
{
	uint8_t *p = b->d + b->n;

	if (s)
		memcpy(p, s, len);
	else
		memset(p, 0, len);
	b->n += len;
	return p;
}
static void u8(struct pb *b, uint8_t v) { b->d[b->n++] = v; }
static void u16(struct pb *b, uint16_t v) { u8(b, v >> 8); u8(b, v & 0xff); }
static void u32(struct pb *b, uint32_t v) { u16(b, v >> 16); u16(b, v & 0xffff); }

static void
l2(struct pb *b, const uint8_t *dst, const uint8_t *src)
{
	put(b, dst, 6);
	put(b, src, 6);
}

/* Edge frame from the contoso router, one 802.1Q tag. */
static void
edge1(struct pb *b, const uint8_t *dst, uint16_t vlan, uint16_t et)
{
	l2(b, dst, MAC_A101);
	u16(b, 0x8100);
	u16(b, vlan);
	u16(b, et);
}

/* Edge frame from the fabrikam router, two tags (outer TPID given, inner 0x8100). */
static void
edge2(struct pb *b, uint16_t tpid, uint16_t s, uint16_t c, uint16_t et)
{
	l2(b, MAC_EDGE, MAC_B201);
	u16(b, tpid);
	u16(b, s);
	u16(b, 0x8100);
	u16(b, c);
	u16(b, et);
}

/* Untagged core frame from the gateway. */
static void
core0(struct pb *b, uint16_t et)
{
	l2(b, MAC_CORE, MAC_GW);
	u16(b, et);
}

struct ip4o {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;  /* ttl 0: 64 */
	uint16_t id, frag;        /* id 0: 0x1234 */
	const uint8_t *opt;
	unsigned optlen;          /* multiple of 4 */
};

static unsigned
ip4(struct pb *b, struct ip4o o)
{
	unsigned off = b->n;

	u8(b, 0x40 | (5 + o.optlen / 4));
	u8(b, o.tos);
	u16(b, 0);
	u16(b, o.id ? o.id : 0x1234);
	u16(b, o.frag);
	u8(b, o.ttl ? o.ttl : 64);
	u8(b, o.proto);
	u16(b, 0);
	u32(b, o.src);
	u32(b, o.dst);
	if (o.optlen)
		put(b, o.opt, o.optlen);
	return off;
}

static void
ip4_cksum_set(uint8_t *ip)
{
	wr16(ip + 10, 0);
	wr16(ip + 10, pft_cksum(ip, (ip[0] & 0xf) * 4u));
}

/* Total length = everything written since the header, then the checksum. */
static void
ip4_end(struct pb *b, unsigned off)
{
	wr16(b->d + off + 2, (uint16_t)(b->n - off));
	ip4_cksum_set(b->d + off);
}

static unsigned
ip6(struct pb *b, uint8_t tc, uint8_t nh, uint8_t hlim, const uint8_t *src, const uint8_t *dst)
{
	unsigned off = b->n;

	u32(b, 6u << 28 | (uint32_t)tc << 20 | 0x12345);
	u16(b, 0);
	u8(b, nh);
	u8(b, hlim ? hlim : 64);
	put(b, src, 16);
	put(b, dst, 16);
	return off;
}

static void
ip6_end(struct pb *b, unsigned off)
{
	wr16(b->d + off + 4, (uint16_t)(b->n - off - 40));
}

/* Set the upper-layer checksum at cks (offset from the end of the IPv6 header). */
static void
l4_cksum6_set(struct pb *b, unsigned ip6off, unsigned cks)
{
	uint8_t *ip = b->d + ip6off;
	unsigned plen = rd16(ip + 4);
	uint32_t s;

	wr16(ip + 40 + cks, 0);
	s = pft_sum16(ip + 8, 32, 0) + plen + ip[6];
	s = pft_sum16(ip + 40, plen, s);
	wr16(ip + 40 + cks, (uint16_t)~pft_fold(s));
}

static void
payload(struct pb *b, unsigned len, uint8_t seed)
{
	for (unsigned i = 0; i < len; i++)
		u8(b, (uint8_t)(seed + i * 7));
}

static void
udp(struct pb *b, unsigned paylen)
{
	u16(b, 49152);
	u16(b, 4789);
	u16(b, (uint16_t)(8 + paylen));
	u16(b, 0);
	payload(b, paylen, 0x11);
}

/* ICMPv4 echo-like message (type, code, id, seq, data) with its checksum. */
static unsigned
icmp4(struct pb *b, uint8_t type, uint8_t code, uint16_t id, uint16_t seq, unsigned dlen)
{
	unsigned off = b->n;

	u8(b, type);
	u8(b, code);
	u16(b, 0);
	u16(b, id);
	u16(b, seq);
	payload(b, dlen, 0x5a);
	wr16(b->d + off + 2, pft_cksum(b->d + off, b->n - off));
	return off;
}

/* ICMPv6 echo-like message; call l4_cksum6_set after ip6_end. */
static void
icmp6(struct pb *b, uint8_t type, uint8_t code, uint16_t id, uint16_t seq, unsigned dlen)
{
	u8(b, type);
	u8(b, code);
	u16(b, 0);
	u16(b, id);
	u16(b, seq);
	payload(b, dlen, 0x6b);
}

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000

static unsigned
gre(struct pb *b, uint16_t flags, uint16_t proto, uint32_t key)
{
	unsigned off = b->n;

	u16(b, flags);
	u16(b, proto);
	if (flags & GRE_C)
		u32(b, 0);
	if (flags & GRE_K)
		u32(b, key);
	if (flags & GRE_S)
		u32(b, 77);
	return off;
}

/* A GRE packet from the cloud on the core port: core0 + outer IPv4 + GRE. */
struct gref {
	unsigned outer, g;
	uint16_t flags;
};

static void
gre_begin(struct pb *b, struct gref *f, uint32_t src, uint16_t flags, uint16_t proto, uint32_t key)
{
	core0(b, 0x0800);
	f->outer = ip4(b, (struct ip4o){.src = src, .dst = IP_CORE, .proto = 47, .ttl = 60});
	f->g = gre(b, flags, proto, key);
	f->flags = flags;
}

static void
gre_end(struct pb *b, const struct gref *f)
{
	if (f->flags & GRE_C) {
		wr16(b->d + f->g + 4, 0);
		wr16(b->d + f->g + 4, pft_cksum(b->d + f->g, b->n - f->g));
	}
	ip4_end(b, f->outer);
}

static void
arp(struct pb *b, uint16_t op, const uint8_t *sha, uint32_t sip, const uint8_t *tha, uint32_t tip)
{
	u16(b, 1);
	u16(b, 0x0800);
	u8(b, 6);
	u8(b, 4);
	u16(b, op);
	put(b, sha, 6);
	u32(b, sip);
	put(b, tha, 6);
	u32(b, tip);
}

/* Neighbor solicitation / advertisement on VLAN 555 (type 135/136), optional LLA option. */
static unsigned
nd(struct pb *b, const uint8_t *edst, uint8_t type, uint8_t hlim, const uint8_t *src,
   const uint8_t *dst, const uint8_t *target, const uint8_t *lla, uint32_t flags)
{
	unsigned o;

	edge1(b, edst, VLAN_CPRIV, 0x86dd);
	o = ip6(b, 0, 58, hlim, src, dst);
	u8(b, type);
	u8(b, 0);
	u16(b, 0);
	u32(b, flags);
	put(b, target, 16);
	if (lla) {
		u8(b, type == 135 ? 1 : 2);
		u8(b, 1);
		put(b, lla, 6);
	}
	ip6_end(b, o);
	l4_cksum6_set(b, o, 2);
	return o;
}

/* ------------------------------------------------------------------------------------ */
/* Sending and collecting                                                               */

static struct pft_frame out[2][MAXOUT];
static unsigned nout[2], lost_out;

/* Move what the TX rings hold into out[][] and free the mbufs. */
static void
collect(void)
{
	for (int e = 0; e < 2; e++)
		pft_collect(&P, e, out[e], MAXOUT, &nout[e], &lost_out);
}

static void
send_burst(int port, const struct pb *b, unsigned n)
{
	struct rte_mbuf *m[PF_MAX_BURST];

	for (unsigned i = 0; i < n; i++)
		m[i] = pft_frame_mbuf(&P, b[i].d, b[i].n);
	pft_input(&P, port, m, n);
	collect();
}

static void
send1(int port, const struct pb *b)
{
	send_burst(port, b, 1);
}

static void
drain_learn(void)
{
	struct pf_learn_msg msg;

	while (rte_ring_dequeue_elem(P.learn, &msg, sizeof(msg)) == 0)
		;
}

/* Fresh state for a (sub)case: no output pending, all counters zero. */
static void
fresh(const char *label)
{
	collect();
	nout[EDGE] = nout[CORE] = 0;
	lost_out = 0;
	drain_learn();
	memset(w->c.drop, 0, sizeof(w->c.drop));
	memset(w->c.event, 0, sizeof(w->c.event));
	memset(w->c.port, 0, sizeof(w->c.port));
	memset(w->c.ctx, 0, sizeof(*w->c.ctx) * P.tbl.n_ctx);
	memset(w->c.cust, 0, sizeof(*w->c.cust) * P.tbl.n_cust);
	memset(w->solicit_tsc, 0, sizeof(uint64_t) * P.tbl.n_neigh);
	w->icmp_tokens = P.tbl.icmp_rate_pps;
	w->icmp_last_tsc = rte_rdtsc();
	pft_case = label;
	line_reset();
}

#define NOUT(port, n)                                                                      \
	do {                                                                               \
		CHECK_EQ(nout[port], (n));                                                 \
		CHECK_EQ(lost_out, 0);                                                     \
	} while (0)

/* ------------------------------------------------------------------------------------ */
/* Expectations on transmitted frames                                                   */

/* L2 of a frame toward a customer router: returns the L3 offset (0 on mismatch). */
static unsigned
expect_edge_l2(const struct pft_frame *f, const uint8_t *dst, unsigned ntags, uint16_t tpid0,
	       uint16_t tci0, uint16_t tci1, uint16_t et)
{
	unsigned l3 = 14 + 4 * ntags;

	if (f->n < l3) {
		pft_failf(__FILE__, __LINE__, "edge frame of %u bytes", f->n);
		return 0;
	}
	CHECK_MEM(f->d, dst, 6);
	CHECK_MEM(f->d + 6, MAC_EDGE, 6);
	if (ntags >= 1) {
		CHECK_EQ(rd16(f->d + 12), tpid0);
		CHECK_EQ(rd16(f->d + 14), tci0);
	}
	if (ntags == 2) {
		CHECK_EQ(rd16(f->d + 16), 0x8100);
		CHECK_EQ(rd16(f->d + 18), tci1);
	}
	CHECK_EQ(rd16(f->d + l3 - 2), et);
	return l3;
}
#define EXPECT_EDGE_L2(...) AT_LINE(expect_edge_l2(__VA_ARGS__))

/* L2 of a plain frame toward the core gateway: returns 14. */
static unsigned
expect_core_l2(const struct pft_frame *f, uint16_t et)
{
	if (f->n < 14) {
		pft_failf(__FILE__, __LINE__, "core frame of %u bytes", f->n);
		return 0;
	}
	CHECK_MEM(f->d, MAC_GW, 6);
	CHECK_MEM(f->d + 6, MAC_CORE, 6);
	CHECK_EQ(rd16(f->d + 12), et);
	return 14;
}
#define EXPECT_CORE_L2(...) AT_LINE(expect_core_l2(__VA_ARGS__))

/* A GRE frame toward the cloud; returns the inner packet's offset (0 on mismatch). */
static unsigned
expect_gre(const struct pft_frame *f, uint32_t tun_dst, uint32_t key, uint16_t proto,
	   unsigned inner_len, uint8_t tos, bool df)
{
	const uint8_t *o = f->d + 14, *g = o + 20;

	CHECK_EQ(f->n, 14 + 20 + 8 + inner_len);
	if (f->n < 42)
		return 0;
	CHECK_MEM(f->d, MAC_GW, 6);
	CHECK_MEM(f->d + 6, MAC_CORE, 6);
	CHECK_EQ(rd16(f->d + 12), 0x0800);
	CHECK_EQ(o[0], 0x45);
	CHECK_EQ(o[1], tos);
	CHECK_EQ(rd16(o + 2), 28 + inner_len);
	CHECK_EQ(rd16(o + 6), df ? 0x4000 : 0);
	CHECK_EQ(o[8], 64);
	CHECK_EQ(o[9], 47);
	CHECK(ip4_cksum_ok(o), "outer IPv4 checksum %04x is wrong", rd16(o + 10));
	CHECK_EQ(rd32(o + 12), IP_CORE);
	CHECK_EQ(rd32(o + 16), tun_dst);
	CHECK_EQ(rd16(g), 0x2000);
	CHECK_EQ(rd16(g + 2), proto);
	CHECK_EQ(rd32(g + 4), key);
	return 42;
}
#define EXPECT_GRE(...) AT_LINE(expect_gre(__VA_ARGS__))

/* got is orig forwarded: same bytes but TTL - 1 and a valid (recomputed) checksum. */
static void
expect_fwd4(const uint8_t *got, const uint8_t *orig, unsigned len)
{
	unsigned hlen = (orig[0] & 0xf) * 4u;

	CHECK_MEM(got, orig, 8);
	CHECK_EQ(got[8], orig[8] - 1);
	CHECK_EQ(got[9], orig[9]);
	CHECK_MEM(got + 12, orig + 12, len - 12);
	CHECK(ip4_cksum_ok(got), "forwarded IPv4 checksum %04x is wrong", rd16(got + 10));
	CHECK_EQ(hlen, (got[0] & 0xf) * 4u);
}
#define EXPECT_FWD4(...) AT_LINE_V(expect_fwd4(__VA_ARGS__))

static void
expect_fwd6(const uint8_t *got, const uint8_t *orig, unsigned len)
{
	CHECK_MEM(got, orig, 7);
	CHECK_EQ(got[7], orig[7] - 1);
	CHECK_MEM(got + 8, orig + 8, len - 8);
}
#define EXPECT_FWD6(...) AT_LINE_V(expect_fwd6(__VA_ARGS__))

/* An ICMPv4 error (or reply) we originated: IP header from src to dst, proto 1. */
static void
expect_icmp4_hdr(const uint8_t *ip, unsigned len, uint32_t src, uint32_t dst)
{
	CHECK_EQ(ip[0], 0x45);
	CHECK_EQ(rd16(ip + 2), len);
	CHECK_EQ(ip[8], 64);
	CHECK_EQ(ip[9], 1);
	CHECK(ip4_cksum_ok(ip), "ICMP's IPv4 checksum %04x is wrong", rd16(ip + 10));
	CHECK_EQ(rd32(ip + 12), src);
	CHECK_EQ(rd32(ip + 16), dst);
	CHECK(pft_cksum(ip + 20, len - 20) == 0, "ICMP checksum %04x is wrong", rd16(ip + 22));
}
#define EXPECT_ICMP4_HDR(...) AT_LINE_V(expect_icmp4_hdr(__VA_ARGS__))

/* The IPv4 packet of len bytes at b->d + o, in contoso's private context, went alone into
 * contoso's tunnel (GRE key 1001 to 198.51.100.1, TOS 0, no DF), forwarded. Returns the
 * inner packet's offset in the frame (0 on mismatch). */
static unsigned
expect_encap_c4(const struct pb *b, unsigned o, unsigned len)
{
	unsigned in;

	NOUT(CORE, 1);
	in = EXPECT_GRE(&out[CORE][0], IP_TUN1, KEY_C, 0x0800, len, 0, false);
	if (in)
		EXPECT_FWD4(out[CORE][0].d + in, b->d + o, len);
	return in;
}
#define EXPECT_ENCAP_C4(...) AT_LINE(expect_encap_c4(__VA_ARGS__))

/* The IPv4 packet at b->d + in, from contoso's tunnel, went alone, decapsulated and
 * forwarded, to contoso's router on VLAN 555; nothing dropped, one gre_decap event. */
static void
expect_decap_c4(const struct pb *b, unsigned in)
{
	unsigned len = b->n - in, l3;

	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x0800);
	CHECK_EQ(out[EDGE][0].n, 18 + len);
	if (l3)
		EXPECT_FWD4(out[EDGE][0].d + l3, b->d + in, len);
	DROPS();
	EVENTS(E(gre_decap, 1));
}
#define EXPECT_DECAP_C4(...) AT_LINE_V(expect_decap_c4(__VA_ARGS__))

/* The IPv4 packet at b->d + o went alone, forwarded, to the core gateway, untagged. */
static void
expect_core4(const struct pb *b, unsigned o)
{
	unsigned len = b->n - o, l3;

	NOUT(CORE, 1);
	l3 = EXPECT_CORE_L2(&out[CORE][0], 0x0800);
	CHECK_EQ(out[CORE][0].n, 14 + len);
	if (l3)
		EXPECT_FWD4(out[CORE][0].d + l3, b->d + o, len);
}
#define EXPECT_CORE4(...) AT_LINE_V(expect_core4(__VA_ARGS__))

static int
neigh_idx(uint16_t ctx, int family, const uint8_t *ip)
{
	for (uint32_t i = 0; i < P.tbl.n_neigh; i++)
		if (P.tbl.neigh[i].ctx == ctx && P.tbl.neigh[i].family == family &&
		    memcmp(P.tbl.neigh[i].ip, ip, family == 4 ? 4 : 16) == 0)
			return (int)i;
	return -1;
}

static uint64_t
mac_u64(const uint8_t *mac)
{
	uint64_t v = 0;

	memcpy(&v, mac, 6);
	return v | PF_NEIGH_VALID;
}

/* ------------------------------------------------------------------------------------ */
/* Packets used by several tests                                                        */

/* VLAN 555: on-prem host -> VNet host, UDP with paylen bytes. Returns the IP offset. */
static unsigned
c_to_vnet4(struct pb *b, unsigned paylen, uint16_t frag, uint8_t ttl, uint8_t tos)
{
	unsigned o;

	memset(b, 0, sizeof(*b));
	edge1(b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(b, (struct ip4o){.src = IP_ONPREM_C, .dst = IP_VNET, .proto = 17, .ttl = ttl,
				 .tos = tos, .frag = frag});
	udp(b, paylen);
	ip4_end(b, o);
	return o;
}

/* Any IPv4 UDP packet on VLAN 555 (edge) toward dst. */
static unsigned
c_udp4(struct pb *b, uint32_t src, uint32_t dst, unsigned paylen)
{
	unsigned o;

	memset(b, 0, sizeof(*b));
	edge1(b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(b, (struct ip4o){.src = src, .dst = dst, .proto = 17});
	udp(b, paylen);
	ip4_end(b, o);
	return o;
}

/* Plain core packet. */
static unsigned
core_udp4(struct pb *b, uint32_t src, uint32_t dst, unsigned paylen)
{
	unsigned o;

	memset(b, 0, sizeof(*b));
	core0(b, 0x0800);
	o = ip4(b, (struct ip4o){.src = src, .dst = dst, .proto = 17});
	udp(b, paylen);
	ip4_end(b, o);
	return o;
}

/* GRE from a cloud endpoint with an inner IPv4 UDP packet; returns the inner offset. */
static unsigned
cloud_gre4(struct pb *b, uint32_t outer_src, uint32_t key, uint32_t isrc, uint32_t idst,
	   unsigned paylen, uint8_t ttl)
{
	struct gref g;
	unsigned in;

	memset(b, 0, sizeof(*b));
	gre_begin(b, &g, outer_src, GRE_K, 0x0800, key);
	in = ip4(b, (struct ip4o){.src = isrc, .dst = idst, .proto = 17, .ttl = ttl});
	udp(b, paylen);
	ip4_end(b, in);
	gre_end(b, &g);
	return in;
}

/* ------------------------------------------------------------------------------------ */
/* Suite set-up                                                                         */

static int
find_ctx(const char *name, uint16_t *out)
{
	for (uint32_t i = 0; i < P.tbl.n_ctx; i++)
		if (strcmp(P.tbl.ctx[i].name, name) == 0) {
			*out = (uint16_t)i;
			return 0;
		}
	fprintf(stderr, "no context %s in the tables\n", name);
	return -1;
}

static int
find_cust(const char *name, uint16_t *out)
{
	for (uint32_t i = 0; i < P.tbl.n_cust; i++)
		if (strcmp(P.tbl.cust[i].name, name) == 0) {
			*out = (uint16_t)i;
			return 0;
		}
	fprintf(stderr, "no customer %s in the tables\n", name);
	return -1;
}

static int
suite_init(void)
{
	static const struct pft_pipe_opts o = {
		.prog = "test", .prefix = "ut", .pool_size = POOL_SIZE, .ring_size = RING_SIZE,
		.learn_size = LEARN_SIZE, .config = EXAMPLE, .edit = pft_edit_blackhole_nd,
		.tmpl = "/tmp/pf_test_dataplane_XXXXXX.json"};

	if (pft_pipe_up(&P, &o) < 0)
		return -1;
	w = P.w;
	/* meson runs this suite twice: with and without the fast path */
	w->no_fastpath = getenv("PF_TEST_NO_FASTPATH") != NULL;
	if (find_ctx("core", &cx_core) < 0 || find_ctx("contoso-private", &cx_cpriv) < 0 ||
	    find_ctx("contoso-public", &cx_cpub) < 0 || find_ctx("fabrikam-private", &cx_fpriv) < 0 ||
	    find_ctx("fabrikam-microsoft", &cx_fms) < 0 || find_cust("contoso", &cu_contoso) < 0 ||
	    find_cust("fabrikam", &cu_fabrikam) < 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	if (w)
		collect();
	pft_pipe_down(&P);
	w = NULL;
	return 0;
}

static void
test_setup(void)
{
	fresh("");
}

static void
test_teardown(void)
{
	collect();
	nout[EDGE] = nout[CORE] = 0;
	drain_learn();
	pft_case = "";
	line_reset();
}

/* ------------------------------------------------------------------------------------ */
/* Forwarding                                                                           */

static void
test_tables_sane(void)
{
	CHECK_EQ(P.tbl.port[P.pid[EDGE]].is_core, 0);
	CHECK_EQ(P.tbl.port[P.pid[CORE]].is_core, 1);
	CHECK_MEM(P.tbl.port[P.pid[EDGE]].mac.addr_bytes, MAC_EDGE, 6);
	CHECK_MEM(P.tbl.port[P.pid[CORE]].mac.addr_bytes, MAC_CORE, 6);
	CHECK_EQ(cx_core, PF_CTX_CORE);
}

static void
test_vlan555_gre_ipv4(void)
{
	struct pb b;
	unsigned o = c_to_vnet4(&b, 100, 0x4000 /* DF */, 64, 0x28);
	unsigned len = b.n - o, in;

	send1(EDGE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	in = EXPECT_GRE(&out[CORE][0], IP_TUN1, KEY_C, 0x0800, len, 0x28, true);
	if (in)
		EXPECT_FWD4(out[CORE][0].d + in, b.d + o, len);
	DROPS();
	EVENTS(E(gre_encap, 1));
	CHECK_EQ(w->c.ctx[cx_cpriv].in.pkts, 1);
	CHECK_EQ(w->c.ctx[cx_cpriv].in.bytes, len);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.pkts, 1);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.bytes, len);
	CHECK_EQ(w->c.cust[cu_contoso].from_cloud.pkts, 0);
	CHECK_EQ(w->c.cust[cu_fabrikam].to_cloud.pkts, 0);
	CHECK_EQ(w->c.port[P.pid[EDGE]].rx.pkts, 1);
	CHECK_EQ(w->c.port[P.pid[CORE]].tx.pkts, 1);
	CHECK_EQ(w->c.port[P.pid[CORE]].tx.bytes, len + 42);

	/* without DF the outer header has none either */
	fresh("no DF");
	o = c_to_vnet4(&b, 100, 0, 64, 0);
	send1(EDGE, &b);
	EXPECT_ENCAP_C4(&b, o, b.n - o);
	DROPS();
}

static void
test_vlan555_gre_ipv6(void)
{
	struct pb b = {0};
	unsigned o, in, len;

	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0xb8, 17, 64, V6("2001:db8:1000::1").a, V6("fd00:1::5").a);
	udp(&b, 200);
	ip6_end(&b, o);
	l4_cksum6_set(&b, o, 6);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	/* IPv6 is never fragmented en route: DF on the outer header */
	in = EXPECT_GRE(&out[CORE][0], IP_TUN1, KEY_C, 0x86dd, len, 0xb8, true);
	if (in)
		EXPECT_FWD6(out[CORE][0].d + in, b.d + o, len);
	DROPS();
	EVENTS(E(gre_encap, 1));
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.pkts, 1);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.bytes, len);
}

static void
test_vlan556_plain_core(void)
{
	struct pb b = {0};
	unsigned o, l3, len;

	edge1(&b, MAC_EDGE, VLAN_CPUB, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPUBPFX, .dst = IP_AZURE, .proto = 17, .tos = 0x10});
	udp(&b, 64);
	ip4_end(&b, o);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	EXPECT_CORE4(&b, o);
	DROPS();
	EVENTS();
	CHECK_EQ(w->c.ctx[cx_cpub].in.pkts, 1);
	CHECK_EQ(w->c.ctx[cx_cpriv].in.pkts, 0);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.pkts, 1);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.bytes, len);

	/* and back: the cloud reaches the customer's public prefix through the core context */
	fresh("core -> public prefix -> VLAN 556");
	o = core_udp4(&b, IP_AZURE, IP_CPUBPFX, 64);
	len = b.n - o;
	send1(CORE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A105, 1, 0x8100, VLAN_CPUB, 0, 0x0800);
	CHECK_EQ(out[EDGE][0].n, 18 + len);
	if (l3)
		EXPECT_FWD4(out[EDGE][0].d + l3, b.d + o, len);
	DROPS();
	EVENTS();
	CHECK_EQ(w->c.ctx[cx_cpub].out.pkts, 1);
	CHECK_EQ(w->c.ctx[cx_cpub].out.bytes, len);
	CHECK_EQ(w->c.cust[cu_contoso].from_cloud.pkts, 1);
	CHECK_EQ(w->c.cust[cu_contoso].from_cloud.bytes, len);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.pkts, 0);
}

static void
qinq_case(const char *label, uint16_t tpid)
{
	struct pb b = {0};
	unsigned o, in, len;

	fresh(label);
	edge2(&b, tpid, S_TAG, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP4(198, 18, 0, 10), .dst = IP_VNET, .proto = 17});
	udp(&b, 80);
	ip4_end(&b, o);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	in = EXPECT_GRE(&out[CORE][0], IP_TUN2, KEY_F, 0x0800, len, 0, false);
	if (in)
		EXPECT_FWD4(out[CORE][0].d + in, b.d + o, len);
	DROPS();
	EVENTS(E(gre_encap, 1));
	CHECK_EQ(w->c.ctx[cx_fpriv].in.pkts, 1);
	CHECK_EQ(w->c.cust[cu_fabrikam].to_cloud.pkts, 1);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.pkts, 0);
}

static void
test_qinq_gre(void)
{
	struct pb b = {0};
	unsigned o;

	qinq_case("QinQ 0x88a8/0x8100 100/555", 0x88a8);
	qinq_case("QinQ 0x8100/0x8100 100/555", 0x8100);

	/* 100/556 is fabrikam's Microsoft peering: plain to the core */
	fresh("QinQ 100/556 -> core");
	edge2(&b, 0x88a8, S_TAG, VLAN_CPUB, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP4(198, 18, 0, 10), .dst = IP_MSFT, .proto = 17});
	udp(&b, 40);
	ip4_end(&b, o);
	send1(EDGE, &b);
	EXPECT_CORE4(&b, o);
	DROPS();
	CHECK_EQ(w->c.ctx[cx_fms].in.pkts, 1);
}

static void
test_gre_decap_1001(void)
{
	struct pb b;
	unsigned in, l3, len;
	struct gref g;

	in = cloud_gre4(&b, IP_TUN1, KEY_C, IP_VNET, IP_ONPREM_C, 120, 64);
	len = b.n - in;
	send1(CORE, &b);
	NOUT(CORE, 0);
	EXPECT_DECAP_C4(&b, in);
	CHECK_EQ(w->c.ctx[cx_cpriv].out.pkts, 1);
	CHECK_EQ(w->c.ctx[cx_cpriv].out.bytes, len);
	CHECK_EQ(w->c.cust[cu_contoso].from_cloud.pkts, 1);
	CHECK_EQ(w->c.cust[cu_contoso].from_cloud.bytes, len);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.pkts, 0);
	CHECK_EQ(w->c.port[P.pid[EDGE]].tx.pkts, 1);

	/* IPv6 inner toward the customer's IPv6 on-prem prefix */
	fresh("key 1001, IPv6 inner");
	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_K, 0x86dd, KEY_C);
	in = ip6(&b, 0, 17, 64, V6("fd00:1::5").a, V6("2001:db8:1000::1").a);
	udp(&b, 60);
	ip6_end(&b, in);
	l4_cksum6_set(&b, in, 6);
	gre_end(&b, &g);
	len = b.n - in;
	send1(CORE, &b);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x86dd);
	CHECK_EQ(out[EDGE][0].n, 18 + len);
	if (l3)
		EXPECT_FWD6(out[EDGE][0].d + l3, b.d + in, len);
	DROPS();
	EVENTS(E(gre_decap, 1));
}

static void
test_gre_decap_2002_qinq(void)
{
	struct pb b;
	unsigned in = cloud_gre4(&b, IP_TUN2, KEY_F, IP_VNET, IP_ONPREM_F, 50, 30);
	unsigned len = b.n - in, l3;

	send1(CORE, &b);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_B201, 2, 0x88a8, S_TAG, VLAN_CPRIV, 0x0800);
	CHECK_EQ(out[EDGE][0].n, 22 + len);
	if (l3)
		EXPECT_FWD4(out[EDGE][0].d + l3, b.d + in, len);
	DROPS();
	EVENTS(E(gre_decap, 1));
	CHECK_EQ(w->c.ctx[cx_fpriv].out.pkts, 1);
	CHECK_EQ(w->c.cust[cu_fabrikam].from_cloud.pkts, 1);
	CHECK_EQ(w->c.cust[cu_contoso].from_cloud.pkts, 0);
}

static void
test_gre_isolation(void)
{
	struct pb b;

	/* contoso's key must not reach fabrikam's on-prem prefix (overlapping VNets!) */
	pft_case = "key 1001 -> fabrikam on-prem";
	cloud_gre4(&b, IP_TUN1, KEY_C, IP_VNET, IP_ONPREM_F, 20, 64);
	send1(CORE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 0);
	DROPS(D(no_route, 1));
	EVENTS(E(gre_decap, 1));

	fresh("key 2002 -> contoso on-prem");
	cloud_gre4(&b, IP_TUN2, KEY_F, IP_VNET, IP_ONPREM_C, 20, 64);
	send1(CORE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 0);
	DROPS(D(no_route, 1));
	EVENTS(E(gre_decap, 1));

	/* the key of one customer from the other customer's endpoint */
	fresh("key 1001 from fabrikam's endpoint");
	cloud_gre4(&b, IP_TUN2, KEY_C, IP_VNET, IP_ONPREM_C, 20, 64);
	send1(CORE, &b);
	NOUT(EDGE, 0);
	DROPS(D(gre_bad_endpoint, 1));
	EVENTS();
}

static void
test_gre_optional_fields(void)
{
	/* RFC 2890: checksum and sequence number present (and valid) are accepted */
	static const uint16_t flags[] = {GRE_C | GRE_K, GRE_K | GRE_S, GRE_C | GRE_K | GRE_S};

	for (unsigned i = 0; i < RTE_DIM(flags); i++) {
		struct pb b = {0};
		struct gref g;
		unsigned in;
		char label[64];

		snprintf(label, sizeof(label), "GRE flags 0x%04x", flags[i]);
		fresh(label);
		gre_begin(&b, &g, IP_TUN1, flags[i], 0x0800, KEY_C);
		in = ip4(&b, (struct ip4o){.src = IP_VNET, .dst = IP_ONPREM_C, .proto = 17});
		udp(&b, 33);
		ip4_end(&b, in);
		gre_end(&b, &g);
		send1(CORE, &b);
		EXPECT_DECAP_C4(&b, in);
	}
}

/* ------------------------------------------------------------------------------------ */
/* Local: ARP, ND, echo                                                                 */

static void
test_arp_request_reply(void)
{
	struct pb b = {0};
	const uint8_t *a;

	edge1(&b, MAC_BCAST, VLAN_CPRIV, 0x0806);
	arp(&b, 1, MAC_A101, IP_CPRIV_PEER, MAC_ZERO, IP_CPRIV_US);
	while (b.n < 60)
		u8(&b, 0xee); /* Ethernet padding must not come back */
	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	if (nout[EDGE] == 1) {
		const struct pft_frame *f = &out[EDGE][0];

		CHECK_EQ(EXPECT_EDGE_L2(f, MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x0806), 18);
		CHECK_EQ(f->n, 18 + 28);
		a = f->d + 18;
		CHECK_EQ(rd16(a), 1);
		CHECK_EQ(rd16(a + 2), 0x0800);
		CHECK_EQ(a[4], 6);
		CHECK_EQ(a[5], 4);
		CHECK_EQ(rd16(a + 6), 2);
		CHECK_MEM(a + 8, MAC_EDGE, 6);
		CHECK_EQ(rd32(a + 14), IP_CPRIV_US);
		CHECK_MEM(a + 18, MAC_A101, 6);
		CHECK_EQ(rd32(a + 24), IP_CPRIV_PEER);
	}
	DROPS();
	EVENTS(E(arp_reply_sent, 1));
	CHECK_EQ(rte_ring_count(P.learn), 0); /* the sender's MAC is already known */

	/* the core address, untagged */
	fresh("ARP for the core address");
	memset(&b, 0, sizeof(b));
	l2(&b, MAC_BCAST, MAC_GW);
	u16(&b, 0x0806);
	arp(&b, 1, MAC_GW, IP_GW, MAC_ZERO, IP_CORE);
	send1(CORE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	if (nout[CORE] == 1) {
		const struct pft_frame *f = &out[CORE][0];

		CHECK_EQ(EXPECT_CORE_L2(f, 0x0806), 14);
		CHECK_EQ(f->n, 14 + 28);
		a = f->d + 14;
		CHECK_EQ(rd16(a + 6), 2);
		CHECK_MEM(a + 8, MAC_CORE, 6);
		CHECK_EQ(rd32(a + 14), IP_CORE);
		CHECK_MEM(a + 18, MAC_GW, 6);
		CHECK_EQ(rd32(a + 24), IP_GW);
	}
	DROPS();
	EVENTS(E(arp_reply_sent, 1));

	/* QinQ context: the reply keeps both tags */
	fresh("ARP on QinQ 100/555");
	memset(&b, 0, sizeof(b));
	l2(&b, MAC_BCAST, MAC_B201);
	u16(&b, 0x88a8);
	u16(&b, S_TAG);
	u16(&b, 0x8100);
	u16(&b, VLAN_CPRIV);
	u16(&b, 0x0806);
	arp(&b, 1, MAC_B201, IP4(172, 16, 3, 1), MAC_ZERO, IP4(172, 16, 3, 2));
	send1(EDGE, &b);
	NOUT(EDGE, 1);
	if (nout[EDGE] == 1) {
		CHECK_EQ(EXPECT_EDGE_L2(&out[EDGE][0], MAC_B201, 2, 0x88a8, S_TAG, VLAN_CPRIV, 0x0806), 22);
		CHECK_EQ(rd32(out[EDGE][0].d + 22 + 14), IP4(172, 16, 3, 2));
	}
	DROPS();
	EVENTS(E(arp_reply_sent, 1));
}

static void
test_arp_nd_learn(void)
{
	struct pb b = {0};
	struct pf_learn_msg msg;
	uint8_t ip[4] = {172, 16, 1, 1}, ip2[4] = {172, 16, 2, 1};
	int ni = neigh_idx(cx_cpriv, 4, ip), ni2 = neigh_idx(cx_cpriv, 4, ip2);
	int ni6 = neigh_idx(cx_cpriv, 6, V6("2001:db8:a1::1").a);

	CHECK(ni >= 0 && ni2 >= 0 && ni6 >= 0, "neighbors not found: %d %d %d", ni, ni2, ni6);

	/* a reply from a next hop with a configured (static) MAC: the configuration wins,
	 * nothing is queued for control and nothing sent */
	pft_case = "ARP reply, new MAC for a static neighbor";
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0806);
	arp(&b, 2, MAC_NEW, IP_CPRIV_PEER, MAC_EDGE, IP_CPRIV_US);
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 0);
	DROPS();
	EVENTS();
	CHECK_EQ(rte_ring_count(P.learn), 0);
	(void)ni;

	/* the same MAC as the table holds: nothing new, nothing queued */
	fresh("ARP reply, known MAC");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0806);
	arp(&b, 2, MAC_A101, IP_CPRIV_PEER, MAC_EDGE, IP_CPRIV_US);
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	DROPS();
	EVENTS();
	CHECK_EQ(rte_ring_count(P.learn), 0);

	/* the unresolved secondary peer */
	fresh("ARP reply from the secondary peer");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0806);
	arp(&b, 2, MAC_NEW, IP_CPRIV2_PEER, MAC_EDGE, IP_CPRIV2_US);
	send1(EDGE, &b);
	EVENTS(E(arp_learned, 1));
	if (rte_ring_dequeue_elem(P.learn, &msg, sizeof(msg)) == 0) {
		CHECK_EQ(msg.neigh, ni2);
		CHECK_EQ(msg.mac, mac_u64(MAC_NEW));
	} else {
		pft_failf(__FILE__, __LINE__, "no learn message");
	}

	/* an address that is no next hop of ours teaches nothing */
	fresh("ARP reply from a stranger");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0806);
	arp(&b, 2, MAC_NEW, IP4(172, 16, 1, 3), MAC_EDGE, IP_CPRIV_US);
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	DROPS();
	EVENTS();
	CHECK_EQ(rte_ring_count(P.learn), 0);

	/* a request teaches the sender's MAC too (RFC 826 merge) and is answered */
	fresh("ARP request, new MAC");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_BCAST, VLAN_CPRIV, 0x0806);
	arp(&b, 1, MAC_NEW, IP_CPRIV2_PEER, MAC_ZERO, IP_CPRIV2_US);
	send1(EDGE, &b);
	NOUT(EDGE, 1);
	if (nout[EDGE] == 1)
		CHECK_MEM(out[EDGE][0].d, MAC_NEW, 6);
	EVENTS(E(arp_learned, 1) E(arp_reply_sent, 1));
	if (rte_ring_dequeue_elem(P.learn, &msg, sizeof(msg)) == 0) {
		CHECK_EQ(msg.neigh, ni2);
		CHECK_EQ(msg.mac, mac_u64(MAC_NEW));
	} else {
		pft_failf(__FILE__, __LINE__, "no learn message");
	}

	/* IPv6: an advertisement from the static customer router teaches nothing */
	fresh("NA, new MAC for a static neighbor");
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_EDGE, 136, 255, V6("2001:db8:a1::1").a, V6("2001:db8:a1::2").a,
	   V6("2001:db8:a1::1").a, MAC_NEW, 0x60000000);
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	DROPS();
	EVENTS();
	CHECK_EQ(rte_ring_count(P.learn), 0);
	(void)ni6;

}

static void
test_icmp_echo(void)
{
	struct pb b = {0};
	unsigned o, ic, l3, len;
	struct gref g;

	/* VLAN 555: the customer router pings our address */
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 1, .ttl = 255});
	ic = icmp4(&b, 8, 0, 0x4242, 7, 56);
	ip4_end(&b, o);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x0800);
	CHECK_EQ(out[EDGE][0].n, 18 + len);
	if (l3 && out[EDGE][0].n == 18 + len) {
		const uint8_t *ip = out[EDGE][0].d + l3;

		EXPECT_ICMP4_HDR(ip, len, IP_CPRIV_US, IP_CPRIV_PEER);
		CHECK_EQ(ip[20], 0);
		CHECK_EQ(ip[21], 0);
		CHECK_MEM(ip + 24, b.d + ic + 4, len - 24); /* id, seq, data */
	}
	DROPS();
	EVENTS(E(icmp_echo_reply, 1));

	/* the core address from the gateway */
	fresh("echo to the core address");
	memset(&b, 0, sizeof(b));
	core0(&b, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_GW, .dst = IP_CORE, .proto = 1});
	ic = icmp4(&b, 8, 0, 1, 2, 20);
	ip4_end(&b, o);
	len = b.n - o;
	send1(CORE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	l3 = EXPECT_CORE_L2(&out[CORE][0], 0x0800);
	if (l3 && out[CORE][0].n == 14 + len) {
		EXPECT_ICMP4_HDR(out[CORE][0].d + l3, len, IP_CORE, IP_GW);
		CHECK_EQ(out[CORE][0].d[l3 + 20], 0);
	} else {
		pft_failf(__FILE__, __LINE__, "reply of %u bytes", out[CORE][0].n);
	}
	DROPS();
	EVENTS(E(icmp_echo_reply, 1));

	/* IPv6 on VLAN 555 */
	fresh("ICMPv6 echo");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 58, 64, V6("2001:db8:a1::1").a, V6("2001:db8:a1::2").a);
	icmp6(&b, 128, 0, 0x77, 3, 32);
	ip6_end(&b, o);
	l4_cksum6_set(&b, o, 2);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x86dd);
	if (l3 && out[EDGE][0].n == 18 + len) {
		const uint8_t *ip = out[EDGE][0].d + l3;

		CHECK_EQ(ip[0] >> 4, 6);
		CHECK_EQ(rd16(ip + 4), len - 40);
		CHECK_EQ(ip[6], 58);
		CHECK_MEM(ip + 8, V6("2001:db8:a1::2").a, 16);
		CHECK_MEM(ip + 24, V6("2001:db8:a1::1").a, 16);
		CHECK_EQ(ip[40], 129);
		CHECK_EQ(ip[41], 0);
		CHECK_MEM(ip + 44, b.d + o + 44, len - 44);
		CHECK(l4_cksum6_ok(ip), "ICMPv6 checksum %04x is wrong", rd16(ip + 42));
	} else {
		pft_failf(__FILE__, __LINE__, "reply of %u bytes", out[EDGE][0].n);
	}
	DROPS();
	EVENTS(E(icmp_echo_reply, 1));

	/* the cloud pings our peering address through the tunnel: the reply goes back in it */
	fresh("echo through GRE");
	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_K, 0x0800, KEY_C);
	o = ip4(&b, (struct ip4o){.src = IP_VNET, .dst = IP_CPRIV_US, .proto = 1});
	icmp4(&b, 8, 0, 9, 9, 16);
	ip4_end(&b, o);
	gre_end(&b, &g);
	len = b.n - o;
	send1(CORE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	l3 = EXPECT_GRE(&out[CORE][0], IP_TUN1, KEY_C, 0x0800, len, 0, false);
	if (l3) {
		EXPECT_ICMP4_HDR(out[CORE][0].d + l3, len, IP_CPRIV_US, IP_VNET);
		CHECK_EQ(out[CORE][0].d[l3 + 20], 0);
	}
	DROPS();
	EVENTS(E(gre_decap, 1) E(icmp_echo_reply, 1) E(gre_encap, 1));
}

/* The NA we expect for our address 2001:db8:a1::2 on VLAN 555. */
static void
expect_na(const struct pft_frame *f, const uint8_t *edst, const uint8_t *ip_dst, uint32_t flags)
{
	const uint8_t *ip = f->d + 18;

	CHECK_EQ(f->n, 18 + 40 + 32);
	if (f->n < 18 + 40 + 24)
		return;
	CHECK_EQ(expect_edge_l2(f, edst, 1, 0x8100, VLAN_CPRIV, 0, 0x86dd), 18);
	CHECK_EQ(ip[0] >> 4, 6);
	CHECK_EQ(rd16(ip + 4), 32);
	CHECK_EQ(ip[6], 58);
	CHECK_EQ(ip[7], 255);
	CHECK_MEM(ip + 8, V6("2001:db8:a1::2").a, 16);
	CHECK_MEM(ip + 24, ip_dst, 16);
	CHECK_EQ(ip[40], 136);
	CHECK_EQ(ip[41], 0);
	CHECK_EQ(rd32(ip + 44), flags);
	CHECK_MEM(ip + 48, V6("2001:db8:a1::2").a, 16);
	if (f->n < 18 + 40 + 32)
		return;
	CHECK_EQ(ip[64], 2); /* target link-layer address */
	CHECK_EQ(ip[65], 1);
	CHECK_MEM(ip + 66, MAC_EDGE, 6);
	CHECK(l4_cksum6_ok(ip), "NA checksum %04x is wrong", rd16(ip + 42));
}
#define EXPECT_NA(...) AT_LINE_V(expect_na(__VA_ARGS__))

/* An NS for our address 2001:db8:a1::2 from the contoso router on VLAN 555 (Ethernet
 * destination edst, IPv6 src -> dst, source link-layer address option slla or none) is
 * answered with one NA to na_mac / na_ip with flags; nothing dropped, one nd_na_sent. */
static void
ns_answered(const char *label, const uint8_t *edst, const char *src, const char *dst,
	    const uint8_t *slla, const uint8_t *na_mac, const char *na_ip, uint32_t flags)
{
	struct pb b = {0};

	fresh(label);
	nd(&b, edst, 135, 255, V6(src).a, V6(dst).a, V6("2001:db8:a1::2").a, slla, 0);
	send1(EDGE, &b);
	NOUT(EDGE, 1);
	if (nout[EDGE] == 1)
		EXPECT_NA(&out[EDGE][0], na_mac, V6(na_ip).a, flags);
	DROPS();
	EVENTS(E(nd_na_sent, 1));
}

static void
test_nd_ns_na(void)
{
	/* multicast NS (solicited-node) with the source link-layer address */
	ns_answered("multicast NS with SLLA", MAC_SNM2, "2001:db8:a1::1", "ff02::1:ff00:2",
		    MAC_A101, MAC_A101, "2001:db8:a1::1", 0xe0000000);
	NOUT(CORE, 0);
	CHECK_EQ(rte_ring_count(P.learn), 0);

	/* unicast NS (reachability probe) with SLLA */
	ns_answered("unicast NS with SLLA", MAC_EDGE, "2001:db8:a1::1", "2001:db8:a1::2",
		    MAC_A101, MAC_A101, "2001:db8:a1::1", 0xe0000000);
}

/* POSSIBLE BUG: a unicast NS may omit the source link-layer address option (RFC 4861 4.3
 * "SHOULD be included in unicast solicitations"); the NA must still carry its TLLA. */
static void
test_nd_ns_unicast_no_slla(void)
{
	ns_answered("unicast NS without SLLA", MAC_EDGE, "2001:db8:a1::1", "2001:db8:a1::2", NULL,
		    MAC_A101, "2001:db8:a1::1", 0xe0000000);
}

/* POSSIBLE BUG: duplicate address detection (NS from ::, RFC 4862 5.4.3 / RFC 4861 7.2.4)
 * for our address must be answered with an NA to all-nodes, S flag clear. */
static void
test_nd_dad(void)
{
	ns_answered("DAD NS from ::", MAC_SNM2, "::", "ff02::1:ff00:2", NULL, MAC_ALLNODES,
		    "ff02::1", 0xa0000000);
}

/* ------------------------------------------------------------------------------------ */
/* ICMP errors, MTU, fragmentation                                                      */

static void
test_ttl_time_exceeded(void)
{
	struct pb b;
	unsigned o = c_to_vnet4(&b, 32, 0, 1, 0), len = b.n - o, l3, in;

	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x0800);
	CHECK_EQ(out[EDGE][0].n, 18 + 28 + len);
	if (l3 && out[EDGE][0].n == 18 + 28 + len) {
		const uint8_t *ip = out[EDGE][0].d + l3;

		EXPECT_ICMP4_HDR(ip, 28 + len, IP_CPRIV_US, IP_ONPREM_C);
		CHECK_EQ(ip[20], 11);
		CHECK_EQ(ip[21], 0);
		CHECK_EQ(rd32(ip + 24), 0);
		CHECK_MEM(ip + 28, b.d + o, len); /* the packet as received, TTL 1 */
	}
	DROPS(D(ttl_expired, 1));
	EVENTS(E(icmp_time_exceeded, 1));

	/* IPv6 hop limit 1 */
	fresh("hop limit 1");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 17, 1, V6("2001:db8:1000::1").a, V6("fd00:1::5").a);
	udp(&b, 24);
	ip6_end(&b, o);
	l4_cksum6_set(&b, o, 6);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x86dd);
	CHECK_EQ(out[EDGE][0].n, 18 + 48 + len);
	if (l3 && out[EDGE][0].n == 18 + 48 + len) {
		const uint8_t *ip = out[EDGE][0].d + l3;

		CHECK_EQ(rd16(ip + 4), 8 + len);
		CHECK_EQ(ip[6], 58);
		CHECK_EQ(ip[7], 64);
		CHECK_MEM(ip + 8, V6("2001:db8:a1::2").a, 16);
		CHECK_MEM(ip + 24, V6("2001:db8:1000::1").a, 16);
		CHECK_EQ(ip[40], 3);
		CHECK_EQ(ip[41], 0);
		CHECK_EQ(rd32(ip + 44), 0);
		CHECK_MEM(ip + 48, b.d + o, len);
		CHECK(l4_cksum6_ok(ip), "ICMPv6 checksum %04x is wrong", rd16(ip + 42));
	}
	DROPS(D(ttl_expired, 1));
	EVENTS(E(icmp_time_exceeded, 1));

	/* TTL 1 inside the tunnel: the error goes back to the cloud through it */
	fresh("TTL 1 inside GRE");
	in = cloud_gre4(&b, IP_TUN1, KEY_C, IP_VNET, IP_ONPREM_C, 20, 1);
	len = b.n - in;
	send1(CORE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	l3 = EXPECT_GRE(&out[CORE][0], IP_TUN1, KEY_C, 0x0800, 28 + len, 0, false);
	if (l3) {
		const uint8_t *ip = out[CORE][0].d + l3;

		EXPECT_ICMP4_HDR(ip, 28 + len, IP_CPRIV_US, IP_VNET);
		CHECK_EQ(ip[20], 11);
		CHECK_MEM(ip + 28, b.d + in, len);
	}
	DROPS(D(ttl_expired, 1));
	EVENTS(E(gre_decap, 1) E(icmp_time_exceeded, 1) E(gre_encap, 1));

	/* no error about an ICMP error */
	fresh("TTL 1 on an ICMP error");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_ONPREM_C, .dst = IP_VNET, .proto = 1, .ttl = 1});
	icmp4(&b, 3, 1, 0, 0, 28);
	ip4_end(&b, o);
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 0);
	DROPS(D(ttl_expired, 1));
	EVENTS();
}

static void
test_df_frag_needed(void)
{
	struct pb b;
	unsigned o = c_to_vnet4(&b, 1500 - 28, 0x4000, 64, 0), len = b.n - o, l3;

	CHECK_EQ(len, 1500);
	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x0800);
	CHECK_EQ(out[EDGE][0].n, 18 + 576); /* RFC 1812 4.3.2.3: at most 576 bytes */
	if (l3 && out[EDGE][0].n == 18 + 576) {
		const uint8_t *ip = out[EDGE][0].d + l3;

		EXPECT_ICMP4_HDR(ip, 576, IP_CPRIV_US, IP_ONPREM_C);
		CHECK_EQ(ip[20], 3);
		CHECK_EQ(ip[21], 4);
		CHECK_EQ(rd16(ip + 24), 0);
		CHECK_EQ(rd16(ip + 26), 1472); /* RFC 1191 next-hop MTU: 1500 - 20 - 8 */
		CHECK_MEM(ip + 28, b.d + o, 548);
	}
	DROPS(D(frag_needed, 1));
	EVENTS(E(icmp_frag_needed, 1));

	/* 1472 bytes fit exactly */
	fresh("DF, 1472 bytes");
	o = c_to_vnet4(&b, 1472 - 28, 0x4000, 64, 0);
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	l3 = EXPECT_GRE(&out[CORE][0], IP_TUN1, KEY_C, 0x0800, 1472, 0, true);
	if (l3)
		EXPECT_FWD4(out[CORE][0].d + l3, b.d + o, 1472);
	DROPS();
	EVENTS(E(gre_encap, 1));

	/* IPv6: packet too big, MTU 1472, as much as fits 1280 bytes */
	fresh("IPv6 packet too big");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 17, 64, V6("2001:db8:1000::1").a, V6("fd00:1::5").a);
	udp(&b, 1500 - 48);
	ip6_end(&b, o);
	l4_cksum6_set(&b, o, 6);
	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x86dd);
	CHECK_EQ(out[EDGE][0].n, 18 + 1280);
	if (l3 && out[EDGE][0].n == 18 + 1280) {
		const uint8_t *ip = out[EDGE][0].d + l3;

		CHECK_EQ(rd16(ip + 4), 1240);
		CHECK_EQ(ip[6], 58);
		CHECK_MEM(ip + 8, V6("2001:db8:a1::2").a, 16);
		CHECK_MEM(ip + 24, V6("2001:db8:1000::1").a, 16);
		CHECK_EQ(ip[40], 2);
		CHECK_EQ(ip[41], 0);
		CHECK_EQ(rd32(ip + 44), 1472);
		CHECK_MEM(ip + 48, b.d + o, 1232);
		CHECK(l4_cksum6_ok(ip), "ICMPv6 checksum %04x is wrong", rd16(ip + 42));
	}
	DROPS(D(frag_needed, 1));
	EVENTS(E(icmp_frag_needed, 1));
}

/* Check the GRE frames in out[CORE] are fragments of the IPv4 packet orig (tlen bytes)
 * and that their payloads reassemble to orig's. */
static void
check_fragments(const uint8_t *orig, unsigned first_ihl, unsigned later_ihl,
		const uint8_t *later_opts)
{
	unsigned ihl0 = (orig[0] & 0xf) * 4u, plen0 = rd16(orig + 2) - ihl0, end = 0;
	static uint8_t re[2048];
	static bool have[2048];
	bool last = false;

	memset(re, 0, sizeof(re));
	memset(have, 0, sizeof(have));
	for (unsigned i = 0; i < nout[CORE]; i++) {
		const struct pft_frame *f = &out[CORE][i];
		const uint8_t *ip = f->d + 42;
		unsigned ihl, tl, fo, off, plen;

		if (f->n < 42 + 20) {
			pft_failf(__FILE__, __LINE__, "fragment %u: %u bytes", i, f->n);
			continue;
		}
		ihl = (ip[0] & 0xf) * 4u;
		tl = rd16(ip + 2);
		EXPECT_GRE(f, IP_TUN1, KEY_C, 0x0800, tl, 0, false);
		CHECK(tl <= 1472, "fragment %u: %u bytes > 1472", i, tl);
		CHECK(ip4_cksum_ok(ip), "fragment %u: checksum %04x", i, rd16(ip + 10));
		CHECK_EQ(ip[8], orig[8] - 1);
		CHECK_EQ(rd16(ip + 4), rd16(orig + 4));
		CHECK_EQ(ip[9], orig[9]);
		CHECK_MEM(ip + 12, orig + 12, 8);
		fo = rd16(ip + 6);
		CHECK_EQ(fo & 0x4000, 0);
		off = (fo & 0x1fff) * 8u;
		plen = tl - ihl;
		if (off == 0) {
			CHECK_EQ(ihl, first_ihl);
			CHECK_MEM(ip + 20, orig + 20, ihl - 20);
		} else {
			CHECK_EQ(ihl, later_ihl);
			if (later_ihl > 20)
				CHECK_MEM(ip + 20, later_opts, later_ihl - 20);
		}
		if (fo & 0x2000) {
			CHECK(plen % 8 == 0, "fragment %u: %u payload bytes with MF", i, plen);
		} else {
			CHECK(!last, "two last fragments");
			last = true;
			end = off + plen;
		}
		if (off + plen <= sizeof(re)) {
			memcpy(re + off, ip + ihl, plen);
			for (unsigned k = off; k < off + plen; k++) {
				CHECK(!have[k], "byte %u in two fragments", k);
				have[k] = true;
			}
		}
	}
	CHECK(last, "no last fragment");
	CHECK_EQ(end, plen0);
	for (unsigned k = 0; k < plen0 && k < sizeof(have); k++)
		if (!have[k]) {
			pft_failf(__FILE__, __LINE__, "payload byte %u missing", k);
			break;
		}
	CHECK_MEM(re, orig + ihl0, plen0);
}

static void
test_fragmentation(void)
{
	struct pb b;
	unsigned o = c_to_vnet4(&b, 1500 - 28, 0, 64, 0);
	static const uint8_t opts[12] = {0x94, 0x04, 0x00, 0x00, /* router alert: copied */
					 0x07, 0x07, 0x04, 0, 0, 0, 0, /* record route: not */
					 0x00};
	static const uint8_t copied[4] = {0x94, 0x04, 0x00, 0x00};

	wr16(b.d + o + 4, 0xabcd);
	ip4_cksum_set(b.d + o);
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	CHECK_EQ(nout[CORE], 2);
	check_fragments(b.d + o, 20, 20, NULL);
	DROPS();
	EVENTS(E(fragmented, 1) E(fragments_out, 2) E(gre_encap, 2));

	/* options: all of them in the first fragment, the copied ones in the others */
	fresh("fragmentation with options");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_ONPREM_C, .dst = IP_VNET, .proto = 17, .id = 0x5151,
				  .opt = opts, .optlen = sizeof(opts)});
	udp(&b, 1500 - 32 - 8);
	ip4_end(&b, o);
	send1(EDGE, &b);
	CHECK_EQ(nout[CORE], 2);
	check_fragments(b.d + o, 32, 24, copied);
	DROPS();
	EVENTS(E(fragmented, 1) E(fragments_out, 2) E(gre_encap, 2));

	/* a fragment (MF set) that is fragmented again keeps MF on its last piece */
	fresh("fragmenting a fragment");
	o = c_to_vnet4(&b, 1600 - 28, 0, 64, 0);
	b.n = 18 + 1496; /* cut at a multiple of 8 of payload: 1476 bytes after the header */
	wr16(b.d + o + 6, 0x2000 | 10);   /* MF, offset 80 */
	ip4_end(&b, o);
	send1(EDGE, &b);
	CHECK_EQ(nout[CORE], 2);
	if (nout[CORE] == 2) {
		CHECK_EQ(rd16(out[CORE][0].d + 42 + 6), 0x2000 | 10);
		CHECK_EQ(rd16(out[CORE][1].d + 42 + 6), 0x2000 | (10 + 1448 / 8));
	}
	DROPS();
}

static void
test_padding_trimmed(void)
{
	struct pb b;
	unsigned o = c_to_vnet4(&b, 0, 0, 64, 0), len = b.n - o, in;

	CHECK_EQ(len, 28);
	while (b.n < 60)
		u8(&b, 0xee);
	send1(EDGE, &b);
	EXPECT_ENCAP_C4(&b, o, len);
	CHECK_EQ(w->c.cust[cu_contoso].to_cloud.bytes, len);
	DROPS();

	/* plain to the core: the frame is just the IP packet (the NIC pads) */
	fresh("padding, plain");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPUB, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPUBPFX, .dst = IP_AZURE, .proto = 17});
	udp(&b, 2);
	ip4_end(&b, o);
	len = b.n - o;
	while (b.n < 60)
		u8(&b, 0xee);
	send1(EDGE, &b);
	NOUT(CORE, 1);
	CHECK_EQ(out[CORE][0].n, 14 + len);
	DROPS();

	/* IPv6 with a trailer */
	fresh("IPv6 trailer");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 17, 64, V6("2001:db8:1000::1").a, V6("fd00:1::5").a);
	udp(&b, 4);
	ip6_end(&b, o);
	len = b.n - o;
	u32(&b, 0xdeadbeef);
	send1(EDGE, &b);
	NOUT(CORE, 1);
	in = EXPECT_GRE(&out[CORE][0], IP_TUN1, KEY_C, 0x86dd, len, 0, true);
	if (in)
		EXPECT_FWD6(out[CORE][0].d + in, b.d + o, len);
	DROPS();

	/* a trailer after the GRE packet from the cloud */
	fresh("trailer after GRE");
	in = cloud_gre4(&b, IP_TUN1, KEY_C, IP_VNET, IP_ONPREM_C, 0, 64);
	len = b.n - in;
	u32(&b, 0xdeadbeef);
	send1(CORE, &b);
	NOUT(EDGE, 1);
	CHECK_EQ(out[EDGE][0].n, 18 + len);
	DROPS();
}

static void
test_ip4_options_forwarded(void)
{
	static const uint8_t opts[8] = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};
	struct pb b = {0};
	unsigned o, in, len;

	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_ONPREM_C, .dst = IP_VNET, .proto = 17, .ttl = 9,
				  .opt = opts, .optlen = sizeof(opts)});
	udp(&b, 30);
	ip4_end(&b, o);
	len = b.n - o;
	send1(EDGE, &b);
	in = EXPECT_ENCAP_C4(&b, o, len);
	if (in)
		CHECK_EQ(out[CORE][0].d[in], 0x47);
	DROPS();
	EVENTS(E(gre_encap, 1));

	fresh("options, plain to the core");
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPUB, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPUBPFX, .dst = IP_AZURE, .proto = 17,
				  .opt = opts, .optlen = sizeof(opts)});
	udp(&b, 30);
	ip4_end(&b, o);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(CORE, 1);
	CHECK_EQ(out[CORE][0].n, 14 + len);
	if (out[CORE][0].n == 14 + len)
		EXPECT_FWD4(out[CORE][0].d + 14, b.d + o, len);
	DROPS();
}

static void
test_burst_mixed(void)
{
	static struct pb e[6], c[4];
	unsigned oe[6], oc[4];
	bool seen555 = false, seen556 = false, seenq = false;

	/* edge burst: VNet v4, bad checksum, VNet v6, public -> core, ARP, no route */
	oe[0] = c_to_vnet4(&e[0], 10, 0, 64, 0);
	oe[1] = c_to_vnet4(&e[1], 10, 0, 64, 0);
	e[1].d[oe[1] + 10] ^= 0x55;
	memset(&e[2], 0, sizeof(e[2]));
	edge1(&e[2], MAC_EDGE, VLAN_CPRIV, 0x86dd);
	oe[2] = ip6(&e[2], 0, 17, 64, V6("2001:db8:1000::1").a, V6("fd00:1::5").a);
	udp(&e[2], 10);
	ip6_end(&e[2], oe[2]);
	memset(&e[3], 0, sizeof(e[3]));
	edge1(&e[3], MAC_EDGE, VLAN_CPUB, 0x0800);
	oe[3] = ip4(&e[3], (struct ip4o){.src = IP_CPUBPFX, .dst = IP_AZURE, .proto = 17});
	udp(&e[3], 10);
	ip4_end(&e[3], oe[3]);
	memset(&e[4], 0, sizeof(e[4]));
	edge1(&e[4], MAC_BCAST, VLAN_CPRIV, 0x0806);
	arp(&e[4], 1, MAC_A101, IP_CPRIV_PEER, MAC_ZERO, IP_CPRIV_US);
	oe[5] = c_udp4(&e[5], IP_ONPREM_C, IP4(8, 8, 8, 8), 10);
	send_burst(EDGE, e, 6);
	NOUT(EDGE, 1);
	NOUT(CORE, 3);
	if (nout[CORE] == 3) {
		/* Flows of one burst may leave in another order: the fast path (IPv4) queues
		 * its packets before the general path's (IPv6 here). Find each by content. */
		unsigned in, g4 = 3, g6 = 3, pl = 3;

		for (unsigned j = 0; j < 3; j++) {
			const uint8_t *d = out[CORE][j].d;

			if (d[14 + 9] != 47)
				pl = j;
			else if (rd16(d + 14 + 20 + 2) == 0x0800)
				g4 = j;
			else
				g6 = j;
		}
		CHECK(g4 < 3 && g6 < 3 && pl < 3, "one GRE4, one GRE6, one plain");
		if (g4 < 3 && g6 < 3 && pl < 3) {
			in = EXPECT_GRE(&out[CORE][g4], IP_TUN1, KEY_C, 0x0800, e[0].n - oe[0], 0,
					false);
			if (in)
				EXPECT_FWD4(out[CORE][g4].d + in, e[0].d + oe[0], e[0].n - oe[0]);
			in = EXPECT_GRE(&out[CORE][g6], IP_TUN1, KEY_C, 0x86dd, e[2].n - oe[2], 0,
					true);
			if (in)
				EXPECT_FWD6(out[CORE][g6].d + in, e[2].d + oe[2], e[2].n - oe[2]);
			CHECK_EQ(out[CORE][pl].n, 14 + e[3].n - oe[3]);
			EXPECT_FWD4(out[CORE][pl].d + 14, e[3].d + oe[3], e[3].n - oe[3]);
		}
	}
	if (nout[EDGE] == 1)
		CHECK_EQ(rd16(out[EDGE][0].d + 18 + 6), 2);
	DROPS(D(ip4_bad_cksum, 1) D(no_route, 1));
	EVENTS(E(gre_encap, 2) E(arp_reply_sent, 1));
	CHECK_EQ(w->c.port[P.pid[EDGE]].rx.pkts, 6);

	/* core burst: decap 1001, public prefix, decap 2002, wrong direction */
	fresh("core burst");
	oc[0] = cloud_gre4(&c[0], IP_TUN1, KEY_C, IP_VNET, IP_ONPREM_C, 10, 64);
	oc[1] = core_udp4(&c[1], IP_AZURE, IP_CPUBPFX, 10);
	oc[2] = cloud_gre4(&c[2], IP_TUN2, KEY_F, IP_VNET, IP_ONPREM_F, 10, 64);
	oc[3] = core_udp4(&c[3], IP_AZURE, IP4(8, 8, 8, 8), 10);
	send_burst(CORE, c, 4);
	NOUT(CORE, 0);
	NOUT(EDGE, 3);
	for (unsigned i = 0; i < nout[EDGE]; i++) {
		const struct pft_frame *f = &out[EDGE][i];

		if (rd16(f->d + 12) == 0x88a8) {
			seenq = true;
			EXPECT_FWD4(f->d + 22, c[2].d + oc[2], c[2].n - oc[2]);
		} else if (rd16(f->d + 14) == VLAN_CPRIV) {
			seen555 = true;
			EXPECT_FWD4(f->d + 18, c[0].d + oc[0], c[0].n - oc[0]);
		} else if (rd16(f->d + 14) == VLAN_CPUB) {
			seen556 = true;
			EXPECT_FWD4(f->d + 18, c[1].d + oc[1], c[1].n - oc[1]);
		}
	}
	CHECK(seen555 && seen556 && seenq, "edge frames: 555 %d 556 %d QinQ %d", seen555,
	      seen556, seenq);
	DROPS(D(wrong_dir, 1));
	EVENTS(E(gre_decap, 2));
}

static void
test_misc_forwarding(void)
{
	struct pb b;
	unsigned o, l3, len, in;
	static const uint8_t opts[4] = {0x94, 0x04, 0x00, 0x00};
	struct gref g;

	/* 802.1p priority and DEI bits do not change the context */
	pft_case = "VLAN 555 with PCP 5 + DEI";
	o = c_to_vnet4(&b, 40, 0, 64, 0);
	wr16(b.d + 14, 0xb000 | VLAN_CPRIV);
	len = b.n - o;
	send1(EDGE, &b);
	EXPECT_ENCAP_C4(&b, o, len);
	DROPS();

	/* an error about a packet from the cloud leaves through the core, from our core address */
	fresh("TTL 1 from the core to a public prefix");
	o = core_udp4(&b, IP_AZURE, IP_CPUBPFX, 20);
	b.d[o + 8] = 1;
	ip4_cksum_set(b.d + o);
	len = b.n - o;
	send1(CORE, &b);
	NOUT(EDGE, 0);
	NOUT(CORE, 1);
	l3 = EXPECT_CORE_L2(&out[CORE][0], 0x0800);
	CHECK_EQ(out[CORE][0].n, 14 + 28 + len);
	if (l3 && out[CORE][0].n == 14 + 28 + len) {
		const uint8_t *ip = out[CORE][0].d + l3;

		EXPECT_ICMP4_HDR(ip, 28 + len, IP_CORE, IP_AZURE);
		CHECK_EQ(ip[20], 11);
		CHECK_MEM(ip + 28, b.d + o, len);
	}
	DROPS(D(ttl_expired, 1));
	EVENTS(E(icmp_time_exceeded, 1));

	/* outer IPv4 options on the GRE packet from the cloud */
	fresh("GRE with outer IPv4 options");
	memset(&b, 0, sizeof(b));
	core0(&b, 0x0800);
	g.outer = ip4(&b, (struct ip4o){.src = IP_TUN1, .dst = IP_CORE, .proto = 47, .opt = opts,
					.optlen = sizeof(opts)});
	g.g = gre(&b, GRE_K, 0x0800, KEY_C);
	g.flags = GRE_K;
	in = ip4(&b, (struct ip4o){.src = IP_VNET, .dst = IP_ONPREM_C, .proto = 17});
	udp(&b, 20);
	ip4_end(&b, in);
	gre_end(&b, &g);
	len = b.n - in;
	send1(CORE, &b);
	EXPECT_DECAP_C4(&b, in);

	/* a transit fragment is forwarded like any packet */
	fresh("transit fragment");
	o = c_to_vnet4(&b, 40, 0x2000 | 3, 64, 0);
	len = b.n - o;
	send1(EDGE, &b);
	EXPECT_ENCAP_C4(&b, o, len);
	DROPS();
	EVENTS(E(gre_encap, 1));
}

/* TTL decrement with the incremental checksum update (RFC 1624) over every packet ID:
 * the checksum takes every value, and it must always equal a full recomputation, bit
 * for bit what RFC 1624 eqn. 3 gives (0x0000, not 0xffff, for a zero sum). First
 * pf_ip4_dec_ttl() alone on every checksum field value. */
static void
test_ttl_checksum_sweep(void)
{
	static struct pb b[32];
	unsigned bad = 0, sent = 0, got = 0, first_bad = 0;

	for (uint32_t v = 0; v < 65536; v++) {
		struct rte_ipv4_hdr h = {.time_to_live = 9, .next_proto_id = 17};
		rte_be16_t ck = rte_cpu_to_be_16((uint16_t)v), old, new_;

		memcpy(&old, &h.time_to_live, 2);
		h.hdr_checksum = ck;
		pf_ip4_dec_ttl(&h);
		memcpy(&new_, &h.time_to_live, 2);
		if (h.hdr_checksum != pf_cksum_update16(ck, old, new_) && bad++ == 0)
			first_bad = v;
	}
	CHECK(bad == 0, "pf_ip4_dec_ttl() differs from RFC 1624 eqn. 3 for %u checksums, first %#x",
	      bad, first_bad);
	bad = 0;

	for (uint32_t id = 0; id < 65536; id += 32) {
		for (unsigned k = 0; k < 32; k++) {
			unsigned o;

			memset(&b[k], 0, sizeof(b[k]));
			edge1(&b[k], MAC_EDGE, VLAN_CPUB, 0x0800);
			o = ip4(&b[k], (struct ip4o){.src = IP_CPUBPFX, .dst = IP_AZURE, .proto = 17,
						     .ttl = (uint8_t)(2 + (id / 32 + k) % 254)});
			wr16(b[k].d + o + 4, (uint16_t)(id + k));
			udp(&b[k], 0);
			ip4_end(&b[k], o);
		}
		nout[CORE] = 0;
		send_burst(EDGE, b, 32);
		sent += 32;
		for (unsigned k = 0; k < nout[CORE]; k++) {
			const uint8_t *ip = out[CORE][k].d + 14;

			got++;
			const uint8_t *in = b[k].d + 18;
			rte_be16_t ck_in, w_in, w_out;

			memcpy(&ck_in, in + 10, 2);
			memcpy(&w_in, in + 8, 2);
			memcpy(&w_out, ip + 8, 2);
			if (!ip4_cksum_ok(ip) || ip[8] != in[8] - 1 || rd16(ip + 4) != id + k ||
			    memcmp(ip + 10, &(rte_be16_t){pf_cksum_update16(ck_in, w_in, w_out)}, 2)) {
				if (bad++ == 0)
					first_bad = id + k;
			}
		}
	}
	CHECK_EQ(got, sent);
	CHECK(bad == 0, "%u forwarded headers with a wrong checksum/TTL, first with ID %u", bad,
	      first_bad);
	CHECK_EQ(w->c.drop[PF_DROP_ip4_bad_cksum], 0);
	nout[CORE] = 0;
}

static void
test_nd_solicit(void)
{
	struct pb b = {0};
	unsigned o;
	const uint8_t *ip;

	/* traffic to the IPv6 peer of the secondary link, whose MAC nobody told us */
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 17, 64, V6("2001:db8:1000::1").a, V6("2001:db8:a2::1").a);
	udp(&b, 10);
	ip6_end(&b, o);
	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	if (nout[EDGE] == 1) {
		static const uint8_t snm_mac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01};
		const struct pft_frame *f = &out[EDGE][0];

		CHECK_EQ(EXPECT_EDGE_L2(f, snm_mac, 1, 0x8100, VLAN_CPRIV, 0, 0x86dd), 18);
		CHECK_EQ(f->n, 18 + 40 + 32);
		ip = f->d + 18;
		if (f->n == 18 + 40 + 32) {
			CHECK_EQ(ip[0] >> 4, 6);
			CHECK_EQ(rd16(ip + 4), 32);
			CHECK_EQ(ip[6], 58);
			CHECK_EQ(ip[7], 255);
			CHECK_MEM(ip + 8, V6("2001:db8:a2::2").a, 16);
			CHECK_MEM(ip + 24, V6("ff02::1:ff00:1").a, 16);
			CHECK_EQ(ip[40], 135);
			CHECK_EQ(ip[41], 0);
			CHECK_EQ(rd32(ip + 44), 0);
			CHECK_MEM(ip + 48, V6("2001:db8:a2::1").a, 16);
			CHECK_EQ(ip[64], 1);
			CHECK_EQ(ip[65], 1);
			CHECK_MEM(ip + 66, MAC_EDGE, 6);
			CHECK(l4_cksum6_ok(ip), "NS checksum %04x is wrong", rd16(ip + 42));
		}
	}
	DROPS(D(neigh_unresolved, 1));
	EVENTS(E(nd_ns_sent, 1));

	/* its answer is handed to control */
	fresh("NA from the solicited peer");
	{
		struct pf_learn_msg msg;
		int ni = neigh_idx(cx_cpriv, 6, V6("2001:db8:a2::1").a);

		memset(&b, 0, sizeof(b));
		nd(&b, MAC_EDGE, 136, 255, V6("2001:db8:a2::1").a, V6("2001:db8:a2::2").a,
		   V6("2001:db8:a2::1").a, MAC_NEW, 0x60000000);
		send1(EDGE, &b);
		NOUT(EDGE, 0);
		DROPS();
		EVENTS(E(nd_learned, 1));
		if (rte_ring_dequeue_elem(P.learn, &msg, sizeof(msg)) == 0) {
			CHECK_EQ(msg.neigh, ni);
			CHECK_EQ(msg.mac, mac_u64(MAC_NEW));
		} else {
			pft_failf(__FILE__, __LINE__, "no learn message");
		}
	}

	/* an NS carries the solicitor's MAC in the SLLA option: answered to that MAC; the
	 * customer router's MAC is configured, so nothing is handed to control */
	fresh("NS with a new SLLA");
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 255, V6("2001:db8:a1::1").a, V6("ff02::1:ff00:2").a,
	   V6("2001:db8:a1::2").a, MAC_NEW, 0);
	send1(EDGE, &b);
	NOUT(EDGE, 1);
	if (nout[EDGE] == 1)
		EXPECT_NA(&out[EDGE][0], MAC_NEW, V6("2001:db8:a1::1").a, 0xe0000000);
	DROPS();
	EVENTS(E(nd_na_sent, 1));
	CHECK_EQ(rte_ring_count(P.learn), 0);
}

static void
test_echo_edge_cases(void)
{
	struct pb b = {0};
	unsigned o, len, l3;

	/* a minimal echo in a padded 60-byte frame: the reply is just the IP packet */
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 1, .ttl = 1});
	icmp4(&b, 8, 0, 5, 6, 0);
	ip4_end(&b, o);
	len = b.n - o;
	while (b.n < 60)
		u8(&b, 0xee);
	send1(EDGE, &b);
	NOUT(EDGE, 1);
	CHECK_EQ(out[EDGE][0].n, 18 + len);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_A101, 1, 0x8100, VLAN_CPRIV, 0, 0x0800);
	if (l3 && out[EDGE][0].n == 18 + len)
		EXPECT_ICMP4_HDR(out[EDGE][0].d + l3, len, IP_CPRIV_US, IP_CPRIV_PEER);
	DROPS(); /* TTL 1 does not matter for us: it is not forwarded */
	EVENTS(E(icmp_echo_reply, 1));

	/* QinQ received as 0x8100/0x8100: the reply goes back the way the request came */
	fresh("echo on QinQ 0x8100/0x8100");
	memset(&b, 0, sizeof(b));
	edge2(&b, 0x8100, S_TAG, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP4(172, 16, 3, 1), .dst = IP4(172, 16, 3, 2), .proto = 1});
	icmp4(&b, 8, 0, 5, 6, 10);
	ip4_end(&b, o);
	len = b.n - o;
	send1(EDGE, &b);
	NOUT(EDGE, 1);
	l3 = EXPECT_EDGE_L2(&out[EDGE][0], MAC_B201, 2, 0x8100, S_TAG, VLAN_CPRIV, 0x0800);
	if (l3 && out[EDGE][0].n == 22 + len)
		EXPECT_ICMP4_HDR(out[EDGE][0].d + l3, len, IP4(172, 16, 3, 2), IP4(172, 16, 3, 1));
	else
		pft_failf(__FILE__, __LINE__, "reply of %u bytes", out[EDGE][0].n);
	DROPS();
	EVENTS(E(icmp_echo_reply, 1));
}

/* ------------------------------------------------------------------------------------ */
/* Drops: each case moves exactly its counter                                           */

/* Send b; exactly drop counter r moves (to 1), nothing is sent, no event but ev (-1: none). */
static void
drop_case_ev(const char *label, int port, const struct pb *b, enum pf_drop r, int ev)
{
	fresh(label);
	send1(port, b);
	NOUT(EDGE, 0);
	NOUT(CORE, 0);
	for (unsigned i = 0; i < PF_DROP_MAX; i++)
		if (w->c.drop[i] != (i == (unsigned)r ? 1u : 0u))
			pft_failf(__FILE__, __LINE__, "drop counter %s = %llu, expected %u", pf_drop_names[i],
			          (unsigned long long)w->c.drop[i], i == (unsigned)r);
	for (unsigned i = 0; i < PF_EV_MAX; i++)
		if (w->c.event[i] != ((int)i == ev ? 1u : 0u))
			pft_failf(__FILE__, __LINE__, "event %s = %llu, expected %u", pf_event_names[i],
			          (unsigned long long)w->c.event[i], (int)i == ev);
	CU_PASS(label);
	pft_case = "";
}

static void
drop_case(const char *label, int port, const struct pb *b, enum pf_drop r)
{
	drop_case_ev(label, port, b, r, -1);
}

static void
test_drop_runt(void)
{
	struct pb b;
	struct gref g;
	unsigned o;

	c_to_vnet4(&b, 20, 0, 64, 0);
	b.n = 13;
	drop_case("runt: Ethernet header", EDGE, &b, PF_DROP_runt);
	b.n = 14;
	drop_case("runt: 802.1Q tag missing", EDGE, &b, PF_DROP_runt);
	b.n = 17;
	drop_case("runt: 802.1Q tag cut", EDGE, &b, PF_DROP_runt);
	b.n = 18 + 19;
	drop_case("runt: IPv4 header cut", EDGE, &b, PF_DROP_runt);

	memset(&b, 0, sizeof(b));
	edge2(&b, 0x88a8, S_TAG, VLAN_CPRIV, 0x0800);
	b.n = 20;
	drop_case("runt: QinQ inner tag cut", EDGE, &b, PF_DROP_runt);

	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 17, 64, V6("2001:db8:1000::1").a, V6("fd00:1::5").a);
	ip6_end(&b, o);
	b.n = 18 + 39;
	drop_case("runt: IPv6 header cut", EDGE, &b, PF_DROP_runt);

	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_BCAST, VLAN_CPRIV, 0x0806);
	arp(&b, 1, MAC_A101, IP_CPRIV_PEER, MAC_ZERO, IP_CPRIV_US);
	b.n = 18 + 27;
	drop_case("runt: ARP cut", EDGE, &b, PF_DROP_runt);

	core_udp4(&b, IP_AZURE, IP_CPUBPFX, 10);
	b.n = 13;
	drop_case("runt: core Ethernet header", CORE, &b, PF_DROP_runt);
	b.n = 14 + 12;
	drop_case("runt: core IPv4 header cut", CORE, &b, PF_DROP_runt);

	/* GRE shorter than its flags say (the outer IPv4 total length covers only that) */
	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_K, 0x0800, KEY_C);
	b.n = g.g + 2;
	ip4_end(&b, g.outer);
	drop_case("runt: GRE base header cut", CORE, &b, PF_DROP_runt);
	b.n = g.g + 6;
	ip4_end(&b, g.outer);
	drop_case("runt: GRE key cut", CORE, &b, PF_DROP_runt);

	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_K | GRE_S, 0x0800, KEY_C);
	b.n = g.g + 10;
	ip4_end(&b, g.outer);
	drop_case("runt: GRE sequence number cut", CORE, &b, PF_DROP_runt);

	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_C | GRE_K, 0x0800, KEY_C);
	b.n = g.g + 10;
	ip4_end(&b, g.outer);
	drop_case("runt: GRE checksum + key cut", CORE, &b, PF_DROP_runt);
}

static void
test_drop_rx_oversize(void)
{
	struct pb b;
	struct rte_mbuf *m1, *m2;
	unsigned o = c_to_vnet4(&b, 1501 - 28, 0, 64, 0);

	CHECK_EQ(b.n - o, 1501);
	drop_case("rx_oversize: edge 1501", EDGE, &b, PF_DROP_rx_oversize);
	o = core_udp4(&b, IP_AZURE, IP_CPUBPFX, 1501 - 28);
	drop_case("rx_oversize: core 1501", CORE, &b, PF_DROP_rx_oversize);

	/* a segmented frame */
	fresh("rx_oversize: two segments");
	c_to_vnet4(&b, 100, 0, 64, 0);
	m1 = rte_pktmbuf_alloc(P.pool);
	m2 = rte_pktmbuf_alloc(P.pool);
	if (m1 == NULL || m2 == NULL) {
		rte_pktmbuf_free(m1);
		rte_pktmbuf_free(m2);
		pft_failf(__FILE__, __LINE__, "no mbufs");
		return;
	}
	memcpy(rte_pktmbuf_append(m1, 60), b.d, 60);
	memcpy(rte_pktmbuf_append(m2, (uint16_t)(b.n - 60)), b.d + 60, b.n - 60);
	if (rte_pktmbuf_chain(m1, m2) != 0) {
		rte_pktmbuf_free(m1);
		rte_pktmbuf_free(m2);
		pft_failf(__FILE__, __LINE__, "chain");
		return;
	}
	pft_input(&P, EDGE, &m1, 1);
	collect();
	NOUT(CORE, 0);
	DROPS(D(rx_oversize, 1));
	EVENTS();

	/* 1500 is fine */
	fresh("edge 1500 with DF clear fragments instead");
	c_to_vnet4(&b, 1500 - 28, 0, 64, 0);
	send1(EDGE, &b);
	CHECK_EQ(w->c.drop[PF_DROP_rx_oversize], 0);
}

static void
test_drop_l2(void)
{
	struct pb b;
	unsigned o;

	c_to_vnet4(&b, 10, 0, 64, 0);
	memcpy(b.d, MAC_OTHER, 6);
	drop_case("l2_not_ours: edge", EDGE, &b, PF_DROP_l2_not_ours);
	core_udp4(&b, IP_AZURE, IP_CPUBPFX, 10);
	memcpy(b.d, MAC_EDGE, 6); /* the other port's MAC */
	drop_case("l2_not_ours: core", CORE, &b, PF_DROP_l2_not_ours);

	memset(&b, 0, sizeof(b));
	l2(&b, MAC_EDGE, MAC_A101);
	u16(&b, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_ONPREM_C, .dst = IP_VNET, .proto = 17});
	udp(&b, 10);
	ip4_end(&b, o);
	drop_case("untagged: IPv4", EDGE, &b, PF_DROP_untagged);
	memset(&b, 0, sizeof(b));
	l2(&b, MAC_BCAST, MAC_A101);
	u16(&b, 0x0806);
	arp(&b, 1, MAC_A101, IP_CPRIV_PEER, MAC_ZERO, IP_CPRIV_US);
	drop_case("untagged: ARP", EDGE, &b, PF_DROP_untagged);

	c_to_vnet4(&b, 10, 0, 64, 0);
	wr16(b.d + 14, 999);
	drop_case("unknown_vlan: VLAN 999", EDGE, &b, PF_DROP_unknown_vlan);
	wr16(b.d + 14, S_TAG);
	drop_case("unknown_vlan: S-tag value as a C-tag", EDGE, &b, PF_DROP_unknown_vlan);
	wr16(b.d + 12, 0x88a8);
	wr16(b.d + 14, S_TAG);
	drop_case("unknown_vlan: S-tag alone", EDGE, &b, PF_DROP_unknown_vlan);

	memset(&b, 0, sizeof(b));
	edge2(&b, 0x88a8, S_TAG, 999, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_ONPREM_F, .dst = IP_VNET, .proto = 17});
	udp(&b, 10);
	ip4_end(&b, o);
	drop_case("unknown_vlan: QinQ 100/999", EDGE, &b, PF_DROP_unknown_vlan);
	wr16(b.d + 14, 200);
	wr16(b.d + 18, VLAN_CPRIV);
	drop_case("unknown_vlan: QinQ 200/555", EDGE, &b, PF_DROP_unknown_vlan);

	memset(&b, 0, sizeof(b));
	l2(&b, MAC_CORE, MAC_GW);
	u16(&b, 0x8100);
	u16(&b, VLAN_CPRIV);
	u16(&b, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_AZURE, .dst = IP_CPUBPFX, .proto = 17});
	udp(&b, 10);
	ip4_end(&b, o);
	drop_case("unknown_vlan: tagged on the core", CORE, &b, PF_DROP_unknown_vlan);

	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_BCAST, VLAN_CPRIV, 0x88cc);
	payload(&b, 40, 1);
	drop_case("bad_ethertype: LLDP on VLAN 555", EDGE, &b, PF_DROP_bad_ethertype);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x88a8);
	payload(&b, 40, 1);
	drop_case("bad_ethertype: 0x88a8 under a C-tag", EDGE, &b, PF_DROP_bad_ethertype);
	memset(&b, 0, sizeof(b));
	core0(&b, 0x88cc);
	payload(&b, 40, 1);
	drop_case("bad_ethertype: core", CORE, &b, PF_DROP_bad_ethertype);
}

static void
test_drop_ip4_header(void)
{
	struct pb b;
	unsigned o = c_to_vnet4(&b, 20, 0, 64, 0);
	uint8_t *ip = b.d + o;

	ip[0] = 0x55;
	ip4_cksum_set(ip);
	drop_case("ip4_bad_version: 5", EDGE, &b, PF_DROP_ip4_bad_version);
	ip[0] = 0x65;
	ip4_cksum_set(ip);
	drop_case("ip4_bad_version: 6 in 0x0800", EDGE, &b, PF_DROP_ip4_bad_version);

	o = c_to_vnet4(&b, 20, 0, 64, 0);
	ip = b.d + o;
	ip[0] = 0x44;
	drop_case("ip4_bad_ihl: 16 bytes", EDGE, &b, PF_DROP_ip4_bad_ihl);
	ip[0] = 0x4f; /* 60 bytes, 48 available */
	drop_case("ip4_bad_ihl: beyond the frame", EDGE, &b, PF_DROP_ip4_bad_ihl);

	o = c_to_vnet4(&b, 20, 0, 64, 0);
	ip = b.d + o;
	wr16(ip + 2, 19);
	ip4_cksum_set(ip);
	drop_case("ip4_bad_len: below the header", EDGE, &b, PF_DROP_ip4_bad_len);
	wr16(ip + 2, 49);
	ip4_cksum_set(ip);
	drop_case("ip4_bad_len: beyond the frame", EDGE, &b, PF_DROP_ip4_bad_len);

	o = c_to_vnet4(&b, 20, 0, 64, 0);
	b.d[o + 10] ^= 0x01;
	drop_case("ip4_bad_cksum", EDGE, &b, PF_DROP_ip4_bad_cksum);
	o = cloud_gre4(&b, IP_TUN1, KEY_C, IP_VNET, IP_ONPREM_C, 10, 64);
	b.d[o + 11] ^= 0x80;
	drop_case_ev("ip4_bad_cksum: inner", CORE, &b, PF_DROP_ip4_bad_cksum, PF_EV_gre_decap);

	static const uint32_t martians[] = {IP4(0, 1, 2, 3), IP4(127, 0, 0, 1), IP4(224, 0, 0, 5),
					    IP4(240, 0, 0, 1), IP4(255, 255, 255, 255)};
	for (unsigned i = 0; i < RTE_DIM(martians); i++) {
		char label[64];

		o = c_to_vnet4(&b, 20, 0, 64, 0);
		wr32(b.d + o + 12, martians[i]);
		ip4_cksum_set(b.d + o);
		snprintf(label, sizeof(label), "ip4_bad_src: %u.%u.%u.%u", martians[i] >> 24,
			 (martians[i] >> 16) & 0xff, (martians[i] >> 8) & 0xff, martians[i] & 0xff);
		drop_case(label, EDGE, &b, PF_DROP_ip4_bad_src);
	}
}

static void
test_drop_ip6_header(void)
{
	struct pb b = {0};
	unsigned o;

	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 17, 64, V6("2001:db8:1000::1").a, V6("fd00:1::5").a);
	udp(&b, 8);
	ip6_end(&b, o);
	b.d[o] = 0x40;
	drop_case("ip6_bad_version: 4 in 0x86dd", EDGE, &b, PF_DROP_ip6_bad_version);
	b.d[o] = 0x60;
	wr16(b.d + o + 4, 17);
	drop_case("ip6_bad_len: 1 byte beyond the frame", EDGE, &b, PF_DROP_ip6_bad_len);
	wr16(b.d + o + 4, 16);
	memcpy(b.d + o + 8, V6("::1").a, 16);
	drop_case("ip6_bad_src: ::1", EDGE, &b, PF_DROP_ip6_bad_src);
	memcpy(b.d + o + 8, V6("::").a, 16);
	drop_case("ip6_bad_src: ::", EDGE, &b, PF_DROP_ip6_bad_src);
	memcpy(b.d + o + 8, V6("ff02::1").a, 16);
	drop_case("ip6_bad_src: ff02::1", EDGE, &b, PF_DROP_ip6_bad_src);
}

static void
test_drop_routing(void)
{
	struct pb b;
	unsigned o;

	c_udp4(&b, IP_ONPREM_C, IP4(8, 8, 8, 8), 10);
	drop_case("no_route: private context has no default", EDGE, &b, PF_DROP_no_route);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPUB, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPUBPFX, .dst = IP_VNET, .proto = 17});
	udp(&b, 10);
	ip4_end(&b, o);
	drop_case("no_route: VNet from the public context", EDGE, &b, PF_DROP_no_route);

	c_udp4(&b, IP_ONPREM_C, IP_BLACKHOLE, 10);
	drop_case("blackhole: 10.99.0.0/16 via drop", EDGE, &b, PF_DROP_blackhole);

	core_udp4(&b, IP4(1, 1, 1, 1), IP4(8, 8, 8, 8), 10);
	drop_case("wrong_dir: core -> core default", CORE, &b, PF_DROP_wrong_dir);
	core_udp4(&b, IP4(1, 1, 1, 1), IP_VNET, 10);
	drop_case("wrong_dir: core -> a VNet address (core context has no VNet)", CORE, &b,
		  PF_DROP_wrong_dir);
	memset(&b, 0, sizeof(b));
	core0(&b, 0x86dd);
	o = ip6(&b, 0, 17, 64, V6("2001:db8:ffff::1").a, V6("2001:db8:eeee::1").a);
	udp(&b, 10);
	ip6_end(&b, o);
	drop_case("wrong_dir: IPv6 core -> core default", CORE, &b, PF_DROP_wrong_dir);
	/* a decapsulated packet must not go back into a tunnel either */
	cloud_gre4(&b, IP_TUN1, KEY_C, IP4(10, 0, 2, 2), IP_VNET, 10, 64);
	fresh("wrong_dir: GRE from the cloud to a VNet");
	send1(CORE, &b);
	NOUT(CORE, 0);
	DROPS(D(wrong_dir, 1));
	EVENTS(E(gre_decap, 1));
}

static void
test_drop_neigh_unresolved(void)
{
	struct pb b;
	const uint8_t *a;

	c_udp4(&b, IP_ONPREM_C, IP_CPRIV2_PEER, 10);
	send1(EDGE, &b);
	NOUT(CORE, 0);
	NOUT(EDGE, 1);
	if (nout[EDGE] == 1) {
		const struct pft_frame *f = &out[EDGE][0];

		CHECK_EQ(EXPECT_EDGE_L2(f, MAC_BCAST, 1, 0x8100, VLAN_CPRIV, 0, 0x0806), 18);
		CHECK_EQ(f->n, 18 + 28);
		a = f->d + 18;
		CHECK_EQ(rd16(a), 1);
		CHECK_EQ(rd16(a + 2), 0x0800);
		CHECK_EQ(rd16(a + 6), 1);
		CHECK_MEM(a + 8, MAC_EDGE, 6);
		CHECK_EQ(rd32(a + 14), IP_CPRIV2_US);
		CHECK_MEM(a + 18, MAC_ZERO, 6);
		CHECK_EQ(rd32(a + 24), IP_CPRIV2_PEER);
	}
	DROPS(D(neigh_unresolved, 1));
	EVENTS(E(arp_request_sent, 1));

	/* at most one request a second per neighbor */
	nout[EDGE] = 0;
	send1(EDGE, &b);
	NOUT(EDGE, 0);
	DROPS(D(neigh_unresolved, 2));
	EVENTS(E(arp_request_sent, 1));
}

static void
test_drop_gre(void)
{
	struct pb b;
	struct gref g;
	unsigned in;

	cloud_gre4(&b, IP_TUN1, 9999, IP_VNET, IP_ONPREM_C, 10, 64);
	drop_case("gre_unknown_key: 9999", CORE, &b, PF_DROP_gre_unknown_key);
	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, 0, 0x0800, 0);
	in = ip4(&b, (struct ip4o){.src = IP_VNET, .dst = IP_ONPREM_C, .proto = 17});
	udp(&b, 10);
	ip4_end(&b, in);
	gre_end(&b, &g);
	drop_case("gre_unknown_key: no key", CORE, &b, PF_DROP_gre_unknown_key);

	cloud_gre4(&b, IP_TUN2, KEY_C, IP_VNET, IP_ONPREM_C, 10, 64);
	drop_case("gre_bad_endpoint: 1001 from 198.51.100.2", CORE, &b, PF_DROP_gre_bad_endpoint);
	cloud_gre4(&b, IP_TUN1, KEY_F, IP_VNET, IP_ONPREM_F, 10, 64);
	drop_case("gre_bad_endpoint: 2002 from 198.51.100.1", CORE, &b, PF_DROP_gre_bad_endpoint);
	cloud_gre4(&b, IP4(203, 0, 113, 9), KEY_C, IP_VNET, IP_ONPREM_C, 10, 64);
	drop_case("gre_bad_endpoint: 1001 from a stranger", CORE, &b, PF_DROP_gre_bad_endpoint);

	static const struct { uint16_t flags, proto; const char *what; } bad[] = {
		{GRE_K | 1, 0x0800, "gre_bad_header: version 1"},
		{GRE_K | 0x4000, 0x0800, "gre_bad_header: routing present"},
		{GRE_K | 0x0800, 0x0800, "gre_bad_header: strict source route"},
		{GRE_K | 0x0008, 0x0800, "gre_bad_header: reserved0 bit 12"},
		{GRE_K, 0x6558, "gre_bad_header: transparent Ethernet bridging"},
		{GRE_K, 0x0806, "gre_bad_header: ARP"},
	};
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		memset(&b, 0, sizeof(b));
		gre_begin(&b, &g, IP_TUN1, bad[i].flags, bad[i].proto, KEY_C);
		in = ip4(&b, (struct ip4o){.src = IP_VNET, .dst = IP_ONPREM_C, .proto = 17});
		udp(&b, 10);
		ip4_end(&b, in);
		gre_end(&b, &g);
		drop_case(bad[i].what, CORE, &b, PF_DROP_gre_bad_header);
	}
	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_C | GRE_K, 0x0800, KEY_C);
	in = ip4(&b, (struct ip4o){.src = IP_VNET, .dst = IP_ONPREM_C, .proto = 17});
	udp(&b, 10);
	ip4_end(&b, in);
	gre_end(&b, &g);
	b.d[g.g + 5] ^= 0x40;
	drop_case("gre_bad_header: wrong GRE checksum", CORE, &b, PF_DROP_gre_bad_header);

	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_K, 0x0800, KEY_C);
	payload(&b, 12, 0x45);
	gre_end(&b, &g);
	drop_case_ev("gre_bad_inner: 12-byte inner IPv4", CORE, &b, PF_DROP_gre_bad_inner,
		     PF_EV_gre_decap);
	memset(&b, 0, sizeof(b));
	gre_begin(&b, &g, IP_TUN1, GRE_K, 0x86dd, KEY_C);
	payload(&b, 30, 0x60);
	gre_end(&b, &g);
	drop_case_ev("gre_bad_inner: 30-byte inner IPv6", CORE, &b, PF_DROP_gre_bad_inner,
		     PF_EV_gre_decap);
}

static void
test_drop_local(void)
{
	struct pb b = {0};
	unsigned o;
	static const uint8_t nops[4] = {1, 1, 1, 0};

	core0(&b, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_GW, .dst = IP_CORE, .proto = 17, .frag = 0x2000});
	udp(&b, 10);
	ip4_end(&b, o);
	drop_case("frag_for_us: first fragment", CORE, &b, PF_DROP_frag_for_us);
	wr16(b.d + o + 6, 185);
	ip4_cksum_set(b.d + o);
	drop_case("frag_for_us: last fragment", CORE, &b, PF_DROP_frag_for_us);
	memset(&b, 0, sizeof(b));
	core0(&b, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_TUN1, .dst = IP_CORE, .proto = 47, .frag = 0x2000});
	gre(&b, GRE_K, 0x0800, KEY_C);
	payload(&b, 40, 3);
	ip4_end(&b, o);
	drop_case("frag_for_us: fragmented GRE", CORE, &b, PF_DROP_frag_for_us);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 1, .frag = 0x2000});
	icmp4(&b, 8, 0, 1, 1, 40);
	ip4_end(&b, o);
	drop_case("frag_for_us: fragmented echo", EDGE, &b, PF_DROP_frag_for_us);
	memset(&b, 0, sizeof(b));
	core0(&b, 0x86dd);
	o = ip6(&b, 0, 44, 64, V6("2001:db8:c0::fe").a, V6("2001:db8:c0::1").a);
	u8(&b, 17); u8(&b, 0); u16(&b, 1); u32(&b, 0x1234);
	udp(&b, 10);
	ip6_end(&b, o);
	drop_case("frag_for_us: IPv6 fragment header", CORE, &b, PF_DROP_frag_for_us);

	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 6});
	payload(&b, 20, 9);
	ip4_end(&b, o);
	drop_case("not_for_us: TCP (BGP) to our address", EDGE, &b, PF_DROP_not_for_us);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 47});
	gre(&b, GRE_K, 0x0800, KEY_C);
	payload(&b, 20, 0x45);
	ip4_end(&b, o);
	drop_case("not_for_us: GRE to an edge address", EDGE, &b, PF_DROP_not_for_us);
	memset(&b, 0, sizeof(b));
	core0(&b, 0x86dd);
	o = ip6(&b, 0, 47, 64, V6("2001:db8:c0::fe").a, V6("2001:db8:c0::1").a);
	gre(&b, GRE_K, 0x0800, KEY_C);
	payload(&b, 20, 0x45);
	ip6_end(&b, o);
	drop_case("not_for_us: GRE over IPv6", CORE, &b, PF_DROP_not_for_us);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_ALLNODES, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 17, 1, V6("2001:db8:a1::1").a, V6("ff02::1").a);
	udp(&b, 10);
	ip6_end(&b, o);
	drop_case("not_for_us: IPv6 multicast UDP", EDGE, &b, PF_DROP_not_for_us);

	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 1});
	icmp4(&b, 13, 0, 1, 1, 12);
	ip4_end(&b, o);
	drop_case("icmp_unhandled: timestamp", EDGE, &b, PF_DROP_icmp_unhandled);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 1});
	icmp4(&b, 8, 0, 1, 1, 12);
	ip4_end(&b, o);
	b.d[o + 22] ^= 1;
	drop_case("icmp_unhandled: echo with a wrong checksum", EDGE, &b, PF_DROP_icmp_unhandled);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 1});
	icmp4(&b, 0, 0, 1, 1, 12);
	ip4_end(&b, o);
	drop_case("icmp_unhandled: echo reply", EDGE, &b, PF_DROP_icmp_unhandled);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 58, 64, V6("2001:db8:a1::1").a, V6("2001:db8:a1::2").a);
	icmp6(&b, 1, 4, 0, 0, 48);
	ip6_end(&b, o);
	l4_cksum6_set(&b, o, 2);
	drop_case("icmp_unhandled: ICMPv6 unreachable", EDGE, &b, PF_DROP_icmp_unhandled);
	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x86dd);
	o = ip6(&b, 0, 58, 64, V6("2001:db8:a1::1").a, V6("2001:db8:a1::2").a);
	icmp6(&b, 128, 0, 0, 0, 8);
	ip6_end(&b, o);
	l4_cksum6_set(&b, o, 2);
	b.d[o + 43] ^= 1;
	drop_case("icmp_unhandled: ICMPv6 echo with a wrong checksum", EDGE, &b,
		  PF_DROP_icmp_unhandled);

	memset(&b, 0, sizeof(b));
	edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0800);
	o = ip4(&b, (struct ip4o){.src = IP_CPRIV_PEER, .dst = IP_CPRIV_US, .proto = 1, .opt = nops,
				  .optlen = 4});
	icmp4(&b, 8, 0, 1, 1, 12);
	ip4_end(&b, o);
	drop_case("ip_options: echo with options", EDGE, &b, PF_DROP_ip_options);
}

static void
test_drop_arp_nd(void)
{
	struct pb b = {0};

	edge1(&b, MAC_BCAST, VLAN_CPRIV, 0x0806);
	arp(&b, 1, MAC_A101, IP_CPRIV_PEER, MAC_ZERO, IP_CPRIV_US);
	b.d[18 + 1] = 6; /* hardware type 6 */
	drop_case("arp_bad: hardware type", EDGE, &b, PF_DROP_arp_bad);
	b.d[18 + 1] = 1;
	b.d[18 + 4] = 8;
	drop_case("arp_bad: hardware length", EDGE, &b, PF_DROP_arp_bad);
	b.d[18 + 4] = 6;
	wr16(b.d + 18 + 6, 3);
	drop_case("arp_bad: opcode 3", EDGE, &b, PF_DROP_arp_bad);
	wr16(b.d + 18 + 6, 1);
	wr32(b.d + 18 + 24, IP4(172, 16, 1, 3));
	drop_case("arp_bad: request for someone else", EDGE, &b, PF_DROP_arp_bad);
	wr32(b.d + 18 + 24, IP_CPUB_US);
	drop_case("arp_bad: request for the public context's address on VLAN 555", EDGE, &b,
		  PF_DROP_arp_bad);

	const struct in6 us = V6("2001:db8:a1::2"), peer = V6("2001:db8:a1::1"),
			 snm = V6("ff02::1:ff00:2");
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 64, peer.a, snm.a, us.a, MAC_A101, 0);
	drop_case("nd_bad: hop limit 64", EDGE, &b, PF_DROP_nd_bad);
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 255, peer.a, snm.a, us.a, MAC_A101, 0);
	b.d[18 + 41] = 1;
	l4_cksum6_set(&b, 18, 2);
	drop_case("nd_bad: code 1", EDGE, &b, PF_DROP_nd_bad);
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 255, peer.a, snm.a, us.a, MAC_A101, 0);
	b.d[18 + 42] ^= 1;
	drop_case("nd_bad: wrong checksum", EDGE, &b, PF_DROP_nd_bad);
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 255, peer.a, snm.a, us.a, MAC_A101, 0);
	b.d[18 + 40 + 24 + 1] = 0;
	l4_cksum6_set(&b, 18, 2);
	drop_case("nd_bad: option length 0", EDGE, &b, PF_DROP_nd_bad);
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 255, peer.a, snm.a, V6("ff02::1").a, MAC_A101, 0);
	drop_case("nd_bad: multicast target", EDGE, &b, PF_DROP_nd_bad);
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 255, V6("2001:db8:a1::3").a, V6("ff02::1:ff00:1").a, peer.a,
	   MAC_A101, 0);
	drop_case("nd_bad: NS for someone else", EDGE, &b, PF_DROP_nd_bad);
	memset(&b, 0, sizeof(b));
	nd(&b, MAC_SNM2, 135, 255, peer.a, snm.a, us.a, MAC_A101, 0);
	wr16(b.d + 14, VLAN_CPUB);
	drop_case("nd_bad: NS for contoso-private's address on VLAN 556", EDGE, &b, PF_DROP_nd_bad);
}

/* Take every mbuf of the pool; the caller gives them back. */
static unsigned
hoard(struct rte_mbuf **h)
{
	unsigned n = 0;
	struct rte_mbuf *m;

	while (n < POOL_SIZE && (m = rte_pktmbuf_alloc(P.pool)) != NULL)
		h[n++] = m;
	return n;
}

static void
test_drop_resources(void)
{
	static struct rte_mbuf *h[POOL_SIZE];
	struct pb b;
	struct rte_mbuf *m;
	unsigned n;
	static int dummy;
	void *obj;
	uint64_t per_token;

	/* no mbuf for the ICMP error */
	pft_case = "no_mbuf: time exceeded";
	c_to_vnet4(&b, 20, 0, 1, 0);
	m = pft_frame_mbuf(&P, b.d, b.n);
	n = hoard(h);
	pft_input(&P, EDGE, &m, 1);
	rte_pktmbuf_free_bulk(h, n);
	collect();
	NOUT(EDGE, 0);
	DROPS(D(ttl_expired, 1) D(no_mbuf, 1));
	EVENTS();

	/* no mbuf for the fragments */
	fresh("frag_failed: no mbufs");
	c_to_vnet4(&b, 1500 - 28, 0, 64, 0);
	m = pft_frame_mbuf(&P, b.d, b.n);
	n = hoard(h);
	pft_input(&P, EDGE, &m, 1);
	rte_pktmbuf_free_bulk(h, n);
	collect();
	NOUT(CORE, 0);
	DROPS(D(frag_failed, 1));
	EVENTS();

	/* the ICMP token bucket is empty */
	fresh("icmp_rate_limited");
	per_token = w->icmp_tsc_per_token;
	w->icmp_tokens = 0;
	w->icmp_last_tsc = rte_rdtsc();
	w->icmp_tsc_per_token = UINT64_MAX / 4;
	c_to_vnet4(&b, 20, 0, 1, 0);
	send1(EDGE, &b);
	w->icmp_tsc_per_token = per_token;
	NOUT(EDGE, 0);
	DROPS(D(ttl_expired, 1) D(icmp_rate_limited, 1));
	EVENTS();

	/* the TX queue is full */
	fresh("tx_full");
	n = 0;
	while (rte_ring_enqueue(P.tx[CORE], &dummy) == 0)
		n++;
	c_to_vnet4(&b, 20, 0, 64, 0);
	m = pft_frame_mbuf(&P, b.d, b.n);
	pft_input(&P, EDGE, &m, 1);
	while (rte_ring_dequeue(P.tx[CORE], &obj) == 0) {
		CHECK(obj == &dummy, "an mbuf got into a full ring");
		if (obj != &dummy)
			rte_pktmbuf_free(obj);
		n--;
	}
	CHECK_EQ(n, 0);
	DROPS(D(tx_full, 1));
	EVENTS(E(gre_encap, 1));
	CHECK_EQ(w->c.port[P.pid[CORE]].tx.pkts, 0);

	/* the learn ring is full */
	fresh("punt_full");
	{
		struct pf_learn_msg d = {.neigh = UINT32_MAX, .mac = 0}, msg;

		while (rte_ring_enqueue_elem(P.learn, &d, sizeof(d)) == 0)
			;
		memset(&b, 0, sizeof(b));
		edge1(&b, MAC_EDGE, VLAN_CPRIV, 0x0806);
		arp(&b, 2, MAC_NEW, IP_CPRIV2_PEER, MAC_EDGE, IP_CPRIV2_US);
		send1(EDGE, &b);
		DROPS(D(punt_full, 1));
		EVENTS();
		while (rte_ring_dequeue_elem(P.learn, &msg, sizeof(msg)) == 0)
			CHECK_EQ(msg.neigh, UINT32_MAX);
	}
}

/* Registered last: every mbuf is back in the pool. */
static void
test_no_mbuf_leak(void)
{
	collect();
	for (uint16_t p = 0; p < PF_MAX_PORTS; p++)
		CHECK_EQ(w->tx[p].n, 0);
	CHECK_EQ(rte_ring_count(P.tx[EDGE]), 0);
	CHECK_EQ(rte_ring_count(P.tx[CORE]), 0);
	CHECK_EQ(rte_mempool_avail_count(P.pool), POOL_SIZE);
	CHECK_EQ(rte_mempool_in_use_count(P.pool), 0);
}

int
main(void)
{
	static const CU_TestInfo tests[] = {
		{"tables_sane", test_tables_sane},
		{"vlan555_gre_ipv4", test_vlan555_gre_ipv4},
		{"vlan555_gre_ipv6", test_vlan555_gre_ipv6},
		{"vlan556_plain_core", test_vlan556_plain_core},
		{"qinq_gre", test_qinq_gre},
		{"gre_decap_1001", test_gre_decap_1001},
		{"gre_decap_2002_qinq", test_gre_decap_2002_qinq},
		{"gre_isolation", test_gre_isolation},
		{"gre_optional_fields", test_gre_optional_fields},
		{"arp_request_reply", test_arp_request_reply},
		{"arp_nd_learn", test_arp_nd_learn},
		{"icmp_echo", test_icmp_echo},
		{"nd_ns_na", test_nd_ns_na},
		{"nd_ns_unicast_no_slla", test_nd_ns_unicast_no_slla},
		{"nd_dad", test_nd_dad},
		{"ttl_time_exceeded", test_ttl_time_exceeded},
		{"df_frag_needed", test_df_frag_needed},
		{"fragmentation", test_fragmentation},
		{"padding_trimmed", test_padding_trimmed},
		{"ip4_options_forwarded", test_ip4_options_forwarded},
		{"burst_mixed", test_burst_mixed},
		{"misc_forwarding", test_misc_forwarding},
		{"ttl_checksum_sweep", test_ttl_checksum_sweep},
		{"nd_solicit", test_nd_solicit},
		{"echo_edge_cases", test_echo_edge_cases},
		{"drop_runt", test_drop_runt},
		{"drop_rx_oversize", test_drop_rx_oversize},
		{"drop_l2", test_drop_l2},
		{"drop_ip4_header", test_drop_ip4_header},
		{"drop_ip6_header", test_drop_ip6_header},
		{"drop_routing", test_drop_routing},
		{"drop_neigh_unresolved", test_drop_neigh_unresolved},
		{"drop_gre", test_drop_gre},
		{"drop_local", test_drop_local},
		{"drop_arp_nd", test_drop_arp_nd},
		{"drop_resources", test_drop_resources},
		{"no_mbuf_leak", test_no_mbuf_leak},
	};

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (pft_cunit_suite("dataplane", suite_init, suite_clean, test_setup, test_teardown, tests,
			    RTE_DIM(tests)) < 0)
		return pft_cunit_fail();
	return pft_cunit_run();
}
