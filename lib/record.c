/*
 * record: reader and writer of ntskit record lines (ntskit-records(5)).
 * The grammar is in record.h; every rule is enforced on both sides so that a
 * line we write is a line we read back.
 */
#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared checks ---- */

static int key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int nk_rec_key_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NK_REC_MAX_KEY || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < n; i++)
		if (!key_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence starting at s[0] (RFC 3629 §4 table), or 0
 * when it is not a valid sequence: overlong forms (C0, C1, E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and code points above U+10FFFF
 * (F4 90.., F5..FF) are rejected. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

int nk_rec_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if ((k = utf8_seq(p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int source_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '.' || c == '_' || c == '-';
}

int nk_rec_source_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i] != 0; i++)
		if (i >= NK_REC_SOURCE_MAX - 1 || !source_char((unsigned char)name[i]))
			return 0;
	return i > 0;
}

int nk_rec_source_name(char *out, size_t cap, const char *host, uint16_t port,
	uint16_t def_port, struct nk_err *e)
{
	char name[NK_REC_SOURCE_MAX + 8];
	size_t i, n = 0;
	int v6 = strchr(host, ':') != NULL;

	for (i = 0; host[i] != 0; i++) {
		unsigned char c = (unsigned char)host[i];

		if (v6 && c == ':')
			c = '-';
		if (!source_char(c)) {
			nk_errf(e, "'%.80s': cannot be a source name (a host of A-Z a-z 0-9 '.' '_' '-', "
				"or an IPv6 address); name it in a [source NAME] section", host);
			return -1;
		}
		if (n == sizeof name - 1)
			break;
		name[n++] = (char)c;
	}
	name[n] = 0;
	if (port != def_port && n < sizeof name - 1)
		n += (size_t)snprintf(name + n, sizeof name - n, "_%u", (unsigned)port);
	if (n == 0 || host[i] != 0 || n >= NK_REC_SOURCE_MAX || n >= cap) {
		nk_errf(e, "'%.80s': the source name would be longer than %d bytes; "
			"name it in a [source NAME] section", host, NK_REC_SOURCE_MAX - 1);
		return -1;
	}
	memcpy(out, name, n + 1);
	return 0;
}

/* A printable copy of untrusted bytes for a message: at most 'cap'-1 bytes,
 * anything outside printable ASCII shown as '?'. */
static const char *shown(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, m = n < cap - 4 ? n : cap - 4;

	for (i = 0; i < m; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c > ' ' && c < 127) ? (char)c : '?';
	}
	if (m < n) {
		memcpy(out + m, "...", 3);
		m += 3;
	}
	out[m] = 0;
	return out;
}

/* ---- reader ---- */

void nk_rec_reader_init(struct nk_rec_reader *r, FILE *in, const char *name)
{
	r->in = in;
	r->name = name != NULL ? name : "stdin";
	r->lineno = 0;
	r->raw[0] = 0;
	r->buf[0] = 0;
}

/* Check the bytes of a value (or a comment when comment != 0) from 'p' of
 * length 'n' starting at column 'col0' (1-based, for the message).
 * Returns 0 or -1 with e = "name:line: <where>: ...". */
static int check_bytes(const char *p, size_t n, int comment, const char *name,
	unsigned long lineno, const char *where, size_t col0, struct nk_err *e)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, k;

	while (i < n) {
		unsigned char c = s[i];
		if (c == 0) {
			nk_errf(e, "%s:%lu: %s: NUL byte at column %zu", name, lineno, where, col0 + i);
			return -1;
		}
		if (c == '\r') {
			nk_errf(e, "%s:%lu: %s: carriage return at column %zu (records end with LF only)",
				name, lineno, where, col0 + i);
			return -1;
		}
		if ((c < 0x20 && !(comment && c == '\t')) || c == 0x7F) {
			nk_errf(e, "%s:%lu: %s: control byte 0x%02x at column %zu",
				name, lineno, where, c, col0 + i);
			return -1;
		}
		if ((k = utf8_seq(s + i, n - i)) == 0) {
			nk_errf(e, "%s:%lu: %s: invalid UTF-8 (byte 0x%02x at column %zu)",
				name, lineno, where, c, col0 + i);
			return -1;
		}
		i += k;
	}
	return 0;
}

int nk_rec_parse_line(char *line, size_t len, const char *name,
	unsigned long lineno, struct nk_rec *rec, struct nk_err *e)
{
	char sh[40], where[80];
	size_t i, j, tlen, nf = 0;

	if (name == NULL)
		name = "input";
	if (len > NK_REC_MAX_LINE) {
		nk_errf(e, "%s:%lu: line longer than %d bytes", name, lineno, NK_REC_MAX_LINE);
		return -1;
	}
	if (len == 0)
		return 0;
	if (line[0] == '#') {
		if (check_bytes(line, len, 1, name, lineno, "comment", 1, e) < 0)
			return -1;
		return 0;
	}

	/* The record type: up to the first space. */
	for (tlen = 0; tlen < len && line[tlen] != ' '; tlen++)
		;
	if (tlen == 0) {
		nk_errf(e, "%s:%lu: record type: line starts with a space", name, lineno);
		return -1;
	}
	if (!nk_rec_key_ok(line, tlen)) {
		if (check_bytes(line, tlen, 0, name, lineno, "record type", 1, e) < 0)
			return -1;
		nk_errf(e, "%s:%lu: record type '%s': must be 1 to %d of a-z 0-9 '-', starting with a-z",
			name, lineno, shown(sh, sizeof sh, line, tlen), NK_REC_MAX_KEY);
		return -1;
	}

	line[tlen] = 0;         /* was ' ' or line[len]; the loop goes by index */
	rec->type = line;
	rec->line = lineno;
	rec->src = name;
	rec->raw = NULL;
	rec->raw_len = 0;
	i = tlen;
	while (i < len) {
		/* line[i] == ' ': exactly one space, then a field */
		size_t kstart = i + 1, klen, vstart, vend;
		const char *prev = nf > 0 ? rec->f[nf - 1].key : "";

		if (kstart == len) {
			if (nf == 0)
				nk_errf(e, "%s:%lu: record type '%s': trailing space at end of line",
					name, lineno, rec->type);
			else
				nk_errf(e, "%s:%lu: field '%s': trailing space at end of line",
					name, lineno, prev);
			return -1;
		}
		if (line[kstart] == ' ') {
			nk_errf(e, "%s:%lu: field %zu: more than one space before it (column %zu)",
				name, lineno, nf + 1, kstart + 1);
			return -1;
		}
		for (vend = kstart; vend < len && line[vend] != ' '; vend++)
			;
		for (j = kstart; j < vend && line[j] != '='; j++)
			;
		klen = j - kstart;
		if (j == vend) {
			if (check_bytes(line + kstart, vend - kstart, 0, name, lineno, "field", kstart + 1, e) < 0)
				return -1;
			nk_errf(e, "%s:%lu: field %zu '%s': missing '=' (fields are key=value)",
				name, lineno, nf + 1, shown(sh, sizeof sh, line + kstart, vend - kstart));
			return -1;
		}
		if (!nk_rec_key_ok(line + kstart, klen)) {
			if (klen == 0) {
				nk_errf(e, "%s:%lu: field %zu: empty key before '=' (column %zu)",
					name, lineno, nf + 1, kstart + 1);
				return -1;
			}
			if (check_bytes(line + kstart, klen, 0, name, lineno, "field key", kstart + 1, e) < 0)
				return -1;
			nk_errf(e, "%s:%lu: field %zu: bad key '%s' (1 to %d of a-z 0-9 '-', starting with a-z)",
				name, lineno, nf + 1, shown(sh, sizeof sh, line + kstart, klen), NK_REC_MAX_KEY);
			return -1;
		}
		/* the key is plain ASCII now; terminate it */
		line[j] = 0;
		vstart = j + 1;
		snprintf(where, sizeof where, "field '%s'", line + kstart);
		if (nf == NK_REC_MAX_FIELDS) {
			nk_errf(e, "%s:%lu: %s: more than %d fields", name, lineno, where, NK_REC_MAX_FIELDS);
			return -1;
		}
		for (j = 0; j < nf; j++)
			if (strcmp(rec->f[j].key, line + kstart) == 0) {
				nk_errf(e, "%s:%lu: %s: duplicate key (also field %zu)",
					name, lineno, where, j + 1);
				return -1;
			}
		if (vstart == vend) {
			nk_errf(e, "%s:%lu: %s: empty value", name, lineno, where);
			return -1;
		}
		if (check_bytes(line + vstart, vend - vstart, 0, name, lineno, where, vstart + 1, e) < 0)
			return -1;
		rec->f[nf].key = line + kstart;
		rec->f[nf].val = line + vstart;
		nf++;
		/* terminate the value: the separator (or line[len]) becomes NUL;
		 * the scan goes by index, so it does not need the space again */
		i = vend;
		line[i] = 0;
	}
	rec->nfields = nf;
	return 1;
}

int nk_rec_read(struct nk_rec_reader *r, struct nk_rec *rec, struct nk_err *e)
{
	for (;;) {
		size_t n = 0;
		int c, over = 0, rv;

		while ((c = getc_unlocked(r->in)) != EOF && c != '\n') {
			if (n < NK_REC_MAX_LINE)
				r->raw[n++] = (char)c;
			else
				over = 1;
		}
		if (c == EOF) {
			if (ferror(r->in)) {
				nk_errf(e, "%s:%lu: read error: %s", r->name, r->lineno + 1, strerror(errno));
				return -1;
			}
			if (n == 0 && !over)
				return 0;
			/* a last line without newline is accepted */
		}
		r->lineno++;
		if (over) {
			nk_errf(e, "%s:%lu: line longer than %d bytes", r->name, r->lineno, NK_REC_MAX_LINE);
			return -1;
		}
		r->raw[n] = 0;
		memcpy(r->buf, r->raw, n + 1);
		rv = nk_rec_parse_line(r->buf, n, r->name, r->lineno, rec, e);
		if (rv < 0)
			return -1;
		if (rv == 0)
			continue;
		rec->raw = r->raw;
		rec->raw_len = n;
		return 1;
	}
}

/* ---- field access ---- */

const char *nk_rec_get(const struct nk_rec *rec, const char *key)
{
	size_t i;

	for (i = 0; i < rec->nfields; i++)
		if (strcmp(rec->f[i].key, key) == 0)
			return rec->f[i].val;
	return NULL;
}

void nk_rec_field_error(const struct nk_rec *rec, const char *key, struct nk_err *e, const char *fmt, ...)
{
	char m[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	nk_errf(e, "%s:%lu: field '%s': %s", rec->src != NULL ? rec->src : "input",
		rec->line, key, m);
}

static const char *need(const struct nk_rec *rec, const char *key, struct nk_err *e)
{
	const char *v = nk_rec_get(rec, key);

	if (v == NULL)
		nk_rec_field_error(rec, key, e, "missing in %s record", rec->type);
	return v;
}

/* [+-]DIGITS[.DIGITS] */
static int decimal_syntax(const char *s, int allow_frac)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.' && allow_frac) {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == 0;
}

int nk_rec_get_double(const struct nk_rec *rec, const char *key, double *out, struct nk_err *e)
{
	const char *v = need(rec, key, e);
	double d;

	if (v == NULL)
		return -1;
	if (strlen(v) > 64 || !decimal_syntax(v, 1)) {
		nk_rec_field_error(rec, key, e, "not a decimal number ([+-]DIGITS[.DIGITS])");
		return -1;
	}
	errno = 0;
	d = strtod(v, NULL);
	if (!isfinite(d)) {
		nk_rec_field_error(rec, key, e, "number out of range");
		return -1;
	}
	*out = d;
	return 0;
}

int nk_rec_get_u64(const struct nk_rec *rec, const char *key, uint64_t max, uint64_t *out, struct nk_err *e)
{
	const char *v = need(rec, key, e);

	if (v == NULL)
		return -1;
	if (nk_parse_u64(v, max, out) < 0) {
		nk_rec_field_error(rec, key, e, "not a whole number from 0 to %" PRIu64, max);
		return -1;
	}
	return 0;
}

int nk_rec_get_i64(const struct nk_rec *rec, const char *key, int64_t *out, struct nk_err *e)
{
	const char *v = need(rec, key, e), *d;
	uint64_t m;
	int neg;

	if (v == NULL)
		return -1;
	neg = v[0] == '-';
	d = (v[0] == '-' || v[0] == '+') ? v + 1 : v;
	if (nk_parse_u64(d, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &m) < 0) {
		nk_rec_field_error(rec, key, e, "not a whole number in the signed 64-bit range");
		return -1;
	}
	if (neg)
		*out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
	else
		*out = (int64_t)m;
	return 0;
}

long nk_rec_get_hex(const struct nk_rec *rec, const char *key, void *out, size_t cap, struct nk_err *e)
{
	const char *v = need(rec, key, e);
	size_t n;
	long r;

	if (v == NULL)
		return -1;
	n = strlen(v);
	if (n / 2 > cap) {
		nk_rec_field_error(rec, key, e, "%zu hex digits, at most %zu allowed", n, 2 * cap);
		return -1;
	}
	if ((r = nk_hex_decode(out, cap, v, n)) < 0) {
		nk_rec_field_error(rec, key, e, "not hex (an even number of 0-9 a-f)");
		return -1;
	}
	return r;
}

long nk_rec_get_b64(const struct nk_rec *rec, const char *key, void *out, size_t cap, struct nk_err *e)
{
	const char *v = need(rec, key, e);
	size_t n;
	long r;

	if (v == NULL)
		return -1;
	n = strlen(v);
	if (n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap) {
		nk_rec_field_error(rec, key, e, "longer than %zu bytes", cap);
		return -1;
	}
	if ((r = nk_b64url_decode(out, cap, v, n)) < 0) {
		nk_rec_field_error(rec, key, e, "not unpadded base64url");
		return -1;
	}
	return r;
}

int nk_rec_write_raw(FILE *out, const struct nk_rec *rec)
{
	size_t i;

	if (rec->raw != NULL) {
		if (fwrite(rec->raw, 1, rec->raw_len, out) != rec->raw_len || putc('\n', out) == EOF)
			return -1;
	} else {
		if (fputs(rec->type, out) == EOF)
			return -1;
		for (i = 0; i < rec->nfields; i++)
			if (fprintf(out, " %s=%s", rec->f[i].key, rec->f[i].val) < 0)
				return -1;
		if (putc('\n', out) == EOF)
			return -1;
	}
	return fflush(out) == 0 ? 0 : -1;
}

/* ---- writer ---- */

static void refuse(struct nk_rec_writer *w, const char *why)
{
	if (!w->overflow) {
		w->overflow = 1;
		w->why = why;
	}
}

static int room(struct nk_rec_writer *w, size_t n)
{
	if (w->len + n > NK_REC_MAX_LINE) {
		refuse(w, "line longer than 64 KiB");
		return 0;
	}
	return 1;
}

void nk_recw_begin(struct nk_rec_writer *w, const char *type)
{
	size_t n = strlen(type);

	w->len = 0;
	w->overflow = 0;
	w->why = NULL;
	w->nfields = 0;
	w->buf[0] = 0;
	if (!nk_rec_key_ok(type, n)) {
		refuse(w, "bad record type");
		return;
	}
	memcpy(w->buf, type, n);
	w->len = n;
	w->buf[n] = 0;
}

/* " key=" appended; 1 when the caller may append the value. */
static int add_key(struct nk_rec_writer *w, const char *key)
{
	size_t n = strlen(key), i;

	if (w->overflow)
		return 0;
	if (!nk_rec_key_ok(key, n)) {
		refuse(w, "bad key");
		return 0;
	}
	if (w->nfields == NK_REC_MAX_FIELDS) {
		refuse(w, "too many fields");
		return 0;
	}
	for (i = 0; i < w->nfields; i++)
		if (strcmp(w->keys[i], key) == 0) {
			refuse(w, "duplicate key");
			return 0;
		}
	if (!room(w, n + 2))
		return 0;
	memcpy(w->keys[w->nfields++], key, n + 1);
	w->buf[w->len++] = ' ';
	memcpy(w->buf + w->len, key, n);
	w->len += n;
	w->buf[w->len++] = '=';
	w->buf[w->len] = 0;
	return 1;
}

static void add_val(struct nk_rec_writer *w, const char *v, size_t n)
{
	size_t i;

	if (n == 0) {
		refuse(w, "empty value");
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= ' ' || c == 0x7F) {
			refuse(w, "space or control byte in value");
			return;
		}
	}
	if (!nk_rec_utf8_ok(v, n)) {
		refuse(w, "invalid UTF-8 in value");
		return;
	}
	if (!room(w, n))
		return;
	memcpy(w->buf + w->len, v, n);
	w->len += n;
	w->buf[w->len] = 0;
}

void nk_recw_str(struct nk_rec_writer *w, const char *key, const char *val)
{
	if (val == NULL) {
		refuse(w, "NULL value");
		return;
	}
	if (add_key(w, key))
		add_val(w, val, strlen(val));
}

void nk_recw_u64(struct nk_rec_writer *w, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof s, "%" PRIu64, v);
	if (add_key(w, key))
		add_val(w, s, strlen(s));
}

void nk_recw_i64(struct nk_rec_writer *w, const char *key, int64_t v)
{
	char s[24];

	snprintf(s, sizeof s, "%" PRId64, v);
	if (add_key(w, key))
		add_val(w, s, strlen(s));
}

void nk_recw_double(struct nk_rec_writer *w, const char *key, double v, int digits, int sign)
{
	char s[400];
	int n;
	size_t i;

	if (!add_key(w, key))
		return;
	if (!isfinite(v)) {
		refuse(w, "number not finite");
		return;
	}
	if (digits < 0 || digits > 17) {
		refuse(w, "digits out of range");
		return;
	}
	n = snprintf(s, sizeof s, sign ? "%+.*f" : "%.*f", digits, v);
	if (n < 0 || (size_t)n >= sizeof s) {
		refuse(w, "number too long");
		return;
	}
	if (s[0] == '-') {
		/* -0.000 (a tiny negative rounded away): write it as zero */
		for (i = 1; s[i] == '0' || s[i] == '.'; i++)
			;
		if (s[i] == 0) {
			if (sign)
				s[0] = '+';
			else
				memmove(s, s + 1, strlen(s));
		}
	}
	add_val(w, s, strlen(s));
}

void nk_recw_hex(struct nk_rec_writer *w, const char *key, const void *data, size_t n)
{
	if (!add_key(w, key))
		return;
	if (n == 0) {
		refuse(w, "empty value");
		return;
	}
	if (n > NK_REC_MAX_LINE / 2 || !room(w, 2 * n))
		return (void)refuse(w, "line longer than 64 KiB");
	nk_hex_encode(w->buf + w->len, data, n);
	w->len += 2 * n;
}

void nk_recw_b64(struct nk_rec_writer *w, const char *key, const void *data, size_t n)
{
	if (!add_key(w, key))
		return;
	if (n == 0) {
		refuse(w, "empty value");
		return;
	}
	if (n > NK_REC_MAX_LINE || !room(w, NK_B64URL_LEN(n)))
		return (void)refuse(w, "line longer than 64 KiB");
	w->len += nk_b64url_encode(w->buf + w->len, data, n);
}

int nk_recw_end(struct nk_rec_writer *w, FILE *out)
{
	if (w->overflow || w->len == 0)
		return -1;
	w->buf[w->len] = '\n';
	if (fwrite(w->buf, 1, w->len + 1, out) != w->len + 1) {
		w->buf[w->len] = 0;
		return -1;
	}
	w->buf[w->len] = 0;
	return fflush(out) == 0 ? 0 : -1;
}

int nk_rec_get_range(const struct nk_rec *rec, const char *key, double lo, double hi,
	double *out, struct nk_err *e)
{
	if (nk_rec_get_double(rec, key, out, e) < 0)
		return -1;
	if (*out < lo || *out > hi) {
		nk_rec_field_error(rec, key, e, "value out of range [%g, %g]", lo, hi);
		return -1;
	}
	return 0;
}
