#!/bin/sh
# nts-poll under attack: a UDP man-in-the-middle (tests/helpers/udp_mitm.py)
# between nts-poll and a chrony NTS server changes packets; no sample may ever
# come from a bad packet, and each rejection is named on stderr (REQ-002):
#   flipped bit in the header / the authenticator / the encrypted cookies /
#   the request's cookie (server NTSN); a replayed earlier response; another
#   Unique Identifier; no authenticator; an unauthenticated field after the
#   authenticator; forged KoD RATE, DENY, RSTR, NTSN. A forged NTSN does not
#   destroy the cookie jar (the state file keeps its cookies).
# Ports: 127.0.0.1:20840-20849.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll
NTP=20840 KEP=20841 MITM=20842

t_need_bins "$KE" "$POLL"
t_need_cmds python3
peer_chrony_test_server $NTP $KEP
MODE=$T_DIR/mode
echo pass >"$MODE"
t_bg mitm python3 "$NTSKIT_TOP/tests/helpers/udp_mitm.py" mitm $MITM $NTP "$MODE"
t_wait_udp 127.0.0.1 $MITM 10 || { t_fail "mitm started" "$(tail -n 3 "$T_DIR/mitm.log")"; exit 0; }

# the session points nts-poll at the man in the middle
"$KE" --ca "$T_DIR/pki/root.crt" localhost:$KEP 2>"$T_DIR/ke.err" |
  sed "s/ ntp=[^ ]* / ntp=127.0.0.1:$MITM /" >"$T_DIR/base"
grep -q '^session ' "$T_DIR/base" || { t_fail "nts-ke session" "$(head -c 300 "$T_DIR/ke.err")"; exit 0; }
cookies() { sed -n 's/.* cookies=\([^ ]*\) .*/\1/p' "$1" | tr ',' '\n' | grep -c .; }

# run MODE COUNT: nts-poll with a fresh copy of the session as state file;
# output in $T_DIR/MODE.{out,err,state}, exit status in $rc
run() {
  echo "$1" >"$MODE"
  cp "$T_DIR/base" "$T_DIR/$1.state"
  "$POLL" --state "$T_DIR/$1.state" --count "$2" --spacing 0 --timeout 0.8 >"$T_DIR/$1.out" 2>"$T_DIR/$1.err"
  rc=$?
  samples=$(grep -c '^sample ' "$T_DIR/$1.out")
}

# case NAME MODE REASON-REGEX [EXPECTED-EXIT]: no sample, the reason on stderr
case_bad() {
  run "$2" 2
  _why="exit $rc, $samples samples, stderr: $(head -c 300 "$T_DIR/$2.err" | tr '\n' '|')"
  if [ "$samples" -eq 0 ] && grep -Eq -- "$3" "$T_DIR/$2.err" && [ "$rc" -eq "${4:-2}" ]; then
    t_ok "$1: no sample, rejected ($3)"
  else
    t_fail "$1: no sample, rejected ($3)" "$_why"
  fi
}

run pass 2
[ "$samples" -eq 2 ] && [ $rc -eq 0 ] && t_ok "untouched path through the mitm: 2 samples" ||
  t_fail "untouched path through the mitm: 2 samples" "exit $rc, $samples samples: $(head -c 300 "$T_DIR/pass.err")"

case_bad "flipped bit in the header"          flip-hdr    'rejected a response \(auth-failed\)'
case_bad "flipped bit in the authenticator"   flip-auth   'rejected a response \(auth-failed\)'
case_bad "flipped bit in the encrypted cookies" flip-enc  'rejected a response \(auth-failed\)'
case_bad "flipped bit in the request's cookie" flip-cookie 'Kiss-o..Death NTSN' 3
case_bad "another Unique Identifier"          uid         'rejected a response \(uid-mismatch\)'
case_bad "no authenticator"                   noauth      'rejected a response \(no-authenticator\)'
case_bad "unauthenticated field after the authenticator" trailing 'rejected a response \(unauthenticated-trailing-field\)'
case_bad "forged KoD RATE"                    kod-rate    'unauthenticated Kiss-o..Death RATE.*'
grep -q 'RATE (unauthenticated): backing off' "$T_DIR/kod-rate.err" && t_ok "forged KoD RATE: backs off this round" || t_fail "forged KoD RATE: backs off this round" "$(head -c 300 "$T_DIR/kod-rate.err")"
[ "$(grep -c 'kod-rate req' "$T_DIR/mitm.log")" -eq 1 ] && t_ok "forged KoD RATE: no second request" || t_fail "forged KoD RATE: no second request" "$(grep -c 'kod-rate req' "$T_DIR/mitm.log") requests"
case_bad "forged KoD DENY"                    kod-deny    'unauthenticated Kiss-o..Death DENY: no more polls this round'
case_bad "forged KoD RSTR"                    kod-rstr    'unauthenticated Kiss-o..Death RSTR'
case_bad "forged KoD NTSN"                    kod-ntsn    'Kiss-o..Death NTSN \(unauthenticated\)' 3
n=$(cookies "$T_DIR/kod-ntsn.state")
[ "$n" -eq 7 ] && t_ok "forged KoD NTSN: the jar keeps its 7 other cookies" || t_fail "forged KoD NTSN: the jar keeps its 7 other cookies" "$n cookies in the state file"
grep -q ' c2s=' "$T_DIR/kod-ntsn.state" && t_ok "forged KoD NTSN: the session stays in the state file" || t_fail "forged KoD NTSN: the session stays in the state file" "no session"

# a forged NTSN followed by the genuine answer: the genuine one wins
run kod-ntsn-then-real 2
[ "$samples" -eq 2 ] && [ $rc -eq 0 ] && t_ok "forged NTSN, then the real answer: 2 samples, exit 0" ||
  t_fail "forged NTSN, then the real answer: 2 samples, exit 0" "exit $rc, $samples samples: $(head -c 300 "$T_DIR/kod-ntsn-then-real.err")"
[ "$(cookies "$T_DIR/kod-ntsn-then-real.state")" -eq 8 ] && t_ok "forged NTSN, then the real answer: jar full again" || t_fail "forged NTSN, then the real answer: jar full again" "$(cookies "$T_DIR/kod-ntsn-then-real.state") cookies"

# replay: the first answer is genuine, the later ones are that answer again
run replay 3
[ "$samples" -eq 1 ] && t_ok "replayed response: only the first (genuine) answer gives a sample" || t_fail "replayed response: only the first (genuine) answer gives a sample" "$samples samples"
n=$(grep -c 'rejected a response (origin-mismatch)' "$T_DIR/replay.err")
[ "$n" -eq 2 ] && t_ok "replayed response: both replays rejected (origin-mismatch)" || t_fail "replayed response: both replays rejected (origin-mismatch)" "$n: $(head -c 300 "$T_DIR/replay.err")"

# every rejection line names the source
if grep -h 'rejected' "$T_DIR"/*.err | grep -qv "^nts-poll: localhost_$KEP: "; then
  t_fail "every rejection names the source" "$(grep -h rejected "$T_DIR"/*.err | grep -v "^nts-poll: localhost_$KEP: " | head -n 1)"
else
  t_ok "every rejection names the source"
fi
# and no sample anywhere carries a value from a bad packet: all bad runs are empty
bad=0
for m in flip-hdr flip-auth flip-enc flip-cookie uid noauth trailing kod-rate kod-deny kod-rstr kod-ntsn; do
  [ -s "$T_DIR/$m.out" ] && bad=$((bad + 1))
done
[ $bad -eq 0 ] && t_ok "no output at all from the 11 tampered runs" || t_fail "no output at all from the 11 tampered runs" "$bad runs wrote something"
exit 0
