/*
 * x25519_bench: microseconds per X25519 operation, lib/x25519 against
 * BearSSL's br_ec_c25519_m31, measured in the same run.
 *
 *   x25519_bench [ITERATIONS]      (default 2000)
 *
 * Prints one line per operation ("name us_per_op") and the ratios
 * nk/BearSSL. Times are CPU time (clock_gettime CLOCK_PROCESS_CPUTIME_ID);
 * each figure is the best of 5 rounds. Build with -O2, e.g.
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Ilib tests/bench/x25519_bench.c \
 *      lib/x25519.c lib/util.c -lbearssl -o x25519_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>

#include "util.h"
#include "x25519.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint8_t sink;   /* results land here: no call can be skipped */

/* One operation on buffer b (32 bytes in/out) with scalar k. */
enum op { NK_MUL, NK_BASE, BR_MUL, BR_MULGEN };

static void run(enum op op, uint8_t b[32], const uint8_t k[32])
{
	static const uint8_t nine[32] = { 9 };
	uint8_t t[32];

	switch (op) {
	case NK_MUL:
		(void)nk_x25519(t, k, b);
		break;
	case NK_BASE:
		nk_x25519_base(t, k);
		break;
	case BR_MUL:
		memcpy(t, b, 32);
		(void)br_ec_c25519_m31.mul(t, 32, k, 32, BR_EC_curve25519);
		break;
	case BR_MULGEN:
		(void)br_ec_c25519_m31.mulgen(t, k, 32, BR_EC_curve25519);
		break;
	}
	/* feed the result back so no call can be skipped */
	memcpy(b, t, 32);
	b[0] ^= nine[0];
	sink ^= t[0];
}

static double measure(enum op op, long n)
{
	uint8_t b[32], k[32];
	double best = 1e30;

	for (int round = 0; round < 5; round++) {
		if (nk_random(b, sizeof b) != 0 || nk_random(k, sizeof k) != 0) {
			fprintf(stderr, "x25519_bench: getrandom failed\n");
			exit(1);
		}
		double t0 = now();
		for (long i = 0; i < n; i++)
			run(op, b, k);
		double us = (now() - t0) * 1e6 / (double)n;
		if (us < best)
			best = us;
	}
	return best;
}

int main(int argc, char **argv)
{
	long n = 2000;

	if (argc > 1) {
		uint64_t v;
		if (nk_parse_u64(argv[1], 100000000, &v) != 0 || v == 0) {
			fprintf(stderr, "usage: x25519_bench [ITERATIONS]\n");
			return 2;
		}
		n = (long)v;
	}
	double nk_mul = measure(NK_MUL, n);
	double nk_base = measure(NK_BASE, n);
	double br_mul = measure(BR_MUL, n);
	double br_gen = measure(BR_MULGEN, n);

	printf("nk_x25519                 %8.2f us/op\n", nk_mul);
	printf("nk_x25519_base            %8.2f us/op\n", nk_base);
	printf("br_ec_c25519_m31.mul      %8.2f us/op\n", br_mul);
	printf("br_ec_c25519_m31.mulgen   %8.2f us/op\n", br_gen);
	printf("ratio mul  nk/br          %8.3f\n", nk_mul / br_mul);
	printf("ratio base nk/br          %8.3f\n", nk_base / br_gen);
	printf("ratio base/mul (nk)       %8.3f\n", nk_base / nk_mul);
	return 0;
}
