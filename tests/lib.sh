# Shared harness for integration tests (POSIX sh). Source it first:
#   . "$NTSKIT_TOP/tests/lib.sh"
# Results: t_ok NAME | t_fail NAME WHY | t_skip WHY  (tests/run counts the lines)
# Processes: t_bg NAME CMD...  starts CMD in its own session, records its PID;
#            every recorded PID is stopped at exit (by PID, never by name).
# Scratch:   $T_DIR is a fresh directory for this script, removed at exit.
set -u
: "${NTSKIT_TOP:?run through tests/run}"
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${NTSKIT_TMP:-/tmp}/$T_NAME.XXXXXX")
T_PIDS=
T_NETNS=

t_ok()   { echo "ok - $1"; }
t_fail() { echo "not ok - $1: $2"; }
t_skip() { echo "SKIP: $*"; }

# t_expect NAME CMD...: ok when CMD exits 0
t_expect() { n=$1; shift; if "$@"; then t_ok "$n"; else t_fail "$n" "command failed: $*"; fi; }

# t_is_root: 0 when running as root
t_is_root() { [ "$(id -u)" = 0 ]; }

# t_bg NAME CMD...: start in background, output to $T_DIR/NAME.log, PID in $T_DIR/NAME.pid
t_bg() {
  n=$1; shift
  setsid "$@" >"$T_DIR/$n.log" 2>&1 </dev/null &
  echo $! >"$T_DIR/$n.pid"
  T_PIDS="$T_PIDS $!"
}

# t_pid NAME: the PID t_bg recorded
t_pid() { cat "$T_DIR/$1.pid"; }

# t_stop NAME: stop one background process (TERM, then KILL after 3 s); its
# PID leaves the cleanup list, so that a reused PID is never signalled later
t_stop() {
  p=$(t_pid "$1" 2>/dev/null) || return 0
  _t_kill "$p"
  T_PIDS=$(echo "$T_PIDS" | tr ' ' '\n' | grep -vx "$p" | tr '\n' ' ')
}

# t_bg starts every process in its own session (setsid), so its PID is also
# its process group: the whole group is stopped (a shell pipeline, a
# wrapper such as faketime and what it started), nothing else. No "--"
# before "-PID": dash's kill takes it for a bad number and kills nothing.
_t_kill() {
  kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || return 0
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# t_netns NAME: create a network namespace with lo up; removed at exit. One
# of that name with no process in it is what an aborted run left: removed.
t_netns() {
  if [ -e "/run/netns/$1" ] && [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; then
    ip netns del "$1" 2>/dev/null
  fi
  ip netns add "$1" && ip -n "$1" link set lo up && T_NETNS="$T_NETNS $1"
}

t_cleanup() {
  for p in $T_PIDS; do _t_kill "$p"; done
  for n in $T_NETNS; do ip netns pids "$n" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done; ip netns del "$n" 2>/dev/null; done
  rm -rf "$T_DIR"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# t_wait_tcp HOST PORT [SECONDS]: wait until something listens on TCP HOST:PORT
t_wait_tcp() { _t_wait_ss -ltnH "$1" "$2" "${3:-10}"; }
# t_wait_udp HOST PORT [SECONDS]: wait until a UDP socket is bound on HOST:PORT
t_wait_udp() { _t_wait_ss -lunH "$1" "$2" "${3:-10}"; }
_t_wait_ss() {
  case "$2" in *:*) a="[$2]" ;; *) a=$2 ;; esac
  i=0; lim=$(($4 * 10))
  while [ $i -lt $lim ]; do
    if ss $1 "src $a:$3" 2>/dev/null | grep -q .; then return 0; fi
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# t_wait_flock FILE [SECONDS]: wait (default 10 s) until some process holds an
# flock on FILE, as /proc/locks shows it: probing with flock(1) would take the
# lock for a moment and could make the program under test find it held
t_wait_flock() {
  _i=0
  while :; do
    _ino=$(stat -c %i "$1" 2>/dev/null)
    [ -n "$_ino" ] && grep -q "FLOCK .*:$_ino " /proc/locks && return 0
    [ $_i -lt $((${2:-10} * 20)) ] || return 1
    sleep 0.05; _i=$((_i + 1))
  done
}

# t_port_free PORT: nothing on this TCP or UDP port
t_port_free() { ! ss -ltnuH "sport = :$1" | grep -q .; }

# t_grep NAME FILE PATTERN: ok when FILE has a line matching PATTERN (extended
# regex), or gets one within 2 s: FILE is often the log of a process running
# in the background, which may write a line just after what the test waited for
t_grep() {
  _i=0
  while ! grep -Eq -- "$3" "$2" 2>/dev/null; do
    [ $_i -ge 40 ] && { t_fail "$1" "no line matching /$3/ in $(basename "$2"): $(head -c 300 "$2" | tr '\n' '|')"; return; }
    sleep 0.05; _i=$((_i + 1))
  done
  t_ok "$1"
}

# t_need_bins FILE...: the test is skipped unless each is built (executable)
t_need_bins() {
  for _b in "$@"; do [ -x "$_b" ] || { t_skip "$(basename "$_b") not built"; exit 0; }; done
}

# t_need_cmds CMD...: the test is skipped unless each is installed
t_need_cmds() {
  for _c in "$@"; do command -v "$_c" >/dev/null 2>&1 || { t_skip "$_c not installed"; exit 0; }; done
}

# t_pki DIR: the test PKI (tests/pki/gen.sh) in DIR; a failure ends the test
t_pki() {
  sh "$NTSKIT_TOP/tests/pki/gen.sh" "$1" >"$T_DIR/pki.log" 2>&1 ||
    { t_fail "test PKI" "tests/pki/gen.sh failed: $(tail -n 2 "$T_DIR/pki.log" | tr '\n' ' ')"; exit 0; }
}

# t_faketime_preload: sets T_FAKETIME_PRELOAD to the LD_PRELOAD list that runs
# a process on a shifted clock (with FAKETIME=OFFSET FAKETIME_DONT_RESET=1):
# tests/helpers/nostamp_shim.so, then libfaketime. libfaketime shifts what the
# process reads from the clock but not the kernel's receive timestamps
# (SO_TIMESTAMPNS, SO_TIMESTAMPING), so a server using them would answer with
# a real receive time and a faked transmit time (+30 s measured as +15 s,
# delay 0); the shim, first in the list, keeps it from asking for them.
# Returns 1 with the reason in $T_WHY when either is missing.
t_faketime_preload() {
  T_FAKETIME_PRELOAD= T_WHY=
  _ftl=
  for _l in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
    [ -f "$_l" ] && { _ftl=$_l; break; }
  done
  [ -n "$_ftl" ] || { T_WHY="libfaketime not installed (Debian package faketime)"; return 1; }
  [ -f "$NTSKIT_HELPERS/nostamp_shim.so" ] || { T_WHY="$NTSKIT_HELPERS/nostamp_shim.so not built"; return 1; }
  T_FAKETIME_PRELOAD="$NTSKIT_HELPERS/nostamp_shim.so $_ftl"
}

# t_offsets_near NAME FILE OFFSET [SOURCE] [ROUNDING]: ok when FILE has
# sample records (of source=SOURCE when given; "" for all), EVERY one
# measures OFFSET (seconds, e.g. 30 or -0.5) within delay/2 + 20 us
# (+ ROUNDING: half a unit of the last printed digit, when the values were
# printed coarser than nts-poll does), and the lowest delay is below 50 ms.
# delay/2 is exact: a sample's error is (outbound - return path)/2, each
# path >= 0 (RFC 5905 section 8), when both server timestamps come from one
# clock. The 20 us cover what is not in the delay: the server's random fill
# below its precision (chrony: 2^-20 s or finer), nts-poll's rounding and its
# delay clamp at 0. A server that mixes a kernel receive time with a faked
# transmit time X s off is seen at X/2 with a delay of 0 (X > 0), or at X/2
# with a delay of |X| (X < 0), which passes delay/2 but not the 50 ms: a
# loopback round trip takes well under 1 ms, 50 ms even on a loaded machine.
t_offsets_near() {
  _r=$(awk -v want="$3" -v src="${4:-}" -v rnd="${5:-0}" '$1 == "sample" {
      o = ""; d = ""; s = ""
      for (i = 2; i <= NF; i++) {
        if ($i ~ /^offset=/) o = substr($i, 8) + 0
        if ($i ~ /^delay=/) d = substr($i, 7) + 0
        if ($i ~ /^source=/) s = substr($i, 8)
      }
      if (src != "" && s != src) next
      n++; e = o - want; if (e < 0) e = -e
      if (n == 1 || d < md) md = d
      if (e > d / 2 + 0.00002 + rnd) { bad++; why = why sprintf(" offset=%s delay=%s", o, d) }
      else { ok = ok sprintf(" %+.6f(d=%.6f)", o, d) }
    }
    END { if (n == 0) print "no samples"; else if (bad) print bad " of " n " off by more than delay/2 + 20 us" (rnd > 0 ? " + " rnd " s" : "") ":" why
      else if (md >= 0.05) print "lowest delay " md " s, not a loopback round trip:" ok; else print "ok" ok }' "$2")
  case "$_r" in
    ok*) echo "# $1: offsets (delay)${_r#ok}"; t_ok "$1" ;;
    *) t_fail "$1" "$_r" ;;
  esac
}
