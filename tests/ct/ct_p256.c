/*
 * P-256 (lib/p256.c): mul and mulgen with secret multipliers, and the TLS
 * engine's ephemeral P-256 (and P-384) keys: make_share with a secret
 * DRBG, then the (EC)DHE computation.
 */
#include "ct.h"
#include "p256.h"
#include "tls13_int.h"

int main(void)
{
	static struct nk_tls13 c;
	unsigned char x[32], G[65], R[65], seed[32], pub[BR_EC_KBUF_PUB_MAX_SIZE], peer[97], ss[64];
	size_t glen, ss_len;
	const unsigned char *gen = nk_p256_ec.generator(BR_EC_secp256r1, &glen);

	for (uint32_t s = 1; s <= 3; s++) {
		fill(x, sizeof x, s);
		x[0] &= 0x7f;                      /* below the order */
		SECRET(x, sizeof x);
		check(nk_p256_ec.mulgen(R, x, sizeof x, BR_EC_secp256r1) == 65, "mulgen");
		memcpy(G, gen, 65);
		check(nk_p256_ec.mul(G, 65, x, sizeof x, BR_EC_secp256r1) == 1, "mul");
		PUBLIC(R, sizeof R);
		PUBLIC(G, sizeof G);
		check(memcmp(R, G, 65) == 0, "mul(G) = mulgen");
	}
	for (int curve = 0; curve < 2; curve++) {
		uint16_t grp = curve == 0 ? NK_TLS_GROUP_SECP256R1 : NK_TLS_GROUP_SECP384R1;
		size_t plen = curve == 0 ? 65 : 97;

		for (uint32_t s = 1; s <= 2; s++) {
			size_t n;

			memset(&c, 0, sizeof c);
			fill(seed, sizeof seed, s + 20);
			SECRET(seed, sizeof seed);
			br_hmac_drbg_init(&c.rng, &br_sha256_vtable, seed, sizeof seed);
			n = make_share(&c, grp, pub);
			check(n == plen, "share");
			PUBLIC(pub, sizeof pub);    /* the key share goes on the wire */
			/* the peer's share: another public point (ours, reused) */
			memcpy(peer, pub, plen);
			check(ecdhe(&c, peer, plen, ss, &ss_len) == 0, "ecdhe");
			nk_wipe(&c, sizeof c);
		}
	}
	return ct_failed;
}
