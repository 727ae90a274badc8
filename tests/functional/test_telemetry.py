# SPDX-License-Identifier: BSD-3-Clause
"""Counters while running: the DPDK telemetry commands /peerfwd/* (served on DPDK's
telemetry thread while the worker forwards) and --stats-json-interval (periodic, atomic
rewrites of the --stats-json file)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from pfharness import *  # noqa: F401,F403
from pfharness import check, eq, require, out_root, peerfwd_path, base_config, write_pcap


def _query(sock, cmd):
    sock.send(cmd.encode())
    return json.loads(sock.recv(1 << 16).decode())[cmd.split(",")[0]]


def test_telemetry_and_periodic_json():
    d = out_root() / "telemetry"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    # forwarded (contoso VNet over GRE) and dropped (VLAN 999: unknown_vlan), replayed forever
    pkts = []
    for i in range(64):
        pkts.append(mk_edge([555], IP(src=CONTOSO_ONPREM, dst="10.0.0.%d" % (i + 1)) /
                            UDP(sport=1000 + i, dport=80) / udp_payload(20)))
    pkts.append(mk_edge([999], IP(src=CONTOSO_ONPREM, dst="10.0.0.1") / UDP() / udp_payload(20)))
    write_pcap(d / "edge_in.pcap", pkts)
    write_pcap(d / "core_in.pcap", [])
    cfg_p, stats_p = d / "config.json", d / "stats.json"
    with open(cfg_p, "w") as f:
        json.dump(base_config(), f)
    prefix = "pft_tel%d" % os.getpid()
    rundir = "/var/run/dpdk/" + prefix
    cmd = [str(peerfwd_path()), "-l", "0,1", "--no-huge", "-m", "512", "--no-pci",
           "--file-prefix", prefix, "--log-level=*:warning",
           "--vdev", "%s,rx_pcap=%s,infinite_rx=1" % (EDGE_PORT, d / "edge_in.pcap"),
           "--vdev", "%s,rx_pcap=%s,tx_pcap=/dev/null" % (CORE_PORT, d / "core_in.pcap"),
           "--", "--config", str(cfg_p), "--duration", "4", "-q",
           "--stats-json", str(stats_p), "--stats-json-interval", "1"]
    with open(d / "stdout.txt", "wb") as fo, open(d / "stderr.txt", "wb") as fe:
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, start_new_session=True)
    s = None
    try:
        deadline = time.monotonic() + 20
        while s is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.settimeout(5)
                s.connect(rundir + "/dpdk_telemetry.v2")
                s.recv(1 << 16)
            except OSError:
                s = None
                time.sleep(0.1)
        require(s is not None, "no telemetry socket in %s" % rundir)
        # the commands exist once the workers run: wait for traffic
        st = None
        while time.monotonic() < deadline:
            st = _query(s, "/peerfwd/stats")
            if st and st["ports"][EDGE_PORT]["rx_packets"] > 1000:
                break
            time.sleep(0.1)
        require(st, "/peerfwd/stats answered %r" % st)
        for k in ("ports", "contexts", "customers", "drops", "events", "mempool", "applier"):
            check(k in st, "/peerfwd/stats lacks %s" % k)
        cp = st["contexts"]["contoso_private"]
        eq(cp["name"], "contoso-private", "real name next to the sanitized key")
        check(cp["in_packets"] > 0, "contoso-private in_packets counted")
        check(st["drops"]["unknown_vlan"] > 0, "unknown_vlan drops counted")
        eq(st["drops"]["total"], sum(v for k, v in st["drops"].items() if k != "total"),
           "drops total")
        check(st["mempool"]["size"] >= 16383, "mempool size")
        check(st["applier"]["fib_routes4"] > 0, "applier FIB routes published")
        d1 = _query(s, "/peerfwd/drops")
        check(set(d1) == {"unknown_vlan", "total"}, "/peerfwd/drops: only non-zero + total: %s" % d1)
        time.sleep(0.3)
        d2 = _query(s, "/peerfwd/drops")
        check(d2["unknown_vlan"] > d1["unknown_vlan"], "drops move while forwarding")
        eq(len(_query(s, "/peerfwd/drops,all")), len(st["drops"]), "drops,all lists every reason")
        c = _query(s, "/peerfwd/context,contoso-private")
        eq((c["name"], c["kind"]), ("contoso-private", "private"), "/peerfwd/context,NAME")
        eq(_query(s, "/peerfwd/context,%d" % c["id"])["name"], "contoso-private", "context by id")
        eq(_query(s, "/peerfwd/context,nosuch"), None, "unknown context")
        eq(_query(s, "/peerfwd/customer,contoso")["id"], 1, "/peerfwd/customer,NAME")
        # the periodic JSON is written while running
        while time.monotonic() < deadline and not stats_p.exists():
            time.sleep(0.1)
        require(stats_p.exists(), "--stats-json-interval 1 wrote nothing while running")
        mid = json.loads(stats_p.read_text())
        check(mid["ports"][EDGE_PORT]["rx_packets"] > 0, "periodic JSON has counters")
        check(not os.path.exists(str(stats_p) + ".tmp"), "no temporary file left")
        s.close()
        s = None
        rc = proc.wait(timeout=30)
        eq(rc, 0, "exit status")
    finally:
        if s is not None:
            s.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(rundir, ignore_errors=True)
    final = json.loads(stats_p.read_text())
    check(final["drops"]["unknown_vlan"] >= d2["unknown_vlan"], "final counters >= running ones")
    check(final["ports"][EDGE_PORT]["rx_packets"] > mid["ports"][EDGE_PORT]["rx_packets"],
          "final JSON replaced the periodic one")
