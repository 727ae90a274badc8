/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route install benchmark of the applier (control/applier.c): how fast feed routes get
 * from the route ring into the FIB, what they cost in memory, how fast they go again.
 *
 * Set-up as peerfwd: EAL, two ring PMD ports named by a generated configuration (one edge,
 * one core port with IPv4/IPv6 gateways, no customers), pf_tables_build(), a route ring
 * (multi-producer HTS, single consumer, 16384 messages) and pf_applier_create(). Every
 * route goes into the core context (context 0: no policy) via the core gateway
 * (192.0.2.254 / 2001:db8:c0::fe), source FPM, as a full table from zebra would.
 *
 * Routes: --v4 distinct IPv4 prefixes with an Internet-like length mix (about 60% /24,
 * 15% /22-/23, 20% /16-/21, 5% others), --v6 distinct IPv6 prefixes clustered under a
 * few thousand /32 allocations (the generator of fib_bench.c, same seed = same table).
 *
 * Phases:
 *   applier:     messages are submitted in chunks of --chunk (pf_feed_submit), then drained
 *                with pf_applier_poll(); only the poll time counts: the applier alone
 *                (ring dequeue, policy, next-hop cache, RIB, FIB);
 *   replace:     every IPv4 route again with another next hop (192.0.2.253);
 *   delete:      every route withdrawn, the same way;
 *   end-to-end:  a producer thread builds and submits all messages (64 per submit, waiting
 *                when the ring is full) while this thread polls like peerfwd's control loop
 *                (pf_applier_poll(8192), 1 ms nap when idle); wall time from the first
 *                submit to the last route applied.
 * Memory: FIB bytes (fib_get_stats), applier RIB bytes (stats JSON "rib_bytes"), RSS
 * growth over the install. JSON on stdout, human-readable lines on stderr. Exit status 1
 * when a route was rejected or a sampled lookup does not find its next hop.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "common/config.h"
#include "common/fib.h"
#include "common/route_msg.h"
#include "control/applier.h"
#include "control/applier_priv.h"
#include "control/control.h"
#include "control/feed.h"
#include "tests/common/pftest.h"

#define ROUTE_RING 16384 /* as peerfwd (control/main.c PF_ROUTE_RING) */

struct opts {
	uint32_t v4, v6, chunk;
	uint64_t seed;
	bool no_e2e, install_only;
};

struct r4 {
	uint32_t prefix; /* host order */
	uint8_t len;
};

struct r6 {
	uint8_t prefix[16];
	uint8_t len;
};

/* ---- deterministic generator (as bench/fib_bench.c) ---- */

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

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (p == NULL) {
		fprintf(stderr, "route_bench: out of memory\n");
		exit(1);
	}
	return p;
}

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
	for (uint64_t i = (key * 0x9e3779b97f4a7c15ull) >> 20;; i++) {
		i &= s->mask;
		if (s->k[i] == key)
			return false;
		if (s->k[i] == 0) {
			s->k[i] = key;
			return true;
		}
	}
}

static unsigned
v4_len(void)
{
	static const uint8_t mid[] = {16, 17, 17, 18, 18, 18, 19, 19, 19, 19, 20, 20, 20, 20, 20,
				      21, 21, 21, 21, 21};
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

static void
gen4(struct r4 *out, uint32_t n)
{
	struct set s;
	uint32_t i = 0, p;
	unsigned len;

	set_init(&s, n);
	while (i < n) {
		len = v4_len();
		p = (uint32_t)(rnd() >> 32);
		p = (1u << 24) + p % (223u << 24); /* 1.0.0.0 - 223.255.255.255 */
		p &= len ? ~0u << (32 - len) : 0;
		if (!set_insert(&s, (uint64_t)p << 8 | len | 1ull << 63))
			continue;
		out[i].prefix = p;
		out[i].len = (uint8_t)len;
		i++;
	}
	free(s.k);
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
gen6(struct r6 *out, uint32_t n)
{
	static const uint16_t rir[] = {0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00};
	uint32_t nalloc = n / 60 > 1000 ? n / 60 : 1000, i = 0, k;
	uint32_t *alloc = xcalloc(nalloc, sizeof(*alloc));
	struct set s;

	set_init(&s, n);
	for (k = 0; k < nalloc; k++) {
		uint16_t blk = rir[rnd_below(sizeof(rir) / sizeof(rir[0]))];

		if (blk != 0x2001)
			blk |= (uint16_t)rnd_below(16);
		alloc[k] = (uint32_t)blk << 16 | (uint32_t)rnd_below(1u << 16);
	}
	while (i < n) {
		double u = (double)(rnd() >> 11) / (double)(1ull << 53);
		unsigned len;
		uint64_t hi;

		k = (uint32_t)(u * u * u * nalloc);
		len = v6_len();
		hi = (uint64_t)alloc[k] << 32 | (rnd() & 0xffffffffu);
		hi &= ~0ull << (64 - len);
		if (!set_insert(&s, (hi ^ (uint64_t)len << 1) | 1))
			continue;
		memset(out[i].prefix, 0, 16);
		for (k = 0; k < 8; k++)
			out[i].prefix[k] = (uint8_t)(hi >> (56 - 8 * k));
		out[i].len = (uint8_t)len;
		i++;
	}
	free(alloc);
	free(s.k);
}

/* ---- environment ---- */

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double
cpu_now(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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

static int
ring_port(const char *name, char *devname)
{
	char prefix[RTE_RING_NAMESIZE];
	struct rte_ring *rx, *tx;

	snprintf(prefix, sizeof(prefix), "rb_%s", name);
	return pft_ring_port(name, prefix, 64, &rx, &tx, devname) < 0 ? -1 : 0;
}

/* One edge and one core port (the ring devices), no customers: context 0 only. */
static struct pf_config *
bench_config(const char *edge, const char *core)
{
	char text[1024];

	snprintf(text, sizeof(text),
		"{\n"
		"  \"ports\": [\n"
		"    { \"name\": \"%s\", \"role\": \"edge\", \"mac\": \"02:00:00:00:0e:01\" },\n"
		"    { \"name\": \"%s\", \"role\": \"core\", \"mac\": \"02:00:00:00:0c:01\",\n"
		"      \"address\": \"192.0.2.1/24\", \"gateway\": \"192.0.2.254\",\n"
		"      \"address6\": \"2001:db8:c0::1/64\", \"gateway6\": \"2001:db8:c0::fe\" }\n"
		"  ],\n"
		"  \"customers\": []\n"
		"}\n", edge, core);
	return pft_config_text(text, "/tmp/pf_route_bench_XXXXXX.json");
}

/* ---- messages ---- */

static struct pf_addr gw4, gw4b, gw6;

static void
msg4(struct pf_route_msg *m, uint8_t op, const struct r4 *r, const struct pf_addr *nh)
{
	uint32_t p = rte_cpu_to_be_32(r->prefix);

	memset(m, 0, offsetof(struct pf_route_msg, nh));
	m->op = op;
	m->source = PF_SRC_FPM;
	m->family = 4;
	m->len = r->len;
	m->ctx = 0;
	memcpy(m->prefix, &p, 4);
	if (op == PF_RT_ADD) {
		m->n_nh = 1;
		m->nh[0] = *nh;
	}
	m->peer.family = 0;
}

static void
msg6(struct pf_route_msg *m, uint8_t op, const struct r6 *r, const struct pf_addr *nh)
{
	memset(m, 0, offsetof(struct pf_route_msg, nh));
	m->op = op;
	m->source = PF_SRC_FPM;
	m->family = 6;
	m->len = r->len;
	m->ctx = 0;
	memcpy(m->prefix, r->prefix, 16);
	if (op == PF_RT_ADD) {
		m->n_nh = 1;
		m->nh[0] = *nh;
	}
	m->peer.family = 0;
}

struct bench {
	struct pf_tables t;
	struct pf_build b;
	struct pf_applier *a;
	struct rte_ring *ring;
	struct pf_feed feed;
	struct r4 *v4;
	struct r6 *v6;
	uint32_t n4, n6;
	struct pf_route_msg *buf;
	uint32_t chunk;
};

/* Timing of one phase: wall clock and CPU time of this thread (the machine may be
 * shared: CPU time leaves out the time the thread waited for a core). */
struct ptime {
	double wall, cpu;
};

/* Submit the phase's messages in chunks; time only the draining. */
static struct ptime
applier_phase(struct bench *B, uint8_t op, int fam, const struct pf_addr *nh)
{
	uint32_t n = fam == 4 ? B->n4 : B->n6;
	uint64_t cycles = 0;
	double cpu = 0;

	for (uint32_t i = 0; i < n; i += B->chunk) {
		uint32_t k = RTE_MIN(B->chunk, n - i), done = 0;
		uint64_t t0;
		double c0;

		for (uint32_t j = 0; j < k; j++) {
			if (fam == 4)
				msg4(&B->buf[j], op, &B->v4[i + j], nh);
			else
				msg6(&B->buf[j], op, &B->v6[i + j], nh);
		}
		if (pf_feed_submit(&B->feed, B->buf, k) != 0)
			exit(1);
		c0 = cpu_now(CLOCK_THREAD_CPUTIME_ID);
		t0 = rte_rdtsc();
		while (done < k)
			done += pf_applier_poll(B->a, k - done);
		cycles += rte_rdtsc() - t0;
		cpu += cpu_now(CLOCK_THREAD_CPUTIME_ID) - c0;
	}
	return (struct ptime){(double)cycles / (double)rte_get_tsc_hz(), cpu};
}

static volatile bool producer_quit;

static void *
producer(void *arg)
{
	struct bench *B = arg;
	struct pf_route_msg m[64];
	uint32_t k = 0;

	for (uint32_t i = 0; i < B->n4; i++) {
		msg4(&m[k++], PF_RT_ADD, &B->v4[i], &gw4);
		if (k == RTE_DIM(m) || i + 1 == B->n4) {
			if (pf_feed_submit(&B->feed, m, k) != 0)
				return NULL;
			k = 0;
		}
	}
	for (uint32_t i = 0; i < B->n6; i++) {
		msg6(&m[k++], PF_RT_ADD, &B->v6[i], &gw6);
		if (k == RTE_DIM(m) || i + 1 == B->n6) {
			if (pf_feed_submit(&B->feed, m, k) != 0)
				return NULL;
			k = 0;
		}
	}
	return NULL;
}

static uint64_t
rejected_total(const struct pf_applier *a)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < PF_REJECT_MAX; i++)
		n += a->rejected[i];
	return n;
}

/* Sampled lookups: the first address of random installed prefixes leads to nh. */
static unsigned
verify(const struct bench *B, uint32_t nh4, uint32_t nh6, unsigned samples)
{
	unsigned bad = 0;

	for (unsigned s = 0; s < samples && B->n4; s++) {
		const struct r4 *r = &B->v4[rnd_below(B->n4)];
		uint32_t got;

		if (fib4_lookup(B->t.fib, 0, r->prefix) == FIB_NH_NONE ||
		    fib4_get(B->t.fib, 0, r->prefix, r->len, &got) != 0 || (nh4 && got != nh4))
			bad++;
	}
	for (unsigned s = 0; s < samples && B->n6; s++) {
		const struct r6 *r = &B->v6[rnd_below(B->n6)];
		uint32_t got;

		if (fib6_get(B->t.fib, 0, r->prefix, r->len, &got) != 0 || (nh6 && got != nh6))
			bad++;
	}
	return bad;
}

static void
usage(const char *p)
{
	fprintf(stderr,
		"usage: %s [--v4 N] [--v6 N] [--seed N] [--chunk N] [--no-e2e] [--install-only]\n"
		"defaults: --v4 1000000 --v6 200000 --seed 1 --chunk 1024\n", p);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"v4", required_argument, NULL, '4'}, {"v6", required_argument, NULL, '6'},
		{"seed", required_argument, NULL, 's'}, {"chunk", required_argument, NULL, 'c'},
		{"no-e2e", no_argument, NULL, 'n'}, {"install-only", no_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.v4 = 1000000, .v6 = 200000, .chunk = 1024, .seed = 1};
	char edge[RTE_ETH_NAME_MAX_LEN], core[RTE_ETH_NAME_MAX_LEN];
	struct bench B;
	struct pf_config *cfg;
	struct fib_stats fs0, fs, fe;
	json_t *st, *out, *ap, *mem, *je, *tgt;
	struct ptime t_add4, t_add6, t_rep4 = {0, 0}, t_del4 = {0, 0}, t_del6 = {0, 0};
	struct ptime e2e = {0, 0};
	double e2e_consumer_cpu = 0;
	uint64_t rss0, rss1, rib_bytes, rib_routes, base_routes, e2e_waits = 0, e2e_hwm = 0;
	uint32_t nh4 = 0, nh6 = 0;
	unsigned bad = 0;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case '4': o.v4 = (uint32_t)strtoul(optarg, NULL, 10); break;
		case '6': o.v6 = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': o.seed = strtoull(optarg, NULL, 10); break;
		case 'c': o.chunk = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': o.no_e2e = true; break;
		case 'i': o.install_only = true; break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	if (o.chunk == 0 || o.chunk > ROUTE_RING / 2 || o.v4 > 16000000 || o.v6 > 16000000) {
		usage(argv[0]);
		return 2;
	}
	if (pft_eal_init("route_bench", 256) < 0)
		return 1;
	if (ring_port("net_pcap_edge", edge) < 0 || ring_port("net_pcap_core", core) < 0 ||
	    (cfg = bench_config(edge, core)) == NULL) {
		fprintf(stderr, "route_bench: ports/configuration set-up failed\n");
		return 1;
	}
	pf_addr_parse("192.0.2.254", &gw4);
	pf_addr_parse("192.0.2.253", &gw4b);
	pf_addr_parse("2001:db8:c0::fe", &gw6);

	memset(&B, 0, sizeof(B));
	rng = o.seed;
	B.n4 = o.v4;
	B.n6 = o.v6;
	B.chunk = o.chunk;
	B.v4 = xcalloc(B.n4, sizeof(*B.v4));
	B.v6 = xcalloc(B.n6, sizeof(*B.v6));
	B.buf = xcalloc(B.chunk, sizeof(*B.buf));
	gen4(B.v4, B.n4);
	gen6(B.v6, B.n6);

	if (pft_tables_build(&B.b, cfg, &B.t, NULL) < 0)
		return 1;
	B.a = pft_applier_create(&B.b, "rb_routes", ROUTE_RING, &B.ring);
	if (B.a == NULL)
		return 1;
	snprintf(B.feed.name, sizeof(B.feed.name), "bench");
	B.feed.source = PF_SRC_FPM;
	B.feed.ring = B.ring;
	B.feed.quit = &producer_quit;
	base_routes = B.a->n_routes - B.a->n_free_routes;
	fib_get_stats(B.t.fib, &fs0);
	nh4 = B.b.ci.nh_core4;
	nh6 = B.b.ci.nh_core6;

	/* ---- applier alone: install ---- */
	rss0 = rss_bytes();
	t_add4 = applier_phase(&B, PF_RT_ADD, 4, &gw4);
	t_add6 = applier_phase(&B, PF_RT_ADD, 6, &gw6);
	rss1 = rss_bytes();
	fib_get_stats(B.t.fib, &fs);
	st = pf_applier_stats_json(B.a);
	rib_bytes = (uint64_t)json_integer_value(json_object_get(st, "rib_bytes"));
	rib_routes = (uint64_t)json_integer_value(json_object_get(st, "rib_routes"));
	json_decref(st);
	if (rejected_total(B.a) != 0 || rib_routes != base_routes + B.n4 + B.n6) {
		fprintf(stderr, "route_bench: %" PRIu64 " routes rejected, %" PRIu64 " in the RIB\n",
			rejected_total(B.a), rib_routes);
		rc = 1;
	}
	bad += verify(&B, nh4, nh6, 100000);

	if (!o.install_only) {
		/* ---- replace every IPv4 route (another next hop) ---- */
		t_rep4 = applier_phase(&B, PF_RT_ADD, 4, &gw4b);
		bad += verify(&B, 0, nh6, 10000);
		/* ---- delete ---- */
		t_del4 = applier_phase(&B, PF_RT_DEL, 4, NULL);
		t_del6 = applier_phase(&B, PF_RT_DEL, 6, NULL);
		fib_get_stats(B.t.fib, &fe);
		if (fe.routes4 != fs0.routes4 || fe.routes6 != fs0.routes6 ||
		    B.a->n_routes - B.a->n_free_routes != base_routes || rejected_total(B.a)) {
			fprintf(stderr, "route_bench: after deleting all: %" PRIu64 "+%" PRIu64
				" FIB routes, %u RIB routes\n", fe.routes4, fe.routes6,
				B.a->n_routes - B.a->n_free_routes);
			rc = 1;
		}
	}

	/* ---- end to end: a producer thread, the control loop consuming ---- */
	if (!o.no_e2e && !o.install_only) {
		pthread_t th;
		uint64_t total = (uint64_t)B.n4 + B.n6, done = 0, hwm0 = B.a->ring_hwm;
		double t0 = now(), c0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID);
		double tc0 = cpu_now(CLOCK_THREAD_CPUTIME_ID);

		B.a->ring_hwm = 0;
		if (pthread_create(&th, NULL, producer, &B) != 0) {
			fprintf(stderr, "route_bench: pthread_create failed\n");
			return 1;
		}
		while (done < total) {
			unsigned nr = pf_applier_poll(B.a, 8192);

			done += nr;
			fib_reclaim(B.t.fib);
			if (nr == 0)
				usleep(1000);
		}
		e2e.wall = now() - t0;
		e2e_consumer_cpu = cpu_now(CLOCK_THREAD_CPUTIME_ID) - tc0;
		pthread_join(th, NULL);
		e2e.cpu = cpu_now(CLOCK_PROCESS_CPUTIME_ID) - c0;
		e2e_waits = B.feed.ring_full_waits;
		e2e_hwm = B.a->ring_hwm;
		B.a->ring_hwm = RTE_MAX(hwm0, B.a->ring_hwm);
		if (rejected_total(B.a) != 0 ||
		    B.a->n_routes - B.a->n_free_routes != base_routes + total) {
			fprintf(stderr, "route_bench: end to end: rejections or missing routes\n");
			rc = 1;
		}
		bad += verify(&B, nh4, nh6, 10000);
	}
	if (bad) {
		fprintf(stderr, "route_bench: %u sampled lookups wrong\n", bad);
		rc = 1;
	}

#define RATE(n, t) ((t) > 0 ? (double)(n) / (t) : 0.0)
	fprintf(stderr, "route_bench: %u IPv4 + %u IPv6 routes into context 0 via the applier "
		"(rates per CPU second of the control thread; wall clock in brackets)\n", B.n4, B.n6);
	fprintf(stderr, "  applier install: v4 %.2f [%.2f] Mroutes/s, v6 %.2f [%.2f] Mroutes/s, "
		"all %.3f [%.3f] s\n", RATE(B.n4, t_add4.cpu) / 1e6, RATE(B.n4, t_add4.wall) / 1e6,
		RATE(B.n6, t_add6.cpu) / 1e6, RATE(B.n6, t_add6.wall) / 1e6, t_add4.cpu + t_add6.cpu,
		t_add4.wall + t_add6.wall);
	if (!o.install_only)
		fprintf(stderr, "  applier replace v4 %.2f [%.2f] Mroutes/s; delete v4 %.2f [%.2f], "
			"v6 %.2f [%.2f] Mroutes/s\n", RATE(B.n4, t_rep4.cpu) / 1e6,
			RATE(B.n4, t_rep4.wall) / 1e6, RATE(B.n4, t_del4.cpu) / 1e6,
			RATE(B.n4, t_del4.wall) / 1e6, RATE(B.n6, t_del6.cpu) / 1e6,
			RATE(B.n6, t_del6.wall) / 1e6);
	if (!o.no_e2e && !o.install_only)
		fprintf(stderr, "  end to end (producer thread -> ring -> control loop): %.3f s wall, "
			"%.2f Mroutes/s; control thread CPU %.3f s, both threads %.3f s; %" PRIu64
			" ring-full waits\n", e2e.wall, RATE(B.n4 + B.n6, e2e.wall) / 1e6,
			e2e_consumer_cpu, e2e.cpu, e2e_waits);
	fprintf(stderr, "  memory: FIB %.1f MiB, applier RIB %.1f MiB, RSS +%.1f MiB\n",
		(double)(fs.bytes - fs0.bytes) / 1048576.0, (double)rib_bytes / 1048576.0,
		(double)(rss1 - rss0) / 1048576.0);

	out = json_object();
	json_object_set_new(out, "v4", json_integer(B.n4));
	json_object_set_new(out, "v6", json_integer(B.n6));
	json_object_set_new(out, "seed", json_integer((json_int_t)o.seed));
	json_object_set_new(out, "rates", json_string("routes per CPU second of the control "
						       "thread; *_wall: per wall-clock second"));
	ap = json_object();
	json_object_set_new(ap, "install4_routes_per_s", json_integer((json_int_t)RATE(B.n4, t_add4.cpu)));
	json_object_set_new(ap, "install4_routes_per_s_wall", json_integer((json_int_t)RATE(B.n4, t_add4.wall)));
	json_object_set_new(ap, "install6_routes_per_s", json_integer((json_int_t)RATE(B.n6, t_add6.cpu)));
	json_object_set_new(ap, "install6_routes_per_s_wall", json_integer((json_int_t)RATE(B.n6, t_add6.wall)));
	json_object_set_new(ap, "install_seconds", json_real(t_add4.cpu + t_add6.cpu));
	json_object_set_new(ap, "install_seconds_wall", json_real(t_add4.wall + t_add6.wall));
	if (!o.install_only) {
		json_object_set_new(ap, "replace4_routes_per_s", json_integer((json_int_t)RATE(B.n4, t_rep4.cpu)));
		json_object_set_new(ap, "replace4_routes_per_s_wall", json_integer((json_int_t)RATE(B.n4, t_rep4.wall)));
		json_object_set_new(ap, "delete4_routes_per_s", json_integer((json_int_t)RATE(B.n4, t_del4.cpu)));
		json_object_set_new(ap, "delete4_routes_per_s_wall", json_integer((json_int_t)RATE(B.n4, t_del4.wall)));
		json_object_set_new(ap, "delete6_routes_per_s", json_integer((json_int_t)RATE(B.n6, t_del6.cpu)));
		json_object_set_new(ap, "delete6_routes_per_s_wall", json_integer((json_int_t)RATE(B.n6, t_del6.wall)));
	}
	json_object_set_new(out, "applier", ap);
	if (!o.no_e2e && !o.install_only) {
		je = json_object();
		json_object_set_new(je, "seconds_wall", json_real(e2e.wall));
		json_object_set_new(je, "routes_per_s_wall", json_integer((json_int_t)RATE(B.n4 + B.n6, e2e.wall)));
		json_object_set_new(je, "control_thread_cpu_seconds", json_real(e2e_consumer_cpu));
		json_object_set_new(je, "routes_per_s", json_integer((json_int_t)RATE(B.n4 + B.n6, e2e_consumer_cpu)));
		json_object_set_new(je, "both_threads_cpu_seconds", json_real(e2e.cpu));
		json_object_set_new(je, "ring_full_waits", json_integer((json_int_t)e2e_waits));
		json_object_set_new(je, "ring_high_water", json_integer((json_int_t)e2e_hwm));
		json_object_set_new(out, "end_to_end", je);
	}
	mem = json_object();
	json_object_set_new(mem, "fib_bytes", json_integer((json_int_t)fs.bytes));
	json_object_set_new(mem, "fib_bytes_added", json_integer((json_int_t)(fs.bytes - fs0.bytes)));
	json_object_set_new(mem, "rib_bytes", json_integer((json_int_t)rib_bytes));
	json_object_set_new(mem, "rss_delta_bytes", json_integer((json_int_t)(rss1 - rss0)));
	json_object_set_new(mem, "rib_routes", json_integer((json_int_t)rib_routes));
	json_object_set_new(out, "memory", mem);
	tgt = json_object();
	json_object_set_new(tgt, "applier4_routes_per_s", json_integer(1000000));
	json_object_set_new(tgt, "total_seconds", json_real(2.0));
	json_object_set_new(tgt, "met", json_boolean(RATE(B.n4, t_add4.cpu) >= 1e6 &&
						     t_add4.cpu + t_add6.cpu <= 2.0));
	json_object_set_new(tgt, "met_wall", json_boolean(RATE(B.n4, t_add4.wall) >= 1e6 &&
		t_add4.wall + t_add6.wall <= 2.0 && (o.no_e2e || o.install_only || e2e.wall <= 2.0)));
	json_object_set_new(out, "target", tgt);
	json_object_set_new(out, "ok", json_boolean(rc == 0));
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(out);

	pf_applier_free(B.a);
	rte_ring_free(B.ring);
	pf_build_free(&B.b);
	pf_tables_free(&B.t);
	pf_config_free(cfg);
	free(B.v4);
	free(B.v6);
	free(B.buf);
	rte_eal_cleanup();
	return rc;
}
