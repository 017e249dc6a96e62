# SOCKS5 peers for integration tests (POSIX sh). Source it after tests/lib.sh:
#   . "$NTSKIT_TOP/tests/lib.sh"; . "$NTSKIT_TOP/tests/peers/socks.sh"
#
#   peer_danted_start NAME PORT [auth]
#       danted on 127.0.0.1:PORT, CONNECT + UDP ASSOCIATE to 127.0.0.0/8 only.
#       With "auth": RFC 1929 username/password; the account is
#       $PEER_SOCKS_USER / $PEER_SOCKS_PASS. Dante checks passwords against
#       system accounts (getpwnam + /etc/shadow), so the test's copies of
#       /etc/passwd, /etc/shadow and /etc/group (with that user appended) are
#       bind-mounted over the real ones inside a private mount namespace
#       (unshare --mount): the real files are never changed. Needs root.
#   peer_microsocks_start NAME PORT [USER PASS [HOST]]
#       microsocks on HOST:PORT (default 127.0.0.1; USER "" for no auth),
#       CONNECT only: it answers UDP ASSOCIATE with 0x07.
#   peer_socks_echo_start NAME tcp|udp PORT [HOST]
#       TCP echo (bytes back) or UDP echo (b"echo:" + payload) on HOST:PORT
#       (default 127.0.0.1).
# Each returns 0 when the peer listens, else 1 with a reason in $PEER_WHY.
# Processes are started with t_bg NAME and stopped by PID at exit (or t_stop NAME).

PEER_SOCKS_USER=sockuser
PEER_SOCKS_PASS=sockpass
PEER_WHY=
export PEER_WHY PEER_SOCKS_USER PEER_SOCKS_PASS

peer_danted_start() {
  _n=$1 _p=$2 _auth=${3:-}
  PEER_WHY=
  if ! command -v danted >/dev/null 2>&1; then PEER_WHY="danted not installed"; return 1; fi
  _m=none
  [ "$_auth" = auth ] && _m=username
  {
    echo "logoutput: $T_DIR/$_n.dantelog"
    echo "internal: 127.0.0.1 port = $_p"
    echo "external: 127.0.0.1"
    echo "clientmethod: none"
    echo "socksmethod: $_m"
    if t_is_root; then echo "user.privileged: root"; echo "user.unprivileged: nobody"; fi
    cat <<'CONF'
client pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    log: error
}
socks pass {
    from: 127.0.0.0/8 to: 127.0.0.0/8
    command: connect udpassociate
    log: error connect
}
# replies to UDP datagrams (from the target back to the client) need their own rule
socks pass {
    from: 127.0.0.0/8 to: 127.0.0.0/8
    command: udpreply
    log: error connect
}
CONF
  } >"$T_DIR/$_n.conf"
  if [ "$_auth" = auth ]; then
    if ! t_is_root; then PEER_WHY="danted with username auth needs root (system accounts, mount namespace)"; return 1; fi
    _e=$T_DIR/$_n-etc
    mkdir -p "$_e"
    cp /etc/passwd /etc/shadow /etc/group "$_e/" || { PEER_WHY="cannot copy /etc/passwd|shadow|group"; return 1; }
    _h=$(openssl passwd -6 "$PEER_SOCKS_PASS") || { PEER_WHY="openssl passwd failed"; return 1; }
    echo "$PEER_SOCKS_USER:x:64999:64999:ntskit socks test user:/nonexistent:/usr/sbin/nologin" >>"$_e/passwd"
    echo "$PEER_SOCKS_USER:$_h:20000:0:99999:7:::" >>"$_e/shadow"
    echo "$PEER_SOCKS_USER:x:64999:" >>"$_e/group"
    chmod 600 "$_e/shadow"
    t_bg "$_n" unshare --mount --propagation private sh -c "
      mount --bind '$_e/passwd' /etc/passwd &&
      mount --bind '$_e/shadow' /etc/shadow &&
      mount --bind '$_e/group' /etc/group &&
      exec danted -f '$T_DIR/$_n.conf' -p '$T_DIR/$_n.dpid' -N 1"
  else
    t_bg "$_n" danted -f "$T_DIR/$_n.conf" -p "$T_DIR/$_n.dpid" -N 1
  fi
  if ! t_wait_tcp 127.0.0.1 "$_p" 10; then
    PEER_WHY="danted did not listen on 127.0.0.1:$_p: $(tail -n 3 "$T_DIR/$_n.log" "$T_DIR/$_n.dantelog" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
}

peer_microsocks_start() {
  _n=$1 _p=$2 _u=${3:-} _pw=${4:-} _h=${5:-127.0.0.1}
  PEER_WHY=
  if ! command -v microsocks >/dev/null 2>&1; then PEER_WHY="microsocks not installed"; return 1; fi
  if [ -n "$_u" ]; then
    t_bg "$_n" microsocks -i "$_h" -p "$_p" -u "$_u" -P "$_pw"
  else
    t_bg "$_n" microsocks -i "$_h" -p "$_p"
  fi
  t_wait_tcp "$_h" "$_p" 10 || { PEER_WHY="microsocks did not listen on $_h port $_p"; return 1; }
}

peer_socks_echo_start() {
  _n=$1 _k=$2 _p=$3 _h=${4:-127.0.0.1}
  PEER_WHY=
  t_bg "$_n" python3 "$NTSKIT_TOP/tests/helpers/socks5_echo.py" "$_k" "$_h" "$_p"
  if [ "$_k" = udp ]; then t_wait_udp "$_h" "$_p" 10; else t_wait_tcp "$_h" "$_p" 10; fi ||
    { PEER_WHY="$_k echo did not start on $_h port $_p"; return 1; }
}

#   peer_tor_offline_start NAME PORT EXTPORT
#       a lone Tor client with SocksPort 127.0.0.1:PORT and
#       127.0.0.1:EXTPORT ExtendedErrors, and no network: its only directory
#       authority is a fake one on 127.0.0.1:(PORT+9) (nothing listens), so it
#       never bootstraps and never sends a packet off loopback. Good for what
#       Tor answers without a circuit: UDP ASSOCIATE (0x07), username/password
#       for stream isolation (any credentials accepted), invalid onion
#       addresses (0xF6 on EXTPORT), private IP targets (0x01).
peer_tor_offline_start() {
  _n=$1 _p=$2 _x=$3
  PEER_WHY=
  if ! command -v tor >/dev/null 2>&1; then PEER_WHY="tor not installed"; return 1; fi
  _d=$T_DIR/$_n-data
  mkdir -p "$_d" && chmod 700 "$_d"
  cat >"$T_DIR/$_n.torrc" <<TORRC
DataDirectory $_d
SocksPort 127.0.0.1:$_p
SocksPort 127.0.0.1:$_x ExtendedErrors
DirAuthority fake orport=$((_p + 8)) no-v2 v3ident=0000000000000000000000000000000000000000 127.0.0.1:$((_p + 9)) 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000
UseDefaultFallbackDirs 0
ClientUseIPv6 0
Log notice file $T_DIR/$_n.torlog
TORRC
  t_bg "$_n" tor --defaults-torrc /nonexistent -f "$T_DIR/$_n.torrc" --quiet
  t_wait_tcp 127.0.0.1 "$_x" 15 || { PEER_WHY="tor did not listen on 127.0.0.1:$_x: $(tail -n 3 "$T_DIR/$_n.torlog" 2>/dev/null | tr '\n' ' ')"; return 1; }
}
