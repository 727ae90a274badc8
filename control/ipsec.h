/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec on the control thread (docs/ipsec.md): the crypto device, the SAs (created from
 * the configuration and by the management commands sa-add / sa-del), their publication to
 * the workers (customer's outbound pointer, inbound SPI table) and their release after a
 * QSBR grace period, the lifetime / sequence alarms. Control thread only.
 */
#ifndef PEERFWD_IPSEC_H
#define PEERFWD_IPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct pf_config;
struct pf_sa_conf;
struct pf_tables;
struct pf_worker;
struct pf_sa;
struct rte_rcu_qsbr;

struct pf_ipsec;

/* Devices tried in this order when none is forced (--crypto-dev) and none was given
 * with --vdev: the first that starts and offers AES-GCM 128/256 is used. */
#define PF_IPSEC_DEFAULT_DEVS { "crypto_aesni_gcm0", "crypto_aesni_mb0", "crypto_openssl0" }
#define PF_IPSEC_MAX_SA 4096

/*
 * When some customer of cfg has "ipsec": start the crypto device (dev_name: a cryptodev
 * name, created with rte_vdev_init() unless it exists; NULL: an existing cryptodev, else
 * the defaults above), one queue pair per worker (n_qp), create every configured SA and
 * publish them in t. The keys in cfg are wiped once their sessions exist. *out = NULL and
 * 0 when no customer has IPsec. Negative errno with the reason in err otherwise.
 */
int pf_ipsec_create(struct pf_ipsec **out, struct pf_config *cfg, struct pf_tables *t,
		    struct rte_rcu_qsbr *qsbr, unsigned n_qp, const char *dev_name, char *err,
		    size_t errlen);
/* After pf_worker_init(): the worker's ESP state on queue pair w->id. */
int pf_ipsec_worker_init(struct pf_ipsec *ips, struct pf_worker *w);
/* Once the workers stopped: every SA, session, pool; the device is stopped. */
void pf_ipsec_free(struct pf_ipsec *ips);
/* Control loop: free what the grace period released, log new alarms. NULL is a no-op. */
void pf_ipsec_poll(struct pf_ipsec *ips);

const char *pf_ipsec_device(const struct pf_ipsec *ips);
bool pf_ipsec_cpu_crypto(const struct pf_ipsec *ips);

/* Install an SA for customer cust (index) with its configured tunnel; an outbound SA
 * becomes the customer's active one at once. 0 or negative errno + err. */
int pf_ipsec_sa_add(struct pf_ipsec *ips, uint16_t cust, const struct pf_sa_conf *sc, char *err,
		    size_t errlen);
/* Remove SA spi of customer cust; dir: 1 out, 0 in, -1 whichever exists (both: error). */
int pf_ipsec_sa_del(struct pf_ipsec *ips, uint16_t cust, uint32_t spi, int dir, char *err,
		    size_t errlen);
/* The SA (test hook), or NULL. */
struct pf_sa *pf_ipsec_sa_find(struct pf_ipsec *ips, uint16_t cust, uint32_t spi, bool out);
/* SAs (of customer cust, or all with -1) without keys: spi, direction, algorithm, esn,
 * window, seq, bytes, packets, lifetimes, state. */
json_t *pf_ipsec_sa_list(const struct pf_ipsec *ips, int cust);
/* For the stats JSON: device, alarms, SAs. */
json_t *pf_ipsec_stats_json(const struct pf_ipsec *ips);

#endif
