/*
 * aessiv: AES-CMAC (RFC 4493) and AES-SIV (RFC 5297) on BearSSL's AES.
 *
 * NTS (RFC 8915) uses AEAD_AES_SIV_CMAC_256 (AEAD id 15, 32-octet key) and
 * AEAD_AES_SIV_CMAC_512 (id 17, 64-octet key); AEAD_AES_SIV_CMAC_384
 * (id 16, 48 octets) comes for free.
 *
 * AES is BearSSL's: the AES-NI implementation (br_aes_x86ni_*) when the
 * CPU has it, else the constant-time br_aes_ct64_*. CMAC is CBC-MAC on the
 * CBC-encryption class, the SIV counter mode is the CTR class: SIV clears
 * bits 63 and 31 of the counter (RFC 5297 §2.6), so the low 32-bit word
 * never carries for inputs below 2^31 blocks (§5), which is exactly what
 * BearSSL's 96-bit IV + 32-bit counter CTR computes.
 *
 * Caller-owned contexts, no malloc; the only global is the cached answer
 * to "does this CPU have AES-NI" (CPUID is slow under some hypervisors). Tags are compared in
 * constant time (nk_ct_eq); nk_siv_clear()/nk_cmac_clear() wipe the keys
 * (and all key-dependent state) and must be called when done. Decryption
 * that fails authentication wipes the plaintext buffer.
 *
 * Output format (RFC 5297 §2.6, RFC 5116 §6 for ids 15-17): the 16-octet
 * synthetic IV (the tag) followed by the ciphertext, same length as the
 * plaintext.
 */
#ifndef NK_AESSIV_H
#define NK_AESSIV_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

/* AEAD algorithm ids (IANA "AEAD Algorithms"), the one definition every
 * module uses. 15-17 are implemented here; the GCM-SIV ids are only named
 * (a configuration may offer them, nothing here implements them). */
#define NK_AEAD_AES_SIV_CMAC_256 15     /* RFC 5297; mandatory in RFC 8915 §5.1 */
#define NK_AEAD_AES_SIV_CMAC_384 16
#define NK_AEAD_AES_SIV_CMAC_512 17
#define NK_AEAD_AES_128_GCM_SIV  30     /* RFC 8452 */
#define NK_AEAD_AES_256_GCM_SIV  31

#define NK_SIV_TAG_LEN 16
#define NK_CMAC_LEN 16
/* RFC 5297 §2.4/§7: S2V takes at most 127 components in all (126 AD + the
 * plaintext) so that the doublings stay distinct. */
#define NK_SIV_MAX_AD 126
/* Largest plaintext accepted: below 2^31 blocks (see above). */
#define NK_SIV_MAX_LEN ((size_t)0x7fffffff)

/* Which AES implementation to use. AUTO picks AES-NI when available. */
#define NK_AES_AUTO 0
#define NK_AES_CT64 1

/* 1 when NK_AES_AUTO would use AES-NI on this CPU. */
int nk_aes_has_ni(void);

/* ---- AES-CMAC (RFC 4493), keys of 16, 24 or 32 octets ---- */

struct nk_cmac_key {
	br_aes_gen_cbcenc_keys aes;
	uint8_t k1[16], k2[16];   /* subkeys (RFC 4493 §2.3) */
};

struct nk_cmac_ctx {
	const struct nk_cmac_key *key;
	uint8_t x[16];    /* chaining value */
	uint8_t buf[16];  /* pending input, held back until more or finish */
	size_t n;         /* octets in buf, 0..16 */
};

/* 0, or -1 for a key length other than 16, 24, 32. */
int nk_cmac_init(struct nk_cmac_key *k, const void *key, size_t key_len, int impl);
void nk_cmac_clear(struct nk_cmac_key *k);
/* Streaming: start, update any number of times, finish. */
void nk_cmac_start(struct nk_cmac_ctx *c, const struct nk_cmac_key *k);
void nk_cmac_update(struct nk_cmac_ctx *c, const void *data, size_t len);
void nk_cmac_finish(struct nk_cmac_ctx *c, uint8_t out[NK_CMAC_LEN]);
/* One shot. */
void nk_cmac(const struct nk_cmac_key *k, const void *data, size_t len,
	uint8_t out[NK_CMAC_LEN]);

/* ---- AES-SIV (RFC 5297) ---- */

struct nk_siv_ctx {
	struct nk_cmac_key mac;      /* K1, the left half of the key */
	br_aes_gen_ctr_keys ctr;     /* K2, the right half */
	uint8_t d0[16];              /* CMAC(K1, <zero>), first S2V step */
	size_t key_len;
};

/* One associated-data component (S1..Sn-1 of S2V). */
struct nk_siv_ad {
	const void *data;
	size_t len;
};

/* Key length for an AEAD id (15, 16, 17), or 0 for anything else. */
size_t nk_siv_key_len(int aead_id);

/* key_len 32, 48 or 64 (AES-128/192/256 for both halves). 0 or -1. */
int nk_siv_init(struct nk_siv_ctx *s, const void *key, size_t key_len, int impl);
void nk_siv_clear(struct nk_siv_ctx *s);

/* SIV-Encrypt (RFC 5297 §2.6) with the AD vector ad[0..n_ad): writes
 * NK_SIV_TAG_LEN + pt_len octets to out (tag, then ciphertext). pt may
 * overlap out (e.g. pt == out + 16, encrypting in place). For nonce-based
 * use (§3) the nonce is the LAST AD component. n_ad may be 0 (deterministic
 * mode, §4). Returns 0, or -1 when n_ad > NK_SIV_MAX_AD or pt_len >
 * NK_SIV_MAX_LEN. */
int nk_siv_seal(const struct nk_siv_ctx *s, const struct nk_siv_ad *ad,
	size_t n_ad, const void *pt, size_t pt_len, void *out);

/* SIV-Decrypt (RFC 5297 §2.7): in is tag || ciphertext (in_len >= 16);
 * writes in_len - 16 octets of plaintext to pt (may overlap in). 0 when
 * the tag verifies; -1 otherwise (pt is then zeroed) or on bad lengths. */
int nk_siv_open(const struct nk_siv_ctx *s, const struct nk_siv_ad *ad,
	size_t n_ad, const void *in, size_t in_len, void *pt);

/* RFC 5116 interface of AEAD_AES_SIV_CMAC_* (RFC 5297 §6): S2V over the
 * two components A and N (A first, then the nonce), then the plaintext.
 * This is what NTS (RFC 8915 §5.6) uses: A = the packet up to the
 * authenticator field, N = the nonce. nonce_len must be >= 1 (N_MIN). */
int nk_siv_aead_seal(const struct nk_siv_ctx *s, const void *a, size_t a_len,
	const void *nonce, size_t nonce_len, const void *pt, size_t pt_len,
	void *out);
int nk_siv_aead_open(const struct nk_siv_ctx *s, const void *a, size_t a_len,
	const void *nonce, size_t nonce_len, const void *in, size_t in_len,
	void *pt);

#endif
