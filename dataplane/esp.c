/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP tunnel mode (RFC 4303) with AES-GCM (RFC 4106) for customers with IPsec.
 *
 * Outbound: ip_output.c builds Ethernet + outer IPv4 + GRE + inner as for every customer
 * and hands the frame to pf_esp_output(), which only appends it to this worker's batch.
 * The batch is processed when full and at pf_worker_flush(): sequence numbers are reserved
 * with one atomic fetch-add per SA, ESP headers and trailers are written, then one crypto
 * call per SA encrypts all its packets (CPU crypto), or one enqueue + dequeue for the
 * whole batch (asynchronous devices such as crypto_openssl). Encrypted frames go to TX.
 *
 * Inbound: local.c hands ESP for our address to pf_esp_input() (SPI lookup, tunnel
 * addresses, lifetime, replay pre-check), which appends it to the inbound batch;
 * pf_ip_input() calls pf_esp_input_flush() before it re-injects tunnelled packets, which
 * decrypts the batch, verifies, updates the replay window, checks the trailer, strips
 * ESP and appends the inner GRE packet to the same "again" array GRE decapsulation uses.
 * gre.c then checks key and endpoints as for plain GRE, plus that the ESP SA belongs to
 * the customer of the GRE key (md->esp_cust).
 */
#include <errno.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "common/config.h"
#include "dataplane/esp.h"
#include "dataplane/pkt.h"

#define IV_OFFSET PF_ESP_IV_OFFSET

struct esp_item {
	struct rte_mbuf *m;
	struct pf_sa *sa;
	uint64_t seq;
	uint8_t *data;      /* first byte to encrypt / decrypt */
	uint32_t len;       /* bytes to encrypt / decrypt (payload, padding, trailer) */
	uint16_t port;      /* outbound: egress port */
	uint16_t hlen;      /* inbound: outer IPv4 header length */
	struct pf_meta md;  /* inbound: the packet's meta */
};

/* Asynchronous operations carry their context behind the IV (op private data). */
struct esp_opctx {
	uint8_t iv[16];
	uint8_t aad[16];
	struct esp_item it;
	uint8_t out;
};

struct pf_esp_worker {
	uint8_t dev_id;
	bool cpu;
	uint16_t qp;
	struct rte_mempool *op_pool;
	uint32_t inflight;
	uint16_t n_out, n_in;
	struct esp_item out[PF_ESP_BATCH];
	struct esp_item in[PF_ESP_BATCH];
	/* CPU crypto scratch */
	uint8_t iv[PF_ESP_BATCH][16];
	uint8_t aad[PF_ESP_BATCH][16];
	struct rte_crypto_vec vec[PF_ESP_BATCH];
	struct rte_crypto_sgl sgl[PF_ESP_BATCH];
	struct rte_crypto_va_iova_ptr ivp[PF_ESP_BATCH], aadp[PF_ESP_BATCH], dig[PF_ESP_BATCH];
	int32_t st[PF_ESP_BATCH];
	uint16_t idx[PF_ESP_BATCH];
	struct rte_crypto_op *ops[PF_ESP_BATCH];
};

unsigned
pf_esp_op_priv_size(void)
{
	return sizeof(struct esp_opctx);
}

int
pf_esp_worker_init(struct pf_worker *w, uint8_t dev_id, uint16_t qp, bool cpu,
		   struct rte_mempool *op_pool)
{
	struct pf_esp_worker *e = rte_zmalloc("pf_esp_worker", sizeof(*e), RTE_CACHE_LINE_SIZE);

	if (e == NULL)
		return -ENOMEM;
	if (!cpu && op_pool == NULL) {
		rte_free(e);
		return -EINVAL;
	}
	e->dev_id = dev_id;
	e->qp = qp;
	e->cpu = cpu;
	e->op_pool = op_pool;
	w->esp = e;
	return 0;
}

/* ---- sequence numbers and the replay window ------------------------------------------ */

/* RFC 4303 Appendix A2.2: the high half of a received sequence number, given the
 * highest verified sequence number top */
static inline uint64_t
infer_at(const struct pf_sa *sa, uint64_t top, uint32_t seql)
{
	uint32_t tl = (uint32_t)top, th = (uint32_t)(top >> 32), w = sa->window, h;

	if (!sa->esn)
		return seql;
	if (tl >= w - 1) {
		h = seql >= tl - w + 1 ? th : th + 1;
	} else {
		if (seql >= tl - w + 1) /* wraps: the low half of the previous epoch */
			h = th ? th - 1 : 0;
		else
			h = th;
	}
	return (uint64_t)h << 32 | seql;
}

uint64_t
pf_esp_seq_infer(const struct pf_sa *sa, uint32_t seql)
{
	return infer_at(sa, __atomic_load_n(&sa->seq, __ATOMIC_ACQUIRE), seql);
}

static inline void
win_read(const rte_int128_t *slot, uint64_t *block, uint64_t *bits)
{
	/* block, bits, block again: a pair from one state (the CAS writes both at once) */
	for (unsigned n = 0; n < 8; n++) {
		uint64_t b1 = __atomic_load_n(&slot->val[0], __ATOMIC_ACQUIRE);
		uint64_t v = __atomic_load_n(&slot->val[1], __ATOMIC_ACQUIRE);
		uint64_t b2 = __atomic_load_n(&slot->val[0], __ATOMIC_ACQUIRE);

		*block = b2;
		*bits = v;
		if (b1 == b2)
			return;
	}
}

int
pf_esp_replay_check(const struct pf_sa *sa, uint64_t seq)
{
	uint64_t top = __atomic_load_n(&sa->seq, __ATOMIC_ACQUIRE), block, bits;

	if (seq == 0)
		return PF_DROP_esp_too_old; /* never sent: the first number is 1 */
	if (seq > top)
		return 0;
	if (top - seq >= sa->window)
		return PF_DROP_esp_too_old;
	win_read(&sa->win[(seq >> 6) & sa->win_mask], &block, &bits);
	if (block > seq >> 6)
		return PF_DROP_esp_too_old;
	if (block == seq >> 6 && (bits & (1ull << (seq & 63))))
		return PF_DROP_esp_replay;
	return 0;
}

int
pf_esp_replay_update(struct pf_sa *sa, uint64_t seq)
{
	uint64_t top = __atomic_load_n(&sa->seq, __ATOMIC_ACQUIRE);
	uint64_t b = seq >> 6, bit = 1ull << (seq & 63);
	rte_int128_t *slot = &sa->win[b & sa->win_mask], old, nw;

	while (seq > top &&
	       !__atomic_compare_exchange_n(&sa->seq, &top, seq, true, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE))
		;
	if (seq <= top && top - seq >= sa->window)
		return PF_DROP_esp_too_old;
	win_read(slot, &old.val[0], &old.val[1]);
	for (;;) {
		if (old.val[0] > b)
			return PF_DROP_esp_too_old;
		if (old.val[0] == b) {
			if (old.val[1] & bit)
				return PF_DROP_esp_replay;
			nw.val[1] = old.val[1] | bit;
		} else {
			nw.val[1] = bit; /* the slot's older block is out of the window */
		}
		nw.val[0] = b;
		if (rte_atomic128_cmp_exchange(slot, &old, &nw, 0, __ATOMIC_ACQ_REL,
					       __ATOMIC_ACQUIRE))
			return 0;
	}
}

/* ---- lifetimes ----------------------------------------------------------------------- */

/* Account n packets / bytes to the SA; the number of them (from the first) still within
 * the hard lifetimes. Sets the alarm flags. */
static inline bool
life_take(struct pf_sa *sa, uint64_t bytes)
{
	uint64_t p = __atomic_fetch_add(&sa->pkts, 1, __ATOMIC_RELAXED);
	uint64_t b = __atomic_fetch_add(&sa->bytes, bytes, __ATOMIC_RELAXED);

	if (likely(sa->life_pkts == 0 && sa->life_bytes == 0))
		return true;
	if ((sa->life_pkts && p >= sa->life_pkts) || (sa->life_bytes && b >= sa->life_bytes)) {
		__atomic_fetch_or(&sa->flags, PF_SA_HARD | PF_SA_SOFT, __ATOMIC_RELAXED);
		return false;
	}
	if ((sa->soft_pkts && p + 1 >= sa->soft_pkts) ||
	    (sa->soft_bytes && b + bytes >= sa->soft_bytes))
		if (!(__atomic_load_n(&sa->flags, __ATOMIC_RELAXED) & PF_SA_SOFT))
			__atomic_fetch_or(&sa->flags, PF_SA_SOFT, __ATOMIC_RELAXED);
	return true;
}

/* ---- completions --------------------------------------------------------------------- */

static void
out_done(struct pf_worker *w, struct esp_item *it, bool ok)
{
	if (unlikely(!ok)) {
		pf_drop(w, it->m, PF_DROP_crypto_fail);
		return;
	}
	w->c.event[PF_EV_esp_encrypted]++;
	pf_tx(w, it->port, it->m);
}

/* Verified or not: window, lifetime, trailer, strip; into again[] when good. */
static void
in_done(struct pf_worker *w, struct esp_item *it, int status, struct rte_mbuf **again,
	struct pf_meta *again_md, uint16_t *n_again)
{
	struct rte_mbuf *m = it->m;
	struct pf_sa *sa = it->sa;
	const uint8_t *tr;
	uint8_t padlen, nxt;
	int r;

	if (unlikely(status != 0)) {
		pf_drop(w, m, status > 0 ? PF_DROP_esp_bad_icv : PF_DROP_crypto_fail);
		return;
	}
	r = pf_esp_replay_update(sa, it->seq);
	if (unlikely(r != 0)) {
		pf_drop(w, m, (enum pf_drop)r);
		return;
	}
	if (unlikely(!life_take(sa, it->len))) {
		pf_drop(w, m, PF_DROP_esp_sa_expired);
		return;
	}
	tr = it->data + it->len - 2;
	padlen = tr[0];
	nxt = tr[1];
	if (unlikely(padlen + 2u > it->len)) {
		pf_drop(w, m, PF_DROP_esp_bad_padding);
		return;
	}
	for (unsigned i = 0; i < padlen; i++)
		if (unlikely(tr[-(int)padlen + (int)i] != i + 1)) {
			pf_drop(w, m, PF_DROP_esp_bad_padding);
			return;
		}
	if (unlikely(nxt != PF_ESP_NH_IPV4)) {
		pf_drop(w, m, nxt == PF_ESP_NH_DUMMY ? PF_DROP_esp_dummy
						    : PF_DROP_esp_bad_next_header);
		return;
	}
	rte_pktmbuf_trim(m, padlen + 2 + PF_ESP_ICV_LEN);
	it->md.l3 += it->hlen + PF_ESP_HLEN + PF_ESP_IV_LEN;
	it->md.esp_cust = sa->customer + 1;
	w->c.event[PF_EV_esp_decrypted]++;
	if (again != NULL) {
		again[*n_again] = m;
		again_md[*n_again] = it->md;
		(*n_again)++;
	}
}

/* ---- asynchronous devices ------------------------------------------------------------ */

static void
async_done(struct pf_worker *w, struct rte_crypto_op *op, struct rte_mbuf **again,
	   struct pf_meta *again_md, uint16_t *n_again)
{
	struct esp_opctx *cx = rte_crypto_op_ctod_offset(op, struct esp_opctx *, IV_OFFSET);
	struct pf_sa *sa = cx->it.sa;

	if (cx->out) {
		out_done(w, &cx->it, op->status == RTE_CRYPTO_OP_STATUS_SUCCESS);
	} else {
		int st = op->status == RTE_CRYPTO_OP_STATUS_SUCCESS ? 0
		       : op->status == RTE_CRYPTO_OP_STATUS_AUTH_FAILED ? 1 : -1;

		in_done(w, &cx->it, st, again, again_md, n_again);
	}
	rte_crypto_op_free(op);
	w->esp->inflight--;
	__atomic_fetch_sub(&sa->inflight, 1, __ATOMIC_RELEASE);
}

/* Collect what the device finished; inbound results into again[] (room: PF_ESP_BATCH). */
static void
async_dequeue(struct pf_worker *w, struct rte_mbuf **again, struct pf_meta *again_md,
	      uint16_t *n_again)
{
	struct pf_esp_worker *e = w->esp;

	while (e->inflight) {
		uint16_t room = PF_ESP_BATCH - *n_again;
		uint16_t n = rte_cryptodev_dequeue_burst(e->dev_id, e->qp, e->ops, RTE_MIN(room, 64));

		for (uint16_t i = 0; i < n; i++)
			async_done(w, e->ops[i], again, again_md, n_again);
		if (n == 0 || *n_again + 64 > PF_ESP_BATCH)
			break;
	}
}

/* Hand items to the device as operations; dropped when the pool or queue is full. */
static void
async_submit(struct pf_worker *w, struct esp_item *items, uint16_t n, bool out)
{
	struct pf_esp_worker *e = w->esp;
	uint16_t k = 0, sent;

	if (n == 0)
		return;
	if (rte_crypto_op_bulk_alloc(e->op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC, e->ops, n) != n) {
		for (uint16_t i = 0; i < n; i++)
			pf_drop(w, items[i].m, PF_DROP_crypto_full);
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct esp_item *it = &items[i];
		struct rte_crypto_op *op = e->ops[k++];
		struct esp_opctx *cx = rte_crypto_op_ctod_offset(op, struct esp_opctx *, IV_OFFSET);
		struct rte_crypto_sym_op *so = op->sym;
		struct rte_mbuf *m = it->m;
		uint32_t off = (uint32_t)(it->data - rte_pktmbuf_mtod(m, uint8_t *));
		const uint8_t *esp = it->data - PF_ESP_IV_LEN - PF_ESP_HLEN;

		memcpy(cx->iv, it->sa->salt, 4);
		memcpy(cx->iv + 4, esp + PF_ESP_HLEN, PF_ESP_IV_LEN);
		memcpy(cx->aad, esp, 4);
		if (it->sa->esn) {
			rte_be32_t hi = rte_cpu_to_be_32((uint32_t)(it->seq >> 32));

			memcpy(cx->aad + 4, &hi, 4);
			memcpy(cx->aad + 8, esp + 4, 4);
		} else {
			memcpy(cx->aad + 4, esp + 4, 4);
		}
		cx->it = *it;
		cx->out = out;
		so->m_src = m;
		so->m_dst = NULL;
		so->aead.data.offset = off;
		so->aead.data.length = it->len;
		so->aead.digest.data = it->data + it->len;
		so->aead.digest.phys_addr = rte_pktmbuf_iova_offset(m, off + it->len);
		so->aead.aad.data = cx->aad;
		so->aead.aad.phys_addr = rte_crypto_op_ctophys_offset(op, IV_OFFSET +
								       offsetof(struct esp_opctx, aad));
		rte_crypto_op_attach_sym_session(op, it->sa->sess);
	}
	sent = rte_cryptodev_enqueue_burst(e->dev_id, e->qp, e->ops, n);
	for (uint16_t i = 0; i < sent; i++)
		__atomic_fetch_add(&items[i].sa->inflight, 1, __ATOMIC_RELAXED);
	e->inflight += sent;
	if (unlikely(sent < n)) {
		for (uint16_t i = sent; i < n; i++)
			pf_drop(w, items[i].m, PF_DROP_crypto_full);
		rte_mempool_put_bulk(e->op_pool, (void **)&e->ops[sent], n - sent);
	}
}

/* ---- CPU crypto: one call per SA over all its items ---------------------------------- */

static void
cpu_process(struct pf_worker *w, struct esp_item *items, uint16_t n, int32_t *status)
{
	struct pf_esp_worker *e = w->esp;
	union rte_crypto_sym_ofs ofs = {.raw = 0};
	uint16_t done = 0;
	bool taken[PF_ESP_BATCH] = {false};

	for (uint16_t i = 0; i < n; i++) {
		struct pf_sa *sa = items[i].sa;
		struct rte_crypto_sym_vec v;
		uint16_t k = 0;

		if (taken[i])
			continue;
		for (uint16_t j = i; j < n; j++) {
			struct esp_item *it = &items[j];
			const uint8_t *esp;

			if (taken[j] || it->sa != sa)
				continue;
			taken[j] = true;
			esp = it->data - PF_ESP_IV_LEN - PF_ESP_HLEN;
			memcpy(e->iv[k], sa->salt, 4);
			memcpy(e->iv[k] + 4, esp + PF_ESP_HLEN, PF_ESP_IV_LEN);
			memcpy(e->aad[k], esp, 4);
			if (sa->esn) {
				rte_be32_t hi = rte_cpu_to_be_32((uint32_t)(it->seq >> 32));

				memcpy(e->aad[k] + 4, &hi, 4);
				memcpy(e->aad[k] + 8, esp + 4, 4);
			} else {
				memcpy(e->aad[k] + 4, esp + 4, 4);
			}
			e->vec[k].base = it->data;
			e->vec[k].iova = rte_pktmbuf_iova_offset(it->m, it->data -
								 rte_pktmbuf_mtod(it->m, uint8_t *));
			e->vec[k].len = it->len;
			e->vec[k].tot_len = it->len;
			e->sgl[k].vec = &e->vec[k];
			e->sgl[k].num = 1;
			e->ivp[k].va = e->iv[k];
			e->aadp[k].va = e->aad[k];
			e->dig[k].va = it->data + it->len;
			e->st[k] = 0;
			e->idx[k++] = j;
		}
		v = (struct rte_crypto_sym_vec){.num = k, .src_sgl = e->sgl, .iv = e->ivp,
						.digest = e->dig, .aad = e->aadp, .status = e->st};
		rte_cryptodev_sym_cpu_crypto_process(sa->dev_id, sa->sess, ofs, &v);
		for (uint16_t q = 0; q < k; q++)
			status[e->idx[q]] = e->st[q];
		done += k;
	}
	RTE_SET_USED(done);
}

/* ---- outbound ------------------------------------------------------------------------ */

void
pf_esp_output(struct pf_worker *w, struct rte_mbuf *m, const struct pf_nexthop *nh)
{
	struct pf_esp_worker *e = w->esp;
	struct pf_sa *sa;
	struct esp_item *it;

	sa = __atomic_load_n(&w->t->cust[nh->customer].sa_out, __ATOMIC_ACQUIRE);
	if (unlikely(e == NULL || sa == NULL)) {
		pf_drop(w, m, PF_DROP_esp_no_sa);
		return;
	}
	if (unlikely(__atomic_load_n(&sa->flags, __ATOMIC_RELAXED) &
		     (PF_SA_HARD | PF_SA_SEQ_EXHAUSTED))) {
		pf_drop(w, m, sa->flags & PF_SA_SEQ_EXHAUSTED ? PF_DROP_esp_seq_exhausted
							      : PF_DROP_esp_sa_expired);
		return;
	}
	it = &e->out[e->n_out++];
	it->m = m;
	it->sa = sa;
	it->port = nh->port;
	it->hlen = RTE_ETHER_HDR_LEN + 4 * nh->tags.n; /* the L2 header to move */
	if (e->n_out == PF_ESP_BATCH)
		pf_esp_flush(w);
}

/* Sequence numbers, lifetime, headers and trailer for every batched packet; returns how
 * many remain (compacted in e->out). */
static uint16_t
out_prepare(struct pf_worker *w)
{
	struct pf_esp_worker *e = w->esp;
	struct pf_sa *sas[PF_ESP_BATCH];
	uint64_t next[PF_ESP_BATCH];
	uint16_t cnt[PF_ESP_BATCH], nsa = 0, k = 0, last = 0;

	/* one fetch-add per SA for the whole batch */
	for (uint16_t i = 0; i < e->n_out; i++) {
		struct pf_sa *sa = e->out[i].sa;
		uint16_t s = last;

		if (nsa == 0 || sas[s] != sa) {
			for (s = 0; s < nsa && sas[s] != sa; s++)
				;
			if (s == nsa) {
				sas[nsa] = sa;
				cnt[nsa++] = 0;
			}
			last = s;
		}
		cnt[s]++;
	}
	for (uint16_t s = 0; s < nsa; s++)
		next[s] = __atomic_fetch_add(&sas[s]->seq, cnt[s], __ATOMIC_RELAXED);
	last = 0;
	for (uint16_t i = 0; i < e->n_out; i++) {
		struct esp_item *it = &e->out[i];
		struct pf_sa *sa = it->sa;
		struct rte_mbuf *m = it->m;
		uint16_t s = last, l2 = it->hlen;
		uint32_t plen, pad;
		uint8_t *d, *tail, *o, *esp;
		struct rte_ipv4_hdr *oip;
		const struct rte_ipv4_hdr *gip;
		rte_be32_t v32;
		rte_be64_t v64;

		if (sas[s] != sa)
			for (s = 0; sas[s] != sa; s++)
				;
		last = s;
		it->seq = next[s]++;
		if (unlikely(!sa->esn && it->seq > UINT32_MAX)) {
			/* RFC 4303 3.3.3: no cycling; a new SA must be negotiated */
			__atomic_fetch_or(&sa->flags, PF_SA_SEQ_EXHAUSTED, __ATOMIC_RELAXED);
			pf_drop(w, m, PF_DROP_esp_seq_exhausted);
			continue;
		}
		plen = rte_pktmbuf_pkt_len(m) - l2;
		if (unlikely(!life_take(sa, plen))) {
			pf_drop(w, m, PF_DROP_esp_sa_expired);
			continue;
		}
		pad = (4 - ((plen + 2) & 3)) & 3;
		if (unlikely(m->nb_segs != 1 ||
			     (tail = (uint8_t *)rte_pktmbuf_append(m, pad + 2 + PF_ESP_ICV_LEN)) == NULL ||
			     (d = (uint8_t *)rte_pktmbuf_prepend(m, 20 + PF_ESP_HLEN + PF_ESP_IV_LEN)) == NULL)) {
			pf_drop(w, m, PF_DROP_no_mbuf);
			continue;
		}
		memmove(d, d + 20 + PF_ESP_HLEN + PF_ESP_IV_LEN, l2);
		o = d + l2;
		oip = (struct rte_ipv4_hdr *)o;
		esp = o + 20;
		gip = (const struct rte_ipv4_hdr *)(esp + PF_ESP_HLEN + PF_ESP_IV_LEN);
		oip->version_ihl = RTE_IPV4_VHL_DEF;
		oip->type_of_service = gip->type_of_service; /* RFC 4301 5.1.2.1: copy DSCP/ECN */
		oip->total_length = rte_cpu_to_be_16(20 + PF_ESP_HLEN + PF_ESP_IV_LEN + plen + pad +
						     2 + PF_ESP_ICV_LEN);
		oip->packet_id = rte_cpu_to_be_16(w->ip_id++);
		oip->fragment_offset = gip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
		oip->time_to_live = 64;
		oip->next_proto_id = IPPROTO_ESP;
		oip->src_addr = sa->tun_src;
		oip->dst_addr = sa->tun_dst;
		oip->hdr_checksum = 0;
		oip->hdr_checksum = rte_ipv4_cksum(oip);
		memcpy(esp, &sa->spi_be, 4);
		v32 = rte_cpu_to_be_32((uint32_t)it->seq);
		memcpy(esp + 4, &v32, 4);
		v64 = rte_cpu_to_be_64(it->seq); /* RFC 4106 3.1: the counter is the IV */
		memcpy(esp + 8, &v64, 8);
		for (uint32_t p = 0; p < pad; p++)
			tail[p] = (uint8_t)(p + 1);
		tail[pad] = (uint8_t)pad;
		tail[pad + 1] = PF_ESP_NH_IPV4;
		it->data = (uint8_t *)gip;
		it->len = plen + pad + 2;
		e->out[k++] = *it;
	}
	return k;
}

static void
out_process(struct pf_worker *w)
{
	struct pf_esp_worker *e = w->esp;
	int32_t st[PF_ESP_BATCH];
	uint16_t n;

	if (e->n_out == 0)
		return;
	n = out_prepare(w);
	e->n_out = 0;
	if (n == 0)
		return;
	if (e->cpu) {
		cpu_process(w, e->out, n, st);
		for (uint16_t i = 0; i < n; i++)
			out_done(w, &e->out[i], st[i] == 0);
	} else {
		async_submit(w, e->out, n, true);
	}
}

/* ---- inbound ------------------------------------------------------------------------- */

void
pf_esp_input(struct pf_worker *w, struct rte_mbuf *m, struct pf_meta *md)
{
	struct pf_esp_worker *e = w->esp;
	const struct pf_esp_tables *tb = __atomic_load_n(&w->t->esp, __ATOMIC_ACQUIRE);
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, md->l3);
	uint32_t hlen = (ip->version_ihl & 0xf) * 4u;
	uint32_t tlen = rte_be_to_cpu_16(ip->total_length), elen;
	const uint8_t *esp = (const uint8_t *)ip + hlen;
	struct esp_item *it;
	struct pf_sa *sa;

	if (unlikely(e == NULL || tb == NULL || md->family != 4)) {
		pf_drop(w, m, PF_DROP_not_for_us);
		return;
	}
	elen = tlen - hlen;
	if (unlikely(elen < PF_ESP_HLEN + PF_ESP_IV_LEN + 2 + PF_ESP_ICV_LEN)) {
		pf_drop(w, m, PF_DROP_esp_truncated);
		return;
	}
	sa = pf_esp_lookup(tb, pf_rd32(esp));
	if (unlikely(sa == NULL)) {
		pf_drop(w, m, PF_DROP_esp_unknown_spi);
		return;
	}
	if (unlikely(ip->src_addr != sa->tun_dst || ip->dst_addr != sa->tun_src)) {
		pf_drop(w, m, PF_DROP_esp_bad_tunnel);
		return;
	}
	if (unlikely(__atomic_load_n(&sa->flags, __ATOMIC_RELAXED) & PF_SA_HARD)) {
		pf_drop(w, m, PF_DROP_esp_sa_expired);
		return;
	}
	if (unlikely(e->n_in == PF_ESP_BATCH)) {
		pf_drop(w, m, PF_DROP_crypto_full);
		return;
	}
	it = &e->in[e->n_in++];
	it->m = m;
	it->sa = sa;
	it->seq = pf_rd32(esp + 4); /* the low half; inferred at flush */
	it->hlen = (uint16_t)hlen;
	it->data = (uint8_t *)esp + PF_ESP_HLEN + PF_ESP_IV_LEN;
	it->len = elen - PF_ESP_HLEN - PF_ESP_IV_LEN - PF_ESP_ICV_LEN;
	it->md = *md;
}

/* CPU crypto status: 0 good, 1 authentication failed (EBADMSG), -1 other error */
static inline int
st_kind(int32_t st)
{
	if (st == 0)
		return 0;
	return st == EBADMSG || st == -EBADMSG ? 1 : -1;
}

/* Decrypt and complete e->in[from, to) */
static void
in_round(struct pf_worker *w, uint16_t from, uint16_t to, struct rte_mbuf **again,
	 struct pf_meta *again_md, uint16_t *n_again)
{
	struct pf_esp_worker *e = w->esp;
	int32_t st[PF_ESP_BATCH];
	uint16_t n = to - from;

	if (n == 0)
		return;
	if (e->cpu) {
		cpu_process(w, &e->in[from], n, st);
		for (uint16_t i = 0; i < n; i++)
			in_done(w, &e->in[from + i], st_kind(st[i]), again, again_md, n_again);
	} else {
		async_submit(w, &e->in[from], n, false);
		async_dequeue(w, again, again_md, n_again);
	}
}

/*
 * Sequence numbers are inferred (ESN) and checked against the replay window here, for the
 * batch in order. The window only moves once a packet verified, so a packet whose ESN
 * high half depends on an earlier packet of the same batch (the low half wrapping inside
 * the batch) cannot be inferred before that one is verified: the batch is cut there into
 * two rounds. That happens near a 2^32 boundary only; forged packets cannot move the
 * window, they at most cost an extra round.
 */
void
pf_esp_input_flush(struct pf_worker *w, struct rte_mbuf **again, struct pf_meta *again_md,
		   uint16_t *n_again)
{
	struct pf_esp_worker *e = w->esp;
	uint16_t n = e->n_in, k = 0, start = 0, ns = 0;
	struct pf_sa *ssa[8];
	uint64_t stop[8];

	e->n_in = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct esp_item it = e->in[i];
		struct pf_sa *sa = it.sa;
		uint32_t low = (uint32_t)it.seq;
		uint64_t top = __atomic_load_n(&sa->seq, __ATOMIC_ACQUIRE);
		int r;

		it.seq = infer_at(sa, top, low);
		if (sa->esn) {
			uint16_t s;

			for (s = 0; s < ns && ssa[s] != sa; s++)
				;
			if (s == ns && ns < RTE_DIM(ssa)) {
				ssa[ns] = sa;
				stop[ns++] = top;
			}
			if (s == RTE_DIM(ssa) ||
			    infer_at(sa, RTE_MAX(top, stop[s]), low) != it.seq) {
				/* depends on what is not verified yet: finish the round first */
				in_round(w, start, k, again, again_md, n_again);
				start = k;
				ns = 0;
				top = __atomic_load_n(&sa->seq, __ATOMIC_ACQUIRE);
				it.seq = infer_at(sa, top, low);
				ssa[ns] = sa;
				stop[ns] = top;
				s = ns++;
			}
			stop[s] = RTE_MAX(stop[s], it.seq);
		}
		r = pf_esp_replay_check(sa, it.seq);
		if (unlikely(r != 0)) {
			pf_drop(w, it.m, (enum pf_drop)r);
			continue;
		}
		e->in[k++] = it;
	}
	in_round(w, start, k, again, again_md, n_again);
	if (!e->cpu && e->inflight)
		async_dequeue(w, again, again_md, n_again);
}

void
pf_esp_flush(struct pf_worker *w)
{
	struct pf_esp_worker *e = w->esp;

	if (e == NULL)
		return;
	out_process(w);
	if (!e->cpu && e->inflight) {
		struct rte_mbuf *pk[PF_ESP_BATCH];
		struct pf_meta md[PF_ESP_BATCH];
		uint16_t n = 0;

		async_dequeue(w, pk, md, &n);
		if (n)
			pf_ip_input(w, pk, md, n); /* may originate packets toward ESP again */
		out_process(w);
	}
}

void
pf_esp_worker_fini(struct pf_worker *w)
{
	struct pf_esp_worker *e = w->esp;

	if (e == NULL)
		return;
	for (uint16_t i = 0; i < e->n_out; i++)
		rte_pktmbuf_free(e->out[i].m);
	for (uint16_t i = 0; i < e->n_in; i++)
		rte_pktmbuf_free(e->in[i].m);
	e->n_out = e->n_in = 0;
	for (unsigned tries = 0; e->inflight && tries < 100000; tries++) {
		uint16_t n = rte_cryptodev_dequeue_burst(e->dev_id, e->qp, e->ops, 64);

		for (uint16_t i = 0; i < n; i++) {
			struct rte_crypto_op *op = e->ops[i];
			struct esp_opctx *cx = rte_crypto_op_ctod_offset(op, struct esp_opctx *,
									 IV_OFFSET);

			rte_pktmbuf_free(cx->it.m);
			__atomic_fetch_sub(&cx->it.sa->inflight, 1, __ATOMIC_RELEASE);
			rte_crypto_op_free(op);
			e->inflight--;
		}
	}
	rte_free(e);
	w->esp = NULL;
}
