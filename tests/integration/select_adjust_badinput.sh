#!/bin/sh
# Bad input to nts-select and nts-adjust: every malformed record line,
# missing field, non-numeric value, NaN/inf where not allowed -> exactly one
# error line naming the line and the field, the documented exit code, no
# output record, and for nts-adjust no clock call at all (vclock shim log
# empty; nts-adjust also runs without CAP_SYS_TIME when we are root).
. "$NTSKIT_TOP/tests/lib.sh"

SEL=$NTSKIT_BIN/nts-select
ADJ=$NTSKIT_BIN/nts-adjust
SHIM=$NTSKIT_HELPERS/vclock_shim.so
VC=$T_DIR/vclock
LOG=$T_DIR/vclock.log
export NTSKIT_VCLOCK_LOG="$LOG"
[ -x "$SEL" ] && [ -x "$ADJ" ] || { t_skip "nts-select/nts-adjust not built"; exit 0; }
[ -f "$SHIM" ] || { t_skip "vclock_shim.so not built"; exit 0; }
DROP=
if t_is_root; then
	command -v capsh >/dev/null 2>&1 || { t_skip "capsh needed to drop CAP_SYS_TIME"; exit 0; }
	DROP="capsh --drop=cap_sys_time --"
fi
IN=$T_DIR/in OUT=$T_DIR/out ERR=$T_DIR/err

GOOD_S='sample source=a ntp=192.0.2.1:123 t=1700000000.5 offset=+0.0001 delay=0.02 disp=0.0001 stratum=2 leap=0 refid=PTB root-delay=0.01 root-disp=0.001 auth=nts via=udp'
GOOD_O='offset t=1700000000.5 offset=+0.0001 error=0.01 sources=3 agree=3 used=a,b,c rejected=- leap=0 stratum=2 root-delay=0.01 root-disp=0.001 refid=192.0.2.1'

run_sel() { "$SEL" "$@" <"$IN" >"$OUT" 2>"$ERR"; }
run_adj() {
	echo "now=1700000000.000000000 freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >"$VC"
	: >"$LOG"
	if [ -n "$DROP" ]; then
		NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM $DROP -c '"$0" "$@"' "$ADJ" "$@" <"$IN" >"$OUT" 2>"$ERR"
	else
		NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM "$ADJ" "$@" <"$IN" >"$OUT" 2>"$ERR"
	fi
}

# check NAME RC WANT_RC PATTERN [adj]: one stderr line matching PATTERN,
# no offset/adjust record on stdout, (adj) empty shim log
check() {
	n=$1 rc=$2 want=$3 pat=$4
	lines=$(grep -c . "$ERR")
	if [ "$rc" -ne "$want" ]; then t_fail "$n" "exit $rc, wanted $want: $(head -c 200 "$ERR" | tr '\n' '|')"; return; fi
	if [ "$lines" -ne 1 ]; then t_fail "$n" "$lines error lines: $(head -c 300 "$ERR" | tr '\n' '|')"; return; fi
	if ! grep -Eq -- "$pat" "$ERR"; then t_fail "$n" "error line does not match /$pat/: $(cat "$ERR")"; return; fi
	if grep -Eq '^(offset|adjust) ' "$OUT"; then t_fail "$n" "a record was written"; return; fi
	if [ "${5:-}" = adj ] && [ -s "$LOG" ]; then t_fail "$n" "clock call made: $(head -c 200 "$LOG")"; return; fi
	t_ok "$n"
}

# the good lines work (so the failures below are about the one change)
printf '%s\n' "$GOOD_S" >"$IN"; run_sel; rc=$?
[ $rc -eq 0 ] && grep -q '^offset ' "$OUT" && t_ok "nts-select: the good sample gives an offset" || t_fail "nts-select: the good sample gives an offset" "rc=$rc $(cat "$ERR")"
printf '%s\n' "$GOOD_O" >"$IN"; run_adj; rc=$?
[ $rc -eq 0 ] && grep -q '^adjust ' "$OUT" && t_ok "nts-adjust: the good offset is applied" || t_fail "nts-adjust: the good offset is applied" "rc=$rc $(cat "$ERR")"

# sel_case NAME SED-EXPR PATTERN : the good sample changed by SED-EXPR, on line 2
sel_case() {
	{ echo "# a comment first"; printf '%s\n' "$GOOD_S" | sed "$2"; } >"$IN"
	run_sel; check "nts-select: $1" $? 65 "$3"
}
adj_case() {
	{ echo "# a comment first"; printf '%s\n' "$GOOD_O" | sed "$2"; } >"$IN"
	run_adj; check "nts-adjust: $1" $? 65 "$3" adj
}

for f in source t offset delay disp stratum leap root-delay root-disp auth; do
	sel_case "missing $f" "s/ $f=[^ ]*//" "stdin:2: field '$f': missing"
done
for f in t offset delay disp root-delay root-disp; do
	for v in abc nan NaN inf -inf +inf 1e5 0x10 1.5.2 . - 1,5 ''; do
		sel_case "$f=$v" "s/ $f=[^ ]*/ $f=$v/" "stdin:2: field '$f'|stdin:2: .*empty"
	done
done
for f in stratum leap; do
	for v in abc -1 1.5 nan inf 99999999999999999999999; do
		sel_case "$f=$v" "s/ $f=[^ ]*/ $f=$v/" "stdin:2: field '$f'"
	done
done
sel_case "leap=4" "s/ leap=0/ leap=4/" "stdin:2: field 'leap'"
sel_case "stratum=256" "s/ stratum=2/ stratum=256/" "stdin:2: field 'stratum'"
sel_case "negative disp" "s/ disp=[^ ]*/ disp=-0.1/" "stdin:2: field 'disp'"
sel_case "negative root-delay" "s/ root-delay=[^ ]*/ root-delay=-1/" "stdin:2: field 'root-delay'"
sel_case "offset out of range" "s/ offset=[^ ]*/ offset=99999999999/" "stdin:2: field 'offset'"
sel_case "t out of range" "s/ t=[^ ]*/ t=999999999999999/" "stdin:2: field 't'"
sel_case "source with a comma" "s/ source=a/ source=a,b/" "stdin:2: field 'source'"
sel_case "source with a colon" "s/ source=a/ source=a:b/" "stdin:2: field 'source'"
sel_case "bad not-before" "s/\$/ not-before=x not-after=1800000000/" "stdin:2: field 'not-before'"
sel_case "not-after without not-before" "s/\$/ not-after=1800000000/" "stdin:2: field 'not-before'"
sel_case "field without =" "s/ delay=0.02/ delay/" "stdin:2: .*(=|delay)"
sel_case "two spaces" "s/ delay=/  delay=/" "stdin:2: "
sel_case "trailing space" "s/\$/ /" "stdin:2: "
sel_case "tab in a value" "s/ delay=0.02/ delay=0.0\t2/" "stdin:2: "
sel_case "invalid UTF-8" "s/ refid=PTB/ refid=P\xffB/" "stdin:2: "
sel_case "empty key" "s/ delay=/ =/" "stdin:2: "
{ echo "$GOOD_S"; printf 'sample source=b t='; head -c 70000 /dev/zero | tr '\0' '1'; echo; } >"$IN"
run_sel; check "nts-select: line over 64 KiB" $? 65 "stdin:2: "
{ echo "$GOOD_S"; echo "session source=a not-before=abc not-after=1"; } >"$IN"
run_sel; check "nts-select: session with a bad not-before" $? 65 "stdin:2: field 'not-before'"

for f in t offset error leap stratum root-delay root-disp refid; do
	adj_case "missing $f" "s/ $f=[^ ]*//" "stdin:2: field '$f': missing"
done
for f in t offset error root-delay root-disp; do
	for v in abc nan NaN inf -inf +inf 1e5 0x10 1.5.2 ''; do
		adj_case "$f=$v" "s/ $f=[^ ]*/ $f=$v/" "stdin:2: field '$f'|stdin:2: .*empty"
	done
done
for f in leap stratum; do
	for v in abc -1 1.5 nan inf; do
		adj_case "$f=$v" "s/ $f=[^ ]*/ $f=$v/" "stdin:2: field '$f'"
	done
done
adj_case "leap=4" "s/ leap=0/ leap=4/" "stdin:2: field 'leap'"
adj_case "stratum=17" "s/ stratum=2/ stratum=17/" "stdin:2: field 'stratum'"
adj_case "negative error" "s/ error=[^ ]*/ error=-0.01/" "stdin:2: field 'error'"
adj_case "offset out of range" "s/ offset=[^ ]*/ offset=-99999999999/" "stdin:2: field 'offset'"
adj_case "field without =" "s/ error=0.01/ error/" "stdin:2: "
adj_case "two spaces" "s/ error=/  error=/" "stdin:2: "
adj_case "invalid UTF-8" "s/ refid=/ refid=\xfe/" "stdin:2: "
# a bad record after a good one: the one-shot run changes nothing
{ echo "$GOOD_O"; printf '%s\n' "$GOOD_O" | sed 's/ offset=[^ ]*/ offset=nan/'; } >"$IN"
run_adj; check "nts-adjust: good record then a bad one: nothing applied" $? 65 "stdin:2: field 'offset'" adj

# state file, usage and config errors
ST=$T_DIR/state
printf '%s\n' "$GOOD_O" >"$IN"
# A state file that cannot be parsed (issue 14: it used to give exit 6 on
# every run until a human removed it): moved aside to FILE.bad-UNIXTIME, one
# stderr line naming the file and the field, the run is a startup run (the
# offset is applied under the startup thresholds, see adjust_vclock.sh), and
# a new state file is written.
# check_moved NAME RC PATTERN
check_moved() {
	n=$1 rc=$2 pat=$3
	b=$(ls "$ST".bad-* 2>/dev/null | head -n 1)
	if [ "$rc" -ne 0 ]; then t_fail "$n" "exit $rc, wanted 0: $(head -c 200 "$ERR" | tr '\n' '|')"; return; fi
	if [ "$(grep -c . "$ERR")" -ne 1 ]; then t_fail "$n" "$(grep -c . "$ERR") error lines: $(head -c 300 "$ERR" | tr '\n' '|')"; return; fi
	if ! grep -Eq -- "state file $ST cannot be parsed \($ST:1: $pat.*moved aside to $ST\.bad-[0-9]+; treated as never synchronised \(startup thresholds\)" "$ERR"; then
		t_fail "$n" "error line does not match /$pat/ and say where it went: $(cat "$ERR")"; return; fi
	if [ -z "$b" ] || [ "$(stat -c %a "$b")" != 600 ]; then t_fail "$n" "not moved aside with mode 0600: $(ls -l "$ST"* | tr '\n' '|')"; return; fi
	if ! grep -Eq '^adjust .*action=slew .*reason=slew$' "$OUT"; then t_fail "$n" "no startup slew: $(head -c 200 "$OUT")"; return; fi
	if ! grep -q '^adjust-state started=1 ' "$ST"; then t_fail "$n" "no new state file"; return; fi
	rm -f "$ST".bad-*
	t_ok "$n"
}
echo "adjust-state started=1 created=1 accumulated=abc freq-ppm=+0 last-t=1 loop=1 updates=1 steps=0" >"$ST"
run_adj --state "$ST"; check_moved "nts-adjust: malformed state file: moved aside, startup run" $? "field 'accumulated'"
echo "something else" >"$ST"
run_adj --state "$ST"; check_moved "nts-adjust: state file of another kind: moved aside, startup run" $? "field 1 'else'"
echo "adjust-state started=1 created=1 accumulated=0 freq-ppm=+900 last-t=1 loop=1 updates=1 steps=0" >"$ST"
run_adj --state "$ST"; check_moved "nts-adjust: state file frequency out of range: moved aside, startup run" $? "field 'freq-ppm'"
# a state file that cannot be read at all (a directory): exit 6, nothing done
rm -f "$ST"; mkdir "$ST"
run_adj --state "$ST"; check "nts-adjust: state file that cannot be read" $? 6 "state file $ST: " adj
rmdir "$ST"
for a in "--panic-single abc" "--panic-single -1" "--panic-single nan" "--step-threshold inf" "--panic-accumulated" "--bogus" "--panic-startup-forward 1x"; do
	run_adj $a; check "nts-adjust: usage: $a" $? 64 "nts-adjust: " adj
done
for a in "--min-agree 0" "--min-agree x" "--max-distance -1" "--max-distance nan" "--round-gap 0" "--frob"; do
	printf '%s\n' "$GOOD_S" >"$IN"
	"$SEL" $a <"$IN" >"$OUT" 2>"$T_DIR/err2"; rc=$?
	[ $rc -eq 64 ] && ! grep -q '^offset ' "$OUT" && t_ok "nts-select: usage: $a" || t_fail "nts-select: usage: $a" "rc=$rc"
done
printf '[adjust]\npanic-single = banana\n' >"$T_DIR/bad.conf"
run_adj --config "$T_DIR/bad.conf"; rc=$?
[ $rc -eq 78 ] && [ ! -s "$LOG" ] && t_ok "nts-adjust: bad config: exit 78, no clock call" || t_fail "nts-adjust: bad config" "rc=$rc $(cat "$ERR")"
printf '[select]\nmin-agree = many\n' >"$T_DIR/bad2.conf"
printf '%s\n' "$GOOD_S" >"$IN"; run_sel --config "$T_DIR/bad2.conf"; rc=$?
[ $rc -eq 78 ] && t_ok "nts-select: bad config: exit 78" || t_fail "nts-select: bad config" "rc=$rc $(cat "$ERR")"
