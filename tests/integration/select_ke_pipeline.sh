#!/bin/sh
# Source names (ntskit-records(5), issue 13 item 16): servers given to nts-ke
# as HOST:PORT and [IPv6]:PORT on non-default ports flow through
# nts-ke | nts-poll | nts-select | nts-adjust --dry-run, against two local
# nts-serve on 127.0.0.1 and one on [::1]; two sources on the same host
# with different ports stay distinct; the names are fit for used=,
# rejected=, Prometheus labels (ntskit-prom) and check_nts. nts-ke refuses
# two arguments that name the same source, and drops session records with
# names of the old HOST:PORT form from a state file (nts-poll refuses them).
# Ports: 21712-21719.
. "$NTSKIT_TOP/tests/lib.sh"
SERVE=$NTSKIT_BIN/nts-serve POLL=$NTSKIT_BIN/nts-poll KE=$NTSKIT_BIN/nts-ke
SEL=$NTSKIT_BIN/nts-select ADJ=$NTSKIT_BIN/nts-adjust
t_need_bins "$SERVE" "$POLL" "$KE" "$SEL" "$ADJ"
NTP_A=21712 KE_A=21713 NTP_B=21714 KE_B=21715 NTP_C=21716 KE_C=21717
PKI=$NTSKIT_TMP/pki
t_pki "$PKI"
CA=$PKI/root.crt
printf 'status t=%s stratum=1 refid=GPS root-delay=0 root-disp=0.0001 leap=0\n' "$(date +%s)" >"$T_DIR/status"

# serve NAME ADDR NTPPORT KEPORT
serve() {
  t_bg "$1" "$SERVE" --listen "$2:$3" --ke-listen "$2:$4" --cert "$PKI/ec256.fullchain.pem" \
    --key "$PKI/ec256.sec1.key" --cookie-keys "$T_DIR/keys-$1" --status "$T_DIR/status"
}
serve a 127.0.0.1 $NTP_A $KE_A
serve b '[::1]' $NTP_B $KE_B
serve c 127.0.0.1 $NTP_C $KE_C
t_wait_tcp 127.0.0.1 $KE_A 10 && t_wait_tcp ::1 $KE_B 10 && t_wait_tcp 127.0.0.1 $KE_C 10 \
  || { t_fail "three nts-serve started" "$(tail -n 2 "$T_DIR/a.log" "$T_DIR/b.log" "$T_DIR/c.log" | tr '\n' '|')"; exit 0; }

# --- the pipeline, as the README writes it ------------------------------------
NA=localhost_$KE_A NB=--1_$KE_B NC=localhost_$KE_C
{ "$KE" --ca "$CA" localhost:$KE_A "[::1]:$KE_B" localhost:$KE_C 2>"$T_DIR/ke.err"; echo $? >"$T_DIR/ke.rc"; } |
  tee "$T_DIR/sessions" |
  { "$POLL" --count 3 --spacing 0.1 --timeout 3 2>"$T_DIR/poll.err"; echo $? >"$T_DIR/poll.rc"; } |
  tee "$T_DIR/samples" |
  { "$SEL" 2>"$T_DIR/sel.err"; echo $? >"$T_DIR/sel.rc"; } |
  tee "$T_DIR/offset" |
  { "$ADJ" --dry-run 2>"$T_DIR/adj.err"; echo $? >"$T_DIR/adj.rc"; } >"$T_DIR/adjust"
for t in ke poll sel adj; do
  rc=$(cat "$T_DIR/$t.rc")
  [ "$rc" = 0 ] && t_ok "pipeline: $t exit 0" || t_fail "pipeline: $t exit 0" "rc=$rc $(head -n 3 "$T_DIR/$t.err" | tr '\n' '|')"
done
for n in "$NA" "$NB" "$NC"; do
  [ "$(grep -c "^session source=$n " "$T_DIR/sessions")" = 1 ] && t_ok "session named $n" \
    || t_fail "session named $n" "$(cut -d' ' -f1-3 "$T_DIR/sessions" | tr '\n' '|')"
  [ "$(grep -c "^sample source=$n .*auth=nts " "$T_DIR/samples")" = 3 ] && t_ok "3 authenticated samples of $n" \
    || t_fail "3 authenticated samples of $n" "$(cut -d' ' -f1-3 "$T_DIR/samples" | tr '\n' '|')"
done
t_grep "the IPv6 source polled [::1]" "$T_DIR/samples" "^sample source=$NB ntp=\\[::1\\]:$NTP_B "
used=$(sed -n 's/^offset .* used=\([^ ]*\) .*/\1/p' "$T_DIR/offset")
[ "$(echo "$used" | tr ',' '\n' | sort | tr '\n' ' ')" = "$(printf '%s\n' "$NB" "$NA" "$NC" | sort | tr '\n' ' ')" ] \
  && t_ok "offset: used= names all three sources ($used)" || t_fail "offset: used= names all three" "$(cat "$T_DIR/offset")"
t_grep "nts-adjust: an adjust record (dry run)" "$T_DIR/adjust" '^adjust t=[0-9.]+ action=[a-z]+ .*reason=dry-run'

# --- monitoring reads the same names ------------------------------------------
if sh "$NTSKIT_TOP/scripts/ntskit-prom" --output "$T_DIR/prom" --state "$T_DIR/sessions" "$T_DIR/samples" "$T_DIR/offset" \
    >"$T_DIR/prom.out" 2>&1; then
  ok=1
  for n in "$NA" "$NB" "$NC"; do
    grep -q "^ntskit_source_samples{source=\"$n\"} 3\$" "$T_DIR/prom" || ok=0
    grep -q "^ntskit_source_cookies{source=\"$n\"} " "$T_DIR/prom" || ok=0
  done
  [ $ok = 1 ] && t_ok "ntskit-prom: one label per source name" || t_fail "ntskit-prom labels" "$(grep source= "$T_DIR/prom" | head -n 6 | tr '\n' '|')"
else
  t_fail "ntskit-prom ran" "$(cat "$T_DIR/prom.out")"
fi
sh "$NTSKIT_TOP/scripts/check_nts" -f "$T_DIR/offset" >"$T_DIR/check.out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^NTS OK: .*3 of 3 sources agree' "$T_DIR/check.out" && t_ok "check_nts: OK, 3 of 3 sources agree" \
  || t_fail "check_nts OK" "rc=$rc $(cat "$T_DIR/check.out")"

# --- the rule, at the edges -----------------------------------------------------
"$KE" --ca "$CA" localhost "localhost:4460" >/dev/null 2>"$T_DIR/dup.err"; rc=$?
[ $rc = 64 ] && grep -q "the same source name localhost" "$T_DIR/dup.err" \
  && t_ok "nts-ke: HOST and HOST:4460 are one source: exit 64" || t_fail "nts-ke: duplicate source name" "rc=$rc $(cat "$T_DIR/dup.err")"
"$KE" --ca "$CA" 'bad%name:4461' >/dev/null 2>"$T_DIR/bad.err"; rc=$?
[ $rc = 64 ] && grep -q "cannot be a source name" "$T_DIR/bad.err" && [ "$(grep -c . "$T_DIR/bad.err")" -le 2 ] \
  && t_ok "nts-ke: a host that cannot be a source name: exit 64, one line" || t_fail "nts-ke: bad host" "rc=$rc $(cat "$T_DIR/bad.err")"
# a state file from an older nts-ke (HOST:PORT names): those records go,
# with a word on stderr, and nts-poll reads the result
K=$(printf '%064d' 0)
{ echo "# kept"; echo "session source=localhost:$KE_A ke=localhost:$KE_A ntp=localhost:$NTP_A aead=15 c2s=$K s2c=$K cookies=- not-before=0 not-after=1 ke-at=5"; } >"$T_DIR/state"
chmod 600 "$T_DIR/state"
"$KE" --ca "$CA" --state "$T_DIR/state" localhost:$KE_A 2>"$T_DIR/st.err"; rc=$?
if [ $rc = 0 ] && ! grep -q "source=localhost:" "$T_DIR/state" && grep -q "^session source=$NA " "$T_DIR/state" \
   && grep -q '^# kept$' "$T_DIR/state" && grep -q "session of 'localhost:$KE_A' dropped" "$T_DIR/st.err"; then
  t_ok "--state: an old HOST:PORT session record is dropped (said on stderr), the new one written"
else
  t_fail "--state: old HOST:PORT record dropped" "rc=$rc $(cut -c1-60 "$T_DIR/state" | tr '\n' '|') $(cat "$T_DIR/st.err")"
fi
"$POLL" --count 1 --timeout 3 <"$T_DIR/state" >"$T_DIR/st.out" 2>"$T_DIR/st.perr"; rc=$?
[ $rc = 0 ] && grep -q "^sample source=$NA .*auth=nts" "$T_DIR/st.out" && t_ok "nts-poll reads the migrated state" \
  || t_fail "nts-poll reads the migrated state" "rc=$rc $(head -n 2 "$T_DIR/st.perr")"

for s in a b c; do t_stop $s; done
if grep -q -E 'Sanitizer|runtime error' "$T_DIR"/*.err "$T_DIR"/*.log 2>/dev/null; then
  t_fail "no sanitizer reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.err "$T_DIR"/*.log | head -n 3)"
else t_ok "no sanitizer reports"; fi
