#include "session.h"

#include <stdlib.h>
#include <string.h>

#include "aessiv.h"

int nk_session_name_ok(const char *name)
{
	return nk_rec_source_ok(name);
}

static int get_addr(const struct nk_rec *rec, const char *key, char *host, uint16_t *port,
	struct nk_err *e)
{
	const char *v = nk_rec_get(rec, key);
	struct nk_err e2;

	if (v == NULL) {
		nk_rec_field_error(rec, key, e, "missing");
		return -1;
	}
	if (nk_hostport_parse(v, host, NK_SESSION_HOST_MAX, port, 0, &e2) < 0) {
		nk_rec_field_error(rec, key, e, "%s", e2.msg);
		return -1;
	}
	return 0;
}

int nk_session_from_rec(struct nk_session *s, const struct nk_rec *rec, struct nk_err *e)
{
	const char *v;
	uint64_t u;
	long n;

	memset(s, 0, sizeof *s);
	v = nk_rec_get(rec, "source");
	if (v == NULL || !nk_session_name_ok(v)) {
		nk_rec_field_error(rec, "source", e, v ? "not a source name (" NK_REC_SOURCE_RULE ")" : "missing");
		return -1;
	}
	strcpy(s->source, v);
	if (get_addr(rec, "ke", s->ke_host, &s->ke_port, e) < 0 ||
	    get_addr(rec, "ntp", s->ntp_host, &s->ntp_port, e) < 0)
		return -1;
	if (nk_rec_get_u64(rec, "aead", 65535, &u, e) < 0)
		return -1;
	s->aead = (uint16_t)u;
	s->key_len = nk_siv_key_len(s->aead);
	if (s->key_len == 0) {
		nk_rec_field_error(rec, "aead", e, "unsupported AEAD %u (supported: 15, 16, 17)", s->aead);
		return -1;
	}
	n = nk_rec_get_hex(rec, "c2s", s->c2s, sizeof s->c2s, e);
	if (n < 0)
		return -1;
	if ((size_t)n != s->key_len) {
		nk_rec_field_error(rec, "c2s", e, "key is %ld bytes, AEAD %u needs %zu", n, s->aead, s->key_len);
		return -1;
	}
	n = nk_rec_get_hex(rec, "s2c", s->s2c, sizeof s->s2c, e);
	if (n < 0)
		return -1;
	if ((size_t)n != s->key_len) {
		nk_rec_field_error(rec, "s2c", e, "key is %ld bytes, AEAD %u needs %zu", n, s->aead, s->key_len);
		return -1;
	}
	v = nk_rec_get(rec, "cookies");
	if (v == NULL) {
		nk_rec_field_error(rec, "cookies", e, "missing (use cookies=- for none)");
		return -1;
	}
	if (strcmp(v, "-") != 0) {
		const char *p = v;
		while (1) {
			const char *c = strchr(p, ',');
			size_t len = c ? (size_t)(c - p) : strlen(p);
			long cl;
			if (s->ncookies == NK_SESSION_MAX_COOKIES) {
				nk_rec_field_error(rec, "cookies", e, "more than %d cookies", NK_SESSION_MAX_COOKIES);
				return -1;
			}
			cl = nk_b64url_decode(s->cookie[s->ncookies], NK_SESSION_COOKIE_MAX, p, len);
			if (cl <= 0) {
				nk_rec_field_error(rec, "cookies", e, "cookie %u is not base64url of 1..%d bytes",
					s->ncookies + 1, NK_SESSION_COOKIE_MAX);
				return -1;
			}
			s->cookie_len[s->ncookies++] = (uint16_t)cl;
			if (c == NULL)
				break;
			p = c + 1;
		}
	}
	if (nk_rec_get_i64(rec, "not-before", &s->not_before, e) < 0 ||
	    nk_rec_get_i64(rec, "not-after", &s->not_after, e) < 0 ||
	    nk_rec_get_i64(rec, "ke-at", &s->ke_at, e) < 0)
		return -1;
	if (s->not_after < s->not_before) {
		nk_rec_field_error(rec, "not-after", e, "before not-before");
		return -1;
	}
	return 0;
}

int nk_session_write(const struct nk_session *s, FILE *out, struct nk_err *e)
{
	static struct nk_rec_writer w;   /* 64 KiB: not on the stack */
	char hp[NK_SESSION_HOST_MAX + 16];
	/* cookies: up to 8 x (base64url of 256 bytes + comma) */
	char cookies[NK_SESSION_MAX_COOKIES * (NK_B64URL_LEN(NK_SESSION_COOKIE_MAX) + 1) + 2];
	size_t off = 0;
	int rc;

	nk_recw_begin(&w, "session");
	nk_recw_str(&w, "source", s->source);
	if (nk_hostport_format(hp, sizeof hp, s->ke_host, s->ke_port) < 0) {
		nk_errf(e, "session %s: KE address too long", s->source);
		return -1;
	}
	nk_recw_str(&w, "ke", hp);
	if (nk_hostport_format(hp, sizeof hp, s->ntp_host, s->ntp_port) < 0) {
		nk_errf(e, "session %s: NTP address too long", s->source);
		return -1;
	}
	nk_recw_str(&w, "ntp", hp);
	nk_recw_u64(&w, "aead", s->aead);
	nk_recw_hex(&w, "c2s", s->c2s, s->key_len);
	nk_recw_hex(&w, "s2c", s->s2c, s->key_len);
	if (s->ncookies == 0) {
		strcpy(cookies, "-");
	} else {
		for (unsigned i = 0; i < s->ncookies; i++) {
			if (i > 0)
				cookies[off++] = ',';
			off += nk_b64url_encode(cookies + off, s->cookie[i], s->cookie_len[i]);
		}
	}
	nk_recw_str(&w, "cookies", cookies);
	nk_recw_i64(&w, "not-before", s->not_before);
	nk_recw_i64(&w, "not-after", s->not_after);
	nk_recw_i64(&w, "ke-at", s->ke_at);
	rc = nk_recw_end(&w, out);
	nk_wipe(w.buf, w.len < sizeof w.buf ? w.len : sizeof w.buf);   /* only what was written */
	nk_wipe(cookies, sizeof cookies);
	if (rc < 0)
		nk_errf(e, "session %s: cannot write the record", s->source);
	return rc;
}

size_t nk_session_take_cookie(struct nk_session *s, uint8_t *out, size_t cap)
{
	size_t len;

	if (s->ncookies == 0 || s->cookie_len[0] > cap)
		return 0;
	len = s->cookie_len[0];
	memcpy(out, s->cookie[0], len);
	memmove(s->cookie[0], s->cookie[1], (s->ncookies - 1) * sizeof s->cookie[0]);
	memmove(&s->cookie_len[0], &s->cookie_len[1], (s->ncookies - 1) * sizeof s->cookie_len[0]);
	s->ncookies--;
	nk_wipe(s->cookie[s->ncookies], sizeof s->cookie[0]);
	return len;
}

int nk_session_add_cookie(struct nk_session *s, const uint8_t *c, size_t len)
{
	if (s->ncookies >= NK_SESSION_MAX_COOKIES || len == 0 || len > NK_SESSION_COOKIE_MAX)
		return -1;
	memcpy(s->cookie[s->ncookies], c, len);
	s->cookie_len[s->ncookies++] = (uint16_t)len;
	return 0;
}

void nk_session_wipe(struct nk_session *s)
{
	nk_wipe(s, sizeof *s);
}
