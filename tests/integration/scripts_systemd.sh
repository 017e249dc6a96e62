#!/bin/sh
# The systemd units in scripts/systemd/ (nts-sync(8), SYSTEMD):
#  - systemd-analyze verify passes for each (the units are copied with their
#    ExecStart= pointing into this tree, since nothing is installed; man pages
#    checked against the pages of this tree when man(1) is there);
#  - least privilege as designed: the ntskit units hold CAP_SYS_TIME only,
#    nts-serve CAP_NET_BIND_SERVICE only; never root (nts-serve: DynamicUser;
#    the sync units: the static system user _ntskit of sysusers.d, which owns
#    /var/lib/ntskit), ProtectSystem=strict,
#    PrivateTmp, RestrictAddressFamilies, SystemCallFilter, NoNewPrivileges
#    in every service; ProtectClock only where the clock is not set;
#  - systemd-analyze security --offline=yes: the exposure of each service is
#    printed and must stay "OK" (below 3.0).
# Runs nothing: no unit is started.
. "$NTSKIT_TOP/tests/lib.sh"

U=$NTSKIT_TOP/scripts/systemd
command -v systemd-analyze >/dev/null 2>&1 || { t_skip "systemd-analyze not installed (Debian package systemd)"; exit 0; }
for f in ntskit-sync.service ntskit-sync.timer ntskit.service nts-serve.service; do
	[ -f "$U/$f" ] || t_fail "unit $f exists" "missing"
done

# the units with ExecStart= into this tree (nts-serve: the built one, else a stand-in)
D=$T_DIR/units; mkdir -p "$D"
SERVE=$NTSKIT_BIN/nts-serve
if [ ! -x "$SERVE" ]; then
	SERVE=$T_DIR/nts-serve; printf '#!/bin/sh\nexit 0\n' >"$SERVE"; chmod 755 "$SERVE"
	echo "# nts-serve not built: its unit is verified with a stand-in executable"
fi
for f in "$U"/*.service "$U"/*.timer; do
	sed -e "s#/usr/local/sbin/nts-sync#$NTSKIT_TOP/scripts/nts-sync#g" -e "s#/usr/local/sbin/nts-serve#$SERVE#g" "$f" >"$D/$(basename "$f")"
done

# man pages of this tree, for Documentation=man:...
M=$T_DIR/man; mkdir -p "$M/man1" "$M/man5" "$M/man8"
for p in "$NTSKIT_TOP"/nts-*/*.[158] "$NTSKIT_TOP"/lib/*.[158] "$NTSKIT_TOP"/scripts/*.[158]; do
	[ -f "$p" ] || continue
	s=${p##*.}; cp "$p" "$M/man$s/"
done
MANOPT=--man=no
if command -v man >/dev/null 2>&1; then MANOPT=--man=yes; fi

for f in ntskit-sync.service ntskit-sync.timer ntskit.service nts-serve.service; do
	opt=$MANOPT
	# a page not written yet (nts-serve(8) while nts-serve is being built) is not this test's business
	for m in $(sed -n 's/^Documentation=//p' "$D/$f" | tr ' ' '\n' | sed -n 's/^man:\(.*\)(\([0-9]\))$/\1.\2/p'); do
		[ -f "$M/man${m##*.}/$m" ] || { opt=--man=no; echo "# $f: man page $m not in the tree yet: man check off"; }
	done
	( cd "$D" && MANPATH=$M systemd-analyze verify $opt "./$f" ) >"$T_DIR/v.out" 2>&1; rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T_DIR/v.out" ] && t_ok "systemd-analyze verify $f ($opt)" ||
		t_fail "systemd-analyze verify $f" "exit $rc: $(head -c 400 "$T_DIR/v.out" | tr '\n' '|')"
done

# key = value present in a unit (last assignment wins for single-valued keys)
has() { grep -Eq "^$2=$3\$" "$U/$1"; }
for f in ntskit-sync.service ntskit.service nts-serve.service; do
	miss=
	for kv in 'ProtectSystem strict' 'PrivateTmp yes' 'NoNewPrivileges yes' 'ProtectHome yes' \
		'PrivateDevices yes' 'RestrictSUIDSGID yes' 'MemoryDenyWriteExecute yes' 'SystemCallArchitectures native' \
		'RemoveIPC yes' 'UMask 0077'; do
		has "$f" "${kv% *}" "${kv#* }" || miss="$miss ${kv% *}"
	done
	grep -q '^RestrictAddressFamilies=' "$U/$f" || miss="$miss RestrictAddressFamilies"
	grep -q '^SystemCallFilter=@system-service' "$U/$f" || miss="$miss SystemCallFilter"
	[ -z "$miss" ] && t_ok "$f: hardening settings present" || t_fail "$f: hardening settings present" "missing:$miss"
done
for f in ntskit-sync.service ntskit.service; do
	has "$f" CapabilityBoundingSet CAP_SYS_TIME && has "$f" AmbientCapabilities CAP_SYS_TIME &&
		t_ok "$f: CAP_SYS_TIME is the only capability" || t_fail "$f: CAP_SYS_TIME is the only capability" "$(grep -E '^(Capability|Ambient)' "$U/$f" | tr '\n' '|')"
	grep -q '^ProtectClock=yes' "$U/$f" && t_fail "$f: ProtectClock off (it sets the clock)" "ProtectClock=yes" || t_ok "$f: ProtectClock off (it sets the clock)"
	grep -Eq '^SystemCallFilter=.*@clock' "$U/$f" && t_ok "$f: @clock system calls allowed" || t_fail "$f: @clock system calls allowed" "no @clock"
done
has nts-serve.service CapabilityBoundingSet CAP_NET_BIND_SERVICE && has nts-serve.service AmbientCapabilities CAP_NET_BIND_SERVICE &&
	t_ok "nts-serve.service: CAP_NET_BIND_SERVICE is the only capability" || t_fail "nts-serve.service: CAP_NET_BIND_SERVICE is the only capability" "$(grep -E '^(Capability|Ambient)' "$U/nts-serve.service" | tr '\n' '|')"
has nts-serve.service DynamicUser yes && t_ok "nts-serve.service: DynamicUser=yes" || t_fail "nts-serve.service: DynamicUser=yes" "missing"
for f in ntskit-sync.service ntskit.service; do
	has "$f" User _ntskit && has "$f" Group _ntskit && ! grep -q '^DynamicUser=yes' "$U/$f" &&
		grep -Eq '^u _ntskit ' "$U/ntskit.sysusers" && t_ok "$f: the static system user _ntskit (sysusers.d)" ||
		t_fail "$f: the static system user _ntskit (sysusers.d)" "$(grep -E '^(User|Group|DynamicUser)=' "$U/$f" | tr '\n' '|')"
	has "$f" StateDirectory ntskit && has "$f" StateDirectoryMode 0711 && t_ok "$f: /var/lib/ntskit 0711 (last readable by check_nts, secrets 0600)" || t_fail "$f: /var/lib/ntskit 0711" "StateDirectory/StateDirectoryMode"
	# a configuration with no source: the unit is skipped, never failed or restarted
	grep -Eq '^ExecCondition=.*nts-sync --configured' "$U/$f" && t_ok "$f: skipped while no source is configured" ||
		t_fail "$f: skipped while no source is configured" "no ExecCondition=nts-sync --configured"
	for d in systemd-timesyncd chrony ntp ntpsec; do
		grep -Eq "^Conflicts=.* $d\.service" "$U/$f" || t_fail "$f conflicts with $d" "no Conflicts=$d.service"
	done
done
grep -Eq '^Conflicts=.* chrony\.service' "$U/ntskit-sync.timer" && t_ok "ntskit-sync.timer conflicts with the other time daemons" || t_fail "ntskit-sync.timer conflicts with the other time daemons" "no Conflicts="
# exit statuses that a restart cannot mend stop the restarts
grep -Eq '^RestartPreventExitStatus=.*\b4\b.*\b78\b' "$U/nts-serve.service" && t_ok "nts-serve.service: no restart loop on a bad configuration or user" || t_fail "nts-serve.service: no restart loop on a bad configuration or user" "RestartPreventExitStatus"
# the example configuration agrees with the units: no [serve] user (the unit sets it)
awk '/^\[/ { sec = $0 } sec == "[serve]" && /^[ \t]*user[ \t]*=/ { f = 1 } END { exit f }' "$NTSKIT_TOP/scripts/ntskit.conf.example" &&
	t_ok "example config sets no [serve] user (nts-serve.service sets it)" || t_fail "example config sets no [serve] user" "user = ... in [serve]"
has nts-serve.service ProtectClock yes && t_ok "nts-serve.service: ProtectClock=yes" || t_fail "nts-serve.service: ProtectClock=yes" "missing"
grep -q '^User=' "$U/nts-serve.service" && ! grep -q '^User=root' "$U/nts-serve.service" && t_ok "nts-serve.service: never root" || t_fail "nts-serve.service: never root" "User= missing or root"
has ntskit-sync.timer OnUnitActiveSec 15min && t_ok "ntskit-sync.timer: every 15 minutes" || t_fail "ntskit-sync.timer: every 15 minutes" "no OnUnitActiveSec=15min"
grep -q '^Conflicts=.*ntskit-sync' "$U/ntskit.service" && t_ok "ntskit.service conflicts with the one-shot units" || t_fail "ntskit.service conflicts with the one-shot units" "no Conflicts="

# the privilege split the units rely on: nts-sync drops CAP_SYS_TIME through setpriv
command -v setpriv >/dev/null 2>&1 && t_ok "setpriv (util-linux) present for nts-sync's capability drop" || t_fail "setpriv present" "not found"

# exposure
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	for f in ntskit-sync.service ntskit.service nts-serve.service; do
		( cd "$D" && systemd-analyze security --offline=yes "./$f" ) >"$T_DIR/s.out" 2>&1
		x=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$T_DIR/s.out")
		echo "# systemd-analyze security $f: exposure $x"
		[ -n "$x" ] && awk -v x="$x" 'BEGIN { exit !(x < 3.0) }' && t_ok "$f: exposure $x (OK, below 3.0)" ||
			t_fail "$f: exposure below 3.0" "'$x': $(tail -c 300 "$T_DIR/s.out" | tr '\n' '|')"
	done
else
	t_skip "systemd-analyze security --offline not supported by this systemd"
fi
