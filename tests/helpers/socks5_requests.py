#!/usr/bin/env python3
"""What a SOCKS5 client asked its proxy for, read from a packet capture.
usage: tshark -r CAP -Y 'CLIENT->PROXY filter' -T fields -e tcp.stream \
           -e tcp.payload | socks5_requests.py
Input: one line per client-to-proxy TCP segment, "STREAM<TAB>HEXPAYLOAD"
(hex with or without ':'). The segments of each stream are joined and read
as RFC 1928 (greeting, request) with an optional RFC 1929 username/password
subnegotiation. Prints one line per stream:
    stream N user=NAME|- connect=domain:HOST:PORT|ipv4:A.B.C.D:PORT|ipv6:...|none
then "N streams, N CONNECT, N by name, N distinct users". Exit 0, or 1 when a
stream could not be read as SOCKS5 (printed as connect=unreadable)."""
import ipaddress
import sys


def parse(b):
    """(user, connect) of one client byte stream, or raises ValueError."""
    if len(b) < 2 or b[0] != 5:
        raise ValueError("not a SOCKS5 greeting")
    n = b[1]
    methods = b[2:2 + n]
    i = 2 + n
    user = "-"
    if 2 in methods and i < len(b) and b[i] == 1:
        # RFC 1929: VER=1 ULEN UNAME PLEN PASSWD (the proxy chose method 2)
        ul = b[i + 1]
        user = b[i + 2:i + 2 + ul].decode("ascii", "replace")
        pl = b[i + 2 + ul]
        i = i + 3 + ul + pl
    if i + 4 > len(b):
        return user, "none"
    if b[i] != 5 or b[i + 2] != 0:
        raise ValueError("bad request header")
    cmd, at = b[i + 1], b[i + 3]
    j = i + 4
    if at == 1:
        host, kind, j = str(ipaddress.IPv4Address(b[j:j + 4])), "ipv4", j + 4
    elif at == 4:
        host, kind, j = str(ipaddress.IPv6Address(b[j:j + 16])), "ipv6", j + 16
    elif at == 3:
        host, kind, j = b[j + 1:j + 1 + b[j]].decode("ascii", "replace"), "domain", j + 1 + b[j]
    else:
        raise ValueError("unknown ATYP %d" % at)
    port = int.from_bytes(b[j:j + 2], "big")
    what = {1: "connect", 2: "bind", 3: "udp-associate"}.get(cmd, "cmd%d" % cmd)
    return user, "%s:%s:%s:%d" % (what, kind, host, port)


def main():
    data = {}
    for line in sys.stdin:
        p = line.rstrip("\n").split("\t")
        if len(p) < 2 or not p[1]:
            continue
        data.setdefault(int(p[0]), bytearray()).extend(bytes.fromhex(p[1].replace(":", "")))
    bad = 0
    users = set()
    nconn = nname = 0
    for s in sorted(data):
        try:
            user, c = parse(bytes(data[s]))
        except (ValueError, IndexError) as e:
            user, c = "-", "unreadable(%s)" % e
            bad += 1
        if user != "-":
            users.add(user)
        if c.startswith("connect:"):
            nconn += 1
            if c.startswith("connect:domain:"):
                nname += 1
        print("stream %d user=%s %s" % (s, user, c))
    print("%d streams, %d CONNECT, %d by name, %d distinct users"
          % (len(data), nconn, nname, len(users)))
    sys.exit(1 if bad else 0)


main()
