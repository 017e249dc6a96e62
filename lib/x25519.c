/*
 * x25519: X25519 (RFC 7748 §5) in constant time. See x25519.h for the API.
 *
 * Field GF(p), p = 2^255 - 19 (RFC 7748 §4.1). An element is five 64-bit
 * limbs f[0..4] holding f[0] + f[1]*2^51 + f[2]*2^102 + f[3]*2^153 +
 * f[4]*2^204, "radix 2^51". Limbs may exceed 51 bits; each function states
 * the limb bounds it accepts and produces:
 *   - fe_mul, fe_sq, fe_mul_small, fe_carry take limbs < 2^54 and give
 *     "tight" limbs < 2^51 + 2^21;
 *   - fe_add takes limbs < 2^53 (e.g. tight) and gives limbs < 2^54;
 *   - fe_sub(f, g) takes f < 2^53 and g tight and gives < 2^54 (it adds
 *     2p, whose limbs are 2^52 - 38 and 2^52 - 2, before subtracting g,
 *     so no limb goes negative);
 *   - fe_frombytes gives limbs < 2^51; fe_tobytes takes tight limbs and
 *     writes the unique canonical encoding (value reduced to [0, p)).
 * So a mul/sq input is a tight value or one add/sub of tight values (in
 * ge_dbl, one add of such a sub result and a sum of two tight values:
 * < 2^52.6 + 2^52.1 < 2^54). A product of two limbs < 2^54, one of them
 * times 19 (the wrap-around 2^255 = 19 mod p), is < 2^112.3; five such
 * terms are < 2^114.6, so each column fits an unsigned __int128 and each
 * carry out of a column (column >> 51) fits 64 bits.
 *
 * No branch and no memory index depends on secret data: conditional swaps
 * and table reads use masks (RFC 7748 §5, cswap).
 */
#include <string.h>

#include "util.h"
#include "x25519.h"
#include "ct.h"

__extension__ typedef unsigned __int128 u128;
typedef uint64_t fe[5];

#define MASK51 (((uint64_t)1 << 51) - 1)

/* ---------------------------------------------------------------------- */
/* Field arithmetic mod 2^255 - 19 */

static void fe_0(fe h)
{
	h[0] = h[1] = h[2] = h[3] = h[4] = 0;
}

static void fe_1(fe h)
{
	h[0] = 1;
	h[1] = h[2] = h[3] = h[4] = 0;
}

static void fe_copy(fe h, const fe f)
{
	for (int i = 0; i < 5; i++)
		h[i] = f[i];
}

/* h = f + g. Limbs < 2^53 in, < 2^54 out. */
static inline void fe_add(fe h, const fe f, const fe g)
{
	for (int i = 0; i < 5; i++)
		h[i] = f[i] + g[i];
}

/* h = f - g + 2p. f < 2^53, g tight (< 2^52 - 38) in; < 2^54 out. */
static inline void fe_sub(fe h, const fe f, const fe g)
{
	h[0] = f[0] + (((uint64_t)1 << 52) - 38) - g[0];
	for (int i = 1; i < 5; i++)
		h[i] = f[i] + (((uint64_t)1 << 52) - 2) - g[i];
}

/*
 * The carry chain shared by fe_mul, fe_sq, fe_mul_small and fe_carry:
 * columns r[0..4] (each < 2^114.7) are propagated so that limbs 0, 2, 3, 4
 * end < 2^51 and limb 1 < 2^51 + 2^21. Each carry is < 2^64. The carry out
 * of r[4] is multiplied by 19 in 128 bits and folded into limb 0, whose own
 * carry (< 2^18) goes into limb 1.
 */
static inline void fe_reduce128(fe h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
	u128 t;

	r1 += (uint64_t)(r0 >> 51);
	r2 += (uint64_t)(r1 >> 51);
	r3 += (uint64_t)(r2 >> 51);
	r4 += (uint64_t)(r3 >> 51);
	t = (u128)((uint64_t)r0 & MASK51) + (u128)(uint64_t)(r4 >> 51) * 19;
	h[0] = (uint64_t)t & MASK51;
	h[1] = ((uint64_t)r1 & MASK51) + (uint64_t)(t >> 51);
	h[2] = (uint64_t)r2 & MASK51;
	h[3] = (uint64_t)r3 & MASK51;
	h[4] = (uint64_t)r4 & MASK51;
}

/* h = f * g. Limbs < 2^54 in, tight out. h may alias f or g. */
static inline void fe_mul(fe h, const fe f, const fe g)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
	uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
	u128 r0, r1, r2, r3, r4;

	/* 19 * g_i < 2^58.3: fits 64 bits. */
	r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
	r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
	r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
	r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
	r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
	fe_reduce128(h, r0, r1, r2, r3, r4);
}

/* h = f^2. Limbs < 2^54 in, tight out. h may alias f. */
static inline void fe_sq(fe h, const fe f)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1;
	uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
	u128 r0, r1, r2, r3, r4;

	/* Each column is the same sum as in fe_mul with g = f (the doubled
	 * terms pair up), so the same 2^114.6 bound holds. */
	r0 = (u128)f0 * f0 + (u128)(2 * f1) * f4_19 + (u128)(2 * f2) * f3_19;
	r1 = (u128)f0_2 * f1 + (u128)(2 * f2) * f4_19 + (u128)f3 * f3_19;
	r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)(2 * f3) * f4_19;
	r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
	r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
	fe_reduce128(h, r0, r1, r2, r3, r4);
}

/* h = f^(2^n), n >= 1. */
static void fe_sqn(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* h = f * c for a small constant c < 2^17. Limbs < 2^54 in, tight out. */
static inline void fe_mul_small(fe h, const fe f, uint32_t c)
{
	fe_reduce128(h, (u128)f[0] * c, (u128)f[1] * c, (u128)f[2] * c,
		(u128)f[3] * c, (u128)f[4] * c);
}

/* h = f, limbs brought to tight form. Limbs < 2^54 in. */
static inline void fe_carry(fe h, const fe f)
{
	fe_reduce128(h, f[0], f[1], f[2], f[3], f[4]);
}

/* If b == 1, swap f and g; b == 0 leaves them. Constant time (mask). */
static inline void fe_cswap(fe f, fe g, uint64_t b)
{
	uint64_t m = 0 - b, x;

	for (int i = 0; i < 5; i++) {
		x = m & (f[i] ^ g[i]);
		f[i] ^= x;
		g[i] ^= x;
	}
}

/* If b == 1, h = f; b == 0 leaves h. Constant time (mask). */
static inline void fe_cmov(fe h, const fe f, uint64_t b)
{
	uint64_t m = 0 - b;

	for (int i = 0; i < 5; i++)
		h[i] ^= m & (h[i] ^ f[i]);
}

/*
 * decodeUCoordinate (RFC 7748 §5): little-endian, the top bit (bit 255)
 * masked. Values p..2^255-1 are kept as they are: every function here works
 * on any representative, so they behave as their value mod p.
 */
static void fe_frombytes(fe h, const uint8_t s[32])
{
	uint64_t w[4];

	for (int i = 0; i < 4; i++) {
		w[i] = 0;
		for (int j = 7; j >= 0; j--)
			w[i] = (w[i] << 8) | s[8 * i + j];
	}
	h[0] = w[0] & MASK51;
	h[1] = ((w[0] >> 51) | (w[1] << 13)) & MASK51;
	h[2] = ((w[1] >> 38) | (w[2] << 26)) & MASK51;
	h[3] = ((w[2] >> 25) | (w[3] << 39)) & MASK51;
	h[4] = (w[3] >> 12) & MASK51;   /* bit 255 dropped here */
}

/*
 * encodeUCoordinate (RFC 7748 §5): the value reduced to [0, p), written
 * little-endian in 32 bytes. Tight limbs (< 2^52) in.
 */
static void fe_tobytes(uint8_t s[32], const fe f)
{
	uint64_t h0 = f[0], h1 = f[1], h2 = f[2], h3 = f[3], h4 = f[4], q;
	uint64_t w[4];

	/* Two carry passes. After the first, limbs 1..4 are < 2^51 and limb
	 * 0 < 2^51 + 38 (the carry out of limb 4 is at most 2). In the
	 * second, a carry can leave limb 4 only if limb 0 carried, so limb 0
	 * is then < 38 and + 19 keeps it < 2^51. Result: all limbs < 2^51,
	 * the value is < 2^255 < 2p. */
	for (int pass = 0; pass < 2; pass++) {
		h1 += h0 >> 51; h0 &= MASK51;
		h2 += h1 >> 51; h1 &= MASK51;
		h3 += h2 >> 51; h2 &= MASK51;
		h4 += h3 >> 51; h3 &= MASK51;
		h0 += 19 * (h4 >> 51); h4 &= MASK51;
	}
	/* q = 1 exactly when value >= p, i.e. value + 19 >= 2^255. */
	q = (h0 + 19) >> 51;
	q = (h1 + q) >> 51;
	q = (h2 + q) >> 51;
	q = (h3 + q) >> 51;
	q = (h4 + q) >> 51;
	/* value - q*p = value + 19q - q*2^255: add 19q, drop bit 255. */
	h0 += 19 * q;
	h1 += h0 >> 51; h0 &= MASK51;
	h2 += h1 >> 51; h1 &= MASK51;
	h3 += h2 >> 51; h2 &= MASK51;
	h4 += h3 >> 51; h3 &= MASK51;
	h4 &= MASK51;

	w[0] = h0 | (h1 << 51);
	w[1] = (h1 >> 13) | (h2 << 38);
	w[2] = (h2 >> 26) | (h3 << 25);
	w[3] = (h3 >> 39) | (h4 << 12);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

/* h = z^(p-2) = z^(2^255 - 21) = 1/z (Fermat; 1/0 gives 0, as RFC 7748 §5
 * expects). Fixed addition chain: 254 squarings, 11 multiplications. */
static void fe_invert(fe h, const fe z)
{
	fe z2, z9, z11, a, b, c;

	fe_sq(z2, z);                 /* 2 */
	fe_sqn(a, z2, 2);             /* 8 */
	fe_mul(z9, a, z);             /* 9 */
	fe_mul(z11, z9, z2);          /* 11 */
	fe_sq(a, z11);                /* 22 */
	fe_mul(a, a, z9);             /* 2^5 - 1 */
	fe_sqn(b, a, 5);
	fe_mul(a, b, a);              /* 2^10 - 1 */
	fe_sqn(b, a, 10);
	fe_mul(b, b, a);              /* 2^20 - 1 */
	fe_sqn(c, b, 20);
	fe_mul(c, c, b);              /* 2^40 - 1 */
	fe_sqn(c, c, 10);
	fe_mul(b, c, a);              /* 2^50 - 1 */
	fe_sqn(c, b, 50);
	fe_mul(c, c, b);              /* 2^100 - 1 */
	fe_sqn(a, c, 100);
	fe_mul(a, a, c);              /* 2^200 - 1 */
	fe_sqn(a, a, 50);
	fe_mul(a, a, b);              /* 2^250 - 1 */
	fe_sqn(a, a, 5);              /* 2^255 - 32 */
	fe_mul(h, a, z11);            /* 2^255 - 21 */

	nk_wipe(z2, sizeof z2);
	nk_wipe(z9, sizeof z9);
	nk_wipe(z11, sizeof z11);
	nk_wipe(a, sizeof a);
	nk_wipe(b, sizeof b);
	nk_wipe(c, sizeof c);
}

/* 1 when the 32 bytes are all zero, else 0; constant time. */
static int is_zero32(const uint8_t s[32])
{
	uint32_t acc = 0;

	for (int i = 0; i < 32; i++)
		acc |= s[i];
	return (int)((acc - 1) >> 31);   /* acc in 0..255: borrow only from 0 */
}

/* decodeScalar25519 (RFC 7748 §5): clear bits 0, 1, 2 and 255, set 254. */
static void clamp(uint8_t k[32], const uint8_t scalar[32])
{
	memcpy(k, scalar, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

/* ---------------------------------------------------------------------- */
/* X25519: the Montgomery ladder of RFC 7748 §5 */

int nk_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t u[32])
{
	struct {
		uint8_t k[32];
		fe x1, x2, z2, x3, z3;
		fe a, aa, b, bb, e, c, d, da, cb;
		uint64_t swap, kt;
	} s;
	int r;

	clamp(s.k, scalar);
	fe_frombytes(s.x1, u);
	fe_1(s.x2);
	fe_0(s.z2);
	fe_copy(s.x3, s.x1);
	fe_1(s.z3);
	s.swap = 0;

	for (int t = 254; t >= 0; t--) {
		s.kt = (s.k[t >> 3] >> (t & 7)) & 1;
		s.swap ^= s.kt;
		fe_cswap(s.x2, s.x3, s.swap);
		fe_cswap(s.z2, s.z3, s.swap);
		s.swap = s.kt;

		fe_add(s.a, s.x2, s.z2);          /* A = x_2 + z_2 */
		fe_sq(s.aa, s.a);                 /* AA = A^2 */
		fe_sub(s.b, s.x2, s.z2);          /* B = x_2 - z_2 */
		fe_sq(s.bb, s.b);                 /* BB = B^2 */
		fe_sub(s.e, s.aa, s.bb);          /* E = AA - BB */
		fe_add(s.c, s.x3, s.z3);          /* C = x_3 + z_3 */
		fe_sub(s.d, s.x3, s.z3);          /* D = x_3 - z_3 */
		fe_mul(s.da, s.d, s.a);           /* DA = D * A */
		fe_mul(s.cb, s.c, s.b);           /* CB = C * B */
		fe_add(s.x3, s.da, s.cb);
		fe_sq(s.x3, s.x3);                /* x_3 = (DA + CB)^2 */
		fe_sub(s.z3, s.da, s.cb);
		fe_sq(s.z3, s.z3);
		fe_mul(s.z3, s.z3, s.x1);         /* z_3 = x_1 * (DA - CB)^2 */
		fe_mul(s.x2, s.aa, s.bb);         /* x_2 = AA * BB */
		fe_mul_small(s.z2, s.e, 121665);  /* a24 * E (a24 = 121665) */
		fe_add(s.z2, s.z2, s.aa);
		fe_mul(s.z2, s.z2, s.e);          /* z_2 = E * (AA + a24 * E) */
	}
	fe_cswap(s.x2, s.x3, s.swap);
	fe_cswap(s.z2, s.z3, s.swap);

	fe_invert(s.z2, s.z2);
	fe_mul(s.x2, s.x2, s.z2);             /* x_2 * z_2^(p-2) */
	fe_tobytes(out, s.x2);
	nk_wipe(&s, sizeof s);

	r = 1 - is_zero32(out);
	/* deliberate public result: whether X25519 gave the all-zero value
	 * (a low-order peer key, refused by the caller) */
	NK_CT_PUBLIC(&r, sizeof r);
	return r;
}

/* ---------------------------------------------------------------------- */
/* Fixed-base multiplication on edwards25519 */

/*
 * edwards25519 (RFC 7748 §4.1): -x^2 + y^2 = 1 + d*x^2*y^2, birationally
 * equivalent to Curve25519 by u = (1 + y) / (1 - y). The map sends the base
 * point B (y = 4/5) to u = 9 and commutes with scalar multiplication, so
 * X25519(k, 9) is the u of [k]B. The addition law (Hisil, Wong, Carter,
 * Dawson 2008, a = -1) is complete on this curve (d is not a square), so no
 * special case (identity, doubling) needs a branch.
 *
 * Points are kept in extended coordinates (X : Y : Z : T), x = X/Z,
 * y = Y/Z, x*y = T/Z. Table entries are affine "Niels" triples
 * (y + x, y - x, 2*d*x*y).
 */
struct ge {
	fe X, Y, Z, T;
};

/* Niels triple as 15 consecutive limbs (one flat array, so that the
 * table scan is a single masked loop): y + x, y - x, 2*d*x*y. */
struct ge_niels {
	uint64_t w[15];
};
#define YPX(q) ((q)->w)
#define YMX(q) ((q)->w + 5)
#define XY2D(q) ((q)->w + 10)

/*
 * nk_x25519__base_table[i][j] = (j + 1) * 256^i * B for i = 0..31 and
 * j = 0..7, limbs canonical (< 2^51). 32 * 8 * 120 bytes = 30 KiB.
 */
#include "x25519_table.h"

/* Scratch space for ge_madd and ge_dbl, owned (and wiped) by the caller,
 * so that no secret intermediate is left behind on the stack. */
struct ge_tmp {
	fe a, b, c, d, e, f, g, h;
};

/* r = p + q (q given as Niels triple). p tight in, r tight out; r may
 * alias p. */
static inline void ge_madd(struct ge *r, const struct ge *p, const struct ge_niels *q,
	struct ge_tmp *t)
{
	uint64_t *a = t->a, *b = t->b, *c = t->c, *d = t->d;
	uint64_t *e = t->e, *f = t->f, *g = t->g, *h = t->h;

	fe_sub(a, p->Y, p->X);
	fe_mul(a, a, YMX(q));        /* A = (Y1 - X1) * (y2 - x2) */
	fe_add(b, p->Y, p->X);
	fe_mul(b, b, YPX(q));        /* B = (Y1 + X1) * (y2 + x2) */
	fe_mul(c, p->T, XY2D(q));    /* C = T1 * 2d * x2 * y2 */
	fe_add(d, p->Z, p->Z);       /* D = 2 * Z1 */
	fe_sub(e, b, a);             /* E = B - A */
	fe_sub(f, d, c);             /* F = D - C */
	fe_add(g, d, c);             /* G = D + C */
	fe_add(h, b, a);             /* H = B + A */
	fe_mul(r->X, e, f);
	fe_mul(r->Y, g, h);
	fe_mul(r->T, e, h);
	fe_mul(r->Z, f, g);
}

/* r = 2p. p tight in, r tight out (r may alias p); T computed only when
 * want_t (the doubling formula does not read p's T). */
static inline void ge_dbl(struct ge *r, const struct ge *p, int want_t, struct ge_tmp *t)
{
	uint64_t *a = t->a, *b = t->b, *c = t->c;
	uint64_t *e = t->e, *f = t->f, *g = t->g, *h = t->h;

	fe_sq(a, p->X);              /* A = X1^2 */
	fe_sq(b, p->Y);              /* B = Y1^2 */
	fe_sq(c, p->Z);
	fe_add(c, c, c);             /* C = 2 * Z1^2 */
	fe_add(h, a, b);             /* H = A + B (the sign is folded below) */
	fe_add(e, p->X, p->Y);
	fe_sq(e, e);
	fe_sub(e, h, e);             /* -E, E = (X1 + Y1)^2 - A - B */
	fe_sub(g, a, b);             /* -G, G = B - A (a = -1) */
	fe_add(f, g, c);             /* -F, F = G - C (< 2^52.6 + 2^52.1) */
	/* X3 = E*F = (-E)(-F), Y3 = G*H' with H' = -A - B: (-G)*H,
	 * T3 = E*H' = (-E)*H, Z3 = F*G = (-F)(-G). */
	fe_mul(r->X, e, f);
	fe_mul(r->Y, g, h);
	fe_mul(r->Z, f, g);
	if (want_t)                  /* public: fixed by the algorithm */
		fe_mul(r->T, e, h);
}

/* 1 when a == b (both in 0..15), else 0; constant time. */
static inline uint64_t eq_small(uint64_t a, uint64_t b)
{
	return ((a ^ b) - 1) >> 63;
}

/* Scratch space for select_niels (caller-owned and wiped): the masks
 * derived from the secret digit, and the negated 2dxy. */
struct sel_tmp {
	uint64_t m[8];
	fe nxy2d;
};

/*
 * t = digit * 256^i * B for a signed digit in -8..8, reading all eight
 * entries of row i (masks, no secret index), then negating by mask:
 * -(x, y) = (-x, y) turns (y+x, y-x, 2dxy) into (y-x, y+x, -2dxy).
 */
static void select_niels(struct ge_niels *t, int i, int8_t digit, struct sel_tmp *st)
{
	const struct ge_niels *row = nk_x25519__base_table[i];
	uint64_t neg = (uint64_t)(uint8_t)digit >> 7;
	uint64_t abs = ((uint64_t)(int64_t)digit ^ (0 - neg)) + neg;
	uint64_t m0 = eq_small(abs, 0), *m = st->m, *nxy2d = st->nxy2d;

	for (int j = 0; j < 8; j++)
		m[j] = 0 - eq_small(abs, (uint64_t)j + 1);
	/* every word of every entry is read; exactly one mask is set, or
	 * none for digit 0, which gives the identity (1, 1, 0) */
	for (int w = 0; w < 15; w++) {
		uint64_t v = (w == 0 || w == 5) ? (m0 & 1) : 0;
		for (int j = 0; j < 8; j++)
			v |= m[j] & row[j].w[w];
		t->w[w] = v;
	}
	fe_cswap(YPX(t), YMX(t), neg);
	fe_0(nxy2d);
	fe_sub(nxy2d, nxy2d, XY2D(t));
	fe_carry(nxy2d, nxy2d);
	fe_cmov(XY2D(t), nxy2d, neg);
}

void nk_x25519_base(uint8_t out[32], const uint8_t scalar[32])
{
	struct {
		uint8_t k[32];
		int8_t e[64];
		struct ge h;
		struct ge_niels t;
		struct ge_tmp tmp;
		struct sel_tmp sel;
		fe num, den;
	} s;
	int carry;

	clamp(s.k, scalar);
	/* k = sum e[i] * 16^i with e[i] in -8..7 (e[63] in 0..8: the clamped
	 * k < 2^255 has top nibble <= 7, so the last carry is absorbed). */
	for (int i = 0; i < 32; i++) {
		s.e[2 * i] = (int8_t)(s.k[i] & 15);
		s.e[2 * i + 1] = (int8_t)(s.k[i] >> 4);
	}
	carry = 0;
	for (int i = 0; i < 63; i++) {
		int v = s.e[i] + carry;          /* 0..16 */
		carry = (v + 8) >> 4;            /* v + 8 >= 0: plain shift */
		s.e[i] = (int8_t)(v - (carry << 4));
	}
	s.e[63] = (int8_t)(s.e[63] + carry);

	/* [k]B = sum_i e[i] * 16^i * B. Odd digits first, from the table rows
	 * 256^(i/2) B, then times 16, then the even digits. */
	fe_0(s.h.X);
	fe_1(s.h.Y);
	fe_1(s.h.Z);
	fe_0(s.h.T);
	for (int i = 1; i < 64; i += 2) {
		select_niels(&s.t, i / 2, s.e[i], &s.sel);
		ge_madd(&s.h, &s.h, &s.t, &s.tmp);
	}
	ge_dbl(&s.h, &s.h, 0, &s.tmp);
	ge_dbl(&s.h, &s.h, 0, &s.tmp);
	ge_dbl(&s.h, &s.h, 0, &s.tmp);
	ge_dbl(&s.h, &s.h, 1, &s.tmp);
	for (int i = 0; i < 64; i += 2) {
		select_niels(&s.t, i / 2, s.e[i], &s.sel);
		ge_madd(&s.h, &s.h, &s.t, &s.tmp);
	}

	/* u = (1 + y) / (1 - y) = (Z + Y) / (Z - Y) (RFC 7748 §4.1). The
	 * identity (Z - Y = 0) would give 0 like the ladder; it cannot occur
	 * for a clamped k (a multiple of 8 below 2^255 < 8L). */
	fe_add(s.num, s.h.Z, s.h.Y);
	fe_sub(s.den, s.h.Z, s.h.Y);
	fe_carry(s.den, s.den);
	fe_invert(s.den, s.den);
	fe_mul(s.num, s.num, s.den);
	fe_tobytes(out, s.num);
	nk_wipe(&s, sizeof s);
}

/* ---------------------------------------------------------------------- */
/* br_ec_impl wrapper, matching BearSSL 0.6's br_ec_c25519_m31:
 *   generator(): u = 9, 32 bytes; order(): 2^255 - 1 big-endian, 32 bytes
 *   (any 32-byte string is a usable multiplier); xoff(): 0, length 32.
 *   mul(G, Glen, kb, kblen): 0 with G untouched when Glen != 32 or
 *   kblen > 32; otherwise the scalar is kb in RFC 7748 byte order
 *   (little-endian) padded with zero bytes up to 32 (kb[0] is the least
 *   significant byte; a short kb gives the high bytes), clamped, G is
 *   replaced by X25519(k, G) and 1 is returned, even for an all-zero result.
 *   mulgen(R, x, xlen): R = X25519(k, 9) for the same k, returns 32; when
 *   xlen > 32 BearSSL's R is the generator itself (its mul refused), so
 *   that is written here too. muladd(): unsupported, returns 0.
 *   The curve argument is not checked (BearSSL's contract: callers only
 *   pass supported curves). */

static const uint8_t GEN[32] = { 9 };

static const uint8_t ORDER[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

static const unsigned char *ec_generator(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof GEN;
	return GEN;
}

static const unsigned char *ec_order(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof ORDER;
	return ORDER;
}

static size_t ec_xoff(int curve, size_t *len)
{
	(void)curve;
	*len = 32;
	return 0;
}

static uint32_t ec_mul(unsigned char *G, size_t Glen,
	const unsigned char *kb, size_t kblen, int curve)
{
	uint8_t k[32];

	(void)curve;
	if (Glen != 32 || kblen > 32)
		return 0;
	memset(k, 0, sizeof k);
	if (kblen > 0)
		memcpy(k, kb, kblen);
	(void)nk_x25519(G, k, G);
	nk_wipe(k, sizeof k);
	return 1;
}

static size_t ec_mulgen(unsigned char *R,
	const unsigned char *x, size_t xlen, int curve)
{
	uint8_t k[32];

	(void)curve;
	if (xlen > 32) {
		memcpy(R, GEN, sizeof GEN);
		return 32;
	}
	memset(k, 0, sizeof k);
	if (xlen > 0)
		memcpy(k, x, xlen);
	nk_x25519_base(R, k);
	nk_wipe(k, sizeof k);
	return 32;
}

static uint32_t ec_muladd(unsigned char *A, const unsigned char *B, size_t len,
	const unsigned char *x, size_t xlen,
	const unsigned char *y, size_t ylen, int curve)
{
	(void)A; (void)B; (void)len; (void)x; (void)xlen;
	(void)y; (void)ylen; (void)curve;
	return 0;
}

const br_ec_impl nk_x25519_ec = {
	(uint32_t)1 << BR_EC_curve25519,
	&ec_generator,
	&ec_order,
	&ec_xoff,
	&ec_mul,
	&ec_mulgen,
	&ec_muladd
};
