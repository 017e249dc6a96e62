#include "ec.h"

#include <string.h>

#include "p256.h"
#include "util.h"
#include "x25519.h"
#include "ct.h"

static const br_ec_impl *pick(int curve)
{
	switch (curve) {
	case BR_EC_curve25519: return &nk_x25519_ec;
	case BR_EC_secp256r1: return &nk_p256_ec;
	default: return &br_ec_all_m31;
	}
}

static const unsigned char *generator(int curve, size_t *len)
{
	return pick(curve)->generator(curve, len);
}

static const unsigned char *order(int curve, size_t *len)
{
	return pick(curve)->order(curve, len);
}

static size_t xoff(int curve, size_t *len)
{
	return pick(curve)->xoff(curve, len);
}

static uint32_t mul(unsigned char *G, size_t Glen, const unsigned char *kb, size_t kblen, int curve)
{
	return pick(curve)->mul(G, Glen, kb, kblen, curve);
}

static size_t mulgen(unsigned char *R, const unsigned char *x, size_t xlen, int curve)
{
	return pick(curve)->mulgen(R, x, xlen, curve);
}

static uint32_t muladd(unsigned char *A, const unsigned char *B, size_t len,
	const unsigned char *x, size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	return pick(curve)->muladd(A, B, len, x, xlen, y, ylen, curve);
}

const br_ec_impl nk_ec_all = {
	(uint32_t)1 << BR_EC_secp256r1 | (uint32_t)1 << BR_EC_secp384r1 |
	(uint32_t)1 << BR_EC_secp521r1 | (uint32_t)1 << BR_EC_curve25519,
	generator, order, xoff, mul, mulgen, muladd
};

size_t nk_ec_ecdsa_sign_asn1(const br_hash_class *hf, const void *hash_value,
	const br_ec_private_key *sk, void *sig)
{
	unsigned char raw[2 * 66 + 9];    /* r || s of P-521, and the DER overhead */
	size_t n;

	if (sk->curve == BR_EC_secp256r1)
		n = nk_p256_ecdsa_sign_raw(hf, hash_value, sk, raw);
	else
		n = br_ecdsa_i31_sign_raw(&br_ec_all_m31, hf, hash_value, sk, raw);
	if (n == 0)
		return 0;
	/* the signature is the public output (its DER form depends on it) */
	NK_CT_PUBLIC(raw, n);
	n = br_ecdsa_raw_to_asn1(raw, n);
	memcpy(sig, raw, n);
	nk_wipe(raw, sizeof raw);
	return n;
}
