# SPDX-License-Identifier: BSD-3-Clause
"""Less common paths: mixed bursts (drops must not disturb their neighbours), the
cloud->customer direction for ICMP errors and fragmentation (smaller edge MTU), the S-tag
TPID option, IPv4 options on traffic for us, forced tunneling."""
import struct

from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run, run_ok, check_drops, check_frames, check_event,
                       check_one_drop_of)
from scapy.all import IPOption_NOP, IPOption_EOL, IPOption_RR, defragment  # noqa: E402


def test_mixed_burst_keeps_good_packets_in_order():
    """One RX burst with good and bad packets interleaved: exactly the good ones come out,
    each unchanged but for TTL, every flow in order. (Each family is one flow here; the
    fast path sends a burst's IPv4 packets before its IPv6 ones, which reorders no flow.)"""
    good, pkts = [], []
    for i in range(12):
        g4 = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=1000 + i) / UDP(sport=7000 + i, dport=9) / udp_payload(20 + i)))
        g6 = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6, fl=i) / UDP(sport=8000 + i, dport=9) / udp_payload(30 + i)))
        bad = bytearray(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=5000 + i) / UDP() / b"bad"))
        bad[10] ^= 0xFF
        pkts += [mk_edge([555], g4),
                 bytes(mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST) / UDP()))[:18] + bytes(bad),
                 mk_edge([999], g4),
                 mk_edge([555], g6),
                 mk_edge([556], IP(src="203.0.113.1", dst=VNET_HOST) / UDP() / b"nr", src=CONTOSO_PUB_MAC)]
        good += [g4, g6]
    r = run_ok("mixed_burst", edge_in=pkts)
    check_drops(r, {"ip4_bad_cksum": 12, "unknown_vlan": 12, "no_route": 12})
    if check_frames(r, "core", len(good)):
        inners = [gre_inner(f)[2] for f in r.core_out]
        for fam, ver, fwd in ((IP, 4, expected_fwd4), (IPv6, 6, expected_fwd6)):
            exp = [g for g in good if isinstance(g, fam)]
            got = [x for x in inners if x[0] >> 4 == ver]
            eq(len(got), len(exp), "IPv%d frames" % ver)
            for i, (inner, g) in enumerate(zip(got, exp)):
                check(inner == fwd(g), "IPv%d frame %d is not good packet %d (ttl-1)"
                      % (ver, i, i))
    check_event(r, "gre_encap", len(good))


def test_cloud_ttl_expired_answered_through_tunnel():
    """Inner TTL 1 from the cloud: time exceeded goes back to the VNet host, through the
    customer's tunnel (the context's route for 10.0.1.5 is the GRE tunnel)."""
    inner = IP(bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM, ttl=1, id=0x2222) / UDP(sport=33434, dport=33435) / udp_payload(24)))
    r = run_ok("rev_ttl_expired", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)])
    check_drops(r, {"ttl_expired": 1})
    check_frames(r, "edge", 0)
    if check_frames(r, "core", 1, "ICMP time exceeded via GRE: "):
        got = check_gre_frame(r.core_out[0], CONTOSO_KEY, CONTOSO_TUN, 0x0800, "icmp in gre")
        if got is not None:
            ip = IP(got)
            eq((ip.dst, ip.proto), (VNET_HOST, 1), "ICMP to the VNet host")
            check(ip.src in ("172.16.1.2", CORE_IP), "ICMP source %s is one of ours" % ip.src)
            check(ip4_hdr_cksum_ok(ip), "checksum")
            raw = ip4_bytes(ip)[20:]
            eq((raw[0], raw[1]), (11, 0), "ICMP type/code")
            check(checksum(raw) == 0, "ICMP checksum")
            eq(IP(raw[8:28]).id, 0x2222, "quoted id")
    check_event(r, "icmp_time_exceeded", 1)


def _edge_mtu_cfg(mtu):
    cfg = base_config()
    cfg_port(cfg, EDGE_PORT)["mtu"] = mtu
    return cfg


def test_cloud_frag_needed_toward_edge():
    """Edge MTU 1400, cloud sends 1472 bytes with DF: frag needed (MTU 1400) to the VNet host
    through the tunnel."""
    inner = IP(bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM, flags="DF", id=0x3333) / UDP(sport=1, dport=2) / udp_payload(1472 - 28)))
    r = run_ok("rev_frag_needed", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)], config=_edge_mtu_cfg(1400))
    check_drops(r, {"frag_needed": 1})
    check_frames(r, "edge", 0)
    if check_frames(r, "core", 1, "ICMP frag needed via GRE: "):
        got = check_gre_frame(r.core_out[0], CONTOSO_KEY, CONTOSO_TUN, 0x0800, "icmp in gre")
        if got is not None:
            ip = IP(got)
            eq(ip.dst, VNET_HOST, "ICMP to the VNet host")
            raw = ip4_bytes(ip)[20:]
            eq((raw[0], raw[1]), (3, 4), "ICMP type/code")
            eq(struct.unpack("!H", raw[6:8])[0], 1400, "next-hop MTU = edge MTU")
            check(checksum(raw) == 0, "ICMP checksum")
    check_event(r, "icmp_frag_needed", 1)


def test_cloud_fragmented_toward_edge():
    data = udp_payload(1472 - 28, seed=9)
    inner = IP(bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=0x4343) / UDP(sport=1, dport=2) / data))
    r = run_ok("rev_fragmented", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)], config=_edge_mtu_cfg(1400))
    check_drops(r, {})
    check_frames(r, "core", 0)
    require(len(r.edge_out) >= 2, "expected fragments on the edge, got %d frames" % len(r.edge_out))
    frags = []
    for i, f in enumerate(r.edge_out):
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, CONTOSO_RTR_MAC, [(0x8100, 555)]), "fragment %d ethernet" % i)
        ip = IP(ip4_bytes(f[IP]))
        check(ip.len <= 1400, "fragment %d length %d > edge MTU 1400" % (i, ip.len))
        check(ip4_hdr_cksum_ok(ip), "fragment %d checksum" % i)
        eq((ip.id, ip.ttl), (0x4343, 63), "fragment %d id/ttl" % i)
        frags.append(ip)
    d = defragment(frags)
    if check(len(d) == 1 and d[0].haslayer(UDP), "scapy defragment: %s" % [x.summary() for x in d]):
        eq(bytes(d[0][UDP].payload), data, "reassembled payload")
    check_event(r, "fragmented", 1)
    check_event(r, "fragments_out", len(frags))


def test_packet_too_big_v6_smaller_core_mtu():
    cfg = base_config()
    cfg_port(cfg, CORE_PORT)["mtu"] = 1400
    orig = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6) / UDP(sport=7, dport=7) / udp_payload(1373 - 48)))
    fits = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6) / UDP(sport=7, dport=8) / udp_payload(1372 - 48)))
    r = run_ok("icmp6_ptb_mtu1400", edge_in=[mk_edge([555], orig), mk_edge([555], fits)], config=cfg)
    check_drops(r, {"frag_needed": 1})
    check_frames(r, "core", 1, "the 1372-byte IPv6 packet fits: ")
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        if check(f.haslayer(IPv6), "not IPv6"):
            raw = ip6_bytes(f[IPv6])[40:]
            eq((raw[0], struct.unpack("!I", raw[4:8])[0]), (2, 1372), "PTB type / MTU")


def test_fabrikam_s_tpid_8100():
    cfg = base_config()
    # the TPID belongs to the S-tag: both contexts under S-tag 100 must agree
    cfg_context(cfg, "fabrikam-private")["s_tpid"] = "0x8100"
    cfg_context(cfg, "fabrikam-microsoft")["s_tpid"] = "0x8100"
    inner = IP(bytes(IP(src=VNET_HOST, dst=FABRIKAM_ONPREM) / UDP(sport=1, dport=2) / b"tpid"))
    up = mk_edge([(0x8100, 100), (0x8100, 555)], IP(src=FABRIKAM_ONPREM, dst=VNET_HOST) / UDP() / b"up", src=FABRIKAM_RTR_MAC)
    r = run_ok("fabrikam_s_tpid_8100", core_in=[mk_gre(FABRIKAM_KEY, FABRIKAM_TUN, inner)], edge_in=[up], config=cfg)
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        eq(vlan_tags(r.edge_out[0]), [(0x8100, 100), (0x8100, 555)], "tags with s_tpid 0x8100")
    check_frames(r, "core", 1)
    rows = r.tshark("edge", ["eth.type", "vlan.id"])
    if check(len(rows) == 1, "tshark frames"):
        eq((rows[0]["eth.type"][:1], rows[0]["vlan.id"]), (["0x8100"], ["100", "555"]), "tshark tags")


def test_echo_with_ip_options_to_us():
    """Options on a packet we must answer: dropped as ip_options (never a wrong reply)."""
    req = mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2", options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]) /
                  ICMP(type=8, id=1, seq=1) / b"opts")
    r = run_ok("echo_ip_options", edge_in=[req])
    # Either a correct echo reply or an ip_options drop is acceptable; a malformed reply is not.
    if r.edge_out:
        eq(len(r.edge_out), 1, "replies")
        f = r.edge_out[0]
        ip = f[IP]
        check(ip4_hdr_cksum_ok(ip), "reply checksum")
        eq((ip.src, ip.dst), ("172.16.1.2", "172.16.1.1"), "reply addresses")
        raw = ip4_bytes(ip)[ip.ihl * 4:]
        eq(raw[0], 0, "echo reply type")
        check(checksum(raw) == 0, "ICMP checksum")
        eq(raw[8:], b"opts", "echoed payload")
        check_drops(r, {})
    else:
        check_drops(r, {"ip_options": 1})


def test_ttl_expired_with_options_quotes_whole_header():
    orig = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1, options=[IPOption_NOP()] * 8) / UDP(sport=5, dport=6) / udp_payload(16)))
    require(orig.ihl == 7, "test bug")
    r = run_ok("ttl_expired_options", edge_in=[mk_edge([555], orig)])
    # an ICMP error quoting the full 28-byte header + 8 bytes, or ip_options + ttl_expired
    if r.edge_out:
        check_drops(r, {"ttl_expired": 1})
        ip = r.edge_out[0][IP]
        raw = ip4_bytes(ip)[ip.ihl * 4:]
        eq((raw[0], raw[1]), (11, 0), "type/code")
        q = raw[8:]
        check(len(q) >= 28 + 8, "quote length %d < header 28 + 8" % len(q))
        eq(q[28:36], ip4_bytes(orig)[28:36], "first 8 payload bytes after the options")
        check(checksum(raw) == 0, "ICMP checksum")
    else:
        nz = r.nonzero_drops()
        check(set(nz) <= {"ttl_expired", "ip_options"} and nz.get("ttl_expired", 0) + nz.get("ip_options", 0) >= 1,
              "drops %s" % nz)


def test_fragmentation_with_options():
    """A too-big packet without DF and with IPv4 options: fragmented correctly (options
    without the copy flag only in the first fragment, RFC 791), or dropped as frag_failed."""
    data = udp_payload(1500 - 24 - 8)
    orig = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=0x6161, options=[IPOption_NOP()] * 3 + [IPOption_EOL()]) / UDP(sport=1, dport=2) / data))
    require(orig.len == 1500 and orig.ihl == 6, "test bug")
    r = run_ok("frag_with_options", edge_in=[mk_edge([555], orig)])
    if not r.core_out:
        check_drops(r, {"frag_failed": 1})
        return
    check_drops(r, {})
    frags = []
    for i, f in enumerate(r.core_out):
        got = check_gre_frame(f, CONTOSO_KEY, CONTOSO_TUN, 0x0800, "fragment %d" % i)
        if got is not None:
            ip = IP(got)
            check(ip.len <= 1472, "fragment %d length %d" % (i, ip.len))
            check(ip4_hdr_cksum_ok(ip), "fragment %d checksum" % i)
            frags.append(ip)
    d = defragment(frags)
    if check(len(d) == 1 and d[0].haslayer(UDP), "defragment failed"):
        eq(bytes(d[0][UDP].payload), data, "reassembled payload")


def test_forced_tunneling_default_route():
    """allow_default_route: a private context's 0.0.0.0/0 via GRE sends Internet-bound
    customer traffic into the tunnel (forced tunneling)."""
    cfg = base_config()
    ctx = cfg_context(cfg, "contoso-private")
    ctx["allow_default_route"] = True
    ctx.setdefault("routes", []).append({"prefix": "0.0.0.0/0", "via": "gre"})
    p = mk_edge([555], IP(src=CONTOSO_ONPREM, dst="8.8.8.8") / UDP() / b"internet")
    r = run_ok("forced_tunneling", edge_in=[p], config=cfg)
    if r.rc == 0 and r.stats:
        check_drops(r, {})
        if check_frames(r, "core", 1):
            check_gre_frame(r.core_out[0], CONTOSO_KEY, CONTOSO_TUN, 0x0800, "forced tunnel")


def test_fragment_storm_small_core_mtu():
    """Core MTU 576 (max inner 548): 64 packets of 1500 bytes without DF, 3 fragments each,
    in a couple of RX bursts. All fragments out, every datagram reassembles."""
    cfg = base_config()
    cfg_strip_ipv6(cfg)     # IPv6 (on the port or inside GRE) needs 1280 (+28)
    cfg_port(cfg, CORE_PORT)["mtu"] = 576
    n = 64
    origs = [IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=0x1000 + i) / UDP(sport=i, dport=9) / udp_payload(1472, seed=i)))
             for i in range(n)]
    r = run_ok("frag_storm", edge_in=[mk_edge([555], o) for o in origs], config=cfg)
    check_drops(r, {})
    check_event(r, "fragmented", n)
    by_id = {}
    for f in r.core_out:
        ip = IP(gre_inner(f)[2])
        check(ip.len <= 548, "fragment length %d > 548" % ip.len)
        by_id.setdefault(ip.id, []).append(ip)
    eq(sorted(by_id), [o.id for o in origs], "every datagram present")
    eq(r.event("fragments_out"), len(r.core_out), "fragments_out == frames on core")
    bad = []
    for o in origs:
        frs = sorted(by_id.get(o.id, []), key=lambda x: x.frag)
        data = b"".join(ip4_bytes(x)[x.ihl * 4:] for x in frs)
        if data != ip4_bytes(o)[20:] or [x.frag * 8 for x in frs] != [sum(x.len - 20 for x in frs[:k]) for k in range(len(frs))]:
            bad.append(hex(o.id))
    eq(bad, [], "datagrams that do not reassemble")


def test_ipv6_tunnel_mtu_below_1280():
    """Core MTU 1300 leaves 1272 bytes for the inner packet: less than the IPv6 minimum
    MTU. RFC 8200 section 5 / RFC 4213 section 3.2: a 1280-byte IPv6 packet must still get
    through (the tunnel fragments the outer IPv4), or the configuration must be refused.
    A Packet Too Big below 1280 is useless (RFC 8201 section 4: hosts do not go below 1280)."""
    cfg = base_config()
    cfg_port(cfg, CORE_PORT)["mtu"] = 1300
    inner = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6) / UDP(sport=1, dport=2) / udp_payload(1280 - 48)))
    r = run("v6_tunnel_mtu_1300", edge_in=[mk_edge([555], inner)], config=cfg)
    if r.rc == 2:
        check("1280" in r.stderr or "mtu" in r.stderr.lower(), "config refused, but the message does not say why: %s" % r.stderr[-300:])
        return
    require(r.rc == 0 and r.stats is not None, "peerfwd failed: rc %s %s" % (r.rc, r.describe()))
    ptb = [f for f in r.edge_out if f.haslayer(ICMPv6PacketTooBig)]
    for f in ptb:
        check(f[ICMPv6PacketTooBig].mtu >= 1280, "Packet Too Big with MTU %d < 1280 (IPv6 minimum)" % f[ICMPv6PacketTooBig].mtu)
    frags = [f[IP] for f in r.core_out if f.haslayer(IP)]
    if check(len(frags) >= 2, "expected the 1280-byte IPv6 packet in outer-fragmented GRE, got %d core frames and %d PTB"
             % (len(r.core_out), len(ptb))):
        d = defragment([IP(ip4_bytes(x)) for x in frags])
        if check(len(d) == 1 and d[0].haslayer(GRE), "outer fragments do not reassemble into one GRE packet"):
            eq(bytes(d[0][GRE].payload)[:1280], expected_fwd6(inner), "inner after outer reassembly")
