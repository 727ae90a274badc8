#!/usr/bin/env bash
# Build the libFuzzer target for the ExaBGP JSON parser and, optionally, run it.
#   tests/fuzz/build_exabgp.sh [SECONDS]     (SECONDS > 0: fuzz that long; default: build)
# Needs clang (with compiler-rt's libFuzzer), jansson and DPDK's pkg-config files. The
# binary and the working corpus go to $FUZZ_OUT (default build-fuzz/; the seed corpus in
# tests/fuzz/corpus/exabgp is only read); crashes go to $FUZZ_OUT/exabgp-crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${FUZZ_OUT:-build-fuzz}
mkdir -p "$out/exabgp-corpus" "$out/exabgp-crashes"
command -v clang >/dev/null || { echo "build_exabgp: clang not found" >&2; exit 2; }
# DPDK only for rte_ring (feed.c's pf_feed_submit); the parser itself never touches it
flags=(-g -O1 -std=gnu11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API -DPF_SRCDIR="\"$PWD\""
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -Wall -Wextra -Wno-address-of-packed-member -I.)
clang "${flags[@]}" $(pkg-config --cflags jansson libdpdk) \
  tests/fuzz/fuzz_exabgp.c control/feed_exabgp.c control/feed.c common/config.c common/ipsec_conf.c \
  -o "$out/fuzz_exabgp" $(pkg-config --libs jansson libdpdk) -lpthread
echo "build_exabgp: $out/fuzz_exabgp"
secs=${1:-0}
if [ "$secs" -gt 0 ]; then
  # -max_len: ExaBGP lines of interest are a few KB; dictionary-free, the seeds carry the
  # structure. Exit status is libFuzzer's (non-zero on a crash or leak).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$out/fuzz_exabgp" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/exabgp-crashes/" -print_final_stats=1 \
    "$out/exabgp-corpus" tests/fuzz/corpus/exabgp
fi
