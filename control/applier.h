/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The applier: runs on the control thread, consumes route messages (from the feed ring
 * and directly from configuration and peerctl), applies the context's policy, resolves
 * next hops to dataplane next-hop objects and writes the FIB. Single writer; everything a
 * worker may still read is freed only after a QSBR grace period.
 */
#ifndef PEERFWD_APPLIER_H
#define PEERFWD_APPLIER_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/route_msg.h"
#include "control/feed.h"

/* Why a route was not installed; one counter each (JSON key = name). */
#define PF_REJECT_REASONS(X)                                                               \
	X(max_prefixes, "context's prefix limit reached (BGP max-prefix behaviour)")        \
	X(too_specific, "longer than the context's maximum prefix length")                  \
	X(bogon, "private/bogon prefix on public or Microsoft peering")                     \
	X(peering_overlap, "overlaps one of the context's peering subnets")                 \
	X(default_route, "default route where forced tunneling is not allowed")            \
	X(nh_unresolvable, "next hop is no peer, tunnel endpoint or core neighbor")        \
	X(bad_context, "context id out of range")                                           \
	X(not_found, "withdraw of a route this source does not have")                       \
	X(no_memory, "FIB or next-hop table full")

enum pf_reject {
#define X(n, d) PF_REJECT_##n,
	PF_REJECT_REASONS(X)
#undef X
	PF_REJECT_MAX
};

struct pf_applier;
struct pf_tables;
struct pf_build;

/* Apply one message now (control thread only). 0, or a negative errno with a short
 * reason in err (may be NULL) and the matching reject counter incremented. */
int pf_applier_apply(struct pf_applier *a, const struct pf_route_msg *m, char *err,
		     size_t errlen);
/* Drain up to max messages from the feed ring; returns how many were processed. */
unsigned pf_applier_poll(struct pf_applier *a, unsigned max);
/* Counters and per-context route counts as JSON (for peerctl and --stats-json). */
json_t *pf_applier_stats_json(const struct pf_applier *a);
/* Source of the route a context holds for exactly this prefix; -1 if none. */
int pf_applier_route_source(const struct pf_applier *a, uint16_t ctx, int family,
			    const uint8_t *prefix, uint8_t len);

#endif
