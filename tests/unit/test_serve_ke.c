/* Unit tests for nts-serve/ke.c: NTS-KE request handling over plaintext
 * (RFC 8915 §4), with a fake TLS exporter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../nts-serve/ke.c"

static struct nk_cookie_keys ks;
static struct nk_serve_ke ke;
static struct nk_ntske_parser cp;
static uint8_t out[4096];
static int export_calls, export_fail;

/* Fake exporter: out = label length, context, then a counter pattern. */
static int fake_export(void *arg, const char *label, const uint8_t *ctx, size_t ctx_len,
	uint8_t *o, size_t n)
{
	(void)arg;
	export_calls++;
	if (export_fail)
		return -1;
	assert_string_equal(label, "EXPORTER-network-time-security");
	assert_int_equal(ctx_len, 5);
	assert_int_equal(ctx[0], 0);
	assert_int_equal(ctx[1], 0);
	for (size_t i = 0; i < n; i++)
		o[i] = (uint8_t)(ctx[3] * 7 + ctx[4] * 100 + i);
	return 0;
}

static struct nk_serve_ke_conf conf(void)
{
	struct nk_serve_ke_conf c;

	memset(&c, 0, sizeof c);
	c.keys = &ks;
	return c;
}

static int setup(void **state)
{
	(void)state;
	nk_cookie_keys_init(&ks, 0);
	export_fail = 0;
	return nk_cookie_keys_rotate(&ks, 1000, NULL);
}

static int teardown(void **state)
{
	(void)state;
	nk_cookie_keys_wipe(&ks);
	return 0;
}

/* Run a whole request through, chunk bytes at a time; parse the response
 * as a client that offered `offered`. Returns the client parser status. */
static int run(const struct nk_serve_ke_conf *c, const uint8_t *req, size_t len, size_t chunk,
	const uint16_t *offered, size_t noffered, long *rlen)
{
	struct nk_err e;
	long n = 0;
	size_t off = 0;

	nk_serve_ke_init(&ke, c);
	while (off < len) {
		size_t k = len - off < chunk ? len - off : chunk;

		n = nk_serve_ke_feed(&ke, c, req + off, k, fake_export, NULL, out, sizeof out, &e);
		off += k;
		if (n != 0)
			break;
	}
	if (n == 0)
		n = nk_serve_ke_eof(&ke, out, sizeof out, &e);
	*rlen = n;
	assert_true(n > 0);
	nk_ntske_client_init(&cp, offered, noffered);
	return nk_ntske_feed(&cp, out, (size_t)n, &e);
}

static void test_good(void **state)
{
	static const uint16_t offer[] = { 15 };
	struct nk_serve_ke_conf c = conf();
	struct nk_nts_keys k;
	uint8_t req[256];
	long rl, n = nk_ntske_build_request(req, sizeof req, offer, 1, NULL, 0);
	(void)state;
	for (size_t chunk = 1; chunk <= (size_t)n; chunk += (size_t)n - 1) {
		export_calls = 0;
		assert_int_equal(run(&c, req, (size_t)n, chunk, offer, 1, &rl), NK_NTSKE_DONE);
		assert_int_equal(export_calls, 2);
		assert_int_equal(cp.u.resp.aead, 15);
		assert_int_equal(cp.u.resp.ncookies, 8);
		assert_false(cp.u.resp.has_server);
		assert_false(cp.u.resp.has_port);
		assert_int_equal(ke.error_code, -1);
		for (unsigned i = 0; i < 8; i++) {
			assert_int_equal(cp.u.resp.cookie_len[i], NK_COOKIE_LEN);
			assert_int_equal(nk_cookie_open(&ks, cp.u.resp.cookie[i], NK_COOKIE_LEN, &k), 0);
			assert_int_equal(k.aead, 15);
			/* C2S context ends 0x00, S2C 0x01 (RFC 8915 §5.1) */
			assert_int_equal(k.c2s[0], 15 * 7);
			assert_int_equal(k.s2c[0], 15 * 7 + 100);
			assert_int_equal(k.c2s[31], (uint8_t)(15 * 7 + 31));
			if (i > 0)   /* fresh nonce per cookie */
				assert_memory_not_equal(cp.u.resp.cookie[i], cp.u.resp.cookie[i - 1], NK_COOKIE_LEN);
		}
		/* data after the answer is refused */
		assert_int_equal(nk_serve_ke_feed(&ke, &c, req, 4, fake_export, NULL, out, sizeof out, NULL), -1);
	}
	assert_true(rl <= NK_SERVE_KE_RESP_MAX);
}

static void test_aead_choice(void **state)
{
	static const uint16_t both[] = { 17, 15 }, only17[] = { 17 }, none[] = { 30, 1 };
	struct nk_serve_ke_conf c = conf();
	uint8_t req[256];
	long rl, n;
	(void)state;
	/* the client's order decides (RFC 8915 §4.1.5): {17, 15} gets 17 ... */
	n = nk_ntske_build_request(req, sizeof req, both, 2, NULL, 0);
	assert_int_equal(run(&c, req, (size_t)n, 64, both, 2, &rl), NK_NTSKE_DONE);
	assert_int_equal(cp.u.resp.aead, 17);
	/* ... and {15, 17} gets 15 */
	static const uint16_t both15[] = { 15, 17 }, some[] = { 30, 17, 15 };
	n = nk_ntske_build_request(req, sizeof req, both15, 2, NULL, 0);
	assert_int_equal(run(&c, req, (size_t)n, 64, both15, 2, &rl), NK_NTSKE_DONE);
	assert_int_equal(cp.u.resp.aead, 15);
	/* an unsupported first choice is skipped */
	n = nk_ntske_build_request(req, sizeof req, some, 3, NULL, 0);
	assert_int_equal(run(&c, req, (size_t)n, 64, some, 3, &rl), NK_NTSKE_DONE);
	assert_int_equal(cp.u.resp.aead, 17);
	n = nk_ntske_build_request(req, sizeof req, only17, 1, NULL, 0);
	assert_int_equal(run(&c, req, (size_t)n, 64, only17, 1, &rl), NK_NTSKE_DONE);
	assert_int_equal(cp.u.resp.aead, 17);
	assert_int_equal(cp.u.resp.cookie_len[0], NK_COOKIE_LEN);   /* constant length */
	/* nothing in common: an empty AEAD record and no cookies */
	n = nk_ntske_build_request(req, sizeof req, none, 2, NULL, 0);
	export_calls = 0;
	assert_int_equal(run(&c, req, (size_t)n, 64, none, 2, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.err, NK_NTSKE_E_AEAD_EMPTY);
	assert_int_equal(export_calls, 0);
	assert_int_equal(ke.aead, 0);
	assert_int_equal(ke.error_code, -1);
	assert_true(rl < 40);  /* no cookie in it */
}

static void test_server_port(void **state)
{
	static const uint16_t offer[] = { 15 };
	struct nk_serve_ke_conf c = conf();
	uint8_t req[256];
	long rl, n = nk_ntske_build_request(req, sizeof req, offer, 1, NULL, 0);
	(void)state;
	c.ntp_server = "ntp.example.org";
	c.ntp_port = 21123;
	assert_int_equal(run(&c, req, (size_t)n, 7, offer, 1, &rl), NK_NTSKE_DONE);
	assert_true(cp.u.resp.has_server);
	assert_string_equal(cp.u.resp.server, "ntp.example.org");
	assert_true(cp.u.resp.has_port);
	assert_int_equal(cp.u.resp.port, 21123);
}

static void test_errors(void **state)
{
	static const uint16_t offer[] = { 15 };
	struct nk_serve_ke_conf c = conf();
	uint8_t req[2048];
	long rl, n;
	(void)state;
	/* unknown critical record (type 0x4000 | C) before End: Error 0 */
	static const uint8_t crit[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00,   /* NextProto {0} */
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,                           /* AEAD {15} */
		0xc0, 0x00, 0x00, 0x00,                                       /* unknown, critical */
		0x80, 0x00, 0x00, 0x00 };
	assert_int_equal(run(&c, crit, sizeof crit, 3, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.err, NK_NTSKE_E_SERVER_ERROR);
	assert_int_equal(cp.u.resp.error_code, 0);
	assert_int_equal(ke.error_code, 0);
	/* no NextProtocol: Error 1 (Bad Request) */
	static const uint8_t bad[] = { 0x80, 0x04, 0x00, 0x02, 0x00, 0x0f, 0x80, 0x00, 0x00, 0x00 };
	assert_int_equal(run(&c, bad, sizeof bad, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.u.resp.error_code, 1);
	/* garbage */
	memset(req, 0x00, 64);   /* End of Message without the critical bit */
	assert_int_equal(run(&c, req, 64, 64, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.u.resp.error_code, 1);
	/* the stream ends before End of Message: Error 1 */
	n = nk_ntske_build_request(req, sizeof req, offer, 1, NULL, 0);
	assert_int_equal(run(&c, req, (size_t)n - 4, 5, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.u.resp.error_code, 1);
	/* a client that sends a cookie record: Bad Request */
	static const uint8_t ck[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00,
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f, 0x00, 0x05, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00 };
	assert_int_equal(run(&c, ck, sizeof ck, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.u.resp.error_code, 1);
	/* internal failures: Error 2 */
	export_fail = 1;
	assert_int_equal(run(&c, req, (size_t)n, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.u.resp.error_code, 2);
	export_fail = 0;
	nk_cookie_keys_wipe(&ks);
	assert_int_equal(run(&c, req, (size_t)n, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.u.resp.error_code, 2);
}

/* The records of the response in out[0..n): how many NextProtocol records,
 * the list of the first, and the Error code (-1 none). */
static void scan(long n, int *nnp, int *np0, int *nplen, int *err)
{
	size_t off = 0;

	*nnp = 0; *np0 = -1; *nplen = -1; *err = -1;
	while (off + 4 <= (size_t)n) {
		unsigned t = (unsigned)(out[off] << 8 | out[off + 1]);
		size_t len = (size_t)(out[off + 2] << 8 | out[off + 3]);

		assert_true(off + 4 + len <= (size_t)n);
		if ((t & 0x7fff) == NK_NTSKE_NEXTPROTO) {
			assert_true(t & 0x8000);        /* critical (§4.1.2) */
			if ((*nnp)++ == 0) {
				*nplen = (int)len;
				if (len >= 2)
					*np0 = out[off + 4] << 8 | out[off + 5];
			}
		}
		if ((t & 0x7fff) == NK_NTSKE_ERROR_REC && len == 2)
			*err = out[off + 4] << 8 | out[off + 5];
		off += 4 + len;
	}
	assert_int_equal(off, (size_t)n);
}

/* RFC 8915 §4.1.2: NextProtocol exactly once in every response, error
 * responses included (ntpd-rs sends NextProtocol {0}, Error, End). */
static void test_error_responses_carry_nextproto(void **state)
{
	static const uint16_t offer[] = { 15 };
	struct nk_serve_ke_conf c = conf();
	struct nk_err e;
	uint8_t req[256];
	long rl, n;
	int nnp, np0, nplen, err;
	static const uint8_t crit[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00,
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f, 0xc0, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00 };
	static const uint8_t noproto[] = { 0x80, 0x04, 0x00, 0x02, 0x00, 0x0f, 0x80, 0x00, 0x00, 0x00 };
	static const uint8_t not0[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x05,
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f, 0x80, 0x00, 0x00, 0x00 };
	(void)state;

	/* unrecognised critical record: Error 0 */
	assert_int_equal(run(&c, crit, sizeof crit, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.err, NK_NTSKE_E_SERVER_ERROR);
	scan(rl, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(nplen, 2); assert_int_equal(np0, 0); assert_int_equal(err, 0);
	/* Bad Request (no NextProtocol in the request): {0}, as ntpd-rs */
	assert_int_equal(run(&c, noproto, sizeof noproto, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.err, NK_NTSKE_E_SERVER_ERROR);
	scan(rl, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(np0, 0); assert_int_equal(err, 1);
	/* a request whose NextProtocol lacks 0: an empty one (a subset of it) */
	assert_int_equal(run(&c, not0, sizeof not0, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	scan(rl, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(nplen, 0); assert_int_equal(err, 1);
	/* the stream ends (or the deadline passes) before End of Message */
	n = nk_ntske_build_request(req, sizeof req, offer, 1, NULL, 0);
	assert_int_equal(run(&c, req, (size_t)n - 4, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.err, NK_NTSKE_E_SERVER_ERROR);
	scan(rl, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(np0, 0); assert_int_equal(err, 1);
	nk_serve_ke_init(&ke, &c);
	rl = nk_serve_ke_eof(&ke, out, sizeof out, &e);     /* nothing received at all */
	scan(rl, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(np0, 0); assert_int_equal(err, 1);
	/* internal error: Error 2 */
	export_fail = 1;
	assert_int_equal(run(&c, req, (size_t)n, 100, offer, 1, &rl), NK_NTSKE_ERROR);
	export_fail = 0;
	assert_int_equal(cp.u.resp.error_code, 2);
	scan(rl, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(np0, 0); assert_int_equal(err, 2);
	/* no common AEAD: NextProtocol {0}, empty AEAD, End (§4.1.5), no Error */
	static const uint16_t none[] = { 30 };
	n = nk_ntske_build_request(req, sizeof req, none, 1, NULL, 0);
	assert_int_equal(run(&c, req, (size_t)n, 100, none, 1, &rl), NK_NTSKE_ERROR);
	assert_int_equal(cp.err, NK_NTSKE_E_AEAD_EMPTY);
	scan(rl, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(np0, 0); assert_int_equal(err, -1);
}

/* A record header declaring more than the request limit is answered (Error
 * 1) by the feed that completes the header, not at the deadline. */
static void test_too_long_answered_at_header(void **state)
{
	static const uint16_t offer[] = { 15 };
	struct nk_serve_ke_conf c = conf();
	struct nk_err e;
	static const uint8_t req[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x00,
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f, 0x12, 0x34, 0xff, 0xff };
	int nnp, np0, nplen, err;
	long n;
	(void)state;
	nk_serve_ke_init(&ke, &c);
	n = nk_serve_ke_feed(&ke, &c, req, sizeof req, fake_export, NULL, out, sizeof out, &e);
	assert_true(n > 0);
	assert_int_equal(ke.error_code, 1);
	assert_non_null(strstr(e.msg, "longer than 16384"));
	scan(n, &nnp, &np0, &nplen, &err);
	assert_int_equal(nnp, 1); assert_int_equal(np0, 0); assert_int_equal(err, 1);
	nk_ntske_client_init(&cp, offer, 1);
	assert_int_equal(nk_ntske_feed(&cp, out, (size_t)n, &e), NK_NTSKE_ERROR);
	assert_int_equal(cp.err, NK_NTSKE_E_SERVER_ERROR);
}

static void test_big_request(void **state)
{
	static const uint16_t offer[] = { 15 };
	struct nk_serve_ke_conf c = conf();
	uint8_t req[4096];
	long rl, n = nk_ntske_build_request(req, sizeof req, offer, 1, NULL, 0);
	size_t off = (size_t)n - 4;     /* before End of Message */
	(void)state;
	/* a 1500-octet request: an unknown NON-critical record pads it (§4:
	 * servers accept at least 1024 octets) */
	req[off] = 0x12; req[off + 1] = 0x34;
	req[off + 2] = (uint8_t)(1400 >> 8); req[off + 3] = (uint8_t)1400;
	memset(req + off + 4, 0xaa, 1400);
	off += 4 + 1400;
	memcpy(req + off, "\x80\x00\x00\x00", 4);
	off += 4;
	assert_true(off >= 1024);
	assert_int_equal(run(&c, req, off, 333, offer, 1, &rl), NK_NTSKE_DONE);
	assert_int_equal(cp.u.resp.ncookies, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aead_choice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_responses_carry_nextproto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long_answered_at_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_request, setup, teardown),
	};
	return cmocka_run_group_tests_name("serve_ke", tests, NULL, NULL);
}
