#!/usr/bin/env python3
"""serve_ke_probe: a scripted NTS-KE client for nts-serve's tests (RFC 8915 §4).

  serve_ke_probe.py req HOST PORT CAFILE KIND [DELAY]
      TLS 1.3 with ALPN ntske/1 (certificate checked against CAFILE, name
      "localhost"), then sends the request KIND after DELAY seconds:
        good            NextProtocol {0}, AEAD {15, 17}, End
        aead17          NextProtocol {0}, AEAD {17}, End
        noaead          NextProtocol {0}, AEAD {30}, End       (no match)
        unknown-critical  + an unknown record type 0x4321 marked critical
        big             a 1500-octet request (unknown NON-critical padding)
        garbage         64 random-looking octets (no valid records)
        truncated       half a request, then the client closes its side
        aead17-15       NextProtocol {0}, AEAD {17, 15}, End
        notntp          NextProtocol {5} (not NTPv4), AEAD {15}, End
        huge-header     NextProtocol {0}, AEAD {15}, then only the header of
                        an unknown non-critical record declaring 65535 octets
                        (more than a server's request limit); the
                        connection stays open
      Prints one line per received record:
        rec type=T crit=0|1 len=L [proto=..] [aead=..] [error=..] [port=..]
      then "cookies=N", then "close_notify" or "closed" (no close_notify) or
      "error=..." (TLS or socket failure), then "answer_after=S": seconds
      from the end of the request to the first octet of the answer.
  serve_ke_probe.py req-close HOST PORT CAFILE
      as "req ... good", but sends its close_notify right after the request,
      before reading (RFC 8446 §6.1: that closes only the client's write
      side; the server must still answer). Same output.
  serve_ke_probe.py stall HOST PORT N SECONDS MODE
      opens N TCP connections at once and holds them SECONDS, sending
      nothing (MODE=nothing) or half a ClientHello (MODE=half); prints
      "opened=N" once they are all open, then "closed-by-server=K" at the end.
"""
import os
import socket
import ssl
import struct
import sys
import time


def rec(t, body, crit=True):
    return struct.pack(">HH", (0x8000 if crit else 0) | t, len(body)) + body


END = rec(0, b"")


def request(kind):
    nextproto = rec(1, b"\x00\x00")
    if kind == "good":
        return nextproto + rec(4, b"\x00\x0f\x00\x11") + END
    if kind == "aead17":
        return nextproto + rec(4, b"\x00\x11") + END
    if kind == "noaead":
        return nextproto + rec(4, b"\x00\x1e") + END
    if kind == "unknown-critical":
        return nextproto + rec(4, b"\x00\x0f") + rec(0x4321, b"xx") + END
    if kind == "big":
        return nextproto + rec(4, b"\x00\x0f") + rec(0x1234, b"\xaa" * 1480, crit=False) + END
    if kind == "garbage":
        return bytes((i * 37 + 11) & 0xFF for i in range(64))
    if kind == "truncated":
        return nextproto + rec(4, b"\x00\x0f")[:3]
    if kind == "aead17-15":
        return nextproto + rec(4, b"\x00\x11\x00\x0f") + END
    if kind == "notntp":
        return rec(1, b"\x00\x05") + rec(4, b"\x00\x0f") + END
    if kind == "huge-header":
        return nextproto + rec(4, b"\x00\x0f") + struct.pack(">HH", 0x1234, 0xFFFF)
    raise SystemExit("unknown kind " + kind)


def parse(buf):
    out, off, cookies = [], 0, 0
    while off + 4 <= len(buf):
        t, ln = struct.unpack(">HH", buf[off:off + 4])
        body = buf[off + 4:off + 4 + ln]
        crit, t = t >> 15, t & 0x7FFF
        line = "rec type=%d crit=%d len=%d" % (t, crit, ln)
        if t == 1:
            line += " proto=%s" % ",".join(str(x) for x in struct.unpack(">%dH" % (ln // 2), body)) if ln else " proto=empty"
        if t == 4:
            line += " aead=%s" % ",".join(str(x) for x in struct.unpack(">%dH" % (ln // 2), body)) if ln else " aead=empty"
        if t == 2 and ln == 2:
            line += " error=%d" % struct.unpack(">H", body)[0]
        if t == 7 and ln == 2:
            line += " port=%d" % struct.unpack(">H", body)[0]
        if t == 5:
            cookies += 1
        out.append(line)
        off += 4 + ln
    if off != len(buf):
        out.append("trailing=%d" % (len(buf) - off))
    out.append("cookies=%d" % cookies)
    return out


def do_req(host, port, ca, kind, delay):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    ctx.set_alpn_protocols(["ntske/1"])
    raw = socket.create_connection((host, port), timeout=8)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except (ssl.SSLError, OSError) as e:
        print("error=%s" % str(e).replace(" ", "_"))
        return 1
    print("alpn=%s" % s.selected_alpn_protocol())
    sys.stdout.flush()
    if delay > 0:
        time.sleep(delay)
    s.sendall(request(kind))
    t0, t1 = time.monotonic(), None
    if kind == "truncated":
        # half-close underneath TLS (a dup of the descriptor: the SSL
        # socket itself would drop its TLS state on shutdown())
        d = socket.socket(fileno=os.dup(s.fileno()))
        d.shutdown(socket.SHUT_WR)
        d.close()
    buf, end = b"", "closed"
    while True:
        try:
            d = s.recv(4096)
        except ssl.SSLEOFError:
            break
        except (ssl.SSLError, OSError) as e:
            end = "error=%s" % str(e).replace(" ", "_")
            break
        if not d:
            end = "close_notify"
            break
        if t1 is None:
            t1 = time.monotonic()
        buf += d
    for line in parse(buf):
        print(line)
    print(end)
    print("answer_after=%s" % ("%.3f" % (t1 - t0) if t1 is not None else "none"))
    return 0


def do_req_close(host, port, ca):
    """TLS through memory BIOs, so that close_notify can be sent without
    waiting for the server's."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    ctx.set_alpn_protocols(["ntske/1"])
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname="localhost")
    sock = socket.create_connection((host, port), timeout=8)

    def pump_out():
        d = outg.read()
        if d:
            sock.sendall(d)

    def pump_in():
        d = sock.recv(65536)
        if not d:
            inc.write_eof()
            return False
        inc.write(d)
        return True

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump_out()
            if not pump_in():
                print("error=eof_in_handshake")
                return 1
    pump_out()
    print("alpn=%s" % obj.selected_alpn_protocol())
    obj.write(request("good"))
    try:
        obj.unwrap()            # queues our close_notify
    except ssl.SSLWantReadError:
        pass
    pump_out()
    buf, end = b"", "closed"
    while True:
        try:
            d = obj.read(4096)
            if not d:
                end = "close_notify"
                break
            buf += d
            continue
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            end = "close_notify"
            break
        except (ssl.SSLError, OSError) as e:
            end = "error=%s" % str(e).replace(" ", "_")
            break
        try:
            if not pump_in():
                break
        except OSError as e:
            end = "error=%s" % str(e).replace(" ", "_")
            break
    for line in parse(buf):
        print(line)
    print(end)
    return 0


def do_stall(host, port, n, secs, mode):
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        if mode == "half":
            # the first 40 octets of a ClientHello record: header says 512
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x11" * 29)
        s.setblocking(False)
        socks.append(s)
    print("opened=%d" % len(socks))
    sys.stdout.flush()
    t_end = time.time() + secs
    closed = set()
    while time.time() < t_end:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if s.recv(4096) == b"":
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
        time.sleep(0.1)
    print("closed-by-server=%d" % len(closed))
    for s in socks:
        s.close()
    return 0


def main(a):
    if len(a) >= 5 and a[0] == "req":
        return do_req(a[1], int(a[2]), a[3], a[4], float(a[5]) if len(a) > 5 else 0)
    if len(a) == 4 and a[0] == "req-close":
        return do_req_close(a[1], int(a[2]), a[3])
    if len(a) == 6 and a[0] == "stall":
        return do_stall(a[1], int(a[2]), int(a[3]), float(a[4]), a[5])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
