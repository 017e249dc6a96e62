# make demo (issue 9): prints the records and a summary for the SOCKS5 UDP
# and the TCP relay paths, exits 0, and leaves no process and no listening
# socket behind. Runs the real `make demo` (a release build in build/).
. "$NTSKIT_TOP/tests/lib.sh"

if ! t_is_root; then t_skip "make demo runs danted as root"; exit 0; fi
base=20950
before=$(pgrep -x nts-serve | sort | tr '\n' ' ')
NTSKIT_DEMO_PORT=$base make -s -C "$NTSKIT_TOP" demo >"$T_DIR/demo.out" 2>&1; rc=$?
if [ $rc -eq 0 ]; then t_ok "make demo exits 0"; else t_fail "make demo exits 0" "exit $rc: $(tail -5 "$T_DIR/demo.out" | tr '\n' '|')"; fi
t_grep "summary via SOCKS5 UDP" "$T_DIR/demo.out" '^SUMMARY: offset [+-][0-9.]+ s ± [0-9.]+ s from 1 source via SOCKS5 UDP; no clock change made \(dry run'
t_grep "summary via the TCP relay" "$T_DIR/demo.out" '^SUMMARY: offset [+-][0-9.]+ s ± [0-9.]+ s from 1 source via the TCP relay; no clock change made'
t_grep "the session record is shown with its secrets elided" "$T_DIR/demo.out" '^ +session source=demo .*c2s=<key> s2c=<key> cookies=<8 cookies>'
t_grep "sample records via socks5-udp" "$T_DIR/demo.out" '^ +sample source=demo .*auth=nts .*via=socks5-udp'
t_grep "sample records via tcp-relay" "$T_DIR/demo.out" '^ +sample source=demo .*auth=nts .*via=tcp-relay'
t_grep "adjust record from a dry run" "$T_DIR/demo.out" '^ +adjust .*action='
if grep -qE '^ +session .*c2s=[0-9a-f]{8}' "$T_DIR/demo.out"; then t_fail "no key printed" "a key appears in the output"; else t_ok "no key printed"; fi
after=$(pgrep -x nts-serve | sort | tr '\n' ' ')
if [ "$before" = "$after" ] && ! pgrep -f "ntskit-demo" >/dev/null; then t_ok "no process left behind"; else t_fail "no process left behind" "$(pgrep -af 'ntskit-demo|nts-serve' | head -3)"; fi
if ss -ltnuH | grep -qE ":($((base + 1))|$((base + 2))|$((base + 3))|$((base + 4)))\b"; then
  t_fail "no listening socket left" "$(ss -ltnuH | grep -E ":($((base + 1))|$((base + 2))|$((base + 3))|$((base + 4)))\b")"
else
  t_ok "no listening socket left"
fi
