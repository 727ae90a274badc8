#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Tiny test runner (pytest is not installed). Collects module-level functions named test_*
from tests/functional/test_*.py in definition order and runs them one by one.

  /usr/bin/python3 tests/functional/pfrun.py [-x] [-l] [SUBSTRING ...]

SUBSTRING filters on "module.test_name". -l lists, -x stops at the first failure.
Prints PASS/FAIL per test, the reasons of every failure, and ends with "N passed, M failed".
"""
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pfharness as h  # noqa: E402


def collect(filters):
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        mod = importlib.import_module(fn[:-3])
        funcs = [(getattr(mod, n).__code__.co_firstlineno, n, getattr(mod, n))
                 for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n))
                 and getattr(getattr(mod, n), "__module__", None) == mod.__name__]
        for _, n, f in sorted(funcs):
            full = "%s.%s" % (fn[:-3], n)
            if filters and not any(s in full for s in filters):
                continue
            tests.append((full, f))
    return tests


def main(argv):
    stop_first = "-x" in argv
    list_only = "-l" in argv
    filters = [a for a in argv if not a.startswith("-")]
    tests = collect(filters)
    if list_only:
        for n, _ in tests:
            print(n)
        return 0
    passed, failed = [], []
    t_all = time.monotonic()
    stamp = h.binary_stamp()
    print("binary: %s" % stamp)
    for name, f in tests:
        h.reset_soft()
        t0 = time.monotonic()
        reasons = []
        try:
            f()
        except h.Skip as e:
            reasons.append("SKIPPED (counted as failure): %s" % e)
        except AssertionError as e:
            reasons.append(str(e))
        except Exception:
            reasons.append("test error:\n" + traceback.format_exc())
        reasons = h.soft_failures() + reasons
        dt = time.monotonic() - t0
        if reasons:
            failed.append(name)
            print("FAIL %-60s %5.1fs" % (name, dt))
            for r in reasons:
                for i, line in enumerate(str(r).splitlines()):
                    print("     %s %s" % ("-" if i == 0 else " ", line))
        else:
            passed.append(name)
            print("PASS %-60s %5.1fs" % (name, dt))
        sys.stdout.flush()
        if stop_first and reasons:
            break
    print("total time %.1fs" % (time.monotonic() - t_all))
    if h.binary_stamp() != stamp:
        print("WARNING: the binary changed during the run (now %s); results mix builds" % h.binary_stamp())
    if failed:
        print("failed tests:")
        for n in failed:
            print("  " + n)
    print("%d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
