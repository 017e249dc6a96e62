/* Unit tests for lib/nts: client request <-> server parse/response round
 * trips with known keys, and every tampering case rejected with its own
 * status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nts.h"

#define COOKIE_LEN 100

struct world {
	struct nk_nts_keys keys;       /* the association's keys */
	uint8_t cookie[COOKIE_LEN];    /* the one cookie the server accepts */
	int calls;
};

static int cookie_cb(void *arg, const uint8_t *c, size_t len, struct nk_nts_keys *k)
{
	struct world *w = arg;
	w->calls++;
	if (len != COOKIE_LEN || memcmp(c, w->cookie, COOKIE_LEN) != 0)
		return -1;
	*k = w->keys;
	return 0;
}

static void setup_world(struct world *w, int aead)
{
	memset(w, 0, sizeof *w);
	w->keys.aead = aead;
	w->keys.key_len = nk_siv_key_len(aead);
	for (size_t i = 0; i < 64; i++) {
		w->keys.c2s[i] = (uint8_t)i;
		w->keys.s2c[i] = (uint8_t)(0x80 + i);
	}
	for (size_t i = 0; i < COOKIE_LEN; i++)
		w->cookie[i] = (uint8_t)(0xc0 ^ i);
}

/* new cookies the server hands out: recognisable content */
static uint8_t newc[NK_NTS_MAX_COOKIES][COOKIE_LEN];
static struct nk_nts_cookie newcookies[NK_NTS_MAX_COOKIES];

static void make_new_cookies(void)
{
	for (size_t i = 0; i < NK_NTS_MAX_COOKIES; i++) {
		memset(newc[i], (int)(i + 1), COOKIE_LEN);
		newcookies[i].data = newc[i];
		newcookies[i].len = COOKIE_LEN;
	}
}

struct exchange {
	struct world w;
	struct nk_nts_client_state st;
	uint8_t req[1500], resp[1500];
	long req_len, resp_len;
	struct nk_nts_server_request sr;
};

/* client request -> server parse -> server response, all must succeed */
static void run_exchange(struct exchange *x, int aead, unsigned placeholders,
	unsigned n_new, const struct nk_ntp_hdr *shdr)
{
	struct nk_err e;
	uint8_t copy[1500];
	int r;

	setup_world(&x->w, aead);
	make_new_cookies();
	x->req_len = nk_nts_client_request(x->req, sizeof x->req, &x->w.keys, x->w.cookie,
		COOKIE_LEN, placeholders, 0, &x->st, &e);
	assert_true(x->req_len > 0);
	memcpy(copy, x->req, (size_t)x->req_len);
	r = nk_nts_server_parse(copy, (size_t)x->req_len, cookie_cb, &x->w, &x->sr, &e);
	if (r != NK_NTS_OK)
		fail_msg("server parse: %s: %s", nk_nts_status_name(r), e.msg);
	x->resp_len = nk_nts_server_response(x->resp, sizeof x->resp, shdr, &x->sr,
		newcookies, n_new, &e);
	if (x->resp_len <= 0)
		fail_msg("server response: %ld %s", x->resp_len, e.msg);
}

static struct nk_ntp_hdr good_server_hdr(void)
{
	struct nk_ntp_hdr h;
	memset(&h, 0, sizeof h);
	h.stratum = 2;
	h.poll = 6;
	h.precision = -20;
	h.root_delay = 0x100;
	h.root_disp = 0x200;
	memcpy(h.refid, "\x7f\0\0\1", 4);
	h.rec = 0xeaeaeaea00000001ULL;
	h.xmt = 0xeaeaeaea00000002ULL;
	return h;
}

static int verify(struct exchange *x, const uint8_t *pkt, size_t len, unsigned flags,
	struct nk_nts_response *resp, struct nk_err *e)
{
	static uint8_t buf[2000];
	assert_true(len <= sizeof buf);
	memcpy(buf, pkt, len);
	return nk_nts_client_verify(buf, len, &x->w.keys, &x->st, flags, resp, e);
}

static void test_roundtrip(void **state)
{
	static const int aeads[] = { NK_AEAD_AES_SIV_CMAC_256, NK_AEAD_AES_SIV_CMAC_384,
		NK_AEAD_AES_SIV_CMAC_512 };
	struct nk_ntp_hdr sh = good_server_hdr();
	struct nk_nts_response resp;
	struct nk_err e;
	static struct exchange x;
	(void)state;
	for (size_t a = 0; a < 3; a++) {
		for (unsigned ph = 0; ph <= 7; ph++) {
			run_exchange(&x, aeads[a], ph, 8, &sh);
			/* request layout: 48 + UID 36 + (1 + ph) * 104 + auth 40 */
			assert_int_equal(x.req_len, 48 + 36 + (1 + ph) * 104 + 40);
			assert_int_equal(x.req[0], 0x23);
			assert_int_equal(x.sr.placeholders, ph);
			assert_int_equal(x.sr.uid_len, 32);
			assert_memory_equal(x.sr.uid, x.st.uid, 32);
			assert_int_equal(x.sr.keys.aead, aeads[a]);
			/* the response carries 1 + ph cookies and is exactly as
			 * long as the request (same-sized cookies) */
			assert_int_equal(x.resp_len, x.req_len);
			assert_int_equal(verify(&x, x.resp, (size_t)x.resp_len, 0, &resp, &e), NK_NTS_OK);
			assert_int_equal(resp.authenticated, 1);
			assert_int_equal(resp.n_cookies, 1 + ph);
			for (unsigned i = 0; i < resp.n_cookies; i++) {
				assert_int_equal(resp.cookies[i].len, COOKIE_LEN);
				assert_memory_equal(resp.cookies[i].data, newc[i], COOKIE_LEN);
			}
			assert_int_equal(resp.hdr.stratum, 2);
			assert_int_equal(resp.hdr.mode, 4);
			assert_true(resp.hdr.org == x.st.org);
			assert_true(resp.hdr.xmt == sh.xmt);
			assert_string_equal(resp.kiss, "");
		}
	}
}

static void test_sizes(void **state)
{
	struct nk_ntp_hdr sh = good_server_hdr();
	struct nk_nts_response resp;
	struct nk_err e;
	static struct exchange x;
	uint8_t big[200];
	struct nk_nts_cookie bigc[2] = { { big, 200 }, { big, 200 } };
	long n;
	(void)state;
	/* the 228-octet request of RFC 8915 practice: no placeholders */
	run_exchange(&x, 15, 0, 8, &sh);
	assert_int_equal(x.req_len, 228);
	assert_int_equal(x.resp_len, 228);       /* only 1 + 0 cookies */
	assert_int_equal(verify(&x, x.resp, (size_t)x.resp_len, 0, &resp, &e), NK_NTS_OK);
	assert_int_equal(resp.n_cookies, 1);
	/* cookies larger than the request's would make the response longer:
	 * they are dropped until it fits */
	memset(big, 7, sizeof big);
	n = nk_nts_server_response(x.resp, sizeof x.resp, &sh, &x.sr, bigc, 2, &e);
	assert_int_equal(n, 48 + 36 + 40);
	assert_int_equal(verify(&x, x.resp, (size_t)n, 0, &resp, &e), NK_NTS_OK);
	assert_int_equal(resp.n_cookies, 0);
	/* buffer too small */
	assert_int_equal(nk_nts_server_response(x.resp, 100, &sh, &x.sr, newcookies, 1, &e), NK_NTS_E_SPACE);
	assert_int_equal(nk_nts_client_request(x.req, 227, &x.w.keys, x.w.cookie, COOKIE_LEN, 0, 0, &x.st, &e), NK_NTS_E_SPACE);
	/* argument limits */
	assert_int_equal(nk_nts_client_request(x.req, sizeof x.req, &x.w.keys, x.w.cookie, 0, 0, 0, &x.st, &e), NK_NTS_E_SPACE);
	assert_int_equal(nk_nts_client_request(x.req, sizeof x.req, &x.w.keys, x.w.cookie, COOKIE_LEN, 8, 0, &x.st, &e), NK_NTS_E_SPACE);
	x.w.keys.key_len = 48;
	assert_int_equal(nk_nts_client_request(x.req, sizeof x.req, &x.w.keys, x.w.cookie, COOKIE_LEN, 0, 0, &x.st, &e), NK_NTS_E_KEYS);
	x.w.keys.aead = 30;
	assert_int_equal(nk_nts_client_request(x.req, sizeof x.req, &x.w.keys, x.w.cookie, COOKIE_LEN, 0, 0, &x.st, &e), NK_NTS_E_KEYS);
	/* a short cookie is padded to the 16-octet minimum field */
	setup_world(&x.w, 15);
	n = nk_nts_client_request(x.req, sizeof x.req, &x.w.keys, (const uint8_t *)"abcde", 5, 1, 0, &x.st, &e);
	assert_int_equal(n, 48 + 36 + 16 + 16 + 40);
	assert_int_equal(nk_ntp_ef_check(x.req, (size_t)n, 0, &e), 0);
}

/* the status for a response mutated by fn */
static int check_tamper(struct exchange *x, void (*fn)(uint8_t *, size_t *), unsigned flags,
	struct nk_nts_response *resp, struct nk_err *e)
{
	uint8_t p[2000];
	size_t len = (size_t)x->resp_len;
	memcpy(p, x->resp, len);
	fn(p, &len);
	return verify(x, p, len, flags, resp, e);
}

/* response layout: 48 hdr | 48..84 UID | 84.. auth (type, len, nl, cl, nonce 16, ct) */
#define R_UID 48
#define R_AUTH 84
static void flip_stratum(uint8_t *p, size_t *n) { (void)n; p[1] ^= 1; }
static void flip_rootdelay(uint8_t *p, size_t *n) { (void)n; p[6] ^= 0x40; }
static void flip_xmt(uint8_t *p, size_t *n) { (void)n; p[47] ^= 1; }
static void flip_origin(uint8_t *p, size_t *n) { (void)n; p[31] ^= 1; }
static void flip_uid(uint8_t *p, size_t *n) { (void)n; p[R_UID + 4 + 5] ^= 0x10; }
static void flip_nonce(uint8_t *p, size_t *n) { (void)n; p[R_AUTH + 8 + 3] ^= 1; }
static void flip_tag(uint8_t *p, size_t *n) { (void)n; p[R_AUTH + 24 + 15] ^= 0x80; }
static void flip_cookie(uint8_t *p, size_t *n) { (void)n; p[R_AUTH + 40 + 4 + 50] ^= 4; }
static void flip_mode(uint8_t *p, size_t *n) { (void)n; p[0] = (uint8_t)((p[0] & ~7) | 5); }
static void flip_version(uint8_t *p, size_t *n) { (void)n; p[0] = (uint8_t)((p[0] & ~0x38) | (3 << 3)); }
static void truncate1(uint8_t *p, size_t *n) { (void)p; *n -= 1; }
static void drop_auth(uint8_t *p, size_t *n) { (void)p; *n = R_AUTH; }
static void drop_uid(uint8_t *p, size_t *n)
{
	memmove(p + R_UID, p + R_AUTH, *n - R_AUTH);
	*n -= R_AUTH - R_UID;
}
static void dup_uid(uint8_t *p, size_t *n)
{
	memmove(p + R_AUTH, p + R_UID, *n - R_UID);
	*n += R_AUTH - R_UID;
}
static void uid_after_auth(uint8_t *p, size_t *n)
{
	uint8_t uid[36];
	memcpy(uid, p + R_UID, 36);
	memmove(p + R_UID, p + R_AUTH, *n - R_AUTH);
	memcpy(p + *n - 36, uid, 36);
}
static void append_field(uint8_t *p, size_t *n)
{
	*n += nk_ntp_ef_put(p + *n, 100, 0x2005, "evil", 4, 16);
}
static void append_cookie(uint8_t *p, size_t *n)
{
	*n += nk_ntp_ef_put(p + *n, 200, NK_NTS_EF_COOKIE, "forged-cookie-forged-cookie", 28, 0);
}
static void bad_nonce_len(uint8_t *p, size_t *n) { (void)n; p[R_AUTH + 4] = 0x7f; }
static void zero_nonce_len(uint8_t *p, size_t *n) { (void)n; p[R_AUTH + 4] = 0; p[R_AUTH + 5] = 0; }
static void short_ct_len(uint8_t *p, size_t *n) { (void)n; p[R_AUTH + 6] = 0; p[R_AUTH + 7] = 12; }

static void test_tamper_response(void **state)
{
	static const struct {
		const char *name;
		void (*fn)(uint8_t *, size_t *);
		int want;
	} cases[] = {
		{ "flipped bit in stratum", flip_stratum, NK_NTS_E_AUTH },
		{ "flipped bit in root delay", flip_rootdelay, NK_NTS_E_AUTH },
		{ "flipped bit in transmit timestamp", flip_xmt, NK_NTS_E_AUTH },
		{ "flipped bit in origin timestamp", flip_origin, NK_NTS_E_ORIGIN },
		{ "flipped bit in UID", flip_uid, NK_NTS_E_UID },
		{ "flipped bit in nonce", flip_nonce, NK_NTS_E_AUTH },
		{ "flipped bit in SIV tag", flip_tag, NK_NTS_E_AUTH },
		{ "flipped bit in encrypted cookie", flip_cookie, NK_NTS_E_AUTH },
		{ "mode 5", flip_mode, NK_NTS_E_MODE },
		{ "version 3", flip_version, NK_NTS_E_VERSION },
		{ "truncated by one octet", truncate1, NK_NTS_E_MALFORMED },
		{ "authenticator removed", drop_auth, NK_NTS_E_NO_AUTH },
		{ "UID removed", drop_uid, NK_NTS_E_NO_UID },
		{ "UID twice", dup_uid, NK_NTS_E_MALFORMED },
		{ "UID moved after the authenticator", uid_after_auth, NK_NTS_E_NO_UID },
		{ "unauthenticated field appended", append_field, NK_NTS_E_TRAILING },
		{ "unauthenticated cookie appended", append_cookie, NK_NTS_E_TRAILING },
		{ "nonce length past the field", bad_nonce_len, NK_NTS_E_AUTH_FORMAT },
		{ "empty nonce", zero_nonce_len, NK_NTS_E_AUTH_FORMAT },
		{ "ciphertext shorter than a tag", short_ct_len, NK_NTS_E_AUTH_FORMAT },
	};
	struct nk_ntp_hdr sh = good_server_hdr();
	struct nk_nts_response resp;
	struct nk_err e;
	static struct exchange x;
	(void)state;
	run_exchange(&x, 15, 3, 4, &sh);
	assert_int_equal(verify(&x, x.resp, (size_t)x.resp_len, 0, &resp, &e), NK_NTS_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = check_tamper(&x, cases[i].fn, 0, &resp, &e);
		if (r != cases[i].want)
			fail_msg("%s: got %s (%s), want %s", cases[i].name, nk_nts_status_name(r),
				e.msg, nk_nts_status_name(cases[i].want));
		assert_int_equal(resp.n_cookies, 0);
		assert_true(strlen(e.msg) > 0);
	}
	/* lenient mode: the appended fields are discarded, the packet is
	 * accepted and the cleartext cookie is never used */
	assert_int_equal(check_tamper(&x, append_cookie, NK_NTS_LENIENT_TRAILING, &resp, &e), NK_NTS_OK);
	assert_int_equal(resp.n_discarded, 1);
	assert_int_equal(resp.n_cookies, 4);
	for (unsigned i = 0; i < resp.n_cookies; i++)
		assert_memory_equal(resp.cookies[i].data, newc[i], COOKIE_LEN);
	/* every single bit of the response, flipped: never NK_NTS_OK */
	for (size_t bit = 0; bit < (size_t)x.resp_len * 8; bit++) {
		uint8_t p[1500];
		memcpy(p, x.resp, (size_t)x.resp_len);
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int r = verify(&x, p, (size_t)x.resp_len, 0, &resp, &e);
		if (r == NK_NTS_OK || r == NK_NTS_KOD)
			fail_msg("bit %zu flipped: accepted", bit);
	}
	/* wrong keys */
	{
		struct nk_nts_keys k = x.w.keys;
		x.w.keys.s2c[0] ^= 1;
		assert_int_equal(verify(&x, x.resp, (size_t)x.resp_len, 0, &resp, &e), NK_NTS_E_AUTH);
		x.w.keys = k;
		x.w.keys.aead = 17;   /* key length no longer matches */
		assert_int_equal(verify(&x, x.resp, (size_t)x.resp_len, 0, &resp, &e), NK_NTS_E_KEYS);
		x.w.keys = k;
	}
}

static void test_replay(void **state)
{
	struct nk_ntp_hdr sh = good_server_hdr();
	struct nk_nts_response resp;
	struct nk_err e;
	static struct exchange x;
	struct nk_nts_client_state first;
	uint8_t old[1500];
	long old_len;
	(void)state;
	run_exchange(&x, 15, 0, 1, &sh);
	first = x.st;
	memcpy(old, x.resp, (size_t)x.resp_len);
	old_len = x.resp_len;
	/* a second request; the first response replayed against it */
	assert_true(nk_nts_client_request(x.req, sizeof x.req, &x.w.keys, x.w.cookie,
		COOKIE_LEN, 0, 0, &x.st, &e) > 0);
	assert_int_equal(verify(&x, old, (size_t)old_len, 0, &resp, &e), NK_NTS_E_ORIGIN);
	/* with the origin fixed up by the attacker: the UID still differs */
	{
		struct nk_nts_client_state cur = x.st;
		x.st.org = first.org;
		assert_int_equal(verify(&x, old, (size_t)old_len, 0, &resp, &e), NK_NTS_E_UID);
		x.st = cur;
	}
	/* and the original state still accepts it (sanity) */
	x.st = first;
	assert_int_equal(verify(&x, old, (size_t)old_len, 0, &resp, &e), NK_NTS_OK);
}

static void test_inner_malformed(void **state)
{
	struct nk_ntp_hdr sh = good_server_hdr();
	struct nk_nts_response resp;
	struct nk_err e;
	static struct exchange x;
	struct nk_siv_ctx siv;
	uint8_t p[300];
	size_t n;
	(void)state;
	run_exchange(&x, 15, 0, 1, &sh);
	/* a correctly authenticated response whose plaintext is not a
	 * sequence of fields: the server's own bug, or a broken key */
	memcpy(p, x.resp, R_AUTH);
	p[R_AUTH] = 0x04; p[R_AUTH + 1] = 0x04;
	n = 4 + 4 + 16 + 16 + 8;
	p[R_AUTH + 2] = 0; p[R_AUTH + 3] = (uint8_t)n;
	p[R_AUTH + 4] = 0; p[R_AUTH + 5] = 16;
	p[R_AUTH + 6] = 0; p[R_AUTH + 7] = 16 + 8;
	memset(p + R_AUTH + 8, 9, 16);
	memcpy(p + R_AUTH + 40, "\x02\x04\x00\x06zz\0\0", 8);  /* length 6 */
	assert_int_equal(nk_siv_init(&siv, x.w.keys.s2c, 32, NK_AES_AUTO), 0);
	assert_int_equal(nk_siv_aead_seal(&siv, p, R_AUTH, p + R_AUTH + 8, 16, p + R_AUTH + 40, 8, p + R_AUTH + 24), 0);
	assert_int_equal(verify(&x, p, R_AUTH + n, 0, &resp, &e), NK_NTS_E_INNER);
	/* the same with a good 8-octet inner field works, and a 4-octet
	 * cookie body is returned */
	memcpy(p + R_AUTH + 40, "\x02\x04\x00\x08zzzz", 8);
	assert_int_equal(nk_siv_aead_seal(&siv, p, R_AUTH, p + R_AUTH + 8, 16, p + R_AUTH + 40, 8, p + R_AUTH + 24), 0);
	assert_int_equal(verify(&x, p, R_AUTH + n, 0, &resp, &e), NK_NTS_OK);
	assert_int_equal(resp.n_cookies, 1);
	assert_int_equal(resp.cookies[0].len, 4);
	assert_memory_equal(resp.cookies[0].data, "zzzz", 4);
	nk_siv_clear(&siv);
}

static void test_kod(void **state)
{
	struct nk_ntp_hdr sh = good_server_hdr();
	struct nk_nts_response resp;
	struct nk_err e;
	static struct exchange x;
	uint8_t p[300], copy[1500];
	long n;
	int r;
	(void)state;
	run_exchange(&x, 15, 1, 2, &sh);
	/* server can't use the cookie -> NTSN echoing the UID */
	memcpy(copy, x.req, (size_t)x.req_len);
	copy[48 + 36 + 4 + 10] ^= 1;   /* the cookie */
	r = nk_nts_server_parse(copy, (size_t)x.req_len, cookie_cb, &x.w, &x.sr, &e);
	assert_int_equal(r, NK_NTS_E_COOKIE);
	n = nk_nts_server_nak(p, sizeof p, &sh, &x.sr, &e);
	assert_int_equal(n, 48 + 36);
	assert_int_equal(verify(&x, p, (size_t)n, 0, &resp, &e), NK_NTS_KOD);
	assert_string_equal(resp.kiss, "NTSN");
	assert_int_equal(resp.authenticated, 0);
	assert_int_equal(resp.hdr.leap, 3);
	assert_int_equal(resp.n_cookies, 0);
	/* a forged NTSN without the UID, or with another UID: rejected */
	assert_int_equal(verify(&x, p, 48, 0, &resp, &e), NK_NTS_E_NO_UID);
	p[48 + 4] ^= 1;
	assert_int_equal(verify(&x, p, (size_t)n, 0, &resp, &e), NK_NTS_E_UID);
	p[48 + 4] ^= 1;
	/* ... or with a wrong origin */
	p[30] ^= 1;
	assert_int_equal(verify(&x, p, (size_t)n, 0, &resp, &e), NK_NTS_E_ORIGIN);
	p[30] ^= 1;
	/* unauthenticated KoD with an extra field: still just an
	 * unauthenticated KoD (nothing in it is trusted anyway) */
	{
		size_t m = (size_t)n + nk_ntp_ef_put(p + n, sizeof p - (size_t)n, 0x2005, "x", 1, 16);
		assert_int_equal(verify(&x, p, m, 0, &resp, &e), NK_NTS_KOD);
		assert_int_equal(resp.authenticated, 0);
		assert_int_equal(resp.n_unknown, 1);
	}
	/* a KoD that is not a time response: any stratum-0 ASCII refid */
	memcpy(p + 12, "DENY", 4);
	assert_int_equal(verify(&x, p, (size_t)n, 0, &resp, &e), NK_NTS_KOD);
	assert_string_equal(resp.kiss, "DENY");
	/* stratum 0 without a kiss code and without authenticator: no-auth */
	memcpy(p + 12, "\0\0\0\0", 4);
	assert_int_equal(verify(&x, p, (size_t)n, 0, &resp, &e), NK_NTS_E_NO_AUTH);
	memcpy(p + 12, "NTSN", 4);
	/* an authenticated RATE: the server answers with stratum 0 and an
	 * authenticator */
	{
		struct nk_ntp_hdr kh = sh;
		memcpy(copy, x.req, (size_t)x.req_len);
		assert_int_equal(nk_nts_server_parse(copy, (size_t)x.req_len, cookie_cb, &x.w, &x.sr, &e), NK_NTS_OK);
		kh.stratum = 0;
		memcpy(kh.refid, "RATE", 4);
		n = nk_nts_server_response(x.resp, sizeof x.resp, &kh, &x.sr, newcookies, 2, &e);
		assert_true(n > 0);
		assert_int_equal(verify(&x, x.resp, (size_t)n, 0, &resp, &e), NK_NTS_KOD);
		assert_string_equal(resp.kiss, "RATE");
		assert_int_equal(resp.authenticated, 1);
		assert_int_equal(resp.n_cookies, 2);
		/* tampered authenticated KoD: rejected, not reported as a KoD */
		x.resp[n - 1] ^= 1;
		assert_int_equal(verify(&x, x.resp, (size_t)n, 0, &resp, &e), NK_NTS_E_AUTH);
	}
}

/* request-side tampering, as seen by the server */
static void test_server_rejects(void **state)
{
	struct nk_ntp_hdr sh = good_server_hdr();
	struct nk_nts_server_request sr;
	struct nk_err e;
	static struct exchange x;
	uint8_t p[1500];
	size_t len;
	int r;
	(void)state;
	run_exchange(&x, 15, 2, 3, &sh);
	len = (size_t)x.req_len;   /* 48 | UID 36 | cookie 104 | 2 x 104 | auth 40 */
#define REQ_COOKIE 84
#define REQ_AUTH (84 + 3 * 104)
	/* header bit */
	memcpy(p, x.req, len);
	p[2] ^= 1;
	assert_int_equal(nk_nts_server_parse(p, len, cookie_cb, &x.w, &sr, &e), NK_NTS_E_AUTH);
	/* the UID is kept for the NAK even though authentication failed */
	assert_int_equal(sr.uid_len, 32);
	assert_memory_equal(sr.uid, x.st.uid, 32);
	/* the keys are wiped */
	for (size_t i = 0; i < sizeof sr.keys.c2s; i++)
		assert_int_equal(sr.keys.c2s[i], 0);
	/* mode */
	memcpy(p, x.req, len);
	p[0] = 0x24;
	assert_int_equal(nk_nts_server_parse(p, len, cookie_cb, &x.w, &sr, &e), NK_NTS_E_MODE);
	/* cookie bit -> the callback refuses it */
	memcpy(p, x.req, len);
	p[REQ_COOKIE + 4 + 20] ^= 1;
	assert_int_equal(nk_nts_server_parse(p, len, cookie_cb, &x.w, &sr, &e), NK_NTS_E_COOKIE);
	/* authenticator tag */
	memcpy(p, x.req, len);
	p[len - 1] ^= 1;
	assert_int_equal(nk_nts_server_parse(p, len, cookie_cb, &x.w, &sr, &e), NK_NTS_E_AUTH);
	/* no authenticator */
	memcpy(p, x.req, len);
	assert_int_equal(nk_nts_server_parse(p, REQ_AUTH, cookie_cb, &x.w, &sr, &e), NK_NTS_E_NO_AUTH);
	/* no UID: turn it into an unknown type */
	memcpy(p, x.req, len);
	p[48] = 0x7f;
	assert_int_equal(nk_nts_server_parse(p, len, cookie_cb, &x.w, &sr, &e), NK_NTS_E_NO_UID);
	/* two cookies: a placeholder retyped */
	memcpy(p, x.req, len);
	p[REQ_COOKIE + 104] = 0x02;
	assert_int_equal(nk_nts_server_parse(p, len, cookie_cb, &x.w, &sr, &e), NK_NTS_E_NO_COOKIE);
	/* no cookie */
	memcpy(p, x.req, len);
	p[REQ_COOKIE] = 0x7f;
	assert_int_equal(nk_nts_server_parse(p, len, cookie_cb, &x.w, &sr, &e), NK_NTS_E_NO_COOKIE);
	/* malformed */
	assert_int_equal(nk_nts_server_parse(p, len - 2, cookie_cb, &x.w, &sr, &e), NK_NTS_E_MALFORMED);
	/* a field after the authenticator is discarded, not fatal */
	memcpy(p, x.req, len);
	{
		size_t m = len + nk_ntp_ef_put(p + len, sizeof p - len, 0x2005, "junk", 4, 16);
		assert_int_equal(nk_nts_server_parse(p, m, cookie_cb, &x.w, &sr, &e), NK_NTS_OK);
		assert_int_equal(sr.n_discarded, 1);
		assert_int_equal(sr.placeholders, 2);
	}
	/* short nonce without Additional Padding (§5.6 N_REQ): 8-octet nonce,
	 * field of 4 + 4 + 8 + 16 = 32, correctly authenticated */
	{
		struct nk_siv_ctx siv;
		memcpy(p, x.req, REQ_AUTH);
		memcpy(p + REQ_AUTH, "\x04\x04\x00\x20\x00\x08\x00\x10", 8);
		memset(p + REQ_AUTH + 8, 5, 8);
		assert_int_equal(nk_siv_init(&siv, x.w.keys.c2s, 32, NK_AES_AUTO), 0);
		nk_siv_aead_seal(&siv, p, REQ_AUTH, p + REQ_AUTH + 8, 8, NULL, 0, p + REQ_AUTH + 16);
		r = nk_nts_server_parse(p, REQ_AUTH + 32, cookie_cb, &x.w, &sr, &e);
		assert_int_equal(r, NK_NTS_E_AUTH_FORMAT);
		/* with 8 octets of Additional Padding it is accepted */
		memcpy(p + REQ_AUTH, "\x04\x04\x00\x28\x00\x08\x00\x10", 8);
		nk_siv_aead_seal(&siv, p, REQ_AUTH, p + REQ_AUTH + 8, 8, NULL, 0, p + REQ_AUTH + 16);
		memset(p + REQ_AUTH + 32, 0, 8);
		r = nk_nts_server_parse(p, REQ_AUTH + 40, cookie_cb, &x.w, &sr, &e);
		if (r != NK_NTS_OK)
			fail_msg("%s %s", nk_nts_status_name(r), e.msg);
		nk_siv_clear(&siv);
	}
	/* a placeholder of the wrong size is not counted */
	{
		uint8_t q[1500];
		struct nk_siv_ctx siv;
		size_t off = 48 + 36 + 104;
		memcpy(q, x.req, off);
		off += nk_ntp_ef_put(q + off, sizeof q - off, NK_NTS_EF_PLACEHOLDER, NULL, 0, 100);
		memcpy(q + off, "\x04\x04\x00\x28\x00\x10\x00\x10", 8);
		memset(q + off + 8, 1, 16);
		assert_int_equal(nk_siv_init(&siv, x.w.keys.c2s, 32, NK_AES_AUTO), 0);
		nk_siv_aead_seal(&siv, q, off, q + off + 8, 16, NULL, 0, q + off + 24);
		nk_siv_clear(&siv);
		assert_int_equal(nk_nts_server_parse(q, off + 40, cookie_cb, &x.w, &sr, &e), NK_NTS_OK);
		assert_int_equal(sr.placeholders, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_tamper_response),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_inner_malformed),
		cmocka_unit_test(test_kod),
		cmocka_unit_test(test_server_rejects),
	};
	return cmocka_run_group_tests_name("nts", tests, NULL, NULL);
}
