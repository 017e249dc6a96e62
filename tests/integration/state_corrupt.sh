#!/bin/sh
# A sessions state file that cannot be parsed (nts-poll(1), nts-ke(1),
# ntskit-records(5)) is moved aside to FILE.bad-UNIXTIME (mode 0600, content
# unchanged), with one warning on stderr naming the file, the line and the
# field; it never makes every later run fail. Against a real chrony NTS
# server on loopback:
#  - nts-poll --state: exit 3 (a new nts-ke is needed), nothing sent;
#  - nts-ke --state: the new session is written, the old file moved aside;
#  - nts-sync (one-shot, --dry-run): nts-poll moves it aside, nts-sync runs
#    nts-ke and polls again in the same run: exit 0, samples; the next run
#    needs no nts-ke.
# Ports: 127.0.0.1:20986-20987.
. "$NTSKIT_TOP/tests/lib.sh"
. "$NTSKIT_TOP/tests/peers/chrony.sh"

KE=$NTSKIT_BIN/nts-ke POLL=$NTSKIT_BIN/nts-poll
NTP=20986 KEP=20987

t_need_bins "$KE" "$POLL" "$NTSKIT_BIN/nts-select" "$NTSKIT_BIN/nts-adjust"
peer_chrony_test_server $NTP $KEP
CA=$T_DIR/pki/root.crt
ST=$T_DIR/state

# moved_ok NAME FILE COPY ERR LINE FIELD: FILE gone, FILE.bad-* is COPY with mode
# 0600, ERR has exactly one line naming FILE, FILE:LINE and FIELD
moved_ok() {
  _b=$(ls "$2".bad-* 2>/dev/null | head -n 1)
  if [ -z "$_b" ] || ! cmp -s "$_b" "$3" || [ "$(stat -c %a "$_b")" != 600 ]; then
    t_fail "$1: moved aside unchanged, mode 0600" "$(ls -l "$2"* 2>&1 | tr '\n' '|')"; return
  fi
  t_ok "$1: moved aside unchanged to $(basename "$_b"), mode 0600"
  [ "$(grep -c . "$4")" -eq 1 ] && grep -q "state file $2 cannot be parsed ($2:$5: .*$6.*moved aside to $_b" "$4" &&
    t_ok "$1: one warning, naming the file, line $5 and $6: $(cat "$4")" ||
    t_fail "$1: one warning naming the file, line and field" "$(head -c 400 "$4" | tr '\n' '|')"
}

"$KE" --ca "$CA" --state "$T_DIR/good" localhost:$KEP 2>"$T_DIR/ke.err"
grep -q '^session ' "$T_DIR/good" || { t_fail "nts-ke session" "$(head -c 300 "$T_DIR/ke.err")"; exit 0; }

# 1. nts-poll: a good session, then a session whose cookies are not base64url
cp "$T_DIR/good" "$ST"
sed 's/ cookies=[^ ]* / cookies=!!!,AAAA /; s/source=[^ ]*/source=other/' "$T_DIR/good" >>"$ST"
chmod 644 "$ST"
cp "$ST" "$T_DIR/copy1"
"$POLL" --state "$ST" --count 1 --timeout 2 >"$T_DIR/p1.out" 2>"$T_DIR/p1.err"; rc=$?
[ $rc -eq 3 ] && [ ! -e "$ST" ] && [ ! -s "$T_DIR/p1.out" ] &&
  t_ok "nts-poll --state, line 2 cannot be parsed: exit 3 (run nts-ke), nothing sent, the file gone" ||
  t_fail "nts-poll --state with a bad line: exit 3" "exit $rc: $(head -c 300 "$T_DIR/p1.err")"
moved_ok "nts-poll" "$ST" "$T_DIR/copy1" "$T_DIR/p1.err" 2 "field 'cookies'"
"$POLL" --state "$ST" --count 1 --timeout 2 >/dev/null 2>"$T_DIR/p1b.err"; rc=$?
[ $rc -eq 74 ] && grep -q "$ST" "$T_DIR/p1b.err" &&
  t_ok "nts-poll --state afterwards (no file): exit 74, names it" ||
  t_fail "nts-poll --state without a file" "exit $rc: $(head -c 300 "$T_DIR/p1b.err")"

# 2. nts-ke: garbage (not records at all) in the state file
rm -f "$ST" "$ST".bad-*
printf 'session source=a\001b\n' >"$ST"
cp "$ST" "$T_DIR/copy2"
"$KE" --ca "$CA" --state "$ST" localhost:$KEP 2>"$T_DIR/k2.err"; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^session ' "$ST")" -eq 1 ] && [ "$(grep -c . "$ST")" -eq 1 ] && [ "$(stat -c %a "$ST")" = 600 ] &&
  t_ok "nts-ke --state over a file that cannot be parsed: exit 0, the file holds the new session (0600)" ||
  t_fail "nts-ke --state over a bad file" "exit $rc: $(head -c 300 "$T_DIR/k2.err")"
moved_ok "nts-ke" "$ST" "$T_DIR/copy2" "$T_DIR/k2.err" 1 "field 'source'"
"$POLL" --state "$ST" --count 1 --timeout 2 >"$T_DIR/p2.out" 2>"$T_DIR/p2.err"; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^sample ' "$T_DIR/p2.out")" -eq 1 ] &&
  t_ok "nts-poll after that nts-ke: 1 sample, exit 0" ||
  t_fail "nts-poll after that nts-ke" "exit $rc: $(head -c 300 "$T_DIR/p2.err")"

# 2b. nts-ke: a bad session of the very source it replaces is no reason to
# move the file aside: replaced, the other sources' sessions kept
rm -f "$ST" "$ST".bad-*
{ sed 's/source=[^ ]*/source=other/' "$T_DIR/good"; sed 's/ not-after=[0-9]*/ not-after=1/' "$T_DIR/good"; } >"$ST"
"$KE" --ca "$CA" --state "$ST" localhost:$KEP 2>"$T_DIR/k2b.err"; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^session ' "$ST")" -eq 2 ] && grep -q '^session source=other ' "$ST" &&
  ! grep -q ' not-after=1 ' "$ST" && [ -z "$(ls "$ST".bad-* 2>/dev/null)" ] && [ ! -s "$T_DIR/k2b.err" ] &&
  t_ok "nts-ke --state: the bad session of the source it replaces is replaced, the other kept, nothing moved aside" ||
  t_fail "nts-ke --state replacing a bad session" "exit $rc: $(head -c 300 "$T_DIR/k2b.err"); $(ls "$T_DIR" | tr '\n' ' ')"

# 3. nts-sync one-shot re-establishes the session in the same run
SD=$T_DIR/sd
mkdir -p "$SD"
CONF=$T_DIR/ntskit.conf
cat >"$CONF" <<EOF
[source one]
address = localhost
ke-port = $KEP
ca = $CA

[poll]
count = 2
spacing = 0.1
timeout = 2

[select]
min-agree = 1
EOF
# a session for "one" that nts-sync's own check takes for usable (cookies
# present, not-after ahead) but with a key of the wrong length
"$KE" --ca "$CA" --state "$SD/sessions" localhost:$KEP 2>/dev/null
sed -i 's/source=[^ ]*/source=one/; s/ c2s=\([0-9a-f]*\)[0-9a-f][0-9a-f] / c2s=\1 /' "$SD/sessions"
cp "$SD/sessions" "$T_DIR/copy3"
export NTSKIT_BIN
sh "$NTSKIT_TOP/scripts/nts-sync" --config "$CONF" --state-dir "$SD" --dry-run >"$T_DIR/s3.out" 2>"$T_DIR/s3.err"; rc=$?
[ $rc -eq 0 ] && grep -q '^sample source=one ' "$T_DIR/s3.out" && grep -q 'nts-sync: nts-ke for: one' "$T_DIR/s3.err" &&
  grep -q '^sync .*status=0 ' "$T_DIR/s3.out" &&
  t_ok "nts-sync over a sessions file that cannot be parsed: nts-ke, then samples, exit 0 in the same run" ||
  t_fail "nts-sync over a bad sessions file" "exit $rc: $(tr '\n' '|' <"$T_DIR/s3.err" | head -c 500)"
b=$(ls "$SD"/sessions.bad-* 2>/dev/null | head -n 1)
[ -n "$b" ] && cmp -s "$b" "$T_DIR/copy3" && grep -q "sessions:1: field 'c2s'" "$T_DIR/s3.err" &&
  t_ok "nts-sync: the bad file moved aside ($(basename "$b")), the warning names line 1, field c2s" ||
  t_fail "nts-sync: the bad file moved aside" "$(ls "$SD" | tr '\n' ' '): $(grep 'cannot be parsed' "$T_DIR/s3.err")"
sh "$NTSKIT_TOP/scripts/nts-sync" --config "$CONF" --state-dir "$SD" --dry-run >"$T_DIR/s4.out" 2>"$T_DIR/s4.err"; rc=$?
[ $rc -eq 0 ] && ! grep -q 'nts-ke for' "$T_DIR/s4.err" && grep -q '^sample source=one ' "$T_DIR/s4.out" &&
  t_ok "nts-sync, next run: exit 0 without nts-ke" ||
  t_fail "nts-sync, next run: exit 0 without nts-ke" "exit $rc: $(tr '\n' '|' <"$T_DIR/s4.err" | head -c 300)"
exit 0
