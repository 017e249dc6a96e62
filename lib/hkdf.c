#include "hkdf.h"

#include <string.h>

#include "util.h"

size_t nk_hash_len(const br_hash_class *h)
{
	return (size_t)((h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK);
}

/* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM) */
size_t nk_hkdf_extract(const br_hash_class *h, const void *salt, size_t salt_len,
	const void *ikm, size_t ikm_len, void *prk)
{
	static const unsigned char zeros[NK_HKDF_MAX_HASH];
	br_hmac_key_context kc;
	br_hmac_context hc;
	size_t n;

	if (salt == NULL || salt_len == 0) {
		salt = zeros;
		salt_len = nk_hash_len(h);
	}
	br_hmac_key_init(&kc, h, salt, salt_len);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, ikm, ikm_len);
	n = br_hmac_out(&hc, prk);
	nk_wipe(&kc, sizeof kc);
	nk_wipe(&hc, sizeof hc);
	return n;
}

/* RFC 5869 §2.3: T(i) = HMAC-Hash(PRK, T(i-1) | info | i) */
int nk_hkdf_expand(const br_hash_class *h, const void *prk, size_t prk_len,
	const void *info, size_t info_len, void *out, size_t out_len)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char t[NK_HKDF_MAX_HASH];
	unsigned char *o = out;
	size_t hl = nk_hash_len(h), tl = 0, done = 0;
	unsigned i;

	if (out_len > 255 * hl)
		return -1;
	br_hmac_key_init(&kc, h, prk, prk_len);
	for (i = 1; done < out_len; i++) {
		unsigned char c = (unsigned char)i;
		size_t k;

		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, t, tl);
		br_hmac_update(&hc, info, info_len);
		br_hmac_update(&hc, &c, 1);
		tl = br_hmac_out(&hc, t);
		k = out_len - done < tl ? out_len - done : tl;
		memcpy(o + done, t, k);
		done += k;
	}
	nk_wipe(t, sizeof t);
	nk_wipe(&kc, sizeof kc);
	nk_wipe(&hc, sizeof hc);
	return 0;
}

/*
 * RFC 8446 §7.1:
 *   struct {
 *       uint16 length = Length;
 *       opaque label<7..255> = "tls13 " + Label;
 *       opaque context<0..255> = Context;
 *   } HkdfLabel;
 */
int nk_hkdf_expand_label(const br_hash_class *h, const void *secret,
	const char *label, const void *ctx, size_t ctx_len, void *out, size_t out_len)
{
	unsigned char info[2 + 1 + 255 + 1 + 255];
	size_t ll = strlen(label), n = 0;
	int r;

	if (ll > 255 - 6 || ctx_len > 255 || out_len > 65535)
		return -1;
	info[n++] = (unsigned char)(out_len >> 8);
	info[n++] = (unsigned char)out_len;
	info[n++] = (unsigned char)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = (unsigned char)ctx_len;
	if (ctx_len > 0)
		memcpy(info + n, ctx, ctx_len);
	n += ctx_len;
	r = nk_hkdf_expand(h, secret, nk_hash_len(h), info, n, out, out_len);
	nk_wipe(info, sizeof info);
	return r;
}

/* RFC 8446 §7.1: Derive-Secret(Secret, Label, Messages) =
 *   HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length) */
int nk_hkdf_derive_secret(const br_hash_class *h, const void *secret,
	const char *label, const void *thash, void *out)
{
	size_t hl = nk_hash_len(h);

	return nk_hkdf_expand_label(h, secret, label, thash, hl, out, hl);
}
