#!/bin/sh
# nts-adjust --dry-run --dry-run-status (nts-adjust(8)): a dry run writes the
# status record a real run would, with the uncorrected |offset| in its
# root-disp, so nts-serve can serve the LAN while the clock is left alone.
# nts-serve then answers a plain NTP query with leap 0, the stratum of the
# offset record, and a root dispersion >= |offset|. Without the flag a dry
# run writes no status and nts-serve answers leap 3 / stratum 16. Bad
# combinations of the flag exit 64 with one line. No clock call is made
# (nts-adjust under the virtual-clock shim, whose log stays empty).
# Ports: 127.0.0.1:21410-21411.
. "$NTSKIT_TOP/tests/lib.sh"
ADJ=$NTSKIT_BIN/nts-adjust SERVE=$NTSKIT_BIN/nts-serve
t_need_bins "$ADJ" "$SERVE"
t_need_cmds python3
SHIM=$NTSKIT_HELPERS/vclock_shim.so
[ -f "$SHIM" ] || { t_skip "vclock_shim.so not built"; exit 0; }
P=21410

# the status file must be readable by nts-serve's --user after it drops root
PUB=$(mktemp -d /tmp/ntskit-dryrun-status.XXXXXX); chmod 755 "$PUB"
trap 't_cleanup; rm -rf "$PUB"' EXIT
ST=$PUB/status
VC=$T_DIR/vclock
echo "now=1700000000.000000000 freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >"$VC"
export NTSKIT_VCLOCK="$VC" NTSKIT_VCLOCK_LOG="$T_DIR/vclock.log"
: >"$NTSKIT_VCLOCK_LOG"
adj() { env LD_PRELOAD="$SHIM" "$ADJ" "$@"; }
now=$(date +%s)
OFF="offset t=$now.250000 offset=-0.060000000 error=0.004000000 sources=3 agree=3 used=a,b,c rejected=- leap=0 stratum=2 root-delay=0.010000000 root-disp=0.002000000 refid=192.0.2.9"

# NTP query: leap, stratum, root dispersion (16.16 seconds) of the answer
query() {
	python3 - "$1" "$2" <<'EOF'
import socket, struct, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
req = bytearray(48); req[0] = (0 << 6) | (4 << 3) | 3
req[40:48] = os.urandom(8)
s.sendto(bytes(req), (sys.argv[1], int(sys.argv[2])))
d, _ = s.recvfrom(1024)
rd = struct.unpack("!I", d[8:12])[0] / 65536.0
print("leap=%d stratum=%d root-disp=%.6f" % (d[0] >> 6, d[1], rd))
EOF
}

# --- without the flag: no status, nts-serve says unsynchronised ---
echo "$OFF" | adj --dry-run --status "$ST" >"$T_DIR/o0" 2>"$T_DIR/e0"; rc=$?
[ $rc -eq 0 ] && [ ! -e "$ST" ] && t_ok "plain --dry-run: exit 0, no status file" || t_fail "plain --dry-run: exit 0, no status file" "exit $rc, $(ls "$PUB")"
USER_ARG=
t_is_root && USER_ARG="--user nobody"
t_bg serve "$SERVE" --listen 127.0.0.1:$P --status "$ST" $USER_ARG
t_wait_udp 127.0.0.1 $P 5 || { t_fail "nts-serve started" "$(cat "$T_DIR/serve.log")"; exit 0; }
query 127.0.0.1 $P >"$T_DIR/q0" 2>&1
t_grep "no status: leap 3 stratum 16" "$T_DIR/q0" '^leap=3 stratum=16 '

# --- with --dry-run-status ---
echo "$OFF" | adj --dry-run --dry-run-status --status "$ST" >"$T_DIR/o1" 2>"$T_DIR/e1"; rc=$?
[ $rc -eq 0 ] && t_ok "--dry-run --dry-run-status: exit 0" || t_fail "--dry-run --dry-run-status: exit 0" "exit $rc: $(cat "$T_DIR/e1")"
t_grep "adjust record still says dry-run" "$T_DIR/o1" '^adjust .*reason=dry-run,'
t_grep "status record written, root-disp = 0.002 + |offset| 0.06, dry-run=1" "$ST" \
	"^status t=$now\\.250000 stratum=2 refid=192\\.0\\.2\\.9 root-delay=0\\.010000000 root-disp=0\\.062000000 leap=0 error=0\\.004000000 offset=-0\\.060000000 .* dry-run=1\$"
m=$(stat -c %a "$ST" 2>/dev/null)
[ "$m" = 644 ] && t_ok "status file 0644" || t_fail "status file 0644" "mode $m"
[ ! -s "$NTSKIT_VCLOCK_LOG" ] && t_ok "no clock call" || t_fail "no clock call" "$(head -c 200 "$NTSKIT_VCLOCK_LOG")"
# nts-serve rereads the status file when it changes
i=0
while [ $i -lt 30 ]; do
	query 127.0.0.1 $P >"$T_DIR/q1" 2>&1
	grep -q '^leap=0 ' "$T_DIR/q1" && break
	sleep 0.2; i=$((i + 1))
done
t_grep "nts-serve: leap 0, the offset record's stratum 2" "$T_DIR/q1" '^leap=0 stratum=2 '
rd=$(sed -n 's/.*root-disp=\([0-9.]*\).*/\1/p' "$T_DIR/q1")
awk -v r="${rd:-0}" 'BEGIN { exit !(r >= 0.06) }' && t_ok "nts-serve: root dispersion $rd >= |offset| 0.06" ||
	t_fail "nts-serve: root dispersion >= |offset|" "$(cat "$T_DIR/q1")"

# --- bad combinations ---
echo "$OFF" | adj --dry-run-status --status "$ST" >/dev/null 2>"$T_DIR/e2"; rc=$?
[ $rc -eq 64 ] && [ "$(grep -c . "$T_DIR/e2")" -eq 1 ] && grep -q 'only with --dry-run' "$T_DIR/e2" &&
	t_ok "--dry-run-status without --dry-run: exit 64, one line" || t_fail "--dry-run-status without --dry-run: exit 64, one line" "exit $rc: $(cat "$T_DIR/e2")"
echo "$OFF" | adj --dry-run --dry-run-status >/dev/null 2>"$T_DIR/e3"; rc=$?
[ $rc -eq 64 ] && [ "$(grep -c . "$T_DIR/e3")" -eq 1 ] && grep -q 'no status file' "$T_DIR/e3" &&
	t_ok "--dry-run-status without a status file: exit 64, one line" || t_fail "--dry-run-status without a status file: exit 64, one line" "exit $rc: $(cat "$T_DIR/e3")"
