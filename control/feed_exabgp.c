/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ExaBGP 4.x adapter: JSON line parser (pure: input line -> route messages + counters) and
 * the Unix-socket reader thread. See feed_exabgp.h for the JSON handled.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_ring.h>

#include "control/feed_exabgp.h"

/* ------------------------------------------------------------------------------------
 * parser
 * ------------------------------------------------------------------------------------ */

struct pctx {
	const struct pf_ctxmap *map;
	struct pf_feed *f;
	pf_exabgp_emit_fn emit;
	void *arg;
	struct pf_addr peer;
	int ctx;
	int stop; /* negative return of emit: stop parsing */
};

/* one (prefix, next hop) of an announcement, before ECMP merging */
struct ann {
	struct pf_prefix pfx;
	struct pf_addr nh;
	unsigned order;
};

#define BAD(p, kind, ...) pf_feed_bad((p)->f, PF_FEED_BAD_##kind, __VA_ARGS__)

static const char *
jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static int
emit(struct pctx *p, const struct pf_route_msg *m)
{
	int r;

	if (p->stop)
		return p->stop;
	r = p->emit(p->arg, m);
	if (r < 0)
		p->stop = r;
	return r;
}

static void
msg_init(struct pctx *p, struct pf_route_msg *m, enum pf_route_op op)
{
	memset(m, 0, sizeof(*m));
	m->op = (uint8_t)op;
	m->source = PF_SRC_EXABGP;
	m->ctx = (uint16_t)p->ctx;
	m->peer = p->peer;
}

/* "ipv4 unicast" -> 4, "ipv6 unicast" -> 6, else 0 */
static int
family_of(const char *name)
{
	if (strcmp(name, "ipv4 unicast") == 0)
		return 4;
	if (strcmp(name, "ipv6 unicast") == 0)
		return 6;
	return 0;
}

/* A prefix string of family fam, network address (host bits zero). 0 or -1 (counted). */
static int
get_prefix(struct pctx *p, const char *s, int fam, struct pf_prefix *out)
{
	char buf[64];

	if (pf_prefix_parse(s, out) != 0) {
		BAD(p, bad_prefix, "'%.60s' is not a prefix", s);
		return -1;
	}
	if (out->family != fam) {
		BAD(p, bad_prefix, "'%s' is not an IPv%d prefix", pf_prefix_fmt(out, buf, sizeof(buf)),
		    fam);
		return -1;
	}
	if (!pf_prefix_is_network(out)) {
		BAD(p, host_bits, "%s has host bits set", pf_prefix_fmt(out, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

/* The prefix string of one NLRI entry: "P/L" (api compact) or {"nlri": "P/L", ...}. */
static const char *
nlri_str(struct pctx *p, const json_t *e)
{
	const json_t *v;

	if (json_is_string(e))
		return json_string_value(e);
	if (!json_is_object(e)) {
		BAD(p, bad_type, "NLRI entry is %s, expected an object or string", jtype(e));
		return NULL;
	}
	v = json_object_get(e, "nlri");
	if (v == NULL) {
		BAD(p, bad_json, "NLRI entry without \"nlri\"");
		return NULL;
	}
	if (!json_is_string(v)) {
		BAD(p, bad_type, "\"nlri\" is %s, expected a string", jtype(v));
		return NULL;
	}
	return json_string_value(v);
}

static void
do_withdraw(struct pctx *p, const json_t *wd)
{
	const char *fname;
	json_t *list;

	json_object_foreach((json_t *)wd, fname, list) {
		int fam = family_of(fname);

		if (fam == 0) {
			BAD(p, unknown_family, "withdraw of family '%.40s'", fname);
			continue;
		}
		if (json_is_array(list)) {
			size_t i;
			json_t *e;

			json_array_foreach(list, i, e) {
				const char *s = nlri_str(p, e);
				struct pf_prefix pfx;
				struct pf_route_msg m;

				if (s == NULL || get_prefix(p, s, fam, &pfx) < 0)
					continue;
				msg_init(p, &m, PF_RT_DEL);
				m.family = (uint8_t)fam;
				m.len = pfx.len;
				memcpy(m.prefix, pfx.addr, 16);
				if (emit(p, &m) < 0)
					return;
			}
		} else if (json_is_object(list)) {
			/* ExaBGP 3.4: { "P/L": {}, ... } */
			const char *s;
			json_t *e;

			json_object_foreach(list, s, e) {
				struct pf_prefix pfx;
				struct pf_route_msg m;

				if (get_prefix(p, s, fam, &pfx) < 0)
					continue;
				msg_init(p, &m, PF_RT_DEL);
				m.family = (uint8_t)fam;
				m.len = pfx.len;
				memcpy(m.prefix, pfx.addr, 16);
				if (emit(p, &m) < 0)
					return;
			}
		} else {
			BAD(p, bad_type, "withdraw '%s' is %s, expected an array", fname, jtype(list));
		}
	}
}

static bool
addr_is_zero(const struct pf_addr *a)
{
	static const uint8_t z[16];

	return memcmp(a->addr, z, a->family == 4 ? 4 : 16) == 0;
}

static bool
addr_is_ll6(const struct pf_addr *a)
{
	return a->family == 6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

static bool
addr_is_mcast(const struct pf_addr *a)
{
	return (a->family == 4 && (a->addr[0] & 0xf0) == 0xe0) ||
	       (a->family == 6 && a->addr[0] == 0xff);
}

static int
ann_cmp(const void *x, const void *y)
{
	const struct ann *a = x, *b = y;
	int c;

	if (a->pfx.len != b->pfx.len)
		return a->pfx.len < b->pfx.len ? -1 : 1;
	c = memcmp(a->pfx.addr, b->pfx.addr, 16);
	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* a merged route and where its prefix first appeared */
struct grp {
	unsigned order;
	unsigned idx;
};

static int
grp_cmp(const void *x, const void *y)
{
	const struct grp *a = x, *b = y;

	return a->order < b->order ? -1 : a->order > b->order;
}

/* Add one (prefix, next hop) to the family's list, growing it. -1 on ENOMEM. */
static int
ann_push(struct ann **v, size_t *n, size_t *cap, const struct ann *a)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct ann *nv = realloc(*v, nc * sizeof(*nv));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *a;
	return 0;
}

/* Collect one announced family into (prefix, next hop) pairs. */
static int
collect_family(struct pctx *p, int fam, const char *fname, const json_t *byhop, struct ann **v,
	       size_t *n, size_t *cap, unsigned *order)
{
	const char *hop;
	json_t *list;

	if (!json_is_object(byhop)) {
		BAD(p, bad_type, "announce '%s' is %s, expected an object", fname, jtype(byhop));
		return 0;
	}
	json_object_foreach((json_t *)byhop, hop, list) {
		struct pf_addr nh;
		bool nh_ok = pf_addr_parse(hop, &nh) == 0 && !addr_is_zero(&nh) &&
			     !addr_is_mcast(&nh);
		size_t cnt, i;
		json_t *e;
		const char *s;

		if (!json_is_array(list) && !json_is_object(list)) {
			BAD(p, bad_type, "next hop '%.60s' maps to %s, expected an array", hop,
			    jtype(list));
			continue;
		}
		cnt = json_is_array(list) ? json_array_size(list) : json_object_size(list);
		if (!nh_ok) {
			/* every NLRI under it is lost: count each */
			for (i = 0; i < cnt; i++)
				BAD(p, bad_nexthop, "next hop '%.60s' (%s)", hop,
				    strcmp(hop, "null") == 0 ? "missing" : "not a unicast address");
			continue;
		}
		if (json_is_array(list)) {
			json_array_foreach(list, i, e) {
				struct ann a;

				s = nlri_str(p, e);
				if (s == NULL || get_prefix(p, s, fam, &a.pfx) < 0)
					continue;
				a.nh = nh;
				a.order = (*order)++;
				if (ann_push(v, n, cap, &a) < 0)
					return -ENOMEM;
			}
		} else {
			/* ExaBGP 3.4: { "P/L": {}, ... } */
			json_object_foreach(list, s, e) {
				struct ann a;

				if (get_prefix(p, s, fam, &a.pfx) < 0)
					continue;
				a.nh = nh;
				a.order = (*order)++;
				if (ann_push(v, n, cap, &a) < 0)
					return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Merge the pairs of one family by prefix (ECMP) and emit one ADD per prefix, in order of
 * first appearance. */
static int
emit_family(struct pctx *p, int fam, struct ann *v, size_t n)
{
	struct pf_route_msg *out;
	struct grp *g;
	size_t n_out = 0, i = 0;
	char buf[64];

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), ann_cmp);
	out = malloc(n * sizeof(*out));
	g = malloc(n * sizeof(*g));
	if (out == NULL || g == NULL) {
		free(out);
		free(g);
		return -ENOMEM;
	}
	while (i < n) {
		size_t j = i + 1, k;
		bool has_global = false, too_many = false;
		struct pf_route_msg *m = &out[n_out];

		while (j < n && v[j].pfx.len == v[i].pfx.len &&
		       memcmp(v[j].pfx.addr, v[i].pfx.addr, 16) == 0)
			j++;
		for (k = i; k < j; k++)
			if (!addr_is_ll6(&v[k].nh))
				has_global = true;
		msg_init(p, m, PF_RT_ADD);
		m->family = (uint8_t)fam;
		m->len = v[i].pfx.len;
		memcpy(m->prefix, v[i].pfx.addr, 16);
		for (k = i; k < j; k++) {
			bool dup = false;

			/* link-local next hops come with a global one on direct links (RFC 2545):
			 * a route's next hop must be resolvable in the context: keep the global */
			if (has_global && addr_is_ll6(&v[k].nh))
				continue;
			for (unsigned x = 0; x < m->n_nh; x++)
				if (pf_addr_equal(&m->nh[x], &v[k].nh))
					dup = true;
			if (dup)
				continue;
			if (m->n_nh == PF_RT_MAX_NH) {
				too_many = true;
				continue;
			}
			m->nh[m->n_nh++] = v[k].nh;
		}
		if (too_many)
			BAD(p, too_many_nexthops, "%s has more than %d next hops",
			    pf_prefix_fmt(&v[i].pfx, buf, sizeof(buf)), PF_RT_MAX_NH);
		if (!has_global) {
			BAD(p, unsupported, "%s has only IPv6 link-local next hops",
			    pf_prefix_fmt(&v[i].pfx, buf, sizeof(buf)));
		} else {
			g[n_out] = (struct grp){v[i].order, (unsigned)n_out};
			n_out++;
		}
		i = j;
	}
	qsort(g, n_out, sizeof(*g), grp_cmp);
	for (i = 0; i < n_out; i++)
		if (emit(p, &out[g[i].idx]) < 0)
			break;
	free(out);
	free(g);
	return 0;
}

static int
do_announce(struct pctx *p, const json_t *an)
{
	const char *fname;
	json_t *byhop;
	int r = 0;

	json_object_foreach((json_t *)an, fname, byhop) {
		int fam = family_of(fname);
		struct ann *v = NULL;
		size_t n = 0, cap = 0;
		unsigned order = 0;

		if (fam == 0) {
			BAD(p, unknown_family, "announce of family '%.40s'", fname);
			continue;
		}
		r = collect_family(p, fam, fname, byhop, &v, &n, &cap, &order);
		if (r == 0)
			r = emit_family(p, fam, v, n);
		free(v);
		if (r < 0 || p->stop)
			break;
	}
	return r;
}

/* neighbor object and its address -> p->peer, p->ctx. 0 or -EINVAL (counted). */
static int
get_neighbor(struct pctx *p, const json_t *root, json_t **nbr_out)
{
	json_t *nbr = json_object_get(root, "neighbor"), *addr, *peer;
	char buf[64];

	if (nbr == NULL) {
		BAD(p, bad_json, "no \"neighbor\"");
		return -EINVAL;
	}
	if (!json_is_object(nbr)) {
		BAD(p, bad_type, "\"neighbor\" is %s, expected an object", jtype(nbr));
		return -EINVAL;
	}
	addr = json_object_get(nbr, "address");
	if (addr != NULL && !json_is_object(addr)) {
		BAD(p, bad_type, "neighbor \"address\" is %s, expected an object", jtype(addr));
		return -EINVAL;
	}
	/* 4.x/3.4: neighbor.address.peer; older: neighbor.ip */
	peer = addr ? json_object_get(addr, "peer") : json_object_get(nbr, "ip");
	if (peer == NULL) {
		BAD(p, bad_json, "no neighbor.address.peer");
		return -EINVAL;
	}
	if (!json_is_string(peer)) {
		BAD(p, bad_type, "neighbor.address.peer is %s, expected a string", jtype(peer));
		return -EINVAL;
	}
	if (pf_addr_parse(json_string_value(peer), &p->peer) != 0) {
		BAD(p, bad_json, "neighbor address '%.60s' is not an address",
		    json_string_value(peer));
		return -EINVAL;
	}
	p->ctx = pf_ctxmap_by_neighbor(p->map, &p->peer);
	if (p->ctx < 0) {
		BAD(p, unknown_neighbor, "%s", pf_addr_fmt(&p->peer, buf, sizeof(buf)));
		return -EINVAL;
	}
	*nbr_out = nbr;
	return 0;
}

static int
do_eor(struct pctx *p, const json_t *eor, struct pf_exabgp_info *info)
{
	const json_t *afi, *safi;
	struct pf_route_msg m;
	int fam = 0;

	if (!json_is_object(eor)) {
		BAD(p, bad_type, "\"eor\" is %s, expected an object", jtype(eor));
		return -EINVAL;
	}
	afi = json_object_get(eor, "afi");
	safi = json_object_get(eor, "safi");
	if (afi == NULL || safi == NULL) {
		BAD(p, bad_json, "\"eor\" without afi/safi");
		return -EINVAL;
	}
	if (!json_is_string(afi) || !json_is_string(safi)) {
		BAD(p, bad_type, "eor afi/safi are %s/%s, expected strings", jtype(afi), jtype(safi));
		return -EINVAL;
	}
	info->ev = PF_EXA_EV_ROUTES;
	if (strcmp(json_string_value(safi), "unicast") == 0) {
		if (strcmp(json_string_value(afi), "ipv4") == 0)
			fam = 4;
		else if (strcmp(json_string_value(afi), "ipv6") == 0)
			fam = 6;
	}
	if (fam == 0) {
		BAD(p, unknown_family, "end-of-RIB for %.20s %.20s", json_string_value(afi),
		    json_string_value(safi));
		return 0;
	}
	msg_init(p, &m, PF_RT_EOR);
	m.family = (uint8_t)fam;
	emit(p, &m);
	return 0;
}

static int
do_update(struct pctx *p, const json_t *root, struct pf_exabgp_info *info)
{
	json_t *nbr = NULL, *dir, *msg, *upd, *an, *wd, *eor;
	int r;

	if (get_neighbor(p, root, &nbr) < 0)
		return -EINVAL;
	dir = json_object_get(nbr, "direction");
	if (dir != NULL && !json_is_string(dir)) {
		BAD(p, bad_type, "neighbor.direction is %s, expected a string", jtype(dir));
		return -EINVAL;
	}
	if (dir != NULL && strcmp(json_string_value(dir), "receive") != 0)
		return 0; /* what ExaBGP sent (api `send { update; }`), not routes for us */
	msg = json_object_get(nbr, "message");
	if (msg == NULL) {
		BAD(p, bad_json, "update without neighbor.message");
		return -EINVAL;
	}
	if (!json_is_object(msg)) {
		BAD(p, bad_type, "neighbor.message is %s, expected an object", jtype(msg));
		return -EINVAL;
	}
	eor = json_object_get(msg, "eor");
	if (eor != NULL)
		return do_eor(p, eor, info);
	upd = json_object_get(msg, "update");
	if (upd == NULL) {
		/* api `receive { packets; }`: raw header/body, nothing parsed */
		if (json_object_get(msg, "category") || json_object_get(msg, "body"))
			return 0;
		BAD(p, bad_json, "neighbor.message has neither \"update\" nor \"eor\"");
		return -EINVAL;
	}
	if (!json_is_object(upd)) {
		BAD(p, bad_type, "message.update is %s, expected an object", jtype(upd));
		return -EINVAL;
	}
	an = json_object_get(upd, "announce");
	wd = json_object_get(upd, "withdraw");
	if (an != NULL && !json_is_object(an)) {
		BAD(p, bad_type, "update.announce is %s, expected an object", jtype(an));
		an = NULL;
	}
	if (wd != NULL && !json_is_object(wd)) {
		BAD(p, bad_type, "update.withdraw is %s, expected an object", jtype(wd));
		wd = NULL;
	}
	info->ev = PF_EXA_EV_ROUTES;
	/* a prefix both withdrawn and announced in one update ends up announced */
	if (wd != NULL)
		do_withdraw(p, wd);
	if (an != NULL && !p->stop) {
		r = do_announce(p, an);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
do_state(struct pctx *p, const json_t *root, struct pf_exabgp_info *info)
{
	json_t *nbr = NULL, *st;
	const char *s;
	struct pf_route_msg m;

	if (get_neighbor(p, root, &nbr) < 0)
		return -EINVAL;
	st = json_object_get(nbr, "state");
	if (st == NULL) {
		BAD(p, bad_json, "state message without neighbor.state");
		return -EINVAL;
	}
	if (!json_is_string(st)) {
		BAD(p, bad_type, "neighbor.state is %s, expected a string", jtype(st));
		return -EINVAL;
	}
	s = json_string_value(st);
	if (strcmp(s, "down") == 0) {
		info->ev = PF_EXA_EV_DOWN;
		msg_init(p, &m, PF_RT_PEER_DOWN);
		emit(p, &m);
	} else if (strcmp(s, "up") == 0) {
		info->ev = PF_EXA_EV_UP;
	} else if (strcmp(s, "connected") == 0) {
		info->ev = PF_EXA_EV_CONNECTED;
	} else {
		BAD(p, bad_version, "unknown neighbor state '%.40s'", s);
		return -EINVAL;
	}
	return 0;
}

/* ExaBGP message types that carry no routes for us. */
static const char *const ignored_types[] = {
	"open", "keepalive", "refresh", "operational", "negotiated", "fsm", "signal",
	"notification", "packets", "route-refresh", NULL,
};

int
pf_exabgp_parse_cb(const char *line, size_t len, const struct pf_ctxmap *map,
		   struct pf_feed *f, pf_exabgp_emit_fn emitfn, void *arg,
		   struct pf_exabgp_info *info)
{
	struct pctx p = {.map = map, .f = f, .emit = emitfn, .arg = arg, .ctx = -1};
	struct pf_exabgp_info dummy;
	json_error_t jerr;
	json_t *root, *v;
	const char *type;
	size_t i;
	int r = 0;

	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	info->ctx = -1;
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
			break;
	if (i == len)
		return 0; /* blank line */
	root = json_loadb(line, len, 0, &jerr);
	if (root == NULL) {
		pf_feed_bad(f, PF_FEED_BAD_bad_json, "%s (column %d)", jerr.text, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		BAD(&p, bad_json, "top level is %s, expected an object", jtype(root));
		r = -EINVAL;
		goto out;
	}
	v = json_object_get(root, "exabgp");
	if (v != NULL) {
		const char *ver;

		if (!json_is_string(v)) {
			BAD(&p, bad_type, "\"exabgp\" is %s, expected a version string", jtype(v));
			r = -EINVAL;
			goto out;
		}
		ver = json_string_value(v);
		/* JSON API 3.4 ("3.4.x") and 4.x/5.x ("4.0.1"): same structure for what we use */
		if (!(ver[0] >= '3' && ver[0] <= '5' && (ver[1] == '.' || ver[1] == '\0'))) {
			BAD(&p, bad_version, "ExaBGP JSON version '%.20s'", ver);
			r = -EINVAL;
			goto out;
		}
	}
	v = json_object_get(root, "type");
	if (v == NULL) {
		BAD(&p, bad_json, "no \"type\"");
		r = -EINVAL;
		goto out;
	}
	if (!json_is_string(v)) {
		BAD(&p, bad_type, "\"type\" is %s, expected a string", jtype(v));
		r = -EINVAL;
		goto out;
	}
	type = json_string_value(v);
	if (strcmp(type, "update") == 0) {
		r = do_update(&p, root, info);
	} else if (strcmp(type, "state") == 0) {
		r = do_state(&p, root, info);
	} else if (strcmp(type, "notification") == 0 &&
		   json_is_string(json_object_get(root, "notification")) &&
		   strcmp(json_string_value(json_object_get(root, "notification")), "shutdown") ==
			   0) {
		info->ev = PF_EXA_EV_SHUTDOWN;
	} else {
		for (i = 0; ignored_types[i]; i++)
			if (strcmp(type, ignored_types[i]) == 0)
				break;
		if (ignored_types[i] == NULL) {
			BAD(&p, bad_version, "unsupported message type '%.40s'", type);
			r = -EINVAL;
		}
	}
	if (p.peer.family)
		info->peer = p.peer;
	info->ctx = p.ctx;
	if (r == 0 && p.stop)
		r = p.stop;
out:
	json_decref(root);
	return r;
}

struct arr_out {
	struct pf_route_msg *out;
	unsigned max, n;
};

static int
emit_arr(void *arg, const struct pf_route_msg *m)
{
	struct arr_out *a = arg;

	if (a->n == a->max)
		return -ENOSPC;
	a->out[a->n++] = *m;
	return 0;
}

int
pf_exabgp_parse(const char *line, size_t len, const struct pf_ctxmap *map, struct pf_feed *f,
		struct pf_route_msg *out, unsigned max, unsigned *n_out)
{
	struct arr_out a = {out, max, 0};
	int r = pf_exabgp_parse_cb(line, len, map, f, emit_arr, &a, NULL);

	if (n_out)
		*n_out = a.n;
	return r;
}

/* ------------------------------------------------------------------------------------
 * socket thread
 * ------------------------------------------------------------------------------------ */

#define BATCH 256
#define READ_CHUNK 65536

struct nbr_ent {
	struct pf_addr peer;
	int ctx;
};

struct conn {
	int fd;
	unsigned id;
	char *buf;        /* partial line */
	size_t len, cap;
	bool skipping;    /* inside an over-long line: drop up to its newline */
	struct nbr_ent *nbr;
	size_t n_nbr, cap_nbr;
};

struct pf_exabgp {
	struct pf_feed *f;
	const struct pf_ctxmap *map;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd;
	int wake[2];
	bool stop;        /* set by pf_exabgp_stop (atomic) */
	bool dead;        /* pf_feed_submit said -ESHUTDOWN */
	unsigned next_id;
	struct conn conn[PF_EXABGP_MAX_CONN];
	unsigned n_conn;
	struct pf_route_msg batch[BATCH];
	unsigned n_batch;
	struct conn *cur;  /* connection whose line is being parsed */
	char rbuf[READ_CHUNK];
	struct pf_exabgp *next;
};

static pthread_mutex_t inst_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pf_exabgp *inst_list;

static bool
quitting(const struct pf_exabgp *st)
{
	return st->dead || (st->f->quit && *st->f->quit);
}

static int
flush(struct pf_exabgp *st)
{
	int r = 0;

	if (st->n_batch && !st->dead) {
		r = pf_feed_submit(st->f, st->batch, st->n_batch);
		if (r < 0)
			st->dead = true;
	}
	st->n_batch = 0;
	return r;
}

static bool
nbr_has(const struct conn *c, const struct pf_addr *peer)
{
	for (size_t i = 0; i < c->n_nbr; i++)
		if (pf_addr_equal(&c->nbr[i].peer, peer))
			return true;
	return false;
}

static int
emit_batch(void *arg, const struct pf_route_msg *m)
{
	struct pf_exabgp *st = arg;

	if (st->dead)
		return -ESHUTDOWN;
	/* ExaBGP says "down" after every failed connection attempt (connected, down, ...):
	 * a neighbor that sent nothing on this connection has nothing to withdraw here */
	if (m->op == PF_RT_PEER_DOWN && st->cur != NULL && !nbr_has(st->cur, &m->peer))
		return 0;
	st->batch[st->n_batch++] = *m;
	if (st->n_batch == BATCH)
		return flush(st);
	return 0;
}

static void
update_sessions(struct pf_exabgp *st)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < st->n_conn; i++)
		n += (uint32_t)st->conn[i].n_nbr;
	__atomic_store_n(&st->f->sessions, n, __ATOMIC_RELAXED);
}

static void
nbr_add(struct conn *c, const struct pf_exabgp_info *in)
{
	if (nbr_has(c, &in->peer))
		return;
	if (c->n_nbr == c->cap_nbr) {
		size_t nc = c->cap_nbr ? c->cap_nbr * 2 : 8;
		struct nbr_ent *nv = realloc(c->nbr, nc * sizeof(*nv));

		if (nv == NULL)
			return; /* only bookkeeping: the routes were submitted */
		c->nbr = nv;
		c->cap_nbr = nc;
	}
	c->nbr[c->n_nbr++] = (struct nbr_ent){in->peer, in->ctx};
}

static void
nbr_del(struct conn *c, const struct pf_addr *peer)
{
	for (size_t i = 0; i < c->n_nbr; i++)
		if (pf_addr_equal(&c->nbr[i].peer, peer)) {
			c->nbr[i] = c->nbr[--c->n_nbr];
			return;
		}
}

/* Every neighbor this connection reported goes down. */
static void
conn_all_down(struct pf_exabgp *st, struct conn *c)
{
	for (size_t i = 0; i < c->n_nbr; i++) {
		struct pf_route_msg m;

		memset(&m, 0, sizeof(m));
		m.op = PF_RT_PEER_DOWN;
		m.source = PF_SRC_EXABGP;
		m.ctx = (uint16_t)c->nbr[i].ctx;
		m.peer = c->nbr[i].peer;
		if (emit_batch(st, &m) < 0)
			break;
	}
	c->n_nbr = 0;
	flush(st);
	update_sessions(st);
}

static void
process_line(struct pf_exabgp *st, struct conn *c, const char *line, size_t len)
{
	struct pf_exabgp_info info;

	__atomic_fetch_add(&st->f->msgs_in, 1, __ATOMIC_RELAXED);
	st->cur = c;
	pf_exabgp_parse_cb(line, len, st->map, st->f, emit_batch, st, &info);
	st->cur = NULL;
	switch (info.ev) {
	case PF_EXA_EV_ROUTES:
	case PF_EXA_EV_UP:
		nbr_add(c, &info);
		break;
	case PF_EXA_EV_DOWN:
		nbr_del(c, &info.peer);
		break;
	case PF_EXA_EV_SHUTDOWN:
		fprintf(stderr, "peerfwd: feed %s: connection %u: ExaBGP shuts down, withdrawing "
			"the routes of %zu neighbor(s)\n", st->f->name, c->id, c->n_nbr);
		conn_all_down(st, c);
		break;
	default:
		break;
	}
	update_sessions(st);
}

static int
buf_append(struct conn *c, const char *d, size_t n)
{
	if (c->len + n > c->cap) {
		size_t nc = c->cap ? c->cap : 4096;
		char *nb;

		while (nc < c->len + n)
			nc *= 2;
		nb = realloc(c->buf, nc);
		if (nb == NULL)
			return -ENOMEM;
		c->buf = nb;
		c->cap = nc;
	}
	memcpy(c->buf + c->len, d, n);
	c->len += n;
	return 0;
}

/* Split what was read into lines; keep a partial last line. */
static void
consume(struct pf_exabgp *st, struct conn *c, const char *d, size_t n)
{
	while (n > 0 && !st->dead) {
		const char *nl = memchr(d, '\n', n);
		size_t seg = nl ? (size_t)(nl - d) : n, adv = seg + (nl ? 1 : 0);

		if (c->skipping) {
			if (nl)
				c->skipping = false;
		} else if (c->len + seg > PF_EXABGP_MAX_LINE) {
			pf_feed_bad(st->f, PF_FEED_BAD_bad_json, "connection %u: line longer than %u "
				    "bytes", c->id, PF_EXABGP_MAX_LINE);
			c->len = 0;
			c->skipping = nl == NULL;
		} else if (nl && c->len == 0) {
			process_line(st, c, d, seg);
		} else if (buf_append(c, d, seg) < 0) {
			pf_feed_bad(st->f, PF_FEED_BAD_bad_json, "connection %u: out of memory for "
				    "a line", c->id);
			c->len = 0;
			c->skipping = nl == NULL;
		} else if (nl) {
			process_line(st, c, c->buf, c->len);
			c->len = 0;
		}
		d += adv;
		n -= adv;
	}
	/* do not keep a big buffer after a big line */
	if (c->len == 0 && c->cap > 4 * READ_CHUNK) {
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
}

static void
conn_close(struct pf_exabgp *st, unsigned i, const char *why)
{
	struct conn *c = &st->conn[i];

	if (c->len > 0 && !c->skipping)
		pf_feed_bad(st->f, PF_FEED_BAD_truncated, "connection %u closed inside a line "
			    "(%zu bytes)", c->id, c->len);
	fprintf(stderr, "peerfwd: feed %s: connection %u closed (%s); withdrawing the routes of "
		"%zu neighbor(s)\n", st->f->name, c->id, why, c->n_nbr);
	if (!quitting(st))
		conn_all_down(st, c);
	close(c->fd);
	free(c->buf);
	free(c->nbr);
	st->conn[i] = st->conn[--st->n_conn];
	update_sessions(st);
}

static void
do_accept(struct pf_exabgp *st)
{
	for (int k = 0; k < 16; k++) {
		int fd = accept4(st->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct conn *c;

		if (fd < 0)
			return; /* EAGAIN, or transient errors: poll again */
		if (st->n_conn == PF_EXABGP_MAX_CONN) {
			fprintf(stderr, "peerfwd: feed %s: refusing a connection: already %d\n",
				st->f->name, PF_EXABGP_MAX_CONN);
			close(fd);
			continue;
		}
		c = &st->conn[st->n_conn++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->id = ++st->next_id;
		fprintf(stderr, "peerfwd: feed %s: connection %u from ExaBGP\n", st->f->name, c->id);
	}
}

static void *
exabgp_thread(void *arg)
{
	struct pf_exabgp *st = arg;
	struct pollfd pfd[2 + PF_EXABGP_MAX_CONN];

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE) && !quitting(st)) {
		unsigned nc = st->n_conn;
		int r;

		pfd[0] = (struct pollfd){.fd = st->lfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = st->wake[0], .events = POLLIN};
		for (unsigned i = 0; i < nc; i++)
			pfd[2 + i] = (struct pollfd){.fd = st->conn[i].fd, .events = POLLIN};
		r = poll(pfd, 2 + nc, 100);
		if (r <= 0)
			continue;
		/* connections first, from the last, so that closing one (swap with the last)
		 * does not skip another */
		for (unsigned i = nc; i-- > 0;) {
			struct conn *c = &st->conn[i];
			ssize_t n;

			if (!(pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(c->fd, st->rbuf, sizeof(st->rbuf));
			if (n > 0) {
				consume(st, c, st->rbuf, (size_t)n);
				flush(st);
			} else if (n == 0) {
				conn_close(st, i, "end of stream");
			} else if (errno != EAGAIN && errno != EINTR) {
				conn_close(st, i, strerror(errno));
			}
			if (st->dead)
				break;
		}
		if (pfd[0].revents & POLLIN)
			do_accept(st);
	}
	flush(st);
	/* stopped: the neighbors' routes go unless the whole program is stopping */
	while (st->n_conn > 0)
		conn_close(st, st->n_conn - 1, quitting(st) ? "peerfwd stops" : "feed stopped");
	return NULL;
}

static int
listen_unix(const char *path, int *out)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (lstat(path, &sb) == 0) {
		int probe;

		if (!S_ISSOCK(sb.st_mode))
			return -EEXIST;
		/* a socket: someone listening on it, or left over from a crash? */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return -errno;
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return -EADDRINUSE;
		}
		close(probe);
		if (unlink(path) != 0 && errno != ENOENT)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0660) != 0 ||
	    listen(fd, PF_EXABGP_MAX_CONN) != 0) {
		int e = -errno;

		close(fd);
		unlink(path);
		return e;
	}
	*out = fd;
	return 0;
}

int
pf_exabgp_start(struct pf_feed *f, const char *socket_path, const struct pf_ctxmap *map,
		pthread_t *th)
{
	struct pf_exabgp *st;
	int r;

	if (f == NULL || map == NULL || th == NULL || f->ring == NULL)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->f = f;
	st->map = map;
	st->lfd = -1;
	if (pipe2(st->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(st);
		return -errno;
	}
	r = listen_unix(socket_path, &st->lfd);
	if (r < 0)
		goto fail;
	snprintf(st->path, sizeof(st->path), "%s", socket_path);
	__atomic_store_n(&f->sessions, 0, __ATOMIC_RELAXED);
	pthread_mutex_lock(&inst_lock);
	st->next = inst_list;
	inst_list = st;
	pthread_mutex_unlock(&inst_lock);
	r = -pthread_create(th, NULL, exabgp_thread, st);
	if (r < 0) {
		pthread_mutex_lock(&inst_lock);
		inst_list = st->next;
		pthread_mutex_unlock(&inst_lock);
		close(st->lfd);
		unlink(st->path);
		goto fail;
	}
	pthread_setname_np(*th, "pf-exabgp");
	return 0;
fail:
	close(st->wake[0]);
	close(st->wake[1]);
	free(st);
	return r;
}

int
pf_exabgp_stop(struct pf_feed *f, pthread_t th)
{
	struct pf_exabgp **pp, *st = NULL;

	pthread_mutex_lock(&inst_lock);
	for (pp = &inst_list; *pp; pp = &(*pp)->next)
		if ((*pp)->f == f) {
			st = *pp;
			*pp = st->next;
			break;
		}
	pthread_mutex_unlock(&inst_lock);
	if (st == NULL)
		return -ENOENT;
	__atomic_store_n(&st->stop, true, __ATOMIC_RELEASE);
	if (write(st->wake[1], "x", 1) < 0) {
		/* the 100 ms poll timeout sees the flag anyway */
	}
	pthread_join(th, NULL);
	close(st->lfd);
	unlink(st->path);
	close(st->wake[0]);
	close(st->wake[1]);
	__atomic_store_n(&f->sessions, 0, __ATOMIC_RELAXED);
	free(st);
	return 0;
}
