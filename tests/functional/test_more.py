# SPDX-License-Identifier: BSD-3-Clause
"""Checksum corner cases (RFC 1624), per-context own addresses (an address answers only in
its own context), ICMP errors from the right per-context source address."""
import struct

from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run_ok, check_drops, check_frames, check_event,
                       check_one_drop_of)


def _cksum_after_dec(pkt):
    b = bytearray(bytes(pkt)[:20])
    b[8] -= 1
    b[10:12] = b"\0\0"
    return checksum(bytes(b))


def test_incremental_checksum_corner_values():
    """TTL decrement where the correct new checksum is 0x0000, 0x0001, 0xfffe, 0x8000, ...:
    RFC 1141-style incremental updates give 0xffff instead of 0x0000; RFC 1624 does not."""
    targets = [0x0000, 0x0001, 0xFFFE, 0x8000, 0x7FFF, 0x00FF, 0xFF00, 0x0100]
    found = {}
    for ttl in (64, 2, 255, 128):
        # one's complement sum of the header after the decrement, id = 0 and checksum = 0;
        # the id word then just adds to it
        b = bytearray(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=ttl - 1, id=0, proto=17, len=32))[:20])
        b[10:12] = b"\0\0"
        base = sum(struct.unpack("!10H", bytes(b)))
        for ident in range(65536):
            t = base + ident
            while t > 0xFFFF:
                t = (t & 0xFFFF) + (t >> 16)
            c = ~t & 0xFFFF
            if c in targets and (c, ttl) not in found:
                found[(c, ttl)] = ident
    pkts, origs = [], []
    for (c, ttl), ident in sorted(found.items()):
        o = IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=ttl, id=ident) / UDP(sport=1, dport=2) / b"abcd"))
        require(_cksum_after_dec(o) == c, "test bug: checksum search")
        origs.append((c, o))
        pkts.append(mk_edge([555], o))
    require(any(c == 0 for c, _ in origs), "test bug: no id gives checksum 0 after decrement")
    r = run_ok("cksum_corners", edge_in=pkts)
    check_drops(r, {})
    if check_frames(r, "core", len(pkts)):
        for f, (c, o) in zip(r.core_out, origs):
            inner = IP(gre_inner(f)[2])
            eq(inner.chksum, c, "inner checksum after TTL %d->%d (id 0x%04x)" % (o.ttl, o.ttl - 1, o.id))
            eq(inner.ttl, o.ttl - 1, "ttl")
    rows = r.tshark("core", ["ip.checksum.status"])
    eq([t["ip.checksum.status"] for t in rows], [[TS_GOOD, TS_GOOD]] * len(rows), "tshark checksum status")


def test_incremental_checksum_sweep_public():
    """200 packets with varied TTL/TOS/id/flags on the plain path: every checksum exact."""
    pkts, origs = [], []
    for i in range(200):
        o = IP(bytes(IP(src="203.0.113.%d" % (i % 250 + 1), dst="13.64.%d.%d" % (i % 7, i % 250 + 1), ttl=2 + (i * 37) % 254,
                        tos=(i * 13) & 0xFF, id=(i * 7919) & 0xFFFF, flags="DF" if i % 3 else 0) / UDP(sport=i, dport=53) / b"q"))
        origs.append(o)
        pkts.append(mk_edge([556], o, src=CONTOSO_PUB_MAC))
    r = run_ok("cksum_sweep_public", edge_in=pkts)
    check_drops(r, {})
    if check_frames(r, "core", len(pkts)):
        bad = [i for i, (f, o) in enumerate(zip(r.core_out, origs)) if ip4_bytes(f[IP]) != expected_fwd4(o)]
        eq(bad, [], "packets whose forwarded header differs from ttl-1 + exact checksum")


def test_own_address_only_in_own_context():
    """172.16.1.2 belongs to contoso-private: pinged from VLAN 556, fabrikam's QinQ or the
    core it must not answer (no route there), and it must not leak anywhere."""
    pkts_e = [
        mk_edge([556], IP(src="172.16.1.5", dst="172.16.1.2") / ICMP(type=8, id=1, seq=1) / b"x", src=CONTOSO_PUB_MAC),
        mk_edge([(0x88A8, 100), (0x8100, 555)], IP(src="172.16.3.1", dst="172.16.1.2") / ICMP(type=8, id=2, seq=1) / b"x", src=FABRIKAM_RTR_MAC),
        mk_edge([(0x88A8, 100), (0x8100, 555)], IP(src="172.16.3.1", dst=CORE_IP) / ICMP(type=8, id=3, seq=1) / b"x", src=FABRIKAM_RTR_MAC),
    ]
    pkts_c = [mk_core(IP(src=GW_IP, dst="172.16.1.2") / ICMP(type=8, id=4, seq=1) / b"x"),
              mk_core(ARP(op=1, hwsrc=GW_MAC, psrc=GW_IP, pdst="172.16.1.2"), dst=BCAST)]
    r = run_ok("own_addr_isolation", edge_in=pkts_e, core_in=pkts_c)
    check_event(r, "icmp_echo_reply", 0)
    check_event(r, "arp_reply_sent", 0)
    check_frames(r, "edge", 0)
    check_frames(r, "core", 0)
    nz = r.nonzero_drops()
    eq(sum(nz.values()), 5, "all 5 dropped (got %s)" % nz)
    check(set(nz) <= {"no_route", "wrong_dir", "arp_bad", "not_for_us"}, "drop reasons %s" % nz)


def _icmp_err_case(name, frame, tags, dst_mac, our_ip, peer_src):
    r = run_ok(name, edge_in=[frame])
    check_drops(r, {"ttl_expired": 1})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, dst_mac, tags), "ethernet")
        ip = f[IP]
        eq((ip.src, ip.dst), (our_ip, peer_src), "ICMP source is this context's address")
        raw = ip4_bytes(ip)[20:]
        eq((raw[0], raw[1]), (11, 0), "type/code")
        check(checksum(raw) == 0 and ip4_hdr_cksum_ok(ip), "checksums")


def test_ttl_expired_public_context():
    f = mk_edge([556], IP(src="203.0.113.10", dst="13.64.1.1", ttl=1) / UDP(sport=33434, dport=33434) / b"tr", src=CONTOSO_PUB_MAC)
    _icmp_err_case("ttl_public", f, [(0x8100, 556)], CONTOSO_PUB_MAC, "172.16.1.6", "203.0.113.10")


def test_ttl_expired_fabrikam_qinq():
    f = mk_edge([(0x88A8, 100), (0x8100, 555)], IP(src=FABRIKAM_ONPREM, dst=VNET_HOST, ttl=1) / UDP(sport=33434, dport=33434) / b"tr",
                src=FABRIKAM_RTR_MAC)
    _icmp_err_case("ttl_fabrikam", f, [(0x88A8, 100), (0x8100, 555)], FABRIKAM_RTR_MAC, "172.16.3.2", FABRIKAM_ONPREM)


def test_ttl_zero_is_expired():
    f = mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=0) / UDP() / b"zero")
    r = run_ok("ttl_zero", edge_in=[f])
    check_drops(r, {"ttl_expired": 1})
    check_frames(r, "core", 0)


def test_ns_for_foreign_target_ignored():
    ns = mk_edge([555], IPv6(src="2001:db8:a1::1", dst="ff02::1:ff00:3", hlim=255) /
                 ICMPv6ND_NS(tgt="2001:db8:a1::3") / ICMPv6NDOptSrcLLAddr(lladdr=CONTOSO_RTR_MAC), dst="33:33:ff:00:00:03")
    r = run_ok("nd_foreign_target", edge_in=[ns])
    check_frames(r, "edge", 0)
    check_event(r, "nd_na_sent", 0)
    check_one_drop_of(r, {"nd_bad", "not_for_us"})


def test_big_ping_reply():
    payload = udp_payload(1472, seed=5)
    req = mk_edge([555], IP(src="172.16.1.1", dst="172.16.1.2") / ICMP(type=8, id=77, seq=9) / payload)
    r = run_ok("ping_big", edge_in=[req])
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        ip = r.edge_out[0][IP]
        eq(ip.len, 1500, "reply length")
        raw = ip4_bytes(ip)[20:]
        eq((raw[0], raw[8:]), (0, payload), "echo reply payload")
        check(checksum(raw) == 0, "ICMP checksum")


SEC_RTR_MAC = "02:00:00:00:a2:01"   # contoso's secondary router (172.16.2.1), not a static neighbor


def test_ping_secondary_link_reply_to_requester_mac():
    """Contract: the echo reply goes back on the VLAN to the requester's MAC — also for the
    secondary link's router, which is not a static neighbor."""
    icmp = ICMP(type=8, id=0x5353, seq=1) / b"secondary-link"
    req = mk_edge([555], IP(src="172.16.2.1", dst="172.16.2.2") / icmp, src=SEC_RTR_MAC)
    r = run_ok("ping_secondary", edge_in=[req])
    check_event(r, "icmp_echo_reply", 1)
    replies = [f for f in r.edge_out if f.haslayer(ICMP) and f[ICMP].type == 0]
    if check(len(replies) == 1, "expected one echo reply, got %s" % [f.summary() for f in r.edge_out]):
        f = replies[0]
        eq((f[Ether].src, f[Ether].dst, vlan_tags(f)), (EDGE_MAC, SEC_RTR_MAC, [(0x8100, 555)]), "reply ethernet")
        eq((f[IP].src, f[IP].dst), ("172.16.2.2", "172.16.2.1"), "reply addresses")
        eq(bytes(f[ICMP].payload), b"secondary-link", "payload")
    check_drops(r, {})


def test_ping_from_onprem_via_secondary_router():
    """An on-prem host pings our primary address through the secondary router: the reply
    goes to the requester's MAC (the secondary router)."""
    req = mk_edge([555], IP(src=CONTOSO_ONPREM, dst="172.16.1.2") / ICMP(type=8, id=9, seq=9) / b"via-secondary", src=SEC_RTR_MAC)
    r = run_ok("ping_onprem_secondary", edge_in=[req])
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].dst, vlan_tags(f)), (SEC_RTR_MAC, [(0x8100, 555)]), "reply to the requester's MAC")
        eq((f[IP].src, f[IP].dst, f[ICMP].type), ("172.16.1.2", CONTOSO_ONPREM, 0), "reply")


def test_cloud_pings_peering_address_through_tunnel():
    """A VNet host pings 172.16.1.2 through contoso's tunnel: the reply goes back through
    the tunnel (key 1001)."""
    inner = IP(src=VNET_HOST, dst="172.16.1.2") / ICMP(type=8, id=0x66, seq=2) / b"from-the-vnet"
    r = run_ok("ping_via_gre", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)])
    check_drops(r, {})
    check_frames(r, "edge", 0)
    if check_frames(r, "core", 1):
        got = check_gre_frame(r.core_out[0], CONTOSO_KEY, CONTOSO_TUN, 0x0800, "echo reply in GRE")
        if got is not None:
            ip = IP(got)
            eq((ip.src, ip.dst, ip[ICMP].type, ip[ICMP].id, bytes(ip[ICMP].payload)),
               ("172.16.1.2", VNET_HOST, 0, 0x66, b"from-the-vnet"), "echo reply")
            check(checksum(ip4_bytes(ip)[20:]) == 0, "ICMP checksum")


def test_no_icmp_error_about_icmp_error_or_noninitial_fragment():
    """RFC 1812 4.3.2.7: TTL expiry of an ICMP error or of a non-initial fragment is dropped
    silently; also nothing is sent to a source with no route in the context."""
    err = IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1) / ICMP(type=3, code=1) / bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP())
    frag = IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1, frag=100, id=7) / (b"f" * 64)
    unroutable = IP(src="8.8.8.8", dst=VNET_HOST, ttl=1) / UDP() / b"u"
    r = run_ok("no_icmp_about", edge_in=[mk_edge([555], p) for p in (err, frag, unroutable)])
    check_frames(r, "edge", 0)
    check_frames(r, "core", 0)
    nz = r.nonzero_drops()
    eq(nz.get("ttl_expired"), 3, "ttl_expired")
    check(set(nz) <= {"ttl_expired", "no_route"}, "drops %s" % nz)
    check_event(r, "icmp_time_exceeded", lambda v: v in (0, 1))


def test_refragment_a_fragment():
    """A 1500-byte first fragment (MF set) without DF toward the tunnel: split again; every
    piece keeps MF, offsets continue from the original (RFC 791)."""
    whole = IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=0x7A7A) / UDP(sport=1, dport=2) / udp_payload(3000)
    raw = bytearray(bytes(whole))
    first = IP(bytes(IP(bytes(raw))))  # parse
    # build fragment 1: offset 0, MF, 1480 bytes of payload; fragment 2: offset 185, MF, 1480 more; last: rest
    payload = bytes(raw[20:])
    frs = []
    for off, chunk, mf in ((0, 1480, True), (1480, 1480, True), (2960, len(payload) - 2960, False)):
        frs.append(IP(bytes(IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=0x7A7A, proto=17, ttl=64,
                               flags="MF" if mf else 0, frag=off // 8) / payload[off:off + chunk])))
    r = run_ok("refragment", edge_in=[mk_edge([555], f) for f in frs])
    check_drops(r, {})
    out = []
    for i, f in enumerate(r.core_out):
        got = check_gre_frame(f, CONTOSO_KEY, CONTOSO_TUN, 0x0800, "piece %d" % i)
        if got is not None:
            ip = IP(got)
            check(ip.len <= 1472, "piece %d length %d" % (i, ip.len))
            check(ip4_hdr_cksum_ok(ip), "piece %d checksum" % i)
            out.append(ip)
    out.sort(key=lambda x: x.frag)
    data = b""
    for i, ip in enumerate(out):
        eq(ip.frag * 8, len(data), "piece %d offset" % i)
        eq(bool(ip.flags.MF), i != len(out) - 1, "piece %d MF" % i)
        data += ip4_bytes(ip)[20:]
    check(data == payload, "reassembled pieces != original payload (%d vs %d bytes)" % (len(data), len(payload)))
    check_event(r, "fragmented", 2)


def test_gre_checksum_and_sequence_accepted():
    inner = IP(bytes(IP(src=VNET_HOST, dst=CONTOSO_ONPREM) / UDP(sport=1, dport=2) / b"csum"))
    good_c = mk_core(IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(chksum_present=1, key_present=1, key=CONTOSO_KEY, proto=0x0800) / inner)
    seq = mk_core(IP(src=CONTOSO_TUN, dst=CORE_IP) / GRE(seqnum_present=1, key_present=1, key=CONTOSO_KEY, seqence_number=5, proto=0x0800) / inner)
    bad = bytearray(bytes(good_c))
    bad[14 + 20 + 4] ^= 0x55   # corrupt the GRE checksum
    r = run_ok("gre_csum_seq", core_in=[good_c, seq, bytes(bad)])
    rows = tshark_fields(r.dir / "core_in.pcap", ["gre.checksum.status"])
    eq([t["gre.checksum.status"] for t in rows], [[TS_GOOD], [], [TS_BAD]], "tshark: test input GRE checksums")
    check_drops(r, {"gre_bad_header": 1})
    if check_frames(r, "edge", 2):
        for f in r.edge_out:
            eq(ip4_bytes(f[IP]), expected_fwd4(inner), "decapsulated inner")


def test_bad_checksums_on_local_protocols():
    icmp_bad = bytearray(bytes(IP(src="172.16.1.1", dst="172.16.1.2") / ICMP(type=8, id=1, seq=1) / b"bad-icmp-sum"))
    icmp_bad[22] ^= 0xFF
    e6 = bytearray(bytes(IPv6(src="2001:db8:a1::1", dst="2001:db8:a1::2") / ICMPv6EchoRequest(id=1, seq=1, data=b"bad6")))
    e6[42] ^= 0xFF
    ns = bytearray(bytes(IPv6(src="2001:db8:a1::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="2001:db8:a1::2") /
                         ICMPv6NDOptSrcLLAddr(lladdr=CONTOSO_RTR_MAC)))
    ns[42] ^= 0xFF
    tag = bytes.fromhex(EDGE_MAC.replace(":", "")) + bytes.fromhex(CONTOSO_RTR_MAC.replace(":", "")) + bytes.fromhex("8100022b")
    ns_dst = bytes.fromhex("3333ff000002") + bytes.fromhex(CONTOSO_RTR_MAC.replace(":", "")) + bytes.fromhex("8100022b")
    rarp = mk_edge([555], ARP(op=3, hwsrc=CONTOSO_RTR_MAC, psrc="172.16.1.1", pdst="172.16.1.2"), dst=BCAST)
    r = run_ok("local_bad_sums", edge_in=[tag + b"\x08\x00" + bytes(icmp_bad), tag + b"\x86\xdd" + bytes(e6),
                                          ns_dst + b"\x86\xdd" + bytes(ns), rarp])
    check_frames(r, "edge", 0)
    check_drops(r, {"icmp_unhandled": 2, "nd_bad": 1, "arp_bad": 1})


def test_nd_dad_probe_for_our_address():
    """DAD NS (source ::) for our address: NA to all-nodes ff02::1, S flag clear (RFC 4861 7.2.4)."""
    ns = mk_edge([555], IPv6(src="::", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="2001:db8:a1::2"),
                 dst="33:33:ff:00:00:02")
    r = run_ok("nd_dad", edge_in=[ns])
    check_drops(r, {})
    if check_frames(r, "edge", 1):
        f = r.edge_out[0]
        eq((f[Ether].dst, f[IPv6].dst, f[IPv6].src, vlan_tags(f)), ("33:33:00:00:00:01", "ff02::1", "2001:db8:a1::2", [(0x8100, 555)]), "NA addressing")
        if check(f.haslayer(ICMPv6ND_NA), "not an NA"):
            eq((f[ICMPv6ND_NA].S, f[ICMPv6ND_NA].O, f[ICMPv6ND_NA].tgt), (0, 1, "2001:db8:a1::2"), "NA flags/target")
            check(l4_cksum_ok(f[IPv6]), "NA checksum")


def test_cloud_hlim_expired_answered_through_tunnel():
    inner = IPv6(bytes(IPv6(src=VNET_HOST6, dst=CONTOSO_ONPREM6, hlim=1) / UDP(sport=33434, dport=33434) / udp_payload(16)))
    r = run_ok("rev_hlim_expired", core_in=[mk_gre(CONTOSO_KEY, CONTOSO_TUN, inner)])
    check_drops(r, {"ttl_expired": 1})
    if check_frames(r, "core", 1, "ICMPv6 time exceeded via GRE: "):
        got = check_gre_frame(r.core_out[0], CONTOSO_KEY, CONTOSO_TUN, 0x86DD, "icmpv6 in gre")
        if got is not None:
            ip6 = IPv6(got)
            eq((ip6.src, ip6.dst, bytes(ip6.payload)[0]), ("2001:db8:a1::2", VNET_HOST6, 3), "ICMPv6 time exceeded to the VNet host")
            check(l4_cksum_ok(ip6), "ICMPv6 checksum")
