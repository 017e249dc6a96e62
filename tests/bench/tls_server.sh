#!/bin/sh
# Benchmark (not a timed test): TLS 1.3 server role, full handshakes per
# second of server CPU time (one core), our server (tests/helpers/tls_serve on
# lib/tls13) vs `openssl s_server`, both driven by the same client (our
# tls_bench), certificates ECDSA P-256 and RSA-2048 with an intermediate.
#   sh tests/bench/tls_server.sh BUILD_DIR      (BUILD_DIR has libntskit.a)
set -eu
B=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/ntskit-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
cc -std=c11 -D_GNU_SOURCE -O2 -I"$top/lib" -o "$T/tls_bench" "$top/tests/bench/tls_bench.c" "$B/libntskit.a" -lbearssl
cc -std=c11 -D_GNU_SOURCE -O2 -I"$top/lib" -o "$T/tls_serve" "$top/tests/helpers/tls_serve.c" "$B/libntskit.a" -lbearssl
sh "$top/tests/pki/gen.sh" "$T/pki" >/dev/null
N=${TLS_BENCH_N:-300}
port=20496
waitport() { i=0; while ! ss -ltnH "sport = :$1" | grep -q . && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; }
for cert in ec256 rsa2048; do
  "$T/tls_bench" exec "$T/tls_serve" --cert "$T/pki/$cert.fullchain.pem" --key "$T/pki/$cert.pkcs8.key" \
    --port $port --count "$N" >"$T/ours.$cert" 2>&1 &
  waitport $port
  "$T/tls_bench" self "$N" 127.0.0.1:$port "$T/pki/root.crt" localhost >/dev/null
  wait
  o_cpu=$(sed -n 's/^cpu=//p' "$T/ours.$cert")
  mkfifo "$T/in.$cert"
  "$T/tls_bench" exec openssl s_server -tls1_3 -accept 127.0.0.1:$((port + 1)) -cert "$T/pki/$cert.crt" \
    -key "$T/pki/$cert.pkcs8.key" -cert_chain "$T/pki/int.crt" -quiet -naccept "$N" \
    <>"$T/in.$cert" >"$T/theirs.$cert" 2>&1 &
  waitport $((port + 1))
  "$T/tls_bench" self "$N" 127.0.0.1:$((port + 1)) "$T/pki/root.crt" localhost >/dev/null
  wait
  t_cpu=$(sed -n 's/^cpu=//p' "$T/theirs.$cert")
  awk -v c="$cert" -v n="$N" -v oc="$o_cpu" -v tc="$t_cpu" 'BEGIN {
    o = n / oc; t = n / tc;
    printf "bench tls-server %s: ntskit %.0f handshakes/s of server CPU, openssl s_server %.0f handshakes/s, ratio %.2f\n", c, o, t, o / t }'
  port=$((port - 2))
done
