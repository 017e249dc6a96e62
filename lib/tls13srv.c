/*
 * TLS 1.3 server (RFC 8446), following the state machine of Appendix A.2
 * (without PSK, 0-RTT or client authentication):
 *
 *                              START <-----+
 *               Recv ClientHello |         | Send HelloRetryRequest
 *                                v         |
 *                             RECVD_CH ----+
 *                                | Select parameters
 *                                | Send ServerHello, K_send = handshake
 *                                | Send EncryptedExtensions, Certificate,
 *                                |      CertificateVerify, Finished
 *                                | K_send = application, K_recv = handshake
 *                                v
 *                          WAIT_FINISHED
 *                                | Recv Finished
 *                                | K_recv = application
 *                                v
 *                            CONNECTED
 *
 * The record layer, key schedule, alerts, KeyUpdate, close_notify and the
 * exporter are shared with the client (tls13.c). The server picks the
 * suite, group and signature scheme by its own preference among what the
 * client offers; a client without a key share for the chosen group gets a
 * HelloRetryRequest.
 */
#include <string.h>

#include "hkdf.h"
#include "tls13_int.h"

static const uint16_t srv_default_suites[] = {
	NK_TLS_AES_128_GCM_SHA256, NK_TLS_AES_256_GCM_SHA384, NK_TLS_CHACHA20_POLY1305_SHA256
};
static const uint16_t srv_default_groups[] = {
	NK_TLS_GROUP_X25519, NK_TLS_GROUP_SECP256R1, NK_TLS_GROUP_SECP384R1
};
static const uint16_t srv_default_sigs[] = {
	NK_SIG_ECDSA_P256_SHA256, NK_SIG_ECDSA_P384_SHA384,
	NK_SIG_RSA_PSS_RSAE_SHA256, NK_SIG_RSA_PSS_RSAE_SHA384, NK_SIG_RSA_PSS_RSAE_SHA512
};

/* Largest Certificate message we send: the whole encrypted flight (with
 * EncryptedExtensions, a CertificateVerify of up to 512 bytes and Finished)
 * must fit one record. */
#define SRV_CERT_MSG_MAX (NK_TLS_MAX_PLAIN - 1024)

static size_t cert_msg_len(const struct nk_server_cred *cr)
{
	size_t n = 4 + 1 + 3;

	for (size_t i = 0; i < cr->chain_len; i++)
		n += 3 + cr->chain[i].data_len + 2;
	return n;
}

int nk_tls13_server_init(struct nk_tls13 *c, const struct nk_tls13_config *cfg, struct nk_err *e)
{
	unsigned char seed[48];
	size_t i;

	memset(c, 0, sizeof *c);
	c->server = 1;
	c->cfg = *cfg;
	c->alert_sent = c->alert_rcvd = -1;
	if (cfg->cred == NULL || cfg->cred->chain_len == 0) {
		nk_errf(e, "TLS server: no certificate chain and key");
		return -1;
	}
	if (cert_msg_len(cfg->cred) > SRV_CERT_MSG_MAX) {
		nk_errf(e, "TLS server: certificate chain too large (%zu bytes, limit %d)",
			cert_msg_len(cfg->cred), SRV_CERT_MSG_MAX);
		return -1;
	}
	if (cfg->suites == NULL) {
		c->cfg.suites = srv_default_suites;
		c->cfg.n_suites = 3;
	}
	if (cfg->groups == NULL) {
		c->cfg.groups = srv_default_groups;
		c->cfg.n_groups = 3;
	}
	if (cfg->sigs == NULL) {
		c->cfg.sigs = srv_default_sigs;
		c->cfg.n_sigs = 5;
	}
	if (c->cfg.n_suites == 0 || c->cfg.n_suites > NK_TLS13_MAX_SUITES ||
	    c->cfg.n_groups == 0 || c->cfg.n_groups > NK_TLS13_MAX_GROUPS ||
	    c->cfg.n_sigs == 0 || c->cfg.n_sigs > NK_TLS13_MAX_SIGS) {
		nk_errf(e, "TLS server: bad number of suites, groups or signature schemes");
		return -1;
	}
	for (i = 0; i < c->cfg.n_suites; i++)
		if (nk_tlsrec_suite_hash(c->cfg.suites[i]) == NULL) {
			nk_errf(e, "TLS server: unsupported cipher suite 0x%04x", c->cfg.suites[i]);
			return -1;
		}
	for (i = 0; i < c->cfg.n_groups; i++)
		if (group_curve(c->cfg.groups[i]) < 0) {
			nk_errf(e, "TLS server: unsupported group 0x%04x", c->cfg.groups[i]);
			return -1;
		}
	memcpy(c->suites, c->cfg.suites, c->cfg.n_suites * 2);
	c->n_suites = c->cfg.n_suites;
	memcpy(c->groups, c->cfg.groups, c->cfg.n_groups * 2);
	c->n_groups = c->cfg.n_groups;
	memcpy(c->sigs, c->cfg.sigs, c->cfg.n_sigs * 2);
	c->n_sigs = c->cfg.n_sigs;
	if (cfg->alpn != NULL && (strlen(cfg->alpn) == 0 || strlen(cfg->alpn) > 255)) {
		nk_errf(e, "TLS server: ALPN protocol name must be 1 to 255 bytes");
		return -1;
	}
	if (cfg->alpn == NULL && cfg->alpn_required) {
		nk_errf(e, "TLS server: ALPN required but none configured");
		return -1;
	}
	c->cfg.server_name = NULL;
	if (nk_random(seed, sizeof seed) < 0) {
		nk_errf(e, "TLS server: getrandom failed");
		return -1;
	}
	br_hmac_drbg_init(&c->rng, &br_sha256_vtable, seed, sizeof seed);
	nk_wipe(seed, sizeof seed);
	nk_tlsks_init(&c->ks);
	c->state = NK_S_WAIT_CH;
	return 0;
}

/*
 * Handshake messages of one flight are built directly in the output buffer,
 * one after the other behind room for a record header, added to the
 * transcript, and protected together as one record (flush_msgs): like the
 * RFC 8448 traces, EncryptedExtensions..Finished travel in one record.
 */
struct msgbuf {
	unsigned char *p;   /* message start (4-byte header included) */
	size_t cap;
};

static int begin_msg(struct nk_tls13 *c, struct msgbuf *m, size_t *st)
{
	size_t room = sizeof c->out - c->out_len;

	if (room < NK_TLS_REC_HDR + *st + 4 + NK_TLS_TAG_LEN + 1 + 16)
		return -1;
	m->p = c->out + c->out_len + NK_TLS_REC_HDR + *st;
	m->cap = room - NK_TLS_REC_HDR - *st - NK_TLS_TAG_LEN - 1;
	if (*st + m->cap > NK_TLS_MAX_PLAIN)
		m->cap = NK_TLS_MAX_PLAIN - *st;
	return 0;
}

static void end_msg(struct nk_tls13 *c, struct msgbuf *m, unsigned type, size_t body_len, size_t *st)
{
	m->p[0] = (unsigned char)type;
	m->p[1] = (unsigned char)(body_len >> 16);
	m->p[2] = (unsigned char)(body_len >> 8);
	m->p[3] = (unsigned char)body_len;
	nk_tlsks_add(&c->ks, m->p, 4 + body_len);
	*st += 4 + body_len;
}

static int flush_msgs(struct nk_tls13 *c, size_t *st)
{
	int r = send_record(c, NK_CT_HANDSHAKE, c->out + c->out_len + NK_TLS_REC_HDR, *st);

	*st = 0;
	return r;
}

static int in_list16(const struct rd *l, unsigned v)
{
	for (size_t i = 0; i + 1 < l->n; i += 2)
		if (((unsigned)l->p[i] << 8 | l->p[i + 1]) == v)
			return 1;
	return 0;
}

/* ServerHello or HelloRetryRequest (§4.1.3, §4.1.4). */
static int send_server_hello(struct nk_tls13 *c, int hrr, const unsigned char *pub, size_t publen)
{
	struct msgbuf m;
	struct wr w;
	size_t at, st = 0;

	if (begin_msg(c, &m, &st) < 0)
		return -1;
	w.p = m.p + 4;
	w.len = 0;
	w.cap = m.cap - 4;
	w.overflow = 0;
	wr_u16(&w, 0x0303);
	wr_bytes(&w, hrr ? nk_tls13_i_hrr_random : c->random, 32);
	wr_u8(&w, (unsigned)c->session_id_len);
	wr_bytes(&w, c->session_id, c->session_id_len);
	wr_u16(&w, c->suite);
	wr_u8(&w, 0);
	at = wr_begin(&w, 2);
	if (hrr) {
		wr_u16(&w, EXT_SUPPORTED_VERSIONS);
		wr_u16(&w, 2);
		wr_u16(&w, 0x0304);
		wr_u16(&w, EXT_KEY_SHARE);
		wr_u16(&w, 2);
		wr_u16(&w, c->group);
	} else {
		/* RFC 8448's order: key_share, supported_versions */
		wr_u16(&w, EXT_KEY_SHARE);
		wr_u16(&w, (unsigned)(4 + publen));
		wr_u16(&w, c->group);
		wr_u16(&w, (unsigned)publen);
		wr_bytes(&w, pub, publen);
		wr_u16(&w, EXT_SUPPORTED_VERSIONS);
		wr_u16(&w, 2);
		wr_u16(&w, 0x0304);
	}
	wr_end(&w, at, 2);
	if (w.overflow)
		return -1;
	end_msg(c, &m, HS_SERVER_HELLO, w.len, &st);
	return flush_msgs(c, &st);
}

/* §D.4: the server's one compatibility CCS, after its first handshake message. */
static void send_ccs(struct nk_tls13 *c)
{
	unsigned char one = 1;

	if (c->session_id_len > 0 && !c->ccs_sent) {
		send_record(c, NK_CT_CHANGE_CIPHER_SPEC, &one, 1);
		c->ccs_sent = 1;
	}
}

static int send_flight(struct nk_tls13 *c)
{
	static const char ctxstr[] = "TLS 1.3, server CertificateVerify";
	const struct nk_server_cred *cr = c->cfg.cred;
	unsigned char content[64 + sizeof ctxstr + NK_TLS_MAX_HASH];
	struct msgbuf m;
	struct wr w;
	size_t at, at2, st = 0;
	long sl;

	/* EncryptedExtensions (§4.3.1) */
	if (begin_msg(c, &m, &st) < 0)
		return -1;
	w = (struct wr){ m.p + 4, 0, m.cap - 4, 0 };
	at = wr_begin(&w, 2);
	if (c->cfg.test_flags & NK_TLS13_TEST_RFC8448) {
		static const unsigned char rfc[] = {
			0x00, 0x0a, 0x00, 0x14, 0x00, 0x12, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19,
			0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04,   /* supported_groups */
			0x00, 0x1c, 0x00, 0x02, 0x40, 0x01 };                         /* record_size_limit */
		wr_bytes(&w, rfc, sizeof rfc);
	}
	if (c->sni[0]) {
		/* RFC 6066 §3: empty server_name acknowledges the client's */
		wr_u16(&w, EXT_SERVER_NAME);
		wr_u16(&w, 0);
	}
	if (c->alpn[0]) {
		size_t al = strlen(c->alpn);
		wr_u16(&w, EXT_ALPN);
		wr_u16(&w, (unsigned)(al + 3));
		wr_u16(&w, (unsigned)(al + 1));
		wr_u8(&w, (unsigned)al);
		wr_bytes(&w, c->alpn, al);
	}
	wr_end(&w, at, 2);
	if (w.overflow)
		return -1;
	end_msg(c, &m, HS_ENCRYPTED_EXTENSIONS, w.len, &st);

	/* Certificate (§4.4.2) */
	if (begin_msg(c, &m, &st) < 0)
		return -1;
	w = (struct wr){ m.p + 4, 0, m.cap - 4, 0 };
	wr_u8(&w, 0);                              /* certificate_request_context */
	at = wr_begin(&w, 3);
	for (size_t i = 0; i < cr->chain_len; i++) {
		at2 = wr_begin(&w, 3);
		wr_bytes(&w, cr->chain[i].data, cr->chain[i].data_len);
		wr_end(&w, at2, 3);
		wr_u16(&w, 0);                     /* no extensions */
	}
	wr_end(&w, at, 3);
	if (w.overflow)
		return -1;
	end_msg(c, &m, HS_CERTIFICATE, w.len, &st);

	/* CertificateVerify (§4.4.3) over Transcript-Hash(ClientHello..Certificate) */
	memset(content, 0x20, 64);
	memcpy(content + 64, ctxstr, sizeof ctxstr);
	nk_tlsks_hash(&c->ks, content + 64 + sizeof ctxstr);
	if (begin_msg(c, &m, &st) < 0 || m.cap < 4 + 4 + NK_RSA_MAX_BYTES)
		return -1;
	if (c->cfg.test_cv_sig != NULL && c->cfg.test_cv_sig_len <= NK_RSA_MAX_BYTES) {
		memcpy(m.p + 8, c->cfg.test_cv_sig, c->cfg.test_cv_sig_len);
		sl = (long)c->cfg.test_cv_sig_len;
	} else {
		sl = nk_tlssig_sign(c->sig_scheme, &cr->key, content, 64 + sizeof ctxstr + c->ks.hl,
			m.p + 8, NK_RSA_MAX_BYTES);
	}
	if (sl <= 0)
		return -1;
	m.p[4] = (unsigned char)(c->sig_scheme >> 8);
	m.p[5] = (unsigned char)c->sig_scheme;
	m.p[6] = (unsigned char)(sl >> 8);
	m.p[7] = (unsigned char)sl;
	end_msg(c, &m, HS_CERTIFICATE_VERIFY, 4 + (size_t)sl, &st);

	/* Finished (§4.4.4) */
	if (begin_msg(c, &m, &st) < 0 || m.cap < 4 + c->ks.hl)
		return -1;
	nk_tlsks_finished(&c->ks, c->ks.s_hs, m.p + 4);
	end_msg(c, &m, HS_FINISHED, c->ks.hl, &st);
	return flush_msgs(c, &st);
}

/*
 * §4.1.2 ClientHello: pick suite, group, signature scheme and ALPN, then
 * answer with HelloRetryRequest, or ServerHello and the whole flight.
 */
static int recv_client_hello(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	struct rd r = { msg + 4, len - 4 }, sid, suites, comp, exts;
	struct rd groups = { NULL, 0 }, shares = { NULL, 0 }, sigs = { NULL, 0 }, alpn = { NULL, 0 };
	const unsigned char *random, *share = NULL;
	unsigned version, suite = 0, sig = 0, group = 0;
	size_t share_len = 0, i;
	int tls13 = 0, seen_groups = 0, seen_shares = 0, seen_sigs = 0, seen_alpn = 0, seen_early = 0;
	uint64_t seen = 0;
	int second = c->state == NK_S_WAIT_CH2;
	unsigned char pub[BR_EC_KBUF_PUB_MAX_SIZE], ss[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t publen, ss_len;

	if (rd_u16(&r, &version) < 0 || rd_bytes(&r, 32, &random) < 0 || rd_vec(&r, 1, 0, 32, &sid) < 0 ||
	    rd_vec(&r, 2, 2, 0xfffe, &suites) < 0 || rd_vec(&r, 1, 1, 255, &comp) < 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "ClientHello is truncated");
	/* Appendix D.5: a legacy_version of 0x0300 (SSL 3.0) or less is
	 * protocol_version, even with TLS 1.3 in supported_versions */
	if (version <= 0x0300)
		return fail(c, NK_ALERT_PROTOCOL_VERSION, "ClientHello legacy_version is 0x%04x (SSL 3.0 or older)",
			version);
	if (suites.n % 2 != 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "ClientHello cipher_suites has an odd length");
	if (r.n == 0)
		return fail(c, NK_ALERT_PROTOCOL_VERSION, "client offers no extensions: not TLS 1.3");
	if (rd_vec(&r, 2, 0, 0xffff, &exts) < 0 || r.n != 0)
		return fail(c, NK_ALERT_DECODE_ERROR, "ClientHello extensions are malformed");
	while (exts.n > 0) {
		unsigned type;
		struct rd body, l;

		if (rd_u16(&exts, &type) < 0 || rd_vec(&exts, 2, 0, 0xffff, &body) < 0)
			return fail(c, NK_ALERT_DECODE_ERROR, "ClientHello extension is malformed");
		if (type < 64) {
			/* §4.2: no extension type twice */
			if (seen & (1ull << type))
				return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "extension %u twice in ClientHello", type);
			seen |= 1ull << type;
		}
		switch (type) {
		case EXT_SUPPORTED_VERSIONS:
			if (rd_vec(&body, 1, 2, 254, &l) < 0 || body.n != 0 || l.n % 2)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad supported_versions");
			tls13 = in_list16(&l, 0x0304);
			break;
		case EXT_SUPPORTED_GROUPS:
			if (rd_vec(&body, 2, 2, 0xfffe, &groups) < 0 || body.n != 0 || groups.n % 2)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad supported_groups");
			seen_groups = 1;
			break;
		case EXT_KEY_SHARE:
			if (rd_vec(&body, 2, 0, 0xffff, &shares) < 0 || body.n != 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad key_share");
			seen_shares = 1;
			break;
		case EXT_SIGNATURE_ALGORITHMS:
			if (rd_vec(&body, 2, 2, 0xfffe, &sigs) < 0 || body.n != 0 || sigs.n % 2)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad signature_algorithms");
			seen_sigs = 1;
			break;
		case EXT_ALPN:
			if (rd_vec(&body, 2, 2, 0xffff, &alpn) < 0 || body.n != 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad ALPN extension");
			seen_alpn = 1;
			break;
		case EXT_SERVER_NAME: {
			/* RFC 6066 §3: ServerNameList; take the host_name */
			struct rd list, name;
			unsigned nt;
			if (rd_vec(&body, 2, 1, 0xffff, &list) < 0 || body.n != 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad server_name");
			while (list.n > 0) {
				if (rd_u8(&list, &nt) < 0 || rd_vec(&list, 2, 1, 0xffff, &name) < 0)
					return fail(c, NK_ALERT_DECODE_ERROR, "bad server_name entry");
				if (nt == 0 && name.n < sizeof c->sni) {
					memcpy(c->sni, name.p, name.n);
					c->sni[name.n] = 0;
				}
			}
			break;
		}
		case EXT_EARLY_DATA:
			/* §4.2.10: empty in a ClientHello; ignored, never accepted */
			if (body.n != 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad early_data in ClientHello");
			seen_early = 1;
			break;
		default:
			/* unknown or unused (PSK, cookie...): ignored (§4.2) */
			break;
		}
	}
	/* §4.2.1: a client not offering 0x0304 gets protocol_version */
	if (!tls13)
		return fail(c, NK_ALERT_PROTOCOL_VERSION, "client does not offer TLS 1.3");
	/* §4.2.1: with supported_versions, legacy_version (above 0x0300) is
	 * not used for negotiation */
	if (comp.n != 1 || comp.p[0] != 0)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "legacy_compression_methods is not { null }");
	if (second && (sid.n != c->session_id_len || memcmp(sid.p, c->session_id, sid.n) != 0))
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "second ClientHello changes legacy_session_id");

	/* suite: ours first */
	for (i = 0; i < c->n_suites && !suite; i++)
		if (in_list16(&suites, c->suites[i]))
			suite = c->suites[i];
	if (!suite)
		return fail(c, NK_ALERT_HANDSHAKE_FAILURE, "no cipher suite in common");
	if (second && suite != c->suite)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "second ClientHello changes the cipher suites");
	/* signature scheme fitting our key */
	if (!seen_sigs)
		return fail(c, NK_ALERT_MISSING_EXTENSION, "ClientHello without signature_algorithms");
	for (i = 0; i < c->n_sigs && !sig; i++)
		if (in_list16(&sigs, c->sigs[i]) && nk_tlssig_fits_priv(c->sigs[i], &c->cfg.cred->key))
			sig = c->sigs[i];
	if (!sig)
		return fail(c, NK_ALERT_HANDSHAKE_FAILURE, "no signature scheme the client accepts fits our key");
	/* ALPN (RFC 7301 §3.2) */
	c->alpn[0] = 0;
	if (c->cfg.alpn != NULL && seen_alpn) {
		struct rd l = alpn, name;
		size_t al = strlen(c->cfg.alpn);
		while (l.n > 0) {
			if (rd_vec(&l, 1, 1, 255, &name) < 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad ALPN protocol list");
			if (name.n == al && memcmp(name.p, c->cfg.alpn, al) == 0)
				memcpy(c->alpn, c->cfg.alpn, al + 1);
		}
		if (!c->alpn[0])
			return fail(c, NK_ALERT_NO_APPLICATION_PROTOCOL,
				"client does not offer ALPN protocol \"%s\"", c->cfg.alpn);
	}
	if (c->cfg.alpn_required && !c->alpn[0])
		return fail(c, NK_ALERT_NO_APPLICATION_PROTOCOL, "client offers no ALPN, \"%s\" is required",
			c->cfg.alpn);
	/* group: ours first, among the client's supported_groups */
	if (!seen_groups || !seen_shares)
		return fail(c, NK_ALERT_MISSING_EXTENSION, "ClientHello without supported_groups or key_share");
	for (i = 0; i < c->n_groups && !group; i++)
		if (in_list16(&groups, c->groups[i]))
			group = c->groups[i];
	if (!group)
		return fail(c, NK_ALERT_HANDSHAKE_FAILURE, "no group in common");
	{
		/* §4.2.8: KeyShareEntry client_shares<0..2^16-1>, each for an offered group, no repeats */
		struct rd l = shares, ke;
		unsigned g;
		uint32_t seen_g = 0;
		while (l.n > 0) {
			if (rd_u16(&l, &g) < 0 || rd_vec(&l, 2, 1, 0xffff, &ke) < 0)
				return fail(c, NK_ALERT_DECODE_ERROR, "bad KeyShareEntry");
			if (!in_list16(&groups, g))
				return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "key share for group 0x%04x not in supported_groups", g);
			if (g < 32) {
				if (seen_g & (1u << g))
					return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "two key shares for one group");
				seen_g |= 1u << g;
			}
			if (g == group && share == NULL) {
				share = ke.p;
				share_len = ke.n;
			}
		}
	}
	if (second && (group != c->group || share == NULL))
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "second ClientHello lacks a key share for %s",
			nk_tls13_group_name(c->group));

	if (!second) {
		memcpy(c->session_id, sid.p, sid.n);
		c->session_id_len = sid.n;
		c->suite = (uint16_t)suite;
		nk_tlsks_set_hash(&c->ks, nk_tlsrec_suite_hash(c->suite));
	}
	c->group = (uint16_t)group;
	c->sig_scheme = (uint16_t)sig;
	/* §4.2.10: we ignore early_data, so its records are skipped (tls13.c,
	 * skip_early); a second ClientHello must not offer it and ends it */
	c->early_skip = !second && seen_early;
	nk_tlsks_add(&c->ks, msg, len);
	(void)random;
	say(c, "<- ClientHello: %s, SNI %s, ALPN %s; chose %s, %s, %s",
		second ? "second" : "TLS 1.3", c->sni[0] ? c->sni : "(none)", c->alpn[0] ? c->alpn : "(none)",
		nk_tlsrec_suite_name(c->suite), nk_tls13_group_name(c->group), nk_tlssig_name(c->sig_scheme));

	if (share == NULL) {
		/* §4.1.4: HelloRetryRequest for our group */
		nk_tlsks_hrr_restart(&c->ks);
		if (send_server_hello(c, 1, NULL, 0) < 0)
			return fail(c, NK_ALERT_INTERNAL_ERROR, "output buffer full");
		send_ccs(c);
		c->hrr_done = 1;
		c->state = NK_S_WAIT_CH2;
		say(c, "-> HelloRetryRequest: the client sent no %s share", nk_tls13_group_name(c->group));
		return 0;
	}

	/* ServerHello with our share, then the (EC)DHE secret */
	if (c->cfg.test_random != NULL)
		memcpy(c->random, c->cfg.test_random, 32);
	else
		br_hmac_drbg_generate(&c->rng, c->random, 32);
	publen = make_share(c, c->group, pub);
	if (publen == 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "cannot make a %s key share", nk_tls13_group_name(c->group));
	if (ecdhe(c, share, share_len, ss, &ss_len) < 0)
		return fail(c, NK_ALERT_ILLEGAL_PARAMETER, "client's %s key share is invalid",
			nk_tls13_group_name(c->group));
	if (send_server_hello(c, 0, pub, publen) < 0) {
		nk_wipe(ss, sizeof ss);
		return fail(c, NK_ALERT_INTERNAL_ERROR, "output buffer full");
	}
	send_ccs(c);
	if (nk_tlsks_handshake(&c->ks, ss, ss_len) < 0 ||
	    nk_tlsrec_set_secret(&c->wr, c->suite, c->ks.s_hs) < 0 ||
	    nk_tlsrec_set_secret(&c->rd, c->suite, c->ks.c_hs) < 0) {
		nk_wipe(ss, sizeof ss);
		return fail(c, NK_ALERT_INTERNAL_ERROR, "key schedule failed");
	}
	nk_wipe(ss, sizeof ss);
	say(c, "-> ServerHello: %s, %s; handshake keys derived", nk_tlsrec_suite_name(c->suite),
		nk_tls13_group_name(c->group));
	if (send_flight(c) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "cannot send EncryptedExtensions..Finished");
	say(c, "-> EncryptedExtensions (ALPN %s), Certificate (%zu), CertificateVerify (%s), Finished",
		c->alpn[0] ? c->alpn : "(none)", c->cfg.cred->chain_len, nk_tlssig_name(c->sig_scheme));
	/* application secrets over ClientHello..server Finished; we may send now */
	if (nk_tlsks_master(&c->ks) < 0 || nk_tlsrec_set_secret(&c->wr, c->suite, c->ks.s_ap) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "key schedule failed");
	c->state = NK_S_WAIT_FINISHED;
	return 0;
}

/* The client's Finished (§4.4.4) over ClientHello..server Finished. */
static int recv_client_finished(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	unsigned char want[NK_TLS_MAX_HASH];
	size_t hl = c->ks.hl;

	if (len - 4 != hl)
		return fail(c, NK_ALERT_DECODE_ERROR, "Finished has %zu bytes, expected %zu", len - 4, hl);
	nk_tlsks_finished(&c->ks, c->ks.c_hs, want);
	if (!nk_ct_eq(want, msg + 4, hl))
		return fail(c, NK_ALERT_DECRYPT_ERROR, "client Finished does not verify");
	nk_tlsks_add(&c->ks, msg, len);
	if (nk_tlsrec_set_secret(&c->rd, c->suite, c->ks.c_ap) < 0)
		return fail(c, NK_ALERT_INTERNAL_ERROR, "key schedule failed");
	nk_wipe(c->ks.c_hs, sizeof c->ks.c_hs);
	nk_wipe(c->ks.s_hs, sizeof c->ks.s_hs);
	nk_wipe(c->ks.secret, sizeof c->ks.secret);
	say(c, "<- Finished: client Finished verifies; application traffic keys in use");
	c->state = NK_C_CONNECTED;
	return 0;
}

int nk_tls13_i_server_handshake(struct nk_tls13 *c, const unsigned char *msg, size_t len)
{
	unsigned type = msg[0];

	switch (c->state) {
	case NK_S_WAIT_CH:
	case NK_S_WAIT_CH2:
		if (type == HS_CLIENT_HELLO)
			return recv_client_hello(c, msg, len);
		break;
	case NK_S_WAIT_FINISHED:
		if (type == HS_FINISHED)
			return recv_client_finished(c, msg, len);
		break;
	default:
		break;
	}
	return fail(c, NK_ALERT_UNEXPECTED_MESSAGE, "unexpected handshake message type %u in state %d",
		type, (int)c->state);
}
