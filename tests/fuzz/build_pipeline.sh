#!/usr/bin/env bash
# Build the libFuzzer target for the packet path (one worker, two ring ports, the tables
# control builds from configs/exchange-provider.json) and, optionally, run it.
#   tests/fuzz/build_pipeline.sh [SECONDS]     (SECONDS > 0: fuzz that long; default: build)
# Needs clang (with compiler-rt's libFuzzer), jansson and DPDK's pkg-config files
# (librte_net_ring). No hugepages, no root: EAL runs with --no-huge --no-pci.
# The binary and the working corpus go to $FUZZ_OUT (default build-fuzz/; the seed corpus
# in tests/fuzz/corpus/pipeline is only read); crashes go to $FUZZ_OUT/pipeline-crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${FUZZ_OUT:-build-fuzz}
mkdir -p "$out/pipeline-corpus" "$out/pipeline-crashes"
command -v clang >/dev/null || { echo "build_pipeline: clang not found" >&2; exit 2; }
flags=(-g -O1 -std=gnu11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API -DPF_SRCDIR="\"$PWD\""
  -march=native -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -Wall -Wextra -Wno-address-of-packed-member -I.)
clang "${flags[@]}" $(pkg-config --cflags jansson libdpdk) \
  tests/fuzz/fuzz_pipeline.c common/config.c common/ipsec_conf.c common/counters.c common/fib.c dataplane/*.c \
  control/tables_build.c tests/common/pftest.c tests/common/pftest_pipe.c \
  -o "$out/fuzz_pipeline" $(pkg-config --libs jansson libdpdk) -lrte_net_ring -lpthread
echo "build_pipeline: $out/fuzz_pipeline"
secs=${1:-0}
if [ "$secs" -gt 0 ]; then
  # -max_len: flags byte + a 9000-byte jumbo frame. detect_leaks: the one-time set-up
  # (EAL, tables) is kept for the process lifetime, and pool/rte_malloc memory is not
  # malloc'ed, so only real per-input leaks are reported. Exit status is libFuzzer's
  # (non-zero on a crash, leak or failed check).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$out/fuzz_pipeline" -max_total_time="$secs" -max_len=9001 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/pipeline-crashes/" -print_final_stats=1 \
    "$out/pipeline-corpus" tests/fuzz/corpus/pipeline
fi
