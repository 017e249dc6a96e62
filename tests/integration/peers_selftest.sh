#!/bin/sh
# Proves the peer harness under tests/peers/ works on this machine:
#   chrony  NTS server starts; a chronyd -Q one-shot client gets authenticated
#           time from it (NTS-KE Port record honoured); a chrony NTS client
#           (peer_chrony_client) gets 8 cookies and authenticated samples;
#           a faketime'd chrony server is seen 30 s off (each of chronyd
#           -Q's measurements +30 s within delay/2)
#   ntpsec  unpacked from its .deb, runs in a network namespace, answers
#           NTS-KE with ALPN ntske/1 and a verified certificate; chrony in the
#           namespace gets authenticated time from it
#   tor     the shared private Tor network comes up (shared.sh tor-up); SOCKS5
#           CONNECT through the exit (IP and MapAddress name) and through the
#           onion service reach a local TCP service; the control port answers;
#           NTS-KE to chrony through the onion service works; tor-up is
#           idempotent. The measured bootstrap times are printed.
# Ports: chrony 20601/udp + 20740/tcp (the onion's 4460 target), faketime
# chrony 20603/20604, HTTP fixture 20743 (the onion's port 80 target).
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"
. "$NTSKIT_TOP/tests/peers/ntpsec.sh"

PKI=$NTSKIT_TMP/pki
if ! sh "$NTSKIT_TOP/tests/pki/gen.sh" "$PKI" >"$T_DIR/pki.log" 2>&1; then
  t_fail "test PKI" "tests/pki/gen.sh failed: $(tail -1 "$T_DIR/pki.log")"
  exit 0
fi
CA=$PKI/root.crt CHAIN=$PKI/ec256.fullchain.pem KEY=$PKI/ec256.pkcs8.key

# ntske_probe SOCKSPORT|- HOST PORT CAFILE SNI: one NTS-KE exchange (python3
# ssl, optionally through SOCKS5 with the host name); prints a summary line.
cat >"$T_DIR/ntske_probe.py" <<'EOF'
import socket, ssl, struct, sys
socks, host, port, ca, sni = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
try:
    if socks != "-":
        s = socket.create_connection(("127.0.0.1", int(socks)), timeout=40)
        s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
        h = host.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack(">H", port))
        r = s.recv(10)
        if r[1] != 0:
            print("socks-rep=%d" % r[1]); sys.exit(1)
    else:
        s = socket.create_connection((host, port), timeout=10)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["ntske/1"])
    t = ctx.wrap_socket(s, server_hostname=sni)
    req = struct.pack(">HHH", 0x8001, 2, 0) + struct.pack(">HHH", 0x8004, 2, 15) + struct.pack(">HH", 0x8000, 0)
    t.sendall(req)
    data = b""
    while True:
        try:
            d = t.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not d:
            break
        data += d
        if data.endswith(b"\x80\x00\x00\x00"):
            break
    recs, i = [], 0
    while i + 4 <= len(data):
        ty, ln = struct.unpack(">HH", data[i:i + 4]); recs.append((ty, data[i + 4:i + 4 + ln])); i += 4 + ln
    cookies = [b for ty, b in recs if ty & 0x7fff == 5]
    port_rec = [struct.unpack(">H", b)[0] for ty, b in recs if ty & 0x7fff == 7]
    aead = [struct.unpack(">H", b)[0] for ty, b in recs if ty & 0x7fff == 4 and len(b) == 2]
    print("alpn=%s aead=%s port=%s cookies=%d cookie-len=%s" % (t.selected_alpn_protocol(),
          aead[0] if aead else "-", port_rec[0] if port_rec else "-", len(cookies),
          len(cookies[0]) if cookies else "-"))
except Exception as e:
    print("error: %s" % e); sys.exit(1)
EOF
ntske_probe() { python3 "$T_DIR/ntske_probe.py" "$@"; }

# ---------------------------------------------------------------- chrony
CHRONY_UP=
if ! t_is_root; then
  t_skip "chrony peers: chronyd -u root needs root"
elif ! command -v chronyd >/dev/null 2>&1; then
  t_skip "chrony peers: chronyd not installed"
else
  t0=$(date +%s.%N)
  if peer_chrony_server "$T_DIR/srv" 20601 20740 "$CHAIN" "$KEY"; then
    echo "# chronyd server listening after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s"
    t_ok "chrony NTS server listens on 20601/udp and 20740/tcp"
    CHRONY_UP=1
  else
    t_fail "chrony NTS server listens on 20601/udp and 20740/tcp" "$PEER_WHY"
  fi
fi
if [ -n "$CHRONY_UP" ]; then
  peer_chrony_oneshot "$T_DIR/q" localhost 20740 "$CA" 10 >"$T_DIR/q.out"; rc=$?
  if [ $rc -eq 0 ] && grep -q 'System clock wrong by' "$T_DIR/q.out"; then
    t_ok "chronyd -Q gets authenticated NTS time from the chrony server"
  else
    t_fail "chronyd -Q gets authenticated NTS time from the chrony server" "rc $rc: $(tr '\n' '|' <"$T_DIR/q.out" | tail -c 300)"
  fi
  t_grep "chronyd -Q follows the NTS-KE Port record (20601)" "$T_DIR/q.out" 'changed port to 20601'

  if peer_chrony_client "$T_DIR/cli" localhost 20740 "$CA" && peer_chrony_wait_auth "$T_DIR/cli" 15; then
    t_ok "chrony NTS client (peer_chrony_client) gets authenticated samples"
  else
    t_fail "chrony NTS client (peer_chrony_client) gets authenticated samples" "$PEER_WHY"
  fi
  peer_chrony_authdata "$T_DIR/cli" >"$T_DIR/authdata.out" 2>&1
  # Name Mode KeyID Type KLen Last Atmp NAK Cook CLen
  t_grep "chronyc authdata: NTS, AEAD 15, 8 cookies of 100 bytes" "$T_DIR/authdata.out" \
    'NTS +[0-9]+ +15 +256 +[0-9]+ +[0-9]+ +[0-9]+ +8 +100'
  peer_chrony_serverstats "$T_DIR/srv" >"$T_DIR/serverstats.out" 2>&1
  t_grep "chronyc serverstats counts NTS-KE connections" "$T_DIR/serverstats.out" 'NTS-KE connections accepted *: *[1-9]'
  if awk -F: '/Authenticated NTP packets/ { exit !($2 + 0 > 0) }' "$T_DIR/serverstats.out"; then
    t_ok "chronyc serverstats counts authenticated NTP packets"
  else
    t_fail "chronyc serverstats counts authenticated NTP packets" "$(tr '\n' '|' <"$T_DIR/serverstats.out")"
  fi
  t_stop chrony-cli

  ntske_probe - 127.0.0.1 20740 "$CA" nts.test >"$T_DIR/probe.out" 2>&1
  t_grep "NTS-KE to chrony directly: ALPN ntske/1, AEAD 15, Port 20601, 8 cookies" "$T_DIR/probe.out" \
    '^alpn=ntske/1 aead=15 port=20601 cookies=8 cookie-len=100$'

  if command -v faketime >/dev/null 2>&1; then
    if peer_chrony_server "$T_DIR/fake" 20603 20604 "$CHAIN" "$KEY" +30s; then
      peer_chrony_oneshot "$T_DIR/qf" localhost 20604 "$CA" 10 "logdir $T_DIR/qf" "log measurements" >"$T_DIR/qf.out"
      t_grep "faketime'd chrony server (+30s) is seen 30 s off" "$T_DIR/qf.out" 'wrong by (29\.9|30\.0)[0-9]* seconds'
      # each measurement as a sample record (measurements.log: $12 offset,
      # server minus local as in "wrong by" above; $13 peer delay), printed
      # as %.3e: 30 s to 0.01 s, so 5 ms of rounding (15 s off still fails)
      awk '$1 ~ /^[0-9][0-9][0-9][0-9]-/ && NF >= 13 { printf "sample source=qf offset=%.9f delay=%s\n", $12, $13 }' \
        "$T_DIR/qf/measurements.log" >"$T_DIR/qf.samples" 2>/dev/null
      t_offsets_near "faketime'd chrony server (+30s): chronyd -Q measures +30 s within delay/2" "$T_DIR/qf.samples" 30 "" 0.005
    else
      t_fail "faketime'd chrony server starts" "$PEER_WHY"
    fi
    t_stop chrony-fake
  else
    t_skip "faketime not installed"
  fi
fi

# ---------------------------------------------------------------- ntpsec
if ! t_is_root; then
  t_skip "ntpsec peer: needs root (network namespace)"
elif ! peer_ntpsec_prepare; then
  t_skip "ntpsec peer: $PEER_WHY"
else
  t_ok "ntpsec unpacked from its .deb ($("$PEER_NTPSEC_NTPD" --version 2>&1 | head -1))"
  NS=ntskit-g$$
  if ! t_netns "$NS"; then
    t_fail "network namespace for ntpsec" "ip netns add $NS failed"
  elif ! peer_ntpsec_server "$NS" "$T_DIR/ntpsec" "$CHAIN" "$KEY"; then
    t_fail "ntpsec NTS server starts in a network namespace" "$PEER_WHY"
  else
    t_ok "ntpsec NTS server starts in a network namespace"
    if grep -q 'CapEff:.*' "/proc/$(t_pid "ntpsec-$NS")/status" 2>/dev/null; then
      capeff=$(awk '/^CapEff/{print $2}' "/proc/$(t_pid "ntpsec-$NS")/status")
      # CAP_SYS_TIME is bit 25
      if [ $((0x$capeff >> 25 & 1)) -eq 0 ]; then
        t_ok "ntpsec runs without CAP_SYS_TIME (CapEff $capeff)"
      else
        t_fail "ntpsec runs without CAP_SYS_TIME" "CapEff $capeff"
      fi
    fi
    ip netns exec "$NS" openssl s_client -connect 127.0.0.1:4460 -servername localhost -alpn ntske/1 \
      -CAfile "$CA" -verify_return_error </dev/null >"$T_DIR/ntpsec-sclient.out" 2>&1
    t_grep "ntpsec answers NTS-KE TLS with ALPN ntske/1" "$T_DIR/ntpsec-sclient.out" '^ALPN protocol: ntske/1'
    t_grep "ntpsec's certificate chain verifies against the test root" "$T_DIR/ntpsec-sclient.out" 'Verify return code: 0 \(ok\)'
    # the NTS-KE records NTPsec sends: AEAD 15, no Port record, 8 cookies of 104 bytes
    ip netns exec "$NS" python3 "$T_DIR/ntske_probe.py" - 127.0.0.1 4460 "$CA" localhost >"$T_DIR/ntpsec-probe.out" 2>&1
    t_grep "NTS-KE to ntpsec: ALPN ntske/1, AEAD 15, no Port record, 8 cookies of 104 bytes" "$T_DIR/ntpsec-probe.out" \
      '^alpn=ntske/1 aead=15 port=- cookies=8 cookie-len=104$'
    mkdir -p "$T_DIR/qn/run"
    sleep 2   # ntpsec synchronises to its local clock ~1.5 s after start
    ip netns exec "$NS" chronyd -Q -t 20 -u root "server 127.0.0.1 nts iburst maxsamples 2" "maxdistance 16" \
      "ntstrustedcerts $CA" "ntsdumpdir $T_DIR/qn" "pidfile $T_DIR/qn/run/q.pid" \
      "bindcmdaddress $T_DIR/qn/run/q.sock" "cmdport 0" >"$T_DIR/qn.out" 2>&1
    t_grep "chronyd -Q in the namespace gets authenticated NTS time from ntpsec" "$T_DIR/qn.out" 'System clock wrong by'
  fi
  # ntpsec as an NTS client of chrony, both in a second namespace
  NS2=ntskit-g2$$
  if [ -n "$CHRONY_UP" ] && t_netns "$NS2"; then
    if PEER_CHRONY_NETNS=$NS2 peer_chrony_server "$T_DIR/srv2" 20601 20740 "$CHAIN" "$KEY" &&
       peer_ntpsec_client "$NS2" "$T_DIR/ntpsec-cli" localhost:20740 "$CA" &&
       peer_ntpsec_wait_log "$T_DIR/ntpsec-cli" 'NTSc: Got 8 cookies, length 100, aead=15' 15; then
      t_ok "ntpsec NTS client (peer_ntpsec_client) gets 8 cookies from chrony in a namespace"
      i=0
      while [ $i -lt 40 ]; do
        PEER_CHRONY_NETNS=$NS2 peer_chrony_serverstats "$T_DIR/srv2" >"$T_DIR/ss2.out" 2>&1
        awk -F: '/Authenticated NTP packets/ { exit !($2 + 0 > 0) }' "$T_DIR/ss2.out" && break
        sleep 0.5; i=$((i + 1))
      done
      t_grep "chrony (in the namespace) counts authenticated NTP packets from the ntpsec client" "$T_DIR/ss2.out" \
        'Authenticated NTP packets *: *[1-9]'
    else
      t_fail "ntpsec NTS client (peer_ntpsec_client) gets 8 cookies from chrony in a namespace" "$PEER_WHY"
    fi
  fi
fi

# ---------------------------------------------------------------- tor
if ! command -v tor >/dev/null 2>&1 || ! command -v tor-gencert >/dev/null 2>&1; then
  t_skip "tor network: tor not installed"
else
  t0=$(date +%s)
  if ! env_out=$(sh "$NTSKIT_TOP/tests/peers/shared.sh" tor-up 2>"$T_DIR/torup.err"); then
    t_fail "private Tor network comes up (shared.sh tor-up)" "$(tail -1 "$T_DIR/torup.err")"
  else
    eval "$env_out"
    echo "# tor: client bootstrapped after ${TOR_BOOTSTRAP_S} s, onion reachable after ${TOR_ONION_S} s (tor-up took $(($(date +%s) - t0)) s in all)"
    t_ok "private Tor network comes up (shared.sh tor-up): onion $TOR_ONION"
    mkdir -p "$T_DIR/www" && echo "hello-from-ntskit-$$" >"$T_DIR/www/hello.txt"
    t_bg www python3 -m http.server 20743 --bind 127.0.0.1 --directory "$T_DIR/www"
    t_wait_tcp 127.0.0.1 20743 5 || t_fail "HTTP fixture on 20743" "not listening"
    get() { printf 'GET /hello.txt HTTP/1.0\r\nHost: x\r\n\r\n' | timeout 45 nc -X 5 -x "$TOR_SOCKS" "$1" "$2" 2>&1; }
    for target in "127.0.0.1 20743 exit-to-IP" "nts.test 20743 exit-to-MapAddress-name" "$TOR_ONION 80 onion-service"; do
      set -- $target
      out=$(get "$1" "$2" | tail -1)
      if [ "$out" = "hello-from-ntskit-$$" ]; then
        t_ok "SOCKS5 CONNECT through Tor reaches a local TCP service ($3)"
      else
        t_fail "SOCKS5 CONNECT through Tor reaches a local TCP service ($3)" "got '$out'"
      fi
    done
    . "$NTSKIT_TOP/tests/peers/tor.sh"
    peer_tor_ctl "$TOR_NET" GETINFO circuit-status >"$T_DIR/circ.out" 2>&1
    t_grep "Tor control port (cookie auth) lists built circuits" "$T_DIR/circ.out" '^[0-9]+ BUILT '
    rep=$(peer_tor_socks_rep 20721 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion" 80)
    if [ "$rep" = 246 ]; then
      t_ok "ExtendedErrors SOCKS port answers 0xF6 for a malformed onion address"
    else
      t_fail "ExtendedErrors SOCKS port answers 0xF6 for a malformed onion address" "REP $rep"
    fi
    if [ -n "$CHRONY_UP" ]; then
      ntske_probe 20720 "$TOR_ONION" 4460 "$CA" nts.test >"$T_DIR/onion-probe.out" 2>&1
      t_grep "NTS-KE to chrony through the onion service (4460 -> 20740)" "$T_DIR/onion-probe.out" \
        '^alpn=ntske/1 aead=15 port=20601 cookies=8 cookie-len=100$'
    fi
    # every socket of every tor process is on loopback (the exit's DNS included)
    pids=$(cat "$TOR_NET"/*/tor.pid 2>/dev/null | tr '\n' ' ')
    ss -tunapH 2>/dev/null >"$T_DIR/ss.out"
    offlo=$(for p in $pids; do grep "pid=$p," "$T_DIR/ss.out"; done |
      awk '{ l = $5; r = $6; if ((l !~ /^(127\.|\[::1\]|\[::ffff:127\.)/) || (r !~ /^(127\.|\[::1\]|\[::ffff:127\.|\*:|0\.0\.0\.0:)/)) print }')
    if [ -n "$pids" ] && [ -z "$offlo" ]; then
      t_ok "every tor socket is on loopback ($(for p in $pids; do grep -c "pid=$p," "$T_DIR/ss.out"; done | awk '{s+=$1} END {print s}') sockets)"
    else
      t_fail "every tor socket is on loopback" "$(echo "$offlo" | head -3 | tr '\n' '|')"
    fi
    t1=$(date +%s)
    again=$(sh "$NTSKIT_TOP/tests/peers/shared.sh" tor-up 2>&1)
    if [ "$(echo "$again" | sed -n 's/^TOR_ONION=//p')" = "$TOR_ONION" ] && [ $(($(date +%s) - t1)) -le 3 ]; then
      t_ok "shared.sh tor-up is idempotent within a run"
    else
      t_fail "shared.sh tor-up is idempotent within a run" "$(echo "$again" | tail -1)"
    fi
  fi
fi
# tests/helpers/tor_streams.py against a fake control port that goes quiet for
# 1.5 s between events: every event must still be counted (a reader on a
# socket.makefile() with a timeout once lost all events after the first quiet
# second, and a CI run with them)
cat >"$T_DIR/fakectl.py" <<'EOF'
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
open(sys.argv[1], "w").write("%d\n" % l.getsockname()[1])
c, _ = l.accept(); f = c.makefile("rb")
for _ in range(2):
    f.readline(); c.sendall(b"250 OK\r\n")
for i, (gap, circ) in enumerate([(0.2, 5), (1.5, 7), (1.5, 9)]):
    time.sleep(gap)
    c.sendall(b"650 STREAM %d SENT 0 a.test:1\r\n650 STREAM %d SUCCEEDED %d a.test:%d PURPOSE=USER\r\n" % (40 + i, 40 + i, circ, i))
time.sleep(2)
EOF
printf 'x' >"$T_DIR/fakectl.cookie"
python3 "$T_DIR/fakectl.py" "$T_DIR/fakectl.port" &
fpid=$!
i=0
until [ -s "$T_DIR/fakectl.port" ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
out=$(python3 "$NTSKIT_TOP/tests/helpers/tor_streams.py" "127.0.0.1:$(cat "$T_DIR/fakectl.port" 2>/dev/null)" \
  "$T_DIR/fakectl.cookie" 20 -- sleep 3.6 2>&1)
frc=$?
kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
if [ "$frc" -eq 0 ] && echo "$out" | grep -q '^3 streams on 3 distinct circuits'; then
  t_ok "tor_streams.py keeps every event across 1.5 s quiet spells (3 streams on 3 circuits)"
else
  t_fail "tor_streams.py keeps every event across 1.5 s quiet spells" "exit $frc: $(echo "$out" | tr '\n' '|')"
fi
exit 0
