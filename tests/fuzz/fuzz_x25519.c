/*
 * fuzz_x25519: lib/x25519 differential against BearSSL's br_ec_c25519_m31;
 * aborts on any difference.
 *
 * Input: scalar (32 bytes) || u (32 bytes) || optional length byte L, all
 * zero-padded when short. Checks
 *   nk_x25519(k, u)          == br mul(u, k), and the return value is 0
 *                              exactly when the result is all zero;
 *   nk_x25519_base(k)        == br mulgen(k) == nk_x25519(k, 9);
 *   nk_x25519_ec.mul/mulgen  == br's, with scalar length L % 41 (0..40).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "x25519.h"

int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n)
{
	static const uint8_t zero[32], nine[32] = { 9 };
	uint8_t in[65], k[32], u[32], a[32], b[32], c[32];
	size_t klen;
	int r;

	memset(in, 0, sizeof in);
	memcpy(in, d, n < sizeof in ? n : sizeof in);
	memcpy(k, in, 32);
	memcpy(u, in + 32, 32);
	klen = n > 64 ? in[64] % 41 : 32;

	/* the ladder */
	r = nk_x25519(a, k, u);
	memcpy(b, u, 32);
	check(br_ec_c25519_m31.mul(b, 32, k, 32, BR_EC_curve25519) == 1);
	check(memcmp(a, b, 32) == 0);
	check(r == (memcmp(a, zero, 32) != 0));

	/* fixed base */
	nk_x25519_base(a, k);
	check(br_ec_c25519_m31.mulgen(b, k, 32, BR_EC_curve25519) == 32);
	check(nk_x25519(c, k, nine) == 1);
	check(memcmp(a, b, 32) == 0 && memcmp(a, c, 32) == 0);

	/* the br_ec_impl object, any scalar length */
	{
		uint8_t kk[40];
		memset(kk, 0, sizeof kk);
		memcpy(kk, k, 32);
		memcpy(a, u, 32);
		memcpy(b, u, 32);
		check(nk_x25519_ec.mul(a, 32, kk, klen, BR_EC_curve25519)
			== br_ec_c25519_m31.mul(b, 32, kk, klen, BR_EC_curve25519));
		check(memcmp(a, b, 32) == 0);
		memset(a, 0x5a, 32);
		memset(b, 0x5a, 32);
		check(nk_x25519_ec.mulgen(a, kk, klen, BR_EC_curve25519)
			== br_ec_c25519_m31.mulgen(b, kk, klen, BR_EC_curve25519));
		check(memcmp(a, b, 32) == 0);
	}
	return 0;
}
