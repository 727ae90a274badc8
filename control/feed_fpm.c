/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FRR zebra FPM feed adapter (dplane_fpm_nl): a pure parser of the FPM byte stream and a
 * TCP server thread around it. Contract and behaviour: control/feed_fpm.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control/feed_fpm.h"

#define FPM_VERSION 1
#define FPM_TYPE_NETLINK 1

#define NLHDR_LEN 16    /* struct nlmsghdr */
#define RTMSG_LEN 12    /* struct rtmsg */
#define RTA_HDR 4       /* struct rtattr */
#define RTNH_HDR 8      /* struct rtnexthop */

/* ------------------------------------------------------------------------------------ */
/* parser */

static inline uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline size_t
align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* One warning per process when zebra uses next-hop groups: it is a zebra configuration
 * error that loses every route, so it must not hide behind the first `unsupported` log. */
static unsigned nhg_warned;

static void
warn_nhg(void)
{
	if (__atomic_exchange_n(&nhg_warned, 1, __ATOMIC_RELAXED))
		return;
	fprintf(stderr, "peerfwd: feed fpm: zebra sends next-hop groups (RTM_NEWNEXTHOP, "
		"RTA_NH_ID), which peerfwd does not use: those routes are NOT installed; put "
		"`no fpm use-next-hop-groups` in zebra's configuration\n");
}

struct pctx {
	const struct pf_ctxmap *map;
	struct pf_feed *f;
	struct pf_route_msg *out;
	unsigned n;
	int last_del;  /* index in out of the DEL the previous netlink message produced */
};

/* next hops collected from RTA_GATEWAY / RTA_VIA / RTA_MULTIPATH */
struct nhacc {
	struct pf_addr nh[PF_RT_MAX_NH];
	unsigned n;
	bool too_many;
	bool encap;        /* some next hop has an encapsulation */
	bool iface_only;   /* some next hop is an interface only */
	bool oif;          /* RTA_OIF seen */
};

static const char *
pfx_str(int fam, const uint8_t *a, unsigned len, char *buf, size_t bl)
{
	char t[INET6_ADDRSTRLEN];

	if (inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, t, sizeof(t)) == NULL)
		snprintf(t, sizeof(t), "?");
	snprintf(buf, bl, "%s/%u", t, len);
	return buf;
}

static void
nh_add(struct nhacc *acc, int fam, const uint8_t *a)
{
	for (unsigned i = 0; i < acc->n; i++)   /* the same gateway twice (two interfaces) */
		if (acc->nh[i].family == fam && memcmp(acc->nh[i].addr, a, fam == 4 ? 4 : 16) == 0)
			return;
	if (acc->n >= PF_RT_MAX_NH) {
		acc->too_many = true;
		return;
	}
	memset(&acc->nh[acc->n], 0, sizeof(acc->nh[0]));
	acc->nh[acc->n].family = fam;
	memcpy(acc->nh[acc->n].addr, a, fam == 4 ? 4 : 16);
	acc->n++;
}

/* A gateway attribute (RTA_GATEWAY of the route's family, or RTA_VIA). 1 added, 0 not a
 * gateway attribute, -1 malformed (counted). */
static int
gateway_attr(struct pctx *c, unsigned type, const uint8_t *pl, size_t plen, int fam,
	     struct nhacc *acc, const char *what)
{
	if (type == RTA_GATEWAY) {
		if (plen != (fam == 4 ? 4u : 16u)) {
			pf_feed_bad(c->f, PF_FEED_BAD_bad_nexthop, "%s: RTA_GATEWAY of %zu bytes",
				    what, plen);
			return -1;
		}
		nh_add(acc, fam, pl);
		return 1;
	}
	if (type == RTA_VIA) {
		/* struct rtvia { __kernel_sa_family_t family; __u8 addr[]; } */
		uint16_t vf;

		if (plen >= 2) {
			vf = rd16(pl);
			if (vf == AF_INET && plen == 2 + 4) {
				nh_add(acc, 4, pl + 2);
				return 1;
			}
			if (vf == AF_INET6 && plen == 2 + 16) {
				nh_add(acc, 6, pl + 2);
				return 1;
			}
		}
		pf_feed_bad(c->f, PF_FEED_BAD_bad_nexthop, "%s: RTA_VIA of %zu bytes not an "
			    "IPv4/IPv6 address", what, plen);
		return -1;
	}
	return 0;
}

static bool
is_encap(unsigned type)
{
	return type == RTA_ENCAP || type == RTA_ENCAP_TYPE || type == RTA_NEWDST;
}

/* RTA_MULTIPATH: a list of struct rtnexthop, each followed by its own attributes.
 * 0, or -1 malformed (counted). */
static int
multipath(struct pctx *c, const uint8_t *m, size_t mlen, int fam, struct nhacc *acc,
	  const char *what)
{
	size_t off = 0;

	while (mlen - off >= RTA_HDR) {
		size_t rl, aoff;
		bool gw = false;

		if (mlen - off < RTNH_HDR) {
			pf_feed_bad(c->f, PF_FEED_BAD_truncated, "%s: %zu bytes of an rtnexthop",
				    what, mlen - off);
			return -1;
		}
		rl = rd16(m + off);
		if (rl < RTNH_HDR) {
			pf_feed_bad(c->f, PF_FEED_BAD_bad_length, "%s: rtnexthop length %zu", what,
				    rl);
			return -1;
		}
		if (rl > mlen - off) {
			pf_feed_bad(c->f, PF_FEED_BAD_truncated, "%s: rtnexthop of %zu bytes in "
				    "%zu", what, rl, mlen - off);
			return -1;
		}
		for (aoff = RTNH_HDR; rl - aoff >= RTA_HDR;) {
			const uint8_t *a = m + off + aoff;
			size_t al = rd16(a);
			unsigned at = rd16(a + 2) & NLA_TYPE_MASK;
			int r;

			if (al < RTA_HDR) {
				pf_feed_bad(c->f, PF_FEED_BAD_bad_length, "%s: next-hop attribute "
					    "length %zu", what, al);
				return -1;
			}
			if (al > rl - aoff) {
				pf_feed_bad(c->f, PF_FEED_BAD_truncated, "%s: next-hop attribute "
					    "of %zu bytes in %zu", what, al, rl - aoff);
				return -1;
			}
			r = gateway_attr(c, at, a + RTA_HDR, al - RTA_HDR, fam, acc, what);
			if (r < 0)
				return -1;
			if (r > 0)
				gw = true;
			if (is_encap(at))
				acc->encap = true;
			aoff += align4(al);
			if (aoff > rl)
				aoff = rl;
		}
		if (!gw)
			acc->iface_only = true;
		off += align4(rl);
		if (off > mlen)
			off = mlen;
	}
	return 0;
}

static void
emit(struct pctx *c, const struct pf_route_msg *m)
{
	if (m->op == PF_RT_ADD && c->last_del >= 0 && (unsigned)c->last_del + 1 == c->n) {
		const struct pf_route_msg *d = &c->out[c->last_del];

		if (d->ctx == m->ctx && d->family == m->family && d->len == m->len &&
		    memcmp(d->prefix, m->prefix, sizeof(d->prefix)) == 0) {
			/* zebra's update = DEL + NEW: replace in place, never withdraw */
			c->out[c->last_del] = *m;
			c->last_del = -1;
			return;
		}
	}
	c->out[c->n] = *m;
	c->last_del = m->op == PF_RT_DEL ? (int)c->n : -1;
	c->n++;
}

/* One RTM_NEWROUTE / RTM_DELROUTE; b = the netlink payload (struct rtmsg + attributes). */
static void
route(struct pctx *c, unsigned nltype, const uint8_t *b, size_t blen)
{
	struct pf_feed *f = c->f;
	struct pf_route_msg m;
	struct nhacc acc;
	const uint8_t *dst = NULL, *mp = NULL;
	size_t mplen = 0, aoff;
	uint8_t family, dst_len, src_len, rtype;
	uint32_t table, nh_id = 0;
	bool del = nltype == RTM_DELROUTE, have_nh_id = false;
	unsigned alen, maxlen;
	char what[128], ps[64];
	int fam, ctx;

	if (blen < RTMSG_LEN) {
		pf_feed_bad(f, PF_FEED_BAD_truncated, "route message of %zu bytes (rtmsg is %d)",
			    blen, RTMSG_LEN);
		return;
	}
	/* struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags */
	family = b[0];
	dst_len = b[1];
	src_len = b[2];
	table = b[4];
	rtype = b[7];
	if (family == AF_INET) {
		fam = 4, alen = 4, maxlen = 32;
	} else if (family == AF_INET6) {
		fam = 6, alen = 16, maxlen = 128;
	} else {
		pf_feed_bad(f, PF_FEED_BAD_unknown_family, "route of address family %u", family);
		return;
	}
	if (dst_len > maxlen) {
		pf_feed_bad(f, PF_FEED_BAD_bad_prefix, "IPv%d prefix length %u", fam, dst_len);
		return;
	}
	snprintf(what, sizeof(what), "%s IPv%d /%u", del ? "DELROUTE" : "NEWROUTE", fam,
		 dst_len);

	memset(&acc, 0, sizeof(acc));
	for (aoff = RTMSG_LEN; blen - aoff >= RTA_HDR;) {
		const uint8_t *a = b + aoff, *pl = a + RTA_HDR;
		size_t al = rd16(a), plen;
		unsigned at = rd16(a + 2) & NLA_TYPE_MASK;

		if (al < RTA_HDR) {
			pf_feed_bad(f, PF_FEED_BAD_bad_length, "%s: attribute %u length %zu", what,
				    at, al);
			return;
		}
		if (al > blen - aoff) {
			pf_feed_bad(f, PF_FEED_BAD_truncated, "%s: attribute %u of %zu bytes in %zu",
				    what, at, al, blen - aoff);
			return;
		}
		plen = al - RTA_HDR;
		switch (at) {
		case RTA_DST:
			if (plen != alen) {
				pf_feed_bad(f, PF_FEED_BAD_bad_prefix, "%s: RTA_DST of %zu bytes",
					    what, plen);
				return;
			}
			dst = pl;
			break;
		case RTA_TABLE:
			if (plen != 4) {
				pf_feed_bad(f, PF_FEED_BAD_bad_length, "%s: RTA_TABLE of %zu bytes",
					    what, plen);
				return;
			}
			table = rd32(pl);
			break;
		case RTA_OIF:
			acc.oif = true;
			break;
		case RTA_MULTIPATH:
			mp = pl;
			mplen = plen;
			break;
		case RTA_NH_ID:
			have_nh_id = true;
			if (plen == 4)
				nh_id = rd32(pl);
			break;
		default:
			if (!del) {
				if (gateway_attr(c, at, pl, plen, fam, &acc, what) < 0)
					return;
				if (is_encap(at))
					acc.encap = true;
			}
			break;
		}
		aoff += align4(al);
		if (aoff > blen)
			aoff = blen;
	}
	/* 1..3 bytes left over: padding */

	memset(&m, 0, sizeof(m));
	m.op = del ? PF_RT_DEL : PF_RT_ADD;
	m.source = PF_SRC_FPM;
	m.family = (uint8_t)fam;
	m.len = dst_len;
	if (dst != NULL)
		memcpy(m.prefix, dst, alen);
	else if (dst_len != 0) {
		pf_feed_bad(f, PF_FEED_BAD_bad_prefix, "%s: prefix length without RTA_DST", what);
		return;
	}
	pfx_str(fam, m.prefix, dst_len, ps, sizeof(ps));
	snprintf(what, sizeof(what), "%s %s table %u", del ? "DELROUTE" : "NEWROUTE", ps,
		 table);
	{
		/* host bits must be zero */
		unsigned byte = dst_len / 8, bit = dst_len % 8;
		bool ok = true;

		if (bit && (m.prefix[byte++] & (0xffu >> bit)))
			ok = false;
		for (; ok && byte < alen; byte++)
			if (m.prefix[byte])
				ok = false;
		if (!ok) {
			pf_feed_bad(f, PF_FEED_BAD_host_bits, "%s: host bits set", what);
			return;
		}
	}
	if (src_len != 0) {
		pf_feed_bad(f, PF_FEED_BAD_unsupported, "%s: source-specific route (from /%u)",
			    what, src_len);
		return;
	}
	ctx = pf_ctxmap_by_table(c->map, table);
	if (ctx < 0) {
		pf_feed_bad(f, PF_FEED_BAD_unknown_table, "%s: no context has table_id %u", what,
			    table);
		return;
	}
	m.ctx = (uint16_t)ctx;

	if (del) {
		emit(c, &m);
		return;
	}
	switch (rtype) {
	case RTN_UNICAST:
		break;
	case RTN_BLACKHOLE:
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
		m.flags = PF_RT_F_BLACKHOLE;
		emit(c, &m);
		return;
	default:
		pf_feed_bad(f, PF_FEED_BAD_unsupported, "%s: route type %u ignored (not unicast "
			    "or blackhole)", what, rtype);
		return;
	}
	if (mp != NULL && multipath(c, mp, mplen, fam, &acc, what) < 0)
		return;
	if (acc.encap) {
		pf_feed_bad(f, PF_FEED_BAD_unsupported, "%s: next hop with an encapsulation "
			    "(MPLS/VXLAN) ignored", what);
		return;
	}
	if (acc.n == 0) {
		if (have_nh_id) {
			warn_nhg();
			pf_feed_bad(f, PF_FEED_BAD_unsupported, "%s: next-hop group id %u only "
				    "(zebra needs `no fpm use-next-hop-groups`)", what, nh_id);
		} else if (acc.oif || acc.iface_only) {
			pf_feed_bad(f, PF_FEED_BAD_unsupported, "%s: interface route without a "
				    "gateway (connected) ignored", what);
		} else {
			pf_feed_bad(f, PF_FEED_BAD_bad_nexthop, "%s: no next hop", what);
		}
		return;
	}
	if (acc.iface_only)
		pf_feed_bad(f, PF_FEED_BAD_unsupported, "%s: interface-only ECMP member "
			    "left out", what);
	if (acc.too_many)
		pf_feed_bad(f, PF_FEED_BAD_too_many_nexthops, "%s: more than %d next hops, "
			    "the first %d kept", what, PF_RT_MAX_NH, PF_RT_MAX_NH);
	m.n_nh = (uint8_t)acc.n;
	memcpy(m.nh, acc.nh, sizeof(m.nh[0]) * acc.n);
	emit(c, &m);
}

/* Route messages an FPM payload may yield at most (same walk as frame()). */
static unsigned
frame_routes(const uint8_t *p, size_t plen)
{
	size_t off = 0;
	unsigned n = 0;

	while (plen - off >= NLHDR_LEN) {
		size_t nl = rd32(p + off);
		unsigned t = rd16(p + off + 4);

		if (nl < NLHDR_LEN || nl > plen - off)
			break;
		if ((t == RTM_NEWROUTE || t == RTM_DELROUTE) && nl >= NLHDR_LEN + RTMSG_LEN)
			n++;
		off += align4(nl);
		if (off > plen)
			off = plen;
	}
	return n;
}

/* The netlink messages of one FPM payload. */
static void
frame(struct pctx *c, const uint8_t *p, size_t plen)
{
	struct pf_feed *f = c->f;
	size_t off = 0;

	c->last_del = -1;
	while (plen - off >= RTA_HDR) {
		size_t nl;
		unsigned t;

		if (plen - off < NLHDR_LEN) {
			pf_feed_bad(f, PF_FEED_BAD_truncated, "%zu bytes of a netlink header",
				    plen - off);
			return;
		}
		nl = rd32(p + off);
		t = rd16(p + off + 4);
		if (nl < NLHDR_LEN) {
			pf_feed_bad(f, PF_FEED_BAD_bad_length, "netlink length %zu", nl);
			return;
		}
		if (nl > plen - off) {
			pf_feed_bad(f, PF_FEED_BAD_truncated, "netlink message of %zu bytes in %zu "
				    "left of the FPM message", nl, plen - off);
			return;
		}
		switch (t) {
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			route(c, t, p + off + NLHDR_LEN, nl - NLHDR_LEN);
			break;
		case RTM_NEWNEXTHOP:
		case RTM_DELNEXTHOP:
			warn_nhg();
			pf_feed_bad(f, PF_FEED_BAD_unsupported, "next-hop object (netlink type %u): "
				    "zebra needs `no fpm use-next-hop-groups`", t);
			c->last_del = -1;
			break;
		case NLMSG_NOOP:
		case NLMSG_DONE:
			c->last_del = -1;
			break;
		default:
			pf_feed_bad(f, PF_FEED_BAD_unsupported, "netlink message type %u ignored", t);
			c->last_del = -1;
			break;
		}
		off += align4(nl);
		if (off > plen)
			off = plen;
	}
	/* 1..3 bytes left over: padding */
}

int
pf_fpm_parse(const uint8_t *buf, size_t len, size_t *consumed, const struct pf_ctxmap *map,
	     struct pf_feed *f, struct pf_route_msg *out, unsigned max, unsigned *n_out)
{
	struct pctx c = {.map = map, .f = f, .out = out, .n = 0, .last_del = -1};
	size_t off = 0;
	int rc = 0;

	while (len - off >= PF_FPM_HDR_LEN) {
		const uint8_t *h = buf + off;
		size_t flen = ((size_t)h[2] << 8) | h[3];
		unsigned need;

		if (h[0] != FPM_VERSION) {
			pf_feed_bad(f, PF_FEED_BAD_bad_version, "FPM version %u (expected %d): "
				    "stream unrecoverable", h[0], FPM_VERSION);
			rc = -EPROTO;
			break;
		}
		if (flen < PF_FPM_HDR_LEN) {
			pf_feed_bad(f, PF_FEED_BAD_bad_length, "FPM length %zu: stream "
				    "unrecoverable", flen);
			rc = -EPROTO;
			break;
		}
		if (flen > len - off)
			break; /* incomplete: wait for more */
		if (h[1] != FPM_TYPE_NETLINK) {
			pf_feed_bad(f, PF_FEED_BAD_bad_version, "FPM message type %u (only netlink, "
				    "1, is supported) skipped", h[1]);
		} else {
			need = frame_routes(h + PF_FPM_HDR_LEN, flen - PF_FPM_HDR_LEN);
			if (need > max - c.n) {
				if (c.n == 0)
					rc = -ENOBUFS;
				break;
			}
			frame(&c, h + PF_FPM_HDR_LEN, flen - PF_FPM_HDR_LEN);
		}
		__atomic_fetch_add(&f->msgs_in, 1, __ATOMIC_RELAXED);
		off += flen;
	}
	*consumed = off;
	*n_out = c.n;
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* server thread */

struct fpm_srv {
	struct fpm_srv *next;
	struct pf_feed *f;
	const struct pf_ctxmap *map;
	struct pf_fpm_timing tm;
	int lfd, cfd;
	int port;
	volatile bool stop;
	pthread_t th;
	uint8_t *buf;
	size_t blen;
	struct pf_route_msg *out;
	/* sync state (ms, CLOCK_MONOTONIC) */
	bool syncing;        /* SYNC_BEGIN sent, SYNC_END not yet */
	bool stale_pending;  /* disconnected, withdraw-all pending */
	uint64_t t_conn, t_last, t_disc;
	uint64_t sync_routes;
};

#define BUF_CAP (2 * 65536)

static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fpm_srv *srv_list;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned
env_ms(const char *name, unsigned dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return dflt;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > 86400000ul) {
		fprintf(stderr, "peerfwd: feed fpm: ignoring %s='%s' (milliseconds, at most "
			"86400000)\n", name, s);
		return dflt;
	}
	return (unsigned)v;
}

void
pf_fpm_timing_default(struct pf_fpm_timing *t)
{
	t->quiet_ms = env_ms("PEERFWD_FPM_QUIET_MS", 3000);
	t->min_sync_ms = env_ms("PEERFWD_FPM_MIN_SYNC_MS", 30000);
	t->max_sync_ms = env_ms("PEERFWD_FPM_MAX_SYNC_MS", 300000);
	t->stale_ms = env_ms("PEERFWD_FPM_STALE_MS", 120000);
}

static int
submit_op(struct fpm_srv *s, enum pf_route_op op)
{
	struct pf_route_msg m;

	memset(&m, 0, sizeof(m));
	m.op = (uint8_t)op;
	m.source = PF_SRC_FPM;
	return pf_feed_submit(s->f, &m, 1);
}

static void
drop_conn(struct fpm_srv *s, const char *why)
{
	if (s->cfd < 0)
		return;
	if (s->blen > 0)
		pf_feed_bad(s->f, PF_FEED_BAD_truncated, "connection ended with %zu bytes of an "
			    "incomplete FPM message", s->blen);
	fprintf(stderr, "peerfwd: feed fpm: zebra disconnected (%s)%s\n", why,
		s->syncing ? " during its initial dump" : "");
	close(s->cfd);
	s->cfd = -1;
	s->blen = 0;
	s->t_disc = now_ms();
	s->stale_pending = s->tm.stale_ms != 0;
	__atomic_store_n(&s->f->sessions, 0, __ATOMIC_RELAXED);
}

/* Parse what is buffered and submit it. 0, or -1 when the connection must be dropped,
 * -ESHUTDOWN when quitting. */
static int
drain(struct fpm_srv *s)
{
	for (;;) {
		size_t used = 0;
		unsigned n = 0;
		int r = pf_fpm_parse(s->buf, s->blen, &used, s->map, s->f, s->out,
				     PF_FPM_OUT_MAX, &n);

		if (n > 0) {
			if (pf_feed_submit(s->f, s->out, n) < 0)
				return -ESHUTDOWN;
			if (s->syncing)
				s->sync_routes += n;
		}
		if (used > 0) {
			memmove(s->buf, s->buf + used, s->blen - used);
			s->blen -= used;
		}
		if (r < 0)
			return -1; /* -EPROTO (-ENOBUFS cannot happen with PF_FPM_OUT_MAX) */
		if (used == 0)
			return 0;
	}
}

static void
accept_conn(struct fpm_srv *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "?";
	int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	int one = 1, idle = 30, intvl = 10, cnt = 3;

	if (fd < 0)
		return;
	/* zebra sends nothing when idle: keepalives find a peer that vanished without a FIN
	 * (zebra on another host) in about a minute */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
	if (s->cfd >= 0)
		drop_conn(s, "replaced by a new connection");
	s->cfd = fd;
	s->blen = 0;
	s->t_conn = s->t_last = now_ms();
	s->stale_pending = false;
	s->sync_routes = 0;
	__atomic_store_n(&s->f->sessions, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "peerfwd: feed fpm: zebra connected from %s; resync started\n", a);
	if (submit_op(s, PF_RT_SYNC_BEGIN) == 0)
		s->syncing = true;
}

static void
timers(struct fpm_srv *s)
{
	uint64_t t = now_ms();

	if (s->cfd >= 0 && s->syncing) {
		uint64_t since = t - s->t_conn;

		if ((t - s->t_last >= s->tm.quiet_ms && since >= s->tm.min_sync_ms) ||
		    since >= s->tm.max_sync_ms) {
			if (submit_op(s, PF_RT_SYNC_END) == 0) {
				s->syncing = false;
				fprintf(stderr, "peerfwd: feed fpm: resync done after %llu ms "
					"(%llu route messages); routes not resent are removed\n",
					(unsigned long long)since,
					(unsigned long long)s->sync_routes);
			}
		}
	}
	if (s->cfd < 0 && s->stale_pending && t - s->t_disc >= s->tm.stale_ms) {
		s->stale_pending = false;
		s->syncing = false;
		fprintf(stderr, "peerfwd: feed fpm: no zebra for %u ms: withdrawing its routes\n",
			s->tm.stale_ms);
		if (submit_op(s, PF_RT_SYNC_BEGIN) == 0)
			submit_op(s, PF_RT_SYNC_END);
	}
}

static void *
fpm_thread(void *arg)
{
	struct fpm_srv *s = arg;

	while (!s->stop && !(s->f->quit && *s->f->quit)) {
		struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN},
				      {.fd = s->cfd, .events = POLLIN}};
		int r = poll(p, s->cfd >= 0 ? 2 : 1, 100);

		if (r > 0 && (p[0].revents & POLLIN))
			accept_conn(s);
		if (r > 0 && s->cfd >= 0 && p[1].fd == s->cfd &&
		    (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t k = read(s->cfd, s->buf + s->blen, BUF_CAP - s->blen);

			if (k == 0) {
				drop_conn(s, "connection closed");
			} else if (k < 0) {
				if (errno != EINTR && errno != EAGAIN)
					drop_conn(s, strerror(errno));
			} else {
				s->blen += (size_t)k;
				s->t_last = now_ms();
				r = drain(s);
				if (r == -ESHUTDOWN)
					break;
				if (r < 0) {
					s->blen = 0; /* counted already (bad_version/bad_length) */
					drop_conn(s, "unrecoverable FPM stream");
				}
			}
		}
		timers(s);
	}
	return NULL;
}

static int
parse_listen(const char *laddr, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *p, *port = NULL;
	long pn = PF_FPM_DEFAULT_PORT;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (laddr == NULL)
		return -EINVAL;
	if (laddr[0] == '[') {
		const char *e = strchr(laddr, ']');

		if (e == NULL)
			return -EINVAL;
		p = laddr + 1;
		hl = (size_t)(e - p);
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != '\0')
			return -EINVAL;
	} else {
		const char *colon = strchr(laddr, ':');

		p = laddr;
		if (colon && strchr(colon + 1, ':') == NULL) {
			hl = (size_t)(colon - laddr);
			port = colon + 1;
		} else {
			hl = strlen(laddr); /* bare IPv6 address or IPv4 without port */
		}
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (port) {
		char *end;

		errno = 0;
		pn = strtol(port, &end, 10);
		if (errno || *port == '\0' || *end != '\0' || pn < 0 || pn > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		*sl = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		*sl = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

int
pf_fpm_start_timing(struct pf_feed *f, const char *laddr, const struct pf_ctxmap *map,
		    const struct pf_fpm_timing *t, pthread_t *th)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct fpm_srv *s;
	int one = 1, r;

	if (f == NULL || map == NULL || t == NULL || th == NULL)
		return -EINVAL;
	r = parse_listen(laddr, &ss, &sl);
	if (r < 0) {
		fprintf(stderr, "peerfwd: feed fpm: bad listen address '%s' (ADDR:PORT or "
			"[ADDR6]:PORT)\n", laddr ? laddr : "(null)");
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->buf = malloc(BUF_CAP);
	s->out = malloc(sizeof(*s->out) * PF_FPM_OUT_MAX);
	s->cfd = -1;
	s->f = f;
	s->map = map;
	s->tm = *t;
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->buf == NULL || s->out == NULL || s->lfd < 0) {
		r = s->lfd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(s->lfd, 4) < 0) {
		r = -errno;
		fprintf(stderr, "peerfwd: feed fpm: cannot listen on %s: %s\n", laddr,
			strerror(errno));
		goto fail;
	}
	{
		struct sockaddr_storage b;
		socklen_t bl = sizeof(b);

		getsockname(s->lfd, (struct sockaddr *)&b, &bl);
		s->port = ntohs(b.ss_family == AF_INET ? ((struct sockaddr_in *)&b)->sin_port
						       : ((struct sockaddr_in6 *)&b)->sin6_port);
	}
	__atomic_store_n(&f->sessions, 0, __ATOMIC_RELAXED);
	r = pthread_create(&s->th, NULL, fpm_thread, s);
	if (r != 0) {
		r = -r;
		goto fail;
	}
	pthread_setname_np(s->th, "pf-fpm");
	pthread_mutex_lock(&srv_lock);
	s->next = srv_list;
	srv_list = s;
	pthread_mutex_unlock(&srv_lock);
	*th = s->th;
	fprintf(stderr, "peerfwd: feed fpm: listening on %s (port %d) for zebra "
		"(dplane_fpm_nl)\n", laddr, s->port);
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	free(s->buf);
	free(s->out);
	free(s);
	return r;
}

int
pf_fpm_start(struct pf_feed *f, const char *listen, const struct pf_ctxmap *map,
	     pthread_t *th)
{
	struct pf_fpm_timing t;

	pf_fpm_timing_default(&t);
	return pf_fpm_start_timing(f, listen, map, &t, th);
}

static struct fpm_srv *
find_srv(const struct pf_feed *f, bool unlink)
{
	struct fpm_srv **pp, *s = NULL;

	pthread_mutex_lock(&srv_lock);
	for (pp = &srv_list; *pp; pp = &(*pp)->next)
		if ((*pp)->f == f) {
			s = *pp;
			if (unlink)
				*pp = s->next;
			break;
		}
	pthread_mutex_unlock(&srv_lock);
	return s;
}

int
pf_fpm_stop(struct pf_feed *f, pthread_t th)
{
	struct fpm_srv *s = find_srv(f, true);

	(void)th;
	if (s == NULL)
		return -ENOENT;
	s->stop = true;
	pthread_join(s->th, NULL);
	if (s->cfd >= 0) {
		close(s->cfd);
		s->cfd = -1;
	}
	close(s->lfd);
	__atomic_store_n(&f->sessions, 0, __ATOMIC_RELAXED);
	if (!(f->quit && *f->quit) && submit_op(s, PF_RT_SYNC_BEGIN) == 0)
		submit_op(s, PF_RT_SYNC_END);
	free(s->buf);
	free(s->out);
	free(s);
	return 0;
}

int
pf_fpm_port(const struct pf_feed *f)
{
	struct fpm_srv *s = find_srv(f, false);

	return s ? s->port : -ENOENT;
}
