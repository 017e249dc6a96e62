/*
 * TLS 1.3 client (RFC 8446), following the state machine of Appendix A.1:
 *
 *                            START <----+
 *             Send ClientHello |        | Recv HelloRetryRequest
 *                              v        |
 *                           WAIT_SH ----+
 *                              | Recv ServerHello, K_recv = handshake
 *                              v
 *                           WAIT_EE
 *                              | Recv EncryptedExtensions
 *                              v
 *                         WAIT_CERT_CR
 *                              | Recv Certificate
 *                              v
 *                           WAIT_CV
 *                              | Recv CertificateVerify
 *                              v
 *                         WAIT_FINISHED
 *                              | Recv Finished
 *                              | Send Finished, K_send = K_recv = application
 *                              v
 *                          CONNECTED
 *
 * One function per message. Every length is checked before it is used.
 */
#include "tls13.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ec.h"
#include "hkdf.h"
#include "ct.h"
#include "tls13_int.h"

const unsigned char nk_tls13_i_hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

static const uint16_t default_suites[] = {
	NK_TLS_AES_128_GCM_SHA256, NK_TLS_AES_256_GCM_SHA384, NK_TLS_CHACHA20_POLY1305_SHA256
};
static const uint16_t default_groups[] = {
	NK_TLS_GROUP_X25519, NK_TLS_GROUP_SECP256R1, NK_TLS_GROUP_SECP384R1
};
static const uint16_t default_sigs[] = {
	NK_SIG_ECDSA_P256_SHA256, NK_SIG_ECDSA_P384_SHA384,
	NK_SIG_RSA_PSS_RSAE_SHA256, NK_SIG_RSA_PSS_RSAE_SHA384, NK_SIG_RSA_PSS_RSAE_SHA512
};

const char *nk_tls13_alert_name(int a)
{
	switch (a) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	}
	return "unknown_alert";
}

const char *nk_tls13_group_name(uint16_t g)
{
	switch (g) {
	case NK_TLS_GROUP_X25519: return "x25519";
	case NK_TLS_GROUP_SECP256R1: return "secp256r1";
	case NK_TLS_GROUP_SECP384R1: return "secp384r1";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- helpers */

void say(struct nk_tls13 *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (c->cfg.explain == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->cfg.explain(c->cfg.explain_arg, line);
}

/* --------------------------------------------------------------- failures */


/* Fatal error: send 'alert', remember why, state FAILED. Returns -1. */
int fail(struct nk_tls13 *c, int alert, const char *fmt, ...)
{
	char m[200];
	va_list ap;

	if (c->state == NK_C_FAILED)
		return -1;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	nk_errf(&c->err, "TLS: %s (alert %s sent)", m, nk_tls13_alert_name(alert));
	say(c, "error: %s; sending alert %s", m, nk_tls13_alert_name(alert));
	queue_alert(c, 2, alert);
	c->alert_sent = alert;
	c->state = NK_C_FAILED;
	nk_tlsks_wipe(&c->ks);
	nk_wipe(c->share_sk, sizeof c->share_sk);
	nk_wipe(c->hs, sizeof c->hs);
	c->hs_len = 0;
	c->app_len = 0;
	return -1;
}

/* ----------------------------------------------------------- record output */

/* Append one record with 'type' and content; protected when keys are set. */
int send_record(struct nk_tls13 *c, unsigned type, const void *data, size_t len)
{
	unsigned char *o = c->out + c->out_len;
	size_t cap = sizeof c->out - c->out_len;

	if (c->wr.active && type != NK_CT_CHANGE_CIPHER_SPEC) {
		long n = nk_tlsrec_seal(&c->wr, type, data, len, 0, o, cap);
		if (n < 0)
			return -1;
		c->out_len += (size_t)n;
		return 0;
	}
	if (len > NK_TLS_MAX_PLAIN || cap < NK_TLS_REC_HDR + len)
		return -1;
	o[0] = (unsigned char)type;
	o[1] = 3;
	o[2] = 3;
	o[3] = (unsigned char)(len >> 8);
	o[4] = (unsigned char)len;
	memmove(o + NK_TLS_REC_HDR, data, len);
	c->out_len += NK_TLS_REC_HDR + len;
	return 0;
}

void queue_alert(struct nk_tls13 *c, int level, int desc)
{
	unsigned char a[2] = { (unsigned char)level, (unsigned char)desc };

	(void)send_record(c, NK_CT_ALERT, a, 2);
}

/* Send a handshake message (type, body) and add it to the transcript.
 * Messages we send are small: one record. */
int send_handshake(struct nk_tls13 *c, unsigned type, const void *body, size_t len)
{
	unsigned char m[4 + 512];

	if (len > sizeof m - 4)
		return -1;
	m[0] = (unsigned char)type;
	m[1] = (unsigned char)(len >> 16);
	m[2] = (unsigned char)(len >> 8);
	m[3] = (unsigned char)len;
	memcpy(m + 4, body, len);
	nk_tlsks_add(&c->ks, m, 4 + len);
	return send_record(c, NK_CT_HANDSHAKE, m, 4 + len);
}

/* -------------------------------------------------------------- key shares */

int group_curve(uint16_t g)
{
	switch (g) {
	case NK_TLS_GROUP_X25519: return BR_EC_curve25519;
	case NK_TLS_GROUP_SECP256R1: return BR_EC_secp256r1;
	case NK_TLS_GROUP_SECP384R1: return BR_EC_secp384r1;
	}
	return -1;
}

/* Make a key share for group g; its public value goes to pub (returns length, 0 on error). */
size_t make_share(struct nk_tls13 *c, uint16_t g, unsigned char *pub)
{
	const br_ec_impl *ec = &nk_ec_all;
	int curve = group_curve(g);

	if (curve < 0)
		return 0;
	c->share_group = g;
	if (g == NK_TLS_GROUP_X25519 && c->cfg.test_x25519_key != NULL) {
		/* BearSSL's c25519 takes the scalar in RFC 7748 byte order */
		memcpy(c->share_sk, c->cfg.test_x25519_key, 32);
		c->share_sk_len = 32;
	} else if (g == NK_TLS_GROUP_X25519) {
		/* RFC 7748 §6.1: the private key is 32 random bytes, all 256
		 * bits of them; the clamping of §5 (decodeScalar25519) is done
		 * where the RFC does it, when the scalar is used (nk_x25519,
		 * nk_x25519_base). Not br_ec_keygen: it reads the order as a
		 * big-endian number and masks the first byte to 0x7f, which
		 * for X25519's little-endian scalar is the least significant
		 * byte (bit 7 of byte 0 always clear: 250 effective bits). */
		br_hmac_drbg_generate(&c->rng, c->share_sk, 32);
		c->share_sk_len = 32;
	} else {
		/* NIST curves: a private key uniform in [1, n-1] by rejection
		 * sampling, as br_ec_keygen does (random bytes of the order's
		 * length, the top byte masked to the order's top bit, retried
		 * when 0 or >= n), but compared with n in constant time: whether
		 * a candidate was rejected is the one public branch (it says
		 * nothing about the key kept). */
		size_t olen;
		const unsigned char *order = ec->order(curve, &olen);
		unsigned top;

		if (olen == 0 || olen > sizeof c->share_sk)
			return 0;
		top = order[0];
		top |= top >> 1;
		top |= top >> 2;
		top |= top >> 4;
		for (;;) {
			uint32_t borrow = 0, nz = 0, retry;

			br_hmac_drbg_generate(&c->rng, c->share_sk, olen);
			c->share_sk[0] &= (unsigned char)top;
			for (size_t i = olen; i-- > 0;) {
				borrow = ((uint32_t)c->share_sk[i] - order[i] - borrow) >> 31;
				nz |= c->share_sk[i];
			}
			/* retry unless 0 < k < n (the subtraction k - n borrowed) */
			retry = (borrow ^ 1) | (nk_ct_mask_eq(nz, 0) & 1);
			NK_CT_PUBLIC(&retry, sizeof retry);
			if (!retry)
				break;
		}
		c->share_sk_len = olen;
	}
	return ec->mulgen(pub, c->share_sk, c->share_sk_len, curve);
}

/* (EC)DHE shared secret (§7.4): X25519 output, or the x-coordinate for NIST
 * curves. The point is computed in the caller's ss (BR_EC_KBUF_PUB_MAX_SIZE
 * bytes), nowhere else. On any error ss is wiped whole: BearSSL computes
 * and writes a "product" even for a point that is not on the curve, and an
 * all-zero X25519 output is refused. Our private key is wiped either way. */
int ecdhe(struct nk_tls13 *c, const unsigned char *peer, size_t plen,
	unsigned char *ss, size_t *ss_len)
{
	const br_ec_impl *ec = &nk_ec_all;
	int curve = group_curve(c->share_group);
	size_t want = c->share_group == NK_TLS_GROUP_X25519 ? 32 :
		c->share_group == NK_TLS_GROUP_SECP256R1 ? 65 : 97;
	unsigned char z = 0;
	uint32_t ok = 0;

	*ss_len = 0;
	if (curve >= 0 && plen == want && (want == 32 || peer[0] == 0x04)) {
		memcpy(ss, peer, plen);
		ok = ec->mul(ss, plen, c->share_sk, c->share_sk_len, curve);
		if (want == 32) {
			/* §7.4.2: an all-zero X25519 output MUST be refused. */
			for (int i = 0; i < 32; i++)
				z |= ss[i];
			ok &= z != 0;
		}
	}
	nk_wipe(c->share_sk, sizeof c->share_sk);
	/* deliberate public branch: refusing an invalid share or the all-zero
	 * X25519 result ends the handshake */
	NK_CT_PUBLIC(&ok, sizeof ok);
	if (!ok) {
		nk_wipe(ss, BR_EC_KBUF_PUB_MAX_SIZE);
		return -1;
	}
	if (want == 32) {
		*ss_len = 32;
	} else {
		*ss_len = (want - 1) / 2;
		memmove(ss, ss + 1, *ss_len);
		nk_wipe(ss + *ss_len, BR_EC_KBUF_PUB_MAX_SIZE - *ss_len);
	}
	return 0;
}

/* ------------------------------------------------------------- ClientHello */

static int is_ip_literal(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/*
 * §4.1.2:
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;
 *       opaque legacy_session_id<0..32>;
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       opaque legacy_compression_methods<1..2^8-1>;
 *       Extension extensions<8..2^16-1>;
 *   } ClientHello;
 * 'cookie' is the HelloRetryRequest's cookie extension body (or NULL).
 */
static int send_client_hello(struct nk_tls13 *c, const unsigned char *cookie, size_t cookie_len)
{
	unsigned char body[512 + 4], pub[BR_EC_KBUF_PUB_MAX_SIZE];
	struct wr w = { body, 0, sizeof body - 4, 0 };
	int rfc8448 = (c->cfg.test_flags & NK_TLS13_TEST_RFC8448) != 0;
	size_t at, at2, publen, i;

	if (c->share_pub_len == 0)
		c->share_pub_len = make_share(c, c->share_group, c->share_pub);
	publen = c->share_pub_len;
	memcpy(pub, c->share_pub, publen);
	if (publen == 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "cannot make a %s key share",
			nk_tls13_group_name(c->share_group));
	wr_u16(&w, 0x0303);
	wr_bytes(&w, c->random, 32);
	wr_u8(&w, (unsigned)c->session_id_len);
	wr_bytes(&w, c->session_id, c->session_id_len);
	at = wr_begin(&w, 2);
	for (i = 0; i < c->n_suites; i++)
		wr_u16(&w, c->suites[i]);
	wr_end(&w, at, 2);
	wr_u8(&w, 1);
	wr_u8(&w, 0);               /* legacy_compression_methods = { null } */
	at = wr_begin(&w, 2);       /* extensions */
	if (c->sni_sent) {
		/* RFC 6066 §3: ServerNameList with one host_name */
		size_t sl = strlen(c->sni);
		wr_u16(&w, EXT_SERVER_NAME);
		wr_u16(&w, (unsigned)(sl + 5));
		wr_u16(&w, (unsigned)(sl + 3));
		wr_u8(&w, 0);
		wr_u16(&w, (unsigned)sl);
		wr_bytes(&w, c->sni, sl);
	}
	if (rfc8448) {
		wr_u16(&w, EXT_RENEGOTIATION_INFO);
		wr_u16(&w, 1);
		wr_u8(&w, 0);
	}
	wr_u16(&w, EXT_SUPPORTED_GROUPS);
	wr_u16(&w, (unsigned)(2 + 2 * c->n_groups));
	wr_u16(&w, (unsigned)(2 * c->n_groups));
	for (i = 0; i < c->n_groups; i++)
		wr_u16(&w, c->groups[i]);
	if (rfc8448) {
		wr_u16(&w, EXT_SESSION_TICKET);
		wr_u16(&w, 0);
	}
	if (c->cfg.alpn != NULL) {
		/* RFC 7301 §3.1: ProtocolNameList */
		size_t al = strlen(c->cfg.alpn);
		wr_u16(&w, EXT_ALPN);
		wr_u16(&w, (unsigned)(al + 3));
		wr_u16(&w, (unsigned)(al + 1));
		wr_u8(&w, (unsigned)al);
		wr_bytes(&w, c->cfg.alpn, al);
	}
	/* §4.2.8: KeyShareClientHello { KeyShareEntry client_shares<0..2^16-1>; } */
	wr_u16(&w, EXT_KEY_SHARE);
	wr_u16(&w, (unsigned)(publen + 6));
	wr_u16(&w, (unsigned)(publen + 4));
	wr_u16(&w, c->share_group);
	wr_u16(&w, (unsigned)publen);
	wr_bytes(&w, pub, publen);
	/* §4.2.1: supported_versions = { 0x0304 } only */
	wr_u16(&w, EXT_SUPPORTED_VERSIONS);
	wr_u16(&w, 3);
	wr_u8(&w, 2);
	wr_u16(&w, 0x0304);
	wr_u16(&w, EXT_SIGNATURE_ALGORITHMS);
	wr_u16(&w, (unsigned)(2 + 2 * c->n_sigs));
	wr_u16(&w, (unsigned)(2 * c->n_sigs));
	for (i = 0; i < c->n_sigs; i++)
		wr_u16(&w, c->sigs[i]);
	if (cookie != NULL) {
		/* §4.2.2: echo the HRR's cookie: struct { opaque cookie<1..2^16-1>; } Cookie; */
		wr_u16(&w, EXT_COOKIE);
		at2 = wr_begin(&w, 2);
		wr_u16(&w, (unsigned)cookie_len);
		wr_bytes(&w, cookie, cookie_len);
		wr_end(&w, at2, 2);
	}
	if ((c->cfg.test_flags & NK_TLS13_TEST_EARLY_DATA) && !c->hrr_done) {
		/* §4.2.10: early_data in the first ClientHello only */
		wr_u16(&w, EXT_EARLY_DATA);
		wr_u16(&w, 0);
	}
	if (rfc8448) {
		wr_u16(&w, EXT_PSK_KEY_EXCHANGE_MODES);
		wr_u16(&w, 2);
		wr_u8(&w, 1);
		wr_u8(&w, 1);            /* psk_dhe_ke */
		wr_u16(&w, EXT_RECORD_SIZE_LIMIT);
		wr_u16(&w, 2);
		wr_u16(&w, 0x4001);
	}
	wr_end(&w, at, 2);
	nk_wipe(pub, sizeof pub);
	if (w.overflow)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "ClientHello does not fit (cookie of %zu bytes?)",
			cookie_len);
	if (send_handshake(c, HS_CLIENT_HELLO, body, w.len) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "output buffer full");
	if (!c->hrr_done) {
		/* the very first record may carry legacy_record_version 0x0301 (§5.1) */
		c->out[1] = 3;
		c->out[2] = 1;
	}
	say(c, "-> ClientHello: TLS 1.3, %zu suites, key share %s, groups %zu, SNI %s, ALPN %s%s",
		c->n_suites, nk_tls13_group_name(c->share_group), c->n_groups,
		c->sni_sent ? c->sni : "(none)", c->cfg.alpn ? c->cfg.alpn : "(none)",
		cookie ? ", cookie echoed" : "");
	return 0;
}

int nk_tls13_client_init(struct nk_tls13 *c, const struct nk_tls13_config *cfg, struct nk_err *e)
{
	unsigned char seed[48];
	size_t i;

	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	c->alert_sent = c->alert_rcvd = -1;
	if (cfg->trust == NULL) {
		nk_errf(e, "TLS: no trust store given");
		return -1;
	}
	if (cfg->suites == NULL) {
		c->cfg.suites = default_suites;
		c->cfg.n_suites = 3;
	}
	if (cfg->groups == NULL) {
		c->cfg.groups = default_groups;
		c->cfg.n_groups = 3;
	}
	if (cfg->sigs == NULL) {
		c->cfg.sigs = default_sigs;
		c->cfg.n_sigs = 5;
	}
	if (c->cfg.n_suites == 0 || c->cfg.n_suites > NK_TLS13_MAX_SUITES ||
	    c->cfg.n_groups == 0 || c->cfg.n_groups > NK_TLS13_MAX_GROUPS ||
	    c->cfg.n_sigs == 0 || c->cfg.n_sigs > NK_TLS13_MAX_SIGS) {
		nk_errf(e, "TLS: bad number of suites, groups or signature schemes");
		return -1;
	}
	for (i = 0; i < c->cfg.n_suites; i++) {
		if (nk_tlsrec_suite_hash(c->cfg.suites[i]) == NULL) {
			nk_errf(e, "TLS: unsupported cipher suite 0x%04x", c->cfg.suites[i]);
			return -1;
		}
		c->suites[i] = c->cfg.suites[i];
	}
	c->n_suites = c->cfg.n_suites;
	memcpy(c->groups, c->cfg.groups, c->cfg.n_groups * 2);
	c->n_groups = c->cfg.n_groups;
	memcpy(c->sigs, c->cfg.sigs, c->cfg.n_sigs * 2);
	c->n_sigs = c->cfg.n_sigs;
	if (group_curve(c->groups[0]) < 0) {
		nk_errf(e, "TLS: unsupported group 0x%04x for the key share", c->groups[0]);
		return -1;
	}
	c->share_group = c->groups[0];
	if (cfg->alpn != NULL && (strlen(cfg->alpn) == 0 || strlen(cfg->alpn) > 255)) {
		nk_errf(e, "TLS: ALPN protocol name must be 1 to 255 bytes");
		return -1;
	}
	if (cfg->alpn == NULL && cfg->alpn_required) {
		nk_errf(e, "TLS: ALPN required but none configured");
		return -1;
	}
	if (cfg->server_name != NULL) {
		size_t sl = strlen(cfg->server_name);
		if (sl == 0 || sl >= sizeof c->sni) {
			nk_errf(e, "TLS: server name must be 1 to 255 bytes");
			return -1;
		}
		memcpy(c->sni, cfg->server_name, sl + 1);
		/* RFC 6066 §3: literal IP addresses are not permitted in SNI */
		c->sni_sent = !is_ip_literal(c->sni);
		c->cfg.server_name = c->sni;
	}
	if (nk_random(seed, sizeof seed) < 0) {
		nk_errf(e, "TLS: getrandom failed");
		return -1;
	}
	br_hmac_drbg_init(&c->rng, &br_sha256_vtable, seed, sizeof seed);
	nk_wipe(seed, sizeof seed);
	if (cfg->test_random != NULL)
		memcpy(c->random, cfg->test_random, 32);
	else
		br_hmac_drbg_generate(&c->rng, c->random, 32);
	if (cfg->test_flags & NK_TLS13_TEST_RFC8448) {
		c->session_id_len = 0;
	} else {
		/* §D.4 middlebox compatibility mode: a non-empty legacy_session_id */
		br_hmac_drbg_generate(&c->rng, c->session_id, 32);
		c->session_id_len = 32;
	}
	nk_tlsks_init(&c->ks);
	c->state = NK_C_WAIT_SH;
	if (send_client_hello(c, NULL, 0) < 0) {
		nk_errf(e, "%s", c->err.msg);
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------- ServerHello and HRR */

static int offered_suite(const struct nk_tls13 *c, unsigned s)
{
	for (size_t i = 0; i < c->n_suites; i++)
		if (c->suites[i] == s)
			return 1;
	return 0;
}

static int offered_group(const struct nk_tls13 *c, unsigned g)
{
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == g && group_curve((uint16_t)g) >= 0)
			return 1;
	return 0;
}

static int offered_sig(const struct nk_tls13 *c, unsigned s)
{
	for (size_t i = 0; i < c->n_sigs; i++)
		if (c->sigs[i] == s)
			return 1;
	return 0;
}

/*
 * §4.1.3:
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;
 *       opaque legacy_session_id_echo<0..32>;
 *       CipherSuite cipher_suite;
 *       uint8 legacy_compression_method = 0;
 *       Extension extensions<6..2^16-1>;
 *   } ServerHello;
 * The same structure with the special random is a HelloRetryRequest.
 */
static int recv_server_hello(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	struct rd r = { msg + 4, len - 4 }, sid, exts;
	const unsigned char *random, *share = NULL, *cookie = NULL;
	unsigned version, suite, comp, sv = 0, hrr_group = 0;
	size_t share_len = 0, cookie_len = 0;
	int is_hrr, seen_sv = 0, seen_ks = 0, seen_cookie = 0;
	unsigned char ss[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t ss_len;

	if (rd_u16(&r, &version) < 0 || rd_bytes(&r, 32, &random) < 0 ||
	    rd_vec(&r, 1, 0, 32, &sid) < 0 || rd_u16(&r, &suite) < 0 || rd_u8(&r, &comp) < 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "ServerHello is truncated");
	is_hrr = memcmp(random, nk_tls13_i_hrr_random, 32) == 0;
	/* Appendix D.5: a legacy_version of 0x0300 (SSL 3.0) or less is
	 * protocol_version, whatever supported_versions says */
	if (version <= 0x0300)
		return fail(c, NK_ALERT_PROTOCOL_VERSION, "%s legacy_version is 0x%04x (SSL 3.0 or older)",
			is_hrr ? "HelloRetryRequest" : "ServerHello", version);
	if (r.n == 0) {
		/* no extensions at all: TLS 1.2 or older */
		return fail(c, NK_ALERT_PROTOCOL_VERSION,
			"server chose a TLS version before 1.3 (version 0x%04x, no supported_versions)", version);
	}
	if (rd_vec(&r, 2, 0, 0xffff, &exts) < 0 || r.n != 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "ServerHello extensions are malformed");
	/* §4.1.3/§4.2.1: without supported_versions this is a TLS 1.2 (or
	 * older) ServerHello, whatever else it carries */
	{
		struct rd scan = exts;
		int found = 0;
		while (scan.n > 0) {
			unsigned type;
			struct rd body;
			if (rd_u16(&scan, &type) < 0 || rd_vec(&scan, 2, 0, 0xffff, &body) < 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "ServerHello extension is malformed");
			found |= type == EXT_SUPPORTED_VERSIONS;
		}
		if (!found)
			return fail(c, NK_ALERT_PROTOCOL_VERSION,
				"server chose a TLS version before 1.3 (version 0x%04x, no supported_versions)",
				version);
	}
	while (exts.n > 0) {
		unsigned type;
		struct rd body;

		if (rd_u16(&exts, &type) < 0 || rd_vec(&exts, 2, 0, 0xffff, &body) < 0)
			return fail(c, NK_ALERT_DECODE_ERROR, "ServerHello extension is malformed");
		switch (type) {
		case EXT_SUPPORTED_VERSIONS:
			if (seen_sv++ || rd_u16(&body, &sv) < 0 || body.n != 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad supported_versions in ServerHello");
			break;
		case EXT_KEY_SHARE:
			if (seen_ks++)
				return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "two key_share extensions");
			if (is_hrr) {
				/* KeyShareHelloRetryRequest { NamedGroup selected_group; } */
				if (rd_u16(&body, &hrr_group) < 0 || body.n != 0)
					return fail(c, NK_ALERT_DECODE_ERROR, "bad key_share in HelloRetryRequest");
			} else {
				/* KeyShareServerHello { KeyShareEntry server_share; } */
				struct rd ke;
				unsigned g;
				if (rd_u16(&body, &g) < 0 || rd_vec(&body, 2, 1, 0xffff, &ke) < 0 || body.n != 0)
					return fail(c, NK_ALERT_DECODE_ERROR, "bad key_share in ServerHello");
				if (g != c->share_group)
					return fail(c, NK_ALERT_ILLEGAL_PARAMETER,
						"server key share is for group 0x%04x, we sent %s",
						g, nk_tls13_group_name(c->share_group));
				share = ke.p;
				share_len = ke.n;
			}
			break;
		case EXT_COOKIE:
			if (!is_hrr)
				return fail(c, NK_ALERT_UNSUPPORTED_EXTENSION, "cookie in a ServerHello");
			{
				struct rd ck;
				if (seen_cookie++ || rd_vec(&body, 2, 1, 0xffff, &ck) < 0 || body.n != 0)
					return fail(c, NK_ALERT_DECODE_ERROR, "bad cookie in HelloRetryRequest");
				cookie = ck.p;
				cookie_len = ck.n;
			}
			break;
		default:
			/* §4.2: only extensions we offered may appear; we offer no PSK */
			return fail(c, NK_ALERT_UNSUPPORTED_EXTENSION,
				"%s carries extension %u that we did not offer or that does not belong there",
				is_hrr ? "HelloRetryRequest" : "ServerHello", type);
		}
	}
	/* §4.2.1: a TLS 1.3 ServerHello must carry supported_versions = 0x0304 */
	if (!seen_sv)
		return fail(c, NK_ALERT_PROTOCOL_VERSION,
			"server chose a TLS version before 1.3 (no supported_versions)");
	if (sv != 0x0304 || version != 0x0303)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "server selected version 0x%04x, not TLS 1.3", sv);
	if (sid.n != c->session_id_len || memcmp(sid.p, c->session_id, sid.n) != 0)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "legacy_session_id_echo differs from ours");
	if (!offered_suite(c, suite))
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "server chose cipher suite 0x%04x we did not offer", suite);
	if (comp != 0)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "legacy_compression_method is not 0");
	if (c->hrr_done && suite != c->suite)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER,
			"ServerHello suite %s differs from HelloRetryRequest's %s",
			nk_tlsrec_suite_name((uint16_t)suite), nk_tlsrec_suite_name(c->suite));

	if (is_hrr) {
		/* §4.1.4 */
		if (c->hrr_done)
			return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "second HelloRetryRequest");
		if (!seen_ks && !seen_cookie)
			return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "HelloRetryRequest would change nothing");
		if (seen_ks && (!offered_group(c, hrr_group) || hrr_group == c->share_group))
			return fail(c, NK_ALERT_ILLEGAL_PARAMETER,
				"HelloRetryRequest selects group 0x%04x (not offered, or already shared)", hrr_group);
		c->suite = (uint16_t)suite;
		nk_tlsks_set_hash(&c->ks, nk_tlsrec_suite_hash(c->suite));
		nk_tlsks_hrr_restart(&c->ks);
		nk_tlsks_add(&c->ks, msg, len);
		c->hrr_done = 1;
		say(c, "<- HelloRetryRequest: suite %s, group %s%s",
			nk_tlsrec_suite_name(c->suite), seen_ks ? nk_tls13_group_name((uint16_t)hrr_group) :
			"(unchanged)", seen_cookie ? ", with cookie" : "");
		if (seen_ks) {
			/* a fresh share for the selected group replaces the first */
			c->share_group = (uint16_t)hrr_group;
			c->share_pub_len = 0;
		}
		/* §D.4: in compatibility mode a CCS precedes the second ClientHello */
		if (c->session_id_len > 0 && !c->ccs_sent) {
			unsigned char one = 1;
			send_record(c, NK_CT_CHANGE_CIPHER_SPEC, &one, 1);
			c->ccs_sent = 1;
		}
		return send_client_hello(c, cookie, cookie_len);
	}

	if (!seen_ks || share == NULL)
		return fail(c, NK_ALERT_MISSING_EXTENSION, "ServerHello has no key_share (PSK-only is not offered)");
	c->suite = (uint16_t)suite;
	c->group = c->share_group;
	nk_tlsks_set_hash(&c->ks, nk_tlsrec_suite_hash(c->suite));
	nk_tlsks_add(&c->ks, msg, len);
	if (ecdhe(c, share, share_len, ss, &ss_len) < 0)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "server's %s key share is invalid",
			nk_tls13_group_name(c->group));
	if (nk_tlsks_handshake(&c->ks, ss, ss_len) < 0 ||
	    nk_tlsrec_set_secret(&c->rd, c->suite, c->ks.s_hs) < 0 ||
	    nk_tlsrec_set_secret(&c->wr, c->suite, c->ks.c_hs) < 0) {
		nk_wipe(ss, sizeof ss);
		return fail(c, NK_ALERT_INTERNAL_ERROR, "key schedule failed");
	}
	nk_wipe(ss, sizeof ss);
	say(c, "<- ServerHello: TLS 1.3, suite %s, group %s; handshake keys derived",
		nk_tlsrec_suite_name(c->suite), nk_tls13_group_name(c->group));
	c->state = NK_C_WAIT_EE;
	return 0;
}

/* ---------------------------------------------------- EncryptedExtensions */

static int recv_encrypted_extensions(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	struct rd r = { msg + 4, len - 4 }, exts;
	int rfc8448 = (c->cfg.test_flags & NK_TLS13_TEST_RFC8448) != 0;
	uint32_t seen = 0;

	if (rd_vec(&r, 2, 0, 0xffff, &exts) < 0 || r.n != 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "EncryptedExtensions is malformed");
	c->alpn[0] = 0;
	while (exts.n > 0) {
		unsigned type;
		struct rd body;
		uint32_t bit;

		if (rd_u16(&exts, &type) < 0 || rd_vec(&exts, 2, 0, 0xffff, &body) < 0)
			return fail(c, NK_ALERT_DECODE_ERROR, "EncryptedExtensions extension is malformed");
		bit = type < 32 ? 1u << type : 0;
		if (bit & seen)
			return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "extension %u twice in EncryptedExtensions", type);
		seen |= bit;
		switch (type) {
		case EXT_SERVER_NAME:
			/* RFC 6066 §3: an empty server_name acknowledges our SNI */
			if (!c->sni_sent)
				return fail(c, NK_ALERT_UNSUPPORTED_EXTENSION, "server_name acknowledged but not sent");
			if (body.n != 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "server_name in EncryptedExtensions is not empty");
			break;
		case EXT_SUPPORTED_GROUPS:
			/* §4.2.7: the server's preference, informational only */
			break;
		case EXT_RECORD_SIZE_LIMIT:
			if (!rfc8448)
				return fail(c, NK_ALERT_UNSUPPORTED_EXTENSION, "record_size_limit not offered");
			break;
		case EXT_ALPN: {
			/* RFC 7301 §3.1: exactly one ProtocolName, one we offered */
			struct rd list, name;
			if (c->cfg.alpn == NULL)
				return fail(c, NK_ALERT_UNSUPPORTED_EXTENSION, "ALPN selected but not offered");
			if (rd_vec(&body, 2, 2, 0xffff, &list) < 0 || body.n != 0 ||
			    rd_vec(&list, 1, 1, 255, &name) < 0 || list.n != 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "ALPN in EncryptedExtensions is malformed");
			if (name.n != strlen(c->cfg.alpn) || memcmp(name.p, c->cfg.alpn, name.n) != 0)
				return fail(c, NK_ALERT_NO_APPLICATION_PROTOCOL,
					"server selected ALPN protocol \"%.*s\", we offered only \"%s\"",
					(int)(name.n > 64 ? 64 : name.n), (const char *)name.p, c->cfg.alpn);
			memcpy(c->alpn, name.p, name.n);
			c->alpn[name.n] = 0;
			break;
		}
		default:
			return fail(c, NK_ALERT_UNSUPPORTED_EXTENSION,
				"EncryptedExtensions carries extension %u that we did not offer", type);
		}
	}
	if (c->cfg.alpn_required && c->alpn[0] == 0)
		return fail(c, NK_ALERT_NO_APPLICATION_PROTOCOL,
			"server selected no ALPN protocol, \"%s\" is required", c->cfg.alpn);
	nk_tlsks_add(&c->ks, msg, len);
	say(c, "<- EncryptedExtensions: ALPN %s", c->alpn[0] ? c->alpn : "(none)");
	c->state = NK_C_WAIT_CERT_CR;
	return 0;
}

/* ------------------------------------------------------------- Certificate */

static int cert_alert(enum nk_cert_status s)
{
	switch (s) {
	case NK_CERT_OK: return 0;
	case NK_CERT_MALFORMED: return NK_ALERT_BAD_CERTIFICATE;
	case NK_CERT_UNTRUSTED: return NK_ALERT_UNKNOWN_CA;
	case NK_CERT_EXPIRED:
	case NK_CERT_NOT_YET_VALID: return NK_ALERT_CERTIFICATE_EXPIRED;
	case NK_CERT_BAD_NAME: return NK_ALERT_BAD_CERTIFICATE;
	case NK_CERT_UNSUPPORTED: return NK_ALERT_UNSUPPORTED_CERTIFICATE;
	case NK_CERT_BAD_USAGE: return NK_ALERT_BAD_CERTIFICATE;
	}
	return NK_ALERT_BAD_CERTIFICATE;
}

static void fmt_time(char *out, size_t cap, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "%lld", (long long)t);
}

/*
 * §4.4.2:
 *   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       CertificateEntry certificate_list<0..2^24-1>;
 *   } Certificate;
 *   struct { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>; } CertificateEntry;
 */
static int recv_certificate(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	struct rd r = { msg + 4, len - 4 }, ctx, list;
	const unsigned char *der[NK_TLS13_MAX_CHAIN];
	size_t der_len[NK_TLS13_MAX_CHAIN], n = 0;
	struct nk_certval_opts o;
	enum nk_cert_status st;
	struct nk_err e = { "" };
	char nb[32], na[32];

	if (rd_vec(&r, 1, 0, 255, &ctx) < 0 || rd_vec(&r, 3, 0, 0xffffff, &list) < 0 || r.n != 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "Certificate message is malformed");
	if (ctx.n != 0)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "certificate_request_context is not empty");
	while (list.n > 0) {
		struct rd cd, ext;
		if (rd_vec(&list, 3, 1, 0xffffff, &cd) < 0 || rd_vec(&list, 2, 0, 0xffff, &ext) < 0)
			return fail(c, NK_ALERT_DECODE_ERROR, "CertificateEntry is malformed");
		/* §4.4.2: a CertificateEntry's extensions answer ones the client
		 * sent (§4.2); ours has none that a certificate could answer (no
		 * status_request, no signed_certificate_timestamp) */
		if (ext.n > 0) {
			unsigned et;
			struct rd eb;

			if (rd_u16(&ext, &et) < 0 || rd_vec(&ext, 2, 0, 0xffff, &eb) < 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "CertificateEntry extensions are malformed");
			return fail(c, NK_ALERT_UNSUPPORTED_EXTENSION,
				"CertificateEntry carries extension %u that we did not offer", et);
		}
		if (n == NK_TLS13_MAX_CHAIN)
			return fail(c, NK_ALERT_BAD_CERTIFICATE, "more than %d certificates in the chain",
				NK_TLS13_MAX_CHAIN);
		der[n] = cd.p;
		der_len[n] = cd.n;
		n++;
	}
	if (n == 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "server sent an empty Certificate");
	memset(&o, 0, sizeof o);
	o.host = (c->cfg.test_flags & NK_TLS13_TEST_NO_NAME_CHECK) ? NULL : c->cfg.server_name;
	o.time = c->cfg.time;
	o.skip_window = c->cfg.skip_window;
	st = nk_cert_validate(c->cfg.trust, der, der_len, n, &o, &c->cert, &e);
	if (st != NK_CERT_OK) {
		struct nk_cert_desc d;
		char vt[32];

		/* what the refused certificate says it is, in words */
		if (c->cfg.explain != NULL && nk_cert_describe(der[0], der_len[0], &d, NULL) == 0) {
			fmt_time(nb, sizeof nb, d.not_before);
			fmt_time(na, sizeof na, d.not_after);
			fmt_time(vt, sizeof vt, c->cfg.time);
			say(c, "<- Certificate: %zu certificate(s); leaf subject %s, issuer %s", n,
				d.subject, d.issuer);
			say(c, "   leaf is for %s; valid %s to %s (%s%s)", d.names, nb, na,
				c->cfg.skip_window ? "validity window not checked" : "checked at ",
				c->cfg.skip_window ? "" : vt);
		}
		return fail(c, cert_alert(st), "server certificate refused: %s (%s)",
			nk_cert_status_str(st), e.msg);
	}
	c->cert_ok = 1;
	nk_tlsks_add(&c->ks, msg, len);
	fmt_time(nb, sizeof nb, c->cert.not_before);
	fmt_time(na, sizeof na, c->cert.not_after);
	say(c, "<- Certificate: %zu certificate(s); leaf subject %s, issuer %s, valid %s to %s; "
		"chain valid%s%s%s", n, c->cert.subject, c->cert.issuer, nb, na,
		c->cfg.server_name ? " for " : "", c->cfg.server_name ? c->cfg.server_name : "",
		c->cfg.skip_window ? " (validity window not checked)" : "");
	c->state = NK_C_WAIT_CV;
	return 0;
}

/*
 * §4.4.3:
 *   struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; } CertificateVerify;
 * signed content: 64 x 0x20 || "TLS 1.3, server CertificateVerify" || 0x00 ||
 *                 Transcript-Hash(Handshake Context, Certificate)
 */
static int recv_certificate_verify(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	static const char ctxstr[] = "TLS 1.3, server CertificateVerify";
	struct rd r = { msg + 4, len - 4 }, sig;
	unsigned char content[64 + sizeof ctxstr + NK_TLS_MAX_HASH];
	unsigned scheme;

	if (rd_u16(&r, &scheme) < 0 || rd_vec(&r, 2, 1, 0xffff, &sig) < 0 || r.n != 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "CertificateVerify is malformed");
	if (!offered_sig(c, scheme))
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "CertificateVerify uses scheme 0x%04x we did not offer",
			scheme);
	if (!nk_tlssig_fits_pub((uint16_t)scheme, &c->cert.leaf_key))
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "signature scheme %s does not fit the certificate's key",
			nk_tlssig_name((uint16_t)scheme));
	memset(content, 0x20, 64);
	memcpy(content + 64, ctxstr, sizeof ctxstr);   /* with its 0 byte */
	nk_tlsks_hash(&c->ks, content + 64 + sizeof ctxstr);
	if (nk_tlssig_verify((uint16_t)scheme, &c->cert.leaf_key, content,
			64 + sizeof ctxstr + c->ks.hl, sig.p, sig.n) < 0)
		return fail(c, NK_ALERT_DECRYPT_ERROR, "CertificateVerify signature (%s) is invalid",
			nk_tlssig_name((uint16_t)scheme));
	c->sig_scheme = (uint16_t)scheme;
	nk_tlsks_add(&c->ks, msg, len);
	say(c, "<- CertificateVerify: %s signature over the transcript is valid",
		nk_tlssig_name(c->sig_scheme));
	c->state = NK_C_WAIT_FINISHED;
	return 0;
}

/*
 * §4.3.2:
 *   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       Extension extensions<2..2^16-1>;
 *   } CertificateRequest;
 * We have no client certificate: §4.4.2.4 lets us answer with an empty one.
 */
static int recv_certificate_request(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	struct rd r = { msg + 4, len - 4 }, ctx, exts;
	int sigalgs = 0;

	if (rd_vec(&r, 1, 0, 255, &ctx) < 0 || rd_vec(&r, 2, 2, 0xffff, &exts) < 0 || r.n != 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "CertificateRequest is malformed");
	while (exts.n > 0) {
		unsigned type;
		struct rd body;
		if (rd_u16(&exts, &type) < 0 || rd_vec(&exts, 2, 0, 0xffff, &body) < 0)
			return fail(c, NK_ALERT_DECODE_ERROR, "CertificateRequest extension is malformed");
		sigalgs |= type == EXT_SIGNATURE_ALGORITHMS;
	}
	if (!sigalgs)
		return fail(c, NK_ALERT_MISSING_EXTENSION, "CertificateRequest without signature_algorithms");
	memcpy(c->cr_ctx, ctx.p, ctx.n);
	c->cr_ctx_len = ctx.n;
	c->cert_requested = 1;
	nk_tlsks_add(&c->ks, msg, len);
	say(c, "<- CertificateRequest: we have no client certificate and will send an empty one");
	return 0;
}

/* §4.4.4: Finished { opaque verify_data[Hash.length]; } */
static int recv_finished(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	unsigned char want[NK_TLS_MAX_HASH], fin[4 + NK_TLS_MAX_HASH];
	size_t hl = c->ks.hl;

	if (len - 4 != hl)
		return fail(c, NK_ALERT_DECODE_ERROR, "Finished has %zu bytes, expected %zu", len - 4, hl);
	nk_tlsks_finished(&c->ks, c->ks.s_hs, want);
	if (!nk_ct_eq(want, msg + 4, hl))
		return fail(c, NK_ALERT_DECRYPT_ERROR, "server Finished does not verify");
	nk_tlsks_add(&c->ks, msg, len);
	say(c, "<- Finished: server Finished verifies; handshake transcript authenticated");
	/* application secrets over ClientHello..server Finished */
	if (nk_tlsks_master(&c->ks) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "key schedule failed");
	/* §D.4: compatibility CCS before our first encrypted flight */
	if (c->session_id_len > 0 && !c->ccs_sent) {
		unsigned char one = 1;
		send_record(c, NK_CT_CHANGE_CIPHER_SPEC, &one, 1);
		c->ccs_sent = 1;
	}
	/* §4.4.2: an empty client Certificate when one was requested */
	if (c->cert_requested) {
		unsigned char cm[1 + 255 + 3];
		cm[0] = (unsigned char)c->cr_ctx_len;
		memcpy(cm + 1, c->cr_ctx, c->cr_ctx_len);
		memset(cm + 1 + c->cr_ctx_len, 0, 3);
		if (send_handshake(c, HS_CERTIFICATE, cm, 1 + c->cr_ctx_len + 3) < 0)
			return fail(c, NK_ALERT_INTERNAL_ERROR, "output buffer full");
		say(c, "-> Certificate (empty: no client certificate)");
	}
	/* client Finished under the client handshake traffic key */
	nk_tlsks_finished(&c->ks, c->ks.c_hs, fin + 4);
	if (send_handshake(c, HS_FINISHED, fin + 4, hl) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "output buffer full");
	nk_wipe(fin, sizeof fin);
	if (nk_tlsrec_set_secret(&c->rd, c->suite, c->ks.s_ap) < 0 ||
	    nk_tlsrec_set_secret(&c->wr, c->suite, c->ks.c_ap) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "key schedule failed");
	/* handshake secrets are no longer needed */
	nk_wipe(c->ks.c_hs, sizeof c->ks.c_hs);
	nk_wipe(c->ks.s_hs, sizeof c->ks.s_hs);
	nk_wipe(c->ks.secret, sizeof c->ks.secret);
	say(c, "-> Finished; application traffic keys in use: TLS 1.3 %s %s, ALPN %s, signature %s",
		nk_tlsrec_suite_name(c->suite), nk_tls13_group_name(c->group),
		c->alpn[0] ? c->alpn : "(none)", nk_tlssig_name(c->sig_scheme));
	c->state = NK_C_CONNECTED;
	return 0;
}

/* §4.6.3: KeyUpdate { KeyUpdateRequest request_update; } */
static int recv_key_update(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	unsigned req;

	if (len != 5)
		return fail(c, NK_ALERT_DECODE_ERROR, "KeyUpdate has a bad length");
	req = msg[4];
	if (req > 1)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "KeyUpdate request_update is %u", req);
	unsigned char *rs = c->server ? c->ks.c_ap : c->ks.s_ap;   /* peer's sending secret */

	if (nk_tlsks_update_secret(c->ks.h, rs) < 0 || nk_tlsrec_set_secret(&c->rd, c->suite, rs) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "key update failed");
	say(c, "<- KeyUpdate%s: receiving keys updated", req ? " (update_requested)" : "");
	if (req == 1 && !c->close_sent && nk_tls13_key_update(c, 0) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "cannot answer KeyUpdate");
	return 0;
}

int nk_tls13_key_update(struct nk_tls13 *c, int request_update)
{
	unsigned char m[5] = { HS_KEY_UPDATE, 0, 0, 1, (unsigned char)(request_update ? 1 : 0) };

	if (c->state != NK_C_CONNECTED || c->close_sent || sizeof c->out - c->out_len < 64)
		return -1;
	if (send_record(c, NK_CT_HANDSHAKE, m, sizeof m) < 0)
		return -1;
	{
		unsigned char *ws = c->server ? c->ks.s_ap : c->ks.c_ap;   /* our sending secret */
		if (nk_tlsks_update_secret(c->ks.h, ws) < 0 || nk_tlsrec_set_secret(&c->wr, c->suite, ws) < 0)
			return -1;
	}
	say(c, "-> KeyUpdate%s: sending keys updated", request_update ? " (update_requested)" : "");
	return 0;
}

/* One complete handshake message (header included), by state. */
static int handle_handshake(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	unsigned type = msg[0];

	if (c->server && c->state != NK_C_CONNECTED)
		return nk_tls13_i_server_handshake(c, msg, len);
	switch (c->state) {
	case NK_C_WAIT_SH:
		if (type == HS_SERVER_HELLO)
			return recv_server_hello(c, msg, len);
		break;
	case NK_C_WAIT_EE:
		if (type == HS_ENCRYPTED_EXTENSIONS)
			return recv_encrypted_extensions(c, msg, len);
		break;
	case NK_C_WAIT_CERT_CR:
		if (type == HS_CERTIFICATE)
			return recv_certificate(c, msg, len);
		if (type == HS_CERTIFICATE_REQUEST && !c->cert_requested)
			return recv_certificate_request(c, msg, len);
		break;
	case NK_C_WAIT_CV:
		if (type == HS_CERTIFICATE_VERIFY)
			return recv_certificate_verify(c, msg, len);
		break;
	case NK_C_WAIT_FINISHED:
		if (type == HS_FINISHED)
			return recv_finished(c, msg, len);
		break;
	case NK_C_CONNECTED:
		if (type == HS_NEW_SESSION_TICKET && !c->server) {
			say(c, "<- NewSessionTicket (ignored: no resumption)");
			return 0;
		}
		if (type == HS_KEY_UPDATE)
			return recv_key_update(c, msg, len);
		break;
	default:
		break;
	}
	return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "unexpected handshake message type %u in state %d",
		type, (int)c->state);
}

/* Handshake record content: reassemble messages (they may span records, not key changes). */
static int handle_handshake_data(struct nk_tls13 *c, const unsigned char *d, size_t n)
{
	/* §5.1, §5.4: no zero-length handshake fragments, even padded */
	if (n == 0)
		return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "empty handshake record");
	if (n > sizeof c->hs - c->hs_len)
		return fail(c, NK_ALERT_DECODE_ERROR, "handshake message larger than %d bytes", NK_TLS13_HS_MAX);
	memcpy(c->hs + c->hs_len, d, n);
	c->hs_len += n;
	while (c->hs_len >= 4 && c->state != NK_C_FAILED) {
		size_t mlen = (size_t)c->hs[1] << 16 | (size_t)c->hs[2] << 8 | c->hs[3];
		enum nk_tls13_state st = c->state;

		if (mlen > NK_TLS13_HS_MAX - 4)
			return fail(c, NK_ALERT_DECODE_ERROR, "handshake message of %zu bytes is too large", mlen);
		if (c->hs_len < 4 + mlen)
			break;
		{
			unsigned mtype = c->hs[0];
			/* §5.1: handshake messages MUST NOT span key changes: after
			 * ServerHello (and HelloRetryRequest, which ends the server's
			 * flight), after Finished, after KeyUpdate. */
			int key_change = st == NK_C_WAIT_SH || st == NK_C_WAIT_FINISHED ||
				st == NK_S_WAIT_CH || st == NK_S_WAIT_CH2 || st == NK_S_WAIT_FINISHED ||
				mtype == HS_KEY_UPDATE;

			if (handle_handshake(c, c->hs, 4 + mlen) < 0)
				return -1;
			memmove(c->hs, c->hs + 4 + mlen, c->hs_len - 4 - mlen);
			c->hs_len -= 4 + mlen;
			if (key_change && c->hs_len != 0)
				return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "handshake data spans a key change");
		}
	}
	return 0;
}

static int handle_alert(struct nk_tls13 *c, const unsigned char *d, size_t n)
{
	/* §5.4: an Alert (like a Handshake) record with an empty content,
	 * padded or not, plaintext or protected, is unexpected_message; only
	 * application data may be empty */
	if (n == 0)
		return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "empty alert record");
	if (n != 2)
		return fail(c, NK_ALERT_DECODE_ERROR, "alert record of %zu bytes", n);
	c->alert_rcvd = d[1];
	if (d[1] == NK_ALERT_CLOSE_NOTIFY) {
		say(c, "<- alert close_notify: peer closed the connection");
		if (c->state != NK_C_CONNECTED)
			return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "close_notify during the handshake");
		c->state = NK_C_CLOSED;
		return 0;
	}
	if (d[1] == NK_ALERT_USER_CANCELED) {
		say(c, "<- alert user_canceled");
		return 0;
	}
	/* §6.2: every other alert is fatal */
	nk_errf(&c->err, "TLS: peer sent alert %s (%u)", nk_tls13_alert_name(d[1]), d[1]);
	say(c, "<- alert %s (%u): connection failed", nk_tls13_alert_name(d[1]), d[1]);
	c->state = NK_C_FAILED;
	nk_tlsks_wipe(&c->ks);
	return -1;
}

/* Server that ignores the client's early_data (§4.2.10): skip one record
 * of rlen bytes (header included, at least a tag and a type byte inside),
 * counting its largest possible payload against NK_TLS13_EARLY_SKIP_MAX
 * (§4.6.1: more early data than allowed is unexpected_message). */
static long skip_early(struct nk_tls13 *c, size_t rlen)
{
	size_t payload = rlen - NK_TLS_REC_HDR - NK_TLS_TAG_LEN - 1;

	if (payload > NK_TLS13_EARLY_SKIP_MAX - c->early_skipped)
		return fail(c, NK_ALERT_UNEXPECTED_MESSAGE,
			"more than %d bytes of early data (0-RTT is not accepted)", NK_TLS13_EARLY_SKIP_MAX);
	if (c->early_skipped == 0)
		say(c, "<- early data (0-RTT): not accepted, skipped");
	c->early_skipped += payload;
	return (long)rlen;
}

/* One whole record at c->in (header included). Returns bytes consumed, -1 on failure,
 * 0 when it must stay in the buffer (application data not yet read). */
static long handle_record(struct nk_tls13 *c, size_t rlen)
{
	unsigned char *rec = c->in;
	unsigned type = rec[0];
	size_t len = rlen - NK_TLS_REC_HDR;
	unsigned char *content;
	unsigned itype;
	long n;

	if (type == NK_CT_CHANGE_CIPHER_SPEC) {
		/* §5: a single 0x01 byte, between the first ClientHello and Finished */
		/* client: after ServerHello/HRR; server: after the first ClientHello */
		if (len != 1 || rec[5] != 1 || c->state == NK_C_CONNECTED ||
		    (c->state == NK_C_WAIT_SH && !c->hrr_done) || c->state == NK_S_WAIT_CH ||
		    c->ccs_rcvd)
			return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "unexpected change_cipher_spec record");
		c->ccs_rcvd = 1;
		return (long)rlen;
	}
	if (!c->rd.active) {
		/* §4.2.10: after a HelloRetryRequest, early data is the records
		 * of type application_data before the second ClientHello */
		if (type == NK_CT_APPLICATION_DATA && c->early_skip && c->state == NK_S_WAIT_CH2 &&
		    len >= NK_TLS_TAG_LEN + 1)
			return skip_early(c, rlen);
		if (len > NK_TLS_MAX_PLAIN)
			return fail(c, NK_ALERT_RECORD_OVERFLOW, "plaintext record of %zu bytes", len);
		if (type == NK_CT_HANDSHAKE)
			return handle_handshake_data(c, rec + 5, len) < 0 ? -1 : (long)rlen;
		if (type == NK_CT_ALERT)
			return handle_alert(c, rec + 5, len) < 0 ? -1 : (long)rlen;
		return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "unexpected record type %u before encryption", type);
	}
	if (type != NK_CT_APPLICATION_DATA)
		return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "plaintext record type %u after encryption started",
			type);
	n = nk_tlsrec_open(&c->rd, rec, rlen, &itype, &content);
	if (c->early_skip) {
		/* §4.2.10: early data does not deprotect under the handshake
		 * key; the first record that does starts the client's flight */
		if (n == -1 && c->state == NK_S_WAIT_FINISHED && len >= NK_TLS_TAG_LEN + 1)
			return skip_early(c, rlen);
		c->early_skip = 0;
	}
	if (n == -2)
		return fail(c, NK_ALERT_RECORD_OVERFLOW, "record too long");
	if (n == -3)
		return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "record has no content type");
	if (n < 0)
		return fail(c, NK_ALERT_BAD_RECORD_MAC, "record authentication failed (bad_record_mac)");
	switch (itype) {
	case NK_CT_HANDSHAKE:
		return handle_handshake_data(c, content, (size_t)n) < 0 ? -1 : (long)rlen;
	case NK_CT_ALERT:
		return handle_alert(c, content, (size_t)n) < 0 ? -1 : (long)rlen;
	case NK_CT_APPLICATION_DATA:
		if (c->state != NK_C_CONNECTED)
			return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "application data during the handshake");
		if (c->hs_len != 0)
			return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "application data inside a handshake message");
		c->app_off = (size_t)(content - c->in);
		c->app_len = (size_t)n;
		c->app_rec = rlen;
		if (n == 0) {
			c->app_len = 0;
			return (long)rlen;
		}
		return 0;
	}
	return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "inner content type %u", itype);
}

enum nk_tls13_status nk_tls13_process(struct nk_tls13 *c)
{
	while (c->state != NK_C_FAILED && c->state != NK_C_CLOSED && c->app_len == 0 &&
	       c->in_len >= NK_TLS_REC_HDR && sizeof c->out - c->out_len >= 512) {
		size_t len = (size_t)c->in[3] << 8 | c->in[4];
		long used;

		if (c->in[0] < NK_CT_CHANGE_CIPHER_SPEC || c->in[0] > NK_CT_APPLICATION_DATA) {
			if ((c->state == NK_C_WAIT_SH || c->state == NK_S_WAIT_CH) && !c->hrr_done && c->in[0] >= 0x80)
				fail(c, NK_ALERT_PROTOCOL_VERSION, "peer does not speak TLS (SSLv2-style record?)");
			else
				fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "unknown record type %u", c->in[0]);
			break;
		}
		if (len > NK_TLS_MAX_CIPHER) {
			fail(c, NK_ALERT_RECORD_OVERFLOW, "record of %zu bytes (limit 2^14+256)", len);
			break;
		}
		if (c->in_len < NK_TLS_REC_HDR + len)
			break;
		used = handle_record(c, NK_TLS_REC_HDR + len);
		if (used < 0)
			break;
		if (used > 0) {
			memmove(c->in, c->in + used, c->in_len - (size_t)used);
			c->in_len -= (size_t)used;
		}
	}
	return nk_tls13_status(c);
}

/* ------------------------------------------------------------------- API */

const unsigned char *nk_tls13_out(struct nk_tls13 *c, size_t *len)
{
	*len = c->out_len;
	return c->out;
}

void nk_tls13_out_done(struct nk_tls13 *c, size_t n)
{
	if (n > c->out_len)
		n = c->out_len;
	memmove(c->out, c->out + n, c->out_len - n);
	c->out_len -= n;
}

unsigned char *nk_tls13_in(struct nk_tls13 *c, size_t *cap)
{
	*cap = sizeof c->in - c->in_len;
	if (c->app_len > 0 || c->state == NK_C_FAILED)
		*cap = 0;
	return c->in + c->in_len;
}

enum nk_tls13_status nk_tls13_in_done(struct nk_tls13 *c, size_t n)
{
	if (n > sizeof c->in - c->in_len)
		n = sizeof c->in - c->in_len;
	c->in_len += n;
	return nk_tls13_process(c);
}

void nk_tls13_eof(struct nk_tls13 *c)
{
	if (c->state == NK_C_CONNECTED) {
		/* §6.1: a close without close_notify is a truncation */
		nk_errf(&c->err, "TLS: connection closed without close_notify");
		c->state = NK_C_FAILED;
	} else if (c->state != NK_C_CLOSED && c->state != NK_C_FAILED) {
		nk_errf(&c->err, "TLS: connection closed by the peer during the handshake");
		say(c, "connection closed by the peer during the handshake");
		c->state = NK_C_FAILED;
	}
}

enum nk_tls13_status nk_tls13_status(const struct nk_tls13 *c)
{
	switch (c->state) {
	case NK_C_CONNECTED: return NK_TLS13_OPEN;
	case NK_C_CLOSED: return NK_TLS13_CLOSED;
	case NK_C_FAILED: return NK_TLS13_FAILED;
	default: return NK_TLS13_HANDSHAKE;
	}
}

const char *nk_tls13_error(const struct nk_tls13 *c)
{
	return c->err.msg[0] ? c->err.msg : "no error";
}

long nk_tls13_write(struct nk_tls13 *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t done = 0;

	/* §6.1: the peer's close_notify closes only its write side; ours
	 * stays open until we send close_notify ourselves */
	if ((c->state != NK_C_CONNECTED && c->state != NK_C_CLOSED) || c->close_sent)
		return -1;
	while (done < len) {
		size_t room = sizeof c->out - c->out_len, k;

		if (room < NK_TLS_REC_HDR + 1 + NK_TLS_TAG_LEN + 1)
			break;
		k = room - NK_TLS_REC_HDR - 1 - NK_TLS_TAG_LEN;
		if (k > NK_TLS_MAX_PLAIN)
			k = NK_TLS_MAX_PLAIN;
		if (k > len - done)
			k = len - done;
		if (send_record(c, NK_CT_APPLICATION_DATA, p + done, k) < 0)
			break;
		done += k;
	}
	return (long)done;
}

long nk_tls13_read(struct nk_tls13 *c, void *buf, size_t cap)
{
	size_t k;

	if (c->state == NK_C_FAILED)
		return -1;
	if (c->app_len == 0)
		return 0;
	k = cap < c->app_len ? cap : c->app_len;
	memcpy(buf, c->in + c->app_off, k);
	c->app_off += k;
	c->app_len -= k;
	if (c->app_len == 0) {
		nk_wipe(c->in, c->app_rec);
		memmove(c->in, c->in + c->app_rec, c->in_len - c->app_rec);
		c->in_len -= c->app_rec;
		c->app_rec = 0;
		nk_tls13_process(c);
	}
	return (long)k;
}

void nk_tls13_close(struct nk_tls13 *c)
{
	if ((c->state == NK_C_CONNECTED || c->state == NK_C_CLOSED) && !c->close_sent) {
		queue_alert(c, 1, NK_ALERT_CLOSE_NOTIFY);
		say(c, "-> alert close_notify");
		c->close_sent = 1;
	}
}

int nk_tls13_export(const struct nk_tls13 *c, const char *label,
	const void *ctx, size_t ctx_len, void *out, size_t out_len)
{
	if (c->state != NK_C_CONNECTED && c->state != NK_C_CLOSED)
		return -1;
	return nk_tlsks_export(&c->ks, label, ctx, ctx_len, out, out_len);
}

void nk_tls13_wipe(struct nk_tls13 *c)
{
	nk_wipe(c, sizeof *c);
}

#ifdef NK_FUZZING
int nk_tls13_fuzz_handshake(struct nk_tls13 *c, int state, const unsigned char *d, size_t n)
{
	static const unsigned char zero[NK_TLS_MAX_HASH];

	if (c->server ? (state != NK_C_CONNECTED && (state < NK_S_WAIT_CH || state > NK_S_WAIT_FINISHED)) :
	    (state < NK_C_WAIT_SH || state > NK_C_CONNECTED))
		return -1;
	if (c->ks.h == NULL) {
		c->suite = NK_TLS_AES_128_GCM_SHA256;
		nk_tlsks_set_hash(&c->ks, &br_sha256_vtable);
	}
	if (state == NK_C_CONNECTED && !c->wr.active) {
		nk_tlsrec_set_secret(&c->wr, c->suite, zero);
		nk_tlsrec_set_secret(&c->rd, c->suite, zero);
	}
	c->state = (enum nk_tls13_state)state;
	return handle_handshake_data(c, d, n);
}
#endif
