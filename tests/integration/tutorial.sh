#!/bin/sh
# ntskit-tutorial(7) runs as written: every "$ " command of its literal
# displays, in order, in one sh, in a scratch directory, with the checks its
# source's ".\" test:" comments give (exit status, a line to find in a file,
# a line that must be absent); the page's header comment documents them.
# The page must also be mandoc -Tlint clean. The Tor steps use the test run's
# shared private Tor network (tests/peers/shared.sh tor-up).
# Ports: 127.0.0.1:23000-23099 (the tutorial's), and the shared Tor network.
. "$NTSKIT_TOP/tests/lib.sh"

PAGE=$NTSKIT_TOP/lib/ntskit-tutorial.7
t_need_bins "$NTSKIT_BIN/nts-ke" "$NTSKIT_BIN/nts-poll" "$NTSKIT_BIN/nts-select" "$NTSKIT_BIN/nts-adjust" "$NTSKIT_BIN/nts-serve"
t_need_cmds mandoc danted chronyd faketime tor python3 openssl

if mandoc -Tlint -W warning "$PAGE" >"$T_DIR/lint.out" 2>&1; then t_ok "mandoc -Tlint ntskit-tutorial.7"
else t_fail "mandoc -Tlint ntskit-tutorial.7" "$(head -3 "$T_DIR/lint.out" | tr '\n' '|')"; fi

for p in $(seq 23000 23099); do
  t_port_free "$p" || { t_fail "tutorial ports free" "port $p is in use: $(ss -ltnupH "sport = :$p" | head -1)"; exit 0; }
done

# the extraction bites: a page whose text no longer matches what its
# commands do gives "not ok" lines (a wrong exit, a missing line, a line
# that should be absent), and a malformed check comment is refused
cat >"$T_DIR/mini.7" <<'MINI'
.Bd -literal
$ echo 'hello world' > f
.\" test: expect f ^hello w
.\" test: expect f goodbye
.\" test: absent f hello
$ false
$ grep -q nothing f
.\" test: exit 1
.\" test: instead echo replaced > g
$ echo original > g
.\" test: expect g ^replaced$
.Ed
$ echo outside any display > h
MINI
sh "$NTSKIT_TOP/tests/helpers/tutorial_extract.sh" "$T_DIR/mini.7" >"$T_DIR/mini.sh" &&
  mkdir "$T_DIR/mini" && ( cd "$T_DIR/mini" && TUTORIAL_WAIT_TICKS=2 sh "$T_DIR/mini.sh" ) >"$T_DIR/mini.out" 2>&1
if [ "$(grep -c '^ok - ' "$T_DIR/mini.out")" = 5 ] && [ "$(grep -c '^not ok - ' "$T_DIR/mini.out")" = 3 ] &&
   grep -q '^not ok - step 1: f has /goodbye/' "$T_DIR/mini.out" && grep -q '^not ok - step 1: f has no /hello/' "$T_DIR/mini.out" &&
   grep -q '^not ok - step 2 exits 0: false: exit 1' "$T_DIR/mini.out" && [ ! -e "$T_DIR/mini/h" ]; then
  t_ok "extraction self-test: a stale expectation, a wrong exit status and an unwanted line are reported"
else
  t_fail "extraction self-test" "$(tr '\n' '|' <"$T_DIR/mini.out" | head -c 400)"
fi
printf '.Bd -literal\n$ true\n.\\" test: expcet f x\n.Ed\n' >"$T_DIR/bad.7"
if sh "$NTSKIT_TOP/tests/helpers/tutorial_extract.sh" "$T_DIR/bad.7" >/dev/null 2>"$T_DIR/bad.err"; then
  t_fail "extraction self-test: a misspelt check is refused" "accepted"
else
  t_grep "extraction self-test: a misspelt check is refused" "$T_DIR/bad.err" 'bad test comment at line 3'
fi

# the page -> one sh script: each command, then its checks
sh "$NTSKIT_TOP/tests/helpers/tutorial_extract.sh" "$PAGE" >"$T_DIR/steps.sh" ||
  { t_fail "commands extracted from the page" "$(tail -1 "$T_DIR/steps.sh")"; exit 0; }
n=$(grep -c '^__step ' "$T_DIR/steps.sh")
[ "$n" -ge 30 ] && t_ok "commands extracted from the page ($n)" || t_fail "commands extracted from the page" "only $n"

W=$T_DIR/work
mkdir -p "$W"
# whatever a failed step left running: every *.pid file the tutorial writes
stop_left() {
  for f in "$W"/*.pid; do
    [ -f "$f" ] || continue
    p=$(head -n 1 "$f" | tr -cd 0-9)
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
    # only a process of this tutorial (its PID may have been reused since)
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$W" ] || tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$W" || continue
    echo "# still running after the tutorial: $(basename "$f") pid $p"
    kill -TERM "$p" 2>/dev/null
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$p" 2>/dev/null
  done
}
trap 'stop_left; t_cleanup' EXIT

start=$(date +%s)
( cd "$W" && TUTORIAL_DIR=$W NTSKIT_TOP=$NTSKIT_TOP NTSKIT_BIN=$NTSKIT_BIN NTSKIT_TMP=$NTSKIT_TMP sh "$T_DIR/steps.sh" ) \
  >"$T_DIR/steps.out" 2>"$T_DIR/steps.err" </dev/null
grep -E '^(ok|not ok) - |^# ' "$T_DIR/steps.out"
grep -q '^__done$' "$T_DIR/steps.out" && t_ok "every step ran" ||
  t_fail "every step ran" "the script stopped: $(tail -3 "$T_DIR/steps.err" | tr '\n' '|')"
echo "# tutorial: $(($(date +%s) - start)) s for $n commands"
for f in samples samples.socks samples.relay samples.tor; do
  [ -f "$W/$f" ] || continue
  echo "# $f: $(grep '^sample ' "$W/$f" | tr ' ' '\n' | sed -n 's/^delay=//p' | sort -g |
    awk '{ d[NR] = $1 } END { if (NR) printf "%d samples, median delay %.6f s", NR, d[int((NR + 1) / 2)]; else print "no sample" }')"
done
[ -f "$W/poll-tor-udp.trace" ] && echo "# Tor and UDP: $(grep -m1 -E '0x07' "$W/poll-tor-udp.trace")"

# the page's last steps stop everything: nothing left on its ports
sleep 0.5
left=$(ss -ltnupH | grep -E '127\.0\.0\.1:230[0-9][0-9] ' || true)
[ -z "$left" ] && t_ok "cleaning up: nothing left on 23000-23099" || t_fail "cleaning up: nothing left on 23000-23099" "$(echo "$left" | head -2 | tr '\n' '|')"
stop_left
