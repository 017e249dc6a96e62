/* nk_hex_encode / nk_hex_decode (lib/util.c) on secret bytes and characters. */
#include "ct.h"
#include "util.h"

int main(void)
{
	unsigned char k[64], back[64];
	char h[129], bad[129];
	long n;

	for (uint32_t s = 1; s <= 4; s++) {
		fill(k, sizeof k, s);
		SECRET(k, sizeof k);
		nk_hex_encode(h, k, sizeof k);
		PUBLIC(h, sizeof h);
		/* every third digit in upper case: decode takes both */
		for (int i = 0; i < 128; i += 3)
			if (h[i] >= 'a' && h[i] <= 'f')
				h[i] = (char)(h[i] - 'a' + 'A');
		SECRET(h, 128);
		n = nk_hex_decode(back, sizeof back, h, 128);
		PUBLIC(back, sizeof back);
		PUBLIC(k, sizeof k);
		check(n == 64 && memcmp(back, k, 64) == 0, "hex round trip");
		/* an invalid character: reported, the error itself is public */
		PUBLIC(h, sizeof h);
		memcpy(bad, h, sizeof bad);
		bad[(s * 37) % 128] = (char)("g/:@G`\x7f "[s]);
		SECRET(bad, 128);
		check(nk_hex_decode(back, sizeof back, bad, 128) == -1, "invalid digit refused");
	}
	return ct_failed;
}
