/* SPDX-License-Identifier: BSD-3-Clause */
/* Burst TX per port on the worker's own queue; what the NIC refuses is freed and counted. */
#include <rte_ethdev.h>

#include "dataplane/esp.h"
#include "dataplane/worker.h"

void
pf_tx_flush_port(struct pf_worker *w, uint16_t port)
{
	struct pf_txbuf *b = &w->tx[port];
	uint64_t bytes = 0;
	uint16_t sent;

	sent = rte_eth_tx_burst(port, w->txq[port], b->pkts, b->n);
	for (uint16_t i = 0; i < sent; i++)
		bytes += rte_pktmbuf_pkt_len(b->pkts[i]);
	w->c.port[port].tx.pkts += sent;
	w->c.port[port].tx.bytes += bytes;
	if (unlikely(sent < b->n)) {
		w->c.drop[PF_DROP_tx_full] += b->n - sent;
		rte_pktmbuf_free_bulk(&b->pkts[sent], b->n - sent);
	}
	b->n = 0;
}

void
pf_worker_flush(struct pf_worker *w)
{
	if (unlikely(w->esp != NULL))
		pf_esp_flush(w); /* ESP batch first: it ends in the TX buffers */
	for (uint16_t p = 0; p < w->t->n_ports; p++)
		if (w->tx[p].n)
			pf_tx_flush_port(w, p);
}
