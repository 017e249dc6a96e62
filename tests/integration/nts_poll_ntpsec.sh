#!/bin/sh
# nts-ke | nts-poll against an NTPsec 1.2.2 NTS server (tests/peers/ntpsec.sh),
# run in a network namespace of its own (its ports are fixed: 123, 4460):
# authenticated samples, |offset| < 1 ms (both clocks are the same clock).
# NTPsec becomes synchronised about 1.5 s after start; until then it answers
# unsynchronised (no sample), so the test waits for it.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/ntpsec.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll NS=ntskit-poll-ntpsec
t_need_bins "$KE" "$POLL"
t_is_root || { t_skip "NTPsec in a network namespace needs root"; exit 0; }
peer_ntpsec_prepare || { t_skip "ntpsec: $PEER_WHY"; exit 0; }
t_pki "$T_DIR/pki"
chmod 644 "$T_DIR"/pki/*
t_netns $NS || { t_skip "cannot create network namespace $NS"; exit 0; }
peer_ntpsec_server $NS "$T_DIR/ntpsec" "$T_DIR/pki/ec256.fullchain.pem" "$T_DIR/pki/ec256.sec1.key" ||
  { t_skip "ntpsec server: $PEER_WHY"; exit 0; }

# offsets_ok FILE LIMIT: the lowest-delay sample (what an NTP clock filter
# uses) has |offset| < LIMIT, and every sample |offset| <= delay/2 + 0.1 ms
# (the true offset is 0 here: the error of one exchange is at most half its
# round trip, RFC 5905 §8).
offsets_ok() {
  awk -v lim="$2" '$1 == "sample" { n++; for (i = 2; i <= NF; i++) { if ($i ~ /^offset=/) o = substr($i, 8) + 0; if ($i ~ /^delay=/) d = substr($i, 7) + 0 }
      if (o < 0) o = -o; if (o > d / 2 + 0.0001) bad++; if (n == 1 || d < bd) { bd = d; bo = o } }
    END { exit !(n > 0 && bad == 0 && bo < lim) }' "$1"
}

i=0 rc=1
while [ $i -lt 20 ]; do
  ip netns exec $NS "$KE" --ca "$T_DIR/pki/root.crt" localhost >"$T_DIR/s" 2>"$T_DIR/ke.err"
  ip netns exec $NS "$POLL" --count 3 --spacing 0.2 --timeout 2 <"$T_DIR/s" >"$T_DIR/p" 2>"$T_DIR/p.err"
  rc=$?
  [ $rc -eq 0 ] && break
  sleep 1; i=$((i + 1))
done
n=$(grep -c '^sample ' "$T_DIR/p")
[ $rc -eq 0 ] && [ "$n" -eq 3 ] && t_ok "ntpsec: 3 authenticated samples" ||
  t_fail "ntpsec: 3 authenticated samples" "exit $rc, $n samples: $(head -c 300 "$T_DIR/p.err" "$T_DIR/ke.err" | tr '\n' '|')"
t_grep "ntpsec: auth=nts via=udp, synchronised stratum" "$T_DIR/p" '^sample .*stratum=[1-9][0-9]* .*auth=nts .*via=udp '
if offsets_ok "$T_DIR/p" 0.001; then t_ok "ntpsec: |offset| < 1 ms (lowest delay), every sample within delay/2"
else t_fail "ntpsec: |offset| < 1 ms (lowest delay), every sample within delay/2" "$(grep -o 'offset=[^ ]* delay=[^ ]*' "$T_DIR/p" | tr '\n' ' ')"; fi
echo "# ntpsec offsets: $(grep -o 'offset=[^ ]* delay=[^ ]*' "$T_DIR/p" | tr '\n' ' ')"
exit 0
