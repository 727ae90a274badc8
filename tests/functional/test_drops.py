# SPDX-License-Identifier: BSD-3-Clause
"""Malformed and unwanted input: every drop counted under its own reason, never a crash,
never an mbuf leak. Plus the odd-but-legal packets a router must forward."""
import struct

from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run_ok, check_drops, check_frames, check_event,
                       check_one_drop_of)
from scapy.all import IPOption_NOP, IPOption_EOL, fragment  # noqa: E402


def good_inner(**kw):
    d = dict(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=64)
    d.update(kw)
    return IP(**d) / UDP(sport=1111, dport=2222) / b"payload-123456789"


def raw_ip(pkt):
    return bytearray(bytes(pkt))


def fix_cksum(b):
    ihl = (b[0] & 0x0F) * 4
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", checksum(bytes(b[:ihl])))
    return b


def edge_raw(tags_bytes, ethertype, payload, src=CONTOSO_RTR_MAC):
    eth = bytes.fromhex(EDGE_MAC.replace(":", "")) + bytes.fromhex(src.replace(":", ""))
    return eth + tags_bytes + struct.pack("!H", ethertype) + bytes(payload)


TAG555 = struct.pack("!HH", 0x8100, 555)


def _drop_test(name, expected, edge_in=(), core_in=(), config=None):
    r = run_ok(name, edge_in=edge_in, core_in=core_in, config=config)
    check_frames(r, "edge", 0)
    check_frames(r, "core", 0)
    check_drops(r, expected)
    n_in = len(edge_in) + len(core_in)
    eq(r.stats["ports"][EDGE_PORT]["rx_packets"] + r.stats["ports"][CORE_PORT]["rx_packets"], n_in, "rx_packets total")
    return r


def test_drop_untagged_on_edge():
    _drop_test("drop_untagged", {"untagged": 1}, edge_in=[Ether(src=CONTOSO_RTR_MAC, dst=EDGE_MAC) / good_inner()])


def test_drop_unknown_vlan():
    _drop_test("drop_unknown_vlan", {"unknown_vlan": 3}, edge_in=[
        mk_edge([999], good_inner()),
        mk_edge([(0x88A8, 100), (0x8100, 999)], good_inner()),   # unknown C-tag under a known S-tag
        mk_edge([(0x88A8, 555), (0x8100, 555)], good_inner()),   # QinQ whose outer is contoso's VLAN
    ])


def test_drop_bad_ethertype():
    _drop_test("drop_bad_ethertype", {"bad_ethertype": 1}, edge_in=[edge_raw(TAG555, 0x8847, b"\x00" * 46)])


def test_drop_ip4_bad_version():
    b = raw_ip(good_inner())
    b[0] = 0x55
    _drop_test("drop_ip4_bad_version", {"ip4_bad_version": 1}, edge_in=[edge_raw(TAG555, 0x0800, fix_cksum(b))])


def test_drop_ip4_bad_ihl():
    b = raw_ip(good_inner())
    b[0] = 0x44
    _drop_test("drop_ip4_bad_ihl", {"ip4_bad_ihl": 1}, edge_in=[edge_raw(TAG555, 0x0800, b)])


def test_drop_ip4_bad_len():
    b = raw_ip(good_inner())
    b[2:4] = struct.pack("!H", len(b) + 100)   # total length beyond the frame
    c = raw_ip(good_inner())
    c[2:4] = struct.pack("!H", 12)             # total length below the header
    _drop_test("drop_ip4_bad_len", {"ip4_bad_len": 2},
               edge_in=[edge_raw(TAG555, 0x0800, fix_cksum(b)), edge_raw(TAG555, 0x0800, fix_cksum(c))])


def test_drop_ip4_bad_cksum():
    b = raw_ip(good_inner())
    b[10] ^= 0x5A
    # and on the core: outer header of a GRE packet with a wrong checksum
    g = raw_ip(IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(key_present=1, key=CONTOSO_KEY, proto=0x0800) /
               IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / b"x")
    g[10] ^= 0xFF
    _drop_test("drop_ip4_bad_cksum", {"ip4_bad_cksum": 2},
               edge_in=[edge_raw(TAG555, 0x0800, b)],
               core_in=[Ether(src=GW_MAC, dst=CORE_MAC, type=0x0800) / Raw(bytes(g))])


def test_drop_ip4_bad_src():
    pkts = [mk_edge([555], good_inner(src=s)) for s in ("127.0.0.1", "0.0.0.0", "224.0.0.5", "255.255.255.255")]
    _drop_test("drop_ip4_bad_src", {"ip4_bad_src": 4}, edge_in=pkts)


def test_drop_ip6_bad_version():
    b = bytearray(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6) / UDP() / (b"x" * 10)))
    b[0] = 0x40 | (b[0] & 0x0F)
    _drop_test("drop_ip6_bad_version", {"ip6_bad_version": 1}, edge_in=[edge_raw(TAG555, 0x86DD, b)])


def test_drop_ip6_bad_len():
    b = bytearray(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6) / UDP() / (b"x" * 10)))
    b[4:6] = struct.pack("!H", 500)
    _drop_test("drop_ip6_bad_len", {"ip6_bad_len": 1}, edge_in=[edge_raw(TAG555, 0x86DD, b)])


def test_drop_runts_edge():
    full = bytes(mk_edge([555], good_inner()))
    full6 = bytes(mk_edge([555], IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6) / UDP() / (b"x" * 10)))
    cuts = [
        full[:6],          # inside the Ethernet destination
        full[:13],         # inside the EtherType
        full[:16],         # inside the VLAN tag
        full[:18 + 10],    # inside the IPv4 header
        full[:18 + 19],    # one byte short of the IPv4 header
        full6[:18 + 20],   # inside the IPv6 header
        full6[:18 + 39],   # one byte short of the IPv6 header
    ]
    r = _drop_test("drop_runt_edge", {"runt": len(cuts)}, edge_in=cuts)


def test_drop_runts_core():
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / (b"x" * 10)
    full = bytes(Ether(src=GW_MAC, dst=CORE_MAC) / IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(key_present=1, key=CONTOSO_KEY, proto=0x0800) / inner)

    def cut_gre(n_gre):
        """A consistent outer IPv4 (total length matching) whose GRE part is n_gre bytes."""
        b = bytearray(full[:14 + 20 + n_gre])
        b[14 + 2:14 + 4] = struct.pack("!H", 20 + n_gre)
        b[14:34] = fix_cksum(bytearray(b[14:34]))
        return bytes(b)
    r = _drop_test("drop_runt_core", {"runt": 4}, core_in=[full[:10], full[:14 + 12], cut_gre(2), cut_gre(6)])


def test_drop_gre_inner_cut():
    """GRE header complete, inner IPv4 header cut: runt or gre_bad_inner."""
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / (b"x" * 10)
    full = bytearray(bytes(IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(key_present=1, key=CONTOSO_KEY, proto=0x0800) / inner))
    b = full[:20 + 8 + 12]
    b[2:4] = struct.pack("!H", len(b))
    fix_cksum(b)
    r = run_ok("drop_gre_inner_cut", core_in=[Ether(src=GW_MAC, dst=CORE_MAC, type=0x0800) / Raw(bytes(b))])
    check_frames(r, "edge", 0)
    check_one_drop_of(r, {"runt", "gre_bad_inner"})


def test_drop_gre_inner_bad_cksum():
    inner = bytearray(bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / (b"x" * 10)))
    inner[10] ^= 0x33
    p = mk_gre(CONTOSO_KEY, CONTOSO_TUN, Raw(bytes(inner)), proto=0x0800)
    r = run_ok("drop_gre_inner_bad_cksum", core_in=[p])
    check_frames(r, "edge", 0)
    check_one_drop_of(r, {"ip4_bad_cksum", "gre_bad_inner"})


def test_drop_rx_oversize():
    jumbo = mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST) / UDP() / udp_payload(9000 - 46))
    require(len(bytes(jumbo)) == 9000, "test bug: %d" % len(bytes(jumbo)))
    core_jumbo = mk_core(IP(src="13.64.1.1", dst="203.0.113.5") / UDP() / udp_payload(1600))
    _drop_test("drop_rx_oversize", {"rx_oversize": 2}, edge_in=[jumbo], core_in=[core_jumbo])


def test_drop_not_our_mac():
    p = mk_edge([555], good_inner(), dst="02:00:00:00:99:99")
    r = run_ok("drop_not_our_mac", edge_in=[p])
    check_frames(r, "core", 0)
    check_frames(r, "edge", 0)
    check_one_drop_of(r, None)


def test_drop_for_us_unsupported():
    tcp_bgp = mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2") / TCP(sport=40000, dport=179, flags="S"))
    _drop_test("drop_not_for_us", {"not_for_us": 1}, edge_in=[tcp_bgp])


def test_drop_icmp_unhandled():
    ts = mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2") / ICMP(type=13))
    _drop_test("drop_icmp_unhandled", {"icmp_unhandled": 1}, edge_in=[ts])


def test_drop_frag_for_us():
    frag = mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2", flags="MF", id=5) / ICMP(type=8) / (b"a" * 32))
    core_frag = mk_core(IP(src=CONTOSO_TUN, dst=CORE_IP, flags="MF", id=6) / GRE(key_present=1, key=CONTOSO_KEY) /
                        IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / (b"b" * 64))
    _drop_test("drop_frag_for_us", {"frag_for_us": 2}, edge_in=[frag], core_in=[core_frag])


def test_drop_arp_bad():
    bad = mk_edge([555], ARP(op=1, hwsrc=CONTOSO_RTR_MAC, psrc="172.16.1.1", pdst="172.16.1.2", plen=6), dst=BCAST)
    _drop_test("drop_arp_bad", {"arp_bad": 1}, edge_in=[bad])


def test_drop_nd_bad():
    # NS with hop limit 64 (RFC 4861 7.1.1: must be 255)
    ns = mk_edge([555], IPv6(src="2001:db8:a1::1", dst="ff02::1:ff00:2", hlim=64) /
                 ICMPv6ND_NS(tgt="2001:db8:a1::2") / ICMPv6NDOptSrcLLAddr(lladdr=CONTOSO_RTR_MAC), dst="33:33:ff:00:00:02")
    _drop_test("drop_nd_bad", {"nd_bad": 1}, edge_in=[ns])


def test_drop_blackhole():
    cfg = base_config()
    cfg_context(cfg, "contoso-public")["routes"].append({"prefix": "13.64.66.0/24", "via": "drop"})
    p = mk_edge([556], IP(src="203.0.113.10", dst="13.64.66.1") / UDP() / (b"x" * 10), src=CONTOSO_PUB_MAC)
    ok = mk_edge([556], IP(src="203.0.113.10", dst="13.64.67.1") / UDP() / (b"x" * 10), src=CONTOSO_PUB_MAC)
    r = run_ok("drop_blackhole", edge_in=[p, ok], config=cfg)
    check_drops(r, {"blackhole": 1})
    check_frames(r, "core", 1, "the non-blackholed packet: ")


def test_every_drop_reason_in_json():
    r = run_ok("stats_names", edge_in=[])
    missing = [n for n in DROP_NAMES if n not in r.stats["drops"]]
    eq(missing, [], "drop reasons missing from stats.drops")
    missing = [n for n in EVENT_NAMES if n not in r.stats["events"]]
    eq(missing, [], "events missing from stats.events")
    check_drops(r, {})


# ---------------------------------------------------------------------------------------
# odd but legal: forwarded
# ---------------------------------------------------------------------------------------
def test_fwd_ip_options():
    inner = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=64,
                        options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]) / UDP() / b"opts"))
    require(inner.ihl == 6, "test bug")
    r = run_ok("fwd_ip_options", edge_in=[mk_edge([555], inner)])
    check_drops(r, {})
    if check_frames(r, "core", 1):
        got = check_gre_frame(r.core_out[0], CONTOSO_KEY, CONTOSO_TUN, 0x0800, "options")
        if got is not None:
            eq(got, expected_fwd4(inner), "inner with options (ttl-1, checksum, options kept)")
            check(ip4_hdr_cksum_ok(IP(got)), "inner checksum")
    rows = r.tshark("core", ["ip.hdr_len", "ip.ttl", "ip.checksum.status"])
    if check(len(rows) == 1, "tshark frames"):
        eq((rows[0]["ip.hdr_len"], rows[0]["ip.ttl"], rows[0]["ip.checksum.status"]), (["20", "24"], ["64", "63"], [TS_GOOD, TS_GOOD]), "tshark")


def test_fwd_fragments_as_is():
    whole = IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=64, id=0x4444) / UDP(sport=5, dport=6) / udp_payload(400)
    frags = [IP(bytes(f)) for f in fragment(whole, fragsize=200)]
    require(len(frags) >= 2, "test bug")
    r = run_ok("fwd_fragments", edge_in=[mk_edge([555], f) for f in frags])
    check_drops(r, {})
    check_event(r, "fragmented", 0)
    if check_frames(r, "core", len(frags)):
        for i, (f, o) in enumerate(zip(r.core_out, frags)):
            got = check_gre_frame(f, CONTOSO_KEY, CONTOSO_TUN, 0x0800, "fragment %d" % i)
            if got is not None:
                eq(got, expected_fwd4(o), "fragment %d forwarded as is (ttl-1)" % i)
    rows = r.tshark("core", ["ip.checksum.status", "ip.frag_offset"], extra=["-o", "ip.defragment:FALSE"])
    for t in rows:
        eq(t["ip.checksum.status"], [TS_GOOD, TS_GOOD], "tshark checksums")


def test_fwd_min_frame_padding():
    inner = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=64) / UDP(sport=1, dport=2) / b"hi"))
    frame = mk_edge([555], inner)
    raw = bytes(frame)
    raw = raw + b"\xAA" * (60 - len(raw))   # Ethernet padding with a visible pattern
    require(len(raw) == 60, "test bug")
    r = run_ok("fwd_min_frame", edge_in=[raw])
    check_drops(r, {})
    if check_frames(r, "core", 1):
        f = r.core_out[0]
        got = check_gre_frame(f, CONTOSO_KEY, CONTOSO_TUN, 0x0800, "padded")
        if got is not None:
            eq(got, expected_fwd4(inner), "inner = IPv4 total length only, no padding carried")
            eq(f[IP].len, 20 + 8 + inner.len, "outer total length")
            check(b"\xAA\xAA" not in bytes(f)[14:14 + f[IP].len], "Ethernet padding leaked into the GRE payload")
    rows = r.tshark("core", ["ip.len", "gre.key"])
    if check(len(rows) == 1, "tshark frames"):
        eq(rows[0]["ip.len"], [str(28 + inner.len), str(inner.len)], "tshark ip.len outer,inner")


def test_fwd_inner_padding_stripped_on_decap():
    """Cloud side: outer IP longer than needed is not allowed to grow the inner packet."""
    inner = IP(bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM, ttl=64) / UDP(sport=1, dport=2) / b"hi"))
    p = mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)
    raw = bytes(p) + b"\xAA" * 10   # trailing bytes after the outer IP (Ethernet padding)
    r = run_ok("fwd_decap_padding", core_in=[raw])
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq(ip4_bytes(f[IP]), expected_fwd4(inner), "inner forwarded")
        eq(f[IP].len, inner.len, "inner total length")
