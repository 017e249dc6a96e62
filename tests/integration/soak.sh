# The soak test of issue 14 (item 17), short: scripts/soak with 26 rounds of
# 2 s, one cycle of its faults (an upstream re-keyed, Dante away and back,
# an upstream 30 s ahead then back, a garbage line in the sessions file,
# nts-select killed mid-round, SIGHUP with a changed [poll] count, SIGTERM
# and a restart), on loopback, nts-adjust on the virtual clock. Its checks
# are this test's: no cookie sent twice, no packet outside the proxy (tshark
# on lo), each fault shown by last / ntskit-status / ntskit.prom / check_nts
# within one round, the virtual clock never stepped, a record every round.
# `make soak` runs the long one (SOAK_MINUTES, default 10).
# Ports: 24000-24020 on 127.0.0.1-2, 127.0.0.11-15, 127.0.0.31-34, ::1.
. "$NTSKIT_TOP/tests/lib.sh"

t_is_root || { t_skip "needs root (tshark on lo, Dante)"; exit 0; }
SOAK_ROUNDS=26 SOAK_INTERVAL=2 SOAK_PORT=24000 NTSKIT_BIN="$NTSKIT_BIN" NTSKIT_HELPERS="$NTSKIT_HELPERS" \
	timeout 170 sh "$NTSKIT_TOP/scripts/soak" >"$T_DIR/out" 2>"$T_DIR/err"
rc=$?
cat "$T_DIR/out"
case $rc in
0) grep -q '^ok - ' "$T_DIR/out" || t_fail "soak" "exit 0 but no check ran" ;;
77) ;;   # its SKIP line says why
*) grep -q '^not ok - ' "$T_DIR/out" ||
	t_fail "soak" "exit $rc without a failed check: $(tail -n 3 "$T_DIR/err" "$T_DIR/out" | tr '\n' '|')" ;;
esac
