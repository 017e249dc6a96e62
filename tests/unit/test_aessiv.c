/* Unit tests for lib/aessiv: AES-CMAC (RFC 4493 §4), AES-SIV (RFC 5297
 * A.1, A.2) and the Wycheproof AES-CMAC, AES-SIV-CMAC and AEAD-AES-SIV-CMAC
 * vectors (the JSON files in tests/vectors, read through wycheproof.h; every
 * case, none skipped). Every vector runs on both AES implementations: AES-NI
 * (when the CPU has it) and the portable ct64. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aessiv.h"
#include "util.h"
#include "wycheproof.h"

static const int impls[] = { NK_AES_AUTO, NK_AES_CT64 };

/* hex with optional spaces, or "-" for empty; returns length, aborts on error */
static size_t unhex(uint8_t *out, size_t cap, const char *s)
{
	char tmp[8192];
	size_t n = 0;
	long r;

	if (strcmp(s, "-") == 0)
		return 0;
	for (; *s; s++)
		if (*s != ' ') {
			assert_true(n < sizeof tmp);
			tmp[n++] = *s;
		}
	r = nk_hex_decode(out, cap, tmp, n);
	assert_true(r >= 0);
	return (size_t)r;
}

/* ---- RFC 4493 §4 ---- */

static void test_cmac_rfc4493(void **state)
{
	static const char *msg =
		"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
		"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
	static const struct { size_t len; const char *tag; } ex[] = {
		{ 0, "bb1d6929e95937287fa37d129b756746" },
		{ 16, "070a16b46b4d4144f79bdd9dd04a287c" },
		{ 40, "dfa66747de9ae63030ca32611497c827" },
		{ 64, "51f0bebf7e3b9d92fc49741779363cfe" },
	};
	uint8_t key[16], m[64], want[16], got[16], k1[16], k2[16];
	struct nk_cmac_key k;
	(void)state;
	unhex(key, sizeof key, "2b7e151628aed2a6abf7158809cf4f3c");
	unhex(m, sizeof m, msg);
	unhex(k1, 16, "fbeed618357133667c85e08f7236a8de");
	unhex(k2, 16, "f7ddac306ae266ccf90bc11ee46d513b");
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(nk_cmac_init(&k, key, 16, impls[i]), 0);
		assert_memory_equal(k.k1, k1, 16);
		assert_memory_equal(k.k2, k2, 16);
		for (size_t j = 0; j < 4; j++) {
			unhex(want, 16, ex[j].tag);
			nk_cmac(&k, m, ex[j].len, got);
			assert_memory_equal(got, want, 16);
			/* streaming in every two-piece split gives the same */
			for (size_t cut = 0; cut <= ex[j].len; cut++) {
				struct nk_cmac_ctx c;
				nk_cmac_start(&c, &k);
				nk_cmac_update(&c, m, cut);
				nk_cmac_update(&c, m + cut, ex[j].len - cut);
				nk_cmac_finish(&c, got);
				assert_memory_equal(got, want, 16);
			}
			/* and octet by octet */
			{
				struct nk_cmac_ctx c;
				nk_cmac_start(&c, &k);
				for (size_t b = 0; b < ex[j].len; b++)
					nk_cmac_update(&c, m + b, 1);
				nk_cmac_finish(&c, got);
				assert_memory_equal(got, want, 16);
			}
		}
		nk_cmac_clear(&k);
	}
	assert_int_equal(nk_cmac_init(&k, key, 15, NK_AES_AUTO), -1);
	assert_int_equal(nk_cmac_init(&k, key, 0, NK_AES_AUTO), -1);
}

/* ---- RFC 5297 Appendix A ---- */

static void test_siv_rfc5297_a1(void **state)
{
	uint8_t key[32], ad[24], pt[14], want[30], out[30], back[14];
	struct nk_siv_ctx s;
	struct nk_siv_ad a[1];
	(void)state;
	unhex(key, 32, "fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff");
	unhex(ad, 24, "10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627");
	unhex(pt, 14, "11223344 55667788 99aabbcc ddee");
	unhex(want, 30, "85632d07 c6e8f37f 950acd32 0a2ecc93 40c02b96 90c4dc04 daef7f6a fe5c");
	a[0].data = ad;
	a[0].len = sizeof ad;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(nk_siv_init(&s, key, 32, impls[i]), 0);
		assert_int_equal(nk_siv_seal(&s, a, 1, pt, sizeof pt, out), 0);
		assert_memory_equal(out, want, 30);
		assert_int_equal(nk_siv_open(&s, a, 1, out, 30, back), 0);
		assert_memory_equal(back, pt, 14);
		/* every single-bit flip anywhere is rejected, plaintext wiped */
		for (size_t bit = 0; bit < 30 * 8; bit++) {
			out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(back, 0xee, sizeof back);
			assert_int_equal(nk_siv_open(&s, a, 1, out, 30, back), -1);
			for (size_t b = 0; b < sizeof back; b++)
				assert_int_equal(back[b], 0);
			out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		/* a different AD is rejected */
		ad[0] ^= 1;
		assert_int_equal(nk_siv_open(&s, a, 1, out, 30, back), -1);
		ad[0] ^= 1;
		/* as is the same AD split into two components */
		{
			struct nk_siv_ad two[2] = { { ad, 10 }, { ad + 10, 14 } };
			assert_int_equal(nk_siv_open(&s, two, 2, out, 30, back), -1);
		}
		nk_siv_clear(&s);
	}
}

static void test_siv_rfc5297_a2(void **state)
{
	uint8_t key[32], ad1[40], ad2[10], nonce[16], pt[47], want[63], out[63 + 16], back[47];
	struct nk_siv_ctx s;
	(void)state;
	unhex(key, 32, "7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f");
	unhex(ad1, 40, "00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100");
	unhex(ad2, 10, "10203040 50607080 90a0");
	unhex(nonce, 16, "09f91102 9d74e35b d84156c5 635688c0");
	unhex(pt, 47, "74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720 5349562d 414553");
	unhex(want, 63, "7bdb6e3b 432667eb 06f4d14b ff2fbd0f cb900f2f ddbe4043 26601965 c889bf17"
		"dba77ceb 094fa663 b7a3f748 ba8af829 ea64ad54 4a272e9c 485b62a3 fd5c0d");
	struct nk_siv_ad a[3] = { { ad1, 40 }, { ad2, 10 }, { nonce, 16 } };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(nk_siv_init(&s, key, 32, impls[i]), 0);
		assert_int_equal(nk_siv_seal(&s, a, 3, pt, sizeof pt, out), 0);
		assert_memory_equal(out, want, 63);
		assert_int_equal(nk_siv_open(&s, a, 3, out, 63, back), 0);
		assert_memory_equal(back, pt, 47);
		/* in place: plaintext at out + 16, and at out itself */
		memcpy(out + 16, pt, 47);
		assert_int_equal(nk_siv_seal(&s, a, 3, out + 16, 47, out), 0);
		assert_memory_equal(out, want, 63);
		assert_int_equal(nk_siv_open(&s, a, 3, out, 63, out + 16), 0);
		assert_memory_equal(out + 16, pt, 47);
		memcpy(out, pt, 47);
		assert_int_equal(nk_siv_seal(&s, a, 3, out, 47, out), 0);
		assert_memory_equal(out, want, 63);
		assert_int_equal(nk_siv_open(&s, a, 3, out, 63, out), 0);
		assert_memory_equal(out, pt, 47);
		/* components in another order do not verify */
		{
			struct nk_siv_ad b[3] = { { ad2, 10 }, { ad1, 40 }, { nonce, 16 } };
			memcpy(out, want, 63);
			assert_int_equal(nk_siv_open(&s, b, 3, out, 63, back), -1);
		}
		nk_siv_clear(&s);
	}
}

static void test_siv_limits(void **state)
{
	uint8_t key[64] = { 0 }, out[32], back[16];
	struct nk_siv_ctx s;
	struct nk_siv_ad many[NK_SIV_MAX_AD + 1];
	(void)state;
	assert_int_equal(nk_siv_key_len(NK_AEAD_AES_SIV_CMAC_256), 32);
	assert_int_equal(nk_siv_key_len(NK_AEAD_AES_SIV_CMAC_384), 48);
	assert_int_equal(nk_siv_key_len(NK_AEAD_AES_SIV_CMAC_512), 64);
	assert_int_equal(nk_siv_key_len(1), 0);
	assert_int_equal(nk_siv_init(&s, key, 16, NK_AES_AUTO), -1);
	assert_int_equal(nk_siv_init(&s, key, 33, NK_AES_AUTO), -1);
	assert_int_equal(nk_siv_init(&s, key, 64, NK_AES_AUTO), 0);
	for (size_t i = 0; i <= NK_SIV_MAX_AD; i++) {
		many[i].data = key;
		many[i].len = i % 3;
	}
	assert_int_equal(nk_siv_seal(&s, many, NK_SIV_MAX_AD, "x", 1, out), 0);
	assert_int_equal(nk_siv_open(&s, many, NK_SIV_MAX_AD, out, 17, back), 0);
	assert_int_equal(nk_siv_seal(&s, many, NK_SIV_MAX_AD + 1, "x", 1, out), -1);
	/* too short to hold a tag */
	assert_int_equal(nk_siv_open(&s, many, 1, out, 15, back), -1);
	/* RFC 5116 interface: empty nonce refused (N_MIN = 1) */
	assert_int_equal(nk_siv_aead_seal(&s, "a", 1, "", 0, "x", 1, out), -1);
	assert_int_equal(nk_siv_aead_open(&s, "a", 1, "", 0, out, 17, back), -1);
	/* empty plaintext: output is the tag alone */
	assert_int_equal(nk_siv_aead_seal(&s, "a", 1, "n", 1, NULL, 0, out), 0);
	assert_int_equal(nk_siv_aead_open(&s, "a", 1, "n", 1, out, 16, NULL), 0);
	out[15] ^= 0x80;
	assert_int_equal(nk_siv_aead_open(&s, "a", 1, "n", 1, out, 16, NULL), -1);
	nk_siv_clear(&s);
	/* clear wipes the keys */
	for (size_t i = 0; i < sizeof s; i++)
		assert_int_equal(((uint8_t *)&s)[i], 0);
}

/* ---- Wycheproof ---- */

struct counts {
	unsigned valid, invalid;
};

static void load_vec(struct wp_json *j, const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "tests/vectors/%s", name);
	if (wp_load(j, path) != 0)
		fail_msg("cannot read %s (tests run from the repository top)", path);
}

/* aes_cmac_test.json: key, msg, tag; every group has 128-bit tags. */
static void wyche_cmac(int impl, struct counts *c)
{
	struct wp_json j;
	int groups;

	load_vec(&j, "aes_cmac_test.json");
	groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		int tests = wp_get(&j, g, "tests");
		assert_int_equal(wp_int(&j, wp_get(&j, g, "tagSize")), 128);
		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			uint8_t *key, *msg, *tag, got[16];
			long kl = wp_hex_at(&j, t, "key", &key);
			long ml = wp_hex_at(&j, t, "msg", &msg);
			long tl = wp_hex_at(&j, t, "tag", &tag);
			int valid = wp_valid(&j, t), ok = 0;
			struct nk_cmac_key k;

			assert_true(kl >= 0 && ml >= 0 && tl >= 0);
			if (nk_cmac_init(&k, key, (size_t)kl, impl) == 0) {
				nk_cmac(&k, msg, (size_t)ml, got);
				ok = tl == 16 && nk_ct_eq(got, tag, 16);
				nk_cmac_clear(&k);
			}
			if (ok != valid)
				fail_msg("Wycheproof AES-CMAC tcId %ld: expected %s",
					wp_int(&j, wp_get(&j, t, "tcId")), valid ? "valid" : "invalid");
			if (valid)
				c->valid++;
			else
				c->invalid++;
			free(key); free(msg); free(tag);
		}
	}
	assert_int_equal(c->valid + c->invalid, wp_number_of_tests(&j));
	wp_free(&j);
}

/*
 * aes_siv_cmac_test.json: key, aad (one AD component), msg, ct = SIV || C.
 * aead_aes_siv_cmac_test.json (RFC 5116 interface, RFC 5297 3: the nonce is
 * the last AD component): key, iv, aad, msg, tag (the SIV), ct (C); every
 * group has 128-bit tags.
 */
static void wyche_siv(int impl, int aead, struct counts *c)
{
	const char *name = aead ? "AEAD-AES-SIV-CMAC" : "AES-SIV-CMAC";
	struct wp_json j;
	int groups;

	load_vec(&j, aead ? "aead_aes_siv_cmac_test.json" : "aes_siv_cmac_test.json");
	groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		int tests = wp_get(&j, g, "tests");
		if (aead)
			assert_int_equal(wp_int(&j, wp_get(&j, g, "tagSize")), 128);
		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			uint8_t *key, *nonce = NULL, *aad, *msg, *ct, *out, *back;
			long kl = wp_hex_at(&j, t, "key", &key);
			long nl = aead ? wp_hex_at(&j, t, "iv", &nonce) : 0;
			long al = wp_hex_at(&j, t, "aad", &aad);
			long ml = wp_hex_at(&j, t, "msg", &msg);
			long cl, id = wp_int(&j, wp_get(&j, t, "tcId"));
			int valid = wp_valid(&j, t), enc_ok = 0, dec_ok = 0;
			struct nk_siv_ctx s;

			if (aead) {
				/* OUT = SIV || C */
				uint8_t *tag, *c2;
				long tl = wp_hex_at(&j, t, "tag", &tag);
				long l2 = wp_hex_at(&j, t, "ct", &c2);
				assert_true(tl >= 0 && l2 >= 0);
				cl = tl + l2;
				ct = malloc((size_t)cl + 1);
				assert_non_null(ct);
				memcpy(ct, tag, (size_t)tl);
				memcpy(ct + tl, c2, (size_t)l2);
				free(tag); free(c2);
			} else {
				cl = wp_hex_at(&j, t, "ct", &ct);
			}
			assert_true(kl >= 0 && nl >= 0 && al >= 0 && ml >= 0 && cl >= 0);
			out = malloc((size_t)ml + 16);
			back = malloc((size_t)cl + 1);
			assert_true(out != NULL && back != NULL);
			struct nk_siv_ad ad[2] = { { aad, (size_t)al }, { nonce, (size_t)nl } };
			if (nk_siv_init(&s, key, (size_t)kl, impl) == 0) {
				if (nk_siv_seal(&s, ad, aead ? 2 : 1, msg, (size_t)ml, out) == 0)
					enc_ok = cl == ml + 16 && memcmp(out, ct, (size_t)cl) == 0;
				if (nk_siv_open(&s, ad, aead ? 2 : 1, ct, (size_t)cl, back) == 0)
					dec_ok = cl == ml + 16 && memcmp(back, msg, (size_t)ml) == 0;
				nk_siv_clear(&s);
			}
			if (valid && !(enc_ok && dec_ok))
				fail_msg("Wycheproof %s tcId %ld: valid vector failed (enc %d dec %d)",
					name, id, enc_ok, dec_ok);
			if (!valid && dec_ok)
				fail_msg("Wycheproof %s tcId %ld: invalid vector accepted", name, id);
			if (valid)
				c->valid++;
			else
				c->invalid++;
			free(key); free(nonce); free(aad); free(msg); free(ct); free(out); free(back);
		}
	}
	assert_int_equal(c->valid + c->invalid, wp_number_of_tests(&j));
	wp_free(&j);
}

static void test_wycheproof(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct counts cm = { 0, 0 }, sv = { 0, 0 }, ae = { 0, 0 };
		wyche_cmac(impls[i], &cm);
		wyche_siv(impls[i], 0, &sv);
		wyche_siv(impls[i], 1, &ae);
		print_message("AES %s: Wycheproof AES-CMAC %u valid + %u invalid, "
			"AES-SIV-CMAC %u + %u, AEAD-AES-SIV-CMAC %u + %u: all pass\n",
			impls[i] == NK_AES_CT64 ? "ct64" : (nk_aes_has_ni() ? "x86ni" : "ct64 (no AES-NI)"),
			cm.valid, cm.invalid, sv.valid, sv.invalid, ae.valid, ae.invalid);
		/* pinned, so a changed vector file is noticed */
		assert_int_equal(cm.valid + cm.invalid, 311);
		assert_int_equal(sv.valid + sv.invalid, 442);
		assert_int_equal(ae.valid + ae.invalid, 900);
	}
}

/* the two implementations agree on random inputs of every small length */
static void test_impls_agree(void **state)
{
	uint8_t key[64], ad[300], pt[300], o1[316], o2[316];
	struct nk_siv_ctx a, b;
	(void)state;
	for (size_t kl = 32; kl <= 64; kl += 16) {
		assert_int_equal(nk_random(key, kl), 0);
		assert_int_equal(nk_siv_init(&a, key, kl, NK_AES_AUTO), 0);
		assert_int_equal(nk_siv_init(&b, key, kl, NK_AES_CT64), 0);
		for (size_t n = 0; n < sizeof pt; n += 7) {
			assert_int_equal(nk_random(ad, sizeof ad), 0);
			assert_int_equal(nk_random(pt, n), 0);
			assert_int_equal(nk_siv_aead_seal(&a, ad, n / 2, ad + 200, 16, pt, n, o1), 0);
			assert_int_equal(nk_siv_aead_seal(&b, ad, n / 2, ad + 200, 16, pt, n, o2), 0);
			assert_memory_equal(o1, o2, n + 16);
			assert_int_equal(nk_siv_aead_open(&b, ad, n / 2, ad + 200, 16, o1, n + 16, o2), 0);
			assert_memory_equal(o2, pt, n);
		}
		nk_siv_clear(&a);
		nk_siv_clear(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmac_rfc4493),
		cmocka_unit_test(test_siv_rfc5297_a1),
		cmocka_unit_test(test_siv_rfc5297_a2),
		cmocka_unit_test(test_siv_limits),
		cmocka_unit_test(test_wycheproof),
		cmocka_unit_test(test_impls_agree),
	};
	return cmocka_run_group_tests_name("aessiv", tests, NULL, NULL);
}
