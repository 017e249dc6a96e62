/* Unit tests for lib/session: the session record round trip, cookie jar,
 * and malformed records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "session.h"

static const char *good =
	"session source=a ke=time.example:4460 ntp=[2001:db8::1]:123 aead=15 "
	"c2s=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
	"s2c=1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100 "
	"cookies=AAEC,AwQFBgc not-before=100 not-after=200 ke-at=150";

static int parse(const char *line, struct nk_session *s, struct nk_err *e)
{
	static char buf[4096];
	struct nk_rec rec;
	snprintf(buf, sizeof buf, "%s", line);
	if (nk_rec_parse_line(buf, strlen(buf), "test", 7, &rec, e) != 1)
		return -2;
	return nk_session_from_rec(s, &rec, e);
}

static void test_roundtrip(void **state)
{
	struct nk_session s, t;
	struct nk_err e;
	char out[4096];
	FILE *f;
	(void)state;
	assert_int_equal(parse(good, &s, &e), 0);
	assert_string_equal(s.source, "a");
	assert_string_equal(s.ke_host, "time.example");
	assert_int_equal(s.ke_port, 4460);
	assert_string_equal(s.ntp_host, "2001:db8::1");
	assert_int_equal(s.ntp_port, 123);
	assert_int_equal(s.key_len, 32);
	assert_int_equal(s.ncookies, 2);
	assert_int_equal(s.cookie_len[0], 3);
	assert_int_equal(s.cookie_len[1], 5);
	assert_true(s.ke_at == 150);
	f = fmemopen(out, sizeof out, "w");
	assert_int_equal(nk_session_write(&s, f, &e), 0);
	fclose(f);
	assert_int_equal(strncmp(out, good, strlen(good)), 0);
	assert_string_equal(out + strlen(good), "\n");
	out[strlen(good)] = 0;
	assert_int_equal(parse(out, &t, &e), 0);
	assert_memory_equal(&s, &t, sizeof s);
}

static void test_jar(void **state)
{
	struct nk_session s;
	struct nk_err e;
	uint8_t c[300];
	(void)state;
	assert_int_equal(parse(good, &s, &e), 0);
	assert_int_equal(nk_session_take_cookie(&s, c, sizeof c), 3);
	assert_memory_equal(c, "\x00\x01\x02", 3);
	assert_int_equal(s.ncookies, 1);
	assert_int_equal(nk_session_take_cookie(&s, c, sizeof c), 5);
	assert_int_equal(nk_session_take_cookie(&s, c, sizeof c), 0);
	for (int i = 0; i < NK_SESSION_MAX_COOKIES; i++)
		assert_int_equal(nk_session_add_cookie(&s, c, 10), 0);
	assert_int_equal(nk_session_add_cookie(&s, c, 10), -1);   /* jar full */
	s.ncookies = 0;
	assert_int_equal(nk_session_add_cookie(&s, c, 257), -1);  /* too long */
	assert_int_equal(nk_session_add_cookie(&s, c, 0), -1);
}

static void expect_bad(const char *line, const char *field)
{
	struct nk_session s;
	struct nk_err e;
	memset(&e, 0, sizeof e);
	assert_int_equal(parse(line, &s, &e), -1);
	if (strstr(e.msg, field) == NULL || strstr(e.msg, "7") == NULL)
		fail_msg("'%s': message '%s' does not name line 7 and '%s'", line, e.msg, field);
}

static void test_bad(void **state)
{
	char l[2048];
	(void)state;
	expect_bad("session ke=a:1", "source");
	snprintf(l, sizeof l, "%s", good);
	memcpy(strstr(l, "aead=15"), "aead=30", 7);
	expect_bad(l, "aead");
	snprintf(l, sizeof l, "%s", good);
	*strstr(l, "1f ") = 'z';
	expect_bad(l, "c2s");
	snprintf(l, sizeof l, "%s", good);
	memcpy(strstr(l, "ke=time.example:4460"), "ke=time.example:0000", 20);
	expect_bad(l, "ke");
	snprintf(l, sizeof l, "%s", good);
	memcpy(strstr(l, "AwQFBgc"), "AwQFBg=", 7);
	expect_bad(l, "cookies");
	snprintf(l, sizeof l, "%s", good);
	memcpy(strstr(l, "not-after=200"), "not-after=050", 13);
	expect_bad(l, "not-after");
	/* key of the wrong length for the AEAD */
	expect_bad("session source=a ke=h:1 ntp=h:2 aead=17 c2s=00 s2c=00 cookies=- not-before=0 not-after=1 ke-at=0", "c2s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_jar),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
