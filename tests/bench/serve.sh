#!/bin/sh
# Benchmark (not a timed test): nts-serve vs chrony 4.3 as NTS servers, each
# pinned to core 0 (taskset -c 0), driven by the same clients on core 1:
#   1. NTS-KE: N complete exchanges (TLS 1.3 handshake with an ECDSA P-256
#      chain, request, 8 cookies, close) by tests/helpers/serve_kebench, one
#      after the other: exchanges per second of wall-clock time, and per
#      second of server CPU time (from /proc/PID/schedstat, in ns, of the server and, for
#      chrony, its NTS-KE helper process);
#   2. NTS-protected NTP: tests/helpers/serve_flood with valid NTS requests
#      only, from 2000 loopback source addresses: server CPU time per
#      NTS-authenticated answer, the median of 5 rounds taken in turns;
#   3. peak RSS (VmHWM) of a fresh nts-serve with NTS-KE enabled after 20
#      NTS-KE exchanges and NTS requests from 10 000 distinct addresses.
# Prints the figures and the ratios. Needs root (chronyd -u root) and chrony;
# without them only nts-serve's figures are printed.
#   sh tests/bench/serve.sh BUILD_DIR   (BUILD_DIR has bin/nts-serve, bin/nts-ke, libntskit.a)
# Ports: 21360-21369.
set -u
B=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/ntskit-bench.XXXXXX)
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; sleep 0.2; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
SERVE=$B/bin/nts-serve KE=$B/bin/nts-ke
for b in "$SERVE" "$KE"; do [ -x "$b" ] || { echo "bench serve: $b not built"; exit 1; }; done
cc -std=c11 -D_GNU_SOURCE -O2 -I"$top/lib" -o "$T/kebench" "$top/tests/helpers/serve_kebench.c" "$B/libntskit.a" -lbearssl || exit 1
cc -std=c11 -D_GNU_SOURCE -O2 -I"$top/lib" -o "$T/flood" "$top/tests/helpers/serve_flood.c" "$B/libntskit.a" -lbearssl -linih || exit 1
sh "$top/tests/pki/gen.sh" "$T/pki" >/dev/null || exit 1
chmod 644 "$T"/pki/*
N=${SERVE_BENCH_KE_N:-1000}
SRC=${SERVE_BENCH_SOURCES:-2000} PER=${SERVE_BENCH_PER:-16}
S_NTP=21361 S_KE=21362 C_NTP=21363 C_KE=21364 R_NTP=21365 R_KE=21366
CA=$T/pki/root.crt
printf 'status t=%s stratum=2 refid=192.0.2.1 root-delay=0.001 root-disp=0.001 leap=0\n' "$(date +%s)" >"$T/status"

waitport() { i=0; while ! ss -ltnH "sport = :$1" | grep -q . && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; }
# cpu PID...: CPU time in nanoseconds (sum_exec_runtime, /proc/PID/schedstat)
# of these processes and their live children (chrony's NTS-KE helper):
# exact, where utime+stime counts whole clock ticks
cpu() {
  t=0
  for p in "$@"; do
    for q in $p $(cat /proc/"$p"/task/*/children 2>/dev/null); do
      v=$(cut -d' ' -f1 /proc/"$q"/schedstat 2>/dev/null) && t=$((t + v))
    done
  done
  echo $t
}
HZ=1000000000
field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'; }

taskset -c 0 "$SERVE" --listen 127.0.0.1:$S_NTP --ke-listen 127.0.0.1:$S_KE --cert "$T/pki/ec256.fullchain.pem" \
  --key "$T/pki/ec256.sec1.key" --status "$T/status" --rate 1000000 --burst 65535 >"$T/serve.log" 2>&1 &
SPID=$!; PIDS="$PIDS $SPID"
waitport $S_KE

CHRONY=0
if command -v chronyd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  mkdir -p "$T/chrony/run" "$T/chrony/dump"
  cat >"$T/chrony/conf" <<EOF
port $C_NTP
ntsport $C_KE
bindaddress 127.0.0.1
allow 127.0.0.0/8
local stratum 1
ntsserverkey $T/pki/ec256.sec1.key
ntsservercert $T/pki/ec256.fullchain.pem
ntsdumpdir $T/chrony/dump
ntsprocesses 1
bindcmdaddress $T/chrony/run/sock
cmdport 0
pidfile $T/chrony/run/pid
EOF
  taskset -c 0 chronyd -d -x -u root -f "$T/chrony/conf" >"$T/chrony.log" 2>&1 &
  CPID=$!; PIDS="$PIDS $CPID"
  waitport $C_KE
  sleep 0.5
  kill -0 $CPID 2>/dev/null && CHRONY=1
fi
[ $CHRONY = 1 ] || echo "bench serve: chrony not available (needs chronyd and root): nts-serve figures only"

# --- 1. NTS-KE exchanges ------------------------------------------------------
ke_bench() { # NAME PORT PID...
  n=$1 port=$2; shift 2
  taskset -c 1 "$T/kebench" 20 127.0.0.1:$port "$CA" localhost >/dev/null 2>&1   # warm-up
  c0=$(cpu "$@")
  taskset -c 1 "$T/kebench" "$N" 127.0.0.1:$port "$CA" localhost >"$T/ke.$n" 2>&1
  c1=$(cpu "$@")
  rate=$(field rate <"$T/ke.$n") ok=$(field ok <"$T/ke.$n")
  cpu_s=$(echo "$c0 $c1 $HZ" | awk '{ printf "%.3f", ($2 - $1) / $3 }')
  echo "$n $rate $cpu_s $ok"
}
set -- $(ke_bench nts-serve $S_KE $SPID)
S_RATE=$2 S_KECPU=$3
echo "bench serve nts-ke nts-serve: $4/$N exchanges ok, $S_RATE/s wall-clock, server CPU $S_KECPU s ($(echo "$N $S_KECPU" | awk '{ printf "%.0f", ($2 > 0) ? $1 / $2 : 0 }')/s of server CPU)"
if [ $CHRONY = 1 ]; then
  set -- $(ke_bench chrony $C_KE $CPID)
  C_RATE=$2 C_KECPU=$3
  echo "bench serve nts-ke chrony:    $4/$N exchanges ok, $C_RATE/s wall-clock, server CPU $C_KECPU s ($(echo "$N $C_KECPU" | awk '{ printf "%.0f", ($2 > 0) ? $1 / $2 : 0 }')/s of server CPU)"
  echo "$S_RATE $C_RATE $S_KECPU $C_KECPU" | awk '{ printf "bench serve nts-ke ratio nts-serve/chrony: wall-clock rate %.2f, handshakes per CPU-second %.2f (target >= 1)\n", $1 / $2, ($3 > 0 && $4 > 0) ? $4 / $3 : 0 }'
fi

# --- 2. CPU per NTS-authenticated answer ---------------------------------------
nts_bench() { # NAME NTPPORT KEPORT PID...
  n=$1 np=$2 kp=$3; shift 3
  if ! "$KE" --ca "$CA" localhost:$kp >"$T/sess.$n" 2>"$T/sess.$n.err"; then
    echo "bench serve: nts-ke against $n failed: $(cat "$T/sess.$n.err")" >&2; echo "$n 0 0"; return
  fi
  c0=$(cpu "$@")
  taskset -c 1 "$T/flood" 127.0.0.1 $np "$SRC" "$PER" "$T/sess.$n" nts >"$T/flood.$n" 2>&1
  c1=$(cpu "$@")
  nts=$(field nts <"$T/flood.$n")
  echo "$n $nts $(echo "$c0 $c1 $HZ $nts" | awk '{ printf "%.2f", ($4 > 0) ? ($2 - $1) / $3 / $4 * 1e6 : 0 }')"
}
# ROUNDS rounds, the two servers taking turns, so that both see the same
# machine; the figure of each is its median round
ROUNDS=${SERVE_BENCH_ROUNDS:-5}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
S_ALL= C_ALL= r=1
while [ $r -le $ROUNDS ]; do
  set -- $(nts_bench nts-serve $S_NTP $S_KE $SPID)
  S_NTS=$2; S_ALL="$S_ALL $3"
  if [ $CHRONY = 1 ]; then
    set -- $(nts_bench chrony $C_NTP $C_KE $CPID)
    C_NTS=$2; C_ALL="$C_ALL $3"
  fi
  r=$((r + 1))
done
S_US=$(echo "$S_ALL" | median)
echo "bench serve nts nts-serve: $S_NTS NTS answers to $((SRC * PER)) requests from $SRC addresses per round, $S_US us server CPU per answer (median of$S_ALL)"
if [ $CHRONY = 1 ]; then
  C_US=$(echo "$C_ALL" | median)
  echo "bench serve nts chrony:    $C_NTS NTS answers to $((SRC * PER)) requests from $SRC addresses per round, $C_US us server CPU per answer (median of$C_ALL)"
  echo "$S_US $C_US" | awk '{ printf "bench serve nts ratio nts-serve/chrony: CPU per authenticated answer %.2f (target <= 0.5)\n", ($2 > 0) ? $1 / $2 : 0 }'
fi
grep -h 'larger=[1-9]' "$T"/flood.* && echo "bench serve: WARNING: an answer was larger than its request"

# --- 3. peak RSS with 10 000 client addresses ------------------------------------
taskset -c 0 "$SERVE" --listen 127.0.0.1:$R_NTP --ke-listen 127.0.0.1:$R_KE --cert "$T/pki/ec256.fullchain.pem" \
  --key "$T/pki/ec256.sec1.key" --status "$T/status" >"$T/rss.log" 2>&1 &
RPID=$!; PIDS="$PIDS $RPID"
waitport $R_KE
"$T/kebench" 20 127.0.0.1:$R_KE "$CA" localhost >/dev/null 2>&1
"$KE" --ca "$CA" localhost:$R_KE >"$T/sess.rss" 2>/dev/null
"$T/flood" 127.0.0.1 $R_NTP 10000 2 "$T/sess.rss" nts >"$T/flood.rss" 2>&1
hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$RPID/status)
echo "bench serve rss nts-serve: peak RSS $hwm KiB ($(echo "$hwm" | awk '{ printf "%.2f", $1 / 1024 }') MiB) after 20 NTS-KE exchanges and $(field nts <"$T/flood.rss") NTS answers to 10000 addresses (target <= 8 MiB)"
if [ $CHRONY = 1 ]; then
  chwm=0
  for q in $CPID $(cat /proc/$CPID/task/*/children 2>/dev/null); do
    v=$(awk '/^VmHWM/ { print $2 }' /proc/$q/status 2>/dev/null) && chwm=$((chwm + v))
  done
  echo "bench serve rss chrony (after the runs above, main + NTS-KE helper): peak RSS $chwm KiB"
fi
exit 0
