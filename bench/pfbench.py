#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""peerfwd throughput benchmark against DPDK references, in one run (see bench/README.md).

Called by bench/run.sh after the builds. Phases:
  1. data:       route tables, peerfwd configurations (validated with --check, timed),
                 pcaps (bench/gen_*.py), cached under OUT/data by a hash of their inputs
  2. memory:     2 MB hugepages on a private hugetlbfs mount if possible, else --no-huge
  3. throughput: every program on pcap (infinite_rx) -> null, one forwarding core,
                 REPS repetitions (repetition loop outermost, so slow drifts of the
                 machine's load spread over all programs), a steady-state window
                 measured through DPDK telemetry (ethdev counters of the output port)
  4. callgrind:  instructions per packet of the forwarding lcore (not in --quick)
  5. OUT/results.json (bench/report.py turns it into RESULTS.md and the charts)
The ESP scenario (peerfwd ESP tunnel mode against DPDK's ipsec-secgw and
dpdk-test-crypto-perf, bench/espbench.py) runs inside the same phases: crypto-perf runs in
each repetition after the forwarders, and an output check (decrypting what peerfwd and
ipsec-secgw send) runs before the measurements.
Everything is bounded: every process has a start-up deadline and a stop deadline and is
killed (its own process group only) when it overruns.
"""
import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import espbench

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
EDGE_PCAP, NULL_DEV = "net_pcap0", "net_null0"
CORE_GW_MAC = "02:00:00:00:0c:fe"
HUGE_WANT = 1024          # 2 MB pages = 2 GiB: the largest l3fwd table (IPv6 LPM) fits
NOHUGE_MEM_MB = 3072
CALLGRIND_MEM_MB = 1024
LINE_RATE_BPS = 10e9

FULL = {
    "tables4": {"10k": 10000, "100k": 100000, "1m": 1000000},
    "tables6": {"200k": 200000},
    "cg_tables": {"cg4": (4, 10000), "cg6": (6, 10000)},
    "flows": 4104,
    # scenario -> (table names, mixes)
    "scenarios": {
        "encap": (["10k", "100k", "1m"], ["64", "imix", "1400"]),
        "public": (["100k"], ["64", "imix", "1400"]),
        "decap": (["100k"], ["64", "imix", "1400"]),
        "encap6": (["200k"], ["64", "imix", "1400"]),
        "esp": (["10k", "100k"], ["64", "imix", "1400"]),
    },
    # crypto-perf: devices, and operations per run per mix (about 0.5-1 s each)
    "cp_devices": ["crypto_aesni_gcm", "crypto_aesni_mb", "crypto_openssl"],
    "cp_ops": {"64": 4000000, "imix": 2000000, "1400": 1000000},
    "reps": 3, "warmup": 1.0, "window": 2.0,
}
QUICK = {
    "tables4": {"5k": 5000},
    "tables6": {"5k6": 5000},
    "cg_tables": {},
    "flows": 1032,
    "scenarios": {
        "encap": (["5k"], ["64", "imix"]),
        "public": (["5k"], ["64"]),
        "decap": (["5k"], ["64"]),
        "encap6": (["5k6"], ["64"]),
        "esp": (["5k"], ["64"]),
    },
    "cp_devices": ["crypto_aesni_gcm"],
    "cp_ops": {"64": 1500000, "imix": 800000, "1400": 400000},
    "reps": 1, "warmup": 0.5, "window": 1.5,
}
SCEN_DESCR = {
    "encap": "VLAN 555 -> FIB (private context) -> GRE encap",
    "public": "VLAN 556 -> FIB (public context) -> plain forward to core",
    "decap": "GRE from the cloud -> decap -> FIB (private context) -> VLAN 555",
    "encap6": "VLAN 555 -> FIB6 (private context) -> GRE encap (IPv6 in IPv4)",
    "esp": "VLAN 555 -> FIB (private context) -> GRE encap -> ESP tunnel mode, AES-GCM-128",
}
# testpmd io does not look at packets: scenarios with identical input frames share a run
TESTPMD_INPUT = {"encap": "edge4", "public": "edge4", "decap": "gre4", "encap6": "edge6",
                 "esp": "edge4"}
MAIN_THREAD_FWD = ("l3fwd", "secgw")   # programs that forward on their main (only) lcore


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---------------------------------------------------------------- data generation

def stamp_of(*parts):
    h = hashlib.sha256()
    for p in parts:
        if os.path.isfile(p):
            with open(p, "rb") as f:
                h.update(f.read())
        else:
            h.update(str(p).encode())
    return h.hexdigest()[:16]


def cached(target, stamp, make):
    sf = target + ".stamp"
    if os.path.exists(target) and os.path.exists(sf) and open(sf).read() == stamp:
        return False
    make()
    with open(sf, "w") as f:
        f.write(stamp)
    return True


def run_checked(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stdout[-3000:]))
    return r.stdout


class Data:
    def __init__(self, out, prof, peerfwd):
        self.dir = os.path.join(out, "data")
        os.makedirs(self.dir, exist_ok=True)
        self.prof = prof
        self.peerfwd = peerfwd
        self.keydir = os.path.join(self.dir, "keys")   # ESP key files (mode 0600)
        self.tables = {}      # name -> dict(family, count, routes, l3fwd, meta)
        self.checks = {}      # config name -> check result

    def table(self, name, fam, count):
        if name in self.tables:
            return self.tables[name]
        base = os.path.join(self.dir, "routes_%s_v%d" % (name, fam))
        gen = os.path.join(HERE, "gen_routes.py")
        st = stamp_of(gen, fam, count)
        if cached(base + ".routes", st, lambda: run_checked(
                [PY, gen, "--family", str(fam), "--count", str(count), "--out", base])):
            log("generated %d IPv%d routes (%s)" % (count, fam, name))
        with open(base + ".meta.json") as f:
            meta = json.load(f)
        t = {"name": name, "family": fam, "count": count, "routes": base + ".routes",
             "l3fwd": base + ".l3fwd", "meta": meta}
        self.tables[name] = t
        return t

    def config(self, scen, tname, core=None):
        t = self.tables[tname]
        edge, core_ = (NULL_DEV, EDGE_PCAP) if scen == "decap" else (EDGE_PCAP, NULL_DEV)
        core = core or core_
        suffix = "" if core == core_ else "_" + core
        path = os.path.join(self.dir, "peerfwd_%s_%s%s.json" % (scen, tname, suffix))
        gen = os.path.join(HERE, "gen_config.py")
        mb = pool_mbufs(self.prof["flows"])
        st = stamp_of(gen, t["routes"] + ".stamp", scen, core, mb)
        cached(path, st, lambda: run_checked(
            [PY, gen, "--scenario", scen, "--edge", edge, "--core", core,
             "--routes", t["routes"], "--out", path, "--keys", self.keydir] +
            (["--mbufs", str(mb)] if mb != DEFAULT_MBUFS else [])))
        key = "%s_%s%s" % (scen, tname, suffix)
        if scen == "esp" and key not in self.checks:
            # a peerfwd without IPsec rejects the "ipsec" section: the ESP runs are then
            # skipped with that note, the rest of the harness runs
            c = self.checks[key] = check_config(self.peerfwd, path, t["count"])
            log("peerfwd --check %s: %s in %.2f s" % (os.path.basename(path), "valid" if
                c["valid"] else "REJECTED: " + c["output"].splitlines()[-1:][0][-160:],
                c["seconds"]))
            return path
        if key not in self.checks:
            self.checks[key] = check_config(self.peerfwd, path, t["count"])
            c = self.checks[key]
            log("peerfwd --check %s: %s in %.2f s, max RSS %d MB" %
                (os.path.basename(path), "valid" if c["valid"] else "INVALID", c["seconds"],
                 c["max_rss_mb"]))
            if not c["valid"]:
                raise SystemExit("peerfwd rejects %s:\n%s" % (path, c["output"]))
        return path

    def traffic(self, scen, tname, mix):
        t = self.tables[tname]
        base = os.path.join(self.dir, "traffic_%s_%s_%s" % (scen, tname, mix))
        gen = os.path.join(HERE, "gen_traffic.py")
        st = stamp_of(gen, t["routes"] + ".stamp", scen, mix, self.prof["flows"])
        if cached(base + ".pf.pcap", st, lambda: run_checked(
                [PY, gen, "--scenario", scen, "--mix", mix, "--routes", t["routes"],
                 "--flows", str(self.prof["flows"]), "--out", base])):
            log("generated traffic %s/%s/%s" % (scen, tname, mix))
        with open(base + ".json") as f:
            meta = json.load(f)
        return {"pf": base + ".pf.pcap", "l3": base + ".l3.pcap", "meta": meta}

    def secgw_config(self, mode):
        """ipsec-secgw's configuration for one SA type, with the key of peerfwd's key file."""
        import gen_config
        gen_config.write_keys(self.keydir)
        keys = {}
        for d in ("out", "in"):
            with open(os.path.join(self.keydir, d + ".key")) as f:
                keys[d] = bytes.fromhex(f.read().strip())
        path = os.path.join(self.dir, "secgw_%s.cfg" % mode)
        return espbench.secgw_config(path, mode, keys["out"], keys["in"])

    def tiny_rules(self, fam):
        """l3fwd wants both rule files; the family not under test gets one route."""
        path = os.path.join(self.dir, "tiny_v%d.l3fwd" % fam)
        with open(path, "w") as f:
            f.write("R198.18.0.0/24 1\n" if fam == 4 else "R2001:db8:ffff::/48 1\n")
        return path


DEFAULT_MBUFS = 16383   # peerfwd's computed default here (its floor); testpmd gets 16384


def pool_mbufs(flows):
    """mbufs every program's pool gets: net_pcap (infinite_rx) keeps the whole pcap in mbufs,
    the RX/TX rings, bursts and caches need about 4700 more."""
    return DEFAULT_MBUFS if flows <= 8192 else flows + 8192


def check_config(peerfwd, path, n_routes):
    """peerfwd --config X --check: validity, wall time and peak memory of the validation."""
    t0 = time.monotonic()
    with open(path + ".check.log", "w+") as lf:
        p = subprocess.Popen([peerfwd, "--config", path, "--check"], stdout=lf,
                             stderr=subprocess.STDOUT)
        deadline = t0 + 600
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        dt = time.monotonic() - t0
        lf.seek(0)
        out = lf.read()
    return {"valid": p.returncode == 0, "seconds": round(dt, 3),
            "max_rss_mb": ru.ru_maxrss // 1024, "output": out.strip()[-500:],
            "routes": n_routes, "bytes": os.path.getsize(path)}


# ---------------------------------------------------------------- memory mode

class Memory:
    """2 MB hugepages on a private hugetlbfs mount, restored afterwards; else --no-huge."""
    NR = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

    def __init__(self, out, want_mode):
        self.mnt = os.path.join(out, "hugetlbfs")
        self.want = want_mode
        self.prev_nr = None
        self.mounted = False
        self.mode = "nohuge"
        self.note = ""

    @staticmethod
    def _free():
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("HugePages_Free:"):
                    return int(line.split()[1])
        return 0

    def setup(self):
        if self.want == "nohuge":
            self.note = "--no-huge requested"
            return
        if os.geteuid() != 0 or not os.path.exists(self.NR):
            self.note = "not root or no 2 MB hugepage support: --no-huge"
            return
        try:
            with open(self.NR) as f:
                self.prev_nr = int(f.read())
            free = self._free()
            if free < HUGE_WANT:
                with open(self.NR, "w") as f:
                    f.write(str(self.prev_nr + HUGE_WANT - free))
            free = self._free()
            if free < HUGE_WANT // 2:
                raise OSError("only %d free 2 MB pages after reserving" % free)
            os.makedirs(self.mnt, exist_ok=True)
            with open("/proc/mounts") as f:
                if any(l.split()[1] == self.mnt for l in f if len(l.split()) > 1):
                    subprocess.run(["umount", self.mnt])
            r = subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev",
                                self.mnt], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            if r.returncode != 0:
                raise OSError("mount hugetlbfs: " + r.stdout.strip())
            self.mounted = True
            self.mode = "hugepages-2M"
            self.note = "%d free 2 MB pages on %s" % (free, self.mnt)
        except OSError as e:
            self.note = "hugepages unavailable (%s): --no-huge" % e
            self.cleanup()
            self.mode = "nohuge"

    def eal(self):
        if self.mode == "nohuge":
            return ["--no-huge", "-m", str(NOHUGE_MEM_MB)]
        return ["--huge-dir", self.mnt, "--huge-unlink"]

    def cleanup(self):
        if self.mounted:
            subprocess.run(["umount", self.mnt])
            self.mounted = False
            try:
                os.rmdir(self.mnt)
            except OSError:
                pass
        if self.prev_nr is not None:
            try:
                with open(self.NR, "w") as f:
                    f.write(str(self.prev_nr))
            except OSError:
                pass
            self.prev_nr = None


# ---------------------------------------------------------------- telemetry

class Telemetry:
    def __init__(self, prefix):
        self.path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        self.s = None

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        try:
            s.connect(self.path)
            json.loads(s.recv(1 << 16).decode())
        except OSError:
            s.close()
            raise
        self.s = s

    def q(self, cmd):
        self.s.send(cmd.encode())
        return json.loads(self.s.recv(1 << 16).decode())

    def ports(self):
        ids = self.q("/ethdev/list")["/ethdev/list"]
        return {self.q("/ethdev/info,%d" % i)["/ethdev/info"]["name"]: i for i in ids}

    def stats(self, pid):
        return self.q("/ethdev/stats,%d" % pid)["/ethdev/stats"]

    def close(self):
        if self.s:
            self.s.close()
            self.s = None


# ---------------------------------------------------------------- programs

class Job:
    """One program on one input: how to start it, stop it and read its own counters."""

    def __init__(self, key, program, scen, table, mix, cmd, stop, env=None, count_from=None,
                 in_meta=None, frames="pf", cg_toggle=None, self_exit=False, duration=None,
                 stats_json=None):
        self.key, self.program, self.scen, self.table, self.mix = key, program, scen, table, mix
        self.cmd, self.stop, self.env = cmd, stop, env or {}
        self.count_from = count_from
        self.in_meta = in_meta
        self.frames = frames
        self.cg_toggle = cg_toggle
        self.self_exit = self_exit
        self.duration = duration
        self.stats_json = stats_json
        self.cg_packets = 1000000


_seq = [0]
LIVE = set()      # process groups we started and have not reaped yet


def kill_live():
    for pid in list(LIVE):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        LIVE.discard(pid)


def prefix_new():
    _seq[0] += 1
    return "pfbench%d_%d" % (os.getpid(), _seq[0])


def eal_common(prefix, mem, in_pcap, lcores):
    return (["-l", lcores] + mem + ["--no-pci", "--file-prefix", prefix,
            "--log-level=*:warning",
            "--vdev", "%s,rx_pcap=%s,infinite_rx=1" % (EDGE_PCAP, in_pcap),
            "--vdev", "%s,no-rx=1" % NULL_DEV])


def peerfwd_cmd(a, prefix, mem, pcap, config, duration, stats_json, esp=False):
    eal = eal_common(prefix, mem, pcap, "0,1")
    app = ["--config", config, "--duration", str(duration), "-q", "--stats-json", stats_json]
    if esp:
        eal, app = peerfwd_esp_args(a, eal, app)
    return [a.peerfwd] + eal + ["--"] + app


def peerfwd_esp_args(a, eal, app):
    """The crypto device: the same vdev as ipsec-secgw's and crypto-perf's (--crypto-dev);
    if this peerfwd has a --crypto-dev option (its --help), it is told to use it too."""
    eal = eal + ["--vdev", espbench.CRYPTO_VDEV[a.crypto_dev]]
    if "--crypto-dev" in getattr(a, "peerfwd_help", ""):
        app = app + ["--crypto-dev", espbench.CRYPTO_VDEV[a.crypto_dev]]
    return eal, app


def secgw_cmd(a, prefix, mem, pcap, cfg):
    """ipsec-secgw on one lcore (its main thread: like l3fwd it wants a TX queue per lcore
    and the pcap port has one), the same crypto vdev as peerfwd (espbench.secgw_args)."""
    return ([a.secgw] + eal_common(prefix, mem, pcap, "1") +
            ["--vdev", espbench.CRYPTO_VDEV[a.crypto_dev], "--"] + espbench.secgw_args(cfg))


def testpmd_cmd(a, prefix, mem, pcap, flows):
    return ([a.testpmd] + eal_common(prefix, mem, pcap, "0,1") +
            ["--", "--forward-mode=io", "--nb-cores=1", "--burst=32", "--rxd=1024",
             "--txd=1024", "--total-num-mbufs=%d" % max(16384, pool_mbufs(flows))])


def l3fwd_cmd(a, prefix, mem, pcap, lookup, r4, r6):
    return ([a.l3fwd] + eal_common(prefix, mem, pcap, "1") +
            ["--", "-p", "0x3", "--config=(0,0,1),(1,0,1)", "--lookup=" + lookup,
             "--parse-ptype", "--rule_ipv4=" + r4, "--rule_ipv6=" + r6,
             "--eth-dest=1,%s" % CORE_GW_MAC])


def l3fwd_env(t4, t6, flows):
    """Capacities for the patched l3fwd (bench/l3fwd_patch.py), with margin."""
    env = {"PFB_MIN_MBUF": str(max(8192, pool_mbufs(flows)))}
    n4 = t4["count"] if t4 else 1
    n6 = t6["count"] if t6 else 1
    g4 = t4["meta"]["tbl8"] if t4 else 0
    g6 = t6["meta"]["tbl8"] if t6 else 0
    env["PFB_LPM4_MAX_RULES"] = str(n4 + 64)
    env["PFB_LPM4_TBL8S"] = str(max(256, int(g4 * 1.25) + 64))
    env["PFB_LPM6_MAX_RULES"] = str(n6 + 64)
    env["PFB_LPM6_TBL8S"] = str(max(1 << 16, int(g6 * 1.25) + 64))
    env["PFB_FIB4_MAX_ROUTES"] = str(max(1 << 16, 2 * n4 + 1024))
    env["PFB_FIB4_TBL8S"] = str(max(1 << 15, int(g4 * 1.25) + 64))
    env["PFB_FIB6_MAX_ROUTES"] = str(max((1 << 16) - 1, 2 * n6 + 1024))
    env["PFB_FIB6_TBL8S"] = str(max(1 << 15, int(g6 * 1.25) + 64))
    return env


def stop_proc(p, how, deadline):
    if p.poll() is None:
        try:
            if how == "stdin":
                p.stdin.write(b"\n")
                p.stdin.flush()
            elif how == "sigint":
                p.send_signal(signal.SIGINT)
        except (OSError, ValueError):
            pass
    try:
        p.wait(timeout=deadline)
        return True
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
        return False


def own_counters(job, log_path, stats_json, out_port):
    """The program's own count of packets sent on the output port, after it stopped."""
    try:
        if job.program == "peerfwd":
            with open(stats_json) as f:
                d = json.load(f)
            drops = {k: v for k, v in d["drops"].items() if v}
            return {"tx_packets": d["ports"][NULL_DEV]["tx_packets"],
                    "rx_packets": d["ports"][EDGE_PCAP]["rx_packets"], "drops": drops,
                    "events": {k: v for k, v in d["events"].items() if v}}
        text = open(log_path, errors="replace").read()
        if job.program == "testpmd":
            m = re.findall(r"Forward statistics for port (\d+)\s+-+\s+RX-packets: (\d+).*?\n"
                           r"\s+TX-packets: (\d+)", text)
            ports = {int(p): (int(rx), int(tx)) for p, rx, tx in m}
            return {"tx_packets": ports[out_port][1], "rx_packets": ports[1 - out_port][0]}
        m = dict((int(p), (int(i), int(o))) for p, i, o in
                 re.findall(r"PFB port (\d+) ipackets (\d+) opackets (\d+)", text))
        return {"tx_packets": m[out_port][1], "rx_packets": m[1 - out_port][0]}
    except (OSError, KeyError, ValueError, IndexError) as e:
        return {"error": "cannot read own counters: %s" % e}


def peerfwd_drops(tele):
    """peerfwd's drop counters by reason, read live through its telemetry command."""
    try:
        return tele.q("/peerfwd/drops,all")["/peerfwd/drops"]
    except (OSError, KeyError, ValueError, TypeError):
        return None


def drops_delta(d0, d1):
    """Non-zero drops between two /peerfwd/drops readings (None if either is missing)."""
    if not d0 or not d1:
        return None
    return {k: d1[k] - d0.get(k, 0) for k in d1 if k != "total" and d1[k] - d0.get(k, 0)}


def fwd_tid(pid, program):
    """Thread id of the forwarding lcore (perf stat -t)."""
    if program.startswith(MAIN_THREAD_FWD):
        return pid        # its only lcore is the main thread
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                if f.read().strip().startswith(("lcore-worker", "rte-worker")):
                    return int(t)
    except OSError:
        pass
    return None


def sched_run_ns(pid, tid):
    """Nanoseconds the thread has spent on a CPU (/proc/.../schedstat, first field)."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def perf_supported():
    try:
        r = subprocess.run(["perf", "stat", "-x,", "-e", "cycles,instructions", "true"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "perf not runnable: %s" % e
    if "<not supported>" in r.stdout or "<not counted>" in r.stdout or r.returncode != 0:
        return False, "perf stat -e cycles,instructions: " + " | ".join(
            l.strip() for l in r.stdout.splitlines() if l.strip())[:200]
    return True, "ok"


def run_job(a, job, out_port_name, warmup, window, logdir, rep, perf_ok,
            startup_timeout=900, valgrind=None):
    """Start, wait for the first forwarded packet, measure, stop. Returns a result dict."""
    prefix = job.prefix
    rundir = "/var/run/dpdk/" + prefix
    shutil.rmtree(rundir, ignore_errors=True)
    log_path = os.path.join(logdir, "%s.rep%d.log" % (job.key, rep))
    env = dict(os.environ)
    env.update(job.env)
    cmd = (valgrind or []) + [c.replace("@REP@", str(rep)) for c in job.cmd]
    stats_json = job.stats_json.replace("@REP@", str(rep)) if job.stats_json else None
    res = {"key": job.key, "program": job.program, "scenario": job.scen, "table": job.table,
           "mix": job.mix, "rep": rep, "ok": False, "cmd": " ".join(cmd),
           "load_before": os.getloadavg()[0]}
    t_start = time.monotonic()
    with open(log_path, "wb") as lf:
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=lf, stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
    LIVE.add(p.pid)
    tele = Telemetry(prefix)
    try:
        deadline = t_start + startup_timeout
        while True:
            if p.poll() is not None:
                raise RuntimeError("exited with %s before forwarding" % p.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError("no telemetry/packets within %d s" % startup_timeout)
            try:
                if tele.s is None:
                    tele.connect()
                    ports = tele.ports()
                    out_id, in_id = ports[out_port_name], ports[EDGE_PCAP]
                if tele.stats(out_id)["opackets"] > 0:
                    break
            except (OSError, KeyError, ValueError):
                tele.close()
            time.sleep(0.05)
        t_first = time.monotonic()
        res["startup_s"] = round(t_first - t_start, 2)
        if valgrind:
            # a fixed number of packets (bounded in time), so that the thread's fixed costs
            # weigh the same in every run
            t_stop = time.monotonic() + window
            while time.monotonic() < t_stop:
                if tele.stats(out_id)["opackets"] >= job.cg_packets:
                    break
                time.sleep(0.2)
        else:
            time.sleep(warmup)
            samples = []
            perf = None
            tid = fwd_tid(p.pid, job.program)
            if tid and perf_ok:
                perf = subprocess.Popen(["perf", "stat", "-x,", "-e", "cycles,instructions",
                                         "-t", str(tid), "--", "sleep", str(window)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
            drops0 = peerfwd_drops(tele) if job.program == "peerfwd" else None
            t_end = time.monotonic() + window
            while True:
                t0 = time.monotonic()
                o = tele.stats(out_id)["opackets"]
                i = tele.stats(in_id)["ipackets"]
                t1 = time.monotonic()
                samples.append(((t0 + t1) / 2, o, i, sched_run_ns(p.pid, tid) if tid else None))
                if t1 >= t_end:
                    break
                time.sleep(min(0.25, max(0.0, t_end - t1)))
            if job.program == "peerfwd":
                # drops by reason during the window, from peerfwd's telemetry commands
                res["window_drops"] = drops_delta(drops0, peerfwd_drops(tele))
            if not job.self_exit and p.poll() is not None:
                raise RuntimeError("exited (status %s) during the window" % p.returncode)
            (ta, oa, ia, ra), (tb, ob, ib, rb) = samples[0], samples[-1]
            if ob == oa:
                raise RuntimeError("forwarded nothing during the window")
            res["window_s"] = round(tb - ta, 4)
            res["pkts"] = ob - oa
            res["mpps"] = (ob - oa) / (tb - ta) / 1e6
            res["in_mpps"] = (ib - ia) / (tb - ta) / 1e6
            if ra is not None and rb is not None and rb > ra:
                # how much of the window the forwarding thread really had a CPU, and the
                # rate per second of CPU it got (corrects for time slices lost to others)
                res["cpu_share"] = (rb - ra) / 1e9 / (tb - ta)
                res["mpps_per_cpu_s"] = (ob - oa) / ((rb - ra) / 1e9) / 1e6
            inter = [(s2[1] - s1[1]) / (s2[0] - s1[0]) / 1e6
                     for s1, s2 in zip(samples, samples[1:]) if s2[0] > s1[0]]
            res["interval_mpps_min"] = min(inter) if inter else None
            res["interval_mpps_max"] = max(inter) if inter else None
            if perf:
                _, err = perf.communicate(timeout=window + 30)
                cyc = re.search(r"^(\d+),[^,]*,cycles", err, re.M)
                if cyc and res["pkts"]:
                    res["cycles_per_pkt"] = int(cyc.group(1)) / res["pkts"]
        tele.close()
        if job.self_exit:
            ok = stop_proc(p, None, (job.duration or 0) + 60)
        else:
            ok = stop_proc(p, job.stop, 120 if valgrind else 30)
        if not ok:
            res["stop"] = "killed after the stop deadline"
        res["exit"] = p.returncode
        res["own"] = own_counters(job, log_path, stats_json, out_id)
        res["ports"] = ports
        if job.program == "peerfwd" and "tx_packets" in res["own"] and job.duration:
            res["own"]["selfreport_mpps"] = res["own"]["tx_packets"] / job.duration / 1e6
        res["ok"] = True
    except (RuntimeError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
        try:
            res["log_tail"] = open(log_path, errors="replace").read()[-1500:]
        except OSError:
            pass
    except BaseException:
        # interrupted: never leave a forwarder spinning on a core
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        raise
    finally:
        if p.poll() is not None:
            LIVE.discard(p.pid)
        tele.close()
        shutil.rmtree(rundir, ignore_errors=True)
    res["load_after"] = os.getloadavg()[0]
    res["wall_s"] = round(time.monotonic() - t_start, 2)
    return res


# ---------------------------------------------------------------- job list

def build_jobs(a, prof, data, mem, logdir, mode):
    """mode 'tp' (throughput, memory mode of the run) or 'cg' (callgrind, 10k tables, 64 B)."""
    jobs, seen = [], set()
    cgmem = ["--no-huge", "-m", str(CALLGRIND_MEM_MB)]
    if mode == "tp":
        items = [(s, t, m) for s, (ts, ms) in prof["scenarios"].items() for t in ts for m in ms]
        memargs = mem.eal()
    else:
        items = [(s, "cg6" if s == "encap6" else "cg4", "64") for s in prof["scenarios"]]
        memargs = cgmem
    dur = int(math.ceil(prof["warmup"] + prof["window"])) + 2
    for scen, tname, mix in items:
        if scen == "esp":
            jobs += esp_jobs(a, data, tname, mix, memargs, logdir, mode, dur, seen)
            continue
        t = data.tables[tname]
        fam = t["family"]
        cfg = data.config(scen, tname)
        tr = data.traffic(scen, tname, mix)
        # the l3fwd input: the same IP packets untagged; IPv4 scenarios share it
        l3_scen = "encap6" if fam == 6 else "encap"
        l3tr = tr if scen == l3_scen else data.traffic(l3_scen, tname, mix)
        # peerfwd
        key = "peerfwd.%s.%s.%s" % (scen, tname, mix)
        sj = os.path.join(logdir, key + ".rep@REP@.stats.json")
        pre = prefix_new()
        if mode == "tp":
            cmd = peerfwd_cmd(a, pre, memargs, tr["pf"], cfg, dur, sj)
            j = Job(key, "peerfwd", scen, tname, mix, cmd, "sigint", self_exit=True,
                    duration=dur, stats_json=sj, in_meta=tr["meta"], frames="pf")
        else:
            cmd = peerfwd_cmd(a, pre, memargs, tr["pf"], cfg, 600, sj)
            j = Job(key, "peerfwd", scen, tname, mix, cmd, "sigint", stats_json=sj,
                    in_meta=tr["meta"], frames="pf")
        j.prefix = pre
        jobs.append(j)
        # testpmd io: input frames of this scenario, table-independent
        tk = "testpmd.%s.%s" % (TESTPMD_INPUT[scen], mix)
        if tk not in seen:
            seen.add(tk)
            pre = prefix_new()
            j = Job(tk, "testpmd", scen, tname, mix,
                    testpmd_cmd(a, pre, memargs, tr["pf"], prof["flows"]),
                    "stdin", in_meta=tr["meta"], frames="pf")
            j.prefix = pre
            j.shared_input = TESTPMD_INPUT[scen]
            jobs.append(j)
        # l3fwd lpm / fib: the same table and flows
        for lookup in ("lpm", "fib"):
            lk = "l3fwd-%s.v%d.%s.%s" % (lookup, fam, tname, mix)
            if lk in seen:
                continue
            seen.add(lk)
            if lookup == "lpm" and fam == 4 and t["count"] > a.lpm_max_routes:
                jobs.append(Job(lk, "l3fwd-lpm", scen, tname, mix, None, None))
                jobs[-1].skip = ("rte_lpm adds a rule in O(rules of that length): loading %d "
                                 "routes takes minutes (about 250 s for 1M on the 2-core "
                                 "dev VM), so it is not run above --lpm-max-routes=%d"
                                 % (t["count"], a.lpm_max_routes))
                continue
            r4 = t["l3fwd"] if fam == 4 else data.tiny_rules(4)
            r6 = t["l3fwd"] if fam == 6 else data.tiny_rules(6)
            env = l3fwd_env(t if fam == 4 else None, t if fam == 6 else None, prof["flows"])
            pre = prefix_new()
            j = Job(lk, "l3fwd-" + lookup, scen, tname, mix,
                    l3fwd_cmd(a, pre, memargs, l3tr["l3"], lookup, r4, r6), "sigint", env=env,
                    in_meta=l3tr["meta"], frames="l3",
                    cg_toggle="%s_main_loop" % lookup)
            j.prefix = pre
            j.family = fam
            jobs.append(j)
    return jobs


def esp_peerfwd_skip(a, data, tname):
    """None if peerfwd can run the esp configuration, else why not (the report shows it)."""
    if a.esp_fatal:
        return a.esp_fatal
    data.config("esp", tname)
    c = data.checks["esp_" + tname]
    if c["valid"]:
        return None
    last = (c["output"].splitlines() or [""])[-1].strip()
    if "unknown field 'ipsec'" in last:
        # the same words for every table (the file name is in results.json's config_checks)
        return ("peerfwd built without IPsec (its --check rejects the customer's \"ipsec\" "
                "section: %s)" % last[last.find("customers["):][:120])
    return "ERROR: peerfwd rejects the esp configuration: %s" % last[-300:]


def esp_jobs(a, data, tname, mix, memargs, logdir, mode, dur, seen):
    """peerfwd ESP (VLAN 555 -> FIB -> GRE -> ESP) on the encap scenario's frames, and
    ipsec-secgw (both SA types) on the same IP packets untagged (table-independent)."""
    out = []
    tr = data.traffic("encap", tname, mix)
    key = "peerfwd.esp.%s.%s" % (tname, mix)
    why = esp_peerfwd_skip(a, data, tname)
    if why:
        j = Job(key, "peerfwd", "esp", tname, mix, None, None)
        j.skip = why
        out.append(j)
    else:
        cfg = data.config("esp", tname)
        sj = os.path.join(logdir, key + ".rep@REP@.stats.json")
        pre = prefix_new()
        if mode == "tp":
            cmd = peerfwd_cmd(a, pre, memargs, tr["pf"], cfg, dur, sj, esp=True)
            j = Job(key, "peerfwd", "esp", tname, mix, cmd, "sigint", self_exit=True,
                    duration=dur, stats_json=sj, in_meta=tr["meta"], frames="pf")
        else:
            cmd = peerfwd_cmd(a, pre, memargs, tr["pf"], cfg, 600, sj, esp=True)
            j = Job(key, "peerfwd", "esp", tname, mix, cmd, "sigint", stats_json=sj,
                    in_meta=tr["meta"], frames="pf")
        j.prefix = pre
        out.append(j)
    for m in espbench.SECGW_MODES:
        sk = "secgw-%s.esp.%s" % (m, mix)
        if sk in seen:
            continue
        seen.add(sk)
        j = Job(sk, "secgw-" + m, "esp", tname, mix, None, None, in_meta=tr["meta"],
                frames="l3", cg_toggle="ipsec_launch_one_lcore")
        if a.esp_fatal or not a.secgw:
            j.skip = a.esp_fatal or "ipsec-secgw not built (see bench/out/ipsec-secgw/build.log)"
        else:
            pre = prefix_new()
            j.cmd = secgw_cmd(a, pre, memargs, tr["l3"], data.secgw_config(m))
            j.stop = "sigint"
            j.prefix = pre
        out.append(j)
    return out


def cryptoperf_jobs(a, prof):
    """(key, device, mix, sizes of) for every crypto-perf run of a repetition."""
    out = []
    if "esp" not in prof["scenarios"]:
        return out
    mixes = prof["scenarios"]["esp"][1]
    for dev in a.cp_devices:
        for mix in mixes:
            for who in ("pf", "secgw"):
                out.append(("cryptoperf.esp.%s.%s.%s" % (dev, mix, who), dev, mix, who == "pf"))
    return out


def esp_probe(a, mem, logdir):
    """Can the crypto vdevs start (crypto-perf, 20k operations)? Sets a.esp_fatal when the
    device shared by peerfwd and ipsec-secgw cannot; drops the others from a.cp_devices."""
    notes = {}
    ok_devs = []
    devs = list(dict.fromkeys([a.crypto_dev] + a.cp_devices))
    for dev in devs:
        r = espbench.run_cryptoperf(a.cryptoperf, prefix_new(), mem.eal(), dev, "64", True,
                                    20000, os.path.join(logdir, "cryptoperf.probe.%s.log" % dev),
                                    timeout=60)
        notes[dev] = "ok" if r["ok"] else "cannot start: %s" % (
            r.get("error", "?") + " " + r.get("log_tail", "").strip().replace("\n", " | ")[-300:])
        log("crypto device %s: %s" % (dev, notes[dev]))
        if r["ok"]:
            ok_devs.append(dev)
        elif dev == a.crypto_dev:
            a.esp_fatal = "crypto vdev %s cannot start (%s)" % (
                espbench.CRYPTO_VDEV[dev], notes[dev])
    a.cp_devices = [d for d in a.cp_devices if d in ok_devs]
    return notes


def esp_verify(a, data, prof, mem, logdir):
    """Run peerfwd and ipsec-secgw once on the IMIX frames with the ESP port writing a pcap,
    decrypt what they sent (scapy) and compare it with what they received: the figures are
    only worth comparing if both really produce this ESP."""
    out = {}
    if a.esp_fatal:
        return out
    tname = prof["scenarios"]["esp"][0][0]
    tr = data.traffic("encap", tname, "imix")
    vdir = os.path.join(logdir, "esp_verify")
    os.makedirs(vdir, exist_ok=True)
    import gen_config
    key = gen_config.esp_key("out")
    progs = []
    if not esp_peerfwd_skip(a, data, tname):
        cfg = data.config("esp", tname, core="net_pcap1")

        def pf_cmd(pre, inp, outp):
            eal, app = peerfwd_esp_args(a, verify_eal(pre, mem, inp, outp, "0,1"),
                                        ["--config", cfg, "--idle-exit", "1000",
                                         "--duration", "30", "-q"])
            return [a.peerfwd] + eal + ["--"] + app
        progs.append(("peerfwd", tr["pf"], True, pf_cmd))
    if a.secgw:
        for m in espbench.SECGW_MODES:
            progs.append(("secgw-" + m, tr["l3"], False, lambda pre, inp, outp, m=m: (
                [a.secgw] + verify_eal(pre, mem, inp, outp, "1") +
                ["--vdev", espbench.CRYPTO_VDEV[a.crypto_dev], "--"] +
                espbench.secgw_args(data.secgw_config(m)))))
    for name, inp, gre, mk in progs:
        outp = os.path.join(vdir, name + ".out.pcap")
        if os.path.exists(outp):
            os.remove(outp)
        pre = prefix_new()
        cmd = mk(pre, inp, outp)
        lp = os.path.join(vdir, name + ".log")
        with open(lp, "wb") as lf:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=lf,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        LIVE.add(p.pid)
        try:
            # peerfwd exits by itself (--idle-exit); ipsec-secgw idles once the pcap is sent
            p.wait(timeout=4 if name.startswith("secgw") else 40)
        except subprocess.TimeoutExpired:
            stop_proc(p, "sigint", 20)
        LIVE.discard(p.pid)
        shutil.rmtree("/var/run/dpdk/" + pre, ignore_errors=True)
        r = espbench.verify_pcap(inp, outp, key, gre)
        r["exit"] = p.returncode
        r["cmd"] = " ".join(cmd)
        out[name] = r
        log("ESP output check %-10s %s: %s of %s packets decrypted and equal to the input, "
            "encrypted lengths %s%s" % (name, "ok" if r.get("ok") else "FAILED",
                                       r.get("matched"), r.get("packets"),
                                       r.get("encrypted_len"), "".join(
                                           " | " + e for e in r.get("errors", []))))
    return out


def verify_eal(prefix, mem, in_pcap, out_pcap, lcores):
    """As eal_common, but the input is sent once and port 1 writes a pcap."""
    return (["-l", lcores] + mem.eal() + ["--no-pci", "--file-prefix", prefix,
            "--log-level=*:warning", "--vdev", "%s,rx_pcap=%s" % (EDGE_PCAP, in_pcap),
            "--vdev", "net_pcap1,tx_pcap=%s" % out_pcap])


# ---------------------------------------------------------------- callgrind

def callgrind_job(a, job, logdir, seconds):
    cgdir = os.path.join(logdir, "callgrind", job.key)
    shutil.rmtree(cgdir, ignore_errors=True)
    os.makedirs(cgdir)
    vg = ["valgrind", "--tool=callgrind", "--separate-threads=yes", "--fair-sched=yes",
          "--callgrind-out-file=%s/callgrind.out.%%p" % cgdir]
    if job.program.startswith(MAIN_THREAD_FWD):
        # l3fwd (and ipsec-secgw) forward on their main thread, which also built the tables: count only
        # inside its forwarding loop
        vg.append("--toggle-collect=" + job.cg_toggle)
    res = run_job(a, job, NULL_DEV, 0, seconds, cgdir, 0, False, startup_timeout=600,
                  valgrind=vg)
    res["callgrind_dir"] = os.path.relpath(cgdir, a.out)
    if not res["ok"]:
        return res
    # The forwarding thread: l3fwd's is the only one with collected cost (toggle);
    # for peerfwd and testpmd it is the thread that ran net_pcap's RX burst function,
    # i.e. the one with the most instructions inside librte_net_pcap.
    best = None
    for fn in os.listdir(cgdir):
        if not fn.startswith("callgrind.out."):
            continue
        total, objs = thread_costs(os.path.join(cgdir, fn))
        rank = total if job.program.startswith(MAIN_THREAD_FWD) else objs.get("librte_net_pcap",
                                                                                 0)
        if total and (best is None or rank > best[2]):
            best = (total, fn, rank, objs)
    pk = res.get("own", {}).get("tx_packets")
    if best and pk:
        res["instructions"] = best[0]
        res["thread_file"] = best[1]
        res["packets"] = pk
        res["instr_per_pkt"] = best[0] / pk
        res["instr_per_pkt_by_object"] = {k: round(v / pk, 1) for k, v in
                                          sorted(best[3].items(), key=lambda kv: -kv[1])
                                          if v / pk >= 0.5}
    else:
        res["ok"] = False
        res["error"] = "no callgrind totals or no packet count (%s, %s)" % (best, pk)
    # keep only the forwarding thread's profile (callgrind_annotate FILE shows it)
    for fn in os.listdir(cgdir):
        if fn.startswith("callgrind.out.") and (best is None or fn != best[1]):
            os.remove(os.path.join(cgdir, fn))
    return res


def thread_costs(path):
    """(total Ir, {object file: self Ir}) of one callgrind thread profile."""
    total = 0
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
                break
    if not total:
        return 0, {}
    r = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    objs = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s.*\[([^\]]+)\]\s*$", line)
        if m:
            ob = os.path.basename(m.group(2))
            ob = re.sub(r"\.so[.\d]*$", "", ob)
            objs[ob] = objs.get(ob, 0) + int(m.group(1).replace(",", ""))
    return total, objs


def run_callgrind(a, jobs, logdir, seconds, parallel):
    """Instruction counts do not depend on timing, so two runs share the 2 cores."""
    import concurrent.futures as cf
    out = []
    with cf.ThreadPoolExecutor(max_workers=parallel) as ex:
        futs = {ex.submit(callgrind_job, a, j, logdir, seconds): j for j in jobs
                if getattr(j, "skip", None) is None}
        for f in cf.as_completed(futs):
            r = f.result()
            log("callgrind %-40s %s" % (r["key"], "%.0f instructions/packet over %d packets"
                                        % (r["instr_per_pkt"], r["packets"]) if r["ok"]
                                        else "FAILED: " + r.get("error", "?")))
            out.append(r)
    return out


# ---------------------------------------------------------------- main

def dpdk_march():
    try:
        cf = subprocess.run(["pkg-config", "--cflags", "libdpdk"], stdout=subprocess.PIPE,
                            text=True).stdout
    except OSError:
        return "?"
    m = re.findall(r"-march=\S+", cf)
    return m[-1] if m else "no -march"


def machine_info(peerfwd):
    info = {"nproc": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["dpdk"] = subprocess.run(["pkg-config", "--modversion", "libdpdk"],
                                      stdout=subprocess.PIPE, text=True).stdout.strip()
    except OSError:
        pass
    try:
        repo = os.path.dirname(HERE)
        # a binary from another build (run.sh --peerfwd): its meson build's source tree
        mi = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(peerfwd))),
                          "meson-info", "meson-info.json")
        if os.path.exists(mi):
            with open(mi) as f:
                repo = json.load(f)["directories"]["source"]
            info["peerfwd_source"] = repo
        rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--",
                                ".", ":!bench"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True).stdout.strip()
        info["peerfwd_git"] = rev + (" + uncommitted changes" if dirty else "")
    except OSError:
        pass
    try:
        with open(peerfwd, "rb") as f:
            info["peerfwd_sha256"] = hashlib.sha256(f.read()).hexdigest()[:16]
        info["peerfwd_built"] = time.strftime("%Y-%m-%d %H:%M:%S",
                                              time.gmtime(os.path.getmtime(peerfwd)))
    except OSError:
        pass
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--peerfwd", required=True)
    ap.add_argument("--testpmd", required=True)
    ap.add_argument("--l3fwd", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--window", type=float)
    ap.add_argument("--mem", choices=("auto", "huge", "nohuge"), default="auto")
    ap.add_argument("--lpm-max-routes", type=int, default=200000,
                    help="skip l3fwd --lookup=lpm on IPv4 tables larger than this")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--callgrind-seconds", type=float, default=30.0,
                    help="at most this long per callgrind run (it stops at 1M packets)")
    ap.add_argument("--callgrind-packets", type=int, default=1000000)
    ap.add_argument("--only", help="run only jobs whose key contains this string; a "
                    "scenario name (encap, public, decap, encap6, esp) also limits the "
                    "inputs generated to that scenario's")
    ap.add_argument("--secgw", help="the patched ipsec-secgw (bench/secgw_patch.py); "
                    "without it the secgw runs are skipped")
    ap.add_argument("--cryptoperf", default=shutil.which("dpdk-test-crypto-perf"))
    ap.add_argument("--crypto-dev", default="crypto_aesni_gcm",
                    choices=sorted(espbench.CRYPTO_VDEV),
                    help="crypto device of peerfwd's and ipsec-secgw's ESP runs")
    ap.add_argument("--flows", type=int,
                    help="destinations (frames) per pcap (default 4104, quick 1032); above "
                         "8192 every program's mbuf pool is enlarged to hold the pcap")
    ap.add_argument("--march", default="?",
                    help="the -march peerfwd and l3fwd were built with (run.sh --cpu)")
    a = ap.parse_args()
    a.out = os.path.abspath(a.out)
    a.esp_fatal = None
    prof = dict(QUICK if a.quick else FULL)
    if a.only in prof["scenarios"]:
        prof["scenarios"] = {a.only: prof["scenarios"][a.only]}
    used = {t for ts, _ in prof["scenarios"].values() for t in ts}
    prof["tables4"] = {k: v for k, v in prof["tables4"].items() if k in used}
    prof["tables6"] = {k: v for k, v in prof["tables6"].items() if k in used}
    if not any(s != "esp" for s in prof["scenarios"]):
        prof["cg_tables"] = {k: v for k, v in prof["cg_tables"].items() if k == "cg4"}
    a.cp_devices = list(prof["cp_devices"])
    for k in ("reps", "warmup", "window", "flows"):
        if getattr(a, k) is not None:
            prof[k] = getattr(a, k)
    os.makedirs(a.out, exist_ok=True)
    logdir = os.path.join(a.out, "logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    t_begin = time.monotonic()
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": a.quick,
            "reps": prof["reps"], "warmup_s": prof["warmup"], "window_s": prof["window"],
            "flows": prof["flows"], "machine": machine_info(a.peerfwd),
            "load_start": os.getloadavg(),
            # peerfwd (meson -Dcpu) and l3fwd (make) are built with this same -march by
            # run.sh; testpmd is Debian's binary (DPDK's own -march, corei7)
            "march": {"peerfwd": a.march, "l3fwd": a.march,
                      "testpmd": "Debian's binary, DPDK's own flags (%s)" % dpdk_march()}}
    data = Data(a.out, prof, a.peerfwd)
    for name, n in prof["tables4"].items():
        data.table(name, 4, n)
    for name, n in prof["tables6"].items():
        data.table(name, 6, n)
    cg_on = not a.quick and not a.no_callgrind
    if cg_on:
        for name, (fam, n) in prof["cg_tables"].items():
            data.table(name, fam, n)
    perf_ok, perf_note = perf_supported()
    meta["perf"] = {"supported": perf_ok, "note": perf_note}
    log("perf stat cycles: %s" % ("supported" if perf_ok else "unsupported (" + perf_note + ")"))
    mem = Memory(a.out, a.mem)
    results = {"meta": meta, "runs": [], "callgrind": [], "skipped": [], "config_checks": {},
               "failed_attempts": [], "cryptoperf": []}
    try:
        a.peerfwd_help = subprocess.run([a.peerfwd, "--help"], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        a.peerfwd_help = ""
        log("peerfwd --help: %s" % e)

    def on_signal(sig, frm):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        mem.setup()
        meta["memory"] = {"mode": mem.mode, "note": mem.note}
        log("memory: %s (%s)" % (mem.mode, mem.note))
        cpj = cryptoperf_jobs(a, prof)
        if a.only:
            cpj = [c for c in cpj if a.only in c[0]]
        jobs = build_jobs(a, prof, data, mem, logdir, "tp")
        if a.only:
            jobs = [j for j in jobs if a.only in j.key]
        esp_on = bool(cpj) or any(j.scen == "esp" for j in jobs)
        if esp_on:
            esp = results["esp"] = {
                "crypto_dev": a.crypto_dev, "crypto_vdev": espbench.CRYPTO_VDEV[a.crypto_dev],
                "sizes": espbench.size_table(), "secgw_modes": {
                    k: {"sa_type": v[0], "what": v[1]} for k, v in
                    espbench.SECGW_MODES.items()},
                "secgw": a.secgw, "cryptoperf": a.cryptoperf,
                "peerfwd_help_crypto": [l.strip() for l in a.peerfwd_help.splitlines()
                                        if re.search(r"crypt|ipsec|esp\b", l, re.I)]}
            if not a.cryptoperf:
                a.esp_fatal = "dpdk-test-crypto-perf not found (Debian package dpdk)"
            else:
                esp["devices"] = esp_probe(a, mem, logdir)
            cpj = [c for c in cpj if c[1] in a.cp_devices] if not a.esp_fatal else []
            esp["fatal"] = a.esp_fatal
            for j in jobs:
                if j.scen == "esp" and a.esp_fatal and not getattr(j, "skip", None):
                    j.skip = a.esp_fatal
        if esp_on and not a.esp_fatal and any(j.scen == "esp" for j in jobs):
            results["esp"]["verify"] = esp_verify(a, data, prof, mem, logdir)
        for j in jobs:
            if getattr(j, "skip", None):
                results["skipped"].append({"key": j.key, "program": j.program,
                                           "table": j.table, "mix": j.mix, "why": j.skip})
        live = [j for j in jobs if getattr(j, "skip", None) is None]
        log("throughput: %d jobs x %d repetitions, %.1f s warm-up + %.1f s window each"
            % (len(live), prof["reps"], prof["warmup"], prof["window"]))
        for rep in range(prof["reps"]):
            for n, j in enumerate(live):
                for attempt in range(2):
                    r = run_job(a, j, NULL_DEV, prof["warmup"], prof["window"], logdir, rep,
                                perf_ok)
                    if r["ok"] or attempt:
                        break
                    # one retry; the failed attempt is kept, with its log
                    log("rep %d/%d job %2d/%d %-36s failed (%s): retrying once"
                        % (rep + 1, prof["reps"], n + 1, len(live), j.key, r.get("error")))
                    fl = os.path.join(logdir, "%s.rep%d.log" % (j.key, rep))
                    if os.path.exists(fl):
                        os.replace(fl, fl + ".failed")
                    results["failed_attempts"].append(r)
                r["frames"] = j.frames
                r["in_meta"] = {k: v for k, v in j.in_meta.items() if "hist" not in k}
                r["in_meta"]["len_hist"] = j.in_meta[j.frames + "_len_hist"]
                results["runs"].append(r)
                if r["ok"]:
                    log("rep %d/%d job %2d/%d %-36s %6.3f Mpps (start-up %.1f s)"
                        % (rep + 1, prof["reps"], n + 1, len(live), j.key, r["mpps"],
                           r["startup_s"]))
                else:
                    log("rep %d/%d job %2d/%d %-36s FAILED: %s"
                        % (rep + 1, prof["reps"], n + 1, len(live), j.key, r.get("error")))
            # crypto-perf on the same device and sizes, in the same repetition
            for key, dev, mix, gre in cpj:
                r = espbench.run_cryptoperf(
                    a.cryptoperf, prefix_new(), mem.eal(), dev, mix, gre, prof["cp_ops"][mix],
                    os.path.join(logdir, "%s.rep%d.log" % (key, rep)))
                r.update({"key": key, "rep": rep})
                results["cryptoperf"].append(r)
                log("rep %d/%d %-44s %s" % (rep + 1, prof["reps"], key, "%.3f MOps, %.2f Gbps, "
                                            "%.0f cycles/op" % (r["mops"], r["gbps_exact"],
                                                                r["cycles_per_op"])
                                            if r["ok"] else "FAILED: " + r.get("error", "?")))
        if cg_on:
            cgjobs = build_jobs(a, prof, data, mem, logdir, "cg")
            if a.only:
                cgjobs = [j for j in cgjobs if a.only in j.key]
            for j in cgjobs:
                j.cg_packets = a.callgrind_packets
            log("callgrind: %d runs of %d packets (at most %.0f s) each, 2 at a time"
                % (len(cgjobs), a.callgrind_packets, a.callgrind_seconds))
            results["callgrind"] = run_callgrind(a, cgjobs, logdir, a.callgrind_seconds, 2)
    except KeyboardInterrupt:
        log("interrupted: writing what was measured")
        meta["interrupted"] = True
    finally:
        kill_live()
        mem.cleanup()
    results["config_checks"] = data.checks
    results["tables"] = {k: {"family": v["family"], "count": v["count"],
                             "lengths": v["meta"]["lengths"]} for k, v in data.tables.items()}
    meta["load_end"] = os.getloadavg()
    meta["elapsed_s"] = round(time.monotonic() - t_begin, 1)
    meta["scenarios"] = SCEN_DESCR
    meta["line_rate_bps"] = LINE_RATE_BPS
    path = os.path.join(a.out, "results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    log("wrote %s (%.0f s)" % (path, meta["elapsed_s"]))
    failed = [r for r in results["runs"] + results["callgrind"] + results["cryptoperf"]
              if not r["ok"]]
    failed += [s for s in results["skipped"] if s["why"].startswith("ERROR")]
    failed += [v for v in results.get("esp", {}).get("verify", {}).values()
               if v.get("ok") is False]
    return 1 if failed or meta.get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main())
