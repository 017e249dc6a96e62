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
#include "wycheproof.h"

/*
 * Every case of a Wycheproof AEAD file through nk_aead, except the groups
 * whose nonce is not 96 bits or whose tag is not 128 bits: TLS 1.3 never uses
 * those (RFC 8446 5.3: the per-record nonce is iv_length = max(8, N_MIN)
 * octets, 12 for the AEADs of the B.4 suites, whose tags are all 16 octets).
 * Those are counted as not applicable; run + not applicable must be the
 * file's numberOfTests, and both counts are pinned so a changed file is noticed.
 */
static void run_aead_file(const char *path, int chacha, int want_run, int want_na)
{
	struct wp_json j;
	int groups, run = 0, na = 0, bad = 0;

	assert_int_equal(wp_load(&j, path), 0);
	groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		int tests = wp_get(&j, g, "tests");
		/* the skip rule: nonce and tag sizes TLS 1.3 never uses */
		int tls = wp_int(&j, wp_get(&j, g, "ivSize")) == 96 && wp_int(&j, wp_get(&j, g, "tagSize")) == 128;

		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			unsigned char *k, *iv, *aad, *msg, *ct, *tag, tg[16];
			long kl, il, al, ml, cl, tl, id = wp_int(&j, wp_get(&j, t, "tcId"));
			struct nk_aead a;
			int valid, ok;

			if (!tls) {
				na++;
				continue;
			}
			valid = wp_valid(&j, t);
			kl = wp_hex_at(&j, t, "key", &k);
			il = wp_hex_at(&j, t, "iv", &iv);
			al = wp_hex_at(&j, t, "aad", &aad);
			ml = wp_hex_at(&j, t, "msg", &msg);
			cl = wp_hex_at(&j, t, "ct", &ct);
			tl = wp_hex_at(&j, t, "tag", &tag);
			assert_true(kl >= 0 && al >= 0 && il == 12 && tl == 16 && ml >= 0 && ml == cl);
			run++;
			if (nk_aead_init(&a, chacha, k, (size_t)kl) < 0) {
				/* only an unsupported key size may be refused, and never a valid case */
				if (valid) {
					print_error("tcId %ld: key of %ld bytes refused\n", id, kl);
					bad++;
				}
				goto next;
			}
			/* open: must succeed exactly for valid cases, and give the message */
			ok = nk_aead_open(&a, iv, aad, (size_t)al, ct, (size_t)cl, tag) == 0 &&
				memcmp(ct, msg, (size_t)ml) == 0;
			if (ok != valid) {
				print_error("tcId %ld (%s): open %s\n", id, valid ? "valid" : "invalid",
					ok ? "accepted" : "refused");
				bad++;
			}
			/* seal: valid cases give the expected ciphertext and tag */
			if (valid) {
				nk_aead_seal(&a, iv, aad, (size_t)al, msg, (size_t)ml, tg);
				free(ct);   /* it was decrypted in place: read it again */
				cl = wp_hex_at(&j, t, "ct", &ct);
				assert_int_equal(cl, ml);
				if (memcmp(msg, ct, (size_t)ml) != 0 || memcmp(tg, tag, 16) != 0) {
					print_error("tcId %ld: seal differs\n", id);
					bad++;
				}
			}
next:
			free(k); free(iv); free(aad); free(msg); free(ct); free(tag);
		}
	}
	print_message("%s: %d cases run, %d not applicable to TLS 1.3 (nonce/tag size), %d failed\n",
		path, run, na, bad);
	assert_int_equal(bad, 0);
	assert_int_equal(run + na, wp_number_of_tests(&j));
	assert_int_equal(run, want_run);
	assert_int_equal(na, want_na);
	wp_free(&j);
}

static void test_wycheproof_aes_gcm(void **state)
{
	(void)state;
	/* 316 tests: 197 with a 96-bit nonce; 119 with nonces of 0..2056 bits */
	run_aead_file("tests/vectors/aes_gcm_test.json", 0, 197, 119);
}

static void test_wycheproof_chacha20_poly1305(void **state)
{
	(void)state;
	/* 325 tests: 316 with a 96-bit nonce; 9 with other nonce sizes */
	run_aead_file("tests/vectors/chacha20_poly1305_test.json", 1, 316, 9);
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

/* The test's own sealing of a whole TLSInnerPlaintext (content || type ||
 * zeros) of any length: nk_tlsrec_seal refuses what a peer might send. The
 * nonce is built here as RFC 8446 5.3 says (iv XOR the left-padded seq). */
static size_t seal_inner(struct nk_tlsrec *w, const unsigned char *inner, size_t len, unsigned char *out)
{
	unsigned char nonce[12];

	memcpy(nonce, w->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (unsigned char)(w->seq >> (56 - 8 * i));
	out[0] = NK_CT_APPLICATION_DATA;
	out[1] = 3;
	out[2] = 3;
	out[3] = (unsigned char)((len + 16) >> 8);
	out[4] = (unsigned char)(len + 16);
	memcpy(out + 5, inner, len);
	nk_aead_seal(&w->aead, nonce, out, 5, out + 5, len, out + 5 + len);
	w->seq++;
	return 5 + len + 16;
}

/* RFC 8446 5.2/5.4: the whole TLSInnerPlaintext (content, type and padding)
 * is at most 2^14 + 1 octets; a longer one, even if the content alone fits
 * after the padding is stripped, is record_overflow (-2). */
static void test_inner_plaintext_limit(void **state)
{
	static unsigned char inner[NK_TLS_MAX_PLAIN + 64], rec[NK_TLS_MAX_RECORD];
	unsigned char secret[32];
	static const uint16_t suites[] = { NK_TLS_AES_128_GCM_SHA256, NK_TLS_AES_256_GCM_SHA384,
		NK_TLS_CHACHA20_POLY1305_SHA256 };
	(void)state;

	memset(secret, 0x17, sizeof secret);
	for (int s = 0; s < 3; s++) {
		struct nk_tlsrec w, r;
		unsigned char *content;
		unsigned type;
		size_t n;

		assert_int_equal(nk_tlsrec_set_secret(&w, suites[s], secret), 0);
		assert_int_equal(nk_tlsrec_set_secret(&r, suites[s], secret), 0);
		/* 2^14 - 4 of content, the type, 4 zeros: exactly 2^14 + 1, accepted */
		memset(inner, 'a', sizeof inner);
		inner[NK_TLS_MAX_PLAIN - 4] = NK_CT_APPLICATION_DATA;
		memset(inner + NK_TLS_MAX_PLAIN - 3, 0, 4);
		n = seal_inner(&w, inner, NK_TLS_MAX_PLAIN + 1, rec);
		assert_int_equal(nk_tlsrec_open(&r, rec, n, &type, &content), NK_TLS_MAX_PLAIN - 4);
		assert_int_equal(type, NK_CT_APPLICATION_DATA);
		/* 2^14 of content, the type, one zero: 2^14 + 2, refused */
		memset(inner, 'a', sizeof inner);
		inner[NK_TLS_MAX_PLAIN] = NK_CT_APPLICATION_DATA;
		inner[NK_TLS_MAX_PLAIN + 1] = 0;
		n = seal_inner(&w, inner, NK_TLS_MAX_PLAIN + 2, rec);
		assert_int_equal(nk_tlsrec_open(&r, rec, n, &type, &content), -2);
		/* a short handshake message padded to 2^14 + 40: refused */
		memset(inner, 0, sizeof inner);
		memcpy(inner, "\x08\x00\x00\x02\x00\x00", 6);
		inner[6] = NK_CT_HANDSHAKE;
		n = seal_inner(&w, inner, NK_TLS_MAX_PLAIN + 40, rec);
		assert_int_equal(nk_tlsrec_open(&r, rec, n, &type, &content), -2);
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
		cmocka_unit_test(test_inner_plaintext_limit),
	};
	return cmocka_run_group_tests_name("tlsrec", tests, NULL, NULL);
}
