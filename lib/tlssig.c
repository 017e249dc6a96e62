/*
 * tlssig: TLS 1.3 signature schemes (RFC 8446 §4.2.3) on BearSSL primitives.
 *
 * ECDSA verification uses BearSSL's verifier over lib/ec's curves (P-256
 * from lib/p256) after a strict DER check of the signature here (RFC 8446
 * §4.2.3: ECDSA signatures are DER-encoded Ecdsa-Sig-Value); P-256 signing
 * is lib/p256's, P-384 BearSSL's; RSASSA-PSS (RFC 8017 §8.1, EMSA-PSS §9.1) is written
 * here on BearSSL's raw RSA public/private operations, MGF1 (§B.2.1) over
 * the same hash as the message.
 *
 * Keys: struct nk_pubkey / nk_privkey keep every key element inside their
 * own buf[]; the functions here never follow the pointers stored in the
 * BearSSL key structs but re-derive them from buf[] and the stored lengths,
 * so a struct copied by value (e.g. returned inside a result) stays usable.
 *   pubkey RSA : buf = n || e          (key.rsa.nlen, key.rsa.elen)
 *   pubkey EC  : buf = Q               (key.ec.qlen, key.ec.curve)
 *   privkey RSA: buf = p || q || dp || dq || iq
 *   privkey EC : buf = x
 */
#include <string.h>

#include "tlssig.h"
#include "ct.h"
#include "ec.h"

/* ---------------------------------------------------------------- keys */

static size_t strip0(const unsigned char **p, size_t len)
{
	while (len > 0 && (*p)[0] == 0) {
		(*p)++;
		len--;
	}
	return len;
}

int nk_pubkey_set(struct nk_pubkey *pk, const br_x509_pkey *src)
{
	memset(pk, 0, sizeof *pk);
	if (src == NULL)
		return -1;
	if (src->key_type == BR_KEYTYPE_RSA) {
		const unsigned char *n = src->key.rsa.n, *e = src->key.rsa.e;
		size_t nlen = strip0(&n, src->key.rsa.nlen);
		size_t elen = strip0(&e, src->key.rsa.elen);
		if (nlen == 0 || nlen > NK_RSA_MAX_BYTES || elen == 0 || elen > 8)
			return -1;
		memcpy(pk->buf, n, nlen);
		memcpy(pk->buf + nlen, e, elen);
		pk->key_type = BR_KEYTYPE_RSA;
		pk->key.rsa.n = pk->buf;
		pk->key.rsa.nlen = nlen;
		pk->key.rsa.e = pk->buf + nlen;
		pk->key.rsa.elen = elen;
		return 0;
	}
	if (src->key_type == BR_KEYTYPE_EC) {
		if (src->key.ec.qlen == 0 || src->key.ec.qlen > sizeof pk->buf)
			return -1;
		memcpy(pk->buf, src->key.ec.q, src->key.ec.qlen);
		pk->key_type = BR_KEYTYPE_EC;
		pk->key.ec.curve = src->key.ec.curve;
		pk->key.ec.q = pk->buf;
		pk->key.ec.qlen = src->key.ec.qlen;
		return 0;
	}
	return -1;
}

/* Views of the keys with pointers into their own buf[] (copy-safe). */
static int pub_rsa(const struct nk_pubkey *pk, br_rsa_public_key *v)
{
	if (pk->key_type != BR_KEYTYPE_RSA || pk->key.rsa.nlen == 0
		|| pk->key.rsa.nlen > NK_RSA_MAX_BYTES || pk->key.rsa.elen == 0
		|| pk->key.rsa.elen > 8)
		return -1;
	v->n = (unsigned char *)pk->buf;
	v->nlen = pk->key.rsa.nlen;
	v->e = (unsigned char *)pk->buf + v->nlen;
	v->elen = pk->key.rsa.elen;
	return 0;
}

static int pub_ec(const struct nk_pubkey *pk, br_ec_public_key *v)
{
	if (pk->key_type != BR_KEYTYPE_EC || pk->key.ec.qlen == 0
		|| pk->key.ec.qlen > sizeof pk->buf)
		return -1;
	v->curve = pk->key.ec.curve;
	v->q = (unsigned char *)pk->buf;
	v->qlen = pk->key.ec.qlen;
	return 0;
}

static int priv_rsa(const struct nk_privkey *sk, br_rsa_private_key *v)
{
	const br_rsa_private_key *k = &sk->key.rsa;
	size_t tot = k->plen + k->qlen + k->dplen + k->dqlen + k->iqlen;
	unsigned char *b = (unsigned char *)sk->buf;
	if (sk->key_type != BR_KEYTYPE_RSA || tot > sizeof sk->buf
		|| k->n_bitlen < 512 || k->n_bitlen > 8 * NK_RSA_MAX_BYTES)
		return -1;
	v->n_bitlen = k->n_bitlen;
	v->p = b;                   v->plen = k->plen;   b += k->plen;
	v->q = b;                   v->qlen = k->qlen;   b += k->qlen;
	v->dp = b;                  v->dplen = k->dplen; b += k->dplen;
	v->dq = b;                  v->dqlen = k->dqlen; b += k->dqlen;
	v->iq = b;                  v->iqlen = k->iqlen;
	return 0;
}

static int priv_ec(const struct nk_privkey *sk, br_ec_private_key *v)
{
	if (sk->key_type != BR_KEYTYPE_EC || sk->key.ec.xlen == 0
		|| sk->key.ec.xlen > sizeof sk->buf)
		return -1;
	v->curve = sk->key.ec.curve;
	v->x = (unsigned char *)sk->buf;
	v->xlen = sk->key.ec.xlen;
	return 0;
}

/* Bit length of a big-endian unsigned integer. */
static unsigned bitlen(const unsigned char *x, size_t len)
{
	size_t i = 0;
	while (i < len && x[i] == 0)
		i++;
	if (i == len)
		return 0;
	unsigned b = (unsigned)(len - i) * 8, top = x[i];
	while (!(top & 0x80)) {
		top <<= 1;
		b--;
	}
	return b;
}

/* ------------------------------------------------------------ schemes */

static const br_hash_class *scheme_hash(uint16_t scheme, int *curve)
{
	int c = 0;
	const br_hash_class *h = NULL;
	switch (scheme) {
	case NK_SIG_ECDSA_P256_SHA256:   h = &br_sha256_vtable; c = BR_EC_secp256r1; break;
	case NK_SIG_ECDSA_P384_SHA384:   h = &br_sha384_vtable; c = BR_EC_secp384r1; break;
	case NK_SIG_RSA_PSS_RSAE_SHA256: h = &br_sha256_vtable; break;
	case NK_SIG_RSA_PSS_RSAE_SHA384: h = &br_sha384_vtable; break;
	case NK_SIG_RSA_PSS_RSAE_SHA512: h = &br_sha512_vtable; break;
	default: break;
	}
	if (curve)
		*curve = c;
	return h;
}

static size_t hash_len(const br_hash_class *h)
{
	return (size_t)(h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

static void hash_buf(const br_hash_class *h, const void *m, size_t len, unsigned char *out)
{
	br_hash_compat_context hc;
	h->init(&hc.vtable);
	h->update(&hc.vtable, m, len);
	h->out(&hc.vtable, out);
}

const char *nk_tlssig_name(uint16_t scheme)
{
	switch (scheme) {
	case NK_SIG_ECDSA_P256_SHA256:   return "ecdsa_secp256r1_sha256";
	case NK_SIG_ECDSA_P384_SHA384:   return "ecdsa_secp384r1_sha384";
	case NK_SIG_RSA_PSS_RSAE_SHA256: return "rsa_pss_rsae_sha256";
	case NK_SIG_RSA_PSS_RSAE_SHA384: return "rsa_pss_rsae_sha384";
	case NK_SIG_RSA_PSS_RSAE_SHA512: return "rsa_pss_rsae_sha512";
	default:                         return "unknown";
	}
}

/* RSA-PSS needs emLen >= hLen + sLen + 2 with sLen = hLen (RFC 8446 §4.2.3). */
static int pss_fits_bits(unsigned modbits, size_t hlen)
{
	size_t emlen = (modbits - 1 + 7) / 8;
	return modbits >= 2 && emlen >= 2 * hlen + 2;
}

int nk_tlssig_fits_pub(uint16_t scheme, const struct nk_pubkey *pk)
{
	int curve;
	const br_hash_class *h = scheme_hash(scheme, &curve);
	if (h == NULL || pk == NULL)
		return 0;
	if (curve) {
		br_ec_public_key v;
		return pub_ec(pk, &v) == 0 && v.curve == curve;
	}
	br_rsa_public_key v;
	if (pub_rsa(pk, &v) != 0)
		return 0;
	return pss_fits_bits(bitlen(v.n, v.nlen), hash_len(h));
}

int nk_tlssig_fits_priv(uint16_t scheme, const struct nk_privkey *sk)
{
	int curve;
	const br_hash_class *h = scheme_hash(scheme, &curve);
	if (h == NULL || sk == NULL)
		return 0;
	if (curve) {
		br_ec_private_key v;
		return priv_ec(sk, &v) == 0 && v.curve == curve;
	}
	br_rsa_private_key v;
	if (priv_rsa(sk, &v) != 0)
		return 0;
	return pss_fits_bits(v.n_bitlen, hash_len(h));
}

/* -------------------------------------------------------------- ECDSA */

/* Strict DER of Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
 * (RFC 3279 §2.2.3): minimal lengths, minimal non-negative integers, no
 * trailing bytes. Writes r||s, each left-padded to 'flen' bytes, to raw.
 * 0 or -1. Only the short and one-byte long length forms can occur here. */
static int der_len(const unsigned char *p, size_t n, size_t *off, size_t *len)
{
	if (*off >= n)
		return -1;
	unsigned b = p[(*off)++];
	if (b < 0x80) {
		*len = b;
	} else if (b == 0x81) {
		if (*off >= n || p[*off] < 0x80)   /* not minimal */
			return -1;
		*len = p[(*off)++];
	} else {
		return -1;
	}
	return *len <= n - *off ? 0 : -1;
}

static int der_uint(const unsigned char *p, size_t n, size_t *off,
	unsigned char *out, size_t flen)
{
	size_t len;
	if (*off >= n || p[(*off)++] != 0x02 || der_len(p, n, off, &len) != 0 || len == 0)
		return -1;
	const unsigned char *v = p + *off;
	*off += len;
	if (v[0] & 0x80)                        /* negative */
		return -1;
	if (len > 1 && v[0] == 0 && !(v[1] & 0x80)) /* non-minimal */
		return -1;
	if (v[0] == 0) {
		v++;
		len--;
	}
	if (len > flen)
		return -1;
	memset(out, 0, flen - len);
	memcpy(out + flen - len, v, len);
	return 0;
}

static int ecdsa_der_to_raw(const unsigned char *sig, size_t n, unsigned char *raw, size_t flen)
{
	size_t off = 0, len;
	if (n < 2 || sig[off++] != 0x30 || der_len(sig, n, &off, &len) != 0 || off + len != n)
		return -1;
	if (der_uint(sig, n, &off, raw, flen) != 0 || der_uint(sig, n, &off, raw + flen, flen) != 0)
		return -1;
	return off == n ? 0 : -1;
}

/* ------------------------------------------------------------ RSA-PSS */

/* MGF1 (RFC 8017 §B.2.1): out ^= MGF1(seed, len). */
static void mgf1_xor(const br_hash_class *h, const unsigned char *seed, size_t slen,
	unsigned char *out, size_t len)
{
	size_t hlen = hash_len(h);
	unsigned char t[64];
	uint32_t c = 0;
	for (size_t done = 0; done < len; c++) {
		unsigned char cb[4] = { (unsigned char)(c >> 24), (unsigned char)(c >> 16),
			(unsigned char)(c >> 8), (unsigned char)c };
		br_hash_compat_context hc;
		h->init(&hc.vtable);
		h->update(&hc.vtable, seed, slen);
		h->update(&hc.vtable, cb, 4);
		h->out(&hc.vtable, t);
		for (size_t i = 0; i < hlen && done < len; i++)
			out[done++] ^= t[i];
	}
	nk_wipe(t, sizeof t);
}

/* H = Hash(0x00*8 || mHash || salt) (RFC 8017 §9.1.1 steps 5-6, §9.1.2 steps 12-13). */
static void pss_hash(const br_hash_class *h, const void *mhash, size_t hlen,
	const unsigned char *salt, size_t slen, unsigned char *out)
{
	static const unsigned char zero8[8];
	br_hash_compat_context hc;
	h->init(&hc.vtable);
	h->update(&hc.vtable, zero8, 8);
	h->update(&hc.vtable, mhash, hlen);
	h->update(&hc.vtable, salt, slen);
	h->out(&hc.vtable, out);
}

int nk_rsa_pss_verify(const br_hash_class *hash, const void *mhash, size_t hlen,
	size_t slen, const br_rsa_public_key *pk, const void *sig, size_t sig_len)
{
	unsigned char em[NK_RSA_MAX_BYTES], h2[64];
	if (hash == NULL || pk == NULL || hlen != hash_len(hash) || hlen > sizeof h2)
		return -1;
	const unsigned char *n = pk->n;
	size_t k = strip0(&n, pk->nlen);          /* k: modulus length in octets */
	unsigned modbits = bitlen(n, k);
	if (k == 0 || k > NK_RSA_MAX_BYTES || modbits < 2)
		return -1;
	/* §8.1.2 step 1: the signature is exactly k octets */
	if (sig_len != k)
		return -1;
	/* step 2: s = OS2IP(S); m = RSAVP1(pk, s) (BearSSL checks s < n) */
	br_rsa_public_key v = *pk;
	v.n = (unsigned char *)n;
	v.nlen = k;
	memcpy(em, sig, k);
	if (br_rsa_public_get_default()(em, k, &v) != 1)
		return -1;
	/* step 2c: EM = I2OSP(m, emLen), emLen = ceil((modBits-1)/8); when
	 * emLen < k the leading octet of m must be zero. */
	size_t embits = modbits - 1, emlen = (embits + 7) / 8;
	const unsigned char *EM = em + (k - emlen);
	if (emlen < k && em[0] != 0)
		return -1;
	/* §9.1.2 EMSA-PSS-VERIFY */
	if (emlen < hlen + slen + 2)                       /* step 3 */
		return -1;
	if (EM[emlen - 1] != 0xbc)                         /* step 4 */
		return -1;
	size_t dblen = emlen - hlen - 1;
	unsigned char *db = em + (k - emlen);              /* step 5: maskedDB, then H */
	const unsigned char *H = db + dblen;
	unsigned topmask = 0xffu >> (8 * emlen - embits);  /* bits that may be set in DB[0] */
	if (db[0] & ~topmask)                              /* step 6 */
		return -1;
	mgf1_xor(hash, H, hlen, db, dblen);                /* steps 7-8 */
	db[0] &= (unsigned char)topmask;                   /* step 9 */
	size_t pslen = emlen - hlen - slen - 2;            /* step 10 */
	unsigned bad = 0;
	for (size_t i = 0; i < pslen; i++)
		bad |= db[i];
	bad |= db[pslen] ^ 0x01u;
	if (bad)
		return -1;
	pss_hash(hash, mhash, hlen, db + dblen - slen, slen, h2); /* steps 11-13 */
	int ok = nk_ct_eq(h2, H, hlen);                    /* step 14 */
	nk_wipe(em, sizeof em);
	return ok ? 0 : -1;
}

long nk_rsa_pss_sign(const br_hash_class *hash, const void *mhash, size_t hlen,
	const void *salt, size_t slen, const br_rsa_private_key *sk, void *sig, size_t sig_cap)
{
	unsigned char x[NK_RSA_MAX_BYTES];
	if (hash == NULL || sk == NULL || hlen != hash_len(hash) || sk->n_bitlen < 2
		|| sk->n_bitlen > 8 * NK_RSA_MAX_BYTES)
		return -1;
	size_t k = (sk->n_bitlen + 7) / 8;
	size_t embits = sk->n_bitlen - 1, emlen = (embits + 7) / 8;
	if (sig_cap < k || emlen < hlen + slen + 2)        /* §9.1.1 step 3 */
		return -1;
	/* EM = maskedDB || H || 0xbc, placed at the end of a k-octet buffer */
	memset(x, 0, k);
	unsigned char *EM = x + (k - emlen);
	size_t dblen = emlen - hlen - 1;
	unsigned char *H = EM + dblen;
	pss_hash(hash, mhash, hlen, salt, slen, H);        /* steps 5-6 */
	/* steps 7-9: DB = PS || 0x01 || salt (PS already zero) */
	EM[dblen - slen - 1] = 0x01;
	memcpy(EM + dblen - slen, salt, slen);
	mgf1_xor(hash, H, hlen, EM, dblen);                /* steps 9-10 */
	EM[0] &= (unsigned char)(0xffu >> (8 * emlen - embits)); /* step 11 */
	EM[emlen - 1] = 0xbc;                              /* step 12 */
	/* §8.1.1 step 2: s = RSASP1(K, m) */
	uint32_t ok = br_rsa_private_get_default()(x, sk);
	/* deliberate public branch: BearSSL's verdict on the key and input */
	NK_CT_PUBLIC(&ok, sizeof ok);
	if (ok != 1) {
		nk_wipe(x, sizeof x);
		return -1;
	}
	/* the signature is the public output */
	NK_CT_PUBLIC(x, k);
	memcpy(sig, x, k);
	nk_wipe(x, sizeof x);
	return (long)k;
}

/* ----------------------------------------------------- verify / sign */

int nk_tlssig_verify(uint16_t scheme, const struct nk_pubkey *pk,
	const void *msg, size_t msg_len, const void *sig, size_t sig_len)
{
	int curve;
	const br_hash_class *h = scheme_hash(scheme, &curve);
	unsigned char mh[64];
	if (h == NULL || pk == NULL || (msg == NULL && msg_len) || sig == NULL)
		return -1;
	size_t hlen = hash_len(h);
	hash_buf(h, msg, msg_len, mh);
	if (curve) {
		br_ec_public_key v;
		unsigned char raw[2 * 48];
		size_t flen = curve == BR_EC_secp256r1 ? 32 : 48;
		if (pub_ec(pk, &v) != 0 || v.curve != curve
			|| ecdsa_der_to_raw(sig, sig_len, raw, flen) != 0)
			return -1;
		/* br_ecdsa_i31_vrfy_raw also checks 0 < r,s < order and the point */
		return br_ecdsa_vrfy_raw_get_default()(&nk_ec_all, mh, hlen,
			&v, raw, 2 * flen) == 1 ? 0 : -1;
	}
	br_rsa_public_key v;
	if (pub_rsa(pk, &v) != 0)
		return -1;
	/* RFC 8446 §4.2.3: MGF1 with the same hash, salt length = hash length */
	return nk_rsa_pss_verify(h, mh, hlen, hlen, &v, sig, sig_len);
}

long nk_tlssig_sign(uint16_t scheme, const struct nk_privkey *sk,
	const void *msg, size_t msg_len, void *sig, size_t sig_cap)
{
	int curve;
	const br_hash_class *h = scheme_hash(scheme, &curve);
	unsigned char mh[64];
	if (h == NULL || sk == NULL || (msg == NULL && msg_len) || sig == NULL
		|| !nk_tlssig_fits_priv(scheme, sk))
		return -1;
	size_t hlen = hash_len(h);
	hash_buf(h, msg, msg_len, mh);
	if (curve) {
		br_ec_private_key v;
		unsigned char tmp[160];   /* > max DER size for P-384 (104) */
		if (priv_ec(sk, &v) != 0)
			return -1;
		size_t n = nk_ec_ecdsa_sign_asn1(h, mh, &v, tmp);
		if (n == 0 || n > sig_cap)
			return -1;
		memcpy(sig, tmp, n);
		return (long)n;
	}
	br_rsa_private_key v;
	unsigned char salt[64];
	if (priv_rsa(sk, &v) != 0 || nk_random(salt, hlen) != 0)
		return -1;
	long r = nk_rsa_pss_sign(h, mh, hlen, salt, hlen, &v, sig, sig_cap);
	nk_wipe(salt, sizeof salt);
	return r;
}

/* ------------------------------------------------------ private keys */

int nk_privkey_set_rsa(struct nk_privkey *sk, const br_rsa_private_key *src)
{
	memset(sk, 0, sizeof *sk);
	size_t tot = src->plen + src->qlen + src->dplen + src->dqlen + src->iqlen;
	if (tot > sizeof sk->buf || src->n_bitlen < 512 || src->n_bitlen > 8 * NK_RSA_MAX_BYTES)
		return -1;
	unsigned char *b = sk->buf;
	sk->key_type = BR_KEYTYPE_RSA;
	sk->key.rsa.n_bitlen = src->n_bitlen;
	memcpy(b, src->p, src->plen);   sk->key.rsa.p = b;  sk->key.rsa.plen = src->plen;   b += src->plen;
	memcpy(b, src->q, src->qlen);   sk->key.rsa.q = b;  sk->key.rsa.qlen = src->qlen;   b += src->qlen;
	memcpy(b, src->dp, src->dplen); sk->key.rsa.dp = b; sk->key.rsa.dplen = src->dplen; b += src->dplen;
	memcpy(b, src->dq, src->dqlen); sk->key.rsa.dq = b; sk->key.rsa.dqlen = src->dqlen; b += src->dqlen;
	memcpy(b, src->iq, src->iqlen); sk->key.rsa.iq = b; sk->key.rsa.iqlen = src->iqlen;
	return 0;
}

int nk_privkey_set_ec(struct nk_privkey *sk, const br_ec_private_key *src)
{
	memset(sk, 0, sizeof *sk);
	if (src->xlen == 0 || src->xlen > sizeof sk->buf)
		return -1;
	memcpy(sk->buf, src->x, src->xlen);
	sk->key_type = BR_KEYTYPE_EC;
	sk->key.ec.curve = src->curve;
	sk->key.ec.x = sk->buf;
	sk->key.ec.xlen = src->xlen;
	return 0;
}

void nk_privkey_wipe(struct nk_privkey *sk)
{
	nk_wipe(sk, sizeof *sk);
}
