/*
 * p256_bench: microseconds per operation of lib/p256 (nk_p256_ec, the
 * signer) against BearSSL's br_ec_p256_m31 and br_ecdsa_i31_sign_asn1,
 * measured in the same run on the same inputs (process CPU time).
 *   p256_bench [seconds-per-measurement]   (default 0.3)
 * Prints one line per operation: "p256 OP nk=US bearssl=US ratio=R".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bearssl.h>

#include "p256.h"
#include "util.h"

#define NIN 64

static double min_secs = 0.3;
static unsigned char scal[NIN][32], pts[NIN][65], hashes[NIN][32];
static br_ec_private_key keys[NIN];
static volatile unsigned sink;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { OP_MULGEN, OP_MUL, OP_MULADD, OP_SIGN };

static void run_once(const br_ec_impl *impl, int op, int i, int nk)
{
	unsigned char buf[65], sig[80];
	switch (op) {
	case OP_MULGEN:
		impl->mulgen(buf, scal[i], 32, BR_EC_secp256r1);
		break;
	case OP_MUL:
		memcpy(buf, pts[i], 65);
		sink += impl->mul(buf, 65, scal[i], 32, BR_EC_secp256r1);
		break;
	case OP_MULADD:
		memcpy(buf, pts[i], 65);
		sink += impl->muladd(buf, NULL, 65, scal[i], 32,
			scal[(i + 1) % NIN], 32, BR_EC_secp256r1);
		break;
	case OP_SIGN:
		if (nk)
			sink += (unsigned)nk_p256_ecdsa_sign_raw(&br_sha256_vtable,
				hashes[i], &keys[i], sig);
		else
			sink += (unsigned)br_ecdsa_i31_sign_asn1(&br_ec_p256_m31,
				&br_sha256_vtable, hashes[i], &keys[i], sig);
		break;
	}
	sink += buf[1];
}

static double measure(const br_ec_impl *impl, int op, int nk)
{
	long n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < NIN; i++)
			run_once(impl, op, i, nk);
		n += NIN;
		t = now() - t0;
	} while (t < min_secs);
	return t * 1e6 / (double)n;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "mulgen", "mul", "muladd", "ecdsa_sign" };
	if (argc > 1)
		min_secs = atof(argv[1]);
	if (min_secs <= 0)
		min_secs = 0.3;
	if (nk_random(scal, sizeof scal) != 0 || nk_random(hashes, sizeof hashes) != 0) {
		fprintf(stderr, "p256_bench: no randomness\n");
		return 1;
	}
	for (int i = 0; i < NIN; i++) {
		scal[i][0] &= 0x7f; /* below n */
		scal[i][31] |= 1;   /* not zero */
		br_ec_p256_m31.mulgen(pts[i], scal[(i + 7) % NIN], 32, BR_EC_secp256r1);
		keys[i].curve = BR_EC_secp256r1;
		keys[i].x = scal[(i + 3) % NIN];
		keys[i].xlen = 32;
	}
	/* warm up (the generator table of p256.c is built on first use) */
	run_once(&nk_p256_ec, OP_MULGEN, 0, 1);
	for (int op = OP_MULGEN; op <= OP_SIGN; op++) {
		double a = measure(&nk_p256_ec, op, 1);
		double b = measure(&br_ec_p256_m31, op, 0);
		printf("p256 %-10s nk=%8.2f us  bearssl=%8.2f us  ratio=%.3f\n",
			names[op], a, b, a / b);
	}
	return 0;
}
