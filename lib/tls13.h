/*
 * tls13: the TLS 1.3 handshake engine (RFC 8446), client and server roles.
 *
 * Profile (RFC 8915 §3 needs TLS 1.3 and ALPN "ntske/1"):
 *   suites  TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 *           TLS_CHACHA20_POLY1305_SHA256;
 *   groups  x25519, secp256r1, secp384r1 (one key share, for the first group
 *           of the list; HelloRetryRequest for the others);
 *   sigs    ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384,
 *           rsa_pss_rsae_sha256/384/512 (lib/tlssig);
 *   SNI, ALPN, cookie, middlebox-compatibility ChangeCipherSpec,
 *   NewSessionTicket ignored, KeyUpdate, alerts, close_notify, the §7.5
 *   exporter. No PSK, no 0-RTT (a server skips the early data of a client
 *   offering early_data, up to NK_TLS13_EARLY_SKIP_MAX, §4.2.10), no client
 *   certificates (a CertificateRequest is answered with an empty
 *   Certificate, §4.4.2.4).
 *
 * SANS-I/O, NO MALLOC. The caller owns a struct nk_tls13 (71432 bytes on
 * x86-64: sizeof(struct nk_tls13); the buffers are one record in, one
 * record + 1 KiB out, 32 KiB for handshake reassembly) and moves bytes:
 *
 *   nk_tls13_client_init(c, &cfg, &err);          queues the ClientHello
 *   (or nk_tls13_server_init(c, &cfg, &err);      waits for a ClientHello)
 *   loop:
 *     p = nk_tls13_out(c, &n);   send n bytes from p; nk_tls13_out_done(c, sent)
 *     p = nk_tls13_in(c, &cap);  recv up to cap bytes into p; nk_tls13_in_done(c, got)
 *     nk_tls13_status(c): NK_TLS13_HANDSHAKE, NK_TLS13_OPEN, NK_TLS13_CLOSED, NK_TLS13_FAILED
 *   once OPEN: nk_tls13_write() queues application data, nk_tls13_read()
 *   takes decrypted application data; nk_tls13_close() queues close_notify.
 *
 * The engine processes every complete record it holds at each in_done()
 * (and at nk_tls13_process()), as long as its output buffer has room for the
 * answers; send the output first, then read. On a fatal error the engine
 * queues the alert (send it), status becomes FAILED, nk_tls13_error() says
 * why in one line and the alert codes are kept (c->alert_sent/alert_rcvd).
 *
 * Results once OPEN: c->suite, c->group, c->sig_scheme, c->alpn, c->hrr_done,
 * c->sni (server), c->cert (client: leaf notBefore/notAfter, subject,
 * issuer, key); cfg.explain receives one line per handshake step.
 *
 * Validation time is an input (cfg.time): there is no hidden time() call.
 * Randomness: getrandom() seeds an HMAC-DRBG (SHA-256) per context.
 * Every secret is wiped by nk_tls13_wipe() (call it when done).
 */
#ifndef NK_TLS13_H
#define NK_TLS13_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#include "tlscert.h"
#include "tlsks.h"
#include "tlsrec.h"
#include "tlssig.h"
#include "util.h"

/* Named groups (RFC 8446 §4.2.7). */
#define NK_TLS_GROUP_SECP256R1 0x0017
#define NK_TLS_GROUP_SECP384R1 0x0018
#define NK_TLS_GROUP_X25519    0x001d

/* Alerts (§6). */
#define NK_ALERT_CLOSE_NOTIFY            0
#define NK_ALERT_UNEXPECTED_MESSAGE     10
#define NK_ALERT_BAD_RECORD_MAC         20
#define NK_ALERT_RECORD_OVERFLOW        22
#define NK_ALERT_HANDSHAKE_FAILURE      40
#define NK_ALERT_BAD_CERTIFICATE        42
#define NK_ALERT_UNSUPPORTED_CERTIFICATE 43
#define NK_ALERT_CERTIFICATE_EXPIRED    45
#define NK_ALERT_CERTIFICATE_UNKNOWN    46
#define NK_ALERT_ILLEGAL_PARAMETER      47
#define NK_ALERT_UNKNOWN_CA             48
#define NK_ALERT_DECODE_ERROR           50
#define NK_ALERT_DECRYPT_ERROR          51
#define NK_ALERT_PROTOCOL_VERSION       70
#define NK_ALERT_INTERNAL_ERROR         80
#define NK_ALERT_USER_CANCELED          90
#define NK_ALERT_MISSING_EXTENSION     109
#define NK_ALERT_UNSUPPORTED_EXTENSION 110
#define NK_ALERT_NO_APPLICATION_PROTOCOL 120

const char *nk_tls13_alert_name(int alert);
const char *nk_tls13_group_name(uint16_t group);

#define NK_TLS13_MAX_SUITES 3
#define NK_TLS13_MAX_GROUPS 12
#define NK_TLS13_MAX_SIGS   16
#define NK_TLS13_MAX_CHAIN  10          /* certificates accepted in one Certificate message */
#define NK_TLS13_HS_MAX     32768       /* largest handshake message accepted */
#define NK_TLS13_OUT_MAX    (NK_TLS_MAX_RECORD + 1024)
/* Early data (0-RTT) a server skips when the client offers it (RFC 8446
 * §4.2.10; ntskit never accepts 0-RTT): bytes of payload, each skipped record
 * counted as its largest possible payload, TLSCiphertext.length - 17 (tag and
 * inner type). ntskit issues no tickets, so no max_early_data_size was ever
 * announced; 2^14, one full record, is the default of OpenSSL's
 * max_early_data_size and bounds the trial decryptions per connection. */
#define NK_TLS13_EARLY_SKIP_MAX 16384

/* Test-only: shape the ClientHello like RFC 8448 §3 (empty legacy_session_id,
 * renegotiation_info, session_ticket, psk_key_exchange_modes, record_size_limit);
 * for a server, the EncryptedExtensions like the RFC's (supported_groups,
 * record_size_limit, server_name). */
#define NK_TLS13_TEST_RFC8448 1u
/* Test-only: skip the host name check (RFC 8448's certificate has CN=rsa, no SAN). */
#define NK_TLS13_TEST_NO_NAME_CHECK 2u
/* Test-only: the client's first ClientHello offers early_data (it sends none). */
#define NK_TLS13_TEST_EARLY_DATA 4u

struct nk_tls13_config {
	const char *server_name;   /* SNI (not sent for IP literals) and name checked; NULL: neither */
	const char *alpn;          /* protocol to offer, e.g. "ntske/1"; NULL: no ALPN */
	int alpn_required;         /* 1: the server must select exactly 'alpn' (else no_application_protocol) */
	const struct nk_trust *trust;  /* trust anchors (required) */
	int64_t time;              /* validation time, Unix seconds */
	int skip_window;           /* 1: do not check validity windows (RFC 8915 §8.5 bootstrap) */
	const uint16_t *suites;    /* offered, in preference order; NULL: 0x1301,0x1302,0x1303 */
	size_t n_suites;
	const uint16_t *groups;    /* supported_groups in order; the first gets a key share.
	                              NULL: x25519, secp256r1, secp384r1 */
	size_t n_groups;
	const uint16_t *sigs;      /* signature_algorithms; NULL: the five of the profile */
	size_t n_sigs;
	/* --explain: called with one line (no newline) per handshake step. */
	void (*explain)(void *arg, const char *line);
	void *explain_arg;
	/* Server role only: certificate chain and key (lib/tlscert). */
	const struct nk_server_cred *cred;
	/* Test hooks (NULL/0 in production). */
	const unsigned char *test_random;      /* 32-byte ClientHello.random (ServerHello.random for a server) */
	const unsigned char *test_x25519_key;  /* 32-byte X25519 private key (RFC 7748 byte order) */
	const unsigned char *test_cv_sig;      /* server: this CertificateVerify signature instead of signing */
	size_t test_cv_sig_len;
	unsigned test_flags;
};

enum nk_tls13_status {
	NK_TLS13_HANDSHAKE = 0,
	NK_TLS13_OPEN,
	NK_TLS13_CLOSED,      /* close_notify received */
	NK_TLS13_FAILED
};

/* Handshake states: client (RFC 8446 Appendix A.1), server (A.2), and the
 * shared end states. */
enum nk_tls13_state {
	NK_C_WAIT_SH = 0,
	NK_C_WAIT_EE,
	NK_C_WAIT_CERT_CR,
	NK_C_WAIT_CV,
	NK_C_WAIT_FINISHED,
	NK_C_CONNECTED,         /* both roles */
	NK_C_CLOSED,            /* both roles: peer's close_notify received */
	NK_C_FAILED,            /* both roles */
	NK_S_WAIT_CH,           /* server: START/RECVD_CH */
	NK_S_WAIT_CH2,          /* server: HelloRetryRequest sent */
	NK_S_WAIT_FINISHED      /* server: WAIT_FLIGHT2/WAIT_FINISHED */
};

struct nk_tls13 {
	int server;                           /* 0: client role, 1: server role */
	/* configuration (copied) */
	struct nk_tls13_config cfg;
	uint16_t suites[NK_TLS13_MAX_SUITES]; size_t n_suites;
	uint16_t groups[NK_TLS13_MAX_GROUPS]; size_t n_groups;
	uint16_t sigs[NK_TLS13_MAX_SIGS];     size_t n_sigs;
	char sni[256];                        /* client: name sent; server: name received ("" none) */
	int sni_sent;

	enum nk_tls13_state state;
	br_hmac_drbg_context rng;

	/* ClientHello values kept for the second ClientHello and checks */
	unsigned char random[32];
	unsigned char session_id[32];
	size_t session_id_len;
	uint16_t share_group;                 /* group of the key share we sent */
	unsigned char share_sk[48];           /* its private key */
	size_t share_sk_len;
	unsigned char share_pub[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t share_pub_len;
	int hrr_done;                         /* a HelloRetryRequest was processed */
	int close_sent;                       /* our close_notify is queued: no more writes */
	int cert_requested;                   /* CertificateRequest seen: answer with an empty Certificate */
	unsigned char cr_ctx[255];            /* its certificate_request_context */
	size_t cr_ctx_len;
	int ccs_sent, ccs_rcvd;
	/* server: the ClientHello offered early_data, which we ignore (§4.2.10):
	 * records that do not deprotect (after a HelloRetryRequest: records of
	 * type application_data) are skipped until one deprotects, at most
	 * NK_TLS13_EARLY_SKIP_MAX bytes of payload in all */
	int early_skip;
	size_t early_skipped;

	/* results */
	uint16_t suite;                       /* negotiated suite */
	uint16_t group;                       /* negotiated group */
	uint16_t sig_scheme;                  /* server's CertificateVerify scheme */
	char alpn[256];                       /* selected ALPN protocol, "" if none */
	struct nk_certval_result cert;        /* leaf key, window, subject, issuer */
	int cert_ok;

	struct nk_tlsks ks;
	struct nk_tlsrec rd, wr;              /* record protection per direction */

	/* buffers */
	unsigned char in[NK_TLS_MAX_RECORD];  /* received, not yet processed */
	size_t in_len;
	size_t app_off, app_len, app_rec;     /* decrypted application data held in 'in' */
	unsigned char out[NK_TLS13_OUT_MAX];  /* to send */
	size_t out_len;
	unsigned char hs[NK_TLS13_HS_MAX];    /* handshake message reassembly */
	size_t hs_len;

	int alert_sent, alert_rcvd;           /* -1 when none */
	struct nk_err err;
};

/* Set up a client and queue its ClientHello. 0, or -1 with e filled (bad config, no randomness). */
int nk_tls13_client_init(struct nk_tls13 *c, const struct nk_tls13_config *cfg, struct nk_err *e);

/* Set up a server (cfg.cred required; cfg.alpn: the protocol to select,
 * alpn_required: refuse clients without it; suites/groups/sigs: server
 * preference order, strict: a client without a key share for our most
 * preferred common group gets a HelloRetryRequest; server_name, trust, time:
 * unused). It waits for a ClientHello. cfg.cred is used while the
 * ClientHello is processed (the flight is signed then): a reloaded
 * credential may replace it for later handshakes. The Certificate message
 * must fit one record (chains up to ~15 KB). 0, or -1 with e filled. */
int nk_tls13_server_init(struct nk_tls13 *c, const struct nk_tls13_config *cfg, struct nk_err *e);

/* Bytes to send: pointer and length (0 when nothing). */
const unsigned char *nk_tls13_out(struct nk_tls13 *c, size_t *len);
void nk_tls13_out_done(struct nk_tls13 *c, size_t n);
/* Where to put received bytes, and how many fit (0: process/read first). */
unsigned char *nk_tls13_in(struct nk_tls13 *c, size_t *cap);
/* n bytes were received at nk_tls13_in(); processes complete records. */
enum nk_tls13_status nk_tls13_in_done(struct nk_tls13 *c, size_t n);
/* Process buffered records again (after output was drained). */
enum nk_tls13_status nk_tls13_process(struct nk_tls13 *c);
/* The peer closed the transport: a handshake in progress fails. */
void nk_tls13_eof(struct nk_tls13 *c);

enum nk_tls13_status nk_tls13_status(const struct nk_tls13 *c);
const char *nk_tls13_error(const struct nk_tls13 *c);

/* Application data (status OPEN; write also in status CLOSED until our own
 * nk_tls13_close(): the peer's close_notify closes only its side, §6.1).
 * write: bytes accepted (maybe fewer than
 * len when the output buffer is full; 0 then), -1 when not open.
 * read: bytes copied (0: none available now), -1 when failed. */
long nk_tls13_write(struct nk_tls13 *c, const void *data, size_t len);
long nk_tls13_read(struct nk_tls13 *c, void *buf, size_t cap);
/* Queue a KeyUpdate (request_update = 1 asks the peer to update too). 0/-1. */
int nk_tls13_key_update(struct nk_tls13 *c, int request_update);
/* Queue close_notify (§6.1). Later writes fail; reading continues until the
 * peer's own close_notify (status CLOSED): a half-close, so a client can
 * still read the answer to what it sent. */
void nk_tls13_close(struct nk_tls13 *c);

/* §7.5 exporter (status OPEN or CLOSED). 0 or -1. */
int nk_tls13_export(const struct nk_tls13 *c, const char *label,
	const void *ctx, size_t ctx_len, void *out, size_t out_len);

void nk_tls13_wipe(struct nk_tls13 *c);

#ifdef NK_FUZZING
/* Fuzzing only: feed handshake-record content to the client as if it arrived
 * in 'state' (an enum nk_tls13_state), with placeholder keys and SHA-256. */
int nk_tls13_fuzz_handshake(struct nk_tls13 *c, int state, const unsigned char *d, size_t n);
#endif

#endif
