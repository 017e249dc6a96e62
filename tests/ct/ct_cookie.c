/*
 * Cookies (lib/cookie.c): the master key and the session keys are secret,
 * and so is the AEAD id inside a cookie. Seal and open for each AEAD, and
 * open authentic-looking failures: a bad tag, an unknown AEAD id, non-zero
 * padding (sealed directly with the master key).
 */
#include "ct.h"
#include "cookie.h"

static struct nk_cookie_keys ks;

static void seal_raw(uint8_t c[NK_COOKIE_LEN], const uint8_t pt[NK_COOKIE_PT_LEN])
{
	static const uint8_t nonce[16] = { 3 };

	c[0] = (uint8_t)(ks.k[0].id >> 24); c[1] = (uint8_t)(ks.k[0].id >> 16);
	c[2] = (uint8_t)(ks.k[0].id >> 8); c[3] = (uint8_t)ks.k[0].id;
	memcpy(c + 4, nonce, 16);
	nk_siv_aead_seal(&ks.k[0].siv, c, 4, nonce, 16, pt, NK_COOKIE_PT_LEN, c + 20);
	PUBLIC(c, NK_COOKIE_LEN);     /* a cookie goes on the wire */
}

int main(void)
{
	uint8_t mk[32], nonce[16], c[NK_COOKIE_LEN], pt[NK_COOKIE_PT_LEN];
	struct nk_nts_keys k, out;

	fill(mk, sizeof mk, 7);
	nk_cookie_keys_init(&ks, 0);
	SECRET(mk, sizeof mk);
	check(nk_cookie_keys_add(&ks, 0x01020304, 1000, mk, NULL) == 0, "key added");
	for (int aead = 15; aead <= 17; aead++) {
		memset(&k, 0, sizeof k);
		k.aead = aead;
		k.key_len = nk_siv_key_len(aead);
		fill(k.c2s, k.key_len, (uint32_t)aead);
		fill(k.s2c, k.key_len, (uint32_t)aead + 100);
		fill(nonce, sizeof nonce, (uint32_t)aead + 200);
		SECRET(k.c2s, sizeof k.c2s);
		SECRET(k.s2c, sizeof k.s2c);
		check(nk_cookie_seal(&ks, &k, nonce, c) == 0, "sealed");
		PUBLIC(c, sizeof c);
		check(nk_cookie_open(&ks, c, sizeof c, &out) == 0, "opened");
		/* after acceptance the caller learns the session's AEAD and keys */
		PUBLIC(&out, sizeof out);
		PUBLIC(&k, sizeof k);
		check(out.aead == aead && out.key_len == k.key_len &&
			memcmp(out.c2s, k.c2s, 64) == 0 && memcmp(out.s2c, k.s2c, 64) == 0,
			"same keys back");
		c[40] ^= 1;                   /* bad tag */
		check(nk_cookie_open(&ks, c, sizeof c, &out) == -1, "bad tag refused");
	}
	/* authentic, but not a plaintext the server makes */
	for (int t = 0; t < 4; t++) {
		memset(pt, 0, sizeof pt);
		fill(pt + 2, sizeof pt - 2, (uint32_t)t + 300);
		pt[1] = (uint8_t)(t == 0 ? 18 : 14 + t);     /* 18 (unknown), 15, 16, 17 */
		pt[sizeof pt - 1] |= 1;   /* t > 0: the padding is not zero */
		SECRET(pt, sizeof pt);
		seal_raw(c, pt);
		check(nk_cookie_open(&ks, c, sizeof c, &out) == -1, "forged plaintext refused");
	}
	nk_cookie_keys_wipe(&ks);
	return ct_failed;
}
