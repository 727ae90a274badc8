/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * peerfwd's counters through DPDK telemetry (/var/run/dpdk/<prefix>/dpdk_telemetry.v2,
 * usertools/dpdk-telemetry.py or any SOCK_SEQPACKET client), served on DPDK's telemetry
 * threads while workers forward and the control thread applies routes:
 *
 *   worker counters   written by their worker only; read here with relaxed 64-bit loads
 *                     (a value may be a burst old, never torn);
 *   names, counts     ports, contexts, customers: built before the workers start and never
 *                     changed afterwards (pf_tables_build), so read as they are;
 *   applier, FIB      control-thread-only structures: never read here. The control thread
 *                     copies their counters into `snap` (pf_telemetry_publish, every loop
 *                     iteration) with relaxed stores, and this file reads the copy;
 *   mempool           rte_mempool_avail_count() is safe from any thread.
 *
 * The source is attached once everything exists and detached (under `lock`) before the
 * workers are freed; a callback that runs outside that interval answers with an error.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "common/fib.h"
#include "control/applier.h"
#include "control/applier_priv.h"
#include "control/control.h"

#define RLX(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define PUT(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* contexts and customers are listed in /peerfwd/stats up to this many each (a telemetry
 * reply holds 16 KiB); beyond, /peerfwd/context,ID and /peerfwd/customer,ID give them */
#define TEL_LIST_MAX 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const struct pf_stats_src *src; /* under lock */
static bool registered;

static struct {
	uint64_t applied, dequeued, ring_hwm, rejected, max_prefix_alarms, peer_downs, eors;
	uint64_t syncs, swept, rib_routes, fib_routes4, fib_routes6, publishes;
} snap;

void
pf_telemetry_publish(const struct pf_applier *a)
{
	struct fib_stats fs;
	uint64_t rej = 0;

	if (a == NULL)
		return;
	for (unsigned i = 0; i < PF_REJECT_MAX; i++)
		rej += a->rejected[i];
	fib_get_stats(a->t->fib, &fs);
	PUT(snap.applied, a->applied);
	PUT(snap.dequeued, a->dequeued);
	PUT(snap.ring_hwm, a->ring_hwm);
	PUT(snap.rejected, rej);
	PUT(snap.max_prefix_alarms, a->max_prefix_alarms);
	PUT(snap.peer_downs, a->peer_downs);
	PUT(snap.eors, a->eors);
	PUT(snap.syncs, a->syncs);
	PUT(snap.swept, a->swept);
	PUT(snap.rib_routes, (uint64_t)(a->n_routes - a->n_free_routes));
	PUT(snap.fib_routes4, fs.routes4);
	PUT(snap.fib_routes6, fs.routes6);
	PUT(snap.publishes, snap.publishes + 1);
}

static void
drops_dict(const struct pf_stats_src *s, struct rte_tel_data *d, bool all)
{
	uint64_t total = 0;

	for (unsigned r = 0; r < PF_DROP_MAX; r++) {
		uint64_t v = 0;

		for (unsigned i = 0; i < s->n_workers; i++)
			v += RLX(s->workers[i]->c.drop[r]);
		total += v;
		if (all || v)
			rte_tel_data_add_dict_u64(d, pf_drop_names[r], v);
	}
	rte_tel_data_add_dict_u64(d, "total", total);
}

static void
events_dict(const struct pf_stats_src *s, struct rte_tel_data *d)
{
	for (unsigned e = 0; e < PF_EV_MAX; e++) {
		uint64_t v = 0;

		for (unsigned i = 0; i < s->n_workers; i++)
			v += RLX(s->workers[i]->c.event[e]);
		rte_tel_data_add_dict_u64(d, pf_event_names[e], v);
	}
}

static void
ctx_dict(const struct pf_stats_src *s, unsigned c, struct rte_tel_data *d)
{
	uint64_t v[4] = {0};

	for (unsigned i = 0; i < s->n_workers; i++) {
		const struct pf_ctx_counters *cc = &s->workers[i]->c.ctx[c];

		v[0] += RLX(cc->in.pkts);
		v[1] += RLX(cc->in.bytes);
		v[2] += RLX(cc->out.pkts);
		v[3] += RLX(cc->out.bytes);
	}
	rte_tel_data_add_dict_int(d, "id", (int)c);
	rte_tel_data_add_dict_string(d, "kind", pf_kind_dp_name(s->t->ctx[c].kind));
	rte_tel_data_add_dict_u64(d, "in_packets", v[0]);
	rte_tel_data_add_dict_u64(d, "in_bytes", v[1]);
	rte_tel_data_add_dict_u64(d, "out_packets", v[2]);
	rte_tel_data_add_dict_u64(d, "out_bytes", v[3]);
}

static void
cust_dict(const struct pf_stats_src *s, unsigned c, struct rte_tel_data *d)
{
	uint64_t v[4] = {0};

	for (unsigned i = 0; i < s->n_workers; i++) {
		const struct pf_customer_counters *cc = &s->workers[i]->c.cust[c];

		v[0] += RLX(cc->to_cloud.pkts);
		v[1] += RLX(cc->to_cloud.bytes);
		v[2] += RLX(cc->from_cloud.pkts);
		v[3] += RLX(cc->from_cloud.bytes);
	}
	rte_tel_data_add_dict_u64(d, "id", s->cfg->customers[c].id);
	rte_tel_data_add_dict_u64(d, "to_cloud_packets", v[0]);
	rte_tel_data_add_dict_u64(d, "to_cloud_bytes", v[1]);
	rte_tel_data_add_dict_u64(d, "from_cloud_packets", v[2]);
	rte_tel_data_add_dict_u64(d, "from_cloud_bytes", v[3]);
}

static void
applier_dict(struct rte_tel_data *d)
{
	rte_tel_data_add_dict_u64(d, "applied", RLX(snap.applied));
	rte_tel_data_add_dict_u64(d, "dequeued", RLX(snap.dequeued));
	rte_tel_data_add_dict_u64(d, "ring_high_water", RLX(snap.ring_hwm));
	rte_tel_data_add_dict_u64(d, "rejected", RLX(snap.rejected));
	rte_tel_data_add_dict_u64(d, "max_prefix_alarms", RLX(snap.max_prefix_alarms));
	rte_tel_data_add_dict_u64(d, "peer_downs", RLX(snap.peer_downs));
	rte_tel_data_add_dict_u64(d, "end_of_ribs", RLX(snap.eors));
	rte_tel_data_add_dict_u64(d, "syncs", RLX(snap.syncs));
	rte_tel_data_add_dict_u64(d, "swept", RLX(snap.swept));
	rte_tel_data_add_dict_u64(d, "rib_routes", RLX(snap.rib_routes));
	rte_tel_data_add_dict_u64(d, "fib_routes4", RLX(snap.fib_routes4));
	rte_tel_data_add_dict_u64(d, "fib_routes6", RLX(snap.fib_routes6));
}

/* Add a new dict under name; NULL (and nothing added) when out of memory. DPDK 22.11
 * accepts only [A-Za-z0-9_/] in names: other characters become '_' (the entry's "name"
 * value keeps the real one, see named()). */
static struct rte_tel_data *
sub(struct rte_tel_data *d, const char *name)
{
	struct rte_tel_data *c = rte_tel_data_alloc();
	char key[RTE_TEL_MAX_STRING_LEN];
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; name[i] && i < sizeof(key) - 1; i++)
		key[i] = (isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '/')
				 ? name[i] : '_';
	key[i] = '\0';
	rte_tel_data_start_dict(c);
	if (rte_tel_data_add_dict_container(d, key, c, 0) < 0) {
		rte_tel_data_free(c);
		return NULL;
	}
	return c;
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct pf_stats_src *s;
	struct rte_tel_data *o, *e;
	int r = 0;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&lock);
	if ((s = src) == NULL) {
		r = -EAGAIN;
		goto out;
	}
	rte_tel_data_start_dict(d);
	if ((o = sub(d, "ports")) != NULL)
		for (unsigned p = 0; p < s->t->n_ports; p++) {
			uint64_t v[4] = {0};

			if (!s->t->port[p].vlan_ctx || (e = sub(o, s->t->port[p].name)) == NULL)
				continue;
			rte_tel_data_add_dict_string(e, "name", s->t->port[p].name);
			for (unsigned i = 0; i < s->n_workers; i++) {
				const struct pf_port_counters *pc = &s->workers[i]->c.port[p];

				v[0] += RLX(pc->rx.pkts);
				v[1] += RLX(pc->rx.bytes);
				v[2] += RLX(pc->tx.pkts);
				v[3] += RLX(pc->tx.bytes);
			}
			rte_tel_data_add_dict_u64(e, "rx_packets", v[0]);
			rte_tel_data_add_dict_u64(e, "rx_bytes", v[1]);
			rte_tel_data_add_dict_u64(e, "tx_packets", v[2]);
			rte_tel_data_add_dict_u64(e, "tx_bytes", v[3]);
		}
	if (s->t->n_ctx <= TEL_LIST_MAX) {
		if ((o = sub(d, "contexts")) != NULL)
			for (unsigned c = 0; c < s->t->n_ctx; c++)
				if ((e = sub(o, s->t->ctx[c].name)) != NULL) {
					rte_tel_data_add_dict_string(e, "name", s->t->ctx[c].name);
					ctx_dict(s, c, e);
				}
	} else {
		rte_tel_data_add_dict_string(d, "contexts", "too many: /peerfwd/context,ID");
	}
	if (s->t->n_cust <= TEL_LIST_MAX) {
		if ((o = sub(d, "customers")) != NULL)
			for (unsigned c = 0; c < s->t->n_cust; c++)
				if ((e = sub(o, s->t->cust[c].name)) != NULL) {
					rte_tel_data_add_dict_string(e, "name", s->t->cust[c].name);
					cust_dict(s, c, e);
				}
	} else {
		rte_tel_data_add_dict_string(d, "customers", "too many: /peerfwd/customer,ID");
	}
	if ((o = sub(d, "drops")) != NULL)
		drops_dict(s, o, true);
	if ((o = sub(d, "events")) != NULL)
		events_dict(s, o);
	if ((o = sub(d, "mempool")) != NULL) {
		rte_tel_data_add_dict_u64(o, "size", s->pool_size);
		rte_tel_data_add_dict_u64(o, "available",
					  s->pool ? rte_mempool_avail_count(s->pool) : 0);
	}
	if ((o = sub(d, "applier")) != NULL)
		applier_dict(o);
out:
	pthread_mutex_unlock(&lock);
	return r;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int r = 0;

	(void)cmd;
	pthread_mutex_lock(&lock);
	if (src == NULL) {
		r = -EAGAIN;
	} else {
		rte_tel_data_start_dict(d);
		/* "/peerfwd/drops,all" lists the reasons at zero too */
		drops_dict(src, d, params != NULL && strcmp(params, "all") == 0);
	}
	pthread_mutex_unlock(&lock);
	return r;
}

static int
tel_applier(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	applier_dict(d);
	return 0;
}

/* The index named by params: a number, or a context's / customer's name. */
static int
find(const char *params, unsigned n, const char *(*name)(const struct pf_stats_src *, unsigned),
     const struct pf_stats_src *s)
{
	char *end;
	unsigned long v;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	v = strtoul(params, &end, 10);
	if (*end == '\0')
		return v < n ? (int)v : -ENOENT;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(name(s, i), params) == 0)
			return (int)i;
	return -ENOENT;
}

static const char *
ctx_name(const struct pf_stats_src *s, unsigned i)
{
	return s->t->ctx[i].name;
}

static const char *
cust_name(const struct pf_stats_src *s, unsigned i)
{
	return s->t->cust[i].name;
}

static int
tel_context(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int r;

	(void)cmd;
	pthread_mutex_lock(&lock);
	if (src == NULL) {
		r = -EAGAIN;
	} else if ((r = find(params, src->t->n_ctx, ctx_name, src)) >= 0) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "name", src->t->ctx[r].name);
		ctx_dict(src, (unsigned)r, d);
		r = 0;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

static int
tel_customer(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int r;

	(void)cmd;
	pthread_mutex_lock(&lock);
	if (src == NULL) {
		r = -EAGAIN;
	} else if ((r = find(params, src->t->n_cust, cust_name, src)) >= 0) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "name", src->t->cust[r].name);
		cust_dict(src, (unsigned)r, d);
		r = 0;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

int
pf_telemetry_attach(const struct pf_stats_src *s)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{"/peerfwd/stats", tel_stats,
		 "peerfwd counters: ports, contexts, customers, drops by reason, events, mempool, "
		 "applier (as --stats-json). No parameters"},
		{"/peerfwd/drops", tel_drops,
		 "peerfwd drops by reason (non-zero ones, and total). Parameter: 'all' for every "
		 "reason"},
		{"/peerfwd/context", tel_context,
		 "one peering context's counters. Parameter: context id or name"},
		{"/peerfwd/customer", tel_customer,
		 "one customer's counters. Parameter: customer index or name"},
		{"/peerfwd/applier", tel_applier,
		 "route applier counters (applied updates, rejected, RIB and FIB routes)"},
	};

	pthread_mutex_lock(&lock);
	src = s;
	pthread_mutex_unlock(&lock);
	if (registered)
		return 0;
	for (size_t i = 0; i < RTE_DIM(cmds); i++) {
		int r = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);

		if (r < 0)
			return r;
	}
	registered = true;
	return 0;
}

void
pf_telemetry_detach(void)
{
	pthread_mutex_lock(&lock);
	src = NULL;
	pthread_mutex_unlock(&lock);
}
