/* ntp: answers to NTP and NTS client requests (ntpserve.h). */
#include "ntpserve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "nts.h"
#include "ntske.h"
#include "record.h"

const char *nk_serve_kind_name(enum nk_serve_kind k)
{
	switch (k) {
	case NK_SERVE_PLAIN: return "ntp";
	case NK_SERVE_NTS: return "nts";
	case NK_SERVE_NTSN: return "ntsn";
	case NK_SERVE_BADAUTH: return "bad-authenticator";
	case NK_SERVE_BADNTS: return "bad-nts";
	default: return "ignored";
	}
}

/* refid: an IPv4 address (stratum >= 2: the upstream server, RFC 5905
 * §7.3), 8 hex digits (the 32 bits as they go on the wire: nts-select(1)
 * writes a hash of the upstream's name so), or 1..4 printable ASCII
 * characters (a stratum-1 reference). */
static int parse_refid(const char *s, uint8_t out[4])
{
	size_t n = strlen(s);
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) == 1) {
		memcpy(out, &a, 4);
		return 0;
	}
	/* nts-select(1): 8 hex digits, a hash of an upstream's name */
	if (n == 8 && nk_hex_decode(out, 4, s, 8) == 4)
		return 0;
	if (n < 1 || n > 4)
		return -1;
	memset(out, 0, 4);
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e)
			return -1;
		out[i] = (uint8_t)s[i];
	}
	return 0;
}

int nk_serve_status_load(const char *path, struct nk_serve_status *st, struct nk_err *e)
{
	static struct nk_rec_reader rd;
	struct nk_rec rec;
	uint64_t stratum, leap;
	const char *refid;
	FILE *f;
	int rc, found = 0;

	memset(st, 0, sizeof *st);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		nk_errf(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	nk_rec_reader_init(&rd, f, path);
	while ((rc = nk_rec_read(&rd, &rec, e)) == 1) {
		if (strcmp(rec.type, "status") != 0)
			continue;       /* other records: not ours */
		if (nk_rec_get_double(&rec, "t", &st->t, e) < 0 ||
		    nk_rec_get_u64(&rec, "stratum", 255, &stratum, e) < 0 ||
		    nk_rec_get_u64(&rec, "leap", 3, &leap, e) < 0 ||
		    nk_rec_get_double(&rec, "root-delay", &st->root_delay, e) < 0 ||
		    nk_rec_get_double(&rec, "root-disp", &st->root_disp, e) < 0) {
			rc = -1;
			break;
		}
		refid = nk_rec_get(&rec, "refid");
		if (refid == NULL || parse_refid(refid, st->refid) < 0) {
			nk_rec_field_error(&rec, "refid", e, "%s", refid == NULL ? "missing"
				: "want an IPv4 address, 8 hex digits or 1 to 4 printable ASCII characters");
			rc = -1;
			break;
		}
		if (st->root_delay < 0 || st->root_disp < 0) {
			nk_rec_field_error(&rec, "root-delay", e, "root delay and dispersion must not be negative");
			rc = -1;
			break;
		}
		snprintf(st->refid_text, sizeof st->refid_text, "%s", refid);
		st->stratum = (uint8_t)stratum;
		st->leap = (uint8_t)leap;
		found = 1;  /* the last status record wins */
	}
	fclose(f);
	if (rc < 0) {
		memset(st, 0, sizeof *st);
		return -1;
	}
	if (!found) {
		nk_errf(e, "%s: no status record", path);
		return -1;
	}
	st->have = 1;
	return 1;
}

int nk_serve_status_good(const struct nk_serve_status *st, double now, double max_age)
{
	return st->have && st->leap <= 2 && st->stratum >= 1 && st->stratum <= 15 &&
		now - st->t <= max_age && st->t - now <= max_age;
}

static double now_real(struct timespec *ts)
{
	nk_clock_real(ts);
	return (double)ts->tv_sec + ts->tv_nsec * 1e-9;
}

/* The server part of the header, without the transmit timestamp. */
static void fill_hdr(const struct nk_serve_ntp *s, const struct nk_ntp_hdr *rq,
	const struct timespec *rx, struct nk_ntp_hdr *h)
{
	struct timespec ts;
	double now = now_real(&ts);

	memset(h, 0, sizeof *h);
	h->version = rq->version;
	h->mode = NK_NTP_MODE_SERVER;
	h->poll = rq->poll < 4 ? 4 : rq->poll > 17 ? 17 : rq->poll;
	h->precision = NK_SERVE_PRECISION;
	h->org = rq->xmt;
	h->rec = nk_ntp_ts_from_timespec(rx);
	if (nk_serve_status_good(&s->status, now, s->max_age)) {
		double age = now - s->status.t, sec, frac;

		h->leap = s->status.leap;
		h->stratum = s->status.stratum;
		memcpy(h->refid, s->status.refid, 4);
		h->root_delay = nk_ntp_short_from_double(s->status.root_delay);
		h->root_disp = nk_ntp_short_from_double(s->status.root_disp +
			(age > 0 ? age : 0) * NK_SERVE_PHI);
		frac = modf(s->status.t, &sec);
		h->ref = nk_ntp_ts_from_unix((int64_t)sec, (uint32_t)(frac * 4294967296.0));
	} else {
		h->leap = NK_NTP_LEAP_UNSYNC;
		h->stratum = 16;
		memcpy(h->refid, "INIT", 4);
	}
}

static void set_xmt(struct nk_ntp_hdr *h)
{
	struct timespec ts;

	nk_clock_real(&ts);
	h->xmt = nk_ntp_ts_from_timespec(&ts);
}

int nk_serve_ntp_is_nts(const uint8_t *in, size_t len)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef;

	if (len <= NK_NTP_HDR_LEN || (in[0] >> 3 & 7) != 4)
		return 0;
	nk_ntp_ef_begin(&it, in, len, 0);
	while (nk_ntp_ef_next(&it, &ef, NULL) == 1)
		if (ef.type == NK_NTS_EF_COOKIE || ef.type == NK_NTS_EF_UID)
			return 1;
	return 0;
}

size_t nk_serve_ntp_kod(const uint8_t *in, size_t len, const char *code,
	uint8_t *out, size_t cap)
{
	struct nk_ntp_hdr rq, h;

	if (len < NK_NTP_HDR_LEN || cap < NK_NTP_HDR_LEN ||
	    nk_ntp_hdr_decode(&rq, in, len, NULL) < 0 || rq.mode != NK_NTP_MODE_CLIENT)
		return 0;
	memset(&h, 0, sizeof h);
	h.leap = NK_NTP_LEAP_UNSYNC;
	h.version = rq.version;
	h.mode = NK_NTP_MODE_SERVER;
	h.stratum = 0;
	h.poll = rq.poll;
	h.precision = NK_SERVE_PRECISION;
	memcpy(h.refid, code, strnlen(code, 4));
	h.org = rq.xmt;
	nk_ntp_hdr_encode(out, &h);
	return NK_NTP_HDR_LEN;
}

static int no_keys(void *arg, const uint8_t *c, size_t len, struct nk_nts_keys *k)
{
	(void)arg; (void)c; (void)len; (void)k;
	return -1;
}

static size_t answer_nts(struct nk_serve_ntp *s, uint8_t *in, size_t len,
	const struct timespec *rx, uint8_t *out, size_t cap, enum nk_serve_kind *kind)
{
	struct nk_nts_server_request r;
	struct nk_ntp_hdr h;
	struct nk_nts_cookie ck[NK_NTS_MAX_COOKIES];
	uint8_t cookies[NK_NTS_MAX_COOKIES][NK_COOKIE_LEN];
	uint8_t nonces[NK_NTS_MAX_COOKIES][NK_COOKIE_NONCE_LEN];
	struct nk_err e;
	unsigned n;
	long rl;
	int st, aead;

	st = nk_nts_server_parse(in, len, s->keys ? nk_cookie_open_cb : no_keys,
		(void *)s->keys, &r, &e);
	if (st == NK_NTS_E_COOKIE || st == NK_NTS_E_KEYS) {
		/* RFC 8915 §5.7: the cookie cannot be used -> NTS NAK */
		fill_hdr(s, &r.hdr, rx, &h);
		set_xmt(&h);
		rl = nk_nts_server_nak(out, cap < len ? cap : len, &h, &r, &e);
		nk_nts_keys_wipe(&r.keys);
		*kind = rl > 0 ? NK_SERVE_NTSN : NK_SERVE_BADNTS;
		if (s->explain)
			fprintf(s->explain, "nts-serve: NTS request: %s: %s\n",
				nk_nts_status_name(st), e.msg);
		return rl > 0 ? (size_t)rl : 0;
	}
	if (st != NK_NTS_OK) {
		/* bad authenticator: no answer at all (a forged request must
		 * not be able to make us talk); malformed: likewise */
		*kind = st == NK_NTS_E_AUTH ? NK_SERVE_BADAUTH : NK_SERVE_BADNTS;
		if (s->explain)
			fprintf(s->explain, "nts-serve: NTS request dropped: %s: %s\n",
				nk_nts_status_name(st), e.msg);
		nk_nts_keys_wipe(&r.keys);
		return 0;
	}
	aead = r.keys.aead;
	/* §5.7: one new cookie for the one used, one per placeholder */
	n = 1 + r.placeholders;
	if (n > NK_NTS_MAX_COOKIES)
		n = NK_NTS_MAX_COOKIES;
	if (nk_random(nonces, n * NK_COOKIE_NONCE_LEN) < 0) {
		nk_nts_keys_wipe(&r.keys);
		*kind = NK_SERVE_BADNTS;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		if (nk_cookie_seal(s->keys, &r.keys, nonces[i], cookies[i]) < 0) {
			n = i;
			break;
		}
		ck[i].data = cookies[i];
		ck[i].len = NK_COOKIE_LEN;
	}
	fill_hdr(s, &r.hdr, rx, &h);
	set_xmt(&h);
	rl = nk_nts_server_response(out, cap < len ? cap : len, &h, &r, ck, n, &e);
	nk_nts_keys_wipe(&r.keys);
	nk_wipe(cookies, sizeof cookies);
	if (rl <= 0) {
		*kind = NK_SERVE_BADNTS;
		if (s->explain)
			fprintf(s->explain, "nts-serve: NTS response failed: %s\n", e.msg);
		return 0;
	}
	*kind = NK_SERVE_NTS;
	if (s->explain)
		fprintf(s->explain, "nts-serve: NTS request authenticated: AEAD %d (%s), "
			"%u placeholder(s), %u new cookie(s) of %d octets under cookie key %08x, "
			"answer %ld of %zu octets\n", aead, nk_ntske_aead_name((uint16_t)aead),
			r.placeholders, n, NK_COOKIE_LEN, s->keys->n ? (unsigned)s->keys->k[0].id : 0u,
			rl, len);
	return (size_t)rl;
}

size_t nk_serve_ntp_answer(struct nk_serve_ntp *s, uint8_t *in, size_t len,
	const struct timespec *rx, uint8_t *out, size_t cap, enum nk_serve_kind *kind)
{
	struct nk_ntp_hdr rq, h;
	size_t n = 0;

	*kind = NK_SERVE_NONE;
	if (len < NK_NTP_HDR_LEN || nk_ntp_hdr_decode(&rq, in, len, NULL) < 0 ||
	    rq.mode != NK_NTP_MODE_CLIENT || rq.version < 1 || rq.version > 4) {
		s->count[NK_SERVE_NONE]++;
		return 0;
	}
	if (nk_serve_ntp_is_nts(in, len)) {
		n = answer_nts(s, in, len, rx, out, cap, kind);
	} else if (cap >= NK_NTP_HDR_LEN) {
		fill_hdr(s, &rq, rx, &h);
		set_xmt(&h);
		nk_ntp_hdr_encode(out, &h);
		n = NK_NTP_HDR_LEN;
		*kind = NK_SERVE_PLAIN;
	}
	if (n > len)            /* never amplify (cannot happen: belt and braces) */
		n = 0;
	s->count[*kind]++;
	return n;
}
