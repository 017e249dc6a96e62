# chrony (Debian's chrony 4.3) as a test peer (POSIX sh). Source it after
# tests/lib.sh:   . "$NTSKIT_TOP/tests/lib.sh"; . "$NTSKIT_TOP/tests/peers/chrony.sh"
#
#   peer_chrony_server DIR NTPPORT KEPORT CERT KEY [FAKETIME_OFFSET]
#       chronyd -d -x -u root as an NTS server on loopback: NTP on
#       127.0.0.1:NTPPORT/udp, NTS-KE on 127.0.0.1:KEPORT and [::1]:KEPORT.
#       CERT may be a full chain (leaf first). It serves as a synchronised
#       stratum 1 ("local stratum 1"); since NTPPORT != 123 its NTS-KE
#       response carries a Port record. -x: it never touches the clock.
#       FAKETIME_OFFSET (e.g. +30s, -0.5s) runs it under libfaketime, so it
#       serves a wrong time (for falseticker / offset tests), measured at
#       exactly that offset: tests/helpers/nostamp_shim.so keeps chronyd off
#       kernel receive timestamps, which libfaketime does not shift (each
#       dropped setsockopt is logged in DIR/nostamp.log).
#       DIR (created) holds chronyd.conf, run/chronyd.sock, ntsdump/.
#       Started with t_bg "chrony-$(basename DIR)"; returns once both ports
#       listen.
#   peer_chrony_client DIR HOST KEPORT CAFILE [NTPPORT]
#       chronyd -d -x -u root as an NTS client of HOST (NTS-KE on KEPORT; NTP
#       port from the server's Port record, else NTPPORT, else 123), polling
#       every second, trusting only CAFILE; "maxdistance 16". Started with
#       t_bg "chrony-$(basename DIR)"; returns once its command socket exists.
#   peer_chrony_wait_auth DIR SECONDS
#       wait until the client in DIR has an authenticated NTS sample
#       (chronyc ntpdata: "Authenticated : Yes").
#   peer_chrony_oneshot DIR HOST KEPORT CAFILE [SECONDS] [DIRECTIVE...]
#       chronyd -Q (measure once, print, never set the clock) against HOST with
#       NTS; prints its output; returns its exit status (0: it measured).
#   peer_chronyc DIR ARGS...       chronyc -n over DIR/run/chronyd.sock
#   peer_chrony_serverstats DIR    chronyc serverstats (NTS-KE connections
#                                  accepted, Authenticated NTP packets, ...)
#   peer_chrony_authdata DIR       chronyc authdata (Mode NTS, KeyID, Type =
#                                  AEAD, Cook = cookies held, CLen = length)
# Network namespace: when $PEER_CHRONY_NETNS is set (to a namespace the test
# made with t_netns), every chronyd/chronyc above runs inside it and the port
# waits look there (for an NTPsec client, which needs port 123, or ntpdig).
# Each returns 0, or 1 with a reason in $PEER_WHY. Facts: chronyd must run
# with -u root (else it drops to _chrony and cannot use DIR); authdata and
# serverstats answer only on the Unix socket; cookie/key caches persist in
# ntsdumpdir, so DIR should be fresh for a fresh NTS-KE.

PEER_WHY=

_chrony_pre() {
  PEER_WHY=
  if ! command -v chronyd >/dev/null 2>&1; then PEER_WHY="chronyd not installed (Debian package chrony)"; return 1; fi
  if ! t_is_root; then PEER_WHY="chronyd -u root needs root"; return 1; fi
  mkdir -p "$1/run" "$1/ntsdump" && chmod 770 "$1/run" || { PEER_WHY="cannot create $1"; return 1; }
  return 0
}

_chrony_v6() { [ -f /proc/net/if_inet6 ] && grep -q '^0*1 ' /proc/net/if_inet6; }

# run a command in $PEER_CHRONY_NETNS when set
_chrony_in() {
  if [ -n "${PEER_CHRONY_NETNS:-}" ]; then ip netns exec "$PEER_CHRONY_NETNS" "$@"; else "$@"; fi
}
# _chrony_wait -ltnH|-lunH PORT SECONDS: something listens on 127.0.0.1:PORT
_chrony_wait() {
  _w=0
  while [ $_w -lt $(($3 * 10)) ]; do
    _chrony_in ss "$1" "src 127.0.0.1:$2" 2>/dev/null | grep -q . && return 0
    sleep 0.1; _w=$((_w + 1))
  done
  return 1
}
_chrony_port_free() { ! _chrony_in ss -ltnuH "sport = :$1" 2>/dev/null | grep -q .; }

# peer_chrony_test_server NTP_PORT KE_PORT: the test PKI in $T_DIR/pki (made
# readable for chronyd) and chronyd as NTS server with its ec256 chain, in
# $T_DIR/c1; the test is skipped (and ends) when chrony cannot be started.
# Needs tests/lib.sh.
peer_chrony_test_server() {
  t_pki "$T_DIR/pki"
  chmod 644 "$T_DIR"/pki/*
  peer_chrony_server "$T_DIR/c1" "$1" "$2" "$T_DIR/pki/ec256.fullchain.pem" "$T_DIR/pki/ec256.sec1.key" ||
    { t_skip "chrony NTS server: $PEER_WHY"; exit 0; }
}

peer_chrony_server() {
  _d=$1 _np=$2 _kp=$3 _cert=$4 _key=$5 _off=${6:-}
  _chrony_pre "$_d" || return 1
  [ -r "$_cert" ] && [ -r "$_key" ] || { PEER_WHY="cannot read $_cert or $_key"; return 1; }
  {
    echo "# ntskit test peer: chrony NTS server (generated)"
    echo "port $_np"
    echo "ntsport $_kp"
    echo "bindaddress 127.0.0.1"
    # without a v6 bindaddress the NTS-KE listener would bind [::] (all addresses)
    if _chrony_v6; then echo "bindaddress ::1"; echo "allow ::1"; fi
    echo "allow 127.0.0.0/8"
    echo "local stratum 1"
    echo "ntsserverkey $_key"
    echo "ntsservercert $_cert"
    echo "ntsdumpdir $_d/ntsdump"
    echo "ntsprocesses 1"
    echo "bindcmdaddress $_d/run/chronyd.sock"
    echo "cmdport 0"
    echo "pidfile $_d/run/chronyd.pid"
    echo "driftfile $_d/drift"
  } >"$_d/chronyd.conf"
  for _p in "$_np" "$_kp"; do
    _chrony_port_free "$_p" || { PEER_WHY="port $_p is already in use"; return 1; }
  done
  _n=chrony-$(basename "$_d")
  set -- chronyd -d -x -u root -f "$_d/chronyd.conf"
  if [ -n "$_off" ]; then
    # libfaketime preloaded directly: the faketime(1) wrapper forks, so its PID
    # would not be chronyd's and stopping it would leave chronyd running.
    # nostamp_shim.so before it: chronyd's receive timestamps then come from
    # the faked clock too, not from the kernel (see t_faketime_preload)
    t_faketime_preload || { PEER_WHY=$T_WHY; return 1; }
    set -- env LD_PRELOAD="$T_FAKETIME_PRELOAD" NTSKIT_NOSTAMP_LOG="$_d/nostamp.log" \
      FAKETIME="$_off" FAKETIME_DONT_RESET=1 "$@"
  fi
  [ -n "${PEER_CHRONY_NETNS:-}" ] && set -- ip netns exec "$PEER_CHRONY_NETNS" "$@"
  t_bg "$_n" "$@"
  if ! _chrony_wait -ltnH "$_kp" 10 || ! _chrony_wait -lunH "$_np" 5; then
    PEER_WHY="chronyd not listening on $_np/udp and $_kp/tcp: $(tail -2 "$T_DIR/$_n.log" | tr '\n' ' ')"
    return 1
  fi
  kill -0 "$(t_pid "$_n")" 2>/dev/null ||
    { PEER_WHY="chronyd exited: $(tail -2 "$T_DIR/$_n.log" | tr '\n' ' ')"; return 1; }
  return 0
}

peer_chrony_client() {
  _d=$1 _h=$2 _kp=$3 _ca=$4 _np=${5:-}
  _chrony_pre "$_d" || return 1
  _port=
  [ -n "$_np" ] && _port="port $_np "
  {
    echo "# ntskit test peer: chrony NTS client (generated)"
    echo "server $_h ${_port}nts ntsport $_kp iburst minpoll 0 maxpoll 0"
    echo "maxdistance 16"
    echo "ntstrustedcerts $_ca"
    echo "ntsdumpdir $_d/ntsdump"
    echo "port 0"
    echo "bindcmdaddress $_d/run/chronyd.sock"
    echo "cmdport 0"
    echo "pidfile $_d/run/chronyd.pid"
  } >"$_d/chronyd.conf"
  _n=chrony-$(basename "$_d")
  set -- chronyd -d -x -u root -f "$_d/chronyd.conf"
  [ -n "${PEER_CHRONY_NETNS:-}" ] && set -- ip netns exec "$PEER_CHRONY_NETNS" "$@"
  t_bg "$_n" "$@"
  _i=0
  until [ -S "$_d/run/chronyd.sock" ]; do
    _i=$((_i + 1))
    if [ $_i -gt 100 ]; then
      PEER_WHY="chronyd client did not start: $(tail -2 "$T_DIR/$_n.log" | tr '\n' ' ')"; return 1
    fi
    sleep 0.1
  done
  return 0
}

peer_chronyc() { _d=$1; shift; _chrony_in chronyc -h "$_d/run/chronyd.sock" -n "$@"; }
peer_chrony_serverstats() { peer_chronyc "$1" serverstats; }
peer_chrony_authdata() { peer_chronyc "$1" authdata; }

peer_chrony_wait_auth() {
  _d=$1 _lim=$(($2 * 4)) _i=0
  PEER_WHY=
  until peer_chronyc "$_d" ntpdata 2>/dev/null | grep -Eq '^Authenticated +: Yes'; do
    _i=$((_i + 1))
    [ $_i -lt $_lim ] || { PEER_WHY="no authenticated NTS sample after $2 s"; return 1; }
    sleep 0.25
  done
  return 0
}

peer_chrony_oneshot() {
  _d=$1 _h=$2 _kp=$3 _ca=$4 _t=${5:-10}
  shift 4; [ $# -gt 0 ] && shift
  _chrony_pre "$_d" || return 1
  _chrony_in chronyd -Q -t "$_t" -u root "server $_h nts ntsport $_kp iburst maxsamples 2" \
    "ntstrustedcerts $_ca" "ntsdumpdir $_d/ntsdump" "pidfile $_d/run/q.pid" \
    "bindcmdaddress $_d/run/q.sock" "cmdport 0" "$@" 2>&1
}
