#!/usr/bin/env bash
# Build the libFuzzer target for the FRR zebra FPM parser and, optionally, run it.
#   tests/fuzz/build_fpm.sh [SECONDS]     (SECONDS > 0: fuzz that long; default: build)
# Needs clang (with compiler-rt's libFuzzer), jansson and DPDK's pkg-config files. The
# binary and the working corpus go to build-fpm/fuzz/ (the seed corpus in tests/fuzz/corpus/fpm
# is only read); crashes are written to build-fpm/fuzz/fpm-crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build-fpm/fuzz   # this adapter's build directory (meson ignores the subdirectory)
mkdir -p "$out/fpm-corpus" "$out/fpm-crashes"
command -v clang >/dev/null || { echo "build_fpm: clang not found" >&2; exit 2; }
# DPDK only for rte_ring (feed.c's pf_feed_submit, linked but never called by the target);
# jansson for the configuration loader that builds the context map
flags=(-g -O1 -std=gnu11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API -DPF_SRCDIR="\"$PWD\""
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -Wall -Wextra -Wno-address-of-packed-member -I.)
clang "${flags[@]}" $(pkg-config --cflags jansson libdpdk) \
  tests/fuzz/fuzz_fpm.c control/feed_fpm.c control/feed.c common/config.c common/ipsec_conf.c \
  -o "$out/fuzz_fpm" $(pkg-config --libs jansson libdpdk) -lpthread
echo "build_fpm: $out/fuzz_fpm"
secs=${1:-0}
if [ "$secs" -gt 0 ]; then
  # -max_len: a few FPM messages (the harness caps inputs at one maximal FPM message,
  # 65535 bytes). Exit status is libFuzzer's (non-zero on a crash, leak or failed check).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$out/fuzz_fpm" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/fpm-crashes/" -print_final_stats=1 \
    "$out/fpm-corpus" tests/fuzz/corpus/fpm
fi
