/*
 * x25519: the X25519 function of RFC 7748 §5 (Diffie-Hellman on Curve25519),
 * constant time, written for speed on 64-bit machines (field elements in
 * radix 2^51, products in unsigned __int128).
 *
 *   nk_x25519(out, k, u)      out = X25519(k, u): the Montgomery ladder of
 *                             RFC 7748 §5. k is the 32-byte scalar in RFC
 *                             byte order (little-endian), clamped here
 *                             (decodeScalar25519); u is decoded with its top
 *                             bit masked, and non-canonical values (p..2^255-1)
 *                             are accepted as the RFC says. out may alias u
 *                             or k. Returns 1, or 0 when the result is the
 *                             all-zero value (RFC 7748 §6.1, RFC 8446 §7.4.2:
 *                             a low-order peer key); out is written either
 *                             way. The check itself is constant time.
 *   nk_x25519_base(out, k)    out = X25519(k, 9), the public key for private
 *                             key k (RFC 7748 §6.1). Same result as
 *                             nk_x25519(out, k, nine) for every k, in about
 *                             0.4 times the time: a fixed-base multiplication on
 *                             edwards25519 (RFC 7748 §4.1 birational map) with
 *                             a precomputed table (lib/x25519_table.h, made by
 *                             tests/helpers/gen_x25519_table.py) read in constant time.
 *   nk_x25519_ec              a BearSSL br_ec_impl for BR_EC_curve25519 only,
 *                             a drop-in for br_ec_c25519_m31 (BearSSL 0.6):
 *                             same inputs give the same outputs and return
 *                             values (see lib/x25519.c for the exact rules).
 *
 * Every secret intermediate is wiped before returning. No allocation, no
 * state: all functions are thread-safe.
 */
#ifndef NK_X25519_H
#define NK_X25519_H

#include <stdint.h>
#include <bearssl.h>

#define NK_X25519_LEN 32   /* scalar, u-coordinate and output length */

int nk_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t u[32]);
void nk_x25519_base(uint8_t out[32], const uint8_t scalar[32]);

extern const br_ec_impl nk_x25519_ec;

#endif
