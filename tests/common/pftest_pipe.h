/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet-path fixture shared by tests/unit/test_dataplane.c, tests/unit/test_esp.c and
 * tests/fuzz/fuzz_pipeline.c: EAL without hugepages, an mbuf pool without per-lcore cache
 * (its available count is exact), two started ring PMD ports standing in for the example
 * configuration's edge and core ports, the configuration (configs/exchange-provider.json
 * for all three) with those port names and the caller's changes, loaded through the real
 * parser, the tables control builds from it, and one worker (pf_worker_init) on the
 * calling lcore.
 *
 * pftest_pipe.c needs pftest.c (not the CUnit part, not the applier): the fuzz build
 * compiles both explicitly (tests/fuzz/build_pipeline.sh).
 */
#ifndef PF_TESTS_COMMON_PFTEST_PIPE_H
#define PF_TESTS_COMMON_PFTEST_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "control/control.h"
#include "dataplane/worker.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

/* Port indexes: the configuration's "net_pcap_edge" and "net_pcap_core". */
enum { PFT_EDGE, PFT_CORE };

struct pft_pipe_opts {
	const char *prog;     /* EAL's argv[0] */
	bool no_telemetry;    /* EAL --no-telemetry */
	const char *prefix;   /* names: <prefix>_pool, <prefix>_net_pcap_edge_rx, ... */
	unsigned pool_size;   /* mbufs */
	unsigned ring_size;   /* each port's RX and TX ring, and its descriptors */
	unsigned learn_size;  /* the worker's learn ring (elements); 0: none */
	const char *config;   /* the configuration file the ports are renamed in */
	/* Changes to the configuration before it is loaded (may be NULL); < 0 fails. */
	int (*edit)(json_t *root, void *arg);
	void *edit_arg;
	const char *tmpl;     /* temporary file for the configuration ("...XXXXXX.json") */
};

struct pft_pipe {
	struct rte_mempool *pool;
	struct rte_ring *rx[2], *tx[2], *learn;
	uint16_t pid[2];
	bool started[2], eal_up, built;
	struct pf_config *cfg;
	struct pf_tables tbl;
	struct pf_build bld;
	struct pf_worker *w;
	volatile bool quit;
};

/* Everything above, in *p (zeroed first); 0, or -1 with a message. What was set up before
 * a failure is released by pft_pipe_down(). */
int pft_pipe_up(struct pft_pipe *p, const struct pft_pipe_opts *o);

/* The worker, tables, configuration, ports, rings, pool, then EAL. The caller first
 * drains what it still needs from the TX rings and undoes its own additions (IPsec). */
void pft_pipe_down(struct pft_pipe *p);

/* pft_mbuf(p->pool, d, n, 0) or, when that fails, abort() with a message: a frame a test
 * sends. */
struct rte_mbuf *pft_frame_mbuf(struct pft_pipe *p, const void *d, size_t n);

/* The n mbufs as one burst received on port e (pf_worker_input()), then
 * pf_worker_flush(). */
void pft_input(struct pft_pipe *p, int e, struct rte_mbuf **m, unsigned n);

/* A transmitted frame, copied out of its mbufs. */
struct pft_frame {
	uint8_t d[2304];
	unsigned n;
};

/* Moves every mbuf port e (PFT_EDGE / PFT_CORE) transmitted, oldest first, into
 * out[*n] .. out[max - 1] (*n counts them) and frees it; one that does not fit (out full,
 * or longer than a pft_frame) counts in *lost instead. */
void pft_collect(struct pft_pipe *p, int e, struct pft_frame *out, unsigned max, unsigned *n,
		 unsigned *lost);

/* The edit of test_dataplane.c and fuzz_pipeline.c (arg unused): in contoso-private a
 * "drop" route 10.99.0.0/16 (blackhole) and, on its secondary link, the IPv6 subnet
 * 2001:db8:a2::/126 without a static neighbor (neighbor solicitation). */
int pft_edit_blackhole_nd(json_t *root, void *arg);

/* A received frame: n bytes of d in mbufs of pool, chained per seg_max bytes as a
 * scattering PMD delivers a large frame (seg_max 0: one mbuf). NULL when the pool is empty
 * or a segment does not fit an mbuf. */
struct rte_mbuf *pft_mbuf(struct rte_mempool *pool, const void *d, size_t n, size_t seg_max);

#endif
