/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The applier (applier.h): the control thread's route table. For every (context, prefix)
 * it keeps what each source said (configuration, peerctl, ExaBGP, FPM); the best source
 * (that order) is what the FIB holds. Feed routes pass the context's policy first.
 * Next-hop sets are resolved once to dataplane next-hop objects and cached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ring.h>

#include "control/applier.h"
#include "control/applier_priv.h"
#include "control/control.h"

static const char *const reject_names[PF_REJECT_MAX] = {
#define X(n, d) #n,
	PF_REJECT_REASONS(X)
#undef X
};

static const char *const reject_descr[PF_REJECT_MAX] = {
#define X(n, d) d,
	PF_REJECT_REASONS(X)
#undef X
};

const char *
pf_route_source_name(enum pf_route_source s)
{
	static const char *const n[PF_SRC_MAX] = {"static", "cli", "exabgp", "fpm"};

	return s < PF_SRC_MAX ? n[s] : "?";
}

const char *
pf_route_op_name(enum pf_route_op op)
{
	switch (op) {
	case PF_RT_ADD: return "add";
	case PF_RT_DEL: return "del";
	case PF_RT_PEER_DOWN: return "peer-down";
	case PF_RT_EOR: return "eor";
	case PF_RT_SYNC_BEGIN: return "sync-begin";
	case PF_RT_SYNC_END: return "sync-end";
	}
	return "?";
}

_Static_assert(PF_ECMP_MAX == PF_RT_MAX_NH, "an ECMP next hop holds every member of a route");

/* ---- hashing ---- */

static uint64_t
fnv1a(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t
route_hash(uint16_t ctx, uint8_t family, uint8_t len, const uint8_t *prefix)
{
	uint8_t k[4] = {ctx & 0xff, ctx >> 8, family, len};

	return fnv1a(prefix, family == 4 ? 4 : 16, fnv1a(k, 4, 0xcbf29ce484222325ull));
}

static int
grow_index(uint32_t **idx, uint32_t *mask, uint32_t want)
{
	uint32_t size = *mask + 1;

	while (size < 2 * want)
		size <<= 1;
	if (size == *mask + 1 && *idx)
		return 0;
	free(*idx);
	*idx = malloc(size * sizeof(uint32_t));
	if (*idx == NULL)
		return -ENOMEM;
	memset(*idx, 0xff, size * sizeof(uint32_t));
	*mask = size - 1;
	return 1; /* caller re-inserts */
}

/* ---- routes ---- */

static bool
route_match(const struct pf_rib_route *r, uint16_t ctx, uint8_t family, uint8_t len,
	    const uint8_t *prefix)
{
	return r->ctx == ctx && r->family == family && r->len == len &&
	       memcmp(r->prefix, prefix, family == 4 ? 4 : 16) == 0;
}

static uint32_t
route_find(const struct pf_applier *a, uint16_t ctx, uint8_t family, uint8_t len,
	   const uint8_t *prefix)
{
	uint32_t i = route_hash(ctx, family, len, prefix) & a->rmask;

	if (a->ridx == NULL)
		return UINT32_MAX;
	for (;; i = (i + 1) & a->rmask) {
		uint32_t e = a->ridx[i];

		if (e == UINT32_MAX)
			return UINT32_MAX;
		if (route_match(&a->routes[e], ctx, family, len, prefix))
			return e;
	}
}

static void
route_index_put(struct pf_applier *a, uint32_t e)
{
	const struct pf_rib_route *r = &a->routes[e];
	uint32_t i = route_hash(r->ctx, r->family, r->len, r->prefix) & a->rmask;

	while (a->ridx[i] != UINT32_MAX)
		i = (i + 1) & a->rmask;
	a->ridx[i] = e;
}

static int
route_new(struct pf_applier *a, uint16_t ctx, uint8_t family, uint8_t len,
	  const uint8_t *prefix, uint32_t *out)
{
	struct pf_rib_route *r;
	uint32_t e;

	if (a->n_routes - a->n_free_routes + 1 > (a->rmask + 1) / 2 || a->ridx == NULL) {
		int g = grow_index(&a->ridx, &a->rmask, a->n_routes + 1024);

		if (g < 0)
			return g;
		for (uint32_t k = 0; k < a->n_routes; k++)
			if (a->routes[k].family)
				route_index_put(a, k);
	}
	if (a->free_route != UINT32_MAX) {
		e = a->free_route;
		a->free_route = a->routes[e].src_nh[0]; /* free list threads through src_nh[0] */
		a->n_free_routes--;
	} else {
		if (a->n_routes == a->cap_routes) {
			uint32_t cap = a->cap_routes ? a->cap_routes * 2 : 4096;
			struct pf_rib_route *nr = realloc(a->routes, cap * sizeof(*nr));

			if (nr == NULL)
				return -ENOMEM;
			a->routes = nr;
			a->cap_routes = cap;
		}
		e = a->n_routes++;
	}
	r = &a->routes[e];
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->family = family;
	r->len = len;
	memcpy(r->prefix, prefix, family == 4 ? 4 : 16);
	route_index_put(a, e);
	*out = e;
	return 0;
}

/* Remove an entry from the open-addressing index (backward-shift deletion). */
static void
route_delete(struct pf_applier *a, uint32_t e)
{
	struct pf_rib_route *r = &a->routes[e];
	uint32_t i = route_hash(r->ctx, r->family, r->len, r->prefix) & a->rmask;

	while (a->ridx[i] != e)
		i = (i + 1) & a->rmask;
	for (;;) {
		uint32_t j = i, home;

		a->ridx[i] = UINT32_MAX;
		for (;;) {
			const struct pf_rib_route *q;

			j = (j + 1) & a->rmask;
			if (a->ridx[j] == UINT32_MAX)
				goto out;
			q = &a->routes[a->ridx[j]];
			home = route_hash(q->ctx, q->family, q->len, q->prefix) & a->rmask;
			/* can the entry at j move to the hole at i? */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		a->ridx[i] = a->ridx[j];
		i = j;
	}
out:
	r->family = 0;
	r->src_nh[0] = a->free_route;
	a->free_route = e;
	a->n_free_routes++;
}

/* ---- next-hop sets ---- */


static uint64_t
nhset_hash(const struct pf_nhset_key *k)
{
	return fnv1a(k, sizeof(*k), 0xcbf29ce484222325ull);
}

static int
addr_cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct pf_addr));
}

/* Resolve a message's next hops in its context to one dataplane next-hop index. */
static int
resolve(struct pf_applier *a, const struct pf_route_msg *m, uint32_t *out)
{
	struct pf_nhset_key k;
	uint32_t i, members[PF_RT_MAX_NH];
	unsigned n = 0;
	int r;

	memset(&k, 0, sizeof(k));
	k.ctx = m->ctx;
	if (m->flags & PF_RT_F_BLACKHOLE) {
		*out = a->nh_drop;
		return 0;
	}
	k.n = RTE_MIN(m->n_nh, PF_RT_MAX_NH);
	for (unsigned j = 0; j < k.n; j++) {
		k.nh[j].family = m->nh[j].family;
		memcpy(k.nh[j].addr, m->nh[j].addr, m->nh[j].family == 4 ? 4 : 16);
	}
	/* the same set in another order is the same ECMP group */
	qsort(k.nh, k.n, sizeof(k.nh[0]), addr_cmp);
	if (k.n == 0)
		return -ENOENT;
	i = nhset_hash(&k) & a->smask;
	for (; a->sets[i].used; i = (i + 1) & a->smask)
		if (memcmp(&a->sets[i].key, &k, sizeof(k)) == 0) {
			*out = a->sets[i].nh;
			return 0;
		}
	for (unsigned j = 0; j < k.n; j++) {
		uint32_t nh;

		if (j > 0 && memcmp(&k.nh[j], &k.nh[j - 1], sizeof(k.nh[j])) == 0)
			continue; /* duplicate member */
		r = pf_build_resolve(a->b, m->ctx, &k.nh[j], &nh);
		if (r < 0)
			return r;
		members[n++] = nh;
	}
	if (n == 1) {
		*out = members[0];
	} else {
		struct pf_nexthop g;

		memset(&g, 0, sizeof(g));
		g.type = PF_NH_ECMP;
		g.n_ecmp = n;
		memcpy(g.ecmp, members, n * sizeof(members[0]));
		r = pf_build_nh(a->b, &g, out);
		if (r < 0)
			return r;
	}
	/* cache; the table only grows with distinct next-hop sets, which are few */
	if (a->n_sets + 1 > (a->smask + 1) / 2) {
		uint32_t size = (a->smask + 1) * 2;
		struct pf_nhset *ns = calloc(size, sizeof(*ns));

		if (ns == NULL)
			return 0; /* resolved all the same; just not cached */
		for (uint32_t j = 0; j <= a->smask; j++) {
			uint32_t p;

			if (!a->sets[j].used)
				continue;
			p = nhset_hash(&a->sets[j].key) & (size - 1);
			while (ns[p].used)
				p = (p + 1) & (size - 1);
			ns[p] = a->sets[j];
		}
		free(a->sets);
		a->sets = ns;
		a->smask = size - 1;
		i = nhset_hash(&k) & a->smask;
		while (a->sets[i].used)
			i = (i + 1) & a->smask;
	}
	a->sets[i].used = 1;
	a->sets[i].key = k;
	a->sets[i].nh = *out;
	a->n_sets++;
	return 0;
}

/* ---- policy ---- */

static bool
is_feed(uint8_t source)
{
	return source == PF_SRC_EXABGP || source == PF_SRC_FPM;
}

static int
policy_check(struct pf_applier *a, const struct pf_route_msg *m, bool is_new)
{
	const struct pf_context_conf *cc = a->b->ctx_conf[m->ctx];
	struct pf_prefix px;
	const struct pf_link_conf *links[2];

	if (!is_feed(m->source) || cc == NULL)
		return -1; /* operator routes and the core context: no policy */
	memset(&px, 0, sizeof(px));
	px.family = m->family;
	px.len = m->len;
	memcpy(px.addr, m->prefix, m->family == 4 ? 4 : 16);
	if (m->len == 0)
		return cc->allow_default_route ? -1 : PF_REJECT_default_route;
	if (m->len > (m->family == 4 ? cc->policy.max_len4 : cc->policy.max_len6))
		return PF_REJECT_too_specific;
	if (cc->kind != PF_CTX_PRIVATE && pf_prefix_bogon(&px) != NULL)
		return PF_REJECT_bogon;
	links[0] = &cc->primary;
	links[1] = &cc->secondary;
	for (unsigned l = 0; l < 2; l++) {
		const struct pf_prefix *sn = m->family == 4 ? &links[l]->subnet4
							    : &links[l]->subnet6;
		if (links[l]->present && sn->family == m->family && pf_prefix_overlap(sn, &px))
			return PF_REJECT_peering_overlap;
	}
	if (is_new) {
		uint32_t have = a->ctx_feed_routes[m->ctx][m->family == 6];
		uint32_t max = m->family == 4 ? cc->policy.max_prefixes4 : cc->policy.max_prefixes6;

		if (have >= max) {
			/* like BGP max-prefix with "restart" off: keep what we have, refuse more */
			if (!a->ctx_alarm[m->ctx]) {
				a->ctx_alarm[m->ctx] = 1;
				fprintf(stderr, "peerfwd: context '%s': IPv%d prefix limit %u reached; "
					"further routes are rejected (alarm)\n", cc->name, m->family,
					max);
			}
			a->max_prefix_alarms++;
			return PF_REJECT_max_prefixes;
		}
	}
	return -1;
}

/* ---- applying ---- */

/* Neighbors are few (one per peering link): a list is enough. */
static uint16_t
peer_index(struct pf_applier *a, const struct pf_addr *p)
{
	struct pf_addr k;
	struct pf_addr *np;

	memset(&k, 0, sizeof(k));
	k.family = p->family;
	memcpy(k.addr, p->addr, p->family == 6 ? 16 : 4);
	for (uint32_t i = 0; i < a->n_peers; i++)
		if (memcmp(&a->peers[i], &k, sizeof(k)) == 0)
			return (uint16_t)i;
	if (a->n_peers == UINT16_MAX)
		return UINT16_MAX;
	np = realloc(a->peers, (a->n_peers + 1) * sizeof(*np));
	if (np == NULL)
		return UINT16_MAX;
	a->peers = np;
	a->peers[a->n_peers] = k;
	return (uint16_t)a->n_peers++;
}

static int
reject(struct pf_applier *a, enum pf_reject why, char *err, size_t errlen)
{
	a->rejected[why]++;
	if (err)
		snprintf(err, errlen, "%s: %s", reject_names[why], reject_descr[why]);
	switch (why) {
	case PF_REJECT_no_memory: return -ENOMEM;
	case PF_REJECT_not_found: return -ENOENT;
	default: return -EINVAL;
	}
}

/* Make the FIB hold the best source's next hop for route e (or nothing). */
static int
install_best(struct pf_applier *a, uint32_t e)
{
	struct pf_rib_route *r = &a->routes[e];
	uint32_t best = 0;
	int rc = 0;

	for (unsigned s = 0; s < PF_SRC_MAX && best == 0; s++)
		best = r->src_nh[s];
	if (best == r->installed)
		return 0;
	if (best) {
		if (r->family == 4) {
			uint32_t p;

			memcpy(&p, r->prefix, 4);
			rc = fib4_add(a->t->fib, r->ctx, rte_be_to_cpu_32(p), r->len, best);
		} else {
			rc = fib6_add(a->t->fib, r->ctx, r->prefix, r->len, best);
		}
	} else {
		if (r->family == 4) {
			uint32_t p;

			memcpy(&p, r->prefix, 4);
			rc = fib4_del(a->t->fib, r->ctx, rte_be_to_cpu_32(p), r->len);
		} else {
			rc = fib6_del(a->t->fib, r->ctx, r->prefix, r->len);
		}
	}
	if (rc < 0 && rc != -ENOENT)
		return rc;
	r->installed = best;
	return 0;
}

static void
count_feed(struct pf_applier *a, const struct pf_rib_route *r, uint8_t source, int delta)
{
	if (is_feed(source))
		a->ctx_feed_routes[r->ctx][r->family == 6] += delta;
}

/* Drop source s from route e; removes the entry when nobody holds it any more. */
static int
withdraw(struct pf_applier *a, uint32_t e, uint8_t s)
{
	struct pf_rib_route *r = &a->routes[e];
	int rc;

	if (r->src_nh[s] == 0)
		return -ENOENT;
	r->src_nh[s] = 0;
	r->stale &= ~(1u << s);
	count_feed(a, r, s, -1);
	if (r->ctx < a->t->n_ctx && is_feed(s) && a->ctx_alarm[r->ctx])
		a->ctx_alarm[r->ctx] = 0; /* below the limit again: the next hit logs again */
	rc = install_best(a, e);
	if (rc == 0 && r->installed == 0)
		route_delete(a, e);
	return rc;
}

static int
apply_add(struct pf_applier *a, const struct pf_route_msg *m, char *err, size_t errlen)
{
	uint32_t e = route_find(a, m->ctx, m->family, m->len, m->prefix), nh;
	bool is_new = e == UINT32_MAX || a->routes[e].src_nh[m->source] == 0;
	int why, rc;

	why = policy_check(a, m, is_new);
	if (why >= 0)
		return reject(a, why, err, errlen);
	rc = resolve(a, m, &nh);
	if (rc == -ENOMEM || rc == -ENOSPC)
		return reject(a, PF_REJECT_no_memory, err, errlen);
	if (rc < 0)
		return reject(a, PF_REJECT_nh_unresolvable, err, errlen);
	if (e == UINT32_MAX) {
		if (route_new(a, m->ctx, m->family, m->len, m->prefix, &e) < 0)
			return reject(a, PF_REJECT_no_memory, err, errlen);
	}
	if (is_new)
		count_feed(a, &a->routes[e], m->source, +1);
	a->routes[e].src_nh[m->source] = nh;
	a->routes[e].stale &= ~(1u << m->source);
	if (m->source == PF_SRC_EXABGP)
		a->routes[e].peer = peer_index(a, &m->peer);
	rc = install_best(a, e);
	if (rc < 0) {
		/* the FIB could not take it: forget this source's route, keep the rest */
		a->routes[e].src_nh[m->source] = 0;
		count_feed(a, &a->routes[e], m->source, -1);
		if (a->routes[e].installed == 0)
			route_delete(a, e);
		return reject(a, PF_REJECT_no_memory, err, errlen);
	}
	return 0;
}

int
pf_applier_apply(struct pf_applier *a, const struct pf_route_msg *m, char *err, size_t errlen)
{
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (m->source >= PF_SRC_MAX)
		return reject(a, PF_REJECT_bad_context, err, errlen);
	switch (m->op) {
	case PF_RT_ADD:
	case PF_RT_DEL:
		if (m->ctx >= a->t->n_ctx)
			return reject(a, PF_REJECT_bad_context, err, errlen);
		if ((m->family != 4 && m->family != 6) || m->len > (m->family == 4 ? 32 : 128))
			return reject(a, PF_REJECT_bad_context, err, errlen);
		if (m->op == PF_RT_ADD) {
			rc = apply_add(a, m, err, errlen);
		} else {
			uint32_t e = route_find(a, m->ctx, m->family, m->len, m->prefix);

			rc = e == UINT32_MAX ? -ENOENT : withdraw(a, e, m->source);
			if (rc == -ENOENT)
				return reject(a, PF_REJECT_not_found, err, errlen);
		}
		break;
	case PF_RT_PEER_DOWN:
		/* every route this source learned from that neighbor goes */
		for (uint32_t e = 0; e < a->n_routes; e++) {
			struct pf_rib_route *r = &a->routes[e];

			if (r->family && r->src_nh[m->source] &&
			    (m->source != PF_SRC_EXABGP || r->peer == peer_index(a, &m->peer)))
				withdraw(a, e, m->source);
		}
		a->peer_downs++;
		break;
	case PF_RT_EOR:
		a->eors++;
		break;
	case PF_RT_SYNC_BEGIN:
		for (uint32_t e = 0; e < a->n_routes; e++)
			if (a->routes[e].family && a->routes[e].src_nh[m->source])
				a->routes[e].stale |= 1u << m->source;
		a->syncs++;
		break;
	case PF_RT_SYNC_END:
		/* mark-and-sweep: what was not resent is gone; what was resent never blinked */
		for (uint32_t e = 0; e < a->n_routes; e++)
			if (a->routes[e].family && (a->routes[e].stale & (1u << m->source))) {
				withdraw(a, e, m->source);
				a->swept++;
			}
		break;
	default:
		return reject(a, PF_REJECT_bad_context, err, errlen);
	}
	if (rc == 0)
		a->applied++;
	return rc;
}

unsigned
pf_applier_poll(struct pf_applier *a, unsigned max)
{
	struct pf_route_msg msgs[64];
	unsigned total = 0;

	if (a->ring == NULL)
		return 0;
	while (total < max) {
		unsigned avail = 0, n;

		n = rte_ring_dequeue_burst_elem(a->ring, msgs, sizeof(msgs[0]), RTE_DIM(msgs),
						&avail);
		if (n == 0)
			break;
		if (n + avail > a->ring_hwm)
			a->ring_hwm = n + avail;
		for (unsigned i = 0; i < n; i++)
			pf_applier_apply(a, &msgs[i], NULL, 0);
		total += n;
	}
	a->dequeued += total;
	return total;
}

/* Every route the configuration put in the FIB becomes a "static" source entry, so a
 * feed's route for the same prefix neither replaces it nor, when withdrawn, removes it. */
static int
seed_cb(void *arg, int family, const uint8_t *prefix, uint8_t len, uint32_t nh)
{
	struct pf_applier *a = arg;
	uint32_t e;

	if (route_new(a, a->seed_ctx, family, len, prefix, &e) < 0)
		return -ENOMEM;
	a->routes[e].src_nh[PF_SRC_STATIC] = nh;
	a->routes[e].installed = nh;
	return 0;
}

struct pf_applier *
pf_applier_create(struct pf_build *b, struct rte_ring *ring)
{
	struct pf_applier *a = calloc(1, sizeof(*a));
	uint32_t n_ctx = b->t->n_ctx;

	if (a == NULL)
		return NULL;
	a->b = b;
	a->t = b->t;
	a->ring = ring;
	a->free_route = UINT32_MAX;
	a->smask = 63;
	a->sets = calloc(a->smask + 1, sizeof(*a->sets));
	a->ctx_feed_routes = calloc(n_ctx, sizeof(*a->ctx_feed_routes));
	a->ctx_alarm = calloc(n_ctx, 1);
	if (a->sets == NULL || a->ctx_feed_routes == NULL || a->ctx_alarm == NULL)
		goto fail;
	for (uint32_t i = 1; i < a->t->n_nh; i++)
		if (a->t->nh[i].type == PF_NH_DROP) {
			a->nh_drop = i;
			break;
		}
	for (a->seed_ctx = 0; a->seed_ctx < n_ctx; a->seed_ctx++)
		if (fib_walk(a->t->fib, a->seed_ctx, seed_cb, a) != 0)
			goto fail;
	return a;
fail:
	pf_applier_free(a);
	return NULL;
}

void
pf_applier_free(struct pf_applier *a)
{
	if (a == NULL)
		return;
	free(a->routes);
	free(a->ridx);
	free(a->sets);
	free(a->ctx_feed_routes);
	free(a->ctx_alarm);
	free(a->peers);
	free(a);
}

int
pf_applier_route_source(const struct pf_applier *a, uint16_t ctx, int family,
			const uint8_t *prefix, uint8_t len)
{
	uint32_t e = route_find(a, ctx, family, len, prefix);

	if (e == UINT32_MAX)
		return -1;
	for (unsigned s = 0; s < PF_SRC_MAX; s++)
		if (a->routes[e].src_nh[s] && a->routes[e].src_nh[s] == a->routes[e].installed)
			return s;
	return -1;
}

json_t *
pf_applier_stats_json(const struct pf_applier *a)
{
	json_t *o = json_object(), *rej = json_object(), *ctx = json_object();
	struct fib_stats fs;

	for (unsigned i = 0; i < PF_REJECT_MAX; i++)
		json_object_set_new(rej, reject_names[i], json_integer((json_int_t)a->rejected[i]));
	for (uint32_t c = 0; c < a->t->n_ctx; c++)
		json_object_set_new(ctx, a->t->ctx[c].name,
			json_pack("{sIsI}", "feed_routes4", (json_int_t)a->ctx_feed_routes[c][0],
				  "feed_routes6", (json_int_t)a->ctx_feed_routes[c][1]));
	fib_get_stats(a->t->fib, &fs);
	json_object_set_new(o, "applied", json_integer((json_int_t)a->applied));
	json_object_set_new(o, "dequeued", json_integer((json_int_t)a->dequeued));
	json_object_set_new(o, "ring_high_water", json_integer((json_int_t)a->ring_hwm));
	json_object_set_new(o, "rejected", rej);
	json_object_set_new(o, "max_prefix_alarms", json_integer((json_int_t)a->max_prefix_alarms));
	json_object_set_new(o, "peer_downs", json_integer((json_int_t)a->peer_downs));
	json_object_set_new(o, "end_of_ribs", json_integer((json_int_t)a->eors));
	json_object_set_new(o, "syncs", json_integer((json_int_t)a->syncs));
	json_object_set_new(o, "swept", json_integer((json_int_t)a->swept));
	json_object_set_new(o, "rib_routes",
			    json_integer((json_int_t)(a->n_routes - a->n_free_routes)));
	json_object_set_new(o, "nexthop_sets", json_integer((json_int_t)a->n_sets));
	json_object_set_new(o, "nexthops", json_integer((json_int_t)a->t->n_nh));
	json_object_set_new(o, "contexts", ctx);
	json_object_set_new(o, "fib", json_pack("{sIsIsIsI}", "routes4", (json_int_t)fs.routes4,
		"routes6", (json_int_t)fs.routes6, "plies", (json_int_t)fs.plies_used,
		"bytes", (json_int_t)fs.bytes));
	json_object_set_new(o, "rib_bytes", json_integer((json_int_t)(
		(uint64_t)a->cap_routes * sizeof(*a->routes) +
		((uint64_t)a->rmask + 1) * sizeof(uint32_t))));
	return o;
}
