#include <stddef.h>
#include "../unit/rfc8448_cert.h"
#include <string.h>
#include "tlscert.h"
int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n);
int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n)
{
	static struct nk_trust t;
	static int init;
	struct nk_err e;
	if (!init) { nk_trust_init(&t); nk_trust_add_der(&t, rfc8448_cert, sizeof rfc8448_cert, &e); init = 1; }
	static const char *hosts[] = { NULL, "localhost", "a.nts.test", "127.0.0.1", "::1", "x." };
	if (n < 1) return 0;
	const char *host = hosts[d[0] % 6];
	int skip = (d[0] >> 3) & 1;
	d++; n--;
	const unsigned char *der[4]; size_t len[4]; size_t k = 0;
	while (n >= 2 && k < 4) {
		size_t l = (size_t)d[0] << 8 | d[1];
		d += 2; n -= 2;
		if (l > n) l = n;
		der[k] = d; len[k] = l; k++;
		d += l; n -= l;
	}
	struct nk_certval_opts o = { host, 1700000000, skip };
	struct nk_certval_result r;
	nk_cert_validate(&t, der, len, k, &o, &r, &e);
	/* the readers that judge nothing (--explain, nts-serve's own certificate) */
	if (k > 0) {
		struct nk_cert_desc dd;
		int64_t nb, na;
		nk_cert_describe(der[0], len[0], &dd, &e);
		nk_cert_window(der[0], len[0], &nb, &na, &e);
	}
	return 0;
}
