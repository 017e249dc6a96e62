/*
 * Unit tests for lib/tlssig: Wycheproof RSA-PSS and ECDSA verification
 * vectors, sign->verify round trips for every scheme, PSS with a fixed salt,
 * and refusals (wrong scheme for the key, wrong length, flipped bits).
 *
 * Wycheproof results: every "valid" must verify, every "invalid" must not.
 * "acceptable" (none in the files used here) would be counted and may go
 * either way; the counts are printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tlssig.h"
#include "wycheproof.h"

#define VEC "tests/vectors/"

struct counts { long valid, invalid, acceptable, failed; };

static void report(const char *file, const struct counts *c)
{
	printf("# %s: %ld valid, %ld invalid, %ld acceptable, %ld mismatches\n",
		file, c->valid, c->invalid, c->acceptable, c->failed);
}

/* One result against the expectation; prints the tcId on a mismatch. */
static void tally(struct counts *c, const struct wp_json *j, int t, int ok, const char *file)
{
	int res = wp_get(j, t, "result");
	if (wp_is(j, res, "valid")) {
		c->valid++;
		if (!ok) {
			c->failed++;
			printf("# %s tcId %ld: valid signature refused\n", file, wp_int(j, wp_get(j, t, "tcId")));
		}
	} else if (wp_is(j, res, "invalid")) {
		c->invalid++;
		if (ok) {
			c->failed++;
			printf("# %s tcId %ld: invalid signature accepted\n", file, wp_int(j, wp_get(j, t, "tcId")));
		}
	} else {
		c->acceptable++;
	}
}

static const br_hash_class *hash_by_name(const struct wp_json *j, int t)
{
	if (wp_is(j, t, "SHA-256")) return &br_sha256_vtable;
	if (wp_is(j, t, "SHA-384")) return &br_sha384_vtable;
	if (wp_is(j, t, "SHA-512")) return &br_sha512_vtable;
	return NULL;
}

static size_t hlen_of(const br_hash_class *h)
{
	return (size_t)(h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

static void run_pss_file(const char *file, long expect_tests)
{
	char path[256];
	struct wp_json j;
	struct counts c = { 0 };
	snprintf(path, sizeof path, VEC "%s", file);
	assert_int_equal(wp_load(&j, path), 0);
	int groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		const br_hash_class *h = hash_by_name(&j, wp_get(&j, g, "sha"));
		assert_non_null(h);
		assert_ptr_equal(h, hash_by_name(&j, wp_get(&j, g, "mgfSha")));
		long slen = wp_int(&j, wp_get(&j, g, "sLen"));
		int pub = wp_get(&j, g, "publicKey");
		unsigned char *n, *e;
		long nlen = wp_hex(&j, wp_get(&j, pub, "modulus"), &n);
		long elen = wp_hex(&j, wp_get(&j, pub, "publicExponent"), &e);
		assert_true(nlen > 0 && elen > 0);
		br_rsa_public_key pk = { n, (size_t)nlen, e, (size_t)elen };
		int tests = wp_get(&j, g, "tests");
		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			unsigned char *msg, *sig, mh[64];
			long ml = wp_hex(&j, wp_get(&j, t, "msg"), &msg);
			long sl = wp_hex(&j, wp_get(&j, t, "sig"), &sig);
			assert_true(ml >= 0 && sl >= 0);
			br_hash_compat_context hc;
			h->init(&hc.vtable);
			h->update(&hc.vtable, msg, (size_t)ml);
			h->out(&hc.vtable, mh);
			int ok = nk_rsa_pss_verify(h, mh, hlen_of(h), (size_t)slen, &pk, sig, (size_t)sl) == 0;
			tally(&c, &j, t, ok, file);
			/* the TLS entry point agrees when the file's parameters are TLS's */
			if ((size_t)slen == hlen_of(h)) {
				struct nk_pubkey npk;
				br_x509_pkey xk = { .key_type = BR_KEYTYPE_RSA };
				xk.key.rsa = pk;
				assert_int_equal(nk_pubkey_set(&npk, &xk), 0);
				uint16_t sch = h == &br_sha256_vtable ? NK_SIG_RSA_PSS_RSAE_SHA256
					: h == &br_sha384_vtable ? NK_SIG_RSA_PSS_RSAE_SHA384 : NK_SIG_RSA_PSS_RSAE_SHA512;
				assert_int_equal(nk_tlssig_verify(sch, &npk, msg, (size_t)ml, sig, (size_t)sl) == 0, ok);
			}
			free(msg);
			free(sig);
		}
		free(n);
		free(e);
	}
	report(file, &c);
	assert_int_equal(c.valid + c.invalid + c.acceptable, expect_tests);
	assert_int_equal(c.failed, 0);
	wp_free(&j);
}

static void test_wycheproof_pss_2048(void **s) { (void)s; run_pss_file("rsa_pss_2048_sha256_mgf1_32_test.json", 108); }
static void test_wycheproof_pss_3072(void **s) { (void)s; run_pss_file("rsa_pss_3072_sha256_mgf1_32_test.json", 108); }
static void test_wycheproof_pss_4096(void **s) { (void)s; run_pss_file("rsa_pss_4096_sha512_mgf1_32_test.json", 177); }

static void run_ecdsa_file(const char *file, uint16_t scheme, int curve, long expect_tests)
{
	char path[256];
	struct wp_json j;
	struct counts c = { 0 };
	snprintf(path, sizeof path, VEC "%s", file);
	assert_int_equal(wp_load(&j, path), 0);
	int groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		int pub = wp_get(&j, g, "publicKey");
		unsigned char *q;
		long qlen = wp_hex(&j, wp_get(&j, pub, "uncompressed"), &q);
		assert_true(qlen > 0);
		struct nk_pubkey npk;
		br_x509_pkey xk = { .key_type = BR_KEYTYPE_EC };
		xk.key.ec.curve = curve;
		xk.key.ec.q = q;
		xk.key.ec.qlen = (size_t)qlen;
		assert_int_equal(nk_pubkey_set(&npk, &xk), 0);
		free(q);
		int tests = wp_get(&j, g, "tests");
		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			unsigned char *msg, *sig;
			long ml = wp_hex(&j, wp_get(&j, t, "msg"), &msg);
			long sl = wp_hex(&j, wp_get(&j, t, "sig"), &sig);
			assert_true(ml >= 0 && sl >= 0);
			int ok = nk_tlssig_verify(scheme, &npk, msg, (size_t)ml, sig, (size_t)sl) == 0;
			tally(&c, &j, t, ok, file);
			free(msg);
			free(sig);
		}
	}
	report(file, &c);
	assert_int_equal(c.valid + c.invalid + c.acceptable, expect_tests);
	assert_int_equal(c.failed, 0);
	wp_free(&j);
}

static void test_wycheproof_ecdsa_p256(void **s)
{
	(void)s;
	run_ecdsa_file("ecdsa_secp256r1_sha256_test.json", NK_SIG_ECDSA_P256_SHA256, BR_EC_secp256r1, 484);
}

static void test_wycheproof_ecdsa_p384(void **s)
{
	(void)s;
	run_ecdsa_file("ecdsa_secp384r1_sha384_test.json", NK_SIG_ECDSA_P384_SHA384, BR_EC_secp384r1, 504);
}

/* ------------------------------------------------------ round trips */

static br_hmac_drbg_context rng;

static void rng_init(void)
{
	static const char seed[] = "ntskit test_tlssig deterministic seed";
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
}

static void ec_keys(int curve, struct nk_privkey *sk, struct nk_pubkey *pk)
{
	unsigned char kp[BR_EC_KBUF_PRIV_MAX_SIZE], kq[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_private_key s;
	br_x509_pkey xk = { .key_type = BR_KEYTYPE_EC };
	assert_true(br_ec_keygen(&rng.vtable, br_ec_get_default(), &s, kp, curve) > 0);
	assert_true(br_ec_compute_pub(br_ec_get_default(), &xk.key.ec, kq, &s) > 0);
	assert_int_equal(nk_privkey_set_ec(sk, &s), 0);
	assert_int_equal(nk_pubkey_set(pk, &xk), 0);
}

static void rsa_keys(unsigned bits, struct nk_privkey *sk, struct nk_pubkey *pk)
{
	static unsigned char kp[BR_RSA_KBUF_PRIV_SIZE(4096)], kq[BR_RSA_KBUF_PUB_SIZE(4096)];
	br_rsa_private_key s;
	br_x509_pkey xk = { .key_type = BR_KEYTYPE_RSA };
	assert_int_equal(br_rsa_keygen_get_default()(&rng.vtable, &s, kp, &xk.key.rsa, kq, bits, 65537), 1);
	assert_int_equal(nk_privkey_set_rsa(sk, &s), 0);
	assert_int_equal(nk_pubkey_set(pk, &xk), 0);
}

static const uint16_t all_schemes[] = {
	NK_SIG_ECDSA_P256_SHA256, NK_SIG_ECDSA_P384_SHA384, NK_SIG_RSA_PSS_RSAE_SHA256,
	NK_SIG_RSA_PSS_RSAE_SHA384, NK_SIG_RSA_PSS_RSAE_SHA512,
};

/* Sign and verify with scheme; then check the refusals. */
static void round_trip(uint16_t scheme, const struct nk_privkey *sk, const struct nk_pubkey *pk)
{
	static const char msg[] = "TLS 1.3, server CertificateVerify test message";
	unsigned char sig[NK_RSA_MAX_BYTES + 16];
	assert_true(nk_tlssig_fits_priv(scheme, sk));
	assert_true(nk_tlssig_fits_pub(scheme, pk));
	long n = nk_tlssig_sign(scheme, sk, msg, sizeof msg, sig, sizeof sig);
	assert_true(n > 0);
	assert_int_equal(nk_tlssig_verify(scheme, pk, msg, sizeof msg, sig, (size_t)n), 0);
	/* a copy of the key struct (pointers inside) still works */
	struct nk_pubkey copy;
	memcpy(&copy, pk, sizeof copy);
	assert_int_equal(nk_tlssig_verify(scheme, &copy, msg, sizeof msg, sig, (size_t)n), 0);
	/* other message, flipped bits, truncated or extended signatures */
	assert_int_equal(nk_tlssig_verify(scheme, pk, msg, sizeof msg - 1, sig, (size_t)n), -1);
	for (long i = 0; i < n; i += n / 7 + 1) {
		sig[i] ^= 0x01;
		assert_int_equal(nk_tlssig_verify(scheme, pk, msg, sizeof msg, sig, (size_t)n), -1);
		sig[i] ^= 0x01;
	}
	assert_int_equal(nk_tlssig_verify(scheme, pk, msg, sizeof msg, sig, (size_t)n - 1), -1);
	sig[n] = 0;
	assert_int_equal(nk_tlssig_verify(scheme, pk, msg, sizeof msg, sig, (size_t)n + 1), -1);
	/* every other scheme refuses this key/signature */
	for (size_t i = 0; i < sizeof all_schemes / sizeof all_schemes[0]; i++) {
		if (all_schemes[i] == scheme)
			continue;
		assert_int_equal(nk_tlssig_verify(all_schemes[i], pk, msg, sizeof msg, sig, (size_t)n), -1);
	}
	assert_int_equal(nk_tlssig_verify(0x0401, pk, msg, sizeof msg, sig, (size_t)n), -1);
	/* too small a buffer */
	assert_int_equal(nk_tlssig_sign(scheme, sk, msg, sizeof msg, sig, 8), -1);
}

static void test_roundtrip_ecdsa(void **s)
{
	struct nk_privkey sk256, sk384;
	struct nk_pubkey pk256, pk384;
	(void)s;
	rng_init();
	ec_keys(BR_EC_secp256r1, &sk256, &pk256);
	ec_keys(BR_EC_secp384r1, &sk384, &pk384);
	round_trip(NK_SIG_ECDSA_P256_SHA256, &sk256, &pk256);
	round_trip(NK_SIG_ECDSA_P384_SHA384, &sk384, &pk384);
	/* curve must match the scheme */
	assert_false(nk_tlssig_fits_pub(NK_SIG_ECDSA_P384_SHA384, &pk256));
	assert_false(nk_tlssig_fits_priv(NK_SIG_ECDSA_P256_SHA256, &sk384));
	assert_false(nk_tlssig_fits_pub(NK_SIG_RSA_PSS_RSAE_SHA256, &pk256));
	unsigned char sig[128];
	assert_int_equal(nk_tlssig_sign(NK_SIG_ECDSA_P256_SHA256, &sk384, "x", 1, sig, sizeof sig), -1);
	nk_privkey_wipe(&sk256);
	nk_privkey_wipe(&sk384);
}

static void test_roundtrip_rsa(void **s)
{
	static const unsigned bits[] = { 1024, 2048, 3072, 4096 };
	struct nk_privkey sk;
	struct nk_pubkey pk;
	(void)s;
	rng_init();
	for (size_t i = 0; i < 4; i++) {
		rsa_keys(bits[i], &sk, &pk);
		round_trip(NK_SIG_RSA_PSS_RSAE_SHA256, &sk, &pk);
		round_trip(NK_SIG_RSA_PSS_RSAE_SHA384, &sk, &pk);
		if (bits[i] >= 2048) {
			round_trip(NK_SIG_RSA_PSS_RSAE_SHA512, &sk, &pk);
		} else {
			/* 1024-bit: emLen 128 < 2*64+2, SHA-512 PSS cannot fit */
			assert_false(nk_tlssig_fits_pub(NK_SIG_RSA_PSS_RSAE_SHA512, &pk));
			assert_false(nk_tlssig_fits_priv(NK_SIG_RSA_PSS_RSAE_SHA512, &sk));
		}
		assert_false(nk_tlssig_fits_pub(NK_SIG_ECDSA_P256_SHA256, &pk));
	}
	nk_privkey_wipe(&sk);
}

/* Odd modulus sizes exercise emLen < k (modBits = 8k'+1) and the top-bit mask. */
static void test_pss_odd_sizes(void **s)
{
	static const unsigned bits[] = { 1025, 1031, 2047, 2049 };
	struct nk_privkey sk;
	struct nk_pubkey pk;
	(void)s;
	rng_init();
	for (size_t i = 0; i < 4; i++) {
		rsa_keys(bits[i], &sk, &pk);
		round_trip(NK_SIG_RSA_PSS_RSAE_SHA256, &sk, &pk);
	}
	nk_privkey_wipe(&sk);
}

/* PSS with a fixed salt: deterministic, verifies with that salt length only. */
static void test_pss_fixed_salt(void **s)
{
	struct nk_privkey sk;
	struct nk_pubkey pk;
	unsigned char mh[32], salt[48], s1[256], s2[256];
	br_rsa_private_key v;
	br_rsa_public_key pv;
	(void)s;
	rng_init();
	rsa_keys(2048, &sk, &pk);
	for (size_t i = 0; i < sizeof salt; i++)
		salt[i] = (unsigned char)(0xa0 + i);
	br_sha256_context sc;
	br_sha256_init(&sc);
	br_sha256_update(&sc, "abc", 3);
	br_sha256_out(&sc, mh);
	v = sk.key.rsa;
	pv = pk.key.rsa;
	for (size_t slen = 0; slen <= sizeof salt; slen += 16) {
		assert_int_equal(nk_rsa_pss_sign(&br_sha256_vtable, mh, 32, salt, slen, &v, s1, sizeof s1), 256);
		assert_int_equal(nk_rsa_pss_sign(&br_sha256_vtable, mh, 32, salt, slen, &v, s2, sizeof s2), 256);
		assert_memory_equal(s1, s2, 256);
		assert_int_equal(nk_rsa_pss_verify(&br_sha256_vtable, mh, 32, slen, &pv, s1, 256), 0);
		assert_int_equal(nk_rsa_pss_verify(&br_sha256_vtable, mh, 32, slen + 1, &pv, s1, 256), -1);
		if (slen > 0)
			assert_int_equal(nk_rsa_pss_verify(&br_sha256_vtable, mh, 32, slen - 1, &pv, s1, 256), -1);
		/* MGF1 / hash must be the one used */
		unsigned char mh384[48];
		memset(mh384, 0, sizeof mh384);
		assert_int_equal(nk_rsa_pss_verify(&br_sha384_vtable, mh384, 48, slen, &pv, s1, 256), -1);
	}
	/* a signature >= n is refused; all-zero and all-ones too */
	memset(s1, 0xff, 256);
	assert_int_equal(nk_rsa_pss_verify(&br_sha256_vtable, mh, 32, 32, &pv, s1, 256), -1);
	memset(s1, 0, 256);
	assert_int_equal(nk_rsa_pss_verify(&br_sha256_vtable, mh, 32, 32, &pv, s1, 256), -1);
	/* salt too long for the modulus */
	assert_int_equal(nk_rsa_pss_sign(&br_sha256_vtable, mh, 32, s2, 256 - 32 - 1, &v, s1, sizeof s1), -1);
	nk_privkey_wipe(&sk);
}

static void test_names(void **s)
{
	(void)s;
	assert_string_equal(nk_tlssig_name(0x0403), "ecdsa_secp256r1_sha256");
	assert_string_equal(nk_tlssig_name(0x0503), "ecdsa_secp384r1_sha384");
	assert_string_equal(nk_tlssig_name(0x0804), "rsa_pss_rsae_sha256");
	assert_string_equal(nk_tlssig_name(0x0805), "rsa_pss_rsae_sha384");
	assert_string_equal(nk_tlssig_name(0x0806), "rsa_pss_rsae_sha512");
	assert_string_equal(nk_tlssig_name(0x0401), "unknown");
}

/* Hand-made DER edge cases on a valid P-256 signature. */
static void test_ecdsa_der_strict(void **s)
{
	struct nk_privkey sk;
	struct nk_pubkey pk;
	unsigned char sig[128], bad[140];
	(void)s;
	rng_init();
	ec_keys(BR_EC_secp256r1, &sk, &pk);
	long n = nk_tlssig_sign(NK_SIG_ECDSA_P256_SHA256, &sk, "m", 1, sig, sizeof sig);
	assert_true(n > 8);
	assert_int_equal(nk_tlssig_verify(NK_SIG_ECDSA_P256_SHA256, &pk, "m", 1, sig, (size_t)n), 0);
	/* long-form outer length (non-minimal) */
	bad[0] = 0x30; bad[1] = 0x81; bad[2] = sig[1];
	memcpy(bad + 3, sig + 2, (size_t)n - 2);
	assert_int_equal(nk_tlssig_verify(NK_SIG_ECDSA_P256_SHA256, &pk, "m", 1, bad, (size_t)n + 1), -1);
	/* trailing byte, inside and outside the sequence */
	memcpy(bad, sig, (size_t)n);
	bad[n] = 0;
	assert_int_equal(nk_tlssig_verify(NK_SIG_ECDSA_P256_SHA256, &pk, "m", 1, bad, (size_t)n + 1), -1);
	bad[1]++;
	assert_int_equal(nk_tlssig_verify(NK_SIG_ECDSA_P256_SHA256, &pk, "m", 1, bad, (size_t)n + 1), -1);
	/* wrong tag */
	memcpy(bad, sig, (size_t)n);
	bad[0] = 0x31;
	assert_int_equal(nk_tlssig_verify(NK_SIG_ECDSA_P256_SHA256, &pk, "m", 1, bad, (size_t)n), -1);
	assert_int_equal(nk_tlssig_verify(NK_SIG_ECDSA_P256_SHA256, &pk, "m", 1, sig, 0), -1);
	assert_int_equal(nk_tlssig_verify(NK_SIG_ECDSA_P256_SHA256, &pk, "m", 1, sig, 1), -1);
	nk_privkey_wipe(&sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_wycheproof_pss_2048),
		cmocka_unit_test(test_wycheproof_pss_3072),
		cmocka_unit_test(test_wycheproof_pss_4096),
		cmocka_unit_test(test_wycheproof_ecdsa_p256),
		cmocka_unit_test(test_wycheproof_ecdsa_p384),
		cmocka_unit_test(test_ecdsa_der_strict),
		cmocka_unit_test(test_roundtrip_ecdsa),
		cmocka_unit_test(test_roundtrip_rsa),
		cmocka_unit_test(test_pss_odd_sizes),
		cmocka_unit_test(test_pss_fixed_salt),
	};
	return cmocka_run_group_tests_name("tlssig", tests, NULL, NULL);
}
