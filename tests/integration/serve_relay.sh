#!/bin/sh
# nts-serve's TCP transport (nts-serve(8), TCP TRANSPORT): frames for this
# server answered locally (plain NTP and NTS via nts-poll --relay; by
# address, and by the name localhost on our port); a frame
# for a chrony NTS server on --relay-allow relayed over UDP, the sample
# verified with chrony's keys (nts-ke against chrony gives the session); a
# destination not on the list refused (stream closed, `refused` record,
# nts-poll's error names the destination it may have refused);
# malformed frames close the stream, no crash; a stalled stream is closed
# at the idle deadline; bytes out <= bytes in.
# Ports: 21030-21059.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"
SERVE=$NTSKIT_BIN/nts-serve POLL=$NTSKIT_BIN/nts-poll KE=$NTSKIT_BIN/nts-ke MK=$NTSKIT_HELPERS/serve_mkcookie
FR="python3 $NTSKIT_TOP/tests/helpers/relay_frames.py"
t_need_bins "$SERVE" "$POLL" "$MK"
CNTP=21031 CKE=21032 NTP=21033 TCP=21034 OTHER=21039
K=$T_DIR/keys
printf 'status t=%s stratum=2 refid=192.0.2.55 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"

t_bg serve "$SERVE" --listen 127.0.0.1:$NTP --listen "[::1]:$NTP" --tcp-listen 127.0.0.1:$TCP --relay-allow 127.0.0.1:$CNTP \
  --cookie-keys "$K" --status "$T_DIR/status"
if ! t_wait_tcp 127.0.0.1 $TCP 5; then t_fail "serve-start" "$(cat "$T_DIR/serve.log")"; exit 0; fi
t_grep "start-record-tcp" "$T_DIR/serve.log" "event=start .*tcp-listen=127\.0\.0\.1:$TCP relay-allow=1"

# 1. answered locally
$FR 127.0.0.1 $TCP plain 127.0.0.1 $NTP >"$T_DIR/f1" 2>&1
t_grep "plain-frame-answered-locally" "$T_DIR/f1" '^answer len=60 req=60 leap=0 stratum=2$'
$FR 127.0.0.1 $TCP plain ::1 $NTP >"$T_DIR/f1v6" 2>&1
t_grep "ipv6-destination-answered-locally" "$T_DIR/f1v6" '^answer len=72 req=72 leap=0 stratum=2$'
$FR 127.0.0.1 $TCP plain 0.0.0.0 0 >"$T_DIR/f1b" 2>&1
t_grep "unspecified-destination-is-local" "$T_DIR/f1b" '^answer len=60 req=60 '
# by name: localhost on our port is this server, as 127.0.0.1 on it is
$FR 127.0.0.1 $TCP plain localhost $NTP >"$T_DIR/f1n" 2>&1
t_grep "localhost-name-answered-locally" "$T_DIR/f1n" '^answer len=66 req=66 leap=0 stratum=2$'
$FR 127.0.0.1 $TCP many 127.0.0.1 $NTP 50 >"$T_DIR/f2" 2>&1
t_grep "50-frames-one-write" "$T_DIR/f2" '^answers=50 bytes-out=3000 bytes-in=3000$'
"$MK" "$K" 127.0.0.1:$NTP 15 >"$T_DIR/s1"
"$POLL" --relay 127.0.0.1:$TCP --count 3 --spacing 0.1 --timeout 2 <"$T_DIR/s1" >"$T_DIR/p1" 2>"$T_DIR/p1.err"; rc=$?
n=$(grep -c '^sample .*stratum=2 .*auth=nts .*via=tcp-relay' "$T_DIR/p1")
[ $rc = 0 ] && [ "$n" = 3 ] && t_ok "nts-over-tcp-answered-locally" || t_fail "nts-over-tcp-answered-locally" "rc=$rc n=$n $(head -3 "$T_DIR/p1.err")"

# 2. not on the allow list: refused, stream closed
$FR 127.0.0.1 $TCP plain 127.0.0.1 $OTHER >"$T_DIR/f3" 2>&1
t_grep "not-allowed-stream-closed" "$T_DIR/f3" '^closed$'
t_grep "not-allowed-refused-record" "$T_DIR/serve.log" "event=refused transport=tcp client=127\.0\.0\.1:[0-9]+ dst=127\.0\.0\.1:$OTHER reason=destination-not-allowed"
# nts-poll names the likely cause (the frame protocol carries no reason)
"$MK" "$K" localhost:$OTHER 15 >"$T_DIR/s3"
"$POLL" --relay 127.0.0.1:$TCP --count 1 --timeout 2 <"$T_DIR/s3" >/dev/null 2>"$T_DIR/p3.err"
t_grep "nts-poll-names-refused-destination" "$T_DIR/p3.err" "relay 127\.0\.0\.1:$TCP closed the stream after our frame for localhost:$OTHER, unanswered: does it refuse that destination\? \(its log says why: serve event=refused\)"
t_grep "localhost-other-port-refused" "$T_DIR/serve.log" "event=refused transport=tcp client=127\.0\.0\.1:[0-9]+ dst=localhost:$OTHER reason=destination-not-allowed"

# 3. malformed frames: the stream is closed, the server lives on
for c in short-len huge-len rsv frag atyp trailing-garbage truncated-addr; do
  $FR 127.0.0.1 $TCP bad $c >"$T_DIR/b-$c" 2>&1
  t_grep "malformed-$c-closed" "$T_DIR/b-$c" '^closed$'
done
$FR 127.0.0.1 $TCP plain 127.0.0.1 $NTP >"$T_DIR/f4" 2>&1
t_grep "alive-after-malformed" "$T_DIR/f4" '^answer len=60 '

# 4. relayed to chrony (on the allow list): authenticated by chrony's keys
if [ -x "$KE" ] && sh "$NTSKIT_TOP/tests/pki/gen.sh" "$T_DIR/pki" >/dev/null 2>&1 && chmod 644 "$T_DIR"/pki/* &&
   peer_chrony_server "$T_DIR/c1" $CNTP $CKE "$T_DIR/pki/ec256.fullchain.pem" "$T_DIR/pki/ec256.sec1.key"; then
  "$KE" --ca "$T_DIR/pki/root.crt" 127.0.0.1:$CKE >"$T_DIR/sc" 2>"$T_DIR/sc.err"
  t_grep "nts-ke-against-chrony" "$T_DIR/sc" "^session .*ntp=127\.0\.0\.1:$CNTP "
  "$POLL" --relay 127.0.0.1:$TCP --count 3 --spacing 0.1 --timeout 2 <"$T_DIR/sc" >"$T_DIR/pc" 2>"$T_DIR/pc.err"; rc=$?
  n=$(grep -c "^sample .*ntp=127\.0\.0\.1:$CNTP .*stratum=1 .*auth=nts .*via=tcp-relay" "$T_DIR/pc")
  [ $rc = 0 ] && [ "$n" = 3 ] && t_ok "relayed-to-chrony-authenticated" || t_fail "relayed-to-chrony-authenticated" "rc=$rc n=$n $(head -3 "$T_DIR/pc.err")"
  peer_chrony_serverstats "$T_DIR/c1" >"$T_DIR/cstats" 2>&1
  t_grep "chrony-saw-authenticated-packets" "$T_DIR/cstats" 'Authenticated NTP packets *: *[1-9]'
else
  t_skip "chrony NTS server not available: ${PEER_WHY:-nts-ke or PKI missing}"
fi

# 5. a stalled stream is closed at the idle deadline (10 s), the rest goes on
$FR 127.0.0.1 $TCP stall 14 >"$T_DIR/st" 2>&1 &
STALL=$!
sleep 1
$FR 127.0.0.1 $TCP plain 127.0.0.1 $NTP >"$T_DIR/f5" 2>&1
t_grep "answers-while-a-stream-stalls" "$T_DIR/f5" '^answer len=60 '
wait $STALL
t_grep "stalled-stream-closed-at-deadline" "$T_DIR/st" '^closed after (9|10|11)\.[0-9] s$'

t_stop serve
awk '/event=stop/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  print "# tcp bytes in " v["tcp-bytes-in"] " out " v["tcp-bytes-out"] ", local " v["tcp-local"] ", relayed " v["tcp-relayed"] ", refused " v["tcp-refused"] ", malformed " v["tcp-malformed"]
  exit !(v["tcp-bytes-out"] + 0 <= v["tcp-bytes-in"] + 0 && v["tcp-malformed"] + 0 >= 7) }' "$T_DIR/serve.log" \
  && t_ok "tcp-bytes-out-le-in" || t_fail "tcp-bytes-out-le-in" "$(grep event=stop "$T_DIR/serve.log")"
# sanitizer reports from nts-serve (ASan/UBSan builds) fail the test
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.log >/dev/null 2>&1; then
  t_fail "no-sanitizer-reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.log | head -3)"
else t_ok "no-sanitizer-reports"; fi
