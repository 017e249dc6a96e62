/*
 * exchange: one NTS-protected NTP exchange (RFC 8915 §5) over a transport:
 * one cookie out of the session's jar (never reused), Cookie Placeholders
 * so that the jar holds 8 again after the answer, the request built by
 * nk_nts_client_request(), every packet that comes back checked by
 * nk_nts_client_verify() (each rejection one stderr line naming the source
 * and the reason), the new cookies added to the jar, and t1..t4 turned
 * into offset and delay (RFC 5905 §8).
 *
 * Packets that fail the checks do not end the exchange: we keep waiting
 * until the timeout for an authenticated answer, so an attacker who can
 * inject packets cannot suppress a genuine one. An unauthenticated
 * Kiss-o'-Death is remembered and acted on only when no authenticated
 * answer came (RFC 8915 §5.7: on an NTS NAK the client "SHOULD wait until
 * the next poll for a valid NTS-protected response").
 */
#ifndef NTS_POLL_EXCHANGE_H
#define NTS_POLL_EXCHANGE_H

#include <stdio.h>

#include "ntp.h"
#include "nts.h"
#include "session.h"
#include "transport.h"

enum px_result {
	PX_SAMPLE,      /* authenticated time: out->offset ... are set */
	PX_UNSYNC,      /* authenticated, but the server is not synchronised */
	PX_KOD,         /* Kiss-o'-Death: out->kiss, out->kod_auth */
	PX_TIMEOUT,     /* no authenticated answer in time */
	PX_NOCOOKIE,    /* the jar is empty: a new NTS-KE is needed */
	PX_ERROR        /* transport or local failure (e says which) */
};

struct px_opts {
	const char *source;
	int timeout_ms;
	FILE *explain;      /* NULL unless --explain */
	unsigned jar_target;    /* placeholders refill the jar to this; 0: NK_NTS_MAX_COOKIES */
};

struct px_out {
	struct nk_ntp_hdr hdr;      /* the accepted answer's header */
	char kiss[5];
	int kod_auth;               /* 1: the KoD was authenticated */
	double t4;                  /* local receive time, Unix seconds */
	double offset, delay, disp; /* seconds */
	unsigned rejected;          /* packets that failed the checks */
	unsigned new_cookies;
};

enum px_result px_exchange(struct tp *t, struct nk_session *s, const struct px_opts *o,
	struct px_out *out, struct nk_err *e);

#endif
