#!/bin/sh
# scripts/check_nts (Nagios/Icinga plugin) and scripts/ntskit-prom (Prometheus
# textfile writer), fed with records as nts-sync writes them (check_nts(8)):
#  - check_nts: each of the four states (exit 0, 1, 2, 3) with its message and
#    well-formed perfdata; thresholds as flags; file, stdin and command input;
#  - ntskit-prom: the text exposition format (a strict regex for every line,
#    and Debian's python3-prometheus-client parser when installed), the
#    metrics asked for, no secret from the session file, written by rename,
#    the last success of a silent source carried over.
# No network, no ports.
. "$NTSKIT_TOP/tests/lib.sh"

CHK=$NTSKIT_TOP/scripts/check_nts
PROM=$NTSKIT_TOP/scripts/ntskit-prom
now=$(date +%s)

# records RUN-LINES...: a last-run file
rec() { printf '%s\n' "$@" >"$T_DIR/last"; }
S1="sample source=ptb ntp=ptbtime1.ptb.de:123 t=$now.100000 offset=+0.000120000 delay=0.031000000 disp=0.000001000 stratum=1 leap=0 refid=PTB precision=-25 root-delay=0.000000 root-disp=0.000100 auth=nts aead=15 via=socks5-udp not-before=1735689600 not-after=2051222400"
S2="sample source=netnod ntp=nts.netnod.se:123 t=$now.200000 offset=-0.000040000 delay=0.012000000 disp=0.000001000 stratum=1 leap=0 refid=PPS precision=-25 root-delay=0.000000 root-disp=0.000100 auth=nts aead=15 via=socks5-udp not-before=1735689600 not-after=2051222400"
S3="sample source=netnod ntp=nts.netnod.se:123 t=$now.400000 offset=-0.000020000 delay=0.010000000 disp=0.000001000 stratum=1 leap=0 refid=PPS precision=-25 root-delay=0.000000 root-disp=0.000100 auth=nts aead=15 via=socks5-udp not-before=1735689600 not-after=2051222400"
off() { echo "offset t=$now.400000 offset=$1 error=${2:-0.000300000} sources=${3:-3} agree=${4:-3} used=ptb,netnod,sidn rejected=- leap=0 stratum=2 root-delay=0.020000000 root-disp=0.000100000 refid=192.0.2.1"; }
ADJ="adjust t=$now.400000 action=slew offset=+0.000012000 freq-ppm=+0.000000 reason=slew"
SYNC0="sync t=$now status=0 ke=- poll=0 select=0 adjust=0 dry-run=0"

# perfdata_ok FILE: the text after '|' is label=value[UOM];warn;crit;min;max items
perfdata_ok() {
	p=$(sed -n 's/^[^|]*| //p' "$1")
	[ -n "$p" ] || return 1
	# one '|' only: Nagios splits the text from the perfdata at the first
	[ "$(grep -o '|' "$1" | grep -c .)" -eq 1 ] || return 1
	for item in $p; do
		echo "$item" | grep -Eq "^[A-Za-z_][A-Za-z0-9_]*=[-+]?[0-9]+(\\.[0-9]+)?(s|%|B|c)?(;(@?(-?[0-9.]+|~)?(:(-?[0-9.]+)?)?)?){0,4}\$" || return 1
	done
}
# check NAME WANT_RC PATTERN ARGS...: run check_nts, exit status and first line
check() {
	n=$1 want=$2 pat=$3; shift 3
	sh "$CHK" "$@" >"$T_DIR/out" 2>"$T_DIR/err"; rc=$?
	if [ $rc -ne "$want" ]; then t_fail "$n" "exit $rc, wanted $want: $(head -c 300 "$T_DIR/out") $(head -c 200 "$T_DIR/err")"; return; fi
	if [ "$(grep -c . "$T_DIR/out")" -ne 1 ] || ! grep -Eq -- "$pat" "$T_DIR/out"; then t_fail "$n" "output: $(head -c 300 "$T_DIR/out")"; return; fi
	t_ok "$n"
}

# --- check_nts: the four states ---
rec "$S1" "$S2" "$(off +0.000012000)" "$ADJ" "$SYNC0"
check "check_nts OK (exit 0)" 0 '^NTS OK: offset \+0\.000012000 s, error 0\.000300000 s, 3 of 3 sources agree \| ' -f "$T_DIR/last"
perfdata_ok "$T_DIR/out" && t_ok "OK: perfdata well-formed" || t_fail "OK: perfdata well-formed" "$(cat "$T_DIR/out")"
t_grep "OK: perfdata offset, error, agree, sources" "$T_DIR/out" '\| offset=0\.000012000s;-0\.128:0\.128;-1:1;; error=0\.000300000s;;;0; agree=3;;1:;0;3 sources=3;;;0;$'

rec "$S1" "$(off +0.200000000)" "$SYNC0"
check "check_nts WARNING on |offset| >= 0.128 (exit 1)" 1 '^NTS WARNING: offset \+0\.200000000 s.*, offset exceeds 0\.128 s \| ' -f "$T_DIR/last"
perfdata_ok "$T_DIR/out" && t_ok "WARNING: perfdata well-formed" || t_fail "WARNING: perfdata well-formed" "$(cat "$T_DIR/out")"
check "-w 0.5: the same offset is OK" 0 '^NTS OK: ' -w 0.5 -f "$T_DIR/last"
rec "$(off -1.500000000)" "$SYNC0"
check "check_nts CRITICAL on |offset| >= 1 (exit 2)" 2 '^NTS CRITICAL: offset -1\.500000000 s.*, offset exceeds 1 s \| ' -f "$T_DIR/last"
perfdata_ok "$T_DIR/out" && t_ok "CRITICAL: perfdata well-formed" || t_fail "CRITICAL: perfdata well-formed" "$(cat "$T_DIR/out")"
check "-c 2 -w 1: -1.5 s is WARNING" 1 '^NTS WARNING: ' -c 2 -w 1 -f "$T_DIR/last"
rec "$(off +0.000012000 0.0003 5 2)" "$SYNC0"
check "--min-agree 3 with 2 agreeing: CRITICAL" 2 '^NTS CRITICAL: .*2 of 5 sources agree, fewer than 3 sources agree \| .*agree=2;;3:;0;5 ' --min-agree 3 -f "$T_DIR/last"
check "--warn-agree 3 with 2 agreeing: WARNING" 1 '^NTS WARNING: .*fewer than 3 sources agree' --warn-agree 3 -f "$T_DIR/last"
rec "$(off +0.000012000 0.25)" "$SYNC0"
check "--warn-error 0.1: WARNING" 1 '^NTS WARNING: .*error >= 0\.1 s' --warn-error 0.1 -f "$T_DIR/last"
check "--crit-error 0.2: CRITICAL" 2 '^NTS CRITICAL: .*error >= 0\.2 s' --crit-error 0.2 -f "$T_DIR/last"
rec "$S1" "sync t=$now status=10 ke=- poll=0 select=3 adjust=5 dry-run=0"
check "no offset (too few agree): CRITICAL" 2 '^NTS CRITICAL: no offset \(too few sources agree\); 1 source\(s\) answered \| agree=0;;1:;0; sources=1;;;0;$' -f "$T_DIR/last"
perfdata_ok "$T_DIR/out" && t_ok "no offset: perfdata well-formed" || t_fail "no offset: perfdata well-formed" "$(cat "$T_DIR/out")"
rec "$(off -2000.000000000)" "adjust t=$now.4 action=refused offset=-2000.000000000 freq-ppm=+0.000000 reason=panic-single" "sync t=$now status=3 ke=- poll=0 select=0 adjust=3 dry-run=0"
check "step refused by a panic threshold: CRITICAL" 2 '^NTS CRITICAL: .*step refused by panic-single' -c 3000 -w 2500 -f "$T_DIR/last"
echo "offset t=$(($(date +%s) - 7200)).0 offset=+0.000010000 error=0.000300000 sources=3 agree=3 used=a,b,c rejected=- leap=0 stratum=2 root-delay=0.0 root-disp=0.0 refid=192.0.2.1" >"$T_DIR/last"
check "--max-age 3600 with a 2 h old record: CRITICAL" 2 '^NTS CRITICAL: .*offset record 720[0-9] s old' --max-age 3600 -f "$T_DIR/last"
check "without --max-age the old record is OK" 0 '^NTS OK: ' -f "$T_DIR/last"

check "missing file: UNKNOWN (exit 3)" 3 '^NTS UNKNOWN: .*cannot read' -f "$T_DIR/nonexistent"
check "bad threshold: UNKNOWN" 3 "^NTS UNKNOWN: -w: 'abc' is not a number" -w abc
check "unknown option: UNKNOWN" 3 "^NTS UNKNOWN: unknown argument '--bogus'" --bogus
: >"$T_DIR/empty"
check "empty input: UNKNOWN" 3 '^NTS UNKNOWN: no ntskit record' -f "$T_DIR/empty"
echo "offset t=1.0 offset=abc error=0.1 sources=1 agree=1" >"$T_DIR/bad"
check "malformed offset record: UNKNOWN" 3 '^NTS UNKNOWN: malformed offset record' -f "$T_DIR/bad"
sh "$CHK" --help >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ] && t_ok "--help exits 3 (plugin convention)" || t_fail "--help exits 3 (plugin convention)" "exit $rc"

# stdin and command input
off +0.000050000 | sh "$CHK" -f - >"$T_DIR/out"; rc=$?
[ $rc -eq 0 ] && grep -q '^NTS OK: offset +0.000050000' "$T_DIR/out" && t_ok "-f -: reads stdin" || t_fail "-f -: reads stdin" "exit $rc: $(cat "$T_DIR/out")"
rec "$(off +0.000070000)"
check "-- COMMAND: reads its output" 0 '^NTS OK: offset \+0\.000070000' -- cat "$T_DIR/last"
check "-- COMMAND that prints nothing: UNKNOWN" 3 '^NTS UNKNOWN: false exited 1 and wrote no record' -- false

# --- ntskit-prom ---
SESS=$T_DIR/sessions
echo "session source=ptb ke=ptbtime1.ptb.de:4460 ntp=ptbtime1.ptb.de:123 aead=15 c2s=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff s2c=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100 cookies=SECRETCOOKIEAAA,SECRETCOOKIEBBB,SECRETCOOKIECCC not-before=1735689600 not-after=2051222400 ke-at=1795000000" >"$SESS"
echo "session source=netnod ke=nts.netnod.se:4460 ntp=nts.netnod.se:123 aead=15 c2s=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff s2c=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100 cookies=- not-before=1735689600 not-after=2051222400 ke-at=1795000000" >>"$SESS"
chmod 600 "$SESS"
D=$T_DIR/textfile; mkdir -p "$D"
rec "$S1" "$S2" "$S3" "$(off +0.000012000)" "$ADJ" "$SYNC0"
sh "$PROM" --dir "$D" --state "$SESS" "$T_DIR/last" 2>"$T_DIR/err"; rc=$?
P=$D/ntskit.prom
[ $rc -eq 0 ] && [ -f "$P" ] && t_ok "ntskit-prom writes DIR/ntskit.prom" || t_fail "ntskit-prom writes DIR/ntskit.prom" "exit $rc: $(cat "$T_DIR/err")"

# prom_ok FILE: every line is a HELP, a TYPE or a sample line of the text
# exposition format (0.0.4); every sample's metric has a TYPE before it
prom_ok() {
	awk '
	/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$/ { next }
	/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/ { typed[$3] = 1; next }
	/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*")*\})? [-+]?([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)( -?[0-9]+)?$/ {
		m = $1; sub(/\{.*/, "", m); if (!(m in typed)) { print "untyped " m; bad = 1 }
		k = $1; if (k in seen) { print "duplicate " k; bad = 1 }; seen[k] = 1; next }
	{ print "bad line " NR ": " $0; bad = 1 }
	END { exit bad }' "$1"
}
prom_ok "$P" >"$T_DIR/prom.why" && t_ok "ntskit.prom: every line matches the exposition format" || t_fail "ntskit.prom: every line matches the exposition format" "$(head -3 "$T_DIR/prom.why" | tr '\n' '|')"
if /usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null; then
	/usr/bin/python3 - "$P" >"$T_DIR/py.out" 2>&1 <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
n = 0
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        n += 1
print(n)
EOF
	[ $? -eq 0 ] && t_ok "ntskit.prom: parsed by prometheus_client ($(cat "$T_DIR/py.out") samples)" || t_fail "ntskit.prom: parsed by prometheus_client" "$(tail -2 "$T_DIR/py.out" | tr '\n' '|')"
else
	t_skip "python3-prometheus-client not installed: parser check not run (the regex check ran)"
fi
for m in 'ntskit_offset_seconds 0\.000012000$' 'ntskit_error_seconds 0\.000300000$' 'ntskit_sources 3$' 'ntskit_agree 3$' \
	'ntskit_source_delay_seconds\{source="netnod"\} 0\.010000000$' 'ntskit_source_delay_seconds\{source="ptb"\} 0\.031000000$' \
	"ntskit_source_last_success_timestamp_seconds\\{source=\"netnod\"\\} $now\\.400000\$" \
	'ntskit_source_cookies\{source="ptb"\} 3$' 'ntskit_source_cookies\{source="netnod"\} 0$' \
	'ntskit_sync_exit_status 0$' 'ntskit_offset_available 1$' 'ntskit_adjust_refused 0$' 'ntskit_source_samples\{source="netnod"\} 2$' \
	'ntskit_source_transport\{source="netnod",via="socks5-udp"\} 1$' 'ntskit_source_circuits\{source="netnod"\} 1$'; do
	t_grep "ntskit.prom: $(echo "$m" | sed 's/\\//g; s/\$$//')" "$P" "^$m"
done
grep -Eq 'SECRET|c2s|s2c|0011223344' "$P" && t_fail "ntskit.prom: no secret from the session file" "found" || t_ok "ntskit.prom: no secret from the session file"
m=$(stat -c %a "$P")
[ "$m" = 644 ] && t_ok "ntskit.prom: mode 0644" || t_fail "ntskit.prom: mode 0644" "mode $m"
ls "$D" | grep -qv '^ntskit\.prom$' && t_fail "ntskit-prom: no temporary file left" "$(ls "$D")" || t_ok "ntskit-prom: no temporary file left"

# a run where ptb is silent: its last success is carried over; no offset
rec "$S2" "sync t=$((now + 60)) status=10 ke=- poll=1 select=3 adjust=5 dry-run=0"
sh "$PROM" --dir "$D" --state "$SESS" <"$T_DIR/last"; rc=$?
[ $rc -eq 0 ] && t_ok "ntskit-prom reads stdin" || t_fail "ntskit-prom reads stdin" "exit $rc"
t_grep "silent source: last success carried over" "$P" "^ntskit_source_last_success_timestamp_seconds\\{source=\"ptb\"\\} $now\\.100000\$"
t_grep "no offset: ntskit_offset_available 0" "$P" '^ntskit_offset_available 0$'
grep -q '^ntskit_offset_seconds' "$P" && t_fail "no offset: no stale offset metric" "ntskit_offset_seconds present" || t_ok "no offset: no stale offset metric"
t_grep "no offset: exit status 10" "$P" '^ntskit_sync_exit_status 10$'
prom_ok "$P" >"$T_DIR/prom.why" && t_ok "second file: well-formed" || t_fail "second file: well-formed" "$(head -3 "$T_DIR/prom.why" | tr '\n' '|')"

sh "$PROM" "$T_DIR/last" >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && t_ok "ntskit-prom without --dir: exit 64" || t_fail "ntskit-prom without --dir: exit 64" "exit $rc"
sh "$PROM" --dir "$T_DIR/nonexistent-dir" "$T_DIR/last" >/dev/null 2>&1; rc=$?
[ $rc -eq 74 ] && t_ok "ntskit-prom into a missing directory: exit 74" || t_fail "ntskit-prom into a missing directory: exit 74" "exit $rc"

# --- the man pages of scripts/ (build_install.sh lints those of lib/ and nts-*/) ---
if command -v mandoc >/dev/null 2>&1; then
	for m in "$NTSKIT_TOP"/scripts/*.[158]; do
		[ -f "$m" ] || continue
		mandoc -Tlint -W warning "$m" >"$T_DIR/lint.out" 2>&1 && t_ok "mandoc -Tlint $(basename "$m")" ||
			t_fail "mandoc -Tlint $(basename "$m")" "$(head -3 "$T_DIR/lint.out" | tr '\n' '|')"
	done
else
	t_skip "mandoc not installed: man pages not linted"
fi

# --- issue 14: a stale last-run file is never OK; plain decimals ---
# --follow's sync record names the poll interval: the default --max-age is
# 3 x interval + 60 s (64 s: 252 s)
rec "$(off +0.000012000)" "sync t=$((now - 300)) status=0 follow=1 interval=64 dry-run=0"
check "stale follow record (300 s, interval 64): CRITICAL without --max-age" 2 '^NTS CRITICAL: .*last run 30[0-9] s ago \(max-age 252 s\) \| ' -f "$T_DIR/last"
rec "$(off +0.000012000)" "sync t=$((now - 200)) status=0 follow=1 interval=64 dry-run=0"
check "follow record 200 s old, interval 64: OK" 0 '^NTS OK: ' -f "$T_DIR/last"
check "--max-age given wins over the default" 2 '^NTS CRITICAL: .*last run 20[0-9] s ago \(max-age 100 s\)' --max-age 100 -f "$T_DIR/last"
# one-shot records (no interval): 2760 s, three runs of the 15-minute timer
rec "$(off +0.000012000)" "sync t=$((now - 3000)) status=0 ke=- poll=0 select=0 adjust=0 dry-run=0"
check "stale one-shot record (3000 s): CRITICAL" 2 '^NTS CRITICAL: .*last run 300[0-9] s ago \(max-age 2760 s\)' -f "$T_DIR/last"
# a stale failure: both said
rec "sync t=$((now - 1000)) status=78 follow=1 interval=64 dry-run=0 reason=bad-config"
check "failed, stale run: CRITICAL naming the reason and the age" 2 '^NTS CRITICAL: no offset \(nts-sync status 78, bad-config\), last run 10[0-9][0-9] s ago' -f "$T_DIR/last"
rec "$S1" "$(off +0.000012000)" "$SYNC0"
check "tiny thresholds: perfdata in plain decimals" 2 '\| offset=0\.000012000s;-0\.1:0\.1;-0\.2:0\.2;; error=0\.000300000s;0\.000001;0\.000002;0; ' -w 0.1 -c 0.2 --warn-error 0.000001 --crit-error 0.000002 -f "$T_DIR/last" 
rec "$S1" "$(off +0.000000500)" "$SYNC0"
check "-w 0.000001: perfdata -0.000001, never -1e-06" 0 '\| offset=0\.000000500s;-0\.000001:0\.000001;-0\.000002:0\.000002;; ' -w 0.000001 -c 0.000002 -f "$T_DIR/last"
grep -q 'e-0' "$T_DIR/out" && t_fail "no exponent in the output" "$(cat "$T_DIR/out")" || t_ok "no exponent in the output"
perfdata_ok "$T_DIR/out" && t_ok "tiny thresholds: perfdata well-formed" || t_fail "tiny thresholds: perfdata well-formed" "$(cat "$T_DIR/out")"

# --- issue 14: ntskit-prom refuses garbage, keeps the old file ---
cp "$P" "$T_DIR/prom.before"
printf 'this is not a record\n' >"$T_DIR/garbage"
sh "$PROM" --dir "$D" "$T_DIR/garbage" >"$T_DIR/out" 2>"$T_DIR/err"; rc=$?
[ $rc -eq 65 ] && t_ok "ntskit-prom: garbage file: exit 65" || t_fail "ntskit-prom: garbage file: exit 65" "exit $rc"
[ "$(grep -c . "$T_DIR/err")" -eq 1 ] && grep -q "garbage:1: " "$T_DIR/err" && t_ok "ntskit-prom: garbage: one line naming file and line" || t_fail "ntskit-prom: garbage: one line naming file and line" "$(cat "$T_DIR/err")"
cmp -s "$P" "$T_DIR/prom.before" && t_ok "ntskit-prom: garbage: old file untouched" || t_fail "ntskit-prom: garbage: old file untouched" "rewritten"
echo "sample source=a offset" | sh "$PROM" --dir "$D" >/dev/null 2>"$T_DIR/err"; rc=$?
[ $rc -eq 65 ] && grep -q "stdin:1: field 3" "$T_DIR/err" && t_ok "ntskit-prom: a field that is not key=value: exit 65" || t_fail "ntskit-prom: a field that is not key=value: exit 65" "exit $rc: $(cat "$T_DIR/err")"
echo "note only=1" | sh "$PROM" --dir "$D" >/dev/null 2>"$T_DIR/err"; rc=$?
[ $rc -eq 65 ] && grep -q "no sample, offset" "$T_DIR/err" && t_ok "ntskit-prom: records but none of a run: exit 65" || t_fail "ntskit-prom: records but none of a run: exit 65" "exit $rc: $(cat "$T_DIR/err")"
sh "$PROM" --dir "$D" </dev/null >/dev/null 2>&1; rc=$?
[ $rc -eq 65 ] && t_ok "ntskit-prom: empty input: exit 65" || t_fail "ntskit-prom: empty input: exit 65" "exit $rc"
cmp -s "$P" "$T_DIR/prom.before" && t_ok "ntskit-prom: nothing written for any of them" || t_fail "ntskit-prom: nothing written for any of them" "rewritten"

# --- issue 14: per-source metrics from the verdicts of a --follow round ---
V1="verdict t=$now.5 source=ptb verdict=selected samples=1 offset=+0.000120000 delay=0.031000000 disp=0.000100000 jitter=0.000001000 root-dist=0.016000000 stratum=1 leap=0 last=$now.500000 via=socks5-udp"
V2="verdict t=$now.5 source=netnod verdict=falseticker samples=1 offset=+0.300000000 delay=0.012000000 disp=0.000100000 jitter=0.000001000 root-dist=0.007000000 stratum=1 leap=0 last=$now.400000 via=tcp-relay"
V3="verdict t=$now.5 source=sidn verdict=no-answer samples=0"
RND="round t=$now.5 sources=2 candidates=2 agree=1 used=1 min-agree=1 result=offset"
rec "$V1" "$V2" "$V3" "$RND" "$(off +0.000120000 0.016 2 1)" "adjust t=$now.5 action=slew offset=+0.000120000 freq-ppm=-12.500000 reason=slew-pll" "sync t=$now status=0 follow=1 interval=64 dry-run=0"
rm -f "$P"
sh "$PROM" --dir "$D" --state "$SESS" "$T_DIR/last" 2>"$T_DIR/err"; rc=$?
[ $rc -eq 0 ] && t_ok "ntskit-prom: a follow round: exit 0" || t_fail "ntskit-prom: a follow round: exit 0" "exit $rc: $(cat "$T_DIR/err")"
for m in 'ntskit_source_selected\{source="ptb",verdict="selected"\} 1$' 'ntskit_source_selected\{source="netnod",verdict="falseticker"\} 0$' \
	'ntskit_source_selected\{source="sidn",verdict="no-answer"\} 0$' 'ntskit_source_offset_seconds\{source="netnod"\} 0\.300000000$' \
	'ntskit_source_delay_seconds\{source="ptb"\} 0\.031000000$' 'ntskit_source_root_distance_seconds\{source="ptb"\} 0\.016000000$' \
	"ntskit_source_last_success_timestamp_seconds\\{source=\"netnod\"\\} $now\\.400000\$" 'ntskit_source_samples\{source="sidn"\} 0$' \
	'ntskit_source_cookies\{source="ptb"\} 3$' 'ntskit_source_nts_ke_timestamp_seconds\{source="ptb"\} 1795000000$' \
	'ntskit_frequency_ppm -12\.500000$' 'ntskit_offset_seconds 0\.000120000$' 'ntskit_agree 1$' "ntskit_last_run_timestamp_seconds $now\$"; do
	t_grep "ntskit.prom (follow round): $(echo "$m" | sed 's/\\//g; s/\$$//')" "$P" "^$m"
done
prom_ok "$P" >"$T_DIR/prom.why" && t_ok "follow round: well-formed" || t_fail "follow round: well-formed" "$(head -3 "$T_DIR/prom.why" | tr '\n' '|')"
if /usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null; then
	/usr/bin/python3 - "$P" >"$T_DIR/py.out" 2>&1 <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
got = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        got[(s.name, tuple(sorted(s.labels.items())))] = s.value
assert got[("ntskit_source_selected", (("source", "netnod"), ("verdict", "falseticker")))] == 0
assert got[("ntskit_source_selected", (("source", "ptb"), ("verdict", "selected")))] == 1
assert abs(got[("ntskit_offset_seconds", ())] - 0.00012) < 1e-12
assert got[("ntskit_source_cookies", (("source", "ptb"),))] == 3
print(len(got))
EOF
	[ $? -eq 0 ] && t_ok "follow round: prometheus_client parses it, labels and values as written ($(cat "$T_DIR/py.out") samples)" || t_fail "follow round: prometheus_client" "$(tail -3 "$T_DIR/py.out" | tr '\n' '|')"
else
	t_skip "python3-prometheus-client not installed"
fi
# a round without an offset: agree and sources from the round record
rec "$V2" "$V3" "round t=$now.5 sources=1 candidates=1 agree=1 used=0 min-agree=3 result=too-few" "sync t=$now status=10 follow=1 interval=64 dry-run=0 reason=too-few-agree"
sh "$PROM" --dir "$D" "$T_DIR/last"; rc=$?
t_grep "round without offset: ntskit_offset_available 0" "$P" '^ntskit_offset_available 0$'
t_grep "round without offset: ntskit_agree from the round record" "$P" '^ntskit_agree 1$'
t_grep "round without offset: exit status 10" "$P" '^ntskit_sync_exit_status 10$'
