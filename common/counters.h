/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every counter peerfwd keeps, defined once. Workers own one cache-aligned copy each and
 * write it without atomics (dataplane: rw on its own copy; control: ro, sums on read).
 * Readers may see a value a burst old, never a torn 64-bit value on x86-64.
 */
#ifndef PEERFWD_COUNTERS_H
#define PEERFWD_COUNTERS_H

#include <stdint.h>

/* Drop reasons: name, description. One counter each; the JSON key is the name. */
#define PF_DROP_REASONS(X)                                                                 \
	X(runt, "frame shorter than its headers")                                          \
	X(rx_oversize, "frame longer than the port MTU or segmented")                     \
	X(l2_not_ours, "unicast frame for another MAC address")                           \
	X(untagged, "frame without an 802.1Q tag on an edge port")                         \
	X(unknown_vlan, "no peering context for (port, tags)")                             \
	X(bad_ethertype, "unsupported EtherType")                                          \
	X(ip4_bad_version, "IPv4 version field is not 4")                                  \
	X(ip4_bad_ihl, "IPv4 header length below 20 bytes or beyond the frame")            \
	X(ip4_bad_len, "IPv4 total length below the header or beyond the frame")           \
	X(ip4_bad_cksum, "IPv4 header checksum wrong")                                     \
	X(ip4_bad_src, "IPv4 source is martian (RFC 1812 5.3.7)")                          \
	X(ip6_bad_version, "IPv6 version field is not 6")                                  \
	X(ip6_bad_src, "IPv6 source unspecified, loopback or multicast (RFC 4291)")      \
	X(ip6_bad_len, "IPv6 payload length beyond the frame")                             \
	X(ttl_expired, "TTL or hop limit expired (ICMP sent when rate allows)")           \
	X(no_route, "no route in the context's FIB")                                       \
	X(blackhole, "route to a drop next hop")                                           \
	X(neigh_unresolved, "next-hop MAC not resolved yet (ARP/ND sent)")                 \
	X(frag_needed, "too big with DF set or IPv6 (ICMP sent when rate allows)")         \
	X(frag_failed, "fragmentation failed (no buffers or options)")                     \
	X(icmp_rate_limited, "ICMP error suppressed by the rate limit")                    \
	X(gre_bad_endpoint, "GRE from/to an address that is not a configured tunnel")     \
	X(gre_unknown_key, "GRE key of no customer, or key missing")                       \
	X(gre_bad_header, "GRE version, flags or protocol not supported")                  \
	X(gre_bad_inner, "GRE inner packet malformed")                                     \
	X(frag_for_us, "fragment addressed to us (no reassembly)")                         \
	X(not_for_us, "addressed to our MAC/IP but not a supported protocol")             \
	X(arp_bad, "malformed or foreign ARP")                                             \
	X(nd_bad, "malformed neighbor discovery")                                          \
	X(icmp_unhandled, "ICMP to our address that is not an echo request")              \
	X(ip_options, "IPv4 options on a packet we must originate an answer for")         \
	X(no_mbuf, "mbuf pool empty while building a packet")                              \
	X(tx_full, "TX queue refused the packet")                                          \
	X(punt_full, "control ring full")                                                  \
	X(wrong_dir, "traffic arrived on a port whose role does not accept it")              \
	X(esp_unknown_spi, "ESP with an SPI of no inbound SA")                               \
	X(esp_bad_icv, "ESP integrity check (ICV) failed")                                 \
	X(esp_replay, "ESP sequence number already seen (inside the replay window)")       \
	X(esp_too_old, "ESP sequence number left of the replay window")                    \
	X(esp_truncated, "ESP packet shorter than its headers, IV and ICV")                \
	X(esp_bad_padding, "ESP padding bytes not 1, 2, 3, ... (RFC 4303 2.4)")           \
	X(esp_bad_next_header, "ESP next header is not IPv4 carrying GRE")                \
	X(esp_dummy, "ESP dummy packet, next header 59 (RFC 4303 2.6)")                   \
	X(esp_bad_tunnel, "ESP outer source/destination are not the SA's tunnel")         \
	X(esp_sa_expired, "SA hard lifetime (bytes or packets) reached")                   \
	X(esp_seq_exhausted, "outbound SA without ESN reached sequence number 2^32-1")     \
	X(esp_no_sa, "customer with IPsec has no outbound SA")                             \
	X(esp_wrong_customer, "GRE key of another customer than the ESP SA's")            \
	X(gre_plain_on_ipsec, "unencrypted GRE with the key of a customer that has IPsec") \
	X(crypto_fail, "crypto device error")                                              \
	X(crypto_full, "crypto device queue full")

enum pf_drop {
#define X(n, d) PF_DROP_##n,
	PF_DROP_REASONS(X)
#undef X
	PF_DROP_MAX
};

/* Non-drop events, counted per worker. */
#define PF_EVENTS(X)                                                                       \
	X(arp_reply_sent, "ARP replies for our addresses")                                \
	X(arp_request_sent, "ARP requests for unresolved next hops")                      \
	X(arp_learned, "ARP replies/requests handed to control for the neighbor table")  \
	X(nd_na_sent, "neighbor advertisements for our addresses")                        \
	X(nd_ns_sent, "neighbor solicitations for unresolved next hops")                  \
	X(nd_learned, "neighbor advertisements handed to control")                        \
	X(icmp_echo_reply, "ICMP/ICMPv6 echo replies sent")                               \
	X(icmp_time_exceeded, "ICMP/ICMPv6 time exceeded sent")                           \
	X(icmp_frag_needed, "ICMP frag-needed / ICMPv6 packet-too-big sent")              \
	X(fragmented, "packets fragmented")                                                \
	X(fragments_out, "fragments sent")                                                 \
	X(gre_encap, "packets GRE-encapsulated toward the cloud")                         \
	X(gre_decap, "packets GRE-decapsulated from the cloud")                           \
	X(esp_encrypted, "GRE packets ESP-encrypted toward the cloud")                    \
	X(esp_decrypted, "ESP packets decrypted and verified from the cloud")

enum pf_event {
#define X(n, d) PF_EV_##n,
	PF_EVENTS(X)
#undef X
	PF_EV_MAX
};

extern const char *const pf_drop_names[PF_DROP_MAX];
extern const char *const pf_drop_descr[PF_DROP_MAX];
extern const char *const pf_event_names[PF_EV_MAX];
extern const char *const pf_event_descr[PF_EV_MAX];

struct pf_pkt_bytes {
	uint64_t pkts;
	uint64_t bytes;
};

struct pf_port_counters {
	struct pf_pkt_bytes rx, tx;
};

struct pf_ctx_counters {
	struct pf_pkt_bytes in, out;  /* in: from the customer (edge); out: toward the customer */
};

struct pf_customer_counters {
	struct pf_pkt_bytes to_cloud, from_cloud; /* circuit billing basis */
};

#endif
