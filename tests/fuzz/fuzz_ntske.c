/* libFuzzer target: the NTS-KE response parser (client role of lib/ntske).
 * The first input byte picks the offered AEAD list and the chunk size; the
 * rest is the response, fed in chunks, then the stream ends. Invariants on
 * DONE: 1..8 cookies kept, each 1..256 bytes, the AEAD is one we offered. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntske.h"

static struct nk_ntske_parser P;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t offers[4][2] = { { 15, 17 }, { 15, 0 }, { 30, 0 }, { 17, 15 } };
	static FILE *devnull;
	struct nk_err e;
	if (size < 1)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	unsigned sel = data[0] & 3, chunk = (data[0] >> 2) + 1u;
	const uint16_t *off = offers[sel];
	size_t noff = off[1] ? 2 : 1;
	data++, size--;

	nk_ntske_client_init(&P, off, noff);
	if (sel == 1)
		P.explain = devnull;
	int rc = NK_NTSKE_NEED_MORE;
	for (size_t i = 0; i < size && rc == NK_NTSKE_NEED_MORE; i += chunk) {
		size_t n = size - i < chunk ? size - i : chunk;
		rc = nk_ntske_feed(&P, data + i, n, &e);
	}
	if (rc == NK_NTSKE_NEED_MORE)
		rc = nk_ntske_end(&P, &e);
	if (rc == NK_NTSKE_DONE) {
		const struct nk_ntske_response *r = &P.u.resp;
		if (r->ncookies < 1 || r->ncookies > NK_NTSKE_MAX_COOKIES)
			abort();
		for (unsigned i = 0; i < r->ncookies; i++)
			if (r->cookie_len[i] < 1 || r->cookie_len[i] > NK_NTSKE_COOKIE_MAX)
				abort();
		int ok = 0;
		for (size_t i = 0; i < noff; i++)
			ok |= off[i] == r->aead;
		if (!ok || P.err != NK_NTSKE_E_NONE)
			abort();
		if (r->has_server && strlen(r->server) == 0)
			abort();
	} else if (rc != NK_NTSKE_ERROR || P.err == NK_NTSKE_E_NONE || strlen(e.msg) == 0) {
		abort();
	}
	nk_ntske_explain(devnull, "fuzz", data, size);
	return 0;
}
