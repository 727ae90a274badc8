/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the configuration loader (common/config.c): the canonical example's model,
 * the address/MAC helpers, error reporting (FILE:LINE:COL: PATH: message, errno, *out
 * untouched). The per-rule rejections are covered by tests/config/bad + the functional
 * runner tests/functional/test_bad_config.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/config.h"
#include "tests/common/pftest.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif

#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"

static struct pf_config *ex;

static int suite_example_init(void)
{
	char err[1024];

	if (pf_config_load(EXAMPLE, &ex, err, sizeof(err)) != 0) {
		fprintf(stderr, "cannot load the example: %s\n", err);
		return -1;
	}
	return 0;
}

static int suite_example_clean(void)
{
	pf_config_free(ex);
	ex = NULL;
	return 0;
}

static struct pf_prefix P(const char *s)
{
	struct pf_prefix p;

	memset(&p, 0xee, sizeof(p));
	if (pf_prefix_parse(s, &p) != 0) {
		fprintf(stderr, "bad test prefix %s\n", s);
		abort();
	}
	return p;
}

static struct pf_addr A(const char *s)
{
	struct pf_addr a;

	if (pf_addr_parse(s, &a) != 0) {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
	return a;
}

static bool prefix_is(const struct pf_prefix *p, const char *s)
{
	struct pf_prefix q = P(s);

	return p->family == q.family && p->len == q.len &&
	       memcmp(p->addr, q.addr, p->family == 6 ? 16 : 4) == 0;
}

static bool addr_is(const struct pf_addr *a, const char *s)
{
	struct pf_addr b = A(s);

	return pf_addr_equal(a, &b);
}

static bool mac_is(const uint8_t m[6], const char *s)
{
	uint8_t x[6];

	return pf_mac_parse(s, x) == 0 && memcmp(m, x, 6) == 0;
}

/* ---- the canonical example ---- */

static void test_example_top(void)
{
	CU_ASSERT_EQUAL(ex->icmp_rate_pps, 100);
	CU_ASSERT_EQUAL(ex->burst, 32); /* default */
	CU_ASSERT_EQUAL(ex->mbufs, 0);     /* computed at start */
	CU_ASSERT_EQUAL(ex->rx_desc, 1024);
	CU_ASSERT_EQUAL(ex->tx_desc, 1024);
	CU_ASSERT_EQUAL(ex->fib_ipv4_ply_bits, 8); /* default */
	CU_ASSERT_STRING_EQUAL(ex->path, EXAMPLE);
	CU_ASSERT_EQUAL(ex->n_ports, 2);
	CU_ASSERT_EQUAL(ex->n_customers, 2);
	CU_ASSERT_EQUAL(ex->n_neighbors, 7);
}

static void test_example_ports(void)
{
	const struct pf_port_conf *e = &ex->ports[0], *c = &ex->ports[1];

	CU_ASSERT_STRING_EQUAL(e->name, "net_pcap_edge");
	CU_ASSERT_EQUAL(e->role, PF_ROLE_EDGE);
	CU_ASSERT_TRUE(e->has_mac);
	CU_ASSERT_TRUE(mac_is(e->mac, "02:00:00:00:0e:01"));
	CU_ASSERT_EQUAL(e->mtu, 1500);
	CU_ASSERT_EQUAL(e->addr4.family, 0);
	CU_ASSERT_EQUAL(e->gw4.family, 0);
	CU_ASSERT_EQUAL(e->line, 3);
	CU_ASSERT_EQUAL(e->col, 5);

	CU_ASSERT_STRING_EQUAL(c->name, "net_pcap_core");
	CU_ASSERT_EQUAL(c->role, PF_ROLE_CORE);
	CU_ASSERT_TRUE(mac_is(c->mac, "02:00:00:00:0c:01"));
	CU_ASSERT_TRUE(prefix_is(&c->addr4, "192.0.2.1/24")); /* host part kept: our address */
	CU_ASSERT_TRUE(addr_is(&c->gw4, "192.0.2.254"));
	CU_ASSERT_TRUE(prefix_is(&c->addr6, "2001:db8:c0::1/64"));
	CU_ASSERT_TRUE(addr_is(&c->gw6, "2001:db8:c0::fe"));
	CU_ASSERT_EQUAL(c->line, 4);
	CU_ASSERT_EQUAL(c->col, 5);

	CU_ASSERT_PTR_EQUAL(pf_config_port(ex, "net_pcap_core"), c);
	CU_ASSERT_PTR_NULL(pf_config_port(ex, "nope"));
}

static void test_example_neighbors(void)
{
	const struct pf_neighbor_conf *n = ex->neighbors;

	CU_ASSERT_STRING_EQUAL(n[0].port, "net_pcap_core");
	CU_ASSERT_TRUE(addr_is(&n[0].ip, "192.0.2.254"));
	CU_ASSERT_TRUE(mac_is(n[0].mac, "02:00:00:00:0c:fe"));
	CU_ASSERT_TRUE(addr_is(&n[1].ip, "2001:db8:c0::fe"));
	CU_ASSERT_STRING_EQUAL(n[4].port, "net_pcap_edge");
	CU_ASSERT_TRUE(addr_is(&n[4].ip, "2001:db8:a1::1"));
	CU_ASSERT_TRUE(mac_is(n[4].mac, "02:00:00:00:a1:01"));
	CU_ASSERT_TRUE(addr_is(&n[6].ip, "172.16.3.5"));
}

static void test_example_contoso(void)
{
	const struct pf_customer_conf *c = &ex->customers[0];

	CU_ASSERT_EQUAL(c->id, 1);
	CU_ASSERT_STRING_EQUAL(c->name, "contoso");
	CU_ASSERT_EQUAL(c->asn, 65520);
	CU_ASSERT_EQUAL(c->bandwidth_mbps, 1000);
	CU_ASSERT_TRUE(c->has_gre);
	CU_ASSERT_EQUAL(c->gre_key, 1001);
	CU_ASSERT_TRUE(addr_is(&c->gre_src, "192.0.2.1"));
	CU_ASSERT_TRUE(addr_is(&c->gre_dst, "198.51.100.1"));
	CU_ASSERT_EQUAL_FATAL(c->n_vnets, 3);
	CU_ASSERT_TRUE(prefix_is(&c->vnets[0], "10.0.0.0/16"));
	CU_ASSERT_TRUE(prefix_is(&c->vnets[1], "192.168.1.0/24"));
	CU_ASSERT_TRUE(prefix_is(&c->vnets[2], "fd00:1::/48"));
	CU_ASSERT_EQUAL_FATAL(c->n_on_prem, 2);
	/* the seed's 216.221.239.232/28 is normalized to its network */
	CU_ASSERT_TRUE(prefix_is(&c->on_prem[0], "216.221.239.224/28"));
	CU_ASSERT_TRUE(prefix_is(&c->on_prem[1], "2001:db8:1000::/48"));
	CU_ASSERT_EQUAL(c->line, 19);
	CU_ASSERT_EQUAL(c->col, 5);
	CU_ASSERT_EQUAL_FATAL(c->n_contexts, 2);

	const struct pf_context_conf *pv = &c->contexts[0], *pb = &c->contexts[1];

	CU_ASSERT_STRING_EQUAL(pv->name, "contoso-private");
	CU_ASSERT_EQUAL(pv->kind, PF_CTX_PRIVATE);
	CU_ASSERT_FALSE(pv->qinq);
	CU_ASSERT_EQUAL(pv->vlan, 555);
	CU_ASSERT_EQUAL(pv->s_tag, 0);
	CU_ASSERT_EQUAL(pv->c_tag, 0);
	CU_ASSERT_EQUAL(pv->s_tpid, 0x8100);
	CU_ASSERT_FALSE(pv->allow_default_route);
	CU_ASSERT_TRUE(pv->primary.present);
	CU_ASSERT_STRING_EQUAL(pv->primary.port, "net_pcap_edge");
	CU_ASSERT_TRUE(prefix_is(&pv->primary.subnet4, "172.16.1.0/30"));
	CU_ASSERT_TRUE(prefix_is(&pv->primary.subnet6, "2001:db8:a1::/126"));
	CU_ASSERT_TRUE(pv->secondary.present);
	CU_ASSERT_STRING_EQUAL(pv->secondary.port, "net_pcap_edge");
	CU_ASSERT_TRUE(prefix_is(&pv->secondary.subnet4, "172.16.2.0/30"));
	CU_ASSERT_EQUAL(pv->secondary.subnet6.family, 0);
	CU_ASSERT_EQUAL(pv->n_routes, 0);
	CU_ASSERT_PTR_NULL(pv->routes);
	CU_ASSERT_EQUAL(pv->line, 25);
	CU_ASSERT_EQUAL(pv->col, 9);

	CU_ASSERT_STRING_EQUAL(pb->name, "contoso-public");
	CU_ASSERT_EQUAL(pb->kind, PF_CTX_PUBLIC);
	CU_ASSERT_EQUAL(pb->vlan, 556);
	CU_ASSERT_TRUE(prefix_is(&pb->primary.subnet4, "172.16.1.4/30"));
	CU_ASSERT_TRUE(prefix_is(&pb->secondary.subnet4, "172.16.2.4/30"));
	CU_ASSERT_EQUAL_FATAL(pb->n_routes, 2);
	CU_ASSERT_TRUE(prefix_is(&pb->routes[0].prefix, "13.64.0.0/11"));
	CU_ASSERT_EQUAL(pb->routes[0].via, PF_VIA_CORE);
	CU_ASSERT_TRUE(prefix_is(&pb->routes[1].prefix, "203.0.113.0/24"));
	CU_ASSERT_EQUAL(pb->routes[1].via, PF_VIA_PEER);
	CU_ASSERT_EQUAL(pb->routes[0].line, 32);
	CU_ASSERT_EQUAL(pb->routes[0].col, 13);
	CU_ASSERT_EQUAL(pb->routes[1].line, 33);
}

static void test_example_fabrikam(void)
{
	const struct pf_customer_conf *c = &ex->customers[1];

	CU_ASSERT_EQUAL(c->id, 2);
	CU_ASSERT_STRING_EQUAL(c->name, "fabrikam");
	CU_ASSERT_EQUAL(c->asn, 4200000001u);
	CU_ASSERT_EQUAL(c->bandwidth_mbps, 10000);
	CU_ASSERT_EQUAL(c->gre_key, 2002);
	CU_ASSERT_TRUE(addr_is(&c->gre_dst, "198.51.100.2"));
	CU_ASSERT_EQUAL(c->n_vnets, 2); /* same VNets as contoso: allowed, isolated */
	CU_ASSERT_EQUAL_FATAL(c->n_on_prem, 1);
	CU_ASSERT_TRUE(prefix_is(&c->on_prem[0], "198.18.0.0/24"));
	CU_ASSERT_EQUAL_FATAL(c->n_contexts, 2);

	const struct pf_context_conf *pv = &c->contexts[0], *ms = &c->contexts[1];

	CU_ASSERT_STRING_EQUAL(pv->name, "fabrikam-private");
	CU_ASSERT_EQUAL(pv->kind, PF_CTX_PRIVATE);
	CU_ASSERT_TRUE(pv->qinq);
	CU_ASSERT_EQUAL(pv->s_tag, 100);
	CU_ASSERT_EQUAL(pv->c_tag, 555);
	CU_ASSERT_EQUAL(pv->vlan, 0);
	CU_ASSERT_EQUAL(pv->s_tpid, 0x88a8);
	CU_ASSERT_TRUE(prefix_is(&pv->primary.subnet4, "172.16.3.0/30"));
	CU_ASSERT_FALSE(pv->secondary.present);

	CU_ASSERT_STRING_EQUAL(ms->name, "fabrikam-microsoft");
	CU_ASSERT_EQUAL(ms->kind, PF_CTX_MICROSOFT);
	CU_ASSERT_TRUE(ms->qinq);
	CU_ASSERT_EQUAL(ms->s_tag, 100);
	CU_ASSERT_EQUAL(ms->c_tag, 556);
	CU_ASSERT_EQUAL_FATAL(ms->n_routes, 1);
	CU_ASSERT_TRUE(prefix_is(&ms->routes[0].prefix, "40.64.0.0/10"));
	CU_ASSERT_EQUAL(ms->routes[0].via, PF_VIA_CORE);
}

/* ---- helpers ---- */

static void test_prefix_parse(void)
{
	struct pf_prefix p;

	CU_ASSERT_EQUAL(pf_prefix_parse("10.1.2.3/8", &p), 0);
	CU_ASSERT_EQUAL(p.family, 4);
	CU_ASSERT_EQUAL(p.len, 8);
	CU_ASSERT_EQUAL(p.addr[0], 10);
	CU_ASSERT_EQUAL(p.addr[3], 3); /* host bits kept */
	CU_ASSERT_FALSE(pf_prefix_is_network(&p));
	CU_ASSERT_EQUAL(pf_prefix_parse("0.0.0.0/0", &p), 0);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_TRUE(pf_prefix_is_network(&p));
	CU_ASSERT_EQUAL(pf_prefix_parse("255.255.255.255/32", &p), 0);
	CU_ASSERT_EQUAL(pf_prefix_parse("2001:db8::/32", &p), 0);
	CU_ASSERT_EQUAL(p.family, 6);
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL(p.addr[0], 0x20);
	CU_ASSERT_EQUAL(p.addr[3], 0xb8);
	CU_ASSERT_EQUAL(pf_prefix_parse("::/0", &p), 0);
	CU_ASSERT_EQUAL(pf_prefix_parse("::ffff:1.2.3.4/128", &p), 0);
	CU_ASSERT_EQUAL(p.family, 6);

	const char *bad[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
			      "10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8x", "10.0.0/8", "10.0.0.256/8",
			      "010.0.0.0/8", "/8", "2001:db8::/129", "2001:db8:::/32", "fe80::1%eth0/64",
			      "10.0.0.0/8/8", " 10.0.0.0/8", "10.0.0.0/1000", "hello/8" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.family = 42;
		CU_ASSERT_EQUAL(pf_prefix_parse(bad[i], &p), -EINVAL);
		CU_ASSERT_EQUAL(p.family, 42); /* untouched */
	}
	CU_ASSERT_EQUAL(pf_prefix_parse(NULL, &p), -EINVAL);
}

static void test_addr_parse(void)
{
	struct pf_addr a;

	CU_ASSERT_EQUAL(pf_addr_parse("192.0.2.1", &a), 0);
	CU_ASSERT_EQUAL(a.family, 4);
	CU_ASSERT_EQUAL(a.addr[0], 192);
	CU_ASSERT_EQUAL(a.addr[3], 1);
	CU_ASSERT_EQUAL(pf_addr_parse("2001:db8::fe", &a), 0);
	CU_ASSERT_EQUAL(a.family, 6);
	CU_ASSERT_EQUAL(a.addr[15], 0xfe);
	CU_ASSERT_EQUAL(pf_addr_parse("192.0.2.1/32", &a), -EINVAL);
	CU_ASSERT_EQUAL(pf_addr_parse("192.0.2", &a), -EINVAL);
	CU_ASSERT_EQUAL(pf_addr_parse("", &a), -EINVAL);
	CU_ASSERT_EQUAL(pf_addr_parse("peer", &a), -EINVAL);
	CU_ASSERT_EQUAL(pf_addr_parse("1:2:3:4:5:6:7:8:9", &a), -EINVAL);
}

static void test_mac_parse(void)
{
	uint8_t m[6] = { 0 };
	static const uint8_t want[6] = { 0x02, 0x00, 0xab, 0xCD, 0x0e, 0xff };

	CU_ASSERT_EQUAL(pf_mac_parse("02:00:ab:CD:0e:ff", m), 0);
	CU_ASSERT_EQUAL(memcmp(m, want, 6), 0);
	const char *bad[] = { "", "02:00:ab:cd:0e", "02:00:ab:cd:0e:ff:00", "02-00-ab-cd-0e-ff",
			      "2:0:ab:cd:e:ff", "02:00:ab:cd:0e:fg", "0200abcd0eff", "02:00:ab:cd:0e:f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(pf_mac_parse(bad[i], m), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(m, want, 6), 0); /* untouched on failure */
}

static void test_overlap_contains(void)
{
	struct pf_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8");
	struct pf_prefix z = P("0.0.0.0/0"), s6 = P("2001:db8::/32"), t6 = P("2001:db8:1::/48");
	struct pf_prefix h = P("172.16.1.4/30"), g = P("172.16.1.0/30");

	CU_ASSERT_TRUE(pf_prefix_overlap(&a, &b));
	CU_ASSERT_TRUE(pf_prefix_overlap(&b, &a));
	CU_ASSERT_FALSE(pf_prefix_overlap(&a, &c));
	CU_ASSERT_TRUE(pf_prefix_overlap(&z, &c));
	CU_ASSERT_FALSE(pf_prefix_overlap(&z, &s6)); /* across families: never */
	CU_ASSERT_TRUE(pf_prefix_overlap(&s6, &t6));
	CU_ASSERT_FALSE(pf_prefix_overlap(&h, &g));
	CU_ASSERT_TRUE(pf_prefix_overlap(&h, &h));

	struct pf_addr x = A("10.200.0.1"), y = A("11.0.0.1"), v6 = A("2001:db8:1::5");
	CU_ASSERT_TRUE(pf_prefix_contains(&a, &x));
	CU_ASSERT_FALSE(pf_prefix_contains(&b, &x));
	CU_ASSERT_FALSE(pf_prefix_contains(&a, &y));
	CU_ASSERT_TRUE(pf_prefix_contains(&z, &y));
	CU_ASSERT_TRUE(pf_prefix_contains(&t6, &v6));
	CU_ASSERT_FALSE(pf_prefix_contains(&z, &v6));
	/* a bit boundary that is not a byte boundary */
	struct pf_prefix d = P("172.16.0.0/12");
	struct pf_addr in = A("172.31.255.255"), out = A("172.32.0.0");
	CU_ASSERT_TRUE(pf_prefix_contains(&d, &in));
	CU_ASSERT_FALSE(pf_prefix_contains(&d, &out));
}

static void test_link_addrs(void)
{
	struct pf_prefix s4 = P("172.16.1.0/30"), s6 = P("2001:db8:a1::/126");
	struct pf_prefix host = P("192.0.2.1/24"), net;
	struct pf_addr a;
	char buf[64];

	pf_link_peer_addr(&s4, &a);
	CU_ASSERT_TRUE(addr_is(&a, "172.16.1.1"));
	pf_link_our_addr(&s4, &a);
	CU_ASSERT_TRUE(addr_is(&a, "172.16.1.2"));
	pf_link_peer_addr(&s6, &a);
	CU_ASSERT_TRUE(addr_is(&a, "2001:db8:a1::1"));
	pf_link_our_addr(&s6, &a);
	CU_ASSERT_TRUE(addr_is(&a, "2001:db8:a1::2"));

	pf_prefix_network(&host, &net);
	CU_ASSERT_TRUE(prefix_is(&net, "192.0.2.0/24"));
	pf_prefix_host(&host, &a);
	CU_ASSERT_TRUE(addr_is(&a, "192.0.2.1"));
	CU_ASSERT_STRING_EQUAL(pf_prefix_fmt(&host, buf, sizeof(buf)), "192.0.2.1/24");
	CU_ASSERT_STRING_EQUAL(pf_prefix_fmt(&s6, buf, sizeof(buf)), "2001:db8:a1::/126");
	CU_ASSERT_STRING_EQUAL(pf_addr_fmt(&a, buf, sizeof(buf)), "192.0.2.1");

	CU_ASSERT_STRING_EQUAL(pf_ctx_kind_name(PF_CTX_PRIVATE), "private");
	CU_ASSERT_STRING_EQUAL(pf_ctx_kind_name(PF_CTX_MICROSOFT), "microsoft");
	CU_ASSERT_STRING_EQUAL(pf_ctx_kind_name(PF_CTX_PUBLIC), "public");
}

/* ---- errors ---- */

static char tmpdir[] = "/tmp/pf_test_config_XXXXXX";
static int tmpn;

static int suite_err_init(void)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int suite_err_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to a file, load it; return rc, err filled, out checked untouched on error. */
static int load_text(const char *text, char *path, size_t plen, char *err, size_t elen)
{
	struct pf_config *cfg = (struct pf_config *)(uintptr_t)0x1;
	FILE *f;
	int rc;

	snprintf(path, plen, "%s/t%d.json", tmpdir, tmpn++);
	f = fopen(path, "w");
	if (f == NULL)
		return -1000;
	fputs(text, f);
	fclose(f);
	rc = pf_config_load(path, &cfg, err, elen);
	if (rc == 0)
		pf_config_free(cfg);
	else
		CU_ASSERT_PTR_EQUAL(cfg, (struct pf_config *)(uintptr_t)0x1);
	return rc;
}

static void expect_err(const char *text, const char *want_tail)
{
	char path[256], err[1024], want[1024];
	int rc = load_text(text, path, sizeof(path), err, sizeof(err));

	CU_ASSERT_EQUAL(rc, -EINVAL);
	snprintf(want, sizeof(want), "%s:%s", path, want_tail);
	if (strcmp(err, want) != 0)
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
	CU_ASSERT_STRING_EQUAL(err, want);
}

#define MIN_PORTS                                                                          \
	"\"ports\": [{\"name\": \"e\", \"role\": \"edge\"},\n"                              \
	"  {\"name\": \"c\", \"role\": \"core\", \"address\": \"192.0.2.1/24\", "          \
	"\"gateway\": \"192.0.2.254\"}]"

static void test_err_file(void)
{
	char err[512], path[300];
	struct pf_config *cfg = (struct pf_config *)(uintptr_t)0x1;

	snprintf(path, sizeof(path), "%s/does-not-exist.json", tmpdir);
	CU_ASSERT_EQUAL(pf_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_EQUAL(cfg, (struct pf_config *)(uintptr_t)0x1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":0:0: (file): cannot open: No such file"));
	CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
	/* a directory */
	CU_ASSERT_EQUAL(pf_config_load(tmpdir, &cfg, err, sizeof(err)), -EISDIR);
	/* no err buffer: still the right code */
	CU_ASSERT_EQUAL(pf_config_load(path, &cfg, NULL, 0), -ENOENT);
	/* truncation is safe */
	char small[8];
	CU_ASSERT_EQUAL(pf_config_load(path, &cfg, small, sizeof(small)), -ENOENT);
	CU_ASSERT_EQUAL(strlen(small), 7);
}

static void test_err_syntax(void)
{
	/* jansson's own positions: the character where it gave up (for a duplicate key, the
	 * end of the key; for a bare scalar, one past its start) */
	expect_err("{\n  \"ports\": [,]\n}\n", "2:13: (json): unexpected token near ','");
	expect_err("{\"a\": 1, \"a\": 2}", "1:12: (json): duplicate object key near '\"a\"'");
	expect_err("", "1:0: (json): '[' or '{' expected near end of file");
	expect_err("42", "1:2: (json): '[' or '{' expected near '42'");
	expect_err("[]", "1:1: (root): expected an object, got array");
}

static void test_err_positions(void)
{
	/* the brief's example shape, and a value after multi-byte characters and escapes */
	expect_err("{" MIN_PORTS ",\n \"customers\": [{\"id\": 1, \"name\": \"x\", \"asn\": 65001,\n"
		   "  \"bandwidth_mbps\": 1, \"contexts\": [\n"
		   "    {\"name\": \"a\", \"kind\": \"public\", \"vlan\": 10, \"primary\": {\"port\": \"e\", \"subnet\": \"100.64.0.0/30\"}},\n"
		   "    {\"name\": \"b\", \"kind\": \"public\",\n"
		   "        \"vlan\": 4095}]}]}\n",
		   "7:17: customers[0].contexts[1].vlan: 4095 is out of range 1..4094");
	expect_err("{\"icmp_rate_pps\": 5, \"burst\": \"é\\u00e9\\\"\\\\\", \"ports\": []}",
		   "1:31: burst: expected an integer, got string");
	expect_err("{\"x\\u00e9\\\"y\": 1, \"ports\": []}", "1:2: x\xc3\xa9\"y: unknown field 'x??\"y'");
	expect_err("{\"ports\": [], \"éé\": [], \"ports2\": 1}", "1:15: \xc3\xa9\xc3\xa9: unknown field '?\?\?\?'");
	expect_err("{\"customers\": \"\xc3\xa9\xc3\xa9\xc3\xa9\", \"ports\": 5}",
		   "1:31: ports: expected an array, got integer");
	/* first unknown field in document order, at its key */
	expect_err("{\"ports\": [{\"name\": \"e\", \"rol\": \"edge\",\n  \"mttu\": 1}]}",
		   "1:26: ports[0].rol: unknown field 'rol'");
	/* a missing field is reported at its enclosing object */
	expect_err("{\"ports\": [\n   {\"role\": \"edge\"}]}",
		   "2:4: ports[0].name: missing required field 'name'");
	expect_err("{}", "1:1: ports: missing required field 'ports'");
	/* arrays of arrays, a key with escapes deeper down */
	expect_err("{\"ports\": [[1]]}", "1:12: ports[0]: expected an object, got array");
	expect_err("{\"ports\": [{\"name\": \"e\", \"role\": \"edge\", \"m\\u0074u\": \"x\"}]}",
		   "1:54: ports[0].mtu: expected an integer, got string");
	/* control characters in a key do not reach the message */
	expect_err("{\"ports\": [], \"a\\nb\": 1}", "1:15: a?b: unknown field 'a?b'");
	/* tabs count as one column, CRLF ends a line like LF */
	expect_err("{\r\n\t\"ports\": 1}", "2:11: ports: expected an array, got integer");
}

static void test_err_vlan_message(void)
{
	expect_err("{" MIN_PORTS ", \"customers\": [{\"id\": 1, \"name\": \"x\", \"asn\": 23456,"
		   " \"bandwidth_mbps\": 1, \"contexts\": []}]}",
		   "2:132: customers[0].asn: AS 23456 is AS_TRANS (RFC 6793), a placeholder, not a "
		   "real ASN");
}

static void test_good_minimal(void)
{
	char path[256], err[512];

	CU_ASSERT_EQUAL(load_text("{" MIN_PORTS ", \"customers\": []}", path, sizeof(path), err,
				  sizeof(err)), 0);
	/* a /31 core link (RFC 3021): the gateway and a tunnel end may be the other side */
	CU_ASSERT_EQUAL(load_text(
		"{\"ports\": [{\"name\": \"e\", \"role\": \"edge\"}, {\"name\": \"c\", \"role\": \"core\","
		" \"address\": \"198.51.100.0/31\", \"gateway\": \"198.51.100.1\"}],"
		" \"customers\": [{\"id\": 9, \"name\": \"n\", \"asn\": 65001, \"bandwidth_mbps\": 1,"
		" \"gre\": {\"key\": 9, \"source\": \"198.51.100.0\", \"destination\": \"198.51.100.1\"},"
		" \"contexts\": [{\"name\": \"p\", \"kind\": \"private\", \"vlan\": 9,"
		" \"primary\": {\"port\": \"e\", \"subnet\": \"172.16.0.0/30\"}}]}]}",
		path, sizeof(path), err, sizeof(err)), 0);
}

/* The tuning fields of tests/config/good/pool-sizes.json reach the model. */
static void test_good_pool_sizes(void)
{
	struct pf_config *cfg = NULL;
	char err[512];

	CU_ASSERT_EQUAL_FATAL(pf_config_load(PF_SRCDIR "/tests/config/good/pool-sizes.json", &cfg,
					     err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg->burst, 64);
	CU_ASSERT_EQUAL(cfg->mbufs, 65536);
	CU_ASSERT_EQUAL(cfg->rx_desc, 4096);
	CU_ASSERT_EQUAL(cfg->tx_desc, 512);
	CU_ASSERT_EQUAL(cfg->fib_ipv4_ply_bits, 4);
	pf_config_free(cfg);
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("config_example", suite_example_init, suite_example_clean);
	if (s == NULL ||
	    !CU_add_test(s, "top", test_example_top) ||
	    !CU_add_test(s, "ports", test_example_ports) ||
	    !CU_add_test(s, "neighbors", test_example_neighbors) ||
	    !CU_add_test(s, "contoso", test_example_contoso) ||
	    !CU_add_test(s, "fabrikam", test_example_fabrikam))
		goto fail;
	s = CU_add_suite("config_helpers", NULL, NULL);
	if (s == NULL ||
	    !CU_add_test(s, "prefix_parse", test_prefix_parse) ||
	    !CU_add_test(s, "addr_parse", test_addr_parse) ||
	    !CU_add_test(s, "mac_parse", test_mac_parse) ||
	    !CU_add_test(s, "overlap_contains", test_overlap_contains) ||
	    !CU_add_test(s, "link_addrs_fmt", test_link_addrs))
		goto fail;
	s = CU_add_suite("config_errors", suite_err_init, suite_err_clean);
	if (s == NULL ||
	    !CU_add_test(s, "file", test_err_file) ||
	    !CU_add_test(s, "syntax", test_err_syntax) ||
	    !CU_add_test(s, "positions", test_err_positions) ||
	    !CU_add_test(s, "asn_message", test_err_vlan_message) ||
	    !CU_add_test(s, "good_minimal", test_good_minimal) ||
	    !CU_add_test(s, "good_pool_sizes", test_good_pool_sizes))
		goto fail;

	return pft_cunit_run();
fail:
	return pft_cunit_fail();
}
