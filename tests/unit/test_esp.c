/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of IPsec (dataplane/esp.c, control/ipsec.c) on crafted frames through ring
 * ports, with the example configuration plus an "ipsec" section for contoso and the real
 * crypto device crypto_aesni_gcm0 (CPU crypto):
 *   - known answers made by scapy (tests/fixtures/esp_vectors.h, from
 *     tests/unit/gen_esp_vectors.py): peerfwd decrypts scapy's ESP (with and without ESN)
 *     and its own ESP for the same sequence number equals scapy's byte for byte;
 *   - a round trip (our outbound ESP, fed back to an inbound SA with the same key);
 *   - every inbound drop reason with its counter, replay window edges, ESN wrap,
 *     sequence exhaustion without ESN (test hook: the SA's next sequence number), packet
 *     lifetimes, rekey (two inbound SAs, outbound switch), the management commands;
 *   - after each test the mbuf pool is full again.
 * Frames toward peerfwd's inbound SAs are encrypted here with sessions of our own on the
 * same device, so that any trailer (bad padding, next header 59/41) can be built.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <jansson.h>

#include <rte_cryptodev.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "common/config.h"
#include "common/counters.h"
#include "control/control.h"
#include "control/ipsec.h"
#include "control/mgmt.h"
#include "dataplane/esp.h"
#include "dataplane/worker.h"
#include "tests/common/pftest.h"
#include "tests/common/pftest_check.h"
#include "tests/common/pftest_pipe.h"
#include "tests/fixtures/esp_vectors.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif
#define EXAMPLE PF_SRCDIR "/configs/exchange-provider.json"
#define POOL_SIZE 2047
#define RING_SIZE 1024
#define MAXOUT 64

enum { EDGE = PFT_EDGE, CORE = PFT_CORE };

static struct pft_pipe P; /* pool, ports, tables, worker (tests/common/pftest_pipe.h) */
static struct pf_worker *w; /* P.w */
static struct rte_mempool *sess_pool;
static struct pf_ipsec *ips;
static char keydir[64];
static int dev;
static void *enc_in, *enc_in_esn, *enc_out; /* our encrypt sessions for K_IN, K_IN_ESN, K_OUT */

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define IP_CORE IP4(192, 0, 2, 1)
#define IP_TUN1 IP4(198, 51, 100, 1)
#define IP_TUN2 IP4(198, 51, 100, 2)
#define IP_ONPREM IP4(216, 221, 239, 233)
#define IP_VNET IP4(10, 0, 1, 5)
static const uint8_t MAC_EDGE[6] = {0x02, 0, 0, 0, 0x0e, 0x01};
static const uint8_t MAC_CORE[6] = {0x02, 0, 0, 0, 0x0c, 0x01};
static const uint8_t MAC_GW[6] = {0x02, 0, 0, 0, 0x0c, 0xfe};
static const uint8_t MAC_A101[6] = {0x02, 0, 0, 0, 0xa1, 0x01};

/* ---- assertions (CHECK, CHECK_EQ: tests/common/pftest_check.h) ----------------------- */

/* every drop counter not named is 0 */
struct kv { int k; uint64_t v; };
static void
check_drops_(int line, const struct kv *exp)
{
	for (unsigned i = 0; i < PF_DROP_MAX; i++) {
		uint64_t want = 0;

		for (const struct kv *e = exp; e->k >= 0; e++)
			if ((unsigned)e->k == i)
				want = e->v;
		if (w->c.drop[i] != want)
			pft_failf(__FILE__, line, "drop %s = %llu, expected %llu", pf_drop_names[i],
				  (unsigned long long)w->c.drop[i], (unsigned long long)want);
	}
}
#define D(r, n) {PF_DROP_##r, (n)},
#define DROPS(...) check_drops_(__LINE__, (const struct kv[]){__VA_ARGS__{-1, 0}})

/* ---- frames -------------------------------------------------------------------------- */

static struct pft_frame out[2][MAXOUT];
static unsigned nout[2], lost_out;

static void wr16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, v >> 16); wr16(p + 2, v & 0xffff); }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) << 16 | rd16(p + 2); }

/* IPv4 header (20 bytes) at p for a packet of total length len */
static void
ip4(uint8_t *p, unsigned len, uint8_t proto, uint32_t src, uint32_t dst, uint8_t ttl)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	wr16(p + 2, (uint16_t)len);
	wr16(p + 4, 0x4242);
	p[8] = ttl;
	p[9] = proto;
	wr32(p + 12, src);
	wr32(p + 16, dst);
	wr16(p + 10, pft_cksum(p, 20));
}

/* the customer's packet: IPv4/UDP with n payload bytes; returns its length */
static unsigned
udp4(uint8_t *p, uint32_t src, uint32_t dst, unsigned n, uint8_t ttl)
{
	ip4(p, 28 + n, 17, src, dst, ttl);
	wr16(p + 20, 80);
	wr16(p + 22, 2000);
	wr16(p + 24, (uint16_t)(8 + n));
	wr16(p + 26, 0); /* no checksum */
	for (unsigned i = 0; i < n; i++)
		p[28 + i] = (uint8_t)(i * 7);
	return 28 + n;
}

/* GRE packet (outer IPv4 + GRE key + the customer's IPv4 packet): length */
static unsigned
gre4(uint8_t *p, uint32_t src, uint32_t dst, uint32_t key, unsigned n)
{
	unsigned il = udp4(p + 28, IP_VNET, IP_ONPREM, n, 64);

	ip4(p, 28 + il, 47, src, dst, 64);
	wr16(p + 20, 0x2000);
	wr16(p + 22, 0x0800);
	wr32(p + 24, key);
	return 28 + il;
}

/* Ethernet + outer IPv4 + ESP, encrypted with sess (key || salt in key), trailer as
 * asked: pad_ok false writes a wrong padding byte. Returns the frame length. */
static unsigned
esp_frame(uint8_t *f, void *sess, const uint8_t *key, unsigned klen, uint32_t spi, uint64_t seq,
	  bool esn, const uint8_t *pt, unsigned ptlen, uint8_t nh, bool pad_ok, uint32_t osrc)
{
	unsigned pad = (4 - ((ptlen + 2) & 3)) & 3, elen, off = 14 + 20;
	uint8_t iv[12], aad[12];
	int32_t st = 0;
	struct rte_crypto_vec v;
	struct rte_crypto_sgl sgl = {.vec = &v, .num = 1};
	struct rte_crypto_va_iova_ptr ivp = {.va = iv}, ap = {.va = aad}, dp;
	struct rte_crypto_sym_vec vec = {.num = 1, .src_sgl = &sgl, .iv = &ivp, .digest = &dp,
					 .aad = &ap, .status = &st};
	union rte_crypto_sym_ofs ofs = {.raw = 0};

	if (pad == 0 && !pad_ok)
		pad = 4;
	elen = 8 + 8 + ptlen + pad + 2 + 16;
	memcpy(f, MAC_CORE, 6);
	memcpy(f + 6, MAC_GW, 6);
	wr16(f + 12, 0x0800);
	ip4(f + 14, 20 + elen, 50, osrc, IP_CORE, 64);
	wr32(f + off, spi);
	wr32(f + off + 4, (uint32_t)seq);
	wr32(f + off + 8, (uint32_t)(seq >> 32));
	wr32(f + off + 12, (uint32_t)seq);
	memcpy(f + off + 16, pt, ptlen);
	for (unsigned i = 0; i < pad; i++)
		f[off + 16 + ptlen + i] = (uint8_t)(i + 1);
	if (!pad_ok)
		f[off + 16 + ptlen + pad - 1] = 0x99;
	f[off + 16 + ptlen + pad] = (uint8_t)pad;
	f[off + 16 + ptlen + pad + 1] = nh;
	memcpy(iv, key + klen - 4, 4);
	memcpy(iv + 4, f + off + 8, 8);
	wr32(aad, spi);
	if (esn) {
		wr32(aad + 4, (uint32_t)(seq >> 32));
		wr32(aad + 8, (uint32_t)seq);
	} else {
		wr32(aad + 4, (uint32_t)seq);
	}
	v.base = f + off + 16;
	v.len = v.tot_len = ptlen + pad + 2;
	dp.va = f + off + 16 + ptlen + pad + 2;
	if (rte_cryptodev_sym_cpu_crypto_process((uint8_t)dev, sess, ofs, &vec) != 1 || st != 0)
		CHECK(false, "test-side encryption failed (%d)", st);
	return 14 + 20 + elen;
}

/* An inbound ESP frame for SA 0x2001 (K_IN) carrying a GRE packet of contoso */
static unsigned
in_frame(uint8_t *f, uint64_t seq)
{
	uint8_t g[256];
	unsigned gl = gre4(g, IP_TUN1, IP_CORE, 1001, 20 + (unsigned)(seq % 13));

	return esp_frame(f, enc_in, KAT_K_IN, 20, 0x2001, seq, false, g, gl, 4, true, IP_TUN1);
}

static void
collect(void)
{
	for (int e = 0; e < 2; e++)
		pft_collect(&P, e, out[e], MAXOUT, &nout[e], &lost_out);
}

/* frames (concatenated in d, lengths in len[]) as one burst on a port */
static void
send_burst(int port, uint8_t (*d)[2048], const unsigned *len, unsigned n)
{
	struct rte_mbuf *m[64];

	for (unsigned i = 0; i < n; i++)
		m[i] = pft_frame_mbuf(&P, d[i], len[i]);
	pft_input(&P, port, m, n);
	collect();
}

static void
send1(int port, const uint8_t *d, unsigned n)
{
	struct rte_mbuf *m = pft_frame_mbuf(&P, d, n);

	pft_input(&P, port, &m, 1);
	collect();
}

static void
fresh(void)
{
	collect();
	nout[EDGE] = nout[CORE] = 0;
	memset(w->c.drop, 0, sizeof(w->c.drop));
	memset(w->c.event, 0, sizeof(w->c.event));
}

/* an edge frame of contoso toward a VNet */
static unsigned
edge_frame(uint8_t *f, unsigned n)
{
	memcpy(f, MAC_EDGE, 6);
	memcpy(f + 6, MAC_A101, 6);
	wr16(f + 12, 0x8100);
	wr16(f + 14, 555);
	wr16(f + 16, 0x0800);
	return 18 + udp4(f + 18, IP_ONPREM, IP_VNET, n, 64);
}

/* ---- fixture ------------------------------------------------------------------------- */

static int
write_key(const char *name, const uint8_t *k, unsigned n, char *path, size_t plen)
{
	FILE *f;

	snprintf(path, plen, "%s/%s", keydir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "# test key\n");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%02x%s", k[i], i % 16 == 15 ? "\n" : "");
	fprintf(f, "\n");
	fclose(f);
	return chmod(path, 0600);
}

static json_t *
sa_obj(unsigned spi, const char *dir, const char *alg, const char *kf, bool esn)
{
	return json_pack("{sIsssssssb}", "spi", (json_int_t)spi, "direction", dir, "algorithm", alg,
			 "key_file", kf, "esn", esn);
}

static void *
enc_session(const uint8_t *key, unsigned klen, bool esn)
{
	struct rte_crypto_sym_xform x = {.type = RTE_CRYPTO_SYM_XFORM_AEAD};

	x.aead.op = RTE_CRYPTO_AEAD_OP_ENCRYPT;
	x.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
	x.aead.key.data = key;
	x.aead.key.length = (uint16_t)(klen - 4);
	x.aead.iv.offset = PF_ESP_IV_OFFSET;
	x.aead.iv.length = 12;
	x.aead.digest_length = 16;
	x.aead.aad_length = esn ? 12 : 8;
	return rte_cryptodev_sym_session_create((uint8_t)dev, &x, sess_pool);
}

/* contoso's SAs (arg: the key files out, in, in-esn) */
static int
add_sas(json_t *root, void *arg)
{
	char(*k)[256] = arg;
	json_t *c, *sas;
	size_t i;

	json_array_foreach(json_object_get(root, "customers"), i, c) {
		if (strcmp(json_string_value(json_object_get(c, "name")), "contoso") != 0)
			continue;
		sas = json_array();
		json_array_append_new(sas, sa_obj(0x1001, "out", "aes-gcm-128", k[0], false));
		json_array_append_new(sas, sa_obj(0x2001, "in", "aes-gcm-128", k[1], false));
		json_array_append_new(sas, sa_obj(0x2002, "in", "aes-gcm-256", k[2], true));
		/* the round trip: our own outbound ESP comes back to this one */
		json_array_append_new(sas, sa_obj(0x1001, "in", "aes-gcm-128", k[0], false));
		json_object_set_new(c, "ipsec", json_pack("{so}", "sas", sas));
	}
	return 0;
}

static int
suite_init(void)
{
	static char keys[3][256]; /* out, in, in-esn */
	static const struct pft_pipe_opts o = {
		.prog = "test_esp", .prefix = "ue", .pool_size = POOL_SIZE, .ring_size = RING_SIZE,
		.config = EXAMPLE, .edit = add_sas, .edit_arg = keys,
		.tmpl = "/tmp/pf_test_esp_XXXXXX.json"};
	char err[512];

	snprintf(keydir, sizeof(keydir), "/tmp/pf_test_esp_XXXXXX");
	if (mkdtemp(keydir) == NULL)
		return -1;
	if (write_key("out.key", KAT_K_OUT, 20, keys[0], sizeof(keys[0])) < 0 ||
	    write_key("in.key", KAT_K_IN, 20, keys[1], sizeof(keys[1])) < 0 ||
	    write_key("in-esn.key", KAT_K_IN_ESN, 36, keys[2], sizeof(keys[2])) < 0)
		return -1;
	if (pft_pipe_up(&P, &o) < 0)
		return -1;
	w = P.w;
	if (pf_ipsec_create(&ips, P.cfg, &P.tbl, NULL, 1, "crypto_aesni_gcm0", err, sizeof(err)) < 0 ||
	    ips == NULL) {
		fprintf(stderr, "pf_ipsec_create: %s\n", err);
		return -1;
	}
	dev = rte_cryptodev_get_dev_id("crypto_aesni_gcm0");
	sess_pool = rte_cryptodev_sym_session_pool_create("ue_sess", 16,
			rte_cryptodev_sym_get_private_session_size((uint8_t)dev), 0, 0, SOCKET_ID_ANY);
	if (dev < 0 || sess_pool == NULL)
		return -1;
	enc_in = enc_session(KAT_K_IN, 20, false);
	enc_in_esn = enc_session(KAT_K_IN_ESN, 36, true);
	enc_out = enc_session(KAT_K_OUT, 20, false);
	if (enc_in == NULL || enc_in_esn == NULL || enc_out == NULL)
		return -1;
	if (pf_ipsec_worker_init(ips, w) < 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	if (w) {
		collect();
		pf_esp_worker_fini(w);
	}
	if (enc_in)
		rte_cryptodev_sym_session_free((uint8_t)dev, enc_in);
	if (enc_in_esn)
		rte_cryptodev_sym_session_free((uint8_t)dev, enc_in_esn);
	if (enc_out)
		rte_cryptodev_sym_session_free((uint8_t)dev, enc_out);
	pf_ipsec_free(ips);
	rte_mempool_free(sess_pool);
	pft_pipe_down(&P);
	w = NULL;
	if (keydir[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", keydir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", keydir);
	}
	return 0;
}

static void
setup(void)
{
	fresh();
}

static void
teardown(void)
{
	collect();
	CHECK_EQ(rte_mempool_avail_count(P.pool), POOL_SIZE);
}

static const char *
nn(const char *s)
{
	return s != NULL ? s : "(null)";
}

static struct pf_sa *
sa(uint32_t spi, bool o)
{
	return pf_ipsec_sa_find(ips, 0, spi, o);
}

/* ---- tests --------------------------------------------------------------------------- */

static void
test_kat_outbound(void)
{
	const uint8_t *f;

	w->ip_id = 0x1234;
	sa(0x1001, true)->seq = 1;
	send1(EDGE, KAT_OUT_EDGE, sizeof(KAT_OUT_EDGE));
	DROPS();
	CHECK_EQ(nout[CORE], 1);
	if (nout[CORE] != 1)
		return;
	f = out[CORE][0].d;
	CHECK_EQ(out[CORE][0].n, 14 + 20 + sizeof(KAT_OUT_ESP));
	CHECK(memcmp(f, MAC_GW, 6) == 0 && memcmp(f + 6, MAC_CORE, 6) == 0, "MACs");
	CHECK_EQ(f[14], 0x45);
	CHECK_EQ(rd16(f + 16), 20 + sizeof(KAT_OUT_ESP));
	CHECK_EQ(rd16(f + 18), 0x1235); /* after the GRE header's 0x1234 */
	CHECK_EQ(f[22], 64);
	CHECK_EQ(f[23], 50);
	CHECK_EQ(rd32(f + 26), IP_CORE);
	CHECK_EQ(rd32(f + 30), IP_TUN1);
	CHECK_EQ(pft_cksum(f + 14, 20), 0);
	CHECK(out[CORE][0].n == 34 + sizeof(KAT_OUT_ESP) &&
	      memcmp(f + 34, KAT_OUT_ESP, sizeof(KAT_OUT_ESP)) == 0,
	      "ESP (SPI, seq, IV, ciphertext, ICV) differs from scapy's");
	CHECK_EQ(w->c.event[PF_EV_esp_encrypted], 1);
	CHECK_EQ(w->c.event[PF_EV_gre_encap], 1);
}

static void
kat_in(const uint8_t *fr, unsigned n, const uint8_t *exp, unsigned en)
{
	send1(CORE, fr, n);
	DROPS();
	CHECK_EQ(w->c.event[PF_EV_esp_decrypted], 1);
	CHECK_EQ(w->c.event[PF_EV_gre_decap], 1);
	CHECK_EQ(nout[EDGE], 1);
	if (nout[EDGE] == 1) {
		CHECK_EQ(out[EDGE][0].n, 18 + en);
		CHECK_EQ(rd16(out[EDGE][0].d + 14) & 0xfff, 555);
		CHECK(memcmp(out[EDGE][0].d + 18, exp, en) == 0, "inner packet differs");
	}
}

static void
test_kat_inbound(void)
{
	kat_in(KAT_IN_FRAME, sizeof(KAT_IN_FRAME), KAT_IN_INNER_FWD, sizeof(KAT_IN_INNER_FWD));
	CHECK_EQ(sa(0x2001, false)->seq, 5);
}

static void
test_kat_inbound_esn(void)
{
	kat_in(KAT_IN_ESN_FRAME, sizeof(KAT_IN_ESN_FRAME), KAT_IN_ESN_INNER_FWD,
	       sizeof(KAT_IN_ESN_INNER_FWD));
	CHECK_EQ(sa(0x2002, false)->seq, 7);
}

static void
test_roundtrip(void)
{
	uint8_t f[2048];
	unsigned n = edge_frame(f, 100);
	uint8_t *o;

	send1(EDGE, f, n);
	CHECK_EQ(nout[CORE], 1);
	if (nout[CORE] != 1)
		return;
	/* back to us: outer addresses swapped (the ICV does not cover them) */
	o = out[CORE][0].d;
	n = out[CORE][0].n;
	memcpy(f, o, n);
	memcpy(f, MAC_CORE, 6);
	memcpy(f + 6, MAC_GW, 6);
	wr32(f + 26, IP_TUN1);
	wr32(f + 30, IP_CORE);
	wr16(f + 24, 0);
	wr16(f + 24, pft_cksum(f + 14, 20));
	fresh();
	send1(CORE, f, n);
	/* decrypted and verified; the GRE packet inside is for the cloud: wrong direction */
	CHECK_EQ(w->c.event[PF_EV_esp_decrypted], 1);
	DROPS(D(wrong_dir, 1));
	f[n - 1] ^= 0x40;
	fresh();
	send1(CORE, f, n);
	DROPS(D(esp_replay, 1)); /* the window is checked before the ICV */
}

static uint64_t next_in = 100;

static void
test_drop_reasons(void)
{
	uint8_t f[2048], g[512];
	unsigned n, gl;

	/* unknown SPI */
	gl = gre4(g, IP_TUN1, IP_CORE, 1001, 30);
	n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x7777, next_in++, false, g, gl, 4, true, IP_TUN1);
	send1(CORE, f, n);
	DROPS(D(esp_unknown_spi, 1));
	/* ICV */
	fresh();
	n = in_frame(f, next_in++);
	f[n - 3] ^= 1;
	send1(CORE, f, n);
	DROPS(D(esp_bad_icv, 1));
	/* truncated */
	fresh();
	n = in_frame(f, next_in++);
	n = 14 + 20 + 8 + 8 + 16;
	wr16(f + 16, (uint16_t)(n - 14));
	wr16(f + 24, 0);
	wr16(f + 24, pft_cksum(f + 14, 20));
	send1(CORE, f, n);
	DROPS(D(esp_truncated, 1));
	/* tunnel */
	fresh();
	n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x2001, next_in++, false, g, gl, 4, true, IP_TUN2);
	send1(CORE, f, n);
	DROPS(D(esp_bad_tunnel, 1));
	/* padding */
	fresh();
	n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x2001, next_in++, false, g, gl, 4, false, IP_TUN1);
	send1(CORE, f, n);
	DROPS(D(esp_bad_padding, 1));
	/* next header: IPv6 (41) is not supported, 59 is a dummy packet */
	fresh();
	n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x2001, next_in++, false, g, gl, 41, true, IP_TUN1);
	send1(CORE, f, n);
	DROPS(D(esp_bad_next_header, 1));
	fresh();
	n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x2001, next_in++, false, g, gl, 59, true, IP_TUN1);
	send1(CORE, f, n);
	DROPS(D(esp_dummy, 1));
	/* replay */
	fresh();
	n = in_frame(f, next_in++);
	send1(CORE, f, n);
	send1(CORE, f, n);
	DROPS(D(esp_replay, 1));
	CHECK_EQ(nout[EDGE], 1);
	/* plain GRE with contoso's key */
	fresh();
	memcpy(f, MAC_CORE, 6);
	memcpy(f + 6, MAC_GW, 6);
	wr16(f + 12, 0x0800);
	memcpy(f + 14, g, gl);
	send1(CORE, f, 14 + gl);
	DROPS(D(gre_plain_on_ipsec, 1));
	/* fabrikam's GRE (key and endpoints) inside contoso's SA */
	fresh();
	gl = gre4(g, IP_TUN2, IP_CORE, 2002, 30);
	n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x2001, next_in++, false, g, gl, 4, true, IP_TUN1);
	send1(CORE, f, n);
	DROPS(D(esp_wrong_customer, 1));
	/* fabrikam's plain GRE is not affected */
	fresh();
	memcpy(f + 14, g, gl);
	wr32(f + 14 + 12, IP_TUN2);
	memcpy(f, MAC_CORE, 6);
	memcpy(f + 6, MAC_GW, 6);
	wr16(f + 12, 0x0800);
	send1(CORE, f, 14 + gl);
	DROPS(D(no_route, 1)); /* decapsulated; contoso's address means nothing to fabrikam */
	CHECK_EQ(w->c.event[PF_EV_gre_decap], 1);
}

static void
test_replay_window_edges(void)
{
	uint8_t f[2048];
	unsigned n;
	uint64_t t = 5000;

	next_in = t + 200000;
	n = in_frame(f, t);
	send1(CORE, f, n);
	DROPS();
	CHECK_EQ(sa(0x2001, false)->seq, t);
	n = in_frame(f, t - 1023); /* window - 1 behind: still inside */
	send1(CORE, f, n);
	DROPS();
	n = in_frame(f, t - 1024); /* window behind: left of it */
	send1(CORE, f, n);
	DROPS(D(esp_too_old, 1));
	fresh();
	n = in_frame(f, t + 100000); /* far ahead: the window jumps */
	send1(CORE, f, n);
	n = in_frame(f, t); /* now far behind */
	send1(CORE, f, n);
	DROPS(D(esp_too_old, 1));
	fresh();
	n = in_frame(f, t + 100000 - 1);
	send1(CORE, f, n);
	send1(CORE, f, n);
	DROPS(D(esp_replay, 1));
	CHECK_EQ(nout[EDGE], 1);
	CHECK_EQ(sa(0x2001, false)->seq, t + 100000);
}

static void
test_replay_functions(void)
{
	struct pf_sa *s = rte_zmalloc("t", sizeof(*s) + 64 * sizeof(rte_int128_t), 64);

	s->window = 1024;
	s->win_mask = 31;
	CHECK_EQ(pf_esp_replay_check(s, 0), PF_DROP_esp_too_old);
	CHECK_EQ(pf_esp_replay_check(s, 1), 0);
	CHECK_EQ(pf_esp_replay_update(s, 1), 0);
	CHECK_EQ(pf_esp_replay_update(s, 1), PF_DROP_esp_replay);
	CHECK_EQ(pf_esp_replay_update(s, 3000), 0);
	CHECK_EQ(pf_esp_replay_check(s, 3000 - 1023), 0);
	CHECK_EQ(pf_esp_replay_check(s, 3000 - 1024), PF_DROP_esp_too_old);
	CHECK_EQ(pf_esp_replay_update(s, 3000 - 1023), 0);
	CHECK_EQ(pf_esp_replay_check(s, 3000 - 1023), PF_DROP_esp_replay);
	/* every bit of a full window, then all replays */
	for (uint64_t q = 3001; q <= 3000 + 1024; q++)
		CHECK(pf_esp_replay_update(s, q) == 0, "update %llu", (unsigned long long)q);
	for (uint64_t q = 3001; q <= 3000 + 1024; q++)
		CHECK(pf_esp_replay_check(s, q) == PF_DROP_esp_replay, "replay %llu",
		      (unsigned long long)q);
	/* ESN inference (RFC 4303 A2.2) */
	s->esn = 1;
	s->seq = 0x100000005ull;
	CHECK_EQ(pf_esp_seq_infer(s, 6), 0x100000006ull);
	CHECK_EQ(pf_esp_seq_infer(s, 0xfffffff0u), 0xfffffff0ull);     /* previous epoch */
	CHECK_EQ(pf_esp_seq_infer(s, 0x80000000u), 0x180000000ull);    /* ahead */
	s->seq = 0x1fffffff0ull;
	CHECK_EQ(pf_esp_seq_infer(s, 2), 0x200000002ull);              /* low half wrapped */
	CHECK_EQ(pf_esp_seq_infer(s, 0xffffff00u), 0x1ffffff00ull);
	rte_free(s);
}

static void
test_esn_wrap_in_one_burst(void)
{
	static uint8_t f[4][2048];
	unsigned len[4];
	const uint64_t seqs[4] = {0xfffffffeull, 0xffffffffull, 0x100000000ull, 0x100000003ull};
	uint8_t g[512];

	for (unsigned i = 0; i < 4; i++) {
		unsigned gl = gre4(g, IP_TUN1, IP_CORE, 1001, 10 + i);

		len[i] = esp_frame(f[i], enc_in_esn, KAT_K_IN_ESN, 36, 0x2002, seqs[i], true, g, gl, 4,
				   true, IP_TUN1);
	}
	sa(0x2002, false)->seq = 0xfffffff0ull; /* test hook: near the wrap */
	send_burst(CORE, f, len, 4);
	DROPS();
	CHECK_EQ(nout[EDGE], 4);
	CHECK_EQ(sa(0x2002, false)->seq, 0x100000003ull);
	/* the previous epoch's packet again: a replay */
	fresh();
	send1(CORE, f[1], len[1]);
	DROPS(D(esp_replay, 1));
}

static void
test_seq_exhausted(void)
{
	uint8_t f[2048];
	unsigned n = edge_frame(f, 40);
	struct pf_sa *s = sa(0x1001, true);

	s->seq = 0xfffffffeull; /* test hook */
	for (int i = 0; i < 3; i++)
		send1(EDGE, f, n);
	CHECK_EQ(nout[CORE], 2);
	if (nout[CORE] == 2) {
		CHECK_EQ(rd32(out[CORE][0].d + 34 + 4), 0xfffffffeu);
		CHECK_EQ(rd32(out[CORE][1].d + 34 + 4), 0xffffffffu);
	}
	DROPS(D(esp_seq_exhausted, 1));
	CHECK(s->flags & PF_SA_SEQ_EXHAUSTED, "flag set");
	send1(EDGE, f, n);
	DROPS(D(esp_seq_exhausted, 2));
	s->flags = 0;
	s->seq = 10;
}

static void
add_sa(uint32_t spi, bool o, const uint8_t *key, uint64_t life_pkts)
{
	struct pf_sa_conf sc;
	char err[300];

	memset(&sc, 0, sizeof(sc));
	sc.spi = spi;
	sc.out = o;
	sc.alg = PF_ESP_AES_GCM_128;
	sc.replay_window = o ? 0 : 64;
	sc.lifetime_packets = life_pkts;
	memcpy(sc.key, key, 20);
	sc.key_len = 20;
	snprintf(sc.key_file, sizeof(sc.key_file), "test");
	CHECK(pf_ipsec_sa_add(ips, 0, &sc, err, sizeof(err)) == 0, "sa add %u: %s", spi, err);
}

static void
test_lifetime(void)
{
	uint8_t f[2048], g[512], e[2048];
	unsigned n, gl = gre4(g, IP_TUN1, IP_CORE, 1001, 30), en = edge_frame(e, 20);
	char err[200];

	add_sa(0x2003, false, KAT_K_IN, 3);
	for (uint64_t q = 1; q <= 4; q++) {
		n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x2003, q, false, g, gl, 4, true, IP_TUN1);
		send1(CORE, f, n);
	}
	CHECK_EQ(nout[EDGE], 3);
	DROPS(D(esp_sa_expired, 1));
	CHECK((sa(0x2003, false)->flags & (PF_SA_HARD | PF_SA_SOFT)) == (PF_SA_HARD | PF_SA_SOFT),
	      "alarm flags");
	fresh();
	n = esp_frame(f, enc_in, KAT_K_IN, 20, 0x2003, 9, false, g, gl, 4, true, IP_TUN1);
	send1(CORE, f, n);
	DROPS(D(esp_sa_expired, 1));
	CHECK_EQ(pf_ipsec_sa_del(ips, 0, 0x2003, -1, err, sizeof(err)), 0);
	/* outbound: two packets, then expired */
	fresh();
	add_sa(0x1002, true, KAT_K_OUT, 2);
	for (int i = 0; i < 3; i++)
		send1(EDGE, e, en);
	CHECK_EQ(nout[CORE], 2);
	if (nout[CORE])
		CHECK_EQ(rd32(out[CORE][0].d + 34), 0x1002);
	DROPS(D(esp_sa_expired, 1));
	CHECK_EQ(pf_ipsec_sa_del(ips, 0, 0x1002, 1, err, sizeof(err)), 0);
	fresh();
	send1(EDGE, e, en);
	CHECK_EQ(nout[CORE], 1);
	if (nout[CORE])
		CHECK_EQ(rd32(out[CORE][0].d + 34), 0x1001); /* the remaining one is active again */
	pf_ipsec_poll(ips);
}

static void
test_rekey(void)
{
	static uint8_t f[2][2048];
	unsigned len[2], en;
	uint8_t g[512], e[2048];
	char err[200];
	unsigned gl = gre4(g, IP_TUN1, IP_CORE, 1001, 30);
	json_t *l;

	add_sa(0x2004, false, KAT_K_IN, 0);
	/* old and new inbound SA in one burst */
	len[0] = in_frame(f[0], next_in++);
	len[1] = esp_frame(f[1], enc_in, KAT_K_IN, 20, 0x2004, 1, false, g, gl, 4, true, IP_TUN1);
	send_burst(CORE, f, len, 2);
	DROPS();
	CHECK_EQ(nout[EDGE], 2);
	/* outbound switches to the newest SA at once */
	fresh();
	add_sa(0x1005, true, KAT_K_OUT, 0);
	en = edge_frame(e, 50);
	send1(EDGE, e, en);
	CHECK_EQ(nout[CORE], 1);
	if (nout[CORE]) {
		CHECK_EQ(rd32(out[CORE][0].d + 34), 0x1005);
		CHECK_EQ(rd32(out[CORE][0].d + 38), 1);
	}
	l = pf_ipsec_sa_list(ips, 0);
	CHECK(json_array_size(l) == 6, "sa list has %zu SAs", json_array_size(l));
	{
		char *s = json_dumps(l, 0);

		CHECK(strstr(s, "\"inactive\"") != NULL, "the old outbound SA is inactive: %s", nn(s));
		CHECK(strstr(s, "0102030405") == NULL && strstr(s, "a1a2a3a4") == NULL, "no key");
		free(s);
	}
	json_decref(l);
	/* the old inbound SA goes; its packets are unknown now */
	fresh();
	CHECK_EQ(pf_ipsec_sa_del(ips, 0, 0x2004, 0, err, sizeof(err)), 0);
	len[1] = esp_frame(f[1], enc_in, KAT_K_IN, 20, 0x2004, 2, false, g, gl, 4, true, IP_TUN1);
	send1(CORE, f[1], len[1]);
	DROPS(D(esp_unknown_spi, 1));
	CHECK_EQ(pf_ipsec_sa_del(ips, 0, 0x1005, 1, err, sizeof(err)), 0);
	CHECK(pf_ipsec_sa_del(ips, 0, 0x1005, 1, err, sizeof(err)) == -ENOENT, "deleted twice");
	CHECK(pf_ipsec_sa_del(ips, 0, 0x1001, -1, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "both") != NULL, "ambiguous SPI: %s", err);
}

static void
test_mgmt_commands(void)
{
	struct pf_mgmt_ctx mc = {.cfg = P.cfg, .t = &P.tbl, .ipsec = ips};
	char path[300], line[1024];
	json_t *rep;
	char *s;

	snprintf(line, sizeof(line), "{\"cmd\": \"sa-list\", \"customer\": \"contoso\"}");
	rep = pf_mgmt_handle_line(&mc, line, strlen(line));
	s = json_dumps(rep, 0);
	CHECK(json_is_true(json_object_get(rep, "ok")), "sa-list: %s", nn(s));
	CHECK(strstr(s, "a1a2a3a4") == NULL && strstr(s, "0102030405") == NULL, "no key: %s", nn(s));
	free(s);
	json_decref(rep);
	/* a key file others may read is refused, naming the mode, not the key */
	write_key("loose.key", KAT_K_IN, 20, path, sizeof(path));
	chmod(path, 0644);
	snprintf(line, sizeof(line), "{\"cmd\": \"sa-add\", \"customer\": \"contoso\", \"sa\": "
		 "{\"spi\": 12345, \"direction\": \"in\", \"algorithm\": \"aes-gcm-128\", "
		 "\"key_file\": \"%s\"}}", path);
	rep = pf_mgmt_handle_line(&mc, line, strlen(line));
	s = json_dumps(rep, 0);
	CHECK(strstr(s, "must not be readable by group or others (mode 0644)") != NULL, "%s", nn(s));
	CHECK(strstr(s, "2021222324") == NULL, "no key in the error");
	free(s);
	json_decref(rep);
	chmod(path, 0600);
	rep = pf_mgmt_handle_line(&mc, line, strlen(line));
	s = json_dumps(rep, 0);
	CHECK(json_is_true(json_object_get(rep, "ok")), "sa-add: %s", nn(s));
	free(s);
	json_decref(rep);
	snprintf(line, sizeof(line), "{\"cmd\": \"sa-del\", \"customer\": \"contoso\", \"spi\": 12345}");
	rep = pf_mgmt_handle_line(&mc, line, strlen(line));
	CHECK(json_is_true(json_object_get(rep, "ok")), "sa-del");
	json_decref(rep);
}

int
main(void)
{
	static const CU_TestInfo tests[] = {
		{"kat_outbound", test_kat_outbound},
		{"kat_inbound", test_kat_inbound},
		{"kat_inbound_esn", test_kat_inbound_esn},
		{"roundtrip", test_roundtrip},
		{"drop_reasons", test_drop_reasons},
		{"replay_window_edges", test_replay_window_edges},
		{"replay_functions", test_replay_functions},
		{"esn_wrap_in_one_burst", test_esn_wrap_in_one_burst},
		{"seq_exhausted", test_seq_exhausted},
		{"lifetime", test_lifetime},
		{"rekey", test_rekey},
		{"mgmt_commands", test_mgmt_commands},
	};

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (pft_cunit_suite("esp", suite_init, suite_clean, setup, teardown, tests,
			    RTE_DIM(tests)) < 0)
		return pft_cunit_fail();
	return pft_cunit_run();
}
