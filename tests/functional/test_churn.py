# SPDX-License-Identifier: BSD-3-Clause
"""
Route churn under traffic: the real peerfwd forwards a large pcap while a thread feeds it
ExaBGP 4.x `encoder json` updates over the feed socket (config feeds.exabgp.socket) as
fast as it takes them: announcing, re-announcing with the other next hop (172.16.1.1 /
172.16.2.1) and withdrawing /24s in contoso-private. Traffic and churn overlap for the
whole run (the feed keeps going until peerfwd exits). The timing of each update against
each packet is unknown, so every forwarded frame is checked against what its prefix was
*ever* allowed to do (the schedule below): the right VLAN, the right customer-router MAC,
the right GRE key and tunnel, never another customer's, never a prefix that was never
announced; and every frame at most once, nothing malformed.

Prefix sets (contoso-private, from neighbor 172.16.1.1, /24s of 10.200/16 and 10.201/16):
  stable   announced once via .1.1 (re-announced unchanged)     -> a1:01 (or dropped before)
  flap     announce via .1.1 / withdraw                          -> a1:01 or dropped
  alt      .1.1 / .2.1 alternately, never withdrawn              -> a1:01 or a2:01
  altflap  .1.1 / .2.1 / withdrawn                               -> a1:01, a2:01 or dropped
  never    never announced                                       -> always dropped (no_route)
  gre_alt  the tunnel 198.51.100.1 / .2.1 alternately            -> GRE key 1001 or a2:01
Traffic: from the cloud (GRE key 1001) to stable..never (leaves on VLAN 555); from the
contoso router (VLAN 555) to gre_alt and never; fabrikam's cloud (key 2002) and router
(S100/C555) to the same prefixes (fabrikam-private has no such routes: never forwarded),
and fabrikam router -> its VNet (always GRE key 2002): the control flow.

PF_CHURN_PACKETS (default 300000) sizes the pcaps.
"""

import json
import os
import socket
import struct
import subprocess
import signal
import shutil
import threading
import time

import pfharness as h
from pfharness import (check, eq, require, Skip, EDGE_PORT, CORE_PORT, EDGE_MAC, CORE_MAC,
                       GW_MAC, CORE_IP, CONTOSO_RTR_MAC, FABRIKAM_RTR_MAC, CONTOSO_KEY,
                       CONTOSO_TUN, FABRIKAM_KEY, FABRIKAM_TUN, CONTOSO_ONPREM, FABRIKAM_ONPREM,
                       VNET_HOST)

SECONDARY_IP = "172.16.2.1"
SECONDARY_MAC = "02:00:00:00:a2:01"   # a static neighbor added to the test config
PRIMARY_IP = "172.16.1.1"
MARK = b"CHRN"
PCAP_HDR = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)

SETS = {  # name: (first /24 as (a, b, c) -> a.b.c+i.0/24, count)
    "stable": ((10, 200, 0), 8),
    "flap": ((10, 200, 16), 8),
    "alt": ((10, 200, 32), 8),
    "altflap": ((10, 200, 48), 8),
    "never": ((10, 200, 64), 8),
    "gre_alt": ((10, 201, 0), 8),
}
# what a frame to a prefix of each set may become: ("edge", mac) / ("gre", key); dropping
# is always allowed (before the first announcement, between flaps)
ALLOWED = {
    "stable": {("edge", CONTOSO_RTR_MAC)},
    "flap": {("edge", CONTOSO_RTR_MAC)},
    "alt": {("edge", CONTOSO_RTR_MAC), ("edge", SECONDARY_MAC)},
    "altflap": {("edge", CONTOSO_RTR_MAC), ("edge", SECONDARY_MAC)},
    "never": set(),
    "gre_alt": {("gre", CONTOSO_KEY), ("edge", SECONDARY_MAC)},
}


def prefixes(name):
    (a, b, c), n = SETS[name]
    return ["%d.%d.%d.0/24" % (a, b, c + i) for i in range(n)]


def host(name, i, k):
    (a, b, c), n = SETS[name]
    return "%d.%d.%d.%d" % (a, b, c + i % n, 1 + k % 250)


# ---- ExaBGP JSON ------------------------------------------------------------------------
def exa_line(counter, announce=None, withdraw=None, state=None):
    nbr = {"address": {"local": "172.16.1.2", "peer": PRIMARY_IP},
           "asn": {"local": 12076, "peer": 65520}}
    msg = {"exabgp": "4.0.1", "time": time.time(), "host": "churn", "pid": 1, "ppid": 1,
           "counter": counter}
    if state:
        msg["type"] = "state"
        nbr["state"] = state
    else:
        msg["type"] = "update"
        nbr["direction"] = "receive"
        upd = {"attribute": {"origin": "igp", "as-path": [65520], "confederation-path": []}}
        if withdraw:
            upd["withdraw"] = {"ipv4 unicast": [{"nlri": p} for p in withdraw]}
        if announce:
            upd["announce"] = {"ipv4 unicast": {nh: [{"nlri": p} for p in ps]
                                                for nh, ps in announce.items() if ps}}
        nbr["message"] = {"update": upd}
    msg["neighbor"] = nbr
    return (json.dumps(msg, separators=(",", ":")) + "\n").encode()


def churn_round(r):
    """Route changes of round r: (announce {nh: [prefixes]}, withdraw [prefixes], count)."""
    ann = {PRIMARY_IP: [], SECONDARY_IP: [], CONTOSO_TUN: []}
    wd = []
    ann[PRIMARY_IP] += prefixes("stable")
    (ann[PRIMARY_IP] if r % 2 == 0 else wd).extend(prefixes("flap"))
    ann[PRIMARY_IP if r % 2 == 0 else SECONDARY_IP] += prefixes("alt")
    if r % 3 == 2:
        wd += prefixes("altflap")
    else:
        ann[PRIMARY_IP if r % 3 == 0 else SECONDARY_IP] += prefixes("altflap")
    ann[CONTOSO_TUN if r % 2 == 0 else SECONDARY_IP] += prefixes("gre_alt")
    return ann, wd, sum(len(v) for v in ann.values()) + len(wd)


class Churn(threading.Thread):
    """Connects to the feed socket as peerfwd-exabgp would and writes rounds of updates
    until stopped or peerfwd goes away. Never closes the connection while peerfwd runs
    (that would withdraw the neighbor's routes)."""

    def __init__(self, path, proc):
        threading.Thread.__init__(self, daemon=True)
        self.path, self.proc = path, proc
        self.stop = threading.Event()
        self.rounds = 0
        self.routes = 0
        self.first_update = None
        self.error = None
        self.sock = None

    def run(self):
        deadline = time.monotonic() + 60
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            if self.stop.is_set() or self.proc.poll() is not None:
                self.error = "peerfwd ended before the feed socket could be connected"
                return
            try:
                s.connect(self.path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.error = "feed socket %s never accepted a connection" % self.path
                    return
                time.sleep(0.0005)
        self.sock = s
        counter = 1
        try:
            s.sendall(exa_line(counter, state="up"))
            while not self.stop.is_set() and self.proc.poll() is None:
                buf = []
                for _ in range(16):
                    ann, wd, n = churn_round(self.rounds)
                    counter += 1
                    buf.append(exa_line(counter, announce=ann, withdraw=wd))
                    self.rounds += 1
                    self.routes += n
                s.sendall(b"".join(buf))
                if self.first_update is None:
                    self.first_update = time.monotonic()
        except OSError:
            pass  # peerfwd closed the socket on exit

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass


# ---- raw frames -------------------------------------------------------------------------
def mac_b(m):
    return bytes(int(x, 16) for x in m.split(":"))


def mac_s(b):
    return ":".join("%02x" % x for x in b)


def ip_b(a):
    return socket.inet_aton(a)


def ip4_cksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(src, dst, proto, payload, ttl=64, ident=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xffff, 0, ttl,
                      proto, 0, ip_b(src), ip_b(dst))
    return hdr[:10] + struct.pack("!H", ip4_cksum(hdr)) + hdr[12:] + payload


def udp(payload, sport=4000, dport=5000):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload  # cksum 0: none


def marker(seq):
    return MARK + struct.pack("!I", seq) + b"\0" * 8


def eth(dst, src, etype, payload, tags=()):
    out = mac_b(dst) + mac_b(src)
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", etype) + payload


def gre(key, inner):
    return struct.pack("!HHI", 0x2000, 0x0800, key) + inner


class Traffic:
    """Input frames and what each sequence number is."""

    def __init__(self):
        self.edge, self.core = [], []
        self.meta = []  # seq -> (kind, set)

    def add(self, port, kind, setname, frame_fn):
        seq = len(self.meta)
        self.meta.append((kind, setname))
        (self.edge if port == "edge" else self.core).append(frame_fn(seq))


def build_traffic(n):
    t = Traffic()
    cloud_sets = ["stable", "flap", "alt", "altflap", "never"]
    cust_sets = ["gre_alt", "never"]
    for k in range(n):
        sel = k % 10
        if sel < 6:  # contoso's cloud -> contoso's routes
            s = cloud_sets[(k // 10 + sel) % len(cloud_sets)]
            dst = host(s, k // 7, k)
            t.add("core", "c_cloud", s, lambda q, dst=dst: eth(
                CORE_MAC, GW_MAC, 0x0800, ip4(CONTOSO_TUN, CORE_IP, 47, gre(
                    CONTOSO_KEY, ip4(VNET_HOST, dst, 17, udp(marker(q)), ttl=60, ident=q)))))
        elif sel < 8:  # contoso's router -> gre_alt / never
            s = cust_sets[(k // 10 + sel) % 2]
            dst = host(s, k // 7, k)
            t.add("edge", "c_cust", s, lambda q, dst=dst: eth(
                EDGE_MAC, CONTOSO_RTR_MAC, 0x0800,
                ip4(CONTOSO_ONPREM, dst, 17, udp(marker(q)), ttl=60, ident=q),
                tags=((0x8100, 555),)))
        elif sel == 8:  # fabrikam's cloud -> contoso's prefixes: never forwarded
            s = (cloud_sets + cust_sets)[k // 10 % 7]
            dst = host(s, k // 7, k)
            t.add("core", "f_cloud", s, lambda q, dst=dst: eth(
                CORE_MAC, GW_MAC, 0x0800, ip4(FABRIKAM_TUN, CORE_IP, 47, gre(
                    FABRIKAM_KEY, ip4(VNET_HOST, dst, 17, udp(marker(q)), ttl=60, ident=q)))))
        else:  # fabrikam's router: half to its VNet (control), half to contoso's prefixes
            if k // 10 % 2 == 0:
                s, dst = "f_vnet", VNET_HOST
            else:
                s = (cloud_sets + cust_sets)[k // 20 % 7]
                dst = host(s, k // 7, k)
            t.add("edge", "f_cust", s, lambda q, dst=dst: eth(
                EDGE_MAC, FABRIKAM_RTR_MAC, 0x0800,
                ip4(FABRIKAM_ONPREM, dst, 17, udp(marker(q)), ttl=60, ident=q),
                tags=((0x88a8, 100), (0x8100, 555))))
    return t


def write_raw_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(PCAP_HDR)
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)


def read_raw_pcap(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        out.append(data[off:off + incl])
        off += incl
    return out


def parse(frame):
    """Decode what the tests needs; None fields when absent."""
    d = {"dst": mac_s(frame[0:6]), "src": mac_s(frame[6:12]), "tags": [], "gre_key": None,
         "outer": None, "seq": None, "ttl": None, "inner_dst": None, "bad": None}
    off, etype = 14, struct.unpack_from("!H", frame, 12)[0]
    while etype in (0x8100, 0x88a8):
        tci = struct.unpack_from("!H", frame, off)[0]
        d["tags"].append((etype, tci & 0xfff))
        etype = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    if etype != 0x0800:
        d["bad"] = "ethertype 0x%04x" % etype
        return d
    ip = frame[off:]
    if ip4_cksum(ip[:20]) != 0:
        d["bad"] = "IPv4 header checksum"
        return d
    if ip[9] == 47:
        flags, proto = struct.unpack_from("!HH", ip, 20)
        d["outer"] = (socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]))
        if flags != 0x2000 or proto != 0x0800:
            d["bad"] = "GRE header %04x/%04x" % (flags, proto)
            return d
        d["gre_key"] = struct.unpack_from("!I", ip, 24)[0]
        ip = ip[28:]
        if ip4_cksum(ip[:20]) != 0:
            d["bad"] = "inner IPv4 header checksum"
            return d
    d["ttl"] = ip[8]
    d["inner_dst"] = socket.inet_ntoa(ip[16:20])
    if ip[9] == 17 and ip[28:32] == MARK:
        d["seq"] = struct.unpack_from("!I", ip, 32)[0]
    return d


# ---- the test ---------------------------------------------------------------------------
def peerfwd_exabgp_wired():
    try:
        src = (h.REPO / "control" / "main.c").read_text()
    except OSError:
        return False
    return "pf_exabgp_start" in src


def test_route_churn_under_traffic():
    if not peerfwd_exabgp_wired():
        raise Skip("control/main.c does not start the ExaBGP feed (pf_exabgp_start)")
    exe = h.peerfwd_path()
    if not os.access(str(exe), os.X_OK):
        raise Skip("peerfwd binary not found at %s (set PEERFWD)" % exe)
    n = int(os.environ.get("PF_CHURN_PACKETS", "300000"))
    d = h.out_root() / "churn"
    if d.exists():
        shutil.rmtree(str(d))
    d.mkdir(parents=True)
    sock_path = str(d / "exabgp.sock")
    if len(sock_path) > 100:
        import tempfile
        sock_path = os.path.join(tempfile.mkdtemp(prefix="pfchurn"), "exabgp.sock")

    cfg = h.base_config()
    cfg["neighbors"].append({"port": EDGE_PORT, "ip": SECONDARY_IP, "mac": SECONDARY_MAC})
    cfg["feeds"] = {"exabgp": {"socket": sock_path}}
    cfg_p = d / "config.json"
    with open(str(cfg_p), "w") as f:
        json.dump(cfg, f, indent=2)

    t = build_traffic(n)
    paths = {k: d / (k + ".pcap") for k in ("edge_in", "core_in", "edge_out", "core_out")}
    write_raw_pcap(paths["edge_in"], t.edge)
    write_raw_pcap(paths["core_in"], t.core)
    stats_p = d / "stats.json"
    cmd = [str(exe), "-l", "0,1", "--no-huge", "--no-shconf", "-m", "512", "--no-pci",
           "--log-level=*:warning",
           "--vdev", "%s,rx_pcap=%s,tx_pcap=%s" % (EDGE_PORT, paths["edge_in"], paths["edge_out"]),
           "--vdev", "%s,rx_pcap=%s,tx_pcap=%s" % (CORE_PORT, paths["core_in"], paths["core_out"]),
           "--", "--config", str(cfg_p), "--idle-exit", "500", "--stats-json", str(stats_p), "-q"]
    with open(str(d / "cmd.sh"), "w") as f:
        f.write("#!/bin/sh\n" + " ".join(cmd) + "\n")

    t0 = time.monotonic()
    with open(str(d / "stdout.txt"), "wb") as fo, open(str(d / "stderr.txt"), "wb") as fe:
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, cwd=str(d), start_new_session=True)
        churn = Churn(sock_path, proc)
        churn.start()
        try:
            rc = proc.wait(timeout=h.RUN_TIMEOUT + n / 5000.0)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError("peerfwd did not exit (run dir %s)" % d)
    t_end = time.monotonic()
    churn.stop.set()
    churn.join(10)
    churn.close()
    stderr = (d / "stderr.txt").read_text(errors="replace")
    require(rc == 0, "peerfwd exit code %s; stderr: %s" % (rc, stderr.strip().splitlines()[-5:]))
    require(churn.error is None, churn.error or "")
    require(churn.first_update is not None, "the churn thread never sent an update")
    with open(str(stats_p)) as f:
        st = json.load(f)
    h.check_stats_shape(st)
    h.check_no_leak(st)

    edge_out = read_raw_pcap(paths["edge_out"])
    core_out = read_raw_pcap(paths["core_out"])
    seen = {}
    wrong = []
    # per set: how often each outcome happened
    outcome = {}
    for port, frames in (("edge", edge_out), ("core", core_out)):
        for i, fr in enumerate(frames):
            p = parse(fr)
            where = "%s frame %d" % (port, i + 1)
            if p["bad"]:
                wrong.append("%s: %s" % (where, p["bad"]))
                continue
            if p["seq"] is None or p["seq"] >= len(t.meta):
                wrong.append("%s: not one of ours (dst %s, inner dst %s)" % (where, p["dst"], p["inner_dst"]))
                continue
            seq = p["seq"]
            if seq in seen:
                wrong.append("%s: packet %d forwarded twice" % (where, seq))
            seen[seq] = True
            kind, s = t.meta[seq]
            if p["ttl"] != 59:
                wrong.append("%s: packet %d TTL %s, expected 59" % (where, seq, p["ttl"]))
            if port == "edge":
                res = ("edge", p["dst"])
                if p["src"] != EDGE_MAC or p["tags"] != [(0x8100, 555)]:
                    wrong.append("%s: packet %d (%s %s) left with src %s tags %s, not contoso's "
                                 "VLAN 555" % (where, seq, kind, s, p["src"], p["tags"]))
            else:
                res = ("gre", p["gre_key"]) if p["gre_key"] is not None else ("core", p["dst"])
                if p["gre_key"] is not None:
                    want = {CONTOSO_KEY: (CORE_IP, CONTOSO_TUN), FABRIKAM_KEY: (CORE_IP, FABRIKAM_TUN)}
                    if p["outer"] != want.get(p["gre_key"]) or p["dst"] != GW_MAC or p["tags"]:
                        wrong.append("%s: packet %d GRE key %s outer %s to %s" % (
                            where, seq, p["gre_key"], p["outer"], p["dst"]))
            if kind in ("c_cloud", "c_cust"):
                ok = res in ALLOWED[s]
            elif kind == "f_cust" and s == "f_vnet":
                ok = res == ("gre", FABRIKAM_KEY)
            else:
                ok = False  # fabrikam traffic to contoso's prefixes: never forwarded
            if not ok:
                wrong.append("%s: packet %d (%s -> %s) became %s, allowed %s" % (
                    where, seq, kind, s, res, sorted(ALLOWED.get(s, [("gre", FABRIKAM_KEY)]))))
            outcome.setdefault((kind, s), {}).setdefault(res, 0)
            outcome[(kind, s)][res] += 1
    check(not wrong, "%d wrong frames, first ones:\n%s" % (len(wrong), "\n".join(wrong[:15])))

    # every input frame accounted for: forwarded exactly once or dropped for no route
    sent = {}
    for kind, s in t.meta:
        sent[(kind, s)] = sent.get((kind, s), 0) + 1
    fwd_total = len(seen)
    drops = {k: v for k, v in st["drops"].items() if v}
    eq(set(drops) - {"no_route"}, set(), "drop reasons other than no_route: %s" % drops)
    eq(fwd_total + drops.get("no_route", 0), len(t.meta), "forwarded + no_route = sent")
    eq(len(edge_out) + len(core_out), fwd_total, "output frames are all ours")
    for port, frames, inp in (("edge", edge_out, t.edge), ("core", core_out, t.core)):
        ps = st["ports"].get({"edge": EDGE_PORT, "core": CORE_PORT}[port], {})
        eq(ps.get("rx_packets"), len(inp), "%s rx_packets" % port)
        eq(ps.get("tx_packets"), len(frames), "%s tx_packets" % port)
    # the control flow never suffers from the churn
    eq(outcome.get(("f_cust", "f_vnet"), {}).get(("gre", FABRIKAM_KEY), 0),
       sent.get(("f_cust", "f_vnet"), 0), "fabrikam -> its VNet: every packet GRE key 2002")
    # the churn really overlapped the traffic: each alternative was taken
    for key, want in ((("c_cloud", "alt"), ALLOWED["alt"]), (("c_cloud", "altflap"), ALLOWED["altflap"]),
                      (("c_cust", "gre_alt"), ALLOWED["gre_alt"]), (("c_cloud", "flap"), ALLOWED["flap"])):
        got = set(outcome.get(key, {}))
        check(got == want, "%s: next hops used %s, expected all of %s (did the churn overlap "
              "the traffic? %d rounds)" % (key, sorted(got), sorted(want), churn.rounds))
    flap_fwd = sum(outcome.get(("c_cloud", "flap"), {}).values())
    check(0 < flap_fwd < sent[("c_cloud", "flap")],
          "flap: %d of %d forwarded (expected some, not all)" % (flap_fwd, sent[("c_cloud", "flap")]))
    # the applier took every update without complaint
    ap = st.get("applier")
    require(ap is not None, "no applier section in the stats")
    eq({k: v for k, v in ap["rejected"].items() if v}, {}, "applier rejections")
    check(ap["applied"] >= churn.rounds * 10 // 2, "applier applied %s for %d rounds sent" % (
        ap["applied"], churn.rounds))
    eq(ap["contexts"]["fabrikam-private"]["feed_routes4"], 0, "fabrikam got no feed routes")
    with open(str(d / "summary.json"), "w") as f:
        json.dump({"packets": len(t.meta), "forwarded": fwd_total, "rounds": churn.rounds,
                   "route_changes_sent": churn.routes, "applied": ap["applied"],
                   "seconds": t_end - t0,
                   "outcomes": {"%s/%s" % k: {"%s:%s" % r: c for r, c in v.items()}
                                for k, v in outcome.items()}}, f, indent=1)
