/*
 * tls13_int: internals shared by the client (tls13.c) and server
 * (tls13srv.c) halves of the TLS 1.3 engine. Not a public API: the short
 * names below are macros for nk_tls13_i_* symbols.
 */
#ifndef NK_TLS13_INT_H
#define NK_TLS13_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tls13.h"

/* Handshake message types (§4). */
#define HS_CLIENT_HELLO          1
#define HS_SERVER_HELLO          2
#define HS_NEW_SESSION_TICKET    4
#define HS_ENCRYPTED_EXTENSIONS  8
#define HS_CERTIFICATE          11
#define HS_CERTIFICATE_REQUEST  13
#define HS_CERTIFICATE_VERIFY   15
#define HS_FINISHED             20
#define HS_KEY_UPDATE           24
#define HS_MESSAGE_HASH        254

/* Extensions (§4.2). */
#define EXT_SERVER_NAME            0
#define EXT_SUPPORTED_GROUPS      10
#define EXT_SIGNATURE_ALGORITHMS  13
#define EXT_ALPN                  16
#define EXT_RECORD_SIZE_LIMIT     28
#define EXT_SESSION_TICKET        35
#define EXT_PRE_SHARED_KEY        41
#define EXT_EARLY_DATA            42
#define EXT_SUPPORTED_VERSIONS    43
#define EXT_COOKIE                44
#define EXT_PSK_KEY_EXCHANGE_MODES 45
#define EXT_KEY_SHARE             51
#define EXT_RENEGOTIATION_INFO    0xff01

/* §4.1.3: SHA-256("HelloRetryRequest") */
extern const unsigned char nk_tls13_i_hrr_random[32];

#define say           nk_tls13_i_say
#define fail          nk_tls13_i_fail
#define send_record   nk_tls13_i_send_record
#define queue_alert   nk_tls13_i_queue_alert
#define send_handshake nk_tls13_i_send_handshake
#define group_curve   nk_tls13_i_group_curve
#define make_share    nk_tls13_i_make_share
#define ecdhe         nk_tls13_i_ecdhe

/* One --explain line. */
void say(struct nk_tls13 *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fatal error: queue 'alert', keep the reason, state FAILED. Returns -1. */
int fail(struct nk_tls13 *c, int alert, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* One record (protected when the write keys are set). 0 or -1 (no room). */
int send_record(struct nk_tls13 *c, unsigned type, const void *data, size_t len);
void queue_alert(struct nk_tls13 *c, int level, int desc);
/* A small handshake message (body <= 512 bytes): transcript + one record. */
int send_handshake(struct nk_tls13 *c, unsigned type, const void *body, size_t len);
int group_curve(uint16_t g);
/* Fresh key share for group g into c->share_*; public value to pub; its length (0: error). */
size_t make_share(struct nk_tls13 *c, uint16_t g, unsigned char *pub);
/* (EC)DHE with the peer's share into ss (BR_EC_KBUF_PUB_MAX_SIZE bytes);
 * wipes our private key, and ss whole on error. 0 or -1. */
int ecdhe(struct nk_tls13 *c, const unsigned char *peer, size_t plen, unsigned char *ss, size_t *ss_len);

/* Server half (tls13srv.c): one complete handshake message in a server state. */
int nk_tls13_i_server_handshake(struct nk_tls13 *c, const unsigned char *msg, size_t len);

/* A bounded reader over a byte string: every get checks the length first. */
struct rd {
	const unsigned char *p;
	size_t n;
};

static inline int rd_u8(struct rd *r, unsigned *v)
{
	if (r->n < 1)
		return -1;
	*v = r->p[0];
	r->p++;
	r->n--;
	return 0;
}

static inline int rd_u16(struct rd *r, unsigned *v)
{
	if (r->n < 2)
		return -1;
	*v = (unsigned)r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->n -= 2;
	return 0;
}

static inline int rd_u24(struct rd *r, size_t *v)
{
	if (r->n < 3)
		return -1;
	*v = (size_t)r->p[0] << 16 | (size_t)r->p[1] << 8 | r->p[2];
	r->p += 3;
	r->n -= 3;
	return 0;
}

static inline int rd_bytes(struct rd *r, size_t len, const unsigned char **p)
{
	if (r->n < len)
		return -1;
	*p = r->p;
	r->p += len;
	r->n -= len;
	return 0;
}

/* opaque x<lo..hi> with a 1-, 2- or 3-byte length prefix, as a sub-reader. */
static inline int rd_vec(struct rd *r, int lenbytes, size_t lo, size_t hi, struct rd *sub)
{
	size_t len;
	unsigned v;

	if (lenbytes == 1) {
		if (rd_u8(r, &v) < 0)
			return -1;
		len = v;
	} else if (lenbytes == 2) {
		if (rd_u16(r, &v) < 0)
			return -1;
		len = v;
	} else if (rd_u24(r, &len) < 0) {
		return -1;
	}
	if (len < lo || len > hi || rd_bytes(r, len, &sub->p) < 0)
		return -1;
	sub->n = len;
	return 0;
}

/* A bounded writer. */
struct wr {
	unsigned char *p;
	size_t len, cap;
	int overflow;
};

static inline void wr_bytes(struct wr *w, const void *d, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static inline void wr_u8(struct wr *w, unsigned v)
{
	unsigned char b = (unsigned char)v;
	wr_bytes(w, &b, 1);
}

static inline void wr_u16(struct wr *w, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	wr_bytes(w, b, 2);
}

/* Reserve a length prefix of 'lb' bytes; wr_end fills it. */
static inline size_t wr_begin(struct wr *w, int lb)
{
	size_t at = w->len;
	unsigned char z[3] = { 0, 0, 0 };

	wr_bytes(w, z, (size_t)lb);
	return at;
}

static inline void wr_end(struct wr *w, size_t at, int lb)
{
	size_t n;

	if (w->overflow)
		return;
	n = w->len - at - (size_t)lb;
	if (lb == 3) {
		w->p[at] = (unsigned char)(n >> 16);
		w->p[at + 1] = (unsigned char)(n >> 8);
		w->p[at + 2] = (unsigned char)n;
	} else if (lb == 2) {
		w->p[at] = (unsigned char)(n >> 8);
		w->p[at + 1] = (unsigned char)n;
	} else {
		w->p[at] = (unsigned char)n;
	}
}


#endif
