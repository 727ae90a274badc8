#!/usr/bin/env bash
# Build every libFuzzer target present and fuzz each one for SECONDS (default 30), one
# after the other (they are CPU-bound; running them in parallel on a small CI box only
# slows each down).
#   tests/fuzz/run_all.sh [SECONDS]
# Targets: exabgp, fpm (when tests/fuzz/build_fpm.sh exists), config, pipeline. Each is
# built by its tests/fuzz/build_<name>.sh (binaries in $FUZZ_OUT, default build-fuzz/) and
# fuzzed on a temporary copy of tests/fuzz/corpus/<name>, so the committed seed corpus
# never grows. Crash, leak and timeout inputs go to $FUZZ_OUT/<name>-crashes/, the full
# libFuzzer output to $FUZZ_OUT/<name>.log.
# Prints `PASS name (N runs)` or `FAIL name: ...` per target, then `N passed, M failed`;
# exits 1 when any target failed (build or fuzzing), 0 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
case $secs in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2;; esac
out=${FUZZ_OUT:-build-fuzz}
export FUZZ_OUT=$out
mkdir -p "$out"
tmp=$(mktemp -d /tmp/pf_fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# name, then the libFuzzer options of that target (as in its build script)
targets=(exabgp fpm config pipeline)
opts_exabgp=(-max_len=8192)
opts_fpm=(-max_len=4096)
opts_config=(-max_len=16384 "-dict=$out/config.dict")
opts_pipeline=(-max_len=9001)

pass=0
fail=0
for t in "${targets[@]}"; do
  script=tests/fuzz/build_$t.sh
  [ -f "$script" ] || continue
  log=$out/$t.log
  # build only (no SECONDS argument); the script prints "build_<name>: <binary>"
  if ! bash "$script" >"$log" 2>&1; then
    echo "FAIL $t: build failed, see $log"
    tail -n 20 "$log" | sed 's/^/    /'
    fail=$((fail + 1))
    continue
  fi
  bin=$(sed -n "s/^build_$t: //p" "$log" | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "FAIL $t: $script built no binary, see $log"
    fail=$((fail + 1))
    continue
  fi
  # a script that ignores FUZZ_OUT (build_fpm.sh: build-fpm/fuzz/): copy next to the others
  [ "$bin" -ef "$out/fuzz_$t" ] || cp -f "$bin" "$out/fuzz_$t"
  bin=$out/fuzz_$t
  corpus=$tmp/$t-corpus
  crashes=$out/$t-crashes/
  mkdir -p "$corpus" "$crashes"
  [ -d "tests/fuzz/corpus/$t" ] && cp -r "tests/fuzz/corpus/$t/." "$corpus/"
  declare -n topts="opts_$t"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout -k 10 $((secs + 300)) "$bin" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 "${topts[@]}" -artifact_prefix="$crashes" -print_final_stats=1 \
    "$corpus" >>"$log" 2>&1
  rc=$?
  unset -n topts
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ]; then
    echo "PASS $t (${runs:-?} runs)"
    pass=$((pass + 1))
  else
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "FAIL $t: exit $rc${crash:+, input $crash}, log $log"
    grep -m1 -E 'ERROR: |runtime error:|fuzz_[a-z]*: ' "$log" | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
