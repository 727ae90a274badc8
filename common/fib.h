/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-context longest-prefix-match FIB for IPv4 and IPv6.
 *
 * Why not rte_lpm / rte_fib per context: their DIR-24-8 first level costs 16-128 MB even
 * when empty, and an exchange edge holds thousands of peering contexts. Here every context
 * has its own multibit trie (VPP's mtrie idea) with a 2^16-entry root ply and small child
 * plies below it, the child plies of each family coming from one arena shared by every
 * context. Memory therefore grows with routes, not with contexts: a context with no route
 * of a family points at a shared read-only empty root and costs nothing for it.
 *
 * Ply widths differ per family:
 *  - IPv4: 8-bit plies (256 entries, 1 KiB) by default, so a lookup is root[ip >> 16],
 *    then at most a ply for bits 16..23 and one for bits 24..31: a /24 (60% of an
 *    Internet table and most of what the dataplane resolves) is found with 2 dependent
 *    loads, a /32 with 3. That is DIR-24-8's second level (rte_lpm's tbl8 groups are 256
 *    entries too) without its 64 MB first level per context: the /24 level exists only
 *    for the /16s that hold a route longer than /16. The price is memory per sparse
 *    route: a lone /24 in its /16 costs a 1 KiB ply where two 4-bit plies cost 128 bytes,
 *    so thousands of contexts each holding thousands of routes scattered over distinct
 *    /16s take about 5 times the memory they take with 4-bit plies (2000 x 4000 routes:
 *    8.1 GiB against 1.5 GiB); a full table in one context, where most /16s are populated
 *    anyway, about doubles (1M routes: 112 MiB against 57 MiB). Hence the width is chosen
 *    at creation (struct fib_conf.ply4_bits): 4-bit plies (16 entries, 64 bytes) for many
 *    contexts with scattered routes, at 3 loads per /24 and 5 per /32. Numbers in
 *    bench/RESULTS.md.
 *  - IPv6: 4-bit plies (16 entries, 64 bytes, one cache line). Prefixes are long and
 *    sparse (/32 allocations, /48 sites): with 8-bit plies an isolated /48 would take
 *    four 1 KiB plies instead of eight 64-byte ones, 8 times the memory (4 KiB against
 *    512 bytes) to halve its loads.
 *
 * Entries are 32 bit: bit 31 set = index of a child ply (in the arena of the family);
 * clear = leaf holding the next-hop index (low FIB_NH_BITS bits) and, in bits 23..30, the
 * length of the prefix that wrote the leaf (used by the writer to restore covering routes
 * on delete).
 *
 * Ownership: dataplane: ro (lookups, lock-free, from any number of worker lcores);
 *            control:   rw (exactly one writer thread).
 * A lookup concurrent with an update returns either the old or the new next hop, never
 * anything else: a new ply is filled completely before it is linked with a release store,
 * and an unlinked ply is only reused after every reader reported a quiescent state
 * (rte_rcu_qsbr) when a QSBR variable is configured.
 */
#ifndef PEERFWD_FIB_H
#define PEERFWD_FIB_H

#include <stddef.h>
#include <stdint.h>

struct rte_rcu_qsbr;

#define FIB_NH_BITS 23
#define FIB_NH_MAX ((1u << FIB_NH_BITS) - 1)
/* Next-hop index 0 means "no route"; lookups of an address without route return it. */
#define FIB_NH_NONE 0u

#define FIB_ROOT_BITS 16
/* IPv4 plies for bits 16..31: 8 bits (256 entries, 1 KiB; the default) or 4 (16, 64 bytes) */
#define FIB_PLY4_BITS_DEFAULT 8
#define FIB_PLY6_BITS 4               /* IPv6: 16-entry (64 byte) plies for bits 16..127 */
#define FIB_PLY6_ENTRIES (1u << FIB_PLY6_BITS)
#define FIB_ENTRY_PLY 0x80000000u
#define FIB_ENTRY_NH_MASK FIB_NH_MAX

/*
 * Ply arena limits. The lookups compute a ply entry's offset as (e << bits) | key bits in
 * 32-bit arithmetic: the shift drops the ply flag, and the offset of the last entry of
 * the last ply must fit in 32 bits, so an arena of bits-wide plies holds at most
 * 2^(32 - bits) plies, 16 GiB whatever the width (IPv4: 16M 8-bit plies or 256M 4-bit
 * ones; IPv6: 256M plies). fib_create() checks max_plies4 against the chosen width.
 */
#define FIB_MAX_PLIES_LIMIT(bits) (1ull << (32 - (bits)))
#define FIB_MAX_PLIES4_LIMIT(ply4_bits) FIB_MAX_PLIES_LIMIT(ply4_bits)
#define FIB_MAX_PLIES6_LIMIT FIB_MAX_PLIES_LIMIT(FIB_PLY6_BITS)

struct fib_conf {
	uint32_t max_contexts;  /* context ids are 0 .. max_contexts-1 */
	/* IPv4 ply width: 8 or 4 bits (top comment); 0 = FIB_PLY4_BITS_DEFAULT (8). */
	uint32_t ply4_bits;
	/* Arena reservations in plies (address space only; committed as plies are first
	 * used); 0 = default: IPv4 FIB_MAX_PLIES4_LIMIT(ply4_bits) (16 GiB), IPv6 2^26
	 * (4 GiB). */
	uint64_t max_plies4, max_plies6;
	struct rte_rcu_qsbr *qsbr; /* NULL: plies are reused immediately (no concurrent readers) */
};

/* Read-side layout; exposed only so lookups can be inlined. Writers use the functions. */
struct fib {
	uint32_t **root4;     /* [max_contexts], each 2^16 entries */
	uint32_t **root6;
	uint32_t *plies4;     /* IPv4 arena: ply i is plies4[i << ply4_bits] */
	uint32_t *plies6;     /* IPv6 arena: ply i is plies6[i * FIB_PLY6_ENTRIES] */
	uint32_t max_contexts;
	uint32_t ply4_bits;   /* 8 or 4 */
	void *priv;           /* writer-only state */
};

struct fib_stats {
	uint64_t routes4, routes6;   /* over all contexts */
	uint64_t plies4, plies6;     /* plies held per family (also those awaiting reuse
				      * after a grace period): IPv4 1 KiB (8-bit) or 64 bytes
				      * (4-bit) each, IPv6 64 bytes each */
	uint64_t roots4, roots6;     /* contexts with a private root of that family */
	uint64_t bytes;              /* all memory held: roots, plies, writer-side RIB */
};

/* All functions return 0 or a negative errno; create returns NULL and sets errno. */
struct fib *fib_create(const struct fib_conf *conf);
void fib_destroy(struct fib *fib);

/* Add or replace a route. prefix bits beyond depth must be zero (-EINVAL otherwise).
 * nh in 1..FIB_NH_MAX. IPv4 addresses are in host byte order, IPv6 in network order. */
int fib4_add(struct fib *fib, uint32_t ctx, uint32_t prefix, uint8_t depth, uint32_t nh);
int fib4_del(struct fib *fib, uint32_t ctx, uint32_t prefix, uint8_t depth);
int fib6_add(struct fib *fib, uint32_t ctx, const uint8_t prefix[16], uint8_t depth, uint32_t nh);
int fib6_del(struct fib *fib, uint32_t ctx, const uint8_t prefix[16], uint8_t depth);
/* Exact-match query of the writer-side RIB: 0 and *nh, or -ENOENT. */
int fib4_get(const struct fib *fib, uint32_t ctx, uint32_t prefix, uint8_t depth, uint32_t *nh);
int fib6_get(const struct fib *fib, uint32_t ctx, const uint8_t prefix[16], uint8_t depth,
	     uint32_t *nh);
/* Remove every route of a context (both families). */
int fib_ctx_flush(struct fib *fib, uint32_t ctx);
/* Visit a context's routes; stop early when cb returns non-zero (which is returned). */
typedef int (*fib_walk_cb)(void *arg, int family, const uint8_t *prefix, uint8_t depth,
			   uint32_t nh);
int fib_walk(const struct fib *fib, uint32_t ctx, fib_walk_cb cb, void *arg);
/* Reclaim plies and roots whose grace period ended; the writer calls this from its loop. */
void fib_reclaim(struct fib *fib);
void fib_get_stats(const struct fib *fib, struct fib_stats *st);

/* The plies below an IPv4 root entry, for a width known at compile time. */
static inline __attribute__((always_inline)) uint32_t
fib4_walk_(const uint32_t *plies, uint32_t e, uint32_t ip, const unsigned bits)
{
	unsigned shift = 16;

	while (e & FIB_ENTRY_PLY) {
		shift -= bits;
		/* 32-bit offset: the shift drops the ply flag (FIB_MAX_PLIES4_LIMIT). */
		e = __atomic_load_n(&plies[e << bits | ((ip >> shift) & ((1u << bits) - 1))],
				    __ATOMIC_ACQUIRE);
	}
	return e;
}

static inline uint32_t
fib4_lookup(const struct fib *fib, uint32_t ctx, uint32_t ip)
{
	const uint32_t *root = __atomic_load_n(&fib->root4[ctx], __ATOMIC_ACQUIRE);
	uint32_t e = __atomic_load_n(&root[ip >> 16], __ATOMIC_ACQUIRE);

	/* One branch on the width, only for lookups that go below the root; each side is
	 * the walk of a fixed width (constant shifts and masks). */
	if (e & FIB_ENTRY_PLY) {
		if (__builtin_expect(fib->ply4_bits == 8, 1))
			e = fib4_walk_(fib->plies4, e, ip, 8);
		else
			e = fib4_walk_(fib->plies4, e, ip, 4);
	}
	return e & FIB_ENTRY_NH_MASK;
}

static inline uint32_t
fib6_lookup(const struct fib *fib, uint32_t ctx, const uint8_t ip[16])
{
	const uint32_t *root = __atomic_load_n(&fib->root6[ctx], __ATOMIC_ACQUIRE);
	uint32_t e = __atomic_load_n(&root[((uint32_t)ip[0] << 8) | ip[1]], __ATOMIC_ACQUIRE);
	unsigned bit = 16;

	while (e & FIB_ENTRY_PLY) {
		unsigned nib = (ip[bit >> 3] >> (4 - (bit & 7))) & (FIB_PLY6_ENTRIES - 1);

		bit += FIB_PLY6_BITS;
		/* 32-bit offset: the shift drops the ply flag (FIB_MAX_PLIES6_LIMIT). */
		e = __atomic_load_n(&fib->plies6[e << FIB_PLY6_BITS | nib], __ATOMIC_ACQUIRE);
	}
	return e & FIB_ENTRY_NH_MASK;
}

/* Bulk lookups: n independent lookups, interleaved so their cache misses overlap. */
void fib4_lookup_bulk(const struct fib *fib, const uint32_t *ctx, const uint32_t *ip,
		      uint32_t *nh, unsigned n);
void fib6_lookup_bulk(const struct fib *fib, const uint32_t *ctx, const uint8_t (*ip)[16],
		      uint32_t *nh, unsigned n);

#endif
