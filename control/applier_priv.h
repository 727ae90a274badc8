/* SPDX-License-Identifier: BSD-3-Clause */
/* The applier's state (control thread only). */
#ifndef PEERFWD_APPLIER_PRIV_H
#define PEERFWD_APPLIER_PRIV_H

#include "control/applier.h"
#include "control/control.h"

/* Feed sources (ExaBGP, FPM) carry the BGP neighbor a path came from; the others do not. */
#define PF_FEED_SRC_FIRST PF_SRC_EXABGP
#define PF_FEED_SRC_N (PF_SRC_MAX - PF_FEED_SRC_FIRST)

/*
 * One (context, prefix) with what each source says about it. Per source there is one
 * "inline" path (src_nh[s]; for feed sources also the neighbor it came from); further
 * neighbors of the same feed announcing the same prefix (primary and secondary link of a
 * peering) are kept as extra paths (struct pf_rib_path, list `more`), standby for the
 * inline one: when the inline neighbor withdraws or goes down, the oldest extra path of
 * that source takes its place. The best source (STATIC, CLI, EXABGP, FPM in that order)
 * is what the FIB holds.
 * Invariant: extra paths of source s exist only while src_nh[s] != 0.
 */
struct pf_rib_route {
	uint8_t prefix[16];          /* network order; IPv4 in [0..3], the rest zero */
	uint32_t src_nh[PF_SRC_MAX]; /* next-hop index per source, 0 = none */
	uint32_t installed;          /* what the FIB holds (the best source's) */
	uint32_t more;               /* first extra path (index into paths), 0 = none;
	                              * free-list link while the slot is free */
	uint16_t ctx;
	uint8_t family;              /* 0 = free slot */
	uint8_t len;
	uint16_t feed_peer[PF_FEED_SRC_N]; /* neighbor (index into peers) of a feed's inline path */
	uint8_t stale;               /* bit per source: inline path not resent since SYNC_BEGIN */
};

/* Another neighbor's path of the same feed source for a route. */
struct pf_rib_path {
	uint32_t next;               /* next extra path of the route, 0 = end; free-list link */
	uint32_t nh;
	uint16_t peer;
	uint8_t source;
	uint8_t stale;
};

/* Route index slot: open addressing, linear probing; h is the route's 32-bit hash (its
 * home slot is h & rmask), so probing and rehashing rarely touch the route array. */
struct pf_ridx_slot {
	uint32_t h;
	uint32_t e;                  /* route index, UINT32_MAX = empty */
};

/* A route's next-hop addresses in its context, sorted and without duplicates: the cache
 * key of its resolution. Only nh[0..n) is meaningful (and zero-padded addresses). */
struct pf_nhset_key {
	uint16_t ctx;
	uint8_t n;
	uint8_t flags;
	struct pf_addr nh[PF_RT_MAX_NH];
};

struct pf_nhset {
	uint32_t h;
	uint32_t nh;                 /* 0 = free slot */
	struct pf_nhset_key key;
};

struct pf_applier {
	struct pf_build *b;
	struct pf_tables *t;
	struct rte_ring *ring;
	uint32_t nh_drop;
	/* routes: array + open-addressing index */
	struct pf_rib_route *routes;
	uint32_t n_routes, cap_routes, free_route, n_free_routes;
	struct pf_ridx_slot *ridx;
	uint32_t rmask;
	/* extra paths (index 0 unused) */
	struct pf_rib_path *paths;
	uint32_t n_paths, cap_paths, free_path, live_paths;
	/* next-hop set cache, and the last set resolved (feeds repeat one next hop) */
	struct pf_nhset *sets;
	uint32_t smask, n_sets;
	struct pf_nhset_key last_key;
	uint32_t last_nh;
	/* neighbors seen by feeds: peers[0] is "none"; open-addressing index over them */
	struct pf_addr *peers;
	uint32_t n_peers, cap_peers;
	uint16_t *pidx;
	uint32_t pmask;
	/* policy state */
	uint32_t (*ctx_feed_routes)[2];
	uint8_t *ctx_alarm;          /* bit 0: IPv4 limit alarm raised, bit 1: IPv6 */
	uint32_t seed_ctx;
	/* counters */
	uint64_t applied, dequeued, ring_hwm, rejected[PF_REJECT_MAX], max_prefix_alarms;
	uint64_t peer_downs, eors, syncs, swept;
};

struct pf_applier *pf_applier_create(struct pf_build *b, struct rte_ring *ring);
void pf_applier_free(struct pf_applier *a);

#endif
