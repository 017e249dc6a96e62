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
#include "wyche.h"

static void test_wycheproof_hkdf_sha256(void **state)
{
	FILE *f = fopen("tests/vectors/hkdf_sha256_test.txt", "r");
	char *line = NULL, *fl[7];
	size_t cap = 0;
	int run = 0, bad = 0;
	(void)state;

	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		size_t il, sl, nl, ol, size;
		unsigned char *ikm, *salt, *info, *okm, prk[32], *out;
		int valid, ok;

		if (line[0] == '#')
			continue;
		assert_int_equal(wy_split(line, fl, 7), 7);
		valid = strcmp(fl[1], "valid") == 0;
		ikm = wy_hex(fl[2], &il);
		salt = wy_hex(fl[3], &sl);
		info = wy_hex(fl[4], &nl);
		okm = wy_hex(fl[6], &ol);
		size = strtoul(fl[5], NULL, 10);
		assert_true(ikm && salt && info && okm);
		out = malloc(size + 1);
		assert_non_null(out);
		nk_hkdf_extract(&br_sha256_vtable, salt, sl, ikm, il, prk);
		ok = nk_hkdf_expand(&br_sha256_vtable, prk, 32, info, nl, out, size) == 0 &&
			ol == size && memcmp(out, okm, size) == 0;
		if (ok != valid) {
			print_error("tcId %s (%s): %s\n", fl[0], fl[1], ok ? "accepted" : "refused/differs");
			bad++;
		}
		run++;
		free(ikm); free(salt); free(info); free(okm); free(out);
	}
	free(line);
	fclose(f);
	print_message("hkdf_sha256_test: %d cases run, %d failed\n", run, bad);
	assert_int_equal(bad, 0);
	assert_int_equal(run, 86);
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
