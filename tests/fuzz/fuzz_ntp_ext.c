/* libFuzzer target: NTP header decode and the extension-field walker in all
 * three modes. The first input octet selects the flags; the rest is the
 * packet. Checks that every field returned lies inside the buffer, that
 * the fields tile the area without gaps, and that a successful walk ends
 * exactly at the end (or at the legacy MAC). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef;
	struct nk_ntp_hdr h;
	struct nk_err e;
	unsigned flags;
	uint8_t *pkt;
	size_t len, expect;
	int r;
	char code[5];

	if (size < 1)
		return 0;
	flags = data[0] % 3;  /* 0, LEGACY_MAC, INNER */
	len = size - 1;
	/* copy into an exact-size heap buffer so ASan sees any overread */
	pkt = malloc(len ? len : 1);
	if (pkt == NULL)
		return 0;
	memcpy(pkt, data + 1, len);
	if (nk_ntp_hdr_decode(&h, pkt, len, &e) == 0) {
		uint8_t out[NK_NTP_HDR_LEN];
		nk_ntp_hdr_encode(out, &h);
		if (memcmp(out, pkt, NK_NTP_HDR_LEN) != 0)
			abort();
		(void)nk_ntp_is_kod(&h, code);
	}
	nk_ntp_ef_begin(&it, pkt, len, flags);
	expect = (flags & NK_NTP_EF_INNER) ? 0 : NK_NTP_HDR_LEN;
	while ((r = nk_ntp_ef_next(&it, &ef, &e)) > 0) {
		if (ef.off != expect || ef.len < 4 || ef.len % 4 != 0 ||
		    ef.off + ef.len > len || ef.body_len != (size_t)ef.len - 4)
			abort();
		expect += ef.len;
	}
	if (r == 0) {
		if (it.mac_len != 0) {
			if (it.mac_off != expect || it.mac_off + it.mac_len != len)
				abort();
		} else if (expect != len) {
			abort();
		}
	} else if (e.msg[0] == 0) {
		abort();
	}
	if (nk_ntp_ef_check(pkt, len, flags, &e) != r)
		abort();
	{
		static FILE *devnull;
		if (devnull == NULL)
			devnull = fopen("/dev/null", "w");
		if (devnull != NULL)
			nk_ntp_explain(devnull, "", pkt, len, 1700000000);
	}
	free(pkt);
	return 0;
}
