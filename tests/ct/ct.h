/*
 * ct.h: what every constant-time driver in tests/ct/ shares (see README).
 *   SECRET(p, n)   mark n bytes secret: memcheck treats them as
 *                  uninitialised, so any branch or memory index that
 *                  depends on them is reported
 *   PUBLIC(p, n)   mark n bytes public again (outputs, before they are
 *                  checked or printed)
 *   fill(p, n, s)  deterministic bytes (seed s), for keys and messages
 *   check(cond, what)  a functional check; the driver exits 1 when one fails
 */
#ifndef NK_TESTS_CT_H
#define NK_TESTS_CT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

#define SECRET(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))

static int ct_failed __attribute__((unused));

static inline void fill(void *p, size_t n, uint32_t s)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		s = s * 1103515245u + 12345u;
		b[i] = (unsigned char)(s >> 16);
	}
}

#define check(cond, what) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, (what)); \
		ct_failed = 1; \
	} \
} while (0)

#endif
