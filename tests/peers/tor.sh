# Private Tor network on 127.0.0.1 for integration tests (POSIX sh, sourceable).
# Uses Debian's tor package only (tor, tor-gencert); everything stays on loopback.
# Normally reached through tests/peers/shared.sh (tor-up / stop), which starts
# the network once per test run; these functions do the work.
#
# Layout (nodes are directories under NET):
#   a0 a1 a2  v3 directory authorities, also non-exit relays
#             ORPort 127.0.0.1:20700-20702, DirPort 127.0.0.1:20710-20712
#   r3 r4     middle relays, ORPort 20703, 20704
#   e5        exit relay, ORPort 20705, exits ONLY to 127.0.0.0/8; its DNS goes
#             to tests/helpers/dns_stub.py on 127.0.0.1:20723 (localhost and
#             *.test -> 127.0.0.1, everything else NXDOMAIN)
#   c6        client: SocksPort 127.0.0.1:20720, SocksPort 20721 with
#             ExtendedErrors (0xF0-0xF7 onion errors), ControlPort 20722 with
#             cookie authentication (c6/control_auth_cookie);
#             UseMicrodescriptors 0, MapAddress nts.test/localhost -> 127.0.0.1,
#             SocksTimeout 30
#   h7        v3 onion service; its ports come from a list of "VIRTPORT TARGET"
#             lines (TARGET = 127.0.0.1:PORT)
#
# Functions (each returns 0, or 1 with a reason in $PEER_WHY):
#   peer_tor_mknet NET PORTLIST    keys + torrcs (tor --verify-config'd)
#   peer_tor_start NET             start every node (PIDs in NET/NODE/tor.pid)
#                                  and the DNS stub (NET/dns.pid)
#   peer_tor_wait NET SECONDS      wait for: client bootstrap, a CONNECT through
#                                  the exit, the onion service reachable;
#                                  measured times in NET/times
#   peer_tor_stop NET              stop every recorded PID (TERM, then KILL)
#   peer_tor_ctl NET COMMAND...    one control-port command (cookie auth);
#                                  prints tor's reply lines
#   peer_tor_socks_rep PORT HOST DPORT   one SOCKS5 CONNECT; prints the REP code
#                                  (decimal), e.g. 0 success, 1 general failure,
#                                  240 (0xF0) onion descriptor not found
#
# Facts this follows (tor 0.4.9 on Debian 12): authorities need tor-gencert
# keys and each other's fingerprints; short voting intervals
# (TestingV3AuthInitialVotingInterval 5 / V3AuthVotingInterval 10) make the
# first consensus come within ~10 s; TestingTorNetwork + AssumeReachable; a
# loopback-only exit looks like "reject all" in microdescriptor summaries,
# hence UseMicrodescriptors 0 on the client; a hostname CONNECT needs
# MapAddress (the client cannot know the exit would resolve it to 127/8);
# the onion "hostname" file appears long before the descriptor is published,
# so readiness is probed with a CONNECT on the ExtendedErrors port.

PEER_TOR_ORBASE=20700
PEER_TOR_DIRBASE=20710
PEER_TOR_SOCKS=20720
PEER_TOR_SOCKS_EXT=20721
PEER_TOR_CONTROL=20722
PEER_TOR_DNS=20723
PEER_TOR_AUTHS="a0 a1 a2"
PEER_TOR_RELAYS="r3 r4"
PEER_TOR_EXITS="e5"
PEER_TOR_CLIENT=c6
PEER_TOR_HS=h7
PEER_WHY=

_tor_idx() { echo "$1" | sed 's/^[a-z]*//'; }
_tor_nodes() { echo "$PEER_TOR_AUTHS $PEER_TOR_RELAYS $PEER_TOR_EXITS $PEER_TOR_CLIENT $PEER_TOR_HS"; }

# Common torrc block for node $1 in network $2; $3 = DirAuthority lines file.
_tor_common() {
  cat <<EOF
TestingTorNetwork 1
AssumeReachable 1
PathsNeededToBuildCircuits 0.25
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
Nickname $1
DataDirectory $2/$1
PidFile $2/$1/pid
Log notice file $2/$1/notice.log
RunAsDaemon 0
ShutdownWaitLength 0
SafeLogging 0
ProtocolWarnings 1
AddressDisableIPv6 1
WarnUnsafeSocks 0
EOF
  cat "$3"
}

# peer_tor_mknet NET PORTLIST: PORTLIST is a file of "VIRTPORT TARGET" lines.
peer_tor_mknet() {
  _net=$1 _ports=$2
  PEER_WHY=
  for _c in tor tor-gencert; do
    command -v $_c >/dev/null 2>&1 || { PEER_WHY="$_c not installed (Debian package tor)"; return 1; }
  done
  rm -rf "$_net" && mkdir -p "$_net" && chmod 700 "$_net" || { PEER_WHY="cannot create $_net"; return 1; }
  for _n in $(_tor_nodes); do mkdir -p "$_net/$_n/keys" && chmod -R 700 "$_net/$_n"; done
  : >"$_net/dirauth.conf"
  for _n in $PEER_TOR_AUTHS; do
    _i=$(_tor_idx $_n)
    # v3 authority identity + signing key and certificate (empty passphrase on fd 0)
    if ! echo "" | tor-gencert --create-identity-key --passphrase-fd 0 -m 12 \
        -a 127.0.0.1:$((PEER_TOR_DIRBASE + _i)) \
        -i "$_net/$_n/keys/authority_identity_key" -s "$_net/$_n/keys/authority_signing_key" \
        -c "$_net/$_n/keys/authority_certificate" >"$_net/$_n/gencert.log" 2>&1; then
      PEER_WHY="tor-gencert failed for $_n: $(tail -1 "$_net/$_n/gencert.log")"; return 1
    fi
    # the relay identity (RSA) fingerprint, created in the data directory
    _fpr=$(tor --quiet --ignore-missing-torrc -f /nonexistent --defaults-torrc /nonexistent \
      --list-fingerprint --orport 1 --nickname $_n --datadirectory "$_net/$_n" 2>/dev/null |
      tail -1 | cut -d' ' -f2- | tr -d ' ')
    _v3=$(awk '/^fingerprint /{print $2}' "$_net/$_n/keys/authority_certificate")
    if [ -z "$_fpr" ] || [ -z "$_v3" ]; then PEER_WHY="no fingerprint for authority $_n"; return 1; fi
    echo "DirAuthority $_n orport=$((PEER_TOR_ORBASE + _i)) no-v2 v3ident=$_v3 127.0.0.1:$((PEER_TOR_DIRBASE + _i)) $_fpr" \
      >>"$_net/dirauth.conf"
  done
  echo "nameserver 127.0.0.1:$PEER_TOR_DNS" >"$_net/resolv-loopback.conf"

  for _n in $PEER_TOR_AUTHS; do
    _i=$(_tor_idx $_n)
    { _tor_common $_n "$_net" "$_net/dirauth.conf"; cat <<EOF
# directory authority, also a non-exit relay
SocksPort 0
Address 127.0.0.1
ORPort 127.0.0.1:$((PEER_TOR_ORBASE + _i))
DirPort 127.0.0.1:$((PEER_TOR_DIRBASE + _i))
ExitRelay 0
ExitPolicy reject *:*
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo auth$_i@nts.test
TestingV3AuthInitialVotingInterval 5
V3AuthVotingInterval 10
TestingV3AuthInitialVoteDelay 2
V3AuthVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthDistDelay 2
EOF
    } >"$_net/$_n/torrc"
  done
  for _n in $PEER_TOR_RELAYS; do
    _i=$(_tor_idx $_n)
    { _tor_common $_n "$_net" "$_net/dirauth.conf"; cat <<EOF
# middle relay
SocksPort 0
Address 127.0.0.1
ORPort 127.0.0.1:$((PEER_TOR_ORBASE + _i))
ExitRelay 0
ExitPolicy reject *:*
EOF
    } >"$_net/$_n/torrc"
  done
  for _n in $PEER_TOR_EXITS; do
    _i=$(_tor_idx $_n)
    { _tor_common $_n "$_net" "$_net/dirauth.conf"; cat <<EOF
# exit relay: to loopback only; DNS to the loopback stub, no hijack probes
SocksPort 0
Address 127.0.0.1
ORPort 127.0.0.1:$((PEER_TOR_ORBASE + _i))
ExitRelay 1
ExitPolicyRejectPrivate 0
ExitPolicyRejectLocalInterfaces 0
ExitPolicy accept 127.0.0.0/8:*
ExitPolicy reject *:*
ServerDNSResolvConfFile $_net/resolv-loopback.conf
ServerDNSDetectHijacking 0
ServerDNSAllowBrokenConfig 1
EOF
    } >"$_net/$_n/torrc"
  done
  { _tor_common $PEER_TOR_CLIENT "$_net" "$_net/dirauth.conf"; cat <<EOF
# client
SocksPort 127.0.0.1:$PEER_TOR_SOCKS
SocksPort 127.0.0.1:$PEER_TOR_SOCKS_EXT ExtendedErrors
ControlPort 127.0.0.1:$PEER_TOR_CONTROL
CookieAuthentication 1
UseMicrodescriptors 0
MapAddress nts.test 127.0.0.1
MapAddress localhost 127.0.0.1
SocksTimeout 30
EOF
  } >"$_net/$PEER_TOR_CLIENT/torrc"
  mkdir -p "$_net/$PEER_TOR_HS/hs" && chmod 700 "$_net/$PEER_TOR_HS/hs"
  { _tor_common $PEER_TOR_HS "$_net" "$_net/dirauth.conf"
    echo "# onion service"
    echo "SocksPort 0"
    echo "HiddenServiceDir $_net/$PEER_TOR_HS/hs"
    _np=0
    while read -r _vp _tg; do
      case "$_vp" in ''|'#'*) continue ;; esac
      case "$_vp" in *[!0-9]*) PEER_WHY="onion port list: bad virtual port '$_vp'"; return 1 ;; esac
      case "$_tg" in 127.*:[0-9]*) ;; *) PEER_WHY="onion port list: target '$_tg' is not 127.x.y.z:PORT"; return 1 ;; esac
      echo "HiddenServicePort $_vp $_tg"
      _np=$((_np + 1))
    done <"$_ports"
    [ $_np -gt 0 ] || { PEER_WHY="onion port list is empty"; return 1; }
  } >"$_net/$PEER_TOR_HS/torrc" || return 1
  for _n in $(_tor_nodes); do
    if ! tor --verify-config --quiet -f "$_net/$_n/torrc" --defaults-torrc /nonexistent >"$_net/$_n/verify.log" 2>&1; then
      PEER_WHY="tor --verify-config failed for $_n: $(tail -1 "$_net/$_n/verify.log")"; return 1
    fi
  done
  return 0
}

peer_tor_start() {
  _net=$1
  PEER_WHY=
  for _p in $(seq $PEER_TOR_ORBASE $((PEER_TOR_ORBASE + 5))) $PEER_TOR_DIRBASE $((PEER_TOR_DIRBASE + 1)) \
      $((PEER_TOR_DIRBASE + 2)) $PEER_TOR_SOCKS $PEER_TOR_SOCKS_EXT $PEER_TOR_CONTROL $PEER_TOR_DNS; do
    if ss -ltnuH "sport = :$_p" 2>/dev/null | grep -q .; then PEER_WHY="port $_p is already in use"; return 1; fi
  done
  setsid python3 "$NTSKIT_TOP/tests/helpers/dns_stub.py" 127.0.0.1 $PEER_TOR_DNS \
    >"$_net/dns.log" 2>&1 </dev/null &
  echo $! >"$_net/dns.pid"
  date +%s.%N >"$_net/t0"
  for _n in $(_tor_nodes); do
    setsid tor -f "$_net/$_n/torrc" --defaults-torrc /nonexistent --quiet \
      >"$_net/$_n/stdout.log" 2>&1 </dev/null &
    echo $! >"$_net/$_n/tor.pid"
  done
  return 0
}

_tor_elapsed() { awk -v a="$(cat "$1/t0")" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# peer_tor_socks_rep PORT HOST DPORT: one SOCKS5 CONNECT (no auth), print REP.
peer_tor_socks_rep() {
  python3 - "$1" "$2" "$3" <<'EOF'
import socket, sys
port, host, dport = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=35)
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        print(-1); sys.exit(0)
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + dport.to_bytes(2, "big"))
    r = s.recv(10)
    print(r[1] if len(r) >= 2 else -1)
except OSError:
    print(-1)
EOF
}

peer_tor_wait() {
  _net=$1 _tmo=$2
  PEER_WHY=
  _end=$(($(date +%s) + _tmo))
  _onion=$(cat "$_net/$PEER_TOR_HS/hs/hostname" 2>/dev/null)
  until grep -q 'Bootstrapped 100%' "$_net/$PEER_TOR_CLIENT/notice.log" 2>/dev/null; do
    for _n in $(_tor_nodes); do
      kill -0 "$(cat "$_net/$_n/tor.pid")" 2>/dev/null ||
        { PEER_WHY="tor node $_n exited: $(tail -1 "$_net/$_n/notice.log" 2>/dev/null)"; return 1; }
    done
    [ "$(date +%s)" -lt $_end ] || { PEER_WHY="client not bootstrapped after ${_tmo}s"; return 1; }
    sleep 0.25
  done
  echo "bootstrap $(_tor_elapsed "$_net")" >"$_net/times"
  # the exit works: CONNECT via e5 to the client's own control port (always
  # listening; relay OR/Dir ports will not do: tor refuses "Tor over Tor")
  until [ "$(peer_tor_socks_rep $PEER_TOR_SOCKS 127.0.0.1 $PEER_TOR_CONTROL)" = 0 ]; do
    [ "$(date +%s)" -lt $_end ] || { PEER_WHY="no CONNECT through the exit after ${_tmo}s"; return 1; }
    sleep 1
  done
  echo "exit $(_tor_elapsed "$_net")" >>"$_net/times"
  peer_tor_wait_onion "$_net" $((_end - $(date +%s))) || return 1
  echo "onion $(_tor_elapsed "$_net")" >>"$_net/times"
  return 0
}

# peer_tor_wait_onion NET SECONDS: until the onion service is reachable
# through the client: REP 0 (target listening) or 1 (service reached,
# target closed); 0xF0 (descriptor not found) etc. until then
peer_tor_wait_onion() {
  _net=$1
  _end=$(($(date +%s) + $2))
  _onion=$(cat "$_net/$PEER_TOR_HS/hs/hostname" 2>/dev/null)
  _vp=$(awk '/^HiddenServicePort/{print $2; exit}' "$_net/$PEER_TOR_HS/torrc")
  while :; do
    _r=$(peer_tor_socks_rep $PEER_TOR_SOCKS_EXT "$_onion" "$_vp")
    case "$_r" in 0|1) return 0 ;; esac
    [ "$(date +%s)" -lt $_end ] || { PEER_WHY="onion service $_onion not reachable after ${2}s (last REP $_r)"; return 1; }
    sleep 1
  done
}

_tor_kill() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  _k=0
  while kill -0 "$1" 2>/dev/null && [ $_k -lt 30 ]; do sleep 0.1; _k=$((_k + 1)); done
  kill -KILL "$1" 2>/dev/null || true
}

peer_tor_stop() {
  _net=$1
  for _f in "$_net"/*/tor.pid "$_net/dns.pid"; do
    [ -f "$_f" ] || continue
    _p=$(cat "$_f")
    kill -TERM "$_p" 2>/dev/null
  done
  for _f in "$_net"/*/tor.pid "$_net/dns.pid"; do
    [ -f "$_f" ] || continue
    _tor_kill "$(cat "$_f")"
    rm -f "$_f"
  done
  return 0
}

# peer_tor_ctl NET COMMAND...: authenticate with the client's cookie, send one
# command, print the reply (QUIT closes the connection).
peer_tor_ctl() {
  _net=$1; shift
  _ck=$(od -An -tx1 -v "$_net/$PEER_TOR_CLIENT/control_auth_cookie" 2>/dev/null | tr -d ' \n')
  [ -n "$_ck" ] || { PEER_WHY="no control cookie"; return 1; }
  printf 'AUTHENTICATE %s\r\n%s\r\nQUIT\r\n' "$_ck" "$*" | nc -w 10 127.0.0.1 $PEER_TOR_CONTROL | tr -d '\r'
}
