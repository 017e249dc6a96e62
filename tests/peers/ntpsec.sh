# NTPsec (Debian's ntpsec 1.2.2) as a test NTS server (POSIX sh). Source it
# after tests/lib.sh.
#
# ntpsec conflicts with chrony in Debian (both provide time-daemon), so it is
# not installed: its .deb is fetched with `apt-get download ntpsec` and
# unpacked with `dpkg-deb -x` into a cache directory. Its ports are fixed in
# the code (NTP 123/udp, NTS-KE 4460/tcp on 0.0.0.0 and [::]), so it runs in
# a network namespace the test creates (t_netns). It calls ntp_adjtime() at
# start-up even with "disable kernel", so it runs under
# `capsh --drop=cap_sys_time`: it can never change the clock.
#
#   peer_ntpsec_prepare [DIR]
#       DIR defaults to $NTSKIT_BUILD/peers/ntpsec (the build tree, kept
#       between runs). Reuses DIR/root/usr/sbin/ntpd when present; else takes
#       ntpsec_*.deb from DIR/debs, or from /var/cache/apt/archives, or runs
#       `apt-get download ntpsec` there, and unpacks it to DIR/root.
#       Sets PEER_NTPSEC_NTPD (the ntpd binary).
#   peer_ntpsec_server NETNS DIR CERTCHAIN KEY
#       ntpd -n in NETNS, an NTS server with an undisciplined local clock as
#       stratum 1 reference ("refclock local ... prefer", "orphanwait 0", so it
#       is synchronised about 1.5 s after start; clients need maxdistance 16
#       at first). DIR (created) holds ntp.conf, ntpd.log, the cookie keys.
#       Started with t_bg "ntpsec-NETNS"; returns once 4460/tcp listens.
#   peer_ntpsec_client NETNS DIR HOST:KEPORT CAFILE
#       ntpd -n in NETNS as an NTS client of HOST:KEPORT (trusting only
#       CAFILE; the NTP port comes from the server's Port record, else 123),
#       polling every 8 s, "disable ntp" + "disable kernel": it never
#       disciplines anything. It binds 123/udp itself, so NETNS must not hold
#       another ntpd. Log: DIR/ntpd.log ("NTSc: Got 8 cookies, length 100,
#       aead=15."). Started with t_bg "ntpsec-client-NETNS".
#   peer_ntpsec_wait_log DIR REGEX SECONDS
#       wait until DIR/ntpd.log has a line matching REGEX (grep -E).
#   peer_ntpsec_wait_tcp NETNS PORT SECONDS
#       wait until something listens on TCP PORT inside NETNS.
# Each returns 0, or 1 with a reason in $PEER_WHY.
# What its NTS-KE answers look like: NextProtocol [0] critical, AEAD [15] NOT
# critical, 8 cookies of 104 bytes, End; no Port or Server record; it answers
# AEAD 15 even when the client did not offer it (a spec violation).

PEER_WHY=
PEER_NTPSEC_NTPD=

peer_ntpsec_prepare() {
  _pd=${1:-${NTSKIT_BUILD:-$NTSKIT_TOP/build}/peers/ntpsec}
  PEER_WHY=
  PEER_NTPSEC_NTPD=$_pd/root/usr/sbin/ntpd
  [ -x "$PEER_NTPSEC_NTPD" ] && return 0
  for _c in dpkg-deb apt-get; do
    command -v $_c >/dev/null 2>&1 || { PEER_WHY="$_c not found (not a Debian system?)"; return 1; }
  done
  mkdir -p "$_pd/debs" || { PEER_WHY="cannot create $_pd"; return 1; }
  _deb=$(ls "$_pd"/debs/ntpsec_*.deb 2>/dev/null | tail -1)
  if [ -z "$_deb" ]; then
    _deb=$(ls /var/cache/apt/archives/ntpsec_*.deb 2>/dev/null | tail -1)
    [ -n "$_deb" ] && cp "$_deb" "$_pd/debs/"
  fi
  if [ -z "$_deb" ]; then
    # _apt (apt's download user) must be able to write there; else apt warns
    # and downloads as root, which is fine too
    if ! (cd "$_pd/debs" && apt-get download -q ntpsec) >"$_pd/download.log" 2>&1; then
      PEER_WHY="apt-get download ntpsec failed: $(grep -E '^(E|W):' "$_pd/download.log" | head -1)"
      return 1
    fi
  fi
  _deb=$(ls "$_pd"/debs/ntpsec_*.deb 2>/dev/null | tail -1)
  [ -n "$_deb" ] || { PEER_WHY="no ntpsec .deb after download"; return 1; }
  rm -rf "$_pd/root.tmp"
  if ! dpkg-deb -x "$_deb" "$_pd/root.tmp" 2>"$_pd/unpack.log"; then
    PEER_WHY="dpkg-deb -x $_deb failed: $(head -1 "$_pd/unpack.log")"; return 1
  fi
  rm -rf "$_pd/root" && mv "$_pd/root.tmp" "$_pd/root"
  [ -x "$PEER_NTPSEC_NTPD" ] || { PEER_WHY="no usr/sbin/ntpd in $_deb"; return 1; }
  return 0
}

peer_ntpsec_wait_tcp() {
  _i=0 _lim=$(($3 * 10))
  while [ $_i -lt $_lim ]; do
    ip netns exec "$1" ss -ltnH "sport = :$2" 2>/dev/null | grep -q . && return 0
    sleep 0.1; _i=$((_i + 1))
  done
  return 1
}

peer_ntpsec_server() {
  _ns=$1 _d=$2 _cert=$3 _key=$4
  PEER_WHY=
  [ -x "$PEER_NTPSEC_NTPD" ] || peer_ntpsec_prepare || return 1
  t_is_root || { PEER_WHY="ntpsec in a network namespace needs root"; return 1; }
  command -v capsh >/dev/null 2>&1 || { PEER_WHY="capsh not installed (libcap2-bin)"; return 1; }
  ip netns exec "$_ns" true 2>/dev/null || { PEER_WHY="no network namespace $_ns"; return 1; }
  mkdir -p "$_d" || { PEER_WHY="cannot create $_d"; return 1; }
  cat >"$_d/ntp.conf" <<EOF
# ntskit test peer: ntpsec NTS server (generated)
# undisciplined local clock as stratum 1 reference; "prefer" + "orphanwait 0"
# or it is only selected after 300 s; "maxdist 16": its root distance starts large
refclock local stratum 1 minpoll 3 maxpoll 3 prefer
tos minclock 1 minsane 1 maxdist 16 orphanwait 0
disable kernel
driftfile $_d/ntp.drift
nts enable
nts mintls TLS1.3
nts key $_key
nts cert $_cert
nts cookie $_d/nts-keys
restrict default kod nomodify noquery limited
restrict 127.0.0.1
restrict ::1
EOF
  t_bg "ntpsec-$_ns" ip netns exec "$_ns" capsh --drop=cap_sys_time -- -c 'exec "$0" "$@"' \
    "$PEER_NTPSEC_NTPD" -n -c "$_d/ntp.conf" -p "$_d/ntpd.pid" -l "$_d/ntpd.log"
  if ! peer_ntpsec_wait_tcp "$_ns" 4460 10; then
    PEER_WHY="ntpd not listening on 4460 in $_ns: $(tail -2 "$_d/ntpd.log" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  return 0
}

peer_ntpsec_client() {
  _ns=$1 _d=$2 _srv=$3 _ca=$4
  PEER_WHY=
  [ -x "$PEER_NTPSEC_NTPD" ] || peer_ntpsec_prepare || return 1
  t_is_root || { PEER_WHY="ntpsec in a network namespace needs root"; return 1; }
  command -v capsh >/dev/null 2>&1 || { PEER_WHY="capsh not installed (libcap2-bin)"; return 1; }
  ip netns exec "$_ns" true 2>/dev/null || { PEER_WHY="no network namespace $_ns"; return 1; }
  mkdir -p "$_d" || { PEER_WHY="cannot create $_d"; return 1; }
  cat >"$_d/ntp.conf" <<EOF
# ntskit test peer: ntpsec NTS client (generated)
server $_srv nts ca $_ca iburst minpoll 3 maxpoll 3
disable ntp
disable kernel
driftfile $_d/ntp.drift
EOF
  t_bg "ntpsec-client-$_ns" ip netns exec "$_ns" capsh --drop=cap_sys_time -- -c 'exec "$0" "$@"' \
    "$PEER_NTPSEC_NTPD" -n -c "$_d/ntp.conf" -p "$_d/ntpd.pid" -l "$_d/ntpd.log"
  sleep 0.2
  kill -0 "$(t_pid "ntpsec-client-$_ns")" 2>/dev/null ||
    { PEER_WHY="ntpd client exited: $(tail -2 "$_d/ntpd.log" 2>/dev/null | tr '\n' ' ')"; return 1; }
  return 0
}

peer_ntpsec_wait_log() {
  _i=0 _lim=$(($3 * 4))
  PEER_WHY=
  until grep -Eq -- "$2" "$1/ntpd.log" 2>/dev/null; do
    _i=$((_i + 1))
    [ $_i -lt $_lim ] || { PEER_WHY="no /$2/ in ntpd.log after $3 s: $(tail -1 "$1/ntpd.log" 2>/dev/null)"; return 1; }
    sleep 0.25
  done
  return 0
}
