/* SPDX-License-Identifier: BSD-3-Clause */
/* The applier's state (control thread only). */
#ifndef PEERFWD_APPLIER_PRIV_H
#define PEERFWD_APPLIER_PRIV_H

#include "control/applier.h"
#include "control/control.h"

/* One (context, prefix) with what each source says about it. */
struct pf_rib_route {
	uint16_t ctx;
	uint8_t family;            /* 0 = free slot */
	uint8_t len;
	uint8_t prefix[16];
	uint32_t src_nh[PF_SRC_MAX]; /* next-hop index per source, 0 = none */
	uint32_t installed;        /* what the FIB holds (the best source's) */
	uint16_t peer;             /* ExaBGP neighbor (index into peers) */
	uint8_t stale;             /* bit per source: not resent since SYNC_BEGIN */
} __attribute__((packed));

/* A route's next-hop addresses in its context, sorted: the cache key of its resolution. */
struct pf_nhset_key {
	uint16_t ctx;
	uint8_t n;
	uint8_t flags;
	struct pf_addr nh[PF_RT_MAX_NH];
};

struct pf_nhset {
	uint8_t used;
	struct pf_nhset_key key;
	uint32_t nh;
};

struct pf_applier {
	struct pf_build *b;
	struct pf_tables *t;
	struct rte_ring *ring;
	uint32_t nh_drop;
	/* routes: array + open-addressing index */
	struct pf_rib_route *routes;
	uint32_t n_routes, cap_routes, free_route, n_free_routes;
	uint32_t *ridx, rmask;
	/* next-hop set cache */
	struct pf_nhset *sets;
	uint32_t smask, n_sets;
	/* ExaBGP neighbors seen */
	struct pf_addr *peers;
	uint32_t n_peers;
	/* policy state */
	uint32_t (*ctx_feed_routes)[2];
	uint8_t *ctx_alarm;
	uint32_t seed_ctx;
	/* counters */
	uint64_t applied, dequeued, ring_hwm, rejected[PF_REJECT_MAX], max_prefix_alarms;
	uint64_t peer_downs, eors, syncs, swept;
};

struct pf_applier *pf_applier_create(struct pf_build *b, struct rte_ring *ring);
void pf_applier_free(struct pf_applier *a);

#endif
