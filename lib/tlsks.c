#include "tlsks.h"

#include <string.h>

#include "hkdf.h"
#include "util.h"

void nk_tlsks_init(struct nk_tlsks *ks)
{
	memset(ks, 0, sizeof *ks);
	br_sha256_init(&ks->t256);
	br_sha384_init(&ks->t384);
}

void nk_tlsks_set_hash(struct nk_tlsks *ks, const br_hash_class *h)
{
	ks->h = h;
	ks->hl = nk_hash_len(h);
}

void nk_tlsks_add(struct nk_tlsks *ks, const void *msg, size_t len)
{
	if (ks->h == NULL || ks->h == &br_sha256_vtable)
		br_sha256_update(&ks->t256, msg, len);
	if (ks->h == NULL || ks->h == &br_sha384_vtable)
		br_sha384_update(&ks->t384, msg, len);
}

void nk_tlsks_hash(const struct nk_tlsks *ks, void *out)
{
	if (ks->h == &br_sha384_vtable)
		br_sha384_out(&ks->t384, out);
	else
		br_sha256_out(&ks->t256, out);
}

/* §4.4.1: Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
 *   Hash(message_hash ||  00 00 Hash.length || Hash(ClientHello1) || HRR || ... Mn) */
void nk_tlsks_hrr_restart(struct nk_tlsks *ks)
{
	unsigned char mh[4 + NK_TLS_MAX_HASH];

	nk_tlsks_hash(ks, mh + 4);
	mh[0] = 254; /* message_hash */
	mh[1] = 0;
	mh[2] = 0;
	mh[3] = (unsigned char)ks->hl;
	br_sha256_init(&ks->t256);
	br_sha384_init(&ks->t384);
	nk_tlsks_add(ks, mh, 4 + ks->hl);
}

/* Hash("") for the "derived" steps. */
static void empty_hash(const br_hash_class *h, unsigned char *out)
{
	br_hash_compat_context c;

	h->init(&c.vtable);
	h->out(&c.vtable, out);
}

/*
 * §7.1:
 *             0
 *             |
 *   PSK ->  HKDF-Extract = Early Secret
 *             +-----> Derive-Secret(., "derived", "")
 *             v
 *   (EC)DHE -> HKDF-Extract = Handshake Secret
 *             +-----> Derive-Secret(., "c hs traffic", ClientHello...ServerHello)
 *             +-----> Derive-Secret(., "s hs traffic", ClientHello...ServerHello)
 */
int nk_tlsks_handshake(struct nk_tlsks *ks, const void *ecdhe, size_t ecdhe_len)
{
	unsigned char zeros[NK_TLS_MAX_HASH] = { 0 }, eh[NK_TLS_MAX_HASH], derived[NK_TLS_MAX_HASH];
	const br_hash_class *h = ks->h;
	int r = 0;

	if (h == NULL)
		return -1;
	nk_hkdf_extract(h, NULL, 0, zeros, ks->hl, ks->secret);      /* Early Secret */
	empty_hash(h, eh);
	r |= nk_hkdf_derive_secret(h, ks->secret, "derived", eh, derived);
	nk_hkdf_extract(h, derived, ks->hl, ecdhe, ecdhe_len, ks->secret); /* Handshake Secret */
	nk_tlsks_hash(ks, ks->h_ch_sh);
	r |= nk_hkdf_derive_secret(h, ks->secret, "c hs traffic", ks->h_ch_sh, ks->c_hs);
	r |= nk_hkdf_derive_secret(h, ks->secret, "s hs traffic", ks->h_ch_sh, ks->s_hs);
	nk_wipe(derived, sizeof derived);
	return r ? -1 : 0;
}

/*
 *             +-----> Derive-Secret(., "derived", "")
 *             v
 *   0 -> HKDF-Extract = Master Secret
 *             +-----> Derive-Secret(., "c ap traffic", ClientHello...server Finished)
 *             +-----> Derive-Secret(., "s ap traffic", ClientHello...server Finished)
 *             +-----> Derive-Secret(., "exp master", ClientHello...server Finished)
 */
int nk_tlsks_master(struct nk_tlsks *ks)
{
	unsigned char zeros[NK_TLS_MAX_HASH] = { 0 }, eh[NK_TLS_MAX_HASH], derived[NK_TLS_MAX_HASH];
	unsigned char th[NK_TLS_MAX_HASH];
	const br_hash_class *h = ks->h;
	int r = 0;

	if (h == NULL)
		return -1;
	empty_hash(h, eh);
	r |= nk_hkdf_derive_secret(h, ks->secret, "derived", eh, derived);
	nk_hkdf_extract(h, derived, ks->hl, zeros, ks->hl, ks->secret);  /* Master Secret */
	nk_tlsks_hash(ks, th);
	r |= nk_hkdf_derive_secret(h, ks->secret, "c ap traffic", th, ks->c_ap);
	r |= nk_hkdf_derive_secret(h, ks->secret, "s ap traffic", th, ks->s_ap);
	r |= nk_hkdf_derive_secret(h, ks->secret, "exp master", th, ks->exp_master);
	nk_wipe(derived, sizeof derived);
	return r ? -1 : 0;
}

/* §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)
 *         verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, Certificate*, CertificateVerify*)) */
int nk_tlsks_finished(const struct nk_tlsks *ks, const void *base_key, void *out)
{
	unsigned char fk[NK_TLS_MAX_HASH], th[NK_TLS_MAX_HASH];
	br_hmac_key_context kc;
	br_hmac_context hc;

	if (ks->h == NULL)
		return -1;
	if (nk_hkdf_expand_label(ks->h, base_key, "finished", NULL, 0, fk, ks->hl) < 0)
		return -1;
	nk_tlsks_hash(ks, th);
	br_hmac_key_init(&kc, ks->h, fk, ks->hl);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, th, ks->hl);
	br_hmac_out(&hc, out);
	nk_wipe(fk, sizeof fk);
	nk_wipe(&kc, sizeof kc);
	nk_wipe(&hc, sizeof hc);
	return 0;
}

/* §7.2: application_traffic_secret_N+1 =
 *   HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length) */
int nk_tlsks_update_secret(const br_hash_class *h, unsigned char *secret)
{
	unsigned char n[NK_TLS_MAX_HASH];
	size_t hl = nk_hash_len(h);

	if (nk_hkdf_expand_label(h, secret, "traffic upd", NULL, 0, n, hl) < 0)
		return -1;
	memcpy(secret, n, hl);
	nk_wipe(n, sizeof n);
	return 0;
}

int nk_tlsks_export(const struct nk_tlsks *ks, const char *label,
	const void *ctx, size_t ctx_len, void *out, size_t out_len)
{
	unsigned char eh[NK_TLS_MAX_HASH], s[NK_TLS_MAX_HASH], ch[NK_TLS_MAX_HASH];
	br_hash_compat_context c;
	int r;

	if (ks->h == NULL)
		return -1;
	empty_hash(ks->h, eh);
	if (nk_hkdf_derive_secret(ks->h, ks->exp_master, label, eh, s) < 0)
		return -1;
	ks->h->init(&c.vtable);
	ks->h->update(&c.vtable, ctx, ctx_len);
	ks->h->out(&c.vtable, ch);
	r = nk_hkdf_expand_label(ks->h, s, "exporter", ch, ks->hl, out, out_len);
	nk_wipe(s, sizeof s);
	return r;
}

void nk_tlsks_wipe(struct nk_tlsks *ks)
{
	nk_wipe(ks, sizeof *ks);
}
