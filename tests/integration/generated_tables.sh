#!/bin/sh
# Generated sources match their generators: lib/x25519_table.h (the
# edwards25519 fixed-base table) is exactly what
# tests/helpers/gen_x25519_table.py prints (pure Python integers, not the
# C field code), so nobody can edit the table by hand unnoticed.
. "$NTSKIT_TOP/tests/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
  t_skip "python3 not installed"
  exit 0
fi
if python3 "$NTSKIT_TOP/tests/helpers/gen_x25519_table.py" >"$T_DIR/x25519_table.h" 2>"$T_DIR/err" &&
   cmp -s "$T_DIR/x25519_table.h" "$NTSKIT_TOP/lib/x25519_table.h"; then
  t_ok "lib/x25519_table.h is what tests/helpers/gen_x25519_table.py generates"
else
  t_fail "lib/x25519_table.h is what tests/helpers/gen_x25519_table.py generates" \
    "differs or the generator failed: $(head -c 300 "$T_DIR/err")"
fi
