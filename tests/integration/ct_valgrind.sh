#!/bin/sh
# Constant-time check (tests/ct/README): each driver build/ct/tests/ct/ct_*
# (built by `make ct` / `make check` with the release flags, no sanitizers)
# runs under Valgrind memcheck with its secrets marked undefined; any
# branch or memory index that depends on a secret is a memcheck error.
#   ok - ct NAME             no error, and the driver's own checks passed
#   not ok - ct NAME: ...    the first error memcheck reported (function, line)
#   ok - ct canary ...       the planted leak (ct_canary) WAS reported: a
#                            harness that cannot see it proves nothing
# NTSKIT_CT overrides the build directory of the drivers (default build/ct).
. "$NTSKIT_TOP/tests/lib.sh"

CT=${NTSKIT_CT:-$NTSKIT_TOP/build/ct}
D=$CT/tests/ct

if ! command -v valgrind >/dev/null 2>&1; then
  t_skip "valgrind is not installed (scripts/install-deps --test installs it)"
  exit 0
fi
if ! ls "$D"/ct_* >/dev/null 2>&1; then
  t_fail "ct drivers" "none in $D: build them with make ct (or make check)"
  exit 0
fi

# One driver under memcheck; sets rc and leaves its log in $T_DIR/NAME.vg.
vg() {
  rc=0
  valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes --leak-check=no \
    --num-callers=12 --log-file="$T_DIR/$1.vg" "$D/$1" >"$T_DIR/$1.out" 2>&1 || rc=$?
}

# The first error, as "what at function (file:line)".
first_error() {
  awk '/== (Conditional jump|Use of uninitialised|Syscall param|Invalid)/ {
         sub(/^==[0-9]+== /, ""); what = $0; getline; sub(/^==[0-9]+== +(at|by) 0x[0-9A-F]+: /, "");
         print what " at " $0; exit }' "$T_DIR/$1.vg"
}

for drv in "$D"/ct_*; do
  n=$(basename "$drv")
  [ "$n" = ct_canary ] && continue
  vg "$n"
  if [ "$rc" = 0 ]; then
    t_ok "ct ${n#ct_}"
  elif [ "$rc" = 99 ]; then
    t_fail "ct ${n#ct_}" "$(grep -cE '== (Conditional jump|Use of uninitialised|Syscall param|Invalid)' "$T_DIR/$n.vg") memcheck errors, first: $(first_error "$n")"
    sed -n '1,60p' "$T_DIR/$n.vg"
  else
    t_fail "ct ${n#ct_}" "driver exited $rc: $(tail -n 3 "$T_DIR/$n.out" | tr '\n' ' ')"
  fi
done

vg ct_canary
if [ "$rc" = 99 ] && grep -q 'Conditional jump or move depends on uninitialised value' "$T_DIR/ct_canary.vg" &&
   grep -q 'Use of uninitialised value' "$T_DIR/ct_canary.vg"; then
  t_ok "ct canary: the planted secret branch and secret table index are reported"
else
  t_fail "ct canary" "memcheck did not report the planted leak (exit $rc): the harness is blind"
fi
