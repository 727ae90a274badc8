#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Write a mixed, realistic demo traffic set for configs/exchange-provider.json:

  /usr/bin/python3 tools/demo_traffic.py OUTDIR

writes OUTDIR/edge_in.pcap (customer side: VLAN 555/556 for contoso, QinQ S100/C555 and
S100/C556 for fabrikam) and OUTDIR/core_in.pcap (cloud side: GRE keys 1001/2002, plain
Microsoft/public traffic), plus OUTDIR/expected.json with what peerfwd should do with it.

Then, e.g.:
  build/control/peerfwd -l 0,1 --no-huge --no-shconf -m 512 --no-pci \
    --vdev net_pcap_edge,rx_pcap=OUTDIR/edge_in.pcap,tx_pcap=OUTDIR/edge_out.pcap \
    --vdev net_pcap_core,rx_pcap=OUTDIR/core_in.pcap,tx_pcap=OUTDIR/core_out.pcap \
    -- --config configs/exchange-provider.json --idle-exit 300 --stats-json OUTDIR/stats.json

Needs scapy (Debian: python3-scapy); use /usr/bin/python3. Deterministic (fixed seed).
"""
import json
import logging
import os
import random
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, Dot1AD, Dot1Q, Ether, GRE, ICMP, IP, IPv6, TCP, UDP, Raw,  # noqa: E402
                       ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr)
from scapy.utils import RawPcapWriter  # noqa: E402

EDGE_MAC, CORE_MAC, GW_MAC = "02:00:00:00:0e:01", "02:00:00:00:0c:01", "02:00:00:00:0c:fe"
C_PRIV_MAC, C_PUB_MAC = "02:00:00:00:a1:01", "02:00:00:00:a1:05"
F_PRIV_MAC, F_MS_MAC = "02:00:00:00:b2:01", "02:00:00:00:b2:05"
BCAST = "ff:ff:ff:ff:ff:ff"
CORE_IP = "192.0.2.1"

PCAP_HDR = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def contoso_priv(p, src=C_PRIV_MAC, dst=EDGE_MAC):
    return Ether(src=src, dst=dst) / Dot1Q(vlan=555) / p


def contoso_pub(p, src=C_PUB_MAC, dst=EDGE_MAC):
    return Ether(src=src, dst=dst) / Dot1Q(vlan=556) / p


def fabrikam_priv(p, src=F_PRIV_MAC, dst=EDGE_MAC):
    return Ether(src=src, dst=dst) / Dot1AD(vlan=100) / Dot1Q(vlan=555) / p


def fabrikam_ms(p, src=F_MS_MAC, dst=EDGE_MAC):
    return Ether(src=src, dst=dst) / Dot1AD(vlan=100) / Dot1Q(vlan=556) / p


def core(p, dst=CORE_MAC):
    return Ether(src=GW_MAC, dst=dst) / p


def gre(key, tun, inner):
    proto = 0x86DD if isinstance(inner, IPv6) else 0x0800
    return core(IP(src=tun, dst=CORE_IP) / GRE(key_present=1, key=key, proto=proto) / inner)


def l4(rnd, size):
    """A TCP or UDP segment of a typical application."""
    data = bytes(rnd.getrandbits(8) for _ in range(size))
    if rnd.random() < 0.5:
        return TCP(sport=rnd.randint(32768, 60999), dport=rnd.choice([443, 22, 3389, 1433]),
                   flags="PA", seq=rnd.getrandbits(32), ack=rnd.getrandbits(32)) / data
    return UDP(sport=rnd.randint(32768, 60999), dport=rnd.choice([5004, 9000, 33000, 50000])) / data


def build(seed=20240601):
    """Returns (edge_packets, core_packets, expected) for configs/exchange-provider.json."""
    rnd = random.Random(seed)
    size = lambda: rnd.choice([40, 64, 200, 512, 1000, 1400])  # noqa: E731
    edge, core_pkts = [], []
    exp = {"core_gre": {"1001": 0, "2002": 0}, "core_plain": 0, "core_local": 0,
           "edge_fwd": {"555": 0, "556": 0, "100.555": 0}, "edge_local": 0,
           "drops": {}, "events": {}}

    def drop(name, n=1):
        exp["drops"][name] = exp["drops"].get(name, 0) + n

    def ev(name, n=1):
        exp["events"][name] = exp["events"].get(name, 0) + n

    # --- control traffic first: the customer routers ARP/ND for us, the gateway ARPs ----
    edge += [
        contoso_priv(ARP(op=1, hwsrc=C_PRIV_MAC, psrc="172.16.1.1", pdst="172.16.1.2"), dst=BCAST),
        contoso_pub(ARP(op=1, hwsrc=C_PUB_MAC, psrc="172.16.1.5", pdst="172.16.1.6"), dst=BCAST),
        fabrikam_priv(ARP(op=1, hwsrc=F_PRIV_MAC, psrc="172.16.3.1", pdst="172.16.3.2"), dst=BCAST),
        fabrikam_ms(ARP(op=1, hwsrc=F_MS_MAC, psrc="172.16.3.5", pdst="172.16.3.6"), dst=BCAST),
        contoso_priv(IPv6(src="2001:db8:a1::1", dst="ff02::1:ff00:2", hlim=255) /
                     ICMPv6ND_NS(tgt="2001:db8:a1::2") / ICMPv6NDOptSrcLLAddr(lladdr=C_PRIV_MAC),
                     dst="33:33:ff:00:00:02"),
    ]
    exp["edge_local"] += 5
    ev("arp_reply_sent", 4)
    ev("nd_na_sent", 1)
    core_pkts.append(core(ARP(op=1, hwsrc=GW_MAC, psrc="192.0.2.254", pdst=CORE_IP), dst=BCAST))
    ev("arp_reply_sent", 1)
    exp["core_local"] += 1
    for seq in range(3):
        edge.append(contoso_priv(IP(src="172.16.1.1", dst="172.16.1.2") / ICMP(type=8, id=1, seq=seq) / (b"P" * 56)))
        core_pkts.append(core(IP(src="192.0.2.254", dst=CORE_IP) / ICMP(type=8, id=2, seq=seq) / (b"Q" * 56)))
    for seq in range(2):
        edge.append(contoso_priv(IPv6(src="2001:db8:a1::1", dst="2001:db8:a1::2") / ICMPv6EchoRequest(id=3, seq=seq, data=b"R" * 56)))
    exp["edge_local"] += 5
    exp["core_local"] += 3
    ev("icmp_echo_reply", 8)

    # --- customer -> cloud -----------------------------------------------------------------
    data = []
    for _ in range(60):   # contoso private, IPv4 to both VNet prefixes
        dst = rnd.choice(["10.0.%d.%d" % (rnd.randint(0, 255), rnd.randint(1, 254)), "192.168.1.%d" % rnd.randint(1, 254)])
        data.append(contoso_priv(IP(src="216.221.239.%d" % rnd.randint(233, 238), dst=dst, ttl=rnd.choice([64, 128, 255])) / l4(rnd, size())))
    exp["core_gre"]["1001"] += 60
    for _ in range(20):   # contoso private, IPv6
        data.append(contoso_priv(IPv6(src="2001:db8:1000::%x" % rnd.randint(1, 0xffff), dst="fd00:1::%x" % rnd.randint(1, 0xffff)) / l4(rnd, size())))
    exp["core_gre"]["1001"] += 20
    for _ in range(30):   # contoso public peering to Azure public services
        data.append(contoso_pub(IP(src="203.0.113.%d" % rnd.randint(1, 254), dst="13.%d.%d.%d" % (rnd.randint(64, 95), rnd.randint(0, 255), rnd.randint(1, 254))) / l4(rnd, size())))
    exp["core_plain"] += 30
    for _ in range(50):   # fabrikam private over QinQ: same VNet prefix as contoso, other key
        data.append(fabrikam_priv(IP(src="198.18.0.%d" % rnd.randint(1, 254), dst="10.0.%d.%d" % (rnd.randint(0, 255), rnd.randint(1, 254))) / l4(rnd, size())))
    exp["core_gre"]["2002"] += 50
    for _ in range(20):   # fabrikam Microsoft peering
        data.append(fabrikam_ms(IP(src="198.18.0.%d" % rnd.randint(1, 254), dst="40.%d.%d.%d" % (rnd.randint(64, 127), rnd.randint(0, 255), rnd.randint(1, 254))) / l4(rnd, size())))
    exp["core_plain"] += 20
    rnd.shuffle(data)
    edge += data
    ev("gre_encap", 130 + 2)   # + the two fragments below

    # a traceroute probe, a too-big DF packet (PMTUD), a too-big packet without DF
    edge.append(contoso_priv(IP(src="216.221.239.233", dst="10.0.1.5", ttl=1) / UDP(sport=33434, dport=33435) / (b"T" * 32)))
    exp["edge_local"] += 1
    drop("ttl_expired")
    ev("icmp_time_exceeded")
    edge.append(contoso_priv(IP(src="216.221.239.233", dst="10.0.1.5", flags="DF") / UDP(sport=5000, dport=5001) / bytes(1472)))
    exp["edge_local"] += 1
    drop("frag_needed")
    ev("icmp_frag_needed")
    edge.append(contoso_priv(IP(src="216.221.239.233", dst="10.0.1.5") / UDP(sport=5000, dport=5002) / bytes(1472)))
    exp["core_gre"]["1001"] += 2
    ev("fragmented")
    ev("fragments_out", 2)

    # --- cloud -> customer -----------------------------------------------------------------
    data = []
    for _ in range(60):
        data.append(gre(1001, "198.51.100.1", IP(src="10.0.%d.%d" % (rnd.randint(0, 255), rnd.randint(1, 254)), dst="216.221.239.%d" % rnd.randint(233, 238)) / l4(rnd, size())))
    exp["edge_fwd"]["555"] += 60
    for _ in range(20):
        data.append(gre(1001, "198.51.100.1", IPv6(src="fd00:1::%x" % rnd.randint(1, 0xffff), dst="2001:db8:1000::%x" % rnd.randint(1, 0xffff)) / l4(rnd, size())))
    exp["edge_fwd"]["555"] += 20
    for _ in range(50):
        data.append(gre(2002, "198.51.100.2", IP(src="10.0.%d.%d" % (rnd.randint(0, 255), rnd.randint(1, 254)), dst="198.18.0.%d" % rnd.randint(1, 254)) / l4(rnd, size())))
    exp["edge_fwd"]["100.555"] += 50
    ev("gre_decap", 130 + 1)   # + the cross-customer packet below (decapsulated, then no route)
    for _ in range(30):
        data.append(core(IP(src="13.%d.%d.%d" % (rnd.randint(64, 95), rnd.randint(0, 255), rnd.randint(1, 254)), dst="203.0.113.%d" % rnd.randint(1, 254)) / l4(rnd, size())))
    exp["edge_fwd"]["556"] += 30
    rnd.shuffle(data)
    core_pkts += data

    # --- a few bad frames --------------------------------------------------------------------
    edge.append(Ether(src=C_PRIV_MAC, dst=EDGE_MAC) / IP(src="216.221.239.233", dst="10.0.1.5") / UDP() / b"untagged")
    drop("untagged")
    edge.append(Ether(src=C_PRIV_MAC, dst=EDGE_MAC) / Dot1Q(vlan=999) / IP(src="216.221.239.233", dst="10.0.1.5") / UDP() / b"vlan999")
    drop("unknown_vlan")
    edge.append(contoso_priv(IP(src="216.221.239.233", dst="10.0.1.5", chksum=0xDEAD) / UDP() / b"badsum"))
    drop("ip4_bad_cksum")
    edge.append(contoso_priv(IP(src="127.0.0.1", dst="10.0.1.5") / UDP() / b"martian"))
    drop("ip4_bad_src")
    edge.append(bytes(contoso_priv(IP(src="216.221.239.233", dst="10.0.1.5") / UDP()))[:18 + 10])
    drop("runt")
    edge.append(contoso_pub(IP(src="203.0.113.9", dst="10.0.1.5") / UDP() / b"public-to-vnet"))
    drop("no_route")
    core_pkts.append(gre(7777, "198.51.100.1", IP(src="10.0.1.5", dst="216.221.239.233") / UDP() / b"badkey"))
    drop("gre_unknown_key")
    core_pkts.append(gre(1001, "198.51.100.99", IP(src="10.0.1.5", dst="216.221.239.233") / UDP() / b"spoofed"))
    drop("gre_bad_endpoint")
    core_pkts.append(gre(1001, "198.51.100.1", IP(src="10.0.1.5", dst="198.18.0.5") / UDP() / b"cross-customer"))
    drop("no_route")
    return edge, core_pkts, exp


def write_pcap(path, pkts):
    if not pkts:
        with open(path, "wb") as f:
            f.write(PCAP_HDR)
        return
    w = RawPcapWriter(path, linktype=1, snaplen=65535, sync=False)
    w.write_header(None)
    for i, p in enumerate(pkts):
        w.write_packet(bytes(p), sec=1700000000 + i // 1000, usec=(i % 1000) * 1000)
    w.close()


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2 if len(argv) != 2 else 0
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    edge, core_pkts, exp = build()
    write_pcap(os.path.join(out, "edge_in.pcap"), edge)
    write_pcap(os.path.join(out, "core_in.pcap"), core_pkts)
    exp["edge_in"], exp["core_in"] = len(edge), len(core_pkts)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=2, sort_keys=True)
    print("wrote %s/edge_in.pcap (%d frames) and %s/core_in.pcap (%d frames)" % (out, len(edge), out, len(core_pkts)))
    print("expected: %d GRE + %d plain + %d local replies on core, %d forwarded + %d local replies on edge, drops %s"
          % (sum(exp["core_gre"].values()), exp["core_plain"], exp["core_local"], sum(exp["edge_fwd"].values()),
             exp["edge_local"], exp["drops"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
