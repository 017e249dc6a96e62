/*
 * ntske: NTS-KE record codec (RFC 8915 §4). See ntske.h for the API and
 * the list of rules applied.
 *
 * The parser is a byte-stream state machine: a 4-byte record header, then
 * the body. Bodies that must be kept whole (cookies, Server, Error, Warning,
 * Port) are bounded when the header arrives, so they always fit in the
 * scratch buffer; list records (NextProtocol, AEAD) are checked two bytes
 * at a time, so a list of any length is handled without storing it; bodies
 * of unknown non-critical records are skipped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ntske.h"

/* ---------------------------------------------------------------- names */

const char *nk_ntske_type_name(uint16_t type)
{
	switch (type & 0x7fffu) {
	case NK_NTSKE_END:       return "End of Message";
	case NK_NTSKE_NEXTPROTO: return "NTS Next Protocol Negotiation";
	case NK_NTSKE_ERROR_REC: return "Error";
	case NK_NTSKE_WARNING:   return "Warning";
	case NK_NTSKE_AEAD:      return "AEAD Algorithm Negotiation";
	case NK_NTSKE_COOKIE:    return "New Cookie for NTPv4";
	case NK_NTSKE_SERVER:    return "NTPv4 Server Negotiation";
	case NK_NTSKE_PORT:      return "NTPv4 Port Negotiation";
	default:                 return "unknown record type";
	}
}

const char *nk_ntske_aead_name(uint16_t aead)
{
	/* IANA "AEAD Algorithms" registry, the entries NTS implementations use */
	switch (aead) {
	case 1:  return "AEAD_AES_128_GCM";
	case 2:  return "AEAD_AES_256_GCM";
	case 15: return "AEAD_AES_SIV_CMAC_256";
	case 16: return "AEAD_AES_SIV_CMAC_384";
	case 17: return "AEAD_AES_SIV_CMAC_512";
	case 29: return "AEAD_CHACHA20_POLY1305";
	case 30: return "AEAD_AES_128_GCM_SIV";
	case 31: return "AEAD_AES_256_GCM_SIV";
	default: return "unknown AEAD";
	}
}

const char *nk_ntske_errcode_name(uint16_t code)
{
	/* RFC 8915 §4.1.3 */
	switch (code) {
	case NK_NTSKE_ERR_UNRECOGNIZED_CRITICAL: return "Unrecognized Critical Record";
	case NK_NTSKE_ERR_BAD_REQUEST:           return "Bad Request";
	case NK_NTSKE_ERR_INTERNAL:              return "Internal Server Error";
	default:                                 return "unknown error code";
	}
}

const char *nk_ntske_error_name(enum nk_ntske_error err)
{
	static const char *const n[NK_NTSKE_E_COUNT] = {
		[NK_NTSKE_E_NONE] = "none",
		[NK_NTSKE_E_TOO_LONG] = "too-long",
		[NK_NTSKE_E_EOF] = "eof",
		[NK_NTSKE_E_EOF_IN_RECORD] = "eof-in-record",
		[NK_NTSKE_E_TRAILING] = "trailing-data",
		[NK_NTSKE_E_UNKNOWN_CRITICAL] = "unknown-critical",
		[NK_NTSKE_E_SERVER_ERROR] = "server-error",
		[NK_NTSKE_E_SERVER_WARNING] = "server-warning",
		[NK_NTSKE_E_CRITICAL_BIT] = "critical-bit",
		[NK_NTSKE_E_BAD_LENGTH] = "bad-length",
		[NK_NTSKE_E_DUPLICATE] = "duplicate",
		[NK_NTSKE_E_NEXTPROTO_MISSING] = "nextproto-missing",
		[NK_NTSKE_E_NEXTPROTO] = "nextproto",
		[NK_NTSKE_E_AEAD_MISSING] = "aead-missing",
		[NK_NTSKE_E_AEAD_EMPTY] = "aead-empty",
		[NK_NTSKE_E_AEAD_MULTIPLE] = "aead-multiple",
		[NK_NTSKE_E_AEAD_NOT_OFFERED] = "aead-not-offered",
		[NK_NTSKE_E_NO_COOKIES] = "no-cookies",
		[NK_NTSKE_E_COOKIE_TOO_BIG] = "cookie-too-big",
		[NK_NTSKE_E_BAD_VALUE] = "bad-value",
		[NK_NTSKE_E_FORBIDDEN] = "forbidden-record",
	};
	if ((unsigned)err >= NK_NTSKE_E_COUNT)
		return "unknown";
	return n[err];
}

/* -------------------------------------------------------------- explain */

static void explain_list(FILE *f, uint16_t type, size_t blen, const uint8_t *b, size_t avail)
{
	size_t n = blen / 2, shown = avail / 2;
	if (n == 0) {
		fputs(type == NK_NTSKE_AEAD ? ": empty (no algorithm)" : ": empty (no protocol)", f);
		return;
	}
	fputs(type == NK_NTSKE_AEAD ? ": " : ": protocol ", f);
	for (size_t i = 0; i < shown && i < n; i++) {
		uint16_t id = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
		if (type == NK_NTSKE_AEAD)
			fprintf(f, "%s%u (%s)", i ? ", " : "", id, nk_ntske_aead_name(id));
		else
			fprintf(f, "%s%u (%s)", i ? ", " : "", id, id == 0 ? "NTPv4" : "unknown protocol");
	}
	if (shown < n)
		fprintf(f, " and %zu more", n - shown);
	if (blen % 2)
		fputs(" (odd length: malformed)", f);
}

/* One record in words. b holds the first avail bytes of the body. */
static void explain_record(FILE *f, const char *pfx, uint16_t type, int crit,
	size_t blen, const uint8_t *b, size_t avail)
{
	fprintf(f, "%s record %u %s (%s), %zu-byte body", pfx ? pfx : "NTS-KE", type,
		nk_ntske_type_name(type), crit ? "critical" : "not critical", blen);
	switch (type) {
	case NK_NTSKE_END:
		break;
	case NK_NTSKE_NEXTPROTO:
	case NK_NTSKE_AEAD:
		explain_list(f, type, blen, b, avail);
		break;
	case NK_NTSKE_ERROR_REC:
	case NK_NTSKE_WARNING:
		if (blen == 2 && avail >= 2) {
			uint16_t c = (uint16_t)(b[0] << 8 | b[1]);
			if (type == NK_NTSKE_ERROR_REC)
				fprintf(f, ": error code %u (%s)", c, nk_ntske_errcode_name(c));
			else
				fprintf(f, ": warning code %u (RFC 8915 defines none)", c);
		} else {
			fputs(": malformed (body must be 2 bytes)", f);
		}
		break;
	case NK_NTSKE_COOKIE:
		fprintf(f, ": cookie of %zu bytes (opaque)", blen);
		break;
	case NK_NTSKE_SERVER:
		fputs(": NTP server \"", f);
		for (size_t i = 0; i < avail; i++) {
			if (b[i] > 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\')
				fputc(b[i], f);
			else
				fprintf(f, "\\x%02x", b[i]);
		}
		fputc('"', f);
		if (avail < blen)
			fputs("...", f);
		break;
	case NK_NTSKE_PORT:
		if (blen == 2 && avail >= 2)
			fprintf(f, ": NTP port %u", (unsigned)(b[0] << 8 | b[1]));
		else
			fputs(": malformed (body must be 2 bytes)", f);
		break;
	default:
		fputs(crit ? ": not understood and critical (an error)" : ": not understood, not critical: ignored", f);
		break;
	}
	fputc('\n', f);
}

int nk_ntske_explain(FILE *f, const char *prefix, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t pos = 0;
	while (pos < len) {
		if (len - pos < 4) {
			fprintf(f, "%s %zu stray bytes: not a whole record header\n",
				prefix ? prefix : "NTS-KE", len - pos);
			return -1;
		}
		uint16_t type = (uint16_t)((b[pos] & 0x7f) << 8 | b[pos + 1]);
		int crit = b[pos] >> 7;
		size_t blen = (size_t)b[pos + 2] << 8 | b[pos + 3];
		pos += 4;
		if (blen > len - pos) {
			fprintf(f, "%s record %u %s declares a %zu-byte body but only %zu bytes follow\n",
				prefix ? prefix : "NTS-KE", type, nk_ntske_type_name(type), blen, len - pos);
			return -1;
		}
		explain_record(f, prefix, type, crit, blen, b + pos, blen);
		pos += blen;
	}
	return 0;
}

/* --------------------------------------------------------------- parser */

static int fail(struct nk_ntske_parser *p, struct nk_err *e, enum nk_ntske_error err,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct nk_ntske_parser *p, struct nk_err *e, enum nk_ntske_error err,
	const char *fmt, ...)
{
	char m[230];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	snprintf(p->emsg, sizeof p->emsg, "NTS-KE %s: %s",
		p->role == NK_NTSKE_ROLE_CLIENT ? "response" : "request", m);
	p->state = NK_NTSKE_ERROR;
	p->err = err;
	nk_errf(e, "%s", p->emsg);
	return NK_NTSKE_ERROR;
}

static void parser_init(struct nk_ntske_parser *p, int role, size_t max_total)
{
	memset(p, 0, sizeof *p);
	p->role = role;
	p->state = NK_NTSKE_NEED_MORE;
	p->max_total = max_total;
	p->list_bad_id = -1;
}

void nk_ntske_client_init(struct nk_ntske_parser *p, const uint16_t *offered, size_t noffered)
{
	parser_init(p, NK_NTSKE_ROLE_CLIENT, NK_NTSKE_RESP_MAX);
	for (size_t i = 0; i < noffered && i < NK_NTSKE_MAX_AEADS; i++)
		p->offered[p->noffered++] = offered[i];
}

void nk_ntske_server_init(struct nk_ntske_parser *p, size_t max_req)
{
	if (max_req == 0)
		max_req = NK_NTSKE_REQ_MAX;
	if (max_req < 1024)
		max_req = 1024;   /* §4: servers MUST accept requests of at least 1024 octets */
	parser_init(p, NK_NTSKE_ROLE_SERVER, max_req);
	p->u.req.naead = 0;
}

void nk_ntske_parser_wipe(struct nk_ntske_parser *p)
{
	nk_wipe(p, sizeof *p);
}

uint16_t nk_ntske_error_code(const struct nk_ntske_parser *p)
{
	if (p->err == NK_NTSKE_E_UNKNOWN_CRITICAL)
		return NK_NTSKE_ERR_UNRECOGNIZED_CRITICAL;
	return NK_NTSKE_ERR_BAD_REQUEST;
}

static const char *offered_list(const struct nk_ntske_parser *p, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < p->noffered && o < cap; i++) {
		int n = snprintf(buf + o, cap - o, "%s%u", i ? "," : "", p->offered[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (p->noffered == 0)
		snprintf(buf, cap, "nothing");
	return buf;
}

/* A Server record body: an IPv4/IPv6 literal or an FQDN in ASCII (§4.1.7).
 * Only the character set is checked here; resolving it is the caller's. */
static int server_name_ok(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == ':' || c == '_'))
			return 0;
	}
	return 1;
}

/* The 4-byte header is complete: check what can be checked before the body. */
static int start_record(struct nk_ntske_parser *p, struct nk_err *e)
{
	int client = p->role == NK_NTSKE_ROLE_CLIENT;
	const char *what = NULL;

	p->type = (uint16_t)((p->hdr[0] & 0x7f) << 8 | p->hdr[1]);
	p->crit = p->hdr[0] >> 7;
	p->blen = (size_t)p->hdr[2] << 8 | p->hdr[3];
	p->bpos = 0;
	p->list_count = 0;
	p->list_flag = 0;
	p->list_bad_id = -1;
	p->resp_aead_count = 0;
	p->nrecords++;

	/* Checks made at header time; the record is printed as "rejected". */
	enum nk_ntske_error err = NK_NTSKE_E_NONE;
	char m[200];
	m[0] = 0;
	switch (p->type) {
	case NK_NTSKE_END:       /* §4.1.1: zero-length body, critical */
		if (!p->crit) {
			err = NK_NTSKE_E_CRITICAL_BIT; what = "End of Message";
		} else if (p->blen != 0) {
			err = NK_NTSKE_E_BAD_LENGTH;
			snprintf(m, sizeof m, "End of Message record has a %zu-byte body (must be empty, RFC 8915 §4.1.1)", p->blen);
		}
		break;
	case NK_NTSKE_NEXTPROTO: /* §4.1.2: once, critical, list of 16-bit ids */
		if (!p->crit) {
			err = NK_NTSKE_E_CRITICAL_BIT; what = "NTS Next Protocol Negotiation";
		} else if (p->seen_nextproto) {
			err = NK_NTSKE_E_DUPLICATE;
			snprintf(m, sizeof m, "second NTS Next Protocol Negotiation record (it must occur exactly once, RFC 8915 §4.1.2)");
		} else if (p->blen % 2) {
			err = NK_NTSKE_E_BAD_LENGTH;
			snprintf(m, sizeof m, "NTS Next Protocol Negotiation record has an odd body length %zu (a list of 16-bit ids)", p->blen);
		}
		break;
	case NK_NTSKE_ERROR_REC: /* §4.1.3 */
	case NK_NTSKE_WARNING:   /* §4.1.4 */
		if (!client) {
			err = NK_NTSKE_E_FORBIDDEN;
			snprintf(m, sizeof m, "carries a%s record (clients MUST NOT send it, RFC 8915 §4.1.%d)",
				p->type == NK_NTSKE_ERROR_REC ? "n Error" : " Warning",
				p->type == NK_NTSKE_ERROR_REC ? 3 : 4);
		} else if (p->blen != 2) {
			err = NK_NTSKE_E_BAD_LENGTH;
			snprintf(m, sizeof m, "%s record has a %zu-byte body (must be 2 bytes)",
				nk_ntske_type_name(p->type), p->blen);
		}
		/* A server's Error record without the critical bit is still an error
		 * report: it is reported as such below rather than as a bit fault. */
		break;
	case NK_NTSKE_AEAD:      /* §4.1.5: once, list of 16-bit ids, C bit MAY be set */
		if (p->seen_aead) {
			err = NK_NTSKE_E_DUPLICATE;
			snprintf(m, sizeof m, "second AEAD Algorithm Negotiation record (it must be included exactly once, RFC 8915 §4.1.5)");
		} else if (p->blen % 2) {
			err = NK_NTSKE_E_BAD_LENGTH;
			snprintf(m, sizeof m, "AEAD Algorithm Negotiation record has an odd body length %zu (a list of 16-bit ids)", p->blen);
		}
		break;
	case NK_NTSKE_COOKIE:    /* §4.1.6 */
		if (!client) {
			err = NK_NTSKE_E_FORBIDDEN;
			snprintf(m, sizeof m, "carries a New Cookie record (clients MUST NOT send it, RFC 8915 §4.1.6)");
		} else if (p->blen == 0) {
			err = NK_NTSKE_E_BAD_LENGTH;
			snprintf(m, sizeof m, "New Cookie record %u is empty", p->u.resp.ncookies + p->u.resp.cookies_ignored + 1);
		} else if (p->blen > NK_NTSKE_COOKIE_MAX) {
			err = NK_NTSKE_E_COOKIE_TOO_BIG;
			snprintf(m, sizeof m, "cookie of %zu bytes is larger than the %d bytes this client accepts",
				p->blen, NK_NTSKE_COOKIE_MAX);
		}
		break;
	case NK_NTSKE_SERVER:    /* §4.1.7: at most once, ASCII */
		if (p->seen_server) {
			err = NK_NTSKE_E_DUPLICATE;
			snprintf(m, sizeof m, "second NTPv4 Server Negotiation record (at most one is allowed, RFC 8915 §4.1.7)");
		} else if (p->blen == 0 || p->blen > NK_NTSKE_SERVER_MAX) {
			err = NK_NTSKE_E_BAD_LENGTH;
			snprintf(m, sizeof m, "NTPv4 Server Negotiation record has a %zu-byte body (a host name or address of 1 to %d bytes)",
				p->blen, NK_NTSKE_SERVER_MAX);
		}
		break;
	case NK_NTSKE_PORT:      /* §4.1.8: a 16-bit port */
		if (p->seen_port) {
			err = NK_NTSKE_E_DUPLICATE;
			snprintf(m, sizeof m, "second NTPv4 Port Negotiation record (at most one is allowed)");
		} else if (p->blen != 2) {
			err = NK_NTSKE_E_BAD_LENGTH;
			snprintf(m, sizeof m, "NTPv4 Port Negotiation record has a %zu-byte body (must be 2 bytes)", p->blen);
		}
		break;
	default:                 /* §4: unknown type: ignore unless critical */
		if (p->crit) {
			err = NK_NTSKE_E_UNKNOWN_CRITICAL;
			snprintf(m, sizeof m, "unrecognized record type %u has the critical bit set (RFC 8915 §4: MUST be treated as an error)",
				p->type);
		}
		break;
	}
	/* The declared length is known now: a body that cannot fit, together
	 * with the End of Message header still to come, is refused at once
	 * rather than after waiting for bytes that can only break the limit. */
	if (err == NK_NTSKE_E_NONE && p->type != NK_NTSKE_END &&
	    p->blen + 4 > p->max_total - p->total) {
		err = NK_NTSKE_E_TOO_LONG;
		snprintf(m, sizeof m, "record %u (%s) declares a %zu-byte body: with End of Message the %s would be longer than %zu bytes",
			p->type, nk_ntske_type_name(p->type), p->blen, client ? "response" : "request", p->max_total);
	}
	if (err == NK_NTSKE_E_CRITICAL_BIT)
		snprintf(m, sizeof m, "%s record without the critical bit (RFC 8915 §4.1 says it MUST be set)", what);
	if (err != NK_NTSKE_E_NONE) {
		if (p->explain)
			fprintf(p->explain, "%s record %u %s (%s), %zu-byte body: rejected\n",
				p->explain_prefix ? p->explain_prefix : "NTS-KE", p->type,
				nk_ntske_type_name(p->type), p->crit ? "critical" : "not critical", p->blen);
		return fail(p, e, err, "%s", m);
	}
	return NK_NTSKE_NEED_MORE;
}

/* One 16-bit item of a NextProtocol or AEAD list. */
static void list_item(struct nk_ntske_parser *p, uint16_t id)
{
	p->list_count++;
	if (p->type == NK_NTSKE_NEXTPROTO) {
		if (id == NK_NTSKE_PROTO_NTPV4)
			p->list_flag = 1;
		else if (p->list_bad_id < 0)
			p->list_bad_id = id;
		return;
	}
	/* AEAD */
	if (p->role == NK_NTSKE_ROLE_CLIENT) {
		if (p->list_count == 1)
			p->u.resp.aead = id;
	} else {
		struct nk_ntske_request *r = &p->u.req;
		if (r->naead < NK_NTSKE_MAX_AEADS)
			r->aead[r->naead++] = id;
		else
			r->aead_ignored++;
	}
}

/* Checks at End of Message: what must have been seen. */
static int finish_message(struct nk_ntske_parser *p, struct nk_err *e)
{
	if (!p->seen_nextproto)
		return fail(p, e, NK_NTSKE_E_NEXTPROTO_MISSING,
			"no NTS Next Protocol Negotiation record (it must occur exactly once, RFC 8915 §4.1.2)");
	if (!p->seen_aead)
		return fail(p, e, NK_NTSKE_E_AEAD_MISSING,
			"no AEAD Algorithm Negotiation record (required with NTPv4, RFC 8915 §4.1.5)");
	if (p->role == NK_NTSKE_ROLE_CLIENT && p->u.resp.ncookies == 0)
		return fail(p, e, NK_NTSKE_E_NO_COOKIES,
			"no New Cookie record (a server MUST send at least one, RFC 8915 §4.1.6)");
	p->state = NK_NTSKE_DONE;
	return NK_NTSKE_DONE;
}

/* The body is complete: interpret the record. */
static int finish_record(struct nk_ntske_parser *p, struct nk_err *e)
{
	const uint8_t *b = p->scratch;
	size_t avail = p->blen < NK_NTSKE_SCRATCH ? p->blen : NK_NTSKE_SCRATCH;
	int client = p->role == NK_NTSKE_ROLE_CLIENT;
	char ob[100];

	if (p->explain)
		explain_record(p->explain, p->explain_prefix, p->type, p->crit, p->blen, b, avail);

	switch (p->type) {
	case NK_NTSKE_END:
		return finish_message(p, e);
	case NK_NTSKE_NEXTPROTO:
		p->seen_nextproto = 1;
		if (client) {
			/* §4.1.2: the response's ids are a subset of ours, i.e. of {0} */
			if (p->list_count == 0)
				return fail(p, e, NK_NTSKE_E_NEXTPROTO,
					"server accepts none of the next protocols we offered (empty NTS Next Protocol Negotiation record)");
			if (p->list_bad_id >= 0)
				return fail(p, e, NK_NTSKE_E_NEXTPROTO,
					"server chose next protocol %d, which we did not offer (we offered only 0, NTPv4)",
					p->list_bad_id);
		} else {
			if (p->list_count == 0)
				return fail(p, e, NK_NTSKE_E_NEXTPROTO,
					"NTS Next Protocol Negotiation record lists no protocol (it must list at least one)");
			p->u.req.has_nextproto = 1;
			p->u.req.offers_ntpv4 = p->list_flag;
			if (!p->list_flag)
				return fail(p, e, NK_NTSKE_E_NEXTPROTO,
					"NTS Next Protocol Negotiation record does not offer protocol 0 (NTPv4), the only one served");
		}
		break;
	case NK_NTSKE_AEAD:
		p->seen_aead = 1;
		if (client) {
			struct nk_ntske_response *r = &p->u.resp;
			r->aead_critical = p->crit;
			if (p->list_count == 0)
				return fail(p, e, NK_NTSKE_E_AEAD_EMPTY,
					"server supports none of the AEAD algorithms we offered (%s): empty AEAD record",
					offered_list(p, ob, sizeof ob));
			if (p->list_count > 1)
				return fail(p, e, NK_NTSKE_E_AEAD_MULTIPLE,
					"AEAD record lists %u algorithms (a response must name exactly one)", p->list_count);
			int ok = 0;
			for (unsigned i = 0; i < p->noffered; i++)
				ok |= p->offered[i] == r->aead;
			if (!ok)
				return fail(p, e, NK_NTSKE_E_AEAD_NOT_OFFERED,
					"server chose AEAD %u (%s), which we did not offer (we offered %s); "
					"the server ignores the client's list (NTPsec 1.2.2 does this)",
					r->aead, nk_ntske_aead_name(r->aead), offered_list(p, ob, sizeof ob));
		} else if (p->list_count == 0) {
			return fail(p, e, NK_NTSKE_E_AEAD_EMPTY,
				"AEAD record lists no algorithm (a request must list at least one, RFC 8915 §4.1.5)");
		}
		break;
	case NK_NTSKE_ERROR_REC: {
		/* §4.1.3: discard everything, do not proceed */
		uint16_t c = (uint16_t)(b[0] << 8 | b[1]);
		p->u.resp.has_error = 1;
		p->u.resp.error_code = c;
		return fail(p, e, NK_NTSKE_E_SERVER_ERROR, "server answered with Error code %u (%s)",
			c, nk_ntske_errcode_name(c));
	}
	case NK_NTSKE_WARNING: {
		/* §4.1.4: this memo defines no warning codes, and unrecognized
		 * codes MUST be treated as errors */
		struct nk_ntske_response *r = &p->u.resp;
		uint16_t c = (uint16_t)(b[0] << 8 | b[1]);
		if (r->nwarnings < 4)
			r->warning[r->nwarnings] = c;
		r->nwarnings++;
		return fail(p, e, NK_NTSKE_E_SERVER_WARNING,
			"server sent Warning code %u; RFC 8915 defines no warning codes, so it is treated as an error (§4.1.4)", c);
	}
	case NK_NTSKE_COOKIE: {
		struct nk_ntske_response *r = &p->u.resp;
		if (r->ncookies < NK_NTSKE_MAX_COOKIES) {
			memcpy(r->cookie[r->ncookies], b, p->blen);
			r->cookie_len[r->ncookies] = (uint16_t)p->blen;
			r->ncookies++;
		} else {
			r->cookies_ignored++;
		}
		nk_wipe(p->scratch, p->blen);
		break;
	}
	case NK_NTSKE_SERVER: {
		if (!server_name_ok(b, p->blen))
			return fail(p, e, NK_NTSKE_E_BAD_VALUE,
				"NTPv4 Server Negotiation record is not an ASCII host name or IP address");
		char *dst = client ? p->u.resp.server : p->u.req.server;
		memcpy(dst, b, p->blen);
		dst[p->blen] = 0;
		if (client)
			p->u.resp.has_server = 1;
		else
			p->u.req.has_server = 1;
		p->seen_server = 1;
		break;
	}
	case NK_NTSKE_PORT: {
		uint16_t port = (uint16_t)(b[0] << 8 | b[1]);
		if (port == 0)
			return fail(p, e, NK_NTSKE_E_BAD_VALUE, "NTPv4 Port Negotiation record names port 0");
		if (client) {
			p->u.resp.has_port = 1;
			p->u.resp.port = port;
		} else {
			p->u.req.has_port = 1;
			p->u.req.port = port;
		}
		p->seen_port = 1;
		break;
	}
	default:
		/* unknown, not critical (critical ones were refused at the header) */
		if (client)
			p->u.resp.unknown_ignored++;
		else
			p->u.req.unknown_ignored++;
		break;
	}
	return NK_NTSKE_NEED_MORE;
}

int nk_ntske_feed(struct nk_ntske_parser *p, const void *data, size_t len, struct nk_err *e)
{
	const uint8_t *d = data;

	if (p->state == NK_NTSKE_ERROR) {
		nk_errf(e, "%s", p->emsg);
		return NK_NTSKE_ERROR;
	}
	while (len > 0) {
		/* §4: the message is self-delimiting; nothing may follow it */
		if (p->state == NK_NTSKE_DONE)
			return fail(p, e, NK_NTSKE_E_TRAILING, "%zu bytes after End of Message", len);
		/* every byte counts against the size limit (§4: clients SHOULD
		 * accept 65536 octets; we accept exactly that much) */
		if (p->total == p->max_total)
			return fail(p, e, NK_NTSKE_E_TOO_LONG,
				"longer than %zu bytes without End of Message", p->max_total);
		size_t room = p->max_total - p->total;
		size_t n;
		if (p->hdr_len < 4) {
			n = 4 - p->hdr_len;
			if (n > len) n = len;
			if (n > room) n = room;
			memcpy(p->hdr + p->hdr_len, d, n);
			p->hdr_len += (unsigned)n;
			p->total += n;
			d += n;
			len -= n;
			if (p->hdr_len < 4)
				continue;
			if (start_record(p, e) == NK_NTSKE_ERROR)
				return NK_NTSKE_ERROR;
		} else {
			n = p->blen - p->bpos;
			if (n > len) n = len;
			if (n > room) n = room;
			int list = p->type == NK_NTSKE_NEXTPROTO || p->type == NK_NTSKE_AEAD;
			for (size_t i = 0; i < n; i++) {
				size_t at = p->bpos + i;
				if (at < NK_NTSKE_SCRATCH)
					p->scratch[at] = d[i];
				if (list) {
					if (at & 1)
						list_item(p, (uint16_t)(p->pair_hi << 8 | d[i]));
					else
						p->pair_hi = d[i];
				}
			}
			p->bpos += n;
			p->total += n;
			d += n;
			len -= n;
		}
		if (p->bpos == p->blen) {
			int rc = finish_record(p, e);
			p->hdr_len = 0;
			if (rc == NK_NTSKE_ERROR)
				return NK_NTSKE_ERROR;
		}
	}
	return p->state == NK_NTSKE_DONE ? NK_NTSKE_DONE : NK_NTSKE_NEED_MORE;
}

int nk_ntske_end(struct nk_ntske_parser *p, struct nk_err *e)
{
	if (p->state == NK_NTSKE_DONE)
		return NK_NTSKE_DONE;
	if (p->state == NK_NTSKE_ERROR) {
		nk_errf(e, "%s", p->emsg);
		return NK_NTSKE_ERROR;
	}
	if (p->hdr_len == 0) {
		if (p->total == 0)
			return fail(p, e, NK_NTSKE_E_EOF, "the stream ended before any record (no End of Message)");
		return fail(p, e, NK_NTSKE_E_EOF,
			"the stream ended after %u complete records (%zu bytes) without End of Message",
			p->nrecords, p->total);
	}
	if (p->hdr_len < 4)
		return fail(p, e, NK_NTSKE_E_EOF_IN_RECORD,
			"the stream ended inside a record header (%u of 4 bytes)", p->hdr_len);
	return fail(p, e, NK_NTSKE_E_EOF_IN_RECORD,
		"record %u (%s) declares a %zu-byte body but the stream ended after %zu of them",
		p->type, nk_ntske_type_name(p->type), p->blen, p->bpos);
}

/* ------------------------------------------------------------- builders */

/* Append one record; returns 0, or -1 when it does not fit. */
static int put_record(uint8_t *out, size_t cap, size_t *pos, uint16_t type_c,
	const void *body, size_t blen)
{
	if (blen > 0xffff || cap - *pos < 4 || cap - *pos - 4 < blen)
		return -1;
	out[*pos] = (uint8_t)(type_c >> 8);
	out[*pos + 1] = (uint8_t)type_c;
	out[*pos + 2] = (uint8_t)(blen >> 8);
	out[*pos + 3] = (uint8_t)blen;
	if (blen)
		memcpy(out + *pos + 4, body, blen);
	*pos += 4 + blen;
	return 0;
}

static int put_u16_record(uint8_t *out, size_t cap, size_t *pos, uint16_t type_c, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return put_record(out, cap, pos, type_c, b, 2);
}

static int put_list_record(uint8_t *out, size_t cap, size_t *pos, uint16_t type_c,
	const uint16_t *ids, size_t n)
{
	uint8_t b[2 * NK_NTSKE_MAX_AEADS];
	if (n > NK_NTSKE_MAX_AEADS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		b[2 * i] = (uint8_t)(ids[i] >> 8);
		b[2 * i + 1] = (uint8_t)ids[i];
	}
	return put_record(out, cap, pos, type_c, b, 2 * n);
}

static int server_arg_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= NK_NTSKE_SERVER_MAX && server_name_ok((const uint8_t *)s, n);
}

long nk_ntske_build_request(uint8_t *out, size_t cap, const uint16_t *aeads, size_t naeads,
	const char *server, uint16_t port)
{
	static const uint16_t ntpv4 = NK_NTSKE_PROTO_NTPV4;
	size_t pos = 0;
	if (naeads == 0 || naeads > NK_NTSKE_MAX_AEADS)
		return -1;
	if (server && !server_arg_ok(server))
		return -1;
	/* §4: NextProtocol and End of Message critical (§4.1.1, §4.1.2); the
	 * AEAD record MAY be critical (§4.1.5) and we set it, as chrony does. */
	if (put_list_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_NEXTPROTO, &ntpv4, 1) ||
	    put_list_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_AEAD, aeads, naeads))
		return -1;
	/* §4.1.7, §4.1.8: optional; clients SHOULD NOT set the critical bit */
	if (server && put_record(out, cap, &pos, NK_NTSKE_SERVER, server, strlen(server)))
		return -1;
	if (port && put_u16_record(out, cap, &pos, NK_NTSKE_PORT, port))
		return -1;
	if (put_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_END, NULL, 0))
		return -1;
	return (long)pos;
}

long nk_ntske_build_response(uint8_t *out, size_t cap, const struct nk_ntske_resp_params *rp)
{
	static const uint16_t ntpv4 = NK_NTSKE_PROTO_NTPV4;
	size_t pos = 0;
	if (put_list_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_NEXTPROTO, &ntpv4, 1))
		return -1;
	if (rp->aead == 0) {
		/* §4.1.5: "empty if the server supports none of the algorithms
		 * offered"; no keys, so no cookies (§4.1.6) */
		if (put_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_AEAD, NULL, 0) ||
		    put_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_END, NULL, 0))
			return -1;
		return (long)pos;
	}
	if (rp->ncookies == 0 || (rp->server && !server_arg_ok(rp->server)))
		return -1;
	if (put_list_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_AEAD, &rp->aead, 1))
		return -1;
	/* §4.1.7, §4.1.8: servers MAY set the critical bit; we do */
	if (rp->server && put_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_SERVER,
			rp->server, strlen(rp->server)))
		return -1;
	if (rp->port && put_u16_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_PORT, rp->port))
		return -1;
	/* §4.1.6: the critical bit SHOULD NOT be set on cookies */
	for (size_t i = 0; i < rp->ncookies; i++) {
		if (rp->cookie_len[i] == 0 ||
		    put_record(out, cap, &pos, NK_NTSKE_COOKIE, rp->cookies[i], rp->cookie_len[i]))
			return -1;
	}
	if (put_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_END, NULL, 0))
		return -1;
	return (long)pos;
}

long nk_ntske_build_error(uint8_t *out, size_t cap, uint16_t code, int ntpv4)
{
	static const uint16_t ntpv4_id = NK_NTSKE_PROTO_NTPV4;
	size_t pos = 0;
	/* §4.1.2: NextProtocol exactly once in every response, error responses
	 * included, listing a subset of the request's (empty when the request
	 * did not offer NTPv4); §4.1.3: Error is critical; End of Message last */
	if (put_list_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_NEXTPROTO, &ntpv4_id, ntpv4 ? 1 : 0) ||
	    put_u16_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_ERROR_REC, code) ||
	    put_record(out, cap, &pos, NK_NTSKE_CRITICAL | NK_NTSKE_END, NULL, 0))
		return -1;
	return (long)pos;
}

int nk_ntske_request_ntpv4(const struct nk_ntske_parser *p)
{
	/* unknown (the record never arrived whole): NTPv4, the only protocol
	 * NTS-KE serves today, as ntpd-rs answers */
	return !p->u.req.has_nextproto || p->u.req.offers_ntpv4;
}

uint16_t nk_ntske_choose_aead(const uint16_t *offered, size_t noffered,
	const uint16_t *supported, size_t nsupported)
{
	/* §4.1.5: the client lists its AEADs "in decreasing preference order";
	 * the first one it offered that the server supports is taken */
	for (size_t j = 0; j < noffered; j++)
		for (size_t i = 0; i < nsupported; i++)
			if (supported[i] == offered[j] && offered[j] != 0)
				return offered[j];
	return 0;
}
