/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tables a worker reads. Control compiles them from the configuration before the
 * workers start and is their only writer afterwards.
 *   dataplane: ro everything, except it never writes anything here at all;
 *   control:   rw (neighbor MACs with single atomic 64-bit stores, FIB through fib.h).
 */
#ifndef PEERFWD_TABLES_H
#define PEERFWD_TABLES_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "common/fib.h"

#define PF_MAX_PORTS 32
#define PF_CTX_NONE 0xffffu
#define PF_CTX_CORE 0u  /* plain IP on core ports; customer contexts start at 1 */
/* Next hops and neighbors live in arrays reserved once at these capacities (virtual
 * memory, committed as used): control appends while workers read, nothing moves. */
#define PF_MAX_NH (1u << 20)
#define PF_MAX_NEIGH (1u << 16)

enum pf_nh_type {
	PF_NH_NONE = 0, /* index 0: the FIB's "no route" */
	PF_NH_LOCAL,    /* one of our addresses: ARP/ND/ICMP echo/GRE termination */
	PF_NH_EDGE,     /* toward a customer router: push the context's tags */
	PF_NH_CORE,     /* plain toward the core */
	PF_NH_GRE,      /* encapsulate with the customer's key toward the cloud */
	PF_NH_DROP,     /* blackhole route */
	PF_NH_ECMP,     /* equal-cost group: one member chosen per flow */
};

#define PF_ECMP_MAX 8

struct pf_sa;
struct pf_esp_tables;

/* Ethernet overhead of the tags a context's frames carry. */
struct pf_tags {
	uint8_t n;            /* 0, 1 (802.1Q) or 2 (QinQ) */
	rte_be16_t tpid[2];   /* outer first, network order */
	rte_be16_t tci[2];
};

/* nh->fast: the fast path may forward to this next hop a packet arriving on ... */
#define PF_NH_FAST_FROM_EDGE 0x1 /* ... an edge port (EDGE, CORE and GRE next hops) */
#define PF_NH_FAST_FROM_CORE 0x2 /* ... a core port (EDGE only: no hairpin to the core) */
/* Header bytes after the neighbor's MAC: GRE 36 (MAC, EtherType, IPv4, GRE with key;
 * GRE next hops are untagged), EDGE/CORE at most 16 (MAC, two tags, EtherType). */
#define PF_NH_HDR_MAX 36
/* A GRE next hop's hlen and proto_off, the same for all (untagged Ethernet 14, IPv4 20,
 * GRE with key 8; the GRE protocol type at 14 + 20 + 2), so the fast path uses them as
 * constants. */
#define PF_NH_GRE_HLEN 42
#define PF_NH_GRE_PROTO_OFF 36

struct pf_nexthop {
	/* First cache line: everything forwarding reads per packet. */
	uint8_t type;         /* enum pf_nh_type */
	uint8_t family;       /* of the neighbor: 4 or 6 */
	uint16_t port;        /* egress DPDK port */
	uint16_t mtu;         /* largest IP packet that may leave (GRE: inner packet) */
	uint16_t ctx;         /* EDGE: egress context (tags, counters); GRE: customer's ctx */
	uint32_t neigh;       /* neighbor index, for the destination MAC */
	uint32_t customer;    /* customer index, for billing counters */
	uint8_t esp;          /* GRE: the customer has IPsec, the GRE packet goes into ESP */
	/* Filled by pf_nh_prepare() from the fields above and below: */
	uint8_t fast;         /* PF_NH_FAST_* */
	uint8_t hlen;         /* bytes written in front of the IP packet (0: not a forwarding nh) */
	uint8_t proto_off;    /* offset of the 16-bit field naming the inner IP version:
			       * the EtherType, or for GRE the GRE protocol type */
	uint16_t hsum;        /* GRE: folded ones' complement sum of the outer IPv4 header's
			       * constant words, as stored in memory (output.h) */
	uint8_t hdr[PF_NH_HDR_MAX]; /* header bytes 6..hlen-1 for an IPv4 packet; the outer
			       * IPv4 header's TOS, length, ID, DF and checksum are zero */
	/* Second cache line: the parameters, for the general path and control. */
	rte_be32_t gre_key;
	rte_be32_t tun_src, tun_dst;
	struct pf_tags tags;
	uint8_t n_ecmp;          /* ECMP: members (next-hop indices, never ECMP themselves) */
	uint32_t ecmp[PF_ECMP_MAX];
} __rte_cache_aligned;

/* Complete a next hop whose type, port, tags, GRE and ESP fields are set: its header
 * template, fast-path flags and checksum constant. src: the egress port's MAC. Control
 * calls it on every next hop before publishing it. 0, or -EINVAL for a combination the
 * header writer cannot produce (tags on a GRE next hop). */
int pf_nh_prepare(struct pf_nexthop *nh, const struct rte_ether_addr *src);

/* A neighbor's MAC lives in one 64-bit word so that control updates it atomically:
 * bits 0..47 MAC (byte 0 in the low byte), bit 63 valid. */
#define PF_NEIGH_VALID (1ull << 63)

struct pf_neigh {
	uint8_t family;
	uint8_t is_static;    /* configured MAC: learning never overrides it */
	uint16_t port;
	uint16_t ctx;
	struct pf_tags tags;  /* to send ARP requests / solicitations on the right VLAN */
	uint8_t ip[16];       /* neighbor address (IPv4 in ip[0..3]) */
	uint8_t src_ip[16];   /* our address on that link */
};

enum pf_ctx_kind_dp { PF_KIND_CORE, PF_KIND_PRIVATE, PF_KIND_MICROSOFT, PF_KIND_PUBLIC };

/* The kind's name as the configuration spells it (stats, telemetry, peerctl). */
static inline const char *
pf_kind_dp_name(uint8_t k)
{
	switch (k) {
	case PF_KIND_CORE: return "core";
	case PF_KIND_PRIVATE: return "private";
	case PF_KIND_MICROSOFT: return "microsoft";
	default: return "public";
	}
}

struct pf_context {
	uint8_t kind;
	uint16_t customer;     /* customer index; 0xffff for the core context */
	rte_be32_t addr4;      /* our address for ICMP errors (primary /30 or core) */
	uint8_t addr6[16];     /* our IPv6 address, all zero if none */
	char name[64];
};

struct pf_customer {
	rte_be32_t gre_key;
	rte_be32_t tun_src, tun_dst;
	uint16_t ctx;          /* private context that decapsulated traffic is routed in */
	uint8_t ipsec;         /* GRE only inside ESP (dataplane/esp.h) */
	struct pf_sa *sa_out;  /* ipsec: active outbound SA; control swaps it atomically */
	char name[64];
};

/* (port, tags) -> context. Single tags index a per-port array; QinQ pairs an
 * open-addressing table (read-only after build). */
struct pf_qinq_slot {
	uint32_t key;          /* 1<<31 | port<<24 | s<<12 | c ; 0 = empty */
	uint16_t ctx;
};

/* GRE key -> customer, open addressing, read-only after build. */
struct pf_gre_slot {
	uint32_t key;
	uint16_t customer;     /* 0xffff = empty */
};

struct pf_port {
	uint8_t is_core;
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint16_t *vlan_ctx;    /* [4096], PF_CTX_NONE when unused */
	char name[64];
};

struct pf_tables {
	struct fib *fib;
	struct pf_nexthop *nh;       /* [n_nh] */
	uint32_t n_nh;
	struct pf_neigh *neigh;      /* [n_neigh] */
	uint64_t *neigh_mac;         /* [n_neigh], see PF_NEIGH_VALID */
	uint32_t n_neigh;
	struct pf_context *ctx;      /* [n_ctx] */
	uint32_t n_ctx;
	struct pf_customer *cust;    /* [n_cust] */
	uint32_t n_cust;
	struct pf_port port[PF_MAX_PORTS];
	uint16_t n_ports;
	struct pf_qinq_slot *qinq;   /* [qinq_mask + 1] */
	uint32_t qinq_mask;
	struct pf_gre_slot *gre;     /* [gre_mask + 1] */
	uint32_t gre_mask;
	uint32_t icmp_rate_pps;
	struct pf_esp_tables *esp;   /* inbound SPI -> SA (dataplane/esp.h); NULL: no IPsec */
};

static inline uint32_t
pf_hash32(uint32_t x)
{
	/* A multiplicative mix is enough: keys are dense small integers. */
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static inline uint16_t
pf_qinq_lookup(const struct pf_tables *t, uint16_t port, uint16_t s, uint16_t c)
{
	uint32_t key = 1u << 31 | (uint32_t)port << 24 | (uint32_t)s << 12 | c;
	uint32_t i = pf_hash32(key) & t->qinq_mask;

	for (uint32_t n = 0; n <= t->qinq_mask; n++, i = (i + 1) & t->qinq_mask) {
		if (t->qinq[i].key == key)
			return t->qinq[i].ctx;
		if (t->qinq[i].key == 0)
			break;
	}
	return PF_CTX_NONE;
}

static inline uint16_t
pf_gre_lookup(const struct pf_tables *t, uint32_t key)
{
	uint32_t i = pf_hash32(key) & t->gre_mask;

	for (uint32_t n = 0; n <= t->gre_mask; n++, i = (i + 1) & t->gre_mask) {
		if (t->gre[i].customer == 0xffff)
			break;
		if (t->gre[i].key == key)
			return t->gre[i].customer;
	}
	return 0xffff;
}

#endif
