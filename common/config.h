/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration model: what an operator writes (JSON, schema in docs/config.md) after
 * parsing and validation. Plain C data, no DPDK types, so both the control plane and the
 * tests use it. Owned by control; the dataplane never sees it (control compiles it into
 * tables).
 */
#ifndef PEERFWD_CONFIG_H
#define PEERFWD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_NAME_MAX 64

struct pf_prefix {
	int family;          /* 4 or 6 */
	uint8_t len;
	uint8_t addr[16];    /* network byte order; IPv4 uses addr[0..3] */
};

struct pf_addr {
	int family;          /* 4 or 6; 0 = unset */
	uint8_t addr[16];
};

enum pf_port_role { PF_ROLE_EDGE, PF_ROLE_CORE };

struct pf_port_conf {
	char name[PF_NAME_MAX];      /* DPDK port (device) name, e.g. net_pcap_edge0 */
	enum pf_port_role role;
	bool has_mac;
	uint8_t mac[6];              /* default: the device's MAC */
	uint16_t mtu;                /* L3 MTU, default 1500 */
	/* core ports only: our address/prefix and the default gateway toward the cloud */
	struct pf_prefix addr4, addr6; /* family 0 = unset */
	struct pf_addr gw4, gw6;
	unsigned line, col;          /* where it was defined, for later messages */
};

enum pf_ctx_kind { PF_CTX_PRIVATE, PF_CTX_MICROSOFT, PF_CTX_PUBLIC };

/* One /30 (and optional /126) peering link of a context. Our side takes the second usable
 * address, the customer router the first (seed: 172.16.1.0/30 -> customer .1, us .2). */
struct pf_link_conf {
	bool present;
	char port[PF_NAME_MAX];
	struct pf_prefix subnet4;    /* exactly /30 */
	struct pf_prefix subnet6;    /* exactly /126, optional (family 0) */
};

enum pf_via_kind {
	PF_VIA_ADDR,     /* an address: a peer in one of the context's /30s or on a core subnet */
	PF_VIA_PEER,     /* the customer router (primary link's peer, secondary as backup) */
	PF_VIA_GRE,      /* the customer's GRE tunnel toward the cloud */
	PF_VIA_CORE,     /* plain toward the core port's gateway */
	PF_VIA_DROP,     /* blackhole */
};

struct pf_route_conf {
	struct pf_prefix prefix;
	enum pf_via_kind via;
	struct pf_addr via_addr;     /* PF_VIA_ADDR only */
	unsigned line, col;
};

/* Route policy applied to routes from BGP feeds (ExaBGP, FPM) before install; the seed's
 * ExpressRoute limits are the defaults. Operator routes (config, peerctl) bypass it. */
struct pf_policy_conf {
	uint32_t max_prefixes4;      /* private 4000 (premium 10000), microsoft/public 200 */
	uint32_t max_prefixes6;      /* private 100 (premium 10000), microsoft/public 200 */
	uint8_t max_len4;            /* longest accepted IPv4 prefix, default 29 (seed: /29) */
	uint8_t max_len6;            /* default 64 */
};

struct pf_context_conf {
	char name[PF_NAME_MAX];
	enum pf_ctx_kind kind;
	bool qinq;
	uint16_t vlan;               /* single tag (qinq == false); 0 when qinq */
	uint16_t s_tag, c_tag;       /* qinq == true; 0 otherwise */
	uint16_t s_tpid;             /* outer TPID we send: 0x88a8 (default) or 0x8100;
	                              * single-tag contexts: 0x8100 (their only tag) */
	struct pf_link_conf primary, secondary;
	bool allow_default_route;    /* forced tunneling: 0.0.0.0/0 and ::/0 accepted */
	uint32_t table_id;           /* zebra VRF table feeding this context over FPM; 0 = none */
	struct pf_policy_conf policy;
	struct pf_route_conf *routes; /* static routes of this context */
	size_t n_routes;
	unsigned line, col;
};

/* IPsec (ESP tunnel mode, RFC 4303) of a customer's GRE tunnel; docs/ipsec.md. */
enum pf_esp_alg { PF_ESP_AES_GCM_128, PF_ESP_AES_GCM_256 };
#define PF_SA_KEY_MAX 36             /* AES-256 key + 4-byte salt (RFC 4106 8.1) */
#define PF_SA_WINDOW_DEFAULT 1024
#define PF_SA_WINDOW_MAX 4096

struct pf_sa_conf {
	uint32_t spi;
	bool out;                    /* direction "out" (toward the cloud) or "in" */
	enum pf_esp_alg alg;
	bool esn;                    /* 64-bit extended sequence numbers (RFC 4303 2.2.1) */
	uint32_t replay_window;      /* inbound only: anti-replay window in packets */
	uint64_t lifetime_bytes;     /* 0 = unlimited */
	uint64_t lifetime_packets;   /* 0 = unlimited */
	char key_file[4096];         /* as resolved (relative to the config file's directory) */
	uint8_t key[PF_SA_KEY_MAX];  /* key || salt; wiped by pf_config_free() */
	uint8_t key_len;
	unsigned line, col;
};

struct pf_ipsec_conf {
	struct pf_addr src, dst;     /* outer tunnel endpoints (IPv4) */
	struct pf_sa_conf *sas;
	size_t n_sas;
};

struct pf_customer_conf {
	uint32_t id;
	char name[PF_NAME_MAX];
	uint32_t asn;                /* customer's BGP ASN (seed: public, or private > 65000) */
	uint64_t bandwidth_mbps;
	bool premium;                /* ExpressRoute premium: higher route limits */
	bool has_gre;
	uint32_t gre_key;            /* RFC 2890 key = customer/VNet id */
	struct pf_addr gre_src, gre_dst; /* IPv4; src must be a core port address */
	bool has_ipsec;
	struct pf_ipsec_conf ipsec;  /* has_ipsec: GRE packets travel inside ESP */
	struct pf_prefix *vnets;     /* routed over GRE in the private context; RFC 1918 only */
	size_t n_vnets;
	struct pf_prefix *on_prem;   /* customer's prefixes, routed to the customer router */
	size_t n_on_prem;
	struct pf_context_conf *contexts;
	size_t n_contexts;
	unsigned line, col;
};

struct pf_neighbor_conf {
	char port[PF_NAME_MAX];
	struct pf_addr ip;
	uint8_t mac[6];
};

struct pf_config {
	char path[4096];
	struct pf_port_conf *ports;
	size_t n_ports;
	struct pf_customer_conf *customers;
	size_t n_customers;
	struct pf_neighbor_conf *neighbors;
	size_t n_neighbors;
	uint32_t icmp_rate_pps;      /* ICMP errors per second per worker, default 100 */
	uint32_t core_table_id;      /* FPM table of the core context, default 254 (main) */
	char exabgp_socket[108];     /* "" = ExaBGP feed off; else Unix socket path */
	char fpm_listen[80];         /* "" = FPM feed off; else "ADDR:PORT" (default port 2620) */
	char mgmt_socket[108];       /* "" = no management socket (see --socket) */
	uint32_t burst;              /* RX/TX burst, default 32 */
	uint32_t mbufs;              /* packet buffers in the pool; 0 = computed at start */
	uint16_t rx_desc, tx_desc;   /* descriptors per RX / TX queue, default 1024 each */
	uint8_t fib_ipv4_ply_bits;   /* IPv4 FIB ply width, 8 (default) or 4 (common/fib.h) */
};

/* Limits of the top-level "mbufs", "rx_descriptors" and "tx_descriptors". */
#define PF_MBUFS_MIN 1024
#define PF_MBUFS_MAX (1u << 24)
#define PF_DESC_MIN 32
#define PF_DESC_MAX 16384
#define PF_DESC_DEFAULT 1024
/* "fib_ipv4_ply_bits": the IPv4 FIB's ply widths (struct fib_conf.ply4_bits). */
#define PF_FIB_PLY4_BITS_DEFAULT 8
#define PF_FIB_PLY4_BITS_SMALL 4

/*
 * Parse and validate. On error returns a negative errno, fills err (at most errlen bytes)
 * with "FILE:LINE:COL: FIELD: message" and leaves *out untouched. On success *out is a
 * new config to free with pf_config_free().
 */
int pf_config_load(const char *path, struct pf_config **out, char *err, size_t errlen);
void pf_config_free(struct pf_config *cfg);

/* Helpers shared by config, control and tests. */
int pf_prefix_parse(const char *s, struct pf_prefix *p);    /* "a.b.c.d/n" or "x::/n" */
int pf_addr_parse(const char *s, struct pf_addr *a);
int pf_mac_parse(const char *s, uint8_t mac[6]);
bool pf_prefix_overlap(const struct pf_prefix *a, const struct pf_prefix *b);
bool pf_prefix_contains(const struct pf_prefix *p, const struct pf_addr *a);
const char *pf_ctx_kind_name(enum pf_ctx_kind k);
/* Why p must not be routed on public/Microsoft peering (private, bogon), or NULL.
 * Documentation prefixes are allowed (examples use them). */
const char *pf_prefix_bogon(const struct pf_prefix *p);

/*
 * Added helpers (config work). Conventions of the helpers above: family is 4 or 6 (not
 * AF_INET*); pf_prefix_parse requires "/len" and keeps the host bits as written (a core
 * port's "address" 192.0.2.1/24 is our address + on-link subnet); parse functions return
 * 0 or -EINVAL; overlap/contains are false across families.
 */
bool pf_prefix_is_network(const struct pf_prefix *p);      /* host bits all zero */
void pf_prefix_network(const struct pf_prefix *p, struct pf_prefix *net); /* host bits cleared */
void pf_prefix_host(const struct pf_prefix *p, struct pf_addr *a); /* the address as written */
bool pf_addr_equal(const struct pf_addr *a, const struct pf_addr *b);
/* Peering link addresses: customer router = first usable (network + 1), us = second
 * usable (network + 2), for the /30 and the /126 alike. */
void pf_link_peer_addr(const struct pf_prefix *subnet, struct pf_addr *a);
void pf_link_our_addr(const struct pf_prefix *subnet, struct pf_addr *a);
/* "a.b.c.d/n" / "x::/n" and "a.b.c.d" / "x::" into buf (>= 64 bytes is always enough);
 * return buf. */
const char *pf_prefix_fmt(const struct pf_prefix *p, char *buf, size_t len);
const char *pf_addr_fmt(const struct pf_addr *a, char *buf, size_t len);
/* JSON type of a jansson value, as error messages name it ("string", "integer", ...). */
const char *pf_json_type_name(const void *json_value);
/* The value of hex digit c (either case), or -1. */
int pf_hex_digit(int c);
/* The port called name, or NULL. */
const struct pf_port_conf *pf_config_port(const struct pf_config *cfg, const char *name);

/*
 * IPsec helpers (common/ipsec_conf.c), shared by the configuration loader and the
 * management socket (sa-add). Messages never contain key bytes.
 */
const char *pf_esp_alg_name(enum pf_esp_alg a);
/* Key length (key || salt) an algorithm needs. */
unsigned pf_esp_alg_keylen(enum pf_esp_alg a);
/* Read the hex key file at path (mode & 077 must be 0) into sa->key / sa->key_len.
 * 0, or -EINVAL with the reason in msg. */
int pf_sa_key_load(const char *path, struct pf_sa_conf *sa, char *msg, size_t msglen);
/* Fill sa from a JSON SA object (docs/config.md "ipsec"); key_file is resolved against
 * basedir when relative (basedir NULL: as given). 0, or -EINVAL with *field set to the
 * offending member ("spi", ..., or "" for the object itself), *field_is_key set when the
 * position is the key (unknown field) rather than the value, and the reason in msg. */
int pf_sa_parse(const void *json_obj, const char *basedir, struct pf_sa_conf *sa,
		const char **field, bool *field_is_key, char *msg, size_t msglen);
/* The directory of a file path ("." when it has none) into out. */
void pf_dirname(const char *path, char *out, size_t len);

#endif
