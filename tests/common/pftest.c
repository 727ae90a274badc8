/* SPDX-License-Identifier: BSD-3-Clause */
/* The DPDK / control part of the test helper (see pftest.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "common/config.h"
#include "control/control.h"
#include "tests/common/pftest.h"

int
pft_eal_init_args(const char *prog, unsigned mem_mb, const char *extra)
{
	static char a0[64], a1[] = "--no-huge", a2[] = "--no-shconf", a3[] = "-m", a4[16],
		    a5[] = "--no-pci", a6[] = "-l", a7[] = "0", a8[] = "--log-level=*:error", a9[64];
	char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL, NULL};
	int argc = RTE_DIM(argv) - 2, r;

	snprintf(a0, sizeof(a0), "%s", prog);
	snprintf(a4, sizeof(a4), "%u", mem_mb);
	if (extra != NULL) {
		snprintf(a9, sizeof(a9), "%s", extra);
		argv[argc++] = a9;
	}
	r = rte_eal_init(argc, argv);
	if (r < 0)
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
	return r;
}

int
pft_eal_init(const char *prog, unsigned mem_mb)
{
	return pft_eal_init_args(prog, mem_mb, NULL);
}

void *
pft_read_file(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX];
	char *b = NULL;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)n + 1)) != NULL) {
		if (fread(b, 1, (size_t)n, fp) == (size_t)n) {
			b[n] = '\0';
			*len = (size_t)n;
		} else {
			free(b);
			b = NULL;
		}
	}
	fclose(fp);
	return b;
}

uint32_t
pft_sum16(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

uint16_t
pft_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint16_t
pft_cksum(const void *p, size_t n)
{
	return (uint16_t)~pft_fold(pft_sum16(p, n, 0));
}

int
pft_ring_port(const char *name, const char *ring_prefix, unsigned ring_size,
	      struct rte_ring **rx, struct rte_ring **tx, char *devname)
{
	char rname[RTE_RING_NAMESIZE];
	int r;

	snprintf(rname, sizeof(rname), "%s_rx", ring_prefix);
	*rx = rte_ring_create(rname, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rname, sizeof(rname), "%s_tx", ring_prefix);
	*tx = rte_ring_create(rname, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (*rx == NULL || *tx == NULL) {
		fprintf(stderr, "rings for %s: %s\n", name, rte_strerror(rte_errno));
		return -1;
	}
	r = rte_eth_from_rings(name, rx, 1, tx, 1, SOCKET_ID_ANY);
	if (r < 0) {
		fprintf(stderr, "rte_eth_from_rings(%s): %s\n", name, rte_strerror(rte_errno));
		return -1;
	}
	/* rte_eth_from_rings names the device net_ring_<name>; use whatever it got */
	if (rte_eth_dev_get_name_by_port((uint16_t)r, devname) != 0) {
		fprintf(stderr, "no name for port %d (%s)\n", r, name);
		return -1;
	}
	return r;
}

static void
rename_strings(json_t *j, const char *from, const char *to)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (json_is_string(v) && strcmp(json_string_value(v), from) == 0)
				json_string_set(v, to);
			else
				rename_strings(v, from, to);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (json_is_string(v) && strcmp(json_string_value(v), from) == 0)
				json_string_set(v, to);
			else
				rename_strings(v, from, to);
		}
	}
}

json_t *
pft_config_json_ports(const char *path, const char *edge, const char *core)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);

	if (root == NULL) {
		fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
		return NULL;
	}
	rename_strings(root, "net_pcap_edge", edge);
	rename_strings(root, "net_pcap_core", core);
	return root;
}

struct pf_config *
pft_config_text(const char *text, const char *tmpl)
{
	struct pf_config *cfg = NULL;
	char path[PATH_MAX], err[1024];
	size_t len = strlen(text), done = 0;
	ssize_t w = 0;
	int fd;

	snprintf(path, sizeof(path), "%s", tmpl);
	fd = mkstemps(path, 5);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", tmpl, strerror(errno));
		return NULL;
	}
	while (done < len && (w = write(fd, text + done, len - done)) > 0)
		done += (size_t)w;
	close(fd);
	if (done < len) {
		fprintf(stderr, "cannot write the test configuration %s\n", path);
		unlink(path);
		return NULL;
	}
	if (pf_config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "pf_config_load: %s\n", err);
		cfg = NULL;
	}
	unlink(path);
	return cfg;
}

struct pf_config *
pft_config_json(const json_t *root, const char *tmpl)
{
	char *text = json_dumps(root, JSON_INDENT(2));
	struct pf_config *cfg;

	if (text == NULL) {
		fprintf(stderr, "cannot write the test configuration\n");
		return NULL;
	}
	cfg = pft_config_text(text, tmpl);
	free(text);
	return cfg;
}

int
pft_tables_build(struct pf_build *b, const struct pf_config *cfg, struct pf_tables *t,
		 bool *built)
{
	int r = pf_tables_build(b, cfg, t, NULL);

	if (built != NULL)
		*built = true;
	if (r < 0)
		fprintf(stderr, "pf_tables_build: %s\n", b->err);
	return r;
}
