/*
 * record: the pipe format of ntskit (ntskit-records(5)).
 *
 * One record a line: a type word, then key=value fields separated by one
 * space. Values contain no space. '#' lines are comments, empty lines are
 * ignored. A line is at most NK_REC_MAX_LINE bytes (without the newline).
 *
 * Syntax (every rule is checked by the reader and by the writer):
 *   line    = type *( SP key "=" value ) LF    (the last LF may be missing)
 *   type    = key                              (a-z, then a-z 0-9 '-', <= 32)
 *   key     = %x61-7A *31( %x61-7A / DIGIT / "-" )
 *   value   = 1*( any UTF-8 except SP and control bytes; '=' allowed )
 * At most NK_REC_MAX_FIELDS fields; a key appears at most once; lists are
 * comma-separated inside one value. Valid UTF-8 only (no overlong forms,
 * no surrogates, nothing above U+10FFFF); no NUL, no CR (LF endings only).
 *
 * Reader: caller-owned struct nk_rec_reader (large: holds the line buffer);
 * nk_rec_read() returns one parsed record whose strings point into the
 * reader's buffer, valid until the next call. Malformed lines are errors
 * naming the source, line number and the field ("stdin:12: field 'offset':
 * ..."), never skipped silently. After an error the reader stands at the
 * start of the next line (an over-long line is consumed to its end), but the
 * tools stop at the first malformed line (exit NK_EXIT_DATA).
 *
 * Writer: caller-owned struct nk_rec_writer accumulates one line; numbers
 * are written so awk can use them (decimal, signed offsets). It refuses to
 * produce a line the reader would reject: the first bad call sets 'overflow'
 * (and 'why'), later calls do nothing, nk_recw_end() then returns -1 and
 * writes nothing.
 */
#ifndef NK_RECORD_H
#define NK_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define NK_REC_MAX_LINE   65536
#define NK_REC_MAX_FIELDS 64
#define NK_REC_MAX_KEY    32

struct nk_rec_field {
	const char *key;
	const char *val;
};

struct nk_rec {
	const char *type;
	size_t nfields;
	struct nk_rec_field f[NK_REC_MAX_FIELDS];
	unsigned long line;     /* line number in the source, from 1 */
	const char *raw;        /* the whole line as read (no newline), for pass-through;
	                         * NULL after nk_rec_parse_line (it parses in place) */
	size_t raw_len;
	const char *src;        /* source name for messages ("stdin", a file name) */
};

struct nk_rec_reader {
	FILE *in;
	const char *name;       /* "stdin" or a file name, for messages */
	unsigned long lineno;
	char raw[NK_REC_MAX_LINE + 2];
	char buf[NK_REC_MAX_LINE + 2];
};

void nk_rec_reader_init(struct nk_rec_reader *r, FILE *in, const char *name);

/* 1: a record was read; 0: end of input; -1: malformed line (e says which
 * line and field) or read error. Comments and empty lines are skipped (they
 * are still checked: no NUL, no CR, valid UTF-8, length). */
int nk_rec_read(struct nk_rec_reader *r, struct nk_rec *rec, struct nk_err *e);

/* Parse one line (no newline; 'len' bytes, NUL bytes inside are errors) in
 * place; used by nk_rec_read and by tests. 'name' and 'lineno' only feed
 * messages. line[len] must be writable (a NUL is stored there).
 * 1: a record; 0: an empty line or a comment (rec untouched); -1: error. */
int nk_rec_parse_line(char *line, size_t len, const char *name,
	unsigned long lineno, struct nk_rec *rec, struct nk_err *e);

/* Field access. nk_rec_get returns NULL when absent. The typed getters
 * return 0 on success, -1 (e names the line and the field) when the field is
 * missing or its value is not of the type.
 *   double: [+-]DIGITS[.DIGITS], finite (no exponent, no inf/nan)
 *   u64:    DIGITS, <= max
 *   i64:    [+-]DIGITS, in int64_t range
 *   hex/b64: bytes written (<= cap), or -1 */
const char *nk_rec_get(const struct nk_rec *rec, const char *key);
int nk_rec_get_double(const struct nk_rec *rec, const char *key, double *out, struct nk_err *e); /* finite only */
/* A finite double within [lo, hi]; out of range: "value out of range [lo, hi]". */
int nk_rec_get_range(const struct nk_rec *rec, const char *key, double lo, double hi,
	double *out, struct nk_err *e);
int nk_rec_get_u64(const struct nk_rec *rec, const char *key, uint64_t max, uint64_t *out, struct nk_err *e);
int nk_rec_get_i64(const struct nk_rec *rec, const char *key, int64_t *out, struct nk_err *e);
long nk_rec_get_hex(const struct nk_rec *rec, const char *key, void *out, size_t cap, struct nk_err *e);
long nk_rec_get_b64(const struct nk_rec *rec, const char *key, void *out, size_t cap, struct nk_err *e);
/* "<src>:<line>: field '<key>': <msg>" into e (for checks a tool makes on a
 * field's meaning, so that every record error reads the same). */
void nk_rec_field_error(const struct nk_rec *rec, const char *key, struct nk_err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Write the record's original line and a newline (pass-through of types a
 * tool does not consume). When raw is NULL the line is rebuilt from the
 * fields (the syntax is canonical, so the bytes are the same). 0 or -1. */
int nk_rec_write_raw(FILE *out, const struct nk_rec *rec);

struct nk_rec_writer {
	char buf[NK_REC_MAX_LINE + 2];
	size_t len;
	int overflow;           /* set by the first refused call */
	const char *why;        /* what was refused (static text), NULL when fine */
	size_t nfields;
	char keys[NK_REC_MAX_FIELDS][NK_REC_MAX_KEY + 1];
};

void nk_recw_begin(struct nk_rec_writer *w, const char *type);
/* Values must not contain spaces, '=' in keys, control bytes: the writer
 * refuses (sets overflow) rather than write a line the reader would reject.
 * Also refused: bad or duplicate keys, empty values, invalid UTF-8, more than
 * NK_REC_MAX_FIELDS fields, a line over NK_REC_MAX_LINE bytes. */
void nk_recw_str(struct nk_rec_writer *w, const char *key, const char *val);
void nk_recw_u64(struct nk_rec_writer *w, const char *key, uint64_t v);
void nk_recw_i64(struct nk_rec_writer *w, const char *key, int64_t v);
/* fixed point with 'digits' decimals (0..17); 'sign' forces a leading + on
 * >= 0 (offsets). Non-finite values are refused. -0 is written as 0. */
void nk_recw_double(struct nk_rec_writer *w, const char *key, double v, int digits, int sign);
void nk_recw_hex(struct nk_rec_writer *w, const char *key, const void *data, size_t n);
void nk_recw_b64(struct nk_rec_writer *w, const char *key, const void *data, size_t n);
/* Append the line and a newline to out and flush it. -1 on overflow (nothing
 * written) or I/O error. */
int nk_recw_end(struct nk_rec_writer *w, FILE *out);

/* Source names: the ONE rule for the source= field of every record, the
 * [source NAME] sections of ntskit.conf(5) and the names nts-ke gives the
 * servers named on its command line (ntskit-records(5), SOURCE NAMES):
 *   1 to NK_REC_SOURCE_MAX-1 (255) bytes of A-Z a-z 0-9 '.' '_' '-'
 * (room for any DNS name, or a v3 onion address, with "_PORT"; the
 * [source NAME] sections of the configuration are shorter still)
 * so that a name never breaks a record, a comma-separated list (used=), a
 * "name:reason" item (rejected=), a Prometheus label or a shell word. */
#define NK_REC_SOURCE_MAX 256
#define NK_REC_SOURCE_RULE "1 to 255 of A-Z a-z 0-9 '.' '_' '-'"
int nk_rec_source_ok(const char *name);
/* The name of a server given as HOST[:PORT] or [IPv6]:PORT, already split
 * into host and port: the host as written, each ':' of an IPv6 literal
 * written '-' (the ipv6-literal convention: [2001:db8::1] -> 2001-db8--1),
 * then "_PORT" when port is not def_port. Two ports on one host give two
 * names. 0, or -1 (e says why: a host with other characters, or a name
 * longer than 255 bytes; such a server needs a [source NAME] section). */
int nk_rec_source_name(char *out, size_t cap, const char *host, uint16_t port,
	uint16_t def_port, struct nk_err *e);

/* Checks shared with other modules: 1 if s[0..n) is a valid key/type word;
 * 1 if it is valid UTF-8 (RFC 3629). */
int nk_rec_key_ok(const char *s, size_t n);
int nk_rec_utf8_ok(const char *s, size_t n);

#endif
