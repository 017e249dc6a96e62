/*
 * p256_sign: lib/p256 on the command line, for the OpenSSL interop test
 * (tests/integration/p256_openssl.sh).
 *
 *   p256_sign pub KEYHEX                  public key (x*G with nk_p256_ec's
 *                                         mulgen) as a DER SubjectPublicKeyInfo
 *                                         (RFC 5480) on stdout
 *   p256_sign sign KEYHEX HASH FILE       ECDSA signature (nk_p256_ecdsa_sign_raw,
 *                                         DER, as `openssl dgst -verify` wants)
 *                                         over HASH(contents of FILE) on stdout
 *   p256_sign verify PUBDER HASH FILE SIG verify the DER signature in file SIG
 *                                         with BearSSL's br_ecdsa_i31_vrfy_asn1
 *                                         on nk_p256_ec; exit 0 when valid, 1 not
 *
 * KEYHEX: the private key, big-endian hex (up to 64 bytes). HASH: sha256 or
 * sha384 (a SHA-384 digest is truncated to 256 bits, FIPS 186-4 §6.4).
 * Exit 64 on a usage error, 65 on bad input, 66 when a file cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bearssl.h>

#include "exitcode.h"
#include "p256.h"
#include "util.h"

/* id-ecPublicKey with prime256v1, then the BIT STRING header of the point */
static const unsigned char SPKI_PREFIX[26] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00
};

static long read_file(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "p256_sign: cannot open %s\n", path);
		return -1;
	}
	size_t n = fread(buf, 1, cap, f);
	int bad = ferror(f) || (n == cap && fgetc(f) != EOF);
	fclose(f);
	if (bad) {
		fprintf(stderr, "p256_sign: %s: read error or larger than %zu bytes\n", path, cap);
		return -1;
	}
	return (long)n;
}

static const br_hash_class *hash_by_name(const char *s)
{
	if (strcmp(s, "sha256") == 0)
		return &br_sha256_vtable;
	if (strcmp(s, "sha384") == 0)
		return &br_sha384_vtable;
	return NULL;
}

/* HASH(contents of path) into out (up to 64 bytes); its length or -1. */
static long hash_file(const br_hash_class *hf, const char *path, unsigned char *out)
{
	static unsigned char buf[1 << 20];
	br_hash_compat_context hc;
	long n = read_file(path, buf, sizeof buf);
	if (n < 0)
		return -1;
	hf->init(&hc.vtable);
	hf->update(&hc.vtable, buf, (size_t)n);
	hf->out(&hc.vtable, out);
	return (long)((hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK);
}

static int usage(void)
{
	fprintf(stderr, "usage: p256_sign pub KEYHEX | sign KEYHEX sha256|sha384 FILE"
		" | verify PUBDER sha256|sha384 FILE SIG\n");
	return NK_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	unsigned char key[64], pt[65], h[64], sig[80];
	long klen = 0;

	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "pub") == 0 || strcmp(argv[1], "sign") == 0) {
		klen = nk_hex_decode(key, sizeof key, argv[2], strlen(argv[2]));
		if (klen <= 0) {
			fprintf(stderr, "p256_sign: KEYHEX: not hex, or longer than 64 bytes\n");
			return NK_EXIT_DATA;
		}
	}
	if (strcmp(argv[1], "pub") == 0 && argc == 3) {
		if (klen > 32) {
			fprintf(stderr, "p256_sign: KEYHEX: longer than 32 bytes\n");
			return NK_EXIT_DATA;
		}
		nk_p256_ec.mulgen(pt, key, (size_t)klen, BR_EC_secp256r1);
		nk_wipe(key, sizeof key);
		if (fwrite(SPKI_PREFIX, 1, sizeof SPKI_PREFIX, stdout) != sizeof SPKI_PREFIX
			|| fwrite(pt, 1, sizeof pt, stdout) != sizeof pt || fflush(stdout) != 0)
			return NK_EXIT_IO;
		return NK_EXIT_OK;
	}
	if (strcmp(argv[1], "sign") == 0 && argc == 5) {
		const br_hash_class *hf = hash_by_name(argv[3]);
		if (hf == NULL)
			return usage();
		if (hash_file(hf, argv[4], h) < 0)
			return NK_EXIT_NOINPUT;
		br_ec_private_key sk = { BR_EC_secp256r1, key, (size_t)klen };
		size_t n = nk_p256_ecdsa_sign_raw(hf, h, &sk, sig);
		nk_wipe(key, sizeof key);
		if (n != 64) {
			fprintf(stderr, "p256_sign: signing failed (key out of range?)\n");
			return NK_EXIT_DATA;
		}
		n = br_ecdsa_raw_to_asn1(sig, 64);
		if (n == 0 || fwrite(sig, 1, n, stdout) != n || fflush(stdout) != 0)
			return NK_EXIT_IO;
		return NK_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0 && argc == 6) {
		unsigned char spki[128];
		const br_hash_class *hf = hash_by_name(argv[3]);
		if (hf == NULL)
			return usage();
		long sl = read_file(argv[2], spki, sizeof spki);
		if (sl < 0)
			return NK_EXIT_NOINPUT;
		if (sl != 91 || memcmp(spki, SPKI_PREFIX, sizeof SPKI_PREFIX) != 0) {
			fprintf(stderr, "p256_sign: %s: not a P-256 SubjectPublicKeyInfo\n", argv[2]);
			return NK_EXIT_DATA;
		}
		long hl = hash_file(hf, argv[4], h);
		if (hl < 0)
			return NK_EXIT_NOINPUT;
		long gl = read_file(argv[5], sig, sizeof sig);
		if (gl < 0)
			return NK_EXIT_NOINPUT;
		br_ec_public_key pk = { BR_EC_secp256r1, spki + 26, 65 };
		if (br_ecdsa_i31_vrfy_asn1(&nk_p256_ec, h, (size_t)hl, &pk, sig, (size_t)gl) != 1) {
			fprintf(stderr, "p256_sign: signature invalid\n");
			return 1;
		}
		return NK_EXIT_OK;
	}
	return usage();
}
