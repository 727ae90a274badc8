#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Forwarding during route churn: peerfwd forwards encap 64 B frames with a large static
table while a feed pushes route updates into the same context (bench/README.md,
"Churn while forwarding").

One peerfwd process per repetition, measured in phases (each a telemetry window like
pfbench.py's: Δopackets of the null port / Δt, CPU share of the forwarding thread):

  baseline      no updates
  churn R       the ExaBGP feed socket receives updates at a paced target rate R (updates =
                NLRIs announced or withdrawn per second), for every R of --rates
  after         no updates again (drift check; the ratio uses the mean of both baselines)

The updates, from the private context's BGP neighbor (172.16.1.1), all with the customer's
GRE tunnel (198.51.100.1) as next hop, i.e. the very next hop of the static routes:
  * 90 %: announcements and withdrawals of prefixes that contain none of the traffic's
    destinations (a sliding window of at most --live announced prefixes);
  * 10 %: announcements and withdrawals of more-specifics (/25../29) of the static routes
    *containing* a traffic destination, so the FIB entries the traffic hits are rewritten
    while it flows; the next hop stays the same, so forwarding must stay exact.
Measured: Mpps (and per CPU-second) in each phase and their ratio to the baseline, the
rate the feed achieved and the rate peerfwd's applier actually applied (its
/peerfwd/applier telemetry counter over the window), and every drop by reason
(/peerfwd/drops): a no_route (or any) drop during churn is a failure.

The bench process (feed writer included) is pinned to the CPUs the forwarding lcore does
not use, which peerfwd's control thread and feed thread use too.

Usage: churn_bench.py --out DIR --peerfwd BIN [--quick] [--reps N] [--rates 10000,100000]
Writes DIR/churn.json; bench/report.py adds its table to RESULTS.md.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pfbench as pb  # noqa: E402
import gen_config  # noqa: E402

PEER = "172.16.1.1"          # the private context's customer router (primary link)
LOCAL = "172.16.1.2"
TUNNEL = "198.51.100.1"      # the customer's GRE tunnel: the static routes' next hop
PER_LINE = 50                # NLRIs per ExaBGP update line
COVER_EVERY = 10             # every 10th update is a covering more-specific
FWD_CPU = 1                  # peerfwd -l 0,1: lcore 1 forwards

FULL = {"table": ("100k", 100000), "flows": 4104, "reps": 3, "warmup": 1.0, "window": 3.0,
        "churn_warmup": 1.0, "pool": 60000, "live": 20000}
QUICK = {"table": ("5k", 5000), "flows": 1032, "reps": 1, "warmup": 0.5, "window": 1.5,
         "churn_warmup": 0.5, "pool": 8000, "live": 3000}


def log(msg):
    pb.log("churn: " + msg)


# ---------------------------------------------------------------- updates

def pcap_dsts(path):
    """IPv4 destinations of the (802.1Q-tagged) frames of a pcap."""
    out = []
    with open(path, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            n = struct.unpack("<IIII", h)[2]
            fr = f.read(n)
            off = 18 if fr[12:14] == b"\x81\x00" else 14
            out.append(struct.unpack("!I", fr[off + 16:off + 20])[0])
    return out


def ip_s(x):
    return socket.inet_ntoa(struct.pack("!I", x))


def routes_of(path):
    out = []
    with open(path) as f:
        for line in f:
            a, ln = line.strip().split("/")
            out.append((struct.unpack("!I", socket.inet_aton(a))[0], int(ln)))
    return out


def make_prefixes(dsts, routes, n_pool, rnd):
    """(pool of prefixes containing no destination, covering more-specifics)."""
    by_len = {ln: {d >> (32 - ln) for d in dsts} for ln in range(1, 33)}

    def covers(net, ln):
        return (net >> (32 - ln)) in by_len[ln]

    def allowed(net, ln):
        a = net >> 24
        # not the benchmark's own or special ranges (peering subnets, tunnel, core)
        return 1 <= a <= 223 and a not in (10, 127, 172, 192, 198, 100, 169)

    pool, seen = [], set()
    lens = [24] * 6 + [22, 23, 20, 21, 16, 19, 25, 28]
    while len(pool) < n_pool:
        ln = rnd.choice(lens)
        net = rnd.getrandbits(32) & ~((1 << (32 - ln)) - 1) & 0xffffffff
        if (net, ln) in seen or not allowed(net, ln) or covers(net, ln):
            continue
        seen.add((net, ln))
        pool.append("%s/%d" % (ip_s(net), ln))
    # one more-specific per destination whose static route is shorter than /25
    rt = {}
    for net, ln in routes:
        rt.setdefault(ln, set()).add(net >> (32 - ln) if ln else 0)
    cover = []
    for d in dsts:
        best = max((ln for ln in rt if ln and (d >> (32 - ln)) in rt[ln]), default=None)
        if best is None or best >= 25:
            continue
        ln = rnd.randint(25, 29)
        cover.append("%s/%d" % (ip_s(d & ~((1 << (32 - ln)) - 1) & 0xffffffff), ln))
    return pool, sorted(set(cover))


class Ops:
    """The endless update sequence: ('a'|'w', prefix)."""

    def __init__(self, pool, cover, live):
        self.pool, self.cover, self.live = pool, cover, live
        self.i = self.j = 0
        self.fifo = []
        self.cover_on = set()

    def __iter__(self):
        return self

    def __next__(self):
        k = self.i + self.j
        if self.cover and k % COVER_EVERY == COVER_EVERY - 1:
            p = self.cover[self.j % len(self.cover)]
            self.j += 1
            if p in self.cover_on:
                self.cover_on.discard(p)
                return ("w", p)
            self.cover_on.add(p)
            return ("a", p)
        if len(self.fifo) >= self.live:
            return ("w", self.fifo.pop(0))
        p = self.pool[self.i % len(self.pool)]
        self.i += 1
        self.fifo.append(p)
        return ("a", p)


def exa_line(counter, ops):
    ann = [p for k, p in ops if k == "a"]
    wd = [p for k, p in ops if k == "w"]
    upd = '"attribute": { "origin": "igp", "as-path": [ 65520 ], "confederation-path": [] }'
    if ann:
        upd += ', "announce": { "ipv4 unicast": { "%s": [ %s ] } }' % (
            TUNNEL, ", ".join('{ "nlri": "%s" }' % p for p in ann))
    if wd:
        upd += ', "withdraw": { "ipv4 unicast": [ %s ] }' % (
            ", ".join('{ "nlri": "%s" }' % p for p in wd))
    return ('{ "exabgp": "4.0.1", "time": %.3f, "host": "churn", "pid": 1, "ppid": 1, '
            '"counter": %d, "type": "update", "neighbor": { "address": { "local": "%s", '
            '"peer": "%s" }, "asn": { "local": 12076, "peer": 65520 }, "direction": '
            '"receive", "message": { "update": { %s } } } }\n'
            % (time.time(), counter, LOCAL, PEER, upd)).encode()


def state_line(counter, state):
    return ('{ "exabgp": "4.0.1", "time": %.3f, "host": "churn", "pid": 1, "ppid": 1, '
            '"counter": %d, "type": "state", "neighbor": { "address": { "local": "%s", '
            '"peer": "%s" }, "asn": { "local": 12076, "peer": 65520 }, "state": "%s" } }\n'
            % (time.time(), counter, LOCAL, PEER, state)).encode()


class Feeder(threading.Thread):
    """Writes update lines at a paced rate (updates/s; 0 = pause) as peerfwd-exabgp would.
    Lines are generated ahead in a buffer so that pacing costs little CPU."""

    def __init__(self, path, ops):
        threading.Thread.__init__(self, daemon=True)
        self.path, self.ops = path, ops
        self.rate = 0.0
        self.sent = 0                # updates written
        self.stop = threading.Event()
        self.error = None
        self.counter = 0
        self.lock = threading.Lock()
        self.t_rate = time.monotonic()
        self.base = 0

    def set_rate(self, r):
        with self.lock:
            self.rate = float(r)
            self.t_rate = time.monotonic()
            self.base = self.sent

    def run(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 30
        while True:
            try:
                s.connect(self.path)
                break
            except OSError:
                if time.monotonic() > deadline or self.stop.is_set():
                    self.error = "feed socket %s never accepted" % self.path
                    return
                time.sleep(0.01)
        try:
            self.counter += 1
            s.sendall(state_line(self.counter, "connected"))
            self.counter += 1
            s.sendall(state_line(self.counter, "up"))
            ahead = []
            while not self.stop.is_set():
                with self.lock:
                    due = self.base + self.rate * (time.monotonic() - self.t_rate) - self.sent
                if due < PER_LINE:
                    time.sleep(0.001)
                    continue
                n_lines = int(due // PER_LINE)
                buf = []
                for _ in range(min(n_lines, 200)):
                    while len(ahead) < PER_LINE:
                        ahead.append(next(self.ops))
                    self.counter += 1
                    buf.append(exa_line(self.counter, ahead[:PER_LINE]))
                    del ahead[:PER_LINE]
                s.sendall(b"".join(buf))      # blocks when peerfwd applies slower
                self.sent += len(buf) * PER_LINE
        except OSError as e:
            if not self.stop.is_set():
                self.error = "feed socket: %s" % e
        finally:
            # keep the connection until peerfwd exits: closing would withdraw the routes
            self.sock = s


# ---------------------------------------------------------------- measurement

def q(tele, cmd):
    return tele.q(cmd)[cmd.split(",")[0]]


def threads_ns(pid):
    """{thread name: on-CPU ns} of every thread of pid."""
    out = {}
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                name = f.read().strip()
            ns = pb.sched_run_ns(pid, int(t))
            if ns is not None:
                out[name] = out.get(name, 0) + ns
    except OSError:
        pass
    return out


def cpu_busy_ns(cpu):
    """Nanoseconds CPU cpu was busy (not idle/iowait), from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % cpu):
                v = [int(x) for x in line.split()[1:]]
                return (sum(v[:8]) - v[3] - v[4]) * 1e9 / os.sysconf("SC_CLK_TCK")
    return None


def window(tele, out_id, pid, tid, secs, feeder):
    """One measured phase: Mpps, CPU share, drops and applier deltas."""
    def sample():
        t0 = time.monotonic()
        o = tele.stats(out_id)["opackets"]
        t1 = time.monotonic()
        return ((t0 + t1) / 2, o, pb.sched_run_ns(pid, tid) if tid else None,
                q(tele, "/peerfwd/drops,all"), q(tele, "/peerfwd/applier"), feeder.sent,
                threads_ns(pid), cpu_busy_ns(FWD_CPU), os.times())
    a = sample()
    time.sleep(secs)
    b = sample()
    dt = b[0] - a[0]
    r = {"window_s": round(dt, 3), "pkts": b[1] - a[1], "mpps": (b[1] - a[1]) / dt / 1e6,
         "drops": pb.drops_delta(a[3], b[3]) or {},
         "applied": b[4]["applied"] - a[4]["applied"],
         "rejected": b[4]["rejected"] - a[4]["rejected"],
         "ring_high_water": b[4]["ring_high_water"],
         "fib_routes4": b[4]["fib_routes4"],
         "sent_updates": b[5] - a[5]}
    # where the CPU time went: peerfwd's threads, the harness (feed writer), and what else
    # ran on the forwarding CPU (other processes of a shared machine)
    r["threads_cpu_s"] = {k: round((b[6][k] - a[6].get(k, 0)) / 1e9, 3) for k in b[6]
                          if b[6][k] - a[6].get(k, 0) > 1e6}
    r["harness_cpu_s"] = round(sum(b[8][:2]) - sum(a[8][:2]), 3)
    if a[7] is not None and a[2] is not None and b[2] is not None:
        r["fwd_cpu_others_s"] = round((b[7] - a[7] - (b[2] - a[2])) / 1e9, 3)
    r["applied_per_s"] = r["applied"] / dt
    r["sent_per_s"] = r["sent_updates"] / dt
    if a[2] is not None and b[2] is not None and b[2] > a[2]:
        r["cpu_share"] = (b[2] - a[2]) / 1e9 / dt
        r["mpps_per_cpu_s"] = r["pkts"] / ((b[2] - a[2]) / 1e9) / 1e6
    return r


def run_once(a, prof, cfg, pcap, mem, rates, logdir, rep, ops, sock_path):
    prefix = pb.prefix_new()
    rundir = "/var/run/dpdk/" + prefix
    shutil.rmtree(rundir, ignore_errors=True)
    sj = os.path.join(logdir, "churn.rep%d.stats.json" % rep)
    cmd = pb.peerfwd_cmd(a, prefix, mem.eal(), pcap, cfg, 600, sj)
    log_path = os.path.join(logdir, "churn.rep%d.log" % rep)
    res = {"rep": rep, "ok": False, "cmd": " ".join(cmd), "phases": [],
           "load_before": os.getloadavg()[0]}
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    t_start = time.monotonic()
    with open(log_path, "wb") as lf:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                             start_new_session=True)
    pb.LIVE.add(p.pid)
    tele = pb.Telemetry(prefix)
    feeder = Feeder(sock_path, ops)
    try:
        deadline = t_start + 300
        while True:
            if p.poll() is not None:
                raise RuntimeError("exited with %s before forwarding" % p.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError("no telemetry/packets within 300 s")
            try:
                if tele.s is None:
                    tele.connect()
                    ports = tele.ports()
                    out_id = ports[pb.NULL_DEV]
                if tele.stats(out_id)["opackets"] > 0:
                    break
            except (OSError, KeyError, ValueError):
                tele.close()
            time.sleep(0.05)
        res["startup_s"] = round(time.monotonic() - t_start, 2)
        tid = pb.fwd_tid(p.pid, "peerfwd")
        feeder.start()
        time.sleep(prof["warmup"])
        if feeder.error:
            raise RuntimeError(feeder.error)
        plan = [("baseline", 0)] + [("churn", r) for r in rates] + [("after", 0)]
        for name, rate in plan:
            feeder.set_rate(rate)
            time.sleep(prof["churn_warmup"] if rate else 0.5)
            w = window(tele, out_id, p.pid, tid, prof["window"], feeder)
            w.update({"phase": name, "target_per_s": rate})
            res["phases"].append(w)
            log("rep %d %-8s %7s/s target: %6.3f Mpps, applied %8.0f/s, drops %s"
                % (rep + 1, name, rate, w["mpps"], w["applied_per_s"], w["drops"] or "none"))
            if p.poll() is not None:
                raise RuntimeError("peerfwd exited during %s" % name)
        feeder.set_rate(0)
        if feeder.error:
            raise RuntimeError(feeder.error)
        tele.close()
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)
        res["exit"] = p.returncode
        with open(sj) as f:
            st = json.load(f)
        res["final_drops"] = {k: v for k, v in st["drops"].items() if v}
        res["final_applier"] = {k: st["applier"][k] for k in ("applied", "dequeued",
                                                               "ring_high_water", "rejected")}
        res["ok"] = p.returncode == 0
    except (RuntimeError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
        try:
            res["log_tail"] = open(log_path, errors="replace").read()[-1500:]
        except OSError:
            pass
    finally:
        feeder.stop.set()
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
        pb.LIVE.discard(p.pid)
        tele.close()
        shutil.rmtree(rundir, ignore_errors=True)
    res["wall_s"] = round(time.monotonic() - t_start, 2)
    return res


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def summarize(runs, rates):
    rows = []
    ok = [r for r in runs if r.get("ok")]
    for rate in rates:
        per = []
        for r in ok:
            ph = {(x["phase"], x["target_per_s"]): x for x in r["phases"]}
            c, b0, b1 = ph.get(("churn", rate)), ph.get(("baseline", 0)), ph.get(("after", 0))
            if not (c and b0 and b1):
                continue
            base = (b0["mpps"] + b1["mpps"]) / 2
            bcpu = [x.get("mpps_per_cpu_s") for x in (b0, b1)]
            per.append({"mpps": c["mpps"], "base_mpps": base, "ratio": c["mpps"] / base,
                        "ratio_cpu": (c["mpps_per_cpu_s"] / (sum(bcpu) / 2)
                                      if c.get("mpps_per_cpu_s") and all(bcpu) else None),
                        "applied_per_s": c["applied_per_s"], "sent_per_s": c["sent_per_s"],
                        "drops": c["drops"], "rejected": c["rejected"],
                        "cpu_share": c.get("cpu_share"),
                        "others": (c["fwd_cpu_others_s"] / c["window_s"]
                                   if c.get("fwd_cpu_others_s") is not None else None)})
        if not per:
            continue
        rows.append({
            "target_per_s": rate, "reps": len(per),
            "mpps": median(x["mpps"] for x in per),
            "baseline_mpps": median(x["base_mpps"] for x in per),
            "ratio": median(x["ratio"] for x in per),
            "ratio_min": min(x["ratio"] for x in per), "ratio_max": max(x["ratio"] for x in per),
            "ratio_per_cpu_s": median(x["ratio_cpu"] for x in per),
            "applied_per_s": median(x["applied_per_s"] for x in per),
            "applied_per_s_min": min(x["applied_per_s"] for x in per),
            "sent_per_s": median(x["sent_per_s"] for x in per),
            "cpu_share": median(x["cpu_share"] for x in per),
            # share of the forwarding CPU used by other processes (shared machine)
            "fwd_cpu_others_share": median(x["others"] for x in per),
            "drops": {k: sum(x["drops"].get(k, 0) for x in per)
                      for k in sorted({k for x in per for k in x["drops"]})},
            "rejected": sum(x["rejected"] for x in per)})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--peerfwd", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--window", type=float)
    ap.add_argument("--rates", default="10000,100000",
                    help="target update rates (updates/s), comma-separated")
    ap.add_argument("--mem", choices=("auto", "huge", "nohuge"), default="auto")
    a = ap.parse_args()
    a.out = os.path.abspath(a.out)
    prof = dict(QUICK if a.quick else FULL)
    if a.reps:
        prof["reps"] = a.reps
    if a.window:
        prof["window"] = a.window
    rates = [int(x) for x in a.rates.split(",") if x]
    logdir = os.path.join(a.out, "logs")
    os.makedirs(logdir, exist_ok=True)
    t0 = time.monotonic()
    # the feed writer and the harness stay off the forwarding lcore's CPU
    others = set(os.sched_getaffinity(0)) - {FWD_CPU}
    if others:
        os.sched_setaffinity(0, others)
    # inputs: pfbench's table and encap 64 B traffic (cached under OUT/data)
    tname, count = prof["table"]
    data = pb.Data(a.out, {"flows": prof["flows"]}, a.peerfwd)
    t = data.table(tname, 4, count)
    tr = data.traffic("encap", tname, "64")
    sock_path = os.path.join(a.out, "churn_exabgp.sock")
    cfg = os.path.join(data.dir, "peerfwd_churn_%s.json" % tname)
    with open(cfg, "w") as f:
        text = gen_config.build("encap", pb.EDGE_PCAP, pb.NULL_DEV, t["routes"],
                                exabgp_socket=sock_path)
        c = json.loads(text)
        # the feed's routes are counted against the context's policy (private: 4000)
        c["customers"][0]["contexts"][0]["policy"] = {"max_prefixes4": 1000000}
        json.dump(c, f)
    chk = pb.check_config(a.peerfwd, cfg, count)
    if not chk["valid"]:
        raise SystemExit("peerfwd rejects %s:\n%s" % (cfg, chk["output"]))
    dsts = pcap_dsts(tr["pf"])
    pool, cover = make_prefixes(dsts, routes_of(t["routes"]), prof["pool"], random.Random(7))
    log("%s routes, %d destinations; churn pool %d prefixes (at most %d live) + %d covering "
        "more-specifics; rates %s/s" % (count, len(dsts), len(pool), prof["live"], len(cover),
                                        ",".join(map(str, rates))))
    mem = pb.Memory(a.out, a.mem)
    results = {"meta": {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": a.quick,
                        "table": tname, "routes": count, "flows": len(dsts), "mix": "64",
                        "scenario": "encap", "rates": rates, "reps": prof["reps"],
                        "warmup_s": prof["warmup"], "window_s": prof["window"],
                        "churn_warmup_s": prof["churn_warmup"], "pool": len(pool),
                        "live_max": prof["live"], "covering": len(cover),
                        "cover_fraction": 1.0 / COVER_EVERY, "per_line": PER_LINE,
                        "harness_cpus": sorted(others), "load_start": os.getloadavg()},
               "runs": []}

    def on_signal(sig, frm):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        mem.setup()
        results["meta"]["memory"] = {"mode": mem.mode, "note": mem.note}
        for rep in range(prof["reps"]):
            ops = Ops(pool, cover, prof["live"])   # every repetition starts from scratch
            results["runs"].append(run_once(a, prof, cfg, tr["pf"], mem, rates, logdir, rep,
                                            ops, sock_path))
            if not results["runs"][-1]["ok"]:
                log("rep %d FAILED: %s" % (rep + 1, results["runs"][-1].get("error")))
    except KeyboardInterrupt:
        results["meta"]["interrupted"] = True
    finally:
        pb.kill_live()
        mem.cleanup()
        if os.path.exists(sock_path):
            os.unlink(sock_path)
    results["summary"] = summarize(results["runs"], rates)
    results["meta"]["elapsed_s"] = round(time.monotonic() - t0, 1)
    results["meta"]["load_end"] = os.getloadavg()
    with open(os.path.join(a.out, "churn.json"), "w") as f:
        json.dump(results, f, indent=1)
    for row in results["summary"]:
        log("%6d/s target: applied %.0f/s, %.3f Mpps = %.2f x baseline (%.2f per CPU-s), "
            "drops %s" % (row["target_per_s"], row["applied_per_s"], row["mpps"], row["ratio"],
                          row["ratio_per_cpu_s"] or 0, row["drops"] or "none"))
    bad = [r for r in results["runs"] if not r["ok"]]
    dropped = any(row["drops"] for row in results["summary"])
    return 1 if bad or dropped or results["meta"].get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main())
