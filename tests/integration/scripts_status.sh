#!/bin/sh
# scripts/ntskit-status (ntskit-status(8)): the status view from the state
# files alone, fed with files as nts-sync writes them: one line per source
# with mark, verdict, offset, delay, error bar, sample age, samples, cookies,
# NTS-KE age and transport; the combined offset, frequency, last action,
# panic state and run status; STALE past 3 x interval + 60 s; --records in
# the record format; no secret from the session file; exit codes 64/65/66.
# No network, no ports.
. "$NTSKIT_TOP/tests/lib.sh"
ST=$NTSKIT_TOP/scripts/ntskit-status
D=$T_DIR/state; mkdir -p "$D"
now=$(date +%s)
# ages the view computes from its own clock: BASE seconds when the files were
# written, up to BASE + however long this machine took to get to the check
# (a loaded CI runner took 3 s once)
ages() { late=$(($(date +%s) - now)); a=$1; r=$1; while [ $a -lt $(($1 + late)) ]; do a=$((a + 1)); r="$r|$a"; done; echo "($r)"; }
cat >"$D/last" <<EOF
verdict t=$now.5 source=ptb verdict=selected samples=4 offset=+0.000120000 delay=0.031000000 disp=0.000100000 jitter=0.000001000 root-dist=0.016000000 stratum=1 leap=0 last=$((now - 14)).400000 via=socks5-udp
verdict t=$now.5 source=netnod verdict=falseticker samples=4 offset=+0.300000000 delay=0.012000000 disp=0.000100000 jitter=0.000001000 root-dist=0.007000000 stratum=1 leap=0 last=$((now - 3)).400000 via=tcp-relay
verdict t=$now.5 source=far verdict=distance samples=2 offset=+0.001000000 delay=0.900000000 disp=0.000100000 jitter=0.000001000 root-dist=2.000000000 stratum=1 leap=0 last=$((now - 3)).400000 via=socks5-udp
verdict t=$now.5 source=sidn verdict=no-answer samples=0
round t=$now.5 sources=3 candidates=2 agree=1 used=1 min-agree=1 result=offset
offset t=$now.5 offset=+0.000120000 error=0.016000000 sources=3 agree=1 used=ptb rejected=netnod:falseticker,far:distance leap=0 stratum=2 root-delay=0.031 root-disp=0.0001 refid=192.0.2.1
adjust t=$now.5 action=slew offset=+0.000120000 freq-ppm=-12.500000 reason=slew-pll
sync t=$now status=0 follow=1 interval=64 dry-run=0
EOF
SECRET=c2s=00112233445566778899aabbccddeeff
cat >"$D/sessions" <<EOF
session source=ptb ke=a.example:4460 ntp=a.example:123 aead=15 $SECRET s2c=ffeeddccbbaa99887766554433221100 cookies=SECRETAAA,SECRETBBB,SECRETCCC not-before=1735689600 not-after=2051222400 ke-at=$((now - 10800))
session source=sidn ke=s.example:4460 ntp=s.example:123 aead=15 $SECRET s2c=ffeeddccbbaa99887766554433221100 cookies=- not-before=1735689600 not-after=2051222400 ke-at=$((now - 200000))
session source=quiet ke=q.example:4460 ntp=q.example:123 aead=15 $SECRET s2c=ffeeddccbbaa99887766554433221100 cookies=SECRETDDD not-before=1735689600 not-after=2051222400 ke-at=$((now - 60))
EOF
chmod 600 "$D/sessions"
echo "adjust-state started=1 created=1700000000.000000 accumulated=0.500000000 freq-ppm=-12.500000 last-t=$now.500000 loop=3 loop-start=1700000000.000000 updates=5 steps=1" >"$D/adjust.state"

sh "$ST" --state-dir "$D" >"$T_DIR/out" 2>"$T_DIR/err"; rc=$?
[ $rc -eq 0 ] && t_ok "table: exit 0" || t_fail "table: exit 0" "exit $rc: $(cat "$T_DIR/err")"
t_grep "header: a follow round, interval, age" "$T_DIR/out" "^ntskit status from $D/last \\(round of nts-sync --follow, interval 64 s, [0-9]+s ago\\)\$"
t_grep "ptb: selected, offset, delay, error bar, age 14s, 4 samples, 3 cookies, NTS-KE 3h ago, socks5-udp" "$T_DIR/out" '^  \* ptb +selected +\+0\.000120000 +0\.031000000 +0\.016000000 +'"$(ages 14)"'s +4 +3 +3h +socks5-udp$'
t_grep "netnod: falseticker (x), over the TCP relay, no session: cookies -" "$T_DIR/out" '^  x netnod +falseticker +\+0\.300000000 +0\.012000000 +0\.007000000 +'"$(ages 3)"'s +4 +- +- +tcp-relay$'
t_grep "far: too far (~ distance)" "$T_DIR/out" '^  ~ far +distance +.* 2\.000000000 '
t_grep "sidn: no answer, 0 cookies, NTS-KE 2d ago" "$T_DIR/out" '^  \? sidn +no-answer +- +- +- +- +0 +0 +2d +-$'
t_grep "quiet: in the session file only: no-answer" "$T_DIR/out" '^  \? quiet +no-answer .* 1 +'"$(ages 60)"'s +-$'
t_grep "combined offset, error, agreement" "$T_DIR/out" '^Combined: +offset \+0\.000120000 s, error 0\.016000000 s, 1 of 3 sources agree, stratum 2, leap 0$'
t_grep "frequency" "$T_DIR/out" '^Frequency: +-12\.500000 ppm$'
t_grep "last action and reason" "$T_DIR/out" '^Last action: slew \(slew-pll\), measured offset \+0\.000120000 s$'
t_grep "panic state from the adjust state" "$T_DIR/out" '^Panic state: past startup, accumulated steps 0\.500000000 s over 1 step\(s\)$'
t_grep "run status" "$T_DIR/out" '^Last run: +status 0 \(ok\)$'
grep -q 'SECRET\|0011223344\|ffeedd' "$T_DIR/out" && t_fail "no secret from the session file" "printed" || t_ok "no secret from the session file"
awk 'NR > 2 && NF >= 10 && $3 ~ /^[a-z]/ && /^  [*x~?+-] / { n = index($0, " " $3 " "); if (p == "") p = n; else if (n != p) bad = 1 } END { exit bad }' "$T_DIR/out" &&
	t_ok "columns aligned (the verdict column starts at the same place on every line)" || t_fail "columns aligned" "$(cat "$T_DIR/out")"

# --records
sh "$ST" --state-dir "$D" --records >"$T_DIR/rec" 2>"$T_DIR/err"; rc=$?
[ $rc -eq 0 ] && t_ok "--records: exit 0" || t_fail "--records: exit 0" "exit $rc: $(cat "$T_DIR/err")"
t_grep "--records: status-source for ptb" "$T_DIR/rec" '^status-source source=ptb verdict=selected samples=4 offset=\+0\.000120000 delay=0\.031000000 root-dist=0\.016000000 age='"$(ages 14)"' cookies=3 ke-age='"$(ages 10800)"' via=socks5-udp$'
t_grep "--records: status-source for sidn, no filter values" "$T_DIR/rec" '^status-source source=sidn verdict=no-answer samples=0 cookies=0 ke-age=[0-9]+$'
t_grep "--records: status-system" "$T_DIR/rec" "^status-system t=$now age=[0-9]+ status=0 stale=0 offset=\\+0\\.000120000 error=0\\.016000000 agree=1 sources=3 stratum=2 leap=0 action=slew action-reason=slew-pll freq-ppm=-12\\.500000 started=1 accumulated=0\\.500000000 steps=1 panic=0 follow=1 interval=64 dry-run=0\$"
# the records are the project's: nts-select reads and passes them unchanged
if [ -x "$NTSKIT_BIN/nts-select" ]; then
	"$NTSKIT_BIN/nts-select" <"$T_DIR/rec" >"$T_DIR/back" 2>"$T_DIR/back.err"; rc=$?
	[ $rc -eq 4 ] && cmp -s "$T_DIR/rec" "$T_DIR/back" && t_ok "--records: valid records (read back by nts-select)" || t_fail "--records: valid records" "exit $rc: $(cat "$T_DIR/back.err")"
fi

# a refused step: PANIC; a failed, stale round: STALE and the reason
cat >"$D/last" <<EOF
verdict t=$now.5 source=ptb verdict=selected samples=4 offset=-2000.000000000 delay=0.031000000 disp=0.000100000 jitter=0.000001000 root-dist=0.016000000 stratum=1 leap=0 last=$now.400000 via=socks5-udp
offset t=$now.5 offset=-2000.000000000 error=0.016000000 sources=1 agree=1 used=ptb rejected=- leap=0 stratum=2 root-delay=0.031 root-disp=0.0001 refid=192.0.2.1
adjust t=$now.5 action=refused offset=-2000.000000000 freq-ppm=-12.500000 reason=panic-single
sync t=$now status=3 follow=1 interval=64 dry-run=0 reason=step-refused
EOF
sh "$ST" --state-dir "$D" >"$T_DIR/out" 2>&1
t_grep "refused step: PANIC in the panic state" "$T_DIR/out" '^Panic state: PANIC: step refused \(panic-single\)'
t_grep "refused step: run status names the reason" "$T_DIR/out" '^Last run: +status 3 \(step-refused\)$'
printf 'round t=%s.5 sources=2 candidates=2 agree=1 used=0 min-agree=3 result=too-few\nsync t=%s status=10 follow=1 interval=64 dry-run=0 reason=too-few-agree\n' $((now - 400)) $((now - 400)) >"$D/last"
sh "$ST" --state-dir "$D" >"$T_DIR/out" 2>&1
t_grep "stale round (400 s > 3 x 64 + 60): STALE in the header" "$T_DIR/out" 'STALE: older than 252 s'
t_grep "no offset: why, from the round record" "$T_DIR/out" '^Combined: +none \(too-few: 1 of 2 sources agree, min-agree 3\)$'
sh "$ST" --state-dir "$D" --records | grep -q '^status-system .* stale=1 ' && t_ok "--records: stale=1" || t_fail "--records: stale=1" "$(sh "$ST" --state-dir "$D" --records | tail -1)"

# an older one-shot file (samples and the offset record's lists, no verdicts)
cat >"$D/last" <<EOF
sample source=one ntp=192.0.2.1:123 t=$now.100000 offset=+0.000100000 delay=0.020000000 disp=0.000001000 stratum=1 leap=0 refid=PTB precision=-25 root-delay=0.000000 root-disp=0.000100 auth=nts aead=15 via=udp
offset t=$now.1 offset=+0.000100000 error=0.010000000 sources=2 agree=1 used=one rejected=two:falseticker leap=0 stratum=2 root-delay=0.02 root-disp=0.0001 refid=192.0.2.1
sync t=$now status=0 ke=- poll=0 select=0 adjust=0 dry-run=1
EOF
sh "$ST" --state-dir "$D" >"$T_DIR/out" 2>&1
t_grep "one-shot without verdicts: selected from used=" "$T_DIR/out" '^  \* one +selected +\+0\.000100000 +0\.020000000 '
t_grep "one-shot without verdicts: falseticker from rejected=" "$T_DIR/out" '^  x two +falseticker '
t_grep "one-shot: the header says so" "$T_DIR/out" '\(one-shot run, [0-9]+s ago, dry run\)$'

# errors: one line, documented exit codes
sh "$ST" --state-dir "$T_DIR/none" >/dev/null 2>"$T_DIR/err"; rc=$?
[ $rc -eq 66 ] && [ "$(grep -c . "$T_DIR/err")" -eq 1 ] && t_ok "no last-run file: exit 66, one line" || t_fail "no last-run file: exit 66, one line" "exit $rc: $(cat "$T_DIR/err")"
printf 'garbage  here\n' >"$D/last"
sh "$ST" --state-dir "$D" >/dev/null 2>"$T_DIR/err"; rc=$?
[ $rc -eq 65 ] && [ "$(grep -c . "$T_DIR/err")" -eq 1 ] && grep -q "last:1: not an ntskit record" "$T_DIR/err" && t_ok "garbage: exit 65, one line naming the line" || t_fail "garbage: exit 65, one line naming the line" "exit $rc: $(cat "$T_DIR/err")"
sh "$ST" --bogus >/dev/null 2>"$T_DIR/err"; rc=$?
[ $rc -eq 64 ] && [ "$(grep -c . "$T_DIR/err")" -eq 1 ] && t_ok "unknown option: exit 64, one line" || t_fail "unknown option: exit 64, one line" "exit $rc"
sh "$ST" --help | grep -q '^usage: ntskit-status' && t_ok "--help" || t_fail "--help" "no usage"
