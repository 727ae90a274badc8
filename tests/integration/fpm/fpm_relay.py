#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""FPM relay for kernels without VRF support (used by run.sh only when needed).

zebra connects here; for each zebra connection the relay opens a connection to the real
FPM server (peerfwd) and forwards zebra's stream, rewriting rtm_table FROM -> TO in route
messages that carry no RTA_TABLE. Everything else is forwarded byte for byte; a new zebra
connection replaces the old pair, and either side closing closes both (so peerfwd sees
zebra's reconnects exactly). Lets the main table (254), where bgpd installs routes when
no VRF can be created, feed a customer context whose table_id must not be 253..255.
"""
import argparse
import select
import socket
import struct
import sys
import time

RTM_NEWROUTE, RTM_DELROUTE, RTA_TABLE = 24, 25, 15


def rewrite(frame, t_from, t_to):
    """frame: one whole FPM message (bytes) -> bytes"""
    if len(frame) < 4 or frame[1] != 1:
        return frame
    b = bytearray(frame)
    off = 4
    while off + 16 <= len(b):
        nl, typ = struct.unpack_from("=IH", b, off)
        if nl < 16 or off + nl > len(b):
            break
        if typ in (RTM_NEWROUTE, RTM_DELROUTE) and nl >= 28 and b[off + 16 + 4] == t_from:
            has_table = False
            a = off + 28
            while a + 4 <= off + nl:
                al, at = struct.unpack_from("=HH", b, a)
                if al < 4:
                    break
                if at & 0x3FFF == RTA_TABLE:
                    has_table = True
                a += (al + 3) & ~3
            if not has_table:
                b[off + 16 + 4] = t_to
        off += (nl + 3) & ~3
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--table-from", type=int, default=254)
    ap.add_argument("--table-to", type=int, required=True)
    ap.add_argument("--max-seconds", type=float, default=1800)
    a = ap.parse_args()
    lh, lp = a.listen.rsplit(":", 1)
    th, tp = a.to.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lh, int(lp)))
    ls.listen(4)
    z = up = None
    buf = b""
    end = time.time() + a.max_seconds

    def close_pair():
        nonlocal z, up, buf
        for s in (z, up):
            if s:
                s.close()
        z = up = None
        buf = b""

    print("fpm_relay: %s -> %s, table %d -> %d" % (a.listen, a.to, a.table_from, a.table_to),
          flush=True)
    while time.time() < end:
        rl = [ls] + [s for s in (z, up) if s]
        r, _, _ = select.select(rl, [], [], 0.2)
        if ls in r:
            c, _ = ls.accept()
            close_pair()
            u = socket.socket()
            for _ in range(50):
                try:
                    u.connect((th, int(tp)))
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                print("fpm_relay: cannot reach %s" % a.to, file=sys.stderr, flush=True)
                c.close()
                u.close()
                continue
            z, up = c, u
            print("fpm_relay: zebra connected", flush=True)
            continue
        if up and up in r:
            d = up.recv(65536)
            if not d:
                print("fpm_relay: server closed", flush=True)
                close_pair()
                continue
            z.sendall(d)
        if z and z in r:
            d = z.recv(65536)
            if not d:
                print("fpm_relay: zebra closed", flush=True)
                close_pair()
                continue
            buf += d
            out = b""
            while len(buf) >= 4:
                ln = struct.unpack_from("!H", buf, 2)[0]
                if buf[0] != 1 or ln < 4:
                    out += buf  # not ours to judge: forward as is
                    buf = b""
                    break
                if len(buf) < ln:
                    break
                out += rewrite(buf[:ln], a.table_from, a.table_to)
                buf = buf[ln:]
            if out:
                up.sendall(out)


if __name__ == "__main__":
    main()
