#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Minimal FPM server for recording what zebra's dplane_fpm_nl sends.

Listens on ADDR:PORT, accepts one zebra at a time and appends every complete FPM frame
(4-byte header: version, type, 16-bit length incl. header, network order) to the current
segment file OUTDIR/segNN.bin. Creating the file OUTDIR/rotate starts a new segment (at a
frame boundary; the file is removed), so a recording script can cut the stream into phases;
a new connection also starts a new segment. OUTDIR/index.txt gets one line per segment: "segNN conn=K frames=N bytes=B".
Exits on SIGTERM/SIGINT, or after --max-seconds.
"""
import argparse
import os
import select
import signal
import socket
import struct
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:2620")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()

    host, port = a.listen.rsplit(":", 1)
    os.makedirs(a.outdir, exist_ok=True)
    state = {"stop": False}
    signal.signal(signal.SIGTERM, lambda *_: state.__setitem__("stop", True))
    signal.signal(signal.SIGINT, lambda *_: state.__setitem__("stop", True))

    ls = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host.strip("[]"), int(port)))
    ls.listen(4)

    seg = {"n": -1, "f": None, "frames": 0, "bytes": 0, "conn": 0}
    index = open(os.path.join(a.outdir, "index.txt"), "a")

    def close_seg():
        if seg["f"] is not None:
            seg["f"].close()
            index.write("seg%02d conn=%d frames=%d bytes=%d\n" %
                        (seg["n"], seg["conn"], seg["frames"], seg["bytes"]))
            index.flush()
            seg["f"] = None

    def new_seg():
        close_seg()
        seg["n"] += 1
        seg["frames"] = seg["bytes"] = 0
        seg["f"] = open(os.path.join(a.outdir, "seg%02d.bin" % seg["n"]), "wb")
        print("fpm_dump: segment %02d (connection %d)" % (seg["n"], seg["conn"]), flush=True)

    conn = None
    buf = b""
    end = time.time() + a.max_seconds
    while not state["stop"] and time.time() < end:
        rot = os.path.join(a.outdir, "rotate")
        if os.path.exists(rot):
            os.unlink(rot)
            new_seg()
        rl = [ls] + ([conn] if conn else [])
        try:
            r, _, _ = select.select(rl, [], [], 0.1)
        except InterruptedError:
            continue
        if ls in r:
            c, peer = ls.accept()
            if conn:
                conn.close()
            conn, buf = c, b""
            seg["conn"] += 1
            print("fpm_dump: connection %d from %s" % (seg["conn"], peer), flush=True)
            new_seg()
        if conn and conn in r:
            d = conn.recv(65536)
            if not d:
                print("fpm_dump: connection closed", flush=True)
                conn.close()
                conn = None
                continue
            buf += d
            while len(buf) >= 4:
                ver, typ, ln = struct.unpack("!BBH", buf[:4])
                if ln < 4:
                    print("fpm_dump: bad frame length %d" % ln, file=sys.stderr)
                    buf = b""
                    break
                if len(buf) < ln:
                    break
                seg["f"].write(buf[:ln])
                seg["f"].flush()
                seg["frames"] += 1
                seg["bytes"] += ln
                buf = buf[ln:]
    close_seg()
    index.close()


if __name__ == "__main__":
    main()
