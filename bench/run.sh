#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# peerfwd throughput benchmark, one command (Debian 12, as root):
#
#   bench/run.sh            full run (about 22 minutes on 2 cores, churn and ESP included)
#   bench/run.sh --quick    CI smoke test (tiny tables, 1 repetition, 2 s per run, no callgrind,
#                           a 12 s churn run, the ESP smoke: about 2 minutes, builds cached),
#                           results in bench/out/quick/
#   bench/run.sh --only esp the ESP (IPsec) part alone
#
# Builds peerfwd (release, build-bench/) and DPDK's l3fwd and ipsec-secgw examples
# (bench/out/), all three with the same -march (--cpu, default native), generates
# route tables, configurations and pcaps, runs peerfwd, dpdk-testpmd (io), l3fwd (lpm, fib),
# ipsec-secgw and dpdk-test-crypto-perf one after the other on the same inputs, then
# peerfwd forwarding during route churn (churn_bench.py), and writes
# bench/out/results.json, churn.json, RESULTS.md and *.png. See bench/README.md.
# Installs nothing: missing packages are listed with the apt-get command to add them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=""
quick=0
cpu=native
build=build-bench
churn=1
only=""
churn_args=()
peerfwd=""
args=()

usage() {
  sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options (passed to bench/pfbench.py):
  --quick                 CI smoke profile
  --reps N                repetitions per measurement (default 3, quick 1); median reported
  --warmup S, --window S  seconds of warm-up after the first forwarded packet, and of the
                          measured window (default 1 + 2, quick 0.5 + 1.5)
  --mem auto|huge|nohuge  2 MB hugepages if possible (default auto), or --no-huge
  --no-callgrind          skip the instructions/packet runs
  --callgrind-packets N   packets per callgrind run (default 1000000)
  --callgrind-seconds S   at most this long per callgrind run (default 30)
  --no-churn              skip the forwarding-during-route-churn runs (bench/churn_bench.py)
  --lpm-max-routes N      largest IPv4 table l3fwd --lookup=lpm is run on (default 200000)
  --flows N               destinations (frames) per pcap (default 4104, quick 1032); above 8192
                          every program's mbuf pool grows to hold the pcap (peerfwd: "mbufs")
  --cpu MARCH             -march for peerfwd (meson -Dcpu), l3fwd and ipsec-secgw (default
                          native: the benchmark runs where it is built); recorded in the results
  --build DIR             peerfwd build directory (default build-bench)
  --only STRING           only the jobs whose key contains STRING; a scenario name (encap,
                          public, decap, encap6, esp) also generates only that scenario's inputs
  --peerfwd PATH          measure this peerfwd binary instead of building build-bench/
                          (e.g. a build of another branch)
  --crypto-dev DEV        crypto device of the ESP runs: crypto_aesni_gcm (default),
                          crypto_aesni_mb or crypto_openssl
  --out DIR               output directory (default bench/out, with --quick bench/out/quick,
                          so a smoke test never overwrites a full run's results)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --out) out=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --peerfwd) peerfwd=$(realpath "$2"); shift 2 ;;
    --quick) quick=1; args+=("$1"); churn_args+=("$1"); shift ;;
    --no-churn) churn=0; shift ;;
    --no-callgrind) args+=("$1"); shift ;;
    --reps|--warmup|--window|--mem|--lpm-max-routes|--only|--callgrind-seconds|--callgrind-packets|--flows|--crypto-dev)
      [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2")
      case "$1" in
        --reps|--mem) churn_args+=("$1" "$2") ;;
        --only) only=$2 ;;
      esac
      shift 2 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# ---- prerequisites: report, never install
need_pkgs=(build-essential make meson ninja-build pkg-config libdpdk-dev dpdk-dev dpdk-doc
  libjansson-dev libpcap-dev libbsd-dev python3 python3-scapy python3-matplotlib valgrind)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "run.sh: missing Debian packages: ${missing[*]}" >&2
  echo "run.sh: install them with:  apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 3
fi
for t in dpdk-testpmd dpdk-test-crypto-perf valgrind perf; do
  command -v "$t" >/dev/null || [ "$t" = perf ] || { echo "run.sh: $t not found" >&2; exit 3; }
done
if ! command -v perf >/dev/null; then
  echo "run.sh: note: perf not installed (linux-perf): cycles/packet will say unsupported" >&2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: run as root (DPDK telemetry sockets under /var/run/dpdk, hugepages)" >&2
  exit 3
fi
if [ -z "$out" ]; then
  if [ "$quick" = 1 ]; then out=$here/out/quick; else out=$here/out; fi
fi
mkdir -p "$out" "$here/out"
out=$(cd "$out" && pwd)

# ---- peerfwd, release build in its own directory for -march=$cpu (unless --peerfwd
# names a binary)
cd "$repo"
if [ -z "$peerfwd" ]; then
  blog=$out/build-peerfwd.log
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Dtests=false --buildtype=release -Dcpu="$cpu" >"$blog" 2>&1 ||
      { tail -20 "$blog"; exit 1; }
  elif [ "$(meson introspect --buildoptions "$build" | /usr/bin/python3 -c \
        'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="cpu"][0])' \
        2>/dev/null)" != "$cpu" ]; then
    meson setup --reconfigure "$build" -Dcpu="$cpu" >"$blog" 2>&1 || { tail -20 "$blog"; exit 1; }
  else
    : >"$blog"
  fi
  ninja -C "$build" >>"$blog" 2>&1 || { tail -20 "$blog"; exit 1; }
  peerfwd=$repo/$build/control/peerfwd
  [ "${build#/}" != "$build" ] && peerfwd=$build/control/peerfwd
  # the -march that really ends up last on peerfwd's compile lines
  pf_march=$(/usr/bin/python3 - "$build/compile_commands.json" <<'PY'
import json, re, sys
cmds = [e["command"] for e in json.load(open(sys.argv[1])) if "/control/" in e["file"]]
m = {re.findall(r"-march=\S+", c)[-1] for c in cmds}
print(" ".join(sorted(m)))
PY
  )
  [ "$pf_march" = "-march=$cpu" ] || { echo "run.sh: peerfwd built with '$pf_march', not -march=$cpu" >&2; exit 1; }
fi
[ -x "$peerfwd" ] || { echo "run.sh: $peerfwd is not an executable" >&2; exit 3; }

# ---- DPDK l3fwd example from dpdk-doc, patched (bench/l3fwd_patch.py), built with make and
# the same -march as peerfwd (appended: the last -march on the line wins over DPDK's)
l3dir=$here/out/l3fwd-$cpu
l3stamp=$( (cat "$here/l3fwd_patch.py" "$here/srcpatch.py"; pkg-config --modversion libdpdk; echo "$cpu";
            cat /usr/share/dpdk/examples/l3fwd/*.[ch]) | sha256sum | cut -c1-16)
if [ ! -x "$l3dir/l3fwd/build/l3fwd" ] || [ "$(cat "$l3dir/stamp" 2>/dev/null)" != "$l3stamp" ]; then
  rm -rf "$l3dir"
  mkdir -p "$l3dir"
  cp -r /usr/share/dpdk/examples/l3fwd /usr/share/dpdk/examples/common "$l3dir/"
  /usr/bin/python3 "$here/l3fwd_patch.py" "$l3dir/l3fwd"
  echo "CFLAGS += -march=$cpu" >>"$l3dir/l3fwd/Makefile"
  make -C "$l3dir/l3fwd" -j"$(nproc)" >"$l3dir/build.log" 2>&1 || { tail -20 "$l3dir/build.log"; exit 1; }
  echo "$l3stamp" >"$l3dir/stamp"
fi
l3_march=$(grep -o -- '-march=[^ ]*' "$l3dir/build.log" | tail -1)
[ "$l3_march" = "-march=$cpu" ] || { echo "run.sh: l3fwd built with '$l3_march', not -march=$cpu" >&2; exit 1; }

# ---- DPDK ipsec-secgw example, patched (bench/secgw_patch.py), same flags as l3fwd (its
# Makefile: -O3 and pkg-config libdpdk's cflags). A failed build skips only the secgw runs.
sgdir=$here/out/ipsec-secgw
sgstamp=$( (cat "$here/secgw_patch.py" "$here/srcpatch.py"; pkg-config --modversion libdpdk; echo "$cpu";
            cat /usr/share/dpdk/examples/ipsec-secgw/*.[ch]) | sha256sum | cut -c1-16)
secgw_args=()
if [ ! -x "$sgdir/ipsec-secgw/build/ipsec-secgw" ] || [ "$(cat "$sgdir/stamp" 2>/dev/null)" != "$sgstamp" ]; then
  rm -rf "$sgdir"
  mkdir -p "$sgdir"
  cp -r /usr/share/dpdk/examples/ipsec-secgw /usr/share/dpdk/examples/common "$sgdir/"
  if /usr/bin/python3 "$here/secgw_patch.py" "$sgdir/ipsec-secgw" >"$sgdir/build.log" 2>&1 &&
     echo "CFLAGS += -march=$cpu" >>"$sgdir/ipsec-secgw/Makefile" &&
     make -C "$sgdir/ipsec-secgw" -j"$(nproc)" >>"$sgdir/build.log" 2>&1; then
    echo "$sgstamp" >"$sgdir/stamp"
  else
    tail -20 "$sgdir/build.log"
    echo "run.sh: ipsec-secgw did not build: its runs are skipped" >&2
  fi
fi
[ -x "$sgdir/ipsec-secgw/build/ipsec-secgw" ] && secgw_args=(--secgw "$sgdir/ipsec-secgw/build/ipsec-secgw")

# ---- measure, then report (the report is written even when some run failed)
rc=0
rm -f "$out/results.json" "$out/RESULTS.md" "$out"/*.png   # never report a previous run
/usr/bin/python3 "$here/pfbench.py" --out "$out" --peerfwd "$peerfwd" \
  --testpmd "$(command -v dpdk-testpmd)" --l3fwd "$l3dir/l3fwd/build/l3fwd" --march "$cpu" \
  --cryptoperf "$(command -v dpdk-test-crypto-perf)" "${secgw_args[@]}" "${args[@]}" || rc=$?
# forwarding during route churn (its own peerfwd runs; skipped by --no-churn, or by an
# --only filter that does not name it)
rm -f "$out/churn.json"
if [ "$churn" = 1 ] && { [ -z "$only" ] || [[ "churn" == *"$only"* ]] || [[ "$only" == *churn* ]]; }; then
  /usr/bin/python3 "$here/churn_bench.py" --out "$out" --peerfwd "$peerfwd" "${churn_args[@]}" || rc=1
fi
if [ -f "$out/results.json" ]; then
  /usr/bin/python3 "$here/report.py" "$out" || rc=1
fi
echo "run.sh: results in $out/RESULTS.md, $out/results.json, $out/*.png (exit $rc)"
exit $rc
