/*
 * HKDF (lib/hkdf.c) and the TLS 1.3 key schedule with the exporter
 * (lib/tlsks.c): the input keying material, the (EC)DHE secret and every
 * secret derived from them are secret; transcripts are public.
 */
#include "ct.h"
#include "hkdf.h"
#include "tlsks.h"

int main(void)
{
	const br_hash_class *hs[2] = { &br_sha256_vtable, &br_sha384_vtable };
	unsigned char ikm[48], salt[16], prk[64], okm[100], ss[32], vd[48], exp[64];
	static struct nk_tlsks ks;

	for (int i = 0; i < 2; i++) {
		const br_hash_class *h = hs[i];

		fill(ikm, sizeof ikm, (uint32_t)i + 1);
		fill(salt, sizeof salt, 9);
		SECRET(ikm, sizeof ikm);
		check(nk_hkdf_extract(h, salt, sizeof salt, ikm, sizeof ikm, prk) == nk_hash_len(h),
			"extract");
		check(nk_hkdf_expand(h, prk, nk_hash_len(h), "info", 4, okm, sizeof okm) == 0, "expand");
		check(nk_hkdf_expand_label(h, prk, "key", "", 0, okm, 32) == 0, "expand-label");
		PUBLIC(okm, sizeof okm);

		/* key schedule: ClientHello..ServerHello, then the rest */
		nk_tlsks_init(&ks);
		nk_tlsks_add(&ks, "\x01\x00\x00\x02hi", 6);
		nk_tlsks_set_hash(&ks, h);
		nk_tlsks_add(&ks, "\x02\x00\x00\x02sh", 6);
		fill(ss, sizeof ss, (uint32_t)i + 40);
		SECRET(ss, sizeof ss);
		check(nk_tlsks_handshake(&ks, ss, sizeof ss) == 0, "handshake secrets");
		nk_tlsks_add(&ks, "\x14\x00\x00\x02fi", 6);
		check(nk_tlsks_finished(&ks, ks.s_hs, vd) == 0, "finished");
		PUBLIC(vd, sizeof vd);          /* Finished goes on the wire */
		check(nk_tlsks_master(&ks) == 0, "master secret");
		check(nk_tlsks_update_secret(h, ks.c_ap) == 0, "key update");
		check(nk_tlsks_export(&ks, "EXPORTER-network-time-security", "\x00\x00\x00\x0f", 4,
			exp, 64) == 0, "exporter");
		PUBLIC(exp, sizeof exp);
		nk_tlsks_wipe(&ks);
	}
	return ct_failed;
}
