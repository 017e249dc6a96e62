# ntpd-rs (Debian 13's ntpd-rs 1.4) as a test peer (POSIX sh). Source it
# after tests/lib.sh.
#
# Debian 12 has no ntpd-rs. `scripts/install-deps --test` (or
# --fetch-ntpd-rs, which peer_ntpdrs_prepare runs when the packages are
# missing) downloads trixie's ntpd-rs and libc6 .debs with a private apt
# sources list into $NTSKIT_TRIXIE_CACHE (default /var/cache/ntskit/trixie);
# they are unpacked here with dpkg-deb -x, never installed. ntp-daemon runs
# on Debian 12's libc; ntp-ctl needs trixie's, so it runs through trixie's
# own loader.
#
# ntpd-rs 1.4 has no "observe only" mode and exits (70) when it cannot
# control the clock, while this machine's root may set it (CAP_SYS_TIME).
# So ntp-daemon runs ONLY
#   - under capsh --drop=cap_sys_time, and the shell capsh starts checks its
#     own CapEff and CapBnd (bit 25 clear) before it execs ntp-daemon: when
#     the check fails ntp-daemon is never started;
#   - with tests/helpers/clockguard_shim.so preloaded (NTSKIT_CLOCKGUARD_NOCAP
#     set, so the shim refuses to run where CAP_SYS_TIME is left): every
#     clock write becomes a read-only query, logged in DIR/clockguard.log.
#
#   peer_ntpdrs_prepare [DIR]
#       DIR defaults to $NTSKIT_BUILD/peers/ntpdrs. Unpacks ntpd-rs to
#       DIR/root and libc6 to DIR/libc (reused when present). Sets
#       PEER_NTPDRS_DAEMON, PEER_NTPDRS_CTL (ntp-ctl's path) and
#       PEER_NTPDRS_VERSION.
#   peer_ntpdrs_start DIR
#       ntp-daemon -c DIR/ntp.toml (the test writes it; its observation-path
#       must be DIR/observe) as above, started with t_bg "ntpdrs-$(basename
#       DIR)". Returns once the observation socket exists and the running
#       daemon's /proc status shows CAP_SYS_TIME neither effective nor in
#       the bounding set (else it is stopped at once).
#   peer_ntpdrs_status DIR
#       ntp-ctl -c DIR/ntp.toml status (plain text). Only "status": the
#       wrapper never runs ntp-ctl's force-sync.
#   peer_clock_snapshot FILE
#       CLOCK_REALTIME - CLOCK_BOOTTIME and the kernel's adjtimex state
#       (modes = 0: read only) into FILE.
#   peer_clock_unchanged BEFORE AFTER
#       0 when REALTIME - BOOTTIME moved by less than 5 ms (no step; a
#       frequency error of 500 ppm over 10 s would only make 5 ms) and the
#       kernel's frequency and status did not change; else 1 with $PEER_WHY.
# Each returns 0, or 1 with a reason in $PEER_WHY.
# Facts (ntpd-rs 1.4.0-6+b3): as NTS-KE client it offers AEAD {17, 15}
# (17 first), Next Protocol {0}; as NTS-KE server it sends a Port record only
# when [[nts-ke-server]] sets ntp-port; its sources poll every 16 s at first,
# the first sample comes right after the key exchange.

PEER_WHY=
PEER_NTPDRS_DAEMON= PEER_NTPDRS_CTL= PEER_NTPDRS_VERSION= PEER_NTPDRS_LIBC=

peer_ntpdrs_prepare() {
  _pd=${1:-${NTSKIT_BUILD:-$NTSKIT_TOP/build}/peers/ntpdrs}
  _tc=${NTSKIT_TRIXIE_CACHE:-/var/cache/ntskit/trixie}
  PEER_WHY=
  PEER_NTPDRS_DAEMON=$_pd/root/usr/bin/ntp-daemon
  PEER_NTPDRS_CTL=$_pd/root/usr/bin/ntp-ctl
  PEER_NTPDRS_LIBC=$_pd/libc/usr/lib/x86_64-linux-gnu
  command -v dpkg-deb >/dev/null 2>&1 || { PEER_WHY="dpkg-deb not found (not a Debian system?)"; return 1; }
  [ "$(uname -m)" = x86_64 ] || { PEER_WHY="only set up for x86_64 (trixie's loader path)"; return 1; }
  if [ ! -x "$PEER_NTPDRS_DAEMON" ] || [ ! -x "$PEER_NTPDRS_LIBC/ld-linux-x86-64.so.2" ]; then
    if ! ls "$_tc"/debs/ntpd-rs_*.deb "$_tc"/debs/libc6_*.deb >/dev/null 2>&1; then
      mkdir -p "$_pd" || { PEER_WHY="cannot create $_pd"; return 1; }
      if ! sh "$NTSKIT_TOP/scripts/install-deps" --fetch-ntpd-rs >"$_pd/fetch.log" 2>&1; then
        PEER_WHY="ntpd-rs not fetched from trixie: $(tail -n 1 "$_pd/fetch.log")"; return 1
      fi
    fi
    rm -rf "$_pd/root.tmp" "$_pd/libc.tmp" && mkdir -p "$_pd" || { PEER_WHY="cannot create $_pd"; return 1; }
    for _p in ntpd-rs:root libc6:libc; do
      _deb=$(ls "$_tc"/debs/"${_p%%:*}"_*.deb 2>/dev/null | tail -n 1)
      if [ -z "$_deb" ] || ! dpkg-deb -x "$_deb" "$_pd/${_p#*:}.tmp" 2>"$_pd/unpack.log"; then
        PEER_WHY="dpkg-deb -x ${_deb:-${_p%%:*} .deb} failed: $(head -n 1 "$_pd/unpack.log" 2>/dev/null)"; return 1
      fi
      rm -rf "$_pd/${_p#*:}" && mv "$_pd/${_p#*:}.tmp" "$_pd/${_p#*:}"
    done
  fi
  [ -x "$PEER_NTPDRS_DAEMON" ] || { PEER_WHY="no usr/bin/ntp-daemon in the ntpd-rs package"; return 1; }
  PEER_NTPDRS_VERSION=$("$PEER_NTPDRS_DAEMON" -v 2>&1 | head -n 1)
  case "$PEER_NTPDRS_VERSION" in
    "ntp-daemon "*) ;;
    *) PEER_WHY="ntp-daemon -v does not run here: $PEER_NTPDRS_VERSION"; return 1 ;;
  esac
  return 0
}

# _ntpdrs_bit25 MASK: 0 when bit 25 (CAP_SYS_TIME) of the hex MASK is clear
_ntpdrs_bit25() { [ -n "$1" ] && [ $(( (0x$1 >> 25) & 1 )) -eq 0 ]; }

# _ntpdrs_caps_clear PID: CapEff and CapBnd of PID both without CAP_SYS_TIME
_ntpdrs_caps_clear() {
  _ce=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
  _cb=$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
  _ntpdrs_bit25 "$_ce" && _ntpdrs_bit25 "$_cb"
}

peer_ntpdrs_start() {
  _d=$1
  _n=ntpdrs-$(basename "$_d")
  _shim=$NTSKIT_HELPERS/clockguard_shim.so
  PEER_WHY=
  command -v capsh >/dev/null 2>&1 || { PEER_WHY="capsh not installed (Debian package libcap2-bin)"; return 1; }
  [ -f "$_shim" ] || { PEER_WHY="$_shim not built"; return 1; }
  [ -f "$_d/ntp.toml" ] || { PEER_WHY="no $_d/ntp.toml"; return 1; }
  grep -q "^observation-path = \"$_d/observe\"" "$_d/ntp.toml" ||
    { PEER_WHY="$_d/ntp.toml: observation-path must be $_d/observe"; return 1; }
  # what runs after the capability drop: check, then exec (same PID)
  cat >"$_d/run.sh" <<'EOF'
ce=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/$$/status)
cb=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/$$/status)
if [ -z "$ce" ] || [ -z "$cb" ] || [ $(( (0x$ce >> 25) & 1 )) -ne 0 ] || [ $(( (0x$cb >> 25) & 1 )) -ne 0 ]; then
  echo "ntpdrs-run: CAP_SYS_TIME not dropped (CapEff $ce, CapBnd $cb): ntp-daemon NOT started" >&2
  exit 99
fi
echo "ntpdrs-run: CapEff $ce CapBnd $cb: CAP_SYS_TIME dropped"
exec env LD_PRELOAD="$1" NTSKIT_CLOCKGUARD_NOCAP=1 NTSKIT_CLOCKGUARD_LOG="$2/clockguard.log" \
  NO_COLOR=1 "$3" -c "$2/ntp.toml"
EOF
  : >"$_d/clockguard.log"
  rm -f "$_d/observe"
  t_bg "$_n" capsh --drop=cap_sys_time -- "$_d/run.sh" "$_shim" "$_d" "$PEER_NTPDRS_DAEMON"
  _p=$(t_pid "$_n")
  _i=0
  until [ -S "$_d/observe" ]; do
    if ! kill -0 "$_p" 2>/dev/null; then
      PEER_WHY="ntp-daemon exited: $(tail -n 2 "$T_DIR/$_n.log" | tr '\n' ' ')"; return 1
    fi
    _i=$((_i + 1))
    [ $_i -lt 100 ] || { PEER_WHY="no observation socket after 10 s: $(tail -n 2 "$T_DIR/$_n.log" | tr '\n' ' ')"; return 1; }
    sleep 0.1
  done
  # the daemon itself (capsh exec'd the shell, the shell exec'd ntp-daemon)
  if [ "$(readlink "/proc/$_p/exe")" != "$(readlink -f "$PEER_NTPDRS_DAEMON")" ] || ! _ntpdrs_caps_clear "$_p"; then
    t_stop "$_n"
    PEER_WHY="PID $_p is not a ntp-daemon without CAP_SYS_TIME ($(readlink "/proc/$_p/exe"), CapEff $_ce, CapBnd $_cb): stopped"
    return 1
  fi
  return 0
}

peer_ntpdrs_status() {
  "$PEER_NTPDRS_LIBC/ld-linux-x86-64.so.2" --library-path "$PEER_NTPDRS_LIBC:/lib/x86_64-linux-gnu" \
    "$PEER_NTPDRS_CTL" status -c "$1/ntp.toml"
}

peer_clock_snapshot() {
  python3 - >"$1" <<'EOF'
import ctypes, time
class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("pad", ctypes.c_byte * 200)]
tx = Timex()
tx.modes = 0   # read only
rc = ctypes.CDLL(None, use_errno=True).adjtimex(ctypes.byref(tx))
d = min((time.clock_gettime(time.CLOCK_REALTIME) - time.clock_gettime(time.CLOCK_BOOTTIME)) for _ in range(5))
print("rt-boot=%.6f freq=%d status=%d offset=%d rc=%d" % (d, tx.freq, tx.status, tx.offset, rc))
EOF
}

peer_clock_unchanged() {
  PEER_WHY=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
    END { dt = v[2, "rt-boot"] - v[1, "rt-boot"]; if (dt < 0) dt = -dt
      if (dt >= 0.005) print "CLOCK_REALTIME moved by " dt " s against CLOCK_BOOTTIME (stepped?)"
      else if (v[1, "freq"] != v[2, "freq"] || v[1, "status"] != v[2, "status"])
        print "kernel frequency/status changed: " v[1, "freq"] "/" v[1, "status"] " -> " v[2, "freq"] "/" v[2, "status"]
      else printf "moved %.6f s", dt }' "$1" "$2")
  case "$PEER_WHY" in "moved "*) return 0 ;; *) return 1 ;; esac
}
