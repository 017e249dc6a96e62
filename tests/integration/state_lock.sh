#!/bin/sh
# Two programs on one state file at once (nts-ke(1), nts-poll(1): FILE.lock),
# against a real chrony NTS server on loopback:
#  - two nts-poll --state runs started together: the second waits for the
#    first's round, both get their samples, and the final jar holds 8
#    cookies of which none is one of the 8 it started with (without the lock
#    both would send the same 4 cookies, and one run's new cookies would be
#    lost);
#  - nts-ke --state while an nts-poll --state round is in progress: the
#    merge waits for the round to end and its new session (new keys, 8
#    cookies) is what the file holds afterwards, not the round's old one;
#  - nts-poll --state --interval with an nts-ke merge between its rounds:
#    the later rounds take the new session from the file and never write
#    the old one back;
#  - a lock held by another program (flock(1)): --lock-wait 0.5 gives exit
#    75 within 2 s and a message naming the lock file, the state file is
#    unchanged (nts-poll and nts-ke); a lock released after 1 s is waited
#    for with --lock-wait 10; SIGTERM while waiting ends nts-poll within 1 s;
#  - the lock file is mode 0600.
# Ports: 127.0.0.1:20960-20961.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll
NTP1=20960 KE1=20961

t_need_bins "$KE" "$POLL"
command -v flock >/dev/null 2>&1 || { t_skip "flock(1) (util-linux) not installed"; exit 0; }
t_pki "$T_DIR/pki"
chmod 644 "$T_DIR"/pki/*
CA=$T_DIR/pki/root.crt CERT=$T_DIR/pki/ec256.fullchain.pem KEY=$T_DIR/pki/ec256.sec1.key
if ! peer_chrony_server "$T_DIR/c1" $NTP1 $KE1 "$CERT" "$KEY"; then
  t_skip "chrony NTS server: $PEER_WHY"; exit 0
fi
ST=$T_DIR/state
SRC=localhost:$KE1

cookies() { sed -n 's/.* cookies=\([^ ]*\) .*/\1/p' "$1" | tr ',' '\n' | grep -v '^-$'; }
c2s() { sed -n 's/.* c2s=\([0-9a-f]*\) .*/\1/p' "$1"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
fresh_state() {
  rm -f "$ST"
  "$KE" --ca "$CA" --state "$ST" "$SRC" 2>"$T_DIR/ke.err" && [ "$(cookies "$ST" | grep -c .)" -eq 8 ]
}

# 1. two nts-poll runs on one jar at once
if ! fresh_state; then
  t_fail "nts-ke --state gives a session with 8 cookies" "$(head -c 300 "$T_DIR/ke.err")"; exit 0
fi
cookies "$ST" >"$T_DIR/ck0"
t0=$(now)
"$POLL" --state "$ST" --count 4 --spacing 0.4 --timeout 2 >"$T_DIR/pa" 2>"$T_DIR/pa.err" &
pa=$!
"$POLL" --state "$ST" --count 4 --spacing 0.4 --timeout 2 >"$T_DIR/pb" 2>"$T_DIR/pb.err" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
secs=$(since "$t0")
na=$(grep -c '^sample ' "$T_DIR/pa") nb=$(grep -c '^sample ' "$T_DIR/pb")
[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ "$na" -eq 4 ] && [ "$nb" -eq 4 ] &&
  t_ok "two nts-poll --state at once: both exit 0 with 4 samples each ($secs s in all)" ||
  t_fail "two nts-poll --state at once: both exit 0 with 4 samples" "exit $ra/$rb, samples $na/$nb: $(head -c 300 "$T_DIR/pa.err") $(head -c 300 "$T_DIR/pb.err")"
# one round takes 3 x 0.4 s of spacing: run one after the other, 2.4 s at least
awk -v s="$secs" 'BEGIN { exit !(s >= 2.4) }' &&
  t_ok "two nts-poll --state at once: the rounds ran one after the other ($secs s >= 2.4 s)" ||
  t_fail "two nts-poll --state at once: the rounds ran one after the other" "$secs s for both"
cookies "$ST" >"$T_DIR/ck1"
left=$(grep -c -F -x -f "$T_DIR/ck0" "$T_DIR/ck1")
[ "$(grep -c . "$T_DIR/ck1")" -eq 8 ] && [ "$left" -eq 0 ] &&
  t_ok "two nts-poll --state at once: 8 cookies after, none of the 8 before (each cookie sent once, none lost)" ||
  t_fail "two nts-poll --state at once: 8 new cookies after" "$(grep -c . "$T_DIR/ck1") cookies, $left of them from before"
st=$(peer_chrony_serverstats "$T_DIR/c1" 2>/dev/null | awk -F: '/Authenticated NTP packets/ { gsub(/ /, "", $2); print $2 }')
echo "# chrony: ${st:-?} authenticated NTP packets so far"

# 2. nts-ke merges while a round is in progress
fresh_state || { t_fail "nts-ke --state (2)" "$(head -c 300 "$T_DIR/ke.err")"; exit 0; }
k1=$(c2s "$ST")
tp=$(now)
"$POLL" --state "$ST" --count 4 --spacing 0.6 --timeout 2 >"$T_DIR/p2" 2>"$T_DIR/p2.err" &
pp=$!
t_wait_flock "$ST.lock"
t0=$(now)
"$KE" --ca "$CA" --state "$ST" "$SRC" 2>"$T_DIR/ke2.err"
rk=$?
kw=$(since "$t0") kp=$(since "$tp")
wait $pp; rp=$?
k2=$(c2s "$ST")
[ $rk -eq 0 ] && [ $rp -eq 0 ] && t_ok "nts-ke during an nts-poll round: both exit 0 (nts-ke took $kw s)" ||
  t_fail "nts-ke during an nts-poll round: both exit 0" "nts-ke $rk: $(head -c 200 "$T_DIR/ke2.err"); nts-poll $rp: $(head -c 200 "$T_DIR/p2.err")"
# the round has 3 x 0.6 s of spacing: nts-ke cannot end before 1.8 s after nts-poll started
awk -v s="$kp" 'BEGIN { exit !(s >= 1.8) }' &&
  t_ok "nts-ke during an nts-poll round: the merge waited for the round (nts-ke took $kw s, ended $kp s after nts-poll started, the round's spacing alone is 1.8 s)" ||
  t_fail "nts-ke during an nts-poll round: the merge waited for the round" "nts-ke took $kw s and ended $kp s after nts-poll started"
[ -n "$k2" ] && [ "$k2" != "$k1" ] && [ "$(cookies "$ST" | grep -c .)" -eq 8 ] &&
  [ "$(grep -c '^session ' "$ST")" -eq 1 ] &&
  t_ok "nts-ke during an nts-poll round: the file holds nts-ke's new session (new keys, 8 cookies), not the round's old one" ||
  t_fail "nts-ke during an nts-poll round: nts-ke's session kept" "keys $( [ "$k2" = "$k1" ] && echo old || echo new), $(cookies "$ST" | grep -c .) cookies, $(grep -c '^session ' "$ST") sessions"

# 3. --interval: a merge between rounds is taken up by the next round
fresh_state || { t_fail "nts-ke --state (3)" "$(head -c 300 "$T_DIR/ke.err")"; exit 0; }
k1=$(c2s "$ST")
"$POLL" --state "$ST" --interval 1 --count 1 --timeout 2 >"$T_DIR/p3" 2>"$T_DIR/p3.err" &
pp=$!
i=0
until [ "$(grep -c '^sample ' "$T_DIR/p3")" -ge 1 ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
"$KE" --ca "$CA" --state "$ST" "$SRC" 2>"$T_DIR/ke3.err"
rk=$?
k2=$(c2s "$ST")
n0=$(grep -c '^sample ' "$T_DIR/p3")
sleep 3.5
kill -TERM $pp 2>/dev/null
wait $pp; rp=$?
n1=$(grep -c '^sample ' "$T_DIR/p3")
k3=$(c2s "$ST")
[ $rk -eq 0 ] && [ -n "$k2" ] && [ "$k2" != "$k1" ] && [ "$k3" = "$k2" ] && [ $rp -eq 0 ] &&
  [ "$n1" -ge $((n0 + 2)) ] && [ "$(cookies "$ST" | grep -c .)" -eq 8 ] &&
  t_ok "--interval: after nts-ke's merge, $((n1 - n0)) more rounds used the new session and the file still holds it (8 cookies)" ||
  t_fail "--interval: the rounds after nts-ke's merge use the new session" "nts-ke $rk, keys after merge $( [ "$k2" != "$k1" ] && echo new || echo old), at the end $( [ "$k3" = "$k2" ] && echo "nts-ke's" || echo "not nts-ke's"), nts-poll exit $rp, samples $n0 -> $n1, $(cookies "$ST" | grep -c .) cookies: $(tail -c 300 "$T_DIR/p3.err")"

# 4. a lock held by another program
[ "$(stat -c %a "$ST.lock" 2>/dev/null)" = 600 ] && t_ok "lock file $(basename "$ST").lock has mode 0600" ||
  t_fail "lock file mode 0600" "$(stat -c %a "$ST.lock" 2>&1)"
sum0=$(sha256sum <"$ST")
t_bg holder flock "$ST.lock" sleep 30
t_wait_flock "$ST.lock"
for tool in nts-poll nts-ke; do
  t0=$(now)
  if [ $tool = nts-poll ]; then
    "$POLL" --state "$ST" --lock-wait 0.5 --count 1 --timeout 2 >"$T_DIR/l.out" 2>"$T_DIR/l.err"
  else
    "$KE" --ca "$CA" --state "$ST" --lock-wait 0.5 "$SRC" >"$T_DIR/l.out" 2>"$T_DIR/l.err"
  fi
  rc=$?
  secs=$(since "$t0")
  [ $rc -eq 75 ] && awk -v s="$secs" 'BEGIN { exit !(s < 2) }' && grep -q "state.lock: another program holds the lock" "$T_DIR/l.err" &&
    [ "$(sha256sum <"$ST")" = "$sum0" ] && [ ! -s "$T_DIR/l.out" ] &&
    t_ok "$tool --lock-wait 0.5 with the lock held: exit 75 in $secs s, state unchanged; says: $(head -n 1 "$T_DIR/l.err")" ||
    t_fail "$tool --lock-wait 0.5 with the lock held: exit 75, state unchanged" "exit $rc in $secs s: $(head -c 300 "$T_DIR/l.err")"
done
"$POLL" --state "$ST" --count 1 --timeout 2 >/dev/null 2>"$T_DIR/t.err" &
pp=$!
# waiting: it has the lock file open (its SIGTERM handler is set before that)
i=0
until ls -l /proc/$pp/fd 2>/dev/null | grep -q 'state\.lock$' || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
t0=$(now)
kill -TERM $pp
wait $pp; rc=$?
secs=$(since "$t0")
[ $rc -eq 75 ] && awk -v s="$secs" 'BEGIN { exit !(s < 1) }' && [ "$(sha256sum <"$ST")" = "$sum0" ] &&
  t_ok "nts-poll waiting for the lock: SIGTERM ends it in $secs s (exit 75), state unchanged" ||
  t_fail "nts-poll waiting for the lock ends on SIGTERM" "exit $rc after $secs s: $(head -c 200 "$T_DIR/t.err")"
t_stop holder
t_bg holder2 flock "$ST.lock" sleep 1
t_wait_flock "$ST.lock"
t0=$(now)
"$POLL" --state "$ST" --lock-wait 10 --count 1 --timeout 2 >"$T_DIR/w.out" 2>"$T_DIR/w.err"
rc=$?
secs=$(since "$t0")
[ $rc -eq 0 ] && [ "$(grep -c '^sample ' "$T_DIR/w.out")" -eq 1 ] && awk -v s="$secs" 'BEGIN { exit !(s >= 0.3) }' &&
  t_ok "nts-poll --lock-wait 10, lock released after 1 s: waited $secs s, then 1 sample, exit 0" ||
  t_fail "nts-poll --lock-wait 10 waits for a lock released after 1 s" "exit $rc after $secs s: $(head -c 200 "$T_DIR/w.err")"
t_stop holder2
exit 0
