#!/usr/bin/env python3
"""Run a command while watching Tor's control port for STREAM events, and
check that its streams used distinct circuits (one per source).
usage: tor_streams.py HOST:PORT COOKIEFILE SECONDS -- CMD ARGS...
Prints the streams seen and a summary line; exit 0 when the command exited 0
and its SUCCEEDED streams used as many distinct circuits as there were
streams (at least 2), 1 otherwise."""
import socket
import subprocess
import sys
import threading
import time


def main():
    hp, cookie_file, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    host, port = hp.rsplit(":", 1)
    cookie = open(cookie_file, "rb").read().hex()
    s = socket.create_connection((host, int(port)), timeout=10)
    f = s.makefile("rwb")

    def send(line):
        f.write(line.encode() + b"\r\n")
        f.flush()
        r = f.readline().decode().strip()
        if not r.startswith("250"):
            print("control port refused %r: %s" % (line.split()[0], r))
            sys.exit(1)

    send("AUTHENTICATE " + cookie)
    send("SETEVENTS STREAM")
    streams = {}
    done = threading.Event()

    def reader():
        s.settimeout(1)
        while not done.is_set():
            try:
                line = f.readline().decode().strip()
            except (socket.timeout, OSError):
                continue
            if not line:
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
    time.sleep(0.5)
    done.set()
    for sid, (circ, target) in sorted(streams.items()):
        print("stream %s to %s on circuit %s" % (sid, target, circ))
    circs = {c for c, _ in streams.values()}
    print("%d streams on %d distinct circuits in %.1f s (command exit %d)"
          % (len(streams), len(circs), time.time() - t0, rc))
    ok = rc == 0 and len(streams) >= 2 and len(circs) == len(streams)
    sys.exit(0 if ok else 1)


main()
