/*
 * Unit tests for lib/p256.
 *
 * The test includes p256.c itself, to reach the field and scalar helpers:
 *   - field and scalar arithmetic against a slow bit-by-bit reference, on
 *     random values and values near p and n; x * x^-1 = 1;
 *   - nk_p256_ec against BearSSL's br_ec_p256_m31 (differential): mulgen,
 *     mul, muladd on random inputs and on edge multipliers (0, n, n-1,
 *     n+1, the values where BearSSL's window walk is exceptional, short and
 *     long encodings) and invalid points; outputs and return values must
 *     be identical;
 *   - BearSSL's br_ec_compute_pub and ECDH through nk_p256_ec;
 *   - ECDSA: Wycheproof ecdsa_secp256r1_sha256 through BearSSL's verifier
 *     with nk_p256_ec; our signatures verified by BearSSL's own code;
 *     deterministic nonces (no extra data) equal to BearSSL's RFC 6979
 *     signer and to RFC 6979 A.2.5; refusals of bad keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "p256.c"
#include "wycheproof.h"

#define VEC "tests/vectors/"

static const br_ec_impl *const REF = &br_ec_p256_m31;
static const br_ec_impl *const NK = &nk_p256_ec;
#define CURVE BR_EC_secp256r1

/* Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static void rnd(void *buf, size_t n)
{
	unsigned char *b = buf;
	for (size_t i = 0; i < n; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		b[i] = (unsigned char)(rng_state >> 24);
	}
}

static void hexdump(const char *label, const unsigned char *b, size_t n)
{
	printf("# %s: ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

/* ---- reference arithmetic: r = a * b mod m, bit by bit ---- */

static int ref_ge(const uint64_t a[5], const uint64_t m[4])
{
	if (a[4])
		return 1;
	for (int i = 3; i >= 0; i--) {
		if (a[i] != m[i])
			return a[i] > m[i];
	}
	return 1;
}

static void ref_sub(uint64_t a[5], const uint64_t m[4])
{
	uint64_t br = 0;
	for (int i = 0; i < 5; i++) {
		uint64_t mi = i < 4 ? m[i] : 0;
		uint64_t d = a[i] - mi - br;
		br = (a[i] < mi) || (a[i] - mi < br);
		a[i] = d;
	}
}

/* r = (bits of x, nbits long, high first) mod m */
static void ref_mod(uint64_t r[4], const uint64_t *x, int nlimbs, const uint64_t m[4])
{
	uint64_t acc[5] = { 0, 0, 0, 0, 0 };
	for (int bit = nlimbs * 64 - 1; bit >= 0; bit--) {
		for (int i = 4; i > 0; i--)
			acc[i] = (acc[i] << 1) | (acc[i - 1] >> 63);
		acc[0] = (acc[0] << 1) | ((x[bit / 64] >> (bit % 64)) & 1);
		if (ref_ge(acc, m))
			ref_sub(acc, m);
	}
	memcpy(r, acc, 4 * sizeof r[0]);
}

static void ref_mulmod(uint64_t r[4], const uint64_t a[4], const uint64_t b[4], const uint64_t m[4])
{
	uint64_t t[8] = { 0 };
	for (int i = 0; i < 4; i++) {
		u128 c = 0;
		for (int j = 0; j < 4; j++) {
			c += (u128)a[i] * b[j] + t[i + j];
			t[i + j] = (uint64_t)c;
			c >>= 64;
		}
		t[i + 4] = (uint64_t)c;
	}
	ref_mod(r, t, 8, m);
}

static void ref_addmod(uint64_t r[4], const uint64_t a[4], const uint64_t b[4], const uint64_t m[4])
{
	uint64_t t[5];
	u128 c = 0;
	for (int i = 0; i < 4; i++) {
		c += (u128)a[i] + b[i];
		t[i] = (uint64_t)c;
		c >>= 64;
	}
	t[4] = (uint64_t)c;
	ref_mod(r, t, 5, m);
}

/* Interesting values mod m: 0, 1, 2, m-1, m-2, m-2^32, 2^255, 2^224, ... */
static void special(uint64_t r[4], int i, const uint64_t m[4])
{
	memset(r, 0, 4 * sizeof r[0]);
	switch (i % 12) {
	case 0: break;
	case 1: r[0] = 1; break;
	case 2: r[0] = 2; break;
	case 3: memcpy(r, m, 32); r[0] -= 1; break;                         /* m - 1 */
	case 4: memcpy(r, m, 32); r[0] -= 2; break;                         /* m - 2 */
	case 5: memcpy(r, m, 32); r[0] -= 0x100000000u; break;              /* m - 2^32 */
	case 6: r[3] = (uint64_t)1 << 63; break;
	case 7: r[3] = (uint64_t)1 << 32; break;
	case 8: r[0] = r[1] = r[2] = ~(uint64_t)0; r[3] = m[3] - 1; break;
	case 9: r[1] = ~(uint64_t)0; break;
	case 10: memcpy(r, m, 32); r[0] -= 0x1234567; break;
	default: rnd(r, 32); r[3] = m[3] - 1 - (r[3] & 0xff); break;
	}
	if (!limbs_lt(r, m)) /* keep below m */
		r[3] = m[3] - 1;
}

static void rand_below(uint64_t r[4], const uint64_t m[4])
{
	do {
		rnd(r, 32);
	} while (!limbs_lt(r, m));
}

static void test_constants(void **s)
{
	static const uint64_t one[4] = { 1, 0, 0, 0 };
	uint64_t t[4];
	apt g;
	(void)s;
	/* -n^-1 mod 2^64 and -p^-1 = 1 */
	assert_true(P256_N[0] * SC_N0INV == ~(uint64_t)0);
	assert_true(P256_P[0] * 1 == ~(uint64_t)0);
	/* R mod p is Montgomery 1; R^2 converts */
	fe_mul(t, one, FE_R2);
	assert_memory_equal(t, FE_ONE, 32);
	/* G is on the curve with this b */
	assert_int_equal(pt_decode(&g, P256_G_ENC), 1);
	/* generator(), order(), xoff() as BearSSL's */
	size_t l1, l2;
	const unsigned char *a = NK->generator(CURVE, &l1), *b = REF->generator(CURVE, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(a, b, l1);
	a = NK->order(CURVE, &l1);
	b = REF->order(CURVE, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(a, b, l1);
	assert_int_equal(NK->xoff(CURVE, &l1), REF->xoff(CURVE, &l2));
	assert_int_equal(l1, l2);
	assert_int_equal(NK->supported_curves, REF->supported_curves & ((uint32_t)1 << CURVE));
}

/* field: mul, sqr, add, sub, inverse against the reference, mod p */
static void test_field(void **s)
{
	uint64_t a[4], b[4], am[4], bm[4], r[4], e[4], t[4];
	unsigned char buf[32];
	(void)s;
	for (int i = 0; i < 600; i++) {
		if (i < 144) {
			special(a, i / 12, P256_P);
			special(b, i % 12, P256_P);
		} else {
			rand_below(a, P256_P);
			rand_below(b, P256_P);
		}
		limbs_to_be(buf, a);
		assert_int_equal(fe_from_be(am, buf), 1);
		limbs_to_be(buf, b);
		fe_from_be(bm, buf);
		/* round trip */
		fe_to_be(buf, am);
		limbs_from_be(t, buf);
		assert_memory_equal(t, a, 32);
		/* a * b */
		fe_mul(r, am, bm);
		fe_to_be(buf, r);
		limbs_from_be(t, buf);
		ref_mulmod(e, a, b, P256_P);
		assert_memory_equal(t, e, 32);
		/* a^2 */
		fe_sqr(r, am);
		fe_to_be(buf, r);
		limbs_from_be(t, buf);
		ref_mulmod(e, a, a, P256_P);
		assert_memory_equal(t, e, 32);
		/* a + b, and (a + b) - b = a */
		fe_add(r, am, bm);
		fe_to_be(buf, r);
		limbs_from_be(t, buf);
		ref_addmod(e, a, b, P256_P);
		assert_memory_equal(t, e, 32);
		fe_sub(r, r, bm);
		assert_memory_equal(r, am, 32);
		/* a * a^-1 = 1 */
		fe_inv(r, am);
		fe_mul(r, r, am);
		if (fe_iszero(am))
			assert_true(fe_iszero(r));
		else
			assert_memory_equal(r, FE_ONE, 32);
	}
	/* values >= p are flagged but reduced */
	memset(buf, 0xff, 32);
	assert_int_equal(fe_from_be(am, buf), 0);
	limbs_to_be(buf, P256_P);
	assert_int_equal(fe_from_be(am, buf), 0);
	assert_true(fe_iszero(am));
}

/* scalars: mul, add, inverse mod n; reduction of 2^256-1 */
static void test_scalar(void **s)
{
	uint64_t a[4], b[4], am[4], bm[4], r[4], e[4];
	(void)s;
	for (int i = 0; i < 600; i++) {
		if (i < 144) {
			special(a, i / 12, P256_N);
			special(b, i % 12, P256_N);
		} else {
			rand_below(a, P256_N);
			rand_below(b, P256_N);
		}
		sc_to_mont(am, a);
		sc_to_mont(bm, b);
		sc_mul(r, am, bm);
		sc_from_mont(r, r);
		ref_mulmod(e, a, b, P256_N);
		assert_memory_equal(r, e, 32);
		sc_add(r, am, bm);
		sc_from_mont(r, r);
		ref_addmod(e, a, b, P256_N);
		assert_memory_equal(r, e, 32);
		sc_inv(r, am);
		sc_mul(r, r, am);
		sc_from_mont(r, r);
		if ((a[0] | a[1] | a[2] | a[3]) == 0) {
			assert_true((r[0] | r[1] | r[2] | r[3]) == 0);
		} else {
			assert_true(r[0] == 1 && r[1] == 0 && r[2] == 0 && r[3] == 0);
		}
	}
	uint64_t all[4] = { ~(uint64_t)0, ~(uint64_t)0, ~(uint64_t)0, ~(uint64_t)0 };
	sc_reduce1(r, all);
	ref_mod(e, all, 4, P256_N);
	assert_memory_equal(r, e, 32);
}

/* ---- differential against br_ec_p256_m31 ---- */

static long mismatches;

static void cmp_mulgen(const unsigned char *x, size_t xlen)
{
	unsigned char r1[65], r2[65];
	memset(r1, 0xaa, sizeof r1);
	memset(r2, 0x55, sizeof r2);
	size_t a = REF->mulgen(r1, x, xlen, CURVE);
	size_t b = NK->mulgen(r2, x, xlen, CURVE);
	if (a != b || memcmp(r1, r2, a) != 0) {
		mismatches++;
		hexdump("mulgen x", x, xlen);
		hexdump("bearssl", r1, 65);
		hexdump("nk", r2, 65);
	}
}

static void cmp_mul(const unsigned char *P, size_t Plen, const unsigned char *x, size_t xlen)
{
	unsigned char r1[80], r2[80];
	memcpy(r1, P, Plen);
	memcpy(r2, P, Plen);
	uint32_t a = REF->mul(r1, Plen, x, xlen, CURVE);
	uint32_t b = NK->mul(r2, Plen, x, xlen, CURVE);
	if (a != b || (a == 1 && memcmp(r1, r2, Plen) != 0)) {
		mismatches++;
		printf("# mul: returns %u (bearssl) %u (nk)\n", a, b);
		hexdump("mul x", x, xlen);
		hexdump("point", P, Plen);
		hexdump("bearssl", r1, Plen);
		hexdump("nk", r2, Plen);
	}
}

static void cmp_muladd(const unsigned char *A, const unsigned char *B, size_t len,
	const unsigned char *x, size_t xlen, const unsigned char *y, size_t ylen)
{
	unsigned char r1[80], r2[80];
	memcpy(r1, A, len);
	memcpy(r2, A, len);
	uint32_t a = REF->muladd(r1, B, len, x, xlen, y, ylen, CURVE);
	uint32_t b = NK->muladd(r2, B, len, x, xlen, y, ylen, CURVE);
	if (a != b || (a == 1 && memcmp(r1, r2, len) != 0)) {
		mismatches++;
		printf("# muladd: returns %u (bearssl) %u (nk), B %s\n", a, b, B ? "given" : "NULL");
		hexdump("x", x, xlen);
		hexdump("y", y, ylen);
		hexdump("A", A, len);
		if (B)
			hexdump("B", B, len);
		hexdump("bearssl", r1, len);
		hexdump("nk", r2, len);
	}
}

/* a random point k*G (k random in [1, n-1]) */
static void rand_point(unsigned char P[65])
{
	uint64_t k[4];
	unsigned char kb[32];
	do {
		rand_below(k, P256_N);
	} while ((k[0] | k[1] | k[2] | k[3]) == 0);
	limbs_to_be(kb, k);
	REF->mulgen(P, kb, 32, CURVE);
}

static void rand_scalar(unsigned char x[32])
{
	uint64_t k[4];
	rand_below(k, P256_N);
	limbs_to_be(x, k);
}

static void test_mulgen_random(void **s)
{
	unsigned char x[32];
	(void)s;
	mismatches = 0;
	for (int i = 0; i < 1200; i++) {
		rand_scalar(x);
		if (i % 10 == 0)
			memset(x, 0, (size_t)(i / 10) % 32); /* short values */
		cmp_mulgen(x, 32);
	}
	/* any 32-byte value, n and above included */
	for (int i = 0; i < 200; i++) {
		rnd(x, 32);
		cmp_mulgen(x, 32);
	}
	assert_int_equal(mismatches, 0);
}

static void test_mul_random(void **s)
{
	unsigned char x[32], P[65];
	(void)s;
	mismatches = 0;
	for (int i = 0; i < 600; i++) {
		rand_point(P);
		rand_scalar(x);
		cmp_mul(P, 65, x, 32);
	}
	for (int i = 0; i < 100; i++) {
		rand_point(P);
		rnd(x, 32);
		cmp_mul(P, 65, x, 32);
	}
	assert_int_equal(mismatches, 0);
}

static void test_muladd_random(void **s)
{
	unsigned char x[32], y[32], A[65], B[65];
	(void)s;
	mismatches = 0;
	for (int i = 0; i < 400; i++) {
		rand_point(A);
		rand_point(B);
		rand_scalar(x);
		rand_scalar(y);
		cmp_muladd(A, (i & 1) ? B : NULL, 65, x, 32, y, 32);
	}
	assert_int_equal(mismatches, 0);
}

/* x*A and y*B equal or opposite: the exceptional cases of addition */
static void test_muladd_equal_opposite(void **s)
{
	unsigned char x[32], y[32], A[65], B[65], G[65];
	uint64_t a[4], b[4], kx[4], ky[4], t[4];
	(void)s;
	memcpy(G, P256_G_ENC, 65);
	mismatches = 0;
	for (int i = 0; i < 160; i++) {
		/* A = a*G, B = b*G (or G itself for B = NULL); y = x*a/b */
		do {
			rand_below(a, P256_N);
		} while ((a[0] | a[1] | a[2] | a[3]) == 0);
		do {
			rand_below(b, P256_N);
		} while ((b[0] | b[1] | b[2] | b[3]) == 0);
		if (i & 1) {
			b[0] = 1;
			b[1] = b[2] = b[3] = 0;
		}
		do {
			rand_below(kx, P256_N);
		} while ((kx[0] | kx[1] | kx[2] | kx[3]) == 0);
		limbs_to_be(x, a);
		REF->mulgen(A, x, 32, CURVE);
		limbs_to_be(y, b);
		REF->mulgen(B, y, 32, CURVE);
		/* ky = kx * a * b^-1 mod n */
		uint64_t am[4], bm[4], xm[4];
		sc_to_mont(am, a);
		sc_to_mont(bm, b);
		sc_to_mont(xm, kx);
		sc_inv(bm, bm);
		sc_mul(t, xm, am);
		sc_mul(t, t, bm);
		sc_from_mont(ky, t);
		if (i & 2) /* opposite: y = n - y */
			mod_sub(ky, (const uint64_t[4]){ 0, 0, 0, 0 }, ky, P256_N);
		limbs_to_be(x, kx);
		limbs_to_be(y, ky);
		cmp_muladd(A, (i & 1) ? NULL : B, 65, x, 32, y, 32);
		/* also with B = A itself, y = x and y = n - x */
		mod_sub(ky, (const uint64_t[4]){ 0, 0, 0, 0 }, kx, P256_N);
		limbs_to_be(y, (i & 2) ? ky : kx);
		cmp_muladd(A, A, 65, x, 32, y, 32);
	}
	/* G + G with B = NULL, G - G */
	unsigned char one[1] = { 1 }, nm1[32];
	memcpy(nm1, P256_N_ENC, 32);
	nm1[31] -= 1;
	cmp_muladd(G, NULL, 65, one, 1, one, 1);
	cmp_muladd(G, NULL, 65, one, 1, nm1, 32);
	cmp_muladd(G, G, 65, nm1, 32, one, 1);
	assert_int_equal(mismatches, 0);
}

/* Edge multipliers: n and the values where BearSSL's walk is exceptional */
#define NEDGE 26
static size_t edge_scalar(unsigned char *x, int i)
{
	static const unsigned char N[32] = {
		0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84,
		0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51
	};
	memset(x, 0, 80);
	switch (i) {
	case 0: return 0;                                    /* empty */
	case 1: return 1;                                    /* 0 */
	case 2: return 32;                                   /* 0, 32 bytes */
	case 3: memcpy(x, N, 32); return 32;                 /* n */
	case 4: memcpy(x, N, 32); x[31] -= 1; return 32;     /* n - 1 */
	case 5: memcpy(x, N, 32); x[31] += 1; return 32;     /* n + 1 */
	case 6: memcpy(x, N, 32); x[31] += 6; return 32;     /* n + 6 */
	case 7: memcpy(x, N, 32); x[31] += 30; return 32;    /* n + 30 */
	case 8: memcpy(x, N, 32); x[31] += 2; return 32;     /* n + 2 */
	case 9: memset(x, 0xff, 32); return 32;              /* 2^256 - 1 */
	case 10: x[0] = 1; return 1;                         /* 1 */
	case 11: x[0] = 2; return 1;
	case 12: x[32] = 1; return 33;                       /* 1, 33 bytes */
	case 13: x[0] = 1; return 33;                        /* 2^256 */
	case 14: memcpy(x + 1, N, 32); return 33;            /* n, 33 bytes */
	case 15: memcpy(x, N, 32); x[32] = 1; return 33;     /* 256n + 1 */
	case 16: memcpy(x, N, 32); return 40;                /* n * 2^64 */
	case 17: memcpy(x, N, 32); x[32] = 0x05; return 33;  /* 256n + 5 */
	case 18: memset(x, 0xff, 64); return 64;             /* 2^512 - 1 */
	case 19: memcpy(x + 32, N, 32); return 64;           /* n, 64 bytes */
	case 20: memcpy(x, N, 32); x[31] += 1; x[32] = 0x80; return 33;
	case 21: x[31] = 0x10; return 32;                    /* 16 */
	case 22: memcpy(x, N, 32); x[31] -= 2; return 32;    /* n - 2 */
	case 23: memcpy(x + 1, N, 31); return 31;            /* n >> 8... low 31 bytes */
	case 24: memcpy(x, N, 32); x[31] += 6; x[32] = 0x33; return 33; /* (n+6)*256 + 0x33 */
	default: memcpy(x, N, 32); x[31] += 30; x[32] = 0x7; return 33;
	}
}

static void test_edges(void **s)
{
	unsigned char x[80], y[80], A[80], B[80], G[80], bad[80];
	(void)s;
	mismatches = 0;
	memset(A, 0, sizeof A);
	memset(B, 0, sizeof B);
	memcpy(G, P256_G_ENC, 65);
	rand_point(A);
	rand_point(B);
	for (int i = 0; i < NEDGE; i++) {
		size_t xl = edge_scalar(x, i);
		cmp_mulgen(x, xl);
		cmp_mul(G, 65, x, xl);
		cmp_mul(A, 65, x, xl);
		for (int j = 0; j < NEDGE; j++) {
			size_t yl = edge_scalar(y, j);
			cmp_muladd(A, NULL, 65, x, xl, y, yl);
			cmp_muladd(A, B, 65, x, xl, y, yl);
			cmp_muladd(G, NULL, 65, x, xl, y, yl);
			cmp_muladd(A, A, 65, x, xl, y, yl);
		}
		/* random partner */
		rand_scalar(y);
		cmp_muladd(A, NULL, 65, x, xl, y, 32);
		cmp_muladd(A, NULL, 65, y, 32, x, xl);
		cmp_muladd(A, B, 65, y, 32, x, xl);
	}
	/* a few random long and short multipliers */
	for (int i = 0; i < 100; i++) {
		size_t l = (size_t)(i % 70);
		rnd(x, l);
		cmp_mulgen(x, l);
		cmp_mul(A, 65, x, l);
		cmp_muladd(A, NULL, 65, x, l, x, l);
		cmp_muladd(A, B, 65, x, l, y, 32);
	}
	/* invalid points: every one must give 0 from mul and muladd */
	rand_scalar(y);
	for (int i = 0; i < 9; i++) {
		size_t len = 65;
		memcpy(bad, A, 65);
		switch (i) {
		case 0: bad[0] = 0x02; break;
		case 1: bad[0] = 0x00; break;
		case 2: bad[64] ^= 1; break;                         /* not on the curve */
		case 3: memset(bad + 1, 0, 64); break;                /* "infinity" */
		case 4: limbs_to_be(bad + 1, P256_P); break;          /* x = p */
		case 5: limbs_to_be(bad + 33, P256_P); break;         /* y = p */
		case 6: len = 64; break;
		case 7: len = 66; bad[65] = 0; break;
		default: memset(bad + 1, 0xff, 64); break;
		}
		cmp_mul(bad, len, y, 32);
		cmp_muladd(bad, NULL, len, y, 32, y, 32);
		cmp_muladd(A, bad, len, y, 32, y, 32);
		cmp_muladd(bad, B, len, y, 32, y, 32);
		unsigned char r[80];
		memcpy(r, bad, len);
		assert_int_equal(NK->mul(r, len, y, 32, CURVE), 0);
		memcpy(r, bad, len);
		assert_int_equal(NK->muladd(r, NULL, len, y, 32, y, 32, CURVE), 0);
	}
	/* a point whose x = p + small would reduce to a valid x: refused */
	assert_int_equal(mismatches, 0);
}

/* The closed form for <= 32-byte multipliers agrees with the walk. */
static void test_walk(void **s)
{
	unsigned char x[80];
	uint64_t k1[4], k2[4];
	(void)s;
	for (int i = 0; i < NEDGE + 300; i++) {
		size_t xl;
		if (i < NEDGE) {
			xl = edge_scalar(x, i);
		} else {
			xl = (size_t)(i % 33);
			rnd(x, xl);
		}
		if (xl > 32)
			continue;
		for (unsigned w = 2; w <= 4; w += 2) {
			uint32_t a = bear_walk(k1, x, xl, w);
			uint32_t b = bear_scalar(k2, x, xl, w);
			assert_int_equal(a, b);
			assert_memory_equal(k1, k2, 32);
		}
	}
}

/* ---- ECDSA ---- */

/* One strict DER INTEGER (positive, minimal) at *p; 0 or -1. */
static int der_int(const unsigned char **p, const unsigned char *end)
{
	if (end - *p < 3 || (*p)[0] != 0x02)
		return -1;
	size_t l = (*p)[1];
	const unsigned char *v = *p + 2;
	if (l == 0 || l > 0x7f || (size_t)(end - v) < l)
		return -1;
	if (v[0] & 0x80)
		return -1; /* negative */
	if (l > 1 && v[0] == 0 && !(v[1] & 0x80))
		return -1; /* superfluous leading zero */
	*p = v + l;
	return 0;
}

/* ECDSA-Sig-Value in strict DER (X.690 §10), as TLS requires: BearSSL's
 * own decoder is more lenient (it takes BER lengths and extra zeros),
 * so the verifiers below only see signatures that pass this. */
static int der_strict(const unsigned char *sig, size_t len)
{
	const unsigned char *p = sig, *end = sig + len;
	if (len < 2 || sig[0] != 0x30 || sig[1] > 0x7f || (size_t)sig[1] != len - 2)
		return 0;
	p += 2;
	if (der_int(&p, end) != 0 || der_int(&p, end) != 0)
		return 0;
	return p == end;
}

static void test_wycheproof_verify(void **s)
{
	struct wp_json j;
	long valid = 0, invalid = 0, bad = 0, same = 0, total = 0;
	(void)s;
	assert_int_equal(wp_load(&j, VEC "ecdsa_secp256r1_sha256_test.json"), 0);
	int groups = wp_get(&j, 0, "testGroups");
	for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
		unsigned char *q;
		long ql = wp_hex(&j, wp_get(&j, wp_get(&j, g, "publicKey"), "uncompressed"), &q);
		assert_true(ql == 65);
		br_ec_public_key pk = { CURVE, q, (size_t)ql };
		int tests = wp_get(&j, g, "tests");
		for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
			unsigned char *msg, *sig, h[32];
			long ml = wp_hex(&j, wp_get(&j, t, "msg"), &msg);
			long sl = wp_hex(&j, wp_get(&j, t, "sig"), &sig);
			assert_true(ml >= 0 && sl >= 0);
			br_sha256_context hc;
			br_sha256_init(&hc);
			br_sha256_update(&hc, msg, (size_t)ml);
			br_sha256_out(&hc, h);
			uint32_t ok = br_ecdsa_i31_vrfy_asn1(NK, h, 32, &pk, sig, (size_t)sl);
			uint32_t ref = br_ecdsa_i31_vrfy_asn1(REF, h, 32, &pk, sig, (size_t)sl);
			/* BearSSL itself and nk_p256_ec must agree on every input */
			total++;
			same += ok == ref;
			if (ok != ref)
				printf("# tcId %ld: nk %u, bearssl %u\n",
					wp_int(&j, wp_get(&j, t, "tcId")), ok, ref);
			ok &= (uint32_t)der_strict(sig, (size_t)sl);
			int res = wp_get(&j, t, "result");
			long id = wp_int(&j, wp_get(&j, t, "tcId"));
			if (wp_is(&j, res, "valid")) {
				valid++;
				if (!ok) {
					bad++;
					printf("# tcId %ld: valid signature refused\n", id);
				}
			} else if (wp_is(&j, res, "invalid")) {
				invalid++;
				if (ok) {
					bad++;
					printf("# tcId %ld: invalid signature accepted\n", id);
				}
			}
			free(msg);
			free(sig);
		}
		free(q);
	}
	wp_free(&j);
	printf("# wycheproof ecdsa p256: %ld tests, %ld valid, %ld invalid, %ld wrong, %ld same as bearssl\n",
		total, valid, invalid, bad, same);
	assert_int_equal(total, 484);
	assert_int_equal(bad, 0);
	assert_int_equal(same, total);
}

static void make_key(br_ec_private_key *sk, unsigned char x[32], unsigned char Q[65],
	br_ec_public_key *pk)
{
	rand_scalar(x);
	if ((x[0] | x[31]) == 0)
		x[31] = 1;
	sk->curve = CURVE;
	sk->x = x;
	sk->xlen = 32;
	REF->mulgen(Q, x, 32, CURVE);
	pk->curve = CURVE;
	pk->q = Q;
	pk->qlen = 65;
}

static void test_sign_verify(void **s)
{
	unsigned char x[32], Q[65], h[48], sig[64], sig2[64];
	br_ec_private_key sk;
	br_ec_public_key pk;
	(void)s;
	for (int i = 0; i < 240; i++) {
		make_key(&sk, x, Q, &pk);
		rnd(h, sizeof h);
		const br_hash_class *hf = (i % 3 == 2) ? &br_sha384_vtable : &br_sha256_vtable;
		size_t hl = hf == &br_sha384_vtable ? 48 : 32;
		assert_int_equal(nk_p256_ecdsa_sign_raw(hf, h, &sk, sig), 64);
		/* BearSSL's own verifier and implementation */
		assert_int_equal(br_ecdsa_i31_vrfy_raw(REF, h, hl, &pk, sig, 64), 1);
		assert_int_equal(br_ecdsa_i31_vrfy_raw(NK, h, hl, &pk, sig, 64), 1);
		/* hedged: a second signature differs, and verifies too */
		assert_int_equal(nk_p256_ecdsa_sign_raw(hf, h, &sk, sig2), 64);
		assert_memory_not_equal(sig, sig2, 64);
		assert_int_equal(br_ecdsa_i31_vrfy_raw(REF, h, hl, &pk, sig2, 64), 1);
		/* a flipped bit in the leftmost 256 digest bits fails */
		h[i % 32] ^= 0x10;
		assert_int_equal(br_ecdsa_i31_vrfy_raw(REF, h, hl, &pk, sig, 64), 0);
		assert_int_equal(br_ecdsa_i31_vrfy_raw(NK, h, hl, &pk, sig, 64), 0);
	}
}

/* Without extra data the nonce is RFC 6979's: byte-equal to BearSSL's
 * deterministic signer (SHA-256 and SHA-384 digests). */
static void test_sign_deterministic(void **s)
{
	unsigned char x[32], Q[65], h[48], sig[64], ref[64];
	br_ec_private_key sk;
	br_ec_public_key pk;
	(void)s;
	for (int i = 0; i < 100; i++) {
		make_key(&sk, x, Q, &pk);
		rnd(h, sizeof h);
		const br_hash_class *hf = (i & 1) ? &br_sha384_vtable : &br_sha256_vtable;
		assert_int_equal(sign_raw_extra(hf, h, &sk, sig, NULL, 0), 64);
		assert_int_equal(br_ecdsa_i31_sign_raw(REF, hf, h, &sk, ref), 64);
		assert_memory_equal(sig, ref, 64);
		/* BearSSL's signer on top of nk_p256_ec gives the same */
		assert_int_equal(br_ecdsa_i31_sign_raw(NK, hf, h, &sk, ref), 64);
		assert_memory_equal(sig, ref, 64);
	}
	/* RFC 6979 A.2.5: P-256, SHA-256, message "sample" */
	static unsigned char kx[32] = {
		0xC9, 0xAF, 0xA9, 0xD8, 0x45, 0xBA, 0x75, 0x16, 0x6B, 0x5C, 0x21, 0x57,
		0x67, 0xB1, 0xD6, 0x93, 0x4E, 0x50, 0xC3, 0xDB, 0x36, 0xE8, 0x9B, 0x12,
		0x7B, 0x8A, 0x62, 0x2B, 0x12, 0x0F, 0x67, 0x21
	};
	static const unsigned char rs[64] = {
		0xEF, 0xD4, 0x8B, 0x2A, 0xAC, 0xB6, 0xA8, 0xFD, 0x11, 0x40, 0xDD, 0x9C,
		0xD4, 0x5E, 0x81, 0xD6, 0x9D, 0x2C, 0x87, 0x7B, 0x56, 0xAA, 0xF9, 0x91,
		0xC3, 0x4D, 0x0E, 0xA8, 0x4E, 0xAF, 0x37, 0x16,
		0xF7, 0xCB, 0x1C, 0x94, 0x2D, 0x65, 0x7C, 0x41, 0xD4, 0x36, 0xC7, 0xA1,
		0xB6, 0xE2, 0x9F, 0x65, 0xF3, 0xE9, 0x00, 0xDB, 0xB9, 0xAF, 0xF4, 0x06,
		0x4D, 0xC4, 0xAB, 0x2F, 0x84, 0x3A, 0xCD, 0xA8
	};
	br_sha256_context hc;
	br_sha256_init(&hc);
	br_sha256_update(&hc, "sample", 6);
	br_sha256_out(&hc, h);
	sk.curve = CURVE;
	sk.x = kx;
	sk.xlen = 32;
	assert_int_equal(sign_raw_extra(&br_sha256_vtable, h, &sk, sig, NULL, 0), 64);
	assert_memory_equal(sig, rs, 64);
}

static void test_sign_refusals(void **s)
{
	unsigned char x[40], h[32], sig[64];
	br_ec_private_key sk = { CURVE, x, 32 };
	(void)s;
	rnd(h, sizeof h);
	memset(x, 0, sizeof x);
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 0); /* 0 */
	memcpy(x, P256_N_ENC, 32);
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 0); /* n */
	memset(x, 0xff, 32);
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 0); /* > n */
	memcpy(x, P256_N_ENC, 32);
	x[31] -= 1;
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 64); /* n - 1 */
	/* longer encodings: leading zeros fine, anything else refused */
	memset(x, 0, 40);
	x[39] = 7;
	sk.xlen = 40;
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 64);
	x[0] = 1;
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 0);
	/* short key */
	sk.x = x + 39;
	sk.xlen = 1;
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 64);
	/* other curves */
	sk.curve = BR_EC_secp384r1;
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 0);
	sk.curve = BR_EC_curve25519;
	assert_int_equal(nk_p256_ecdsa_sign_raw(&br_sha256_vtable, h, &sk, sig), 0);
}

/* BearSSL's helpers on top of nk_p256_ec: public key derivation and ECDH
 * (a*(bG) = b*(aG)) as TLS uses them. */
static void test_bearssl_glue(void **s)
{
	unsigned char a[32], b[32], pa[BR_EC_KBUF_PUB_MAX_SIZE], pb[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char ref[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_public_key pka, pkb, pkr;
	(void)s;
	for (int i = 0; i < 50; i++) {
		rand_scalar(a);
		rand_scalar(b);
		a[31] |= 1;
		b[31] |= 1;
		br_ec_private_key ska = { CURVE, a, 32 }, skb = { CURVE, b, 32 };
		assert_int_equal(br_ec_compute_pub(NK, &pka, pa, &ska), 65);
		assert_int_equal(br_ec_compute_pub(REF, &pkr, ref, &ska), 65);
		assert_memory_equal(pa, ref, 65);
		assert_int_equal(br_ec_compute_pub(NK, &pkb, pb, &skb), 65);
		assert_int_equal(NK->mul(pa, 65, b, 32, CURVE), 1);
		assert_int_equal(NK->mul(pb, 65, a, 32, CURVE), 1);
		assert_memory_equal(pa + 1, pb + 1, 32); /* same shared x */
		assert_memory_equal(pa, pb, 65);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_bearssl_glue),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_scalar),
		cmocka_unit_test(test_mulgen_random),
		cmocka_unit_test(test_mul_random),
		cmocka_unit_test(test_muladd_random),
		cmocka_unit_test(test_muladd_equal_opposite),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_wycheproof_verify),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_sign_deterministic),
		cmocka_unit_test(test_sign_refusals),
	};
	return cmocka_run_group_tests_name("p256", tests, NULL, NULL);
}
