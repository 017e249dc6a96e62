#!/bin/sh
# nts-poll through SOCKS5 proxies (REQ-001, REQ-003), against a chrony NTS server:
#  - danted UDP ASSOCIATE, without and with username/password: authenticated
#    samples via=socks5-udp, the server named by host name (the proxy resolves it);
#  - microsocks and an offline Tor refuse UDP (0x07): the error says so and
#    names the two ways out (--relay, --direct); no sample, nothing sent direct;
#  - microsocks + --direct: falls back to direct UDP, saying so;
#  - microsocks + --relay: NTP framed over TCP through SOCKS5 CONNECT to a
#    relay (tests/helpers/udp_mitm.py relay), samples via=tcp-relay;
#  - strace: with --socks5 and no --direct, every connect/sendto goes to the
#    proxy (its TCP port and its UDP relay), none to the time server's port,
#    no DNS, no netlink (no getaddrinfo at all).
# Ports: 127.0.0.1:20820-20839.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"
. "$NTSKIT_TOP/tests/peers/socks.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll
NTP=20820 KEP=20821 DANTE=20822 DANTE_AUTH=20823 MSOCKS=20824 TOR=20825 TOR_EXT=20826 RELAY=20827
# (20833/20834: the offline Tor's fake directory authority, never listening)

t_need_bins "$KE" "$POLL"
peer_chrony_test_server $NTP $KEP
# sessions name the NTP server "localhost:$NTP": through a proxy that name goes
# to the proxy as ATYP 3 (domain)
newsess() { "$KE" --ca "$T_DIR/pki/root.crt" localhost:$KEP 2>>"$T_DIR/ke.err"; }
newsess >"$T_DIR/s"
grep -q "^session .* ntp=localhost:$NTP " "$T_DIR/s" || { t_fail "nts-ke session" "$(tail -c 300 "$T_DIR/ke.err")"; exit 0; }

# poll_case NAME ARGS...: nts-poll with a fresh session; $T_DIR/NAME.{out,err}, $rc, $samples
poll_case() {
  _n=$1; shift
  newsess | "$POLL" --count 4 --spacing 0 --timeout 2 "$@" >"$T_DIR/$_n.out" 2>"$T_DIR/$_n.err"
  rc=$?
  samples=$(grep -c '^sample ' "$T_DIR/$_n.out")
}
expect_samples() {
  if [ "$samples" -eq 4 ] && [ $rc -eq 0 ] && grep -q "^sample .* via=$2 " "$T_DIR/$1.out"; then
    t_ok "$1: 4 authenticated samples via=$2"
  else
    t_fail "$1: 4 authenticated samples via=$2" "exit $rc, $samples samples: $(head -c 300 "$T_DIR/$1.err" | tr '\n' '|')"
  fi
}
# offsets_ok NAME LIMIT: the lowest-delay sample (what an NTP clock filter
# uses) has |offset| < LIMIT, and every sample |offset| <= delay/2 + 0.1 ms
# (the true offset is 0 here: the error of one exchange is at most half its
# round trip, RFC 5905 §8).
offsets_ok() {
  if awk -v lim="$2" '$1 == "sample" { n++; for (i = 2; i <= NF; i++) { if ($i ~ /^offset=/) o = substr($i, 8) + 0; if ($i ~ /^delay=/) d = substr($i, 7) + 0 }
        if (o < 0) o = -o; if (o > d / 2 + 0.0001) bad++; if (n == 1 || d < bd) { bd = d; bo = o } }
      END { exit !(n > 0 && bad == 0 && bo < lim) }' "$T_DIR/$1.out"; then t_ok "$1: |offset| < $2 s, and within delay/2 for every sample"
  else t_fail "$1: |offset| < $2 s, and within delay/2 for every sample" "$(grep -o 'offset=[^ ]* delay=[^ ]*' "$T_DIR/$1.out" | tr '\n' ' ')"; fi
  echo "# $1: $(grep -o 'offset=[^ ]* delay=[^ ]*' "$T_DIR/$1.out" | tr '\n' ' ')"
}

# 1. danted, no authentication
if peer_danted_start dante $DANTE; then
  poll_case dante --socks5 127.0.0.1:$DANTE
  expect_samples dante socks5-udp
  offsets_ok dante 0.001
  # 2. nothing direct: strace every network call
  if command -v strace >/dev/null 2>&1; then
    newsess >"$T_DIR/s2"
    strace -f -e trace=network -o "$T_DIR/strace" "$POLL" --socks5 127.0.0.1:$DANTE --count 1 --timeout 2 \
      <"$T_DIR/s2" >"$T_DIR/st.out" 2>"$T_DIR/st.err"
    grep -E '(connect|sendto|sendmsg)\(' "$T_DIR/strace" >"$T_DIR/strace.net"
    ports=$(grep -o 'sin6\?_port=htons([0-9]*)' "$T_DIR/strace.net" | grep -o '[0-9]*' | sort -u | tr '\n' ' ')
    relayport=$(echo "$ports" | tr ' ' '\n' | grep -v "^$DANTE\$" | grep .)
    if grep -q '^sample ' "$T_DIR/st.out" && echo " $ports" | grep -q " $DANTE " &&
       ! echo " $ports" | grep -Eq " ($NTP|53) " && [ "$(echo "$relayport" | grep -c .)" -le 1 ] &&
       ! grep -q 'AF_INET6' "$T_DIR/strace.net"; then
      t_ok "strace: only the proxy (TCP $DANTE, its UDP relay $relayport) is contacted, never $NTP or DNS"
    else
      t_fail "strace: only the proxy is contacted" "ports: $ports; $(head -c 400 "$T_DIR/strace.net" | tr '\n' '|')"
    fi
    grep -q 'AF_NETLINK' "$T_DIR/strace" && t_fail "strace: no resolver (no netlink socket)" "$(grep -m1 AF_NETLINK "$T_DIR/strace")" ||
      t_ok "strace: no resolver (no netlink socket)"
  else
    t_skip "strace not installed"
  fi
else
  t_skip "danted: $PEER_WHY"
fi

# 3. danted with username/password (RFC 1929)
if peer_danted_start dante-auth $DANTE_AUTH auth; then
  poll_case dante-auth --socks5 127.0.0.1:$DANTE_AUTH --socks5-user "$PEER_SOCKS_USER" --socks5-pass "$PEER_SOCKS_PASS"
  expect_samples dante-auth socks5-udp
  offsets_ok dante-auth 0.001
  poll_case dante-badpass --socks5 127.0.0.1:$DANTE_AUTH --socks5-user "$PEER_SOCKS_USER" --socks5-pass wrong
  [ "$samples" -eq 0 ] && [ $rc -eq 2 ] && t_ok "danted, wrong password: no sample, exit 2" ||
    t_fail "danted, wrong password: no sample, exit 2" "exit $rc, $samples samples"
  # the same credentials from the configuration file
  printf '[proxy]\nsocks5 = 127.0.0.1:%s\nuser = %s\npassword = %s\n' $DANTE_AUTH "$PEER_SOCKS_USER" "$PEER_SOCKS_PASS" >"$T_DIR/auth.conf"
  poll_case dante-auth-config --config "$T_DIR/auth.conf"
  expect_samples dante-auth-config socks5-udp
else
  t_skip "danted with authentication: $PEER_WHY"
fi

# 4. microsocks: CONNECT only, UDP ASSOCIATE refused
if peer_microsocks_start msocks $MSOCKS; then
  poll_case msocks --socks5 127.0.0.1:$MSOCKS
  [ "$samples" -eq 0 ] && [ $rc -eq 2 ] && t_ok "microsocks: no sample, exit 2" || t_fail "microsocks: no sample, exit 2" "exit $rc, $samples samples"
  t_grep "microsocks: the error says the proxy does not carry UDP (0x07)" "$T_DIR/msocks.err" 'does not carry UDP \(UDP ASSOCIATE answered 0x07'
  t_grep "microsocks: the error names --relay and --direct" "$T_DIR/msocks.err" 'use --relay HOST:PORT .* or --direct '
  [ "$(grep -c . "$T_DIR/msocks.err")" -eq 1 ] && t_ok "microsocks: one line on stderr" || t_fail "microsocks: one line on stderr" "$(grep -c . "$T_DIR/msocks.err") lines"
  poll_case msocks-direct --socks5 127.0.0.1:$MSOCKS --direct
  expect_samples msocks-direct udp
  t_grep "microsocks + --direct: says NTP goes direct" "$T_DIR/msocks-direct.err" 'sending NTP directly, NOT through the proxy'
  # 5. the TCP relay through SOCKS5 CONNECT
  t_bg relay python3 "$NTSKIT_TOP/tests/helpers/udp_mitm.py" relay $RELAY
  if t_wait_tcp 127.0.0.1 $RELAY 10; then
    poll_case msocks-relay --socks5 127.0.0.1:$MSOCKS --relay 127.0.0.1:$RELAY
    expect_samples msocks-relay tcp-relay
    offsets_ok msocks-relay 0.005
    t_grep "relay: the frames named the server by host name" "$T_DIR/relay.log" "^relay localhost $NTP "
    poll_case relay-direct --relay 127.0.0.1:$RELAY
    expect_samples relay-direct tcp-relay
  else
    t_fail "relay helper started" "$(tail -n 3 "$T_DIR/relay.log")"
  fi
else
  t_skip "microsocks: $PEER_WHY"
fi

# 6. Tor (offline: it answers UDP ASSOCIATE without a circuit)
if peer_tor_offline_start tor $TOR $TOR_EXT; then
  poll_case tor --socks5 127.0.0.1:$TOR
  [ "$samples" -eq 0 ] && [ $rc -eq 2 ] && t_ok "tor: no sample, exit 2" || t_fail "tor: no sample, exit 2" "exit $rc, $samples samples"
  t_grep "tor: the error names 0x07, --relay and --direct" "$T_DIR/tor.err" '0x07.*--relay HOST:PORT.*--direct'
else
  t_skip "tor: $PEER_WHY"
fi
exit 0
