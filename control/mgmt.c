/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management socket (docs/management.md), served on the control thread.
 *
 * Every pf_mgmt_poll() does one poll(2) over the listening socket and the clients, then
 * for each client: write what is pending, read what arrived (into a bounded line buffer),
 * and answer complete lines. A client has at most one reply outstanding: the next request
 * is only read from its buffer once the previous reply has been handed to the kernel, so
 * a client that does not read cannot make us queue more than one (bounded) reply, and
 * one that stays stalled is dropped after a timeout. Writes use MSG_NOSIGNAL (a vanished
 * client must not SIGPIPE the forwarder).
 *
 * The answers read the tables directly: control is their only writer and this runs on
 * control, between two of its updates.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include <rte_byteorder.h>

#include "common/config.h"
#include "common/route_msg.h"
#include "control/applier.h"
#include "control/control.h"
#include "control/feed.h"
#include "control/mgmt.h"

#define IN_CAP (PF_MGMT_MAX_REQUEST + 1)  /* one maximal line and its newline */
#define LINES_PER_POLL 16                 /* requests answered per client per poll */
#define ACCEPTS_PER_POLL 4
#define STREAM_ROUTES_PER_SLICE 256       /* routes of a listing written per poll */

/* ------------------------------------------------------------------------------------ */
/* Small helpers                                                                        */

struct ebuf {
	char *s;
	size_t n;
};

static json_t *
fail(struct ebuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *
fail(struct ebuf *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->s, e->n, fmt, ap);
	va_end(ap);
	return NULL;
}

static json_t *
addr_json(int family, const uint8_t *a)
{
	struct pf_addr x = {.family = family};
	char buf[64];

	memcpy(x.addr, a, family == 4 ? 4 : 16);
	return json_string(pf_addr_fmt(&x, buf, sizeof(buf)));
}

static json_t *
pfx_json(int family, const uint8_t *a, unsigned len)
{
	struct pf_prefix p = {.family = family, .len = (uint8_t)len};
	char buf[80];

	memcpy(p.addr, a, family == 4 ? 4 : 16);
	return json_string(pf_prefix_fmt(&p, buf, sizeof(buf)));
}

static json_t *
conf_pfx_json(const struct pf_prefix *p)
{
	char buf[80];

	return json_string(pf_prefix_fmt(p, buf, sizeof(buf)));
}

static json_t *
conf_addr_json(const struct pf_addr *a)
{
	char buf[64];

	return json_string(pf_addr_fmt(a, buf, sizeof(buf)));
}

/* Which configuration a dataplane context id comes from: 0 is the core context, then the
 * customers' contexts in configuration order (as tables_build.c numbers them). */
struct ctx_ref {
	const struct pf_context_conf *cc;  /* NULL for the core context */
	const struct pf_customer_conf *cu;
};

static bool
ctx_ref(const struct pf_mgmt_ctx *mc, unsigned id, struct ctx_ref *r)
{
	const struct pf_config *cfg = mc->cfg;
	unsigned n = 1;

	r->cc = NULL;
	r->cu = NULL;
	if (id == PF_CTX_CORE)
		return true;
	for (size_t c = 0; c < cfg->n_customers; c++) {
		const struct pf_customer_conf *cu = &cfg->customers[c];

		if (id < n + cu->n_contexts) {
			r->cu = cu;
			r->cc = &cu->contexts[id - n];
			/* the numbering must be the tables' */
			return id < mc->t->n_ctx && strcmp(r->cc->name, mc->t->ctx[id].name) == 0;
		}
		n += (unsigned)cu->n_contexts;
	}
	return false;
}

static const struct pf_port_conf *
core_port(const struct pf_config *cfg)
{
	for (size_t i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].role == PF_ROLE_CORE)
			return &cfg->ports[i];
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Arguments                                                                            */

/* A string argument: 1 present, 0 absent (allowed when !required), -1 error (in e). */
static int
arg_str(const json_t *req, const char *key, bool required, const char **out, struct ebuf *e)
{
	const json_t *v = json_object_get(req, key);

	if (v == NULL) {
		if (required) {
			fail(e, "missing argument \"%s\" (a string)", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		fail(e, "argument \"%s\" must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

static int
arg_int(const json_t *req, const char *key, long long min, long long max, long long *out,
	struct ebuf *e)
{
	const json_t *v = json_object_get(req, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		fail(e, "argument \"%s\" must be an integer %lld..%lld", key, min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 1;
}

/* The "context" argument: a context name. */
static int
arg_ctx(struct pf_mgmt_ctx *mc, const json_t *req, uint16_t *ctx, struct ebuf *e)
{
	const char *name;

	if (arg_str(req, "context", true, &name, e) < 0)
		return -1;
	for (uint32_t i = 0; i < mc->t->n_ctx; i++)
		if (strcmp(mc->t->ctx[i].name, name) == 0) {
			*ctx = (uint16_t)i;
			return 0;
		}
	fail(e, "no context '%.80s' (the contexts command lists them)", name);
	return -1;
}

/* The "prefix" argument: a network prefix (host bits zero). */
static int
arg_prefix(const json_t *req, struct pf_prefix *p, struct ebuf *e)
{
	const char *s;
	char a[80], b[80];

	if (arg_str(req, "prefix", true, &s, e) < 0)
		return -1;
	if (pf_prefix_parse(s, p) < 0) {
		fail(e, "'%.80s' is not a prefix (ADDRESS/LENGTH, e.g. 10.1.0.0/16 or fd00::/48)", s);
		return -1;
	}
	if (!pf_prefix_is_network(p)) {
		struct pf_prefix net;

		pf_prefix_network(p, &net);
		fail(e, "%s has host bits set (did you mean %s?)", pf_prefix_fmt(p, a, sizeof(a)),
		     pf_prefix_fmt(&net, b, sizeof(b)));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Next hops and routes                                                                 */

static json_t *
mac_json(uint64_t w)
{
	char buf[24];

	if (!(w & PF_NEIGH_VALID))
		return json_null();
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(w & 0xff),
		 (unsigned)(w >> 8 & 0xff), (unsigned)(w >> 16 & 0xff), (unsigned)(w >> 24 & 0xff),
		 (unsigned)(w >> 32 & 0xff), (unsigned)(w >> 40 & 0xff));
	return json_string(buf);
}

static const char *
nh_type_name(uint8_t type)
{
	switch (type) {
	case PF_NH_NONE: return "none";
	case PF_NH_LOCAL: return "local";
	case PF_NH_EDGE: return "edge";
	case PF_NH_CORE: return "core";
	case PF_NH_GRE: return "gre";
	case PF_NH_DROP: return "drop";
	case PF_NH_ECMP: return "ecmp";
	default: return NULL;
	}
}

static json_t *
nh_json(const struct pf_tables *t, uint32_t idx, unsigned depth)
{
	const struct pf_nexthop *nh;
	const char *type;
	json_t *o = json_object();

	json_object_set_new(o, "index", json_integer(idx));
	if (idx >= t->n_nh) {
		json_object_set_new(o, "type", json_string("invalid"));
		return o;
	}
	nh = &t->nh[idx];
	type = nh_type_name(nh->type);
	if (type == NULL) {
		json_object_set_new(o, "type", json_string("unknown"));
		json_object_set_new(o, "type_id", json_integer(nh->type));
		return o;
	}
	json_object_set_new(o, "type", json_string(type));
	if (nh->type == PF_NH_ECMP) {
		json_t *arr = json_array();

		/* members are never groups themselves; depth guards against a broken table */
		for (unsigned i = 0; i < nh->n_ecmp && i < PF_ECMP_MAX && depth == 0; i++)
			json_array_append_new(arr, nh_json(t, nh->ecmp[i], depth + 1));
		json_object_set_new(o, "members", arr);
		return o;
	}
	if (nh->type != PF_NH_EDGE && nh->type != PF_NH_CORE && nh->type != PF_NH_GRE)
		return o;
	json_object_set_new(o, "port", json_string(nh->port < PF_MAX_PORTS ? t->port[nh->port].name
								       : "?"));
	if (nh->neigh < t->n_neigh) {
		const struct pf_neigh *n = &t->neigh[nh->neigh];

		json_object_set_new(o, "neighbor", addr_json(n->family, n->ip));
		json_object_set_new(o, "mac", mac_json(__atomic_load_n(&t->neigh_mac[nh->neigh],
								       __ATOMIC_RELAXED)));
	} else {
		json_object_set_new(o, "neighbor", json_null());
		json_object_set_new(o, "mac", json_null());
	}
	json_object_set_new(o, "mtu", json_integer(nh->mtu));
	if (nh->type == PF_NH_EDGE) {
		json_t *tags = json_array();

		json_object_set_new(o, "context", json_string(nh->ctx < t->n_ctx ? t->ctx[nh->ctx].name
										 : "?"));
		for (unsigned i = 0; i < nh->tags.n && i < 2; i++)
			json_array_append_new(tags, json_integer(rte_be_to_cpu_16(nh->tags.tci[i]) &
								 0xfff));
		json_object_set_new(o, "vlans", tags);
	}
	if (nh->type == PF_NH_GRE) {
		json_object_set_new(o, "gre_key", json_integer(rte_be_to_cpu_32(nh->gre_key)));
		json_object_set_new(o, "tunnel_source", addr_json(4, (const uint8_t *)&nh->tun_src));
		json_object_set_new(o, "tunnel_destination",
				    addr_json(4, (const uint8_t *)&nh->tun_dst));
	}
	return o;
}

static json_t *
route_json(struct pf_mgmt_ctx *mc, uint16_t ctx, int family, const uint8_t *a, unsigned len,
	   uint32_t nh)
{
	json_t *o = json_object();

	json_object_set_new(o, "prefix", pfx_json(family, a, len));
	json_object_set_new(o, "family", json_integer(family));
	json_object_set_new(o, "nexthop", nh_json(mc->t, nh, 0));
	if (mc->applier) {
		int s = pf_applier_route_source(mc->applier, ctx, family, a, (uint8_t)len);

		json_object_set_new(o, "source",
				    s < 0 ? json_null() : json_string(pf_route_source_name(s)));
	} else {
		json_object_set_new(o, "source", json_null());
	}
	return o;
}

/* Exact-match query of the writer-side RIB (network-order prefix). */
static int
rib_get(const struct fib *fib, uint16_t ctx, int family, const uint8_t *a, unsigned len,
	uint32_t *nh)
{
	if (family == 4) {
		uint32_t v;

		memcpy(&v, a, 4);
		return fib4_get(fib, ctx, rte_be_to_cpu_32(v), (uint8_t)len, nh);
	}
	return fib6_get(fib, ctx, a, (uint8_t)len, nh);
}

/* The route a context now holds for exactly this prefix, or JSON null. */
static json_t *
route_now(struct pf_mgmt_ctx *mc, uint16_t ctx, const struct pf_prefix *p)
{
	uint32_t nh;

	if (rib_get(mc->t->fib, ctx, p->family, p->addr, p->len, &nh) < 0)
		return json_null();
	return route_json(mc, ctx, p->family, p->addr, p->len, nh);
}

struct walk_count {
	uint64_t n4, n6;
};

static int
count_cb(void *arg, int family, const uint8_t *prefix, uint8_t depth, uint32_t nh)
{
	struct walk_count *c = arg;

	(void)prefix;
	(void)depth;
	(void)nh;
	if (family == 4)
		c->n4++;
	else
		c->n6++;
	return 0;
}

struct rt {
	uint8_t family, len;
	uint8_t a[16];
	uint32_t nh;
};

struct walk_collect {
	struct rt *v;
	size_t n, cap;
	int family;   /* 0 = both */
};

static int
collect_cb(void *arg, int family, const uint8_t *prefix, uint8_t depth, uint32_t nh)
{
	struct walk_collect *c = arg;
	struct rt *r;

	if (c->family && family != c->family)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct rt *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	r = &c->v[c->n++];
	memset(r, 0, sizeof(*r));
	r->family = (uint8_t)family;
	r->len = depth;
	memcpy(r->a, prefix, family == 4 ? 4 : 16);
	r->nh = nh;
	return 0;
}

static int
rt_cmp(const void *x, const void *y)
{
	const struct rt *a = x, *b = y;
	int d;

	if (a->family != b->family)
		return a->family - b->family;
	d = memcmp(a->a, b->a, 16);
	if (d)
		return d;
	return a->len - b->len;
}

/* Key byte b of a route, least significant first: the length, the address bytes from the
 * last, the family (the order of rt_cmp). */
static inline uint8_t
rt_keybyte(const struct rt *r, unsigned b)
{
	return b == 0 ? r->len : b <= 16 ? r->a[16 - b] : r->family;
}

/* Sort by rt_cmp: an LSD radix sort (a stable counting pass per key byte, skipping bytes
 * that are equal in every route), since a listing of a million routes is sorted on the
 * control thread: ~10x faster than qsort there. */
static void
rt_sort(struct rt *v, size_t n)
{
	struct rt *tmp = n >= 64 ? malloc(n * sizeof(*v)) : NULL, *src = v, *dst = tmp;
	size_t cnt[256];

	if (tmp == NULL) {
		qsort(v, n, sizeof(*v), rt_cmp);
		return;
	}
	for (unsigned b = 0; b <= 17; b++) {
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[rt_keybyte(&src[i], b)]++;
		if (cnt[rt_keybyte(&src[0], b)] == n)
			continue;
		for (unsigned k = 0; k < 256; k++) {
			size_t c = cnt[k];

			cnt[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[rt_keybyte(&src[i], b)]++] = src[i];
		dst = src;
		src = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
}

/* ------------------------------------------------------------------------------------ */
/* Commands                                                                             */

typedef json_t *(*cmd_fn)(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e);

static json_t *
link_json(const char *role, const struct pf_link_conf *lk)
{
	json_t *o = json_object();
	struct pf_addr a;

	json_object_set_new(o, "link", json_string(role));
	json_object_set_new(o, "port", json_string(lk->port));
	json_object_set_new(o, "subnet", conf_pfx_json(&lk->subnet4));
	pf_link_peer_addr(&lk->subnet4, &a);
	json_object_set_new(o, "peer", conf_addr_json(&a));
	pf_link_our_addr(&lk->subnet4, &a);
	json_object_set_new(o, "address", conf_addr_json(&a));
	if (lk->subnet6.family == 6) {
		json_object_set_new(o, "subnet6", conf_pfx_json(&lk->subnet6));
		pf_link_peer_addr(&lk->subnet6, &a);
		json_object_set_new(o, "peer6", conf_addr_json(&a));
		pf_link_our_addr(&lk->subnet6, &a);
		json_object_set_new(o, "address6", conf_addr_json(&a));
	}
	return o;
}

static json_t *
core_links_json(const struct pf_config *cfg)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < cfg->n_ports; i++) {
		const struct pf_port_conf *pc = &cfg->ports[i];
		json_t *o;
		struct pf_prefix net;
		struct pf_addr a;

		if (pc->role != PF_ROLE_CORE)
			continue;
		o = json_object();
		json_object_set_new(o, "link", json_string("core"));
		json_object_set_new(o, "port", json_string(pc->name));
		if (pc->addr4.family == 4) {
			pf_prefix_network(&pc->addr4, &net);
			json_object_set_new(o, "subnet", conf_pfx_json(&net));
			pf_prefix_host(&pc->addr4, &a);
			json_object_set_new(o, "address", conf_addr_json(&a));
			if (pc->gw4.family == 4)
				json_object_set_new(o, "gateway", conf_addr_json(&pc->gw4));
		}
		if (pc->addr6.family == 6) {
			pf_prefix_network(&pc->addr6, &net);
			json_object_set_new(o, "subnet6", conf_pfx_json(&net));
			pf_prefix_host(&pc->addr6, &a);
			json_object_set_new(o, "address6", conf_addr_json(&a));
			if (pc->gw6.family == 6)
				json_object_set_new(o, "gateway6", conf_addr_json(&pc->gw6));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
cmd_contexts(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	const struct pf_tables *t = mc->t;
	json_t *arr = json_array();

	(void)req;
	(void)e;
	for (uint32_t i = 0; i < t->n_ctx; i++) {
		json_t *o = json_object(), *links;
		struct walk_count wc = {0, 0};
		struct ctx_ref r;

		json_object_set_new(o, "id", json_integer(i));
		json_object_set_new(o, "name", json_string(t->ctx[i].name));
		json_object_set_new(o, "kind", json_string(pf_kind_dp_name(t->ctx[i].kind)));
		if (!ctx_ref(mc, i, &r) || r.cc == NULL) {
			json_object_set_new(o, "customer", json_null());
			json_object_set_new(o, "tags", json_null());
			json_object_set_new(o, "links", i == PF_CTX_CORE ? core_links_json(mc->cfg)
									 : json_array());
		} else {
			const struct pf_context_conf *cc = r.cc;

			json_object_set_new(o, "customer", json_string(r.cu->name));
			json_object_set_new(o, "customer_id", json_integer(r.cu->id));
			json_object_set_new(o, "asn", json_integer(r.cu->asn));
			if (cc->qinq) {
				char tp[8];

				snprintf(tp, sizeof(tp), "0x%04x", cc->s_tpid ? cc->s_tpid : 0x88a8);
				json_object_set_new(o, "tags", json_pack("{sisiss}", "s_tag", cc->s_tag,
									 "c_tag", cc->c_tag, "s_tpid", tp));
			} else {
				json_object_set_new(o, "tags", json_pack("{si}", "vlan", cc->vlan));
			}
			links = json_array();
			if (cc->primary.present)
				json_array_append_new(links, link_json("primary", &cc->primary));
			if (cc->secondary.present)
				json_array_append_new(links, link_json("secondary", &cc->secondary));
			json_object_set_new(o, "links", links);
			if (cc->kind == PF_CTX_PRIVATE && r.cu->has_gre)
				json_object_set_new(o, "gre",
					json_pack("{sIsoso}", "key", (json_int_t)r.cu->gre_key,
						  "source", conf_addr_json(&r.cu->gre_src),
						  "destination", conf_addr_json(&r.cu->gre_dst)));
		}
		fib_walk(t->fib, i, count_cb, &wc);
		json_object_set_new(o, "routes4", json_integer((json_int_t)wc.n4));
		json_object_set_new(o, "routes6", json_integer((json_int_t)wc.n6));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* A routes request, validated, its routes collected and sorted. */
struct routes_req {
	uint16_t ctx;
	size_t limit;
	struct walk_collect wc;
};

static int
routes_prepare(struct pf_mgmt_ctx *mc, const json_t *req, struct routes_req *rr, struct ebuf *e)
{
	long long family = 0, limit = PF_MGMT_ROUTES_DEFAULT_LIMIT;
	int r;

	memset(rr, 0, sizeof(*rr));
	if (arg_ctx(mc, req, &rr->ctx, e) < 0)
		return -1;
	if (arg_int(req, "family", 4, 6, &family, e) < 0)
		return -1;
	if (family == 5) {
		fail(e, "argument \"family\" must be 4 or 6");
		return -1;
	}
	if (arg_int(req, "limit", 1, PF_MGMT_ROUTES_MAX_LIMIT, &limit, e) < 0)
		return -1;
	rr->wc.family = (int)family;
	r = fib_walk(mc->t->fib, rr->ctx, collect_cb, &rr->wc);
	if (r < 0) {
		free(rr->wc.v);
		rr->wc.v = NULL;
		fail(e, "walking the routes of '%s': %s", mc->t->ctx[rr->ctx].name, strerror(-r));
		return -1;
	}
	rt_sort(rr->wc.v, rr->wc.n);
	rr->limit = rr->wc.n < (size_t)limit ? rr->wc.n : (size_t)limit;
	return 0;
}

static json_t *
route_json_rt(struct pf_mgmt_ctx *mc, uint16_t ctx, const struct rt *r)
{
	return route_json(mc, ctx, r->family, r->a, r->len, r->nh);
}

static json_t *
cmd_routes(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	struct routes_req rr;
	json_t *res, *arr;

	if (routes_prepare(mc, req, &rr, e) < 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < rr.limit; i++)
		json_array_append_new(arr, route_json_rt(mc, rr.ctx, &rr.wc.v[i]));
	res = json_object();
	json_object_set_new(res, "context", json_string(mc->t->ctx[rr.ctx].name));
	json_object_set_new(res, "total", json_integer((json_int_t)rr.wc.n));
	json_object_set_new(res, "truncated", json_boolean(rr.limit < rr.wc.n));
	json_object_set_new(res, "routes", arr);
	free(rr.wc.v);
	return res;
}

static json_t *
cmd_lookup(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	const char *s;
	struct pf_addr a;
	uint16_t ctx;
	json_t *res;
	int max;

	if (arg_ctx(mc, req, &ctx, e) < 0 || arg_str(req, "address", true, &s, e) < 0)
		return NULL;
	if (pf_addr_parse(s, &a) < 0)
		return fail(e, "'%.80s' is not an IPv4 or IPv6 address", s);
	res = json_object();
	json_object_set_new(res, "context", json_string(mc->t->ctx[ctx].name));
	json_object_set_new(res, "address", conf_addr_json(&a));
	/* the longest prefix of the writer-side RIB that holds the address */
	max = a.family == 4 ? 32 : 128;
	for (int len = max; len >= 0; len--) {
		struct pf_prefix p = {.family = a.family, .len = (uint8_t)len};
		uint32_t nh;

		memcpy(p.addr, a.addr, 16);
		pf_prefix_network(&p, &p);
		if (rib_get(mc->t->fib, ctx, p.family, p.addr, p.len, &nh) == 0) {
			json_object_set_new(res, "route",
					    route_json(mc, ctx, p.family, p.addr, p.len, nh));
			return res;
		}
	}
	json_object_set_new(res, "route", json_null());
	return res;
}

json_t *
pf_mgmt_counters_json(const struct pf_mgmt_ctx *mc)
{
	json_t *o;

	if (mc == NULL || mc->stats == NULL)
		return NULL;
	o = pf_stats_json(mc->stats);   /* has "applier" when the stats source knows it */
	if (o != NULL && mc->applier != NULL && json_object_get(o, "applier") == NULL) {
		json_t *a = pf_applier_stats_json(mc->applier);

		json_object_set_new(o, "applier", a ? a : json_null());
	}
	return o;
}

static json_t *
cmd_counters(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	json_t *o;

	(void)req;
	if (mc->stats == NULL)
		return fail(e, "counters are not available (no statistics source)");
	o = pf_mgmt_counters_json(mc);
	return o ? o : fail(e, "out of memory");
}

static json_t *
cmd_feeds(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	json_t *arr = json_array();

	(void)req;
	(void)e;
	for (unsigned i = 0; i < mc->n_feeds; i++) {
		const struct pf_feed *f = mc->feeds[i];
		json_t *o, *bad;
		uint64_t last;

		if (f == NULL)
			continue;
		o = json_object();
		json_object_set_new(o, "name", json_string(f->name));
		json_object_set_new(o, "source", json_string(pf_route_source_name(f->source)));
		json_object_set_new(o, "sessions",
				    json_integer(__atomic_load_n(&f->sessions, __ATOMIC_RELAXED)));
		json_object_set_new(o, "msgs_in", json_integer((json_int_t)__atomic_load_n(
						  &f->msgs_in, __ATOMIC_RELAXED)));
		json_object_set_new(o, "enqueued", json_integer((json_int_t)__atomic_load_n(
						   &f->enqueued, __ATOMIC_RELAXED)));
		json_object_set_new(o, "ring_full_waits", json_integer((json_int_t)__atomic_load_n(
							  &f->ring_full_waits, __ATOMIC_RELAXED)));
		last = __atomic_load_n(&f->last_update, __ATOMIC_RELAXED);
		json_object_set_new(o, "last_update", last ? json_integer((json_int_t)last)
							   : json_null());
		bad = json_object();
		for (unsigned k = 0; k < PF_FEED_BAD_MAX; k++)
			json_object_set_new(bad, pf_feed_bad_names[k], json_integer((json_int_t)
					    __atomic_load_n(&f->bad[k], __ATOMIC_RELAXED)));
		json_object_set_new(o, "bad", bad);
		json_array_append_new(arr, o);
	}
	return arr;
}

/* route-add / route-del: one struct pf_route_msg from the CLI source, applied now. */
static json_t *
route_change(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e, bool add)
{
	struct pf_route_msg m;
	struct pf_prefix p;
	const char *via = NULL, *cname;
	char aerr[256] = "", pb[80];
	uint16_t ctx;
	struct ctx_ref ref;
	json_t *res;
	int r;

	if (arg_ctx(mc, req, &ctx, e) < 0 || arg_prefix(req, &p, e) < 0)
		return NULL;
	if (add && arg_str(req, "via", true, &via, e) < 0)
		return NULL;
	cname = mc->t->ctx[ctx].name;
	if (mc->applier == NULL)
		return fail(e, "route changes need the route applier, which is not running");
	if (!ctx_ref(mc, ctx, &ref))
		return fail(e, "context '%s' has no configuration", cname);
	memset(&m, 0, sizeof(m));
	m.op = add ? PF_RT_ADD : PF_RT_DEL;
	m.source = PF_SRC_CLI;
	m.family = (uint8_t)p.family;
	m.len = p.len;
	m.ctx = ctx;
	memcpy(m.prefix, p.addr, p.family == 4 ? 4 : 16);
	if (add) {
		if (strcmp(via, "drop") == 0) {
			m.flags = PF_RT_F_BLACKHOLE;
		} else if (strcmp(via, "peer") == 0) {
			const struct pf_prefix *sn;

			if (ref.cc == NULL)
				return fail(e, "context '%s' has no customer router: 'peer' is for "
					    "customer contexts", cname);
			sn = p.family == 4 ? &ref.cc->primary.subnet4 : &ref.cc->primary.subnet6;
			if (!ref.cc->primary.present || sn->family != p.family)
				return fail(e, "context '%s' has no IPv%d peering subnet on its primary "
					    "link: an IPv%d route via 'peer' needs one", cname,
					    p.family, p.family);
			pf_link_peer_addr(sn, &m.nh[0]);
			m.n_nh = 1;
		} else if (strcmp(via, "gre") == 0) {
			if (ref.cc == NULL || ref.cc->kind != PF_CTX_PRIVATE || !ref.cu->has_gre)
				return fail(e, "context '%s' has no GRE tunnel: 'gre' is only valid in a "
					    "private context", cname);
			m.nh[0] = ref.cu->gre_dst;
			m.n_nh = 1;
		} else if (strcmp(via, "core") == 0) {
			const struct pf_port_conf *pc = core_port(mc->cfg);
			const struct pf_addr *gw = pc == NULL ? NULL : p.family == 4 ? &pc->gw4 : &pc->gw6;

			if (gw == NULL || gw->family != p.family)
				return fail(e, "no core IPv%d gateway: an IPv%d route via 'core' needs one",
					    p.family, p.family);
			m.nh[0] = *gw;
			m.n_nh = 1;
		} else if (pf_addr_parse(via, &m.nh[0]) == 0) {
			if (m.nh[0].family != p.family)
				return fail(e, "next hop %s is IPv%d but the prefix is IPv%d", via,
					    m.nh[0].family, p.family);
			m.n_nh = 1;
		} else {
			return fail(e, "via '%.80s' is not peer, gre, core, drop or an IP address", via);
		}
	}
	r = pf_applier_apply(mc->applier, &m, aerr, sizeof(aerr));
	if (r < 0)
		return fail(e, "%s %s in '%s' rejected: %s", add ? "adding" : "removing",
			    pf_prefix_fmt(&p, pb, sizeof(pb)), cname,
			    aerr[0] ? aerr : strerror(-r));
	res = json_object();
	json_object_set_new(res, "context", json_string(cname));
	json_object_set_new(res, "prefix", conf_pfx_json(&p));
	if (add)
		json_object_set_new(res, "via", json_string(via));
	/* what the context holds for the prefix now (another source's route after a delete) */
	json_object_set_new(res, "route", route_now(mc, ctx, &p));
	return res;
}

static json_t *
cmd_route_add(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	return route_change(mc, req, e, true);
}

static json_t *
cmd_route_del(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	return route_change(mc, req, e, false);
}

static json_t *cmd_help(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e);

/* IPsec SAs: control/mgmt_ipsec.c */
static json_t *
cmd_sa_list(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	return pf_mgmt_sa_list(mc, req, e->s, e->n);
}

static json_t *
cmd_sa_add(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	return pf_mgmt_sa_add(mc, req, e->s, e->n);
}

static json_t *
cmd_sa_del(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	return pf_mgmt_sa_del(mc, req, e->s, e->n);
}

static const struct cmd {
	const char *name;
	cmd_fn fn;
	const char *args[4];   /* accepted besides "cmd" and "id" */
	bool heavy;            /* walks whole tables: one such request per poll (socket) */
	const char *descr;
} cmds[] = {
	{"contexts", cmd_contexts, {NULL}, true,
	 "peering contexts: id, name, kind, customer, tags, links, route counts"},
	{"routes", cmd_routes, {"context", "family", "limit", NULL}, true,
	 "a context's routes, sorted; family 4|6, limit (default 1000)"},
	{"lookup", cmd_lookup, {"context", "address", NULL}, false,
	 "the longest-prefix match of an address in a context"},
	{"counters", cmd_counters, {NULL}, false,
	 "the counters, as --stats-json writes them (+ route applier counters)"},
	{"feeds", cmd_feeds, {NULL}, false, "the route feeds and their counters"},
	{"route-add", cmd_route_add, {"context", "prefix", "via", NULL}, false,
	 "add a route (source cli); via: peer, gre, core, drop or an address"},
	{"route-del", cmd_route_del, {"context", "prefix", NULL}, false,
	 "remove a route added with route-add"},
	{"sa-list", cmd_sa_list, {"customer", NULL}, false,
	 "IPsec SAs (of a customer): spi, direction, algorithm, sequence, counters, state; no keys"},
	{"sa-add", cmd_sa_add, {"customer", "sa", NULL}, false,
	 "install an IPsec SA (sa: as in the configuration); a new outbound SA becomes active"},
	{"sa-del", cmd_sa_del, {"customer", "spi", "direction", NULL}, false,
	 "remove an IPsec SA"},
	{"help", cmd_help, {NULL}, false, "this list"},
};

static json_t *
cmd_help(struct pf_mgmt_ctx *mc, const json_t *req, struct ebuf *e)
{
	json_t *arr = json_array();

	(void)mc;
	(void)req;
	(void)e;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		json_t *args = json_array();

		for (unsigned k = 0; cmds[i].args[k]; k++)
			json_array_append_new(args, json_string(cmds[i].args[k]));
		json_array_append_new(arr, json_pack("{sssoss}", "cmd", cmds[i].name, "args", args,
						     "description", cmds[i].descr));
	}
	return arr;
}

static json_t *
error_reply(const char *msg)
{
	json_t *o = json_pack("{sbss}", "ok", 0, "error", msg);

	if (o == NULL) {
		/* msg echoes client input cut to a length: perhaps inside a UTF-8 sequence */
		char ascii[512];
		size_t i;

		for (i = 0; msg[i] && i < sizeof(ascii) - 1; i++)
			ascii[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
		ascii[i] = '\0';
		o = json_pack("{sbss}", "ok", 0, "error", ascii);
	}
	return o;
}

static bool
blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* The command of a well-formed request; NULL with the error in msg. */
static const struct cmd *
request_cmd(const json_t *req, char *msg, size_t len)
{
	const struct cmd *c = NULL;
	const char *name, *key;
	const json_t *v;

	if (!json_is_object(req)) {
		snprintf(msg, len, "a request must be a JSON object: {\"cmd\": \"...\", ...}");
		return NULL;
	}
	v = json_object_get(req, "cmd");
	if (v == NULL) {
		snprintf(msg, len, "missing \"cmd\" (try {\"cmd\": \"help\"})");
		return NULL;
	}
	if (!json_is_string(v)) {
		snprintf(msg, len, "\"cmd\" must be a string");
		return NULL;
	}
	name = json_string_value(v);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			c = &cmds[i];
	if (c == NULL) {
		snprintf(msg, len, "unknown command '%.80s'; commands: contexts, routes, lookup, "
			 "counters, feeds, route-add, route-del, sa-list, sa-add, sa-del, help", name);
		return NULL;
	}
	json_object_foreach((json_t *)req, key, v) {
		bool known = strcmp(key, "cmd") == 0 || strcmp(key, "id") == 0;
		size_t off;

		for (unsigned k = 0; !known && c->args[k]; k++)
			known = strcmp(key, c->args[k]) == 0;
		if (known)
			continue;
		off = (size_t)snprintf(msg, len, "unknown argument '%.80s' for '%s'", key, c->name);
		for (unsigned k = 0; c->args[k] && off < len; k++)
			off += (size_t)snprintf(msg + off, len - off, "%s%s", k ? ", " : " (accepted: ",
						c->args[k]);
		if (off < len)
			snprintf(msg + off, len - off, "%s", c->args[0] ? ")" : " (it takes none)");
		return NULL;
	}
	return c;
}

/* Echo the client's "id" so that pipelined replies can be matched. */
static json_t *
with_id(json_t *rep, const json_t *req)
{
	const json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;

	if (rep != NULL && id != NULL)
		json_object_set(rep, "id", (json_t *)id);
	return rep;
}

json_t *
pf_mgmt_handle(struct pf_mgmt_ctx *mc, const json_t *req)
{
	char msg[512] = "";
	struct ebuf e = {msg, sizeof(msg)};
	const struct cmd *c = request_cmd(req, msg, sizeof(msg));
	json_t *res;

	if (c == NULL)
		return with_id(error_reply(msg), req);
	res = c->fn(mc, req, &e);
	if (res == NULL)
		return with_id(error_reply(msg[0] ? msg : "out of memory"), req);
	return with_id(json_pack("{sbso}", "ok", 1, "result", res), req);
}

/* The request of one line, or NULL with the error reply in *rep. */
static json_t *
parse_line(const char *line, size_t len, json_t **rep)
{
	json_error_t je;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	char msg[300];

	if (req == NULL) {
		snprintf(msg, sizeof(msg), "request is not valid JSON: %s (at character %d)", je.text,
			 je.position);
		*rep = error_reply(msg);
	}
	return req;
}

json_t *
pf_mgmt_handle_line(struct pf_mgmt_ctx *mc, const char *line, size_t len)
{
	json_t *rep = NULL, *req = parse_line(line, len, &rep);

	if (req == NULL)
		return rep;
	rep = pf_mgmt_handle(mc, req);
	json_decref(req);
	return rep;
}

/* ------------------------------------------------------------------------------------ */
/* The socket                                                                           */

/* A routes listing being written a slice per poll: the reply is the same text as
 * json_dumps(pf_mgmt_handle(req), JSON_COMPACT), without building it whole. */
struct stream {
	struct rt *v;      /* the context's routes, sorted, at the time of the request */
	size_t n, next;    /* write v[next .. n) */
	uint16_t ctx;
	char *tail;        /* what closes the reply: "]}" [",\"id\":" ID] "}\n" */
};

struct client {
	int fd;            /* -1: free slot */
	char *in;          /* [IN_CAP] */
	size_t in_len;
	char *out;         /* one reply line being written, NULL when none */
	size_t out_len, out_off;
	uint64_t last_ms;  /* last progress (accept, bytes read or written) */
	bool eof;          /* the client will send nothing more */
	bool closing;      /* send what is pending, then close */
	struct stream *st; /* a routes listing in progress */
};

struct pf_mgmt {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct pf_mgmt_ctx *ctx;
	unsigned idle_ms, stall_ms;
	unsigned n_clients;
	unsigned heavy_left;   /* table walks still allowed in this poll */
	unsigned first;        /* client served first in this poll (rotates: fairness) */
	struct client cl[PF_MGMT_MAX_CLIENTS];
	struct pollfd pfd[1 + PF_MGMT_MAX_CLIENTS];
	int pfd_cl[1 + PF_MGMT_MAX_CLIENTS];   /* pfd[i] belongs to cl[pfd_cl[i]] */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* An existing socket file: does a process still accept on it? */
static int
probe_live(const struct sockaddr_un *sa)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	r = connect(s, (const struct sockaddr *)sa, sizeof(*sa));
	r = r == 0 ? 1 : (errno == EAGAIN || errno == EINPROGRESS) ? 1
		       : (errno == ECONNREFUSED || errno == ENOENT) ? 0 : -errno;
	close(s);
	return r;
}

static int
make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

struct pf_mgmt *
pf_mgmt_open(const char *path, struct pf_mgmt_ctx *ctx, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct pf_mgmt *m;
	struct stat st;
	mode_t old;
	int r;

	if (path == NULL || path[0] == '\0' || ctx == NULL || ctx->cfg == NULL || ctx->t == NULL) {
		errf(err, errlen, "no path, or no tables to answer from");
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errf(err, errlen, "path longer than %zu bytes", sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errf(err, errlen, "exists and is not a socket; refusing to replace it");
			return NULL;
		}
		r = probe_live(&sa);
		if (r > 0) {
			errf(err, errlen, "in use by a running process (another peerfwd?)");
			return NULL;
		}
		if (r < 0) {
			errf(err, errlen, "cannot tell whether it is in use: %s", strerror(-r));
			return NULL;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			errf(err, errlen, "cannot remove the stale socket: %s", strerror(errno));
			return NULL;
		}
	} else if (errno != ENOENT) {
		errf(err, errlen, "%s", strerror(errno));
		return NULL;
	} else if ((r = make_parent(path)) < 0) {
		errf(err, errlen, "cannot create its directory: %s", strerror(-r));
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < PF_MGMT_MAX_CLIENTS; i++)
		m->cl[i].fd = -1;
	m->ctx = ctx;
	m->idle_ms = PF_MGMT_IDLE_TIMEOUT_MS;
	m->stall_ms = PF_MGMT_STALL_TIMEOUT_MS;
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0) {
		errf(err, errlen, "socket: %s", strerror(errno));
		free(m);
		return NULL;
	}
	/* never accessible to others, not even between bind and chmod */
	old = umask(0117);
	r = bind(m->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		errf(err, errlen, "bind: %s", strerror(errno));
		goto fail;
	}
	if (chmod(path, 0660) < 0 || lstat(path, &st) < 0) {
		errf(err, errlen, "chmod: %s", strerror(errno));
		unlink(path);
		goto fail;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	if (listen(m->fd, PF_MGMT_MAX_CLIENTS) < 0) {
		errf(err, errlen, "listen: %s", strerror(errno));
		unlink(path);
		goto fail;
	}
	return m;
fail:
	close(m->fd);
	free(m);
	return NULL;
}

void
pf_mgmt_set_timeouts(struct pf_mgmt *m, unsigned idle_ms, unsigned stall_ms)
{
	if (m == NULL)
		return;
	if (idle_ms)
		m->idle_ms = idle_ms;
	if (stall_ms)
		m->stall_ms = stall_ms;
}

unsigned
pf_mgmt_clients(const struct pf_mgmt *m)
{
	return m ? m->n_clients : 0;
}

static void
stream_free(struct stream *st)
{
	if (st == NULL)
		return;
	free(st->v);
	free(st->tail);
	free(st);
}

static void
client_drop(struct pf_mgmt *m, struct client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	stream_free(c->st);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	m->n_clients--;
}

/* Write what is pending; false when the client is gone. */
static bool
client_flush(struct client *c, uint64_t now)
{
	while (c->out != NULL && c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		c->out_off += (size_t)w;
		c->last_ms = now;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return true;
}

static void
client_reply(struct client *c, json_t *rep)
{
	static const char nomem[] = "{\"ok\": false, \"error\": \"out of memory\"}\n";
	char *s = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
	size_t n = s ? strlen(s) : 0;

	json_decref(rep);
	if (s != NULL && n > PF_MGMT_MAX_REPLY) {
		char msg[200];

		free(s);
		snprintf(msg, sizeof(msg), "the reply (%zu bytes) exceeds the limit of %u bytes; ask "
			 "for less (a smaller \"limit\" or a \"family\")", n, PF_MGMT_MAX_REPLY);
		rep = error_reply(msg);
		s = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
		json_decref(rep);
		n = s ? strlen(s) : 0;
	}
	if (s != NULL) {
		char *t = realloc(s, n + 2);

		if (t == NULL) {
			free(s);
			s = NULL;
		} else {
			s = t;
			s[n++] = '\n';
			s[n] = '\0';
		}
	}
	if (s == NULL) {
		s = strdup(nomem);
		n = s ? strlen(s) : 0;
		if (s == NULL)
			c->closing = true;
	}
	c->out = s;
	c->out_len = n;
	c->out_off = 0;
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t n, cap;
	bool oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *t;

		while (cap < b->n + n + 1)
			cap *= 2;
		t = realloc(b->s, cap);
		if (t == NULL) {
			b->oom = true;
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_json(struct sbuf *b, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s == NULL)
		b->oom = true;
	else
		sb_add(b, s, strlen(s));
	free(s);
}

/* Start writing a routes reply (or queue the error reply). */
static void
stream_start(struct pf_mgmt *m, struct client *c, const json_t *req)
{
	char msg[512] = "", num[64];
	struct ebuf e = {msg, sizeof(msg)};
	struct routes_req rr;
	struct sbuf head = {0}, tail = {0};
	const json_t *id = json_object_get(req, "id");
	json_t *name;

	if (routes_prepare(m->ctx, req, &rr, &e) < 0) {
		client_reply(c, with_id(error_reply(msg), req));
		return;
	}
	name = json_string(m->ctx->t->ctx[rr.ctx].name);
	sb_str(&head, "{\"ok\":true,\"result\":{\"context\":");
	sb_json(&head, name);
	json_decref(name);
	snprintf(num, sizeof(num), ",\"total\":%zu,\"truncated\":%s,\"routes\":[", rr.wc.n,
		 rr.limit < rr.wc.n ? "true" : "false");
	sb_str(&head, num);
	sb_str(&tail, "]}");
	if (id != NULL) {
		sb_str(&tail, ",\"id\":");
		sb_json(&tail, id);
	}
	sb_str(&tail, "}\n");
	c->st = calloc(1, sizeof(*c->st));
	if (head.oom || tail.oom || c->st == NULL) {
		free(head.s);
		free(tail.s);
		free(rr.wc.v);
		free(c->st);
		c->st = NULL;
		client_reply(c, with_id(error_reply("out of memory"), req));
		return;
	}
	c->st->v = rr.wc.v;
	c->st->n = rr.limit;
	c->st->ctx = rr.ctx;
	c->st->tail = tail.s;
	c->out = head.s;
	c->out_len = head.n;
	c->out_off = 0;
}

/* The next slice of routes (and the end of the reply after the last one). */
static void
stream_fill(struct pf_mgmt *m, struct client *c)
{
	struct stream *st = c->st;
	struct sbuf b = {0};

	for (size_t k = 0; k < STREAM_ROUTES_PER_SLICE && st->next < st->n; k++, st->next++) {
		json_t *r = route_json_rt(m->ctx, st->ctx, &st->v[st->next]);

		if (st->next > 0)
			sb_str(&b, ",");
		sb_json(&b, r);
		json_decref(r);
	}
	if (st->next == st->n) {
		sb_str(&b, st->tail);
		stream_free(st);
		c->st = NULL;
	}
	if (b.oom) {
		/* the reply is cut: nothing sensible can follow on this connection */
		free(b.s);
		c->closing = true;
		return;
	}
	c->out = b.s;
	c->out_len = b.n;
	c->out_off = 0;
}

/* Answer one request line; false when it must wait for the next poll (it walks tables and
 * this poll already did: a burst of such requests must not hold the control thread). */
static bool
client_request(struct pf_mgmt *m, struct client *c, const char *line, size_t len)
{
	char msg[512] = "";
	json_t *rep = NULL, *req = parse_line(line, len, &rep);
	const struct cmd *cmd;

	if (req == NULL) {
		client_reply(c, rep);
		return true;
	}
	cmd = request_cmd(req, msg, sizeof(msg));
	if (cmd != NULL && cmd->heavy) {
		if (m->heavy_left == 0) {
			json_decref(req);
			return false;
		}
		m->heavy_left--;
	}
	if (cmd != NULL && cmd->fn == cmd_routes)
		stream_start(m, c, req); /* may be long: written a slice per poll */
	else if (cmd == NULL)
		client_reply(c, with_id(error_reply(msg), req));
	else
		client_reply(c, pf_mgmt_handle(m->ctx, req));
	json_decref(req);
	return true;
}

/* The next complete line as a request; false when there is none. */
static bool
client_next_line(struct pf_mgmt *m, struct client *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	size_t len, used;

	if (nl == NULL) {
		if (c->in_len >= IN_CAP) {
			char msg[100];

			snprintf(msg, sizeof(msg), "request line longer than %u bytes",
				 PF_MGMT_MAX_REQUEST);
			client_reply(c, error_reply(msg));
			c->closing = true; /* no way to find the next request boundary */
			return true;
		}
		if (!c->eof || c->in_len == 0)
			return false;
		/* the last request may lack its newline */
		len = used = c->in_len;
	} else {
		len = (size_t)(nl - c->in);
		used = len + 1;
	}
	if (len > 0 && c->in[len - 1] == '\r')
		len--;
	/* empty and blank lines are ignored */
	if (!blank(c->in, len) && !client_request(m, c, c->in, len))
		return false;
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return true;
}

/* Write and answer what can be without waiting; false when the client is gone or done. */
static bool
client_serve(struct pf_mgmt *m, struct client *c, uint64_t now)
{
	for (unsigned k = 0; k < LINES_PER_POLL && !c->closing && c->out == NULL; k++) {
		bool slice = c->st != NULL;

		if (slice)
			stream_fill(m, c);
		else if (!client_next_line(m, c))
			break;
		if (!client_flush(c, now))
			return false;
		if (slice)
			break; /* one slice of a listing per client per poll */
	}
	if (c->out == NULL && c->st == NULL && (c->closing || (c->eof && c->in_len == 0)))
		return false;
	return true;
}

/* One client's turn: write, read, answer, time out (re = poll's revents). */
static void
client_step(struct pf_mgmt *m, struct client *c, short re, uint64_t now)
{
	if (re & (POLLNVAL | POLLERR)) {
		client_drop(m, c);
		return;
	}
	if ((re & POLLOUT) && !client_flush(c, now)) {
		client_drop(m, c);
		return;
	}
	/* POLLHUP: read to the end; what was sent before the hang-up is still answered (a
	 * reply that cannot be delivered then drops the client) */
	if ((re & (POLLIN | POLLHUP)) && !c->eof && !c->closing && c->in_len < IN_CAP) {
		ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, MSG_DONTWAIT);

		if (r > 0) {
			c->in_len += (size_t)r;
			c->last_ms = now;
		} else if (r == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			client_drop(m, c);
			return;
		}
	}
	if (!client_serve(m, c, now)) {
		client_drop(m, c);
		return;
	}
	/* a stalled reader or an idle connection holds a slot for nothing */
	if (now - c->last_ms > (c->out ? m->stall_ms : m->idle_ms))
		client_drop(m, c);
}

static void
client_accept(struct pf_mgmt *m, uint64_t now)
{
	for (unsigned k = 0; k < ACCEPTS_PER_POLL; k++) {
		int fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0)
			return; /* EAGAIN, or an error on a connection that vanished */
		for (unsigned i = 0; i < PF_MGMT_MAX_CLIENTS && c == NULL; i++)
			if (m->cl[i].fd < 0)
				c = &m->cl[i];
		if (c != NULL)
			c->in = malloc(IN_CAP);
		if (c == NULL || c->in == NULL) {
			static const char busy[] = "{\"ok\": false, \"error\": \"too many management "
						   "clients; try again later\"}\n";
			ssize_t w = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);

			(void)w;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->out = NULL;
		c->out_len = c->out_off = 0;
		c->eof = c->closing = false;
		c->last_ms = now;
		m->n_clients++;
		/* the request is often there already: answer it now, not one loop later */
		client_step(m, c, POLLIN, now);
	}
}

void
pf_mgmt_poll(struct pf_mgmt *m)
{
	unsigned n = 0;
	uint64_t now;

	if (m == NULL)
		return;
	m->pfd[n].fd = m->fd;
	m->pfd[n].events = POLLIN;
	m->pfd_cl[n++] = -1;
	for (unsigned i = 0; i < PF_MGMT_MAX_CLIENTS; i++) {
		struct client *c = &m->cl[i];

		if (c->fd < 0)
			continue;
		m->pfd[n].fd = c->fd;
		m->pfd[n].events = (c->out ? POLLOUT : 0) |
				   (!c->eof && !c->closing && c->in_len < IN_CAP ? POLLIN : 0);
		m->pfd_cl[n++] = (int)i;
	}
	if (poll(m->pfd, n, 0) < 0)
		return;
	now = now_ms();
	m->heavy_left = 1;
	/* who goes first rotates, so that no client keeps the table walks to itself */
	m->first = n > 1 ? (m->first + 1) % (n - 1) : 0;
	for (unsigned k = 0; k + 1 < n; k++) {
		unsigned p = 1 + (m->first + k) % (n - 1);

		client_step(m, &m->cl[m->pfd_cl[p]], m->pfd[p].revents, now);
	}
	if (m->pfd[0].revents & POLLIN)
		client_accept(m, now);
}

void
pf_mgmt_close(struct pf_mgmt *m)
{
	struct stat st;

	if (m == NULL)
		return;
	for (unsigned i = 0; i < PF_MGMT_MAX_CLIENTS; i++)
		client_drop(m, &m->cl[i]);
	close(m->fd);
	/* remove the socket file only if it is still the one we created */
	if (lstat(m->path, &st) == 0 && st.st_dev == m->dev && st.st_ino == m->ino)
		unlink(m->path);
	free(m);
}
