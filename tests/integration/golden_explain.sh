#!/bin/sh
# Golden --explain traces of nts-select and nts-adjust (issue 17 item 2):
# fixed input records (tests/golden/*.in) in, the trace compared with the
# committed tests/golden/nts-select.explain and tests/golden/nts-adjust.explain,
# so that the teaching text cannot change unnoticed. A mismatch prints a
# unified diff (committed -> this build).
#
#   NTSKIT_GOLDEN_UPDATE=1 sh tests/run build/san golden_explain
# rewrites the golden files from this build instead of comparing: review the
# change with git diff and commit it with the change that caused it.
#
# Each golden file holds, per run, the command line ("$ ..."), its standard
# error (the trace), its standard output (the records) and its exit status.
# nts-adjust runs with --dry-run (no clock call) under tests/helpers/
# vclock_shim.so with a fixed virtual time, from a scratch directory so that
# paths are the same everywhere; its first line (which capabilities it
# holds) depends on who runs the test and is normalised.
. "$NTSKIT_TOP/tests/lib.sh"

SEL=$NTSKIT_BIN/nts-select ADJ=$NTSKIT_BIN/nts-adjust
SHIM=$NTSKIT_HELPERS/vclock_shim.so
G=$NTSKIT_TOP/tests/golden
t_need_bins "$SEL" "$ADJ"
[ -f "$SHIM" ] || { t_skip "vclock_shim.so not built"; exit 0; }
cp "$G/nts-select.in" "$G/nts-adjust.in" "$G/nts-adjust-startup.in" "$G/nts-adjust.state" \
	"$G/leap-seconds.list" "$T_DIR/" || { t_fail "golden inputs" "cannot copy from $G"; exit 0; }
cd "$T_DIR" || exit 0
export NTSKIT_VCLOCK="$T_DIR/vclock" NTSKIT_VCLOCK_LOG="$T_DIR/vclock.log"
echo "now=1798718400.000000000 freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >vclock

# run OUT INPUT CMD...: append the run of CMD < INPUT to OUT
run() {
	out=$1 in=$2 bin=$3; shift 3
	echo "\$ $(basename "$bin") $* < $in" >>"$out"
	LD_PRELOAD=$SHIM "$bin" "$@" <"$in" >run.out 2>run.err
	rc=$?
	sed 's/^\(nts-adjust: capabilities: \).*/\1(depends on who runs it)/' run.err >>"$out"
	echo "--- standard output" >>"$out"
	cat run.out >>"$out"
	echo "--- exit $rc" >>"$out"
}

# check NAME: compare NAME.explain with the golden one (or rewrite it)
check() {
	if [ "${NTSKIT_GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$1.explain" "$G/$1.explain" && t_ok "$1: golden file rewritten (NTSKIT_GOLDEN_UPDATE=1)" ||
			t_fail "$1: golden file rewritten" "cannot write $G/$1.explain"
		return
	fi
	if [ ! -f "$G/$1.explain" ]; then
		t_fail "$1 --explain matches tests/golden/$1.explain" "no golden file (NTSKIT_GOLDEN_UPDATE=1 makes it)"
		return
	fi
	if diff -u --label "tests/golden/$1.explain" --label "$1 --explain (this build)" \
			"$G/$1.explain" "$1.explain" >"$1.diff"; then
		t_ok "$1 --explain matches tests/golden/$1.explain"
	else
		cat "$1.diff"
		t_fail "$1 --explain matches tests/golden/$1.explain" "the trace differs (unified diff above)"
	fi
}

: >nts-select.explain
run nts-select.explain nts-select.in "$SEL" --explain --min-agree 2
# two sources that disagree: no majority
grep -E '^sample source=(a|d) ' nts-select.in >nts-select-2.in
run nts-select.explain nts-select-2.in "$SEL" --explain
check nts-select

: >nts-adjust.explain
run nts-adjust.explain nts-adjust.in "$ADJ" --dry-run --explain --stream --state nts-adjust.state \
	--leap-list leap-seconds.list --panic-accumulated 1
run nts-adjust.explain nts-adjust-startup.in "$ADJ" --dry-run --explain --leap-list none
check nts-adjust

# the dry run made no clock call (the log has reads and setters alike)
[ ! -s vclock.log ] && t_ok "nts-adjust --dry-run: no clock call under the shim" ||
	t_fail "nts-adjust --dry-run: no clock call under the shim" "$(head -c 300 vclock.log)"
cmp -s nts-adjust.state "$G/nts-adjust.state" && t_ok "nts-adjust --dry-run: state file unchanged" ||
	t_fail "nts-adjust --dry-run: state file unchanged" "$(cat nts-adjust.state)"
