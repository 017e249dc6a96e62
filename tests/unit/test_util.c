/* Unit tests for lib/util: encodings, constant-time compare, host:port. */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static void test_hex(void **state)
{
	unsigned char b[4];
	char s[9];
	(void)state;
	nk_hex_encode(s, "\x01\xab\xff\x00", 4);
	assert_string_equal(s, "01abff00");
	assert_int_equal(nk_hex_decode(b, sizeof b, "01ABff00", 8), 4);
	assert_memory_equal(b, "\x01\xab\xff\x00", 4);
	assert_int_equal(nk_hex_decode(b, sizeof b, "0", 1), -1);
	assert_int_equal(nk_hex_decode(b, sizeof b, "zz", 2), -1);
	assert_int_equal(nk_hex_decode(b, 1, "0102", 4), -1);
}

/* Every byte value encodes to two lowercase digits; every digit decodes in
 * either case; every character that is not a hex digit, at every position
 * of a 32-octet key, makes decode fail (and it then leaves no partial key). */
static void test_hex_all(void **state)
{
	unsigned char b[256], k[32], out[32];
	char s[513], u[65], bad[65];
	(void)state;

	for (int i = 0; i < 256; i++)
		b[i] = (unsigned char)i;
	nk_hex_encode(s, b, 256);
	for (int i = 0; i < 256; i++) {
		char want[3];

		snprintf(want, sizeof want, "%02x", i);
		assert_memory_equal(s + 2 * i, want, 2);
	}
	memset(b, 0, sizeof b);
	assert_int_equal(nk_hex_decode(b, sizeof b, s, 512), 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(b[i], i);
	for (int i = 0; i < 512; i++)
		s[i] = (char)toupper((unsigned char)s[i]);
	memset(b, 0, sizeof b);
	assert_int_equal(nk_hex_decode(b, sizeof b, s, 512), 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(b[i], i);
	/* mixed case within one octet */
	assert_int_equal(nk_hex_decode(b, 2, "aBCd", 4), 2);
	assert_memory_equal(b, "\xab\xcd", 2);

	for (int i = 0; i < 32; i++)
		k[i] = (unsigned char)(0x9e * i + 0x3b);
	nk_hex_encode(u, k, 32);
	for (int c = 0; c < 256; c++) {
		if (isxdigit(c))
			continue;
		for (int pos = 0; pos < 64; pos++) {
			memcpy(bad, u, sizeof bad);
			bad[pos] = (char)c;
			memset(out, 0x77, sizeof out);
			assert_int_equal(nk_hex_decode(out, sizeof out, bad, 64), -1);
			for (int i = 0; i < 32; i++)
				assert_int_equal(out[i], 0);   /* wiped, no partial key */
		}
	}
	assert_int_equal(nk_hex_decode(out, sizeof out, u, 64), 32);
	assert_memory_equal(out, k, 32);
	/* odd length and over capacity, before any digit is read */
	assert_int_equal(nk_hex_decode(out, sizeof out, u, 63), -1);
	assert_int_equal(nk_hex_decode(out, 31, u, 64), -1);
}

static void test_b64url(void **state)
{
	/* RFC 4648 §10 vectors, unpadded, url alphabet */
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *out[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	char s[16];
	unsigned char b[16];
	(void)state;
	for (size_t i = 0; i < 7; i++) {
		size_t n = strlen(in[i]);
		assert_int_equal(nk_b64url_encode(s, in[i], n), strlen(out[i]));
		assert_string_equal(s, out[i]);
		assert_int_equal(nk_b64url_decode(b, sizeof b, out[i], strlen(out[i])), (long)n);
		assert_memory_equal(b, in[i], n);
	}
	nk_b64url_encode(s, "\xfb\xff", 2);
	assert_string_equal(s, "-_8");
	assert_int_equal(nk_b64url_decode(b, sizeof b, "Zg==", 4), -1);  /* padding */
	assert_int_equal(nk_b64url_decode(b, sizeof b, "Zh", 2), -1);    /* trailing bits */
	assert_int_equal(nk_b64url_decode(b, sizeof b, "Z", 1), -1);
	assert_int_equal(nk_b64url_decode(b, sizeof b, "Zm+v", 4), -1);  /* std alphabet */
	assert_int_equal(nk_b64url_decode(b, 2, "Zm9v", 4), -1);         /* over cap */
}

static void test_ct_eq(void **state)
{
	(void)state;
	assert_int_equal(nk_ct_eq("abcd", "abcd", 4), 1);
	assert_int_equal(nk_ct_eq("abcd", "abce", 4), 0);
	assert_int_equal(nk_ct_eq("", "", 0), 1);
}

static void test_hostport(void **state)
{
	char h[64];
	uint16_t p;
	struct nk_err e;
	(void)state;
	assert_int_equal(nk_hostport_parse("time.example.org:4460", h, sizeof h, &p, 0, &e), 0);
	assert_string_equal(h, "time.example.org");
	assert_int_equal(p, 4460);
	assert_int_equal(nk_hostport_parse("[::1]:123", h, sizeof h, &p, 0, &e), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(p, 123);
	assert_int_equal(nk_hostport_parse("::1", h, sizeof h, &p, 4460, &e), 0);
	assert_int_equal(p, 4460);
	assert_int_equal(nk_hostport_parse("host", h, sizeof h, &p, 4460, &e), 0);
	assert_int_equal(p, 4460);
	assert_int_equal(nk_hostport_parse("host", h, sizeof h, &p, 0, &e), -1);
	assert_non_null(strstr(e.msg, "PORT"));
	assert_int_equal(nk_hostport_parse("host:0", h, sizeof h, &p, 0, &e), -1);
	assert_int_equal(nk_hostport_parse("host:65536", h, sizeof h, &p, 0, &e), -1);
	assert_int_equal(nk_hostport_parse("host:12a", h, sizeof h, &p, 0, &e), -1);
	assert_int_equal(nk_hostport_parse(":123", h, sizeof h, &p, 0, &e), -1);
	assert_int_equal(nk_hostport_parse("[::1", h, sizeof h, &p, 0, &e), -1);
	assert_int_equal(nk_hostport_parse("a b:1", h, sizeof h, &p, 0, &e), -1);
	assert_int_equal(nk_hostport_parse("host:1", h, 4, &p, 0, &e), -1);
	assert_int_equal(nk_hostport_format(h, sizeof h, "::1", 123), 9);
	assert_string_equal(h, "[::1]:123");
}

static void test_u64(void **state)
{
	uint64_t v;
	(void)state;
	assert_int_equal(nk_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(nk_parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(nk_parse_u64("", 10, &v), -1);
	assert_int_equal(nk_parse_u64("-1", 10, &v), -1);
	assert_int_equal(nk_parse_u64("11", 10, &v), -1);
}

/* nk_random: small requests come from a pool; a forked child must never
 * hand out the octets the parent is about to hand out (MADV_WIPEONFORK). */
static void test_random_pool_fork(void **state)
{
	uint8_t a[64], b[64], c[32], big[200], zero[200];
	int fds[2];
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(nk_random(a, 32), 0);          /* fills the pool */
	assert_int_equal(nk_random(b, 32), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t x[32];

		close(fds[0]);
		if (nk_random(x, sizeof x) != 0 || write(fds[1], x, sizeof x) != (ssize_t)sizeof x)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(nk_random(a, 32), 0);          /* the parent's next octets */
	assert_int_equal(read(fds[0], c, sizeof c), (ssize_t)sizeof c);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_memory_not_equal(a, c, 32);
	/* many draws across refills; large requests bypass the pool */
	for (int i = 0; i < 200; i++) {
		assert_int_equal(nk_random(a, 1 + (size_t)i % 64), 0);
		assert_int_equal(nk_random(b, 1 + (size_t)i % 64), 0);
		if (i % 64 >= 7)
			assert_memory_not_equal(a, b, 1 + (size_t)i % 64);
	}
	memset(zero, 0, sizeof zero);
	memset(big, 0, sizeof big);
	assert_int_equal(nk_random(big, sizeof big), 0);
	assert_memory_not_equal(big, zero, sizeof big);
}

/* closed 0-2 become /dev/null; open ones are left alone (in a child:
 * the test runner's own descriptors stay as they are) */
static void test_stdfds(void **state)
{
	pid_t pid;
	int st;
	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct stat a, b;
		int keep = dup(2), fd;
		if (keep < 0 || stat("/dev/null", &b) < 0)
			_exit(1);
		close(1);
		close(0);
		if (nk_stdfds_open() != 0)
			_exit(2);
		for (fd = 0; fd <= 1; fd++)
			if (fstat(fd, &a) < 0 || a.st_rdev != b.st_rdev || !S_ISCHR(a.st_mode))
				_exit(3);
		/* fd 2 was open: still the same file as before */
		if (fstat(2, &a) < 0 || fstat(keep, &b) < 0 || a.st_ino != b.st_ino)
			_exit(4);
		/* the next file opened is not one of them */
		fd = open("/dev/null", O_RDONLY);
		_exit(fd > 2 ? 0 : 5);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_all),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_ct_eq),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_random_pool_fork),
		cmocka_unit_test(test_stdfds),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
