#!/usr/bin/env bash
# Build with -Werror and run every test: CUnit units (meson test), the bad-config suite
# and the functional pcap suite; as root also the integration tests with real BGP daemons
# (ExaBGP + BIRD, FRR) in network namespaces; then units and functional tests again on an
# ASan+UBSan build.
# Usage: tools/test.sh [--no-asan]
set -uo pipefail
cd "$(dirname "$0")/.."
asan=1
[ "${1:-}" = "--no-asan" ] && asan=0
fail=0

run_suite() { # builddir label
  local dir=$1 label=$2
  echo "=== [$label] unit tests (meson test)"
  meson test -C "$dir" --print-errorlogs --num-processes 1 || fail=1
  echo "=== [$label] configuration validation suite"
  PEERFWD="$dir/control/peerfwd" bash tests/functional/test_bad_config.sh || fail=1
  echo "=== [$label] functional tests on pcap devices"
  PEERFWD="$dir/control/peerfwd" bash tests/functional/run_all.sh || fail=1
}

tools/build.sh build || exit 1
run_suite build release

# Real BGP daemons in network namespaces (needs root, as CI is).
if [ "$(id -u)" = 0 ]; then
  echo "=== integration: BIRD -> ExaBGP -> peerfwd (network namespaces)"
  EXA_MODE=full BUILD="$PWD/build" timeout 600 bash tests/integration/exabgp/run.sh || fail=1
  echo "=== integration: FRR bgpd + zebra -> FPM -> peerfwd (network namespaces)"
  FPM_IT_MODE=peerfwd PEERFWD="$PWD/build/control/peerfwd" PEERCTL="$PWD/build/control/peerctl" \
    timeout 600 bash tests/integration/fpm/run.sh || fail=1
else
  echo "=== integration tests skipped: they need root (network namespaces)"
fi

# A short libFuzzer run of every target (feed parsers, configuration, packet pipeline) on a
# copy of the corpus; the longer runs are documented in tests/fuzz/README.md.
echo "=== fuzz smoke (libFuzzer, ${FUZZ_SECONDS:-10} s per target)"
bash tests/fuzz/run_all.sh "${FUZZ_SECONDS:-10}" || fail=1

# The benchmark harness, smoke size (no thresholds: machines are noisy); it needs root
# for hugepages and DPDK's runtime directory.
if [ "$(id -u)" = 0 ]; then
  echo "=== benchmark harness smoke (bench/run.sh --quick)"
  timeout 900 bash bench/run.sh --quick > build/bench-quick.log 2>&1 || { fail=1; tail -n 40 build/bench-quick.log; }
  tail -n 5 build/bench-quick.log
fi

if [ "$asan" = 1 ]; then
  tools/build.sh build-asan -Db_sanitize=address,undefined -Dbuildtype=debugoptimized \
    -Db_lundef=false || exit 1
  # DPDK keeps some allocations until exit on purpose; leaks are checked by the mempool
  # count instead. UBSan findings are fatal.
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  run_suite build-asan asan
fi

if [ "$fail" = 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $fail
