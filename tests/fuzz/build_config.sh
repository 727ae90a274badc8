#!/usr/bin/env bash
# Build the libFuzzer target for the configuration loader and, optionally, run it.
#   tests/fuzz/build_config.sh [SECONDS]     (SECONDS > 0: fuzz that long; default: build)
# Needs clang (with compiler-rt's libFuzzer) and jansson's pkg-config file; no DPDK (the
# configuration model is plain C). The binary and the working corpus go to $FUZZ_OUT
# (default build-fuzz/; the seed corpus in tests/fuzz/corpus/config is only read); crashes
# go to $FUZZ_OUT/config-crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${FUZZ_OUT:-build-fuzz}
mkdir -p "$out/config-corpus" "$out/config-crashes"
command -v clang >/dev/null || { echo "build_config: clang not found" >&2; exit 2; }
flags=(-g -O1 -std=gnu11 -D_GNU_SOURCE -DPF_SRCDIR="\"$PWD\""
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -Wall -Wextra -I.)
# the schema's keywords as a libFuzzer dictionary (generated: the corpus directory holds
# seeds only)
keys=(address address6 allow_default_route asn bandwidth_mbps burst c_tag contexts customers
  destination exabgp feeds fpm gateway gateway6 gre icmp_rate_pps id ip key kind listen mac
  management max_length4 max_length6 max_prefixes4 max_prefixes6 mtu name neighbors on_premises
  policy port ports prefix premium primary role routes s_tag s_tpid secondary socket source
  subnet subnet6 table_id core_table_id via vlan vnets edge core private microsoft public peer
  drop gre)
{ for k in "${keys[@]}"; do printf '"\\"%s\\""\n' "$k"; done
  printf '%s\n' '"0x88a8"' '"0x8100"' '"/30"' '"/126"' '"::"' '"true"' '"false"' '"null"' \
    '"4294967295"' '"65535"' '"-1"' '"1e400"' '"\\u0000"' '"172.16.9.0/30"' '"10.0.0.0/8"' \
    '"2001:db8::/32"' '"02:00:00:00:00:01"'
} > "$out/config.dict"
clang "${flags[@]}" $(pkg-config --cflags jansson) \
  tests/fuzz/fuzz_config.c common/config.c common/ipsec_conf.c \
  -o "$out/fuzz_config" $(pkg-config --libs jansson)
echo "build_config: $out/fuzz_config"
secs=${1:-0}
if [ "$secs" -gt 0 ]; then
  # -max_len: the seeds are 1-4 KB; 16 KB leaves room to grow them. The dictionary holds
  # the schema's keywords. Exit status is libFuzzer's (non-zero on a crash, leak or failed
  # check).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$out/fuzz_config" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -dict="$out/config.dict" \
    -artifact_prefix="$out/config-crashes/" -print_final_stats=1 \
    "$out/config-corpus" tests/fuzz/corpus/config
fi
