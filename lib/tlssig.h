/*
 * tlssig: TLS 1.3 signature schemes on BearSSL primitives.
 *
 *   ecdsa_secp256r1_sha256 (0x0403), ecdsa_secp384r1_sha384 (0x0503):
 *     ECDSA over lib/ec (P-256: lib/p256; P-384: BearSSL), ASN.1/DER
 *     signatures, as TLS carries them;
 *   rsa_pss_rsae_sha256/384/512 (0x0804/0x0805/0x0806):
 *     EMSA-PSS (RFC 8017 §9.1) with MGF1 and salt length = hash length,
 *     written here on BearSSL's raw RSA public/private operations.
 *
 * Keys are held in caller-owned structs with inline storage: no malloc.
 */
#ifndef NK_TLSSIG_H
#define NK_TLSSIG_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#include "util.h"

#define NK_SIG_ECDSA_P256_SHA256   0x0403
#define NK_SIG_ECDSA_P384_SHA384   0x0503
#define NK_SIG_RSA_PSS_RSAE_SHA256 0x0804
#define NK_SIG_RSA_PSS_RSAE_SHA384 0x0805
#define NK_SIG_RSA_PSS_RSAE_SHA512 0x0806

/* Largest supported RSA modulus: 4096 bits. */
#define NK_RSA_MAX_BYTES 512

/* A public key (from a certificate). */
struct nk_pubkey {
	unsigned key_type;               /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	union {
		br_rsa_public_key rsa;
		br_ec_public_key ec;
	} key;
	unsigned char buf[NK_RSA_MAX_BYTES + 8]; /* storage the key points into */
};

/* Copy a BearSSL public key (e.g. from br_x509_decoder) into self-contained
 * storage (leading zero octets of n and e stripped). 0 or -1.
 * Copy-safe: the functions here re-derive the key pointers from buf[] and the
 * stored lengths, so a struct copied by value keeps working (do not follow
 * key.rsa.n / key.ec.q of a copy yourself). */
int nk_pubkey_set(struct nk_pubkey *pk, const br_x509_pkey *src);

/* Verify 'sig' over the message 'msg' (the whole signed content; this
 * function hashes it) under 'scheme'. The scheme must fit the key (an ECDSA
 * scheme needs an EC key on that curve; PSS needs RSA). 0 valid, -1 not.
 * ECDSA signatures must be strict DER (minimal lengths and integers, no
 * trailing bytes); PSS signatures exactly the modulus length. No malloc. */
int nk_tlssig_verify(uint16_t scheme, const struct nk_pubkey *pk,
	const void *msg, size_t msg_len, const void *sig, size_t sig_len);

/* Low-level RSA-PSS (RFC 8017 §8.1.2 / §9.1.2) over an already-computed hash;
 * 'hash' selects the hash for MGF1; salt length 'slen'. 0 valid, -1 not.
 * sig_len must equal the modulus length (leading zeros of pk->n ignored). */
int nk_rsa_pss_verify(const br_hash_class *hash, const void *mhash, size_t hlen,
	size_t slen, const br_rsa_public_key *pk, const void *sig, size_t sig_len);

/* A private key (server side, issue 4), loaded from PEM by tlscert. */
struct nk_privkey {
	unsigned key_type;               /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	union {
		br_rsa_private_key rsa;
		br_ec_private_key ec;
	} key;
	unsigned char buf[5 * (NK_RSA_MAX_BYTES / 2) + 16];
};

/* Copy a BearSSL private key (e.g. from br_skey_decoder) into self-contained
 * storage (same copy-safe rule as nk_pubkey). 0 or -1 (too large). */
int nk_privkey_set_rsa(struct nk_privkey *sk, const br_rsa_private_key *src);
int nk_privkey_set_ec(struct nk_privkey *sk, const br_ec_private_key *src);
/* Wipe a private key. */
void nk_privkey_wipe(struct nk_privkey *sk);

/* Sign 'msg' under 'scheme' (ECDSA: DER signature; PSS: random salt of hash
 * length from nk_random). Returns the signature length, or -1. */
long nk_tlssig_sign(uint16_t scheme, const struct nk_privkey *sk,
	const void *msg, size_t msg_len, void *sig, size_t sig_cap);

/* RSA-PSS encode+sign over a hash with a given salt (for known-answer tests). */
long nk_rsa_pss_sign(const br_hash_class *hash, const void *mhash, size_t hlen,
	const void *salt, size_t slen, const br_rsa_private_key *sk, void *sig, size_t sig_cap);

/* Does this scheme fit this public/private key? 1 yes, 0 no. */
int nk_tlssig_fits_pub(uint16_t scheme, const struct nk_pubkey *pk);
int nk_tlssig_fits_priv(uint16_t scheme, const struct nk_privkey *sk);

/* Name of a scheme for messages and --explain ("ecdsa_secp256r1_sha256"), "unknown" otherwise. */
const char *nk_tlssig_name(uint16_t scheme);

#endif
