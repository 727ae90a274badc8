/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packets addressed to one of our addresses: ICMP/ICMPv6 echo is answered, GRE from a
 * configured cloud endpoint is terminated (gre.c), anything else is dropped and counted
 * (the BGP daemon runs outside peerfwd).
 */
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/esp.h"
#include "dataplane/pkt.h"
#include "dataplane/worker.h"

void
pf_local_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md,
	       struct rte_mbuf **again, struct pf_meta *again_md, uint16_t *n_again)
{
	uint8_t proto;

	if (md->family == 4) {
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);

		/* We do not reassemble: a fragment for us can only be dropped. */
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
			pf_drop(w, m, PF_DROP_frag_for_us);
			return;
		}
		proto = ip->next_proto_id;
		if (proto == IPPROTO_ICMP) {
			pf_icmp_echo(w, m, md);
			return;
		}
	} else {
		const struct rte_ipv6_hdr *ip =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, md->l3);

		proto = ip->proto;
		if (proto == IPPROTO_FRAGMENT) {
			pf_drop(w, m, PF_DROP_frag_for_us);
			return;
		}
		if (proto == IPPROTO_ICMPV6) {
			/* unicast neighbor solicitations (reachability probes) come here too */
			if (!pf_nd_input(w, m, md))
				pf_icmp_echo(w, m, md);
			return;
		}
	}
	if (proto == IPPROTO_ESP && md->ctx == PF_CTX_CORE && !md->decap && w->esp != NULL) {
		pf_esp_input(w, m, md); /* batched; decrypted GRE comes back through again[] */
		return;
	}
	if (proto == IPPROTO_GRE && md->ctx == PF_CTX_CORE && !md->decap) {
		if (pf_gre_decap(w, m, md) == 0) {
			again[*n_again] = m;
			again_md[*n_again] = *md;
			(*n_again)++;
		}
		return;
	}
	pf_drop(w, m, PF_DROP_not_for_us);
}
