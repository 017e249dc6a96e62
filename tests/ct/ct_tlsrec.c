/*
 * TLS record protection (lib/tlsrec.c) for the three suites: traffic
 * secrets and record contents are secret, records on the wire public;
 * open a good record and a tampered one.
 */
#include "ct.h"
#include "tlsrec.h"

int main(void)
{
	static const uint16_t suites[3] = { 0x1301, 0x1302, 0x1303 };
	unsigned char secret[48], data[300], rec[400];
	struct nk_tlsrec w, r;

	for (int i = 0; i < 3; i++) {
		unsigned type;
		unsigned char *content;
		long n, m;

		fill(secret, sizeof secret, (uint32_t)i + 1);
		fill(data, sizeof data, (uint32_t)i + 2);
		SECRET(secret, sizeof secret);
		SECRET(data, sizeof data);
		memset(&w, 0, sizeof w);
		memset(&r, 0, sizeof r);
		check(nk_tlsrec_set_secret(&w, suites[i], secret) == 0, "write keys");
		check(nk_tlsrec_set_secret(&r, suites[i], secret) == 0, "read keys");
		for (int k = 0; k < 2; k++) {
			n = nk_tlsrec_seal(&w, 23, data, sizeof data, (size_t)k * 7, rec, sizeof rec);
			check(n > 0, "sealed");
			PUBLIC(rec, sizeof rec);
			m = nk_tlsrec_open(&r, rec, (size_t)n, &type, &content);
			/* the content length and type are the record's public framing
			 * once it is authentic (TLS hides neither from the receiver) */
			check(m == (long)sizeof data && type == 23, "opened");
			PUBLIC(content, sizeof data);
			PUBLIC(data, sizeof data);
			check(memcmp(content, data, sizeof data) == 0, "same content");
			SECRET(data, sizeof data);
		}
		n = nk_tlsrec_seal(&w, 23, data, sizeof data, 0, rec, sizeof rec);
		PUBLIC(rec, sizeof rec);
		rec[n - 1] ^= 1;                   /* bad tag */
		check(nk_tlsrec_open(&r, rec, (size_t)n, &type, &content) == -1, "bad tag refused");
		nk_tlsrec_wipe(&w);
		nk_tlsrec_wipe(&r);
	}
	return ct_failed;
}
