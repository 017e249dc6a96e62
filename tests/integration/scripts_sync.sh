#!/bin/sh
# scripts/nts-sync end to end (nts-sync(8)) against real chrony NTS servers on
# loopback, nts-adjust under the virtual-clock shim and without CAP_SYS_TIME:
#  - --check: the example configuration passes; a broken one fails with the
#    FILE:LINE message and exit 78;
#  - --dry-run: nts-ke, then nts-poll | nts-select | nts-adjust; sample, offset,
#    adjust and sync records; the session file 0600; the last-run file;
#  - the second run does not run nts-ke (the cookies are in the state file);
#  - a source with no cookies left, or whose certificate window has passed,
#    gets a new nts-ke, the others do not;
#  - the lock refuses an overlapping run (exit 75);
#  - too few agreeing sources: exit 10; stages before nts-adjust run with no
#    capability;
#  - --follow: samples and adjust records keep coming; a dying stage stops it
#    with a non-zero exit;
#  - issue 14: --follow rewrites the last-run file (verdicts, offset, adjust,
#    sync with the interval) and, with --prom-dir, ntskit.prom after every
#    round; a run that fails (bad configuration, unreadable adjust state, no
#    session, a dead stage) still writes a sync record saying so and why;
#    ntskit-status reads the follow state without the network.
#  - a session of a source no longer configured is dropped, under the
#    session file's lock (FILE.lock), never while another program holds it.
# Ports: 127.0.0.1:21200-21209.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

SYNC=$NTSKIT_TOP/scripts/nts-sync
NTP1=21200 KE1=21201 NTP2=21202 KE2=21203
for b in nts-ke nts-select nts-adjust; do
	[ -x "$NTSKIT_BIN/$b" ] || { t_skip "$b not built"; exit 0; }
done
SHIM=$NTSKIT_HELPERS/vclock_shim.so
[ -f "$SHIM" ] || { t_skip "vclock_shim.so not built"; exit 0; }

# --- --check (needs no server, no nts-poll run) ---
if [ -x "$NTSKIT_BIN/nts-poll" ]; then
	sh "$SYNC" --config "$NTSKIT_TOP/scripts/ntskit.conf.example" --check >"$T_DIR/chk.out" 2>"$T_DIR/chk.err"; rc=$?
	[ $rc -eq 0 ] && t_ok "--check: scripts/ntskit.conf.example is valid" ||
		t_fail "--check: scripts/ntskit.conf.example is valid" "exit $rc: $(head -c 300 "$T_DIR/chk.err")"
	t_grep "--check: says OK and counts 5 sources" "$T_DIR/chk.out" 'configuration OK \(5 sources\)'
	{ echo "[proxy]"; echo "socks5 = 127.0.0.1:9050"; echo "[source a]"; echo "adress = x.example"; } >"$T_DIR/bad.conf"
	sh "$SYNC" --config "$T_DIR/bad.conf" --check >/dev/null 2>"$T_DIR/bad.err"; rc=$?
	[ $rc -eq 78 ] && t_ok "--check: broken config exits 78" || t_fail "--check: broken config exits 78" "exit $rc"
	t_grep "--check: FILE:LINE message" "$T_DIR/bad.err" "$T_DIR/bad.conf:4: \\[source a\\].*adress"
	[ "$(grep -c . "$T_DIR/bad.err")" -eq 1 ] && t_ok "--check: one line of error" || t_fail "--check: one line of error" "$(tr '\n' '|' <"$T_DIR/bad.err")"
	{ echo "[source a]"; echo "ca = $T_DIR/nonexistent.pem"; } >"$T_DIR/bad2.conf"
	sh "$SYNC" --config "$T_DIR/bad2.conf" --check >/dev/null 2>"$T_DIR/bad2.err"; rc=$?
	# 66, as nts-sync(8) and nts-ke(1) document for a CA file (was 78)
	[ $rc -eq 66 ] && grep -q "nonexistent.pem" "$T_DIR/bad2.err" && t_ok "--check: unreadable CA file named, exit 66" ||
		t_fail "--check: unreadable CA file named" "exit $rc: $(head -c 300 "$T_DIR/bad2.err")"
	: >"$T_DIR/empty.conf"
	sh "$SYNC" --config "$T_DIR/empty.conf" --check >/dev/null 2>"$T_DIR/empty.err"; rc=$?
	[ $rc -eq 78 ] && t_ok "--check: no source is an error" || t_fail "--check: no source is an error" "exit $rc"
	sh "$SYNC" --config "$T_DIR/missing.conf" --check >/dev/null 2>&1; rc=$?
	[ $rc -eq 78 ] && t_ok "--check: missing file exits 78" || t_fail "--check: missing file exits 78" "exit $rc"
fi
sh "$SYNC" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] && t_ok "unknown option: exit 64" || t_fail "unknown option: exit 64" "exit $rc"

[ -x "$NTSKIT_BIN/nts-poll" ] || { t_skip "nts-poll not built"; exit 0; }

# --- servers ---
t_pki "$T_DIR/pki"
chmod 644 "$T_DIR"/pki/*
CA=$T_DIR/pki/root.crt CERT=$T_DIR/pki/ec256.fullchain.pem KEY=$T_DIR/pki/ec256.sec1.key
if ! peer_chrony_server "$T_DIR/c1" $NTP1 $KE1 "$CERT" "$KEY"; then
	t_skip "chrony NTS server: $PEER_WHY"; exit 0
fi
peer_chrony_server "$T_DIR/c2" $NTP2 $KE2 "$CERT" "$KEY" || { t_skip "second chrony NTS server: $PEER_WHY"; exit 0; }

# nts-adjust under the virtual clock and without CAP_SYS_TIME (nts-sync takes
# the command from NTSKIT_ADJUST)
VC=$T_DIR/vclock
echo "now=1700000000.000000000 freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >"$VC"
export NTSKIT_VCLOCK_LOG="$T_DIR/vclock.log"
: >"$NTSKIT_VCLOCK_LOG"
cat >"$T_DIR/adjust-wrap" <<EOF
#!/bin/sh
# the capabilities this stage was given, for the privilege test
c=\$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/\$\$/status)
case "\$*" in *--stream*|*--state*) echo "\$c" >"$T_DIR/adjust.caps" ;; esac
# never the real clock: drop CAP_SYS_TIME when this stage holds CAP_SETPCAP to do so
if [ \$(( (0x\$c >> 8) & 1 )) -eq 1 ]; then
	exec env NTSKIT_VCLOCK="$VC" LD_PRELOAD="$SHIM" capsh --drop=cap_sys_time -- -c '"\$0" "\$@"' "$NTSKIT_BIN/nts-adjust" "\$@"
fi
exec env NTSKIT_VCLOCK="$VC" LD_PRELOAD="$SHIM" "$NTSKIT_BIN/nts-adjust" "\$@"
EOF
chmod 755 "$T_DIR/adjust-wrap"
export NTSKIT_ADJUST="$T_DIR/adjust-wrap"

# a wrapper around nts-ke that counts its runs and notes its capabilities
mkdir -p "$T_DIR/bin"
for t in nts-poll nts-select nts-adjust; do ln -s "$NTSKIT_BIN/$t" "$T_DIR/bin/$t"; done
cat >"$T_DIR/bin/nts-ke" <<EOF
#!/bin/sh
case "\$*" in *--help*|*--check-config*) exec "$NTSKIT_BIN/nts-ke" "\$@" ;; esac
echo "\$*" >>"$T_DIR/ke.runs"
sed -n 's/^CapEff:[[:space:]]*//p' /proc/\$\$/status >"$T_DIR/ke.caps"
exec "$NTSKIT_BIN/nts-ke" "\$@"
EOF
chmod 755 "$T_DIR/bin/nts-ke"
export NTSKIT_BIN="$T_DIR/bin"

CONF=$T_DIR/ntskit.conf
cat >"$CONF" <<EOF
# written by scripts_sync.sh
[source one]
address = localhost
ke-port = $KE1
ca = $CA

[source two]
address = localhost
ke-port = $KE2
ca = $CA

[poll]
count = 4
spacing = 0.1
timeout = 2

[select]
min-agree = 2
EOF
SD=$T_DIR/state
runs() { [ -f "$T_DIR/ke.runs" ] && grep -c . "$T_DIR/ke.runs" || echo 0; }

# --- run 1 ---
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >"$T_DIR/o1" 2>"$T_DIR/e1"; rc=$?
[ $rc -eq 0 ] && t_ok "run 1: exit 0" || t_fail "run 1: exit 0" "exit $rc: $(head -c 400 "$T_DIR/e1" | tr '\n' '|')"
[ "$(runs)" -eq 1 ] && t_ok "run 1: nts-ke ran once for both sources" || t_fail "run 1: nts-ke ran once for both sources" "$(runs) runs"
n=$(grep -c '^sample source=one ' "$T_DIR/o1"); m=$(grep -c '^sample source=two ' "$T_DIR/o1")
[ "$n" -eq 4 ] && [ "$m" -eq 4 ] && t_ok "run 1: 4 samples from each source" || t_fail "run 1: 4 samples from each source" "$n and $m"
t_grep "run 1: offset record, 2 of 2 agree" "$T_DIR/o1" '^offset t=[0-9.]+ offset=[-+][0-9.]+ error=[0-9.]+ sources=2 agree=2 used=(one,two|two,one) '
t_grep "run 1: dry-run adjust record" "$T_DIR/o1" '^adjust .*action=slew .*reason=dry-run,slew$'
t_grep "run 1: sync record" "$T_DIR/o1" '^sync t=[0-9]+ status=0 ke=0 poll=0 select=0 adjust=0 dry-run=1$'
grep -q '^session\|c2s=\|cookies=' "$T_DIR/o1" && t_fail "run 1: no secret on stdout" "session data printed" || t_ok "run 1: no secret on stdout"
m=$(stat -c %a "$SD/sessions" 2>/dev/null)
[ "$m" = 600 ] && t_ok "session file is 0600" || t_fail "session file is 0600" "mode $m"
[ "$(grep -c '^session ' "$SD/sessions")" -eq 2 ] && t_ok "session file holds both sources" || t_fail "session file holds both sources" "$(grep -c '^session ' "$SD/sessions")"
cmp -s "$T_DIR/o1" "$SD/last" && t_ok "last-run file holds the same records" || t_fail "last-run file holds the same records" "differs"
[ ! -s "$NTSKIT_VCLOCK_LOG" ] && t_ok "dry run: no clock call" || t_fail "dry run: no clock call" "$(head -c 200 "$NTSKIT_VCLOCK_LOG")"
[ ! -e "$SD/adjust.state" ] && t_ok "dry run: no adjust state written" || t_fail "dry run: no adjust state written" "exists"

# --- run 2: cookies in the state file, no nts-ke ---
mkdir -p "$T_DIR/prom"
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run --prom-dir "$T_DIR/prom" >"$T_DIR/o2" 2>"$T_DIR/e2"; rc=$?
[ $rc -eq 0 ] && t_ok "run 2: exit 0" || t_fail "run 2: exit 0" "exit $rc: $(head -c 400 "$T_DIR/e2" | tr '\n' '|')"
[ "$(runs)" -eq 1 ] && t_ok "run 2: nts-ke not run (cookies in state)" || t_fail "run 2: nts-ke not run (cookies in state)" "$(runs) runs: $(tail -1 "$T_DIR/ke.runs")"
t_grep "run 2: offset record" "$T_DIR/o2" '^offset .* agree=2 '
t_grep "run 2: sync record says ke=-" "$T_DIR/o2" '^sync .* ke=- poll=0 select=0 adjust=0 '

t_grep "run 2: --prom-dir: ntskit-prom wrote the offset" "$T_DIR/prom/ntskit.prom" '^ntskit_offset_seconds [-+]?[0-9.]+$'
t_grep "run 2: --prom-dir: 8 cookies left for source one" "$T_DIR/prom/ntskit.prom" '^ntskit_source_cookies\{source="one"\} 8$'

# --- a source without cookies: nts-ke for it alone ---
sed 's/^\(session source=two .*\) cookies=[^ ]* /\1 cookies=- /' "$SD/sessions" >"$T_DIR/s.tmp" && cat "$T_DIR/s.tmp" >"$SD/sessions"
grep -q '^session source=two .* cookies=- ' "$SD/sessions" || t_fail "test setup" "could not empty the cookies of source two"
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >"$T_DIR/o3" 2>"$T_DIR/e3"; rc=$?
[ $rc -eq 0 ] && t_ok "run 3: exit 0" || t_fail "run 3: exit 0" "exit $rc: $(head -c 400 "$T_DIR/e3" | tr '\n' '|')"
[ "$(runs)" -eq 2 ] && t_ok "run 3: nts-ke ran again" || t_fail "run 3: nts-ke ran again" "$(runs) runs"
t_grep "run 3: nts-ke only for the source without cookies" "$T_DIR/e3" '^nts-sync: nts-ke for: two$'
grep -q '^session source=two .* cookies=- ' "$SD/sessions" && t_fail "run 3: source two has cookies again" "cookies=-" || t_ok "run 3: source two has cookies again"
t_grep "run 3: offset from both" "$T_DIR/o3" '^offset .* agree=2 used=(one,two|two,one) '

# --- a session whose certificate has expired since: nts-ke for it ---
sed 's/^\(session source=one .*\) not-after=[0-9]*/\1 not-after=1600000000/' "$SD/sessions" >"$T_DIR/s.tmp" && cat "$T_DIR/s.tmp" >"$SD/sessions"
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >"$T_DIR/o3b" 2>"$T_DIR/e3b"; rc=$?
[ $rc -eq 0 ] && t_ok "expired certificate window: exit 0" || t_fail "expired certificate window: exit 0" "exit $rc: $(head -c 300 "$T_DIR/e3b" | tr '\n' '|')"
t_grep "expired certificate window: nts-ke for that source only" "$T_DIR/e3b" '^nts-sync: nts-ke for: one$'
grep -q '^session source=one .* not-after=1600000000' "$SD/sessions" && t_fail "expired certificate window: session replaced" "old window kept" || t_ok "expired certificate window: session replaced"

# --- a source no longer configured: its session is dropped, under FILE.lock ---
# Another program holds the session file's lock for 1.5 s when nts-sync
# starts; the prune must wait for it (the file's inode does not change while
# the lock is held) and then drop the session of the source that is gone.
sed -n 's/^session source=one /session source=gone /p' "$SD/sessions" >>"$SD/sessions"
grep -q '^session source=gone ' "$SD/sessions" || t_fail "test setup" "no session for source gone"
rm -f "$T_DIR/ino.before" "$T_DIR/ino.after"
flock "$SD/sessions.lock" sh -c 'ls -i "$0/sessions" >"$1.tmp"; mv "$1.tmp" "$1"; sleep 1.5; ls -i "$0/sessions" >"$2"' "$SD" "$T_DIR/ino.before" "$T_DIR/ino.after" &
hp=$!
i=0; while [ ! -s "$T_DIR/ino.before" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >"$T_DIR/o3c" 2>"$T_DIR/e3c"; rc=$?
wait $hp
[ $rc -eq 0 ] && t_ok "removed source: exit 0" || t_fail "removed source: exit 0" "exit $rc: $(head -c 300 "$T_DIR/e3c" | tr '\n' '|')"
grep -q '^session source=gone ' "$SD/sessions" && t_fail "removed source: its session dropped" "still there" || t_ok "removed source: its session dropped"
cmp -s "$T_DIR/ino.before" "$T_DIR/ino.after" && t_ok "removed source: the session file not replaced while another program held its lock" ||
	t_fail "removed source: the session file not replaced while the lock was held" "$(cat "$T_DIR/ino.before") -> $(cat "$T_DIR/ino.after")"

# --- --quiet (cron): silent when all is well, everything on stderr when not ---
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run --quiet >"$T_DIR/oq" 2>"$T_DIR/eq"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T_DIR/oq" ] && [ ! -s "$T_DIR/eq" ] && t_ok "--quiet: a good run prints nothing" ||
	t_fail "--quiet: a good run prints nothing" "exit $rc, stdout $(wc -c <"$T_DIR/oq") B, stderr: $(head -c 200 "$T_DIR/eq" | tr '\n' '|')"
grep -q '^sync .* status=0 ' "$SD/last" && t_ok "--quiet: the last-run file is still written" || t_fail "--quiet: the last-run file is still written" "$(tail -1 "$SD/last")"
{ echo "[source a]"; echo "address = localhost"; echo "ca = $T_DIR/nonexistent.pem"; } >"$T_DIR/qbad.conf"
sh "$SYNC" --config "$T_DIR/qbad.conf" --state-dir "$T_DIR/qbad" --quiet >"$T_DIR/oq2" 2>"$T_DIR/eq2"; rc=$?
[ $rc -eq 66 ] && [ ! -s "$T_DIR/oq2" ] && grep -q nonexistent.pem "$T_DIR/eq2" && t_ok "--quiet: a failed run says why on stderr (exit 66)" ||
	t_fail "--quiet: a failed run says why on stderr" "exit $rc: $(head -c 200 "$T_DIR/eq2" | tr '\n' '|')"

# --- privileges: nothing but nts-adjust keeps a capability ---
if t_is_root; then
	[ "$(cat "$T_DIR/ke.caps")" = 0000000000000000 ] && t_ok "as root: nts-ke runs with no capability" ||
		t_fail "as root: nts-ke runs with no capability" "CapEff $(cat "$T_DIR/ke.caps")"
	c=$(cat "$T_DIR/adjust.caps")
	[ $(( (0x$c >> 25) & 1 )) -eq 1 ] && t_ok "as root: the nts-adjust stage is given CAP_SYS_TIME" ||
		t_fail "as root: the nts-adjust stage is given CAP_SYS_TIME" "CapEff $c"
fi

# as systemd runs it (ntskit-sync.service): an unprivileged user whose only
# capability is an ambient CAP_SYS_TIME; nts-sync must hand it to nts-adjust
# alone (dry run: no clock call in any case)
if t_is_root && command -v capsh >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	# the user must reach the files: let it traverse (not list) the scratch directories
	chmod 711 "$T_DIR"; chmod o+x "$(dirname "$T_DIR")"
	mkdir -p "$T_DIR/nobody"; chown nobody "$T_DIR/nobody"
	for f in ke.runs ke.caps adjust.caps; do touch "$T_DIR/$f"; chmod 666 "$T_DIR/$f"; done
	: >"$T_DIR/ke.caps"; : >"$T_DIR/adjust.caps"
	cp "$CONF" "$T_DIR/nobody.conf"; chmod 644 "$T_DIR/nobody.conf"
	capsh --keep=1 --user=nobody --inh=cap_sys_time --addamb=cap_sys_time -- \
		-c 'exec sh "$0" "$@"' "$SYNC" --config "$T_DIR/nobody.conf" --state-dir "$T_DIR/nobody/state" --dry-run >"$T_DIR/o7" 2>"$T_DIR/e7"; rc=$?
	[ $rc -eq 0 ] && t_ok "non-root with ambient CAP_SYS_TIME (systemd): exit 0" ||
		t_fail "non-root with ambient CAP_SYS_TIME (systemd): exit 0" "exit $rc: $(head -c 300 "$T_DIR/e7" | tr '\n' '|')"
	[ "$(cat "$T_DIR/ke.caps")" = 0000000000000000 ] && t_ok "non-root: nts-ke runs with no capability" ||
		t_fail "non-root: nts-ke runs with no capability" "CapEff '$(cat "$T_DIR/ke.caps")'"
	[ "$(cat "$T_DIR/adjust.caps")" = 0000000002000000 ] && t_ok "non-root: nts-adjust alone gets CAP_SYS_TIME" ||
		t_fail "non-root: nts-adjust alone gets CAP_SYS_TIME" "CapEff '$(cat "$T_DIR/adjust.caps")'"
	m=$(stat -c '%U %a' "$T_DIR/nobody/state/sessions" 2>/dev/null)
	[ "$m" = "nobody 600" ] && t_ok "non-root: session file owned by the user, 0600" || t_fail "non-root: session file owned by the user, 0600" "'$m'"
fi

# --- the lock ---
( exec 9>>"$SD/lock"; flock -n 9 && sleep 3 ) &
LPID=$!; T_PIDS="$T_PIDS $LPID"
t_wait_flock "$SD/lock"
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >/dev/null 2>"$T_DIR/e4"; rc=$?
[ $rc -eq 75 ] && t_ok "lock held: overlapping run refused (exit 75)" || t_fail "lock held: overlapping run refused (exit 75)" "exit $rc"
t_grep "lock held: says so" "$T_DIR/e4" 'another nts-sync holds'
wait $LPID
n=$(runs)
# the first run's nts-adjust stage waits (at most 60 s) until the second run
# has ended: on a loaded machine the second's configuration check could
# otherwise outlast the whole first run, and both would run in turn
cat >"$T_DIR/adjust-hold" <<EOF
#!/bin/sh
# only the pipeline's stage (--state), not the configuration check
case "\$*" in *--state*) i=0; while [ ! -e "$T_DIR/p2.done" ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done ;; esac
exec "$NTSKIT_ADJUST" "\$@"
EOF
chmod 755 "$T_DIR/adjust-hold"
NTSKIT_ADJUST="$T_DIR/adjust-hold" sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >/dev/null 2>&1 &
P1=$!
t_wait_flock "$SD/lock"   # the second starts while the first holds the lock
sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >/dev/null 2>&1 &
P2=$!
wait $P2; r2=$?; touch "$T_DIR/p2.done"; wait $P1; r1=$?
{ [ $r1 -eq 0 ] && [ $r2 -eq 75 ]; } || { [ $r1 -eq 75 ] && [ $r2 -eq 0 ]; } &&
	t_ok "two runs at once: one runs, the other exits 75" || t_fail "two runs at once: one runs, the other exits 75" "exits $r1 and $r2"

# --- too few agree: exit 10 ---
sed 's/^min-agree = 2/min-agree = 3/' "$CONF" >"$T_DIR/three.conf"
sh "$SYNC" --config "$T_DIR/three.conf" --state-dir "$SD" --dry-run >"$T_DIR/o5" 2>"$T_DIR/e5"; rc=$?
[ $rc -eq 10 ] && t_ok "min-agree 3 with 2 sources: exit 10" || t_fail "min-agree 3 with 2 sources: exit 10" "exit $rc: $(head -c 300 "$T_DIR/e5" | tr '\n' '|')"
t_grep "min-agree 3: sync record names nts-select's 3 and nts-adjust's 5" "$T_DIR/o5" '^sync .*status=10 .*select=3 adjust=5 '

# --- no NTS-KE server reachable: exit 12, and a sync record in the last-run file ---
printf '[source gone]\naddress = localhost\nke-port = 21209\nca = %s\n[ke]\ntimeout = 3\n' "$CA" >"$T_DIR/gone.conf"
sh "$SYNC" --config "$T_DIR/gone.conf" --state-dir "$T_DIR/gone" --dry-run >"$T_DIR/o8" 2>"$T_DIR/e8"; rc=$?
[ $rc -eq 12 ] && t_ok "no NTS-KE server reachable: exit 12" || t_fail "no NTS-KE server reachable: exit 12" "exit $rc: $(head -c 300 "$T_DIR/e8" | tr '\n' '|')"
t_grep "no session: sync record in the last-run file" "$T_DIR/gone/last" '^sync t=[0-9]+ status=12 ke=2 poll=- select=- adjust=- dry-run=1 reason=no-session$'

# --- issue 14: failed runs still write their sync record ---
# a broken configuration: exit 78, and the last-run file says so
mkdir -p "$T_DIR/badrun"
sh "$SYNC" --config "$T_DIR/bad.conf" --state-dir "$T_DIR/badrun" --dry-run >/dev/null 2>"$T_DIR/e10"; rc=$?
[ $rc -eq 78 ] && t_ok "bad configuration: exit 78" || t_fail "bad configuration: exit 78" "exit $rc"
t_grep "bad configuration: sync record status 78, reason bad-config" "$T_DIR/badrun/last" '^sync t=[0-9]+ status=78 ke=- poll=- select=- adjust=- dry-run=1 reason=bad-config$'
m=$(stat -c %a "$T_DIR/badrun/last" 2>/dev/null)
[ "$m" = 644 ] && t_ok "bad configuration: last-run file 0644" || t_fail "bad configuration: last-run file 0644" "mode '$m'"
# an adjust state that cannot be parsed is not a failure (issue 14 item 7):
# nts-adjust counts the run as a startup and says so in one line
mkdir -p "$T_DIR/garbled"; cp -p "$SD/sessions" "$T_DIR/garbled/sessions"
echo "adjust-state started=banana" >"$T_DIR/garbled/adjust.state"
sh "$SYNC" --config "$CONF" --state-dir "$T_DIR/garbled" --dry-run >/dev/null 2>"$T_DIR/e11g"; rc=$?
[ $rc -eq 0 ] && grep -q "adjust.state cannot be parsed .*treated as never synchronised" "$T_DIR/e11g" &&
	t_ok "garbled adjust state: exit 0, a startup, said in one line" || t_fail "garbled adjust state: exit 0, a startup" "exit $rc: $(head -c 300 "$T_DIR/e11g" | tr '\n' '|')"
# an adjust state that cannot be read (a directory): nts-adjust's 6, and the
# samples and verdicts of the run
mkdir -p "$T_DIR/corrupt/adjust.state"; cp -p "$SD/sessions" "$T_DIR/corrupt/sessions"
sh "$SYNC" --config "$CONF" --state-dir "$T_DIR/corrupt" --dry-run >/dev/null 2>"$T_DIR/e11"; rc=$?
[ $rc -eq 6 ] && t_ok "unreadable adjust state: exit 6" || t_fail "unreadable adjust state: exit 6" "exit $rc: $(head -c 300 "$T_DIR/e11" | tr '\n' '|')"
t_grep "unreadable adjust state: sync record says bad-adjust-state" "$T_DIR/corrupt/last" '^sync t=[0-9]+ status=6 ke=- poll=0 select=0 adjust=6 dry-run=1 reason=bad-adjust-state$'
t_grep "one-shot: verdict records of nts-select kept in the last-run file" "$T_DIR/corrupt/last" '^verdict t=[0-9.]+ source=one verdict=selected samples=4 '

# --- not a dry run: the virtual clock is slewed ---
sh "$SYNC" --config "$CONF" --state-dir "$SD" >"$T_DIR/o6" 2>"$T_DIR/e6"; rc=$?
[ $rc -eq 0 ] && t_ok "real run (virtual clock): exit 0" || t_fail "real run (virtual clock): exit 0" "exit $rc: $(head -c 300 "$T_DIR/e6" | tr '\n' '|')"
t_grep "real run: the clock is slewed" "$T_DIR/o6" '^adjust .*action=slew .*reason=slew$'
t_grep "real run: ADJ_OFFSET_SINGLESHOT in the shim log" "$NTSKIT_VCLOCK_LOG" 'modes=0x8001 '
[ -f "$SD/adjust.state" ] && t_ok "real run: adjust state kept in the state dir" || t_fail "real run: adjust state kept in the state dir" "no $SD/adjust.state"

# --- follow ---
printf '[poll]\ncount = 1\ntimeout = 2\ninterval = 1\n' >"$T_DIR/f.poll"
sed '/^\[poll\]/,/^$/d' "$CONF" >"$T_DIR/follow.conf"; cat "$T_DIR/f.poll" >>"$T_DIR/follow.conf"
mkdir -p "$T_DIR/fprom"
rm -f "$SD/last"
t_bg follow sh "$SYNC" --config "$T_DIR/follow.conf" --state-dir "$SD" --dry-run --follow --prom-dir "$T_DIR/fprom"
cnt() { c=$(grep -c "$1" "$2" 2>/dev/null); echo "${c:-0}"; }
# issue 14: the last-run file is rewritten after every round (the first
# rounds of one sample each may find no majority: wait for one with an offset)
# (a copy: the next round rewrites the file within a second)
SNAP=$T_DIR/snap; mkdir -p "$SNAP"
i=0
while [ $i -lt 150 ]; do
	cp "$SD/last" "$SNAP/last" 2>/dev/null && grep -q '^sync .* status=0 ' "$SNAP/last" && break
	sleep 0.1; i=$((i + 1))
done
cp "$SD/sessions" "$SNAP/sessions"; cp "$SD/adjust.state" "$SNAP/adjust.state" 2>/dev/null
t_grep "--follow: last-run file written after a round, with the interval" "$SNAP/last" '^sync t=[0-9]+ status=0 follow=1 interval=1 dry-run=1$'
t_grep "--follow: last-run file holds the round's verdicts" "$SNAP/last" '^verdict t=[0-9.]+ source=(one|two) verdict=selected samples=1 '
t_grep "--follow: ... its offset record" "$SNAP/last" '^offset .* agree=2 '
t_grep "--follow: ... and its adjust record" "$SNAP/last" '^adjust .*reason=dry-run,'
t1=$(sed -n 's/^sync t=\([0-9]*\) .*/\1/p' "$SD/last")
i=0
while [ $i -lt 60 ] && [ "$(sed -n 's/^sync t=\([0-9]*\) .*/\1/p' "$SD/last" 2>/dev/null)" = "$t1" ]; do sleep 0.1; i=$((i + 1)); done
t2=$(sed -n 's/^sync t=\([0-9]*\) .*/\1/p' "$SD/last")
[ -n "$t2" ] && [ "$t2" != "$t1" ] && t_ok "--follow: the last-run file is rewritten by the next round" || t_fail "--follow: the last-run file is rewritten by the next round" "t=$t1 then $t2"
[ "$(grep -c '^sync ' "$SD/last")" -eq 1 ] && t_ok "--follow: one round, one sync record, in the file" || t_fail "--follow: one round, one sync record" "$(grep -c '^sync ' "$SD/last")"
m=$(stat -c %a "$SD/last" 2>/dev/null)
[ "$m" = 644 ] && t_ok "--follow: last-run file 0644" || t_fail "--follow: last-run file 0644" "mode '$m'"
i=0
while [ $i -lt 100 ] && ! grep -q '^ntskit_source_selected{source="one",verdict="selected"} 1$' "$T_DIR/fprom/ntskit.prom" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
t_grep "--follow --prom-dir: ntskit.prom written" "$T_DIR/fprom/ntskit.prom" '^ntskit_source_selected\{source="one",verdict="selected"\} 1$'
t_grep "--follow --prom-dir: cookies from the session file" "$T_DIR/fprom/ntskit.prom" '^ntskit_source_cookies\{source="one"\} [0-9]$'
ls "$T_DIR/fprom" "$SD" | grep -q '\.tmp' && t_fail "--follow: no temporary file left" "$(ls "$T_DIR/fprom" "$SD" | tr '\n' ' ')" || t_ok "--follow: no temporary file left"
sh "$NTSKIT_TOP/scripts/check_nts" -f "$SNAP/last" >"$T_DIR/chk.follow"; rc=$?
[ $rc -eq 0 ] && t_ok "--follow: check_nts reads the round as OK" || t_fail "--follow: check_nts reads the round as OK" "exit $rc: $(cat "$T_DIR/chk.follow")"
sh "$NTSKIT_TOP/scripts/ntskit-status" --state-dir "$SNAP" >"$T_DIR/status.follow" 2>&1; rc=$?
[ $rc -eq 0 ] && t_ok "--follow: ntskit-status shows the state dir" || t_fail "--follow: ntskit-status shows the state dir" "exit $rc: $(head -c 300 "$T_DIR/status.follow")"
t_grep "--follow: ntskit-status: source one selected, its cookies and transport" "$T_DIR/status.follow" '^  \* one +selected +[-+]0\.[0-9]+ +0\.[0-9]+ +0\.[0-9]+ +[0-9]+[smhd] +1 +[0-9] +[0-9]+[smhd] +udp$'
t_grep "--follow: ntskit-status: a follow round, interval 1 s" "$T_DIR/status.follow" 'round of nts-sync --follow, interval 1 s'

i=0
while [ $i -lt 150 ] && [ "$(cnt '^adjust ' "$T_DIR/follow.log")" -lt 3 ]; do sleep 0.1; i=$((i + 1)); done
n=$(cnt '^adjust ' "$T_DIR/follow.log")
[ "$n" -ge 3 ] && t_ok "--follow: adjust records keep coming ($n in $((i / 10)) s)" || t_fail "--follow: adjust records keep coming" "$n: $(tail -c 400 "$T_DIR/follow.log" | tr '\n' '|')"
# chrony two restarts with new cookie keys: it answers NTS NAK (RFC 8915
# §5.7); nts-sync gets a new NTS-KE for it alone and goes on
kes=$(runs)
t_stop chrony-c2
rm -rf "$T_DIR/c2"
if peer_chrony_server "$T_DIR/c2" $NTP2 $KE2 "$CERT" "$KEY"; then
	i=0
	while [ $i -lt 200 ] && [ "$(runs)" -eq "$kes" ]; do sleep 0.1; i=$((i + 1)); done
	t_grep "--follow: NTS NAK from a restarted server noticed" "$T_DIR/follow.log" "^nts-poll: two: Kiss-o'-Death NTSN"
	[ "$(runs)" -gt "$kes" ] && t_ok "--follow: nts-ke run again after the NAK ($((i / 10)) s)" || t_fail "--follow: nts-ke run again after the NAK" "no new nts-ke run in 20 s"
	t_grep "--follow: for that source only" "$T_DIR/follow.log" '^nts-sync: nts-ke for: two$'
	n=$(cnt '^adjust ' "$T_DIR/follow.log")
	i=0
	while [ $i -lt 150 ] && [ "$(cnt '^adjust ' "$T_DIR/follow.log")" -le "$n" ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(cnt '^adjust ' "$T_DIR/follow.log")" -gt "$n" ] && t_ok "--follow: adjust records again after the new NTS-KE" ||
		t_fail "--follow: adjust records again after the new NTS-KE" "$(tail -c 400 "$T_DIR/follow.log" | tr '\n' '|')"
else
	t_fail "chrony two restarted" "$PEER_WHY"
fi
# kill nts-select: nts-sync must stop with a non-zero status
fp=$(t_pid follow)
sp=$(pgrep -s "$fp" -f "$NTSKIT_BIN/nts-select" | head -1)
if [ -n "$sp" ]; then
	kill -KILL "$sp"
	i=0; while kill -0 "$fp" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$fp" 2>/dev/null; then t_fail "--follow: a dead stage stops it" "still running 10 s after nts-select was killed"
	else
		wait "$fp" 2>/dev/null; rc=$?
		t_grep "--follow: a dead stage stops it, naming the stage" "$T_DIR/follow.log" 'nts-select exited \([0-9]+\): stopping'
		t_grep "--follow: the dead stage is in the last-run file" "$SD/last" '^sync t=[0-9]+ status=[0-9]+ follow=1 interval=1 dry-run=1 reason=[a-z0-9-]+$'
	fi
else
	t_fail "--follow: a dead stage stops it" "no nts-select process found"
fi
sleep 0.5
left=$(ps -s "$fp" -o pid=,stat=,args= 2>/dev/null | awk '$2 !~ /^Z/')
[ -z "$left" ] && t_ok "--follow: no process left behind" || t_fail "--follow: no process left behind" "$(echo "$left" | head -3 | tr '\n' '|')"

# systemctl stop: SIGTERM to nts-sync alone ends --follow cleanly, status 0
t_bg follow2 sh "$SYNC" --config "$T_DIR/follow.conf" --state-dir "$SD" --dry-run --follow
fp=$(t_pid follow2)
i=0; while [ $i -lt 150 ] && [ "$(cnt '^adjust ' "$T_DIR/follow2.log")" -lt 1 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$fp"
i=0; while kill -0 "$fp" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$fp" 2>/dev/null; then
	t_fail "--follow: SIGTERM stops it" "still running 10 s after SIGTERM"
else
	wait "$fp" 2>/dev/null; rc=$?
	[ $rc -eq 0 ] && t_ok "--follow: SIGTERM is a clean stop, exit 0 ($((i / 10)).$((i % 10)) s)" || t_fail "--follow: SIGTERM is a clean stop, exit 0" "exit $rc"
	sleep 0.3
	left=$(ps -s "$fp" -o pid=,stat=,args= 2>/dev/null | awk '$2 !~ /^Z/')
	[ -z "$left" ] && t_ok "--follow: SIGTERM leaves no process behind" || t_fail "--follow: SIGTERM leaves no process behind" "$(echo "$left" | head -3 | tr '\n' '|')"
	grep -q '^session ' "$SD/sessions" && t_ok "--follow: SIGTERM: the session file is intact" || t_fail "--follow: SIGTERM: the session file is intact" "$(head -c 200 "$SD/sessions")"
fi

# --- one-shot after an NTS NAK: nts-ke for that source, then one retry ---
t_stop chrony-c2
rm -rf "$T_DIR/c2"
if peer_chrony_server "$T_DIR/c2" $NTP2 $KE2 "$CERT" "$KEY"; then
	kes=$(runs)
	sh "$SYNC" --config "$CONF" --state-dir "$SD" --dry-run >"$T_DIR/o9" 2>"$T_DIR/e9"; rc=$?
	[ $rc -eq 0 ] && t_ok "NTS NAK in a one-shot run: exit 0 after the retry" || t_fail "NTS NAK in a one-shot run: exit 0 after the retry" "exit $rc: $(head -c 400 "$T_DIR/e9" | tr '\n' '|')"
	t_grep "NTS NAK: nts-ke for that source only" "$T_DIR/e9" '^nts-sync: nts-ke for: two$'
	t_grep "NTS NAK: polled again" "$T_DIR/e9" '^nts-sync: polling again with the new sessions$'
	[ "$(runs)" -eq $((kes + 1)) ] && t_ok "NTS NAK: one nts-ke run" || t_fail "NTS NAK: one nts-ke run" "$(( $(runs) - kes )) runs"
	t_grep "NTS NAK: offset from both after the retry" "$T_DIR/o9" '^offset .* agree=2 '
else
	t_fail "chrony two restarted (one-shot)" "$PEER_WHY"
fi
