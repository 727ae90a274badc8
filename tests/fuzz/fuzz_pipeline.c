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

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"

#define POOL_SIZE 4095
#define RING_SIZE 1024
#define LEARN_SIZE 64
#define MAX_FRAME 9000
#define SEG_ROOM (RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM)

enum { EDGE, CORE };

static struct rte_mempool *pool;
static struct rte_ring *rx_ring[2], *tx_ring[2], *learn;
static uint16_t pid[2];
static struct pf_config *cfg;
static struct pf_tables tbl;
static struct pf_build bld;
static struct pf_worker *w;
static volatile bool quit_flag;
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
rename_strings(json_t *j, const char *from, const char *to)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (json_is_string(v) && strcmp(json_string_value(v), from) == 0)
				json_string_set(v, to);
			else
				rename_strings(v, from, to);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_string(v) && strcmp(json_string_value(v), from) == 0)
				json_string_set(v, to);
			else
				rename_strings(v, from, to);
		}
	}
}

static void
write_config(char *path, size_t len, const char *edge_name, const char *core_name)
{
	json_error_t je;
	json_t *root = json_load_file(EXAMPLE, 0, &je), *custs, *c, *cxs, *cx, *routes;
	size_t i, k;
	int fd;

	if (root == NULL)
		DIE("%s:%d: %s", EXAMPLE, je.line, je.text);
	rename_strings(root, "net_pcap_edge", edge_name);
	rename_strings(root, "net_pcap_core", core_name);
	custs = json_object_get(root, "customers");
	json_array_foreach(custs, i, c) {
		cxs = json_object_get(c, "contexts");
		json_array_foreach(cxs, k, cx) {
			const char *name = json_string_value(json_object_get(cx, "name"));

			if (name == NULL || strcmp(name, "contoso-private") != 0)
				continue;
			routes = json_object_get(cx, "routes");
			if (routes == NULL) {
				routes = json_array();
				json_object_set_new(cx, "routes", routes);
			}
			json_array_append_new(routes, json_pack("{s:s, s:s}", "prefix", "10.99.0.0/16",
								"via", "drop"));
			if (json_is_object(json_object_get(cx, "secondary")))
				json_object_set_new(json_object_get(cx, "secondary"), "subnet6",
						    json_string("2001:db8:a2::/126"));
		}
	}
	snprintf(path, len, "/tmp/pf_fuzz_pipeline_XXXXXX.json");
	fd = mkstemps(path, 5);
	if (fd < 0)
		DIE("mkstemps failed");
	close(fd);
	if (json_dump_file(root, path, JSON_INDENT(2)) != 0)
		DIE("cannot write %s", path);
	json_decref(root);
}

static void
port_up(int e, const char *name)
{
	struct rte_eth_conf conf;
	char rname[RTE_RING_NAMESIZE];
	int r;

	snprintf(rname, sizeof(rname), "fz_%s_rx", name);
	rx_ring[e] = rte_ring_create(rname, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rname, sizeof(rname), "fz_%s_tx", name);
	tx_ring[e] = rte_ring_create(rname, RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (rx_ring[e] == NULL || tx_ring[e] == NULL)
		DIE("rings for %s: %s", name, rte_strerror(rte_errno));
	r = rte_eth_from_rings(name, &rx_ring[e], 1, &tx_ring[e], 1, SOCKET_ID_ANY);
	if (r < 0)
		DIE("rte_eth_from_rings(%s): %s", name, rte_strerror(rte_errno));
	pid[e] = (uint16_t)r;
	memset(&conf, 0, sizeof(conf));
	if ((r = rte_eth_dev_configure(pid[e], 1, 1, &conf)) < 0 ||
	    (r = rte_eth_rx_queue_setup(pid[e], 0, RING_SIZE, SOCKET_ID_ANY, NULL, pool)) < 0 ||
	    (r = rte_eth_tx_queue_setup(pid[e], 0, RING_SIZE, SOCKET_ID_ANY, NULL)) < 0 ||
	    (r = rte_eth_dev_start(pid[e])) < 0)
		DIE("port %s: %s", name, strerror(-r));
}

static void
setup(void)
{
	static char a0[] = "fuzz_pipeline", a1[] = "--no-huge", a2[] = "--no-shconf", a3[] = "-m",
		    a4[] = "256", a5[] = "--no-pci", a6[] = "-l", a7[] = "0",
		    a8[] = "--log-level=*:error", a9[] = "--no-telemetry";
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, NULL};
	char edge_name[RTE_ETH_NAME_MAX_LEN], core_name[RTE_ETH_NAME_MAX_LEN];
	char path[128], err[1024];

	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0)
		DIE("rte_eal_init: %s", rte_strerror(rte_errno));
	/* no per-lcore cache: the available count is exact after every input */
	pool = rte_pktmbuf_pool_create("fz_pool", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		DIE("mbuf pool: %s", rte_strerror(rte_errno));
	port_up(EDGE, "net_pcap_edge");
	port_up(CORE, "net_pcap_core");
	if (rte_eth_dev_get_name_by_port(pid[EDGE], edge_name) != 0 ||
	    rte_eth_dev_get_name_by_port(pid[CORE], core_name) != 0)
		DIE("port names");
	write_config(path, sizeof(path), edge_name, core_name);
	if (pf_config_load(path, &cfg, err, sizeof(err)) < 0) {
		unlink(path);
		DIE("pf_config_load: %s", err);
	}
	unlink(path);
	if (pf_tables_build(&bld, cfg, &tbl, NULL) < 0)
		DIE("pf_tables_build: %s", bld.err);
	learn = rte_ring_create_elem("fz_learn", sizeof(struct pf_learn_msg), LEARN_SIZE,
				     SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	w = rte_zmalloc("fz_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (learn == NULL || w == NULL)
		DIE("learn ring / worker: out of memory");
	w->id = 0;
	w->lcore = rte_lcore_id();
	w->pool = pool;
	w->learn = learn;
	w->burst = 32;
	w->quit = &quit_flag;
	if (pf_worker_init(w, &tbl) < 0)
		DIE("pf_worker_init failed");
	pool_avail0 = rte_mempool_avail_count(pool);
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
	struct rte_mbuf *head = NULL, *last = NULL;
	size_t off = 0;

	do {
		size_t k = n - off < SEG_ROOM ? n - off : SEG_ROOM;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char *p;

		if (m == NULL)
			DIE("mbuf pool empty (%u available, %u at start)",
			    rte_mempool_avail_count(pool), pool_avail0);
		p = rte_pktmbuf_append(m, (uint16_t)k);
		if (p == NULL)
			DIE("segment of %zu bytes does not fit", k);
		memcpy(p, d + off, k);
		off += k;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += (uint32_t)k;
		}
		last = m;
	} while (off < n);
	return head;
}

/* One mbuf whose data is a heap buffer of exactly headroom + n bytes (ASan-visible). */
struct extbuf {
	struct rte_mbuf_ext_shared_info shinfo;
	uint8_t room[]; /* RTE_PKTMBUF_HEADROOM + frame */
};

static struct rte_mbuf *
mk_ext(const uint8_t *d, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
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

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
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
	wr16(d + 10, fold(sum16(d, hl, 0)));
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
		s = sum16(ip6 + 8, 32, 0) + (uint32_t)plen + 58;
		wr16(ic + 2, fold(sum16(ic, plen, s)));
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

		while ((k = rte_ring_dequeue_burst(tx_ring[e], objs, RTE_DIM(objs), NULL)) != 0)
			for (unsigned i = 0; i < k; i++) {
				struct rte_mbuf *m = objs[i];

				/* what left must be a sane mbuf chain: walk it */
				if (rte_mbuf_check(m, 1, NULL) != 0)
					DIE("transmitted a malformed mbuf");
				tx[e]++;
				rte_pktmbuf_free(m);
			}
		/* nothing may be left in a port's RX ring (the worker never polls here) */
		if (rte_ring_count(rx_ring[e]) != 0)
			DIE("RX ring of port %d not empty", e);
	}
	while (rte_ring_dequeue_elem(learn, &msg, sizeof(msg)) == 0)
		if (msg.neigh >= tbl.n_neigh)
			DIE("learn message for neighbor %u of %u", msg.neigh, tbl.n_neigh);
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
	w->icmp_tokens = tbl.icmp_rate_pps;
	w->icmp_last_tsc = rte_rdtsc();
	memset(w->solicit_tsc, 0, sizeof(uint64_t) * tbl.n_neigh);

	for (unsigned i = 0; i < copies; i++)
		pkts[i] = ext ? mk_ext(data, size) : mk_pool(data, size);
	pf_worker_input(w, pid[port], pkts, (uint16_t)copies);
	pf_worker_flush(w);
	drain();

	for (int p = 0; p < PF_MAX_PORTS; p++)
		if (w->tx[p].n != 0)
			DIE("TX buffer of port %d holds %u mbufs after pf_worker_flush", p, w->tx[p].n);
	avail = rte_mempool_avail_count(pool);
	if (avail != pool_avail0)
		DIE("mbuf leak: pool has %u available, %u before the input (%s, %u copies, port %s)",
		    avail, pool_avail0, ext ? "external buffer" : "pool mbufs", copies,
		    port == CORE ? "core" : "edge");
	if (ext_live != 0)
		DIE("%ld external buffers still referenced after the input", ext_live);
	return 0;
}
