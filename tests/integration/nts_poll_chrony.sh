#!/bin/sh
# nts-poll against real chrony 4.x NTS servers on loopback (nts-poll(1)):
#  - nts-ke | nts-poll: authenticated samples, |offset| < 1 ms, records passed through;
#  - a chronyd under faketime -f +30s: offset +30 s +- 5 ms (the lowest-delay sample),
#    every sample +30 s within delay/2; one at -0.5 s likewise (chronyd under
#    libfaketime and nostamp_shim.so, tests/peers/chrony.sh);
#  - --state round trip: cookies consumed and replenished to 8, file mode 0600,
#    other records kept;
#  - an unsynchronised chronyd (no reference, no "local"): no sample, exit 2;
#  - exit 3 when a session has no cookies left; exit 65 on a malformed record;
#  - --interval: samples keep coming, one line at a time.
# Ports: 127.0.0.1:20810-20819.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll
NTP1=20810 KE1=20811 NTP2=20812 KE2=20813 NTP3=20814 KE3=20815 NTP4=20816 KE4=20817

t_need_bins "$KE" "$POLL"
t_pki "$T_DIR/pki"
chmod 644 "$T_DIR"/pki/*
CA=$T_DIR/pki/root.crt CERT=$T_DIR/pki/ec256.fullchain.pem KEY=$T_DIR/pki/ec256.sec1.key

if ! peer_chrony_server "$T_DIR/c1" $NTP1 $KE1 "$CERT" "$KEY"; then
  t_skip "chrony NTS server: $PEER_WHY"; exit 0
fi

# offsets_ok FILE LIMIT: the lowest-delay sample (what an NTP clock filter
# uses) has |offset| < LIMIT, and every sample |offset| <= delay/2 + 0.1 ms
# (the true offset is 0 here: the error of one exchange is at most half its
# round trip, RFC 5905 §8).
offsets_ok() {
  awk -v lim="$2" '$1 == "sample" { n++; for (i = 2; i <= NF; i++) { if ($i ~ /^offset=/) o = substr($i, 8) + 0; if ($i ~ /^delay=/) d = substr($i, 7) + 0 }
      if (o < 0) o = -o; if (o > d / 2 + 0.0001) bad++; if (n == 1 || d < bd) { bd = d; bo = o } }
    END { exit !(n > 0 && bad == 0 && bo < lim) }' "$1"
}
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# 1. the pipeline on loopback
"$KE" --ca "$CA" localhost:$KE1 >"$T_DIR/s1" 2>"$T_DIR/ke1.err"
t_grep "nts-ke gives a session" "$T_DIR/s1" '^session '
{ echo "offset t=1.5 offset=+0.1 note=passed-through"; cat "$T_DIR/s1"; } |
  "$POLL" --count 4 --spacing 0.2 --timeout 2 >"$T_DIR/p1" 2>"$T_DIR/p1.err"
rc=$?
[ $rc -eq 0 ] && t_ok "loopback: exit 0" || t_fail "loopback: exit 0" "exit $rc: $(head -c 300 "$T_DIR/p1.err")"
n=$(grep -c '^sample ' "$T_DIR/p1")
[ "$n" -eq 4 ] && t_ok "loopback: 4 samples" || t_fail "loopback: 4 samples" "$n samples"
t_grep "loopback: auth=nts via=udp" "$T_DIR/p1" '^sample .* auth=nts .*via=udp '
t_grep "loopback: fields" "$T_DIR/p1" "^sample source=localhost_$KE1 ntp=localhost:$NTP1 t=[0-9]+\.[0-9]+ offset=[-+][0-9.]+ delay=[0-9.]+ disp=[0-9.]+ stratum=1 leap=0 refid=[^ ]+ .*root-delay=[0-9.]+ root-disp=[0-9.]+ .*not-before=[0-9]+ not-after=[0-9]+"
if offsets_ok "$T_DIR/p1" 0.001; then t_ok "loopback: |offset| < 1 ms (lowest delay), every sample within delay/2"
else t_fail "loopback: |offset| < 1 ms (lowest delay), every sample within delay/2" "$(grep -o 'offset=[^ ]* delay=[^ ]*' "$T_DIR/p1" | tr '\n' ' ')"; fi
n=$(grep '^sample' "$T_DIR/p1" | field offset | awk '{ v = $1 + 0; if (v < 0) v = -v; if (v < 0.001) n++ } END { print n + 0 }')
echo "# loopback: $n of 4 samples have |offset| < 1 ms"
echo "# loopback offsets: $(grep '^sample' "$T_DIR/p1" | field offset | tr '\n' ' ')"
[ "$(head -n 1 "$T_DIR/p1")" = "offset t=1.5 offset=+0.1 note=passed-through" ] &&
  t_ok "other records passed through" || t_fail "other records passed through" "$(head -n 1 "$T_DIR/p1")"
grep -q '^session ' "$T_DIR/p1" && t_fail "session records consumed" "a session record reached stdout" || t_ok "session records consumed"

# 2. a server 30 s ahead
if peer_chrony_server "$T_DIR/c2" $NTP2 $KE2 "$CERT" "$KEY" +30s; then
  "$KE" --ca "$CA" localhost:$KE2 2>"$T_DIR/ke2.err" |
    "$POLL" --count 4 --spacing 0.2 --timeout 2 >"$T_DIR/p2" 2>"$T_DIR/p2.err"
  best=$(awk '$1 == "sample" { for (i = 2; i <= NF; i++) { if ($i ~ /^offset=/) o = substr($i, 8); if ($i ~ /^delay=/) d = substr($i, 7) + 0 }
    if (n == 0 || d < bd) { bd = d; bo = o }; n++ } END { if (n) print bo }' "$T_DIR/p2")
  echo "# faketime +30s offsets: $(grep '^sample' "$T_DIR/p2" | field offset | tr '\n' ' ')(lowest delay: $best)"
  if [ -n "$best" ] && awk -v o="$best" 'BEGIN { exit !(o > 29.995 && o < 30.005) }'; then
    t_ok "faketime +30s: offset +30 s +- 5 ms"
  else
    t_fail "faketime +30s: offset +30 s +- 5 ms" "got '$best': $(head -c 300 "$T_DIR/p2.err")"
  fi
  n=$(awk '$1 == "sample"' "$T_DIR/p2" | grep -c 'offset=+\(29\.9[0-9]*\|30\.0[0-9]*\) ')
  [ "$n" -eq 4 ] && t_ok "faketime +30s: every sample within 0.1 s of +30 s" || t_fail "faketime +30s: every sample within 0.1 s of +30 s" "$n of 4"
  t_offsets_near "faketime +30s: every sample at +30 s within delay/2" "$T_DIR/p2" 30
else
  t_skip "faketime chrony: $PEER_WHY"
fi

# 2b. a server 0.5 s behind: chronyd trusts a kernel receive timestamp this
# close to its own (faked) clock, so without nostamp_shim.so it would be
# measured at -0.25 s with a delay of 0
if peer_chrony_server "$T_DIR/c2b" $NTP4 $KE4 "$CERT" "$KEY" -0.5s; then
  "$KE" --ca "$CA" localhost:$KE4 2>"$T_DIR/ke2b.err" |
    "$POLL" --count 4 --spacing 0.2 --timeout 2 >"$T_DIR/p2b" 2>"$T_DIR/p2b.err"
  n=$(grep -c '^sample ' "$T_DIR/p2b")
  [ "$n" -eq 4 ] && t_ok "faketime -0.5s: 4 samples" || t_fail "faketime -0.5s: 4 samples" "$n: $(head -c 300 "$T_DIR/p2b.err")"
  t_offsets_near "faketime -0.5s: every sample at -0.5 s within delay/2" "$T_DIR/p2b" -0.5
  t_grep "faketime -0.5s: chronyd asked for no kernel timestamp" "$T_DIR/c2b/nostamp.log" 'SO_TIMESTAMP'
  t_stop chrony-c2b
else
  t_skip "faketime chrony: $PEER_WHY"
fi

# 3. --state round trip
cookies() { sed -n 's/.* cookies=\([^ ]*\) .*/\1/p' "$1" | tr ',' '\n'; }
"$KE" --ca "$CA" --state "$T_DIR/state" localhost:$KE1 2>"$T_DIR/ke3.err"
echo "note kept=yes" >>"$T_DIR/state"
cookies "$T_DIR/state" >"$T_DIR/c.before"
"$POLL" --state "$T_DIR/state" --count 3 --spacing 0 --timeout 2 >"$T_DIR/p3" 2>"$T_DIR/p3.err"
rc=$?
cookies "$T_DIR/state" >"$T_DIR/c.after"
n=$(grep -c '^sample ' "$T_DIR/p3")
[ $rc -eq 0 ] && [ "$n" -eq 3 ] && t_ok "--state: 3 samples, exit 0" || t_fail "--state: 3 samples, exit 0" "exit $rc, $n samples: $(head -c 200 "$T_DIR/p3.err")"
[ "$(wc -l <"$T_DIR/c.before")" -eq 8 ] && [ "$(wc -l <"$T_DIR/c.after")" -eq 8 ] &&
  t_ok "--state: 8 cookies before and after" || t_fail "--state: 8 cookies before and after" "$(wc -l <"$T_DIR/c.before") / $(wc -l <"$T_DIR/c.after")"
used=$(head -n 3 "$T_DIR/c.before" | grep -c -F -x -f - "$T_DIR/c.after")
kept=$(tail -n 5 "$T_DIR/c.before" | grep -c -F -x -f - "$T_DIR/c.after")
[ "$used" -eq 0 ] && [ "$kept" -eq 5 ] && t_ok "--state: the 3 used cookies gone, 5 kept, 3 new" ||
  t_fail "--state: the 3 used cookies gone, 5 kept, 3 new" "used still there: $used, kept: $kept"
[ "$(stat -c %a "$T_DIR/state")" = 600 ] && t_ok "--state: file mode 0600" || t_fail "--state: file mode 0600" "$(stat -c %a "$T_DIR/state")"
t_grep "--state: other records kept" "$T_DIR/state" '^note kept=yes$'
[ ! -s "$T_DIR/p3" ] || ! grep -qv '^sample ' "$T_DIR/p3" && t_ok "--state: stdout has only samples" || t_fail "--state: stdout has only samples" "$(grep -v '^sample' "$T_DIR/p3" | head -c 200)"
# a second run works from the replenished jar
"$POLL" --state "$T_DIR/state" --count 2 --spacing 0 --timeout 2 >"$T_DIR/p3b" 2>&1
n=$(grep -c '^sample ' "$T_DIR/p3b")
[ "$n" -eq 2 ] && t_ok "--state: a second run uses the new cookies" || t_fail "--state: a second run uses the new cookies" "$n samples"

# 4. unsynchronised server: no sample
mkdir -p "$T_DIR/c3/run" "$T_DIR/c3/ntsdump"
cat >"$T_DIR/c3/chronyd.conf" <<CONF
port $NTP3
ntsport $KE3
bindaddress 127.0.0.1
allow 127.0.0.0/8
ntsserverkey $KEY
ntsservercert $CERT
ntsdumpdir $T_DIR/c3/ntsdump
ntsprocesses 1
bindcmdaddress $T_DIR/c3/run/chronyd.sock
cmdport 0
pidfile $T_DIR/c3/run/chronyd.pid
CONF
t_bg chrony-unsync chronyd -d -x -u root -f "$T_DIR/c3/chronyd.conf"
if t_wait_tcp 127.0.0.1 $KE3 10 && t_wait_udp 127.0.0.1 $NTP3 5; then
  "$KE" --ca "$CA" 127.0.0.1:$KE3 2>"$T_DIR/ke4.err" | sed "s/ ntp=[^ ]* / ntp=127.0.0.1:$NTP3 /" |
    "$POLL" --count 2 --spacing 0 --timeout 2 >"$T_DIR/p4" 2>"$T_DIR/p4.err"
  rc=$?
  [ $rc -eq 2 ] && ! grep -q '^sample' "$T_DIR/p4" && t_ok "unsynchronised server: no sample, exit 2" ||
    t_fail "unsynchronised server: no sample, exit 2" "exit $rc, $(grep -c '^sample' "$T_DIR/p4") samples"
  t_grep "unsynchronised server: said on stderr" "$T_DIR/p4.err" 'not synchronised \(leap 3, stratum (0|1[6-9])'
else
  t_skip "unsynchronised chronyd did not start: $(tail -n 2 "$T_DIR/chrony-unsync.log" | tr '\n' ' ')"
fi

# 5. exit codes: no cookies (3), malformed record (65), usage (64)
sed 's/ cookies=[^ ]* / cookies=- /' "$T_DIR/s1" | "$POLL" --count 1 --timeout 1 >"$T_DIR/p5" 2>"$T_DIR/p5.err"
rc=$?
[ $rc -eq 3 ] && t_ok "no cookies left: exit 3" || t_fail "no cookies left: exit 3" "exit $rc"
t_grep "no cookies left: says run nts-ke" "$T_DIR/p5.err" 'no cookies left: run nts-ke'
printf 'session source=x ke=a:1 ntp=a:2 aead=15 c2s=zz\n' | "$POLL" --count 1 >/dev/null 2>"$T_DIR/p6.err"
rc=$?
[ $rc -eq 65 ] && t_ok "malformed session: exit 65" || t_fail "malformed session: exit 65" "exit $rc"
t_grep "malformed session: names the line" "$T_DIR/p6.err" 'stdin:1'
"$POLL" --count 0 </dev/null >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && t_ok "bad --count: exit 64" || t_fail "bad --count: exit 64" "exit $rc"
# --timeout and [poll] timeout: one range (test_config test_poll_spans has the edges), one message
"$POLL" --timeout 600.5 </dev/null >/dev/null 2>"$T_DIR/p7.err"; rc=$?
[ $rc -eq 64 ] && t_ok "--timeout 600.5: exit 64" || t_fail "--timeout 600.5: exit 64" "exit $rc"
t_grep "--timeout 600.5: the [poll] key's message" "$T_DIR/p7.err" "^nts-poll: --timeout: \[poll\] timeout: '600\.5': must be more than 0 and at most 600 s$"
printf '[poll]\ntimeout = 600.5\n' >"$T_DIR/t7.conf"
"$POLL" --config "$T_DIR/t7.conf" </dev/null >/dev/null 2>"$T_DIR/p7c.err"; rc=$?
[ $rc -eq 78 ] && grep -q ":2: \[poll\] timeout: '600\.5': must be more than 0 and at most 600 s$" "$T_DIR/p7c.err" &&
  t_ok "[poll] timeout = 600.5: exit 78, the same message" || t_fail "[poll] timeout = 600.5: exit 78, the same message" "exit $rc: $(cat "$T_DIR/p7c.err")"
"$POLL" --timeout 600 </dev/null >/dev/null 2>&1; rc=$?
[ $rc -ne 64 ] && t_ok "--timeout 600: accepted" || t_fail "--timeout 600: accepted" "exit $rc"

# 6. --explain: every packet in words, and what was checked
"$KE" --ca "$CA" localhost:$KE1 2>/dev/null | "$POLL" --count 1 --timeout 2 --explain >"$T_DIR/p8" 2>"$T_DIR/p8.err"
ok=1
for pat in 'transport udp' '> .*mode 3 \(client\)' '< .*mode 4 \(server\)' '> extension field 1 .*Unique Identifier' \
    '> extension field 2 .*NTS Cookie' '< .*NTS Authenticator and Encrypted Extension Fields.*nonce 16 octets' \
    'checked: .*origin timestamp .*Unique Identifier .*verified' 'encrypted fields: [0-9]+ new cookie'; do
  grep -Eq -- "$pat" "$T_DIR/p8.err" || { ok=0; t_fail "--explain" "no line matching /$pat/"; break; }
done
[ $ok -eq 1 ] && grep -q '^sample ' "$T_DIR/p8" && t_ok "--explain: header, each extension field and the checks in words"
grep -Eq "(c2s|s2c|cookies)=" "$T_DIR/p8.err" && t_fail "--explain: no secrets on stderr" "keys or cookies printed" || t_ok "--explain: no secrets on stderr"

# 7. --interval: polls forever, one line at a time
"$KE" --ca "$CA" localhost:$KE1 2>/dev/null >"$T_DIR/s7"
timeout 3.6 "$POLL" --count 1 --interval 1 --timeout 1 <"$T_DIR/s7" >"$T_DIR/p7" 2>"$T_DIR/p7.err"
n=$(grep -c '^sample ' "$T_DIR/p7")
[ "$n" -ge 3 ] && t_ok "--interval 1: a sample every round ($n in 3.6 s)" || t_fail "--interval 1: a sample every round" "$n samples in 3.6 s: $(head -c 200 "$T_DIR/p7.err")"

# 8. --interval with --state, stopped by SIGTERM: the round is finished and the
# state file written (cookies replenished, mode 0600)
"$KE" --ca "$CA" --state "$T_DIR/state9" localhost:$KE1 2>/dev/null
"$POLL" --state "$T_DIR/state9" --count 1 --interval 1 --timeout 1 >"$T_DIR/p9" 2>"$T_DIR/p9.err" &
pid=$!
sleep 2.5
kill -TERM $pid
wait $pid
rc=$?
n=$(grep -c '^sample ' "$T_DIR/p9")
c=$(sed -n 's/.* cookies=\([^ ]*\) .*/\1/p' "$T_DIR/state9" | tr ',' '\n' | grep -c .)
[ $rc -eq 0 ] && [ "$n" -ge 2 ] && [ "$c" -eq 8 ] && [ "$(stat -c %a "$T_DIR/state9")" = 600 ] &&
  t_ok "--interval --state, SIGTERM: exit 0, $n samples, state written with 8 cookies" ||
  t_fail "--interval --state, SIGTERM: exit 0, samples, state written with 8 cookies" "exit $rc, $n samples, $c cookies: $(head -c 200 "$T_DIR/p9.err")"
exit 0
