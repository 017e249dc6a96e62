/*
 * Unit tests for lib/tlsrec: TLS 1.3 record protection.
 *   - Wycheproof aes_gcm_test and chacha20_poly1305_test through nk_aead
 *     (the AEAD the record layer uses): every case with TLS 1.3's 96-bit
 *     nonce and 128-bit tag; other nonce sizes cannot occur in TLS 1.3 and
 *     are counted as not applicable;
 *   - record framing: inner content type, padding, limits, sequence numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tlsrec.h"
#include "wyche.h"

static void run_aead_file(const char *path, int chacha, int expect_min_run)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *fl[10];
	size_t cap = 0;
	int run = 0, na = 0, bad = 0;

	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		size_t kl, il, al, ml, cl, tl;
		unsigned char *k, *iv, *aad, *msg, *ct, *tag, t[16];
		struct nk_aead a;
		int valid, ok;

		if (line[0] == '#')
			continue;
		assert_int_equal(wy_split(line, fl, 10), 10);
		if (strcmp(fl[2], "96") != 0 || strcmp(fl[3], "128") != 0) {
			na++;
			continue;
		}
		valid = strcmp(fl[1], "valid") == 0;
		k = wy_hex(fl[4], &kl);
		iv = wy_hex(fl[5], &il);
		aad = wy_hex(fl[6], &al);
		msg = wy_hex(fl[7], &ml);
		ct = wy_hex(fl[8], &cl);
		tag = wy_hex(fl[9], &tl);
		assert_true(k && iv && aad && msg && ct && tag && il == 12 && tl == 16 && ml == cl);
		run++;
		if (nk_aead_init(&a, chacha, k, kl) < 0) {
			/* only an unsupported key size may be refused, and never a valid case */
			if (valid) {
				print_error("tcId %s: key of %zu bytes refused\n", fl[0], kl);
				bad++;
			}
			goto next;
		}
		/* open: must succeed exactly for valid cases, and give the message */
		ok = nk_aead_open(&a, iv, aad, al, ct, cl, tag) == 0 && memcmp(ct, msg, ml) == 0;
		if (ok != valid) {
			print_error("tcId %s (%s): open %s\n", fl[0], fl[1], ok ? "accepted" : "refused");
			bad++;
		}
		/* seal: valid cases give the expected ciphertext and tag */
		if (valid) {
			nk_aead_seal(&a, iv, aad, al, msg, ml, t);
			free(ct);   /* it was decrypted in place: read it again */
			ct = wy_hex(fl[8], &cl);
			if (memcmp(msg, ct, ml) != 0 || memcmp(t, tag, 16) != 0) {
				print_error("tcId %s: seal differs\n", fl[0]);
				bad++;
			}
		}
next:
		free(k); free(iv); free(aad); free(msg); free(ct); free(tag);
	}
	free(line);
	fclose(f);
	print_message("%s: %d cases run, %d not applicable to TLS 1.3 (nonce/tag size), %d failed\n",
		path, run, na, bad);
	assert_int_equal(bad, 0);
	assert_true(run >= expect_min_run);
}

static void test_wycheproof_aes_gcm(void **state)
{
	(void)state;
	run_aead_file("tests/vectors/aes_gcm_test.txt", 0, 190);
}

static void test_wycheproof_chacha20_poly1305(void **state)
{
	(void)state;
	run_aead_file("tests/vectors/chacha20_poly1305_test.txt", 1, 300);
}

/* Seal/open round trip for each suite, with padding, and the limits. */
static void test_record_roundtrip(void **state)
{
	static const uint16_t suites[] = { NK_TLS_AES_128_GCM_SHA256, NK_TLS_AES_256_GCM_SHA384,
		NK_TLS_CHACHA20_POLY1305_SHA256 };
	static unsigned char data[NK_TLS_MAX_PLAIN + 1], rec[NK_TLS_MAX_RECORD + 64];
	unsigned char secret[48];
	(void)state;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7);
	memset(secret, 0x42, sizeof secret);
	for (int s = 0; s < 3; s++) {
		struct nk_tlsrec w, r;
		unsigned char *content;
		unsigned type;
		long n;

		assert_int_equal(nk_tlsrec_set_secret(&w, suites[s], secret), 0);
		assert_int_equal(nk_tlsrec_set_secret(&r, suites[s], secret), 0);
		/* 2^14 bytes: the largest plaintext */
		n = nk_tlsrec_seal(&w, NK_CT_APPLICATION_DATA, data, NK_TLS_MAX_PLAIN, 0, rec, sizeof rec);
		assert_int_equal(n, 5 + NK_TLS_MAX_PLAIN + 1 + 16);
		assert_int_equal(rec[0], NK_CT_APPLICATION_DATA);
		assert_int_equal(nk_tlsrec_open(&r, rec, (size_t)n, &type, &content), NK_TLS_MAX_PLAIN);
		assert_int_equal(type, NK_CT_APPLICATION_DATA);
		assert_memory_equal(content, data, NK_TLS_MAX_PLAIN);
		/* 2^14 + 1: refused */
		assert_int_equal(nk_tlsrec_seal(&w, NK_CT_APPLICATION_DATA, data, NK_TLS_MAX_PLAIN + 1, 0,
			rec, sizeof rec), -1);
		/* padding hides the length; the type is the last non-zero byte */
		n = nk_tlsrec_seal(&w, NK_CT_HANDSHAKE, data + 1, 10, 100, rec, sizeof rec);
		assert_int_equal(n, 5 + 10 + 1 + 100 + 16);
		assert_int_equal(nk_tlsrec_open(&r, rec, (size_t)n, &type, &content), 10);
		assert_int_equal(type, NK_CT_HANDSHAKE);
		/* all padding, no type: unexpected_message (-3) */
		n = nk_tlsrec_seal(&w, 0, data, 0, 5, rec, sizeof rec);
		assert_true(n > 0);
		assert_int_equal(nk_tlsrec_open(&r, rec, (size_t)n, &type, &content), -3);
		/* replay of an old record (wrong sequence number): bad_record_mac */
		n = nk_tlsrec_seal(&w, NK_CT_ALERT, "\x01\x00", 2, 0, rec, sizeof rec);
		assert_int_equal(nk_tlsrec_open(&r, rec, (size_t)n, &type, &content), 2);
		assert_int_equal(nk_tlsrec_open(&r, rec, (size_t)n, &type, &content), -1);
		/* a length field that disagrees, and an oversized record: record_overflow (-2) */
		assert_int_equal(nk_tlsrec_open(&r, rec, (size_t)n - 1, &type, &content), -2);
		rec[3] = (unsigned char)((NK_TLS_MAX_CIPHER + 1) >> 8);
		rec[4] = (unsigned char)(NK_TLS_MAX_CIPHER + 1);
		assert_int_equal(nk_tlsrec_open(&r, rec, NK_TLS_MAX_CIPHER + 1 + 5, &type, &content), -2);
		/* an outer type other than application_data: refused */
		n = nk_tlsrec_seal(&w, NK_CT_HANDSHAKE, data, 4, 0, rec, sizeof rec);
		rec[0] = NK_CT_HANDSHAKE;
		assert_int_equal(nk_tlsrec_open(&r, rec, (size_t)n, &type, &content), -1);
		nk_tlsrec_wipe(&w);
		nk_tlsrec_wipe(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wycheproof_aes_gcm),
		cmocka_unit_test(test_wycheproof_chacha20_poly1305),
		cmocka_unit_test(test_record_roundtrip),
	};
	return cmocka_run_group_tests_name("tlsrec", tests, NULL, NULL);
}
