# SPDX-License-Identifier: BSD-3-Clause
"""peerctl against a running peerfwd: the management socket end to end.

One peerfwd runs for the whole module (pcap vdevs on empty inputs, no --idle-exit, a
--duration long enough as a safety net) with "management": {"socket": <tmpdir>/pf.sock};
the tests run the real peerctl binary against it and check its tables, its --json output,
its exit status (0 ok, 1 error from peerfwd, 2 usage, 3 cannot connect) and its messages.
The last test stops peerfwd (SIGINT) and checks it exits 0, without leak, and removes its
socket.

PEERCTL selects the client (default: peerctl next to the peerfwd under test).
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from pfharness import (DROP_NAMES, EVENT_NAMES, REPO, Skip, TestFailure, base_config, check, eq,
                       out_root, peerfwd_path, require, run, write_pcap, EDGE_PORT, CORE_PORT)

DURATION_S = 300      # safety net only: the last test stops peerfwd
START_TIMEOUT_S = 60


def peerctl_path():
    p = os.environ.get("PEERCTL")
    return Path(p) if p else peerfwd_path().parent / "peerctl"


class Daemon:
    """One peerfwd with a management socket, started on first use."""

    def __init__(self):
        self.dir = out_root() / "peerctl"
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        # a short path: sun_path holds 107 bytes, PF_OUT may be long
        self.tmp = tempfile.mkdtemp(prefix="pfctl")
        self.sock = os.path.join(self.tmp, "pf.sock")
        self.stats = self.dir / "stats.json"
        self.proc = None
        self.rc = None
        self.stdout = self.stderr = ""

    def start(self):
        exe = peerfwd_path()
        if not os.access(str(exe), os.X_OK):
            raise Skip("peerfwd binary not found at %s (set PEERFWD)" % exe)
        if not os.access(str(peerctl_path()), os.X_OK):
            raise Skip("peerctl binary not found at %s (set PEERCTL)" % peerctl_path())
        cfg = base_config()
        cfg["management"] = {"socket": self.sock}
        # a feed that no one connects to: `feeds` has something to show
        self.exabgp_sock = os.path.join(self.tmp, "exabgp.sock")
        cfg["feeds"] = {"exabgp": {"socket": self.exabgp_sock}}
        cfg_p = self.dir / "config.json"
        with open(cfg_p, "w") as f:
            json.dump(cfg, f, indent=2)
        ins = {}
        for tag in ("edge", "core"):
            ins[tag] = self.dir / ("%s_in.pcap" % tag)
            write_pcap(ins[tag], [])
        cmd = [str(exe), "-l", "0,1", "--no-huge", "--no-shconf", "-m", "512", "--no-pci",
               "--log-level=*:warning",
               "--vdev", "%s,rx_pcap=%s,tx_pcap=%s" % (EDGE_PORT, ins["edge"], self.dir / "edge_out.pcap"),
               "--vdev", "%s,rx_pcap=%s,tx_pcap=%s" % (CORE_PORT, ins["core"], self.dir / "core_out.pcap"),
               "--", "--config", str(cfg_p), "--duration", str(DURATION_S),
               "--stats-json", str(self.stats), "--quiet"]
        with open(self.dir / "cmd.sh", "w") as f:
            f.write("#!/bin/sh\n" + " ".join("'%s'" % c if "*" in c or "," in c else c for c in cmd) + "\n")
        self.fo = open(self.dir / "stdout.txt", "wb")
        self.fe = open(self.dir / "stderr.txt", "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.fo, stderr=self.fe, cwd=str(self.dir),
                                     start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._collect()
                raise TestFailure("peerfwd exited (rc %s) before its management socket answered; "
                                  "stderr tail: %s" % (self.proc.returncode, self.stderr.strip().splitlines()[-5:]))
            if os.path.exists(self.sock):
                r = run_peerctl("--socket", self.sock, "--json", "contexts", socket_arg=False)
                if r.rc == 0:
                    return
            time.sleep(0.2)
        self.stop()
        raise TestFailure("peerfwd's management socket %s did not answer within %ss (is "
                          "pf_mgmt_open/pf_mgmt_poll wired into control/main.c?); stderr: %s"
                          % (self.sock, START_TIMEOUT_S, self.stderr.strip().splitlines()[-5:]))

    def _collect(self):
        for f in (getattr(self, "fo", None), getattr(self, "fe", None)):
            if f and not f.closed:
                f.close()
        self.stdout = (self.dir / "stdout.txt").read_text(errors="replace")
        self.stderr = (self.dir / "stderr.txt").read_text(errors="replace")

    def stop(self):
        if self.proc is None:
            return self.rc
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.rc = self.proc.returncode
        self.proc = None
        self._collect()
        return self.rc

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


_daemon = None


def daemon():
    global _daemon
    if _daemon is None:
        _daemon = Daemon()
        atexit.register(_daemon.cleanup)
        _daemon.start()
    elif _daemon.proc is None:
        raise TestFailure("peerfwd is not running (stopped or failed to start earlier)")
    return _daemon


class Run:
    def __init__(self, rc, out, err, args):
        self.rc, self.out, self.err, self.args = rc, out, err, args

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise TestFailure("peerctl %s: --json output does not parse (%s): %r"
                              % (" ".join(self.args), e, self.out[:300]))

    def __repr__(self):
        return "peerctl %s -> rc %s, stdout %r, stderr %r" % (
            " ".join(self.args), self.rc, self.out[:400], self.err[:400])


def run_peerctl(*args, socket_arg=True, env=None, timeout=30):
    argv = [str(peerctl_path())]
    if socket_arg:
        argv += ["--socket", daemon().sock]
    argv += list(args)
    e = dict(os.environ)
    e.pop("PEERFWD_SOCKET", None)
    if env:
        e.update(env)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout)
    return Run(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"),
               argv[1:])


def ok(*args, **kw):
    r = run_peerctl(*args, **kw)
    require(r.rc == 0, "expected exit 0: %r" % r)
    check(r.err == "", "stderr not empty on success: %r" % r)
    return r


def fails(rc, msg, *args, **kw):
    """peerctl must exit rc with msg in its stderr and print nothing on stdout."""
    r = run_peerctl(*args, **kw)
    check(r.rc == rc, "expected exit %d: %r" % (rc, r))
    check(msg in r.err, "stderr lacks %r: %r" % (msg, r))
    check(r.out == "", "stdout not empty on error: %r" % r)
    check(r.err.startswith("peerctl: "), "message not prefixed with 'peerctl: ': %r" % r)
    return r


def line_of(text, start):
    for ln in text.splitlines():
        if ln.startswith(start):
            return ln
    return None


def route_of(routes, prefix):
    for r in routes:
        if r.get("prefix") == prefix:
            return r
    return None


# ---- tests ------------------------------------------------------------------------------
def test_peerctl_contexts():
    d = daemon()
    r = ok("contexts")
    lines = r.out.splitlines()
    require(lines, "no output: %r" % r)
    hdr = lines[0].split()
    eq(hdr[:4], ["ID", "CONTEXT", "KIND", "CUSTOMER"], "contexts header")
    eq(len(lines), 6, "header + 5 contexts")
    cp = line_of(r.out, "1 ")
    require(cp is not None, "no context 1 line: %r" % r)
    for word in ("contoso-private", "private", "contoso", "vlan 555", "172.16.1.0/30",
                 "2001:db8:a1::/126", "172.16.2.0/30"):
        check(word in cp, "contexts line %r lacks %r" % (cp, word))
    fp = line_of(r.out, "3 ")
    check(fp is not None and "qinq 100.555 (0x88a8)" in fp, "fabrikam-private tags: %r" % fp)
    core = line_of(r.out, "0 ")
    check(core is not None and "192.0.2.0/24" in core and "gw 192.0.2.254" in core,
          "core line %r" % core)
    # columns are aligned: every line has the CONTEXT column at the same offset
    off = lines[0].index("CONTEXT")
    for ln in lines[1:]:
        check(ln[off - 2:off] == "  " and ln[off] != " ", "column CONTEXT not aligned in %r" % ln)
    j = ok("--json", "contexts").json()
    eq([c["name"] for c in j], ["core", "contoso-private", "contoso-public", "fabrikam-private",
                                "fabrikam-microsoft"], "context names")
    eq([c["id"] for c in j], [0, 1, 2, 3, 4], "context ids")
    c = j[1]
    eq((c["kind"], c["customer"], c["tags"], c["gre"]["key"]), ("private", "contoso", {"vlan": 555}, 1001),
       "contoso-private kind/customer/tags/gre key")
    eq((c["routes4"], c["routes6"]), (7, 4), "contoso-private route counts")
    eq(c["links"][0]["peer"], "172.16.1.1", "primary peer")
    eq(c["links"][0]["address"], "172.16.1.2", "our primary address")
    # options may also come after the command, and PEERFWD_SOCKET replaces --socket
    j2 = ok("contexts", "--json", socket_arg=False, env={"PEERFWD_SOCKET": d.sock}).json()
    eq(j2, j, "contexts via PEERFWD_SOCKET with --json after the command")


def test_peerctl_routes():
    r = ok("routes", "contoso-private")
    ln = line_of(r.out, "10.0.0.0/16 ")
    require(ln is not None, "no 10.0.0.0/16 line: %r" % r)
    for word in ("gre", "key 1001", "198.51.100.1", "192.0.2.254", "02:00:00:00:0c:fe", "static"):
        check(word in ln, "route line %r lacks %r" % (ln, word))
    ln = line_of(r.out, "172.16.1.2/32 ")
    check(ln is not None and " local " in ln, "172.16.1.2/32 line %r" % ln)
    ln = line_of(r.out, "172.16.2.1/32 ")
    check(ln is not None and "unresolved" in ln, "secondary peer without MAC: %r" % ln)
    check(r.out.splitlines()[0].split()[:2] == ["PREFIX", "TYPE"], "routes header: %r" % r.out[:100])
    j = ok("--json", "routes", "contoso-private").json()
    eq((j["context"], j["total"], j["truncated"], len(j["routes"])), ("contoso-private", 11, False, 11),
       "routes context/total/truncated/count")
    v = route_of(j["routes"], "10.0.0.0/16")
    require(v is not None, "no 10.0.0.0/16 in %s" % j)
    eq((v["nexthop"]["type"], v["nexthop"]["gre_key"], v["nexthop"]["tunnel_destination"], v["source"]),
       ("gre", 1001, "198.51.100.1", "static"), "10.0.0.0/16 next hop")
    j = ok("--json", "routes", "contoso-private", "--family", "6").json()
    eq(sorted({x["family"] for x in j["routes"]}), [6], "--family 6")
    eq(j["total"], 4, "IPv6 routes")
    r = ok("routes", "contoso-private", "--limit", "2")
    eq(len(r.out.splitlines()), 4, "header + 2 routes + truncation note")
    check("showing 2 of 11 routes" in r.out, "truncation note missing: %r" % r.out)
    j = ok("--json", "routes", "fabrikam-private", "--limit=100").json()
    v = route_of(j["routes"], "10.0.0.0/16")
    eq(v and v["nexthop"]["gre_key"], 2002, "fabrikam's overlapping VNet uses its own key")


def test_peerctl_lookup():
    r = ok("lookup", "contoso-private", "172.16.1.2")
    check("172.16.1.2 in contoso-private" in r.out, "lookup heading: %r" % r.out)
    ln = line_of(r.out, "172.16.1.2/32 ")
    check(ln is not None and " local " in ln, "172.16.1.2 -> local: %r" % r.out)
    j = ok("--json", "lookup", "contoso-private", "172.16.1.2").json()
    eq((j["route"]["prefix"], j["route"]["nexthop"]["type"]), ("172.16.1.2/32", "local"), "lookup json")
    j = ok("--json", "lookup", "contoso-private", "10.0.1.5").json()
    eq((j["route"]["prefix"], j["route"]["nexthop"]["gre_key"]), ("10.0.0.0/16", 1001), "VNet lookup")
    j = ok("--json", "lookup", "fabrikam-private", "10.0.1.5").json()
    eq(j["route"]["nexthop"]["gre_key"], 2002, "same address, other customer")
    j = ok("--json", "lookup", "contoso-private", "fd00:1::5").json()
    eq(j["route"]["prefix"], "fd00:1::/48", "IPv6 lookup")
    r = ok("lookup", "contoso-private", "8.8.8.8")
    check("no route" in r.out, "no route message: %r" % r.out)
    eq(ok("--json", "lookup", "contoso-private", "8.8.8.8").json()["route"], None, "no route in json")


def test_peerctl_counters():
    j = ok("--json", "counters").json()
    for k in ("ports", "contexts", "customers", "drops", "events", "mempool"):
        check(k in j, "counters lack %r (have %s)" % (k, sorted(j)))
    check(not [n for n in DROP_NAMES if n not in j.get("drops", {})], "drop names missing")
    check(not [n for n in EVENT_NAMES if n not in j.get("events", {})], "event names missing")
    for p in (EDGE_PORT, CORE_PORT):
        check(p in j.get("ports", {}), "counters lack port %s" % p)
    eq(sorted(j.get("contexts", {})), sorted(["core", "contoso-private", "contoso-public",
                                              "fabrikam-private", "fabrikam-microsoft"]), "counter contexts")
    check("applier" in j, "counters lack the route applier's ('applier'): %s" % sorted(j))
    r = ok("counters")
    for word in ("PORT", EDGE_PORT, "CONTEXT", "contoso-private", "CUSTOMER", "fabrikam", "drops:",
                 "events:", "mbufs:"):
        check(word in r.out, "counters text lacks %r" % word)


def test_peerctl_feeds():
    j = ok("--json", "feeds").json()
    require(isinstance(j, list) and len(j) == 1, "feeds: expected the ExaBGP feed: %r" % j)
    f = j[0]
    eq((f.get("name"), f.get("source"), f.get("sessions"), f.get("msgs_in"), f.get("enqueued"),
        f.get("last_update")), ("exabgp", "exabgp", 0, 0, 0, None), "idle ExaBGP feed")
    check(isinstance(f.get("bad"), dict) and f["bad"].get("bad_json") == 0, "bad counters: %r" % f)
    r = ok("feeds")
    lines = r.out.splitlines()
    check(lines and lines[0].split()[:3] == ["FEED", "SOURCE", "SESSIONS"], "feeds header: %r" % r.out)
    check(len(lines) == 2 and lines[1].startswith("exabgp") and "never" in lines[1],
          "feeds row: %r" % r.out)


def wait_for(what, cond, timeout=10.0):
    """Poll cond() (which returns a value or None) until it gives a value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v is not None:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out waiting for %s" % what)
        time.sleep(0.1)


def test_peerctl_feed_routes():
    """Routes from the ExaBGP feed show up with their source, the feed's counters move, and
    the routes go when the feed connection closes."""
    d = daemon()
    fx = REPO / "tests" / "fixtures" / "exabgp" / "01-up.jsonl"
    if not fx.exists():
        raise Skip("no ExaBGP fixture %s" % fx)
    ctx, pfx = "contoso-private", "198.51.100.0/24"

    def feed_route():
        r = ok("--json", "lookup", ctx, "198.51.100.7").json()["route"]
        return r if r and r["prefix"] == pfx else None

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(d.exabgp_sock)
    try:
        s.sendall(fx.read_bytes())
        r = wait_for("%s from the ExaBGP feed in %s" % (pfx, ctx), feed_route)
        eq((r["source"], r["nexthop"]["type"], r["nexthop"]["neighbor"]),
           ("exabgp", "edge", "172.16.1.1"), "the feed's route")
        f = ok("--json", "feeds").json()[0]
        check(f["msgs_in"] > 0 and f["enqueued"] > 0 and f["last_update"] is not None,
              "feed counters did not move: %r" % f)
        check(f["sessions"] >= 1, "no session while connected: %r" % f)
        ln = line_of(ok("routes", ctx).out, pfx + " ")
        check(ln is not None and ln.rstrip().endswith("exabgp"), "routes line %r" % ln)
        row = ok("feeds").out.splitlines()[-1]
        check("s ago)" in row, "feeds row without the time of the last update: %r" % row)
    finally:
        s.close()
    wait_for("%s withdrawn after the feed closed" % pfx, lambda: True if feed_route() is None else None)


def test_peerctl_route_add_del():
    ctx = "contoso-private"
    r = run_peerctl("route", "add", ctx, "10.50.0.0/16", "via", "gre")
    require(not (r.rc == 1 and "not running" in r.err),
            "the route applier is not attached to the management context (mgmt ctx.applier): %r" % r)
    require(r.rc == 0, "route add: %r" % r)
    check("contoso-private: added 10.50.0.0/16 via gre" in r.out, "route add output: %r" % r.out)
    ln = line_of(r.out, "10.50.0.0/16 ")
    check(ln is not None and "key 1001" in ln and ln.rstrip().endswith("cli"), "added route line: %r" % r.out)
    j = ok("--json", "lookup", ctx, "10.50.7.7").json()
    eq((j["route"] or {}).get("prefix"), "10.50.0.0/16", "lookup hits the added route")
    eq((j["route"] or {}).get("source"), "cli", "source of the added route")
    j = ok("--json", "routes", ctx).json()
    eq(j["total"], 12, "routes after add")
    base = {c: ok("--json", "routes", c).json()["total"] for c in (ctx, "contoso-public")}
    # the other via words and an address
    for c, p, via, nh_type, nbr in ((ctx, "100.70.0.0/16", "peer", "edge", "172.16.1.1"),
                                    (ctx, "2001:db8:2000::/48", "peer", "edge", "2001:db8:a1::1"),
                                    (ctx, "100.71.0.0/16", "172.16.2.1", "edge", "172.16.2.1"),
                                    ("contoso-public", "20.0.0.0/8", "core", "core", "192.0.2.254"),
                                    (ctx, "10.66.0.0/16", "drop", "drop", None)):
        j = ok("--json", "route", "add", c, p, "via", via).json()
        nh = (j.get("route") or {}).get("nexthop", {})
        eq((nh.get("type"), nh.get("neighbor")), (nh_type, nbr), "route add %s %s via %s" % (c, p, via))
        ok("route", "del", c, p)
        eq(ok("--json", "routes", c).json()["total"], base[c], "routes of %s after del %s" % (c, p))
    r = ok("route", "del", ctx, "10.50.0.0/16")
    check("contoso-private: removed 10.50.0.0/16" in r.out, "route del output: %r" % r.out)
    eq(ok("--json", "lookup", ctx, "10.50.7.7").json()["route"], None, "no route after del")
    eq(ok("--json", "routes", ctx).json()["total"], 11, "routes after del")
    # the configuration's routes are not the CLI's to remove
    fails(1, "rejected", "route", "del", ctx, "10.0.0.0/16")
    eq(ok("--json", "lookup", ctx, "10.0.1.1").json()["route"]["source"], "static", "static route kept")


def test_peerctl_errors():
    d = daemon()
    # usage: exit 2
    fails(2, "no command given")
    fails(2, "unknown command 'frob'", "frob")
    fails(2, "usage: routes CONTEXT", "routes")
    fails(2, "--family: '5' is not 4 or 6", "routes", "core", "--family", "5")
    fails(2, "--limit: '0' is not 1..10000000", "routes", "core", "--limit", "0")
    fails(2, "--family and --limit are options of 'routes'", "--limit", "3", "contexts")
    fails(2, "usage: lookup CONTEXT ADDRESS", "lookup", "contoso-private")
    fails(2, "usage: route add CONTEXT PREFIX via VIA", "route", "add", "contoso-private", "10.1.0.0/16", "gre")
    fails(2, "'route' needs 'add' or 'del'", "route")
    fails(2, "'contexts' takes no arguments", "contexts", "extra")
    fails(2, "unknown option '--frob'", "--frob", "contexts")
    fails(2, "--timeout: 'abc' is not a number of seconds", "--timeout", "abc", "contexts")
    fails(2, "--socket needs a value", "contexts", "--socket", socket_arg=False)
    # peerfwd says no: exit 1, its message
    fails(1, "no context 'nosuch' (the contexts command lists them)", "routes", "nosuch")
    fails(1, "'10.0.0.0/8' is not an IPv4 or IPv6 address", "lookup", "contoso-private", "10.0.0.0/8")
    fails(1, "10.50.0.1/16 has host bits set (did you mean 10.50.0.0/16?)",
          "route", "add", "contoso-private", "10.50.0.1/16", "via", "gre")
    fails(1, "'gre' is only valid in a private context", "route", "add", "contoso-public", "20.0.0.0/8", "via", "gre")
    fails(1, "via 'tunnel' is not peer, gre, core, drop or an IP address",
          "route", "add", "contoso-private", "10.50.0.0/16", "via", "tunnel")
    fails(1, "not a prefix", "route", "add", "contoso-private", "banana", "via", "gre")
    # cannot connect: exit 3
    missing = os.path.join(d.tmp, "missing.sock")
    fails(3, "cannot connect to %s: No such file or directory" % missing, "--socket", missing,
          "contexts", socket_arg=False)
    fails(3, "cannot connect", "contexts", socket_arg=False,
          env={"PEERFWD_SOCKET": os.path.join(d.tmp, "nope.sock")})
    # help
    r = run_peerctl("--help", socket_arg=False)
    eq(r.rc, 0, "--help exit status")
    check(r.out.startswith("Usage: peerctl") and "route add CONTEXT PREFIX via VIA" in r.out, "--help text")


def test_peerctl_timeout_and_bad_server():
    """Not peerfwd at the other end: a socket that never answers (exit 1 after --timeout),
    one that answers garbage (exit 1), a path that is no socket (exit 3)."""
    d = daemon()
    silent = os.path.join(d.tmp, "silent.sock")
    garbage = os.path.join(d.tmp, "garbage.sock")
    srv = []
    for path in (silent, garbage):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(4)
        srv.append(s)

    def answer_garbage(s):
        c, _ = s.accept()
        c.recv(4096)
        c.sendall(b"hello\n")
        c.close()

    t = threading.Thread(target=answer_garbage, args=(srv[1],), daemon=True)
    t.start()
    try:
        t0 = time.monotonic()
        fails(1, "no reply within 0.500 s", "--socket", silent, "--timeout", "0.5", "contexts", socket_arg=False)
        dt = time.monotonic() - t0
        check(0.4 < dt < 5, "--timeout 0.5 took %.2fs" % dt)
        fails(1, "not a management reply", "--socket", garbage, "contexts", socket_arg=False)
        notsock = os.path.join(d.tmp, "file")
        with open(notsock, "w") as f:
            f.write("x")
        fails(3, "cannot connect to %s" % notsock, "--socket", notsock, "contexts", socket_arg=False)
    finally:
        for s in srv:
            s.close()
        t.join(timeout=5)


def test_peerctl_socket_path_refused():
    """A management socket path that holds a regular file: peerfwd does not start (exit 1),
    says why, and leaves the file alone; --socket overrides the configuration's path."""
    tmp = tempfile.mkdtemp(prefix="pfctl")
    try:
        path = os.path.join(tmp, "not-a-socket")
        with open(path, "w") as f:
            f.write("keep me\n")
        cfg = base_config()
        cfg["management"] = {"socket": path}
        r = run("peerctl_socket_refused", config=cfg)
        eq(r.rc, 1, "exit status with a regular file as management socket")
        check("management socket %s: exists and is not a socket; refusing to replace it" % path
              in r.stderr, "message: %r" % r.stderr[-400:])
        with open(path) as f:
            eq(f.read(), "keep me\n", "the file was modified")
        other = os.path.join(tmp, "other-file")
        with open(other, "w") as f:
            f.write("x")
        cfg["management"] = {"socket": os.path.join(tmp, "unused.sock")}
        r = run("peerctl_socket_override", config=cfg, extra_app=["--socket", other])
        eq(r.rc, 1, "exit status with --socket naming a regular file")
        check("management socket %s: exists and is not a socket" % other in r.stderr,
              "--socket does not override the configuration: %r" % r.stderr[-400:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_peerctl_zz_stop():
    """Last: peerfwd still forwards and answers after all that, then stops cleanly."""
    d = daemon()
    ok("--json", "contexts")
    rc = d.stop()
    eq(rc, 0, "peerfwd exit status after SIGINT (stderr tail %s)" % d.stderr.strip().splitlines()[-5:])
    check(not os.path.exists(d.sock), "management socket %s left behind after exit" % d.sock)
    require(d.stats.exists(), "no --stats-json written")
    with open(d.stats) as f:
        st = json.load(f)
    mp = st["mempool"]
    check(mp["available_at_exit"] == mp["size"], "mbuf leak: %s" % mp)
    fails(3, "cannot connect", "--socket", d.sock, "contexts", socket_arg=False)
