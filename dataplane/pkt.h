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
static inline uint16_t
pf_rd16(const void *p)
{
	rte_be16_t v;

	memcpy(&v, p, 2);
	return rte_be_to_cpu_16(v);
}

static inline uint32_t
pf_rd32(const void *p)
{
	rte_be32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

static inline void
pf_wr16(void *p, uint16_t host)
{
	rte_be16_t v = rte_cpu_to_be_16(host);

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

/* Decrement TTL and patch the header checksum incrementally (RFC 1624, RFC 1812 5.3.1). */
static inline void
pf_ip4_dec_ttl(struct rte_ipv4_hdr *ip)
{
	rte_be16_t old, new_;

	memcpy(&old, &ip->time_to_live, 2); /* TTL and protocol form one 16-bit word */
	ip->time_to_live--;
	memcpy(&new_, &ip->time_to_live, 2);
	ip->hdr_checksum = pf_cksum_update16(ip->hdr_checksum, old, new_);
}

/* 0 when the header (options included) checks out. */
static inline uint16_t
pf_ip4_cksum_check(const struct rte_ipv4_hdr *ip, unsigned hlen)
{
	return (uint16_t)~rte_raw_cksum(ip, hlen);
}

#endif
