#!/bin/sh
# lib/socks5 against real SOCKS5 proxies on loopback and a scripted bad one:
#  - danted (no auth; username/password): CONNECT by name and by IP, UDP
#    ASSOCIATE round trips, wrong password, missing credentials;
#  - microsocks: CONNECT; UDP ASSOCIATE refused (0x07) -> "does not relay UDP";
#  - no local name resolution (strace: the only connect() is to the proxy,
#    nothing to port 53, no resolver files opened);
#  - tests/helpers/socks5_badproxy.py: one mode per bad-input case, each must
#    give exit 2 and a one-line error naming what was wrong (never a crash).
# Ports: 127.0.0.1:20200-20299.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/socks.sh"

P=$NTSKIT_HELPERS/socks5_probe
BAD=$NTSKIT_TOP/tests/helpers/socks5_badproxy.py
TCP_ECHO=20200 UDP_ECHO=20201
TCP_ECHO6=20202
DANTE=20210 DANTE_AUTH=20211 MSOCKS=20212 MSOCKS_AUTH=20213 MSOCKS6=20214
TOR=20230 TOR_EXT=20231   # (20238/20239: its fake directory authority, never listening)
CLOSED=20299            # nothing listens here
BADPORT=20240           # scripted proxy ports: 20240, 20241, ... (about 40 cases)

if [ ! -x "$P" ]; then
  t_fail "socks5_probe built" "$P missing"
  exit 0
fi

# run_probe NAME ARGS...: runs the probe, output in $T_DIR/NAME.out, rc in $rc
run_probe() {
  _n=$1; shift
  "$P" "$@" >"$T_DIR/$_n.out" 2>&1
  rc=$?
}

# expect NAME RC PATTERN ARGS...: probe exits RC and its output matches PATTERN;
# a failing case (RC 2) must print exactly one "error:" line.
expect() {
  _n=$1 _want=$2 _pat=$3; shift 3
  run_probe "$_n" "$@"
  _o=$(head -c 400 "$T_DIR/$_n.out" | tr '\n' '|')
  if [ "$rc" -ne "$_want" ]; then
    t_fail "$_n" "exit $rc, wanted $_want: $_o"
  elif ! grep -Eq -- "$_pat" "$T_DIR/$_n.out"; then
    t_fail "$_n" "no line matching /$_pat/: $_o"
  elif [ "$_want" -eq 2 ] && [ "$(grep -c '^error: ' "$T_DIR/$_n.out")" -ne 1 ]; then
    t_fail "$_n" "expected exactly one error line: $_o"
  else
    t_ok "$_n"
  fi
}

for p in $TCP_ECHO $UDP_ECHO $TCP_ECHO6 $DANTE $DANTE_AUTH $MSOCKS $MSOCKS_AUTH $MSOCKS6 $TOR $TOR_EXT; do
  t_port_free "$p" || { t_fail "port $p free" "something already listens on $p"; exit 0; }
done

peer_socks_echo_start tcpecho tcp $TCP_ECHO || { t_fail "tcp echo starts" "$PEER_WHY"; exit 0; }
peer_socks_echo_start udpecho udp $UDP_ECHO || { t_fail "udp echo starts" "$PEER_WHY"; exit 0; }

# ---------------------------------------------------------------- dante, no auth
if peer_danted_start dante $DANTE; then
  expect "dante: CONNECT by name (ATYP domain) localhost" 0 '^ok connect bnd=127\.0\.0\.1:' \
    127.0.0.1:$DANTE connect localhost:$TCP_ECHO hello-by-name
  expect "dante: CONNECT by IPv4 literal" 0 '^ok connect bnd=.* reply=hello-by-ip$' \
    127.0.0.1:$DANTE connect 127.0.0.1:$TCP_ECHO hello-by-ip
  expect "dante: proxy given as localhost (no resolver)" 0 '^ok connect' \
    localhost:$DANTE connect 127.0.0.1:$TCP_ECHO hello
  expect "dante: UDP ASSOCIATE round trip (declared own UDP address)" 0 \
    '^ok udp relay=127\.0\.0\.1:[0-9]+ from=127\.0\.0\.1:20201 reply=echo:ping$' \
    127.0.0.1:$DANTE udp 127.0.0.1:$UDP_ECHO ping
  expect "dante: UDP ASSOCIATE round trip to a name" 0 '^ok udp .*reply=echo:ping-name$' \
    127.0.0.1:$DANTE udp localhost:$UDP_ECHO ping-name
  expect "dante: UDP ASSOCIATE declaring 0.0.0.0:0" 0 '^ok udp .*reply=echo:ping-any$' \
    -A 127.0.0.1:$DANTE udp 127.0.0.1:$UDP_ECHO ping-any
  expect "dante: closed target port -> reply 0x05 in words" 2 \
    "^error: SOCKS5 proxy 127\.0\.0\.1:$DANTE: CONNECT 127\.0\.0\.1:$CLOSED: reply 0x05: connection refused$" \
    127.0.0.1:$DANTE connect 127.0.0.1:$CLOSED x
  expect "dante: username offered to a no-auth proxy -> no acceptable method" 2 \
    'proxy accepts none of our methods' \
    -u a -p b 127.0.0.1:$DANTE connect 127.0.0.1:$TCP_ECHO x

  # No local name resolution: the probe's only connect() is to the proxy,
  # nothing goes to port 53, and no resolver file is opened.
  if ! command -v strace >/dev/null 2>&1; then
    t_skip "strace not installed: no-local-DNS check not run"
  elif ! strace -qq -o /dev/null true 2>/dev/null; then
    t_skip "strace cannot trace here (ptrace not permitted): no-local-DNS check not run"
  else
    for k in connect udp; do
      n="no local DNS: $k by name through dante (strace)"
      tgt=localhost:$TCP_ECHO; [ $k = udp ] && tgt=localhost:$UDP_ECHO
      st=$T_DIR/strace-$k.txt
      ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$st" -e trace=network,openat "$P" 127.0.0.1:$DANTE $k "$tgt" strace-check \
        >"$T_DIR/strace-$k.out" 2>&1
      rc=$?
      conns=$(grep -E '\bconnect\(' "$st" || true)
      if [ $rc -ne 0 ]; then
        t_fail "$n" "probe exit $rc: $(head -c 300 "$T_DIR/strace-$k.out" | tr '\n' '|')"
      elif [ "$(printf '%s\n' "$conns" | grep -c .)" -ne 1 ] ||
           ! printf '%s\n' "$conns" | grep -q "sin_port=htons($DANTE), sin_addr=inet_addr(\"127.0.0.1\")"; then
        t_fail "$n" "connect() calls other than the proxy: $(printf '%s' "$conns" | tr '\n' '|' | head -c 300)"
      elif grep -q 'htons(53)' "$st"; then
        t_fail "$n" "traffic to port 53: $(grep 'htons(53)' "$st" | head -n 2 | tr '\n' '|')"
      elif grep -Eq 'openat\(.*"/etc/(hosts|resolv\.conf|nsswitch\.conf|gai\.conf)"' "$st"; then
        t_fail "$n" "resolver file opened: $(grep -E '/etc/(hosts|resolv|nsswitch|gai)' "$st" | head -n 1)"
      elif grep -E '\b(sendto|sendmsg)\(' "$st" | grep 'sin_addr=' | grep -vq 'inet_addr("127.0.0.1")'; then
        t_fail "$n" "datagram to a non-loopback address: $(grep -E 'sendto|sendmsg' "$st" | head -n 1)"
      else
        t_ok "$n"
      fi
    done
  fi
else
  t_fail "danted (no auth) starts" "$PEER_WHY"
fi

# ------------------------------------------------------- dante, username/password
if t_is_root; then
  if peer_danted_start dante-auth $DANTE_AUTH auth; then
    expect "dante auth: CONNECT by name with the right password" 0 '^ok connect .*reply=auth-ok$' \
      -u "$PEER_SOCKS_USER" -p "$PEER_SOCKS_PASS" 127.0.0.1:$DANTE_AUTH connect localhost:$TCP_ECHO auth-ok
    expect "dante auth: UDP ASSOCIATE with the right password" 0 '^ok udp .*reply=echo:auth-udp$' \
      -u "$PEER_SOCKS_USER" -p "$PEER_SOCKS_PASS" 127.0.0.1:$DANTE_AUTH udp 127.0.0.1:$UDP_ECHO auth-udp
    expect "dante auth: wrong password -> authentication failed" 2 \
      "^error: SOCKS5 proxy 127\.0\.0\.1:$DANTE_AUTH: authentication failed: proxy rejected the username/password" \
      -u "$PEER_SOCKS_USER" -p wrong 127.0.0.1:$DANTE_AUTH connect localhost:$TCP_ECHO x
    expect "dante auth: no credentials -> proxy wants a username and password" 2 \
      'accepts none of our methods.*username and password' \
      127.0.0.1:$DANTE_AUTH connect localhost:$TCP_ECHO x
  else
    t_fail "danted (username auth) starts" "$PEER_WHY"
  fi
else
  t_skip "danted with username/password needs root (system accounts in a private mount namespace)"
fi

# (LeakSanitizer cannot run under ptrace, hence detect_leaks=0 for the strace runs.)

# ------------------------------------------------------------------- microsocks
if peer_microsocks_start msocks $MSOCKS; then
  expect "microsocks: CONNECT by name" 0 '^ok connect bnd=0\.0\.0\.0:0 reply=ms-name$' \
    127.0.0.1:$MSOCKS connect localhost:$TCP_ECHO ms-name
  expect "microsocks: CONNECT by IPv4 literal" 0 '^ok connect .*reply=ms-ip$' \
    127.0.0.1:$MSOCKS connect 127.0.0.1:$TCP_ECHO ms-ip
  expect "microsocks: UDP ASSOCIATE refused -> says the proxy does not relay UDP" 2 \
    "^error: SOCKS5 proxy 127\.0\.0\.1:$MSOCKS: UDP ASSOCIATE: the proxy does not relay UDP \(reply 0x07 command not supported" \
    127.0.0.1:$MSOCKS udp 127.0.0.1:$UDP_ECHO x
else
  t_fail "microsocks starts" "$PEER_WHY"
fi
if peer_microsocks_start msocks-auth $MSOCKS_AUTH "$PEER_SOCKS_USER" "$PEER_SOCKS_PASS"; then
  expect "microsocks auth: right password" 0 '^ok connect .*reply=ms-auth$' \
    -u "$PEER_SOCKS_USER" -p "$PEER_SOCKS_PASS" 127.0.0.1:$MSOCKS_AUTH connect localhost:$TCP_ECHO ms-auth
  expect "microsocks auth: wrong password -> authentication failed" 2 'authentication failed' \
    -u "$PEER_SOCKS_USER" -p wrong 127.0.0.1:$MSOCKS_AUTH connect localhost:$TCP_ECHO x
else
  t_fail "microsocks (auth) starts" "$PEER_WHY"
fi

# IPv6: a proxy on [::1] and an ATYP 0x04 target
if peer_socks_echo_start tcpecho6 tcp $TCP_ECHO6 ::1 && peer_microsocks_start msocks6 $MSOCKS6 "" "" ::1; then
  expect "microsocks on [::1]: CONNECT to an IPv6 literal (ATYP 0x04)" 0 '^ok connect .*reply=v6$' \
    "[::1]:$MSOCKS6" connect "[::1]:$TCP_ECHO6" v6
  expect "microsocks on [::1]: CONNECT by name" 0 '^ok connect .*reply=v6-name$' \
    "[::1]:$MSOCKS6" connect "localhost:$TCP_ECHO" v6-name
else
  t_skip "IPv6 loopback not usable here: $PEER_WHY"
fi

# ------------------------------------------------- Tor, offline (no circuits)
if peer_tor_offline_start tor $TOR $TOR_EXT; then
  expect "tor: UDP ASSOCIATE -> says the proxy does not relay UDP" 2 \
    "^error: SOCKS5 proxy 127\.0\.0\.1:$TOR: UDP ASSOCIATE: the proxy does not relay UDP \(reply 0x07 command not supported; Tor never does" \
    127.0.0.1:$TOR udp 127.0.0.1:$UDP_ECHO x
  expect "tor: isolation credentials accepted; bad onion -> 0xF6 in words" 2 \
    "^error: SOCKS5 proxy 127\.0\.0\.1:$TOR_EXT: CONNECT aaaa\.onion:80: reply 0xf6: onion service invalid address \(Tor\)$" \
    -I 127.0.0.1:$TOR_EXT connect aaaa.onion:80 x
  o="$T_DIR/tor: isolation credentials accepted; bad onion -> 0xF6 in words.out"
  if grep -q '^isolation user ntskit-[0-9a-f]\{16\}$' "$o"; then
    t_ok "tor: isolation username is ntskit-<16 hex>"
  else
    t_fail "tor: isolation username is ntskit-<16 hex>" "$(head -n 2 "$o" | tr '\n' '|')"
  fi
  expect "tor: private IPv6 target -> 0x01 in words" 2 \
    "CONNECT \[::1\]:80: reply 0x01: general SOCKS server failure$" \
    -I 127.0.0.1:$TOR connect "[::1]:80" x
else
  t_skip "tor offline client did not start: $PEER_WHY"
fi

expect "no proxy listening -> connect error" 2 \
  "^error: SOCKS5 proxy 127\.0\.0\.1:$CLOSED: connect: Connection refused$" \
  127.0.0.1:$CLOSED connect localhost:$TCP_ECHO x
expect "proxy given by a name other than localhost is refused" 64 'must be an IP address or localhost' \
  proxy.example:1080 connect localhost:$TCP_ECHO x

# ------------------------------------------------------------- scripted bad proxy
# bad MODE NAME RC PATTERN [PROBE-OPTIONS...] [-- CMD TARGET]: one proxy process per case
bad() {
  _mode=$1 _name=$2 _rc=$3 _pat=$4; shift 4
  _cmd=connect _tgt=127.0.0.1:$TCP_ECHO
  case "$_mode" in udp-*|rep-07u) _cmd=udp _tgt=127.0.0.1:$UDP_ECHO ;; esac
  _m=$_mode; [ "$_mode" = rep-07u ] && _m=rep-07
  t_bg "bad-$_mode" python3 "$BAD" 127.0.0.1 $BADPORT "$_m"
  if ! t_wait_tcp 127.0.0.1 $BADPORT 10; then
    t_fail "bad proxy: $_name" "scripted proxy did not start on $BADPORT"
  else
    _t0=$(date +%s)
    expect "bad proxy: $_name" "$_rc" "$_pat" -t 700 "$@" 127.0.0.1:$BADPORT $_cmd "$_tgt" x
    _t1=$(date +%s)
    [ $((_t1 - _t0)) -le 4 ] || t_fail "bad proxy: $_name: bounded time" "took $((_t1 - _t0)) s with -t 700"
  fi
  t_stop "bad-$_mode"
  BADPORT=$((BADPORT + 1))
}

B="^error: SOCKS5 proxy 127\.0\.0\.1:[0-9]+: "
bad close           "closed at once"                 2 "${B}method selection: proxy (closed|reset) the connection after 0 of 2 bytes$"
bad silent          "silent (greeting timeout)"      2 "${B}method selection: no answer within 700 ms \(got 0 of 2 bytes\)$"
bad greet-short     "short method selection"         2 "${B}method selection: proxy closed the connection after 1 of 2 bytes$"
bad greet-version   "wrong version in method reply"  2 "${B}method selection: not a SOCKS5 answer \(version byte 0x04, expected 0x05\)$"
bad greet-ff        "method 0xFF"                    2 "${B}method selection: proxy accepts none of our methods"
bad greet-unoffered "method not offered"             2 "${B}method selection: proxy chose 0x01 \(GSSAPI\), which we did not offer"
bad garbage         "garbage (HTTP answer)"          2 "${B}method selection: not a SOCKS5 server \(answer starts with 'H': HTTP\?\)$"
bad auth-fail       "auth status 1"                  2 "${B}authentication failed: proxy rejected the username/password \(status 0x01\)$" -u u -p p
bad auth-short      "auth reply cut short"           2 "${B}authentication: proxy closed the connection after 1 of 2 bytes$" -u u -p p
bad rep-short       "short reply"                    2 "${B}CONNECT 127\.0\.0\.1:$TCP_ECHO: reply: proxy closed the connection after 6 of 10 bytes$"
bad rep-close-mid   "closed mid-reply"               2 "${B}CONNECT 127\.0\.0\.1:$TCP_ECHO: reply: proxy closed the connection after 2 of 4 bytes$"
bad rep-version     "wrong version in reply"         2 "${B}CONNECT [^:]+:[0-9]+: reply: not a SOCKS5 answer \(version byte 0x04"
bad rep-badatyp     "bad ATYP in reply"              2 "${B}CONNECT [^:]+:[0-9]+: reply: bad address type \(ATYP 0x09"
bad rep-past-end    "domain length past end"         2 "${B}CONNECT [^:]+:[0-9]+: reply: proxy closed the connection after 8 of 262 bytes$"
bad rep-silent      "no reply (request timeout)"     2 "${B}CONNECT [^:]+:[0-9]+: reply: no answer within 700 ms"
bad rep-07u         "UDP ASSOCIATE 0x07"             2 "${B}UDP ASSOCIATE: the proxy does not relay UDP"
bad udp-zero-bnd    "UDP relay BND 0.0.0.0 -> proxy address" 0 '^ok udp relay=127\.0\.0\.1:[0-9]+ from=127\.0\.0\.1:20201 reply=echo:x$'
bad udp-frag        "UDP FRAG != 0 dropped and said so" 0 '^dropped: .*FRAG 0x01: fragments are not supported'
bad udp-stranger    "UDP from non-relay dropped and said so" 0 '^dropped: .*from 127\.0\.0\.1:[0-9]+: not the relay 127\.0\.0\.1:[0-9]+$'
bad udp-badhdr      "UDP truncated header dropped and said so" 0 '^dropped: .*address runs past the end'
bad udp-close       "UDP association ends with TCP" 2 "${B}UDP association ended: proxy closed the control connection$"

# every reply code in words, Tor's extended codes included
for c in 01:'general SOCKS server failure' 02:'connection not allowed by ruleset' 03:'network unreachable' \
         04:'host unreachable' 05:'connection refused' 06:'TTL expired' 07:'command not supported' \
         08:'address type not supported' 09:'unassigned reply code' \
         f0:'onion service descriptor can not be found \(Tor\)' f1:'onion service descriptor is invalid \(Tor\)' \
         f2:'onion service introduction failed \(Tor\)' f3:'onion service rendezvous failed \(Tor\)' \
         f4:'onion service missing client authorization \(Tor\)' f5:'onion service wrong client authorization \(Tor\)' \
         f6:'onion service invalid address \(Tor\)' f7:'onion service introduction timed out \(Tor\)'; do
  code=${c%%:*} words=${c#*:}
  bad "rep-$code" "reply 0x$code in words" 2 "${B}CONNECT [^:]+:[0-9]+: reply 0x$code: $words$"
done
exit 0
