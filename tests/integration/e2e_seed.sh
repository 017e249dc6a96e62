# The write-up's setup end to end (issue 9): five NTS sources — chrony x2,
# NTPsec, nts-serve x2 — one chrony running 30 s ahead (faketime) as a
# falseticker, min-agree 3. nts-sync runs the whole pipeline; the falseticker
# is named in rejected=, the offset is about 0, and nts-adjust (under the
# virtual-clock shim, without CAP_SYS_TIME) slews.
# NTPsec only binds 123/4460, so every server and the client run inside one
# network namespace this test creates.
. "$NTSKIT_TOP/tests/lib.sh"

if ! t_is_root; then t_skip "needs root (network namespace, chronyd -u root)"; exit 0; fi
NS=ntskit-e2e
if [ -z "${NTSKIT_E2E_INNER:-}" ]; then
  # NTPsec is unpacked from its Debian package here, where apt can reach the mirror
  . "$NTSKIT_TOP/tests/peers/ntpsec.sh"
  peer_ntpsec_prepare || { t_fail "NTPsec unpacked" "$PEER_WHY"; exit 0; }
  t_netns $NS || { t_fail "network namespace $NS" "ip netns add failed"; exit 0; }
  ip netns exec $NS env NTSKIT_E2E_INNER=1 sh "$0"
  exit $?
fi

. "$NTSKIT_TOP/tests/peers/chrony.sh"
. "$NTSKIT_TOP/tests/peers/ntpsec.sh"
PKI=$NTSKIT_TMP/pki
t_pki "$PKI"
CERT=$PKI/ec256.fullchain.pem KEY=$PKI/ec256.sec1.key CA=$PKI/root.crt
SHIM=$NTSKIT_HELPERS/vclock_shim.so

# --- the five servers ---------------------------------------------------------
peer_chrony_server "$T_DIR/c1" 21501 21500 "$CERT" "$KEY" && t_ok "chrony 1 started" || t_fail "chrony 1 started" "$PEER_WHY"
peer_chrony_server "$T_DIR/c2" 21503 21502 "$CERT" "$KEY" +30s && t_ok "chrony 2 started 30 s ahead (falseticker)" || t_fail "chrony 2 (faketime)" "$PEER_WHY"
peer_ntpsec_server $NS "$T_DIR/ntpsec" "$CERT" "$KEY" && t_ok "NTPsec started" || t_fail "NTPsec started" "$PEER_WHY"
for k in 1 2; do
  # what nts-adjust writes on a synchronised server; here declared by hand
  echo "status t=$(date +%s).000000 stratum=1 refid=GPS root-delay=0 root-disp=0.0001 leap=0" >"$T_DIR/status$k"
  t_bg "serve$k" "$NTSKIT_BIN/nts-serve" --listen 127.0.0.1:$((21504 + 2 * k)) --ke-listen 127.0.0.1:$((21503 + 2 * k)) \
    --cert "$CERT" --key "$KEY" --cookie-keys "$T_DIR/keys$k" --status "$T_DIR/status$k"
  if t_wait_tcp 127.0.0.1 $((21503 + 2 * k)) 10; then t_ok "nts-serve $k started"; else t_fail "nts-serve $k started" "$(tail -2 "$T_DIR/serve$k.log")"; fi
done

cat >"$T_DIR/ntskit.conf" <<EOC
# five NTS sources, at least three must agree
[source chrony1]
address = localhost
ke-port = 21500
ca = $CA
[source chrony2-ahead]
address = localhost
ke-port = 21502
ca = $CA
[source ntpsec]
address = localhost
ca = $CA
[source serve1]
address = 127.0.0.1
ke-port = 21505
ca = $CA
[source serve2]
address = 127.0.0.1
ke-port = 21507
ca = $CA
[poll]
count = 4
spacing = 0.5
[select]
min-agree = 3
# NTPsec's root dispersion starts near 8 s and decays (as chrony's maxdistance 16 allows)
max-distance = 16
EOC

# nts-adjust: virtual clock, no CAP_SYS_TIME (nts-sync takes it from NTSKIT_ADJUST)
VC=$T_DIR/vclock
echo "now=1700000000.000000000 freq=0 pending=0 status=64 maxerror=16000000 esterror=16000000" >"$VC"
export NTSKIT_VCLOCK_LOG="$T_DIR/vclock.log"
: >"$NTSKIT_VCLOCK_LOG"
cat >"$T_DIR/adjust-wrap" <<EOW
#!/bin/sh
# never the real clock: drop CAP_SYS_TIME when this stage holds CAP_SETPCAP to do so
c=\$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/\$\$/status)
if [ \$(( (0x\$c >> 8) & 1 )) -eq 1 ]; then
	exec env NTSKIT_VCLOCK="$VC" LD_PRELOAD="$SHIM" capsh --drop=cap_sys_time -- -c '"\$0" "\$@"' "$NTSKIT_BIN/nts-adjust" "\$@"
fi
exec env NTSKIT_VCLOCK="$VC" LD_PRELOAD="$SHIM" "$NTSKIT_BIN/nts-adjust" "\$@"
EOW
chmod 755 "$T_DIR/adjust-wrap"

# NTPsec answers leap 3 until it has selected its local clock (about 1.5 s)
i=0
while [ $i -lt 40 ] && ! ntpdig -t 1 127.0.0.1 2>/dev/null | grep -q 'no-leap'; do sleep 0.5; i=$((i + 1)); done
[ $i -lt 40 ] && t_ok "NTPsec synchronised after about $((i / 2)) s" || t_fail "NTPsec synchronised" "ntpdig saw no no-leap answer in 20 s"
NTSKIT_ADJUST="$T_DIR/adjust-wrap" sh "$NTSKIT_TOP/scripts/nts-sync" --config "$T_DIR/ntskit.conf" \
  --state-dir "$T_DIR/state" >"$T_DIR/out" 2>"$T_DIR/err"; rc=$?
[ $rc -eq 0 ] && t_ok "nts-sync exits 0" || t_fail "nts-sync exits 0" "exit $rc: $(tail -4 "$T_DIR/err" | tr '\n' '|')"
for s in chrony1 chrony2-ahead ntpsec serve1 serve2; do
  cnt=$(grep -c "^sample source=$s .*auth=nts" "$T_DIR/out")
  [ "$cnt" -ge 1 ] && t_ok "$s: $cnt authenticated samples" || t_fail "$s: authenticated samples" "none: $(grep "$s" "$T_DIR/err" | head -2 | tr '\n' '|')"
done
off=$(sed -n 's/^offset .* offset=\([^ ]*\) .*/\1/p' "$T_DIR/out")
rej=$(sed -n 's/^offset .* rejected=\([^ ]*\).*/\1/p' "$T_DIR/out")
agree=$(sed -n 's/^offset .* agree=\([^ ]*\).*/\1/p' "$T_DIR/out")
echo "# offset record: $(grep '^offset' "$T_DIR/out")"
# the falseticker really is 30 s ahead (libfaketime with nostamp_shim.so, tests/peers/chrony.sh)
t_offsets_near "chrony2-ahead is measured at +30 s within delay/2" "$T_DIR/out" 30 chrony2-ahead
case "$rej" in *chrony2-ahead*) t_ok "the falseticker is named in rejected= ($rej)" ;; *) t_fail "falseticker rejected" "rejected=$rej" ;; esac
[ "${agree:-0}" -eq 4 ] && t_ok "the 4 truechimers agree (min-agree 3)" || t_fail "4 truechimers agree" "agree=$agree"
if [ -n "$off" ] && awk -v o="$off" 'BEGIN { exit !(o < 0.01 && o > -0.01) }'; then
  t_ok "offset $off s is about 0 (|offset| < 10 ms)"
else
  t_fail "offset about 0" "offset=$off"
fi
t_grep "nts-adjust slews" "$T_DIR/out" '^adjust .*action=slew'
if grep -qi 'SINGLESHOT\|ADJ_OFFSET\|adjtimex\|clock_adjtime' "$NTSKIT_VCLOCK_LOG"; then
  t_ok "the slew reached the virtual clock, not the real one"
else
  t_fail "the slew reached the virtual clock" "$(head -3 "$NTSKIT_VCLOCK_LOG")"
fi
