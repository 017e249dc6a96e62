/*
 * nts-select: read sample records, pick the true time (RFC 5905 clock
 * filter, intersection, cluster, combine: select.c), write offset records.
 * See nts-select(1).
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "record.h"
#include "select.h"
#include "util.h"

/* tool-specific exit codes (nts-select(1), EXIT STATUS) */
#define SEL_EXIT_NOAGREE  3     /* too few agreeing sources / no majority */
#define SEL_EXIT_NOSAMPLE 4     /* no sample record in the input */

static const char usage[] =
	"usage: nts-select [--config FILE] [--min-agree N] [--max-distance SECONDS]\n"
	"                  [--stream] [--round-gap SECONDS] [--verdicts] [--explain]\n"
	"Reads sample records (stdin), writes one offset record (stdout):\n"
	"RFC 5905 clock filter per source, intersection, cluster and combine.\n"
	"  --config FILE         ntskit.conf ([select] min-agree, max-distance)\n"
	"  --min-agree N         fewer agreeing sources: no offset, exit 3 (default 1)\n"
	"  --max-distance S      sources with a larger root distance are unfit (1.5)\n"
	"  --stream              one offset record after each round, until end of input\n"
	"  --round-gap S         stream: a round ends after S s without a sample or when\n"
	"                        a sample is S s newer than the round's first (default 10)\n"
	"  --verdicts            also a verdict record per source and a round record\n"
	"                        (selected, falseticker, distance, no-answer, ...)\n"
	"  --explain             say on stderr what each step found\n"
	"  --version             print the version and exit\n"
	"Exit: 0 offset written, 3 too few agree, 4 no samples, 64 usage,\n"
	"65 malformed input, 74 output error, 78 bad config.\n";

/* per-source window data kept beside the algorithm's set */
struct srcinfo {
	int has_window;
	double not_before, not_after;
	/* for --verdicts: the round's latest sample offered and its transport */
	double last_t;
	char via[16];
};

static struct nk_sel_set set;
static struct srcinfo info[NK_SEL_MAX_SOURCES];
static int explain, verdicts;

/* NTP refid of the system peer as nts-serve advertises it: the IPv4
 * address when ntp= is an IPv4 literal, else 8 hex digits of a 32-bit
 * FNV-1a hash of the source name (RFC 5905 hashes IPv6 addresses the same
 * way, with MD5), so the upstream's name is not given away. */
static void refid_of(const struct nk_sel_source *s, char *out, size_t cap)
{
	char host[256];
	unsigned a, b, c, d;
	char tail;
	uint32_t h = 2166136261u;
	const char *p;

	if (s->ntp[0] != 0) {
		const char *colon = strrchr(s->ntp, ':');
		size_t n = colon != NULL ? (size_t)(colon - s->ntp) : strlen(s->ntp);
		if (n < sizeof host) {
			memcpy(host, s->ntp, n);
			host[n] = 0;
			if (sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4 &&
					a < 256 && b < 256 && c < 256 && d < 256) {
				snprintf(out, cap, "%u.%u.%u.%u", a, b, c, d);
				return;
			}
		}
	}
	for (p = s->name; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	snprintf(out, cap, "%08x", (unsigned)h);
}


/* names go into used= and rejected= lists: the one rule of record.h */
static int name_ok(const char *s)
{
	return strlen(s) < NK_SEL_NAME && nk_rec_source_ok(s);
}

/* session record: only the certificate validity window is used (its
 * secrets are neither kept nor passed on). */
static int take_session(const struct nk_rec *rec, struct nk_err *e)
{
	const char *name = nk_rec_get(rec, "source");
	int64_t nb, na;
	int i;

	if (name == NULL || !name_ok(name)) {
		nk_rec_field_error(rec, "source", e, name == NULL ? "missing in session record" :
			"not a source name (" NK_REC_SOURCE_RULE ")");
		return -1;
	}
	if (nk_rec_get(rec, "not-before") == NULL || nk_rec_get(rec, "not-after") == NULL)
		return 0;
	if (nk_rec_get_i64(rec, "not-before", &nb, e) < 0 || nk_rec_get_i64(rec, "not-after", &na, e) < 0)
		return -1;
	i = nk_sel_source_get(&set, name);
	if (i < 0) {
		nk_rec_field_error(rec, "source", e, "more than %d sources", NK_SEL_MAX_SOURCES);
		return -1;
	}
	info[i].has_window = 1;
	info[i].not_before = (double)nb;
	info[i].not_after = (double)na;
	return 0;
}

/* sample record -> the algorithm. Every field named in nts-select(1) is
 * checked; a bad one is an error naming line and field. */
static int take_sample(const struct nk_rec *rec, double *tout, struct nk_err *e)
{
	struct nk_sel_sample s;
	const char *name = nk_rec_get(rec, "source"), *auth, *ntp;
	uint64_t u;
	int i;
	enum nk_sel_reason r;

	memset(&s, 0, sizeof s);
	if (name == NULL) {
		nk_rec_field_error(rec, "source", e, "missing in sample record");
		return -1;
	}
	if (!name_ok(name)) {
		nk_rec_field_error(rec, "source", e, "not a source name (" NK_REC_SOURCE_RULE ")");
		return -1;
	}
	if (nk_rec_get_range(rec, "t", 0, 1e11, &s.t, e) < 0 ||
			nk_rec_get_range(rec, "offset", -4e9, 4e9, &s.offset, e) < 0 ||
			nk_rec_get_range(rec, "delay", -4e9, 4e9, &s.delay, e) < 0 ||
			nk_rec_get_range(rec, "disp", 0, 1e6, &s.disp, e) < 0 ||
			nk_rec_get_range(rec, "root-delay", 0, 1e6, &s.root_delay, e) < 0 ||
			nk_rec_get_range(rec, "root-disp", 0, 1e6, &s.root_disp, e) < 0)
		return -1;
	if (nk_rec_get_u64(rec, "stratum", 255, &u, e) < 0)
		return -1;
	s.stratum = (int)u;
	if (nk_rec_get_u64(rec, "leap", 3, &u, e) < 0)
		return -1;
	s.leap = (int)u;
	/* circuit=K: the path of a source polled over several (absent: 1) */
	if (nk_rec_get(rec, "circuit") != NULL) {
		if (nk_rec_get_u64(rec, "circuit", NK_SEL_CIRCUIT_MAX, &u, e) < 0)
			return -1;
		if (u == 0) {
			nk_rec_field_error(rec, "circuit", e, "must be 1 to %d", NK_SEL_CIRCUIT_MAX);
			return -1;
		}
		s.circuit = (int)u;
	}
	auth = nk_rec_get(rec, "auth");
	if (auth == NULL) {
		nk_rec_field_error(rec, "auth", e, "missing in sample record");
		return -1;
	}
	s.authenticated = strcmp(auth, "nts") == 0;
	if (nk_rec_get(rec, "not-before") != NULL || nk_rec_get(rec, "not-after") != NULL) {
		int64_t nb, na;
		if (nk_rec_get_i64(rec, "not-before", &nb, e) < 0 ||
				nk_rec_get_i64(rec, "not-after", &na, e) < 0)
			return -1;
		s.has_window = 1;
		s.not_before = (double)nb;
		s.not_after = (double)na;
	}
	i = nk_sel_source_get(&set, name);
	if (i < 0) {
		nk_rec_field_error(rec, "source", e, "more than %d sources", NK_SEL_MAX_SOURCES);
		return -1;
	}
	if (!s.has_window && info[i].has_window) {
		s.has_window = 1;
		s.not_before = info[i].not_before;
		s.not_after = info[i].not_after;
	}
	if (s.circuit != 0 && nk_sel_circuit_get(&set.src[i], s.circuit) < 0) {
		nk_rec_field_error(rec, "circuit", e, "more than %d circuits for source %s in a round",
			NK_SEL_MAX_CIRCUITS, name);
		return -1;
	}
	if (s.t > info[i].last_t)
		info[i].last_t = s.t;
	{
		const char *via = nk_rec_get(rec, "via");
		if (via != NULL && strlen(via) < sizeof info[i].via)
			strcpy(info[i].via, via);
	}
	ntp = nk_rec_get(rec, "ntp");
	if (ntp != NULL && strlen(ntp) < sizeof set.src[i].ntp)
		strcpy(set.src[i].ntp, ntp);
	r = nk_sel_add_sample(&set, i, &s);
	if (r != NK_SEL_OK)
		fprintf(stderr, "nts-select: %s:%lu: sample of %s not used: %s\n",
			rec->src != NULL ? rec->src : "stdin", rec->line, name, nk_sel_reason_word(r));
	*tout = s.t;
	return 0;
}

/* "a,b,c" or "-" when empty */
static void list_used(char *out, size_t cap, int want_used)
{
	size_t i, len = 0;

	out[0] = 0;
	for (i = 0; i < set.n; i++) {
		const struct nk_sel_source *x = &set.src[i];
		int n;
		if (x->seen == 0)
			continue;
		if (want_used ? !x->used : (x->used || x->reason == NK_SEL_OK))
			continue;
		if (want_used)
			n = snprintf(out + len, cap - len, "%s%s", len ? "," : "", x->name);
		else
			n = snprintf(out + len, cap - len, "%s%s:%s", len ? "," : "", x->name,
				nk_sel_reason_word(x->reason));
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
	if (len == 0)
		snprintf(out, cap, "-");
}

/* The verdict of one source after nk_sel_run (nts-select(1), --verdicts). */
static const char *verdict_word(const struct nk_sel_source *x)
{
	if (x->seen == 0)
		return "no-answer";
	if (x->used)
		return "selected";
	if (x->truechimer && x->reason == NK_SEL_OK)
		return "truechimer";
	return nk_sel_reason_word(x->reason);
}

/* ---- --explain ---- */

/* The correctness interval of source x as the intersection saw it
 * (select.c: offset -/+ root distance); 0 when x was not a candidate. The
 * one place that knows which fields hold it. */
static int cand_interval(const struct nk_sel_source *x, double *mid, double *rad)
{
	if (x->seen == 0 || x->nstage == 0 || x->reason == NK_SEL_R_DISTANCE)
		return 0;
	*mid = x->best.offset;
	*rad = x->rootdist;
	return 1;
}

/* The picture: one row per candidate on a time axis, 72 columns. */
#define PIC_W 46                /* columns between the two bars */

struct axis {
	double lo, span, step;  /* plotted range [lo, lo + span], tick step */
	double scale;           /* seconds -> the unit of the labels */
	const char *unit;
};

static int pic_col(const struct axis *a, double v)
{
	double c = (v - a->lo) / a->span * (PIC_W - 1) + 0.5;

	if (!(c >= 0))
		return 0;
	if (c > PIC_W - 1)
		return PIC_W - 1;
	return (int)c;
}

/* A tick step of 1, 2 or 5 times a power of ten, at least raw. */
static double nice_step(double raw)
{
	double p = 1e-9;

	while (p * 10 <= raw && p < 1e9)
		p *= 10;
	if (p >= raw)
		return p;
	if (2 * p >= raw)
		return 2 * p;
	if (5 * p >= raw)
		return 5 * p;
	return 10 * p;
}

/* The range [lo, hi] with a margin, and a tick step giving 4 to 8 ticks. */
static void axis_make(struct axis *a, double lo, double hi)
{
	double pad;

	if (!(hi - lo > 1e-9)) {
		lo -= 1e-6;
		hi += 1e-6;
	}
	pad = (hi - lo) * 0.04;
	a->lo = lo - pad;
	a->span = hi - lo + 2 * pad;
	a->step = nice_step(a->span / 8);
	if (a->step >= 1) {
		a->scale = 1;
		a->unit = "s";
	} else if (a->step >= 1e-3) {
		a->scale = 1e3;
		a->unit = "ms";
	} else {
		a->scale = 1e6;
		a->unit = "us";
	}
}

static void pic_row(const char *label, const char *row, const char *tail)
{
	fprintf(stderr, "  %-9.9s |%.*s|%s%s\n", label, PIC_W, row, *tail ? " " : "", tail);
}

/* a row holding only [lo, hi] drawn as [ccc] */
static void pic_span(const struct axis *a, const char *label, double lo, double hi, char c)
{
	char row[PIC_W + 1];
	int cl = pic_col(a, lo), ch = pic_col(a, hi), j;

	memset(row, ' ', PIC_W);
	row[PIC_W] = 0;
	for (j = cl; j <= ch; j++)
		row[j] = c;
	row[cl] = '[';
	row[ch] = ']';
	pic_row(label, row, "");
}

static void explain_picture(const struct nk_sel_result *r, int have_isect, double low, double high)
{
	char row[PIC_W + 1], lab[PIC_W + 16];
	struct axis a;
	double mid, rad, lo = 0, hi = 0, k;
	size_t i;
	int any = 0, c, last_end = -2;

	for (i = 0; i < set.n; i++) {
		if (!cand_interval(&set.src[i], &mid, &rad))
			continue;
		if (!any || mid - rad < lo)
			lo = mid - rad;
		if (!any || mid + rad > hi)
			hi = mid + rad;
		any = 1;
	}
	if (!any)
		return;
	axis_make(&a, lo, hi);
	fprintf(stderr, "nts-select: the intervals on a time axis, in %s: [--*--] offset -/+\n"
		"  root distance; [===] the intersection, : its edges; [###] the bound (the\n"
		"  sample intervals' intersection); ^ the combined offset\n", a.unit);
	for (i = 0; i < set.n; i++) {
		const struct nk_sel_source *x = &set.src[i];
		int cl, ch, cm, j;
		if (!cand_interval(x, &mid, &rad))
			continue;
		memset(row, ' ', PIC_W);
		row[PIC_W] = 0;
		cl = pic_col(&a, mid - rad);
		ch = pic_col(&a, mid + rad);
		cm = pic_col(&a, mid);
		if (have_isect) {
			row[pic_col(&a, low)] = ':';
			row[pic_col(&a, high)] = ':';
		}
		for (j = cl; j <= ch; j++)
			row[j] = '-';
		row[cl] = '[';
		row[ch] = ']';
		row[cm] = '*';
		pic_row(x->name, row, verdict_word(x));
	}
	if (have_isect)
		pic_span(&a, "intersect", low, high, '=');
	if (r->ok && r->bounded)
		pic_span(&a, "bound", r->blow, r->bhigh, '#');
	if (r->ok) {
		memset(row, ' ', PIC_W);
		row[pic_col(&a, r->offset)] = '^';
		pic_row("offset", row, "");
	}
	/* the axis: a tick (+) at every multiple of the step, labelled below */
	memset(row, '-', PIC_W);
	memset(lab, ' ', sizeof lab);
	k = (double)(long long)(a.lo / a.step);
	if (k * a.step < a.lo)
		k += 1;
	for (; k * a.step <= a.lo + a.span; k++) {
		char t[24];
		double v = k * a.step * a.scale;
		int n, s;
		c = pic_col(&a, k * a.step);
		row[c] = '+';
		if (v > -1e-9 && v < 1e-9)
			n = snprintf(t, sizeof t, "0");
		else
			n = snprintf(t, sizeof t, "%+g%s", v, a.unit);
		s = c + 1 - n / 2;      /* centred under the tick (the bar is column 0) */
		if (s < 0)
			s = 0;
		if (s <= last_end + 2 || s + n > (int)sizeof lab - 1)
			continue;       /* no room: the next tick is labelled */
		memcpy(lab + s, t, (size_t)n);
		last_end = s + n - 1;
	}
	pic_row("", row, "");
	lab[last_end + 1] = 0;
	fprintf(stderr, "  %-9s %s\n", "", lab);
}

static void explain_result(const struct nk_sel_params *p, const struct nk_sel_result *r)
{
	double mid[NK_SEL_MAX_SOURCES], rad[NK_SEL_MAX_SOURCES], low = 0, high = 0;
	struct nk_sel_isect_step steps[NK_SEL_MAX_STEPS];
	size_t i, m = 0, nsteps = 0;
	int f = -1, first;

	fprintf(stderr, "nts-select: now t=%.6f, %zu source(s) seen\n", r->t, r->sources);
	for (i = 0; i < set.n; i++) {
		const struct nk_sel_source *x = &set.src[i];
		if (x->seen == 0)
			continue;
		if (x->nstage == 0) {
			fprintf(stderr, "  %s: no usable sample (%s)\n", x->name, nk_sel_reason_word(x->reason));
			continue;
		}
		fprintf(stderr, "  %s: clock filter over %zu sample(s): offset %+.6f delay %.6f "
			"disp %.6f jitter %.6f stratum %d -> root distance %.6f (max %.3f): %s\n",
			x->name, x->nstage, x->best.offset, x->best.delay, x->disp, x->jitter,
			x->best.stratum, x->rootdist, p->max_distance,
			x->used ? "used" : x->truechimer && x->reason == NK_SEL_OK ? "truechimer" :
			nk_sel_reason_word(x->reason));
	}

	/* the correctness intervals and the intersection, pass by pass */
	for (i = 0; i < set.n; i++) {
		if (!cand_interval(&set.src[i], &mid[m], &rad[m]))
			continue;
		if (m == 0)
			fprintf(stderr, "nts-select: correctness intervals, offset -/+ root distance "
				"(RFC 5905 11.2.1), s:\n");
		fprintf(stderr, "  %s: [%+.6f, %+.6f]  offset %+.6f, half-width %.6f\n",
			set.src[i].name, mid[m] - rad[m], mid[m] + rad[m], mid[m], rad[m]);
		m++;
	}
	if (m > 0) {
		f = nk_sel_intersect_trace(mid, rad, m, &low, &high, steps, &nsteps);
		fprintf(stderr, "nts-select: intersection (Marzullo, RFC 5905 11.2.1) of %zu intervals:\n"
			"  for f = 0, 1, ... falsetickers while 2f < %zu: l, the lowest point, and u,\n"
			"  the highest, inside %zu - f intervals; found when l <= u and at most f\n"
			"  midpoints lie outside [l, u]\n", m, m, m);
	}
	for (i = 0; i < nsteps; i++) {
		const struct nk_sel_isect_step *st = &steps[i];
		int have = st->have_l && st->have_u;
		fprintf(stderr, "  f=%zu: in %zu of %zu: ", st->f, st->need, m);
		if (!have)
			fprintf(stderr, "no point");
		else
			fprintf(stderr, "l=%+.6f u=%+.6f, %zu midpoint(s) outside", st->l, st->u, st->d);
		if (st->ok)
			fprintf(stderr, ": found\n");
		else if (have && st->l > st->u)
			fprintf(stderr, ": empty (l > u)");
		else if (have)
			fprintf(stderr, ": more than f");
		if (st->ok)
			continue;
		if (2 * (st->f + 1) < m)
			fprintf(stderr, "; try f=%zu\n", st->f + 1);
		else
			fprintf(stderr, "; f=%zu would leave no majority\n", st->f + 1);
	}
	if (m > 0 && f < 0)
		fprintf(stderr, "  no f < %zu/2 works: no majority clique, no time from this round\n", m);
	else if (m > 0 && (low != r->low || high != r->high))
		fprintf(stderr, "  (the selection itself used [%+.6f, %+.6f])\n", r->low, r->high);
	if (r->candidates > 0 && r->why != NK_SEL_R_NOMAJORITY)
		fprintf(stderr, "  intersection (RFC 5905 11.2.1): [%+.6f, %+.6f], %zu of %zu agree\n",
			r->low, r->high, r->agree, r->candidates);
	/* survivors: the truechimers, and what the cluster step kept of them */
	if (m > 0 && f >= 0) {
		fprintf(stderr, "nts-select: survivors (interval meets [l, u]):");
		for (i = 0, first = 1; i < set.n; i++)
			if (set.src[i].truechimer) {
				fprintf(stderr, "%s %s", first ? "" : ",", set.src[i].name);
				first = 0;
			}
		fprintf(stderr, "%s; falsetickers:", first ? " none" : "");
		for (i = 0, first = 1; i < set.n; i++)
			if (set.src[i].reason == NK_SEL_R_FALSETICKER) {
				fprintf(stderr, "%s %s", first ? "" : ",", set.src[i].name);
				first = 0;
			}
		fprintf(stderr, "%s\n", first ? " none" : "");
		if (r->agree < p->min_agree)
			fprintf(stderr, "  %zu survivor(s) < min-agree %u: no offset\n", r->agree, p->min_agree);
	}
	explain_picture(r, m > 0 && f >= 0, low, high);
	if (r->ok)
		fprintf(stderr, "  cluster/combine (11.2.2-3): %zu used, offset %+.6f, jitter %.6f, "
			"error %.6f, system peer %s\n", r->used, r->rd_offset, r->jitter,
			r->root_delay / 2 + r->root_disp, set.src[r->sys].name);
	if (r->ok && r->bounded)
		fprintf(stderr, "  bound: sample intervals of the %zu agreeing source(s) intersect in "
			"[%+.6f, %+.6f]: offset %+.6f, error %.6f\n", r->agree, r->blow, r->bhigh,
			r->offset, r->error);
	else if (r->ok)
		fprintf(stderr, "  bound: sample intervals of the agreeing source(s) do not intersect: "
			"offset and error from the root distance\n");
}

/* --verdicts: one verdict record per known source, then the round record.
 * Written before the offset record, also when there is none, so that a
 * reader sees every round end. */
static int write_verdicts(const struct nk_sel_params *p, const struct nk_sel_result *r)
{
	static struct nk_rec_writer w;
	const char *result;
	double t = r->t;
	size_t i;

	for (i = 0; i < set.n; i++)
		if (set.src[i].seen > 0 && info[i].last_t > t)
			t = info[i].last_t;
	for (i = 0; i < set.n; i++) {
		const struct nk_sel_source *x = &set.src[i];
		nk_recw_begin(&w, "verdict");
		nk_recw_double(&w, "t", t, 6, 0);
		nk_recw_str(&w, "source", x->name);
		nk_recw_str(&w, "verdict", verdict_word(x));
		nk_recw_u64(&w, "samples", x->seen);
		if (x->seen > 0 && x->nstage > 0) {
			nk_recw_double(&w, "offset", x->best.offset, 9, 1);
			nk_recw_double(&w, "delay", x->best.delay, 9, 0);
			nk_recw_double(&w, "disp", x->disp, 9, 0);
			nk_recw_double(&w, "jitter", x->jitter, 9, 0);
			nk_recw_double(&w, "root-dist", x->rootdist, 9, 0);
			if (x->paths > 1)
				nk_recw_u64(&w, "circuits", x->paths);
			nk_recw_u64(&w, "stratum", (uint64_t)x->best.stratum);
			nk_recw_u64(&w, "leap", (uint64_t)x->best.leap);
		}
		if (x->seen > 0)
			nk_recw_double(&w, "last", info[i].last_t, 6, 0);
		if (x->seen > 0 && info[i].via[0] != 0)
			nk_recw_str(&w, "via", info[i].via);
		if (nk_recw_end(&w, stdout) < 0)
			return -1;
	}
	result = r->ok ? "offset" : r->sources == 0 ? "no-sample" :
		r->why == NK_SEL_R_NOMAJORITY ? "no-majority" : "too-few";
	nk_recw_begin(&w, "round");
	nk_recw_double(&w, "t", t, 6, 0);
	nk_recw_u64(&w, "sources", r->sources);
	nk_recw_u64(&w, "candidates", r->candidates);
	nk_recw_u64(&w, "agree", r->agree);
	nk_recw_u64(&w, "used", r->used);
	nk_recw_u64(&w, "min-agree", p->min_agree);
	nk_recw_str(&w, "result", result);
	return nk_recw_end(&w, stdout);
}

static void new_round(void)
{
	size_t i;

	nk_sel_new_round(&set);
	for (i = 0; i < NK_SEL_MAX_SOURCES; i++)
		info[i].last_t = 0;
}

/* Run the algorithm and write the offset record. 0 written; else exit code. */
static int emit(const struct nk_sel_params *p, struct nk_err *e)
{
	static struct nk_rec_writer w;
	static char used[NK_SEL_MAX_SOURCES * (NK_SEL_NAME + 1) + 2];
	static char rej[NK_SEL_MAX_SOURCES * (NK_SEL_NAME + 20) + 2];
	struct nk_sel_result r;
	char refid[16];

	nk_sel_run(&set, p, &r);
	if (explain)
		explain_result(p, &r);
	if (verdicts && write_verdicts(p, &r) < 0) {
		nk_errf(e, "nts-select: writing the verdict records failed: %s", strerror(errno));
		return NK_EXIT_IO;
	}
	if (r.sources == 0) {
		fprintf(stderr, "nts-select: no sample records in the input\n");
		return SEL_EXIT_NOSAMPLE;
	}
	if (!r.ok) {
		list_used(rej, sizeof rej, 0);
		if (r.why == NK_SEL_R_NOMAJORITY)
			fprintf(stderr, "nts-select: no majority of the %zu candidate sources agree "
				"(RFC 5905 11.2.1); not used: %s\n", r.candidates, rej);
		else
			fprintf(stderr, "nts-select: only %zu source(s) agree, --min-agree is %u; "
				"not used: %s\n", r.agree, p->min_agree, rej);
		return SEL_EXIT_NOAGREE;
	}
	list_used(used, sizeof used, 1);
	list_used(rej, sizeof rej, 0);
	refid_of(&set.src[r.sys], refid, sizeof refid);
	nk_recw_begin(&w, "offset");
	nk_recw_double(&w, "t", r.t, 6, 0);
	nk_recw_double(&w, "offset", r.offset, 9, 1);
	nk_recw_double(&w, "error", r.error, 9, 0);
	nk_recw_u64(&w, "sources", r.sources);
	nk_recw_u64(&w, "agree", r.agree);
	nk_recw_str(&w, "used", used);
	nk_recw_str(&w, "rejected", rej);
	nk_recw_u64(&w, "leap", (uint64_t)r.leap);
	nk_recw_u64(&w, "stratum", (uint64_t)r.stratum);
	nk_recw_double(&w, "root-delay", r.root_delay, 9, 0);
	nk_recw_double(&w, "root-disp", r.root_disp, 9, 0);
	nk_recw_str(&w, "refid", refid);
	nk_recw_str(&w, "bound", r.bounded ? "intersection" : "root-distance");
	if (nk_recw_end(&w, stdout) < 0) {
		nk_errf(e, "nts-select: writing the offset record failed: %s", strerror(errno));
		return NK_EXIT_IO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct nk_config cfg;
	static struct nk_rec_reader rd;
	struct nk_rec rec;
	struct nk_sel_params p;
	struct nk_err e;
	const char *cfgpath = NULL, *o_min = NULL, *o_dist = NULL, *o_gap = NULL;
	double round_gap = 10, round_first = 0;
	int stream = 0, i, rc, status = -1, in_round = 0;

	/* before anything is opened: a closed stdin/stdout/stderr must not
	 * become a state file, a lock or a socket */
	if (nk_stdfds_open() < 0)
		return NK_EXIT_SOFTWARE;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			return nk_print_version("nts-select");
		} else if (strcmp(a, "--stream") == 0) {
			stream = 1;
		} else if (strcmp(a, "--explain") == 0) {
			explain = 1;
		} else if (strcmp(a, "--verdicts") == 0) {
			verdicts = 1;
		} else if (strcmp(a, "--config") == 0 || strcmp(a, "--min-agree") == 0 ||
				strcmp(a, "--max-distance") == 0 || strcmp(a, "--round-gap") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "nts-select: %s needs a value (see --help)\n", a);
				return NK_EXIT_USAGE;
			}
			if (strcmp(a, "--config") == 0)
				cfgpath = argv[++i];
			else if (strcmp(a, "--min-agree") == 0)
				o_min = argv[++i];
			else if (strcmp(a, "--max-distance") == 0)
				o_dist = argv[++i];
			else
				o_gap = argv[++i];
		} else {
			fprintf(stderr, "nts-select: unknown argument '%s' (see --help)\n", a);
			return NK_EXIT_USAGE;
		}
	}

	if (cfgpath != NULL) {
		if (nk_cfg_load(&cfg, cfgpath, &e) < 0) {
			fprintf(stderr, "nts-select: %s\n", e.msg);
			return NK_EXIT_CONFIG;
		}
	} else {
		nk_cfg_defaults(&cfg);
	}
	p.min_agree = cfg.select.min_agree;
	p.max_distance = cfg.select.max_distance;
	stream |= cfg.select.stream;
	round_gap = cfg.select.round_gap;
	/* one range for the flag and the key ([select] min-agree) */
	if (o_min != NULL) {
		if (nk_cfg_set(&cfg, "select", "min-agree", o_min, &e) < 0) {
			fprintf(stderr, "nts-select: --min-agree: %s\n", e.msg);
			return NK_EXIT_USAGE;
		}
		p.min_agree = cfg.select.min_agree;
	}
	if (o_dist != NULL && (nk_cfg_parse_duration(o_dist, 0, &p.max_distance, &e) < 0 ||
			!(p.max_distance > 0))) {
		fprintf(stderr, "nts-select: --max-distance: %s\n",
			p.max_distance > 0 ? e.msg : "must be more than 0");
		return NK_EXIT_USAGE;
	}
	/* [select] round-gap: the flag is checked as the key is */
	if (o_gap != NULL) {
		if (nk_cfg_set(&cfg, "select", "round-gap", o_gap, &e) < 0) {
			fprintf(stderr, "nts-select: --round-gap: %s\n", e.msg);
			return NK_EXIT_USAGE;
		}
		round_gap = cfg.select.round_gap;
	}
	if (p.min_agree == 0)
		p.min_agree = 1;

	nk_sel_init(&set);
	nk_rec_reader_init(&rd, stdin, "stdin");
	if (stream)
		setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		double t = 0;

		if (stream && in_round) {
			/* a round also ends after round_gap seconds without input */
			struct pollfd pfd = { .fd = fileno(stdin), .events = POLLIN };
			int pr;
			/* glibc: input already buffered needs no wait */
			if (stdin->_IO_read_ptr < stdin->_IO_read_end)
				pr = 1;
			else
				pr = poll(&pfd, 1, (int)(round_gap * 1000));
			if (pr == 0) {
				rc = emit(&p, &e);
				if (rc == NK_EXIT_IO) {
					fprintf(stderr, "%s\n", e.msg);
					return rc;
				}
				status = status == 0 ? 0 : rc;
				new_round();
				in_round = 0;
				continue;
			}
		}
		rc = nk_rec_read(&rd, &rec, &e);
		if (rc < 0) {
			fprintf(stderr, "nts-select: %s\n", e.msg);
			return NK_EXIT_DATA;
		}
		if (rc == 0)
			break;
		if (strcmp(rec.type, "session") == 0) {
			if (take_session(&rec, &e) < 0) {
				fprintf(stderr, "nts-select: %s\n", e.msg);
				return NK_EXIT_DATA;
			}
			continue;
		}
		if (strcmp(rec.type, "sample") != 0) {
			/* pass through what we do not consume */
			if (nk_rec_write_raw(stdout, &rec) < 0 || fflush(stdout) != 0) {
				fprintf(stderr, "nts-select: write error: %s\n", strerror(errno));
				return NK_EXIT_IO;
			}
			continue;
		}
		/* a sample far newer than the round's first closes the round */
		{
			double tt;
			const char *tv = nk_rec_get(&rec, "t");
			if (stream && in_round && tv != NULL && (tt = strtod(tv, NULL), isfinite(tt)) &&
					tt - round_first > round_gap) {
				rc = emit(&p, &e);
				if (rc == NK_EXIT_IO) {
					fprintf(stderr, "%s\n", e.msg);
					return rc;
				}
				status = status == 0 ? 0 : rc;
				new_round();
				in_round = 0;
			}
		}
		if (take_sample(&rec, &t, &e) < 0) {
			fprintf(stderr, "nts-select: %s\n", e.msg);
			return NK_EXIT_DATA;
		}
		if (!in_round) {
			in_round = 1;
			round_first = t;
		}
	}
	if (!stream || in_round) {
		rc = emit(&p, &e);
		if (rc == NK_EXIT_IO) {
			fprintf(stderr, "%s\n", e.msg);
			return rc;
		}
		status = status == 0 ? 0 : rc;
	}
	/* stream: 0 when any round gave an offset */
	return status < 0 ? SEL_EXIT_NOSAMPLE : status;
}
