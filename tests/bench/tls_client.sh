#!/bin/sh
# Benchmark (not a timed test): CPU time of a full TLS 1.3 client handshake,
# our client (lib/tls13) vs OpenSSL's (`openssl s_time -new`), against the same
# local `openssl s_server`, certificates ECDSA P-256 and RSA-2048 (chain with
# an intermediate, verified by both clients). Prints the CPU time per
# handshake of each and the ratio ours/OpenSSL (target <= 2).
#   sh tests/bench/tls_client.sh BUILD_DIR      (BUILD_DIR has libntskit.a)
set -eu
B=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/ntskit-bench.XXXXXX)
SPID=
trap 'if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; fi; rm -rf "$T"' EXIT INT TERM
cc -std=c11 -D_GNU_SOURCE -O2 -I"$top/lib" -o "$T/tls_bench" "$top/tests/bench/tls_bench.c" \
  "$B/libntskit.a" -lbearssl
sh "$top/tests/pki/gen.sh" "$T/pki" >/dev/null
N=${TLS_BENCH_N:-400}
SECS=${TLS_BENCH_SECS:-4}
port=20498
for cert in ec256 rsa2048; do
  mkfifo "$T/in.$cert"
  openssl s_server -tls1_3 -accept 127.0.0.1:$port -cert "$T/pki/$cert.crt" -key "$T/pki/$cert.pkcs8.key" \
    -cert_chain "$T/pki/int.crt" -quiet -naccept 1000000 <>"$T/in.$cert" >/dev/null 2>&1 &
  SPID=$!
  i=0; while ! ss -ltnH "sport = :$port" | grep -q . && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  ours=$("$T/tls_bench" self "$N" 127.0.0.1:$port "$T/pki/root.crt" localhost)
  o_n=${ours#handshakes=}; o_n=${o_n%% *}; o_cpu=${ours#*cpu=}
  theirs=$("$T/tls_bench" exec openssl s_time -connect 127.0.0.1:$port -new -tls1_3 -time "$SECS" \
    -CAfile "$T/pki/root.crt" -verify 3 2>&1)
  t_cpu=$(echo "$theirs" | sed -n 's/^cpu=//p')
  t_n=$(echo "$theirs" | sed -n 's/^\([0-9]*\) connections in .*/\1/p' | head -n 1)
  kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; SPID=
  awk -v c="$cert" -v on="$o_n" -v oc="$o_cpu" -v tn="$t_n" -v tc="$t_cpu" 'BEGIN {
    o = oc / on * 1000; t = tc / tn * 1000;
    printf "bench tls-client %s: ntskit %.3f ms CPU/handshake (%d), openssl %.3f ms CPU/handshake (%d), ratio %.2f\n", c, o, on, t, tn, o / t }'
  port=$((port + 1))
done
