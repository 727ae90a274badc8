#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Full-table load benchmark of peerfwd's route feeds (FPM and ExaBGP), end to end.

usage: bench/feed_bench.py [--quick] [--v4 N] [--v6 N] [--feeds fpm,exabgp]
                           [--peerfwd PATH] [--peerctl PATH] [--out FILE] [--keep]

For each feed a fresh peerfwd is started (net_pcap vdevs with empty pcaps, --no-huge,
configs/exchange-provider.json plus the feed and a management socket), the table is sent
as fast as the socket takes it and `peerctl --json counters` is polled until every route is
installed in the core context's FIB. Reported: seconds from the first byte sent to the
poll that saw the last route installed, routes/s, peerfwd's VmRSS before and after.
See bench/FEEDS.md. Standard library only.
"""
import argparse
import ipaddress
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20261122

GW4 = "192.0.2.254"        # core gateway (configs/exchange-provider.json)
GW6 = "2001:db8:c0::fe"
LOCAL4 = "192.0.2.1"       # our core address: the BGP session's local end
CORE_TABLE = 254           # core_table_id (default), zebra's main table
CORE_OIF = 2               # ifindex zebra would give the core interface (not used by peerfwd)

# Internet-like IPv4 length mix (roughly the DFZ: /24 ~ 60 %), weights per length.
V4_MIX = {8: 0.00002, 9: 0.00002, 10: 0.00005, 11: 0.0001, 12: 0.0003, 13: 0.0006,
          14: 0.001, 15: 0.0018, 16: 0.0125, 17: 0.0085, 18: 0.0145, 19: 0.0265,
          20: 0.045, 21: 0.05, 22: 0.115, 23: 0.1185, 24: 0.60}
V6_MIX = {32: 0.14, 33: 0.01, 34: 0.01, 35: 0.005, 36: 0.03, 37: 0.005, 38: 0.01,
          39: 0.005, 40: 0.09, 41: 0.005, 42: 0.015, 43: 0.005, 44: 0.13, 45: 0.01,
          46: 0.03, 47: 0.03, 48: 0.47}

# No bogons, nothing of the documentation/benchmark ranges (the core subnet is 192.0.2/24).
V4_EXCLUDE = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
              "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16",
              "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3"]
V6_EXCLUDE = ["2001::/32", "2001:db8::/32", "2002::/16", "3fff::/20"]


def _ranges(lst, bits):
    out = []
    for p in lst:
        n = ipaddress.ip_network(p)
        lo = int(n.network_address)
        out.append((lo, lo + (1 << (bits - n.prefixlen)) - 1))
    return out


def _quotas(mix, n):
    tot = sum(mix.values())
    q = {ln: int(n * w / tot) for ln, w in mix.items()}
    top = max(mix, key=mix.get)
    q[top] += n - sum(q.values())
    return q


def gen_v4(n, rnd):
    """n distinct IPv4 prefixes (network int, length), sorted like a RIB walk."""
    excl = _ranges(V4_EXCLUDE, 32)
    out = []
    for ln, cnt in sorted(_quotas(V4_MIX, n).items()):
        seen = set()
        span = 1 << (32 - ln)
        while len(seen) < cnt:
            a = rnd.getrandbits(ln) << (32 - ln)
            if a in seen:
                continue
            hi = a + span - 1
            if any(a <= h and hi >= l for l, h in excl):
                continue
            seen.add(a)
        out.extend((a, ln) for a in seen)
    out.sort()
    return out


def gen_v6(n, rnd):
    """n distinct IPv6 prefixes under 2000::/3, /32../48."""
    excl = _ranges(V6_EXCLUDE, 128)
    out = []
    for ln, cnt in sorted(_quotas(V6_MIX, n).items()):
        seen = set()
        span = 1 << (128 - ln)
        while len(seen) < cnt:
            a = ((0b001 << (ln - 3)) | rnd.getrandbits(ln - 3)) << (128 - ln)
            if a in seen:
                continue
            hi = a + span - 1
            if any(a <= h and hi >= l for l, h in excl):
                continue
            seen.add(a)
        out.extend((a, ln) for a in seen)
    out.sort()
    return out


# ---- FPM (zebra dplane_fpm_nl) ----
RTM_NEWROUTE = 24
NLM_F = 0x0501            # REQUEST | REPLACE | CREATE, as in tests/fixtures/fpm/dump.bin
NL_PID = 0xe9923d78       # zebra's netlink pid in the recorded fixture
RTPROT_BGP = 186
RTN_UNICAST = 1
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
BGP_METRIC = 20


def fpm_stream(v4, v6, rta_table=False):
    """One FPM message (version 1, type netlink) per route, laid out exactly like the
    recorded zebra 8.4 messages: nlmsghdr, rtmsg, RTA_DST, RTA_PRIORITY, RTA_GATEWAY,
    RTA_OIF. zebra puts the table in rtm_table when it is < 256 (254 here) and adds
    RTA_TABLE only above that; rta_table=True adds it anyway."""
    parts = []
    gw4 = socket.inet_pton(socket.AF_INET, GW4)
    gw6 = socket.inet_pton(socket.AF_INET6, GW6)
    for fam, routes, alen, gw in ((socket.AF_INET, v4, 4, gw4), (socket.AF_INET6, v6, 16, gw6)):
        tail = struct.pack("=HHI", 8, RTA_PRIORITY, BGP_METRIC) + \
            struct.pack("=HH", 4 + alen, RTA_GATEWAY) + gw + \
            struct.pack("=HHI", 8, RTA_OIF, CORE_OIF)
        if rta_table:
            tail += struct.pack("=HHI", 8, RTA_TABLE, CORE_TABLE)
        nlen = 16 + 12 + 4 + alen + len(tail)
        head = struct.pack("!BBH", 1, 1, nlen + 4) + \
            struct.pack("=IHHII", nlen, RTM_NEWROUTE, NLM_F, 0, NL_PID)
        dst_hdr = struct.pack("=HH", 4 + alen, RTA_DST)
        for a, ln in routes:
            rtm = struct.pack("=BBBBBBBBI", fam, ln, 0, 0, CORE_TABLE, RTPROT_BGP, 0,
                              RTN_UNICAST, 0)
            parts.append(head + rtm + dst_hdr + a.to_bytes(alen, "big") + tail)
    return b"".join(parts)


# ---- ExaBGP 4.2 encoder json ----
def exabgp_lines(v4, v6, per4, per6):
    t0 = 1795320873.0
    hdr = '{ "exabgp": "4.0.1", "time": %.7f, "host" : "bench", "pid" : 4242, "ppid" : 4241, ' \
          '"counter": %d, "type": "%s", "neighbor": { "address": { "local": "' + LOCAL4 + \
          '", "peer": "' + GW4 + '" }, "asn": { "local": 12076, "peer": 8075 } , '
    lines = []
    cnt = [0]

    def h(typ):
        cnt[0] += 1
        return hdr % (t0 + cnt[0] * 1e-4, cnt[0], typ)

    lines.append(h("state") + '"state": "connected" } }')
    lines.append(h("state") + '"state": "up" } }')
    attr = '"attribute": { "origin": "igp", "as-path": [ 8075, 3356, 174 ], ' \
           '"confederation-path": [], "med": 0 }'
    for fam, routes, per, gw, v in (("ipv4 unicast", v4, per4, GW4, 4),
                                    ("ipv6 unicast", v6, per6, GW6, 6)):
        strs = [("%s/%d" % (ipaddress.IPv4Address(a) if v == 4 else ipaddress.IPv6Address(a), ln))
                for a, ln in routes]
        for i in range(0, len(strs), per):
            nl = ", ".join('{ "nlri": "%s" }' % s for s in strs[i:i + per])
            lines.append(h("update") + '"direction": "receive", "message": { "update": { ' +
                         attr + ', "announce": { "%s": { "%s": [ %s ] } } } } } }' % (fam, gw, nl))
    for afi in ("ipv4", "ipv6"):
        lines.append(h("update") + '"direction": "receive", "message": { "eor": { "afi" : "%s", '
                     '"safi" : "unicast" } } } }' % afi)
    return ("\n".join(lines) + "\n").encode()


# ---- peerfwd ----
def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def threads(pid):
    """{thread name: [allowed CPUs, CPU seconds]} of a process."""
    out = {}
    tck = os.sysconf("SC_CLK_TCK")
    try:
        for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
            base = "/proc/%d/task/%s/" % (pid, tid)
            name = open(base + "comm").read().strip()
            cpus = [l.split(":", 1)[1].strip() for l in open(base + "status")
                    if l.startswith("Cpus_allowed_list:")][0]
            st = open(base + "stat").read().rsplit(")", 1)[1].split()
            out["%s/%s" % (name, tid)] = [cpus, round((int(st[11]) + int(st[12])) / tck, 2)]
    except (OSError, IndexError, ValueError):
        pass
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Peerfwd:
    def __init__(self, args, work, feed):
        self.args, self.work, self.feed = args, work, feed
        self.sock = os.path.join(work, "mgmt.sock")
        cfg = json.load(open(os.path.join(ROOT, "configs", "exchange-provider.json")))
        cfg["management"] = {"socket": self.sock}
        if feed == "fpm":
            self.port = free_port()
            cfg["feeds"] = {"fpm": {"listen": "127.0.0.1:%d" % self.port}}
        else:
            self.exa_sock = os.path.join(work, "exabgp.sock")
            cfg["feeds"] = {"exabgp": {"socket": self.exa_sock}}
        cfgp = os.path.join(work, "config-%s.json" % feed)
        json.dump(cfg, open(cfgp, "w"), indent=1)
        pcaps = {}
        for tag in ("edge", "core"):
            pcaps[tag] = os.path.join(work, "%s_in.pcap" % tag)
            with open(pcaps[tag], "wb") as f:   # empty pcap: global header only
                f.write(struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.cmd = [args.peerfwd, "--no-huge", "--no-shconf", "-m", "1024", "-l", "0,1",
                    "--no-pci", "--file-prefix", "pffeedb%d" % os.getpid(),
                    "--log-level=*:warning",
                    "--vdev", "net_pcap_edge,rx_pcap=%s,tx_pcap=%s" %
                    (pcaps["edge"], os.path.join(work, "edge_out.pcap")),
                    "--vdev", "net_pcap_core,rx_pcap=%s,tx_pcap=%s" %
                    (pcaps["core"], os.path.join(work, "core_out.pcap")),
                    "--", "--config", cfgp, "--duration", str(args.duration),
                    "--stats-json", os.path.join(work, "stats-%s.json" % feed)]
        self.errp = os.path.join(work, "peerfwd-%s.stderr" % feed)
        self.fe = open(self.errp, "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.fe, stderr=self.fe, cwd=work,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("peerfwd exited (rc %s) at start: %s" %
                                   (self.proc.returncode, self.stderr_tail()))
            if os.path.exists(self.sock) and self.counters(quiet=True) is not None:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("peerfwd's management socket did not answer in 60 s")
            time.sleep(0.1)

    def stderr_tail(self, n=8):
        try:
            return " | ".join(open(self.errp, errors="replace").read().strip().splitlines()[-n:])
        except OSError:
            return ""

    def peerctl(self, *cmd, quiet=False):
        r = subprocess.run([self.args.peerctl, "--socket", self.sock, "--json", "--timeout", "30"]
                           + list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            if not quiet:
                sys.stderr.write("peerctl %s: rc %d %s\n" % (" ".join(cmd), r.returncode,
                                                              r.stderr.decode(errors="replace")))
            return None
        return json.loads(r.stdout)

    def counters(self, quiet=False):
        return self.peerctl("counters", quiet=quiet)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.fe.close()


def installed(c, base):
    a = c.get("applier", {})
    fib = a.get("fib", {})
    core = a.get("contexts", {}).get("core", {})
    return (fib.get("routes4", 0) - base[0], fib.get("routes6", 0) - base[1],
            core.get("feed_routes4", 0), core.get("feed_routes6", 0))


def run_feed(args, work, feed, v4, v6, payload):
    n4, n6 = len(v4), len(v6)
    pf = Peerfwd(args, work, feed)
    res = {"feed": feed, "routes4": n4, "routes6": n6, "bytes": len(payload)}
    try:
        c0 = pf.counters()
        fib0 = c0["applier"]["fib"]
        base = (fib0["routes4"], fib0["routes6"])
        res["rss_before_kib"] = rss_kib(pf.proc.pid)
        res["fib_bytes_before"] = fib0.get("bytes")
        if feed == "fpm":
            s = socket.create_connection(("127.0.0.1", pf.port))
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(pf.exa_sock)
        sent = {}

        def sender():
            mv = memoryview(payload)
            sent["t0"] = time.monotonic()
            for i in range(0, len(mv), 1 << 20):
                s.sendall(mv[i:i + (1 << 20)])
            sent["t1"] = time.monotonic()

        th = threading.Thread(target=sender, daemon=True)
        th.start()
        last, last_change, polls, done, trace = None, time.monotonic(), 0, False, []
        thr0 = threads(pf.proc.pid)
        while True:
            time.sleep(args.poll)
            c = pf.counters()
            now = time.monotonic()
            polls += 1
            if pf.proc.poll() is not None:
                raise RuntimeError("peerfwd exited (rc %s) during the load: %s" %
                                   (pf.proc.returncode, pf.stderr_tail()))
            if c is None:
                continue
            cur = installed(c, base)
            trace.append((round(now - sent.get("t0", now), 3), cur[0], cur[1]))
            if cur != last:
                last, last_change = cur, now
            if cur[0] >= n4 and cur[1] >= n6 and cur[2] >= n4 and cur[3] >= n6:
                done = True
                break
            if now - last_change > args.stall:
                break
        th.join(timeout=5)
        t0 = sent.get("t0", now)
        res.update({
            "complete": done,
            "installed4": last[0] if last else 0, "installed6": last[1] if last else 0,
            "seconds": round(now - t0, 3),
            "send_seconds": round(sent["t1"] - t0, 3) if "t1" in sent else None,
            "routes_per_s": int((n4 + n6) / (now - t0)) if done else None,
            "poll_interval_s": args.poll, "polls": polls,
            "rss_after_kib": rss_kib(pf.proc.pid),
        })
        a = c["applier"] if c else {}
        res["fib_bytes_after"] = a.get("fib", {}).get("bytes")
        res["rib_bytes_after"] = a.get("rib_bytes")
        res["ring_high_water"] = a.get("ring_high_water")
        res["applied"] = a.get("applied")
        res["rejected"] = {k: v for k, v in a.get("rejected", {}).items() if v}
        thr1 = threads(pf.proc.pid)
        res["threads"] = {k: {"cpus": v[0], "cpu_s_during_load": round(v[1] - thr0.get(k, [0, 0])[1], 2)}
                          for k, v in thr1.items()}
        res["trace"] = trace[::max(1, len(trace) // 50)] + trace[-1:]
        fd = pf.peerctl("feeds", quiet=True)
        res["feeds"] = fd
        if not done:
            res["error"] = "no progress for %.0f s: %s installed of %d/%d" % (
                args.stall, last, n4, n6)
        s.close()
    finally:
        pf.stop()
        res["peerfwd_stderr_tail"] = pf.stderr_tail(5)
    return res


def fmt_kib(k):
    return "-" if k is None else "%.0f MiB" % (k / 1024)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k IPv4 + 2k IPv6 (CI smoke)")
    ap.add_argument("--v4", type=int, default=None, help="IPv4 prefixes (default 1000000)")
    ap.add_argument("--v6", type=int, default=None, help="IPv6 prefixes (default 200000)")
    ap.add_argument("--feeds", default="fpm,exabgp")
    ap.add_argument("--per-update4", type=int, default=1000,
                    help="IPv4 NLRIs per ExaBGP update line (a full 4 KiB BGP UPDATE of /24s)")
    ap.add_argument("--per-update6", type=int, default=500,
                    help="IPv6 NLRIs per ExaBGP update line")
    ap.add_argument("--fpm-rta-table", action="store_true",
                    help="add RTA_TABLE to every FPM route (zebra does not for table < 256)")
    ap.add_argument("--peerfwd", default=os.path.join(ROOT, "build/control/peerfwd"))
    ap.add_argument("--peerctl", default=os.path.join(ROOT, "build/control/peerctl"))
    ap.add_argument("--duration", type=int, default=600, help="peerfwd --duration")
    ap.add_argument("--poll", type=float, default=0.02, help="counters poll interval, s")
    ap.add_argument("--stall", type=float, default=60, help="give up after S s without progress")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/out/feeds.json"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (streams)")
    args = ap.parse_args()
    n4 = args.v4 if args.v4 is not None else (10000 if args.quick else 1000000)
    n6 = args.v6 if args.v6 is not None else (2000 if args.quick else 200000)
    feeds = [f for f in args.feeds.split(",") if f]

    rnd = random.Random(SEED)
    t = time.monotonic()
    v4, v6 = gen_v4(n4, rnd), gen_v6(n6, rnd)
    gen_s = time.monotonic() - t
    work = tempfile.mkdtemp(prefix="pffeedb.")
    results = {"routes4": n4, "routes6": n6, "seed": SEED, "generate_s": round(gen_s, 2),
               "v4_lengths": {}, "v6_lengths": {}, "host": os.uname().nodename,
               "cpus": os.cpu_count(), "loadavg_before": os.getloadavg(),
               "peerfwd": args.peerfwd, "runs": []}
    for _, ln in v4:
        results["v4_lengths"][ln] = results["v4_lengths"].get(ln, 0) + 1
    for _, ln in v6:
        results["v6_lengths"][ln] = results["v6_lengths"].get(ln, 0) + 1
    rc = 0
    try:
        for feed in feeds:
            t = time.monotonic()
            if feed == "fpm":
                payload = fpm_stream(v4, v6, args.fpm_rta_table)
                path = os.path.join(work, "table.fpm")
            elif feed == "exabgp":
                payload = exabgp_lines(v4, v6, args.per_update4, args.per_update6)
                path = os.path.join(work, "table.jsonl")
            else:
                sys.exit("unknown feed %r" % feed)
            with open(path, "wb") as f:
                f.write(payload)
            enc_s = time.monotonic() - t
            sys.stderr.write("%s: %d bytes encoded in %.1f s (%s), loading...\n" %
                             (feed, len(payload), enc_s, path))
            try:
                r = run_feed(args, work, feed, v4, v6, payload)
            except RuntimeError as e:
                r = {"feed": feed, "complete": False, "error": str(e)}
            r["encode_s"] = round(enc_s, 2)
            r["stream_file"] = path if args.keep else None
            results["runs"].append(r)
            if not r.get("complete"):
                rc = 1
            del payload
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["loadavg_after"] = os.getloadavg()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)

    print("## peerfwd feed load: %d IPv4 + %d IPv6 routes\n" % (n4, n6))
    print("| feed | bytes | send s | load s | routes/s | RSS before | RSS after | ring hwm "
          "| CPU s control / feed thread (CPUs) | result |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in results["runs"]:
        ok = "ok" if r.get("complete") else "FAIL: " + r.get("error", "")
        if r["feed"] == "fpm" and r.get("complete") and n4 >= 1000000 and n6 >= 200000:
            ok += " (target 2 s: %s)" % ("met" if r["seconds"] <= 2.0 else "missed")
        thr = r.get("threads", {})
        ctl = [v for k, v in thr.items() if k.startswith("peerfwd/")]
        fth = [v for k, v in thr.items() if k.startswith("pf-")]
        cpu = "-" if not ctl or not fth else "%.2f (%s) / %.2f (%s)" % (
            ctl[0]["cpu_s_during_load"], ctl[0]["cpus"], fth[0]["cpu_s_during_load"], fth[0]["cpus"])
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["feed"], r.get("bytes", "-"), r.get("send_seconds", "-"), r.get("seconds", "-"),
            r.get("routes_per_s") or "-", fmt_kib(r.get("rss_before_kib")),
            fmt_kib(r.get("rss_after_kib")), r.get("ring_high_water", "-"), cpu, ok))
        if r.get("rejected"):
            print("\n%s rejected: %s" % (r["feed"], r["rejected"]))
    print("\nload s = first byte sent -> poll that saw the last route in the FIB "
          "(poll every %.0f ms); JSON: %s" % (args.poll * 1000, args.out))
    return rc


if __name__ == "__main__":
    sys.exit(main())
