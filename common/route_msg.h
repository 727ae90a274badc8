/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The route-update message: what every feed adapter (ExaBGP, FRR zebra FPM, static
 * configuration, peerctl) produces and the control thread's applier consumes. Adapters
 * are producers on their own threads; the applier is the only consumer and the only FIB
 * writer. Messages travel by value through a bounded lock-free ring (rte_ring, fixed-size
 * elements), so the layout is fixed and has no pointers.
 */
#ifndef PEERFWD_ROUTE_MSG_H
#define PEERFWD_ROUTE_MSG_H

#include <stdint.h>

#include "common/config.h"

enum pf_route_op {
	PF_RT_ADD = 1,    /* add, or replace this source's route for the prefix */
	PF_RT_DEL,        /* withdraw this source's route for the prefix */
	PF_RT_PEER_DOWN,  /* withdraw every route this source learned from `peer` */
	PF_RT_EOR,        /* end of RIB from `peer` (informational: counted, logged) */
	PF_RT_SYNC_BEGIN, /* the source resends everything: mark its routes stale ... */
	PF_RT_SYNC_END,   /* ... and remove those not resent since SYNC_BEGIN (sweep) */
};

enum pf_route_source {
	PF_SRC_STATIC = 0, /* configuration */
	PF_SRC_CLI,        /* peerctl */
	PF_SRC_EXABGP,
	PF_SRC_FPM,
	PF_SRC_MAX
};

#define PF_RT_MAX_NH 8  /* ECMP members per route */

struct pf_route_msg {
	uint8_t op;          /* enum pf_route_op */
	uint8_t source;      /* enum pf_route_source */
	uint8_t family;      /* 4 or 6 (unused for PEER_DOWN/EOR/SYNC_*) */
	uint8_t len;         /* prefix length */
	uint16_t ctx;        /* peering context id (dataplane numbering, 0 = core) */
	uint8_t n_nh;        /* 0..PF_RT_MAX_NH; ADD needs at least one */
	uint8_t flags;       /* PF_RT_F_* */
	uint8_t prefix[16];  /* network byte order, host bits zero */
	struct pf_addr nh[PF_RT_MAX_NH]; /* next-hop addresses (family 4 or 6) */
	struct pf_addr peer; /* originating BGP neighbor (family 0 when none) */
};

#define PF_RT_F_BLACKHOLE 0x01 /* ADD: drop route, next hops ignored */

/* Names for logs and peerctl. */
const char *pf_route_source_name(enum pf_route_source s);
const char *pf_route_op_name(enum pf_route_op op);

#endif
