#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""peerfwd configuration for one benchmark scenario (bench/run.sh).

One customer ("bench", VLAN 555 private peering, VLAN 556 public peering), the core port
and static neighbors, so no packet waits for ARP/ND. The table under test (a .routes file
of bench/gen_routes.py) goes into one context:

  encap   private context, every route "via": "gre"   (VLAN -> FIB -> GRE toward the cloud)
  public  public context,  every route "via": "core"  (VLAN -> FIB -> plain toward the core)
  decap   private context, every route "via": "peer"  (GRE from the cloud -> FIB -> VLAN)
  encap6  private context, IPv6 routes "via": "gre"   (VLAN -> FIB6 -> GRE)
  esp     encap, plus the customer's "ipsec" section: the GRE packets leave in ESP tunnel
          mode (AES-GCM-128, RFC 4106), SPI 4097 out / 8193 in, 192.0.2.1 -> 198.51.100.1;
          the key files (hex of key || 4-byte salt, mode 0600) are written by --keys DIR

The customer's "vnets" cannot carry the table (a VNet must be RFC 1918 / ULA space), so the
table is the private context's static "routes" (docs/config.md: private contexts may carry
any prefix). The core port's MTU is 9000, as a core link carrying GRE would be: with 1500 the
1518-byte IMIX frames would be fragmented (IPv4 without DF) after encapsulation, which is a
different benchmark.
"""
import argparse
import hashlib
import json
import os
import sys

EDGE_MAC = "02:00:00:00:0e:01"
CORE_MAC = "02:00:00:00:0c:01"
CORE_GW_MAC = "02:00:00:00:0c:fe"
PEER_MAC = "02:00:00:00:a1:01"
CORE_ADDR = "192.0.2.1"
TUN_DST = "198.51.100.1"
GRE_KEY = 1001
VIA = {"encap": "gre", "public": "core", "decap": "peer", "encap6": "gre", "esp": "gre"}
# ESP: SPIs and algorithm of the benchmark's SAs (the same SA is given to ipsec-secgw)
ESP_SPI_OUT, ESP_SPI_IN = 4097, 8193
ESP_ALGO = "aes-gcm-128"
ESP_KEY_BYTES = 16 + 4          # AES-128 key || 4-byte salt (RFC 4106)


def esp_key(direction):
    """Fixed benchmark key||salt (not secret: results must be reproducible)."""
    return hashlib.sha256(b"peerfwd-bench-esp-" + direction.encode()).digest()[:ESP_KEY_BYTES]


def write_keys(keydir):
    """keys/out.key and keys/in.key: hex of key||salt, mode 0600 (peerfwd refuses others)."""
    os.makedirs(keydir, exist_ok=True)
    paths = {}
    for d in ("out", "in"):
        path = os.path.abspath(os.path.join(keydir, d + ".key"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(esp_key(d).hex() + "\n")
        os.chmod(path, 0o600)      # also when the file existed with another mode
        paths[d] = path
    return paths


def build(scenario, edge, core, routes_file, mbufs=0, exabgp_socket=None, keydir=None):
    via = VIA[scenario]
    cfg = {
        "burst": 32,
        "ports": [
            {"name": edge, "role": "edge", "mac": EDGE_MAC, "mtu": 1500},
            {"name": core, "role": "core", "mac": CORE_MAC, "mtu": 9000,
             "address": CORE_ADDR + "/24", "gateway": "192.0.2.254"},
        ],
        "neighbors": [
            {"port": core, "ip": "192.0.2.254", "mac": CORE_GW_MAC},
            {"port": edge, "ip": "172.16.1.1", "mac": PEER_MAC},
            {"port": edge, "ip": "2001:db8:a1::1", "mac": PEER_MAC},
            {"port": edge, "ip": "172.16.1.5", "mac": PEER_MAC},
        ],
        "customers": [{
            "id": 1, "name": "bench", "asn": 65520, "bandwidth_mbps": 10000,
            "gre": {"key": GRE_KEY, "source": CORE_ADDR, "destination": TUN_DST},
            "vnets": ["10.0.0.0/16"],
            "contexts": [
                {"name": "bench-private", "kind": "private", "vlan": 555,
                 "primary": {"port": edge, "subnet": "172.16.1.0/30",
                             "subnet6": "2001:db8:a1::/126"}},
                {"name": "bench-public", "kind": "public", "vlan": 556,
                 "primary": {"port": edge, "subnet": "172.16.1.4/30"}},
            ],
        }],
    }
    if mbufs:
        cfg["mbufs"] = mbufs
    if exabgp_socket:
        cfg["feeds"] = {"exabgp": {"socket": exabgp_socket}}
    if scenario == "esp":
        keys = write_keys(keydir)
        cfg["customers"][0]["ipsec"] = {
            "source": CORE_ADDR, "destination": TUN_DST,
            "sas": [{"spi": ESP_SPI_OUT, "direction": "out", "algorithm": ESP_ALGO,
                     "key_file": keys["out"], "esn": False},
                    {"spi": ESP_SPI_IN, "direction": "in", "algorithm": ESP_ALGO,
                     "key_file": keys["in"], "replay_window": 1024}]}
    ctx = cfg["customers"][0]["contexts"][1 if scenario == "public" else 0]
    ctx["routes"] = "@ROUTES@"
    text = json.dumps(cfg, indent=1)
    with open(routes_file) as f:
        lines = [',\n  {"prefix": "%s", "via": "%s"}' % (l.strip(), via)
                 for l in f if l.strip()]
    body = "[" + "".join(lines)[1:] + "\n ]"
    return text.replace('"@ROUTES@"', body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", choices=sorted(VIA), required=True)
    ap.add_argument("--edge", required=True, help="DPDK name of the edge port")
    ap.add_argument("--core", required=True, help="DPDK name of the core port")
    ap.add_argument("--routes", required=True, help=".routes file of gen_routes.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--mbufs", type=int, default=0,
                    help="the configuration's \"mbufs\" (default: none, peerfwd computes it)")
    ap.add_argument("--exabgp-socket", help="enable the ExaBGP feed on this Unix socket")
    ap.add_argument("--keys", help="esp: directory for the key files (default: OUT's "
                    "directory/keys)")
    a = ap.parse_args()
    keydir = a.keys or os.path.join(os.path.dirname(os.path.abspath(a.out)), "keys")
    with open(a.out, "w") as f:
        f.write(build(a.scenario, a.edge, a.core, a.routes, a.mbufs, a.exabgp_socket, keydir))
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
