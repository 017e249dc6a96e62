/* nts: NTS extension fields for NTPv4 (RFC 8915 §5). See nts.h. */
#include "nts.h"

#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

const char *nk_nts_status_name(int status)
{
	switch (status) {
	case NK_NTS_OK: return "ok";
	case NK_NTS_KOD: return "kiss-o-death";
	case NK_NTS_E_MALFORMED: return "malformed";
	case NK_NTS_E_VERSION: return "bad-version";
	case NK_NTS_E_MODE: return "bad-mode";
	case NK_NTS_E_ORIGIN: return "origin-mismatch";
	case NK_NTS_E_NO_UID: return "no-uid";
	case NK_NTS_E_UID: return "uid-mismatch";
	case NK_NTS_E_NO_AUTH: return "no-authenticator";
	case NK_NTS_E_AUTH_FORMAT: return "bad-authenticator-format";
	case NK_NTS_E_AUTH: return "auth-failed";
	case NK_NTS_E_INNER: return "bad-encrypted-fields";
	case NK_NTS_E_TRAILING: return "unauthenticated-trailing-field";
	case NK_NTS_E_NO_COOKIE: return "no-cookie";
	case NK_NTS_E_COOKIE: return "bad-cookie";
	case NK_NTS_E_KEYS: return "bad-keys";
	case NK_NTS_E_SPACE: return "no-space";
	case NK_NTS_E_RANDOM: return "random-failed";
	default: return "unknown-status";
	}
}

void nk_nts_keys_wipe(struct nk_nts_keys *k)
{
	nk_wipe(k, sizeof *k);
}

/* An AEAD context for one direction; -1 for an unsupported id or a key
 * length that does not match it. */
static int siv_for(struct nk_siv_ctx *s, const struct nk_nts_keys *k, int s2c)
{
	size_t kl = nk_siv_key_len(k->aead);

	if (kl == 0 || kl != k->key_len || kl > sizeof k->c2s)
		return -1;
	return nk_siv_init(s, s2c ? k->s2c : k->c2s, kl, NK_AES_AUTO);
}

/* The NTS Authenticator and Encrypted Extension Fields body (§5.6,
 * Figure 4): Nonce Length, Ciphertext Length, Nonce (padded), Ciphertext
 * (padded), Additional Padding. */
struct auth_field {
	size_t off;          /* of the whole field in the packet */
	const uint8_t *nonce;
	size_t nonce_len, nonce_padded;
	uint8_t *ct;
	size_t ct_len;
	size_t extra_pad;    /* Additional Padding octets */
};

static int parse_auth(uint8_t *pkt, const struct nk_ntp_ef *ef, struct auth_field *a,
	struct nk_err *e)
{
	uint8_t *b = pkt + ef->off + NK_NTP_EF_HDR_LEN;
	size_t nl, cl, need;

	if (ef->body_len < 4) {
		nk_errf(e, "NTS authenticator field of %u octets has no room for its lengths",
			ef->len);
		return -1;
	}
	nl = get16(b);
	cl = get16(b + 2);
	need = 4 + pad4(nl) + pad4(cl);
	if (need > ef->body_len) {
		nk_errf(e, "NTS authenticator: nonce length %zu and ciphertext length %zu do not fit in a %zu-octet body",
			nl, cl, ef->body_len);
		return -1;
	}
	if (nl < 1) {
		nk_errf(e, "NTS authenticator: empty nonce (AES-SIV needs at least 1 octet)");
		return -1;
	}
	if (cl < NK_SIV_TAG_LEN) {
		nk_errf(e, "NTS authenticator: ciphertext of %zu octets is shorter than the %d-octet SIV tag",
			cl, NK_SIV_TAG_LEN);
		return -1;
	}
	a->off = ef->off;
	a->nonce = b + 4;
	a->nonce_len = nl;
	a->nonce_padded = pad4(nl);
	a->ct = b + 4 + pad4(nl);
	a->ct_len = cl;
	a->extra_pad = ef->body_len - need;
	return 0;
}

/* ---- client ---- */

long nk_nts_client_request(uint8_t *out, size_t cap, const struct nk_nts_keys *k,
	const uint8_t *cookie, size_t cookie_len, unsigned placeholders,
	int8_t poll, struct nk_nts_client_state *st, struct nk_err *e)
{
	struct nk_siv_ctx siv;
	size_t cookie_ef, total, off, n;
	uint8_t *auth;
	unsigned i;

	if (cookie_len < 1 || cookie_len > NK_NTS_COOKIE_MAX) {
		nk_errf(e, "cookie of %zu octets (must be 1 to %d)", cookie_len, NK_NTS_COOKIE_MAX);
		return NK_NTS_E_SPACE;
	}
	if (placeholders > NK_NTS_MAX_PLACEHOLDERS) {
		nk_errf(e, "%u cookie placeholders (at most %d, RFC 8915 §5.7)",
			placeholders, NK_NTS_MAX_PLACEHOLDERS);
		return NK_NTS_E_SPACE;
	}
	/* §5.5: each placeholder's body is as long as the cookie field's */
	cookie_ef = pad4(NK_NTP_EF_HDR_LEN + cookie_len);
	if (cookie_ef < NK_NTP_EF_MIN_LEN)
		cookie_ef = NK_NTP_EF_MIN_LEN;
	total = NK_NTP_HDR_LEN + (NK_NTP_EF_HDR_LEN + NK_NTS_UID_LEN) +
		cookie_ef * (1 + placeholders) +
		(NK_NTP_EF_HDR_LEN + 4 + NK_NTS_NONCE_LEN + NK_SIV_TAG_LEN);
	if (total > cap) {
		nk_errf(e, "NTS request needs %zu octets, buffer holds %zu", total, cap);
		return NK_NTS_E_SPACE;
	}
	if (siv_for(&siv, k, 0) < 0) {
		nk_errf(e, "unsupported AEAD %d or key length %zu", k->aead, k->key_len);
		return NK_NTS_E_KEYS;
	}
	memset(st, 0, sizeof *st);
	if (nk_ntp_client_hdr(out, poll, &st->org, e) < 0 ||
	    nk_random(st->uid, NK_NTS_UID_LEN) < 0) {
		nk_siv_clear(&siv);
		nk_errf(e, "cannot read the system random generator");
		return NK_NTS_E_RANDOM;
	}
	st->placeholders = placeholders;
	off = NK_NTP_HDR_LEN;
	/* §5.3 Unique Identifier, §5.4 NTS Cookie, §5.5 placeholders: all
	 * authenticated (they precede the authenticator), none encrypted */
	off += nk_ntp_ef_put(out + off, cap - off, NK_NTS_EF_UID, st->uid, NK_NTS_UID_LEN, 0);
	off += nk_ntp_ef_put(out + off, cap - off, NK_NTS_EF_COOKIE, cookie, cookie_len, cookie_ef);
	for (i = 0; i < placeholders; i++)
		off += nk_ntp_ef_put(out + off, cap - off, NK_NTS_EF_PLACEHOLDER, NULL, 0, cookie_ef);
	/* §5.6 authenticator: nonce 16 (= N_REQ, no Additional Padding),
	 * ciphertext = the SIV of the empty plaintext */
	auth = out + off;
	n = NK_NTP_EF_HDR_LEN + 4 + NK_NTS_NONCE_LEN + NK_SIV_TAG_LEN;
	put16(auth, NK_NTS_EF_AUTH);
	put16(auth + 2, n);
	put16(auth + 4, NK_NTS_NONCE_LEN);
	put16(auth + 6, NK_SIV_TAG_LEN);
	if (nk_random(auth + 8, NK_NTS_NONCE_LEN) < 0) {
		nk_siv_clear(&siv);
		nk_errf(e, "cannot read the system random generator");
		return NK_NTS_E_RANDOM;
	}
	nk_siv_aead_seal(&siv, out, off, auth + 8, NK_NTS_NONCE_LEN, NULL, 0,
		auth + 8 + NK_NTS_NONCE_LEN);
	nk_siv_clear(&siv);
	off += n;
	return (long)off;
}

static int fail(struct nk_nts_response *resp, int status)
{
	resp->n_cookies = 0;
	memset(resp->cookies, 0, sizeof resp->cookies);
	return status;
}

int nk_nts_client_verify(uint8_t *pkt, size_t len, const struct nk_nts_keys *k,
	const struct nk_nts_client_state *st, unsigned flags,
	struct nk_nts_response *resp, struct nk_err *e)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef, uid, authef;
	struct auth_field a;
	struct nk_siv_ctx siv;
	unsigned n_uid = 0, n_after = 0;
	int have_auth = 0, kod, r;
	size_t pt_len;

	memset(resp, 0, sizeof *resp);
	memset(&uid, 0, sizeof uid);
	memset(&authef, 0, sizeof authef);
	if (nk_ntp_hdr_decode(&resp->hdr, pkt, len, e) < 0)
		return NK_NTS_E_MALFORMED;
	if (resp->hdr.version != 4) {
		nk_errf(e, "NTP version %u, expected 4", resp->hdr.version);
		return NK_NTS_E_VERSION;
	}
	if (resp->hdr.mode != NK_NTP_MODE_SERVER) {
		nk_errf(e, "NTP mode %u, expected 4 (server)", resp->hdr.mode);
		return NK_NTS_E_MODE;
	}
	/* RFC 5905 §8 / data-minimization §4.2: the origin timestamp must
	 * echo our (random) transmit timestamp */
	if (resp->hdr.org != st->org) {
		nk_errf(e, "origin timestamp %016llx is not our transmit timestamp %016llx (stale, replayed or spoofed)",
			(unsigned long long)resp->hdr.org, (unsigned long long)st->org);
		return NK_NTS_E_ORIGIN;
	}
	nk_ntp_ef_begin(&it, pkt, len, 0);
	while ((r = nk_ntp_ef_next(&it, &ef, e)) > 0) {
		if (have_auth) {        /* neither encrypted nor authenticated */
			n_after++;
			continue;
		}
		switch (ef.type) {
		case NK_NTS_EF_UID:
			n_uid++;
			uid = ef;
			break;
		case NK_NTS_EF_AUTH:
			have_auth = 1;
			authef = ef;
			break;
		case NK_NTS_EF_COOKIE:  /* in clear: MUST NOT be used (§5.7) */
			resp->n_plain_cookies++;
			break;
		default:
			resp->n_unknown++;
			break;
		}
	}
	if (r < 0)
		return NK_NTS_E_MALFORMED;
	if (n_uid > 1) {
		nk_errf(e, "%u Unique Identifier fields (exactly one allowed)", n_uid);
		return NK_NTS_E_MALFORMED;
	}
	if (n_uid == 0) {
		nk_errf(e, "no authenticated Unique Identifier field");
		return NK_NTS_E_NO_UID;
	}
	if (uid.body_len != NK_NTS_UID_LEN || !nk_ct_eq(uid.body, st->uid, NK_NTS_UID_LEN)) {
		nk_errf(e, "Unique Identifier does not match our request (a reply to another request, or replayed)");
		return NK_NTS_E_UID;
	}
	kod = nk_ntp_is_kod(&resp->hdr, resp->kiss);
	if (!kod)
		resp->kiss[0] = 0;
	if (!have_auth) {
		if (kod) {
			/* §5.7: an NTSN carries no authenticator; report it as
			 * unauthenticated and let the caller's policy decide
			 * (with no authenticator nothing in it is trusted, so
			 * there is no "after the authenticator" either) */
			nk_errf(e, "unauthenticated kiss-o'-death %s (UID and origin match)", resp->kiss);
			return NK_NTS_KOD;
		}
		nk_errf(e, "no NTS Authenticator field: unprotected response to an NTS request");
		return NK_NTS_E_NO_AUTH;
	}
	if (parse_auth(pkt, &authef, &a, e) < 0)
		return NK_NTS_E_AUTH_FORMAT;
	if (siv_for(&siv, k, 1) < 0) {
		nk_errf(e, "unsupported AEAD %d or key length %zu", k->aead, k->key_len);
		return NK_NTS_E_KEYS;
	}
	/* §5.6: A = the packet from the header up to the authenticator; the
	 * plaintext replaces the ciphertext in place */
	r = nk_siv_aead_open(&siv, pkt, a.off, a.nonce, a.nonce_len, a.ct, a.ct_len, a.ct);
	nk_siv_clear(&siv);
	if (r < 0) {
		nk_errf(e, "NTS authenticator does not verify under the S2C key (tampered or forged)");
		return NK_NTS_E_AUTH;
	}
	resp->authenticated = 1;
	pt_len = a.ct_len - NK_SIV_TAG_LEN;
	nk_ntp_ef_begin(&it, a.ct, pt_len, NK_NTP_EF_INNER);
	while ((r = nk_ntp_ef_next(&it, &ef, e)) > 0) {
		if (ef.type != NK_NTS_EF_COOKIE) {
			resp->n_unknown++;
			continue;
		}
		if (ef.body_len < 1 || ef.body_len > NK_NTS_COOKIE_MAX ||
		    resp->n_cookies >= NK_NTS_MAX_COOKIES) {
			resp->n_cookies_ignored++;
			continue;
		}
		resp->cookies[resp->n_cookies].data = ef.body;
		resp->cookies[resp->n_cookies].len = ef.body_len;
		resp->n_cookies++;
	}
	if (r < 0)
		return fail(resp, NK_NTS_E_INNER);
	if (n_after > 0 && !(flags & NK_NTS_LENIENT_TRAILING)) {
		nk_errf(e, "%u unauthenticated extension field(s) after the NTS authenticator", n_after);
		return fail(resp, NK_NTS_E_TRAILING);
	}
	resp->n_discarded = n_after;
	if (kod) {
		nk_errf(e, "authenticated kiss-o'-death %s", resp->kiss);
		return NK_NTS_KOD;
	}
	return NK_NTS_OK;
}

/* ---- server ---- */

int nk_nts_server_parse(uint8_t *pkt, size_t len, nk_nts_cookie_fn fn,
	void *arg, struct nk_nts_server_request *r, struct nk_err *e)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef, uid, cookie, authef;
	struct auth_field a;
	struct nk_siv_ctx siv;
	unsigned n_uid = 0, n_cookie = 0, n_ph_ok = 0;
	int have_auth = 0, rc;

	memset(r, 0, sizeof *r);
	memset(&uid, 0, sizeof uid);
	memset(&cookie, 0, sizeof cookie);
	memset(&authef, 0, sizeof authef);
	r->req_len = len;
	if (nk_ntp_hdr_decode(&r->hdr, pkt, len, e) < 0)
		return NK_NTS_E_MALFORMED;
	if (r->hdr.version != 4) {
		nk_errf(e, "NTP version %u, expected 4", r->hdr.version);
		return NK_NTS_E_VERSION;
	}
	if (r->hdr.mode != NK_NTP_MODE_CLIENT) {
		nk_errf(e, "NTP mode %u, expected 3 (client)", r->hdr.mode);
		return NK_NTS_E_MODE;
	}
	/* pass 1: the fields, and where the authenticator is */
	nk_ntp_ef_begin(&it, pkt, len, 0);
	while ((rc = nk_ntp_ef_next(&it, &ef, e)) > 0) {
		if (have_auth) {
			r->n_discarded++;   /* §5.7: server MUST discard */
			continue;
		}
		if (ef.type == NK_NTS_EF_UID) {
			n_uid++;
			uid = ef;
		} else if (ef.type == NK_NTS_EF_COOKIE) {
			n_cookie++;
			cookie = ef;
		} else if (ef.type == NK_NTS_EF_AUTH) {
			have_auth = 1;
			authef = ef;
		}
	}
	if (rc < 0)
		return NK_NTS_E_MALFORMED;
	if (n_uid > 1) {
		nk_errf(e, "%u Unique Identifier fields (exactly one allowed)", n_uid);
		return NK_NTS_E_MALFORMED;
	}
	if (n_uid == 0) {
		nk_errf(e, "no authenticated Unique Identifier field");
		return NK_NTS_E_NO_UID;
	}
	if (uid.body_len < NK_NTS_UID_LEN || uid.body_len > NK_NTS_UID_MAX) {
		nk_errf(e, "Unique Identifier of %zu octets (must be %d to %d)",
			uid.body_len, NK_NTS_UID_LEN, NK_NTS_UID_MAX);
		return NK_NTS_E_UID;
	}
	memcpy(r->uid, uid.body, uid.body_len);   /* from here on a NAK can echo it */
	r->uid_len = uid.body_len;
	if (n_cookie != 1) {
		nk_errf(e, "%u authenticated NTS Cookie fields (exactly one required)", n_cookie);
		return NK_NTS_E_NO_COOKIE;
	}
	r->cookie_len = cookie.body_len;
	if (!have_auth) {
		nk_errf(e, "no NTS Authenticator field");
		return NK_NTS_E_NO_AUTH;
	}
	if (parse_auth(pkt, &authef, &a, e) < 0)
		return NK_NTS_E_AUTH_FORMAT;
	/* §5.6: "Servers MUST enforce this requirement": padded nonce plus
	 * Additional Padding must reach N_REQ (16 for AES-SIV) */
	if (a.nonce_padded + a.extra_pad < NK_NTS_NONCE_LEN) {
		nk_errf(e, "NTS authenticator: nonce of %zu octets with %zu octets of Additional Padding is below the required 16",
			a.nonce_len, a.extra_pad);
		return NK_NTS_E_AUTH_FORMAT;
	}
	if (fn(arg, cookie.body, cookie.body_len, &r->keys) < 0) {
		nk_wipe(&r->keys, sizeof r->keys);
		nk_errf(e, "cookie of %zu octets is not valid here", cookie.body_len);
		return NK_NTS_E_COOKIE;
	}
	if (siv_for(&siv, &r->keys, 0) < 0) {
		nk_errf(e, "cookie yields unsupported AEAD %d / key length %zu",
			r->keys.aead, r->keys.key_len);
		nk_wipe(&r->keys, sizeof r->keys);
		return NK_NTS_E_KEYS;
	}
	rc = nk_siv_aead_open(&siv, pkt, a.off, a.nonce, a.nonce_len, a.ct, a.ct_len, a.ct);
	nk_siv_clear(&siv);
	if (rc < 0) {
		nk_wipe(&r->keys, sizeof r->keys);
		nk_errf(e, "NTS authenticator does not verify under the C2S key");
		return NK_NTS_E_AUTH;
	}
	/* placeholders: authenticated ones before the authenticator and
	 * encrypted ones inside it; only those as long as the cookie count */
	nk_ntp_ef_begin(&it, pkt, a.off, 0);
	while (nk_ntp_ef_next(&it, &ef, NULL) > 0)
		if (ef.type == NK_NTS_EF_PLACEHOLDER && ef.body_len == cookie.body_len)
			n_ph_ok++;
	nk_ntp_ef_begin(&it, a.ct, a.ct_len - NK_SIV_TAG_LEN, NK_NTP_EF_INNER);
	while ((rc = nk_ntp_ef_next(&it, &ef, e)) > 0)
		if (ef.type == NK_NTS_EF_PLACEHOLDER && ef.body_len == cookie.body_len)
			n_ph_ok++;
	if (rc < 0) {
		nk_wipe(&r->keys, sizeof r->keys);
		return NK_NTS_E_INNER;
	}
	r->placeholders = n_ph_ok;
	return NK_NTS_OK;
}

static void server_hdr(uint8_t *out, const struct nk_ntp_hdr *hdr,
	const struct nk_nts_server_request *r)
{
	struct nk_ntp_hdr h;

	if (hdr != NULL)
		h = *hdr;
	else
		memset(&h, 0, sizeof h);
	h.version = 4;
	h.mode = NK_NTP_MODE_SERVER;
	h.org = r->hdr.xmt;
	nk_ntp_hdr_encode(out, &h);
}

long nk_nts_server_response(uint8_t *out, size_t cap, const struct nk_ntp_hdr *hdr,
	const struct nk_nts_server_request *r, const struct nk_nts_cookie *cookies,
	unsigned n_cookies, struct nk_err *e)
{
	struct nk_siv_ctx siv;
	size_t uid_ef, auth_fixed, pt_len, total, off, i;
	uint8_t *auth, *ct;

	if (r->uid_len < NK_NTS_UID_LEN || r->uid_len > NK_NTS_UID_MAX) {
		nk_errf(e, "request has no usable Unique Identifier");
		return NK_NTS_E_NO_UID;
	}
	/* §5.7: no more than one cookie per valid placeholder plus one */
	if (n_cookies > r->placeholders + 1)
		n_cookies = r->placeholders + 1;
	if (n_cookies > NK_NTS_MAX_COOKIES)
		n_cookies = NK_NTS_MAX_COOKIES;
	for (i = 0; i < n_cookies; i++)
		if (cookies[i].len < 1 || cookies[i].len > NK_NTS_COOKIE_MAX) {
			nk_errf(e, "cookie %zu of %zu octets (must be 1 to %d)", i,
				cookies[i].len, NK_NTS_COOKIE_MAX);
			return NK_NTS_E_SPACE;
		}
	uid_ef = NK_NTP_EF_HDR_LEN + pad4(r->uid_len);
	auth_fixed = NK_NTP_EF_HDR_LEN + 4 + NK_NTS_NONCE_LEN + NK_SIV_TAG_LEN;
	/* §5.5: the response is never longer than the request */
	for (;;) {
		pt_len = 0;
		for (i = 0; i < n_cookies; i++)
			pt_len += NK_NTP_EF_HDR_LEN + pad4(cookies[i].len);
		total = NK_NTP_HDR_LEN + uid_ef + auth_fixed + pt_len;
		if (total <= r->req_len || n_cookies == 0)
			break;
		n_cookies--;
	}
	if (total > r->req_len || total > cap) {
		nk_errf(e, "NTS response of %zu octets exceeds the request (%zu) or the buffer (%zu)",
			total, r->req_len, cap);
		return NK_NTS_E_SPACE;
	}
	if (siv_for(&siv, &r->keys, 1) < 0) {
		nk_errf(e, "unsupported AEAD %d or key length %zu", r->keys.aead, r->keys.key_len);
		return NK_NTS_E_KEYS;
	}
	server_hdr(out, hdr, r);
	off = NK_NTP_HDR_LEN;
	off += nk_ntp_ef_put(out + off, cap - off, NK_NTS_EF_UID, r->uid, r->uid_len, 0);
	auth = out + off;
	put16(auth, NK_NTS_EF_AUTH);
	put16(auth + 2, auth_fixed + pt_len);
	put16(auth + 4, NK_NTS_NONCE_LEN);
	put16(auth + 6, NK_SIV_TAG_LEN + pt_len);
	if (nk_random(auth + 8, NK_NTS_NONCE_LEN) < 0) {
		nk_siv_clear(&siv);
		nk_errf(e, "cannot read the system random generator");
		return NK_NTS_E_RANDOM;
	}
	/* plaintext: the new cookies, written where the ciphertext goes
	 * after the tag, then sealed in place */
	ct = auth + 8 + NK_NTS_NONCE_LEN;
	{
		size_t p = NK_SIV_TAG_LEN;
		for (i = 0; i < n_cookies; i++)
			p += nk_ntp_ef_put(ct + p, cap - (size_t)(ct - out) - p, NK_NTS_EF_COOKIE,
				cookies[i].data, cookies[i].len, 0);
	}
	nk_siv_aead_seal(&siv, out, off, auth + 8, NK_NTS_NONCE_LEN, ct + NK_SIV_TAG_LEN,
		pt_len, ct);
	nk_siv_clear(&siv);
	return (long)total;
}

long nk_nts_server_nak(uint8_t *out, size_t cap, const struct nk_ntp_hdr *hdr,
	const struct nk_nts_server_request *r, struct nk_err *e)
{
	struct nk_ntp_hdr h;
	size_t total = NK_NTP_HDR_LEN, off;

	if (r->uid_len > NK_NTS_UID_MAX) {
		nk_errf(e, "bad Unique Identifier length %zu", r->uid_len);
		return NK_NTS_E_SPACE;
	}
	if (r->uid_len > 0)
		total += NK_NTP_EF_HDR_LEN + pad4(r->uid_len);
	if (total > cap) {
		nk_errf(e, "NTSN reply needs %zu octets, buffer holds %zu", total, cap);
		return NK_NTS_E_SPACE;
	}
	if (hdr != NULL)
		h = *hdr;
	else
		memset(&h, 0, sizeof h);
	h.leap = NK_NTP_LEAP_UNSYNC;
	h.stratum = 0;
	memcpy(h.refid, "NTSN", 4);
	server_hdr(out, &h, r);
	off = NK_NTP_HDR_LEN;
	if (r->uid_len > 0)
		off += nk_ntp_ef_put(out + off, cap - off, NK_NTS_EF_UID, r->uid, r->uid_len, 0);
	return (long)off;
}
