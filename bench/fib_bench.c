/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FIB benchmark: memory, install, lookup and delete rates of common/fib.c on synthetic,
 * deterministic tables (seeded PRNG).
 *
 *   empty: one empty context, and the marginal cost of 100,000 more;
 *   multi: --contexts contexts x --routes IPv4 (+ --routes6 IPv6) routes each;
 *   full:  one context with --v4 IPv4 + --v6 IPv6 routes.
 *
 * IPv4 prefixes are random in 1.0.0.0-223.255.255.255 with an Internet-like length mix
 * (about /24 60%, /22-/23 15%, /16-/21 20%, others 5%). IPv6 prefixes cluster under a few
 * thousand /32 allocations inside the RIR blocks, mostly /32-/48 with some /49-/64.
 *
 * --ply4-bits 8|4 picks the IPv4 ply width (struct fib_conf.ply4_bits; default 8).
 *
 * JSON on stdout, human-readable lines on stderr. No EAL needed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fib.h"

#define BURST 64

struct opts {
	bool empty, multi, full;
	uint32_t v4, v6, contexts, routes, routes6, ply4_bits;
	uint64_t lookups, seed, max_plies4, max_plies6;
};

struct r4 {
	uint32_t prefix;
	uint8_t len;
	uint32_t nh;
};

struct r6 {
	uint8_t prefix[16];
	uint8_t len;
	uint32_t nh;
};

static uint64_t rng;

static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * n) >> 32);
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t
rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);

	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

static struct fib *
mkfib(uint32_t contexts, const struct opts *o)
{
	struct fib_conf conf = { .max_contexts = contexts, .ply4_bits = o->ply4_bits,
				 .max_plies4 = o->max_plies4, .max_plies6 = o->max_plies6 };
	struct fib *fib = fib_create(&conf);

	if (fib == NULL) {
		fprintf(stderr, "fib_create: %s\n", strerror(errno));
		exit(1);
	}
	return fib;
}

/* ---- dedup set: open addressing on 64-bit keys (key 0 never occurs) ---- */

struct set {
	uint64_t *k;
	uint64_t mask;
};

static void
set_init(struct set *s, uint64_t n)
{
	uint64_t cap = 16;

	while (cap < n * 2)
		cap <<= 1;
	s->k = xcalloc(cap, sizeof(uint64_t));
	s->mask = cap - 1;
}

static bool
set_insert(struct set *s, uint64_t key)
{
	uint64_t i = (key * 0x9e3779b97f4a7c15ull) >> 20;

	for (;; i++) {
		i &= s->mask;
		if (s->k[i] == key)
			return false;
		if (s->k[i] == 0) {
			s->k[i] = key;
			return true;
		}
	}
}

/* ---- synthetic tables ---- */

static unsigned
v4_len(void)
{
	static const uint8_t mid[] = { 16, 17, 17, 18, 18, 18, 19, 19, 19, 19, 20, 20, 20, 20, 20,
				       21, 21, 21, 21, 21 };
	uint32_t r = rnd_below(1000);

	if (r < 600)
		return 24;
	if (r < 675)
		return 23;
	if (r < 750)
		return 22;
	if (r < 950)
		return mid[rnd_below(sizeof(mid))];
	if (r < 960)
		return 8 + rnd_below(8);
	return 25 + rnd_below(8);
}

/* n distinct routes; the set is reset by the caller between contexts. */
static void
gen4(struct r4 *out, uint32_t n, struct set *s)
{
	uint32_t i = 0, p;
	unsigned len;

	while (i < n) {
		len = v4_len();
		p = (uint32_t)(rnd() >> 32);
		p = (1u << 24) + p % (223u << 24);   /* 1.0.0.0 - 223.255.255.255 */
		p &= len ? ~0u << (32 - len) : 0;
		if (!set_insert(s, (uint64_t)p << 8 | len | 1ull << 63))
			continue;
		out[i].prefix = p;
		out[i].len = (uint8_t)len;
		out[i].nh = 1 + rnd_below(1000);
		i++;
	}
}

static unsigned
v6_len(void)
{
	uint32_t r = rnd_below(100);

	if (r < 10)
		return 32;
	if (r < 30)
		return 33 + rnd_below(15);
	if (r < 80)
		return 48;
	if (r < 85)
		return 49 + rnd_below(7);
	if (r < 93)
		return 56;
	return 57 + rnd_below(8);
}

static void
gen6(struct r6 *out, uint32_t n, struct set *s)
{
	/* RIR blocks: 2001::/16, 2400::/12 (APNIC), 2600::/12 (ARIN), 2800::/12 (LACNIC),
	 * 2a00::/12 (RIPE), 2c00::/12 (AFRINIC). */
	static const uint16_t rir[] = { 0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00 };
	uint32_t nalloc = n / 60 > 1000 ? n / 60 : 1000, i = 0, k;
	uint32_t *alloc = xcalloc(nalloc, sizeof(*alloc));
	uint64_t hi, r;
	unsigned len;
	double u;

	for (k = 0; k < nalloc; k++) {
		uint16_t blk = rir[rnd_below(sizeof(rir) / sizeof(rir[0]))];

		if (blk != 0x2001)
			blk |= (uint16_t)rnd_below(16);
		alloc[k] = (uint32_t)blk << 16 | (uint32_t)rnd_below(1u << 16);
	}
	while (i < n) {
		/* A few big allocations hold most of the more-specifics. */
		u = (double)(rnd() >> 11) / (double)(1ull << 53);
		k = (uint32_t)(u * u * u * nalloc);
		len = v6_len();
		r = rnd();
		hi = (uint64_t)alloc[k] << 32 | (r & 0xffffffffu);
		hi &= ~0ull << (64 - len);
		if (!set_insert(s, (hi ^ (uint64_t)len << 1) | 1))
			continue;
		memset(out[i].prefix, 0, 16);
		for (k = 0; k < 8; k++)
			out[i].prefix[k] = (uint8_t)(hi >> (56 - 8 * k));
		out[i].len = (uint8_t)len;
		out[i].nh = 1 + rnd_below(1000);
		i++;
	}
	free(alloc);
}

static void
install4(struct fib *fib, uint32_t ctx, const struct r4 *r, uint32_t n)
{
	uint32_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = fib4_add(fib, ctx, r[i].prefix, r[i].len, r[i].nh);
		if (rc < 0) {
			fprintf(stderr, "fib4_add: %s\n", strerror(-rc));
			exit(1);
		}
	}
}

static void
install6(struct fib *fib, uint32_t ctx, const struct r6 *r, uint32_t n)
{
	uint32_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = fib6_add(fib, ctx, r[i].prefix, r[i].len, r[i].nh);
		if (rc < 0) {
			fprintf(stderr, "fib6_add: %s\n", strerror(-rc));
			exit(1);
		}
	}
}

/* ---- lookups ---- */

struct lk_result {
	double scalar_mlps, bulk_mlps, hit_ratio;
};

static struct lk_result
bench_lookup4(const struct fib *fib, const uint32_t *ctx, const uint32_t *ip, uint32_t n,
	      uint64_t total)
{
	struct lk_result res;
	uint32_t nh[BURST];
	uint64_t done, hits = 0, sum = 0;
	uint32_t i, k;
	double t;

	t = now();
	for (done = 0; done < total; done += n)
		for (i = 0; i < n; i++)
			sum += fib4_lookup(fib, ctx[i], ip[i]);
	res.scalar_mlps = done / (now() - t) / 1e6;
	t = now();
	for (done = 0; done < total; done += n)
		for (i = 0; i + BURST <= n; i += BURST) {
			fib4_lookup_bulk(fib, ctx + i, ip + i, nh, BURST);
			for (k = 0; k < BURST; k++)
				sum += nh[k];
		}
	res.bulk_mlps = done / (now() - t) / 1e6;
	for (i = 0; i < n; i++)
		hits += fib4_lookup(fib, ctx[i], ip[i]) != 0;
	res.hit_ratio = (double)hits / n;
	if (sum == 42)   /* keep the loops */
		fputc(' ', stderr);
	return res;
}

static struct lk_result
bench_lookup6(const struct fib *fib, const uint32_t *ctx, const uint8_t (*ip)[16], uint32_t n,
	      uint64_t total)
{
	struct lk_result res;
	uint32_t nh[BURST];
	uint64_t done, hits = 0, sum = 0;
	uint32_t i, k;
	double t;

	t = now();
	for (done = 0; done < total; done += n)
		for (i = 0; i < n; i++)
			sum += fib6_lookup(fib, ctx[i], ip[i]);
	res.scalar_mlps = done / (now() - t) / 1e6;
	t = now();
	for (done = 0; done < total; done += n)
		for (i = 0; i + BURST <= n; i += BURST) {
			fib6_lookup_bulk(fib, ctx + i, ip + i, nh, BURST);
			for (k = 0; k < BURST; k++)
				sum += nh[k];
		}
	res.bulk_mlps = done / (now() - t) / 1e6;
	for (i = 0; i < n; i++)
		hits += fib6_lookup(fib, ctx[i], ip[i]) != 0;
	res.hit_ratio = (double)hits / n;
	if (sum == 42)
		fputc(' ', stderr);
	return res;
}

/* Random IPv4 addresses in the unicast range. */
static void
rand_addrs4(uint32_t *ip, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		ip[i] = (1u << 24) + (uint32_t)(rnd() >> 32) % (223u << 24);
}

/* IPv6 addresses inside random installed prefixes (random host part): random 128-bit
 * addresses would all stop at the empty root. */
static void
rand_addrs6(uint8_t (*ip)[16], uint32_t n, const struct r6 *r, uint32_t nr)
{
	uint32_t i, k, b;

	for (i = 0; i < n; i++) {
		const struct r6 *x = &r[rnd_below(nr)];

		for (k = 0; k < 16; k++)
			ip[i][k] = (uint8_t)rnd();
		for (b = 0; b < x->len; b++) {
			uint8_t m = (uint8_t)(0x80u >> (b % 8));

			ip[i][b / 8] = (uint8_t)((ip[i][b / 8] & ~m) | (x->prefix[b / 8] & m));
		}
	}
}

static void
shuffle4(struct r4 *r, uint32_t n)
{
	uint32_t i, k;
	struct r4 t;

	for (i = n; i > 1; i--) {
		k = rnd_below(i);
		t = r[k], r[k] = r[i - 1], r[i - 1] = t;
	}
}

static void
shuffle6(struct r6 *r, uint32_t n)
{
	uint32_t i, k;
	struct r6 t;

	for (i = n; i > 1; i--) {
		k = rnd_below(i);
		t = r[k], r[k] = r[i - 1], r[i - 1] = t;
	}
}

/* ---- scenarios ---- */

static const char *sep = "";

static void
json_open(const char *name)
{
	printf("%s\n  \"%s\": {", sep, name);
	sep = ",";
}

static void
scenario_empty(const struct opts *o)
{
	struct fib_stats one, many;
	uint64_t rss0, rss1, rss2;
	struct fib *f1, *fm;
	uint32_t i;

	(void)o;
	rss0 = rss_bytes();
	f1 = mkfib(1, o);
	fib_get_stats(f1, &one);
	for (i = 0; i < 1000; i++)
		if (fib4_lookup(f1, 0, (uint32_t)rnd()) != 0)
			exit(1);
	rss1 = rss_bytes();
	fm = mkfib(100001, o);
	fib_get_stats(fm, &many);
	rss2 = rss_bytes();

	fprintf(stderr, "empty: 1 context: %" PRIu64 " bytes held, RSS +%" PRIu64
		" bytes; each further empty context: %.1f bytes (RSS %.1f)\n",
		one.bytes, rss1 - rss0, (many.bytes - one.bytes) / 100000.0,
		(double)(int64_t)(rss2 - rss1) / 100000.0);
	json_open("empty");
	printf("\"fib_bytes\": %" PRIu64 ", \"rss_delta_bytes\": %" PRIu64
	       ", \"per_context_bytes\": %.1f, \"per_context_rss_bytes\": %.1f"
	       ", \"target_bytes\": %u, \"within_target\": %s}",
	       one.bytes, rss1 - rss0, (many.bytes - one.bytes) / 100000.0,
	       (double)(int64_t)(rss2 - rss1) / 100000.0, 1u << 20,
	       one.bytes <= 1u << 20 && rss1 - rss0 <= 1u << 20 ? "true" : "false");
	fib_destroy(fm);
	fib_destroy(f1);
}

static void
scenario_multi(const struct opts *o)
{
	const uint64_t target = 4ull << 30;
	struct r4 *r4 = xcalloc(o->routes ? o->routes : 1, sizeof(*r4));
	struct r6 *r6 = xcalloc(o->routes6 ? o->routes6 : 1, sizeof(*r6));
	uint32_t nl = 1u << 20, *ctx = xcalloc(nl, sizeof(*ctx)), *ip = xcalloc(nl, sizeof(*ip));
	struct set s4, s6;
	struct fib_stats st;
	struct lk_result lk;
	double t, gen = 0, ins = 0;
	uint64_t rss0, rss1;
	struct fib *fib;
	uint32_t c;

	set_init(&s4, o->routes);
	set_init(&s6, o->routes6);
	rss0 = rss_bytes();
	fib = mkfib(o->contexts, o);
	for (c = 0; c < o->contexts; c++) {
		t = now();
		memset(s4.k, 0, (s4.mask + 1) * sizeof(uint64_t));
		memset(s6.k, 0, (s6.mask + 1) * sizeof(uint64_t));
		gen4(r4, o->routes, &s4);
		gen6(r6, o->routes6, &s6);
		gen += now() - t;
		t = now();
		install4(fib, c, r4, o->routes);
		install6(fib, c, r6, o->routes6);
		ins += now() - t;
	}
	rss1 = rss_bytes();
	fib_get_stats(fib, &st);

	for (c = 0; c < nl; c++)
		ctx[c] = rnd_below(o->contexts);
	rand_addrs4(ip, nl);
	lk = bench_lookup4(fib, ctx, ip, nl, o->lookups);

	fprintf(stderr, "multi: %u contexts x (%u v4 + %u v6): %" PRIu64 " routes, %" PRIu64
		" v4 + %" PRIu64 " v6 plies, %" PRIu64 " roots: %.1f MiB held (%.1f KiB/context),"
		" RSS +%.1f MiB (target 4096 MiB); install %.2f Mroutes/s (generation %.1f s"
		" excluded); lookup random ctx+addr: scalar %.1f, bulk %.1f Mlookups/s"
		" (hit %.0f%%)\n",
		o->contexts, o->routes, o->routes6, st.routes4 + st.routes6, st.plies4, st.plies6,
		st.roots4 + st.roots6, st.bytes / 1048576.0, st.bytes / 1024.0 / o->contexts,
		(rss1 - rss0) / 1048576.0, (st.routes4 + st.routes6) / ins / 1e6, gen,
		lk.scalar_mlps, lk.bulk_mlps, lk.hit_ratio * 100);
	json_open("multi");
	printf("\"contexts\": %u, \"routes4_per_context\": %u, \"routes6_per_context\": %u"
	       ", \"routes\": %" PRIu64 ", \"plies4\": %" PRIu64 ", \"plies6\": %" PRIu64
	       ", \"roots\": %" PRIu64 ", \"fib_bytes\": %" PRIu64 ", \"rss_delta_bytes\": %" PRIu64
	       ", \"bytes_per_context\": %.0f, \"install_routes_per_s\": %.0f"
	       ", \"lookup4_scalar_mlps\": %.2f, \"lookup4_bulk_mlps\": %.2f"
	       ", \"lookup4_hit_ratio\": %.3f, \"target_bytes\": %" PRIu64
	       ", \"within_target\": %s}",
	       o->contexts, o->routes, o->routes6, st.routes4 + st.routes6, st.plies4, st.plies6,
	       st.roots4 + st.roots6, st.bytes, rss1 - rss0, (double)st.bytes / o->contexts,
	       (st.routes4 + st.routes6) / ins, lk.scalar_mlps, lk.bulk_mlps, lk.hit_ratio,
	       target, st.bytes <= target && rss1 - rss0 <= target ? "true" : "false");
	fib_destroy(fib);
	free(s4.k);
	free(s6.k);
	free(r4);
	free(r6);
	free(ctx);
	free(ip);
}

static void
scenario_full(const struct opts *o)
{
	const uint64_t target = 256ull << 20;
	uint32_t nl = 1u << 20;
	struct r4 *r4 = xcalloc(o->v4 ? o->v4 : 1, sizeof(*r4));
	struct r6 *r6 = xcalloc(o->v6 ? o->v6 : 1, sizeof(*r6));
	uint32_t *ctx = xcalloc(nl, sizeof(*ctx)), *ip = xcalloc(nl, sizeof(*ip));
	uint8_t(*ip6)[16] = xcalloc(nl, 16);
	double t, ins4, ins6, del4, del6;
	struct lk_result lk4, lk6 = { 0, 0, 0 };
	struct fib_stats st, st4, end;
	uint64_t rss0, rss1;
	struct set s;
	struct fib *fib;
	uint32_t i;

	set_init(&s, o->v4 > o->v6 ? o->v4 : o->v6);
	gen4(r4, o->v4, &s);
	memset(s.k, 0, (s.mask + 1) * sizeof(uint64_t));
	gen6(r6, o->v6, &s);
	free(s.k);

	rss0 = rss_bytes();
	fib = mkfib(1, o);
	t = now();
	install4(fib, 0, r4, o->v4);
	ins4 = now() - t;
	fib_get_stats(fib, &st4);
	t = now();
	install6(fib, 0, r6, o->v6);
	ins6 = now() - t;
	rss1 = rss_bytes();
	fib_get_stats(fib, &st);

	rand_addrs4(ip, nl);
	lk4 = bench_lookup4(fib, ctx, ip, nl, o->lookups);
	if (o->v6) {
		rand_addrs6(ip6, nl, r6, o->v6);
		lk6 = bench_lookup6(fib, ctx, (const uint8_t(*)[16])ip6, nl, o->lookups);
	}

	shuffle4(r4, o->v4);
	shuffle6(r6, o->v6);
	t = now();
	for (i = 0; i < o->v4; i++)
		if (fib4_del(fib, 0, r4[i].prefix, r4[i].len) != 0)
			exit(1);
	del4 = now() - t;
	t = now();
	for (i = 0; i < o->v6; i++)
		if (fib6_del(fib, 0, r6[i].prefix, r6[i].len) != 0)
			exit(1);
	del6 = now() - t;
	fib_get_stats(fib, &end);

	fprintf(stderr, "full: %u v4 + %u v6 in one context: %.1f MiB held (v4 alone %.1f MiB,"
		" %" PRIu64 " v4 plies; v6 %" PRIu64 " plies), RSS +%.1f MiB (target 256 MiB)\n",
		o->v4, o->v6, st.bytes / 1048576.0, st4.bytes / 1048576.0, st.plies4,
		st.plies6, (rss1 - rss0) / 1048576.0);
	fprintf(stderr, "full: install v4 %.2f Mroutes/s, v6 %.2f Mroutes/s; delete v4 %.2f"
		" Mroutes/s, v6 %.2f Mroutes/s; after deleting all: %" PRIu64 " plies, %" PRIu64
		" roots\n", o->v4 / ins4 / 1e6, o->v6 ? o->v6 / ins6 / 1e6 : 0.0,
		o->v4 / del4 / 1e6, o->v6 ? o->v6 / del6 / 1e6 : 0.0, end.plies4 + end.plies6,
		end.roots4 + end.roots6);
	fprintf(stderr, "full: lookup v4 (uniform unicast addresses, hit %.0f%%): scalar %.1f,"
		" bulk %.1f Mlookups/s; v6 (inside installed prefixes): scalar %.1f, bulk %.1f"
		" Mlookups/s\n", lk4.hit_ratio * 100, lk4.scalar_mlps, lk4.bulk_mlps,
		lk6.scalar_mlps, lk6.bulk_mlps);
	json_open("full");
	printf("\"routes4\": %u, \"routes6\": %u, \"fib_bytes\": %" PRIu64
	       ", \"fib_bytes_v4_only\": %" PRIu64 ", \"rss_delta_bytes\": %" PRIu64
	       ", \"plies4\": %" PRIu64 ", \"plies6\": %" PRIu64
	       ", \"install4_routes_per_s\": %.0f"
	       ", \"install6_routes_per_s\": %.0f, \"delete4_routes_per_s\": %.0f"
	       ", \"delete6_routes_per_s\": %.0f, \"lookup4_scalar_mlps\": %.2f"
	       ", \"lookup4_bulk_mlps\": %.2f, \"lookup4_hit_ratio\": %.3f"
	       ", \"lookup6_scalar_mlps\": %.2f, \"lookup6_bulk_mlps\": %.2f"
	       ", \"plies_after_delete\": %" PRIu64 ", \"target_bytes\": %" PRIu64
	       ", \"within_target\": %s}",
	       o->v4, o->v6, st.bytes, st4.bytes, rss1 - rss0, st.plies4, st.plies6, o->v4 / ins4,
	       o->v6 ? o->v6 / ins6 : 0.0, o->v4 / del4, o->v6 ? o->v6 / del6 : 0.0,
	       lk4.scalar_mlps, lk4.bulk_mlps, lk4.hit_ratio, lk6.scalar_mlps, lk6.bulk_mlps,
	       end.plies4 + end.plies6, target,
	       st.bytes <= target && rss1 - rss0 <= target ? "true" : "false");
	fib_destroy(fib);
	free(r4);
	free(r6);
	free(ctx);
	free(ip);
	free(ip6);
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--scenario empty|multi|full|all] [--v4 N] [--v6 N] [--contexts N]\n"
		"       [--routes N] [--routes6 N] [--lookups N] [--seed N]\n"
		"       [--max-plies4 N] [--max-plies6 N]   (arena reservations; 0 = default)\n"
		"       [--ply4-bits 8|4]                   (IPv4 ply width; default 8)\n"
		"defaults: all, --v4 1000000 --v6 200000 --contexts 2000 --routes 4000\n"
		"          --routes6 0 --lookups 20000000 --seed 1\n", prog);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "v4", required_argument, NULL, '4' },
		{ "v6", required_argument, NULL, '6' },
		{ "contexts", required_argument, NULL, 'c' },
		{ "routes", required_argument, NULL, 'r' },
		{ "routes6", required_argument, NULL, 'R' },
		{ "lookups", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 'S' },
		{ "max-plies4", required_argument, NULL, 'p' },
		{ "max-plies6", required_argument, NULL, 'P' },
		{ "ply4-bits", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .v4 = 1000000, .v6 = 200000, .contexts = 2000, .routes = 4000,
			  .lookups = 20000000, .seed = 1, .ply4_bits = 8 };
	const char *scen = "all";
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': scen = optarg; break;
		case '4': o.v4 = (uint32_t)strtoul(optarg, NULL, 0); break;
		case '6': o.v6 = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c': o.contexts = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': o.routes = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'R': o.routes6 = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': o.lookups = strtoull(optarg, NULL, 0); break;
		case 'S': o.seed = strtoull(optarg, NULL, 0); break;
		case 'p': o.max_plies4 = strtoull(optarg, NULL, 0); break;
		case 'P': o.max_plies6 = strtoull(optarg, NULL, 0); break;
		case 'w': o.ply4_bits = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	o.empty = !strcmp(scen, "empty") || !strcmp(scen, "all");
	o.multi = !strcmp(scen, "multi") || !strcmp(scen, "all");
	o.full = !strcmp(scen, "full") || !strcmp(scen, "all");
	if ((!o.empty && !o.multi && !o.full) || optind != argc || o.contexts == 0 ||
	    (o.ply4_bits != 8 && o.ply4_bits != 4)) {
		usage(argv[0]);
		return 2;
	}
	rng = o.seed;
	printf("{\n  \"seed\": %" PRIu64 ", \"lookups\": %" PRIu64 ", \"ply4_bits\": %u", o.seed,
	       o.lookups, o.ply4_bits);
	fprintf(stderr, "IPv4 plies of %u bits\n", o.ply4_bits);
	sep = ",";
	if (o.empty)
		scenario_empty(&o);
	if (o.multi)
		scenario_multi(&o);
	if (o.full)
		scenario_full(&o);
	printf("\n}\n");
	return 0;
}
