#!/bin/sh
# Every tool started with stdin, stdout or stderr closed opens /dev/null on
# them first (nk_stdfds_open), so that no state file, lock, temporary file
# or socket it opens later becomes fd 0, 1 or 2 (which once put sample
# records into the state file itself, or into its lock file):
#  - nts-poll --state S >&- 2>&-, and with stdout alone closed: S holds
#    only its session record, S.lock stays empty, exit 0;
#  - nts-ke --state S >&- 2>&-: S holds the new session only, S.lock empty;
#  - nts-select and nts-adjust (--stream, --state, --status, under the
#    virtual clock) with stdout and stderr closed: exit 0, the state and
#    status files hold only their record;
#  - nts-serve started with fds 0-2 closed: they are /dev/null, its sockets
#    are elsewhere.
# Against a real chrony NTS server on loopback. Ports: 127.0.0.1:20981-20983.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll SEL=$NTSKIT_BIN/nts-select
ADJ=$NTSKIT_BIN/nts-adjust SERVE=$NTSKIT_BIN/nts-serve
NTP=20981 KEP=20982 SP=20983

t_need_bins "$KE" "$POLL" "$SEL" "$ADJ" "$SERVE"
peer_chrony_test_server $NTP $KEP
CA=$T_DIR/pki/root.crt
ST=$T_DIR/state

# only_session FILE: one line, a session record
only_session() { [ "$(grep -c . "$1")" -eq 1 ] && [ "$(grep -c '^session ' "$1")" -eq 1 ]; }
# lock_empty FILE: FILE.lock exists and is empty
lock_empty() { [ -e "$1.lock" ] && [ ! -s "$1.lock" ]; }

# nts-ke with stdout and stderr closed
"$KE" --ca "$CA" --state "$ST" localhost:$KEP >&- 2>&-; rc=$?
[ $rc -eq 0 ] && only_session "$ST" && lock_empty "$ST" &&
  t_ok "nts-ke --state S >&- 2>&-: exit 0, S holds the session only, S.lock empty" ||
  t_fail "nts-ke --state S >&- 2>&-" "exit $rc, S: $(grep -c . "$ST" 2>&1) line(s), S.lock $(wc -c <"$ST.lock" 2>&1) bytes"

# nts-poll with stdout and stderr closed, then stdout alone
"$POLL" --state "$ST" --count 2 --spacing 0 --timeout 2 >&- 2>&-; rc=$?
[ $rc -eq 0 ] && only_session "$ST" && lock_empty "$ST" &&
  t_ok "nts-poll --state S >&- 2>&-: exit 0, S holds the session only, S.lock empty" ||
  t_fail "nts-poll --state S >&- 2>&-" "exit $rc, S: $(grep -vc '^session ' "$ST" 2>&1) other line(s), S.lock $(wc -c <"$ST.lock" 2>&1) bytes"
"$POLL" --state "$ST" --count 2 --spacing 0 --timeout 2 >&- 2>"$T_DIR/p2.err"; rc=$?
[ $rc -eq 0 ] && only_session "$ST" && lock_empty "$ST" && [ ! -s "$T_DIR/p2.err" ] &&
  t_ok "nts-poll --state S >&-: exit 0, S holds the session only, S.lock empty" ||
  t_fail "nts-poll --state S >&-" "exit $rc, S: $(grep -vc '^session ' "$ST" 2>&1) other line(s), S.lock $(wc -c <"$ST.lock" 2>&1) bytes: $(head -c 200 "$T_DIR/p2.err")"
# the samples still flow when stdout is open (for nts-select below)
# (source names with a port are not nts-select's: rename it)
"$POLL" --state "$ST" --count 2 --spacing 0 --timeout 2 2>/dev/null </dev/null |
  sed 's/ source=[^ ]* / source=one /' >"$T_DIR/samples"
# stdin closed too: nts-poll without --state reads no session from it
"$POLL" --count 1 <&- >"$T_DIR/p3.out" 2>"$T_DIR/p3.err"; rc=$?
[ $rc -eq 2 ] && grep -q 'no session records on stdin' "$T_DIR/p3.err" &&
  t_ok "nts-poll <&-: stdin is /dev/null: no session, exit 2" ||
  t_fail "nts-poll <&-" "exit $rc: $(head -c 200 "$T_DIR/p3.err")"

# nts-select with stdout and stderr closed
"$SEL" --min-agree 1 <"$T_DIR/samples" >&- 2>&-; rc=$?
[ $rc -eq 0 ] && grep -q '^sample ' "$T_DIR/samples" && t_ok "nts-select >&- 2>&-: exit 0 (records go to /dev/null)" ||
  t_fail "nts-select >&- 2>&-: exit 0" "exit $rc"

# nts-adjust under the virtual clock, stdout and stderr closed
SHIM=$NTSKIT_HELPERS/vclock_shim.so
if [ -f "$SHIM" ]; then
  VC=$T_DIR/vclock
  echo "now=1700000000.000000000 freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >"$VC"
  export NTSKIT_VCLOCK_LOG="$T_DIR/vclock.log"
  DROP=
  t_is_root && command -v capsh >/dev/null 2>&1 && DROP="capsh --drop=cap_sys_time --"
  { echo "offset t=1700000000.1 offset=+0.3 error=0.01 sources=1 agree=1 used=a rejected=- leap=0 stratum=2 root-delay=0.01 root-disp=0.001 refid=a"
    echo "offset t=1700000064.1 offset=-0.0064 error=0.01 sources=1 agree=1 used=a rejected=- leap=0 stratum=2 root-delay=0.01 root-disp=0.001 refid=a"; } >"$T_DIR/offsets"
  AS=$T_DIR/adjust.state SF=$T_DIR/status
  if [ -n "$DROP" ]; then
    NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM $DROP -c '"$0" "$@" >&- 2>&-' "$ADJ" --stream --state "$AS" --status "$SF" <"$T_DIR/offsets"
  else
    NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM "$ADJ" --stream --state "$AS" --status "$SF" <"$T_DIR/offsets" >&- 2>&-
  fi
  rc=$?
  [ $rc -eq 0 ] && [ "$(grep -c . "$AS")" -eq 1 ] && grep -q '^adjust-state ' "$AS" &&
    [ "$(grep -c . "$SF")" -eq 1 ] && grep -q '^status ' "$SF" &&
    t_ok "nts-adjust --stream --state --status >&- 2>&-: exit 0, state and status files hold one record each" ||
    t_fail "nts-adjust >&- 2>&-" "exit $rc, state: $(tr '\n' '|' <"$AS" 2>&1 | head -c 200), status: $(tr '\n' '|' <"$SF" 2>&1 | head -c 200)"
else
  t_skip "vclock_shim.so not built: nts-adjust not tested"
fi

# nts-serve started with fds 0, 1 and 2 closed
PUB=$(mktemp -d /tmp/ntskit-state-fds.XXXXXX); chmod 755 "$PUB"
trap 't_cleanup; rm -rf "$PUB"' EXIT
printf 'status t=%s stratum=3 refid=192.0.2.7 root-delay=0.012000000 root-disp=0.003000000 leap=0 error=0.001 offset=+0.000010000 freq-ppm=+1.000000 action=slew\n' \
  "$(date +%s)" >"$PUB/status"
chmod 644 "$PUB/status"
U=
t_is_root && U="--user nobody"
t_bg serve sh -c 'exec "$0" "$@" <&- >&- 2>&-' "$SERVE" --listen 127.0.0.1:$SP --status "$PUB/status" $U
if t_wait_udp 127.0.0.1 $SP 5; then
  sp=$(t_pid serve) bad=
  for fd in 0 1 2; do
    [ "$(readlink "/proc/$sp/fd/$fd")" = /dev/null ] || bad="$bad fd $fd -> $(readlink "/proc/$sp/fd/$fd")"
  done
  [ -z "$bad" ] && t_ok "nts-serve started with fds 0-2 closed: they are /dev/null, its sockets are elsewhere" ||
    t_fail "nts-serve with fds 0-2 closed" "$bad"
else
  t_fail "nts-serve with fds 0-2 closed starts" "not listening on $SP/udp"
fi
t_stop serve
exit 0
