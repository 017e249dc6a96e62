/*
 * ec: the elliptic-curve implementation every ntskit module uses.
 *
 * nk_ec_all is a BearSSL br_ec_impl that sends each curve to the fastest
 * constant-time code we have:
 *   - Curve25519 (X25519): lib/x25519 (radix 2^51, fixed-base on edwards25519);
 *   - P-256: lib/p256 (4 x 64-bit Montgomery field, precomputed base table);
 *   - P-384 and P-521: BearSSL's br_ec_all_m31.
 * BearSSL 0.6 (Debian 12) has only its 31-bit and 15-bit code, three to
 * fourteen times slower on x86-64 (make bench: tests/bench/ecc.sh); everything BearSSL does with an impl
 * (br_ec_keygen, br_ec_compute_pub, ECDSA verification, X.509 chain
 * validation) works with this one.
 *
 * nk_ec_ecdsa_sign_asn1 signs with P-256 through lib/p256 and with other
 * curves through BearSSL; the signature is DER (as TLS carries it).
 */
#ifndef NK_EC_H
#define NK_EC_H

#include <stddef.h>
#include <bearssl.h>

extern const br_ec_impl nk_ec_all;

/* ECDSA over an already computed hash (hf's output): DER signature into
 * sig (room for 2 * 66 + 9 octets), returns its length, 0 on error. */
size_t nk_ec_ecdsa_sign_asn1(const br_hash_class *hf, const void *hash_value,
	const br_ec_private_key *sk, void *sig);

#endif
