#!/bin/sh
# nts-select --verdicts (nts-select(1)): one verdict record per source and a
# round record before the offset record, and in its place when there is none:
# selected, falseticker, distance, truechimer (too few agree), no-majority,
# unauthenticated, and no-answer for a source of an earlier --stream round
# (or of a session record) that sent nothing; every record readable by the
# project's record rules. Without --verdicts the output is unchanged.
# No network, no ports.
. "$NTSKIT_TOP/tests/lib.sh"
SEL=$NTSKIT_BIN/nts-select
t_need_bins "$SEL"
IN=$T_DIR/in OUT=$T_DIR/out ERR=$T_DIR/err

# smp SOURCE T OFFSET DELAY [AUTH] [ROOTDISP]
smp() {
	echo "sample source=$1 ntp=192.0.2.1:123 t=$2 offset=$3 delay=$4 disp=0.0001 stratum=2 leap=0 refid=PTB root-delay=0.002 root-disp=${6:-0.001} auth=${5:-nts} via=socks5-udp"
}
round() {   # T: a, b, c agree; liar is off by 0.4 s; far has a 3 s root dispersion
	for k in 0 1 2; do
		t=$(($1 + k))
		smp a $t +0.0100 0.02$k; smp b $t +0.0102 0.03$k; smp c $t +0.0098 0.02$k
		smp liar $t +0.4000 0.02$k; smp far $t +0.0100 0.02$k nts 3.0
	done
}
round 1700000000 >"$IN"
"$SEL" --min-agree 3 --verdicts <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 0 ] && t_ok "--verdicts: exit 0" || t_fail "--verdicts: exit 0" "exit $rc: $(cat "$ERR")"
for s in a b c; do
	t_grep "$s: selected, with its filter values" "$OUT" "^verdict t=1700000002\\.000000 source=$s verdict=selected samples=3 offset=\\+0\\.0[0-9]+ delay=0\\.0[0-9]+ disp=0\\.[0-9]+ jitter=0\\.[0-9]+ root-dist=0\\.[0-9]+ stratum=2 leap=0 last=1700000002\\.000000 via=socks5-udp\$"
done
t_grep "liar: falseticker" "$OUT" '^verdict .* source=liar verdict=falseticker samples=3 offset=\+0\.400000000 '
t_grep "far: distance (root distance above max-distance)" "$OUT" '^verdict .* source=far verdict=distance samples=3 .*root-dist=3\.[0-9]+ '
t_grep "round record: 5 sources, 3 agree, result offset" "$OUT" '^round t=1700000002\.000000 sources=5 candidates=4 agree=3 used=3 min-agree=3 result=offset$'
awk '$1 == "verdict" { v++ } $1 == "round" { if (v != 5) bad = 1; r = NR } $1 == "offset" { if (r == 0 || NR != r + 1) bad = 1; o++ }
	END { exit bad || o != 1 }' "$OUT" && t_ok "order: 5 verdicts, the round record, then the offset record" || t_fail "order" "$(cut -c1-40 "$OUT" | tr '\n' '|')"
# the project's record rules: every output line is read back by nts-select
# itself (malformed -> exit 65) and passed through unchanged
"$SEL" <"$OUT" >"$T_DIR/back" 2>"$T_DIR/back.err"; rc=$?
[ $rc -eq 4 ] && cmp -s "$OUT" "$T_DIR/back" && t_ok "records valid: read back and passed through by nts-select" ||
	t_fail "records valid: read back and passed through" "exit $rc: $(head -c 200 "$T_DIR/back.err")"

# without --verdicts: one offset record only (unchanged)
"$SEL" --min-agree 3 <"$IN" >"$T_DIR/plain" 2>/dev/null
[ "$(grep -c . "$T_DIR/plain")" -eq 1 ] && grep -q '^offset ' "$T_DIR/plain" && t_ok "without --verdicts: only the offset record" ||
	t_fail "without --verdicts: only the offset record" "$(cut -c1-40 "$T_DIR/plain" | tr '\n' '|')"

# too few agree: verdicts and the round record are still written (exit 3)
"$SEL" --min-agree 4 --verdicts <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 3 ] && t_ok "min-agree 4: exit 3" || t_fail "min-agree 4: exit 3" "exit $rc"
t_grep "min-agree 4: agreeing sources are truechimers" "$OUT" '^verdict .* source=a verdict=truechimer '
t_grep "min-agree 4: round record says too-few" "$OUT" '^round .* agree=3 used=0 min-agree=4 result=too-few$'
grep -q '^offset ' "$OUT" && t_fail "min-agree 4: no offset record" "one written" || t_ok "min-agree 4: no offset record"

# no majority
{ smp a 1700000000 +0.01 0.02; smp b 1700000000 +0.0101 0.02; smp x 1700000000 +0.5 0.02; smp y 1700000000 +0.5001 0.02; } >"$IN"
"$SEL" --verdicts <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 3 ] && t_ok "2 against 2: exit 3" || t_fail "2 against 2: exit 3" "exit $rc"
[ "$(grep -c '^verdict .* verdict=no-majority ' "$OUT")" -eq 4 ] && t_ok "2 against 2: four no-majority verdicts" || t_fail "2 against 2: four no-majority verdicts" "$(cat "$OUT")"
t_grep "2 against 2: round result no-majority" "$OUT" '^round .* result=no-majority$'

# unauthenticated samples only: the source is named with the reason
{ round 1700000000; smp plain 1700000000 +0.01 0.02 none; } >"$IN"
"$SEL" --min-agree 3 --verdicts <"$IN" >"$OUT" 2>"$ERR"
t_grep "unauthenticated source: verdict unauthenticated, no filter values" "$OUT" '^verdict .* source=plain verdict=unauthenticated samples=1 last=1700000000\.000000 via=socks5-udp$'

# --stream: a source of the first round that is silent in the second
{ round 1700000000; smp a 1700000100 +0.0100 0.02; smp b 1700000100 +0.0102 0.02; smp c 1700000100 +0.0099 0.02; } >"$IN"
"$SEL" --stream --round-gap 5 --min-agree 3 --verdicts <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^round ' "$OUT")" -eq 2 ] && t_ok "--stream: two rounds, two round records" || t_fail "--stream: two rounds" "exit $rc: $(grep -c '^round ' "$OUT")"
t_grep "--stream: silent source of the first round: no-answer, samples=0" "$OUT" '^verdict t=1700000100\.000000 source=liar verdict=no-answer samples=0$'
t_grep "--stream: second round's verdicts carry its time" "$OUT" '^verdict t=1700000100\.000000 source=a verdict=selected samples=1 '

# a source named only in a session record: no-answer
{ echo "session source=quiet ke=q.example:4460 ntp=q.example:123 aead=15 c2s=00 s2c=00 cookies=- not-before=1600000000 not-after=2000000000"; round 1700000000; } >"$IN"
"$SEL" --min-agree 3 --verdicts <"$IN" >"$OUT" 2>"$ERR"
t_grep "session-only source: no-answer" "$OUT" '^verdict .* source=quiet verdict=no-answer samples=0$'
