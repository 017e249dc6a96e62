#!/usr/bin/env python3
"""A scripted, misbehaving SOCKS5 server: one mode per bad case.
usage: socks5_badproxy.py HOST PORT MODE

Greeting stage (answer to the client's method offer):
  close          accept, then close at once
  silent         accept, read nothing, say nothing (client times out)
  greet-short    b"\\x05" then close
  greet-version  b"\\x04\\x00" (a SOCKS4-ish answer)
  greet-ff       b"\\x05\\xff" no acceptable methods
  greet-unoffered b"\\x05\\x01" (GSSAPI, which the client never offers)
  garbage        an HTTP error page
Authentication stage (method 0x02 is selected, the request is read):
  auth-fail      status 0x01
  auth-short     b"\\x01" then close
Request stage (method as offered, auth accepted, request read):
  rep-XX         reply with REP = hex XX, BND 0.0.0.0:0 (e.g. rep-05, rep-f0)
  rep-short      b"\\x05\\x00\\x00\\x01\\x7f\\x00" then close (short reply)
  rep-close-mid  b"\\x05\\x00" then close (closed mid-reply)
  rep-version    a reply with VER 0x04
  rep-badatyp    a reply with ATYP 0x09
  rep-past-end   ATYP domain with length 255 but 3 bytes, then close
  rep-silent     no reply (client times out)
UDP ASSOCIATE (the server is its own relay and echo: every datagram from the
client is answered with b"echo:" + payload, as if from the target):
  udp-zero-bnd   reply BND 0.0.0.0:relayport; relay answers normally
  udp-frag       first answer has FRAG=1, then a correct one
  udp-stranger   first answer comes from another socket (not the relay), then a correct one
  udp-badhdr     first answer has a truncated header, then a correct one
  udp-close      reply, then close the control connection without relaying
"""
import socket
import struct
import sys
import threading
import time


def recvn(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


def read_request(c):
    ver, cmd, rsv, atyp = recvn(c, 4)
    if atyp == 1:
        addr = recvn(c, 4)
    elif atyp == 4:
        addr = recvn(c, 16)
    elif atyp == 3:
        addr = recvn(c, recvn(c, 1)[0])
    else:
        raise EOFError
    port = struct.unpack("!H", recvn(c, 2))[0]
    return cmd, atyp, addr, port


def greet(c):
    """Answer the method offer with the method offered; run auth if 0x02."""
    ver, n = recvn(c, 2)
    methods = recvn(c, n)
    m = 2 if 2 in methods else 0
    c.sendall(bytes([5, m]))
    if m == 2:
        recvn(c, 1)
        recvn(c, recvn(c, 1)[0])
        recvn(c, recvn(c, 1)[0])
        c.sendall(b"\x01\x00")


def relay(c, mode, host, client_addr):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((host, 0))
    rport = u.getsockname()[1]
    c.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00" + struct.pack("!H", rport))
    if mode == "udp-close":
        time.sleep(0.3)
        return
    u.settimeout(10)
    d, a = u.recvfrom(65535)
    hdr_ok = b"\x00\x00\x00\x01\x7f\x00\x00\x01\x4e\xe9"   # from 127.0.0.1:20201
    payload = b"echo:" + d[10:] if d[3] == 1 else b"echo:" + d[4 + 1 + d[4] + 2:]
    if mode == "udp-frag":
        u.sendto(b"\x00\x00\x01" + hdr_ok[3:] + payload, a)
    elif mode == "udp-stranger":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((host, 0))
        s.sendto(hdr_ok + payload, a)
        s.close()
        time.sleep(0.05)
    elif mode == "udp-badhdr":
        u.sendto(b"\x00\x00\x00\x03\x40abc", a)
    u.sendto(hdr_ok + payload, a)
    # hold the association open until the client closes the control connection
    c.settimeout(10)
    try:
        c.recv(1)
    except OSError:
        pass


def handle(c, mode, host):
    try:
        if mode == "close":
            return
        if mode == "silent":
            time.sleep(30)
            return
        if mode.startswith("greet-") or mode == "garbage":
            ver, n = recvn(c, 2)
            recvn(c, n)
            c.sendall({"greet-short": b"\x05", "greet-version": b"\x04\x00",
                       "greet-ff": b"\x05\xff", "greet-unoffered": b"\x05\x01",
                       "garbage": b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html>no</html>"}[mode])
            time.sleep(0.2)
            return
        if mode.startswith("auth-"):
            ver, n = recvn(c, 2)
            recvn(c, n)
            c.sendall(b"\x05\x02")
            recvn(c, 1)
            recvn(c, recvn(c, 1)[0])
            recvn(c, recvn(c, 1)[0])
            c.sendall(b"\x01\x01" if mode == "auth-fail" else b"\x01")
            time.sleep(0.2)
            return
        greet(c)
        cmd, atyp, addr, port = read_request(c)
        if mode.startswith("udp-"):
            relay(c, mode, host, (addr, port))
            return
        if mode == "rep-silent":
            time.sleep(30)
            return
        if mode.startswith("rep-") and len(mode) == 6:
            c.sendall(b"\x05" + bytes([int(mode[4:], 16)]) + b"\x00\x01\x00\x00\x00\x00\x00\x00")
        else:
            c.sendall({"rep-short": b"\x05\x00\x00\x01\x7f\x00",
                       "rep-close-mid": b"\x05\x00",
                       "rep-version": b"\x04\x00\x00\x01\x00\x00\x00\x00\x00\x00",
                       "rep-badatyp": b"\x05\x00\x00\x09\x00\x00\x00\x00\x00\x00",
                       "rep-past-end": b"\x05\x00\x00\x03\xffabc"}[mode])
        time.sleep(0.2)
    except (EOFError, OSError):
        pass
    finally:
        c.close()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c, mode, host), daemon=True).start()


if __name__ == "__main__":
    main()
