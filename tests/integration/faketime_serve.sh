#!/bin/sh
# A wrong-time nts-serve for offset tests: nts-serve under libfaketime +30 s,
# with tests/helpers/nostamp_shim.so before libfaketime (t_faketime_preload),
# is measured by nts-ke | nts-poll at +30 s, every sample within delay/2.
# Without the shim nts-serve takes its receive time from the kernel
# (SO_TIMESTAMPNS, not shifted by libfaketime) and its transmit time from the
# faked clock: it would be seen at +15 s with a delay of 0.
# Ports: 127.0.0.1:21660-21661.
. "$NTSKIT_TOP/tests/lib.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll SERVE=$NTSKIT_BIN/nts-serve
t_need_bins "$KE" "$POLL" "$SERVE"
t_faketime_preload || { t_skip "$T_WHY"; exit 0; }
t_pki "$T_DIR/pki"
CA=$T_DIR/pki/root.crt CERT=$T_DIR/pki/ec256.fullchain.pem KEY=$T_DIR/pki/ec256.sec1.key

echo "status t=$(date +%s).000000 stratum=1 refid=GPS root-delay=0 root-disp=0.0001 leap=0" >"$T_DIR/status"
t_bg serve env LD_PRELOAD="$T_FAKETIME_PRELOAD" NTSKIT_NOSTAMP_LOG="$T_DIR/nostamp.log" \
  FAKETIME=+30s FAKETIME_DONT_RESET=1 \
  "$SERVE" --listen 127.0.0.1:21660 --ke-listen 127.0.0.1:21661 --cert "$CERT" --key "$KEY" \
  --cookie-keys "$T_DIR/keys" --status "$T_DIR/status"
if ! t_wait_tcp 127.0.0.1 21661 10 || ! t_wait_udp 127.0.0.1 21660 5; then
  t_fail "nts-serve under faketime +30s starts" "$(tail -n 3 "$T_DIR/serve.log" | tr '\n' '|')"; exit 0
fi
t_ok "nts-serve under faketime +30s starts"
"$KE" --ca "$CA" localhost:21661 2>"$T_DIR/ke.err" |
  "$POLL" --count 4 --spacing 0.2 --timeout 2 >"$T_DIR/p" 2>"$T_DIR/p.err"
n=$(grep -c '^sample .*auth=nts' "$T_DIR/p")
[ "$n" -eq 4 ] && t_ok "4 authenticated samples" || t_fail "4 authenticated samples" "$n: $(head -c 300 "$T_DIR/ke.err" "$T_DIR/p.err" | tr '\n' '|')"
t_offsets_near "nts-serve +30s: every sample at +30 s within delay/2" "$T_DIR/p" 30
t_grep "nts-serve asked for no kernel timestamp (nostamp_shim.so)" "$T_DIR/nostamp.log" 'SO_TIMESTAMPNS\) dropped'
exit 0
