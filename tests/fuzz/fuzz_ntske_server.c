/* libFuzzer target: the NTS-KE request parser (server role of lib/ntske).
 * A request that parses gets a response built for it (AEAD by server
 * preference, dummy cookies), which the client parser must accept; one that
 * fails gets an Error response, which the client parser must report as the
 * server's Error with the same code. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntske.h"

static struct nk_ntske_parser S, Cl;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t supported[] = { 15, 17 };
	static const uint8_t cookie[100];
	struct nk_err e;
	uint8_t out[2048];
	if (size < 1)
		return 0;
	unsigned chunk = data[0] + 1u;
	data++, size--;

	nk_ntske_server_init(&S, 0);
	int rc = NK_NTSKE_NEED_MORE;
	for (size_t i = 0; i < size && rc == NK_NTSKE_NEED_MORE; i += chunk) {
		size_t n = size - i < chunk ? size - i : chunk;
		rc = nk_ntske_feed(&S, data + i, n, &e);
	}
	if (rc == NK_NTSKE_NEED_MORE)
		rc = nk_ntske_end(&S, &e);
	if (rc == NK_NTSKE_DONE) {
		const struct nk_ntske_request *r = &S.u.req;
		if (r->naead < 1 || r->naead > NK_NTSKE_MAX_AEADS)
			abort();
		uint16_t a = nk_ntske_choose_aead(r->aead, r->naead, supported, 2);
		const uint8_t *ck[8];
		uint16_t cl[8];
		for (int i = 0; i < 8; i++) { ck[i] = cookie; cl[i] = sizeof cookie; }
		struct nk_ntske_resp_params rp = { .aead = a, .cookies = ck, .cookie_len = cl,
			.ncookies = 8, .server = r->has_server ? r->server : NULL, .port = r->port };
		long n = nk_ntske_build_response(out, sizeof out, &rp);
		if (n <= 0)
			abort();
		nk_ntske_client_init(&Cl, r->aead, r->naead);
		int crc = nk_ntske_feed(&Cl, out, (size_t)n, &e);
		if (a != 0 && (crc != NK_NTSKE_DONE || Cl.u.resp.aead != a || Cl.u.resp.ncookies != 8))
			abort();
		if (a == 0 && (crc != NK_NTSKE_ERROR || Cl.err != NK_NTSKE_E_AEAD_EMPTY))
			abort();
	} else if (rc == NK_NTSKE_ERROR) {
		uint16_t code = nk_ntske_error_code(&S);
		if (code > 1 || strlen(e.msg) == 0)
			abort();
		int ntpv4 = nk_ntske_request_ntpv4(&S);
		long n = nk_ntske_build_error(out, sizeof out, code, ntpv4);
		nk_ntske_client_init(&Cl, supported, 2);
		/* NextProtocol ({0} or empty), Error, End */
		if (n != (ntpv4 ? 16 : 14) || nk_ntske_feed(&Cl, out, (size_t)n, &e) != NK_NTSKE_ERROR)
			abort();
		if (ntpv4 && (Cl.err != NK_NTSKE_E_SERVER_ERROR || Cl.u.resp.error_code != code))
			abort();
		if (!ntpv4 && Cl.err != NK_NTSKE_E_NEXTPROTO)
			abort();
	} else {
		abort();
	}
	return 0;
}
