#!/bin/sh
# nts-serve as an NTS-protected NTP server, without NTS-KE: a test helper
# (serve_mkcookie) mints sessions from nts-serve's cookie key file, and
# nts-poll gets authenticated samples. Key rotation (SIGUSR1, the test
# hook), the 7-key window, a restart with the same key file, two servers
# sharing one key file, NTSN for cookies nobody can open.
# Ports: 21010-21029.
. "$NTSKIT_TOP/tests/lib.sh"
SERVE=$NTSKIT_BIN/nts-serve POLL=$NTSKIT_BIN/nts-poll MK=$NTSKIT_HELPERS/serve_mkcookie
t_need_bins "$SERVE" "$POLL" "$MK"
P=21011 P2=21012
K=$T_DIR/cookie-keys
printf 'status t=%s stratum=2 refid=192.0.2.44 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"

start() { # NAME PORT
  t_bg "$1" "$SERVE" --listen "127.0.0.1:$2" --cookie-keys "$K" --status "$T_DIR/status"
  t_wait_udp 127.0.0.1 "$2" 5 || t_fail "$1-start" "$(cat "$T_DIR/$1.log")"
}
poll() { # SESSIONFILE OUT [COUNT]
  "$POLL" --count "${3:-2}" --spacing 0.1 --timeout 2 <"$1" >"$2" 2>"$2.err"
}
nsamples() { grep -c '^sample .* auth=nts' "$1"; }

start serve $P
if [ -f "$K" ] && [ "$(stat -c %a "$K")" = 600 ]; then t_ok "key-file-created-0600"; else t_fail "key-file-created-0600" "$(ls -l "$K" 2>&1)"; fi
t_grep "start-record-keys" "$T_DIR/serve.log" 'event=start .*key-id=[0-9a-f]{8} keys=1 cookie-keys=file status=read'

"$MK" "$K" 127.0.0.1:$P 15 >"$T_DIR/s15"
poll "$T_DIR/s15" "$T_DIR/o15"; rc=$?
if [ $rc = 0 ] && [ "$(nsamples "$T_DIR/o15")" = 2 ]; then t_ok "nts-aead15-authenticated-samples"
else t_fail "nts-aead15-authenticated-samples" "rc=$rc $(cat "$T_DIR/o15" "$T_DIR/o15.err" | head -5)"; fi
t_grep "nts-sample-carries-status" "$T_DIR/o15" '^sample .* stratum=2 leap=0 refid=192\.0\.2\.44 .*auth=nts aead=15'
"$MK" "$K" 127.0.0.1:$P 17 >"$T_DIR/s17"
poll "$T_DIR/s17" "$T_DIR/o17"; rc=$?
if [ $rc = 0 ] && [ "$(nsamples "$T_DIR/o17")" = 2 ]; then t_ok "nts-aead17-authenticated-samples"
else t_fail "nts-aead17-authenticated-samples" "rc=$rc $(cat "$T_DIR/o17" "$T_DIR/o17.err" | head -5)"; fi

# cookies nobody can open: NTS NAK (nts-poll exit 3: needs NTS-KE)
"$MK" - 127.0.0.1:$P 15 >"$T_DIR/sbad"
poll "$T_DIR/sbad" "$T_DIR/obad" 1; rc=$?
if [ $rc = 3 ] && grep -q NTSN "$T_DIR/obad.err"; then t_ok "unknown-cookie-gets-ntsn"
else t_fail "unknown-cookie-gets-ntsn" "rc=$rc $(head -3 "$T_DIR/obad.err")"; fi

# a second server sharing the key file accepts the first one's cookies
start serve2 $P2
sed "s/ntp=127.0.0.1:$P/ntp=127.0.0.1:$P2/" "$T_DIR/s15" >"$T_DIR/s15b"
poll "$T_DIR/s15b" "$T_DIR/o15b" 1; rc=$?
[ $rc = 0 ] && [ "$(nsamples "$T_DIR/o15b")" = 1 ] && t_ok "shared-key-file-second-server" \
  || t_fail "shared-key-file-second-server" "rc=$rc $(head -3 "$T_DIR/o15b.err")"

# rotation: the session minted before stays valid for 6 more rotations (7 kept)
"$MK" "$K" 127.0.0.1:$P 15 >"$T_DIR/sold"
# rotate N: one SIGUSR1, then wait (3 s at most) until N rotations are
# logged (written after the key file): two signals sent during one
# rotation would count as one
rotations() { grep -c 'event=key-rotation how=signal' "$T_DIR/serve.log"; }
rotate() {
  kill -USR1 "$(t_pid serve)"
  _i=0
  until [ "$(rotations)" -ge "$1" ] || [ $_i -ge 30 ]; do sleep 0.1; _i=$((_i + 1)); done
}
i=1
while [ $i -le 6 ]; do rotate $i; i=$((i + 1)); done
n=$(rotations)
[ "$n" = 6 ] && t_ok "sigusr1-rotation-logged" || t_fail "sigusr1-rotation-logged" "$n rotation records"
nk=$(grep -c '^cookie-key ' "$K")
[ "$nk" = 7 ] && t_ok "key-file-holds-7-keys" || t_fail "key-file-holds-7-keys" "$nk keys"
poll "$T_DIR/sold" "$T_DIR/oold" 1; rc=$?
[ $rc = 0 ] && [ "$(nsamples "$T_DIR/oold")" = 1 ] && t_ok "cookie-valid-within-window" \
  || t_fail "cookie-valid-within-window" "rc=$rc $(head -3 "$T_DIR/oold.err")"
# the second server follows the shared file (mtime checked every second)
i=0
until grep -q 'event=key-rotation how=reloaded-from-file .*keys=7' "$T_DIR/serve2.log" || [ $i -ge 50 ]; do
  sleep 0.1; i=$((i + 1))
done
t_grep "second-server-reloads-rotated-file" "$T_DIR/serve2.log" 'event=key-rotation how=reloaded-from-file .*keys=7'
"$MK" "$K" 127.0.0.1:$P2 15 >"$T_DIR/snew2"
poll "$T_DIR/snew2" "$T_DIR/onew2" 1; rc=$?
[ $rc = 0 ] && t_ok "second-server-accepts-new-key" || t_fail "second-server-accepts-new-key" "rc=$rc $(head -3 "$T_DIR/onew2.err")"
# the 7th rotation retires the session's key: NTSN
rotate 7
poll "$T_DIR/sold" "$T_DIR/oold2" 1; rc=$?
if [ $rc = 3 ] && grep -q NTSN "$T_DIR/oold2.err"; then t_ok "cookie-ntsn-after-window"
else t_fail "cookie-ntsn-after-window" "rc=$rc $(head -3 "$T_DIR/oold2.err")"; fi

# restart with the same key file: cookies minted before stay valid
"$MK" "$K" 127.0.0.1:$P 15 >"$T_DIR/spre"
t_stop serve
t_grep "stop-record-nts-count" "$T_DIR/serve.log" 'event=stop .* nts=[1-9][0-9]* ntsn=[1-9]'
# never amplify: bytes out <= bytes in over the whole run
awk '/event=stop/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  exit !(v["udp-bytes-out"] + 0 <= v["udp-bytes-in"] + 0 && v["udp-bytes-in"] > 0) }' "$T_DIR/serve.log" \
  && t_ok "udp-bytes-out-le-in" || t_fail "udp-bytes-out-le-in" "$(grep event=stop "$T_DIR/serve.log")"
mv "$T_DIR/serve.log" "$T_DIR/serve-1.log"
start serve $P
poll "$T_DIR/spre" "$T_DIR/opre" 2; rc=$?
[ $rc = 0 ] && [ "$(nsamples "$T_DIR/opre")" = 2 ] && t_ok "restart-keeps-cookies-valid" \
  || t_fail "restart-keeps-cookies-valid" "rc=$rc $(head -3 "$T_DIR/opre.err")"

# nts-poll --state: the new cookies nts-serve hands out work in turn
"$MK" "$K" 127.0.0.1:$P 15 1 >"$T_DIR/state"; chmod 600 "$T_DIR/state"
"$POLL" --state "$T_DIR/state" --count 3 --spacing 0.1 >"$T_DIR/ostate" 2>"$T_DIR/ostate.err"; rc=$?
[ $rc = 0 ] && [ "$(nsamples "$T_DIR/ostate")" = 3 ] && t_ok "fresh-cookies-from-server-work" \
  || t_fail "fresh-cookies-from-server-work" "rc=$rc $(head -3 "$T_DIR/ostate.err")"

# a key file readable by others is refused (exit 6)
chmod 644 "$K"
"$SERVE" --listen 127.0.0.1:21013 --cookie-keys "$K" 2>"$T_DIR/perm.err"; rc=$?
[ $rc = 6 ] && grep -q 0600 "$T_DIR/perm.err" && t_ok "key-file-mode-checked-exit-6" \
  || t_fail "key-file-mode-checked-exit-6" "rc=$rc $(cat "$T_DIR/perm.err")"
chmod 600 "$K"
t_stop serve; t_stop serve2
# sanitizer reports from nts-serve (ASan/UBSan builds) fail the test
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.log >/dev/null 2>&1; then
  t_fail "no-sanitizer-reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.log | head -3)"
else t_ok "no-sanitizer-reports"; fi
