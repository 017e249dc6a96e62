#!/bin/sh
# Peers that are expensive to start are started once per test run and shared
# by the integration tests; tests/run calls "shared.sh stop" at the end.
#
#   sh tests/peers/shared.sh tor-up      start the private Tor network (see
#       tests/peers/tor.sh) unless it is already up for this run; wait for the
#       client's bootstrap, a CONNECT through the exit and the onion service;
#       then print, on stdout, shell assignments a test can eval:
#         TOR_SOCKS=127.0.0.1:20720      SOCKS5 port
#         TOR_SOCKS_EXT=127.0.0.1:20721  SOCKS5 port with ExtendedErrors
#         TOR_CONTROL=127.0.0.1:20722    control port (cookie authentication)
#         TOR_COOKIE=PATH                its cookie file
#         TOR_NET=DIR                    the network (for peer_tor_ctl)
#         TOR_ONION=NAME.onion           the onion service
#         TOR_ONION_PORTS='V=T ...'      what the onion service publishes
#         TOR_BOOTSTRAP_S=12.3           measured: client bootstrapped
#         TOR_ONION_S=15.0               measured: onion reachable
#       Exit status 0, or 1 with one line on stderr (a test then prints SKIP or
#       not ok). Usage:  eval "$(sh "$NTSKIT_TOP/tests/peers/shared.sh" tor-up)"
#   sh tests/peers/shared.sh stop        stop every shared peer by recorded PID
#
# Onion service ports. The network is started once, so what the onion
# service publishes is fixed at the first tor-up of a run. By default it
# publishes these (a test that needs one starts its service on the target
# port, on loopback, for its own duration; these targets are reserved for it):
#     4460 -> 127.0.0.1:20740   NTS-KE (chrony's or nts-serve's KE port)
#     4461 -> 127.0.0.1:20741   a second NTS-KE server
#     4123 -> 127.0.0.1:20742   nts-serve's TCP time/relay port
#     80   -> 127.0.0.1:20743   a plain TCP service (harness self-test)
# More can be added before the first tor-up, as "VIRTPORT TARGET" lines in
# the file $NTSKIT_TMP/shared/onion-ports or in $NTSKIT_ONION_PORTS (lines,
# or entries separated by ';'). If the network is already up without a
# requested mapping, tor-up fails and says so.
#
# State lives under $NTSKIT_TMP/shared/ (tests/run sets NTSKIT_TMP per run).
set -u
: "${NTSKIT_TMP:?shared.sh: NTSKIT_TMP is not set (run through tests/run)}"
NTSKIT_TOP=${NTSKIT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export NTSKIT_TOP
S=$NTSKIT_TMP/shared
NET=$S/tor

. "$NTSKIT_TOP/tests/peers/tor.sh"

DEFAULT_PORTS="4460 127.0.0.1:20740
4461 127.0.0.1:20741
4123 127.0.0.1:20742
80 127.0.0.1:20743"

wanted_ports() {
  echo "$DEFAULT_PORTS"
  [ -f "$S/onion-ports" ] && cat "$S/onion-ports"
  [ -n "${NTSKIT_ONION_PORTS:-}" ] && printf '%s\n' "$NTSKIT_ONION_PORTS" | tr ';' '\n'
  return 0
}

tor_alive() {
  [ -f "$NET/up" ] || return 1
  for f in "$NET"/*/tor.pid; do
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || return 1
  done
  return 0
}

print_env() {
  b=$(awk '$1=="bootstrap"{print $2}' "$NET/times")
  o=$(awk '$1=="onion"{print $2}' "$NET/times")
  p=$(awk '/^HiddenServicePort/{printf "%s%s=%s", sep, $2, $3; sep=" "}' "$NET/$PEER_TOR_HS/torrc")
  echo "TOR_SOCKS=127.0.0.1:$PEER_TOR_SOCKS"
  echo "TOR_SOCKS_EXT=127.0.0.1:$PEER_TOR_SOCKS_EXT"
  echo "TOR_CONTROL=127.0.0.1:$PEER_TOR_CONTROL"
  echo "TOR_COOKIE='$NET/$PEER_TOR_CLIENT/control_auth_cookie'"
  echo "TOR_NET='$NET'"
  echo "TOR_ONION=$(cat "$NET/$PEER_TOR_HS/hs/hostname")"
  echo "TOR_ONION_PORTS='$p'"
  echo "TOR_BOOTSTRAP_S=$b"
  echo "TOR_ONION_S=$o"
}

# every wanted "VIRTPORT TARGET" is published by the running network
check_ports() {
  wanted_ports >"$S/want.tmp"
  while read -r vp tg; do
    case "$vp" in ''|'#'*) continue ;; esac
    grep -qx "HiddenServicePort $vp $tg" "$NET/$PEER_TOR_HS/torrc" || {
      echo "shared.sh: the Tor network is already up without onion port $vp -> $tg; set it before the first tor-up" >&2
      return 1
    }
  done <"$S/want.tmp"
}

tor_up() {
  mkdir -p "$S"
  # one starter at a time (tests run one after another, but be safe)
  i=0
  until mkdir "$S/tor.lock" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 3000 ] || { echo "shared.sh: $S/tor.lock held for 300 s" >&2; return 1; }
    sleep 0.1
  done
  trap 'rmdir "$S/tor.lock" 2>/dev/null' EXIT
  if tor_alive; then
    check_ports || return 1
    # the network has been up for a while: the onion service's descriptors
    # may have been replaced since; make sure it is reachable now
    peer_tor_wait_onion "$NET" 60 || { echo "shared.sh: $PEER_WHY" >&2; return 1; }
    print_env
    return 0
  fi
  [ -d "$NET" ] && peer_tor_stop "$NET"
  wanted_ports >"$S/ports.list"
  if ! peer_tor_mknet "$NET" "$S/ports.list"; then
    echo "shared.sh: tor network setup failed: $PEER_WHY" >&2; return 1
  fi
  if ! peer_tor_start "$NET"; then
    echo "shared.sh: tor network start failed: $PEER_WHY" >&2; peer_tor_stop "$NET"; return 1
  fi
  if ! peer_tor_wait "$NET" "${NTSKIT_TOR_TIMEOUT:-240}"; then
    echo "shared.sh: tor network not ready: $PEER_WHY" >&2; peer_tor_stop "$NET"; return 1
  fi
  touch "$NET/up"
  print_env
}

case "${1:-}" in
  tor-up) tor_up ;;
  stop)
    [ -d "$NET" ] && peer_tor_stop "$NET"
    rm -f "$NET/up"
    exit 0 ;;
  *) echo "usage: shared.sh tor-up | stop" >&2; exit 64 ;;
esac
