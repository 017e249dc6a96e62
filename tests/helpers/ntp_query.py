#!/usr/bin/env python3
"""ntp_query.py HOST PORT [--src ADDR] [--count N] [--nts-bytes N]

A tiny NTP client for nts-serve's tests: sends client requests (mode 3,
48 octets, or padded with one unknown extension field to N octets), prints
one line per answer: "leap=L stratum=S refid=R kod=CODE|- len=N" and the
totals "sent=N recv=N bytes-out=N bytes-in=N max-ratio=R" (bytes-out: what
we sent; max-ratio: the largest answer/request ratio seen)."""
import socket
import struct
import sys
import time


def main():
    a = sys.argv[1:]
    host, port = a[0], int(a[1])
    src, count, size, quiet, wait = None, 1, 48, False, 1.0
    i = 2
    while i < len(a):
        if a[i] == "--src":
            src = a[i + 1]; i += 2
        elif a[i] == "--count":
            count = int(a[i + 1]); i += 2
        elif a[i] == "--size":
            size = int(a[i + 1]); i += 2
        elif a[i] == "--wait":
            wait = float(a[i + 1]); i += 2
        elif a[i] == "--quiet":
            quiet = True; i += 1
        else:
            sys.exit("bad argument " + a[i])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    s.settimeout(wait)
    sent = recv = bout = bin_ = 0
    ratio = 0.0
    for n in range(count):
        xmt = struct.pack("!Q", (int(time.time()) + 2208988800) << 32 | n)
        pkt = b"\x23" + b"\x00" * 39 + xmt
        if size > 48:
            body = size - 48 - 4
            pkt += struct.pack("!HH", 0x7777, size - 48) + b"\x00" * body
        s.sendto(pkt, (host, port))
        sent += 1
        bout += len(pkt)
        try:
            d, _ = s.recvfrom(4096)
        except socket.timeout:
            continue
        recv += 1
        bin_ += len(d)
        ratio = max(ratio, len(d) / len(pkt))
        if not quiet and len(d) >= 48:
            li, st = d[0] >> 6, d[1]
            ref = d[12:16]
            kod = ref.rstrip(b"\0").decode("ascii", "replace") if st == 0 else "-"
            refid = ".".join(str(x) for x in ref) if st >= 2 else ref.rstrip(b"\0").decode("ascii", "replace")
            print("leap=%d stratum=%d refid=%s kod=%s len=%d" % (li, st, refid, kod, len(d)))
    print("sent=%d recv=%d bytes-out=%d bytes-in=%d max-ratio=%.3f" % (sent, recv, bout, bin_, ratio))


main()
