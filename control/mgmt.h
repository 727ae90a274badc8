/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management socket: a Unix stream socket speaking newline-delimited JSON
 * (docs/management.md), answered ON THE CONTROL THREAD. Control is the single writer of
 * every table, so answering from the same thread needs no lock and always sees a
 * consistent state; in exchange nothing here may block: the socket and every client are
 * non-blocking, input and output are buffered with fixed bounds, and a client that does
 * not keep up is dropped rather than waited for.
 *
 * Use (control thread only):
 *   static struct pf_mgmt_ctx mc = { .cfg = cfg, .t = &t, .stats = &ss, ... };
 *   struct pf_mgmt *m = pf_mgmt_open(path, &mc, err, sizeof(err));
 *   loop: pf_mgmt_poll(m);          every iteration (~1 ms); one poll(2) when idle
 *   pf_mgmt_close(m);               before the tables are freed
 * The context is referenced, not copied: it must outlive the pf_mgmt, and its fields may
 * be filled or changed later (e.g. the applier once it exists).
 */
#ifndef PEERFWD_MGMT_H
#define PEERFWD_MGMT_H

#include <stddef.h>

#include <jansson.h>

struct pf_config;
struct pf_tables;
struct pf_stats_src;
struct pf_applier;
struct pf_feed;
struct pf_ipsec;

struct pf_mgmt_ctx {
	const struct pf_config *cfg;  /* required */
	struct pf_tables *t;          /* required */
	struct pf_stats_src *stats;   /* NULL: "counters" answers an error */
	struct pf_applier *applier;   /* NULL: no route sources, route-add/del refused */
	struct pf_feed **feeds;       /* [n_feeds], may be NULL when n_feeds is 0 */
	unsigned n_feeds;
	struct pf_ipsec *ipsec;       /* NULL: no IPsec; sa-* commands answer an error */
};

/* Bounds (see docs/management.md). */
#define PF_MGMT_MAX_CLIENTS 16
#define PF_MGMT_MAX_REQUEST 65536            /* bytes of one request line */
#define PF_MGMT_MAX_REPLY (32u << 20)        /* bytes of one reply (routes: streamed, no bound) */
#define PF_MGMT_ROUTES_DEFAULT_LIMIT 1000
#define PF_MGMT_ROUTES_MAX_LIMIT 10000000
#define PF_MGMT_IDLE_TIMEOUT_MS 300000       /* connected, no request, nothing to send */
#define PF_MGMT_STALL_TIMEOUT_MS 10000       /* reply pending, client reads nothing */

struct pf_mgmt;

/* Create the socket at path (absolute or relative, < 108 bytes) with mode 0660: a stale
 * socket there is replaced, a live one (another process answers) or any other kind of
 * file is refused; a missing parent directory is created (one level, mode 0755).
 * NULL on failure, with the reason in err (without the path: callers say
 * "management socket PATH: REASON"). */
struct pf_mgmt *pf_mgmt_open(const char *path, struct pf_mgmt_ctx *ctx, char *err,
			     size_t errlen);
/* Accept, read, answer, write; never blocks. NULL is accepted (no socket). */
void pf_mgmt_poll(struct pf_mgmt *m);
/* Close every client and the socket, remove the socket file (if it is still ours). */
void pf_mgmt_close(struct pf_mgmt *m);
/* Tuning and tests: the two timeouts above (0 = keep the current value). */
void pf_mgmt_set_timeouts(struct pf_mgmt *m, unsigned idle_ms, unsigned stall_ms);
/* Clients connected now. */
unsigned pf_mgmt_clients(const struct pf_mgmt *m);

/* One request -> its reply object ({"ok": true, "result": ...} or {"ok": false,
 * "error": "..."}); never NULL (an allocation failure gives a static error reply).
 * What the socket does for every line; exposed for tests and in-process callers. */
json_t *pf_mgmt_handle(struct pf_mgmt_ctx *ctx, const json_t *req);
json_t *pf_mgmt_handle_line(struct pf_mgmt_ctx *ctx, const char *line, size_t len);

/* The "counters" result: pf_stats_json(), with "applier" (pf_applier_stats_json) when
 * stats->applier or ctx->applier is set; NULL without stats. The same JSON as
 * pf_stats_write_json() (--stats-json) when stats->applier is set. */
json_t *pf_mgmt_counters_json(const struct pf_mgmt_ctx *ctx);

/* The counters as a new JSON object, "applier" included when s->applier is set: what
 * pf_stats_write_json() writes. Defined in control/stats.c; declared here because
 * control.h belongs to the control-loop owner (it may move there). */
json_t *pf_stats_json(const struct pf_stats_src *s);

/* IPsec SA commands (control/mgmt_ipsec.c): result, or NULL with the error in err. */
json_t *pf_mgmt_sa_list(struct pf_mgmt_ctx *ctx, const json_t *req, char *err, size_t errlen);
json_t *pf_mgmt_sa_add(struct pf_mgmt_ctx *ctx, const json_t *req, char *err, size_t errlen);
json_t *pf_mgmt_sa_del(struct pf_mgmt_ctx *ctx, const json_t *req, char *err, size_t errlen);

#endif
