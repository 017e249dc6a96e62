/*
 * nts-adjust: read offset records, step or slew the clock within the panic
 * thresholds, discipline its frequency, write adjust records and a status
 * file for nts-serve. See nts-adjust(8).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "adjust.h"
#include "atomicfile.h"
#include "clock.h"
#include "config.h"
#include "exitcode.h"
#include "leap.h"
#include "record.h"
#include "util.h"

/* tool-specific exit codes (nts-adjust(8), EXIT STATUS) */
#define ADJ_EXIT_REFUSED  3     /* a step beyond a panic threshold was refused */
#define ADJ_EXIT_CLOCK    4     /* the kernel refused a clock call (no CAP_SYS_TIME?) */
#define ADJ_EXIT_NOOFFSET 5     /* no offset record in the input */
#define ADJ_EXIT_STATE    6     /* the state file cannot be read (a malformed one is
				   moved aside: startup thresholds) */

static const char usage[] =
	"usage: nts-adjust [--config FILE] [--dry-run] [--step-threshold SECONDS]\n"
	"                  [--panic-single S|inf] [--panic-startup-forward S|inf]\n"
	"                  [--panic-startup-backward S|inf] [--panic-accumulated S|inf]\n"
	"                  [--status FILE] [--state FILE] [--leap-list FILE|none]\n"
	"                  [--stream] [--explain] [--dry-run --dry-run-status]\n"
	"Reads offset records (stdin), slews (below the step threshold, default\n"
	"0.128 s) or steps the clock within the ntpd-rs style panic thresholds,\n"
	"disciplines the frequency, writes one adjust record per decision.\n"
	"  --dry-run             decide and report, never change the clock or files\n"
	"  --dry-run-status      with --dry-run: still write the --status file, the\n"
	"                        uncorrected |offset| added to its root-disp\n"
	"  --state FILE          frequency, startup flag and accumulated steps (0600)\n"
	"  --status FILE         status record for nts-serve (0644)\n"
	"  --leap-list FILE      leap seconds are armed only if this list (tzdata's\n"
	"                        leap-seconds.list by default) has them; none: not used\n"
	"  --stream              apply every offset record as it comes (else the last)\n"
	"  --explain             decisions, capabilities and clock calls on stderr\n"
	"  --version             print the version and exit\n"
	"A --state file that cannot be parsed is moved aside (FILE.bad-UNIXTIME) and\n"
	"the run counts as a startup (startup panic thresholds), as without a state.\n"
	"Exit: 0 ok, 3 refused by a panic threshold, 4 clock call failed,\n"
	"5 no offset record, 6 state file cannot be read, 64 usage, 65 malformed\n"
	"input, 74 I/O error, 78 bad config.\n";

static int explain, dry_run, dry_status;

struct offrec {
	double t, offset, error, root_delay, root_disp;
	int leap, stratum;
	char refid[64];
};


static int parse_offset(const struct nk_rec *rec, struct offrec *o, struct nk_err *e)
{
	uint64_t u;
	const char *refid;

	memset(o, 0, sizeof *o);
	if (nk_rec_get_range(rec, "t", 0, 1e11, &o->t, e) < 0 ||
			nk_rec_get_range(rec, "offset", -4e9, 4e9, &o->offset, e) < 0 ||
			nk_rec_get_range(rec, "error", 0, 1e6, &o->error, e) < 0 ||
			nk_rec_get_range(rec, "root-delay", 0, 1e6, &o->root_delay, e) < 0 ||
			nk_rec_get_range(rec, "root-disp", 0, 1e6, &o->root_disp, e) < 0)
		return -1;
	if (nk_rec_get_u64(rec, "leap", 3, &u, e) < 0)
		return -1;
	o->leap = (int)u;
	if (nk_rec_get_u64(rec, "stratum", 16, &u, e) < 0)
		return -1;
	o->stratum = (int)u;
	refid = nk_rec_get(rec, "refid");
	if (refid == NULL || strlen(refid) >= sizeof o->refid) {
		nk_rec_field_error(rec, "refid", e, refid == NULL ? "missing in offset record" : "too long");
		return -1;
	}
	strcpy(o->refid, refid);
	return 0;
}

/* ---- state file: one record "adjust-state ..." ---- */

/* 0; -1 when the file cannot be read; -2 when it cannot be parsed (e names
 * the line and field): st is then a startup state, never a half-read one */
static int state_load_file(const char *path, struct nk_adj_state *st, struct nk_err *e)
{
	static struct nk_rec_reader rd;
	struct nk_rec rec;
	FILE *f;
	int rc;
	uint64_t u;

	nk_adj_state_init(st);
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;       /* a new state: startup */
		nk_errf(e, "state file %s: %s", path, strerror(errno));
		return -1;
	}
	nk_rec_reader_init(&rd, f, path);
	rc = nk_rec_read(&rd, &rec, e);
	if (rc == 0) {
		fclose(f);
		return 0;
	}
	if (rc < 0)
		goto bad;
	if (strcmp(rec.type, "adjust-state") != 0) {
		nk_errf(e, "%s:%lu: record type '%s', not adjust-state", path, rec.line, rec.type);
		goto bad;
	}
	if (nk_rec_get_u64(&rec, "started", 1, &u, e) < 0)
		goto bad;
	st->started = (int)u;
	if (nk_rec_get_range(&rec, "created", 0, 1e11, &st->created, e) < 0 ||
			nk_rec_get_range(&rec, "accumulated", 0, 1e12, &st->accumulated, e) < 0 ||
			nk_rec_get_range(&rec, "freq-ppm", -NK_ADJ_MAXFREQ, NK_ADJ_MAXFREQ, &st->freq_ppm, e) < 0 ||
			nk_rec_get_range(&rec, "last-t", 0, 1e11, &st->last_t, e) < 0)
		goto bad;
	if (nk_rec_get_u64(&rec, "loop", 1000000, &u, e) < 0 ||
			nk_rec_get_range(&rec, "loop-start", 0, 1e11, &st->loop_start, e) < 0)
		goto bad;
	st->loop = (unsigned)u;
	if (nk_rec_get_u64(&rec, "updates", UINT32_MAX, &u, e) < 0)
		goto bad;
	st->updates = (unsigned long)u;
	if (nk_rec_get_u64(&rec, "steps", UINT32_MAX, &u, e) < 0)
		goto bad;
	st->steps = (unsigned long)u;
	fclose(f);
	return 0;
bad:
	{
		int io = ferror(f);
		fclose(f);
		nk_adj_state_init(st);
		if (io) {
			nk_errf(e, "state file %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return -2;
}

/* The state tells whether the clock was synchronised before: one that
 * cannot be parsed counts as "never" (startup thresholds), never as past
 * startup without limits. It is moved aside (not in a dry run) so that the
 * next save starts afresh and a human can look at it. */
static int state_load(const char *path, struct nk_adj_state *st, struct nk_err *e)
{
	struct nk_err q;
	char moved[1100];
	int rc = state_load_file(path, st, e);

	if (rc != -2)
		return rc;
	nk_adj_state_init(st);
	if (dry_run) {
		fprintf(stderr, "nts-adjust: state file %s cannot be parsed (%s): treated as never "
			"synchronised (startup thresholds); --dry-run: left in place\n", path, e->msg);
		return 0;
	}
	if (nk_state_quarantine(path, moved, sizeof moved, &q) < 0) {
		fprintf(stderr, "nts-adjust: state file %s cannot be parsed (%s), nor moved aside "
			"(%s): treated as never synchronised (startup thresholds)\n", path, e->msg, q.msg);
		return 0;
	}
	fprintf(stderr, "nts-adjust: state file %s cannot be parsed (%s): moved aside to %s; "
		"treated as never synchronised (startup thresholds)\n", path, e->msg, moved);
	return 0;
}

static int write_rec_file(const char *path, mode_t mode, struct nk_rec_writer *w, struct nk_err *e)
{
	struct nk_atomic a;

	if (nk_atomic_open(&a, path, mode, e) < 0)
		return -1;
	if (nk_recw_end(w, a.f) < 0) {
		nk_errf(e, "%s: write failed", path);
		nk_atomic_abort(&a);
		return -1;
	}
	return nk_atomic_commit(&a, e);
}

static int state_save(const char *path, const struct nk_adj_state *st, struct nk_err *e)
{
	static struct nk_rec_writer w;

	nk_recw_begin(&w, "adjust-state");
	nk_recw_u64(&w, "started", (uint64_t)st->started);
	nk_recw_double(&w, "created", st->created, 6, 0);
	nk_recw_double(&w, "accumulated", st->accumulated, 9, 0);
	nk_recw_double(&w, "freq-ppm", st->freq_ppm, 6, 1);
	nk_recw_double(&w, "last-t", st->last_t, 6, 0);
	nk_recw_u64(&w, "loop", st->loop);
	nk_recw_double(&w, "loop-start", st->loop_start, 6, 0);
	nk_recw_u64(&w, "updates", st->updates);
	nk_recw_u64(&w, "steps", st->steps);
	return write_rec_file(path, 0600, &w, e);
}

/* status record for nts-serve: what an NTP server must advertise */
static int status_save(const char *path, const struct offrec *o, const struct nk_adj_decision *d,
	int leap, struct nk_err *e)
{
	static struct nk_rec_writer w;
	double rd = o->root_disp;

	/* a slew still has |phase| to go: count it as dispersion; a dry run
	 * corrected nothing, so the whole measured offset is still there */
	if (dry_run)
		rd += o->offset < 0 ? -o->offset : o->offset;
	else if (d->action == NK_ADJ_SLEW)
		rd += d->phase < 0 ? -d->phase : d->phase;
	nk_recw_begin(&w, "status");
	nk_recw_double(&w, "t", o->t, 6, 0);
	nk_recw_u64(&w, "stratum", (uint64_t)o->stratum);
	nk_recw_str(&w, "refid", o->refid);
	nk_recw_double(&w, "root-delay", o->root_delay, 9, 0);
	nk_recw_double(&w, "root-disp", rd, 9, 0);
	nk_recw_u64(&w, "leap", (uint64_t)leap);    /* the armed leap second only */
	nk_recw_double(&w, "error", o->error, 9, 0);
	nk_recw_double(&w, "offset", o->offset, 9, 1);
	nk_recw_double(&w, "freq-ppm", d->freq_ppm, 6, 1);
	nk_recw_str(&w, "action", nk_adj_action_word(d->action));
	if (dry_run)
		nk_recw_u64(&w, "dry-run", 1);
	return write_rec_file(path, 0644, &w, e);
}

static int write_adjust(const struct offrec *o, const struct nk_adj_decision *d, int leap)
{
	static struct nk_rec_writer w;
	char reason[120];

	snprintf(reason, sizeof reason, "%s%s", dry_run ? "dry-run," : "", d->reason);
	nk_recw_begin(&w, "adjust");
	nk_recw_double(&w, "t", o->t, 6, 0);
	nk_recw_str(&w, "action", nk_adj_action_word(d->action));
	nk_recw_double(&w, "offset", d->offset, 9, 1);
	nk_recw_double(&w, "freq-ppm", d->freq_ppm, 6, 1);
	nk_recw_u64(&w, "leap", (uint64_t)leap);
	nk_recw_str(&w, "reason", reason);
	return nk_recw_end(&w, stdout);
}

/* ---- --explain: what would be done with one offset record, and why ---- */

/* what became of the leap-seconds list (set in main) */
static char leap_src[160] = "not used (--leap-list none)";
static const struct nk_leap_list *leap_list;

static void fmt_utc(double t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* text after first, words wrapped at 72 columns, next lines after indent */
static void say_wrapped(const char *first, const char *indent, const char *text)
{
	size_t col = strlen(first), n;
	const char *w = text;

	fputs(first, stderr);
	while (*w != 0) {
		while (*w == ' ')
			w++;
		n = strcspn(w, " ");
		if (n == 0)
			break;
		if (col > strlen(indent) && col + 1 + n > 72) {
			fprintf(stderr, "\n%s", indent);
			col = strlen(indent);
		} else if (col > strlen(first) || (col > strlen(indent) && w != text)) {
			fputc(' ', stderr);
			col++;
		}
		fwrite(w, 1, n, stderr);
		col += n;
		w += n;
	}
	fputc('\n', stderr);
}

static void fmt_limit(double v, char *out, size_t cap)
{
	if (isinf(v))
		snprintf(out, cap, "%sinf", v < 0 ? "-" : "");
	else
		snprintf(out, cap, "%.9g", v);
}

static void explain_checks(const struct nk_adj_params *p, const struct nk_adj_state *st,
	const struct offrec *o, const struct nk_adj_decision *d)
{
	struct nk_adj_check c[NK_ADJ_NCHECK];
	char lim[32], word[40];
	int i;

	nk_adj_panic_checks(p, st, o->offset, c);
	fprintf(stderr, "  panic checks (ntpd-rs thresholds%s), %s:\n",
		d->action == NK_ADJ_STEP || d->action == NK_ADJ_REFUSED ? "" : "; a slew meets none",
		st->started ? "past startup" : "at startup (no update yet)");
	for (i = 0; i < NK_ADJ_NCHECK; i++) {
		snprintf(word, sizeof word, "panic-%s", c[i].name);
		fmt_limit(c[i].limit, lim, sizeof lim);
		fprintf(stderr, "    %-16s %s: %.6f vs %s: %s\n", c[i].name, c[i].rule, c[i].value, lim,
			c[i].applies ? (c[i].pass ? "pass" : strcmp(d->reason, word) == 0 ?
			"FAIL, the step is refused" : "FAIL") :
			i == NK_ADJ_CHK_ACCUM && st->started ? "not checked (no limit)" :
			st->started ? "not checked (startup only)" : "not checked at startup");
	}
}

static void explain_loop(const struct nk_adj_state *st, const struct offrec *o, double pending,
	const struct nk_adj_decision *d)
{
	fprintf(stderr, "  frequency: loop k=%u (updates since its reset), ", st->loop);
	if (st->last_t != 0)
		fprintf(stderr, "last update %.3f s ago,\n", o->t - st->last_t);
	else
		fprintf(stderr, "no update before,\n");
	fprintf(stderr, "    kernel slew still pending %+.6f s\n    ", pending);
	if (strcmp(d->reason, "slew") == 0)
		fprintf(stderr, "first update of the loop: the phase in full, frequency kept");
	else if (strcmp(d->reason, "slew-short-interval") == 0)
		fprintf(stderr, "less than %.0f s since the last update: phase only", NK_ADJ_MIN_INTERVAL);
	else if (strcmp(d->reason, "slew-fll") == 0)
		fprintf(stderr, "FLL (up to update %d, or %d once %.0f s have passed since\n"
			"    the reset): the phase in full,\n"
			"    frequency += (offset - pending)/(k x interval), k = %u",
			NK_ADJ_FLL_MAX, NK_ADJ_FLL_MIN, NK_ADJ_FLL_SPAN, st->loop);
	else if (strcmp(d->reason, "slew-pll") == 0)
		fprintf(stderr, "PLL (type II, time constant %.0f updates):\n"
			"    phase %.4f x offset, frequency += (offset - pending)/(%.0f^2 x interval)", NK_ADJ_RPLL,
			2 / NK_ADJ_RPLL, NK_ADJ_RPLL);
	else if (d->action == NK_ADJ_STEP)
		fprintf(stderr, "a step restarts the loop, frequency kept");
	else
		fprintf(stderr, "nothing applied, frequency kept");
	fprintf(stderr, ";\n    frequency %+.6f -> %+.6f ppm (limit +-%.0f)\n", st->freq_ppm, d->freq_ppm,
		NK_ADJ_MAXFREQ);
}

static void explain_leap(const struct offrec *o, const struct nk_leap_decision *ld)
{
	double now = o->t + o->offset, day_end;
	time_t tt = (time_t)now;
	struct tm tm;
	char when[80], exp[80];
	size_t i;
	int listed = 0, before = 0;

	gmtime_r(&tt, &tm);
	fmt_utc(now, when, sizeof when);
	fprintf(stderr, "  leap second: the sources' indicator leap=%d (nts-select: the majority of\n"
		"    its survivors; 0 none, 1 insert, 2 delete, 3 unsynchronised)\n", o->leap);
	fprintf(stderr, "    day rule: armed only on 30 June or 31 December (UTC); the server time\n"
		"    is %s: %s\n", when, (tm.tm_mon == 5 && tm.tm_mday == 30) ||
		(tm.tm_mon == 11 && tm.tm_mday == 31) ? "such a day" : "not such a day");
	fprintf(stderr, "    leap-seconds list: %s", leap_src);
	if (leap_list != NULL && leap_list->have) {
		day_end = (double)(tt - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec)) + 86400;
		for (i = 0; i < leap_list->n; i++) {
			if (leap_list->e[i].at == day_end) {
				listed = leap_list->e[i].tai_utc - before;
				break;
			}
			before = leap_list->e[i].tai_utc;
		}
		fmt_utc(leap_list->expires, exp, sizeof exp);
		fprintf(stderr, ", %zu entries,\n    expires %s: %s; a leap second\n"
			"    at the end of this day: %s", leap_list->n, exp,
			leap_list->expires > now ? "unexpired, it decides" : "expired, not used",
			listed > 0 ? "listed, inserted" : listed < 0 ? "listed, deleted" : "not listed");
	}
	fprintf(stderr, "\n    -> %s:\n", ld->armed == 1 ? "insert armed" : ld->armed == 2 ?
		"delete armed" : "nothing armed");
	say_wrapped("       ", "       ", ld->why);
}

static void explain_decision(const struct nk_adj_params *p, const struct nk_adj_state *st,
	const struct offrec *o, double pending, const struct nk_adj_decision *d,
	const struct nk_leap_decision *ld)
{
	char lim[32];
	double a = o->offset < 0 ? -o->offset : o->offset;

	fprintf(stderr, "nts-adjust: offset record t=%.6f: offset %+.9f s, error %.6f s, stratum %d\n",
		o->t, o->offset, o->error, o->stratum);
	fmt_limit(p->step_threshold, lim, sizeof lim);
	fprintf(stderr, "  action: ");
	if (strcmp(d->reason, "unsynchronised") == 0)
		fprintf(stderr, "the sources say they are unsynchronised (leap=3): nothing\n");
	else if (strcmp(d->reason, "not-newer-than-last-update") == 0)
		fprintf(stderr, "t is not later than the last update (%.6f): nothing (RFC 5905 11.2.3)\n",
			st->last_t);
	else if (d->action == NK_ADJ_SLEW)
		fprintf(stderr, "|offset| %.6f < step threshold %s: slew (RFC 5905 STEPT)\n", a, lim);
	else
		fprintf(stderr, "|offset| %.6f >= step threshold %s: step (RFC 5905 STEPT),\n"
			"    if the panic checks let it\n", a, lim);
	explain_checks(p, st, o, d);
	explain_loop(st, o, pending, d);
	explain_leap(o, ld);
	fprintf(stderr, "  so: %s%s", dry_run && d->action != NK_ADJ_NONE &&
		d->action != NK_ADJ_REFUSED ? "would " : "", d->action == NK_ADJ_REFUSED ?
		"refuse the step, change nothing" : d->action == NK_ADJ_NONE ? "do nothing" :
		nk_adj_action_word(d->action));
	if (d->action == NK_ADJ_SLEW || d->action == NK_ADJ_STEP)
		fprintf(stderr, " %+.9f s", d->phase);
	fprintf(stderr, " (reason %s)\n", d->reason);
	if (dry_run)
		fprintf(stderr, "  (dry run: the clock and the files are left untouched)\n");
}

static int parse_dur(const char *flag, const char *v, int allow_inf, double *out)
{
	struct nk_err e;

	if (nk_cfg_parse_duration(v, allow_inf, out, &e) < 0 || !(*out >= 0)) {
		fprintf(stderr, "nts-adjust: %s: %s\n", flag, *out >= 0 ? e.msg : "must not be negative");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct nk_config cfg;
	static struct nk_rec_reader rd;
	struct nk_rec rec;
	struct nk_adj_params p;
	struct nk_adj_state st;
	struct nk_adj_decision d;
	struct offrec o, last;
	struct nk_err e;
	const char *cfgpath = NULL, *state = NULL, *status = NULL, *leap_path = NULL;
	static struct nk_leap_list leaps;
	struct nk_leap_decision ld;
	const char *o_step = NULL, *o_ps = NULL, *o_pf = NULL, *o_pb = NULL, *o_pa = NULL;
	char capdesc[200];
	double kfreq = 0, pending = 0;
	int stream = 0, i, rc, held = 0, kstatus = 0, have_last = 0, first = 1, any = 0, kread = 0;
	/* before anything is opened: a closed stdin/stdout/stderr must not
	 * become a state file, a lock or a socket */
	if (nk_stdfds_open() < 0)
		return NK_EXIT_SOFTWARE;


	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0)
			return nk_print_version("nts-adjust");
		if (strcmp(a, "--stream") == 0) { stream = 1; continue; }
		if (strcmp(a, "--explain") == 0) { explain = 1; continue; }
		if (strcmp(a, "--dry-run") == 0) { dry_run = 1; continue; }
		if (strcmp(a, "--dry-run-status") == 0) { dry_status = 1; continue; }
		if (strcmp(a, "--config") == 0) slot = &cfgpath;
		else if (strcmp(a, "--state") == 0) slot = &state;
		else if (strcmp(a, "--status") == 0) slot = &status;
		else if (strcmp(a, "--leap-list") == 0) slot = &leap_path;
		else if (strcmp(a, "--step-threshold") == 0) slot = &o_step;
		else if (strcmp(a, "--panic-single") == 0) slot = &o_ps;
		else if (strcmp(a, "--panic-startup-forward") == 0) slot = &o_pf;
		else if (strcmp(a, "--panic-startup-backward") == 0) slot = &o_pb;
		else if (strcmp(a, "--panic-accumulated") == 0) slot = &o_pa;
		if (slot == NULL) {
			fprintf(stderr, "nts-adjust: unknown argument '%s' (see --help)\n", a);
			return NK_EXIT_USAGE;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "nts-adjust: %s needs a value (see --help)\n", a);
			return NK_EXIT_USAGE;
		}
		*slot = argv[++i];
	}

	/* privileges first: keep CAP_SYS_TIME, nothing else */
	if (nk_clock_drop_caps(&held, capdesc, sizeof capdesc, &e) < 0) {
		fprintf(stderr, "nts-adjust: %s\n", e.msg);
		return NK_EXIT_SOFTWARE;
	}
	if (explain)
		fprintf(stderr, "nts-adjust: %s\n", capdesc);

	if (cfgpath != NULL) {
		if (nk_cfg_load(&cfg, cfgpath, &e) < 0) {
			fprintf(stderr, "nts-adjust: %s\n", e.msg);
			return NK_EXIT_CONFIG;
		}
	} else {
		nk_cfg_defaults(&cfg);
	}
	stream |= cfg.adjust.stream;
	dry_run |= cfg.adjust.dry_run;
	p.step_threshold = cfg.adjust.step_threshold;
	p.panic_single = cfg.adjust.panic_single;
	p.panic_startup_forward = cfg.adjust.panic_startup_forward;
	p.panic_startup_backward = cfg.adjust.panic_startup_backward;
	p.panic_accumulated = cfg.adjust.panic_accumulated;
	if (state == NULL && cfg.adjust.state_file[0] != 0)
		state = cfg.adjust.state_file;
	if (status == NULL && cfg.adjust.status_file[0] != 0)
		status = cfg.adjust.status_file;
	if (dry_status && (!dry_run || status == NULL)) {
		fprintf(stderr, "nts-adjust: --dry-run-status: %s\n", !dry_run ?
			"only with --dry-run" : "no status file (--status FILE or [adjust] status)");
		return NK_EXIT_USAGE;
	}
	if ((o_step != NULL && parse_dur("--step-threshold", o_step, 0, &p.step_threshold) < 0) ||
			(o_ps != NULL && parse_dur("--panic-single", o_ps, 1, &p.panic_single) < 0) ||
			(o_pf != NULL && parse_dur("--panic-startup-forward", o_pf, 1, &p.panic_startup_forward) < 0) ||
			(o_pb != NULL && parse_dur("--panic-startup-backward", o_pb, 1, &p.panic_startup_backward) < 0) ||
			(o_pa != NULL && parse_dur("--panic-accumulated", o_pa, 1, &p.panic_accumulated) < 0))
		return NK_EXIT_USAGE;

	if (leap_path == NULL)
		leap_path = cfg.adjust.leap_list;
	if (strcmp(leap_path, "none") != 0) {
		int lr = nk_leap_list_load(&leaps, leap_path, &e);
		snprintf(leap_src, sizeof leap_src, "%s %s", leap_path, lr < 0 ? "unreadable: not used" :
			lr == 1 ? "not found: the sources' majority alone decides" : "loaded");
		leap_list = &leaps;
		if (lr < 0)
			fprintf(stderr, "nts-adjust: %s: not used\n", e.msg);
		else if (explain)
			fprintf(stderr, "nts-adjust: leap seconds: %s %s\n", leap_path, lr == 1 ?
				"not found: a leap second is armed on the sources' majority alone" :
				leaps.expires > (double)time(NULL) ? "loaded" : "loaded, but expired: not used");
	}

	if (state != NULL && state_load(state, &st, &e) < 0) {
		fprintf(stderr, "nts-adjust: %s\n", e.msg);
		return ADJ_EXIT_STATE;
	}
	if (state == NULL)
		nk_adj_state_init(&st);
	if (explain)
		fprintf(stderr, "nts-adjust: state: %s, %s, accumulated steps %.6f s, freq %+.3f ppm, "
			"%lu update(s)\n", state != NULL ? state : "none (every run is a startup)",
			st.started ? "past startup" : "startup", st.accumulated, st.freq_ppm, st.updates);

	nk_rec_reader_init(&rd, stdin, "stdin");
	if (stream)
		setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		rc = nk_rec_read(&rd, &rec, &e);
		if (rc < 0) {
			fprintf(stderr, "nts-adjust: %s\n", e.msg);
			return NK_EXIT_DATA;
		}
		if (rc == 0) {
			if (stream || !have_last)
				break;
			o = last;
			have_last = 0;
		} else if (strcmp(rec.type, "offset") != 0) {
			if (nk_rec_write_raw(stdout, &rec) < 0 || fflush(stdout) != 0) {
				fprintf(stderr, "nts-adjust: write error: %s\n", strerror(errno));
				return NK_EXIT_IO;
			}
			continue;
		} else {
			if (parse_offset(&rec, &o, &e) < 0) {
				fprintf(stderr, "nts-adjust: %s\n", e.msg);
				return NK_EXIT_DATA;
			}
			if (!stream) {
				/* one-shot: the last offset record counts */
				last = o;
				have_last = 1;
				continue;
			}
		}
		any = 1;
		/* the kernel is first touched (read) once a valid offset is in hand:
		 * bad input never reaches a clock call. Read before every
		 * decision: the slew still pending changes as the kernel works. */
		if (!dry_run) {
			if (nk_clock_read(&kfreq, &pending, &kstatus, &e) < 0) {
				fprintf(stderr, "nts-adjust: %s\n", e.msg);
				return ADJ_EXIT_CLOCK;
			}
			if (!kread && st.updates == 0)
				st.freq_ppm = kfreq;    /* nothing learnt yet: keep the kernel's */
			if (explain && !kread)
				fprintf(stderr, "nts-adjust: kernel: freq %+.3f ppm, slew pending %+.6f s, "
					"status 0x%x%s\n", kfreq, pending, (unsigned)kstatus,
					(kstatus & 0x40) ? " (STA_UNSYNC)" : "");
			kread = 1;
		}
		nk_leap_decide(o.leap, o.t + o.offset, &leaps, &ld);
		if (o.leap == 1 || o.leap == 2) {
			if (explain || (dry_run && ld.armed))
				fprintf(stderr, "nts-adjust: leap: %s%s\n", dry_run && ld.armed ? "would " : "",
					ld.why);
		}
		if (o.leap == 3) {
			memset(&d, 0, sizeof d);
			d.action = NK_ADJ_NONE;
			d.offset = o.offset;
			d.freq_ppm = st.freq_ppm;
			snprintf(d.reason, sizeof d.reason, "unsynchronised");
		} else {
			nk_adj_decide(&p, &st, o.t, o.offset, pending, &d);
		}
		if (explain)
			explain_decision(&p, &st, &o, pending, &d, &ld);
		if (explain)
			fprintf(stderr, "nts-adjust: t=%.6f offset %+.9f (pending slew %+.6f): %s, %s; "
				"phase %+.9f s, freq %+.6f ppm\n", o.t, o.offset, pending,
				nk_adj_action_word(d.action), d.reason, d.phase, d.freq_ppm);
		if (!dry_run && (d.action == NK_ADJ_STEP || d.action == NK_ADJ_SLEW)) {
			int err = d.action == NK_ADJ_STEP ? nk_clock_step(d.phase, &e) :
				nk_clock_slew(d.phase, &e);
			if (err == 0)
				err = nk_clock_discipline(d.freq_ppm, d.set_freq || first, ld.armed,
					o.error + (d.phase < 0 ? -d.phase : d.phase),
					o.offset < 0 ? -o.offset : o.offset, &e);
			if (err < 0) {
				fprintf(stderr, "nts-adjust: %s\n", e.msg);
				return ADJ_EXIT_CLOCK;
			}
			first = 0;
		}
		nk_adj_commit(&st, &d, o.t);
		if (write_adjust(&o, &d, ld.armed) < 0) {
			fprintf(stderr, "nts-adjust: writing the adjust record failed\n");
			return NK_EXIT_IO;
		}
		if (d.action == NK_ADJ_REFUSED) {
			fprintf(stderr, "nts-adjust: refused to step %+.6f s: %s (nothing changed)\n",
				o.offset, d.reason);
			return ADJ_EXIT_REFUSED;
		}
		if (!dry_run && (d.action == NK_ADJ_STEP || d.action == NK_ADJ_SLEW)) {
			if (state != NULL && state_save(state, &st, &e) < 0) {
				fprintf(stderr, "nts-adjust: %s\n", e.msg);
				return NK_EXIT_IO;
			}
			if (status != NULL && status_save(status, &o, &d, ld.armed, &e) < 0) {
				fprintf(stderr, "nts-adjust: %s\n", e.msg);
				return NK_EXIT_IO;
			}
		}
		/* --dry-run-status: what a real run would advertise, with the
		 * uncorrected offset counted in the root dispersion */
		if (dry_run && dry_status && (d.action == NK_ADJ_STEP || d.action == NK_ADJ_SLEW) &&
				status_save(status, &o, &d, ld.armed, &e) < 0) {
			fprintf(stderr, "nts-adjust: %s\n", e.msg);
			return NK_EXIT_IO;
		}
		if (rc == 0)
			break;
	}
	if (!any) {
		fprintf(stderr, "nts-adjust: no offset record in the input (nothing changed)\n");
		return ADJ_EXIT_NOOFFSET;
	}
	return 0;
}
