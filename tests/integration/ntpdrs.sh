#!/bin/sh
# ntpd-rs 1.4 (Debian 13's, the user's current client) against ntskit, both
# directions, on loopback (tests/peers/ntpdrs.sh: fetched from trixie,
# unpacked, never installed; run without CAP_SYS_TIME and with every clock
# write turned into a query by clockguard_shim.so):
#  a) ntpd-rs as NTS client, with the user's setup: 5 NTS sources (5 nts-serve
#     instances), minimum-agreeing-sources 3, single-step panic 1800 s,
#     startup panic forward "inf" / backward 1800 s. ntp-ctl status shows 5
#     NTS sources with samples near 0 s, holding cookies; every nts-serve
#     answered its NTS-KE and NTS-authenticated requests; the AEAD ntpd-rs
#     offered {17, 15} and the one negotiated (17: nts-serve takes the
#     client's first supported AEAD, RFC 8915 4.1.5).
#  b) ntpd-rs as NTS server ([[nts-ke-server]] + [[server]]): nts-ke | nts-poll
#     get authenticated samples at 0 s within delay/2 (same clock), the Port
#     record honoured; nts-select combines them.
#  The system clock was not stepped and the kernel's frequency and status are
#  as before; ntpd-rs's clock writes are in the shim's log.
# If ntpd-rs cannot be fetched (no mirror) the test prints SKIP and why.
# Ports: 127.0.0.1:21600-21611.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/ntpdrs.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll SEL=$NTSKIT_BIN/nts-select SERVE=$NTSKIT_BIN/nts-serve
t_need_bins "$KE" "$POLL" "$SEL" "$SERVE"
t_is_root || { t_skip "needs root (capsh --drop=cap_sys_time)"; exit 0; }
t_need_cmds python3 capsh
peer_ntpdrs_prepare || { t_skip "ntpd-rs: $PEER_WHY"; exit 0; }
echo "# $PEER_NTPDRS_VERSION"
t_start=$(date +%s.%N)
t_pki "$T_DIR/pki"
chmod 644 "$T_DIR"/pki/*
CA=$T_DIR/pki/root.crt CERT=$T_DIR/pki/ec256.fullchain.pem KEY=$T_DIR/pki/ec256.sec1.key
PK8=$T_DIR/pki/ec256.pkcs8.key
D=$T_DIR/rs RS_NTP=21610 RS_KE=21611
mkdir -p "$D"
peer_clock_snapshot "$T_DIR/clock.before"

# --- five nts-serve NTS servers ----------------------------------------------
echo "status t=$(date +%s).000000 stratum=1 refid=GPS root-delay=0 root-disp=0.0001 leap=0" >"$T_DIR/status"
for k in 0 1 2 3 4; do
  t_bg "serve$k" "$SERVE" --explain --listen 127.0.0.1:$((21600 + 2 * k)) --ke-listen 127.0.0.1:$((21601 + 2 * k)) \
    --cert "$CERT" --key "$KEY" --cookie-keys "$T_DIR/keys$k" --status "$T_DIR/status"
done
up=0
for k in 0 1 2 3 4; do t_wait_tcp 127.0.0.1 $((21601 + 2 * k)) 10 && up=$((up + 1)); done
[ $up -eq 5 ] && t_ok "5 nts-serve started" || { t_fail "5 nts-serve started" "$up: $(tail -n 2 "$T_DIR"/serve*.log | tr '\n' '|')"; exit 0; }

# --- ntpd-rs: client of the five, and NTS server -----------------------------
{
  echo "[observability]"
  echo "log-level = \"info\""
  echo "observation-path = \"$D/observe\""
  for k in 0 1 2 3 4; do
    echo
    echo "[[source]]"
    echo "mode = \"nts\""
    echo "address = \"localhost:$((21601 + 2 * k))\""
    echo "certificate-authority = \"$CA\""
  done
  cat <<EOF

[synchronization]
minimum-agreeing-sources = 3
single-step-panic-threshold = 1800
startup-step-panic-threshold = { forward = "inf", backward = 1800 }

[[server]]
listen = "127.0.0.1:$RS_NTP"

[[nts-ke-server]]
listen = "127.0.0.1:$RS_KE"
certificate-chain-path = "$CERT"
private-key-path = "$PK8"
ntp-port = $RS_NTP

[keyset]
key-storage-path = "$D/keyset"
EOF
} >"$D/ntp.toml"
# the guards refuse where CAP_SYS_TIME is left (here: root, no capsh), with
# /bin/false standing in for ntp-daemon
if ! grep -q '^CapEff:.*' /proc/self/status || _ntpdrs_caps_clear $$; then
  echo "# this shell already lacks CAP_SYS_TIME: the shim's refusal is not exercised"
else
  env LD_PRELOAD="$NTSKIT_HELPERS/clockguard_shim.so" NTSKIT_CLOCKGUARD_NOCAP=1 NTSKIT_CLOCKGUARD_LOG=/dev/null \
    /bin/true 2>"$T_DIR/guard.err"
  rc=$?
  [ $rc -eq 99 ] && grep -q 'CAP_SYS_TIME is not dropped' "$T_DIR/guard.err" &&
    t_ok "clockguard_shim.so refuses to run a program that holds CAP_SYS_TIME (exit 99)" ||
    t_fail "clockguard_shim.so refuses to run a program that holds CAP_SYS_TIME" "exit $rc: $(head -c 200 "$T_DIR/guard.err")"
fi

if ! peer_ntpdrs_start "$D"; then
  t_fail "ntpd-rs starts without CAP_SYS_TIME, under clockguard_shim.so" "$PEER_WHY"; exit 0
fi
t_ok "ntpd-rs starts without CAP_SYS_TIME (CapEff/CapBnd bit 25 clear), under clockguard_shim.so"

# a) wait until each of the five sources has a sample
i=0
while :; do
  peer_ntpdrs_status "$D" >"$T_DIR/status.out" 2>&1
  n=$(grep -Ec '^localhost:216[0-9]+/127\.0\.0\.1:216[0-9]+ \[NTS\] \([0-9]+\): [-+]?[0-9.]+±' "$T_DIR/status.out")
  [ "$n" -ge 5 ] && break
  i=$((i + 1))
  [ $i -lt 60 ] || break
  sleep 0.5
done
echo "# ntp-ctl status after $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s:"
sed 's/^/#   /' "$T_DIR/status.out"
[ "$n" -eq 5 ] && t_ok "ntp-ctl status: 5 NTS sources with a sample" ||
  t_fail "ntp-ctl status: 5 NTS sources with a sample" "$n: $(head -c 400 "$T_DIR/status.out" | tr '\n' '|')"
# every source near 0 s (same clock): |offset| < 1 ms, or within its own error bar
bad=$(awk '/\[NTS\]/ { s = $0; sub(/.*\): /, "", s); split(s, a, "±"); o = a[1] + 0; e = a[2] + 0
    if (o < 0) o = -o; if (o >= 0.001 && o > e) print $1 }' "$T_DIR/status.out")
[ "$n" -eq 5 ] && [ -z "$bad" ] && t_ok "the 5 sources are measured at 0 s (|offset| < 1 ms)" ||
  t_fail "the 5 sources are measured at 0 s (|offset| < 1 ms)" "off: ${bad:-no sources}"
c=$(grep -Ec 'NTS cookies: [1-8]/8 available' "$T_DIR/status.out")
[ "$c" -eq 5 ] && t_ok "each source holds cookies from nts-serve" || t_fail "each source holds cookies from nts-serve" "$c of 5"
t_grep "ntpd-rs is synchronised (stratum 2) with minimum-agreeing-sources 3" "$T_DIR/status.out" '^Stratum: 2$'

# b) ntpd-rs as NTS server for nts-ke | nts-poll | nts-select
# as a user configures it: a named source (nts-select takes no ':' in names)
cat >"$T_DIR/ntskit.conf" <<EOC
[source ntpd-rs]
address = localhost
ke-port = $RS_KE
ca = $CA
EOC
"$KE" --config "$T_DIR/ntskit.conf" >"$T_DIR/s" 2>"$T_DIR/ke.err"
rc=$?
[ $rc -eq 0 ] && t_ok "nts-ke to ntpd-rs: exit 0" || t_fail "nts-ke to ntpd-rs: exit 0" "exit $rc: $(head -c 300 "$T_DIR/ke.err")"
t_grep "nts-ke to ntpd-rs: session with AEAD 15, NTP port from its Port record" "$T_DIR/s" \
  "^session .*ntp=localhost:$RS_NTP .*aead=15 "
"$POLL" --count 4 --spacing 0.3 --timeout 2 <"$T_DIR/s" >"$T_DIR/p" 2>"$T_DIR/p.err"
rc=$?
n=$(grep -c '^sample .*auth=nts' "$T_DIR/p")
[ $rc -eq 0 ] && [ "$n" -eq 4 ] && t_ok "nts-poll from ntpd-rs: 4 NTS-authenticated samples" ||
  t_fail "nts-poll from ntpd-rs: 4 NTS-authenticated samples" "exit $rc, $n: $(head -c 300 "$T_DIR/p.err")"
t_grep "ntpd-rs serves stratum 2 (one above nts-serve's stratum 1)" "$T_DIR/p" '^sample .* stratum=2 '
t_offsets_near "ntpd-rs's samples are at 0 s within delay/2" "$T_DIR/p" 0
"$SEL" --min-agree 1 <"$T_DIR/p" >"$T_DIR/o" 2>"$T_DIR/o.err"
rc=$?
off=$(sed -n 's/^offset .* offset=\([^ ]*\) .*/\1/p' "$T_DIR/o")
if [ $rc -eq 0 ] && [ -n "$off" ] && awk -v o="$off" 'BEGIN { exit !(o < 0.001 && o > -0.001) }'; then
  t_ok "nts-select: offset $off s from ntpd-rs's samples (|offset| < 1 ms)"
else
  t_fail "nts-select: offset from ntpd-rs's samples" "exit $rc, offset '$off': $(head -c 300 "$T_DIR/o.err")"
fi

# the daemon still runs on the guarded clock; its server side counted us
peer_ntpdrs_status "$D" >"$T_DIR/status2.out" 2>&1
if awk -v srv="127.0.0.1:$RS_NTP:" '$1 == srv { r = $3 + 0; a = $5 + 0 } END { exit !(r >= 4 && a >= 4) }' "$T_DIR/status2.out"; then
  t_ok "ntp-ctl status: ntpd-rs's server received and accepted our 4 requests"
else
  t_fail "ntp-ctl status: ntpd-rs's server received and accepted our 4 requests" "$(grep -A1 "^127.0.0.1:$RS_NTP" "$T_DIR/status2.out" | tr '\n' ' ')"
fi
_p=$(t_pid "ntpdrs-rs")
if kill -0 "$_p" 2>/dev/null && _ntpdrs_caps_clear "$_p"; then t_ok "ntpd-rs still running, still without CAP_SYS_TIME"
else t_fail "ntpd-rs still running, still without CAP_SYS_TIME" "$(tail -n 3 "$T_DIR/ntpdrs-rs.log" | tr '\n' '|')"; fi
t_stop ntpdrs-rs
t_grep "ntpd-rs tried to steer the clock: each write became a query (clockguard log)" "$D/clockguard.log" 'ntp_adjtime .*modes=0x[0-9a-f]*[1-9a-f][0-9a-f]* .*-> query'
if grep -Ev -- '-> (query|ignored)$' "$D/clockguard.log" | grep -q .; then
  t_fail "clockguard log: nothing but queries" "$(grep -Ev -- '-> (query|ignored)$' "$D/clockguard.log" | head -n 2)"
else
  t_ok "clockguard log: nothing but queries ($(wc -l <"$D/clockguard.log") writes turned into queries)"
fi

# each nts-serve: an NTS-KE answered with cookies, NTS-authenticated requests answered
for k in 0 1 2 3 4; do t_stop "serve$k"; done
bad=
for k in 0 1 2 3 4; do
  awk '/event=stop/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { exit !(v["ke-answered"] >= 1 && v["nts"] >= 1 && v["bad-auth"] == 0) }' "$T_DIR/serve$k.log" || bad="$bad serve$k"
done
[ -z "$bad" ] && t_ok "every nts-serve: NTS-KE answered, NTS-authenticated requests answered, no bad authenticator" ||
  t_fail "every nts-serve: NTS-KE answered, NTS requests answered" "not:$bad: $(grep -h event=stop "$T_DIR"/serve*.log | head -c 300)"
t_grep "ntpd-rs offered AEAD 17 then 15" "$T_DIR/serve0.log" \
  'NTS-KE received record 4 AEAD Algorithm Negotiation .*: 17 \(AEAD_AES_SIV_CMAC_512\), 15 \(AEAD_AES_SIV_CMAC_256\)$'
# nts-serve takes the client's first supported AEAD (RFC 8915 4.1.5)
t_grep "AEAD negotiated with ntpd-rs: its first choice, 17 (AEAD_AES_SIV_CMAC_512)" "$T_DIR/serve0.log" \
  'NTS-KE sent record 4 AEAD Algorithm Negotiation .*: 17 \(AEAD_AES_SIV_CMAC_512\)$'
t_grep "ntpd-rs's NTP requests authenticated with AEAD 17" "$T_DIR/serve0.log" 'NTS request authenticated: AEAD 17 '

peer_clock_snapshot "$T_DIR/clock.after"
if peer_clock_unchanged "$T_DIR/clock.before" "$T_DIR/clock.after"; then
  t_ok "the system clock was not stepped or steered ($PEER_WHY against CLOCK_BOOTTIME; kernel frequency and status unchanged)"
else
  t_fail "the system clock was not stepped or steered" "$PEER_WHY"
fi
echo "# clock: $(tr '\n' ' ' <"$T_DIR/clock.before")-> $(tr '\n' ' ' <"$T_DIR/clock.after")"
echo "# ntpdrs test took $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
exit 0
