/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the management socket (control/mgmt.c): every command and every error
 * message through pf_mgmt_handle_line() on the tables control builds from
 * configs/exchange-provider.json (ring PMDs stand in for the ports, as in
 * test_dataplane.c) with the real route applier; then the socket itself: permissions,
 * stale/live/non-socket paths, partial and pipelined lines, a request without newline
 * before EOF, the request size bound, the client limit, and that a client that stops
 * reading neither stalls pf_mgmt_poll() nor keeps its slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
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
#include "control/mgmt.h"
#include "dataplane/worker.h"
#include "tests/common/pftest.h"
#include "tests/common/pftest_check.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"

/* ------------------------------------------------------------------------------------ */
/* Fixture                                                                              */

static bool eal_up;
static struct rte_ring *rings[4];
static char edge_name[RTE_ETH_NAME_MAX_LEN], core_name[RTE_ETH_NAME_MAX_LEN];
static struct pf_config *cfg;
static struct pf_tables tbl;
static struct pf_build bld;
static bool built;
static struct pf_applier *applier;
static struct pf_worker *wk;
static struct pf_worker *wks[1];
static struct pf_stats_src ss;
static struct pf_feed feed;
static struct pf_feed *feeds[1] = {&feed};
static struct pf_mgmt_ctx mc;
static char tmpdir[64];

/* replies of the current test, released in teardown */
static json_t *keep[256];
static unsigned n_keep;

static json_t *
kept(json_t *j)
{
	if (j != NULL && n_keep < sizeof(keep) / sizeof(keep[0]))
		keep[n_keep++] = j;
	return j;
}

static int
ring_port(const char *name, unsigned k, char *out)
{
	char prefix[RTE_RING_NAMESIZE];

	snprintf(prefix, sizeof(prefix), "mg_%s", name);
	return pft_ring_port(name, prefix, 64, &rings[k], &rings[k + 1], out) < 0 ? -1 : 0;
}

static int
suite_init(void)
{
	char tmpl[128];
	json_t *root;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pf_test_mgmt_XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	if (pft_eal_init("test", 128) < 0)
		return -1;
	eal_up = true;
	if (ring_port("edge", 0, edge_name) < 0 || ring_port("core", 2, core_name) < 0) {
		fprintf(stderr, "ring ports: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	root = pft_config_json_ports(EXAMPLE, edge_name, core_name);
	if (root == NULL)
		return -1;
	snprintf(tmpl, sizeof(tmpl), "%s/config_XXXXXX.json", tmpdir);
	cfg = pft_config_json(root, tmpl);
	json_decref(root);
	if (cfg == NULL || pft_tables_build(&bld, cfg, &tbl, &built) < 0)
		return -1;
	applier = pft_applier_create(&bld, NULL, 0, NULL);
	if (applier == NULL)
		return -1;
	/* one worker's counters, with a few values to find again */
	wk = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*wk));
	if (wk == NULL)
		return -1;
	memset(wk, 0, sizeof(*wk));
	wk->c.ctx = calloc(tbl.n_ctx, sizeof(*wk->c.ctx));
	wk->c.cust = calloc(tbl.n_cust, sizeof(*wk->c.cust));
	if (wk->c.ctx == NULL || wk->c.cust == NULL)
		return -1;
	wks[0] = wk;
	ss = (struct pf_stats_src){.t = &tbl, .cfg = cfg, .workers = wks, .n_workers = 1,
				   .pool = NULL, .pool_size = 4095, .applier = applier};
	snprintf(feed.name, sizeof(feed.name), "exabgp");
	feed.source = PF_SRC_EXABGP;
	mc = (struct pf_mgmt_ctx){.cfg = cfg, .t = &tbl, .stats = &ss, .applier = applier,
				  .feeds = feeds, .n_feeds = 1};
	return 0;
}

static int
suite_clean(void)
{
	if (wk) {
		free(wk->c.ctx);
		free(wk->c.cust);
		free(wk);
		wk = NULL;
	}
	pf_applier_free(applier);
	applier = NULL;
	if (built) {
		pf_build_free(&bld);
		pf_tables_free(&tbl);
	}
	pf_config_free(cfg);
	cfg = NULL;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++)
		if (rte_eth_dev_is_valid_port(p))
			rte_eth_dev_close(p);
	for (unsigned i = 0; i < 4; i++)
		rte_ring_free(rings[i]);
	if (eal_up)
		rte_eal_cleanup();
	if (tmpdir[0])
		rmdir(tmpdir);
	return 0;
}

static void
test_teardown(void)
{
	for (unsigned i = 0; i < n_keep; i++)
		json_decref(keep[i]);
	n_keep = 0;
	mc.applier = applier;
	mc.stats = &ss;
}

/* ------------------------------------------------------------------------------------ */
/* Assertions with a readable message (CHECK, CHECK_EQ: tests/common/pftest_check.h)    */

#define CHECK_INT(j, want)                                                                 \
	do {                                                                               \
		const json_t *_j = (j);                                                    \
		long long _w = (want);                                                     \
		if (json_is_integer(_j) && json_integer_value(_j) == _w) {                 \
			CU_PASS(#j);                                                       \
		} else {                                                                   \
			pft_failf(__FILE__, __LINE__, "%s = %s, expected %lld", #j, show(_j), _w); \
		}                                                                          \
	} while (0)

#define CHECK_STR(j, want)                                                                 \
	do {                                                                               \
		const json_t *_j = (j);                                                    \
		const char *_w = (want);                                                   \
		if (json_is_string(_j) && strcmp(json_string_value(_j), _w) == 0) {        \
			CU_PASS(#j);                                                       \
		} else {                                                                   \
			pft_failf(__FILE__, __LINE__, "%s = %s, expected \"%s\"", #j, show(_j), _w); \
		}                                                                          \
	} while (0)

#define CHECK_HAS(s, sub)                                                                  \
	do {                                                                               \
		const char *_s = (s), *_sub = (sub);                                       \
		if (_s != NULL && strstr(_s, _sub) != NULL) {                              \
			CU_PASS(#s);                                                       \
		} else {                                                                   \
			pft_failf(__FILE__, __LINE__, "%s = \"%s\" lacks \"%s\"", #s,          \
			          _s ? _s : "(null)", _sub);                               \
		}                                                                          \
	} while (0)

/* A JSON value as text for messages (static buffers, a few in flight). */
static const char *
show(const json_t *j)
{
	static char buf[4][512];
	static unsigned k;
	char *s;

	k = (k + 1) % 4;
	if (j == NULL)
		return "(missing)";
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(buf[k], sizeof(buf[k]), "%s", s ? s : "?");
	free(s);
	return buf[k];
}

/* "a.b.c" member path; "routes.0" indexes arrays */
static const json_t *
at(const json_t *j, const char *path)
{
	char p[256], *save = NULL, *tok;

	snprintf(p, sizeof(p), "%s", path);
	for (tok = strtok_r(p, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(j))
			j = json_array_get(j, strtoul(tok, NULL, 10));
		else
			j = json_object_get(j, tok);
	}
	return j;
}

static json_t *
call(const char *req)
{
	json_t *rep = pf_mgmt_handle_line(&mc, req, strlen(req));

	return kept(rep);
}

/* The result of a request that must succeed (JSON null after a reported failure). */
#define OK(req) ok_(__FILE__, __LINE__, (req))
static const json_t *
ok_(const char *file, int line, const char *req)
{
	json_t *rep = call(req);

	if (!json_is_true(json_object_get(rep, "ok")) || json_object_get(rep, "result") == NULL) {
		pft_failf(file, line, "%s -> %s, expected success", req, show(rep));
		return json_null();
	}
	CU_PASS(req);
	return json_object_get(rep, "result");
}

/* The error message of a request that must fail ("" after a reported failure). */
#define ERR(req) err_(__FILE__, __LINE__, (req))
static const char *
err_(const char *file, int line, const char *req)
{
	json_t *rep = call(req);
	const char *e = json_string_value(json_object_get(rep, "error"));

	if (!json_is_false(json_object_get(rep, "ok")) || e == NULL || json_object_size(rep) >
	    2 + (json_object_get(rep, "id") != NULL)) {
		pft_failf(file, line, "%s -> %s, expected {\"ok\": false, \"error\": ...}", req, show(rep));
		return "";
	}
	CU_PASS(req);
	return e;
}

static const json_t *
route_of(const json_t *routes, const char *prefix)
{
	const json_t *r;
	size_t i;

	json_array_foreach(routes, i, r)
		if (strcmp(json_string_value(json_object_get(r, "prefix")) ?: "", prefix) == 0)
			return r;
	return NULL;
}

static int
ctx_id(const char *name)
{
	for (uint32_t i = 0; i < tbl.n_ctx; i++)
		if (strcmp(tbl.ctx[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
count_cb(void *arg, int family, const uint8_t *prefix, uint8_t depth, uint32_t nh)
{
	uint64_t *n = arg;

	(void)prefix;
	(void)depth;
	(void)nh;
	n[family == 6]++;
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Requests and replies                                                                 */

static void
test_protocol_errors(void)
{
	json_t *rep;

	CHECK_HAS(ERR("{"), "request is not valid JSON");
	CHECK_HAS(ERR("hello"), "request is not valid JSON");
	CHECK_HAS(ERR("{\"cmd\": \"help\", \"cmd\": \"help\"}"), "duplicate");
	CHECK_HAS(ERR("[1, 2]"), "a request must be a JSON object");
	CHECK_HAS(ERR("\"contexts\""), "a request must be a JSON object");
	CHECK_HAS(ERR("{}"), "missing \"cmd\"");
	CHECK_HAS(ERR("{\"cmd\": 5}"), "\"cmd\" must be a string");
	CHECK_HAS(ERR("{\"cmd\": \"frobnicate\"}"), "unknown command 'frobnicate'; commands: "
		  "contexts, routes, lookup, counters, feeds, route-add, route-del, sa-list, sa-add, "
		  "sa-del, help");
	CHECK_HAS(ERR("{\"cmd\": \"contexts\", \"verbose\": true}"),
		  "unknown argument 'verbose' for 'contexts' (it takes none)");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": \"core\", \"famliy\": 4}"),
		  "unknown argument 'famliy' for 'routes' (accepted: context, family, limit)");
	CHECK_HAS(ERR("{\"cmd\": \"routes\"}"), "missing argument \"context\" (a string)");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": 1}"), "argument \"context\" must be a string");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": \"nope\"}"),
		  "no context 'nope' (the contexts command lists them)");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": \"core\", \"limit\": 0}"),
		  "argument \"limit\" must be an integer 1..10000000");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": \"core\", \"limit\": 10000001}"),
		  "argument \"limit\" must be an integer 1..10000000");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": \"core\", \"limit\": \"5\"}"),
		  "argument \"limit\" must be an integer");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": \"core\", \"family\": 5}"),
		  "argument \"family\" must be 4 or 6");
	CHECK_HAS(ERR("{\"cmd\": \"routes\", \"context\": \"core\", \"family\": 7}"),
		  "argument \"family\" must be an integer 4..6");
	CHECK_HAS(ERR("{\"cmd\": \"lookup\", \"context\": \"core\"}"), "missing argument \"address\"");
	/* an id comes back with successes and errors alike */
	rep = call("{\"cmd\": \"help\", \"id\": 42}");
	CHECK_INT(json_object_get(rep, "id"), 42);
	CHECK(json_is_true(json_object_get(rep, "ok")), "help failed: %s", show(rep));
	rep = call("{\"cmd\": \"nope\", \"id\": \"abc\"}");
	CHECK_STR(json_object_get(rep, "id"), "abc");
	CHECK(json_is_false(json_object_get(rep, "ok")), "unknown command succeeded: %s", show(rep));
	/* an error message that echoes a cut multi-byte name is still valid JSON text */
	{
		char req[300] = "{\"cmd\": \"";
		size_t n = strlen(req);

		for (int i = 0; i < 60; i++)
			n += (size_t)snprintf(req + n, sizeof(req) - n, "\xc3\xa9");
		snprintf(req + n, sizeof(req) - n, "\"}");
		CHECK_HAS(ERR(req), "unknown command");
	}
}

static void
test_help(void)
{
	const json_t *res = OK("{\"cmd\": \"help\"}"), *c;
	const char *want[] = {"contexts", "routes", "lookup", "counters", "feeds", "route-add",
			      "route-del", "sa-list", "sa-add", "sa-del", "help"};
	size_t i;

	CHECK(json_array_size(res) == 11, "help lists %zu commands: %s", json_array_size(res),
	      show(res));
	json_array_foreach(res, i, c) {
		if (i < 11)
			CHECK_STR(json_object_get(c, "cmd"), want[i]);
		CHECK(json_is_string(json_object_get(c, "description")), "no description: %s", show(c));
	}
	CHECK_STR(at(res, "1.args.0"), "context");
}

static void
test_contexts(void)
{
	const json_t *res = OK("{\"cmd\": \"contexts\"}"), *c;
	const char *names[] = {"core", "contoso-private", "contoso-public", "fabrikam-private",
			       "fabrikam-microsoft"};
	size_t i;

	CHECK(json_array_size(res) == 5, "%zu contexts: %s", json_array_size(res), show(res));
	json_array_foreach(res, i, c) {
		uint64_t n[2] = {0, 0};

		if (i < 5)
			CHECK_STR(json_object_get(c, "name"), names[i]);
		CHECK_INT(json_object_get(c, "id"), (long long)i);
		fib_walk(tbl.fib, (uint32_t)i, count_cb, n);
		CHECK_INT(json_object_get(c, "routes4"), (long long)n[0]);
		CHECK_INT(json_object_get(c, "routes6"), (long long)n[1]);
	}
	/* core: its port, our address and the gateway */
	c = json_array_get(res, 0);
	CHECK_STR(json_object_get(c, "kind"), "core");
	CHECK(json_is_null(json_object_get(c, "customer")), "core customer %s",
	      show(json_object_get(c, "customer")));
	CHECK_STR(at(c, "links.0.port"), core_name);
	CHECK_STR(at(c, "links.0.subnet"), "192.0.2.0/24");
	CHECK_STR(at(c, "links.0.address"), "192.0.2.1");
	CHECK_STR(at(c, "links.0.gateway"), "192.0.2.254");
	CHECK_STR(at(c, "links.0.subnet6"), "2001:db8:c0::/64");
	CHECK_STR(at(c, "links.0.gateway6"), "2001:db8:c0::fe");
	/* contoso-private: VLAN 555, two /30s, the /126, its tunnel; 7 + 4 routes */
	c = json_array_get(res, 1);
	CHECK_STR(json_object_get(c, "kind"), "private");
	CHECK_STR(json_object_get(c, "customer"), "contoso");
	CHECK_INT(json_object_get(c, "customer_id"), 1);
	CHECK_INT(json_object_get(c, "asn"), 65520);
	CHECK_INT(at(c, "tags.vlan"), 555);
	CHECK(json_array_size(json_object_get(c, "links")) == 2, "links %s",
	      show(json_object_get(c, "links")));
	CHECK_STR(at(c, "links.0.link"), "primary");
	CHECK_STR(at(c, "links.0.port"), edge_name);
	CHECK_STR(at(c, "links.0.subnet"), "172.16.1.0/30");
	CHECK_STR(at(c, "links.0.peer"), "172.16.1.1");
	CHECK_STR(at(c, "links.0.address"), "172.16.1.2");
	CHECK_STR(at(c, "links.0.subnet6"), "2001:db8:a1::/126");
	CHECK_STR(at(c, "links.0.peer6"), "2001:db8:a1::1");
	CHECK_STR(at(c, "links.0.address6"), "2001:db8:a1::2");
	CHECK_STR(at(c, "links.1.link"), "secondary");
	CHECK_STR(at(c, "links.1.subnet"), "172.16.2.0/30");
	CHECK(at(c, "links.1.subnet6") == NULL, "secondary has no /126: %s", show(at(c, "links.1")));
	CHECK_INT(at(c, "gre.key"), 1001);
	CHECK_STR(at(c, "gre.source"), "192.0.2.1");
	CHECK_STR(at(c, "gre.destination"), "198.51.100.1");
	CHECK_INT(json_object_get(c, "routes4"), 7);
	CHECK_INT(json_object_get(c, "routes6"), 4);
	/* contoso-public has no tunnel */
	CHECK(at(json_array_get(res, 2), "gre") == NULL, "public context with gre: %s",
	      show(json_array_get(res, 2)));
	CHECK_STR(at(json_array_get(res, 2), "kind"), "public");
	/* fabrikam: QinQ */
	c = json_array_get(res, 3);
	CHECK_INT(at(c, "tags.s_tag"), 100);
	CHECK_INT(at(c, "tags.c_tag"), 555);
	CHECK_STR(at(c, "tags.s_tpid"), "0x88a8");
	CHECK_INT(json_object_get(c, "asn"), 4200000001LL);
	CHECK_INT(at(c, "gre.key"), 2002);
	CHECK_STR(at(json_array_get(res, 4), "kind"), "microsoft");
}

static void
test_routes(void)
{
	const json_t *res, *r, *routes;
	size_t i;

	res = OK("{\"cmd\": \"routes\", \"context\": \"contoso-private\"}");
	routes = json_object_get(res, "routes");
	CHECK_STR(json_object_get(res, "context"), "contoso-private");
	CHECK_INT(json_object_get(res, "total"), 11);
	CHECK(json_is_false(json_object_get(res, "truncated")), "truncated: %s", show(res));
	CHECK(json_array_size(routes) == 11, "%zu routes", json_array_size(routes));
	/* sorted: IPv4 first, by address */
	CHECK_STR(at(routes, "0.prefix"), "10.0.0.0/16");
	CHECK_STR(at(routes, "6.prefix"), "216.221.239.224/28");
	CHECK_INT(at(routes, "7.family"), 6);
	/* the VNet: GRE with contoso's key toward its endpoint, via the core gateway */
	r = route_of(routes, "10.0.0.0/16");
	CHECK(r != NULL, "no 10.0.0.0/16 in %s", show(routes));
	CHECK_INT(at(r, "family"), 4);
	CHECK_STR(at(r, "nexthop.type"), "gre");
	CHECK_INT(at(r, "nexthop.gre_key"), 1001);
	CHECK_STR(at(r, "nexthop.tunnel_source"), "192.0.2.1");
	CHECK_STR(at(r, "nexthop.tunnel_destination"), "198.51.100.1");
	CHECK_STR(at(r, "nexthop.port"), core_name);
	CHECK_STR(at(r, "nexthop.neighbor"), "192.0.2.254");
	CHECK_STR(at(r, "nexthop.mac"), "02:00:00:00:0c:fe");
	CHECK_INT(at(r, "nexthop.mtu"), 1472);
	CHECK_STR(at(r, "source"), "static");
	/* our address: local */
	r = route_of(routes, "172.16.1.2/32");
	CHECK_STR(at(r, "nexthop.type"), "local");
	CHECK(at(r, "nexthop.port") == NULL, "local next hop with a port: %s", show(r));
	/* on-premises: toward the customer router on VLAN 555 */
	r = route_of(routes, "216.221.239.224/28");
	CHECK_STR(at(r, "nexthop.type"), "edge");
	CHECK_STR(at(r, "nexthop.neighbor"), "172.16.1.1");
	CHECK_STR(at(r, "nexthop.mac"), "02:00:00:00:a1:01");
	CHECK_STR(at(r, "nexthop.port"), edge_name);
	CHECK_STR(at(r, "nexthop.context"), "contoso-private");
	CHECK_INT(at(r, "nexthop.vlans.0"), 555);
	/* the secondary's peer has no static MAC: unresolved */
	r = route_of(routes, "172.16.2.1/32");
	CHECK_STR(at(r, "nexthop.neighbor"), "172.16.2.1");
	CHECK(json_is_null(at(r, "nexthop.mac")), "unresolved MAC shown as %s", show(at(r, "nexthop.mac")));
	r = route_of(routes, "fd00:1::/48");
	CHECK_STR(at(r, "nexthop.type"), "gre");
	/* family and limit */
	res = OK("{\"cmd\": \"routes\", \"context\": \"contoso-private\", \"family\": 6}");
	CHECK_INT(json_object_get(res, "total"), 4);
	json_array_foreach(json_object_get(res, "routes"), i, r)
		CHECK_INT(json_object_get(r, "family"), 6);
	res = OK("{\"cmd\": \"routes\", \"context\": \"contoso-private\", \"limit\": 3}");
	CHECK_INT(json_object_get(res, "total"), 11);
	CHECK(json_is_true(json_object_get(res, "truncated")), "not truncated: %s", show(res));
	CHECK(json_array_size(json_object_get(res, "routes")) == 3, "limit 3: %s", show(res));
	CHECK_STR(at(res, "routes.0.prefix"), "10.0.0.0/16");
	/* QinQ edge next hop and overlapping VNets in another context */
	res = OK("{\"cmd\": \"routes\", \"context\": \"fabrikam-private\", \"family\": 4}");
	r = route_of(json_object_get(res, "routes"), "10.0.0.0/16");
	CHECK_INT(at(r, "nexthop.gre_key"), 2002);
	CHECK_STR(at(r, "nexthop.tunnel_destination"), "198.51.100.2");
	r = route_of(json_object_get(res, "routes"), "198.18.0.0/24");
	CHECK_INT(at(r, "nexthop.vlans.0"), 100);
	CHECK_INT(at(r, "nexthop.vlans.1"), 555);
	/* core: default route toward the gateway */
	res = OK("{\"cmd\": \"routes\", \"context\": \"core\"}");
	r = route_of(json_object_get(res, "routes"), "0.0.0.0/0");
	CHECK_STR(at(r, "nexthop.type"), "core");
	CHECK_STR(at(r, "nexthop.neighbor"), "192.0.2.254");
	r = route_of(json_object_get(res, "routes"), "::/0");
	CHECK_STR(at(r, "nexthop.neighbor"), "2001:db8:c0::fe");
	/* without an applier there is no source to tell */
	mc.applier = NULL;
	res = OK("{\"cmd\": \"routes\", \"context\": \"core\", \"limit\": 1}");
	CHECK(json_is_null(at(res, "routes.0.source")), "source without applier: %s", show(res));
	mc.applier = applier;
}

static void
test_lookup(void)
{
	const json_t *res;

	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", \"address\": \"172.16.1.2\"}");
	CHECK_STR(json_object_get(res, "context"), "contoso-private");
	CHECK_STR(json_object_get(res, "address"), "172.16.1.2");
	CHECK_STR(at(res, "route.prefix"), "172.16.1.2/32");
	CHECK_STR(at(res, "route.nexthop.type"), "local");
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", \"address\": \"10.0.1.5\"}");
	CHECK_STR(at(res, "route.prefix"), "10.0.0.0/16");
	CHECK_INT(at(res, "route.nexthop.gre_key"), 1001);
	res = OK("{\"cmd\": \"lookup\", \"context\": \"fabrikam-private\", \"address\": \"10.0.1.5\"}");
	CHECK_INT(at(res, "route.nexthop.gre_key"), 2002);
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", \"address\": \"8.8.8.8\"}");
	CHECK(json_is_null(json_object_get(res, "route")), "8.8.8.8 in a private context: %s",
	      show(res));
	res = OK("{\"cmd\": \"lookup\", \"context\": \"core\", \"address\": \"8.8.8.8\"}");
	CHECK_STR(at(res, "route.prefix"), "0.0.0.0/0");
	CHECK_STR(at(res, "route.nexthop.type"), "core");
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", \"address\": \"fd00:1::5\"}");
	CHECK_STR(at(res, "route.prefix"), "fd00:1::/48");
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", "
		 "\"address\": \"2001:db8:a1::1\"}");
	CHECK_STR(at(res, "route.prefix"), "2001:db8:a1::1/128");
	CHECK_STR(at(res, "route.nexthop.type"), "edge");
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-public\", \"address\": \"13.65.1.1\"}");
	CHECK_STR(at(res, "route.prefix"), "13.64.0.0/11");
	CHECK_HAS(ERR("{\"cmd\": \"lookup\", \"context\": \"core\", \"address\": \"10.0.0.0/8\"}"),
		  "'10.0.0.0/8' is not an IPv4 or IPv6 address");
	CHECK_HAS(ERR("{\"cmd\": \"lookup\", \"context\": \"core\", \"address\": \"300.1.1.1\"}"),
		  "is not an IPv4 or IPv6 address");
	CHECK_HAS(ERR("{\"cmd\": \"lookup\", \"context\": \"nope\", \"address\": \"1.1.1.1\"}"),
		  "no context 'nope'");
}

static void
test_counters(void)
{
	const json_t *res;
	json_t *direct, *file;
	json_error_t je;
	char path[128];
	int e = ctx_id("contoso-private"), r;
	uint16_t pid;

	rte_eth_dev_get_port_by_name(edge_name, &pid);
	wk->c.port[pid].rx.pkts = 5;
	wk->c.port[pid].rx.bytes = 500;
	wk->c.drop[PF_DROP_no_route] = 3;
	wk->c.ctx[e].in.pkts = 7;
	wk->c.cust[0].to_cloud.bytes = 1234;
	res = OK("{\"cmd\": \"counters\"}");
	direct = kept(pf_stats_json(&ss));
	CHECK(json_equal((json_t *)res, direct), "counters %s differ from pf_stats_json %s",
	      show(res), show(direct));
	for (const char *const *k = (const char *const[]){"ports", "contexts", "customers", "drops",
							   "events", "mempool", "applier", NULL};
	     *k; k++)
		CHECK(json_object_get(res, *k) != NULL, "counters lack %s", *k);
	{
		char p[128];

		snprintf(p, sizeof(p), "ports.%s.rx_packets", edge_name);
		CHECK_INT(at(res, p), 5);
		snprintf(p, sizeof(p), "ports.%s.rx_bytes", edge_name);
		CHECK_INT(at(res, p), 500);
	}
	CHECK_INT(at(res, "drops.no_route"), 3);
	CHECK_INT(at(res, "contexts.contoso-private.in_packets"), 7);
	CHECK_INT(at(res, "contexts.contoso-private.id"), e);
	CHECK_INT(at(res, "customers.contoso.to_cloud_bytes"), 1234);
	CHECK_INT(at(res, "mempool.size"), 4095);
	CHECK(json_is_object(at(res, "applier.rejected")), "applier counters %s",
	      show(at(res, "applier")));
	/* --stats-json writes the same object */
	snprintf(path, sizeof(path), "%s/stats.json", tmpdir);
	r = pf_stats_write_json(path, &ss);
	CHECK(r == 0, "pf_stats_write_json: %d", r);
	file = kept(json_load_file(path, 0, &je));
	unlink(path);
	CHECK(file != NULL && json_equal(file, (json_t *)res), "--stats-json file %s != counters",
	      show(file));
	/* an applier known only to the management context still shows */
	ss.applier = NULL;
	res = OK("{\"cmd\": \"counters\"}");
	CHECK(json_is_object(at(res, "applier.rejected")), "applier counters from ctx %s",
	      show(at(res, "applier")));
	mc.applier = NULL;
	res = OK("{\"cmd\": \"counters\"}");
	CHECK(at(res, "applier") == NULL, "applier counters without applier: %s",
	      show(at(res, "applier")));
	ss.applier = applier;
	mc.stats = NULL;
	CHECK_HAS(ERR("{\"cmd\": \"counters\"}"), "counters are not available");
	memset(wk->c.port, 0, sizeof(wk->c.port));
	wk->c.drop[PF_DROP_no_route] = 0;
	wk->c.ctx[e].in.pkts = 0;
	wk->c.cust[0].to_cloud.bytes = 0;
}

static void
test_feeds(void)
{
	const json_t *res;

	feed.sessions = 2;
	feed.msgs_in = 10;
	feed.enqueued = 8;
	feed.ring_full_waits = 1;
	feed.bad[PF_FEED_BAD_bad_json] = 3;
	feed.last_update = 0;
	res = OK("{\"cmd\": \"feeds\"}");
	CHECK(json_array_size(res) == 1, "feeds %s", show(res));
	CHECK_STR(at(res, "0.name"), "exabgp");
	CHECK_STR(at(res, "0.source"), "exabgp");
	CHECK_INT(at(res, "0.sessions"), 2);
	CHECK_INT(at(res, "0.msgs_in"), 10);
	CHECK_INT(at(res, "0.enqueued"), 8);
	CHECK_INT(at(res, "0.ring_full_waits"), 1);
	CHECK(json_is_null(at(res, "0.last_update")), "never updated: %s", show(at(res, "0.last_update")));
	CHECK_INT(at(res, "0.bad.bad_json"), 3);
	CHECK_INT(at(res, "0.bad.truncated"), 0);
	CHECK(json_object_size(at(res, "0.bad")) == PF_FEED_BAD_MAX, "bad kinds %s",
	      show(at(res, "0.bad")));
	feed.last_update = 1700000000;
	res = OK("{\"cmd\": \"feeds\"}");
	CHECK_INT(at(res, "0.last_update"), 1700000000);
	mc.n_feeds = 0;
	res = OK("{\"cmd\": \"feeds\"}");
	CHECK(json_is_array(res) && json_array_size(res) == 0, "no feeds: %s", show(res));
	mc.n_feeds = 1;
}

/* route-add must install what it says; returns the installed route object. */
static const json_t *
add_ok(const char *ctx, const char *prefix, const char *via)
{
	char req[256];
	const json_t *res;

	snprintf(req, sizeof(req), "{\"cmd\": \"route-add\", \"context\": \"%s\", \"prefix\": "
		 "\"%s\", \"via\": \"%s\"}", ctx, prefix, via);
	res = OK(req);
	CHECK_STR(json_object_get(res, "context"), ctx);
	CHECK_STR(json_object_get(res, "prefix"), prefix);
	CHECK_STR(json_object_get(res, "via"), via);
	CHECK_STR(at(res, "route.prefix"), prefix);
	CHECK_STR(at(res, "route.source"), "cli");
	return json_object_get(res, "route");
}

static void
del_ok(const char *ctx, const char *prefix)
{
	char req[256];
	const json_t *res;

	snprintf(req, sizeof(req), "{\"cmd\": \"route-del\", \"context\": \"%s\", \"prefix\": \"%s\"}",
		 ctx, prefix);
	res = OK(req);
	CHECK_STR(json_object_get(res, "prefix"), prefix);
	CHECK(json_is_null(json_object_get(res, "route")), "%s still routed after route-del: %s",
	      prefix, show(res));
}

static void
test_route_add_del(void)
{
	static const struct {
		const char *ctx, *prefix, *via, *type, *neighbor;
		int family;
	} vias[] = {
		{"contoso-private", "100.70.0.0/16", "peer", "edge", "172.16.1.1", 0},
		{"contoso-private", "100.71.0.0/16", "172.16.2.1", NULL, "172.16.2.1", 0},
		{"contoso-private", "2001:db8:2000::/48", "peer", NULL, "2001:db8:a1::1", 6},
		{"contoso-public", "20.0.0.0/8", "core", "core", "192.0.2.254", 0},
		{"contoso-private", "10.66.0.0/16", "drop", "drop", NULL, 0},
		{"core", "2001:db8:9::/48", "core", NULL, "2001:db8:c0::fe", 0},
		{"core", "203.0.114.0/24", "192.0.2.77", NULL, "192.0.2.77", 0},
	};
	const json_t *r, *res;
	char req[256];

	r = add_ok("contoso-private", "10.50.0.0/16", "gre");
	CHECK_STR(at(r, "nexthop.type"), "gre");
	CHECK_INT(at(r, "nexthop.gre_key"), 1001);
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", \"address\": \"10.50.9.9\"}");
	CHECK_STR(at(res, "route.prefix"), "10.50.0.0/16");
	CHECK_STR(at(res, "route.source"), "cli");
	res = OK("{\"cmd\": \"routes\", \"context\": \"contoso-private\"}");
	CHECK_INT(json_object_get(res, "total"), 12);
	CHECK_STR(at(route_of(json_object_get(res, "routes"), "10.50.0.0/16"), "source"), "cli");
	/* the dataplane's own lookup agrees */
	CHECK(tbl.nh[fib4_lookup(tbl.fib, (uint32_t)ctx_id("contoso-private"),
				 10u << 24 | 50u << 16 | 1)].type == PF_NH_GRE,
	      "FIB lookup of 10.50.0.1 is not GRE");
	del_ok("contoso-private", "10.50.0.0/16");
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", \"address\": \"10.50.9.9\"}");
	CHECK(json_is_null(json_object_get(res, "route")), "after delete %s", show(res));

	/* each "via": the next hop it resolves to (type, neighbor; NULL: not checked) */
	for (size_t i = 0; i < PFT_DIM(vias); i++) {
		pft_case = vias[i].prefix;
		r = add_ok(vias[i].ctx, vias[i].prefix, vias[i].via);
		if (vias[i].type != NULL)
			CHECK_STR(at(r, "nexthop.type"), vias[i].type);
		if (vias[i].neighbor != NULL)
			CHECK_STR(at(r, "nexthop.neighbor"), vias[i].neighbor);
		if (vias[i].family != 0)
			CHECK_INT(at(r, "family"), vias[i].family);
		del_ok(vias[i].ctx, vias[i].prefix);
	}
	pft_case = "";

	/* refused before the applier */
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.50.0.1/16\", \"via\": \"gre\"}"),
		  "10.50.0.1/16 has host bits set (did you mean 10.50.0.0/16?)");
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.50.0.0\", \"via\": \"gre\"}"),
		  "'10.50.0.0' is not a prefix (ADDRESS/LENGTH");
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-public\", \"prefix\": "
		      "\"20.0.0.0/8\", \"via\": \"gre\"}"),
		  "context 'contoso-public' has no GRE tunnel: 'gre' is only valid in a private "
		  "context");
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-public\", \"prefix\": "
		      "\"2001:db8:5::/48\", \"via\": \"peer\"}"),
		  "context 'contoso-public' has no IPv6 peering subnet on its primary link");
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"core\", \"prefix\": "
		      "\"20.0.0.0/8\", \"via\": \"peer\"}"),
		  "context 'core' has no customer router");
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.50.0.0/16\", \"via\": \"tunnel\"}"),
		  "via 'tunnel' is not peer, gre, core, drop or an IP address");
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.50.0.0/16\", \"via\": \"2001:db8:a1::1\"}"),
		  "next hop 2001:db8:a1::1 is IPv6 but the prefix is IPv4");
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.50.0.0/16\"}"), "missing argument \"via\"");
	CHECK_HAS(ERR("{\"cmd\": \"route-del\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.50.0.0/16\", \"via\": \"gre\"}"), "unknown argument 'via' for 'route-del'");
	/* refused by the applier: its reason comes back */
	CHECK_HAS(ERR("{\"cmd\": \"route-add\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.50.0.0/16\", \"via\": \"9.9.9.9\"}"),
		  "adding 10.50.0.0/16 in 'contoso-private' rejected: ");
	/* the CLI cannot withdraw what the configuration installed; it stays */
	CHECK_HAS(ERR("{\"cmd\": \"route-del\", \"context\": \"contoso-private\", \"prefix\": "
		      "\"10.0.0.0/16\"}"), "removing 10.0.0.0/16 in 'contoso-private' rejected: ");
	res = OK("{\"cmd\": \"lookup\", \"context\": \"contoso-private\", \"address\": \"10.0.1.1\"}");
	CHECK_STR(at(res, "route.source"), "static");
	/* no applier: a clear refusal */
	mc.applier = NULL;
	snprintf(req, sizeof(req), "{\"cmd\": \"route-add\", \"context\": \"contoso-private\", "
		 "\"prefix\": \"10.50.0.0/16\", \"via\": \"gre\"}");
	CHECK_HAS(ERR(req), "route changes need the route applier, which is not running");
	mc.applier = applier;
}

/* ------------------------------------------------------------------------------------ */
/* The socket                                                                           */

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct cli {
	int fd;
	char *buf;
	size_t len, cap;
	bool eof;
};

static int
cli_connect(const char *path, struct cli *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path) - 1));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void
cli_close(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
cli_send(struct cli *c, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = send(c->fd, s + off, n - off, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* Read what is there (no waiting). */
static void
cli_pump(struct cli *c)
{
	for (;;) {
		ssize_t r;

		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 1 << 17;
			char *b = realloc(c->buf, cap);

			if (b == NULL)
				return;
			c->buf = b;
			c->cap = cap;
		}
		r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
		if (r > 0) {
			c->len += (size_t)r;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			c->eof = true;
		return;
	}
}

/* Poll the server until the client has a whole line (or EOF, or timeout): the line as
 * text (malloc'd), NULL when none came. */
static char *
cli_line(struct pf_mgmt *m, struct cli *c, int timeout_ms)
{
	long long end = ms_now() + timeout_ms;

	do {
		char *nl;

		pf_mgmt_poll(m);
		cli_pump(c);
		nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);
			char *l = strndup(c->buf, n);

			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return l;
		}
		if (c->eof)
			return NULL;
		usleep(200);
	} while (ms_now() < end);
	return NULL;
}

/* Like cli_line, the line parsed and kept. */
static json_t *
cli_reply(struct pf_mgmt *m, struct cli *c, int timeout_ms)
{
	char *l = cli_line(m, c, timeout_ms);
	json_t *j;

	if (l == NULL)
		return NULL;
	j = json_loads(l, 0, NULL);
	free(l);
	return kept(j ? j : json_string("(reply not JSON)"));
}

/* Poll until the server closed the client (EOF seen) or timeout. */
static bool
cli_wait_eof(struct pf_mgmt *m, struct cli *c, int timeout_ms)
{
	long long end = ms_now() + timeout_ms;

	do {
		pf_mgmt_poll(m);
		cli_pump(c);
		if (c->eof)
			return true;
		c->len = 0; /* discard what it sends meanwhile */
		usleep(200);
	} while (ms_now() < end);
	return false;
}

static struct pf_mgmt *
open_at(const char *name, char *path, size_t len)
{
	char err[256] = "";
	struct pf_mgmt *m;

	snprintf(path, len, "%s/%s", tmpdir, name);
	m = pf_mgmt_open(path, &mc, err, sizeof(err));
	CHECK(m != NULL, "pf_mgmt_open(%s): %s", path, err);
	return m;
}

static void
test_socket_serve(void)
{
	char path[128];
	struct pf_mgmt *m = open_at("s.sock", path, sizeof(path));
	struct cli c;
	struct stat st;
	json_t *rep;

	if (m == NULL)
		return;
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "%s is not a socket", path);
	CHECK((st.st_mode & 07777) == 0660, "socket mode %o, expected 660", st.st_mode & 07777);
	CHECK(pf_mgmt_clients(m) == 0, "clients before any connect");
	pf_mgmt_poll(m); /* nothing to do: must return at once */
	CHECK(cli_connect(path, &c) == 0, "connect: %s", strerror(errno));
	/* one request */
	cli_send(&c, "{\"cmd\": \"help\", \"id\": 1}\n");
	rep = cli_reply(m, &c, 2000);
	CHECK(json_is_true(json_object_get(rep, "ok")), "help over the socket: %s", show(rep));
	CHECK_INT(json_object_get(rep, "id"), 1);
	CHECK(pf_mgmt_clients(m) == 1, "%u clients", pf_mgmt_clients(m));
	/* a request in pieces: nothing until the newline */
	cli_send(&c, "{\"cmd\": \"con");
	rep = cli_reply(m, &c, 50);
	CHECK(rep == NULL, "reply to half a request: %s", show(rep));
	cli_send(&c, "texts\", \"id\": 2}");
	rep = cli_reply(m, &c, 50);
	CHECK(rep == NULL, "reply before the newline: %s", show(rep));
	cli_send(&c, "\n");
	rep = cli_reply(m, &c, 2000);
	CHECK_INT(json_object_get(rep, "id"), 2);
	CHECK(json_array_size(json_object_get(rep, "result")) == 5, "contexts: %s", show(rep));
	/* pipelined in one write, CRLF, blank lines, a bad one in the middle: in order */
	cli_send(&c, "{\"cmd\": \"help\", \"id\": 3}\r\n\n   \n{oops\n{\"cmd\": \"feeds\", \"id\": 5}\n");
	rep = cli_reply(m, &c, 2000);
	CHECK_INT(json_object_get(rep, "id"), 3);
	rep = cli_reply(m, &c, 2000);
	CHECK(json_is_false(json_object_get(rep, "ok")), "bad line: %s", show(rep));
	CHECK_HAS(json_string_value(json_object_get(rep, "error")), "not valid JSON");
	rep = cli_reply(m, &c, 2000);
	CHECK_INT(json_object_get(rep, "id"), 5);
	CHECK(json_is_true(json_object_get(rep, "ok")), "feeds: %s", show(rep));
	/* the last request may end at EOF without its newline; then the server closes */
	cli_send(&c, "{\"cmd\": \"help\", \"id\": 6}");
	shutdown(c.fd, SHUT_WR);
	rep = cli_reply(m, &c, 2000);
	CHECK_INT(json_object_get(rep, "id"), 6);
	CHECK(cli_wait_eof(m, &c, 2000), "server kept a finished client open");
	CHECK(pf_mgmt_clients(m) == 0, "%u clients after EOF", pf_mgmt_clients(m));
	cli_close(&c);
	/* a client that vanishes with a request pending costs nothing (no SIGPIPE) */
	CHECK(cli_connect(path, &c) == 0, "connect: %s", strerror(errno));
	cli_send(&c, "{\"cmd\": \"contexts\"}\n");
	cli_close(&c);
	for (int i = 0; i < 20; i++) {
		pf_mgmt_poll(m);
		usleep(1000);
	}
	CHECK(pf_mgmt_clients(m) == 0, "%u clients after a hang-up", pf_mgmt_clients(m));
	pf_mgmt_close(m);
	CHECK(lstat(path, &st) < 0 && errno == ENOENT, "socket file left behind");
	pf_mgmt_poll(NULL);
	pf_mgmt_close(NULL);
}

static void
test_socket_open_errors(void)
{
	char path[128], err[256], longp[200];
	struct pf_mgmt *m, *m2;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	/* a regular file is never replaced */
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "keep", 4) == 4, "test file");
	close(fd);
	err[0] = '\0';
	m = pf_mgmt_open(path, &mc, err, sizeof(err));
	CHECK(m == NULL, "opened over a regular file");
	pf_mgmt_close(m);
	CHECK_HAS(err, "exists and is not a socket; refusing to replace it");
	CHECK(stat(path, &st) == 0 && st.st_size == 4, "the file was touched");
	unlink(path);
	/* a directory neither */
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	mkdir(path, 0700);
	m = pf_mgmt_open(path, &mc, err, sizeof(err));
	CHECK(m == NULL, "opened over a directory");
	CHECK_HAS(err, "exists and is not a socket");
	rmdir(path);
	/* a stale socket (nobody listens) is replaced */
	snprintf(path, sizeof(path), "%s/stale.sock", tmpdir);
	memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path) - 1));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind stale: %s", strerror(errno));
	close(fd);
	m = pf_mgmt_open(path, &mc, err, sizeof(err));
	CHECK(m != NULL, "stale socket not replaced: %s", err);
	/* a live one is not */
	m2 = pf_mgmt_open(path, &mc, err, sizeof(err));
	CHECK(m2 == NULL, "opened a socket in use");
	pf_mgmt_close(m2);
	CHECK_HAS(err, "in use by a running process");
	/* and closing the refused one did not remove the live one's file */
	CHECK(lstat(path, &st) == 0, "live socket file removed");
	pf_mgmt_close(m);
	/* the socket file of another instance is left alone by close */
	m = pf_mgmt_open(path, &mc, err, sizeof(err));
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	close(fd);
	pf_mgmt_close(m);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode), "close removed a file it does not own");
	unlink(path);
	/* path length */
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	m = pf_mgmt_open(longp, &mc, err, sizeof(err));
	CHECK(m == NULL, "opened a 199-byte path");
	CHECK_HAS(err, "path longer than 107 bytes");
	/* a missing parent directory is created (one level), two are not */
	snprintf(path, sizeof(path), "%s/run/pf.sock", tmpdir);
	m = pf_mgmt_open(path, &mc, err, sizeof(err));
	CHECK(m != NULL, "missing parent: %s", err);
	pf_mgmt_close(m);
	snprintf(path, sizeof(path), "%s/run", tmpdir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "parent not created");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a/b/pf.sock", tmpdir);
	m = pf_mgmt_open(path, &mc, err, sizeof(err));
	CHECK(m == NULL, "created two directory levels");
	CHECK_HAS(err, "cannot create its directory");
	/* no tables */
	m = pf_mgmt_open("/tmp/x.sock", NULL, err, sizeof(err));
	CHECK(m == NULL, "opened without a context");
}

static void
test_socket_limits(void)
{
	char path[128];
	struct pf_mgmt *m = open_at("l.sock", path, sizeof(path));
	struct cli c[PF_MGMT_MAX_CLIENTS + 1], x;
	char *big;
	json_t *rep;

	if (m == NULL)
		return;
	/* a line longer than the bound: an error, then the connection closes */
	CHECK(cli_connect(path, &x) == 0, "connect");
	big = malloc(PF_MGMT_MAX_REQUEST + 100);
	memset(big, ' ', PF_MGMT_MAX_REQUEST + 99);
	big[PF_MGMT_MAX_REQUEST + 99] = '\0';
	big[0] = '{';
	for (size_t off = 0; off < PF_MGMT_MAX_REQUEST + 99;) {
		ssize_t w = send(x.fd, big + off, PF_MGMT_MAX_REQUEST + 99 - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		pf_mgmt_poll(m);
		cli_pump(&x);
		if (x.eof)
			break;
	}
	free(big);
	rep = cli_reply(m, &x, 2000);
	CHECK_HAS(json_string_value(json_object_get(rep, "error")), "request line longer than 65536 bytes");
	CHECK(cli_wait_eof(m, &x, 2000), "not closed after an over-long line");
	cli_close(&x);
	/* at most PF_MGMT_MAX_CLIENTS; the next one is told and closed */
	for (unsigned i = 0; i < PF_MGMT_MAX_CLIENTS; i++) {
		CHECK(cli_connect(path, &c[i]) == 0, "connect %u", i);
		pf_mgmt_poll(m);
	}
	for (int i = 0; i < 10; i++)
		pf_mgmt_poll(m);
	CHECK(pf_mgmt_clients(m) == PF_MGMT_MAX_CLIENTS, "%u clients", pf_mgmt_clients(m));
	CHECK(cli_connect(path, &c[PF_MGMT_MAX_CLIENTS]) == 0, "connect one more");
	rep = cli_reply(m, &c[PF_MGMT_MAX_CLIENTS], 2000);
	CHECK_HAS(json_string_value(json_object_get(rep, "error")), "too many management clients");
	CHECK(cli_wait_eof(m, &c[PF_MGMT_MAX_CLIENTS], 2000), "refused client not closed");
	/* the admitted ones are still served */
	cli_send(&c[7], "{\"cmd\": \"help\", \"id\": 7}\n");
	rep = cli_reply(m, &c[7], 2000);
	CHECK_INT(json_object_get(rep, "id"), 7);
	for (unsigned i = 0; i <= PF_MGMT_MAX_CLIENTS; i++)
		cli_close(&c[i]);
	for (int i = 0; i < 10; i++)
		pf_mgmt_poll(m);
	CHECK(pf_mgmt_clients(m) == 0, "%u clients after all closed", pf_mgmt_clients(m));
	/* requests that walk tables: one per poll over all clients, each client in turn */
	for (unsigned i = 0; i < 3; i++)
		CHECK(cli_connect(path, &c[i]) == 0, "connect %u", i);
	for (int i = 0; i < 20 && pf_mgmt_clients(m) < 3; i++)
		pf_mgmt_poll(m);
	CHECK(pf_mgmt_clients(m) == 3, "%u clients", pf_mgmt_clients(m));
	for (unsigned i = 0; i < 3; i++)
		cli_send(&c[i], "{\"cmd\": \"contexts\"}\n{\"cmd\": \"help\"}\n");
	usleep(20000);
	for (unsigned p = 1; p <= 3; p++) {
		unsigned done = 0;

		pf_mgmt_poll(m);
		usleep(20000);
		for (unsigned i = 0; i < 3; i++) {
			cli_pump(&c[i]);
			done += c[i].len && memchr(c[i].buf, '\n', c[i].len) != NULL;
		}
		CHECK(done == p, "after %u polls %u clients have their contexts reply", p, done);
	}
	for (unsigned i = 0; i < 3; i++) {
		rep = cli_reply(m, &c[i], 2000);
		CHECK(json_array_size(json_object_get(rep, "result")) == 5, "contexts: %s", show(rep));
		rep = cli_reply(m, &c[i], 2000);
		CHECK(json_array_size(json_object_get(rep, "result")) == 11, "help: %s", show(rep));
		cli_close(&c[i]);
	}
	/* idle connections are dropped */
	pf_mgmt_set_timeouts(m, 100, 0);
	CHECK(cli_connect(path, &x) == 0, "connect");
	CHECK(cli_wait_eof(m, &x, 2000), "idle client not dropped");
	cli_close(&x);
	pf_mgmt_close(m);
}

/* A big reply that the client never reads: the control thread keeps going and drops it. */
static void
test_socket_slow_client(void)
{
	char path[128];
	struct pf_mgmt *m = open_at("slow.sock", path, sizeof(path));
	int ctx = ctx_id("fabrikam-microsoft");
	uint32_t nh_drop = 0;
	struct cli slow, fast;
	long long worst = 0, t0, end;
	json_t *rep;
	unsigned n = 10000;

	if (m == NULL)
		return;
	for (uint32_t i = 1; i < tbl.n_nh; i++)
		if (tbl.nh[i].type == PF_NH_DROP)
			nh_drop = i;
	for (unsigned i = 0; i < n; i++)
		fib4_add(tbl.fib, (uint32_t)ctx, 0x0b000000u + (i << 8), 24, nh_drop);
	pf_mgmt_set_timeouts(m, 0, 300);
	CHECK(cli_connect(path, &slow) == 0 && cli_connect(path, &fast) == 0, "connect");
	for (int i = 0; i < 100 && pf_mgmt_clients(m) < 2; i++) {
		pf_mgmt_poll(m);
		usleep(500);
	}
	CHECK(pf_mgmt_clients(m) == 2, "%u clients accepted", pf_mgmt_clients(m));
	cli_send(&slow, "{\"cmd\": \"routes\", \"context\": \"fabrikam-microsoft\", \"limit\": 99999}\n");
	/* never read `slow`; meanwhile `fast` is answered and no poll blocks */
	end = ms_now() + 1500;
	while (ms_now() < end && pf_mgmt_clients(m) > 1) {
		long long d;

		t0 = ms_now();
		pf_mgmt_poll(m);
		d = ms_now() - t0;
		/* the first polls build the reply (a walk of 5000 routes); none may block */
		if (d > worst)
			worst = d;
		usleep(500);
	}
	CHECK(worst < 250, "a pf_mgmt_poll took %lld ms", worst);
	CHECK(pf_mgmt_clients(m) == 1, "stalled client not dropped (%u clients)", pf_mgmt_clients(m));
	cli_send(&fast, "{\"cmd\": \"help\", \"id\": 8}\n");
	rep = cli_reply(m, &fast, 2000);
	CHECK_INT(json_object_get(rep, "id"), 8);
	/* what the slow one gets is a cut reply and then EOF or a reset */
	cli_pump(&slow);
	CHECK(slow.eof, "slow client not closed");
	cli_close(&slow);
	cli_close(&fast);
	for (unsigned i = 0; i < n; i++)
		fib4_del(tbl.fib, (uint32_t)ctx, 0x0b000000u + (i << 8), 24);
	pf_mgmt_close(m);
}

/* A large listing is written a slice per poll, other clients are answered meanwhile, and
 * the text is exactly what pf_mgmt_handle() gives for the same request. */
static void
test_socket_large_reply(void)
{
	static const char req[] = "{\"cmd\": \"routes\", \"context\": \"fabrikam-microsoft\", "
				  "\"limit\": 10000000, \"id\": [1, \"x\"]}";
	static const char req2[] = "{\"cmd\": \"routes\", \"context\": \"fabrikam-microsoft\", "
				   "\"limit\": 2}";
	char path[128], *line, *want;
	struct pf_mgmt *m = open_at("big.sock", path, sizeof(path));
	int ctx = ctx_id("fabrikam-microsoft");
	uint32_t nh_drop = 0;
	struct cli c, d;
	json_t *rep;
	unsigned n = 50000, polls = 0;
	static const uint8_t v6_76[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x76};
	static const uint8_t v6_77[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x77};
	char pfx[32];
	long long worst = 0;

	if (m == NULL)
		return;
	for (uint32_t i = 1; i < tbl.n_nh; i++)
		if (tbl.nh[i].type == PF_NH_DROP)
			nh_drop = i;
	/* in no particular order for the walk; plus lengths and families to sort by */
	for (unsigned i = 0; i < n; i++)
		fib4_add(tbl.fib, (uint32_t)ctx, 0x0b000000u + (((i * 7919u) % n) << 8), 24, nh_drop);
	fib4_add(tbl.fib, (uint32_t)ctx, 0x0b000000u, 16, nh_drop);
	fib4_add(tbl.fib, (uint32_t)ctx, 0x0b000000u, 25, nh_drop);
	fib6_add(tbl.fib, (uint32_t)ctx, v6_77, 64, nh_drop);
	fib6_add(tbl.fib, (uint32_t)ctx, v6_77, 48, nh_drop);
	fib6_add(tbl.fib, (uint32_t)ctx, v6_76, 48, nh_drop);
	rep = kept(pf_mgmt_handle_line(&mc, req, strlen(req)));
	want = json_dumps(rep, JSON_COMPACT);
	CHECK(cli_connect(path, &c) == 0 && cli_connect(path, &d) == 0, "connect");
	cli_send(&c, req);
	cli_send(&c, "\n{\"cmd\": \"help\", \"id\": 99}\n");
	/* while c's listing is written, d is answered */
	cli_send(&d, "{\"cmd\": \"contexts\", \"id\": 3}\n");
	rep = cli_reply(m, &d, 2000);
	CHECK_INT(json_object_get(rep, "id"), 3);
	line = NULL;
	for (long long end = ms_now() + 20000; line == NULL && ms_now() < end;) {
		long long t0 = ms_now(), dt;
		char *nl;

		pf_mgmt_poll(m);
		dt = ms_now() - t0;
		worst = dt > worst ? dt : worst;
		polls++;
		cli_pump(&c);
		nl = c.len ? memchr(c.buf, '\n', c.len) : NULL;
		if (nl != NULL) {
			line = strndup(c.buf, (size_t)(nl - c.buf));
			memmove(c.buf, nl + 1, c.len - (size_t)(nl - c.buf) - 1);
			c.len -= (size_t)(nl - c.buf) + 1;
		}
	}
	CHECK(line != NULL && want != NULL && strcmp(line, want) == 0,
	      "streamed listing (%zu bytes) differs from pf_mgmt_handle's (%zu bytes)",
	      line ? strlen(line) : 0, want ? strlen(want) : 0);
	CHECK(polls > n / 512, "%u polls for %u routes: not written in slices", polls, n);
	CHECK(worst < 250, "a pf_mgmt_poll took %lld ms", worst);
	rep = kept(line ? json_loads(line, 0, NULL) : NULL);
	CHECK(json_array_size(at(rep, "result.routes")) == n + 8, "%zu routes",
	      json_array_size(at(rep, "result.routes")));
	CHECK_INT(at(rep, "result.total"), n + 8);
	/* sorted: family, address, length */
	CHECK_STR(at(rep, "result.routes.0.prefix"), "11.0.0.0/16");
	CHECK_STR(at(rep, "result.routes.1.prefix"), "11.0.0.0/24");
	CHECK_STR(at(rep, "result.routes.2.prefix"), "11.0.0.0/25");
	CHECK_STR(at(rep, "result.routes.3.prefix"), "11.0.1.0/24");
	snprintf(pfx, sizeof(pfx), "result.routes.%u.prefix", n + 1);
	CHECK_STR(at(rep, pfx), "11.195.79.0/24"); /* 11.0.0.0 + (49999 << 8) */
	snprintf(pfx, sizeof(pfx), "result.routes.%u.prefix", n + 2);
	CHECK_STR(at(rep, pfx), "40.64.0.0/10");
	snprintf(pfx, sizeof(pfx), "result.routes.%u.prefix", n + 5);
	CHECK_STR(at(rep, pfx), "2001:db8:76::/48");
	snprintf(pfx, sizeof(pfx), "result.routes.%u.prefix", n + 6);
	CHECK_STR(at(rep, pfx), "2001:db8:77::/48");
	snprintf(pfx, sizeof(pfx), "result.routes.%u.prefix", n + 7);
	CHECK_STR(at(rep, pfx), "2001:db8:77::/64");
	for (unsigned i = 1; i < n + 8; i++) {
		const json_t *a = json_array_get(at(rep, "result.routes"), i - 1);
		const json_t *b = json_array_get(at(rep, "result.routes"), i);
		struct pf_prefix pa, pb;

		pf_prefix_parse(json_string_value(json_object_get(a, "prefix")), &pa);
		pf_prefix_parse(json_string_value(json_object_get(b, "prefix")), &pb);
		if (pa.family > pb.family || (pa.family == pb.family &&
		    (memcmp(pa.addr, pb.addr, 16) > 0 ||
		     (memcmp(pa.addr, pb.addr, 16) == 0 && pa.len >= pb.len)))) {
			CHECK(false, "routes %u and %u out of order: %s %s", i - 1, i, show(a), show(b));
			break;
		}
	}
	CHECK(json_is_false(at(rep, "result.truncated")), "truncated");
	CHECK_STR(at(rep, "id.1"), "x");
	free(line);
	free(want);
	/* the request pipelined behind the listing is answered after it */
	rep = cli_reply(m, &c, 2000);
	CHECK_INT(json_object_get(rep, "id"), 99);
	/* truncated and errors take the same path */
	cli_send(&c, req2);
	cli_send(&c, "\n{\"cmd\": \"routes\", \"context\": \"nope\", \"id\": 1}\n"
		     "{\"cmd\": \"routes\", \"context\": \"core\", \"x\": 1}\n");
	line = cli_line(m, &c, 2000);
	want = json_dumps(kept(pf_mgmt_handle_line(&mc, req2, strlen(req2))), JSON_COMPACT);
	CHECK(line && want && strcmp(line, want) == 0, "limit 2: %s vs %s", line, want);
	free(line);
	free(want);
	rep = cli_reply(m, &c, 2000);
	CHECK_HAS(json_string_value(json_object_get(rep, "error")), "no context 'nope'");
	CHECK_INT(json_object_get(rep, "id"), 1);
	rep = cli_reply(m, &c, 2000);
	CHECK_HAS(json_string_value(json_object_get(rep, "error")), "unknown argument 'x' for 'routes'");
	cli_close(&c);
	cli_close(&d);
	for (unsigned i = 0; i < n; i++)
		fib4_del(tbl.fib, (uint32_t)ctx, 0x0b000000u + (i << 8), 24);
	fib4_del(tbl.fib, (uint32_t)ctx, 0x0b000000u, 16);
	fib4_del(tbl.fib, (uint32_t)ctx, 0x0b000000u, 25);
	fib6_del(tbl.fib, (uint32_t)ctx, v6_77, 64);
	fib6_del(tbl.fib, (uint32_t)ctx, v6_77, 48);
	fib6_del(tbl.fib, (uint32_t)ctx, v6_76, 48);
	pf_mgmt_close(m);
}

int
main(void)
{
	static const CU_TestInfo tests[] = {
		{"protocol_errors", test_protocol_errors},
		{"help", test_help},
		{"contexts", test_contexts},
		{"routes", test_routes},
		{"lookup", test_lookup},
		{"counters", test_counters},
		{"feeds", test_feeds},
		{"route_add_del", test_route_add_del},
		{"socket_serve", test_socket_serve},
		{"socket_open_errors", test_socket_open_errors},
		{"socket_limits", test_socket_limits},
		{"socket_slow_client", test_socket_slow_client},
		{"socket_large_reply", test_socket_large_reply},
	};

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (pft_cunit_suite("mgmt", suite_init, suite_clean, NULL, test_teardown, tests,
			    PFT_DIM(tests)) < 0)
		return pft_cunit_fail();
	return pft_cunit_run();
}
