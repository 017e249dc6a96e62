#!/usr/bin/env python3
"""Test peers for nts-poll (tests/integration/nts_poll_*.sh).

  udp_mitm.py mitm LISTEN_PORT SERVER_PORT MODEFILE
      A UDP man-in-the-middle on 127.0.0.1:LISTEN_PORT in front of an NTS
      server on 127.0.0.1:SERVER_PORT. Before each request it reads the mode
      (one word) from MODEFILE, so one process serves every test case:
        pass          forward both ways unchanged
        flip-hdr      flip a bit in the response header (receive timestamp)
        flip-auth     flip a bit in the response's NTS authenticator (the SIV tag)
        flip-enc      flip a bit in the encrypted part (where the new cookies are)
        flip-cookie   flip a bit in the request's NTS Cookie (the server answers NTSN)
        replay        answer every request with the first response seen in this mode
        uid           flip a bit in the response's Unique Identifier
        noauth        strip the NTS authenticator from the response
        trailing      append an unauthenticated NTS Cookie field after the authenticator
        kod-rate kod-deny kod-rstr kod-ntsn
                      answer with a forged (unauthenticated) Kiss-o'-Death that
                      echoes the request's origin and Unique Identifier; the
                      request never reaches the server
        kod-ntsn-then-real
                      a forged NTSN first, then the real answer
        drop          drop every request
        delay-SECONDS forward both ways, each response held SECONDS (a slow
                      server: a client can be stopped between its sends)
      Every packet it handles is logged on stdout ("MODE req|resp LEN"); a
      request with an NTS Cookie adds " cookie=B64URL" (unpadded base64url,
      as in a session record), so a test can see every cookie ever sent.

  udp_mitm.py relay TCP_PORT
      A minimal TCP relay speaking the frame of nts-poll(1) "TCP RELAY FRAME"
      (2-octet length, RFC 1928 §7 UDP header, NTP packet): each frame's
      packet goes by UDP to the named destination, the answer comes back in
      a frame naming the server. Loopback destinations only.
"""
import base64
import heapq
import os
import select
import socket
import struct
import sys
import threading
import time


def ext_fields(pkt):
    """[(offset, type, length)] of the extension fields after the header."""
    out, off = [], 48
    while off + 4 <= len(pkt):
        t, l = struct.unpack(">HH", pkt[off:off + 4])
        if l < 4 or off + l > len(pkt):
            break
        out.append((off, t, l))
        off += l
    return out


def find(pkt, typ):
    for off, t, l in ext_fields(pkt):
        if t == typ:
            return off, l
    return None


def flip(pkt, i):
    b = bytearray(pkt)
    b[i] ^= 0x01
    return bytes(b)


def forge_kod(req, code):
    # LI 3, VN 4, mode 4; stratum 0; refid = kiss code; origin = request's transmit
    hdr = bytes([0xE4, 0, 0, 0]) + b"\0" * 8 + code.encode().ljust(4, b"\0")
    hdr += b"\0" * 8 + req[40:48] + b"\0" * 16
    uid = find(req, 0x0104)
    if uid:
        hdr += req[uid[0]:uid[0] + uid[1]]
    return hdr


def mitm(listen_port, server_port, modefile):
    cs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cs.bind(("127.0.0.1", listen_port))
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.bind(("127.0.0.1", 0))
    server = ("127.0.0.1", server_port)
    client = None
    mode = "pass"
    saved = {}
    held = []   # (due, seq, packet, client): delay-SECONDS
    seq = 0
    while True:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, pkt, to = heapq.heappop(held)
            cs.sendto(pkt, to)
        wait = max(0.0, held[0][0] - now) if held else None
        r, _, _ = select.select([cs, up], [], [], wait)
        if cs in r:
            req, client = cs.recvfrom(4096)
            try:
                with open(modefile) as f:
                    mode = f.read().strip() or "pass"
            except OSError:
                mode = "pass"
            c = find(req, 0x0204)
            ck = ""
            if c:
                ck = " cookie=" + base64.urlsafe_b64encode(
                    req[c[0] + 4:c[0] + c[1]]).rstrip(b"=").decode()
            print(mode, "req", str(len(req)) + ck, flush=True)
            if mode == "drop":
                continue
            if mode.startswith("kod-"):
                code = mode.split("-")[1].upper()
                cs.sendto(forge_kod(req, code), client)
                if mode != "kod-ntsn-then-real":
                    continue
            if mode == "flip-cookie":
                c = find(req, 0x0204)
                if c:
                    req = flip(req, c[0] + 4 + c[1] // 2)
            up.sendto(req, server)
        if up in r:
            resp, _ = up.recvfrom(4096)
            print(mode, "resp", len(resp), flush=True)
            if client is None:
                continue
            if mode == "flip-hdr":
                resp = flip(resp, 35)
            elif mode in ("flip-auth", "flip-enc"):
                a = find(resp, 0x0404)
                if a:
                    nlen = struct.unpack(">H", resp[a[0] + 4:a[0] + 6])[0]
                    clen = struct.unpack(">H", resp[a[0] + 6:a[0] + 8])[0]
                    ct = a[0] + 8 + ((nlen + 3) & ~3)
                    # the SIV tag is the first 16 octets of the ciphertext;
                    # the encrypted cookies follow it
                    resp = flip(resp, ct if mode == "flip-auth" else ct + clen - 8)
            elif mode == "replay":
                if "r" in saved:
                    resp = saved["r"]
                else:
                    saved["r"] = resp
            elif mode == "uid":
                u = find(resp, 0x0104)
                if u:
                    resp = flip(resp, u[0] + 4)
            elif mode == "noauth":
                a = find(resp, 0x0404)
                if a:
                    resp = resp[:a[0]]
            elif mode == "trailing":
                resp = resp + struct.pack(">HH", 0x0204, 32) + os.urandom(28)
            if mode != "replay":
                saved.pop("r", None)
            if mode.startswith("delay-"):
                seq += 1
                heapq.heappush(held, (time.monotonic() + float(mode[6:]), seq, resp, client))
                continue
            cs.sendto(resp, client)


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b


def relay_conn(c):
    try:
        while True:
            h = recv_exact(c, 2)
            if h is None:
                return
            body = recv_exact(c, struct.unpack(">H", h)[0])
            if body is None or body[0:3] != b"\0\0\0":
                return
            atyp = body[3]
            if atyp == 1:
                host, off = socket.inet_ntop(socket.AF_INET, body[4:8]), 8
            elif atyp == 4:
                host, off = socket.inet_ntop(socket.AF_INET6, body[4:20]), 20
            elif atyp == 3:
                n = body[4]
                host, off = body[5:5 + n].decode(), 5 + n
            else:
                return
            port = struct.unpack(">H", body[off:off + 2])[0]
            pkt = body[off + 2:]
            ai = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0]
            if not ai[4][0].startswith("127."):
                return
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(2)
            u.sendto(pkt, ai[4])
            try:
                resp, src = u.recvfrom(4096)
            except socket.timeout:
                u.close()
                continue
            u.close()
            if len(resp) > len(pkt):
                continue
            hdr = b"\0\0\0\x01" + socket.inet_aton(src[0]) + struct.pack(">H", src[1])
            c.sendall(struct.pack(">H", len(hdr) + len(resp)) + hdr + resp)
            print("relay", host, port, len(pkt), len(resp), flush=True)
    finally:
        c.close()


def relay(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=relay_conn, args=(c,), daemon=True).start()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "mitm":
        mitm(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "relay":
        relay(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
