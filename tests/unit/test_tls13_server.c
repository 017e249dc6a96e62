/*
 * Our TLS 1.3 client against our TLS 1.3 server, in memory (lib/tls13 +
 * lib/tls13srv): every suite x group, HelloRetryRequest, exporters equal on
 * both sides for the NTS contexts (RFC 8915 §5.1), application data and
 * KeyUpdate both ways, close_notify; and the server's refusals (among them
 * empty Alert/Handshake records -> unexpected_message, legacy_version
 * 0x0300 or less -> protocol_version); the early data of a client offering
 * early_data skipped up to NK_TLS13_EARLY_SKIP_MAX (1-RTT and after HRR).
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

#include "tls13_fakecert.h"

#define FAKE_TIME 1893456000

static struct nk_server_cred cred;
static struct nk_trust trust;
static struct nk_tls13 cli, srv;

static int setup(void **state)
{
	char dir[] = "/tmp/nk-tls13-server.XXXXXX", cp[64], kp[64];
	struct nk_err e = { "" };
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(cp, sizeof cp, "%s/c.pem", dir);
	snprintf(kp, sizeof kp, "%s/k.pem", dir);
	f = fopen(cp, "w");
	fputs(fake_cert_pem, f);
	fclose(f);
	f = fopen(kp, "w");
	fputs(fake_key_pem, f);
	fclose(f);
	if (nk_server_cred_load(&cred, cp, kp, &e) < 0 || (nk_trust_init(&trust), nk_trust_load_file(&trust, cp, &e)) < 0)
		fail_msg("%s", e.msg);
	unlink(cp);
	unlink(kp);
	rmdir(dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nk_server_cred_free(&cred);
	nk_trust_free(&trust);
	return 0;
}

/* move bytes from a's output to b's input; optionally flip one byte at 'flip' (counted over the stream) */
static size_t moved_total;
static long flip_at = -1;
static void move(struct nk_tls13 *a, struct nk_tls13 *b)
{
	size_t n, cap;
	const unsigned char *o = nk_tls13_out(a, &n);
	unsigned char *p;

	while (n > 0) {
		size_t k;
		p = nk_tls13_in(b, &cap);
		if (cap == 0)
			break;
		k = n < cap ? n : cap;
		memcpy(p, o, k);
		if (a == &cli) {
			/* flip_at counts the client-to-server stream only */
			if (flip_at >= 0 && (size_t)flip_at >= moved_total && (size_t)flip_at < moved_total + k)
				p[flip_at - (long)moved_total] ^= 0x01;
			moved_total += k;
		}
		nk_tls13_out_done(a, k);
		nk_tls13_in_done(b, k);
		o = nk_tls13_out(a, &n);
	}
}

static void pump(void)
{
	for (int i = 0; i < 20; i++) {
		move(&cli, &srv);
		move(&srv, &cli);
	}
}

static unsigned start_flags;   /* the client's test_flags for the next start() */

static void start(const uint16_t *cs, const uint16_t *cg, size_t ncg, const char *calpn,
	const uint16_t *ss, const uint16_t *sg, size_t nsg, const char *salpn)
{
	struct nk_tls13_config c, s;
	struct nk_err e = { "" };

	memset(&c, 0, sizeof c);
	c.server_name = "localhost";
	c.alpn = calpn;
	c.alpn_required = calpn != NULL;
	c.trust = &trust;
	c.time = FAKE_TIME;
	c.suites = cs;
	c.n_suites = cs ? 1 : 0;
	c.groups = cg;
	c.n_groups = ncg;
	c.test_flags = start_flags;
	memset(&s, 0, sizeof s);
	s.cred = &cred;
	s.alpn = salpn;
	s.alpn_required = salpn != NULL;
	s.suites = ss;
	s.n_suites = ss ? 1 : 0;
	s.groups = sg;
	s.n_groups = nsg;
	if (nk_tls13_server_init(&srv, &s, &e) < 0 || nk_tls13_client_init(&cli, &c, &e) < 0)
		fail_msg("%s", e.msg);
	moved_total = 0;
}

static void check_connected(void)
{
	/* RFC 8915 §5.1: exporter contexts for C2S and S2C, AEAD 15 */
	static const unsigned char c2s[5] = { 0, 0, 0, 15, 0 }, s2c[5] = { 0, 0, 0, 15, 1 };
	unsigned char a[32], b[32], buf[64];

	if (nk_tls13_status(&cli) != NK_TLS13_OPEN || nk_tls13_status(&srv) != NK_TLS13_OPEN)
		fail_msg("client: %s / server: %s", nk_tls13_error(&cli), nk_tls13_error(&srv));
	assert_int_equal(cli.suite, srv.suite);
	assert_int_equal(cli.group, srv.group);
	assert_string_equal(cli.alpn, srv.alpn);
	assert_string_equal(srv.sni, "localhost");
	assert_int_equal(nk_tls13_export(&cli, "EXPORTER-network-time-security", c2s, 5, a, 32), 0);
	assert_int_equal(nk_tls13_export(&srv, "EXPORTER-network-time-security", c2s, 5, b, 32), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(nk_tls13_export(&cli, "EXPORTER-network-time-security", s2c, 5, b, 32), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(nk_tls13_export(&srv, "EXPORTER-network-time-security", s2c, 5, a, 32), 0);
	assert_memory_equal(a, b, 32);
	/* data both ways, with KeyUpdates in between */
	assert_int_equal(nk_tls13_write(&cli, "ping", 4), 4);
	pump();
	assert_int_equal(nk_tls13_read(&srv, buf, sizeof buf), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(nk_tls13_key_update(&srv, 1), 0);
	assert_int_equal(nk_tls13_write(&srv, "pong", 4), 4);
	pump();
	assert_int_equal(nk_tls13_read(&cli, buf, sizeof buf), 4);
	assert_memory_equal(buf, "pong", 4);
	assert_int_equal(nk_tls13_write(&cli, "ping2", 5), 5);
	pump();
	assert_int_equal(nk_tls13_read(&srv, buf, sizeof buf), 5);
	/* close both ways */
	nk_tls13_close(&cli);
	pump();
	assert_int_equal(nk_tls13_status(&srv), NK_TLS13_CLOSED);
	nk_tls13_close(&srv);
	pump();
	assert_int_equal(nk_tls13_status(&cli), NK_TLS13_CLOSED);
}

static void all_suites_groups(void **state)
{
	static const uint16_t suites[] = { NK_TLS_AES_128_GCM_SHA256, NK_TLS_AES_256_GCM_SHA384,
		NK_TLS_CHACHA20_POLY1305_SHA256 };
	static const uint16_t groups[] = { NK_TLS_GROUP_X25519, NK_TLS_GROUP_SECP256R1, NK_TLS_GROUP_SECP384R1 };
	(void)state;
	for (int s = 0; s < 3; s++)
		for (int g = 0; g < 3; g++) {
			start(&suites[s], &groups[g], 1, "ntske/1", NULL, NULL, 0, "ntske/1");
			pump();
			check_connected();
			assert_int_equal(cli.suite, suites[s]);
			assert_int_equal(cli.group, groups[g]);
			assert_int_equal(cli.hrr_done, 0);
		}
}

static void hello_retry(void **state)
{
	static const uint16_t cg[] = { NK_TLS_GROUP_X25519, NK_TLS_GROUP_SECP256R1, NK_TLS_GROUP_SECP384R1 };
	static const uint16_t sg[] = { NK_TLS_GROUP_SECP384R1 };
	(void)state;
	/* the client's share is x25519; the server takes only secp384r1 */
	start(NULL, cg, 3, "ntske/1", NULL, sg, 1, "ntske/1");
	pump();
	check_connected();
	assert_int_equal(cli.group, NK_TLS_GROUP_SECP384R1);
	assert_int_equal(cli.hrr_done, 1);
	assert_int_equal(srv.hrr_done, 1);
}

static void expect_server_alert(int alert)
{
	pump();
	if (nk_tls13_status(&srv) != NK_TLS13_FAILED || srv.alert_sent != alert)
		fail_msg("server: wanted alert %s, got %d (%s)", nk_tls13_alert_name(alert), srv.alert_sent,
			nk_tls13_error(&srv));
	assert_int_equal(nk_tls13_status(&cli), NK_TLS13_FAILED);
	assert_int_equal(cli.alert_rcvd, alert);
	assert_int_equal(nk_tls13_write(&srv, "x", 1), -1);
}

static void refusals(void **state)
{
	static const uint16_t s128[] = { NK_TLS_AES_128_GCM_SHA256 }, s256[] = { NK_TLS_AES_256_GCM_SHA384 };
	static const uint16_t gx[] = { NK_TLS_GROUP_X25519 }, g384[] = { NK_TLS_GROUP_SECP384R1 };
	(void)state;
	/* client without ALPN; client with another ALPN */
	start(NULL, NULL, 0, NULL, NULL, NULL, 0, "ntske/1");
	expect_server_alert(NK_ALERT_NO_APPLICATION_PROTOCOL);
	start(NULL, NULL, 0, "http/1.1", NULL, NULL, 0, "ntske/1");
	expect_server_alert(NK_ALERT_NO_APPLICATION_PROTOCOL);
	/* no common suite, no common group */
	start(s128, NULL, 0, "ntske/1", s256, NULL, 0, "ntske/1");
	expect_server_alert(NK_ALERT_HANDSHAKE_FAILURE);
	start(NULL, gx, 1, "ntske/1", NULL, g384, 1, "ntske/1");
	expect_server_alert(NK_ALERT_HANDSHAKE_FAILURE);
}

static void flipped_client_finished(void **state)
{
	size_t after_ch;
	(void)state;
	/* the client's second flight (CCS + Finished record) is the bytes after
	 * ClientHello; flip the last byte of the Finished record: bad_record_mac */
	start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
	nk_tls13_out(&cli, &after_ch);
	move(&cli, &srv);
	move(&srv, &cli);
	{
		size_t n;
		nk_tls13_out(&cli, &n);
		flip_at = (long)(after_ch + n - 1);
	}
	expect_server_alert(NK_ALERT_BAD_RECORD_MAC);
	flip_at = -1;
}

static void garbage_client_hello(void **state)
{
	static const unsigned char junk[] = { 22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0 };
	size_t cap;
	struct nk_tls13_config s;
	struct nk_err e = { "" };
	unsigned char *p;
	(void)state;
	memset(&s, 0, sizeof s);
	s.cred = &cred;
	assert_int_equal(nk_tls13_server_init(&srv, &s, &e), 0);
	p = nk_tls13_in(&srv, &cap);
	memcpy(p, junk, sizeof junk);
	assert_int_equal(nk_tls13_in_done(&srv, sizeof junk), NK_TLS13_FAILED);
	assert_int_equal(srv.alert_sent, NK_ALERT_DECODE_ERROR);
}

/* Bytes straight into the server, as many reads as it takes. */
static void to_srv(const unsigned char *d, size_t n)
{
	while (n > 0 && nk_tls13_status(&srv) != NK_TLS13_FAILED) {
		size_t cap, k;
		unsigned char *p = nk_tls13_in(&srv, &cap);

		if (cap == 0)
			break;
		k = n < cap ? n : cap;
		memcpy(p, d, k);
		nk_tls13_in_done(&srv, k);
		d += k;
		n -= k;
	}
}

/* The client's first flight (its ClientHello record) to the server, with
 * 'extra' bytes right behind it in the same read. */
static void ch_to_srv(const unsigned char *extra, size_t extra_len)
{
	static unsigned char buf[2 * NK_TLS_MAX_RECORD + 65536];
	size_t n;
	const unsigned char *o = nk_tls13_out(&cli, &n);

	assert_true(n + extra_len <= sizeof buf);
	memcpy(buf, o, n);
	if (extra_len > 0)
		memcpy(buf + n, extra, extra_len);
	nk_tls13_out_done(&cli, n);
	to_srv(buf, n + extra_len);
}

static void expect_server_failed(int alert)
{
	if (nk_tls13_status(&srv) != NK_TLS13_FAILED || srv.alert_sent != alert)
		fail_msg("server: wanted alert %s, got %d (%s)", nk_tls13_alert_name(alert), srv.alert_sent,
			nk_tls13_error(&srv));
}

/* RFC 8446 5.4: an empty Handshake or Alert record (padded or not) from
 * the client is unexpected_message. */
static void empty_alert_handshake(void **state)
{
	static const unsigned types[] = { NK_CT_ALERT, NK_CT_HANDSHAKE };
	(void)state;
	for (size_t t = 0; t < 2; t++)
		for (size_t pad = 0; pad <= 40; pad += 40) {
			unsigned char rec[128];
			struct nk_tlsrec w;
			long k;

			start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
			ch_to_srv(NULL, 0);
			assert_int_equal(srv.state, NK_S_WAIT_FINISHED);
			w = srv.rd;   /* the client's handshake write keys */
			k = nk_tlsrec_seal(&w, types[t], "", 0, pad, rec, sizeof rec);
			assert_true(k > 0);
			to_srv(rec, (size_t)k);
			expect_server_failed(NK_ALERT_UNEXPECTED_MESSAGE);
		}
	/* a plaintext alert of zero length instead of the ClientHello */
	{
		static const unsigned char rec[5] = { NK_CT_ALERT, 3, 3, 0, 0 };
		start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
		to_srv(rec, sizeof rec);
		expect_server_failed(NK_ALERT_UNEXPECTED_MESSAGE);
	}
}

/* RFC 8446 D.5: ClientHello.legacy_version 0x0300 or less is
 * protocol_version, even with TLS 1.3 in supported_versions. */
static void ssl3_client_hello(void **state)
{
	static const unsigned v[] = { 0x0300, 0x0200, 0x0000 };
	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n;
		unsigned char *o;

		start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
		o = (unsigned char *)nk_tls13_out(&cli, &n);
		assert_int_equal(o[5], 1);               /* ClientHello */
		o[9] = (unsigned char)(v[i] >> 8);       /* legacy_version */
		o[10] = (unsigned char)v[i];
		ch_to_srv(NULL, 0);
		expect_server_failed(NK_ALERT_PROTOCOL_VERSION);
	}
	/* 0x0301 (what some TLS 1.3 clients send) still goes on */
	{
		size_t n;
		unsigned char *o;

		start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
		o = (unsigned char *)nk_tls13_out(&cli, &n);
		o[10] = 1;
		ch_to_srv(NULL, 0);
		assert_int_equal(srv.state, NK_S_WAIT_FINISHED);
	}
}

/* 'total' bytes of records of outer type application_data with random
 * contents (0-RTT data under keys the server does not have), in records
 * of at most 'each' bytes of TLSCiphertext.encrypted_record. */
static size_t early_records(unsigned char *out, size_t total, size_t each)
{
	size_t n = 0;

	while (total > 0) {
		size_t k = total < each ? total : each;

		out[n] = NK_CT_APPLICATION_DATA;
		out[n + 1] = 3;
		out[n + 2] = 3;
		out[n + 3] = (unsigned char)(k >> 8);
		out[n + 4] = (unsigned char)k;
		nk_random(out + n + 5, k);
		n += 5 + k;
		total -= k;
	}
	return n;
}

/* RFC 8446 4.2.10: a server that ignores early_data skips the records that
 * do not deprotect under the handshake key, and after a HelloRetryRequest
 * the records of type application_data, up to NK_TLS13_EARLY_SKIP_MAX
 * bytes of early data (each record counted as its largest payload:
 * length - 16 (tag) - 1 (type)); beyond it unexpected_message. A client
 * that did not offer early_data gets the old answers. */
static void early_data_skipped(void **state)
{
	static const uint16_t cg[] = { NK_TLS_GROUP_X25519, NK_TLS_GROUP_SECP256R1, NK_TLS_GROUP_SECP384R1 };
	static const uint16_t sg[] = { NK_TLS_GROUP_SECP384R1 };
	static unsigned char early[3 * NK_TLS_MAX_RECORD], small[80];
	/* the bound exactly: a record of 2^14 - 16 payload bytes, two of 8 */
	size_t n = early_records(early, NK_TLS13_EARLY_SKIP_MAX - 16 + 17, NK_TLS_MAX_CIPHER);
	size_t sn = early_records(small, 60, 100);
	(void)state;

	n += early_records(early + n, 8 + 17, 100);
	n += early_records(early + n, 8 + 17, 100);
	for (int hrr = 0; hrr < 2; hrr++) {
		/* 1-RTT (or HRR), the early records behind the ClientHello: skipped */
		start_flags = NK_TLS13_TEST_EARLY_DATA;
		if (hrr)
			start(NULL, cg, 3, "ntske/1", NULL, sg, 1, "ntske/1");
		else
			start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
		start_flags = 0;
		ch_to_srv(early, n);
		if (nk_tls13_status(&srv) == NK_TLS13_FAILED)
			fail_msg("hrr=%d: %s", hrr, nk_tls13_error(&srv));
		pump();
		check_connected();
		assert_int_equal(srv.hrr_done, hrr);
		/* one byte more: unexpected_message */
		start_flags = NK_TLS13_TEST_EARLY_DATA;
		if (hrr)
			start(NULL, cg, 3, "ntske/1", NULL, sg, 1, "ntske/1");
		else
			start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
		start_flags = 0;
		{
			size_t m = early_records(early + n, 1 + 17, 100);
			ch_to_srv(early, n + m);
		}
		expect_server_failed(NK_ALERT_UNEXPECTED_MESSAGE);
		/* without early_data offered: as before, bad_record_mac (1-RTT)
		 * or unexpected_message (application data before the second ClientHello) */
		if (hrr)
			start(NULL, cg, 3, "ntske/1", NULL, sg, 1, "ntske/1");
		else
			start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
		ch_to_srv(small, sn);
		expect_server_failed(hrr ? NK_ALERT_UNEXPECTED_MESSAGE : NK_ALERT_BAD_RECORD_MAC);
	}
	/* once a record deprotects, skipping ends: a bad record after the
	 * client's Finished is bad_record_mac */
	start_flags = NK_TLS13_TEST_EARLY_DATA;
	start(NULL, NULL, 0, "ntske/1", NULL, NULL, 0, "ntske/1");
	start_flags = 0;
	ch_to_srv(small, sn);
	pump();
	assert_int_equal(nk_tls13_status(&srv), NK_TLS13_OPEN);
	to_srv(small, sn);
	expect_server_failed(NK_ALERT_BAD_RECORD_MAC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_suites_groups),
		cmocka_unit_test(hello_retry),
		cmocka_unit_test(refusals),
		cmocka_unit_test(flipped_client_finished),
		cmocka_unit_test(garbage_client_hello),
		cmocka_unit_test(empty_alert_handshake),
		cmocka_unit_test(ssl3_client_hello),
		cmocka_unit_test(early_data_skipped),
	};
	return cmocka_run_group_tests_name("tls13_server", tests, setup, teardown);
}
