/*
 * ke: one NTS key exchange (RFC 8915 §4) with one server: TCP (direct, or a
 * SOCKS5 CONNECT by host name), TLS 1.3 with ALPN ntske/1, the NTS-KE
 * request and response, and the keys exported per RFC 8915 §5.1.
 */
#ifndef NTSKE_KE_H
#define NTSKE_KE_H

#include <stdint.h>
#include <stdio.h>

#include "session.h"
#include "socks5.h"
#include "tlscert.h"
#include "util.h"

/* Why a key exchange failed: the tool's exit status and messages use it. */
enum ke_fail {
	KE_OK = 0,
	KE_FAIL_CONNECT,     /* TCP or SOCKS5 */
	KE_FAIL_TLS,         /* handshake, certificate, ALPN */
	KE_FAIL_NTSKE,       /* the NTS-KE response broke a rule */
	KE_FAIL_TIMEOUT,
	KE_FAIL_LOCAL,       /* trust store, randomness, ... */
	KE_FAIL_BROKEN,      /* the connection closed or reset after it opened, before
	                        End of Message, with no alert from the server: the
	                        path (a Tor circuit) may be to blame, not the server */
};

struct ke_job {
	const char *source;          /* name for records and messages */
	const char *host;            /* KE server: name or IP literal */
	uint16_t port;
	const char *sni;             /* name sent and checked (default host) */
	const struct nk_trust *trust;
	const uint16_t *aead;        /* offered, preference order */
	size_t naead;
	int64_t cert_time;           /* validation time */
	int skip_window;             /* --cert-time skip-window */
	double timeout;              /* seconds for the whole exchange */
	const struct nk_socks5_proxy *proxy;   /* NULL: direct */
	FILE *explain;               /* NULL: quiet */
};

/* Run one exchange. On success fills s and returns KE_OK; otherwise e holds
 * one line saying what went wrong. */
enum ke_fail ke_run(const struct ke_job *job, struct nk_session *s, struct nk_err *e);

#endif
