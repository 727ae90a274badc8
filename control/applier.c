/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The applier (applier.h): the control thread's route table. For every (context, prefix)
 * it keeps what each source said (configuration, peerctl, ExaBGP, FPM); the best source
 * (that order) is what the FIB holds. A feed source may hold the same prefix from several
 * BGP neighbors (a peering's primary and secondary link): the oldest is used, the others
 * wait as standby paths (applier_priv.h). Feed routes pass the context's policy first.
 * Next-hop sets are resolved once to dataplane next-hop objects and cached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_byteorder.h>
#include <rte_prefetch.h>
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

	return (unsigned)s < PF_SRC_MAX ? n[s] : "?";
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
_Static_assert(PF_SRC_MAX <= 8, "stale holds one bit per source");

#define NONE32 UINT32_MAX
#define RIDX_MIN 4096u     /* initial route index slots */
#define PATH_NONE 0u

/* ---- hashing ---- */

static inline uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static inline uint32_t
route_hash(uint16_t ctx, uint8_t family, uint8_t len, const uint8_t *prefix)
{
	uint64_t meta = (uint64_t)ctx << 16 | (uint64_t)family << 8 | len, w0, w1 = 0;

	if (family == 4) {
		uint32_t x;

		memcpy(&x, prefix, 4);
		w0 = x;
	} else {
		memcpy(&w0, prefix, 8);
		memcpy(&w1, prefix + 8, 8);
	}
	return (uint32_t)fmix64(w0 ^ fmix64(w1 ^ (meta * 0x9e3779b97f4a7c15ull)));
}

static inline bool
is_feed(unsigned source)
{
	return source == PF_SRC_EXABGP || source == PF_SRC_FPM;
}

static inline unsigned
alen(unsigned family)
{
	return family == 4 ? 4 : 16;
}

/* ---- big arrays: anonymous mappings with transparent huge pages (fewer TLB misses on
 * the random accesses of a million-route table), grown with mremap (no copy) ---- */

static void *
big_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void *
big_realloc(void *old, size_t old_bytes, size_t bytes)
{
	void *p;

	if (old == NULL)
		return big_alloc(bytes);
	p = mremap(old, old_bytes, bytes, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void
big_free(void *p, size_t bytes)
{
	if (p != NULL)
		munmap(p, bytes);
}

/* ---- route index ---- */

static inline bool
route_match(const struct pf_rib_route *r, uint16_t ctx, uint8_t family, uint8_t len,
	    const uint8_t *prefix)
{
	return r->ctx == ctx && r->family == family && r->len == len &&
	       memcmp(r->prefix, prefix, alen(family)) == 0;
}

static uint32_t
route_find_h(const struct pf_applier *a, uint32_t h, uint16_t ctx, uint8_t family, uint8_t len,
	     const uint8_t *prefix)
{
	if (a->ridx == NULL)
		return NONE32;
	for (uint32_t i = h & a->rmask;; i = (i + 1) & a->rmask) {
		const struct pf_ridx_slot *s = &a->ridx[i];

		if (s->e == NONE32)
			return NONE32;
		if (s->h == h && route_match(&a->routes[s->e], ctx, family, len, prefix))
			return s->e;
	}
}

static uint32_t
route_find(const struct pf_applier *a, uint16_t ctx, uint8_t family, uint8_t len,
	   const uint8_t *prefix)
{
	return route_find_h(a, route_hash(ctx, family, len, prefix), ctx, family, len, prefix);
}

static void
ridx_put(struct pf_ridx_slot *idx, uint32_t mask, uint32_t h, uint32_t e)
{
	uint32_t i = h & mask;

	while (idx[i].e != NONE32)
		i = (i + 1) & mask;
	idx[i].h = h;
	idx[i].e = e;
}

/* Make room for one more live route: the index stays at most 5/8 full. */
static int ridx_grow(struct pf_applier *a);

static inline int
ridx_reserve(struct pf_applier *a)
{
	uint32_t live = a->n_routes - a->n_free_routes;

	if (a->ridx != NULL && (uint64_t)(live + 1) * 8 <= (uint64_t)(a->rmask + 1) * 5)
		return 0;
	return ridx_grow(a);
}

static int __attribute__((noinline))
ridx_grow(struct pf_applier *a)
{
	uint32_t size, old;
	struct pf_ridx_slot *n;

	old = a->ridx ? a->rmask + 1 : 0;
	size = old ? old * 2 : RIDX_MIN;
	if (size == 0 || size > (1u << 31))
		return -ENOMEM;
	n = big_alloc((size_t)size * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	memset(n, 0xff, (size_t)size * sizeof(*n));
	for (uint32_t i = 0; i < old; i++)
		if (a->ridx[i].e != NONE32)
			ridx_put(n, size - 1, a->ridx[i].h, a->ridx[i].e);
	big_free(a->ridx, (size_t)old * sizeof(*n));
	a->ridx = n;
	a->rmask = size - 1;
	return 0;
}

/* A new route entry (index already has room: ridx_reserve). */
static int
route_new(struct pf_applier *a, uint32_t h, uint16_t ctx, uint8_t family, uint8_t len,
	  const uint8_t *prefix, uint32_t *out)
{
	struct pf_rib_route *r;
	uint32_t e;
	int rc;

	if ((rc = ridx_reserve(a)) < 0)
		return rc;
	if (a->free_route != NONE32) {
		e = a->free_route;
		a->free_route = a->routes[e].more; /* the free list threads through `more` */
		a->n_free_routes--;
	} else {
		if (a->n_routes == a->cap_routes) {
			uint32_t cap = a->cap_routes ? a->cap_routes * 2 : 4096;
			struct pf_rib_route *nr;

			if (cap <= a->cap_routes)
				return -ENOMEM;
			nr = big_realloc(a->routes, (size_t)a->cap_routes * sizeof(*nr),
					 (size_t)cap * sizeof(*nr));
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
	memcpy(r->prefix, prefix, alen(family));
	ridx_put(a->ridx, a->rmask, h, e);
	*out = e;
	return 0;
}

/* Remove route e from the index (backward-shift deletion) and free its slot. */
static void
route_delete(struct pf_applier *a, uint32_t e)
{
	struct pf_rib_route *r = &a->routes[e];
	uint32_t i = route_hash(r->ctx, r->family, r->len, r->prefix) & a->rmask;

	while (a->ridx[i].e != e)
		i = (i + 1) & a->rmask;
	for (;;) {
		uint32_t j = i, home;

		a->ridx[i].e = NONE32;
		for (;;) {
			j = (j + 1) & a->rmask;
			if (a->ridx[j].e == NONE32)
				goto out;
			home = a->ridx[j].h & a->rmask;
			/* can the entry at j move to the hole at i (home not in (i, j])? */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		a->ridx[i] = a->ridx[j];
		i = j;
	}
out:
	r->family = 0;
	r->more = a->free_route;
	a->free_route = e;
	a->n_free_routes++;
}

/* ---- extra paths ---- */

static uint32_t
path_alloc(struct pf_applier *a)
{
	uint32_t p;

	if (a->free_path != PATH_NONE) {
		p = a->free_path;
		a->free_path = a->paths[p].next;
	} else {
		if (a->n_paths == a->cap_paths) {
			uint32_t cap = a->cap_paths ? a->cap_paths * 2 : 256;
			struct pf_rib_path *np = realloc(a->paths, (size_t)cap * sizeof(*np));

			if (np == NULL || cap <= a->cap_paths) {
				if (np)
					a->paths = np;
				return PATH_NONE;
			}
			a->paths = np;
			a->cap_paths = cap;
			if (a->n_paths == 0)
				a->n_paths = 1; /* index 0 means "none" */
		}
		p = a->n_paths++;
	}
	a->live_paths++;
	memset(&a->paths[p], 0, sizeof(a->paths[p]));
	return p;
}

static void
path_free(struct pf_applier *a, uint32_t p)
{
	a->paths[p].next = a->free_path;
	a->free_path = p;
	a->live_paths--;
}

/* Unlink path p (whose predecessor is prev, PATH_NONE for the head) from route r. */
static void
path_unlink(struct pf_applier *a, struct pf_rib_route *r, uint32_t prev, uint32_t p)
{
	if (prev == PATH_NONE)
		r->more = a->paths[p].next;
	else
		a->paths[prev].next = a->paths[p].next;
	path_free(a, p);
}

static uint32_t
path_find(const struct pf_applier *a, const struct pf_rib_route *r, uint8_t s, uint16_t peer,
	  uint32_t *prev)
{
	uint32_t pv = PATH_NONE;

	for (uint32_t p = r->more; p != PATH_NONE; pv = p, p = a->paths[p].next)
		if (a->paths[p].source == s && a->paths[p].peer == peer) {
			*prev = pv;
			return p;
		}
	return PATH_NONE;
}

/* ---- next-hop sets ---- */

static int
addr_cmp(const struct pf_addr *x, const struct pf_addr *y)
{
	return memcmp(x, y, sizeof(*x));
}

/* The canonical key of a message's next hops: addresses zero-padded, sorted, no
 * duplicates. -EINVAL for an address of no known family, -ENOENT for none at all. */
static int
key_build(const struct pf_route_msg *m, struct pf_nhset_key *k)
{
	unsigned n = RTE_MIN(m->n_nh, PF_RT_MAX_NH), out = 0;

	k->ctx = m->ctx;
	k->flags = 0;
	for (unsigned j = 0; j < n; j++) {
		struct pf_addr x;
		unsigned p;

		if (m->nh[j].family != 4 && m->nh[j].family != 6)
			return -EINVAL;
		memset(&x, 0, sizeof(x));
		x.family = m->nh[j].family;
		memcpy(x.addr, m->nh[j].addr, alen(x.family));
		/* insertion sort, dropping duplicates (at most 8 members) */
		for (p = 0; p < out && addr_cmp(&k->nh[p], &x) < 0; p++)
			;
		if (p < out && addr_cmp(&k->nh[p], &x) == 0)
			continue;
		memmove(&k->nh[p + 1], &k->nh[p], (out - p) * sizeof(x));
		k->nh[p] = x;
		out++;
	}
	k->n = (uint8_t)out;
	return out ? 0 : -ENOENT;
}

static bool
key_equal(const struct pf_nhset_key *x, const struct pf_nhset_key *y)
{
	return x->ctx == y->ctx && x->n == y->n &&
	       memcmp(x->nh, y->nh, x->n * sizeof(x->nh[0])) == 0;
}

static uint32_t
key_hash(const struct pf_nhset_key *k)
{
	uint64_t h = fmix64((uint64_t)k->ctx << 8 | k->n);

	for (unsigned j = 0; j < k->n; j++) {
		uint64_t w[3] = {0, 0, 0};

		memcpy(w, &k->nh[j], sizeof(k->nh[j]) <= sizeof(w) ? sizeof(k->nh[j]) : sizeof(w));
		h = fmix64(h ^ w[0]) ^ fmix64(w[1] + 0x9e3779b97f4a7c15ull) ^ (w[2] * 31);
	}
	return (uint32_t)fmix64(h);
}

static void
set_cache_put(struct pf_applier *a, const struct pf_nhset_key *k, uint32_t h, uint32_t nh)
{
	uint32_t i;

	if ((a->n_sets + 1) * 2 > a->smask + 1) {
		uint32_t size = (a->smask + 1) * 2;
		struct pf_nhset *ns = calloc(size, sizeof(*ns));

		if (ns == NULL)
			return; /* resolved all the same; just not cached */
		for (uint32_t j = 0; j <= a->smask; j++) {
			if (a->sets[j].nh == 0)
				continue;
			for (i = a->sets[j].h & (size - 1); ns[i].nh; i = (i + 1) & (size - 1))
				;
			ns[i] = a->sets[j];
		}
		free(a->sets);
		a->sets = ns;
		a->smask = size - 1;
	}
	for (i = h & a->smask; a->sets[i].nh; i = (i + 1) & a->smask)
		;
	a->sets[i].h = h;
	a->sets[i].nh = nh;
	a->sets[i].key = *k;
	a->n_sets++;
}

/* Resolve a message's next hops in its context to one dataplane next-hop index. */
static int
resolve(struct pf_applier *a, const struct pf_route_msg *m, uint32_t *out)
{
	struct pf_nhset_key k;
	uint32_t members[PF_RT_MAX_NH], h;
	int r;

	if (m->flags & PF_RT_F_BLACKHOLE) {
		if (a->nh_drop == 0)
			return -ENOENT;
		*out = a->nh_drop;
		return 0;
	}
	/* a feed sends one next hop for long runs of routes: compare with the last set
	 * before building a key */
	if (m->n_nh == 1 && a->last_nh && a->last_key.n == 1 && a->last_key.ctx == m->ctx &&
	    a->last_key.nh[0].family == m->nh[0].family &&
	    memcmp(a->last_key.nh[0].addr, m->nh[0].addr, alen(m->nh[0].family)) == 0) {
		*out = a->last_nh;
		return 0;
	}
	if ((r = key_build(m, &k)) < 0)
		return r;
	if (a->last_nh && key_equal(&k, &a->last_key)) {
		*out = a->last_nh;
		return 0;
	}
	h = key_hash(&k);
	for (uint32_t i = h & a->smask; a->sets[i].nh; i = (i + 1) & a->smask)
		if (a->sets[i].h == h && key_equal(&a->sets[i].key, &k)) {
			*out = a->last_nh = a->sets[i].nh;
			a->last_key = k;
			return 0;
		}
	for (unsigned j = 0; j < k.n; j++)
		if ((r = pf_build_resolve(a->b, m->ctx, &k.nh[j], &members[j])) < 0)
			return r;
	if (k.n == 1) {
		*out = members[0];
	} else {
		struct pf_nexthop g;

		memset(&g, 0, sizeof(g));
		g.type = PF_NH_ECMP;
		g.family = a->t->nh[members[0]].family;
		g.ctx = m->ctx;
		g.customer = a->t->nh[members[0]].customer;
		for (unsigned j = 1; j < k.n; j++)
			if (a->t->nh[members[j]].customer != g.customer)
				g.customer = 0xffff; /* billing goes by the member chosen */
		g.n_ecmp = k.n;
		memcpy(g.ecmp, members, k.n * sizeof(members[0]));
		if ((r = pf_build_nh(a->b, &g, out)) < 0)
			return r;
	}
	/* the table only grows with distinct next-hop sets, which are few */
	set_cache_put(a, &k, h, *out);
	a->last_key = k;
	a->last_nh = *out;
	return 0;
}

/* ---- neighbors of feed paths ---- */

static uint32_t
peer_hash(const struct pf_addr *k)
{
	uint64_t w[3] = {0, 0, 0};

	memcpy(w, k, sizeof(*k) <= sizeof(w) ? sizeof(*k) : sizeof(w));
	return (uint32_t)fmix64(w[0] ^ fmix64(w[1] ^ fmix64(w[2])));
}

static void
peer_key(const struct pf_addr *p, struct pf_addr *k)
{
	memset(k, 0, sizeof(*k));
	if (p->family == 4 || p->family == 6) {
		k->family = p->family;
		memcpy(k->addr, p->addr, alen(p->family));
	}
}

/* Index of a known neighbor: 0 for "none" (family 0), -1 when never seen. */
static int
peer_lookup(const struct pf_applier *a, const struct pf_addr *p)
{
	struct pf_addr k;

	peer_key(p, &k);
	if (k.family == 0)
		return 0;
	for (uint32_t i = peer_hash(&k) & a->pmask; a->pidx[i]; i = (i + 1) & a->pmask)
		if (addr_cmp(&a->peers[a->pidx[i]], &k) == 0)
			return a->pidx[i];
	return -1;
}

/* Index of a neighbor, added when new; -1 when the table is full (65535) or no memory. */
static int
peer_index(struct pf_applier *a, const struct pf_addr *p)
{
	struct pf_addr k;
	uint32_t i;
	int pi = peer_lookup(a, p);

	if (pi >= 0)
		return pi;
	if (a->n_peers >= UINT16_MAX)
		return -1;
	if ((a->n_peers + 1) * 2 > a->pmask + 1) {
		uint32_t size = (a->pmask + 1) * 2;
		uint16_t *ni = calloc(size, sizeof(*ni));

		if (ni == NULL)
			return -1;
		for (uint32_t q = 1; q < a->n_peers; q++) {
			for (i = peer_hash(&a->peers[q]) & (size - 1); ni[i]; i = (i + 1) & (size - 1))
				;
			ni[i] = (uint16_t)q;
		}
		free(a->pidx);
		a->pidx = ni;
		a->pmask = size - 1;
	}
	if (a->n_peers == a->cap_peers) {
		uint32_t cap = a->cap_peers * 2;
		struct pf_addr *np = realloc(a->peers, cap * sizeof(*np));

		if (np == NULL)
			return -1;
		a->peers = np;
		a->cap_peers = cap;
	}
	peer_key(p, &k);
	a->peers[a->n_peers] = k;
	for (i = peer_hash(&k) & a->pmask; a->pidx[i]; i = (i + 1) & a->pmask)
		;
	a->pidx[i] = (uint16_t)a->n_peers;
	return (int)a->n_peers++;
}

static uint16_t *
inline_peer(struct pf_rib_route *r, unsigned s)
{
	return is_feed(s) ? &r->feed_peer[s - PF_FEED_SRC_FIRST] : NULL;
}

/* ---- policy ---- */

static inline uint64_t
host_mask64(unsigned len) /* bits of a 64-bit big-endian word beyond len (0..64) */
{
	return len >= 64 ? 0 : ~0ull >> len;
}

static bool
host_bits_clear(const uint8_t *p, unsigned family, unsigned len)
{
	if (family == 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		return (rte_be_to_cpu_32(w) & (uint32_t)host_mask64(len + 32)) == 0;
	} else {
		uint64_t hi, lo;

		memcpy(&hi, p, 8);
		memcpy(&lo, p + 8, 8);
		return (rte_be_to_cpu_64(hi) & host_mask64(len)) == 0 &&
		       (rte_be_to_cpu_64(lo) & host_mask64(len > 64 ? len - 64 : 0)) == 0;
	}
}

/* -1 when the route may be installed, else the reject reason. is_new: the source holds no
 * path for this prefix yet (so it would count against the prefix limit). */
static int
policy_check(struct pf_applier *a, const struct pf_route_msg *m, bool is_new)
{
	const struct pf_context_conf *cc = a->b->ctx_conf[m->ctx];
	unsigned fi = m->family == 6;

	if (!is_feed(m->source) || cc == NULL)
		return -1; /* operator routes and the core context: no policy */
	if (m->len == 0) {
		/* the default route: allowed or not; it overlaps everything, so the bogon and
		 * peering-subnet checks do not apply to it (the connected /30s stay longer) */
		if (!cc->allow_default_route)
			return PF_REJECT_default_route;
	} else {
		struct pf_prefix px;
		const struct pf_link_conf *links[2] = {&cc->primary, &cc->secondary};

		if (m->len > (m->family == 4 ? cc->policy.max_len4 : cc->policy.max_len6))
			return PF_REJECT_too_specific;
		memset(&px, 0, sizeof(px));
		px.family = m->family;
		px.len = m->len;
		memcpy(px.addr, m->prefix, alen(m->family));
		if (cc->kind != PF_CTX_PRIVATE && pf_prefix_bogon(&px) != NULL)
			return PF_REJECT_bogon;
		for (unsigned l = 0; l < 2; l++) {
			const struct pf_prefix *sn = m->family == 4 ? &links[l]->subnet4
								    : &links[l]->subnet6;
			if (links[l]->present && sn->family == m->family && pf_prefix_overlap(sn, &px))
				return PF_REJECT_peering_overlap;
		}
	}
	if (is_new) {
		uint32_t have = a->ctx_feed_routes[m->ctx][fi];
		uint32_t max = m->family == 4 ? cc->policy.max_prefixes4 : cc->policy.max_prefixes6;

		if (have >= max) {
			/* like BGP max-prefix with "restart" off: keep what we have, refuse more;
			 * the alarm is raised (logged, counted) once per crossing */
			if (!(a->ctx_alarm[m->ctx] & (1u << fi))) {
				a->ctx_alarm[m->ctx] |= 1u << fi;
				a->max_prefix_alarms++;
				fprintf(stderr, "peerfwd: context '%s': IPv%d prefix limit %u reached; "
					"further routes are rejected (alarm)\n", cc->name, m->family,
					max);
			}
			return PF_REJECT_max_prefixes;
		}
	}
	return -1;
}

/* ---- applying ---- */

static int
reject(struct pf_applier *a, enum pf_reject why, char *err, size_t errlen, const char *detail)
{
	a->rejected[why]++;
	if (err && errlen)
		snprintf(err, errlen, "%s: %s%s%s", reject_names[why], reject_descr[why],
			 detail ? ": " : "", detail ? detail : "");
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
	int rc;

	for (unsigned s = 0; s < PF_SRC_MAX && best == 0; s++)
		best = r->src_nh[s];
	if (best == r->installed)
		return 0;
	if (r->family == 4) {
		uint32_t p;

		memcpy(&p, r->prefix, 4);
		p = rte_be_to_cpu_32(p);
		rc = best ? fib4_add(a->t->fib, r->ctx, p, r->len, best)
			  : fib4_del(a->t->fib, r->ctx, p, r->len);
	} else {
		rc = best ? fib6_add(a->t->fib, r->ctx, r->prefix, r->len, best)
			  : fib6_del(a->t->fib, r->ctx, r->prefix, r->len);
	}
	if (rc < 0 && !(rc == -ENOENT && best == 0))
		return rc;
	r->installed = best;
	return 0;
}

/* Nobody holds the prefix and the FIB has nothing for it: the entry can go. */
static bool
route_unheld(const struct pf_rib_route *r)
{
	for (unsigned s = 0; s < PF_SRC_MAX; s++)
		if (r->src_nh[s])
			return false;
	return r->installed == 0;
}

static void
count_feed(struct pf_applier *a, const struct pf_rib_route *r, unsigned source, int delta)
{
	unsigned fi = r->family == 6;

	if (!is_feed(source))
		return;
	a->ctx_feed_routes[r->ctx][fi] += delta;
	if (delta < 0)
		a->ctx_alarm[r->ctx] &= ~(1u << fi); /* below the limit again: next hit alarms */
}

/* Source s's inline path of route e goes: its oldest standby path (another neighbor)
 * takes over, or the source no longer has the prefix. The entry is removed when no
 * source holds the prefix any more. */
static int
withdraw_inline(struct pf_applier *a, uint32_t e, unsigned s)
{
	struct pf_rib_route *r = &a->routes[e];
	uint32_t prev = PATH_NONE, p;
	int rc;

	for (p = r->more; p != PATH_NONE; prev = p, p = a->paths[p].next)
		if (a->paths[p].source == s)
			break;
	if (p != PATH_NONE) {
		r->src_nh[s] = a->paths[p].nh;
		*inline_peer(r, s) = a->paths[p].peer;
		r->stale = (uint8_t)((r->stale & ~(1u << s)) | (a->paths[p].stale ? 1u << s : 0));
		path_unlink(a, r, prev, p);
	} else {
		r->src_nh[s] = 0;
		r->stale &= (uint8_t)~(1u << s);
		if (is_feed(s))
			*inline_peer(r, s) = 0;
		count_feed(a, r, s, -1);
	}
	rc = install_best(a, e);
	if (route_unheld(r))
		route_delete(a, e);
	return rc;
}

/* Remove source s's paths of route e from neighbor peer (all neighbors when peer < 0).
 * only_stale: only those not resent since SYNC_BEGIN. Returns how many went. */
static unsigned
withdraw_matching(struct pf_applier *a, uint32_t e, unsigned s, int peer, bool only_stale)
{
	struct pf_rib_route *r = &a->routes[e];
	unsigned n = 0;
	uint32_t prev = PATH_NONE, p = r->more;

	while (p != PATH_NONE) {
		struct pf_rib_path *x = &a->paths[p];
		uint32_t next = x->next;

		if (x->source == s && (peer < 0 || x->peer == peer) && (!only_stale || x->stale)) {
			path_unlink(a, r, prev, p);
			n++;
		} else {
			prev = p;
		}
		p = next;
	}
	if (r->src_nh[s] &&
	    (peer < 0 || !is_feed(s) || *inline_peer(r, s) == peer) &&
	    (!only_stale || (r->stale & (1u << s)))) {
		withdraw_inline(a, e, s);
		n++;
	}
	return n;
}

static int
check_prefix(const struct pf_route_msg *m, char *detail, size_t len)
{
	if (m->family != 4 && m->family != 6) {
		snprintf(detail, len, "address family %u", m->family);
		return -1;
	}
	if (m->len > (m->family == 4 ? 32 : 128)) {
		snprintf(detail, len, "prefix length %u", m->len);
		return -1;
	}
	if (!host_bits_clear(m->prefix, m->family, m->len)) {
		snprintf(detail, len, "host bits set beyond /%u", m->len);
		return -1;
	}
	return 0;
}

static int
apply_add(struct pf_applier *a, const struct pf_route_msg *m, char *err, size_t errlen)
{
	const unsigned s = m->source;
	uint32_t h = route_hash(m->ctx, m->family, m->len, m->prefix);
	uint32_t e = route_find_h(a, h, m->ctx, m->family, m->len, m->prefix), nh;
	struct pf_rib_route *r;
	bool is_new = e == NONE32 || a->routes[e].src_nh[s] == 0;
	int why, rc, pi = 0;

	why = policy_check(a, m, is_new);
	if (why >= 0)
		return reject(a, why, err, errlen, NULL);
	rc = resolve(a, m, &nh);
	if (rc == -ENOMEM || rc == -ENOSPC)
		return reject(a, PF_REJECT_no_memory, err, errlen, NULL);
	if (rc < 0)
		return reject(a, PF_REJECT_nh_unresolvable, err, errlen, NULL);
	if (is_feed(s) && (pi = peer_index(a, &m->peer)) < 0)
		return reject(a, PF_REJECT_no_memory, err, errlen, "too many BGP neighbors");
	if (e == NONE32 && route_new(a, h, m->ctx, m->family, m->len, m->prefix, &e) < 0)
		return reject(a, PF_REJECT_no_memory, err, errlen, NULL);
	r = &a->routes[e];
	if (!is_new && is_feed(s) && *inline_peer(r, s) != pi) {
		/* another neighbor's path for a prefix this feed has: standby (or replaced) */
		uint32_t prev, p = path_find(a, r, (uint8_t)s, (uint16_t)pi, &prev);

		if (p == PATH_NONE) {
			if ((p = path_alloc(a)) == PATH_NONE)
				return reject(a, PF_REJECT_no_memory, err, errlen, NULL);
			a->paths[p].source = (uint8_t)s;
			a->paths[p].peer = (uint16_t)pi;
			/* appended: the oldest standby takes over first */
			if (r->more == PATH_NONE) {
				r->more = p;
			} else {
				uint32_t q = r->more;

				while (a->paths[q].next != PATH_NONE)
					q = a->paths[q].next;
				a->paths[q].next = p;
			}
		}
		a->paths[p].nh = nh;
		a->paths[p].stale = 0;
		return 0;
	}
	{
		uint32_t old_nh = r->src_nh[s];
		uint8_t old_stale = r->stale;

		r->src_nh[s] = nh;
		r->stale &= (uint8_t)~(1u << s);
		if (is_feed(s))
			*inline_peer(r, s) = (uint16_t)pi;
		if (is_new)
			count_feed(a, r, s, +1);
		rc = install_best(a, e);
		if (rc < 0) {
			/* the FIB could not take it: keep what was there before */
			r->src_nh[s] = old_nh;
			r->stale = old_stale;
			if (is_new)
				count_feed(a, r, s, -1);
			if (route_unheld(r))
				route_delete(a, e);
			return reject(a, PF_REJECT_no_memory, err, errlen, strerror(-rc));
		}
	}
	return 0;
}

static int
apply_del(struct pf_applier *a, const struct pf_route_msg *m, char *err, size_t errlen)
{
	const unsigned s = m->source;
	uint32_t e = route_find(a, m->ctx, m->family, m->len, m->prefix), prev, p;
	struct pf_rib_route *r;
	int pi = 0, rc;

	if (e == NONE32 || a->routes[e].src_nh[s] == 0)
		return reject(a, PF_REJECT_not_found, err, errlen, NULL);
	r = &a->routes[e];
	if (is_feed(s)) {
		pi = peer_lookup(a, &m->peer);
		if (pi < 0)
			return reject(a, PF_REJECT_not_found, err, errlen, "unknown neighbor");
		if (*inline_peer(r, s) != pi) {
			p = path_find(a, r, (uint8_t)s, (uint16_t)pi, &prev);
			if (p == PATH_NONE)
				return reject(a, PF_REJECT_not_found, err, errlen, NULL);
			path_unlink(a, r, prev, p); /* a standby path: the FIB does not change */
			return 0;
		}
	}
	rc = withdraw_inline(a, e, s);
	if (rc < 0)
		return reject(a, PF_REJECT_no_memory, err, errlen, strerror(-rc));
	return 0;
}

int
pf_applier_apply(struct pf_applier *a, const struct pf_route_msg *m, char *err, size_t errlen)
{
	char detail[64];
	int rc = 0, pi;

	if (err && errlen)
		err[0] = '\0';
	if (m->source >= PF_SRC_MAX)
		return reject(a, PF_REJECT_bad_context, err, errlen, "unknown source");
	switch (m->op) {
	case PF_RT_ADD:
	case PF_RT_DEL:
		if (m->ctx >= a->t->n_ctx)
			return reject(a, PF_REJECT_bad_context, err, errlen, NULL);
		if (check_prefix(m, detail, sizeof(detail)) < 0)
			return reject(a, PF_REJECT_bad_context, err, errlen, detail);
		rc = m->op == PF_RT_ADD ? apply_add(a, m, err, errlen) : apply_del(a, m, err, errlen);
		break;
	case PF_RT_PEER_DOWN:
		/* every path this source learned from that neighbor goes (for a message
		 * without neighbor, or a source without neighbors: all of the source's) */
		pi = is_feed(m->source) ? peer_lookup(a, &m->peer) : 0;
		if (pi == 0)
			pi = -1;
		if (pi != -1 || m->peer.family == 0 || !is_feed(m->source))
			for (uint32_t e = 0; e < a->n_routes; e++)
				if (a->routes[e].family && a->routes[e].src_nh[m->source])
					withdraw_matching(a, e, m->source, pi, false);
		a->peer_downs++;
		break;
	case PF_RT_EOR:
		a->eors++;
		break;
	case PF_RT_SYNC_BEGIN:
		for (uint32_t e = 0; e < a->n_routes; e++) {
			struct pf_rib_route *r = &a->routes[e];

			if (!r->family || !r->src_nh[m->source])
				continue;
			r->stale |= (uint8_t)(1u << m->source);
			for (uint32_t p = r->more; p != PATH_NONE; p = a->paths[p].next)
				if (a->paths[p].source == m->source)
					a->paths[p].stale = 1;
		}
		a->syncs++;
		break;
	case PF_RT_SYNC_END:
		/* mark-and-sweep: what was not resent is gone; what was resent never blinked */
		for (uint32_t e = 0; e < a->n_routes; e++)
			if (a->routes[e].family && a->routes[e].src_nh[m->source])
				a->swept += withdraw_matching(a, e, m->source, -1, true);
		break;
	default:
		return reject(a, PF_REJECT_bad_context, err, errlen, "unknown operation");
	}
	if (rc == 0)
		a->applied++;
	return rc;
}

/* Software pipeline over a burst: the index slot of a message a few ahead, then the
 * route entry it points at, are fetched while the current one is applied (a table of a
 * million routes does not fit in any cache: each lookup would otherwise stall). */
#define PF_PREFETCH_AHEAD 8

static inline void
prefetch_slot(const struct pf_applier *a, const struct pf_route_msg *m, uint32_t *h)
{
	if ((m->family == 4 || m->family == 6) && (m->op == PF_RT_ADD || m->op == PF_RT_DEL)) {
		*h = route_hash(m->ctx, m->family, m->len, m->prefix);
		rte_prefetch0(&a->ridx[*h & a->rmask]);
	}
}

static inline void
prefetch_route(const struct pf_applier *a, const struct pf_route_msg *m, uint32_t h)
{
	if ((m->family == 4 || m->family == 6) && (m->op == PF_RT_ADD || m->op == PF_RT_DEL)) {
		const struct pf_ridx_slot *s = &a->ridx[h & a->rmask];

		if (s->e != NONE32 && s->h == h)
			rte_prefetch0(&a->routes[s->e]);
	}
}

unsigned
pf_applier_poll(struct pf_applier *a, unsigned max)
{
	struct pf_route_msg msgs[64];
	uint32_t h[64];
	unsigned total = 0;

	if (a->ring == NULL)
		return 0;
	while (total < max) {
		unsigned avail = 0, n;

		n = rte_ring_dequeue_burst_elem(a->ring, msgs, sizeof(msgs[0]),
						RTE_MIN((unsigned)RTE_DIM(msgs), max - total), &avail);
		if (n == 0)
			break;
		if (n + avail > a->ring_hwm)
			a->ring_hwm = n + avail;
		for (unsigned i = 0; i < n && i < PF_PREFETCH_AHEAD; i++)
			prefetch_slot(a, &msgs[i], &h[i]);
		for (unsigned i = 0; i < n; i++) {
			if (i + PF_PREFETCH_AHEAD < n)
				prefetch_slot(a, &msgs[i + PF_PREFETCH_AHEAD], &h[i + PF_PREFETCH_AHEAD]);
			if (i + PF_PREFETCH_AHEAD / 2 < n)
				prefetch_route(a, &msgs[i + PF_PREFETCH_AHEAD / 2],
					       h[i + PF_PREFETCH_AHEAD / 2]);
			pf_applier_apply(a, &msgs[i], NULL, 0);
		}
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
	uint8_t p[16] = {0};
	uint32_t e;

	memcpy(p, prefix, alen(family));
	if (route_new(a, route_hash(a->seed_ctx, family, len, p), a->seed_ctx, family, len, p,
		      &e) < 0)
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
	a->free_route = NONE32;
	a->smask = 63;
	a->sets = calloc(a->smask + 1, sizeof(*a->sets));
	a->pmask = 63;
	a->pidx = calloc(a->pmask + 1, sizeof(*a->pidx));
	a->cap_peers = 16;
	a->peers = calloc(a->cap_peers, sizeof(*a->peers));
	a->n_peers = 1; /* 0: no neighbor */
	a->ctx_feed_routes = calloc(n_ctx ? n_ctx : 1, sizeof(*a->ctx_feed_routes));
	a->ctx_alarm = calloc(n_ctx ? n_ctx : 1, 1);
	if (a->sets == NULL || a->pidx == NULL || a->peers == NULL || a->ctx_feed_routes == NULL ||
	    a->ctx_alarm == NULL || ridx_reserve(a) < 0)
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
	big_free(a->routes, (size_t)a->cap_routes * sizeof(*a->routes));
	big_free(a->ridx, a->ridx ? ((size_t)a->rmask + 1) * sizeof(*a->ridx) : 0);
	free(a->paths);
	free(a->sets);
	free(a->ctx_feed_routes);
	free(a->ctx_alarm);
	free(a->peers);
	free(a->pidx);
	free(a);
}

int
pf_applier_route_source(const struct pf_applier *a, uint16_t ctx, int family,
			const uint8_t *prefix, uint8_t len)
{
	uint8_t p[16] = {0};
	uint32_t e;

	if ((family != 4 && family != 6) || len > (family == 4 ? 32 : 128))
		return -1;
	memcpy(p, prefix, alen(family));
	e = route_find(a, ctx, (uint8_t)family, len, p);
	if (e == NONE32)
		return -1;
	/* the best source: the one whose route the FIB holds */
	for (unsigned s = 0; s < PF_SRC_MAX; s++)
		if (a->routes[e].src_nh[s])
			return (int)s;
	return -1;
}

json_t *
pf_applier_stats_json(const struct pf_applier *a)
{
	json_t *o = json_object(), *rej = json_object(), *ctx = json_object();
	struct fib_stats fs;
	uint64_t rib_bytes;

	for (unsigned i = 0; i < PF_REJECT_MAX; i++)
		json_object_set_new(rej, reject_names[i], json_integer((json_int_t)a->rejected[i]));
	for (uint32_t c = 0; c < a->t->n_ctx; c++)
		json_object_set_new(ctx, a->t->ctx[c].name,
			json_pack("{sIsIsb}", "feed_routes4", (json_int_t)a->ctx_feed_routes[c][0],
				  "feed_routes6", (json_int_t)a->ctx_feed_routes[c][1],
				  "max_prefix_alarm", a->ctx_alarm[c] != 0));
	fib_get_stats(a->t->fib, &fs);
	/* entries ever used (the tails of the arrays are never touched: not resident) */
	rib_bytes = (uint64_t)a->n_routes * sizeof(*a->routes) +
		    ((uint64_t)a->rmask + 1) * sizeof(*a->ridx) +
		    (uint64_t)a->n_paths * sizeof(*a->paths) +
		    ((uint64_t)a->smask + 1) * sizeof(*a->sets) +
		    (uint64_t)a->cap_peers * sizeof(*a->peers) +
		    ((uint64_t)a->pmask + 1) * sizeof(*a->pidx);
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
	json_object_set_new(o, "standby_paths", json_integer((json_int_t)a->live_paths));
	json_object_set_new(o, "bgp_neighbors", json_integer((json_int_t)(a->n_peers - 1)));
	json_object_set_new(o, "nexthop_sets", json_integer((json_int_t)a->n_sets));
	json_object_set_new(o, "nexthops", json_integer((json_int_t)a->t->n_nh));
	json_object_set_new(o, "contexts", ctx);
	json_object_set_new(o, "fib", json_pack("{sIsIsIsIsI}", "routes4", (json_int_t)fs.routes4,
		"routes6", (json_int_t)fs.routes6, "plies4", (json_int_t)fs.plies4,
		"plies6", (json_int_t)fs.plies6, "bytes", (json_int_t)fs.bytes));
	json_object_set_new(o, "rib_bytes", json_integer((json_int_t)rib_bytes));
	return o;
}
