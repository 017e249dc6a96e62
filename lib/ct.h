/*
 * ct: constant-time helpers and the one annotation of the ctgrind check.
 *
 *   nk_ct_mask_eq(a, b)      all ones when a == b, else 0 (no branch)
 *   nk_ct_mask_lt(a, b)      all ones when a < b, else 0 (a, b < 2^31)
 *   nk_ct_mask_range(c, lo, hi)  all ones when lo <= c <= hi (all < 2^31)
 *
 *   NK_CT_PUBLIC(p, n)       declares the n bytes at p public from here on:
 *                            a value computed from secrets that the code
 *                            deliberately branches on (a tag check result,
 *                            a decode error, a signing retry). It compiles
 *                            to nothing, except in the Valgrind build of
 *                            `make ct` (-DNK_CT_VALGRIND, tests/ct/README),
 *                            where it marks the bytes defined so memcheck
 *                            stops tracking them as secret. Every use is
 *                            listed in tests/ct/README; one value at one
 *                            point, never a whole function.
 */
#ifndef NK_CT_H
#define NK_CT_H

#include <stdint.h>

#ifdef NK_CT_VALGRIND
#include <valgrind/memcheck.h>
#define NK_CT_PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define NK_CT_PUBLIC(p, n) ((void)0)
#endif

static inline uint32_t nk_ct_mask_eq(uint32_t a, uint32_t b)
{
	uint32_t x = a ^ b;

	/* x | -x has bit 31 set exactly when x != 0 */
	return ((x | (0u - x)) >> 31) - 1u;
}

static inline uint32_t nk_ct_mask_lt(uint32_t a, uint32_t b)
{
	return 0u - ((a - b) >> 31);
}

static inline uint32_t nk_ct_mask_range(uint32_t c, uint32_t lo, uint32_t hi)
{
	return (((c - lo) | (hi - c)) >> 31) - 1u;
}

#endif
