/*
 * X25519 (lib/x25519.c): nk_x25519, nk_x25519_base and the br_ec_impl
 * wrapper with secret scalars, and the TLS engine's ephemeral key
 * generation (make_share: its DRBG state is secret, so is all it makes)
 * followed by the (EC)DHE computation.
 */
#include "ct.h"
#include "tls13_int.h"
#include "x25519.h"

int main(void)
{
	static struct nk_tls13 c;
	uint8_t k[32], u[32], out[32], pub[32], g[32], seed[32], ss[64];
	size_t ss_len;

	for (uint32_t s = 1; s <= 3; s++) {
		fill(k, sizeof k, s);
		fill(u, sizeof u, s + 10);
		SECRET(k, sizeof k);
		check(nk_x25519(out, k, u) == 1, "x25519");
		nk_x25519_base(pub, k);
		memcpy(g, u, 32);
		check(nk_x25519_ec.mul(g, 32, k, 32, BR_EC_curve25519) == 1, "ec mul");
		check(nk_x25519_ec.mulgen(g, k, 32, BR_EC_curve25519) == 32, "ec mulgen");
		PUBLIC(out, 32);
		PUBLIC(pub, 32);
		PUBLIC(g, 32);
		check(memcmp(g, pub, 32) == 0, "mulgen = base");
	}
	/* ephemeral keys as both TLS roles make them, then the shared secret */
	for (uint32_t s = 1; s <= 3; s++) {
		memset(&c, 0, sizeof c);
		fill(seed, sizeof seed, s + 20);
		SECRET(seed, sizeof seed);
		br_hmac_drbg_init(&c.rng, &br_sha256_vtable, seed, sizeof seed);
		check(make_share(&c, NK_TLS_GROUP_X25519, pub) == 32, "x25519 share");
		PUBLIC(pub, sizeof pub);        /* the key share goes on the wire */
		fill(u, sizeof u, s + 30);
		check(ecdhe(&c, u, 32, ss, &ss_len) == 0, "x25519 ecdhe");
		nk_wipe(&c, sizeof c);
	}
	return ct_failed;
}
