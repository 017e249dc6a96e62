/*
 * Unit tests for lib/tlscert: trust stores, chain validation at injected
 * times, RFC 9525 name checks, skip_window, server credentials, the
 * RFC 8448 §3 server certificate trusted directly, and the chain policy
 * (SHA-1/MD5 signatures, RSA under 2048 bits, CA:TRUE leaves,
 * intermediates' extKeyUsage, name constraints critical or not).
 *
 * The test PKI is made at start-up by tests/pki/gen.sh into
 * $NTSKIT_TMP/tlscert-pki (or /tmp/ntskit-tlscert-pki-UID when run by hand;
 * gen.sh does nothing when the directory is already complete).
 * Signatures are also cross-checked with the openssl command line tool.
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

#include "tlscert.h"

/* Times (Unix seconds, UTC) matching the fixed windows in tests/pki/gen.sh. */
#define T_2020 1577836800LL   /* 2020-01-01: CAs' and expired leaf's notBefore */
#define T_2021 1609459200LL   /* expired leaf's notAfter */
#define T_2025 1735689600LL   /* good leaves' notBefore */
#define T_NOW  1795651200LL   /* 2026-11-26, inside the good leaves' window */
#define T_2035 2051222400LL   /* good leaves' notAfter */
#define T_2090 3786912000LL   /* notyet leaf's notBefore */
#define T_2095 3944678400LL   /* notyet leaf's notAfter */
#define T_2099 4102444799LL   /* CAs' notAfter (2099-12-31T23:59:59Z) */
/* RFC 8448 server certificate: 2016-07-30T01:23:59Z .. 2026-07-30T01:23:59Z */
#define T_RFC_NB 1469841839LL
#define T_RFC_NA 1785374639LL

static char pki[512];
static struct nk_trust trust;

#include "rfc8448_cert.h"

static const char *P(const char *name)
{
	static char buf[4][600];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%.511s/%.80s", pki, name);
	return buf[k];
}

static int setup(void **state)
{
	char cmd[1200];
	const char *tmp = getenv("NTSKIT_TMP");
	(void)state;
	if (tmp && *tmp)
		snprintf(pki, sizeof pki, "%s/tlscert-pki", tmp);
	else
		snprintf(pki, sizeof pki, "/tmp/ntskit-tlscert-pki-%u", (unsigned)getuid());
	snprintf(cmd, sizeof cmd, "sh tests/pki/gen.sh '%s'", pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "tests/pki/gen.sh failed\n");
		return -1;
	}
	struct nk_err e;
	nk_trust_init(&trust);
	if (nk_trust_load_file(&trust, P("root.crt"), &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nk_trust_free(&trust);
	return 0;
}

/* Validate the chain of NAME.fullchain.pem (key NAME.key or given). */
static enum nk_cert_status check_chain(const char *chain, const char *key, size_t use,
	const char *host, int64_t t, int skip, struct nk_certval_result *res, struct nk_err *e)
{
	struct nk_server_cred c;
	struct nk_err le;
	if (nk_server_cred_load(&c, P(chain), P(key), &le) != 0) {
		fail_msg("loading %s: %s", chain, le.msg);
	}
	const unsigned char *der[NK_CHAIN_MAX];
	size_t len[NK_CHAIN_MAX];
	for (size_t i = 0; i < c.chain_len; i++) {
		der[i] = c.chain[i].data;
		len[i] = c.chain[i].data_len;
	}
	struct nk_certval_opts o = { host, t, skip };
	enum nk_cert_status st = nk_cert_validate(&trust, der,
		len, use ? use : c.chain_len, &o, res, e);
	nk_server_cred_free(&c);
	return st;
}

static enum nk_cert_status chk(const char *name, const char *host, int64_t t, int skip)
{
	static struct nk_certval_result res;
	struct nk_err e = { "" };
	char chain[64], key[64];
	snprintf(chain, sizeof chain, "%s.fullchain.pem", name);
	snprintf(key, sizeof key, "%s.key", name);
	if (access(P(key), R_OK) != 0)
		snprintf(key, sizeof key, "%s.pkcs8.key", name);
	enum nk_cert_status st = check_chain(chain, key, 0, host, t, skip, &res, &e);
	if (st != NK_CERT_OK)
		printf("# %s host=%s t=%lld skip=%d: %s (%s)\n", name, host ? host : "-",
			(long long)t, skip, nk_cert_status_str(st), e.msg);
	return st;
}

static const char *kinds[] = { "ec256", "ec384", "rsa2048", "rsa4096" };
static const char *keyfile[][2] = {
	{ "ec256.sec1.key", "ec256.pkcs8.key" },
	{ "ec384.sec1.key", "ec384.pkcs8.key" },
	{ "rsa2048.pkcs1.key", "rsa2048.pkcs8.key" },
	{ "rsa4096.pkcs1.key", "rsa4096.pkcs8.key" },
};

static void test_valid_chains(void **s)
{
	(void)s;
	for (size_t k = 0; k < 4; k++) {
		struct nk_certval_result res;
		struct nk_err e = { "" };
		char chain[64];
		snprintf(chain, sizeof chain, "%s.fullchain.pem", kinds[k]);
		static const char *hosts[] = { "localhost", "nts.test", "NTS.Test.", "127.0.0.1", "::1", NULL };
		for (size_t h = 0; h < sizeof hosts / sizeof hosts[0]; h++) {
			enum nk_cert_status st = check_chain(chain, keyfile[k][1], 0, hosts[h], T_NOW, 0, &res, &e);
			if (st != NK_CERT_OK)
				fail_msg("%s %s: %s", kinds[k], hosts[h] ? hosts[h] : "(none)", e.msg);
		}
		assert_int_equal(res.not_before, T_2025);
		assert_int_equal(res.not_after, T_2035);
		assert_string_equal(res.subject, "CN=localhost, O=ntskit test");
		assert_string_equal(res.issuer, "CN=ntskit test intermediate, O=ntskit test");
		assert_int_equal(res.leaf_key.key_type, k < 2 ? BR_KEYTYPE_EC : BR_KEYTYPE_RSA);
		/* window edges are inclusive (RFC 5280 §4.1.2.5) */
		assert_int_equal(check_chain(chain, keyfile[k][1], 0, "localhost", T_2025, 0, &res, &e), NK_CERT_OK);
		assert_int_equal(check_chain(chain, keyfile[k][1], 0, "localhost", T_2035, 0, &res, &e), NK_CERT_OK);
		assert_int_equal(check_chain(chain, keyfile[k][1], 0, "localhost", T_2025 - 1, 0, &res, &e), NK_CERT_NOT_YET_VALID);
		assert_int_equal(check_chain(chain, keyfile[k][1], 0, "localhost", T_2035 + 1, 0, &res, &e), NK_CERT_EXPIRED);
		/* without the intermediate there is no path */
		assert_int_equal(check_chain(chain, keyfile[k][1], 1, "localhost", T_NOW, 0, &res, &e), NK_CERT_UNTRUSTED);
	}
}

static void test_expired_notyet(void **s)
{
	(void)s;
	assert_int_equal(chk("expired", "localhost", T_NOW, 0), NK_CERT_EXPIRED);
	assert_int_equal(chk("expired", "localhost", T_2021 + 1, 0), NK_CERT_EXPIRED);
	assert_int_equal(chk("expired", "localhost", T_2021, 0), NK_CERT_OK);
	assert_int_equal(chk("expired", "localhost", T_2020 + 86400 * 100, 0), NK_CERT_OK);
	assert_int_equal(chk("expired", "localhost", T_2020 - 1, 0), NK_CERT_NOT_YET_VALID);
	assert_int_equal(chk("notyet", "localhost", T_NOW, 0), NK_CERT_NOT_YET_VALID);
	assert_int_equal(chk("notyet", "localhost", T_2090 - 1, 0), NK_CERT_NOT_YET_VALID);
	assert_int_equal(chk("notyet", "localhost", T_2090, 0), NK_CERT_OK);
	assert_int_equal(chk("notyet", "localhost", T_2095, 0), NK_CERT_OK);
	assert_int_equal(chk("notyet", "localhost", T_2095 + 1, 0), NK_CERT_EXPIRED);
	/* the intermediate's own window counts too */
	assert_int_equal(chk("notyet", "localhost", T_2099 + 1, 0), NK_CERT_EXPIRED);
}

static void test_skip_window(void **s)
{
	(void)s;
	assert_int_equal(chk("expired", "localhost", T_NOW, 1), NK_CERT_OK);
	assert_int_equal(chk("notyet", "localhost", T_NOW, 1), NK_CERT_OK);
	assert_int_equal(chk("ec256", "localhost", 0, 1), NK_CERT_OK);
	assert_int_equal(chk("ec256", "localhost", INT64_MAX, 1), NK_CERT_OK);
	/* everything else is still checked */
	assert_int_equal(chk("untrusted", "localhost", T_NOW, 1), NK_CERT_UNTRUSTED);
	assert_int_equal(chk("expired", "wrong.test", T_NOW, 1), NK_CERT_BAD_NAME);
	assert_int_equal(chk("clientauth", "localhost", T_NOW, 1), NK_CERT_BAD_USAGE);
	struct nk_certval_result res;
	struct nk_err e;
	assert_int_equal(check_chain("expired.fullchain.pem", "expired.key", 0, "localhost", T_NOW, 1, &res, &e), NK_CERT_OK);
	assert_int_equal(res.not_before, T_2020);
	assert_int_equal(res.not_after, T_2021);
}

static void test_names(void **s)
{
	(void)s;
	assert_int_equal(chk("wrongname", "localhost", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wrongname", "wrong.test", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("wrongname", "WRONG.test.", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("wrongname", "wrong.tes", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wrongname", "xwrong.test", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wrongname", "", T_NOW, 0), NK_CERT_BAD_NAME);
	/* wildcard *.nts.test: exactly one whole left-most label */
	assert_int_equal(chk("wildcard", "a.nts.test", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("wildcard", "A.NTS.TEST", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("wildcard", "xn--bcher-kva.nts.test", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("wildcard", "a.b.nts.test", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wildcard", "nts.test", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wildcard", ".nts.test", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wildcard", "a.nts.test.x", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wildcard", "localhost", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wildcard", "127.0.0.1", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wildcard", "*.nts.test", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("wildcard", "a*.nts.test", T_NOW, 0), NK_CERT_BAD_NAME);
	/* IP-IDs: the address bytes, never a DNS-ID */
	assert_int_equal(chk("ec256", "127.0.0.1", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("ec256", "::1", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("ec256", "0:0:0:0:0:0:0:1", T_NOW, 0), NK_CERT_OK);
	assert_int_equal(chk("ec256", "127.0.0.2", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("ec256", "::2", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("ec256", "::ffff:127.0.0.1", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("ec256", "127.1", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("ec256", "localhost.localdomain", T_NOW, 0), NK_CERT_BAD_NAME);
	/* no CN fallback */
	assert_int_equal(chk("cnonly", "localhost", T_NOW, 0), NK_CERT_BAD_NAME);
	assert_int_equal(chk("cnonly", NULL, T_NOW, 0), NK_CERT_OK);
}

/* What a refused certificate is for: the name mismatch message names the
 * leaf's DNS names and IP addresses; nk_cert_describe reads them and the
 * window of any certificate (expired, untrusted too) without judging it. */
static void test_describe(void **s)
{
	(void)s;
	struct nk_certval_result res;
	struct nk_err e = { "" };
	assert_int_equal(check_chain("wrongname.fullchain.pem", "wrongname.key", 0, "c.example", T_NOW, 0, &res, &e),
		NK_CERT_BAD_NAME);
	assert_string_equal(e.msg, "certificate is for wrong.test, not c.example");
	assert_int_equal(check_chain("ec256.fullchain.pem", "ec256.sec1.key", 0, "127.0.0.2", T_NOW, 0, &res, &e),
		NK_CERT_BAD_NAME);
	assert_string_equal(e.msg, "certificate is for localhost, nts.test, 127.0.0.1, ::1, not 127.0.0.2");

	static const struct { const char *name, *names; int64_t nb, na; } c[] = {
		{ "expired", "localhost, nts.test, 127.0.0.1, ::1", T_2020, T_2021 },
		{ "untrusted", "localhost, nts.test, 127.0.0.1, ::1", 0, 0 },
		{ "cnonly", "(no subjectAltName)", 0, 0 },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct nk_server_cred cr;
		struct nk_cert_desc d;
		char key[64];
		snprintf(key, sizeof key, "%s.key", c[i].name);
		if (access(P(key), R_OK) != 0)
			snprintf(key, sizeof key, "%s.pkcs8.key", c[i].name);
		char chain[64];
		snprintf(chain, sizeof chain, "%s.fullchain.pem", c[i].name);
		assert_int_equal(nk_server_cred_load(&cr, P(chain), P(key), &e), 0);
		assert_int_equal(nk_cert_describe(cr.chain[0].data, cr.chain[0].data_len, &d, &e), 0);
		assert_string_equal(d.names, c[i].names);
		assert_non_null(strstr(d.subject, "CN=localhost"));
		if (c[i].nb != 0) {
			assert_int_equal(d.not_before, c[i].nb);
			assert_int_equal(d.not_after, c[i].na);
		}
		assert_true(d.not_before < d.not_after);
		nk_server_cred_free(&cr);
	}
	struct nk_cert_desc d;
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	assert_int_equal(nk_cert_describe(junk, sizeof junk, &d, &e), -1);
}

static void test_untrusted_usage(void **s)
{
	(void)s;
	assert_int_equal(chk("untrusted", "localhost", T_NOW, 0), NK_CERT_UNTRUSTED);
	assert_int_equal(chk("untrusted", NULL, T_NOW, 0), NK_CERT_UNTRUSTED);
	assert_int_equal(chk("clientauth", "localhost", T_NOW, 0), NK_CERT_BAD_USAGE);

	/* the untrusted root trusted in a second store: the same chain passes */
	struct nk_trust t2;
	struct nk_err e;
	struct nk_server_cred c;
	struct nk_certval_result res;
	nk_trust_init(&t2);
	assert_int_equal(nk_trust_load_file(&t2, P("untrusted-root.crt"), &e), 0);
	assert_int_equal(nk_server_cred_load(&c, P("untrusted.fullchain.pem"), P("untrusted.key"), &e), 0);
	const unsigned char *der[2] = { c.chain[0].data, c.chain[1].data };
	size_t len[2] = { c.chain[0].data_len, c.chain[1].data_len };
	struct nk_certval_opts o = { "localhost", T_NOW, 0 };
	assert_int_equal(nk_cert_validate(&t2, der, len, 2, &o, &res, &e), NK_CERT_OK);
	assert_int_equal(nk_cert_validate(&t2, der, len, 1, &o, &res, &e), NK_CERT_OK);
	assert_string_equal(res.issuer, "CN=ntskit untrusted root, O=elsewhere");
	/* but a good chain of the other PKI does not */
	nk_server_cred_free(&c);
	assert_int_equal(nk_server_cred_load(&c, P("ec256.fullchain.pem"), P("ec256.pkcs8.key"), &e), 0);
	der[0] = c.chain[0].data; der[1] = c.chain[1].data;
	len[0] = c.chain[0].data_len; len[1] = c.chain[1].data_len;
	assert_int_equal(nk_cert_validate(&t2, der, len, 2, &o, &res, &e), NK_CERT_UNTRUSTED);
	/* certificates after the one an anchor issued are not part of the path:
	 * an expired certificate appended there does not matter */
	{
		struct nk_server_cred x;
		assert_int_equal(nk_server_cred_load(&x, P("expired.fullchain.pem"), P("expired.key"), &e), 0);
		const unsigned char *d3[3] = { der[0], der[1], x.chain[0].data };
		size_t l3[3] = { len[0], len[1], x.chain[0].data_len };
		assert_int_equal(nk_cert_validate(&trust, d3, l3, 3, &o, &res, &e), NK_CERT_OK);
		/* but an expired leaf with a good chain after it is refused */
		d3[0] = x.chain[0].data;
		l3[0] = x.chain[0].data_len;
		assert_int_equal(nk_cert_validate(&trust, d3, l3, 3, &o, &res, &e), NK_CERT_EXPIRED);
		nk_server_cred_free(&x);
	}
	/* an empty store */
	struct nk_trust t0;
	nk_trust_init(&t0);
	assert_int_equal(nk_cert_validate(&t0, der, len, 2, &o, &res, &e), NK_CERT_UNTRUSTED);
	nk_server_cred_free(&c);
	nk_trust_free(&t2);
}

static void test_malformed(void **s)
{
	(void)s;
	struct nk_server_cred c;
	struct nk_certval_result res;
	struct nk_err e;
	static unsigned char buf[4096];
	assert_int_equal(nk_server_cred_load(&c, P("ec256.fullchain.pem"), P("ec256.pkcs8.key"), &e), 0);
	size_t l0 = c.chain[0].data_len;
	assert_true(l0 < sizeof buf);
	memcpy(buf, c.chain[0].data, l0);
	const unsigned char *der[2] = { buf, c.chain[1].data };
	size_t len[2] = { l0, c.chain[1].data_len };
	struct nk_certval_opts o = { "localhost", T_NOW, 0 };
	assert_int_equal(nk_cert_validate(&trust, der, len, 2, &o, &res, &e), NK_CERT_OK);
	assert_int_equal(nk_cert_validate(&trust, der, len, 0, &o, &res, &e), NK_CERT_MALFORMED);
	/* every truncation */
	for (size_t cut = 0; cut < l0; cut++) {
		len[0] = cut;
		assert_int_equal(nk_cert_validate(&trust, der, len, 2, &o, &res, &e), NK_CERT_MALFORMED);
	}
	len[0] = l0;
	/* a trailing byte */
	buf[l0] = 0;
	len[0] = l0 + 1;
	assert_int_equal(nk_cert_validate(&trust, der, len, 2, &o, &res, &e), NK_CERT_MALFORMED);
	len[0] = l0;
	/* every single-byte change is refused or, if harmless to the DER,
	 * caught by the signature; never accepted, never a crash */
	for (size_t i = 0; i < l0; i++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			buf[i] ^= (unsigned char)(1u << bit);
			enum nk_cert_status st = nk_cert_validate(&trust, der, len, 2, &o, &res, &e);
			if (st == NK_CERT_OK)
				fail_msg("byte %zu bit %u flipped: still accepted", i, bit);
			buf[i] ^= (unsigned char)(1u << bit);
		}
	}
	nk_server_cred_free(&c);
}

static void test_rfc8448_cert(void **s)
{
	(void)s;
	struct nk_trust t;
	struct nk_err e;
	struct nk_certval_result res;
	const unsigned char *der[1] = { rfc8448_cert };
	size_t len[1] = { sizeof rfc8448_cert };
	nk_trust_init(&t);
	assert_int_equal(nk_trust_add_der(&t, rfc8448_cert, sizeof rfc8448_cert, &e), 0);
	struct nk_certval_opts o = { NULL, T_RFC_NA - 86400 * 365, 0 };
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_OK);
	assert_string_equal(res.subject, "CN=rsa");
	assert_string_equal(res.issuer, "CN=rsa");
	assert_int_equal(res.not_before, T_RFC_NB);
	assert_int_equal(res.not_after, T_RFC_NA);
	assert_int_equal(res.leaf_key.key_type, BR_KEYTYPE_RSA);
	assert_int_equal(res.leaf_key.key.rsa.nlen, 128);
	assert_true(nk_tlssig_fits_pub(NK_SIG_RSA_PSS_RSAE_SHA256, &res.leaf_key));
	o.time = T_RFC_NA;
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_OK);
	o.time = T_RFC_NA + 1;
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_EXPIRED);
	printf("# rfc8448 cert after 2026-07-30: %s\n", e.msg);
	o.time = T_NOW;
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_EXPIRED);
	o.time = T_RFC_NB - 1;
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_NOT_YET_VALID);
	o.skip_window = 1;
	o.time = T_NOW;
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_OK);
	/* the certificate has no subjectAltName: any host name fails (no CN fallback) */
	o.host = "rsa";
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_BAD_NAME);
	/* not trusted by the test PKI's store */
	o.host = NULL;
	assert_int_equal(nk_cert_validate(&trust, der, len, 1, &o, &res, &e), NK_CERT_UNTRUSTED);
	nk_trust_free(&t);
}

static void test_trust_load(void **s)
{
	(void)s;
	struct nk_trust t;
	struct nk_err e;
	nk_trust_init(&t);
	assert_int_equal(nk_trust_load_file(&t, P("nonexistent.pem"), &e), -1);
	assert_non_null(strstr(e.msg, "nonexistent.pem"));
	assert_int_equal(nk_trust_load_file(&t, P("ec256.pkcs8.key"), &e), -1);
	assert_non_null(strstr(e.msg, "no usable certificate"));
	assert_int_equal(nk_trust_load_file(&t, P("ec256.fullchain.pem"), &e), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.ta[0].flags & BR_X509_TA_CA, 0);   /* the leaf */
	assert_int_equal(t.ta[1].flags & BR_X509_TA_CA, BR_X509_TA_CA);
	nk_trust_free(&t);
	if (access(NK_SYSTEM_CA_BUNDLE, R_OK) == 0) {
		assert_int_equal(nk_trust_load_file(&t, NK_SYSTEM_CA_BUNDLE, &e), 0);
		printf("# system bundle: %zu anchors\n", t.n);
		assert_true(t.n > 20);
		nk_trust_free(&t);
	}
	/* an intermediate as the only anchor: the leaf chains to it */
	assert_int_equal(nk_trust_load_file(&t, P("int.crt"), &e), 0);
	struct nk_server_cred c;
	struct nk_certval_result res;
	assert_int_equal(nk_server_cred_load(&c, P("rsa2048.fullchain.pem"), P("rsa2048.pkcs1.key"), &e), 0);
	const unsigned char *der[1] = { c.chain[0].data };
	size_t len[1] = { c.chain[0].data_len };
	struct nk_certval_opts o = { "nts.test", T_NOW, 0 };
	assert_int_equal(nk_cert_validate(&t, der, len, 1, &o, &res, &e), NK_CERT_OK);
	nk_server_cred_free(&c);
	nk_trust_free(&t);
}

/* Run a shell command, 0 when it exits 0. */
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static long read_bin(const char *path, void *p, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t n = fread(p, 1, cap, f);
	fclose(f);
	return (long)n;
}

static void test_server_cred(void **s)
{
	(void)s;
	static const uint16_t schemes[] = { NK_SIG_ECDSA_P256_SHA256, NK_SIG_ECDSA_P384_SHA384,
		NK_SIG_RSA_PSS_RSAE_SHA256, NK_SIG_RSA_PSS_RSAE_SHA384, NK_SIG_RSA_PSS_RSAE_SHA512 };
	static const char *sch_md[] = { "sha256", "sha384", "sha256", "sha384", "sha512" };
	static const char msg[] = "                                                                "
		"TLS 1.3, server CertificateVerify";
	char msgf[600], sigf[600], pubf[600];
	unsigned char sig[600];
	int have_openssl = sh("openssl version >/dev/null 2>&1") == 0;
	snprintf(msgf, sizeof msgf, "%s/sig.msg", pki);
	snprintf(sigf, sizeof sigf, "%s/sig.bin", pki);
	snprintf(pubf, sizeof pubf, "%s/sig.pub", pki);
	write_file(msgf, msg, sizeof msg - 1);
	for (size_t k = 0; k < 4; k++) {
		for (size_t f = 0; f < 2; f++) {
			struct nk_server_cred c;
			struct nk_err e;
			char chain[64];
			snprintf(chain, sizeof chain, "%s.fullchain.pem", kinds[k]);
			if (nk_server_cred_load(&c, P(chain), P(keyfile[k][f]), &e) != 0)
				fail_msg("%s: %s", keyfile[k][f], e.msg);
			assert_int_equal(c.chain_len, 2);
			assert_int_equal(c.key.key_type, k < 2 ? BR_KEYTYPE_EC : BR_KEYTYPE_RSA);
			int used = 0;
			for (size_t i = 0; i < 5; i++) {
				if (!nk_tlssig_fits_priv(schemes[i], &c.key)) {
					assert_false(nk_tlssig_fits_pub(schemes[i], &c.leaf_key));
					continue;
				}
				used++;
				long n = nk_tlssig_sign(schemes[i], &c.key, msg, sizeof msg - 1, sig, sizeof sig);
				assert_true(n > 0);
				assert_int_equal(nk_tlssig_verify(schemes[i], &c.leaf_key, msg, sizeof msg - 1, sig, (size_t)n), 0);
				if (!have_openssl || f == 0)
					continue;
				/* OpenSSL verifies our signature, and we verify OpenSSL's */
				int pss = schemes[i] >= 0x0804;
				const char *opt = pss ? "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt rsa_mgf1_md:" : "";
				const char *mgf = pss ? sch_md[i] : "";
				write_file(sigf, sig, (size_t)n);
				assert_int_equal(sh("openssl pkey -in '%s' -pubout -out '%s' 2>/dev/null", P(keyfile[k][f]), pubf), 0);
				if (sh("openssl dgst -%s %s%s -verify '%s' -signature '%s' '%s' >/dev/null 2>&1",
					sch_md[i], opt, mgf, pubf, sigf, msgf) != 0)
					fail_msg("openssl refused our %s signature (%s)", nk_tlssig_name(schemes[i]), kinds[k]);
				assert_int_equal(sh("openssl dgst -%s %s%s -sign '%s' -out '%s' '%s' 2>/dev/null",
					sch_md[i], opt, mgf, P(keyfile[k][f]), sigf, msgf), 0);
				long sl = read_bin(sigf, sig, sizeof sig);
				assert_true(sl > 0);
				if (nk_tlssig_verify(schemes[i], &c.leaf_key, msg, sizeof msg - 1, sig, (size_t)sl) != 0)
					fail_msg("we refused OpenSSL's %s signature (%s)", nk_tlssig_name(schemes[i]), kinds[k]);
				printf("# %s %s: interoperates with openssl both ways\n", kinds[k], nk_tlssig_name(schemes[i]));
			}
			assert_true(used >= 1);
			nk_server_cred_free(&c);
		}
	}
}

static void test_server_cred_refusals(void **s)
{
	(void)s;
	struct nk_server_cred c;
	struct nk_err e;
	/* key of another certificate: same type and curve, other type, other size */
	static const char *bad[][2] = {
		{ "ec256.fullchain.pem", "expired.key" },
		{ "ec256.fullchain.pem", "ec384.sec1.key" },
		{ "ec384.fullchain.pem", "ec256.pkcs8.key" },
		{ "rsa2048.fullchain.pem", "rsa4096.pkcs1.key" },
		{ "rsa4096.fullchain.pem", "rsa2048.pkcs8.key" },
		{ "ec256.fullchain.pem", "rsa2048.pkcs8.key" },
		{ "rsa2048.fullchain.pem", "ec256.sec1.key" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(nk_server_cred_load(&c, P(bad[i][0]), P(bad[i][1]), &e), -1);
		printf("# %s + %s: %s\n", bad[i][0], bad[i][1], e.msg);
		assert_non_null(strstr(e.msg, "does not match"));
	}
	assert_int_equal(nk_server_cred_load(&c, P("nope.pem"), P("ec256.sec1.key"), &e), -1);
	assert_non_null(strstr(e.msg, "nope.pem"));
	assert_int_equal(nk_server_cred_load(&c, P("ec256.fullchain.pem"), P("nope.key"), &e), -1);
	assert_non_null(strstr(e.msg, "nope.key"));
	assert_int_equal(nk_server_cred_load(&c, P("ec256.fullchain.pem"), P("ec256.crt"), &e), -1);
	assert_non_null(strstr(e.msg, "no private key"));
	assert_int_equal(nk_server_cred_load(&c, P("ec256.sec1.key"), P("ec256.sec1.key"), &e), -1);
	assert_non_null(strstr(e.msg, "no certificate"));
	/* garbage and encrypted keys */
	char junk[600], enc[600];
	snprintf(junk, sizeof junk, "%s/junk.pem", pki);
	snprintf(enc, sizeof enc, "%s/enc.key", pki);
	write_file(junk, "-----BEGIN PRIVATE KEY-----\nAAAA!!!!\n-----END PRIVATE KEY-----\n", 61);
	assert_int_equal(nk_server_cred_load(&c, P("ec256.fullchain.pem"), junk, &e), -1);
	printf("# junk key: %s\n", e.msg);
	write_file(junk, "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n", 62);
	assert_int_equal(nk_server_cred_load(&c, P("ec256.fullchain.pem"), junk, &e), -1);
	printf("# bad DER key: %s\n", e.msg);
	if (sh("openssl pkey -in '%s' -aes128 -passout pass:x -out '%s' 2>/dev/null", P("ec256.pkcs8.key"), enc) == 0) {
		assert_int_equal(nk_server_cred_load(&c, P("ec256.fullchain.pem"), enc, &e), -1);
		assert_non_null(strstr(e.msg, "encrypted"));
	}
}

/* Validate NAME.fullchain.pem at T_NOW against store t (NULL: the test root);
 * the error line is copied to msg. */
static enum nk_cert_status chk_in(const struct nk_trust *t, const char *name, const char *host,
	char *msg, size_t cap)
{
	struct nk_server_cred c;
	struct nk_certval_result res;
	struct nk_err e = { "" }, le;
	char chain[96], key[96];
	snprintf(chain, sizeof chain, "%s.fullchain.pem", name);
	snprintf(key, sizeof key, "%s.key", name);
	if (access(P(key), R_OK) != 0)
		snprintf(key, sizeof key, "%s.pkcs8.key", name);
	if (nk_server_cred_load(&c, P(chain), P(key), &le) != 0)
		fail_msg("loading %s: %s", chain, le.msg);
	const unsigned char *der[NK_CHAIN_MAX];
	size_t len[NK_CHAIN_MAX];
	for (size_t i = 0; i < c.chain_len; i++) {
		der[i] = c.chain[i].data;
		len[i] = c.chain[i].data_len;
	}
	struct nk_certval_opts o = { host, T_NOW, 0 };
	enum nk_cert_status st = nk_cert_validate(t ? t : &trust, der, len, c.chain_len, &o, &res, &e);
	nk_server_cred_free(&c);
	snprintf(msg, cap, "%s", st == NK_CERT_OK ? "" : e.msg);
	printf("# %s host=%s: %s%s%s\n", name, host ? host : "-", nk_cert_status_str(st),
		st == NK_CERT_OK ? "" : ": ", msg);
	return st;
}

/* Expect status st and, unless NULL, a message containing want. */
#define EXPECT(t, name, host, st, want) do { \
		char m_[512]; \
		assert_int_equal(chk_in((t), (name), (host), m_, sizeof m_), (st)); \
		if ((want) != NULL && strstr(m_, (want) ? (want) : "") == NULL) \
			fail_msg("%s: message \"%s\" lacks \"%s\"", (name), m_, (want) ? (want) : ""); \
	} while (0)

static void load_store(struct nk_trust *t, const char *file)
{
	struct nk_err e;
	nk_trust_init(t);
	if (nk_trust_load_file(t, P(file), &e) != 0)
		fail_msg("%s", e.msg);
}

/* Item 9: SHA-1 (or MD5) signatures refused on every certificate whose
 * signature is checked; a self-signed anchor's own SHA-1 signature is not. */
static void test_weak_signatures(void **s)
{
	(void)s;
	EXPECT(NULL, "sha1leaf", "localhost", NK_CERT_UNSUPPORTED, "certificate 1 (leaf) signed with SHA-1: refused");
	EXPECT(NULL, "sha1leaf", NULL, NK_CERT_UNSUPPORTED, "signed with SHA-1");
	EXPECT(NULL, "sha1int-leaf", "localhost", NK_CERT_UNSUPPORTED,
		"certificate 2 (intermediate) signed with SHA-1: refused");
	EXPECT(NULL, "ec256", "localhost", NK_CERT_OK, NULL);
	struct nk_trust t;
	load_store(&t, "sha1root.crt");
	EXPECT(&t, "sha1root-leaf", "localhost", NK_CERT_OK, NULL);
	nk_trust_free(&t);
}

/* Item 10: RSA keys under 2048 bits in the leaf, an intermediate, or the
 * anchor that verifies the top signature. */
static void test_weak_rsa(void **s)
{
	(void)s;
	EXPECT(NULL, "rsa1024", "localhost", NK_CERT_UNSUPPORTED,
		"certificate 1 (leaf) has a 1024-bit RSA key: refused");
	EXPECT(NULL, "rsa1024int-leaf", "localhost", NK_CERT_UNSUPPORTED,
		"certificate 2 (intermediate) has a 1024-bit RSA key: refused");
	EXPECT(NULL, "rsa2048", "localhost", NK_CERT_OK, NULL);
	struct nk_trust t;
	load_store(&t, "weakroot.crt");
	EXPECT(&t, "weakroot-leaf", "localhost", NK_CERT_UNSUPPORTED, "has a 1024-bit RSA key: refused");
	EXPECT(&t, "weakroot-leaf", "localhost", NK_CERT_UNSUPPORTED, "trust anchor");
	nk_trust_free(&t);
}

/* Item 12: a CA certificate as the leaf; an intermediate whose extKeyUsage
 * lacks serverAuth (anyExtendedKeyUsage alone is not enough). */
static void test_ca_leaf_int_eku(void **s)
{
	(void)s;
	EXPECT(NULL, "caleaf", "localhost", NK_CERT_BAD_USAGE, "certificate 1 (leaf) is a CA certificate");
	EXPECT(NULL, "ekuint-leaf", "localhost", NK_CERT_BAD_USAGE,
		"certificate 2 (intermediate) extKeyUsage does not include serverAuth: refused");
	EXPECT(NULL, "anyekuint-leaf", "localhost", NK_CERT_BAD_USAGE,
		"certificate 2 (intermediate) extKeyUsage does not include serverAuth");
	EXPECT(NULL, "srvekuint-leaf", "localhost", NK_CERT_OK, NULL);
}

/* Item 11: nameConstraints (dNSName, iPAddress), critical or not, in
 * intermediates and in the trust anchor. */
static void test_name_constraints(void **s)
{
	(void)s;
	/* non-critical: enforced */
	EXPECT(NULL, "ncint-in", "nts.test", NK_CERT_OK, NULL);
	EXPECT(NULL, "ncint-in", "a.nts.test", NK_CERT_OK, NULL);
	EXPECT(NULL, "ncint-out", "nts.test", NK_CERT_BAD_NAME,
		"DNS name localhost of certificate 1 (leaf) is outside the permitted names of certificate 2 (intermediate)");
	EXPECT(NULL, "ncint-out", NULL, NK_CERT_BAD_NAME, "outside the permitted names");
	/* critical: understood, and enforced */
	EXPECT(NULL, "nccint-in", "nts.test", NK_CERT_OK, NULL);
	EXPECT(NULL, "nccint-in", "A.NTS.TEST.", NK_CERT_OK, NULL);
	EXPECT(NULL, "nccint-out", "nts.test", NK_CERT_BAD_NAME, "outside the permitted names");
	EXPECT(NULL, "nccint-out", "localhost", NK_CERT_BAD_NAME, "outside the permitted names");
	/* a critically constrained CA with another intermediate above it: the
	 * chain is cut there, and the CA checks BearSSL then cannot make (path
	 * length counted from the leaf) are made by tlscert */
	EXPECT(NULL, "nccint2-in", "a.nts.test", NK_CERT_OK, NULL);
	EXPECT(NULL, "nccint2-out", "nts.test", NK_CERT_BAD_NAME, "outside the permitted names of certificate 2");
	EXPECT(NULL, "nccint3-in", "nts.test", NK_CERT_BAD_USAGE, "certificate 3 allows 0 intermediate(s) below it");
	/* excluded wins; an IP type with no subtree of the address's family */
	EXPECT(NULL, "ncxint-in", "nts.test", NK_CERT_OK, NULL);
	EXPECT(NULL, "ncxint-in", "127.0.0.1", NK_CERT_OK, NULL);
	EXPECT(NULL, "ncxint-out", "nts.test", NK_CERT_BAD_NAME, "DNS name localhost of certificate 1 (leaf) is in the excluded names");
	EXPECT(NULL, "ncxint-ip", "nts.test", NK_CERT_BAD_NAME, "IP address ::1 of certificate 1 (leaf) is outside the permitted names");
	/* *.nts.test may name bad.nts.test, which is excluded */
	EXPECT(NULL, "ncxint-wild", "a.nts.test", NK_CERT_BAD_NAME, "DNS name *.nts.test");
	/* unsupported forms in a critical extension */
	EXPECT(NULL, "ncdint-leaf", "localhost", NK_CERT_UNSUPPORTED, "directoryName");
	/* the trust anchor's own constraints */
	struct nk_trust t;
	load_store(&t, "ncroot.crt");
	EXPECT(&t, "ncroot-in", "nts.test", NK_CERT_OK, NULL);
	EXPECT(&t, "ncroot-out", "nts.test", NK_CERT_BAD_NAME, "outside the permitted names of the trust anchor");
	nk_trust_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_chains),
		cmocka_unit_test(test_expired_notyet),
		cmocka_unit_test(test_skip_window),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_untrusted_usage),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_rfc8448_cert),
		cmocka_unit_test(test_trust_load),
		cmocka_unit_test(test_server_cred),
		cmocka_unit_test(test_server_cred_refusals),
		cmocka_unit_test(test_weak_signatures),
		cmocka_unit_test(test_weak_rsa),
		cmocka_unit_test(test_ca_leaf_int_eku),
		cmocka_unit_test(test_name_constraints),
	};
	return cmocka_run_group_tests_name("tlscert", tests, setup, teardown);
}
