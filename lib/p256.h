/*
 * p256: the NIST curve P-256 (secp256r1, SEC 2 §2.4.2 / FIPS 186-4 D.1.2.3),
 * fast and constant-time, on 64-bit limbs.
 *
 *   nk_p256_ec      a BearSSL EC implementation (br_ec_impl) for
 *                   BR_EC_secp256r1 only, a drop-in replacement for
 *                   br_ec_p256_m31 with the same observable behaviour
 *                   (same outputs and return values, including BearSSL
 *                   0.6's quirks on out-of-range multipliers, see below).
 *                   Usable with BearSSL's ECDSA verifiers, e.g.
 *                   br_ecdsa_i31_vrfy_raw(&nk_p256_ec, ...).
 *   nk_p256_ecdsa_sign_raw
 *                   ECDSA signing (raw r||s), hedged RFC 6979 nonces.
 *
 * Inside: field arithmetic mod p = 2^256 - 2^224 + 2^192 + 2^96 - 1 and
 * scalar arithmetic mod the group order n, both in Montgomery form with
 * four 64-bit limbs; points in projective coordinates with the complete
 * addition and doubling formulas of Renes, Costello and Batina (2016,
 * "Complete addition formulas for prime order elliptic curves", Alg. 4-6
 * for a = -3), so no sum has an exceptional case.
 *
 * Timing: mul() and mulgen() and the signer run in time independent of the
 * multipliers, the private key and the nonce (only the byte length of a
 * multiplier may show). muladd() is NOT constant-time: it is meant for
 * signature verification, where the points and multipliers are public
 * (BearSSL's ECDSA verifiers are its only users; br_ecdsa_i31_vrfy_raw /
 * _asn1 with &nk_p256_ec work as with br_ec_p256_m31). Do not give it
 * secrets.
 *
 * The generator table (52 x 16 affine multiples of G, 53 KiB of static
 * storage) is computed once, on first use, under pthread_once, by mulgen()
 * and the signer; muladd() does without it (one chain of doublings for
 * both products), so a process that only verifies never builds it.
 *
 * br_ec_impl semantics, exactly as br_ec_p256_m31 (BearSSL 0.6):
 *   generator()   the 65-byte uncompressed G; order() the 32-byte n;
 *   xoff()        returns 1, *len = 32.
 *   mul(G, Glen, x, xlen)
 *                 Glen must be 65, G must be 04||X||Y with X, Y < p on the
 *                 curve, else 0 (G then holds an unspecified value). On a
 *                 valid point returns 1 and writes x*G; x is any length,
 *                 big-endian. When the result is the point at infinity, or
 *                 when BearSSL's window walk over x meets an exceptional
 *                 addition (possible only for x >= n, e.g. x = n + 6 or
 *                 a longer x whose leading part is a multiple of n), G gets
 *                 04 followed by 64 zero bytes, still returning 1.
 *   mulgen(R, x, xlen)
 *                 always returns 65; R = x*G, or 04||0^64 under the same
 *                 conditions (x = 0 mod n, x = n + 30, ...).
 *   muladd(A, B, len, x, xlen, y, ylen)
 *                 len must be 65 and A (and B unless NULL = generator)
 *                 valid points, else 0. With P = x*A and Q = y*B:
 *                 P + Q when both are finite and P != -Q (2Q when P = Q);
 *                 0 when P = -Q. When a product is the point at infinity
 *                 the result follows BearSSL's representation of it: a
 *                 multiplier with no non-zero bit (x = 0, empty) behaves
 *                 unlike a non-zero multiple of n (see p256.c, "BearSSL
 *                 compatibility"): x = 0 gives 2Q and 1; x = n with Q
 *                 finite gives 0; y = 0 (P finite) gives 04||0^64 and 1.
 */
#ifndef NK_P256_H
#define NK_P256_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

/* The BearSSL EC implementation for BR_EC_secp256r1 (supported_curves has
 * only that bit; calling it for another curve is a caller error, as with
 * br_ec_p256_m31). */
extern const br_ec_impl nk_p256_ec;

/*
 * ECDSA signature (FIPS 186-4 §6.4, SEC 1 §4.1.3) with the same contract as
 * br_ecdsa_i31_sign_raw(&br_ec_p256_m31, ...):
 *   hf          the hash function that produced hash_value; its output
 *               length is the length of hash_value, and the HMAC-DRBG of
 *               the nonce derivation uses it.
 *   hash_value  the message digest; bits2int takes its leftmost 256 bits.
 *   sk          the private key: curve must be BR_EC_secp256r1, the
 *               big-endian value (any length) in [1, n-1].
 *   sig         receives r || s, 64 bytes.
 * Returns 64, or 0 on error (wrong curve, key out of range, no randomness).
 * The nonce is hedged: RFC 6979 §3.2 HMAC-DRBG seeded with the key and the
 * digest, plus 32 fresh random bytes from nk_random() as the §3.6
 * additional data; candidates outside [1, n-1], and r = 0 or s = 0, are
 * rejected and the DRBG is stepped as §3.2 h.3 says. Constant-time in the
 * key and the nonce; secrets are wiped.
 */
size_t nk_p256_ecdsa_sign_raw(const br_hash_class *hf, const void *hash_value,
	const br_ec_private_key *sk, void *sig);

#endif
