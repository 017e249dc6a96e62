#!/bin/sh
# tutorial_extract.sh PAGE: turn the commands of a tutorial man page
# (ntskit-tutorial(7)) into one sh script on stdout, for
# tests/integration/tutorial.sh. The page's header comment defines what is
# read: in .Bd -literal displays, "$ " lines are commands, and comment lines
# '.\" test: exit N | expect FILE ERE | absent FILE ERE | instead CMD' are
# checks for the command before them (instead: for the command after).
# The script prints "ok - " / "not ok - " per check and "__done" at the end;
# an expected line is waited for TUTORIAL_WAIT_TICKS tenths of a second (200).
set -eu
PAGE=${1:?usage: tutorial_extract.sh PAGE}
[ -r "$PAGE" ] || { echo "cannot read $PAGE" >&2; exit 1; }
cat <<'PROLOGUE'
# generated from the tutorial page by tests/helpers/tutorial_extract.sh
__n=0 __cmd=
__step() { __n=$1; __cmd=$2; }
__rc() {
  if [ "$1" = "$2" ]; then echo "ok - step $__n exits $2: $__cmd"
  else echo "not ok - step $__n exits $2: $__cmd: exit $1"; fi
}
__expect() {
  __i=0
  while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
    __i=$((__i + 1))
    if [ $__i -gt "${TUTORIAL_WAIT_TICKS:-200}" ]; then
      echo "not ok - step $__n: $1 has /$2/: $__cmd: $(head -c 300 "$1" 2>&1 | tr '\n' '|')"
      return 0
    fi
    sleep 0.1
  done
  echo "ok - step $__n: $1 has /$2/"
}
__absent() {
  if grep -Eq -- "$2" "$1" 2>/dev/null; then echo "not ok - step $__n: $1 has no /$2/: $(grep -E -- "$2" "$1" | head -n 1 | cut -c1-200)"
  else echo "ok - step $__n: $1 has no /$2/"; fi
}
PROLOGUE
awk '
function q(s) { gsub(/'\''/, "'\''\\'\'''\''", s); return "'\''" s "'\''" }
function unroff(s) { gsub(/\\e/, "\\", s); gsub(/\\-/, "-", s); gsub(/\\&/, "", s); return s }
function flush() {
  if (cmd == "") return
  n++
  print "__step " n " " q(substr(shown, 1, 90))
  print run
  print "__rc $? " (want == "" ? 0 : want)
  for (i = 1; i <= nc; i++) print checks[i]
  cmd = ""; want = ""; nc = 0
}
/^\.Bd -literal/ { lit = 1; next }
/^\.Ed/ { flush(); lit = 0; next }
!lit { next }
/^\.\\" test: instead / {
  flush(); instead = substr($0, length(".\\\" test: instead ") + 1); next }
/^\.\\" test: exit [0-9]+$/ { want = $4; next }
/^\.\\" test: (expect|absent) / {
  f = $4; re = $0
  sub(/^\.\\" test: (expect|absent) [^ ]+ /, "", re)
  checks[++nc] = "__" $3 " " q(f) " " q(re); next }
/^\.\\" test:/ { print "bad test comment at line " NR ": " $0 > "/dev/stderr"; bad = 1; next }
/^\$ / {
  flush()
  cmd = unroff(substr($0, 3)); shown = cmd
  if (instead != "") { run = instead; shown = cmd " (test: " instead ")"; instead = "" } else run = cmd
  next }
END { flush(); print "echo __done"; exit bad }
' "$PAGE"
