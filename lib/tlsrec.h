/*
 * tlsrec: TLS 1.3 record protection (RFC 8446 §5), shared by both roles.
 *
 *   - AEADs: AES-128-GCM, AES-256-GCM (br_gcm over the fastest AES-CTR and
 *     GHASH this CPU has) and ChaCha20-Poly1305 (RFC 8439);
 *   - per-record nonce = iv XOR seq (64-bit sequence, left-padded, §5.3);
 *   - TLSInnerPlaintext = content || type || zeros (§5.2), the type hidden
 *     inside the encryption, padding stripped on receipt;
 *   - limits: plaintext <= 2^14, TLSInnerPlaintext (content, type and
 *     padding) <= 2^14 + 1, TLSCiphertext.length <= 2^14 + 256.
 *
 * Record header (TLSPlaintext/TLSCiphertext): type(1) version(2) length(2).
 */
#ifndef NK_TLSREC_H
#define NK_TLSREC_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

/* Cipher suites (RFC 8446 §B.4). */
#define NK_TLS_AES_128_GCM_SHA256       0x1301
#define NK_TLS_AES_256_GCM_SHA384       0x1302
#define NK_TLS_CHACHA20_POLY1305_SHA256 0x1303

/* Content types (§5.1). */
#define NK_CT_CHANGE_CIPHER_SPEC 20
#define NK_CT_ALERT              21
#define NK_CT_HANDSHAKE          22
#define NK_CT_APPLICATION_DATA   23

#define NK_TLS_REC_HDR      5
#define NK_TLS_MAX_PLAIN    16384              /* 2^14 */
#define NK_TLS_MAX_CIPHER   (16384 + 256)      /* 2^14 + 256 */
#define NK_TLS_MAX_RECORD   (NK_TLS_REC_HDR + NK_TLS_MAX_CIPHER)
#define NK_TLS_TAG_LEN      16

/* A raw AEAD with a 12-byte nonce and a 16-byte tag. */
struct nk_aead {
	int chacha;                        /* 1: ChaCha20-Poly1305, 0: AES-GCM */
	unsigned char key[32];
	size_t key_len;
	br_aes_gen_ctr_keys aes;           /* AES-GCM only */
	const br_block_ctr_class *ctr;
	br_ghash ghash;
	br_chacha20_run chacha_run;
	br_poly1305_run poly_run;
};

/* chacha=1: key_len must be 32; chacha=0: 16, 24 or 32. 0 or -1. */
int nk_aead_init(struct nk_aead *a, int chacha, const void *key, size_t key_len);
/* Encrypt data in place, write the 16-byte tag. */
void nk_aead_seal(struct nk_aead *a, const unsigned char nonce[12],
	const void *aad, size_t aad_len, void *data, size_t len, unsigned char tag[16]);
/* Decrypt in place after checking the tag (constant time). 0 ok, -1 bad tag
 * (data then holds garbage: the caller must discard it). */
int nk_aead_open(struct nk_aead *a, const unsigned char nonce[12],
	const void *aad, size_t aad_len, void *data, size_t len, const unsigned char tag[16]);

/* One direction of record protection. */
struct nk_tlsrec {
	int active;                /* 0: records are plaintext */
	uint16_t suite;
	struct nk_aead aead;
	unsigned char iv[12];
	uint64_t seq;
};

/* Hash of a suite (br_sha256_vtable/br_sha384_vtable), NULL if unknown. */
const br_hash_class *nk_tlsrec_suite_hash(uint16_t suite);
const char *nk_tlsrec_suite_name(uint16_t suite);

/* §7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
 *       [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
 * and seq := 0. 0 or -1 (unknown suite). */
int nk_tlsrec_set_secret(struct nk_tlsrec *r, uint16_t suite, const void *secret);
/* Same with key and IV given directly (tests). */
int nk_tlsrec_set_key(struct nk_tlsrec *r, uint16_t suite, const void *key, const void *iv);

/* Protect one record: out gets header || AEAD(content || type || pad zeros).
 * len <= 2^14, len + 1 + pad <= 2^14. Returns bytes written or -1. */
long nk_tlsrec_seal(struct nk_tlsrec *r, unsigned type, const void *data, size_t len,
	size_t pad, unsigned char *out, size_t cap);

/* Unprotect one whole record (header included) in place. On success *type is
 * the inner content type, *content points into rec and the content length is
 * returned. Errors: -1 bad_record_mac (tag), -2 record_overflow (record
 * longer than 2^14 + 256, or an authentic TLSInnerPlaintext longer than 2^14 + 1),
 * -3 unexpected_message (no non-zero type byte: all padding). */
long nk_tlsrec_open(struct nk_tlsrec *r, unsigned char *rec, size_t rec_len,
	unsigned *type, unsigned char **content);

void nk_tlsrec_wipe(struct nk_tlsrec *r);

#endif
