#include <stddef.h>
#include <string.h>
#include "tlssig.h"
int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n)
{
	static struct nk_pubkey pk[3];
	static int init;
	if (!init) {
		br_hmac_drbg_context rng;
		br_hmac_drbg_init(&rng, &br_sha256_vtable, "seed", 4);
		static unsigned char kp[BR_EC_KBUF_PRIV_MAX_SIZE*2], kq[BR_EC_KBUF_PUB_MAX_SIZE*2];
		static unsigned char rp[BR_RSA_KBUF_PRIV_SIZE(2048)], rq[BR_RSA_KBUF_PUB_SIZE(2048)];
		br_ec_private_key s; br_x509_pkey xk = { .key_type = BR_KEYTYPE_EC };
		br_ec_keygen(&rng.vtable, br_ec_get_default(), &s, kp, BR_EC_secp256r1);
		br_ec_compute_pub(br_ec_get_default(), &xk.key.ec, kq, &s); nk_pubkey_set(&pk[0], &xk);
		br_ec_keygen(&rng.vtable, br_ec_get_default(), &s, kp+72, BR_EC_secp384r1);
		br_ec_compute_pub(br_ec_get_default(), &xk.key.ec, kq+145, &s); nk_pubkey_set(&pk[1], &xk);
		br_rsa_private_key rs; br_x509_pkey rk = { .key_type = BR_KEYTYPE_RSA };
		br_rsa_keygen_get_default()(&rng.vtable, &rs, rp, &rk.key.rsa, rq, 2048, 65537); nk_pubkey_set(&pk[2], &rk);
		init = 1;
	}
	static const uint16_t sch[] = { 0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0401 };
	if (n < 1) return 0;
	uint16_t s = sch[d[0] % 6];
	const struct nk_pubkey *k = &pk[(d[0] >> 3) % 3];
	nk_tlssig_verify(s, k, "m", 1, d + 1, n - 1);
	return 0;
}
