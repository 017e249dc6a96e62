#!/bin/sh
# TLS 1.3 client refusals against a real `openssl s_server` (issue 3, item 5):
# each case checks the specific error and the alert our client sends.
#   untrusted root -> unknown_ca; wrong host name -> bad_certificate;
#   expired / not yet valid at the injected time -> certificate_expired;
#   TLS 1.2-only server -> protocol_version; server without ALPN ->
#   no_application_protocol; and the positive controls (same servers, the
#   error removed) so that a refusal is known to be for the stated reason.
# Finer-grained tampering (flipped bytes, wrong Finished, CertificateVerify
# over the wrong transcript, out-of-order messages, oversized/truncated
# records, suite change after HRR) is in tests/unit/test_tls13_refuse.c.
# Chain policy: SHA-1 signatures, RSA under 2048 bits, a CA:TRUE leaf, an
# intermediate without serverAuth, name constraints (critical or not).
# Ports 20450-20469.
. "$NTSKIT_TOP/tests/lib.sh"

PROBE=$NTSKIT_HELPERS/tls_probe
PKI=$T_DIR/pki
[ -x "$PROBE" ] || { t_skip "tls_probe not built"; exit 0; }
t_need_cmds openssl
t_pki "$PKI"
mkfifo "$T_DIR/stdin"
exec 7<>"$T_DIR/stdin"
NOW=1767225600   # 2026-01-01: inside the good leaves' window (2025..2035)

srv() { # NAME PORT CERT CHAIN KEY [s_server args...]
  n=$1 port=$2 cert=$3 chain=$4 key=$5; shift 5
  setsid openssl s_server -accept "127.0.0.1:$port" -cert "$PKI/$cert" -cert_chain "$PKI/$chain" -key "$PKI/$key" \
    -naccept 20 "$@" <"$T_DIR/stdin" >"$T_DIR/$n.log" 2>&1 &
  echo $! >"$T_DIR/$n.pid"
  T_PIDS="$T_PIDS $!"
  t_wait_tcp 127.0.0.1 "$port" 5 || t_fail "$n server" "s_server did not start"
}
# expect_refusal NAME ALERT PATTERN PROBE-ARGS...
expect_refusal() {
  name=$1 alert=$2 pat=$3; shift 3
  out=$T_DIR/out.$$.$(echo "$name" | tr -c 'a-z0-9' _)
  "$PROBE" --ca "$PKI/root.crt" --time $NOW "$@" >"$out" 2>&1
  rc=$?
  if [ $rc -ne 1 ]; then t_fail "$name" "exit $rc, wanted 1: $(tr '\n' ' ' <"$out" | head -c 300)"; return; fi
  if ! grep -q "alert-sent=$alert " "$out"; then t_fail "$name" "wanted alert $alert: $(head -n 1 "$out")"; return; fi
  if ! grep -Eq "$pat" "$out"; then t_fail "$name" "message does not match /$pat/: $(head -n 1 "$out")"; return; fi
  t_ok "$name"
}
expect_ok() {
  name=$1; shift
  out=$T_DIR/ok.$(echo "$name" | tr -c 'a-z0-9' _)
  if "$PROBE" --ca "$PKI/root.crt" --time $NOW "$@" >"$out" 2>&1; then t_ok "$name"
  else t_fail "$name" "$(tr '\n' ' ' <"$out" | head -c 300)"; fi
}
A="--alpn ntske/1 --alpn-required"

srv untrusted 20450 untrusted.crt untrusted-root.crt untrusted.key -tls1_3 -alpn ntske/1
expect_refusal "refuse untrusted root (unknown_ca)" 48 "untrusted|no path|unknown|trust" --sni localhost $A 127.0.0.1:20450

srv good 20451 ec256.crt int.crt ec256.pkcs8.key -tls1_3 -alpn ntske/1
expect_ok "control: good chain, name localhost" --sni localhost $A 127.0.0.1:20451
expect_ok "control: good chain, IP address 127.0.0.1" $A 127.0.0.1:20451
expect_refusal "refuse wrong host name (bad_certificate)" 42 "name" --sni other.test $A 127.0.0.1:20451
expect_refusal "refuse good chain at an injected time after notAfter (certificate_expired)" 45 "expired" \
  --sni localhost $A --time 2082758400 127.0.0.1:20451
expect_refusal "refuse good chain at an injected time before notBefore (certificate_expired)" 45 "not yet valid|not-yet|before" \
  --sni localhost $A --time 1704067200 127.0.0.1:20451
expect_ok "control: expired time accepted with --skip-window" --sni localhost $A --time 2082758400 --skip-window 127.0.0.1:20451

srv expired 20452 expired.crt int.crt expired.key -tls1_3 -alpn ntske/1
expect_refusal "refuse expired certificate (certificate_expired)" 45 "expired" --sni localhost $A 127.0.0.1:20452
srv notyet 20453 notyet.crt int.crt notyet.key -tls1_3 -alpn ntske/1
expect_refusal "refuse not-yet-valid certificate (certificate_expired)" 45 "not yet valid|not-yet|before" --sni localhost $A 127.0.0.1:20453

srv tls12 20454 ec256.crt int.crt ec256.pkcs8.key -tls1_2 -alpn ntske/1
# We offer only 0x0304 in supported_versions, so a TLS 1.2-only server refuses
# first with protocol_version; our own check of a TLS 1.2 ServerHello is in
# the unit test (test_tls13_refuse: refuse_tls12_server_hello).
out=$T_DIR/out.tls12
"$PROBE" --ca "$PKI/root.crt" --time $NOW --sni localhost $A 127.0.0.1:20454 >"$out" 2>&1
if [ $? -eq 1 ] && grep -q "alert-rcvd=70" "$out"; then t_ok "refuse TLS 1.2-only server (protocol_version, from the server)"
else t_fail "refuse TLS 1.2-only server" "$(tr '\n' ' ' <"$out" | head -c 300)"; fi

srv noalpn 20455 ec256.crt int.crt ec256.pkcs8.key -tls1_3
expect_refusal "refuse server without ALPN (no_application_protocol)" 120 "no ALPN|ALPN" --sni localhost $A 127.0.0.1:20455
expect_ok "control: server without ALPN accepted when ALPN is not required" --sni localhost --alpn ntske/1 127.0.0.1:20455

# Chain policy (tests/pki/gen.sh's policy fixtures), against real s_server
# chains; SECLEVEL=0 so that OpenSSL serves SHA-1 and 1024-bit RSA at all.
W="-tls1_3 -alpn ntske/1 -cipher DEFAULT@SECLEVEL=0"
srv sha1int 20456 sha1int-leaf.crt sha1int.crt sha1int-leaf.key $W
expect_refusal "refuse an intermediate signed with SHA-1 (unsupported_certificate)" 43 \
  "certificate 2 \(intermediate\) signed with SHA-1: refused" --sni localhost $A 127.0.0.1:20456
srv sha1leaf 20457 sha1leaf.crt int.crt sha1leaf.key $W
expect_refusal "refuse a leaf signed with SHA-1 (unsupported_certificate)" 43 \
  "certificate 1 \(leaf\) signed with SHA-1: refused" --sni localhost $A 127.0.0.1:20457
srv rsa1024 20458 rsa1024.crt int.crt rsa1024.key $W
expect_refusal "refuse a 1024-bit RSA leaf (unsupported_certificate)" 43 \
  "certificate 1 \(leaf\) has a 1024-bit RSA key: refused" --sni localhost $A 127.0.0.1:20458
srv caleaf 20459 caleaf.crt int.crt caleaf.key $W
expect_refusal "refuse a CA:TRUE leaf (bad_certificate)" 42 \
  "certificate 1 \(leaf\) is a CA certificate" --sni localhost $A 127.0.0.1:20459
srv ekuint 20460 ekuint-leaf.crt ekuint.crt ekuint-leaf.key $W
expect_refusal "refuse an intermediate whose extKeyUsage lacks serverAuth (bad_certificate)" 42 \
  "certificate 2 \(intermediate\) extKeyUsage does not include serverAuth" --sni localhost $A 127.0.0.1:20460
srv nccin 20461 nccint-in.crt nccint.crt nccint-in.key $W
expect_ok "control: critical name constraints, leaf inside them" --sni nts.test $A 127.0.0.1:20461
srv nccout 20462 nccint-out.crt nccint.crt nccint-out.key $W
expect_refusal "refuse a leaf outside critical name constraints (bad_certificate)" 42 \
  "DNS name localhost of certificate 1 \(leaf\) is outside the permitted names of certificate 2" \
  --sni nts.test $A 127.0.0.1:20462
srv ncout 20463 ncint-out.crt ncint.crt ncint-out.key $W
expect_refusal "refuse a leaf outside non-critical name constraints (bad_certificate)" 42 \
  "outside the permitted names of certificate 2" --sni nts.test $A 127.0.0.1:20463
srv ncxwild 20464 ncxint-wild.crt ncxint.crt ncxint-wild.key $W
expect_refusal "refuse a wildcard that may name an excluded host (bad_certificate)" 42 \
  "DNS name \*\.nts\.test of certificate 1 \(leaf\) is in the excluded names" --sni a.nts.test $A 127.0.0.1:20464
