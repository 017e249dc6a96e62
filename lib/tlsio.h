/*
 * tlsio: a small blocking driver for the sans-I/O TLS 1.3 engine (tls13)
 * over a connected stream socket (plain TCP, or a socket lib/socks5 opened).
 * Every step (each wait for the socket to become readable or writable) is
 * bounded by timeout_ms; no signals are raised (MSG_NOSIGNAL).
 *
 *   nk_tls13_client_init(&tls, &cfg, &e);
 *   nk_tlsio_handshake(&tls, fd, 5000, &e);
 *   nk_tlsio_write(&tls, fd, 5000, req, len, &e);
 *   n = nk_tlsio_read(&tls, fd, 5000, buf, sizeof buf, &e);  // 0: close_notify
 *   nk_tlsio_close(&tls, fd, 1000);
 *
 * The same calls drive a server context (nk_tls13_server_init) on an
 * accepted socket. nk_tlsio_read returns -1 with "connection closed without
 * close_notify" when the peer closes the TCP connection without it.
 *
 * When we fail with a fatal alert, nk_tlsio_handshake and nk_tlsio_read
 * send it, shut the socket down for writing and read (discarding) until the
 * peer closes, for at most NK_TLSIO_DRAIN_MS ms (or timeout_ms if shorter)
 * and NK_TLSIO_DRAIN_MAX bytes, so that closing the socket then sends no
 * reset that could destroy the alert in flight.
 */
#ifndef NK_TLSIO_H
#define NK_TLSIO_H

#include <stddef.h>

#include "tls13.h"
#include "util.h"

#define NK_TLSIO_DRAIN_MS  1000
#define NK_TLSIO_DRAIN_MAX (1024 * 1024)

/* Run the handshake to completion. 0 when OPEN, -1 with e filled. */
int nk_tlsio_handshake(struct nk_tls13 *c, int fd, int timeout_ms, struct nk_err *e);
/* Send all of data as application data. 0 or -1. */
int nk_tlsio_write(struct nk_tls13 *c, int fd, int timeout_ms, const void *data, size_t len,
	struct nk_err *e);
/* Read application data: >0 bytes, 0 after the peer's close_notify, -1 on error. */
long nk_tlsio_read(struct nk_tls13 *c, int fd, int timeout_ms, void *buf, size_t cap,
	struct nk_err *e);
/* Send close_notify (best effort). */
void nk_tlsio_close(struct nk_tls13 *c, int fd, int timeout_ms);

#endif
