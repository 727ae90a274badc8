# SPDX-License-Identifier: BSD-3-Clause
"""Traffic for our own addresses (ARP, ND, ping) and the ICMP errors we originate
(time exceeded, fragmentation needed / packet too big), fragmentation, ICMP rate limit,
neighbor resolution."""
import struct

from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run_ok, check_drops, check_frames, check_event,
                       check_one_drop_of)
from scapy.all import defragment, ICMPv6DestUnreach  # noqa: F401

OUR_C555 = "172.16.1.2"
OUR_C555_SEC = "172.16.2.2"
OUR_C556 = "172.16.1.6"
OUR_C555_6 = "2001:db8:a1::2"
PEER_C555_6 = "2001:db8:a1::1"


def _icmp_raw(ip):
    """ICMP message bytes of an IPv4 packet (up to its total length)."""
    raw = ip4_bytes(ip)
    return raw[ip.ihl * 4:]


def _icmp_cksum_ok(icmp_raw):
    return checksum(icmp_raw) == 0


# ---------------------------------------------------------------------------------------
# ARP
# ---------------------------------------------------------------------------------------
def _check_arp_reply(f, tags, our_mac, our_ip, peer_mac, peer_ip, what):
    eq(f[Ether].src, our_mac, what + " eth src")
    eq(f[Ether].dst, peer_mac, what + " eth dst")
    eq(vlan_tags(f), tags, what + " tags")
    if not check(f.haslayer(ARP), what + " not an ARP frame: %s" % f.summary()):
        return
    a = f[ARP]
    eq((a.hwtype, a.ptype, a.hwlen, a.plen, a.op), (1, 0x0800, 6, 4, 2), what + " ARP htype/ptype/len/op")
    eq((a.hwsrc, a.psrc), (our_mac, our_ip), what + " ARP sender")
    eq((a.hwdst, a.pdst), (peer_mac, peer_ip), what + " ARP target")


def test_arp_reply_vlan555():
    req = mk_edge([555], ARP(op=1, hwsrc=CONTOSO_RTR_MAC, psrc="172.16.1.1", hwdst="00:00:00:00:00:00", pdst=OUR_C555),
                  dst=BCAST)
    r = run_ok("arp_vlan555", edge_in=[req])
    check_drops(r, {})
    check_frames(r, "core", 0)
    if check_frames(r, "edge", 1):
        _check_arp_reply(r.edge_out[0], [(0x8100, 555)], EDGE_MAC, OUR_C555, CONTOSO_RTR_MAC, "172.16.1.1", "ARP reply")
    rows = r.tshark("edge", ["vlan.id", "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.proto_ipv4"])
    if check(len(rows) == 1, "tshark frames %d" % len(rows)):
        t = rows[0]
        eq((t["vlan.id"], t["arp.opcode"], t["arp.src.hw_mac"], t["arp.src.proto_ipv4"], t["arp.dst.proto_ipv4"]),
           (["555"], ["2"], [EDGE_MAC], [OUR_C555], ["172.16.1.1"]), "tshark ARP reply")
    check_event(r, "arp_reply_sent", 1)


def test_arp_reply_secondary_and_public_and_qinq():
    reqs = [
        mk_edge([555], ARP(op=1, hwsrc="02:00:00:00:a2:01", psrc="172.16.2.1", pdst=OUR_C555_SEC), src="02:00:00:00:a2:01", dst=BCAST),
        mk_edge([556], ARP(op=1, hwsrc=CONTOSO_PUB_MAC, psrc="172.16.1.5", pdst=OUR_C556), src=CONTOSO_PUB_MAC, dst=BCAST),
        mk_edge([(0x88A8, 100), (0x8100, 555)], ARP(op=1, hwsrc=FABRIKAM_RTR_MAC, psrc="172.16.3.1", pdst="172.16.3.2"),
                src=FABRIKAM_RTR_MAC, dst=BCAST),
    ]
    r = run_ok("arp_multi", edge_in=reqs)
    check_drops(r, {})
    if check_frames(r, "edge", 3):
        got = {}
        for f in r.edge_out:
            if f.haslayer(ARP):
                got[f[ARP].psrc] = f
        exp = [(OUR_C555_SEC, [(0x8100, 555)], "02:00:00:00:a2:01", "172.16.2.1"),
               (OUR_C556, [(0x8100, 556)], CONTOSO_PUB_MAC, "172.16.1.5"),
               ("172.16.3.2", [(0x88A8, 100), (0x8100, 555)], FABRIKAM_RTR_MAC, "172.16.3.1")]
        for ip, tags, mac, peer in exp:
            if check(ip in got, "no ARP reply for %s (got %s)" % (ip, sorted(got))):
                _check_arp_reply(got[ip], tags, EDGE_MAC, ip, mac, peer, "ARP reply for %s" % ip)
    check_event(r, "arp_reply_sent", 3)


def test_arp_wrong_context_ignored():
    """ARP on VLAN 555 for contoso-public's address 172.16.1.6: not ours on that VLAN."""
    req = mk_edge([555], ARP(op=1, hwsrc=CONTOSO_RTR_MAC, psrc="172.16.1.1", pdst=OUR_C556), dst=BCAST)
    r = run_ok("arp_wrong_ctx", edge_in=[req])
    check_frames(r, "edge", 0)
    check_one_drop_of(r, {"arp_bad", "not_for_us"})


def test_arp_reply_core():
    req = mk_core(ARP(op=1, hwsrc=GW_MAC, psrc=GW_IP, pdst=CORE_IP), dst=BCAST)
    r = run_ok("arp_core", core_in=[req])
    check_drops(r, {})
    if check_frames(r, "core", 1):
        _check_arp_reply(r.core_out[0], [], CORE_MAC, CORE_IP, GW_MAC, GW_IP, "core ARP reply")
    rows = r.tshark("core", ["vlan.id", "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4"])
    if check(len(rows) == 1, "tshark frames %d" % len(rows)):
        eq((rows[0]["vlan.id"], rows[0]["arp.opcode"], rows[0]["arp.src.hw_mac"], rows[0]["arp.src.proto_ipv4"]),
           ([], ["2"], [CORE_MAC], [CORE_IP]), "tshark core ARP reply")
    check_event(r, "arp_reply_sent", 1)


# ---------------------------------------------------------------------------------------
# ping
# ---------------------------------------------------------------------------------------
def _check_echo_reply4(f, tags, dst_mac, src_ip, dst_ip, req_icmp, what):
    eq(f[Ether].src, EDGE_MAC if tags else CORE_MAC, what + " eth src")
    eq(f[Ether].dst, dst_mac, what + " eth dst")
    eq(vlan_tags(f), tags, what + " tags")
    if not check(f.haslayer(IP) and f.haslayer(ICMP), what + " not ICMP: %s" % f.summary()):
        return
    ip = f[IP]
    eq((ip.src, ip.dst), (src_ip, dst_ip), what + " addresses")
    check(ip4_hdr_cksum_ok(ip), what + " IPv4 checksum wrong")
    check(ip.ttl > 1, what + " reply TTL %d" % ip.ttl)
    raw = _icmp_raw(ip)
    check(_icmp_cksum_ok(raw), what + " ICMP checksum wrong")
    req = bytes(req_icmp)
    eq(raw[0:2], b"\x00\x00", what + " ICMP type/code (echo reply)")
    eq(raw[4:], req[4:], what + " id/seq/payload echoed")


def test_ping_edge_vlan555():
    payload = bytes(range(56))
    icmp = ICMP(type=8, id=0x4242, seq=7) / payload
    req = mk_edge([555], IP(src="172.16.1.1", dst=OUR_C555, ttl=64) / icmp)
    # on-prem host pinging our peering address: answered to the requester's MAC as well
    icmp2 = ICMP(type=8, id=0x77, seq=1) / b"hello-from-onprem"
    req2 = mk_edge([555], IP(src=CONTOSO_ONPREM, dst=OUR_C555, ttl=62) / icmp2)
    r = run_ok("ping_vlan555", edge_in=[req, req2])
    check_drops(r, {})
    check_frames(r, "core", 0)
    if check_frames(r, "edge", 2):
        _check_echo_reply4(r.edge_out[0], [(0x8100, 555)], CONTOSO_RTR_MAC, OUR_C555, "172.16.1.1", ICMP(bytes(icmp)), "echo reply 1")
        _check_echo_reply4(r.edge_out[1], [(0x8100, 555)], CONTOSO_RTR_MAC, OUR_C555, CONTOSO_ONPREM, ICMP(bytes(icmp2)), "echo reply 2")
    rows = r.tshark("edge", ["vlan.id", "ip.src", "ip.dst", "icmp.type", "icmp.ident", "icmp.seq", "icmp.checksum.status", "ip.checksum.status"])
    if check(len(rows) == 2, "tshark frames %d" % len(rows)):
        t = rows[0]
        eq((t["vlan.id"], t["ip.src"], t["ip.dst"], t["icmp.type"], t["icmp.seq"], t["icmp.checksum.status"], t["ip.checksum.status"]),
           (["555"], [OUR_C555], ["172.16.1.1"], ["0"], ["7"], [TS_GOOD], [TS_GOOD]), "tshark echo reply")
        check(t["icmp.ident"][:1] in (["16962"], ["0x4242"]), "tshark icmp.ident %s" % t["icmp.ident"])
    check_event(r, "icmp_echo_reply", 2)


def test_ping_core():
    icmp = ICMP(type=8, id=9, seq=3) / b"core-ping-payload-0123456789"
    req = mk_core(IP(src=GW_IP, dst=CORE_IP, ttl=64) / icmp)
    r = run_ok("ping_core", core_in=[req])
    check_drops(r, {})
    if check_frames(r, "core", 1):
        _check_echo_reply4(r.core_out[0], [], GW_MAC, CORE_IP, GW_IP, ICMP(bytes(icmp)), "core echo reply")
    rows = r.tshark("core", ["ip.src", "ip.dst", "icmp.type", "icmp.checksum.status"])
    if check(len(rows) == 1, "tshark frames %d" % len(rows)):
        eq((rows[0]["ip.src"], rows[0]["icmp.type"], rows[0]["icmp.checksum.status"]), ([CORE_IP], ["0"], [TS_GOOD]), "tshark")
    check_event(r, "icmp_echo_reply", 1)


def test_ping6_and_nd_vlan555():
    ns = mk_edge([555], IPv6(src=PEER_C555_6, dst="ff02::1:ff00:2", hlim=255) /
                 ICMPv6ND_NS(tgt=OUR_C555_6) / ICMPv6NDOptSrcLLAddr(lladdr=CONTOSO_RTR_MAC),
                 dst="33:33:ff:00:00:02")
    echo = ICMPv6EchoRequest(id=0x1111, seq=5, data=b"ping6-payload-abcdef")
    ping = mk_edge([555], IPv6(src=PEER_C555_6, dst=OUR_C555_6, hlim=64) / echo)
    r = run_ok("nd_ping6_vlan555", edge_in=[ns, ping])
    check_drops(r, {})
    check_frames(r, "core", 0)
    if check_frames(r, "edge", 2):
        na = [f for f in r.edge_out if f.haslayer(ICMPv6ND_NA)]
        rep = [f for f in r.edge_out if f.haslayer(ICMPv6EchoReply)]
        if check(len(na) == 1, "expected one NA, got %d" % len(na)):
            f = na[0]
            eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, CONTOSO_RTR_MAC, [(0x8100, 555)]), "NA ethernet")
            eq((f[IPv6].src, f[IPv6].dst, f[IPv6].hlim), (OUR_C555_6, PEER_C555_6, 255), "NA IPv6 src/dst/hlim")
            a = f[ICMPv6ND_NA]
            eq((a.S, a.O, a.tgt), (1, 1, OUR_C555_6), "NA S/O/target")
            check(f.haslayer(ICMPv6NDOptDstLLAddr) and f[ICMPv6NDOptDstLLAddr].lladdr == EDGE_MAC,
                  "NA target link-layer option with %s missing" % EDGE_MAC)
            check(l4_cksum_ok(f[IPv6]), "NA ICMPv6 checksum wrong")
        if check(len(rep) == 1, "expected one echo reply, got %d" % len(rep)):
            f = rep[0]
            eq((f[Ether].dst, vlan_tags(f)), (CONTOSO_RTR_MAC, [(0x8100, 555)]), "echo reply ethernet")
            eq((f[IPv6].src, f[IPv6].dst), (OUR_C555_6, PEER_C555_6), "echo reply addresses")
            e = f[ICMPv6EchoReply]
            eq((e.id, e.seq, bytes(e.data)), (0x1111, 5, b"ping6-payload-abcdef"), "echo reply id/seq/data")
            check(l4_cksum_ok(f[IPv6]), "echo reply ICMPv6 checksum wrong")
    rows = r.tshark("edge", ["vlan.id", "icmpv6.type", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o",
                             "icmpv6.opt.linkaddr", "icmpv6.checksum.status", "ipv6.src"])
    types = sorted(t["icmpv6.type"][0] for t in rows if t["icmpv6.type"])
    eq(types, ["129", "136"], "tshark ICMPv6 types (echo reply, NA)")
    for t in rows:
        eq(t["icmpv6.checksum.status"], [TS_GOOD], "tshark icmpv6.checksum.status")
        eq(t["vlan.id"], ["555"], "tshark vlan.id")
        if t["icmpv6.type"] == ["136"]:
            eq((t["icmpv6.nd.na.flag.s"], t["icmpv6.nd.na.flag.o"], t["icmpv6.opt.linkaddr"]),
               (["1"], ["1"], [EDGE_MAC]), "tshark NA flags/option")
    check_event(r, "nd_na_sent", 1)
    check_event(r, "icmp_echo_reply", 1)


# ---------------------------------------------------------------------------------------
# ICMP errors
# ---------------------------------------------------------------------------------------
def _check_icmp_error4(f, what, typ, code, orig, src=OUR_C555, dst=CONTOSO_ONPREM, tags=((0x8100, 555),), dst_mac=CONTOSO_RTR_MAC):
    eq(f[Ether].src, EDGE_MAC, what + " eth src")
    eq(f[Ether].dst, dst_mac, what + " eth dst")
    eq(vlan_tags(f), list(tags), what + " tags")
    if not check(f.haslayer(IP), what + " not IPv4: %s" % f.summary()):
        return None
    ip = f[IP]
    eq((ip.src, ip.dst, ip.proto), (src, dst, 1), what + " IPv4 src/dst/proto")
    check(ip4_hdr_cksum_ok(ip), what + " IPv4 checksum wrong")
    check(ip.ttl > 1, what + " TTL %d" % ip.ttl)
    raw = _icmp_raw(ip)
    check(_icmp_cksum_ok(raw), what + " ICMP checksum wrong")
    check(ip.len <= 576, what + " ICMP error of %d bytes > 576 (RFC 1812 4.3.2.3)" % ip.len)
    eq((raw[0], raw[1]), (typ, code), what + " ICMP type/code")
    quoted = raw[8:]
    o = ip4_bytes(orig)
    ihl = orig.ihl * 4
    check(len(quoted) >= ihl + 8, what + " quotes %d bytes, need >= %d" % (len(quoted), ihl + 8))
    if len(quoted) >= 20:
        q = IP(quoted[:ihl])
        eq((q.src, q.dst, q.proto, q.id, q.ihl), (orig.src, orig.dst, orig.proto, orig.id, orig.ihl), what + " quoted header")
        eq(quoted[ihl:ihl + 8], o[ihl:ihl + 8], what + " quoted first 8 payload bytes")
    return raw


def test_ttl_expired_v4():
    orig = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1, id=0xBEEF) / UDP(sport=33434, dport=33435) / udp_payload(32)))
    r = run_ok("icmp_ttl_v4", edge_in=[mk_edge([555], orig)])
    check_drops(r, {"ttl_expired": 1})
    check_frames(r, "core", 0)
    if check_frames(r, "edge", 1):
        _check_icmp_error4(r.edge_out[0], "time exceeded", 11, 0, orig)
    rows = r.tshark("edge", ["vlan.id", "ip.src", "ip.dst", "icmp.type", "icmp.code", "icmp.checksum.status", "ip.checksum.status"])
    if check(len(rows) == 1, "tshark frames %d" % len(rows)):
        t = rows[0]
        eq((t["vlan.id"], t["ip.src"][:1], t["ip.dst"][:1], t["icmp.type"], t["icmp.code"], t["icmp.checksum.status"], t["ip.checksum.status"][:1]),
           (["555"], [OUR_C555], [CONTOSO_ONPREM], ["11"], ["0"], [TS_GOOD], [TS_GOOD]), "tshark time exceeded")
        # tshark also decodes the quoted header: second ip.src/ip.dst occurrence
        eq((t["ip.src"][1:2], t["ip.dst"][1:2]), ([CONTOSO_ONPREM], [VNET_HOST]), "tshark quoted header addresses")
    check_event(r, "icmp_time_exceeded", 1)
    check_event(r, "gre_encap", 0)


def test_ttl_expired_v6():
    orig = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6, hlim=1) / UDP(sport=33434, dport=33435) / udp_payload(32)))
    r = run_ok("icmp_ttl_v6", edge_in=[mk_edge([555], orig)])
    check_drops(r, {"ttl_expired": 1})
    check_frames(r, "core", 0)
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, CONTOSO_RTR_MAC, [(0x8100, 555)]), "ethernet")
        if check(f.haslayer(IPv6), "not IPv6: %s" % f.summary()):
            ip6 = f[IPv6]
            eq((ip6.src, ip6.dst, ip6.nh), (OUR_C555_6, CONTOSO_ONPREM6, 58), "IPv6 src/dst/nh")
            raw = ip6_bytes(ip6)[40:]
            eq((raw[0], raw[1]), (3, 0), "ICMPv6 type/code (time exceeded)")
            check(l4_cksum_ok(ip6), "ICMPv6 checksum wrong")
            quoted = raw[8:]
            eq(quoted[:48], ip6_bytes(orig)[:48], "quoted original IPv6 header + 8 bytes")
    rows = r.tshark("edge", ["icmpv6.type", "icmpv6.code", "icmpv6.checksum.status", "ipv6.src"])
    if check(len(rows) == 1, "tshark frames %d" % len(rows)):
        eq((rows[0]["icmpv6.type"], rows[0]["icmpv6.checksum.status"], rows[0]["ipv6.src"][:1]),
           (["3"], [TS_GOOD], [OUR_C555_6]), "tshark ICMPv6 time exceeded")
    check_event(r, "icmp_time_exceeded", 1)


def test_frag_needed_df():
    orig = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=64, flags="DF", id=0x5151) / UDP(sport=7, dport=7) / udp_payload(1472)))
    require(orig.len == 1500, "test bug: len %d" % orig.len)
    r = run_ok("icmp_frag_needed", edge_in=[mk_edge([555], orig)])
    check_drops(r, {"frag_needed": 1})
    check_frames(r, "core", 0)
    if check_frames(r, "edge", 1):
        raw = _check_icmp_error4(r.edge_out[0], "frag needed", 3, 4, orig)
        if raw is not None:
            eq(struct.unpack("!H", raw[6:8])[0], 1472, "next-hop MTU (RFC 1191)")
    rows = r.tshark("edge", ["icmp.type", "icmp.code", "icmp.mtu", "icmp.checksum.status"])
    if check(len(rows) == 1, "tshark frames %d" % len(rows)):
        eq((rows[0]["icmp.type"], rows[0]["icmp.code"], rows[0]["icmp.mtu"], rows[0]["icmp.checksum.status"]),
           (["3"], ["4"], ["1472"], [TS_GOOD]), "tshark frag needed")
    check_event(r, "icmp_frag_needed", 1)


def test_frag_needed_smaller_core_mtu():
    cfg = base_config()
    cfg_port(cfg, CORE_PORT)["mtu"] = 1400
    orig = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, flags="DF") / UDP(sport=7, dport=7) / udp_payload(1400 - 28)))
    ok = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, flags="DF") / UDP(sport=7, dport=8) / udp_payload(1372 - 28)))
    r = run_ok("icmp_frag_needed_mtu1400", edge_in=[mk_edge([555], orig), mk_edge([555], ok)], config=cfg)
    check_drops(r, {"frag_needed": 1})
    if check_frames(r, "edge", 1):
        raw = _check_icmp_error4(r.edge_out[0], "frag needed", 3, 4, orig)
        if raw is not None:
            eq(struct.unpack("!H", raw[6:8])[0], 1372, "next-hop MTU for core MTU 1400")
    if check_frames(r, "core", 1, "the 1372-byte packet fits: "):
        f = r.core_out[0]
        eq(f[IP].len, 1400, "outer length of the largest packet that fits")
        eq(IP(gre_inner(f)[2]).len, 1372, "inner length")


def test_fragmentation_no_df():
    data = udp_payload(1472, seed=3)
    orig = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=64, id=0x7777) / UDP(sport=9, dport=9) / data))
    require(orig.len == 1500, "test bug")
    r = run_ok("frag_no_df", edge_in=[mk_edge([555], orig)])
    check_drops(r, {})
    check_frames(r, "edge", 0)
    frags = []
    require(len(r.core_out) >= 2, "expected >= 2 GRE frames (fragments), got %d %s"
            % (len(r.core_out), [f.summary() for f in r.core_out]))
    for i, f in enumerate(r.core_out):
        innerb = check_gre_frame(f, CONTOSO_KEY, CONTOSO_TUN, 0x0800, "fragment %d" % i)
        if innerb is None:
            continue
        ip = IP(innerb)
        check(ip.len <= 1472, "fragment %d inner length %d > 1472" % (i, ip.len))
        check(f[IP].len <= 1500, "fragment %d outer length %d > core MTU" % (i, f[IP].len))
        check(ip4_hdr_cksum_ok(ip), "fragment %d IPv4 checksum wrong" % i)
        eq((ip.src, ip.dst, ip.id, ip.proto, ip.ttl), (orig.src, orig.dst, orig.id, orig.proto, 63), "fragment %d header" % i)
        eq(bool(ip.flags.DF), False, "fragment %d DF" % i)
        frags.append(ip)
    frags.sort(key=lambda x: x.frag)
    # manual reassembly (RFC 791): contiguous, MF on all but the last, 8-byte units
    pay = b""
    for i, ip in enumerate(frags):
        eq(ip.frag * 8, len(pay), "fragment offset %d contiguous" % i)
        eq(bool(ip.flags.MF), i != len(frags) - 1, "fragment %d MF" % i)
        if i != len(frags) - 1:
            eq((ip.len - ip.ihl * 4) % 8, 0, "fragment %d data length multiple of 8" % i)
        pay += ip4_bytes(ip)[ip.ihl * 4:]
    eq_b = pay == ip4_bytes(orig)[20:]
    check(eq_b, "reassembled payload differs from the original (%d vs %d bytes)" % (len(pay), orig.len - 20))
    # scapy's own reassembly
    d = defragment(frags)
    if check(len(d) == 1, "scapy defragment gives %d packets" % len(d)):
        eq(bytes(d[0][UDP].payload)[:len(data)], data, "scapy-reassembled UDP payload")
    # tshark: per-fragment view and its own reassembly
    rows = r.tshark("core", ["gre.key", "ip.flags.mf", "ip.frag_offset", "ip.checksum.status"], extra=["-o", "ip.defragment:FALSE"])
    eq(len(rows), len(frags), "tshark fragment count")
    for t in rows:
        eq(t["ip.checksum.status"], [TS_GOOD, TS_GOOD], "tshark checksums (outer, inner fragment)")
        eq([int(k, 16) for k in t["gre.key"]], [CONTOSO_KEY], "tshark gre.key")
    rows = r.tshark("core", ["udp.length", "udp.checksum.status"], dfilter="udp")
    if check(len(rows) == 1, "tshark reassembles one UDP datagram, got %d" % len(rows)):
        eq((rows[0]["udp.length"], rows[0]["udp.checksum.status"]), (["1480"], [TS_GOOD]), "tshark reassembled UDP")
    check_event(r, "fragmented", 1)
    check_event(r, "fragments_out", len(frags))


def test_packet_too_big_v6():
    orig = IPv6(bytes(IPv6(src=CONTOSO_ONPREM6, dst=VNET_HOST6, hlim=64) / UDP(sport=7, dport=7) / udp_payload(1500 - 48)))
    require(len(bytes(orig)) == 1500, "test bug")
    r = run_ok("icmp6_ptb", edge_in=[mk_edge([555], orig)])
    check_drops(r, {"frag_needed": 1})
    check_frames(r, "core", 0)
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].dst, vlan_tags(f)), (CONTOSO_RTR_MAC, [(0x8100, 555)]), "ethernet")
        if check(f.haslayer(IPv6), "not IPv6"):
            ip6 = f[IPv6]
            eq((ip6.src, ip6.dst), (OUR_C555_6, CONTOSO_ONPREM6), "PTB src/dst")
            raw = ip6_bytes(ip6)[40:]
            eq((raw[0], raw[1]), (2, 0), "ICMPv6 type/code (packet too big)")
            eq(struct.unpack("!I", raw[4:8])[0], 1472, "PTB MTU")
            check(l4_cksum_ok(ip6), "ICMPv6 checksum wrong")
            check(40 + len(raw) <= 1280, "PTB must fit in 1280 bytes (RFC 4443), is %d" % (40 + len(raw)))
            # the invoking packet; its hop limit may be quoted as received or already decremented
            q, o = bytearray(raw[8:8 + 48]), bytearray(ip6_bytes(orig)[:48])
            check(q[7] in (o[7], o[7] - 1), "quoted hop limit %d" % q[7])
            q[7] = o[7]
            eq(bytes(q), bytes(o), "quoted original IPv6 header + 8 bytes")
    rows = r.tshark("edge", ["icmpv6.type", "icmpv6.mtu", "icmpv6.checksum.status"])
    if check(len(rows) == 1, "tshark frames %d" % len(rows)):
        eq((rows[0]["icmpv6.type"], rows[0]["icmpv6.mtu"], rows[0]["icmpv6.checksum.status"]), (["2"], ["1472"], [TS_GOOD]), "tshark PTB")
    check_event(r, "icmp_frag_needed", 1)


def test_icmp_rate_limit():
    n = 300
    pkts = [mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1, id=i) / UDP(sport=33434, dport=33434 + i) / b"rl")
            for i in range(n)]
    r = run_ok("icmp_rate_limit", edge_in=pkts)
    sent = r.event("icmp_time_exceeded")
    lim = r.drop("icmp_rate_limited")
    eq(len(r.edge_out), sent, "ICMP frames on the wire == icmp_time_exceeded")
    check(1 <= sent <= 200, "icmp_rate_pps 100: %d ICMP errors for a burst of %d" % (sent, n))
    eq(sent + lim, n, "icmp_time_exceeded + icmp_rate_limited")
    check(r.drop("ttl_expired") >= sent, "ttl_expired %s >= sent %s" % (r.drop("ttl_expired"), sent))
    check_drops(r, {"ttl_expired": None, "icmp_rate_limited": None})
    check_frames(r, "core", 0)


# ---------------------------------------------------------------------------------------
# neighbor resolution (static neighbors removed from the config)
# ---------------------------------------------------------------------------------------
def test_arp_request_for_unresolved_peer():
    cfg = cfg_drop_neighbor(base_config(), "172.16.1.1")
    inner = IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP() / (b"x" * 20)
    r = run_ok("neigh_arp_edge", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)], config=cfg)
    check_drops(r, {"neigh_unresolved": 1})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, BCAST, [(0x8100, 555)]), "ARP request ethernet")
        if check(f.haslayer(ARP), "not ARP: %s" % f.summary()):
            a = f[ARP]
            eq((a.op, a.hwsrc, a.psrc, a.pdst), (1, EDGE_MAC, OUR_C555, "172.16.1.1"), "ARP request fields")
    check_event(r, "arp_request_sent", 1)


def test_arp_request_for_unresolved_gateway():
    cfg = cfg_drop_neighbor(base_config(), GW_IP)
    inner = IP(src=CONTOSO_ONPREM, dst=VNET_HOST) / UDP() / (b"x" * 20)
    r = run_ok("neigh_arp_core", edge_in=[mk_edge([555], inner)], config=cfg)
    check_drops(r, {"neigh_unresolved": 1})
    if check_frames(r, "core", 1):
        f = r.core_out[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (CORE_MAC, BCAST, []), "ARP request ethernet")
        if check(f.haslayer(ARP), "not ARP: %s" % f.summary()):
            a = f[ARP]
            eq((a.op, a.hwsrc, a.psrc, a.pdst), (1, CORE_MAC, CORE_IP, GW_IP), "ARP request fields")
    check_event(r, "arp_request_sent", 1)


def test_ns_for_unresolved_peer6():
    cfg = cfg_drop_neighbor(base_config(), PEER_C555_6)
    inner = IPv6(src=VNET_HOST6, dst=CONTOSO_ONPREM6) / UDP() / (b"x" * 20)
    r = run_ok("neigh_ns_edge", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)], config=cfg)
    check_drops(r, {"neigh_unresolved": 1})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, "33:33:ff:00:00:01", [(0x8100, 555)]), "NS ethernet")
        if check(f.haslayer(ICMPv6ND_NS), "not NS: %s" % f.summary()):
            eq((f[IPv6].dst, f[IPv6].hlim, f[ICMPv6ND_NS].tgt), ("ff02::1:ff00:1", 255, PEER_C555_6), "NS fields")
            check(f.haslayer(ICMPv6NDOptSrcLLAddr) and f[ICMPv6NDOptSrcLLAddr].lladdr == EDGE_MAC, "NS source LL option")
            check(l4_cksum_ok(f[IPv6]), "NS checksum")
    check_event(r, "nd_ns_sent", 1)
