#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Inputs of bench/cg_one.sh's mixed scenarios, from the encap and public ones that
bench/run.sh generated: one configuration with both contexts' routes (VLAN 555 to the
customer's GRE tunnel, VLAN 556 to the core router) and a pcap whose frames alternate
between the two scenarios' frames in groups of RUN (1: every packet changes next hop and
context, the fast path's worst case; 8: trains of 8).

    bench/mixed_inputs.py DATA_DIR RUN      (writes peerfwd_mixed_cg4.json and
                                            traffic_mixed<RUN>_cg4_64.pf.pcap in DATA_DIR)
"""
import json
import os
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    head, pos, frames = data[:24], 24, []
    endian = "<" if struct.unpack("<I", head[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "IIII", data[pos:pos + 16])[2]
        frames.append(data[pos:pos + 16 + incl])
        pos += 16 + incl
    return head, frames


def main():
    if len(sys.argv) != 3 or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1:
        sys.exit("usage: mixed_inputs.py DATA_DIR RUN")
    d, run = sys.argv[1], int(sys.argv[2])
    enc = json.load(open(os.path.join(d, "peerfwd_encap_cg4.json")))
    pub = json.load(open(os.path.join(d, "peerfwd_public_cg4.json")))
    ctx_e = {c["vlan"]: c for c in enc["customers"][0]["contexts"]}
    ctx_p = {c["vlan"]: c for c in pub["customers"][0]["contexts"]}
    ctx_e[556]["routes"] = ctx_p[556]["routes"]
    with open(os.path.join(d, "peerfwd_mixed_cg4.json"), "w") as f:
        json.dump(enc, f)
    head, fe = read_pcap(os.path.join(d, "traffic_encap_cg4_64.pf.pcap"))
    _, fp = read_pcap(os.path.join(d, "traffic_public_cg4_64.pf.pcap"))
    n = min(len(fe), len(fp)) // run * run
    out = [head]
    for i in range(0, n, run):
        out += fe[i:i + run] + fp[i:i + run]
    with open(os.path.join(d, "traffic_mixed%d_cg4_64.pf.pcap" % run), "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
