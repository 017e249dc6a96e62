/*
 * libFuzzer target: the TLS 1.3 server's handling of the client's bytes
 * (ClientHello parsing and the client's second flight).
 * First byte selects the mode:
 *   0: raw byte stream from the client (record layer, ClientHello, HRR path,
 *      CCS, alerts; the rest fails on the client Finished's MAC);
 *   1: handshake-record content delivered in state WAIT_CH (ClientHello parser
 *      without the record layer), 2: in WAIT_CH2, 3: in WAIT_FINISHED,
 *   4: in CONNECTED (KeyUpdate, stray messages).
 * Input is split at 0xff 0xfe 0xfd markers into separate deliveries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tls13.h"
#include "tlscert.h"

#include "../unit/tls13_fakecert.h"

static struct nk_tls13 s;
static struct nk_server_cred cred;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const int states[] = { 0, NK_S_WAIT_CH, NK_S_WAIT_CH2, NK_S_WAIT_FINISHED, NK_C_CONNECTED };
	struct nk_tls13_config cfg;
	struct nk_err e;
	size_t len;
	int mode;

	if (!ready) {
		char cp[] = "/tmp/fuzz-tls13-server-cert.pem", kp[] = "/tmp/fuzz-tls13-server-key.pem";
		FILE *f = fopen(cp, "w");
		fputs(fake_cert_pem, f);
		fclose(f);
		f = fopen(kp, "w");
		fputs(fake_key_pem, f);
		fclose(f);
		if (nk_server_cred_load(&cred, cp, kp, &e) < 0)
			return 0;
		unlink(cp);
		unlink(kp);
		ready = 1;
	}
	if (n < 1)
		return 0;
	mode = d[0] % 5;
	d++;
	n--;
	memset(&cfg, 0, sizeof cfg);
	cfg.cred = &cred;
	cfg.alpn = "ntske/1";
	cfg.alpn_required = 1;
	if (nk_tls13_server_init(&s, &cfg, &e) < 0)
		return 0;
	while (n > 0 && nk_tls13_status(&s) != NK_TLS13_FAILED) {
		size_t k = 0;
		while (k + 2 < n && !(d[k] == 0xff && d[k + 1] == 0xfe && d[k + 2] == 0xfd))
			k++;
		if (k + 2 >= n)
			k = n;
		if (mode > 0) {
			nk_tls13_fuzz_handshake(&s, states[mode], d, k);
		} else {
			size_t off = 0;
			while (off < k && nk_tls13_status(&s) != NK_TLS13_FAILED) {
				size_t cap, m;
				unsigned char *p = nk_tls13_in(&s, &cap);
				if (cap == 0) {
					unsigned char buf[512];
					if (nk_tls13_read(&s, buf, sizeof buf) <= 0)
						break;
					continue;
				}
				m = k - off < cap ? k - off : cap;
				memcpy(p, d + off, m);
				nk_tls13_in_done(&s, m);
				off += m;
			}
		}
		nk_tls13_out(&s, &len);
		nk_tls13_out_done(&s, len);
		d += k;
		n -= k;
		if (n >= 3) {
			d += 3;
			n -= 3;
		}
	}
	nk_tls13_wipe(&s);
	return 0;
}
