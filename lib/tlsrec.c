#include "tlsrec.h"

#include <string.h>

#include "hkdf.h"
#include "ct.h"
#include "util.h"

/* The fastest constant-time implementations this CPU supports. The probes
 * execute CPUID (slow under virtualisation), so they run once per process;
 * concurrent first calls store the same values. */
static struct {
	int done;
	const br_block_ctr_class *ctr;
	br_ghash ghash;
	br_chacha20_run chacha;
	br_poly1305_run poly;
} impl;

static void impl_select(void)
{
	if (impl.done)
		return;
	impl.ctr = br_aes_x86ni_ctr_get_vtable();
	if (impl.ctr == NULL)
		impl.ctr = &br_aes_ct64_ctr_vtable;
	impl.ghash = br_ghash_pclmul_get();
	if (impl.ghash == 0)
		impl.ghash = &br_ghash_ctmul64;
	impl.chacha = br_chacha20_sse2_get();
	if (impl.chacha == 0)
		impl.chacha = &br_chacha20_ct_run;
	impl.poly = br_poly1305_ctmulq_get();
	if (impl.poly == 0)
		impl.poly = &br_poly1305_ctmul_run;
	impl.done = 1;
}

int nk_aead_init(struct nk_aead *a, int chacha, const void *key, size_t key_len)
{
	memset(a, 0, sizeof *a);
	if (chacha) {
		if (key_len != 32)
			return -1;
		a->chacha = 1;
		impl_select();
		a->chacha_run = impl.chacha;
		a->poly_run = impl.poly;
	} else {
		if (key_len != 16 && key_len != 24 && key_len != 32)
			return -1;
		impl_select();
		a->ctr = impl.ctr;
		a->ctr->init(&a->aes.vtable, key, key_len);
		a->ghash = impl.ghash;
	}
	memcpy(a->key, key, key_len);
	a->key_len = key_len;
	return 0;
}

void nk_aead_seal(struct nk_aead *a, const unsigned char nonce[12],
	const void *aad, size_t aad_len, void *data, size_t len, unsigned char tag[16])
{
	if (a->chacha) {
		a->poly_run(a->key, nonce, data, len, aad, aad_len, tag, a->chacha_run, 1);
	} else {
		br_gcm_context g;

		br_gcm_init(&g, &a->aes.vtable, a->ghash);
		br_gcm_reset(&g, nonce, 12);
		br_gcm_aad_inject(&g, aad, aad_len);
		br_gcm_flip(&g);
		br_gcm_run(&g, 1, data, len);
		br_gcm_get_tag(&g, tag);
		nk_wipe(&g, sizeof g);
	}
}

int nk_aead_open(struct nk_aead *a, const unsigned char nonce[12],
	const void *aad, size_t aad_len, void *data, size_t len, const unsigned char tag[16])
{
	if (a->chacha) {
		unsigned char t[16];
		int ok;

		a->poly_run(a->key, nonce, data, len, aad, aad_len, t, a->chacha_run, 0);
		ok = nk_ct_eq(t, tag, 16);
		nk_wipe(t, sizeof t);
		/* deliberate public branch: the tag check's verdict */
		NK_CT_PUBLIC(&ok, sizeof ok);
		return ok ? 0 : -1;
	} else {
		br_gcm_context g;
		uint32_t ok;

		br_gcm_init(&g, &a->aes.vtable, a->ghash);
		br_gcm_reset(&g, nonce, 12);
		br_gcm_aad_inject(&g, aad, aad_len);
		br_gcm_flip(&g);
		br_gcm_run(&g, 0, data, len);
		ok = br_gcm_check_tag(&g, tag);
		nk_wipe(&g, sizeof g);
		/* deliberate public branch: the tag check's verdict */
		NK_CT_PUBLIC(&ok, sizeof ok);
		return ok ? 0 : -1;
	}
}

const br_hash_class *nk_tlsrec_suite_hash(uint16_t suite)
{
	switch (suite) {
	case NK_TLS_AES_128_GCM_SHA256:
	case NK_TLS_CHACHA20_POLY1305_SHA256:
		return &br_sha256_vtable;
	case NK_TLS_AES_256_GCM_SHA384:
		return &br_sha384_vtable;
	}
	return NULL;
}

const char *nk_tlsrec_suite_name(uint16_t suite)
{
	switch (suite) {
	case NK_TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256";
	case NK_TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384";
	case NK_TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256";
	}
	return "unknown";
}

static size_t suite_key_len(uint16_t suite)
{
	return suite == NK_TLS_AES_128_GCM_SHA256 ? 16 : 32;
}

int nk_tlsrec_set_key(struct nk_tlsrec *r, uint16_t suite, const void *key, const void *iv)
{
	if (nk_tlsrec_suite_hash(suite) == NULL)
		return -1;
	if (nk_aead_init(&r->aead, suite == NK_TLS_CHACHA20_POLY1305_SHA256, key,
			suite_key_len(suite)) < 0)
		return -1;
	memcpy(r->iv, iv, 12);
	r->suite = suite;
	r->seq = 0;
	r->active = 1;
	return 0;
}

int nk_tlsrec_set_secret(struct nk_tlsrec *r, uint16_t suite, const void *secret)
{
	const br_hash_class *h = nk_tlsrec_suite_hash(suite);
	unsigned char key[32], iv[12];
	int rc;

	if (h == NULL)
		return -1;
	if (nk_hkdf_expand_label(h, secret, "key", NULL, 0, key, suite_key_len(suite)) < 0 ||
	    nk_hkdf_expand_label(h, secret, "iv", NULL, 0, iv, 12) < 0)
		return -1;
	rc = nk_tlsrec_set_key(r, suite, key, iv);
	nk_wipe(key, sizeof key);
	nk_wipe(iv, sizeof iv);
	return rc;
}

/* §5.3: the 64-bit sequence number, big-endian, left-padded to iv_length,
 * XORed with the static iv. */
static void make_nonce(const struct nk_tlsrec *r, unsigned char nonce[12])
{
	int i;

	memcpy(nonce, r->iv, 12);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= (unsigned char)(r->seq >> (56 - 8 * i));
}

long nk_tlsrec_seal(struct nk_tlsrec *r, unsigned type, const void *data, size_t len,
	size_t pad, unsigned char *out, size_t cap)
{
	unsigned char nonce[12];
	size_t inner = len + 1 + pad, clen = inner + NK_TLS_TAG_LEN;

	if (!r->active || len > NK_TLS_MAX_PLAIN || inner > NK_TLS_MAX_PLAIN + 1 ||
	    NK_TLS_REC_HDR + clen > cap || r->seq == UINT64_MAX)
		return -1;
	/* TLSCiphertext: opaque_type = application_data, legacy_record_version = 0x0303 */
	out[0] = NK_CT_APPLICATION_DATA;
	out[1] = 3;
	out[2] = 3;
	out[3] = (unsigned char)(clen >> 8);
	out[4] = (unsigned char)clen;
	memmove(out + NK_TLS_REC_HDR, data, len);
	out[NK_TLS_REC_HDR + len] = (unsigned char)type;
	memset(out + NK_TLS_REC_HDR + len + 1, 0, pad);
	make_nonce(r, nonce);
	/* additional_data = TLSCiphertext.opaque_type || legacy_record_version || length */
	nk_aead_seal(&r->aead, nonce, out, NK_TLS_REC_HDR, out + NK_TLS_REC_HDR, inner,
		out + NK_TLS_REC_HDR + inner);
	r->seq++;
	return (long)(NK_TLS_REC_HDR + clen);
}

long nk_tlsrec_open(struct nk_tlsrec *r, unsigned char *rec, size_t rec_len,
	unsigned *type, unsigned char **content)
{
	unsigned char nonce[12];
	size_t clen, n;

	if (rec_len < NK_TLS_REC_HDR)
		return -2;
	clen = (size_t)rec[3] << 8 | rec[4];
	if (clen != rec_len - NK_TLS_REC_HDR || clen > NK_TLS_MAX_CIPHER)
		return -2;
	if (clen < NK_TLS_TAG_LEN + 1 || rec[0] != NK_CT_APPLICATION_DATA || r->seq == UINT64_MAX)
		return -1;
	make_nonce(r, nonce);
	n = clen - NK_TLS_TAG_LEN;
	if (nk_aead_open(&r->aead, nonce, rec, NK_TLS_REC_HDR, rec + NK_TLS_REC_HDR, n,
			rec + NK_TLS_REC_HDR + n) < 0)
		return -1;
	r->seq++;
	/* §5.2/§5.4: the whole TLSInnerPlaintext (content, type and padding)
	 * is at most 2^14 + 1 octets, checked before the padding is stripped
	 * (after it, an oversized padded record would look small). */
	if (n > NK_TLS_MAX_PLAIN + 1)
		return -2;
	/* §5.2: strip zero padding; the last non-zero byte is the real type.
	 * §5.4: found by a scan of the whole plaintext whose time depends only
	 * on the record's length; the position is then public: it is the
	 * content length this function returns. */
	{
		size_t last = 0;

		for (size_t i = 0; i < n; i++) {
			size_t nz = (size_t)0 - (size_t)(~nk_ct_mask_eq(rec[NK_TLS_REC_HDR + i], 0) & 1);

			last = (last & ~nz) | ((i + 1) & nz);
		}
		NK_CT_PUBLIC(&last, sizeof last);
		if (last == 0)
			return -3;
		n = last - 1;
	}
	*type = rec[NK_TLS_REC_HDR + n];
	/* deliberate public value: the inner content type of an authentic
	 * record (the caller dispatches on it) */
	NK_CT_PUBLIC(type, sizeof *type);
	*content = rec + NK_TLS_REC_HDR;
	return (long)n;
}

void nk_tlsrec_wipe(struct nk_tlsrec *r)
{
	nk_wipe(r, sizeof *r);
}
