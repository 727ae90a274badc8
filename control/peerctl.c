/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * peerctl: ask a running peerfwd over its management socket (docs/management.md).
 * One request, one reply: prints aligned tables, or the raw result with --json.
 * Exit status: 0 ok, 1 peerfwd answered an error (or no usable reply), 2 usage,
 * 3 cannot connect.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/peerfwd/peerfwd.sock"
#define DEFAULT_TIMEOUT_MS 5000
#define MAX_REPLY (1u << 30)  /* a listing of millions of routes */

enum { EXIT_OK = 0, EXIT_SERVER = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

static const char *prog = "peerctl";

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--socket PATH] [--json] [--timeout S] COMMAND [ARGS]\n"
		"\n"
		"Ask a running peerfwd over its management socket.\n"
		"\n"
		"Commands:\n"
		"  contexts                            peering contexts: kind, customer, VLAN tags,\n"
		"                                      peering subnets, route counts\n"
		"  routes CONTEXT [--family 4|6] [--limit N]\n"
		"                                      a context's routes and their next hops\n"
		"                                      (default limit 1000)\n"
		"  lookup CONTEXT ADDRESS              the route an address matches in a context\n"
		"  counters                            port, context, customer, drop and event\n"
		"                                      counters (--json: as --stats-json writes them)\n"
		"  feeds                               route feeds (ExaBGP, FPM) and their counters\n"
		"  route add CONTEXT PREFIX via VIA    add a route; VIA is peer, gre, core, drop or\n"
		"                                      an IP address\n"
		"  route del CONTEXT PREFIX            remove a route added with 'route add'\n"
		"  sa list [CUSTOMER]                  IPsec SAs: spi, direction, algorithm, ESN,\n"
		"                                      window, sequence, counters, state (no keys)\n"
		"  sa add CUSTOMER SPI in|out ALGORITHM KEY_FILE [esn] [window N] [bytes N]\n"
		"         [packets N]                  install an SA (a new outbound SA becomes\n"
		"                                      active at once: rekey); KEY_FILE mode 0600\n"
		"  sa del CUSTOMER SPI [in|out]        remove an SA\n"
		"\n"
		"Options (anywhere on the line):\n"
		"  -s, --socket PATH   management socket (default: $PEERFWD_SOCKET, else\n"
		"                      " DEFAULT_SOCKET ")\n"
		"  -j, --json          print the result as JSON instead of tables\n"
		"  -t, --timeout S     give up after S seconds (default 5)\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 ok, 1 peerfwd reported an error (or sent no usable reply),\n"
		"2 bad usage, 3 cannot connect to the socket.\n",
		prog);
}

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", prog);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------------------------ */
/* Talking to peerfwd                                                                   */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to become ready before the deadline: 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			continue;
		if (errno != EINTR)
			return -1;
	}
}

static int
connect_to(const char *path, long long deadline, int *out)
{
	struct sockaddr_un sa;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: cannot connect to %s: path longer than %zu bytes\n", prog, path,
			sizeof(sa.sun_path) - 1);
		return EXIT_CONNECT;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return EXIT_CONNECT;
	}
	/* a Unix socket connects at once or says EAGAIN (its backlog is full): then retry */
	while ((r = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EAGAIN &&
	       now_ms() < deadline)
		usleep(10000);
	if (r < 0) {
		int e = errno;

		fprintf(stderr, "%s: cannot connect to %s: %s%s\n", prog, path,
			e == EAGAIN ? "timed out (peerfwd is not accepting)" : strerror(e),
			e == ENOENT || e == ECONNREFUSED
				? " (is peerfwd running with a management socket? see --socket)" : "");
		close(fd);
		return EXIT_CONNECT;
	}
	*out = fd;
	return EXIT_OK;
}

/* 0, or -1 with errno (a message printed unless the peer closed: EPIPE, ECONNRESET). */
static int
send_all(int fd, const char *buf, size_t len, long long deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, deadline);

			if (r > 0)
				continue;
			fprintf(stderr, "%s: sending the request: %s\n", prog,
				r == 0 ? "timed out" : strerror(errno));
			return -1;
		}
		if (errno != EPIPE && errno != ECONNRESET)
			fprintf(stderr, "%s: sending the request: %s\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

/* One reply line (without its newline), malloc'd; NULL after a message on stderr. */
static char *
recv_line(int fd, long long deadline, unsigned timeout_ms)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return NULL;
	}
	for (;;) {
		char *nl;
		ssize_t r;

		if (len + 1 >= cap) {
			char *b;

			if (cap >= MAX_REPLY) {
				fprintf(stderr, "%s: reply longer than %u bytes\n", prog, MAX_REPLY);
				free(buf);
				return NULL;
			}
			b = realloc(buf, cap * 2);
			if (b == NULL) {
				fprintf(stderr, "%s: out of memory\n", prog);
				free(buf);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r > 0) {
			nl = memchr(buf + len, '\n', (size_t)r);
			len += (size_t)r;
			if (nl != NULL) {
				*nl = '\0';
				return buf;
			}
			continue;
		}
		if (r == 0) {
			fprintf(stderr, "%s: peerfwd closed the connection without a reply\n", prog);
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(fd, POLLIN, deadline);

			if (w > 0)
				continue;
			if (w == 0)
				fprintf(stderr, "%s: no reply within %u.%03u s\n", prog,
					timeout_ms / 1000, timeout_ms % 1000);
			else
				fprintf(stderr, "%s: waiting for the reply: %s\n", prog, strerror(errno));
			break;
		}
		fprintf(stderr, "%s: reading the reply: %s\n", prog, strerror(errno));
		break;
	}
	free(buf);
	return NULL;
}

/* Send req, wait for the reply; *result (new reference) on success. */
static int
call(const char *path, unsigned timeout_ms, json_t *req, json_t **result)
{
	long long deadline = now_ms() + timeout_ms;
	json_error_t je;
	json_t *rep, *ok;
	char *line, *s;
	int fd, rc;

	rc = connect_to(path, deadline, &fd);
	if (rc != EXIT_OK)
		return rc;
	s = json_dumps(req, JSON_COMPACT);
	line = s ? realloc(s, strlen(s) + 2) : NULL;
	if (line == NULL) {
		free(s);
		close(fd);
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_SERVER;
	}
	s = line;
	strcat(s, "\n");
	rc = EXIT_SERVER;
	if (send_all(fd, s, strlen(s), deadline) < 0 && errno != EPIPE && errno != ECONNRESET) {
		free(s);
		close(fd);
		return rc;
	}
	/* after EPIPE too: peerfwd may have closed after saying why ("too many clients") */
	free(s);
	line = recv_line(fd, deadline, timeout_ms);
	close(fd);
	if (line == NULL)
		return rc;
	rep = json_loads(line, 0, &je);
	free(line);
	if (rep == NULL || !json_is_object(rep) || !json_is_boolean(ok = json_object_get(rep, "ok"))) {
		fprintf(stderr, "%s: peerfwd sent a reply that is not a management reply%s%s\n",
			prog, rep == NULL ? ": " : "", rep == NULL ? je.text : "");
		json_decref(rep);
		return rc;
	}
	if (!json_is_true(ok)) {
		const char *e = json_string_value(json_object_get(rep, "error"));

		fprintf(stderr, "%s: %s\n", prog, e ? e : "peerfwd reported an error without a message");
		json_decref(rep);
		return rc;
	}
	*result = json_incref(json_object_get(rep, "result"));
	json_decref(rep);
	if (*result == NULL)
		*result = json_null();
	return EXIT_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Tables                                                                               */

struct table {
	unsigned ncol;
	const char *align;   /* per column 'l' or 'r' */
	size_t nrow, cap;
	char **cell;         /* [nrow * ncol], row 0 = headers */
};

static void
tbl_init(struct table *t, unsigned ncol, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	t->align = align;
}

static void
tbl_addv(struct table *t, const char *const *cols)
{
	if (t->nrow == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cell, cap * t->ncol * sizeof(*c));

		if (c == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			exit(EXIT_SERVER);
		}
		t->cell = c;
		t->cap = cap;
	}
	for (unsigned i = 0; i < t->ncol; i++) {
		char *s = strdup(cols[i] && cols[i][0] ? cols[i] : "-");

		if (s == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			exit(EXIT_SERVER);
		}
		t->cell[t->nrow * t->ncol + i] = s;
	}
	t->nrow++;
}

/* n strings, n = ncol */
static void
tbl_add(struct table *t, ...)
{
	const char *cols[16];
	va_list ap;

	va_start(ap, t);
	for (unsigned i = 0; i < t->ncol && i < 16; i++)
		cols[i] = va_arg(ap, const char *);
	va_end(ap);
	tbl_addv(t, cols);
}

static void
tbl_print(struct table *t)
{
	size_t w[16] = {0};

	for (size_t r = 0; r < t->nrow; r++)
		for (unsigned c = 0; c < t->ncol; c++) {
			size_t l = strlen(t->cell[r * t->ncol + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrow; r++) {
		for (unsigned c = 0; c < t->ncol; c++) {
			const char *s = t->cell[r * t->ncol + c];
			bool last = c + 1 == t->ncol;

			if (t->align[c] == 'r')
				printf("%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				printf("%s", s);
			else
				printf("%-*s  ", (int)w[c], s);
		}
		putchar('\n');
	}
	for (size_t i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}

/* A JSON scalar as text into buf ("" for null/missing). */
static const char *
txt(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(buf, len, "true");
	else if (json_is_false(v))
		snprintf(buf, len, "false");
	else
		snprintf(buf, len, "%s", "");
	return buf;
}

static const char *
field(const json_t *o, const char *key, char *buf, size_t len)
{
	return txt(json_object_get(o, key), buf, len);
}

/* ------------------------------------------------------------------------------------ */
/* Printing each result                                                                 */

static void
print_contexts(const json_t *res)
{
	struct table t;
	size_t i;
	const json_t *c;

	tbl_init(&t, 8, "llllllrr");
	tbl_add(&t, "ID", "CONTEXT", "KIND", "CUSTOMER", "TAGS", "PEERING", "ROUTES4", "ROUTES6");
	json_array_foreach(res, i, c) {
		char id[24], name[80], kind[24], cust[80], tags[64] = "", peer[512] = "", r4[24], r6[24];
		const json_t *tg = json_object_get(c, "tags"), *lk;
		size_t k, off = 0;

		if (json_object_get(tg, "vlan"))
			snprintf(tags, sizeof(tags), "vlan %lld",
				 (long long)json_integer_value(json_object_get(tg, "vlan")));
		else if (json_object_get(tg, "s_tag"))
			snprintf(tags, sizeof(tags), "qinq %lld.%lld (%s)",
				 (long long)json_integer_value(json_object_get(tg, "s_tag")),
				 (long long)json_integer_value(json_object_get(tg, "c_tag")),
				 json_string_value(json_object_get(tg, "s_tpid")) ?: "?");
		/* "subnet [subnet6]" per link; a core port's with its gateways */
		json_array_foreach(json_object_get(c, "links"), k, lk) {
			char a[80], b[80], g[80], g6[80];

			field(lk, "subnet", a, sizeof(a));
			field(lk, "subnet6", b, sizeof(b));
			field(lk, "gateway", g, sizeof(g));
			field(lk, "gateway6", g6, sizeof(g6));
			if (off < sizeof(peer))
				off += (size_t)snprintf(peer + off, sizeof(peer) - off,
							"%s%s%s%s%s%s%s%s", off ? ", " : "", a,
							g[0] ? " gw " : "", g, a[0] && b[0] ? " " : "",
							b, g6[0] ? " gw " : "", g6);
		}
		tbl_add(&t, field(c, "id", id, sizeof(id)), field(c, "name", name, sizeof(name)),
			field(c, "kind", kind, sizeof(kind)), field(c, "customer", cust, sizeof(cust)),
			tags, peer, field(c, "routes4", r4, sizeof(r4)),
			field(c, "routes6", r6, sizeof(r6)));
	}
	tbl_print(&t);
}

static void
nh_row(struct table *t, const char *pfx, const json_t *nh, const char *src)
{
	char type[24], via[64], port[80], mac[32], detail[200] = "";

	field(nh, "type", type, sizeof(type));
	field(nh, "neighbor", via, sizeof(via));
	field(nh, "port", port, sizeof(port));
	field(nh, "mac", mac, sizeof(mac));
	if (via[0] && !mac[0])
		snprintf(mac, sizeof(mac), "unresolved");
	if (strcmp(type, "gre") == 0) {
		char key[24], ts[64], td[64];

		snprintf(detail, sizeof(detail), "key %s %s -> %s", field(nh, "gre_key", key, sizeof(key)),
			 field(nh, "tunnel_source", ts, sizeof(ts)),
			 field(nh, "tunnel_destination", td, sizeof(td)));
	} else if (strcmp(type, "edge") == 0) {
		const json_t *v = json_object_get(nh, "vlans");
		char cx[80];

		field(nh, "context", cx, sizeof(cx));
		if (json_array_size(v) == 2)
			snprintf(detail, sizeof(detail), "%s qinq %lld.%lld", cx,
				 (long long)json_integer_value(json_array_get(v, 0)),
				 (long long)json_integer_value(json_array_get(v, 1)));
		else if (json_array_size(v) == 1)
			snprintf(detail, sizeof(detail), "%s vlan %lld", cx,
				 (long long)json_integer_value(json_array_get(v, 0)));
		else
			snprintf(detail, sizeof(detail), "%s", cx);
	} else if (strcmp(type, "unknown") == 0) {
		char id[24];

		snprintf(detail, sizeof(detail), "type %s", field(nh, "type_id", id, sizeof(id)));
	}
	if (strcmp(type, "ecmp") == 0)
		snprintf(detail, sizeof(detail), "%zu equal-cost paths:",
			 json_array_size(json_object_get(nh, "members")));
	tbl_add(t, pfx, type, via, port, mac, detail, src);
}

static void
route_row(struct table *t, const json_t *r)
{
	const json_t *nh = json_object_get(r, "nexthop"), *m;
	char pfx[80], src[24];
	size_t i;

	nh_row(t, field(r, "prefix", pfx, sizeof(pfx)), nh, field(r, "source", src, sizeof(src)));
	json_array_foreach(json_object_get(nh, "members"), i, m)
		nh_row(t, "  +", m, "");
}

static void
route_table(struct table *t)
{
	tbl_init(t, 7, "lllllll");
	tbl_add(t, "PREFIX", "TYPE", "NEXT HOP", "PORT", "MAC", "DETAIL", "SOURCE");
}

static void
print_routes(const json_t *res)
{
	const json_t *routes = json_object_get(res, "routes"), *r;
	long long total = json_integer_value(json_object_get(res, "total"));
	struct table t;
	size_t i;

	if (json_array_size(routes) == 0) {
		printf("no routes\n");
		return;
	}
	route_table(&t);
	json_array_foreach(routes, i, r)
		route_row(&t, r);
	tbl_print(&t);
	if (json_is_true(json_object_get(res, "truncated")))
		printf("(showing %zu of %lld routes; use --limit N for more)\n",
		       json_array_size(routes), total);
}

static void
print_lookup(const json_t *res)
{
	const json_t *r = json_object_get(res, "route");
	char a[64], c[80];
	struct table t;

	field(res, "address", a, sizeof(a));
	field(res, "context", c, sizeof(c));
	if (!json_is_object(r)) {
		printf("%s in %s: no route\n", a, c);
		return;
	}
	printf("%s in %s:\n", a, c);
	route_table(&t);
	route_row(&t, r);
	tbl_print(&t);
}

static void
print_route_change(const json_t *res, bool add)
{
	const json_t *r = json_object_get(res, "route");
	char p[80], c[80], v[80];
	struct table t;

	field(res, "prefix", p, sizeof(p));
	field(res, "context", c, sizeof(c));
	if (add)
		printf("%s: added %s via %s\n", c, p, field(res, "via", v, sizeof(v)));
	else
		printf("%s: removed %s%s\n", c, p, json_is_object(r) ? "; it is now routed by:" : "");
	if (json_is_object(r)) {
		route_table(&t);
		route_row(&t, r);
		tbl_print(&t);
	} else if (add) {
		printf("(the context holds no route for %s now)\n", p);
	}
}

/* Objects sorted by their "id" member when they have one, else by name. */
struct named {
	const char *name;
	const json_t *v;
};

static int
named_cmp(const void *x, const void *y)
{
	const struct named *a = x, *b = y;
	json_int_t ia = json_integer_value(json_object_get(a->v, "id"));
	json_int_t ib = json_integer_value(json_object_get(b->v, "id"));

	if (ia != ib)
		return ia < ib ? -1 : 1;
	return strcmp(a->name, b->name);
}

static struct named *
sorted_members(const json_t *o, size_t *n)
{
	struct named *v = calloc(json_object_size(o) + 1, sizeof(*v));
	const char *k;
	json_t *x;

	*n = 0;
	if (v == NULL)
		return NULL;
	json_object_foreach((json_t *)o, k, x) {
		v[*n].name = k;
		v[(*n)++].v = x;
	}
	qsort(v, *n, sizeof(*v), named_cmp);
	return v;
}

/* Every leaf of v as "  path  value" rows. */
static void
flat_rows(struct table *t, const char *prefix, const json_t *v)
{
	char buf[512], val[64];
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			snprintf(buf, sizeof(buf), "%s%s%s", prefix, prefix[0] ? "." : "  ", k);
			flat_rows(t, buf, x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			snprintf(buf, sizeof(buf), "%s[%zu]", prefix, i);
			flat_rows(t, buf, x);
		}
	} else {
		tbl_add(t, prefix, txt(v, val, sizeof(val)));
	}
}

static void
print_counters(const json_t *res)
{
	static const char *const pk[] = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"};
	static const char *const ck[] = {"in_packets", "in_bytes", "out_packets", "out_bytes"};
	static const char *const uk[] = {"to_cloud_packets", "to_cloud_bytes", "from_cloud_packets",
					 "from_cloud_bytes"};
	const json_t *mp = json_object_get(res, "mempool"), *a;
	struct named *v;
	struct table t;
	size_t n;
	char b[4][32], kd[24], sz[24], av[24];

	tbl_init(&t, 5, "lrrrr");
	tbl_add(&t, "PORT", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES");
	v = sorted_members(json_object_get(res, "ports"), &n);
	for (size_t i = 0; v && i < n; i++) {
		for (int k = 0; k < 4; k++)
			field(v[i].v, pk[k], b[k], sizeof(b[k]));
		tbl_add(&t, v[i].name, b[0], b[1], b[2], b[3]);
	}
	free(v);
	tbl_print(&t);
	putchar('\n');
	tbl_init(&t, 6, "llrrrr");
	tbl_add(&t, "CONTEXT", "KIND", "IN_PKTS", "IN_BYTES", "OUT_PKTS", "OUT_BYTES");
	v = sorted_members(json_object_get(res, "contexts"), &n);
	for (size_t i = 0; v && i < n; i++) {
		for (int k = 0; k < 4; k++)
			field(v[i].v, ck[k], b[k], sizeof(b[k]));
		tbl_add(&t, v[i].name, field(v[i].v, "kind", kd, sizeof(kd)), b[0], b[1], b[2], b[3]);
	}
	free(v);
	tbl_print(&t);
	putchar('\n');
	tbl_init(&t, 5, "lrrrr");
	tbl_add(&t, "CUSTOMER", "TO_CLOUD_PKTS", "TO_CLOUD_BYTES", "FROM_CLOUD_PKTS",
		"FROM_CLOUD_BYTES");
	v = sorted_members(json_object_get(res, "customers"), &n);
	for (size_t i = 0; v && i < n; i++) {
		for (int k = 0; k < 4; k++)
			field(v[i].v, uk[k], b[k], sizeof(b[k]));
		tbl_add(&t, v[i].name, b[0], b[1], b[2], b[3]);
	}
	free(v);
	tbl_print(&t);
	for (int s = 0; s < 2; s++) {
		const char *key = s ? "drops" : "events";
		const json_t *o = json_object_get(res, key);
		const char *k;
		json_t *x;
		bool any = false;

		printf("\n%s:\n", key);
		json_object_foreach((json_t *)o, k, x)
			if (json_integer_value(x) != 0) {
				printf("  %-24s %14lld\n", k, (long long)json_integer_value(x));
				any = true;
			}
		if (!any)
			printf("  (none)\n");
	}
	printf("\nmbufs: %s of %s available\n", field(mp, "available_at_exit", av, sizeof(av)),
	       field(mp, "size", sz, sizeof(sz)));
	a = json_object_get(res, "applier");
	if (a != NULL) {
		printf("\nroute applier:\n");
		tbl_init(&t, 2, "lr");
		flat_rows(&t, "", a);
		tbl_print(&t);
	}
}

static void
print_feeds(const json_t *res)
{
	struct table t;
	const json_t *f;
	size_t i;

	if (json_array_size(res) == 0) {
		printf("no route feeds configured\n");
		return;
	}
	tbl_init(&t, 8, "llrrrrll");
	tbl_add(&t, "FEED", "SOURCE", "SESSIONS", "MSGS_IN", "ENQUEUED", "RING_FULL_WAITS",
		"LAST_UPDATE", "BAD INPUT");
	json_array_foreach(res, i, f) {
		char n[64], s[24], se[24], mi[24], en[24], rf[24], lu[64] = "never", bad[512] = "";
		const json_t *lv = json_object_get(f, "last_update"), *x;
		const char *k;
		size_t off = 0;

		if (json_is_integer(lv) && json_integer_value(lv) > 0) {
			time_t tt = (time_t)json_integer_value(lv);
			struct tm tm;
			long ago = (long)(time(NULL) - tt);

			localtime_r(&tt, &tm);
			off = strftime(lu, sizeof(lu), "%Y-%m-%d %H:%M:%S", &tm);
			snprintf(lu + off, sizeof(lu) - off, " (%lds ago)", ago < 0 ? 0 : ago);
			off = 0;
		}
		json_object_foreach(json_object_get(f, "bad"), k, x)
			if (json_integer_value(x) && off < sizeof(bad))
				off += (size_t)snprintf(bad + off, sizeof(bad) - off, "%s%s=%lld",
							off ? " " : "", k,
							(long long)json_integer_value(x));
		tbl_add(&t, field(f, "name", n, sizeof(n)), field(f, "source", s, sizeof(s)),
			field(f, "sessions", se, sizeof(se)), field(f, "msgs_in", mi, sizeof(mi)),
			field(f, "enqueued", en, sizeof(en)),
			field(f, "ring_full_waits", rf, sizeof(rf)), lu, bad);
	}
	tbl_print(&t);
}

/* ------------------------------------------------------------------------------------ */
/* Command line                                                                         */

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* ---- IPsec SAs ----------------------------------------------------------------------- */

static int
parse_spi(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return (errno || end == s || *end != '\0' || *out > 4294967295ul) ? -1 : 0;
}

/* sa add CUSTOMER SPI DIR ALG KEY_FILE [esn] [window N] [bytes N] [packets N] */
static json_t *
sa_add_request(const char **pos, unsigned npos)
{
	unsigned long spi, v;
	char kf[4096];
	json_t *sa, *req;

	if (npos < 7 || parse_spi(pos[3], &spi) < 0) {
		usage_error("usage: sa add CUSTOMER SPI in|out ALGORITHM KEY_FILE [esn] [window N] "
			    "[bytes N] [packets N]");
		return NULL;
	}
	/* a relative key file is the caller's: make it absolute (peerfwd runs elsewhere) */
	if (pos[6][0] != '/') {
		char cwd[2048];

		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			usage_error("cannot resolve %s: %s", pos[6], strerror(errno));
			return NULL;
		}
		snprintf(kf, sizeof(kf), "%s/%s", cwd, pos[6]);
	} else {
		snprintf(kf, sizeof(kf), "%s", pos[6]);
	}
	sa = json_pack("{sIsssssssb}", "spi", (json_int_t)spi, "direction", pos[4], "algorithm",
		       pos[5], "key_file", kf, "esn", 0);
	for (unsigned i = 7; sa != NULL && i < npos; i++) {
		const char *k = pos[i], *field;

		if (strcmp(k, "esn") == 0) {
			json_object_set_new(sa, "esn", json_true());
			continue;
		}
		field = strcmp(k, "window") == 0 ? "replay_window" :
			strcmp(k, "bytes") == 0 ? "lifetime_bytes" :
			strcmp(k, "packets") == 0 ? "lifetime_packets" : NULL;
		if (field == NULL || i + 1 >= npos || parse_spi(pos[i + 1], &v) < 0) {
			json_decref(sa);
			usage_error("sa add: '%s' is not esn, window N, bytes N or packets N", k);
			return NULL;
		}
		json_object_set_new(sa, field, json_integer((json_int_t)v));
		i++;
	}
	req = json_pack("{ssssso}", "cmd", "sa-add", "customer", pos[2], "sa", sa);
	if (req == NULL)
		usage_error("arguments must be valid UTF-8");
	return req;
}

static void
print_sas(const json_t *res)
{
	size_t i;
	const json_t *o;

	printf("%-16s %10s %-3s %-11s %-3s %6s %20s %12s %14s %12s %14s %s\n", "CUSTOMER", "SPI",
	       "DIR", "ALGORITHM", "ESN", "WINDOW", "SEQ", "PACKETS", "BYTES", "LIFE_PKTS",
	       "LIFE_BYTES", "STATE");
	json_array_foreach(res, i, o) {
		const json_t *wv = json_object_get(o, "replay_window");
		char win[24];

		if (json_is_integer(wv))
			snprintf(win, sizeof(win), "%lld", (long long)json_integer_value(wv));
		else
			snprintf(win, sizeof(win), "-");
		printf("%-16s %10lld %-3s %-11s %-3s %6s %20lld %12lld %14lld %12lld %14lld %s\n",
		       json_string_value(json_object_get(o, "customer")),
		       (long long)json_integer_value(json_object_get(o, "spi")),
		       json_string_value(json_object_get(o, "direction")),
		       json_string_value(json_object_get(o, "algorithm")),
		       json_is_true(json_object_get(o, "esn")) ? "yes" : "no", win,
		       (long long)json_integer_value(json_object_get(o, "seq")),
		       (long long)json_integer_value(json_object_get(o, "packets")),
		       (long long)json_integer_value(json_object_get(o, "bytes")),
		       (long long)json_integer_value(json_object_get(o, "lifetime_packets")),
		       (long long)json_integer_value(json_object_get(o, "lifetime_bytes")),
		       json_string_value(json_object_get(o, "state")));
	}
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("PEERFWD_SOCKET"), *family = NULL, *limit = NULL;
	const char *pos[16];
	unsigned npos = 0, timeout_ms = DEFAULT_TIMEOUT_MS;
	bool json_out = false, opts_done = false;
	json_t *req, *res = NULL;
	const char *cmd;
	enum { C_CONTEXTS, C_ROUTES, C_LOOKUP, C_COUNTERS, C_FEEDS, C_ADD, C_DEL, C_SA_LIST,
	       C_SA_ADD, C_SA_DEL } kind;
	int rc;

	if (sock == NULL || sock[0] == '\0')
		sock = DEFAULT_SOCKET;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		char name[32];

		if (opts_done || a[0] != '-' || a[1] == '\0') {
			if (npos == sizeof(pos) / sizeof(pos[0]))
				return usage_error("too many arguments");
			pos[npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			opts_done = true;
			continue;
		}
		/* --name=value or --name value */
		eq = a[1] == '-' ? strchr(a, '=') : NULL;
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		}
		if (strcmp(name, "-j") == 0 || strcmp(name, "--json") == 0) {
			if (eq)
				return usage_error("%s takes no value", name);
			json_out = true;
			continue;
		}
		if (strcmp(name, "-s") && strcmp(name, "--socket") && strcmp(name, "-t") &&
		    strcmp(name, "--timeout") && strcmp(name, "--family") && strcmp(name, "--limit"))
			return usage_error("unknown option '%s'", a);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error("%s needs a value", name);
		if (strcmp(name, "-s") == 0 || strcmp(name, "--socket") == 0) {
			if (val[0] == '\0')
				return usage_error("--socket needs a path");
			sock = val;
		} else if (strcmp(name, "-t") == 0 || strcmp(name, "--timeout") == 0) {
			char *end;
			double s;

			errno = 0;
			s = strtod(val, &end);
			if (errno || end == val || *end != '\0' || !(s > 0) || s > 3600)
				return usage_error("--timeout: '%s' is not a number of seconds "
						   "(0 < S <= 3600)", val);
			timeout_ms = (unsigned)(s * 1000 + 0.5);
			if (timeout_ms == 0)
				timeout_ms = 1;
		} else if (strcmp(name, "--family") == 0) {
			family = val;
		} else {
			limit = val;
		}
	}
	if (npos == 0)
		return usage_error("no command given");
	cmd = pos[0];
	if (strcmp(cmd, "contexts") == 0)
		kind = C_CONTEXTS;
	else if (strcmp(cmd, "routes") == 0)
		kind = C_ROUTES;
	else if (strcmp(cmd, "lookup") == 0)
		kind = C_LOOKUP;
	else if (strcmp(cmd, "counters") == 0)
		kind = C_COUNTERS;
	else if (strcmp(cmd, "feeds") == 0)
		kind = C_FEEDS;
	else if (strcmp(cmd, "route") == 0) {
		if (npos < 2)
			return usage_error("'route' needs 'add' or 'del'");
		if (strcmp(pos[1], "add") == 0)
			kind = C_ADD;
		else if (strcmp(pos[1], "del") == 0 || strcmp(pos[1], "delete") == 0)
			kind = C_DEL;
		else
			return usage_error("'route %s': expected 'route add' or 'route del'", pos[1]);
	} else if (strcmp(cmd, "sa") == 0) {
		if (npos < 2)
			return usage_error("'sa' needs 'list', 'add' or 'del'");
		if (strcmp(pos[1], "list") == 0)
			kind = C_SA_LIST;
		else if (strcmp(pos[1], "add") == 0)
			kind = C_SA_ADD;
		else if (strcmp(pos[1], "del") == 0 || strcmp(pos[1], "delete") == 0)
			kind = C_SA_DEL;
		else
			return usage_error("'sa %s': expected 'sa list', 'sa add' or 'sa del'", pos[1]);
	} else
		return usage_error("unknown command '%s'", cmd);
	if ((family || limit) && kind != C_ROUTES)
		return usage_error("--family and --limit are options of 'routes'");

	switch (kind) {
	case C_CONTEXTS:
	case C_COUNTERS:
	case C_FEEDS:
		if (npos != 1)
			return usage_error("'%s' takes no arguments", cmd);
		req = json_pack("{ss}", "cmd", cmd);
		break;
	case C_ROUTES: {
		unsigned long n = 0;

		if (npos != 2)
			return usage_error("usage: routes CONTEXT [--family 4|6] [--limit N]");
		if (family && strcmp(family, "4") && strcmp(family, "6"))
			return usage_error("--family: '%s' is not 4 or 6", family);
		if (limit && (parse_uint(limit, 10000000, &n) < 0 || n == 0))
			return usage_error("--limit: '%s' is not 1..10000000", limit);
		req = json_pack("{ssss}", "cmd", "routes", "context", pos[1]);
		if (req && family)
			json_object_set_new(req, "family", json_integer(family[0] - '0'));
		if (req && limit)
			json_object_set_new(req, "limit", json_integer((json_int_t)n));
		break;
	}
	case C_LOOKUP:
		if (npos != 3)
			return usage_error("usage: lookup CONTEXT ADDRESS");
		req = json_pack("{ssssss}", "cmd", "lookup", "context", pos[1], "address", pos[2]);
		break;
	case C_ADD:
		if (npos != 6 || strcmp(pos[4], "via") != 0)
			return usage_error("usage: route add CONTEXT PREFIX via VIA");
		req = json_pack("{ssssssss}", "cmd", "route-add", "context", pos[2], "prefix", pos[3],
				"via", pos[5]);
		break;
	case C_SA_LIST:
		if (npos > 3)
			return usage_error("usage: sa list [CUSTOMER]");
		req = json_pack("{ss}", "cmd", "sa-list");
		if (req && npos == 3)
			json_object_set_new(req, "customer", json_string(pos[2]));
		break;
	case C_SA_ADD:
		if ((req = sa_add_request(pos, npos)) == NULL)
			return EXIT_USAGE;
		break;
	case C_SA_DEL: {
		unsigned long spi = 0;

		if (npos < 4 || npos > 5 || parse_spi(pos[3], &spi) < 0 ||
		    (npos == 5 && strcmp(pos[4], "in") && strcmp(pos[4], "out")))
			return usage_error("usage: sa del CUSTOMER SPI [in|out]");
		req = json_pack("{sssssI}", "cmd", "sa-del", "customer", pos[2], "spi",
				(json_int_t)spi);
		if (req && npos == 5)
			json_object_set_new(req, "direction", json_string(pos[4]));
		break;
	}
	case C_DEL:
	default:
		if (npos != 4)
			return usage_error("usage: route del CONTEXT PREFIX");
		req = json_pack("{ssssss}", "cmd", "route-del", "context", pos[2], "prefix", pos[3]);
		break;
	}
	if (req == NULL) /* json_pack refuses strings that are not UTF-8 */
		return usage_error("arguments must be valid UTF-8");

	rc = call(sock, timeout_ms, req, &res);
	json_decref(req);
	if (rc != EXIT_OK)
		return rc;
	if (json_out) {
		char *s = json_dumps(res, JSON_INDENT(2) | JSON_ENCODE_ANY);

		if (s == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			json_decref(res);
			return EXIT_SERVER;
		}
		puts(s);
		free(s);
	} else {
		switch (kind) {
		case C_CONTEXTS: print_contexts(res); break;
		case C_ROUTES: print_routes(res); break;
		case C_LOOKUP: print_lookup(res); break;
		case C_COUNTERS: print_counters(res); break;
		case C_FEEDS: print_feeds(res); break;
		case C_ADD: print_route_change(res, true); break;
		case C_DEL: print_route_change(res, false); break;
		case C_SA_LIST: print_sas(res); break;
		case C_SA_ADD: printf("%s: SA %lld (%s) installed\n",
				      json_string_value(json_object_get(res, "customer")),
				      (long long)json_integer_value(json_object_get(res, "spi")),
				      json_string_value(json_object_get(res, "direction")));
			break;
		case C_SA_DEL: printf("%s: SA %lld deleted\n",
				      json_string_value(json_object_get(res, "customer")),
				      (long long)json_integer_value(json_object_get(res, "deleted")));
			break;
		}
	}
	json_decref(res);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", prog, strerror(errno));
		return EXIT_SERVER;
	}
	return EXIT_OK;
}
