#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ESP (IPsec) part of the benchmark harness, used by bench/pfbench.py (see bench/README.md).

 * ESP sizes: what peerfwd and ipsec-secgw actually encrypt for each benchmark frame
   (esp_lengths, mix_lengths), so that dpdk-test-crypto-perf runs on the same buffer sizes;
 * dpdk-test-crypto-perf: command line (AES-GCM-128 AEAD encrypt, 12-byte nonce, 8-byte AAD,
   16-byte ICV, burst 32, one worker lcore, throughput test) and its CSV output;
 * ipsec-secgw: its configuration file (the same outbound SA as peerfwd's) and command line;
 * verify_pcap: decrypts a program's ESP output with scapy and checks it against the input.

ESP tunnel mode, RFC 4303 / RFC 4106 (AES-GCM), IPv4, no ESN, no UDP encapsulation:
    outer IPv4 (20) | ESP header: SPI, SN (8) | IV (8) | encrypted: payload | pad | pad
    length, next header (2) | ICV (16)
GCM needs no block alignment, ESP needs the trailer to end on a 4-byte boundary, so the pad
is 0..3 bytes. The AAD is SPI||SN (8 bytes, 12 with ESN); the 12-byte nonce is the SA's
4-byte salt || the 8-byte IV. The encrypted length (payload + pad + 2) is crypto-perf's
--buffer-sz, the amount of data AES-GCM runs over.

  peerfwd: payload = the GRE packet = outer IPv4 (20) + GRE with key (8) + the customer's IP
           packet (VLAN tag removed);
  ipsec-secgw: payload = the customer's IP packet (it does no GRE).
"""
import json
import os
import re
import shutil
import subprocess
import time

OUTER_IP = 20
GRE_OUTER = 20 + 4 + 4         # IPv4 + GRE base header + key (peerfwd's GRE, key 1001)
ESP_HDR, ESP_IV, ESP_TRAILER, ESP_ICV = 8, 8, 2, 16
AAD_BYTES, NONCE_BYTES = 8, 12
# benchmark frames (Ethernet with FCS, untagged): mixes of bench/gen_traffic.py
MIX_FRAMES = {"64": [(64, 1)], "imix": [(64, 7), (570, 4), (1518, 1)], "1400": [(1400, 1)]}
SPI_OUT, SPI_IN = 4097, 8193
TUN_SRC, TUN_DST = "192.0.2.1", "198.51.100.1"
CORE_GW_MAC = "02:00:00:00:0c:fe"
# dpdk-test-crypto-perf --devtype name -> EAL vdev
CRYPTO_VDEV = {"crypto_aesni_gcm": "crypto_aesni_gcm0", "crypto_aesni_mb": "crypto_aesni_mb0",
               "crypto_openssl": "crypto_openssl0"}


def esp_lengths(ip_len, gre=True):
    """Bytes of one ESP tunnel-mode packet around an IP packet of ip_len bytes."""
    plain = ip_len + (GRE_OUTER if gre else 0)
    enc = plain + ESP_TRAILER
    enc += (-enc) % 4
    return {"inner_ip": ip_len, "plaintext": plain, "pad": enc - plain - ESP_TRAILER,
            "encrypted": enc, "esp_ip": OUTER_IP + ESP_HDR + ESP_IV + enc + ESP_ICV}


def mix_lengths(mix, gre=True):
    """[(frame, weight, esp_lengths)] of a mix, and the weighted mean encrypted length."""
    rows = [(f, w, esp_lengths(f - 18, gre)) for f, w in MIX_FRAMES[mix]]
    tot = sum(w for _, w, _ in rows)
    mean = sum(w * e["encrypted"] for _, w, e in rows) / tot
    return rows, mean


def size_table():
    """Document the sizes (results.json and RESULTS.md)."""
    out = []
    for mix in ("64", "imix", "1400"):
        for f, w, e in mix_lengths(mix, True)[0]:
            s = esp_lengths(f - 18, False)
            out.append({"mix": mix, "frame": f, "weight": w, "inner_ip": e["inner_ip"],
                        "peerfwd_plaintext": e["plaintext"], "peerfwd_encrypted":
                        e["encrypted"], "peerfwd_esp_ip": e["esp_ip"],
                        "secgw_encrypted": s["encrypted"], "secgw_esp_ip": s["esp_ip"]})
    return out


# ---------------------------------------------------------------- dpdk-test-crypto-perf

def cryptoperf_cmd(binary, prefix, mem, devtype, mix, gre, total_ops, burst=32):
    rows, _ = mix_lengths(mix, gre)
    sizes = [str(e["encrypted"]) for _, _, e in rows]
    cmd = ([binary, "-l", "0,1"] + mem +
           ["--no-pci", "--file-prefix", prefix, "--log-level=*:warning",
            "--vdev", CRYPTO_VDEV[devtype], "--",
            "--ptest", "throughput", "--devtype", devtype, "--optype", "aead",
            "--aead-algo", "aes-gcm", "--aead-op", "encrypt", "--aead-key-sz", "16",
            "--aead-iv-sz", str(NONCE_BYTES), "--aead-aad-sz", str(AAD_BYTES),
            "--digest-sz", str(ESP_ICV), "--burst-sz", str(burst),
            "--total-ops", str(total_ops), "--buffer-sz", ",".join(sizes),
            "--silent", "--csv-friendly"])
    if len(rows) > 1:
        cmd += ["--imix", ",".join(str(w) for _, w, _ in rows)]
    return cmd


CSV_RE = re.compile(r"^\s*(\d+),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+),([\d.]+),([\d.]+),([\d.]+)\s*$",
                    re.M)


def parse_cryptoperf(text):
    """Rows of crypto-perf's throughput CSV (--csv-friendly):
    lcore,buffer size,burst,enqueued,dequeued,failed enq,failed deq,MOps,Gbps,cycles/buf."""
    out = []
    for m in CSV_RE.finditer(text):
        g = m.groups()
        out.append({"lcore": int(g[0]), "buffer_sz": int(g[1]), "burst": int(g[2]),
                    "enqueued": int(g[3]), "dequeued": int(g[4]), "failed_enq": int(g[5]),
                    "failed_deq": int(g[6]), "mops": float(g[7]), "gbps": float(g[8]),
                    "cycles_per_op": float(g[9])})
    return out


def run_cryptoperf(binary, prefix, mem, devtype, mix, gre, total_ops, log_path, timeout=120):
    """One crypto-perf process; returns a result dict (ok, ops/s, Gbps, cycles/op)."""
    rows, mean = mix_lengths(mix, gre)
    cmd = cryptoperf_cmd(binary, prefix, mem, devtype, mix, gre, total_ops)
    res = {"program": "crypto-perf", "device": devtype, "mix": mix,
           "sizes_of": "peerfwd" if gre else "secgw",
           "buffer_sizes": [e["encrypted"] for _, _, e in rows],
           "weights": [w for _, w, _ in rows], "mean_encrypted_bytes": mean,
           "total_ops": total_ops, "cmd": " ".join(cmd), "ok": False,
           "load_before": os.getloadavg()[0]}
    t0 = time.monotonic()
    try:
        with open(log_path, "w+") as lf:
            p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT,
                                 start_new_session=True)
            # the worker lcore's on-CPU time (it blocks until the test is launched on it and
            # again after it; polled every 20 ms, the last value before exit is kept)
            tid, cpu_ns = None, None
            while p.poll() is None:
                if time.monotonic() - t0 > timeout:
                    os.killpg(p.pid, 9)
                    p.wait()
                    raise subprocess.TimeoutExpired(cmd, timeout)
                if not tid:
                    tid = worker_tid(p.pid)
                    if tid:
                        # the main lcore only busy-waits for the worker (rte_eal_mp_wait_lcore):
                        # lowest priority, so it does not take a vCPU from the measured
                        # worker (setpriority on a thread id renices that thread only)
                        try:
                            os.setpriority(os.PRIO_PROCESS, p.pid, 19)
                            res["main_lcore_niced"] = True
                        except OSError:
                            pass
                if tid:
                    v = schedstat_ns(p.pid, tid)
                    cpu_ns = v if v is not None else cpu_ns
                time.sleep(0.02)
            lf.seek(0)
            text = lf.read()
        res["exit"] = p.returncode
        parsed = parse_cryptoperf(text)
        if p.returncode != 0 or not parsed:
            res["error"] = "exit %d, %d result rows" % (p.returncode, len(parsed))
            res["log_tail"] = text[-1500:]
        else:
            r = parsed[-1]
            res.update(r)
            res["ok"] = r["dequeued"] == total_ops and r["failed_deq"] == 0
            if not res["ok"]:
                res["error"] = "dequeued %d of %d" % (r["dequeued"], total_ops)
            # crypto-perf's Gbps uses the integer mean buffer size for IMIX: recompute
            res["gbps_exact"] = r["mops"] * 1e6 * mean * 8 / 1e9
            if cpu_ns and r["mops"]:
                busy_s = r["dequeued"] / (r["mops"] * 1e6)      # the test's wall time
                res["cpu_share"] = min(1.0, cpu_ns / 1e9 / busy_s)
                res["mops_per_cpu_s"] = r["dequeued"] / (cpu_ns / 1e9) / 1e6
    except subprocess.TimeoutExpired:
        res["error"] = "timeout after %d s" % timeout
    except OSError as e:
        res["error"] = "cannot run: %s" % e
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)   # its runtime directory
    res["wall_s"] = round(time.monotonic() - t0, 2)
    res["load_after"] = os.getloadavg()[0]
    return res


def worker_tid(pid):
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                if f.read().strip().startswith(("lcore-worker", "rte-worker")):
                    return int(t)
    except (OSError, ValueError):
        pass
    return None


def schedstat_ns(pid, tid):
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- ipsec-secgw

SECGW_MODES = {
    # mode key -> (SA "type" keyword of DPDK 22.11's ipsec-secgw, description)
    "cpu": ("cpu-crypto", "librte_ipsec path (-l), SA type cpu-crypto: synchronous "
            "rte_cryptodev_sym_cpu_crypto_process() on the worker, no crypto ops"),
    "la": ("no-offload", "librte_ipsec path (-l), SA type no-offload (= lookaside-none): "
           "crypto ops enqueued to the cryptodev queue pair and dequeued on the same lcore"),
}


def secgw_config(path, mode, key_out, key_in):
    """ipsec-secgw configuration: the benchmark's outbound SA (same key, SPI, endpoints as
    peerfwd's), one outbound SP rule protecting everything, one route for the tunnel
    endpoint, the core gateway's MAC. The inbound SA/SP exist because ipsec-secgw refuses an
    unprotected port without an inbound SA; no inbound traffic is sent."""
    typ = SECGW_MODES[mode][0]

    def hexkey(b):
        return ":".join("%02x" % x for x in b)
    lines = [
        "# generated by bench/espbench.py (peerfwd benchmark), mode %s" % mode,
        "sp ipv4 out esp protect %d pri 1 dst 0.0.0.0/0 sport 0:65535 dport 0:65535" % SPI_OUT,
        "sp ipv4 in esp protect %d pri 1 dst 0.0.0.0/0 sport 0:65535 dport 0:65535" % SPI_IN,
        "sa out %d aead_algo aes-128-gcm aead_key %s mode ipv4-tunnel src %s dst %s type %s"
        % (SPI_OUT, hexkey(key_out), TUN_SRC, TUN_DST, typ),
        "sa in %d aead_algo aes-128-gcm aead_key %s mode ipv4-tunnel src %s dst %s type %s"
        % (SPI_IN, hexkey(key_in), TUN_DST, TUN_SRC, typ),
        "rt ipv4 dst 198.51.100.0/24 port 1",
        "neigh port 1 %s" % CORE_GW_MAC,
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def secgw_args(cfg):
    """After the EAL options: port 0 (pcap, cleartext) is *protected*, port 1 (null, the ESP
    side) *unprotected* (-u 0x2): ipsec-secgw encrypts what arrives on a protected port.
    MTU 1600: with the default 1500 the 1518-byte IMIX frames (1556 bytes after ESP) would
    be dropped (no -j/fragmentation); 1600 still fits the default 2176-byte mbufs, so no
    multi-segment mode is forced. 16384 mbufs as testpmd and peerfwd."""
    return ["-p", "0x3", "-u", "0x2", "--config", "(0,0,1),(1,0,1)", "-f", cfg, "-l",
            "-s", "16384", "--mtu", "1600"]


# ---------------------------------------------------------------- verification

def verify_pcap(in_pcap, out_pcap, key, gre, max_pkts=400):
    """Decrypt up to max_pkts ESP packets of out_pcap (scapy, AES-GCM with key||salt) and
    compare them with the input packets in order. Returns a dict (ok, counts, lengths)."""
    try:
        import cryptography  # noqa: F401 -- scapy's AES-GCM (python3-cryptography)
        from scapy.all import rdpcap, IP, ESP, GRE, raw
        from scapy.layers.ipsec import SecurityAssociation
    except ImportError as e:
        return {"ok": None, "note": "scapy IPsec support unavailable (%s)" % e}
    try:
        outp = rdpcap(out_pcap, count=max_pkts)
        inp = rdpcap(in_pcap, count=max_pkts)
    except (OSError, EOFError) as e:
        return {"ok": False, "error": "cannot read pcaps: %s" % e}
    sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=key,
                             tunnel_header=IP(src=TUN_SRC, dst=TUN_DST))
    res = {"packets": len(outp), "decrypted": 0, "matched": 0, "encrypted_len": {},
           "errors": []}
    last_seq = 0
    for i, p in enumerate(outp):
        try:
            ip = p[IP]
            if ip.proto != 50 or ip.src != TUN_SRC or ip.dst != TUN_DST:
                raise ValueError("not ESP %s->%s" % (TUN_SRC, TUN_DST))
            esp = ip[ESP]
            if esp.spi != SPI_OUT or esp.seq <= last_seq:
                raise ValueError("spi %d seq %d after %d" % (esp.spi, esp.seq, last_seq))
            last_seq = esp.seq
            enc = len(raw(esp)) - ESP_HDR - ESP_IV - ESP_ICV
            res["encrypted_len"][str(enc)] = res["encrypted_len"].get(str(enc), 0) + 1
            d = sa.decrypt(ip)
            res["decrypted"] += 1
            inner = d
            if gre:
                if d.proto != 47 or GRE not in d or d[GRE].key != 1001:
                    raise ValueError("decrypted packet is not GRE key 1001")
                inner = d[GRE].payload
            want = inp[i][IP]
            got = IP(raw(inner))
            # a router decrements the inner TTL (peerfwd does, ipsec-secgw does not)
            if (got.src, got.dst, raw(got.payload)) == (want.src, want.dst, raw(want.payload)) \
                    and got.ttl in (want.ttl, want.ttl - 1):
                res["matched"] += 1
            elif len(res["errors"]) < 3:
                res["errors"].append("packet %d: inner differs from input" % i)
        except Exception as e:  # noqa: BLE001 -- any decoding failure is a verdict
            if len(res["errors"]) < 3:
                res["errors"].append("packet %d: %s: %s" % (i, type(e).__name__, e))
    res["ok"] = res["packets"] > 0 and res["matched"] == res["packets"]
    return res


def main():
    print(json.dumps(size_table(), indent=1))


if __name__ == "__main__":
    main()
