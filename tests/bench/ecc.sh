#!/bin/sh
# Benchmark (not a timed test): microseconds per elliptic-curve operation,
# lib/x25519 and lib/p256 against BearSSL 0.6's own code (br_ec_c25519_m31,
# br_ec_p256_m31, br_ecdsa_i31_sign_asn1), measured in the same run, with
# the ratios. These are the operations behind every TLS 1.3 handshake of
# nts-ke and nts-serve (key share, shared secret, CertificateVerify).
#   sh tests/bench/ecc.sh BUILD_DIR      (BUILD_DIR has libntskit.a)
set -eu
B=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/ntskit-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
for b in x25519 p256; do
  [ -f "$top/tests/bench/${b}_bench.c" ] || continue
  cc -std=c11 -D_GNU_SOURCE -O2 -I"$top/lib" -o "$T/${b}_bench" "$top/tests/bench/${b}_bench.c" \
    "$B/libntskit.a" -lbearssl
  # x25519_bench takes a number of iterations, p256_bench seconds per figure
  case $b in x25519) arg=${ECC_BENCH_N:-2000} ;; p256) arg=${ECC_BENCH_SECS:-0.3} ;; esac
  "$T/${b}_bench" "$arg" | sed "s/^/bench ecc $b: /"
done
