/*
 * Unit tests for the TLS 1.3 engine (lib/hkdf, lib/tlsks, lib/tlsrec,
 * lib/tls13) against RFC 8448 §3 (Simple 1-RTT Handshake), byte for byte:
 *   - the key schedule driven with the RFC's transcript: every secret, key,
 *     IV, both Finished values, the exporter and resumption master secrets;
 *   - the client engine with the RFC's random and X25519 key injected: its
 *     ClientHello record equals the RFC's, it accepts the RFC's server flight
 *     (RSA certificate trusted directly, validation time injected,
 *     rsa_pss_rsae_sha256 CertificateVerify), its Finished record, its
 *     application data record and its close_notify record equal the RFC's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hkdf.h"
#include "tls13.h"
#include "tlscert.h"
#include "tlsks.h"
#include "tlsrec.h"

#include "rfc8448_s3.h"

#define RFC8448_TIME 1546300800   /* 2019-01-01: the RFC's certificate is valid (2016-07-30..2026-07-30) */

static void test_rfc8448_key_schedule(void **state)
{
	struct nk_tlsks ks;
	unsigned char b[64], key[32], iv[12];
	const br_hash_class *h = &br_sha256_vtable;
	(void)state;

	/* Early Secret = HKDF-Extract(0, 0) */
	unsigned char z[32] = { 0 };
	nk_hkdf_extract(h, NULL, 0, z, 32, b);
	assert_memory_equal(b, r8448_early_secret, 32);

	nk_tlsks_init(&ks);
	nk_tlsks_add(&ks, r8448_client_hello, sizeof r8448_client_hello);
	nk_tlsks_set_hash(&ks, h);
	nk_tlsks_add(&ks, r8448_server_hello, sizeof r8448_server_hello);
	nk_tlsks_hash(&ks, b);
	assert_memory_equal(b, r8448_h_ch_sh, 32);
	assert_int_equal(nk_tlsks_handshake(&ks, r8448_ecdhe, 32), 0);
	assert_memory_equal(ks.secret, r8448_hs_secret, 32);
	assert_memory_equal(ks.c_hs, r8448_c_hs, 32);
	assert_memory_equal(ks.s_hs, r8448_s_hs, 32);
	/* handshake traffic keys, §7.3 */
	assert_int_equal(nk_hkdf_expand_label(h, ks.s_hs, "key", NULL, 0, key, 16), 0);
	assert_int_equal(nk_hkdf_expand_label(h, ks.s_hs, "iv", NULL, 0, iv, 12), 0);
	assert_memory_equal(key, r8448_s_hs_key, 16);
	assert_memory_equal(iv, r8448_s_hs_iv, 12);
	assert_int_equal(nk_hkdf_expand_label(h, ks.c_hs, "key", NULL, 0, key, 16), 0);
	assert_int_equal(nk_hkdf_expand_label(h, ks.c_hs, "iv", NULL, 0, iv, 12), 0);
	assert_memory_equal(key, r8448_c_hs_key, 16);
	assert_memory_equal(iv, r8448_c_hs_iv, 12);
	/* server Finished over CH..CertificateVerify */
	nk_tlsks_add(&ks, r8448_encrypted_extensions, sizeof r8448_encrypted_extensions);
	nk_tlsks_add(&ks, r8448_certificate, sizeof r8448_certificate);
	nk_tlsks_add(&ks, r8448_certificate_verify, sizeof r8448_certificate_verify);
	assert_int_equal(nk_tlsks_finished(&ks, ks.s_hs, b), 0);
	assert_memory_equal(b, r8448_s_finished_vd, 32);
	assert_memory_equal(r8448_s_finished + 4, r8448_s_finished_vd, 32);
	nk_tlsks_add(&ks, r8448_s_finished, sizeof r8448_s_finished);
	nk_tlsks_hash(&ks, b);
	assert_memory_equal(b, r8448_h_ch_sfin, 32);
	/* client Finished over CH..server Finished */
	assert_int_equal(nk_tlsks_finished(&ks, ks.c_hs, b), 0);
	assert_memory_equal(b, r8448_c_finished_vd, 32);
	/* master, application traffic, exporter master */
	assert_int_equal(nk_tlsks_master(&ks), 0);
	assert_memory_equal(ks.secret, r8448_master_secret, 32);
	assert_memory_equal(ks.c_ap, r8448_c_ap, 32);
	assert_memory_equal(ks.s_ap, r8448_s_ap, 32);
	assert_memory_equal(ks.exp_master, r8448_exp_master, 32);
	assert_int_equal(nk_hkdf_expand_label(h, ks.s_ap, "key", NULL, 0, key, 16), 0);
	assert_int_equal(nk_hkdf_expand_label(h, ks.s_ap, "iv", NULL, 0, iv, 12), 0);
	assert_memory_equal(key, r8448_s_ap_key, 16);
	assert_memory_equal(iv, r8448_s_ap_iv, 12);
	assert_int_equal(nk_hkdf_expand_label(h, ks.c_ap, "key", NULL, 0, key, 16), 0);
	assert_int_equal(nk_hkdf_expand_label(h, ks.c_ap, "iv", NULL, 0, iv, 12), 0);
	assert_memory_equal(key, r8448_c_ap_key, 16);
	assert_memory_equal(iv, r8448_c_ap_iv, 12);
	/* resumption master secret over CH..client Finished */
	nk_tlsks_add(&ks, r8448_c_finished, sizeof r8448_c_finished);
	nk_tlsks_hash(&ks, b);
	assert_memory_equal(b, r8448_h_ch_cfin, 32);
	assert_int_equal(nk_hkdf_derive_secret(h, ks.secret, "res master", b, b + 32), 0);
	assert_memory_equal(b + 32, r8448_res_master, 32);
	nk_tlsks_wipe(&ks);
}

/* X25519 through BearSSL: the RFC's key pairs give the RFC's shared secret. */
static void test_rfc8448_x25519(void **state)
{
	const br_ec_impl *ec = br_ec_get_default();
	unsigned char sk[32], pub[32], g[32];
	(void)state;
	memcpy(sk, r8448_c_x25519_priv, 32);   /* BearSSL's c25519 takes the RFC 7748 byte order */
	assert_int_equal(ec->mulgen(pub, sk, 32, BR_EC_curve25519), 32);
	assert_memory_equal(pub, r8448_c_x25519_pub, 32);
	memcpy(g, r8448_s_x25519_pub, 32);
	assert_int_equal(ec->mul(g, 32, sk, 32, BR_EC_curve25519), 1);
	assert_memory_equal(g, r8448_ecdhe, 32);
}

/* Record protection with the RFC's keys: the server's application data record. */
static void test_rfc8448_records(void **state)
{
	struct nk_tlsrec r;
	unsigned char rec[256], *content;
	unsigned type;
	long n;
	(void)state;

	assert_int_equal(nk_tlsrec_set_secret(&r, NK_TLS_AES_128_GCM_SHA256, r8448_s_ap), 0);
	memcpy(rec, r8448_nst_record, sizeof r8448_nst_record);
	n = nk_tlsrec_open(&r, rec, sizeof r8448_nst_record, &type, &content);
	assert_int_equal(n, 205);
	assert_int_equal(type, NK_CT_HANDSHAKE);
	memcpy(rec, r8448_s_app_record, sizeof r8448_s_app_record);
	n = nk_tlsrec_open(&r, rec, sizeof r8448_s_app_record, &type, &content);
	assert_int_equal(n, 50);
	assert_int_equal(type, NK_CT_APPLICATION_DATA);
	assert_memory_equal(content, r8448_s_app_payload, 50);
	/* the client's record, sealed with seq 0 of the client's application key */
	assert_int_equal(nk_tlsrec_set_secret(&r, NK_TLS_AES_128_GCM_SHA256, r8448_c_ap), 0);
	n = nk_tlsrec_seal(&r, NK_CT_APPLICATION_DATA, r8448_c_app_payload, 50, 0, rec, sizeof rec);
	assert_int_equal(n, sizeof r8448_c_app_record);
	assert_memory_equal(rec, r8448_c_app_record, sizeof r8448_c_app_record);
	/* a flipped bit anywhere is bad_record_mac */
	assert_int_equal(nk_tlsrec_set_secret(&r, NK_TLS_AES_128_GCM_SHA256, r8448_s_ap), 0);
	r.seq = 1;
	memcpy(rec, r8448_s_app_record, sizeof r8448_s_app_record);
	rec[30] ^= 1;
	assert_int_equal(nk_tlsrec_open(&r, rec, sizeof r8448_s_app_record, &type, &content), -1);
	nk_tlsrec_wipe(&r);
}

static const uint16_t r8448_groups[] = { 0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104 };
static const uint16_t r8448_sigs[] = { 0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806,
	0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202 };
static const uint16_t r8448_suites[] = { 0x1301, 0x1303, 0x1302 };

struct ctx {
	struct nk_trust trust;
	struct nk_tls13 tls;
};

static struct ctx the_ctx;
static struct ctx *ctx_get(void)
{
	memset(&the_ctx, 0, sizeof the_ctx);
	return &the_ctx;
}

static void rfc8448_config(struct nk_tls13_config *cfg, const struct nk_trust *t)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->server_name = "server";
	cfg->trust = t;
	cfg->time = RFC8448_TIME;
	cfg->suites = r8448_suites;
	cfg->n_suites = 3;
	cfg->groups = r8448_groups;
	cfg->n_groups = sizeof r8448_groups / 2;
	cfg->sigs = r8448_sigs;
	cfg->n_sigs = sizeof r8448_sigs / 2;
	cfg->test_random = r8448_client_hello + 6;
	cfg->test_x25519_key = r8448_c_x25519_priv;
	cfg->test_flags = NK_TLS13_TEST_RFC8448 | NK_TLS13_TEST_NO_NAME_CHECK;
}

static void trust_rfc_cert(struct nk_trust *t)
{
	/* Certificate message: type(1) len(3) ctx_len(1)=0 list_len(3) cert_len(3) cert */
	const unsigned char *m = r8448_certificate;
	size_t n = (size_t)m[8] << 16 | (size_t)m[9] << 8 | m[10];
	struct nk_err e = { "" };

	nk_trust_init(t);
	assert_int_equal(nk_trust_add_der(t, m + 11, n, &e), 0);
}

/* feed 'len' bytes to the engine, in pieces of 'chunk' bytes */
static enum nk_tls13_status feed(struct nk_tls13 *c, const unsigned char *d, size_t len, size_t chunk)
{
	enum nk_tls13_status st = nk_tls13_status(c);

	while (len > 0) {
		size_t cap, k;
		unsigned char *p = nk_tls13_in(c, &cap);
		k = len < chunk ? len : chunk;
		assert_true(cap >= k);
		memcpy(p, d, k);
		st = nk_tls13_in_done(c, k);
		d += k;
		len -= k;
	}
	return st;
}

static void run_rfc8448_client(size_t chunk)
{
	struct ctx *x = ctx_get();
	struct nk_tls13_config cfg;
	struct nk_err e = { "" };
	const unsigned char *out;
	unsigned char buf[64], exp[32];
	size_t n;

	assert_non_null(x);
	trust_rfc_cert(&x->trust);
	rfc8448_config(&cfg, &x->trust);
	assert_int_equal(nk_tls13_client_init(&x->tls, &cfg, &e), 0);
	/* ClientHello, byte for byte */
	out = nk_tls13_out(&x->tls, &n);
	assert_int_equal(n, sizeof r8448_client_hello_record);
	assert_memory_equal(out, r8448_client_hello_record, n);
	nk_tls13_out_done(&x->tls, n);
	/* the server's flight */
	assert_int_equal(feed(&x->tls, r8448_server_hello_record, sizeof r8448_server_hello_record, chunk),
		NK_TLS13_HANDSHAKE);
	assert_int_equal(x->tls.suite, NK_TLS_AES_128_GCM_SHA256);
	assert_int_equal(x->tls.group, NK_TLS_GROUP_X25519);
	if (feed(&x->tls, r8448_server_flight_record, sizeof r8448_server_flight_record, chunk) !=
	    NK_TLS13_OPEN)
		fail_msg("handshake did not complete: %s", nk_tls13_error(&x->tls));
	assert_int_equal(x->tls.sig_scheme, NK_SIG_RSA_PSS_RSAE_SHA256);
	assert_int_equal(x->tls.cert.not_after, 1785374639);   /* 2026-07-30T01:23:59Z */
	assert_int_equal(x->tls.cert.not_before, 1469841839);  /* 2016-07-30T01:23:59Z */
	/* the client's Finished record, byte for byte */
	out = nk_tls13_out(&x->tls, &n);
	assert_int_equal(n, sizeof r8448_c_finished_record);
	assert_memory_equal(out, r8448_c_finished_record, n);
	nk_tls13_out_done(&x->tls, n);
	assert_memory_equal(x->tls.ks.exp_master, r8448_exp_master, 32);
	assert_int_equal(nk_tls13_export(&x->tls, "EXPORTER-network-time-security", "", 0, exp, 32), 0);
	/* NewSessionTicket (ignored), then the server's application data */
	assert_int_equal(feed(&x->tls, r8448_nst_record, sizeof r8448_nst_record, chunk), NK_TLS13_OPEN);
	assert_int_equal(feed(&x->tls, r8448_s_app_record, sizeof r8448_s_app_record, chunk), NK_TLS13_OPEN);
	assert_int_equal(nk_tls13_read(&x->tls, buf, sizeof buf), 50);
	assert_memory_equal(buf, r8448_s_app_payload, 50);
	assert_int_equal(nk_tls13_read(&x->tls, buf, sizeof buf), 0);
	/* the client's application data record */
	assert_int_equal(nk_tls13_write(&x->tls, r8448_c_app_payload, 50), 50);
	out = nk_tls13_out(&x->tls, &n);
	assert_int_equal(n, sizeof r8448_c_app_record);
	assert_memory_equal(out, r8448_c_app_record, n);
	nk_tls13_out_done(&x->tls, n);
	/* close_notify both ways */
	nk_tls13_close(&x->tls);
	out = nk_tls13_out(&x->tls, &n);
	assert_int_equal(n, sizeof r8448_c_alert_record);
	assert_memory_equal(out, r8448_c_alert_record, n);
	nk_tls13_out_done(&x->tls, n);
	/* half-closed: no more writes, reading goes on until the server's close_notify */
	assert_int_equal(nk_tls13_write(&x->tls, "x", 1), -1);
	assert_int_equal(nk_tls13_status(&x->tls), NK_TLS13_OPEN);
	assert_int_equal(feed(&x->tls, r8448_s_alert_record, sizeof r8448_s_alert_record, chunk),
		NK_TLS13_CLOSED);
	nk_tls13_wipe(&x->tls);
	nk_trust_free(&x->trust);
}

static void test_rfc8448_client(void **state)
{
	(void)state;
	run_rfc8448_client(100000);
}

/* the same, with the server's bytes arriving 1 and 7 bytes at a time */
static void test_rfc8448_client_fragmented(void **state)
{
	(void)state;
	run_rfc8448_client(1);
	run_rfc8448_client(7);
}

/* the peer's close_notify ends the connection cleanly */
static void test_rfc8448_server_close(void **state)
{
	struct ctx *x = ctx_get();
	struct nk_tls13_config cfg;
	struct nk_err e = { "" };
	size_t n;
	(void)state;

	trust_rfc_cert(&x->trust);
	rfc8448_config(&cfg, &x->trust);
	assert_int_equal(nk_tls13_client_init(&x->tls, &cfg, &e), 0);
	nk_tls13_out(&x->tls, &n);
	nk_tls13_out_done(&x->tls, n);
	feed(&x->tls, r8448_server_hello_record, sizeof r8448_server_hello_record, 4096);
	assert_int_equal(feed(&x->tls, r8448_server_flight_record, sizeof r8448_server_flight_record, 4096),
		NK_TLS13_OPEN);
	feed(&x->tls, r8448_nst_record, sizeof r8448_nst_record, 4096);
	feed(&x->tls, r8448_s_app_record, sizeof r8448_s_app_record, 4096);
	unsigned char buf[64];
	assert_int_equal(nk_tls13_read(&x->tls, buf, sizeof buf), 50);
	assert_int_equal(feed(&x->tls, r8448_s_alert_record, sizeof r8448_s_alert_record, 4096),
		NK_TLS13_CLOSED);
	assert_int_equal(x->tls.alert_rcvd, 0);
	nk_tls13_wipe(&x->tls);
	nk_trust_free(&x->trust);
}

/* Tampering with the RFC's server flight: each is refused with the right alert. */
static int run_tampered(size_t flip_at, int in_flight, struct ctx *x)
{
	struct nk_tls13_config cfg;
	struct nk_err e = { "" };
	unsigned char sh[sizeof r8448_server_hello_record], fl[sizeof r8448_server_flight_record];
	size_t n;

	memcpy(sh, r8448_server_hello_record, sizeof sh);
	memcpy(fl, r8448_server_flight_record, sizeof fl);
	if (in_flight)
		fl[flip_at] ^= 0x01;
	else
		sh[flip_at] ^= 0x01;
	rfc8448_config(&cfg, &x->trust);
	assert_int_equal(nk_tls13_client_init(&x->tls, &cfg, &e), 0);
	nk_tls13_out(&x->tls, &n);
	nk_tls13_out_done(&x->tls, n);
	if (feed(&x->tls, sh, sizeof sh, 4096) == NK_TLS13_FAILED)
		return x->tls.alert_sent;
	if (feed(&x->tls, fl, sizeof fl, 4096) == NK_TLS13_FAILED)
		return x->tls.alert_sent;
	return -1;
}

static void test_rfc8448_tampered(void **state)
{
	struct ctx *x = ctx_get();
	(void)state;
	trust_rfc_cert(&x->trust);
	/* a byte of the encrypted flight: bad_record_mac */
	assert_int_equal(run_tampered(100, 1, x), NK_ALERT_BAD_RECORD_MAC);
	assert_int_equal(run_tampered(sizeof r8448_server_flight_record - 1, 1, x), NK_ALERT_BAD_RECORD_MAC);
	/* the server's key share (before the 6-byte supported_versions): keys differ -> bad_record_mac */
	assert_int_equal(run_tampered(sizeof r8448_server_hello_record - 7, 0, x), NK_ALERT_BAD_RECORD_MAC);
	/* supported_versions 0x0304 -> 0x0305: illegal_parameter */
	assert_int_equal(run_tampered(sizeof r8448_server_hello_record - 1, 0, x), NK_ALERT_ILLEGAL_PARAMETER);
	/* the server random: the transcript differs -> the flight still decrypts?
	 * no: handshake keys depend on the transcript -> bad_record_mac */
	assert_int_equal(run_tampered(20, 0, x), NK_ALERT_BAD_RECORD_MAC);
	/* the cipher suite (0x1301 -> 0x1300): not offered -> illegal_parameter */
	assert_int_equal(run_tampered(5 + 4 + 2 + 32 + 1 + 1, 0, x), NK_ALERT_ILLEGAL_PARAMETER);
	nk_tls13_wipe(&x->tls);
	nk_trust_free(&x->trust);
}

/*
 * RFC 8448 §3, server side: with the RFC's server random and X25519 key
 * injected, and the RFC's CertificateVerify signature (RSA-PSS salts are
 * random, so the RFC's signature bytes are injected: everything else is
 * computed), our server answers the RFC's ClientHello with the RFC's
 * ServerHello record and the RFC's encrypted flight, byte for byte; its
 * secrets equal the RFC's; it accepts the RFC's client Finished and
 * application data, and its application data and close_notify records equal
 * the RFC's.
 */
static struct nk_server_cred rfc_cred;
static struct nk_tls13 rfc_srv;

static void test_rfc8448_server(void **state)
{
	const unsigned char *m = r8448_certificate, *cv = r8448_certificate_verify;
	struct nk_tls13_config cfg;
	struct nk_err e = { "" };
	br_rsa_private_key rk;
	const unsigned char *out;
	unsigned char buf[64];
	size_t n, cap;
	unsigned char *p;
	(void)state;

	/* credentials: the RFC's certificate and RSA key */
	memset(&rfc_cred, 0, sizeof rfc_cred);
	rfc_cred.chain[0].data = (unsigned char *)(m + 11);
	rfc_cred.chain[0].data_len = (size_t)m[8] << 16 | (size_t)m[9] << 8 | m[10];
	rfc_cred.chain_len = 1;
	rk.n_bitlen = 1024;
	rk.p = (unsigned char *)r8448_rsa_p; rk.plen = sizeof r8448_rsa_p;
	rk.q = (unsigned char *)r8448_rsa_q; rk.qlen = sizeof r8448_rsa_q;
	rk.dp = (unsigned char *)r8448_rsa_dp; rk.dplen = sizeof r8448_rsa_dp;
	rk.dq = (unsigned char *)r8448_rsa_dq; rk.dqlen = sizeof r8448_rsa_dq;
	rk.iq = (unsigned char *)r8448_rsa_iq; rk.iqlen = sizeof r8448_rsa_iq;
	assert_int_equal(nk_privkey_set_rsa(&rfc_cred.key, &rk), 0);

	memset(&cfg, 0, sizeof cfg);
	cfg.cred = &rfc_cred;
	cfg.suites = r8448_suites;        /* 0x1301 first: the RFC's choice */
	cfg.n_suites = 3;
	cfg.sigs = r8448_sigs + 4;        /* rsa_pss_rsae_sha256 first */
	cfg.n_sigs = 3;
	cfg.test_random = r8448_server_hello + 6;
	cfg.test_x25519_key = r8448_s_x25519_priv;
	/* CertificateVerify: type(1) len(3) scheme(2) siglen(2) sig */
	cfg.test_cv_sig = cv + 8;
	cfg.test_cv_sig_len = (size_t)cv[6] << 8 | cv[7];
	cfg.test_flags = NK_TLS13_TEST_RFC8448;
	assert_int_equal(nk_tls13_server_init(&rfc_srv, &cfg, &e), 0);

	/* the RFC's ClientHello in */
	p = nk_tls13_in(&rfc_srv, &cap);
	memcpy(p, r8448_client_hello_record, sizeof r8448_client_hello_record);
	assert_int_equal(nk_tls13_in_done(&rfc_srv, sizeof r8448_client_hello_record), NK_TLS13_HANDSHAKE);
	/* ServerHello record + encrypted flight out, byte for byte */
	out = nk_tls13_out(&rfc_srv, &n);
	assert_int_equal(n, sizeof r8448_server_hello_record + sizeof r8448_server_flight_record);
	assert_memory_equal(out, r8448_server_hello_record, sizeof r8448_server_hello_record);
	assert_memory_equal(out + sizeof r8448_server_hello_record, r8448_server_flight_record,
		sizeof r8448_server_flight_record);
	nk_tls13_out_done(&rfc_srv, n);
	assert_memory_equal(rfc_srv.ks.c_hs, r8448_c_hs, 32);
	assert_memory_equal(rfc_srv.ks.s_hs, r8448_s_hs, 32);
	assert_memory_equal(rfc_srv.ks.secret, r8448_master_secret, 32);
	assert_memory_equal(rfc_srv.ks.c_ap, r8448_c_ap, 32);
	assert_memory_equal(rfc_srv.ks.s_ap, r8448_s_ap, 32);
	assert_memory_equal(rfc_srv.ks.exp_master, r8448_exp_master, 32);
	/* the client's Finished, then its application data */
	p = nk_tls13_in(&rfc_srv, &cap);
	memcpy(p, r8448_c_finished_record, sizeof r8448_c_finished_record);
	assert_int_equal(nk_tls13_in_done(&rfc_srv, sizeof r8448_c_finished_record), NK_TLS13_OPEN);
	p = nk_tls13_in(&rfc_srv, &cap);
	memcpy(p, r8448_c_app_record, sizeof r8448_c_app_record);
	assert_int_equal(nk_tls13_in_done(&rfc_srv, sizeof r8448_c_app_record), NK_TLS13_OPEN);
	assert_int_equal(nk_tls13_read(&rfc_srv, buf, sizeof buf), 50);
	assert_memory_equal(buf, r8448_c_app_payload, 50);
	/* our answer: the RFC's server sent a NewSessionTicket first (sequence 0) */
	rfc_srv.wr.seq = 1;
	assert_int_equal(nk_tls13_write(&rfc_srv, r8448_s_app_payload, 50), 50);
	out = nk_tls13_out(&rfc_srv, &n);
	assert_int_equal(n, sizeof r8448_s_app_record);
	assert_memory_equal(out, r8448_s_app_record, n);
	nk_tls13_out_done(&rfc_srv, n);
	p = nk_tls13_in(&rfc_srv, &cap);
	memcpy(p, r8448_c_alert_record, sizeof r8448_c_alert_record);
	assert_int_equal(nk_tls13_in_done(&rfc_srv, sizeof r8448_c_alert_record), NK_TLS13_CLOSED);
	nk_tls13_close(&rfc_srv);
	out = nk_tls13_out(&rfc_srv, &n);
	assert_int_equal(n, sizeof r8448_s_alert_record);
	assert_memory_equal(out, r8448_s_alert_record, n);
	nk_tls13_wipe(&rfc_srv);
	nk_privkey_wipe(&rfc_cred.key);
}

/* HKDF-Expand-Label edge cases */
static void test_hkdf_limits(void **state)
{
	unsigned char prk[32] = { 1 }, out[32];
	char label[300];
	(void)state;
	memset(label, 'a', sizeof label - 1);
	label[sizeof label - 1] = 0;
	assert_int_equal(nk_hkdf_expand_label(&br_sha256_vtable, prk, label, NULL, 0, out, 32), -1);
	label[249] = 0;
	assert_int_equal(nk_hkdf_expand_label(&br_sha256_vtable, prk, label, NULL, 0, out, 32), 0);
	assert_int_equal(nk_hkdf_expand(&br_sha256_vtable, prk, 32, "", 0, out, 255 * 32 + 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8448_key_schedule),
		cmocka_unit_test(test_rfc8448_x25519),
		cmocka_unit_test(test_rfc8448_records),
		cmocka_unit_test(test_rfc8448_client),
		cmocka_unit_test(test_rfc8448_client_fragmented),
		cmocka_unit_test(test_rfc8448_server_close),
		cmocka_unit_test(test_rfc8448_tampered),
		cmocka_unit_test(test_rfc8448_server),
		cmocka_unit_test(test_hkdf_limits),
	};
	return cmocka_run_group_tests_name("tls13", tests, NULL, NULL);
}
