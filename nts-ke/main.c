/*
 * nts-ke: NTS key establishment (RFC 8915 §4), direct or through SOCKS5/Tor.
 * Writes one `session` record per server (ntskit-records(5)), on stdout or
 * merged into a state file. See nts-ke(1).
 *
 * Every source runs in its own child process, all at once, under one overall
 * deadline; the parent collects the records and writes them in source order.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "config.h"
#include "exitcode.h"
#include "fanout.h"
#include "ke.h"
#include "record.h"
#include "session.h"

#ifndef NK_BUILD_EPOCH
#define NK_BUILD_EPOCH 0
#endif

/* nts-ke's own exit statuses (nts-ke(1)) */
#define EXIT_SOME_FAILED NK_EXIT_PARTIAL   /* 1: records written for the others */
#define EXIT_ALL_FAILED  NK_EXIT_FAIL      /* 2: no session at all */

#define MAX_SOURCES NK_CFG_MAX_SOURCES

static const char usage[] =
"usage: nts-ke [--config FILE] [--socks5 HOST:PORT] [--socks5-user U --socks5-pass P]\n"
"              [--tor-isolate | --no-tor-isolate] [--ca FILE] [--name SNI] [--aead LIST]\n"
"              [--cert-time now|UNIX|skip-window] [--timeout SECONDS] [--state FILE]\n"
"              [--lock-wait SECONDS] [--source NAME]... [--check-config] [--explain]\n"
"              [SERVER[:PORT]...]\n"
"NTS key establishment (RFC 8915): one `session` record per server on stdout,\n"
"or merged into --state FILE (0600, replaced by rename). Servers come from the\n"
"arguments, else from the [source NAME] sections of the configuration.\n"
"  --config FILE        configuration (default /etc/ntskit.conf if it exists)\n"
"  --socks5 HOST:PORT   connect through this SOCKS5 proxy; names are resolved by it\n"
"  --socks5-user U, --socks5-pass P   SOCKS5 username/password (RFC 1929)\n"
"  --tor-isolate        a fresh random SOCKS5 login per source (Tor circuit isolation);\n"
"                       default on for proxy ports 9050 and 9150\n"
"  --ca FILE            trusted CA certificates (PEM; default: the system store)\n"
"  --name SNI           TLS server name to send and check (default: the server)\n"
"  --aead LIST          AEAD ids to offer, preference order (default 15,17)\n"
"  --cert-time T        certificate validation time: now (default), UNIX seconds,\n"
"                       or skip-window (check all but the validity window)\n"
"  --timeout SECONDS    for all sources together (default 10)\n"
"  --state FILE         merge the sessions into this state file, under its lock\n"
"                       (FILE.lock; an nts-poll round holding it finishes first);\n"
"                       one that cannot be parsed is moved aside to FILE.bad-UNIXTIME\n"
"  --lock-wait SECONDS  wait this long for that lock, 0 = not at all (default 120)\n"
"  --source NAME        only this [source NAME] of the configuration (repeatable)\n"
"  --check-config       check the configuration and the CA files, contact nobody\n"
"  --explain            describe every protocol step on stderr\n"
"  --version            print the version and exit\n"
"Exit: 0 all sources done, 1 some failed, 2 none worked, 64 usage, 66 no CA file,\n"
"      74 state file not written, 75 state file still locked after --lock-wait,\n"
"      78 configuration error.\n";

enum { O_SOCKS5 = 256, O_USER, O_PASS, O_ISOLATE, O_NOISOLATE, O_CA, O_NAME, O_AEAD,
	O_CERTTIME, O_TIMEOUT, O_STATE, O_LOCKWAIT, O_EXPLAIN, O_HELP, O_VERSION, O_CONFIG, O_SOURCE, O_CHECK };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, O_CONFIG },
	{ "socks5", required_argument, NULL, O_SOCKS5 },
	{ "socks5-user", required_argument, NULL, O_USER },
	{ "socks5-pass", required_argument, NULL, O_PASS },
	{ "tor-isolate", no_argument, NULL, O_ISOLATE },
	{ "no-tor-isolate", no_argument, NULL, O_NOISOLATE },
	{ "ca", required_argument, NULL, O_CA },
	{ "name", required_argument, NULL, O_NAME },
	{ "aead", required_argument, NULL, O_AEAD },
	{ "cert-time", required_argument, NULL, O_CERTTIME },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "state", required_argument, NULL, O_STATE },
	{ "lock-wait", required_argument, NULL, O_LOCKWAIT },
	{ "explain", no_argument, NULL, O_EXPLAIN },
	{ "source", required_argument, NULL, O_SOURCE },
	{ "check-config", no_argument, NULL, O_CHECK },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 }
};

struct source {
	char name[NK_SESSION_NAME_MAX];
	char host[NK_CFG_HOST];
	uint16_t port;
	char sni[NK_CFG_HOST];
	char ca[NK_CFG_PATH];
	uint16_t aead[NK_CFG_MAX_AEAD];
	size_t naead;
	/* result */
	char out[8192];
	size_t outlen;
	int done;
};

static struct nk_config cfg;
static struct source src[MAX_SOURCES];
static struct nk_fanout_child kids[MAX_SOURCES];
static size_t nsrc;

/* what every child needs besides its source (set before the fork) */
static struct {
	const struct nk_socks5_proxy *proxy;
	int isolate, skip_window, explain;
	int64_t cert_time;
	double timeout;
} run;

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "nts-ke: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see nts-ke --help)\n");
	exit(NK_EXIT_USAGE);
}

/* The newest ke-at in the state file: certificate validation never uses an
 * earlier time (a floor against a clock that went backwards). */
static int64_t state_floor(const char *path)
{
	static struct nk_rec_reader r;
	struct nk_rec rec;
	struct nk_err e;
	int64_t best = 0, v;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	nk_rec_reader_init(&r, f, path);
	while (nk_rec_read(&r, &rec, &e) == 1) {
		if (strcmp(rec.type, "session") == 0 && nk_rec_get_i64(&rec, "ke-at", &v, NULL) == 0 && v > best)
			best = v;
	}
	fclose(f);
	return best;
}

/* Copy the old state into a.f: every line (comments included) except the
 * session records of sources we have fresh sessions for. 0; -1 on I/O
 * errors; -2 when a line cannot be parsed (bad names the line and field):
 * a record, or a session record nts-poll could not use and that is kept
 * (a source's session that is replaced needs not be usable). */
static int copy_old_state(struct nk_atomic *a, const char *path, struct nk_err *e,
	struct nk_err *bad)
{
	static struct nk_session tmp;
	struct nk_rec rec;
	char *line = NULL, *copy = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	FILE *old;
	int rc = 0;

	old = fopen(path, "r");
	if (old == NULL)
		return 0;
	while (rc == 0 && (len = getline(&line, &cap, old)) > 0) {
		int fresh = 0, r;
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = 0;
		free(copy);
		copy = strdup(line);
		if (copy == NULL) {
			nk_errf(e, "%s: out of memory", path);
			rc = -1;
			break;
		}
		r = nk_rec_parse_line(copy, (size_t)len, path, lineno, &rec, bad);
		if (r < 0) {
			rc = -2;
			break;
		}
		if (r == 1 && strcmp(rec.type, "session") == 0) {
			const char *s = nk_rec_get(&rec, "source");
			for (size_t i = 0; s != NULL && i < nsrc; i++)
				if (src[i].done && strcmp(src[i].name, s) == 0)
					fresh = 1;
			/* an older nts-ke named command-line servers HOST:PORT;
			 * nts-poll refuses such a record, so it goes (the server
			 * now has a name of the one rule, ntskit-records(5)) */
			if (!fresh && s != NULL && !nk_rec_source_ok(s)) {
				fprintf(stderr, "nts-ke: %s:%lu: session of '%.80s' dropped: not a source name "
					"(" NK_REC_SOURCE_RULE "); ask that server again\n", path, lineno, s);
				fresh = 1;
			}
			/* one that is kept must be usable (the one replaced needs not) */
			if (!fresh && nk_session_from_rec(&tmp, &rec, bad) < 0) {
				rc = -2;
				break;
			}
		}
		if (!fresh)
			fprintf(a->f, "%s\n", line);
	}
	if (rc == 0 && ferror(old)) {
		nk_errf(e, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(old);
	nk_session_wipe(&tmp);
	if (line)
		nk_wipe(line, cap);
	if (copy)
		nk_wipe(copy, strlen(copy));
	free(line);
	free(copy);
	return rc;
}

/* Merge: keep every line of the old state (comments included) except the
 * session records of sources we have fresh sessions for; then append the
 * fresh ones. An old state file that cannot be parsed is moved aside
 * (FILE.bad-UNIXTIME, mode 0600: nk_state_quarantine) with one warning
 * naming the line and field, and the new file holds the fresh sessions. */
static int merge_state(const char *path, struct nk_err *e)
{
	struct nk_atomic a;
	struct nk_err bad;
	char moved[1100];
	int rc;

	if (nk_atomic_open(&a, path, 0600, e) < 0)
		return -1;
	rc = copy_old_state(&a, path, e, &bad);
	if (rc == -2) {
		nk_atomic_abort(&a);
		if (nk_state_quarantine(path, moved, sizeof moved, e) < 0)
			return -1;
		fprintf(stderr, "nts-ke: state file %s cannot be parsed (%s): moved aside to %s; "
			"it now holds only the new sessions\n", path, bad.msg, moved);
		if (nk_atomic_open(&a, path, 0600, e) < 0)
			return -1;
		rc = 0;
	}
	if (rc < 0) {
		nk_atomic_abort(&a);
		return -1;
	}
	for (size_t i = 0; i < nsrc; i++)
		if (src[i].done)
			fwrite(src[i].out, 1, src[i].outlen, a.f);
	return nk_atomic_commit(&a, e);
}

/* The merge under the state file's lock (nk_statelock): an nts-poll round
 * holding it finishes first, so neither program loses the other's change.
 * -2: another program held the lock for lock_wait seconds. */
static int write_state(const char *path, double lock_wait, struct nk_err *e)
{
	int lk = nk_statelock(path, lock_wait, NULL, e), rc;

	if (lk < 0)
		return lk;
	if (run.explain)
		fprintf(stderr, "nts-ke: state file %s locked (%s.lock): merging the new sessions\n",
			path, path);
	rc = merge_state(path, e);
	nk_stateunlock(lk);
	return rc;
}

/* Through an isolating proxy a key exchange that broke off after the
 * tunnel opened (closed, reset, or no answer in time: a Tor circuit that
 * stalled; chrony gives a whole session 2 s) is tried once more on a fresh
 * circuit: a new random SOCKS5 login. The first try then gets half the
 * time, the second what is left. A verdict (certificate, TLS alert, a bad
 * NTS-KE response, a refused connection) is never retried. */
static enum ke_fail ke_retry(struct ke_job *j, struct nk_socks5_proxy *p, int isolate,
	struct nk_session *sess, struct nk_err *e)
{
	double t0 = nk_mono_s(), total = j->timeout, left;
	enum ke_fail f;

	if (j->proxy == NULL || !isolate)
		return ke_run(j, sess, e);
	j->timeout = total / 2;
	f = ke_run(j, sess, e);
	left = total - (nk_mono_s() - t0);
	if ((f != KE_FAIL_BROKEN && f != KE_FAIL_TIMEOUT) || left < 1.0)
		return f;
	fprintf(stderr, "nts-ke: %s: the key exchange broke off (%s); retrying once on a fresh "
		"Tor circuit (a new SOCKS5 isolation login), %.1f s left\n", j->source, e->msg, left);
	if (nk_socks5_isolate(p, e) < 0)
		return KE_FAIL_LOCAL;
	j->timeout = left;
	return ke_run(j, sess, e);
}

static void child(void *arg, int wfd)
{
	struct source *s = arg;
	const struct nk_socks5_proxy *proxy = run.proxy;
	int isolate = run.isolate, skip_window = run.skip_window, explain = run.explain;
	int64_t cert_time = run.cert_time;
	double timeout = run.timeout;
	static struct nk_trust trust;
	struct nk_socks5_proxy p;
	struct nk_session sess;
	struct ke_job j;
	struct nk_err e;
	enum ke_fail f;
	FILE *out = fdopen(wfd, "w");
	const char *ca = s->ca[0] ? s->ca : NK_SYSTEM_CA_BUNDLE;

	memset(&e, 0, sizeof e);
	nk_trust_init(&trust);
	if (nk_trust_load_file(&trust, ca, &e) < 0) {
		fprintf(out, "fail %d %s\n", KE_FAIL_LOCAL, e.msg);
		fclose(out);
		_exit(0);
	}
	memset(&j, 0, sizeof j);
	j.source = s->name;
	j.host = s->host;
	j.port = s->port;
	j.sni = s->sni[0] ? s->sni : NULL;
	j.trust = &trust;
	j.aead = s->aead;
	j.naead = s->naead;
	j.cert_time = cert_time;
	j.skip_window = skip_window;
	j.timeout = timeout;
	j.explain = explain ? stderr : NULL;
	if (proxy != NULL) {
		p = *proxy;
		if (isolate && nk_socks5_isolate(&p, &e) < 0) {
			fprintf(out, "fail %d %s\n", KE_FAIL_LOCAL, e.msg);
			fclose(out);
			_exit(0);
		}
		if (isolate && explain)
			fprintf(stderr, "nts-ke: %s: Tor stream isolation: this source uses its own "
				"random SOCKS5 username/password, so Tor gives it its own circuit\n", s->name);
		j.proxy = &p;
	}
	f = ke_retry(&j, &p, isolate, &sess, &e);
	if (f == KE_OK) {
		fprintf(out, "ok ");
		if (nk_session_write(&sess, out, &e) < 0)
			fprintf(out, "\nfail %d %s\n", KE_FAIL_LOCAL, e.msg);
	} else {
		fprintf(out, "fail %d %s\n", f, e.msg);
	}
	nk_session_wipe(&sess);
	if (proxy != NULL)
		nk_socks5_proxy_wipe(&p);
	fclose(out);
	nk_trust_free(&trust);
	_exit(0);
}

/* A child's line: "ok session ..." or "fail N message"; one per child. */
static void on_line(void *arg, size_t i, char *text, size_t len)
{
	struct source *s = &src[i];
	(void)arg;
	if (s->outlen + len + 1 >= sizeof s->out)
		return;
	memcpy(s->out + s->outlen, text, len);
	s->outlen += len;
	s->out[s->outlen++] = '\n';
}

static double parse_seconds(const char *s, const char *what, int zero_ok)
{
	struct nk_err e;
	double v;
	if (nk_cfg_parse_duration(s, 0, &v, &e) < 0 || v < 0 || (!zero_ok && v == 0))
		die_usage(zero_ok ? "%s: expected a number of seconds >= 0" :
			"%s: expected a positive number of seconds", what);
	return v;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *opt_socks5 = NULL, *opt_user = NULL, *opt_pass = NULL;
	const char *opt_ca = NULL, *opt_name = NULL, *opt_aead = NULL, *opt_certtime = NULL;
	const char *opt_state = NULL, *opt_lockwait = NULL;
	double lock_wait;
	int opt_isolate = -1, explain = 0, c, skip_window = 0, failed = 0, ok = 0, check = 0;
	const char *only[MAX_SOURCES];
	size_t nonly = 0;
	double timeout = -1;
	uint16_t aead[NK_CFG_MAX_AEAD] = { 15, 17 };
	size_t naead = 2;
	struct nk_socks5_proxy proxy, *proxyp = NULL;
	struct nk_err e;
	int64_t cert_time;
	/* before anything is opened: a closed stdin/stdout/stderr must not
	 * become a state file, a lock or a socket */
	if (nk_stdfds_open() < 0)
		return NK_EXIT_SOFTWARE;


	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_CONFIG: config = optarg; break;
		case O_SOCKS5: opt_socks5 = optarg; break;
		case O_USER: opt_user = optarg; break;
		case O_PASS: opt_pass = optarg; break;
		case O_ISOLATE: opt_isolate = 1; break;
		case O_NOISOLATE: opt_isolate = 0; break;
		case O_CA: opt_ca = optarg; break;
		case O_NAME: opt_name = optarg; break;
		case O_AEAD: opt_aead = optarg; break;
		case O_CERTTIME: opt_certtime = optarg; break;
		case O_TIMEOUT: timeout = parse_seconds(optarg, "--timeout", 0); break;
		case O_STATE: opt_state = optarg; break;
		case O_LOCKWAIT: opt_lockwait = optarg; break;
		case O_EXPLAIN: explain = 1; break;
		case O_CHECK: check = 1; break;
		case O_SOURCE:
			if (nonly == MAX_SOURCES)
				die_usage("--source: at most %s", "32");
			only[nonly++] = optarg;
			break;
		case O_HELP: fputs(usage, stdout); return NK_EXIT_OK;
		case O_VERSION: return nk_print_version("nts-ke");
		default: fputs("(see nts-ke --help)\n", stderr); return NK_EXIT_USAGE;
		}
	}

	/* configuration: the file first, then flags override it */
	if (config == NULL && access(NK_CFG_DEFAULT_PATH, R_OK) == 0)
		config = NK_CFG_DEFAULT_PATH;
	if (config != NULL) {
		if (nk_cfg_load(&cfg, config, &e) < 0) {
			fprintf(stderr, "nts-ke: %s\n", e.msg);
			return NK_EXIT_CONFIG;
		}
	} else {
		nk_cfg_defaults(&cfg);
	}
	if (timeout < 0)
		timeout = cfg.ke.timeout > 0 ? cfg.ke.timeout : 10;
	if (opt_state == NULL && cfg.ke.state[0])
		opt_state = cfg.ke.state;
	/* [ke] lock-wait and cert-time: the flags are checked as the keys are */
	if (opt_lockwait != NULL && nk_cfg_set(&cfg, "ke", "lock-wait", opt_lockwait, &e) < 0)
		die_usage("--lock-wait: %s", e.msg);
	lock_wait = cfg.ke.lock_wait;
	if (opt_certtime != NULL && nk_cfg_set(&cfg, "ke", "cert-time", opt_certtime, &e) < 0)
		die_usage("--cert-time: %s", e.msg);
	opt_certtime = cfg.ke.cert_time;
	if (opt_aead != NULL && nk_cfg_parse_aead_list(opt_aead, aead, &naead, &e) < 0)
		die_usage("--aead: %s", e.msg);

	/* proxy: flags override [proxy] */
	if (opt_socks5 != NULL || cfg.proxy.set) {
		char hp[NK_CFG_HOST + 16];
		if (opt_socks5 == NULL)
			nk_hostport_format(hp, sizeof hp, cfg.proxy.socks5.host, cfg.proxy.socks5.port);
		if (nk_socks5_proxy_parse(&proxy, opt_socks5 ? opt_socks5 : hp, 1080, &e) < 0) {
			fprintf(stderr, "nts-ke: proxy: %s\n", e.msg);
			return opt_socks5 ? NK_EXIT_USAGE : NK_EXIT_CONFIG;
		}
		if (opt_user == NULL && opt_socks5 == NULL && cfg.proxy.user[0]) {
			opt_user = cfg.proxy.user;
			opt_pass = cfg.proxy.pass;
		}
		if ((opt_user == NULL) != (opt_pass == NULL))
			die_usage("%s", "--socks5-user and --socks5-pass go together");
		if (opt_user != NULL && nk_socks5_set_auth(&proxy, opt_user, opt_pass, &e) < 0)
			die_usage("SOCKS5 credentials: %s", e.msg);
		if (opt_isolate < 0) {
			if (opt_socks5 == NULL && cfg.proxy.isolate >= 0)
				opt_isolate = cfg.proxy.isolate;
			else {
				uint16_t port = ntohs(((struct sockaddr_in *)&proxy.sa)->sin_port);
				opt_isolate = opt_user == NULL && (port == 9050 || port == 9150);
			}
		}
		proxyp = &proxy;
	} else if (opt_user != NULL || opt_pass != NULL || opt_isolate == 1) {
		die_usage("%s", "--socks5-user, --socks5-pass and --tor-isolate need --socks5");
	}
	if (opt_isolate == 1 && opt_user != NULL)
		die_usage("%s", "--tor-isolate picks its own SOCKS5 credentials: drop --socks5-user");

	/* certificate validation time (RFC 8915 §8.5) */
	if (strcmp(opt_certtime, "skip-window") == 0) {
		skip_window = 1;
		cert_time = nk_time();
		fprintf(stderr, "nts-ke: --cert-time skip-window: certificate validity windows are NOT "
			"checked (everything else is)\n");
	} else if (strcmp(opt_certtime, "now") == 0) {
		int64_t fl = opt_state ? state_floor(opt_state) : 0;
		cert_time = nk_time();
		if (cert_time < NK_BUILD_EPOCH)
			cert_time = NK_BUILD_EPOCH;
		if (cert_time < fl)
			cert_time = fl;
	} else {
		uint64_t v;
		if (nk_parse_u64(opt_certtime, INT64_MAX, &v) < 0)
			die_usage("--cert-time: '%s' is not now, skip-window or Unix seconds", opt_certtime);
		cert_time = (int64_t)v;
	}

	/* sources: arguments, else the configuration */
	if (optind < argc && nonly > 0)
		die_usage("%s", "--source picks configured sources: name servers or sources, not both");
	for (size_t k = 0; k < nonly; k++)
		if (nk_cfg_source_find(&cfg, only[k]) == NULL)
			die_usage("--source %s: no such [source] in the configuration", only[k]);
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			struct source *s = &src[nsrc];
			if (nsrc == MAX_SOURCES)
				die_usage("too many servers (at most %s)", "32");
			if (nk_hostport_parse(argv[i], s->host, sizeof s->host, &s->port, NK_CFG_KE_PORT, &e) < 0)
				die_usage("%s", e.msg);
			/* the source name (ntskit-records(5)): host, "_PORT"
			 * when not 4460, IPv6 ':' as '-' */
			if (nk_rec_source_name(s->name, sizeof s->name, s->host, s->port, NK_CFG_KE_PORT, &e) < 0)
				die_usage("%s", e.msg);
			for (size_t k = 0; k < nsrc; k++)
				if (strcmp(src[k].name, s->name) == 0) {
					snprintf(e.msg, sizeof e.msg, "'%.100s' and '%.100s': the same source name %s",
						argv[optind + (int)k], argv[i], s->name);
					die_usage("%s", e.msg);
				}
			nsrc++;
		}
	} else {
		for (size_t i = 0; i < cfg.nsources; i++) {
			struct nk_cfg_source *cs = &cfg.source[i];
			struct source *s;
			int wanted = nonly == 0;
			for (size_t k = 0; k < nonly; k++)
				if (strcmp(only[k], cs->name) == 0)
					wanted = 1;
			if (!wanted)
				continue;
			s = &src[nsrc++];
			snprintf(s->name, sizeof s->name, "%s", cs->name);
			snprintf(s->host, sizeof s->host, "%s", cs->address);
			s->port = cs->ke_port ? cs->ke_port : NK_CFG_KE_PORT;
			snprintf(s->sni, sizeof s->sni, "%s", cs->sni);
			snprintf(s->ca, sizeof s->ca, "%s", cs->ca);
			if (cs->naead) {
				memcpy(s->aead, cs->aead, sizeof s->aead);
				s->naead = cs->naead;
			}
		}
	}
	if (nsrc == 0)
		die_usage("%s", "no server: name one, or configure [source NAME] sections");
	for (size_t i = 0; i < nsrc; i++) {
		struct source *s = &src[i];
		if (opt_name)
			snprintf(s->sni, sizeof s->sni, "%s", opt_name);
		if (opt_ca)
			snprintf(s->ca, sizeof s->ca, "%s", opt_ca);
		if (opt_aead || s->naead == 0) {
			memcpy(s->aead, aead, sizeof aead);
			s->naead = naead;
		}
		if (s->ca[0] && access(s->ca, R_OK) != 0) {
			fprintf(stderr, "nts-ke: %s: CA file %s: %s\n", s->name, s->ca, strerror(errno));
			return NK_EXIT_NOINPUT;
		}
	}
	if (check) {
		if (access(NK_SYSTEM_CA_BUNDLE, R_OK) != 0)
			for (size_t i = 0; i < nsrc; i++)
				if (!src[i].ca[0]) {
					fprintf(stderr, "nts-ke: %s: system CA bundle %s: %s\n", src[i].name,
						NK_SYSTEM_CA_BUNDLE, strerror(errno));
					return NK_EXIT_NOINPUT;
				}
		printf("nts-ke: configuration OK: %zu source(s)%s\n", nsrc,
			proxyp ? ", through the SOCKS5 proxy" : "");
		return NK_EXIT_OK;
	}
	if (explain) {
		fprintf(stderr, "nts-ke: %zu source(s), %s, overall timeout %.1f s, certificates "
			"checked at Unix time %lld%s\n", nsrc,
			proxyp ? "through the SOCKS5 proxy" : "direct connections (no proxy)",
			timeout, (long long)cert_time, skip_window ? " (validity window skipped)" : "");
	}

	/* one child per source, all at once */
	run.proxy = proxyp;
	run.isolate = opt_isolate == 1;
	run.skip_window = skip_window;
	run.explain = explain;
	run.cert_time = cert_time;
	run.timeout = timeout;
	fflush(NULL);
	nk_fanout_init(kids, nsrc);
	for (size_t i = 0; i < nsrc; i++)
		if (nk_fanout_start(kids, nsrc, i, child, &src[i]) < 0) {
			perror("nts-ke: starting a key exchange");
			return NK_EXIT_SOFTWARE;
		}
	if (proxyp)
		nk_socks5_proxy_wipe(proxyp);

	/* collect, with a hard stop a little after the overall timeout */
	nk_fanout_collect(kids, nsrc, timeout + 2, on_line, NULL);
	for (size_t i = 0; i < nsrc; i++) {
		struct source *s = &src[i];
		s->out[s->outlen] = 0;
		if (kids[i].killed) {
			fprintf(stderr, "nts-ke: %s: timed out after %.1f s\n", s->name, timeout);
			failed++;
		} else if (strncmp(s->out, "ok session ", 11) == 0 && s->out[s->outlen - 1] == '\n' &&
			   strchr(s->out, '\n') == s->out + s->outlen - 1) {
			memmove(s->out, s->out + 3, s->outlen - 3 + 1);
			s->outlen -= 3;
			s->done = 1;
			ok++;
		} else {
			char *m = s->out;
			if (strncmp(m, "fail ", 5) == 0) {
				m += 5;
				while (*m >= '0' && *m <= '9')
					m++;
				if (*m == ' ')
					m++;
			}
			m[strcspn(m, "\n")] = 0;
			fprintf(stderr, "nts-ke: %s: %s\n", s->name, *m ? m : "key exchange failed (no result)");
			failed++;
		}
	}

	if (opt_state != NULL) {
		int w = ok > 0 ? write_state(opt_state, lock_wait, &e) : 0;
		if (w < 0) {
			fprintf(stderr, "nts-ke: state file: %s\n", e.msg);
			for (size_t i = 0; i < nsrc; i++)
				nk_wipe(src[i].out, sizeof src[i].out);
			return w == -2 ? NK_EXIT_TEMPFAIL : NK_EXIT_IO;
		}
	} else {
		for (size_t i = 0; i < nsrc; i++)
			if (src[i].done)
				fwrite(src[i].out, 1, src[i].outlen, stdout);
		if (fflush(stdout) != 0) {
			fprintf(stderr, "nts-ke: writing records: %s\n", strerror(errno));
			return NK_EXIT_IO;
		}
	}
	for (size_t i = 0; i < nsrc; i++)
		nk_wipe(src[i].out, sizeof src[i].out);
	if (failed == 0)
		return NK_EXIT_OK;
	return ok > 0 ? EXIT_SOME_FAILED : EXIT_ALL_FAILED;
}
