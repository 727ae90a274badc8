/* SPDX-License-Identifier: BSD-3-Clause */
/* The control thread: builds the dataplane tables from the configuration and is their
 * only writer afterwards. */
#ifndef PEERFWD_CONTROL_H
#define PEERFWD_CONTROL_H

#include <stdio.h>

#include "common/config.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"

/* Writer-side bookkeeping kept next to the tables (never read by workers). */
struct pf_build {
	struct pf_tables *t;
	uint32_t cap_nh, cap_neigh;
	char err[512];
};

/* Compile cfg into t (ports must be probed: names are resolved to DPDK port ids).
 * Returns 0 or a negative errno with a message in b->err. */
int pf_tables_build(struct pf_build *b, const struct pf_config *cfg, struct pf_tables *t,
		    struct rte_rcu_qsbr *qsbr);
void pf_tables_free(struct pf_tables *t);

/* Sum the workers' counters and print them: human table or JSON. */
struct pf_stats_src {
	const struct pf_tables *t;
	const struct pf_config *cfg;
	struct pf_worker **workers;
	unsigned n_workers;
	struct rte_mempool *pool;
	unsigned pool_size;
};
void pf_stats_print(FILE *f, const struct pf_stats_src *s);
int pf_stats_write_json(const char *path, const struct pf_stats_src *s);

#endif
