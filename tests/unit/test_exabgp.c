/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ExaBGP feed adapter (control/feed_exabgp.c) and its pipe program (peerfwd-exabgp):
 *   parser:  fixtures recorded from the real ExaBGP 4.2 talking to BIRD 2
 *            (tests/integration/exabgp/record_fixtures.sh), normal and "compact" JSON;
 *            hand-made lines for every kind of bad input, ECMP merging, ExaBGP 3.4's forms
 *   thread:  the Unix socket: lines split across reads, several connections, over-long
 *            lines, a connection closing (PEER_DOWN), backpressure on a small ring, stale
 *            and live sockets, stop
 *   pipe:    peerfwd-exabgp between a fake ExaBGP (stdin/stdout pipes) and the adapter,
 *            across a peerfwd restart (buffering, route-refresh request)
 * The contexts come from configs/exchange-provider.json: 172.16.1.1 / 2001:db8:a1::1 /
 * 172.16.2.1 are contoso-private (ctx 1), 172.16.1.5 contoso-public (2), 192.0.2.x core (0).
 *
 * Also a helper mode for tests/integration/exabgp/run.sh when peerfwd itself cannot be used:
 *   test_exabgp --serve SOCKET [--config FILE] [--seconds N]
 * runs the adapter on SOCKET and prints every route message as one line (see msg_fmt) and
 * the feed counters at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_ring.h>

#include "common/config.h"
#include "control/feed.h"
#include "control/feed_exabgp.h"
#include "tests/common/pftest.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#ifndef PF_EXABGP_PIPE
#define PF_EXABGP_PIPE "peerfwd-exabgp"
#endif

#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"
#define FIXDIR PF_SRCDIR "/tests/fixtures/exabgp"

static struct pf_config *cfg;
static struct pf_ctxmap *map;
static struct pf_feed feed;
static volatile bool quit;

/* ------------------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------------------ */

static const char *
op_name(unsigned op)
{
	static const char *const n[] = {"?", "ADD", "DEL", "PEER_DOWN", "EOR", "SYNC_BEGIN",
					"SYNC_END"};

	return op < 7 ? n[op] : "?";
}

/* "ADD ctx=1 198.51.100.0/24 nh=172.16.1.1 peer=172.16.1.1" */
static const char *
msg_fmt(const struct pf_route_msg *m, char *buf, size_t len)
{
	char a[64], b[64];
	size_t o;

	o = (size_t)snprintf(buf, len, "%s ctx=%u", op_name(m->op), m->ctx);
	if (m->op == PF_RT_ADD || m->op == PF_RT_DEL) {
		struct pf_prefix p = {.family = m->family, .len = m->len};

		memcpy(p.addr, m->prefix, 16);
		o += (size_t)snprintf(buf + o, len - o, " %s", pf_prefix_fmt(&p, a, sizeof(a)));
	}
	if (m->op == PF_RT_ADD)
		for (unsigned i = 0; i < m->n_nh && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : " nh=",
					      pf_addr_fmt(&m->nh[i], a, sizeof(a)));
	if (m->op == PF_RT_EOR && o < len)
		o += (size_t)snprintf(buf + o, len - o, " ipv%u", m->family);
	if (o < len)
		snprintf(buf + o, len - o, " peer=%s",
			 m->peer.family ? pf_addr_fmt(&m->peer, b, sizeof(b)) : "-");
	if (m->source != PF_SRC_EXABGP && strlen(buf) + 12 < len)
		strcat(buf, " source!=exabgp");
	return buf;
}

static uint64_t
bad_total(const struct pf_feed *f)
{
	uint64_t n = 0;

	for (int i = 0; i < PF_FEED_BAD_MAX; i++)
		n += f->bad[i];
	return n;
}

static void
feed_reset(struct pf_feed *f)
{
	struct rte_ring *r = f->ring;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "exabgp");
	f->source = PF_SRC_EXABGP;
	f->ring = r;
	f->quit = &quit;
	f->logged = ~0u; /* keep the test output quiet: every kind "already logged" */
}

#define MAXM 4096
static struct pf_route_msg msgs[MAXM];
static unsigned n_msgs;
static char got[MAXM][256];

/* Parse a string (one line), results in msgs/got. Returns pf_exabgp_parse's result.
 * The line is copied to a buffer of exactly its length (ASan catches over-reads). */
static int
parse(const char *line)
{
	size_t len = strlen(line);
	char *b = malloc(len ? len : 1);
	unsigned n = 0;
	int r;

	memcpy(b, line, len);
	r = pf_exabgp_parse(b, len, map, &feed, msgs, MAXM, &n);
	free(b);
	n_msgs = n;
	for (unsigned i = 0; i < n; i++)
		msg_fmt(&msgs[i], got[i], sizeof(got[i]));
	return r;
}

struct acc {
	struct pf_route_msg m[64];
	unsigned n;
};

static int
acc_emit(void *arg, const struct pf_route_msg *x)
{
	struct acc *a = arg;

	if (a->n == 64)
		return -ENOSPC;
	a->m[a->n++] = *x;
	return 0;
}

/* Every line of a fixture; messages appended to out (formatted). Returns lines or -1. */
static int
parse_file(const char *name, char out[][256], unsigned *n_out, unsigned max, int *events)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lines = 0;
	FILE *fp;

	snprintf(path, sizeof(path), FIXDIR "/%s", name);
	fp = fopen(path, "r");
	if (fp == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	*n_out = 0;
	while ((len = getline(&line, &cap, fp)) > 0) {
		struct pf_exabgp_info info;
		struct acc a = {.n = 0};

		if (line[len - 1] == '\n')
			len--;
		lines++;
		/* the callback form gives the session event too */
		if (pf_exabgp_parse_cb(line, (size_t)len, map, &feed, acc_emit, &a, &info) != 0)
			fprintf(stderr, "%s:%d: rejected\n", name, lines);
		if (events)
			events[info.ev]++;
		for (unsigned i = 0; i < a.n && *n_out < max; i++)
			msg_fmt(&a.m[i], out[(*n_out)++], 256);
	}
	free(line);
	fclose(fp);
	return lines;
}

static bool
has(const char *want)
{
	for (unsigned i = 0; i < n_msgs; i++)
		if (strcmp(got[i], want) == 0)
			return true;
	return false;
}

#define CHECK_MSGS(...)                                                                    \
	do {                                                                               \
		const char *want_[] = {__VA_ARGS__};                                       \
		unsigned nw_ = sizeof(want_) / sizeof(want_[0]);                           \
		CU_ASSERT_EQUAL(n_msgs, nw_);                                              \
		for (unsigned i_ = 0; i_ < nw_ && i_ < n_msgs; i_++) {                     \
			if (strcmp(got[i_], want_[i_]) != 0)                               \
				fprintf(stderr, "\n  msg %u: got  '%s'\n         want '%s'\n", \
					i_, got[i_], want_[i_]);                           \
			CU_ASSERT_STRING_EQUAL(got[i_], want_[i_]);                        \
		}                                                                          \
		if (n_msgs != nw_)                                                         \
			for (unsigned i_ = 0; i_ < n_msgs; i_++)                           \
				fprintf(stderr, "\n  got %u: %s", i_, got[i_]);            \
	} while (0)

/* a 4.2-style update line from neighbor nbr with the given "message" body */
static const char *
upd(const char *nbr, const char *message)
{
	static char b[20000];

	snprintf(b, sizeof(b),
		 "{ \"exabgp\": \"4.0.1\", \"time\": 1.5, \"host\" : \"h\", \"pid\" : 1, "
		 "\"ppid\" : 1, \"counter\": 3, \"type\": \"update\", \"neighbor\": { "
		 "\"address\": { \"local\": \"172.16.1.2\", \"peer\": \"%s\" }, \"asn\": { "
		 "\"local\": 12076, \"peer\": 65520 } , \"direction\": \"receive\", \"message\": "
		 "%s } }",
		 nbr, message);
	return b;
}

/* dst = s + "\n" (truncated to fit) */
static void
withnl(char *dst, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n + 2 > len)
		n = len - 2;
	memcpy(dst, s, n);
	dst[n] = '\n';
	dst[n + 1] = '\0';
}

static const char *
state(const char *nbr, const char *st)
{
	static char b[1024];

	snprintf(b, sizeof(b),
		 "{ \"exabgp\": \"4.0.1\", \"time\": 1.5, \"type\": \"state\", \"neighbor\": { "
		 "\"address\": { \"local\": \"172.16.1.2\", \"peer\": \"%s\" }, \"asn\": { "
		 "\"local\": 12076, \"peer\": 65520 } , \"state\": \"%s\" } }",
		 nbr, st);
	return b;
}

/* ------------------------------------------------------------------------------------
 * parser: recorded fixtures
 * ------------------------------------------------------------------------------------ */

static int
suite_init(void)
{
	char err[1024];

	if (pf_config_load(EXAMPLE, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "cannot load the example: %s\n", err);
		return -1;
	}
	map = pf_ctxmap_create(cfg);
	if (map == NULL)
		return -1;
	feed_reset(&feed);
	return 0;
}

static int
suite_clean(void)
{
	pf_ctxmap_free(map);
	pf_config_free(cfg);
	map = NULL;
	cfg = NULL;
	return 0;
}

static void
test_setup(void)
{
	feed_reset(&feed);
}

static char fx[MAXM][256], fx2[MAXM][256];

/* The messages of fixture name, which must have lines lines (session events counted in ev
 * unless NULL), become got[] / n_msgs. */
static void
fixture_msgs(const char *name, int lines, int *ev)
{
	unsigned n;

	CU_ASSERT_EQUAL_FATAL(parse_file(name, fx, &n, MAXM, ev), lines);
	n_msgs = n;
	memcpy(got, fx, sizeof(fx[0]) * n);
}

static void
test_fixture_up(void)
{
	int ev[8] = {0};

	fixture_msgs("01-up.jsonl", 8, ev);
	/* BIRD's five IPv4 statics in one update; the IPv6 ones come with a global and a
	 * link-local next hop (RFC 2545): only the global one is kept. The two sessions
	 * interleave differently from one recording to the next: check membership, and that
	 * each neighbor's end-of-RIB follows its routes. */
	{
		static const char *const want[] = {
			"ADD ctx=1 198.51.100.0/24 nh=172.16.1.1 peer=172.16.1.1",
			"ADD ctx=1 192.0.2.128/25 nh=172.16.1.1 peer=172.16.1.1",
			"ADD ctx=1 216.221.239.224/28 nh=172.16.1.1 peer=172.16.1.1",
			"ADD ctx=1 10.99.0.0/16 nh=172.16.1.1 peer=172.16.1.1",
			"ADD ctx=1 203.0.113.0/24 nh=172.16.1.1 peer=172.16.1.1",
			"ADD ctx=1 2001:db8:1001::/48 nh=2001:db8:a1::1 peer=2001:db8:a1::1",
			"ADD ctx=1 2001:db8:1000::/48 nh=2001:db8:a1::1 peer=2001:db8:a1::1",
			"ADD ctx=1 2001:db8:1002::/48 nh=2001:db8:a1::1 peer=2001:db8:a1::1",
			"EOR ctx=1 ipv4 peer=172.16.1.1",
			"EOR ctx=1 ipv6 peer=2001:db8:a1::1",
		};
		int eor4 = -1, eor6 = -1;

		CU_ASSERT_EQUAL(n_msgs, 10);
		for (unsigned i = 0; i < 10; i++) {
			if (!has(want[i]))
				fprintf(stderr, "\n  missing: %s\n", want[i]);
			CU_ASSERT(has(want[i]));
		}
		for (unsigned i = 0; i < n_msgs; i++) {
			if (strncmp(got[i], "EOR", 3) == 0)
				*(strstr(got[i], "ipv4") ? &eor4 : &eor6) = (int)i;
		}
		for (unsigned i = 0; i < n_msgs; i++) {
			if (strncmp(got[i], "ADD", 3) != 0)
				continue;
			CU_ASSERT((int)i < (strstr(got[i], "peer=172.") ? eor4 : eor6));
		}
	}
	CU_ASSERT_EQUAL(ev[PF_EXA_EV_CONNECTED], 2);
	CU_ASSERT_EQUAL(ev[PF_EXA_EV_UP], 2);
	CU_ASSERT_EQUAL(ev[PF_EXA_EV_ROUTES], 4);
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

static void
test_fixture_withdraw(void)
{
	fixture_msgs("02-withdraw.jsonl", 2, NULL);
	CHECK_MSGS("DEL ctx=1 203.0.113.0/24 peer=172.16.1.1",
		   "DEL ctx=1 2001:db8:1002::/48 peer=2001:db8:a1::1");
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

static void
test_fixture_reannounce(void)
{
	fixture_msgs("03-reannounce.jsonl", 1, NULL);
	/* the /30 passes the parser: policy (max length /29) is the applier's */
	CHECK_MSGS("ADD ctx=1 198.51.100.4/30 nh=172.16.1.1 peer=172.16.1.1",
		   "ADD ctx=1 198.51.100.128/25 nh=172.16.1.1 peer=172.16.1.1");
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

static void
test_fixture_down(void)
{
	unsigned n, downs4 = 0, downs6 = 0;
	int ev[8] = {0};

	CU_ASSERT_FATAL(parse_file("04-down.jsonl", fx, &n, MAXM, ev) > 0);
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(fx[i], "PEER_DOWN ctx=1 peer=172.16.1.1") == 0)
			downs4++;
		else if (strcmp(fx[i], "PEER_DOWN ctx=1 peer=2001:db8:a1::1") == 0)
			downs6++;
		else
			CU_FAIL("unexpected message");
	}
	/* ExaBGP keeps retrying: connected, down, connected, down ... one PEER_DOWN each */
	CU_ASSERT(downs4 >= 1);
	CU_ASSERT(downs6 >= 1);
	CU_ASSERT_EQUAL(downs4 + downs6, (unsigned)ev[PF_EXA_EV_DOWN]);
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

static void
test_fixture_shutdown(void)
{
	unsigned n;
	int ev[8] = {0};

	CU_ASSERT_EQUAL_FATAL(parse_file("05-shutdown.jsonl", fx, &n, MAXM, ev), 1);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ev[PF_EXA_EV_SHUTDOWN], 1);
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* exabgp.api.compact=true gives "P/L" strings instead of {"nlri": "P/L"}: same messages */
static void
test_fixture_compact(void)
{
	static const char *const files[] = {"01-up", "02-withdraw", "03-reannounce", "04-down",
					    "05-shutdown"};

	for (unsigned k = 0; k < 5; k++) {
		char a[64], b[64];
		unsigned n1, n2;

		snprintf(a, sizeof(a), "%s.jsonl", files[k]);
		snprintf(b, sizeof(b), "%s-compact.jsonl", files[k]);
		CU_ASSERT_FATAL(parse_file(a, fx, &n1, MAXM, NULL) > 0);
		CU_ASSERT_FATAL(parse_file(b, fx2, &n2, MAXM, NULL) > 0);
		if (k == 3) {
			/* the number of retries differs between recordings */
			CU_ASSERT(n2 >= 2);
			continue;
		}
		/* the sessions interleave differently between recordings: compare sorted */
		qsort(fx, n1, sizeof(fx[0]), str_cmp);
		qsort(fx2, n2, sizeof(fx2[0]), str_cmp);
		CU_ASSERT_EQUAL(n1, n2);
		for (unsigned i = 0; i < n1 && i < n2; i++)
			CU_ASSERT_STRING_EQUAL(fx[i], fx2[i]);
	}
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

/* ------------------------------------------------------------------------------------
 * parser: hand-made lines
 * ------------------------------------------------------------------------------------ */

static void
test_ecmp_merge(void)
{
	/* the same prefix with several next hops in one update: one route, next hops merged
	 * (duplicates once), other prefixes untouched, order of first appearance */
	CU_ASSERT_EQUAL(parse(upd("172.16.1.1", "{ \"update\": { \"announce\": { \"ipv4 unicast\":"
				  " { \"172.16.1.1\": [ {\"nlri\": \"198.51.100.0/24\"}, "
				  "{\"nlri\": \"10.1.0.0/16\"} ], \"172.16.2.1\": [ {\"nlri\": "
				  "\"198.51.100.0/24\"} ], \"192.0.2.10\": [ \"198.51.100.0/24\", "
				  "\"10.2.0.0/16\" ], \"172.16.2.1 \": [] } } } }")), 0);
	CHECK_MSGS("ADD ctx=1 198.51.100.0/24 nh=172.16.1.1,172.16.2.1,192.0.2.10 peer=172.16.1.1",
		   "ADD ctx=1 10.1.0.0/16 nh=172.16.1.1 peer=172.16.1.1",
		   "ADD ctx=1 10.2.0.0/16 nh=192.0.2.10 peer=172.16.1.1");
	CU_ASSERT_EQUAL(bad_total(&feed), 0);

	/* duplicate next hop (same address spelled twice can only come as two keys) */
	CU_ASSERT_EQUAL(parse(upd("2001:db8:a1::1", "{ \"update\": { \"announce\": { \"ipv6 "
				  "unicast\": { \"2001:db8:a1::1\": [ \"2001:db8:5::/48\" ], "
				  "\"2001:db8:a1:0::1\": [ \"2001:db8:5::/48\" ] } } } }")), 0);
	CHECK_MSGS("ADD ctx=1 2001:db8:5::/48 nh=2001:db8:a1::1 peer=2001:db8:a1::1");
}

static void
test_too_many_nexthops(void)
{
	char body[4096];
	size_t o = 0;

	o += (size_t)snprintf(body + o, sizeof(body) - o,
			      "{ \"update\": { \"announce\": { \"ipv4 unicast\": {");
	for (int i = 1; i <= PF_RT_MAX_NH + 2; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%s \"192.0.2.%d\": [ {\"nlri\": "
				      "\"198.51.100.0/24\"} ]", i > 1 ? "," : "", 10 + i);
	snprintf(body + o, sizeof(body) - o, " } } } }");
	CU_ASSERT_EQUAL(parse(upd("172.16.1.1", body)), 0);
	CU_ASSERT_EQUAL(n_msgs, 1);
	CU_ASSERT_EQUAL(msgs[0].n_nh, PF_RT_MAX_NH);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_too_many_nexthops], 1);
	CU_ASSERT_EQUAL(bad_total(&feed), 1);
}

static void
test_link_local(void)
{
	/* link-local only: not resolvable in a context -> unsupported, the rest goes on */
	CU_ASSERT_EQUAL(parse(upd("2001:db8:a1::1", "{ \"update\": { \"announce\": { \"ipv6 "
				  "unicast\": { \"fe80::1\": [ \"2001:db8:6::/48\", "
				  "\"2001:db8:7::/48\" ], \"2001:db8:a1::1\": [ \"2001:db8:7::/48\" ]"
				  " } } } }")), 0);
	CHECK_MSGS("ADD ctx=1 2001:db8:7::/48 nh=2001:db8:a1::1 peer=2001:db8:a1::1");
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_unsupported], 1);
	CU_ASSERT_EQUAL(bad_total(&feed), 1);
}

static void
test_withdraw_then_announce(void)
{
	/* one update that withdraws and announces: DELs first, so an announced prefix that
	 * is also withdrawn stays */
	CU_ASSERT_EQUAL(parse(upd("172.16.1.1", "{ \"update\": { \"attribute\": { \"origin\": "
				  "\"igp\" }, \"announce\": { \"ipv4 unicast\": { \"172.16.1.1\": "
				  "[ { \"nlri\": \"198.51.100.0/24\" } ] } }, \"withdraw\": { "
				  "\"ipv4 unicast\": [ { \"nlri\": \"203.0.113.0/24\" }, { \"nlri\": "
				  "\"198.51.100.0/24\" } ], \"ipv6 unicast\": [ \"2001:db8:1::/48\" ] "
				  "} } }")), 0);
	CHECK_MSGS("DEL ctx=1 203.0.113.0/24 peer=172.16.1.1",
		   "DEL ctx=1 198.51.100.0/24 peer=172.16.1.1",
		   "DEL ctx=1 2001:db8:1::/48 peer=172.16.1.1",
		   "ADD ctx=1 198.51.100.0/24 nh=172.16.1.1 peer=172.16.1.1");
}

static void
test_exabgp34_forms(void)
{
	/* ExaBGP 3.4: prefixes as object keys */
	CU_ASSERT_EQUAL(parse("{ \"exabgp\": \"3.4.8\", \"time\": 1, \"type\": \"update\", "
			      "\"neighbor\": { \"address\": { \"local\": \"172.16.1.6\", \"peer\": "
			      "\"172.16.1.5\" }, \"asn\": { \"local\": 1, \"peer\": 65520 }, "
			      "\"direction\": \"receive\", \"message\": { \"update\": { "
			      "\"announce\": { \"ipv4 unicast\": { \"172.16.1.5\": { "
			      "\"203.0.113.0/25\": {}, \"203.0.113.128/25\": {} } } }, "
			      "\"withdraw\": { \"ipv4 unicast\": { \"198.51.100.0/24\": {} } } } } } }"),
			0);
	CHECK_MSGS("DEL ctx=2 198.51.100.0/24 peer=172.16.1.5",
		   "ADD ctx=2 203.0.113.0/25 nh=172.16.1.5 peer=172.16.1.5",
		   "ADD ctx=2 203.0.113.128/25 nh=172.16.1.5 peer=172.16.1.5");
	/* older still: neighbor.ip */
	CU_ASSERT_EQUAL(parse("{ \"type\": \"state\", \"neighbor\": { \"ip\": \"172.16.3.1\", "
			      "\"state\": \"down\" } }"), 0);
	CHECK_MSGS("PEER_DOWN ctx=3 peer=172.16.3.1");
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

static void
test_core_neighbor_and_states(void)
{
	/* a neighbor on the core subnet feeds the core context (0) */
	CU_ASSERT_EQUAL(parse(upd("192.0.2.254", "{ \"update\": { \"announce\": { \"ipv4 "
				  "unicast\": { \"192.0.2.254\": [ \"0.0.0.0/0\" ] } } } }")), 0);
	CHECK_MSGS("ADD ctx=0 0.0.0.0/0 nh=192.0.2.254 peer=192.0.2.254");
	CU_ASSERT_EQUAL(parse(state("172.16.2.1", "up")), 0);
	CU_ASSERT_EQUAL(n_msgs, 0);
	CU_ASSERT_EQUAL(parse(state("172.16.2.1", "connected")), 0);
	CU_ASSERT_EQUAL(n_msgs, 0);
	CU_ASSERT_EQUAL(parse(state("172.16.2.1", "down")), 0);
	CHECK_MSGS("PEER_DOWN ctx=1 peer=172.16.2.1");
	CU_ASSERT_EQUAL(parse(upd("172.16.1.1", "{ \"eor\": { \"afi\" : \"ipv6\", \"safi\" : "
				  "\"unicast\" } }")), 0);
	CHECK_MSGS("EOR ctx=1 ipv6 peer=172.16.1.1");
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

static void
test_ignored(void)
{
	static const char *const lines[] = {
		"",
		"   \r",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"keepalive\", \"neighbor\": {} }",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"open\", \"neighbor\": { \"open\": {} } }",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"notification\", \"neighbor\": { "
		"\"notification\": { \"code\": 6 } } }",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"negotiated\" }",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"fsm\" }",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"signal\" }",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"refresh\" }",
		"{ \"exabgp\": \"4.0.1\", \"type\": \"operational\" }",
		/* api `send { parsed; update; }`: what ExaBGP sent */
		"{ \"exabgp\": \"4.0.1\", \"type\": \"update\", \"neighbor\": { \"address\": { "
		"\"peer\": \"172.16.1.1\" }, \"direction\": \"send\", \"message\": { \"update\": { "
		"\"announce\": { \"ipv4 unicast\": { \"172.16.1.2\": [ \"10.0.0.0/8\" ] } } } } } }",
		/* api `receive { packets; }` */
		"{ \"exabgp\": \"4.0.1\", \"type\": \"update\", \"neighbor\": { \"address\": { "
		"\"peer\": \"172.16.1.1\" }, \"direction\": \"receive\", \"message\": { "
		"\"category\": 2, \"header\": \"FF\", \"body\": \"00\" } } }",
		/* attributes only */
		"{ \"type\": \"update\", \"neighbor\": { \"address\": { \"peer\": \"172.16.1.1\" }, "
		"\"message\": { \"update\": { \"attribute\": { \"origin\": \"igp\" } } } } }",
	};

	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CU_ASSERT_EQUAL(parse(lines[i]), 0);
		CU_ASSERT_EQUAL(n_msgs, 0);
	}
	CU_ASSERT_EQUAL(bad_total(&feed), 0);
}

/* One bad input: the whole-line result, the messages still produced, the counter. */
struct bad_case {
	const char *line;
	enum pf_feed_bad kind;
	unsigned count;      /* how many of that kind */
	int ret;             /* 0 or -EINVAL */
	unsigned good_msgs;  /* messages still produced by the good items */
};

static void
run_bad(const struct bad_case *c, unsigned idx)
{
	int r;

	feed_reset(&feed);
	r = parse(c->line);
	if (r != c->ret || feed.bad[c->kind] != c->count || bad_total(&feed) != c->count ||
	    n_msgs != c->good_msgs) {
		fprintf(stderr, "\n  bad case %u (%s): ret %d (want %d), %s=%llu (want %u), "
			"all bad=%llu, msgs %u (want %u)\n  line: %.300s\n", idx,
			pf_feed_bad_names[c->kind], r, c->ret, pf_feed_bad_names[c->kind],
			(unsigned long long)feed.bad[c->kind], c->count,
			(unsigned long long)bad_total(&feed), n_msgs, c->good_msgs, c->line);
		CU_FAIL("bad case");
	}
}

#define GOODNLRI "{ \"nlri\": \"198.51.100.0/24\" }"
#define ANN(fam, nh, list)                                                                 \
	"{ \"update\": { \"announce\": { \"" fam "\": { \"" nh "\": [ " list " ] } } } }"

static void
test_bad_inputs(void)
{
	char big[600];
	struct bad_case cases[64];
	unsigned n = 0;

#define CASE(l, k, c, r, g) cases[n++] = (struct bad_case){strdup(l), PF_FEED_BAD_##k, c, r, g}
	/* bad_json: not JSON, or not the structure expected */
	CASE("not json", bad_json, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\", ", bad_json, 1, -EINVAL, 0);
	CASE("[ 1, 2 ]", bad_json, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\" } trailing", bad_json, 1, -EINVAL, 0);
	CASE("{ \"exabgp\": \"4.0.1\" }", bad_json, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\" }", bad_json, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\", \"neighbor\": { \"asn\": {} } }", bad_json, 1, -EINVAL, 0);
	CASE(upd("not-an-ip", ANN("ipv4 unicast", "172.16.1.1", GOODNLRI)), bad_json, 1,
	     -EINVAL, 0);
	CASE(upd("172.16.1.1", "{ \"refresh\": {} }"), bad_json, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\", \"neighbor\": { \"address\": { \"peer\": \"172.16.1.1\" "
	     "} } }", bad_json, 1, -EINVAL, 0);
	CASE(upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1", "{ \"prefix\": \"10.0.0.0/8\" },"
				   GOODNLRI)), bad_json, 1, 0, 1);
	CASE(upd("172.16.1.1", "{ \"eor\": { \"afi\": \"ipv4\" } }"), bad_json, 1, -EINVAL, 0);
	CASE("{ \"type\": \"state\", \"neighbor\": { \"address\": { \"peer\": \"172.16.1.1\" } "
	     "} }", bad_json, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\", \"s\": \"\\u0000\" }", bad_json, 1, -EINVAL, 0);
	/* bad_type: a field of the wrong type */
	CASE("{ \"type\": 2 }", bad_type, 1, -EINVAL, 0);
	CASE("{ \"exabgp\": 4, \"type\": \"update\" }", bad_type, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\", \"neighbor\": [] }", bad_type, 1, -EINVAL, 0);
	CASE("{ \"type\": \"update\", \"neighbor\": { \"address\": \"172.16.1.1\" } }", bad_type,
	     1, -EINVAL, 0);
	CASE("{ \"type\": \"update\", \"neighbor\": { \"address\": { \"peer\": 17216 } } }",
	     bad_type, 1, -EINVAL, 0);
	CASE(upd("172.16.1.1", "[]"), bad_type, 1, -EINVAL, 0);
	CASE(upd("172.16.1.1", "{ \"update\": 5 }"), bad_type, 1, -EINVAL, 0);
	CASE(upd("172.16.1.1", "{ \"update\": { \"announce\": [], \"withdraw\": { \"ipv4 "
				"unicast\": [ \"10.0.0.0/8\" ] } } }"), bad_type, 1, 0, 1);
	CASE(upd("172.16.1.1", "{ \"update\": { \"withdraw\": { \"ipv4 unicast\": 7, \"ipv6 "
				"unicast\": [ \"2001:db8::/32\" ] } } }"), bad_type, 1, 0, 1);
	CASE(upd("172.16.1.1", "{ \"update\": { \"announce\": { \"ipv4 unicast\": [ "
				"\"10.0.0.0/8\" ] } } }"), bad_type, 1, 0, 0);
	CASE(upd("172.16.1.1", "{ \"update\": { \"announce\": { \"ipv4 unicast\": { "
				"\"172.16.1.1\": \"10.0.0.0/8\", \"172.16.2.1\": [ \"10.1.0.0/16\" "
				"] } } } }"), bad_type, 1, 0, 1);
	CASE(upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1", "{ \"nlri\": 10 }, 7, null, "
				   GOODNLRI)), bad_type, 3, 0, 1);
	CASE(upd("172.16.1.1", "{ \"eor\": [] }"), bad_type, 1, -EINVAL, 0);
	CASE(upd("172.16.1.1", "{ \"eor\": { \"afi\": 1, \"safi\": \"unicast\" } }"), bad_type, 1,
	     -EINVAL, 0);
	CASE("{ \"type\": \"update\", \"neighbor\": { \"address\": { \"peer\": \"172.16.1.1\" }, "
	     "\"direction\": 1, \"message\": {} } }", bad_type, 1, -EINVAL, 0);
	CASE("{ \"type\": \"state\", \"neighbor\": { \"address\": { \"peer\": \"172.16.1.1\" }, "
	     "\"state\": false } }", bad_type, 1, -EINVAL, 0);
	/* bad_version: unsupported version or message type */
	CASE("{ \"exabgp\": \"2.0.0\", \"type\": \"update\" }", bad_version, 1, -EINVAL, 0);
	CASE("{ \"exabgp\": \"\", \"type\": \"update\" }", bad_version, 1, -EINVAL, 0);
	CASE("{ \"exabgp\": \"40\", \"type\": \"update\" }", bad_version, 1, -EINVAL, 0);
	CASE("{ \"exabgp\": \"4.0.1\", \"type\": \"route-reflection\" }", bad_version, 1,
	     -EINVAL, 0);
	CASE(state("172.16.1.1", "sleepy"), bad_version, 1, -EINVAL, 0);
	/* unknown_family */
	CASE(upd("172.16.1.1", "{ \"update\": { \"announce\": { \"ipv4 flow\": { \"no-nexthop\": "
				"[ { \"destination-ipv4\": [ \"10.0.0.0/8\" ] } ] }, \"ipv4 "
				"unicast\": { \"172.16.1.1\": [ " GOODNLRI " ] } } } }"),
	     unknown_family, 1, 0, 1);
	CASE(upd("172.16.1.1", "{ \"update\": { \"withdraw\": { \"l2vpn evpn\": [], \"ipv4 "
				"multicast\": [ \"10.0.0.0/8\" ], \"ipv6 unicast\": [ "
				"\"2001:db8::/32\" ] } } }"), unknown_family, 2, 0, 1);
	CASE(upd("172.16.1.1", "{ \"eor\": { \"afi\" : \"ipv4\", \"safi\" : \"flow\" } }"),
	     unknown_family, 1, 0, 0);
	/* bad_prefix */
	CASE(upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1", "\"300.0.0.0/8\", "
				   "\"10.0.0.0/33\", \"10.0.0.0\", \"2001:db8::/32\", "
				   "\"10.0.0.0/08\", \"/8\", \"\", " GOODNLRI)),
	     bad_prefix, 7, 0, 1);
	CASE(upd("172.16.1.1", "{ \"update\": { \"withdraw\": { \"ipv6 unicast\": [ "
				"\"10.0.0.0/8\", \"2001:db8::/129\", \"2001:db8::/32\" ] } } }"),
	     bad_prefix, 2, 0, 1);
	/* host_bits */
	CASE(upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1", "\"198.51.100.1/24\", "
				   "\"10.0.0.0/8\"")), host_bits, 1, 0, 1);
	CASE(upd("172.16.1.1", "{ \"update\": { \"withdraw\": { \"ipv6 unicast\": [ "
				"\"2001:db8::1/64\" ] } } }"), host_bits, 1, 0, 0);
	/* bad_nexthop: counted per NLRI lost */
	CASE(upd("172.16.1.1", "{ \"update\": { \"announce\": { \"ipv4 unicast\": { \"null\": "
				"[ \"10.0.0.0/8\", \"10.1.0.0/16\" ], \"banana\": [ \"10.2.0.0/16\" "
				"], \"0.0.0.0\": [ \"10.3.0.0/16\" ], \"224.0.0.1\": [ "
				"\"10.4.0.0/16\" ], \"172.16.1.1\": [ \"10.5.0.0/16\" ] } } } }"),
	     bad_nexthop, 5, 0, 1);
	CASE(upd("2001:db8:a1::1", "{ \"update\": { \"announce\": { \"ipv6 unicast\": { \"::\": "
				    "[ \"2001:db8::/32\" ], \"ff02::1\": [ \"2001:db8::/32\" ] } } "
				    "} }"), bad_nexthop, 2, 0, 0);
	/* unknown_neighbor (203.0.113.9 is no peer; 172.16.1.2 is our own side) */
	CASE(upd("203.0.113.9", ANN("ipv4 unicast", "203.0.113.9", GOODNLRI)), unknown_neighbor,
	     1, -EINVAL, 0);
	CASE(upd("172.16.1.2", ANN("ipv4 unicast", "172.16.1.2", GOODNLRI)), unknown_neighbor, 1,
	     -EINVAL, 0);
	CASE(state("2001:db8:ffff::1", "down"), unknown_neighbor, 1, -EINVAL, 0);
	/* unsupported: link-local only */
	CASE(upd("2001:db8:a1::1", ANN("ipv6 unicast", "fe80::1", "\"2001:db8::/32\"")),
	     unsupported, 1, 0, 0);
	/* a long garbage prefix is only quoted partly in the log */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char l[9000];

		snprintf(l, sizeof(l), "{ \"update\": { \"withdraw\": { \"ipv4 unicast\": [ \"%s/8\""
			 " ] } } }", big);
		CASE(upd("172.16.1.1", l), bad_prefix, 1, 0, 0);
	}
#undef CASE
	CU_ASSERT_FATAL(n <= sizeof(cases) / sizeof(cases[0]));
	for (unsigned i = 0; i < n; i++) {
		run_bad(&cases[i], i);
		free((void *)cases[i].line);
	}
	/* every kind that can come from ExaBGP JSON was exercised */
	{
		bool seen[PF_FEED_BAD_MAX] = {0};

		for (unsigned i = 0; i < n; i++)
			if (cases[i].count)
				seen[cases[i].kind] = true;
		for (int k = 0; k < PF_FEED_BAD_MAX; k++) {
			if (k == PF_FEED_BAD_truncated || k == PF_FEED_BAD_bad_length ||
			    k == PF_FEED_BAD_unknown_table || k == PF_FEED_BAD_too_many_nexthops)
				continue; /* socket-level / FPM-only / own test */
			if (!seen[k])
				fprintf(stderr, "\n  no case for %s\n", pf_feed_bad_names[k]);
			CU_ASSERT(seen[k]);
		}
	}
}

static void
test_nospc(void)
{
	struct pf_route_msg out[2];
	unsigned n = 99;
	const char *l = upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1",
					      "\"10.1.0.0/16\", \"10.2.0.0/16\", \"10.3.0.0/16\""));

	CU_ASSERT_EQUAL(pf_exabgp_parse(l, strlen(l), map, &feed, out, 2, &n), -ENOSPC);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(pf_exabgp_parse(l, strlen(l), map, &feed, out, 0, &n), -ENOSPC);
	CU_ASSERT_EQUAL(n, 0);
}

static void
test_len_bound(void)
{
	/* only len bytes are read: a valid line followed by garbage in the buffer */
	const char *l = state("172.16.1.1", "down");
	size_t len = strlen(l);
	char *b = malloc(len + 10);
	unsigned n = 0;

	memcpy(b, l, len);
	memcpy(b + len, "garbage!!!", 10);
	CU_ASSERT_EQUAL(pf_exabgp_parse(b, len, map, &feed, msgs, MAXM, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	/* and a prefix of it is just bad JSON */
	CU_ASSERT_EQUAL(pf_exabgp_parse(b, len - 3, map, &feed, msgs, MAXM, &n), -EINVAL);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_bad_json], 1);
	free(b);
}

/* ------------------------------------------------------------------------------------
 * thread: the Unix socket
 * ------------------------------------------------------------------------------------ */

static struct rte_ring *
ring_new(unsigned count)
{
	ssize_t sz = rte_ring_get_memsize_elem(sizeof(struct pf_route_msg), count);
	struct rte_ring *r;

	if (sz < 0)
		return NULL;
	r = aligned_alloc(RTE_CACHE_LINE_SIZE, ((size_t)sz + RTE_CACHE_LINE_SIZE - 1) &
						~(size_t)(RTE_CACHE_LINE_SIZE - 1));
	if (r == NULL)
		return NULL;
	/* no EAL needed: the ring lives in our memory; the element size is given per call */
	if (rte_ring_init(r, "exa_ut", count, RING_F_SC_DEQ) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

static char tdir[32], sock[100];
static struct pf_feed tf;
static pthread_t th;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
msleep(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Drain the ring until want messages arrived (or timeout ms); formatted into got. */
static unsigned
drain(unsigned want, unsigned timeout)
{
	uint64_t end = now_ms() + timeout;
	unsigned n = 0;

	while (n < want && now_ms() < end) {
		struct pf_route_msg m;

		if (rte_ring_dequeue_elem(tf.ring, &m, sizeof(m)) == 0) {
			msg_fmt(&m, got[n], sizeof(got[n]));
			msgs[n] = m;
			n++;
		} else {
			msleep(2);
		}
	}
	n_msgs = n;
	return n;
}

/* nothing more within ms */
static bool
ring_quiet(unsigned ms)
{
	msleep(ms);
	return rte_ring_count(tf.ring) == 0;
}

static bool
wait_until(bool (*cond)(void), unsigned timeout)
{
	uint64_t end = now_ms() + timeout;

	while (now_ms() < end) {
		if (cond())
			return true;
		msleep(5);
	}
	return cond();
}

static int
conn_open(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
write_all(int fd, const char *d, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, d, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		d += w;
		n -= (size_t)w;
	}
	return true;
}

/* write in small uneven pieces so lines are split across reads */
static bool
write_split(int fd, const char *d, size_t n)
{
	static const unsigned pieces[] = {1, 7, 13, 2, 64, 3, 200, 5};
	unsigned k = 0;

	while (n > 0) {
		size_t c = pieces[k++ % 8];

		if (c > n)
			c = n;
		if (!write_all(fd, d, c))
			return false;
		d += c;
		n -= c;
		if (k % 16 == 0)
			msleep(1);
	}
	return true;
}

static char *
slurp(const char *name, size_t *len)
{
	return pft_read_file(FIXDIR, name, len);
}

static int
tsuite_init(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/pfexa-ut.XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/exabgp.sock", tdir);
	if (map == NULL && suite_init() != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
tsuite_clean(void)
{
	unlink(sock);
	rmdir(tdir);
	return suite_clean();
}

static void
tstart(unsigned ring_count)
{
	quit = false;
	memset(&tf, 0, sizeof(tf));
	snprintf(tf.name, sizeof(tf.name), "exabgp");
	tf.source = PF_SRC_EXABGP;
	tf.ring = ring_new(ring_count);
	tf.quit = &quit;
	tf.logged = ~0u;
	CU_ASSERT_FATAL(tf.ring != NULL);
	CU_ASSERT_EQUAL_FATAL(pf_exabgp_start(&tf, sock, map, &th), 0);
}

static void
tstop(void)
{
	CU_ASSERT_EQUAL(pf_exabgp_stop(&tf, th), 0);
	CU_ASSERT_EQUAL(access(sock, F_OK), -1);
	free(tf.ring);
	tf.ring = NULL;
}

static bool sessions2(void) { return __atomic_load_n(&tf.sessions, __ATOMIC_RELAXED) == 2; }
static bool sessions1(void) { return __atomic_load_n(&tf.sessions, __ATOMIC_RELAXED) == 1; }
static bool sessions0(void) { return __atomic_load_n(&tf.sessions, __ATOMIC_RELAXED) == 0; }

static void
test_thread_fixture_split(void)
{
	size_t len;
	char *d = slurp("01-up.jsonl", &len);
	unsigned n;
	struct stat sb;
	int fd;

	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FATAL(parse_file("01-up.jsonl", fx, &n, MAXM, NULL) == 8);
	tstart(1024);
	CU_ASSERT_EQUAL(stat(sock, &sb), 0);
	CU_ASSERT(S_ISSOCK(sb.st_mode));
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0660);
	fd = conn_open();
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write_split(fd, d, len));
	CU_ASSERT_EQUAL(drain(n, 5000), n);
	for (unsigned i = 0; i < n && i < n_msgs; i++)
		CU_ASSERT_STRING_EQUAL(got[i], fx[i]);
	CU_ASSERT(wait_until(sessions2, 2000));
	CU_ASSERT_EQUAL(tf.msgs_in, 8);
	CU_ASSERT_EQUAL(tf.enqueued, n);
	CU_ASSERT(tf.last_update > 0);
	CU_ASSERT_EQUAL(bad_total(&tf), 0);
	/* ExaBGP goes away: both neighbors' routes are withdrawn */
	close(fd);
	CU_ASSERT_EQUAL(drain(2, 5000), 2);
	CU_ASSERT(has("PEER_DOWN ctx=1 peer=172.16.1.1"));
	CU_ASSERT(has("PEER_DOWN ctx=1 peer=2001:db8:a1::1"));
	CU_ASSERT(wait_until(sessions0, 2000));
	CU_ASSERT(ring_quiet(100));
	tstop();
	free(d);
}

static void
test_thread_two_connections(void)
{
	int a, b;
	char l[9000];

	tstart(1024);
	a = conn_open();
	b = conn_open();
	CU_ASSERT_FATAL(a >= 0 && b >= 0);
	withnl(l, sizeof(l), upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1",
							    "\"10.1.0.0/16\"")));
	CU_ASSERT(write_all(a, l, strlen(l)));
	withnl(l, sizeof(l), upd("172.16.1.5", ANN("ipv4 unicast", "172.16.1.5",
							    "\"203.0.113.0/24\"")));
	CU_ASSERT(write_all(b, l, strlen(l)));
	CU_ASSERT_EQUAL(drain(2, 5000), 2);
	CU_ASSERT(has("ADD ctx=1 10.1.0.0/16 nh=172.16.1.1 peer=172.16.1.1"));
	CU_ASSERT(has("ADD ctx=2 203.0.113.0/24 nh=172.16.1.5 peer=172.16.1.5"));
	CU_ASSERT(wait_until(sessions2, 2000));
	/* "down" for a neighbor this connection never reported: nothing to withdraw here */
	withnl(l, sizeof(l), state("172.16.2.1", "down"));
	CU_ASSERT(write_all(a, l, strlen(l)));
	/* a partial line, then the connection closes: only its own neighbor goes */
	CU_ASSERT(write_all(b, "{ \"type\": ", 10));
	close(b);
	CU_ASSERT_EQUAL(drain(1, 5000), 1);
	CU_ASSERT_STRING_EQUAL(got[0], "PEER_DOWN ctx=2 peer=172.16.1.5");
	CU_ASSERT(wait_until(sessions1, 2000));
	CU_ASSERT(ring_quiet(100));
	CU_ASSERT_EQUAL(tf.bad[PF_FEED_BAD_truncated], 1);
	/* ExaBGP's shutdown notification: its neighbors go down at once */
	snprintf(l, sizeof(l), "{ \"exabgp\": \"4.0.1\", \"time\": 1, \"type\": \"notification\", "
		 "\"notification\": \"shutdown\" }\n");
	CU_ASSERT(write_all(a, l, strlen(l)));
	CU_ASSERT_EQUAL(drain(1, 5000), 1);
	CU_ASSERT_STRING_EQUAL(got[0], "PEER_DOWN ctx=1 peer=172.16.1.1");
	CU_ASSERT(wait_until(sessions0, 2000));
	close(a);
	CU_ASSERT(ring_quiet(200)); /* nobody left to withdraw */
	tstop();
}

static void
test_thread_long_line(void)
{
	size_t big = PF_EXABGP_MAX_LINE + 100;
	char *d = malloc(big + 4096);
	char l[9000];
	int fd;

	tstart(1024);
	fd = conn_open();
	CU_ASSERT_FATAL(fd >= 0 && d != NULL);
	memset(d, ' ', big);
	d[0] = '{';
	d[big] = '\n';
	withnl(l, sizeof(l), upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1",
							    "\"10.9.0.0/16\"")));
	memcpy(d + big + 1, l, strlen(l));
	CU_ASSERT(write_all(fd, d, big + 1 + strlen(l)));
	CU_ASSERT_EQUAL(drain(1, 5000), 1);
	CU_ASSERT_STRING_EQUAL(got[0], "ADD ctx=1 10.9.0.0/16 nh=172.16.1.1 peer=172.16.1.1");
	CU_ASSERT_EQUAL(tf.bad[PF_FEED_BAD_bad_json], 1);
	/* exactly the maximum is fine (a valid line padded with spaces) */
	memset(d, ' ', PF_EXABGP_MAX_LINE);
	memcpy(d, l, strlen(l) - 1);
	d[PF_EXABGP_MAX_LINE] = '\n';
	CU_ASSERT(write_all(fd, d, PF_EXABGP_MAX_LINE + 1));
	CU_ASSERT_EQUAL(drain(1, 5000), 1);
	CU_ASSERT_EQUAL(tf.bad[PF_FEED_BAD_bad_json], 1);
	close(fd);
	CU_ASSERT_EQUAL(drain(1, 5000), 1);
	tstop();
	free(d);
}

static void
test_thread_backpressure(void)
{
	/* 600 routes through a ring of 16: the adapter waits, nothing is lost */
	size_t cap = 64 * 1024, o = 0;
	char *body = malloc(cap);
	char *line;
	int fd;
	unsigned got_n = 0;
	uint64_t end;

	tstart(16);
	o += (size_t)snprintf(body + o, cap - o, "{ \"update\": { \"announce\": { \"ipv4 unicast\":"
			      " { \"172.16.1.1\": [ ");
	for (int i = 0; i < 600; i++)
		o += (size_t)snprintf(body + o, cap - o, "%s\"10.%d.%d.0/24\"", i ? ", " : "",
				      i / 256, i % 256);
	snprintf(body + o, cap - o, " ] } } } }");
	line = malloc(cap + 1024);
	withnl(line, cap + 1024, upd("172.16.1.1", body));
	fd = conn_open();
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write_all(fd, line, strlen(line)));
	msleep(50);
	end = now_ms() + 10000;
	while (got_n < 600 && now_ms() < end) {
		struct pf_route_msg m;

		if (rte_ring_dequeue_elem(tf.ring, &m, sizeof(m)) == 0) {
			char e[32];
			struct pf_prefix p = {.family = 4, .len = 24};

			memcpy(p.addr, m.prefix, 4);
			snprintf(e, sizeof(e), "10.%u.%u.0", got_n / 256, got_n % 256);
			pf_prefix_fmt(&p, got[0], sizeof(got[0]));
			if (strncmp(got[0], e, strlen(e)) != 0)
				CU_FAIL("out of order");
			got_n++;
			if (got_n % 50 == 0)
				msleep(1); /* a slow consumer */
		} else {
			msleep(1);
		}
	}
	CU_ASSERT_EQUAL(got_n, 600);
	CU_ASSERT(tf.ring_full_waits > 0);
	CU_ASSERT_EQUAL(tf.enqueued, 600);
	close(fd);
	CU_ASSERT_EQUAL(drain(1, 5000), 1);
	tstop();
	free(body);
	free(line);
}

static void
test_thread_sockets(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pf_feed f2;
	pthread_t th2;
	int fd;

	/* a regular file is never unlinked */
	fd = open(sock, O_CREAT | O_WRONLY, 0600);
	close(fd);
	tf.ring = ring_new(64);
	memset(&f2, 0, sizeof(f2));
	f2.ring = tf.ring;
	f2.quit = &quit;
	CU_ASSERT_EQUAL(pf_exabgp_start(&f2, sock, map, &th2), -EEXIST);
	unlink(sock);
	/* a stale socket (bound, nobody listening) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	CU_ASSERT_EQUAL(pf_exabgp_start(&f2, sock, map, &th2), 0);
	/* a live one is not */
	{
		struct pf_feed f3 = f2;
		pthread_t th3;

		CU_ASSERT_EQUAL(pf_exabgp_start(&f3, sock, map, &th3), -EADDRINUSE);
	}
	/* stop with a connection open: its neighbor is withdrawn, the socket removed */
	fd = conn_open();
	{
		char l[9000];

		withnl(l, sizeof(l), state("172.16.1.1", "up"));
		CU_ASSERT(write_all(fd, l, strlen(l)));
		msleep(100);
	}
	CU_ASSERT_EQUAL(f2.sessions, 1);
	CU_ASSERT_EQUAL(pf_exabgp_stop(&f2, th2), 0);
	CU_ASSERT_EQUAL(access(sock, F_OK), -1);
	CU_ASSERT_EQUAL(rte_ring_count(tf.ring), 1);
	CU_ASSERT_EQUAL(pf_exabgp_stop(&f2, th2), -ENOENT);
	close(fd);
	/* too long a path */
	{
		char p[200];

		memset(p, 'a', sizeof(p) - 1);
		p[0] = '/';
		p[sizeof(p) - 1] = '\0';
		CU_ASSERT_EQUAL(pf_exabgp_start(&f2, p, map, &th2), -ENAMETOOLONG);
	}
	free(tf.ring);
	tf.ring = NULL;
}

static void
test_thread_quit(void)
{
	/* quit set by the main program: the thread ends by itself, no withdraws */
	int fd;
	char l[9000];

	tstart(64);
	fd = conn_open();
	withnl(l, sizeof(l), state("172.16.1.1", "up"));
	CU_ASSERT(write_all(fd, l, strlen(l)));
	CU_ASSERT(wait_until(sessions1, 2000));
	quit = true;
	msleep(300);
	CU_ASSERT_EQUAL(rte_ring_count(tf.ring), 0);
	close(fd);
	tstop();
	quit = false;
}

/* ------------------------------------------------------------------------------------
 * pipe: peerfwd-exabgp between a fake ExaBGP and the adapter
 * ------------------------------------------------------------------------------------ */

struct child {
	pid_t pid;
	int in;  /* its stdin (we write, as ExaBGP) */
	int out; /* its stdout (commands to ExaBGP) */
};

static int
spawn_pipe(struct child *c, const char *const *args)
{
	int pi[2], po[2];

	if (pipe2(pi, O_CLOEXEC) || pipe2(po, O_CLOEXEC))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		const char *argv[16] = {PF_EXABGP_PIPE};
		int n = 1;

		dup2(pi[0], 0);
		dup2(po[1], 1);
		for (; *args && n < 15; args++)
			argv[n++] = *args;
		argv[n] = NULL;
		execv(PF_EXABGP_PIPE, (char *const *)argv);
		_exit(127);
	}
	close(pi[0]);
	close(po[1]);
	c->in = pi[1];
	c->out = po[0];
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	return 0;
}

/* exit status, or -1 if still running after timeout ms (then killed) */
static int
reap(struct child *c, unsigned timeout)
{
	uint64_t end = now_ms() + timeout;
	int st;

	while (now_ms() < end) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		msleep(10);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	return -1;
}

static size_t
read_out(struct child *c, char *buf, size_t len, const char *want, unsigned timeout)
{
	uint64_t end = now_ms() + timeout;
	size_t n = 0;

	buf[0] = '\0';
	while (now_ms() < end && n + 1 < len) {
		ssize_t r = read(c->out, buf + n, len - 1 - n);

		if (r > 0) {
			n += (size_t)r;
			buf[n] = '\0';
			if (want && strstr(buf, want))
				break;
		} else {
			msleep(10);
		}
	}
	return n;
}

static void
test_pipe_usage(void)
{
	struct child c;
	char out[4096];
	const char *help[] = {"--help", NULL}, *none[] = {NULL}, *bad[] = {"--socket", "/x",
									  "extra", NULL};

	CU_ASSERT_FATAL(spawn_pipe(&c, help) == 0);
	close(c.in);
	read_out(&c, out, sizeof(out), "stdin closes", 3000);
	CU_ASSERT(strstr(out, "--socket PATH") != NULL);
	CU_ASSERT_EQUAL(reap(&c, 3000), 0);
	close(c.out);
	CU_ASSERT_FATAL(spawn_pipe(&c, none) == 0);
	close(c.in);
	CU_ASSERT_EQUAL(reap(&c, 3000), 2);
	close(c.out);
	CU_ASSERT_FATAL(spawn_pipe(&c, bad) == 0);
	close(c.in);
	CU_ASSERT_EQUAL(reap(&c, 3000), 2);
	close(c.out);
}

static void
test_pipe_restart(void)
{
	struct child c;
	char out[4096], l[9000];
	const char *args[] = {"--socket", sock, NULL};
	size_t len;
	char *d = slurp("01-up.jsonl", &len);
	unsigned n;

	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FATAL(parse_file("01-up.jsonl", fx, &n, MAXM, NULL) == 8);
	/* ExaBGP starts its process before peerfwd listens: lines are queued */
	CU_ASSERT_FATAL(spawn_pipe(&c, args) == 0);
	CU_ASSERT(write_split(c.in, d, len));
	CU_ASSERT(write_all(c.in, "done\n", 5)); /* an ExaBGP answer: not forwarded */
	msleep(300);
	tstart(1024);
	CU_ASSERT_EQUAL(drain(n, 8000), n);
	for (unsigned i = 0; i < n && i < n_msgs; i++)
		CU_ASSERT_STRING_EQUAL(got[i], fx[i]);
	CU_ASSERT(wait_until(sessions2, 2000));
	CU_ASSERT_EQUAL(bad_total(&tf), 0);
	CU_ASSERT_EQUAL(tf.msgs_in, 8);
	/* the first connection asks for no refresh: nothing was lost */
	CU_ASSERT_EQUAL(read_out(&c, out, sizeof(out), NULL, 200), 0);

	/* peerfwd restarts: the adapter withdraws the neighbors' routes ... */
	CU_ASSERT_EQUAL(pf_exabgp_stop(&tf, th), 0);
	CU_ASSERT_EQUAL(rte_ring_count(tf.ring), 2);
	free(tf.ring);
	/* ... lines meanwhile are queued by the pipe ... */
	withnl(l, sizeof(l), upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1",
							    "\"10.7.0.0/16\"")));
	CU_ASSERT(write_all(c.in, l, strlen(l)));
	msleep(200);
	tstart(1024);
	/* ... and delivered after it reconnects, which asks ExaBGP for a route refresh */
	CU_ASSERT_EQUAL(drain(1, 8000), 1);
	CU_ASSERT_STRING_EQUAL(got[0], "ADD ctx=1 10.7.0.0/16 nh=172.16.1.1 peer=172.16.1.1");
	read_out(&c, out, sizeof(out), "ipv6 unicast\n", 3000);
	CU_ASSERT_STRING_EQUAL(out, "announce route-refresh ipv4 unicast\n"
				    "announce route-refresh ipv6 unicast\n");
	/* ExaBGP stops its process (stdin closed): the pipe exits, the connection closes,
	 * the neighbor's routes go */
	close(c.in);
	CU_ASSERT_EQUAL(reap(&c, 5000), 0);
	close(c.out);
	CU_ASSERT_EQUAL(drain(1, 5000), 1);
	CU_ASSERT_STRING_EQUAL(got[0], "PEER_DOWN ctx=1 peer=172.16.1.1");
	tstop();
	free(d);
}

static void
test_pipe_overflow(void)
{
	/* peerfwd away and the queue bound reached: lines are dropped, a refresh is asked
	 * for when it comes back; whole lines only */
	struct child c;
	char out[4096], l[9000];
	const char *args[] = {"--socket", sock, "--buffer", "4096", NULL};
	int i;

	CU_ASSERT_FATAL(spawn_pipe(&c, args) == 0);
	for (i = 0; i < 40; i++) {
		withnl(l, sizeof(l),
			 upd("172.16.1.1", ANN("ipv4 unicast", "172.16.1.1", "\"10.1.0.0/16\"")));
		CU_ASSERT(write_all(c.in, l, strlen(l)));
	}
	msleep(300);
	tstart(1024);
	drain(40, 3000);
	CU_ASSERT(n_msgs > 0 && n_msgs < 40); /* 4096 bytes hold a few of these lines */
	CU_ASSERT_EQUAL(bad_total(&tf), 0);   /* no cut line */
	read_out(&c, out, sizeof(out), "ipv6 unicast\n", 3000);
	CU_ASSERT(strstr(out, "announce route-refresh ipv4 unicast\n") != NULL);
	close(c.in);
	CU_ASSERT_EQUAL(reap(&c, 5000), 0);
	close(c.out);
	drain(1, 3000);
	tstop();
}

/* ------------------------------------------------------------------------------------
 * --serve: the adapter alone, for the integration test
 * ------------------------------------------------------------------------------------ */

static volatile sig_atomic_t got_sig;
static void on_sig(int s) { (void)s; got_sig = 1; }

static int
serve(const char *path, const char *conf, unsigned seconds)
{
	char err[1024];
	uint64_t end = now_ms() + (uint64_t)seconds * 1000;
	int r;

	if (pf_config_load(conf, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_exabgp: %s\n", err);
		return 2;
	}
	map = pf_ctxmap_create(cfg);
	memset(&tf, 0, sizeof(tf));
	snprintf(tf.name, sizeof(tf.name), "exabgp");
	tf.source = PF_SRC_EXABGP;
	tf.ring = ring_new(4096);
	tf.quit = &quit;
	r = pf_exabgp_start(&tf, path, map, &th);
	if (r < 0) {
		fprintf(stderr, "test_exabgp: %s: %s\n", path, strerror(-r));
		return 1;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("READY %s\n", path);
	while (!got_sig && now_ms() < end) {
		struct pf_route_msg m;
		char b[256];

		if (rte_ring_dequeue_elem(tf.ring, &m, sizeof(m)) == 0)
			printf("%s\n", msg_fmt(&m, b, sizeof(b)));
		else
			msleep(5);
	}
	pf_exabgp_stop(&tf, th);
	{
		struct pf_route_msg m;
		char b[256];

		while (rte_ring_dequeue_elem(tf.ring, &m, sizeof(m)) == 0)
			printf("%s\n", msg_fmt(&m, b, sizeof(b)));
	}
	printf("COUNTERS msgs_in=%llu enqueued=%llu", (unsigned long long)tf.msgs_in,
	       (unsigned long long)tf.enqueued);
	for (int k = 0; k < PF_FEED_BAD_MAX; k++)
		printf(" %s=%llu", pf_feed_bad_names[k], (unsigned long long)tf.bad[k]);
	printf("\n");
	free(tf.ring);
	pf_ctxmap_free(map);
	pf_config_free(cfg);
	return 0;
}

int
main(int argc, char **argv)
{
	static const CU_TestInfo ptests[] = {
		{"fixture_up", test_fixture_up},
		{"fixture_withdraw", test_fixture_withdraw},
		{"fixture_reannounce", test_fixture_reannounce},
		{"fixture_down", test_fixture_down},
		{"fixture_shutdown", test_fixture_shutdown},
		{"fixture_compact", test_fixture_compact},
		{"ecmp_merge", test_ecmp_merge},
		{"too_many_nexthops", test_too_many_nexthops},
		{"link_local", test_link_local},
		{"withdraw_then_announce", test_withdraw_then_announce},
		{"exabgp34_forms", test_exabgp34_forms},
		{"core_neighbor_and_states", test_core_neighbor_and_states},
		{"ignored", test_ignored},
		{"bad_inputs", test_bad_inputs},
		{"nospc", test_nospc},
		{"len_bound", test_len_bound},
	}, ttests[] = {
		{"fixture_split_reads", test_thread_fixture_split},
		{"two_connections", test_thread_two_connections},
		{"long_line", test_thread_long_line},
		{"backpressure", test_thread_backpressure},
		{"sockets", test_thread_sockets},
		{"quit", test_thread_quit},
		{"pipe_usage", test_pipe_usage},
		{"pipe_restart", test_pipe_restart},
		{"pipe_overflow", test_pipe_overflow},
	};
	if (argc >= 3 && strcmp(argv[1], "--serve") == 0) {
		const char *conf = EXAMPLE;
		unsigned secs = 60;

		for (int i = 3; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--config") == 0)
				conf = argv[i + 1];
			else if (strcmp(argv[i], "--seconds") == 0)
				secs = (unsigned)atoi(argv[i + 1]);
		}
		return serve(argv[2], conf, secs);
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (pft_cunit_suite("exabgp_parser", suite_init, suite_clean, test_setup, NULL, ptests,
			    PFT_DIM(ptests)) < 0 ||
	    pft_cunit_suite("exabgp_socket", tsuite_init, tsuite_clean, NULL, NULL, ttests,
			    PFT_DIM(ttests)) < 0)
		return pft_cunit_fail();
	return pft_cunit_run();
}
