#!/usr/bin/env python3
"""Run a command while watching Tor's control port for STREAM events, and
check that its streams used distinct circuits (one per source).
usage: tor_streams.py HOST:PORT COOKIEFILE SECONDS -- CMD ARGS...
Prints the streams seen and a summary line; exit 0 when the command exited 0
and its SUCCEEDED streams used as many distinct circuits as there were
streams (at least 2), 1 otherwise."""
import select
import socket
import subprocess
import sys
import threading
import time


class Lines:
    """Lines from a socket with a buffer of our own: a file object from
    socket.makefile() may lose data when a read times out, which is how
    this helper once missed most of a run's streams."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def readline(self, stop=None):
        """The next line without its CRLF; None at end of stream or, when
        the stop event is set, once no more data is waiting."""
        while b"\n" not in self.buf:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                if stop is not None and stop.is_set():
                    return None
                continue
            d = self.sock.recv(4096)
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace").rstrip("\r")


def main():
    hp, cookie_file, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    host, port = hp.rsplit(":", 1)
    cookie = open(cookie_file, "rb").read().hex()
    s = socket.create_connection((host, int(port)), timeout=10)
    s.settimeout(None)
    lines = Lines(s)

    def send(line):
        s.sendall(line.encode() + b"\r\n")
        r = lines.readline() or ""
        if not r.startswith("250"):
            print("control port refused %r: %s" % (line.split()[0], r))
            sys.exit(1)

    send("AUTHENTICATE " + cookie)
    send("SETEVENTS STREAM")
    streams = {}
    done = threading.Event()

    def reader():
        while True:
            line = lines.readline(done)
            if line is None:
                break
            p = line.split()
            if len(p) >= 6 and p[0] == "650" and p[1] == "STREAM" and p[3] == "SUCCEEDED":
                # Tor's own directory fetches are not the command's streams
                if "PURPOSE=" in line and "PURPOSE=USER" not in line:
                    continue
                streams[p[2]] = (p[4], p[5])

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t0 = time.time()
    rc = subprocess.run(cmd, timeout=secs).returncode
    # events for the last streams may still be on their way: give them
    # half a second, then read what has arrived before counting
    time.sleep(0.5)
    done.set()
    t.join(5)
    for sid, (circ, target) in sorted(streams.items(), key=lambda kv: int(kv[0])):
        print("stream %s to %s on circuit %s" % (sid, target, circ))
    circs = {c for c, _ in streams.values()}
    print("%d streams on %d distinct circuits in %.1f s (command exit %d)"
          % (len(streams), len(circs), time.time() - t0, rc))
    ok = rc == 0 and len(streams) >= 2 and len(circs) == len(streams)
    sys.exit(0 if ok else 1)


main()
