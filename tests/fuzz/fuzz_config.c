/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: one input = one configuration file for pf_config_load (common/config.c),
 * freed with pf_config_free. The input is written to a memfd and loaded through its
 * /proc/self/fd/N path, so the real read_file() path is exercised and nothing touches disk.
 * Checks, beyond the sanitizers (and the leak checker):
 *   - failure: a negative errno, a non-empty NUL-terminated "FILE:LINE:COL: ..." message
 *     starting with the path, *out left untouched;
 *   - success: an empty message, at least one edge and one core port, at least one
 *     customer, every name NUL-terminated, prefix lengths within the family's width.
 * Build and run: tests/fuzz/build_config.sh [SECONDS].
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("pf_fuzz_config", MFD_CLOEXEC);
	if (fd < 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void
check_str(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void
check_prefix(const struct pf_prefix *p, bool optional)
{
	if (optional && p->family == 0)
		return;
	if (p->family == 4 ? p->len > 32 : p->family == 6 ? p->len > 128 : 1)
		abort();
}

static void
check_config(const struct pf_config *c)
{
	bool edge = false, core = false;

	if (c->n_ports == 0 || c->ports == NULL || c->n_customers == 0 || c->customers == NULL)
		abort();
	for (size_t i = 0; i < c->n_ports; i++) {
		const struct pf_port_conf *p = &c->ports[i];

		check_str(p->name, sizeof(p->name));
		if (p->name[0] == '\0')
			abort();
		edge |= p->role == PF_ROLE_EDGE;
		core |= p->role == PF_ROLE_CORE;
		check_prefix(&p->addr4, true);
		check_prefix(&p->addr6, true);
	}
	if (!edge || !core)
		abort();
	for (size_t i = 0; i < c->n_customers; i++) {
		const struct pf_customer_conf *cu = &c->customers[i];

		check_str(cu->name, sizeof(cu->name));
		if (cu->n_contexts == 0 || cu->contexts == NULL)
			abort();
		for (size_t k = 0; k < cu->n_vnets; k++)
			check_prefix(&cu->vnets[k], false);
		for (size_t k = 0; k < cu->n_on_prem; k++)
			check_prefix(&cu->on_prem[k], false);
		for (size_t k = 0; k < cu->n_contexts; k++) {
			const struct pf_context_conf *cx = &cu->contexts[k];

			check_str(cx->name, sizeof(cx->name));
			if (!cx->primary.present)
				abort();
			check_str(cx->primary.port, sizeof(cx->primary.port));
			check_prefix(&cx->primary.subnet4, false);
			check_prefix(&cx->primary.subnet6, true);
			if (cx->secondary.present) {
				check_str(cx->secondary.port, sizeof(cx->secondary.port));
				check_prefix(&cx->secondary.subnet4, false);
				check_prefix(&cx->secondary.subnet6, true);
			}
			for (size_t r = 0; r < cx->n_routes; r++)
				check_prefix(&cx->routes[r].prefix, false);
		}
	}
	for (size_t i = 0; i < c->n_neighbors; i++)
		check_str(c->neighbors[i].port, sizeof(c->neighbors[i].port));
	check_str(c->exabgp_socket, sizeof(c->exabgp_socket));
	check_str(c->fpm_listen, sizeof(c->fpm_listen));
	check_str(c->mgmt_socket, sizeof(c->mgmt_socket));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pf_config *cfg = (struct pf_config *)(uintptr_t)0x1; /* sentinel: untouched? */
	char err[1024];
	size_t off = 0;
	int r;

	if (ftruncate(fd, 0) != 0)
		abort();
	while (off < size) {
		ssize_t k = pwrite(fd, data + off, size - off, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			abort();
		off += (size_t)k;
	}
	memset(err, 'x', sizeof(err));
	r = pf_config_load(path, &cfg, err, sizeof(err));
	check_str(err, sizeof(err));
	if (r < 0) {
		if (cfg != (struct pf_config *)(uintptr_t)0x1)
			abort(); /* *out must be left untouched on error */
		if (err[0] == '\0' || strncmp(err, path, strlen(path)) != 0)
			abort();
		return 0;
	}
	if (r != 0 || cfg == NULL || cfg == (struct pf_config *)(uintptr_t)0x1)
		abort();
	if (err[0] != '\0')
		abort();
	check_config(cfg);
	pf_config_free(cfg);
	return 0;
}
