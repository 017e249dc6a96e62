/* libFuzzer target: NTS response parsing and verification
 * (nk_nts_client_verify), and the server's request parsing.
 *
 * Input: byte 0 = options, byte 1 = split point, the rest = data.
 *   opt bit 0 clear: the data is the packet, verified as it is.
 *   opt bit 0 set:   "sealed" mode, so that the fuzzer gets past the AEAD:
 *                    data[0..split) is the packet before the authenticator
 *                    and data[split..) the plaintext of the encrypted
 *                    fields; the harness appends a correct authenticator
 *                    under the known key.
 *   opt bit 1: NK_NTS_LENIENT_TRAILING.  opt bit 2: parse as a request on
 *   the server side (C2S key) instead of a response (S2C key).
 * The client state (origin, UID) is taken from the packet itself so that
 * those checks pass often and the later ones are reached. Invariants
 * checked: no status outside the enum, cookies inside the buffer and
 * within the limits, accepted packets authenticated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nts.h"

static const struct nk_nts_keys K = {
	.aead = 15, .key_len = 32,
	.c2s = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 },
	.s2c = { 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
		 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124,
		 125, 126, 127, 128, 129, 130, 131, 132 },
};

static int cookie_cb(void *arg, const uint8_t *c, size_t len, struct nk_nts_keys *k)
{
	(void)arg;
	if (len > 0 && c[0] == 0xff)   /* some cookies are refused */
		return -1;
	*k = K;
	return 0;
}

static void state_from(const uint8_t *p, size_t len, struct nk_nts_client_state *st)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef;
	memset(st, 0, sizeof *st);
	if (len >= 48)
		for (int i = 0; i < 8; i++)
			st->org = st->org << 8 | p[24 + i];
	nk_ntp_ef_begin(&it, p, len, 0);
	while (nk_ntp_ef_next(&it, &ef, NULL) > 0)
		if (ef.type == NK_NTS_EF_UID && ef.body_len == NK_NTS_UID_LEN) {
			memcpy(st->uid, ef.body, NK_NTS_UID_LEN);
			break;
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_nts_client_state st;
	struct nk_nts_response resp;
	struct nk_nts_server_request sr;
	struct nk_err e;
	uint8_t *pkt;
	size_t len;
	unsigned opt;
	int r;

	if (size < 2 || size > 70000)
		return 0;
	opt = data[0];
	data += 2;
	size -= 2;
	if (opt & 1) {
		size_t split = (size_t)data[-1] * size / 255, pt_len = size - split, field;
		struct nk_siv_ctx siv;
		if (pt_len + 40 > 65532)
			return 0;
		field = 4 + 4 + 16 + 16 + ((pt_len + 3) & ~(size_t)3);
		len = split + field;
		pkt = malloc(len);
		if (pkt == NULL)
			return 0;
		memcpy(pkt, data, split);
		uint8_t *a = pkt + split;
		memset(a, 0, field);
		a[0] = 0x04; a[1] = 0x04; a[2] = (uint8_t)(field >> 8); a[3] = (uint8_t)field;
		a[5] = 16;
		a[6] = (uint8_t)((16 + pt_len) >> 8); a[7] = (uint8_t)(16 + pt_len);
		memset(a + 8, 0x5a, 16);
		nk_siv_init(&siv, (opt & 4) ? K.c2s : K.s2c, 32, NK_AES_AUTO);
		nk_siv_aead_seal(&siv, pkt, split, a + 8, 16, data + split, pt_len, a + 24);
		nk_siv_clear(&siv);
	} else {
		len = size;
		pkt = malloc(len ? len : 1);
		if (pkt == NULL)
			return 0;
		memcpy(pkt, data, len);
	}
	if (opt & 4) {
		r = nk_nts_server_parse(pkt, len, cookie_cb, NULL, &sr, &e);
		if (r > 0 || r < NK_NTS_E_RANDOM)
			abort();
		if (r == NK_NTS_OK) {
			uint8_t out[2048];
			struct nk_nts_cookie c[2] = { { data, size < 100 ? size : 100 }, { data, 8 } };
			long n;
			if (sr.uid_len < 32 || sr.uid_len > NK_NTS_UID_MAX || sr.placeholders > 1000)
				abort();
			n = nk_nts_server_response(out, sizeof out, NULL, &sr, c, size ? 2 : 0, &e);
			if (n > 0 && (size_t)n > len)
				abort();   /* never larger than the request */
		}
		if (sr.uid_len > 0) {
			uint8_t out[200];
			(void)nk_nts_server_nak(out, sizeof out, NULL, &sr, &e);
		}
	} else {
		state_from(pkt, len, &st);
		r = nk_nts_client_verify(pkt, len, &K, &st, (opt & 2) ? NK_NTS_LENIENT_TRAILING : 0,
			&resp, &e);
		if (r > NK_NTS_KOD || r < NK_NTS_E_RANDOM)
			abort();
		if (r == NK_NTS_OK && !resp.authenticated)
			abort();
		if (r < 0 && resp.n_cookies != 0)
			abort();
		if (resp.n_cookies > NK_NTS_MAX_COOKIES)
			abort();
		for (unsigned i = 0; i < resp.n_cookies; i++)
			if (resp.cookies[i].data < pkt || resp.cookies[i].len == 0 ||
			    resp.cookies[i].len > NK_NTS_COOKIE_MAX ||
			    resp.cookies[i].data + resp.cookies[i].len > pkt + len)
				abort();
	}
	free(pkt);
	return 0;
}
