/*
 * nts-poll: NTS-protected NTP (RFC 8915 §5) for the sessions nts-ke made:
 * one `sample` record per authenticated answer (ntskit-records(5)), over
 * UDP, SOCKS5 UDP ASSOCIATE or a TCP relay. See nts-poll(1).
 *
 * Every source is polled in its own child process, all at once; a child
 * sends its sample records, then its updated session (cookies left plus
 * the new ones) and an "end" line, up a pipe. The parent writes samples as
 * they come (flushed per line), keeps the sessions, rewrites the state
 * file, and decides the exit status.
 *
 * A cookie that was sent is never sent again (RFC 8915 §6: a reused cookie
 * links two requests), whatever ends nts-poll: with --state, the cookies a
 * round may send are taken out of the state file (rewritten by rename
 * under its lock) BEFORE the first packet goes out, and the cookies left
 * plus the new ones are merged in after the round. At worst an unused
 * cookie is lost (SIGKILL, a crash), never a used one kept. A child spends
 * its jar front first, one cookie per exchange, so the cookies it may send
 * of the jar it was given are the first min(count, ncookies).
 *
 * SIGTERM, SIGINT, and a reader of stdout that went away (EPIPE; SIGPIPE
 * is ignored) end the round early: each child finishes the exchange in
 * progress and reports, the state file is written, nts-poll exits.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "config.h"
#include "exitcode.h"
#include "fanout.h"
#include "exchange.h"
#include "record.h"
#include "session.h"
#include "transport.h"

/* nts-poll's own exit status (nts-poll(1)) */
#define EXIT_NEED_KE 3   /* some source needs a new NTS-KE (no cookies, or NTS NAK) */
/* circuits = auto through Tor (the relay through an isolating proxy): as
 * many circuits per source as keep a round within NK_POLL_TOR_PATHS
 * circuits in all, at most NK_POLL_TOR_CIRCUITS, at least 1 (8 each for up
 * to 5 sources). nts-poll(1) CIRCUITS says what they buy and cost. */
#define NK_POLL_TOR_CIRCUITS 8
#define NK_POLL_TOR_PATHS 40

#define MAX_SOURCES NK_CFG_MAX_SOURCES

static const char usage[] =
"usage: nts-poll [--config FILE] [--state FILE] [--socks5 HOST:PORT]\n"
"                [--socks5-user U --socks5-pass P] [--relay HOST:PORT] [--direct]\n"
"                [--count N] [--circuits N|auto] [--spacing SECONDS]\n"
"                [--interval SECONDS] [--timeout SECONDS] [--lock-wait SECONDS] [--explain]\n"
"NTS-protected NTP (RFC 8915) for the `session` records of nts-ke: reads them on\n"
"stdin (other record types are passed through) or from --state FILE, writes one\n"
"`sample` record per authenticated answer on stdout.\n"
"  --config FILE        configuration (default /etc/ntskit.conf if it exists)\n"
"  --state FILE         read the sessions from FILE and rewrite it (0600, by rename)\n"
"                       with the cookies left plus the new ones; stdin is not read.\n"
"                       The cookies a round may send are out of FILE before the\n"
"                       first is sent: none is ever sent twice. Each round holds\n"
"                       FILE.lock: no other nts-poll uses the same cookies, an\n"
"                       nts-ke merge waits for the round to end. A FILE that\n"
"                       cannot be parsed is moved aside to FILE.bad-UNIXTIME (exit 3)\n"
"  --lock-wait SECONDS  wait this long for that lock, 0 = not at all (default 120)\n"
"  --socks5 HOST:PORT   NTP through this SOCKS5 proxy (UDP ASSOCIATE)\n"
"  --socks5-user U, --socks5-pass P   SOCKS5 username/password (RFC 1929)\n"
"  --relay HOST:PORT    NTP framed over TCP to this relay (nts-serve), through the\n"
"                       proxy when one is set: the way through Tor\n"
"  --direct             with a proxy that refuses UDP, send NTP directly (NOT anonymous)\n"
"  --count N            samples per source and circuit (default 4)\n"
"  --circuits N|auto    poll each source over N paths at once, 1 to 8, each its own\n"
"                       SOCKS5 isolation login, stream and cookies (samples get\n"
"                       circuit=K); more than 1 needs stream isolation. auto\n"
"                       (default): over the relay through Tor 8, or 40 shared\n"
"                       out among more than 5 sources; else 1\n"
"  --spacing SECONDS    between two samples of a source (default 2; at most 1d)\n"
"  --interval SECONDS   poll every SECONDS, forever (default: once; at most 365d)\n"
"  --timeout SECONDS    for one exchange (default 5; more than 0, at most 600)\n"
"  --explain            decode every packet and check in words on stderr\n"
"  --version            print the version and exit\n"
"SIGTERM, SIGINT or stdout closed by its reader (EPIPE) end the round after the\n"
"exchanges in progress; the state file is written; the exit status is that round's.\n"
"Exit: 0 samples from every source, 1 some sources failed, 2 none answered,\n"
"      3 some source needs a new nts-ke (or the state file was moved aside),\n"
"      64 usage, 65 malformed input record, 74 state file or output I/O,\n"
"      75 state file still locked after --lock-wait, 78 configuration error.\n";

enum { O_CONFIG = 256, O_STATE, O_SOCKS5, O_USER, O_PASS, O_RELAY, O_DIRECT, O_COUNT,
	O_CIRCUITS, O_SPACING, O_INTERVAL, O_TIMEOUT, O_LOCKWAIT, O_EXPLAIN, O_HELP, O_VERSION };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, O_CONFIG },
	{ "state", required_argument, NULL, O_STATE },
	{ "socks5", required_argument, NULL, O_SOCKS5 },
	{ "socks5-user", required_argument, NULL, O_USER },
	{ "socks5-pass", required_argument, NULL, O_PASS },
	{ "relay", required_argument, NULL, O_RELAY },
	{ "direct", no_argument, NULL, O_DIRECT },
	{ "count", required_argument, NULL, O_COUNT },
	{ "circuits", required_argument, NULL, O_CIRCUITS },
	{ "spacing", required_argument, NULL, O_SPACING },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "lock-wait", required_argument, NULL, O_LOCKWAIT },
	{ "explain", no_argument, NULL, O_EXPLAIN },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 }
};

struct source {
	struct nk_session s;
	int denied;          /* authenticated DENY/RSTR: never polled again */
	int needke;          /* NTS NAK or no cookies: run nts-ke */
	int rate;            /* RATE: skip the next round */
	unsigned samples;    /* this round */
	int polled;          /* this round */
	unsigned circuits;   /* this round: paths it is polled over, each its own child */
};

/* One child of a round: a source over one path. A source polled over
 * several paths (circuits > 1) gives each its own slice of the jar, its own
 * SOCKS5 isolation login and its own stream; their samples carry circuit=K. */
struct job {
	struct source *S;
	unsigned k;          /* circuit 1..S->circuits; 0: the source's one path */
	unsigned reserved;   /* cookies out of the state file for this child */
	unsigned target;     /* the jar its placeholders refill (0: NK_NTS_MAX_COOKIES) */
	int got_session;     /* the child sent back its jar */
	struct nk_session jar;   /* what the child starts with, then what it sent back */
};

#define MAX_JOBS (MAX_SOURCES * NK_CFG_MAX_CIRCUITS)

static struct nk_config cfg;
static struct source src[MAX_SOURCES];
static struct job jobs[MAX_JOBS];
static struct nk_fanout_child kids[MAX_JOBS];
static size_t nsrc, njobs;
static const struct run_opts *run_ro;   /* this round's options, for the children */
static struct nk_rec_reader reader;
/* SIGTERM/SIGINT: end the round early, write the state file, exit */
static volatile sig_atomic_t stop_sig;
/* The write end of this round's stop pipe (-1 between rounds): the children
 * hold only the read end, so closing it (on a signal, when stdout went away,
 * or when the parent dies) tells every child to stop after the exchange in
 * progress. A pipe rather than kill(): no PID that could have been reused
 * is ever signalled. */
static volatile sig_atomic_t stop_w = -1;
static int stop_r = -1;
/* stdout failed: EPIPE (the reader went away: a clean end) or another error */
static int out_errno;

static void on_stop(int sig)
{
	stop_sig = sig;
	if (stop_w >= 0) {
		close(stop_w);
		stop_w = -1;
	}
}

/* in a child: only remember */
static void on_stop_child(int sig)
{
	stop_sig = sig;
}

/* Tell this round's children to stop (outside the signal handler). */
static void stop_children(void)
{
	sigset_t b, old;

	sigemptyset(&b);
	sigaddset(&b, SIGTERM);
	sigaddset(&b, SIGINT);
	sigprocmask(SIG_BLOCK, &b, &old);
	if (stop_w >= 0) {
		close(stop_w);
		stop_w = -1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* From here on SIGTERM/SIGINT end nts-poll after the exchanges in progress,
 * with the state file written (or at once while it waits for the lock). */
static void catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* stdout could not be written: remember why, stop the round */
static void out_failed(int err)
{
	if (out_errno == 0) {
		out_errno = err ? err : EIO;
		if (out_errno != EPIPE)
			fprintf(stderr, "nts-poll: writing records: %s: stopping after the exchanges "
				"in progress\n", strerror(out_errno));
	}
	stop_children();
}

struct run_opts {
	unsigned count;
	unsigned circuits;      /* --circuits, [poll] circuits; 0: auto */
	int circuits_flag;      /* 1: --circuits given: it beats [source] circuits */
	double spacing, timeout;
	int explain;
	struct tp_conf tc;
	const struct nk_socks5_proxy *proxy;
	int isolate;
};

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "nts-poll: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see nts-poll --help)\n");
	exit(NK_EXIT_USAGE);
}

static struct source *find_source(const char *name)
{
	for (size_t i = 0; i < nsrc; i++)
		if (strcmp(src[i].s.source, name) == 0)
			return &src[i];
	return NULL;
}

/* Read session records; others go to stdout when passthrough. Returns 0;
 * -1 on a malformed record, -2 when the input could not be read (bad says
 * which line and field, or why). With again (a later round of --state --interval),
 * the state file is the truth: each source's session is taken from it, and
 * a source whose session is new (another NTS-KE since) is polled again even
 * if it had no cookies or was refused. */
static int read_sessions(FILE *in, const char *name, int passthrough, int again,
	struct nk_err *bad)
{
	struct nk_rec rec;
	int rc, seen[MAX_SOURCES] = { 0 };

	nk_rec_reader_init(&reader, in, name);
	while ((rc = nk_rec_read(&reader, &rec, bad)) == 1) {
		struct source *s;
		if (strcmp(rec.type, "session") != 0) {
			if (passthrough && !out_errno && nk_rec_write_raw(stdout, &rec) < 0)
				out_failed(errno);
			continue;
		}
		{
			static struct nk_session tmp;
			if (nk_session_from_rec(&tmp, &rec, bad) < 0) {
				rc = -1;
				break;
			}
			s = find_source(tmp.source);
			if (s != NULL && seen[s - src]) {
				fprintf(stderr, "nts-poll: %s:%lu: a second session for source %s: "
					"the later one is used\n", name, rec.line, tmp.source);
			} else if (s == NULL) {
				if (nsrc == MAX_SOURCES) {
					nk_errf(bad, "%s:%lu: more than %d sessions", name, rec.line,
						MAX_SOURCES);
					nk_session_wipe(&tmp);
					rc = -1;
					break;
				}
				s = &src[nsrc++];
			} else if (again && tmp.ke_at != s->s.ke_at) {
				s->denied = s->needke = s->rate = 0;
			}
			seen[s - src] = 1;
			nk_session_wipe(&s->s);
			s->s = tmp;
			nk_session_wipe(&tmp);
		}
	}
	/* the reader's buffers held keys and cookies */
	nk_wipe(reader.raw, sizeof reader.raw);
	nk_wipe(reader.buf, sizeof reader.buf);
	if (passthrough && !out_errno && fflush(stdout) != 0)
		out_failed(errno);
	if (rc < 0)
		return ferror(in) ? -2 : -1;
	return 0;
}

static double lock_wait = NK_STATELOCK_WAIT;   /* --lock-wait, [poll] lock-wait */

/* Lock the state file (nk_statelock) and read its sessions: the lock is held
 * for the whole round, so no other nts-poll uses the same cookies and no
 * nts-ke merge is overwritten. Returns the lock; -2 when another program
 * held it for --lock-wait seconds, -1 on I/O errors (said on stderr), -3
 * when the file could not be parsed: it is moved aside (FILE.bad-UNIXTIME,
 * nk_state_quarantine) with one warning, and a new NTS-KE is needed. */
static int lock_and_read(const char *path, int again, int explain)
{
	struct nk_err e, bad;
	char moved[1100];
	FILE *f;
	int lk, rc;

	lk = nk_statelock(path, lock_wait, &stop_sig, &e);
	if (lk < 0) {
		fprintf(stderr, "nts-poll: %s\n", e.msg);
		return lk;
	}
	if (explain)
		fprintf(stderr, "nts-poll: state file %s locked (%s.lock) for this round\n", path, path);
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "nts-poll: state file %s: %s\n", path, strerror(errno));
		nk_stateunlock(lk);
		return -1;
	}
	rc = read_sessions(f, path, 0, again, &bad);
	fclose(f);
	if (rc == -2) {
		fprintf(stderr, "nts-poll: state file %s: %s\n", path, bad.msg);
		nk_stateunlock(lk);
		return -1;
	}
	if (rc == -1) {
		if (nk_state_quarantine(path, moved, sizeof moved, &e) < 0) {
			fprintf(stderr, "nts-poll: state file: %s (after: %s)\n", e.msg, bad.msg);
			nk_stateunlock(lk);
			return -1;
		}
		fprintf(stderr, "nts-poll: state file %s cannot be parsed (%s): moved aside to %s; "
			"run nts-ke for new sessions\n", path, bad.msg, moved);
		for (size_t i = 0; i < nsrc; i++)
			nk_session_wipe(&src[i].s);
		nsrc = 0;
		nk_stateunlock(lk);
		return -3;
	}
	return lk;
}

/* Rewrite the state file: every line kept, the session of each source we
 * polled replaced in place by its new state, new sources appended. */
static int write_state(const char *path, struct nk_err *e)
{
	struct nk_atomic a;
	struct nk_rec rec;
	FILE *old;
	int rc, written[MAX_SOURCES] = { 0 };

	if (nk_atomic_open(&a, path, 0600, e) < 0)
		return -1;
	old = fopen(path, "r");
	if (old != NULL) {
		nk_rec_reader_init(&reader, old, path);
		while ((rc = nk_rec_read(&reader, &rec, e)) == 1) {
			const char *n = nk_rec_get(&rec, "source");
			struct source *s = NULL;
			if (strcmp(rec.type, "session") == 0 && n != NULL)
				s = find_source(n);
			if (s == NULL) {
				nk_rec_write_raw(a.f, &rec);
			} else if (!written[s - src]) {
				written[s - src] = 1;
				if (nk_session_write(&s->s, a.f, e) < 0)
					rc = -1;
			}
			if (rc < 0)
				break;
		}
		fclose(old);
		nk_wipe(reader.raw, sizeof reader.raw);
		nk_wipe(reader.buf, sizeof reader.buf);
		if (rc < 0) {
			nk_atomic_abort(&a);
			return -1;
		}
	}
	for (size_t i = 0; i < nsrc; i++)
		if (!written[i] && nk_session_write(&src[i].s, a.f, e) < 0) {
			nk_atomic_abort(&a);
			return -1;
		}
	return nk_atomic_commit(&a, e);
}

/* refid in words: 1-4 ASCII characters for stratum 0/1 (RFC 5905 §7.3),
 * a dotted IPv4 address (or hash, shown the same way) above; hex when the
 * characters are not printable. */
static void refid_str(char *o, size_t cap, const struct nk_ntp_hdr *h)
{
	const uint8_t *r = h->refid;
	if (h->stratum <= 1) {
		size_t n = 0;
		int ok = 1;
		while (n < 4 && r[n] != 0)
			n++;
		for (size_t i = 0; i < 4; i++)
			if ((i < n && (r[i] < 0x21 || r[i] > 0x7e)) || (i >= n && r[i] != 0))
				ok = 0;
		if (ok && n > 0) {
			snprintf(o, cap, "%.*s", (int)n, (const char *)r);
			return;
		}
		snprintf(o, cap, "0x%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
		return;
	}
	snprintf(o, cap, "%u.%u.%u.%u", r[0], r[1], r[2], r[3]);
}

static int write_sample(FILE *out, const struct nk_session *s, const struct tp *t,
	const struct px_out *px, unsigned circuit)
{
	static struct nk_rec_writer w;
	char hp[NK_SESSION_HOST_MAX + 16], refid[16];

	nk_hostport_format(hp, sizeof hp, s->ntp_host, s->ntp_port);
	refid_str(refid, sizeof refid, &px->hdr);
	nk_recw_begin(&w, "sample");
	nk_recw_str(&w, "source", s->source);
	nk_recw_str(&w, "ntp", hp);
	nk_recw_double(&w, "t", px->t4, 6, 0);
	nk_recw_double(&w, "offset", px->offset, 9, 1);
	nk_recw_double(&w, "delay", px->delay, 9, 0);
	nk_recw_double(&w, "disp", px->disp, 9, 0);
	nk_recw_u64(&w, "stratum", px->hdr.stratum);
	nk_recw_u64(&w, "leap", px->hdr.leap);
	nk_recw_str(&w, "refid", refid);
	nk_recw_i64(&w, "precision", px->hdr.precision);
	nk_recw_double(&w, "root-delay", nk_ntp_short_to_double(px->hdr.root_delay), 6, 0);
	nk_recw_double(&w, "root-disp", nk_ntp_short_to_double(px->hdr.root_disp), 6, 0);
	nk_recw_str(&w, "auth", "nts");
	nk_recw_u64(&w, "aead", s->aead);
	nk_recw_str(&w, "via", tp_via(t));
	if (circuit > 0)
		nk_recw_u64(&w, "circuit", circuit);
	nk_recw_i64(&w, "not-before", s->not_before);
	nk_recw_i64(&w, "not-after", s->not_after);
	return nk_recw_end(&w, out);
}

static void sleep_s(double s)
{
	struct timespec ts;
	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_sig)
		;
}

/* In a child: has the parent asked us to stop (its end of the stop pipe
 * closed: a signal, stdout gone, or the parent died) or did a signal come? */
static int child_stopped(void)
{
	struct pollfd p = { .fd = stop_r, .events = POLLIN };
	if (stop_sig)
		return 1;
	return stop_r >= 0 && poll(&p, 1, 0) > 0;
}

/* In a child: wait s seconds, less when told to stop. */
static void child_wait(double s)
{
	double end = nk_mono_s() + s, left;
	while (!stop_sig && (left = end - nk_mono_s()) > 0) {
		struct pollfd p = { .fd = stop_r, .events = POLLIN };
		int ms = left > 1000 ? 1000000 : (int)(left * 1000) + 1;
		if (stop_r < 0) {
			sleep_s(left);
			return;
		}
		if (poll(&p, 1, ms) > 0)
			return;
	}
}

/* One source over one path, one round, in a child process; results up the
 * pipe wfd. */
static void child(struct job *J, int wfd, const struct run_opts *ro)
{
	struct nk_session *s = &J->jar;
	struct nk_socks5_proxy p;
	struct tp_conf tc = ro->tc;
	struct px_opts po;
	struct px_out px;
	struct nk_err e;
	static struct tp t;
	char lbl[NK_SESSION_NAME_MAX + 32];
	int ok = 0, fail = 0, needke = 0, deny = 0, rate = 0, fatal = 0, r;
	FILE *out = fdopen(wfd, "w");

	memset(&e, 0, sizeof e);
	memset(&po, 0, sizeof po);
	if (J->k > 0)
		snprintf(lbl, sizeof lbl, "%s circuit %u/%u", s->source, J->k, J->S->circuits);
	else
		snprintf(lbl, sizeof lbl, "%s", s->source);
	tc.source = lbl;
	if (ro->proxy != NULL) {
		p = *ro->proxy;
		if (ro->isolate) {
			if (nk_socks5_isolate(&p, &e) < 0) {
				fprintf(stderr, "nts-poll: %s: %s\n", lbl, e.msg);
				fatal = 1;
				goto end;
			}
			tc.isolated = 1;
			if (ro->explain)
				fprintf(stderr, "nts-poll: %s: Tor stream isolation: own random SOCKS5 "
					"username/password, so its own circuit\n", lbl);
		}
		tc.proxy = &p;
	}
	r = tp_open(&t, &tc, s->ntp_host, s->ntp_port, &e);
	if (r < 0) {
		fprintf(stderr, "nts-poll: %s: %s\n", lbl, e.msg);
		fatal = 1;
		goto end;
	}
	po.source = lbl;
	po.timeout_ms = (int)(ro->timeout * 1000);
	po.explain = ro->explain ? stderr : NULL;
	po.jar_target = J->target;
	for (unsigned i = 0; i < ro->count; i++) {
		enum px_result res;
		if (i > 0)
			child_wait(ro->spacing);
		/* stopped: the cookies not sent go back into the state file */
		if (child_stopped())
			break;
		res = px_exchange(&t, s, &po, &px, &e);
		switch (res) {
		case PX_SAMPLE:
			if (write_sample(out, s, &t, &px, J->k) < 0) {
				fprintf(stderr, "nts-poll: %s: cannot write the sample record\n", lbl);
				fatal = 1;
				goto close;
			}
			ok++;
			break;
		case PX_UNSYNC:
		case PX_TIMEOUT:
			fprintf(stderr, "nts-poll: %s: %s\n", lbl, e.msg);
			fail++;
			break;
		case PX_NOCOOKIE:
			if (J->k > 0) {
				/* its slice is spent (answers lost); the source's jar
				 * decides whether a new NTS-KE is needed (round_once) */
				fprintf(stderr, "nts-poll: %s: the cookies of this circuit are used up "
					"(answers lost): no more polls on it this round\n", lbl);
				fail++;
				goto close;
			}
			fprintf(stderr, "nts-poll: %s: %s\n", lbl, e.msg);
			needke = 1;
			goto close;
		case PX_ERROR:
			fprintf(stderr, "nts-poll: %s: %s\n", lbl, e.msg);
			fatal = 1;
			goto close;
		case PX_KOD:
			fail++;
			if (strcmp(px.kiss, "NTSN") == 0) {
				/* RFC 8915 §5.7 + nts.h policy: keep the cookies until a
				 * new NTS-KE succeeds; the exit status asks for one */
				fprintf(stderr, "nts-poll: %s: Kiss-o'-Death NTSN (%sauthenticated): the "
					"server cannot use our cookies; run nts-ke for this source "
					"(the %u cookies left are kept until then)\n", lbl,
					px.kod_auth ? "" : "un", s->ncookies);
				needke = 1;
				goto close;
			}
			if (strcmp(px.kiss, "RATE") == 0) {
				fprintf(stderr, "nts-poll: %s: Kiss-o'-Death RATE (%sauthenticated): "
					"backing off, no more polls of this source this round\n",
					lbl, px.kod_auth ? "" : "un");
				rate = 1;
				goto close;
			}
			if (strcmp(px.kiss, "DENY") == 0 || strcmp(px.kiss, "RSTR") == 0) {
				if (px.kod_auth) {
					fprintf(stderr, "nts-poll: %s: authenticated Kiss-o'-Death %s: the "
						"server refuses us; this source is not used again\n",
						lbl, px.kiss);
					deny = 1;
				} else {
					fprintf(stderr, "nts-poll: %s: unauthenticated Kiss-o'-Death %s: "
						"no more polls this round (not trusted enough to drop the "
						"source for good)\n", lbl, px.kiss);
				}
				goto close;
			}
			fprintf(stderr, "nts-poll: %s: Kiss-o'-Death %s (%sauthenticated): no sample\n",
				lbl, px.kiss, px.kod_auth ? "" : "un");
			break;
		}
	}
close:
	tp_close(&t);
end:
	if (nk_session_write(s, out, &e) < 0)
		fprintf(stderr, "nts-poll: %s: %s\n", lbl, e.msg);
	fprintf(out, "end ok=%d fail=%d needke=%d deny=%d rate=%d fatal=%d\n", ok, fail, needke,
		deny, rate, fatal);
	fclose(out);
	nk_session_wipe(s);
	if (ro->proxy != NULL)
		nk_socks5_proxy_wipe(&p);
	_exit(0);
}

/* In the child: SIGTERM/SIGINT (Ctrl-C reaches the whole process group)
 * end it after the exchange in progress, with its jar reported. */
static void child_start(void *arg, int wfd)
{
	struct job *J = arg;
	struct sigaction sa;
	int w = stop_w;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_child;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	stop_w = -1;
	if (w >= 0)
		close(w);       /* only the parent holds the write end */
	child(J, wfd, run_ro);
}

static void child_line(struct job *J, char *line, size_t len)
{
	struct source *S = J->S;

	if (strncmp(line, "sample ", 7) == 0) {
		/* stdout gone: the round stops, the state file is still written */
		if (!out_errno) {
			fwrite(line, 1, len, stdout);
			fputc('\n', stdout);
			if (fflush(stdout) != 0)
				out_failed(errno);
		}
		S->samples++;
	} else if (strncmp(line, "session ", 8) == 0) {
		static struct nk_session tmp;
		struct nk_rec rec;
		struct nk_err e;
		if (nk_rec_parse_line(line, len, S->s.source, 1, &rec, &e) == 1 &&
		    nk_session_from_rec(&tmp, &rec, &e) == 0 && strcmp(tmp.source, S->s.source) == 0) {
			nk_session_wipe(&J->jar);
			J->jar = tmp;
			J->got_session = 1;
		} else {
			fprintf(stderr, "nts-poll: %s: internal: bad session from the child\n", S->s.source);
		}
		nk_session_wipe(&tmp);
	} else if (strncmp(line, "end ", 4) == 0) {
		int ok, fail, needke, deny, rate, fatal;
		if (sscanf(line, "end ok=%d fail=%d needke=%d deny=%d rate=%d fatal=%d", &ok, &fail,
			   &needke, &deny, &rate, &fatal) == 6) {
			S->needke |= needke;
			S->denied |= deny;
			S->rate |= rate;
		}
	}
}

static void on_line(void *arg, size_t i, char *text, size_t len)
{
	(void)arg;
	child_line(&jobs[i], text, len);
}

/* How many paths a source is polled over: --circuits, else its [source]
 * circuits, else [poll] circuits, else auto: when NTP goes over the TCP
 * relay through a proxy with stream isolation (Tor), NK_POLL_TOR_PATHS
 * shared out among the run's sources (NK_POLL_TOR_CIRCUITS at most, 1 at
 * least); 1 otherwise. main() refused more than one without isolation. */
static unsigned circuits_for(const struct run_opts *ro, const char *name)
{
	const struct nk_cfg_source *c = nk_cfg_source_find(&cfg, name);

	if (ro->circuits_flag && ro->circuits > 0)
		return ro->circuits;
	if (!ro->circuits_flag && c != NULL && c->circuits > 0)
		return c->circuits;
	if (ro->circuits > 0)
		return ro->circuits;
	if (ro->tc.relay_host != NULL && ro->proxy != NULL && ro->isolate) {
		size_t share = nsrc > 0 ? NK_POLL_TOR_PATHS / nsrc : NK_POLL_TOR_CIRCUITS;
		return share >= NK_POLL_TOR_CIRCUITS ? NK_POLL_TOR_CIRCUITS : share < 1 ? 1 : (unsigned)share;
	}
	return 1;
}

/* A new child of this round: a copy of S's session with an empty jar */
static struct job *new_job(struct source *S, unsigned k)
{
	struct job *J = &jobs[njobs++];

	memset(J, 0, sizeof *J);
	J->S = S;
	J->k = k;
	J->jar = S->s;
	J->jar.ncookies = 0;
	nk_wipe(J->jar.cookie, sizeof J->jar.cookie);
	return J;
}

/* Hand out S's cookies for this round (they leave S->s, and so the state
 * file, before anything is sent). One path: the child gets the whole jar
 * and spends it front first, so the cookies it may send are the first
 * min(count, ncookies). Several: up to count cookies per circuit are dealt
 * out one by one, and each circuit's placeholders aim at its share of a
 * full jar, less what stays behind. */
static void deal_cookies(struct source *S, const struct run_opts *ro)
{
	uint8_t c[NK_SESSION_COOKIE_MAX];
	size_t first = njobs, m;
	unsigned n = S->circuits, want, left;
	size_t len;

	if (n <= 1) {
		struct job *J = new_job(S, 0);
		J->jar = S->s;
		while (J->reserved < ro->count && nk_session_take_cookie(&S->s, c, sizeof c) > 0)
			J->reserved++;
		nk_wipe(c, sizeof c);
		return;
	}
	want = n * ro->count;
	m = S->s.ncookies < n ? S->s.ncookies : n;   /* circuits that get a cookie */
	for (unsigned k = 1; k <= m; k++)
		new_job(S, k);
	for (unsigned i = 0; i < want && (len = nk_session_take_cookie(&S->s, c, sizeof c)) > 0; i++) {
		struct job *J = &jobs[first + i % m];
		nk_session_add_cookie(&J->jar, c, len);
		J->reserved++;
	}
	nk_wipe(c, sizeof c);
	/* a full jar after the round: the cookies left here plus each circuit's */
	left = NK_SESSION_MAX_COOKIES - S->s.ncookies;
	for (size_t i = 0; i < m; i++)
		jobs[first + i].target = (unsigned)(left / m + (i < left % m));
}

/* One round over every usable source. With a state file, the cookies the
 * round may send are out of it before the first child starts (write-ahead;
 * -1 when that write failed: nothing was sent). Returns how many sources
 * were polled. */
static long round_once(const struct run_opts *ro, const char *state)
{
	size_t polled = 0;
	int p[2];
	struct nk_err e;
	/* each exchange: timeout + spacing; opening a proxy association: up to
	 * one timeout per SOCKS5 step; the circuits of a source run at once */
	double limit = (double)ro->count * (ro->timeout + ro->spacing) + 5 * ro->timeout + 5;

	fflush(NULL);
	run_ro = ro;
	njobs = 0;
	for (size_t i = 0; i < nsrc; i++) {
		struct source *S = &src[i];
		S->polled = 0;
		S->samples = 0;
		if (S->denied)
			continue;
		if (S->rate) {
			S->rate = 0;
			fprintf(stderr, "nts-poll: %s: skipped this round (rate limited last round)\n",
				S->s.source);
			continue;
		}
		if (S->s.ncookies == 0) {
			fprintf(stderr, "nts-poll: %s: no cookies left: run nts-ke for this source\n",
				S->s.source);
			S->needke = 1;
			S->polled = 1;
			continue;
		}
		S->polled = 1;
		S->circuits = circuits_for(ro, S->s.source);
		if (ro->explain && S->circuits > 1)
			fprintf(stderr, "nts-poll: %s: %u circuits at once, each its own SOCKS5 "
				"isolation login, stream and cookies (%u in the jar), up to %u sample(s) "
				"each\n", S->s.source,
				S->circuits, S->s.ncookies, ro->count);
		deal_cookies(S, ro);
		polled++;
	}
	if (polled == 0)
		return 0;
	nk_fanout_init(kids, njobs);
	if (state != NULL && write_state(state, &e) < 0) {
		fprintf(stderr, "nts-poll: state file (before sending): %s: nothing sent\n", e.msg);
		for (size_t i = 0; i < njobs; i++)
			nk_session_wipe(&jobs[i].jar);
		return -1;
	}
	if (pipe(p) < 0) {
		perror("nts-poll: pipe");
		exit(NK_EXIT_SOFTWARE);
	}
	stop_r = p[0];
	stop_w = p[1];
	if (stop_sig || out_errno)
		stop_children();   /* already told to stop: the children only report */
	for (size_t i = 0; i < njobs; i++) {
		if (jobs[i].reserved == 0)
			continue;
		if (nk_fanout_start(kids, njobs, i, child_start, &jobs[i]) < 0) {
			perror("nts-poll: starting a poller");
			exit(NK_EXIT_SOFTWARE);
		}
	}

	/* collect, with a hard stop well after the children's own limits */
	nk_fanout_collect(kids, njobs, limit, on_line, NULL);
	stop_children();
	close(stop_r);
	stop_r = -1;
	for (size_t i = 0; i < njobs; i++) {
		struct job *J = &jobs[i];
		struct source *S = J->S;
		char lbl[40] = "";
		if (J->k > 0)
			snprintf(lbl, sizeof lbl, " circuit %u/%u", J->k, S->circuits);
		if (kids[i].killed)
			fprintf(stderr, "nts-poll: %s%s: did not finish in %.0f s: stopped\n",
				S->s.source, lbl, limit);
		/* the child may have sent any of the cookies it was given:
		 * they stay out of the jar, never risk using one twice (RFC 8915
		 * §6, unlinkability) */
		if (J->reserved > 0 && !J->got_session)
			fprintf(stderr, "nts-poll: %s%s: no result from the poller: %u cookie(s) it "
				"may have used are dropped\n", S->s.source, lbl, J->reserved);
		if (J->got_session && J->k == 0) {
			nk_session_wipe(&S->s);
			S->s = J->jar;
		} else if (J->got_session) {
			/* what the circuit did not send, and what it got */
			for (unsigned c = 0; c < J->jar.ncookies; c++)
				nk_session_add_cookie(&S->s, J->jar.cookie[c], J->jar.cookie_len[c]);
		}
		nk_session_wipe(&J->jar);
	}
	for (size_t i = 0; i < nsrc; i++)
		if (src[i].polled && src[i].circuits > 1 && src[i].s.ncookies == 0 && !src[i].denied) {
			fprintf(stderr, "nts-poll: %s: no cookies left after this round: run nts-ke "
				"for this source\n", src[i].s.source);
			src[i].needke = 1;
		}
	return (long)polled;
}

/* More than one circuit means something only where each path is its own
 * SOCKS5 login that the proxy keeps apart (Tor stream isolation): refused
 * otherwise, for the flag and every place of the file. 0 or -1 (said). */
static int check_circuits(const struct run_opts *ro, const char *flag)
{
	const char *where = NULL;
	char w[NK_CFG_PATH + NK_CFG_NAME + 64];

	if (ro->proxy != NULL && ro->isolate)
		return 0;
	if (flag != NULL && ro->circuits > 1) {
		snprintf(w, sizeof w, "--circuits %u", ro->circuits);
		where = w;
	} else if (flag == NULL && cfg.poll.circuits > 1) {
		snprintf(w, sizeof w, "%s: [poll] circuits = %u", cfg.path, cfg.poll.circuits);
		where = w;
	}
	for (size_t i = 0; where == NULL && flag == NULL && i < cfg.nsources; i++)
		if (cfg.source[i].circuits > 1) {
			snprintf(w, sizeof w, "%s: [source %s] circuits = %u", cfg.path,
				cfg.source[i].name, cfg.source[i].circuits);
			where = w;
		}
	if (where == NULL)
		return 0;
	fprintf(stderr, "nts-poll: %s: more than one circuit needs a SOCKS5 proxy with stream "
		"isolation (each circuit its own login: isolate = yes, or Tor's port 9050/9150 "
		"without a user); %s every path would be the same\n", where,
		ro->proxy == NULL ? "without a proxy" : "with one login");
	return -1;
}

static int round_status(void)
{
	size_t ok = 0, bad = 0;
	int needke = 0;
	for (size_t i = 0; i < nsrc; i++) {
		if (src[i].needke)
			needke = 1;
		if (src[i].samples > 0)
			ok++;
		else
			bad++;
	}
	if (needke)
		return EXIT_NEED_KE;
	if (bad == 0)
		return NK_EXIT_OK;
	return ok > 0 ? NK_EXIT_PARTIAL : NK_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *opt_socks5 = NULL, *opt_user = NULL, *opt_pass = NULL;
	const char *opt_state = NULL, *opt_relay = NULL, *opt_lockwait = NULL;
	const char *opt_circuits = NULL;
	/* --spacing, --interval, --timeout: checked as the [poll] keys are */
	static const char *const span_key[3] = { "spacing", "interval", "timeout" };
	const char *opt_span[3] = { NULL, NULL, NULL };
	int c, explain = 0, direct = 0, status, lock = -1;
	long count = -1;
	double interval;
	struct nk_socks5_proxy proxy;
	static char relay_host[NK_CFG_HOST];
	uint16_t relay_port = 0;
	struct run_opts ro;
	struct nk_err e;

	memset(&ro, 0, sizeof ro);
	/* before anything is opened: a closed stdin/stdout/stderr must not
	 * become a state file, a lock or a socket */
	if (nk_stdfds_open() < 0)
		return NK_EXIT_SOFTWARE;
	/* a reader of stdout that went away is EPIPE, handled: the state file
	 * is still written (children inherit this: a parent gone is EPIPE) */
	signal(SIGPIPE, SIG_IGN);

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_CONFIG: config = optarg; break;
		case O_STATE: opt_state = optarg; break;
		case O_SOCKS5: opt_socks5 = optarg; break;
		case O_USER: opt_user = optarg; break;
		case O_PASS: opt_pass = optarg; break;
		case O_RELAY: opt_relay = optarg; break;
		case O_DIRECT: direct = 1; break;
		case O_COUNT: {
			uint64_t v;
			if (nk_parse_u64(optarg, 1000, &v) < 0 || v == 0)
				die_usage("--count: '%s' is not a number from 1 to 1000", optarg);
			count = (long)v;
			break;
		}
		case O_CIRCUITS: opt_circuits = optarg; break;
		case O_SPACING: opt_span[0] = optarg; break;
		case O_INTERVAL: opt_span[1] = optarg; break;
		case O_TIMEOUT: opt_span[2] = optarg; break;
		case O_LOCKWAIT: opt_lockwait = optarg; break;
		case O_EXPLAIN: explain = 1; break;
		case O_HELP: fputs(usage, stdout); return NK_EXIT_OK;
		case O_VERSION: return nk_print_version("nts-poll");
		default: fputs("(see nts-poll --help)\n", stderr); return NK_EXIT_USAGE;
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s' (sessions come on stdin or from --state)", argv[optind]);

	/* configuration: the file first, then flags override it */
	if (config == NULL && access(NK_CFG_DEFAULT_PATH, R_OK) == 0)
		config = NK_CFG_DEFAULT_PATH;
	if (config != NULL) {
		if (nk_cfg_load(&cfg, config, &e) < 0) {
			fprintf(stderr, "nts-poll: %s\n", e.msg);
			return NK_EXIT_CONFIG;
		}
	} else {
		nk_cfg_defaults(&cfg);
	}
	/* [poll] lock-wait: the flag is checked as the key is */
	if (opt_lockwait != NULL && nk_cfg_set(&cfg, "poll", "lock-wait", opt_lockwait, &e) < 0)
		die_usage("--lock-wait: %s", e.msg);
	lock_wait = cfg.poll.lock_wait;
	/* --circuits: checked as [poll] circuits is */
	if (opt_circuits != NULL) {
		unsigned file = cfg.poll.circuits;
		if (nk_cfg_set(&cfg, "poll", "circuits", opt_circuits, &e) < 0)
			die_usage("--circuits: %s", e.msg);
		ro.circuits = cfg.poll.circuits;
		ro.circuits_flag = 1;
		cfg.poll.circuits = file;
	}
	if (opt_state == NULL && cfg.poll.state[0])
		opt_state = cfg.poll.state;
	if (!ro.circuits_flag)
		ro.circuits = cfg.poll.circuits;
	ro.count = count > 0 ? (unsigned)count : (cfg.poll.count ? cfg.poll.count : 4);
	for (size_t i = 0; i < 3; i++)
		if (opt_span[i] != NULL && nk_cfg_set(&cfg, "poll", span_key[i], opt_span[i], &e) < 0) {
			char m[sizeof e.msg + 16];
			snprintf(m, sizeof m, "--%s: %s", span_key[i], e.msg);
			die_usage("%s", m);
		}
	ro.spacing = cfg.poll.spacing;
	ro.timeout = cfg.poll.timeout;
	interval = cfg.poll.interval;
	ro.explain = explain;
	direct |= cfg.proxy.direct;

	/* proxy: flags override [proxy] */
	if (opt_socks5 != NULL || cfg.proxy.set) {
		char hp[NK_CFG_HOST + 16];
		if (opt_socks5 == NULL)
			nk_hostport_format(hp, sizeof hp, cfg.proxy.socks5.host, cfg.proxy.socks5.port);
		if (nk_socks5_proxy_parse(&proxy, opt_socks5 ? opt_socks5 : hp, 1080, &e) < 0) {
			fprintf(stderr, "nts-poll: proxy: %s\n", e.msg);
			return opt_socks5 ? NK_EXIT_USAGE : NK_EXIT_CONFIG;
		}
		proxy.timeout_ms = (int)(ro.timeout * 1000);
		if (opt_user == NULL && opt_socks5 == NULL && cfg.proxy.user[0]) {
			opt_user = cfg.proxy.user;
			opt_pass = cfg.proxy.pass;
		}
		if ((opt_user == NULL) != (opt_pass == NULL))
			die_usage("%s", "--socks5-user and --socks5-pass go together");
		if (opt_user != NULL && nk_socks5_set_auth(&proxy, opt_user, opt_pass, &e) < 0)
			die_usage("SOCKS5 credentials: %s", e.msg);
		if (opt_socks5 == NULL) {
			ro.isolate = nk_cfg_isolate(&cfg.proxy);
		} else {
			uint16_t port = 0;
			char h[NK_CFG_HOST];
			nk_hostport_parse(opt_socks5, h, sizeof h, &port, 1080, NULL);
			ro.isolate = opt_user == NULL && (port == 9050 || port == 9150);
		}
		ro.proxy = &proxy;
	} else if (opt_user != NULL || opt_pass != NULL) {
		die_usage("%s", "--socks5-user and --socks5-pass need --socks5");
	}
	if (opt_relay != NULL) {
		if (nk_hostport_parse(opt_relay, relay_host, sizeof relay_host, &relay_port, 0, &e) < 0)
			die_usage("--relay: %s", e.msg);
	} else if (cfg.proxy.relay.host[0]) {
		snprintf(relay_host, sizeof relay_host, "%s", cfg.proxy.relay.host);
		relay_port = cfg.proxy.relay.port;
	}
	if (check_circuits(&ro, opt_circuits) < 0)
		return opt_circuits != NULL ? NK_EXIT_USAGE : NK_EXIT_CONFIG;
	ro.tc.proxy = ro.proxy;
	ro.tc.direct = direct;
	ro.tc.relay_host = relay_host[0] ? relay_host : NULL;
	ro.tc.relay_port = relay_port;
	ro.tc.timeout_ms = (int)(ro.timeout * 1000);
	ro.tc.explain = explain ? stderr : NULL;

	/* sessions */
	if (opt_state != NULL) {
		catch_stop();   /* SIGTERM while waiting for the lock: give up at once */
		if ((lock = lock_and_read(opt_state, 0, explain)) < 0)
			return lock == -3 ? EXIT_NEED_KE : lock == -2 ? NK_EXIT_TEMPFAIL : NK_EXIT_IO;
	} else {
		int rc = read_sessions(stdin, "stdin", 1, 0, &e);
		if (rc < 0) {
			fprintf(stderr, "nts-poll: %s\n", e.msg);
			return rc == -2 ? NK_EXIT_IO : NK_EXIT_DATA;
		}
		if (out_errno)   /* the reader went away: nobody for the samples */
			return out_errno == EPIPE ? NK_EXIT_OK : NK_EXIT_IO;
	}
	if (nsrc == 0) {
		fprintf(stderr, "nts-poll: no session records %s\n",
			opt_state ? "in the state file" : "on stdin (pipe nts-ke into nts-poll)");
		return NK_EXIT_FAIL;
	}
	catch_stop();
	if (explain)
		fprintf(stderr, "nts-poll: %zu source(s), %u sample(s) each, %.1f s apart, "
			"%.1f s timeout; NTP %s\n", nsrc, ro.count, ro.spacing, ro.timeout,
			ro.tc.relay_host ? "over the TCP relay" :
			ro.proxy ? (direct ? "through SOCKS5 UDP (direct UDP allowed if refused)" :
				"through SOCKS5 UDP only") : "over UDP, direct (no proxy)");

	for (;;) {
		double r0 = nk_mono_s();
		long polled;
		polled = round_once(&ro, opt_state);
		if (polled < 0) {
			status = NK_EXIT_IO;
			break;
		}
		status = round_status();
		if (opt_state != NULL && polled > 0 && write_state(opt_state, &e) < 0) {
			fprintf(stderr, "nts-poll: state file: %s\n", e.msg);
			status = NK_EXIT_IO;
			break;
		}
		/* between rounds, nts-ke may merge new sessions into the file */
		nk_stateunlock(lock);
		lock = -1;
		if (out_errno && out_errno != EPIPE)
			status = NK_EXIT_IO;
		if (interval <= 0 || stop_sig || out_errno)
			break;
		{
			int usable = 0;
			for (size_t i = 0; i < nsrc; i++)
				if (!src[i].denied && src[i].s.ncookies > 0)
					usable = 1;
			if (!usable) {
				fprintf(stderr, "nts-poll: no usable source left (no cookies, or refused)\n");
				break;
			}
		}
		sleep_s(interval - (nk_mono_s() - r0));
		if (stop_sig)
			break;
		if (opt_state != NULL && (lock = lock_and_read(opt_state, 1, explain)) < 0) {
			if (lock == -1)
				status = NK_EXIT_IO;
			else if (lock == -3)
				status = EXIT_NEED_KE;
			else if (!stop_sig)
				status = NK_EXIT_TEMPFAIL;   /* stopped while waiting: the last round's status */
			break;
		}
	}
	nk_stateunlock(lock);
	for (size_t i = 0; i < nsrc; i++)
		nk_session_wipe(&src[i].s);
	nk_socks5_proxy_wipe(&proxy);
	return status;
}
