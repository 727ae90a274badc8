# SPDX-License-Identifier: BSD-3-Clause
"""
Functional test harness for peerfwd.

Runs the real peerfwd binary on two DPDK pcap virtual devices (edge and core), feeds it
pcaps built with scapy, and reads the output pcaps back with two independent decoders:
scapy (rdpcap) and tshark (-T fields / -T json). Also loads the --stats-json counters.

Use /usr/bin/python3 (it has scapy 2.5).

Environment:
  PEERFWD        path of the binary (default build/control/peerfwd, relative to the repo)
  PF_OUT         where per-test directories go (default tests/out/functional)
  PF_KEEP        unused: test directories are always kept until the next run of that test
"""

import copy
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (  # noqa: E402
    ARP, Dot1AD, Dot1Q, Ether, GRE, ICMP, IP, IPerror, IPv6, Raw, UDP, TCP,
    ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, ICMPv6TimeExceeded, rdpcap, checksum,
    in6_chksum,
)
from scapy.utils import RawPcapWriter  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASE_CONFIG = REPO / "configs" / "exchange-provider.json"
RUN_TIMEOUT = 60.0

# ---- addresses of configs/exchange-provider.json ---------------------------------------
EDGE_PORT = "net_pcap_edge"
CORE_PORT = "net_pcap_core"
EDGE_MAC = "02:00:00:00:0e:01"
CORE_MAC = "02:00:00:00:0c:01"
GW_MAC = "02:00:00:00:0c:fe"
CORE_IP = "192.0.2.1"
GW_IP = "192.0.2.254"
CORE_IP6 = "2001:db8:c0::1"
GW_IP6 = "2001:db8:c0::fe"
BCAST = "ff:ff:ff:ff:ff:ff"

CONTOSO_RTR_MAC = "02:00:00:00:a1:01"   # 172.16.1.1, 2001:db8:a1::1 (VLAN 555)
CONTOSO_PUB_MAC = "02:00:00:00:a1:05"   # 172.16.1.5 (VLAN 556)
FABRIKAM_RTR_MAC = "02:00:00:00:b2:01"  # 172.16.3.1 (S100/C555)
FABRIKAM_MS_MAC = "02:00:00:00:b2:05"   # 172.16.3.5 (S100/C556)

CONTOSO_KEY, CONTOSO_TUN = 1001, "198.51.100.1"
FABRIKAM_KEY, FABRIKAM_TUN = 2002, "198.51.100.2"

CONTOSO_ONPREM = "216.221.239.233"
CONTOSO_ONPREM6 = "2001:db8:1000::5"
FABRIKAM_ONPREM = "198.18.0.5"
VNET_HOST = "10.0.1.5"
VNET_HOST6 = "fd00:1::5"

DROP_NAMES = [
    "runt", "rx_oversize", "untagged", "unknown_vlan", "bad_ethertype", "ip4_bad_version",
    "ip4_bad_ihl", "ip4_bad_len", "ip4_bad_cksum", "ip4_bad_src", "ip6_bad_version",
    "ip6_bad_len", "ttl_expired", "no_route", "blackhole", "neigh_unresolved", "frag_needed",
    "frag_failed", "icmp_rate_limited", "gre_bad_endpoint", "gre_unknown_key",
    "gre_bad_header", "gre_bad_inner", "frag_for_us", "not_for_us", "arp_bad", "nd_bad",
    "icmp_unhandled", "ip_options", "no_mbuf", "tx_full", "punt_full", "wrong_dir",
    "esp_unknown_spi", "esp_bad_icv", "esp_replay", "esp_too_old", "esp_truncated",
    "esp_bad_padding", "esp_bad_next_header", "esp_dummy", "esp_bad_tunnel", "esp_sa_expired",
    "esp_seq_exhausted", "esp_no_sa", "esp_wrong_customer", "gre_plain_on_ipsec",
    "crypto_fail", "crypto_full",
]
EVENT_NAMES = [
    "arp_reply_sent", "arp_request_sent", "arp_learned", "nd_na_sent", "nd_ns_sent",
    "nd_learned", "icmp_echo_reply", "icmp_time_exceeded", "icmp_frag_needed", "fragmented",
    "fragments_out", "gre_encap", "gre_decap", "esp_encrypted", "esp_decrypted",
]


# ---- soft / hard checks -----------------------------------------------------------------
class TestFailure(AssertionError):
    pass


class Skip(Exception):
    pass


_soft = []          # failures of the running test, filled by check()/eq()


def reset_soft():
    del _soft[:]


def soft_failures():
    return list(_soft)


def check(cond, msg):
    """Soft assertion: record and go on, so a test reports every mismatch at once."""
    if not cond:
        _soft.append(msg)
    return bool(cond)


def eq(actual, expected, what):
    return check(actual == expected, "%s: expected %r, got %r" % (what, expected, actual))


def require(cond, msg):
    """Hard assertion: stop the test here."""
    if not cond:
        raise TestFailure(msg)


# ---- config -----------------------------------------------------------------------------
def base_config():
    with open(BASE_CONFIG) as f:
        return json.load(f)


def cfg_port(cfg, name):
    for p in cfg["ports"]:
        if p["name"] == name:
            return p
    raise KeyError(name)


def cfg_drop_neighbor(cfg, ip):
    n = len(cfg["neighbors"])
    cfg["neighbors"] = [x for x in cfg["neighbors"] if x["ip"] != ip]
    assert len(cfg["neighbors"]) == n - 1, "no neighbor %s in config" % ip
    return cfg


def cfg_strip_ipv6(cfg):
    """Remove every IPv6 address, prefix, neighbor and route (e.g. to allow a core MTU
    below 1280 + 28)."""
    for p in cfg["ports"]:
        p.pop("address6", None)
        p.pop("gateway6", None)
    cfg["neighbors"] = [n for n in cfg["neighbors"] if ":" not in n["ip"]]
    for c in cfg["customers"]:
        c["vnets"] = [x for x in c.get("vnets", []) if ":" not in x]
        c["on_premises"] = [x for x in c.get("on_premises", []) if ":" not in x]
        for x in c["contexts"]:
            for link in ("primary", "secondary"):
                if link in x:
                    x[link].pop("subnet6", None)
            if "routes" in x:
                x["routes"] = [r for r in x["routes"] if ":" not in r["prefix"]]
    return cfg


def cfg_context(cfg, name):
    for c in cfg["customers"]:
        for x in c["contexts"]:
            if x["name"] == name:
                return x
    raise KeyError(name)


# ---- pcap I/O ---------------------------------------------------------------------------
PCAP_HDR = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # DLT_EN10MB


def write_pcap(path, pkts):
    """Write packets (scapy Packets or raw bytes) as an Ethernet pcap. An empty list still
    gives a valid pcap (global header only)."""
    pkts = list(pkts)
    if not pkts:
        with open(path, "wb") as f:
            f.write(PCAP_HDR)
        return
    w = RawPcapWriter(str(path), linktype=1, snaplen=65535, sync=False)
    w.write_header(None)
    t0 = 1700000000.0
    for i, p in enumerate(pkts):
        raw = p if isinstance(p, (bytes, bytearray)) else bytes(p)
        w.write_packet(bytes(raw), sec=int(t0) + i // 1000000, usec=i % 1000000)
    w.close()


def read_pcap(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24:
        return []
    return list(rdpcap(str(path)))


def tshark_fields(path, fields, dfilter=None, extra=()):
    """One row per frame: dict field -> list of values (all occurrences, in order)."""
    cmd = ["tshark", "-n", "-r", str(path),
           "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-o", "tcp.check_checksum:TRUE",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    cmd += list(extra)
    if dfilter:
        cmd += ["-Y", dfilter]
    for f in ["frame.number"] + list(fields):
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if out.returncode != 0:
        raise TestFailure("tshark failed on %s: %s" % (path, out.stderr.decode()[-500:]))
    rows = []
    for line in out.stdout.decode().splitlines():
        cols = line.split("\t")
        cols += [""] * (len(fields) + 1 - len(cols))
        row = {"frame.number": int(cols[0])}
        for f, v in zip(fields, cols[1:]):
            row[f] = v.split(",") if v != "" else []
        rows.append(row)
    return rows


def tshark_json(path, dfilter=None):
    cmd = ["tshark", "-n", "-r", str(path), "-o", "ip.check_checksum:TRUE", "-T", "json"]
    if dfilter:
        cmd += ["-Y", dfilter]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if out.returncode != 0:
        raise TestFailure("tshark failed on %s: %s" % (path, out.stderr.decode()[-500:]))
    return json.loads(out.stdout.decode() or "[]")


# tshark checksum status values (proto_checksum_enum_e)
TS_BAD, TS_GOOD = "0", "1"


# ---- running peerfwd --------------------------------------------------------------------
def peerfwd_path():
    p = os.environ.get("PEERFWD", "build/control/peerfwd")
    p = Path(p)
    if not p.is_absolute():
        p = REPO / p
    return p


def binary_stamp():
    """'path (mtime)' of the binary under test, for the logs."""
    exe = peerfwd_path()
    try:
        return "%s (built %s)" % (exe, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(str(exe)).st_mtime)))
    except OSError:
        return "%s (missing)" % exe


def out_root():
    p = Path(os.environ.get("PF_OUT", str(REPO / "tests" / "out" / "functional")))
    p.mkdir(parents=True, exist_ok=True)
    return p


class Result:
    def __init__(self, d):
        self.dir = d
        self.rc = None
        self.timed_out = False
        self.duration = 0.0
        self.stdout = ""
        self.stderr = ""
        self.stats = None
        self.stats_error = None
        self.edge_out = None
        self.core_out = None

    def path(self, port):
        return self.dir / ("edge_out.pcap" if port == "edge" else "core_out.pcap")

    def out(self, port):
        return self.edge_out if port == "edge" else self.core_out

    def tshark(self, port, fields, dfilter=None, extra=()):
        return tshark_fields(self.path(port), fields, dfilter, extra)

    def tshark_json(self, port, dfilter=None):
        return tshark_json(self.path(port), dfilter)

    def drop(self, name):
        return self.stats["drops"].get(name)

    def event(self, name):
        return self.stats["events"].get(name)

    def nonzero_drops(self):
        return {k: v for k, v in self.stats["drops"].items() if v}

    def describe(self):
        return "(run dir %s, rc=%s%s)" % (self.dir, self.rc, ", TIMED OUT" if self.timed_out else "")


def run(name, edge_in=(), core_in=(), config=None, idle_ms=300, extra_app=(),
        timeout=RUN_TIMEOUT, lcores="0,1", workers=1):
    """Run peerfwd once in tests/out/functional/<name>/ and collect everything.

    workers > 1: that many worker lcores (sharing the 2 CPUs) and as many RX/TX queues
    per port (one rx_pcap/tx_pcap file each); inputs are split into contiguous chunks, one
    per queue; outputs are the concatenation of the per-queue files."""
    exe = peerfwd_path()
    # the tree is shared: a rebuild may be replacing the binary right now; wait a little
    deadline = time.monotonic() + float(os.environ.get("PF_WAIT_BINARY", "60"))
    while not os.access(str(exe), os.X_OK) and time.monotonic() < deadline:
        time.sleep(1)
    if not os.access(str(exe), os.X_OK):
        raise Skip("peerfwd binary not found at %s (set PEERFWD)" % exe)
    d = out_root() / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    edge_in_p, core_in_p = d / "edge_in.pcap", d / "core_in.pcap"
    edge_out_p, core_out_p = d / "edge_out.pcap", d / "core_out.pcap"
    stats_p, cfg_p = d / "stats.json", d / "config.json"
    edge_in, core_in = list(edge_in), list(core_in)
    if workers > 1:
        qfiles = {}
        for tag, pk in (("edge", edge_in), ("core", core_in)):
            qfiles[tag] = []
            for q in range(workers):
                qi, qo = d / ("%s_in%d.pcap" % (tag, q)), d / ("%s_out%d.pcap" % (tag, q))
                write_pcap(qi, pk[q * len(pk) // workers:(q + 1) * len(pk) // workers])
                qfiles[tag].append((qi, qo))
        lcores = ",".join(["0@0"] + ["%d@1" % (i + 1) for i in range(workers)])
    write_pcap(edge_in_p, edge_in)
    write_pcap(core_in_p, core_in)
    if config is None:
        config = base_config()
    with open(cfg_p, "w") as f:
        json.dump(config, f, indent=2)
    if workers > 1:
        vdevs = []
        for port, tag in ((EDGE_PORT, "edge"), (CORE_PORT, "core")):
            vdevs += ["--vdev", ",".join([port] + ["rx_pcap=%s" % qi for qi, _ in qfiles[tag]] +
                                         ["tx_pcap=%s" % qo for _, qo in qfiles[tag]])]
        cmd = [str(exe), "--lcores", lcores]
    else:
        vdevs = ["--vdev", "%s,rx_pcap=%s,tx_pcap=%s" % (EDGE_PORT, edge_in_p, edge_out_p),
                 "--vdev", "%s,rx_pcap=%s,tx_pcap=%s" % (CORE_PORT, core_in_p, core_out_p)]
        cmd = [str(exe), "-l", lcores]
    cmd += ["--no-huge", "--no-shconf", "-m", "512", "--no-pci", "--log-level=*:warning"] + vdevs + \
           ["--", "--config", str(cfg_p), "--idle-exit", str(idle_ms),
            "--stats-json", str(stats_p)] + list(extra_app)
    with open(d / "cmd.sh", "w") as f:
        f.write("#!/bin/sh\n# reproduce this test run\n" +
                " ".join("'%s'" % c if any(ch in c for ch in "*, ") else c for c in cmd) + "\n")
    r = Result(d)
    t0 = time.monotonic()
    with open(d / "stdout.txt", "wb") as fo, open(d / "stderr.txt", "wb") as fe:
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, cwd=str(d), start_new_session=True)
        try:
            r.rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            r.timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                r.rc = proc.wait(timeout=5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                r.rc = proc.wait()
    r.duration = time.monotonic() - t0
    r.stdout = (d / "stdout.txt").read_text(errors="replace")
    r.stderr = (d / "stderr.txt").read_text(errors="replace")
    if workers > 1:
        for tag in ("edge", "core"):
            outs = [read_pcap(qo) for _, qo in qfiles[tag]]
            merged = None if any(o is None for o in outs) else [f for o in outs for f in o]
            setattr(r, tag + "_out", merged)
            write_pcap(d / ("%s_out.pcap" % tag), [bytes(f) for f in (merged or [])])
    else:
        r.edge_out = read_pcap(edge_out_p)
        r.core_out = read_pcap(core_out_p)
    if stats_p.exists():
        try:
            with open(stats_p) as f:
                r.stats = json.load(f)
        except ValueError as e:
            r.stats_error = "stats JSON does not parse: %s" % e
    else:
        r.stats_error = "no stats JSON written"
    return r


def run_ok(name, edge_in=(), core_in=(), config=None, **kw):
    """run() plus the checks every run must pass: exit 0 in time, output pcaps and stats
    present, stats well formed, no mbuf leak."""
    r = run(name, edge_in, core_in, config, **kw)
    tail = r.stderr.strip().splitlines()[-5:]
    require(not r.timed_out, "peerfwd did not exit within %ss %s" % (RUN_TIMEOUT, r.describe()))
    require(r.rc == 0, "peerfwd exit code %s; stderr tail: %s %s" % (r.rc, tail, r.describe()))
    require(r.stats is not None, "%s %s" % (r.stats_error, r.describe()))
    require(r.edge_out is not None and r.core_out is not None,
            "output pcap missing %s" % r.describe())
    check_stats_shape(r.stats)
    check_no_leak(r.stats)
    check_port_accounting(r, edge_in, core_in)
    return r


def check_port_accounting(r, edge_in, core_in):
    """Port counters agree with the pcaps: every input frame received, every output frame
    counted, bytes = frame lengths (no FCS)."""
    st = r.stats["ports"]
    for port, pin, pout in ((EDGE_PORT, edge_in, r.edge_out), (CORE_PORT, core_in, r.core_out)):
        pin = [p if isinstance(p, (bytes, bytearray)) else bytes(p) for p in pin]
        got = (st[port]["rx_packets"], st[port]["rx_bytes"], st[port]["tx_packets"], st[port]["tx_bytes"])
        want = (len(pin), sum(len(p) for p in pin), len(pout), sum(len(bytes(f)) for f in pout))
        check(got == want, "stats.ports.%s (rx_packets, rx_bytes, tx_packets, tx_bytes) = %s, pcaps say %s"
              % (port, got, want))


def check_stats_shape(st):
    for k in ("ports", "contexts", "customers", "drops", "events", "mempool"):
        require(k in st, "stats JSON lacks %r (has %s)" % (k, sorted(st)))
    for p in (EDGE_PORT, CORE_PORT):
        require(p in st["ports"], "stats.ports lacks %s" % p)
        for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"):
            require(k in st["ports"][p], "stats.ports.%s lacks %s" % (p, k))
    missing = [n for n in DROP_NAMES if n not in st["drops"]]
    require(not missing, "stats.drops lacks %s" % missing)
    missing = [n for n in EVENT_NAMES if n not in st["events"]]
    require(not missing, "stats.events lacks %s" % missing)
    require("size" in st["mempool"] and "available_at_exit" in st["mempool"],
            "stats.mempool lacks size/available_at_exit: %r" % st["mempool"])


def check_no_leak(st):
    mp = st["mempool"]
    check(mp["available_at_exit"] == mp["size"],
          "mbuf leak: mempool available_at_exit %s != size %s" % (mp["available_at_exit"], mp["size"]))


def check_drops(r, expected, what=""):
    """Exactly the drop counters in `expected` are non-zero. Values: an int (exact count),
    None (any non-zero), or a callable(count) -> bool."""
    nz = r.nonzero_drops()
    unexpected = {k: v for k, v in nz.items() if k not in expected}
    check(not unexpected, "%sunexpected non-zero drops %s (expected only %s)"
          % (what, unexpected, sorted(expected)))
    for k, want in expected.items():
        got = r.stats["drops"].get(k, 0)
        if want is None:
            check(got > 0, "%sdrop %s expected non-zero, got %s (non-zero: %s)" % (what, k, got, nz))
        elif callable(want):
            check(want(got), "%sdrop %s = %s fails its condition" % (what, k, got))
        else:
            check(got == want, "%sdrop %s expected %s, got %s (non-zero: %s)" % (what, k, want, got, nz))


def check_one_drop_of(r, names, count=1, what=""):
    """Exactly one drop counter is non-zero, equal to count, and it is one of names
    (names=None: any)."""
    nz = r.nonzero_drops()
    ok = len(nz) == 1 and list(nz.values())[0] == count and (names is None or list(nz)[0] in names)
    check(ok, "%sexpected exactly one drop counter == %s%s, got %s"
          % (what, count, "" if names is None else " among %s" % sorted(names), nz))


def check_event(r, name, expected):
    got = r.stats["events"].get(name)
    if callable(expected):
        return check(expected(got), "event %s = %s fails its condition" % (name, got))
    return check(got == expected, "event %s: expected %s, got %s" % (name, expected, got))


def check_frames(r, port, n, what=""):
    frames = r.out(port)
    got = len(frames)
    if got != n:
        summ = [f.summary() for f in frames[:6]]
        check(False, "%s%s port: expected %d output frame(s), got %d %s" % (what, port, n, got, summ))
    return got == n


# ---- packet checks ----------------------------------------------------------------------
def ip4_hdr_cksum_ok(ip):
    """Recompute the IPv4 header checksum: parse the header alone, delete chksum, rebuild,
    compare."""
    raw = bytes(ip)
    ihl = (raw[0] & 0x0F) * 4
    hdr = IP(raw[:ihl])
    got = hdr.chksum
    del hdr.chksum
    want = IP(bytes(hdr)).chksum
    return got == want and checksum(raw[:ihl]) == 0


def ip4_bytes(ip):
    """The bytes of an IPv4 packet as its total length says (no trailing padding)."""
    raw = bytes(ip)
    return raw[:ip.len] if ip.len is not None else raw


def ip6_bytes(ip6):
    raw = bytes(ip6)
    return raw[:40 + ip6.plen]


def expected_fwd4(orig_ip):
    """The original IPv4 packet with TTL-1 and the header checksum recomputed from scratch."""
    b = bytearray(ip4_bytes(orig_ip))
    b[8] -= 1
    ihl = (b[0] & 0x0F) * 4
    b[10:12] = b"\0\0"
    c = checksum(bytes(b[:ihl]))
    b[10:12] = struct.pack("!H", c)
    return bytes(b)


def expected_fwd6(orig_ip6):
    b = bytearray(ip6_bytes(orig_ip6))
    b[7] -= 1
    return bytes(b)


def l4_cksum_ok(ip):
    """UDP/TCP/ICMP/ICMPv6 checksum of the payload recomputed by scapy."""
    raw = ip4_bytes(ip) if ip.version == 4 else ip6_bytes(ip)
    p = (IP if ip.version == 4 else IPv6)(raw)
    layer = None
    for cls in (UDP, TCP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NA, ICMPv6ND_NS,
                ICMPv6PacketTooBig, ICMPv6TimeExceeded):
        if p.haslayer(cls) and hasattr(p[cls], "cksum"):
            layer = p[cls]
            break
    if layer is None:
        return True
    if ip.version == 4 and ip.frag != 0:
        return True
    got = layer.cksum
    q = (IP if ip.version == 4 else IPv6)(raw)
    del q[type(layer)].cksum
    want = (IP if ip.version == 4 else IPv6)(bytes(q))[type(layer)].cksum
    return got == want


def vlan_tags(frame):
    """[(tpid, vid), ...] outermost first, from the raw bytes (decoder independent of
    scapy's layer classes)."""
    raw = bytes(frame)
    tags = []
    off = 12
    while off + 4 <= len(raw):
        tpid = struct.unpack("!H", raw[off:off + 2])[0]
        if tpid not in (0x8100, 0x88A8, 0x9100):
            break
        tci = struct.unpack("!H", raw[off + 2:off + 4])[0]
        tags.append((tpid, tci & 0x0FFF))
        off += 4
    return tags


def l3_of(frame):
    """The first IP/IPv6/ARP layer of a frame (below any tags), or None."""
    for cls in (IP, IPv6, ARP):
        if frame.haslayer(cls):
            return frame[cls]
    return None


def gre_inner(frame):
    """(outer IP, GRE, inner payload bytes) for a GRE frame."""
    outer = frame[IP]
    g = outer[GRE]
    outer_raw = ip4_bytes(outer)
    ihl = outer.ihl * 4
    graw = outer_raw[ihl:]
    flags = struct.unpack("!H", graw[:2])[0]
    hlen = 4 + (4 if flags & 0x8000 else 0) + (4 if flags & 0x2000 else 0) + (4 if flags & 0x1000 else 0)
    return outer, g, graw[hlen:]


def check_gre_frame(frame, key, tun_dst, proto, what):
    """Outer Ethernet/IPv4/GRE of a packet we sent toward the cloud."""
    eq(frame[Ether].src, CORE_MAC, what + " outer eth src")
    eq(frame[Ether].dst, GW_MAC, what + " outer eth dst")
    eq(vlan_tags(frame), [], what + " core frame must be untagged")
    eq(frame[Ether].type, 0x0800, what + " outer ethertype")
    if not frame.haslayer(GRE):
        check(False, what + " no GRE layer in %s" % frame.summary())
        return None
    outer, g, inner = gre_inner(frame)
    eq(outer.src, CORE_IP, what + " outer ip src")
    eq(outer.dst, tun_dst, what + " outer ip dst")
    eq(outer.proto, 47, what + " outer ip proto")
    eq(outer.ttl, 64, what + " outer ip ttl")
    eq(outer.ihl, 5, what + " outer ihl")
    check(ip4_hdr_cksum_ok(outer), what + " outer ip checksum wrong (0x%04x)" % outer.chksum)
    eq(outer.frag, 0, what + " outer frag offset")
    eq(bool(outer.flags.MF), False, what + " outer MF")
    eq(g.chksum_present, 0, what + " GRE C bit")
    eq(g.routing_present, 0, what + " GRE R bit")
    eq(g.seqnum_present, 0, what + " GRE S bit")
    eq(g.key_present, 1, what + " GRE K bit")
    eq(g.version, 0, what + " GRE version")
    eq(g.key, key, what + " GRE key")
    eq(g.proto, proto, what + " GRE protocol")
    eq(outer.len, 20 + 8 + len(inner), what + " outer total length vs GRE+inner")
    return inner


def ts_rows_check(rows, idx, field, expected, what):
    """tshark agrees: rows[idx][field] == expected (list of strings)."""
    if idx >= len(rows):
        check(False, "tshark: %s no frame %d" % (what, idx + 1))
        return
    eq(rows[idx].get(field), expected, "tshark %s %s" % (what, field))


def mk_edge(tags, payload, src=CONTOSO_RTR_MAC, dst=EDGE_MAC):
    """tags: [] untagged, [555] single 802.1Q, [(0x88a8,100),(0x8100,555)] etc."""
    p = Ether(src=src, dst=dst)
    for t in tags:
        if isinstance(t, tuple):
            tpid, vid = t
            p = p / (Dot1AD(vlan=vid) if tpid == 0x88A8 else Dot1Q(vlan=vid))
        else:
            p = p / Dot1Q(vlan=t)
    return p / payload


def mk_core(payload, src=GW_MAC, dst=CORE_MAC):
    return Ether(src=src, dst=dst) / payload


def mk_gre(key, tun_src, inner, proto=None, outer_dst=CORE_IP, **outer_kw):
    if proto is None:
        proto = 0x86DD if isinstance(inner, IPv6) else 0x0800
    g = GRE(key_present=1, key=key, proto=proto) if key is not None else GRE(proto=proto)
    return mk_core(IP(src=tun_src, dst=outer_dst, **outer_kw) / g / inner)


def udp_payload(n, seed=0):
    return bytes(((i * 7 + seed) & 0xFF) for i in range(n))
