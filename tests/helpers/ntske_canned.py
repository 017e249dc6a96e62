#!/usr/bin/env python3
"""Write a canned NTS-KE response (RFC 8915 §4 records) for one test case to
stdout; a TLS server (openssl s_server -quiet) sends it to nts-ke.
usage: ntske_canned.py CASE"""
import struct
import sys


def rec(t, body=b"", crit=True):
    return struct.pack(">HH", (0x8000 if crit else 0) | t, len(body)) + body


NEXT = rec(1, b"\x00\x00")
AEAD15 = rec(4, b"\x00\x0f")
END = rec(0)
COOKIES = b"".join(rec(5, bytes([i]) * 100, crit=False) for i in range(8))

CASES = {
    # chrony-like: Port record, 8 cookies of 100 bytes, plus record 1024 (chrony >= 4.6)
    "ok-1024": NEXT + AEAD15 + rec(7, b"\x2b\x73") + rec(1024, b"\x00" * 8, crit=False) + COOKIES + END,
    # NTPsec-like: AEAD not critical, 104-byte cookies, no Port or Server record
    "ok-ntpsec": NEXT + rec(4, b"\x00\x0f", crit=False)
    + b"".join(rec(5, bytes([i]) * 104, crit=False) for i in range(8)) + END,
    # ntpd-rs-like: unknown non-critical records 8..14, Server record
    "ok-server": NEXT + AEAD15 + b"".join(rec(t, b"\x00\x01", crit=False) for t in range(8, 15))
    + rec(6, b"ntp.nts.test") + rec(7, b"\x00\x7b") + COOKIES + END,
    "error": NEXT + rec(2, b"\x00\x01") + END,
    "warning": NEXT + AEAD15 + rec(3, b"\x00\x07") + COOKIES + END,
    "empty-aead": NEXT + rec(4, b"") + END,
    "not-offered": NEXT + rec(4, b"\x00\x10") + COOKIES + END,
    "no-cookies": NEXT + AEAD15 + END,
    "early-close": NEXT + AEAD15 + COOKIES,
    "past-end": NEXT + AEAD15 + struct.pack(">HH", 5, 100) + b"x" * 10,
    "too-long": NEXT + AEAD15 + b"".join(rec(1024, b"\x00" * 1000, crit=False) for _ in range(70)) + COOKIES + END,
    "unknown-critical": NEXT + AEAD15 + rec(1000, b"\x00\x00") + COOKIES + END,
    "two-ports": NEXT + AEAD15 + rec(7, b"\x00\x7b") + rec(7, b"\x00\x7c") + COOKIES + END,
    "silent": b"",
}

sys.stdout.buffer.write(CASES[sys.argv[1]])
