/* Unit tests for nts-serve/ntp.c: status file, plain and NTS answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../nts-serve/ntp.c"

static struct nk_cookie_keys ks;
static struct nk_serve_ntp s;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_status(void **state)
{
	char path[] = "/tmp/test_serve_ntp.XXXXXX", buf[512];
	struct nk_serve_status st;
	struct nk_err e;
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# status\nstatus t=1700000000.600000 stratum=2 refid=192.0.2.1 root-delay=0.030000000 "
		"root-disp=0.001303000 leap=0 error=0.016100000 offset=+0.000203000 freq-ppm=-12.345678 action=slew\n");
	assert_int_equal(nk_serve_status_load(path, &st, &e), 1);
	assert_int_equal(st.stratum, 2);
	assert_int_equal(st.leap, 0);
	assert_memory_equal(st.refid, "\xc0\x00\x02\x01", 4);
	assert_true(st.root_delay == 0.03);
	assert_true(nk_serve_status_good(&st, 1700000100, 10800));
	assert_false(nk_serve_status_good(&st, 1700000000 + 10801, 10800));   /* stale */
	assert_false(nk_serve_status_good(&st, 1700000000 - 10801, 10800));   /* future */
	write_file(path, "status t=1 stratum=1 refid=GPS root-delay=0 root-disp=0 leap=0\n");
	assert_int_equal(nk_serve_status_load(path, &st, &e), 1);
	assert_memory_equal(st.refid, "GPS\0", 4);
	write_file(path, "status t=1 stratum=3 refid=a1b2c3d4 root-delay=0 root-disp=0 leap=0\n");
	assert_int_equal(nk_serve_status_load(path, &st, &e), 1);   /* nts-select's name hash */
	assert_memory_equal(st.refid, "\xa1\xb2\xc3\xd4", 4);
	write_file(path, "status t=1 stratum=1 refid=TOOLONG root-delay=0 root-disp=0 leap=0\n");
	assert_int_equal(nk_serve_status_load(path, &st, &e), -1);
	assert_non_null(strstr(e.msg, "refid"));
	write_file(path, "status t=1 stratum=1 refid=GPS root-delay=0 root-disp=0 leap=4\n");
	assert_int_equal(nk_serve_status_load(path, &st, &e), -1);
	assert_non_null(strstr(e.msg, ":1:"));
	write_file(path, "adjust t=1 action=none\n");
	assert_int_equal(nk_serve_status_load(path, &st, &e), -1);
	assert_false(st.have);
	unlink(path);
	snprintf(buf, sizeof buf, "%s.none", path);
	assert_int_equal(nk_serve_status_load(buf, &st, &e), 0);
}

static size_t client_req(uint8_t *p, int version, uint64_t xmt)
{
	struct nk_ntp_hdr h;

	memset(&h, 0, sizeof h);
	h.version = (uint8_t)version;
	h.mode = 3;
	h.poll = 6;
	h.xmt = xmt;
	nk_ntp_hdr_encode(p, &h);
	return 48;
}

static void test_plain(void **state)
{
	uint8_t in[48], out[64];
	struct nk_ntp_hdr h;
	struct timespec rx;
	enum nk_serve_kind kind;
	(void)state;
	memset(&s, 0, sizeof s);
	s.max_age = 10800;
	clock_gettime(CLOCK_REALTIME, &rx);
	/* no status: unsynchronised */
	client_req(in, 4, 0x1122334455667788ULL);
	assert_int_equal(nk_serve_ntp_answer(&s, in, 48, &rx, out, sizeof out, &kind), 48);
	assert_int_equal(kind, NK_SERVE_PLAIN);
	nk_ntp_hdr_decode(&h, out, 48, NULL);
	assert_int_equal(h.leap, 3);
	assert_int_equal(h.stratum, 16);
	assert_int_equal(h.mode, 4);
	assert_int_equal(h.version, 4);
	assert_true(h.org == 0x1122334455667788ULL);
	assert_true(h.rec == nk_ntp_ts_from_timespec(&rx));
	assert_true(h.xmt >= h.rec);
	/* a good status */
	s.status.have = 1;
	s.status.t = (double)rx.tv_sec - 100;
	s.status.stratum = 3;
	s.status.leap = 1;
	memcpy(s.status.refid, "\x0a\x00\x00\x01", 4);
	s.status.root_delay = 0.5;
	s.status.root_disp = 0.25;
	client_req(in, 3, 42);
	assert_int_equal(nk_serve_ntp_answer(&s, in, 48, &rx, out, sizeof out, &kind), 48);
	nk_ntp_hdr_decode(&h, out, 48, NULL);
	assert_int_equal(h.leap, 1);
	assert_int_equal(h.stratum, 3);
	assert_int_equal(h.version, 3);
	assert_memory_equal(h.refid, "\x0a\x00\x00\x01", 4);
	assert_true(nk_ntp_short_to_double(h.root_delay) == 0.5);
	/* dispersion grew by 15 ppm of the age (100 s: 1.5 ms) */
	assert_true(nk_ntp_short_to_double(h.root_disp) > 0.2514 && nk_ntp_short_to_double(h.root_disp) < 0.2516);
	assert_int_equal(nk_ntp_ts_sec(h.ref), (uint32_t)(s.status.t + NK_NTP_UNIX_OFFSET));
	/* stale: unsynchronised again */
	s.status.t = (double)rx.tv_sec - 20000;
	assert_int_equal(nk_serve_ntp_answer(&s, in, 48, &rx, out, sizeof out, &kind), 48);
	nk_ntp_hdr_decode(&h, out, 48, NULL);
	assert_int_equal(h.leap, 3);
	assert_int_equal(h.stratum, 16);
	/* not a client request, too short, version 0 / 5: nothing */
	in[0] = 0x24;   /* mode 4 */
	assert_int_equal(nk_serve_ntp_answer(&s, in, 48, &rx, out, sizeof out, &kind), 0);
	assert_int_equal(kind, NK_SERVE_NONE);
	client_req(in, 4, 1);
	assert_int_equal(nk_serve_ntp_answer(&s, in, 47, &rx, out, sizeof out, &kind), 0);
	client_req(in, 0, 1);
	assert_int_equal(nk_serve_ntp_answer(&s, in, 48, &rx, out, sizeof out, &kind), 0);
	client_req(in, 5, 1);
	assert_int_equal(nk_serve_ntp_answer(&s, in, 48, &rx, out, sizeof out, &kind), 0);
	/* KoD RATE */
	client_req(in, 4, 77);
	assert_int_equal(nk_serve_ntp_kod(in, 48, "RATE", out, sizeof out), 48);
	nk_ntp_hdr_decode(&h, out, 48, NULL);
	assert_int_equal(h.stratum, 0);
	assert_memory_equal(h.refid, "RATE", 4);
	assert_true(h.org == 77);
	assert_int_equal(nk_serve_ntp_kod(in, 47, "RATE", out, sizeof out), 0);
}

static void test_nts(void **state)
{
	uint8_t req[2048], keep[2048], out[2048], c[NK_COOKIE_LEN], nonce[16] = { 0 };
	struct nk_nts_client_state cst;
	struct nk_nts_response resp;
	struct nk_nts_keys k;
	struct timespec rx;
	enum nk_serve_kind kind;
	struct nk_err e;
	long n;
	size_t a;
	(void)state;
	memset(&s, 0, sizeof s);
	s.max_age = 10800;
	nk_cookie_keys_init(&ks, 0);
	assert_int_equal(nk_cookie_keys_rotate(&ks, 1, NULL), 0);
	s.keys = &ks;
	memset(&k, 0, sizeof k);
	k.aead = 15;
	k.key_len = 32;
	memset(k.c2s, 1, 32);
	memset(k.s2c, 2, 32);
	assert_int_equal(nk_cookie_seal(&ks, &k, nonce, c), 0);
	clock_gettime(CLOCK_REALTIME, &rx);
	for (unsigned ph = 0; ph <= 7; ph += 7) {
		n = nk_nts_client_request(req, sizeof req, &k, c, sizeof c, ph, 6, &cst, &e);
		assert_true(n > 0);
		a = nk_serve_ntp_answer(&s, req, (size_t)n, &rx, out, sizeof out, &kind);
		assert_int_equal(kind, NK_SERVE_NTS);
		assert_true(a > 48 && a <= (size_t)n);  /* never amplify */
		assert_int_equal(nk_nts_client_verify(out, a, &k, &cst, 0, &resp, &e), NK_NTS_OK);
		assert_int_equal(resp.n_cookies, 1 + ph);
		assert_int_equal(resp.cookies[0].len, NK_COOKIE_LEN);
		assert_int_equal(resp.hdr.stratum, 16);  /* no status here */
	}
	/* bad authenticator: silence */
	n = nk_nts_client_request(req, sizeof req, &k, c, sizeof c, 1, 6, &cst, &e);
	req[n - 1] ^= 1;
	assert_int_equal(nk_serve_ntp_answer(&s, req, (size_t)n, &rx, out, sizeof out, &kind), 0);
	assert_int_equal(kind, NK_SERVE_BADAUTH);
	/* a cookie from keys we do not hold: NTSN with the UID, no bigger */
	n = nk_nts_client_request(req, sizeof req, &k, c, sizeof c, 1, 6, &cst, &e);
	memcpy(keep, req, (size_t)n);
	nk_cookie_keys_wipe(&ks);
	assert_int_equal(nk_cookie_keys_rotate(&ks, 1, NULL), 0);
	a = nk_serve_ntp_answer(&s, req, (size_t)n, &rx, out, sizeof out, &kind);
	assert_int_equal(kind, NK_SERVE_NTSN);
	assert_true(a >= 48 && a <= (size_t)n);
	assert_int_equal(nk_nts_client_verify(out, a, &k, &cst, 0, &resp, &e), NK_NTS_KOD);
	assert_string_equal(resp.kiss, "NTSN");
	/* no keys at all: NTSN too */
	s.keys = NULL;
	memcpy(req, keep, (size_t)n);
	assert_true(nk_serve_ntp_answer(&s, req, (size_t)n, &rx, out, sizeof out, &kind) > 0);
	assert_int_equal(kind, NK_SERVE_NTSN);
	/* truncated NTS request: nothing */
	s.keys = &ks;
	memcpy(req, keep, (size_t)n);
	assert_int_equal(nk_serve_ntp_answer(&s, req, (size_t)n - 4, &rx, out, sizeof out, &kind), 0);
	assert_true(s.count[NK_SERVE_NTS] == 2);
	nk_cookie_keys_wipe(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_nts),
	};
	return cmocka_run_group_tests_name("serve_ntp", tests, NULL, NULL);
}
