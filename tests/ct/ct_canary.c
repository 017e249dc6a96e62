/*
 * The canary: a deliberate secret-dependent branch and a secret table
 * index. memcheck MUST report them; tests/integration/ct_valgrind.sh
 * fails when it does not (a harness that cannot see a leak proves nothing).
 */
#include "ct.h"

int main(void)
{
	static const unsigned char table[256] = { 1, 2, 3 };
	unsigned char k[16];
	volatile unsigned sink = 0;

	fill(k, sizeof k, 1);
	SECRET(k, sizeof k);
	if (k[0] & 1)                 /* the planted leak: a branch on a secret bit */
		sink += 1;
	sink += table[k[1]];          /* and a table lookup by a secret byte */
	PUBLIC(k, sizeof k);
	return (int)(sink & 0);
}
