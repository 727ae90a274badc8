/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters are per worker (no sharing on the packet path); readers sum them here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <rte_mempool.h>

#include "control/applier.h"
#include "control/control.h"
#include "control/ipsec.h"
#include "control/mgmt.h"

struct totals {
	uint64_t drop[PF_DROP_MAX];
	uint64_t event[PF_EV_MAX];
	struct pf_port_counters port[PF_MAX_PORTS];
};

static void
sum(const struct pf_stats_src *s, struct totals *tt)
{
	memset(tt, 0, sizeof(*tt));
	for (unsigned i = 0; i < s->n_workers; i++) {
		const struct pf_counters *c = &s->workers[i]->c;

		for (unsigned d = 0; d < PF_DROP_MAX; d++)
			tt->drop[d] += c->drop[d];
		for (unsigned e = 0; e < PF_EV_MAX; e++)
			tt->event[e] += c->event[e];
		for (unsigned p = 0; p < PF_MAX_PORTS; p++) {
			tt->port[p].rx.pkts += c->port[p].rx.pkts;
			tt->port[p].rx.bytes += c->port[p].rx.bytes;
			tt->port[p].tx.pkts += c->port[p].tx.pkts;
			tt->port[p].tx.bytes += c->port[p].tx.bytes;
		}
	}
}

static struct pf_ctx_counters
ctx_sum(const struct pf_stats_src *s, unsigned ctx)
{
	struct pf_ctx_counters r = {0};

	for (unsigned i = 0; i < s->n_workers; i++) {
		const struct pf_ctx_counters *c = &s->workers[i]->c.ctx[ctx];
		r.in.pkts += c->in.pkts;
		r.in.bytes += c->in.bytes;
		r.out.pkts += c->out.pkts;
		r.out.bytes += c->out.bytes;
	}
	return r;
}

static struct pf_customer_counters
cust_sum(const struct pf_stats_src *s, unsigned cu)
{
	struct pf_customer_counters r = {0};

	for (unsigned i = 0; i < s->n_workers; i++) {
		const struct pf_customer_counters *c = &s->workers[i]->c.cust[cu];
		r.to_cloud.pkts += c->to_cloud.pkts;
		r.to_cloud.bytes += c->to_cloud.bytes;
		r.from_cloud.pkts += c->from_cloud.pkts;
		r.from_cloud.bytes += c->from_cloud.bytes;
	}
	return r;
}

void
pf_stats_print(FILE *f, const struct pf_stats_src *s)
{
	const struct pf_tables *t = s->t;
	struct totals tt;

	sum(s, &tt);
	fprintf(f, "%-24s %12s %14s %12s %14s\n", "port", "rx_pkts", "rx_bytes", "tx_pkts",
		"tx_bytes");
	for (unsigned p = 0; p < t->n_ports; p++)
		if (t->port[p].vlan_ctx)
			fprintf(f, "%-24s %12lu %14lu %12lu %14lu\n", t->port[p].name,
				tt.port[p].rx.pkts, tt.port[p].rx.bytes, tt.port[p].tx.pkts,
				tt.port[p].tx.bytes);
	fprintf(f, "\n%-24s %-9s %12s %14s %12s %14s\n", "context", "kind", "in_pkts", "in_bytes",
		"out_pkts", "out_bytes");
	for (unsigned c = 0; c < t->n_ctx; c++) {
		struct pf_ctx_counters cc = ctx_sum(s, c);
		fprintf(f, "%-24s %-9s %12lu %14lu %12lu %14lu\n", t->ctx[c].name,
			pf_kind_dp_name(t->ctx[c].kind), cc.in.pkts, cc.in.bytes, cc.out.pkts,
			cc.out.bytes);
	}
	fprintf(f, "\n%-24s %14s %16s %16s %18s\n", "customer", "to_cloud_pkts", "to_cloud_bytes",
		"from_cloud_pkts", "from_cloud_bytes");
	for (unsigned c = 0; c < t->n_cust; c++) {
		struct pf_customer_counters cc = cust_sum(s, c);
		fprintf(f, "%-24s %14lu %16lu %16lu %18lu\n", t->cust[c].name, cc.to_cloud.pkts,
			cc.to_cloud.bytes, cc.from_cloud.pkts, cc.from_cloud.bytes);
	}
	fprintf(f, "\nevents:\n");
	for (unsigned e = 0; e < PF_EV_MAX; e++)
		if (tt.event[e])
			fprintf(f, "  %-22s %12lu  (%s)\n", pf_event_names[e], tt.event[e],
				pf_event_descr[e]);
	fprintf(f, "drops:\n");
	for (unsigned d = 0; d < PF_DROP_MAX; d++)
		if (tt.drop[d])
			fprintf(f, "  %-22s %12lu  (%s)\n", pf_drop_names[d], tt.drop[d],
				pf_drop_descr[d]);
}

json_t *
pf_stats_json(const struct pf_stats_src *s)
{
	const struct pf_tables *t = s->t;
	json_t *root = json_object(), *o;
	struct totals tt;

	if (root == NULL)
		return NULL;
	sum(s, &tt);
	o = json_object();
	for (unsigned p = 0; p < t->n_ports; p++)
		if (t->port[p].vlan_ctx)
			json_object_set_new(o, t->port[p].name,
				json_pack("{sIsIsIsI}", "rx_packets", (json_int_t)tt.port[p].rx.pkts,
					  "rx_bytes", (json_int_t)tt.port[p].rx.bytes,
					  "tx_packets", (json_int_t)tt.port[p].tx.pkts,
					  "tx_bytes", (json_int_t)tt.port[p].tx.bytes));
	json_object_set_new(root, "ports", o);
	o = json_object();
	for (unsigned c = 0; c < t->n_ctx; c++) {
		struct pf_ctx_counters cc = ctx_sum(s, c);
		json_object_set_new(o, t->ctx[c].name,
			json_pack("{sisssIsIsIsI}", "id", (int)c, "kind", pf_kind_dp_name(t->ctx[c].kind),
				  "in_packets", (json_int_t)cc.in.pkts, "in_bytes", (json_int_t)cc.in.bytes,
				  "out_packets", (json_int_t)cc.out.pkts,
				  "out_bytes", (json_int_t)cc.out.bytes));
	}
	json_object_set_new(root, "contexts", o);
	o = json_object();
	for (unsigned c = 0; c < t->n_cust; c++) {
		struct pf_customer_counters cc = cust_sum(s, c);
		json_object_set_new(o, t->cust[c].name,
			json_pack("{sIsIsIsIsI}", "id", (json_int_t)s->cfg->customers[c].id,
				  "to_cloud_packets", (json_int_t)cc.to_cloud.pkts,
				  "to_cloud_bytes", (json_int_t)cc.to_cloud.bytes,
				  "from_cloud_packets", (json_int_t)cc.from_cloud.pkts,
				  "from_cloud_bytes", (json_int_t)cc.from_cloud.bytes));
	}
	json_object_set_new(root, "customers", o);
	o = json_object();
	for (unsigned d = 0; d < PF_DROP_MAX; d++)
		json_object_set_new(o, pf_drop_names[d], json_integer((json_int_t)tt.drop[d]));
	json_object_set_new(root, "drops", o);
	o = json_object();
	for (unsigned e = 0; e < PF_EV_MAX; e++)
		json_object_set_new(o, pf_event_names[e], json_integer((json_int_t)tt.event[e]));
	json_object_set_new(root, "events", o);
	/* "available_at_exit" is the count now when read while running (management) */
	json_object_set_new(root, "mempool",
		json_pack("{sIsI}", "size", (json_int_t)s->pool_size, "available_at_exit",
			  (json_int_t)(s->pool ? rte_mempool_avail_count(s->pool) : 0)));
	if (s->applier != NULL)
		json_object_set_new(root, "applier", pf_applier_stats_json(s->applier));
	if (s->ipsec != NULL)
		json_object_set_new(root, "ipsec", pf_ipsec_stats_json(s->ipsec));
	return root;
}

int
pf_stats_write_json(const char *path, const struct pf_stats_src *s)
{
	json_t *root = pf_stats_json(s);
	char tmp[4096];
	int r = 0;

	if (root == NULL)
		return -ENOMEM;
	/* readers (periodic --stats-json-interval) never see a half-written file */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		r = -ENAMETOOLONG;
	else if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		r = -EIO;
	else if (rename(tmp, path) != 0)
		r = -errno;
	if (r < 0 && r != -ENAMETOOLONG)
		remove(tmp);
	json_decref(root);
	return r;
}
