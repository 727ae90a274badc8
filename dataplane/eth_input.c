/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2 input: which peering context does a frame belong to?
 * Edge ports carry customer frames with one 802.1Q tag (the ExpressRoute VLAN, e.g. 555
 * private / 556 public) or two tags (QinQ: outer 0x88a8 per IEEE 802.1ad, or 0x8100 as
 * ExpressRoute Direct uses for both). Core ports carry untagged frames of the core context.
 */
#include <rte_byteorder.h>
#include <rte_ether.h>

#include "dataplane/pkt.h"
#include "dataplane/worker.h"

/* Returns the L3 EtherType (host order) with md filled, or -1 after dropping m. */
int
pf_eth_input(struct pf_worker *w, uint16_t port, struct rte_mbuf *m, struct pf_meta *md)
{
	const struct pf_tables *t = w->t;
	const struct pf_port *p = &t->port[port];
	uint32_t len = rte_pktmbuf_data_len(m);
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const void *)d;
	uint16_t et, off = sizeof(*eth), ctx;

	/* Jumbo frames arrive segmented; nothing we route may exceed one segment. */
	if (m->nb_segs != 1) {
		pf_drop(w, m, PF_DROP_rx_oversize);
		return -1;
	}
	if (len < sizeof(*eth)) {
		pf_drop(w, m, PF_DROP_runt);
		return -1;
	}
	if (rte_is_unicast_ether_addr(&eth->dst_addr) &&
	    !rte_is_same_ether_addr(&eth->dst_addr, &p->mac)) {
		pf_drop(w, m, PF_DROP_l2_not_ours);
		return -1;
	}
	et = rte_be_to_cpu_16(eth->ether_type);
	if (p->is_core) {
		if (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) {
			pf_drop(w, m, PF_DROP_unknown_vlan);
			return -1;
		}
		ctx = PF_CTX_CORE;
	} else {
		uint16_t vid1, vid2;

		if (et != RTE_ETHER_TYPE_VLAN && et != RTE_ETHER_TYPE_QINQ) {
			pf_drop(w, m, PF_DROP_untagged);
			return -1;
		}
		if (len < off + 4u) {
			pf_drop(w, m, PF_DROP_runt);
			return -1;
		}
		vid1 = pf_rd16(d + off) & 0xfff;
		et = pf_rd16(d + off + 2);
		off += 4;
		if (et == RTE_ETHER_TYPE_VLAN) {
			if (len < off + 4u) {
				pf_drop(w, m, PF_DROP_runt);
				return -1;
			}
			vid2 = pf_rd16(d + off) & 0xfff;
			et = pf_rd16(d + off + 2);
			off += 4;
			ctx = pf_qinq_lookup(t, port, vid1, vid2);
		} else if (rte_be_to_cpu_16(eth->ether_type) == RTE_ETHER_TYPE_QINQ) {
			/* an S-tag alone names no customer context */
			ctx = PF_CTX_NONE;
		} else {
			ctx = p->vlan_ctx[vid1];
		}
		if (ctx == PF_CTX_NONE) {
			pf_drop(w, m, PF_DROP_unknown_vlan);
			return -1;
		}
	}
	if (len - off > p->mtu) {
		pf_drop(w, m, PF_DROP_rx_oversize);
		return -1;
	}
	md->ctx = ctx;
	md->l3 = off;
	md->in_port = port;
	md->from_core = p->is_core;
	if (!p->is_core) {
		w->c.ctx[ctx].in.pkts++;
		w->c.ctx[ctx].in.bytes += len - off;
	}
	return et;
}
