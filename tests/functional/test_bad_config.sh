#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Configuration validation, end to end through the real binary:
#   for every tests/config/bad/*.json: "$PEERFWD" --config FILE --check must exit 2 and print
#     on stderr the substring listed for FILE in tests/config/bad/expected.txt
#     (lines "FILE<TAB>substring", '#' comments; every bad file needs exactly one line);
#   for every tests/config/good/*.json and configs/exchange-provider.json: exit 0.
# --check parses and validates the configuration only (no EAL, no ports).
#
# Usage: PEERFWD=build/peerfwd tests/functional/test_bad_config.sh
# Prints one line per failure and "N passed, M failed"; exits 1 on any failure, 2 if PEERFWD
# is unset or not executable (a missing binary is an error, not a skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bad_dir="$root/tests/config/bad"
good_dir="$root/tests/config/good"
expected="$bad_dir/expected.txt"
tab=$(printf '\t')

if [ -z "${PEERFWD:-}" ] || [ ! -x "$PEERFWD" ]; then
	echo "test_bad_config: PEERFWD must name the peerfwd binary (got '${PEERFWD:-}')" >&2
	exit 2
fi
if [ ! -r "$expected" ]; then
	echo "test_bad_config: $expected is missing" >&2
	exit 2
fi

# bound each run: --check must not start anything, but a hang must not hang the suite
if command -v timeout >/dev/null 2>&1; then
	run() { timeout 30 "$PEERFWD" --config "$1" --check; }
else
	run() { "$PEERFWD" --config "$1" --check; }
fi

# IPsec key files must be mode 0600 (git does not keep modes): tests/config/keys are test
# keys; the example's keys are generated (tools/gen-ipsec-keys.sh, configs/keys/, ignored)
chmod 600 "$root"/tests/config/keys/*.key
sh "$root/tools/gen-ipsec-keys.sh" >/dev/null || exit 2

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() {
	fail=$((fail + 1))
	echo "FAIL $*"
}

# the substring expected for a bad file, from expected.txt ("" if none)
want_for() {
	awk -F "$tab" -v f="$1" '$0 !~ /^#/ && $1 == f { print substr($0, length($1) + 2); n++ }
		END { if (n > 1) exit 3 }' "$expected"
}

for f in "$bad_dir"/*.json; do
	[ -e "$f" ] || continue
	name=$(basename "$f")
	if ! want=$(want_for "$name"); then
		ko "$name: more than one line in expected.txt"
		continue
	fi
	if [ -z "$want" ]; then
		ko "$name: no line in expected.txt"
		continue
	fi
	run "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 2 ]; then
		ko "$name: exit status $rc, expected 2; stderr: $(head -c 400 "$tmp/err")"
	elif ! grep -qF -- "$want" "$tmp/err"; then
		ko "$name: stderr lacks '$want'; got: $(head -c 400 "$tmp/err")"
	else
		ok
	fi
done

# stale lines: every expected entry must have its file
while IFS="$tab" read -r name want; do
	case "$name" in '#'* | '') continue ;; esac
	[ -e "$bad_dir/$name" ] || ko "expected.txt: $name does not exist"
done <"$expected"

for f in "$good_dir"/*.json "$root/configs/exchange-provider.json" \
	 "$root/configs/exchange-provider-ipsec.json"; do
	[ -e "$f" ] || continue
	name=${f#"$root"/}
	run "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		ko "$name: exit status $rc, expected 0; stderr: $(head -c 400 "$tmp/err")"
	else
		ok
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
