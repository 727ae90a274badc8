#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Patch a copy of DPDK's ipsec-secgw example (from dpdk-doc) so it runs on pcap/null
virtual devices and reports its port counters. Nothing on the packet path changes:

 1. No RX checksum offload request: the example's port_conf asks for
    RTE_ETH_RX_OFFLOAD_CHECKSUM, net_pcap offers none, and port_init() exits
    ("required RX offloads: 0xe, available RX offloads: 0x..."). As for l3fwd, ipsec-secgw
    then forwards without checking IPv4 header checksums (peerfwd checks them in software).
    (Packet types: net_pcap sets none, and ipsec-secgw then installs its own software
    parser as an RX callback by itself, "softly parse packet type info"; its cost is in
    the figures, as l3fwd's --parse-ptype is.)
 2. At exit, after the forwarding loop has stopped, print each port's ethdev counters
    ("PFB port N ipackets X opackets Y oerrors Z", the same line as the patched l3fwd's):
    the instruction-count run needs the exact number of packets sent.
Usage: secgw_patch.py DIR   (DIR holds ipsec-secgw's sources)
"""
import sys

import srcpatch

PATCHES = {
    "ipsec-secgw.c": [
        ("\t\t.mq_mode\t= RTE_ETH_MQ_RX_RSS,\n\t\t.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,",
         "\t\t.mq_mode\t= RTE_ETH_MQ_RX_RSS,\n\t\t.offloads = 0, /* pfb: pcap */", 1),
        ('\t\tprintf("Closing port %d...", portid);',
         '\t\t{\n\t\t\tstruct rte_eth_stats pfb_st;\n\n'
         '\t\t\tif (rte_eth_stats_get(portid, &pfb_st) == 0)\n'
         '\t\t\t\tprintf("PFB port %u ipackets %llu opackets %llu oerrors %llu\\n", '
         'portid, (unsigned long long)pfb_st.ipackets, (unsigned long long)pfb_st.opackets, '
         '(unsigned long long)pfb_st.oerrors);\n\t\t}\n'
         '\t\tprintf("Closing port %d...", portid);', 1),
    ],
}


def main():
    return srcpatch.apply("secgw_patch", sys.argv[1], PATCHES)


if __name__ == "__main__":
    sys.exit(main())
