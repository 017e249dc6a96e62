/*
 * config: ntskit.conf(5) read with inih.
 *
 * inih does the INI parsing and calls handler() once per "key = value".
 * Its handler gets no line number, so we give inih our own line reader
 * (ini_parse_stream): it counts lines, checks the bytes (no NUL, no control
 * bytes, valid UTF-8, length) and the shape of each line, and notes each
 * [section] header as it goes past, so that every message can say
 * "FILE:LINE: what is wrong" and a section without keys is still checked.
 * inih reads one line and handles it before it reads the next, so the
 * reader's count is the line the handler is looking at.
 */
#include "config.h"
#include "aessiv.h"
#include "atomicfile.h"
#include "cookie.h"
#include "record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sect { S_NONE, S_PROXY, S_SOURCE, S_KE, S_POLL, S_SELECT, S_ADJUST, S_SERVE, S_SYNC, S_COUNT };

static const char *const sect_name[S_COUNT] = {
	"", "proxy", "source", "ke", "poll", "select", "adjust", "serve", "sync",
};

enum key {
	K_P_SOCKS5, K_P_USER, K_P_PASSWORD, K_P_ISOLATE, K_P_DIRECT, K_P_RELAY,
	K_S_ADDRESS, K_S_KE_PORT, K_S_NTP_PORT, K_S_AEAD, K_S_CA, K_S_NAME, K_S_CIRCUITS,
	K_K_TIMEOUT, K_K_STATE, K_K_LOCK_WAIT, K_K_CERT_TIME,
	K_O_COUNT, K_O_SPACING, K_O_INTERVAL, K_O_TIMEOUT, K_O_LOCK_WAIT, K_O_STATE,
	K_O_CIRCUITS,
	K_L_MIN_AGREE, K_L_MAX_DISTANCE, K_L_ROUND_GAP, K_L_STREAM,
	K_A_STEP, K_A_PANIC_SINGLE, K_A_PANIC_STARTUP, K_A_PANIC_FWD, K_A_PANIC_BWD,
	K_A_PANIC_ACC, K_A_STATUS, K_A_STATE, K_A_LEAP_LIST, K_A_STREAM, K_A_DRY_RUN,
	K_V_LISTEN, K_V_KE_LISTEN, K_V_CERT, K_V_KEY, K_V_COOKIE_KEYS, K_V_TCP_LISTEN,
	K_V_RELAY_ALLOW, K_V_STATUS, K_V_USER, K_V_NTP_SERVER, K_V_NTP_PORT,
	K_V_RATE, K_V_BURST, K_V_STATUS_MAX_AGE, K_V_ROTATE, K_V_KEEP, K_V_ALLOW, K_V_DENY,
	K_Y_LOG, K_Y_LOG_MAX, K_Y_LOG_KEEP,
	K_COUNT
};

static const struct keydef {
	enum sect sect;
	const char *name;
	int repeat;             /* may be given more than once (adds) */
} keys[K_COUNT] = {
	[K_P_SOCKS5] = { S_PROXY, "socks5", 0 },
	[K_P_USER] = { S_PROXY, "user", 0 },
	[K_P_PASSWORD] = { S_PROXY, "password", 0 },
	[K_P_ISOLATE] = { S_PROXY, "isolate", 0 },
	[K_P_DIRECT] = { S_PROXY, "direct", 0 },
	[K_P_RELAY] = { S_PROXY, "relay", 0 },
	[K_S_ADDRESS] = { S_SOURCE, "address", 0 },
	[K_S_KE_PORT] = { S_SOURCE, "ke-port", 0 },
	[K_S_NTP_PORT] = { S_SOURCE, "ntp-port", 0 },
	[K_S_AEAD] = { S_SOURCE, "aead", 0 },
	[K_S_CA] = { S_SOURCE, "ca", 0 },
	[K_S_NAME] = { S_SOURCE, "name", 0 },
	[K_S_CIRCUITS] = { S_SOURCE, "circuits", 0 },
	[K_K_TIMEOUT] = { S_KE, "timeout", 0 },
	[K_K_STATE] = { S_KE, "state", 0 },
	[K_K_LOCK_WAIT] = { S_KE, "lock-wait", 0 },
	[K_K_CERT_TIME] = { S_KE, "cert-time", 0 },
	[K_O_COUNT] = { S_POLL, "count", 0 },
	[K_O_SPACING] = { S_POLL, "spacing", 0 },
	[K_O_INTERVAL] = { S_POLL, "interval", 0 },
	[K_O_TIMEOUT] = { S_POLL, "timeout", 0 },
	[K_O_LOCK_WAIT] = { S_POLL, "lock-wait", 0 },
	[K_O_STATE] = { S_POLL, "state", 0 },
	[K_O_CIRCUITS] = { S_POLL, "circuits", 0 },
	[K_L_MIN_AGREE] = { S_SELECT, "min-agree", 0 },
	[K_L_MAX_DISTANCE] = { S_SELECT, "max-distance", 0 },
	[K_L_ROUND_GAP] = { S_SELECT, "round-gap", 0 },
	[K_L_STREAM] = { S_SELECT, "stream", 0 },
	[K_A_STEP] = { S_ADJUST, "step-threshold", 0 },
	[K_A_PANIC_SINGLE] = { S_ADJUST, "panic-single", 0 },
	[K_A_PANIC_STARTUP] = { S_ADJUST, "panic-startup", 0 },
	[K_A_PANIC_FWD] = { S_ADJUST, "panic-startup-forward", 0 },
	[K_A_PANIC_BWD] = { S_ADJUST, "panic-startup-backward", 0 },
	[K_A_PANIC_ACC] = { S_ADJUST, "panic-accumulated", 0 },
	[K_A_STATUS] = { S_ADJUST, "status", 0 },
	[K_A_STATE] = { S_ADJUST, "state", 0 },
	[K_A_LEAP_LIST] = { S_ADJUST, "leap-list", 0 },
	[K_A_STREAM] = { S_ADJUST, "stream", 0 },
	[K_A_DRY_RUN] = { S_ADJUST, "dry-run", 0 },
	[K_V_LISTEN] = { S_SERVE, "listen", 1 },
	[K_V_KE_LISTEN] = { S_SERVE, "ke-listen", 1 },
	[K_V_CERT] = { S_SERVE, "cert", 0 },
	[K_V_KEY] = { S_SERVE, "key", 0 },
	[K_V_COOKIE_KEYS] = { S_SERVE, "cookie-keys", 0 },
	[K_V_TCP_LISTEN] = { S_SERVE, "tcp-listen", 1 },
	[K_V_RELAY_ALLOW] = { S_SERVE, "relay-allow", 1 },
	[K_V_STATUS] = { S_SERVE, "status", 0 },
	[K_V_USER] = { S_SERVE, "user", 0 },
	[K_V_NTP_SERVER] = { S_SERVE, "ntp-server", 0 },
	[K_V_NTP_PORT] = { S_SERVE, "ntp-port", 0 },
	[K_V_RATE] = { S_SERVE, "rate", 0 },
	[K_V_BURST] = { S_SERVE, "burst", 0 },
	[K_V_STATUS_MAX_AGE] = { S_SERVE, "status-max-age", 0 },
	[K_V_ROTATE] = { S_SERVE, "rotate", 0 },
	[K_V_KEEP] = { S_SERVE, "keep", 0 },
	[K_V_ALLOW] = { S_SERVE, "allow", 1 },
	[K_V_DENY] = { S_SERVE, "deny", 1 },
	[K_Y_LOG] = { S_SYNC, "log", 0 },
	[K_Y_LOG_MAX] = { S_SYNC, "log-max", 0 },
	[K_Y_LOG_KEEP] = { S_SYNC, "log-keep", 0 },
};

struct ctx {
	struct nk_config *c;
	const char *file;               /* NULL for nk_cfg_set */
	FILE *f;
	unsigned long lineno;
	int failed;
	struct nk_err err;              /* the first error */
	/* the section we are in */
	enum sect sect;
	struct nk_cfg_source *src;
	char where[80];                 /* "[source NAME]" for messages */
	unsigned long sect_line[S_COUNT];
	unsigned long seen[K_COUNT];    /* line a key was given on in this section */
	unsigned char addr_given[NK_CFG_MAX_SOURCES];
};

static void fail(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct ctx *x, const char *fmt, ...)
{
	char m[sizeof x->err.msg];
	va_list ap;

	if (x->failed)
		return;
	x->failed = 1;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	/* a long file name may cut the message short: that is fine */
	if (x->file != NULL)
		nk_errf(&x->err, "%s:%lu: %s", x->file, x->lineno, m);
	else
		memcpy(x->err.msg, m, sizeof m);
}

/* ---- value parsers ---- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int nk_cfg_parse_duration(const char *s, int allow_inf, double *out, struct nk_err *e)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "", 1 }, { "s", 1 }, { "ms", 0.001 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	char num[64];
	const char *p = s;
	size_t n, i;
	double v;

	if (allow_inf && strcmp(s, "inf") == 0) {
		*out = INFINITY;
		return 0;
	}
	while (is_digit(*p))
		p++;
	if (p != s && *p == '.' && is_digit(p[1])) {
		p++;
		while (is_digit(*p))
			p++;
	}
	n = (size_t)(p - s);
	if (n == 0 || n >= sizeof num)
		goto bad;
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(p, units[i].sfx) == 0)
			break;
	if (i == sizeof units / sizeof units[0])
		goto bad;
	memcpy(num, s, n);
	num[n] = 0;
	v = strtod(num, NULL) * units[i].mul;
	if (!isfinite(v)) {
		nk_errf(e, "'%.40s': duration too large", s);
		return -1;
	}
	*out = v;
	return 0;
bad:
	nk_errf(e, "'%.40s': not a duration (seconds, e.g. 1.5, 500ms, 30s, 10m, 1h, 1d%s)", s,
		allow_inf ? ", or inf" : "");
	return -1;
}

int nk_cfg_parse_bool(const char *s)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "on") || !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "off") || !strcmp(s, "0"))
		return 0;
	return -1;
}

/* NULL when h is a host name or an IP literal we accept, else what is wrong. */
static const char *host_problem(const char *h)
{
	unsigned char buf[16];
	size_t n = strlen(h), label = 0, i;
	int all_num = 1;

	if (n == 0)
		return "empty host";
	if (strchr(h, ':') != NULL)
		return inet_pton(AF_INET6, h, buf) == 1 ? NULL : "not a valid IPv6 address";
	for (i = 0; i < n; i++)
		if (!is_digit(h[i]) && h[i] != '.')
			all_num = 0;
	if (all_num)
		return inet_pton(AF_INET, h, buf) == 1 ? NULL : "not a valid IPv4 address";
	if (n > 253)
		return "host name longer than 253 characters";
	for (i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0)
				return "empty label in host name";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_'))
			return "invalid character in host name (allowed: letters, digits, '-', '.', '_')";
		if (++label > 63)
			return "host name label longer than 63 characters";
	}
	return NULL;
}

static int is_ip_literal(const char *h)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

int nk_cfg_parse_addr(const char *s, uint16_t def_port, struct nk_cfg_addr *a, struct nk_err *e)
{
	struct nk_cfg_addr t;
	const char *why;

	if (nk_hostport_parse(s, t.host, sizeof t.host, &t.port, def_port, e) < 0)
		return -1;
	if ((why = host_problem(t.host)) != NULL) {
		nk_errf(e, "'%.80s': %s", s, why);
		return -1;
	}
	*a = t;
	return 0;
}

int nk_cfg_parse_cidr(const char *s, struct nk_cfg_acl *r, struct nk_err *e)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t pfx;
	unsigned bits, i;
	struct nk_cfg_acl t;

	memset(&t, 0, sizeof t);
	if (strcmp(s, "all") == 0) {
		*r = t;         /* family 0, prefix 0: every address */
		return 0;
	}
	if (n == 0 || n >= sizeof a) {
		nk_errf(e, "'%.60s': want all, or an IPv4 or IPv6 address with an optional /PREFIX", s);
		return -1;
	}
	memcpy(a, s, n);
	a[n] = 0;
	if (inet_pton(AF_INET, a, t.addr) == 1) {
		t.family = 4;
		bits = 32;
	} else if (inet_pton(AF_INET6, a, t.addr) == 1) {
		t.family = 6;
		bits = 128;
	} else {
		nk_errf(e, "'%.60s': want all, or an IPv4 or IPv6 address with an optional /PREFIX", s);
		return -1;
	}
	pfx = bits;
	if (slash != NULL && (nk_parse_u64(slash + 1, bits, &pfx) < 0 || !is_digit(slash[1]))) {
		nk_errf(e, "'%.60s': prefix length must be a number from 0 to %u", s, bits);
		return -1;
	}
	t.prefix = (uint8_t)pfx;
	for (i = t.prefix; i < bits; i++)
		if (t.addr[i / 8] & (0x80u >> (i % 8))) {
			nk_errf(e, "'%.60s': address bits set beyond the /%u prefix (give the network address)",
				s, t.prefix);
			return -1;
		}
	*r = t;
	return 0;
}

static const struct { uint16_t id; const char *name; } aeads[] = {
	{ NK_AEAD_AES_SIV_CMAC_256, "AEAD_AES_SIV_CMAC_256" },
	{ NK_AEAD_AES_SIV_CMAC_384, "AEAD_AES_SIV_CMAC_384" },
	{ NK_AEAD_AES_SIV_CMAC_512, "AEAD_AES_SIV_CMAC_512" },
	{ NK_AEAD_AES_128_GCM_SIV, "AEAD_AES_128_GCM_SIV" },
	{ NK_AEAD_AES_256_GCM_SIV, "AEAD_AES_256_GCM_SIV" },
};
#define NAEADS (sizeof aeads / sizeof aeads[0])

const char *nk_cfg_aead_name(uint16_t id)
{
	size_t i;

	for (i = 0; i < NAEADS; i++)
		if (aeads[i].id == id)
			return aeads[i].name;
	return NULL;
}

int nk_cfg_parse_aead_list(const char *s, uint16_t *aead, size_t *n, struct nk_err *e)
{
	uint16_t tmp[NK_CFG_MAX_AEAD];
	size_t cnt = 0, i, k;
	const char *p = s;

	for (;;) {
		char item[40];
		size_t len;
		uint64_t v;
		int id = -1;

		while (*p == ' ' || *p == '\t')
			p++;
		for (len = 0; p[len] && p[len] != ',' && p[len] != ' ' && p[len] != '\t'; len++)
			;
		if (len == 0) {
			nk_errf(e, "'%.60s': empty entry in AEAD list", s);
			return -1;
		}
		if (len >= sizeof item) {
			nk_errf(e, "'%.60s': unknown AEAD algorithm", s);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = 0;
		p += len;
		if (nk_parse_u64(item, 65535, &v) == 0) {
			if (nk_cfg_aead_name((uint16_t)v) != NULL)
				id = (int)v;
		} else {
			for (i = 0; i < NAEADS; i++)
				if (strcmp(item, aeads[i].name) == 0)
					id = aeads[i].id;
		}
		if (id < 0) {
			nk_errf(e, "'%s': unknown AEAD algorithm (known: 15 AEAD_AES_SIV_CMAC_256, "
				"16 .._384, 17 .._512, 30 AEAD_AES_128_GCM_SIV, 31 AEAD_AES_256_GCM_SIV)", item);
			return -1;
		}
		if (nk_siv_key_len(id) == 0) {
			nk_errf(e, "'%s': %s is not implemented (ntskit has 15 AEAD_AES_SIV_CMAC_256, "
				"16 .._384 and 17 .._512)", item, nk_cfg_aead_name((uint16_t)id));
			return -1;
		}
		for (k = 0; k < cnt; k++)
			if (tmp[k] == id) {
				nk_errf(e, "'%.60s': AEAD algorithm %d listed twice", s, id);
				return -1;
			}
		if (cnt == NK_CFG_MAX_AEAD) {
			nk_errf(e, "'%.60s': more than %d AEAD algorithms", s, NK_CFG_MAX_AEAD);
			return -1;
		}
		tmp[cnt++] = (uint16_t)id;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == 0)
			break;
		if (*p != ',') {
			nk_errf(e, "'%.60s': AEAD list entries are separated by ','", s);
			return -1;
		}
		p++;
	}
	memcpy(aead, tmp, cnt * sizeof tmp[0]);
	*n = cnt;
	return 0;
}

/* ---- defaults ---- */

void nk_cfg_defaults(struct nk_config *c)
{
	/* everything but the source slots, which are cleared one by one as
	 * sources are added: clearing all NK_CFG_MAX_SOURCES of them (52 KiB)
	 * would make every tool keep 13 pages resident that it never uses */
	memset(c, 0, offsetof(struct nk_config, source));
	memset(&c->nsources, 0, sizeof *c - offsetof(struct nk_config, nsources));
	c->proxy.isolate = -1;
	c->ke.timeout = 10;
	c->ke.lock_wait = NK_STATELOCK_WAIT;
	memcpy(c->ke.cert_time, "now", 4);
	c->poll.lock_wait = NK_STATELOCK_WAIT;
	c->select.round_gap = 10;
	c->poll.count = 4;
	c->poll.spacing = 2;
	c->poll.interval = 0;
	c->poll.timeout = 5;
	c->select.min_agree = 1;
	c->select.max_distance = 1.5;
	c->adjust.step_threshold = 0.128;
	c->adjust.panic_single = 1000;
	c->adjust.panic_startup_forward = INFINITY;
	c->adjust.panic_startup_backward = 86400;
	c->adjust.panic_accumulated = INFINITY;
	snprintf(c->adjust.leap_list, sizeof c->adjust.leap_list, "%s", NK_CFG_LEAP_LIST);
	c->serve.rate = NK_CFG_SERVE_RATE;
	c->serve.burst = NK_CFG_SERVE_BURST;
	c->serve.status_max_age = NK_CFG_SERVE_MAX_AGE;
	c->serve.rotate = NK_COOKIE_ROTATE;
	c->serve.keep = NK_COOKIE_KEEP;
	c->sync.log_max = NK_CFG_LOG_MAX;
	c->sync.log_keep = NK_CFG_LOG_KEEP;
}

int nk_cfg_isolate(const struct nk_cfg_proxy *p)
{
	if (p->isolate >= 0)
		return p->isolate;
	return p->set && p->user[0] == 0 && (p->socks5.port == 9050 || p->socks5.port == 9150);
}

struct nk_cfg_source *nk_cfg_source_find(struct nk_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (strcmp(c->source[i].name, name) == 0)
			return &c->source[i];
	return NULL;
}

/* ---- sections ---- */

/* Enter section 'name' (the text between the brackets). */
static int enter_section(struct ctx *x, const char *name)
{
	int s;

	memset(x->seen, 0, sizeof x->seen);
	x->src = NULL;
	x->sect = S_NONE;
	if (strncmp(name, "source", 6) == 0 && (name[6] == 0 || name[6] == ' ')) {
		const char *n = name + 6;
		struct nk_cfg_source *src;

		if (*n == 0 || n[1] == 0) {
			fail(x, "[%s]: a source needs a name: [source NAME]", name);
			return -1;
		}
		n++;
		if (strlen(n) >= NK_CFG_NAME || !nk_rec_source_ok(n)) {
			fail(x, "[%.60s]: bad source name (1 to %d of A-Z a-z 0-9 '.' '_' '-')",
				name, NK_CFG_NAME - 1);
			return -1;
		}
		if ((src = nk_cfg_source_find(x->c, n)) != NULL) {
			if (x->file != NULL) {
				fail(x, "[source %s]: duplicate source name (first on line %lu)", n, src->line);
				return -1;
			}
			/* nk_cfg_set: an existing source is changed */
		} else {
			if (x->c->nsources == NK_CFG_MAX_SOURCES) {
				fail(x, "[source %s]: more than %d sources", n, NK_CFG_MAX_SOURCES);
				return -1;
			}
			src = &x->c->source[x->c->nsources];
			memset(src, 0, sizeof *src);
			x->addr_given[x->c->nsources] = 0;
			x->c->nsources++;
			snprintf(src->name, sizeof src->name, "%s", n);
			snprintf(src->address, sizeof src->address, "%s", n);
			src->ke_port = NK_CFG_KE_PORT;
			src->line = x->lineno;
		}
		x->sect = S_SOURCE;
		x->src = src;
		snprintf(x->where, sizeof x->where, "[source %s]", src->name);
		return 0;
	}
	for (s = S_PROXY; s < S_COUNT; s++)
		if (s != S_SOURCE && strcmp(name, sect_name[s]) == 0)
			break;
	if (s == S_COUNT) {
		char shown[48];
		size_t i;
		for (i = 0; name[i] && i < sizeof shown - 1; i++)
			shown[i] = (name[i] > ' ' && name[i] < 127) ? name[i] : '?';
		shown[i] = 0;
		fail(x, "[%s]: unknown section (known: proxy, source NAME, ke, poll, select, adjust, serve, sync)",
			shown);
		return -1;
	}
	if (x->file != NULL && x->sect_line[s] != 0) {
		fail(x, "[%s]: section given twice (first on line %lu)", name, x->sect_line[s]);
		return -1;
	}
	x->sect_line[s] = x->lineno;
	x->sect = (enum sect)s;
	snprintf(x->where, sizeof x->where, "[%s]", name);
	return 0;
}

/* ---- keys ---- */

static int set_string(struct ctx *x, const char *key, const char *v, char *dst, size_t cap)
{
	size_t n = strlen(v);

	if (n >= cap) {
		fail(x, "%s %s: longer than %zu bytes", x->where, key, cap - 1);
		return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static int set_path(struct ctx *x, const char *key, const char *v, char *dst)
{
	return set_string(x, key, v, dst, NK_CFG_PATH);
}

static int set_duration(struct ctx *x, const char *key, const char *v, int allow_inf,
	int positive, double *dst)
{
	struct nk_err e;
	double d;

	if (nk_cfg_parse_duration(v, allow_inf, &d, &e) < 0) {
		fail(x, "%s %s: %s", x->where, key, e.msg);
		return -1;
	}
	if (positive && d <= 0) {
		fail(x, "%s %s: '%s': must be more than 0", x->where, key, v);
		return -1;
	}
	*dst = d;
	return 0;
}

/* [poll] spacing, interval and timeout: the one definition of their ranges,
 * for the file and for nts-poll's --spacing, --interval and --timeout (it
 * sets them through nk_cfg_set). */
static const struct span {
	int key;
	int positive;           /* 1: more than 0; else 0 is allowed */
	double max;
	const char *say;        /* max in words, as messages and man pages say it */
} poll_spans[] = {
	{ K_O_SPACING, 0, 86400, "1 day" },
	{ K_O_INTERVAL, 0, 365 * 86400.0, "365 days" },
	{ K_O_TIMEOUT, 1, 600, "600 s" },
};

static int set_span(struct ctx *x, const char *key, const char *v, int which, double *dst)
{
	const struct span *sp = NULL;
	double d;

	for (size_t i = 0; i < sizeof poll_spans / sizeof poll_spans[0]; i++)
		if (poll_spans[i].key == which)
			sp = &poll_spans[i];
	if (set_duration(x, key, v, 0, 0, &d) < 0)
		return -1;
	if ((sp->positive && d <= 0) || d > sp->max) {
		fail(x, "%s %s: '%.40s': must be %sat most %s", x->where, key, v,
			sp->positive ? "more than 0 and " : "", sp->say);
		return -1;
	}
	*dst = d;
	return 0;
}

static int set_uint(struct ctx *x, const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *dst)
{
	uint64_t u;

	if (nk_parse_u64(v, hi, &u) < 0 || u < lo) {
		fail(x, "%s %s: '%.40s': must be a whole number from %llu to %llu", x->where, key, v,
			(unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*dst = u;
	return 0;
}

/* A size in bytes, DIGITS with an optional suffix k (1024) or M (1024^2),
 * from lo to hi bytes. */
static int set_size(struct ctx *x, const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *dst)
{
	char num[24];
	size_t n = strlen(v);
	uint64_t u, mul = 1;

	if (n > 0 && (v[n - 1] == 'k' || v[n - 1] == 'M')) {
		mul = v[n - 1] == 'k' ? 1024 : 1024 * 1024;
		n--;
	}
	if (n == 0 || n >= sizeof num)
		goto bad;
	memcpy(num, v, n);
	num[n] = 0;
	if (nk_parse_u64(num, hi / mul, &u) < 0 || u * mul < lo)
		goto bad;
	*dst = u * mul;
	return 0;
bad:
	fail(x, "%s %s: '%.40s': must be a size from %llu bytes to %llu M (a whole number, "
		"suffix k or M)", x->where, key, v, (unsigned long long)lo,
		(unsigned long long)(hi >> 20));
	return -1;
}

/* A decimal number DIGITS[.DIGITS] from lo to hi. */
static int set_number(struct ctx *x, const char *key, const char *v, double lo, double hi, double *dst)
{
	const char *p = v;
	double d;

	while (is_digit(*p))
		p++;
	if (p != v && *p == '.' && is_digit(p[1]))
		for (p++; is_digit(*p); p++)
			;
	d = strtod(v, NULL);
	if (p == v || *p != 0 || p - v > 30 || !(d >= lo && d <= hi)) {
		fail(x, "%s %s: '%.40s': must be a number from %g to %g", x->where, key, v, lo, hi);
		return -1;
	}
	*dst = d;
	return 0;
}

static int set_addr(struct ctx *x, const char *key, const char *v, uint16_t def_port, int ip_only,
	struct nk_cfg_addr *dst);

/* One more address for a repeatable listen key: an IP literal, not given twice. */
static int add_listen(struct ctx *x, const char *key, const char *v, uint16_t def_port,
	struct nk_cfg_addr *arr, size_t *n, size_t max)
{
	struct nk_cfg_addr a;

	if (*n == max) {
		fail(x, "%s %s: more than %zu listen addresses", x->where, key, max);
		return -1;
	}
	if (set_addr(x, key, v, def_port, 1, &a) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(arr[i].host, a.host) && arr[i].port == a.port) {
			fail(x, "%s %s: '%.80s' listed twice", x->where, key, v);
			return -1;
		}
	arr[(*n)++] = a;
	return 0;
}

static int set_port(struct ctx *x, const char *key, const char *v, uint16_t *dst)
{
	uint64_t u;

	if (set_uint(x, key, v, 1, 65535, &u) < 0)
		return -1;
	*dst = (uint16_t)u;
	return 0;
}

static int set_bool(struct ctx *x, const char *key, const char *v, int *dst)
{
	int b = nk_cfg_parse_bool(v);

	if (b < 0) {
		fail(x, "%s %s: '%.40s': must be yes or no", x->where, key, v);
		return -1;
	}
	*dst = b;
	return 0;
}

/* ip_only: the host must be an IP literal (addresses we listen on). */
static int set_addr(struct ctx *x, const char *key, const char *v, uint16_t def_port, int ip_only,
	struct nk_cfg_addr *dst)
{
	struct nk_cfg_addr a;
	struct nk_err e;

	if (nk_cfg_parse_addr(v, def_port, &a, &e) < 0) {
		fail(x, "%s %s: %s", x->where, key, e.msg);
		return -1;
	}
	if (ip_only && !is_ip_literal(a.host)) {
		fail(x, "%s %s: '%.80s': must be an IP address (e.g. 0.0.0.0:%u or [::]:%u)",
			x->where, key, v, def_port ? def_port : 1, def_port ? def_port : 1);
		return -1;
	}
	*dst = a;
	return 0;
}

/* A host without a port: NAME, IPv4, IPv6 or [IPv6]. */
static int set_host(struct ctx *x, const char *key, const char *v, char *dst, const char *port_key)
{
	char h[NK_CFG_HOST];
	const char *why, *colon = strchr(v, ':');
	size_t n = strlen(v);

	if (v[0] == '[') {
		if (n < 3 || v[n - 1] != ']') {
			fail(x, "%s %s: '%.80s': give the host only (the port goes in %s)",
				x->where, key, v, port_key);
			return -1;
		}
		n -= 2;
		v++;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		fail(x, "%s %s: '%.80s': give the host only (the port goes in %s)", x->where, key, v, port_key);
		return -1;
	}
	if (n >= sizeof h) {
		fail(x, "%s %s: host longer than %zu bytes", x->where, key, sizeof h - 1);
		return -1;
	}
	memcpy(h, v, n);
	h[n] = 0;
	if ((why = host_problem(h)) != NULL) {
		fail(x, "%s %s: '%.80s': %s", x->where, key, h, why);
		return -1;
	}
	memcpy(dst, h, n + 1);
	return 0;
}

static int set_key(struct ctx *x, const char *name, const char *v)
{
	struct nk_config *c = x->c;
	struct nk_err e;
	uint64_t u;
	int k, r = 0;

	if (x->sect == S_NONE) {
		fail(x, "key '%.40s' outside any section (put it under [proxy], [source NAME], ...)", name);
		return -1;
	}
	for (k = 0; k < K_COUNT; k++)
		if (keys[k].sect == x->sect && strcmp(keys[k].name, name) == 0)
			break;
	if (k == K_COUNT) {
		char shown[48];
		size_t i;
		for (i = 0; name[i] && i < sizeof shown - 1; i++)
			shown[i] = (name[i] > ' ' && name[i] < 127) ? name[i] : '?';
		shown[i] = 0;
		fail(x, "%s: unknown key '%s'", x->where, shown);
		return -1;
	}
	if (!keys[k].repeat && x->file != NULL && x->seen[k] != 0) {
		fail(x, "%s %s: given twice (first on line %lu)", x->where, name, x->seen[k]);
		return -1;
	}
	x->seen[k] = x->lineno ? x->lineno : 1;
	if (*v == 0) {
		fail(x, "%s %s: empty value", x->where, name);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			fail(x, "%s %s: control byte 0x%02x in value", x->where, name, *p);
			return -1;
		}
	if (!nk_rec_utf8_ok(v, strlen(v))) {
		fail(x, "%s %s: invalid UTF-8 in value", x->where, name);
		return -1;
	}

	switch ((enum key)k) {
	case K_P_SOCKS5:
		r = set_addr(x, name, v, 1080, 0, &c->proxy.socks5);
		if (r == 0)
			c->proxy.set = 1;
		break;
	case K_P_USER:
		if (strlen(v) > 255) {   /* RFC 1929: ULEN 1..255 */
			fail(x, "%s %s: longer than 255 bytes (RFC 1929)", x->where, name);
			return -1;
		}
		r = set_string(x, name, v, c->proxy.user, sizeof c->proxy.user);
		break;
	case K_P_PASSWORD:
		if (strlen(v) > 255) {   /* RFC 1929: PLEN 1..255 */
			fail(x, "%s %s: longer than 255 bytes (RFC 1929)", x->where, name);
			return -1;
		}
		r = set_string(x, name, v, c->proxy.pass, sizeof c->proxy.pass);
		break;
	case K_P_ISOLATE:
		if (strcmp(v, "auto") == 0)
			c->proxy.isolate = -1;
		else if ((c->proxy.isolate = nk_cfg_parse_bool(v)) < 0) {
			c->proxy.isolate = -1;
			fail(x, "%s %s: '%.40s': must be auto, yes or no", x->where, name, v);
			return -1;
		}
		break;
	case K_P_DIRECT:
		r = set_bool(x, name, v, &c->proxy.direct);
		break;
	case K_P_RELAY:
		r = set_addr(x, name, v, 0, 0, &c->proxy.relay);
		break;
	case K_S_ADDRESS:
		r = set_host(x, name, v, x->src->address, "ke-port");
		if (r == 0)
			x->addr_given[x->src - c->source] = 1;
		break;
	case K_S_KE_PORT:
		r = set_port(x, name, v, &x->src->ke_port);
		break;
	case K_S_NTP_PORT:
		r = set_port(x, name, v, &x->src->ntp_port);
		break;
	case K_S_AEAD:
		if (nk_cfg_parse_aead_list(v, x->src->aead, &x->src->naead, &e) < 0) {
			fail(x, "%s %s: %s", x->where, name, e.msg);
			return -1;
		}
		break;
	case K_S_CA:
		r = set_path(x, name, v, x->src->ca);
		break;
	case K_S_NAME:
		r = set_host(x, name, v, x->src->sni, "ke-port");
		if (r == 0 && is_ip_literal(x->src->sni)) {
			/* RFC 6066 §3: literal IP addresses are not permitted in SNI */
			x->src->sni[0] = 0;
			fail(x, "%s %s: '%.80s': must be a host name, not an IP address (RFC 6066 §3)",
				x->where, name, v);
			return -1;
		}
		break;
	case K_S_CIRCUITS:
		if ((r = set_uint(x, name, v, 1, NK_CFG_MAX_CIRCUITS, &u)) == 0)
			x->src->circuits = (unsigned)u;
		break;
	case K_O_CIRCUITS:
		if (strcmp(v, "auto") == 0)
			c->poll.circuits = 0;
		else if ((r = set_uint(x, name, v, 1, NK_CFG_MAX_CIRCUITS, &u)) == 0)
			c->poll.circuits = (unsigned)u;
		break;
	case K_K_TIMEOUT:
		r = set_duration(x, name, v, 0, 1, &c->ke.timeout);
		break;
	case K_K_STATE:
		r = set_path(x, name, v, c->ke.state);
		break;
	/* these ranges are the tools' flags' too: they set them through nk_cfg_set */
	case K_K_LOCK_WAIT:
		r = set_duration(x, name, v, 0, 0, &c->ke.lock_wait);
		break;
	case K_K_CERT_TIME:
		if (strcmp(v, "now") != 0 && strcmp(v, "skip-window") != 0 &&
		    (nk_parse_u64(v, INT64_MAX, &u) < 0 || !is_digit(v[0]))) {
			fail(x, "%s %s: '%.40s' is not now, skip-window or Unix seconds", x->where, name, v);
			return -1;
		}
		r = set_string(x, name, v, c->ke.cert_time, sizeof c->ke.cert_time);
		break;
	case K_O_COUNT:
		if ((r = set_uint(x, name, v, 1, 1000, &u)) == 0)
			c->poll.count = (unsigned)u;
		break;
	case K_O_SPACING:
		r = set_span(x, name, v, K_O_SPACING, &c->poll.spacing);
		break;
	case K_O_INTERVAL:
		r = set_span(x, name, v, K_O_INTERVAL, &c->poll.interval);
		break;
	case K_O_TIMEOUT:
		r = set_span(x, name, v, K_O_TIMEOUT, &c->poll.timeout);
		break;
	case K_O_LOCK_WAIT:
		r = set_duration(x, name, v, 0, 0, &c->poll.lock_wait);
		break;
	case K_O_STATE:
		r = set_path(x, name, v, c->poll.state);
		break;
	case K_L_MIN_AGREE:
		if ((r = set_uint(x, name, v, 1, NK_CFG_MAX_AGREE, &u)) == 0)
			c->select.min_agree = (unsigned)u;
		break;
	case K_L_MAX_DISTANCE:
		r = set_duration(x, name, v, 0, 1, &c->select.max_distance);
		break;
	case K_L_ROUND_GAP:
	{
		double g;

		if ((r = set_duration(x, name, v, 0, 1, &g)) < 0)
			break;
		if (g > 86400) {
			fail(x, "%s %s: '%.40s': must be more than 0 and at most 1 day", x->where, name, v);
			return -1;
		}
		c->select.round_gap = g;
		break;
	}
	case K_L_STREAM:
		r = set_bool(x, name, v, &c->select.stream);
		break;
	case K_A_STEP:
		r = set_duration(x, name, v, 1, 0, &c->adjust.step_threshold);
		break;
	case K_A_PANIC_SINGLE:
		r = set_duration(x, name, v, 1, 0, &c->adjust.panic_single);
		break;
	case K_A_PANIC_STARTUP:
		if (x->seen[K_A_PANIC_FWD] || x->seen[K_A_PANIC_BWD]) {
			fail(x, "%s %s: give either panic-startup or panic-startup-forward/-backward",
				x->where, name);
			return -1;
		}
		if ((r = set_duration(x, name, v, 1, 0, &c->adjust.panic_startup_forward)) == 0)
			c->adjust.panic_startup_backward = c->adjust.panic_startup_forward;
		break;
	case K_A_PANIC_FWD:
	case K_A_PANIC_BWD:
		if (x->seen[K_A_PANIC_STARTUP]) {
			fail(x, "%s %s: give either panic-startup or panic-startup-forward/-backward",
				x->where, name);
			return -1;
		}
		r = set_duration(x, name, v, 1, 0, k == K_A_PANIC_FWD ? &c->adjust.panic_startup_forward
			: &c->adjust.panic_startup_backward);
		break;
	case K_A_PANIC_ACC:
		r = set_duration(x, name, v, 1, 0, &c->adjust.panic_accumulated);
		/* ntpd-rs: 0 (or unset) disables the accumulated check */
		if (r == 0 && c->adjust.panic_accumulated == 0)
			c->adjust.panic_accumulated = INFINITY;
		break;
	case K_A_STATUS:
		r = set_path(x, name, v, c->adjust.status_file);
		break;
	case K_A_STATE:
		r = set_path(x, name, v, c->adjust.state_file);
		break;
	case K_A_LEAP_LIST:
		r = set_path(x, name, v, c->adjust.leap_list);
		break;
	case K_A_STREAM:
		r = set_bool(x, name, v, &c->adjust.stream);
		break;
	case K_A_DRY_RUN:
		r = set_bool(x, name, v, &c->adjust.dry_run);
		break;
	case K_V_LISTEN:
		r = add_listen(x, name, v, NK_CFG_NTP_PORT, c->serve.listen, &c->serve.nlisten,
			NK_CFG_MAX_LISTEN);
		break;
	case K_V_KE_LISTEN:
		r = add_listen(x, name, v, NK_CFG_KE_PORT, c->serve.ke_listen, &c->serve.nke_listen,
			NK_CFG_MAX_KE_LISTEN);
		break;
	case K_V_CERT:
		r = set_path(x, name, v, c->serve.cert);
		break;
	case K_V_KEY:
		r = set_path(x, name, v, c->serve.key);
		break;
	case K_V_COOKIE_KEYS:
		r = set_path(x, name, v, c->serve.cookie_keys);
		break;
	case K_V_TCP_LISTEN:
		r = add_listen(x, name, v, 0, c->serve.tcp_listen, &c->serve.ntcp_listen,
			NK_CFG_MAX_TCP_LISTEN);
		break;
	case K_V_RELAY_ALLOW:
		if (c->serve.nrelay_allow == NK_CFG_MAX_ALLOW) {
			fail(x, "%s %s: more than %d entries", x->where, name, NK_CFG_MAX_ALLOW);
			return -1;
		}
		r = set_addr(x, name, v, NK_CFG_NTP_PORT, 0, &c->serve.relay_allow[c->serve.nrelay_allow]);
		if (r == 0)
			c->serve.nrelay_allow++;
		break;
	case K_V_STATUS:
		r = set_path(x, name, v, c->serve.status_file);
		break;
	case K_V_USER:
		r = set_string(x, name, v, c->serve.user, sizeof c->serve.user);
		break;
	case K_V_NTP_SERVER:
		r = set_host(x, name, v, c->serve.ntp_server, "ntp-port");
		break;
	case K_V_NTP_PORT:
		r = set_port(x, name, v, &c->serve.ntp_port);
		break;
	/* the ranges of these are nts-serve's flags' too: it sets them through nk_cfg_set */
	case K_V_RATE:
		r = set_number(x, name, v, 0.001, 1e6, &c->serve.rate);
		break;
	case K_V_BURST:
		if ((r = set_uint(x, name, v, 1, 65535, &u)) == 0)
			c->serve.burst = (unsigned)u;
		break;
	case K_V_STATUS_MAX_AGE:
		r = set_duration(x, name, v, 0, 0, &c->serve.status_max_age);
		break;
	case K_V_ROTATE:
		r = set_duration(x, name, v, 0, 0, &c->serve.rotate);
		break;
	case K_V_KEEP:
		if ((r = set_uint(x, name, v, 1, NK_COOKIE_MAX_KEYS, &u)) == 0)
			c->serve.keep = (unsigned)u;
		break;
	case K_V_ALLOW:
	case K_V_DENY:
		if (c->serve.nacl == NK_CFG_MAX_ACL) {
			fail(x, "%s %s: more than %d allow and deny rules", x->where, name, NK_CFG_MAX_ACL);
			return -1;
		}
		if (nk_cfg_parse_cidr(v, &c->serve.acl[c->serve.nacl], &e) < 0) {
			fail(x, "%s %s: %s", x->where, name, e.msg);
			return -1;
		}
		c->serve.acl[c->serve.nacl++].allow = k == K_V_ALLOW;
		break;
	case K_Y_LOG:
		r = set_path(x, name, v, c->sync.log);
		break;
	case K_Y_LOG_MAX:
		r = set_size(x, name, v, NK_CFG_LOG_MAX_MIN, NK_CFG_LOG_MAX_MAX, &c->sync.log_max);
		break;
	case K_Y_LOG_KEEP:
		if ((r = set_uint(x, name, v, 1, NK_CFG_LOG_KEEP_MAX, &u)) == 0)
			c->sync.log_keep = (unsigned)u;
		break;
	case K_COUNT:
		break;
	}
	return r;
}

/* Checks that need the whole file; messages point at the section header. */
static int finish(struct ctx *x)
{
	struct nk_cfg_proxy *p = &x->c->proxy;
	size_t i;

	x->lineno = x->sect_line[S_PROXY];
	if (!p->set && (p->user[0] || p->pass[0] || p->relay.host[0] || p->isolate == 1)) {
		fail(x, "[proxy]: user, password, isolate and relay need socks5 = HOST:PORT");
		return -1;
	}
	if ((p->user[0] != 0) != (p->pass[0] != 0)) {
		fail(x, "[proxy]: give both user and password, or neither (RFC 1929)");
		return -1;
	}
	if (p->isolate == 1 && p->user[0]) {
		fail(x, "[proxy]: isolate = yes makes a fresh user and password per source; "
			"remove user/password or set isolate = no");
		return -1;
	}
	for (i = 0; i < x->c->nsources; i++) {
		struct nk_cfg_source *s = &x->c->source[i];
		if (!x->addr_given[i] && host_problem(s->address) != NULL) {
			x->lineno = s->line;
			fail(x, "[source %s]: no address, and the name is not a host name", s->name);
			return -1;
		}
	}
	return 0;
}

/* ---- the file ---- */

#if INI_HANDLER_LINENO
static int handler(void *user, const char *section, const char *name, const char *value, int lineno)
#else
static int handler(void *user, const char *section, const char *name, const char *value)
#endif
{
	struct ctx *x = user;

	(void)section;  /* the reader has already entered it */
#if INI_HANDLER_LINENO
	(void)lineno;
#endif
	if (x->failed)
		return 0;
	if (name == NULL || value == NULL)
		return 1;
	return set_key(x, name, value) == 0;
}

/* fgets-like reader for ini_parse_stream: one line per call, checked. */
static char *reader(char *str, int num, void *stream)
{
	struct ctx *x = stream;
	size_t n = 0, i, len;
	int c = 0;
	char *p;

	if (x->failed)
		return NULL;
	while (n + 1 < (size_t)num && (c = getc(x->f)) != EOF) {
		str[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (n == 0) {
		if (ferror(x->f)) {
			x->lineno++;
			fail(x, "read error: %s", strerror(errno));
		}
		return NULL;
	}
	str[n] = 0;
	x->lineno++;
	len = str[n - 1] == '\n' ? n - 1 : n;
	if (len > NK_CFG_MAX_LINE || (str[n - 1] != '\n' && c != EOF && (c = getc(x->f)) != EOF)) {
		fail(x, "line longer than %d bytes", NK_CFG_MAX_LINE);
		return NULL;
	}
	if (len > 0 && str[len - 1] == '\r')
		len--;  /* CRLF is accepted */
	p = str;
	if (x->lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3, len -= 3; /* UTF-8 BOM (inih skips it too) */
	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)p[i];
		if (b == 0) {
			fail(x, "NUL byte at column %zu", i + 1);
			return NULL;
		}
		if ((b < 0x20 && b != '\t') || b == 0x7f) {
			fail(x, "control byte 0x%02x at column %zu", b, i + 1);
			return NULL;
		}
	}
	if (!nk_rec_utf8_ok(p, len)) {
		fail(x, "invalid UTF-8");
		return NULL;
	}
	/* the shape of the line */
	for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i == len || p[i] == '#' || p[i] == ';')
		return str;     /* empty or comment */
	if (p[i] == '[') {
		char name[64];
		size_t j = i + 1, k;
		while (j < len && p[j] != ']')
			j++;
		if (j == len) {
			fail(x, "section header without ']'");
			return NULL;
		}
		for (k = j + 1; k < len; k++)
			if (p[k] != ' ' && p[k] != '\t') {
				fail(x, "text after the section header ']'");
				return NULL;
			}
		if (j - i - 1 >= 50 || j - i - 1 >= sizeof name) {
			/* inih keeps at most 49 bytes of a section name */
			fail(x, "section name longer than 49 bytes");
			return NULL;
		}
		memcpy(name, p + i + 1, j - i - 1);
		name[j - i - 1] = 0;
		if (enter_section(x, name) < 0)
			return NULL;
		return str;
	}
	for (; i < len && p[i] != '=' && p[i] != ':'; i++)
		;
	if (i == len) {
		fail(x, "expected 'key = value', '[section]' or a '#' comment");
		return NULL;
	}
	return str;
}

int nk_cfg_load(struct nk_config *c, const char *path, struct nk_err *e)
{
	static struct ctx x;    /* large (seen[] and messages); not re-entrant anyway */
	int r;
	/* inih's options are process globals in Debian's build: set ours, restore after */
	bool o_multi = ini_allow_multiline, o_bom = ini_allow_bom, o_inl = ini_allow_inline_comments,
	     o_stop = ini_stop_on_first_error, o_noval = ini_allow_no_value;
	int o_max = ini_max_line;
	char *o_start = ini_start_comment_prefixes;

	nk_cfg_defaults(c);
	memset(&x, 0, sizeof x);
	x.c = c;
	x.file = path;
	if (strlen(path) >= sizeof c->path) {
		nk_errf(e, "%.60s...: path too long", path);
		return -1;
	}
	snprintf(c->path, sizeof c->path, "%s", path);
	if ((x.f = fopen(path, "r")) == NULL) {
		nk_errf(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = false;
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
	ini_max_line = NK_CFG_MAX_LINE + 3;
	ini_start_comment_prefixes = (char *)";#";
	r = ini_parse_stream(reader, &x, handler, &x);
	ini_allow_multiline = o_multi;
	ini_allow_bom = o_bom;
	ini_allow_inline_comments = o_inl;
	ini_stop_on_first_error = o_stop;
	ini_allow_no_value = o_noval;
	ini_max_line = o_max;
	ini_start_comment_prefixes = o_start;
	fclose(x.f);

	if (!x.failed && r != 0) {
		/* inih found something our reader let through */
		if (r > 0)
			x.lineno = (unsigned long)r;
		fail(&x, "syntax error");
	}
	if (!x.failed)
		finish(&x);
	if (x.failed) {
		if (e != NULL)
			*e = x.err;
		return -1;
	}
	return 0;
}

int nk_cfg_set(struct nk_config *c, const char *section, const char *key,
	const char *value, struct nk_err *e)
{
	static struct ctx x;

	memset(&x, 0, sizeof x);
	x.c = c;
	x.file = NULL;
	for (size_t i = 0; i < c->nsources; i++)
		x.addr_given[i] = 1;
	if (enter_section(&x, section) < 0 || set_key(&x, key, value) < 0) {
		if (e != NULL)
			*e = x.err;
		return -1;
	}
	if (x.sect == S_SOURCE && !x.addr_given[x.src - c->source] && host_problem(x.src->address)) {
		nk_errf(e, "[source %s]: no address, and the name is not a host name", x.src->name);
		return -1;
	}
	if (x.sect == S_PROXY && c->proxy.socks5.host[0])
		c->proxy.set = 1;
	return 0;
}
