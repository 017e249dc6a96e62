#!/bin/sh
# A cookie that was sent is never sent again (RFC 8915 §6: a reused cookie
# links two requests), whatever ends nts-poll --state (nts-poll(1), SIGNALS
# AND THE STATE FILE), against a real chrony NTS server on loopback with a
# UDP man in the middle (tests/helpers/udp_mitm.py) that logs the cookie of
# every request and, in delay-SECONDS mode, holds the answers (a slow
# server, so that nts-poll can be stopped between or during its sends):
#  - nts-poll --state S | head -1: the reader goes away after one sample;
#    nts-poll ends on EPIPE (not killed by SIGPIPE), writes S, exits 0;
#  - SIGTERM between two sends: the round ends at once (no more sends),
#    S written; while the round runs, S already lacks the cookies it may
#    send (write-ahead);
#  - SIGINT to the whole process group (Ctrl-C): the same;
#  - SIGKILL while an answer is awaited: S was written before the send;
#  - after every run: no cookie was ever sent twice (all runs together) and
#    S holds none of the cookies sent; a last normal run uses S.
# Ports: 127.0.0.1:20976-20978.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll
NTP=20976 KEP=20977 MITM=20978

t_need_bins "$KE" "$POLL"
t_need_cmds python3
peer_chrony_test_server $NTP $KEP
MODE=$T_DIR/mode LOG=$T_DIR/mitm.log ST=$T_DIR/state
echo pass >"$MODE"
t_bg mitm python3 "$NTSKIT_TOP/tests/helpers/udp_mitm.py" mitm $MITM $NTP "$MODE"
t_wait_udp 127.0.0.1 $MITM 10 || { t_fail "mitm started" "$(tail -n 3 "$LOG")"; exit 0; }

# the state file's session points nts-poll at the man in the middle
"$KE" --ca "$T_DIR/pki/root.crt" --state "$ST" localhost:$KEP 2>"$T_DIR/ke.err"
sed -i "s/ ntp=[^ ]* / ntp=127.0.0.1:$MITM /" "$ST"
grep -q "^session .* ntp=127.0.0.1:$MITM " "$ST" || { t_fail "nts-ke session" "$(head -c 300 "$T_DIR/ke.err")"; exit 0; }

cookies() { sed -n 's/.* cookies=\([^ ]*\) .*/\1/p' "$1" | tr ',' '\n' | grep -v '^-$' | grep .; }
sent() { sed -n 's/.* cookie=//p' "$LOG"; }
nreq() { grep -c ' req ' "$LOG"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# wait_reqs N: until the man in the middle saw N requests in all (10 s at most)
wait_reqs() { _i=0; until [ "$(nreq)" -ge "$1" ] || [ $_i -ge 100 ]; do sleep 0.1; _i=$((_i + 1)); done; }
# state_clean FILE: none of the cookies sent so far is in FILE
state_clean() { sent >"$T_DIR/sent"; ! cookies "$1" | grep -qxF -f "$T_DIR/sent"; }
# check NAME: no cookie sent twice, none of those sent in the state file
check() {
  _s=$(sent | grep -c .) _d=$(sent | sort | uniq -d | grep -c .)
  _k=$(cookies "$ST" | grep -c .)
  sent >"$T_DIR/sent"
  _in=$(cookies "$ST" | grep -cxF -f "$T_DIR/sent")
  [ "$_s" -gt 0 ] && [ "$_d" -eq 0 ] && [ "$_in" -eq 0 ] &&
    t_ok "$1: no cookie sent twice ($_s sent so far), none of them in the state file ($_k cookies)" ||
    t_fail "$1: no cookie sent twice, none in the state file" "$_d of $_s sent cookies sent more than once, $_in of the state file's $_k were sent"
}
# mode 0600 and one session, after each run
state_ok() {
  [ "$(stat -c %a "$ST")" = 600 ] && [ "$(grep -c '^session ' "$ST")" -eq 1 ] && [ "$(grep -c . "$ST")" -eq 1 ]
}

# 1. the reader of stdout goes away after the first sample
echo pass >"$MODE"
{ "$POLL" --state "$ST" --count 4 --spacing 0.3 --timeout 2 2>"$T_DIR/p1.err"; echo $? >"$T_DIR/p1.rc"; } | head -n 1 >"$T_DIR/p1.out"
rc=$(cat "$T_DIR/p1.rc")
[ "$rc" -eq 0 ] && [ "$(grep -c '^sample ' "$T_DIR/p1.out")" -eq 1 ] && state_ok && [ "$(cookies "$ST" | grep -c .)" -eq 8 ] &&
  ! grep -q 'writing records' "$T_DIR/p1.err" &&
  t_ok "nts-poll --state | head -1: exit 0 (EPIPE is a clean end, not SIGPIPE), state file rewritten with 8 cookies, $(nreq) request(s) sent" ||
  t_fail "nts-poll --state | head -1: exit 0, state file written" "exit $rc, $(cookies "$ST" | grep -c .) cookies: $(head -c 300 "$T_DIR/p1.err")"
check "| head -1"

# 2. SIGTERM between two sends (2 s apart)
n0=$(nreq)
"$POLL" --state "$ST" --count 4 --spacing 2 --timeout 2 >"$T_DIR/p2.out" 2>"$T_DIR/p2.err" &
pp=$!
wait_reqs $((n0 + 1))
sleep 0.3
cp "$ST" "$T_DIR/mid"
state_clean "$T_DIR/mid" && [ "$(cookies "$T_DIR/mid" | grep -c .)" -eq 4 ] &&
  t_ok "during a round (--count 4): the state file already lacks the 4 cookies the round may send (write-ahead)" ||
  t_fail "during a round, the state file lacks the cookies the round may send" "$(cookies "$T_DIR/mid" | grep -c .) cookies in it, sent ones among them: $(state_clean "$T_DIR/mid" && echo no || echo yes)"
t0=$(now)
kill -TERM $pp
wait $pp; rc=$?
secs=$(since "$t0")
n1=$(nreq)
[ "$rc" -eq 0 ] && [ "$((n1 - n0))" -eq 1 ] && awk -v s="$secs" 'BEGIN { exit !(s < 1.9) }' && state_ok &&
  [ "$(grep -c '^sample ' "$T_DIR/p2.out")" -eq 1 ] &&
  t_ok "SIGTERM between two sends: no further send, ended $secs s later with exit 0 (the status of the round it cut short), 1 sample, state written" ||
  t_fail "SIGTERM between two sends ends the round at once" "exit $rc after $secs s, $((n1 - n0)) request(s): $(head -c 300 "$T_DIR/p2.err")"
# the 3 cookies not sent went back: 8 - 1 sent + 1 new
[ "$(cookies "$ST" | grep -c .)" -eq 8 ] && t_ok "SIGTERM: the cookies not sent are back in the state file (8)" ||
  t_fail "SIGTERM: the cookies not sent are back in the state file" "$(cookies "$ST" | grep -c .) cookies"
check "SIGTERM"

# 3. SIGINT to the process group, as Ctrl-C sends it (the children get it too)
n0=$(nreq)
setsid "$POLL" --state "$ST" --count 4 --spacing 2 --timeout 2 >"$T_DIR/p3.out" 2>"$T_DIR/p3.err" &
pp=$!
wait_reqs $((n0 + 1))
sleep 0.3
kill -INT -$pp
wait $pp; rc=$?
n1=$(nreq)
[ "$rc" -eq 0 ] && [ "$((n1 - n0))" -eq 1 ] && state_ok && [ "$(cookies "$ST" | grep -c .)" -eq 8 ] &&
  t_ok "SIGINT to the process group between two sends: exit 0, no further send, the cookies not sent kept (8)" ||
  t_fail "SIGINT to the process group between two sends" "exit $rc, $((n1 - n0)) request(s), $(cookies "$ST" | grep -c .) cookies: $(head -c 300 "$T_DIR/p3.err")"
check "SIGINT"

# 4. SIGKILL while the answer is awaited (the server answers after 1.5 s)
echo delay-1.5 >"$MODE"
n0=$(nreq)
"$POLL" --state "$ST" --count 4 --spacing 0 --timeout 3 >"$T_DIR/p4.out" 2>"$T_DIR/p4.err" &
pp=$!
wait_reqs $((n0 + 1))
kill -KILL $pp
wait $pp 2>/dev/null
# the child finishes the exchange in progress, then sees its parent gone;
# it holds the state file's lock until then
t_wait_flock "$ST.lock" 1
i=0; while grep -q "FLOCK .*:$(stat -c %i "$ST.lock") " /proc/locks && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
n1=$(nreq)
state_ok && [ "$((n1 - n0))" -eq 1 ] &&
  t_ok "SIGKILL while an answer is awaited: the orphaned poller sent nothing more ($((n1 - n0)) request), the state file is intact ($(cookies "$ST" | grep -c .) cookies)" ||
  t_fail "SIGKILL while an answer is awaited" "$((n1 - n0)) request(s), state: $(head -c 200 "$ST" | cut -c1-80)"
check "SIGKILL"

# 5. a normal run afterwards: uses what the state file holds, sends nothing twice
echo pass >"$MODE"
"$POLL" --state "$ST" --count 4 --spacing 0 --timeout 2 >"$T_DIR/p5.out" 2>"$T_DIR/p5.err"; rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -c '^sample ' "$T_DIR/p5.out")" -eq 4 ] && state_ok &&
  t_ok "a normal run afterwards: 4 samples, exit 0" ||
  t_fail "a normal run afterwards" "exit $rc: $(head -c 300 "$T_DIR/p5.err")"
check "all runs"
exit 0
