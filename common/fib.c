/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-context LPM FIB (see fib.h for the read-side contract).
 *
 * Trie: per context and family a 2^16-entry root, then child plies of W bits (IPv4: W = 8,
 * 256 entries, or W = 4, 16 entries, chosen at creation; IPv6: W = 4; fib.h says why), so a prefix of length L ends in
 * the root (L <= 16) or in the ply at level ceil((L - 16) / W) and is expanded there over
 * 2^(level end - L) entries (controlled prefix expansion): an IPv4 /24 is one entry of a
 * first-level ply, a /20 sixteen of them, a /25 half of a second-level ply. The writer
 * below is generic in the width: each family has its own arena (struct fib_arena) that
 * carries the width down the recursion. With W = 8 an update costs more than with W = 4:
 * a /17 or a /25 rewrites 128 entries of one ply instead of 8, creating a ply writes 1 KiB
 * instead of 64 bytes, and a prefix shorter than /16 over populated /16s visits their
 * whole 256-entry plies (about 2.4x the instructions per add of a full table,
 * bench/RESULTS.md), for half the loads of every /24 lookup.
 *
 * Leaves remember the length of the prefix that wrote them. That is what makes updates
 * local: an add of P/L overwrites, inside P/L, exactly the leaves written by shorter (or
 * equal) prefixes; a delete rewrites exactly the leaves of length L inside P/L with the
 * next covering route, and leaves more-specific routes alone.
 *
 * Invariants the writer keeps (they bound the work and the plies freed per delete):
 *  - inside one ply, every leaf whose length is <= the ply's base bit is the same value:
 *    the longest route of length <= base covering the ply's region (or 0);
 *  - hence a ply can be replaced by that single leaf exactly when it holds no child ply
 *    and no leaf longer than its base; such a ply is collapsed when a delete creates it,
 *    so a ply exists iff a route longer than its base lies inside its region. A delete
 *    can only make the plies on its own path collapsible (at most one per level), and a
 *    context without routes has an all-zero root.
 *
 * Memory reclamation: an unlinked ply or root may still be read by a lookup that loaded
 * the parent entry before the unlink. With a QSBR variable such objects are queued and
 * reused only after every reader reported a quiescent state. The queue holds batches
 * (everything one write operation freed), so the DPDK defer queue needs one slot per
 * batch, not per ply: a context flush can free hundreds of thousands of plies. A queued
 * ply names its family's arena (item encoding at struct fib_batch). The
 * defer queue (rte_rcu_qsbr_dq) needs the EAL heap; where EAL is not initialised (unit
 * tests, offline tools) a private FIFO uses the same rte_rcu_qsbr_start()/check() tokens.
 *
 * fib_walk() reports family 4 or 6 (as struct pf_prefix does) and the prefix as 4 or 16
 * bytes in network order, in no particular order; the callback must not modify the FIB.
 */
#ifndef ALLOW_EXPERIMENTAL_API
#define ALLOW_EXPERIMENTAL_API 1 /* rte_rcu_qsbr_dq_* are experimental in DPDK 22.11 */
#endif

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "common/fib.h"

enum { FAM4, FAM6, FAM_N };
_Static_assert(FAM_N == 2, "a deferred ply names its family in one bit");

#define FIB_ROOT_ENTRIES (1u << FIB_ROOT_BITS)
#define FIB_ROOT_BYTES ((size_t)FIB_ROOT_ENTRIES * sizeof(uint32_t))
#define FIB_PLY6_BYTES ((size_t)FIB_PLY6_ENTRIES * sizeof(uint32_t))
#define FIB_DEPTH_SHIFT FIB_NH_BITS
#define FIB_DEPTH_MASK 0xffu
/* Default arena reservations (address space, committed as used; fib.h's struct fib_conf):
 * IPv4 the whole 16 GiB the 32-bit offsets allow at either width (2000 contexts of 4000
 * scattered routes take 7.9M 8-bit plies, 7.5 GiB: bench/RESULTS.md), IPv6 4 GiB of
 * 64-byte plies. */
#define FIB_MAX_PLIES4_DEFAULT(ply4_bits) FIB_MAX_PLIES4_LIMIT(ply4_bits)
#define FIB_MAX_PLIES6_DEFAULT (1ull << 26)
#define FIB_DQ_SIZE 4096                     /* batches, not plies (see top comment) */
#define FIB_DQ_RECLAIM 32
#define FIB_RIB_MIN 8
#define FIB_DEFER_MIN 32

_Static_assert(FIB_NH_BITS + 8 == 31, "leaf layout: nh, 8-bit depth, ply flag");
_Static_assert(FIB_PLY6_BYTES == 64, "an IPv6 ply is one cache line");
_Static_assert(FIB_PLY4_BITS_DEFAULT == 8, "fib.h, fib_create, the bulk lookup: 8 or 4");
/* key_bits(): a ply never straddles a byte, and the root ends on a ply boundary; this holds
 * for both IPv4 widths (8 and 4). ply_collapse() checks 16 entries at a time. */
_Static_assert(8 % FIB_PLY6_BITS == 0 && FIB_PLY6_ENTRIES % 16 == 0, "IPv6 ply width");
_Static_assert(FIB_ROOT_BITS % 8 == 0, "the root ends on a byte boundary");
/* fib.h's lookups: (e << bits) | key bits must drop the flag and fit in 32 bits, at both
 * IPv4 widths (fib_create() checks max_plies4 against the chosen one). */
_Static_assert(FIB_MAX_PLIES4_LIMIT(8) << 8 == 1ull << 32, "IPv4 8-bit offsets in 32 bits");
_Static_assert(FIB_MAX_PLIES4_LIMIT(4) << 4 == 1ull << 32, "IPv4 4-bit offsets in 32 bits");
_Static_assert(FIB_MAX_PLIES4_LIMIT(4) < FIB_ENTRY_PLY, "ply indices below the flag");
_Static_assert(FIB_MAX_PLIES6_LIMIT << FIB_PLY6_BITS == 1ull << 32, "IPv6 offsets in 32 bits");
_Static_assert(FIB_MAX_PLIES6_DEFAULT <= FIB_MAX_PLIES6_LIMIT, "IPv6 default within limit");

static inline uint32_t
leaf_make(uint32_t nh, unsigned depth)
{
	return nh | (uint32_t)depth << FIB_DEPTH_SHIFT;
}

static inline unsigned
leaf_depth(uint32_t e)
{
	return (e >> FIB_DEPTH_SHIFT) & FIB_DEPTH_MASK;
}

/* Plies of width bits needed below the root to hold a prefix of length len. */
static inline unsigned
depth_levels(unsigned len, unsigned bits)
{
	return len > FIB_ROOT_BITS ? (len - FIB_ROOT_BITS + bits - 1) / bits : 0;
}

/*
 * Writer-side RIB: one small open-addressing table (linear probing, backward-shift
 * delete, load <= 3/4) per context and family, allocated with the first route. IPv4
 * slots are 8 bytes, IPv6 slots 20; meta = nh | len << 23 and is never 0 in a used slot.
 */
struct rib4_slot {
	uint32_t prefix;   /* host byte order */
	uint32_t meta;
};

struct rib6_slot {
	uint32_t meta;
	uint8_t prefix[16];
};

struct rib_tbl {
	void *slot;        /* NULL while empty */
	uint32_t mask;     /* capacity - 1 */
	uint32_t n;
};

struct fib_ctx {
	struct rib_tbl rib[FAM_N];
	/* Which prefix lengths the context uses, so finding the covering route of a delete
	 * probes only lengths that exist (IPv6 tables use a handful of the 129). */
	uint64_t lenmap[FAM_N][3];
	uint32_t lencnt4[33];
	uint32_t lencnt6[129];
};

/* Objects unlinked by write operations, waiting for a grace period. */
struct fib_batch {
	struct fib_batch *prev, *next;
	uint64_t token;    /* fallback queue only */
	uint32_t n, cap;
	uint64_t *item;    /* ply: index << 2 | family << 1 | 1; root: its (page-aligned)
			    * address */
};

/* The child plies of one family: fib->ply4_bits or FIB_PLY6_BITS wide. */
struct fib_arena {
	uint32_t *base;                /* fib->plies4 / fib->plies6 */
	unsigned bits, entries;        /* ply width; 1 << bits */
	unsigned fam;
	uint64_t max_plies;            /* reservation */
	uint64_t next;                 /* first never used index; 0 is reserved */
	uint64_t nfree;
	uint32_t free;                 /* free list head, linked through entry 0; 0 = empty */
};

struct fib_priv {
	struct fib_ctx **ctx;          /* [max_contexts]; NULL while a context has no route */
	uint32_t *empty_root;          /* shared, PROT_READ, never written: the zero page */
	struct fib_arena ar[FAM_N];
	uint64_t routes[FAM_N];
	uint64_t roots[FAM_N];         /* published private roots */
	uint64_t roots_queued;
	uint64_t rib_bytes;
	uint64_t defer_bytes;
	struct rte_rcu_qsbr *qsbr;
	struct rte_rcu_qsbr_dq *dq;    /* NULL: built-in token FIFO (no EAL heap available) */
	struct fib_batch *cur;         /* open batch of the current write operation(s) */
	struct fib_batch *head, *tail; /* closed batches, oldest first */
};

static inline struct fib_priv *
fib_priv(const struct fib *fib)
{
	return fib->priv;
}

static inline uint32_t **
fib_roots(struct fib *fib, unsigned fam)
{
	return fam == FAM4 ? fib->root4 : fib->root6;
}

static inline uint32_t *
ply_ptr(const struct fib_arena *ar, uint32_t e)
{
	return &ar->base[(size_t)(e & ~FIB_ENTRY_PLY) << ar->bits];
}

static inline uint32_t
entry_get(const uint32_t *slot)
{
	/* Only the writer stores; relaxed keeps the access atomic for the tools. */
	return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

static inline void
entry_set(uint32_t *slot, uint32_t e)
{
	/* Release: a ply linked here was filled before, and readers load with acquire. */
	__atomic_store_n(slot, e, __ATOMIC_RELEASE);
}

/* ---- prefixes: both families as 16 bytes in network order (IPv4 in bytes 0..3) ---- */

static inline void
pfx4_bytes(uint32_t p, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = p >> 24;
	a[1] = p >> 16;
	a[2] = p >> 8;
	a[3] = p;
}

static inline uint32_t
pfx4_host(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static void
pfx_mask(const uint8_t *a, unsigned len, uint8_t out[16])
{
	unsigned full = len / 8;

	memcpy(out, a, full);
	memset(out + full, 0, 16 - full);
	if (len % 8)
		out[full] = a[full] & (uint8_t)(0xff00u >> (len % 8));
}

/* RFC 4632 section 3.1 / RFC 4291 section 2.3: the bits past the length must be zero. */
static bool
pfx_host_bits_clear(const uint8_t *a, unsigned len, unsigned nbytes)
{
	unsigned i = len / 8;

	if (len % 8 && (a[i++] & (0xffu >> (len % 8))))
		return false;
	for (; i < nbytes; i++)
		if (a[i])
			return false;
	return true;
}

/* Key bits [off, off + w) of a: the root's 16, or a ply's 4 or 8 (aligned to their width,
 * so inside one byte). */
static inline unsigned
key_bits(const uint8_t *a, unsigned off, unsigned w)
{
	if (w == FIB_ROOT_BITS)
		return (unsigned)a[0] << 8 | a[1];
	return (a[off >> 3] >> (8 - w - (off & 7))) & ((1u << w) - 1);
}

/* ---- RIB tables ---- */

static inline uint64_t
mix64(uint64_t x)
{
	/* MurmurHash3 finaliser: random /24s differ in few bits, spread them over the mask. */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t
rib_hash(unsigned fam, const uint8_t *a, unsigned len)
{
	uint64_t hi, lo;

	if (fam == FAM4)
		return mix64((uint64_t)pfx4_host(a) << 8 | len);
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return mix64(hi ^ mix64(lo ^ ((uint64_t)len << 56 | 0x9e3779b9u)));
}

static inline size_t
rib_slot_size(unsigned fam)
{
	return fam == FAM4 ? sizeof(struct rib4_slot) : sizeof(struct rib6_slot);
}

static inline uint32_t
rib_meta(const struct rib_tbl *t, unsigned fam, uint32_t i)
{
	return fam == FAM4 ? ((const struct rib4_slot *)t->slot)[i].meta :
			     ((const struct rib6_slot *)t->slot)[i].meta;
}

static inline bool
rib_key_eq(const struct rib_tbl *t, unsigned fam, uint32_t i, const uint8_t *a)
{
	if (fam == FAM4)
		return ((const struct rib4_slot *)t->slot)[i].prefix == pfx4_host(a);
	return memcmp(((const struct rib6_slot *)t->slot)[i].prefix, a, 16) == 0;
}

static inline const void *
rib_slot_addr(const struct rib_tbl *t, unsigned fam, uint32_t i)
{
	return (const char *)t->slot + (size_t)i * rib_slot_size(fam);
}

static inline void
rib_slot_key(const struct rib_tbl *t, unsigned fam, uint32_t i, uint8_t a[16])
{
	if (fam == FAM4)
		pfx4_bytes(((const struct rib4_slot *)t->slot)[i].prefix, a);
	else
		memcpy(a, ((const struct rib6_slot *)t->slot)[i].prefix, 16);
}

static inline void
rib_slot_set(struct rib_tbl *t, unsigned fam, uint32_t i, const uint8_t *a, uint32_t meta)
{
	if (fam == FAM4) {
		struct rib4_slot *s = &((struct rib4_slot *)t->slot)[i];

		s->prefix = pfx4_host(a);
		s->meta = meta;
	} else {
		struct rib6_slot *s = &((struct rib6_slot *)t->slot)[i];

		memcpy(s->prefix, a, 16);
		s->meta = meta;
	}
}

static inline uint32_t
meta_make(uint32_t nh, unsigned len)
{
	return nh | (uint32_t)len << FIB_DEPTH_SHIFT;
}

static inline unsigned
meta_len(uint32_t meta)
{
	return meta >> FIB_DEPTH_SHIFT;
}

/* Slot index of (a, len), or -1. */
static int64_t
rib_find(const struct rib_tbl *t, unsigned fam, const uint8_t *a, unsigned len, uint64_t h)
{
	uint32_t i, meta;

	if (t->slot == NULL)
		return -1;
	for (i = h & t->mask;; i = (i + 1) & t->mask) {
		meta = rib_meta(t, fam, i);
		if (meta == 0)
			return -1;
		if (meta_len(meta) == len && rib_key_eq(t, fam, i, a))
			return i;
	}
}

static void
rib_put(struct rib_tbl *t, unsigned fam, const uint8_t *a, uint32_t meta, uint64_t h)
{
	uint32_t i;

	for (i = h & t->mask; rib_meta(t, fam, i) != 0; i = (i + 1) & t->mask)
		;
	rib_slot_set(t, fam, i, a, meta);
	t->n++;
}

static int
rib_resize(struct fib_priv *p, struct rib_tbl *t, unsigned fam, uint32_t cap)
{
	struct rib_tbl nt = { .mask = cap - 1, .n = 0 };
	size_t ss = rib_slot_size(fam);
	uint8_t a[16];
	uint32_t i, meta;

	nt.slot = calloc(cap, ss);
	if (nt.slot == NULL)
		return -ENOMEM;
	if (t->slot != NULL) {
		for (i = 0; i <= t->mask; i++) {
			meta = rib_meta(t, fam, i);
			if (meta == 0)
				continue;
			rib_slot_key(t, fam, i, a);
			rib_put(&nt, fam, a, meta, rib_hash(fam, a, meta_len(meta)));
		}
		free(t->slot);
		p->rib_bytes -= (uint64_t)(t->mask + 1) * ss;
	}
	p->rib_bytes += (uint64_t)cap * ss;
	*t = nt;
	return 0;
}

/* Make room for one more route. */
static int
rib_reserve(struct fib_priv *p, struct rib_tbl *t, unsigned fam)
{
	uint64_t cap = t->slot != NULL ? (uint64_t)t->mask + 1 : 0;

	if ((uint64_t)t->n + 1 <= cap / 4 * 3)
		return 0;
	if (cap >= 1ull << 31)
		return -ENOMEM;
	return rib_resize(p, t, fam, cap ? (uint32_t)cap * 2 : FIB_RIB_MIN);
}

static void
rib_erase(struct fib_priv *p, struct rib_tbl *t, unsigned fam, uint32_t i)
{
	size_t ss = rib_slot_size(fam);
	uint32_t j, k, cap = t->mask + 1;
	uint8_t a[16];
	uint32_t meta;

	/* Backward shift (Knuth 6.4 algorithm R): no tombstones, probes stay short. */
	for (j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
		meta = rib_meta(t, fam, j);
		if (meta == 0)
			break;
		rib_slot_key(t, fam, j, a);
		k = rib_hash(fam, a, meta_len(meta)) & t->mask;
		/* j stays if its home k lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		memcpy((char *)t->slot + (size_t)i * ss, rib_slot_addr(t, fam, j), ss);
		i = j;
	}
	memset((char *)t->slot + (size_t)i * ss, 0, ss);
	t->n--;
	if (t->n == 0) {
		free(t->slot);
		p->rib_bytes -= (uint64_t)cap * ss;
		t->slot = NULL;
		t->mask = 0;
	} else if (cap > 64 && t->n < cap / 8) {
		/* Shrinking is an optimisation: on failure the bigger table just stays. */
		(void)rib_resize(p, t, fam, cap / 2);
	}
}

static void
rib_free(struct fib_priv *p, struct rib_tbl *t, unsigned fam)
{
	if (t->slot != NULL) {
		free(t->slot);
		p->rib_bytes -= (uint64_t)(t->mask + 1) * rib_slot_size(fam);
	}
	memset(t, 0, sizeof(*t));
}

static inline uint32_t *
ctx_lencnt(struct fib_ctx *c, unsigned fam)
{
	return fam == FAM4 ? c->lencnt4 : c->lencnt6;
}

/* The covering route of a/len: the longest route of the context shorter than len that
 * contains a, as a leaf; 0 when there is none. */
static uint32_t
rib_cover(const struct fib_ctx *c, unsigned fam, const uint8_t *a, unsigned len)
{
	const struct rib_tbl *t = &c->rib[fam];
	uint8_t cand[129], m[16];
	uint64_t h[129];
	unsigned nc = 0, k;
	int l;
	int64_t i;

	for (l = (int)len - 1; l >= 0; l--)
		if (c->lenmap[fam][l / 64] & 1ull << (l % 64))
			cand[nc++] = (uint8_t)l;
	/* Probe candidates longest first, but start all their cache misses up front. */
	for (k = 0; k < nc; k++) {
		pfx_mask(a, cand[k], m);
		h[k] = rib_hash(fam, m, cand[k]);
		rte_prefetch0(rib_slot_addr(t, fam, h[k] & t->mask));
	}
	for (k = 0; k < nc; k++) {
		pfx_mask(a, cand[k], m);
		i = rib_find(t, fam, m, cand[k], h[k]);
		if (i >= 0)
			return leaf_make(rib_meta(t, fam, (uint32_t)i) & FIB_NH_MAX, cand[k]);
	}
	return 0;
}

/* ---- ply arena ---- */

static inline bool
ply_avail(const struct fib_arena *ar, uint64_t n)
{
	return ar->nfree + (ar->max_plies - ar->next) >= n;
}

/* Callers check ply_avail() first, so this cannot fail. */
static uint32_t
ply_alloc(struct fib_arena *ar)
{
	uint32_t i = ar->free;

	if (i != 0) {
		ar->free = ar->base[(size_t)i << ar->bits];
		ar->nfree--;
		return i;
	}
	return (uint32_t)ar->next++;
}

static void
ply_release(struct fib_arena *ar, uint32_t i)
{
	ar->base[(size_t)i << ar->bits] = ar->free;
	ar->free = i;
	ar->nfree++;
}

static inline uint64_t
ply_held(const struct fib_arena *ar)
{
	return ar->next - 1 - ar->nfree;
}

/* ---- deferred free ---- */

static void
item_release(struct fib *fib, uint64_t item)
{
	struct fib_priv *p = fib_priv(fib);

	if (item & 1) {
		ply_release(&p->ar[(item >> 1) & 1], (uint32_t)(item >> 2));
	} else {
		munmap((void *)(uintptr_t)item, FIB_ROOT_BYTES);
		p->roots_queued--;
	}
}

static void
batch_free(struct fib_priv *p, struct fib_batch *b)
{
	p->defer_bytes -= sizeof(*b) + (uint64_t)b->cap * sizeof(b->item[0]);
	free(b->item);
	free(b);
}

static void
batch_release(struct fib *fib, struct fib_batch *b)
{
	struct fib_priv *p = fib_priv(fib);
	uint32_t i;

	for (i = 0; i < b->n; i++)
		item_release(fib, b->item[i]);
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		p->head = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	else
		p->tail = b->prev;
	batch_free(p, b);
}

static void
dq_free_cb(void *arg, void *e, unsigned int n)
{
	struct fib_batch *b;
	unsigned int k;

	for (k = 0; k < n; k++) {
		memcpy(&b, (char *)e + k * sizeof(b), sizeof(b));
		batch_release(arg, b);
	}
}

/* Guarantee room for n more deferred objects, so unlinking never fails half way. */
static int
defer_reserve(struct fib_priv *p, uint64_t n)
{
	struct fib_batch *b = p->cur;
	uint64_t cap;
	uint64_t *item;

	if (p->qsbr == NULL)
		return 0;
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return -ENOMEM;
		p->defer_bytes += sizeof(*b);
		p->cur = b;
	}
	if ((uint64_t)b->n + n <= b->cap)
		return 0;
	cap = RTE_MAX((uint64_t)b->cap * 2, (uint64_t)b->n + n);
	cap = RTE_MAX(cap, (uint64_t)FIB_DEFER_MIN);
	if (cap > UINT32_MAX)
		return -ENOMEM;
	item = realloc(b->item, cap * sizeof(*item));
	if (item == NULL)
		return -ENOMEM;
	p->defer_bytes += (cap - b->cap) * sizeof(*item);
	b->item = item;
	b->cap = (uint32_t)cap;
	return 0;
}

static void
defer_ply(struct fib *fib, struct fib_arena *ar, uint32_t i)
{
	struct fib_priv *p = fib_priv(fib);

	if (p->qsbr == NULL)
		ply_release(ar, i);
	else
		p->cur->item[p->cur->n++] = (uint64_t)i << 2 | (uint64_t)ar->fam << 1 | 1;
}

static void
defer_root(struct fib_priv *p, uint32_t *root)
{
	if (p->qsbr == NULL) {
		munmap(root, FIB_ROOT_BYTES);
		return;
	}
	p->cur->item[p->cur->n++] = (uint64_t)(uintptr_t)root;
	p->roots_queued++;
}

static void
defer_reclaim(struct fib *fib)
{
	struct fib_priv *p = fib_priv(fib);
	unsigned int freed, pending, avail;

	if (p->dq != NULL) {
		rte_rcu_qsbr_dq_reclaim(p->dq, UINT_MAX, &freed, &pending, &avail);
		return;
	}
	while (p->head != NULL && rte_rcu_qsbr_check(p->qsbr, p->head->token, false) == 1)
		batch_release(fib, p->head);
}

/* End of a write operation: start the grace period of what it unlinked. */
static void
defer_close(struct fib *fib)
{
	struct fib_priv *p = fib_priv(fib);
	struct fib_batch *b = p->cur;

	if (b == NULL || b->n == 0)
		return;
	b->prev = p->tail;
	b->next = NULL;
	if (p->tail != NULL)
		p->tail->next = b;
	else
		p->head = b;
	p->tail = b;
	if (p->dq != NULL) {
		if (rte_rcu_qsbr_dq_enqueue(p->dq, &b) != 0) {
			/* Ring full of batches still in their grace period: keep this one
			 * open; later operations add to it and the next close retries. */
			p->tail = b->prev;
			if (p->tail != NULL)
				p->tail->next = NULL;
			else
				p->head = NULL;
			return;
		}
	} else {
		b->token = rte_rcu_qsbr_start(p->qsbr);
	}
	p->cur = NULL;
	if (p->dq == NULL)
		defer_reclaim(fib);   /* cheap when nothing is due; the DQ does this itself */
}

/* ---- trie writer ---- */

/*
 * Every function below works on one family's trie: ar is that family's arena, whose width
 * is the width of every child ply (the root's is FIB_ROOT_BITS, passed as w).
 */

/* Overwrite, in tbl[0..n) and the subtrees of the plies linked there, the leaves written
 * by prefixes not longer than len. (Loops over entries, recursing only into plies: a /17
 * or a /25 covers 128 entries of an IPv4 ply.) */
static void
trie_fill(const struct fib_arena *ar, uint32_t *tbl, unsigned n, uint32_t lf, unsigned len)
{
	for (unsigned j = 0; j < n; j++) {
		uint32_t e = entry_get(&tbl[j]);

		if (e & FIB_ENTRY_PLY)
			trie_fill(ar, ply_ptr(ar, e), ar->entries, lf, len);
		else if (leaf_depth(e) <= len && e != lf)
			entry_set(&tbl[j], lf);
	}
}

/* tbl covers key bits [base, base + w). */
static void
trie_add(struct fib_arena *ar, uint32_t *tbl, unsigned base, unsigned w, const uint8_t *a,
	 unsigned len, uint32_t lf)
{
	unsigned end = base + w, idx = key_bits(a, base, w), n, k;
	uint32_t e, ci, *c;

	if (len <= end) {
		n = 1u << (end - len);
		trie_fill(ar, &tbl[idx & ~(n - 1)], n, lf, len);
		return;
	}
	e = entry_get(&tbl[idx]);
	if (e & FIB_ENTRY_PLY) {
		trie_add(ar, ply_ptr(ar, e), end, ar->bits, a, len, lf);
		return;
	}
	/* Build the new branch while unreachable, then link it with one release store. */
	ci = ply_alloc(ar);
	c = ply_ptr(ar, FIB_ENTRY_PLY | ci);
	for (k = 0; k < ar->entries; k++)
		c[k] = e;
	trie_add(ar, c, end, ar->bits, a, len, lf);
	entry_set(&tbl[idx], FIB_ENTRY_PLY | ci);
}

/* Rewrite the leaves of length len in tbl[0..n) and the subtrees of the plies linked there
 * with the covering leaf. */
static void
trie_restore(const struct fib_arena *ar, uint32_t *tbl, unsigned n, unsigned len,
	     uint32_t cover)
{
	for (unsigned j = 0; j < n; j++) {
		uint32_t e = entry_get(&tbl[j]);

		/* Plies inside the deleted prefix keep their more-specific routes, so none
		 * of them can become collapsible (top comment). */
		if (e & FIB_ENTRY_PLY)
			trie_restore(ar, ply_ptr(ar, e), ar->entries, len, cover);
		else if (leaf_depth(e) == len && e != cover)
			entry_set(&tbl[j], cover);
	}
}

/* Replace the ply linked at *slot (covering key bits from cbase) by its single value
 * when it no longer holds anything longer than cbase. */
static void
ply_collapse(struct fib *fib, struct fib_arena *ar, uint32_t *slot, unsigned cbase)
{
	uint32_t e = entry_get(slot), *c = ply_ptr(ar, e), e0 = entry_get(&c[0]);
	unsigned j, k;

	/* A uniform ply of deeper leaves (e.g. 256 sibling /24s with one next hop) stays:
	 * folding distinct routes into one entry would break the exact restore on delete. */
	if ((e0 & FIB_ENTRY_PLY) || leaf_depth(e0) > cbase)
		return;
	/* 16 entries at a time, which vectorises, stopping at the first chunk that differs.
	 * Plain loads: only this thread writes plies (readers' loads race with nothing). */
	for (j = 0; j < ar->entries; j += 16) {
		uint32_t d = 0;

		for (k = 0; k < 16; k++)
			d |= c[j + k] ^ e0;
		if (d != 0)
			return;
	}
	entry_set(slot, e0);
	defer_ply(fib, ar, e & ~FIB_ENTRY_PLY);
}

static void
trie_del(struct fib *fib, struct fib_arena *ar, uint32_t *tbl, unsigned base, unsigned w,
	 const uint8_t *a, unsigned len, uint32_t cover)
{
	unsigned end = base + w, idx = key_bits(a, base, w), n;
	uint32_t e;

	if (len <= end) {
		n = 1u << (end - len);
		trie_restore(ar, &tbl[idx & ~(n - 1)], n, len, cover);
		return;
	}
	e = entry_get(&tbl[idx]);
	if (!(e & FIB_ENTRY_PLY))
		return; /* unreachable while RIB and trie agree: a ply holds every long route */
	trie_del(fib, ar, ply_ptr(ar, e), end, ar->bits, a, len, cover);
	ply_collapse(fib, ar, &tbl[idx], end);
}

/* Plies in the subtree below the n entries of tbl. */
static uint64_t
trie_count(const struct fib_arena *ar, const uint32_t *tbl, unsigned n)
{
	uint64_t cnt = 0;
	unsigned j;
	uint32_t e;

	for (j = 0; j < n; j++) {
		e = entry_get(&tbl[j]);
		if (e & FIB_ENTRY_PLY)
			cnt += 1 + trie_count(ar, ply_ptr(ar, e), ar->entries);
	}
	return cnt;
}

static void
trie_defer_all(struct fib *fib, struct fib_arena *ar, const uint32_t *tbl, unsigned n)
{
	unsigned j;
	uint32_t e;

	for (j = 0; j < n; j++) {
		e = entry_get(&tbl[j]);
		if (e & FIB_ENTRY_PLY) {
			trie_defer_all(fib, ar, ply_ptr(ar, e), ar->entries);
			defer_ply(fib, ar, e & ~FIB_ENTRY_PLY);
		}
	}
}

/* New plies an add of a/len needs: the levels below the last existing ply on its path. */
static unsigned
trie_need(const struct fib_arena *ar, const uint32_t *root, const uint8_t *a, unsigned len)
{
	unsigned need = depth_levels(len, ar->bits), base = 0, w = FIB_ROOT_BITS;
	const uint32_t *tbl = root;
	uint32_t e;

	while (need > 0) {
		e = entry_get(&tbl[key_bits(a, base, w)]);
		if (!(e & FIB_ENTRY_PLY))
			break;
		need--;
		tbl = ply_ptr(ar, e);
		base += w;
		w = ar->bits;
	}
	return need;
}

/* ---- add / delete / get, both families ---- */

static int
fib_check(const struct fib *fib, uint32_t ctx, unsigned fam, const uint8_t *a, unsigned len)
{
	if (fib == NULL || a == NULL || ctx >= fib->max_contexts)
		return -EINVAL;
	if (len > (fam == FAM4 ? 32u : 128u))
		return -EINVAL;
	if (!pfx_host_bits_clear(a, len, fam == FAM4 ? 4 : 16))
		return -EINVAL;
	return 0;
}

static void
ctx_put_if_empty(struct fib_priv *p, uint32_t ctx)
{
	struct fib_ctx *c = p->ctx[ctx];

	if (c != NULL && c->rib[FAM4].n == 0 && c->rib[FAM6].n == 0) {
		rib_free(p, &c->rib[FAM4], FAM4);
		rib_free(p, &c->rib[FAM6], FAM6);
		free(c);
		p->rib_bytes -= sizeof(*c);
		p->ctx[ctx] = NULL;
	}
}

static int
route_add(struct fib *fib, uint32_t ctx, unsigned fam, const uint8_t *a, unsigned len,
	  uint32_t nh)
{
	struct fib_priv *p;
	struct fib_ctx *c;
	uint32_t **rootp, *root;
	uint64_t h;
	int64_t i;
	int rc;

	rc = fib_check(fib, ctx, fam, a, len);
	if (rc < 0)
		return rc;
	if (nh == FIB_NH_NONE || nh > FIB_NH_MAX)
		return -EINVAL;
	p = fib_priv(fib);
	rootp = fib_roots(fib, fam);
	h = rib_hash(fam, a, len);

	c = p->ctx[ctx];
	if (c != NULL) {
		i = rib_find(&c->rib[fam], fam, a, len, h);
		if (i >= 0 && (rib_meta(&c->rib[fam], fam, (uint32_t)i) & FIB_NH_MAX) == nh)
			return 0;
	} else {
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return -ENOMEM;
		p->rib_bytes += sizeof(*c);
		p->ctx[ctx] = c;
		i = -1;
	}

	/* Acquire everything that can fail before the first visible change. */
	if (i < 0) {
		if (!ply_avail(&p->ar[fam], trie_need(&p->ar[fam], rootp[ctx], a, len)))
			rc = -ENOMEM;
		else
			rc = rib_reserve(p, &c->rib[fam], fam);
		if (rc < 0) {
			ctx_put_if_empty(p, ctx);
			return rc;
		}
	}
	root = rootp[ctx];
	if (root == p->empty_root) {
		/* Fresh anonymous pages are zero: the new root is equivalent to the empty
		 * one until the route below is written, so it can be published at once. */
		root = mmap(NULL, FIB_ROOT_BYTES, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (root == MAP_FAILED) {
			ctx_put_if_empty(p, ctx);
			return -ENOMEM;
		}
		__atomic_store_n(&rootp[ctx], root, __ATOMIC_RELEASE);
		p->roots[fam]++;
	}

	trie_add(&p->ar[fam], root, 0, FIB_ROOT_BITS, a, len, leaf_make(nh, len));

	if (i >= 0) {
		rib_slot_set(&c->rib[fam], fam, (uint32_t)i, a, meta_make(nh, len));
	} else {
		rib_put(&c->rib[fam], fam, a, meta_make(nh, len), h);
		if (ctx_lencnt(c, fam)[len]++ == 0)
			c->lenmap[fam][len / 64] |= 1ull << (len % 64);
		p->routes[fam]++;
	}
	return 0;
}

static int
route_del(struct fib *fib, uint32_t ctx, unsigned fam, const uint8_t *a, unsigned len)
{
	struct fib_priv *p;
	struct fib_ctx *c;
	uint32_t **rootp, *root, cover;
	int64_t i;
	int rc;

	rc = fib_check(fib, ctx, fam, a, len);
	if (rc < 0)
		return rc;
	p = fib_priv(fib);
	c = p->ctx[ctx];
	if (c == NULL)
		return -ENOENT;
	i = rib_find(&c->rib[fam], fam, a, len, rib_hash(fam, a, len));
	if (i < 0)
		return -ENOENT;
	/* At most one ply per level on the path, plus the root, can be unlinked. */
	rc = defer_reserve(p, depth_levels(len, p->ar[fam].bits) + 1);
	if (rc < 0)
		return rc;

	cover = rib_cover(c, fam, a, len);
	rootp = fib_roots(fib, fam);
	root = rootp[ctx];
	trie_del(fib, &p->ar[fam], root, 0, FIB_ROOT_BITS, a, len, cover);

	rib_erase(p, &c->rib[fam], fam, (uint32_t)i);
	if (--ctx_lencnt(c, fam)[len] == 0)
		c->lenmap[fam][len / 64] &= ~(1ull << (len % 64));
	p->routes[fam]--;
	if (c->rib[fam].n == 0) {
		/* The last route is gone, so the root is all zero again (top comment):
		 * hand the context back to the shared empty root. */
		__atomic_store_n(&rootp[ctx], p->empty_root, __ATOMIC_RELEASE);
		p->roots[fam]--;
		defer_root(p, root);
	}
	ctx_put_if_empty(p, ctx);
	defer_close(fib);
	return 0;
}

static int
route_get(const struct fib *fib, uint32_t ctx, unsigned fam, const uint8_t *a, unsigned len,
	  uint32_t *nh)
{
	const struct fib_ctx *c;
	int64_t i;
	int rc;

	rc = fib_check(fib, ctx, fam, a, len);
	if (rc < 0)
		return rc;
	c = fib_priv(fib)->ctx[ctx];
	if (c == NULL)
		return -ENOENT;
	i = rib_find(&c->rib[fam], fam, a, len, rib_hash(fam, a, len));
	if (i < 0)
		return -ENOENT;
	if (nh != NULL)
		*nh = rib_meta(&c->rib[fam], fam, (uint32_t)i) & FIB_NH_MAX;
	return 0;
}

int
fib4_add(struct fib *fib, uint32_t ctx, uint32_t prefix, uint8_t depth, uint32_t nh)
{
	uint8_t a[16];

	pfx4_bytes(prefix, a);
	return route_add(fib, ctx, FAM4, a, depth, nh);
}

int
fib4_del(struct fib *fib, uint32_t ctx, uint32_t prefix, uint8_t depth)
{
	uint8_t a[16];

	pfx4_bytes(prefix, a);
	return route_del(fib, ctx, FAM4, a, depth);
}

int
fib6_add(struct fib *fib, uint32_t ctx, const uint8_t prefix[16], uint8_t depth, uint32_t nh)
{
	return route_add(fib, ctx, FAM6, prefix, depth, nh);
}

int
fib6_del(struct fib *fib, uint32_t ctx, const uint8_t prefix[16], uint8_t depth)
{
	return route_del(fib, ctx, FAM6, prefix, depth);
}

int
fib4_get(const struct fib *fib, uint32_t ctx, uint32_t prefix, uint8_t depth, uint32_t *nh)
{
	uint8_t a[16];

	pfx4_bytes(prefix, a);
	return route_get(fib, ctx, FAM4, a, depth, nh);
}

int
fib6_get(const struct fib *fib, uint32_t ctx, const uint8_t prefix[16], uint8_t depth,
	 uint32_t *nh)
{
	return route_get(fib, ctx, FAM6, prefix, depth, nh);
}

int
fib_ctx_flush(struct fib *fib, uint32_t ctx)
{
	struct fib_priv *p;
	struct fib_ctx *c;
	uint32_t **rootp, *root;
	uint64_t n = 0;
	unsigned fam;
	int rc;

	if (fib == NULL || ctx >= fib->max_contexts)
		return -EINVAL;
	p = fib_priv(fib);
	c = p->ctx[ctx];
	if (c == NULL)
		return 0;
	for (fam = 0; fam < FAM_N; fam++) {
		root = fib_roots(fib, fam)[ctx];
		if (root != p->empty_root)
			n += 1 + trie_count(&p->ar[fam], root, FIB_ROOT_ENTRIES);
	}
	rc = defer_reserve(p, n);
	if (rc < 0)
		return rc;
	for (fam = 0; fam < FAM_N; fam++) {
		rootp = fib_roots(fib, fam);
		root = rootp[ctx];
		if (root != p->empty_root) {
			/* Unlink the whole trie at once; readers inside it finish on the old
			 * copy, which is freed after the grace period. */
			__atomic_store_n(&rootp[ctx], p->empty_root, __ATOMIC_RELEASE);
			p->roots[fam]--;
			trie_defer_all(fib, &p->ar[fam], root, FIB_ROOT_ENTRIES);
			defer_root(p, root);
		}
		p->routes[fam] -= c->rib[fam].n;
		c->rib[fam].n = 0;
	}
	ctx_put_if_empty(p, ctx);
	defer_close(fib);
	return 0;
}

int
fib_walk(const struct fib *fib, uint32_t ctx, fib_walk_cb cb, void *arg)
{
	static const int family[FAM_N] = { 4, 6 };
	const struct fib_ctx *c;
	const struct rib_tbl *t;
	uint8_t a[16];
	unsigned fam;
	uint32_t i, meta;
	int rc;

	if (fib == NULL || cb == NULL || ctx >= fib->max_contexts)
		return -EINVAL;
	c = fib_priv(fib)->ctx[ctx];
	if (c == NULL)
		return 0;
	for (fam = 0; fam < FAM_N; fam++) {
		t = &c->rib[fam];
		for (i = 0; t->slot != NULL && i <= t->mask; i++) {
			meta = rib_meta(t, fam, i);
			if (meta == 0)
				continue;
			rib_slot_key(t, fam, i, a);
			rc = cb(arg, family[fam], a, (uint8_t)meta_len(meta), meta & FIB_NH_MAX);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

void
fib_reclaim(struct fib *fib)
{
	if (fib == NULL || fib_priv(fib)->qsbr == NULL)
		return;
	defer_close(fib);
	defer_reclaim(fib);
}

void
fib_get_stats(const struct fib *fib, struct fib_stats *st)
{
	const struct fib_priv *p;

	memset(st, 0, sizeof(*st));
	if (fib == NULL)
		return;
	p = fib_priv(fib);
	st->routes4 = p->routes[FAM4];
	st->routes6 = p->routes[FAM6];
	st->plies4 = ply_held(&p->ar[FAM4]);
	st->plies6 = ply_held(&p->ar[FAM6]);
	st->roots4 = p->roots[FAM4];
	st->roots6 = p->roots[FAM6];
	st->bytes = sizeof(*fib) + sizeof(*p) +
		    (uint64_t)fib->max_contexts * (2 * sizeof(uint32_t *) + sizeof(p->ctx[0])) +
		    (p->roots[FAM4] + p->roots[FAM6] + p->roots_queued) * FIB_ROOT_BYTES +
		    (st->plies4 << (p->ar[FAM4].bits + 2)) + st->plies6 * FIB_PLY6_BYTES +
		    p->rib_bytes +
		    p->defer_bytes;
}

/* ---- create / destroy ---- */

static void
arena_init(struct fib_arena *ar, unsigned fam, unsigned bits, uint64_t max_plies)
{
	ar->fam = fam;
	ar->bits = bits;
	ar->entries = 1u << bits;
	ar->max_plies = max_plies;
	ar->next = 1; /* ply 0 is never handed out: a zero entry always means no route */
}

static int
arena_map(struct fib_arena *ar)
{
	size_t len = (size_t)ar->max_plies << (ar->bits + 2);
	void *m;

	/* Address space only: pages are committed when a ply is first written, and ply
	 * indices never move, so readers need no arena pointer reload. */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	ar->base = m;
	/* Lookups walk several plies: huge pages keep those walks out of the TLB. */
	(void)madvise(m, len, MADV_HUGEPAGE);
	return 0;
}

static void
defer_queue_create(struct fib *fib, struct rte_rcu_qsbr *v)
{
	static uint32_t seq;
	struct fib_priv *p = fib_priv(fib);
	struct rte_rcu_qsbr_dq_parameters prm;
	char name[RTE_RCU_QSBR_DQ_NAMESIZE];

	p->qsbr = v;
	snprintf(name, sizeof(name), "pffib%u", __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	memset(&prm, 0, sizeof(prm));
	prm.name = name;
	prm.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE;   /* one writer thread (fib.h) */
	prm.size = FIB_DQ_SIZE;
	prm.esize = sizeof(struct fib_batch *);
	prm.trigger_reclaim_limit = 0;           /* every enqueue reclaims what is due */
	prm.max_reclaim_size = FIB_DQ_RECLAIM;
	prm.free_fn = dq_free_cb;
	prm.p = fib;
	prm.v = v;
	/* The defer queue lives on the EAL heap. Without EAL (unit tests, offline tools)
	 * the same token protocol runs on a private FIFO instead: identical guarantees. */
	p->dq = rte_rcu_qsbr_dq_create(&prm);
}

void
fib_destroy(struct fib *fib)
{
	struct fib_priv *p;
	uint32_t c, *r;

	if (fib == NULL)
		return;
	p = fib_priv(fib);
	/* The caller guarantees no reader uses the FIB any more, so everything queued can
	 * go now. The DQ reclaims what it can and is freed; it refuses (and its small ring
	 * stays allocated) only while a registered reader is still online, which breaks
	 * that guarantee, so nothing below waits for one. */
	if (p->dq != NULL)
		(void)rte_rcu_qsbr_dq_delete(p->dq);
	while (p->head != NULL)
		batch_release(fib, p->head);
	if (p->cur != NULL) {
		while (p->cur->n > 0)
			item_release(fib, p->cur->item[--p->cur->n]);
		batch_free(p, p->cur);
	}
	for (c = 0; c < fib->max_contexts; c++) {
		r = fib->root4 != NULL ? fib->root4[c] : NULL;
		if (r != NULL && r != p->empty_root)
			munmap(r, FIB_ROOT_BYTES);
		r = fib->root6 != NULL ? fib->root6[c] : NULL;
		if (r != NULL && r != p->empty_root)
			munmap(r, FIB_ROOT_BYTES);
		if (p->ctx != NULL && p->ctx[c] != NULL) {
			free(p->ctx[c]->rib[FAM4].slot);
			free(p->ctx[c]->rib[FAM6].slot);
			free(p->ctx[c]);
		}
	}
	if (fib->plies4 != NULL)
		munmap(fib->plies4, (size_t)p->ar[FAM4].max_plies << (p->ar[FAM4].bits + 2));
	if (fib->plies6 != NULL)
		munmap(fib->plies6, (size_t)p->ar[FAM6].max_plies << (p->ar[FAM6].bits + 2));
	if (p->empty_root != NULL)
		munmap(p->empty_root, FIB_ROOT_BYTES);
	free(p->ctx);
	free(fib->root4);
	free(fib->root6);
	free(p);
	free(fib);
}

struct fib *
fib_create(const struct fib_conf *conf)
{
	struct fib *fib;
	struct fib_priv *p;
	unsigned bits4;
	void *m;
	uint32_t c;

	if (conf == NULL) {
		errno = EINVAL;
		return NULL;
	}
	bits4 = conf->ply4_bits ? conf->ply4_bits : FIB_PLY4_BITS_DEFAULT;
	/* The arena limits follow the width: the lookups' offsets are 32-bit (fib.h). */
	if (conf->max_contexts == 0 || (bits4 != 8 && bits4 != 4) ||
	    conf->max_plies4 > FIB_MAX_PLIES4_LIMIT(bits4) ||
	    conf->max_plies6 > FIB_MAX_PLIES6_LIMIT ||
	    conf->max_plies4 == 1 || conf->max_plies6 == 1) {   /* ply 0 is never used */
		errno = EINVAL;
		return NULL;
	}
	fib = calloc(1, sizeof(*fib));
	p = calloc(1, sizeof(*p));
	if (fib == NULL || p == NULL) {
		free(fib);
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	fib->priv = p;
	fib->max_contexts = conf->max_contexts;
	fib->ply4_bits = bits4;
	arena_init(&p->ar[FAM4], FAM4, bits4,
		   conf->max_plies4 ? conf->max_plies4 : FIB_MAX_PLIES4_DEFAULT(bits4));
	arena_init(&p->ar[FAM6], FAM6, FIB_PLY6_BITS,
		   conf->max_plies6 ? conf->max_plies6 : FIB_MAX_PLIES6_DEFAULT);

	fib->root4 = calloc(conf->max_contexts, sizeof(fib->root4[0]));
	fib->root6 = calloc(conf->max_contexts, sizeof(fib->root6[0]));
	p->ctx = calloc(conf->max_contexts, sizeof(p->ctx[0]));
	if (fib->root4 == NULL || fib->root6 == NULL || p->ctx == NULL)
		goto fail;

	/* Never written: every page of it stays the kernel's shared zero page. */
	m = mmap(NULL, FIB_ROOT_BYTES, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		goto fail;
	p->empty_root = m;
	for (c = 0; c < conf->max_contexts; c++) {
		fib->root4[c] = p->empty_root;
		fib->root6[c] = p->empty_root;
	}

	if (arena_map(&p->ar[FAM4]) < 0)
		goto fail;
	fib->plies4 = p->ar[FAM4].base;
	if (arena_map(&p->ar[FAM6]) < 0)
		goto fail;
	fib->plies6 = p->ar[FAM6].base;

	if (conf->qsbr != NULL)
		defer_queue_create(fib, conf->qsbr);
	return fib;
fail:
	fib_destroy(fib);
	errno = ENOMEM;
	return NULL;
}

/* ---- bulk lookups ---- */

/*
 * Groups of up to 32 lookups advance one trie level at a time: each level is one loop
 * over the lookups still inside a ply (a bit mask), whose loads do not depend on each
 * other, so the CPU overlaps their cache misses (about one memory latency per level for
 * the group instead of one per lookup and level). An explicit prefetch pass per level was
 * measured to cost 2.5x the instructions (79 against 31 per /24 lookup, bench/RESULTS.md)
 * for no measurable gain with out-of-order cores.
 */
#define FIB_BULK_GROUP 32
_Static_assert(FIB_ENTRY_PLY == 1u << 31, "the bulk lookups test the ply flag as bit 31");

/* One IPv4 trie level below the root for the lookups in pend: key bits
 * (ip >> shift) & (2^bits - 1) of each (a byte for 8-bit plies: one movzbl), through the
 * ply its entry names. Returns the lookups that are still in a ply. */
static inline __attribute__((always_inline)) uint32_t
bulk4_level(const uint32_t *plies, const uint32_t *a, uint32_t *e, uint32_t pend,
	    const unsigned bits, const unsigned shift, const bool last)
{
	uint64_t next = 0;

	/* 64-bit mask and ctz: the index needs no extension before addressing. */
	for (uint64_t mm = pend; mm != 0; mm &= mm - 1) {
		size_t i = (size_t)__builtin_ctzll(mm);

		/* 32-bit offset: the shift drops the ply flag (FIB_MAX_PLIES4_LIMIT). */
		e[i] = __atomic_load_n(&plies[e[i] << bits | ((a[i] >> shift) & ((1u << bits) - 1))],
				       __ATOMIC_ACQUIRE);
		if (!last)
			next |= (uint64_t)(e[i] >> 31) << i;
	}
	return (uint32_t)next;
}

/* fib4_lookup_bulk for one ply width, a constant once inlined: 8 bits is two explicit
 * levels (16..23, then 24..31, whose entries are always leaves: a /32 ends there), 4 bits
 * four (16..19, 20..23, 24..27, 28..31). */
static inline __attribute__((always_inline)) void
bulk4(const struct fib *fib, const uint32_t *ctx, const uint32_t *ip, uint32_t *nh, unsigned n,
      const unsigned bits)
{
	/* Set at creation, never written after: loaded once, not after every acquire. */
	uint32_t *const *roots = fib->root4;
	const uint32_t *plies = fib->plies4;

	for (unsigned b = 0; b < n; b += FIB_BULK_GROUP) {
		unsigned m = RTE_MIN(n - b, (unsigned)FIB_BULK_GROUP);
		const uint32_t *a = ip + b, *cx = ctx + b;
		uint32_t *e = nh + b;
		uint32_t pend = 0;

		/* Downwards, so bit i of the mask is one shift and add per lookup. */
		for (ptrdiff_t i = (ptrdiff_t)m - 1; i >= 0; i--) {
			const uint32_t *root = __atomic_load_n(&roots[cx[i]], __ATOMIC_ACQUIRE);

			e[i] = __atomic_load_n(&root[a[i] >> FIB_ROOT_BITS], __ATOMIC_ACQUIRE);
			pend = pend * 2 + (e[i] >> 31);
		}
		if (bits == 8) {
			if (pend != 0)
				pend = bulk4_level(plies, a, e, pend, 8, 8, false);
			if (pend != 0)
				bulk4_level(plies, a, e, pend, 8, 0, true);
		} else {
			if (pend != 0)
				pend = bulk4_level(plies, a, e, pend, 4, 12, false);
			if (pend != 0)
				pend = bulk4_level(plies, a, e, pend, 4, 8, false);
			if (pend != 0)
				pend = bulk4_level(plies, a, e, pend, 4, 4, false);
			if (pend != 0)
				bulk4_level(plies, a, e, pend, 4, 0, true);
		}
		for (unsigned i = 0; i < m; i++)
			e[i] &= FIB_ENTRY_NH_MASK;
	}
}

void
fib4_lookup_bulk(const struct fib *fib, const uint32_t *ctx, const uint32_t *ip, uint32_t *nh,
		 unsigned n)
{
	_Static_assert(FIB_ROOT_BITS + 2 * 8 == 32 && FIB_ROOT_BITS + 4 * 4 == 32,
		       "IPv4: two 8-bit or four 4-bit ply levels below the root");
	/* One branch per call on the width, then a loop specialised for it. */
	if (__builtin_expect(fib->ply4_bits == 8, 1))
		bulk4(fib, ctx, ip, nh, n, 8);
	else
		bulk4(fib, ctx, ip, nh, n, 4);
}

void
fib6_lookup_bulk(const struct fib *fib, const uint32_t *ctx, const uint8_t (*ip)[16],
		 uint32_t *nh, unsigned n)
{
	uint32_t *const *roots = fib->root6;   /* as in fib4_lookup_bulk */
	const uint32_t *plies = fib->plies6;

	for (unsigned b = 0; b < n; b += FIB_BULK_GROUP) {
		unsigned m = RTE_MIN(n - b, (unsigned)FIB_BULK_GROUP), bit = FIB_ROOT_BITS;
		const uint8_t(*a)[16] = ip + b;
		const uint32_t *cx = ctx + b;
		uint32_t *e = nh + b;
		uint32_t pend = 0;

		for (ptrdiff_t i = (ptrdiff_t)m - 1; i >= 0; i--) {
			const uint32_t *root = __atomic_load_n(&roots[cx[i]], __ATOMIC_ACQUIRE);

			e[i] = __atomic_load_n(&root[(uint32_t)a[i][0] << 8 | a[i][1]],
					       __ATOMIC_ACQUIRE);
			pend = pend * 2 + (e[i] >> 31);
		}
		while (pend != 0) {
			unsigned byte = bit >> 3, sh = 4 - (bit & 7);
			uint64_t next = 0;

			for (uint64_t mm = pend; mm != 0; mm &= mm - 1) {
				size_t i = (size_t)__builtin_ctzll(mm);
				unsigned nib = (a[i][byte] >> sh) & (FIB_PLY6_ENTRIES - 1);

				/* 32-bit offset: the shift drops the ply flag (FIB_MAX_PLIES6_LIMIT). */
				e[i] = __atomic_load_n(&plies[e[i] << FIB_PLY6_BITS | nib],
						       __ATOMIC_ACQUIRE);
				next |= (uint64_t)(e[i] >> 31) << i;
			}
			bit += FIB_PLY6_BITS;
			pend = (uint32_t)next;
		}
		for (unsigned i = 0; i < m; i++)
			e[i] &= FIB_ENTRY_NH_MASK;
	}
}
