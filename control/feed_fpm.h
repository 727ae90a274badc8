/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FRR zebra FPM feed adapter: zebra, started with `-M dplane_fpm_nl` and configured with
 * `fpm address 127.0.0.1 [port P]` (and `no fpm use-next-hop-groups`, see below), connects
 * to peerfwd over TCP and streams its selected (FIB) routes; the adapter thread parses them
 * into struct pf_route_msg.
 *
 * Wire format (FRR fpm/fpm.h): a stream of FPM messages, each a 4-byte header
 *   { uint8 version = 1; uint8 type = 1 (netlink); uint16 length incl. header, network order }
 * followed by one or more netlink messages (zebra packs a route update as RTM_DELROUTE +
 * RTM_NEWROUTE in one FPM message). Lengths up to 65535 are accepted (dplane_fpm_nl only
 * asserts <= UINT16_MAX; the 4096 of fpm.h is the old module's limit).
 *
 * Netlink handled:
 *   RTM_NEWROUTE -> PF_RT_ADD, RTM_DELROUTE -> PF_RT_DEL, source PF_SRC_FPM, peer unset.
 *   rtm_family AF_INET / AF_INET6 (others, e.g. AF_MPLS LSPs: unknown_family);
 *   prefix = RTA_DST / rtm_dst_len (RTA_DST absent: the default route; zebra sends it);
 *   table = RTA_TABLE when present, else rtm_table -> ctx = pf_ctxmap_by_table() (none:
 *   unknown_table); next hops: RTA_GATEWAY (or RTA_VIA, an IPv6 next hop of an IPv4
 *   route) and/or RTA_MULTIPATH (each rtnexthop's RTA_GATEWAY/RTA_VIA; weights ignored),
 *   at most PF_RT_MAX_NH (the first ones; more: too_many_nexthops, the route is kept;
 *   a gateway listed twice, e.g. over two interfaces, counts once);
 *   RTA_OIF is not needed (peerfwd resolves next hops by address).
 *   rtm_type RTN_UNICAST -> next hops required; RTN_BLACKHOLE, RTN_UNREACHABLE,
 *   RTN_PROHIBIT -> PF_RT_F_BLACKHOLE with n_nh = 0; DELROUTE: type not looked at (zebra
 *   sends RTN_UNSPEC).
 *   A DELROUTE immediately followed, in the same FPM message, by a NEWROUTE for the same
 *   context and prefix (zebra's "update") becomes that single PF_RT_ADD (replace), so the
 *   route never disappears from the FIB in between.
 * Counted and skipped (pf_feed_bad, that one route only):
 *   unsupported: routes with RTA_NH_ID and no inline next hop, RTM_NEWNEXTHOP/DELNEXTHOP
 *     (next-hop groups), route types other than the above (local, broadcast, anycast,
 *     multicast, throw, nat...), interface-only next hops (connected routes: zebra's
 *     reconnect dump includes the router's connected subnets, one count each, harmless),
 *     next hops with an encapsulation (RTA_ENCAP/RTA_ENCAP_TYPE/RTA_NEWDST: MPLS, VXLAN),
 *     source-specific routes (rtm_src_len != 0), other netlink message types (RTM_NEWNEIGH
 *     for EVPN RMACs...). NLMSG_NOOP/NLMSG_DONE are ignored silently.
 *   bad_prefix (rtm_dst_len > 32/128, RTA_DST of the wrong size, a length without RTA_DST),
 *   host_bits, bad_nexthop (gateway of the wrong size, no next hop at all), truncated /
 *   bad_length (netlink message, rtattr or rtnexthop shorter than its header or longer than
 *   what contains it: the rest of that FPM message is skipped; the stream resynchronises
 *   on the next FPM header by the FPM length), bad_version (FPM type other than netlink:
 *   skipped by its length).
 * Unrecoverable (the connection is dropped, zebra reconnects after 3 s and resends
 * everything): FPM version != 1, FPM length < 4.
 *
 * NEXT-HOP GROUPS MUST BE OFF. FRR 8.4's dplane_fpm_nl defaults to `fpm use-next-hop-groups`
 * (fpm_nl_start() sets use_nhg = true): zebra then sends next hops as separate
 * RTM_NEWNEXTHOP objects and routes with only RTA_NH_ID, which peerfwd does not resolve
 * (every such route is counted `unsupported` and not installed; a warning is logged once).
 * Put `no fpm use-next-hop-groups` in zebra's configuration (it is written out by
 * `show running-config` only when off); changing it at run time makes zebra reconnect and
 * resend everything. Blackhole routes carry no group id and pass either way.
 *
 * IPv6 next hops: bgpd gives zebra the peer's link-local next hop when the peer sends one
 * (any directly connected IPv6 eBGP peer does); peerfwd knows peers by their global /126
 * address, so set `set ipv6 next-hop prefer-global` in an inbound route-map on those
 * neighbors, or the applier will find fe80:: next hops unresolvable.
 *
 * Resynchronisation. zebra replays its whole FIB after every (re)connect and never says
 * when the replay is over (its RIB-walk completion, FNE_RIB_FINISHED, is a debug log only,
 * and it discards everything an FPM server sends). So the adapter emits PF_RT_SYNC_BEGIN
 * when a connection is accepted and PF_RT_SYNC_END once
 *   (no byte received for quiet_ms, default 3000)  and  (min_sync_ms since the connection,
 *   default 30000),  or at the latest max_sync_ms (default 300000) after the connection;
 * the applier then sweeps the FPM routes not resent. quiet_ms exceeds the 1 s zebra waits
 * before resuming its walk when its 1 MiB output buffer is full. min_sync_ms covers a zebra
 * restart: zebra connects 3 s after start with an almost empty RIB, bgpd's zclient
 * reconnects to zebra up to 10 s after losing it and only then re-installs its routes;
 * without the hold those routes would be swept and re-added. max_sync_ms bounds the stale
 * window when updates never pause for quiet_ms. Routes stay installed while zebra is away
 * (non-stop forwarding); if no zebra reconnects within stale_ms (default 120000, BGP
 * graceful restart's restart-time; 0 = never) the adapter emits SYNC_BEGIN + SYNC_END to
 * withdraw them all. A new connection while one is open replaces it (one zebra at a time)
 * and starts a new sync.
 * Environment overrides (milliseconds): PEERFWD_FPM_QUIET_MS, PEERFWD_FPM_MIN_SYNC_MS,
 * PEERFWD_FPM_MAX_SYNC_MS, PEERFWD_FPM_STALE_MS.
 *
 * Counters: f->msgs_in counts FPM messages, f->sessions is 1 while zebra is connected.
 *
 * Security: whoever connects can replace zebra and inject routes (FPM has no
 * authentication): listen on loopback (zebra's default `fpm address 127.0.0.1`) or a
 * protected management address only. TCP keepalives (30 s idle, 3 x 10 s) detect a remote
 * zebra that vanished without closing the connection.
 */
#ifndef PEERFWD_FEED_FPM_H
#define PEERFWD_FEED_FPM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "control/feed.h"

#define PF_FPM_DEFAULT_PORT 2620
#define PF_FPM_HDR_LEN 4
#define PF_FPM_MAX_MSG 65535u
/* Most route messages one FPM message can yield (netlink route messages of at least
 * NLMSG_LENGTH(sizeof(struct rtmsg)) = 28 bytes in 65531 bytes). */
#define PF_FPM_OUT_MAX ((PF_FPM_MAX_MSG - PF_FPM_HDR_LEN) / 28 + 1)

/*
 * Parse complete FPM messages from buf[0..len). Route messages go to out[0..*n_out) in
 * stream order; *consumed is how many bytes were fully handled (the rest, an incomplete
 * message or what did not fit in out, must be passed again with more data). Stops before an
 * FPM message that could yield more messages than out has room left, so out never holds part
 * of an FPM message (max >= PF_FPM_OUT_MAX never stops early).
 * Returns 0; -EPROTO when the stream is unrecoverable at buf[*consumed] (bad FPM version or
 * length: drop the connection; out[0..*n_out) are valid and should still be submitted);
 * -ENOBUFS when max is too small for the next FPM message even with out empty (*consumed
 * then covers the FPM messages before it, which yielded no route message).
 * Bad input is counted in f (pf_feed_bad), f->msgs_in is incremented per FPM message.
 * Never reads outside buf[0..len), whatever the content.
 */
int pf_fpm_parse(const uint8_t *buf, size_t len, size_t *consumed, const struct pf_ctxmap *map,
		 struct pf_feed *f, struct pf_route_msg *out, unsigned max, unsigned *n_out);

/* SYNC_END detection, see above; all in milliseconds. */
struct pf_fpm_timing {
	unsigned quiet_ms;
	unsigned min_sync_ms;
	unsigned max_sync_ms;
	unsigned stale_ms;   /* 0: never withdraw while zebra is away */
};
/* The defaults, with the PEERFWD_FPM_*_MS environment overrides applied. */
void pf_fpm_timing_default(struct pf_fpm_timing *t);

/*
 * Listen on TCP `laddr` ("ADDR:PORT", "[ADDR6]:PORT", or an address alone for port 2620)
 * and start the adapter thread. f must have name, source (PF_SRC_FPM), ring and quit set;
 * map must outlive the thread. Returns 0 or a negative errno (nothing started: bad address
 * -EINVAL, port in use -EADDRINUSE...). The thread accepts one zebra at a time, parses,
 * submits with pf_feed_submit (waits while the ring is full: nothing is dropped), emits the
 * SYNC_BEGIN/SYNC_END pairs described above and exits when *f->quit becomes true or on
 * pf_fpm_stop. pf_fpm_start uses pf_fpm_timing_default().
 */
int pf_fpm_start(struct pf_feed *f, const char *laddr, const struct pf_ctxmap *map,
		 pthread_t *th);
int pf_fpm_start_timing(struct pf_feed *f, const char *laddr, const struct pf_ctxmap *map,
			const struct pf_fpm_timing *t, pthread_t *th);

/* Stop and join the thread started for f, close the sockets. Unless *f->quit is already
 * set, the FPM routes are withdrawn (SYNC_BEGIN + SYNC_END): the feed is gone.
 * 0 or -ENOENT. */
int pf_fpm_stop(struct pf_feed *f, pthread_t th);

/* The port the adapter for f listens on (useful with port 0), or -ENOENT. */
int pf_fpm_port(const struct pf_feed *f);

#endif
