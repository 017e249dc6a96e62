/* libFuzzer target for the SOCKS5 parsers that read proxy bytes: method
 * selection, RFC 1929 status, the §6 reply (fed as the I/O layer feeds it)
 * and the §7 UDP header. Nothing may read past the input or crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_socks5_addr a;
	struct nk_err e;
	uint8_t *b;
	size_t have = 0, need = 0;
	int r;
	char s[300];

	/* exact-size copy so ASan sees any over-read */
	b = malloc(size ? size : 1);
	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	(void)nk_socks5_method_parse(b, size, size & 1, &e);
	(void)nk_socks5_auth_parse(b, size, &e);
	while ((r = nk_socks5_reply_parse(b, have, size ? b[0] % 4 : 1, &a, &need, &e)) == 0) {
		if (need <= have || need > size)
			break;
		have = need;
	}
	if (r == 1)
		(void)nk_socks5_addr_format(s, sizeof s, &a);
	if (nk_socks5_udp_hdr_parse(b, size, &a, &e) > 0)
		(void)nk_socks5_addr_format(s, sizeof s, &a);
	free(b);
	return 0;
}
