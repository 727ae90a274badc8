#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Deterministic route tables for the throughput benchmark (bench/run.sh).

Writes, for one table (IPv4 of --v4 prefixes or IPv6 of --v6 prefixes):
  NAME.routes      one "prefix/len" per line (the table, in generation order)
  NAME.l3fwd       the same table in DPDK l3fwd's rule format: "R<prefix>/<len> <port>"
  NAME.meta.json   counts, length histogram and the sizes l3fwd's LPM/FIB need for it
peerfwd's configurations are written by bench/gen_config.py from NAME.routes.

IPv4: random prefixes in 1.0.0.0-223.255.255.255 with an Internet-like length mix (the same
as bench/fib_bench.c: /24 60 %, /22-/23 15 %, /16-/21 20 %, /8-/15 1 %, /25-/32 4 %).
Prefixes overlapping special-purpose space are redrawn, so that the table is valid in every
kind of peering context (public peering rejects private/bogon space, docs/config.md) and
never covers the benchmark's own addresses (peering /30s in 172.16/12, the core subnet
192.0.2.0/24, the tunnel endpoint 198.51.100.0/24).
IPv6: prefixes clustered under a few thousand /32 allocations in the RIR blocks, mostly
/32-/48 with some /49-/64 (again as bench/fib_bench.c).
"""
import argparse
import ipaddress
import json
import random
import sys

# Never generated (v4): bogons of docs/config.md plus everything the bench itself uses.
EXCLUDE4 = [ipaddress.ip_network(p) for p in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")]
EXCLUDE4_RANGES = sorted((int(n.network_address), int(n.broadcast_address)) for n in EXCLUDE4)

V4_MID = [16, 17, 17, 18, 18, 18, 19, 19, 19, 19, 20, 20, 20, 20, 20, 21, 21, 21, 21, 21]


def v4_len(rng):
    r = rng.randrange(1000)
    if r < 600:
        return 24
    if r < 675:
        return 23
    if r < 750:
        return 22
    if r < 950:
        return rng.choice(V4_MID)
    if r < 960:
        return 8 + rng.randrange(8)
    return 25 + rng.randrange(8)


def v4_bad(p, ln):
    lo, hi = p, p | ((1 << (32 - ln)) - 1)
    for a, b in EXCLUDE4_RANGES:
        if lo <= b and a <= hi:
            return True
    return False


def gen4(n, seed):
    rng = random.Random(seed)
    seen, out = set(), []
    while len(out) < n:
        ln = v4_len(rng)
        p = (1 << 24) + rng.randrange(223 << 24)
        p &= (0xffffffff << (32 - ln)) & 0xffffffff
        if (p, ln) in seen or v4_bad(p, ln):
            continue
        seen.add((p, ln))
        out.append((p, ln))
    return out


def v6_len(rng):
    r = rng.randrange(100)
    if r < 10:
        return 32
    if r < 30:
        return 33 + rng.randrange(15)
    if r < 80:
        return 48
    if r < 85:
        return 49 + rng.randrange(7)
    if r < 93:
        return 56
    return 57 + rng.randrange(8)


def gen6(n, seed):
    rng = random.Random(seed)
    rir = [0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00]
    nalloc = max(n // 60, 1000)
    alloc = []
    while len(alloc) < nalloc:
        blk = rng.choice(rir)
        if blk != 0x2001:
            blk |= rng.randrange(16)
        a = blk << 16 | rng.randrange(1 << 16)
        if a >> 16 == 0x2001 and (a & 0xffff) == 0x0db8:
            continue  # 2001:db8::/32 is the bench's (and the examples') own space
        alloc.append(a)
    seen, out = set(), []
    while len(out) < n:
        u = rng.random()
        k = int(u * u * u * nalloc)
        ln = v6_len(rng)
        hi = alloc[k] << 32 | rng.getrandbits(32)
        hi &= (0xffffffffffffffff << (64 - ln)) & 0xffffffffffffffff
        if (hi, ln) in seen:
            continue
        seen.add((hi, ln))
        out.append((hi << 64, ln))
    return out


def fmt(fam, p, ln):
    if fam == 4:
        return "%s/%d" % (ipaddress.IPv4Address(p), ln)
    return "%s/%d" % (ipaddress.IPv6Address(p), ln)


def needs(fam, routes):
    """Capacity l3fwd's tables need: rte_lpm/rte_fib (DIR-24-8) need one tbl8 group per
    /24 holding a longer prefix; rte_lpm6 and rte_fib6's trie one group per distinct
    byte-aligned path below the first 24 bits."""
    if fam == 4:
        return {"tbl8": len({p >> 8 for p, ln in routes if ln > 24})}
    groups = set()
    for p, ln in routes:
        nbytes = (ln + 7) // 8
        for k in range(3, nbytes):
            groups.add((k, p >> (128 - 8 * k)))
    return {"tbl8": len(groups)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", type=int, choices=(4, 6), required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=1, help="l3fwd output port of every route")
    ap.add_argument("--out", required=True, help="output path prefix")
    a = ap.parse_args()
    routes = gen4(a.count, a.seed) if a.family == 4 else gen6(a.count, a.seed)
    hist = {}
    with open(a.out + ".routes", "w") as f, open(a.out + ".l3fwd", "w") as g:
        g.write("# peerfwd bench: %d IPv%d routes, seed %d\n" % (a.count, a.family, a.seed))
        for p, ln in routes:
            s = fmt(a.family, p, ln)
            f.write(s + "\n")
            g.write("R%s %d\n" % (s, a.port))
            hist[ln] = hist.get(ln, 0) + 1
    meta = {"family": a.family, "count": a.count, "seed": a.seed,
            "lengths": {str(k): hist[k] for k in sorted(hist)}}
    meta.update(needs(a.family, routes))
    with open(a.out + ".meta.json", "w") as f:
        json.dump(meta, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
