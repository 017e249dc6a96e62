/*
 * exchange: one NTS-protected NTP exchange (see exchange.h).
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "exchange.h"

/* RFC 5905 §7.3: PHI, the frequency tolerance, 15 ppm. */
#define PHI 15e-6
/* Our own clock's precision as it enters the dispersion (clock_gettime on
 * Linux: about 2^-20 s is a safe, slightly pessimistic figure). */
#define CLIENT_PRECISION_LOG2 (-20)
/* Longest request we send (see below). */
#define REQ_MAX NK_RELAY_NTP_MAX

static double ts_unix(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

/* --explain: why the request's header says so little */
static void explain_minimised(FILE *f)
{
	fputs("nts-poll:   > note: only leap 0, version 4 and mode 3 carry meaning. Poll 0, precision 32 (0x20),\n"
		"nts-poll:   >   root delay and dispersion, reference id and the reference, origin and receive\n"
		"nts-poll:   >   timestamps are zero on purpose, and the transmit timestamp is random: the server\n"
		"nts-poll:   >   needs none of them, and real values would tell it (and the path) about this\n"
		"nts-poll:   >   machine and its clock. Data minimisation: draft-ietf-ntp-data-minimization-04\n"
		"nts-poll:   >   §3 and §4.2; the answer must echo the random value as its origin timestamp.\n", f);
}

/* --explain: the extension fields inside a verified answer's authenticator,
 * decrypted in place by nk_nts_client_verify() */
static void explain_inner(FILE *f, const uint8_t *pkt, size_t len)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef, in;
	struct nk_err e;
	int r;

	nk_ntp_ef_begin(&it, pkt, len, 0);
	while ((r = nk_ntp_ef_next(&it, &ef, &e)) > 0) {
		size_t nl, cl, off;
		if (ef.type != NK_NTS_EF_AUTH || ef.body_len < 4)
			continue;
		nl = (size_t)(ef.body[0] << 8 | ef.body[1]);
		cl = (size_t)(ef.body[2] << 8 | ef.body[3]);
		off = 4 + ((nl + 3) & ~(size_t)3);
		if (cl < NK_SIV_TAG_LEN || off + cl > ef.body_len)
			return;
		fprintf(f, "nts-poll:   < inside the authenticator, decrypted with the S2C key: "
			"%zu octets of extension fields\n", cl - NK_SIV_TAG_LEN);
		/* nk_nts_client_verify() left the plaintext where the ciphertext began */
		nk_ntp_ef_begin(&it, ef.body + off, cl - NK_SIV_TAG_LEN, NK_NTP_EF_INNER);
		while ((r = nk_ntp_ef_next(&it, &in, &e)) > 0) {
			fprintf(f, "nts-poll:   <   encrypted field %u: type 0x%04x (%s), %u octets",
				it.count, in.type, nk_ntp_ef_name(in.type), in.len);
			if (in.type == NK_NTS_EF_COOKIE)
				fprintf(f, ": a new cookie of %zu octets, for a later request "
					"(RFC 8915 §5.7)\n", in.body_len);
			else
				fputs(": not used\n", f);
		}
		return;
	}
}

/* t1..t4 as Unix time with nanoseconds */
static void put_ts(FILE *f, const char *name, nk_ntp_ts t, int64_t pivot, const char *what)
{
	int64_t sec;
	uint32_t frac;

	nk_ntp_ts_to_unix(t, pivot, &sec, &frac);
	fprintf(f, "nts-poll:   %s = %lld.%09lu  %s\n", name, (long long)sec,
		(unsigned long)(((uint64_t)frac * 1000000000u) >> 32), what);
}

/* --explain: RFC 5905 §8's arithmetic with this exchange's numbers */
static void explain_times(FILE *f, const char *src, enum tp_kind kind, nk_ntp_ts t1,
	nk_ntp_ts t2, nk_ntp_ts t3, nk_ntp_ts t4, const struct px_out *out, int8_t precision)
{
	int64_t pivot = nk_time();
	double a = nk_ntp_fx_to_double(nk_ntp_ts_diff(t2, t1));
	double b = nk_ntp_fx_to_double(nk_ntp_ts_diff(t3, t4));
	double c = nk_ntp_fx_to_double(nk_ntp_ts_diff(t4, t1));
	double d = nk_ntp_fx_to_double(nk_ntp_ts_diff(t3, t2));

	fprintf(f, "nts-poll: %s: the four timestamps (RFC 5905 §8), as Unix time:\n", src);
	put_ts(f, "t1", t1, pivot, "our transmit: our clock just before sending (kept here, not sent)");
	put_ts(f, "t2", t2, pivot, "server receive: the answer's receive timestamp");
	put_ts(f, "t3", t3, pivot, "server transmit: the answer's transmit timestamp");
	put_ts(f, "t4", t4, pivot, kind == TP_RELAY ?
		"our receive: our clock when the relay frame was decoded (no kernel timestamp)" :
		kind == TP_SOCKS5_UDP ?
		"our receive: our clock when the proxy's datagram was read (no kernel timestamp)" :
		"our receive: our clock when the datagram was read (no kernel timestamp)");
	fprintf(f, "nts-poll:   offset = ((t2 - t1) + (t3 - t4)) / 2 = ((%+.9f) + (%+.9f)) / 2 = %+.9f s\n",
		a, b, out->offset);
	fprintf(f, "nts-poll:   delay  = (t4 - t1) - (t3 - t2) = (%.9f) - (%.9f) = %.9f s%s\n",
		c, d, c - d, c - d < 0 ? ", taken as 0" : "");
	fprintf(f, "nts-poll:   dispersion = 2^%d (server precision) + 2^%d (ours) + 15e-6 * delay "
		"= %.9f s\n", precision, CLIENT_PRECISION_LOG2, out->disp);
}

static void explain_checks(FILE *f, const char *src, const struct nk_nts_response *r,
	int aead, const uint8_t *pkt, size_t len)
{
	fprintf(f, "nts-poll: %s: checked: version 4, mode 4 (server); origin timestamp = our "
		"random transmit timestamp; Unique Identifier = ours; NTS Authenticator "
		"verified with the S2C key (AEAD %d); nothing after the authenticator\n", src, aead);
	explain_inner(f, pkt, len);
	fprintf(f, "nts-poll: %s: encrypted fields: %u new cookie(s)%s", src, r->n_cookies,
		r->n_cookies ? " taken into the jar" : "");
	if (r->n_cookies_ignored)
		fprintf(f, ", %u cookie(s) ignored", r->n_cookies_ignored);
	if (r->n_unknown)
		fprintf(f, ", %u unknown authenticated field(s) ignored", r->n_unknown);
	if (r->n_plain_cookies)
		fprintf(f, ", %u unencrypted cookie(s) NOT used (RFC 8915 §5.7)", r->n_plain_cookies);
	fputc('\n', f);
}

enum px_result px_exchange(struct tp *t, struct nk_session *s, const struct px_opts *o,
	struct px_out *out, struct nk_err *e)
{
	static uint8_t req[REQ_MAX], pkt[4096], copy[4096];
	uint8_t cookie[NK_SESSION_COOKIE_MAX];
	struct nk_nts_keys k;
	struct nk_nts_client_state st;
	struct nk_nts_response resp;
	struct timespec t1, t4, deadline;
	struct nk_err ve;
	enum px_result res = PX_TIMEOUT;
	unsigned before = s->ncookies, ph;
	size_t clen;
	long rl;
	char pending[5] = "";

	memset(out, 0, sizeof *out);
	/* RFC 8915 §5.7: each cookie is used once; placeholders ask for enough
	 * new ones to fill the jar back to 8 (one comes for the cookie sent). */
	clen = nk_session_take_cookie(s, cookie, sizeof cookie);
	if (clen == 0) {
		nk_errf(e, "no cookies left: a new NTS-KE is needed (run nts-ke)");
		return PX_NOCOOKIE;
	}
	{
		unsigned target = o->jar_target ? o->jar_target : NK_NTS_MAX_COOKIES;
		ph = before >= target ? 0 : target - before;
	}
	if (ph > NK_NTS_MAX_PLACEHOLDERS)
		ph = NK_NTS_MAX_PLACEHOLDERS;
	/* Keep the request within one Ethernet MTU (and the relay frame's
	 * NK_RELAY_NTP_MAX): header, UID field, cookie field and placeholders
	 * of the same size, authenticator. Only very long cookies need fewer
	 * placeholders; the jar then refills over several exchanges. */
	{
		size_t ef = 4 + ((clen + 3) & ~(size_t)3);
		if (ef < NK_NTP_EF_MIN_LEN)
			ef = NK_NTP_EF_MIN_LEN;
		while (ph > 0 && NK_NTP_HDR_LEN + 4 + NK_NTS_UID_LEN + ef * (1 + ph) +
		       4 + 4 + NK_NTS_NONCE_LEN + 16 > REQ_MAX)
			ph--;
	}

	memset(&k, 0, sizeof k);
	k.aead = s->aead;
	k.key_len = s->key_len;
	memcpy(k.c2s, s->c2s, s->key_len);
	memcpy(k.s2c, s->s2c, s->key_len);

	rl = nk_nts_client_request(req, sizeof req, &k, cookie, clen, ph, 0, &st, e);
	nk_wipe(cookie, sizeof cookie);
	if (rl < 0) {
		res = PX_ERROR;
		goto done;
	}
	if (o->explain) {
		fprintf(o->explain, "nts-poll: %s: request (%ld octets, %u cookie placeholder(s), "
			"%u cookie(s) left in the jar):\n", o->source, rl, ph, s->ncookies);
		nk_ntp_explain(o->explain, "nts-poll:   > ", req, (size_t)rl, nk_time());
		explain_minimised(o->explain);
	}

	nk_clock_real(&t1);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += o->timeout_ms / 1000;
	deadline.tv_nsec += (long)(o->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (tp_send(t, req, (size_t)rl, e) < 0) {
		res = PX_ERROR;
		goto done;
	}

	for (;;) {
		long n = tp_recv(t, pkt, sizeof pkt, &deadline, &t4, e);
		int v;
		if (n == TP_TIMEOUT)
			break;
		if (n == TP_DROPPED) {
			fprintf(stderr, "nts-poll: %s: dropped: %s\n", o->source, e->msg);
			out->rejected++;
			continue;
		}
		if (n < 0) {
			res = PX_ERROR;
			goto done;
		}
		nk_test_restamp(&t4);   /* test builds: the fixed clock (util.h) */
		if (o->explain) {
			fprintf(o->explain, "nts-poll: %s: response (%ld octets):\n", o->source, n);
			nk_ntp_explain(o->explain, "nts-poll:   < ", pkt, (size_t)n, (int64_t)t4.tv_sec);
		}
		memcpy(copy, pkt, (size_t)n);
		memset(&ve, 0, sizeof ve);
		v = nk_nts_client_verify(copy, (size_t)n, &k, &st, 0, &resp, &ve);
		if (v < 0) {
			/* REQ-002: every rejected packet is said, and dropped */
			fprintf(stderr, "nts-poll: %s: rejected a response (%s): %s\n", o->source,
				nk_nts_status_name(v), ve.msg);
			out->rejected++;
			continue;
		}
		/* authenticated or an unauthenticated KoD: cookies only from the former */
		if (resp.authenticated) {
			for (unsigned i = 0; i < resp.n_cookies; i++)
				if (nk_session_add_cookie(s, resp.cookies[i].data, resp.cookies[i].len) == 0)
					out->new_cookies++;
		}
		if (v == NK_NTS_KOD) {
			if (resp.authenticated) {
				memcpy(out->kiss, resp.kiss, sizeof out->kiss);
				out->kod_auth = 1;
				out->hdr = resp.hdr;
				if (o->explain)
					fprintf(o->explain, "nts-poll: %s: authenticated Kiss-o'-Death %s\n",
						o->source, resp.kiss);
				res = PX_KOD;
				goto done;
			}
			/* anyone who saw the request can forge this: note it, keep
			 * waiting for an authenticated answer */
			fprintf(stderr, "nts-poll: %s: unauthenticated Kiss-o'-Death %s (no valid "
				"NTS authenticator): waiting for an authenticated answer\n", o->source,
				resp.kiss);
			memcpy(pending, resp.kiss, sizeof pending);
			out->rejected++;
			continue;
		}
		/* NK_NTS_OK: an authenticated time response */
		out->hdr = resp.hdr;
		if (o->explain)
			explain_checks(o->explain, o->source, &resp, s->aead, copy, (size_t)n);
		if (nk_ntp_unsynchronised(&resp.hdr)) {
			nk_errf(e, "server not synchronised (leap %u, stratum %u): no sample",
				resp.hdr.leap, resp.hdr.stratum);
			res = PX_UNSYNC;
			goto done;
		}
		{
			nk_ntp_fx off, del;
			nk_ntp_ts T1 = nk_ntp_ts_from_timespec(&t1), T4 = nk_ntp_ts_from_timespec(&t4);
			if (nk_ntp_offset_delay(T1, resp.hdr.rec, resp.hdr.xmt, T4, &off, &del) < 0) {
				nk_errf(e, "absurd timestamps in an authenticated answer: no sample");
				res = PX_UNSYNC;
				goto done;
			}
			out->t4 = ts_unix(&t4);
			out->offset = nk_ntp_fx_to_double(off);
			out->delay = nk_ntp_fx_to_double(del);
			if (out->delay < 0)     /* RFC 5905 §8: never below zero */
				out->delay = 0;
			/* RFC 5905 §8: epsilon = 2^server.precision + 2^our.precision + PHI * delay */
			out->disp = ldexp(1.0, resp.hdr.precision) + ldexp(1.0, CLIENT_PRECISION_LOG2) +
				PHI * out->delay;
			if (o->explain)
				explain_times(o->explain, o->source, t->kind, T1, resp.hdr.rec,
					resp.hdr.xmt, T4, out, resp.hdr.precision);
		}
		res = PX_SAMPLE;
		goto done;
	}
	if (pending[0]) {
		memcpy(out->kiss, pending, sizeof out->kiss);
		out->kod_auth = 0;
		res = PX_KOD;
	} else {
		nk_errf(e, "no authenticated answer within %.1f s", o->timeout_ms / 1000.0);
		res = PX_TIMEOUT;
	}
done:
	nk_nts_keys_wipe(&k);
	nk_wipe(&st, sizeof st);
	nk_wipe(copy, sizeof copy);
	nk_wipe(&resp, sizeof resp);
	return res;
}
