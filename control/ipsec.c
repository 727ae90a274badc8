/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec on the control thread: crypto device, SA life cycle, alarms (control/ipsec.h).
 *
 * Publication and release follow the rest of the tables: control is the only writer; a
 * new outbound SA is published with one atomic pointer store into the customer's entry,
 * inbound SAs through a new SPI table swapped in with one atomic store. What the workers
 * may still hold (a replaced table, a removed SA) is freed after a QSBR grace period: a
 * worker reports its quiescent state once per loop, after it has flushed its ESP batch,
 * so after the grace period no worker holds the pointer any more. Operations still in an
 * asynchronous device (crypto_openssl) count in sa->inflight; the SA waits for them too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "common/config.h"
#include "control/ipsec.h"
#include "dataplane/esp.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"

struct sa_ent {
	struct pf_sa *sa;
	uint16_t cust;
	uint32_t logged;      /* alarm flags already logged */
	uint64_t serial;      /* order of installation (newest outbound = active) */
	time_t added;
	char key_file[4096];  /* shown by sa list (the path only, never the key) */
};

struct deferred {
	void *p;
	bool is_sa;
	uint64_t token;
	struct deferred *next;
};

struct pf_ipsec {
	struct pf_config *cfg;
	struct pf_tables *t;
	struct rte_rcu_qsbr *qsbr;
	uint8_t dev_id;
	bool cpu;
	bool dev_started;
	char dev_name[64];
	struct rte_mempool *sess_pool;
	struct rte_mempool *op_pool;
	struct sa_ent *ents;
	size_t n_ents, cap_ents;
	uint64_t serial;
	struct deferred *dq, *dq_tail;
	uint64_t alarms_soft, alarms_hard, alarms_seq;
};

static int
ferr(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
ferr(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err != NULL && len > 0)
		vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
pf_ipsec_device(const struct pf_ipsec *ips)
{
	return ips ? ips->dev_name : "";
}

bool
pf_ipsec_cpu_crypto(const struct pf_ipsec *ips)
{
	return ips && ips->cpu;
}

/* ---- crypto device ------------------------------------------------------------------- */

static bool
gcm_supported(uint8_t id)
{
	const struct rte_cryptodev_symmetric_capability *cap;
	struct rte_cryptodev_sym_capability_idx idx = {
		.type = RTE_CRYPTO_SYM_XFORM_AEAD, .algo.aead = RTE_CRYPTO_AEAD_AES_GCM};

	cap = rte_cryptodev_sym_capability_get(id, &idx);
	if (cap == NULL)
		return false;
	for (unsigned kl = 16; kl <= 32; kl += 16)
		for (unsigned aad = 8; aad <= 12; aad += 4)
			if (rte_cryptodev_sym_capability_check_aead(cap, kl, 16, aad, 12) != 0)
				return false;
	return true;
}

static int
dev_start(struct pf_ipsec *ips, const char *name, unsigned n_qp, bool create, char *err,
	  size_t errlen)
{
	struct rte_cryptodev_config cc = {.socket_id = (int)rte_socket_id(), .nb_queue_pairs = n_qp};
	struct rte_cryptodev_info info;
	char args[64], pn[32];
	int id, r;

	id = rte_cryptodev_get_dev_id(name);
	if (id < 0 && create) {
		snprintf(args, sizeof(args), "max_nb_queue_pairs=%u,socket_id=%d", n_qp,
			 (int)rte_socket_id());
		r = rte_vdev_init(name, args);
		if (r != 0)
			return ferr(err, errlen, -ENODEV, "cannot create crypto device %s (%s)", name,
				    strerror(r < 0 ? -r : r));
		id = rte_cryptodev_get_dev_id(name);
	}
	if (id < 0)
		return ferr(err, errlen, -ENODEV, "no crypto device %s", name);
	rte_cryptodev_info_get((uint8_t)id, &info);
	if (!gcm_supported((uint8_t)id))
		return ferr(err, errlen, -ENOTSUP, "crypto device %s does not offer AES-GCM-128/256",
			    name);
	if (info.max_nb_queue_pairs < n_qp)
		return ferr(err, errlen, -ENOTSUP, "crypto device %s has %u queue pairs, %u workers "
			    "need one each", name, info.max_nb_queue_pairs, n_qp);
	r = rte_cryptodev_configure((uint8_t)id, &cc);
	if (r < 0)
		return ferr(err, errlen, r, "crypto device %s: configure failed (%s)", name,
			    strerror(-r));
	snprintf(pn, sizeof(pn), "pf_esp_sess%d", id);
	ips->sess_pool = rte_mempool_lookup(pn);
	if (ips->sess_pool == NULL)
		ips->sess_pool = rte_cryptodev_sym_session_pool_create(pn, PF_IPSEC_MAX_SA,
				rte_cryptodev_sym_get_private_session_size((uint8_t)id), 0, 0,
				(int)rte_socket_id());
	if (ips->sess_pool == NULL)
		return ferr(err, errlen, -ENOMEM, "crypto sessions: out of memory");
	for (unsigned q = 0; q < n_qp; q++) {
		struct rte_cryptodev_qp_conf qc = {.nb_descriptors = 2048,
						   .mp_session = ips->sess_pool};

		r = rte_cryptodev_queue_pair_setup((uint8_t)id, (uint16_t)q, &qc,
						   (int)rte_socket_id());
		if (r < 0)
			return ferr(err, errlen, r, "crypto device %s: queue pair %u: %s", name, q,
				    strerror(-r));
	}
	r = rte_cryptodev_start((uint8_t)id);
	if (r < 0)
		return ferr(err, errlen, r, "crypto device %s: start failed (%s)", name,
			    strerror(-r));
	ips->dev_started = true;
	ips->dev_id = (uint8_t)id;
	ips->cpu = (info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO) != 0;
	snprintf(ips->dev_name, sizeof(ips->dev_name), "%s", name);
	if (!ips->cpu) {
		snprintf(pn, sizeof(pn), "pf_esp_ops%d", id);
		ips->op_pool = rte_crypto_op_pool_create(pn, RTE_CRYPTO_OP_TYPE_SYMMETRIC,
							 4096 * n_qp + 1023, 128,
							 (uint16_t)pf_esp_op_priv_size(),
							 (int)rte_socket_id());
		if (ips->op_pool == NULL)
			return ferr(err, errlen, -ENOMEM, "crypto operations: out of memory");
	}
	return 0;
}

static void
dev_stop(struct pf_ipsec *ips)
{
	if (ips->dev_started) {
		rte_cryptodev_stop(ips->dev_id);
		ips->dev_started = false;
	}
}

/* ---- SAs ----------------------------------------------------------------------------- */

static struct pf_sa *
sa_create(struct pf_ipsec *ips, uint16_t cust, const struct pf_sa_conf *sc, char *err,
	  size_t errlen)
{
	const struct pf_customer_conf *cu = &ips->cfg->customers[cust];
	uint32_t slots = 1;
	struct pf_sa *sa;
	struct rte_crypto_sym_xform x;
	unsigned klen = sc->key_len - 4u;

	if (sc->key_len != pf_esp_alg_keylen(sc->alg)) {
		ferr(err, errlen, -EINVAL, "SA %u: no key loaded", sc->spi);
		return NULL;
	}
	if (!sc->out) {
		while (slots < sc->replay_window / 64 + 2)
			slots <<= 1;
	}
	sa = rte_zmalloc("pf_sa", sizeof(*sa) + (sc->out ? 0 : slots * sizeof(rte_int128_t)),
			 RTE_CACHE_LINE_SIZE);
	if (sa == NULL) {
		ferr(err, errlen, -ENOMEM, "SA %u: out of memory", sc->spi);
		return NULL;
	}
	sa->spi = sc->spi;
	sa->spi_be = rte_cpu_to_be_32(sc->spi);
	memcpy(&sa->tun_src, cu->ipsec.src.addr, 4);
	memcpy(&sa->tun_dst, cu->ipsec.dst.addr, 4);
	sa->customer = cust;
	sa->out = sc->out;
	sa->esn = sc->esn;
	sa->alg = (uint8_t)sc->alg;
	sa->dev_id = ips->dev_id;
	memcpy(sa->salt, sc->key + klen, 4);
	sa->window = sc->out ? 0 : sc->replay_window;
	sa->win_mask = sc->out ? 0 : slots - 1;
	sa->life_bytes = sc->lifetime_bytes;
	sa->life_pkts = sc->lifetime_packets;
	sa->soft_bytes = sc->lifetime_bytes - sc->lifetime_bytes / 10;
	sa->soft_pkts = sc->lifetime_packets - sc->lifetime_packets / 10;
	sa->seq_base = 1;
	sa->seq = sc->out ? 1 : 0;
	memset(&x, 0, sizeof(x));
	x.type = RTE_CRYPTO_SYM_XFORM_AEAD;
	x.aead.op = sc->out ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT;
	x.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
	x.aead.key.data = sc->key;
	x.aead.key.length = (uint16_t)klen;
	x.aead.iv.offset = PF_ESP_IV_OFFSET;
	x.aead.iv.length = 12;
	x.aead.digest_length = PF_ESP_ICV_LEN;
	x.aead.aad_length = sc->esn ? 12 : 8;
	sa->sess = rte_cryptodev_sym_session_create(ips->dev_id, &x, ips->sess_pool);
	if (sa->sess == NULL) {
		rte_free(sa);
		ferr(err, errlen, -ENOMEM, "SA %u: the crypto device refused the session (%s)",
		     sc->spi, rte_strerror(rte_errno));
		return NULL;
	}
	return sa;
}

static void
sa_destroy(struct pf_ipsec *ips, struct pf_sa *sa)
{
	if (sa->sess != NULL)
		rte_cryptodev_sym_session_free(ips->dev_id, sa->sess);
	memset(sa->salt, 0, sizeof(sa->salt));
	rte_free(sa);
}

/* Free p once no worker can hold it (immediately without QSBR: the tests' single thread). */
static void
defer_free(struct pf_ipsec *ips, void *p, bool is_sa)
{
	struct deferred *d;

	if (p == NULL)
		return;
	d = calloc(1, sizeof(*d));
	if (ips->qsbr == NULL || d == NULL) {
		if (d == NULL && ips->qsbr != NULL)
			rte_rcu_qsbr_synchronize(ips->qsbr, RTE_QSBR_THRID_INVALID);
		if (is_sa)
			sa_destroy(ips, p);
		else
			rte_free(p);
		free(d);
		return;
	}
	d->p = p;
	d->is_sa = is_sa;
	d->token = rte_rcu_qsbr_start(ips->qsbr);
	if (ips->dq_tail)
		ips->dq_tail->next = d;
	else
		ips->dq = d;
	ips->dq_tail = d;
}

static void
reclaim(struct pf_ipsec *ips, bool all)
{
	while (ips->dq != NULL) {
		struct deferred *d = ips->dq;

		if (!all && (rte_rcu_qsbr_check(ips->qsbr, d->token, false) != 1 ||
			     (d->is_sa && __atomic_load_n(&((struct pf_sa *)d->p)->inflight,
							 __ATOMIC_ACQUIRE) != 0)))
			break;
		ips->dq = d->next;
		if (ips->dq == NULL)
			ips->dq_tail = NULL;
		if (d->is_sa)
			sa_destroy(ips, d->p);
		else
			rte_free(d->p);
		free(d);
	}
}

/* A new inbound SPI table from the registry, swapped in; the old one after a grace period. */
static int
publish_inbound(struct pf_ipsec *ips)
{
	struct pf_esp_tables *nt, *old;
	uint32_t n = 0, size = 16;

	for (size_t i = 0; i < ips->n_ents; i++)
		n += !ips->ents[i].sa->out;
	while (size < 2 * n + 2)
		size <<= 1;
	nt = rte_zmalloc("pf_esp_spi", sizeof(*nt) + size * sizeof(nt->slot[0]), RTE_CACHE_LINE_SIZE);
	if (nt == NULL)
		return -ENOMEM;
	nt->mask = size - 1;
	nt->n = n;
	for (size_t i = 0; i < ips->n_ents; i++) {
		struct pf_sa *sa = ips->ents[i].sa;
		uint32_t k;

		if (sa->out)
			continue;
		k = pf_hash32(sa->spi) & nt->mask;
		while (nt->slot[k].sa != NULL)
			k = (k + 1) & nt->mask;
		nt->slot[k].spi = sa->spi;
		nt->slot[k].sa = sa;
	}
	old = ips->t->esp;
	__atomic_store_n(&ips->t->esp, nt, __ATOMIC_RELEASE);
	defer_free(ips, old, false);
	return 0;
}

/* The customer's newest outbound SA becomes (or stays) the active one. */
static void
publish_outbound(struct pf_ipsec *ips, uint16_t cust)
{
	struct pf_sa *best = NULL;
	uint64_t bs = 0;

	for (size_t i = 0; i < ips->n_ents; i++) {
		const struct sa_ent *e = &ips->ents[i];

		if (e->cust == cust && e->sa->out && e->serial >= bs) {
			best = e->sa;
			bs = e->serial;
		}
	}
	__atomic_store_n(&ips->t->cust[cust].sa_out, best, __ATOMIC_RELEASE);
}

static struct sa_ent *
ent_find(struct pf_ipsec *ips, int cust, uint32_t spi, int dir)
{
	for (size_t i = 0; i < ips->n_ents; i++) {
		struct sa_ent *e = &ips->ents[i];

		if (e->sa->spi == spi && (cust < 0 || e->cust == cust) &&
		    (dir < 0 || e->sa->out == dir))
			return e;
	}
	return NULL;
}

struct pf_sa *
pf_ipsec_sa_find(struct pf_ipsec *ips, uint16_t cust, uint32_t spi, bool out)
{
	struct sa_ent *e = ips ? ent_find(ips, cust, spi, out) : NULL;

	return e ? e->sa : NULL;
}

int
pf_ipsec_sa_add(struct pf_ipsec *ips, uint16_t cust, const struct pf_sa_conf *sc, char *err,
		size_t errlen)
{
	struct sa_ent *e;
	struct pf_sa *sa;
	int r;

	if (ips == NULL)
		return ferr(err, errlen, -ENOTSUP, "IPsec is not running (no customer has an "
			    "\"ipsec\" section)");
	if (cust >= ips->cfg->n_customers || !ips->cfg->customers[cust].has_ipsec)
		return ferr(err, errlen, -EINVAL, "customer '%s' has no \"ipsec\" section in the "
			    "configuration", cust < ips->cfg->n_customers ?
			    ips->cfg->customers[cust].name : "?");
	if ((e = ent_find(ips, -1, sc->spi, sc->out)) != NULL)
		return ferr(err, errlen, -EEXIST, "%s SPI %u is already used (customer '%s')",
			    sc->out ? "outbound" : "inbound", sc->spi,
			    ips->cfg->customers[e->cust].name);
	if (ips->n_ents >= PF_IPSEC_MAX_SA)
		return ferr(err, errlen, -ENOSPC, "too many SAs (%u)", PF_IPSEC_MAX_SA);
	if (ips->n_ents == ips->cap_ents) {
		size_t nc = ips->cap_ents ? 2 * ips->cap_ents : 16;
		struct sa_ent *ne = realloc(ips->ents, nc * sizeof(*ne));

		if (ne == NULL)
			return ferr(err, errlen, -ENOMEM, "out of memory");
		ips->ents = ne;
		ips->cap_ents = nc;
	}
	sa = sa_create(ips, cust, sc, err, errlen);
	if (sa == NULL)
		return -EINVAL;
	e = &ips->ents[ips->n_ents++];
	memset(e, 0, sizeof(*e));
	e->sa = sa;
	e->cust = cust;
	e->serial = ++ips->serial;
	e->added = time(NULL);
	snprintf(e->key_file, sizeof(e->key_file), "%s", sc->key_file);
	if (sa->out) {
		publish_outbound(ips, cust);
		return 0;
	}
	r = publish_inbound(ips);
	if (r < 0) {
		ips->n_ents--;
		sa_destroy(ips, sa);
		return ferr(err, errlen, r, "out of memory");
	}
	return 0;
}

int
pf_ipsec_sa_del(struct pf_ipsec *ips, uint16_t cust, uint32_t spi, int dir, char *err,
		size_t errlen)
{
	struct sa_ent *e, saved;
	struct pf_sa *sa;

	if (ips == NULL)
		return ferr(err, errlen, -ENOTSUP, "IPsec is not running");
	if (dir < 0 && ent_find(ips, cust, spi, 0) && ent_find(ips, cust, spi, 1))
		return ferr(err, errlen, -EINVAL, "SPI %u is both an inbound and an outbound SA of "
			    "this customer: say which (direction in|out)", spi);
	e = ent_find(ips, cust, spi, dir);
	if (e == NULL)
		return ferr(err, errlen, -ENOENT, "customer '%s' has no %sSA with SPI %u",
			    cust < ips->cfg->n_customers ? ips->cfg->customers[cust].name : "?",
			    dir < 0 ? "" : dir ? "outbound " : "inbound ", spi);
	sa = e->sa;
	saved = *e;
	*e = ips->ents[--ips->n_ents];
	if (sa->out) {
		publish_outbound(ips, cust);
	} else if (publish_inbound(ips) < 0) {
		/* cannot build a smaller table: keep the SA rather than free it in use */
		ips->ents[ips->n_ents++] = saved;
		return ferr(err, errlen, -ENOMEM, "out of memory");
	}
	defer_free(ips, sa, true);
	return 0;
}

/* ---- create / free ------------------------------------------------------------------- */

int
pf_ipsec_create(struct pf_ipsec **out, struct pf_config *cfg, struct pf_tables *t,
		struct rte_rcu_qsbr *qsbr, unsigned n_qp, const char *dev_name, char *err,
		size_t errlen)
{
	static const char *const defaults[] = PF_IPSEC_DEFAULT_DEVS;
	struct pf_ipsec *ips;
	bool any = false;
	char e1[256] = "";
	int r = -ENODEV;

	*out = NULL;
	for (size_t c = 0; c < cfg->n_customers; c++)
		any |= cfg->customers[c].has_ipsec;
	if (!any)
		return 0;
	if (n_qp == 0)
		n_qp = 1;
	ips = calloc(1, sizeof(*ips));
	if (ips == NULL)
		return ferr(err, errlen, -ENOMEM, "out of memory");
	ips->cfg = cfg;
	ips->t = t;
	ips->qsbr = qsbr;
	if (dev_name != NULL) {
		r = dev_start(ips, dev_name, n_qp, true, err, errlen);
	} else if (rte_cryptodev_count() > 0) {
		/* given with --vdev: the first one */
		r = dev_start(ips, rte_cryptodev_name_get(0), n_qp, false, err, errlen);
	} else {
		for (size_t i = 0; i < RTE_DIM(defaults) && r < 0; i++) {
			r = dev_start(ips, defaults[i], n_qp, true, e1, sizeof(e1));
			if (r < 0) {
				fprintf(stderr, "peerfwd: ipsec: %s; trying the next device\n", e1);
				dev_stop(ips);
			}
		}
		if (r < 0)
			ferr(err, errlen, r, "no crypto device could start (last: %s)", e1);
	}
	if (r < 0) {
		pf_ipsec_free(ips);
		return r;
	}
	fprintf(stderr, "peerfwd: ipsec: crypto device %s (%s)\n", ips->dev_name,
		ips->cpu ? "synchronous CPU crypto" : "asynchronous queue pairs");
	for (size_t c = 0; c < cfg->n_customers; c++) {
		struct pf_customer_conf *cu = &cfg->customers[c];

		if (!cu->has_ipsec)
			continue;
		for (size_t i = 0; i < cu->ipsec.n_sas; i++) {
			char e2[300];

			r = pf_ipsec_sa_add(ips, (uint16_t)c, &cu->ipsec.sas[i], e2, sizeof(e2));
			explicit_bzero(cu->ipsec.sas[i].key, sizeof(cu->ipsec.sas[i].key));
			if (r < 0) {
				ferr(err, errlen, r, "customer '%s': %s", cu->name, e2);
				pf_ipsec_free(ips);
				return r;
			}
		}
	}
	if (t->esp == NULL && (r = publish_inbound(ips)) < 0) {
		pf_ipsec_free(ips);
		return ferr(err, errlen, r, "out of memory");
	}
	*out = ips;
	return 0;
}

int
pf_ipsec_worker_init(struct pf_ipsec *ips, struct pf_worker *w)
{
	if (ips == NULL)
		return 0;
	return pf_esp_worker_init(w, ips->dev_id, (uint16_t)w->id, ips->cpu, ips->op_pool);
}

void
pf_ipsec_free(struct pf_ipsec *ips)
{
	if (ips == NULL)
		return;
	if (ips->t != NULL) {
		for (uint32_t c = 0; c < ips->t->n_cust; c++)
			ips->t->cust[c].sa_out = NULL;
		rte_free(ips->t->esp);
		ips->t->esp = NULL;
	}
	reclaim(ips, true);
	for (size_t i = 0; i < ips->n_ents; i++)
		sa_destroy(ips, ips->ents[i].sa);
	free(ips->ents);
	dev_stop(ips);
	rte_mempool_free(ips->op_pool);
	rte_mempool_free(ips->sess_pool);
	free(ips);
}

/* ---- alarms, listing ----------------------------------------------------------------- */

void
pf_ipsec_poll(struct pf_ipsec *ips)
{
	if (ips == NULL)
		return;
	reclaim(ips, false);
	for (size_t i = 0; i < ips->n_ents; i++) {
		struct sa_ent *e = &ips->ents[i];
		uint32_t f = __atomic_load_n(&e->sa->flags, __ATOMIC_RELAXED), nw = f & ~e->logged;
		const char *cn = ips->cfg->customers[e->cust].name;

		if (nw == 0)
			continue;
		e->logged |= nw;
		if (nw & PF_SA_SOFT) {
			ips->alarms_soft++;
			fprintf(stderr, "peerfwd: ipsec alarm: customer '%s' %s SA %u: 90%% of its "
				"lifetime used; install a new SA (peerctl sa add)\n", cn,
				e->sa->out ? "outbound" : "inbound", e->sa->spi);
		}
		if (nw & PF_SA_HARD) {
			ips->alarms_hard++;
			fprintf(stderr, "peerfwd: ipsec alarm: customer '%s' %s SA %u: lifetime "
				"reached; it carries no more packets\n", cn,
				e->sa->out ? "outbound" : "inbound", e->sa->spi);
		}
		if (nw & PF_SA_SEQ_EXHAUSTED) {
			ips->alarms_seq++;
			fprintf(stderr, "peerfwd: ipsec alarm: customer '%s' outbound SA %u: sequence "
				"number 2^32-1 reached without ESN; sending stopped (RFC 4303 "
				"3.3.3)\n", cn, e->sa->spi);
		}
	}
}

static const char *
sa_state(const struct pf_ipsec *ips, const struct sa_ent *e, uint32_t f)
{
	if (f & PF_SA_SEQ_EXHAUSTED)
		return "seq-exhausted";
	if (f & PF_SA_HARD)
		return "expired";
	if (e->sa->out && ips->t->cust[e->cust].sa_out != e->sa)
		return "inactive";
	if (f & PF_SA_SOFT)
		return "soft-expired";
	return "active";
}

static json_t *
sa_json(const struct pf_ipsec *ips, const struct sa_ent *e)
{
	const struct pf_sa *sa = e->sa;
	uint32_t f = __atomic_load_n(&sa->flags, __ATOMIC_RELAXED);
	uint64_t seq = __atomic_load_n(&sa->seq, __ATOMIC_RELAXED);
	json_t *o = json_object();
	char a[32], b[32];

	snprintf(a, sizeof(a), "%u.%u.%u.%u", ((uint8_t *)&sa->tun_src)[0],
		 ((uint8_t *)&sa->tun_src)[1], ((uint8_t *)&sa->tun_src)[2],
		 ((uint8_t *)&sa->tun_src)[3]);
	snprintf(b, sizeof(b), "%u.%u.%u.%u", ((uint8_t *)&sa->tun_dst)[0],
		 ((uint8_t *)&sa->tun_dst)[1], ((uint8_t *)&sa->tun_dst)[2],
		 ((uint8_t *)&sa->tun_dst)[3]);
	json_object_set_new(o, "customer", json_string(ips->cfg->customers[e->cust].name));
	json_object_set_new(o, "spi", json_integer(sa->spi));
	json_object_set_new(o, "direction", json_string(sa->out ? "out" : "in"));
	json_object_set_new(o, "algorithm", json_string(pf_esp_alg_name(sa->alg)));
	json_object_set_new(o, "esn", json_boolean(sa->esn));
	json_object_set_new(o, "replay_window", sa->out ? json_null() : json_integer(sa->window));
	/* outbound: the last sequence number sent; inbound: the highest verified */
	json_object_set_new(o, "seq", json_integer((json_int_t)(sa->out ? seq - 1 : seq)));
	json_object_set_new(o, "bytes", json_integer((json_int_t)sa->bytes));
	json_object_set_new(o, "packets", json_integer((json_int_t)sa->pkts));
	json_object_set_new(o, "lifetime_bytes", json_integer((json_int_t)sa->life_bytes));
	json_object_set_new(o, "lifetime_packets", json_integer((json_int_t)sa->life_pkts));
	json_object_set_new(o, "source", json_string(a));
	json_object_set_new(o, "destination", json_string(b));
	json_object_set_new(o, "key_file", json_string(e->key_file));
	json_object_set_new(o, "state", json_string(sa_state(ips, e, f)));
	json_object_set_new(o, "alarms", json_pack("{sbsbsb}", "soft_lifetime", !!(f & PF_SA_SOFT),
						   "hard_lifetime", !!(f & PF_SA_HARD),
						   "seq_exhausted", !!(f & PF_SA_SEQ_EXHAUSTED)));
	json_object_set_new(o, "added", json_integer((json_int_t)e->added));
	return o;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct sa_ent *x = *(const struct sa_ent *const *)a;
	const struct sa_ent *y = *(const struct sa_ent *const *)b;

	if (x->cust != y->cust)
		return x->cust < y->cust ? -1 : 1;
	if (x->sa->out != y->sa->out)
		return x->sa->out ? -1 : 1;
	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

json_t *
pf_ipsec_sa_list(const struct pf_ipsec *ips, int cust)
{
	json_t *arr = json_array();
	const struct sa_ent **v;
	size_t n = 0;

	if (ips == NULL || arr == NULL)
		return arr;
	v = calloc(ips->n_ents + 1, sizeof(*v));
	if (v == NULL)
		return arr;
	for (size_t i = 0; i < ips->n_ents; i++)
		if (cust < 0 || ips->ents[i].cust == cust)
			v[n++] = &ips->ents[i];
	qsort(v, n, sizeof(*v), ent_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, sa_json(ips, v[i]));
	free(v);
	return arr;
}

json_t *
pf_ipsec_stats_json(const struct pf_ipsec *ips)
{
	if (ips == NULL)
		return json_null();
	return json_pack("{sssbs{sIsIsI}so}", "device", ips->dev_name, "cpu_crypto", ips->cpu,
			 "alarms", "soft_lifetime", (json_int_t)ips->alarms_soft,
			 "hard_lifetime", (json_int_t)ips->alarms_hard,
			 "seq_exhausted", (json_int_t)ips->alarms_seq,
			 "sas", pf_ipsec_sa_list(ips, -1));
}
