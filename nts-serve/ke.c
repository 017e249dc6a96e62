/* ke: NTS-KE request handling over plaintext (ke.h, RFC 8915 §4). */
#include "ke.h"

#include <stdio.h>
#include <string.h>

void nk_serve_ke_init(struct nk_serve_ke *k, const struct nk_serve_ke_conf *conf)
{
	memset(k, 0, sizeof *k);
	nk_ntske_server_init(&k->p, conf->max_req);
	k->p.explain = conf->explain;
	snprintf(k->rx_prefix, sizeof k->rx_prefix, "nts-serve: NTS-KE received");
	snprintf(k->tx_prefix, sizeof k->tx_prefix, "nts-serve: NTS-KE sent");
	k->p.explain_prefix = k->rx_prefix;
	k->error_code = -1;
}

void nk_serve_ke_set_id(struct nk_serve_ke *k, unsigned long id)
{
	snprintf(k->rx_prefix, sizeof k->rx_prefix, "nts-serve: KE #%lu NTS-KE received", id);
	snprintf(k->tx_prefix, sizeof k->tx_prefix, "nts-serve: KE #%lu NTS-KE sent", id);
}

void nk_serve_ke_wipe(struct nk_serve_ke *k)
{
	nk_ntske_parser_wipe(&k->p);
	nk_wipe(k, sizeof *k);
}

static long error_resp(struct nk_serve_ke *k, uint16_t code, uint8_t *out, size_t cap)
{
	k->done = 1;
	k->error_code = code;
	return nk_ntske_build_error(out, cap, code, nk_ntske_request_ntpv4(&k->p));
}

/* RFC 8915 §5.1: keys from the TLS exporter, context = Protocol ID (0x0000
 * for NTPv4) || AEAD id || 0x00 (C2S) or 0x01 (S2C). */
static int export_keys(uint16_t aead, nk_serve_ke_export_fn exp, void *arg,
	struct nk_nts_keys *keys)
{
	uint8_t ctx[5] = { 0, 0, (uint8_t)(aead >> 8), (uint8_t)aead, 0 };

	memset(keys, 0, sizeof *keys);
	keys->aead = aead;
	keys->key_len = nk_siv_key_len(aead);
	if (keys->key_len == 0)
		return -1;
	if (exp(arg, NK_SERVE_KE_LABEL, ctx, sizeof ctx, keys->c2s, keys->key_len) < 0)
		return -1;
	ctx[4] = 1;
	if (exp(arg, NK_SERVE_KE_LABEL, ctx, sizeof ctx, keys->s2c, keys->key_len) < 0)
		return -1;
	return 0;
}

static long respond(struct nk_serve_ke *k, const struct nk_serve_ke_conf *conf,
	nk_serve_ke_export_fn exp, void *exp_arg, uint8_t *out, size_t cap, struct nk_err *e)
{
	static const uint16_t def_aeads[] = { NK_AEAD_AES_SIV_CMAC_256, NK_AEAD_AES_SIV_CMAC_512 };
	const struct nk_ntske_request *rq = &k->p.u.req;
	uint8_t cookies[NK_SERVE_KE_COOKIES][NK_COOKIE_LEN];
	uint8_t nonces[NK_SERVE_KE_COOKIES][NK_COOKIE_NONCE_LEN];
	const uint8_t *cp[NK_SERVE_KE_COOKIES];
	uint16_t cl[NK_SERVE_KE_COOKIES];
	struct nk_ntske_resp_params rp;
	struct nk_nts_keys keys;
	long n;

	memset(&rp, 0, sizeof rp);
	rp.aead = nk_ntske_choose_aead(rq->aead, rq->naead,
		conf->aeads ? conf->aeads : def_aeads, conf->aeads ? conf->naeads : 2);
	rp.server = conf->ntp_server;
	rp.port = conf->ntp_port;
	k->aead = rp.aead;
	if (rp.aead != 0) {
		/* §4.1.5/§4.1.6: cookies only when an AEAD was agreed */
		if (export_keys(rp.aead, exp, exp_arg, &keys) < 0) {
			nk_nts_keys_wipe(&keys);
			nk_errf(e, "NTS-KE: TLS exporter failed");
			return -1;
		}
		if (nk_random(nonces, sizeof nonces) < 0) {
			nk_nts_keys_wipe(&keys);
			nk_errf(e, "NTS-KE: the system CSPRNG failed");
			return -1;
		}
		for (unsigned i = 0; i < NK_SERVE_KE_COOKIES; i++) {
			if (nk_cookie_seal(conf->keys, &keys, nonces[i], cookies[i]) < 0) {
				nk_nts_keys_wipe(&keys);
				nk_errf(e, "NTS-KE: no cookie key to seal cookies with");
				return -1;
			}
			cp[i] = cookies[i];
			cl[i] = NK_COOKIE_LEN;
		}
		nk_nts_keys_wipe(&keys);
		rp.cookies = cp;
		rp.cookie_len = cl;
		rp.ncookies = NK_SERVE_KE_COOKIES;
	} else {
		/* An empty AEAD record and no cookies (§4.1.5); the NTP endpoint
		 * records would be pointless too. */
		rp.server = NULL;
		rp.port = 0;
	}
	n = nk_ntske_build_response(out, cap, &rp);
	nk_wipe(cookies, sizeof cookies);
	if (n < 0) {
		nk_errf(e, "NTS-KE: response does not fit in %zu octets", cap);
		return -1;
	}
	k->done = 1;
	if (conf->explain)
		nk_ntske_explain(conf->explain, k->tx_prefix, out, (size_t)n);
	return n;
}

long nk_serve_ke_feed(struct nk_serve_ke *k, const struct nk_serve_ke_conf *conf,
	const uint8_t *data, size_t len, nk_serve_ke_export_fn exp, void *exp_arg,
	uint8_t *out, size_t cap, struct nk_err *e)
{
	int st;
	long n;

	if (k->done) {
		nk_errf(e, "NTS-KE: data after the request was answered");
		return -1;
	}
	st = nk_ntske_feed(&k->p, data, len, e);
	if (st == NK_NTSKE_NEED_MORE)
		return 0;
	if (st == NK_NTSKE_ERROR)
		/* §4.1.3: 0 for an unrecognised critical record, else 1 */
		return error_resp(k, nk_ntske_error_code(&k->p), out, cap);
	n = respond(k, conf, exp, exp_arg, out, cap, e);
	if (n < 0) {
		long m = error_resp(k, NK_NTSKE_ERR_INTERNAL, out, cap);

		return m > 0 ? m : -1;
	}
	return n;
}

long nk_serve_ke_eof(struct nk_serve_ke *k, uint8_t *out, size_t cap, struct nk_err *e)
{
	if (k->done)
		return 0;
	(void)nk_ntske_end(&k->p, e);
	return error_resp(k, NK_NTSKE_ERR_BAD_REQUEST, out, cap);
}
