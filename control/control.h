/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread: builds the dataplane tables from the configuration and is their
 * only writer afterwards. */
#ifndef PEERFWD_CONTROL_H
#define PEERFWD_CONTROL_H

#include <stdio.h>

#include "common/config.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"

struct pf_core_info {
	uint16_t port;
	bool have4, have6;
	const struct pf_port_conf *pc;
	uint32_t nh_core4, nh_core6; /* plain toward the gateways */
};

/* Writer-side bookkeeping kept next to the tables for the control thread's lifetime
 * (never read by workers). */
struct pf_build {
	struct pf_tables *t;
	const struct pf_config *cfg;
	struct pf_core_info ci;
	const struct pf_context_conf **ctx_conf; /* [n_ctx], NULL for the core context */
	const struct pf_customer_conf **ctx_cust; /* [n_ctx] */
	char err[512];
};

/* Compile cfg into t (ports must be probed: names are resolved to DPDK port ids).
 * Returns 0 or a negative errno with a message in b->err. */
int pf_tables_build(struct pf_build *b, const struct pf_config *cfg, struct pf_tables *t,
		    struct rte_rcu_qsbr *qsbr);
void pf_tables_free(struct pf_tables *t);
void pf_build_free(struct pf_build *b);
/* The next hop for a route in ctx via address a: a peer of one of the context's links
 * (toward the customer router), the customer's GRE tunnel destination (private context),
 * or an address on the core subnet (plain). 0, or -ENOENT when a is none of those. */
int pf_build_resolve(struct pf_build *b, uint16_t ctx, const struct pf_addr *a, uint32_t *nh);
/* Find or add a next-hop object equal to *want (ECMP groups are built this way). */
int pf_build_nh(struct pf_build *b, const struct pf_nexthop *want, uint32_t *out);

struct pf_applier;
struct pf_ipsec;

/* Sum the workers' counters and print them: human table or JSON. */
struct pf_stats_src {
	const struct pf_tables *t;
	const struct pf_config *cfg;
	struct pf_worker **workers;
	unsigned n_workers;
	struct rte_mempool *pool;
	unsigned pool_size;
	const struct pf_applier *applier;  /* NULL before it exists */
	const struct pf_ipsec *ipsec;      /* NULL: no IPsec (control/ipsec.h) */
};
void pf_stats_print(FILE *f, const struct pf_stats_src *s);
/* Write the JSON counters to path atomically (path.tmp, then rename). */
int pf_stats_write_json(const char *path, const struct pf_stats_src *s);

/* DPDK telemetry commands /peerfwd/{stats,drops,context,customer,applier}
 * (control/telemetry.c). attach: register (once) and serve s, which must stay valid until
 * detach; publish: the control thread copies the applier's counters for the telemetry
 * threads (call it from the control thread only, often). */
int pf_telemetry_attach(const struct pf_stats_src *s);
void pf_telemetry_detach(void);
void pf_telemetry_publish(const struct pf_applier *a);

#endif
