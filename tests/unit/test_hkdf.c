/*
 * Unit tests for lib/hkdf: Wycheproof hkdf_sha256_test (every case), the
 * RFC 5869 A.1 case, and HKDF-Expand-Label's bounds. (The TLS 1.3 uses of
 * Expand-Label and Derive-Secret are checked against RFC 8448 in test_tls13.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hkdf.h"
#include "util.h"
#include "wycheproof.h"

/* Every case of hkdf_sha256_test.json, none skipped. */
static void test_wycheproof_hkdf_sha256(void **state)
{
	struct wp_json j;
	int groups, run = 0, bad = 0;
	(void)state;

	assert_int_equal(wp_load(&j, "tests/vectors/hkdf_sha256_test.json"), 0);
	groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		int tests = wp_get(&j, g, "tests");
		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			unsigned char *ikm, *salt, *info, *okm, prk[32], *out;
			long il = wp_hex_at(&j, t, "ikm", &ikm), sl = wp_hex_at(&j, t, "salt", &salt);
			long nl = wp_hex_at(&j, t, "info", &info), ol = wp_hex_at(&j, t, "okm", &okm);
			long size = wp_int(&j, wp_get(&j, t, "size"));
			int valid = wp_valid(&j, t), ok;

			assert_true(il >= 0 && sl >= 0 && nl >= 0 && ol >= 0 && size >= 0);
			out = malloc((size_t)size + 1);
			assert_non_null(out);
			nk_hkdf_extract(&br_sha256_vtable, salt, (size_t)sl, ikm, (size_t)il, prk);
			ok = nk_hkdf_expand(&br_sha256_vtable, prk, 32, info, (size_t)nl, out, (size_t)size) == 0 &&
				ol == size && memcmp(out, okm, (size_t)size) == 0;
			if (ok != valid) {
				print_error("tcId %ld (%s): %s\n", wp_int(&j, wp_get(&j, t, "tcId")),
					valid ? "valid" : "invalid", ok ? "accepted" : "refused/differs");
				bad++;
			}
			run++;
			free(ikm); free(salt); free(info); free(okm); free(out);
		}
	}
	print_message("hkdf_sha256_test: %d cases run, %d failed\n", run, bad);
	assert_int_equal(bad, 0);
	assert_int_equal(run, wp_number_of_tests(&j));
	assert_int_equal(run, 86);
	wp_free(&j);
}

/* RFC 5869 A.1 */
static void test_rfc5869_a1(void **state)
{
	unsigned char ikm[22], salt[13], info[10], prk[32], okm[42];
	static const char *want_prk = "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5";
	static const char *want_okm =
		"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
	char hex[85];
	(void)state;
	memset(ikm, 0x0b, sizeof ikm);
	for (int i = 0; i < 13; i++)
		salt[i] = (unsigned char)i;
	for (int i = 0; i < 10; i++)
		info[i] = (unsigned char)(0xf0 + i);
	assert_int_equal(nk_hkdf_extract(&br_sha256_vtable, salt, 13, ikm, 22, prk), 32);
	nk_hex_encode(hex, prk, 32);
	assert_string_equal(hex, want_prk);
	assert_int_equal(nk_hkdf_expand(&br_sha256_vtable, prk, 32, info, 10, okm, 42), 0);
	nk_hex_encode(hex, okm, 42);
	assert_string_equal(hex, want_okm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wycheproof_hkdf_sha256),
		cmocka_unit_test(test_rfc5869_a1),
	};
	return cmocka_run_group_tests_name("hkdf", tests, NULL, NULL);
}
