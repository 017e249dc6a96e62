#!/bin/sh
# A fatal alert reaches the peer although more data follows the message
# that provoked it (RFC 8446 6.2): after the alert, ntskit half-closes and
# reads what still comes for a short while before it closes, instead of
# closing with unread data, which makes the kernel send a reset that can
# destroy the alert in flight. A test peer (tests/helpers/tls_alert_peer.py)
# sends a Hello with legacy_version 0x0300 and 256 KiB behind it, waits
# 0.5 s, then reads: it must get protocol_version, then an orderly end
# (FIN), never a reset.
#   - lib/tlsio, server role: tests/helpers/tls_serve;
#   - lib/tlsio, client role: tests/helpers/tls_probe against the peer;
#   - nts-serve's NTS-KE server (its event loop, nts-serve/kesrv.c).
# Ports 21620-21629.
. "$NTSKIT_TOP/tests/lib.sh"
SERVE=$NTSKIT_HELPERS/tls_serve PROBE=$NTSKIT_HELPERS/tls_probe NTSSERVE=$NTSKIT_BIN/nts-serve
PEER="python3 $NTSKIT_TOP/tests/helpers/tls_alert_peer.py"
t_need_bins "$SERVE" "$PROBE" "$NTSSERVE"
PKI=$T_DIR/pki
t_pki "$PKI"
TLSP=21620 CLIP=21621 NTP=21622 KEP=21623

# want NAME FILE: the peer's line says protocol_version and a FIN
want() {
  if grep -q '^alert=2,70 end=eof$' "$2"; then t_ok "$1"
  else t_fail "$1" "peer saw: $(tr '\n' ' ' <"$2" | head -c 300)"; fi
}

# --- lib/tlsio, server role ------------------------------------------------
t_bg tls_serve "$SERVE" --cert "$PKI/ec256.fullchain.pem" --key "$PKI/ec256.sec1.key" --port $TLSP --count 3 \
  --alpn ntske/1
if t_wait_tcp 127.0.0.1 $TLSP 5; then
  $PEER client 127.0.0.1 $TLSP >"$T_DIR/srv1" 2>&1
  want "tlsio-server-alert-then-fin" "$T_DIR/srv1"
  # without extra data: the same
  $PEER client 127.0.0.1 $TLSP --junk 0 >"$T_DIR/srv2" 2>&1
  want "tlsio-server-alert-no-junk" "$T_DIR/srv2"
  grep -q 'conn=1 error=.*protocol_version' "$T_DIR/tls_serve.log" && t_ok "tlsio-server-error-line" ||
    t_fail "tlsio-server-error-line" "$(head -3 "$T_DIR/tls_serve.log")"
else
  t_fail "tls_serve-start" "$(tail -3 "$T_DIR/tls_serve.log")"
fi

# --- lib/tlsio, client role ------------------------------------------------
t_bg peer $PEER server $CLIP
t_wait_tcp 127.0.0.1 $CLIP 5 || t_fail "peer-start" "$(cat "$T_DIR/peer.log")"
t0=$(date +%s.%N)
"$PROBE" --ca "$PKI/root.crt" --sni localhost --alpn ntske/1 127.0.0.1:$CLIP >"$T_DIR/probe" 2>&1; prc=$?
t1=$(date +%s.%N)
i=0; while [ ! -s "$T_DIR/peer.log" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
want "tlsio-client-alert-then-fin" "$T_DIR/peer.log"
[ $prc = 1 ] && grep -q 'protocol_version' "$T_DIR/probe" && t_ok "tlsio-client-error-line" ||
  t_fail "tlsio-client-error-line" "exit $prc: $(head -2 "$T_DIR/probe")"
# the peer reads (and closes) 0.5 s in; the probe's drain would end at 1 s
echo "# tls_probe took $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"

# --- nts-serve, NTS-KE ------------------------------------------------------
printf 'status t=%s stratum=2 refid=192.0.2.77 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"
t_bg serve "$NTSSERVE" --listen 127.0.0.1:$NTP --ke-listen 127.0.0.1:$KEP --cert "$PKI/ec256.fullchain.pem" \
  --key "$PKI/ec256.sec1.key" --cookie-keys "$T_DIR/keys" --status "$T_DIR/status"
if t_wait_tcp 127.0.0.1 $KEP 5; then
  $PEER client 127.0.0.1 $KEP >"$T_DIR/ke1" 2>&1
  want "nts-serve-ke-alert-then-fin" "$T_DIR/ke1"
  $PEER client 127.0.0.1 $KEP --junk 0 >"$T_DIR/ke2" 2>&1
  want "nts-serve-ke-alert-no-junk" "$T_DIR/ke2"
  # the loop was not blocked meanwhile: a second peer at the same time
  $PEER client 127.0.0.1 $KEP --wait 2 >"$T_DIR/ke3" 2>&1 &
  w=$!
  sleep 0.3
  $PEER client 127.0.0.1 $KEP --wait 0.2 >"$T_DIR/ke4" 2>&1
  wait $w
  want "nts-serve-ke-concurrent-1" "$T_DIR/ke3"
  want "nts-serve-ke-concurrent-2" "$T_DIR/ke4"
  t_grep "nts-serve-ke-refused-logged" "$T_DIR/serve.log" 'event=refused transport=ke .*reason=tls .*protocol_version'
else
  t_fail "nts-serve-start" "$(tail -3 "$T_DIR/serve.log")"
fi
