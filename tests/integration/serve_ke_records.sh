#!/bin/sh
# nts-serve's NTS-KE record handling (RFC 8915 §4.1), issue 13 items 17-19:
# every error response carries the Next Protocol record (§4.1.2: exactly
# once in every response), a request record declaring more than the
# request limit is answered when its header arrives (not at the 5 s
# deadline), and the AEAD is the first of the client's list that the
# server supports (§4.1.5: the client's order is its preference), 17 as
# well as 15, each giving authenticated NTS exchanges with nts-poll.
# Ports: 21710-21719.
. "$NTSKIT_TOP/tests/lib.sh"
SERVE=$NTSKIT_BIN/nts-serve POLL=$NTSKIT_BIN/nts-poll KE=$NTSKIT_BIN/nts-ke
PROBE="python3 $NTSKIT_TOP/tests/helpers/serve_ke_probe.py"
t_need_bins "$SERVE" "$POLL" "$KE"
NTP=21710 KEP=21711
PKI=$NTSKIT_TMP/pki
t_pki "$PKI"
CA=$PKI/root.crt
printf 'status t=%s stratum=2 refid=192.0.2.77 root-delay=0.020000000 root-disp=0.004000000 leap=0\n' "$(date +%s)" >"$T_DIR/status"

t_bg serve "$SERVE" --listen 127.0.0.1:$NTP --ke-listen 127.0.0.1:$KEP --cert "$PKI/ec256.fullchain.pem" \
  --key "$PKI/ec256.sec1.key" --cookie-keys "$T_DIR/keys" --status "$T_DIR/status"
t_wait_tcp 127.0.0.1 $KEP 10 || { t_fail "nts-serve started" "$(tail -3 "$T_DIR/serve.log")"; exit 0; }

probe() { $PROBE req 127.0.0.1 $KEP "$CA" "$1" >"$T_DIR/r-$1" 2>&1; }
show() { tr '\n' '|' <"$T_DIR/r-$1"; }

# --- item 17: Next Protocol in every response -------------------------------
# once, critical; {0} unless the request's own list lacked 0 (a response's
# list is a subset of the request's)
np_once() {   # KIND PROTO ERROR
  probe "$1"
  if [ "$(grep -c '^rec type=1 ' "$T_DIR/r-$1")" = 1 ] && grep -q "^rec type=1 crit=1 .* proto=$2\$" "$T_DIR/r-$1" \
     && grep -q "^rec type=2 crit=1 len=2 error=$3\$" "$T_DIR/r-$1" && tail -n 4 "$T_DIR/r-$1" | grep -q '^rec type=0 crit=1 len=0$'; then
    t_ok "$1: Error $3 with one critical Next Protocol record {$2} and End of Message"
  else
    t_fail "$1: Error $3 with one critical Next Protocol record {$2}" "$(show "$1")"
  fi
}
np_once unknown-critical 0 0
np_once garbage 0 1
np_once truncated 0 1
np_once notntp empty 1
np_once huge-header 0 1
# not an error, but a response all the same: no AEAD in common (§4.1.5)
probe noaead
[ "$(grep -c '^rec type=1 crit=1 len=2 proto=0$' "$T_DIR/r-noaead")" = 1 ] && grep -q '^rec type=4 crit=1 len=0 aead=empty$' "$T_DIR/r-noaead" \
  && t_ok "noaead: Next Protocol {0}, empty AEAD record" || t_fail "noaead: Next Protocol {0}, empty AEAD record" "$(show noaead)"
probe good
[ "$(grep -c '^rec type=1 crit=1 len=2 proto=0$' "$T_DIR/r-good")" = 1 ] && t_ok "good: Next Protocol {0}" || t_fail "good: Next Protocol {0}" "$(show good)"

# --- item 18: an over-long record is refused when its header arrives --------
# (the connection stays open: before, the answer came at the 5 s deadline)
after=$(sed -n 's/^answer_after=//p' "$T_DIR/r-huge-header")
if [ -n "$after" ] && [ "$after" != none ] && awk -v a="$after" 'BEGIN { exit !(a < 1.0) }'; then
  t_ok "huge-header: Error 1 ${after} s after the header (< 1 s, not at the 5 s deadline)"
else
  t_fail "huge-header: answered within 1 s of the header" "answer_after=$after $(show huge-header)"
fi
t_grep "huge-header: refused record in the log" "$T_DIR/serve.log" 'event=refused transport=ke .*reason=bad-request'

# --- item 19: the client's AEAD order decides ---------------------------------
probe aead17-15
grep -q '^rec type=4 crit=1 len=2 aead=17$' "$T_DIR/r-aead17-15" && grep -q '^cookies=8$' "$T_DIR/r-aead17-15" \
  && t_ok "AEAD {17, 15}: 17 chosen, 8 cookies" || t_fail "AEAD {17, 15}: 17 chosen" "$(show aead17-15)"
grep -q '^rec type=4 crit=1 len=2 aead=15$' "$T_DIR/r-good" && grep -q '^cookies=8$' "$T_DIR/r-good" \
  && t_ok "AEAD {15, 17}: 15 chosen, 8 cookies" || t_fail "AEAD {15, 17}: 15 chosen" "$(show good)"
# nts-serve really serves 17: nts-ke offering 17 first gets it, and nts-poll's
# exchanges with those keys are authenticated; 15 first still gets 15
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
for order in 17,15 15,17; do
  want=${order%%,*}
  "$KE" --ca "$CA" --aead $order localhost:$KEP >"$T_DIR/s-$want" 2>"$T_DIR/s-$want.err"; rc=$?
  a=$(field aead <"$T_DIR/s-$want")
  [ $rc = 0 ] && [ "$a" = "$want" ] && t_ok "nts-ke --aead $order: session with AEAD $want" \
    || t_fail "nts-ke --aead $order: session with AEAD $want" "rc=$rc aead=$a $(cat "$T_DIR/s-$want.err")"
  "$POLL" --count 2 --spacing 0.1 --timeout 2 <"$T_DIR/s-$want" >"$T_DIR/p-$want" 2>"$T_DIR/p-$want.err"; rc=$?
  n=$(grep -c "^sample .*auth=nts aead=$want " "$T_DIR/p-$want")
  [ $rc = 0 ] && [ "$n" = 2 ] && t_ok "AEAD $want: 2 authenticated samples from nts-serve" \
    || t_fail "AEAD $want: 2 authenticated samples" "rc=$rc n=$n $(head -3 "$T_DIR/p-$want.err")"
done

t_stop serve
if grep -q -E 'Sanitizer|runtime error' "$T_DIR/serve.log"; then
  t_fail "no sanitizer reports" "$(grep -E 'Sanitizer|runtime error' "$T_DIR/serve.log" | head -3)"
else t_ok "no sanitizer reports"; fi
