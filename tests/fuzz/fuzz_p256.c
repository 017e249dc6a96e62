/*
 * fuzz_p256: lib/p256's nk_p256_ec against BearSSL's br_ec_p256_m31 on
 * fuzzer-chosen multipliers and points; any difference in output or return
 * value aborts.
 *
 * Input: byte 0 selects the operation and how points are made, then
 *   byte 1, byte 2: lengths of the two multipliers (mod 72),
 *   the multipliers, then the rest (up to 65 bytes per point) either as
 *   raw encoded points (often invalid) or as scalars for valid points k*G.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bearssl.h>

#include "p256.h"

static const br_ec_impl *const REF = &br_ec_p256_m31;
static const br_ec_impl *const NK = &nk_p256_ec;

/* Take n bytes from the input (zero-padded when it runs out). */
static void take(unsigned char *dst, size_t n, const uint8_t **p, size_t *left)
{
	size_t k = n < *left ? n : *left;
	memset(dst, 0, n);
	memcpy(dst, *p, k);
	*p += k;
	*left -= k;
}

/* A point: raw 65 bytes, or k*G from a 32-byte k (the usual case). */
static void make_point(unsigned char P[65], int raw, const uint8_t **p, size_t *left)
{
	unsigned char k[32];
	if (raw) {
		take(P, 65, p, left);
		if ((P[0] & 0x0f) != 0x0f)
			P[0] = 0x04;
		return;
	}
	take(k, 32, p, left);
	REF->mulgen(P, k, 32, BR_EC_secp256r1);
	if (P[1] == 0 && memcmp(P + 1, P + 2, 63) == 0) /* infinity: use G */
		memcpy(P, REF->generator(BR_EC_secp256r1, &(size_t){ 0 }), 65);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char x[72], y[72], A[65], B[65], r1[65], r2[65];
	const uint8_t *p = data;
	size_t left = size, xl, yl;
	uint8_t op;

	if (size < 3)
		return 0;
	op = data[0];
	xl = data[1] % 72;
	yl = data[2] % 72;
	p += 3;
	left -= 3;
	take(x, xl, &p, &left);
	take(y, yl, &p, &left);
	make_point(A, op & 0x10, &p, &left);
	make_point(B, op & 0x20, &p, &left);

	switch (op & 3) {
	case 0: {
		size_t a = REF->mulgen(r1, x, xl, BR_EC_secp256r1);
		size_t b = NK->mulgen(r2, x, xl, BR_EC_secp256r1);
		if (a != b || memcmp(r1, r2, a) != 0)
			abort();
		break;
	}
	case 1: {
		memcpy(r1, A, 65);
		memcpy(r2, A, 65);
		uint32_t a = REF->mul(r1, 65, x, xl, BR_EC_secp256r1);
		uint32_t b = NK->mul(r2, 65, x, xl, BR_EC_secp256r1);
		if (a != b || (a && memcmp(r1, r2, 65) != 0))
			abort();
		break;
	}
	default: {
		/* op & 3 == 2: B = NULL (the generator); 3: B given; bit 6: B = A */
		const unsigned char *bp = (op & 3) == 2 ? NULL : (op & 0x40) ? A : B;
		memcpy(r1, A, 65);
		memcpy(r2, A, 65);
		uint32_t a = REF->muladd(r1, bp, 65, x, xl, y, yl, BR_EC_secp256r1);
		uint32_t b = NK->muladd(r2, bp, 65, x, xl, y, yl, BR_EC_secp256r1);
		if (a != b || (a && memcmp(r1, r2, 65) != 0))
			abort();
		break;
	}
	}
	return 0;
}
