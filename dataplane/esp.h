/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP (RFC 4303, tunnel mode) around a customer's GRE packets; design in docs/ipsec.md.
 *
 * Who writes what:
 *   control:  creates an SA (all fields above "shared"), publishes it (customer's sa_out
 *             pointer, or a new inbound SPI table), unpublishes it and frees it after a QSBR
 *             grace period once no crypto operation references it (inflight == 0);
 *   workers:  the "shared" fields only, with atomics (no locks): outbound sequence numbers
 *             reserved per batch with one fetch-add, the inbound replay window as 128-bit
 *             (block, bits) slots updated by compare-and-swap, the highest verified sequence
 *             number by CAS, byte/packet counters with fetch-add, alarm flags with fetch-or.
 */
#ifndef PEERFWD_ESP_H
#define PEERFWD_ESP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_atomic.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_crypto.h>

#include "dataplane/worker.h"

#define PF_ESP_HLEN 8          /* SPI, sequence number */
#define PF_ESP_IV_LEN 8        /* RFC 4106 3.1: the 64-bit sequence number */
#define PF_ESP_ICV_LEN 16
/* outer IPv4 + ESP + IV + at most 3 bytes padding (4-byte alignment) + pad length + next
 * header + ICV: what a GRE next hop's MTU loses to ESP */
#define PF_ESP_OVERHEAD (20 + PF_ESP_HLEN + PF_ESP_IV_LEN + 3 + 2 + PF_ESP_ICV_LEN)
#define PF_ESP_BATCH PF_MAX_BURST
#define PF_ESP_NH_IPV4 4
#define PF_ESP_NH_DUMMY 59

/* alarm/state bits of an SA (pf_sa.flags) */
#define PF_SA_SOFT 0x1u          /* 90 % of a lifetime used: time to rekey */
#define PF_SA_HARD 0x2u          /* a lifetime reached: the SA carries nothing more */
#define PF_SA_SEQ_EXHAUSTED 0x4u /* outbound without ESN at 2^32-1 (RFC 4303 3.3.3) */

struct pf_sa {
	/* set by control before the SA is published, read-only afterwards */
	uint32_t spi;
	rte_be32_t spi_be;
	rte_be32_t tun_src, tun_dst;  /* outer addresses as WE send: src = ours */
	uint16_t customer;
	uint8_t out;
	uint8_t esn;
	uint8_t alg;                  /* enum pf_esp_alg */
	uint8_t dev_id;               /* crypto device of sess */
	uint8_t salt[4];
	void *sess;                   /* cryptodev symmetric session (AES-GCM) */
	uint32_t window;              /* inbound: replay window, packets */
	uint32_t win_mask;            /* inbound: slots - 1 (slots: power of 2 >= window/64 + 1) */
	uint64_t life_bytes, life_pkts; /* hard lifetimes, 0 = unlimited */
	uint64_t soft_bytes, soft_pkts; /* 90 % of them */
	uint64_t seq_base;            /* outbound: the first sequence number (1) */

	/* shared by the workers: atomics only */
	uint64_t seq __rte_cache_aligned; /* out: next to send; in: highest verified */
	uint64_t bytes, pkts;         /* protected payload (the GRE packets) */
	uint32_t flags;               /* PF_SA_* */
	uint32_t inflight;            /* asynchronous crypto operations referencing the SA */

	/* inbound replay window: slot i holds block (seq >> 6) = val[0], its bits val[1] */
	rte_int128_t win[] __rte_aligned(16);
};

/* Inbound SPI -> SA, open addressing; replaced as a whole by control (QSBR). */
struct pf_esp_slot {
	uint32_t spi;
	struct pf_sa *sa;             /* NULL: empty */
};

struct pf_esp_tables {
	uint32_t mask;
	uint32_t n;
	struct pf_esp_slot slot[];
};

static inline struct pf_sa *
pf_esp_lookup(const struct pf_esp_tables *e, uint32_t spi)
{
	uint32_t i = pf_hash32(spi) & e->mask;

	for (uint32_t n = 0; n <= e->mask; n++, i = (i + 1) & e->mask) {
		if (e->slot[i].sa == NULL)
			break;
		if (e->slot[i].spi == spi)
			return e->slot[i].sa;
	}
	return NULL;
}

struct rte_mempool;

/* Where sessions expect the 12-byte nonce (salt | IV) in a crypto operation, and the
 * private size the operation pool needs (asynchronous devices). */
#define PF_ESP_IV_OFFSET (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))
unsigned pf_esp_op_priv_size(void);

/* Per-worker ESP state: called by control (or tests) after pf_worker_init(). dev_id/qp:
 * the crypto device and this worker's queue pair; cpu: synchronous CPU crypto
 * (RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO), else enqueue/dequeue with ops from op_pool. */
int pf_esp_worker_init(struct pf_worker *w, uint8_t dev_id, uint16_t qp, bool cpu,
		       struct rte_mempool *op_pool);
/* Frees what is still batched or in flight (waits for the device, bounded). */
void pf_esp_worker_fini(struct pf_worker *w);

/* Stage entry points (hooks in ip_output.c, local.c, ip_input.c, tx.c). */
/* m: Ethernet (l2 bytes) + the GRE packet ip_output built for nh (a GRE next hop with esp) */
void pf_esp_output(struct pf_worker *w, struct rte_mbuf *m, const struct pf_nexthop *nh);
/* m: ESP (IPv4 protocol 50) for one of our addresses, from a core port */
void pf_esp_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md);
/* Decrypt the inbound batch; verified GRE packets are appended to again[] (ip_input). */
void pf_esp_input_flush(struct pf_worker *w, struct rte_mbuf **again, struct pf_meta *again_md,
			uint16_t *n_again);
/* Encrypt the outbound batch, collect asynchronous completions (pf_worker_flush). */
void pf_esp_flush(struct pf_worker *w);

/* Inbound sequence number handling, exposed for tests: the 64-bit sequence number of a
 * received low half (RFC 4303 A2.2 with ESN, else the low half), and the window check
 * before (0 or a drop reason) and update after the ICV verified (0 or a drop reason). */
uint64_t pf_esp_seq_infer(const struct pf_sa *sa, uint32_t seql);
int pf_esp_replay_check(const struct pf_sa *sa, uint64_t seq);
int pf_esp_replay_update(struct pf_sa *sa, uint64_t seq);

#endif
