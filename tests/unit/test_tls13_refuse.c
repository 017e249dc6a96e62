/*
 * Adversarial tests of the TLS 1.3 client (lib/tls13): a scripted server,
 * built in this file on the engine's own primitives (tlsks, tlsrec, tlssig),
 * sends a correct or a deliberately broken flight, and each test checks the
 * specific alert the client sends:
 *   TLS 1.2 ServerHello -> protocol_version; no ALPN / another ALPN ->
 *   no_application_protocol; a flipped byte in the encrypted handshake or in
 *   an application record -> bad_record_mac; a wrong Finished and a
 *   CertificateVerify over the wrong transcript -> decrypt_error; messages
 *   out of order -> unexpected_message; oversized records -> record_overflow;
 *   a truncated flight -> failure at EOF; a ServerHello that changes the
 *   suite after HelloRetryRequest -> illegal_parameter; a second HRR; an HRR
 *   for a group already shared; a malformed EncryptedExtensions -> decode_error;
 *   empty Alert/Handshake records -> unexpected_message; an authentic record
 *   padded past 2^14 + 1 -> record_overflow; ServerHello.legacy_version
 *   0x0300 or less -> protocol_version; an extension in a CertificateEntry ->
 *   unsupported_extension; the ECDHE error paths wipe what they computed.
 * And the positive paths: the full handshake, KeyUpdate with
 * update_requested, NewSessionTicket ignored, close_notify.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tls13.h"
#include "tlscert.h"
#include "tlsks.h"
#include "tlsrec.h"
#include "tlssig.h"

#include "tls13_fakecert.h"

#define FAKE_TIME 1893456000   /* 2030-01-01, inside the test certificate's window */

enum order { ORDER_OK, ORDER_CERT_FIRST, ORDER_NO_CERT, ORDER_FIN_AFTER_EE };

struct fopt {
	int tls12;               /* ServerHello without supported_versions */
	const char *alpn;        /* ALPN the server selects; NULL: none */
	int cv_wrong_transcript; /* sign the transcript without the Certificate */
	int bad_finished;        /* flip a bit of verify_data */
	int flip_at;             /* flip a byte of the encrypted record at this offset (0: no) */
	enum order order;
	int bad_ee;              /* EncryptedExtensions with an overlong inner length */
	size_t split;            /* >0: the encrypted flight in records of this many bytes */
	int cert_ext;            /* >0: the leaf's CertificateEntry carries this extension type */
};

struct fs {
	struct nk_server_cred cred;
	struct nk_trust trust;
	struct nk_tlsks ks;
	struct nk_tlsrec wr;
	uint16_t suite;
	unsigned char sid[32];
	size_t sid_len;
	unsigned char cpub[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t cpub_len;
	uint16_t cgroup;
	int cookie_seen;
	unsigned char ss_tmp[48];
	size_t ss_len_tmp;
	unsigned char flight[40000];
	size_t flen;
	unsigned sh_version;     /* ServerHello.legacy_version; 0: 0x0303 */
	struct nk_tls13 cli;
};

static struct fs F;
static char dir[64];

static int setup(void **state)
{
	char cp[128], kp[128];
	FILE *f;
	struct nk_err e = { "" };
	(void)state;

	snprintf(dir, sizeof dir, "/tmp/nk-tls13-refuse.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cp, sizeof cp, "%s/c.pem", dir);
	snprintf(kp, sizeof kp, "%s/k.pem", dir);
	f = fopen(cp, "w");
	fputs(fake_cert_pem, f);
	fclose(f);
	f = fopen(kp, "w");
	fputs(fake_key_pem, f);
	fclose(f);
	if (nk_server_cred_load(&F.cred, cp, kp, &e) < 0)
		fail_msg("%s", e.msg);
	nk_trust_init(&F.trust);
	if (nk_trust_load_file(&F.trust, cp, &e) < 0)
		fail_msg("%s", e.msg);
	unlink(cp);
	unlink(kp);
	rmdir(dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nk_server_cred_free(&F.cred);
	nk_trust_free(&F.trust);
	return 0;
}

/* ------------------------------------------------------ scripted server */

static void put16(unsigned char *p, size_t v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static void put24(unsigned char *p, size_t v) { p[0] = (unsigned char)(v >> 16); put16(p + 1, v); }

static void client_start(const char *alpn, int alpn_required, const uint16_t *groups, size_t ng)
{
	struct nk_tls13_config cfg;
	struct nk_err e = { "" };

	memset(&cfg, 0, sizeof cfg);
	cfg.server_name = "localhost";
	cfg.alpn = alpn;
	cfg.alpn_required = alpn_required;
	cfg.trust = &F.trust;
	cfg.time = FAKE_TIME;
	cfg.groups = groups;
	cfg.n_groups = ng;
	if (nk_tls13_client_init(&F.cli, &cfg, &e) < 0)
		fail_msg("%s", e.msg);
}

/* Take the client's output; parse the (last) ClientHello: session id and key share. */
static void take_client_hello(void)
{
	size_t n, off = 0;
	const unsigned char *o = nk_tls13_out(&F.cli, &n);

	while (off + 5 <= n && o[off] != NK_CT_HANDSHAKE)   /* skip a compatibility CCS */
		off += 5 + ((size_t)o[off + 3] << 8 | o[off + 4]);
	assert_true(off + 5 < n);
	{
		const unsigned char *m = o + off + 5;
		size_t mlen = 4 + ((size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3]), p = 4 + 2 + 32, el, end;

		assert_int_equal(m[0], 1);
		nk_tlsks_add(&F.ks, m, mlen);
		F.sid_len = m[p];
		memcpy(F.sid, m + p + 1, F.sid_len);
		p += 1 + F.sid_len;
		p += 2 + ((size_t)m[p] << 8 | m[p + 1]);   /* suites */
		p += 1 + m[p];                              /* compression */
		el = (size_t)m[p] << 8 | m[p + 1];
		p += 2;
		end = p + el;
		while (p < end) {
			unsigned type = (unsigned)m[p] << 8 | m[p + 1];
			size_t len = (size_t)m[p + 2] << 8 | m[p + 3];
			if (type == 44)
				F.cookie_seen = len == 7 && memcmp(m + p + 6, "\x01\x02\x03\x04\x05", 5) == 0;
			if (type == 51) {
				F.cgroup = (uint16_t)(m[p + 6] << 8 | m[p + 7]);
				F.cpub_len = (size_t)m[p + 8] << 8 | m[p + 9];
				memcpy(F.cpub, m + p + 10, F.cpub_len);
			}
			p += 4 + len;
		}
	}
	nk_tls13_out_done(&F.cli, n);
}

static void add_plain_record(unsigned type, const unsigned char *d, size_t n)
{
	unsigned char *o = F.flight + F.flen;

	o[0] = (unsigned char)type;
	o[1] = 3;
	o[2] = 3;
	put16(o + 3, n);
	memcpy(o + 5, d, n);
	F.flen += 5 + n;
}

static void add_sealed(unsigned type, const unsigned char *d, size_t n)
{
	long r = nk_tlsrec_seal(&F.wr, type, d, n, 0, F.flight + F.flen, sizeof F.flight - F.flen);

	assert_true(r > 0);
	F.flen += (size_t)r;
}

/* ServerHello (or HelloRetryRequest when hrr_group != 0). */
static void server_hello(uint16_t suite, uint16_t hrr_group, int tls12)
{
	static const unsigned char hrr_random[32] = {
		0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
		0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C };
	unsigned char m[512], sk[32], pub[BR_EC_KBUF_PUB_MAX_SIZE], ss[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t p = 4, at, publen = 0;
	const br_ec_impl *ec = br_ec_get_default();

	put16(m + p, F.sh_version ? F.sh_version : 0x0303);
	p += 2;
	if (hrr_group)
		memcpy(m + p, hrr_random, 32);
	else
		nk_random(m + p, 32);
	p += 32;
	m[p++] = (unsigned char)F.sid_len;
	memcpy(m + p, F.sid, F.sid_len);
	p += F.sid_len;
	put16(m + p, suite);
	p += 2;
	m[p++] = 0;
	at = p;
	p += 2;
	if (tls12) {
		/* a TLS 1.2 ServerHello: renegotiation_info, no supported_versions */
		put16(m + p, 0xff01); put16(m + p + 2, 1); m[p + 4] = 0;
		p += 5;
	} else {
		put16(m + p, 43); put16(m + p + 2, 2); put16(m + p + 4, 0x0304);
		p += 6;
		if (hrr_group) {
			put16(m + p, 51); put16(m + p + 2, 2); put16(m + p + 4, hrr_group);
			p += 6;
			/* cookie { opaque cookie<1..2^16-1> } */
			put16(m + p, 44); put16(m + p + 2, 2 + 5); put16(m + p + 4, 5);
			memcpy(m + p + 6, "\x01\x02\x03\x04\x05", 5);
			p += 11;
		} else {
			int curve = F.cgroup == 0x1d ? BR_EC_curve25519 : F.cgroup == 0x17 ? BR_EC_secp256r1 :
				BR_EC_secp384r1;
			size_t skl = curve == BR_EC_secp384r1 ? 48 : 32;
			unsigned char sk48[48];
			br_ec_private_key k;
			unsigned char kb[BR_EC_KBUF_PRIV_MAX_SIZE];
			br_hmac_drbg_context rng;

			nk_random(sk48, sizeof sk48);
			br_hmac_drbg_init(&rng, &br_sha256_vtable, sk48, sizeof sk48);
			assert_true(br_ec_keygen(&rng.vtable, ec, &k, kb, curve) == skl);
			memcpy(sk, kb, 32 < skl ? 32 : skl);
			publen = ec->mulgen(pub, kb, skl, curve);
			put16(m + p, 51); put16(m + p + 2, 4 + publen); put16(m + p + 4, F.cgroup);
			put16(m + p + 6, publen);
			memcpy(m + p + 8, pub, publen);
			p += 8 + publen;
			/* shared secret */
			assert_int_equal(F.cpub_len, publen);
			memcpy(ss, F.cpub, publen);
			assert_int_equal(ec->mul(ss, publen, kb, skl, curve), 1);
			if (curve != BR_EC_curve25519)
				memmove(ss, ss + 1, (publen - 1) / 2);
			F.ss_len_tmp = curve == BR_EC_curve25519 ? 32 : (publen - 1) / 2;
			memcpy(F.ss_tmp, ss, F.ss_len_tmp);
		}
	}
	put16(m + at, p - at - 2);
	m[0] = 2;
	put24(m + 1, p - 4);
	F.suite = suite;
	nk_tlsks_set_hash(&F.ks, nk_tlsrec_suite_hash(suite));
	if (hrr_group) {
		nk_tlsks_hrr_restart(&F.ks);
		nk_tlsks_add(&F.ks, m, p);
	} else {
		nk_tlsks_add(&F.ks, m, p);
		if (!tls12) {
			assert_int_equal(nk_tlsks_handshake(&F.ks, F.ss_tmp, F.ss_len_tmp), 0);
			assert_int_equal(nk_tlsrec_set_secret(&F.wr, suite, F.ks.s_hs), 0);
		}
	}
	add_plain_record(NK_CT_HANDSHAKE, m, p);
}

static size_t msg_ee(unsigned char *m, const struct fopt *o)
{
	size_t p = 6;

	if (o->alpn != NULL) {
		size_t al = strlen(o->alpn);
		put16(m + p, 16); put16(m + p + 2, al + 3); put16(m + p + 4, al + 1); m[p + 6] = (unsigned char)al;
		memcpy(m + p + 7, o->alpn, al);
		p += 7 + al;
	}
	put16(m + 4, p - 6 + (o->bad_ee ? 10 : 0));
	m[0] = 8;
	put24(m + 1, p - 4);
	return p;
}

static size_t msg_cert(unsigned char *m, const struct fopt *o)
{
	size_t p = 8;

	for (size_t i = 0; i < F.cred.chain_len; i++) {
		put24(m + p, F.cred.chain[i].data_len);
		memcpy(m + p + 3, F.cred.chain[i].data, F.cred.chain[i].data_len);
		p += 3 + F.cred.chain[i].data_len;
		if (i == 0 && o->cert_ext > 0) {
			/* one extension, empty body (as status_request's and SCT's
			 * answers are not: the type alone must be refused) */
			put16(m + p, 4);
			put16(m + p + 2, (size_t)o->cert_ext);
			put16(m + p + 4, 0);
			p += 6;
			continue;
		}
		put16(m + p, 0);
		p += 2;
	}
	m[4] = 0;
	put24(m + 5, p - 8);
	m[0] = 11;
	put24(m + 1, p - 4);
	return p;
}

static size_t msg_cv(unsigned char *m, const unsigned char *thash, size_t hl)
{
	static const char ctx[] = "TLS 1.3, server CertificateVerify";
	unsigned char content[64 + sizeof ctx + 48];
	long sl;

	memset(content, 0x20, 64);
	memcpy(content + 64, ctx, sizeof ctx);
	memcpy(content + 64 + sizeof ctx, thash, hl);
	sl = nk_tlssig_sign(NK_SIG_ECDSA_P256_SHA256, &F.cred.key, content, 64 + sizeof ctx + hl, m + 8, 200);
	assert_true(sl > 0);
	put16(m + 4, NK_SIG_ECDSA_P256_SHA256);
	put16(m + 6, (size_t)sl);
	m[0] = 15;
	put24(m + 1, 4 + (size_t)sl);
	return 8 + (size_t)sl;
}

/* The encrypted flight EE, Certificate, CertificateVerify, Finished in one record. */
static void server_flight(const struct fopt *o)
{
	unsigned char hs[8192], th_before_cert[48];
	size_t n = 0, k, hl = F.ks.hl;

	if (o->order == ORDER_CERT_FIRST) {
		k = msg_cert(hs + n, o); nk_tlsks_add(&F.ks, hs + n, k); n += k;
	}
	k = msg_ee(hs + n, o); nk_tlsks_add(&F.ks, hs + n, k); n += k;
	if (o->order == ORDER_FIN_AFTER_EE)
		goto fin;
	nk_tlsks_hash(&F.ks, th_before_cert);
	if (o->order == ORDER_OK) {
		k = msg_cert(hs + n, o); nk_tlsks_add(&F.ks, hs + n, k); n += k;
	}
	{
		unsigned char th[48];
		nk_tlsks_hash(&F.ks, th);
		k = msg_cv(hs + n, o->cv_wrong_transcript ? th_before_cert : th, hl);
		nk_tlsks_add(&F.ks, hs + n, k);
		n += k;
	}
fin:
	hs[n] = 20;
	put24(hs + n + 1, hl);
	nk_tlsks_finished(&F.ks, F.ks.s_hs, hs + n + 4);
	if (o->bad_finished)
		hs[n + 4 + 5] ^= 0x80;
	nk_tlsks_add(&F.ks, hs + n, 4 + hl);
	n += 4 + hl;
	if (o->split) {
		for (size_t off = 0; off < n; off += o->split)
			add_sealed(NK_CT_HANDSHAKE, hs + off, n - off < o->split ? n - off : o->split);
	} else {
		size_t at = F.flen;
		add_sealed(NK_CT_HANDSHAKE, hs, n);
		if (o->flip_at)
			F.flight[at + (size_t)o->flip_at] ^= 0x01;
	}
	/* the server's application keys */
	assert_int_equal(nk_tlsks_master(&F.ks), 0);
}

/* A protected record of any TLSInnerPlaintext (content || type || zeros),
 * even one nk_tlsrec_seal refuses; the nonce as RFC 8446 5.3 builds it. */
static void add_sealed_inner(const unsigned char *inner, size_t len)
{
	unsigned char nonce[12], *o = F.flight + F.flen;

	assert_true(F.flen + 5 + len + 16 <= sizeof F.flight);
	memcpy(nonce, F.wr.iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (unsigned char)(F.wr.seq >> (56 - 8 * i));
	o[0] = NK_CT_APPLICATION_DATA;
	o[1] = 3;
	o[2] = 3;
	put16(o + 3, len + 16);
	memcpy(o + 5, inner, len);
	nk_aead_seal(&F.wr.aead, nonce, o, 5, o + 5, len, o + 5 + len);
	F.wr.seq++;
	F.flen += 5 + len + 16;
}

static enum nk_tls13_status feed_flight(void)
{
	size_t off = 0;
	enum nk_tls13_status st = nk_tls13_status(&F.cli);

	while (off < F.flen && st != NK_TLS13_FAILED) {
		size_t cap, k;
		unsigned char *p = nk_tls13_in(&F.cli, &cap);
		if (cap == 0)
			break;
		k = F.flen - off < cap ? F.flen - off : cap;
		memcpy(p, F.flight + off, k);
		st = nk_tls13_in_done(&F.cli, k);
		off += k;
	}
	F.flen = 0;
	return st;
}

/* Run a whole handshake with options; returns the final status. */
static enum nk_tls13_status run(const struct fopt *o, const char *alpn, int req)
{
	memset(&F.ks, 0, sizeof F.ks);
	nk_tlsks_init(&F.ks);
	F.flen = 0;
	client_start(alpn, req, NULL, 0);
	take_client_hello();
	server_hello(NK_TLS_AES_128_GCM_SHA256, 0, o->tls12);
	if (!o->tls12)
		server_flight(o);
	return feed_flight();
}

static void expect_alert(const struct fopt *o, const char *alpn, int req, int alert)
{
	enum nk_tls13_status st = run(o, alpn, req);

	if (st != NK_TLS13_FAILED || F.cli.alert_sent != alert)
		fail_msg("wanted alert %s, got status %d alert %d (%s)", nk_tls13_alert_name(alert), st,
			F.cli.alert_sent, nk_tls13_error(&F.cli));
	/* the engine accepts no application data afterwards */
	assert_int_equal(nk_tls13_write(&F.cli, "x", 1), -1);
	{
		unsigned char b[4];
		assert_int_equal(nk_tls13_read(&F.cli, b, sizeof b), -1);
	}
	/* and the alert is queued for the peer */
	{
		size_t n;
		nk_tls13_out(&F.cli, &n);
		assert_true(n > 0);
	}
	nk_tls13_wipe(&F.cli);
}

/* ------------------------------------------------------------- tests */

static void handshake_ok(void **state)
{
	struct fopt o = { .alpn = "ntske/1" };
	unsigned char rec[256], buf[64], ku[5] = { 24, 0, 0, 1, 1 };
	size_t n;
	(void)state;

	assert_int_equal(run(&o, "ntske/1", 1), NK_TLS13_OPEN);
	assert_string_equal(F.cli.alpn, "ntske/1");
	assert_int_equal(F.cli.sig_scheme, NK_SIG_ECDSA_P256_SHA256);
	nk_tls13_out(&F.cli, &n);
	nk_tls13_out_done(&F.cli, n);   /* CCS + client Finished */
	/* NewSessionTicket (ignored), KeyUpdate(update_requested), then data under the next key */
	assert_int_equal(nk_tlsrec_set_secret(&F.wr, F.suite, F.ks.s_ap), 0);
	{
		unsigned char nst[] = { 4, 0, 0, 14, 0, 0, 0, 60, 1, 2, 3, 4, 0, 0, 1, 9, 0, 0 };
		add_sealed(NK_CT_HANDSHAKE, nst, sizeof nst);
	}
	add_sealed(NK_CT_HANDSHAKE, ku, sizeof ku);
	assert_int_equal(nk_tlsks_update_secret(F.ks.h, F.ks.s_ap), 0);
	assert_int_equal(nk_tlsrec_set_secret(&F.wr, F.suite, F.ks.s_ap), 0);
	add_sealed(NK_CT_APPLICATION_DATA, (const unsigned char *)"hello", 5);
	assert_int_equal(feed_flight(), NK_TLS13_OPEN);
	assert_int_equal(nk_tls13_read(&F.cli, buf, sizeof buf), 5);
	assert_memory_equal(buf, "hello", 5);
	/* the client answered with its own KeyUpdate(update_not_requested) */
	{
		struct nk_tlsrec rd;
		unsigned char cap[48];
		unsigned type;
		unsigned char *content;
		const unsigned char *out = nk_tls13_out(&F.cli, &n);
		long k;

		memcpy(cap, F.ks.c_ap, sizeof cap);
		assert_int_equal(nk_tlsrec_set_secret(&rd, F.suite, cap), 0);
		assert_true(n < sizeof rec);
		memcpy(rec, out, n);
		k = nk_tlsrec_open(&rd, rec, n, &type, &content);
		assert_int_equal(k, 5);
		assert_int_equal(type, NK_CT_HANDSHAKE);
		assert_int_equal(content[0], 24);
		assert_int_equal(content[4], 0);
		nk_tls13_out_done(&F.cli, n);
	}
	/* a flipped byte in an application record: bad_record_mac */
	{
		size_t at = F.flen;
		add_sealed(NK_CT_APPLICATION_DATA, (const unsigned char *)"tampered", 8);
		F.flight[at + 7] ^= 0x40;
		assert_int_equal(feed_flight(), NK_TLS13_FAILED);
		assert_int_equal(F.cli.alert_sent, NK_ALERT_BAD_RECORD_MAC);
	}
	nk_tls13_wipe(&F.cli);
}

/* handshake messages split across many records (and records across reads) */
static void handshake_fragmented(void **state)
{
	(void)state;
	for (size_t sz = 1; sz < 300; sz = sz * 3 + 1) {
		struct fopt o = { .alpn = "ntske/1", .split = sz };
		assert_int_equal(run(&o, "ntske/1", 1), NK_TLS13_OPEN);
		nk_tls13_wipe(&F.cli);
	}
}

static void refuse_tls12_server_hello(void **state)
{
	struct fopt o = { .tls12 = 1 };
	(void)state;
	expect_alert(&o, "ntske/1", 1, NK_ALERT_PROTOCOL_VERSION);
}

static void refuse_no_alpn(void **state)
{
	struct fopt o = { .alpn = NULL };
	(void)state;
	expect_alert(&o, "ntske/1", 1, NK_ALERT_NO_APPLICATION_PROTOCOL);
}

static void refuse_other_alpn(void **state)
{
	struct fopt o = { .alpn = "http/1.1" };
	(void)state;
	expect_alert(&o, "ntske/1", 1, NK_ALERT_NO_APPLICATION_PROTOCOL);
	/* even when ALPN is not required, a protocol we did not offer is refused */
	expect_alert(&o, "ntske/1", 0, NK_ALERT_NO_APPLICATION_PROTOCOL);
}

static void refuse_flipped_handshake_record(void **state)
{
	(void)state;
	for (int at = 5; at < 400; at += 37) {
		struct fopt o = { .alpn = "ntske/1", .flip_at = at };
		expect_alert(&o, "ntske/1", 1, NK_ALERT_BAD_RECORD_MAC);
	}
}

static void refuse_wrong_finished(void **state)
{
	struct fopt o = { .alpn = "ntske/1", .bad_finished = 1 };
	(void)state;
	expect_alert(&o, "ntske/1", 1, NK_ALERT_DECRYPT_ERROR);
}

static void refuse_cv_wrong_transcript(void **state)
{
	struct fopt o = { .alpn = "ntske/1", .cv_wrong_transcript = 1 };
	(void)state;
	expect_alert(&o, "ntske/1", 1, NK_ALERT_DECRYPT_ERROR);
}

static void refuse_out_of_order(void **state)
{
	struct fopt a = { .alpn = "ntske/1", .order = ORDER_CERT_FIRST };
	struct fopt b = { .alpn = "ntske/1", .order = ORDER_NO_CERT };
	struct fopt c = { .alpn = "ntske/1", .order = ORDER_FIN_AFTER_EE };
	(void)state;
	expect_alert(&a, "ntske/1", 1, NK_ALERT_UNEXPECTED_MESSAGE);
	expect_alert(&b, "ntske/1", 1, NK_ALERT_UNEXPECTED_MESSAGE);
	expect_alert(&c, "ntske/1", 1, NK_ALERT_UNEXPECTED_MESSAGE);
}

static void refuse_malformed_ee(void **state)
{
	struct fopt o = { .alpn = "ntske/1", .bad_ee = 1 };
	(void)state;
	expect_alert(&o, "ntske/1", 1, NK_ALERT_DECODE_ERROR);
}

static void refuse_oversized_records(void **state)
{
	unsigned char hdr[5] = { NK_CT_APPLICATION_DATA, 3, 3, 0, 0 };
	unsigned char hs[5] = { NK_CT_HANDSHAKE, 3, 3, 0, 0 };
	(void)state;

	/* an encrypted record longer than 2^14 + 256 */
	nk_tlsks_init(&F.ks);
	F.flen = 0;
	client_start("ntske/1", 1, NULL, 0);
	take_client_hello();
	server_hello(NK_TLS_AES_128_GCM_SHA256, 0, 0);
	put16(hdr + 3, NK_TLS_MAX_CIPHER + 1);
	memcpy(F.flight + F.flen, hdr, 5);
	F.flen += 5;
	assert_int_equal(feed_flight(), NK_TLS13_FAILED);
	assert_int_equal(F.cli.alert_sent, NK_ALERT_RECORD_OVERFLOW);
	nk_tls13_wipe(&F.cli);
	/* a plaintext record longer than 2^14 */
	nk_tlsks_init(&F.ks);
	client_start("ntske/1", 1, NULL, 0);
	take_client_hello();
	put16(hs + 3, NK_TLS_MAX_PLAIN + 1);
	memcpy(F.flight, hs, 5);
	memset(F.flight + 5, 0, NK_TLS_MAX_PLAIN + 1);
	F.flen = 5 + NK_TLS_MAX_PLAIN + 1;
	assert_int_equal(feed_flight(), NK_TLS13_FAILED);
	assert_int_equal(F.cli.alert_sent, NK_ALERT_RECORD_OVERFLOW);
	nk_tls13_wipe(&F.cli);
}

static void refuse_truncated(void **state)
{
	struct fopt o = { .alpn = "ntske/1" };
	(void)state;

	nk_tlsks_init(&F.ks);
	F.flen = 0;
	client_start("ntske/1", 1, NULL, 0);
	take_client_hello();
	server_hello(NK_TLS_AES_128_GCM_SHA256, 0, 0);
	server_flight(&o);
	F.flen -= 20;    /* the last record is cut short, then the connection closes */
	assert_int_equal(feed_flight(), NK_TLS13_HANDSHAKE);
	nk_tls13_eof(&F.cli);
	assert_int_equal(nk_tls13_status(&F.cli), NK_TLS13_FAILED);
	assert_non_null(strstr(nk_tls13_error(&F.cli), "closed"));
	nk_tls13_wipe(&F.cli);
}

static void hrr_then(uint16_t hrr_group, uint16_t suite2, int second_hrr, int alert)
{
	static const uint16_t groups[] = { NK_TLS_GROUP_X25519, NK_TLS_GROUP_SECP256R1, NK_TLS_GROUP_SECP384R1 };
	enum nk_tls13_status st;

	nk_tlsks_init(&F.ks);
	F.flen = 0;
	client_start("ntske/1", 1, groups, 3);
	take_client_hello();
	server_hello(NK_TLS_AES_128_GCM_SHA256, hrr_group, 0);
	st = feed_flight();
	if (alert >= 0 && st == NK_TLS13_FAILED) {
		assert_int_equal(F.cli.alert_sent, alert);
		nk_tls13_wipe(&F.cli);
		return;
	}
	assert_int_equal(st, NK_TLS13_HANDSHAKE);
	F.cookie_seen = 0;
	take_client_hello();
	assert_int_equal(F.cgroup, hrr_group);
	assert_true(F.cookie_seen);     /* §4.2.2: the cookie is echoed */
	if (second_hrr)
		server_hello(suite2, NK_TLS_GROUP_SECP384R1, 0);
	else
		server_hello(suite2, 0, 0);
	if (alert < 0) {
		struct fopt o = { .alpn = "ntske/1" };
		server_flight(&o);
		assert_int_equal(feed_flight(), NK_TLS13_OPEN);
		assert_int_equal(F.cli.group, hrr_group);
		assert_int_equal(F.cli.hrr_done, 1);
	} else {
		assert_int_equal(feed_flight(), NK_TLS13_FAILED);
		assert_int_equal(F.cli.alert_sent, alert);
	}
	nk_tls13_wipe(&F.cli);
}

static void hrr_ok(void **state)
{
	(void)state;
	hrr_then(NK_TLS_GROUP_SECP256R1, NK_TLS_AES_128_GCM_SHA256, 0, -1);
	hrr_then(NK_TLS_GROUP_SECP384R1, NK_TLS_AES_128_GCM_SHA256, 0, -1);
}

static void refuse_hrr_suite_change(void **state)
{
	(void)state;
	hrr_then(NK_TLS_GROUP_SECP256R1, NK_TLS_AES_256_GCM_SHA384, 0, NK_ALERT_ILLEGAL_PARAMETER);
}

static void refuse_second_hrr(void **state)
{
	(void)state;
	hrr_then(NK_TLS_GROUP_SECP256R1, NK_TLS_AES_128_GCM_SHA256, 1, NK_ALERT_UNEXPECTED_MESSAGE);
}

static void refuse_hrr_same_group(void **state)
{
	(void)state;
	/* HRR asking for x25519, for which a share was already sent */
	hrr_then(NK_TLS_GROUP_X25519, NK_TLS_AES_128_GCM_SHA256, 0, NK_ALERT_ILLEGAL_PARAMETER);
}

/* Client up to the ServerHello; the server's handshake keys in F.wr. */
static void until_server_hello(void)
{
	nk_tlsks_init(&F.ks);
	F.flen = 0;
	client_start("ntske/1", 1, NULL, 0);
	take_client_hello();
	server_hello(NK_TLS_AES_128_GCM_SHA256, 0, 0);
	assert_int_equal(feed_flight(), NK_TLS13_HANDSHAKE);
}

static void expect_failed(int alert)
{
	enum nk_tls13_status st = feed_flight();

	if (st != NK_TLS13_FAILED || F.cli.alert_sent != alert)
		fail_msg("wanted alert %s, got status %d alert %d (%s)", nk_tls13_alert_name(alert), st,
			F.cli.alert_sent, nk_tls13_error(&F.cli));
	nk_tls13_wipe(&F.cli);
}

/* RFC 8446 5.4: a Handshake or Alert record with an empty
 * TLSInnerPlaintext.content (padded or not) is unexpected_message;
 * empty application data is allowed. */
static void refuse_empty_alert_handshake(void **state)
{
	static const unsigned char empty_alert[5] = { NK_CT_ALERT, 3, 3, 0, 0 };
	(void)state;
	F.sh_version = 0;

	for (size_t pad = 0; pad <= 40; pad += 40) {
		until_server_hello();
		assert_true(nk_tlsrec_seal(&F.wr, NK_CT_ALERT, "", 0, pad, F.flight, sizeof F.flight) > 0);
		F.flen = 5 + 1 + pad + 16;
		expect_failed(NK_ALERT_UNEXPECTED_MESSAGE);
		until_server_hello();
		assert_true(nk_tlsrec_seal(&F.wr, NK_CT_HANDSHAKE, "", 0, pad, F.flight, sizeof F.flight) > 0);
		F.flen = 5 + 1 + pad + 16;
		expect_failed(NK_ALERT_UNEXPECTED_MESSAGE);
	}
	/* a plaintext alert record of zero length, before the ServerHello */
	nk_tlsks_init(&F.ks);
	client_start("ntske/1", 1, NULL, 0);
	take_client_hello();
	memcpy(F.flight, empty_alert, 5);
	F.flen = 5;
	expect_failed(NK_ALERT_UNEXPECTED_MESSAGE);
	/* empty application data records, with and without padding: fine */
	{
		struct fopt o = { .alpn = "ntske/1" };
		unsigned char buf[16];
		size_t n;

		assert_int_equal(run(&o, "ntske/1", 1), NK_TLS13_OPEN);
		nk_tls13_out(&F.cli, &n);
		nk_tls13_out_done(&F.cli, n);
		assert_int_equal(nk_tlsrec_set_secret(&F.wr, F.suite, F.ks.s_ap), 0);
		add_sealed(NK_CT_APPLICATION_DATA, (const unsigned char *)"", 0);
		F.flen += (size_t)nk_tlsrec_seal(&F.wr, NK_CT_APPLICATION_DATA, "", 0, 30, F.flight + F.flen,
			sizeof F.flight - F.flen);
		add_sealed(NK_CT_APPLICATION_DATA, (const unsigned char *)"hi", 2);
		assert_int_equal(feed_flight(), NK_TLS13_OPEN);
		assert_int_equal(nk_tls13_read(&F.cli, buf, sizeof buf), 2);
		nk_tls13_wipe(&F.cli);
	}
}

/* RFC 8446 5.2/5.4: an authentic record whose TLSInnerPlaintext (content,
 * type, padding) exceeds 2^14 + 1 octets is record_overflow, even when
 * the content alone is small. */
static void refuse_padded_oversized_record(void **state)
{
	static unsigned char inner[NK_TLS_MAX_PLAIN + 2];
	struct fopt o = { .alpn = "ntske/1" };
	size_t k;
	(void)state;
	F.sh_version = 0;

	until_server_hello();
	memset(inner, 0, sizeof inner);
	k = msg_ee(inner, &o);             /* a valid EncryptedExtensions */
	inner[k] = NK_CT_HANDSHAKE;
	add_sealed_inner(inner, sizeof inner);
	expect_failed(NK_ALERT_RECORD_OVERFLOW);
	/* 2^14 + 1 exactly is fine: the EncryptedExtensions is taken */
	until_server_hello();
	add_sealed_inner(inner, sizeof inner - 1);
	assert_int_equal(feed_flight(), NK_TLS13_HANDSHAKE);
	assert_int_equal(F.cli.state, NK_C_WAIT_CERT_CR);
	nk_tls13_wipe(&F.cli);
}

/* RFC 8446 D.5: ServerHello.legacy_version 0x0300 or less is
 * protocol_version, also in a HelloRetryRequest and with supported_versions
 * saying TLS 1.3. */
static void refuse_ssl3_server_hello(void **state)
{
	static const unsigned v[] = { 0x0300, 0x0200, 0x0002 };
	(void)state;
	F.sh_version = 0;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct fopt o = { .alpn = "ntske/1" };
		F.sh_version = v[i];
		expect_alert(&o, "ntske/1", 1, NK_ALERT_PROTOCOL_VERSION);
		F.sh_version = 0;
	}
	F.sh_version = 0x0300;
	hrr_then(NK_TLS_GROUP_SECP256R1, NK_TLS_AES_128_GCM_SHA256, 0, NK_ALERT_PROTOCOL_VERSION);
	F.sh_version = 0;
	/* 0x0301 (TLS 1.0) stays illegal_parameter: not 0x0303 */
	{
		struct fopt o = { .alpn = "ntske/1" };
		F.sh_version = 0x0301;
		expect_alert(&o, "ntske/1", 1, NK_ALERT_ILLEGAL_PARAMETER);
		F.sh_version = 0;
	}
}

/* RFC 8446 4.2, 4.4.2: the client solicits no CertificateEntry extension
 * (no status_request, no signed_certificate_timestamp): any is
 * unsupported_extension. */
static void refuse_cert_entry_extension(void **state)
{
	static const int types[] = { 5, 18, 0x1234 };
	(void)state;
	F.sh_version = 0;

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		struct fopt o = { .alpn = "ntske/1", .cert_ext = types[i] };
		expect_alert(&o, "ntske/1", 1, NK_ALERT_UNSUPPORTED_EXTENSION);
	}
}

/* (EC)DHE with an invalid peer share (internal, tls13_int.h). */
int nk_tls13_i_ecdhe(struct nk_tls13 *c, const unsigned char *peer, size_t plen, unsigned char *ss, size_t *ss_len);

/* On the ECDHE error paths (a P-256/P-384 share not on the curve, whose
 * "product" BearSSL still computes; an X25519 share of small order, whose
 * output is all zeros) the output buffer holds nothing of the computation
 * and our private key is wiped. */
static void ecdhe_error_wipes(void **state)
{
	static struct nk_tls13 c;
	unsigned char ss[BR_EC_KBUF_PUB_MAX_SIZE], peer[97], zero[sizeof ss];
	static const uint16_t groups[] = { NK_TLS_GROUP_SECP256R1, NK_TLS_GROUP_SECP384R1, NK_TLS_GROUP_X25519 };
	(void)state;

	memset(zero, 0, sizeof zero);
	for (size_t g = 0; g < 3; g++) {
		size_t plen = groups[g] == NK_TLS_GROUP_SECP256R1 ? 65 : groups[g] == NK_TLS_GROUP_SECP384R1 ? 97 : 32;
		size_t ss_len = 0;

		memset(&c, 0, sizeof c);
		c.share_group = groups[g];
		memset(c.share_sk, 0x5a, 32);
		c.share_sk_len = groups[g] == NK_TLS_GROUP_SECP384R1 ? 48 : 32;
		memset(c.share_sk, 0x5a, c.share_sk_len);
		/* not on the curve (x = y = 1), or u = 0 for X25519 */
		memset(peer, 0, sizeof peer);
		if (plen != 32) {
			peer[0] = 0x04;
			peer[plen / 2] = 1;
			peer[plen - 1] = 1;
		}
		memset(ss, 0xa5, sizeof ss);
		assert_int_equal(nk_tls13_i_ecdhe(&c, peer, plen, ss, &ss_len), -1);
		assert_memory_equal(ss, zero, sizeof ss);
		assert_memory_equal(c.share_sk, zero, sizeof c.share_sk);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_ok),
		cmocka_unit_test(hrr_ok),
		cmocka_unit_test(handshake_fragmented),
		cmocka_unit_test(refuse_tls12_server_hello),
		cmocka_unit_test(refuse_no_alpn),
		cmocka_unit_test(refuse_other_alpn),
		cmocka_unit_test(refuse_flipped_handshake_record),
		cmocka_unit_test(refuse_wrong_finished),
		cmocka_unit_test(refuse_cv_wrong_transcript),
		cmocka_unit_test(refuse_out_of_order),
		cmocka_unit_test(refuse_malformed_ee),
		cmocka_unit_test(refuse_oversized_records),
		cmocka_unit_test(refuse_truncated),
		cmocka_unit_test(refuse_hrr_suite_change),
		cmocka_unit_test(refuse_second_hrr),
		cmocka_unit_test(refuse_hrr_same_group),
		cmocka_unit_test(refuse_empty_alert_handshake),
		cmocka_unit_test(refuse_padded_oversized_record),
		cmocka_unit_test(refuse_ssl3_server_hello),
		cmocka_unit_test(refuse_cert_entry_extension),
		cmocka_unit_test(ecdhe_error_wipes),
	};
	return cmocka_run_group_tests_name("tls13_refuse", tests, setup, teardown);
}
