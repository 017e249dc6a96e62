#!/bin/sh
# nts-sync's record log for ntskit-plot ([sync] log, log-max, log-keep;
# nts-sync(8), issue 17 item 4): rounds are run until the log rotates; the
# log and its rotations never pass log-max, at most log-keep of them are
# kept, mode 0600, every round's records appended whole and in order (none
# lost until the oldest file is dropped), and ntskit-plot draws the log with
# the time range of its records; two nts-sync sharing a log take turns.
# No network: nts-ke and nts-poll are stand-ins (nts-poll prints the sample
# records of three sources, a new round each run); nts-select and nts-adjust
# (--dry-run: no clock call) are the real ones. No port is used.
. "$NTSKIT_TOP/tests/lib.sh"

SYNC=$NTSKIT_TOP/scripts/nts-sync PLOT=$NTSKIT_TOP/scripts/ntskit-plot
t_need_bins "$NTSKIT_BIN/nts-select" "$NTSKIT_BIN/nts-adjust"
B=$T_DIR/bin ST=$T_DIR/state LOG=$T_DIR/logs/records.log
mkdir -p "$B" "$ST" "$T_DIR/logs"
ln -s "$NTSKIT_BIN/nts-select" "$NTSKIT_BIN/nts-adjust" "$B/"
printf '#!/bin/sh\nexit 0\n' >"$B/nts-ke"
# nts-poll stand-in: round N (counted in a file) at t = 1700000000 + 64 N
# (with STUB_FOREVER set, as --follow needs: a round a second until stopped)
cat >"$B/nts-poll" <<EOF
#!/bin/sh
case " \$* " in *" --state "*) ;; *) exit 0 ;; esac   # nts-sync's configuration check
while :; do
	n=\$(cat "$T_DIR/round" 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >"$T_DIR/round"
	t=\$((1700000000 + 64 * n))
	for k in 0 1 2 3; do
		for s in a b c; do
			echo "sample source=\$s ntp=192.0.2.1:123 t=\$t.\${k}00000 offset=+0.01\${k}\${n}0 delay=0.02\${k} disp=0.0001 stratum=2 leap=0 refid=GPS root-delay=0.002 root-disp=0.001 auth=nts via=udp"
		done
	done
	[ -n "\${STUB_FOREVER:-}" ] || exit 0
	sleep 1
done
EOF
chmod 755 "$B/nts-ke" "$B/nts-poll"
printf 'session source=%s cookies=4\n' a b c >"$ST/sessions"
chmod 600 "$ST/sessions"
MAX=4096 KEEP=2
{ for s in a b c; do printf '[source %s]\n' "$s"; done
  printf '[ke]\nstate = %s\n[select]\nmin-agree = 2\n' "$ST/sessions"
  printf '[sync]\nlog = %s\nlog-max = 4k\nlog-keep = %s\n' "$LOG" "$KEEP"; } >"$T_DIR/sync.conf"

# a round: one nts-sync run; all its records go to $T_DIR/all (what a log
# that never dropped anything would hold)
: >"$T_DIR/all"
fails=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	NTSKIT_BIN=$B sh "$SYNC" --config "$T_DIR/sync.conf" --state-dir "$ST" --dry-run \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || fails=$((fails + 1))
	cat "$T_DIR/run.out" >>"$T_DIR/all"
	# the bound holds after every round
	for f in "$LOG" "$LOG.1" "$LOG.2" "$LOG.3"; do
		[ ! -f "$f" ] || [ "$(wc -c <"$f")" -le $MAX ] || { t_fail "log-max holds" "$f: $(wc -c <"$f") bytes after round $i"; exit 0; }
	done
done
[ $fails -eq 0 ] && t_ok "10 rounds of nts-sync --dry-run with [sync] log" ||
	t_fail "10 rounds of nts-sync --dry-run with [sync] log" "$fails failed: $(head -c 300 "$T_DIR/run.err")"
t_ok "log-max 4k: the log and each rotation <= $MAX bytes after every round"
[ -f "$LOG.1" ] && [ -f "$LOG.2" ] && t_ok "rotated: records.log.1 and records.log.2" ||
	t_fail "rotated" "$(ls "$T_DIR/logs")"
[ ! -e "$LOG.3" ] && [ "$(ls "$T_DIR/logs" | wc -l)" -eq 3 ] && t_ok "log-keep 2: no records.log.3, 3 files in all" ||
	t_fail "log-keep 2" "$(ls "$T_DIR/logs")"
m=$(stat -c %a "$LOG" "$LOG.1" "$LOG.2" | sort -u | tr '\n' ' ')
[ "$m" = "600 " ] && t_ok "log files mode 0600" || t_fail "log files mode 0600" "modes $m"
# the kept files, oldest first, are the tail of everything the rounds wrote
cat "$LOG.2" "$LOG.1" "$LOG" >"$T_DIR/kept"
n=$(grep -c . "$T_DIR/kept")
if tail -n "$n" "$T_DIR/all" | cmp -s - "$T_DIR/kept"; then
	t_ok "the kept files are the last $n records of the rounds, whole and in order"
else
	t_fail "the kept files are the last records of the rounds" "$(tail -n "$n" "$T_DIR/all" | diff - "$T_DIR/kept" | head -5 | tr '\n' '|')"
fi
grep -q '^sync .* status=0 ' "$LOG" && grep -q '^offset ' "$LOG" && grep -q '^sample ' "$LOG" && grep -q '^verdict ' "$LOG" &&
	t_ok "a round in the log: sample, verdict, offset and sync records" || t_fail "a round in the log" "$(head -c 300 "$LOG")"
head -n 1 "$LOG" | grep -q '^sample ' && head -n 1 "$LOG.1" | grep -q '^sample ' &&
	t_ok "rotation between rounds: each file starts with a round's first sample" || t_fail "rotation between rounds" "$(head -n 1 "$LOG")"

# ntskit-plot draws the kept log; its time axis is the log's
sh "$PLOT" -o "$T_DIR/log.svg" "$LOG.2" "$LOG.1" "$LOG" 2>"$T_DIR/plot.err"; rc=$?
[ $rc -eq 0 ] && head -c 400 "$T_DIR/log.svg" | grep -q '<svg' && t_ok "ntskit-plot draws the log (SVG)" ||
	t_fail "ntskit-plot draws the log" "exit $rc: $(head -c 300 "$T_DIR/plot.err")"
range=$(awk '($1 == "sample" || $1 == "offset") { for (i = 2; i <= NF; i++) if ($i ~ /^t=/) { t = substr($i, 3) + 0
	if (n++ == 0 || t < lo) lo = t; if (t > hi) hi = t } } END { printf "%.6f %.6f", lo, hi }' "$T_DIR/kept")
got=$(sed -n 's/.*id="offset"[^>]*data-t-min="\([^"]*\)" data-t-max="\([^"]*\)".*/\1 \2/p' "$T_DIR/log.svg" | head -n 1)
[ -n "$got" ] && awk -v a="$range" -v b="$got" 'BEGIN { split(a, x, " "); split(b, y, " ")
	exit !((x[1] - y[1])^2 < 1e-9 && (x[2] - y[2])^2 < 1e-9) }' &&
	t_ok "the plot's time range is the log's ($range)" || t_fail "the plot's time range is the log's" "log $range, plot '$got'"

# two nts-sync sharing one log take turns: while another holds the lock (on
# the log's directory) for 1.5 s, the append waits for it
rm -f "$T_DIR/released"
flock "$T_DIR/logs" sh -c 'sleep 1.5; date +%s.%N >"$0"' "$T_DIR/released" &
hp=$!
sleep 0.2
NTSKIT_BIN=$B sh "$SYNC" --config "$T_DIR/sync.conf" --state-dir "$ST" --dry-run >/dev/null 2>"$T_DIR/wait.err"; rc=$?
wait $hp
if [ $rc -eq 0 ] && [ -s "$T_DIR/released" ] &&
   awk -v m="$(stat -c %.9Y "$LOG")" -v r="$(cat "$T_DIR/released")" 'BEGIN { exit !(m + 0 >= r + 0) }'; then
	t_ok "the log is appended only after another holder of its lock lets go"
else
	t_fail "the append waits for the log's lock" "exit $rc, log written $(stat -c %.9Y "$LOG"), lock released $(cat "$T_DIR/released" 2>/dev/null): $(head -c 200 "$T_DIR/wait.err")"
fi

# without [sync] log nothing is written
sed '/^\[sync\]/,$d' "$T_DIR/sync.conf" >"$T_DIR/nolog.conf"
rm -f "$LOG" "$LOG.1" "$LOG.2"
NTSKIT_BIN=$B sh "$SYNC" --config "$T_DIR/nolog.conf" --state-dir "$ST" --dry-run >/dev/null 2>&1
[ -z "$(ls "$T_DIR/logs")" ] && t_ok "no [sync] log: no log file" || t_fail "no [sync] log: no log file" "$(ls "$T_DIR/logs")"

# --follow: every round is appended too (a round a second, [poll] interval 1s)
sed 's/^\[select\]$/[poll]\ninterval = 1s\n[select]/' "$T_DIR/sync.conf" >"$T_DIR/follow.conf"
rm -f "$LOG" "$LOG.1" "$LOG.2"
STUB_FOREVER=1 NTSKIT_BIN=$B t_bg follow sh "$SYNC" --follow --config "$T_DIR/follow.conf" --state-dir "$ST" --dry-run
i=0
while [ ! -f "$LOG.1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
t_stop follow
n=$(cat "$LOG.1" "$LOG" 2>/dev/null | grep -c '^sync .* follow=1 ')
[ -f "$LOG.1" ] && [ "$n" -ge 2 ] && grep -q '^sample ' "$LOG.1" && grep -q '^offset ' "$LOG.1" &&
	t_ok "--follow: rounds appended with their samples, rotated ($n sync records)" ||
	t_fail "--follow: rounds appended, rotated" "$(ls "$T_DIR/logs") $n sync records; $(tail -c 300 "$T_DIR/follow.log")"
big=0
for f in "$LOG" "$LOG.1" "$LOG.2"; do [ ! -f "$f" ] || [ "$(wc -c <"$f")" -le $MAX ] || big=1; done
[ $big -eq 0 ] && t_ok "--follow: log-max holds" || t_fail "--follow: log-max holds" "$(wc -c "$LOG" "$LOG.1" "$LOG.2" 2>&1 | tr '\n' ' ')"
