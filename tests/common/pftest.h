/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Set-up shared by the unit tests (tests/unit/) and the benchmarks (bench/): EAL without
 * hugepages, ring PMD ports standing in for the configuration's ports, a configuration
 * copy written to a temporary file and loaded through the real parser, tables and route
 * applier; fixture files, Internet checksums; and the end of every CUnit main(). The
 * unit tests' CHECK macros are in pftest_check.h, the packet-path fixture of the dataplane
 * and ESP tests and the pipeline fuzzer in pftest_pipe.h.
 *
 * pftest.c (DPDK, control's table building), pftest_applier.c (control's applier),
 * pftest_pipe.c (the packet-path fixture, pftest_pipe.h) and pftest_cunit.c (CUnit only,
 * built when CUnit is found) go into one static library: a program links only the objects
 * it uses, so the CUnit tests that do not use DPDK ports (test_config, test_fib) do not
 * pull in control/. tests/fuzz/build_pipeline.sh compiles pftest.c and pftest_pipe.c.
 */
#ifndef PF_TESTS_COMMON_PFTEST_H
#define PF_TESTS_COMMON_PFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PFT_DIM(a) (sizeof(a) / sizeof((a)[0]))

struct CU_TestInfo;
struct pf_applier;
struct pf_build;
struct pf_config;
struct pf_tables;
struct rte_ring;

/* ---- pftest.c ---- */

/* rte_eal_init() with "<prog> --no-huge --no-shconf -m <mem_mb> --no-pci -l 0
 * --log-level=*:error"; on failure prints why and returns < 0. */
int pft_eal_init(const char *prog, unsigned mem_mb);

/* The same with one more EAL argument (extra, e.g. "--no-telemetry"; NULL: none). */
int pft_eal_init_args(const char *prog, unsigned mem_mb, const char *extra);

/* The whole file dir/name in a malloc'ed buffer with a NUL after its *len bytes (free()
 * it); NULL when it cannot be read. */
void *pft_read_file(const char *dir, const char *name, size_t *len);

/* Internet checksum (RFC 1071), computed independently of DPDK and of the dataplane:
 * pft_sum16() adds n bytes at p as big-endian 16-bit words to s (an odd last byte as the
 * high byte), pft_fold() folds the carries into 16 bits (not complemented), pft_cksum() is
 * the complemented folded sum of n bytes (0 over data that holds its correct checksum). */
uint32_t pft_sum16(const void *p, size_t n, uint32_t s);
uint16_t pft_fold(uint32_t s);
uint16_t pft_cksum(const void *p, size_t n);

/* A ring PMD port: two rings "<ring_prefix>_rx" / "<ring_prefix>_tx" of ring_size
 * (single producer/consumer) stored in *rx / *tx, rte_eth_from_rings(name). The ethdev's
 * name ("net_ring_<name>", RTE_ETH_NAME_MAX_LEN bytes) goes to devname. Returns the port
 * id, or -1 (with a message). */
int pft_ring_port(const char *name, const char *ring_prefix, unsigned ring_size,
		  struct rte_ring **rx, struct rte_ring **tx, char *devname);

/* The configuration file at path, port names "net_pcap_edge" / "net_pcap_core" replaced
 * (in every string value) by edge / core; NULL (with a message) when it cannot be read. */
json_t *pft_config_json_ports(const char *path, const char *edge, const char *core);

/* text (a JSON configuration) written to a temporary file made from tmpl (mkstemps:
 * "...XXXXXX.json"), loaded with pf_config_load(), the file removed. NULL (with a message)
 * on failure. */
struct pf_config *pft_config_text(const char *text, const char *tmpl);

/* The same with a JSON document (written indented). */
struct pf_config *pft_config_json(const json_t *root, const char *tmpl);

/* pf_tables_build(b, cfg, t, NULL); *built set to true in any case (b and t then need
 * pf_build_free / pf_tables_free); prints the builder's error on failure. */
int pft_tables_build(struct pf_build *b, const struct pf_config *cfg, struct pf_tables *t,
		     bool *built);

/* ---- pftest_applier.c ---- */

/* pf_applier_create(b, ring): with ring_name, *ring is first created as peerfwd's route
 * ring (struct pf_route_msg elements, ring_size, multi-producer HTS, single consumer);
 * without, the applier gets no ring. NULL (with a message) on failure. */
struct pf_applier *pft_applier_create(struct pf_build *b, const char *ring_name,
				      unsigned ring_size, struct rte_ring **ring);

/* ---- pftest_cunit.c ---- */

/* A suite of n tests added to the CUnit registry; 0, or -1 on a CUnit error. */
int pft_cunit_suite(const char *name, int (*init)(void), int (*clean)(void),
		    void (*setup)(void), void (*teardown)(void), const struct CU_TestInfo *tests,
		    size_t n);

/* Runs the registry verbosely and cleans it up: 0 when every suite set up and every
 * assertion passed, else 1. */
int pft_cunit_run(void);

/* For a CUnit error while filling the registry: prints it, cleans up, returns 1. */
int pft_cunit_fail(void);

#endif
