/*
 * hkdf: HKDF (RFC 5869) over BearSSL's HMAC, and the TLS 1.3 helpers built
 * on it (RFC 8446 §7.1): HKDF-Expand-Label and Derive-Secret.
 *
 * BearSSL's own br_hkdf cannot expand from a given PRK, so Extract and Expand
 * are written here on br_hmac. Every function works for any br_hash_class
 * (TLS 1.3 uses SHA-256 and SHA-384). No allocation; intermediates wiped.
 */
#ifndef NK_HKDF_H
#define NK_HKDF_H

#include <stddef.h>
#include <bearssl.h>

#define NK_HKDF_MAX_HASH 64   /* largest hash output (SHA-512) */

/* HKDF-Extract(salt, IKM) -> PRK (hash output length bytes, returned).
 * A NULL/empty salt means a string of HashLen zeros (RFC 5869 §2.2). */
size_t nk_hkdf_extract(const br_hash_class *h, const void *salt, size_t salt_len,
	const void *ikm, size_t ikm_len, void *prk);

/* HKDF-Expand(PRK, info, L). L <= 255 * HashLen, else -1. 0 on success. */
int nk_hkdf_expand(const br_hash_class *h, const void *prk, size_t prk_len,
	const void *info, size_t info_len, void *out, size_t out_len);

/* HKDF-Expand-Label(Secret, Label, Context, Length) of RFC 8446 §7.1, with
 * the "tls13 " prefix added here ('label' is given without it).
 * Label <= 249 bytes, context <= 255, length <= 65535. 0 or -1. */
int nk_hkdf_expand_label(const br_hash_class *h, const void *secret,
	const char *label, const void *ctx, size_t ctx_len, void *out, size_t out_len);

/* Derive-Secret(Secret, Label, Messages) given Transcript-Hash(Messages)
 * (thash, HashLen bytes). Output HashLen bytes. */
int nk_hkdf_derive_secret(const br_hash_class *h, const void *secret,
	const char *label, const void *thash, void *out);

/* Output length of a hash class in bytes. */
size_t nk_hash_len(const br_hash_class *h);

#endif
