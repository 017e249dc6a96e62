/*
 * Unit tests for lib/x25519: RFC 7748 §5.2 and §6.1 vectors, every
 * Wycheproof x25519_test.json case, and differential tests against
 * BearSSL's br_ec_c25519_m31 (X25519, the fixed-base path, and the
 * br_ec_impl object nk_x25519_ec), and the bit statistics of the
 * ephemeral keys the TLS engine generates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <bearssl.h>

#include "tls13.h"
#include "util.h"
#include "x25519.h"
#include "wycheproof.h"

#define DIFF_ROUNDS 2000

static const uint8_t nine[32] = { 9 };

static void hex32(uint8_t out[32], const char *h)
{
	assert_int_equal(nk_hex_decode(out, 32, h, strlen(h)), 32);
}

static void rnd(void *p, size_t n)
{
	assert_int_equal(nk_random(p, n), 0);
}

/* RFC 7748 §5.2: the two single-shot X25519 vectors. */
static void test_rfc7748_vectors(void **state)
{
	static const char *v[2][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], want[32], out[32];
	(void)state;

	for (int i = 0; i < 2; i++) {
		hex32(k, v[i][0]);
		hex32(u, v[i][1]);
		hex32(want, v[i][2]);
		assert_int_equal(nk_x25519(out, k, u), 1);
		assert_memory_equal(out, want, 32);
	}
}

/* RFC 7748 §5.2 iterated test: k = u = 9; repeat: k, u = X25519(k, u), k.
 * 1 and 1000 iterations; 1,000,000 only when NK_TEST_SLOW is set in the
 * environment (about 40 s at -O2, minutes under the sanitizers). */
static void test_rfc7748_iterated(void **state)
{
	uint8_t k[32], u[32], r[32], want[32];
	int slow = getenv("NK_TEST_SLOW") != NULL;
	(void)state;

	memcpy(k, nine, 32);
	memcpy(u, nine, 32);
	for (int i = 1; i <= (slow ? 1000000 : 1000); i++) {
		assert_int_equal(nk_x25519(r, k, u), 1);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1) {
			hex32(want, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
			assert_memory_equal(k, want, 32);
		}
		if (i == 1000) {
			hex32(want, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
			assert_memory_equal(k, want, 32);
		}
	}
	if (slow) {
		hex32(want, "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424");
		assert_memory_equal(k, want, 32);
		printf("RFC 7748 §5.2: 1,000,000 iterations checked\n");
	}
}

/* RFC 7748 §6.1: Diffie-Hellman between Alice and Bob. */
static void test_rfc7748_dh(void **state)
{
	uint8_t a[32], b[32], pa[32], pb[32], k[32], out[32];
	(void)state;

	hex32(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	hex32(pa, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	hex32(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	hex32(pb, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	hex32(k, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

	nk_x25519_base(out, a);
	assert_memory_equal(out, pa, 32);
	assert_int_equal(nk_x25519(out, a, nine), 1);
	assert_memory_equal(out, pa, 32);
	nk_x25519_base(out, b);
	assert_memory_equal(out, pb, 32);
	assert_int_equal(nk_x25519(out, b, nine), 1);
	assert_memory_equal(out, pb, 32);
	assert_int_equal(nk_x25519(out, a, pb), 1);
	assert_memory_equal(out, k, 32);
	assert_int_equal(nk_x25519(out, b, pa), 1);
	assert_memory_equal(out, k, 32);
}

/* Wycheproof x25519_test.json: every case. The expected shared value must
 * come out for "valid" and "acceptable" cases alike; the return value is 0
 * exactly when that value is all zero (low-order public keys). */
static void test_wycheproof(void **state)
{
	static const uint8_t zero[32];
	struct wp_json j;
	long want_count, count = 0, zeros = 0;
	(void)state;

	assert_int_equal(wp_load(&j, "tests/vectors/x25519_test.json"), 0);
	want_count = wp_int(&j, wp_get(&j, 0, "numberOfTests"));
	int groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		assert_true(wp_is(&j, wp_get(&j, g, "curve"), "curve25519"));
		int tests = wp_get(&j, g, "tests");
		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			unsigned char *pub, *priv, *shared;
			uint8_t out[32];
			long id = wp_int(&j, wp_get(&j, t, "tcId"));
			int valid = wp_is(&j, wp_get(&j, t, "result"), "valid");
			int acceptable = wp_is(&j, wp_get(&j, t, "result"), "acceptable");

			assert_int_equal(wp_hex(&j, wp_get(&j, t, "public"), &pub), 32);
			assert_int_equal(wp_hex(&j, wp_get(&j, t, "private"), &priv), 32);
			assert_int_equal(wp_hex(&j, wp_get(&j, t, "shared"), &shared), 32);
			int is_zero = memcmp(shared, zero, 32) == 0;
			int r = nk_x25519(out, priv, pub);
			if (memcmp(out, shared, 32) != 0 || r != !is_zero || (!valid && !acceptable && r))
				fail_msg("wycheproof tcId %ld: wrong result (r=%d)", id, r);
			if (valid)
				assert_false(is_zero);
			zeros += is_zero;
			count++;
			free(pub);
			free(priv);
			free(shared);
		}
	}
	wp_free(&j);
	assert_int_equal(count, want_count);
	assert_true(zeros > 0);
	printf("wycheproof: %ld cases, %ld with an all-zero result\n", count, zeros);
}

/* >= 2000 random (scalar, u) pairs: nk_x25519 == br_ec_c25519_m31.mul. */
static void test_diff_mul(void **state)
{
	uint8_t k[32], u[32], a[32], b[32];
	(void)state;

	for (int i = 0; i < DIFF_ROUNDS; i++) {
		rnd(k, sizeof k);
		rnd(u, sizeof u);
		memcpy(b, u, 32);
		assert_int_equal(br_ec_c25519_m31.mul(b, 32, k, 32, BR_EC_curve25519), 1);
		assert_int_equal(nk_x25519(a, k, u), 1);
		assert_memory_equal(a, b, 32);
	}
}

/* >= 2000 random scalars: nk_x25519_base == nk_x25519(., 9) == mulgen. */
static void test_diff_base(void **state)
{
	uint8_t k[32], a[32], b[32], c[32];
	(void)state;

	for (int i = 0; i < DIFF_ROUNDS; i++) {
		rnd(k, sizeof k);
		nk_x25519_base(a, k);
		assert_int_equal(nk_x25519(b, k, nine), 1);
		assert_int_equal(br_ec_c25519_m31.mulgen(c, k, 32, BR_EC_curve25519), 32);
		assert_memory_equal(a, b, 32);
		assert_memory_equal(a, c, 32);
	}
}

/* Edge scalars and edge u values, against BearSSL; low-order u give 0. */
static void test_edges(void **state)
{
	static const char *us[] = {
		/* low order (X25519 result is zero): */
		"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p (= 0) */
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 (= 1) */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
		"0000000000000000000000000000000000000000000000000000000000000080", /* 2^255 (= 0) */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", /* p - 1 + 2^255 */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880", /* order 8, bit 255 set */
		/* not low order: */
		"0900000000000000000000000000000000000000000000000000000000000000", /* 9 */
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* 2^255 - 1 */
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", /* 2^256 - 1 */
		"efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 2 */
		"0200000000000000000000000000000000000000000000000000000000000000", /* 2 */
		"0000000000000000000000000000000000000000000000000000000000000040", /* 2^254 */
	};
	static const int low_order = 10;
	uint8_t ks[4][32], u[32], a[32], b[32], c[32];
	(void)state;

	memset(ks[0], 0, 32);
	memset(ks[1], 0xff, 32);
	hex32(ks[2], "0800000000000000000000000000000000000000000000000000000000000000");
	rnd(ks[3], 32);
	for (size_t ki = 0; ki < 4; ki++) {
		for (size_t ui = 0; ui < sizeof us / sizeof us[0]; ui++) {
			hex32(u, us[ui]);
			memcpy(b, u, 32);
			assert_int_equal(br_ec_c25519_m31.mul(b, 32, ks[ki], 32, BR_EC_curve25519), 1);
			int r = nk_x25519(a, ks[ki], u);
			if (memcmp(a, b, 32) != 0)
				fail_msg("scalar %zu, u %s: differs from BearSSL", ki, us[ui]);
			assert_int_equal(r, (int)ui >= low_order ? 1 : 0);
			/* nk_x25519_ec.mul returns 1 like BearSSL, even for zero */
			memcpy(c, u, 32);
			assert_int_equal(nk_x25519_ec.mul(c, 32, ks[ki], 32, BR_EC_curve25519), 1);
			assert_memory_equal(c, b, 32);
		}
		nk_x25519_base(a, ks[ki]);
		assert_int_equal(nk_x25519(b, ks[ki], nine), 1);
		assert_memory_equal(a, b, 32);
	}
}

/* out may alias u or the scalar. */
static void test_aliasing(void **state)
{
	uint8_t k[32], u[32], want[32], buf[32];
	(void)state;

	rnd(k, 32);
	rnd(u, 32);
	nk_x25519(want, k, u);
	memcpy(buf, u, 32);
	nk_x25519(buf, k, buf);
	assert_memory_equal(buf, want, 32);
	memcpy(buf, k, 32);
	nk_x25519(buf, buf, u);
	assert_memory_equal(buf, want, 32);
	nk_x25519_base(want, k);
	memcpy(buf, k, 32);
	nk_x25519_base(buf, buf);
	assert_memory_equal(buf, want, 32);
}

/* nk_x25519_ec against br_ec_c25519_m31: constants, and mul/mulgen for
 * random inputs, random lengths (including short, empty and too long
 * scalars, and wrong point lengths): same return values, same bytes. */
static void test_ec_impl(void **state)
{
	const br_ec_impl *br = &br_ec_c25519_m31, *nk = &nk_x25519_ec;
	const unsigned char *p, *q;
	size_t n1, n2;
	(void)state;

	assert_int_equal(nk->supported_curves, br->supported_curves);
	p = nk->generator(BR_EC_curve25519, &n1);
	q = br->generator(BR_EC_curve25519, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(p, q, n1);
	p = nk->order(BR_EC_curve25519, &n1);
	q = br->order(BR_EC_curve25519, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(p, q, n1);
	assert_int_equal(nk->xoff(BR_EC_curve25519, &n1), br->xoff(BR_EC_curve25519, &n2));
	assert_int_equal(n1, n2);

	for (int i = 0; i < DIFF_ROUNDS; i++) {
		uint8_t k[40], g1[40], g2[40], r1[48], r2[48], sel[2];
		size_t klen, glen;

		rnd(k, sizeof k);
		rnd(g1, sizeof g1);
		rnd(sel, sizeof sel);
		memcpy(g2, g1, sizeof g1);
		/* mostly well-formed calls; 1 in 8 with odd lengths */
		klen = (sel[0] & 7) ? 32 : (size_t)(sel[1] % 41);
		glen = (sel[0] & 0x38) ? 32 : (size_t)(sel[1] & 1 ? 31 : 33);
		assert_int_equal(nk->mul(g1, glen, k, klen, BR_EC_curve25519),
			br->mul(g2, glen, k, klen, BR_EC_curve25519));
		assert_memory_equal(g1, g2, sizeof g1);

		memset(r1, 0xa5, sizeof r1);
		memset(r2, 0xa5, sizeof r2);
		assert_int_equal(nk->mulgen(r1, k, klen, BR_EC_curve25519),
			br->mulgen(r2, k, klen, BR_EC_curve25519));
		assert_memory_equal(r1, r2, sizeof r1);
	}
	/* every scalar length 0..40 once, point length 32 */
	for (size_t klen = 0; klen <= 40; klen++) {
		uint8_t k[40], g1[32], g2[32], r1[32], r2[32];
		rnd(k, sizeof k);
		rnd(g1, sizeof g1);
		memcpy(g2, g1, 32);
		assert_int_equal(nk->mul(g1, 32, k, klen, BR_EC_curve25519),
			br->mul(g2, 32, k, klen, BR_EC_curve25519));
		assert_memory_equal(g1, g2, 32);
		assert_int_equal(nk->mulgen(r1, k, klen, BR_EC_curve25519),
			br->mulgen(r2, k, klen, BR_EC_curve25519));
		assert_memory_equal(r1, r2, 32);
	}
	/* muladd is not supported by either */
	{
		uint8_t a1[32], a2[32], x[32];
		rnd(a1, 32);
		rnd(x, 32);
		memcpy(a2, a1, 32);
		assert_int_equal(nk->muladd(a1, NULL, 32, x, 32, x, 32, BR_EC_curve25519), 0);
		assert_int_equal(br->muladd(a2, NULL, 32, x, 32, x, 32, BR_EC_curve25519), 0);
		assert_memory_equal(a1, a2, 32);
	}
}

/*
 * Ephemeral X25519 keys of the TLS engine (make_share, used by both the
 * client and the server role): 32 random bytes, clamped only where RFC 7748
 * §5 clamps (decodeScalar25519, inside nk_x25519). Over KEYGEN_N keys every
 * one of the 256 bits of the stored private key must take both values, and
 * each bit the clamping leaves free (bits 3..254 of the scalar) must be set
 * in about half of them (6 standard deviations: a false alarm has odds
 * below 1e-7 for the whole test). The public value must be X25519(k, 9).
 */
#define KEYGEN_N 4096

/* lib/tls13_int.h's make_share (that header's short names clash with cmocka's) */
size_t nk_tls13_i_make_share(struct nk_tls13 *c, uint16_t g, unsigned char *pub);

static void test_keygen_entropy(void **state)
{
	static struct nk_tls13 c;
	static unsigned ones[256];
	unsigned char seed[32], pub[BR_EC_KBUF_PUB_MAX_SIZE];
	uint8_t want[32];
	const unsigned sd6 = 6 * 32;    /* 6 * sqrt(KEYGEN_N / 4) */
	(void)state;

	memset(&c, 0, sizeof c);
	memset(ones, 0, sizeof ones);
	rnd(seed, sizeof seed);
	br_hmac_drbg_init(&c.rng, &br_sha256_vtable, seed, sizeof seed);
	for (int n = 0; n < KEYGEN_N; n++) {
		assert_int_equal(nk_tls13_i_make_share(&c, NK_TLS_GROUP_X25519, pub), 32);
		assert_int_equal(c.share_sk_len, 32);
		if (n < 64) {
			nk_x25519_base(want, c.share_sk);
			assert_memory_equal(pub, want, 32);
		}
		for (int b = 0; b < 256; b++)
			ones[b] += (c.share_sk[b / 8] >> (b % 8)) & 1;
	}
	for (int b = 0; b < 256; b++) {
		int clamped = b < 3 || b >= 254;   /* RFC 7748 §5 decodeScalar25519 */

		if (ones[b] == 0 || ones[b] == KEYGEN_N)
			fail_msg("bit %d (byte %d bit %d) of the private key is always %d",
				b, b / 8, b % 8, ones[b] ? 1 : 0);
		if (!clamped && (ones[b] < KEYGEN_N / 2 - sd6 || ones[b] > KEYGEN_N / 2 + sd6))
			fail_msg("bit %d (byte %d bit %d) set in %u of %d keys", b, b / 8, b % 8,
				ones[b], KEYGEN_N);
	}
	nk_wipe(&c, sizeof c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748_vectors),
		cmocka_unit_test(test_rfc7748_iterated),
		cmocka_unit_test(test_rfc7748_dh),
		cmocka_unit_test(test_wycheproof),
		cmocka_unit_test(test_diff_mul),
		cmocka_unit_test(test_diff_base),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_aliasing),
		cmocka_unit_test(test_ec_impl),
		cmocka_unit_test(test_keygen_entropy),
	};
	return cmocka_run_group_tests_name("x25519", tests, NULL, NULL);
}
