/*
 * AES-CMAC and AES-SIV (lib/aessiv.c), with both AES implementations
 * ntskit may select (AES-NI when the CPU has it, br_aes_ct64 otherwise):
 * secret keys and plaintexts; open with the right tag and with a bad one.
 */
#include "ct.h"
#include "aessiv.h"

static void run(int impl)
{
	static const size_t klen[3] = { 32, 48, 64 };
	struct nk_cmac_key ck;
	struct nk_siv_ctx s;
	uint8_t key[64], msg[100], out[16 + 100], back[100], mac[16], ad[13], nonce[16];

	for (int i = 0; i < 3; i++) {
		fill(key, sizeof key, (uint32_t)i + 1);
		fill(msg, sizeof msg, (uint32_t)i + 10);
		fill(ad, sizeof ad, 5);
		fill(nonce, sizeof nonce, 6);
		SECRET(key, sizeof key);
		SECRET(msg, sizeof msg);
		/* CMAC with AES-128/192/256 */
		check(nk_cmac_init(&ck, key, 16 + 8 * (size_t)i, impl) == 0, "cmac key");
		nk_cmac(&ck, msg, 37 + (size_t)i, mac);
		nk_cmac_clear(&ck);
		PUBLIC(mac, sizeof mac);
		/* AES-SIV-CMAC-256/384/512, AEAD form as NTS uses it */
		check(nk_siv_init(&s, key, klen[i], impl) == 0, "siv key");
		check(nk_siv_aead_seal(&s, ad, sizeof ad, nonce, sizeof nonce, msg, sizeof msg, out) == 0,
			"siv seal");
		PUBLIC(out, sizeof out);       /* tag and ciphertext are public */
		check(nk_siv_aead_open(&s, ad, sizeof ad, nonce, sizeof nonce, out, sizeof out,
			back) == 0, "siv open");
		PUBLIC(back, sizeof back);
		PUBLIC(msg, sizeof msg);
		check(memcmp(back, msg, sizeof msg) == 0, "siv round trip");
		out[3] ^= 0x40;                 /* bad tag */
		check(nk_siv_aead_open(&s, ad, sizeof ad, nonce, sizeof nonce, out, sizeof out,
			back) == -1, "siv bad tag refused");
		out[3] ^= 0x40;
		out[16 + 50] ^= 1;              /* bad ciphertext */
		check(nk_siv_aead_open(&s, ad, sizeof ad, nonce, sizeof nonce, out, sizeof out,
			back) == -1, "siv bad ciphertext refused");
		nk_siv_clear(&s);
	}
}

int main(void)
{
	run(NK_AES_CT64);
	if (nk_aes_has_ni())
		run(NK_AES_AUTO);
	return ct_failed;
}
