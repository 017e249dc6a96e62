/*
 * record: the pipe format of ntskit (ntskit-records(5)).
 *
 * One record a line: a type word, then key=value fields separated by one
 * space. Values contain no space. '#' lines are comments, blank lines are
 * ignored. A line is at most NK_REC_MAX_LINE bytes (without the newline).
 *
 * Reader: caller-owned struct nk_rec_reader (large: holds the line buffer);
 * nk_rec_read() returns one parsed record whose strings point into the
 * reader's buffer, valid until the next call. Malformed lines are errors
 * naming the source, line number and the field ("stdin:12: field 'offset':
 * ..."), never skipped silently.
 *
 * Writer: caller-owned struct nk_rec_writer accumulates one line; numbers
 * are written so awk can use them (decimal, signed offsets).
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
	const char *raw;        /* the whole line as read (no newline), for pass-through */
	size_t raw_len;
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
 * line and field) or read error. Comments and blank lines are skipped. */
int nk_rec_read(struct nk_rec_reader *r, struct nk_rec *rec, struct nk_err *e);

/* Parse one line (no newline) in place; used by nk_rec_read and by tests.
 * 'name' and 'lineno' only feed messages. */
int nk_rec_parse_line(char *line, size_t len, const char *name,
	unsigned long lineno, struct nk_rec *rec, struct nk_err *e);

/* Field access. nk_rec_get returns NULL when absent. The typed getters
 * return 0 on success, -1 (e names the line and the field) when the field is
 * missing or its value is not of the type. */
const char *nk_rec_get(const struct nk_rec *rec, const char *key);
int nk_rec_get_double(const struct nk_rec *rec, const char *key, double *out, struct nk_err *e); /* finite only */
int nk_rec_get_u64(const struct nk_rec *rec, const char *key, uint64_t max, uint64_t *out, struct nk_err *e);
int nk_rec_get_i64(const struct nk_rec *rec, const char *key, int64_t *out, struct nk_err *e);
long nk_rec_get_hex(const struct nk_rec *rec, const char *key, void *out, size_t cap, struct nk_err *e);
long nk_rec_get_b64(const struct nk_rec *rec, const char *key, void *out, size_t cap, struct nk_err *e);
/* "<what> in <name>:<line>: field '<key>': <msg>" into e */
void nk_rec_field_error(const struct nk_rec *rec, const char *key, struct nk_err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Write the record's original line (pass-through of types a tool does not consume). */
int nk_rec_write_raw(FILE *out, const struct nk_rec *rec);

struct nk_rec_writer {
	char buf[NK_REC_MAX_LINE + 2];
	size_t len;
	int overflow;
};

void nk_recw_begin(struct nk_rec_writer *w, const char *type);
/* Values must not contain spaces, '=' in keys, control bytes: the writer
 * refuses (sets overflow) rather than write a line the reader would reject. */
void nk_recw_str(struct nk_rec_writer *w, const char *key, const char *val);
void nk_recw_u64(struct nk_rec_writer *w, const char *key, uint64_t v);
void nk_recw_i64(struct nk_rec_writer *w, const char *key, int64_t v);
/* fixed point with 'digits' decimals; 'sign' forces a leading + on >= 0 */
void nk_recw_double(struct nk_rec_writer *w, const char *key, double v, int digits, int sign);
void nk_recw_hex(struct nk_rec_writer *w, const char *key, const void *data, size_t n);
void nk_recw_b64(struct nk_rec_writer *w, const char *key, const void *data, size_t n);
/* Append the line and a newline to out and flush it. -1 on overflow or I/O error. */
int nk_recw_end(struct nk_rec_writer *w, FILE *out);

#endif
