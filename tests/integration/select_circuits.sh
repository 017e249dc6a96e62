#!/bin/sh
# nts-select over sources polled on several Tor circuits (issue 16 items 2
# and 3), from synthetic sample records with a known truth: circuit=K runs a
# clock filter per circuit, the source combines them, the offset is the
# midpoint of the intersection of the sample intervals (bound=intersection)
# with a bar that holds the truth, tighter than one circuit's; samples that
# contradict each other fall back to the root distance
# (bound=root-distance); a falseticker's circuits stay out; a bad circuit
# field is a one-line error. No network.
. "$NTSKIT_TOP/tests/lib.sh"

SEL=$NTSKIT_BIN/nts-select
[ -x "$SEL" ] || { t_skip "nts-select not built"; exit 0; }
IN=$T_DIR/in OUT=$T_DIR/out ERR=$T_DIR/err
TRUTH=0.250

# circ SOURCE TRUTH [CIRCUITS [SHIFT]]: two samples per circuit, each
# circuit with its own round trip and outbound share (asymmetry; SHIFT x 3%
# more outbound), "circuit=K" unless CIRCUITS is 1; the offset a two-way
# exchange sees is truth + (out - back)/2
circ() {
	awk -v s="$1" -v truth="$2" -v n="${3:-4}" -v sh="${4:-0}" 'BEGIN {
		split("0.40 0.50 0.45 0.60", rtt, " ")
		split("0.35 0.62 0.55 0.30", f, " ")
		for (c = 1; c <= n; c++)
			for (k = 0; k < 2; k++) {
				d = rtt[c] + 0.03 * k; out = d * (f[c] + 0.03 * sh); back = d - out
				printf "sample source=%s ntp=192.0.2.9:123 t=%.6f offset=%+.9f delay=%.9f disp=0.000002 stratum=1 leap=0 refid=GPS root-delay=0.000000 root-disp=0.000100 auth=nts aead=15 via=tor%s\n",
					s, 1700000000 + 2 * k + 0.1 * c, truth + (out - back) / 2, d,
					(n > 1 ? " circuit=" c : "")
			}
	}'
}
field() { sed -n "s/^offset .* $1=\([^ ]*\).*/\1/p" "$OUT"; }
# holds OFFSET ERROR: the truth lies in offset +- error
holds() { awk -v o="$1" -v e="$2" -v t="$TRUTH" 'BEGIN { exit !(o - e <= t && t <= o + e) }'; }

# one source, 4 circuits
circ tor1 $TRUTH >"$IN"
"$SEL" --verdicts --explain <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 0 ] && t_ok "4 circuits of one source: exit 0" || t_fail "4 circuits: exit 0" "rc=$rc $(cat "$ERR")"
t_grep "4 circuits: offset from the intersection" "$OUT" '^offset .* bound=intersection$'
t_grep "4 circuits: the verdict counts the circuits" "$OUT" '^verdict .*source=tor1 verdict=selected samples=8 .* circuits=4 .*via=tor$'
t_grep "--explain names the bound" "$ERR" 'bound: sample intervals of the 1 agreeing source\(s\) intersect in \[\+0\.0[56][0-9]+, \+0\.3[89][0-9]+\]: offset \+0\.22'
o4=$(field offset) e4=$(field error)
holds "$o4" "$e4" && t_ok "4 circuits: the truth $TRUTH lies in $o4 +- $e4" || t_fail "4 circuits: bar holds the truth" "$o4 +- $e4"
awk -v o="$o4" -v t=$TRUTH 'BEGIN { d = o - t; exit !(d < 0.03 && d > -0.03) }' &&
	t_ok "4 circuits: within 30 ms of the truth ($o4)" || t_fail "4 circuits: within 30 ms" "$o4"

# the same source over its first circuit only (no circuit field)
circ tor1 $TRUTH 1 >"$IN"
"$SEL" <"$IN" >"$OUT" 2>"$ERR"
o1=$(field offset) e1=$(field error)
holds "$o1" "$e1" && t_ok "1 circuit: the truth lies in $o1 +- $e1" || t_fail "1 circuit: bar holds the truth" "$o1 +- $e1"
awk -v a="$o4" -v ea="$e4" -v b="$o1" -v eb="$e1" -v t=$TRUTH 'BEGIN {
	da = a - t; if (da < 0) da = -da; db = b - t; if (db < 0) db = -db
	exit !(da < db && ea < eb) }' &&
	t_ok "4 circuits beat 1: |error| and bar ($o4 +- $e4 against $o1 +- $e1)" ||
	t_fail "4 circuits beat 1" "$o4 +- $e4 against $o1 +- $e1"

# samples that contradict each other: no intersection, the root distance
{ circ tor1 $TRUTH 1; circ tor1 0.700 1 | sed 's/ t=1700000000\.1/ t=1700000001.1/; s/ t=1700000002\.1/ t=1700000003.1/'; } >"$IN"
"$SEL" --explain <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 0 ] && grep -q '^offset .* bound=root-distance$' "$OUT" &&
	t_ok "disjoint sample intervals: bound=root-distance" || t_fail "disjoint intervals: root distance" "rc=$rc $(cat "$OUT" "$ERR")"
t_grep "--explain says the intervals do not intersect" "$ERR" 'do not intersect: offset and error from the root distance'

# five sources of 4 circuits and a liar 2 s off: the liar's circuits are
# not intersected, the bar holds the truth and is tighter than one source's
{ sh=-2; for s in a b c d e; do circ $s $TRUTH 4 $sh; sh=$((sh + 1)); done; circ liar 2.25; } >"$IN"
"$SEL" --min-agree 3 <"$IN" >"$OUT" 2>"$ERR"; rc=$?
o5=$(field offset) e5=$(field error)
[ $rc -eq 0 ] && grep -q 'rejected=liar:falseticker bound=intersection\|rejected=.*liar:falseticker.* bound=intersection$' "$OUT" &&
	t_ok "5 sources x 4 circuits + a liar: liar out, bound=intersection" || t_fail "5 sources + liar" "rc=$rc $(cat "$OUT" "$ERR")"
holds "$o5" "$e5" && t_ok "5 sources: the truth lies in $o5 +- $e5" || t_fail "5 sources: bar holds the truth" "$o5 +- $e5"
awk -v a="$e5" -v b="$e4" 'BEGIN { exit !(a < b) }' && t_ok "5 sources: a tighter bar than one ($e5 < $e4)" ||
	t_fail "5 sources: tighter bar than one" "$e5 against $e4"

# bad circuit fields: one line naming the field, exit 65
for bad in 0 abc -1 65536; do
	circ tor1 $TRUTH | sed "1s/circuit=1/circuit=$bad/" >"$IN"
	"$SEL" <"$IN" >"$OUT" 2>"$ERR"; rc=$?
	[ $rc -eq 65 ] && [ "$(wc -l <"$ERR")" -eq 1 ] && grep -q "field 'circuit'" "$ERR" &&
		t_ok "circuit=$bad: exit 65, one line naming the field" || t_fail "circuit=$bad" "rc=$rc $(cat "$ERR")"
done
awk 'BEGIN { for (c = 1; c <= 17; c++) printf "sample source=x t=1700000000 offset=0 delay=0.1 disp=0 stratum=1 leap=0 root-delay=0 root-disp=0 auth=nts circuit=%d\n", c }' >"$IN"
"$SEL" <"$IN" >"$OUT" 2>"$ERR"; rc=$?
[ $rc -eq 65 ] && grep -q "stdin:17: field 'circuit': more than 16 circuits for source x" "$ERR" &&
	t_ok "a 17th circuit of a source: exit 65, named" || t_fail "17 circuits" "rc=$rc $(cat "$ERR")"
