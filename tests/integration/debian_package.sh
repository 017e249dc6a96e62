#!/bin/sh
# The Debian package (debian/, make deb), end to end:
#  - dpkg-buildpackage -us -uc -b builds ntskit_VERSION_ARCH.deb, the version
#    being debian/changelog's, the one every tool's --version prints;
#  - lintian on the .deb and the .changes: no error, no warning;
#  - hardening-check: PIE, stack protector, fortify, RELRO and bindnow in
#    every binary;
#  - the file list: Debian's layout, the conffile, the units, no /usr/local;
#  - in a throwaway Debian 12 root (made by scripts/install-deps --test with debootstrap,
#    cached in /var/cache/ntskit; never this machine's own /): install the
#    previous build, see the _ntskit user and /var/lib/ntskit (0711), the
#    last run that nts-sync writes there as _ntskit readable by check_nts run
#    as another user (0644), nothing else readable by others, the
#    units enabled or not, nts-ke --version, systemd-analyze verify on the
#    installed units; change the conffile; upgrade with apt; the change is
#    kept; purge: state, user, conffile gone, nothing left running.
. "$NTSKIT_TOP/tests/lib.sh"

t_need_cmds dpkg-buildpackage dh lintian hardening-check chroot || exit 0
ver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$NTSKIT_TOP/debian/changelog")
arch=$(dpkg-architecture -qDEB_HOST_ARCH)

# --- build ---------------------------------------------------------------
OUT=$T_DIR/out
start=$(date +%s)
if deb=$(sh "$NTSKIT_TOP/scripts/build-deb" "$OUT" 2>"$T_DIR/build.err"); then
	t_ok "make deb: $(basename "$deb") in $(( $(date +%s) - start )) s"
else
	t_fail "make deb" "$(tail -5 "$T_DIR/build.err" | tr '\n' '|')"; exit 0
fi
[ "$(basename "$deb")" = "ntskit_${ver}_$arch.deb" ] && [ "$(dpkg-deb -f "$deb" Version)" = "$ver" ] &&
	t_ok "package version $ver is debian/changelog's" || t_fail "package version" "$(basename "$deb"): $(dpkg-deb -f "$deb" Version)"

# --- lintian -------------------------------------------------------------
lintian --allow-root "$deb" "$OUT/ntskit_${ver}_$arch.changes" >"$T_DIR/lintian.out" 2>&1; rc=$?
ew=$(grep -E '^[EW]: ' "$T_DIR/lintian.out")
[ $rc -eq 0 ] && [ -z "$ew" ] && t_ok "lintian: no error, no warning (.deb and .changes)" ||
	t_fail "lintian: no error, no warning" "exit $rc: $(echo "$ew" | head -5 | tr '\n' '|')"

# --- hardening -----------------------------------------------------------
X=$T_DIR/x; dpkg-deb -x "$deb" "$X"
for b in "$X"/usr/bin/* "$X"/usr/sbin/*; do
	file -b "$b" 2>/dev/null | grep -q ELF || head -c 4 "$b" | grep -q ELF || continue
	# Control flow integrity is not asked: Debian 12's dpkg-buildflags has no
	# -fcf-protection, and its hardening-check reports "no" for it even for an
	# empty program built with the flag.
	hardening-check --nocfprotection "$b" >"$T_DIR/hc.out" 2>&1; rc=$?
	miss=
	for what in 'Position Independent Executable' 'Stack protected' 'Fortify Source functions' \
		'Read-only relocations' 'Immediate binding'; do
		grep -q "^ $what: yes" "$T_DIR/hc.out" || miss="$miss|$what"
	done
	[ $rc -eq 0 ] && [ -z "$miss" ] && t_ok "hardening-check ${b##*/}: PIE, stack protector, fortify, RELRO, bindnow" ||
		t_fail "hardening-check ${b##*/}" "exit $rc, not yes:$miss"
	# BearSSL and inih are linked in: libc is the only shared library
	libs=$(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	[ "$libs" = "libc.so.6 " ] && t_ok "${b##*/} needs libc only" || t_fail "${b##*/} needs libc only" "NEEDED: $libs"
done

# --- the file list -------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T_DIR/files"
miss=
for f in /usr/bin/nts-ke /usr/bin/nts-poll /usr/bin/nts-select /usr/sbin/nts-adjust /usr/sbin/nts-serve \
	/usr/sbin/nts-sync /usr/sbin/ntskit-prom /usr/bin/ntskit-plot /usr/lib/nagios/plugins/check_nts /etc/ntskit.conf \
	/lib/systemd/system/ntskit.service /lib/systemd/system/ntskit-sync.service /lib/systemd/system/ntskit-sync.timer \
	/lib/systemd/system/nts-serve.service /usr/lib/sysusers.d/ntskit.conf /usr/lib/tmpfiles.d/ntskit.conf \
	/usr/share/doc/ntskit/copyright /usr/share/man/man5/ntskit.conf.5.gz /usr/share/man/man5/ntskit-records.5.gz \
	/usr/share/man/man1/nts-ke.1.gz /usr/share/man/man1/nts-poll.1.gz /usr/share/man/man1/nts-select.1.gz /usr/share/man/man1/ntskit-plot.1.gz \
	/usr/share/man/man8/nts-adjust.8.gz /usr/share/man/man8/nts-serve.8.gz /usr/share/man/man8/nts-sync.8.gz \
	/usr/share/man/man8/check_nts.8.gz /usr/share/man/man8/ntskit-prom.8.gz; do
	grep -qx "$f" "$T_DIR/files" || miss="$miss $f"
done
[ -z "$miss" ] && t_ok "file list: tools, scripts, man pages, units, sysusers/tmpfiles, conffile" || t_fail "file list" "missing:$miss"
grep -q '^/usr/local' "$T_DIR/files" && t_fail "nothing under /usr/local" "$(grep '^/usr/local' "$T_DIR/files" | head -3)" || t_ok "nothing under /usr/local"
grep -rq /usr/local/ "$X/lib/systemd/system" && t_fail "units name /usr paths" "/usr/local/ in a unit" || t_ok "units name /usr paths"
dpkg-deb -e "$deb" "$T_DIR/ctl"
[ "$(cat "$T_DIR/ctl/conffiles")" = /etc/ntskit.conf ] && t_ok "/etc/ntskit.conf is the conffile" || t_fail "conffiles" "$(cat "$T_DIR/ctl/conffiles" | tr '\n' ' ')"
! grep -Evq '^[[:space:]]*(#|$)' "$X/etc/ntskit.conf" && t_ok "/etc/ntskit.conf: everything commented" || t_fail "/etc/ntskit.conf: everything commented" "$(grep -Ev '^[[:space:]]*(#|$)' "$X/etc/ntskit.conf" | head -2)"
for fld in Provides Conflicts Replaces; do
	[ "$(dpkg-deb -f "$deb" $fld)" = time-daemon ] && t_ok "$fld: time-daemon" || t_fail "$fld: time-daemon" "$(dpkg-deb -f "$deb" $fld)"
done

# --- a throwaway Debian 12 root ------------------------------------------
# debootstrap (minbase + systemd: systemd-sysusers, systemd-tmpfiles and
# systemd-analyze), made once per machine by scripts/install-deps --test
CACHE=${NTSKIT_DEBROOT:-/var/cache/ntskit/debootstrap-bookworm-systemd.tar}
[ -s "$CACHE" ] || { t_skip "no Debian 12 root in $CACHE: run 'sh scripts/install-deps --test' as root (debootstrap)"; exit 0; }
R=$T_DIR/root; mkdir -p "$R"
tar --numeric-owner -C "$R" -xf "$CACHE"
mount -t proc proc "$R/proc" || { t_fail "mount /proc in the throwaway root" "mount failed"; exit 0; }
cleanup_root() { umount "$R/proc" 2>/dev/null; }
trap 'cleanup_root; t_cleanup' EXIT
# no service is started by a maintainer script in here (and none could be:
# systemd is not running in this root)
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

# "the previous build": the same package at a lower version, whose conffile
# differs, so that the upgrade meets a conffile changed on both sides
P=$T_DIR/prev; dpkg-deb -R "$deb" "$P"
sed -i "s/^Version: .*/Version: ${ver}~prev1/" "$P/DEBIAN/control"
echo "# (previous build)" >>"$P/etc/ntskit.conf"
(cd "$P" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) >"$P/DEBIAN/md5sums"
dpkg-deb --root-owner-group -b "$P" "$R/tmp/ntskit_prev.deb" >/dev/null
cp "$deb" "$R/tmp/"

if in_root apt-get install -y -q /tmp/ntskit_prev.deb >"$T_DIR/install.log" 2>&1; then
	t_ok "apt install ./ntskit_${ver}~prev1 in a fresh Debian 12 root"
else
	t_fail "apt install in a fresh Debian 12 root" "$(tail -5 "$T_DIR/install.log" | tr '\n' '|')"; exit 0
fi
u=$(in_root getent passwd _ntskit)
case "$u" in _ntskit:x:*:*:*:/var/lib/ntskit:/usr/sbin/nologin) t_ok "system user _ntskit: $u" ;; *) t_fail "system user _ntskit" "'$u'" ;; esac
st=$(in_root stat -c '%a %U %G' /var/lib/ntskit 2>&1)
[ "$st" = "711 _ntskit _ntskit" ] && t_ok "/var/lib/ntskit: $st" || t_fail "/var/lib/ntskit 0711 _ntskit" "$st"
o=$(in_root nts-ke --version 2>&1) && [ "$o" = "nts-ke $ver" ] && t_ok "installed nts-ke --version: $o" || t_fail "installed nts-ke --version" "$o"
# check_nts as another user (the nagios user; nobody here) reads the last
# run that nts-sync wrote as _ntskit under the units' UMask=0077 (a source
# that refuses the connection: a failed run is a run); that user can
# neither list the directory nor read anything else in it
printf '[source refused]\naddress = 127.0.0.1\nke-port = 9\n' >"$R/tmp/last-test.conf"
in_root sh -c 'umask 077; exec setpriv --reuid=_ntskit --regid=_ntskit --clear-groups nts-sync --dry-run --config /tmp/last-test.conf --state-dir /var/lib/ntskit' >"$T_DIR/sync.out" 2>&1
as_nobody() { in_root setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
o=$(as_nobody /usr/lib/nagios/plugins/check_nts 2>&1); rc=$?
case "$rc:$o" in
[012]:NTS\ *) t_ok "check_nts as nobody reads /var/lib/ntskit/last (exit $rc: ${o%%|*})" ;;
*) t_fail "check_nts as nobody reads /var/lib/ntskit/last" "exit $rc: $o; nts-sync: $(tail -c 300 "$T_DIR/sync.out" | tr '\n' '|')" ;;
esac
st=$(in_root stat -c '%a %U' /var/lib/ntskit/last 2>&1)
open=$(in_root find /var/lib/ntskit -mindepth 1 -perm /o=rwx ! -name last ! \( -name lock -empty \) -printf '%p %m|' 2>&1)
[ "$st" = "644 _ntskit" ] && [ -z "$open" ] && ! as_nobody ls /var/lib/ntskit >/dev/null 2>&1 &&
	t_ok "last 0644 under UMask=0077; nothing else open to others; the directory not listable" ||
	t_fail "only last is readable by others" "last: $st; open to others: $open; listable: $(as_nobody ls /var/lib/ntskit 2>&1 | tr '\n' ' ')"
rm -f "$R/tmp/last-test.conf" "$R/var/lib/ntskit/last" "$R/var/lib/ntskit/lock"
o=$(in_root nts-sync --configured 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q 'no \[source' && t_ok "fresh /etc/ntskit.conf: nts-sync --configured says no source (exit 1)" ||
	t_fail "fresh /etc/ntskit.conf: no source" "exit $rc: $o"
W=$R/etc/systemd/system
[ -L "$W/multi-user.target.wants/ntskit.service" ] && t_ok "ntskit.service enabled (skipped until a source is configured)" || t_fail "ntskit.service enabled" "no symlink"
[ ! -e "$W/multi-user.target.wants/nts-serve.service" ] && [ ! -e "$W/timers.target.wants/ntskit-sync.timer" ] &&
	t_ok "nts-serve.service and ntskit-sync.timer not enabled" || t_fail "nts-serve.service and ntskit-sync.timer not enabled" "enabled"
in_root systemd-analyze verify --man=no /lib/systemd/system/ntskit.service /lib/systemd/system/ntskit-sync.service \
	/lib/systemd/system/ntskit-sync.timer /lib/systemd/system/nts-serve.service >"$T_DIR/verify.out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ ! -s "$T_DIR/verify.out" ] && t_ok "systemd-analyze verify: the installed units" ||
	t_fail "systemd-analyze verify: the installed units" "exit $rc: $(head -c 400 "$T_DIR/verify.out" | tr '\n' '|')"

# the administrator's edit and some state, then the upgrade
echo "# edited by the administrator" >>"$R/etc/ntskit.conf"
cp "$R/etc/ntskit.conf" "$T_DIR/conf.edited"
echo "session source=x" >"$R/var/lib/ntskit/sessions"
if in_root apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "/tmp/$(basename "$deb")" >"$T_DIR/upgrade.log" 2>&1 &&
	[ "$(in_root dpkg-query -W -f='${Version}' ntskit)" = "$ver" ]; then
	t_ok "upgrade ${ver}~prev1 -> $ver with apt"
else
	t_fail "upgrade with apt" "$(tail -5 "$T_DIR/upgrade.log" | tr '\n' '|')"
fi
cmp -s "$R/etc/ntskit.conf" "$T_DIR/conf.edited" && t_ok "upgrade keeps the changed conffile" || t_fail "upgrade keeps the changed conffile" "$(diff "$T_DIR/conf.edited" "$R/etc/ntskit.conf" | head -3 | tr '\n' '|')"
[ -f "$R/etc/ntskit.conf.dpkg-dist" ] && t_ok "the new conffile beside it as ntskit.conf.dpkg-dist" || t_fail "ntskit.conf.dpkg-dist" "missing"
[ -f "$R/var/lib/ntskit/sessions" ] && t_ok "upgrade keeps the state" || t_fail "upgrade keeps the state" "sessions gone"

# purge
if in_root apt-get purge -y -q ntskit >"$T_DIR/purge.log" 2>&1; then t_ok "apt purge ntskit"; else t_fail "apt purge ntskit" "$(tail -3 "$T_DIR/purge.log" | tr '\n' '|')"; fi
left=
for f in /var/lib/ntskit /etc/ntskit.conf /etc/ntskit.conf.dpkg-dist /usr/bin/nts-ke /usr/sbin/nts-sync /lib/systemd/system/ntskit.service \
	/etc/systemd/system/multi-user.target.wants/ntskit.service; do
	[ -e "$R$f" ] || [ -L "$R$f" ] && left="$left $f"
done
[ -z "$left" ] && t_ok "purge removes state, conffile, programs and unit links" || t_fail "purge removes everything" "left:$left"
in_root getent passwd _ntskit >/dev/null || in_root getent group _ntskit >/dev/null &&
	t_fail "purge removes the _ntskit user and group" "still there" || t_ok "purge removes the _ntskit user and group"
# nothing left running: no process has its root in the throwaway root
running=
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && running="$running ${p#/proc/}"
done
[ -z "$running" ] && t_ok "nothing left running in the root" || t_fail "nothing left running" "PIDs:$running"
