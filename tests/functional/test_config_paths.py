# SPDX-License-Identifier: BSD-3-Clause
"""Configuration variants end to end: routes via an explicit address (a peer, another core
router), ICMP rate 0, solicitation rate limit, IPv6 on the core port."""
from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run_ok, check_drops, check_frames, check_event,
                       check_one_drop_of)


def test_route_via_peer_address():
    cfg = base_config()
    cfg_context(cfg, "contoso-public")["routes"].append({"prefix": "20.40.0.0/16", "via": "172.16.1.5"})
    inner = IP(bytes(IP(src="13.64.1.1", dst="20.40.0.5", ttl=50) / UDP(sport=1, dport=2) / b"via-addr"))
    r = run_ok("route_via_peer_addr", core_in=[mk_core(inner)], config=cfg)
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, CONTOSO_PUB_MAC, [(0x8100, 556)]), "ethernet")
        eq(ip4_bytes(f[IP]), expected_fwd4(inner), "packet")


def test_route_via_other_core_router():
    cfg = base_config()
    cfg["neighbors"].append({"port": CORE_PORT, "ip": "192.0.2.77", "mac": "02:00:00:00:0c:77"})
    cfg_context(cfg, "contoso-public")["routes"].append({"prefix": "52.96.0.0/14", "via": "192.0.2.77"})
    inner = IP(bytes(IP(src="203.0.113.10", dst="52.97.1.1", ttl=64) / UDP(sport=1, dport=2) / b"other-core-rtr"))
    plain = IP(bytes(IP(src="203.0.113.10", dst="13.64.1.1", ttl=64) / UDP(sport=1, dport=2) / b"gateway"))
    r = run_ok("route_via_core_addr", edge_in=[mk_edge([556], inner, src=CONTOSO_PUB_MAC), mk_edge([556], plain, src=CONTOSO_PUB_MAC)],
               config=cfg)
    check_drops(r, {})
    if check_frames(r, "core", 2):
        eq([(f[Ether].dst, f[IP].dst) for f in r.core_out], [("02:00:00:00:0c:77", "52.97.1.1"), (GW_MAC, "13.64.1.1")],
           "next-hop MACs")
        eq(ip4_bytes(r.core_out[0][IP]), expected_fwd4(inner), "packet")


def test_icmp_rate_zero_sends_no_errors():
    cfg = base_config()
    cfg["icmp_rate_pps"] = 0
    pkts = [mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1, id=i) / UDP() / b"t") for i in range(5)]
    pkts.append(mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, flags="DF") / UDP() / udp_payload(1472)))
    pkts.append(mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2") / ICMP(type=8) / b"echo still answered"))
    r = run_ok("icmp_rate_zero", edge_in=pkts, config=cfg)
    eq(r.drop("ttl_expired"), 5, "ttl_expired")
    eq(r.drop("frag_needed"), 1, "frag_needed")
    check_event(r, "icmp_time_exceeded", 0)
    check_event(r, "icmp_frag_needed", 0)
    check_event(r, "icmp_echo_reply", 1)
    eq(len(r.edge_out), 1, "only the echo reply leaves")
    nz = r.nonzero_drops()
    check(set(nz) <= {"ttl_expired", "frag_needed", "icmp_rate_limited"}, "drops %s" % nz)


def test_solicit_once_for_many_packets():
    cfg = cfg_drop_neighbor(base_config(), "172.16.1.1")
    pkts = [mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=i) / UDP() / b"q") for i in range(20)]
    r = run_ok("solicit_once", core_in=pkts, config=cfg)
    check_drops(r, {"neigh_unresolved": 20})
    arps = [f for f in r.edge_out if f.haslayer(ARP)]
    eq(len(arps), 1, "one ARP request for 20 packets (at most one per second per neighbor)")
    eq(len(r.edge_out), len(arps), "nothing else on the edge")
    check_event(r, "arp_request_sent", 1)


def test_core_ipv6_local():
    """NS and echo for our core IPv6 address 2001:db8:c0::1 from the gateway."""
    ns = mk_core(IPv6(src=GW_IP6, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=CORE_IP6) /
                 ICMPv6NDOptSrcLLAddr(lladdr=GW_MAC), dst="33:33:ff:00:00:01")
    echo = mk_core(IPv6(src=GW_IP6, dst=CORE_IP6) / ICMPv6EchoRequest(id=4, seq=4, data=b"core6"))
    r = run_ok("core_ipv6_local", core_in=[ns, echo])
    check_drops(r, {})
    if check_frames(r, "core", 2):
        na = [f for f in r.core_out if f.haslayer(ICMPv6ND_NA)]
        rep = [f for f in r.core_out if f.haslayer(ICMPv6EchoReply)]
        if check(len(na) == 1 and len(rep) == 1, "one NA and one echo reply"):
            eq((na[0][Ether].dst, na[0][ICMPv6ND_NA].tgt, vlan_tags(na[0])), (GW_MAC, CORE_IP6, []), "NA")
            check(na[0].haslayer(ICMPv6NDOptDstLLAddr) and na[0][ICMPv6NDOptDstLLAddr].lladdr == CORE_MAC, "NA TLLA option")
            eq((rep[0][IPv6].src, rep[0][IPv6].dst, bytes(rep[0][ICMPv6EchoReply].data)), (CORE_IP6, GW_IP6, b"core6"), "echo reply")
            check(l4_cksum_ok(na[0][IPv6]) and l4_cksum_ok(rep[0][IPv6]), "ICMPv6 checksums")


def test_ipv6_gre_outer_is_ipv4():
    """IPv6 toward a VNet with a v6 prefix rides in the IPv4 tunnel; hlim 2 -> 1 is still
    forwarded (only <= 1 on arrival expires)."""
    inner = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst="fd00:1:0:ffff::1", hlim=2) / UDP(sport=1, dport=2) / b"hlim2"))
    r = run_ok("v6_hlim2", edge_in=[mk_edge([555], inner)])
    check_drops(r, {})
    if check_frames(r, "core", 1):
        got = check_gre_frame(r.core_out[0], CONTOSO_KEY, CONTOSO_TUN, 0x86DD, "v6")
        if got is not None:
            eq(got, expected_fwd6(inner), "inner (hlim 1)")


def test_neighbor_learning_from_arp_and_na():
    """Peer 172.16.1.1 / 2001:db8:a1::1 not static: the peer's unsolicited ARP reply / NA
    are learned (RFC 826 merge, RFC 4861 7.2.5); after a long stream of junk (200k frames,
    tens of ms: the control thread applies learned MACs every ~1 ms) the later packets go to
    the learned MAC. Packets before that may be dropped as neigh_unresolved."""
    new_mac = "02:00:00:00:a1:77"
    cfg = cfg_drop_neighbor(cfg_drop_neighbor(base_config(), "172.16.1.1"), PEER6 := "2001:db8:a1::1")
    probe4 = lambda i: bytes(mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=i) / UDP() / b"p4"))  # noqa: E731
    probe6 = lambda i: bytes(mk_gre(CONTOSO_KEY, CONTOSO_TUN, IPv6(src=VNET_HOST6, dst=CONTOSO_ONPREM6, fl=i) / UDP() / b"p6"))  # noqa: E731
    junk = bytes(Ether(src=GW_MAC, dst=CORE_MAC, type=0x88B5) / (b"\0" * 46))
    n_junk = 200000
    core = [probe4(0), probe6(0)] + [junk] * n_junk + [probe4(i) for i in range(1, 6)] + [probe6(i) for i in range(1, 6)]
    arp = mk_edge([555], ARP(op=2, hwsrc=new_mac, psrc="172.16.1.1", hwdst=EDGE_MAC, pdst="172.16.1.2"), src=new_mac)
    na = mk_edge([555], IPv6(src=PEER6, dst="2001:db8:a1::2", hlim=255) / ICMPv6ND_NA(tgt=PEER6, R=1, S=1, O=1) /
                 ICMPv6NDOptDstLLAddr(lladdr=new_mac), src=new_mac)
    r = run_ok("neigh_learning", core_in=core, edge_in=[arp, na], config=cfg)
    check_event(r, "arp_learned", 1)
    check_event(r, "nd_learned", 1)
    data = [f for f in r.edge_out if f.haslayer(UDP)]
    last4 = [f for f in data if f.haslayer(IP) and f[IP].id == 5]
    last6 = [f for f in data if f.haslayer(IPv6) and f[IPv6].fl == 5]
    check(len(last4) == 1 and last4[0][Ether].dst == new_mac, "last IPv4 probe not delivered to the learned MAC")
    check(len(last6) == 1 and last6[0][Ether].dst == new_mac, "last IPv6 probe not delivered to the learned MAC")
    for f in data:
        eq(f[Ether].dst, new_mac, "data frames go to the learned MAC")
    eq(len(data) + r.drop("neigh_unresolved"), 12, "probes delivered + neigh_unresolved")
    nz = r.nonzero_drops()
    check(set(nz) <= {"neigh_unresolved", "bad_ethertype"} and nz.get("bad_ethertype") == n_junk, "drops %s" % nz)


def test_no_cross_context_neighbor_poisoning():
    """An ARP reply / NA claiming contoso-private's peer 172.16.1.1 / 2001:db8:a1::1 but sent
    on VLAN 556 (contoso-public) or on fabrikam's QinQ must not be learned for
    contoso-private."""
    evil = "02:00:00:00:66:66"
    cfg = cfg_drop_neighbor(cfg_drop_neighbor(base_config(), "172.16.1.1"), "2001:db8:a1::1")
    edge = [
        mk_edge([556], ARP(op=2, hwsrc=evil, psrc="172.16.1.1", hwdst=EDGE_MAC, pdst="172.16.1.6"), src=evil),
        mk_edge([(0x88A8, 100), (0x8100, 555)], ARP(op=2, hwsrc=evil, psrc="172.16.1.1", hwdst=EDGE_MAC, pdst="172.16.3.2"), src=evil),
        mk_edge([556], IPv6(src="2001:db8:a1::1", dst="ff02::1", hlim=255) / ICMPv6ND_NA(tgt="2001:db8:a1::1", O=1) /
                ICMPv6NDOptDstLLAddr(lladdr=evil), src=evil, dst="33:33:00:00:00:01"),
    ]
    junk = bytes(Ether(src=GW_MAC, dst=CORE_MAC, type=0x88B5) / (b"\0" * 46))
    core = [junk] * 100000 + [bytes(mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=i) / UDP() / b"p"))
                              for i in range(3)] + \
        [bytes(mk_gre(CONTOSO_KEY, CONTOSO_TUN, IPv6(src=VNET_HOST6, dst=CONTOSO_ONPREM6) / UDP() / b"p6"))]
    r = run_ok("no_neigh_poisoning", edge_in=edge, core_in=core, config=cfg)
    check_event(r, "arp_learned", 0)
    check_event(r, "nd_learned", 0)
    to_evil = [f for f in r.edge_out if f[Ether].dst == evil]
    eq(len(to_evil), 0, "frames sent to the MAC claimed from another context")
    eq(r.drop("neigh_unresolved"), 4, "probes still unresolved")


def test_static_neighbor_not_overridden():
    """172.16.1.1 is a static neighbor (02:00:00:00:a1:01): an ARP reply claiming another
    MAC does not change where traffic goes."""
    other = "02:00:00:00:a1:99"
    arp = mk_edge([555], ARP(op=2, hwsrc=other, psrc="172.16.1.1", hwdst=EDGE_MAC, pdst="172.16.1.2"), src=other)
    junk = bytes(Ether(src=GW_MAC, dst=CORE_MAC, type=0x88B5) / (b"\0" * 46))
    core = [junk] * 100000 + [bytes(mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=i) / UDP() / b"s"))
                              for i in range(3)]
    r = run_ok("static_neigh_kept", edge_in=[arp], core_in=core)
    eq([f[Ether].dst for f in r.edge_out], [CONTOSO_RTR_MAC] * 3, "destination MACs")
