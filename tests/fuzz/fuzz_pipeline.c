/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the whole packet path of one worker (dataplane/), fed one frame at a
 * time through pf_worker_input() + pf_worker_flush(), as tests/unit/test_dataplane.c does.
 *
 * One-time set-up (first input): EAL without hugepages, two ring ports (rte_eth_from_rings,
 * ethdev names net_ring_<name>), the tables that control builds from a copy of
 * configs/exchange-provider.json with those port names (plus, like the unit test, a
 * blackhole route 10.99.0.0/16 in contoso-private and an IPv6 subnet without a static
 * neighbor on its secondary link), one worker with a learn ring.
 *
 * Input format: byte 0 = flags, the rest = one Ethernet frame (at most 9000 bytes).
 *   bit 0      0: received on the edge port, 1: on the core port
 *   bits 1..3  the frame is repeated (1 + value) times in one burst (bulk FIB lookup,
 *              re-routed GRE inner packets of several frames)
 *   bit 4      0: the frame is in ordinary mbufs of the pool (RTE_MBUF_DEFAULT_BUF_SIZE),
 *                 chained per 2048 bytes as a scattering PMD would deliver a jumbo frame;
 *              1: the frame is in an external buffer malloc'ed to exactly headroom + frame
 *                 length (rte_pktmbuf_attach_extbuf), so that ASan sees any read or write
 *                 past the frame's end and any use of the data after the mbuf was freed
 *                 (pool memory is invisible to ASan). No tailroom: a stage that needs to
 *                 grow such a frame in place must cope with rte_pktmbuf_append() failing.
 *   bit 5      1: before the frame is handed over, fix the checksums that gate the deeper
 *              stages, so that mutations of the fields behind them are not all dropped
 *              at the first check: the IPv4 header checksum (after 0-2 VLAN tags), that of
 *              an IPv4 packet inside GRE, and the ICMPv6 checksum of an IPv6 packet whose
 *              next header is ICMPv6 (neighbor discovery, echo)
 *   bits 6..7  ignored
 * After each input: the TX rings and the learn ring are drained, everything is freed and
 * the check is that the pool's available count is back to its initial value and that no
 * external buffer is still referenced (no mbuf leak, no double free slipping through).
 * Build and run: tests/fuzz/build_pipeline.sh [SECONDS].
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "common/config.h"
#include "common/counters.h"
#include "control/control.h"
#include "dataplane/worker.h"
#include "tests/common/pftest.h"
#include "tests/common/pftest_pipe.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"

#define POOL_SIZE 4095
#define RING_SIZE 1024
#define LEARN_SIZE 64
#define MAX_FRAME 9000
#define SEG_ROOM (RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM)

enum { EDGE = PFT_EDGE, CORE = PFT_CORE };

static struct pft_pipe P; /* pool, ports, tables, worker (tests/common/pftest_pipe.h) */
static struct pf_worker *w; /* P.w */
static unsigned pool_avail0;
static long ext_live; /* external buffers not yet released by their last mbuf */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIE(...)                                                                           \
	do {                                                                               \
		fprintf(stderr, "fuzz_pipeline: " __VA_ARGS__);                            \
		fputc('\n', stderr);                                                       \
		abort();                                                                   \
	} while (0)

/* ------------------------------------------------------------------------------------ */
/* One-time set-up, as tests/unit/test_dataplane.c suite_init()                         */

static void
setup(void)
{
	static const struct pft_pipe_opts o = {
		.prog = "fuzz_pipeline", .no_telemetry = true, .prefix = "fz",
		.pool_size = POOL_SIZE, .ring_size = RING_SIZE, .learn_size = LEARN_SIZE,
		.config = EXAMPLE, .edit = pft_edit_blackhole_nd,
		.tmpl = "/tmp/pf_fuzz_pipeline_XXXXXX.json"};

	if (pft_pipe_up(&P, &o) < 0)
		DIE("set-up failed");
	w = P.w;
	pool_avail0 = rte_mempool_avail_count(P.pool);
}

/* ------------------------------------------------------------------------------------ */
/* Building the received mbufs                                                          */

static void
ext_free(void *addr, void *opaque)
{
	(void)addr;
	free(opaque);
	ext_live--;
}

/* Pool mbufs, chained per SEG_ROOM bytes like a scattering PMD. */
static struct rte_mbuf *
mk_pool(const uint8_t *d, size_t n)
{
	struct rte_mbuf *m = pft_mbuf(P.pool, d, n, SEG_ROOM);

	if (m == NULL)
		DIE("mbuf pool empty (%u available, %u at start)",
		    rte_mempool_avail_count(P.pool), pool_avail0);
	return m;
}

/* One mbuf whose data is a heap buffer of exactly headroom + n bytes (ASan-visible). */
struct extbuf {
	struct rte_mbuf_ext_shared_info shinfo;
	uint8_t room[]; /* RTE_PKTMBUF_HEADROOM + frame */
};

static struct rte_mbuf *
mk_ext(const uint8_t *d, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(P.pool);
	struct extbuf *x;
	uint16_t room = (uint16_t)(RTE_PKTMBUF_HEADROOM + n);

	if (m == NULL)
		DIE("mbuf pool empty");
	x = malloc(sizeof(*x) + room);
	if (x == NULL)
		DIE("out of memory");
	memset(&x->shinfo, 0, sizeof(x->shinfo));
	x->shinfo.free_cb = ext_free;
	x->shinfo.fcb_opaque = x;
	rte_mbuf_ext_refcnt_set(&x->shinfo, 1);
	memset(x->room, 0, RTE_PKTMBUF_HEADROOM);
	ext_live++;
	rte_pktmbuf_attach_extbuf(m, x->room, RTE_BAD_IOVA, room, &x->shinfo);
	m->data_off = RTE_PKTMBUF_HEADROOM;
	memcpy(x->room + RTE_PKTMBUF_HEADROOM, d, n);
	m->data_len = (uint16_t)n;
	m->pkt_len = (uint32_t)n;
	return m;
}

/* ------------------------------------------------------------------------------------ */
/* Checksum fix-up (flag bit 5)                                                         */

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv4 header at d (n bytes available): fix its checksum; returns the header length or 0. */
static size_t
fix_ip4(uint8_t *d, size_t n)
{
	size_t hl;

	if (n < 20 || (d[0] >> 4) != 4)
		return 0;
	hl = (size_t)(d[0] & 15) * 4;
	if (hl < 20 || hl > n)
		return 0;
	wr16(d + 10, 0);
	wr16(d + 10, pft_cksum(d, hl));
	return hl;
}

static void
fix_checksums(uint8_t *d, size_t n)
{
	size_t off = 12, hl;
	uint16_t et;

	if (n < 14)
		return;
	et = rd16(d + off);
	for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8) && n >= off + 6; i++) {
		off += 4;
		et = rd16(d + off);
	}
	off += 2;
	if (et == 0x0800 && (hl = fix_ip4(d + off, n - off)) != 0) {
		uint8_t *g = d + off + hl;
		size_t gl = 4;

		if (d[off + 9] != 47 || n < off + hl + 4 || rd16(g + 2) != 0x0800)
			return;
		gl += (g[0] & 0x80 ? 4 : 0) + (g[0] & 0x20 ? 4 : 0) + (g[0] & 0x10 ? 4 : 0);
		if (n >= off + hl + gl)
			fix_ip4(g + gl, n - (off + hl + gl));
	} else if (et == 0x86dd && n >= off + 40 + 4 && d[off + 6] == 58) {
		uint8_t *ip6 = d + off, *ic = d + off + 40;
		size_t plen = rd16(ip6 + 4), have = n - off - 40;
		uint32_t s;

		if (plen > have)
			plen = have;
		if (plen < 4)
			return;
		wr16(ic + 2, 0);
		s = pft_sum16(ip6 + 8, 32, 0) + (uint32_t)plen + 58;
		wr16(ic + 2, (uint16_t)~pft_fold(pft_sum16(ic, plen, s)));
	}
}

/* ------------------------------------------------------------------------------------ */

static bool verbose; /* FUZZ_PIPELINE_VERBOSE=1: what each input did (for seed checks) */
static uint64_t last_drop[PF_DROP_MAX], last_ev[PF_EV_MAX];

static void
report(unsigned tx[2])
{
	fprintf(stderr, "fuzz_pipeline: tx edge %u core %u", tx[EDGE], tx[CORE]);
	for (int i = 0; i < PF_DROP_MAX; i++)
		if (w->c.drop[i] != last_drop[i])
			fprintf(stderr, " drop:%s+%" PRIu64, pf_drop_names[i], w->c.drop[i] - last_drop[i]);
	for (int i = 0; i < PF_EV_MAX; i++)
		if (w->c.event[i] != last_ev[i])
			fprintf(stderr, " %s+%" PRIu64, pf_event_names[i], w->c.event[i] - last_ev[i]);
	fputc('\n', stderr);
	memcpy(last_drop, w->c.drop, sizeof(last_drop));
	memcpy(last_ev, w->c.event, sizeof(last_ev));
}

static void
drain(void)
{
	struct pf_learn_msg msg;
	unsigned tx[2] = {0, 0};

	for (int e = 0; e < 2; e++) {
		void *objs[64];
		unsigned k;

		while ((k = rte_ring_dequeue_burst(P.tx[e], objs, RTE_DIM(objs), NULL)) != 0)
			for (unsigned i = 0; i < k; i++) {
				struct rte_mbuf *m = objs[i];

				/* what left must be a sane mbuf chain: walk it */
				if (rte_mbuf_check(m, 1, NULL) != 0)
					DIE("transmitted a malformed mbuf");
				tx[e]++;
				rte_pktmbuf_free(m);
			}
		/* nothing may be left in a port's RX ring (the worker never polls here) */
		if (rte_ring_count(P.rx[e]) != 0)
			DIE("RX ring of port %d not empty", e);
	}
	while (rte_ring_dequeue_elem(P.learn, &msg, sizeof(msg)) == 0)
		if (msg.neigh >= P.tbl.n_neigh)
			DIE("learn message for neighbor %u of %u", msg.neigh, P.tbl.n_neigh);
	if (verbose)
		report(tx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool up;
	static uint8_t frame[MAX_FRAME];
	struct rte_mbuf *pkts[8];
	unsigned copies, avail;
	int port;
	bool ext;

	if (!up) {
		setup();
		verbose = getenv("FUZZ_PIPELINE_VERBOSE") != NULL;
		up = true;
	}
	if (size < 2 || size - 1 > MAX_FRAME)
		return -1; /* not added to the corpus */
	port = data[0] & 1 ? CORE : EDGE;
	copies = 1 + ((data[0] >> 1) & 7);
	ext = (data[0] >> 4) & 1;
	if (data[0] & 0x20) {
		memcpy(frame, data + 1, size - 1);
		fix_checksums(frame, size - 1);
		data = frame;
	} else {
		data++;
	}
	size--;

	/* same starting point for every input: ICMP tokens full, no recent solicitation */
	w->icmp_tokens = P.tbl.icmp_rate_pps;
	w->icmp_last_tsc = rte_rdtsc();
	memset(w->solicit_tsc, 0, sizeof(uint64_t) * P.tbl.n_neigh);

	for (unsigned i = 0; i < copies; i++)
		pkts[i] = ext ? mk_ext(data, size) : mk_pool(data, size);
	pf_worker_input(w, P.pid[port], pkts, (uint16_t)copies);
	pf_worker_flush(w);
	drain();

	for (int p = 0; p < PF_MAX_PORTS; p++)
		if (w->tx[p].n != 0)
			DIE("TX buffer of port %d holds %u mbufs after pf_worker_flush", p, w->tx[p].n);
	avail = rte_mempool_avail_count(P.pool);
	if (avail != pool_avail0)
		DIE("mbuf leak: pool has %u available, %u before the input (%s, %u copies, port %s)",
		    avail, pool_avail0, ext ? "external buffer" : "pool mbufs", copies,
		    port == CORE ? "core" : "edge");
	if (ext_live != 0)
		DIE("%ld external buffers still referenced after the input", ext_live);
	return 0;
}
