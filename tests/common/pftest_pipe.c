/* SPDX-License-Identifier: BSD-3-Clause */
/* The packet-path fixture (see pftest_pipe.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "common/config.h"
#include "control/control.h"
#include "dataplane/worker.h"
#include "tests/common/pftest.h"
#include "tests/common/pftest_pipe.h"

/* Port e (PFT_EDGE / PFT_CORE): a ring port named after the configuration's port, one RX
 * and one TX queue, started; its ethdev name in devname. */
static int
port_up(struct pft_pipe *p, const struct pft_pipe_opts *o, int e, const char *name,
	char *devname)
{
	struct rte_eth_conf conf;
	char prefix[RTE_RING_NAMESIZE];
	int r;

	snprintf(prefix, sizeof(prefix), "%s_%s", o->prefix, name);
	r = pft_ring_port(name, prefix, o->ring_size, &p->rx[e], &p->tx[e], devname);
	if (r < 0)
		return -1;
	p->pid[e] = (uint16_t)r;
	memset(&conf, 0, sizeof(conf));
	if ((r = rte_eth_dev_configure(p->pid[e], 1, 1, &conf)) < 0 ||
	    (r = rte_eth_rx_queue_setup(p->pid[e], 0, o->ring_size, SOCKET_ID_ANY, NULL,
					p->pool)) < 0 ||
	    (r = rte_eth_tx_queue_setup(p->pid[e], 0, o->ring_size, SOCKET_ID_ANY, NULL)) < 0 ||
	    (r = rte_eth_dev_start(p->pid[e])) < 0) {
		fprintf(stderr, "port %s: %s\n", name, strerror(-r));
		return -1;
	}
	p->started[e] = true;
	return 0;
}

int
pft_pipe_up(struct pft_pipe *p, const struct pft_pipe_opts *o)
{
	char edge_name[RTE_ETH_NAME_MAX_LEN], core_name[RTE_ETH_NAME_MAX_LEN];
	char name[RTE_MEMZONE_NAMESIZE];
	json_t *root;

	memset(p, 0, sizeof(*p));
	if (pft_eal_init_args(o->prog, 256, o->no_telemetry ? "--no-telemetry" : NULL) < 0)
		return -1;
	p->eal_up = true;
	/* no per-lcore cache: the available count is exact after every frame */
	snprintf(name, sizeof(name), "%s_pool", o->prefix);
	p->pool = rte_pktmbuf_pool_create(name, o->pool_size, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	if (p->pool == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (port_up(p, o, PFT_EDGE, "net_pcap_edge", edge_name) < 0 ||
	    port_up(p, o, PFT_CORE, "net_pcap_core", core_name) < 0)
		return -1;
	root = pft_config_json_ports(o->config, edge_name, core_name);
	if (root == NULL)
		return -1;
	if (o->edit != NULL && o->edit(root, o->edit_arg) < 0) {
		json_decref(root);
		return -1;
	}
	p->cfg = pft_config_json(root, o->tmpl);
	json_decref(root);
	if (p->cfg == NULL || pft_tables_build(&p->bld, p->cfg, &p->tbl, &p->built) < 0)
		return -1;
	if (o->learn_size != 0) {
		snprintf(name, sizeof(name), "%s_learn", o->prefix);
		p->learn = rte_ring_create_elem(name, sizeof(struct pf_learn_msg), o->learn_size,
						SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (p->learn == NULL) {
			fprintf(stderr, "learn ring: %s\n", rte_strerror(rte_errno));
			return -1;
		}
	}
	snprintf(name, sizeof(name), "%s_worker", o->prefix);
	p->w = rte_zmalloc(name, sizeof(*p->w), RTE_CACHE_LINE_SIZE);
	if (p->w == NULL) {
		fprintf(stderr, "worker: out of memory\n");
		return -1;
	}
	p->w->id = 0;
	p->w->lcore = rte_lcore_id();
	p->w->pool = p->pool;
	p->w->learn = p->learn;
	p->w->burst = 32;
	p->w->quit = &p->quit;
	if (pf_worker_init(p->w, &p->tbl) < 0) {
		fprintf(stderr, "pf_worker_init failed\n");
		rte_free(p->w);
		p->w = NULL;
		return -1;
	}
	return 0;
}

void
pft_pipe_down(struct pft_pipe *p)
{
	if (p->w != NULL) {
		pf_worker_fini(p->w);
		rte_free(p->w);
		p->w = NULL;
	}
	if (p->built) {
		pf_build_free(&p->bld);
		pf_tables_free(&p->tbl);
		p->built = false;
	}
	pf_config_free(p->cfg);
	p->cfg = NULL;
	for (int e = 0; e < 2; e++)
		if (p->started[e]) {
			rte_eth_dev_stop(p->pid[e]);
			rte_eth_dev_close(p->pid[e]);
			p->started[e] = false;
		}
	for (int e = 0; e < 2; e++) {
		rte_ring_free(p->rx[e]);
		rte_ring_free(p->tx[e]);
		p->rx[e] = p->tx[e] = NULL;
	}
	rte_ring_free(p->learn);
	p->learn = NULL;
	rte_mempool_free(p->pool);
	p->pool = NULL;
	if (p->eal_up)
		rte_eal_cleanup();
	p->eal_up = false;
}

struct rte_mbuf *
pft_frame_mbuf(struct pft_pipe *p, const void *d, size_t n)
{
	struct rte_mbuf *m = pft_mbuf(p->pool, d, n, 0);

	if (m == NULL) {
		fprintf(stderr, "no mbuf for a frame of %zu bytes (pool empty, or frame too long)\n",
			n);
		abort();
	}
	return m;
}

void
pft_input(struct pft_pipe *p, int e, struct rte_mbuf **m, unsigned n)
{
	pf_worker_input(p->w, p->pid[e], m, (uint16_t)n);
	pf_worker_flush(p->w);
}

void
pft_collect(struct pft_pipe *p, int e, struct pft_frame *out, unsigned max, unsigned *n,
	    unsigned *lost)
{
	void *objs[32];
	unsigned k;

	while ((k = rte_ring_dequeue_burst(p->tx[e], objs, RTE_DIM(objs), NULL)) != 0) {
		for (unsigned i = 0; i < k; i++) {
			struct rte_mbuf *m = objs[i];

			if (*n < max && rte_pktmbuf_pkt_len(m) <= sizeof(out->d)) {
				struct pft_frame *f = &out[(*n)++];
				const void *d;

				f->n = rte_pktmbuf_pkt_len(m);
				d = rte_pktmbuf_read(m, 0, f->n, f->d);
				if (d != f->d)
					memcpy(f->d, d, f->n);
			} else {
				(*lost)++;
			}
			rte_pktmbuf_free(m);
		}
	}
}

int
pft_edit_blackhole_nd(json_t *root, void *arg)
{
	json_t *c, *cx, *routes;
	size_t i, k;
	bool added = false;

	(void)arg;
	json_array_foreach(json_object_get(root, "customers"), i, c) {
		json_array_foreach(json_object_get(c, "contexts"), k, cx) {
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
			/* an IPv6 peer without a static MAC, for neighbor solicitation */
			if (json_is_object(json_object_get(cx, "secondary")))
				json_object_set_new(json_object_get(cx, "secondary"), "subnet6",
						    json_string("2001:db8:a2::/126"));
			added = true;
		}
	}
	if (!added) {
		fprintf(stderr, "the configuration has no context contoso-private\n");
		return -1;
	}
	return 0;
}

struct rte_mbuf *
pft_mbuf(struct rte_mempool *pool, const void *d, size_t n, size_t seg_max)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	size_t off = 0;

	do {
		size_t k = seg_max == 0 || n - off < seg_max ? n - off : seg_max;
		struct rte_mbuf *m = k <= UINT16_MAX ? rte_pktmbuf_alloc(pool) : NULL;
		char *q = m != NULL ? rte_pktmbuf_append(m, (uint16_t)k) : NULL;

		if (q == NULL) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		memcpy(q, (const uint8_t *)d + off, k);
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
