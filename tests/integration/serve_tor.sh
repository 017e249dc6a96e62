#!/bin/sh
# nts-serve behind a Tor onion service (the shared private Tor network on
# loopback, tests/peers/shared.sh): its NTS-KE on 127.0.0.1:20741 (onion
# port 4461) and its TCP transport on 127.0.0.1:20742 (onion port 4123).
#   1. nts-ke --socks5 TOR ONION:4461 | nts-poll --socks5 TOR --relay ONION:4123
#      → NTS-authenticated samples answered by nts-serve, via=tcp-relay;
#   2. relay mode: nts-ke through Tor to chrony's NTS-KE (127.0.0.1:20740 =
#      onion port 4460); the session names chrony's NTP port (on nts-serve's
#      --relay-allow list) and nts-poll --relay ONION:4123 gets samples that
#      nts-serve relayed over UDP, authenticated by chrony's keys.
# Ports: 21350-21359, and the shared onion targets 20740, 20741, 20742.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"
SERVE=$NTSKIT_BIN/nts-serve POLL=$NTSKIT_BIN/nts-poll KE=$NTSKIT_BIN/nts-ke
t_need_bins "$SERVE" "$POLL" "$KE"
if ! command -v tor >/dev/null 2>&1; then t_skip "tor not installed"; exit 0; fi
NTP=21351 CNTP=21352 KEP=20741 TCP=20742 CKE=20740
PKI=$T_DIR/pki
sh "$NTSKIT_TOP/tests/pki/gen.sh" "$PKI" >"$T_DIR/pki.log" 2>&1 || { t_fail "test-pki" "$(tail -2 "$T_DIR/pki.log")"; exit 0; }
chmod 644 "$PKI"/*
CA=$PKI/root.crt
printf 'status t=%s stratum=2 refid=192.0.2.88 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"

if ! out=$(sh "$NTSKIT_TOP/tests/peers/shared.sh" tor-up 2>"$T_DIR/tor.err"); then
  t_fail "tor-network-up" "$(cat "$T_DIR/tor.err")"; exit 0
fi
eval "$out"
t_ok "tor-network-up (onion $TOR_ONION_PORTS)"
case " $TOR_ONION_PORTS " in
  *" 4461=127.0.0.1:$KEP "*) ;; *) t_fail "onion-publishes-4461-and-4123" "$TOR_ONION_PORTS"; exit 0 ;;
esac

t_bg serve "$SERVE" --listen 127.0.0.1:$NTP --ke-listen 127.0.0.1:$KEP --cert "$PKI/ec256.fullchain.pem" \
  --key "$PKI/ec256.sec1.key" --tcp-listen 127.0.0.1:$TCP --relay-allow 127.0.0.1:$CNTP \
  --cookie-keys "$T_DIR/keys" --status "$T_DIR/status"
if ! t_wait_tcp 127.0.0.1 $KEP 5 || ! t_wait_tcp 127.0.0.1 $TCP 5; then
  t_fail "serve-start" "$(tail -3 "$T_DIR/serve.log")"; exit 0
fi

# 1. NTS-KE and NTS time from nts-serve, both through the onion service
ok=0
for try in 1 2 3; do
  "$KE" --ca "$CA" --socks5 "$TOR_SOCKS" --timeout 60 --name nts.test "$TOR_ONION:4461" >"$T_DIR/s1" 2>"$T_DIR/s1.err" && { ok=1; break; }
  sleep 2
done
[ $ok = 1 ] && grep -q "^session .*ke=$TOR_ONION:4461 ntp=$TOR_ONION:$NTP aead=15 " "$T_DIR/s1" \
  && t_ok "nts-ke-through-tor-to-nts-serve-onion" || t_fail "nts-ke-through-tor-to-nts-serve-onion" "$(cat "$T_DIR/s1.err" "$T_DIR/s1" | head -3 | cut -c1-200)"
"$POLL" --socks5 "$TOR_SOCKS" --relay "$TOR_ONION:4123" --count 3 --spacing 0.2 --timeout 30 <"$T_DIR/s1" >"$T_DIR/p1" 2>"$T_DIR/p1.err"; rc=$?
n=$(grep -c "^sample .*stratum=2 .*refid=192\.0\.2\.88 .*auth=nts .*via=tcp-relay" "$T_DIR/p1")
[ $rc = 0 ] && [ "$n" = 3 ] && t_ok "nts-poll-through-tor-relay-authenticated-by-nts-serve" \
  || t_fail "nts-poll-through-tor-relay-authenticated-by-nts-serve" "rc=$rc n=$n $(head -3 "$T_DIR/p1.err")"

# 2. relay mode: chrony's keys, nts-serve relays over UDP
if peer_chrony_server "$T_DIR/chrony" $CNTP $CKE "$PKI/ec256.fullchain.pem" "$PKI/ec256.sec1.key"; then
  ok=0
  for try in 1 2 3; do
    "$KE" --ca "$CA" --socks5 "$TOR_SOCKS" --timeout 60 --name nts.test "$TOR_ONION:4460" >"$T_DIR/s2" 2>"$T_DIR/s2.err" && { ok=1; break; }
    sleep 2
  done
  [ $ok = 1 ] && grep -q "^session .*ntp=$TOR_ONION:$CNTP " "$T_DIR/s2" && t_ok "nts-ke-through-tor-to-chrony-onion" \
    || t_fail "nts-ke-through-tor-to-chrony-onion" "$(cat "$T_DIR/s2.err" | head -3)"
  # the session names chrony's NTP port as the relay's destination
  sed "s/ ntp=$TOR_ONION:$CNTP / ntp=127.0.0.1:$CNTP /" "$T_DIR/s2" >"$T_DIR/s2r"
  "$POLL" --socks5 "$TOR_SOCKS" --relay "$TOR_ONION:4123" --count 3 --spacing 0.2 --timeout 30 <"$T_DIR/s2r" >"$T_DIR/p2" 2>"$T_DIR/p2.err"; rc=$?
  n=$(grep -c "^sample .*ntp=127\.0\.0\.1:$CNTP .*stratum=1 .*auth=nts .*via=tcp-relay" "$T_DIR/p2")
  [ $rc = 0 ] && [ "$n" = 3 ] && t_ok "relayed-through-tor-to-chrony-authenticated-by-chrony" \
    || t_fail "relayed-through-tor-to-chrony-authenticated-by-chrony" "rc=$rc n=$n $(head -3 "$T_DIR/p2.err")"
  peer_chrony_serverstats "$T_DIR/chrony" >"$T_DIR/cstats" 2>&1
  t_grep "chrony-counted-authenticated-packets" "$T_DIR/cstats" 'Authenticated NTP packets *: *[1-9]'
  t_stop chrony-chrony
else
  t_fail "chrony-server-started" "$PEER_WHY"
fi

t_stop serve
awk '/event=stop/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  exit !(v["tcp-local"] + 0 >= 3 && v["tcp-relayed"] + 0 >= 3 && v["ke-answered"] + 0 >= 1 &&
         v["tcp-bytes-out"] + 0 <= v["tcp-bytes-in"] + 0) }' "$T_DIR/serve.log" \
  && t_ok "stop-record-local-relayed-ke-never-amplified" || t_fail "stop-record-local-relayed-ke-never-amplified" "$(grep event=stop "$T_DIR/serve.log")"
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.log >/dev/null 2>&1; then
  t_fail "no-sanitizer-reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.log | head -3)"
else t_ok "no-sanitizer-reports"; fi
