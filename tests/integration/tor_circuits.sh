#!/bin/sh
# Several Tor circuits per source, and an NTS-KE retried on a fresh circuit
# (issue 16, items 1 and 4), through the shared private Tor network
# (tests/peers/shared.sh; its exit reaches 127.0.0.0/8):
#
#   chrony      NTS-KE 127.0.0.1:24401, NTP 127.0.0.1:24400/udp
#   stall       tests/helpers/tcp_forward.py 127.0.0.1:24402 -> 24401 that
#               holds what chrony sends on the FIRST connection for 3 s (a
#               stalled circuit); chrony gives a session 2 s, so that
#               handshake cannot finish
#   nts-serve   TCP relay 127.0.0.1:24403 (--relay-allow chrony's NTP)
#   tap         tcp_forward.py 127.0.0.1:24404 -> 24403 keeping what each
#               stream carried to the relay (--dump): the cookies sent
#
# Cases:
#  - KE retry: nts-ke through Tor (isolation) to the stall port: the first
#    handshake breaks off, nts-ke says so (--explain) and retries once on a
#    fresh circuit; a session, two streams on two distinct Tor circuits
#    (control port, tests/helpers/tor_streams.py). The old nts-ke failed here.
#  - circuits: nts-poll with [proxy] isolate = yes and the relay, circuits
#    auto (8 through Tor for one source), --count 1: 8 samples via=tor
#    labelled circuit=1..8, 8 streams on 8 distinct circuits, 8 relay streams
#    each carrying one request with its own cookie (8 distinct: the whole
#    jar), chrony counted exactly the 8 authenticated requests the relay
#    passed on (nothing else reached it);
#  - refusals: more than one circuit without isolation (flag: exit 64; file:
#    exit 78), circuits out of range (exit 64), no network needed.
# Ports: 24400-24405 (24405 stays closed).
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"
KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll SERVE=$NTSKIT_BIN/nts-serve
t_need_bins "$KE" "$POLL" "$SERVE"
command -v tor >/dev/null 2>&1 || { t_skip "tor not installed"; exit 0; }
NTP=24400 CKE=24401 STALL=24402 RELAY=24403 TAP=24404 CLOSED=24405
for p in $NTP $CKE $STALL $RELAY $TAP $CLOSED; do
	t_port_free $p || { t_skip "port $p is in use (another test running?)"; exit 0; }
done
# circuits = auto through Tor for one source (NK_POLL_TOR_CIRCUITS)
N=8
T0=$(date +%s.%N)
el() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- refusals (no network) -----------------------------------------------------
printf '[poll]\ncircuits = 4\n' >"$T_DIR/noiso.conf"
: | "$POLL" --circuits 4 >/dev/null 2>"$T_DIR/r1.err"; r1=$?
: | "$POLL" --config "$T_DIR/noiso.conf" >/dev/null 2>"$T_DIR/r2.err"; r2=$?
: | "$POLL" --circuits 9 >/dev/null 2>"$T_DIR/r3.err"; r3=$?
if [ $r1 = 64 ] && grep -q 'circuits 4: more than one circuit needs a SOCKS5 proxy with stream isolation' "$T_DIR/r1.err" &&
   [ $r2 = 78 ] && grep -q '\[poll\] circuits = 4: more than one circuit needs' "$T_DIR/r2.err" &&
   [ $r3 = 64 ] && grep -q "circuits.*'9'.*1 to 8" "$T_DIR/r3.err"; then
	t_ok "circuits refused without isolation (flag exit 64, file exit 78) and out of range (exit 64)"
else
	t_fail "circuits refusals" "$r1 $r2 $r3: $(cat "$T_DIR"/r[123].err | tr '\n' '|')"
fi

# --- Tor, servers ---------------------------------------------------------------
if ! out=$(sh "$NTSKIT_TOP/tests/peers/shared.sh" tor-up 2>"$T_DIR/tor.err"); then
	t_fail "private Tor network up" "$(cat "$T_DIR/tor.err")"; exit 0
fi
eval "$out"
peer_chrony_test_server $NTP $CKE
CA=$T_DIR/pki/root.crt
t_bg stall python3 "$NTSKIT_TOP/tests/helpers/tcp_forward.py" 127.0.0.1:$STALL 127.0.0.1:$CKE --hold-first 3
t_bg serve "$SERVE" --tcp-listen 127.0.0.1:$RELAY --relay-allow 127.0.0.1:$NTP
mkdir "$T_DIR/tap"
t_bg tap python3 "$NTSKIT_TOP/tests/helpers/tcp_forward.py" 127.0.0.1:$TAP 127.0.0.1:$RELAY --dump "$T_DIR/tap"
if t_wait_tcp 127.0.0.1 $STALL 10 && t_wait_tcp 127.0.0.1 $RELAY 10 && t_wait_tcp 127.0.0.1 $TAP 10; then
	t_ok "Tor up, chrony (KE $CKE, NTP $NTP), stalling forwarder $STALL, relay $RELAY behind tap $TAP ($(el "$T0") s)"
else
	t_fail "servers up" "$(tail -2 "$T_DIR/stall.log" "$T_DIR/serve.log" "$T_DIR/tap.log" | tr '\n' '|')"; exit 0
fi

# --- NTS-KE retried on a fresh circuit -------------------------------------------
t1=$(date +%s.%N)
# the command's own exit status (tor_streams.py's also counts the streams)
RCF=$T_DIR/ke.rc python3 "$NTSKIT_TOP/tests/helpers/tor_streams.py" "$TOR_CONTROL" "$TOR_COOKIE" 60 -- \
	sh -c '"$0" "$@"; echo $? >"$RCF"' \
	"$KE" --ca "$CA" --name nts.test --socks5 "$TOR_SOCKS" --tor-isolate --timeout 24 --explain \
	127.0.0.1:$STALL >"$T_DIR/s1" 2>"$T_DIR/ke.err"
src=$(cat "$T_DIR/ke.rc" 2>/dev/null || echo none)
kes=$(el "$t1")
grep -v '^session ' "$T_DIR/s1" | sed 's/^/# /'
ns=$(grep -c "^stream .* to 127\.0\.0\.1[^ ]*:$STALL on circuit" "$T_DIR/s1")
nc=$(grep "^stream .* to 127\.0\.0\.1[^ ]*:$STALL on circuit" "$T_DIR/s1" | awk '{ print $NF }' | sort -u | grep -c .)
grep '^session ' "$T_DIR/s1" >"$T_DIR/sess"
if [ $src = 0 ] && grep -q "^session .* ntp=127\.0\.0\.1:$NTP " "$T_DIR/sess" && [ "$ns" = 2 ] && [ "$nc" = 2 ]; then
	t_ok "NTS-KE through Tor with a stalled first circuit: a session in $kes s, 2 streams on 2 distinct circuits"
else
	t_fail "NTS-KE retried on a fresh circuit" "exit $src after $kes s, $ns streams on $nc circuits: $(grep -v 'TLS:\|NTS-KE \(sent\|received\)' "$T_DIR/ke.err" | tail -4 | tr '\n' '|')"
fi
t_grep "nts-ke --explain says it retried on a fresh circuit" "$T_DIR/ke.err" \
	'broke off .*retrying once on a fresh Tor circuit \(a new SOCKS5 isolation login\)'
grep -q '^conn 1 .*(held 3\.0 s)' "$T_DIR/stall.log" && grep -q '^conn 2 from' "$T_DIR/stall.log" &&
	t_ok "the forwarder held the first connection, the second went through" ||
	t_fail "forwarder saw the two connections" "$(tr '\n' '|' <"$T_DIR/stall.log")"

# --- N circuits ----------------------------------------------------------------------
cat >"$T_DIR/poll.conf" <<EOF
[proxy]
socks5 = $TOR_SOCKS
isolate = yes
relay = 127.0.0.1:$TAP
EOF
t2=$(date +%s.%N)
python3 "$NTSKIT_TOP/tests/helpers/tor_streams.py" "$TOR_CONTROL" "$TOR_COOKIE" 60 -- \
	sh -c '"$0" --config "$1" --count 1 --timeout 15 --explain <"$2" >"$3" 2>"$4"; echo $? >"$3.rc"' \
	"$POLL" "$T_DIR/poll.conf" "$T_DIR/sess" "$T_DIR/p1" "$T_DIR/p1.err" >"$T_DIR/streams2" 2>&1
prc=$(cat "$T_DIR/p1.rc" 2>/dev/null || echo none)
ps=$(el "$t2")
sed 's/^/# /' "$T_DIR/streams2"
sed 's/^/# /' "$T_DIR/p1"
n=$(grep -c "^sample .*auth=nts .*via=tor circuit=[1-8] " "$T_DIR/p1")
ks=$(sed -n 's/.* circuit=\([0-9]*\) .*/\1/p' "$T_DIR/p1" | sort | tr '\n' ' ')
if [ $prc = 0 ] && [ "$n" = $N ] && [ "$ks" = "$(seq 1 $N | tr '\n' ' ')" ] && [ "$(grep -c . "$T_DIR/p1")" = $N ]; then
	t_ok "circuits auto through Tor: $N samples via=tor, circuit=1..$N, in $ps s"
else
	t_fail "$N samples via=tor labelled circuit=1..$N" "exit $prc, $n samples, circuits '$ks': $(grep -v '^nts-poll:   ' "$T_DIR/p1.err" | tail -4 | tr '\n' '|')"
fi
ns=$(grep -c "^stream .* to 127\.0\.0\.1[^ ]*:$TAP on circuit" "$T_DIR/streams2")
nc=$(grep "^stream .* to 127\.0\.0\.1[^ ]*:$TAP on circuit" "$T_DIR/streams2" | awk '{ print $NF }' | sort -u | grep -c .)
[ "$ns" = $N ] && [ "$nc" = $N ] && t_ok "Tor control port: $N relay streams on $N distinct circuits" ||
	t_fail "$N streams on $N distinct circuits" "$ns streams on $nc circuits: $(tr '\n' '|' <"$T_DIR/streams2")"
t_grep "--explain: $N circuits, each its own isolation login" "$T_DIR/p1.err" \
	": $N circuits at once, each its own SOCKS5 isolation login"
# the cookies as the relay received them: one frame a stream (2-octet length,
# RFC 1928 UDP header, NTP request); the NTS Cookie field is type 0x0204
python3 - "$T_DIR/tap" >"$T_DIR/cookies" <<'EOF'
import os, struct, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    b = open(os.path.join(d, f), "rb").read()
    while len(b) >= 2:
        n = struct.unpack("!H", b[:2])[0]
        fr, b = b[2:2 + n], b[2 + n:]
        atyp = fr[3]
        hl = 4 + {1: 4, 4: 16}.get(atyp, 1 + (fr[4] if len(fr) > 4 else 0)) + 2
        p, off = fr[hl:], 48
        while off + 4 <= len(p):
            t, l = struct.unpack("!HH", p[off:off + 4])
            if l < 4:
                break
            if t == 0x0204:
                print("stream %s cookie %s" % (f, p[off + 4:off + l].hex()))
            off += l
EOF
nk=$(grep -c ' cookie ' "$T_DIR/cookies")
nd=$(awk '{ print $4 }' "$T_DIR/cookies" | sort -u | grep -c .)
nst=$(awk '{ print $2 }' "$T_DIR/cookies" | sort -u | grep -c .)
[ "$nk" = $N ] && [ "$nd" = $N ] && [ "$nst" = $N ] && t_ok "the relay received $N requests on $N streams with $N distinct cookies" ||
	t_fail "$N distinct cookies, one per stream" "$nk cookies ($nd distinct) on $nst streams"
an=$(peer_chrony_serverstats "$T_DIR/c1" 2>/dev/null | awk -F: '/Authenticated NTP packets/ { gsub(/ /, "", $2); print $2 }')
[ "${an:-0}" = $N ] && t_ok "chrony answered exactly $N authenticated requests: all came through the relay" ||
	t_fail "chrony counted $N authenticated requests" "${an:-?}"

# auto shares 40 circuits among more than 5 sources: 6 sources get 6 each
# (the proxy port is closed: only the plan is checked, nothing is sent)
for k in 1 2 3 4 5 6; do sed -n "s/^session source=[^ ]* /session source=s$k /p" "$T_DIR/sess"; done >"$T_DIR/sess6"
printf '[proxy]\nsocks5 = 127.0.0.1:%s\nisolate = yes\nrelay = 127.0.0.1:%s\n' $CLOSED $TAP >"$T_DIR/poll6.conf"
"$POLL" --config "$T_DIR/poll6.conf" --count 1 --timeout 2 --explain <"$T_DIR/sess6" >/dev/null 2>"$T_DIR/p6.err"
n6=$(grep -c '^nts-poll: s[1-6]: 6 circuits at once' "$T_DIR/p6.err")
[ "$n6" = 6 ] && t_ok "circuits auto with 6 sources through Tor: 6 each (40 in all at most)" ||
	t_fail "6 sources: 6 circuits each" "$n6 sources said so: $(grep 'circuits at once' "$T_DIR/p6.err" | head -2 | tr '\n' '|')"

t_stop tap
t_stop serve
t_stop stall
t_stop chrony-c1
if grep -l -E 'Sanitizer|runtime error' "$T_DIR"/*.err "$T_DIR"/serve.log >/dev/null 2>&1; then
	t_fail "no sanitizer reports" "$(grep -h -E 'Sanitizer|runtime error' "$T_DIR"/*.err "$T_DIR"/serve.log | head -3)"
else
	t_ok "no sanitizer reports"
fi
echo "# total $(el "$T0") s"
