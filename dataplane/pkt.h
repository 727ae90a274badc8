/* SPDX-License-Identifier: BSD-3-Clause */
/* Small packet helpers shared by the stages. */
#ifndef PEERFWD_PKT_H
#define PEERFWD_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

/* ICMP (RFC 792) and ICMPv6 (RFC 4443) types and codes DPDK does not name. */
#define PF_ICMP_DEST_UNREACH 3
#define PF_ICMP_FRAG_NEEDED 4
#define PF_ICMP_TIME_EXCEEDED 11
#define PF_ICMP6_PACKET_TOO_BIG 2
#define PF_ICMP6_TIME_EXCEEDED 3
#define PF_ICMP6_ECHO_REQUEST 128
#define PF_ICMP6_ECHO_REPLY 129

/* Header fields at any alignment (tags and GRE shift IP headers off 4-byte boundaries). */
/* (The compiler builtins, not rte_be_to_cpu_16(): DPDK's x86 version is an asm statement
 * the optimiser cannot see through, measured at 2-3 extra instructions per use.) */
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
#define PF_BE16(x) __builtin_bswap16(x)
#define PF_BE32(x) __builtin_bswap32(x)
#define PF_BE64(x) __builtin_bswap64(x)
#else
#define PF_BE64(x) ((uint64_t)(x))
#define PF_BE16(x) ((uint16_t)(x))
#define PF_BE32(x) ((uint32_t)(x))
#endif

static inline uint16_t
pf_rd16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return PF_BE16(v);
}

static inline uint32_t
pf_rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return PF_BE32(v);
}

static inline void
pf_wr16(void *p, uint16_t host)
{
	uint16_t v = PF_BE16(host);

	memcpy(p, &v, 2);
}

static inline uint64_t
pf_mac_to_u64(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;

	memcpy(&v, mac->addr_bytes, 6);
	return v;
}

static inline void
pf_u64_to_mac(uint64_t v, struct rte_ether_addr *mac)
{
	memcpy(mac->addr_bytes, &v, 6);
}

static inline bool
pf_ip6_is_unspec(const uint8_t a[16])
{
	static const uint8_t z[16];

	return memcmp(a, z, 16) == 0;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word changing from m to m'. */
static inline rte_be16_t
pf_cksum_update16(rte_be16_t hc, rte_be16_t old, rte_be16_t new_)
{
	uint32_t s = (uint16_t)~hc + (uint16_t)~old + (uint16_t)new_;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (rte_be16_t)~s;
}

/* Decrement TTL (> 0) and patch the header checksum incrementally (RFC 1812 5.3.1). The
 * TTL/protocol word m becomes m - 0x0100, so RFC 1624 eqn. 3 reduces to
 * HC' = ~(~HC + 0xfeff). Worked out on the field as a little-endian load v (ones'
 * complement sums do not depend on byte order, RFC 1071 2(B)), where the constant reads
 * 0xfffe: for every v the result is v + 1, except that the two values whose increment
 * would carry out of 16 bits wrap around with the carry (0xfffe -> 0, 0xffff -> 1) --
 * the same bits as pf_cksum_update16() with the old and new words, in 4 instructions. */
static inline void
pf_ip4_dec_ttl(struct rte_ipv4_hdr *ip)
{
	uint16_t v;

	ip->time_to_live--;
	memcpy(&v, &ip->hdr_checksum, 2);
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	v = (uint16_t)(v + 1 + (v >= 0xfffe));
#else
	{
		uint32_t s = (uint16_t)~v + 0xfeffu;

		s = (s & 0xffff) + (s >> 16);
		v = (uint16_t)~s;
	}
#endif
	memcpy(&ip->hdr_checksum, &v, 2);
}

/*
 * 20-byte IPv4 headers (no options), the fast path's case. The ones' complement sum of
 * RFC 1071 is the plain sum of the 32-bit words reduced modulo 0xffff (2^16 = 1 mod
 * 0xffff, RFC 1071 2(B)), with 0xffff standing for a non-zero multiple of it; a modulo by
 * a constant compiles to a multiply and a shift, cheaper than folding carries.
 */
static inline uint64_t
pf_ip4_wsum20(const void *ip)
{
	const uint8_t *b = ip;
	uint32_t w0, w1, w2, w3, w4;

	memcpy(&w0, b, 4);
	memcpy(&w1, b + 4, 4);
	memcpy(&w2, b + 8, 4);
	memcpy(&w3, b + 12, 4);
	memcpy(&w4, b + 16, 4);
	return (uint64_t)w0 + w1 + w2 + w3 + w4;
}

/* The header checks out: its sum is 0xffff (-0), i.e. a multiple of 0xffff (a header
 * starting with 0x45 never sums to 0). */
static inline bool
pf_ip4_hdr20_ok(const void *ip)
{
	return pf_ip4_wsum20(ip) % 0xffff == 0;
}

/* The checksum field's value for a header whose checksum field is zero (same bits as
 * rte_ipv4_cksum()). */
static inline uint16_t
pf_ip4_cksum20(const void *ip)
{
	uint32_t r = (uint32_t)(pf_ip4_wsum20(ip) % 0xffff);

	return r == 0 ? 0 : (uint16_t)~r; /* a sum of 0xffff (folded) gives 0 */
}

/* 0 when the header (options included) checks out. */
static inline uint16_t
pf_ip4_cksum_check(const struct rte_ipv4_hdr *ip, unsigned hlen)
{
	if (hlen == sizeof(*ip))
		return pf_ip4_hdr20_ok(ip) ? 0 : 1;
	return (uint16_t)~rte_raw_cksum(ip, hlen);
}

#endif
