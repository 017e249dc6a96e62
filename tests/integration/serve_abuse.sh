#!/bin/sh
# nts-serve under abuse (nts-serve(8), RATE LIMITING, TCP TRANSPORT):
#  - a flood of NTP and NTS requests (plain, NTS, broken authenticators,
#    cookies nobody can open, junk) from 1000 loopback addresses
#    (127.1.0.0/16), 24 each, then 10 000 distinct addresses: no answer is
#    longer than its request, every over-limit source gets one RATE KoD,
#    memory stays flat (VmRSS/VmHWM from /proc), and a legitimate client on
#    127.0.0.1 is answered throughout (plain NTP and nts-poll);
#  - 150 TCP connections that stall: a legitimate frame is still answered;
#  - random and malformed TCP streams: closed, no crash.
# Bounded: about 40 000 datagrams, 30 s. Ports: 21060-21079.
. "$NTSKIT_TOP/tests/lib.sh"
SERVE=$NTSKIT_BIN/nts-serve POLL=$NTSKIT_BIN/nts-poll MK=$NTSKIT_HELPERS/serve_mkcookie FLOOD=$NTSKIT_HELPERS/serve_flood
Q="python3 $NTSKIT_TOP/tests/helpers/ntp_query.py"
FR="python3 $NTSKIT_TOP/tests/helpers/relay_frames.py"
t_need_bins "$SERVE" "$POLL" "$MK" "$FLOOD"
NTP=21061 TCP=21062
printf 'status t=%s stratum=2 refid=192.0.2.66 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"

t_bg serve "$SERVE" --listen 127.0.0.1:$NTP --tcp-listen 127.0.0.1:$TCP --cookie-keys "$T_DIR/keys" --status "$T_DIR/status"
t_wait_udp 127.0.0.1 $NTP 5 || { t_fail "serve-start" "$(cat "$T_DIR/serve.log")"; exit 0; }
PID=$(t_pid serve)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$PID/status"; }
"$MK" "$T_DIR/keys" 127.0.0.1:$NTP 15 >"$T_DIR/sess"
$Q 127.0.0.1 $NTP --quiet >/dev/null 2>&1     # warm up
R0=$(rss)

# the flood, with a legitimate client polling alongside
"$FLOOD" 127.0.0.1 $NTP 1000 24 "$T_DIR/sess" >"$T_DIR/flood1" 2>&1 &
F=$!
sleep 0.5
$Q 127.0.0.1 $NTP --count 5 --wait 2 >"$T_DIR/legit" 2>&1
"$POLL" --count 3 --spacing 0.3 --timeout 3 <"$T_DIR/sess" >"$T_DIR/legit-nts" 2>"$T_DIR/legit-nts.err"; prc=$?
wait $F
R1=$(rss)
"$FLOOD" 127.0.0.1 $NTP 10000 2 "$T_DIR/sess" >"$T_DIR/flood2" 2>&1
R2=$(rss) H2=$(hwm)
echo "# flood 1 (1000 sources x 24): $(cat "$T_DIR/flood1")"
echo "# flood 2 (10000 sources x 2): $(cat "$T_DIR/flood2")"
echo "# VmRSS kB: start $R0, after flood 1 $R1, after flood 2 $R2; VmHWM $H2"

t_grep "flood1-no-answer-larger-than-request" "$T_DIR/flood1" ' larger=0 max-ratio=(0\.[0-9]+|1\.000)$'
t_grep "flood2-no-answer-larger-than-request" "$T_DIR/flood2" ' larger=0 max-ratio=(0\.[0-9]+|1\.000)$'
# every source goes over the limit (24 > burst 16): one RATE KoD each, never
# more (a few may be missed if the kernel drops datagrams under load)
r=$(tr ' ' '\n' <"$T_DIR/flood1" | sed -n 's/^rate=//p')
[ "${r:-0}" -ge 900 ] && [ "${r:-0}" -le 1000 ] && t_ok "flood1-rate-kods-one-per-source" \
  || t_fail "flood1-rate-kods-one-per-source" "rate=$r (want 900..1000)"
t_grep "flood1-nts-answered-and-ntsn" "$T_DIR/flood1" ' nts=[1-9][0-9]* rate=[0-9]+ ntsn=[1-9]'
t_grep "flood2-under-limit-no-kod" "$T_DIR/flood2" ' rate=0 '
t_grep "legit-client-answered-during-flood" "$T_DIR/legit" '^sent=5 recv=5 '
n=$(grep -c '^sample .*auth=nts' "$T_DIR/legit-nts")
[ $prc = 0 ] && [ "$n" = 3 ] && t_ok "legit-nts-client-during-flood" || t_fail "legit-nts-client-during-flood" "rc=$prc n=$n $(head -3 "$T_DIR/legit-nts.err")"
# memory: all tables are fixed-size, so 11 000 addresses add (almost) nothing
if [ $((R2 - R0)) -le 1024 ]; then t_ok "rss-bounded-growth<=1MiB"; else t_fail "rss-bounded-growth<=1MiB" "VmRSS $R0 -> $R2 kB"; fi
t_grep "refused-records-rate-limited" "$T_DIR/serve.log" 'event=refused transport=udp client=127\.1\.[0-9.]+:[0-9]+ reason=rate-limit'
n=$(grep -c 'event=refused transport=udp' "$T_DIR/serve.log")
[ "$n" -le 400 ] && t_ok "refused-log-itself-bounded" || t_fail "refused-log-itself-bounded" "$n records for 1000 events"

# TCP: stalled connections cannot lock out a legitimate client
$FR 127.0.0.1 $TCP hold 150 5 127.0.0.1 $NTP >"$T_DIR/hold" 2>&1
t_grep "legit-frame-answered-despite-150-stalled" "$T_DIR/hold" '^held=150 answered=([4-9])/\1$'
i=1 bad=0
while [ $i -le 30 ]; do
  r=$($FR 127.0.0.1 $TCP random $i 2>&1)
  [ "$r" = closed ] || bad=$((bad + 1))
  i=$((i + 1))
done
[ $bad = 0 ] && t_ok "30-random-streams-closed" || t_fail "30-random-streams-closed" "$bad left open"
$FR 127.0.0.1 $TCP plain 127.0.0.1 $NTP >"$T_DIR/alive" 2>&1
t_grep "server-alive-after-abuse" "$T_DIR/alive" '^answer len=60 req=60 '
kill -0 "$PID" 2>/dev/null && t_ok "no-crash" || t_fail "no-crash" "nts-serve died: $(tail -3 "$T_DIR/serve.log")"

t_stop serve
grep 'event=stop' "$T_DIR/serve.log" | sed 's/^/# /'
awk '/event=stop/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  exit !(v["udp-bytes-out"] + 0 <= v["udp-bytes-in"] + 0 && v["tcp-bytes-out"] + 0 <= v["tcp-bytes-in"] + 0) }' "$T_DIR/serve.log" \
  && t_ok "server-counters-bytes-out-le-in" || t_fail "server-counters-bytes-out-le-in" "$(grep event=stop "$T_DIR/serve.log")"
# sanitizer reports from nts-serve (ASan/UBSan builds) fail the test
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.log >/dev/null 2>&1; then
  t_fail "no-sanitizer-reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.log | head -3)"
else t_ok "no-sanitizer-reports"; fi
