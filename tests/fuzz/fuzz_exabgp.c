/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: one ExaBGP JSON line into pf_exabgp_parse (control/feed_exabgp.c).
 * The context map is built from configs/exchange-provider.json, so neighbors
 * 172.16.1.1, 2001:db8:a1::1, 172.16.1.5 ... are known and the deep paths are reached.
 * Checks, beyond the sanitizers: never more messages than room, every message well formed
 * (known op, source ExaBGP, family 4/6, length in range, host bits zero, 1..PF_RT_MAX_NH
 * next hops for an ADD). Build and run: tests/fuzz/build_exabgp.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "control/feed.h"
#include "control/feed_exabgp.h"

#ifndef PF_SRCDIR
#define PF_SRCDIR "."
#endif

static struct pf_ctxmap *map;
static struct pf_feed feed;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pf_config *cfg;
	char err[1024];

	(void)argc;
	(void)argv;
	if (pf_config_load(PF_SRCDIR "/configs/exchange-provider.json", &cfg, err,
			   sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_exabgp: %s\n", err);
		abort();
	}
	map = pf_ctxmap_create(cfg);
	if (map == NULL)
		abort();
	pf_config_free(cfg); /* the map keeps its own copy */
	snprintf(feed.name, sizeof(feed.name), "exabgp");
	feed.source = PF_SRC_EXABGP;
	feed.logged = ~0u; /* no log lines */
	return 0;
}

static void
check(const struct pf_route_msg *m)
{
	struct pf_prefix p;

	if (m->source != PF_SRC_EXABGP || m->op < PF_RT_ADD || m->op > PF_RT_EOR)
		abort();
	if (m->peer.family != 4 && m->peer.family != 6)
		abort();
	if (m->op == PF_RT_ADD || m->op == PF_RT_DEL) {
		if (m->family != 4 && m->family != 6)
			abort();
		if (m->len > (m->family == 4 ? 32 : 128))
			abort();
		memset(&p, 0, sizeof(p));
		p.family = m->family;
		p.len = m->len;
		memcpy(p.addr, m->prefix, 16);
		if (!pf_prefix_is_network(&p))
			abort();
		if (m->family == 4)
			for (int i = 4; i < 16; i++)
				if (m->prefix[i])
					abort();
	}
	if (m->op == PF_RT_ADD) {
		if (m->n_nh < 1 || m->n_nh > PF_RT_MAX_NH)
			abort();
		for (unsigned i = 0; i < m->n_nh; i++)
			if (m->nh[i].family != 4 && m->nh[i].family != 6)
				abort();
	} else if (m->n_nh != 0) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pf_route_msg out[64];
	unsigned n = 12345;
	int r;

	/* exactly size bytes (libFuzzer's buffer): ASan sees any over-read */
	r = pf_exabgp_parse((const char *)data, size, map, &feed, out, 64, &n);
	if (n > 64)
		abort();
	if (r != 0 && r != -22 /* EINVAL */ && r != -28 /* ENOSPC */)
		abort();
	for (unsigned i = 0; i < n; i++)
		check(&out[i]);
	return 0;
}
