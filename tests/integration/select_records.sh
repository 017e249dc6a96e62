#!/bin/sh
# nts-select through its command line: offset record fields, falsetickers
# named in rejected=, pass-through, session records consumed for the
# RFC 8915 §8.5 certificate window, --stream rounds (by sample time and by
# idle time), min-agree and no-input exit codes, --explain, refid.
. "$NTSKIT_TOP/tests/lib.sh"

SEL=$NTSKIT_BIN/nts-select
[ -x "$SEL" ] || { t_skip "nts-select not built"; exit 0; }
IN=$T_DIR/in OUT=$T_DIR/out ERR=$T_DIR/err

# smp SOURCE NTP T OFFSET DELAY [LEAP] [AUTH]
smp() {
	echo "sample source=$1 ntp=$2 t=$3 offset=$4 delay=$5 disp=0.0001 stratum=2 leap=${6:-0} refid=PTB root-delay=0.002 root-disp=0.001 auth=${7:-nts} via=socks5-udp"
}
five() {   # round at time $1: four agree on +0.0100, one liar at +0.4
	for k in 0 1 2 3; do
		t=$(awk -v a="$1" -v k="$k" 'BEGIN { printf "%.0f", a + 2 * k }')
		smp a 192.0.2.1:123 "$t" +0.0100 0.02$k
		smp b 192.0.2.2:123 "$t" +0.0102 0.03$k
		smp c b.example:123 "$t" +0.0098 0.02$k
		smp d 192.0.2.4:123 "$t" +0.0101 0.04$k
		smp liar 192.0.2.5:123 "$t" +0.4000 0.02$k
	done
}

{ echo "# comment"; echo "note kept=1"; five 1700000000; } >"$IN"
"$SEL" --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 0 ] && t_ok "5 sources, one falseticker: exit 0" || t_fail "5 sources, one falseticker: exit 0" "rc=$rc $(cat "$ERR")"
t_grep "offset record with every field" "$OUT" '^offset t=1700000006\.000000 offset=\+0\.0[0-9]+ error=0\.[0-9]+ sources=5 agree=4 used=[a-d,]+ rejected=[a-z:,]*liar:falseticker leap=0 stratum=3 root-delay=0\.0[0-9]+ root-disp=0\.[0-9]+ refid=[0-9.a-f]+ bound=intersection$'
off=$(sed -n 's/^offset .* offset=\([^ ]*\) .*/\1/p' "$OUT")
echo "$off" | awk '{ exit !($1 > 0.0097 && $1 < 0.0103) }' && t_ok "combined offset +0.0100 +- 0.3 ms ($off)" || t_fail "combined offset" "$off"
t_grep "other record types passed through" "$OUT" '^note kept=1$'
[ "$(grep -c . "$OUT")" -eq 2 ] && t_ok "exactly one offset record and the passed line" || t_fail "one offset record" "$(cat "$OUT")"
t_grep "refid: the system peer's IPv4 address" "$OUT" 'refid=192\.0\.2\.[0-9]+ bound=intersection$'

# refid of a named source is a hash, not the name
{ smp solo time.example.org:123 1700000000 +0.001 0.02; } >"$IN"
"$SEL" <"$IN" >"$OUT" 2>"$ERR"
t_grep "refid: 8 hex digits for a named source" "$OUT" 'refid=[0-9a-f]{8} bound=intersection$'
grep -q 'example' "$OUT" && t_fail "the upstream's name is not advertised" "$(cat "$OUT")" || t_ok "the upstream's name is not advertised"

# min-agree not met; no majority; no samples
{ smp a 192.0.2.1:123 1700000000 +0.01 0.02; smp b 192.0.2.2:123 1700000000 +0.0101 0.02; } >"$IN"
"$SEL" --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 3 ] && [ ! -s "$OUT" ] && grep -q 'only 2 source(s) agree, --min-agree is 3' "$ERR" && t_ok "min-agree 3 with 2 sources: exit 3, reason on stderr" || t_fail "min-agree not met" "rc=$rc $(cat "$ERR")"
{ smp a 192.0.2.1:123 1700000000 +0.01 0.02; smp b 192.0.2.2:123 1700000000 +0.0101 0.02
  smp x 192.0.2.3:123 1700000000 +0.5 0.02; smp y 192.0.2.4:123 1700000000 +0.5001 0.02; } >"$IN"
"$SEL" <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 3 ] && grep -q 'no majority' "$ERR" && t_ok "2 against 2: no majority, exit 3" || t_fail "2 against 2" "rc=$rc $(cat "$ERR")"
echo "note only=1" >"$IN"
"$SEL" <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 4 ] && grep -q '^note only=1$' "$OUT" && t_ok "no sample: exit 4, other records still passed" || t_fail "no sample: exit 4" "rc=$rc"

# unauthenticated and unsynchronised samples are named
{ five 1700000000; smp plain 192.0.2.9:123 1700000000 +0.01 0.02 0 none; smp sick 192.0.2.8:123 1700000000 +0.01 0.02 3; } >"$IN"
"$SEL" --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"
t_grep "unauthenticated sample rejected by name" "$OUT" 'rejected=.*plain:unauthenticated'
t_grep "leap 3 sample rejected by name" "$OUT" 'rejected=.*sick:unsynchronised'
t_grep "each refused sample said on stderr" "$ERR" 'sample of plain not used: unauthenticated'

# session records: consumed (secrets not passed on), window applied
{ echo "session source=a ke=a:4460 ntp=192.0.2.1:123 aead=15 c2s=00 s2c=00 cookies=AA not-before=1600000000 not-after=1700000000"
  five 1700000000; } >"$IN"
"$SEL" --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"
grep -q '^session' "$OUT" && t_fail "session records are not passed on" "$(cat "$OUT")" || t_ok "session records are not passed on"
t_grep "sample after the certificate's not-after: cert-window (RFC 8915 8.5)" "$OUT" 'rejected=.*a:cert-window'
{ five 1700000000 | sed 's/^sample source=b \(.*\)$/sample source=b \1 not-before=1700000100 not-after=1800000000/'; } >"$IN"
"$SEL" --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"
t_grep "sample before its own not-before: cert-window" "$OUT" 'rejected=.*b:cert-window'

# --explain
five 1700000000 >"$IN"
"$SEL" --explain <"$IN" >"$OUT" 2>"$ERR"
t_grep "--explain shows the filter" "$ERR" 'liar: clock filter over 4 sample'
t_grep "--explain shows the intersection" "$ERR" 'intersection \(RFC 5905 11\.2\.1\)'

# --stream: rounds split by sample time
{ five 1700000000; echo "note between=1"; five 1700000064; five 1700000128; } >"$IN"
"$SEL" --stream --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"; rc=$?
n=$(grep -c '^offset ' "$OUT")
[ $rc -eq 0 ] && [ "$n" -eq 3 ] && t_ok "--stream: three rounds, three offset records" || t_fail "--stream: three rounds" "rc=$rc n=$n $(cat "$ERR")"
t_grep "--stream: third round's time" "$OUT" '^offset t=1700000134\.000000 '
t_grep "--stream: pass-through" "$OUT" '^note between=1$'
# --stream: a round ends after --round-gap seconds without input (same t)
five 1700000000 | sed 's/ t=[0-9.]* / t=1700000000 /' >"$IN"
( cat "$IN"; sleep 2; cat "$IN" ) | "$SEL" --stream --round-gap 0.5 >"$OUT" 2>"$ERR"; rc=$?
n=$(grep -c '^offset ' "$OUT")
[ "$n" -eq 2 ] && t_ok "--stream: idle gap closes a round" || t_fail "--stream: idle gap closes a round" "n=$n rc=$rc $(cat "$ERR")"
# a round with no agreement in stream mode is reported and skipped
{ five 1700000000; smp a 192.0.2.1:123 1700000064 +0.01 0.02; five 1700000128; } >"$IN"
"$SEL" --stream --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"; rc=$?
n=$(grep -c '^offset ' "$OUT")
[ $rc -eq 0 ] && [ "$n" -eq 2 ] && grep -q 'only 1 source' "$ERR" && t_ok "--stream: a round without agreement is skipped, said on stderr" || t_fail "--stream: round without agreement" "rc=$rc n=$n"

"$SEL" --help >"$OUT" 2>&1 && grep -q '^usage: nts-select' "$OUT" && t_ok "--help" || t_fail "--help" "$(head -2 "$OUT")"
printf '[select]\nmin-agree = 4\n' >"$T_DIR/c.conf"
five 1700000000 >"$IN"
"$SEL" --config "$T_DIR/c.conf" <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 0 ] && t_ok "--config min-agree 4 with 4 agreeing" || t_fail "--config min-agree 4" "rc=$rc $(cat "$ERR")"
"$SEL" --config "$T_DIR/c.conf" --min-agree 5 <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 3 ] && t_ok "--min-agree overrides the file" || t_fail "--min-agree overrides the file" "rc=$rc"
