#!/bin/sh
# TLS 1.3 server interoperation matrix (issue 4): `openssl s_client` and
# `gnutls-cli` against our server (tests/helpers/tls_serve on lib/tls13's
# server role): 3 suites x 3 groups x server keys ECDSA P-256, ECDSA P-384,
# RSA-2048, RSA-4096, each key in both PEM forms (SEC1/PKCS#1 and PKCS#8),
# chain with an intermediate; plus HelloRetryRequest forced from the client
# side (its key shares are x25519 (and secp256r1 for gnutls-cli); the server
# ranks secp384r1 first). In every
# cell: suite and group as asked, ALPN ntske/1, the chain verified by the
# client, the exporter (EXPORTER-network-time-security, empty context, 32
# bytes) equal on both sides, and a line echoed back.
# Ports 20340-20399 (our server binds 127.0.0.1 only).
. "$NTSKIT_TOP/tests/lib.sh"

SERVE=$NTSKIT_HELPERS/tls_serve
PKI=$T_DIR/pki
LABEL=EXPORTER-network-time-security
[ -x "$SERVE" ] || { t_skip "tls_serve not built"; exit 0; }
t_need_cmds openssl
t_pki "$PKI"
HAVE_GNUTLS=0
command -v gnutls-cli >/dev/null && HAVE_GNUTLS=1
[ $HAVE_GNUTLS = 1 ] || t_skip "gnutls-cli not installed: its half of the matrix"

SUITES="1301 1302 1303"
GROUPS="x25519 secp256r1 secp384r1"
suite_name() {
  case $1 in 1301) echo TLS_AES_128_GCM_SHA256 ;; 1302) echo TLS_AES_256_GCM_SHA384 ;;
    1303) echo TLS_CHACHA20_POLY1305_SHA256 ;; esac
}
gnutls_cipher() { case $1 in 1301) echo AES-128-GCM ;; 1302) echo AES-256-GCM ;; 1303) echo CHACHA20-POLY1305 ;; esac; }
ossl_group() { case $1 in x25519) echo X25519 ;; secp256r1) echo P-256 ;; secp384r1) echo P-384 ;; esac; }
gnutls_group() { case $1 in x25519) echo X25519 ;; secp256r1) echo SECP256R1 ;; secp384r1) echo SECP384R1 ;; esac; }
keys_of() { # KEY FORMS: NAME:FILE
  case $1 in
    ec256|ec384) echo "sec1:$1.sec1.key pkcs8:$1.pkcs8.key" ;;
    rsa*) echo "pkcs1:$1.pkcs1.key pkcs8:$1.pkcs8.key" ;;
  esac
}

# ossl_cell NAME PORT SRVLOG K SUITE GROUP [s_client args]
ossl_cell() {
  name=$1 port=$2 slog=$3 k=$4 s=$5 g=$6; shift 6
  out=$T_DIR/o.$port.$k
  echo "line-$port-$k" | timeout 10 openssl s_client -ign_eof -connect 127.0.0.1:$port -tls1_3 \
    -servername localhost -verify_hostname localhost -alpn ntske/1 -CAfile "$PKI/root.crt" -verify_return_error \
    -keymatexport $LABEL -keymatexportlen 32 -ciphersuites "$(suite_name $s)" "$@" >"$out" 2>&1
  check_cell "$name" "$out" "$slog" "$k" "$(suite_name $s)" "$g" "$(sed -n 's/.*Keying material: //p' "$out")"
}
# feed LINE OUT: LINE on stdout, then keep it open until OUT shows the echo
# (at most 8 s): gnutls-cli closes the connection as soon as its input ends,
# without waiting for the server's answer
feed() {
  echo "$1"
  _i=0
  until grep -q "^$1" "$2" 2>/dev/null || [ $_i -ge 80 ]; do sleep 0.1; _i=$((_i + 1)); done
}
# gnutls_cell NAME PORT SRVLOG K SUITE GROUP PRIORITY-GROUPS
gnutls_cell() {
  name=$1 port=$2 slog=$3 k=$4 s=$5 g=$6 pg=$7
  out=$T_DIR/g.$port.$k
  feed "line-$port-$k" "$out" | timeout 10 gnutls-cli --port $port --x509cafile "$PKI/root.crt" \
    --sni-hostname localhost --verify-hostname localhost --alpn ntske/1 \
    --priority "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+$(gnutls_cipher $s):-GROUP-ALL:$pg" \
    --keymatexport $LABEL --keymatexportsize 32 127.0.0.1 >"$out" 2>&1
  check_cell "$name" "$out" "$slog" "$k" "$(suite_name $s)" "$g" "$(sed -n 's/.*- Key material: //p' "$out")"
}
# check_cell NAME CLIENT-OUT SERVER-LOG K SUITE GROUP CLIENT-EXPORTER [HRR]
check_cell() {
  name=$1 out=$2 slog=$3 k=$4
  i=0
  while ! grep -q "^conn=$k recv=\|^conn=$k error=" "$slog" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
  line=$(grep "^conn=$k " "$slog" | head -n 1)
  cx=$(echo "$7" | tr 'A-F' 'a-f')
  case $line in
    *" suite=$5 group=$6 alpn=ntske/1 sni=localhost "*) ;;
    *) t_fail "$name" "server: '$line' client: $(tr '\n' ' ' <"$out" | tail -c 300)"; return ;;
  esac
  case $line in *"exporter=$cx") ;; *) t_fail "$name" "exporter differs: client '$cx', server '$line'"; return ;; esac
  if [ -n "${8:-}" ]; then case $line in *" hrr=1 "*) ;; *) t_fail "$name" "no HelloRetryRequest: $line"; return ;; esac; fi
  if ! grep -q "^conn=$k recv=line-" "$slog" || ! grep -q "^line-" "$out"; then
    t_fail "$name" "line not echoed"; return
  fi
  t_ok "$name"
}

port=20340
# (20340..20355: the matrix, two ports per key; 20356: the refusal server)
for cert in ec256 ec384 rsa2048 rsa4096; do
  for kf in $(keys_of $cert); do
    form=${kf%%:*} key=${kf#*:}
    srv=serve-$cert-$form
    n=18
    [ $HAVE_GNUTLS = 1 ] || n=9
    t_bg "$srv" "$SERVE" --cert "$PKI/$cert.fullchain.pem" --key "$PKI/$key" --port $port --count $n \
      --alpn ntske/1 --alpn-required
    if ! t_wait_tcp 127.0.0.1 $port 5; then t_fail "server $cert $form" "tls_serve did not start: $(head -c 300 "$T_DIR/$srv.log")"; port=$((port + 2)); continue; fi
    k=0
    for s in $SUITES; do for g in $GROUPS; do
      k=$((k + 1))
      ossl_cell "openssl s_client -> ntskit $cert ($form key) $(suite_name $s) $g" $port "$T_DIR/$srv.log" $k $s $g \
        -groups "$(ossl_group $g)"
    done; done
    if [ $HAVE_GNUTLS = 1 ]; then
      for s in $SUITES; do for g in $GROUPS; do
        k=$((k + 1))
        gnutls_cell "gnutls-cli -> ntskit $cert ($form key) $(suite_name $s) $g" $port "$T_DIR/$srv.log" $k $s $g \
          "+GROUP-$(gnutls_group $g)"
      done; done
    fi
    t_stop "$srv"
    port=$((port + 1))
    # HelloRetryRequest: clients share x25519 first; our server ranks secp384r1 first
    srv=serve-hrr-$cert-$form
    t_bg "$srv" "$SERVE" --cert "$PKI/$cert.fullchain.pem" --key "$PKI/$key" --port $port --count 2 \
      --alpn ntske/1 --alpn-required --groups secp384r1,x25519,secp256r1
    if t_wait_tcp 127.0.0.1 $port 5; then
      out=$T_DIR/hrr.$port.1
      echo "line-hrr" | timeout 10 openssl s_client -ign_eof -connect 127.0.0.1:$port -tls1_3 -servername localhost \
        -alpn ntske/1 -CAfile "$PKI/root.crt" -verify_return_error -keymatexport $LABEL -keymatexportlen 32 \
        -groups X25519:P-384 >"$out" 2>&1
      check_cell "openssl s_client -> ntskit $cert ($form key) HelloRetryRequest x25519 -> secp384r1" "$out" \
        "$T_DIR/$srv.log" 1 TLS_AES_128_GCM_SHA256 secp384r1 "$(sed -n 's/.*Keying material: //p' "$out")" hrr
      if [ $HAVE_GNUTLS = 1 ]; then
        out=$T_DIR/hrr.$port.2
        feed "line-hrr" "$out" | timeout 10 gnutls-cli --port $port --x509cafile "$PKI/root.crt" \
          --sni-hostname localhost --verify-hostname localhost --alpn ntske/1 \
          --priority "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1" \
          --keymatexport $LABEL --keymatexportsize 32 127.0.0.1 >"$out" 2>&1
        check_cell "gnutls-cli -> ntskit $cert ($form key) HelloRetryRequest x25519 -> secp384r1" "$out" \
          "$T_DIR/$srv.log" 2 TLS_AES_128_GCM_SHA256 secp384r1 "$(sed -n 's/.*- Key material: //p' "$out")" hrr
      fi
    else
      t_fail "server $cert $form HRR" "tls_serve did not start"
    fi
    t_stop "$srv"
    port=$((port + 1))
  done
done

# Refusals by our server, seen from openssl s_client: each must fail with the
# right alert in our server's log line.
srv=serve-refuse
t_bg "$srv" "$SERVE" --cert "$PKI/ec256.fullchain.pem" --key "$PKI/ec256.pkcs8.key" --port $port --count 5 \
  --alpn ntske/1 --alpn-required
if t_wait_tcp 127.0.0.1 $port 5; then
  k=0
  refuse() { # NAME ALERT s_client-args
    name=$1 alert=$2; shift 2
    k=$((k + 1))
    echo x | timeout 10 openssl s_client -connect 127.0.0.1:$port -servername localhost -CAfile "$PKI/root.crt" \
      "$@" >"$T_DIR/refuse.$k" 2>&1
    i=0
    while ! grep -q "^conn=$k " "$T_DIR/$srv.log" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    if grep -q "^conn=$k error=.*alert-sent=$alert " "$T_DIR/$srv.log"; then t_ok "$name"
    else t_fail "$name" "server: $(grep "^conn=$k " "$T_DIR/$srv.log" | head -c 300)"; fi
  }
  refuse "server refuses a TLS 1.2-only client (protocol_version)" 70 -tls1_2 -alpn ntske/1
  refuse "server refuses a client without ALPN (no_application_protocol)" 120 -tls1_3
  refuse "server refuses a client offering another ALPN (no_application_protocol)" 120 -tls1_3 -alpn http/1.1
  refuse "server refuses a client whose signature schemes do not fit its key (handshake_failure)" 40 \
    -tls1_3 -alpn ntske/1 -sigalgs RSA-PSS+SHA256
  refuse "server refuses a client with no common group (handshake_failure)" 40 -tls1_3 -alpn ntske/1 -groups P-521
else
  t_fail "refusal server" "tls_serve did not start"
fi
t_stop "$srv"
