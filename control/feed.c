/* SPDX-License-Identifier: BSD-3-Clause */
/* Producer side of the route ring, bad-input accounting, and the context map. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ring.h>

#include "control/feed.h"

const char *const pf_feed_bad_names[PF_FEED_BAD_MAX] = {
#define X(n, d) #n,
	PF_FEED_BAD_KINDS(X)
#undef X
};

static const char *const bad_descr[PF_FEED_BAD_MAX] = {
#define X(n, d) d,
	PF_FEED_BAD_KINDS(X)
#undef X
};

int
pf_feed_submit(struct pf_feed *f, const struct pf_route_msg *m, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		unsigned k = rte_ring_enqueue_burst_elem(f->ring, m + done, sizeof(*m), n - done,
							 NULL);
		if (k == 0) {
			/* backpressure: control is behind; wait for it rather than drop */
			__atomic_fetch_add(&f->ring_full_waits, 1, __ATOMIC_RELAXED);
			if (f->quit && *f->quit)
				return -ESHUTDOWN;
			usleep(50);
			continue;
		}
		done += k;
	}
	__atomic_fetch_add(&f->enqueued, n, __ATOMIC_RELAXED);
	__atomic_store_n(&f->last_update, (uint64_t)time(NULL), __ATOMIC_RELAXED);
	return 0;
}

void
pf_feed_bad(struct pf_feed *f, enum pf_feed_bad kind, const char *fmt, ...)
{
	va_list ap;
	char detail[256];

	if (kind >= PF_FEED_BAD_MAX)
		return;
	__atomic_fetch_add(&f->bad[kind], 1, __ATOMIC_RELAXED);
	if (__atomic_fetch_or(&f->logged, 1u << kind, __ATOMIC_RELAXED) & (1u << kind))
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	fprintf(stderr, "peerfwd: feed %s: %s (%s): %s; further ones are only counted\n",
		f->name, pf_feed_bad_names[kind], bad_descr[kind], detail);
}

/* ---- context map ---- */

struct map_ent {
	struct pf_addr key;   /* neighbor address */
	int ctx;
};

struct table_ent {
	uint32_t table;
	int ctx;
};

struct pf_ctxmap {
	struct map_ent *nbr;
	size_t n_nbr;
	struct table_ent *tab;
	size_t n_tab;
	struct pf_prefix core4, core6; /* core subnets (family 0 when none) */
};

static int
addr_cmp(const void *a, const void *b)
{
	const struct pf_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->addr, y->addr, 16);
}

static int
table_cmp(const void *a, const void *b)
{
	const struct table_ent *x = a, *y = b;

	return x->table < y->table ? -1 : x->table > y->table;
}

static void
add_link_peers(struct pf_ctxmap *m, const struct pf_link_conf *lk, int ctx)
{
	const struct pf_prefix *sn[2] = {&lk->subnet4, &lk->subnet6};

	if (!lk->present)
		return;
	for (unsigned i = 0; i < 2; i++) {
		struct map_ent *e;

		if (sn[i]->family == 0)
			continue;
		e = &m->nbr[m->n_nbr++];
		memset(e, 0, sizeof(*e));
		pf_link_peer_addr(sn[i], &e->key);
		e->ctx = ctx;
	}
}

struct pf_ctxmap *
pf_ctxmap_create(const struct pf_config *cfg)
{
	struct pf_ctxmap *m = calloc(1, sizeof(*m));
	size_t n_ctx = 0;
	int ctx = 1;

	if (m == NULL)
		return NULL;
	for (size_t c = 0; c < cfg->n_customers; c++)
		n_ctx += cfg->customers[c].n_contexts;
	m->nbr = calloc(4 * n_ctx + 1, sizeof(*m->nbr));
	m->tab = calloc(n_ctx + 1, sizeof(*m->tab));
	if (m->nbr == NULL || m->tab == NULL) {
		pf_ctxmap_free(m);
		return NULL;
	}
	/* numbering as in the dataplane tables: 0 core, then contexts in config order */
	m->tab[m->n_tab++] = (struct table_ent){cfg->core_table_id, 0};
	for (size_t c = 0; c < cfg->n_customers; c++)
		for (size_t k = 0; k < cfg->customers[c].n_contexts; k++, ctx++) {
			const struct pf_context_conf *cx = &cfg->customers[c].contexts[k];

			add_link_peers(m, &cx->primary, ctx);
			add_link_peers(m, &cx->secondary, ctx);
			if (cx->table_id)
				m->tab[m->n_tab++] = (struct table_ent){cx->table_id, ctx};
		}
	for (size_t i = 0; i < cfg->n_ports; i++) {
		const struct pf_port_conf *pc = &cfg->ports[i];

		if (pc->role != PF_ROLE_CORE)
			continue;
		if (pc->addr4.family == 4 && m->core4.family == 0)
			m->core4 = pc->addr4;
		if (pc->addr6.family == 6 && m->core6.family == 0)
			m->core6 = pc->addr6;
	}
	qsort(m->nbr, m->n_nbr, sizeof(*m->nbr), addr_cmp);
	qsort(m->tab, m->n_tab, sizeof(*m->tab), table_cmp);
	return m;
}

void
pf_ctxmap_free(struct pf_ctxmap *m)
{
	if (m == NULL)
		return;
	free(m->nbr);
	free(m->tab);
	free(m);
}

int
pf_ctxmap_by_neighbor(const struct pf_ctxmap *m, const struct pf_addr *nbr)
{
	struct pf_addr k;
	const struct map_ent *e;

	memset(&k, 0, sizeof(k));
	k.family = nbr->family;
	memcpy(k.addr, nbr->addr, nbr->family == 4 ? 4 : 16);
	e = bsearch(&k, m->nbr, m->n_nbr, sizeof(*m->nbr), addr_cmp);
	if (e)
		return e->ctx;
	if ((k.family == 4 && m->core4.family && pf_prefix_contains(&m->core4, &k)) ||
	    (k.family == 6 && m->core6.family && pf_prefix_contains(&m->core6, &k)))
		return 0;
	return -1;
}

int
pf_ctxmap_by_table(const struct pf_ctxmap *m, uint32_t table_id)
{
	struct table_ent k = {table_id, 0};
	const struct table_ent *e = bsearch(&k, m->tab, m->n_tab, sizeof(*m->tab), table_cmp);

	return e ? e->ctx : -1;
}
