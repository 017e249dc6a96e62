/* Reading the Wycheproof line files of tests/vectors/ (see wycheproof2txt.py). */
#ifndef NK_TEST_WYCHE_H
#define NK_TEST_WYCHE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Split 'line' into at most 'max' space-separated fields, in place. */
static inline int wy_split(char *line, char **f, int max)
{
	int n = 0;
	char *save = NULL, *t;

	line[strcspn(line, "\r\n")] = 0;
	for (t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	return n;
}

/* Decode a hex field ('-' = empty) into a malloc'd buffer; *len set. */
static inline unsigned char *wy_hex(const char *s, size_t *len)
{
	size_t n = strcmp(s, "-") == 0 ? 0 : strlen(s);
	unsigned char *b = malloc(n / 2 + 1);

	if (b == NULL || nk_hex_decode(b, n / 2 + 1, s, n) < 0) {
		free(b);
		return NULL;
	}
	*len = n / 2;
	return b;
}

#endif
