#include "util.h"
#include "ct.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void nk_errf(struct nk_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

void nk_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

#ifndef NK_VERSION
#define NK_VERSION "unknown"
#endif
const char nk_version[] = NK_VERSION;

int nk_print_version(const char *tool)
{
	printf("%s %s\n", tool, nk_version);
	return 0;
}

int nk_stdfds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int n;
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free descriptor: fd itself, as 0..fd-1 are open */
		n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -1;
		if (n != fd) {
			if (dup2(n, fd) < 0) {
				int err = errno;
				close(n);
				errno = err;
				return -1;
			}
			close(n);
		}
	}
	return 0;
}

double nk_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int nk_ct_eq(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return (int)(1 & ((d - 1) >> 8));
}

static int getrandom_all(unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Small requests (nonces: a server makes two per NTS answer) come from a
 * pool of getrandom() output, refilled NK_POOL octets at a time, so that
 * a busy server makes one system call per hundreds of nonces instead of
 * one each. The pool has a page of its own marked MADV_WIPEONFORK: a
 * child process (nts-ke and nts-poll fork one per source) starts with an
 * empty pool and refills it from the kernel, so two processes never hand
 * out the same octets. Octets are wiped from the pool as they are handed
 * out. Without MADV_WIPEONFORK (Linux < 4.14) every request goes to
 * getrandom(), as do large ones (keys). Not thread-safe: ntskit's tools
 * are single-threaded.
 */
#define NK_POOL 1024
#define NK_POOL_MAX_REQ 64
struct rnd_pool {
	size_t left;            /* 0 in a fresh page: "empty" */
	unsigned char b[NK_POOL];
};
static struct rnd_pool *pool;
static int pool_state;          /* 0 not tried, 1 usable, 2 unavailable */

static struct rnd_pool *pool_get(void)
{
	if (pool_state == 0) {
		void *m = mmap(NULL, sizeof *pool, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		pool_state = 2;
		if (m != MAP_FAILED) {
			if (madvise(m, sizeof *pool, MADV_WIPEONFORK) == 0 &&
			    madvise(m, sizeof *pool, MADV_DONTDUMP) == 0) {
				pool = m;
				pool_state = 1;
			} else {
				munmap(m, sizeof *pool);
			}
		}
	}
	return pool;
}

/* ---- test hooks (util.h): compiled in only with -DNK_TEST_HOOKS ---- */
#ifdef NK_TEST_HOOKS
#include <bearssl.h>
#include <stdlib.h>

static int hk_seed_state;       /* 0 not looked at, 1 on, 2 off */
static br_hmac_drbg_context hk_drbg;
static int hk_time_state;       /* the same for the clock */
static int64_t hk_sec;          /* the next reading: hk_sec + hk_nsec ns */
static long hk_nsec, hk_step_ns;

static void hk_die(const char *var, const char *val)
{
	fprintf(stderr, "%s: test hook: bad %s=%s (want SECONDS[.FRACTION])\n",
		program_invocation_short_name, var, val);
	exit(70);
}

/* "S[.F]" (up to 9 fraction digits) into seconds and nanoseconds */
static void hk_parse(const char *var, const char *v, int64_t *sec, long *nsec)
{
	const char *p = v;
	long long s = 0;
	long ns = 0, scale = 100000000;

	if (*p < '0' || *p > '9')
		hk_die(var, v);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (s > 999999999999LL)
			hk_die(var, v);
		s = s * 10 + (*p - '0');
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
			ns += (*p - '0') * scale;
	if (*p != 0)
		hk_die(var, v);
	*sec = s;
	*nsec = ns;
}

static int hk_seeded(void)
{
	if (hk_seed_state == 0) {
		const char *v = getenv("NTSKIT_TEST_SEED");
		hk_seed_state = 2;
		if (v != NULL && *v != 0) {
			static const char dom[] = "ntskit test DRBG";
			const char *prog = program_invocation_short_name;
			br_hmac_drbg_init(&hk_drbg, &br_sha256_vtable, dom, sizeof dom);
			br_hmac_drbg_update(&hk_drbg, v, strlen(v) + 1);
			br_hmac_drbg_update(&hk_drbg, prog, strlen(prog));
			hk_seed_state = 1;
		}
	}
	return hk_seed_state == 1;
}

static int hk_timed(void)
{
	if (hk_time_state == 0) {
		const char *v = getenv("NTSKIT_TEST_TIME"), *st = getenv("NTSKIT_TEST_TIME_STEP");
		int64_t ss = 0;
		hk_time_state = 2;
		if (v != NULL && *v != 0) {
			hk_parse("NTSKIT_TEST_TIME", v, &hk_sec, &hk_nsec);
			hk_step_ns = 1000000;
			if (st != NULL && *st != 0) {
				hk_parse("NTSKIT_TEST_TIME_STEP", st, &ss, &hk_step_ns);
				if (ss > 1000)
					hk_die("NTSKIT_TEST_TIME_STEP", st);
				hk_step_ns += (long)ss * 1000000000L;
			}
			hk_time_state = 1;
		}
	}
	return hk_time_state == 1;
}
#endif

void nk_clock_real(struct timespec *ts)
{
#ifdef NK_TEST_HOOKS
	if (hk_timed()) {
		ts->tv_sec = (time_t)hk_sec;
		ts->tv_nsec = hk_nsec;
		hk_nsec += hk_step_ns;
		hk_sec += hk_nsec / 1000000000L;
		hk_nsec %= 1000000000L;
		return;
	}
#endif
	clock_gettime(CLOCK_REALTIME, ts);
}

int64_t nk_time(void)
{
#ifdef NK_TEST_HOOKS
	if (hk_timed())
		return hk_sec;
#endif
	return (int64_t)time(NULL);
}

int nk_test_restamp(struct timespec *ts)
{
#ifdef NK_TEST_HOOKS
	if (hk_timed()) {
		nk_clock_real(ts);
		return 1;
	}
#endif
	(void)ts;
	return 0;
}

int nk_random(void *buf, size_t n)
{
	struct rnd_pool *p;

#ifdef NK_TEST_HOOKS
	if (hk_seeded()) {
		br_hmac_drbg_generate(&hk_drbg, buf, n);
		return 0;
	}
#endif
	if (n > NK_POOL_MAX_REQ || (p = pool_get()) == NULL)
		return getrandom_all(buf, n);
	if (p->left < n) {
		if (getrandom_all(p->b, NK_POOL) < 0)
			return -1;
		p->left = NK_POOL;
	}
	/* hand out from the end; the handed-out octets are wiped */
	memcpy(buf, p->b + p->left - n, n);
	nk_wipe(p->b + p->left - n, n);
	p->left -= n;
	return 0;
}

/*
 * The hex codec carries session keys and cookie master keys, so neither
 * direction looks anything up by a secret nibble or branches on a secret
 * character: digits are computed with masks (lib/ct.h). Decoding decodes
 * every pair, collects validity in one mask and branches on it once, at
 * the end (a failed decode wipes the output it wrote).
 */
static char hexdigit(uint32_t n)
{
	/* '0' + n for n < 10, 'a' + n - 10 = '0' + n + 39 above */
	return (char)('0' + n + (~nk_ct_mask_lt(n, 10) & 39));
}

void nk_hex_encode(char *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdigit(p[i] >> 4);
		out[2 * i + 1] = hexdigit(p[i] & 15);
	}
	out[2 * n] = 0;
}

/* The value of hex digit c (0..15, garbage when invalid); *ok &= all ones
 * when c is a digit, 0 when it is not. */
static uint32_t hexval(uint32_t c, uint32_t *ok)
{
	uint32_t d = nk_ct_mask_range(c, '0', '9');
	uint32_t l = nk_ct_mask_range(c, 'a', 'f');
	uint32_t u = nk_ct_mask_range(c, 'A', 'F');

	*ok &= d | l | u;
	return ((c - '0') & d) | ((c - 'a' + 10) & l) | ((c - 'A' + 10) & u);
}

long nk_hex_decode(void *out, size_t cap, const char *in, size_t len)
{
	unsigned char *o = out;
	uint32_t ok = ~(uint32_t)0;
	size_t i;

	if (len % 2 != 0 || len / 2 > cap)
		return -1;
	for (i = 0; i < len; i += 2) {
		uint32_t h = hexval((unsigned char)in[i], &ok);
		uint32_t l = hexval((unsigned char)in[i + 1], &ok);

		o[i / 2] = (unsigned char)(h << 4 | l);
	}
	/* the one branch: whether the whole string was hex */
	NK_CT_PUBLIC(&ok, sizeof ok);
	if (ok == 0) {
		nk_wipe(out, len / 2);
		return -1;
	}
	return (long)(len / 2);
}

static const char b64u[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t nk_b64url_encode(char *out, const void *in, size_t n)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
		out[o++] = b64u[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
	}
	out[o] = 0;
	return o;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long nk_b64url_decode(void *out, size_t cap, const char *in, size_t len)
{
	unsigned char *o = out;
	size_t i, n = 0, full = len / 4 * 4, rest = len % 4;
	int v[4];

	if (rest == 1)
		return -1;
	if (len / 4 * 3 + (rest ? rest - 1 : 0) > cap)
		return -1;
	for (i = 0; i < full; i += 4) {
		int k;
		for (k = 0; k < 4; k++)
			if ((v[k] = b64val((unsigned char)in[i + k])) < 0)
				return -1;
		o[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		o[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		o[n++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	if (rest >= 2) {
		size_t k;
		for (k = 0; k < rest; k++)
			if ((v[k] = b64val((unsigned char)in[i + k])) < 0)
				return -1;
		o[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (rest == 2) {
			if (v[1] & 15)
				return -1; /* non-canonical trailing bits */
		} else {
			o[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
			if (v[2] & 3)
				return -1;
		}
	}
	return (long)n;
}

int nk_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == 0)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int nk_hostport_parse(const char *s, char *host, size_t host_cap,
	uint16_t *port, uint16_t def_port, struct nk_err *e)
{
	const char *h, *p = NULL;
	size_t hlen;
	uint64_t v;

	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL) {
			nk_errf(e, "'%s': missing ']' after IPv6 address", s);
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(end - h);
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != 0) {
			nk_errf(e, "'%s': expected ':PORT' after ']'", s);
			return -1;
		}
	} else {
		const char *c = strchr(s, ':');
		h = s;
		if (c != NULL && strchr(c + 1, ':') != NULL) {
			/* bare IPv6 address: no port possible */
			hlen = strlen(s);
		} else if (c != NULL) {
			hlen = (size_t)(c - s);
			p = c + 1;
		} else {
			hlen = strlen(s);
		}
	}
	if (hlen == 0) {
		nk_errf(e, "'%s': empty host", s);
		return -1;
	}
	if (hlen >= host_cap) {
		nk_errf(e, "'%s': host name too long (max %zu)", s, host_cap - 1);
		return -1;
	}
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c <= ' ' || c >= 127 || c == '/' || c == '@' || c == '[' || c == ']') {
			nk_errf(e, "'%s': invalid character in host", s);
			return -1;
		}
	}
	if (p != NULL) {
		if (nk_parse_u64(p, 65535, &v) < 0 || v == 0) {
			nk_errf(e, "'%s': port must be a number from 1 to 65535", s);
			return -1;
		}
	} else if (def_port != 0) {
		v = def_port;
	} else {
		nk_errf(e, "'%s': missing ':PORT'", s);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = 0;
	*port = (uint16_t)v;
	return 0;
}

int nk_hostport_format(char *out, size_t cap, const char *host, uint16_t port)
{
	int n = strchr(host, ':') ? snprintf(out, cap, "[%s]:%u", host, port)
				  : snprintf(out, cap, "%s:%u", host, port);
	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}
