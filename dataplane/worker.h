/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker lcore: polls its RX queues, runs each burst through the stages below and
 * transmits on its own TX queue of every port. It owns its counters and TX buffers
 * (no sharing, no atomics on the packet path) and reads the tables (tables.h).
 *
 * Packet path, in the order the stages run (one file each):
 *   fastpath.c    the common case (tagged/untagged IPv4 forwarded, GRE encapsulated) in
 *                 two passes per burst; whatever it does not take goes on to:
 *   eth_input.c   L2: runt/MTU checks, 802.1Q / QinQ -> peering context, EtherType
 *   arp_nd.c      ARP and IPv6 neighbor discovery for our addresses; learning
 *   ip_input.c    IPv4/IPv6 validation (RFC 1812 / RFC 8200), bulk FIB lookup, TTL
 *   local.c       our own addresses: ICMP echo, GRE termination (gre.c), the rest dropped
 *   esp.c         ESP (RFC 4303) of IPsec customers: batched decryption before GRE
 *                 decapsulation, batched encryption after GRE encapsulation
 *   gre.c         RFC 2784/2890 decapsulation (key -> customer) and encapsulation
 *   icmp.c        ICMP/ICMPv6 errors (time exceeded, frag needed / packet too big)
 *   ip_output.c   next-hop action: MTU, fragmentation, L2 rewrite with the context's tags
 *   tx.c          per-port TX buffers; what TX refuses is freed and counted
 */
#ifndef PEERFWD_WORKER_H
#define PEERFWD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "common/counters.h"
#include "dataplane/tables.h"

#define PF_MAX_BURST 256 /* the configuration's "burst" limit */
#define PF_MAX_RXQ 16

struct rte_rcu_qsbr;
struct rte_ring;

/* What a worker hands to control (single consumer) when a neighbor answered. */
struct pf_learn_msg {
	uint32_t neigh;
	uint32_t pad;
	uint64_t mac;   /* PF_NEIGH_VALID | MAC, as stored in tables->neigh_mac */
};

struct pf_counters {
	uint64_t drop[PF_DROP_MAX];
	uint64_t event[PF_EV_MAX];
	struct pf_port_counters port[PF_MAX_PORTS];
	struct pf_ctx_counters *ctx;       /* [tables->n_ctx] */
	struct pf_customer_counters *cust; /* [tables->n_cust] */
};

struct pf_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[PF_MAX_BURST];
};

struct pf_worker {
	/* read-mostly part */
	unsigned id;                 /* QSBR thread id, 0..n_workers-1 */
	unsigned lcore;
	const struct pf_tables *t;
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct rte_ring *learn;      /* worker -> control, pf_learn_msg elements */
	uint16_t burst;
	bool no_fastpath;            /* every packet through the general path (tests, --no-fastpath) */
	uint16_t n_rxq;
	struct { uint16_t port, queue; } rxq[PF_MAX_RXQ];
	uint16_t txq[PF_MAX_PORTS];  /* this worker's TX queue id on each port */
	const volatile bool *quit;
	struct pf_esp_worker *esp;   /* ESP batches and crypto queue (esp.c); NULL: no IPsec */

	/* written by the worker only */
	uint64_t last_rx_tsc __rte_cache_aligned; /* read by control for --idle-exit */
	uint64_t icmp_tokens, icmp_last_tsc, icmp_tsc_per_token;
	uint64_t *solicit_tsc;       /* [n_neigh]: last ARP/NS sent, rate limit */
	uint16_t ip_id;
	struct pf_txbuf tx[PF_MAX_PORTS];
	struct pf_counters c __rte_cache_aligned;
} __rte_cache_aligned;

/* Per-packet state between stages, kept in a burst-local array. */
struct pf_meta {
	uint16_t ctx;        /* peering context the packet is routed in */
	uint16_t l3;         /* offset of the IP header in the first segment */
	uint8_t from_core;   /* arrived on a core port (billing direction) */
	uint8_t family;      /* 4 or 6 */
	uint16_t in_port;
	uint8_t decap;       /* inner packet of a GRE tunnel we terminated */
	uint8_t billed;      /* a fragment we made: its packet was billed once, whole */
	uint16_t esp_cust;   /* GRE packet decrypted from an SA of customer esp_cust - 1; 0: not */
};

int pf_worker_init(struct pf_worker *w, const struct pf_tables *t);
void pf_worker_fini(struct pf_worker *w);
int pf_worker_main(void *arg);            /* rte_eal_remote_launch entry */
/* Process one received burst (also used directly by unit tests). */
void pf_worker_input(struct pf_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n);
void pf_worker_flush(struct pf_worker *w);

/* Stage entry points (internal to the dataplane). */
/* Forwards what it can; returns how many packets it left, compacted at the start of pkts. */
uint16_t pf_fast_input(struct pf_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n);
int pf_eth_input(struct pf_worker *w, uint16_t port, struct rte_mbuf *m, struct pf_meta *md);
void pf_arp_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md);
bool pf_nd_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md);
void pf_ip_input(struct pf_worker *w, struct rte_mbuf **pkts, struct pf_meta *md, uint16_t n);
void pf_local_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md,
		    struct rte_mbuf **again, struct pf_meta *again_md, uint16_t *n_again);
int pf_gre_decap(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md);
void pf_ip_output(struct pf_worker *w, struct rte_mbuf *m, const struct pf_meta *md,
		  const struct pf_nexthop *nh, bool originated);
void pf_icmp_error(struct pf_worker *w, struct rte_mbuf *m, const struct pf_meta *md,
		   uint8_t type, uint8_t code, uint32_t info);
void pf_icmp_echo(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md);
void pf_solicit(struct pf_worker *w, uint32_t neigh);
/* Route a packet we originated (replies, ICMP errors) in a context and send it. */
void pf_route_local(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md);
const struct pf_nexthop *pf_ecmp_pick(const struct pf_tables *t, const struct rte_mbuf *m,
				      const struct pf_meta *md, const struct pf_nexthop *nh);

void pf_tx_flush_port(struct pf_worker *w, uint16_t port);

/* Queue m on this worker's TX buffer of port (tx.c sends and counts). */
static inline void
pf_tx(struct pf_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct pf_txbuf *b = &w->tx[port];

	b->pkts[b->n++] = m;
	if (unlikely(b->n == RTE_DIM(b->pkts)))
		pf_tx_flush_port(w, port);
}

static inline void
pf_drop(struct pf_worker *w, struct rte_mbuf *m, enum pf_drop reason)
{
	w->c.drop[reason]++;
	rte_pktmbuf_free(m);
}

#endif
