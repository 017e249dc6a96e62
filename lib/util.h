/*
 * util: small helpers every module uses.
 *   - secrets: nk_wipe(), nk_ct_eq() (constant time), nk_random() (getrandom)
 *   - encodings: hex and unpadded base64url, strict decimal numbers
 *   - errors: struct nk_err carries one line of text naming what was wrong
 *   - host:port parsing ([v6]:port, name:port, v4:port)
 *   - nk_stdfds_open(): descriptors 0-2 never left closed
 * No function here allocates memory.
 */
#ifndef NK_UTIL_H
#define NK_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* One line of error text; functions that can fail take a struct nk_err *
 * (may be NULL) and fill it with a message that names what was wrong. */
struct nk_err {
	char msg[256];
};
void nk_errf(struct nk_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Wipe a secret (not optimised away). */
void nk_wipe(void *p, size_t n);
/* 1 when equal, 0 otherwise; time depends only on n. */
int nk_ct_eq(const void *a, const void *b, size_t n);
/* Fill buf from the kernel's CSPRNG (getrandom; requests of up to 64 octets
 * from a fork-safe pool of its output, see util.c). 0 on success, -1 on error. */
int nk_random(void *buf, size_t n);

/* Open /dev/null on whichever of the descriptors 0, 1 and 2 is closed, so
 * that a file the program opens later never becomes its stdin, stdout or
 * stderr (samples or messages written into a state file or its lock). Every
 * tool calls it first thing in main(). 0, or -1 when /dev/null cannot be
 * opened (errno set). */
int nk_stdfds_open(void);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC), for deadlines and
 * elapsed times. */
double nk_mono_s(void);

/* The wall clock: nk_clock_real() is clock_gettime(CLOCK_REALTIME), nk_time()
 * is time(NULL). nk_test_restamp() does nothing and returns 0.
 *
 * Test builds only (compiled with -DNK_TEST_HOOKS, build/hooks; never a
 * release or packaged binary) with NTSKIT_TEST_TIME=SECONDS[.FRACTION] set:
 * a fixed clock that starts there and advances by NTSKIT_TEST_TIME_STEP
 * seconds (default 0.001) at each nk_clock_real() reading; nk_time() reads
 * it without advancing it; nk_test_restamp() replaces a timestamp taken
 * elsewhere (a kernel receive timestamp, a transport's own clock reading)
 * by the next reading and returns 1. With NTSKIT_TEST_SEED=TEXT set,
 * nk_random() hands out the output of an HMAC-DRBG (SHA-256) seeded with
 * TEXT and the program's name instead of the kernel's random bytes, so
 * that keys, nonces, unique identifiers and cookies repeat from run to
 * run (tests/golden/README). */
struct timespec;
void nk_clock_real(struct timespec *ts);
int64_t nk_time(void);
int nk_test_restamp(struct timespec *ts);

/* ntskit's version (debian/changelog's newest entry, set by the Makefile). */
extern const char nk_version[];
/* --version: print "TOOL VERSION" on standard output; returns 0 (the exit status). */
int nk_print_version(const char *tool);

/* Hex: encode writes 2*n chars + NUL (lowercase), out must hold 2*n+1.
 * decode accepts upper or lower case, needs an even length; returns the
 * number of bytes written or -1 (bad digit, odd length, or over cap; after
 * a bad digit the len/2 output bytes are zeroed). Both run in constant
 * time: no branch or table index on a secret digit (keys pass through). */
void nk_hex_encode(char *out, const void *in, size_t n);
long nk_hex_decode(void *out, size_t cap, const char *in, size_t len);

/* base64url without padding (RFC 4648 §5). encode: out must hold
 * NK_B64URL_LEN(n)+1; returns the length written (NUL added).
 * decode: rejects padding, bad characters and non-canonical trailing bits;
 * returns bytes written or -1. */
#define NK_B64URL_LEN(n) (((n) * 4 + 2) / 3)
size_t nk_b64url_encode(char *out, const void *in, size_t n);
long nk_b64url_decode(void *out, size_t cap, const char *in, size_t len);

/* Strict unsigned decimal: digits only, no sign, no spaces, <= max.
 * 0 on success, -1 otherwise. */
int nk_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* host:port. Accepts "name:port", "1.2.3.4:port", "[v6]:port", and, when
 * def_port != 0, the same without ":port" (a bare IPv6 address without
 * brackets takes the default port). host gets the name without brackets.
 * 0 on success, -1 with e filled. */
int nk_hostport_parse(const char *s, char *host, size_t host_cap,
	uint16_t *port, uint16_t def_port, struct nk_err *e);

/* Format host:port back (brackets added for IPv6 literals). Returns length
 * or -1 when it does not fit. */
int nk_hostport_format(char *out, size_t cap, const char *host, uint16_t port);

#endif
