/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ExaBGP 4.x feed adapter: ExaBGP runs `peerfwd-exabgp --socket PATH` as an API process
 * (`encoder json;`); that program copies ExaBGP's newline-delimited JSON to peerfwd's Unix
 * socket, where the adapter thread parses each line into struct pf_route_msg.
 *
 * JSON handled (ExaBGP 4.2 emits "exabgp": "4.0.1"; 3.4's dict forms are accepted too):
 *   "type": "update", neighbor.message.update.announce["ipv4 unicast"|"ipv6 unicast"]
 *       [NEXTHOP] = [ {"nlri": "P/L"} | "P/L" (api compact) ... ]  (3.4: {"P/L": {}})
 *       -> PF_RT_ADD (one per prefix; several next hops for one prefix in the same update
 *          are merged into one ECMP route, at most PF_RT_MAX_NH; IPv6 link-local next hops
 *          are dropped when the prefix has a global one: BGP sends both on a direct link)
 *   neighbor.message.update.withdraw[FAMILY] = [ {"nlri": "P/L"} ... ]   -> PF_RT_DEL
 *       (withdraws of an update are emitted before its announcements)
 *   "type": "update", neighbor.message.eor = {"afi": "ipv4", "safi": "unicast"} -> PF_RT_EOR
 *   "type": "state", neighbor.state "down" -> PF_RT_PEER_DOWN; "up" / "connected": session
 *       bookkeeping only (f->sessions)
 *   "type": "notification", "notification": "shutdown" -> ExaBGP stops: every neighbor the
 *       connection reported goes down
 *   other ExaBGP types (open, keepalive, refresh, negotiated, fsm, signal, operational,
 *       notification from a peer, raw packets) and direction "send": ignored, not counted
 * ctx = pf_ctxmap_by_neighbor(neighbor.address.peer); peer = that address; source
 * PF_SRC_EXABGP. Bad input is counted with pf_feed_bad() per item (one NLRI, one family,
 * one message) and only that item is skipped.
 *
 * ADD-PATH receive must not be configured in ExaBGP: path identifiers are ignored, so a
 * withdraw of one path would withdraw the prefix.
 */
#ifndef PEERFWD_FEED_EXABGP_H
#define PEERFWD_FEED_EXABGP_H

#include <pthread.h>
#include <stddef.h>

#include "control/feed.h"

/* Longest JSON line accepted from a connection; longer ones are counted as bad_json and
 * skipped up to their newline. */
#define PF_EXABGP_MAX_LINE (1u << 20)
/* Simultaneous connections (one per ExaBGP process); more are refused and logged. */
#define PF_EXABGP_MAX_CONN 16

/*
 * Parse one line (without its newline; a trailing '\r' is tolerated). Route messages go to
 * out[0..*n_out). Returns 0 when the line was understood (possibly with some items skipped
 * and counted, or an ExaBGP message type that carries no routes), -EINVAL when the whole
 * line was rejected (counted), -ENOSPC when more than max messages would result (the first
 * max are in out, nothing after them; the adapter thread has no such limit: it uses
 * pf_exabgp_parse_cb and submits in batches). Never reads past line[len - 1].
 */
int pf_exabgp_parse(const char *line, size_t len, const struct pf_ctxmap *map,
		    struct pf_feed *f, struct pf_route_msg *out, unsigned max, unsigned *n_out);

/* What a line said about its neighbor, for session bookkeeping. */
enum pf_exabgp_event {
	PF_EXA_EV_NONE = 0,  /* nothing (ignored type, rejected line) */
	PF_EXA_EV_ROUTES,    /* update or EOR from `peer`: the session is up */
	PF_EXA_EV_UP,        /* state "up" */
	PF_EXA_EV_CONNECTED, /* state "connected" (TCP only, not established yet) */
	PF_EXA_EV_DOWN,      /* state "down" (PF_RT_PEER_DOWN emitted) */
	PF_EXA_EV_SHUTDOWN,  /* ExaBGP is stopping */
};

struct pf_exabgp_info {
	enum pf_exabgp_event ev;
	struct pf_addr peer; /* family 0 when the line names no usable neighbor */
	int ctx;             /* -1 unknown */
};

/* emit() gets each message; a negative return stops parsing and is returned. */
typedef int (*pf_exabgp_emit_fn)(void *arg, const struct pf_route_msg *m);

/* pf_exabgp_parse with a callback and the session event (info may be NULL). */
int pf_exabgp_parse_cb(const char *line, size_t len, const struct pf_ctxmap *map,
		       struct pf_feed *f, pf_exabgp_emit_fn emit, void *arg,
		       struct pf_exabgp_info *info);

/*
 * Listen on a Unix stream socket at socket_path (mode 0660; a stale socket there is
 * unlinked, a live one - something accepts connections on it - gives -EADDRINUSE, a
 * non-socket file -EEXIST) and start the adapter thread. f must have name, source, ring
 * and quit set; map must outlive the thread. Returns 0 or a negative errno (nothing
 * started). The thread reads newline-delimited JSON from any number of connections (up to
 * PF_EXABGP_MAX_CONN; a line may span reads), submits route messages in batches with
 * pf_feed_submit (waits while the ring is full: nothing is dropped; meanwhile it reads no
 * socket, so peerfwd-exabgp and ExaBGP wait too), counts f->msgs_in (lines) and
 * f->sessions (BGP neighbors up - state "up" or routes seen - over all connections).
 * Per connection it remembers the neighbors it reported: a "down" for a neighbor that
 * connection never reported is not passed on (ExaBGP says "down" after every failed
 * connection attempt), and when the connection closes (or ExaBGP sends its shutdown
 * notification) every neighbor it reported gets a PF_RT_PEER_DOWN: ExaBGP going away
 * withdraws its routes. A line cut by the end of a connection is counted as truncated.
 * The thread ends when *f->quit becomes true (no withdraws then) or on pf_exabgp_stop.
 */
int pf_exabgp_start(struct pf_feed *f, const char *socket_path, const struct pf_ctxmap *map,
		    pthread_t *th);

/* Stop and join the thread started for f: closes the connections (PEER_DOWN for their
 * neighbors unless *f->quit is already set: call it while control still drains the ring,
 * or set *f->quit first), closes and unlinks the socket. 0, or -ENOENT (not started). */
int pf_exabgp_stop(struct pf_feed *f, pthread_t th);

#endif
