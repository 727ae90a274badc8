# SPDX-License-Identifier: BSD-3-Clause
"""Boundaries and protocol corners: MTU limits exactly, IPv6 extension headers,
broadcast/martian destinations and sources, peering addresses reachable from the cloud."""
from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run_ok, check_drops, check_frames, check_event,
                       check_one_drop_of)
from scapy.all import IPv6ExtHdrHopByHop, IPv6ExtHdrFragment, PadN  # noqa: E402


def test_rx_mtu_boundaries():
    """L3 MTU 1500 on both ports: IP 1500 accepted with 0, 1 or 2 tags; 1501 is oversize."""
    def v4(n, dst=VNET_HOST):
        return IP(src=CONTOSO_ONPREM, dst=dst, flags="DF") / UDP(sport=1, dport=2) / udp_payload(n - 28)
    edge = [
        mk_edge([556], IP(src="203.0.113.1", dst="13.64.1.1", flags="DF") / UDP() / udp_payload(1500 - 28), src=CONTOSO_PUB_MAC),
        mk_edge([556], IP(src="203.0.113.1", dst="13.64.1.1", flags="DF") / UDP() / udp_payload(1501 - 28), src=CONTOSO_PUB_MAC),
        mk_edge([(0x88A8, 100), (0x8100, 556)], IP(src="198.18.0.1", dst="40.64.0.1", flags="DF") / UDP() / udp_payload(1500 - 28),
                src=FABRIKAM_MS_MAC),
        mk_edge([(0x88A8, 100), (0x8100, 556)], IP(src="198.18.0.1", dst="40.64.0.1", flags="DF") / UDP() / udp_payload(1501 - 28),
                src=FABRIKAM_MS_MAC),
    ]
    core = [mk_core(IP(src="13.64.1.1", dst="203.0.113.5", flags="DF") / UDP() / udp_payload(1500 - 28)),
            mk_core(IP(src="13.64.1.1", dst="203.0.113.5", flags="DF") / UDP() / udp_payload(1501 - 28))]
    r = run_ok("mtu_boundaries", edge_in=edge, core_in=core)
    check_drops(r, {"rx_oversize": 3})
    eq(sorted(f[IP].len for f in r.core_out), [1500, 1500], "1500-byte packets forwarded to the core")
    eq([f[IP].len for f in r.edge_out], [1500], "1500-byte packet forwarded to the edge")


def test_ipv6_extension_headers_forwarded():
    """Hop-by-hop options and a fragment header: forwarded unchanged but for hlim."""
    hbh = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6, hlim=64) / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)]) /
                     UDP(sport=1, dport=2) / b"hbh"))
    frag = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6, hlim=64) / IPv6ExtHdrFragment(id=0x1234, m=1, offset=0) /
                      UDP(sport=1, dport=2) / udp_payload(64)))
    r = run_ok("v6_ext_headers", edge_in=[mk_edge([555], hbh), mk_edge([555], frag)])
    check_drops(r, {})
    if check_frames(r, "core", 2):
        for f, o, what in zip(r.core_out, (hbh, frag), ("hop-by-hop", "fragment header")):
            got = check_gre_frame(f, CONTOSO_KEY, CONTOSO_TUN, 0x86DD, what)
            if got is not None:
                eq(got, expected_fwd6(o), what + " packet forwarded unchanged (hlim-1)")


def test_bad_destinations_not_forwarded():
    """Limited broadcast, the /30's broadcast and network addresses, multicast, loopback,
    0.0.0.0 as destinations from a customer: never forwarded."""
    dsts = ["255.255.255.255", "172.16.1.3", "172.16.1.0", "224.0.0.5", "239.1.1.1", "127.0.0.1", "0.0.0.0"]
    pkts = [mk_edge([555], IP(src="172.16.1.1", dst=d) / UDP(sport=1, dport=2) / b"bad-dst",
                    dst=BCAST if d.startswith("255") else EDGE_MAC) for d in dsts]
    r = run_ok("bad_destinations", edge_in=pkts)
    check_frames(r, "core", 0)
    check_frames(r, "edge", 0)
    eq(sum(r.nonzero_drops().values()), len(dsts), "every packet dropped and counted once (%s)" % r.nonzero_drops())


def test_ipv6_bad_source_dropped():
    pkts = [mk_edge([555], IPv6(src=s, dst=VNET_HOST6) / UDP() / b"bad-src") for s in ("::1", "ff02::1", "::")]
    r = run_ok("v6_bad_src", edge_in=pkts)
    check_frames(r, "core", 0)
    check_one_drop_of(r, None, count=3)


def test_cloud_reaches_customer_router_peering_address():
    """A VNet host pings the customer's router on its peering address (172.16.1.1): the
    /30 is connected in the private context."""
    inner = IP(bytes(IP(src=VNET_HOST, dst="172.16.1.1", ttl=64) / ICMP(type=8, id=1, seq=1) / b"to-the-ce"))
    r = run_ok("cloud_to_ce_addr", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)])
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].dst, vlan_tags(f)), (CONTOSO_RTR_MAC, [(0x8100, 555)]), "to the customer router")
        eq(ip4_bytes(f[IP]), expected_fwd4(inner), "packet")


def test_arp_reply_public_secondary():
    req = mk_edge([556], ARP(op=1, hwsrc="02:00:00:00:a2:05", psrc="172.16.2.5", pdst="172.16.2.6"), src="02:00:00:00:a2:05", dst=BCAST)
    r = run_ok("arp_public_secondary", edge_in=[req])
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((vlan_tags(f), f[ARP].op, f[ARP].psrc, f[ARP].hwsrc, f[ARP].hwdst, f[Ether].dst),
           ([(0x8100, 556)], 2, "172.16.2.6", EDGE_MAC, "02:00:00:00:a2:05", "02:00:00:00:a2:05"), "ARP reply")


def test_arp_padded_request_reply_clean():
    """A 60-byte padded ARP request: the reply is a proper ARP (padding ignored)."""
    req = bytes(mk_edge([555], ARP(op=1, hwsrc=CONTOSO_RTR_MAC, psrc="172.16.1.1", pdst="172.16.1.2"), dst=BCAST))
    req = req + b"\xEE" * (64 - len(req))
    r = run_ok("arp_padded", edge_in=[req])
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        a = r.edge_out[0][ARP]
        eq((a.op, a.psrc, a.pdst, a.hwdst), (2, "172.16.1.2", "172.16.1.1", CONTOSO_RTR_MAC), "reply")
        rows = r.tshark("edge", ["arp.opcode", "_ws.expert"])
        eq([t["arp.opcode"] for t in rows], [["2"]], "tshark ARP reply")


def test_core_plain_ttl_expired_answered_from_core_address():
    inner = IP(bytes(IP(src="13.64.1.1", dst="203.0.113.5", ttl=1, id=0x3131) / UDP(sport=33434, dport=33434) / b"tr"))
    r = run_ok("core_ttl_expired", core_in=[mk_core(inner)])
    check_drops(r, {"ttl_expired": 1})
    check_frames(r, "edge", 0)
    if check_frames(r, "core", 1):
        f = r.core_out[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (CORE_MAC, GW_MAC, []), "ethernet")
        ip = f[IP]
        eq((ip.src, ip.dst), (CORE_IP, "13.64.1.1"), "ICMP from our core address to the sender")
        raw = ip4_bytes(ip)[20:]
        eq((raw[0], raw[1]), (11, 0), "type/code")
        check(checksum(raw) == 0 and ip4_hdr_cksum_ok(ip), "checksums")


def test_ping_with_ttl1_to_us_is_answered():
    req = mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2", ttl=1) / ICMP(type=8, id=3, seq=3) / b"ttl1")
    r = run_ok("ping_ttl1", edge_in=[req])
    check_drops(r, {})
    check_event(r, "icmp_time_exceeded", 0)
    if check_frames(r, "edge", 1):
        eq((r.edge_out[0][IP].src, r.edge_out[0][ICMP].type), ("172.16.1.2", 0), "echo reply, not time exceeded")


def test_vlan_pcp_dei_ignored_for_matching():
    inner = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST) / UDP(sport=1, dport=2) / b"pcp"))
    f1 = Ether(src=CONTOSO_RTR_MAC, dst=EDGE_MAC) / Dot1Q(vlan=555, prio=5, id=1) / inner
    f2 = Ether(src=FABRIKAM_RTR_MAC, dst=EDGE_MAC) / Dot1AD(vlan=100, prio=3) / Dot1Q(vlan=555, prio=7) / inner
    r = run_ok("vlan_pcp", edge_in=[f1, f2])
    check_drops(r, {})
    if check_frames(r, "core", 2):
        eq([f[GRE].key for f in r.core_out], [CONTOSO_KEY, FABRIKAM_KEY], "keys")


def test_odd_tag_stacks_dropped():
    inner = IP(src=CONTOSO_ONPREM, dst=VNET_HOST) / UDP() / b"tags"
    s_only = Ether(src=FABRIKAM_RTR_MAC, dst=EDGE_MAC) / Dot1AD(vlan=100) / inner
    triple = Ether(src=FABRIKAM_RTR_MAC, dst=EDGE_MAC) / Dot1AD(vlan=100) / Dot1Q(vlan=555) / Dot1Q(vlan=7) / inner
    prio_tagged = Ether(src=CONTOSO_RTR_MAC, dst=EDGE_MAC) / Dot1Q(vlan=0) / inner
    r = run_ok("odd_tags", edge_in=[s_only, triple, prio_tagged])
    check_frames(r, "core", 0)
    eq(sum(r.nonzero_drops().values()), 3, "all three dropped (%s)" % r.nonzero_drops())
    check(set(r.nonzero_drops()) <= {"unknown_vlan", "bad_ethertype", "untagged"}, "reasons %s" % r.nonzero_drops())


def test_padding_never_forwarded():
    """Minimum-size frames with Ethernet padding on every path: what leaves carries the IP
    packet only (plus at most padding up to 60 bytes of our own, never the input's)."""
    pad = lambda fr: bytes(fr) + b"\xAB" * max(0, 60 - len(bytes(fr)))  # noqa: E731
    pub = IP(bytes(IP(src="203.0.113.10", dst="13.64.1.1") / UDP(sport=1, dport=2) / b"p1"))
    core_plain = IP(bytes(IP(src="13.64.1.1", dst="203.0.113.5") / UDP(sport=1, dport=2) / b"p2"))
    ping = IP(bytes(IP(src="172.16.1.1", dst="172.16.1.2") / ICMP(type=8, id=5, seq=5) / b"p3"))
    r = run_ok("padding_paths", edge_in=[pad(mk_edge([556], pub, src=CONTOSO_PUB_MAC)), pad(mk_edge([555], ping))],
               core_in=[pad(mk_core(core_plain))])
    check_drops(r, {})
    frames = [("core", f) for f in r.core_out] + [("edge", f) for f in r.edge_out]
    eq(len(frames), 3, "frames out")
    for port, f in frames:
        raw = bytes(f)
        check(b"\xAB\xAB" not in raw, "%s frame carries the input's padding: %s" % (port, raw.hex()))
        ip = f[IP]
        off = 14 + 4 * len(vlan_tags(f))
        check(len(raw) == off + ip.len or (len(raw) == 60 and len(raw) > off + ip.len),
              "%s frame length %d vs IP total length %d" % (port, len(raw), ip.len))
        check(ip4_hdr_cksum_ok(ip), "%s checksum" % port)


def test_gre_outer_options_and_ttl1_still_decapsulated():
    """Our tunnel's outer header with IPv4 options, or with TTL 1, is addressed to us: it is
    terminated normally (the inner packet is what gets routed)."""
    from scapy.all import IPOption_NOP, IPOption_EOL
    inner = IP(bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM, ttl=64) / UDP(sport=1, dport=2) / b"outer-odd"))
    opts = mk_core(IP(src=CONTOSO_TUN, dst=CORE_IP, options=[IPOption_NOP()] * 3 + [IPOption_EOL()]) /
                   GRE(key_present=1, key=CONTOSO_KEY, proto=0x0800) / inner)
    ttl1 = mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner, ttl=1)
    r = run_ok("gre_outer_odd", core_in=[opts, ttl1])
    check_drops(r, {})
    if check_frames(r, "edge", 2):
        for f in r.edge_out:
            eq(ip4_bytes(f[IP]), expected_fwd4(inner), "inner forwarded")
