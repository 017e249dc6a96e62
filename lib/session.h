/*
 * session: the `session` record (ntskit-records(5)) that nts-ke writes and
 * nts-poll reads and rewrites: one NTS association with a time source.
 *
 *   session source=NAME ke=HOST:PORT ntp=HOST:PORT aead=15 c2s=HEX s2c=HEX
 *           cookies=B64URL,B64URL,... not-before=UNIX not-after=UNIX ke-at=UNIX
 *
 * c2s/s2c are the keys exported per RFC 8915 §5.1 (secrets: session records
 * belong in 0600 state files or pipes, never in logs); each cookie is
 * unpadded base64url, so each keeps its own length; not-before/not-after are
 * the NTS-KE server certificate's validity window (RFC 8915 §8.5) and ke-at
 * the time of the key exchange (a floor for later certificate checks).
 * A session with no cookies left is written with "cookies=-".
 */
#ifndef NK_SESSION_H
#define NK_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ntske.h"
#include "record.h"
#include "util.h"

#define NK_SESSION_MAX_COOKIES 8
#define NK_SESSION_COOKIE_MAX  NK_NTSKE_COOKIE_MAX
#define NK_SESSION_KEY_MAX     64
#define NK_SESSION_HOST_MAX    256

#define NK_SESSION_NAME_MAX   NK_REC_SOURCE_MAX

struct nk_session {
	char source[NK_SESSION_NAME_MAX];
	char ke_host[NK_SESSION_HOST_MAX];
	uint16_t ke_port;
	char ntp_host[NK_SESSION_HOST_MAX];
	uint16_t ntp_port;
	uint16_t aead;
	size_t key_len;                         /* from aead: 32 (15) or 64 (17) */
	uint8_t c2s[NK_SESSION_KEY_MAX], s2c[NK_SESSION_KEY_MAX];
	unsigned ncookies;
	uint16_t cookie_len[NK_SESSION_MAX_COOKIES];
	uint8_t cookie[NK_SESSION_MAX_COOKIES][NK_SESSION_COOKIE_MAX];
	int64_t not_before, not_after, ke_at;
};


/* Is this a valid source name? nk_rec_source_ok (record.h: the one rule). */
int nk_session_name_ok(const char *name);

/* Parse a `session` record. 0, or -1 with e naming the line and field. */
int nk_session_from_rec(struct nk_session *s, const struct nk_rec *rec, struct nk_err *e);

/* Write a `session` record line. 0, or -1 (e says why). */
int nk_session_write(const struct nk_session *s, FILE *out, struct nk_err *e);

/* Take the first cookie out of the jar (RFC 8915 §5.7: each cookie used once).
 * Returns its length, 0 when the jar is empty. */
size_t nk_session_take_cookie(struct nk_session *s, uint8_t *out, size_t cap);
/* Add a cookie at the end (dropped when the jar is full or it is too long). 0 or -1. */
int nk_session_add_cookie(struct nk_session *s, const uint8_t *c, size_t len);

void nk_session_wipe(struct nk_session *s);

#endif
