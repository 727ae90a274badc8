/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the route applier (control/applier.c): per-source RIB, source preference,
 * policy, next-hop resolution (EDGE, GRE, CORE, ECMP), standby paths of a second BGP
 * neighbor, PEER_DOWN, SYNC_BEGIN/END mark-and-sweep, 100k random operations against a
 * reference model, the stats JSON.
 *
 * Tables are built from configs/exchange-provider.json (port names rewritten to the ring
 * PMD devices created here, as in test_dataplane.c); every test gets fresh tables and a
 * fresh applier. Feed messages travel as in peerfwd: pf_feed_submit() into an rte_ring,
 * pf_applier_poll() on the consumer side; operator (peerctl) routes go through
 * pf_applier_apply() like the management socket does. The checks read the FIB the
 * workers read (fib4_lookup / fib6_lookup) and the writer-side exact match (fib4_get).
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

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "common/config.h"
#include "common/route_msg.h"
#include "control/applier.h"
#include "control/applier_priv.h"
#include "control/control.h"
#include "control/feed.h"
#include "tests/common/pftest.h"
#include "tests/common/pftest_check.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"
#define ROUTE_RING 1024u

/* ------------------------------------------------------------------------------------ */
/* Fixture                                                                              */

static struct rte_ring *port_ring[2][2];
static bool eal_up;
static struct pf_config *cfg_main, *cfg_alt; /* alt: contoso-private max 3 IPv4, /0 allowed */
static volatile bool quit_flag;

static uint16_t cx_core, cx_cpriv, cx_cpub, cx_fpriv, cx_fms;

struct fx {
	struct pf_tables t;
	struct pf_build b;
	struct pf_applier *a;
	struct rte_ring *ring;
	struct pf_feed feed;     /* ExaBGP-like producer */
	struct pf_feed feed_fpm; /* FPM-like producer (same ring) */
	bool built;
};

static struct fx F;

static void
fx_close(struct fx *f)
{
	pf_applier_free(f->a);
	rte_ring_free(f->ring);
	if (f->built) {
		pf_build_free(&f->b);
		pf_tables_free(&f->t);
	}
	memset(f, 0, sizeof(*f));
}

static int
fx_open(struct fx *f, const struct pf_config *cfg)
{
	static unsigned seq;
	char name[RTE_RING_NAMESIZE];

	memset(f, 0, sizeof(*f));
	if (pft_tables_build(&f->b, cfg, &f->t, &f->built) < 0)
		return -1;
	snprintf(name, sizeof(name), "ut_ap_rt%u", seq++);
	f->a = pft_applier_create(&f->b, name, ROUTE_RING, &f->ring);
	if (f->a == NULL)
		return -1;
	snprintf(f->feed.name, sizeof(f->feed.name), "exabgp");
	f->feed.source = PF_SRC_EXABGP;
	f->feed.ring = f->ring;
	f->feed.quit = &quit_flag;
	snprintf(f->feed_fpm.name, sizeof(f->feed_fpm.name), "fpm");
	f->feed_fpm.source = PF_SRC_FPM;
	f->feed_fpm.ring = f->ring;
	f->feed_fpm.quit = &quit_flag;
	return 0;
}

static void
test_setup(void)
{
	if (fx_open(&F, cfg_main) < 0)
		pft_failf(__FILE__, __LINE__, "fixture set-up failed");
	CHECK_EQ(F.t.fib->ply4_bits, 8);   /* the example's default */
}

static void
test_teardown(void)
{
	fx_close(&F);
}

/* The example with the ring ports' names; alt: contoso-private with policy.max_prefixes4
 * = 3 and allow_default_route. Loaded through the real parser. */
static struct pf_config *
load_config(const char *edge, const char *core, bool alt)
{
	json_t *root = pft_config_json_ports(EXAMPLE, edge, core), *c, *cx;
	struct pf_config *cfg;
	size_t i, k;

	if (root == NULL)
		return NULL;
	if (alt)
		json_array_foreach(json_object_get(root, "customers"), i, c)
			json_array_foreach(json_object_get(c, "contexts"), k, cx) {
				const char *n = json_string_value(json_object_get(cx, "name"));

				if (n && strcmp(n, "contoso-private") == 0) {
					json_object_set_new(cx, "policy",
							    json_pack("{s:i}", "max_prefixes4", 3));
					json_object_set_new(cx, "allow_default_route", json_true());
				}
			}
	cfg = pft_config_json(root, "/tmp/pf_test_applier_XXXXXX.json");
	json_decref(root);
	return cfg;
}

static int
ring_port(int e, const char *name, char *devname)
{
	char prefix[RTE_RING_NAMESIZE];

	snprintf(prefix, sizeof(prefix), "ut_ap_%d", e);
	return pft_ring_port(name, prefix, 64, &port_ring[e][0], &port_ring[e][1], devname) < 0
		       ? -1
		       : 0;
}

static int
find_ctx(const struct pf_tables *t, const char *name, uint16_t *out)
{
	for (uint32_t i = 0; i < t->n_ctx; i++)
		if (strcmp(t->ctx[i].name, name) == 0) {
			*out = (uint16_t)i;
			return 0;
		}
	fprintf(stderr, "no context %s\n", name);
	return -1;
}

static int
suite_init(void)
{
	char edge[RTE_ETH_NAME_MAX_LEN], core[RTE_ETH_NAME_MAX_LEN];
	struct fx f;
	int r;

	if (pft_eal_init("test_applier", 256) < 0)
		return -1;
	eal_up = true;
	if (ring_port(0, "net_pcap_edge", edge) < 0 || ring_port(1, "net_pcap_core", core) < 0)
		return -1;
	cfg_main = load_config(edge, core, false);
	cfg_alt = load_config(edge, core, true);
	if (cfg_main == NULL || cfg_alt == NULL)
		return -1;
	if (fx_open(&f, cfg_main) < 0) {
		fx_close(&f);
		return -1;
	}
	r = find_ctx(&f.t, "core", &cx_core) | find_ctx(&f.t, "contoso-private", &cx_cpriv) |
	    find_ctx(&f.t, "contoso-public", &cx_cpub) |
	    find_ctx(&f.t, "fabrikam-private", &cx_fpriv) |
	    find_ctx(&f.t, "fabrikam-microsoft", &cx_fms);
	fx_close(&f);
	return r ? -1 : 0;
}

static int
suite_clean(void)
{
	fx_close(&F);
	pf_config_free(cfg_main);
	pf_config_free(cfg_alt);
	for (int e = 0; e < 2; e++) {
		uint16_t pid;
		char name[32];

		snprintf(name, sizeof(name), "net_ring_%s", e ? "net_pcap_core" : "net_pcap_edge");
		if (rte_eth_dev_get_port_by_name(name, &pid) == 0)
			rte_eth_dev_close(pid);
		rte_ring_free(port_ring[e][0]);
		rte_ring_free(port_ring[e][1]);
	}
	if (eal_up)
		rte_eal_cleanup();
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Messages                                                                             */

static void
addr_of(const char *s, struct pf_addr *a)
{
	if (pf_addr_parse(s, a) != 0) {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
}

/* op, source, context, "prefix/len", "nh1[,nh2...]" (NULL: none), BGP neighbor (NULL). */
static struct pf_route_msg
msg(uint8_t op, uint8_t src, uint16_t ctx, const char *pfx, const char *nhs, const char *peer)
{
	struct pf_route_msg m;

	memset(&m, 0, sizeof(m));
	m.op = op;
	m.source = src;
	m.ctx = ctx;
	if (pfx) {
		struct pf_prefix p;

		if (pf_prefix_parse(pfx, &p) != 0) {
			fprintf(stderr, "bad test prefix %s\n", pfx);
			abort();
		}
		m.family = (uint8_t)p.family;
		m.len = p.len;
		memcpy(m.prefix, p.addr, 16);
	}
	if (nhs) {
		char buf[256], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", nhs);
		for (char *tok = strtok_r(buf, ",", &save); tok && m.n_nh < PF_RT_MAX_NH;
		     tok = strtok_r(NULL, ",", &save))
			addr_of(tok, &m.nh[m.n_nh++]);
	}
	if (peer)
		addr_of(peer, &m.peer);
	return m;
}

static struct pf_route_msg
exa_add(uint16_t ctx, const char *pfx, const char *nhs, const char *peer)
{
	return msg(PF_RT_ADD, PF_SRC_EXABGP, ctx, pfx, nhs, peer);
}

static struct pf_route_msg
exa_del(uint16_t ctx, const char *pfx, const char *peer)
{
	return msg(PF_RT_DEL, PF_SRC_EXABGP, ctx, pfx, NULL, peer);
}

/* Through the ring as a feed does, then drained as the control loop does. */
static void
feed_n(struct pf_feed *fd, const struct pf_route_msg *m, unsigned n)
{
	for (unsigned done = 0; done < n;) {
		unsigned k = RTE_MIN(n - done, ROUTE_RING / 2);

		if (pf_feed_submit(fd, m + done, k) != 0)
			pft_failf(__FILE__, __LINE__, "pf_feed_submit failed");
		while (rte_ring_count(F.ring) != 0)
			pf_applier_poll(F.a, 4096);
		done += k;
	}
}

static void
feed1(struct pf_route_msg m)
{
	feed_n(&F.feed, &m, 1);
}

static uint64_t
rej(enum pf_reject why)
{
	return F.a->rejected[why];
}

/* ------------------------------------------------------------------------------------ */
/* FIB checks                                                                           */

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return ntohl(a.s_addr);
}

static uint32_t
lk4(uint16_t ctx, const char *ip)
{
	return fib4_lookup(F.t.fib, ctx, ip4(ip));
}

static uint32_t
lk6(uint16_t ctx, const char *ip)
{
	uint8_t a[16];

	if (inet_pton(AF_INET6, ip, a) != 1)
		abort();
	return fib6_lookup(F.t.fib, ctx, a);
}

static const struct pf_nexthop *
nhp(uint32_t nh)
{
	return nh < F.t.n_nh ? &F.t.nh[nh] : NULL;
}

/* The neighbor of next hop nh has address ip. */
static bool
nh_via(uint32_t nh, const char *ip)
{
	const struct pf_nexthop *n = nhp(nh);
	struct pf_addr a;

	addr_of(ip, &a);
	if (n == NULL || (n->type != PF_NH_EDGE && n->type != PF_NH_CORE && n->type != PF_NH_GRE))
		return false;
	if (n->neigh >= F.t.n_neigh)
		return false;
	return F.t.neigh[n->neigh].family == a.family &&
	       memcmp(F.t.neigh[n->neigh].ip, a.addr, a.family == 4 ? 4 : 16) == 0;
}

static bool
is_edge_via(uint32_t nh, uint16_t ctx, const char *ip)
{
	const struct pf_nexthop *n = nhp(nh);

	return n && n->type == PF_NH_EDGE && n->ctx == ctx && nh_via(nh, ip);
}

static int
src_of(uint16_t ctx, const char *pfx)
{
	struct pf_prefix p;

	if (pf_prefix_parse(pfx, &p) != 0)
		abort();
	return pf_applier_route_source(F.a, ctx, p.family, p.addr, p.len);
}

static bool
fib_has(uint16_t ctx, const char *pfx, uint32_t *nh)
{
	struct pf_prefix p;
	uint32_t a;

	if (pf_prefix_parse(pfx, &p) != 0)
		abort();
	if (p.family == 6)
		return fib6_get(F.t.fib, ctx, p.addr, p.len, nh) == 0;
	memcpy(&a, p.addr, 4);
	return fib4_get(F.t.fib, ctx, ntohl(a), p.len, nh) == 0;
}

/* ------------------------------------------------------------------------------------ */
/* Tests                                                                                */

static void
test_add_del_edge(void)
{
	uint32_t gre = lk4(cx_cpriv, "10.0.5.1"), nh;

	CHECK(nhp(gre) && nhp(gre)->type == PF_NH_GRE, "VNet 10.0.0.0/16 is GRE before");
	CHECK_EQ(lk4(cx_cpriv, "10.5.1.1"), FIB_NH_NONE);

	feed1(exa_add(cx_cpriv, "10.5.0.0/16", "172.16.1.1", "172.16.1.1"));
	nh = lk4(cx_cpriv, "10.5.1.1");
	CHECK(is_edge_via(nh, cx_cpriv, "172.16.1.1"), "10.5.0.0/16: EDGE via 172.16.1.1 (nh %u)", nh);
	CHECK_EQ(nhp(nh)->tags.n, 1);
	CHECK_EQ(ntohs(nhp(nh)->tags.tci[0]) & 0xfff, 555);
	CHECK_EQ(src_of(cx_cpriv, "10.5.0.0/16"), PF_SRC_EXABGP);
	/* only that context: the same addresses elsewhere are untouched */
	CHECK_EQ(lk4(cx_fpriv, "10.5.1.1"), FIB_NH_NONE);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 1);
	CHECK_EQ(F.a->applied, 1);
	CHECK_EQ(F.a->dequeued, 1);

	feed1(exa_del(cx_cpriv, "10.5.0.0/16", "172.16.1.1"));
	CHECK_EQ(lk4(cx_cpriv, "10.5.1.1"), FIB_NH_NONE);
	CHECK_EQ(src_of(cx_cpriv, "10.5.0.0/16"), -1);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 0);

	/* a more specific inside a VNet: its withdraw brings the covering GRE route back */
	feed1(exa_add(cx_cpriv, "10.0.5.0/24", "172.16.1.1", "172.16.1.1"));
	CHECK(is_edge_via(lk4(cx_cpriv, "10.0.5.1"), cx_cpriv, "172.16.1.1"), "/24 over the VNet");
	CHECK_EQ(lk4(cx_cpriv, "10.0.6.1"), gre);
	feed1(exa_del(cx_cpriv, "10.0.5.0/24", "172.16.1.1"));
	CHECK_EQ(lk4(cx_cpriv, "10.0.5.1"), gre);
	CHECK(!fib_has(cx_cpriv, "10.0.5.0/24", &nh), "the /24 is gone from the FIB");

	/* withdraw of something never announced */
	feed1(exa_del(cx_cpriv, "10.5.0.0/16", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_not_found), 1);

	/* IPv6 in the same context via the IPv6 peer */
	feed1(exa_add(cx_cpriv, "fd00:5::/48", "2001:db8:a1::1", "2001:db8:a1::1"));
	nh = lk6(cx_cpriv, "fd00:5::1");
	CHECK(is_edge_via(nh, cx_cpriv, "2001:db8:a1::1"), "IPv6 EDGE (nh %u)", nh);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][1], 1);
	feed1(exa_del(cx_cpriv, "fd00:5::/48", "2001:db8:a1::1"));
	CHECK_EQ(lk6(cx_cpriv, "fd00:5::1"), FIB_NH_NONE);
}

/* "fib_ipv4_ply_bits": 4 reaches the FIB the tables are built with, and the same feed
 * routes resolve through its 16-entry plies. */
static void
test_fib_ply4(void)
{
	fx_close(&F);
	cfg_main->fib_ipv4_ply_bits = 4;
	if (fx_open(&F, cfg_main) < 0)
		pft_failf(__FILE__, __LINE__, "fixture set-up failed");
	cfg_main->fib_ipv4_ply_bits = 8;
	CHECK_EQ(F.t.fib->ply4_bits, 4);
	test_add_del_edge();
}

static void
test_static_wins(void)
{
	uint32_t gre = lk4(cx_cpriv, "10.0.1.1"), nh = 0;

	CHECK_EQ(src_of(cx_cpriv, "10.0.0.0/16"), PF_SRC_STATIC);
	feed1(exa_add(cx_cpriv, "10.0.0.0/16", "172.16.1.1", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_max_prefixes) + rej(PF_REJECT_nh_unresolvable), 0);
	CHECK_EQ(F.a->applied, 1);
	CHECK_EQ(lk4(cx_cpriv, "10.0.1.1"), gre);
	CHECK_EQ(src_of(cx_cpriv, "10.0.0.0/16"), PF_SRC_STATIC);
	feed1(exa_del(cx_cpriv, "10.0.0.0/16", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_not_found), 0);
	CHECK_EQ(lk4(cx_cpriv, "10.0.1.1"), gre);
	CHECK(fib_has(cx_cpriv, "10.0.0.0/16", &nh) && nh == gre, "static VNet route kept");
	CHECK_EQ(src_of(cx_cpriv, "10.0.0.0/16"), PF_SRC_STATIC);
	/* a second withdraw finds nothing of that source */
	feed1(exa_del(cx_cpriv, "10.0.0.0/16", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_not_found), 1);
	CHECK_EQ(lk4(cx_cpriv, "10.0.1.1"), gre);
	/* the core context's static default route likewise */
	{
		uint32_t def = lk4(cx_core, "8.8.8.8");
		struct pf_route_msg m = msg(PF_RT_ADD, PF_SRC_FPM, cx_core, "0.0.0.0/0",
					    "192.0.2.77", NULL);

		feed_n(&F.feed_fpm, &m, 1);
		CHECK_EQ(lk4(cx_core, "8.8.8.8"), def);
		m.op = PF_RT_DEL;
		feed_n(&F.feed_fpm, &m, 1);
		CHECK_EQ(lk4(cx_core, "8.8.8.8"), def);
		CHECK(nh_via(def, "192.0.2.254"), "core default via the gateway");
	}
}

static void
test_cli_beats_feeds(void)
{
	struct pf_route_msg cli = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, "10.6.0.0/16", "172.16.2.1",
				      NULL);
	char err[200];
	uint32_t nh;

	feed1(exa_add(cx_cpriv, "10.6.0.0/16", "172.16.1.1", "172.16.1.1"));
	CHECK(is_edge_via(lk4(cx_cpriv, "10.6.0.1"), cx_cpriv, "172.16.1.1"), "feed route in");
	CHECK_EQ(pf_applier_apply(F.a, &cli, err, sizeof(err)), 0);
	CHECK_EQ(err[0], 0);
	CHECK(is_edge_via(lk4(cx_cpriv, "10.6.0.1"), cx_cpriv, "172.16.2.1"), "CLI route wins");
	CHECK_EQ(src_of(cx_cpriv, "10.6.0.0/16"), PF_SRC_CLI);
	/* the feed changes its route: the FIB keeps the CLI's */
	feed1(exa_add(cx_cpriv, "10.6.0.0/16", "198.51.100.1", "172.16.1.1"));
	CHECK(is_edge_via(lk4(cx_cpriv, "10.6.0.1"), cx_cpriv, "172.16.2.1"), "still CLI");
	/* CLI withdraws: the feed's current route takes over */
	cli.op = PF_RT_DEL;
	CHECK_EQ(pf_applier_apply(F.a, &cli, err, sizeof(err)), 0);
	nh = lk4(cx_cpriv, "10.6.0.1");
	CHECK(nhp(nh) && nhp(nh)->type == PF_NH_GRE, "feed route (GRE) back, nh %u", nh);
	CHECK_EQ(src_of(cx_cpriv, "10.6.0.0/16"), PF_SRC_EXABGP);
	/* CLI withdraw of what CLI does not have */
	CHECK_EQ(pf_applier_apply(F.a, &cli, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "not_found") != NULL, "err: %s", err);
	/* CLI routes pass no policy: a /32 in a private context */
	cli = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, "10.6.9.9/32", "172.16.1.1", NULL);
	CHECK_EQ(pf_applier_apply(F.a, &cli, err, sizeof(err)), 0);
	CHECK(is_edge_via(lk4(cx_cpriv, "10.6.9.9"), cx_cpriv, "172.16.1.1"), "CLI /32");
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 1); /* CLI routes do not count */
}

static void
test_replace(void)
{
	uint32_t nh1, nh2, nh3;

	feed1(exa_add(cx_cpriv, "10.7.0.0/16", "172.16.1.1", "172.16.1.1"));
	nh1 = lk4(cx_cpriv, "10.7.1.1");
	feed1(exa_add(cx_cpriv, "10.7.0.0/16", "172.16.2.1", "172.16.1.1"));
	nh2 = lk4(cx_cpriv, "10.7.1.1");
	CHECK(is_edge_via(nh1, cx_cpriv, "172.16.1.1"), "before");
	CHECK(is_edge_via(nh2, cx_cpriv, "172.16.2.1"), "after replace");
	CHECK(nh1 != nh2, "replace changed the next hop");
	feed1(exa_add(cx_cpriv, "10.7.0.0/16", "198.51.100.1", "172.16.1.1"));
	nh3 = lk4(cx_cpriv, "10.7.1.1");
	CHECK(nhp(nh3) && nhp(nh3)->type == PF_NH_GRE, "replaced by GRE");
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 1); /* a replace is no new prefix */
	/* blackhole */
	{
		struct pf_route_msg m = exa_add(cx_cpriv, "10.7.0.0/16", NULL, "172.16.1.1");

		m.flags = PF_RT_F_BLACKHOLE;
		feed1(m);
		CHECK(nhp(lk4(cx_cpriv, "10.7.1.1"))->type == PF_NH_DROP, "blackhole");
	}
}

static void
test_ecmp(void)
{
	const struct pf_nexthop *g;
	uint32_t nh, nh2, nh3;
	bool m1 = false, m2 = false;

	feed1(exa_add(cx_cpriv, "10.8.0.0/16", "172.16.1.1,172.16.2.1", "172.16.1.1"));
	nh = lk4(cx_cpriv, "10.8.0.1");
	g = nhp(nh);
	CHECK(g && g->type == PF_NH_ECMP, "ECMP next hop (nh %u type %d)", nh, g ? g->type : -1);
	if (g == NULL || g->type != PF_NH_ECMP)
		return;
	CHECK_EQ(g->n_ecmp, 2);
	for (unsigned i = 0; i < g->n_ecmp; i++) {
		m1 |= is_edge_via(g->ecmp[i], cx_cpriv, "172.16.1.1");
		m2 |= is_edge_via(g->ecmp[i], cx_cpriv, "172.16.2.1");
	}
	CHECK(m1 && m2, "members toward both customer routers");
	/* the same set in the other order is the same group */
	feed1(exa_add(cx_cpriv, "10.9.0.0/16", "172.16.2.1,172.16.1.1", "172.16.1.1"));
	nh2 = lk4(cx_cpriv, "10.9.0.1");
	CHECK_EQ(nh2, nh);
	/* duplicates collapse: one member is a plain next hop */
	feed1(exa_add(cx_cpriv, "10.10.0.0/16", "172.16.2.1,172.16.2.1", "172.16.1.1"));
	nh3 = lk4(cx_cpriv, "10.10.0.1");
	CHECK(is_edge_via(nh3, cx_cpriv, "172.16.2.1"), "duplicate members: plain EDGE");
	/* three members, one the tunnel: another group */
	feed1(exa_add(cx_cpriv, "10.11.0.0/16", "198.51.100.1,172.16.2.1,172.16.1.1", "172.16.1.1"));
	g = nhp(lk4(cx_cpriv, "10.11.0.1"));
	CHECK(g && g->type == PF_NH_ECMP && g->n_ecmp == 3, "3-member group");
	/* one distinct group in the cache per set; the table did not grow on repeats */
	{
		uint32_t n_nh = F.t.n_nh;

		feed1(exa_add(cx_cpriv, "10.12.0.0/16", "172.16.1.1,172.16.2.1", "172.16.1.1"));
		CHECK_EQ(F.t.n_nh, n_nh);
		CHECK_EQ(lk4(cx_cpriv, "10.12.0.1"), nh);
	}
	/* the same addresses in another context resolve there (fabrikam has only .3.1) */
	feed1(exa_add(cx_fpriv, "10.8.0.0/16", "172.16.3.1,172.16.1.1", "172.16.3.1"));
	CHECK_EQ(lk4(cx_fpriv, "10.8.0.1"), FIB_NH_NONE);
	CHECK_EQ(rej(PF_REJECT_nh_unresolvable), 1);
}

static void
test_gre_core(void)
{
	const struct pf_nexthop *n;
	uint32_t nh;

	feed1(exa_add(cx_cpriv, "10.13.0.0/16", "198.51.100.1", "172.16.1.1"));
	n = nhp(nh = lk4(cx_cpriv, "10.13.0.1"));
	CHECK(n && n->type == PF_NH_GRE, "GRE next hop (nh %u)", nh);
	if (n && n->type == PF_NH_GRE) {
		CHECK_EQ(ntohl(n->gre_key), 1001);
		CHECK_EQ(n->tun_dst, htonl(ip4("198.51.100.1")));
		CHECK(nh_via(nh, "192.0.2.254"), "tunnel leaves via the core gateway");
		CHECK_EQ(nh, lk4(cx_cpriv, "10.0.0.1")); /* the VNets' own tunnel next hop */
	}
	/* fabrikam's tunnel endpoint is no next hop in contoso's context */
	feed1(exa_add(cx_cpriv, "10.14.0.0/16", "198.51.100.2", "172.16.1.1"));
	CHECK_EQ(lk4(cx_cpriv, "10.14.0.1"), FIB_NH_NONE);
	CHECK_EQ(rej(PF_REJECT_nh_unresolvable), 1);

	/* public peering: via the core gateway */
	feed1(exa_add(cx_cpub, "8.8.8.0/24", "192.0.2.254", "172.16.1.5"));
	n = nhp(nh = lk4(cx_cpub, "8.8.8.8"));
	CHECK(n && n->type == PF_NH_CORE && nh_via(nh, "192.0.2.254"), "CORE via gw (nh %u)", nh);
	CHECK_EQ(nh, lk4(cx_cpub, "13.64.0.1")); /* = the static "via core" route's */
	/* and another core-subnet address: its own neighbor */
	feed1(exa_add(cx_cpub, "8.8.4.0/24", "192.0.2.9", "172.16.1.5"));
	n = nhp(nh = lk4(cx_cpub, "8.8.4.4"));
	CHECK(n && n->type == PF_NH_CORE && nh_via(nh, "192.0.2.9"), "CORE via .9 (nh %u)", nh);
	/* the core context itself (no policy), IPv6 */
	{
		struct pf_route_msg m = msg(PF_RT_ADD, PF_SRC_FPM, cx_core, "2001:db8:77::/48",
					    "2001:db8:c0::fe", NULL);

		feed_n(&F.feed_fpm, &m, 1);
		n = nhp(nh = lk6(cx_core, "2001:db8:77::1"));
		CHECK(n && n->type == PF_NH_CORE && nh_via(nh, "2001:db8:c0::fe"), "v6 CORE");
	}
}

static void
test_unresolvable(void)
{
	char err[200];
	struct pf_route_msg m;

	feed1(exa_add(cx_cpriv, "10.15.0.0/16", "172.16.3.1", "172.16.1.1")); /* fabrikam's */
	feed1(exa_add(cx_cpriv, "10.15.0.0/16", "192.0.2.1", "172.16.1.1"));  /* our own */
	feed1(exa_add(cx_cpriv, "10.15.0.0/16", "172.16.1.2", "172.16.1.1")); /* ours on the link */
	feed1(exa_add(cx_cpriv, "10.15.0.0/16", "9.9.9.9", "172.16.1.1"));    /* nowhere */
	feed1(exa_add(cx_cpriv, "10.15.0.0/16", NULL, "172.16.1.1"));         /* none */
	CHECK_EQ(rej(PF_REJECT_nh_unresolvable), 5);
	CHECK_EQ(lk4(cx_cpriv, "10.15.0.1"), FIB_NH_NONE);
	CHECK_EQ(F.a->applied, 0);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 0);
	m = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, "10.15.0.0/16", "9.9.9.9", NULL);
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	CHECK(strncmp(err, "nh_unresolvable", 15) == 0, "err: %s", err);
	/* an ECMP set with one bad member is refused as a whole, nothing changes */
	feed1(exa_add(cx_cpriv, "10.15.0.0/16", "172.16.1.1", "172.16.1.1"));
	feed1(exa_add(cx_cpriv, "10.15.0.0/16", "172.16.2.1,9.9.9.9", "172.16.1.1"));
	CHECK(is_edge_via(lk4(cx_cpriv, "10.15.0.1"), cx_cpriv, "172.16.1.1"), "old route kept");
}

static void
test_policy(void)
{
	char err[200];
	struct pf_route_msg m;
	uint64_t before;

	feed1(exa_add(cx_cpriv, "10.16.0.0/30", "172.16.1.1", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_too_specific), 1);
	CHECK_EQ(lk4(cx_cpriv, "10.16.0.1"), FIB_NH_NONE);
	feed1(exa_add(cx_cpriv, "10.16.0.0/29", "172.16.1.1", "172.16.1.1")); /* /29 is fine */
	CHECK(is_edge_via(lk4(cx_cpriv, "10.16.0.1"), cx_cpriv, "172.16.1.1"), "/29 accepted");
	feed1(exa_add(cx_cpriv, "fd00:16::/65", "2001:db8:a1::1", "2001:db8:a1::1"));
	CHECK_EQ(rej(PF_REJECT_too_specific), 2);
	/* private space on public peering */
	feed1(exa_add(cx_cpub, "10.1.0.0/16", "172.16.1.5", "172.16.1.5"));
	CHECK_EQ(rej(PF_REJECT_bogon), 1);
	CHECK_EQ(lk4(cx_cpub, "10.1.0.1"), FIB_NH_NONE);
	feed1(exa_add(cx_cpub, "0.0.0.0/1", "172.16.1.5", "172.16.1.5")); /* covers 10/8 */
	CHECK_EQ(rej(PF_REJECT_bogon), 2);
	m = msg(PF_RT_ADD, PF_SRC_EXABGP, cx_fms, "192.168.0.0/16", "172.16.3.5", "172.16.3.5");
	feed1(m);
	CHECK_EQ(rej(PF_REJECT_bogon), 3);
	/* ... but private space is fine on private peering, public space on public */
	feed1(exa_add(cx_cpub, "198.51.100.0/24", "172.16.1.5", "172.16.1.5"));
	CHECK(is_edge_via(lk4(cx_cpub, "198.51.100.7"), cx_cpub, "172.16.1.5"), "public prefix");
	/* overlapping the peering /30s */
	feed1(exa_add(cx_cpriv, "172.16.1.0/29", "172.16.1.1", "172.16.1.1"));
	feed1(exa_add(cx_cpriv, "172.16.0.0/16", "172.16.1.1", "172.16.1.1"));
	feed1(exa_add(cx_cpriv, "172.16.2.0/29", "172.16.1.1", "172.16.1.1")); /* secondary */
	feed1(exa_add(cx_cpriv, "2001:db8:a1::/64", "2001:db8:a1::1", "2001:db8:a1::1"));
	CHECK_EQ(rej(PF_REJECT_peering_overlap), 4);
	CHECK(is_edge_via(lk4(cx_cpriv, "172.16.1.1"), cx_cpriv, "172.16.1.1"), "connected peer");
	feed1(exa_add(cx_cpriv, "172.16.4.0/29", "172.16.1.1", "172.16.1.1")); /* next to it */
	CHECK(is_edge_via(lk4(cx_cpriv, "172.16.4.1"), cx_cpriv, "172.16.1.1"), "adjacent ok");
	/* default route without allow_default_route */
	feed1(exa_add(cx_cpriv, "0.0.0.0/0", "172.16.1.1", "172.16.1.1"));
	feed1(exa_add(cx_cpriv, "::/0", "2001:db8:a1::1", "2001:db8:a1::1"));
	CHECK_EQ(rej(PF_REJECT_default_route), 2);
	CHECK_EQ(lk4(cx_cpriv, "8.8.8.8"), FIB_NH_NONE);
	/* the error text names the reason */
	m = exa_add(cx_cpriv, "10.16.0.0/30", "172.16.1.1", "172.16.1.1");
	before = rej(PF_REJECT_too_specific);
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	CHECK(strncmp(err, "too_specific", 12) == 0, "err: %s", err);
	CHECK_EQ(rej(PF_REJECT_too_specific), before + 1);
	/* policy is for feeds only: the core context has none, operator routes neither */
	m = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, "0.0.0.0/0", "172.16.1.1", NULL);
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), 0);
	m = msg(PF_RT_ADD, PF_SRC_FPM, cx_core, "10.16.0.0/30", "192.0.2.254", NULL);
	feed_n(&F.feed_fpm, &m, 1);
	CHECK(nh_via(lk4(cx_core, "10.16.0.1"), "192.0.2.254"), "core context: no policy");
	CHECK_EQ(rej(PF_REJECT_too_specific), before + 1);
}

static void
test_default_allowed(void)
{
	uint32_t nh;

	fx_close(&F);
	if (fx_open(&F, cfg_alt) < 0) {
		pft_failf(__FILE__, __LINE__, "fixture");
		return;
	}
	feed1(exa_add(cx_cpriv, "0.0.0.0/0", "172.16.1.1", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_default_route), 0);
	nh = lk4(cx_cpriv, "8.8.8.8");
	CHECK(is_edge_via(nh, cx_cpriv, "172.16.1.1"), "forced tunnelling default (nh %u)", nh);
	/* the connected /30s and the VNets stay more specific */
	CHECK(nhp(lk4(cx_cpriv, "10.0.0.1"))->type == PF_NH_GRE, "VNet still GRE");
	CHECK(nhp(lk4(cx_cpriv, "172.16.1.2"))->type == PF_NH_LOCAL, "our address local");
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 1); /* it counts like any prefix */
	/* allow_default_route is per context */
	feed1(exa_add(cx_cpub, "0.0.0.0/0", "172.16.1.5", "172.16.1.5"));
	CHECK_EQ(rej(PF_REJECT_default_route), 1);
	feed1(exa_del(cx_cpriv, "0.0.0.0/0", "172.16.1.1"));
	CHECK_EQ(lk4(cx_cpriv, "8.8.8.8"), FIB_NH_NONE);
}

static void
test_max_prefixes(void)
{
	char buf[32];
	uint32_t nh;
	json_t *st;

	fx_close(&F);
	if (fx_open(&F, cfg_alt) < 0) {
		pft_failf(__FILE__, __LINE__, "fixture");
		return;
	}
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "10.%d.0.0/16", 20 + i);
		feed1(exa_add(cx_cpriv, buf, "172.16.1.1", "172.16.1.1"));
	}
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 3);
	CHECK_EQ(rej(PF_REJECT_max_prefixes), 0);
	/* the 4th new prefix is refused, the three stay */
	feed1(exa_add(cx_cpriv, "10.23.0.0/16", "172.16.1.1", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_max_prefixes), 1);
	CHECK_EQ(F.a->max_prefix_alarms, 1);
	CHECK_EQ(lk4(cx_cpriv, "10.23.0.1"), FIB_NH_NONE);
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "10.%d.0.1", 20 + i);
		CHECK(is_edge_via(lk4(cx_cpriv, buf), cx_cpriv, "172.16.1.1"), "%s kept", buf);
	}
	/* again: counted, but the alarm is raised once */
	feed1(exa_add(cx_cpriv, "10.24.0.0/16", "172.16.1.1", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_max_prefixes), 2);
	CHECK_EQ(F.a->max_prefix_alarms, 1);
	/* replacing one of the three is no new prefix */
	feed1(exa_add(cx_cpriv, "10.21.0.0/16", "172.16.2.1", "172.16.1.1"));
	CHECK(is_edge_via(lk4(cx_cpriv, "10.21.0.1"), cx_cpriv, "172.16.2.1"), "replaced");
	CHECK_EQ(rej(PF_REJECT_max_prefixes), 2);
	/* nor is the same prefix from the secondary neighbor (standby path) */
	feed1(exa_add(cx_cpriv, "10.22.0.0/16", "172.16.2.1", "172.16.2.1"));
	CHECK_EQ(rej(PF_REJECT_max_prefixes), 2);
	/* operator routes do not count and are not limited */
	{
		struct pf_route_msg m = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, "10.30.0.0/16",
					    "172.16.1.1", NULL);

		CHECK_EQ(pf_applier_apply(F.a, &m, NULL, 0), 0);
	}
	/* IPv6 has its own limit (100) */
	feed1(exa_add(cx_cpriv, "fd00:20::/48", "2001:db8:a1::1", "2001:db8:a1::1"));
	CHECK(is_edge_via(lk6(cx_cpriv, "fd00:20::1"), cx_cpriv, "2001:db8:a1::1"), "v6 apart");
	/* after a withdraw a new one fits, and the alarm re-arms */
	feed1(exa_del(cx_cpriv, "10.20.0.0/16", "172.16.1.1"));
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 2);
	feed1(exa_add(cx_cpriv, "10.23.0.0/16", "172.16.1.1", "172.16.1.1"));
	nh = lk4(cx_cpriv, "10.23.0.1");
	CHECK(is_edge_via(nh, cx_cpriv, "172.16.1.1"), "fits after a withdraw (nh %u)", nh);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 3);
	feed1(exa_add(cx_cpriv, "10.25.0.0/16", "172.16.1.1", "172.16.1.1"));
	CHECK_EQ(rej(PF_REJECT_max_prefixes), 3);
	CHECK_EQ(F.a->max_prefix_alarms, 2);
	/* other contexts have their own count */
	feed1(exa_add(cx_fpriv, "10.25.0.0/16", "172.16.3.1", "172.16.3.1"));
	CHECK(is_edge_via(lk4(cx_fpriv, "10.25.0.1"), cx_fpriv, "172.16.3.1"), "fabrikam apart");
	st = pf_applier_stats_json(F.a);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(st,
		 "contexts"), "contoso-private"), "feed_routes4")), 3);
	CHECK(json_is_true(json_object_get(json_object_get(json_object_get(st, "contexts"),
		"contoso-private"), "max_prefix_alarm")), "alarm shown");
	json_decref(st);
}

static void
test_peer_down(void)
{
	struct pf_route_msg m[] = {
		exa_add(cx_cpriv, "10.40.0.0/16", "172.16.1.1", "172.16.1.1"),
		exa_add(cx_cpriv, "10.41.0.0/16", "172.16.1.1", "172.16.1.1"),
		exa_add(cx_cpriv, "fd00:40::/48", "2001:db8:a1::1", "172.16.1.1"),
		exa_add(cx_fpriv, "10.40.0.0/16", "172.16.3.1", "172.16.3.1"),
		exa_add(cx_fpriv, "10.42.0.0/16", "172.16.3.1", "172.16.3.1"),
		/* primary and secondary neighbor both announce 10.43/16: the first is used */
		exa_add(cx_cpriv, "10.43.0.0/16", "172.16.1.1", "172.16.1.1"),
		exa_add(cx_cpriv, "10.43.0.0/16", "172.16.2.1", "172.16.2.1"),
		/* only the secondary */
		exa_add(cx_cpriv, "10.44.0.0/16", "172.16.2.1", "172.16.2.1"),
	};
	struct pf_route_msg down = msg(PF_RT_PEER_DOWN, PF_SRC_EXABGP, cx_cpriv, NULL, NULL,
				       "172.16.1.1");
	uint32_t f40 , f42;

	feed_n(&F.feed, m, RTE_DIM(m));
	CHECK_EQ(F.a->applied, RTE_DIM(m));
	CHECK(is_edge_via(lk4(cx_cpriv, "10.43.0.1"), cx_cpriv, "172.16.1.1"), "oldest path used");
	CHECK_EQ(F.a->live_paths, 1);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 4); /* prefixes, not paths */
	f40 = lk4(cx_fpriv, "10.40.0.1");
	f42 = lk4(cx_fpriv, "10.42.0.1");
	CHECK(is_edge_via(f40, cx_fpriv, "172.16.3.1"), "fabrikam 10.40");
	/* a withdraw from the secondary leaves the primary's route alone */
	feed1(exa_del(cx_cpriv, "10.41.0.0/16", "172.16.2.1"));
	CHECK_EQ(rej(PF_REJECT_not_found), 1);
	CHECK(is_edge_via(lk4(cx_cpriv, "10.41.0.1"), cx_cpriv, "172.16.1.1"), "10.41 kept");

	feed1(down);
	CHECK_EQ(F.a->peer_downs, 1);
	CHECK_EQ(lk4(cx_cpriv, "10.40.0.1"), FIB_NH_NONE);
	CHECK_EQ(lk4(cx_cpriv, "10.41.0.1"), FIB_NH_NONE);
	CHECK_EQ(lk6(cx_cpriv, "fd00:40::1"), FIB_NH_NONE);
	CHECK_EQ(lk4(cx_fpriv, "10.40.0.1"), f40);
	CHECK_EQ(lk4(cx_fpriv, "10.42.0.1"), f42);
	/* the secondary's path takes over; its own route stays */
	CHECK(is_edge_via(lk4(cx_cpriv, "10.43.0.1"), cx_cpriv, "172.16.2.1"), "failover to .2.1");
	CHECK(is_edge_via(lk4(cx_cpriv, "10.44.0.1"), cx_cpriv, "172.16.2.1"), "10.44 kept");
	CHECK_EQ(F.a->live_paths, 0);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 2);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][1], 0);
	CHECK_EQ(F.a->ctx_feed_routes[cx_fpriv][0], 2);
	/* a second PEER_DOWN, and one of a neighbor never seen, remove nothing */
	feed1(down);
	down.peer.addr[3] = 99;
	feed1(down);
	CHECK_EQ(F.a->peer_downs, 3);
	CHECK_EQ(lk4(cx_fpriv, "10.40.0.1"), f40);
	CHECK(is_edge_via(lk4(cx_cpriv, "10.43.0.1"), cx_cpriv, "172.16.2.1"), "still .2.1");
	/* the static routes of the context are untouched */
	CHECK(nhp(lk4(cx_cpriv, "10.0.0.1"))->type == PF_NH_GRE, "VNet");
	/* standby withdraw: the inline stays, the standby goes */
	feed1(exa_add(cx_fpriv, "10.42.0.0/16", "172.16.3.1", "172.16.3.1"));
	feed1(exa_add(cx_cpriv, "10.44.0.0/16", "172.16.1.1", "172.16.1.1"));
	CHECK_EQ(F.a->live_paths, 1);
	feed1(exa_del(cx_cpriv, "10.44.0.0/16", "172.16.1.1"));
	CHECK_EQ(F.a->live_paths, 0);
	CHECK(is_edge_via(lk4(cx_cpriv, "10.44.0.1"), cx_cpriv, "172.16.2.1"), "10.44 inline");
	/* an FPM PEER_DOWN (no neighbor) takes all FPM routes, nothing of ExaBGP */
	{
		struct pf_route_msg fm[] = {
			msg(PF_RT_ADD, PF_SRC_FPM, cx_cpriv, "10.45.0.0/16", "172.16.1.1", NULL),
			msg(PF_RT_ADD, PF_SRC_FPM, cx_fpriv, "10.45.0.0/16", "172.16.3.1", NULL),
			msg(PF_RT_ADD, PF_SRC_FPM, cx_cpriv, "10.44.0.0/16", "198.51.100.1", NULL),
			msg(PF_RT_PEER_DOWN, PF_SRC_FPM, 0, NULL, NULL, NULL),
		};

		feed_n(&F.feed_fpm, fm, RTE_DIM(fm));
		CHECK_EQ(lk4(cx_cpriv, "10.45.0.1"), FIB_NH_NONE);
		CHECK_EQ(lk4(cx_fpriv, "10.45.0.1"), FIB_NH_NONE);
		CHECK(is_edge_via(lk4(cx_cpriv, "10.44.0.1"), cx_cpriv, "172.16.2.1"), "ExaBGP's");
		CHECK_EQ(src_of(cx_cpriv, "10.44.0.0/16"), PF_SRC_EXABGP);
	}
}

static void
test_sync(void)
{
	char pfx[32], ip[32];
	uint32_t before[10];
	struct pf_route_msg m[16];
	unsigned n = 0;
	struct pf_route_msg cli = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, "10.30.0.0/16",
				      "172.16.2.1", NULL);

	for (int i = 0; i < 10; i++) {
		snprintf(pfx, sizeof(pfx), "10.20.%d.0/24", i);
		m[n++] = exa_add(cx_cpriv, pfx, i % 2 ? "172.16.1.1" : "198.51.100.1", "172.16.1.1");
	}
	/* 10.20.0.0/24 also from the secondary (standby, not resent: swept) */
	m[n++] = exa_add(cx_cpriv, "10.20.0.0/24", "172.16.2.1", "172.16.2.1");
	/* 10.21.0.0/24: the primary's path is not resent, the secondary's is: it takes over */
	m[n++] = exa_add(cx_cpriv, "10.21.0.0/24", "172.16.1.1", "172.16.1.1");
	m[n++] = exa_add(cx_cpriv, "10.21.0.0/24", "172.16.2.1", "172.16.2.1");
	feed_n(&F.feed, m, n);
	CHECK_EQ(pf_applier_apply(F.a, &cli, NULL, 0), 0);
	CHECK_EQ(F.a->live_paths, 2);
	for (int i = 0; i < 10; i++) {
		snprintf(ip, sizeof(ip), "10.20.%d.1", i);
		before[i] = lk4(cx_cpriv, ip);
		CHECK(before[i] != FIB_NH_NONE, "%s routed", ip);
	}
	/* resync: BEGIN, resend 0..4 and the secondary's 10.21, END; one message at a time */
	n = 0;
	m[n++] = msg(PF_RT_SYNC_BEGIN, PF_SRC_EXABGP, 0, NULL, NULL, NULL);
	for (int i = 0; i < 5; i++) {
		snprintf(pfx, sizeof(pfx), "10.20.%d.0/24", i);
		m[n++] = exa_add(cx_cpriv, pfx, i % 2 ? "172.16.1.1" : "198.51.100.1", "172.16.1.1");
	}
	m[n++] = exa_add(cx_cpriv, "10.21.0.0/24", "172.16.2.1", "172.16.2.1");
	m[n++] = msg(PF_RT_SYNC_END, PF_SRC_EXABGP, 0, NULL, NULL, NULL);
	if (pf_feed_submit(&F.feed, m, n) != 0)
		pft_failf(__FILE__, __LINE__, "submit");
	for (unsigned k = 0; k < n - 1; k++) {
		CHECK_EQ(pf_applier_poll(F.a, 1), 1);
		for (int i = 0; i < 10; i++) {
			snprintf(ip, sizeof(ip), "10.20.%d.1", i);
			if (lk4(cx_cpriv, ip) != before[i])
				pft_failf(__FILE__, __LINE__, "%s changed after message %u", ip, k);
		}
		CHECK(is_edge_via(lk4(cx_cpriv, "10.21.0.1"), cx_cpriv, "172.16.1.1"), "10.21 .1.1");
	}
	CHECK_EQ(pf_applier_poll(F.a, 1), 1); /* SYNC_END */
	CHECK_EQ(rte_ring_count(F.ring), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(ip, sizeof(ip), "10.20.%d.1", i);
		if (i < 5)
			CHECK_EQ(lk4(cx_cpriv, ip), before[i]);
		else
			CHECK_EQ(lk4(cx_cpriv, ip), FIB_NH_NONE);
	}
	CHECK(is_edge_via(lk4(cx_cpriv, "10.21.0.1"), cx_cpriv, "172.16.2.1"), "10.21 now .2.1");
	CHECK_EQ(F.a->swept, 7); /* 5 routes, the stale standby, 10.21's stale primary */
	CHECK_EQ(F.a->syncs, 1);
	CHECK_EQ(F.a->live_paths, 0);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 6);
	/* other sources are not swept */
	CHECK(is_edge_via(lk4(cx_cpriv, "10.30.0.1"), cx_cpriv, "172.16.2.1"), "CLI route kept");
	CHECK(nhp(lk4(cx_cpriv, "10.0.0.1"))->type == PF_NH_GRE, "static kept");
	/* an empty resync removes everything of the source */
	m[0] = msg(PF_RT_SYNC_BEGIN, PF_SRC_EXABGP, 0, NULL, NULL, NULL);
	m[1] = msg(PF_RT_SYNC_END, PF_SRC_EXABGP, 0, NULL, NULL, NULL);
	feed_n(&F.feed, m, 2);
	CHECK_EQ(F.a->ctx_feed_routes[cx_cpriv][0], 0);
	CHECK_EQ(lk4(cx_cpriv, "10.20.0.1"), FIB_NH_NONE);
	CHECK_EQ(lk4(cx_cpriv, "10.21.0.1"), FIB_NH_NONE);
	CHECK(is_edge_via(lk4(cx_cpriv, "10.30.0.1"), cx_cpriv, "172.16.2.1"), "CLI route kept");
}

static void
test_bad_messages(void)
{
	char err[200];
	struct pf_route_msg m = exa_add(cx_cpriv, "10.50.0.0/16", "172.16.1.1", "172.16.1.1");

	m.ctx = (uint16_t)F.t.n_ctx;
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	CHECK(strncmp(err, "bad_context", 11) == 0, "err: %s", err);
	m.ctx = cx_cpriv;
	m.family = 5;
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	m.family = 4;
	m.len = 33;
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	m.len = 8; /* 10.50.0.0/8: host bits */
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "host bits") != NULL, "err: %s", err);
	/* IPv6: host bits in either half, and exactly at the boundary */
	{
		static const char *const bad6[] = {"fd00:50::1/64", "fd00:50::8000:0/96",
						   "fd00:50:0:1::/63", "fd00:50::1/127"};
		static const char *const good6[] = {"fd00:50::/64", "fd00:50::1/128",
						    "fd00:50:0:0:8000::/65", "fd00:50::2/127"};

		for (unsigned i = 0; i < RTE_DIM(bad6); i++) {
			struct pf_route_msg b = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, bad6[i],
						    "2001:db8:a1::1", NULL);

			CHECK(pf_applier_apply(F.a, &b, err, sizeof(err)) == -EINVAL &&
			      strstr(err, "host bits") != NULL, "%s: %s", bad6[i], err);
		}
		for (unsigned i = 0; i < RTE_DIM(good6); i++) {
			struct pf_route_msg g = msg(PF_RT_ADD, PF_SRC_CLI, cx_cpriv, good6[i],
						    "2001:db8:a1::1", NULL);

			CHECK(pf_applier_apply(F.a, &g, err, sizeof(err)) == 0, "%s: %s", good6[i], err);
		}
		F.a->rejected[PF_REJECT_bad_context] -= RTE_DIM(bad6);
	}
	m.len = 16;
	m.source = PF_SRC_MAX;
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	m.source = PF_SRC_EXABGP;
	m.op = 77;
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), -EINVAL);
	CHECK_EQ(rej(PF_REJECT_bad_context), 6);
	m.op = PF_RT_EOR;
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), 0);
	CHECK_EQ(F.a->eors, 1);
	CHECK_EQ(lk4(cx_cpriv, "10.50.0.1"), FIB_NH_NONE);
	/* bytes beyond an IPv4 prefix are ignored, the route is the same */
	m = exa_add(cx_cpriv, "10.50.0.0/16", "172.16.1.1", "172.16.1.1");
	m.prefix[9] = 0xaa;
	m.nh[0].addr[9] = 0xbb;
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), 0);
	CHECK_EQ(src_of(cx_cpriv, "10.50.0.0/16"), PF_SRC_EXABGP);
	m = exa_del(cx_cpriv, "10.50.0.0/16", "172.16.1.1");
	CHECK_EQ(pf_applier_apply(F.a, &m, err, sizeof(err)), 0);
	CHECK_EQ(lk4(cx_cpriv, "10.50.0.1"), FIB_NH_NONE);
}

/* ------------------------------------------------------------------------------------ */
/* 100k random operations against a reference model                                    */

#define RND_V4 1500
#define RND_V6 500
#define RND_N (RND_V4 + RND_V6)
#define RND_OPS 100000

static uint64_t rng_state = 12345;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned
rnd_below(unsigned n)
{
	return (unsigned)(((rnd() >> 32) * n) >> 32);
}

/* next-hop choices: per family an address or an ECMP pair; 3 = blackhole */
static const char *const choice4[] = {"192.0.2.254", "192.0.2.10", "192.0.2.10,192.0.2.11"};
static const char *const choice6[] = {"2001:db8:c0::fe", "2001:db8:c0::10",
				      "2001:db8:c0::10,2001:db8:c0::11"};
#define N_CHOICE 4
static const char *const peers[] = {"192.0.2.254", "192.0.2.253"};

struct model {
	struct pf_prefix p;
	int cli, fpm;        /* choice, -1 = none */
	int exa_n;           /* ExaBGP paths in arrival order */
	int exa_peer[2], exa_nh[2];
};

static struct model *mdl;

static int
model_best(const struct model *x, int *src)
{
	if (x->cli >= 0) {
		*src = PF_SRC_CLI;
		return x->cli;
	}
	if (x->exa_n) {
		*src = PF_SRC_EXABGP;
		return x->exa_nh[0];
	}
	if (x->fpm >= 0) {
		*src = PF_SRC_FPM;
		return x->fpm;
	}
	*src = -1;
	return -1;
}

/* Next hop nh is what choice c resolves to for family fam. */
static bool
nh_is_choice(uint32_t nh, int fam, int c)
{
	const struct pf_nexthop *n = nhp(nh);
	const char *const *ch = fam == 4 ? choice4 : choice6;

	if (n == NULL)
		return false;
	if (c == 3)
		return n->type == PF_NH_DROP;
	if (c == 2) {
		char a[64], b[64];
		const char *comma = strchr(ch[2], ',');

		snprintf(a, sizeof(a), "%.*s", (int)(comma - ch[2]), ch[2]);
		snprintf(b, sizeof(b), "%s", comma + 1);
		return n->type == PF_NH_ECMP && n->n_ecmp == 2 &&
		       ((nh_via(n->ecmp[0], a) && nh_via(n->ecmp[1], b)) ||
			(nh_via(n->ecmp[0], b) && nh_via(n->ecmp[1], a)));
	}
	return n->type == PF_NH_CORE && nh_via(nh, ch[c]);
}

static void
rnd_prefix(int fam, struct pf_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = fam;
	if (fam == 4) {
		uint32_t a = 0x0a000000u | (uint32_t)(rnd() & 0xffffff); /* 10/8 */
		unsigned len = 8 + rnd_below(25);

		a &= len ? ~0u << (32 - len) : 0;
		a = htonl(a);
		memcpy(p->addr, &a, 4);
		p->len = (uint8_t)len;
	} else {
		unsigned len = 36 + rnd_below(93); /* inside 2001:db8:f000::/36 */
		uint64_t hi = rnd(), lo = rnd();

		for (int i = 0; i < 8; i++) {
			p->addr[i] = (uint8_t)(hi >> (56 - 8 * i));
			p->addr[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		p->addr[0] = 0x20;
		p->addr[1] = 0x01;
		p->addr[2] = 0x0d;
		p->addr[3] = 0xb8;
		p->addr[4] = (uint8_t)(0xf0 | (p->addr[4] & 0x0f));
		for (unsigned b = len; b < 128; b++)
			p->addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		p->len = (uint8_t)len;
	}
}

static bool
prefix_contains4(const struct pf_prefix *p, uint32_t ip)
{
	uint32_t a;

	memcpy(&a, p->addr, 4);
	return p->len == 0 || ((ntohl(a) ^ ip) >> (32 - p->len)) == 0;
}

static struct pf_route_msg
model_msg(uint8_t op, uint8_t src, const struct model *x, int c, int peer)
{
	struct pf_route_msg m;
	const char *const *ch = x->p.family == 4 ? choice4 : choice6;
	char pfx[64];

	pf_prefix_fmt(&x->p, pfx, sizeof(pfx));
	m = msg(op, src, cx_core, pfx, op == PF_RT_ADD && c < 3 ? ch[c] : NULL,
		peer >= 0 ? peers[peer] : NULL);
	if (op == PF_RT_ADD && c == 3)
		m.flags = PF_RT_F_BLACKHOLE;
	return m;
}

/* The model's view of one prefix vs the FIB and the applier. */
static bool
model_check(const struct model *x)
{
	uint32_t nh = 0, a;
	int src, c = model_best(x, &src), r;

	if (x->p.family == 4) {
		memcpy(&a, x->p.addr, 4);
		r = fib4_get(F.t.fib, cx_core, ntohl(a), x->p.len, &nh);
	} else {
		r = fib6_get(F.t.fib, cx_core, x->p.addr, x->p.len, &nh);
	}
	if (c < 0)
		return r == -ENOENT &&
		       pf_applier_route_source(F.a, cx_core, x->p.family, x->p.addr, x->p.len) < 0;
	return r == 0 && nh_is_choice(nh, x->p.family, c) &&
	       pf_applier_route_source(F.a, cx_core, x->p.family, x->p.addr, x->p.len) == src;
}

/* Longest-prefix match of the model (IPv4) for ip; -1: the static default route. */
static int
model_lpm4(uint32_t ip)
{
	int best = -1, blen = -1, src;

	for (int i = 0; i < RND_V4; i++)
		if (mdl[i].p.len > blen && model_best(&mdl[i], &src) >= 0 &&
		    prefix_contains4(&mdl[i].p, ip)) {
			best = i;
			blen = mdl[i].p.len;
		}
	return best;
}

static int
dbg_walk(void *arg, int family, const uint8_t *prefix, uint8_t depth, uint32_t nh)
{
	uint32_t ip = *(uint32_t *)arg, a;

	if (family != 4)
		return 0;
	memcpy(&a, prefix, 4);
	a = ntohl(a);
	if (depth == 0 || ((a ^ ip) >> (32 - depth)) == 0)
		fprintf(stderr, "  fib has %u.%u.%u.%u/%u nh %u\n", a >> 24, (a >> 16) & 255,
			(a >> 8) & 255, a & 255, depth, nh);
	return 0;
}

static void
lpm_sample(unsigned n, unsigned *bad)
{
	uint32_t def = lk4(cx_core, "11.1.1.1"); /* the static default */

	for (unsigned k = 0; k < n; k++) {
		uint32_t ip = 0x0a000000u | (uint32_t)(rnd() & 0xffffff);
		uint32_t nh = fib4_lookup(F.t.fib, cx_core, ip);
		int i = model_lpm4(ip), src;
		bool ok = i < 0 ? nh == def : nh_is_choice(nh, 4, model_best(&mdl[i], &src));

		if (!ok && (*bad)++ < 5) {
			char b[64];
			int c = i >= 0 ? model_best(&mdl[i], &src) : -9;

			pft_failf(__FILE__, __LINE__, "lookup 0x%08x: nh %u (type %d), model prefix %d %s choice %d",
			          ip, nh, nhp(nh) ? nhp(nh)->type : -1, i,
			          i >= 0 ? pf_prefix_fmt(&mdl[i].p, b, sizeof(b)) : "-", c);
			if (getenv("UT_DEBUG"))
				fib_walk(F.t.fib, cx_core, dbg_walk, &ip);
			if (getenv("UT_DEBUG"))
				for (int q = 0; q < RND_V4; q++)
					if (model_best(&mdl[q], &src) >= 0 && prefix_contains4(&mdl[q].p, ip))
						fprintf(stderr, "  covering %s choice %d src %d\n",
							pf_prefix_fmt(&mdl[q].p, b, sizeof(b)),
							model_best(&mdl[q], &src), src);
		}
	}
}

static void
test_random_model(void)
{
	struct pf_route_msg batch[256];
	unsigned nb = 0, bad = 0;
	uint64_t exp_not_found = 0, rib_base, fib4_base, fib6_base;
	struct fib_stats fs;

	mdl = calloc(RND_N, sizeof(*mdl));
	if (mdl == NULL) {
		pft_failf(__FILE__, __LINE__, "no memory");
		return;
	}
	fib_get_stats(F.t.fib, &fs);
	fib4_base = fs.routes4;
	fib6_base = fs.routes6;
	rib_base = F.a->n_routes - F.a->n_free_routes;
	for (int i = 0; i < RND_N; i++) {
		bool dup;

		do {
			rnd_prefix(i < RND_V4 ? 4 : 6, &mdl[i].p);
			dup = false;
			for (int j = 0; j < i && !dup; j++)
				dup = mdl[j].p.family == mdl[i].p.family && mdl[j].p.len == mdl[i].p.len &&
				      memcmp(mdl[j].p.addr, mdl[i].p.addr, 16) == 0;
		} while (dup);
		mdl[i].cli = mdl[i].fpm = -1;
	}
	for (unsigned op = 0; op < RND_OPS; op++) {
		struct model *x = &mdl[rnd_below(RND_N)];
		unsigned what = rnd_below(1000), sel = rnd_below(100);
		int c = (int)rnd_below(N_CHOICE);
		uint8_t src = sel < 15 ? PF_SRC_CLI : sel < 85 ? PF_SRC_EXABGP : PF_SRC_FPM;
		int peer = src == PF_SRC_EXABGP ? (int)rnd_below(2) : -1;

		if (what < 2) {
			/* ExaBGP neighbor down */
			peer = (int)rnd_below(2);
			batch[nb++] = msg(PF_RT_PEER_DOWN, PF_SRC_EXABGP, cx_core, NULL, NULL,
					  peers[peer]);
			for (int i = 0; i < RND_N; i++) {
				struct model *y = &mdl[i];

				for (int k = 0; k < y->exa_n; k++)
					if (y->exa_peer[k] == peer) {
						for (int q = k; q + 1 < y->exa_n; q++) {
							y->exa_peer[q] = y->exa_peer[q + 1];
							y->exa_nh[q] = y->exa_nh[q + 1];
						}
						y->exa_n--;
						break;
					}
			}
		} else if (what < 520) {
			batch[nb++] = model_msg(PF_RT_ADD, src, x, c, peer);
			if (src == PF_SRC_CLI) {
				x->cli = c;
			} else if (src == PF_SRC_FPM) {
				x->fpm = c;
			} else {
				int k;

				for (k = 0; k < x->exa_n && x->exa_peer[k] != peer; k++)
					;
				if (k == x->exa_n) {
					x->exa_peer[k] = peer;
					x->exa_n++;
				}
				x->exa_nh[k] = c;
			}
		} else {
			batch[nb++] = model_msg(PF_RT_DEL, src, x, 0, peer);
			if (src == PF_SRC_CLI) {
				exp_not_found += x->cli < 0;
				x->cli = -1;
			} else if (src == PF_SRC_FPM) {
				exp_not_found += x->fpm < 0;
				x->fpm = -1;
			} else {
				int k;

				for (k = 0; k < x->exa_n && x->exa_peer[k] != peer; k++)
					;
				if (k == x->exa_n) {
					exp_not_found++;
				} else {
					for (int q = k; q + 1 < x->exa_n; q++) {
						x->exa_peer[q] = x->exa_peer[q + 1];
						x->exa_nh[q] = x->exa_nh[q + 1];
					}
					x->exa_n--;
				}
			}
		}
		if (nb == RTE_DIM(batch) || op + 1 == RND_OPS || (op + 1) % 20000 == 0) {
			/* ExaBGP and FPM share the ring (several producers): one feed is enough */
			feed_n(&F.feed, batch, nb);
			nb = 0;
		}
		if ((op + 1) % 20000 == 0)
			lpm_sample(2000, &bad);
	}
	CHECK_EQ(rej(PF_REJECT_not_found), exp_not_found);
	for (int k = 0; k < PF_REJECT_MAX; k++)
		if (k != PF_REJECT_not_found && rej(k))
			pft_failf(__FILE__, __LINE__, "unexpected rejections: %s %llu", "reason",
			          (unsigned long long)rej(k));
	{
		unsigned wrong = 0, held = 0, feed4 = 0, feed6 = 0, paths = 0;

		for (int i = 0; i < RND_N; i++) {
			int src;

			if (!model_check(&mdl[i]) && wrong++ < 5) {
				char b[64];

				pft_failf(__FILE__, __LINE__, "prefix %s differs from the model",
				          pf_prefix_fmt(&mdl[i].p, b, sizeof(b)));
			}
			held += model_best(&mdl[i], &src) >= 0;
			*(mdl[i].p.family == 4 ? &feed4 : &feed6) += (mdl[i].exa_n > 0) +
								     (mdl[i].fpm >= 0);
			paths += mdl[i].exa_n > 1;
		}
		CHECK_EQ(wrong, 0);
		CHECK_EQ(F.a->n_routes - F.a->n_free_routes, rib_base + held);
		CHECK_EQ(F.a->ctx_feed_routes[cx_core][0], feed4);
		CHECK_EQ(F.a->ctx_feed_routes[cx_core][1], feed6);
		CHECK_EQ(F.a->live_paths, paths);
		fib_get_stats(F.t.fib, &fs);
		CHECK_EQ(fs.routes4 + fs.routes6, fib4_base + fib6_base + held);
	}
	lpm_sample(10000, &bad);
	CHECK_EQ(bad, 0);
	/* withdraw everything: back to the configuration's routes only */
	nb = 0;
	for (int i = 0; i < RND_N; i++) {
		struct model *x = &mdl[i];

		if (x->cli >= 0)
			batch[nb++] = model_msg(PF_RT_DEL, PF_SRC_CLI, x, 0, -1);
		if (x->fpm >= 0)
			batch[nb++] = model_msg(PF_RT_DEL, PF_SRC_FPM, x, 0, -1);
		for (int k = x->exa_n - 1; k >= 0; k--)
			batch[nb++] = model_msg(PF_RT_DEL, PF_SRC_EXABGP, x, 0, x->exa_peer[k]);
		x->cli = x->fpm = -1;
		x->exa_n = 0;
		if (nb > RTE_DIM(batch) - 4) {
			feed_n(&F.feed, batch, nb);
			nb = 0;
		}
	}
	feed_n(&F.feed, batch, nb);
	CHECK_EQ(rej(PF_REJECT_not_found), exp_not_found);
	fib_get_stats(F.t.fib, &fs);
	CHECK_EQ(fs.routes4, fib4_base);
	CHECK_EQ(fs.routes6, fib6_base);
	CHECK_EQ(F.a->n_routes - F.a->n_free_routes, rib_base);
	CHECK_EQ(F.a->live_paths, 0);
	CHECK_EQ(F.a->ctx_feed_routes[cx_core][0], 0);
	CHECK_EQ(F.a->ctx_feed_routes[cx_core][1], 0);
	free(mdl);
	mdl = NULL;
}

/* Many routes: the index grows and shrinks through several sizes, every route findable. */
static void
test_index_growth(void)
{
	enum { N = 50000 };
	struct pf_route_msg batch[256];
	unsigned nb = 0, miss = 0;
	uint64_t base = F.a->n_routes - F.a->n_free_routes;

	for (unsigned i = 0; i < N; i++) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "100.%u.%u.0/24", 64 + (i >> 8) % 64, i & 0xff);
		if (i >= 16384) /* beyond 100.64/10: other /24s and /32s */
			snprintf(pfx, sizeof(pfx), "%u.%u.%u.%u/32", 20 + (i >> 16), (i >> 8) & 0xff,
				 i & 0xff, 7);
		batch[nb++] = msg(PF_RT_ADD, PF_SRC_FPM, cx_core, pfx, "192.0.2.254", NULL);
		if (nb == RTE_DIM(batch) || i + 1 == N) {
			feed_n(&F.feed_fpm, batch, nb);
			nb = 0;
		}
	}
	CHECK_EQ(F.a->n_routes - F.a->n_free_routes, base + N);
	CHECK_EQ(F.a->ctx_feed_routes[cx_core][0], N);
	/* delete every other one, check the rest through the index */
	for (unsigned i = 0; i < N; i += 2) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "100.%u.%u.0/24", 64 + (i >> 8) % 64, i & 0xff);
		if (i >= 16384)
			snprintf(pfx, sizeof(pfx), "%u.%u.%u.%u/32", 20 + (i >> 16), (i >> 8) & 0xff,
				 i & 0xff, 7);
		batch[nb++] = msg(PF_RT_DEL, PF_SRC_FPM, cx_core, pfx, NULL, NULL);
		if (nb == RTE_DIM(batch) || i + 2 >= N) {
			feed_n(&F.feed_fpm, batch, nb);
			nb = 0;
		}
	}
	for (unsigned i = 0; i < N; i++) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "100.%u.%u.0/24", 64 + (i >> 8) % 64, i & 0xff);
		if (i >= 16384)
			snprintf(pfx, sizeof(pfx), "%u.%u.%u.%u/32", 20 + (i >> 16), (i >> 8) & 0xff,
				 i & 0xff, 7);
		if ((src_of(cx_core, pfx) == PF_SRC_FPM) != (i % 2 == 1) && miss++ < 5)
			pft_failf(__FILE__, __LINE__, "%s: source %d", pfx, src_of(cx_core, pfx));
	}
	CHECK_EQ(miss, 0);
	CHECK_EQ(rej(PF_REJECT_not_found), 0);
	CHECK_EQ(F.a->n_routes - F.a->n_free_routes, base + N / 2);
}

static void
test_stats_json(void)
{
	static const char *const keys[] = {
		"applied", "dequeued", "ring_high_water", "rejected", "max_prefix_alarms",
		"peer_downs", "end_of_ribs", "syncs", "swept", "rib_routes", "nexthop_sets",
		"nexthops", "contexts", "fib", "rib_bytes", "standby_paths", "bgp_neighbors",
	};
	struct pf_route_msg m[] = {
		exa_add(cx_cpriv, "10.60.0.0/16", "172.16.1.1", "172.16.1.1"),
		exa_add(cx_cpriv, "10.61.0.0/16", "172.16.1.1,172.16.2.1", "172.16.1.1"),
		exa_add(cx_cpriv, "10.62.0.0/30", "172.16.1.1", "172.16.1.1"),     /* too specific */
		exa_add(cx_cpriv, "10.63.0.0/16", "9.9.9.9", "172.16.1.1"),         /* unresolvable */
		exa_del(cx_cpriv, "10.64.0.0/16", "172.16.1.1"),                    /* not found */
		msg(PF_RT_EOR, PF_SRC_EXABGP, cx_cpriv, NULL, NULL, "172.16.1.1"),
		msg(PF_RT_SYNC_BEGIN, PF_SRC_EXABGP, 0, NULL, NULL, NULL),
		exa_add(cx_cpriv, "10.60.0.0/16", "172.16.1.1", "172.16.1.1"),
		msg(PF_RT_SYNC_END, PF_SRC_EXABGP, 0, NULL, NULL, NULL),
		msg(PF_RT_PEER_DOWN, PF_SRC_EXABGP, cx_cpriv, NULL, NULL, "172.16.1.1"),
	};
	json_t *st, *rj, *c;
	const char *k;
	json_t *v;
	struct fib_stats fs;

	feed_n(&F.feed, m, RTE_DIM(m));
	st = pf_applier_stats_json(F.a);
	CHECK(st != NULL, "stats");
	if (st == NULL)
		return;
	for (unsigned i = 0; i < RTE_DIM(keys); i++)
		CHECK(json_object_get(st, keys[i]) != NULL, "key %s", keys[i]);
	CHECK_EQ(json_integer_value(json_object_get(st, "dequeued")), RTE_DIM(m));
	CHECK_EQ(json_integer_value(json_object_get(st, "applied")), 7);
	CHECK(json_integer_value(json_object_get(st, "ring_high_water")) >= 1, "hwm");
	CHECK_EQ(json_integer_value(json_object_get(st, "end_of_ribs")), 1);
	CHECK_EQ(json_integer_value(json_object_get(st, "syncs")), 1);
	CHECK_EQ(json_integer_value(json_object_get(st, "swept")), 1);
	CHECK_EQ(json_integer_value(json_object_get(st, "peer_downs")), 1);
	CHECK_EQ(json_integer_value(json_object_get(st, "bgp_neighbors")), 1);
	CHECK(json_integer_value(json_object_get(st, "nexthop_sets")) >= 2, "sets");
	CHECK(json_integer_value(json_object_get(st, "rib_bytes")) > 0, "rib_bytes");
	CHECK_EQ(json_integer_value(json_object_get(st, "rib_routes")),
		 F.a->n_routes - F.a->n_free_routes);
	rj = json_object_get(st, "rejected");
	CHECK_EQ(json_object_size(rj), PF_REJECT_MAX);
	json_object_foreach(rj, k, v) {
		long long want = strcmp(k, "too_specific") == 0 || strcmp(k, "nh_unresolvable") == 0 ||
				 strcmp(k, "not_found") == 0;

		CHECK(json_integer_value(v) == want, "rejected.%s = %lld, expected %lld", k,
		      (long long)json_integer_value(v), want);
	}
	c = json_object_get(st, "contexts");
	CHECK_EQ(json_object_size(c), F.t.n_ctx);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(c, "contoso-private"),
						    "feed_routes4")), 0);
	fib_get_stats(F.t.fib, &fs);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "fib"), "routes4")),
		 fs.routes4);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(st, "fib"), "bytes")), fs.bytes);
	json_decref(st);
}

int
main(void)
{
	static const CU_TestInfo tests[] = {
		{"add_del_edge", test_add_del_edge},
		{"fib_ply4", test_fib_ply4},
		{"static_wins", test_static_wins},
		{"cli_beats_feeds", test_cli_beats_feeds},
		{"replace", test_replace},
		{"ecmp", test_ecmp},
		{"gre_core", test_gre_core},
		{"unresolvable", test_unresolvable},
		{"policy", test_policy},
		{"default_allowed", test_default_allowed},
		{"max_prefixes", test_max_prefixes},
		{"peer_down", test_peer_down},
		{"sync", test_sync},
		{"bad_messages", test_bad_messages},
		{"random_model", test_random_model},
		{"index_growth", test_index_growth},
		{"stats_json", test_stats_json},
	};

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (pft_cunit_suite("applier", suite_init, suite_clean, test_setup, test_teardown, tests,
			    RTE_DIM(tests)) < 0)
		return pft_cunit_fail();
	return pft_cunit_run();
}
