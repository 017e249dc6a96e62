#!/bin/sh
# scripts/ntskit-plot (ntskit-plot(1)): a known log of sample and offset
# records becomes an SVG whose type, size and plotted data range match the
# log (parsed back with Python's XML parser), and a PNG of the asked size
# when rsvg-convert is there; bad input gives one line and its exit status.
# No network, no ports.
. "$NTSKIT_TOP/tests/lib.sh"

PLOT=$NTSKIT_TOP/scripts/ntskit-plot
t_need_cmds python3 || exit 0
LOG=$T_DIR/log
# 12 rounds of 3 sources (one through a TCP relay, one over SOCKS5 UDP), an
# offset record a round, and records the plot ignores
awk 'BEGIN { t = 1795600000
	for (r = 0; r < 12; r++) {
		tt = t + r * 64
		printf "sample source=ptb ntp=a:123 t=%.6f offset=%+.9f delay=0.020000000 disp=0.000001 stratum=1 leap=0 refid=X precision=-25 root-delay=0 root-disp=0 auth=nts aead=15 via=udp not-before=1 not-after=2\n", tt + 0.1, 0.0001 * r
		printf "sample source=netnod ntp=b:123 t=%.6f offset=%+.9f delay=0.030000000 disp=0.000001 stratum=1 leap=0 refid=X precision=-25 root-delay=0 root-disp=0 auth=nts aead=15 via=socks5-udp not-before=1 not-after=2\n", tt + 0.2, -0.0002 * r
		printf "sample source=onion ntp=c:123 t=%.6f offset=%+.9f delay=0.500000000 disp=0.000001 stratum=1 leap=0 refid=X precision=-25 root-delay=0 root-disp=0 auth=nts aead=15 via=tcp-relay not-before=1 not-after=2\n", tt + 0.3, 0.01
		printf "offset t=%.6f offset=%+.9f error=0.004000000 sources=3 agree=3 used=ptb,netnod,onion rejected=- leap=0 stratum=2 root-delay=0.02 root-disp=0.001 refid=X\n", tt + 1, 0.00005 * r
		printf "adjust t=%.6f action=slew offset=+0.000100000 freq-ppm=+1.000000 reason=slew\n# a comment\n", tt + 1.5
	} }' >"$LOG"

if "$PLOT" --title "test <log>" --width 800 --height 600 -o "$T_DIR/p.svg" "$LOG" 2>"$T_DIR/err"; then
	t_ok "ntskit-plot writes an SVG"
else
	t_fail "ntskit-plot writes an SVG" "$(cat "$T_DIR/err")"; exit 0
fi
cat >"$T_DIR/check.py" <<'PY'
import sys, xml.etree.ElementTree as ET
svg, log = sys.argv[1], sys.argv[2]
ns = {'s': 'http://www.w3.org/2000/svg'}
root = ET.parse(svg).getroot()
def say(ok, name, why=''):
    print(('ok - ' if ok else 'not ok - ') + name + ('' if ok else ': ' + why))
say(root.tag == '{http://www.w3.org/2000/svg}svg', 'the file is SVG (root element svg)', root.tag)
say(root.get('width') == '800' and root.get('height') == '600', 'image size 800 x 600', '%s x %s' % (root.get('width'), root.get('height')))
rec = {'sample': [], 'offset': []}
for line in open(log):
    f = line.split()
    if f and f[0] in rec:
        rec[f[0]].append(dict(kv.split('=', 1) for kv in f[1:]))
S, O = rec['sample'], rec['offset']
panels = {g.get('id'): g for g in root.iter('{http://www.w3.org/2000/svg}g') if g.get('class') == 'panel'}
say(set(panels) == {'offset', 'delay', 'transport'}, 'three panels: offset, delay, transport', str(sorted(panels)))
ts = [float(r['t']) for r in S + O]
for p in panels.values():
    say(abs(float(p.get('data-t-min')) - min(ts)) < 1e-6 and abs(float(p.get('data-t-max')) - max(ts)) < 1e-6,
        'panel %s: time range is the log\'s' % p.get('id'), '%s..%s vs %s..%s' % (p.get('data-t-min'), p.get('data-t-max'), min(ts), max(ts)))
lo = min([float(r['offset']) - float(r['delay']) / 2 for r in S] + [float(r['offset']) - float(r['error']) for r in O])
hi = max([float(r['offset']) + float(r['delay']) / 2 for r in S] + [float(r['offset']) + float(r['error']) for r in O])
po = panels['offset']; ylo, yhi = float(po.get('data-y-min')), float(po.get('data-y-max'))
say(ylo <= lo and yhi >= hi and (yhi - ylo) <= 1.2 * (hi - lo), 'offset panel covers every error bar, with at most 20% margin',
    '%g..%g for data %g..%g' % (ylo, yhi, lo, hi))
pd = panels['delay']; dmax = max(float(r['delay']) for r in S)
say(float(pd.get('data-y-min')) == 0 and dmax <= float(pd.get('data-y-max')) <= 1.2 * dmax, 'delay panel from 0 to the largest delay', pd.get('data-y-max'))
pts = [g for g in root.iter('{http://www.w3.org/2000/svg}g') if g.get('class') == 'sample']
say(len(pts) == len(S), 'one point with its error bar per sample (%d)' % len(S), str(len(pts)))
got = sorted((g.get('data-source'), round(float(g.get('data-offset')), 9)) for g in pts)
want = sorted((r['source'], round(float(r['offset']), 9)) for r in S)
say(got == want, 'each point is a sample of the log (source, offset)', '')
# the points are where the axes say: y of each circle from the panel's range
rect = po.find('s:rect', ns); top, h = float(rect.get('y')), float(rect.get('height'))
bad = [g for g in pts if abs(top + h - (float(g.get('data-offset')) - ylo) / (yhi - ylo) * h - float(g.find('s:circle', ns).get('cy'))) > 0.02]
say(not bad, 'every point is drawn at its offset on the axis', '%d off' % len(bad))
vias = sorted(set(r.get('via') for r in S))
got = sorted(set(r.get('data-via') for r in root.iter('{http://www.w3.org/2000/svg}rect') if r.get('class') == 'via'))
say(got == vias, 'transport panel: udp, socks5-udp and tcp-relay rows', str(got))
comb = [p for p in root.iter('{http://www.w3.org/2000/svg}polyline') if p.get('class') == 'combined']
say(len(comb) == 1 and len(comb[0].get('points').split()) == len(O), 'the combined offset: one line through %d offset records' % len(O), '')
titles = [t.text for t in root.iter('{http://www.w3.org/2000/svg}text')]
say('test <log>' in titles, 'the title, escaped', str(titles[:2]))
PY
python3 "$T_DIR/check.py" "$T_DIR/p.svg" "$LOG"

# PNG through rsvg-convert: a real renderer accepts the SVG, at the asked size
if command -v rsvg-convert >/dev/null 2>&1; then
	"$PLOT" --width 800 --height 600 -o "$T_DIR/p.png" "$LOG" 2>"$T_DIR/err"; rc=$?
	dim=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(24); print("png %dx%d" % struct.unpack(">II", b[16:24]) if b[:8]==b"\x89PNG\r\n\x1a\n" else "not png")' "$T_DIR/p.png" 2>&1)
	[ $rc -eq 0 ] && [ "$dim" = "png 800x600" ] && t_ok "PNG of 800 x 600 (rsvg-convert)" || t_fail "PNG of 800 x 600" "exit $rc: $dim $(cat "$T_DIR/err")"
else
	t_skip "rsvg-convert (librsvg2-bin) not installed: no PNG check"
fi

# bad input: one line, the documented exit status, no file
grep -v -e '^sample' -e '^offset' "$LOG" >"$T_DIR/none"
"$PLOT" -o "$T_DIR/x.svg" "$T_DIR/none" 2>"$T_DIR/err"; rc=$?
[ $rc -eq 65 ] && [ "$(wc -l <"$T_DIR/err")" -eq 1 ] && [ ! -e "$T_DIR/x.svg" ] && t_ok "no sample or offset record: exit 65, one line, no file" || t_fail "no records: exit 65" "exit $rc: $(cat "$T_DIR/err")"
"$PLOT" "$T_DIR/missing" 2>"$T_DIR/err" >/dev/null; rc=$?
[ $rc -eq 66 ] && grep -q missing "$T_DIR/err" && t_ok "unreadable input: exit 66" || t_fail "unreadable input: exit 66" "exit $rc"
"$PLOT" --width 10 "$LOG" 2>"$T_DIR/err" >/dev/null; rc=$?
[ $rc -eq 64 ] && grep -q 'outside 320..8000' "$T_DIR/err" && t_ok "--width 10: exit 64" || t_fail "--width 10: exit 64" "exit $rc: $(cat "$T_DIR/err")"
v=$("$PLOT" --version) && case "$v" in "ntskit-plot "[0-9]*) t_ok "--version: $v" ;; *) t_fail "--version" "$v" ;; esac
