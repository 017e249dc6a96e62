/* Unit tests for lib/record: the reader's rules (every error names the line
 * and the field), the typed getters, the writer (refuses what the reader
 * would reject) and pass-through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "record.h"

static struct nk_rec_reader rd;   /* large: keep it off the stack */
static struct nk_rec_writer wr;

/* Parse a copy of s (len bytes) as line 7 of "t"; returns the result. */
static int parse(const char *s, size_t len, struct nk_rec *rec, struct nk_err *e)
{
	static char line[NK_REC_MAX_LINE + 8];
	assert_true(len < sizeof line - 1);
	memcpy(line, s, len);
	line[len] = 0;
	e->msg[0] = 0;
	return nk_rec_parse_line(line, len, "t", 7, rec, e);
}

/* The line must be rejected, the message must start with "t:7: " and
 * contain 'want'. */
static void bad(const char *s, size_t len, const char *want)
{
	struct nk_rec rec;
	struct nk_err e;
	int r = parse(s, len, &rec, &e);
	if (r != -1 || strncmp(e.msg, "t:7: ", 5) != 0 || strstr(e.msg, want) == NULL) {
		print_error("line '%s': r=%d msg='%s', wanted '%s'\n", s, r, e.msg, want);
		fail();
	}
}
#define BAD(lit, want) bad(lit, sizeof(lit) - 1, want)
#define PARSE(lit, rec, e) parse(lit, sizeof(lit) - 1, rec, e)

static void test_parse_ok(void **state)
{
	struct nk_rec rec;
	struct nk_err e;
	(void)state;
	assert_int_equal(PARSE("sample source=a.example ntp=[::1]:123 offset=-0.5 x=a=b=c", &rec, &e), 1);
	assert_string_equal(rec.type, "sample");
	assert_int_equal(rec.nfields, 4);
	assert_int_equal(rec.line, 7);
	assert_string_equal(rec.src, "t");
	assert_string_equal(nk_rec_get(&rec, "source"), "a.example");
	assert_string_equal(nk_rec_get(&rec, "ntp"), "[::1]:123");
	assert_string_equal(nk_rec_get(&rec, "x"), "a=b=c");   /* '=' after the first belongs to the value */
	assert_null(nk_rec_get(&rec, "nope"));
	/* a type alone */
	assert_int_equal(PARSE("end", &rec, &e), 1);
	assert_int_equal(rec.nfields, 0);
	/* UTF-8 in values, 4-byte too; keys with digits and '-' */
	assert_int_equal(PARSE("x a=\xc3\xa9t\xc3\xa9 b2-c=\xf0\x9f\x95\x92 refid=\xe2\x82\xac", &rec, &e), 1);
	assert_string_equal(nk_rec_get(&rec, "b2-c"), "\xf0\x9f\x95\x92");
	/* comments and empty lines: 0 */
	assert_int_equal(PARSE("# a comment\twith tab and = and  spaces", &rec, &e), 0);
	assert_int_equal(PARSE("", &rec, &e), 0);
	/* key of exactly 32 chars */
	assert_int_equal(PARSE("t abcdefghijabcdefghijabcdefghijab=1", &rec, &e), 1);
}

static void test_parse_bad(void **state)
{
	char big[NK_REC_MAX_LINE + 2];
	char many[64 * 8 + 16];
	size_t n;
	(void)state;
	BAD(" sample a=1", "record type: line starts with a space");
	BAD("Sample a=1", "record type 'Sample'");
	BAD("1sample a=1", "record type '1sample'");
	BAD("sam_ple a=1", "record type 'sam_ple'");
	BAD("abcdefghijabcdefghijabcdefghijabc a=1", "record type");
	BAD("sample ", "trailing space");
	BAD("sample a=1 ", "field 'a': trailing space");
	BAD("sample a=1  b=2", "field 2: more than one space");
	BAD("sample  a=1", "field 1: more than one space");
	BAD("sample a=1 b", "field 2 'b': missing '='");
	BAD("sample a=1 =2", "field 2: empty key");
	BAD("sample a=1 B=2", "field 2: bad key 'B'");
	BAD("sample a=1 2b=2", "field 2: bad key '2b'");
	BAD("sample a=1 b_c=2", "field 2: bad key 'b_c'");
	BAD("sample a=1 abcdefghijabcdefghijabcdefghijabc=2", "field 2: bad key");
	BAD("sample a=1 b=", "field 'b': empty value");
	BAD("sample a=1 b=2 a=3", "field 'a': duplicate key (also field 1)");
	BAD("sample a=1\tb=2", "field 'a': control byte 0x09");
	BAD("sample a=1\x7f", "field 'a': control byte 0x7f");
	BAD("sample a=1\r", "field 'a': carriage return");
	BAD("sample a=1 b=x\0y", "field 'b': NUL byte at column 15");
	BAD("sam\0ple a=1", "record type: NUL byte");
	BAD("sample a\0=1", "field key: NUL byte");
	BAD("# comment\0", "comment: NUL byte");
	BAD("# comment\r", "comment: carriage return");
	BAD("# comment \xff", "comment: invalid UTF-8");
	/* invalid UTF-8: stray continuation, overlongs, surrogates, > U+10FFFF, truncated */
	BAD("s v=\x80", "field 'v': invalid UTF-8 (byte 0x80");
	BAD("s v=\xc0\xaf", "field 'v': invalid UTF-8 (byte 0xc0");
	BAD("s v=\xc1\xbf", "field 'v': invalid UTF-8");
	BAD("s v=\xe0\x80\xaf", "field 'v': invalid UTF-8");
	BAD("s v=\xf0\x80\x80\xaf", "field 'v': invalid UTF-8");
	BAD("s v=\xed\xa0\x80", "field 'v': invalid UTF-8");          /* U+D800 */
	BAD("s v=\xed\xbf\xbf", "field 'v': invalid UTF-8");          /* U+DFFF */
	BAD("s v=\xf4\x90\x80\x80", "field 'v': invalid UTF-8");      /* U+110000 */
	BAD("s v=\xf5\x80\x80\x80", "field 'v': invalid UTF-8");
	BAD("s v=\xe2\x82", "field 'v': invalid UTF-8");              /* truncated */
	BAD("s v=\xe2\x82x", "field 'v': invalid UTF-8");
	BAD("s \xc3\xa9=1", "field 1: bad key");
	BAD("s \xc3=1", "field key: invalid UTF-8");
	/* boundaries that are valid */
	{
		struct nk_rec rec;
		struct nk_err e;
		assert_int_equal(PARSE("s v=\xed\x9f\xbf", &rec, &e), 1);       /* U+D7FF */
		assert_int_equal(PARSE("s v=\xf4\x8f\xbf\xbf", &rec, &e), 1);   /* U+10FFFF */
		assert_int_equal(PARSE("s v=\xee\x80\x80", &rec, &e), 1);       /* U+E000 */
	}
	/* too many fields */
	n = (size_t)sprintf(many, "s");
	for (int i = 0; i < 65; i++)
		n += (size_t)sprintf(many + n, " k%d=%d", i, i);
	bad(many, n, "field 'k64': more than 64 fields");
	{
		struct nk_rec rec;
		struct nk_err e;
		n = (size_t)sprintf(many, "s");
		for (int i = 0; i < 64; i++)
			n += (size_t)sprintf(many + n, " k%d=%d", i, i);
		assert_int_equal(parse(many, n, &rec, &e), 1);
		assert_int_equal(rec.nfields, 64);
	}
	/* over-long line handed to parse_line */
	memset(big, 'a', sizeof big);
	{
		struct nk_rec rec;
		struct nk_err e;
		static char l2[NK_REC_MAX_LINE + 8];
		memcpy(l2, "s v=", 4);
		memset(l2 + 4, 'a', NK_REC_MAX_LINE - 4);
		assert_int_equal(nk_rec_parse_line(l2, NK_REC_MAX_LINE, "t", 7, &rec, &e), 1);
		memcpy(l2, "s v=", 4);
		memset(l2 + 4, 'a', NK_REC_MAX_LINE - 3);
		assert_int_equal(nk_rec_parse_line(l2, NK_REC_MAX_LINE + 1, "t", 7, &rec, &e), -1);
		assert_non_null(strstr(e.msg, "t:7: line longer than 65536 bytes"));
	}
}

static FILE *mem(const char *s, size_t n)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, n, f), n);
	rewind(f);
	return f;
}

static void test_reader(void **state)
{
	static const char in[] =
		"# header comment\n"
		"\n"
		"session source=a aead=15\n"
		"offset t=1.5 offset=+0.000118\n"
		"unknown-type x=1\n"
		"sample last=no-newline";
	struct nk_rec rec;
	struct nk_err e;
	FILE *f = mem(in, sizeof in - 1);
	char out[512];
	FILE *o;
	(void)state;

	nk_rec_reader_init(&rd, f, "in.txt");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_string_equal(rec.type, "session");
	assert_int_equal(rec.line, 3);
	assert_int_equal(rec.raw_len, strlen("session source=a aead=15"));
	assert_memory_equal(rec.raw, "session source=a aead=15", rec.raw_len);
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_int_equal(rec.line, 4);
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_string_equal(rec.type, "unknown-type");
	/* pass-through writes the original bytes */
	o = fmemopen(out, sizeof out, "w");
	assert_int_equal(nk_rec_write_raw(o, &rec), 0);
	fclose(o);
	assert_string_equal(out, "unknown-type x=1\n");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_int_equal(rec.line, 6);
	assert_string_equal(nk_rec_get(&rec, "last"), "no-newline");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 0);
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 0);
	fclose(f);
}

static void test_reader_errors(void **state)
{
	static const char in[] = "a x=1\nb x=1 x=2\nc y=3\n";
	static char big[NK_REC_MAX_LINE + 64];
	struct nk_rec rec;
	struct nk_err e;
	FILE *f;
	size_t n;
	(void)state;

	f = mem(in, sizeof in - 1);
	nk_rec_reader_init(&rd, f, "stdin");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_int_equal(nk_rec_read(&rd, &rec, &e), -1);
	assert_string_equal(e.msg, "stdin:2: field 'x': duplicate key (also field 1)");
	/* the reader stands at the next line */
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_string_equal(rec.type, "c");
	assert_int_equal(rec.line, 3);
	fclose(f);

	/* a line of exactly 64 KiB is fine, one byte more is an error naming the line */
	memcpy(big, "s v=", 4);
	memset(big + 4, 'x', NK_REC_MAX_LINE - 4);
	big[NK_REC_MAX_LINE] = '\n';
	memcpy(big + NK_REC_MAX_LINE + 1, "s v=", 4);
	memset(big + NK_REC_MAX_LINE + 5, 'y', 20);
	n = NK_REC_MAX_LINE + 25;
	f = mem(big, n);
	nk_rec_reader_init(&rd, f, "big");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_int_equal(strlen(nk_rec_get(&rec, "v")), NK_REC_MAX_LINE - 4);
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	fclose(f);

	memcpy(big, "s v=", 4);
	memset(big + 4, 'x', NK_REC_MAX_LINE + 10);
	memcpy(big + NK_REC_MAX_LINE + 14, "\nt a=1\n", 7);
	f = mem(big, NK_REC_MAX_LINE + 21);
	nk_rec_reader_init(&rd, f, "big");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), -1);
	assert_string_equal(e.msg, "big:1: line longer than 65536 bytes");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);   /* consumed to its end */
	assert_string_equal(rec.type, "t");
	assert_int_equal(rec.line, 2);
	fclose(f);

	/* NUL inside a line read from a stream */
	f = mem("ok a=1\nbad a=1\0b\n", 18);
	nk_rec_reader_init(&rd, f, "nul");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_int_equal(nk_rec_read(&rd, &rec, &e), -1);
	assert_string_equal(e.msg, "nul:2: field 'a': NUL byte at column 8");
	fclose(f);

	/* CRLF endings are rejected, naming the field */
	f = mem("x a=1\r\n", 7);
	nk_rec_reader_init(&rd, f, "crlf");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), -1);
	assert_non_null(strstr(e.msg, "crlf:1: field 'a': carriage return"));
	fclose(f);

	/* bad comment stops the reader too, with its line */
	f = mem("x a=1\n#\xc0\n", 9);
	nk_rec_reader_init(&rd, f, "c");
	assert_int_equal(nk_rec_read(&rd, &rec, &e), 1);
	assert_int_equal(nk_rec_read(&rd, &rec, &e), -1);
	assert_non_null(strstr(e.msg, "c:2: comment: invalid UTF-8"));
	fclose(f);
}

static void test_getters(void **state)
{
	static const char l[] =
		"sample d=+0.000123 n=-12.5 z=0 big=18446744073709551615 neg=-9223372036854775808 "
		"pos=+9223372036854775807 h=00ffAB b=Zm9vYg e=1e5 dot=1. lead=.5 inf=inf w=12x hx=abc";
	struct nk_rec rec;
	struct nk_err e;
	double d;
	uint64_t u;
	int64_t i;
	unsigned char buf[8];
	(void)state;

	assert_int_equal(parse(l, sizeof l - 1, &rec, &e), 1);
	assert_int_equal(nk_rec_get_double(&rec, "d", &d, &e), 0);
	assert_true(fabs(d - 0.000123) < 1e-12);
	assert_int_equal(nk_rec_get_double(&rec, "n", &d, &e), 0);
	assert_true(d == -12.5);
	assert_int_equal(nk_rec_get_double(&rec, "z", &d, &e), 0);
	assert_int_equal(nk_rec_get_u64(&rec, "big", UINT64_MAX, &u, &e), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(nk_rec_get_u64(&rec, "z", 10, &u, &e), 0);
	assert_int_equal(nk_rec_get_i64(&rec, "neg", &i, &e), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(nk_rec_get_i64(&rec, "pos", &i, &e), 0);
	assert_true(i == INT64_MAX);
	assert_int_equal(nk_rec_get_hex(&rec, "h", buf, sizeof buf, &e), 3);
	assert_memory_equal(buf, "\x00\xff\xab", 3);
	assert_int_equal(nk_rec_get_b64(&rec, "b", buf, sizeof buf, &e), 4);
	assert_memory_equal(buf, "foob", 4);

	/* negatives: each message names the line and the field */
#define GBAD(call, want) do { e.msg[0] = 0; assert_int_equal((call), -1); \
	if (strstr(e.msg, want) == NULL) { print_error("msg '%s' lacks '%s'\n", e.msg, want); fail(); } } while (0)
	GBAD(nk_rec_get_double(&rec, "missing", &d, &e), "t:7: field 'missing': missing in sample record");
	GBAD(nk_rec_get_double(&rec, "e", &d, &e), "t:7: field 'e': not a decimal number");
	GBAD(nk_rec_get_double(&rec, "dot", &d, &e), "t:7: field 'dot': not a decimal");
	GBAD(nk_rec_get_double(&rec, "lead", &d, &e), "t:7: field 'lead': not a decimal");
	GBAD(nk_rec_get_double(&rec, "inf", &d, &e), "t:7: field 'inf': not a decimal");
	GBAD(nk_rec_get_double(&rec, "w", &d, &e), "t:7: field 'w'");
	GBAD(nk_rec_get_u64(&rec, "n", UINT64_MAX, &u, &e), "t:7: field 'n': not a whole number");
	GBAD(nk_rec_get_u64(&rec, "big", 100, &u, &e), "t:7: field 'big': not a whole number from 0 to 100");
	GBAD(nk_rec_get_u64(&rec, "d", 100, &u, &e), "t:7: field 'd'");
	GBAD(nk_rec_get_i64(&rec, "big", &i, &e), "t:7: field 'big': not a whole number in the signed");
	GBAD(nk_rec_get_i64(&rec, "d", &i, &e), "t:7: field 'd'");
	GBAD(nk_rec_get_hex(&rec, "hx", buf, sizeof buf, &e), "t:7: field 'hx': not hex");
	GBAD(nk_rec_get_hex(&rec, "w", buf, sizeof buf, &e), "t:7: field 'w': not hex");
	GBAD(nk_rec_get_hex(&rec, "h", buf, 2, &e), "t:7: field 'h': 6 hex digits, at most 4");
	GBAD(nk_rec_get_b64(&rec, "d", buf, sizeof buf, &e), "t:7: field 'd': not unpadded base64url");
	GBAD(nk_rec_get_b64(&rec, "b", buf, 3, &e), "t:7: field 'b': longer than 3 bytes");
	{
		/* a huge double is out of range */
		static char l2[400];
		size_t n = (size_t)sprintf(l2, "x v=1");
		memset(l2 + n, '0', 350);
		n += 350;
		assert_int_equal(parse(l2, n, &rec, &e), 1);
		GBAD(nk_rec_get_double(&rec, "v", &d, &e), "t:7: field 'v'");
	}
	nk_rec_field_error(&rec, "offset", &e, "too large (%d)", 3);
	assert_string_equal(e.msg, "t:7: field 'offset': too large (3)");
}

/* Write a line into a string through the writer. */
static int wend(char *out, size_t cap)
{
	FILE *o = fmemopen(out, cap, "w");
	int r;
	assert_non_null(o);
	memset(out, 0, cap);
	r = nk_recw_end(&wr, o);
	fclose(o);
	return r;
}

static void test_writer(void **state)
{
	char out[256];
	struct nk_rec rec;
	struct nk_err e;
	double d;
	(void)state;

	nk_recw_begin(&wr, "offset");
	nk_recw_double(&wr, "t", 1700000000.25, 6, 0);
	nk_recw_double(&wr, "offset", 0.000118, 6, 1);
	nk_recw_double(&wr, "neg", -0.5, 3, 1);
	nk_recw_double(&wr, "nz", -0.0000001, 3, 1);
	nk_recw_double(&wr, "nz2", -0.0000001, 3, 0);
	nk_recw_u64(&wr, "sources", 5);
	nk_recw_i64(&wr, "i", -42);
	nk_recw_str(&wr, "used", "a,b,c=d");
	nk_recw_hex(&wr, "k", "\x01\xfe", 2);
	nk_recw_b64(&wr, "c", "foob", 4);
	assert_int_equal(wr.overflow, 0);
	assert_int_equal(wend(out, sizeof out), 0);
	assert_string_equal(out, "offset t=1700000000.250000 offset=+0.000118 neg=-0.500 nz=+0.000 nz2=0.000 "
		"sources=5 i=-42 used=a,b,c=d k=01fe c=Zm9vYg\n");
	/* and it reads back */
	out[strlen(out) - 1] = 0;
	assert_int_equal(parse(out, strlen(out), &rec, &e), 1);
	assert_int_equal(nk_rec_get_double(&rec, "offset", &d, &e), 0);
	assert_true(fabs(d - 0.000118) < 1e-12);
	/* write_raw without raw rebuilds the same line */
	{
		char o2[256];
		FILE *o = fmemopen(o2, sizeof o2, "w");
		assert_int_equal(nk_rec_write_raw(o, &rec), 0);
		fclose(o);
		assert_string_equal(o2, "offset t=1700000000.250000 offset=+0.000118 neg=-0.500 nz=+0.000 nz2=0.000 "
			"sources=5 i=-42 used=a,b,c=d k=01fe c=Zm9vYg\n");
	}
}

static void test_writer_refuses(void **state)
{
	char out[64];
	(void)state;
#define WREFUSE(stmts, want) do { nk_recw_begin(&wr, "x"); stmts; \
	assert_int_equal(wr.overflow, 1); assert_string_equal(wr.why, want); \
	assert_int_equal(wend(out, sizeof out), -1); assert_string_equal(out, ""); } while (0)
	WREFUSE(nk_recw_begin(&wr, "Bad"), "bad record type");
	WREFUSE(nk_recw_begin(&wr, ""), "bad record type");
	WREFUSE(nk_recw_str(&wr, "a b", "1"), "bad key");
	WREFUSE(nk_recw_str(&wr, "a=b", "1"), "bad key");
	WREFUSE(nk_recw_str(&wr, "", "1"), "bad key");
	WREFUSE(nk_recw_str(&wr, "abcdefghijabcdefghijabcdefghijabc", "1"), "bad key");
	WREFUSE(nk_recw_str(&wr, "a", "x y"), "space or control byte in value");
	WREFUSE(nk_recw_str(&wr, "a", "x\ty"), "space or control byte in value");
	WREFUSE(nk_recw_str(&wr, "a", "x\n"), "space or control byte in value");
	WREFUSE(nk_recw_str(&wr, "a", "x\r"), "space or control byte in value");
	WREFUSE(nk_recw_str(&wr, "a", ""), "empty value");
	WREFUSE(nk_recw_str(&wr, "a", NULL), "NULL value");
	WREFUSE(nk_recw_str(&wr, "a", "\xc0\xaf"), "invalid UTF-8 in value");
	WREFUSE(nk_recw_str(&wr, "a", "\xed\xa0\x80"), "invalid UTF-8 in value");
	WREFUSE((nk_recw_u64(&wr, "a", 1), nk_recw_u64(&wr, "a", 2)), "duplicate key");
	WREFUSE(nk_recw_double(&wr, "a", NAN, 3, 0), "number not finite");
	WREFUSE(nk_recw_double(&wr, "a", INFINITY, 3, 1), "number not finite");
	WREFUSE(nk_recw_double(&wr, "a", 1, 18, 1), "digits out of range");
	WREFUSE(nk_recw_hex(&wr, "a", "", 0), "empty value");
	WREFUSE(nk_recw_b64(&wr, "a", "", 0), "empty value");
	WREFUSE(for (int i = 0; i < 65; i++) { char k[16]; snprintf(k, sizeof k, "k%d", i); nk_recw_u64(&wr, k, 1); },
		"too many fields");
	{
		static unsigned char blob[40000];
		WREFUSE((nk_recw_hex(&wr, "a", blob, sizeof blob)), "line longer than 64 KiB");
		WREFUSE((nk_recw_b64(&wr, "a", blob, 30000), nk_recw_b64(&wr, "b", blob, 30000)),
			"line longer than 64 KiB");
	}
	/* the first refusal is kept; later calls are ignored */
	nk_recw_begin(&wr, "x");
	nk_recw_str(&wr, "a", "");
	nk_recw_str(&wr, "B", "1");
	assert_string_equal(wr.why, "empty value");
	/* begin resets */
	nk_recw_begin(&wr, "x");
	nk_recw_str(&wr, "a", "1");
	assert_int_equal(wend(out, sizeof out), 0);
	assert_string_equal(out, "x a=1\n");
}

/* Every line the writer accepts, the reader accepts (random fields). */
static void test_roundtrip(void **state)
{
	static char out[NK_REC_MAX_LINE + 8];
	struct nk_rec rec;
	struct nk_err e;
	unsigned char rnd[64];
	(void)state;
	for (int round = 0; round < 200; round++) {
		int nf;
		assert_int_equal(nk_random(rnd, sizeof rnd), 0);
		nf = rnd[0] % 70;
		nk_recw_begin(&wr, "rt");
		for (int i = 0; i < nf; i++) {
			char k[16];
			sprintf(k, "f%d", i);
			switch (rnd[1 + i % 60] % 4) {
			case 0: nk_recw_double(&wr, k, (double)(int8_t)rnd[i % 64] / 7.0, i % 10, i & 1); break;
			case 1: nk_recw_i64(&wr, k, (int64_t)(int8_t)rnd[i % 64] * 1000003); break;
			case 2: nk_recw_hex(&wr, k, rnd, 1 + i % 40); break;
			default: nk_recw_b64(&wr, k, rnd, 1 + i % 40); break;
			}
		}
		{
			FILE *o = fmemopen(out, sizeof out, "w");
			int r = nk_recw_end(&wr, o);
			fclose(o);
			if (nf > NK_REC_MAX_FIELDS) {
				assert_int_equal(r, -1);
				continue;
			}
			assert_int_equal(r, 0);
		}
		assert_int_equal(parse(out, strlen(out) - 1, &rec, &e), 1);
		assert_int_equal(rec.nfields, (size_t)nf);
	}
}

/* Source names: the one rule, and the names of HOST[:PORT] servers. */
static void test_source_names(void **state)
{
	char n[NK_REC_SOURCE_MAX], big[300];
	struct nk_err e = { "" };
	(void)state;
	assert_true(nk_rec_source_ok("ptb"));
	assert_true(nk_rec_source_ok("chrony2-ahead"));
	assert_true(nk_rec_source_ok("time.example_4461"));
	assert_true(nk_rec_source_ok("--1_4461"));
	assert_false(nk_rec_source_ok(""));
	assert_false(nk_rec_source_ok("a,b"));          /* used= list */
	assert_false(nk_rec_source_ok("a:b"));          /* rejected=name:reason */
	assert_false(nk_rec_source_ok("a b"));
	assert_false(nk_rec_source_ok("a=b"));
	assert_false(nk_rec_source_ok("[::1]"));
	assert_false(nk_rec_source_ok("a\"b"));         /* Prometheus label */
	assert_false(nk_rec_source_ok("caf\xc3\xa9"));
	memset(big, 'a', sizeof big);
	big[255] = 0;
	assert_true(nk_rec_source_ok(big));
	big[255] = 'a'; big[256] = 0;
	assert_false(nk_rec_source_ok(big));

	assert_int_equal(nk_rec_source_name(n, sizeof n, "time.example", 4460, 4460, &e), 0);
	assert_string_equal(n, "time.example");
	assert_int_equal(nk_rec_source_name(n, sizeof n, "localhost", 4461, 4460, &e), 0);
	assert_string_equal(n, "localhost_4461");
	assert_int_equal(nk_rec_source_name(n, sizeof n, "192.0.2.1", 11443, 4460, &e), 0);
	assert_string_equal(n, "192.0.2.1_11443");
	assert_int_equal(nk_rec_source_name(n, sizeof n, "::1", 4461, 4460, &e), 0);
	assert_string_equal(n, "--1_4461");
	assert_int_equal(nk_rec_source_name(n, sizeof n, "2001:db8::1", 4460, 4460, &e), 0);
	assert_string_equal(n, "2001-db8--1");
	assert_true(nk_rec_source_ok(n));
	/* two ports on one host: two names */
	char m[NK_REC_SOURCE_MAX];
	assert_int_equal(nk_rec_source_name(m, sizeof m, "localhost", 4462, 4460, &e), 0);
	assert_int_equal(nk_rec_source_name(n, sizeof n, "localhost", 4461, 4460, &e), 0);
	assert_string_not_equal(n, m);
	/* refused: other characters, too long (with or without the port) */
	assert_int_equal(nk_rec_source_name(n, sizeof n, "fe80::1%eth0", 4460, 4460, &e), -1);
	assert_non_null(strstr(e.msg, "[source NAME]"));
	/* a v3 onion address and a port: 62 + 5 bytes */
	assert_int_equal(nk_rec_source_name(n, sizeof n,
		"vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion", 4461, 4460, &e), 0);
	assert_string_equal(n, "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion_4461");
	big[255] = 0;
	assert_int_equal(nk_rec_source_name(n, sizeof n, big, 4460, 4460, &e), 0);
	assert_int_equal(nk_rec_source_name(n, sizeof n, big, 4461, 4460, &e), -1);
	assert_non_null(strstr(e.msg, "longer than 255"));
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = 0;
	assert_int_equal(nk_rec_source_name(n, sizeof n, big, 4460, 4460, &e), -1);
	assert_int_equal(nk_rec_source_name(n, 5, "localhost", 4460, 4460, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_source_names),
	};
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
