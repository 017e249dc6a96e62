#!/bin/sh
# Leak-free through Tor, proven (issue 9, "What it must show" 2; DESIGN.md
# REQ-001 and REQ-003).
#
# Outside the client (root namespace, loopback): the private Tor network
# (tests/peers/shared.sh), three chrony NTS servers and nts-serve's TCP
# relay (plain NTP off) published by the onion service:
#   chrony A   NTS-KE 127.0.0.1:20740 = ONION:4460, NTP 127.0.0.1:21400/udp;
#              "ntsntpserver 127.0.0.1" so its sessions name an NTP address
#              the relay can reach (without it they would name the .onion
#              name, which nts-serve answers itself)
#   chrony B   NTS-KE 127.0.0.1:21403, reached through Tor's exit (which
#              exits to 127.0.0.0/8 only) by address, NTP 127.0.0.1:21402/udp
#   chrony C   NTS-KE 127.0.0.1:21405, reached through Tor's exit by the name
#              nts.test (the client's Tor maps it to 127.0.0.1), NTP
#              127.0.0.1:21404/udp, "ntsntpserver 127.0.0.1" as A
#   nts-serve  --tcp-listen 127.0.0.1:20742 = ONION:4123, --relay-allow the
#              three chrony NTP ports
# Three sources, not two: RFC 5905 selection (nts-select) with two sources
# rejects both whenever one midpoint lies outside the other's interval, which
# Tor's 10-100 ms of jitter makes happen now and then; with three, two must
# agree.
# The client: its own network namespace whose only interface besides lo is
# one end of a veth pair, 169.254.214.2/30; no default route, no IPv6 (turned
# off on both ends, so no neighbour discovery either), no DNS server
# reachable. The proxy, as the client sees it, is 169.254.214.1:21401 on the
# other end: tests/helpers/tcp_forward.py, relaying to Tor's SocksPort
# 127.0.0.1:20720 (which is not reachable from the namespace; checked).
#
# Cases:
#  - the namespace is closed: one route (the veth /30), no IPv6, Tor's
#    SocksPort and an outside address unreachable, the proxy reachable;
#  - nts-sync --dry-run in the namespace (KE via the exit and via the onion
#    service, NTP via the relay on the onion service, isolate = yes,
#    min-agree 2) writes samples from the three sources, an offset record and a
#    dry-run adjust record;
#  - the three chronyd served the run (NTS-KE connections, authenticated NTP
#    packets) and saw only 127.0.0.1 as client address, never the client's;
#  - tshark on the client's veth (in the namespace) during that run. What
#    may appear besides the proxy connections: ARP only (IPv6 is off on both
#    ends, so there is no neighbour or router discovery to allow). Every
#    other frame must be TCP between the client and the proxy address and
#    port: no UDP, no DNS, no IPv6, no other destination;
#  - the SOCKS5 requests inside those connections (tests/helpers/
#    socks5_requests.py): CONNECT only, the onion name sent as a name (the
#    proxy resolves it), one fresh username per connection;
#  - per-source isolation: Tor's control port (tests/helpers/tor_streams.py)
#    shows each of the run's streams on its own circuit (Tor's own directory
#    streams, which it also reports, are left out);
#  - fail closed: with the forwarder stopped, nts-sync fails (non-zero exit,
#    no offset, a message naming the proxy), for a fresh state (nts-ke cannot
#    connect) and for a state with cookies (nts-poll cannot connect); the
#    capture of those runs has no frame to or from any address but the
#    proxy's (SYNs to it, RSTs from it).
# nts-adjust runs with --dry-run only, and the whole client under
# capsh --drop=cap_sys_time: nothing here can touch the clock.
# Ports: 20740 and 20742 (onion targets, shared.sh); 21400-21405.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

SYNC=$NTSKIT_TOP/scripts/nts-sync
NTP_A=21400 KE_A=20740 FWD_PORT=21401 NTP_B=21402 KE_B=21403 NTP_C=21404 KE_C=21405 RELAY=20742
HOSTV=169.254.214.1 CLIV=169.254.214.2
NS=nkl$$ VH=nklh$$ VC=nklc$$

t_is_root || { t_skip "needs root (network namespace, veth, tshark, chronyd)"; exit 0; }
for b in nts-ke nts-poll nts-select nts-adjust nts-serve; do
	[ -x "$NTSKIT_BIN/$b" ] || { t_skip "$b not built"; exit 0; }
done
for c in tshark chronyd capsh python3 ip; do
	command -v $c >/dev/null 2>&1 || { t_skip "$c not installed"; exit 0; }
done
for p in $KE_A $RELAY $NTP_A $FWD_PORT $NTP_B $KE_B $NTP_C $KE_C; do
	t_port_free $p || { t_skip "port $p is in use (another test running?)"; exit 0; }
done

# the veth pair is removed with the namespace; remove the host end as well in
# case the namespace could not be deleted
trap 'ip link del "$VH" 2>/dev/null; t_cleanup' EXIT

T0=$(date +%s.%N)
el() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- PKI, Tor -------------------------------------------------------------------
t_pki "$T_DIR/pki"
chmod 644 "$T_DIR"/pki/*
CA=$T_DIR/pki/root.crt CERT=$T_DIR/pki/ec256.fullchain.pem KEY=$T_DIR/pki/ec256.sec1.key

if ! out=$(sh "$NTSKIT_TOP/tests/peers/shared.sh" tor-up 2>"$T_DIR/tor.err"); then
	t_fail "private Tor network up" "$(cat "$T_DIR/tor.err")"; exit 0
fi
eval "$out"
t_ok "private Tor network up (bootstrap ${TOR_BOOTSTRAP_S:-?} s, onion ${TOR_ONION_S:-?} s; ready after $(el "$T0") s here)"
TOR_SOCKS_PORT=${TOR_SOCKS##*:}

# --- time servers ----------------------------------------------------------------
# chrony A and C: as tests/peers/chrony.sh's peer_chrony_server, plus
# ntsntpserver. chrony_ntp NAME NTPPORT KEPORT
chrony_ntp() {
	d=$T_DIR/$1
	mkdir -p "$d/run" "$d/ntsdump" && chmod 770 "$d/run"
	{
		echo "# tor_leakfree.sh: chrony $1; its NTS-KE names 127.0.0.1 as NTP server"
		echo "port $2"
		echo "ntsport $3"
		echo "bindaddress 127.0.0.1"
		echo "allow 127.0.0.0/8"
		echo "local stratum 1"
		echo "ntsserverkey $KEY"
		echo "ntsservercert $CERT"
		echo "ntsntpserver 127.0.0.1"
		echo "ntsdumpdir $d/ntsdump"
		echo "ntsprocesses 1"
		echo "bindcmdaddress $d/run/chronyd.sock"
		echo "cmdport 0"
		echo "pidfile $d/run/chronyd.pid"
		echo "driftfile $d/drift"
	} >"$d/chronyd.conf"
	t_bg "chrony-$1" chronyd -d -x -u root -f "$d/chronyd.conf"
	t_wait_tcp 127.0.0.1 "$3" 10 && t_wait_udp 127.0.0.1 "$2" 5
}
chrony_ntp ca $NTP_A $KE_A || { t_fail "chrony A (NTS-KE $KE_A, NTP $NTP_A)" "$(tail -3 "$T_DIR/chrony-ca.log" | tr '\n' '|')"; exit 0; }
peer_chrony_server "$T_DIR/cb" $NTP_B $KE_B "$CERT" "$KEY" ||
	{ t_fail "chrony B (NTS-KE $KE_B, NTP $NTP_B)" "$PEER_WHY"; exit 0; }
chrony_ntp cc $NTP_C $KE_C || { t_fail "chrony C (NTS-KE $KE_C, NTP $NTP_C)" "$(tail -3 "$T_DIR/chrony-cc.log" | tr '\n' '|')"; exit 0; }
t_bg serve "$NTSKIT_BIN/nts-serve" --tcp-listen 127.0.0.1:$RELAY \
	--relay-allow 127.0.0.1:$NTP_A --relay-allow 127.0.0.1:$NTP_B --relay-allow 127.0.0.1:$NTP_C
t_wait_tcp 127.0.0.1 $RELAY 10 || { t_fail "nts-serve relay on $RELAY" "$(tail -3 "$T_DIR/serve.log" | tr '\n' '|')"; exit 0; }
sp=$(t_pid serve)
n=$(ss -lunpH 2>/dev/null | grep -c "pid=$sp,")
[ "$n" -eq 0 ] && t_ok "servers up: chrony A (KE $KE_A = onion 4460), chrony B and C (KE $KE_B, $KE_C via the exit), nts-serve relay on $RELAY = onion 4123, no UDP listener" ||
	t_fail "nts-serve: plain NTP off" "$n UDP sockets"

# --- the client's namespace --------------------------------------------------------
t_netns "$NS" || { t_fail "client namespace" "ip netns add failed"; exit 0; }
ip link add "$VH" type veth peer name "$VC" || { t_fail "veth pair" "ip link add failed"; exit 0; }
ip link set "$VC" netns "$NS"
# no IPv6 on either end: no link-local address, no neighbour/router discovery
sysctl -qw "net.ipv6.conf.$VH.disable_ipv6=1" 2>/dev/null
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$VC.disable_ipv6=1" 2>/dev/null
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
ip addr add $HOSTV/30 dev "$VH" && ip link set "$VH" up
ip -n "$NS" addr add $CLIV/30 dev "$VC" && ip -n "$NS" link set "$VC" up
r4=$(ip -n "$NS" -4 route show table all | grep -v '^local \|^broadcast \|^multicast ' | sed 's/ *$//')
r6=$(ip -n "$NS" -6 route show table all 2>/dev/null | grep -v '^multicast ')
if [ "$(echo "$r4" | grep -c .)" -eq 1 ] && echo "$r4" | grep -q "^169\.254\.214\.0/30 dev $VC .*src $CLIV\$" && [ -z "$r6" ]; then
	t_ok "client namespace: the only route is 169.254.214.0/30 on the veth (no default route, no IPv6)"
else
	t_fail "client namespace: the only route is the veth /30" "ipv4: $(echo "$r4" | tr '\n' '|') ipv6: $(echo "$r6" | tr '\n' '|')"
fi
# nothing but the veth: Tor's SocksPort on the host's loopback and any outside
# address are unreachable from the namespace
probe() { ip netns exec "$NS" python3 -c "import socket; socket.create_connection(('$1', $2), timeout=2)" 2>/dev/null; }
if probe 127.0.0.1 "$TOR_SOCKS_PORT" || probe 1.1.1.1 53; then
	t_fail "client namespace is closed" "it reached Tor's SocksPort 127.0.0.1:$TOR_SOCKS_PORT or 1.1.1.1:53 directly"
else
	t_ok "client namespace is closed: neither Tor's SocksPort 127.0.0.1:$TOR_SOCKS_PORT nor 1.1.1.1:53 reachable"
fi

# the proxy as the client sees it
t_bg fwd python3 "$NTSKIT_TOP/tests/helpers/tcp_forward.py" $HOSTV:$FWD_PORT 127.0.0.1:$TOR_SOCKS_PORT
t_wait_tcp $HOSTV $FWD_PORT 10 || { t_fail "forwarder $HOSTV:$FWD_PORT" "$(cat "$T_DIR/fwd.log")"; exit 0; }
if probe $HOSTV $FWD_PORT; then
	t_ok "proxy $HOSTV:$FWD_PORT (forwarder to Tor's SocksPort) reachable from the client namespace"
else
	t_fail "proxy reachable from the client namespace" "connect to $HOSTV:$FWD_PORT failed"; exit 0
fi
sleep 0.3
fwd_conns0=$(grep -c '^conn [0-9]* from [^ ]*$' "$T_DIR/fwd.log")

# --- client configuration ------------------------------------------------------------
CONF=$T_DIR/ntskit.conf
cat >"$CONF" <<EOF
# written by tor_leakfree.sh: everything through Tor, one circuit per source and NTS-KE, 8 per source for NTP (circuits auto)
[proxy]
socks5 = $HOSTV:$FWD_PORT
isolate = yes
relay = $TOR_ONION:4123

# NTS-KE through Tor's exit
[source exit]
address = 127.0.0.1
ke-port = $KE_B
name = nts.test
ca = $CA

# NTS-KE through Tor's exit, by name: the client's Tor maps nts.test to
# 127.0.0.1 (MapAddress); nothing resolves it locally
[source name]
address = nts.test
ke-port = $KE_C
ca = $CA

# NTS-KE to the onion service
[source onion]
address = $TOR_ONION
ke-port = 4460
name = nts.test
ca = $CA

[ke]
timeout = 90

[poll]
count = 5
spacing = 0.3
timeout = 20

[select]
min-agree = 2
EOF
# client.sh NAME STATEDIR: nts-sync --dry-run in the namespace, without
# CAP_SYS_TIME; NAME.out, NAME.err, NAME.rc, NAME.secs in $T_DIR
cat >"$T_DIR/client.sh" <<EOF
#!/bin/sh
t0=\$(date +%s.%N)
ip netns exec "$NS" capsh --drop=cap_sys_time -- -c 'exec sh "\$0" "\$@"' \\
	"$SYNC" --config "$CONF" --state-dir "\$2" --dry-run >"$T_DIR/\$1.out" 2>"$T_DIR/\$1.err"
rc=\$?
echo \$rc >"$T_DIR/\$1.rc"
awk -v a="\$t0" -v b="\$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' >"$T_DIR/\$1.secs"
exit \$rc
EOF
chmod 755 "$T_DIR/client.sh"

# cap_start NAME / cap_stop NAME: tshark on the client's veth, inside the namespace
cap_start() {
	t_bg "$1" ip netns exec "$NS" tshark -n -i "$VC" -F pcap -w "$T_DIR/$1.pcap"
	i=0
	until grep -q 'Capturing on' "$T_DIR/$1.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1
	done
	sleep 0.5
}
cap_stop() { sleep 1; t_stop "$1"; }
# cap_count NAME FILTER: frames in the capture matching a display filter
cap_count() { tshark -n -r "$T_DIR/$1.pcap" -Y "$2" 2>/dev/null | grep -c .; }

PROXY_TCP="tcp && ((ip.src==$CLIV && ip.dst==$HOSTV && tcp.dstport==$FWD_PORT) || (ip.src==$HOSTV && ip.dst==$CLIV && tcp.srcport==$FWD_PORT))"

# --- run 1: through Tor ------------------------------------------------------------
cap_start cap1 || { t_fail "tshark capture on $VC" "$(cat "$T_DIR/cap1.log")"; exit 0; }
python3 "$NTSKIT_TOP/tests/helpers/tor_streams.py" "$TOR_CONTROL" "$TOR_COOKIE" 400 -- \
	"$T_DIR/client.sh" run1 "$T_DIR/state" >"$T_DIR/streams" 2>&1
cap_stop cap1
rc=$(cat "$T_DIR/run1.rc" 2>/dev/null || echo none) secs=$(cat "$T_DIR/run1.secs" 2>/dev/null || echo ?)
[ "$rc" = 0 ] && t_ok "nts-sync --dry-run through Tor from the namespace: exit 0 in $secs s" ||
	t_fail "nts-sync --dry-run through Tor from the namespace: exit 0" "exit $rc after $secs s: $(tail -c 600 "$T_DIR/run1.err" | tr '\n' '|')"
ne=$(grep -c '^sample source=exit .*auth=nts .*via=tor circuit=[1-8] ' "$T_DIR/run1.out")
nn=$(grep -c '^sample source=name .*auth=nts .*via=tor circuit=[1-8] ' "$T_DIR/run1.out")
no=$(grep -c '^sample source=onion .*auth=nts .*via=tor circuit=[1-8] ' "$T_DIR/run1.out")
[ "$ne" -ge 1 ] && [ "$nn" -ge 1 ] && [ "$no" -ge 1 ] &&
	t_ok "NTS samples via the relay on the onion service: $ne from source exit, $nn from source name, $no from source onion" ||
	t_fail "NTS samples via the relay from the three sources" "exit: $ne, name: $nn, onion: $no; $(tail -c 300 "$T_DIR/run1.err" | tr '\n' '|')"
t_grep "offset record, at least 2 of 3 sources agree" "$T_DIR/run1.out" '^offset t=[0-9.]+ offset=[-+][0-9.]+ error=[0-9.]+ sources=3 agree=[23] '
t_grep "dry run: adjust record, no clock change" "$T_DIR/run1.out" '^adjust .*reason=dry-run'
awk '$1 == "sample" { o = d = e = s = ""; for (i = 2; i <= NF; i++) { split($i, kv, "=")
	if (kv[1] == "source") s = kv[2]; if (kv[1] == "offset") o = kv[2]; if (kv[1] == "delay") d = kv[2]; if (kv[1] == "disp") e = kv[2] }
	printf "# sample %s offset=%s delay=%s disp=%s\n", s, o, d, e }' "$T_DIR/run1.out"
grep '^nts-select' "$T_DIR/run1.err" | sed 's/^/# /'
off=$(awk '$1 == "offset" { for (i = 2; i <= NF; i++) if ($i ~ /^(offset|error)=/) printf "%s ", $i }' "$T_DIR/run1.out")
echo "# run 1: $off; $(grep '^sync ' "$T_DIR/run1.out")"

# the time came from the two chronyd (through the exit, the onion service and the relay)
for d in ca cb cc; do
	case $d in
	ca) what="chrony A (KE via the onion service)" ;;
	cb) what="chrony B (KE via the exit, by address)" ;;
	cc) what="chrony C (KE via the exit, by name)" ;;
	esac
	st=$(peer_chrony_serverstats "$T_DIR/$d" 2>/dev/null)
	ke=$(echo "$st" | awk -F: '/NTS-KE connections accepted/ { gsub(/ /, "", $2); print $2 }')
	an=$(echo "$st" | awk -F: '/Authenticated NTP packets/ { gsub(/ /, "", $2); print $2 }')
	[ "${ke:-0}" -ge 1 ] && [ "${an:-0}" -ge 1 ] &&
		t_ok "$what: $ke NTS-KE connection(s), $an authenticated NTP packet(s)" ||
		t_fail "$what served the run" "KE ${ke:-?}, authenticated NTP ${an:-?}"
	# REQ-001: the server never learns the client's address
	cl=$(peer_chronyc "$T_DIR/$d" clients 2>/dev/null | awk 'f { print $1 } /^====/ { f = 1 }' | sort -u | tr '\n' ' ')
	case "$cl" in
	"127.0.0.1 ") t_ok "$what: its only client address is 127.0.0.1 (Tor, the relay), never $CLIV" ;;
	*) t_fail "$what: clients only from 127.0.0.1" "clients: ${cl:-none}" ;;
	esac
done

# the capture
tot=$(cap_count cap1 "frame")
arp=$(cap_count cap1 "arp")
prx=$(cap_count cap1 "$PROXY_TCP")
syn=$(cap_count cap1 "$PROXY_TCP && tcp.flags.syn==1 && tcp.flags.ack==0 && !tcp.analysis.retransmission")
oth=$(cap_count cap1 "!arp && !($PROXY_TCP)")
udp=$(cap_count cap1 "udp")
dns=$(cap_count cap1 "dns || udp.port==53 || tcp.port==53 || mdns || llmnr")
v6=$(cap_count cap1 "ipv6")
echo "# capture 1: $tot frames: $prx TCP with the proxy ($syn connections), $arp ARP, $oth other"
[ "$prx" -gt 0 ] && [ "$syn" -ge 2 ] && t_ok "capture during the run: $prx frames of TCP with the proxy $HOSTV:$FWD_PORT, $syn connections" ||
	t_fail "capture during the run saw the traffic" "$prx frames with the proxy, $syn connections, $tot in all"
[ "$oth" -eq 0 ] && t_ok "capture: only TCP with the proxy (and $arp ARP): 0 other frames of $tot" ||
	t_fail "capture: only TCP with the proxy" "$oth other frames: $(tshark -n -r "$T_DIR/cap1.pcap" -Y "!arp && !($PROXY_TCP)" 2>/dev/null | head -5 | tr '\n' '|')"
[ "$udp" -eq 0 ] && t_ok "capture: no UDP (0 frames)" || t_fail "capture: no UDP" "$udp frames"
[ "$dns" -eq 0 ] && t_ok "capture: no DNS (0 frames)" || t_fail "capture: no DNS" "$dns frames"
[ "$v6" -eq 0 ] && t_ok "capture: no IPv6 (0 frames)" || t_fail "capture: no IPv6" "$v6 frames"
# what the client asked the proxy for: the SOCKS5 requests in the capture
tshark -n -r "$T_DIR/cap1.pcap" -Y "ip.src==$CLIV && tcp.dstport==$FWD_PORT && tcp.len>0 && !tcp.analysis.retransmission" \
	-T fields -e tcp.stream -e tcp.payload 2>/dev/null | python3 "$NTSKIT_TOP/tests/helpers/socks5_requests.py" >"$T_DIR/socks1"
sed 's/^/# /' "$T_DIR/socks1"
nst=$(grep -c '^stream ' "$T_DIR/socks1")
ncn=$(grep -c '^stream .* connect:' "$T_DIR/socks1")
non=$(grep -c '^stream .* connect:domain:[a-z2-7]*\.onion:' "$T_DIR/socks1")
nonx=$(grep -c '^stream .* connect:ipv[46]:.*\.onion\|^stream .*onion.*connect:ipv' "$T_DIR/socks1")
nex=$(grep -c "^stream .* connect:ipv4:127\.0\.0\.1:$KE_B\$" "$T_DIR/socks1")
nnm=$(grep -c "^stream .* connect:domain:nts\.test:$KE_C\$" "$T_DIR/socks1")
nus=$(sed -n 's/.* \([0-9]*\) distinct users$/\1/p' "$T_DIR/socks1")
if [ "$nst" -eq "$syn" ] && [ "$ncn" -eq "$nst" ] && [ "$non" -eq $((nst - nex - nnm)) ] && [ "$nex" -eq 1 ] && [ "$nnm" -eq 1 ] && [ "$nonx" -eq 0 ]; then
	t_ok "SOCKS5 requests in the capture: $ncn CONNECT on $nst connections, $non to the onion service by name, $nnm to nts.test:$KE_C by name (the proxy resolves both), $nex to 127.0.0.1:$KE_B, no UDP ASSOCIATE"
else
	t_fail "SOCKS5 requests in the capture" "$(tr '\n' '|' <"$T_DIR/socks1") ($syn connections)"
fi
[ "${nus:-0}" -eq "$ncn" ] && t_ok "isolation as the client asks for it: $nus distinct SOCKS5 usernames for $ncn connections" ||
	t_fail "isolation: one SOCKS5 username per connection" "${nus:-?} usernames for $ncn connections"
fc=$(grep -c '^conn [0-9]* from [^ ]*$' "$T_DIR/fwd.log")
echo "# forwarder: $((fc - fwd_conns0)) connections during the run"

# per-source isolation, as Tor saw it: the streams for the targets the client
# asked for (Tor's own directory streams, also reported, are left out), each
# on its own circuit
grep '^stream ' "$T_DIR/streams" | sed 's/^/# tor: /'
grep -E "^stream [0-9]+ to ($TOR_ONION:(4460|4123)|127\.0\.0\.1(\.[^ ]*\.exit)?:$KE_B|(nts\.test|127\.0\.0\.1)(\.[^ ]*\.exit)?:$KE_C) on circuit [0-9]+\$" "$T_DIR/streams" >"$T_DIR/streams.client"
nts=$(grep -c . "$T_DIR/streams.client")
ncirc=$(awk '{ print $NF }' "$T_DIR/streams.client" | sort -u | grep -c .)
circs=$(awk '{ printf "%s%s", s, $NF; s = "," }' "$T_DIR/streams.client")
if [ "$nts" -eq "$ncn" ] && [ "$ncirc" -eq "$nts" ] && [ "$nts" -ge 6 ]; then
	t_ok "per-source isolation (Tor control port): the run's $nts streams on $ncirc distinct circuits ($circs)"
else
	t_fail "per-source isolation: every stream on its own circuit" "$nts client streams (of $ncn CONNECTs) on $ncirc circuits: $(tr '\n' '|' <"$T_DIR/streams")"
fi

# --- fail closed: the proxy is gone --------------------------------------------------
t_stop fwd
ss -ltnH "src $HOSTV:$FWD_PORT" | grep -q . && t_fail "forwarder stopped" "still listening"
cap_start cap2 || { t_fail "tshark capture on $VC (2)" "$(cat "$T_DIR/cap2.log")"; exit 0; }
"$T_DIR/client.sh" fresh "$T_DIR/state2" >/dev/null 2>&1
"$T_DIR/client.sh" cookies "$T_DIR/state" >/dev/null 2>&1
cap_stop cap2
for r in fresh cookies; do
	rc=$(cat "$T_DIR/$r.rc" 2>/dev/null || echo none) secs=$(cat "$T_DIR/$r.secs" 2>/dev/null || echo ?)
	[ $r = fresh ] && what="fresh state: nts-ke cannot reach the proxy" || what="cookies in the state: nts-poll cannot reach the proxy"
	msg=$(grep -i -m1 "$HOSTV:$FWD_PORT\|proxy\|socks" "$T_DIR/$r.err")
	if [ "$rc" != none ] && [ "$rc" -ne 0 ] && ! grep -q '^offset ' "$T_DIR/$r.out" && [ -n "$msg" ]; then
		t_ok "fail closed, $what: exit $rc in $secs s, no offset; says: $(echo "$msg" | cut -c1-160)"
	else
		t_fail "fail closed, $what" "exit $rc, offset: $(grep -c '^offset ' "$T_DIR/$r.out"), stderr: $(tail -c 300 "$T_DIR/$r.err" | tr '\n' '|')"
	fi
done
tot=$(cap_count cap2 "frame")
syn=$(cap_count cap2 "tcp.flags.syn==1 && tcp.flags.ack==0 && ip.dst==$HOSTV && tcp.dstport==$FWD_PORT")
arp=$(cap_count cap2 "arp")
bad=$(cap_count cap2 "!arp && !(ip.src==$CLIV && ip.dst==$HOSTV) && !(ip.src==$HOSTV && ip.dst==$CLIV)")
udp=$(cap_count cap2 "udp")
echo "# capture 2: $tot frames: $syn SYNs to the proxy address, $arp ARP, $bad to or from any other address"
[ "$bad" -eq 0 ] && [ "$udp" -eq 0 ] && [ "$syn" -ge 1 ] &&
	t_ok "fail closed: capture has $syn SYN(s) to the proxy address, 0 frames to any other address, 0 UDP (of $tot)" ||
	t_fail "fail closed: no frame to any other address" "$bad other, $udp UDP, $syn SYNs to the proxy: $(tshark -n -r "$T_DIR/cap2.pcap" 2>/dev/null | head -5 | tr '\n' '|')"

# sanitizer reports from nts-serve fail the test
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$T_DIR/serve.log" "$T_DIR"/run1.err "$T_DIR"/fresh.err "$T_DIR"/cookies.err 2>/dev/null; then
	t_fail "no sanitizer report" "$(grep -h -m2 'ERROR: AddressSanitizer\|runtime error:' "$T_DIR/serve.log" "$T_DIR"/*.err | tr '\n' '|')"
else
	t_ok "no sanitizer report (nts-serve, client runs)"
fi
echo "# total $(el "$T0") s"
