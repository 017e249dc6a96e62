#!/bin/sh
# TLS 1.3 client interoperation matrix (issue 3): our client (tests/helpers/
# tls_probe on lib/tls13) against `openssl s_server -tls1_3` and `gnutls-serv`:
#   3 suites x 3 groups x 4 server certificates (ECDSA P-256, ECDSA P-384,
#   RSA-2048, RSA-4096, each issued by an intermediate under a test root),
#   plus HelloRetryRequest forced (the server accepts only a group the client
#   sent no key share for). In every cell: negotiated suite and group as
#   asked, ALPN ntske/1, the chain validated, and the RFC 8446 §7.5 exporter
#   (label EXPORTER-network-time-security, empty context, 32 bytes) equal to
#   the server's own (-keymatexport / --keymatexport), and application data
#   delivered (s_server prints it; gnutls-serv echoes it back).
# gnutls-serv cannot bind to one address, so it runs in a network namespace
# this test creates (root needed; otherwise its half is skipped).
# Ports: openssl 20300-20399, gnutls 20400-20499 (loopback / private netns).
. "$NTSKIT_TOP/tests/lib.sh"

PROBE=$NTSKIT_HELPERS/tls_probe
PKI=$T_DIR/pki
LABEL=EXPORTER-network-time-security
[ -x "$PROBE" ] || { t_skip "tls_probe not built"; exit 0; }
t_need_cmds openssl
t_pki "$PKI"

CERTS="ec256 ec384 rsa2048 rsa4096"
SUITES="1301 1302 1303"
GROUPS="x25519 secp256r1 secp384r1"
suite_name() {
  case $1 in 1301) echo TLS_AES_128_GCM_SHA256 ;; 1302) echo TLS_AES_256_GCM_SHA384 ;;
    1303) echo TLS_CHACHA20_POLY1305_SHA256 ;; esac
}
ossl_group() { case $1 in x25519) echo X25519 ;; secp256r1) echo P-256 ;; secp384r1) echo P-384 ;; esac; }
gnutls_group() { case $1 in x25519) echo X25519 ;; secp256r1) echo SECP256R1 ;; secp384r1) echo SECP384R1 ;; esac; }
key_of() { case $1 in ec*) echo "$PKI/$1.pkcs8.key" ;; rsa*) echo "$PKI/$1.pkcs8.key" ;; esac; }

# A FIFO keeps s_server's stdin open (at EOF it would end the connection).
mkfifo "$T_DIR/stdin"
exec 7<>"$T_DIR/stdin"
start_ossl() { # NAME PORT CERT [extra s_server args]
  n=$1 port=$2 cert=$3; shift 3
  setsid openssl s_server -tls1_3 -accept "127.0.0.1:$port" -cert "$PKI/$cert.crt" \
    -key "$(key_of "$cert")" -cert_chain "$PKI/int.crt" -alpn ntske/1 -naccept 100 \
    -keymatexport $LABEL -keymatexportlen 32 "$@" <"$T_DIR/stdin" >"$T_DIR/$n.log" 2>&1 &
  echo $! >"$T_DIR/$n.pid"
  T_PIDS="$T_PIDS $!"
  t_wait_tcp 127.0.0.1 "$port" 5
}

# check_cell NAME OUT WANT_SUITE WANT_GROUP WANT_HRR SERVER_EXPORTER
check_cell() {
  name=$1 out=$2
  if ! grep -q '^exporter=' "$out"; then
    t_fail "$name" "handshake failed: $(tr '\n' ' ' <"$out" | head -c 300) / server: $(tail -n 5 "$T_DIR/$srv.log" | tr '\n' ' ' | head -c 300)"; return
  fi
  line=$(head -n 1 "$out")
  got_x=$(sed -n 's/^exporter=//p' "$out" | tr 'a-f' 'A-F')
  case $line in
    *"suite=$3 group=$4 alpn=ntske/1 "*"hrr=$5 "*) ;;
    *) t_fail "$name" "negotiated '$line', wanted suite=$3 group=$4 hrr=$5"; return ;;
  esac
  if [ "$got_x" != "$6" ]; then
    t_fail "$name" "exporter $got_x != server's '$6'"; return
  fi
  t_ok "$name"
}

# ---------------------------------------------------------------- OpenSSL
port=20300
for cert in $CERTS; do
  srv=ossl-$cert
  if ! start_ossl "$srv" $port "$cert"; then
    t_fail "openssl $cert server" "s_server did not start: $(head -c 300 "$T_DIR/$srv.log")"; port=$((port + 3)); continue
  fi
  k=0
  for s in $SUITES; do
    for g in $GROUPS; do
      k=$((k + 1))
      name="openssl $cert $(suite_name $s) $g"
      out=$T_DIR/out.$srv.$k
      "$PROBE" --ca "$PKI/root.crt" --sni localhost --alpn ntske/1 --alpn-required \
        --suites $s --groups $g --write "cell-$srv-$k" 127.0.0.1:$port >"$out" 2>&1
      i=0
      while [ "$(grep -c 'Keying material: ' "$T_DIR/$srv.log")" -lt $k ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
      sx=$(grep 'Keying material: ' "$T_DIR/$srv.log" | sed -n "${k}p" | sed 's/.*Keying material: //')
      check_cell "$name" "$out" "$(suite_name $s)" $g 0 "$sx"
      i=0
      while ! grep -q "^cell-$srv-$k\$" "$T_DIR/$srv.log" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
      if ! grep -q "^cell-$srv-$k\$" "$T_DIR/$srv.log"; then
        t_fail "$name application data" "s_server did not print our line"
      fi
    done
  done
  t_stop "$srv"
  port=$((port + 1))
  # HelloRetryRequest: the server takes only P-256 or P-384; our share is x25519
  for g in secp256r1 secp384r1; do
    srv=ossl-hrr-$cert-$g
    if ! start_ossl "$srv" $port "$cert" -groups "$(ossl_group $g)"; then
      t_fail "openssl $cert HRR $g" "s_server did not start"; port=$((port + 1)); continue
    fi
    out=$T_DIR/out.$srv
    "$PROBE" --ca "$PKI/root.crt" --sni localhost --alpn ntske/1 --alpn-required \
      --groups x25519,secp256r1,secp384r1 127.0.0.1:$port >"$out" 2>&1
    i=0
    while ! grep -q 'Keying material: ' "$T_DIR/$srv.log" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    sx=$(grep 'Keying material: ' "$T_DIR/$srv.log" | head -n 1 | sed 's/.*Keying material: //')
    check_cell "openssl $cert HelloRetryRequest to $g" "$out" TLS_AES_128_GCM_SHA256 $g 1 "$sx"
    t_stop "$srv"
    port=$((port + 1))
  done
done

# ----------------------------------------------------------------- GnuTLS
if ! command -v gnutls-serv >/dev/null; then
  t_skip "gnutls-serv not installed"; exit 0
fi
if ! t_is_root; then
  t_skip "gnutls-serv half needs root (it binds all addresses, so it runs in a network namespace)"; exit 0
fi
NS=nkd-tls-$$
t_netns "$NS" || { t_skip "cannot create a network namespace"; exit 0; }
wait_ns_tcp() { i=0; while [ $i -lt 100 ]; do ip netns exec "$NS" ss -ltnH "sport = :$1" | grep -q . && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
start_gnutls() { # NAME PORT CERT PRIORITY
  t_bg "$1" ip netns exec "$NS" gnutls-serv --port "$2" --echo -a \
    --x509certfile "$PKI/$3.fullchain.pem" --x509keyfile "$(key_of "$3")" \
    --alpn ntske/1 --alpn-fatal --priority "$4" --keymatexport $LABEL --keymatexportsize 32
  wait_ns_tcp "$2"
}
PRIO="NORMAL:-VERS-ALL:+VERS-TLS1.3"
port=20400
for cert in $CERTS; do
  srv=gnutls-$cert
  if ! start_gnutls "$srv" $port "$cert" "$PRIO"; then
    t_fail "gnutls $cert server" "gnutls-serv did not start: $(head -c 300 "$T_DIR/$srv.log")"; port=$((port + 3)); continue
  fi
  k=0
  for s in $SUITES; do
    for g in $GROUPS; do
      k=$((k + 1))
      name="gnutls $cert $(suite_name $s) $g"
      out=$T_DIR/out.$srv.$k
      ip netns exec "$NS" "$PROBE" --ca "$PKI/root.crt" --sni localhost --alpn ntske/1 --alpn-required \
        --suites $s --groups $g --send "cell-$srv-$k" 127.0.0.1:$port >"$out" 2>&1
      i=0
      while [ "$(grep -c -- '- Key material: ' "$T_DIR/$srv.log")" -lt $k ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
      sx=$(grep -- '- Key material: ' "$T_DIR/$srv.log" | sed -n "${k}p" | sed 's/.*Key material: //' | tr 'a-f' 'A-F')
      check_cell "$name" "$out" "$(suite_name $s)" $g 0 "$sx"
      grep -q "^recv=cell-$srv-$k\$" "$out" || t_fail "$name application data" "no echo: $(grep recv= "$out")"
    done
  done
  t_stop "$srv"
  port=$((port + 1))
  for g in secp256r1 secp384r1; do
    srv=gnutls-hrr-$cert-$g
    if ! start_gnutls "$srv" $port "$cert" "$PRIO:-GROUP-ALL:+GROUP-$(gnutls_group $g)"; then
      t_fail "gnutls $cert HRR $g" "gnutls-serv did not start"; port=$((port + 1)); continue
    fi
    out=$T_DIR/out.$srv
    ip netns exec "$NS" "$PROBE" --ca "$PKI/root.crt" --sni localhost --alpn ntske/1 --alpn-required \
      --groups x25519,secp256r1,secp384r1 --key-update --send "hrr-$cert" 127.0.0.1:$port >"$out" 2>&1
    i=0
    while ! grep -q -- '- Key material: ' "$T_DIR/$srv.log" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    sx=$(grep -- '- Key material: ' "$T_DIR/$srv.log" | head -n 1 | sed 's/.*Key material: //' | tr 'a-f' 'A-F')
    check_cell "gnutls $cert HelloRetryRequest to $g (+KeyUpdate)" "$out" TLS_AES_128_GCM_SHA256 $g 1 "$sx"
    grep -q "^recv=hrr-$cert\$" "$out" || t_fail "gnutls $cert HRR $g application data after KeyUpdate" "no echo"
    t_stop "$srv"
    port=$((port + 1))
  done
done

# A server that asks for a client certificate (gnutls-serv without -a): we
# answer with an empty Certificate (RFC 8446 §4.4.2.4) and the server goes on.
srv=gnutls-certreq
if start_gnutls "$srv" $port ec256 "$PRIO"; then
  out=$T_DIR/out.$srv
  ip netns exec "$NS" "$PROBE" --ca "$PKI/root.crt" --sni localhost --alpn ntske/1 --alpn-required \
    --send certreq 127.0.0.1:$port >"$out" 2>&1
  if grep -q '^recv=certreq$' "$out"; then t_ok "gnutls CertificateRequest answered with an empty Certificate"
  else t_fail "gnutls CertificateRequest answered with an empty Certificate" "$(tr '\n' ' ' <"$out" | head -c 300)"; fi
  t_stop "$srv"
else
  t_fail "gnutls CertificateRequest server" "gnutls-serv did not start"
fi
