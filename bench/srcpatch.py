# SPDX-License-Identifier: BSD-3-Clause
"""Apply exact-text substitutions to a copy of a DPDK example's sources (l3fwd_patch.py,
secgw_patch.py). Each substitution must match exactly `count` times, so a different DPDK
version fails loudly instead of building an unpatched program."""
import os
import sys


def apply(tool, d, patches):
    """patches: {file name: [(old, new, count), ...]} relative to directory d."""
    for name, subs in patches.items():
        path = os.path.join(d, name)
        with open(path) as f:
            s = f.read()
        for old, new, count in subs:
            n = s.count(old)
            if n != count:
                sys.exit("%s: %s: expected %d x %r, found %d (DPDK version?)"
                         % (tool, name, count, old, n))
            s = s.replace(old, new)
        with open(path, "w") as f:
            f.write(s)
    return 0
