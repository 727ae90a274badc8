/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker loop: RX bursts through the stages, TX flush, quiescent state report. */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/worker.h"

int
pf_worker_init(struct pf_worker *w, const struct pf_tables *t)
{
	w->t = t;
	w->c.ctx = rte_zmalloc("pf_ctx_cnt", sizeof(*w->c.ctx) * RTE_MAX(t->n_ctx, 1u),
			       RTE_CACHE_LINE_SIZE);
	w->c.cust = rte_zmalloc("pf_cust_cnt", sizeof(*w->c.cust) * RTE_MAX(t->n_cust, 1u),
				RTE_CACHE_LINE_SIZE);
	w->solicit_tsc = rte_zmalloc("pf_solicit", sizeof(uint64_t) * PF_MAX_NEIGH,
				     RTE_CACHE_LINE_SIZE);
	if (w->c.ctx == NULL || w->c.cust == NULL || w->solicit_tsc == NULL) {
		pf_worker_fini(w);
		return -ENOMEM;
	}
	if (w->burst == 0 || w->burst > PF_MAX_BURST)
		w->burst = 32;
	w->icmp_tsc_per_token = t->icmp_rate_pps ? rte_get_tsc_hz() / t->icmp_rate_pps : 0;
	w->icmp_tokens = t->icmp_rate_pps;
	w->icmp_last_tsc = rte_rdtsc();
	w->last_rx_tsc = rte_rdtsc();
	return 0;
}

void
pf_worker_fini(struct pf_worker *w)
{
	rte_free(w->c.ctx);
	rte_free(w->c.cust);
	rte_free(w->solicit_tsc);
	w->c.ctx = NULL;
	w->c.cust = NULL;
	w->solicit_tsc = NULL;
}

void
pf_worker_input(struct pf_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *ip[PF_MAX_BURST];
	struct pf_meta md[PF_MAX_BURST];
	uint16_t nip = 0;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	w->c.port[port].rx.pkts += n;
	w->c.port[port].rx.bytes += bytes;
	if (!w->no_fastpath)
		n = pf_fast_input(w, port, pkts, n);

	/* The general path: everything the fast path left, decided from scratch. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int et;

		md[nip].decap = 0;
		md[nip].billed = 0;
		md[nip].esp_cust = 0;
		et = pf_eth_input(w, port, m, &md[nip]);
		switch (et) {
		case -1:
			break;
		case RTE_ETHER_TYPE_IPV4:
			md[nip].family = 4;
			ip[nip++] = m;
			break;
		case RTE_ETHER_TYPE_IPV6:
			md[nip].family = 6;
			ip[nip++] = m;
			break;
		case RTE_ETHER_TYPE_ARP:
			pf_arp_input(w, m, &md[nip]);
			break;
		default:
			pf_drop(w, m, PF_DROP_bad_ethertype);
			break;
		}
	}
	if (nip)
		pf_ip_input(w, ip, md, nip);
}

int
pf_worker_main(void *arg)
{
	struct pf_worker *w = arg;
	struct rte_mbuf *pkts[PF_MAX_BURST];

	if (w->qsbr) {
		rte_rcu_qsbr_thread_register(w->qsbr, w->id);
		rte_rcu_qsbr_thread_online(w->qsbr, w->id);
	}
	while (!__atomic_load_n(w->quit, __ATOMIC_RELAXED)) {
		bool got = false;

		for (uint16_t q = 0; q < w->n_rxq; q++) {
			uint16_t port = w->rxq[q].port;
			uint16_t n = rte_eth_rx_burst(port, w->rxq[q].queue, pkts, w->burst);

			if (n) {
				got = true;
				pf_worker_input(w, port, pkts, n);
			}
		}
		pf_worker_flush(w);
		if (got)
			__atomic_store_n(&w->last_rx_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
		/* Nothing read from the tables is held past this point. */
		if (w->qsbr)
			rte_rcu_qsbr_quiescent(w->qsbr, w->id);
	}
	if (w->qsbr) {
		rte_rcu_qsbr_thread_offline(w->qsbr, w->id);
		rte_rcu_qsbr_thread_unregister(w->qsbr, w->id);
	}
	return 0;
}
