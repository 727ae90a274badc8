#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print an FPM byte stream (as zebra's dplane_fpm_nl sends it) one netlink message a line.

usage: fpm_decode.py FILE...
Only what peerfwd's adapter looks at is decoded: route messages (family, prefix, table,
type, protocol, next hops, next-hop group id) and next-hop objects; the rest is named.
"""
import ipaddress
import socket
import struct
import sys

RTM = {24: "NEWROUTE", 25: "DELROUTE", 28: "NEWNEIGH", 29: "DELNEIGH",
       104: "NEWNEXTHOP", 105: "DELNEXTHOP"}
RTN = {0: "unspec", 1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast",
       6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat"}
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE = 1, 4, 5, 6, 9, 15
RTA_VIA, RTA_NH_ID, RTA_ENCAP_TYPE, RTA_ENCAP = 18, 30, 21, 22


def attrs(b):
    off = 0
    while off + 4 <= len(b):
        ln, typ = struct.unpack_from("=HH", b, off)
        if ln < 4 or off + ln > len(b):
            yield (None, b[off:])
            return
        yield (typ & 0x3FFF, b[off + 4:off + ln])
        off += (ln + 3) & ~3


def addr(fam, b):
    try:
        return str(ipaddress.ip_address(b))
    except ValueError:
        return b.hex()


def route(t, b):
    fam, dlen, slen, tos, table, proto, scope, rtype, flags = struct.unpack_from("=BBBBBBBBI", b)
    dst, nhs, extra = None, [], []
    for typ, v in attrs(b[12:]):
        if typ == RTA_DST:
            dst = addr(fam, v)
        elif typ == RTA_TABLE:
            table = struct.unpack("=I", v)[0]
        elif typ == RTA_GATEWAY:
            nhs.append(addr(fam, v))
        elif typ == RTA_OIF:
            extra.append("oif=%d" % struct.unpack("=I", v)[0])
        elif typ == RTA_NH_ID:
            extra.append("nh_id=%d" % struct.unpack("=I", v)[0])
        elif typ == RTA_MULTIPATH:
            off = 0
            while off + 8 <= len(v):
                rl, rf, rh, ifi = struct.unpack_from("=HBBi", v, off)
                g = [addr(fam, x) for ty, x in attrs(v[off + 8:off + rl]) if ty == RTA_GATEWAY]
                nhs.append("%s@%d" % (g[0] if g else "-", ifi))
                off += (rl + 3) & ~3
        elif typ in (RTA_PRIORITY,):
            pass
        else:
            extra.append("rta%s" % typ)
    if dst is None:
        dst = "0.0.0.0" if fam == socket.AF_INET else "::"
    return "%s fam=%d %s/%d table=%d type=%s proto=%d nh=[%s] %s" % (
        RTM[t], fam, dst, dlen, table, RTN.get(rtype, rtype), proto, ",".join(nhs),
        " ".join(extra))


def main():
    for fn in sys.argv[1:]:
        data = open(fn, "rb").read()
        off, n = 0, 0
        print("# %s: %d bytes" % (fn, len(data)))
        while off + 4 <= len(data):
            ver, typ, ln = struct.unpack_from("!BBH", data, off)
            if ver != 1 or ln < 4:
                print("bad FPM header at %d: version %d length %d" % (off, ver, ln))
                break
            frame = data[off + 4:off + ln]
            n += 1
            noff = 0
            while noff + 16 <= len(frame):
                nl, nt, nf, seq, pid = struct.unpack_from("=IHHII", frame, noff)
                body = frame[noff + 16:noff + nl]
                if nt in (24, 25):
                    s = route(nt, body)
                else:
                    s = "%s len=%d" % (RTM.get(nt, "type%d" % nt), nl)
                print("%4d @%-6d %s" % (n, off, s))
                if nl < 16:
                    break
                noff += (nl + 3) & ~3
            off += ln
        if off != len(data):
            print("# %d trailing bytes" % (len(data) - off))


if __name__ == "__main__":
    main()
