#!/bin/sh
# Golden traces (tests/golden/README): one complete exchange, nts-ke
# --explain and nts-poll --explain against nts-serve on loopback, run with
# the test hooks (build/hooks, -DNK_TEST_HOOKS: a seeded DRBG for every
# random byte, a fixed clock that advances by a fixed step per reading),
# must print byte for byte what tests/golden/nts-ke.trace and
# tests/golden/nts-poll.trace hold. A mismatch prints a unified diff.
# NTSKIT_GOLDEN_UPDATE=1 rewrites the golden files instead.
# What would vary is fixed here, not ignored by the comparison: the ports
# (24210, 24211: taken means a failure, not a retry elsewhere), the
# certificate chain (tests/golden/pki, not a fresh tests/pki run), the
# status file; the scratch directory is replaced by $T_DIR in the traces.
# Also: no test hook in the binaries under test ($NTSKIT_BIN) nor in
# build/bin.
# NTSKIT_HOOKS overrides the hooks build directory (default build/hooks).
# Ports: 24210-24211.
. "$NTSKIT_TOP/tests/lib.sh"
HB=${NTSKIT_HOOKS:-$NTSKIT_TOP/build/hooks}/bin
G=$NTSKIT_TOP/tests/golden
NTP=24210 KEP=24211

# the hooks exist only in the hooks build
for d in "$NTSKIT_BIN" "$NTSKIT_TOP/build/bin"; do
  [ -d "$d" ] || continue
  bad=
  for b in "$d"/nts-*; do grep -q NTSKIT_TEST_ "$b" && bad="$bad $(basename "$b")"; done
  [ -z "$bad" ] && t_ok "no-test-hooks-in-$(basename "$(dirname "$d")")" ||
    t_fail "no-test-hooks-in-$(basename "$(dirname "$d")")" "NTSKIT_TEST_ found in:$bad"
done

for b in nts-ke nts-poll nts-serve; do
  [ -x "$HB/$b" ] || { t_fail "hooks-build" "$HB/$b not built: make hooks-build (make check builds it)"; exit 0; }
done
# stale hooks binaries would compare yesterday's code
new=$(find "$NTSKIT_TOP/lib" "$NTSKIT_TOP/nts-ke" "$NTSKIT_TOP/nts-poll" "$NTSKIT_TOP/nts-serve" \
  -name '*.[ch]' -newer "$HB/nts-poll" 2>/dev/null | head -3)
[ -z "$new" ] || { t_fail "hooks-build" "older than $(echo $new | tr ' ' ',')...: make hooks-build"; exit 0; }
grep -q NTSKIT_TEST_SEED "$HB/nts-poll" || { t_fail "hooks-build" "$HB/nts-poll has no test hooks"; exit 0; }

for p in $NTP $KEP; do
  t_port_free $p || { t_fail "ports" "port $p is in use"; exit 0; }
done

cp "$G/pki/root.crt" "$G/pki/ec256.fullchain.pem" "$G/pki/ec256.key" "$T_DIR/"
chmod 600 "$T_DIR/ec256.key"
printf 'status t=2000000000 stratum=2 refid=192.0.2.77 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' >"$T_DIR/status"

# The clocks: the client's starts at 2000000000 (2033-05-18, inside the
# golden leaf's window and after any build date until then) and steps
# 2 ms a reading; the server's is 0.25 s ahead and steps 0.1 ms.
export NTSKIT_TEST_SEED=ntskit-golden-1
t_bg serve env NTSKIT_TEST_TIME=2000000000.250000 NTSKIT_TEST_TIME_STEP=0.0001 "$HB/nts-serve" --listen "127.0.0.1:$NTP" --ke-listen "127.0.0.1:$KEP" \
  --cert "$T_DIR/ec256.fullchain.pem" --key "$T_DIR/ec256.key" \
  --cookie-keys "$T_DIR/keys" --status "$T_DIR/status"
t_wait_tcp 127.0.0.1 $KEP 5 && t_wait_udp 127.0.0.1 $NTP 5 ||
  { t_fail "serve-start" "$(tail -3 "$T_DIR/serve.log")"; exit 0; }

export NTSKIT_TEST_TIME=2000000000 NTSKIT_TEST_TIME_STEP=0.002
"$HB/nts-ke" --explain --ca "$T_DIR/root.crt" "localhost:$KEP" >"$T_DIR/session" 2>"$T_DIR/ke.raw"; rc=$?
[ $rc = 0 ] || { t_fail "nts-ke" "exit $rc: $(tail -2 "$T_DIR/ke.raw")"; exit 0; }
"$HB/nts-poll" --explain --count 1 <"$T_DIR/session" >"$T_DIR/sample" 2>"$T_DIR/poll.raw"; rc=$?
[ $rc = 0 ] || { t_fail "nts-poll" "exit $rc: $(tail -2 "$T_DIR/poll.raw")"; exit 0; }

# compare NAME: $T_DIR/NAME.raw (scratch path normalised) against $G/NAME.trace
compare() {
  sed "s|$T_DIR|\$T_DIR|g" "$T_DIR/$1.raw" >"$T_DIR/$1.trace"
  if [ "${NTSKIT_GOLDEN_UPDATE:-}" = 1 ]; then
    cp "$T_DIR/$1.trace" "$G/nts-$1.trace" && t_ok "golden-nts-$1 (rewritten: NTSKIT_GOLDEN_UPDATE=1)"
  elif diff -u "$G/nts-$1.trace" "$T_DIR/$1.trace" >"$T_DIR/$1.diff" 2>&1; then
    t_ok "golden-nts-$1"
  else
    sed 's/^/# /' "$T_DIR/$1.diff"
    t_fail "golden-nts-$1" "trace differs from tests/golden/nts-$1.trace (diff above; NTSKIT_GOLDEN_UPDATE=1 rewrites it if the change is meant)"
  fi
}
compare ke
compare poll
