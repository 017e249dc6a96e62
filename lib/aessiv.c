/* aessiv: AES-CMAC (RFC 4493) and AES-SIV (RFC 5297). See aessiv.h. */
#include "aessiv.h"

#include <stdatomic.h>
#include <string.h>

#include "ct.h"
#include "util.h"

/* br_aes_x86ni_*_get_vtable() runs CPUID, which costs tens of
 * microseconds under some hypervisors (measured: 30 us), far more than a
 * whole NTS packet. The answer cannot change while the process runs, so it
 * is asked once and kept: 0 = not asked yet, 1 = AES-NI, 2 = none. Two
 * threads racing here store the same value. */
static _Atomic int ni_state;

static int have_ni(void)
{
	int s = atomic_load_explicit(&ni_state, memory_order_relaxed);

	if (s == 0) {
		s = (br_aes_x86ni_cbcenc_get_vtable() != NULL &&
		     br_aes_x86ni_ctr_get_vtable() != NULL) ? 1 : 2;
		atomic_store_explicit(&ni_state, s, memory_order_relaxed);
	}
	return s == 1;
}

static const br_block_cbcenc_class *cbcenc_class(int impl)
{
	if (impl == NK_AES_AUTO && have_ni())
		return &br_aes_x86ni_cbcenc_vtable;
	return &br_aes_ct64_cbcenc_vtable;
}

static const br_block_ctr_class *ctr_class(int impl)
{
	if (impl == NK_AES_AUTO && have_ni())
		return &br_aes_x86ni_ctr_vtable;
	return &br_aes_ct64_ctr_vtable;
}

int nk_aes_has_ni(void)
{
	return have_ni();
}

/* dbl() of RFC 5297 §2.3 / the subkey step of RFC 4493 §2.3: multiply by x
 * in GF(2^128), branch-free (the input is secret). */
static void dbl(uint8_t out[16], const uint8_t in[16])
{
	/* as two big-endian 64-bit halves: (hi:lo) << 1, and 0x87 into the
	 * low octet when the top bit falls off */
	uint64_t hi = 0, lo = 0, carry;
	int i;

	for (i = 0; i < 8; i++) {
		hi = hi << 8 | in[i];
		lo = lo << 8 | in[8 + i];
	}
	carry = 0x87 & (0 - (hi >> 63));
	hi = hi << 1 | lo >> 63;
	lo = lo << 1 ^ carry;
	for (i = 7; i >= 0; i--) {
		out[i] = (uint8_t)hi;
		out[8 + i] = (uint8_t)lo;
		hi >>= 8;
		lo >>= 8;
	}
}

static void xor16(uint8_t *d, const uint8_t *a)
{
	int i;

	for (i = 0; i < 16; i++)
		d[i] ^= a[i];
}

/* ---- AES-CMAC (RFC 4493) ---- */

int nk_cmac_init(struct nk_cmac_key *k, const void *key, size_t key_len, int impl)
{
	const br_block_cbcenc_class *vt;
	uint8_t l[16], iv[16];

	if (key_len != 16 && key_len != 24 && key_len != 32)
		return -1;
	vt = cbcenc_class(impl);
	vt->init(&k->aes.vtable, key, key_len);
	/* RFC 4493 §2.3: L = AES-128(K, 0^128); K1 = dbl(L); K2 = dbl(K1) */
	memset(l, 0, sizeof l);
	memset(iv, 0, sizeof iv);
	vt->run(&k->aes.vtable, iv, l, 16);
	dbl(k->k1, l);
	dbl(k->k2, k->k1);
	nk_wipe(l, sizeof l);
	nk_wipe(iv, sizeof iv);
	return 0;
}

void nk_cmac_clear(struct nk_cmac_key *k)
{
	nk_wipe(k, sizeof *k);
}

void nk_cmac_start(struct nk_cmac_ctx *c, const struct nk_cmac_key *k)
{
	c->key = k;
	memset(c->x, 0, sizeof c->x);
	c->n = 0;
}

/* CBC-MAC over whole blocks: x = E(x ^ block) for each, via CBC encryption
 * with x as the IV (BearSSL leaves the last ciphertext block in iv). The
 * input is const, so blocks go through a small buffer. */
static void cbcmac_blocks(struct nk_cmac_ctx *c, const uint8_t *p, size_t len)
{
	const br_block_cbcenc_class *const *vt = &c->key->aes.vtable;
	uint8_t tmp[256];
	size_t used = len < sizeof tmp ? len : sizeof tmp;

	while (len > 0) {
		size_t n = len < sizeof tmp ? len : sizeof tmp;
		memcpy(tmp, p, n);
		(*vt)->run(vt, c->x, tmp, n);
		p += n;
		len -= n;
	}
	nk_wipe(tmp, used);
}

void nk_cmac_update(struct nk_cmac_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t take, full;

	/* The last block (complete or not) must wait for finish(): it is the
	 * one that gets K1 or K2. So a block is processed only when more
	 * input follows it. */
	if (len == 0)
		return;
	if (c->n + len <= 16) {
		memcpy(c->buf + c->n, p, len);
		c->n += len;
		return;
	}
	if (c->n > 0) {
		take = 16 - c->n;
		memcpy(c->buf + c->n, p, take);
		p += take;
		len -= take;
		cbcmac_blocks(c, c->buf, 16);   /* len > 0 still follows */
		c->n = 0;
	}
	/* keep 1..16 octets back */
	full = (len - 1) / 16 * 16;
	if (full > 0)
		cbcmac_blocks(c, p, full);
	memcpy(c->buf, p + full, len - full);
	c->n = len - full;
}

void nk_cmac_finish(struct nk_cmac_ctx *c, uint8_t out[NK_CMAC_LEN])
{
	uint8_t last[16];

	/* RFC 4493 §2.4 steps 3-4: complete last block ^ K1, else
	 * padded (10^i) last block ^ K2 (also for the empty message). */
	if (c->n == 16) {
		memcpy(last, c->buf, 16);
		xor16(last, c->key->k1);
	} else {
		memset(last, 0, sizeof last);
		memcpy(last, c->buf, c->n);
		last[c->n] = 0x80;
		xor16(last, c->key->k2);
	}
	cbcmac_blocks(c, last, 16);
	memcpy(out, c->x, 16);
	nk_wipe(last, sizeof last);
	nk_wipe(c, sizeof *c);
}

void nk_cmac(const struct nk_cmac_key *k, const void *data, size_t len,
	uint8_t out[NK_CMAC_LEN])
{
	struct nk_cmac_ctx c;

	nk_cmac_start(&c, k);
	nk_cmac_update(&c, data, len);
	nk_cmac_finish(&c, out);
}

/* ---- AES-SIV (RFC 5297) ---- */

size_t nk_siv_key_len(int aead_id)
{
	switch (aead_id) {
	case NK_AEAD_AES_SIV_CMAC_256: return 32;
	case NK_AEAD_AES_SIV_CMAC_384: return 48;
	case NK_AEAD_AES_SIV_CMAC_512: return 64;
	default: return 0;
	}
}

int nk_siv_init(struct nk_siv_ctx *s, const void *key, size_t key_len, int impl)
{
	static const uint8_t zero[16];
	const uint8_t *k = key;
	const br_block_ctr_class *vt;
	size_t half = key_len / 2;

	if (key_len != 32 && key_len != 48 && key_len != 64)
		return -1;
	/* §2.6: K1 = leftmost(K, len(K)/2) for S2V, K2 = rightmost for CTR */
	if (nk_cmac_init(&s->mac, k, half, impl) < 0)
		return -1;
	vt = ctr_class(impl);
	vt->init(&s->ctr.vtable, k + half, half);
	nk_cmac(&s->mac, zero, 16, s->d0);
	s->key_len = key_len;
	return 0;
}

void nk_siv_clear(struct nk_siv_ctx *s)
{
	nk_wipe(s, sizeof *s);
}

/* S2V (§2.4) over ad[0..n_ad) and then the plaintext p as Sn. */
static void s2v(const struct nk_siv_ctx *s, const struct nk_siv_ad *ad,
	size_t n_ad, const uint8_t *p, size_t len, uint8_t v[16])
{
	struct nk_cmac_ctx c;
	uint8_t d[16], t[16];
	size_t i;

	memcpy(d, s->d0, 16);                     /* D = CMAC(K, <zero>) */
	for (i = 0; i < n_ad; i++) {              /* D = dbl(D) xor CMAC(K, Si) */
		nk_cmac(&s->mac, ad[i].data, ad[i].len, t);
		dbl(d, d);
		xor16(d, t);
	}
	nk_cmac_start(&c, &s->mac);
	if (len >= 16) {                          /* T = Sn xorend D */
		nk_cmac_update(&c, p, len - 16);
		memcpy(t, p + len - 16, 16);
		xor16(t, d);
		nk_cmac_update(&c, t, 16);
	} else {                                  /* T = dbl(D) xor pad(Sn) */
		dbl(d, d);
		memset(t, 0, 16);
		if (len > 0)
			memcpy(t, p, len);
		t[len] = 0x80;
		xor16(t, d);
		nk_cmac_update(&c, t, 16);
	}
	nk_cmac_finish(&c, v);                    /* V = CMAC(K, T) */
	nk_wipe(d, sizeof d);
	nk_wipe(t, sizeof t);
}

/* CTR (§2.5) in place, counter Q = V with bits 63 and 31 cleared (§2.6). */
static void siv_ctr(const struct nk_siv_ctx *s, const uint8_t v[16], uint8_t *data,
	size_t len)
{
	const br_block_ctr_class *const *vt = &s->ctr.vtable;
	uint8_t q[16];
	uint32_t cc;

	if (len == 0)
		return;
	memcpy(q, v, 16);
	q[8] &= 0x7f;
	q[12] &= 0x7f;
	cc = (uint32_t)q[12] << 24 | (uint32_t)q[13] << 16 | (uint32_t)q[14] << 8 | q[15];
	(*vt)->run(vt, q, cc, data, len);
	nk_wipe(q, sizeof q);
}

int nk_siv_seal(const struct nk_siv_ctx *s, const struct nk_siv_ad *ad,
	size_t n_ad, const void *pt, size_t pt_len, void *out)
{
	uint8_t *o = out, v[16];

	if (n_ad > NK_SIV_MAX_AD || pt_len > NK_SIV_MAX_LEN)
		return -1;
	s2v(s, ad, n_ad, pt, pt_len, v);          /* V = S2V(K1, AD1..ADn, P) */
	if (pt_len > 0)
		memmove(o + NK_SIV_TAG_LEN, pt, pt_len);
	memcpy(o, v, 16);                         /* Z = V || C */
	siv_ctr(s, v, o + NK_SIV_TAG_LEN, pt_len);
	nk_wipe(v, sizeof v);
	return 0;
}

int nk_siv_open(const struct nk_siv_ctx *s, const struct nk_siv_ad *ad,
	size_t n_ad, const void *in, size_t in_len, void *pt)
{
	const uint8_t *z = in;
	uint8_t v[16], t[16];
	size_t len;
	int ok;

	if (n_ad > NK_SIV_MAX_AD || in_len < NK_SIV_TAG_LEN ||
	    in_len - NK_SIV_TAG_LEN > NK_SIV_MAX_LEN)
		return -1;
	len = in_len - NK_SIV_TAG_LEN;
	memcpy(v, z, 16);                         /* V = leftmost(Z, 128) */
	if (len > 0)
		memmove(pt, z + NK_SIV_TAG_LEN, len);
	siv_ctr(s, v, pt, len);                   /* P = CTR(K2, Q, C) */
	s2v(s, ad, n_ad, pt, len, t);             /* T = S2V(K1, AD1..ADn, P) */
	ok = nk_ct_eq(t, v, 16);
	/* deliberate public branch: the tag check's verdict */
	NK_CT_PUBLIC(&ok, sizeof ok);
	if (!ok && len > 0)
		nk_wipe(pt, len);
	nk_wipe(v, sizeof v);
	nk_wipe(t, sizeof t);
	return ok ? 0 : -1;
}

int nk_siv_aead_seal(const struct nk_siv_ctx *s, const void *a, size_t a_len,
	const void *nonce, size_t nonce_len, const void *pt, size_t pt_len,
	void *out)
{
	struct nk_siv_ad ad[2] = { { a, a_len }, { nonce, nonce_len } };

	if (nonce_len < 1)
		return -1;
	return nk_siv_seal(s, ad, 2, pt, pt_len, out);
}

int nk_siv_aead_open(const struct nk_siv_ctx *s, const void *a, size_t a_len,
	const void *nonce, size_t nonce_len, const void *in, size_t in_len,
	void *pt)
{
	struct nk_siv_ad ad[2] = { { a, a_len }, { nonce, nonce_len } };

	if (nonce_len < 1)
		return -1;
	return nk_siv_open(s, ad, 2, in, in_len, pt);
}
