# SPDX-License-Identifier: BSD-3-Clause
"""Offline mode (--idle-exit), the stats JSON as a whole, and the README demo traffic."""
import collections
import os
import sys

from pfharness import *  # noqa: F401,F403
from pfharness import (eq, check, require, run, run_ok, check_drops, check_frames, check_event,
                       REPO)

sys.path.insert(0, str(REPO / "tools"))


def test_idle_exit_empty_inputs():
    r = run_ok("idle_empty")
    check_frames(r, "edge", 0)
    check_frames(r, "core", 0)
    check_drops(r, {})
    check(r.duration < 15, "idle exit after 300 ms took %.1fs" % r.duration)
    for p in (EDGE_PORT, CORE_PORT):
        eq({k: r.stats["ports"][p][k] for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes")},
           {"rx_packets": 0, "rx_bytes": 0, "tx_packets": 0, "tx_bytes": 0}, "port %s counters" % p)
    eq(sorted(r.stats["contexts"]), sorted(["contoso-private", "contoso-public", "fabrikam-private",
                                            "fabrikam-microsoft", "core"]), "context names")
    eq(sorted(r.stats["customers"]), ["contoso", "fabrikam"], "customer names")
    for name, c in r.stats["contexts"].items():
        for k in ("id", "kind", "in_packets", "in_bytes", "out_packets", "out_bytes"):
            check(k in c, "contexts.%s lacks %s" % (name, k))
    kinds = {n: c.get("kind") for n, c in r.stats["contexts"].items() if n != "core"}
    eq(kinds, {"contoso-private": "private", "contoso-public": "public",
               "fabrikam-private": "private", "fabrikam-microsoft": "microsoft"}, "context kinds")
    ids = [c.get("id") for c in r.stats["contexts"].values()]
    eq(len(set(ids)), len(ids), "context ids distinct")
    for name, c in r.stats["customers"].items():
        for k in ("id", "to_cloud_packets", "to_cloud_bytes", "from_cloud_packets", "from_cloud_bytes"):
            check(k in c, "customers.%s lacks %s" % (name, k))
    eq((r.stats["customers"].get("contoso", {}).get("id"), r.stats["customers"].get("fabrikam", {}).get("id")), (1, 2), "customer ids")
    check(r.stats["mempool"]["size"] > 0, "mempool size > 0")


def test_bulk_forwarding_complete_and_byte_counts():
    """1000 packets each way: every one comes out (pcaps complete at idle exit), port byte
    counters equal the frame sizes."""
    n = 500
    edge_in, core_in = [], []
    for i in range(n):
        edge_in.append(mk_edge([555], IP(src=CONTOSO_ONPREM, dst="10.0.%d.%d" % (i // 250, i % 250 + 1), id=i) / UDP(sport=1000 + i, dport=80) / udp_payload(i % 300)))
        edge_in.append(mk_edge([(0x88A8, 100), (0x8100, 555)], IP(src=FABRIKAM_ONPREM, dst=VNET_HOST, id=i) / UDP(sport=2000 + i, dport=80) / udp_payload(100), src=FABRIKAM_RTR_MAC))
        core_in.append(mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=i) / UDP(sport=80, dport=3000 + i) / udp_payload(i % 500)))
        core_in.append(mk_core(IP(src="13.64.1.1", dst="203.0.113.%d" % (i % 250 + 1), id=i) / UDP(sport=443, dport=4000) / udp_payload(64)))
    r = run_ok("bulk", edge_in=edge_in, core_in=core_in)
    check_drops(r, {})
    eq(len(r.core_out), 2 * n, "core output frames")
    eq(len(r.edge_out), 2 * n, "edge output frames")
    keys = collections.Counter(f[GRE].key if f.haslayer(GRE) else None for f in r.core_out)
    eq(dict(keys), {CONTOSO_KEY: n, FABRIKAM_KEY: n}, "GRE keys on core")
    tags = collections.Counter(tuple(vlan_tags(f)) for f in r.edge_out)
    eq(dict(tags), {((0x8100, 555),): n, ((0x8100, 556),): n}, "edge tags")
    # per-flow order preserved (single flow per direction here keyed by id)
    ids = [IP(gre_inner(f)[2]).id for f in r.core_out if f[GRE].key == FABRIKAM_KEY]
    eq(ids, sorted(ids), "fabrikam packets kept their order")
    st = r.stats["ports"]
    eq(st[EDGE_PORT]["rx_packets"], len(edge_in), "edge rx_packets")
    eq(st[CORE_PORT]["rx_packets"], len(core_in), "core rx_packets")
    eq(st[EDGE_PORT]["rx_bytes"], sum(len(bytes(p)) for p in edge_in), "edge rx_bytes")
    eq(st[CORE_PORT]["rx_bytes"], sum(len(bytes(p)) for p in core_in), "core rx_bytes")
    eq(st[EDGE_PORT]["tx_packets"], len(r.edge_out), "edge tx_packets")
    eq(st[CORE_PORT]["tx_packets"], len(r.core_out), "core tx_packets")
    eq(st[EDGE_PORT]["tx_bytes"], sum(len(bytes(p)) for p in r.edge_out), "edge tx_bytes")
    eq(st[CORE_PORT]["tx_bytes"], sum(len(bytes(p)) for p in r.core_out), "core tx_bytes")
    c = r.stats["contexts"]
    eq(c["contoso-private"]["in_packets"], n, "contoso-private in_packets")
    eq(c["fabrikam-private"]["in_packets"], n, "fabrikam-private in_packets")
    eq(c["contoso-private"]["out_packets"], n, "contoso-private out_packets")
    eq(c["contoso-public"]["out_packets"], n, "contoso-public out_packets")
    cu = r.stats["customers"]
    # circuit billing basis: every packet of the customer's contexts, private (GRE) and public
    eq((cu["contoso"]["to_cloud_packets"], cu["contoso"]["from_cloud_packets"]), (n, 2 * n), "contoso billing packets")
    eq((cu["fabrikam"]["to_cloud_packets"], cu["fabrikam"]["from_cloud_packets"]), (n, 0), "fabrikam billing packets")
    check_event(r, "gre_encap", 2 * n)
    check_event(r, "gre_decap", n)
    rows = r.tshark("core", ["ip.checksum.status"])
    bad = [t["frame.number"] for t in rows if t["ip.checksum.status"] != [TS_GOOD, TS_GOOD]]
    eq(bad, [], "tshark: core frames with a checksum not good")
    rows = r.tshark("edge", ["ip.checksum.status", "udp.checksum.status"])
    bad = [t["frame.number"] for t in rows if t["ip.checksum.status"] != [TS_GOOD] or t["udp.checksum.status"] != [TS_GOOD]]
    eq(bad, [], "tshark: edge frames with a checksum not good")


def test_unknown_option_rejected():
    """An unknown option is a usage error: non-zero exit, no crash."""
    r = run("bad_args", extra_app=["--no-such-option"], timeout=30)
    check(not r.timed_out, "hung on a bad option")
    check(r.rc not in (0, None) and r.rc > 0, "exit code for an unknown option: %s (want > 0, not a signal)" % r.rc)


def test_demo_traffic():
    import demo_traffic
    edge_in, core_in, exp = demo_traffic.build()
    r = run_ok("demo", edge_in=edge_in, core_in=core_in)
    check_drops(r, exp["drops"])
    for k, v in exp["events"].items():
        check_event(r, k, v)
    gre = collections.Counter(str(f[GRE].key) for f in r.core_out if f.haslayer(GRE))
    eq(dict(gre), exp["core_gre"], "GRE frames per key on core")
    plain = sum(1 for f in r.core_out if not f.haslayer(GRE) and f.haslayer(IP) and f[IP].src != CORE_IP)
    eq(plain, exp["core_plain"], "plain frames on core")
    local = sum(1 for f in r.core_out if not f.haslayer(GRE) and (f.haslayer(ARP) or (f.haslayer(IP) and f[IP].src == CORE_IP)))
    eq(local, exp["core_local"], "our replies on core")
    fwd = collections.Counter()
    local_e = 0
    for f in r.edge_out:
        if f.haslayer(ARP) or f.haslayer(ICMPv6ND_NA) or f.haslayer(ICMPv6EchoReply) or f.haslayer(ICMPv6PacketTooBig) or \
                (f.haslayer(IP) and f[IP].src.startswith("172.16.")):
            local_e += 1
        else:
            fwd[".".join(str(v) for _, v in vlan_tags(f))] += 1
    eq(dict(fwd), exp["edge_fwd"], "forwarded frames per VLAN on edge")
    eq(local_e, exp["edge_local"], "our replies on edge")
    for p, rows in (("core", r.tshark("core", ["ip.checksum.status"])), ("edge", r.tshark("edge", ["ip.checksum.status"]))):
        bad = [t["frame.number"] for t in rows if any(s != TS_GOOD for s in t["ip.checksum.status"])]
        eq(bad, [], "tshark: %s frames with a bad IPv4 checksum" % p)


def test_idle_exit_waits_for_idle_period():
    """--idle-exit 1500: the process stays up ~1.5 s after the last packet, then exits 0."""
    pkts = [mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, id=i) / UDP() / b"idle") for i in range(50)]
    r = run_ok("idle_1500", edge_in=pkts, idle_ms=1500)
    check(1.4 <= r.duration <= 20, "run took %.2fs with --idle-exit 1500" % r.duration)
    eq(len(r.core_out), 50, "all packets out")


def test_two_workers():
    """Two workers (two RX/TX queues per port, one pcap file each): everything forwarded,
    counters summed over the workers, ICMP rate limit per worker, no leak."""
    n = 300
    edge_in, core_in = [], []
    for i in range(n):
        edge_in.append(mk_edge([555], IP(src=CONTOSO_ONPREM, dst="10.0.%d.%d" % (i // 250, i % 250 + 1), id=i) / UDP(sport=i, dport=80) / udp_payload(i % 200)))
        edge_in.append(mk_edge([555], IP(src=CONTOSO_ONPREM, dst=VNET_HOST, ttl=1, id=i) / UDP() / b"ttl"))
        core_in.append(mk_gre(CONTOSO_KEY, CONTOSO_TUN, IP(src=VNET_HOST, dst=CONTOSO_ONPREM, id=i) / UDP(sport=80, dport=i) / udp_payload(i % 300)))
        core_in.append(mk_core(IP(src="13.64.1.1", dst="203.0.113.9", id=i) / UDP() / udp_payload(20)))
    r = run_ok("two_workers", edge_in=edge_in, core_in=core_in, workers=2)
    eq(len(r.core_out), n, "GRE frames on core")
    fwd_edge = [f for f in r.edge_out if not (f.haslayer(IP) and f[IP].src == "172.16.1.2")]
    eq(len(fwd_edge), 2 * n, "frames forwarded to the edge")
    icmp = r.event("icmp_time_exceeded")
    eq(len(r.edge_out) - 2 * n, icmp, "ICMP frames == icmp_time_exceeded")
    check(100 < icmp <= 250, "two workers, 100 pps each: %s ICMP errors for %d expiries" % (icmp, n))
    eq(icmp + r.drop("icmp_rate_limited"), n, "sent + rate limited")
    check_drops(r, {"ttl_expired": n, "icmp_rate_limited": None})
    check_event(r, "gre_encap", n)
    check_event(r, "gre_decap", n)
    eq(r.stats["customers"]["contoso"]["to_cloud_packets"], n, "to_cloud_packets")
    eq(r.stats["customers"]["contoso"]["from_cloud_packets"], 2 * n, "from_cloud_packets")
    ids = sorted(IP(gre_inner(f)[2]).id for f in r.core_out)
    eq(ids, list(range(n)), "every packet exactly once")
    rows = r.tshark("core", ["ip.checksum.status"])
    eq([t["frame.number"] for t in rows if t["ip.checksum.status"] != [TS_GOOD, TS_GOOD]], [], "tshark: bad checksums")
