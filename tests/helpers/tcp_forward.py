#!/usr/bin/env python3
"""A tiny TCP forwarder for tests: accept on LISTEN_HOST:PORT, connect each
client to TARGET_HOST:PORT and copy bytes both ways until either side closes.
usage: tcp_forward.py LISTEN_HOST:PORT TARGET_HOST:PORT
It prints "listening on HOST:PORT" once bound, then one line per connection
(when it opened, when it closed and how many octets went each way), so a test
can count what went through. It resolves nothing: both addresses must be IP
literals. Stopped by SIGTERM (tests/lib.sh t_stop)."""
import selectors
import signal
import socket
import sys


def hostport(s):
    h, p = s.rsplit(":", 1)
    h = h.strip("[]")
    return h, int(p)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    lh, lp = hostport(sys.argv[1])
    th, tp = hostport(sys.argv[2])
    fam = socket.AF_INET6 if ":" in lh else socket.AF_INET
    tfam = socket.AF_INET6 if ":" in th else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lh, lp))
    ls.listen(64)
    ls.setblocking(False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening on %s:%d -> %s:%d" % (lh, lp, th, tp), flush=True)

    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    peer = {}    # socket -> its other end
    count = {}   # client socket -> [conn no, client addr, up octets, down octets]
    conns = 0

    def close_pair(s):
        o = peer.pop(s, None)
        for x in (s, o):
            if x is None:
                continue
            peer.pop(x, None)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            c = count.pop(x, None)
            if c:
                print("conn %d from %s closed: %d octets up, %d down"
                      % (c[0], c[1], c[2], c[3]), flush=True)
            x.close()

    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                try:
                    c, addr = ls.accept()
                except OSError:
                    continue
                conns += 1
                t = socket.socket(tfam, socket.SOCK_STREAM)
                try:
                    t.connect((th, tp))
                except OSError as e:
                    print("conn %d from %s:%d: target %s" % (conns, addr[0], addr[1], e), flush=True)
                    c.close()
                    t.close()
                    continue
                c.setblocking(False)
                t.setblocking(False)
                peer[c], peer[t] = t, c
                count[c] = [conns, "%s:%d" % (addr[0], addr[1]), 0, 0]
                sel.register(c, selectors.EVENT_READ, "client")
                sel.register(t, selectors.EVENT_READ, "target")
                print("conn %d from %s:%d" % (conns, addr[0], addr[1]), flush=True)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            o = peer.get(s)
            if not data or o is None:
                close_pair(s)
                continue
            try:
                o.setblocking(True)
                o.sendall(data)
                o.setblocking(False)
            except OSError:
                close_pair(s)
                continue
            if key.data == "client":
                count[s][2] += len(data)
            else:
                count[o][3] += len(data)


main()
