/*
 * wycheproof.h: a tiny JSON reader for Wycheproof test vector files, for unit
 * tests only (header-only; it allocates, tests may). Not a general JSON
 * parser: strings are kept as raw spans (escapes are not decoded, which is
 * fine for the hex, names and comments Wycheproof uses).
 *
 *   struct wp_json j;
 *   if (wp_load(&j, "tests/vectors/x_test.json") != 0) fail();
 *   int groups = wp_get(&j, 0, "testGroups");          // 0 = the top object
 *   for (int g = wp_first(&j, groups); g >= 0; g = wp_next(&j, groups, g)) {
 *       int tests = wp_get(&j, g, "tests");
 *       for (int t = wp_first(&j, tests); t >= 0; t = wp_next(&j, tests, t)) {
 *           unsigned char *msg; long n = wp_hex(&j, wp_get(&j, t, "msg"), &msg);
 *           if (wp_is(&j, wp_get(&j, t, "result"), "valid")) ...
 *           free(msg);
 *       }
 *   }
 *   wp_free(&j);
 *
 * Token indices are ints; -1 means "absent". wp_get on an object returns the
 * index of the value for that key; wp_first/wp_next walk the elements of an
 * array (or the values of an object).
 */
#ifndef NK_TEST_WYCHEPROOF_H
#define NK_TEST_WYCHEPROOF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WP_OBJ, WP_ARR, WP_STR, WP_NUM, WP_LIT };

struct wp_tok {
	int type;
	size_t start, end;   /* span in text (strings: without the quotes) */
	int next;            /* index of the token after this subtree */
};

struct wp_json {
	char *text;
	size_t len;
	struct wp_tok *tok;
	int ntok, cap;
};

static int wp__push(struct wp_json *j, int type, size_t start)
{
	if (j->ntok == j->cap) {
		int nc = j->cap ? 2 * j->cap : 1024;
		struct wp_tok *t = realloc(j->tok, (size_t)nc * sizeof *t);
		if (t == NULL)
			return -1;
		j->tok = t;
		j->cap = nc;
	}
	j->tok[j->ntok].type = type;
	j->tok[j->ntok].start = start;
	j->tok[j->ntok].end = start;
	j->tok[j->ntok].next = j->ntok + 1;
	return j->ntok++;
}

static void wp__ws(const struct wp_json *j, size_t *p)
{
	while (*p < j->len && (j->text[*p] == ' ' || j->text[*p] == '\n'
		|| j->text[*p] == '\r' || j->text[*p] == '\t'))
		(*p)++;
}

static int wp__value(struct wp_json *j, size_t *p, int depth);

static int wp__string(struct wp_json *j, size_t *p)
{
	if (*p >= j->len || j->text[*p] != '"')
		return -1;
	int t = wp__push(j, WP_STR, ++*p);
	if (t < 0)
		return -1;
	while (*p < j->len && j->text[*p] != '"') {
		if (j->text[*p] == '\\')
			(*p)++;
		(*p)++;
	}
	if (*p >= j->len)
		return -1;
	j->tok[t].end = (*p)++;
	return t;
}

static int wp__value(struct wp_json *j, size_t *p, int depth)
{
	int t;
	if (depth > 64)
		return -1;
	wp__ws(j, p);
	if (*p >= j->len)
		return -1;
	char c = j->text[*p];
	if (c == '"')
		return wp__string(j, p);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		if ((t = wp__push(j, c == '{' ? WP_OBJ : WP_ARR, (*p)++)) < 0)
			return -1;
		wp__ws(j, p);
		if (*p < j->len && j->text[*p] == close) {
			(*p)++;
		} else {
			for (;;) {
				if (c == '{') {
					wp__ws(j, p);
					if (wp__string(j, p) < 0)
						return -1;
					wp__ws(j, p);
					if (*p >= j->len || j->text[(*p)++] != ':')
						return -1;
				}
				if (wp__value(j, p, depth + 1) < 0)
					return -1;
				wp__ws(j, p);
				if (*p >= j->len)
					return -1;
				if (j->text[*p] == ',') {
					(*p)++;
					continue;
				}
				if (j->text[(*p)++] != close)
					return -1;
				break;
			}
		}
		j->tok[t].end = *p;
		j->tok[t].next = j->ntok;
		return t;
	}
	int type = (c == '-' || (c >= '0' && c <= '9')) ? WP_NUM : WP_LIT;
	if ((t = wp__push(j, type, *p)) < 0)
		return -1;
	while (*p < j->len && strchr(",}] \n\r\t", j->text[*p]) == NULL)
		(*p)++;
	j->tok[t].end = *p;
	return t;
}

static void wp_free(struct wp_json *j)
{
	free(j->text);
	free(j->tok);
	memset(j, 0, sizeof *j);
}

/* Read and tokenise a JSON file. 0 or -1 (message on stderr). */
static int wp_load(struct wp_json *j, const char *path)
{
	memset(j, 0, sizeof *j);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "wycheproof: cannot open %s\n", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	j->text = malloc(n > 0 ? (size_t)n : 1);
	if (j->text == NULL || n <= 0 || fread(j->text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		wp_free(j);
		return -1;
	}
	fclose(f);
	j->len = (size_t)n;
	size_t p = 0;
	if (wp__value(j, &p, 0) != 0) {
		fprintf(stderr, "wycheproof: %s: JSON syntax error near byte %zu\n", path, p);
		wp_free(j);
		return -1;
	}
	return 0;
}

/* First element of an array / value of an object; -1 when empty or not a container. */
static int wp_first(const struct wp_json *j, int parent)
{
	if (parent < 0 || (j->tok[parent].type != WP_OBJ && j->tok[parent].type != WP_ARR)
		|| j->tok[parent].next == parent + 1)
		return -1;
	return j->tok[parent].type == WP_OBJ ? parent + 2 : parent + 1;
}

static int wp_next(const struct wp_json *j, int parent, int cur)
{
	int n = j->tok[cur].next;
	if (n >= j->tok[parent].next)
		return -1;
	return j->tok[parent].type == WP_OBJ ? n + 1 : n;
}

/* 1 when token t is a string (or literal/number) equal to s. */
static int wp_is(const struct wp_json *j, int t, const char *s)
{
	if (t < 0)
		return 0;
	size_t n = j->tok[t].end - j->tok[t].start;
	return strlen(s) == n && memcmp(j->text + j->tok[t].start, s, n) == 0;
}

/* Value for 'key' in object obj, or -1. */
static int wp_get(const struct wp_json *j, int obj, const char *key)
{
	if (obj < 0 || j->tok[obj].type != WP_OBJ)
		return -1;
	for (int k = obj + 1; k < j->tok[obj].next; k = j->tok[k + 1].next)
		if (wp_is(j, k, key))
			return k + 1;
	return -1;
}

/* Copy of a token's text, NUL-terminated (malloc'd). */
static char *wp_strdup(const struct wp_json *j, int t)
{
	if (t < 0)
		return NULL;
	size_t n = j->tok[t].end - j->tok[t].start;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, j->text + j->tok[t].start, n);
		s[n] = 0;
	}
	return s;
}

static long wp_int(const struct wp_json *j, int t)
{
	char *s = wp_strdup(j, t);
	long v = s ? strtol(s, NULL, 10) : -1;
	free(s);
	return v;
}

/* Decode a hex string token into a malloc'd buffer (*out, never NULL on
 * success, even for ""). Returns the length, or -1. */
static long wp_hex(const struct wp_json *j, int t, unsigned char **out)
{
	*out = NULL;
	if (t < 0 || j->tok[t].type != WP_STR)
		return -1;
	size_t n = j->tok[t].end - j->tok[t].start;
	const char *s = j->text + j->tok[t].start;
	if (n % 2)
		return -1;
	unsigned char *b = malloc(n / 2 + 1);
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (d < 0) {
				free(b);
				return -1;
			}
			v = v * 16 + d;
		}
		b[i] = (unsigned char)v;
	}
	*out = b;
	return (long)(n / 2);
}

/*
 * Shortcuts (static inline: a test that does not use them gets no warning).
 *   wp_hex_at(j, obj, "key", &buf)  = wp_hex of the value for "key" in obj;
 *   wp_number_of_tests(j)           = the file's "numberOfTests", or -1;
 *   wp_valid(j, t)                  = 1 when test t's "result" is "valid"
 *                                     ("invalid" and "acceptable" give 0).
 */
static inline long wp_hex_at(const struct wp_json *j, int obj, const char *key, unsigned char **out)
{
	return wp_hex(j, wp_get(j, obj, key), out);
}

static inline long wp_number_of_tests(const struct wp_json *j)
{
	return wp_int(j, wp_get(j, 0, "numberOfTests"));
}

static inline int wp_valid(const struct wp_json *j, int t)
{
	return wp_is(j, wp_get(j, t, "result"), "valid");
}

#endif
