#!/usr/bin/env python3
"""A tiny TCP forwarder for tests: accept on LISTEN_HOST:PORT, connect each
client to TARGET_HOST:PORT and copy bytes both ways until either side closes.
usage: tcp_forward.py LISTEN_HOST:PORT TARGET_HOST:PORT [--hold-first SECONDS]
                      [--dump DIR]
It prints "listening on HOST:PORT" once bound, then one line per connection
(when it opened, when it closed and how many octets went each way), so a test
can count what went through. It resolves nothing: both addresses must be IP
literals. Stopped by SIGTERM (tests/lib.sh t_stop).
  --hold-first SECONDS  the first connection stalls: what the target sends on
                        it (and its close) reaches the client SECONDS late, as
                        a Tor circuit that stalls mid-handshake; the others
                        are copied at once
  --dump DIR            the client's octets of connection N go to DIR/N.up"""
import os
import selectors
import signal
import socket
import sys
import time


def hostport(s):
    h, p = s.rsplit(":", 1)
    h = h.strip("[]")
    return h, int(p)


def main():
    args = sys.argv[1:]
    hold, dump = 0.0, None
    try:
        while len(args) > 2 and args[-2] in ("--hold-first", "--dump"):
            if args[-2] == "--hold-first":
                hold = float(args[-1])
            else:
                dump = args[-1]
            args = args[:-2]
    except ValueError:
        args = []
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    lh, lp = hostport(args[0])
    th, tp = hostport(args[1])
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
    held = []    # the stalled connection's [release time, client socket, octets or b"" for its close]
    dumps = {}   # client socket -> file
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
            d = dumps.pop(x, None)
            if d:
                d.close()
            x.close()

    def send(o, data):
        """all of data to socket o; False (the pair closed) when that failed"""
        try:
            o.setblocking(True)
            o.sendall(data)
            o.setblocking(False)
            return True
        except OSError:
            close_pair(o)
            return False

    def deliver(c, data):
        """data from the target to client socket c; b"": the target closed"""
        if not data:
            close_pair(c)
        elif send(c, data) and c in count:
            count[c][3] += len(data)

    while True:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, c, data = held.pop(0)
            if c.fileno() >= 0:
                deliver(c, data)
        wait = max(0.0, held[0][0] - now) if held else None
        for key, _ in sel.select(wait):
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
                if dump:
                    dumps[c] = open(os.path.join(dump, "%d.up" % conns), "wb")
                # the stalled connection: its target side is marked
                sel.register(c, selectors.EVENT_READ, "client")
                sel.register(t, selectors.EVENT_READ, "held" if conns == 1 and hold > 0 else "target")
                print("conn %d from %s:%d%s" % (conns, addr[0], addr[1],
                      " (held %.1f s)" % hold if conns == 1 and hold > 0 else ""), flush=True)
                continue
            if s.fileno() < 0:
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            o = peer.get(s)
            if o is None:
                close_pair(s)
                continue
            if key.data == "held":
                # queue it (a close too), released hold seconds after
                # the connection's first octet from the target
                t0 = held[-1][0] if held else time.monotonic() + hold
                held.append([t0, o, data])
                if not data:
                    try:
                        sel.unregister(s)
                    except (KeyError, ValueError):
                        pass
                continue
            if not data:
                close_pair(s)
                continue
            if key.data == "client":
                if s in dumps:
                    dumps[s].write(data)
                    dumps[s].flush()
                if send(o, data):
                    count[s][2] += len(data)
            else:
                deliver(o, data)


main()
