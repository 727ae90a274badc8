/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route feeds: adapters (ExaBGP, FRR zebra FPM) run on their own threads and produce
 * struct pf_route_msg (common/route_msg.h) into one bounded lock-free ring; the control
 * thread is the only consumer (applier.h) and the only FIB writer.
 *
 * A full ring makes the producer wait (backpressure): a route is never dropped silently.
 * Malformed input is counted per kind and logged once per kind; it never stops a feed.
 * Ownership: the adapter thread writes its struct pf_feed counters (relaxed atomics);
 * control and peerctl only read them.
 */
#ifndef PEERFWD_FEED_H
#define PEERFWD_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "common/route_msg.h"

struct rte_ring;

/* Kinds of bad feed input, one counter each (JSON key = name). */
#define PF_FEED_BAD_KINDS(X)                                                                \
	X(bad_json, "not JSON, or not the JSON structure expected")                        \
	X(bad_type, "a field of the wrong type")                                           \
	X(truncated, "message shorter than its header or attribute says")                  \
	X(bad_length, "length field inconsistent with the data")                           \
	X(bad_version, "unsupported protocol version or message type")                    \
	X(unknown_family, "address family other than IPv4/IPv6 unicast")                 \
	X(bad_prefix, "prefix or prefix length unparsable or out of range")               \
	X(host_bits, "prefix with host bits set beyond its length")                       \
	X(bad_nexthop, "next hop missing or unparsable")                                   \
	X(too_many_nexthops, "more next hops than PF_RT_MAX_NH (extra ones ignored)")    \
	X(unknown_neighbor, "BGP neighbor not in any peering context")                     \
	X(unknown_table, "routing table id mapped to no context")                          \
	X(unsupported, "valid but unsupported (e.g. next-hop group ids)")

enum pf_feed_bad {
#define X(n, d) PF_FEED_BAD_##n,
	PF_FEED_BAD_KINDS(X)
#undef X
	PF_FEED_BAD_MAX
};
extern const char *const pf_feed_bad_names[PF_FEED_BAD_MAX];

struct pf_feed {
	char name[32];               /* "exabgp", "fpm" */
	enum pf_route_source source;
	struct rte_ring *ring;       /* shared, multi-producer, single consumer (control) */
	const volatile bool *quit;
	/* written by the adapter thread, read by others (relaxed) */
	uint64_t msgs_in;            /* protocol messages read */
	uint64_t enqueued;           /* route messages handed to control */
	uint64_t ring_full_waits;    /* times the ring was full and we waited */
	uint64_t bad[PF_FEED_BAD_MAX];
	uint64_t last_update;        /* unix time (s) of the last route message */
	uint32_t sessions;           /* connected peers/daemons now */
	uint32_t logged;             /* bit per kind already logged */
};

/* Hand n messages to control, waiting while the ring is full. 0, or -ESHUTDOWN when
 * *quit became true while waiting (nothing after the first unsent message was sent). */
int pf_feed_submit(struct pf_feed *f, const struct pf_route_msg *m, unsigned n);

/* Count one bad input of that kind; log it (with the printf-style detail) the first time
 * only, so a broken peer cannot flood the log. */
void pf_feed_bad(struct pf_feed *f, enum pf_feed_bad kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Which peering context a feed's route belongs to (read-only after start, so adapter
 * threads may use it without locks). */
struct pf_ctxmap;
struct pf_ctxmap *pf_ctxmap_create(const struct pf_config *cfg);
void pf_ctxmap_free(struct pf_ctxmap *m);
/* Context of a BGP neighbor: the context one of whose peering links has that address as
 * its customer-router (peer) address; 0 (core) for an address on a core port's subnet;
 * -1 for none. */
int pf_ctxmap_by_neighbor(const struct pf_ctxmap *m, const struct pf_addr *nbr);
/* Context fed by a zebra routing table (context "table_id"; core_table_id -> 0); -1. */
int pf_ctxmap_by_table(const struct pf_ctxmap *m, uint32_t table_id);

#endif
