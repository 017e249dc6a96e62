# make install into a scratch DESTDIR; every tool answers --help and refuses an
# unknown flag with exit 64; every man page is mandoc -Tlint clean.
. "$NTSKIT_TOP/tests/lib.sh"

dest=$T_DIR/dest
# the same build variables as the build under test (make check passes them),
# so that install finds everything up to date and relinks nothing
if eval make -s -C '"$NTSKIT_TOP"' install "${NTSKIT_MAKEVARS:-B=$NTSKIT_BUILD}" PREFIX=/usr DESTDIR='"$dest"' >"$T_DIR/install.log" 2>&1; then
  t_ok "make install DESTDIR=... PREFIX=/usr"
else
  t_fail "make install" "$(tail -3 "$T_DIR/install.log" | tr '\n' '|')"
fi

for t in "$NTSKIT_TOP"/nts-*/main.c; do
  [ -f "$t" ] || continue
  tool=$(basename "$(dirname "$t")")
  if [ -x "$dest/usr/bin/$tool" ] || [ -x "$dest/usr/sbin/$tool" ]; then
    t_ok "$tool installed"
  else
    t_fail "$tool installed" "not in $dest/usr/bin or sbin"
  fi
  pages=$(ls "$NTSKIT_TOP/$tool"/*.[158] 2>/dev/null)
  if [ -n "$pages" ]; then t_ok "$tool has a man page"; else t_fail "$tool has a man page" "none in $tool/"; fi
  if "$NTSKIT_BIN/$tool" --help >"$T_DIR/help.out" 2>&1 && grep -qi usage "$T_DIR/help.out"; then
    t_ok "$tool --help"
  else
    t_fail "$tool --help" "$(head -c 200 "$T_DIR/help.out")"
  fi
  "$NTSKIT_BIN/$tool" --no-such-flag >"$T_DIR/bad.out" 2>&1
  rc=$?
  if [ $rc -eq 64 ] && [ "$(wc -l <"$T_DIR/bad.out")" -ge 1 ]; then
    t_ok "$tool unknown flag exits 64"
  else
    t_fail "$tool unknown flag exits 64" "exit $rc: $(head -c 200 "$T_DIR/bad.out")"
  fi
done

for m in "$NTSKIT_TOP"/lib/*.[158] "$NTSKIT_TOP"/nts-*/*.[158] "$NTSKIT_TOP"/scripts/*.[158]; do
  [ -f "$m" ] || continue
  n=$(basename "$m")
  if mandoc -Tlint -W warning "$m" >"$T_DIR/lint.out" 2>&1; then
    t_ok "mandoc -Tlint $n"
  else
    t_fail "mandoc -Tlint $n" "$(head -3 "$T_DIR/lint.out" | tr '\n' '|')"
  fi
  if [ -f "$dest/usr/share/man/man${n##*.}/$n" ]; then t_ok "$n installed"; else t_fail "$n installed" "missing"; fi
done

for u in "$NTSKIT_TOP"/scripts/systemd/*.service "$NTSKIT_TOP"/scripts/systemd/*.timer; do
  [ -f "$u" ] || continue
  n=$(basename "$u")
  f=$dest/usr/lib/systemd/system/$n
  if [ -f "$f" ] && ! grep -q /usr/local/ "$f"; then t_ok "$n installed with PREFIX paths"; else t_fail "$n installed with PREFIX paths" "missing or still names /usr/local"; fi
done
# the administrator's scripts (section 8) in sbin, the Nagios plugin where plugins live
for s in sbin/nts-sync sbin/ntskit-prom sbin/ntskit-status bin/ntskit-plot lib/nagios/plugins/check_nts; do
  [ -x "$dest/usr/$s" ] && t_ok "${s##*/} installed in /usr/${s%/*}" || t_fail "${s##*/} installed" "not $dest/usr/$s"
done
[ -f "$dest/usr/lib/sysusers.d/ntskit.conf" ] && [ -f "$dest/usr/lib/tmpfiles.d/ntskit.conf" ] &&
  t_ok "sysusers.d and tmpfiles.d files installed" || t_fail "sysusers.d and tmpfiles.d files installed" "missing"
# /etc/ntskit.conf: every line commented (nothing runs before sources are chosen),
# and an existing one is never overwritten
if [ -f "$dest/etc/ntskit.conf" ] && ! grep -Evq '^[[:space:]]*(#|$)' "$dest/etc/ntskit.conf"; then
  t_ok "/etc/ntskit.conf installed, every line commented"
else
  t_fail "/etc/ntskit.conf installed, every line commented" "missing, or has an active line"
fi
echo "# mine" >"$dest/etc/ntskit.conf"
eval make -s -C '"$NTSKIT_TOP"' install "${NTSKIT_MAKEVARS:-B=$NTSKIT_BUILD}" PREFIX=/usr DESTDIR='"$dest"' >>"$T_DIR/install.log" 2>&1
[ "$(cat "$dest/etc/ntskit.conf")" = "# mine" ] && t_ok "make install keeps an existing /etc/ntskit.conf" || t_fail "make install keeps an existing /etc/ntskit.conf" "overwritten"
# every tool and script prints the one version (debian/changelog)
ver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$NTSKIT_TOP/debian/changelog")
for p in "$NTSKIT_BIN"/nts-ke "$NTSKIT_BIN"/nts-poll "$NTSKIT_BIN"/nts-select "$NTSKIT_BIN"/nts-adjust "$NTSKIT_BIN"/nts-serve \
  "$NTSKIT_TOP"/scripts/nts-sync "$NTSKIT_TOP"/scripts/check_nts "$NTSKIT_TOP"/scripts/ntskit-prom "$NTSKIT_TOP"/scripts/ntskit-status "$NTSKIT_TOP"/scripts/ntskit-plot; do
  out=$("$p" --version 2>&1); rc=$?
  [ $rc -eq 0 ] && [ "$out" = "${p##*/} $ver" ] && t_ok "${p##*/} --version: $out" || t_fail "${p##*/} --version" "exit $rc: '$out' (want '${p##*/} $ver')"
done
