# SPDX-License-Identifier: BSD-3-Clause
"""Forwarding between the edge (customer VLANs) and the core (GRE toward the cloud,
plain IP for public/Microsoft peering), checked with scapy and tshark."""
from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run_ok, check_drops, check_frames, check_event,
                       check_one_drop_of)


def eq_bytes(got, want, what):
    if got == want:
        return True
    n = min(len(got), len(want))
    off = next((i for i in range(n) if got[i] != want[i]), n)
    check(False, "%s: bytes differ (len got %d, want %d, first difference at offset %d: "
          "got %s want %s)" % (what, len(got), len(want), off, got[off:off + 8].hex(),
                               want[off:off + 8].hex()))
    return False


def ctx_counter(r, ctx, k):
    return r.stats["contexts"].get(ctx, {}).get(k)


def cust_counter(r, cust, k):
    return r.stats["customers"].get(cust, {}).get(k)


# ---------------------------------------------------------------------------------------
# edge -> cloud over GRE
# ---------------------------------------------------------------------------------------
def _to_cloud(name, tags, inner, key, tun, ctx, cust, src_mac=CONTOSO_RTR_MAC):
    inner = (IP if isinstance(inner, IP) else IPv6)(bytes(inner))
    r = run_ok(name, edge_in=[mk_edge(tags, inner, src=src_mac)])
    check_drops(r, {})
    check_frames(r, "edge", 0)
    v6 = isinstance(inner, IPv6)
    if check_frames(r, "core", 1):
        f = r.core_out[0]
        got = check_gre_frame(f, key, tun, 0x86DD if v6 else 0x0800, name)
        if got is not None:
            if v6:
                eq_bytes(got, expected_fwd6(inner), "inner IPv6 packet (hlim-1, rest identical)")
                eq(bool(f[IP].flags.DF), True, "outer DF for IPv6 inner")
                p = IPv6(got)
                eq(p.hlim, inner.hlim - 1, "inner hlim")
            else:
                eq_bytes(got, expected_fwd4(inner), "inner IPv4 packet (ttl-1, cksum, rest identical)")
                p = IP(got)
                check(ip4_hdr_cksum_ok(p), "inner IPv4 checksum wrong")
                eq(p.ttl, inner.ttl - 1, "inner ttl")
                eq(bool(f[IP].flags.DF), bool(inner.flags.DF), "outer DF copied from inner")
                eq(f[IP].tos, inner.tos, "outer TOS copied from inner")
            check(l4_cksum_ok(p), "inner L4 checksum wrong")
    # tshark, independently
    rows = r.tshark("core", ["eth.src", "eth.dst", "vlan.id", "ip.src", "ip.dst", "ip.ttl",
                             "ip.proto", "ip.checksum.status", "ip.flags.df", "gre.key",
                             "gre.proto", "ipv6.src", "ipv6.dst", "ipv6.hlim",
                             "udp.checksum.status"])
    if check(len(rows) == 1, "tshark sees %d core frames, expected 1" % len(rows)):
        t = rows[0]
        eq(t["eth.src"], [CORE_MAC], "tshark eth.src")
        eq(t["eth.dst"], [GW_MAC], "tshark eth.dst")
        eq(t["vlan.id"], [], "tshark vlan.id on core")
        eq([int(k, 16) for k in t["gre.key"]], [key], "tshark gre.key")
        eq(t["gre.proto"], ["0x86dd" if v6 else "0x0800"], "tshark gre.proto")
        if v6:
            eq(t["ip.src"], [CORE_IP], "tshark ip.src")
            eq(t["ip.dst"], [tun], "tshark ip.dst")
            eq(t["ip.checksum.status"], [TS_GOOD], "tshark ip.checksum.status")
            eq(t["ip.flags.df"], ["1"], "tshark outer DF")
            eq(t["ipv6.src"], [inner.src], "tshark ipv6.src")
            eq(t["ipv6.dst"], [inner.dst], "tshark ipv6.dst")
            eq(t["ipv6.hlim"], [str(inner.hlim - 1)], "tshark ipv6.hlim")
        else:
            eq(t["ip.src"], [CORE_IP, inner.src], "tshark ip.src outer,inner")
            eq(t["ip.dst"], [tun, inner.dst], "tshark ip.dst outer,inner")
            eq(t["ip.ttl"], ["64", str(inner.ttl - 1)], "tshark ip.ttl outer,inner")
            eq(t["ip.proto"], ["47", str(inner.proto)], "tshark ip.proto")
            eq(t["ip.checksum.status"], [TS_GOOD, TS_GOOD], "tshark ip.checksum.status")
            df = "1" if inner.flags.DF else "0"
            eq(t["ip.flags.df"], [df, df], "tshark ip.flags.df outer,inner")
        if inner.haslayer(UDP):
            eq(t["udp.checksum.status"], [TS_GOOD], "tshark inner udp.checksum.status")
    # counters
    st = r.stats
    eq(st["ports"][EDGE_PORT]["rx_packets"], 1, "edge rx_packets")
    eq(st["ports"][CORE_PORT]["tx_packets"], 1, "core tx_packets")
    eq(st["ports"][CORE_PORT]["rx_packets"], 0, "core rx_packets")
    eq(st["ports"][EDGE_PORT]["tx_packets"], 0, "edge tx_packets")
    check_event(r, "gre_encap", 1)
    check_event(r, "gre_decap", 0)
    eq(ctx_counter(r, ctx, "in_packets"), 1, "contexts.%s.in_packets" % ctx)
    check((ctx_counter(r, ctx, "in_bytes") or 0) > 0, "contexts.%s.in_bytes > 0" % ctx)
    eq(cust_counter(r, cust, "to_cloud_packets"), 1, "customers.%s.to_cloud_packets" % cust)
    check((cust_counter(r, cust, "to_cloud_bytes") or 0) > 0, "customers.%s.to_cloud_bytes > 0" % cust)
    other = "fabrikam" if cust == "contoso" else "contoso"
    eq(cust_counter(r, other, "to_cloud_packets"), 0, "customers.%s.to_cloud_packets" % other)
    return r


def test_private_v4_to_vnet():
    inner = IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=64, id=0x1234) / UDP(sport=40000, dport=53) / udp_payload(64)
    _to_cloud("fwd_private_v4", [555], inner, CONTOSO_KEY, CONTOSO_TUN, "contoso-private", "contoso")


def test_private_v4_df_tos_copied():
    inner = IP(src=CONTOSO_ONPREM, dst="192.168.1.7", ttl=100, tos=0xB8, flags="DF") / UDP(sport=5004, dport=5004) / udp_payload(200)
    _to_cloud("fwd_private_v4_df_tos", [555], inner, CONTOSO_KEY, CONTOSO_TUN, "contoso-private", "contoso")


def test_private_v4_tcp():
    inner = IP(src="216.221.239.234", dst="10.0.200.9", ttl=128) / TCP(sport=51515, dport=443, flags="S", seq=1000)
    _to_cloud("fwd_private_v4_tcp", [555], inner, CONTOSO_KEY, CONTOSO_TUN, "contoso-private", "contoso")


def test_private_v6_to_vnet():
    inner = IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6, hlim=64, tc=0) / UDP(sport=40000, dport=53) / udp_payload(80)
    _to_cloud("fwd_private_v6", [555], inner, CONTOSO_KEY, CONTOSO_TUN, "contoso-private", "contoso")


def test_fabrikam_qinq_88a8():
    inner = IP(src=FABRIKAM_ONPREM, dst=VNET_HOST, ttl=64) / UDP(sport=1234, dport=80) / udp_payload(40)
    _to_cloud("fwd_fabrikam_qinq_88a8", [(0x88A8, 100), (0x8100, 555)], inner, FABRIKAM_KEY,
              FABRIKAM_TUN, "fabrikam-private", "fabrikam", src_mac=FABRIKAM_RTR_MAC)


def test_fabrikam_qinq_8100_8100():
    inner = IP(src=FABRIKAM_ONPREM, dst=VNET_HOST, ttl=64) / UDP(sport=1234, dport=80) / udp_payload(40)
    _to_cloud("fwd_fabrikam_qinq_8100", [(0x8100, 100), (0x8100, 555)], inner, FABRIKAM_KEY,
              FABRIKAM_TUN, "fabrikam-private", "fabrikam", src_mac=FABRIKAM_RTR_MAC)


# ---------------------------------------------------------------------------------------
# edge -> core plain (public / Microsoft peering)
# ---------------------------------------------------------------------------------------
def _to_core_plain(name, tags, inner, ctx, src_mac):
    inner = IP(bytes(inner))
    r = run_ok(name, edge_in=[mk_edge(tags, inner, src=src_mac)])
    check_drops(r, {})
    check_frames(r, "edge", 0)
    if check_frames(r, "core", 1):
        f = r.core_out[0]
        eq(f[Ether].src, CORE_MAC, "eth src")
        eq(f[Ether].dst, GW_MAC, "eth dst (gateway)")
        eq(vlan_tags(f), [], "untagged on core")
        eq(f[Ether].type, 0x0800, "ethertype")
        check(not f.haslayer(GRE), "public traffic must not be GRE encapsulated")
        eq_bytes(ip4_bytes(f[IP]), expected_fwd4(inner), "IPv4 packet (ttl-1, rest identical)")
        check(ip4_hdr_cksum_ok(f[IP]), "IPv4 checksum wrong")
    rows = r.tshark("core", ["eth.dst", "vlan.id", "ip.src", "ip.dst", "ip.ttl", "ip.checksum.status", "gre.key"])
    if check(len(rows) == 1, "tshark sees %d frames" % len(rows)):
        t = rows[0]
        eq(t["eth.dst"], [GW_MAC], "tshark eth.dst")
        eq(t["vlan.id"], [], "tshark vlan.id")
        eq(t["gre.key"], [], "tshark gre.key")
        eq(t["ip.src"], [inner.src], "tshark ip.src")
        eq(t["ip.dst"], [inner.dst], "tshark ip.dst")
        eq(t["ip.ttl"], [str(inner.ttl - 1)], "tshark ip.ttl")
        eq(t["ip.checksum.status"], [TS_GOOD], "tshark ip.checksum.status")
    check_event(r, "gre_encap", 0)
    eq(ctx_counter(r, ctx, "in_packets"), 1, "contexts.%s.in_packets" % ctx)
    eq(r.stats["ports"][CORE_PORT]["tx_packets"], 1, "core tx_packets")
    cust = ctx.split("-")[0]
    eq(cust_counter(r, cust, "to_cloud_packets"), 1, "customers.%s.to_cloud_packets (circuit traffic)" % cust)


def test_public_to_core_plain():
    inner = IP(src="203.0.113.10", dst="13.64.1.1", ttl=64) / UDP(sport=3333, dport=443) / udp_payload(30)
    _to_core_plain("fwd_public_plain", [556], inner, "contoso-public", CONTOSO_PUB_MAC)


def test_microsoft_qinq_to_core_plain():
    inner = IP(src="198.18.0.9", dst="40.64.0.1", ttl=60) / UDP(sport=3333, dport=443) / udp_payload(30)
    _to_core_plain("fwd_microsoft_plain", [(0x88A8, 100), (0x8100, 556)], inner,
                   "fabrikam-microsoft", FABRIKAM_MS_MAC)


def test_public_vlan_cannot_reach_vnet():
    """VNets are routed only in the private context: 10.0.1.5 on VLAN 556 is no_route."""
    p = mk_edge([556], IP(src="203.0.113.10", dst=VNET_HOST) / UDP() / (b"x" * 20), src=CONTOSO_PUB_MAC)
    r = run_ok("fwd_public_no_vnet", edge_in=[p])
    check_frames(r, "core", 0)
    check_frames(r, "edge", 0)
    check_drops(r, {"no_route": 1})
    check_event(r, "gre_encap", 0)


def test_private_no_default_route():
    p = mk_edge([555], IP(src=CONTOSO_ONPREM, dst="8.8.8.8") / UDP() / (b"x" * 20))
    q = mk_edge([555], IPv6(src=CONTOSO_ONPREM6, dst="fd00:2::1") / UDP() / (b"x" * 20))
    r = run_ok("fwd_private_no_default", edge_in=[p, q])
    check_frames(r, "core", 0)
    check_frames(r, "edge", 0)
    check_drops(r, {"no_route": 2})


# ---------------------------------------------------------------------------------------
# cloud -> edge
# ---------------------------------------------------------------------------------------
def _from_cloud(name, core_pkt, inner, exp_tags, exp_dst_mac, ctx, cust, gre=True):
    inner = (IP if isinstance(inner, IP) else IPv6)(bytes(inner))
    r = run_ok(name, core_in=[core_pkt])
    check_drops(r, {})
    check_frames(r, "core", 0)
    v6 = isinstance(inner, IPv6)
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq(f[Ether].src, EDGE_MAC, "edge eth src")
        eq(f[Ether].dst, exp_dst_mac, "edge eth dst (peer router)")
        eq(vlan_tags(f), exp_tags, "VLAN tags (tpid, vid)")
        check(not f.haslayer(GRE), "GRE must be removed")
        if v6:
            eq_bytes(ip6_bytes(f[IPv6]), expected_fwd6(inner), "IPv6 packet (hlim-1, rest identical)")
        else:
            eq_bytes(ip4_bytes(f[IP]), expected_fwd4(inner), "IPv4 packet (ttl-1, rest identical)")
            check(ip4_hdr_cksum_ok(f[IP]), "IPv4 checksum wrong")
        check(l4_cksum_ok(f[IPv6] if v6 else f[IP]), "L4 checksum wrong")
    rows = r.tshark("edge", ["eth.src", "eth.dst", "eth.type", "vlan.id", "ieee8021ad.id",
                             "ip.src", "ip.dst", "ip.ttl", "ip.checksum.status", "ipv6.dst",
                             "ipv6.hlim", "gre.key"])
    if check(len(rows) == 1, "tshark sees %d edge frames" % len(rows)):
        t = rows[0]
        eq(t["eth.src"], [EDGE_MAC], "tshark eth.src")
        eq(t["eth.dst"], [exp_dst_mac], "tshark eth.dst")
        eq(t["eth.type"][:1], ["0x%04x" % exp_tags[0][0]], "tshark eth.type (outer TPID)")
        if exp_tags[0][0] == 0x88A8:
            eq(t["ieee8021ad.id"], [str(exp_tags[0][1])], "tshark S-VID")
            eq(t["vlan.id"], [str(v) for _, v in exp_tags[1:]], "tshark C-VID")
        else:
            eq(t["vlan.id"], [str(v) for _, v in exp_tags], "tshark vlan.id")
        eq(t["gre.key"], [], "tshark: no GRE on edge")
        if v6:
            eq(t["ipv6.dst"], [inner.dst], "tshark ipv6.dst")
            eq(t["ipv6.hlim"], [str(inner.hlim - 1)], "tshark ipv6.hlim")
        else:
            eq(t["ip.dst"], [inner.dst], "tshark ip.dst")
            eq(t["ip.ttl"], [str(inner.ttl - 1)], "tshark ip.ttl")
            eq(t["ip.checksum.status"], [TS_GOOD], "tshark ip.checksum.status")
    st = r.stats
    eq(st["ports"][CORE_PORT]["rx_packets"], 1, "core rx_packets")
    eq(st["ports"][EDGE_PORT]["tx_packets"], 1, "edge tx_packets")
    check_event(r, "gre_decap", 1 if gre else 0)
    check_event(r, "gre_encap", 0)
    eq(ctx_counter(r, ctx, "out_packets"), 1, "contexts.%s.out_packets" % ctx)
    # circuit billing basis: private (GRE) and public peering traffic alike
    eq(cust_counter(r, cust, "from_cloud_packets"), 1, "customers.%s.from_cloud_packets" % cust)
    check((cust_counter(r, cust, "from_cloud_bytes") or 0) > 0, "customers.%s.from_cloud_bytes" % cust)
    return r


def test_cloud_to_contoso_v4():
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM, ttl=64) / UDP(sport=53, dport=40000) / udp_payload(64)
    _from_cloud("rev_contoso_v4", mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner), inner,
                [(0x8100, 555)], CONTOSO_RTR_MAC, "contoso-private", "contoso")


def test_cloud_to_contoso_v6():
    inner = IPv6(src=VNET_HOST6, dst=CONTOSO_ONPREM6, hlim=64) / UDP(sport=53, dport=40000) / udp_payload(64)
    _from_cloud("rev_contoso_v6", mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner), inner,
                [(0x8100, 555)], CONTOSO_RTR_MAC, "contoso-private", "contoso")


def test_cloud_to_fabrikam_qinq():
    inner = IP(src=VNET_HOST, dst=FABRIKAM_ONPREM, ttl=64) / UDP(sport=80, dport=1234) / udp_payload(64)
    _from_cloud("rev_fabrikam_v4", mk_gre(FABRIKAM_KEY, FABRIKAM_TUN, inner), inner,
                [(0x88A8, 100), (0x8100, 555)], FABRIKAM_RTR_MAC, "fabrikam-private", "fabrikam")


def test_core_plain_to_public_prefix():
    inner = IP(src="13.64.1.1", dst="203.0.113.5", ttl=57) / UDP(sport=443, dport=3333) / udp_payload(40)
    _from_cloud("rev_public_plain", mk_core(inner), inner, [(0x8100, 556)], CONTOSO_PUB_MAC,
                "contoso-public", "contoso", gre=False)


# ---------------------------------------------------------------------------------------
# isolation
# ---------------------------------------------------------------------------------------
def test_isolation_same_vnet_prefix_distinct_keys():
    """Both customers use 10.0.0.0/16: each one's traffic carries only its own key."""
    pkts = []
    for i in range(4):
        pkts.append(mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=100 + i) / UDP(sport=1000 + i, dport=9) / b"contoso"))
        pkts.append(mk_edge([(0x88A8, 100), (0x8100, 555)], IP(src=FABRIKAM_ONPREM, dst=VNET_HOST, id=200 + i) / UDP(sport=2000 + i, dport=9) / b"fabrikam",
                            src=FABRIKAM_RTR_MAC))
    r = run_ok("iso_keys", edge_in=pkts)
    check_drops(r, {})
    if check_frames(r, "core", 8):
        for f in r.core_out:
            _, g, innerb = gre_inner(f)
            ip = IP(innerb)
            owner = bytes(ip[UDP].payload)
            want_key, want_dst = ((CONTOSO_KEY, CONTOSO_TUN) if owner == b"contoso" else (FABRIKAM_KEY, FABRIKAM_TUN))
            eq((g.key, f[IP].dst), (want_key, want_dst), "key/tunnel of %s packet id %d" % (owner, ip.id))
    rows = r.tshark("core", ["gre.key", "ip.src", "udp.srcport"])
    keys = sorted((int(t["gre.key"][0], 16), t["ip.src"][1]) for t in rows if t["gre.key"])
    eq(keys, sorted([(1001, CONTOSO_ONPREM)] * 4 + [(2002, FABRIKAM_ONPREM)] * 4), "tshark (key, inner src) pairs")
    eq(cust_counter(r, "contoso", "to_cloud_packets"), 4, "contoso to_cloud_packets")
    eq(cust_counter(r, "fabrikam", "to_cloud_packets"), 4, "fabrikam to_cloud_packets")


def test_isolation_contoso_key_cannot_reach_fabrikam():
    inner = IP(src=VNET_HOST, dst=FABRIKAM_ONPREM) / UDP(sport=1, dport=2) / b"leak"
    inner2 = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP(sport=1, dport=2) / b"leak"
    r = run_ok("iso_no_cross", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner),
                                        mk_gre(FABRIKAM_KEY, FABRIKAM_TUN, inner2)])
    check_frames(r, "edge", 0)
    check_frames(r, "core", 0)
    check_drops(r, {"no_route": 2})
    eq(cust_counter(r, "fabrikam", "from_cloud_packets") in (0, None), True,
       "nothing delivered to fabrikam")


def test_isolation_core_plain_cannot_reach_private():
    """Plain (non-GRE) core traffic must never reach a private peering's on-prem prefix."""
    a = mk_core(IP(src="13.64.1.1", dst=CONTOSO_ONPREM) / UDP() / (b"x" * 10))
    b = mk_core(IP(src="13.64.1.1", dst=FABRIKAM_ONPREM) / UDP() / (b"x" * 10))
    r = run_ok("iso_core_plain_private", core_in=[a, b])
    check_frames(r, "edge", 0)
    check_frames(r, "core", 0)
    # The contract names no counter for this case: no_route (nothing toward a customer) or
    # wrong_dir (the core context's default route points back at the core) are both accepted.
    nz = r.nonzero_drops()
    check(sum(nz.values()) == 2 and set(nz) <= {"no_route", "wrong_dir"},
          "expected 2 drops as no_route/wrong_dir, got %s" % nz)


def test_isolation_spoofed_endpoint():
    """Key 1001 from fabrikam's tunnel endpoint: dropped, not delivered to contoso."""
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / b"spoof"
    r = run_ok("iso_spoofed_endpoint", core_in=[mk_gre(CONTOSO_KEY, FABRIKAM_TUN, inner)])
    check_frames(r, "edge", 0)
    check_one_drop_of(r, {"gre_bad_endpoint", "gre_unknown_key"})


def test_gre_unknown_key():
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / b"x"
    r = run_ok("gre_unknown_key", core_in=[mk_gre(7777, CONTOSO_TUN, inner)])
    check_frames(r, "edge", 0)
    check_drops(r, {"gre_unknown_key": 1})


def test_gre_missing_key():
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / b"x"
    r = run_ok("gre_missing_key", core_in=[mk_gre(None, CONTOSO_TUN, inner)])
    check_frames(r, "edge", 0)
    check_drops(r, {"gre_unknown_key": 1})


def test_gre_bad_endpoint():
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / b"x"
    r = run_ok("gre_bad_endpoint", core_in=[mk_gre(CONTOSO_KEY, "198.51.100.99", inner)])
    check_frames(r, "edge", 0)
    check_drops(r, {"gre_bad_endpoint": 1})


def test_gre_bad_header():
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / b"x"
    v1 = mk_core(IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(version=1, key_present=1, key=CONTOSO_KEY, proto=0x0800) / inner)
    teb = mk_core(IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(key_present=1, key=CONTOSO_KEY, proto=0x6558) /
                  Ether(src="02:00:00:00:99:01", dst="02:00:00:00:99:02") / inner)
    rt = mk_core(IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(routing_present=1, key_present=1, key=CONTOSO_KEY, proto=0x0800) / inner)
    r = run_ok("gre_bad_header", core_in=[v1, teb, rt])
    check_frames(r, "edge", 0)
    check_drops(r, {"gre_bad_header": 3})
