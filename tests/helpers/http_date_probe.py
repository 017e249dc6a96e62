#!/usr/bin/env python3
"""The clock offset the Tor world gets from an HTTP Date header, as a
baseline for tests/bench/tor_path.sh.
usage: http_date_probe.py SOCKS_HOST:PORT TARGET_IP:PORT COUNT SPACING [TIMEOUT]

COUNT times, SPACING seconds apart: a SOCKS5 CONNECT to TARGET through the
proxy, with a fresh random username and password each time (Tor's
IsolateSOCKSAuth: a new circuit per fetch), then "GET / HTTP/1.0" and the
response headers. As htpdate does with one request, the offset is
    Date + 0.5 s - (t_send + t_headers) / 2
(the Date header has whole seconds, truncated: + 0.5 s is its midpoint),
read on this process's clock (run it under libfaketime to give it a known
error). One line per fetch on standard output:
    http t=UNIX offset=+S rtt=S
    http-fail why=TEXT
Exit 0 when at least one fetch gave an offset, 1 otherwise."""
import email.utils
import os
import socket
import struct
import sys
import time


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise OSError("proxy closed the connection")
        b += c
    return b


def socks5_connect(proxy, target, timeout):
    s = socket.create_connection(proxy, timeout=timeout)
    s.sendall(b"\x05\x01\x02")
    if recv_exact(s, 2) != b"\x05\x02":
        raise OSError("proxy refused username/password authentication")
    user, pw = os.urandom(8).hex().encode(), os.urandom(8).hex().encode()
    s.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(pw)]) + pw)
    if recv_exact(s, 2)[1] != 0:
        raise OSError("proxy refused the login")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(target[0]) + struct.pack("!H", target[1]))
    rep = recv_exact(s, 4)
    if rep[1] != 0:
        raise OSError("CONNECT refused, REP %d" % rep[1])
    if rep[3] == 3:
        alen = recv_exact(s, 1)[0]
    else:
        alen = {1: 4, 4: 16}.get(rep[3], 0)
    recv_exact(s, alen + 2)             # BND.ADDR, BND.PORT
    return s


def fetch(proxy, target, timeout):
    s = socks5_connect(proxy, target, timeout)
    try:
        req = ("GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % target[0]).encode()
        t_send = time.time()
        s.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            c = s.recv(4096)
            if not c:
                break
            buf += c
        t_hdr = time.time()
    finally:
        s.close()
    for line in buf.split(b"\r\n"):
        if line.lower().startswith(b"date:"):
            date = email.utils.parsedate_to_datetime(line[5:].strip().decode()).timestamp()
            return t_hdr, date + 0.5 - (t_send + t_hdr) / 2, t_hdr - t_send
    raise OSError("no Date header in the answer")


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    proxy, target = hostport(sys.argv[1]), hostport(sys.argv[2])
    count, spacing = int(sys.argv[3]), float(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) == 6 else 30.0
    good = 0
    for i in range(count):
        if i:
            time.sleep(spacing)
        try:
            t, off, rtt = fetch(proxy, target, timeout)
            print("http t=%.6f offset=%+.6f rtt=%.6f" % (t, off, rtt), flush=True)
            good += 1
        except (OSError, ValueError, TypeError) as e:
            print("http-fail why=%s" % str(e).replace(" ", "_"), flush=True)
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
