#!/usr/bin/env bash
# Instructions per packet of one peerfwd scenario under callgrind, for before/after
# comparisons while working on the fast path (the full harness does the same for every
# program: bench/run.sh). Needs the inputs bench/run.sh generated (bench/out/data).
# Usage: bench/cg_one.sh BUILD_DIR SCENARIO [SECONDS]
#   SCENARIO: encap public decap encap6, or mixed1 / mixed8: the encap and public frames
#   alternating one by one or by 8, both contexts' routes (bench/mixed_inputs.py), so
#   that consecutive packets change next hop and context (the fast path's worst case).
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1 sc=$2 secs=${3:-20}
data=bench/out/data
case $sc in
  encap6) cfg=$data/peerfwd_encap6_cg6.json pcap=$data/traffic_encap6_cg6_64.pf.pcap ;;
  mixed[0-9]*)
    cfg=$data/peerfwd_mixed_cg4.json pcap=$data/traffic_${sc}_cg4_64.pf.pcap
    /usr/bin/python3 bench/mixed_inputs.py "$data" "${sc#mixed}" ;;
  *) cfg=$data/peerfwd_${sc}_cg4.json pcap=$data/traffic_${sc}_cg4_64.pf.pcap ;;
esac
out=$(mktemp -d /tmp/cg_one.XXXXXX)
valgrind --tool=callgrind --separate-threads=yes --fair-sched=yes \
  --callgrind-out-file="$out/cg.%p" ${CG_ARGS:-} "$build/control/peerfwd" -l 0,1 --no-huge -m 1024 \
  --no-pci --file-prefix "cgone$$" --log-level='*:warning' \
  --vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" --vdev net_null0,no-rx=1 -- \
  --config "$cfg" --duration "$secs" -q --stats-json "$out/stats.json" >"$out/log" 2>&1
/usr/bin/python3 - "$out" <<'PY'
import json, os, re, subprocess, sys
d = sys.argv[1]
st = json.load(open(os.path.join(d, "stats.json")))
pk = max(p.get("tx_packets", 0) for p in st["ports"].values())
best = None
for fn in os.listdir(d):
    if not fn.startswith("cg."):
        continue
    r = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=99", os.path.join(d, fn)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    tot = re.search(r"^([\d,]+) +\(100.0%\) +PROGRAM TOTALS", r, re.M)
    pcap = sum(int(m.group(1).replace(",", "")) for m in
               re.finditer(r"^\s*([\d,]+) .*net_pcap", r, re.M))
    if tot and (best is None or pcap > best[1]):
        best = (int(tot.group(1).replace(",", "")), pcap, r)
print("packets %d  instructions/packet %.1f" % (pk, best[0] / pk))
for line in best[2].splitlines():
    m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+)", line)
    if m and "PROGRAM" not in line:
        v = int(m.group(1).replace(",", "")) / pk
        if v >= 1:
            print("%8.1f  %s" % (v, m.group(2)))
PY
if [ -n "${KEEP:-}" ]; then echo "profiles kept in $out"; else rm -rf "$out"; fi
