/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the FRR zebra FPM parser (control/feed_fpm.h). The input is an FPM
 * byte stream. Checked beyond ASan/UBSan:
 *   - consumed <= len, n_out <= max, -EPROTO/-ENOBUFS only as documented;
 *   - every route message is well formed (op ADD/DEL, source FPM, family 4/6, length within
 *     the family, host bits zero, ctx a known context, n_nh <= PF_RT_MAX_NH, an ADD has a
 *     next hop unless it is a blackhole, next-hop families 4/6, no peer);
 *   - parsing the stream in arbitrary pieces (as TCP delivers it, with a small out array)
 *     gives exactly the same messages and counters as parsing it at once.
 * Build and run: tests/fuzz/build_fpm.sh [SECONDS].
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "control/feed.h"
#include "control/feed_fpm.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif

static struct pf_config *cfg;
static struct pf_ctxmap *map;
static unsigned n_ctx;
static struct pf_route_msg out_a[PF_FPM_OUT_MAX], out_b[PF_FPM_OUT_MAX];
static uint8_t acc[2 * 65536 + 64];

#define CHECK(c)                                                                           \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "fuzz_fpm: check failed: %s (line %d)\n", #c,      \
				__LINE__);                                                 \
			__builtin_trap();                                                  \
		}                                                                          \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	if (pf_config_load(PF_SRCDIR "/tests/fixtures/fpm/exchange-provider-fpm.json", &cfg, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_fpm: %s\n", err);
		abort();
	}
	map = pf_ctxmap_create(cfg);
	if (map == NULL)
		abort();
	n_ctx = 1;
	for (size_t c = 0; c < cfg->n_customers; c++)
		n_ctx += (unsigned)cfg->customers[c].n_contexts;
	return 0;
}

static void
feed_init(struct pf_feed *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "fpm");
	f->source = PF_SRC_FPM;
	f->logged = ~0u; /* no log lines per input */
}

static void
check_msg(const struct pf_route_msg *m)
{
	unsigned alen, maxlen;

	CHECK(m->op == PF_RT_ADD || m->op == PF_RT_DEL);
	CHECK(m->source == PF_SRC_FPM);
	CHECK(m->family == 4 || m->family == 6);
	alen = m->family == 4 ? 4 : 16;
	maxlen = alen * 8;
	CHECK(m->len <= maxlen);
	for (unsigned i = 0; i < 16; i++) {
		unsigned bit0 = i * 8;
		uint8_t mask;

		if (i >= alen) {
			CHECK(m->prefix[i] == 0);
			continue;
		}
		if (bit0 + 8 <= m->len)
			continue;
		mask = bit0 >= m->len ? 0xff : (uint8_t)(0xffu >> (m->len - bit0));
		CHECK((m->prefix[i] & mask) == 0);
	}
	CHECK(m->ctx < n_ctx);
	CHECK(m->n_nh <= PF_RT_MAX_NH);
	CHECK((m->flags & ~PF_RT_F_BLACKHOLE) == 0);
	if (m->op == PF_RT_DEL)
		CHECK(m->n_nh == 0 && m->flags == 0);
	else if (m->flags & PF_RT_F_BLACKHOLE)
		CHECK(m->n_nh == 0);
	else
		CHECK(m->n_nh >= 1);
	for (unsigned i = 0; i < m->n_nh; i++)
		CHECK(m->nh[i].family == 4 || m->nh[i].family == 6);
	CHECK(m->peer.family == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pf_feed fa, fb;
	size_t used_a = 0, used, have = 0, fed = 0;
	unsigned na = 0, nb = 0, n, small;
	uint32_t rng;
	int ra, r;

	/* one FPM message is at most 65535 bytes; capping the input there bounds the route
	 * messages of the whole input by PF_FPM_OUT_MAX, so A never stops for room */
	if (size > PF_FPM_MAX_MSG)
		size = PF_FPM_MAX_MSG;
	/* A: all at once */
	feed_init(&fa);
	ra = pf_fpm_parse(data, size, &used_a, map, &fa, out_a, PF_FPM_OUT_MAX, &na);
	CHECK(ra == 0 || ra == -EPROTO);
	CHECK(used_a <= size);
	CHECK(na <= PF_FPM_OUT_MAX);
	if (ra == 0)
		CHECK(size - used_a < 4 || size - used_a < (((size_t)data[used_a + 2] << 8) |
							     data[used_a + 3]));
	for (unsigned i = 0; i < na; i++)
		check_msg(&out_a[i]);

	/* B: in pieces, with a small out array (the pieces come from the data itself) */
	feed_init(&fb);
	rng = 2166136261u;
	for (size_t i = 0; i < size && i < 16; i++)
		rng = (rng ^ data[i]) * 16777619u;
	small = 1 + rng % 16;
	r = 0;
	for (;;) {
		size_t k;

		rng = rng * 1103515245u + 12345u;
		k = 1 + (rng >> 8) % 300;
		if (k > size - fed)
			k = size - fed;
		memcpy(acc + have, data + fed, k);
		have += k;
		fed += k;
		for (;;) {
			r = pf_fpm_parse(acc, have, &used, map, &fb, out_b + nb,
					 nb + small <= PF_FPM_OUT_MAX ? small : PF_FPM_OUT_MAX - nb,
					 &n);
			if (r == -ENOBUFS) {
				/* too little room for the next FPM message (the ones before it, which
				 * yielded nothing, are consumed): retry with all the room left */
				size_t u2 = 0;

				CHECK(n == 0 && used <= have);
				r = pf_fpm_parse(acc + used, have - used, &u2, map, &fb, out_b + nb,
						 PF_FPM_OUT_MAX - nb, &n);
				CHECK(r != -ENOBUFS);
				used += u2;
			}
			CHECK(used <= have);
			nb += n;
			CHECK(nb <= na);
			memmove(acc, acc + used, have - used);
			have -= used;
			if (r < 0 || used == 0)
				break;
		}
		if (r < 0 || fed == size)
			break;
	}
	CHECK(r == ra);
	CHECK(nb == na);
	CHECK(memcmp(out_a, out_b, sizeof(out_a[0]) * na) == 0);
	CHECK(memcmp(fa.bad, fb.bad, sizeof(fa.bad)) == 0);
	CHECK(fa.msgs_in == fb.msgs_in);
	return 0;
}
