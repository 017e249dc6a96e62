# nts-ke (issue 5): against chrony (Port record) and NTPsec (in a netns),
# through danted and microsocks with no local resolution, through a private
# Tor network (exit and onion service, one circuit per source), against
# scripted malformed servers, and with bad certificates.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"
. "$NTSKIT_TOP/tests/peers/socks.sh"
. "$NTSKIT_TOP/tests/peers/ntpsec.sh"

KE=$NTSKIT_BIN/nts-ke
PKI=$NTSKIT_TMP/pki
CHRONY_KE=20740      # the onion service publishes 4460 -> 127.0.0.1:20740
CHRONY_NTP=20921
CANNED=20930
DANTE=20931
MICRO=20932

if ! t_is_root; then t_skip "nts-ke integration needs root (chronyd -u root, netns, danted)"; exit 0; fi
sh "$NTSKIT_TOP/tests/pki/gen.sh" "$PKI" >"$T_DIR/pki.log" 2>&1 || { t_fail "test PKI" "$(tail -2 "$T_DIR/pki.log")"; exit 1; }

# field F of the record on stdin
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
ncookies() { field cookies | tr ',' '\n' | grep -c .; }

# --- chrony 4.3 -------------------------------------------------------------
if peer_chrony_server "$T_DIR/chrony" $CHRONY_NTP $CHRONY_KE "$PKI/ec256.fullchain.pem" "$PKI/ec256.sec1.key"; then
  t_ok "chrony NTS server started"
else
  t_fail "chrony NTS server started" "$PEER_WHY"; exit 1
fi

"$KE" --ca "$PKI/root.crt" localhost:$CHRONY_KE >"$T_DIR/s1" 2>"$T_DIR/e1"; rc=$?
rec=$(cat "$T_DIR/s1")
if [ $rc -eq 0 ] && [ "$(echo "$rec" | wc -l)" -eq 1 ]; then t_ok "chrony: one session, exit 0"; else t_fail "chrony: one session, exit 0" "rc=$rc $(cat "$T_DIR/e1")"; fi
[ "$(echo "$rec" | field aead)" = 15 ] && t_ok "chrony: AEAD 15" || t_fail "chrony: AEAD 15" "$rec"
[ "$(echo "$rec" | ncookies)" = 8 ] && t_ok "chrony: 8 cookies" || t_fail "chrony: 8 cookies" "$rec"
[ "$(echo "$rec" | field ntp)" = "localhost:$CHRONY_NTP" ] && t_ok "chrony: NTP port from the Port record" || t_fail "chrony: NTP port from the Port record" "$rec"
[ "$(echo "$rec" | field c2s | wc -c)" = 65 ] && [ "$(echo "$rec" | field s2c | wc -c)" = 65 ] \
  && t_ok "chrony: 32-byte C2S and S2C keys" || t_fail "chrony: 32-byte C2S and S2C keys" "$rec"
[ "$(echo "$rec" | field not-before)" = 1735689600 ] && [ "$(echo "$rec" | field not-after)" = 2051222400 ] \
  && t_ok "chrony: leaf validity window in the record" || t_fail "chrony: leaf validity window in the record" "$rec"

"$KE" --ca "$PKI/root.crt" 127.0.0.1:$CHRONY_KE >"$T_DIR/s2" 2>"$T_DIR/e2" \
  && t_ok "chrony by IP address (IP SAN checked)" || t_fail "chrony by IP address" "$(cat "$T_DIR/e2")"

# state file: merged, 0600, other lines kept
printf '# my state\nsession source=other ke=x:1 ntp=x:2 aead=15 c2s=%s s2c=%s cookies=- not-before=0 not-after=1 ke-at=5\n' \
  "$(printf '%064d' 0)" "$(printf '%064d' 0)" >"$T_DIR/state"
chmod 0644 "$T_DIR/state"
"$KE" --ca "$PKI/root.crt" --state "$T_DIR/state" localhost:$CHRONY_KE 2>"$T_DIR/e3"
"$KE" --ca "$PKI/root.crt" --state "$T_DIR/state" localhost:$CHRONY_KE 2>>"$T_DIR/e3"
if [ "$(stat -c %a "$T_DIR/state")" = 600 ] && grep -q '^session source=other ' "$T_DIR/state" \
   && [ "$(grep -c "^session source=localhost_$CHRONY_KE " "$T_DIR/state")" = 1 ] && grep -q '^# my state' "$T_DIR/state"; then
  t_ok "--state: merged by rename, mode 0600, other records kept, one session per source"
else
  t_fail "--state merge" "$(stat -c %a "$T_DIR/state") $(cut -c1-60 "$T_DIR/state" | tr '\n' '|') $(cat "$T_DIR/e3")"
fi

# partial / total failure exit codes
"$KE" --ca "$PKI/root.crt" --timeout 3 localhost:$CHRONY_KE localhost:20939 >"$T_DIR/s4" 2>"$T_DIR/e4"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T_DIR/s4")" = 1 ] && grep -q 'localhost_20939: cannot connect' "$T_DIR/e4" \
  && t_ok "one of two servers down: exit 1, the other's session written" || t_fail "partial failure" "rc=$rc $(cat "$T_DIR/e4")"
"$KE" --ca "$PKI/root.crt" --timeout 3 localhost:20939 >/dev/null 2>"$T_DIR/e5"; rc=$?
[ $rc -eq 2 ] && t_ok "no server works: exit 2" || t_fail "no server works: exit 2" "rc=$rc"
"$KE" --bogus >/dev/null 2>&1; [ $? -eq 64 ] && t_ok "unknown flag: exit 64" || t_fail "unknown flag: exit 64" "?"
"$KE" --aead 30 localhost >/dev/null 2>"$T_DIR/e6"; rc=$?
[ $rc -eq 64 ] && grep -q 'aead' "$T_DIR/e6" && t_ok "unsupported --aead refused: exit 64" || t_fail "unsupported --aead" "rc=$rc"

# configuration: sources from [source NAME], --source, --check-config
cat >"$T_DIR/conf" <<EOC
[source a]
address = localhost
ke-port = $CHRONY_KE
ca = $PKI/root.crt

[source b]
address = 127.0.0.1
ke-port = $CHRONY_KE
ca = $PKI/root.crt
EOC
"$KE" --config "$T_DIR/conf" >"$T_DIR/k1" 2>"$T_DIR/ke1"; rc=$?
[ $rc -eq 0 ] && [ "$(cut -d' ' -f2 "$T_DIR/k1" | tr '\n' ' ')" = "source=a source=b " ] \
  && t_ok "sources from the configuration, records in source order" || t_fail "sources from the configuration" "rc=$rc $(cat "$T_DIR/ke1")"
"$KE" --config "$T_DIR/conf" --source b >"$T_DIR/k2" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(cut -d' ' -f2 "$T_DIR/k2")" = "source=b" ] && t_ok "--source b: only that source" || t_fail "--source b" "rc=$rc $(cat "$T_DIR/k2")"
"$KE" --config "$T_DIR/conf" --check-config >"$T_DIR/k3" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q '2 source' "$T_DIR/k3" && t_ok "--check-config contacts nobody and says OK" || t_fail "--check-config" "rc=$rc $(cat "$T_DIR/k3")"
printf '[source a]\nke-port = 99999\n' >"$T_DIR/bad.conf"
"$KE" --config "$T_DIR/bad.conf" --check-config >"$T_DIR/k4" 2>&1; rc=$?
[ $rc -eq 78 ] && grep -q "bad.conf:2:" "$T_DIR/k4" && t_ok "bad configuration: exit 78, FILE:LINE message" || t_fail "bad configuration" "rc=$rc $(cat "$T_DIR/k4")"

# --- certificates -------------------------------------------------------------
# refused certificates: --explain says what the certificate is for and
# when it is valid, the name mismatch names what it holds
LEAF="leaf is for localhost, nts\.test, 127\.0\.0\.1, ::1; valid 2025-01-01T00:00:00Z to 2035-01-01T00:00:00Z"
"$KE" --explain --ca "$PKI/root.crt" --name wrong.test localhost:$CHRONY_KE >/dev/null 2>"$T_DIR/c1"; rc=$?
[ $rc -eq 2 ] && grep -q 'certificate name mismatch (certificate is for localhost, nts\.test, 127\.0\.0\.1, ::1, not wrong\.test)' "$T_DIR/c1" &&
  t_ok "wrong certificate name refused, the names it holds said" || t_fail "wrong certificate name refused" "rc=$rc $(cat "$T_DIR/c1")"
t_grep "--explain: the refused certificate's names and window (name mismatch)" "$T_DIR/c1" "$LEAF \(checked at "
"$KE" --explain --ca "$PKI/untrusted-root.crt" localhost:$CHRONY_KE >/dev/null 2>"$T_DIR/c2"; rc=$?
[ $rc -eq 2 ] && grep -qiE 'trust|unknown ca|anchor' "$T_DIR/c2" && t_ok "untrusted CA refused" || t_fail "untrusted CA refused" "rc=$rc $(cat "$T_DIR/c2")"
t_grep "--explain: the refused certificate's names and window (unknown CA)" "$T_DIR/c2" "$LEAF \(checked at "
"$KE" --explain --ca "$PKI/root.crt" --cert-time 2051222401 localhost:$CHRONY_KE >/dev/null 2>"$T_DIR/c3"; rc=$?
[ $rc -eq 2 ] && grep -qi 'expired' "$T_DIR/c3" && t_ok "expired certificate (at an injected time) refused" || t_fail "expired certificate refused" "rc=$rc $(cat "$T_DIR/c3")"
t_grep "--explain: the refused certificate's names and window (expired)" "$T_DIR/c3" "$LEAF \(checked at 2035-01-01T00:00:01Z\)"
"$KE" --ca "$PKI/root.crt" --cert-time 1700000000 localhost:$CHRONY_KE >/dev/null 2>"$T_DIR/c4"; rc=$?
[ $rc -eq 2 ] && grep -qiE 'not yet valid|not valid before|before' "$T_DIR/c4" && t_ok "not-yet-valid certificate refused" || t_fail "not-yet-valid certificate refused" "rc=$rc $(cat "$T_DIR/c4")"
"$KE" --ca "$PKI/root.crt" --cert-time skip-window localhost:$CHRONY_KE >/dev/null 2>"$T_DIR/c5"; rc=$?
[ $rc -eq 0 ] && grep -q 'NOT' "$T_DIR/c5" && t_ok "--cert-time skip-window works and says so" || t_fail "skip-window" "rc=$rc $(cat "$T_DIR/c5")"
"$KE" --ca "$PKI/untrusted-root.crt" --cert-time skip-window localhost:$CHRONY_KE >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && t_ok "skip-window still refuses an untrusted CA" || t_fail "skip-window still refuses an untrusted CA" "rc=$rc"

# --- scripted malformed servers (openssl s_server sends canned NTS-KE bytes) ---
canned() {   # canned CASE EXPECTED-EXIT PATTERN [extra nts-ke args]; $HOLD: seconds the server stays
  _c=$1 _x=$2 _p=$3; shift 3
  python3 "$NTSKIT_TOP/tests/helpers/ntske_canned.py" "$_c" >"$T_DIR/canned.bin"
  t_bg "sserver-$_c" sh -c "(cat '$T_DIR/canned.bin'; sleep ${HOLD:-4}) | openssl s_server -quiet -accept 127.0.0.1:$CANNED \
     -cert '$PKI/ec256.crt' -key '$PKI/ec256.pkcs8.key' -cert_chain '$PKI/int.crt' -tls1_3 -alpn ntske/1 -naccept 1"
  if ! t_wait_tcp 127.0.0.1 $CANNED 5; then t_fail "malformed server: $_c" "s_server did not start"; return; fi
  "$KE" --ca "$PKI/root.crt" --aead 15 --timeout 3 "$@" localhost:$CANNED >"$T_DIR/m.out" 2>"$T_DIR/m.err"; _rc=$?
  t_stop "sserver-$_c"
  if [ $_rc -eq "$_x" ] && grep -qiE -- "$_p" "$T_DIR/m.err"; then
    t_ok "malformed server: $_c -> $(head -1 "$T_DIR/m.err" | cut -c1-110)"
  elif [ $_rc -eq "$_x" ] && [ "$_x" -eq 0 ] && [ -z "$_p" ]; then
    t_ok "server variant accepted: $_c"
  else
    t_fail "malformed server: $_c" "exit $_rc (want $_x): $(cat "$T_DIR/m.err")"
  fi
}
canned error 2 'Error code 1 \(Bad Request\)'
canned warning 2 'Warning'
canned empty-aead 2 'empty AEAD record'
canned not-offered 2 'did not offer'
canned no-cookies 2 'no New Cookie'
HOLD=0 canned early-close 2 'without End of Message'
HOLD=0 canned past-end 2 'declares a 100-byte body'
canned too-long 2 'longer than 65536'
canned unknown-critical 2 'critical bit'
canned two-ports 2 'second NTPv4 Port Negotiation record'
HOLD=10 canned silent 2 'timed out after 3.0 s .*0 bytes received'   # the server outlives nts-ke's deadline
canned ok-1024 0 ''
if [ "$(field ntp <"$T_DIR/m.out")" = "localhost:11123" ]; then t_ok "record 1024 ignored, Port record used"; else t_fail "record 1024 ignored" "$(cut -c1-120 "$T_DIR/m.out")"; fi
canned ok-ntpsec 0 ''
[ "$(field ntp <"$T_DIR/m.out")" = "localhost:123" ] && t_ok "no Port record: NTP port 123" || t_fail "no Port record: NTP port 123" "$(cut -c1-120 "$T_DIR/m.out")"
canned ok-server 0 ''
[ "$(field ntp <"$T_DIR/m.out")" = "ntp.nts.test:123" ] && t_ok "records 8..14 ignored, Server and Port records used" || t_fail "Server record" "$(cut -c1-120 "$T_DIR/m.out")"

# --- SOCKS5: danted and microsocks; no name resolved locally ----------------
if peer_danted_start dante $DANTE; then
  "$KE" --ca "$PKI/root.crt" --socks5 127.0.0.1:$DANTE localhost:$CHRONY_KE >"$T_DIR/p1" 2>"$T_DIR/pe1"; rc=$?
  [ $rc -eq 0 ] && [ "$(ncookies <"$T_DIR/p1")" = 8 ] && t_ok "through danted: session with 8 cookies" || t_fail "through danted" "rc=$rc $(cat "$T_DIR/pe1")"
else
  t_fail "danted started" "$PEER_WHY"
fi
if peer_microsocks_start micro $MICRO; then
  ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" strace -f -qq -e trace=connect,sendto,sendmsg,openat -o "$T_DIR/strace" \
    "$KE" --ca "$PKI/root.crt" --socks5 127.0.0.1:$MICRO localhost:$CHRONY_KE >"$T_DIR/p2" 2>"$T_DIR/pe2"; rc=$?
  [ $rc -eq 0 ] && [ "$(ncookies <"$T_DIR/p2")" = 8 ] && t_ok "through microsocks: session with 8 cookies" || t_fail "through microsocks" "rc=$rc $(cat "$T_DIR/pe2")"
  others=$(grep -E 'connect\(|sendto\(|sendmsg\(' "$T_DIR/strace" | grep -E 'AF_INET|AF_INET6' | grep -v "sin_port=htons($MICRO), sin_addr=inet_addr(\"127.0.0.1\")")
  if [ -z "$others" ] && grep -q "sin_port=htons($MICRO)" "$T_DIR/strace"; then
    t_ok "strace: the only connection is to the proxy"
  else
    t_fail "strace: the only connection is to the proxy" "$(echo "$others" | head -3)"
  fi
  if grep -qE 'resolv.conf|/etc/hosts|nsswitch.conf|libnss_' "$T_DIR/strace"; then
    t_fail "strace: no local name resolution" "$(grep -E 'resolv.conf|/etc/hosts|nsswitch|libnss_' "$T_DIR/strace" | head -2)"
  else
    t_ok "strace: no local name resolution (no resolver file opened, no DNS packet)"
  fi
else
  t_fail "microsocks started" "$PEER_WHY"
fi

# --- NTPsec 1.2.2 in its own network namespace ---------------------------------
if peer_ntpsec_prepare && t_netns ntskit-ke-ntpsec && \
   peer_ntpsec_server ntskit-ke-ntpsec "$T_DIR/ntpsec" "$PKI/ec256.fullchain.pem" "$PKI/ec256.sec1.key"; then
  ip netns exec ntskit-ke-ntpsec "$KE" --ca "$PKI/root.crt" localhost >"$T_DIR/n1" 2>"$T_DIR/ne1"; rc=$?
  rec=$(cat "$T_DIR/n1")
  if [ $rc -eq 0 ] && [ "$(echo "$rec" | field aead)" = 15 ] && [ "$(echo "$rec" | ncookies)" = 8 ] \
     && [ "$(echo "$rec" | field ntp)" = "localhost:123" ]; then
    t_ok "NTPsec: session with AEAD 15, 8 cookies, NTP port 123"
  else
    t_fail "NTPsec session" "rc=$rc $(cat "$T_DIR/ne1") $(echo "$rec" | cut -c1-100)"
  fi
  # NTPsec honours 15, 16 and 17 and ignores the offer only for AEADs it lacks
  # (e.g. 30, which no ntskit tool offers); canned "not-offered" above covers that.
  ip netns exec ntskit-ke-ntpsec "$KE" --ca "$PKI/root.crt" --aead 17 localhost >"$T_DIR/n2" 2>"$T_DIR/ne2"; rc=$?
  [ $rc -eq 0 ] && [ "$(field aead <"$T_DIR/n2")" = 17 ] && [ "$(field c2s <"$T_DIR/n2" | wc -c)" = 129 ] \
    && t_ok "NTPsec: AEAD 17 offered alone gives 64-byte keys" || t_fail "NTPsec: AEAD 17" "rc=$rc $(cat "$T_DIR/ne2")"
else
  t_fail "NTPsec NTS server started" "$PEER_WHY"
fi

# --- Tor: private network on loopback ------------------------------------------------
if out=$(sh "$NTSKIT_TOP/tests/peers/shared.sh" tor-up 2>"$T_DIR/tor.err"); then
  eval "$out"
  t_ok "private Tor network up (bootstrap ${TOR_BOOTSTRAP_S:-?} s, onion ${TOR_ONION_S:-?} s)"
  "$KE" --explain --ca "$PKI/root.crt" --socks5 "$TOR_SOCKS" --timeout 40 --name nts.test "127.0.0.1:$CHRONY_KE" >"$T_DIR/t1" 2>"$T_DIR/te1"; rc=$?
  [ $rc -eq 0 ] && [ "$(ncookies <"$T_DIR/t1")" = 8 ] && t_ok "through Tor's exit to chrony" || t_fail "through Tor's exit to chrony" "rc=$rc $(cat "$T_DIR/te1")"
  "$KE" --ca "$PKI/root.crt" --socks5 "$TOR_SOCKS" --timeout 60 --name nts.test "$TOR_ONION:4460" >"$T_DIR/t2" 2>"$T_DIR/te2"; rc=$?
  [ $rc -eq 0 ] && [ "$(ncookies <"$T_DIR/t2")" = 8 ] && t_ok "through Tor to chrony's onion service" || t_fail "through Tor to chrony's onion service" "rc=$rc $(cat "$T_DIR/te2")"
  # isolation: two sources, two circuits (stream events on the control port)
  python3 "$NTSKIT_TOP/tests/helpers/tor_streams.py" "$TOR_CONTROL" "$TOR_COOKIE" 45 -- \
    "$KE" --ca "$PKI/root.crt" --socks5 "$TOR_SOCKS" --tor-isolate --timeout 40 --name nts.test \
    "127.0.0.1:$CHRONY_KE" "nts.test:$CHRONY_KE" >"$T_DIR/t3" 2>"$T_DIR/te3"; rc=$?
  if [ $rc -eq 0 ]; then t_ok "--tor-isolate: $(tail -1 "$T_DIR/t3")"; else t_fail "--tor-isolate: two sources, two circuits" "$(cat "$T_DIR/t3" "$T_DIR/te3" | tail -4 | tr '\n' '|')"; fi
  "$KE" --ca "$PKI/root.crt" --socks5 "$TOR_SOCKS_EXT" --timeout 20 --name nts.test \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion:4460" >/dev/null 2>"$T_DIR/te4"; rc=$?
  [ $rc -eq 2 ] && grep -qi 'onion' "$T_DIR/te4" && t_ok "Tor extended error in words: $(head -1 "$T_DIR/te4" | cut -c1-120)" \
    || t_fail "Tor extended error in words" "rc=$rc $(cat "$T_DIR/te4")"
else
  t_fail "private Tor network up" "$(cat "$T_DIR/tor.err")"
fi
