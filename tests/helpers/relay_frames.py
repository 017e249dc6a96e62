#!/usr/bin/env python3
"""relay_frames.py HOST PORT CASE [ARGS]: speak the TCP relay frame
(lib/relay.h: 2-octet length, RFC 1928 §7 UDP header, NTP packet) to
nts-serve's --tcp-listen port and print what happened, one line:

  plain DST DSTPORT        one 48-octet client request framed to DST (an
                           address, or a name sent as ATYP 3):
                           "answer len=N req=M leap=L stratum=S" or "closed"/"timeout"
  many DSTIP DSTPORT N     N frames back to back in one write:
                           "answers=K bytes-out=B bytes-in=C"
  bad NAME                 a malformed stream (NAME: short-len, huge-len,
                           rsv, frag, atyp, trailing-garbage, truncated-addr):
                           "closed" when the server closed the stream, else
                           "open"
  stall SECONDS            half a frame, then wait: "closed after T s" / "open"
  random SEED              200 pseudo-random octets: "closed" / "open"
  hold N SECONDS           N connections that each send half a frame and
                           stall; meanwhile one good frame on a new
                           connection every second: "held=N answered=K/T"
"""
import socket
import struct
import sys
import time


def ntp_req(n=0):
    xmt = struct.pack("!Q", (int(time.time()) + 2208988800) << 32 | (n + 1))
    return b"\x23" + b"\x00" * 39 + xmt


def udp_hdr(ip, port, atyp=1):
    if atyp == 1:
        return b"\x00\x00\x00\x01" + socket.inet_aton(ip) + struct.pack("!H", port)
    return b"\x00\x00\x00\x04" + socket.inet_pton(socket.AF_INET6, ip) + struct.pack("!H", port)


def frame(ip, port, pkt):
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)
    except OSError:  # a name: ATYP 3
        name = ip.encode()
        body = b"\x00\x00\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", port) + pkt
        return struct.pack("!H", len(body)) + body
    body = udp_hdr(ip, port, 4 if ":" in ip else 1) + pkt
    return struct.pack("!H", len(body)) + body


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            return None
        b += d
    return b


def read_frame(s):
    h = recv_exact(s, 2)
    if h is None:
        return None
    (ln,) = struct.unpack("!H", h)
    return recv_exact(s, ln)


def closed(s, wait=3.0):
    s.settimeout(wait)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def main():
    host, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    a = sys.argv[4:]
    s = socket.create_connection((host, port), timeout=5)
    if case == "plain":
        f = frame(a[0], int(a[1]), ntp_req())
        s.sendall(f)
        try:
            body = read_frame(s)
        except socket.timeout:
            print("timeout")
            return
        if body is None:
            print("closed")
            return
        pkt = body[len(f) - 2 - 48:]  # the answer names the same destination
        print("answer len=%d req=%d leap=%d stratum=%d" % (len(body) + 2, len(f), pkt[0] >> 6, pkt[1]))
    elif case == "many":
        n = int(a[2])
        buf = b"".join(frame(a[0], int(a[1]), ntp_req(i)) for i in range(n))
        s.sendall(buf)
        got = inb = 0
        s.settimeout(3)
        try:
            while got < n:
                body = read_frame(s)
                if body is None:
                    break
                got += 1
                inb += len(body) + 2
        except socket.timeout:
            pass
        print("answers=%d bytes-out=%d bytes-in=%d" % (got, len(buf), inb))
    elif case == "bad":
        good = frame("127.0.0.1", 1, ntp_req())
        name = a[0]
        if name == "short-len":
            data = struct.pack("!H", 5) + b"\x00" * 5
        elif name == "huge-len":
            data = struct.pack("!H", 0xffff) + b"\x00" * 100
        elif name == "rsv":
            data = good[:2] + b"\x01" + good[3:]
        elif name == "frag":
            data = good[:4] + b"\x01" + good[5:]
        elif name == "atyp":
            data = good[:5] + b"\x09" + good[6:]
        elif name == "trailing-garbage":
            data = struct.pack("!H", 0x0102) + b"\xff" * 0x102
        elif name == "truncated-addr":
            body = b"\x00\x00\x00\x03\xff" + b"a" * 10
            data = struct.pack("!H", len(body) + 48) + body + b"\x00" * 48
        else:
            sys.exit("unknown bad case")
        s.sendall(data)
        print("closed" if closed(s) else "open")
    elif case == "random":
        import random
        r = random.Random(int(a[0]))
        s.sendall(bytes(r.randrange(256) for _ in range(200)))
        print("closed" if closed(s) else "open")
    elif case == "hold":
        s.close()
        held = []
        for _ in range(int(a[0])):
            c = socket.create_connection((host, port), timeout=5)
            c.sendall(frame("127.0.0.1", 1, ntp_req())[:20])
            held.append(c)
        ok = tries = 0
        t_end = time.time() + float(a[1])
        while time.time() < t_end:
            time.sleep(1)
            tries += 1
            try:
                g = socket.create_connection((host, port), timeout=3)
                g.sendall(frame(a[2], int(a[3]), ntp_req()))
                if read_frame(g):
                    ok += 1
                g.close()
            except OSError:
                pass
        print("held=%d answered=%d/%d" % (len(held), ok, tries))
    elif case == "stall":
        t0 = time.time()
        s.sendall(frame("127.0.0.1", 1, ntp_req())[:20])
        ok = closed(s, float(a[0]))
        print(("closed after %.1f s" % (time.time() - t0)) if ok else "open")


main()
