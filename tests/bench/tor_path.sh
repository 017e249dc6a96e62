#!/bin/sh
# Benchmark (not a timed test; run by tests/bench/run, `make bench`): time
# through Tor at emulated Tor latency, against a known truth.
#
# The path: the client tools -> the project's private Tor network on loopback
# (tests/peers/shared.sh tor-up: client, middle relays, exit) -> the exit
# connects to 127.0.0.1 -> tests/helpers/tor_delay_proxy.py (each accepted
# connection is one circuit: Frechet round trip, shape 3, median 450 ms,
# split 30..70 % outbound, lognormal per-chunk jitter median 20 ms sigma 1,
# 1 % one-second stalls; seeded) -> the servers:
#   5 chronyd NTS servers (tests/peers/chrony.sh): NTS-KE behind the proxy;
#   one nts-serve --tcp-listen relay behind the proxy, relaying to their NTP
#     ports over UDP (the only way NTP crosses Tor);
#   a small HTTP server behind the proxy (the HTTP Date baseline).
# Servers run on the real clock. The client tools (nts-ke, nts-poll, and the
# HTTP Date probe) run under libfaketime FAKE seconds ahead, so the true
# offset (server minus local) is -FAKE and the error of a round is
# offset - (-FAKE).
#
# Per configuration (sources x circuits per source) it prints: rounds with
# an offset, median and p95 |error|, the share of rounds whose bar
# (offset +- error) holds the truth, the median bar half-width, the time to
# first offset (nts-ke + nts-poll --count 1 + nts-select from nothing, and
# nts-poll --count 1 + nts-select with a cached session; medians of TTFO
# runs), relay circuits per round, samples per round, and the median |bias|
# of the relay circuits ((outbound - return)/2 as the proxy drew them: the
# error one circuit would have without jitter). Then the HTTP Date baseline
# (htpdate-style, Date + 0.5 s - request midpoint) over the same path.
#
# A round is one nts-poll run (COUNT samples per source per circuit, SPACING
# apart, with --state: the cookies are kept) piped into nts-select.
# Circuits: CIRCUITS lists the settings to measure; "default" writes no
# circuits key (nts-poll's own default), a number N writes "circuits = N" in
# [poll] of the configuration given to nts-poll. While nts-poll does not
# know the key, N > 1 and "default" are skipped with a message (today's
# nts-poll uses 1 circuit per source: the circuits=1 figures).
#
#   sh tests/bench/tor_path.sh BUILD_DIR
# Variables: ROUNDS (30), COUNT (4), SPACING (0.5), TTFO (3 runs), SOURCES
# ("5 1"), CIRCUITS ("1 default"), SEED (1), FAKE (0.3217), HTTP_ROUNDS
# (ROUNDS), POLL_TIMEOUT (10), KEEP (a directory to copy the logs to).
# Default run (four configurations, 8 circuits a source by default): about
# 22 minutes on a 2-core machine.
# Needs root (chronyd -u root), chrony, tor, libfaketime, python3; the
# private Tor network's fixed ports (tests/peers/tor.sh) must be free.
# Ports: 24600-24699.
set -u
B=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
NTSKIT_TMP=$(mktemp -d /tmp/ntskit-bench.XXXXXX)
export NTSKIT_TOP="$top" NTSKIT_BUILD="$B" NTSKIT_BIN="$B/bin" NTSKIT_HELPERS="$B/tests/helpers" NTSKIT_TMP
. "$top/tests/lib.sh"
. "$top/tests/peers/chrony.sh"
trap 'sh "$top/tests/peers/shared.sh" stop >/dev/null 2>&1; [ -z "${KEEP:-}" ] || cp -r "$T_DIR" "$KEEP"
  t_cleanup; rm -rf "$NTSKIT_TMP"' EXIT

ROUNDS=${ROUNDS:-30} COUNT=${COUNT:-4} SPACING=${SPACING:-0.5} TTFO=${TTFO:-3}
SOURCES=${SOURCES:-5 1} CIRCUITS=${CIRCUITS:-1 default} SEED=${SEED:-1}
FAKE=${FAKE:-0.3217} HTTP_ROUNDS=${HTTP_ROUNDS:-$ROUNDS} POLL_TIMEOUT=${POLL_TIMEOUT:-10}
TRUTH=$(awk -v f="$FAKE" 'BEGIN { printf "%.6f", -f }')
KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll SELECT=$NTSKIT_BIN/nts-select SERVE=$NTSKIT_BIN/nts-serve

say() { echo "tor_path: $*"; }
skip() { say "skipped: $*"; exit 0; }
for b in "$KE" "$POLL" "$SELECT" "$SERVE"; do [ -x "$b" ] || skip "$b not built"; done
command -v tor >/dev/null 2>&1 || skip "tor not installed"
t_faketime_preload || skip "$T_WHY (make tests builds the shim)"

# ports: chronyd i NTP 24610+i, NTS-KE 24620+i; its KE behind the proxy
# 24630+i; nts-serve relay 24641, behind the proxy 24642; HTTP 24651, behind
# the proxy 24652
RELAY=24641 RELAYPX=24642 HTTP=24651 HTTPPX=24652
t_pki "$T_DIR/pki"
chmod 644 "$T_DIR"/pki/*
CA=$T_DIR/pki/root.crt
maps="$RELAYPX=127.0.0.1:$RELAY $HTTPPX=127.0.0.1:$HTTP"
allow=
for i in 1 2 3 4 5; do
  peer_chrony_server "$T_DIR/c$i" $((24610 + i)) $((24620 + i)) "$T_DIR/pki/ec256.fullchain.pem" \
    "$T_DIR/pki/ec256.sec1.key" || skip "chrony NTS server $i: $PEER_WHY"
  maps="$maps $((24630 + i))=127.0.0.1:$((24620 + i))"
  allow="$allow --relay-allow 127.0.0.1:$((24610 + i))"
done
printf 'status t=%s stratum=2 refid=192.0.2.1 root-delay=0.001 root-disp=0.001 leap=0\n' "$(date +%s)" >"$T_DIR/status"
# shellcheck disable=SC2086 # $allow is a list of options
t_bg serve "$SERVE" --tcp-listen 127.0.0.1:$RELAY $allow --status "$T_DIR/status" --rate 1000000 --burst 65535
mkdir -p "$T_DIR/www" && echo "ntskit bench" >"$T_DIR/www/index.html"
t_bg http python3 -m http.server --bind 127.0.0.1 --directory "$T_DIR/www" $HTTP
# shellcheck disable=SC2086
t_bg proxy python3 "$top/tests/helpers/tor_delay_proxy.py" --seed "$SEED" --log "$T_DIR/proxy.circuits" $maps
for p in $RELAY $HTTP $RELAYPX $HTTPPX 24631 24635; do
  t_wait_tcp 127.0.0.1 $p 10 || skip "nothing listens on 127.0.0.1:$p: $(tail -n 2 "$T_DIR"/serve.log "$T_DIR"/proxy.log | tr '\n' ' ')"
done

t0=$(date +%s)
out=$(sh "$top/tests/peers/shared.sh" tor-up 2>"$T_DIR/tor.err") || skip "private Tor network: $(cat "$T_DIR/tor.err")"
eval "$out"
say "private Tor network up in $(($(date +%s) - t0)) s; truth: client clock +$FAKE s (offset $TRUTH s); seed $SEED"
say "rounds: $ROUNDS per configuration, nts-poll count $COUNT spacing $SPACING s timeout $POLL_TIMEOUT s; first offset: $TTFO runs"
say "latency model: Frechet rtt shape 3 median 450 ms, outbound share U[0.3,0.7], jitter lognormal 20 ms sigma 1 per chunk, 1% 1-s stalls"

# the client side: each tool under libfaketime, FAKE seconds ahead
fake() {
  env LD_PRELOAD="$T_FAKETIME_PRELOAD" FAKETIME="+${FAKE}s" FAKETIME_DONT_RESET=1 "$@"
}
now() { date +%s.%N; }
# q FILE P: the P-quantile (0..1, nearest rank) of the numbers in FILE, one a line
q() { sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit }
  k = int(p * NR + 0.999999); if (k < 1) k = 1; if (k > NR) k = NR; print v[k] }'; }
med() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.1f", v * 1000 }'; }
field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'; }
# relay circuits the proxy opened between two times: "count median|bias|"
circuits_between() {
  awk -v a="$1" -v b="$2" -v port="$3" '$1 == "circuit" {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if (v["port"] == port && v["t"] + 0 >= a && v["t"] + 0 <= b) { b0 = v["bias"] + 0; print (b0 < 0 ? -b0 : b0) }
    }' "$T_DIR/proxy.circuits"
}

# Does nts-poll know "circuits"? (an unknown key is a configuration error)
printf '[poll]\ncircuits = 2\n' >"$T_DIR/probe.conf"
if echo | "$POLL" --config "$T_DIR/probe.conf" 2>&1 | grep -q "unknown key 'circuits'"; then
  HAVE_CIRCUITS=0
else
  HAVE_CIRCUITS=1
fi

# conf FILE CIRCUITS: nts-poll's configuration
conf() {
  {
    printf '[proxy]\nsocks5 = %s\nisolate = yes\nrelay = 127.0.0.1:%s\n' "$TOR_SOCKS" $RELAYPX
    printf '[poll]\ncount = %s\nspacing = %s\ntimeout = %s\nlock-wait = 0\n' "$COUNT" "$SPACING" "$POLL_TIMEOUT"
    [ "$2" = default ] || [ $HAVE_CIRCUITS = 0 ] || printf 'circuits = %s\n' "$2"
  } >"$1"
}

# ke STATE N: NTS-KE through Tor with the first N servers into STATE (fresh),
# each tried up to 3 times (chrony gives a handshake 2 s; a stall or a slow
# circuit can take that); prints the attempts; 1 when a source has no session
ke() {
  rm -f "$1" "$1.lock"
  tries=0
  for i in $(seq 1 "$2"); do
    k=0
    until [ $k -ge 3 ]; do
      k=$((k + 1)); tries=$((tries + 1))
      fake "$KE" --socks5 "$TOR_SOCKS" --tor-isolate --ca "$CA" --name nts.test --timeout 20 \
        --state "$1" --lock-wait 10 127.0.0.1:$((24630 + i)) >>"$T_DIR/ke.out" 2>>"$T_DIR/ke.err" && break
      [ $k -lt 3 ] || return 1
    done
  done
  echo "$tries"
}

# ttfo_cold N CONF: seconds from nothing to the first offset (all N KEs at
# once, as nts-ke does with several servers)
ttfo_cold() {
  st=$T_DIR/ttfo.state
  rm -f "$st" "$st.lock"
  args=
  for i in $(seq 1 "$1"); do args="$args 127.0.0.1:$((24630 + i))"; done
  a=$(now)
  # shellcheck disable=SC2086
  fake "$KE" --socks5 "$TOR_SOCKS" --tor-isolate --ca "$CA" --name nts.test --timeout 20 $args \
    --state "$st" 2>>"$T_DIR/ke.err" >/dev/null
  r=$(ttfo_cached "$st" "$2" "$a")
  echo "$r"
}
# ttfo_cached STATE CONF [START]: seconds to the first offset with a session
ttfo_cached() {
  a=${3:-$(now)}
  fake "$POLL" --config "$2" --state "$1" --count 1 2>>"$T_DIR/poll.err" | "$SELECT" >"$T_DIR/ttfo.off" 2>/dev/null
  b=$(now)
  if grep -q '^offset ' "$T_DIR/ttfo.off"; then awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'; else echo fail; fi
}

# run SOURCES CIRCUITS
run() {
  n=$1 c=$2 tag=s$1-c$2
  if [ "$c" != 1 ] && [ $HAVE_CIRCUITS = 0 ]; then
    if [ "$c" = default ]; then
      say "sources=$n circuits=default: skipped, this nts-poll has no circuits setting (its default is 1 circuit per source: see circuits=1)"
    else
      say "sources=$n circuits=$c: skipped, this nts-poll does not know circuits = N"
    fi
    return 0
  fi
  cf=$T_DIR/$tag.conf st=$T_DIR/$tag.state
  conf "$cf" "$c"
  : >"$T_DIR/$tag.tc" && : >"$T_DIR/$tag.tw"
  for k in $(seq 1 "$TTFO"); do
    v=$(ttfo_cold "$n" "$cf"); echo "$v" >>"$T_DIR/$tag.tc"
    v=$(ttfo_cached "$T_DIR/ttfo.state" "$cf"); echo "$v" >>"$T_DIR/$tag.tw"
  done
  tries=$(ke "$st" "$n") || { say "sources=$n circuits=$c: no session from every server after 3 tries each: $(tail -n 2 "$T_DIR/ke.err" | tr '\n' ' ')"; return 0; }
  : >"$T_DIR/$tag.err" && : >"$T_DIR/$tag.half" && : >"$T_DIR/$tag.ns" && : >"$T_DIR/$tag.nc" && : >"$T_DIR/$tag.bias"
  held=0 got=0 circs=0
  for r in $(seq 1 "$ROUNDS"); do
    a=$(now)
    fake "$POLL" --config "$cf" --state "$st" >"$T_DIR/$tag.$r.samples" 2>>"$T_DIR/poll.err"
    rc=$?
    b=$(now)
    if [ $rc = 3 ]; then   # an NTS NAK: a new key exchange
      ke "$st" "$n" >/dev/null
    fi
    "$SELECT" <"$T_DIR/$tag.$r.samples" >"$T_DIR/$tag.$r.off" 2>/dev/null
    circuits_between "$a" "$b" $RELAYPX >"$T_DIR/$tag.$r.bias"
    cat "$T_DIR/$tag.$r.bias" >>"$T_DIR/$tag.bias"
    circs=$((circs + $(wc -l <"$T_DIR/$tag.$r.bias")))
    grep -c '^sample ' "$T_DIR/$tag.$r.samples" >>"$T_DIR/$tag.ns"
    off=$(field offset <"$T_DIR/$tag.$r.off" | head -n 1)
    [ -n "$off" ] || continue
    got=$((got + 1))
    err=$(field error <"$T_DIR/$tag.$r.off" | head -n 1)
    awk -v o="$off" -v t="$TRUTH" 'BEGIN { e = o - t; printf "%.9f\n", e < 0 ? -e : e }' >>"$T_DIR/$tag.err"
    echo "$err" >>"$T_DIR/$tag.half"
    awk -v o="$off" -v t="$TRUTH" -v h="$err" 'BEGIN { e = o - t; if (e < 0) e = -e; exit !(e <= h) }' && held=$((held + 1))
    # the samples' circuit labels, once nts-poll has them
    field circuit <"$T_DIR/$tag.$r.samples" | sort -u | wc -l >>"$T_DIR/$tag.nc"
  done
  say "sources=$n circuits=$c: rounds $got/$ROUNDS with an offset (KE attempts $tries for $n)"
  say "  |error|        median $(ms "$(med "$T_DIR/$tag.err")") ms, p95 $(ms "$(q "$T_DIR/$tag.err" 0.95)") ms, max $(ms "$(q "$T_DIR/$tag.err" 1)") ms"
  say "  error bar      holds the truth in $held/$got rounds; median half-width $(ms "$(med "$T_DIR/$tag.half")") ms"
  say "  first offset   cold $(med "$T_DIR/$tag.tc") s, cached session $(med "$T_DIR/$tag.tw") s (medians of $TTFO: cold $(tr '\n' ' ' <"$T_DIR/$tag.tc"); cached $(tr '\n' ' ' <"$T_DIR/$tag.tw"))"
  labels=$(med "$T_DIR/$tag.nc")
  [ "$labels" != 0 ] || labels="none (no circuit= in the samples)"
  say "  circuits       $(awk -v c="$circs" -v r="$ROUNDS" 'BEGIN { printf "%.1f", c / r }') relay circuits per round (delay proxy), circuit labels per round $labels, samples per round $(med "$T_DIR/$tag.ns")"
  say "  path bias      median |(out-ret)/2| of the relay circuits $(ms "$(med "$T_DIR/$tag.bias")") ms (what one circuit's asymmetry costs)"
  return 0
}

for c in $CIRCUITS; do
  for n in $SOURCES; do run "$n" "$c"; done
done

# the HTTP Date baseline, through the same Tor network and delay proxy
a=$(now)
fake python3 "$top/tests/helpers/http_date_probe.py" "$TOR_SOCKS" 127.0.0.1:$HTTPPX "$HTTP_ROUNDS" 0.2 30 >"$T_DIR/http.out" 2>&1
b=$(now)
awk -v t="$TRUTH" '$1 == "http" { for (i = 2; i <= NF; i++) if ($i ~ /^offset=/) { e = substr($i, 8) - t; printf "%.9f\n", e < 0 ? -e : e } }' \
  "$T_DIR/http.out" >"$T_DIR/http.err"
circuits_between "$a" "$b" $HTTPPX >"$T_DIR/http.bias"
say "HTTP Date: $(wc -l <"$T_DIR/http.err")/$HTTP_ROUNDS fetches with a Date; |error| median $(ms "$(med "$T_DIR/http.err")") ms, p95 $(ms "$(q "$T_DIR/http.err" 0.95)") ms, max $(ms "$(q "$T_DIR/http.err" 1)") ms; no error bar; median |path bias| $(ms "$(med "$T_DIR/http.bias")") ms"
grep -q '^http-fail' "$T_DIR/http.out" && say "  HTTP failures: $(grep '^http-fail' "$T_DIR/http.out" | sort | uniq -c | tr '\n' ' ')"
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.log "$T_DIR"/*.err >/dev/null 2>&1; then
  say "sanitizer reports: $(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.log "$T_DIR"/*.err | head -n 3)"
fi
exit 0
