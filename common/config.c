/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration loader: JSON (jansson) -> struct pf_config, then validation.
 * Schema and rules: docs/config.md.
 *
 * Error positions: jansson reports line:column only for syntax errors and keeps no node
 * positions, so after a successful parse we scan the same bytes with a small tokenizer
 * (struct scan) that records, for every JSON value, its path ("customers[0].contexts[1].vlan")
 * and where it starts. Semantic errors look their path up there; a missing field falls
 * back to its enclosing object. Columns count Unicode characters from 1, as jansson does.
 */
#include "common/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define PLEN 512                      /* field path buffer */
#define CONFIG_MAX_BYTES (64u << 20)  /* refuse absurd files */

/* ---------------------------------------------------------------------------------------
 * Address helpers
 * ------------------------------------------------------------------------------------- */

static unsigned fam_bits(int family)
{
	return family == 6 ? 128 : 32;
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned nbits)
{
	unsigned full = nbits / 8, rem = nbits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rem));
	return (a[full] & mask) == (b[full] & mask);
}

static bool bit_at(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* host bits (after len, up to the family's width) all equal to v */
static bool host_bits_all(const uint8_t *a, unsigned len, unsigned width, bool v)
{
	for (unsigned i = len; i < width; i++)
		if (bit_at(a, i) != v)
			return false;
	return true;
}

int pf_prefix_parse(const char *s, struct pf_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct pf_prefix r;
	const char *slash, *d;
	size_t alen, nd;
	unsigned len = 0;

	if (s == NULL || p == NULL)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash == NULL)
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	d = slash + 1;
	nd = strlen(d);
	if (nd == 0 || nd > 3 || (nd > 1 && d[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < nd; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(d[i] - '0');
	}
	memset(&r, 0, sizeof(r));
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, r.addr) != 1 || len > 128)
			return -EINVAL;
		r.family = 6;
	} else {
		if (inet_pton(AF_INET, buf, r.addr) != 1 || len > 32)
			return -EINVAL;
		r.family = 4;
	}
	r.len = (uint8_t)len;
	*p = r;
	return 0;
}

int pf_addr_parse(const char *s, struct pf_addr *a)
{
	struct pf_addr r;

	if (s == NULL || a == NULL || strlen(s) > INET6_ADDRSTRLEN)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, r.addr) != 1)
			return -EINVAL;
		r.family = 6;
	} else {
		if (inet_pton(AF_INET, s, r.addr) != 1)
			return -EINVAL;
		r.family = 4;
	}
	*a = r;
	return 0;
}

int
pf_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pf_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (s == NULL || mac == NULL || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = pf_hex_digit(s[i * 3]), lo = pf_hex_digit(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return 0;
}

bool pf_prefix_overlap(const struct pf_prefix *a, const struct pf_prefix *b)
{
	if (a->family == 0 || a->family != b->family)
		return false;
	return bits_equal(a->addr, b->addr, a->len < b->len ? a->len : b->len);
}

bool pf_prefix_contains(const struct pf_prefix *p, const struct pf_addr *a)
{
	if (p->family == 0 || p->family != a->family)
		return false;
	return bits_equal(p->addr, a->addr, p->len);
}

const char *pf_ctx_kind_name(enum pf_ctx_kind k)
{
	switch (k) {
	case PF_CTX_PRIVATE: return "private";
	case PF_CTX_MICROSOFT: return "microsoft";
	case PF_CTX_PUBLIC: return "public";
	}
	return "?";
}

bool pf_prefix_is_network(const struct pf_prefix *p)
{
	return host_bits_all(p->addr, p->len, fam_bits(p->family), false);
}

void pf_prefix_network(const struct pf_prefix *p, struct pf_prefix *net)
{
	struct pf_prefix r = *p;
	unsigned width = fam_bits(p->family);

	for (unsigned i = p->len; i < width; i++)
		r.addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	*net = r;
}

void pf_prefix_host(const struct pf_prefix *p, struct pf_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = p->family;
	memcpy(a->addr, p->addr, sizeof(a->addr));
}

bool pf_addr_equal(const struct pf_addr *a, const struct pf_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == 6 ? 16 : 4) == 0;
}

static void link_addr(const struct pf_prefix *subnet, unsigned add, struct pf_addr *a)
{
	struct pf_prefix net;
	int i = subnet->family == 6 ? 15 : 3;

	pf_prefix_network(subnet, &net);
	pf_prefix_host(&net, a);
	for (; i >= 0 && add; i--) {
		unsigned v = a->addr[i] + add;

		a->addr[i] = (uint8_t)v;
		add = v >> 8;
	}
}

void pf_link_peer_addr(const struct pf_prefix *subnet, struct pf_addr *a)
{
	link_addr(subnet, 1, a);
}

void pf_link_our_addr(const struct pf_prefix *subnet, struct pf_addr *a)
{
	link_addr(subnet, 2, a);
}

const char *pf_addr_fmt(const struct pf_addr *a, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	if ((a->family != 4 && a->family != 6) ||
	    inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->addr, tmp, sizeof(tmp)) == NULL)
		snprintf(buf, len, "(unset)");
	else
		snprintf(buf, len, "%s", tmp);
	return buf;
}

const char *pf_prefix_fmt(const struct pf_prefix *p, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	struct pf_addr a;

	if (len == 0)
		return buf;
	if (p->family != 4 && p->family != 6) {
		snprintf(buf, len, "(unset)");
		return buf;
	}
	pf_prefix_host(p, &a);
	pf_addr_fmt(&a, tmp, sizeof(tmp));
	snprintf(buf, len, "%s/%u", tmp, (unsigned)p->len);
	return buf;
}

const struct pf_port_conf *pf_config_port(const struct pf_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, name) == 0)
			return &cfg->ports[i];
	return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Position index: path -> line:col of every value (and of its key, for object members)
 * ------------------------------------------------------------------------------------- */

struct pos_ent {
	char *path;
	unsigned line, col;     /* the value */
	unsigned kline, kcol;   /* its key (object members), else = value */
};

struct posidx {
	struct pos_ent *v;
	size_t n, cap;
};

struct scan {
	const unsigned char *s;
	size_t n, i;
	unsigned line, col;     /* col: characters already consumed on this line */
	struct posidx *idx;
	char *path;
	size_t plen, pcap;
	char *key;
	size_t klen, kcap;
	int depth;
};

static void posidx_free(struct posidx *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i].path);
	free(x->v);
	x->v = NULL;
	x->n = x->cap = 0;
}

static int buf_reserve(char **b, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	char *nb = realloc(*b, nc);
	if (nb == NULL)
		return -1;
	*b = nb;
	*cap = nc;
	return 0;
}

static int idx_add(struct scan *sc, unsigned line, unsigned col, unsigned kl, unsigned kc)
{
	struct posidx *x = sc->idx;

	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		struct pos_ent *nv = realloc(x->v, nc * sizeof(*nv));
		if (nv == NULL)
			return -1;
		x->v = nv;
		x->cap = nc;
	}
	char *p = malloc(sc->plen + 1);
	if (p == NULL)
		return -1;
	memcpy(p, sc->path, sc->plen);
	p[sc->plen] = '\0';
	x->v[x->n++] = (struct pos_ent){ p, line, col, kl, kc };
	return 0;
}

static int sc_peek(const struct scan *sc)
{
	return sc->i < sc->n ? sc->s[sc->i] : -1;
}

static void sc_adv(struct scan *sc)
{
	unsigned char c = sc->s[sc->i++];

	if (c == '\n') {
		sc->line++;
		sc->col = 0;
	} else if ((c & 0xc0) != 0x80) {
		sc->col++;
	}
}

static void sc_ws(struct scan *sc)
{
	for (int c = sc_peek(sc); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = sc_peek(sc))
		sc_adv(sc);
}

static int key_put(struct scan *sc, const char *b, size_t n)
{
	if (buf_reserve(&sc->key, &sc->kcap, sc->klen + n + 1) < 0)
		return -1;
	memcpy(sc->key + sc->klen, b, n);
	sc->klen += n;
	sc->key[sc->klen] = '\0';
	return 0;
}

static int hex4(struct scan *sc, unsigned *out)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		int h = sc_peek(sc) < 0 ? -1 : pf_hex_digit((char)sc_peek(sc));
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
		sc_adv(sc);
	}
	*out = v;
	return 0;
}

/* A string at the cursor ('"'). With decode, its value ends up in sc->key. */
static int sc_string(struct scan *sc, bool decode)
{
	sc_adv(sc); /* '"' */
	sc->klen = 0;
	if (decode && key_put(sc, "", 0) < 0)
		return -1;
	for (;;) {
		int c = sc_peek(sc);

		if (c < 0)
			return -1;
		if (c == '"') {
			sc_adv(sc);
			return 0;
		}
		if (c != '\\') {
			char ch = (char)c;
			sc_adv(sc);
			if (decode && key_put(sc, &ch, 1) < 0)
				return -1;
			continue;
		}
		sc_adv(sc);
		c = sc_peek(sc);
		if (c < 0)
			return -1;
		sc_adv(sc);
		char ch;
		switch (c) {
		case '"': ch = '"'; break;
		case '\\': ch = '\\'; break;
		case '/': ch = '/'; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			char u[4];
			size_t un;

			if (hex4(sc, &cp) < 0)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff && sc_peek(sc) == '\\' && sc->i + 1 < sc->n &&
			    sc->s[sc->i + 1] == 'u') {
				sc_adv(sc);
				sc_adv(sc);
				if (hex4(sc, &lo) < 0)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp < 0x80) {
				u[0] = (char)cp;
				un = 1;
			} else if (cp < 0x800) {
				u[0] = (char)(0xc0 | cp >> 6);
				u[1] = (char)(0x80 | (cp & 0x3f));
				un = 2;
			} else if (cp < 0x10000) {
				u[0] = (char)(0xe0 | cp >> 12);
				u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				u[2] = (char)(0x80 | (cp & 0x3f));
				un = 3;
			} else {
				u[0] = (char)(0xf0 | cp >> 18);
				u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
				u[3] = (char)(0x80 | (cp & 0x3f));
				un = 4;
			}
			if (decode && key_put(sc, u, un) < 0)
				return -1;
			continue;
		}
		default:
			return -1;
		}
		if (decode && key_put(sc, &ch, 1) < 0)
			return -1;
	}
}

static int path_push(struct scan *sc, const char *piece, size_t n, bool dot)
{
	size_t add = n + (dot && sc->plen ? 1 : 0);

	if (buf_reserve(&sc->path, &sc->pcap, sc->plen + add + 1) < 0)
		return -1;
	if (dot && sc->plen)
		sc->path[sc->plen++] = '.';
	memcpy(sc->path + sc->plen, piece, n);
	sc->plen += n;
	sc->path[sc->plen] = '\0';
	return 0;
}

static int sc_value(struct scan *sc, unsigned kl, unsigned kc)
{
	unsigned line = sc->line, col = sc->col + 1;
	int c = sc_peek(sc);

	if (c < 0 || ++sc->depth > JSON_PARSER_MAX_DEPTH + 8)
		return -1;
	if (idx_add(sc, line, col, kl ? kl : line, kl ? kc : col) < 0)
		return -1;
	size_t base = sc->plen;
	if (c == '{') {
		sc_adv(sc);
		sc_ws(sc);
		if (sc_peek(sc) == '}') {
			sc_adv(sc);
			goto out;
		}
		for (;;) {
			sc_ws(sc);
			if (sc_peek(sc) != '"')
				return -1;
			unsigned kline = sc->line, kcol = sc->col + 1;
			if (sc_string(sc, true) < 0)
				return -1;
			sc_ws(sc);
			if (sc_peek(sc) != ':')
				return -1;
			sc_adv(sc);
			sc_ws(sc);
			if (path_push(sc, sc->key, sc->klen, true) < 0)
				return -1;
			if (sc_value(sc, kline, kcol) < 0)
				return -1;
			sc->plen = base;
			sc->path[base] = '\0';
			sc_ws(sc);
			c = sc_peek(sc);
			if (c < 0)
				return -1;
			sc_adv(sc);
			if (c == '}')
				break;
			if (c != ',')
				return -1;
		}
	} else if (c == '[') {
		sc_adv(sc);
		sc_ws(sc);
		if (sc_peek(sc) == ']') {
			sc_adv(sc);
			goto out;
		}
		for (size_t k = 0;; k++) {
			char ib[32];
			int n = snprintf(ib, sizeof(ib), "[%zu]", k);

			sc_ws(sc);
			if (path_push(sc, ib, (size_t)n, false) < 0)
				return -1;
			if (sc_value(sc, 0, 0) < 0)
				return -1;
			sc->plen = base;
			sc->path[base] = '\0';
			sc_ws(sc);
			c = sc_peek(sc);
			if (c < 0)
				return -1;
			sc_adv(sc);
			if (c == ']')
				break;
			if (c != ',')
				return -1;
		}
	} else if (c == '"') {
		if (sc_string(sc, false) < 0)
			return -1;
	} else {
		/* number, true, false, null */
		for (c = sc_peek(sc); c >= 0 && c != ',' && c != '}' && c != ']' && c != ' ' &&
		     c != '\t' && c != '\n' && c != '\r'; c = sc_peek(sc))
			sc_adv(sc);
	}
out:
	sc->depth--;
	return 0;
}

static int pos_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pos_ent *)a)->path, ((const struct pos_ent *)b)->path);
}

/* Build the index of a document jansson already accepted. */
static int posidx_build(struct posidx *x, const char *text, size_t n)
{
	struct scan sc = { .s = (const unsigned char *)text, .n = n, .line = 1, .idx = x };
	int rc;

	if (path_push(&sc, "", 0, false) < 0)
		return -ENOMEM;
	sc_ws(&sc);
	rc = sc_value(&sc, 0, 0);
	free(sc.path);
	free(sc.key);
	/* on failure (memory) the index stays partial and lookups fall back to parents */
	if (x->n > 0)
		qsort(x->v, x->n, sizeof(*x->v), pos_cmp);
	return rc < 0 ? -ENOMEM : 0;
}

static const struct pos_ent *posidx_find(const struct posidx *x, const char *path)
{
	struct pos_ent key = { .path = (char *)path };

	if (x->n == 0)
		return NULL;
	return bsearch(&key, x->v, x->n, sizeof(*x->v), pos_cmp);
}

/* ---------------------------------------------------------------------------------------
 * Loader state, errors, typed member access
 * ------------------------------------------------------------------------------------- */

struct ld {
	const char *file;
	char *err;
	size_t errlen;
	bool failed;
	struct posidx idx;
	struct pf_config *cfg;
};

/* position of path, or of the closest enclosing value that exists */
static void lookup_pos(const struct ld *ld, const char *path, bool key, unsigned *line,
		       unsigned *col)
{
	char p[PLEN];

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		const struct pos_ent *e = posidx_find(&ld->idx, p);

		if (e != NULL) {
			*line = key ? e->kline : e->line;
			*col = key ? e->kcol : e->col;
			return;
		}
		key = false;
		size_t n = strlen(p);
		if (n == 0)
			break;
		if (p[n - 1] == ']') {
			char *b = strrchr(p, '[');
			if (b == NULL)
				break;
			*b = '\0';
		} else {
			char *d = strrchr(p, '.');
			if (d != NULL)
				*d = '\0';
			else
				p[0] = '\0';
		}
	}
	*line = 0;
	*col = 0;
}

static void vfail_at(struct ld *ld, const char *path, bool key, const char *fmt, va_list ap)
{
	char msg[1024], shown[PLEN];
	unsigned line, col;
	size_t i;

	if (ld->failed)
		return;
	ld->failed = true;
	if (ld->err == NULL || ld->errlen == 0)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	lookup_pos(ld, path, key, &line, &col);
	/* paths may hold user-written keys: no control characters in a one-line message */
	for (i = 0; path[i] != '\0' && i + 1 < sizeof(shown); i++)
		shown[i] = ((unsigned char)path[i] < 0x20 || path[i] == 0x7f) ? '?' : path[i];
	shown[i] = '\0';
	snprintf(ld->err, ld->errlen, "%s:%u:%u: %s: %s", ld->file, line, col,
		 shown[0] ? shown : "(root)", msg);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct ld *ld, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(ld, path, false, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

__attribute__((format(printf, 3, 4)))
static int fail_key(struct ld *ld, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(ld, path, true, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* out = parent.key (out may be parent); truncated paths only lose position precision */
static void pjoin(char out[PLEN], const char *parent, const char *key)
{
	char t[PLEN];
	size_t a = strlen(parent), b = strlen(key);

	if (a >= PLEN)
		a = PLEN - 1;
	memcpy(t, parent, a);
	if (a && a + 1 < PLEN)
		t[a++] = '.';
	if (a + b >= PLEN)
		b = PLEN - 1 - a;
	memcpy(t + a, key, b);
	t[a + b] = '\0';
	memcpy(out, t, a + b + 1);
}

/* out = parent[i] (out may be parent) */
static void pindex(char out[PLEN], const char *parent, size_t i)
{
	char ib[32];
	size_t a = strlen(parent);
	int b = snprintf(ib, sizeof(ib), "[%zu]", i);

	if (a + (size_t)b >= PLEN) {
		memmove(out, parent, a + 1);
		return;
	}
	memmove(out, parent, a);
	memcpy(out + a, ib, (size_t)b + 1);
}

const char *pf_json_type_name(const void *value)
{
	const json_t *v = value;

	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real number";
	case JSON_TRUE: case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

enum want { W_OBJ, W_ARR, W_STR, W_INT, W_BOOL };

static const char *const want_name[] = {
	[W_OBJ] = "an object", [W_ARR] = "an array", [W_STR] = "a string",
	[W_INT] = "an integer", [W_BOOL] = "a boolean",
};

static bool is_want(const json_t *v, enum want w)
{
	switch (w) {
	case W_OBJ: return json_is_object(v);
	case W_ARR: return json_is_array(v);
	case W_STR: return json_is_string(v);
	case W_INT: return json_is_integer(v);
	case W_BOOL: return json_is_boolean(v);
	}
	return false;
}

/* Printable, bounded rendering of a user-provided string for messages. */
static const char *safe(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; s[i] != '\0' && o + 4 < n; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		if (i == 60 && s[i + 1] != '\0') {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* The value at path must be of type w. */
static int check_type(struct ld *ld, const json_t *v, const char *path, enum want w)
{
	if (!is_want(v, w))
		return fail(ld, path, "expected %s, got %s", want_name[w], pf_json_type_name(v));
	return 0;
}

/*
 * Member key of obj (at parent): 1 and *out, path filled if present and of type w;
 * 0 if absent and optional; negative (error reported) otherwise.
 */
static int member(struct ld *ld, const json_t *obj, const char *parent, const char *key,
		  bool required, enum want w, json_t **out, char path[PLEN])
{
	json_t *v = json_object_get(obj, key);

	pjoin(path, parent, key);
	if (v == NULL) {
		if (required)
			return fail(ld, path, "missing required field '%s'", key);
		return 0;
	}
	if (check_type(ld, v, path, w) < 0)
		return -EINVAL;
	*out = v;
	return 1;
}

static int get_int(struct ld *ld, const json_t *obj, const char *parent, const char *key,
		   bool required, long long lo, long long hi, long long *out)
{
	char path[PLEN];
	json_t *v = NULL;
	int r = member(ld, obj, parent, key, required, W_INT, &v, path);

	if (r <= 0)
		return r;
	long long x = json_integer_value(v);
	if (x < lo || x > hi)
		return fail(ld, path, "%lld is out of range %lld..%lld", x, lo, hi);
	*out = x;
	return 1;
}

static int get_str(struct ld *ld, const json_t *obj, const char *parent, const char *key,
		   bool required, const char **out)
{
	char path[PLEN];
	json_t *v = NULL;
	int r = member(ld, obj, parent, key, required, W_STR, &v, path);

	if (r <= 0)
		return r;
	*out = json_string_value(v);
	return 1;
}

static int get_bool(struct ld *ld, const json_t *obj, const char *parent, const char *key,
		    bool *out)
{
	char path[PLEN];
	json_t *v = NULL;
	int r = member(ld, obj, parent, key, false, W_BOOL, &v, path);

	if (r <= 0)
		return r;
	*out = json_is_true(v);
	return 1;
}

/* Every key of obj must be in allowed; report the first unknown one in document order. */
static int check_fields(struct ld *ld, const json_t *obj, const char *path,
			const char *const *allowed)
{
	const char *key, *bad = NULL;
	unsigned bl = UINT_MAX, bc = UINT_MAX;
	json_t *v = NULL;
	char kp[PLEN], sb[96];

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;

		for (const char *const *a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				ok = true;
		if (ok)
			continue;
		unsigned l, c;
		pjoin(kp, path, key);
		lookup_pos(ld, kp, true, &l, &c);
		if (bad == NULL || l < bl || (l == bl && c < bc)) {
			bad = key;
			bl = l;
			bc = c;
		}
	}
	if (bad == NULL)
		return 0;
	pjoin(kp, path, bad);
	return fail_key(ld, kp, "unknown field '%s'", safe(bad, sb, sizeof(sb)));
}

/* Load a string into a fixed name buffer; charset: 0 = any printable non-space,
 * 1 = [A-Za-z0-9_.-]. */
static int get_name(struct ld *ld, const json_t *obj, const char *parent, const char *key,
		    int charset, char out[PF_NAME_MAX])
{
	char path[PLEN], sb[96];
	const char *s = NULL;
	int r = get_str(ld, obj, parent, key, true, &s);

	if (r < 0)
		return r;
	pjoin(path, parent, key);
	size_t n = strlen(s);
	if (n == 0)
		return fail(ld, path, "must not be empty");
	if (n >= PF_NAME_MAX)
		return fail(ld, path, "'%s' is too long (%zu characters, at most %d)",
			    safe(s, sb, sizeof(sb)), n, PF_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = charset == 0 ? (c > 0x20 && c < 0x7f)
				       : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
		if (!ok)
			return fail(ld, path, "'%s' contains an invalid character (allowed: %s)",
				    safe(s, sb, sizeof(sb)),
				    charset == 0 ? "printable ASCII without spaces"
						 : "A-Z a-z 0-9 _ . -");
	}
	memcpy(out, s, n + 1);
	return 0;
}

static int get_prefix(struct ld *ld, const json_t *v, const char *path, struct pf_prefix *p)
{
	char sb[96];

	if (check_type(ld, v, path, W_STR) < 0)
		return -EINVAL;
	if (pf_prefix_parse(json_string_value(v), p) < 0)
		return fail(ld, path, "'%s' is not a valid IPv4 or IPv6 prefix (address/length)",
			    safe(json_string_value(v), sb, sizeof(sb)));
	return 0;
}

/* A network prefix: no host bits set. */
static int get_net_prefix(struct ld *ld, const json_t *v, const char *path, struct pf_prefix *p)
{
	char a[64], b[64];

	if (get_prefix(ld, v, path, p) < 0)
		return -EINVAL;
	if (!pf_prefix_is_network(p)) {
		struct pf_prefix net;

		pf_prefix_network(p, &net);
		return fail(ld, path, "%s has host bits set (did you mean %s?)",
			    pf_prefix_fmt(p, a, sizeof(a)), pf_prefix_fmt(&net, b, sizeof(b)));
	}
	return 0;
}

static int get_addr(struct ld *ld, const json_t *obj, const char *parent, const char *key,
		    bool required, int family, struct pf_addr *a)
{
	char path[PLEN], sb[96];
	const char *s = NULL;
	int r = get_str(ld, obj, parent, key, required, &s);

	if (r <= 0)
		return r;
	pjoin(path, parent, key);
	if (pf_addr_parse(s, a) < 0 || (family && a->family != family))
		return fail(ld, path, "'%s' is not a valid %s address", safe(s, sb, sizeof(sb)),
			    family == 4 ? "IPv4" : family == 6 ? "IPv6" : "IPv4 or IPv6");
	return 1;
}

static int get_mac(struct ld *ld, const json_t *obj, const char *parent, const char *key,
		   bool required, uint8_t mac[6])
{
	char path[PLEN], sb[96];
	const char *s = NULL;
	int r = get_str(ld, obj, parent, key, required, &s);

	if (r <= 0)
		return r;
	pjoin(path, parent, key);
	if (pf_mac_parse(s, mac) < 0)
		return fail(ld, path, "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
			    safe(s, sb, sizeof(sb)));
	if (mac[0] & 1)
		return fail(ld, path, "%s is a multicast/broadcast MAC address, a unicast one is "
			    "required", s);
	static const uint8_t zero[6];
	if (memcmp(mac, zero, 6) == 0)
		return fail(ld, path, "00:00:00:00:00:00 is not a valid MAC address");
	return 1;
}

/* ---------------------------------------------------------------------------------------
 * Address classes
 * ------------------------------------------------------------------------------------- */

struct range {
	const char *prefix;
	const char *why;
};

/* Not unicast-usable at all (for our own addresses, gateways, tunnel endpoints, subnets). */
static const struct range nonunicast4[] = {
	{ "0.0.0.0/8", "\"this network\" (RFC 1122)" },
	{ "127.0.0.0/8", "loopback" },
	{ "224.0.0.0/4", "multicast" },
	{ "240.0.0.0/4", "reserved (class E / broadcast)" },
	{ NULL, NULL },
};

static const struct range nonunicast6[] = {
	{ "::/8", "reserved (unspecified, loopback, IPv4-mapped)" },
	{ "fe80::/10", "link-local" },
	{ "ff00::/8", "multicast" },
	{ NULL, NULL },
};

/* Must not be carried by public/microsoft peering routes. Documentation ranges
 * (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are deliberately absent. */
static const struct range bogons[] = {
	{ "0.0.0.0/8", "\"this network\" (RFC 1122)" },
	{ "10.0.0.0/8", "private (RFC 1918)" },
	{ "100.64.0.0/10", "shared address space / CGNAT (RFC 6598)" },
	{ "127.0.0.0/8", "loopback" },
	{ "169.254.0.0/16", "link-local (RFC 3927)" },
	{ "172.16.0.0/12", "private (RFC 1918)" },
	{ "192.0.0.0/24", "IETF protocol assignments (RFC 6890)" },
	{ "192.168.0.0/16", "private (RFC 1918)" },
	{ "198.18.0.0/15", "benchmarking (RFC 2544)" },
	{ "224.0.0.0/4", "multicast" },
	{ "240.0.0.0/4", "reserved (class E)" },
	{ "::/8", "reserved (unspecified, loopback, IPv4-mapped)" },
	{ "100::/64", "discard-only (RFC 6666)" },
	{ "fc00::/7", "unique local (ULA, RFC 4193)" },
	{ "fe80::/10", "link-local" },
	{ "fec0::/10", "site-local (deprecated)" },
	{ "ff00::/8", "multicast" },
	{ NULL, NULL },
};

static const struct range rfc1918[] = {
	{ "10.0.0.0/8", "" },
	{ "172.16.0.0/12", "" },
	{ "192.168.0.0/16", "" },
	{ NULL, NULL },
};

/* First range that p overlaps (or contains a, when p == NULL). */
static const struct range *range_hit(const struct range *t, const struct pf_prefix *p,
				     const struct pf_addr *a)
{
	for (; t->prefix != NULL; t++) {
		struct pf_prefix r;

		if (pf_prefix_parse(t->prefix, &r) < 0)
			continue;
		if (p != NULL ? pf_prefix_overlap(&r, p) : pf_prefix_contains(&r, a))
			return t;
	}
	return NULL;
}

const char *pf_prefix_bogon(const struct pf_prefix *p)
{
	const struct range *r = range_hit(bogons, p, NULL);

	return r ? r->why : NULL;
}

/* a is a usable unicast address; returns the reason if not */
static const char *addr_not_unicast(const struct pf_addr *a)
{
	const struct range *r = range_hit(a->family == 6 ? nonunicast6 : nonunicast4, NULL, a);

	return r ? r->why : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Ports
 * ------------------------------------------------------------------------------------- */

static const char *const port_fields[] = {
	"name", "role", "mac", "mtu", "address", "gateway", "address6", "gateway6", NULL,
};

/* core "address"/"address6": our address with the on-link prefix length */
static int get_iface_addr(struct ld *ld, const json_t *obj, const char *parent, const char *key,
			  int family, struct pf_prefix *p)
{
	char path[PLEN], a[64];
	json_t *v = NULL;
	int r = member(ld, obj, parent, key, family == 4, W_STR, &v, path);

	if (r <= 0)
		return r;
	if (get_prefix(ld, v, path, p) < 0)
		return -EINVAL;
	if (p->family != family)
		return fail(ld, path, "expected an %s address with prefix length, e.g. %s",
			    family == 4 ? "IPv4" : "IPv6",
			    family == 4 ? "192.0.2.1/24" : "2001:db8::1/64");
	unsigned width = fam_bits(family);
	if (p->len == 0 || p->len >= width)
		return fail(ld, path, "prefix length /%u leaves no on-link subnet (use /1../%u)",
			    (unsigned)p->len, width - 1);
	if (p->len <= width - 2 && host_bits_all(p->addr, p->len, width, false))
		return fail(ld, path, "%s is the subnet's %s address; give our own address with "
			    "the prefix length, e.g. %s", pf_prefix_fmt(p, a, sizeof(a)),
			    family == 4 ? "network" : "subnet-router anycast",
			    family == 4 ? "192.0.2.1/24" : "2001:db8::1/64");
	if (family == 4 && p->len <= 30 && host_bits_all(p->addr, p->len, width, true))
		return fail(ld, path, "%s is the subnet's broadcast address",
			    pf_prefix_fmt(p, a, sizeof(a)));
	struct pf_addr h;
	pf_prefix_host(p, &h);
	const char *why = addr_not_unicast(&h);
	if (why != NULL)
		return fail(ld, path, "%s is not a usable unicast address: %s",
			    pf_prefix_fmt(p, a, sizeof(a)), why);
	return 1;
}

static int check_gateway(struct ld *ld, const char *path, const struct pf_prefix *sub,
			 const char *subkey, const struct pf_addr *gw)
{
	char a[64], b[64];
	struct pf_addr ours;
	unsigned width = fam_bits(sub->family);

	pf_prefix_host(sub, &ours);
	if (!pf_prefix_contains(sub, gw))
		return fail(ld, path, "%s is not inside %s's subnet %s", pf_addr_fmt(gw, a, sizeof(a)),
			    subkey, pf_prefix_fmt(sub, b, sizeof(b)));
	if (pf_addr_equal(gw, &ours))
		return fail(ld, path, "%s is our own address (%s)", pf_addr_fmt(gw, a, sizeof(a)),
			    subkey);
	if (sub->len <= width - 2 && host_bits_all(gw->addr, sub->len, width, false))
		return fail(ld, path, "%s is the subnet's %s address", pf_addr_fmt(gw, a, sizeof(a)),
			    sub->family == 4 ? "network" : "subnet-router anycast");
	if (sub->family == 4 && sub->len <= 30 && host_bits_all(gw->addr, sub->len, width, true))
		return fail(ld, path, "%s is the subnet's broadcast address",
			    pf_addr_fmt(gw, a, sizeof(a)));
	return 0;
}

static int load_port(struct ld *ld, const json_t *j, const char *path, size_t idx)
{
	struct pf_config *cfg = ld->cfg;
	struct pf_port_conf *pc = &cfg->ports[idx];
	char p[PLEN], sb[96];
	const char *s = NULL;
	long long x = 0;
	int r;

	if (check_type(ld, j, path, W_OBJ) < 0 || check_fields(ld, j, path, port_fields) < 0)
		return -EINVAL;
	lookup_pos(ld, path, false, &pc->line, &pc->col);
	if (get_name(ld, j, path, "name", 0, pc->name) < 0)
		return -EINVAL;
	for (size_t i = 0; i < idx; i++)
		if (strcmp(cfg->ports[i].name, pc->name) == 0) {
			pjoin(p, path, "name");
			return fail(ld, p, "duplicate port name '%s' (already ports[%zu])", pc->name, i);
		}
	if (get_str(ld, j, path, "role", true, &s) < 0)
		return -EINVAL;
	pjoin(p, path, "role");
	if (strcmp(s, "edge") == 0)
		pc->role = PF_ROLE_EDGE;
	else if (strcmp(s, "core") == 0)
		pc->role = PF_ROLE_CORE;
	else
		return fail(ld, p, "'%s' is not a port role (\"edge\" or \"core\")",
			    safe(s, sb, sizeof(sb)));
	r = get_mac(ld, j, path, "mac", false, pc->mac);
	if (r < 0)
		return r;
	pc->has_mac = r > 0;
	pc->mtu = 1500;
	r = get_int(ld, j, path, "mtu", false, 576, 9000, &x);
	if (r < 0)
		return r;
	if (r > 0)
		pc->mtu = (uint16_t)x;

	if (pc->role == PF_ROLE_EDGE) {
		static const char *const core_only[] = { "address", "gateway", "address6",
							 "gateway6" };
		for (size_t i = 0; i < 4; i++)
			if (json_object_get(j, core_only[i]) != NULL) {
				pjoin(p, path, core_only[i]);
				return fail(ld, p, "'%s' is only valid on a core port (this port's role "
					    "is edge)", core_only[i]);
			}
		return 0;
	}

	/* core: IPv4 address + gateway required, IPv6 pair optional but together */
	if (get_iface_addr(ld, j, path, "address", 4, &pc->addr4) < 0)
		return -EINVAL;
	if (get_addr(ld, j, path, "gateway", true, 4, &pc->gw4) < 0)
		return -EINVAL;
	pjoin(p, path, "gateway");
	if (check_gateway(ld, p, &pc->addr4, "address", &pc->gw4) < 0)
		return -EINVAL;
	r = get_iface_addr(ld, j, path, "address6", 6, &pc->addr6);
	if (r < 0)
		return r;
	bool has6 = r > 0;
	r = get_addr(ld, j, path, "gateway6", false, 6, &pc->gw6);
	if (r < 0)
		return r;
	if (has6 && r == 0) {
		pjoin(p, path, "gateway6");
		return fail(ld, p, "missing required field 'gateway6' ('address6' is set)");
	}
	if (!has6 && r > 0) {
		pjoin(p, path, "gateway6");
		return fail(ld, p, "'gateway6' needs 'address6' on the same port");
	}
	if (has6) {
		pjoin(p, path, "gateway6");
		if (check_gateway(ld, p, &pc->addr6, "address6", &pc->gw6) < 0)
			return -EINVAL;
	}
	/* core subnets must be distinct; our addresses unique */
	for (size_t i = 0; i < idx; i++) {
		const struct pf_port_conf *o = &cfg->ports[i];
		char a[64], b[64];

		if (o->role != PF_ROLE_CORE)
			continue;
		if (pf_prefix_overlap(&o->addr4, &pc->addr4)) {
			pjoin(p, path, "address");
			return fail(ld, p, "%s overlaps the subnet of core port '%s' (%s)",
				    pf_prefix_fmt(&pc->addr4, a, sizeof(a)), o->name,
				    pf_prefix_fmt(&o->addr4, b, sizeof(b)));
		}
		if (has6 && pf_prefix_overlap(&o->addr6, &pc->addr6)) {
			pjoin(p, path, "address6");
			return fail(ld, p, "%s overlaps the subnet of core port '%s' (%s)",
				    pf_prefix_fmt(&pc->addr6, a, sizeof(a)), o->name,
				    pf_prefix_fmt(&o->addr6, b, sizeof(b)));
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Customers, contexts, links, routes
 * ------------------------------------------------------------------------------------- */

static const char *const customer_fields[] = {
	"id", "name", "asn", "bandwidth_mbps", "premium", "gre", "vnets", "on_premises",
	"contexts", "ipsec", NULL,
};
static const char *const gre_fields[] = { "key", "source", "destination", NULL };
static const char *const context_fields[] = {
	"name", "kind", "vlan", "s_tag", "c_tag", "s_tpid", "primary", "secondary",
	"allow_default_route", "routes", "table_id", "policy", NULL,
};
static const char *const policy_fields[] = {
	"max_prefixes4", "max_prefixes6", "max_length4", "max_length6", NULL,
};
static const char *const link_fields[] = { "port", "subnet", "subnet6", NULL };
static const char *const route_fields[] = { "prefix", "via", NULL };

/* NULL if asn is acceptable, else why not */
static const char *asn_reject(long long asn)
{
	if (asn < 0 || asn > 4294967295LL)
		return "is not a 32-bit AS number";
	if (asn == 0)
		return "is reserved (RFC 7607) and cannot be used";
	if (asn == 23456)
		return "is AS_TRANS (RFC 6793), a placeholder, not a real ASN";
	if (asn >= 64496 && asn <= 64511)
		return "is reserved for documentation (RFC 5398)";
	if (asn >= 64512 && asn <= 65000)
		return "is a private ASN but not above 65000; ExpressRoute accepts a public ASN or "
		       "a private one greater than 65000 (65001..65534, 4200000000..4294967294)";
	if (asn == 65535)
		return "is reserved (RFC 7300, last 16-bit ASN)";
	if (asn >= 65536 && asn <= 65551)
		return "is reserved for documentation (RFC 5398)";
	if (asn >= 65552 && asn <= 131071)
		return "is reserved by IANA (65552..131071)";
	if (asn == 4294967295LL)
		return "is reserved (RFC 7300, last 32-bit ASN)";
	return NULL;
}

static int load_link(struct ld *ld, const json_t *j, const char *path, struct pf_link_conf *lk)
{
	char p[PLEN], sb[96], a[64];
	json_t *v = NULL;
	const char *s = NULL;
	int r;

	if (check_type(ld, j, path, W_OBJ) < 0 || check_fields(ld, j, path, link_fields) < 0)
		return -EINVAL;
	lk->present = true;
	if (get_str(ld, j, path, "port", true, &s) < 0)
		return -EINVAL;
	pjoin(p, path, "port");
	const struct pf_port_conf *pc = pf_config_port(ld->cfg, s);
	if (pc == NULL)
		return fail(ld, p, "unknown port '%s' (not in \"ports\")", safe(s, sb, sizeof(sb)));
	if (pc->role != PF_ROLE_EDGE)
		return fail(ld, p, "port '%s' is a core port; peering links need an edge port", s);
	memcpy(lk->port, pc->name, sizeof(lk->port));

	if (member(ld, j, path, "subnet", true, W_STR, &v, p) < 0 ||
	    get_net_prefix(ld, v, p, &lk->subnet4) < 0)
		return -EINVAL;
	if (lk->subnet4.family != 4 || lk->subnet4.len != 30)
		return fail(ld, p, "%s: a peering subnet must be an IPv4 /30",
			    pf_prefix_fmt(&lk->subnet4, a, sizeof(a)));
	const struct range *bad = range_hit(nonunicast4, &lk->subnet4, NULL);
	if (bad != NULL)
		return fail(ld, p, "%s is not unicast address space: %s",
			    pf_prefix_fmt(&lk->subnet4, a, sizeof(a)), bad->why);

	r = member(ld, j, path, "subnet6", false, W_STR, &v, p);
	if (r < 0)
		return r;
	if (r > 0) {
		if (get_net_prefix(ld, v, p, &lk->subnet6) < 0)
			return -EINVAL;
		if (lk->subnet6.family != 6 || lk->subnet6.len != 126)
			return fail(ld, p, "%s: an IPv6 peering subnet must be an IPv6 /126",
				    pf_prefix_fmt(&lk->subnet6, a, sizeof(a)));
		bad = range_hit(nonunicast6, &lk->subnet6, NULL);
		if (bad != NULL)
			return fail(ld, p, "%s is not global/ULA unicast address space: %s",
				    pf_prefix_fmt(&lk->subnet6, a, sizeof(a)), bad->why);
	}
	return 0;
}

static bool any_core_gw6(const struct pf_config *cfg)
{
	for (size_t i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].role == PF_ROLE_CORE && cfg->ports[i].addr6.family == 6)
			return true;
	return false;
}

/* via address: the customer router of one of the context's links, or on a core subnet */
static bool via_addr_ok(const struct pf_config *cfg, const struct pf_context_conf *cx,
			const struct pf_addr *via)
{
	const struct pf_link_conf *links[2] = { &cx->primary, &cx->secondary };

	for (int l = 0; l < 2; l++) {
		struct pf_addr peer;

		if (!links[l]->present)
			continue;
		const struct pf_prefix *sn = via->family == 6 ? &links[l]->subnet6 : &links[l]->subnet4;
		if (sn->family != via->family)
			continue;
		pf_link_peer_addr(sn, &peer);
		if (pf_addr_equal(&peer, via))
			return true;
	}
	for (size_t i = 0; i < cfg->n_ports; i++) {
		const struct pf_port_conf *pc = &cfg->ports[i];
		const struct pf_prefix *sn = via->family == 6 ? &pc->addr6 : &pc->addr4;
		struct pf_addr ours;
		unsigned width = fam_bits(via->family);

		if (pc->role != PF_ROLE_CORE || sn->family != via->family || !pf_prefix_contains(sn, via))
			continue;
		pf_prefix_host(sn, &ours);
		if (pf_addr_equal(&ours, via))
			continue;
		if (sn->len <= width - 2 && host_bits_all(via->addr, sn->len, width, false))
			continue;
		if (via->family == 4 && sn->len <= 30 && host_bits_all(via->addr, sn->len, width, true))
			continue;
		return true;
	}
	return false;
}


static bool dup_cmp_eq(const struct pf_prefix *a, const struct pf_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* Duplicate detection in O(n log n). */
struct dup_key {
	const struct pf_prefix *px;
	size_t idx;
};

static int dup_cmp(const void *a, const void *b)
{
	const struct dup_key *x = a, *y = b;
	int c;

	if (x->px->family != y->px->family)
		return x->px->family - y->px->family;
	if (x->px->len != y->px->len)
		return x->px->len - y->px->len;
	c = memcmp(x->px->addr, y->px->addr, x->px->family == 4 ? 4 : 16);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Among n prefixes (the first member of elements stride bytes apart), find the earliest
 * entry, in input order, that repeats an earlier one: 0 with *dup and *orig set; -1 when
 * all are distinct; -ENOMEM.
 */
static int find_dup(const struct pf_prefix *base, size_t stride, size_t n, size_t *dup,
		    size_t *orig)
{
	struct dup_key *k;
	bool found = false;

	if (n < 2)
		return -1;
	k = malloc(n * sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		k[i].px = (const struct pf_prefix *)((const char *)base + i * stride);
		k[i].idx = i;
	}
	qsort(k, n, sizeof(*k), dup_cmp);
	/* equal prefixes are now adjacent, in input order: each run's second entry is the
	 * first repeat of the run's first; report the earliest repeat in the file */
	for (size_t i = 1; i < n; i++) {
		if (!dup_cmp_eq(k[i - 1].px, k[i].px) || (i > 1 && dup_cmp_eq(k[i - 2].px, k[i].px)))
			continue;
		if (!found || k[i].idx < *dup) {
			*dup = k[i].idx;
			*orig = k[i - 1].idx;
			found = true;
		}
	}
	free(k);
	return found ? 0 : -1;
}

static int load_route(struct ld *ld, const json_t *j, const char *path,
		      struct pf_context_conf *cx, size_t ri)
{
	struct pf_route_conf *rt = &cx->routes[ri];
	char p[PLEN], pv[PLEN], sb[96], a[64], b[64];
	json_t *v = NULL;
	const char *s = NULL;

	if (check_type(ld, j, path, W_OBJ) < 0 || check_fields(ld, j, path, route_fields) < 0)
		return -EINVAL;
	lookup_pos(ld, path, false, &rt->line, &rt->col);
	if (member(ld, j, path, "prefix", true, W_STR, &v, p) < 0 ||
	    get_net_prefix(ld, v, p, &rt->prefix) < 0)
		return -EINVAL;
	if (get_str(ld, j, path, "via", true, &s) < 0)
		return -EINVAL;
	pjoin(pv, path, "via");
	if (strcmp(s, "peer") == 0)
		rt->via = PF_VIA_PEER;
	else if (strcmp(s, "gre") == 0)
		rt->via = PF_VIA_GRE;
	else if (strcmp(s, "core") == 0)
		rt->via = PF_VIA_CORE;
	else if (strcmp(s, "drop") == 0)
		rt->via = PF_VIA_DROP;
	else if (pf_addr_parse(s, &rt->via_addr) == 0)
		rt->via = PF_VIA_ADDR;
	else
		return fail(ld, pv, "'%s' is not \"peer\", \"gre\", \"core\", \"drop\" or an IP "
			    "address", safe(s, sb, sizeof(sb)));

	const struct pf_prefix *px = &rt->prefix;
	pf_prefix_fmt(px, a, sizeof(a));

	if (px->len == 0 && !cx->allow_default_route)
		return fail(ld, p, "default route %s needs \"allow_default_route\": true in this "
			    "context", a);
	const struct { const struct pf_link_conf *lk; const char *name; } links[2] = {
		{ &cx->primary, "primary" }, { &cx->secondary, "secondary" },
	};
	/* a default route covers everything; connected /30s still win by longest match */
	for (int l = 0; l < 2 && px->len > 0; l++) {
		if (!links[l].lk->present)
			continue;
		if (pf_prefix_overlap(px, &links[l].lk->subnet4) ||
		    pf_prefix_overlap(px, &links[l].lk->subnet6)) {
			const struct pf_prefix *sn = px->family == 6 ? &links[l].lk->subnet6
								     : &links[l].lk->subnet4;
			return fail(ld, p, "%s overlaps this context's peering subnet %s.%s (%s)", a,
				    links[l].name, px->family == 6 ? "subnet6" : "subnet",
				    pf_prefix_fmt(sn, b, sizeof(b)));
		}
	}
	if (cx->kind != PF_CTX_PRIVATE && px->len > 0) {
		const struct range *bad = range_hit(bogons, px, NULL);

		if (bad != NULL)
			return fail(ld, p, "%s overlaps %s, %s: a %s peering must not carry private "
				    "or bogon prefixes", a, bad->prefix, bad->why,
				    pf_ctx_kind_name(cx->kind));
	}
	switch (rt->via) {
	case PF_VIA_GRE:
		if (cx->kind != PF_CTX_PRIVATE)
			return fail(ld, pv, "\"gre\" is only valid in a private context (this one is "
				    "%s)", pf_ctx_kind_name(cx->kind));
		break;
	case PF_VIA_PEER:
		if (px->family == 6 && cx->primary.subnet6.family != 6)
			return fail(ld, pv, "IPv6 route %s via \"peer\" needs primary.subnet6", a);
		break;
	case PF_VIA_CORE:
		if (px->family == 6 && !any_core_gw6(ld->cfg))
			return fail(ld, pv, "IPv6 route %s via \"core\" needs a core port with "
				    "address6/gateway6", a);
		break;
	case PF_VIA_DROP:
		break;
	case PF_VIA_ADDR:
		if (rt->via_addr.family != px->family)
			return fail(ld, pv, "next hop %s is IPv%d but the prefix %s is IPv%d", s,
				    rt->via_addr.family, a, px->family);
		for (int l = 0; l < 2; l++) {
			const struct pf_prefix *sn = px->family == 6 ? &links[l].lk->subnet6
								     : &links[l].lk->subnet4;
			struct pf_addr ours;

			if (!links[l].lk->present || sn->family != px->family)
				continue;
			pf_link_our_addr(sn, &ours);
			if (pf_addr_equal(&ours, &rt->via_addr))
				return fail(ld, pv, "next hop %s is our own address on the %s link; use "
					    "the customer router's address or \"peer\"", s,
					    links[l].name);
		}
		if (!via_addr_ok(ld->cfg, cx, &rt->via_addr))
			return fail(ld, pv, "next hop %s is neither the customer router of one of this "
				    "context's links nor an address on a core port's subnet", s);
		break;
	}
	return 0;
}

static int load_context(struct ld *ld, const json_t *j, const char *path,
			struct pf_customer_conf *cu, size_t ci, size_t cust_idx)
{
	struct pf_config *cfg = ld->cfg;
	struct pf_context_conf *cx = &cu->contexts[ci];
	char p[PLEN], sb[96];
	const char *s = NULL;
	long long x = 0;
	json_t *v = NULL;
	int r;

	if (check_type(ld, j, path, W_OBJ) < 0 || check_fields(ld, j, path, context_fields) < 0)
		return -EINVAL;
	lookup_pos(ld, path, false, &cx->line, &cx->col);
	if (get_name(ld, j, path, "name", 1, cx->name) < 0)
		return -EINVAL;
	pjoin(p, path, "name");
	for (size_t k = 0; k <= cust_idx; k++) {
		const struct pf_customer_conf *o = &cfg->customers[k];
		size_t n = k == cust_idx ? ci : o->n_contexts;

		for (size_t m = 0; m < n; m++)
			if (strcmp(o->contexts[m].name, cx->name) == 0)
				return fail(ld, p, "duplicate context name '%s' (already "
					    "customers[%zu].contexts[%zu])", cx->name, k, m);
	}
	if (get_str(ld, j, path, "kind", true, &s) < 0)
		return -EINVAL;
	pjoin(p, path, "kind");
	if (strcmp(s, "private") == 0)
		cx->kind = PF_CTX_PRIVATE;
	else if (strcmp(s, "microsoft") == 0)
		cx->kind = PF_CTX_MICROSOFT;
	else if (strcmp(s, "public") == 0)
		cx->kind = PF_CTX_PUBLIC;
	else
		return fail(ld, p, "'%s' is not a peering kind (\"private\", \"microsoft\" or "
			    "\"public\")", safe(s, sb, sizeof(sb)));
	if (cx->kind == PF_CTX_PRIVATE)
		for (size_t m = 0; m < ci; m++)
			if (cu->contexts[m].kind == PF_CTX_PRIVATE)
				return fail(ld, p, "this customer already has a private context "
					    "(contexts[%zu] '%s'); at most one is allowed", m,
					    cu->contexts[m].name);

	/* tags: "vlan" xor "s_tag" + "c_tag" */
	bool has_vlan = json_object_get(j, "vlan") != NULL;
	bool has_s = json_object_get(j, "s_tag") != NULL;
	bool has_c = json_object_get(j, "c_tag") != NULL;
	bool has_tpid = json_object_get(j, "s_tpid") != NULL;
	if (has_vlan && (has_s || has_c)) {
		pjoin(p, path, has_s ? "s_tag" : "c_tag");
		return fail(ld, p, "give either \"vlan\" (802.1Q) or \"s_tag\" + \"c_tag\" (QinQ), "
			    "not both");
	}
	if (!has_vlan && !has_s && !has_c) {
		pjoin(p, path, "vlan");
		return fail(ld, p, "missing required field 'vlan' (or \"s_tag\" + \"c_tag\" for "
			    "QinQ)");
	}
	if (has_vlan) {
		if (get_int(ld, j, path, "vlan", true, 1, 4094, &x) < 0)
			return -EINVAL;
		cx->vlan = (uint16_t)x;
		cx->s_tpid = 0x8100;
		if (has_tpid) {
			pjoin(p, path, "s_tpid");
			return fail(ld, p, "\"s_tpid\" is only valid with \"s_tag\"/\"c_tag\" (QinQ)");
		}
	} else {
		if (!has_s || !has_c) {
			pjoin(p, path, has_s ? "c_tag" : "s_tag");
			return fail(ld, p, "missing required field '%s' (QinQ needs both \"s_tag\" and "
				    "\"c_tag\")", has_s ? "c_tag" : "s_tag");
		}
		cx->qinq = true;
		if (get_int(ld, j, path, "s_tag", true, 1, 4094, &x) < 0)
			return -EINVAL;
		cx->s_tag = (uint16_t)x;
		if (get_int(ld, j, path, "c_tag", true, 1, 4094, &x) < 0)
			return -EINVAL;
		cx->c_tag = (uint16_t)x;
		cx->s_tpid = 0x88a8;
		r = get_str(ld, j, path, "s_tpid", false, &s);
		if (r < 0)
			return r;
		if (r > 0) {
			pjoin(p, path, "s_tpid");
			if (strcasecmp(s, "0x88a8") == 0)
				cx->s_tpid = 0x88a8;
			else if (strcasecmp(s, "0x8100") == 0)
				cx->s_tpid = 0x8100;
			else
				return fail(ld, p, "'%s' is not a supported S-tag TPID (\"0x88a8\" or "
					    "\"0x8100\")", safe(s, sb, sizeof(sb)));
		}
	}

	if (member(ld, j, path, "primary", true, W_OBJ, &v, p) < 0 ||
	    load_link(ld, v, p, &cx->primary) < 0)
		return -EINVAL;
	r = member(ld, j, path, "secondary", false, W_OBJ, &v, p);
	if (r < 0 || (r > 0 && load_link(ld, v, p, &cx->secondary) < 0))
		return -EINVAL;
	if (get_bool(ld, j, path, "allow_default_route", &cx->allow_default_route) < 0)
		return -EINVAL;
	r = get_int(ld, j, path, "table_id", false, 1, 4294967295LL, &x);
	if (r < 0)
		return r;
	if (r > 0) {
		/* 253..255 are the kernel's default/main/local tables, 0 is "unspecified" */
		pjoin(p, path, "table_id");
		if (x >= 253 && x <= 255)
			return fail(ld, p, "%lld is a reserved routing table (253 default, 254 main, "
				    "255 local)", x);
		for (size_t k = 0; k <= cust_idx; k++) {
			const struct pf_customer_conf *o = &cfg->customers[k];
			size_t n = k == cust_idx ? ci : o->n_contexts;

			for (size_t m = 0; m < n; m++)
				if (o->contexts[m].table_id == (uint32_t)x)
					return fail(ld, p, "table %lld already feeds customers[%zu]."
						    "contexts[%zu] '%s'", x, k, m, o->contexts[m].name);
		}
		cx->table_id = (uint32_t)x;
	}
	/* the seed's ExpressRoute limits: private 4,000 IPv4 / 100 IPv6 prefixes (10,000 with
	 * premium), Microsoft peering 200 / 200; smallest published subnet /29 */
	if (cx->kind == PF_CTX_PRIVATE) {
		cx->policy.max_prefixes4 = cu->premium ? 10000 : 4000;
		cx->policy.max_prefixes6 = cu->premium ? 10000 : 100;
	} else {
		cx->policy.max_prefixes4 = 200;
		cx->policy.max_prefixes6 = 200;
	}
	cx->policy.max_len4 = 29;
	cx->policy.max_len6 = 64;
	r = member(ld, j, path, "policy", false, W_OBJ, &v, p);
	if (r < 0)
		return r;
	if (r > 0) {
		if (check_fields(ld, v, p, policy_fields) < 0)
			return -EINVAL;
		if ((r = get_int(ld, v, p, "max_prefixes4", false, 0, 16000000, &x)) < 0)
			return r;
		if (r > 0)
			cx->policy.max_prefixes4 = (uint32_t)x;
		if ((r = get_int(ld, v, p, "max_prefixes6", false, 0, 16000000, &x)) < 0)
			return r;
		if (r > 0)
			cx->policy.max_prefixes6 = (uint32_t)x;
		if ((r = get_int(ld, v, p, "max_length4", false, 8, 32, &x)) < 0)
			return r;
		if (r > 0)
			cx->policy.max_len4 = (uint8_t)x;
		if ((r = get_int(ld, v, p, "max_length6", false, 16, 128, &x)) < 0)
			return r;
		if (r > 0)
			cx->policy.max_len6 = (uint8_t)x;
	}

	r = member(ld, j, path, "routes", false, W_ARR, &v, p);
	if (r < 0)
		return r;
	if (r > 0 && json_array_size(v) > 0) {
		char rp[PLEN];

		cx->routes = calloc(json_array_size(v), sizeof(*cx->routes));
		if (cx->routes == NULL)
			return -ENOMEM;
		cx->n_routes = json_array_size(v);
		for (size_t i = 0; i < cx->n_routes; i++) {
			pindex(rp, p, i);
			if (load_route(ld, json_array_get(v, i), rp, cx, i) < 0)
				return -EINVAL;
		}
		/* sorted, not pairwise: a context may carry a full table */
		size_t dup = 0, orig = 0;
		int r = find_dup(&cx->routes[0].prefix, sizeof(cx->routes[0]), cx->n_routes, &dup, &orig);
		if (r == -ENOMEM)
			return r;
		if (r == 0) {
			char a[64], rpp[PLEN + 8];
			pindex(rp, p, dup);
			snprintf(rpp, sizeof(rpp), "%s.prefix", rp);
			return fail(ld, rpp, "duplicate route %s (already routes[%zu])",
				    pf_prefix_fmt(&cx->routes[dup].prefix, a, sizeof(a)), orig);
		}
	}
	return 0;
}

/*
 * Array of prefixes, not /0, no duplicates. Host bits are cleared rather than rejected:
 * these lists come from the customer's paperwork, and the seed itself (so the canonical
 * example) lists the on-premises prefix 216.221.239.232/28, i.e. 216.221.239.224/28.
 */
static int load_prefix_list(struct ld *ld, const json_t *j, const char *path,
			    struct pf_prefix **out, size_t *n)
{
	char p[PLEN], a[64];
	size_t cnt = json_array_size(j);
	const char *list = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;

	if (cnt == 0)
		return 0;
	*out = calloc(cnt, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	*n = cnt;
	for (size_t i = 0; i < cnt; i++) {
		struct pf_prefix *px = &(*out)[i];

		pindex(p, path, i);
		if (get_prefix(ld, json_array_get(j, i), p, px) < 0)
			return -EINVAL;
		pf_prefix_network(px, px);
		if (px->len == 0)
			return fail(ld, p, "%s: a default route is not a valid entry here",
				    pf_prefix_fmt(px, a, sizeof(a)));
	}
	size_t dup = 0, orig = 0;
	int r = find_dup(*out, sizeof(**out), cnt, &dup, &orig);
	if (r == -ENOMEM)
		return r;
	if (r == 0) {
		pindex(p, path, dup);
		return fail(ld, p, "duplicate prefix %s (already %s[%zu])",
			    pf_prefix_fmt(&(*out)[dup], a, sizeof(a)), list, orig);
	}
	return 0;
}

/* A customer's "ipsec" object (docs/config.md, docs/ipsec.md): tunnel endpoints and SAs.
 * The SA fields are parsed by pf_sa_parse() (common/ipsec_conf.c), shared with sa-add. */
static const char *const ipsec_fields[] = { "source", "destination", "sas", NULL };
static const char *const sa_fields_cfg[] = {
	"spi", "direction", "algorithm", "key_file", "esn", "replay_window", "lifetime_bytes",
	"lifetime_packets", NULL,
};

static int load_ipsec(struct ld *ld, const json_t *j, const char *path, size_t idx)
{
	struct pf_config *cfg = ld->cfg;
	struct pf_customer_conf *cu = &cfg->customers[idx];
	struct pf_ipsec_conf *ip = &cu->ipsec;
	char p[PLEN], sp[PLEN], spip[PLEN], a[64], dir[4096], msg[600];
	json_t *arr = NULL;
	size_t n_out = 0;
	int r;

	if (check_fields(ld, j, path, ipsec_fields) < 0)
		return -EINVAL;
	r = get_addr(ld, j, path, "source", false, 4, &ip->src);
	if (r < 0)
		return r;
	if (r == 0) {
		ip->src = cu->gre_src;
	} else {
		bool found = false;

		pjoin(p, path, "source");
		for (size_t i = 0; i < cfg->n_ports; i++) {
			struct pf_addr ours;

			if (cfg->ports[i].role != PF_ROLE_CORE)
				continue;
			pf_prefix_host(&cfg->ports[i].addr4, &ours);
			found |= pf_addr_equal(&ours, &ip->src);
		}
		if (!found)
			return fail(ld, p, "%s is not the address of a core port",
				    pf_addr_fmt(&ip->src, a, sizeof(a)));
	}
	r = get_addr(ld, j, path, "destination", false, 4, &ip->dst);
	if (r < 0)
		return r;
	if (r == 0) {
		ip->dst = cu->gre_dst;
	} else {
		const char *why = addr_not_unicast(&ip->dst);

		pjoin(p, path, "destination");
		if (why != NULL)
			return fail(ld, p, "%s is not a unicast address: %s",
				    pf_addr_fmt(&ip->dst, a, sizeof(a)), why);
		for (size_t i = 0; i < cfg->n_ports; i++) {
			struct pf_addr ours;

			if (cfg->ports[i].role != PF_ROLE_CORE)
				continue;
			pf_prefix_host(&cfg->ports[i].addr4, &ours);
			if (pf_addr_equal(&ours, &ip->dst))
				return fail(ld, p, "%s is our own address (port '%s')",
					    pf_addr_fmt(&ip->dst, a, sizeof(a)), cfg->ports[i].name);
		}
	}
	if (member(ld, j, path, "sas", true, W_ARR, &arr, p) < 0)
		return -EINVAL;
	ip->n_sas = json_array_size(arr);
	if (ip->n_sas > 0) {
		ip->sas = calloc(ip->n_sas, sizeof(*ip->sas));
		if (ip->sas == NULL)
			return -ENOMEM;
	}
	pf_dirname(ld->file, dir, sizeof(dir));
	for (size_t i = 0; i < ip->n_sas; i++) {
		struct pf_sa_conf *sa = &ip->sas[i];
		const json_t *e = json_array_get(arr, i);
		const char *field = "";
		bool is_key = false;

		pindex(sp, p, i);
		if (check_type(ld, e, sp, W_OBJ) < 0 || check_fields(ld, e, sp, sa_fields_cfg) < 0)
			return -EINVAL;
		if (pf_sa_parse(e, dir, sa, &field, &is_key, msg, sizeof(msg)) < 0) {
			char fp[PLEN];

			if (field[0] == '\0')
				snprintf(fp, sizeof(fp), "%s", sp);
			else
				pjoin(fp, sp, field);
			return is_key ? fail_key(ld, fp, "%s", msg) : fail(ld, fp, "%s", msg);
		}
		lookup_pos(ld, sp, false, &sa->line, &sa->col);
		pjoin(spip, sp, "spi");
		if (sa->out && ++n_out > 1)
			return fail(ld, sp, "a second outbound SA: a customer has at most one \"out\" "
				    "SA in the configuration (rekey with peerctl sa add)");
		/* SPIs are unique per direction across the whole configuration */
		for (size_t c = 0; c <= idx; c++) {
			const struct pf_customer_conf *oc = &cfg->customers[c];
			size_t lim = c == idx ? i : (oc->has_ipsec ? oc->ipsec.n_sas : 0);

			for (size_t k = 0; k < lim; k++) {
				const struct pf_sa_conf *o = &oc->ipsec.sas[k];

				if (o->out == sa->out && o->spi == sa->spi)
					return fail(ld, spip, "duplicate %s SPI %u (already "
						    "customers[%zu] '%s' ipsec.sas[%zu])",
						    sa->out ? "outbound" : "inbound", sa->spi, c,
						    oc->name, k);
			}
		}
	}
	return 0;
}

static int load_customer(struct ld *ld, const json_t *j, const char *path, size_t idx)
{
	struct pf_config *cfg = ld->cfg;
	struct pf_customer_conf *cu = &cfg->customers[idx];
	char p[PLEN], gp[PLEN], a[64], b[64];
	long long x = 0;
	json_t *v = NULL, *g = NULL;
	int r;

	if (check_type(ld, j, path, W_OBJ) < 0 || check_fields(ld, j, path, customer_fields) < 0)
		return -EINVAL;
	lookup_pos(ld, path, false, &cu->line, &cu->col);
	if (get_int(ld, j, path, "id", true, 1, 65535, &x) < 0)
		return -EINVAL;
	cu->id = (uint32_t)x;
	pjoin(p, path, "id");
	for (size_t i = 0; i < idx; i++)
		if (cfg->customers[i].id == cu->id)
			return fail(ld, p, "duplicate customer id %u (already customers[%zu])", cu->id,
				    i);
	if (get_name(ld, j, path, "name", 1, cu->name) < 0)
		return -EINVAL;
	pjoin(p, path, "name");
	for (size_t i = 0; i < idx; i++)
		if (strcmp(cfg->customers[i].name, cu->name) == 0)
			return fail(ld, p, "duplicate customer name '%s' (already customers[%zu])",
				    cu->name, i);
	if (get_int(ld, j, path, "asn", true, LLONG_MIN, LLONG_MAX, &x) < 0)
		return -EINVAL;
	pjoin(p, path, "asn");
	const char *why = asn_reject(x);
	if (why != NULL)
		return fail(ld, p, "AS %lld %s", x, why);
	cu->asn = (uint32_t)x;
	if (get_bool(ld, j, path, "premium", &cu->premium) < 0)
		return -EINVAL;
	if (get_int(ld, j, path, "bandwidth_mbps", true, LLONG_MIN, LLONG_MAX, &x) < 0)
		return -EINVAL;
	if (x <= 0) {
		pjoin(p, path, "bandwidth_mbps");
		return fail(ld, p, "%lld: the circuit bandwidth must be a positive number of Mbit/s",
			    x);
	}
	cu->bandwidth_mbps = (uint64_t)x;

	r = member(ld, j, path, "gre", false, W_OBJ, &g, gp);
	if (r < 0)
		return r;
	if (r > 0) {
		if (check_fields(ld, g, gp, gre_fields) < 0)
			return -EINVAL;
		cu->has_gre = true;
		if (get_int(ld, g, gp, "key", true, 0, 4294967295LL, &x) < 0)
			return -EINVAL;
		cu->gre_key = (uint32_t)x;
		pjoin(p, gp, "key");
		for (size_t i = 0; i < idx; i++)
			if (cfg->customers[i].has_gre && cfg->customers[i].gre_key == cu->gre_key)
				return fail(ld, p, "duplicate GRE key %u (already customers[%zu] '%s')",
					    cu->gre_key, i, cfg->customers[i].name);
		if (get_addr(ld, g, gp, "source", true, 4, &cu->gre_src) < 0)
			return -EINVAL;
		pjoin(p, gp, "source");
		bool found = false;
		for (size_t i = 0; i < cfg->n_ports; i++) {
			struct pf_addr ours;

			if (cfg->ports[i].role != PF_ROLE_CORE)
				continue;
			pf_prefix_host(&cfg->ports[i].addr4, &ours);
			if (pf_addr_equal(&ours, &cu->gre_src))
				found = true;
		}
		if (!found)
			return fail(ld, p, "%s is not the address of a core port",
				    pf_addr_fmt(&cu->gre_src, a, sizeof(a)));
		if (get_addr(ld, g, gp, "destination", true, 4, &cu->gre_dst) < 0)
			return -EINVAL;
		pjoin(p, gp, "destination");
		why = addr_not_unicast(&cu->gre_dst);
		if (why != NULL)
			return fail(ld, p, "%s is not a unicast address: %s",
				    pf_addr_fmt(&cu->gre_dst, a, sizeof(a)), why);
		for (size_t i = 0; i < cfg->n_ports; i++) {
			struct pf_addr ours, nw;
			const struct pf_prefix *sn = &cfg->ports[i].addr4;

			if (cfg->ports[i].role != PF_ROLE_CORE)
				continue;
			pf_prefix_host(sn, &ours);
			if (pf_addr_equal(&ours, &cu->gre_dst))
				return fail(ld, p, "%s is our own address (port '%s')",
					    pf_addr_fmt(&cu->gre_dst, a, sizeof(a)), cfg->ports[i].name);
			struct pf_prefix net;
			pf_prefix_network(sn, &net);
			pf_prefix_host(&net, &nw);
			if (pf_prefix_contains(sn, &cu->gre_dst) && sn->len <= 30 &&
			    (pf_addr_equal(&nw, &cu->gre_dst) ||
			     host_bits_all(cu->gre_dst.addr, sn->len, 32, true)))
				return fail(ld, p, "%s is the network or broadcast address of core "
					    "subnet %s", pf_addr_fmt(&cu->gre_dst, a, sizeof(a)),
					    pf_prefix_fmt(&net, b, sizeof(b)));
		}
	}

	r = member(ld, j, path, "ipsec", false, W_OBJ, &g, gp);
	if (r < 0)
		return r;
	if (r > 0) {
		if (!cu->has_gre)
			return fail(ld, gp, "IPsec protects the customer's GRE tunnel: 'ipsec' needs "
				    "'gre'");
		cu->has_ipsec = true;
		if ((r = load_ipsec(ld, g, gp, idx)) < 0)
			return r;
	}

	/* vnets and on-premises */
	r = member(ld, j, path, "on_premises", false, W_ARR, &v, p);
	if (r < 0)
		return r;
	if (r > 0 && load_prefix_list(ld, v, p, &cu->on_prem, &cu->n_on_prem) < 0)
		return -EINVAL;
	r = member(ld, j, path, "vnets", false, W_ARR, &v, p);
	if (r < 0)
		return r;
	if (r > 0) {
		if (load_prefix_list(ld, v, p, &cu->vnets, &cu->n_vnets) < 0)
			return -EINVAL;
		for (size_t i = 0; i < cu->n_vnets; i++) {
			const struct pf_prefix *vn = &cu->vnets[i];
			char ep[PLEN];

			pindex(ep, p, i);
			pf_prefix_fmt(vn, a, sizeof(a));
			if (vn->family == 4) {
				/* overlapping a range is not enough: must be inside one */
				bool inside = false;
				for (const struct range *t = rfc1918; t->prefix; t++) {
					struct pf_prefix rr;
					pf_prefix_parse(t->prefix, &rr);
					if (vn->len >= rr.len && pf_prefix_overlap(&rr, vn))
						inside = true;
				}
				if (!inside)
					return fail(ld, ep, "%s is not private address space: IPv4 VNets "
						    "must be inside 10.0.0.0/8, 172.16.0.0/12 or "
						    "192.168.0.0/16", a);
			} else {
				struct pf_prefix ula;
				pf_prefix_parse("fc00::/7", &ula);
				if (vn->len < 7 || !pf_prefix_overlap(&ula, vn))
					return fail(ld, ep, "%s is not unique local address space: IPv6 "
						    "VNets must be inside fc00::/7", a);
			}
			for (size_t k = 0; k < i; k++)
				if (pf_prefix_overlap(&cu->vnets[k], vn))
					return fail(ld, ep, "%s overlaps vnets[%zu] (%s) of the same "
						    "customer", a, k,
						    pf_prefix_fmt(&cu->vnets[k], b, sizeof(b)));
			for (size_t k = 0; k < cu->n_on_prem; k++)
				if (pf_prefix_overlap(&cu->on_prem[k], vn))
					return fail(ld, ep, "%s overlaps on_premises[%zu] (%s): a VNet must "
						    "not overlap the customer's on-premises prefixes", a, k,
						    pf_prefix_fmt(&cu->on_prem[k], b, sizeof(b)));
		}
	}

	/* contexts */
	if (member(ld, j, path, "contexts", true, W_ARR, &v, p) < 0)
		return -EINVAL;
	if (json_array_size(v) == 0)
		return fail(ld, p, "at least one context is required");
	cu->contexts = calloc(json_array_size(v), sizeof(*cu->contexts));
	if (cu->contexts == NULL)
		return -ENOMEM;
	cu->n_contexts = json_array_size(v);
	for (size_t i = 0; i < cu->n_contexts; i++) {
		char cp[PLEN];

		pindex(cp, p, i);
		r = load_context(ld, json_array_get(v, i), cp, cu, i, idx);
		if (r < 0)
			return r;
		if (cu->contexts[i].kind == PF_CTX_PRIVATE && !cu->has_gre) {
			pjoin(gp, path, "gre");
			return fail(ld, gp, "missing required field 'gre': contexts[%zu] '%s' is a "
				    "private context, which needs the customer's GRE tunnel", i,
				    cu->contexts[i].name);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Cross-checks over the whole configuration
 * ------------------------------------------------------------------------------------- */

/* A named prefix somewhere in the config. */
struct where {
	const struct pf_prefix *p;
	char path[PLEN];
};

static int add_where(struct where **w, size_t *n, size_t *cap, const struct pf_prefix *p,
		     const char *path)
{
	if (p->family == 0)
		return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct where *nw = realloc(*w, nc * sizeof(*nw));
		if (nw == NULL)
			return -ENOMEM;
		*w = nw;
		*cap = nc;
	}
	(*w)[*n].p = p;
	snprintf((*w)[*n].path, PLEN, "%s", path);
	(*n)++;
	return 0;
}

static int check_peering_overlaps(struct ld *ld)
{
	struct pf_config *cfg = ld->cfg;
	struct where *links = NULL, *others = NULL;
	size_t nl = 0, cl = 0, no = 0, co = 0;
	char p[PLEN], q[PLEN], a[64], b[64];
	int rc = 0;

	for (size_t i = 0; i < cfg->n_ports && rc == 0; i++) {
		pindex(p, "ports", i);
		pjoin(q, p, "address");
		rc = add_where(&others, &no, &co, &cfg->ports[i].addr4, q);
		pjoin(q, p, "address6");
		if (rc == 0)
			rc = add_where(&others, &no, &co, &cfg->ports[i].addr6, q);
	}
	for (size_t c = 0; c < cfg->n_customers && rc == 0; c++) {
		const struct pf_customer_conf *cu = &cfg->customers[c];

		pindex(p, "customers", c);
		for (size_t i = 0; i < cu->n_vnets && rc == 0; i++) {
			pjoin(q, p, "vnets");
			pindex(q, q, i);
			rc = add_where(&others, &no, &co, &cu->vnets[i], q);
		}
		for (size_t i = 0; i < cu->n_on_prem && rc == 0; i++) {
			pjoin(q, p, "on_premises");
			pindex(q, q, i);
			rc = add_where(&others, &no, &co, &cu->on_prem[i], q);
		}
		for (size_t k = 0; k < cu->n_contexts && rc == 0; k++) {
			const struct pf_context_conf *cx = &cu->contexts[k];
			const struct pf_link_conf *lk[2] = { &cx->primary, &cx->secondary };
			static const char *const ln[2] = { "primary", "secondary" };
			char cp[PLEN];

			pjoin(cp, p, "contexts");
			pindex(cp, cp, k);
			for (int l = 0; l < 2 && rc == 0; l++) {
				if (!lk[l]->present)
					continue;
				pjoin(q, cp, ln[l]);
				char s4[PLEN], s6[PLEN];
				pjoin(s4, q, "subnet");
				pjoin(s6, q, "subnet6");
				rc = add_where(&links, &nl, &cl, &lk[l]->subnet4, s4);
				if (rc == 0)
					rc = add_where(&links, &nl, &cl, &lk[l]->subnet6, s6);
			}
		}
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < nl && rc == 0; i++) {
		for (size_t k = 0; k < i; k++)
			if (pf_prefix_overlap(links[i].p, links[k].p)) {
				rc = fail(ld, links[i].path, "%s overlaps the peering subnet %s (%s)",
					  pf_prefix_fmt(links[i].p, a, sizeof(a)), links[k].path,
					  pf_prefix_fmt(links[k].p, b, sizeof(b)));
				break;
			}
		for (size_t k = 0; k < no && rc == 0; k++)
			if (pf_prefix_overlap(links[i].p, others[k].p)) {
				struct pf_prefix shown = *others[k].p;

				if (strncmp(others[k].path, "ports", 5) == 0)
					pf_prefix_network(&shown, &shown);
				rc = fail(ld, links[i].path, "peering subnet %s overlaps %s (%s)",
					  pf_prefix_fmt(links[i].p, a, sizeof(a)), others[k].path,
					  pf_prefix_fmt(&shown, b, sizeof(b)));
			}
	}
out:
	free(links);
	free(others);
	return rc;
}

/* (port, tags) of every context link, compared pairwise across contexts */
static int check_tags(struct ld *ld)
{
	struct pf_config *cfg = ld->cfg;
	struct ent { size_t c, k; const struct pf_context_conf *cx; const char *port; };
	struct ent *e = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t c = 0; c < cfg->n_customers; c++)
		for (size_t k = 0; k < cfg->customers[c].n_contexts; k++) {
			const struct pf_context_conf *cx = &cfg->customers[c].contexts[k];
			const struct pf_link_conf *lk[2] = { &cx->primary, &cx->secondary };

			for (int l = 0; l < 2; l++) {
				if (!lk[l]->present ||
				    (l == 1 && strcmp(lk[1]->port, lk[0]->port) == 0))
					continue;
				if (n == cap) {
					size_t nc = cap ? cap * 2 : 64;
					struct ent *ne = realloc(e, nc * sizeof(*ne));
					if (ne == NULL) {
						free(e);
						return -ENOMEM;
					}
					e = ne;
					cap = nc;
				}
				e[n++] = (struct ent){ c, k, cx, lk[l]->port };
			}
		}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct pf_context_conf *x = e[i].cx;
		char p[PLEN];

		pindex(p, "customers", e[i].c);
		pjoin(p, p, "contexts");
		pindex(p, p, e[i].k);
		for (size_t k = 0; k < i && rc == 0; k++) {
			const struct pf_context_conf *y = e[k].cx;

			if (y == x || strcmp(e[i].port, e[k].port) != 0)
				continue;
			if (!x->qinq && !y->qinq && x->vlan == y->vlan) {
				pjoin(p, p, "vlan");
				rc = fail(ld, p, "VLAN %u on port '%s' is already used by context '%s' "
					  "(customers[%zu].contexts[%zu])", x->vlan, e[i].port, y->name,
					  e[k].c, e[k].k);
			} else if (x->qinq && y->qinq && x->s_tag == y->s_tag && x->c_tag == y->c_tag) {
				pjoin(p, p, "c_tag");
				rc = fail(ld, p, "QinQ %u.%u on port '%s' is already used by context '%s' "
					  "(customers[%zu].contexts[%zu])", x->s_tag, x->c_tag,
					  e[i].port, y->name, e[k].c, e[k].k);
			} else if (x->qinq && y->qinq && x->s_tag == y->s_tag &&
				   x->s_tpid != y->s_tpid) {
				pjoin(p, p, "s_tpid");
				rc = fail(ld, p, "S-tag %u on port '%s' uses TPID 0x%04x but context '%s' "
					  "(customers[%zu].contexts[%zu]) uses 0x%04x for it", x->s_tag,
					  e[i].port, x->s_tpid, y->name, e[k].c, e[k].k, y->s_tpid);
			} else if (x->qinq != y->qinq &&
				   (x->qinq ? x->s_tag == y->vlan : x->vlan == y->s_tag)) {
				pjoin(p, p, x->qinq ? "s_tag" : "vlan");
				rc = fail(ld, p, "%s %u on port '%s' is ambiguous with the %s of context "
					  "'%s' (customers[%zu].contexts[%zu])",
					  x->qinq ? "S-tag" : "VLAN", x->qinq ? x->s_tag : x->vlan,
					  e[i].port, y->qinq ? "QinQ S-tag" : "single-tag VLAN", y->name,
					  e[k].c, e[k].k);
			}
		}
	}
	free(e);
	return rc;
}

/* GRE destinations must not point into the edge (a peering subnet) */
static int check_gre_dst(struct ld *ld)
{
	struct pf_config *cfg = ld->cfg;
	char p[PLEN], a[64], b[64];

	for (size_t c = 0; c < cfg->n_customers; c++) {
		const struct pf_customer_conf *cu = &cfg->customers[c];

		if (!cu->has_gre)
			continue;
		pindex(p, "customers", c);
		pjoin(p, p, "gre.destination");
		for (size_t d = 0; d < cfg->n_customers; d++)
			for (size_t k = 0; k < cfg->customers[d].n_contexts; k++) {
				const struct pf_context_conf *cx = &cfg->customers[d].contexts[k];
				const struct pf_link_conf *lk[2] = { &cx->primary, &cx->secondary };

				for (int l = 0; l < 2; l++)
					if (lk[l]->present && pf_prefix_contains(&lk[l]->subnet4, &cu->gre_dst))
						return fail(ld, p, "%s is inside peering subnet %s of context "
							    "'%s': the tunnel must lead to the cloud",
							    pf_addr_fmt(&cu->gre_dst, a, sizeof(a)),
							    pf_prefix_fmt(&lk[l]->subnet4, b, sizeof(b)),
							    cx->name);
			}
	}
	return 0;
}

/* A port with mtu < 1280 must not carry IPv6, nor a core port's tunnels < 1280 for IPv6. */
static int check_mtu6(struct ld *ld)
{
	struct pf_config *cfg = ld->cfg;
	char p[PLEN], why[PLEN];

	for (size_t i = 0; i < cfg->n_ports; i++) {
		const struct pf_port_conf *pc = &cfg->ports[i];

		/* RFC 8200 5 / RFC 4213 3.2: a tunnel carrying IPv6 must offer 1280 bytes; the
		 * customers' GRE tunnels leave through the core port (28 bytes of overhead) */
		if (pc->role == PF_ROLE_CORE && pc->mtu < 1280 + 28) {
			for (size_t c = 0; c < cfg->n_customers; c++) {
				const struct pf_customer_conf *cu = &cfg->customers[c];

				for (size_t v = 0; v < cu->n_vnets && cu->has_gre; v++) {
					if (cu->vnets[v].family != 6)
						continue;
					pindex(p, "ports", i);
					pjoin(p, p, "mtu");
					return fail(ld, p, "%u leaves %u bytes for IPv6 inside GRE, below the "
						    "1280 IPv6 minimum (needs >= 1308), but customers[%zu]."
						    "vnets[%zu] is IPv6", pc->mtu, pc->mtu - 28, c, v);
				}
			}
		}
		if (pc->mtu >= 1280)
			continue;
		why[0] = '\0';
		if (pc->addr6.family == 6)
			snprintf(why, sizeof(why), "ports[%zu].address6", i);
		for (size_t c = 0; c < cfg->n_customers && !why[0]; c++)
			for (size_t k = 0; k < cfg->customers[c].n_contexts && !why[0]; k++) {
				const struct pf_context_conf *cx = &cfg->customers[c].contexts[k];

				if (cx->primary.present && cx->primary.subnet6.family == 6 &&
				    strcmp(cx->primary.port, pc->name) == 0)
					snprintf(why, sizeof(why), "customers[%zu].contexts[%zu].primary."
						 "subnet6", c, k);
				else if (cx->secondary.present && cx->secondary.subnet6.family == 6 &&
					 strcmp(cx->secondary.port, pc->name) == 0)
					snprintf(why, sizeof(why), "customers[%zu].contexts[%zu].secondary."
						 "subnet6", c, k);
			}
		if (why[0]) {
			pindex(p, "ports", i);
			pjoin(p, p, "mtu");
			return fail(ld, p, "%u is below 1280, the IPv6 minimum MTU, but IPv6 is "
				    "configured on this port (%s)", pc->mtu, why);
		}
	}
	return 0;
}

static const char *const neighbor_fields[] = { "port", "ip", "mac", NULL };

/* ip must be on-link on port and not one of our addresses */
static bool neighbor_on_link(const struct pf_config *cfg, const struct pf_port_conf *pc,
			     const struct pf_addr *ip, bool *ours)
{
	struct pf_addr a;
	unsigned width = fam_bits(ip->family);

	*ours = false;
	if (pc->role == PF_ROLE_CORE) {
		const struct pf_prefix *sn = ip->family == 6 ? &pc->addr6 : &pc->addr4;

		if (!pf_prefix_contains(sn, ip))
			return false;
		pf_prefix_host(sn, &a);
		if (pf_addr_equal(&a, ip)) {
			*ours = true;
			return false;
		}
		if (sn->len <= width - 2 && host_bits_all(ip->addr, sn->len, width, false))
			return false;
		if (ip->family == 4 && sn->len <= 30 && host_bits_all(ip->addr, sn->len, width, true))
			return false;
		return true;
	}
	for (size_t c = 0; c < cfg->n_customers; c++)
		for (size_t k = 0; k < cfg->customers[c].n_contexts; k++) {
			const struct pf_context_conf *cx = &cfg->customers[c].contexts[k];
			const struct pf_link_conf *lk[2] = { &cx->primary, &cx->secondary };

			for (int l = 0; l < 2; l++) {
				if (!lk[l]->present || strcmp(lk[l]->port, pc->name) != 0)
					continue;
				const struct pf_prefix *sn = ip->family == 6 ? &lk[l]->subnet6
									     : &lk[l]->subnet4;
				if (!pf_prefix_contains(sn, ip))
					continue;
				pf_link_our_addr(sn, &a);
				if (pf_addr_equal(&a, ip)) {
					*ours = true;
					return false;
				}
				if (host_bits_all(ip->addr, sn->len, width, false) ||
				    (ip->family == 4 && host_bits_all(ip->addr, sn->len, width, true)))
					return false;
				return true;
			}
		}
	return false;
}

static int load_neighbors(struct ld *ld, const json_t *arr, const char *path)
{
	struct pf_config *cfg = ld->cfg;
	char p[PLEN], q[PLEN], sb[96], a[64];
	const char *s = NULL;

	if (json_array_size(arr) == 0)
		return 0;
	cfg->neighbors = calloc(json_array_size(arr), sizeof(*cfg->neighbors));
	if (cfg->neighbors == NULL)
		return -ENOMEM;
	cfg->n_neighbors = json_array_size(arr);
	for (size_t i = 0; i < cfg->n_neighbors; i++) {
		struct pf_neighbor_conf *nb = &cfg->neighbors[i];
		const json_t *j = json_array_get(arr, i);
		bool ours;

		pindex(p, path, i);
		if (check_type(ld, j, p, W_OBJ) < 0 || check_fields(ld, j, p, neighbor_fields) < 0)
			return -EINVAL;
		if (get_str(ld, j, p, "port", true, &s) < 0)
			return -EINVAL;
		pjoin(q, p, "port");
		const struct pf_port_conf *pc = pf_config_port(cfg, s);
		if (pc == NULL)
			return fail(ld, q, "unknown port '%s' (not in \"ports\")",
				    safe(s, sb, sizeof(sb)));
		memcpy(nb->port, pc->name, sizeof(nb->port));
		if (get_addr(ld, j, p, "ip", true, 0, &nb->ip) < 0 ||
		    get_mac(ld, j, p, "mac", true, nb->mac) < 0)
			return -EINVAL;
		pjoin(q, p, "ip");
		pf_addr_fmt(&nb->ip, a, sizeof(a));
		if (!neighbor_on_link(cfg, pc, &nb->ip, &ours))
			return fail(ld, q, ours ? "%s is our own address on port '%s'"
					       : "%s is not a neighbor address on a subnet of port "
						 "'%s'", a, pc->name);
		for (size_t k = 0; k < i; k++)
			if (strcmp(cfg->neighbors[k].port, nb->port) == 0 &&
			    pf_addr_equal(&cfg->neighbors[k].ip, &nb->ip))
				return fail(ld, q, "duplicate neighbor %s on port '%s' (already "
					    "neighbors[%zu])", a, nb->port, k);
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Top level
 * ------------------------------------------------------------------------------------- */

static const char *const top_fields[] = {
	"ports", "customers", "neighbors", "icmp_rate_pps", "burst", "mbufs", "rx_descriptors",
	"tx_descriptors", "fib_ipv4_ply_bits", "core_table_id", "feeds", "management", NULL,
};
static const char *const feeds_fields[] = { "exabgp", "fpm", NULL };
static const char *const exabgp_fields[] = { "socket", NULL };
static const char *const fpm_fields[] = { "listen", NULL };
static const char *const mgmt_fields[] = { "socket", NULL };

/* A Unix socket path: absolute, fits sun_path. */
static int get_sock_path(struct ld *ld, const json_t *obj, const char *parent, char *out,
			 size_t outlen)
{
	char p[PLEN], sb[96];
	const char *s = NULL;

	if (get_str(ld, obj, parent, "socket", true, &s) < 0)
		return -EINVAL;
	pjoin(p, parent, "socket");
	if (s[0] != '/' || strlen(s) >= outlen)
		return fail(ld, p, "'%s' must be an absolute path of at most %zu bytes",
			    safe(s, sb, sizeof(sb)), outlen - 1);
	snprintf(out, outlen, "%s", s);
	return 0;
}

static int load_feeds(struct ld *ld, const json_t *root)
{
	struct pf_config *cfg = ld->cfg;
	char p[PLEN], q[PLEN], sb[96];
	json_t *v = NULL, *w = NULL;
	int r;

	r = member(ld, root, "", "management", false, W_OBJ, &v, p);
	if (r < 0)
		return r;
	if (r > 0 && (check_fields(ld, v, p, mgmt_fields) < 0 ||
		      get_sock_path(ld, v, p, cfg->mgmt_socket, sizeof(cfg->mgmt_socket)) < 0))
		return -EINVAL;
	r = member(ld, root, "", "feeds", false, W_OBJ, &v, p);
	if (r <= 0)
		return r;
	if (check_fields(ld, v, p, feeds_fields) < 0)
		return -EINVAL;
	r = member(ld, v, p, "exabgp", false, W_OBJ, &w, q);
	if (r < 0)
		return r;
	if (r > 0 && (check_fields(ld, w, q, exabgp_fields) < 0 ||
		      get_sock_path(ld, w, q, cfg->exabgp_socket, sizeof(cfg->exabgp_socket)) < 0))
		return -EINVAL;
	r = member(ld, v, p, "fpm", false, W_OBJ, &w, q);
	if (r < 0)
		return r;
	if (r > 0) {
		const char *s = NULL, *colon;
		char host[48]; /* INET6_ADDRSTRLEN */
		struct pf_addr a;
		long port = 2620;

		if (check_fields(ld, w, q, fpm_fields) < 0 ||
		    get_str(ld, w, q, "listen", true, &s) < 0)
			return -EINVAL;
		pjoin(q, q, "listen");
		/* "ADDR" or "ADDR:PORT"; IPv6 as "[ADDR]:PORT" */
		if (s[0] == '[') {
			const char *e = strchr(s, ']');
			if (e == NULL || (size_t)(e - s - 1) >= sizeof(host))
				return fail(ld, q, "'%s' is not ADDR, ADDR:PORT or [ADDR6]:PORT",
					    safe(s, sb, sizeof(sb)));
			memcpy(host, s + 1, e - s - 1);
			host[e - s - 1] = '\0';
			colon = e[1] == ':' ? e + 1 : NULL;
			if (e[1] != '\0' && e[1] != ':')
				return fail(ld, q, "'%s' is not ADDR, ADDR:PORT or [ADDR6]:PORT",
					    safe(s, sb, sizeof(sb)));
		} else {
			colon = strchr(s, ':');
			size_t hl = colon ? (size_t)(colon - s) : strlen(s);
			if (hl >= sizeof(host))
				return fail(ld, q, "'%s': address too long", safe(s, sb, sizeof(sb)));
			memcpy(host, s, hl);
			host[hl] = '\0';
		}
		if (pf_addr_parse(host, &a) < 0)
			return fail(ld, q, "'%s' does not start with an IP address", safe(s, sb, sizeof(sb)));
		if (colon) {
			char *end;
			port = strtol(colon + 1, &end, 10);
			if (*end != '\0' || port < 1 || port > 65535)
				return fail(ld, q, "'%s': port must be 1..65535", safe(s, sb, sizeof(sb)));
		}
		snprintf(cfg->fpm_listen, sizeof(cfg->fpm_listen), "%s%s%s:%ld",
			 a.family == 6 ? "[" : "", host, a.family == 6 ? "]" : "", port);
	}
	return 0;
}

static int load_top(struct ld *ld, const json_t *root)
{
	struct pf_config *cfg = ld->cfg;
	char p[PLEN];
	long long x = 0;
	json_t *v = NULL;
	int r;

	if (check_type(ld, root, "", W_OBJ) < 0 || check_fields(ld, root, "", top_fields) < 0)
		return -EINVAL;
	cfg->icmp_rate_pps = 100;
	cfg->burst = 32;
	r = get_int(ld, root, "", "icmp_rate_pps", false, 0, 1000000, &x);
	if (r < 0)
		return r;
	if (r > 0)
		cfg->icmp_rate_pps = (uint32_t)x;
	r = get_int(ld, root, "", "burst", false, 1, 256, &x);
	if (r < 0)
		return r;
	if (r > 0)
		cfg->burst = (uint32_t)x;
	/* 0 = computed at start from ports, queues and descriptors (control/main.c) */
	r = get_int(ld, root, "", "mbufs", false, PF_MBUFS_MIN, PF_MBUFS_MAX, &x);
	if (r < 0)
		return r;
	cfg->mbufs = r > 0 ? (uint32_t)x : 0;
	cfg->rx_desc = PF_DESC_DEFAULT;
	r = get_int(ld, root, "", "rx_descriptors", false, PF_DESC_MIN, PF_DESC_MAX, &x);
	if (r < 0)
		return r;
	if (r > 0)
		cfg->rx_desc = (uint16_t)x;
	cfg->tx_desc = PF_DESC_DEFAULT;
	r = get_int(ld, root, "", "tx_descriptors", false, PF_DESC_MIN, PF_DESC_MAX, &x);
	if (r < 0)
		return r;
	if (r > 0)
		cfg->tx_desc = (uint16_t)x;
	/* Two widths only: the lookups are specialised for each (common/fib.h). */
	cfg->fib_ipv4_ply_bits = PF_FIB_PLY4_BITS_DEFAULT;
	r = member(ld, root, "", "fib_ipv4_ply_bits", false, W_INT, &v, p);
	if (r < 0)
		return r;
	if (r > 0) {
		x = json_integer_value(v);
		if (x != PF_FIB_PLY4_BITS_DEFAULT && x != PF_FIB_PLY4_BITS_SMALL)
			return fail(ld, p, "%lld is not a ply width: %d (256-entry plies, the "
				    "default) or %d (16-entry plies, less memory for many contexts "
				    "with scattered routes)", x, PF_FIB_PLY4_BITS_DEFAULT,
				    PF_FIB_PLY4_BITS_SMALL);
		cfg->fib_ipv4_ply_bits = (uint8_t)x;
	}
	cfg->core_table_id = 254;
	r = get_int(ld, root, "", "core_table_id", false, 1, 4294967295LL, &x);
	if (r < 0)
		return r;
	if (r > 0)
		cfg->core_table_id = (uint32_t)x;
	if ((r = load_feeds(ld, root)) < 0)
		return r;

	/* ports */
	if (member(ld, root, "", "ports", true, W_ARR, &v, p) < 0)
		return -EINVAL;
	size_t np = json_array_size(v);
	if (np > 0) {
		cfg->ports = calloc(np, sizeof(*cfg->ports));
		if (cfg->ports == NULL)
			return -ENOMEM;
	}
	cfg->n_ports = np;
	bool edge = false, core = false;
	for (size_t i = 0; i < np; i++) {
		char pp[PLEN];

		pindex(pp, "ports", i);
		r = load_port(ld, json_array_get(v, i), pp, i);
		if (r < 0)
			return r;
		edge |= cfg->ports[i].role == PF_ROLE_EDGE;
		core |= cfg->ports[i].role == PF_ROLE_CORE;
	}
	if (!edge || !core)
		return fail(ld, "ports", "at least one port with role \"%s\" is required",
			    edge ? "core" : "edge");

	/* customers */
	if (member(ld, root, "", "customers", true, W_ARR, &v, p) < 0)
		return -EINVAL;
	size_t nc = json_array_size(v);
	if (nc > 0) {
		cfg->customers = calloc(nc, sizeof(*cfg->customers));
		if (cfg->customers == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < nc; i++) {
		char cp[PLEN];

		/* count grows as we go so that pf_config_free() and the cross-customer checks
		 * only see customers that were started */
		cfg->n_customers = i + 1;
		pindex(cp, "customers", i);
		r = load_customer(ld, json_array_get(v, i), cp, i);
		if (r < 0)
			return r;
	}

	if ((r = check_peering_overlaps(ld)) < 0 || (r = check_tags(ld)) < 0 ||
	    (r = check_gre_dst(ld)) < 0 || (r = check_mtu6(ld)) < 0)
		return r;

	/* neighbors last: they are checked against every subnet */
	r = member(ld, root, "", "neighbors", false, W_ARR, &v, p);
	if (r < 0)
		return r;
	if (r > 0 && (r = load_neighbors(ld, v, p)) < 0)
		return r;
	return 0;
}

void pf_config_free(struct pf_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t c = 0; c < cfg->n_customers; c++) {
		struct pf_customer_conf *cu = &cfg->customers[c];

		for (size_t k = 0; k < cu->n_contexts; k++)
			free(cu->contexts[k].routes);
		free(cu->contexts);
		free(cu->vnets);
		free(cu->on_prem);
		if (cu->ipsec.sas != NULL)
			explicit_bzero(cu->ipsec.sas, cu->ipsec.n_sas * sizeof(*cu->ipsec.sas));
		free(cu->ipsec.sas);
	}
	free(cfg->customers);
	free(cfg->ports);
	free(cfg->neighbors);
	free(cfg);
}

static void file_error(char *err, size_t errlen, const char *path, const char *what, int e)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s:0:0: (file): %s: %s", path, what, strerror(e));
}

/* Read the whole file; one read serves both jansson and the position index. */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		file_error(err, errlen, path, "cannot open", e);
		return -e;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		close(fd);
		file_error(err, errlen, path, "cannot read", ENOMEM);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= CONFIG_MAX_BYTES) {
				free(buf);
				close(fd);
				file_error(err, errlen, path, "too large", EFBIG);
				return -EFBIG;
			}
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				close(fd);
				file_error(err, errlen, path, "cannot read", ENOMEM);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			file_error(err, errlen, path, "cannot read", e);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

int pf_config_load(const char *path, struct pf_config **out, char *err, size_t errlen)
{
	struct ld ld = { .file = path, .err = err, .errlen = errlen };
	json_error_t je;
	char *text = NULL;
	size_t len = 0;
	json_t *root;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || out == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "pf_config_load: invalid arguments");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(((struct pf_config *)0)->path)) {
		file_error(err, errlen, path, "path", ENAMETOOLONG);
		return -ENAMETOOLONG;
	}
	rc = read_file(path, &text, &len, err, errlen);
	if (rc < 0)
		return rc;

	/* no JSON_DECODE_ANY: the top level must be an object (or array, rejected below) */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:%d:%d: (json): %s", path, je.line < 0 ? 0 : je.line,
				 je.column < 0 ? 0 : je.column, je.text);
		free(text);
		return -EINVAL;
	}
	rc = posidx_build(&ld.idx, text, len);
	free(text);
	if (rc < 0 && ld.idx.n == 0) {
		json_decref(root);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:0:0: (file): out of memory", path);
		return -ENOMEM;
	}
	ld.cfg = calloc(1, sizeof(*ld.cfg));
	if (ld.cfg == NULL) {
		rc = -ENOMEM;
	} else {
		snprintf(ld.cfg->path, sizeof(ld.cfg->path), "%s", path);
		rc = load_top(&ld, root);
	}
	json_decref(root);
	posidx_free(&ld.idx);
	if (rc < 0) {
		if (!ld.failed && err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:0:0: (config): %s", path, strerror(-rc));
		pf_config_free(ld.cfg);
		return rc;
	}
	*out = ld.cfg;
	return 0;
}
