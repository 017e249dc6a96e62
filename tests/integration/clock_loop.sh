#!/bin/sh
# Closed loop: a clock running +100 ppm fast, 0.5 s off at the start,
# samples with 1 ms jitter through the select algorithm into the adjust
# discipline.
#  1. clocksim (tests/helpers/clocksim.c: nts-select/select.c and
#     nts-adjust/adjust.c compiled in) runs a simulated day in well under a
#     second: after convergence |offset| < 1 ms and the frequency error
#     < 1 ppm; the convergence time is printed.
#  2. The same loop end to end through the real binaries: sample records ->
#     nts-select -> nts-adjust --state, nts-adjust under the vclock shim,
#     the test playing the kernel's clock between rounds (shorter run).
. "$NTSKIT_TOP/tests/lib.sh"

SIM=$NTSKIT_HELPERS/clocksim
[ -x "$SIM" ] || { t_skip "clocksim not built"; exit 0; }

# name, then clocksim arguments
sim() {
	n=$1; shift
	if "$SIM" --quiet "$@" >"$T_DIR/sim.out" 2>&1; then
		conv=$(sed -n 's/^converged-after //p' "$T_DIR/sim.out")
		mo=$(sed -n 's/^max-offset-after-convergence //p' "$T_DIR/sim.out")
		mf=$(sed -n 's/^max-freq-error-after-convergence //p' "$T_DIR/sim.out")
		echo "# $n: converged after $conv s (simulated), then |offset| <= $mo s, |freq error| <= $mf ppm"
		t_ok "$n: converged after $conv s"
	else
		t_fail "$n" "$(tr '\n' ' ' <"$T_DIR/sim.out")"
	fi
}
sim "simulated day, +100 ppm, 0.5 s off, 1 ms path jitter"
sim "same, seed 2" --seed 2
sim "same, seed 4" --seed 4
sim "pessimistic: 1 ms Gaussian offset noise the filter cannot see" --gaussian
sim "-100 ppm, 0.1 s off (slewed, not stepped)" --freq -100 --offset 0.1
sim "4 servers, one falseticker 0.25 s off" --sources 4 --falsetickers 1
sim "cron-like: one update every 16 min" --interval 1024 --hours 48

# ---- end to end through the binaries ----
SEL=$NTSKIT_BIN/nts-select
ADJ=$NTSKIT_BIN/nts-adjust
SHIM=$NTSKIT_HELPERS/vclock_shim.so
[ -x "$SEL" ] && [ -x "$ADJ" ] && [ -f "$SHIM" ] || { t_skip "binaries or vclock_shim.so not built"; exit 0; }
DROP=
if t_is_root; then
	command -v capsh >/dev/null 2>&1 || { t_skip "capsh needed to drop CAP_SYS_TIME"; exit 0; }
	DROP="capsh --drop=cap_sys_time --"
fi
VC=$T_DIR/vclock
export NTSKIT_VCLOCK_LOG="$T_DIR/vclock.log"
ST=$T_DIR/state
TRUE=$T_DIR/true        # the true time, kept by the test
echo "now=1699999999.500000000 freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >"$VC"
echo "1700000000.0" >"$TRUE"
ROUNDS=${CLOCK_LOOP_ROUNDS:-120}
i=0
: >"$T_DIR/trace"
while [ $i -lt $ROUNDS ]; do
	# 4 samples 2 s apart; one-way delays 5 ms + exponential(1 ms)
	awk -v seed=$((i + 17)) -v tt="$(cat "$TRUE")" -v vc="$(cat "$VC")" '
	BEGIN {
		srand(seed);
		n = split(vc, f, " ");
		for (j = 1; j <= n; j++) { split(f[j], a, "="); v[a[1]] = a[2]; }
		L = v["now"]; rate = 1 + (100 + v["freq"] / 65536) * 1e-6;
		for (k = 0; k < 4; k++) {
			dout = 0.005 - 0.001 * log(1 - rand()); din = 0.005 - 0.001 * log(1 - rand());
			off = (tt + 2 * k) - (L + 2 * k * rate) + (dout - din) / 2;
			printf "sample source=sim ntp=192.0.2.7:123 t=%.6f offset=%+.9f delay=%.9f disp=0.00001 stratum=1 leap=0 refid=GPS root-delay=0.0001 root-disp=0.0001 auth=nts via=udp\n", L + 2 * k * rate, off, dout + din;
		}
	}' >"$T_DIR/samples"
	"$SEL" <"$T_DIR/samples" >"$T_DIR/offset" 2>>"$T_DIR/sel.err" || { t_fail "end to end: nts-select round $i" "$(tail -1 "$T_DIR/sel.err")"; exit 0; }
	if [ -n "$DROP" ]; then
		NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM $DROP -c '"$0" "$@"' "$ADJ" --state "$ST" <"$T_DIR/offset" >>"$T_DIR/adjust" 2>>"$T_DIR/adj.err"
	else
		NTSKIT_VCLOCK=$VC LD_PRELOAD=$SHIM "$ADJ" --state "$ST" <"$T_DIR/offset" >>"$T_DIR/adjust" 2>>"$T_DIR/adj.err"
	fi || { t_fail "end to end: nts-adjust round $i" "$(tail -1 "$T_DIR/adj.err")"; exit 0; }
	# the kernel's part: 64 s pass; the clock runs 100 ppm fast plus the
	# frequency correction, and slews the pending singleshot at 500 ppm
	awk -v vc="$(cat "$VC")" -v tt="$(cat "$TRUE")" -v tf="$TRUE" '
	BEGIN {
		n = split(vc, f, " ");
		for (j = 1; j <= n; j++) { split(f[j], a, "="); v[a[1]] = a[2]; }
		L = v["now"]; fr = v["freq"] / 65536; p = v["pending"] * 1e-6;
		L += 64 * (1 + (100 + fr) * 1e-6);
		s = 500e-6 * 64; if (p > s) { L += s; p -= s } else if (p < -s) { L -= s; p += s } else { L += p; p = 0 }
		printf "now=%.9f freq=%d pending=%d status=%d maxerror=%d esterror=%d\n", L, v["freq"], p * 1e6, v["status"], v["maxerror"], v["esterror"];
		printf "%.9f\n", tt + 64 > tf;
		printf "%d %.9f %.4f\n", 0, (tt + 64) - L, 100 + fr > "/dev/stderr";
	}' >"$VC.new" 2>>"$T_DIR/trace" && mv "$VC.new" "$VC"
	i=$((i + 1))
done
last=$(tail -1 "$T_DIR/trace")
off=$(echo "$last" | awk '{print $2}')
fe=$(echo "$last" | awk '{print $3}')
conv=$(awk '{ r++; if ($2 > 0.001 || $2 < -0.001 || $3 > 1 || $3 < -1) c = r } END { print c * 64 }' "$T_DIR/trace")
echo "# end to end after $ROUNDS rounds of 64 s: offset $off s, frequency error $fe ppm; within 1 ms and 1 ppm from $conv s on"
steps=$(grep -c 'action=step' "$T_DIR/adjust")
[ "$steps" -eq 1 ] && t_ok "end to end: one startup step, then slews" || t_fail "end to end: one startup step" "$steps steps"
echo "$off" | awk '{ exit !($1 < 0.001 && $1 > -0.001) }' && t_ok "end to end: |offset| < 1 ms after $ROUNDS rounds" || t_fail "end to end: |offset| < 1 ms" "offset $off"
tail -20 "$T_DIR/trace" | awk '{ if ($2 > 0.001 || $2 < -0.001) bad = 1 } END { exit bad }' && t_ok "end to end: the last 20 rounds all within 1 ms" || t_fail "end to end: the last 20 rounds within 1 ms" "$(tail -20 "$T_DIR/trace" | tr '\n' '|')"
echo "$fe" | awk '{ exit !($1 < 1 && $1 > -1) }' && t_ok "end to end: frequency error < 1 ppm" || t_fail "end to end: frequency error < 1 ppm" "$fe ppm"
