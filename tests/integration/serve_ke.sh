#!/bin/sh
# nts-serve's NTS-KE server (RFC 8915 §4 on lib/tls13's server role):
# nts-ke | nts-poll against it (--explain names the steps); chrony 4.3 and
# NTPsec 1.2.2 (in a network namespace) as its NTS clients; ECDSA and RSA
# certificates in both PEM forms; a key that does not match the certificate;
# SIGHUP reload to a new certificate without dropping an established
# connection; 200 stalled connections, more than the 256-slot table, and
# malformed requests; TLS 1.2-only and ALPN-less clients refused.
# Ports: 21300-21349.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"
. "$NTSKIT_TOP/tests/peers/ntpsec.sh"
SERVE=$NTSKIT_BIN/nts-serve POLL=$NTSKIT_BIN/nts-poll KE=$NTSKIT_BIN/nts-ke
PROBE="python3 $NTSKIT_TOP/tests/helpers/serve_ke_probe.py"
t_need_bins "$SERVE" "$POLL" "$KE"
NTP=21301 KEP=21302 NTP2=21303 KE2=21304 NTP3=21305 KE3=21306
PKI=$T_DIR/pki
sh "$NTSKIT_TOP/tests/pki/gen.sh" "$PKI" >"$T_DIR/pki.log" 2>&1 || { t_fail "test-pki" "$(tail -2 "$T_DIR/pki.log")"; exit 0; }
chmod 644 "$PKI"/*
CA=$PKI/root.crt
printf 'status t=%s stratum=2 refid=192.0.2.77 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
nsamples() { grep -c '^sample .* auth=nts' "$1"; }
# start NAME NTPPORT KEPORT CERT KEY [ARGS...]: nts-serve with NTS-KE
start() {
  _n=$1 _np=$2 _kp=$3 _c=$4 _k=$5; shift 5
  t_bg "$_n" "$SERVE" --listen "127.0.0.1:$_np" --ke-listen "127.0.0.1:$_kp" --cert "$_c" --key "$_k" \
    --cookie-keys "$T_DIR/keys" --status "$T_DIR/status" "$@"
  t_wait_tcp 127.0.0.1 "$_kp" 5 || { t_fail "$_n-start" "$(tail -3 "$T_DIR/$_n.log")"; return 1; }
}

# --- (a) nts-ke | nts-poll, --explain --------------------------------------
start serve $NTP $KEP "$PKI/ec256.fullchain.pem" "$PKI/ec256.sec1.key" --explain || exit 0
t_grep "start-record-ke" "$T_DIR/serve.log" "event=start .*ke-listen=127\.0\.0\.1:$KEP cert-key=ec chain=2 not-before=1735689600 not-after=2051222400 ke-slots=256 ntp-port=$NTP"
"$KE" --ca "$CA" localhost:$KEP >"$T_DIR/s1" 2>"$T_DIR/s1.err"; rc=$?
rec=$(cat "$T_DIR/s1")
[ $rc = 0 ] && [ "$(echo "$rec" | field aead)" = 15 ] && t_ok "nts-ke-session-aead15" || t_fail "nts-ke-session-aead15" "rc=$rc $(cat "$T_DIR/s1.err")"
[ "$(echo "$rec" | field cookies | tr ',' '\n' | grep -c .)" = 8 ] && t_ok "nts-ke-8-cookies" || t_fail "nts-ke-8-cookies" "$rec"
[ "$(echo "$rec" | field ntp)" = "localhost:$NTP" ] && t_ok "port-record-names-ntp-port" || t_fail "port-record-names-ntp-port" "$rec"
"$POLL" --count 3 --spacing 0.1 --timeout 2 <"$T_DIR/s1" >"$T_DIR/p1" 2>"$T_DIR/p1.err"; rc=$?
[ $rc = 0 ] && [ "$(nsamples "$T_DIR/p1")" = 3 ] && t_ok "nts-ke-pipe-nts-poll-authenticated" \
  || t_fail "nts-ke-pipe-nts-poll-authenticated" "rc=$rc $(head -3 "$T_DIR/p1.err")"
t_grep "sample-carries-status" "$T_DIR/p1" '^sample .* stratum=2 leap=0 refid=192\.0\.2\.77 .*auth=nts aead=15'
"$KE" --ca "$CA" --aead 17 localhost:$KEP >"$T_DIR/s17" 2>&1
"$POLL" --count 1 --timeout 2 <"$T_DIR/s17" >"$T_DIR/p17" 2>&1
t_grep "aead17-session-authenticated" "$T_DIR/p17" '^sample .*auth=nts aead=17'
for step in 'KE #1 accepted from 127\.0\.0\.1' 'KE #1 TLS: <- ClientHello' 'KE #1 TLS: -> ServerHello' \
    'KE #1 TLS: <- Finished' 'KE #1 NTS-KE received.*AEAD' 'KE #1 NTS-KE sent.*Cookie' 'KE #1 TLS: -> alert close_notify' \
    'KE #1 response and close_notify sent' 'KE #1 closed'; do
  grep -Eq "$step" "$T_DIR/serve.log" && t_ok "explain: $step" || t_fail "explain: $step" "not in the log"
done

# --- (f) malformed requests (RFC 8915 §4.1) ----------------------------------
probe() { $PROBE req 127.0.0.1 "$1" "$CA" "$2" >"$T_DIR/r-$2" 2>&1; }
probe $KEP good
t_grep "probe-good-8-cookies-close-notify" "$T_DIR/r-good" '^cookies=8$'
t_grep "probe-good-ends-with-close-notify" "$T_DIR/r-good" '^close_notify$'
probe $KEP noaead
if grep -q '^rec type=4 crit=1 len=0 aead=empty$' "$T_DIR/r-noaead" && grep -q '^cookies=0$' "$T_DIR/r-noaead" \
   && ! grep -q 'type=7' "$T_DIR/r-noaead"; then t_ok "no-aead-match-empty-aead-no-cookies"
else t_fail "no-aead-match-empty-aead-no-cookies" "$(tr '\n' '|' <"$T_DIR/r-noaead")"; fi
probe $KEP unknown-critical
t_grep "unknown-critical-record-error-0" "$T_DIR/r-unknown-critical" '^rec type=2 crit=1 len=2 error=0$'
probe $KEP garbage
t_grep "garbage-after-handshake-error-1" "$T_DIR/r-garbage" '^rec type=2 crit=1 len=2 error=1$'
probe $KEP truncated
t_grep "truncated-request-error-1" "$T_DIR/r-truncated" '^rec type=2 crit=1 len=2 error=1$'
probe $KEP big
t_grep "1500-octet-request-accepted" "$T_DIR/r-big" '^cookies=8$'
# RFC 8446 §6.1: the client's close_notify right after its request closes
# only the client's side; the answer still comes
$PROBE req-close 127.0.0.1 $KEP "$CA" >"$T_DIR/r-close" 2>&1
t_grep "request-then-close-notify-still-answered" "$T_DIR/r-close" '^cookies=8$'
echo | timeout 5 openssl s_client -connect 127.0.0.1:$KEP -tls1_2 -alpn ntske/1 >"$T_DIR/tls12" 2>&1
t_grep "tls12-only-client-refused" "$T_DIR/tls12" 'alert protocol version'
echo | timeout 5 openssl s_client -connect 127.0.0.1:$KEP -tls1_3 >"$T_DIR/noalpn" 2>&1
t_grep "no-alpn-client-refused" "$T_DIR/noalpn" 'alert no application protocol'
echo | timeout 5 openssl s_client -connect 127.0.0.1:$KEP -tls1_3 -alpn http/1.1 >"$T_DIR/otheralpn" 2>&1
t_grep "other-alpn-client-refused" "$T_DIR/otheralpn" 'alert no application protocol'
t_grep "refused-record-tls12" "$T_DIR/serve.log" 'event=refused transport=ke client=127\.0\.0\.1:[0-9]+ reason=tls error=.*TLS_1\.3'
t_grep "refused-record-bad-request" "$T_DIR/serve.log" 'event=refused transport=ke .*reason=bad-request'

# --- (f) 200 stalled connections, then more than the table holds -------------
$PROBE stall 127.0.0.1 $KEP 100 7 nothing >"$T_DIR/stall1" 2>&1 &
st1=$!
$PROBE stall 127.0.0.1 $KEP 100 7 half >"$T_DIR/stall2" 2>&1 &
st2=$!
i=0; until grep -q opened "$T_DIR/stall1" && grep -q opened "$T_DIR/stall2"; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
t0=$(date +%s.%N)
"$KE" --ca "$CA" --timeout 5 localhost:$KEP >"$T_DIR/s-st" 2>"$T_DIR/s-st.err"; rc=$?
t1=$(date +%s.%N)
el=$(echo "$t1 - $t0" | bc | sed "s/^\./0./" | cut -c1-5)
if [ $rc = 0 ] && [ "$(echo "$el < 2" | bc)" = 1 ]; then t_ok "ke-succeeds-beside-200-stalled-connections (${el}s)"
else t_fail "ke-succeeds-beside-200-stalled-connections" "rc=$rc ${el}s $(cat "$T_DIR/s-st.err")"; fi
wait $st1 $st2
c1=$(sed -n 's/closed-by-server=//p' "$T_DIR/stall1") c2=$(sed -n 's/closed-by-server=//p' "$T_DIR/stall2")
[ "$c1" = 100 ] && [ "$c2" = 100 ] && t_ok "stalled-connections-closed-at-deadline" || t_fail "stalled-connections-closed-at-deadline" "closed $c1 and $c2 of 100"
t_grep "deadline-refused-record" "$T_DIR/serve.log" 'event=refused transport=ke .*reason=deadline'
# 300 > 256 slots: the oldest stalled slot gives way to new connections
$PROBE stall 127.0.0.1 $KEP 300 4 nothing >"$T_DIR/stall3" 2>&1 &
st3=$!
i=0; until grep -q opened "$T_DIR/stall3"; do i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1; done
sleep 1.5
"$KE" --ca "$CA" --timeout 5 localhost:$KEP >"$T_DIR/s-st3" 2>"$T_DIR/s-st3.err"; rc=$?
[ $rc = 0 ] && t_ok "ke-succeeds-with-table-full-of-stalled" || t_fail "ke-succeeds-with-table-full-of-stalled" "rc=$rc $(cat "$T_DIR/s-st3.err")"
wait $st3
t_grep "evicted-refused-record" "$T_DIR/serve.log" 'event=refused transport=ke .*reason=evicted'
kill -0 "$(t_pid serve)" 2>/dev/null && t_ok "server-alive-after-abuse" || t_fail "server-alive-after-abuse" "$(tail -3 "$T_DIR/serve.log")"

# --- (b) chrony 4.3 as an NTS client ----------------------------------------
if peer_chrony_client "$T_DIR/cc" localhost $KEP "$CA"; then
  if peer_chrony_wait_auth "$T_DIR/cc" 20; then t_ok "chrony-ntpdata-authenticated-yes"
  else t_fail "chrony-ntpdata-authenticated-yes" "$PEER_WHY $(tail -3 "$T_DIR/chrony-cc.log" | tr '\n' '|')"; fi
  sleep 2
  peer_chrony_authdata "$T_DIR/cc" >"$T_DIR/authdata" 2>&1
  # Name/IP address  Mode KeyID Type KLen Last Atmp  NAK Cook CLen
  awk '$2 == "NTS" && $4 == 15 && $9 == 8 && $10 == 168 { f = 1 } END { exit !f }' "$T_DIR/authdata" \
    && t_ok "chrony-authdata-nts-aead15-8-cookies" || t_fail "chrony-authdata-nts-aead15-8-cookies" "$(tr '\n' '|' <"$T_DIR/authdata")"
  peer_chronyc "$T_DIR/cc" ntpdata >"$T_DIR/ntpdata" 2>&1
  t_grep "chrony-ntpdata-remote-port" "$T_DIR/ntpdata" "^Remote port +: $NTP\$"
  t_stop chrony-cc
else
  t_fail "chrony-client-started" "$PEER_WHY"
fi

# --- (d) certificates: ECDSA and RSA, both PEM forms; a mismatched key --------
for v in ec256.fullchain.pem:ec256.pkcs8.key rsa2048.fullchain.pem:rsa2048.pkcs1.key \
         rsa2048.fullchain.pem:rsa2048.pkcs8.key ec384.fullchain.pem:ec384.sec1.key; do
  c=${v%%:*} k=${v#*:}
  if start "serve-$k" $NTP2 $KE2 "$PKI/$c" "$PKI/$k"; then
    "$KE" --ca "$CA" localhost:$KE2 >"$T_DIR/s-$k" 2>"$T_DIR/s-$k.err"
    "$POLL" --count 1 --timeout 2 <"$T_DIR/s-$k" >"$T_DIR/p-$k" 2>&1; rc=$?
    [ $rc = 0 ] && [ "$(nsamples "$T_DIR/p-$k")" = 1 ] && t_ok "cert-$k-authenticated-sample" \
      || t_fail "cert-$k-authenticated-sample" "rc=$rc $(cat "$T_DIR/s-$k.err" "$T_DIR/p-$k" | head -3)"
    t_stop "serve-$k"
  fi
done
"$SERVE" --listen 127.0.0.1:$NTP2 --ke-listen 127.0.0.1:$KE2 --cert "$PKI/rsa2048.fullchain.pem" \
  --key "$PKI/ec256.sec1.key" 2>"$T_DIR/mism.err"; rc=$?
[ $rc = 5 ] && grep -qi 'match' "$T_DIR/mism.err" && t_ok "mismatched-key-exit-5-clear-error" \
  || t_fail "mismatched-key-exit-5-clear-error" "rc=$rc $(cat "$T_DIR/mism.err")"
"$SERVE" --listen 127.0.0.1:$NTP2 --ke-listen 127.0.0.1:$KE2 2>"$T_DIR/nocert.err"; rc=$?
[ $rc = 64 ] && grep -q -- '--cert' "$T_DIR/nocert.err" && t_ok "ke-listen-without-cert-exit-64" \
  || t_fail "ke-listen-without-cert-exit-64" "rc=$rc $(cat "$T_DIR/nocert.err")"

# --- (e) SIGHUP reload to a new certificate ----------------------------------
N=$T_DIR/new
mkdir -p "$N"
printf 'subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >"$N/ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$N/new.key" -subj /CN=localhost \
  -out "$N/new.csr" >/dev/null 2>&1 &&
openssl x509 -req -in "$N/new.csr" -CA "$PKI/int.crt" -CAkey "$PKI/int.key" -days 400 -extfile "$N/ext" \
  -out "$N/new.crt" >/dev/null 2>&1 && cat "$N/new.crt" "$PKI/int.crt" >"$N/new.fullchain.pem"
cp "$PKI/ec256.fullchain.pem" "$T_DIR/cert.pem"; cp "$PKI/ec256.sec1.key" "$T_DIR/key.pem"
if [ -s "$N/new.fullchain.pem" ] && start serve3 $NTP3 $KE3 "$T_DIR/cert.pem" "$T_DIR/key.pem"; then
  # an established connection: handshake done, request sent 1.5 s later
  $PROBE req 127.0.0.1 $KE3 "$CA" good 1.5 >"$T_DIR/r-held" 2>&1 &
  held=$!
  sleep 0.5
  cp "$N/new.fullchain.pem" "$T_DIR/cert.pem"; cp "$N/new.key" "$T_DIR/key.pem"
  kill -HUP "$(t_pid serve3)"
  wait $held
  grep -q '^cookies=8$' "$T_DIR/r-held" && grep -q '^close_notify$' "$T_DIR/r-held" \
    && t_ok "reload-keeps-established-connection" || t_fail "reload-keeps-established-connection" "$(tr '\n' '|' <"$T_DIR/r-held")"
  t_grep "reload-record-cert" "$T_DIR/serve3.log" 'event=reload what=cert cert-key=ec chain=2 .*cert-gen=2'
  "$KE" --ca "$CA" localhost:$KE3 >"$T_DIR/s-new" 2>"$T_DIR/s-new.err"
  nb=$(field not-before <"$T_DIR/s-new") na=$(field not-after <"$T_DIR/s-new")
  want_nb=$(date -d "$(openssl x509 -in "$N/new.crt" -noout -startdate | cut -d= -f2)" +%s)
  [ -n "$nb" ] && [ "$nb" = "$want_nb" ] && [ "$na" != 2051222400 ] && t_ok "new-ke-sees-new-certificate-window" \
    || t_fail "new-ke-sees-new-certificate-window" "nb=$nb (want $want_nb) na=$na $(cat "$T_DIR/s-new.err")"
  # a reload to a mismatched pair is refused; the current certificate stays
  cp "$PKI/rsa2048.fullchain.pem" "$T_DIR/cert.pem"
  kill -HUP "$(t_pid serve3)"; sleep 0.5
  t_grep "bad-reload-logged" "$T_DIR/serve3.log" 'event=reload error=.*match'
  "$KE" --ca "$CA" localhost:$KE3 >"$T_DIR/s-new2" 2>&1
  [ "$(field not-before <"$T_DIR/s-new2")" = "$want_nb" ] && t_ok "bad-reload-keeps-current-certificate" \
    || t_fail "bad-reload-keeps-current-certificate" "$(cat "$T_DIR/s-new2")"
  t_stop serve3
else
  t_fail "reload-setup" "could not make the new certificate or start nts-serve"
fi

# --- (c) NTPsec 1.2.2 as an NTS client, in a network namespace ---------------
if ! t_is_root; then
  t_skip "NTPsec client needs root (network namespace)"
elif ! peer_ntpsec_prepare; then
  t_skip "NTPsec: $PEER_WHY"
else
  NS=ntskit-sk$$
  if t_netns "$NS"; then
    t_bg serve-ns ip netns exec "$NS" "$SERVE" --listen 127.0.0.1:$NTP --ke-listen 127.0.0.1:$KEP \
      --cert "$PKI/ec256.fullchain.pem" --key "$PKI/ec256.sec1.key" --cookie-keys "$T_DIR/keys" --status "$T_DIR/status"
    if peer_ntpsec_wait_tcp "$NS" $KEP 5 && peer_ntpsec_client "$NS" "$T_DIR/ntpsec" localhost:$KEP "$CA" &&
       peer_ntpsec_wait_log "$T_DIR/ntpsec" 'NTSc: Got 8 cookies, length 168, aead=15' 20; then
      t_ok "ntpsec-client-got-8-cookies-aead15"
    else
      t_fail "ntpsec-client-got-8-cookies-aead15" "$PEER_WHY $(tail -3 "$T_DIR/ntpsec/ntpd.log" 2>/dev/null | tr '\n' '|')"
    fi
    # authenticated time: nts-serve answered its NTS requests (NTPsec sends
    # only NTS-protected requests to an nts server; a bad one gets no answer)
    sleep 4
    t_stop ntpsec-client-$NS
    t_stop serve-ns
    awk '/event=stop/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      exit !(v["nts"] + 0 >= 1 && v["bad-auth"] + 0 == 0 && v["ntsn"] + 0 == 0 && v["ke-answered"] + 0 >= 1) }' "$T_DIR/serve-ns.log" \
      && t_ok "ntpsec-authenticated-nts-exchanges" || t_fail "ntpsec-authenticated-nts-exchanges" "$(grep event=stop "$T_DIR/serve-ns.log")"
    grep -Eq 'NTS: .*(fail|bad|error)|NTSc: .*(fail|bad)' "$T_DIR/ntpsec/ntpd.log" \
      && t_fail "ntpsec-log-no-nts-errors" "$(grep -E 'NTS' "$T_DIR/ntpsec/ntpd.log" | tail -3)" || t_ok "ntpsec-log-no-nts-errors"
  fi
fi

t_stop serve
t_grep "stop-record-ke-counters" "$T_DIR/serve.log" 'event=stop .*ke-accepted=[0-9]+ ke-answered=[0-9]+ ke-errors=[1-9][0-9]* ke-no-aead=[1-9]'
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.log >/dev/null 2>&1; then
  t_fail "no-sanitizer-reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.log | head -3)"
else t_ok "no-sanitizer-reports"; fi
