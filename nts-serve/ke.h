/*
 * ke: the NTS-KE server's request handling (RFC 8915 §4), over plaintext:
 * the bytes the TLS 1.3 channel delivered go in, the response bytes come
 * out. The TLS side (ALPN "ntske/1", certificates, the exporter) is the
 * caller's: it passes an exporter callback (RFC 8446 §7.5) through which
 * the C2S/S2C keys are derived (RFC 8915 §5.1).
 *
 *   nk_serve_ke_init()   per connection
 *   nk_serve_ke_feed()   each chunk of plaintext as it arrives; returns
 *        0   need more;
 *        >0  the length of the complete response written to out: send
 *            it, then close_notify and close (RFC 8915 §4: one request,
 *            one response per connection);
 *            After an internal failure (exporter, CSPRNG, no cookie key:
 *            e says which) the response is an Error record 2 (Internal
 *            Server Error) and k->error_code is 2;
 *        -1  nothing to send (output too small, or data after the
 *            answer): close.
 *        k->error_code tells whether the response is an Error record.
 *   nk_serve_ke_eof()    the client closed (or the deadline passed) before
 *                        End of Message: an Error (Bad Request) to send if
 *                        the stream is still writable.
 *
 * The response, in this order: NextProtocol {0}; AEAD: the first of the
 * client's list (its preference order, RFC 8915 §4.1.5) that the server
 * supports (15, 17 by default), never one it did not offer; when none
 * matches an EMPTY AEAD record and no cookies; else NK_SERVE_KE_COOKIES
 * cookies (lib/cookie), Server and Port records when the NTP endpoint
 * differs (conf->ntp_server / ntp_port); End of Message. A malformed
 * request gets Error 1 (Bad Request), an unrecognised critical record
 * Error 0; every error response is NextProtocol, Error, End of Message
 * (§4.1.2: NextProtocol exactly once in every response).
 */
#ifndef NK_SERVE_KE_H
#define NK_SERVE_KE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cookie.h"
#include "ntske.h"
#include "util.h"

#define NK_SERVE_KE_COOKIES 8
#define NK_SERVE_KE_LABEL "EXPORTER-network-time-security"
/* Largest response: 8 cookies + the fixed records + Server (255) + Port. */
#define NK_SERVE_KE_RESP_MAX (NK_SERVE_KE_COOKIES * (4 + NK_COOKIE_LEN) + 4 + 6 + 6 + 4 + 255 + 6 + 4)

/* TLS exporter (RFC 8446 §7.5): write out_len octets of
 * TLS-Exporter(label, context, out_len) to out. 0 or -1. */
typedef int (*nk_serve_ke_export_fn)(void *arg, const char *label,
	const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len);

struct nk_serve_ke_conf {
	const struct nk_cookie_keys *keys;
	const uint16_t *aeads;          /* supported (the client's order picks) */
	size_t naeads;
	const char *ntp_server;         /* NULL: no Server record */
	uint16_t ntp_port;              /* 0: no Port record */
	size_t max_req;                 /* 0: NK_NTSKE_REQ_MAX */
	FILE *explain;                  /* NULL: quiet */
};

struct nk_serve_ke {
	struct nk_ntske_parser p;
	int done;                       /* response produced */
	uint16_t aead;                  /* chosen (0: none), after done */
	int error_code;                 /* Error record sent, -1 none */
	char rx_prefix[48], tx_prefix[48];      /* --explain: "nts-serve: KE #n NTS-KE ..." */
};

void nk_serve_ke_init(struct nk_serve_ke *k, const struct nk_serve_ke_conf *conf);
/* --explain lines of this exchange start "nts-serve: KE #id" (nts-serve(8)) */
void nk_serve_ke_set_id(struct nk_serve_ke *k, unsigned long id);
long nk_serve_ke_feed(struct nk_serve_ke *k, const struct nk_serve_ke_conf *conf,
	const uint8_t *data, size_t len, nk_serve_ke_export_fn exp, void *exp_arg,
	uint8_t *out, size_t cap, struct nk_err *e);
long nk_serve_ke_eof(struct nk_serve_ke *k, uint8_t *out, size_t cap, struct nk_err *e);
void nk_serve_ke_wipe(struct nk_serve_ke *k);

/* The TLS side (the listener, ALPN, certificates, the exporter) is
 * kesrv.c's. */

#endif
