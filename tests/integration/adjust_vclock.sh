#!/bin/sh
# nts-adjust against a virtual clock (tests/helpers/vclock_shim.so): step and
# slew decisions, every panic threshold at its edge, startup vs later, the
# accumulated limit across runs (state file), leap arming, frequency kept in
# the state file, status file, dry run making no call. The real clock is
# never touched: besides the shim, nts-adjust runs without CAP_SYS_TIME
# (capsh --drop) when the test runs as root, so a shim that failed to load
# would only produce EPERM.
. "$NTSKIT_TOP/tests/lib.sh"

ADJ=$NTSKIT_BIN/nts-adjust
SHIM=$NTSKIT_HELPERS/vclock_shim.so
VC=$T_DIR/vclock
LOG=$T_DIR/vclock.log
export NTSKIT_VCLOCK_LOG="$LOG"
[ -x "$ADJ" ] || { t_skip "nts-adjust not built"; exit 0; }
[ -f "$SHIM" ] || { t_skip "vclock_shim.so not built"; exit 0; }
if t_is_root; then
	command -v capsh >/dev/null 2>&1 || { t_skip "capsh (libcap2-bin) needed to drop CAP_SYS_TIME"; exit 0; }
	DROP="capsh --drop=cap_sys_time --"
else
	DROP=
fi

# vc_reset [NOW]: a fresh virtual clock and an empty log
vc_reset() {
	echo "now=${1:-1700000000.000000000} freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >"$VC"
	: >"$LOG"
}
vc_get() { sed -n "s/.*[ ^]*\\b$1=\\([^ ]*\\).*/\\1/p" "$VC"; }
# setter calls in the log (reads are modes=0x0 and 0xa001)
setters() { grep -v -e 'modes=0x0 ' -e 'modes=0xa001 ' "$LOG" | grep -c . ; }

# adj ARGS... : run nts-adjust under the shim, stdin from $IN, stdout to $OUT
adj() {
	if [ -n "$DROP" ]; then
		NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM $DROP -c '"$0" "$@"' "$ADJ" "$@" <"$IN" >"$OUT" 2>"$ERR"
	else
		NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM "$ADJ" "$@" <"$IN" >"$OUT" 2>"$ERR"
	fi
}
IN=$T_DIR/in OUT=$T_DIR/out ERR=$T_DIR/err
# off T OFFSET [LEAP]: one offset record into $IN
off() {
	echo "offset t=$1 offset=$2 error=0.010000 sources=3 agree=3 used=a,b,c rejected=- leap=${3:-0} stratum=2 root-delay=0.020000 root-disp=0.001000 refid=192.0.2.1" >"$IN"
}
# expect NAME RC ACTION REASON: check exit code and the adjust record
expect() {
	n=$1 want_rc=$2 act=$3 why=$4
	if [ "$rc" -ne "$want_rc" ]; then t_fail "$n" "exit $rc, wanted $want_rc: $(head -c 300 "$ERR" | tr '\n' '|')"; return; fi
	if ! grep -Eq "^adjust t=[0-9.]+ action=$act offset=[-+0-9.]+ freq-ppm=[-+0-9.]+ leap=[0-2] reason=$why\$" "$OUT"; then
		t_fail "$n" "no 'action=$act reason=$why' in: $(head -c 300 "$OUT" | tr '\n' '|')"; return; fi
	t_ok "$n"
}

# the shim must be in charge before anything else runs
vc_reset
if [ "$(NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM date +%s 2>/dev/null)" != 1700000000 ]; then
	t_fail "vclock shim active" "date under the shim does not show the virtual time"; exit 0
fi
t_ok "vclock shim active (date shows the virtual clock)"

# --- slew and step ---
vc_reset; off 1700000000.1 +0.050000; adj; rc=$?
expect "slew below the step threshold" 0 slew slew
t_grep "slew programmed as ADJ_OFFSET_SINGLESHOT 50000 us" "$LOG" 'modes=0x8001 offset=50000 '
[ "$(vc_get pending)" = 50000 ] && t_ok "virtual clock holds the pending slew" || t_fail "virtual clock holds the pending slew" "pending=$(vc_get pending)"
[ $(( $(vc_get status) & 64 )) -eq 0 ] && t_ok "STA_UNSYNC cleared after a slew" || t_fail "STA_UNSYNC cleared after a slew" "status=$(vc_get status)"
[ "$(vc_get maxerror)" -gt 0 ] && [ "$(vc_get maxerror)" -lt 16000000 ] && t_ok "maxerror set" || t_fail "maxerror set" "maxerror=$(vc_get maxerror)"

vc_reset; off 1700000000.1 +0.500000; adj; rc=$?
expect "startup step above the step threshold" 0 step startup-step
[ "$(vc_get now)" = 1700000000.500000000 ] && t_ok "virtual clock stepped +0.5 s (ADJ_SETOFFSET)" || t_fail "virtual clock stepped +0.5 s (ADJ_SETOFFSET)" "now=$(vc_get now)"
vc_reset; off 1700000000.1 -2.250000; adj; rc=$?
expect "backward startup step" 0 step startup-step
[ "$(vc_get now)" = 1699999997.750000000 ] && t_ok "virtual clock stepped -2.25 s" || t_fail "virtual clock stepped -2.25 s" "now=$(vc_get now)"
vc_reset; off 1700000000.1 +0.128000; adj; rc=$?
expect "step exactly at the step threshold 0.128" 0 step startup-step
vc_reset; off 1700000000.1 +0.127999; adj; rc=$?
expect "slew just below the step threshold" 0 slew slew
vc_reset; off 1700000000.1 +0.300000; adj --step-threshold 0.5; rc=$?
expect "--step-threshold 0.5 slews 0.3 s" 0 slew slew

# --- startup thresholds ---
refused() {   # NAME: refused run changed nothing
	if [ "$(setters)" -eq 0 ] && [ "$(vc_get now)" = 1700000000.000000000 ]; then t_ok "$1: nothing changed"; else t_fail "$1: nothing changed" "setter calls: $(setters), now=$(vc_get now)"; fi
}
vc_reset; off 1700000000.1 +9.999; adj --panic-startup-forward 10; rc=$?
expect "startup forward 10: 9.999 s steps" 0 step startup-step
vc_reset; off 1700000000.1 +10.001; adj --panic-startup-forward 10; rc=$?
expect "startup forward 10: 10.001 s refused" 3 refused panic-startup-forward
refused "startup forward refused"
vc_reset; off 1700000000.1 +86400; adj; rc=$?
expect "startup forward inf (default): +1 day steps" 0 step startup-step
vc_reset; off 1700000000.1 -86399.999; adj; rc=$?
expect "startup backward 86400 (default): -86399.999 s steps" 0 step startup-step
vc_reset; off 1700000000.1 -86400.001; adj; rc=$?
expect "startup backward 86400 (default): -86400.001 s refused" 3 refused panic-startup-backward
refused "startup backward refused"
vc_reset; off 1700000000.1 -1799.999; adj --panic-startup-backward 1800; rc=$?
expect "startup backward 1800: -1799.999 s steps" 0 step startup-step
vc_reset; off 1700000000.1 -1800.001; adj --panic-startup-backward 1800; rc=$?
expect "startup backward 1800: -1800.001 s refused" 3 refused panic-startup-backward
vc_reset; off 1700000000.1 -500000; adj --panic-startup-backward inf; rc=$?
expect "startup backward inf: -500000 s steps" 0 step startup-step
vc_reset; off 1700000000.1 +0.5; adj --panic-startup-forward 0; rc=$?
expect "startup forward 0: no startup step" 3 refused panic-startup-forward

# --- later steps: single threshold (state file makes the run 'later') ---
ST=$T_DIR/state
later() {   # fresh state past startup
	rm -f "$ST"; vc_reset; off 1700000000.1 +0.2; adj --state "$ST"; vc_reset
}
later; off 1700000064.1 +0.999; adj --state "$ST" --panic-single 1; rc=$?
expect "later single 1: 0.999 s steps" 0 step step
later; off 1700000064.1 +1.001; adj --state "$ST" --panic-single 1; rc=$?
expect "later single 1: 1.001 s refused" 3 refused panic-single
refused "single refused"
later; off 1700000064.1 -1.001; adj --state "$ST" --panic-single 1; rc=$?
expect "later single 1: -1.001 s refused" 3 refused panic-single
later; off 1700000064.1 +5000; adj --state "$ST" --panic-single inf; rc=$?
expect "later single inf: 5000 s steps" 0 step step
later; off 1700000064.1 +86400; adj --state "$ST"; rc=$?
expect "later: startup-forward inf no longer applies (single 1000)" 3 refused panic-single
later; off 1700000064.1 +0.1; adj --state "$ST" --panic-single 0; rc=$?
expect "later single 0 still slews" 0 slew slew-fll

# --- accumulated limit across runs ---
rm -f "$ST"; vc_reset
A="--state $ST --panic-accumulated 1 --step-threshold 0.05"
off 1700000000.1 +0.3; adj $A; rc=$?
expect "accumulated: startup step (not counted)" 0 step startup-step
off 1700000064.1 +0.4; adj $A; rc=$?
expect "accumulated: run 2 steps 0.4 (sum 0.4)" 0 step step
off 1700000128.1 -0.5; adj $A; rc=$?
expect "accumulated: run 3 steps -0.5 (sum 0.9)" 0 step step
off 1700000192.1 +0.0999; adj $A; rc=$?
expect "accumulated: run 4 steps 0.0999 (sum 0.9999, just below 1)" 0 step step
off 1700000256.1 +0.06; : >"$LOG"; now=$(vc_get now); adj $A; rc=$?
expect "accumulated: run 5 step 0.06 refused (sum 1.0599)" 3 refused panic-accumulated
[ "$(setters)" -eq 0 ] && [ "$(vc_get now)" = "$now" ] && t_ok "accumulated refused: nothing changed" || t_fail "accumulated refused: nothing changed" "setters $(setters)"
t_grep "state file keeps the accumulated sum" "$ST" 'accumulated=0\.9999'
m=$(stat -c %a "$ST")
[ "$m" = 600 ] && t_ok "state file is 0600" || t_fail "state file is 0600" "mode $m"
off 1700000320.1 +0.01; adj $A; rc=$?
expect "accumulated: slews still allowed after the limit" 0 slew 'slew-(fll|pll)'

# --- a state file that cannot be parsed: never synchronised (startup thresholds) ---
# The state says past startup with a garbage field: it must count as a startup
# (a -90000 s step refused by panic-startup-backward 86400), never as "past
# startup" nor as no limits; it is moved aside (FILE.bad-UNIXTIME, 0600) with
# one warning naming the file and the field.
bad_state() {
	rm -f "$ST" "$ST".bad-*
	later
	sed 's/accumulated=[^ ]*/accumulated=zz/' "$ST" >"$ST.x" && mv "$ST.x" "$ST" && chmod 644 "$ST"
	cp "$ST" "$T_DIR/bad.copy"
}
bad_state; off 1700000064.1 -90000; : >"$LOG"; adj --state "$ST"; rc=$?
expect "corrupt state: a -90000 s step is refused by the startup threshold" 3 refused panic-startup-backward
[ "$(setters)" -eq 0 ] && t_ok "corrupt state: nothing changed" || t_fail "corrupt state: nothing changed" "setters $(setters)"
[ "$(grep -c . "$ERR")" -eq 2 ] && grep -q "state file $ST cannot be parsed ($ST:1: field 'accumulated'.*moved aside to $ST\.bad-[0-9]*;.*startup thresholds" "$ERR" &&
	t_ok "corrupt state: one warning naming the file, line and field, where it went" ||
	t_fail "corrupt state: one warning naming the file and field" "$(head -c 400 "$ERR" | tr '\n' '|')"
b=$(ls "$ST".bad-* 2>/dev/null | head -n 1)
[ -n "$b" ] && [ ! -e "$ST" ] && [ "$(stat -c %a "$b")" = 600 ] && cmp -s "$b" "$T_DIR/bad.copy" &&
	t_ok "corrupt state: moved aside unchanged to $(basename "$b"), mode 0600" ||
	t_fail "corrupt state: moved aside, mode 0600" "$(ls -l "$ST"* 2>&1 | tr '\n' '|')"
bad_state; off 1700000064.1 +5000; adj --state "$ST" --panic-single 1; rc=$?
expect "corrupt state: +5000 s steps as a startup step (not refused by panic-single 1)" 0 step startup-step
t_grep "corrupt state: a new state file after the step" "$ST" '^adjust-state started=1 '
bad_state; printf 'garbage\tline\n' >"$ST"; off 1700000064.1 +0.5; adj --state "$ST"; rc=$?
expect "state file of garbage: startup step" 0 step startup-step

# --- frequency kept across one-shot runs (cron) ---
rm -f "$ST"; vc_reset
off 1700000000.1 +0.2; adj --state "$ST"; rc=$?
off 1700000064.1 -0.0064; adj --state "$ST"; rc=$?
expect "second run: FLL" 0 slew slew-fll
[ "$(vc_get freq)" = -6553600 ] && t_ok "kernel frequency -100 ppm (ADJ_FREQUENCY -6553600)" || t_fail "kernel frequency -100 ppm" "freq=$(vc_get freq)"
t_grep "state file keeps the frequency" "$ST" 'freq-ppm=-100\.000000'

# --- leap arming ---
# only on 30 June or 31 December (UTC), and only when the leap-seconds list
# (when there is one, unexpired) has that leap second (nts-adjust(8))
DEC31=1798718400    # 2026-12-31T12:00:00Z
JUN30=1782820800    # 2026-06-30T12:00:00Z
NOV14=1700000000    # 2023-11-14T22:13:20Z
LL=$T_DIR/leap-seconds.list     # lists +1 at 2027-01-01, expires 2028-01-01
printf '#$\t3900000000\n#@\t%s\n%s\t37\t# 1 Jan 2017\n%s\t38\t# 1 Jan 2027\n' \
	$((1830297600 + 2208988800)) $((1483228800 + 2208988800)) $((1798761600 + 2208988800)) >"$LL"
vc_reset $DEC31; off $DEC31.1 +0.001 1; adj --leap-list none; rc=$?
[ $(( $(vc_get status) & 16 )) -ne 0 ] && [ $(( $(vc_get status) & 32 )) -eq 0 ] && t_ok "leap=1 on 31 December arms STA_INS" || t_fail "leap=1 on 31 December arms STA_INS" "status=$(vc_get status)"
grep -q ' leap=1 reason=' "$OUT" && t_ok "adjust record: leap=1 armed" || t_fail "adjust record: leap=1 armed" "$(cat "$OUT")"
off $DEC31.2 +0.001 2; adj --leap-list none; rc=$?
[ $(( $(vc_get status) & 32 )) -ne 0 ] && [ $(( $(vc_get status) & 16 )) -eq 0 ] && t_ok "leap=2 on 31 December arms STA_DEL" || t_fail "leap=2 on 31 December arms STA_DEL" "status=$(vc_get status)"
off $DEC31.3 +0.001 0; adj --leap-list none; rc=$?
[ $(( $(vc_get status) & 48 )) -eq 0 ] && t_ok "leap=0 disarms" || t_fail "leap=0 disarms" "status=$(vc_get status)"
# any other day: the kernel would insert the second at that day's midnight
vc_reset $NOV14; off $NOV14.1 +0.001 1; adj --leap-list none; rc=$?
[ $(( $(vc_get status) & 48 )) -eq 0 ] && grep -q ' leap=0 reason=' "$OUT" && t_ok "leap=1 on 14 November: not armed" || t_fail "leap=1 on 14 November: not armed" "status=$(vc_get status) $(cat "$OUT")"
vc_reset $JUN30; off $JUN30.1 +0.001 1; adj --leap-list "$LL" --explain; rc=$?
[ $(( $(vc_get status) & 48 )) -eq 0 ] && grep -q 'has none there: not armed' "$ERR" && t_ok "leap=1 on 30 June 2026, not in the leap-seconds list: not armed" ||
	t_fail "leap=1 on 30 June 2026, not in the list: not armed" "status=$(vc_get status) $(tr '\n' '|' <"$ERR")"
vc_reset $DEC31; off $DEC31.1 +0.001 1; adj --leap-list "$LL"; rc=$?
[ $(( $(vc_get status) & 16 )) -ne 0 ] && t_ok "leap=1 on 31 December 2026, in the leap-seconds list: STA_INS" || t_fail "leap=1 on 31 December 2026, in the list: STA_INS" "status=$(vc_get status)"
vc_reset $DEC31; off $DEC31.1 +0.001 2; adj --leap-list "$LL"; rc=$?
[ $(( $(vc_get status) & 48 )) -eq 0 ] && t_ok "leap=2 where the list has an insertion: not armed" || t_fail "leap=2 where the list has an insertion: not armed" "status=$(vc_get status)"
# the dry run says what it would do, and touches nothing
vc_reset $DEC31; off $DEC31.1 +0.001 1; adj --leap-list "$LL" --dry-run; rc=$?
grep -q 'would insert a leap second at 2026-12-31T23:59:60Z' "$ERR" && [ "$(setters)" -eq 0 ] && t_ok "dry run: 'would insert a leap second at 2026-12-31T23:59:60Z', no clock call" ||
	t_fail "dry run: would insert a leap second" "$(tr '\n' '|' <"$ERR") setters=$(setters)"
# the status file (nts-serve's leap indicator) carries the armed leap only
vc_reset $NOV14; off $NOV14.1 +0.001 1; adj --leap-list none --status "$T_DIR/leap-status"; rc=$?
grep -q ' leap=0 ' "$T_DIR/leap-status" && t_ok "status file: leap=0 when not armed" || t_fail "status file: leap=0 when not armed" "$(cat "$T_DIR/leap-status")"
vc_reset $DEC31; off $DEC31.1 +0.001 1; adj --leap-list none --status "$T_DIR/leap-status"; rc=$?
grep -q ' leap=1 ' "$T_DIR/leap-status" && t_ok "status file: leap=1 when armed" || t_fail "status file: leap=1 when armed" "$(cat "$T_DIR/leap-status")"
vc_reset; off 1700000000.1 +0.001 3; adj; rc=$?
expect "leap=3 offset: no action" 0 none unsynchronised
[ "$(setters)" -eq 0 ] && t_ok "leap=3: no setter call" || t_fail "leap=3: no setter call" "$(cat "$LOG")"

# --- status file ---
SF=$T_DIR/status
vc_reset; off 1700000000.1 +0.002; adj --status "$SF"; rc=$?
t_grep "status record written" "$SF" '^status t=1700000000\.100000 stratum=2 refid=192\.0\.2\.1 root-delay=0\.02[0-9]* root-disp=0\.00[0-9]* leap=0 '
m=$(stat -c %a "$SF")
[ "$m" = 644 ] && t_ok "status file is 0644" || t_fail "status file is 0644" "mode $m"

# --- dry run: no call at all ---
vc_reset; off 1700000000.1 +0.5; adj --dry-run --state "$T_DIR/dry-state" --status "$T_DIR/dry-status"; rc=$?
expect "dry run reports the step" 0 step 'dry-run,startup-step'
[ ! -s "$LOG" ] && t_ok "dry run: shim log empty" || t_fail "dry run: shim log empty" "$(head -c 300 "$LOG")"
[ ! -e "$T_DIR/dry-state" ] && [ ! -e "$T_DIR/dry-status" ] && t_ok "dry run: no state or status file" || t_fail "dry run: no state or status file" "files written"
vc_reset; off 1700000000.1 +0.01; adj --dry-run; rc=$?
expect "dry run reports a slew" 0 slew 'dry-run,slew'
[ ! -s "$LOG" ] && t_ok "dry run slew: shim log empty" || t_fail "dry run slew: shim log empty" "$(head -c 300 "$LOG")"
vc_reset; off 1700000000.1 -90000; adj --dry-run; rc=$?
expect "dry run reports a refusal" 3 refused 'dry-run,panic-startup-backward'

# --- stream: every record decided; pass-through; no offset ---
vc_reset
{ echo "offset t=1700000000.1 offset=+0.3 error=0.01 sources=1 agree=1 used=a rejected=- leap=0 stratum=2 root-delay=0.01 root-disp=0.001 refid=a"
  echo "note anything=1"
  echo "offset t=1700000064.1 offset=-0.0064 error=0.01 sources=1 agree=1 used=a rejected=- leap=0 stratum=2 root-delay=0.01 root-disp=0.001 refid=a"
  echo "offset t=1700000128.1 offset=+0.0001 error=0.01 sources=1 agree=1 used=a rejected=- leap=0 stratum=2 root-delay=0.01 root-disp=0.001 refid=a"; } >"$IN"
adj --stream; rc=$?
n=$(grep -c '^adjust ' "$OUT")
[ "$rc" -eq 0 ] && [ "$n" -eq 3 ] && t_ok "stream: three adjust records" || t_fail "stream: three adjust records" "rc=$rc n=$n"
t_grep "stream: other records passed through" "$OUT" '^note anything=1$'
n=$(grep -c 'reason=slew-fll$' "$OUT")
grep -q 'reason=startup-step$' "$OUT" && [ "$n" -eq 2 ] && t_ok "stream: startup step, then FLL" || t_fail "stream: startup step, then FLL" "$(tr '\n' '|' <"$OUT")"
vc_reset; echo "note x=1" >"$IN"; adj; rc=$?
[ "$rc" -eq 5 ] && [ "$(grep -c . "$LOG")" -eq 0 ] && t_ok "no offset record: exit 5, no clock call" || t_fail "no offset record: exit 5, no clock call" "rc=$rc"

# --- capabilities (dry run: no clock call even with CAP_SYS_TIME) ---
if t_is_root; then
	off 1700000000.1 +0.01
	NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM "$ADJ" --dry-run --explain <"$IN" >"$OUT" 2>"$ERR"
	t_grep "as root: keeps CAP_SYS_TIME only" "$ERR" 'holding CAP_SYS_TIME only'
	NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM $DROP -c '"$0" "$@"' "$ADJ" --dry-run --explain <"$IN" >"$OUT" 2>"$ERR"
	t_grep "without CAP_SYS_TIME: says so" "$ERR" 'none held'
fi
