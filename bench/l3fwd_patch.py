#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Patch a copy of DPDK's l3fwd example (from dpdk-doc) so it can hold the benchmark's tables
and run on pcap/null virtual devices. Nothing on the packet path changes:

 1. Table capacities come from the environment (defaults: the example's values):
    PFB_LPM4_MAX_RULES, PFB_LPM4_TBL8S, PFB_LPM6_MAX_RULES, PFB_LPM6_TBL8S,
    PFB_FIB4_MAX_ROUTES, PFB_FIB4_TBL8S, PFB_FIB6_MAX_ROUTES, PFB_FIB6_TBL8S.
    The example hard-codes 1024 LPM rules and 2^16 FIB routes.
 2. No "Adding route" line per route (a million lines of output otherwise).
 3. No RX checksum offload request: net_pcap has none and rte_eth_dev_configure() refuses
    the port. (l3fwd then forwards without validating IPv4 header checksums, as with a
    NIC that does not flag bad checksums; peerfwd checks them in software.)
 4. The mbuf pool's floor (the example's 8192) from PFB_MIN_MBUF: net_pcap with
    infinite_rx holds the whole pcap in mbufs, so larger pcaps (pfbench.py --flows) need more.
 5. At exit, after the forwarding loops have stopped, print each port's ethdev counters
    ("PFB port N ipackets X opackets Y oerrors Z"): l3fwd prints none, and the
    instruction-count run needs the exact number of packets forwarded.
Usage: l3fwd_patch.py DIR   (DIR holds l3fwd's sources)
"""
import sys

import srcpatch

HELPER = '''
/* peerfwd bench: table capacities from the environment */
#include <stdlib.h>
static inline int
pfb_env(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\\0' ? atoi(v) : dflt;
}
'''

PATCHES = {
    "l3fwd.h": [
        ("#define MAX_PKT_BURST     32", "#define MAX_PKT_BURST     32\n" + HELPER, 1),
    ],
    "l3fwd_lpm.c": [
        ("#define IPV4_L3FWD_LPM_MAX_RULES         1024",
         '#define IPV4_L3FWD_LPM_MAX_RULES pfb_env("PFB_LPM4_MAX_RULES", 1024)', 1),
        ("#define IPV4_L3FWD_LPM_NUMBER_TBL8S (1 << 8)",
         '#define IPV4_L3FWD_LPM_NUMBER_TBL8S pfb_env("PFB_LPM4_TBL8S", 1 << 8)', 1),
        ("#define IPV6_L3FWD_LPM_MAX_RULES         1024",
         '#define IPV6_L3FWD_LPM_MAX_RULES pfb_env("PFB_LPM6_MAX_RULES", 1024)', 1),
        ("#define IPV6_L3FWD_LPM_NUMBER_TBL8S (1 << 16)",
         '#define IPV6_L3FWD_LPM_NUMBER_TBL8S pfb_env("PFB_LPM6_TBL8S", 1 << 16)', 1),
        ('printf("LPM: Adding route', 'if (0) printf("LPM: Adding route', 2),
    ],
    "l3fwd_fib.c": [
        ("config_ipv4.max_routes = (1 << 16);",
         'config_ipv4.max_routes = pfb_env("PFB_FIB4_MAX_ROUTES", 1 << 16);', 1),
        ("config_ipv4.dir24_8.num_tbl8 = (1 << 15);",
         'config_ipv4.dir24_8.num_tbl8 = pfb_env("PFB_FIB4_TBL8S", 1 << 15);', 1),
        ("config.max_routes = (1 << 16) - 1;",
         'config.max_routes = pfb_env("PFB_FIB6_MAX_ROUTES", (1 << 16) - 1);', 1),
        ("config.trie.num_tbl8 = (1 << 15);",
         'config.trie.num_tbl8 = pfb_env("PFB_FIB6_TBL8S", 1 << 15);', 1),
        ('printf("FIB: Adding route', 'if (0) printf("FIB: Adding route', 2),
        ('printf("FIB: IPv4 route added', 'if (0) printf("FIB: IPv4 route added', 1),
        ('printf("FIB: IPv6 route added', 'if (0) printf("FIB: IPv6 route added', 1),
    ],
    "main.c": [
        ("\t(unsigned)8192)", '\t(unsigned)pfb_env("PFB_MIN_MBUF", 8192))', 1),
        ("\t\t.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,", "\t\t.offloads = 0, /* pfb: pcap */", 1),
        ('\t\t\tprintf("Closing port %d...", portid);',
         '\t\t\t{\n\t\t\t\tstruct rte_eth_stats pfb_st;\n\n'
         '\t\t\t\tif (rte_eth_stats_get(portid, &pfb_st) == 0)\n'
         '\t\t\t\t\tprintf("PFB port %u ipackets %llu opackets %llu oerrors %llu\\n", '
         'portid, (unsigned long long)pfb_st.ipackets, (unsigned long long)pfb_st.opackets, '
         '(unsigned long long)pfb_st.oerrors);\n\t\t\t}\n'
         '\t\t\tprintf("Closing port %d...", portid);', 1),
    ],
}


def main():
    return srcpatch.apply("l3fwd_patch", sys.argv[1], PATCHES)


if __name__ == "__main__":
    sys.exit(main())
