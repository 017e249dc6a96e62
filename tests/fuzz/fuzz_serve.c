/* Fuzz nts-serve's request paths: the input is an NTP/NTS request for
 * nk_serve_ntp_answer() (first byte 0..127) or an NTS-KE request stream
 * for nk_serve_ke_feed() (first byte 128..255, fed in chunks). Checks the
 * never-amplify rule on every answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../nts-serve/ntp.c"
#include "../../nts-serve/ke.c"

static struct nk_cookie_keys ks;
static int ready;

static int fake_export(void *arg, const char *label, const uint8_t *ctx, size_t ctx_len,
	uint8_t *o, size_t n)
{
	(void)arg; (void)label; (void)ctx_len;
	memset(o, ctx[4], n);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t in[4096], out[4096];
	static struct nk_serve_ntp s;
	static struct nk_serve_ke ke;
	struct nk_serve_ke_conf c;
	struct timespec rx = { 1700000000, 0 };
	enum nk_serve_kind kind;
	size_t n;

	if (!ready) {
		uint8_t key[32] = { 1 };

		nk_cookie_keys_init(&ks, 0);
		nk_cookie_keys_add(&ks, 0x01020304, 1, key, NULL);
		ready = 1;
	}
	if (size < 1 || size > sizeof in + 1)
		return 0;
	if (data[0] < 128) {
		memset(&s, 0, sizeof s);
		s.keys = &ks;
		s.max_age = 10800;
		memcpy(in, data + 1, size - 1);
		n = nk_serve_ntp_answer(&s, in, size - 1, &rx, out, sizeof out, &kind);
		if (n > size - 1)
			abort();
		return 0;
	}
	memset(&c, 0, sizeof c);
	c.keys = &ks;
	nk_serve_ke_init(&ke, &c);
	for (size_t off = 1; off < size; ) {
		size_t k = (size_t)(data[0] & 31) + 1;
		long r;

		if (k > size - off)
			k = size - off;
		r = nk_serve_ke_feed(&ke, &c, data + off, k, fake_export, NULL, out, sizeof out, NULL);
		off += k;
		if (r != 0)
			break;
	}
	nk_serve_ke_wipe(&ke);
	return 0;
}
