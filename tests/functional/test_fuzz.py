# SPDX-License-Identifier: BSD-3-Clause
"""Deterministic mutation fuzzing: valid frames with random byte flips and random
truncation. Whatever peerfwd makes of them: exit 0, no mbuf leak, every input accounted
for, and every frame it sends is well formed (lengths consistent with the frame,
checksums right, known tags/MACs)."""
import random
import struct

from pfharness import *  # noqa: F401,F403
from pfharness import eq, check, require, run_ok

KNOWN_TAGS = [[(0x8100, 555)], [(0x8100, 556)], [(0x88A8, 100), (0x8100, 555)], [(0x88A8, 100), (0x8100, 556)]]


def _seeds_edge():
    return [
        mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST) / UDP(sport=1, dport=2) / udp_payload(40)),
        mk_edge([555], IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6) / UDP(sport=1, dport=2) / udp_payload(40)),
        mk_edge([556], IP(src="203.0.113.7", dst="13.64.1.1") / TCP(sport=1, dport=443) / udp_payload(20), src=CONTOSO_PUB_MAC),
        mk_edge([(0x88A8, 100), (0x8100, 555)], IP(src=FABRIKAM_ONPREM, dst=VNET_HOST) / UDP() / udp_payload(30), src=FABRIKAM_RTR_MAC),
        mk_edge([555], ARP(op=1, hwsrc=CONTOSO_RTR_MAC, psrc="172.16.1.1", pdst="172.16.1.2"), dst=BCAST),
        mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2") / ICMP(type=8, id=1, seq=1) / udp_payload(32)),
        mk_edge([555], IPv6(src="2001:db8:a1::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="2001:db8:a1::2") /
                ICMPv6NDOptSrcLLAddr(lladdr=CONTOSO_RTR_MAC), dst="33:33:ff:00:00:02"),
        mk_edge([555], IPv6(src="2001:db8:a1::1", dst="2001:db8:a1::2") / ICMPv6EchoRequest(id=1, seq=1, data=b"z" * 16)),
        mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1) / UDP() / udp_payload(16)),
    ]


def _seeds_core():
    return [
        mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP(sport=1, dport=2) / udp_payload(40)),
        mk_gre(CONTOSO_KEY, CONTOSO_TUN, IPv6(src=VNET_HOST6, dst=CONTOSO_ONPREM6) / UDP(sport=1, dport=2) / udp_payload(40)),
        mk_gre(FABRIKAM_KEY, FABRIKAM_TUN, IP(src=VNET_HOST, dst=FABRIKAM_ONPREM) / UDP() / udp_payload(40)),
        mk_core(IP(src="13.64.1.1", dst="203.0.113.5") / UDP() / udp_payload(30)),
        mk_core(ARP(op=1, hwsrc=GW_MAC, psrc=GW_IP, pdst=CORE_IP), dst=BCAST),
        mk_core(IP(src=GW_IP, dst=CORE_IP) / ICMP(type=8) / udp_payload(20)),
        mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM, ttl=1) / UDP() / udp_payload(20)),
    ]


def _mutate(rnd, raw):
    b = bytearray(raw)
    op = rnd.random()
    if op < 0.35:                      # truncate anywhere after the MACs
        b = b[:rnd.randint(0, len(b))]
    elif op < 0.8:                     # flip 1-3 bytes after the MAC addresses
        for _ in range(rnd.randint(1, 3)):
            if len(b) > 12:
                i = rnd.randint(12, len(b) - 1)
                b[i] ^= 1 << rnd.randint(0, 7)
    else:                              # random length field / header byte values
        for off in (16, 18, 20, 22, 24, 26, 34, 38):
            if off < len(b) and rnd.random() < 0.3:
                b[off] = rnd.randint(0, 255)
    return bytes(b)


def _check_out_frame(f, port, i):
    raw = bytes(f)
    what = "%s out frame %d" % (port, i)
    want_src = EDGE_MAC if port == "edge" else CORE_MAC
    eq(f[Ether].src, want_src, what + " src MAC")
    tags = vlan_tags(f)
    if port == "edge":
        check(tags in KNOWN_TAGS, what + " tags %s" % tags)
    else:
        eq(tags, [], what + " untagged")
    off = 12 + 4 * len(tags)
    et = struct.unpack("!H", raw[off:off + 2])[0]
    l3 = raw[off + 2:]
    check(et in (0x0800, 0x86DD, 0x0806), what + " ethertype 0x%04x" % et)
    if et == 0x0800 and check(len(l3) >= 20, what + " IPv4 header cut (%d bytes)" % len(l3)):
        ihl = (l3[0] & 0xF) * 4
        tl = struct.unpack("!H", l3[2:4])[0]
        check(l3[0] >> 4 == 4 and ihl >= 20, what + " IPv4 version/ihl")
        check(tl <= len(l3) and (tl == len(l3) or len(raw) <= 60), what + " IPv4 total length %d vs %d bytes in frame" % (tl, len(l3)))
        check(checksum(l3[:ihl]) == 0, what + " IPv4 header checksum")
        if l3[9] == 47 and tl >= ihl + 8:          # our GRE: inner must fit exactly
            inner = l3[ihl + 8:tl]
            if check(len(inner) >= 20, what + " GRE inner cut (%d bytes)" % len(inner)):
                if inner[0] >> 4 == 4:
                    itl = struct.unpack("!H", inner[2:4])[0]
                    eq(itl, len(inner), what + " GRE inner IPv4 total length vs GRE payload")
                    check(checksum(inner[:(inner[0] & 0xF) * 4]) == 0, what + " inner IPv4 checksum")
                elif inner[0] >> 4 == 6:
                    check(len(inner) >= 40 and 40 + struct.unpack("!H", inner[4:6])[0] == len(inner),
                          what + " GRE inner IPv6 payload length vs GRE payload")
    elif et == 0x86DD and check(len(l3) >= 40, what + " IPv6 header cut (%d bytes)" % len(l3)):
        pl = struct.unpack("!H", l3[4:6])[0]
        check(40 + pl == len(l3) or (40 + pl < len(l3) and len(raw) <= 60), what + " IPv6 payload length %d vs %d" % (pl, len(l3) - 40))


def _fuzz(name, port, seeds, n, seed):
    rnd = random.Random(seed)
    pkts = [_mutate(rnd, bytes(rnd.choice(seeds))) for _ in range(n)]
    pkts = [p for p in pkts if len(p) > 0]
    kw = {"edge_in": pkts} if port == "edge" else {"core_in": pkts}
    r = run_ok(name, **kw)
    st = r.stats
    eq(st["ports"][EDGE_PORT if port == "edge" else CORE_PORT]["rx_packets"], len(pkts), "rx_packets")
    for p in ("edge", "core"):
        bad_before = len([m for m in __import__("pfharness").soft_failures()])
        for i, f in enumerate(r.out(p)):
            _check_out_frame(f, p, i)
            if len(__import__("pfharness").soft_failures()) - bad_before > 10:
                check(False, "(more malformed %s frames not listed)" % p)
                break


def test_fuzz_edge():
    _fuzz("fuzz_edge", "edge", _seeds_edge(), 600, 1)


def test_fuzz_core():
    _fuzz("fuzz_core", "core", _seeds_core(), 600, 2)
