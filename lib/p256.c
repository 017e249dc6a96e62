/*
 * p256: the NIST curve P-256 on 64-bit limbs (see p256.h).
 *
 * Curve (SEC 2 §2.4.2, FIPS 186-4 D.1.2.3): y^2 = x^3 - 3x + b over GF(p),
 *   p = 2^256 - 2^224 + 2^192 + 2^96 - 1, prime group order n, cofactor 1.
 *
 * Layout of this file:
 *   1. Montgomery arithmetic on 4 x 64-bit limbs (shared by both moduli)
 *   2. the field GF(p)          fe_*  (values kept fully reduced, in [0, p))
 *   3. scalars mod n            sc_*
 *   4. points: projective (X:Y:Z), x = X/Z, y = Y/Z, the point at infinity
 *      is (0:1:0); complete formulas (Renes-Costello-Batina 2016, a = -3)
 *   5. multiplications: variable base (signed 5-bit window), fixed base G
 *      (table of j * 32^i * G), both constant-time; and, for muladd()
 *      only (public inputs), variable-time Jacobian arithmetic (wNAF)
 *   6. BearSSL compatibility (br_ec_impl with br_ec_p256_m31's behaviour)
 *   7. ECDSA signing with hedged RFC 6979 nonces
 *
 * On x86-64 the carry chains use _addcarry_u64/_subborrow_u64; elsewhere
 * (or with -DNK_P256_GENERIC, which the tests can use to check it) plain
 * unsigned __int128 arithmetic.
 *
 * "Constant-time" here: no branch, no memory index and no loop bound
 * depends on a secret (scalars, private keys, nonces, point coordinates of
 * mul()); table lookups read every entry and keep one with masks.
 */
#include <pthread.h>
#include <string.h>

#include "p256.h"
#include "ct.h"
#include "util.h"

typedef unsigned __int128 u128;

/* The limb arithmetic must inline into the point formulas to be fast. */
#if defined(__GNUC__) || defined(__clang__)
#define NK_P256_INLINE static inline __attribute__((always_inline))
#else
#define NK_P256_INLINE static inline
#endif

/* ---------------------------------------------------------------------
 * 1. Montgomery arithmetic, R = 2^256.
 * ------------------------------------------------------------------- */

/* 1 when x == 0, else 0. */
static inline uint64_t ct_iszero64(uint64_t x)
{
	return 1 ^ ((x | (0 - x)) >> 63);
}

/* r = a if mask is all ones, unchanged if mask is 0 (4 limbs). */
static inline void ct_cmov4(uint64_t r[4], const uint64_t a[4], uint64_t mask)
{
	for (int i = 0; i < 4; i++)
		r[i] ^= mask & (r[i] ^ a[i]);
}

/* Add / subtract with carry (adc / sbb on x86-64). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(NK_P256_GENERIC)
#include <x86intrin.h>
NK_P256_INLINE uint64_t adc64(uint64_t a, uint64_t b, unsigned char *c)
{
	unsigned long long r;
	*c = _addcarry_u64(*c, a, b, &r);
	return (uint64_t)r;
}
NK_P256_INLINE uint64_t sbb64(uint64_t a, uint64_t b, unsigned char *c)
{
	unsigned long long r;
	*c = _subborrow_u64(*c, a, b, &r);
	return (uint64_t)r;
}
#else
NK_P256_INLINE uint64_t adc64(uint64_t a, uint64_t b, unsigned char *c)
{
	u128 s = (u128)a + b + *c;
	*c = (unsigned char)(s >> 64);
	return (uint64_t)s;
}
NK_P256_INLINE uint64_t sbb64(uint64_t a, uint64_t b, unsigned char *c)
{
	u128 s = (u128)a - b - *c;
	*c = (unsigned char)((s >> 64) & 1);
	return (uint64_t)s;
}
#endif

/* Keep a mask opaque to the optimiser, so that selections stay
 * branch-free (and are not turned into slow vector shuffles). */
NK_P256_INLINE uint64_t ct_opaque(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
	__asm__("" : "+r"(x));
#endif
	return x;
}

/* r = (t0..t3) + top*2^256 reduced once: minus m when that is >= 0.
 * Requires the value < 2m. */
NK_P256_INLINE void mod_csub4(uint64_t r[4], uint64_t t0, uint64_t t1,
	uint64_t t2, uint64_t t3, uint64_t top, const uint64_t m[4])
{
	unsigned char b = 0;
	uint64_t d0 = sbb64(t0, m[0], &b);
	uint64_t d1 = sbb64(t1, m[1], &b);
	uint64_t d2 = sbb64(t2, m[2], &b);
	uint64_t d3 = sbb64(t3, m[3], &b);
	(void)sbb64(top, 0, &b);
	/* b = 1: the 5-limb subtraction went negative, keep t */
	uint64_t mk = ct_opaque(0 - (uint64_t)b);
	r[0] = d0 ^ (mk & (t0 ^ d0));
	r[1] = d1 ^ (mk & (t1 ^ d1));
	r[2] = d2 ^ (mk & (t2 ^ d2));
	r[3] = d3 ^ (mk & (t3 ^ d3));
}

NK_P256_INLINE void mod_csub(uint64_t r[4], const uint64_t t[4], uint64_t top,
	const uint64_t m[4])
{
	mod_csub4(r, t[0], t[1], t[2], t[3], top, m);
}

/* 64 x 64 -> 128 bits, as (hi, lo). */
NK_P256_INLINE uint64_t mul64(uint64_t a, uint64_t b, uint64_t *hi)
{
	u128 p = (u128)a * b;
	*hi = (uint64_t)(p >> 64);
	return (uint64_t)p;
}

/* t[0..7] = a * b: schoolbook rows, each added with two carry chains
 * (low halves, then high halves one limb up). Unrolled so that t stays
 * in registers. */
NK_P256_INLINE void mul512(uint64_t t[8], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t l0, l1, l2, l3, h0, h1, h2, h3;
	unsigned char c;

	l0 = mul64(a[0], b[0], &h0);
	l1 = mul64(a[0], b[1], &h1);
	l2 = mul64(a[0], b[2], &h2);
	l3 = mul64(a[0], b[3], &h3);
	t[0] = l0;
	c = 0;
	t[1] = adc64(l1, h0, &c);
	t[2] = adc64(l2, h1, &c);
	t[3] = adc64(l3, h2, &c);
	t[4] = adc64(h3, 0, &c);
#define NK_P256_MUL_ROW(i) do { \
		l0 = mul64(a[i], b[0], &h0); \
		l1 = mul64(a[i], b[1], &h1); \
		l2 = mul64(a[i], b[2], &h2); \
		l3 = mul64(a[i], b[3], &h3); \
		c = 0; \
		t[i] = adc64(t[i], l0, &c); \
		t[i + 1] = adc64(t[i + 1], l1, &c); \
		t[i + 2] = adc64(t[i + 2], l2, &c); \
		t[i + 3] = adc64(t[i + 3], l3, &c); \
		t[i + 4] = adc64(0, 0, &c); \
		c = 0; \
		t[i + 1] = adc64(t[i + 1], h0, &c); \
		t[i + 2] = adc64(t[i + 2], h1, &c); \
		t[i + 3] = adc64(t[i + 3], h2, &c); \
		t[i + 4] = adc64(t[i + 4], h3, &c); \
	} while (0)
	NK_P256_MUL_ROW(1);
	NK_P256_MUL_ROW(2);
	NK_P256_MUL_ROW(3);
#undef NK_P256_MUL_ROW
}

/* t[0..7] = a^2: the six cross products once, doubled, plus the squares. */
NK_P256_INLINE void sqr512(uint64_t t[8], const uint64_t a[4])
{
	uint64_t l0, l1, l2, h0, h1, h2, t1, t2, t3, t4, t5, t6, t7;
	unsigned char c;

	/* a0 * (a1, a2, a3) */
	l0 = mul64(a[0], a[1], &h0);
	l1 = mul64(a[0], a[2], &h1);
	l2 = mul64(a[0], a[3], &h2);
	t1 = l0;
	c = 0;
	t2 = adc64(l1, h0, &c);
	t3 = adc64(l2, h1, &c);
	t4 = adc64(h2, 0, &c);
	/* a1 * (a2, a3) */
	l0 = mul64(a[1], a[2], &h0);
	l1 = mul64(a[1], a[3], &h1);
	c = 0;
	t3 = adc64(t3, l0, &c);
	t4 = adc64(t4, l1, &c);
	t5 = adc64(0, 0, &c);
	c = 0;
	t4 = adc64(t4, h0, &c);
	t5 = adc64(t5, h1, &c);
	/* a2 * a3 */
	l0 = mul64(a[2], a[3], &h0);
	c = 0;
	t5 = adc64(t5, l0, &c);
	t6 = adc64(h0, 0, &c);
	/* double */
	t7 = t6 >> 63;
	t6 = (t6 << 1) | (t5 >> 63);
	t5 = (t5 << 1) | (t4 >> 63);
	t4 = (t4 << 1) | (t3 >> 63);
	t3 = (t3 << 1) | (t2 >> 63);
	t2 = (t2 << 1) | (t1 >> 63);
	t1 <<= 1;
	/* squares */
	t[0] = mul64(a[0], a[0], &h0);
	l1 = mul64(a[1], a[1], &h1);
	l2 = mul64(a[2], a[2], &h2);
	uint64_t l3, h3;
	l3 = mul64(a[3], a[3], &h3);
	c = 0;
	t[1] = adc64(t1, h0, &c);
	t[2] = adc64(t2, l1, &c);
	t[3] = adc64(t3, h1, &c);
	t[4] = adc64(t4, l2, &c);
	t[5] = adc64(t5, h2, &c);
	t[6] = adc64(t6, l3, &c);
	t[7] = adc64(t7, h3, &c);
}

/* Montgomery reduction: r = t / R mod m, for t < m*R; m0inv = -m^-1 mod 2^64. */
NK_P256_INLINE void redc(uint64_t r[4], uint64_t t[8], const uint64_t m[4],
	uint64_t m0inv)
{
	uint64_t top = 0, q;
	u128 c;
#define NK_P256_REDC_ROW(i) do { \
		q = t[i] * m0inv; \
		c = (u128)q * m[0] + t[i]; \
		c = (c >> 64) + (u128)q * m[1] + t[i + 1]; t[i + 1] = (uint64_t)c; \
		c = (c >> 64) + (u128)q * m[2] + t[i + 2]; t[i + 2] = (uint64_t)c; \
		c = (c >> 64) + (u128)q * m[3] + t[i + 3]; t[i + 3] = (uint64_t)c; \
		c = (c >> 64) + t[i + 4] + top; t[i + 4] = (uint64_t)c; \
		top = (uint64_t)(c >> 64); \
	} while (0)
	NK_P256_REDC_ROW(0);
	NK_P256_REDC_ROW(1);
	NK_P256_REDC_ROW(2);
	NK_P256_REDC_ROW(3);
#undef NK_P256_REDC_ROW
	mod_csub4(r, t[4], t[5], t[6], t[7], top, m);
}

/* r = a + b mod m (a, b < m). */
NK_P256_INLINE void mod_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
	const uint64_t m[4])
{
	unsigned char c = 0;
	uint64_t t0 = adc64(a[0], b[0], &c);
	uint64_t t1 = adc64(a[1], b[1], &c);
	uint64_t t2 = adc64(a[2], b[2], &c);
	uint64_t t3 = adc64(a[3], b[3], &c);
	mod_csub4(r, t0, t1, t2, t3, c, m);
}

/* r = a - b mod m (a, b < m). */
NK_P256_INLINE void mod_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
	const uint64_t m[4])
{
	unsigned char c = 0;
	uint64_t t0 = sbb64(a[0], b[0], &c);
	uint64_t t1 = sbb64(a[1], b[1], &c);
	uint64_t t2 = sbb64(a[2], b[2], &c);
	uint64_t t3 = sbb64(a[3], b[3], &c);
	uint64_t mk = ct_opaque(0 - (uint64_t)c);
	c = 0;
	r[0] = adc64(t0, m[0] & mk, &c);
	r[1] = adc64(t1, m[1] & mk, &c);
	r[2] = adc64(t2, m[2] & mk, &c);
	r[3] = adc64(t3, m[3] & mk, &c);
}

/* Big-endian 32 bytes <-> limbs. */
static void limbs_from_be(uint64_t r[4], const unsigned char *b)
{
	for (int i = 0; i < 4; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | b[(3 - i) * 8 + j];
		r[i] = w;
	}
}

static void limbs_to_be(unsigned char *b, const uint64_t a[4])
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			b[(3 - i) * 8 + j] = (unsigned char)(a[i] >> (56 - 8 * j));
}

/* 1 when a < m (constant-time), else 0. */
static uint64_t limbs_lt(const uint64_t a[4], const uint64_t m[4])
{
	uint64_t borrow = 0;
	for (int i = 0; i < 4; i++) {
		u128 x = (u128)a[i] - m[i] - borrow;
		borrow = (uint64_t)(x >> 64) & 1;
	}
	return borrow;
}

/* 1 when a == b (constant-time), else 0. */
static uint64_t limbs_eq(const uint64_t a[4], const uint64_t b[4])
{
	return ct_iszero64((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]));
}

/* ---------------------------------------------------------------------
 * 2. The field GF(p). -p^-1 mod 2^64 = 1 (p = -1 mod 2^64).
 * ------------------------------------------------------------------- */

static const uint64_t P256_P[4] = {
	0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000000, 0xffffffff00000001
};
/* R mod p (Montgomery 1), R^2 mod p, b*R mod p */
static const uint64_t FE_ONE[4] = {
	0x0000000000000001, 0xffffffff00000000, 0xffffffffffffffff, 0x00000000fffffffe
};
static const uint64_t FE_R2[4] = {
	0x0000000000000003, 0xfffffffbffffffff, 0xfffffffffffffffe, 0x00000004fffffffd
};
static const uint64_t FE_B[4] = {
	0xd89cdf6229c4bddf, 0xacf005cd78843090, 0xe5a220abf7212ed6, 0xdc30061d04874834
};

/*
 * Montgomery reduction mod p: with -p^-1 = 1 mod 2^64 the multiplier of
 * each round is q = t[i], and q*p = q*2^256 - q*2^224 + q*2^192 + q*2^96 - q
 * added at limb i clears limb i (carry q), adds q*2^32 to limb i+1 and
 * q*(2^64 - 2^32 + 1) to limbs i+3, i+4: one multiplication per round.
 */
NK_P256_INLINE void redc_p(uint64_t r[4], const uint64_t t[8])
{
	uint64_t t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3];
	uint64_t t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7], top = 0;
	uint64_t lo, hi;
	unsigned char c;

	/* round: q = a0; a1 += q << 32; a2 += q >> 32; (a3, a4) += q * p3 */
#define NK_P256_REDC_ROUND(a0, a1, a2, a3, a4) do { \
		lo = mul64(a0, 0xffffffff00000001, &hi); \
		c = 0; \
		a1 = adc64(a1, a0 << 32, &c); \
		a2 = adc64(a2, a0 >> 32, &c); \
		a3 = adc64(a3, lo, &c); \
		a4 = adc64(a4, hi, &c); \
		top = adc64(top, 0, &c); \
	} while (0)
	NK_P256_REDC_ROUND(t0, t1, t2, t3, t4);
	/* the carry out of limb i+4 joins limb i+5 in the next round */
	c = 0; t5 = adc64(t5, top, &c); top = c;
	NK_P256_REDC_ROUND(t1, t2, t3, t4, t5);
	c = 0; t6 = adc64(t6, top, &c); top = c;
	NK_P256_REDC_ROUND(t2, t3, t4, t5, t6);
	c = 0; t7 = adc64(t7, top, &c); top = c;
	NK_P256_REDC_ROUND(t3, t4, t5, t6, t7);
#undef NK_P256_REDC_ROUND
	mod_csub4(r, t4, t5, t6, t7, top, P256_P);
}

NK_P256_INLINE void fe_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t t[8];
	mul512(t, a, b);
	redc_p(r, t);
}

NK_P256_INLINE void fe_sqr(uint64_t r[4], const uint64_t a[4])
{
	uint64_t t[8];
	sqr512(t, a);
	redc_p(r, t);
}

NK_P256_INLINE void fe_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	mod_add(r, a, b, P256_P);
}

NK_P256_INLINE void fe_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	mod_sub(r, a, b, P256_P);
}

static inline uint64_t fe_iszero(const uint64_t a[4])
{
	return ct_iszero64(a[0] | a[1] | a[2] | a[3]);
}

/* r = a^(2^k) */
static void fe_sqr_n(uint64_t r[4], const uint64_t a[4], int k)
{
	fe_sqr(r, a);
	while (--k > 0)
		fe_sqr(r, r);
}

/* r = a^-1 = a^(p-2) (Fermat); 0 maps to 0. The exponent is public, the
 * chain fixed: p - 2 = 1^32 0^31 1 0^96 1^94 0 1 (bits, high to low). */
static void fe_inv(uint64_t r[4], const uint64_t a[4])
{
	uint64_t x2[4], x3[4], x6[4], x12[4], x15[4], x30[4], x32[4], t[4];

	fe_sqr(t, a);      fe_mul(x2, t, a);        /* 2^2 - 1 */
	fe_sqr(t, x2);     fe_mul(x3, t, a);        /* 2^3 - 1 */
	fe_sqr_n(t, x3, 3);  fe_mul(x6, t, x3);
	fe_sqr_n(t, x6, 6);  fe_mul(x12, t, x6);
	fe_sqr_n(t, x12, 3); fe_mul(x15, t, x3);
	fe_sqr_n(t, x15, 15); fe_mul(x30, t, x15);
	fe_sqr_n(t, x30, 2); fe_mul(x32, t, x2);    /* 2^32 - 1 */
	fe_sqr_n(t, x32, 32); fe_mul(t, t, a);      /* 1^32 0^31 1 */
	fe_sqr_n(t, t, 96);                         /* 0^96 */
	fe_sqr_n(t, t, 32); fe_mul(t, t, x32);      /* 1^32 */
	fe_sqr_n(t, t, 32); fe_mul(t, t, x32);      /* 1^32 */
	fe_sqr_n(t, t, 30); fe_mul(t, t, x30);      /* 1^30 */
	fe_sqr_n(t, t, 2);  fe_mul(r, t, a);        /* 01 */
}

/* Big-endian bytes -> Montgomery form. Returns 1 when the value was < p
 * (values >= p are reduced all the same). */
static uint64_t fe_from_be(uint64_t r[4], const unsigned char b[32])
{
	uint64_t a[4];
	limbs_from_be(a, b);
	uint64_t ok = limbs_lt(a, P256_P);
	fe_mul(r, a, FE_R2); /* a*R^2/R, fine for any a < 2^256 */
	return ok;
}

static void fe_to_be(unsigned char b[32], const uint64_t a[4])
{
	static const uint64_t one[4] = { 1, 0, 0, 0 };
	uint64_t t[4];
	fe_mul(t, a, one);
	limbs_to_be(b, t);
}

/* ---------------------------------------------------------------------
 * 3. Scalars mod n.
 * ------------------------------------------------------------------- */

static const uint64_t P256_N[4] = {
	0xf3b9cac2fc632551, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000
};
static const uint64_t SC_N0INV = 0xccd1c8aaee00bc4f; /* -n^-1 mod 2^64 */
static const uint64_t SC_R2[4] = {
	0x83244c95be79eea2, 0x4699799c49bd6fa6, 0x2845b2392b6bec59, 0x66e12d94f3d95620
};

NK_P256_INLINE void sc_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t t[8];
	mul512(t, a, b);
	redc(r, t, P256_N, SC_N0INV);
}

NK_P256_INLINE void sc_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	mod_add(r, a, b, P256_N);
}

/* a < 2^256 -> a mod n (one conditional subtraction: 2^256 < 2n). */
static void sc_reduce1(uint64_t r[4], const uint64_t a[4])
{
	mod_csub(r, a, 0, P256_N);
}

/* Plain -> Montgomery form (a < 2^256). */
static void sc_to_mont(uint64_t r[4], const uint64_t a[4])
{
	sc_mul(r, a, SC_R2);
}

static void sc_from_mont(uint64_t r[4], const uint64_t a[4])
{
	static const uint64_t one[4] = { 1, 0, 0, 0 };
	sc_mul(r, a, one);
}

/* r = a^-1 = a^(n-2) mod n, Montgomery form in and out (0 maps to 0).
 * Fixed 4-bit windows over the public exponent n - 2. */
static void sc_inv(uint64_t r[4], const uint64_t a[4])
{
	static const uint64_t e[4] = { /* n - 2 */
		0xf3b9cac2fc63254f, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000
	};
	uint64_t tab[16][4], t[4];

	memcpy(tab[1], a, sizeof tab[1]);
	for (int i = 2; i < 16; i++)
		sc_mul(tab[i], tab[i - 1], a);
	memcpy(t, tab[e[3] >> 60], sizeof t); /* top nibble is 0xf: never 0 */
	for (int i = 62; i >= 0; i--) {
		unsigned d = (unsigned)(e[i / 16] >> (4 * (i % 16))) & 15;
		for (int k = 0; k < 4; k++)
			sc_mul(t, t, t);
		if (d != 0) /* public exponent */
			sc_mul(t, t, tab[d]);
	}
	memcpy(r, t, sizeof t);
	nk_wipe(tab, sizeof tab);
	nk_wipe(t, sizeof t);
}

/* ---------------------------------------------------------------------
 * 4. Points. Projective (X:Y:Z) in Montgomery form; infinity = (0:1:0).
 * Formulas: Renes, Costello, Batina, "Complete addition formulas for
 * prime order elliptic curves" (EUROCRYPT 2016), Algorithms 4 (addition),
 * 5 (mixed addition, second point affine) and 6 (doubling) for a = -3.
 * They are complete: correct for every pair of inputs, infinity and
 * P + P and P + (-P) included (Alg. 5 needs its affine input finite).
 * ------------------------------------------------------------------- */

typedef struct {
	uint64_t x[4], y[4], z[4];
} pt;

typedef struct {
	uint64_t x[4], y[4];
} apt;

static void pt_set_inf(pt *r)
{
	memset(r, 0, sizeof *r);
	memcpy(r->y, FE_ONE, sizeof r->y);
}

/*
 * The common end of Alg. 4 and Alg. 5, from the product b*Z on: on entry
 * t0 = X1X2, t1 = Y1Y2, t2 = Z1Z2, t3 = X1Y2 + X2Y1, t4 = Y1Z2 + Y2Z1 and
 * y3 = X1Z2 + X2Z1 (Alg. 5 has Z2 = 1). Writes r last, so r may alias an
 * input point.
 */
static void pt_add_end(pt *r, uint64_t t0[4], uint64_t t1[4], uint64_t t2[4],
	const uint64_t t3[4], const uint64_t t4[4], uint64_t y3[4])
{
	uint64_t x3[4], z3[4];

	fe_mul(z3, FE_B, t2);
	fe_sub(x3, y3, z3);
	fe_add(z3, x3, x3);
	fe_add(x3, x3, z3);
	fe_sub(z3, t1, x3);
	fe_add(x3, t1, x3);
	fe_mul(y3, FE_B, y3);
	fe_add(t1, t2, t2);
	fe_add(t2, t1, t2);
	fe_sub(y3, y3, t2);
	fe_sub(y3, y3, t0);
	fe_add(t1, y3, y3);
	fe_add(y3, t1, y3);
	fe_add(t1, t0, t0);
	fe_add(t0, t1, t0);
	fe_sub(t0, t0, t2);
	fe_mul(t1, t4, y3);
	fe_mul(t2, t0, y3);
	fe_mul(y3, x3, z3);
	fe_add(y3, y3, t2);
	fe_mul(x3, t3, x3);
	fe_sub(x3, x3, t1);
	fe_mul(z3, t4, z3);
	fe_mul(t1, t3, t0);
	fe_add(z3, z3, t1);
	memcpy(r->x, x3, sizeof x3);
	memcpy(r->y, y3, sizeof r->y);
	memcpy(r->z, z3, sizeof z3);
}

/* Alg. 4: r = a + b (r may alias a or b). */
static void pt_add(pt *r, const pt *a, const pt *b)
{
	uint64_t t0[4], t1[4], t2[4], t3[4], t4[4], x3[4], y3[4];

	fe_mul(t0, a->x, b->x);
	fe_mul(t1, a->y, b->y);
	fe_mul(t2, a->z, b->z);
	fe_add(t3, a->x, a->y);
	fe_add(t4, b->x, b->y);
	fe_mul(t3, t3, t4);
	fe_add(t4, t0, t1);
	fe_sub(t3, t3, t4);
	fe_add(t4, a->y, a->z);
	fe_add(x3, b->y, b->z);
	fe_mul(t4, t4, x3);
	fe_add(x3, t1, t2);
	fe_sub(t4, t4, x3);
	fe_add(x3, a->x, a->z);
	fe_add(y3, b->x, b->z);
	fe_mul(x3, x3, y3);
	fe_add(y3, t0, t2);
	fe_sub(y3, x3, y3);
	pt_add_end(r, t0, t1, t2, t3, t4, y3);
}

/* Alg. 5: r = a + b with b affine and finite (r may alias a). */
static void pt_madd(pt *r, const pt *a, const apt *b)
{
	uint64_t t0[4], t1[4], t2[4], t3[4], t4[4], y3[4];

	fe_mul(t0, a->x, b->x);
	fe_mul(t1, a->y, b->y);
	fe_add(t3, b->x, b->y);
	fe_add(t4, a->x, a->y);
	fe_mul(t3, t3, t4);
	fe_add(t4, t0, t1);
	fe_sub(t3, t3, t4);
	fe_mul(t4, b->y, a->z);
	fe_add(t4, t4, a->y);
	fe_mul(y3, b->x, a->z);
	fe_add(y3, y3, a->x);
	memcpy(t2, a->z, sizeof t2);
	pt_add_end(r, t0, t1, t2, t3, t4, y3);
}

/* Alg. 6: r = 2a (r may alias a). */
static void pt_dbl(pt *r, const pt *a)
{
	uint64_t t0[4], t1[4], t2[4], t3[4], x3[4], y3[4], z3[4];

	fe_sqr(t0, a->x);
	fe_sqr(t1, a->y);
	fe_sqr(t2, a->z);
	fe_mul(t3, a->x, a->y);
	fe_add(t3, t3, t3);
	fe_mul(z3, a->x, a->z);
	fe_add(z3, z3, z3);
	fe_mul(y3, FE_B, t2);
	fe_sub(y3, y3, z3);
	fe_add(x3, y3, y3);
	fe_add(y3, x3, y3);
	fe_sub(x3, t1, y3);
	fe_add(y3, t1, y3);
	fe_mul(y3, x3, y3);
	fe_mul(x3, x3, t3);
	fe_add(t3, t2, t2);
	fe_add(t2, t2, t3);
	fe_mul(z3, FE_B, z3);
	fe_sub(z3, z3, t2);
	fe_sub(z3, z3, t0);
	fe_add(t3, z3, z3);
	fe_add(z3, z3, t3);
	fe_add(t3, t0, t0);
	fe_add(t0, t3, t0);
	fe_sub(t0, t0, t2);
	fe_mul(t0, t0, z3);
	fe_add(y3, y3, t0);
	fe_mul(t0, a->y, a->z);
	fe_add(t0, t0, t0);
	fe_mul(z3, t0, z3);
	fe_sub(x3, x3, z3);
	fe_mul(z3, t0, t1);
	fe_add(z3, z3, z3);
	fe_add(z3, z3, z3);
	memcpy(r->x, x3, sizeof x3);
	memcpy(r->y, y3, sizeof y3);
	memcpy(r->z, z3, sizeof z3);
}

/* Jacobian coordinates (X, Y, Z): x = X/Z^2, y = Y/Z^3, infinity Z = 0.
 * The doubling below is branch-free; mul_ct() uses it for its runs of
 * doublings, muladd() everywhere. */
typedef pt jpt; /* same three coordinates, Jacobian meaning */

static void jpt_set_inf(jpt *r)
{
	memcpy(r->x, FE_ONE, sizeof r->x);
	memcpy(r->y, FE_ONE, sizeof r->y);
	memset(r->z, 0, sizeof r->z);
}

/* r = 2p in Jacobian coordinates (r may alias p), dbl-2001-b for a = -3:
 * delta = Z^2, gamma = Y^2, beta = X gamma, alpha = 3 (X - delta)(X + delta),
 * X3 = alpha^2 - 8 beta, Z3 = (Y + Z)^2 - gamma - delta,
 * Y3 = alpha (4 beta - X3) - 8 gamma^2. Right for every point: it fails
 * only for Y = 0 (order 2, none on P-256), and Z = 0 gives Z3 = 0. */
static void jdbl(jpt *r, const jpt *p)
{
	uint64_t delta[4], gamma[4], beta[4], alpha[4], t[4], u[4];

	fe_sqr(delta, p->z);
	fe_sqr(gamma, p->y);
	fe_mul(beta, p->x, gamma);
	fe_sub(t, p->x, delta);
	fe_add(u, p->x, delta);
	fe_mul(alpha, t, u);
	fe_add(t, alpha, alpha);
	fe_add(alpha, t, alpha);
	fe_add(t, p->y, p->z);
	fe_sqr(t, t);
	fe_sub(t, t, gamma);
	fe_sub(r->z, t, delta);
	fe_add(beta, beta, beta);
	fe_add(beta, beta, beta);          /* 4 beta */
	fe_sqr(t, alpha);
	fe_add(u, beta, beta);
	fe_sub(r->x, t, u);
	fe_sub(t, beta, r->x);
	fe_mul(t, alpha, t);
	fe_sqr(u, gamma);
	fe_add(u, u, u);
	fe_add(u, u, u);
	fe_add(u, u, u);                   /* 8 gamma^2 */
	fe_sub(r->y, t, u);
}

/* r = a when mask is all ones. */
static inline void pt_cmov(pt *r, const pt *a, uint64_t mask)
{
	ct_cmov4(r->x, a->x, mask);
	ct_cmov4(r->y, a->y, mask);
	ct_cmov4(r->z, a->z, mask);
}

/* y = -y when mask is all ones. */
static inline void fe_cneg(uint64_t y[4], uint64_t mask)
{
	static const uint64_t zero[4] = { 0, 0, 0, 0 };
	uint64_t n[4];
	fe_sub(n, zero, y);
	ct_cmov4(y, n, mask);
}

/* Affine coordinates as big-endian bytes (X/Z, Y/Z); infinity (Z = 0)
 * gives x = y = 0, as BearSSL's encoding of it does. */
static void pt_to_affine_be(unsigned char xy[64], const pt *a)
{
	uint64_t zi[4], x[4], y[4];
	fe_inv(zi, a->z);
	fe_mul(x, a->x, zi);
	fe_mul(y, a->y, zi);
	fe_to_be(xy, x);
	fe_to_be(xy + 32, y);
}

/* Decode 04||X||Y (65 bytes) into an affine point in Montgomery form.
 * Returns 1 when valid (X, Y < p and on the curve), 0 otherwise; in
 * constant time, the (possibly garbage) coordinates are set either way. */
static uint64_t pt_decode(apt *r, const unsigned char *buf)
{
	static const uint64_t three[4] = { 3, 0, 0, 0 };
	uint64_t ok, t[4], u[4], m3[4];

	ok = ct_iszero64((uint64_t)(buf[0] ^ 0x04));
	ok &= fe_from_be(r->x, buf + 1);
	ok &= fe_from_be(r->y, buf + 33);
	/* y^2 = x^3 - 3x + b */
	fe_sqr(t, r->x);
	fe_mul(t, t, r->x);
	fe_mul(m3, three, FE_R2); /* 3 in Montgomery form */
	fe_mul(u, m3, r->x);
	fe_sub(t, t, u);
	fe_add(t, t, FE_B);
	fe_sqr(u, r->y);
	fe_sub(t, t, u);
	ok &= fe_iszero(t);
	return ok;
}

static void pt_from_affine(pt *r, const apt *a)
{
	memcpy(r->x, a->x, sizeof r->x);
	memcpy(r->y, a->y, sizeof r->y);
	memcpy(r->z, FE_ONE, sizeof r->z);
}

/* ---------------------------------------------------------------------
 * 5. Scalar multiplication.
 *
 * Scalars k < n < 2^256 are recoded into 52 signed 5-bit digits,
 * k = sum d_i 32^i with d_i in [-15, 16]: from the low end, each 5-bit
 * chunk plus the carry becomes d - 32 (carry 1) when above 16.
 * ------------------------------------------------------------------- */

#define NDIG 52

static void recode5(int8_t d[NDIG], const uint64_t k[4])
{
	uint32_t carry = 0;
	for (int i = 0; i < NDIG; i++) {
		int bit = 5 * i;
		uint64_t w = k[bit / 64] >> (bit % 64);
		if (bit % 64 > 59 && bit / 64 < 3)
			w |= k[bit / 64 + 1] << (64 - bit % 64);
		uint32_t v = (uint32_t)(w & 31) + carry;     /* 0..32 */
		carry = (v + 15) >> 5;                        /* v >= 17 */
		d[i] = (int8_t)((int32_t)v - (int32_t)(carry << 5));
	}
}

/* |d| and the sign mask of a digit, without branches. */
static inline uint32_t digit_abs(int8_t d, uint64_t *negmask)
{
	uint32_t v = (uint32_t)(int32_t)d;
	uint32_t s = v >> 31;
	*negmask = 0 - (uint64_t)s;
	return (v ^ (0 - s)) + s;
}

/* 1 when a == b, for a, b < 2^32. */
static inline uint64_t eq32(uint32_t a, uint32_t b)
{
	return ((uint64_t)(a ^ b) - 1) >> 63;
}

/* r = d * P from tab[j] = (j+1)P, j = 0..15, reading every entry. */
static void lookup_pt(pt *r, const pt tab[16], int8_t d)
{
	uint64_t neg;
	uint32_t a = digit_abs(d, &neg);
	pt_set_inf(r);
	for (uint32_t j = 0; j < 16; j++)
		pt_cmov(r, &tab[j], 0 - eq32(a, j + 1));
	fe_cneg(r->y, neg);
}

/* r = k * a, k < n, constant-time (any point, infinity included). */
static void mul_ct(pt *r, const pt *a, const uint64_t k[4])
{
	pt tab[16], q, t;
	uint64_t u[4];
	int8_t d[NDIG];

	tab[0] = *a;
	for (int j = 1; j < 16; j++)
		pt_add(&tab[j], &tab[j - 1], a);
	recode5(d, k);
	lookup_pt(&q, tab, d[NDIG - 1]);
	for (int i = NDIG - 2; i >= 0; i--) {
		/* The five doublings in Jacobian coordinates (3M + 5S each
		 * against 8M + 3S): (X:Y:Z) -> (XZ, YZ^2, Z) and back with
		 * (X, Y, Z) -> (XZ : Y : Z^3). A doubling never reaches
		 * infinity (no point of order 2 on P-256) and keeps Z = 0;
		 * infinity comes back as (0:0:0) and is set to (0:1:0). */
		fe_sqr(u, q.z);
		fe_mul(q.x, q.x, q.z);
		fe_mul(q.y, q.y, u);
		for (int s = 0; s < 5; s++)
			jdbl(&q, &q);
		fe_sqr(u, q.z);
		fe_mul(q.x, q.x, q.z);
		fe_mul(q.z, q.z, u);
		ct_cmov4(q.y, FE_ONE, 0 - fe_iszero(q.z));
		lookup_pt(&t, tab, d[i]);
		pt_add(&q, &q, &t);
	}
	*r = q;
	nk_wipe(tab, sizeof tab);
	nk_wipe(d, sizeof d);
	nk_wipe(&t, sizeof t);
	nk_wipe(&q, sizeof q);
}

/* The generator, affine, big-endian (SEC 2 §2.4.2). */
static const unsigned char P256_G_ENC[65] = {
	0x04,
	0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC, 0xE6, 0xE5,
	0x63, 0xA4, 0x40, 0xF2, 0x77, 0x03, 0x7D, 0x81, 0x2D, 0xEB, 0x33, 0xA0,
	0xF4, 0xA1, 0x39, 0x45, 0xD8, 0x98, 0xC2, 0x96,
	0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB, 0x4A,
	0x7C, 0x0F, 0x9E, 0x16, 0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31, 0x5E, 0xCE,
	0xCB, 0xB6, 0x40, 0x68, 0x37, 0xBF, 0x51, 0xF5
};

static const unsigned char P256_N_ENC[32] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84,
	0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51
};

/* Fixed-base table: gtab[i][j] = (j+1) * 32^i * G, affine (53,248 bytes). */
static apt gtab[NDIG][16];
static pthread_once_t gtab_once = PTHREAD_ONCE_INIT;

static void gtab_init(void)
{
	pt base, row[16];
	apt g;
	uint64_t acc[16][4], inv[4], t[4];

	pt_decode(&g, P256_G_ENC);
	pt_from_affine(&base, &g);
	for (int i = 0; i < NDIG; i++) {
		row[0] = base;
		for (int j = 1; j < 16; j++)
			pt_add(&row[j], &row[j - 1], &base);
		pt_dbl(&base, &row[15]); /* 32 * 32^i * G */
		/* batch inversion of the 16 Z (Montgomery's trick) */
		memcpy(acc[0], row[0].z, sizeof acc[0]);
		for (int j = 1; j < 16; j++)
			fe_mul(acc[j], acc[j - 1], row[j].z);
		fe_inv(inv, acc[15]);
		for (int j = 15; j >= 0; j--) {
			if (j > 0) {
				fe_mul(t, inv, acc[j - 1]);  /* 1/Z_j */
				fe_mul(inv, inv, row[j].z);  /* 1/(Z_0...Z_{j-1}) */
			} else {
				memcpy(t, inv, sizeof t);
			}
			fe_mul(gtab[i][j].x, row[j].x, t);
			fe_mul(gtab[i][j].y, row[j].y, t);
		}
	}
}

static void gtab_ready(void)
{
	pthread_once(&gtab_once, gtab_init);
}

/* r = k * G, k < n, constant-time: 52 mixed additions, no doubling. */
static void mulgen_ct(pt *r, const uint64_t k[4])
{
	int8_t d[NDIG];
	pt q, u;
	apt t;

	gtab_ready();
	recode5(d, k);
	pt_set_inf(&q);
	for (int i = 0; i < NDIG; i++) {
		uint64_t neg;
		uint32_t a = digit_abs(d[i], &neg);
		memset(&t, 0, sizeof t);
		for (uint32_t j = 0; j < 16; j++) {
			uint64_t m = 0 - eq32(a, j + 1);
			ct_cmov4(t.x, gtab[i][j].x, m);
			ct_cmov4(t.y, gtab[i][j].y, m);
		}
		fe_cneg(t.y, neg);
		pt_madd(&u, &q, &t);
		/* digit 0: t is not a point, keep q */
		pt_cmov(&q, &u, 0 - (1 ^ eq32(a, 0)));
	}
	*r = q;
	nk_wipe(d, sizeof d);
	nk_wipe(&t, sizeof t);
	nk_wipe(&u, sizeof u);
	nk_wipe(&q, sizeof q);
}

/*
 * Variable-time arithmetic, for muladd() only (public points and
 * multipliers: signature verification). Jacobian coordinates, x = X/Z^2,
 * y = Y/Z^3, infinity has Z = 0; the exceptional cases of the addition
 * (an input at infinity, P = Q, P = -Q) are found by branching, which is
 * fine on public data and cheaper than the complete formulas: a doubling
 * costs 3M + 5S (dbl-2001-b for a = -3) against 8M + 3S.
 */

/* The tail of jadd_vt: with U1, S1, H = U2 - U1, R = S2 - S1 and Z3:
 * X3 = R^2 - H^3 - 2 U1 H^2, Y3 = R (U1 H^2 - X3) - S1 H^3. */
static void jadd_tail(jpt *r, const uint64_t u1[4], const uint64_t s1[4],
	const uint64_t h[4], const uint64_t rr[4], const uint64_t z3[4])
{
	uint64_t hh[4], hhh[4], v[4], t[4];

	fe_sqr(hh, h);
	fe_mul(hhh, hh, h);
	fe_mul(v, u1, hh);
	fe_sqr(t, rr);
	fe_sub(t, t, hhh);
	fe_sub(t, t, v);
	fe_sub(r->x, t, v);
	fe_sub(t, v, r->x);
	fe_mul(t, rr, t);
	fe_mul(v, s1, hhh);
	fe_sub(r->y, t, v);
	memcpy(r->z, z3, sizeof r->z);
}

/* r = a + b, variable time (r may alias a or b). */
static void jadd_vt(jpt *r, const jpt *a, const jpt *b)
{
	uint64_t z1z1[4], z2z2[4], u1[4], u2[4], s1[4], s2[4], h[4], rr[4], z3[4];

	if (fe_iszero(a->z)) {
		*r = *b;
		return;
	}
	if (fe_iszero(b->z)) {
		*r = *a;
		return;
	}
	fe_sqr(z1z1, a->z);
	fe_sqr(z2z2, b->z);
	fe_mul(u1, a->x, z2z2);
	fe_mul(u2, b->x, z1z1);
	fe_mul(s1, a->y, b->z);
	fe_mul(s1, s1, z2z2);
	fe_mul(s2, b->y, a->z);
	fe_mul(s2, s2, z1z1);
	fe_sub(h, u2, u1);
	fe_sub(rr, s2, s1);
	if (fe_iszero(h)) {
		if (fe_iszero(rr))
			jdbl(r, a);        /* a = b */
		else
			jpt_set_inf(r);    /* a = -b */
		return;
	}
	fe_mul(z3, a->z, b->z);
	fe_mul(z3, z3, h);
	jadd_tail(r, u1, s1, h, rr, z3);
}

/* Affine big-endian coordinates of a Jacobian point (X/Z^2, Y/Z^3). */
static void jpt_to_affine_be(unsigned char xy[64], const jpt *a)
{
	uint64_t zi[4], z2[4], x[4], y[4];
	fe_inv(zi, a->z);
	fe_sqr(z2, zi);
	fe_mul(x, a->x, z2);
	fe_mul(z2, z2, zi);
	fe_mul(y, a->y, z2);
	fe_to_be(xy, x);
	fe_to_be(xy + 32, y);
}

/* The width-5 NAF of k: odd digits in [-15, 15], any two non-zero ones
 * at least 5 apart, naf[0] the lowest; every other entry is 0. Returns the
 * index of the top non-zero digit, -1 for k = 0. */
static int wnaf5(int8_t naf[258], const uint64_t k[4])
{
	uint64_t e[5] = { k[0], k[1], k[2], k[3], 0 };
	int len = 0, top = -1;

	memset(naf, 0, 258);
	while ((e[0] | e[1] | e[2] | e[3] | e[4]) != 0) {
		int dd = 0;
		if (e[0] & 1) {
			dd = (int)(e[0] & 31);
			if (dd > 16)
				dd -= 32;
			/* e -= dd */
			u128 c;
			if (dd > 0) {
				uint64_t b = (uint64_t)dd;
				for (int i = 0; i < 5; i++) {
					c = (u128)e[i] - b;
					e[i] = (uint64_t)c;
					b = (uint64_t)(c >> 64) & 1;
				}
			} else {
				uint64_t cy = (uint64_t)(-dd);
				for (int i = 0; i < 5; i++) {
					c = (u128)e[i] + cy;
					e[i] = (uint64_t)c;
					cy = (uint64_t)(c >> 64);
				}
			}
		}
		naf[len] = (int8_t)dd;
		if (dd != 0)
			top = len;
		len++;
		for (int i = 0; i < 4; i++)
			e[i] = (e[i] >> 1) | (e[i + 1] << 63);
		e[4] >>= 1;
	}
	return top;
}

/* tab[j] = (2j + 1) a, j = 0..7: the odd multiples a wNAF digit names */
static void odd_multiples(jpt tab[8], const apt *a)
{
	jpt a2;

	pt_from_affine(&tab[0], a);
	jdbl(&a2, &tab[0]);
	for (int j = 1; j < 8; j++)
		jadd_vt(&tab[j], &tab[j - 1], &a2);
}

/* r += d * (the point of tab), d a wNAF digit (0: nothing) */
static void add_digit_vt(jpt *r, const jpt tab[8], int d)
{
	jpt neg;

	if (d > 0) {
		jadd_vt(r, r, &tab[d >> 1]);
	} else if (d < 0) {
		neg = tab[(-d) >> 1];
		fe_cneg(neg.y, ~(uint64_t)0);
		jadd_vt(r, r, &neg);
	}
}

/* r = sum of the digits of na (and nb, unless tb is NULL) times their
 * tables' points, from the digit index top down, one doubling per digit */
static void naf_walk(jpt *r, int top, const jpt ta[8], const int8_t *na,
	const jpt *tb, const int8_t *nb)
{
	jpt_set_inf(r);
	for (int i = top; i >= 0; i--) {
		if (i != top)
			jdbl(r, r);
		add_digit_vt(r, ta, na[i]);
		if (tb != NULL)
			add_digit_vt(r, tb, nb[i]);
	}
}

/* r = k * a (a affine), variable time: width-5 NAF, odd multiples
 * a, 3a, ..., 15a. */
static void mul_vt(jpt *r, const apt *a, const uint64_t k[4])
{
	jpt tab[8];
	int8_t naf[258];
	int top = wnaf5(naf, k);

	odd_multiples(tab, a);
	naf_walk(r, top, tab, naf, NULL, NULL);
}

/* r = ka * a + kb * b, variable time: the two width-5 NAFs walked with one
 * chain of doublings (Shamir's trick). Costs about 15% more than one
 * mul_vt, and needs no fixed-base table: a verifying client (nts-ke) never
 * builds the 53 KiB generator table. */
static void muladd_vt(jpt *r, const apt *a, const uint64_t ka[4], const apt *b, const uint64_t kb[4])
{
	jpt ta[8], tb[8];
	int8_t na[258], nb[258];
	int top = wnaf5(na, ka), topb = wnaf5(nb, kb);

	if (topb > top)
		top = topb;
	odd_multiples(ta, a);
	odd_multiples(tb, b);
	naf_walk(r, top, ta, na, tb, nb);
}

/* ---------------------------------------------------------------------
 * 6. BearSSL compatibility.
 *
 * br_ec_p256_m31 (BearSSL 0.6) multiplies with incomplete Jacobian
 * formulas, walking the multiplier from its first byte: mul() in 2-bit
 * windows (Q = 4Q + b*P), mulgen() in 4-bit windows (Q = 16Q + b*G). Its
 * accumulator starts as all-zero "Z" = (0,0,0); the first non-zero window
 * replaces it. Later, when 4Q (16Q) equals b*P the addition yields
 * (0,0,0) again, and when it equals -b*P it yields the point at infinity
 * as (l^2, -l^3, 0) with l != 0 ("I"). Doublings keep Z and I as they
 * are; adding a point to Z gives Z, adding one to I gives (0,0,0) = Z
 * (x3 = r^2 - h^3 - 2u1h^2 and y3 vanish for u1 = l^2, s1 = l^3).
 * Neither state is reached for 0 < x < n; for larger x it depends on
 * every window of x, not on x mod n alone. A result in Z or I is
 * encoded 04||0^64. muladd() then adds P = x*A and Q = y*B with the same
 * incomplete addition and looks at (z3 = 0, r = 0):
 *   P = Z:            2Q if Q is finite, else 04||0^64; returns 1
 *   P = I:            returns 0 if Q is finite, else 04||0^64 and 1
 *   P finite, Q = Z:  04||0^64, returns 1
 *   P finite, Q = I:  returns 0
 *   both finite:      P + Q (2Q when P = Q); returns 0 when P = -Q.
 * (1 stands for "the decoded points were valid".) We compute the true
 * product k*P with k = x mod n and reproduce the state F (finite), Z or
 * I of BearSSL's walk beside it.
 * ------------------------------------------------------------------- */

enum { ST_F = 0, ST_Z = 1, ST_I = 2 };

/*
 * Walk x (big-endian, xlen bytes) in w-bit windows (w = 2 or 4) as
 * BearSSL does, modulo n: k = x mod n and the state at the end.
 * Constant-time in the value of x (time depends on xlen only).
 */
static uint32_t bear_walk(uint64_t k[4], const unsigned char *x, size_t xlen, unsigned w)
{
	uint64_t v[4] = { 0, 0, 0, 0 };
	uint64_t qz = 1, sz = 0, si = 0; /* qz: still the start value */

	for (size_t i = 0; i < xlen; i++) {
		for (int s = 8 - (int)w; s >= 0; s -= (int)w) {
			uint64_t b = (uint64_t)(x[i] >> s) & ((1u << w) - 1);
			uint64_t bnz = 1 ^ ct_iszero64(b);
			uint64_t bv[4] = { b, 0, 0, 0 }, nb[4];
			/* v = 2^w v mod n */
			for (unsigned j = 0; j < w; j++)
				mod_add(v, v, v, P256_N);
			/* exceptional additions, in state F; I + T gives Z */
			uint64_t live = bnz & (1 ^ qz) & (1 ^ sz) & (1 ^ si);
			uint64_t from_i = bnz & si;
			mod_sub(nb, P256_N, bv, P256_N); /* n - b (unused when b = 0) */
			sz |= (live & limbs_eq(v, bv)) | from_i;
			si = (si & (1 ^ from_i)) | (live & limbs_eq(v, nb));
			mod_add(v, v, bv, P256_N);
			qz &= 1 ^ bnz;
		}
	}
	memcpy(k, v, sizeof v);
	nk_wipe(v, sizeof v);
	sz |= qz;
	return (uint32_t)(sz * ST_Z + si * ST_I);
}

/*
 * The same for a multiplier of at most 32 bytes, in closed form: then
 * the prefix before the last window is below n/2^w, so only the last
 * addition can be exceptional: 4U + b with U = x >> 2 (16U + b with
 * U = x >> 4). 4U = -b mod n means x = n; 4U = b mod n means x = n + 2b
 * with b = x mod 4, i.e. x = n + 6 (b = 3); for w = 4: x = n, x = n + 30.
 */
static uint32_t bear_scalar(uint64_t k[4], const unsigned char *x, size_t xlen, unsigned w)
{
	unsigned char buf[32];
	uint64_t a[4], z, inf;
	static const uint64_t n6[4] = {
		0xf3b9cac2fc632557, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000
	};
	static const uint64_t n30[4] = {
		0xf3b9cac2fc63256f, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000
	};

	if (xlen > 32)
		return bear_walk(k, x, xlen, w);
	memset(buf, 0, sizeof buf);
	if (xlen > 0)
		memcpy(buf + 32 - xlen, x, xlen);
	limbs_from_be(a, buf);
	z = ct_iszero64(a[0] | a[1] | a[2] | a[3]);
	z |= limbs_eq(a, w == 2 ? n6 : n30);
	inf = limbs_eq(a, P256_N);
	sc_reduce1(k, a);
	nk_wipe(buf, sizeof buf);
	nk_wipe(a, sizeof a);
	return (uint32_t)(z * ST_Z + inf * ST_I);
}

static const unsigned char *api_generator(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof P256_G_ENC;
	return P256_G_ENC;
}

static const unsigned char *api_order(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof P256_N_ENC;
	return P256_N_ENC;
}

static size_t api_xoff(int curve, size_t *len)
{
	(void)curve;
	*len = 32;
	return 1;
}

static uint32_t api_mul(unsigned char *G, size_t Glen,
	const unsigned char *x, size_t xlen, int curve)
{
	apt a;
	pt p, r;
	uint64_t k[4];
	unsigned char xy[64];

	(void)curve;
	if (Glen != 65)
		return 0;
	uint64_t ok = pt_decode(&a, G);
	uint32_t st = bear_scalar(k, x, xlen, 2);
	pt_from_affine(&p, &a);
	mul_ct(&r, &p, k);
	pt_to_affine_be(xy, &r);
	/* states Z and I encode as zeros */
	uint64_t fin = 0 - (uint64_t)ct_iszero64(st);
	for (int i = 0; i < 64; i++)
		G[1 + i] = (unsigned char)(xy[i] & fin);
	G[0] = 0x04;
	nk_wipe(k, sizeof k);
	nk_wipe(xy, sizeof xy);
	nk_wipe(&r, sizeof r);
	return (uint32_t)ok;
}

static size_t api_mulgen(unsigned char *R,
	const unsigned char *x, size_t xlen, int curve)
{
	pt r;
	uint64_t k[4];
	unsigned char xy[64];

	(void)curve;
	uint32_t st = bear_scalar(k, x, xlen, 4);
	mulgen_ct(&r, k);
	pt_to_affine_be(xy, &r);
	uint64_t fin = 0 - (uint64_t)ct_iszero64(st);
	R[0] = 0x04;
	for (int i = 0; i < 64; i++)
		R[1 + i] = (unsigned char)(xy[i] & fin);
	nk_wipe(k, sizeof k);
	nk_wipe(xy, sizeof xy);
	nk_wipe(&r, sizeof r);
	return 65;
}

/* Variable time: for public inputs (signature verification). */
static uint32_t api_muladd(unsigned char *A, const unsigned char *B, size_t len,
	const unsigned char *x, size_t xlen,
	const unsigned char *y, size_t ylen, int curve)
{
	apt a, b;
	jpt q, r;
	uint64_t kx[4], ky[4];
	uint32_t sp, sq;

	(void)curve;
	if (len != 65)
		return 0;
	if (!pt_decode(&a, A))
		return 0;
	if (B != NULL && !pt_decode(&b, B))
		return 0;
	sp = bear_scalar(kx, x, xlen, 2);
	sq = bear_scalar(ky, y, ylen, B == NULL ? 4 : 2);

	if (sp == ST_I && sq == ST_F)
		return 0;
	if (sp == ST_F && sq == ST_I)
		return 0;
	if (B == NULL)
		pt_decode(&b, P256_G_ENC);
	if (sp == ST_F && sq == ST_F) {
		muladd_vt(&r, &a, kx, &b, ky);   /* P + Q, 2Q when P = Q */
		if (fe_iszero(r.z))
			return 0;    /* P = -Q */
	} else if (sp == ST_Z && sq == ST_F) {
		mul_vt(&q, &b, ky);
		jdbl(&r, &q);
	} else {
		memset(A + 1, 0, 64);
		A[0] = 0x04;
		return 1;
	}
	A[0] = 0x04;
	jpt_to_affine_be(A + 1, &r);
	return 1;
}

const br_ec_impl nk_p256_ec = {
	(uint32_t)1 << BR_EC_secp256r1,
	&api_generator,
	&api_order,
	&api_xoff,
	&api_mul,
	&api_mulgen,
	&api_muladd
};

/* ---------------------------------------------------------------------
 * 7. ECDSA signing (FIPS 186-4 §6.4; SEC 1 §4.1.3), nonce per RFC 6979
 * §3.2 with the §3.6 additional data k' ("extra", may be empty).
 * ------------------------------------------------------------------- */

/* bits2int (RFC 6979 §2.3.2) for qlen = 256: the leftmost 256 bits of a
 * digest of hlen bytes (a shorter digest is taken whole), as limbs. */
static void bits2int(uint64_t r[4], const unsigned char *h, size_t hlen)
{
	unsigned char buf[32];
	memset(buf, 0, sizeof buf);
	if (hlen >= 32)
		memcpy(buf, h, 32);
	else
		memcpy(buf + 32 - hlen, h, hlen);
	limbs_from_be(r, buf);
}

static size_t sign_raw_extra(const br_hash_class *hf, const void *hash_value,
	const br_ec_private_key *sk, void *sig, const void *extra, size_t extra_len)
{
	size_t hlen;
	uint64_t x[4], h[4], k[4], t[4], rr[4], s[4], xm[4], retry;
	unsigned char seed[32 + 32 + 32], kb[32], xy[64];
	br_hmac_drbg_context drbg;
	pt R;
	size_t ret = 0;

	if (sk == NULL || sk->curve != BR_EC_secp256r1 || extra_len > 32)
		return 0;
	hlen = (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;

	/* the private key: big-endian, any length, value in [1, n-1] */
	{
		const unsigned char *kx = sk->x;
		size_t kl = sk->xlen;
		unsigned char lead = 0;
		while (kl > 32) {
			lead |= *kx++;
			kl--;
		}
		memset(kb, 0, sizeof kb);
		if (kl > 0)
			memcpy(kb + 32 - kl, kx, kl);
		limbs_from_be(x, kb);
		uint64_t bad = 1 ^ ct_iszero64(lead);
		bad |= ct_iszero64(x[0] | x[1] | x[2] | x[3]);
		bad |= 1 ^ limbs_lt(x, P256_N);
		/* deliberate public branch: a key out of range is refused */
		NK_CT_PUBLIC(&bad, sizeof bad);
		if (bad)
			goto out;
	}

	/* h = bits2int(H(m)) mod n; seed = int2octets(x) || bits2octets(h) || k' */
	bits2int(t, hash_value, hlen);
	sc_reduce1(h, t);
	memcpy(seed, kb, 32);
	limbs_to_be(seed + 32, h);
	if (extra_len > 0)
		memcpy(seed + 64, extra, extra_len);
	/* §3.2 b.-g.: K = 0, V = 1, two HMAC-DRBG update rounds with the seed */
	br_hmac_drbg_init(&drbg, hf, seed, 64 + extra_len);

	sc_to_mont(xm, x);
	sc_to_mont(h, h);
	for (;;) {
		/* §3.2 h.1-h.2: T = leftmost 256 bits of V || V ..., k = bits2int(T);
		 * generate() also steps K, V as h.3 says for the next round */
		br_hmac_drbg_generate(&drbg, kb, 32);
		limbs_from_be(k, kb);
		retry = ct_iszero64(k[0] | k[1] | k[2] | k[3]) | (1 ^ limbs_lt(k, P256_N));
		/* deliberate public branch: the nonce retry; rejection leaks
		 * nothing about the k kept */
		NK_CT_PUBLIC(&retry, sizeof retry);
		if (retry)
			continue;
		/* R = kG, r = x(R) mod n */
		mulgen_ct(&R, k);
		pt_to_affine_be(xy, &R);
		limbs_from_be(t, xy);
		sc_reduce1(rr, t);
		/* s = k^-1 (h + r x) mod n, in Montgomery form */
		sc_to_mont(t, rr);
		sc_mul(t, t, xm);
		sc_add(t, t, h);
		sc_to_mont(k, k);
		sc_inv(s, k);
		sc_mul(s, s, t);
		sc_from_mont(s, s);
		retry = ct_iszero64(rr[0] | rr[1] | rr[2] | rr[3])
			| ct_iszero64(s[0] | s[1] | s[2] | s[3]);
		/* deliberate public branch: FIPS 186-4 §6.4, r or s zero: a new k */
		NK_CT_PUBLIC(&retry, sizeof retry);
		if (retry)
			continue;
		break;
	}
	limbs_to_be((unsigned char *)sig, rr);
	limbs_to_be((unsigned char *)sig + 32, s);
	/* the signature is the public output */
	NK_CT_PUBLIC(sig, 64);
	ret = 64;
out:
	nk_wipe(x, sizeof x);
	nk_wipe(xm, sizeof xm);
	nk_wipe(h, sizeof h);
	nk_wipe(k, sizeof k);
	nk_wipe(t, sizeof t);
	nk_wipe(s, sizeof s);
	nk_wipe(seed, sizeof seed);
	nk_wipe(kb, sizeof kb);
	nk_wipe(xy, sizeof xy);
	nk_wipe(&R, sizeof R);
	nk_wipe(&drbg, sizeof drbg);
	return ret;
}

size_t nk_p256_ecdsa_sign_raw(const br_hash_class *hf, const void *hash_value,
	const br_ec_private_key *sk, void *sig)
{
	unsigned char extra[32];
	size_t r;

	if (nk_random(extra, sizeof extra) != 0)
		return 0;
	r = sign_raw_extra(hf, hash_value, sk, sig, extra, sizeof extra);
	nk_wipe(extra, sizeof extra);
	return r;
}
