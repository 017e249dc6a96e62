/*
 * libFuzzer target: the TLS 1.3 client's handling of every server message.
 * First byte selects the mode:
 *   0..5: the rest is handshake-record content delivered in that client state
 *         (WAIT_SH, WAIT_EE, WAIT_CERT_CR, WAIT_CV, WAIT_FINISHED, CONNECTED):
 *         ServerHello/HRR, EncryptedExtensions, Certificate (validated against
 *         a trust store holding one certificate), CertificateVerify,
 *         Finished, NewSessionTicket, KeyUpdate, and message reassembly;
 *   else: the rest is the raw byte stream from the server after our
 *         ClientHello (record layer, alerts, CCS, ServerHello, HRR).
 * Input is split at 0xff 0xfe 0xfd markers into separate deliveries.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls13.h"
#include "tlscert.h"

static struct nk_tls13 c;
static struct nk_trust trust;
static int ready;

/* RFC 8448's server certificate, trusted directly (enough to reach signature checks) */
#include "../unit/rfc8448_s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct nk_tls13_config cfg;
	struct nk_err e;
	size_t len;
	int mode;

	if (!ready) {
		const unsigned char *m = r8448_certificate;
		size_t cl = (size_t)m[8] << 16 | (size_t)m[9] << 8 | m[10];
		nk_trust_init(&trust);
		nk_trust_add_der(&trust, m + 11, cl, &e);
		ready = 1;
	}
	if (n < 1)
		return 0;
	mode = d[0];
	d++;
	n--;
	memset(&cfg, 0, sizeof cfg);
	cfg.server_name = "server";
	cfg.trust = &trust;
	cfg.time = 1546300800;
	/* shaped like RFC 8448 §3, so that the RFC's server flight decrypts */
	static const uint16_t groups[] = { 0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104 };
	static const uint16_t sigs[] = { 0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806,
		0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202 };
	static const uint16_t suites[] = { 0x1301, 0x1303, 0x1302 };
	cfg.alpn = NULL;
	cfg.alpn_required = 0;
	cfg.suites = suites;
	cfg.n_suites = 3;
	cfg.groups = groups;
	cfg.n_groups = 9;
	cfg.sigs = sigs;
	cfg.n_sigs = 15;
	cfg.test_flags = NK_TLS13_TEST_RFC8448 | NK_TLS13_TEST_NO_NAME_CHECK;
	cfg.test_random = r8448_client_hello + 6;
	cfg.test_x25519_key = r8448_c_x25519_priv;
	if (nk_tls13_client_init(&c, &cfg, &e) < 0)
		return 0;
	nk_tls13_out(&c, &len);
	nk_tls13_out_done(&c, len);
	mode &= 0x7f;
	while (n > 0 && nk_tls13_status(&c) != NK_TLS13_FAILED) {
		size_t k = 0;
		while (k + 2 < n && !(d[k] == 0xff && d[k + 1] == 0xfe && d[k + 2] == 0xfd))
			k++;
		if (k + 2 >= n)
			k = n;
		if (mode <= 5) {
			nk_tls13_fuzz_handshake(&c, mode, d, k);
		} else {
			size_t off = 0;
			while (off < k && nk_tls13_status(&c) != NK_TLS13_FAILED) {
				size_t cap, m;
				unsigned char *p = nk_tls13_in(&c, &cap);
				if (cap == 0) {
					unsigned char buf[512];
					if (nk_tls13_read(&c, buf, sizeof buf) <= 0)
						break;
					continue;
				}
				m = k - off < cap ? k - off : cap;
				memcpy(p, d + off, m);
				nk_tls13_in_done(&c, m);
				off += m;
			}
		}
		nk_tls13_out(&c, &len);
		nk_tls13_out_done(&c, len);
		d += k;
		n -= k;
		if (n >= 3) {
			d += 3;
			n -= 3;
		}
	}
	nk_tls13_wipe(&c);
	return 0;
}
