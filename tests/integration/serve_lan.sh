#!/bin/sh
# nts-serve as a complete LAN and NTS server (issue 14): NTP on five
# addresses, NTS-KE and the TCP transport on IPv4 and IPv6 together, from
# flags and from the config file; the start record names every address;
# allow/deny rules (longest prefix, later of equals, default deny once an
# allow exists) for NTP, NTS-KE and TCP clients from 127.0.0.1-3 and ::1,
# refused clients unanswered and counted (SIGUSR2 stats record); the
# [serve] rate/burst keys in effect; certificate warnings (expired, not yet
# valid, expiring within 14 days at start and after SIGHUP; cert without
# ke-listen).
# Ports: 21600-21629.
. "$NTSKIT_TOP/tests/lib.sh"
SERVE=$NTSKIT_BIN/nts-serve
Q="python3 $NTSKIT_TOP/tests/helpers/ntp_query.py"
PROBE="python3 $NTSKIT_TOP/tests/helpers/serve_ke_probe.py"
t_need_bins "$SERVE"
t_need_cmds openssl python3
PKI=$T_DIR/pki
t_pki "$PKI"
CA=$PKI/root.crt
printf 'status t=%s stratum=2 refid=192.0.2.77 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"

# ke_from SRC HOST PORT: a TLS 1.3 handshake with ALPN ntske/1 from SRC;
# prints "handshake-ok" or "refused:<why>"
ke_from() {
  python3 - "$1" "$2" "$3" "$CA" <<'PY'
import socket, ssl, sys
src, host, port, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(5)
s.bind((src, 0))
s.connect((host, port))
c = ssl.create_default_context(cafile=ca)
c.minimum_version = ssl.TLSVersion.TLSv1_3
c.set_alpn_protocols(["ntske/1"])
try:
    t = c.wrap_socket(s, server_hostname="localhost")
    print("handshake-ok alpn=%s" % t.selected_alpn_protocol())
except (OSError, ssl.SSLError) as e:
    print("refused:%s" % type(e).__name__)
PY
}
# tcp_from SRC HOST PORT: connect from SRC, send a frame's first bytes, print
# "closed" when the server closes without a byte, "open" when it keeps it
tcp_from() {
  python3 - "$1" "$2" "$3" <<'PY'
import socket, sys
src, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(1.5)
s.bind((src, 0))
s.connect((host, port))
try:
    s.sendall(b"\x00")
    print("closed" if s.recv(16) == b"" else "data")
except socket.timeout:
    print("open")
except OSError:
    print("closed")
PY
}
# wait_log NAME PATTERN: wait (5 s) until the server's log has a matching line
wait_log() {
  _i=0
  until grep -Eq -- "$2" "$T_DIR/$1.log"; do
    [ $_i -lt 50 ] || return 1
    sleep 0.1; _i=$((_i + 1))
  done
}

# --- (10) five NTP addresses, NTS-KE and TCP on IPv4 and IPv6, by flags -----
P=21601 P5=21602 KEP=21603 TCP=21604
t_bg multi "$SERVE" --listen 127.0.0.1:$P --listen 127.0.0.2:$P --listen 127.0.0.3:$P \
  --listen "[::1]:$P" --listen 127.0.0.1:$P5 \
  --ke-listen 127.0.0.1:$KEP --ke-listen "[::1]:$KEP" \
  --tcp-listen 127.0.0.1:$TCP --tcp-listen "[::1]:$TCP" \
  --cert "$PKI/ec256.fullchain.pem" --key "$PKI/ec256.sec1.key" --status "$T_DIR/status"
if t_wait_tcp ::1 $KEP 5 && t_wait_tcp ::1 $TCP 5 && t_wait_udp 127.0.0.1 $P5 5; then
  t_ok "multi-listen-started"
else
  t_fail "multi-listen-started" "$(tail -3 "$T_DIR/multi.log")"; exit 0
fi
wait_log multi 'event=start' || true
t_grep "start-names-five-listen" "$T_DIR/multi.log" \
  "event=start listen=127\.0\.0\.1:$P listen2=127\.0\.0\.2:$P listen3=127\.0\.0\.3:$P listen4=\[::1\]:$P listen5=127\.0\.0\.1:$P5 "
t_grep "start-names-two-tcp-listen" "$T_DIR/multi.log" "event=start .* tcp-listen=127\.0\.0\.1:$TCP tcp-listen2=\[::1\]:$TCP "
t_grep "start-names-two-ke-listen" "$T_DIR/multi.log" "event=start .* ke-listen=127\.0\.0\.1:$KEP ke-listen2=\[::1\]:$KEP cert-key=ec "
$Q 127.0.0.1 $P5 >"$T_DIR/q5" 2>&1
t_grep "fifth-listen-answers" "$T_DIR/q5" '^leap=0 stratum=2 '
$Q ::1 $P >"$T_DIR/q6" 2>&1
t_grep "ipv6-listen-answers" "$T_DIR/q6" '^leap=0 stratum=2 '
$PROBE req 127.0.0.1 $KEP "$CA" good >"$T_DIR/ke4" 2>&1
t_grep "ke-ipv4-cookies" "$T_DIR/ke4" '^cookies=8$'
$PROBE req ::1 $KEP "$CA" good >"$T_DIR/ke6" 2>&1
t_grep "ke-ipv6-cookies" "$T_DIR/ke6" '^cookies=8$'
[ "$(tcp_from ::1 ::1 $TCP)" = open ] && t_ok "tcp-ipv6-listener-takes-connections" || t_fail "tcp-ipv6-listener-takes-connections" "closed"
t_stop multi

# --- (10, 11, 12) the same from the config file, with allow/deny and rate ----
# 127.0.0.0/8 allowed, 127.0.0.2 denied (more specific), 127.0.0.3 denied
# then allowed again by a later rule of the same prefix; ::1 matches no rule
# and an allow rule exists: denied
cat >"$T_DIR/lan.conf" <<CONF
[serve]
listen = 127.0.0.1:21611
listen = 127.0.0.2:21611
listen = 127.0.0.3:21611
listen = [::1]:21611
listen = 127.0.0.1:21612
ke-listen = 127.0.0.1:21613
ke-listen = [::1]:21613
tcp-listen = 127.0.0.1:21614
tcp-listen = [::1]:21614
cert = $PKI/ec256.fullchain.pem
key = $PKI/ec256.sec1.key
status = $T_DIR/status
allow = 127.0.0.0/8
deny = 127.0.0.2
deny = 127.0.0.3/32
allow = 127.0.0.3
rate = 0.001
burst = 2
keep = 3
rotate = 12h
status-max-age = 1h
CONF
t_bg acl "$SERVE" --config "$T_DIR/lan.conf"
if t_wait_tcp ::1 21613 5 && t_wait_udp 127.0.0.1 21612 5; then
  t_ok "config-multi-listen-started"
else
  t_fail "config-multi-listen-started" "$(tail -3 "$T_DIR/acl.log")"; exit 0
fi
wait_log acl 'event=start' || true
t_grep "config-start-names-every-address" "$T_DIR/acl.log" \
  "event=start listen=127\.0\.0\.1:21611 listen2=127\.0\.0\.2:21611 listen3=127\.0\.0\.3:21611 listen4=\[::1\]:21611 listen5=127\.0\.0\.1:21612 tcp-listen=127\.0\.0\.1:21614 tcp-listen2=\[::1\]:21614 ke-listen=127\.0\.0\.1:21613 ke-listen2=\[::1\]:21613 "
t_grep "start-counts-rules" "$T_DIR/acl.log" 'event=start .* allow-rules=2 deny-rules=2$'
$Q 127.0.0.1 21611 --src 127.0.0.1 >"$T_DIR/a1" 2>&1
t_grep "allowed-127.0.0.1-answered" "$T_DIR/a1" '^leap=0 stratum=2 '
$Q 127.0.0.2 21611 --src 127.0.0.2 --wait 0.5 >"$T_DIR/a2" 2>&1
t_grep "denied-127.0.0.2-unanswered" "$T_DIR/a2" '^sent=1 recv=0 '
$Q 127.0.0.3 21611 --src 127.0.0.3 >"$T_DIR/a3" 2>&1
t_grep "later-rule-allows-127.0.0.3" "$T_DIR/a3" '^leap=0 stratum=2 '
$Q ::1 21611 --src ::1 --wait 0.5 >"$T_DIR/a6" 2>&1
t_grep "unmatched-ipv6-denied-once-an-allow-exists" "$T_DIR/a6" '^sent=1 recv=0 '
# burst = 2, rate = 0.001: the third request from one client is over the limit
$Q 127.0.0.1 21612 --src 127.0.0.1 --count 3 >"$T_DIR/rl" 2>&1
t_grep "config-rate-burst-in-effect" "$T_DIR/rl" 'kod=RATE'
r=$(ke_from 127.0.0.1 127.0.0.1 21613)
case $r in handshake-ok*) t_ok "ke-allowed-client-handshakes" ;; *) t_fail "ke-allowed-client-handshakes" "$r" ;; esac
r=$(ke_from 127.0.0.2 127.0.0.1 21613)
case $r in refused:*) t_ok "ke-denied-client-closed" ;; *) t_fail "ke-denied-client-closed" "$r" ;; esac
r=$(ke_from ::1 ::1 21613)
case $r in refused:*) t_ok "ke-denied-ipv6-client-closed" ;; *) t_fail "ke-denied-ipv6-client-closed" "$r" ;; esac
[ "$(tcp_from 127.0.0.2 127.0.0.1 21614)" = closed ] && t_ok "tcp-denied-client-closed" || t_fail "tcp-denied-client-closed" "not closed"
[ "$(tcp_from 127.0.0.1 127.0.0.1 21614)" = open ] && t_ok "tcp-allowed-client-kept" || t_fail "tcp-allowed-client-kept" "closed"
kill -USR2 "$(t_pid acl)"
wait_log acl 'event=stats' || true
t_grep "stats-counts-denied" "$T_DIR/acl.log" 'event=stats .* udp-denied=2 tcp-denied=1 ke-denied=2$'
t_grep "refused-denied-record" "$T_DIR/acl.log" 'event=refused transport=udp client=127\.0\.0\.2:[0-9]+ reason=denied'
t_grep "refused-denied-record-ke" "$T_DIR/acl.log" 'event=refused transport=ke client=\[::1\]:[0-9]+ reason=denied'
t_stop acl
t_grep "stop-counts-denied" "$T_DIR/acl.log" 'event=stop .* udp-denied=2 tcp-denied=1 ke-denied=2$'

# flags go through the same checks as the file
"$SERVE" --rate 0 >"$T_DIR/bad" 2>&1; rc=$?
[ $rc = 64 ] && grep -q "^nts-serve: --rate: \[serve\] rate: '0': must be a number from 0.001 to 1e+06$" "$T_DIR/bad" \
  && t_ok "flag-range-is-the-config-range" || t_fail "flag-range-is-the-config-range" "rc=$rc $(cat "$T_DIR/bad")"
"$SERVE" --allow 10.0.0.1/8 >"$T_DIR/bad" 2>&1; rc=$?
[ $rc = 64 ] && grep -q "address bits set beyond the /8 prefix" "$T_DIR/bad" \
  && t_ok "bad-allow-one-line-usage" || t_fail "bad-allow-one-line-usage" "rc=$rc $(cat "$T_DIR/bad")"

# --- (13) certificate warnings ----------------------------------------------
warn_start() { # NAME CERT KEY: start with NTS-KE, wait for its start record
  t_bg "$1" "$SERVE" --listen 127.0.0.1:21621 --ke-listen 127.0.0.1:21622 --cert "$2" --key "$3"
  wait_log "$1" 'event=(start|warning)' && sleep 0.2
}
warn_start expired "$PKI/expired.fullchain.pem" "$PKI/expired.key"
t_grep "warn-expired-at-start" "$T_DIR/expired.log" 'event=warning what=cert problem=expired not-before=1577836800 not-after=1609459200 seconds-left=-[0-9]+ '
t_stop expired
warn_start notyet "$PKI/notyet.fullchain.pem" "$PKI/notyet.key"
t_grep "warn-not-yet-valid-at-start" "$T_DIR/notyet.log" 'event=warning what=cert problem=not-yet-valid '
t_stop notyet
# a good certificate: no warning; renewed (by SIGHUP) to one that expires in
# 5 days: warned about after the reload
cp "$PKI/ec256.fullchain.pem" "$T_DIR/cert.pem"; cp "$PKI/ec256.sec1.key" "$T_DIR/key.pem"
warn_start good "$T_DIR/cert.pem" "$T_DIR/key.pem"
if grep -q 'event=warning' "$T_DIR/good.log"; then t_fail "no-warning-for-good-cert" "$(grep warning "$T_DIR/good.log")"; else t_ok "no-warning-for-good-cert"; fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 -subj /CN=localhost \
  -keyout "$T_DIR/key.new" -out "$T_DIR/cert.new" >"$T_DIR/openssl.log" 2>&1
mv "$T_DIR/key.new" "$T_DIR/key.pem"; mv "$T_DIR/cert.new" "$T_DIR/cert.pem"
kill -HUP "$(t_pid good)"
wait_log good 'event=warning' || true
t_grep "warn-expires-soon-after-sighup" "$T_DIR/good.log" 'event=warning what=cert problem=expires-soon .*seconds-left=4[0-9]{5} '
t_stop good
t_bg nocert "$SERVE" --listen 127.0.0.1:21623 --cert "$PKI/ec256.fullchain.pem" --key "$PKI/ec256.sec1.key"
wait_log nocert 'event=warning' || true
t_grep "warn-cert-without-ke-listen" "$T_DIR/nocert.log" 'event=warning what=config problem=cert-without-ke-listen'
t_stop nocert
