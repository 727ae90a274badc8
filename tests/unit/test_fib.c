/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the multi-context FIB (common/fib.c): add/replace/delete with covering
 * route restore in both families, argument checks, nested prefixes in every order,
 * expansion, restore and collapse inside the IPv4 plies of every level,
 * context isolation, bulk == scalar, memory returned by ply collapse and root release,
 * walk, flush, out-of-memory atomicity, a randomized differential test against a naive
 * LPM, and readers racing a churning writer under QSBR (without EAL on the built-in
 * deferral FIFO, then with EAL on DPDK's rte_rcu_qsbr_dq when EAL can start here).
 *
 * Every test that involves IPv4 runs twice, once per IPv4 ply width (suites "fib4_ply8",
 * 256-entry plies, the default, and "fib4_ply4", 16-entry plies: struct fib_conf
 * .ply4_bits); IPv6-only ones run once (suite "fib").
 *
 * FIB_TEST_SEED=<n> replays a run of the randomized tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <rte_eal.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "common/fib.h"
#include "tests/common/pftest.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static uint64_t seed;
/* IPv4 ply width of the FIBs mk() creates: set by the suite. */
static unsigned ply4_bits = 8;
/* An expectation that depends on the IPv4 ply width: 8-bit value, 4-bit value. */
#define BY_W(v8, v4) (ply4_bits == 8 ? (v8) : (v4))

/* ---- helpers ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic from the seed, good enough to spread prefixes. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void v6(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET6, s, out) != 1) {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
}

static void a4(uint32_t ip, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = ip >> 24;
	a[1] = ip >> 16;
	a[2] = ip >> 8;
	a[3] = ip;
}

static uint32_t h4(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static void mask(uint8_t a[16], unsigned len)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (len >= 8)
			len -= 8;
		else {
			a[i] &= (uint8_t)(0xff00u >> len);
			len = 0;
		}
	}
}

/* Last address of a/len. */
static void last(const uint8_t *a, unsigned len, unsigned bytes, uint8_t out[16])
{
	unsigned i;

	memcpy(out, a, 16);
	for (i = 0; i < bytes; i++) {
		if (len >= (i + 1) * 8)
			continue;
		out[i] |= (uint8_t)(len > i * 8 ? 0xffu >> (len - i * 8) : 0xffu);
	}
}

/* a +/- 1 over `bytes` bytes, wrapping. */
static void step(uint8_t a[16], unsigned bytes, int dir)
{
	int i;

	for (i = (int)bytes - 1; i >= 0; i--) {
		a[i] = (uint8_t)(a[i] + dir);
		if (a[i] != (dir > 0 ? 0 : 0xff))
			break;
	}
}

static bool covers(const uint8_t *p, unsigned len, const uint8_t *a)
{
	unsigned full = len / 8;

	if (memcmp(p, a, full) != 0)
		return false;
	return len % 8 == 0 || ((p[full] ^ a[full]) & (0xff00u >> (len % 8))) == 0;
}

static struct fib *mk(uint32_t nctx, struct rte_rcu_qsbr *v)
{
	struct fib_conf conf = { .max_contexts = nctx, .ply4_bits = ply4_bits,
				 .max_plies4 = 1u << 16, .max_plies6 = 1u << 20, .qsbr = v };
	struct fib *fib = fib_create(&conf);

	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	return fib;
}

static struct fib_stats stats(const struct fib *fib)
{
	struct fib_stats st;

	fib_get_stats(fib, &st);
	return st;
}

static uint64_t plies(const struct fib *fib)
{
	struct fib_stats st = stats(fib);

	return st.plies4 + st.plies6;
}

/* Everything gone: no route, no ply, no private root, memory back to the empty FIB's. */
static void assert_empty(struct fib *fib, uint64_t base_bytes)
{
	struct fib_stats st;

	fib_reclaim(fib);
	st = stats(fib);
	CU_ASSERT_EQUAL(st.routes4, 0);
	CU_ASSERT_EQUAL(st.routes6, 0);
	CU_ASSERT_EQUAL(st.plies4, 0);
	CU_ASSERT_EQUAL(st.plies6, 0);
	CU_ASSERT_EQUAL(st.roots4, 0);
	CU_ASSERT_EQUAL(st.roots6, 0);
	CU_ASSERT_EQUAL(st.bytes, base_bytes);
}

static uint32_t lk6(const struct fib *fib, uint32_t ctx, const char *s)
{
	uint8_t a[16];

	v6(s, a);
	return fib6_lookup(fib, ctx, a);
}

static int add6(struct fib *fib, uint32_t ctx, const char *s, uint8_t len, uint32_t nh)
{
	uint8_t a[16];

	v6(s, a);
	return fib6_add(fib, ctx, a, len, nh);
}

static int del6(struct fib *fib, uint32_t ctx, const char *s, uint8_t len)
{
	uint8_t a[16];

	v6(s, a);
	return fib6_del(fib, ctx, a, len);
}

/* ---- naive reference LPM ---- */

struct ref_route {
	uint32_t ctx;
	int fam;           /* 4 or 6 */
	uint8_t a[16];
	uint8_t len;
	uint32_t nh;
};

struct ref {
	struct ref_route r[4096];
	unsigned n;
};

static int ref_find(const struct ref *ref, uint32_t ctx, int fam, const uint8_t *a, unsigned len)
{
	unsigned i;

	for (i = 0; i < ref->n; i++)
		if (ref->r[i].ctx == ctx && ref->r[i].fam == fam && ref->r[i].len == len &&
		    memcmp(ref->r[i].a, a, 16) == 0)
			return (int)i;
	return -1;
}

static void ref_add(struct ref *ref, uint32_t ctx, int fam, const uint8_t *a, unsigned len,
		    uint32_t nh)
{
	int i = ref_find(ref, ctx, fam, a, len);

	if (i < 0) {
		if (ref->n == RTE_DIM(ref->r))
			abort();
		i = (int)ref->n++;
	}
	ref->r[i] = (struct ref_route){ .ctx = ctx, .fam = fam, .len = (uint8_t)len, .nh = nh };
	memcpy(ref->r[i].a, a, 16);
}

static bool ref_del(struct ref *ref, uint32_t ctx, int fam, const uint8_t *a, unsigned len)
{
	int i = ref_find(ref, ctx, fam, a, len);

	if (i < 0)
		return false;
	ref->r[i] = ref->r[--ref->n];
	return true;
}

static uint32_t ref_lookup(const struct ref *ref, uint32_t ctx, int fam, const uint8_t *a)
{
	int best = -1;
	unsigned i;
	uint32_t nh = 0;

	for (i = 0; i < ref->n; i++) {
		const struct ref_route *r = &ref->r[i];

		if (r->ctx == ctx && r->fam == fam && (int)r->len > best && covers(r->a, r->len, a)) {
			best = r->len;
			nh = r->nh;
		}
	}
	return nh;
}

static uint32_t fib_lk(const struct fib *fib, uint32_t ctx, int fam, const uint8_t *a)
{
	return fam == 4 ? fib4_lookup(fib, ctx, h4(a)) : fib6_lookup(fib, ctx, a);
}

static int fib_add(struct fib *fib, uint32_t ctx, int fam, const uint8_t *a, unsigned len,
		   uint32_t nh)
{
	return fam == 4 ? fib4_add(fib, ctx, h4(a), (uint8_t)len, nh) :
			  fib6_add(fib, ctx, a, (uint8_t)len, nh);
}

static int fib_del(struct fib *fib, uint32_t ctx, int fam, const uint8_t *a, unsigned len)
{
	return fam == 4 ? fib4_del(fib, ctx, h4(a), (uint8_t)len) :
			  fib6_del(fib, ctx, a, (uint8_t)len);
}

static int fib_get(const struct fib *fib, uint32_t ctx, int fam, const uint8_t *a, unsigned len,
		   uint32_t *nh)
{
	return fam == 4 ? fib4_get(fib, ctx, h4(a), (uint8_t)len, nh) :
			  fib6_get(fib, ctx, a, (uint8_t)len, nh);
}

static unsigned mismatches;

static void check_addr(const struct fib *fib, const struct ref *ref, uint32_t ctx, int fam,
		       const uint8_t *a)
{
	uint32_t want = ref_lookup(ref, ctx, fam, a), got = fib_lk(fib, ctx, fam, a);
	char buf[INET6_ADDRSTRLEN];

	if (got != want) {
		if (mismatches++ < 10)
			fprintf(stderr, "\nctx %u %s: fib %u, reference %u\n", ctx,
				inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf)), got,
				want);
	}
	CU_ASSERT_EQUAL(got, want);
}

/* First, last, and just outside either end of a/len. */
static void check_bounds(const struct fib *fib, const struct ref *ref, uint32_t ctx, int fam,
			 const uint8_t *a, unsigned len)
{
	unsigned bytes = fam == 4 ? 4 : 16;
	uint8_t b[16];

	memcpy(b, a, 16);
	check_addr(fib, ref, ctx, fam, b);
	step(b, bytes, -1);
	check_addr(fib, ref, ctx, fam, b);
	last(a, len, bytes, b);
	check_addr(fib, ref, ctx, fam, b);
	step(b, bytes, +1);
	check_addr(fib, ref, ctx, fam, b);
}

/* ---- basic behaviour ---- */

static void test_v4_basic(void)
{
	struct fib *fib = mk(2, NULL);
	uint64_t base = stats(fib).bytes;
	uint32_t nh;

	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 3)), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 0), 8, 1), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 3)), 1);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 255, 255, 255)), 1);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(11, 0, 0, 0)), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(9, 255, 255, 255)), 0);

	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 0, 0), 16, 2), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 2, 0), 24, 3), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 2, 128), 25, 4), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 2, 200), 32, 5), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 0, 0)), 1);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 3, 0)), 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 255)), 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 0)), 3);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 127)), 3);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 128)), 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 199)), 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 200)), 5);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 201)), 4);
	CU_ASSERT_EQUAL(stats(fib).routes4, 5);

	/* Replace keeps the more-specifics inside it. */
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 2, 0), 24, 33), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 2, 0), 24, 33), 0);
	CU_ASSERT_EQUAL(stats(fib).routes4, 5);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 1)), 33);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 129)), 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 200)), 5);
	CU_ASSERT_EQUAL(fib4_get(fib, 0, IP4(10, 1, 2, 0), 24, &nh), 0);
	CU_ASSERT_EQUAL(nh, 33);
	CU_ASSERT_EQUAL(fib4_get(fib, 0, IP4(10, 1, 2, 0), 23, &nh), -ENOENT);
	CU_ASSERT_EQUAL(fib4_get(fib, 1, IP4(10, 1, 2, 0), 24, &nh), -ENOENT);

	/* Deletes restore the next covering route and leave more-specifics alone. */
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 2, 0), 24), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 1)), 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 129)), 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 200)), 5);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 2, 0), 24), -ENOENT);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 0, 0), 16), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 1)), 1);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 0, 0, 0), 8), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 1)), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 130)), 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 200)), 5);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 2, 200), 32), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 200)), 4);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 2, 128), 25), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 200)), 0);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 2, 128), 25), -ENOENT);
	CU_ASSERT_EQUAL(fib4_del(fib, 1, IP4(10, 1, 2, 128), 25), -ENOENT);
	assert_empty(fib, base);
	fib_destroy(fib);
}

static void test_v6_basic(void)
{
	struct fib *fib = mk(2, NULL);
	uint64_t base = stats(fib).bytes;
	uint8_t a[16];
	uint32_t nh;

	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8::1"), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8::", 32, 1), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1::", 48, 2), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1:2::", 64, 3), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1:2:8000::", 65, 4), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1:2:8000::1", 128, 5), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1:2:8000::", 127, 6), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:ffff::"), 1);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db9::"), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:3::"), 2);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2::1"), 3);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:7fff:ffff:ffff:ffff"), 3);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::2"), 4);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:ffff:ffff:ffff:ffff"), 4);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::"), 6);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::1"), 5);
	CU_ASSERT_EQUAL(stats(fib).routes6, 6);
	CU_ASSERT_EQUAL(stats(fib).roots6, 1);
	CU_ASSERT_EQUAL(stats(fib).roots4, 0);

	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1:2::", 64, 30), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2::1"), 30);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::2"), 4);
	v6("2001:db8:1:2::", a);
	CU_ASSERT_EQUAL(fib6_get(fib, 0, a, 64, &nh), 0);
	CU_ASSERT_EQUAL(nh, 30);

	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1:2:8000::", 65), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::2"), 30);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::1"), 5);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::"), 6);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1:2:8000::", 127), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::"), 30);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1::", 48), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:3::"), 1);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1::", 48), -ENOENT);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1:2::", 64), 0);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8::", 32), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2::1"), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:2:8000::1"), 5);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1:2:8000::1", 128), 0);
	assert_empty(fib, base);
	fib_destroy(fib);
}

static void test_validation(void)
{
	struct fib_conf conf = { .max_contexts = 0 };
	struct fib *fib = mk(2, NULL), *fib2;
	uint8_t a[16];
	uint32_t nh;

	errno = 0;
	CU_ASSERT_PTR_NULL(fib_create(NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	CU_ASSERT_EQUAL(errno, EINVAL);
	conf = (struct fib_conf){ .max_contexts = 1, .max_plies4 = 1ull << 40 };
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	/* The lookups' 32-bit offsets bound each arena (fib.h). */
	conf = (struct fib_conf){ .max_contexts = 1, .ply4_bits = ply4_bits,
				  .max_plies4 = FIB_MAX_PLIES4_LIMIT(ply4_bits) + 1 };
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	/* The width: 8 or 4 (0 = 8); 4-bit plies allow 16 times as many plies. */
	conf = (struct fib_conf){ .max_contexts = 1, .max_plies4 = FIB_MAX_PLIES4_LIMIT(4) };
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	conf = (struct fib_conf){ .max_contexts = 1, .ply4_bits = 8,
				  .max_plies4 = FIB_MAX_PLIES4_LIMIT(8) + 1 };
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	for (unsigned w = 1; w <= 32; w++) {
		conf = (struct fib_conf){ .max_contexts = 1, .ply4_bits = w, .max_plies4 = 16 };
		fib2 = fib_create(&conf);
		CU_ASSERT_EQUAL(fib2 != NULL, w == 4 || w == 8);
		if (fib2 != NULL)
			CU_ASSERT_EQUAL(fib2->ply4_bits, w);
		fib_destroy(fib2);
	}
	conf = (struct fib_conf){ .max_contexts = 1, .max_plies4 = 16 };
	fib2 = fib_create(&conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib2);
	CU_ASSERT_EQUAL(fib2->ply4_bits, FIB_PLY4_BITS_DEFAULT);
	CU_ASSERT_EQUAL(FIB_PLY4_BITS_DEFAULT, 8);
	fib_destroy(fib2);
	conf = (struct fib_conf){ .max_contexts = 1, .max_plies6 = FIB_MAX_PLIES6_LIMIT + 1 };
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	conf = (struct fib_conf){ .max_contexts = 1, .max_plies4 = 1 };   /* only ply 0 */
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	conf = (struct fib_conf){ .max_contexts = 1, .max_plies6 = 1 };
	CU_ASSERT_PTR_NULL(fib_create(&conf));
	conf = (struct fib_conf){ .max_contexts = 1, .ply4_bits = ply4_bits,
				  .max_plies4 = FIB_MAX_PLIES4_LIMIT(ply4_bits),
				  .max_plies6 = FIB_MAX_PLIES6_LIMIT };
	fib2 = fib_create(&conf);          /* the limits themselves are accepted */
	CU_ASSERT_PTR_NOT_NULL(fib2);
	fib_destroy(fib2);

	CU_ASSERT_EQUAL(fib4_add(fib, 2, IP4(10, 0, 0, 0), 8, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib4_del(fib, 2, IP4(10, 0, 0, 0), 8), -EINVAL);
	CU_ASSERT_EQUAL(fib4_get(fib, 2, IP4(10, 0, 0, 0), 8, &nh), -EINVAL);
	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 2), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 0), 33, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 1), 8, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 1), 31, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(0, 0, 0, 1), 0, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 0, 0, 1), 8), -EINVAL);
	CU_ASSERT_EQUAL(fib4_get(fib, 0, IP4(10, 0, 0, 1), 8, &nh), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 0), 8, 0), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 0), 8, FIB_NH_MAX + 1), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 0), 8, FIB_NH_MAX), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 9, 9, 9)), FIB_NH_MAX);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 1), 32, 7), 0);
	CU_ASSERT_EQUAL(fib4_get(fib, 0, IP4(10, 0, 0, 0), 9, &nh), -ENOENT);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 0, 0, 0), 9), -ENOENT);

	v6("2001:db8::1", a);
	CU_ASSERT_EQUAL(fib6_add(fib, 0, a, 64, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib6_add(fib, 0, a, 127, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib6_add(fib, 0, a, 129, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib6_add(fib, 2, a, 128, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib6_add(fib, 0, a, 128, 0), -EINVAL);
	CU_ASSERT_EQUAL(fib6_add(fib, 0, NULL, 0, 1), -EINVAL);
	CU_ASSERT_EQUAL(fib6_del(fib, 0, a, 64), -EINVAL);
	CU_ASSERT_EQUAL(fib6_get(fib, 0, a, 64, &nh), -EINVAL);
	CU_ASSERT_EQUAL(fib6_del(fib, 0, a, 128), -ENOENT);
	CU_ASSERT_EQUAL(fib6_add(fib, 0, a, 128, 9), 0);
	CU_ASSERT_EQUAL(fib6_get(fib, 0, a, 128, &nh), 0);
	CU_ASSERT_EQUAL(nh, 9);
	v6("2001:db8::", a);
	CU_ASSERT_EQUAL(fib6_get(fib, 0, a, 128, &nh), -ENOENT);
	CU_ASSERT_EQUAL(stats(fib).routes4, 2);
	CU_ASSERT_EQUAL(stats(fib).routes6, 1);
	fib_destroy(fib);
}

static void test_default_and_host(void)
{
	struct fib *fib = mk(1, NULL);
	uint64_t base = stats(fib).bytes;
	uint8_t z[16] = { 0 };

	CU_ASSERT_EQUAL(fib4_add(fib, 0, 0, 0, 100), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0), 100);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0xffffffffu), 100);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, 0xffffffffu, 32, 101), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, 0, 32, 102), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0xffffffffu), 101);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0xfffffffeu), 100);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0), 102);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 1), 100);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, 0, 0, 103), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 1), 103);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0), 102);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 1), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0), 102);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0xffffffffu), 101);

	CU_ASSERT_EQUAL(fib6_add(fib, 0, z, 0, 200), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "::"), 200);
	CU_ASSERT_EQUAL(lk6(fib, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 200);
	CU_ASSERT_EQUAL(add6(fib, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128, 201), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "::", 128, 202), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 201);
	CU_ASSERT_EQUAL(lk6(fib, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 200);
	CU_ASSERT_EQUAL(lk6(fib, 0, "::"), 202);
	CU_ASSERT_EQUAL(lk6(fib, 0, "::1"), 200);
	CU_ASSERT_EQUAL(fib6_del(fib, 0, z, 0), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "::1"), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "::"), 202);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, 0), 102);
	CU_ASSERT_EQUAL(del6(fib, 0, "::", 128), 0);
	CU_ASSERT_EQUAL(del6(fib, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128), 0);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, 0, 32), 0);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, 0xffffffffu, 32), 0);
	assert_empty(fib, base);
	fib_destroy(fib);
}

/* Every insertion order of a chain of nested prefixes (lengths chosen to end on and off
 * the ply boundaries: 16, 24, 32 for IPv4, 16+4k for IPv6), each followed by a deletion
 * order, checked after every step at the boundaries of every prefix of the chain. */
static void nested_orders(int fam, const uint8_t *addr, const uint8_t *lens, unsigned n)
{
	static struct ref ref;
	struct fib *fib = mk(1, NULL);
	uint64_t base = stats(fib).bytes;
	uint8_t p[8][16];
	unsigned perm[8], del[8], i, j, k, t, nperm = 1;

	for (i = 0; i < n; i++) {
		memcpy(p[i], addr, 16);
		mask(p[i], lens[i]);
		nperm *= i + 1;
	}
	for (k = 0; k < nperm; k++) {
		/* k-th permutation (factorial number system) for inserts; a rotation of its
		 * reverse for deletes, so deletes also see many orders. */
		for (i = 0; i < n; i++)
			perm[i] = i;
		for (i = 0, t = k; i < n; i++) {
			unsigned f = t % (n - i), tmp = perm[i];

			t /= n - i;
			perm[i] = perm[i + f];
			perm[i + f] = tmp;
		}
		for (i = 0; i < n; i++)
			del[i] = perm[(n - 1 - i + k) % n];
		ref.n = 0;
		for (i = 0; i < n; i++) {
			j = perm[i];
			CU_ASSERT_EQUAL(fib_add(fib, 0, fam, p[j], lens[j], 10 + j), 0);
			ref_add(&ref, 0, fam, p[j], lens[j], 10 + j);
			for (t = 0; t < n; t++)
				check_bounds(fib, &ref, 0, fam, p[t], lens[t]);
		}
		for (i = 0; i < n; i++) {
			j = del[i];
			CU_ASSERT_EQUAL(fib_del(fib, 0, fam, p[j], lens[j]), 0);
			ref_del(&ref, 0, fam, p[j], lens[j]);
			for (t = 0; t < n; t++)
				check_bounds(fib, &ref, 0, fam, p[t], lens[t]);
		}
		CU_ASSERT_EQUAL(plies(fib), 0);
	}
	assert_empty(fib, base);
	fib_destroy(fib);
}

static void test_nested_orders(void)
{
	static const uint8_t l4[] = { 0, 9, 16, 19, 24, 30, 32 };
	/* Inside one 256-entry ply each: 17..23 expand over 128..2 entries of the first
	 * level, 25..31 over 128..2 entries of the second. */
	static const uint8_t l4b[] = { 16, 17, 20, 23, 24, 25, 31 };
	static const uint8_t l4c[] = { 8, 18, 22, 26, 29, 30, 32 };
	static const uint8_t l6[] = { 0, 17, 32, 48, 63, 100, 128 };
	uint8_t a[16];

	a4(IP4(10, 129, 66, 77), a);
	nested_orders(4, a, l4, RTE_DIM(l4));
	a4(IP4(172, 16, 255, 255), a);   /* the last entry of both plies */
	nested_orders(4, a, l4b, RTE_DIM(l4b));
	a4(IP4(192, 168, 0, 0), a);      /* the first */
	nested_orders(4, a, l4c, RTE_DIM(l4c));
	v6("2001:db8:8421:1234:5678:9abc:def0:ffff", a);
	nested_orders(6, a, l6, RTE_DIM(l6));
}

/* A ply whose entries are all the same leaf of distinct longer routes (256 sibling /24s
 * with one next hop, 256 /32s with their /24's next hop, 16 sibling IPv6 /52s) must not be
 * folded into its parent: deleting one of those routes must still work. (With 4-bit IPv4
 * plies the 256 /24s fill a first-level ply and its 16 second-level ones, the 256 /32s
 * 16 fourth-level plies below a path of three.) */
static void test_uniform_siblings(void)
{
	struct fib *fib = mk(1, NULL);
	uint64_t base = stats(fib).bytes;
	unsigned i;

	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 0, 0), 16, 1), 0);
	for (i = 0; i < 256; i++)
		CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, i, 0), 24, 2), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, BY_W(1, 17));
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 20, 16), 28, 3), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, BY_W(2, 18));
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 20, 17)), 3);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 20, 16), 28), 0);
	/* the /28's ply went, the uniform ones stay */
	CU_ASSERT_EQUAL(stats(fib).plies4, BY_W(1, 17));
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 20, 17)), 2);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 21, 0), 24), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 21, 1)), 1);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 20, 1)), 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 22, 1)), 2);
	/* The last /24 out collapses the ply into the /16. */
	for (i = 0; i < 256; i++)
		if (i != 21)
			CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, i, 0), 24), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 200, 1)), 1);

	/* Second level: a /24 and all of its 256 /32s with the same next hop. */
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 3, 0), 24, 5), 0);
	for (i = 0; i < 256; i++)
		CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 3, i), 32, 5), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, BY_W(2, 19));
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 2, 3, 0), 24), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, BY_W(2, 19));
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 3, 77)), 5);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 4, 77)), 0);
	for (i = 0; i < 255; i++)
		CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 2, 3, i), 32), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 3, 77)), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 3, 255)), 5);
	CU_ASSERT_EQUAL(stats(fib).plies4, BY_W(2, 4));
	/* The last /32 out frees both levels. */
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 2, 3, 255), 32), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 3, 255)), 0);

	/* The same in IPv6, nibble-aligned: 16 sibling /52s under a /48. */
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1::", 48, 1), 0);
	for (i = 0; i < 16; i++) {
		char s[64];

		snprintf(s, sizeof(s), "2001:db8:1:%x000::", i);
		CU_ASSERT_EQUAL(add6(fib, 0, s, 52, 2), 0);
	}
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1:5000::", 64, 3), 0);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1:5000::", 64), 0);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1:6000::", 52), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:6000::1"), 1);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:1:5000::1"), 2);
	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 0), 0);
	assert_empty(fib, base);
	fib_destroy(fib);
}

/* IPv4 plies the invariant of fib.c requires for the reference's routes of context 0: one
 * per level and region of a ply holding a route longer than the ply's base. */
static uint64_t ref_plies4(const struct ref *ref)
{
	uint64_t n = 0;
	unsigned base, i, k;

	for (base = 16; base < 32; base += ply4_bits)
		for (i = 0; i < ref->n; i++) {
			const struct ref_route *r = &ref->r[i];
			bool dup = false;

			if (r->ctx != 0 || r->fam != 4 || r->len <= base)
				continue;
			for (k = 0; k < i && !dup; k++)
				dup = ref->r[k].ctx == 0 && ref->r[k].fam == 4 &&
				      ref->r[k].len > base &&
				      h4(ref->r[k].a) >> (32 - base) == h4(r->a) >> (32 - base);
			n += !dup;
		}
	return n;
}

/*
 * 8-bit IPv4 plies: a /16 split into /17, /18, ..., /24, /24 fills one first-level ply
 * with runs of 128, 64, ..., 1, 1 entries; a /24 inside it split into /25 ... /32, /32
 * does the same in a second-level ply. (With 4-bit plies the same routes spread over
 * plies of all four levels.) Under covering /8 and /16 routes, in random orders of add
 * and delete, every 8-bit entry of both regions (its first and last address) must give
 * the reference's answer after each step, and a ply must exist exactly while a route
 * longer than its base lies in its region.
 */
static void test_ply_partition(void)
{
	static struct ref ref;
	struct fib *fib = mk(1, NULL);
	uint64_t base = stats(fib).bytes;
	uint8_t p[20][16], a[16];
	unsigned len[20], ord[20], np = 0, round, i, k, t;
	uint32_t start, size;

	/* /17 .. /24 and a second /24 from the bottom of 10.1/16 upwards, and
	 * /25 .. /32 and a second /32 in 10.1.254.0/24 (inside the first /24 split). */
	for (start = IP4(10, 1, 0, 0), i = 17; i <= 25; i++) {
		unsigned l = i == 25 ? 24 : i;

		a4(start, p[np]);
		len[np++] = l;
		start += 1u << (32 - l);
	}
	for (start = IP4(10, 1, 254, 0), i = 25; i <= 33; i++) {
		unsigned l = i == 33 ? 32 : i;

		a4(start, p[np]);
		len[np++] = l;
		start += 1u << (32 - l);
	}
	a4(IP4(10, 0, 0, 0), p[np]);
	len[np++] = 8;
	a4(IP4(10, 1, 0, 0), p[np]);
	len[np++] = 16;

	for (round = 0; round < 40; round++) {
		ref.n = 0;
		for (i = 0; i < np; i++)
			ord[i] = i;
		for (i = np; i > 1; i--) {
			k = rnd_below(i);
			t = ord[k], ord[k] = ord[i - 1], ord[i - 1] = t;
		}
		for (t = 0; t < 2 * np; t++) {
			if (t == np) /* delete in another random order */
				for (k = np; k > 1; k--) {
					unsigned j = rnd_below(k), x = ord[j];

					ord[j] = ord[k - 1], ord[k - 1] = x;
				}
			i = ord[t % np];
			if (t < np) {
				/* Few next hops: equal neighbours must stay distinct routes. */
				uint32_t nh = 1 + rnd_below(round % 2 ? 3 : 1000);

				CU_ASSERT_EQUAL(fib_add(fib, 0, 4, p[i], len[i], nh), 0);
				ref_add(&ref, 0, 4, p[i], len[i], nh);
			} else {
				CU_ASSERT_EQUAL(fib_del(fib, 0, 4, p[i], len[i]), 0);
				ref_del(&ref, 0, 4, p[i], len[i]);
			}
			/* Every entry of the first-level ply, then of the second-level one. */
			for (k = 0; k < 512; k++) {
				start = k < 256 ? IP4(10, 1, k, 0) : IP4(10, 1, 254, k - 256);
				size = k < 256 ? 256 : 1;
				a4(start, a);
				check_addr(fib, &ref, 0, 4, a);
				a4(start + size - 1, a);
				check_addr(fib, &ref, 0, 4, a);
			}
			/* A ply exists iff a route longer than its base lies in its region. */
			CU_ASSERT_EQUAL(stats(fib).plies4, ref_plies4(&ref));
		}
		CU_ASSERT_EQUAL(stats(fib).routes4, 0);
	}
	assert_empty(fib, base);
	fib_destroy(fib);
}

static void test_ctx_isolation(void)
{
	struct fib *fib = mk(4, NULL);
	uint64_t base = stats(fib).bytes;
	uint32_t nh;

	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(192, 0, 2, 0), 24, 1), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 1, IP4(192, 0, 2, 0), 24, 2), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 1, IP4(192, 0, 2, 64), 26, 3), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8::", 32, 4), 0);
	CU_ASSERT_EQUAL(add6(fib, 3, "2001:db8::", 32, 5), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(192, 0, 2, 70)), 1);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 1, IP4(192, 0, 2, 70)), 3);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 1, IP4(192, 0, 2, 7)), 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 2, IP4(192, 0, 2, 7)), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 3, IP4(192, 0, 2, 7)), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8::1"), 4);
	CU_ASSERT_EQUAL(lk6(fib, 1, "2001:db8::1"), 0);
	CU_ASSERT_EQUAL(lk6(fib, 2, "2001:db8::1"), 0);
	CU_ASSERT_EQUAL(lk6(fib, 3, "2001:db8::1"), 5);
	CU_ASSERT_EQUAL(stats(fib).roots4, 2);
	CU_ASSERT_EQUAL(stats(fib).roots6, 2);
	CU_ASSERT_EQUAL(fib4_get(fib, 2, IP4(192, 0, 2, 0), 24, &nh), -ENOENT);
	CU_ASSERT_EQUAL(fib4_del(fib, 2, IP4(192, 0, 2, 0), 24), -ENOENT);

	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(192, 0, 2, 0), 24), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(192, 0, 2, 70)), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 1, IP4(192, 0, 2, 70)), 3);
	CU_ASSERT_EQUAL(stats(fib).roots4, 1);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8::1"), 4);
	CU_ASSERT_EQUAL(fib4_del(fib, 1, IP4(192, 0, 2, 0), 24), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 1, IP4(192, 0, 2, 70)), 3);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 1, IP4(192, 0, 2, 7)), 0);
	CU_ASSERT_EQUAL(fib4_del(fib, 1, IP4(192, 0, 2, 64), 26), 0);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8::", 32), 0);
	CU_ASSERT_EQUAL(lk6(fib, 3, "2001:db8::1"), 5);
	CU_ASSERT_EQUAL(del6(fib, 3, "2001:db8::", 32), 0);
	assert_empty(fib, base);
	fib_destroy(fib);
}

/* An empty context costs its two root pointers plus one writer pointer, whatever the
 * number of contexts: fib.h's "memory grows with routes, not contexts". */
static void test_empty_ctx_memory(void)
{
	struct fib *one = mk(1, NULL), *many = mk(100001, NULL);
	uint64_t per_ctx = (stats(many).bytes - stats(one).bytes) / 100000;
	uint32_t i;

	printf("\n  empty context: %" PRIu64 " bytes ", per_ctx);
	CU_ASSERT(per_ctx <= 32);
	CU_ASSERT_EQUAL(stats(many).roots4 + stats(many).roots6 + plies(many), 0);
	for (i = 0; i < 100001; i += 997) {
		CU_ASSERT_EQUAL(fib4_lookup(many, i, (uint32_t)rnd()), 0);
		CU_ASSERT_EQUAL(lk6(many, i, "2001:db8::1"), 0);
	}
	fib_destroy(one);
	fib_destroy(many);
}

static void random_prefix(int fam, uint8_t a[16], unsigned *len)
{
	unsigned bytes = fam == 4 ? 4 : 16, i;

	memset(a, 0, 16);
	for (i = 0; i < bytes; i++)
		a[i] = (uint8_t)rnd();
	*len = rnd_below(fam == 4 ? 33 : 129);
	mask(a, *len);
}

/* Random address inside a/len (random host part). */
static void addr_in(const uint8_t *a, unsigned len, uint8_t out[16])
{
	unsigned i;

	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)rnd();
	for (i = 0; i < len; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));

		out[i / 8] = (uint8_t)((out[i / 8] & ~m) | (a[i / 8] & m));
	}
}

static void test_bulk(void)
{
	enum { N = 9999, NCTX = 3, R = 3000 };
	static uint32_t ctx[N], ip[N], nh[N];
	static uint8_t ip6[N][16], p4[R][16], p6[R][16];
	static unsigned l4[R], l6[R];
	struct fib *fib = mk(NCTX, NULL);
	unsigned i, bad = 0, n;
	uint8_t a[16];

	for (i = 0; i < R; i++) {
		random_prefix(4, p4[i], &l4[i]);
		random_prefix(6, p6[i], &l6[i]);
		p6[i][0] = 0x20;   /* all in 2000::/14, so lookups share the upper plies */
		p6[i][1] = (uint8_t)rnd_below(4);
		mask(p6[i], l6[i]);
		fib4_add(fib, rnd_below(NCTX - 1), h4(p4[i]), (uint8_t)l4[i], 1 + rnd_below(FIB_NH_MAX));
		fib6_add(fib, rnd_below(NCTX - 1), p6[i], (uint8_t)l6[i], 1 + rnd_below(FIB_NH_MAX));
	}
	/* Two thirds inside installed routes, so lookups run down to /32 and /128; the rest
	 * random (IPv6 in 2000::/14, where the routes are). */
	for (i = 0; i < N; i++) {
		ctx[i] = rnd_below(NCTX);
		n = rnd_below(R);
		addr_in(p4[n], i % 3 ? l4[n] : 0, a);
		ip[i] = h4(a);
		n = rnd_below(R);
		addr_in(p6[n], i % 3 ? l6[n] : 14, ip6[i]);
	}
	/* Several sizes: empty, partial groups, many groups. */
	for (n = 0; n <= N; n = n ? n * 3 + 1 : 1) {
		memset(nh, 0xff, sizeof(nh));
		fib4_lookup_bulk(fib, ctx, ip, nh, n);
		for (i = 0; i < n; i++)
			bad += nh[i] != fib4_lookup(fib, ctx[i], ip[i]);
		for (; i < N; i++)
			bad += nh[i] != 0xffffffffu;
		memset(nh, 0xff, sizeof(nh));
		fib6_lookup_bulk(fib, ctx, (const uint8_t(*)[16])ip6, nh, n);
		for (i = 0; i < n; i++)
			bad += nh[i] != fib6_lookup(fib, ctx[i], ip6[i]);
		for (; i < N; i++)
			bad += nh[i] != 0xffffffffu;
	}
	fib4_lookup_bulk(fib, ctx, ip, nh, N);
	for (i = 0, n = 0; i < N; i++)
		n += nh[i] != 0;
	CU_ASSERT(n > N / 10); /* the comparison above was not all misses */
	CU_ASSERT_EQUAL(bad, 0);
	fib_destroy(fib);
}

/* Ply collapse and root release give everything back, also through the grace period:
 * queued objects are not reused before it ends and are freed by fib_reclaim after. */
static void collapse_memory(struct rte_rcu_qsbr *v)
{
	enum { N = 3000 };
	static uint8_t pa[2 * N][16];
	static unsigned plen[2 * N];
	static int pfam[2 * N];
	struct fib *fib = mk(2, v);
	uint64_t base = stats(fib).bytes, full, queued;
	unsigned i, n = 0, j;
	struct fib_stats st;

	for (i = 0; i < N; i++) {
		pfam[n] = 4;
		random_prefix(4, pa[n], &plen[n]);
		if (fib_get(fib, 1, 4, pa[n], plen[n], NULL) == -ENOENT) {
			CU_ASSERT_EQUAL(fib_add(fib, 1, 4, pa[n], plen[n], 1 + i), 0);
			n++;
		}
		pfam[n] = 6;
		random_prefix(6, pa[n], &plen[n]);
		pa[n][0] = 0x2a;
		mask(pa[n], plen[n]);
		if (fib_get(fib, 1, 6, pa[n], plen[n], NULL) == -ENOENT) {
			CU_ASSERT_EQUAL(fib_add(fib, 1, 6, pa[n], plen[n], 1 + i), 0);
			n++;
		}
	}
	st = stats(fib);
	full = st.plies4 + st.plies6;
	CU_ASSERT(full > N);
	CU_ASSERT_EQUAL(st.roots4, 1);
	CU_ASSERT_EQUAL(st.roots6, 1);
	CU_ASSERT_EQUAL(st.routes4 + st.routes6, n);
	for (i = n; i > 1; i--) {
		unsigned k = rnd_below(i);
		uint8_t t[16];

		memcpy(t, pa[k], 16);
		memcpy(pa[k], pa[i - 1], 16);
		memcpy(pa[i - 1], t, 16);
		j = plen[k], plen[k] = plen[i - 1], plen[i - 1] = j;
		j = (unsigned)pfam[k], pfam[k] = pfam[i - 1], pfam[i - 1] = (int)j;
	}
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(fib_del(fib, 1, pfam[i], pa[i], plen[i]), 0);
	st = stats(fib);
	CU_ASSERT_EQUAL(st.routes4 + st.routes6 + st.roots4 + st.roots6, 0);
	queued = st.plies4 + st.plies6;
	if (v != NULL) {
		/* A registered reader has not reported: everything is still queued. */
		CU_ASSERT_EQUAL(queued, full);
		CU_ASSERT(st.bytes > base);
		fib_reclaim(fib);
		CU_ASSERT_EQUAL(plies(fib), full);
		/* New routes must take fresh plies, not the queued ones: a /32 takes two
		 * 8-bit or four 4-bit IPv4 plies, a /64 twelve 4-bit IPv6 plies. */
		CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 2, 3), 32, 1), 0);
		CU_ASSERT_EQUAL(plies(fib), full + 16 / ply4_bits);
		CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1:2::", 64, 1), 0);
		CU_ASSERT_EQUAL(plies(fib), full + 16 / ply4_bits + 12);
		CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8:1:2::", 64), 0);
		CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 2, 3), 32), 0);
		rte_rcu_qsbr_quiescent(v, 0);
	} else {
		CU_ASSERT_EQUAL(queued, 0);
	}
	assert_empty(fib, base);
	fib_destroy(fib);
}

static struct rte_rcu_qsbr *qsbr_new(uint32_t threads)
{
	size_t sz = rte_rcu_qsbr_get_memsize(threads);
	struct rte_rcu_qsbr *v = aligned_alloc(RTE_CACHE_LINE_SIZE,
					       RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE));

	if (v == NULL || rte_rcu_qsbr_init(v, threads) != 0)
		abort();
	return v;
}

static void test_collapse_memory(void)
{
	struct rte_rcu_qsbr *v = qsbr_new(1);

	collapse_memory(NULL);
	CU_ASSERT_EQUAL(rte_rcu_qsbr_thread_register(v, 0), 0);
	rte_rcu_qsbr_thread_online(v, 0);
	collapse_memory(v);
	rte_rcu_qsbr_thread_offline(v, 0);
	rte_rcu_qsbr_thread_unregister(v, 0);
	free(v);
}

struct walk_seen {
	struct ref *ref;
	unsigned calls, bad, stop_at;
};

static int walk_cb(void *arg, int family, const uint8_t *prefix, uint8_t depth, uint32_t nh)
{
	struct walk_seen *w = arg;
	uint8_t a[16] = { 0 };
	int i;

	memcpy(a, prefix, family == 4 ? 4 : 16);
	i = ref_find(w->ref, 1, family, a, depth);
	if (i < 0 || w->ref->r[i].nh != nh)
		w->bad++;
	else
		w->ref->r[i].nh = 0; /* seen once */
	if (++w->calls == w->stop_at)
		return 7;
	return 0;
}

static void test_walk(void)
{
	static struct ref ref;
	struct fib *fib = mk(3, NULL);
	struct walk_seen w = { .ref = &ref };
	uint8_t a[16];
	unsigned i, len;

	ref.n = 0;
	for (i = 0; i < 300; i++) {
		int fam = i % 3 ? 4 : 6;

		random_prefix(fam, a, &len);
		if (fib_get(fib, 1, fam, a, len, NULL) == 0)
			continue;
		CU_ASSERT_EQUAL(fib_add(fib, 1, fam, a, len, 1 + i), 0);
		ref_add(&ref, 1, fam, a, len, 1 + i);
	}
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 0), 8, 1), 0);
	CU_ASSERT_EQUAL(fib_walk(fib, 1, walk_cb, &w), 0);
	CU_ASSERT_EQUAL(w.calls, ref.n);
	CU_ASSERT_EQUAL(w.bad, 0);
	for (i = 0; i < ref.n; i++)
		CU_ASSERT_EQUAL(ref.r[i].nh, 0);

	w = (struct walk_seen){ .ref = &ref, .stop_at = 3 };
	CU_ASSERT_EQUAL(fib_walk(fib, 1, walk_cb, &w), 7);
	CU_ASSERT_EQUAL(w.calls, 3);
	w = (struct walk_seen){ .ref = &ref };
	CU_ASSERT_EQUAL(fib_walk(fib, 2, walk_cb, &w), 0);
	CU_ASSERT_EQUAL(w.calls, 0);
	CU_ASSERT_EQUAL(fib_walk(fib, 3, walk_cb, &w), -EINVAL);
	CU_ASSERT_EQUAL(fib_walk(fib, 1, NULL, &w), -EINVAL);
	fib_destroy(fib);
}

static void flush(struct rte_rcu_qsbr *v)
{
	struct fib *fib = mk(3, v);
	uint64_t base = stats(fib).bytes;
	struct walk_seen w = { 0 };
	uint8_t a[16];
	unsigned i, len;
	uint32_t nh;

	for (i = 0; i < 2000; i++) {
		random_prefix(i & 1 ? 4 : 6, a, &len);
		fib_add(fib, i % 2 == 0 ? 0 : 1, i & 1 ? 4 : 6, a, len, 1 + i);
		random_prefix(i & 1 ? 4 : 6, a, &len);
		fib_add(fib, 1, i & 1 ? 4 : 6, a, len, 1 + i);
	}
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(192, 0, 2, 0), 24, 5), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 1, IP4(192, 0, 2, 0), 24, 6), 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8::", 48, 7), 0);
	CU_ASSERT_EQUAL(add6(fib, 1, "2001:db8::", 48, 8), 0);
	CU_ASSERT_EQUAL(stats(fib).roots4, 2);
	CU_ASSERT_EQUAL(stats(fib).roots6, 2);

	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 0), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(192, 0, 2, 1)), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8::1"), 0);
	CU_ASSERT_EQUAL(fib4_get(fib, 0, IP4(192, 0, 2, 0), 24, &nh), -ENOENT);
	CU_ASSERT_EQUAL(fib_walk(fib, 0, walk_cb, &w), 0);
	CU_ASSERT_EQUAL(w.calls, 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 1, IP4(192, 0, 2, 1)), 6);
	CU_ASSERT_EQUAL(lk6(fib, 1, "2001:db8::1"), 8);
	CU_ASSERT_EQUAL(stats(fib).roots4, 1);
	CU_ASSERT_EQUAL(stats(fib).roots6, 1);
	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 0), 0);
	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 2), 0);
	/* The flushed context is usable again. */
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(192, 0, 2, 0), 25, 9), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(192, 0, 2, 1)), 9);
	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 0), 0);
	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 1), 0);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 1, IP4(192, 0, 2, 1)), 0);
	assert_empty(fib, base);
	fib_destroy(fib);
}

static void test_flush(void)
{
	struct rte_rcu_qsbr *v = qsbr_new(1);

	flush(NULL);
	flush(v);   /* no reader registered: the grace period ends at once */
	free(v);
}

/* Out of plies: the add fails with -ENOMEM and changes nothing; an add whose path
 * already exists needs no new ply and still succeeds. Each family has its own arena:
 * one running out does not stop the other. */
/* The start of both ENOMEM tests: a FIB with max_plies4 plies of ply4_bits (one reserved)
 * holding 10/8 and 10.1.1.1/32, whose path takes `path` plies; a second /32 elsewhere
 * needs as many, does not fit, and the failed add changes nothing. */
static struct fib *
enomem_start(uint8_t ply4_bits, uint64_t max_plies4, uint64_t path)
{
	struct fib_conf conf = { .max_contexts = 1, .ply4_bits = ply4_bits,
				 .max_plies4 = max_plies4, .max_plies6 = 5 };
	struct fib *fib = fib_create(&conf);
	struct fib_stats st;
	uint32_t nh;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 0, 0, 0), 8, 1), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 1, 1), 32, 2), 0);
	st = stats(fib);
	CU_ASSERT_EQUAL(st.plies4, path);
	CU_ASSERT_EQUAL(st.plies6, 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 1, 1), 32, 3), -ENOMEM);
	CU_ASSERT_EQUAL(stats(fib).plies4, st.plies4);
	CU_ASSERT_EQUAL(stats(fib).routes4, st.routes4);
	CU_ASSERT_EQUAL(stats(fib).bytes, st.bytes);
	CU_ASSERT_EQUAL(fib4_get(fib, 0, IP4(10, 2, 1, 1), 32, &nh), -ENOENT);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 1, 1)), 1);
	return fib;
}

static void test_enomem(void)
{
	/* 3 usable IPv4 plies (256 entries), 4 usable IPv6 plies (16 entries) */
	struct fib *fib = enomem_start(8, 4, 2);
	struct fib_stats st;

	/* IPv6 has its own arena: a /32 takes 4 plies, all of it. */
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8::", 32, 3), 0);
	CU_ASSERT_EQUAL(stats(fib).plies6, 4);
	CU_ASSERT_EQUAL(stats(fib).plies4, 2);
	st = stats(fib);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:8000::", 33, 4), -ENOMEM);  /* needs 1 */
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1::", 48, 4), -ENOMEM);
	CU_ASSERT_EQUAL(stats(fib).routes6, st.routes6);
	CU_ASSERT_EQUAL(stats(fib).bytes, st.bytes);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8:8000::1"), 3);
	/* Ends in the last ply of the /32's path: no new ply. */
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db9::", 32, 5), 0);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db9::1"), 5);
	CU_ASSERT_EQUAL(stats(fib).plies6, 4);

	/* The last IPv4 ply, despite the full IPv6 arena. */
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 1, 0), 20, 6), -EINVAL);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 0, 0), 20, 6), 0);    /* 1 ply */
	CU_ASSERT_EQUAL(stats(fib).plies4, 3);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 3, 0, 0), 20, 6), -ENOMEM);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 3, 0, 0), 16, 6), 0);    /* root only */
	/* Full, but these fit in plies that exist. */
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 1, 0), 28, 4), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 0, 0), 20, 5), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 1, 1), 32, 22), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 5, 0), 24, 7), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 5, 7), 32, 8), -ENOMEM);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 2)), 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 1)), 22);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 1)), 5);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 3, 2, 1)), 6);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 5, 7)), 7);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 6, 7)), 6);
	CU_ASSERT_EQUAL(stats(fib).plies4, 3);

	/* The /32 leaves the /28 in its ply; the /28's ply then collapses into the /20,
	 * and the /20's into the /8. */
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 1, 1), 32), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 3);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 1)), 4);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 1, 0), 28), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 1)), 5);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 0, 0), 20), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 1);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 1)), 1);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 1, 1), 32, 3), 0);    /* 1 ply now */
	CU_ASSERT_EQUAL(stats(fib).plies4, 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 1, 1)), 3);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 1, 2)), 6);

	/* IPv6: the /32s share their path; the last one out frees all 4. */
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db8::", 32), 0);
	CU_ASSERT_EQUAL(stats(fib).plies6, 4);
	CU_ASSERT_EQUAL(lk6(fib, 0, "2001:db8::1"), 0);
	CU_ASSERT_EQUAL(del6(fib, 0, "2001:db9::", 32), 0);
	CU_ASSERT_EQUAL(stats(fib).plies6, 0);
	CU_ASSERT_EQUAL(stats(fib).roots6, 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8:1000::", 36, 4), -ENOMEM);  /* needs 5 */
	CU_ASSERT_EQUAL(stats(fib).roots6, 0);
	CU_ASSERT_EQUAL(add6(fib, 0, "2001:db8::", 32, 4), 0);
	CU_ASSERT_EQUAL(stats(fib).plies6, 4);
	CU_ASSERT_EQUAL(stats(fib).plies4, 2);
	fib_destroy(fib);
}

/* The same with 4-bit IPv4 plies: 4 usable plies, exactly one /32's path. */
static void test_enomem_ply4(void)
{
	struct fib *fib = enomem_start(4, 5, 4);

	/* Full, but these end in plies that exist (levels 3, 1 and 2). */
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 1, 0), 28, 4), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 0, 0), 20, 5), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 2, 0), 24, 6), 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 1, 16), 32, 7), -ENOMEM);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 1, 16, 0), 24, 7), -ENOMEM);
	CU_ASSERT_EQUAL(stats(fib).plies4, 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 1)), 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 2)), 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 17)), 5);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 2, 9)), 6);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 16, 1)), 1);
	/* Each delete collapses the deepest ply left with nothing longer than its base. */
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 1, 1), 32), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 3);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 1, 0), 28), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 2);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 1, 1, 1)), 5);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 2, 0), 24), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 1);
	CU_ASSERT_EQUAL(fib4_del(fib, 0, IP4(10, 1, 0, 0), 20), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 0);
	CU_ASSERT_EQUAL(fib4_add(fib, 0, IP4(10, 2, 1, 1), 32, 3), 0);    /* fits now */
	CU_ASSERT_EQUAL(stats(fib).plies4, 4);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 1, 1)), 3);
	CU_ASSERT_EQUAL(fib4_lookup(fib, 0, IP4(10, 2, 1, 2)), 1);
	CU_ASSERT_EQUAL(fib_ctx_flush(fib, 0), 0);
	CU_ASSERT_EQUAL(stats(fib).plies4, 0);
	fib_destroy(fib);
}

/* ---- randomized differential test ---- */

static void rand_prefix_near(int fam, const uint8_t (*bases)[16], unsigned nbases, uint8_t a[16],
			     unsigned *len)
{
	unsigned maxlen = fam == 4 ? 32 : 128, flips, i;

	/* Few bases, each perturbed near the end of the prefix: nested prefixes, siblings and
	 * shared plies everywhere, which is what breaks restore and collapse. */
	memcpy(a, bases[rnd_below(nbases)], 16);
	*len = rnd_below(8) == 0 ? rnd_below(maxlen + 1) :
				   maxlen - rnd_below(fam == 4 ? 17 : 90);
	flips = rnd_below(3);
	for (i = 0; i < flips && *len > 0; i++) {
		unsigned bit = *len - 1 - rnd_below(RTE_MIN(*len, 6u));

		a[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
	}
	mask(a, *len);
}

static void rand_addr_near(int fam, const struct ref *ref, uint8_t a[16])
{
	unsigned bytes = fam == 4 ? 4 : 16, i, k;

	memset(a, 0, 16);
	for (i = 0; i < bytes; i++)
		a[i] = (uint8_t)rnd();
	if (ref->n == 0 || rnd_below(4) == 0)
		return;
	k = rnd_below(ref->n);
	if (ref->r[k].fam != fam)
		return;
	/* Inside a random route: its bits, random host part. */
	for (i = 0; i < ref->r[k].len; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));

		a[i / 8] = (uint8_t)((a[i / 8] & ~m) | (ref->r[k].a[i / 8] & m));
	}
}

static unsigned walk_count;

static int count_cb(void *arg, int family, const uint8_t *prefix, uint8_t depth, uint32_t nh)
{
	(void)arg, (void)family, (void)prefix, (void)depth, (void)nh;
	walk_count++;
	return 0;
}

static void test_random(void)
{
	static struct ref ref;
	static uint8_t b4[6][16], b6[6][16];
	struct fib *fib = mk(2, NULL);
	uint64_t base = stats(fib).bytes;
	unsigned op, i, len, k, n4, n6;
	uint8_t a[16];
	uint32_t nh;

	mismatches = 0;
	ref.n = 0;
	for (i = 0; i < 6; i++) {
		a4((uint32_t)rnd(), b4[i]);
		for (k = 0; k < 16; k++)
			b6[i][k] = (uint8_t)rnd();
	}
	for (op = 0; op < 6000 && mismatches == 0; op++) {
		int fam = rnd_below(2) ? 4 : 6;
		uint32_t ctx = rnd_below(8) == 0;

		if (ref.n > 0 && rnd_below(100) < (ref.n > 400 ? 55 : 35)) {
			k = rnd_below(ref.n);
			fam = ref.r[k].fam;
			ctx = ref.r[k].ctx;
			len = ref.r[k].len;
			memcpy(a, ref.r[k].a, 16);
			CU_ASSERT_EQUAL(fib_del(fib, ctx, fam, a, len), 0);
			ref_del(&ref, ctx, fam, a, len);
			CU_ASSERT_EQUAL(fib_del(fib, ctx, fam, a, len), -ENOENT);
		} else {
			rand_prefix_near(fam, fam == 4 ? (const uint8_t(*)[16])b4 :
							 (const uint8_t(*)[16])b6, 6, a, &len);
			/* Few next hops half the time: equal siblings make uniform plies. */
			nh = 1 + rnd_below(rnd_below(2) ? 3 : 1000);
			CU_ASSERT_EQUAL(fib_add(fib, ctx, fam, a, len, nh), 0);
			ref_add(&ref, ctx, fam, a, len, nh);
		}
		check_bounds(fib, &ref, ctx, fam, a, len);
		check_bounds(fib, &ref, !ctx, fam, a, len);
		for (i = 0; i < 8; i++) {
			rand_addr_near(fam, &ref, a);
			check_addr(fib, &ref, rnd_below(2), fam, a);
		}
		if (op % 500 == 499) {
			n4 = n6 = 0;
			for (i = 0; i < ref.n; i++) {
				CU_ASSERT_EQUAL(fib_get(fib, ref.r[i].ctx, ref.r[i].fam, ref.r[i].a,
							ref.r[i].len, &nh), 0);
				CU_ASSERT_EQUAL(nh, ref.r[i].nh);
				n4 += ref.r[i].fam == 4;
				n6 += ref.r[i].fam == 6;
			}
			CU_ASSERT_EQUAL(stats(fib).routes4, n4);
			CU_ASSERT_EQUAL(stats(fib).routes6, n6);
			walk_count = 0;
			fib_walk(fib, 0, count_cb, NULL);
			fib_walk(fib, 1, count_cb, NULL);
			CU_ASSERT_EQUAL(walk_count, ref.n);
		}
	}
	while (ref.n > 0) {
		struct ref_route r = ref.r[rnd_below(ref.n)];

		CU_ASSERT_EQUAL(fib_del(fib, r.ctx, r.fam, r.a, r.len), 0);
		ref_del(&ref, r.ctx, r.fam, r.a, r.len);
		check_bounds(fib, &ref, r.ctx, r.fam, r.a, r.len);
	}
	assert_empty(fib, base);
	fib_destroy(fib);
}

/* ---- readers racing a writer under QSBR ---- */

#define RACE_READERS 2
#define RACE_ROUTES 96 /* per family; half in the checked region, half elsewhere */
#define RACE_NH_PER_ROUTE 8
#define RACE_ADDRS 1024

/*
 * Context 0 keeps a stable covering route (10/8, 2001:db8::/32) while routes inside and
 * beside it come and go; context 1 churns the same routes without a stable one and is
 * flushed now and then, so its roots are dropped and reallocated. A next hop encodes its
 * route (1 = stable, else 2 + route * 8 + variant), so a reader can tell whether a result
 * is legitimate for the address: the route must cover it. A lookup through a reused ply
 * would return some other route's next hop and fail that check.
 */
struct race {
	struct fib *fib;
	struct rte_rcu_qsbr *v;
	uint8_t ra[2][RACE_ROUTES][16];   /* [family] */
	unsigned rlen[2][RACE_ROUTES];
	bool present[2][2][RACE_ROUTES];  /* [ctx][family] */
	uint8_t addr[2][RACE_ADDRS][16];
	bool stop;
	uint64_t lookups, errors;
};

static const uint8_t race_stable[2][16] = { { 10 }, { 0x20, 0x01, 0x0d, 0xb8 } };
static const unsigned race_stable_len[2] = { 8, 32 };

static bool race_valid(const struct race *r, uint32_t ctx, int f, const uint8_t *a, uint32_t nh)
{
	bool stable = ctx == 0 && covers(race_stable[f], race_stable_len[f], a);
	unsigned k;

	if (nh == 0)
		return !stable;
	if (nh == 1)
		return stable;
	k = (nh - 2) / RACE_NH_PER_ROUTE;
	return k < RACE_ROUTES && covers(r->ra[f][k], r->rlen[f][k], a);
}

static void *race_reader(void *arg)
{
	static unsigned next_id;
	struct race *r = arg;
	unsigned id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED) % RACE_READERS;
	uint32_t ctx[64], ip[64], nh[64];
	uint8_t ip6[64][16], a[16];
	uint64_t n = 0, err = 0, x = id + 1;
	unsigned i, k;

	for (i = 0; i < 64; i++)
		ctx[i] = i & 1;
	rte_rcu_qsbr_thread_register(r->v, id);
	rte_rcu_qsbr_thread_online(r->v, id);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < 64; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			k = (unsigned)(x >> 33) % RACE_ADDRS;
			ip[i] = h4(r->addr[0][k]);
			memcpy(ip6[i], r->addr[1][k], 16);
			err += !race_valid(r, ctx[i], 0, r->addr[0][k],
					   fib4_lookup(r->fib, ctx[i], ip[i]));
			err += !race_valid(r, ctx[i], 1, ip6[i], fib6_lookup(r->fib, ctx[i], ip6[i]));
		}
		fib4_lookup_bulk(r->fib, ctx, ip, nh, 64);
		for (i = 0; i < 64; i++) {
			a4(ip[i], a);
			err += !race_valid(r, ctx[i], 0, a, nh[i]);
		}
		fib6_lookup_bulk(r->fib, ctx, (const uint8_t(*)[16])ip6, nh, 64);
		for (i = 0; i < 64; i++)
			err += !race_valid(r, ctx[i], 1, ip6[i], nh[i]);
		n += 256;
		/* Outside any lookup: everything unlinked before now may be freed. */
		rte_rcu_qsbr_quiescent(r->v, id);
	}
	rte_rcu_qsbr_thread_offline(r->v, id);
	rte_rcu_qsbr_thread_unregister(r->v, id);
	__atomic_fetch_add(&r->lookups, n, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->errors, err, __ATOMIC_RELAXED);
	return NULL;
}

static void race_setup(struct race *r)
{
	unsigned f, k, i;
	uint8_t *a;

	memset(r, 0, sizeof(*r));
	for (f = 0; f < 2; f++) {
		for (k = 0; k < RACE_ROUTES; k++) {
again:
			a = r->ra[f][k];
			for (i = 0; i < 16; i++)
				a[i] = (uint8_t)rnd();
			/* Crowded into a few /16 (/40) so they nest and share plies; half
			 * outside the stable route. */
			if (f == 0) {
				a[0] = k % 2 ? 10 : 20;
				a[1] = (uint8_t)rnd_below(3);
				r->rlen[f][k] = 9 + rnd_below(24);
				/* Half of them into two /24s per /16: nested in one first-level
				 * ply and in second-level plies that come and go. */
				if (k % 4 >= 2) {
					a[2] = (uint8_t)rnd_below(2);
					r->rlen[f][k] = 17 + rnd_below(16);
				}
			} else {
				memcpy(a, race_stable[1], 4);
				a[3] = k % 2 ? 0xb8 : 0xb9;
				a[4] = (uint8_t)rnd_below(3);
				r->rlen[f][k] = 33 + rnd_below(96);
			}
			mask(a, r->rlen[f][k]);
			/* Distinct routes, so present[] is exactly what the FIB holds. */
			for (i = 0; i < k; i++)
				if (r->rlen[f][i] == r->rlen[f][k] && !memcmp(r->ra[f][i], a, 16))
					goto again;
		}
		for (i = 0; i < RACE_ADDRS; i++) {
			a = r->addr[f][i];
			memcpy(a, r->ra[f][rnd_below(RACE_ROUTES)], 16);
			if (i % 2)
				a[f == 0 ? 3 : 15] |= (uint8_t)rnd();
		}
	}
}

static int race_set(struct race *r, uint32_t ctx, unsigned f, unsigned k, bool add, uint32_t nh)
{
	r->present[ctx][f][k] = add;
	return add ? fib_add(r->fib, ctx, f ? 6 : 4, r->ra[f][k], r->rlen[f][k], nh) :
		     fib_del(r->fib, ctx, f ? 6 : 4, r->ra[f][k], r->rlen[f][k]);
}

static void race_run(struct rte_rcu_qsbr *v, bool expect_dq)
{
	static struct race r;
	struct timespec t0, t;
	pthread_t th[RACE_READERS];
	uint64_t ops = 0, base;
	unsigned i, f, k;
	uint32_t ctx, nh;
	char name[RTE_RING_NAMESIZE];
	bool dq_seen = false;
	unsigned dq_idx = 0;

	race_setup(&r);
	r.v = v;
	r.fib = mk(2, v);
	base = stats(r.fib).bytes;
	if (expect_dq) {
		/* With EAL the deferral is DPDK's defer queue, whose ring carries the name
		 * the FIB gave it. */
		for (i = 0; i < 1000 && !dq_seen; i++) {
			snprintf(name, sizeof(name), "pffib%u", i);
			dq_seen = rte_ring_lookup(name) != NULL;
			dq_idx = i;
		}
		CU_ASSERT(dq_seen);
	}
	CU_ASSERT_EQUAL(fib4_add(r.fib, 0, h4(race_stable[0]), 8, 1), 0);
	CU_ASSERT_EQUAL(fib6_add(r.fib, 0, race_stable[1], 32, 1), 0);
	for (i = 0; i < RACE_READERS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, race_reader, &r), 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (i = 0; i < 64; i++, ops++) {
			ctx = rnd_below(2);
			f = rnd_below(2);
			k = rnd_below(RACE_ROUTES);
			nh = 2 + k * RACE_NH_PER_ROUTE + rnd_below(RACE_NH_PER_ROUTE);
			CU_ASSERT_EQUAL(race_set(&r, ctx, f, k,
						 !r.present[ctx][f][k] || rnd_below(3) == 0, nh), 0);
			if (ops % 2048 == 2047) {
				CU_ASSERT_EQUAL(fib_ctx_flush(r.fib, 1), 0);
				memset(r.present[1], 0, sizeof(r.present[1]));
			}
		}
		fib_reclaim(r.fib);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000ll + (t.tv_nsec - t0.tv_nsec) < 1500000000ll);
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < RACE_READERS; i++)
		pthread_join(th[i], NULL);
	printf("\n  %" PRIu64 " writer ops, %" PRIu64 " lookups, %" PRIu64 " wrong ", ops,
	       r.lookups, r.errors);
	CU_ASSERT(r.lookups > 0);
	CU_ASSERT_EQUAL(r.errors, 0);
	CU_ASSERT_EQUAL(fib_ctx_flush(r.fib, 0), 0);
	CU_ASSERT_EQUAL(fib_ctx_flush(r.fib, 1), 0);
	assert_empty(r.fib, base);
	fib_destroy(r.fib);
	if (expect_dq) {
		snprintf(name, sizeof(name), "pffib%u", dq_idx);
		CU_ASSERT_PTR_NULL(rte_ring_lookup(name));
	}
}

static void test_race_fifo(void)
{
	struct rte_rcu_qsbr *v = qsbr_new(RACE_READERS);

	race_run(v, false);
	free(v);
}

static bool eal_up;

static int suite_eal_init(void)
{
	char prefix[64], lcore[16];
	char *argv[] = { "test_fib", "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
			 "-m", "64", "--log-level=error", prefix, "-l", lcore };
	cpu_set_t cpus;
	unsigned c = 0;

	/* EAL pins the calling thread to its lcore; the readers should not share it. */
	if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
		return 0;
	while (c < CPU_SETSIZE && !CPU_ISSET(c, &cpus))
		c++;
	snprintf(lcore, sizeof(lcore), "%u", c);
	snprintf(prefix, sizeof(prefix), "--file-prefix=test_fib%d", (int)getpid());
	eal_up = rte_eal_init(RTE_DIM(argv), argv) >= 0;
	if (!eal_up)
		fprintf(stderr, "EAL did not start here: rte_rcu_qsbr_dq test skipped\n");
	sched_setaffinity(0, sizeof(cpus), &cpus);
	return 0;
}

static int suite_eal_clean(void)
{
	if (eal_up)
		rte_eal_cleanup();
	return 0;
}

static void test_race_dq(void)
{
	struct rte_rcu_qsbr *v;

	if (!eal_up)
		return;
	v = qsbr_new(RACE_READERS);
	race_run(v, true);
	free(v);
}

static int suite_seed_init(void)
{
	const char *s = getenv("FIB_TEST_SEED");

	seed = s != NULL ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	rng_state = seed;
	printf("\nFIB_TEST_SEED=%" PRIu64 "\n", seed);
	return 0;
}

static int suite_ply8_init(void)
{
	ply4_bits = 8;
	return 0;
}

static int suite_ply4_init(void)
{
	ply4_bits = 4;
	return 0;
}

static int suite_ply_clean(void)
{
	ply4_bits = FIB_PLY4_BITS_DEFAULT;
	return 0;
}

/* Every test that involves IPv4, run once per IPv4 ply width. */
static const struct {
	const char *name;
	CU_TestFunc fn;
} tests4[] = {
	{ "v4_basic", test_v4_basic },
	{ "validation", test_validation },
	{ "default_and_host", test_default_and_host },
	{ "nested_orders", test_nested_orders },
	{ "uniform_siblings", test_uniform_siblings },
	{ "ply_partition", test_ply_partition },
	{ "ctx_isolation", test_ctx_isolation },
	{ "bulk_eq_scalar", test_bulk },
	{ "collapse_memory", test_collapse_memory },
	{ "walk", test_walk },
	{ "flush", test_flush },
	{ "random_differential", test_random },
	{ "qsbr_race_no_eal", test_race_fifo },
};

static bool add_suite4(const char *name, CU_InitializeFunc init, const char *enomem_name,
		       CU_TestFunc enomem)
{
	CU_pSuite s = CU_add_suite(name, init, suite_ply_clean);

	if (s == NULL)
		return false;
	for (size_t i = 0; i < RTE_DIM(tests4); i++)
		if (!CU_add_test(s, tests4[i].name, tests4[i].fn))
			return false;
	return CU_add_test(s, enomem_name, enomem) != NULL;
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	/* The seed is printed (and the generator seeded) once, by the first suite. */
	s = CU_add_suite("fib", suite_seed_init, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "v6_basic", test_v6_basic) ||
	    !CU_add_test(s, "empty_ctx_memory", test_empty_ctx_memory))
		goto fail;
	if (!add_suite4("fib4_ply8", suite_ply8_init, "enomem", test_enomem) ||
	    !add_suite4("fib4_ply4", suite_ply4_init, "enomem_ply4", test_enomem_ply4))
		goto fail;
	/* Default width (suite_ply_clean) for the race on DPDK's defer queue. */
	s = CU_add_suite("fib_eal", suite_eal_init, suite_eal_clean);
	if (s == NULL || !CU_add_test(s, "qsbr_race_rte_dq", test_race_dq))
		goto fail;

	return pft_cunit_run();
fail:
	return pft_cunit_fail();
}
