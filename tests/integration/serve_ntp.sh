#!/bin/sh
# nts-serve as a plain NTP server (nts-serve(8)): chrony as its client sees
# the status file's stratum and refid; without a status file (or with a
# stale one) it answers leap 3 / stratum 16; ntpdig on port 123 in a
# network namespace; IPv4 and IPv6; privileges dropped to nobody.
# Ports: 21000-21009.
. "$NTSKIT_TOP/tests/lib.sh"
SERVE=$NTSKIT_BIN/nts-serve
Q="python3 $NTSKIT_TOP/tests/helpers/ntp_query.py"
[ -x "$SERVE" ] || { t_skip "nts-serve not built"; exit 0; }
P=21001

status() { # STRATUM REFID [AGE [LEAP]]
  printf 'status t=%s stratum=%s refid=%s root-delay=0.012000000 root-disp=0.003000000 leap=%s error=0.001 offset=+0.000010000 freq-ppm=+1.000000 action=slew\n' \
    $(( $(date +%s) - ${3:-0} )) "$1" "$2" "${4:-0}" >"$PUB/status.tmp"
  chmod 644 "$PUB/status.tmp"; mv "$PUB/status.tmp" "$PUB/status"
}

# The status file must be readable by --user after the privilege drop: it
# lives in a directory nobody can reach (T_DIR's parents are 0700).
PUB=$(mktemp -d /tmp/ntskit-serve-ntp.XXXXXX); chmod 755 "$PUB"
trap 't_cleanup; rm -rf "$PUB"' EXIT
USER_ARG=
if t_is_root; then USER_ARG="--user nobody"; fi
status 3 192.0.2.7
t_bg serve "$SERVE" --listen 127.0.0.1:$P --listen "[::1]:$P" --status "$PUB/status" $USER_ARG
if ! t_wait_udp 127.0.0.1 $P 5; then t_fail "serve-start" "$(cat "$T_DIR/serve.log")"; exit 0; fi
t_grep "serve-start-record" "$T_DIR/serve.log" '^serve t=[0-9.]+ event=start listen=127\.0\.0\.1:21001 listen2=\[::1\]:21001 '
if t_is_root; then t_grep "serve-dropped-to-nobody" "$T_DIR/serve.log" 'event=start .* uid=65534'; fi

$Q 127.0.0.1 $P >"$T_DIR/q4" 2>&1
t_grep "plain-ntp-ipv4-status" "$T_DIR/q4" '^leap=0 stratum=3 refid=192\.0\.2\.7 kod=- len=48$'
$Q ::1 $P >"$T_DIR/q6" 2>&1
t_grep "plain-ntp-ipv6-status" "$T_DIR/q6" '^leap=0 stratum=3 refid=192\.0\.2\.7 kod=- len=48$'

# chrony as a plain NTP client, one-shot (-Q never sets the clock)
if command -v chronyd >/dev/null 2>&1 && t_is_root; then
  mkdir -p "$T_DIR/clog" "$T_DIR/crun"; chmod 770 "$T_DIR/crun"
  timeout 20 chronyd -Q -t 10 -u root "server 127.0.0.1 port $P iburst maxsamples 2" \
    "logdir $T_DIR/clog" "log measurements" "pidfile $T_DIR/crun/q.pid" \
    "bindcmdaddress $T_DIR/crun/q.sock" "cmdport 0" >"$T_DIR/chrony.out" 2>&1
  t_grep "chrony-client-synchronised" "$T_DIR/chrony.out" 'System clock wrong by'
  # measurements.log: "... 127.0.0.1 N 3 111 111 1111 ... C0000207 ..."
  t_grep "chrony-sees-stratum-refid" "$T_DIR/clog/measurements.log" '127\.0\.0\.1 +N +3 +111 111 1111 .* C0000207 '
else
  t_skip "chronyd missing or not root: chrony client case"
fi

# query_until FILE PATTERN HOST PORT: ask until the answer matches PATTERN
# (3 s at most; what the server reloads, it reloads between two packets)
query_until() {
  _i=0
  while :; do
    $Q "$3" "$4" >"$1" 2>&1
    grep -Eq -- "$2" "$1" || [ $_i -ge 30 ] || { sleep 0.1; _i=$((_i + 1)); continue; }
    return 0
  done
}

# stale status (older than --status-max-age, default 3 h): leap 3, stratum 16;
# the server looks at the status file's mtime once a second
status 3 192.0.2.7 20000
query_until "$T_DIR/qs" '^leap=3 ' 127.0.0.1 $P
t_grep "stale-status-unsynchronised" "$T_DIR/qs" '^leap=3 stratum=16 refid=73.78.73.84 kod=- len=48$'

# SIGHUP reload with a fresh one; a stratum-1 ASCII refid
status 1 GPS
kill -HUP "$(t_pid serve)"
query_until "$T_DIR/qh" 'stratum=1 ' 127.0.0.1 $P
t_grep "sighup-reload-status" "$T_DIR/qh" '^leap=0 stratum=1 refid=GPS kod=- len=48$'
t_grep "reload-record" "$T_DIR/serve.log" 'event=reload what=status stratum=1 leap=0 refid=GPS'

# a leap second armed by nts-adjust (the status file's leap) is what clients see
status 1 GPS 0 1
kill -HUP "$(t_pid serve)"
query_until "$T_DIR/ql" '^leap=1 ' 127.0.0.1 $P
t_grep "armed-leap-passed-to-clients" "$T_DIR/ql" '^leap=1 stratum=1 refid=GPS kod=- len=48$'

# status removed: unsynchronised
rm -f "$PUB/status"
kill -HUP "$(t_pid serve)"
sleep 0.3
$Q 127.0.0.1 $P >"$T_DIR/qn" 2>&1
t_grep "no-status-unsynchronised" "$T_DIR/qn" '^leap=3 stratum=16 '
if command -v chronyd >/dev/null 2>&1 && t_is_root; then
  rm -rf "$T_DIR/clog"; mkdir -p "$T_DIR/clog"
  timeout 20 chronyd -Q -t 4 -u root "server 127.0.0.1 port $P iburst maxsamples 2" \
    "logdir $T_DIR/clog" "pidfile $T_DIR/crun/q.pid" "bindcmdaddress $T_DIR/crun/q.sock" "cmdport 0" >"$T_DIR/chrony2.out" 2>&1
  if grep -q 'System clock wrong' "$T_DIR/chrony2.out"; then
    t_fail "chrony-rejects-unsynchronised" "chrony took a sample from an unsynchronised server"
  else t_ok "chrony-rejects-unsynchronised"; fi
fi

# not a client request (mode 4), too short: no answer
python3 - "$P" >"$T_DIR/junk" 2>&1 <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
got = 0
for pkt in (b"\x24" + b"\0" * 47, b"\x23" + b"\0" * 20, b"\x26" + b"\0" * 47, b""):
    s.sendto(pkt, ("127.0.0.1", int(sys.argv[1])))
    try:
        s.recvfrom(2048); got += 1
    except socket.timeout:
        pass
print("answers=%d" % got)
PY
t_grep "non-client-packets-ignored" "$T_DIR/junk" '^answers=0$'

t_stop serve
t_grep "sigterm-clean-stop" "$T_DIR/serve.log" '^serve t=[0-9.]+ event=stop udp-requests='

# ntpdig speaks only to port 123: run it in a namespace
if t_is_root && command -v ntpdig >/dev/null 2>&1 && t_netns ntskit-serve-ntp; then
  status 2 192.0.2.9
  t_bg serve123 ip netns exec ntskit-serve-ntp "$SERVE" --listen 127.0.0.1:123 --status "$PUB/status" --user nobody
  i=0
  until ip netns exec ntskit-serve-ntp ss -lunH 'sport = :123' | grep -q . || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
  ip netns exec ntskit-serve-ntp ntpdig -j 127.0.0.1 >"$T_DIR/dig.json" 2>&1
  t_grep "ntpdig-stratum" "$T_DIR/dig.json" '"stratum": *2'
  t_grep "ntpdig-leap" "$T_DIR/dig.json" '"leap": *"no-leap"|"leap": *0'
  rm -f "$PUB/status"; kill -HUP "$(t_pid serve123)"; sleep 0.3
  ip netns exec ntskit-serve-ntp ntpdig -j 127.0.0.1 >"$T_DIR/dig2.out" 2>&1
  t_grep "ntpdig-unsynchronised-dropped" "$T_DIR/dig2.out" 'stratum too high|unsync|leap'
  t_stop serve123
else
  t_skip "ntpdig in a namespace needs root and ntpdig"
fi

# settings from the [serve] section of the config file; --explain decodes packets
status 2 192.0.2.9
printf '[serve]\nlisten = 127.0.0.1:21004\nstatus = %s\n' "$PUB/status" >"$T_DIR/ntskit.conf"
t_bg cfg "$SERVE" --config "$T_DIR/ntskit.conf" --explain
if t_wait_udp 127.0.0.1 21004 5; then
  $Q 127.0.0.1 21004 >"$T_DIR/qc" 2>&1
  t_grep "config-file-serve-section" "$T_DIR/qc" '^leap=0 stratum=2 refid=192\.0\.2\.9 '
  sleep 0.2
  t_grep "explain-request-decoded" "$T_DIR/cfg.log" '^nts-serve: request: .*mode'
  t_grep "explain-answer-decoded" "$T_DIR/cfg.log" '^nts-serve: answer: .*stratum'
else
  t_fail "config-file-serve-section" "$(cat "$T_DIR/cfg.log")"
fi
t_stop cfg

# usage errors and the NTS-KE stub
"$SERVE" --listen 127.0.0.1:$P --bogus 2>"$T_DIR/u.err"; rc=$?
[ $rc = 64 ] && t_ok "unknown-option-exit-64" || t_fail "unknown-option-exit-64" "rc=$rc"
"$SERVE" --listen nohost:$P 2>"$T_DIR/u2.err"; rc=$?
[ $rc = 64 ] && t_ok "listen-not-literal-exit-64" || t_fail "listen-not-literal-exit-64" "rc=$rc $(cat "$T_DIR/u2.err")"
t_bg busy "$SERVE" --listen 127.0.0.1:21003
t_wait_udp 127.0.0.1 21003 5
"$SERVE" --listen 127.0.0.1:21003 2>"$T_DIR/u3.err"; rc=$?
[ $rc = 3 ] && grep -q 'Address already in use' "$T_DIR/u3.err" && t_ok "bind-failure-exit-3" || t_fail "bind-failure-exit-3" "rc=$rc $(cat "$T_DIR/u3.err")"
t_stop busy
"$SERVE" --listen 127.0.0.1:$P --ke-listen 127.0.0.1:21002 --cert /nonexistent.pem --key /nonexistent.key 2>"$T_DIR/ke.err"; rc=$?
[ $rc = 5 ] && grep -q '/nonexistent' "$T_DIR/ke.err" \
  && t_ok "ke-listen-unreadable-cert-exit-5" || t_fail "ke-listen-unreadable-cert-exit-5" "rc=$rc $(cat "$T_DIR/ke.err")"
# sanitizer reports from nts-serve (ASan/UBSan builds) fail the test
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.log >/dev/null 2>&1; then
  t_fail "no-sanitizer-reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.log | head -3)"
else t_ok "no-sanitizer-reports"; fi
