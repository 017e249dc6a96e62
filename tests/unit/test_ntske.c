/* Unit tests for lib/ntske: NTS-KE record codec (RFC 8915 §4), both roles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ntske.h"

/* ---- a tiny record writer for hand-made messages ---- */
struct msg {
	uint8_t b[70000];
	size_t n;
};

static void rec(struct msg *m, uint16_t type_c, const void *body, size_t len)
{
	assert_true(m->n + 4 + len <= sizeof m->b);
	m->b[m->n++] = (uint8_t)(type_c >> 8);
	m->b[m->n++] = (uint8_t)type_c;
	m->b[m->n++] = (uint8_t)(len >> 8);
	m->b[m->n++] = (uint8_t)len;
	if (len)
		memcpy(m->b + m->n, body, len);
	m->n += len;
}

static void rec16(struct msg *m, uint16_t type_c, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	rec(m, type_c, b, 2);
}

#define C NK_NTSKE_CRITICAL
static const uint8_t cookie100[100] = { 1, 2, 3 };
static const uint8_t cookie104[104] = { 9, 8, 7 };
static const uint16_t offer15[] = { 15 };
static const uint16_t offer15_17[] = { 15, 17 };

/* chrony 4.3 (peers README): NextProtocol crit [0], AEAD crit [15],
 * Port crit [11123], 8 cookies of 100 bytes (not critical), End crit */
static void chrony_response(struct msg *m)
{
	m->n = 0;
	rec16(m, C | NK_NTSKE_NEXTPROTO, 0);
	rec16(m, C | NK_NTSKE_AEAD, 15);
	rec16(m, C | NK_NTSKE_PORT, 11123);
	for (int i = 0; i < 8; i++)
		rec(m, NK_NTSKE_COOKIE, cookie100, sizeof cookie100);
	rec(m, C | NK_NTSKE_END, NULL, 0);
}

/* NTPsec 1.2.2: NextProtocol crit [0], AEAD NOT critical [15], 8 cookies
 * of 104 bytes, End; no Port, no Server */
static void ntpsec_response(struct msg *m)
{
	m->n = 0;
	rec16(m, C | NK_NTSKE_NEXTPROTO, 0);
	rec16(m, NK_NTSKE_AEAD, 15);
	for (int i = 0; i < 8; i++)
		rec(m, NK_NTSKE_COOKIE, cookie104, sizeof cookie104);
	rec(m, C | NK_NTSKE_END, NULL, 0);
}

/* Parse a whole response in one feed + end; returns the status. */
static int parse_resp(struct nk_ntske_parser *p, const uint16_t *off, size_t noff,
	const struct msg *m, struct nk_err *e)
{
	nk_ntske_client_init(p, off, noff);
	int rc = nk_ntske_feed(p, m->b, m->n, e);
	if (rc == NK_NTSKE_NEED_MORE)
		rc = nk_ntske_end(p, e);
	return rc;
}

static int parse_req(struct nk_ntske_parser *p, const struct msg *m, struct nk_err *e)
{
	nk_ntske_server_init(p, 0);
	int rc = nk_ntske_feed(p, m->b, m->n, e);
	if (rc == NK_NTSKE_NEED_MORE)
		rc = nk_ntske_end(p, e);
	return rc;
}

static struct nk_ntske_parser P;   /* big: keep it off the stack */
static struct msg M;

static void test_chrony_style(void **state)
{
	struct nk_err e = { "" };
	(void)state;
	chrony_response(&M);
	assert_int_equal(parse_resp(&P, offer15_17, 2, &M, &e), NK_NTSKE_DONE);
	assert_int_equal(P.u.resp.aead, 15);
	assert_int_equal(P.u.resp.ncookies, 8);
	assert_int_equal(P.u.resp.cookies_ignored, 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(P.u.resp.cookie_len[i], 100);
		assert_memory_equal(P.u.resp.cookie[i], cookie100, 100);
	}
	assert_true(P.u.resp.has_port);
	assert_int_equal(P.u.resp.port, 11123);
	assert_false(P.u.resp.has_server);
	assert_true(P.u.resp.aead_critical);
	assert_int_equal(P.err, NK_NTSKE_E_NONE);
	/* a server closing without close_notify after End is fine */
	assert_int_equal(nk_ntske_end(&P, &e), NK_NTSKE_DONE);
}

static void test_ntpsec_style(void **state)
{
	struct nk_err e = { "" };
	static const uint16_t offer30[] = { 30 };
	(void)state;
	ntpsec_response(&M);
	assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_DONE);
	assert_int_equal(P.u.resp.aead, 15);
	assert_false(P.u.resp.aead_critical);
	assert_int_equal(P.u.resp.ncookies, 8);
	assert_int_equal(P.u.resp.cookie_len[7], 104);
	assert_false(P.u.resp.has_port);
	/* NTPsec 1.2.2 answers 15 even when only 30 was offered: detected */
	assert_int_equal(parse_resp(&P, offer30, 1, &M, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_AEAD_NOT_OFFERED);
	assert_non_null(strstr(e.msg, "did not offer"));
	assert_non_null(strstr(e.msg, "NTPsec"));
	assert_non_null(strstr(e.msg, "AEAD_AES_SIV_CMAC_256"));
}

static void test_round_trip(void **state)
{
	uint8_t req[256], resp[2048];
	struct nk_err e = { "" };
	static const uint16_t supported[] = { 15, 17 };
	const uint8_t *ck[8];
	uint16_t cl[8];
	(void)state;

	long rn = nk_ntske_build_request(req, sizeof req, offer15_17, 2, NULL, 0);
	assert_int_equal(rn, 4 + 2 + 4 + 4 + 4);
	/* every record critical (§4.1.1, §4.1.2; AEAD MAY be) */
	assert_memory_equal(req, "\x80\x01\x00\x02\x00\x00\x80\x04\x00\x04\x00\x0f\x00\x11\x80\x00\x00\x00", 18);
	nk_ntske_server_init(&P, 0);
	assert_int_equal(nk_ntske_feed(&P, req, (size_t)rn, &e), NK_NTSKE_DONE);
	assert_int_equal(P.u.req.naead, 2);
	assert_int_equal(P.u.req.aead[0], 15);
	assert_int_equal(P.u.req.aead[1], 17);
	uint16_t a = nk_ntske_choose_aead(P.u.req.aead, P.u.req.naead, supported, 2);
	assert_int_equal(a, 15);

	for (int i = 0; i < 8; i++) { ck[i] = cookie104; cl[i] = (uint16_t)(90 + i); }
	struct nk_ntske_resp_params rp = { .aead = a, .cookies = ck, .cookie_len = cl, .ncookies = 8,
		.server = "ntp.example.org", .port = 11123 };
	long sn = nk_ntske_build_response(resp, sizeof resp, &rp);
	assert_true(sn > 0);
	assert_int_equal(parse_resp(&P, offer15_17, 2, &(struct msg){ .n = 0 }, &e), NK_NTSKE_ERROR);
	nk_ntske_client_init(&P, offer15_17, 2);
	assert_int_equal(nk_ntske_feed(&P, resp, (size_t)sn, &e), NK_NTSKE_DONE);
	assert_int_equal(P.u.resp.aead, 15);
	assert_int_equal(P.u.resp.ncookies, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(P.u.resp.cookie_len[i], 90 + i);
		assert_memory_equal(P.u.resp.cookie[i], cookie104, 90 + (size_t)i);
	}
	assert_string_equal(P.u.resp.server, "ntp.example.org");
	assert_int_equal(P.u.resp.port, 11123);

	/* client offers 17 then 15: the client's preference (17) wins (§4.1.5) */
	static const uint16_t offer17_15[] = { 17, 15 };
	assert_int_equal(nk_ntske_choose_aead(offer17_15, 2, supported, 2), 17);
	/* ... and 15 then 17 gives 15, whatever order the server lists them in */
	static const uint16_t supported17_15[] = { 17, 15 };
	assert_int_equal(nk_ntske_choose_aead(offer15_17, 2, supported17_15, 2), 15);
	/* unsupported ones are skipped, never chosen */
	static const uint16_t offer30_17_15[] = { 30, 17, 15 };
	assert_int_equal(nk_ntske_choose_aead(offer30_17_15, 3, supported, 2), 17);
	static const uint16_t offer17[] = { 17 };
	assert_int_equal(nk_ntske_choose_aead(offer17, 1, supported, 2), 17);

	/* with a Server and Port in the request */
	rn = nk_ntske_build_request(req, sizeof req, offer15, 1, "[bad]", 0);
	assert_int_equal(rn, -1);
	rn = nk_ntske_build_request(req, sizeof req, offer15, 1, "::1", 4123);
	assert_true(rn > 0);
	nk_ntske_server_init(&P, 0);
	assert_int_equal(nk_ntske_feed(&P, req, (size_t)rn, &e), NK_NTSKE_DONE);
	assert_string_equal(P.u.req.server, "::1");
	assert_int_equal(P.u.req.port, 4123);
	/* cap too small */
	assert_int_equal(nk_ntske_build_request(req, 17, offer15_17, 2, NULL, 0), -1);
	assert_int_equal(nk_ntske_build_response(resp, 100, &rp), -1);
}

static void test_no_common_aead(void **state)
{
	uint8_t req[64], resp[64];
	struct nk_err e = { "" };
	static const uint16_t supported[] = { 15, 17 };
	static const uint16_t offer30[] = { 30 };
	(void)state;
	long rn = nk_ntske_build_request(req, sizeof req, offer30, 1, NULL, 0);
	nk_ntske_server_init(&P, 0);
	assert_int_equal(nk_ntske_feed(&P, req, (size_t)rn, &e), NK_NTSKE_DONE);
	uint16_t a = nk_ntske_choose_aead(P.u.req.aead, P.u.req.naead, supported, 2);
	assert_int_equal(a, 0);
	struct nk_ntske_resp_params rp = { .aead = 0 };
	long sn = nk_ntske_build_response(resp, sizeof resp, &rp);
	/* NextProtocol [0], empty AEAD, End: what chrony sends */
	assert_int_equal(sn, 6 + 4 + 4);
	assert_memory_equal(resp, "\x80\x01\x00\x02\x00\x00\x80\x04\x00\x00\x80\x00\x00\x00", 14);
	nk_ntske_client_init(&P, offer30, 1);
	assert_int_equal(nk_ntske_feed(&P, resp, (size_t)sn, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_AEAD_EMPTY);
	assert_non_null(strstr(e.msg, "none of the AEAD"));
}

/* Every byte boundary: two chunks, and byte by byte. */
static void test_split_every_byte(void **state)
{
	struct nk_err e = { "" };
	(void)state;
	for (int kind = 0; kind < 2; kind++) {
		if (kind == 0)
			chrony_response(&M);
		else
			ntpsec_response(&M);
		for (size_t k = 0; k <= M.n; k++) {
			nk_ntske_client_init(&P, offer15, 1);
			int rc = nk_ntske_feed(&P, M.b, k, &e);
			if (k < M.n)
				assert_int_equal(rc, NK_NTSKE_NEED_MORE);
			rc = nk_ntske_feed(&P, M.b + k, M.n - k, &e);
			assert_int_equal(rc, NK_NTSKE_DONE);
			assert_int_equal(P.u.resp.ncookies, 8);
			assert_int_equal(P.u.resp.cookie_len[7], kind ? 104 : 100);
			/* three chunks too: k, 1, rest */
			if (k + 1 < M.n) {
				nk_ntske_client_init(&P, offer15, 1);
				assert_int_equal(nk_ntske_feed(&P, M.b, k, &e), NK_NTSKE_NEED_MORE);
				assert_int_equal(nk_ntske_feed(&P, M.b + k, 1, &e), NK_NTSKE_NEED_MORE);
				assert_int_equal(nk_ntske_feed(&P, M.b + k + 1, M.n - k - 1, &e), NK_NTSKE_DONE);
			}
		}
		nk_ntske_client_init(&P, offer15, 1);
		for (size_t i = 0; i < M.n; i++) {
			int rc = nk_ntske_feed(&P, M.b + i, 1, &e);
			assert_int_equal(rc, i + 1 == M.n ? NK_NTSKE_DONE : NK_NTSKE_NEED_MORE);
		}
		assert_int_equal(P.u.resp.port, kind ? 0 : 11123);
	}
	/* a request split at every byte, too */
	uint8_t req[64];
	long rn = nk_ntske_build_request(req, sizeof req, offer15_17, 2, "nts.test", 123);
	for (long k = 0; k <= rn; k++) {
		nk_ntske_server_init(&P, 0);
		nk_ntske_feed(&P, req, (size_t)k, &e);
		assert_int_equal(nk_ntske_feed(&P, req + k, (size_t)(rn - k), &e), NK_NTSKE_DONE);
		assert_int_equal(P.u.req.naead, 2);
		assert_string_equal(P.u.req.server, "nts.test");
	}
}

static void test_unknown_noncritical_ignored(void **state)
{
	struct nk_err e = { "" };
	(void)state;
	M.n = 0;
	rec16(&M, C | NK_NTSKE_NEXTPROTO, 0);
	rec(&M, 1024, "\x00\x00", 2);           /* chrony >= 4.6 */
	rec16(&M, C | NK_NTSKE_AEAD, 15);
	for (uint16_t t = 8; t <= 14; t++)      /* ntpd-rs */
		rec(&M, t, "abc", 3);
	rec(&M, 0x7fff, NULL, 0);
	rec(&M, NK_NTSKE_COOKIE, cookie100, 100);
	rec(&M, C | NK_NTSKE_END, NULL, 0);
	assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_DONE);
	assert_int_equal(P.u.resp.unknown_ignored, 9);
	assert_int_equal(P.u.resp.ncookies, 1);
}

static void test_unknown_critical(void **state)
{
	struct nk_err e = { "" };
	(void)state;
	M.n = 0;
	rec16(&M, C | NK_NTSKE_NEXTPROTO, 0);
	rec(&M, C | 1024, NULL, 0);
	assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_UNKNOWN_CRITICAL);
	assert_non_null(strstr(e.msg, "1024"));
}

static void test_error_and_warning_records(void **state)
{
	struct nk_err e = { "" };
	static const char *words[] = { "Unrecognized Critical Record", "Bad Request", "Internal Server Error",
		"unknown error code" };
	uint8_t b[16];
	(void)state;
	for (uint16_t c = 0; c < 4; c++) {
		M.n = 0;
		long n = nk_ntske_build_error(b, sizeof b, c, 1);
		/* NextProtocol {0} (§4.1.2: in every response), Error, End */
		assert_int_equal(n, 16);
		assert_memory_equal(b, "\x80\x01\x00\x02\x00\x00\x80\x02\x00\x02\x00", 11);
		assert_int_equal(b[11], c);
		assert_memory_equal(b + 12, "\x80\x00\x00\x00", 4);
		memcpy(M.b, b, (size_t)n);
		M.n = (size_t)n;
		assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_ERROR);
		assert_int_equal(P.err, NK_NTSKE_E_SERVER_ERROR);
		assert_true(P.u.resp.has_error);
		assert_int_equal(P.u.resp.error_code, c);
		assert_non_null(strstr(e.msg, words[c]));
	}
	M.n = 0;
	rec16(&M, C | NK_NTSKE_NEXTPROTO, 0);
	rec16(&M, C | NK_NTSKE_WARNING, 7);
	assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_SERVER_WARNING);
	assert_int_equal(P.u.resp.nwarnings, 1);
	assert_int_equal(P.u.resp.warning[0], 7);
	assert_non_null(strstr(e.msg, "Warning code 7"));
}

/* A table of malformed responses, each with its own error. */
struct bad {
	const char *name;
	enum nk_ntske_error err;
	const char *words;   /* must appear in the message */
};

static void build_bad(int i, struct msg *m)
{
	m->n = 0;
	switch (i) {
	case 0: /* empty AEAD */
		rec16(m, C | 1, 0); rec(m, C | 4, NULL, 0); rec(m, C, NULL, 0); break;
	case 1: /* no cookies */
		rec16(m, C | 1, 0); rec16(m, C | 4, 15); rec(m, C, NULL, 0); break;
	case 2: /* stops before End of Message (at a record boundary) */
		rec16(m, C | 1, 0); rec16(m, C | 4, 15); rec(m, 5, cookie100, 100); break;
	case 3: /* a length past the end */
		rec16(m, C | 1, 0); rec16(m, C | 4, 15); rec(m, 5, cookie100, 100); m->n -= 30; break;
	case 4: /* two Server records */
		rec16(m, C | 1, 0); rec(m, 6, "a.b", 3); rec(m, 6, "c.d", 3); break;
	case 5: /* two Port records */
		rec16(m, C | 1, 0); rec16(m, 7, 123); rec16(m, 7, 124); break;
	case 6: /* NextProtocol not {0} */
		rec16(m, C | 1, 1); rec16(m, C | 4, 15); rec(m, 5, cookie100, 100); rec(m, C, NULL, 0); break;
	case 7: /* no NextProtocol */
		rec16(m, C | 4, 15); rec(m, 5, cookie100, 100); rec(m, C, NULL, 0); break;
	case 8: /* no AEAD */
		rec16(m, C | 1, 0); rec(m, 5, cookie100, 100); rec(m, C, NULL, 0); break;
	case 9: /* two AEADs in one record */
		rec16(m, C | 1, 0); rec(m, C | 4, "\x00\x0f\x00\x11", 4); break;
	case 10: { /* cookie too big */
		static uint8_t big[257];
		rec16(m, C | 1, 0); rec(m, 5, big, sizeof big); break;
	}
	case 11: /* End without critical bit */
		rec16(m, C | 1, 0); rec16(m, C | 4, 15); rec(m, 5, cookie100, 100); rec(m, 0, NULL, 0); break;
	case 12: /* Port record of 3 bytes */
		rec16(m, C | 1, 0); rec(m, 7, "abc", 3); break;
	case 13: /* Port 0 */
		rec16(m, C | 1, 0); rec16(m, 7, 0); break;
	case 14: /* Server name with a space */
		rec16(m, C | 1, 0); rec(m, 6, "a b", 3); break;
	case 15: /* bytes after End of Message */
		rec16(m, C | 1, 0); rec16(m, C | 4, 15); rec(m, 5, cookie100, 100); rec(m, C, NULL, 0);
		rec(m, C, NULL, 0); break;
	case 16: /* empty NextProtocol */
		rec(m, C | 1, NULL, 0); break;
	case 17: /* two NextProtocol records */
		rec16(m, C | 1, 0); rec16(m, C | 1, 0); break;
	case 18: /* NextProtocol without critical bit */
		rec16(m, 1, 0); break;
	case 19: /* End of Message with a body */
		rec16(m, C | 1, 0); rec(m, C, "x", 1); break;
	case 20: /* stops inside a header */
		rec16(m, C | 1, 0); m->b[m->n++] = 0x80; break;
	case 21: /* empty cookie */
		rec16(m, C | 1, 0); rec(m, 5, NULL, 0); break;
	case 22: /* nothing at all */
		break;
	}
}

static const struct bad bads[] = {
	{ "empty AEAD", NK_NTSKE_E_AEAD_EMPTY, "empty AEAD record" },
	{ "no cookies", NK_NTSKE_E_NO_COOKIES, "no New Cookie" },
	{ "stops before End", NK_NTSKE_E_EOF, "without End of Message" },
	{ "length past the end", NK_NTSKE_E_EOF_IN_RECORD, "declares a 100-byte body" },
	{ "two Server", NK_NTSKE_E_DUPLICATE, "second NTPv4 Server" },
	{ "two Port", NK_NTSKE_E_DUPLICATE, "second NTPv4 Port" },
	{ "NextProtocol 1", NK_NTSKE_E_NEXTPROTO, "next protocol 1" },
	{ "no NextProtocol", NK_NTSKE_E_NEXTPROTO_MISSING, "no NTS Next Protocol" },
	{ "no AEAD", NK_NTSKE_E_AEAD_MISSING, "no AEAD" },
	{ "two AEADs", NK_NTSKE_E_AEAD_MULTIPLE, "lists 2 algorithms" },
	{ "cookie 257", NK_NTSKE_E_COOKIE_TOO_BIG, "cookie of 257 bytes" },
	{ "End not critical", NK_NTSKE_E_CRITICAL_BIT, "End of Message record without the critical bit" },
	{ "Port 3 bytes", NK_NTSKE_E_BAD_LENGTH, "3-byte body" },
	{ "Port 0", NK_NTSKE_E_BAD_VALUE, "port 0" },
	{ "Server space", NK_NTSKE_E_BAD_VALUE, "not an ASCII host name" },
	{ "trailing", NK_NTSKE_E_TRAILING, "after End of Message" },
	{ "empty NextProtocol", NK_NTSKE_E_NEXTPROTO, "none of the next protocols" },
	{ "two NextProtocol", NK_NTSKE_E_DUPLICATE, "second NTS Next Protocol" },
	{ "NextProtocol not critical", NK_NTSKE_E_CRITICAL_BIT, "without the critical bit" },
	{ "End with body", NK_NTSKE_E_BAD_LENGTH, "must be empty" },
	{ "stops in header", NK_NTSKE_E_EOF_IN_RECORD, "inside a record header" },
	{ "empty cookie", NK_NTSKE_E_BAD_LENGTH, "is empty" },
	{ "nothing", NK_NTSKE_E_EOF, "before any record" },
};

static void test_bad_responses(void **state)
{
	struct nk_err e;
	(void)state;
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		build_bad((int)i, &M);
		e.msg[0] = 0;
		int rc = parse_resp(&P, offer15, 1, &M, &e);
		if (rc != NK_NTSKE_ERROR || P.err != bads[i].err || !strstr(e.msg, bads[i].words))
			fail_msg("case '%s': rc %d err %s msg '%s'", bads[i].name, rc,
				nk_ntske_error_name(P.err), e.msg);
		assert_string_equal(e.msg, P.emsg);
		/* the error sticks */
		assert_int_equal(nk_ntske_feed(&P, "x", 1, &e), NK_NTSKE_ERROR);
		assert_int_equal(nk_ntske_end(&P, &e), NK_NTSKE_ERROR);
		/* and byte by byte gives the same error */
		nk_ntske_client_init(&P, offer15, 1);
		int r2 = NK_NTSKE_NEED_MORE;
		for (size_t k = 0; k < M.n && r2 == NK_NTSKE_NEED_MORE; k++)
			r2 = nk_ntske_feed(&P, M.b + k, 1, &e);
		if (r2 == NK_NTSKE_NEED_MORE)
			r2 = nk_ntske_end(&P, &e);
		if (r2 == NK_NTSKE_DONE)  /* trailing case: one more byte */
			r2 = nk_ntske_feed(&P, "", 1, &e);
		assert_int_equal(r2, NK_NTSKE_ERROR);
		assert_int_equal(P.err, bads[i].err);
	}
	/* every error value has a distinct name */
	for (int a = 0; a < NK_NTSKE_E_COUNT; a++)
		for (int b = a + 1; b < NK_NTSKE_E_COUNT; b++)
			assert_string_not_equal(nk_ntske_error_name(a), nk_ntske_error_name(b));
}

static void test_size_limit(void **state)
{
	struct nk_err e = { "" };
	static uint8_t pad[65535];
	(void)state;
	/* exactly 65536 bytes with End of Message at the end: accepted */
	M.n = 0;
	rec16(&M, C | 1, 0);
	rec16(&M, C | 4, 15);
	rec(&M, 5, cookie100, 100);
	size_t fixed = M.n + 4 + 4;  /* + pad header + End */
	rec(&M, 1024, pad, 65536 - fixed);
	rec(&M, C, NULL, 0);
	assert_int_equal(M.n, 65536);
	assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_DONE);
	/* one more byte of padding: too long */
	M.n = 0;
	rec16(&M, C | 1, 0);
	rec16(&M, C | 4, 15);
	rec(&M, 5, cookie100, 100);
	rec(&M, 1024, pad, 65536 - fixed + 1);
	rec(&M, C, NULL, 0);
	assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_TOO_LONG);
	assert_non_null(strstr(e.msg, "65536"));
}

static void test_cookie_limits(void **state)
{
	struct nk_err e = { "" };
	static uint8_t c256[256];
	(void)state;
	M.n = 0;
	rec16(&M, C | 1, 0);
	rec16(&M, C | 4, 15);
	memset(c256, 0xab, sizeof c256);
	rec(&M, 5, c256, 256);
	for (int i = 0; i < 11; i++)
		rec(&M, 5, cookie100, 100);
	rec(&M, C, NULL, 0);
	assert_int_equal(parse_resp(&P, offer15, 1, &M, &e), NK_NTSKE_DONE);
	assert_int_equal(P.u.resp.ncookies, 8);
	assert_int_equal(P.u.resp.cookies_ignored, 4);
	assert_int_equal(P.u.resp.cookie_len[0], 256);
	assert_memory_equal(P.u.resp.cookie[0], c256, 256);
	assert_int_equal(P.u.resp.cookie_len[1], 100);
	nk_ntske_parser_wipe(&P);
	assert_int_equal(P.u.resp.cookie[0][0], 0);
}

/* A record whose declared length cannot fit is refused when its header
 * arrives, not after the bytes (or a timeout): both roles. */
static void test_declared_length_at_header(void **state)
{
	struct nk_err e = { "" };
	static const uint8_t start[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00,   /* NextProto {0} */
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f };                         /* AEAD {15} */
	uint8_t hdr[4] = { 0x40, 0x01, 0, 0 };                                /* unknown, not critical */
	size_t fit = NK_NTSKE_REQ_MAX - sizeof start - 4 - 4;                 /* leaves room for End */
	(void)state;

	/* server: 16384 - 12 - 8 octets of body fit exactly; one more does not */
	nk_ntske_server_init(&P, 0);
	assert_int_equal(nk_ntske_feed(&P, start, sizeof start, &e), NK_NTSKE_NEED_MORE);
	hdr[2] = (uint8_t)(fit >> 8); hdr[3] = (uint8_t)fit;
	assert_int_equal(nk_ntske_feed(&P, hdr, 4, &e), NK_NTSKE_NEED_MORE);
	nk_ntske_server_init(&P, 0);
	assert_int_equal(nk_ntske_feed(&P, start, sizeof start, &e), NK_NTSKE_NEED_MORE);
	hdr[2] = (uint8_t)((fit + 1) >> 8); hdr[3] = (uint8_t)(fit + 1);
	assert_int_equal(nk_ntske_feed(&P, hdr, 4, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_TOO_LONG);
	assert_int_equal(nk_ntske_error_code(&P), NK_NTSKE_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.msg, "longer than 16384"));
	assert_non_null(strstr(e.msg, "declares a"));
	/* 0xffff declared, header split over two feeds: the second one fails */
	nk_ntske_server_init(&P, 0);
	hdr[2] = 0xff; hdr[3] = 0xff;
	assert_int_equal(nk_ntske_feed(&P, hdr, 2, &e), NK_NTSKE_NEED_MORE);
	assert_int_equal(nk_ntske_feed(&P, hdr + 2, 2, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_TOO_LONG);
	/* a known record too: a Server record cannot be that long anyway, but
	 * a NextProtocol list can */
	nk_ntske_server_init(&P, 0);
	static const uint8_t np[] = { 0x80, 0x01, 0xff, 0xfe };
	assert_int_equal(nk_ntske_feed(&P, np, sizeof np, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_TOO_LONG);
	/* client: against the 65536-octet response limit (16 octets in,
	 * 65516 of body still leave room for End) */
	nk_ntske_client_init(&P, offer15, 1);
	assert_int_equal(nk_ntske_feed(&P, start, sizeof start, &e), NK_NTSKE_NEED_MORE);
	hdr[2] = 0xff; hdr[3] = 0xed;                                         /* 65517 */
	assert_int_equal(nk_ntske_feed(&P, hdr, 4, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_TOO_LONG);
	nk_ntske_client_init(&P, offer15, 1);
	assert_int_equal(nk_ntske_feed(&P, start, sizeof start, &e), NK_NTSKE_NEED_MORE);
	hdr[2] = 0xff; hdr[3] = 0xe0;                                         /* 65504 */
	assert_int_equal(nk_ntske_feed(&P, hdr, 4, &e), NK_NTSKE_NEED_MORE);
	static uint8_t body[0xffe0];
	assert_int_equal(nk_ntske_feed(&P, body, sizeof body, &e), NK_NTSKE_NEED_MORE);
	hdr[2] = 0x00; hdr[3] = 0x10;                                         /* 16 > 12 - 4 left */
	assert_int_equal(nk_ntske_feed(&P, hdr, 4, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_TOO_LONG);
	assert_non_null(strstr(e.msg, "longer than 65536"));
}

/* ---- server role ---- */

static void test_server_requests(void **state)
{
	struct nk_err e = { "" };
	static uint8_t pad[2000];
	uint8_t out[16];
	(void)state;

	/* a request of more than 1024 bytes is accepted */
	M.n = 0;
	rec16(&M, C | 1, 0);
	rec(&M, C | 4, "\x00\x1e\x00\x0f\x00\x11", 6);
	rec(&M, 0x4001, pad, 1500);
	rec(&M, C, NULL, 0);
	assert_true(M.n > 1024);
	assert_int_equal(parse_req(&P, &M, &e), NK_NTSKE_DONE);
	assert_int_equal(P.u.req.naead, 3);
	assert_int_equal(P.u.req.aead[0], 30);
	assert_int_equal(P.u.req.unknown_ignored, 1);
	/* ... even when the caller asked for a smaller limit: 1024 octets,
	 * End of Message included, pass with max_req 100 (this used to feed
	 * the first 1024 octets of the 1534-octet request above and expect
	 * NEED_MORE; its 1500-octet record is now refused at its header,
	 * since it cannot fit in 1024, see test_declared_length_at_header) */
	nk_ntske_server_init(&P, 100);
	assert_int_equal(nk_ntske_feed(&P, M.b, 1024, &e), NK_NTSKE_ERROR);
	assert_int_equal(P.err, NK_NTSKE_E_TOO_LONG);
	M.n = 0;
	rec16(&M, C | 1, 0);
	rec(&M, C | 4, "\x00\x1e\x00\x0f\x00\x11", 6);
	rec(&M, 0x4001, pad, 1024 - 6 - 10 - 4 - 4);
	rec(&M, C, NULL, 0);
	assert_int_equal(M.n, 1024);
	nk_ntske_server_init(&P, 100);
	assert_int_equal(nk_ntske_feed(&P, M.b, M.n - 4, &e), NK_NTSKE_NEED_MORE);
	assert_int_equal(nk_ntske_feed(&P, M.b + M.n - 4, 4, &e), NK_NTSKE_DONE);

	/* NextProtocol listing 5 and 0: fine */
	M.n = 0;
	rec(&M, C | 1, "\x00\x05\x00\x00", 4);
	rec16(&M, C | 4, 15);
	rec(&M, C, NULL, 0);
	assert_int_equal(parse_req(&P, &M, &e), NK_NTSKE_DONE);

	struct { int kind; enum nk_ntske_error err; uint16_t code; const char *words; } cases[] = {
		{ 0, NK_NTSKE_E_UNKNOWN_CRITICAL, 0, "unrecognized record type 1024" },
		{ 1, NK_NTSKE_E_BAD_LENGTH, 1, "odd body length" },
		{ 2, NK_NTSKE_E_FORBIDDEN, 1, "New Cookie" },
		{ 3, NK_NTSKE_E_FORBIDDEN, 1, "Error record" },
		{ 4, NK_NTSKE_E_NEXTPROTO, 1, "does not offer protocol 0" },
		{ 5, NK_NTSKE_E_DUPLICATE, 1, "second AEAD" },
		{ 6, NK_NTSKE_E_AEAD_EMPTY, 1, "lists no algorithm" },
		{ 7, NK_NTSKE_E_AEAD_MISSING, 1, "no AEAD" },
		{ 8, NK_NTSKE_E_EOF, 1, "without End of Message" },
		{ 9, NK_NTSKE_E_TOO_LONG, 1, "longer than 16384" },
		{ 10, NK_NTSKE_E_DUPLICATE, 1, "second NTPv4 Server" },
		{ 11, NK_NTSKE_E_FORBIDDEN, 1, "Warning record" },
		{ 12, NK_NTSKE_E_NEXTPROTO_MISSING, 1, "no NTS Next Protocol" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		M.n = 0;
		rec16(&M, C | 1, 0);
		switch (cases[i].kind) {
		case 0: rec(&M, C | 1024, NULL, 0); break;
		case 1: rec(&M, C | 4, "\x00\x0f\x00", 3); break;
		case 2: rec(&M, 5, "abcd", 4); break;
		case 3: rec16(&M, C | 2, 1); break;
		case 4: M.n = 0; rec16(&M, C | 1, 3); break;
		case 5: rec16(&M, C | 4, 15); rec16(&M, C | 4, 15); break;
		case 6: rec(&M, C | 4, NULL, 0); break;
		case 7: rec(&M, C, NULL, 0); break;
		case 8: rec16(&M, C | 4, 15); break;
		case 9: rec16(&M, C | 4, 15); rec(&M, 1024, pad, 2000); rec(&M, 1024, pad, 2000);
			for (int k = 0; k < 7; k++) rec(&M, 1024, pad, 2000);
			rec(&M, C, NULL, 0); break;
		case 10: rec(&M, 6, "a", 1); rec(&M, 6, "b", 1); break;
		case 11: rec16(&M, C | 3, 1); break;
		case 12: M.n = 0; rec16(&M, C | 4, 15); rec(&M, C, NULL, 0); break;
		}
		e.msg[0] = 0;
		int rc = parse_req(&P, &M, &e);
		if (rc != NK_NTSKE_ERROR || P.err != cases[i].err || !strstr(e.msg, cases[i].words))
			fail_msg("server case %d: rc %d err %s msg '%s'", cases[i].kind, rc,
				nk_ntske_error_name(P.err), e.msg);
		assert_int_equal(nk_ntske_error_code(&P), cases[i].code);
		assert_non_null(strstr(e.msg, "NTS-KE request"));
		/* the answer the server sends */
		int v4 = nk_ntske_request_ntpv4(&P);
		long n = nk_ntske_build_error(out, sizeof out, nk_ntske_error_code(&P), v4);
		/* NextProtocol: {0}, or empty when the request's did not list 0 */
		assert_int_equal(v4, cases[i].kind != 4);
		assert_int_equal(n, v4 ? 16 : 14);
		assert_int_equal(out[1], NK_NTSKE_NEXTPROTO);
		assert_int_equal(out[(v4 ? 11 : 9)], cases[i].code);
	}
	assert_int_equal(nk_ntske_build_error(out, 15, 1, 1), -1);
	assert_int_equal(nk_ntske_build_error(out, 13, 1, 0), -1);
}

static void test_explain(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	struct nk_err e = { "" };
	(void)state;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	chrony_response(&M);
	rec(&M, 1024, NULL, 0);   /* after End: trailing */
	nk_ntske_client_init(&P, offer15, 1);
	P.explain = f;
	P.explain_prefix = "nts-ke: received";
	assert_int_equal(nk_ntske_feed(&P, M.b, M.n - 4, &e), NK_NTSKE_DONE);
	uint8_t req[64];
	long rn = nk_ntske_build_request(req, sizeof req, offer15_17, 2, NULL, 0);
	assert_int_equal(nk_ntske_explain(f, "nts-ke: sent", req, (size_t)rn), 0);
	assert_int_equal(nk_ntske_explain(f, "x", req, (size_t)rn - 1), -1);
	/* an unknown critical record and an Error record, explained */
	M.n = 0;
	rec(&M, 1024, "zz", 2);
	rec(&M, C | 2000, NULL, 0);
	rec16(&M, C | 2, 2);
	rec(&M, 6, "time.example.org", 16);
	assert_int_equal(nk_ntske_explain(f, "dump", M.b, M.n), 0);
	fclose(f);
	assert_non_null(strstr(buf, "nts-ke: received record 1 NTS Next Protocol Negotiation (critical), 2-byte body: protocol 0 (NTPv4)\n"));
	assert_non_null(strstr(buf, "record 4 AEAD Algorithm Negotiation (critical), 2-byte body: 15 (AEAD_AES_SIV_CMAC_256)\n"));
	assert_non_null(strstr(buf, "record 7 NTPv4 Port Negotiation (critical), 2-byte body: NTP port 11123\n"));
	assert_non_null(strstr(buf, "record 5 New Cookie for NTPv4 (not critical), 100-byte body: cookie of 100 bytes (opaque)\n"));
	assert_non_null(strstr(buf, "nts-ke: received record 0 End of Message (critical), 0-byte body\n"));
	assert_non_null(strstr(buf, "nts-ke: sent record 4 AEAD Algorithm Negotiation (critical), 4-byte body: 15 (AEAD_AES_SIV_CMAC_256), 17 (AEAD_AES_SIV_CMAC_512)\n"));
	assert_non_null(strstr(buf, "x 3 stray bytes: not a whole record header\n"));
	assert_non_null(strstr(buf, "dump record 1024 unknown record type (not critical), 2-byte body: not understood, not critical: ignored\n"));
	assert_non_null(strstr(buf, "dump record 2000 unknown record type (critical), 0-byte body: not understood and critical (an error)\n"));
	assert_non_null(strstr(buf, "dump record 2 Error (critical), 2-byte body: error code 2 (Internal Server Error)\n"));
	assert_non_null(strstr(buf, "NTP server \"time.example.org\""));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chrony_style),
		cmocka_unit_test(test_ntpsec_style),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_no_common_aead),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_unknown_noncritical_ignored),
		cmocka_unit_test(test_unknown_critical),
		cmocka_unit_test(test_error_and_warning_records),
		cmocka_unit_test(test_bad_responses),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_declared_length_at_header),
		cmocka_unit_test(test_cookie_limits),
		cmocka_unit_test(test_server_requests),
		cmocka_unit_test(test_explain),
	};
	return cmocka_run_group_tests_name("ntske", tests, NULL, NULL);
}
