#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the functional suite against the real peerfwd binary.
#   tests/functional/run_all.sh [-x] [SUBSTRING ...]
# PEERFWD=path/to/peerfwd overrides build/control/peerfwd. Output: tests/out/functional/.
# Ends with "N passed, M failed"; exits non-zero if anything failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PF_PYTHON:-/usr/bin/python3}
cd "$ROOT" || exit 2
PEERFWD=${PEERFWD:-build/control/peerfwd}
case $PEERFWD in /*) ;; *) PEERFWD="$ROOT/$PEERFWD" ;; esac
export PEERFWD

if ! "$PY" -c 'import scapy' 2>/dev/null; then
	echo "run_all.sh: $PY has no scapy (use /usr/bin/python3 or set PF_PYTHON)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
command -v tshark >/dev/null 2>&1 || { echo "run_all.sh: tshark not found" >&2; echo "0 passed, 1 failed"; exit 1; }

mkdir -p tests/out/functional
LOG=tests/out/functional/run_all.log
# the runner's own summary line is folded into the final one below
"$PY" "$HERE/pfrun.py" "$@" 2>&1 | tee "$LOG" | grep -v '^[0-9]* passed, [0-9]* failed$'

summary=$(tail -n 1 "$LOG")
pass=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
fail=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -n "$pass" ] || { pass=0; fail=1; echo "run_all.sh: runner did not finish"; }

# shell tests in this directory (e.g. test_bad_config.sh), only when no filter is given
if [ $# -eq 0 ]; then
	for t in "$HERE"/test_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t")
		if timeout 300 sh "$t" >"tests/out/functional/$name.log" 2>&1; then
			echo "PASS $name"; pass=$((pass + 1))
		else
			echo "FAIL $name (log: tests/out/functional/$name.log)"; fail=$((fail + 1))
		fi
	done
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
