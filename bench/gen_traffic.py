#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Deterministic benchmark traffic (scapy) for bench/run.sh.

For one scenario, one route table and one frame-size mix, writes two pcaps of the SAME
flows (same IP packets, same order):
  OUT.pf.pcap   what peerfwd (and testpmd, the I/O ceiling) receive
  OUT.l3.pcap   what DPDK l3fwd receives: the same IP packets, untagged, not tunnelled
and OUT.json describing them (frame lengths, counts).

Sizes are Ethernet frame sizes *including the 4-byte FCS* of the untagged frame, so the
IP packet of a "64 B" frame is 46 bytes; the pcaps hold frames without FCS. peerfwd's edge
frames carry the 802.1Q tag on top (4 bytes more than l3fwd's frame of the same packet).
  encap / public / encap6: edge frames, VLAN 555 (private) / 556 (public), to our edge MAC
  decap:  core frames: outer IPv4 198.51.100.1 -> 192.0.2.1, GRE key 1001, around the
          inner packet (so 24 bytes longer than l3fwd's frame of the inner packet)
Mixes: 64 (78 for IPv6: the smallest IPv6/UDP frame is 66 B, RFC 5180 uses 78), imix
(7:4:1 of 64/570/1518, interleaved in a fixed 12-frame cycle), 1400.
Destinations: --flows distinct routes of the table drawn with a fixed seed, one host
address in each; one packet per destination, so the pcap replays every destination once
per pass (DPDK's pcap PMD holds a whole pcap in mbufs with infinite_rx=1).
"""
import argparse
import ipaddress
import json
import random
import struct
import sys

from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, GRE, Raw, raw  # noqa: E402

EDGE_MAC = "02:00:00:00:0e:01"
CORE_MAC = "02:00:00:00:0c:01"
CORE_GW_MAC = "02:00:00:00:0c:fe"
PEER_MAC = "02:00:00:00:a1:01"
SRC4 = "216.221.239.233"          # the customer's on-premises host
SRC6 = "2001:db8:1000::1"
CLOUD_SRC4 = "10.0.1.10"          # a VM in the customer's VNet (decap: inner source)
TUN_SRC, TUN_DST, GRE_KEY = "198.51.100.1", "192.0.2.1", 1001
IMIX_CYCLE = [64, 570, 64, 64, 570, 64, 1518, 64, 570, 64, 64, 570]  # 7:4:1


def sizes(mix, fam, n):
    small = 78 if fam == 6 else 64
    if mix == "64":
        return [small] * n
    if mix == "1400":
        return [1400] * n
    if mix == "imix":
        cyc = [small if s == 64 else s for s in IMIX_CYCLE]
        return [cyc[i % len(cyc)] for i in range(n)]
    raise SystemExit("unknown mix " + mix)


def destinations(routes_file, n, seed):
    with open(routes_file) as f:
        nets = [ipaddress.ip_network(l.strip()) for l in f if l.strip()]
    if n > len(nets):
        raise SystemExit("%d flows but only %d routes" % (n, len(nets)))
    rng = random.Random(seed)
    out = []
    for net in rng.sample(nets, n):
        hostbits = net.max_prefixlen - net.prefixlen
        off = rng.randrange(1 << hostbits) if hostbits else 0
        if hostbits >= 2:
            off = max(1, min(off, (1 << hostbits) - 2))  # neither network nor broadcast
        out.append(str(net.network_address + off))
    return out


def write_pcap(path, frames):
    """Classic pcap, Ethernet, all timestamps 0: byte-identical on every run."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


def udp_payload(ip_len, ip_hdr):
    n = ip_len - ip_hdr - 8
    if n < 0:
        raise SystemExit("IP length %d too small" % ip_len)
    return Raw(bytes((i * 7) & 0xff for i in range(n)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", choices=("encap", "public", "decap", "encap6"), required=True)
    ap.add_argument("--mix", choices=("64", "imix", "1400"), required=True)
    ap.add_argument("--routes", required=True, help=".routes file of gen_routes.py")
    ap.add_argument("--flows", type=int, default=4104)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True, help="output path prefix")
    a = ap.parse_args()
    fam = 6 if a.scenario == "encap6" else 4
    dsts = destinations(a.routes, a.flows, a.seed)
    lens = sizes(a.mix, fam, a.flows)
    vlan = 556 if a.scenario == "public" else 555
    # Layers in front of the IP packet are the same for every packet of a length: scapy
    # builds them once per length; scapy builds every IP packet itself.
    l2_edge = raw(Ether(dst=EDGE_MAC, src=PEER_MAC) / Dot1Q(vlan=vlan, type=0x86dd if fam == 6
                                                             else 0x0800))
    l2_plain = raw(Ether(dst=EDGE_MAC, src=PEER_MAC, type=0x86dd if fam == 6 else 0x0800))
    outer = {}
    pf, l3 = [], []
    for i, (dst, flen) in enumerate(zip(dsts, lens)):
        ip_len = flen - 18            # untagged frame with FCS -> IP packet
        sport, dport = 1024 + (i * 13) % 50000, 4000 + i % 64
        if fam == 4:
            src = CLOUD_SRC4 if a.scenario == "decap" else SRC4
            ip = raw(IP(src=src, dst=dst, ttl=64, id=i & 0xffff) /
                     UDP(sport=sport, dport=dport) / udp_payload(ip_len, 20))
        else:
            ip = raw(IPv6(src=SRC6, dst=dst, hlim=64) / UDP(sport=sport, dport=dport) /
                     udp_payload(ip_len, 40))
        assert len(ip) == ip_len
        if a.scenario == "decap":
            if ip_len not in outer:
                outer[ip_len] = raw(Ether(dst=CORE_MAC, src=CORE_GW_MAC) /
                                    IP(src=TUN_SRC, dst=TUN_DST, ttl=64, id=0, flags="DF") /
                                    GRE(key_present=1, key=GRE_KEY, proto=0x0800) /
                                    Raw(bytes(ip_len)))[:-ip_len]
            pf.append(outer[ip_len] + ip)
        else:
            pf.append(l2_edge + ip)
        l3.append(l2_plain + ip)
    for name, frames in ((".pf.pcap", pf), (".l3.pcap", l3)):
        write_pcap(a.out + name, frames)
    meta = {"scenario": a.scenario, "mix": a.mix, "flows": a.flows, "family": fam,
            "pf_frame_bytes": [len(p) for p in pf], "l3_frame_bytes": [len(p) for p in l3]}
    meta["pf_mean_bytes"] = sum(meta["pf_frame_bytes"]) / a.flows
    meta["l3_mean_bytes"] = sum(meta["l3_frame_bytes"]) / a.flows
    with open(a.out + ".json", "w") as f:
        json.dump({k: v for k, v in meta.items() if not k.endswith("frame_bytes")} |
                  {"pf_len_hist": hist(meta["pf_frame_bytes"]),
                   "l3_len_hist": hist(meta["l3_frame_bytes"])}, f, indent=1)
    return 0


def hist(v):
    h = {}
    for x in v:
        h[str(x)] = h.get(str(x), 0) + 1
    return h


if __name__ == "__main__":
    sys.exit(main())
