/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FPM adapter (control/feed_fpm.h): the parser on streams recorded from a real FRR 8.4
 * zebra (tests/fixtures/fpm/NAME.bin, tests/integration/fpm/record_fixtures.sh; decoded
 * listings next to them as .txt), on hand-made malformed messages (one per bad kind), and
 * the server thread (sync begin/end, reconnects, stale withdrawal, bad stream) over TCP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_ring.h>

#include "common/config.h"
#include "control/feed.h"
#include "control/feed_fpm.h"
#include "tests/common/pftest.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#define FIXDIR PF_SRCDIR "/tests/fixtures/fpm"
#define CONF FIXDIR "/exchange-provider-fpm.json"

/* contexts in config order: 0 core (table 254), 1 contoso-private (10), 2 contoso-public
 * (11), 3 fabrikam-private (1000), 4 fabrikam-microsoft (1001) */
enum { CORE = 0, C_PRIV = 1, C_PUB = 2, F_PRIV = 3, F_MS = 4 };

static struct pf_config *cfg;
static struct pf_ctxmap *map, *map_core4000;
static struct pf_feed feed;
static struct pf_route_msg out[PF_FPM_OUT_MAX];

/* ------------------------------------------------------------------------------------ */
/* helpers */

static uint8_t *
load(const char *name, size_t *len)
{
	return pft_read_file(FIXDIR, name, len);
}

static void
reset_feed(void)
{
	memset(&feed, 0, sizeof(feed));
	snprintf(feed.name, sizeof(feed.name), "fpm");
	feed.source = PF_SRC_FPM;
}

static uint64_t
bad_total(void)
{
	uint64_t t = 0;

	for (int i = 0; i < PF_FEED_BAD_MAX; i++)
		t += feed.bad[i];
	return t;
}

/* parse everything; the whole buffer must be consumed */
static unsigned
parse_all(const uint8_t *b, size_t len, const struct pf_ctxmap *m)
{
	size_t used = 0;
	unsigned n = 0;
	int r = pf_fpm_parse(b, len, &used, m, &feed, out, PF_FPM_OUT_MAX, &n);

	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(used, len);
	return n;
}

static bool
pfx_is(const struct pf_route_msg *m, const char *s)
{
	struct pf_prefix p;

	if (pf_prefix_parse(s, &p) < 0)
		return false;
	return m->family == p.family && m->len == p.len &&
	       memcmp(m->prefix, p.addr, p.family == 4 ? 4 : 16) == 0 &&
	       (p.family == 6 || memcmp(m->prefix + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0);
}

static bool
nh_is(const struct pf_addr *a, const char *s)
{
	struct pf_addr b;

	return pf_addr_parse(s, &b) == 0 && pf_addr_equal(a, &b);
}

static bool
is_route(const struct pf_route_msg *m, int op, int ctx, const char *pfx, unsigned n_nh,
	 unsigned flags)
{
	bool ok = m->op == op && m->ctx == ctx && pfx_is(m, pfx) && m->n_nh == n_nh &&
		  m->flags == flags && m->source == PF_SRC_FPM && m->peer.family == 0;

	if (!ok)
		fprintf(stderr, "\n  got op %u ctx %u family %u len %u n_nh %u flags %u, want %s\n",
			m->op, m->ctx, m->family, m->len, m->n_nh, m->flags, pfx);
	return ok;
}

/* ---- netlink / FPM builder for hand-made messages ---- */

struct bld {
	uint8_t b[70000];
	size_t n;
	size_t fpm, nl, nest, rtnh;
};

static void
put(struct bld *b, const void *d, size_t len)
{
	memcpy(b->b + b->n, d, len);
	b->n += len;
}

static void
pad(struct bld *b)
{
	while (b->n % 4)
		b->b[b->n++] = 0;
}

static void
wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
fpm_begin(struct bld *b)
{
	b->fpm = b->n;
	put(b, "\x01\x01\x00\x00", 4);
}

static void
fpm_end(struct bld *b)
{
	size_t l = b->n - b->fpm;

	b->b[b->fpm + 2] = (uint8_t)(l >> 8);
	b->b[b->fpm + 3] = (uint8_t)l;
}

static void
nl_begin(struct bld *b, uint16_t type)
{
	uint8_t h[16] = {0};

	b->nl = b->n;
	wr16(h + 4, type);
	put(b, h, 16);
}

static void
nl_end(struct bld *b)
{
	pad(b);
	wr32(b->b + b->nl, (uint32_t)(b->n - b->nl));
}

static void
rtm(struct bld *b, uint8_t fam, uint8_t dst_len, uint8_t table, uint8_t type)
{
	uint8_t r[12] = {fam, dst_len, 0, 0, table, 196 /* static */, 0, type};

	put(b, r, 12);
}

static void
attr(struct bld *b, uint16_t type, const void *d, size_t len)
{
	uint8_t h[4];

	wr16(h, (uint16_t)(4 + len));
	wr16(h + 2, type);
	put(b, h, 4);
	if (len)
		put(b, d, len);
	pad(b);
}

static void
attr32(struct bld *b, uint16_t type, uint32_t v)
{
	attr(b, type, &v, 4);
}

static void
attr_addr(struct bld *b, uint16_t type, const char *s)
{
	uint8_t a[16];

	if (strchr(s, ':')) {
		inet_pton(AF_INET6, s, a);
		attr(b, type, a, 16);
	} else {
		inet_pton(AF_INET, s, a);
		attr(b, type, a, 4);
	}
}

static void
nest_begin(struct bld *b, uint16_t type)
{
	b->nest = b->n;
	attr(b, type, NULL, 0);
}

static void
nest_end(struct bld *b)
{
	wr16(b->b + b->nest, (uint16_t)(b->n - b->nest));
}

static void
rtnh_begin(struct bld *b, int ifindex)
{
	uint8_t h[8] = {0};

	b->rtnh = b->n;
	memcpy(h + 4, &ifindex, 4);
	put(b, h, 8);
}

static void
rtnh_end(struct bld *b)
{
	wr16(b->b + b->rtnh, (uint16_t)(b->n - b->rtnh));
}

/* a whole FPM message with one IPv4/IPv6 route; gw may be NULL */
/* The start of a route message: nl_begin(nltype), the rtmsg (family and length of the
 * prefix pfx, table, type) and RTA_DST; nl_end() closes it. */
static void
nl_route_begin(struct bld *b, uint16_t nltype, const char *pfx, uint8_t table, uint8_t type)
{
	struct pf_prefix p;

	if (pf_prefix_parse(pfx, &p) != 0) {
		fprintf(stderr, "test_fpm: bad test prefix %s\n", pfx);
		abort();
	}
	nl_begin(b, nltype);
	rtm(b, p.family == 4 ? AF_INET : AF_INET6, p.len, table, type);
	attr(b, RTA_DST, p.addr, p.family == 4 ? 4 : 16);
}

static void
route_msg(struct bld *b, uint16_t nltype, const char *pfx, unsigned table, uint8_t type,
	  const char *gw)
{
	struct pf_prefix p;

	CU_ASSERT_FATAL(pf_prefix_parse(pfx, &p) == 0);
	fpm_begin(b);
	nl_route_begin(b, nltype, pfx, table < 256 ? table : 0, type);
	if (table >= 256)
		attr32(b, RTA_TABLE, table);
	attr32(b, RTA_PRIORITY, 20);
	if (gw) {
		attr_addr(b, RTA_GATEWAY, gw);
		attr32(b, RTA_OIF, 3);
	}
	nl_end(b);
	fpm_end(b);
}

static int
suite_init(void)
{
	char err[512];

	if (pf_config_load(CONF, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	map = pf_ctxmap_create(cfg);
	cfg->core_table_id = 4000;   /* a map where the main table feeds nothing */
	map_core4000 = pf_ctxmap_create(cfg);
	cfg->core_table_id = 254;
	if (map == NULL || map_core4000 == NULL)
		return -1;
	/* the mapping these tests rely on */
	if (pf_ctxmap_by_table(map, 254) != CORE || pf_ctxmap_by_table(map, 10) != C_PRIV ||
	    pf_ctxmap_by_table(map, 11) != C_PUB || pf_ctxmap_by_table(map, 1000) != F_PRIV ||
	    pf_ctxmap_by_table(map, 1001) != F_MS || pf_ctxmap_by_table(map_core4000, 254) != -1)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	pf_ctxmap_free(map);
	pf_ctxmap_free(map_core4000);
	if (cfg)
		pf_config_free(cfg);
	map = map_core4000 = NULL;
	cfg = NULL;
	return 0;
}

static void
test_setup(void)
{
	reset_feed();
}

/* ------------------------------------------------------------------------------------ */
/* recorded streams */

/* zebra's reconnect dump with `no fpm use-next-hop-groups` (dump.txt) */
static void
test_fixture_dump(void)
{
	size_t len;
	uint8_t *b = load("dump.bin", &len);
	unsigned n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	n = parse_all(b, len, map);
	CU_ASSERT_EQUAL(feed.msgs_in, 13);
	CU_ASSERT_EQUAL_FATAL(n, 7);
	/* 9-way ECMP: the first 8 kept */
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, CORE, "100.64.9.0/24", 8, 0));
	CU_ASSERT_TRUE(nh_is(&out[0].nh[0], "10.9.0.1"));
	CU_ASSERT_TRUE(nh_is(&out[0].nh[7], "10.9.0.8"));
	/* reject -> unreachable, blackhole */
	CU_ASSERT_TRUE(is_route(&out[1], PF_RT_ADD, CORE, "192.0.2.64/26", 0, PF_RT_F_BLACKHOLE));
	CU_ASSERT_TRUE(is_route(&out[2], PF_RT_ADD, CORE, "192.0.2.128/25", 0, PF_RT_F_BLACKHOLE));
	/* IPv4 ECMP (RTA_MULTIPATH) */
	CU_ASSERT_TRUE(is_route(&out[3], PF_RT_ADD, CORE, "198.51.100.0/24", 2, 0));
	CU_ASSERT_TRUE(nh_is(&out[3].nh[0], "172.16.1.1"));
	CU_ASSERT_TRUE(nh_is(&out[3].nh[1], "172.16.2.1"));
	/* single path (RTA_GATEWAY + RTA_OIF) */
	CU_ASSERT_TRUE(is_route(&out[4], PF_RT_ADD, CORE, "203.0.113.0/24", 1, 0));
	CU_ASSERT_TRUE(nh_is(&out[4].nh[0], "172.16.1.1"));
	CU_ASSERT_TRUE(is_route(&out[5], PF_RT_ADD, CORE, "2001:db8:1000::/48", 1, 0));
	CU_ASSERT_TRUE(nh_is(&out[5].nh[0], "2001:db8:a1::1"));
	CU_ASSERT_TRUE(is_route(&out[6], PF_RT_ADD, CORE, "2001:db8:2000::/48", 2, 0));
	CU_ASSERT_TRUE(nh_is(&out[6].nh[0], "2001:db8:a1::1"));
	CU_ASSERT_TRUE(nh_is(&out[6].nh[1], "2001:db8:a2::1"));
	/* connected routes (interface only): 10.9.0.0/24, two /30, two /126, fe80::/64 */
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_unsupported], 6);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_too_many_nexthops], 1);
	CU_ASSERT_EQUAL(bad_total(), 7);
	free(b);
}

/* incremental updates (changes.txt): deletes, DEL+NEW updates collapsed, tables 10/1000 */
static void
test_fixture_changes(void)
{
	size_t len;
	uint8_t *b = load("changes.bin", &len);
	unsigned n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	n = parse_all(b, len, map);
	CU_ASSERT_EQUAL(feed.msgs_in, 12);
	CU_ASSERT_EQUAL(bad_total(), 0);
	CU_ASSERT_EQUAL_FATAL(n, 12);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_DEL, CORE, "203.0.113.0/24", 0, 0));
	/* ECMP member removed: DELROUTE+NEWROUTE in one FPM message -> one replace */
	CU_ASSERT_TRUE(is_route(&out[1], PF_RT_ADD, CORE, "198.51.100.0/24", 1, 0));
	CU_ASSERT_TRUE(nh_is(&out[1].nh[0], "172.16.1.1"));
	CU_ASSERT_TRUE(is_route(&out[2], PF_RT_DEL, CORE, "2001:db8:1000::/48", 0, 0));
	CU_ASSERT_TRUE(is_route(&out[3], PF_RT_ADD, CORE, "203.0.113.0/25", 1, 0));
	CU_ASSERT_TRUE(nh_is(&out[3].nh[0], "172.16.2.1"));
	/* table 10 (rtm_table) */
	CU_ASSERT_TRUE(is_route(&out[4], PF_RT_ADD, C_PRIV, "10.1.0.0/16", 1, 0));
	CU_ASSERT_TRUE(nh_is(&out[4].nh[0], "172.16.2.1"));
	/* table 1000 (RTA_TABLE, rtm_table = RT_TABLE_UNSPEC) */
	CU_ASSERT_TRUE(is_route(&out[5], PF_RT_DEL, F_PRIV, "10.2.0.0/16", 0, 0));
	CU_ASSERT_TRUE(is_route(&out[6], PF_RT_ADD, C_PRIV, "10.3.0.0/16", 1, 0));
	CU_ASSERT_TRUE(is_route(&out[7], PF_RT_ADD, C_PRIV, "10.3.0.0/16", 2, 0));
	CU_ASSERT_TRUE(nh_is(&out[7].nh[0], "172.16.1.1"));
	CU_ASSERT_TRUE(nh_is(&out[7].nh[1], "172.16.2.1"));
	/* the default route (zebra sends RTA_DST 0.0.0.0), ECMP */
	CU_ASSERT_TRUE(is_route(&out[8], PF_RT_ADD, C_PRIV, "0.0.0.0/0", 2, 0));
	CU_ASSERT_TRUE(is_route(&out[9], PF_RT_ADD, F_PRIV, "fd00:3::/48", 1, 0));
	CU_ASSERT_TRUE(is_route(&out[10], PF_RT_ADD, F_PRIV, "fd00:3::/48", 2, 0));
	CU_ASSERT_TRUE(nh_is(&out[10].nh[1], "2001:db8:a2::1"));
	CU_ASSERT_TRUE(is_route(&out[11], PF_RT_ADD, C_PRIV, "10.4.0.0/16", 0, PF_RT_F_BLACKHOLE));
	free(b);
}

/* FRR 8.4's default, `fpm use-next-hop-groups`: nothing but blackholes can be used */
static void
test_fixture_nhg(void)
{
	size_t len;
	uint8_t *b = load("dump_nhg.bin", &len);
	unsigned n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	n = parse_all(b, len, map);
	CU_ASSERT_EQUAL(feed.msgs_in, 40);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, CORE, "192.0.2.64/26", 0, PF_RT_F_BLACKHOLE));
	CU_ASSERT_TRUE(is_route(&out[1], PF_RT_ADD, CORE, "192.0.2.128/25", 0, PF_RT_F_BLACKHOLE));
	/* 27 RTM_NEWNEXTHOP + 11 routes with only RTA_NH_ID */
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_unsupported], 38);
	CU_ASSERT_EQUAL(bad_total(), 38);
	free(b);
}

/* main table mapped to no context */
static void
test_fixture_unknown_table(void)
{
	size_t len;
	uint8_t *b = load("dump.bin", &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(parse_all(b, len, map_core4000), 0);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_unknown_table], 13);
	free(b);
	reset_feed();
	b = load("changes.bin", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* only the table 10 / 1000 ones remain */
	CU_ASSERT_EQUAL(parse_all(b, len, map_core4000), 8);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_unknown_table], 5); /* DEL+NEW count twice */
	free(b);
}

/* TCP delivers arbitrary pieces: feeding the stream in small chunks gives the same result */
static void
test_fixture_split(void)
{
	static const char *const files[] = {"dump.bin", "changes.bin", "dump_nhg.bin"};

	for (unsigned fi = 0; fi < 3; fi++) {
		size_t len, step;
		uint8_t *b = load(files[fi], &len);
		unsigned whole;
		struct pf_route_msg *ref;

		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		reset_feed();
		whole = parse_all(b, len, map);
		ref = malloc(sizeof(*ref) * (whole + 1));
		memcpy(ref, out, sizeof(*ref) * whole);
		for (step = 1; step <= 67; step += 11) {
			uint8_t acc[8192];
			size_t have = 0, fed = 0;
			unsigned got = 0;
			bool same = true;

			reset_feed();
			while (fed < len || have > 0) {
				size_t k = len - fed < step ? len - fed : step, used = 0;
				unsigned n = 0;

				memcpy(acc + have, b + fed, k);
				have += k;
				fed += k;
				CU_ASSERT_EQUAL(pf_fpm_parse(acc, have, &used, map, &feed, out,
							     PF_FPM_OUT_MAX, &n), 0);
				for (unsigned i = 0; i < n; i++, got++)
					if (got >= whole || memcmp(&out[i], &ref[got], sizeof(*out)))
						same = false;
				memmove(acc, acc + used, have - used);
				have -= used;
				if (k == 0)
					break;
			}
			CU_ASSERT_EQUAL(have, 0);
			CU_ASSERT_EQUAL(got, whole);
			CU_ASSERT_TRUE(same);
		}
		free(ref);
		free(b);
	}
}

/* ------------------------------------------------------------------------------------ */
/* hand-made messages */

static struct bld B;

#define RESET_B() (memset(&B, 0, sizeof(B)))

static void
test_incomplete(void)
{
	size_t used = 99;
	unsigned n = 99;

	RESET_B();
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	for (size_t l = 0; l < B.n; l++) {
		CU_ASSERT_EQUAL(pf_fpm_parse(B.b, l, &used, map, &feed, out, 4, &n), 0);
		CU_ASSERT_EQUAL(used, 0);
		CU_ASSERT_EQUAL(n, 0);
	}
	CU_ASSERT_EQUAL(feed.msgs_in, 0);
	CU_ASSERT_EQUAL(bad_total(), 0);
	CU_ASSERT_EQUAL(pf_fpm_parse(B.b, B.n, &used, map, &feed, out, 4, &n), 0);
	CU_ASSERT_EQUAL(used, B.n);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(feed.msgs_in, 1);
}

/* bad FPM version or length: nothing after it can be trusted */
static void
test_unrecoverable(void)
{
	size_t used, first;
	unsigned n;

	RESET_B();
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	first = B.n;
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/25", 254, RTN_UNICAST, "172.16.1.1");
	B.b[first] = 2; /* version */
	CU_ASSERT_EQUAL(pf_fpm_parse(B.b, B.n, &used, map, &feed, out, 8, &n), -EPROTO);
	CU_ASSERT_EQUAL(used, first);
	CU_ASSERT_EQUAL(n, 1); /* what came before is still delivered */
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_bad_version], 1);
	/* a bad header is reported as soon as its 4 bytes are there */
	CU_ASSERT_EQUAL(pf_fpm_parse(B.b + first, 4, &used, map, &feed, out, 8, &n), -EPROTO);
	CU_ASSERT_EQUAL(used, 0);

	B.b[first] = 1;
	B.b[first + 2] = 0;
	B.b[first + 3] = 3; /* length < header */
	CU_ASSERT_EQUAL(pf_fpm_parse(B.b, B.n, &used, map, &feed, out, 8, &n), -EPROTO);
	CU_ASSERT_EQUAL(used, first);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_bad_length], 1);
}

/* other FPM message types are skipped by their length; an empty FPM message is fine */
static void
test_fpm_type(void)
{
	RESET_B();
	fpm_begin(&B);
	put(&B, "protobuf", 8);
	fpm_end(&B);
	B.b[1] = 2;
	fpm_begin(&B);
	fpm_end(&B);
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	CU_ASSERT_EQUAL(parse_all(B.b, B.n, map), 1);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_bad_version], 1);
	CU_ASSERT_EQUAL(bad_total(), 1);
	CU_ASSERT_EQUAL(feed.msgs_in, 3);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, CORE, "203.0.113.0/24", 1, 0));
}

/* Build: [bad FPM message] [good FPM message]; the bad one is counted as `kind`, the good
 * one still parsed (resynchronisation by the FPM length). */
static void
expect_bad_then_good(int kind, const char *what)
{
	unsigned n;

	route_msg(&B, RTM_NEWROUTE, "198.51.100.0/24", 254, RTN_UNICAST, "172.16.1.1");
	n = parse_all(B.b, B.n, map);
	if (feed.bad[kind] != 1 || bad_total() != 1 || n != 1)
		fprintf(stderr, "\n  case %s: bad[%s]=%llu total %llu n %u\n", what,
			pf_feed_bad_names[kind], (unsigned long long)feed.bad[kind],
			(unsigned long long)bad_total(), n);
	CU_ASSERT_EQUAL(feed.bad[kind], 1);
	CU_ASSERT_EQUAL(bad_total(), 1);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, CORE, "198.51.100.0/24", 1, 0));
	reset_feed();
	RESET_B();
}

static void
test_bad_netlink_lengths(void)
{
	size_t s;

	/* netlink length beyond the FPM message */
	RESET_B();
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	wr32(B.b + 4, 200);
	expect_bad_then_good(PF_FEED_BAD_truncated, "nlmsg_len > FPM");

	/* FPM message shorter than a netlink header */
	fpm_begin(&B);
	put(&B, "\x20\0\0\0\x18\0\0\0", 8);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_truncated, "8 bytes of nlmsghdr");

	/* netlink length below its own header */
	RESET_B();
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	wr32(B.b + 4, 8);
	expect_bad_then_good(PF_FEED_BAD_bad_length, "nlmsg_len < 16");

	/* route message shorter than struct rtmsg */
	fpm_begin(&B);
	nl_begin(&B, RTM_NEWROUTE);
	put(&B, "\x02\x18\0\0\xfe\0\0\x01", 8);
	nl_end(&B);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_truncated, "short rtmsg");

	/* attribute length below its header */
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	wr16(B.b + 4 + 16 + 12, 2);
	expect_bad_then_good(PF_FEED_BAD_bad_length, "rta_len < 4");

	/* attribute longer than the message */
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	wr16(B.b + 4 + 16 + 12, 400);
	expect_bad_then_good(PF_FEED_BAD_truncated, "rta_len > message");

	/* RTA_TABLE of the wrong size */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 0, RTN_UNICAST);
	attr(&B, RTA_TABLE, "\x0a\x00", 2);
	attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
	nl_end(&B);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_bad_length, "RTA_TABLE 2 bytes");

	/* multipath: rtnexthop length below its header, then beyond the attribute */
	for (int k = 0; k < 2; k++) {
		fpm_begin(&B);
		nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST);
		nest_begin(&B, RTA_MULTIPATH);
		rtnh_begin(&B, 3);
		attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
		rtnh_end(&B);
		s = B.rtnh;
		rtnh_begin(&B, 5);
		attr_addr(&B, RTA_GATEWAY, "172.16.2.1");
		rtnh_end(&B);
		nest_end(&B);
		nl_end(&B);
		fpm_end(&B);
		wr16(B.b + s, k == 0 ? 4 : 40);
		expect_bad_then_good(k == 0 ? PF_FEED_BAD_bad_length : PF_FEED_BAD_truncated,
				     k == 0 ? "rtnh_len < 8" : "rtnh_len > attribute");
	}

	/* next-hop attribute inside an rtnexthop longer than the rtnexthop */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST);
	nest_begin(&B, RTA_MULTIPATH);
	rtnh_begin(&B, 3);
	s = B.n;
	attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
	rtnh_end(&B);
	nest_end(&B);
	nl_end(&B);
	fpm_end(&B);
	wr16(B.b + s, 12);
	expect_bad_then_good(PF_FEED_BAD_truncated, "gateway > rtnexthop");

	/* stray bytes after the last netlink message (4..15: a cut header) */
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	put(&B, "\x10\0\0\0\x18\0\0\0", 8);
	fpm_end(&B);
	{
		unsigned n = parse_all(B.b, B.n, map);

		CU_ASSERT_EQUAL(n, 1); /* the complete route before it is kept */
		CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_truncated], 1);
	}
	reset_feed();
	RESET_B();
}

static void
test_bad_prefix_and_family(void)
{
	/* prefix length beyond the family */
	RESET_B();
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	B.b[4 + 16 + 1] = 33;
	expect_bad_then_good(PF_FEED_BAD_bad_prefix, "/33");

	/* RTA_DST of the wrong size */
	fpm_begin(&B);
	nl_begin(&B, RTM_NEWROUTE);
	rtm(&B, AF_INET, 24, 254, RTN_UNICAST);
	attr_addr(&B, RTA_DST, "2001:db8::");
	attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
	nl_end(&B);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_bad_prefix, "RTA_DST 16 bytes for IPv4");

	/* a length without RTA_DST */
	fpm_begin(&B);
	nl_begin(&B, RTM_NEWROUTE);
	rtm(&B, AF_INET, 24, 254, RTN_UNICAST);
	attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
	nl_end(&B);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_bad_prefix, "no RTA_DST");

	/* host bits */
	route_msg(&B, RTM_NEWROUTE, "203.0.113.1/24", 254, RTN_UNICAST, "172.16.1.1");
	expect_bad_then_good(PF_FEED_BAD_host_bits, "203.0.113.1/24");
	route_msg(&B, RTM_DELROUTE, "2001:db8:1::1/127", 254, RTN_UNSPEC, NULL);
	expect_bad_then_good(PF_FEED_BAD_host_bits, "IPv6 host bits");

	/* MPLS (zebra's LSPs travel as AF_MPLS routes) */
	fpm_begin(&B);
	nl_begin(&B, RTM_NEWROUTE);
	rtm(&B, 28 /* AF_MPLS */, 20, 254, RTN_UNICAST);
	attr(&B, RTA_DST, "\x00\x01\x01\x00", 4);
	nl_end(&B);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_unknown_family, "AF_MPLS");

	/* table mapped to no context */
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 77, RTN_UNICAST, "172.16.1.1");
	expect_bad_then_good(PF_FEED_BAD_unknown_table, "table 77");
	route_msg(&B, RTM_DELROUTE, "203.0.113.0/24", 70000, RTN_UNSPEC, NULL);
	expect_bad_then_good(PF_FEED_BAD_unknown_table, "table 70000 (RTA_TABLE)");
}

static void
test_bad_nexthops(void)
{
	/* gateway of the wrong size */
	RESET_B();
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST);
	attr(&B, RTA_GATEWAY, "\xac\x10\x01\x01\x00", 5);
	nl_end(&B);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_bad_nexthop, "5-byte gateway");

	/* unicast without any next hop */
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, NULL);
	expect_bad_then_good(PF_FEED_BAD_bad_nexthop, "no next hop");

	/* RTA_VIA with an unknown family */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST);
	attr(&B, RTA_VIA, "\x1c\x00\x01\x02\x03\x04", 6);
	nl_end(&B);
	fpm_end(&B);
	expect_bad_then_good(PF_FEED_BAD_bad_nexthop, "RTA_VIA AF_MPLS");

	/* the same gateway over two interfaces counts once */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 10, RTN_UNICAST);
	nest_begin(&B, RTA_MULTIPATH);
	for (int i = 0; i < 3; i++) {
		rtnh_begin(&B, 3 + i);
		attr_addr(&B, RTA_GATEWAY, i == 2 ? "172.16.2.1" : "172.16.1.1");
		rtnh_end(&B);
	}
	nest_end(&B);
	nl_end(&B);
	fpm_end(&B);
	CU_ASSERT_EQUAL_FATAL(parse_all(B.b, B.n, map), 1);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, C_PRIV, "203.0.113.0/24", 2, 0));
	CU_ASSERT_TRUE(nh_is(&out[0].nh[0], "172.16.1.1"));
	CU_ASSERT_TRUE(nh_is(&out[0].nh[1], "172.16.2.1"));
	CU_ASSERT_EQUAL(bad_total(), 0);
	RESET_B();

	/* more than PF_RT_MAX_NH next hops: kept, counted */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "2001:db8:5::/48", 10, RTN_UNICAST);
	nest_begin(&B, RTA_MULTIPATH);
	for (int i = 1; i <= 12; i++) {
		char a[64];

		snprintf(a, sizeof(a), "2001:db8:a1::%x", i);
		rtnh_begin(&B, 3);
		attr_addr(&B, RTA_GATEWAY, a);
		rtnh_end(&B);
	}
	nest_end(&B);
	nl_end(&B);
	fpm_end(&B);
	CU_ASSERT_EQUAL_FATAL(parse_all(B.b, B.n, map), 1);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, C_PRIV, "2001:db8:5::/48", PF_RT_MAX_NH, 0));
	CU_ASSERT_TRUE(nh_is(&out[0].nh[PF_RT_MAX_NH - 1], "2001:db8:a1::8"));
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_too_many_nexthops], 1);
	CU_ASSERT_EQUAL(bad_total(), 1);
}

static void
test_unsupported(void)
{
	static const uint8_t types[] = {RTN_LOCAL, RTN_BROADCAST, RTN_ANYCAST, RTN_MULTICAST,
					RTN_THROW, RTN_NAT, RTN_UNSPEC};
	unsigned n;

	RESET_B();
	for (unsigned i = 0; i < sizeof(types); i++)
		route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, types[i], "172.16.1.1");
	/* next-hop group id only; a next-hop object */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST);
	attr32(&B, RTA_NH_ID, 39);
	nl_end(&B);
	nl_begin(&B, RTM_NEWNEXTHOP);
	put(&B, "\x02\0\0\0\0\0\0\0", 8);
	nl_end(&B);
	fpm_end(&B);
	/* interface route (connected) */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST);
	attr32(&B, RTA_OIF, 3);
	nl_end(&B);
	fpm_end(&B);
	/* MPLS-labelled next hop */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST);
	attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
	attr(&B, RTA_ENCAP_TYPE, "\x01\x00", 2);
	attr(&B, RTA_ENCAP, "\x08\x00\x01\x00\x00\x06\x41\x00", 8);
	nl_end(&B);
	fpm_end(&B);
	/* source-specific */
	route_msg(&B, RTM_NEWROUTE, "2001:db8:9::/48", 254, RTN_UNICAST, "2001:db8:a1::1");
	B.b[B.fpm + 4 + 16 + 2] = 56;
	/* neighbour (EVPN RMAC) */
	fpm_begin(&B);
	nl_begin(&B, RTM_NEWNEIGH);
	put(&B, "\x07\0\0\0\0\0\0\0\0\0\0\0", 12);
	nl_end(&B);
	/* NLMSG_DONE: silently ignored */
	nl_begin(&B, NLMSG_DONE);
	put(&B, "\0\0\0\0", 4);
	nl_end(&B);
	fpm_end(&B);
	/* ECMP with one interface-only member: the member is left out, the route kept */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "198.51.100.0/24", 11, RTN_UNICAST);
	nest_begin(&B, RTA_MULTIPATH);
	rtnh_begin(&B, 3);
	attr_addr(&B, RTA_GATEWAY, "172.16.1.5");
	rtnh_end(&B);
	rtnh_begin(&B, 9);
	rtnh_end(&B);
	nest_end(&B);
	nl_end(&B);
	fpm_end(&B);

	n = parse_all(B.b, B.n, map);
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_unsupported], sizeof(types) + 2 + 1 + 1 + 1 + 1 + 1);
	CU_ASSERT_EQUAL(bad_total(), feed.bad[PF_FEED_BAD_unsupported]);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, C_PUB, "198.51.100.0/24", 1, 0));
	CU_ASSERT_TRUE(nh_is(&out[0].nh[0], "172.16.1.5"));
	/* deletes do not look at the route type */
	reset_feed();
	RESET_B();
	route_msg(&B, RTM_DELROUTE, "203.0.113.0/24", 254, RTN_LOCAL, NULL);
	CU_ASSERT_EQUAL(parse_all(B.b, B.n, map), 1);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_DEL, CORE, "203.0.113.0/24", 0, 0));
}

static void
test_forms(void)
{
	unsigned n;

	RESET_B();
	/* default route without RTA_DST (kernel style) */
	fpm_begin(&B);
	nl_begin(&B, RTM_NEWROUTE);
	rtm(&B, AF_INET6, 0, 10, RTN_UNICAST);
	attr_addr(&B, RTA_GATEWAY, "2001:db8:a1::1");
	nl_end(&B);
	fpm_end(&B);
	/* IPv4 route over an IPv6 next hop (RFC 5549, RTA_VIA) */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "10.7.0.0/16", 10, RTN_UNICAST);
	{
		uint8_t via[18] = {AF_INET6, 0};

		inet_pton(AF_INET6, "2001:db8:a1::1", via + 2);
		attr(&B, RTA_VIA, via, sizeof(via));
	}
	nl_end(&B);
	fpm_end(&B);
	/* unreachable / prohibit */
	route_msg(&B, RTM_NEWROUTE, "10.8.0.0/16", 10, RTN_UNREACHABLE, NULL);
	route_msg(&B, RTM_NEWROUTE, "10.9.0.0/16", 10, RTN_PROHIBIT, NULL);
	/* one FPM message, several netlink messages: DEL P + NEW Q stay two; DEL P + NEW P in
	 * another table stay two; DEL R + NEW R become one replace */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_DELROUTE, "10.1.0.0/16", 10, 0);
	nl_end(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "10.2.0.0/16", 10, RTN_UNICAST);
	attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
	nl_end(&B);
	nl_route_begin(&B, RTM_DELROUTE, "10.3.0.0/16", 10, 0);
	nl_end(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "10.3.0.0/16", 11, RTN_UNICAST);
	attr_addr(&B, RTA_GATEWAY, "172.16.1.5");
	nl_end(&B);
	nl_route_begin(&B, RTM_DELROUTE, "10.4.0.0/16", 10, 0);
	nl_end(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "10.4.0.0/16", 10, RTN_UNICAST);
	attr_addr(&B, RTA_GATEWAY, "172.16.2.1");
	nl_end(&B);
	fpm_end(&B);
	/* the same DEL + NEW in two FPM messages: not merged (zebra's own order is kept) */
	route_msg(&B, RTM_DELROUTE, "10.5.0.0/16", 10, 0, NULL);
	route_msg(&B, RTM_NEWROUTE, "10.5.0.0/16", 10, RTN_UNICAST, "172.16.1.1");
	/* a DEL whose NEW is unusable stays a DEL */
	fpm_begin(&B);
	nl_route_begin(&B, RTM_DELROUTE, "10.6.0.0/16", 10, 0);
	nl_end(&B);
	nl_route_begin(&B, RTM_NEWROUTE, "10.6.0.0/16", 10, RTN_UNICAST);
	attr32(&B, RTA_NH_ID, 12);
	nl_end(&B);
	fpm_end(&B);

	n = parse_all(B.b, B.n, map);
	CU_ASSERT_EQUAL_FATAL(n, 12);
	CU_ASSERT_TRUE(is_route(&out[0], PF_RT_ADD, C_PRIV, "::/0", 1, 0));
	CU_ASSERT_TRUE(is_route(&out[1], PF_RT_ADD, C_PRIV, "10.7.0.0/16", 1, 0));
	CU_ASSERT_EQUAL(out[1].nh[0].family, 6);
	CU_ASSERT_TRUE(nh_is(&out[1].nh[0], "2001:db8:a1::1"));
	CU_ASSERT_TRUE(is_route(&out[2], PF_RT_ADD, C_PRIV, "10.8.0.0/16", 0, PF_RT_F_BLACKHOLE));
	CU_ASSERT_TRUE(is_route(&out[3], PF_RT_ADD, C_PRIV, "10.9.0.0/16", 0, PF_RT_F_BLACKHOLE));
	CU_ASSERT_TRUE(is_route(&out[4], PF_RT_DEL, C_PRIV, "10.1.0.0/16", 0, 0));
	CU_ASSERT_TRUE(is_route(&out[5], PF_RT_ADD, C_PRIV, "10.2.0.0/16", 1, 0));
	CU_ASSERT_TRUE(is_route(&out[6], PF_RT_DEL, C_PRIV, "10.3.0.0/16", 0, 0));
	CU_ASSERT_TRUE(is_route(&out[7], PF_RT_ADD, C_PUB, "10.3.0.0/16", 1, 0));
	CU_ASSERT_TRUE(is_route(&out[8], PF_RT_ADD, C_PRIV, "10.4.0.0/16", 1, 0));
	CU_ASSERT_TRUE(nh_is(&out[8].nh[0], "172.16.2.1"));
	CU_ASSERT_TRUE(is_route(&out[9], PF_RT_DEL, C_PRIV, "10.5.0.0/16", 0, 0));
	CU_ASSERT_TRUE(is_route(&out[10], PF_RT_ADD, C_PRIV, "10.5.0.0/16", 1, 0));
	CU_ASSERT_TRUE(is_route(&out[11], PF_RT_DEL, C_PRIV, "10.6.0.0/16", 0, 0));
	CU_ASSERT_EQUAL(feed.bad[PF_FEED_BAD_unsupported], 1);
	CU_ASSERT_EQUAL(bad_total(), 1);
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(out[i].source, PF_SRC_FPM);
		CU_ASSERT_EQUAL(out[i].peer.family, 0);
	}
}

/* out is never left holding part of an FPM message */
static void
test_out_space(void)
{
	size_t used, first;
	unsigned n;

	RESET_B();
	route_msg(&B, RTM_NEWROUTE, "10.1.0.0/16", 10, RTN_UNICAST, "172.16.1.1");
	first = B.n;
	fpm_begin(&B);
	for (int i = 0; i < 3; i++) {
		nl_begin(&B, RTM_NEWROUTE);
		rtm(&B, AF_INET, 24, 10, RTN_UNICAST);
		attr(&B, RTA_DST, (uint8_t[]){10, 2, (uint8_t)i, 0}, 4);
		attr_addr(&B, RTA_GATEWAY, "172.16.1.1");
		nl_end(&B);
	}
	fpm_end(&B);
	/* room for 2: the first FPM message only */
	CU_ASSERT_EQUAL(pf_fpm_parse(B.b, B.n, &used, map, &feed, out, 2, &n), 0);
	CU_ASSERT_EQUAL(used, first);
	CU_ASSERT_EQUAL(n, 1);
	/* room for 2, the 3-route message first: cannot make progress */
	CU_ASSERT_EQUAL(pf_fpm_parse(B.b + first, B.n - first, &used, map, &feed, out, 2, &n),
			-ENOBUFS);
	CU_ASSERT_EQUAL(used, 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(pf_fpm_parse(B.b + first, B.n - first, &used, map, &feed, out, 3, &n), 0);
	CU_ASSERT_EQUAL(used, B.n - first);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(feed.msgs_in, 2);
	CU_ASSERT_EQUAL(bad_total(), 0);
}

/* the largest FPM message full of the smallest route messages fits PF_FPM_OUT_MAX */
static void
test_max_message(void)
{
	unsigned n;

	RESET_B();
	fpm_begin(&B);
	while (B.n + 28 <= PF_FPM_MAX_MSG) {
		nl_begin(&B, RTM_DELROUTE);
		rtm(&B, AF_INET, 0, 10, 0);
		nl_end(&B);
	}
	fpm_end(&B);
	CU_ASSERT(B.n <= PF_FPM_MAX_MSG && B.n + 28 > PF_FPM_MAX_MSG);
	n = parse_all(B.b, B.n, map);
	CU_ASSERT_EQUAL(n, (B.n - 4) / 28);
	CU_ASSERT(n <= PF_FPM_OUT_MAX);
	CU_ASSERT_EQUAL(bad_total(), 0);
	CU_ASSERT_TRUE(is_route(&out[n - 1], PF_RT_DEL, C_PRIV, "0.0.0.0/0", 0, 0));
}

/* ------------------------------------------------------------------------------------ */
/* server thread */

static volatile bool tquit;
static struct pf_feed tf;
static void *ring_mem;

static int
tsuite_init(void)
{
	unsigned count = 8192;
	ssize_t sz = rte_ring_get_memsize_elem(sizeof(struct pf_route_msg), count);

	if (sz < 0 || map == NULL)
		return -1;
	ring_mem = aligned_alloc(128, (size_t)(sz + 127) & ~(size_t)127);
	if (ring_mem == NULL)
		return -1;
	if (rte_ring_init(ring_mem, "fpm_ut", count, RING_F_SC_DEQ) != 0)
		return -1;
	return 0;
}

static int
tsuite_clean(void)
{
	free(ring_mem);
	return 0;
}

static void
tf_reset(void)
{
	struct pf_route_msg m;

	memset(&tf, 0, sizeof(tf));
	snprintf(tf.name, sizeof(tf.name), "fpm");
	tf.source = PF_SRC_FPM;
	tf.ring = ring_mem;
	tf.quit = &tquit;
	tquit = false;
	while (rte_ring_dequeue_elem(tf.ring, &m, sizeof(m)) == 0)
		;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* collect ring messages until one with op `until` arrives (or timeout); returns how many
 * were collected into got[] (the `until` one included) */
static unsigned
collect(struct pf_route_msg *got, unsigned max, int until, unsigned timeout_ms)
{
	uint64_t end = mono_ms() + timeout_ms;
	unsigned n = 0;

	while (mono_ms() < end && n < max) {
		struct pf_route_msg m;

		if (rte_ring_dequeue_elem(tf.ring, &m, sizeof(m)) == 0) {
			got[n++] = m;
			if (m.op == until)
				break;
			continue;
		}
		usleep(2000);
	}
	return n;
}

static int
connect_to(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
wait_sessions(uint32_t want, unsigned timeout_ms)
{
	uint64_t end = mono_ms() + timeout_ms;

	while (mono_ms() < end) {
		if (__atomic_load_n(&tf.sessions, __ATOMIC_RELAXED) == want)
			return true;
		usleep(2000);
	}
	return false;
}

/* the recorded dump over TCP in small writes: SYNC_BEGIN, the routes, SYNC_END after the
 * quiet time; a second connection replaces the first and resyncs; closing starts the stale
 * timer, which withdraws everything */
static void
test_thread_sync(void)
{
	struct pf_fpm_timing tm = {.quiet_ms = 300, .min_sync_ms = 0, .max_sync_ms = 20000,
				   .stale_ms = 400};
	static struct pf_route_msg got[64];
	pthread_t th;
	size_t len;
	uint8_t *b = load("dump.bin", &len);
	int port, fd, fd2;
	unsigned n;
	uint64_t t0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	tf_reset();
	CU_ASSERT_EQUAL_FATAL(pf_fpm_start_timing(&tf, "127.0.0.1:0", map, &tm, &th), 0);
	port = pf_fpm_port(&tf);
	CU_ASSERT_FATAL(port > 0);
	fd = connect_to(port);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_TRUE(wait_sessions(1, 2000));
	for (size_t off = 0; off < len; off += 37) {
		size_t k = len - off < 37 ? len - off : 37;

		CU_ASSERT_EQUAL(write(fd, b + off, k), (ssize_t)k);
		usleep(1000);
	}
	t0 = mono_ms();
	n = collect(got, 64, PF_RT_SYNC_END, 5000);
	CU_ASSERT(mono_ms() - t0 >= 250); /* not before the quiet time */
	CU_ASSERT_EQUAL_FATAL(n, 9);
	CU_ASSERT_EQUAL(got[0].op, PF_RT_SYNC_BEGIN);
	CU_ASSERT_EQUAL(got[0].source, PF_SRC_FPM);
	CU_ASSERT_TRUE(is_route(&got[1], PF_RT_ADD, CORE, "100.64.9.0/24", 8, 0));
	CU_ASSERT_TRUE(is_route(&got[7], PF_RT_ADD, CORE, "2001:db8:2000::/48", 2, 0));
	CU_ASSERT_EQUAL(got[8].op, PF_RT_SYNC_END);
	CU_ASSERT_EQUAL(got[8].source, PF_SRC_FPM);
	CU_ASSERT_EQUAL(tf.msgs_in, 13);
	CU_ASSERT_EQUAL(tf.enqueued, 9);
	CU_ASSERT_EQUAL(tf.bad[PF_FEED_BAD_unsupported], 6);

	/* updates after the sync are plain messages */
	{
		size_t cl;
		uint8_t *c = load("changes.bin", &cl);

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_EQUAL(write(fd, c, cl), (ssize_t)cl);
		n = collect(got, 64, -1, 600);
		CU_ASSERT_EQUAL(n, 12);
		CU_ASSERT_TRUE(is_route(&got[0], PF_RT_DEL, CORE, "203.0.113.0/24", 0, 0));
		free(c);
	}

	/* a new zebra replaces the old connection: new sync */
	fd2 = connect_to(port);
	CU_ASSERT_FATAL(fd2 >= 0);
	n = collect(got, 64, PF_RT_SYNC_BEGIN, 2000);
	CU_ASSERT_EQUAL(n, 1);
	{
		char x;
		struct pollfd p = {.fd = fd, .events = POLLIN};

		/* the old one was closed by the server */
		CU_ASSERT_EQUAL(poll(&p, 1, 2000), 1);
		CU_ASSERT_EQUAL(read(fd, &x, 1), 0);
	}
	close(fd);
	CU_ASSERT_EQUAL(write(fd2, b, len), (ssize_t)len);
	n = collect(got, 64, PF_RT_SYNC_END, 5000);
	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT_EQUAL(got[n - 1].op, PF_RT_SYNC_END);
	CU_ASSERT_EQUAL(tf.sessions, 1);

	/* zebra goes away: routes stay for stale_ms, then SYNC_BEGIN + SYNC_END */
	close(fd2);
	CU_ASSERT_TRUE(wait_sessions(0, 2000));
	t0 = mono_ms();
	n = collect(got, 64, PF_RT_SYNC_BEGIN, 5000);
	CU_ASSERT(mono_ms() - t0 >= 300);
	CU_ASSERT_EQUAL(n, 1);
	n = collect(got, 64, PF_RT_SYNC_END, 1000);
	CU_ASSERT_EQUAL(n, 1);

	CU_ASSERT_EQUAL(pf_fpm_stop(&tf, th), 0);
	n = collect(got, 64, PF_RT_SYNC_END, 500); /* stop withdraws too */
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(pf_fpm_stop(&tf, th), -ENOENT);
	free(b);
}

/* min_sync_ms holds SYNC_END even when zebra is quiet (zebra restart: bgpd comes later);
 * a reconnect within stale_ms cancels the withdrawal */
static void
test_thread_min_sync(void)
{
	struct pf_fpm_timing tm = {.quiet_ms = 100, .min_sync_ms = 1500, .max_sync_ms = 20000,
				   .stale_ms = 600};
	static struct pf_route_msg got[64];
	pthread_t th;
	uint64_t t0;
	int port, fd;
	unsigned n;

	tf_reset();
	CU_ASSERT_EQUAL_FATAL(pf_fpm_start_timing(&tf, "[::1]:0", map, &tm, &th), 0);
	port = pf_fpm_port(&tf);
	CU_ASSERT_FATAL(port > 0);
	{
		struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

		inet_pton(AF_INET6, "::1", &s6.sin6_addr);
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0);
	}
	t0 = mono_ms();
	n = collect(got, 64, PF_RT_SYNC_END, 5000);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(mono_ms() - t0 >= 1400);
	/* disconnect, reconnect before stale_ms: no withdrawal, a new sync instead */
	close(fd);
	CU_ASSERT_TRUE(wait_sessions(0, 2000));
	usleep(200 * 1000);
	{
		struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

		inet_pton(AF_INET6, "::1", &s6.sin6_addr);
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0);
	}
	n = collect(got, 64, PF_RT_SYNC_BEGIN, 2000);
	CU_ASSERT_EQUAL(n, 1);
	usleep(700 * 1000); /* past the old stale deadline: nothing happened */
	CU_ASSERT_EQUAL(rte_ring_count(tf.ring), 0);
	close(fd);
	tquit = true; /* quitting: the thread ends, stop withdraws nothing */
	usleep(300 * 1000);
	CU_ASSERT_EQUAL(pf_fpm_stop(&tf, th), 0);
	CU_ASSERT_EQUAL(rte_ring_count(tf.ring), 0);
}

/* an unrecoverable stream drops the connection; zebra reconnects and resyncs */
static void
test_thread_bad_stream(void)
{
	struct pf_fpm_timing tm = {.quiet_ms = 100, .min_sync_ms = 0, .max_sync_ms = 20000,
				   .stale_ms = 0};
	static struct pf_route_msg got[64];
	pthread_t th;
	int port, fd;
	unsigned n;
	char x;
	struct pollfd p;

	tf_reset();
	CU_ASSERT_EQUAL_FATAL(pf_fpm_start_timing(&tf, "127.0.0.1:0", map, &tm, &th), 0);
	port = pf_fpm_port(&tf);
	fd = connect_to(port);
	CU_ASSERT_FATAL(fd >= 0);
	RESET_B();
	route_msg(&B, RTM_NEWROUTE, "203.0.113.0/24", 254, RTN_UNICAST, "172.16.1.1");
	put(&B, "\x07\x01\x00\x10garbagegarbage", 16);
	CU_ASSERT_EQUAL(write(fd, B.b, B.n), (ssize_t)B.n);
	n = collect(got, 64, PF_RT_ADD, 2000);
	CU_ASSERT_EQUAL(n, 2); /* SYNC_BEGIN, the route before the garbage */
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&p, 1, 2000), 1);
	CU_ASSERT_EQUAL(read(fd, &x, 1), 0);
	close(fd);
	CU_ASSERT_TRUE(wait_sessions(0, 2000));
	CU_ASSERT_EQUAL(tf.bad[PF_FEED_BAD_bad_version], 1);
	/* stale_ms 0: nothing withdrawn while away; no SYNC_END for the dropped sync */
	usleep(300 * 1000);
	CU_ASSERT_EQUAL(rte_ring_count(tf.ring), 0);
	fd = connect_to(port);
	n = collect(got, 64, PF_RT_SYNC_END, 3000);
	CU_ASSERT_EQUAL(n, 2);
	/* connection closed in the middle of a message: counted as truncated */
	CU_ASSERT_EQUAL(write(fd, B.b, 10), 10);
	usleep(100 * 1000);
	close(fd);
	CU_ASSERT_TRUE(wait_sessions(0, 2000));
	CU_ASSERT_EQUAL(tf.bad[PF_FEED_BAD_truncated], 1);
	CU_ASSERT_EQUAL(pf_fpm_stop(&tf, th), 0);
	n = collect(got, 64, PF_RT_SYNC_END, 500);
	CU_ASSERT_EQUAL(n, 2);
}

static void
test_thread_addresses(void)
{
	struct pf_fpm_timing tm;
	pthread_t th, th2;
	struct pf_feed f2;
	int port;

	pf_fpm_timing_default(&tm);
	CU_ASSERT_EQUAL(tm.quiet_ms, 3000);
	CU_ASSERT_EQUAL(tm.min_sync_ms, 30000);
	CU_ASSERT_EQUAL(tm.max_sync_ms, 300000);
	CU_ASSERT_EQUAL(tm.stale_ms, 120000);
	setenv("PEERFWD_FPM_QUIET_MS", "1234", 1);
	setenv("PEERFWD_FPM_STALE_MS", "bogus", 1);
	pf_fpm_timing_default(&tm);
	CU_ASSERT_EQUAL(tm.quiet_ms, 1234);
	CU_ASSERT_EQUAL(tm.stale_ms, 120000);
	unsetenv("PEERFWD_FPM_QUIET_MS");
	unsetenv("PEERFWD_FPM_STALE_MS");

	tf_reset();
	CU_ASSERT_EQUAL(pf_fpm_start(&tf, "not-an-address:2620", map, &th), -EINVAL);
	CU_ASSERT_EQUAL(pf_fpm_start(&tf, "127.0.0.1:70000", map, &th), -EINVAL);
	CU_ASSERT_EQUAL(pf_fpm_start(&tf, "[::1", map, &th), -EINVAL);
	CU_ASSERT_EQUAL(pf_fpm_start(&tf, "127.0.0.1:", map, &th), -EINVAL);
	CU_ASSERT_EQUAL(pf_fpm_start(&tf, NULL, map, &th), -EINVAL);
	CU_ASSERT_EQUAL(pf_fpm_port(&tf), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(pf_fpm_start(&tf, "127.0.0.1:0", map, &th), 0);
	port = pf_fpm_port(&tf);
	CU_ASSERT(port > 0);
	/* the same port twice: refused */
	{
		char a[64];

		memset(&f2, 0, sizeof(f2));
		f2.ring = ring_mem;
		f2.quit = &tquit;
		snprintf(a, sizeof(a), "127.0.0.1:%d", port);
		CU_ASSERT_EQUAL(pf_fpm_start(&f2, a, map, &th2), -EADDRINUSE);
	}
	tquit = true; /* no withdrawal on stop */
	CU_ASSERT_EQUAL(pf_fpm_stop(&tf, th), 0);
	CU_ASSERT_EQUAL(rte_ring_count(tf.ring), 0);
	tquit = false;
}

/* ------------------------------------------------------------------------------------ */
/* --serve: the adapter on its own, for tests/integration/fpm/run.sh while peerfwd does not
 * start the FPM feed (and to compare with it once it does). Applies the messages to a model
 * RIB with the applier's mark-and-sweep semantics and writes it to STATE after every change:
 *   counters:  "<name> <value>" (sessions, msgs_in, enqueued, sync_begin, sync_end, swept,
 *              adds, dels, bad.<kind>)
 *   routes:    "route <ctx> <prefix> <nh,nh...|blackhole> <id>"
 * id changes only when the route is installed anew or its content changes: an unchanged
 * route resent during a resync keeps its id. Every message is also printed on stdout. */

struct mroute {
	struct pf_route_msg m; /* op/source ignored */
	bool stale;
	unsigned long id;
};

static struct mroute *rib;
static size_t n_rib, cap_rib;
static unsigned long next_id = 1, n_syncb, n_synce, n_swept, n_adds, n_dels;
static volatile sig_atomic_t got_sig;

static void
on_sig(int sig)
{
	(void)sig;
	got_sig = 1;
}

static bool
same_key(const struct pf_route_msg *a, const struct pf_route_msg *b)
{
	return a->ctx == b->ctx && a->family == b->family && a->len == b->len &&
	       memcmp(a->prefix, b->prefix, 16) == 0;
}

static bool
same_content(const struct pf_route_msg *a, const struct pf_route_msg *b)
{
	if (a->flags != b->flags || a->n_nh != b->n_nh)
		return false;
	for (unsigned i = 0; i < a->n_nh; i++)
		if (!pf_addr_equal(&a->nh[i], &b->nh[i]))
			return false;
	return true;
}

static const char *
msg_str(const struct pf_route_msg *m, char *b, size_t bl)
{
	struct pf_prefix p = {.family = m->family, .len = m->len};
	char ps[64], a[64];
	size_t o;

	memcpy(p.addr, m->prefix, 16);
	pf_prefix_fmt(&p, ps, sizeof(ps));
	o = (size_t)snprintf(b, bl, "%u %s ", m->ctx, ps);
	if (m->flags & PF_RT_F_BLACKHOLE)
		o += (size_t)snprintf(b + o, bl - o, "blackhole");
	for (unsigned i = 0; i < m->n_nh && o < bl; i++)
		o += (size_t)snprintf(b + o, bl - o, "%s%s", i ? "," : "",
				      pf_addr_fmt(&m->nh[i], a, sizeof(a)));
	if (m->n_nh == 0 && !(m->flags & PF_RT_F_BLACKHOLE) && o < bl)
		snprintf(b + o, bl - o, "-");
	return b;
}

static void
model_apply(const struct pf_route_msg *m)
{
	char b[512];
	size_t i;

	switch (m->op) {
	case PF_RT_SYNC_BEGIN:
		n_syncb++;
		for (i = 0; i < n_rib; i++)
			rib[i].stale = true;
		printf("SYNC_BEGIN\n");
		return;
	case PF_RT_SYNC_END: {
		unsigned long sw = 0;

		n_synce++;
		for (i = 0; i < n_rib;) {
			if (rib[i].stale) {
				printf("SWEEP %s\n", msg_str(&rib[i].m, b, sizeof(b)));
				rib[i] = rib[--n_rib];
				sw++;
			} else {
				i++;
			}
		}
		n_swept += sw;
		printf("SYNC_END swept=%lu\n", sw);
		return;
	}
	default:
		break;
	}
	for (i = 0; i < n_rib; i++)
		if (same_key(&rib[i].m, m))
			break;
	if (m->op == PF_RT_DEL) {
		n_dels++;
		printf("DEL %s%s\n", msg_str(m, b, sizeof(b)), i < n_rib ? "" : " (not found)");
		if (i < n_rib)
			rib[i] = rib[--n_rib];
		return;
	}
	n_adds++;
	printf("ADD %s\n", msg_str(m, b, sizeof(b)));
	if (i == n_rib) {
		if (n_rib == cap_rib) {
			cap_rib = cap_rib ? 2 * cap_rib : 64;
			rib = realloc(rib, cap_rib * sizeof(*rib));
			if (rib == NULL)
				abort();
		}
		n_rib++;
		rib[i].m = *m;
		rib[i].id = next_id++;
	} else if (!same_content(&rib[i].m, m)) {
		rib[i].m = *m;
		rib[i].id = next_id++;
	}
	rib[i].stale = false;
}

static void
model_write(const char *path, const struct pf_feed *f)
{
	char tmp[4200], b[512];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	if (fp == NULL)
		return;
	fprintf(fp, "sessions %u\nmsgs_in %llu\nenqueued %llu\nsync_begin %lu\nsync_end %lu\n"
		"swept %lu\nadds %lu\ndels %lu\n", __atomic_load_n(&f->sessions, __ATOMIC_RELAXED),
		(unsigned long long)f->msgs_in, (unsigned long long)f->enqueued, n_syncb, n_synce,
		n_swept, n_adds, n_dels);
	for (int k = 0; k < PF_FEED_BAD_MAX; k++)
		fprintf(fp, "bad.%s %llu\n", pf_feed_bad_names[k], (unsigned long long)f->bad[k]);
	for (size_t i = 0; i < n_rib; i++)
		fprintf(fp, "route %s %lu\n", msg_str(&rib[i].m, b, sizeof(b)), rib[i].id);
	fclose(fp);
	rename(tmp, path);
}

static int
serve(const char *laddr, const char *conf, unsigned seconds, const char *state)
{
	char err[1024];
	uint64_t end = mono_ms() + (uint64_t)seconds * 1000, next_write = 0;
	uint32_t last_sessions = ~0u;
	pthread_t th;
	int r;

	if (pf_config_load(conf, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_fpm: %s\n", err);
		return 2;
	}
	map = pf_ctxmap_create(cfg);
	if (map == NULL || tsuite_init() != 0)
		return 1;
	tf_reset();
	tf.quit = NULL;
	r = pf_fpm_start(&tf, laddr, map, &th);
	if (r < 0) {
		fprintf(stderr, "test_fpm: %s: %s\n", laddr, strerror(-r));
		return 1;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("READY %d\n", pf_fpm_port(&tf));
	if (state)
		model_write(state, &tf);
	while (!got_sig && mono_ms() < end) {
		struct pf_route_msg m;
		bool changed = false;

		while (rte_ring_dequeue_elem(tf.ring, &m, sizeof(m)) == 0) {
			model_apply(&m);
			changed = true;
		}
		if (tf.sessions != last_sessions) {
			last_sessions = tf.sessions;
			printf("SESSIONS %u\n", last_sessions);
			changed = true;
		}
		if (state && (changed || mono_ms() >= next_write)) {
			model_write(state, &tf);
			next_write = mono_ms() + 500;
		}
		usleep(5000);
	}
	tquit = true;
	tf.quit = &tquit; /* no withdrawal on the way out */
	pf_fpm_stop(&tf, th);
	if (state)
		model_write(state, &tf);
	printf("COUNTERS msgs_in=%llu enqueued=%llu", (unsigned long long)tf.msgs_in,
	       (unsigned long long)tf.enqueued);
	for (int k = 0; k < PF_FEED_BAD_MAX; k++)
		printf(" %s=%llu", pf_feed_bad_names[k], (unsigned long long)tf.bad[k]);
	printf("\n");
	free(rib);
	tsuite_clean();
	suite_clean();
	return 0;
}

int
main(int argc, char **argv)
{
	static const CU_TestInfo ptests[] = {
		{"fixture_dump", test_fixture_dump},
		{"fixture_changes", test_fixture_changes},
		{"fixture_nhg", test_fixture_nhg},
		{"fixture_unknown_table", test_fixture_unknown_table},
		{"fixture_split", test_fixture_split},
		{"incomplete", test_incomplete},
		{"unrecoverable", test_unrecoverable},
		{"fpm_type", test_fpm_type},
		{"bad_netlink_lengths", test_bad_netlink_lengths},
		{"bad_prefix_and_family", test_bad_prefix_and_family},
		{"bad_nexthops", test_bad_nexthops},
		{"unsupported", test_unsupported},
		{"forms", test_forms},
		{"out_space", test_out_space},
		{"max_message", test_max_message},
	}, ttests[] = {
		{"sync", test_thread_sync},
		{"min_sync_and_reconnect", test_thread_min_sync},
		{"bad_stream", test_thread_bad_stream},
		{"addresses", test_thread_addresses},
	};
	int rc;

	if (argc >= 3 && strcmp(argv[1], "--serve") == 0) {
		/* test_fpm --serve ADDR:PORT [--config FILE] [--seconds N] [--state FILE] */
		const char *conf = CONF, *state = NULL;
		unsigned secs = 600;

		for (int i = 3; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--config") == 0)
				conf = argv[i + 1];
			else if (strcmp(argv[i], "--seconds") == 0)
				secs = (unsigned)atoi(argv[i + 1]);
			else if (strcmp(argv[i], "--state") == 0)
				state = argv[i + 1];
		}
		return serve(argv[2], conf, secs, state);
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (pft_cunit_suite("fpm_parser", suite_init, NULL, test_setup, NULL, ptests,
			    PFT_DIM(ptests)) < 0 ||
	    pft_cunit_suite("fpm_server", tsuite_init, tsuite_clean, NULL, NULL, ttests,
			    PFT_DIM(ttests)) < 0)
		rc = pft_cunit_fail();
	else
		rc = pft_cunit_run();
	suite_clean(); /* the maps serve both suites */
	return rc;
}
