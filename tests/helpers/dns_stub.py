#!/usr/bin/env python3
"""Loopback DNS stub for the private Tor network's exit relay.

usage: dns_stub.py [ADDR] [PORT]      (default 127.0.0.1 20723)

Answers over UDP:
  A     localhost, test, *.test   -> 127.0.0.1 (TTL 60)
  AAAA  the same names            -> ::1
  any other type for those names  -> NOERROR, no answer (NODATA)
  any other name                  -> NXDOMAIN
Malformed queries are dropped. It never forwards anything, so the exit's
DNS never leaves loopback. One line per query goes to stderr.
"""
import socket
import struct
import sys


def parse_qname(msg, off):
    labels = []
    while True:
        if off >= len(msg):
            raise ValueError("truncated name")
        n = msg[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compression in question")
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
        if off > len(msg):
            raise ValueError("truncated label")
    return ".".join(labels), off


def local_name(name):
    n = name.lower().rstrip(".")
    return n == "localhost" or n == "test" or n.endswith(".test")


def answer(query):
    if len(query) < 12:
        return None
    qid, flags, qd, _an, _ns, _ar = struct.unpack(">HHHHHH", query[:12])
    if flags & 0x8000 or qd != 1:       # a response, or not exactly one question
        return None
    name, off = parse_qname(query, 12)
    if off + 4 > len(query):
        return None
    qtype, qclass = struct.unpack(">HH", query[off:off + 4])
    question = query[12:off + 4]
    rd = flags & 0x0100
    rr = b""
    if not local_name(name):
        rcode = 3                        # NXDOMAIN
    else:
        rcode = 0
        if qclass == 1 and qtype == 1:
            rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
        elif qclass == 1 and qtype == 28:
            rr = b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, "::1")
    hdr = struct.pack(">HHHHHH", qid, 0x8400 | rd | rcode, 1, 1 if rr else 0, 0, 0)
    sys.stderr.write("dns_stub: %s type %d -> %s\n" % (name, qtype, "NXDOMAIN" if rcode else ("answer" if rr else "nodata")))
    return hdr + question + rr


def main():
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 20723
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    sys.stderr.write("dns_stub: listening on %s:%d\n" % (addr, port))
    sys.stderr.flush()
    while True:
        data, peer = s.recvfrom(4096)
        try:
            r = answer(data)
        except (ValueError, struct.error):
            r = None
        if r:
            s.sendto(r, peer)
        sys.stderr.flush()


if __name__ == "__main__":
    main()
