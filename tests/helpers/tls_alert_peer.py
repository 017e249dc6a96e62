#!/usr/bin/env python3
"""tls_alert_peer: does a fatal TLS alert reach the peer when more data
follows the message that provoked it? (RFC 8446 6.2: the alert is sent, then
the connection closed; closing a socket with unread data makes the kernel
send a reset, which can destroy the alert before it is read.)

  tls_alert_peer.py client HOST PORT   connect; send a ClientHello whose
      legacy_version is 0x0300 (TLS 1.3 in supported_versions), then JUNK
      bytes; wait; read everything
  tls_alert_peer.py server PORT        accept one connection on 127.0.0.1;
      read the ClientHello; answer a ServerHello whose legacy_version is
      0x0300, then JUNK bytes; wait; read everything
  options: --junk N (bytes after the bad message, default 262144)
           --wait S (seconds before reading, default 0.5: a reset sent at
           the peer's close arrives first)

Prints one line: "alert=LEVEL,DESC end=eof|reset|timeout" (alert=none when
no alert record came). Exit 0 when it ran, 2 on usage/connect errors.
Both Hellos are well formed apart from legacy_version: the alert is
protocol_version (2,70) from a peer that checks it.
"""
import os
import socket
import struct
import sys
import time


def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def hs(t, body):
    return bytes([t]) + struct.pack("!I", len(body))[1:] + body


def record(t, body, version=0x0303):
    return struct.pack("!BHH", t, version, len(body)) + body


def client_hello():
    share = os.urandom(32)
    exts = (ext(0x000a, b"\x00\x02\x00\x1d")                       # supported_groups x25519
            + ext(0x000d, b"\x00\x02\x04\x03")                     # signature_algorithms
            + ext(0x0010, b"\x00\x08\x07ntske/1")                  # ALPN
            + ext(0x0033, struct.pack("!HHH", 34, 0x001d, 32) + share)
            + ext(0x002b, b"\x02\x03\x04"))                         # supported_versions: TLS 1.3
    body = (struct.pack("!H", 0x0300) + os.urandom(32) + b"\x20" + os.urandom(32)
            + b"\x00\x02\x13\x01" + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    return record(22, hs(1, body), 0x0301)


def server_hello(ch):
    # legacy_session_id_echo: the client's, so only legacy_version is wrong
    body = ch[5 + 4:]
    sid_len = body[34]
    sid = body[35:35 + sid_len]
    exts = (ext(0x0033, struct.pack("!HH", 0x001d, 32) + os.urandom(32))
            + ext(0x002b, b"\x03\x04"))
    sh = (struct.pack("!H", 0x0300) + os.urandom(32) + bytes([sid_len]) + sid
          + b"\x13\x01\x00" + struct.pack("!H", len(exts)) + exts)
    return record(22, hs(2, sh))


def read_record(s):
    buf = b""
    while len(buf) < 5 or len(buf) < 5 + struct.unpack("!H", buf[3:5])[0]:
        d = s.recv(65536)
        if not d:
            raise OSError("closed before a whole record")
        buf += d
    return buf


def send_junk(s, n):
    """Send n bytes, giving up after 3 s or on an error. Returns True when
    the peer reset the connection meanwhile (the socket reports the reset
    once: to this send, and a later recv sees a plain end)."""
    s.settimeout(3)
    junk = b"\x00" * 65536
    try:
        while n > 0:
            k = s.send(junk[:min(n, len(junk))])
            n -= k
    except (ConnectionResetError, BrokenPipeError):
        return True
    except OSError:
        pass
    return False


def collect(s, wait, reset):
    time.sleep(wait)
    s.settimeout(5)
    data, end = b"", "reset" if reset else "eof"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    alert = "none"
    # the first record of type alert (21), plaintext, 2 bytes
    i = 0
    while i + 5 <= len(data):
        t, _, ln = struct.unpack("!BHH", data[i:i + 5])
        if t == 21 and ln == 2 and i + 7 <= len(data):
            alert = "%d,%d" % (data[i + 5], data[i + 6])
            break
        i += 5 + ln
    print("alert=%s end=%s" % (alert, end), flush=True)


def main(argv):
    junk, wait, args = 262144, 0.5, []
    i = 1
    while i < len(argv):
        if argv[i] == "--junk":
            junk = int(argv[i + 1]); i += 2
        elif argv[i] == "--wait":
            wait = float(argv[i + 1]); i += 2
        else:
            args.append(argv[i]); i += 1
    if len(args) == 3 and args[0] == "client":
        try:
            s = socket.create_connection((args[1], int(args[2])), timeout=5)
        except OSError as e:
            print("connect: %s" % e, file=sys.stderr)
            return 2
        s.sendall(client_hello())
        collect(s, wait, send_junk(s, junk))
        s.close()
        return 0
    if len(args) == 2 and args[0] == "server":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", int(args[1])))
        ls.listen(1)
        ls.settimeout(20)
        try:
            s, _ = ls.accept()
        except OSError as e:
            print("accept: %s" % e, file=sys.stderr)
            return 2
        ch = read_record(s)
        s.sendall(server_hello(ch))
        collect(s, wait, send_junk(s, junk))
        s.close()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
