#!/usr/bin/env python3
"""Userspace delay proxy emulating Tor circuit latency (for tests/bench/tor_path.sh).
usage: tor_delay_proxy.py [--seed N] [--log FILE] LISTEN_PORT=TARGET_HOST:PORT ...

Listens on 127.0.0.1:LISTEN_PORT for each mapping and forwards every
accepted TCP connection to its target. Each connection stands for one Tor
circuit (the leg between the exit and the server included) and draws:
  rtt      Frechet, shape 3, median 450 ms (scale = 0.45 s * (ln 2)^(1/3))
  split    fraction f uniform in [0.3, 0.7]: outbound f*rtt, return (1-f)*rtt
then every chunk read on the connection is delayed by its direction's base
delay plus lognormal jitter (median 20 ms, sigma 1), plus a 1 s stall for
1% of the chunks. A chunk is never released before the one read before it
in the same direction, so each stream keeps its order (a stall holds up
what follows, as on a real TCP stream). The connection to the target is
made after the outbound delay (the SYN's trip).

Every draw comes from generators seeded by (seed, connection number,
direction): a seed makes the run repeatable. The log (FILE, else standard
output) has one line per connection when accepted and one when closed:
  circuit n=K port=P target=H:P rtt=S out=S ret=S bias=S t=UNIX
  close n=K up-chunks=N down-chunks=N stalls=N up-bytes=N down-bytes=N
bias is (out - ret)/2: what a two-way time transfer over this circuit
measures as offset with no jitter (the true asymmetry error).
Optional: --rtt-median S --shape A --split-lo F --split-hi F
--jitter-median S --jitter-sigma X --stall-prob P --stall S.
Stopped by SIGTERM."""
import asyncio
import math
import random
import signal
import sys
import time


class Model:
    def __init__(self):
        self.seed = 1
        self.rtt_median = 0.450
        self.shape = 3.0
        self.split_lo, self.split_hi = 0.3, 0.7
        self.jitter_median = 0.020
        self.jitter_sigma = 1.0
        self.stall_prob = 0.01
        self.stall = 1.0

    def circuit(self, n):
        """(rtt, out, ret) of connection n"""
        r = random.Random("%s:%d:circuit" % (self.seed, n))
        scale = self.rtt_median * math.log(2) ** (1 / self.shape)
        u = r.random() or 1e-12
        rtt = scale * (-math.log(u)) ** (-1 / self.shape)
        f = r.uniform(self.split_lo, self.split_hi)
        return rtt, rtt * f, rtt * (1 - f)

    def chunk_delays(self, n, direction):
        """generator of (extra delay, stalled) for the chunks of one direction"""
        r = random.Random("%s:%d:%s" % (self.seed, n, direction))
        mu = math.log(self.jitter_median)
        while True:
            j = math.exp(r.gauss(mu, self.jitter_sigma))
            stalled = r.random() < self.stall_prob
            yield j + (self.stall if stalled else 0.0), stalled


M = Model()
LOG = sys.stdout
counter = [0]


def log(line):
    LOG.write(line + "\n")
    LOG.flush()


class Direction:
    """one direction of one connection: reads chunks, releases them in order"""

    def __init__(self, n, name, base):
        self.delays = M.chunk_delays(n, name)
        self.base = base
        self.last = 0.0
        self.chunks = self.stalls = self.bytes = 0
        self.queue = asyncio.Queue()

    def due(self):
        extra, stalled = next(self.delays)
        self.stalls += stalled
        self.last = max(self.last, time.monotonic() + self.base + extra)
        return self.last

    async def pump_in(self, reader):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self.chunks += 1
                self.bytes += len(data)
                await self.queue.put((self.due(), data))
        except (OSError, asyncio.IncompleteReadError):
            pass
        # the FIN travels like a chunk, after everything before it
        await self.queue.put((max(self.last, time.monotonic() + self.base), None))

    async def pump_out(self, writer_fut):
        writer = None
        while True:
            due, data = await self.queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if writer is None:
                writer = await writer_fut
                if writer is None:
                    return
            try:
                if data is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
            except OSError:
                return


async def handle(port, target, creader, cwriter):
    counter[0] += 1
    n = counter[0]
    rtt, out, ret = M.circuit(n)
    log("circuit n=%d port=%d target=%s:%d rtt=%.6f out=%.6f ret=%.6f bias=%+.6f t=%.6f"
        % (n, port, target[0], target[1], rtt, out, ret, (out - ret) / 2, time.time()))
    up, down = Direction(n, "up", out), Direction(n, "down", ret)
    loop = asyncio.get_running_loop()
    tw_fut, tr_fut = loop.create_future(), loop.create_future()

    async def connect():
        await asyncio.sleep(out)
        try:
            tr, tw = await asyncio.open_connection(*target)
        except OSError:
            tw_fut.set_result(None)
            tr_fut.set_result(None)
            cwriter.close()
            return
        tw_fut.set_result(tw)
        tr_fut.set_result(tr)

    async def back():
        tr = await tr_fut
        if tr is not None:
            await down.pump_in(tr)
        else:
            await down.queue.put((0, None))

    cw_fut = loop.create_future()
    cw_fut.set_result(cwriter)
    await asyncio.gather(connect(), up.pump_in(creader), up.pump_out(tw_fut),
                         back(), down.pump_out(cw_fut), return_exceptions=True)
    for w in (cwriter, tw_fut.result() if tw_fut.done() else None):
        if w is not None:
            w.close()
    log("close n=%d up-chunks=%d down-chunks=%d stalls=%d up-bytes=%d down-bytes=%d"
        % (n, up.chunks, down.chunks, up.stalls + down.stalls, up.bytes, down.bytes))


async def main(maps):
    servers = []
    for port, target in maps:
        servers.append(await asyncio.start_server(
            lambda r, w, p=port, t=target: handle(p, t, r, w), "127.0.0.1", port))
        log("listening port=%d target=%s:%d" % (port, target[0], target[1]))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


def usage(msg):
    print("tor_delay_proxy.py: %s" % msg, file=sys.stderr)
    print(__doc__, file=sys.stderr)
    sys.exit(64)


def parse(argv):
    global LOG
    maps = []
    opts = {"--rtt-median": "rtt_median", "--shape": "shape", "--split-lo": "split_lo",
            "--split-hi": "split_hi", "--jitter-median": "jitter_median",
            "--jitter-sigma": "jitter_sigma", "--stall-prob": "stall_prob", "--stall": "stall"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in opts or a in ("--seed", "--log"):
            if i + 1 >= len(argv):
                usage("%s needs a value" % a)
            v = argv[i + 1]
            i += 2
            if a == "--log":
                LOG = open(v, "a", buffering=1)
            elif a == "--seed":
                M.seed = v
            else:
                try:
                    setattr(M, opts[a], float(v))
                except ValueError:
                    usage("%s: '%s' is not a number" % (a, v))
            continue
        try:
            lp, tgt = a.split("=", 1)
            th, tp = tgt.rsplit(":", 1)
            maps.append((int(lp), (th, int(tp))))
        except ValueError:
            usage("'%s': not LISTEN_PORT=TARGET_HOST:PORT" % a)
        i += 1
    if not maps:
        usage("no LISTEN_PORT=TARGET_HOST:PORT given")
    if not (M.shape > 0 and M.rtt_median > 0 and 0 <= M.split_lo <= M.split_hi <= 1):
        usage("bad latency model parameters")
    return maps


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
