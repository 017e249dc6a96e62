/*
 * serve: what nts-serve's parts share: the `serve` log records (main.c)
 * and the TCP transport (relay.c).
 *
 * TCP transport (nts-serve(8), TCP TRANSPORT): frames as lib/relay.h
 * defines them (2-octet length, RFC 1928 §7 UDP header naming the
 * destination, NTP packet). For each frame:
 *   - destination is this server (one of the --listen addresses, a
 *     --tcp-listen address, loopback on the port of a wildcard --listen,
 *     an unspecified address 0.0.0.0 or ::, the ntp-server name,
 *     "localhost" on a port where 127.0.0.1 or ::1 is this server, or any
 *     name ending in ".onion"; names are never resolved per frame):
 *     answered locally by the NTP/NTS code, the answer framed with the
 *     same address;
 *   - destination on --relay-allow (by name as written there, or by one
 *     of the addresses that name resolved to at start): the packet is
 *     sent over UDP from a socket of this connection; the first answer
 *     from that address whose origin timestamp echoes the request's
 *     transmit timestamp and is no longer than the request is framed
 *     back (else dropped); a relayed request not answered within
 *     NK_TCP_RELAY_TIMEOUT_MS is forgotten;
 *   - anything else: refused, a `serve event=refused` record is logged
 *     and the stream is closed.
 * A malformed frame closes the stream (it cannot be resynchronised).
 * Limits: NK_TCP_MAX_CONN connections (when all are taken, the one idle
 * longest is closed if it has been idle 1 s or more, else the new one is
 * accepted and closed at once), NK_TCP_MAX_FRAMES frames per connection, NK_TCP_IDLE_MS without
 * a complete frame, NK_TCP_MAX_PENDING relayed requests in flight per
 * connection. Bytes out never exceed bytes in, per frame.
 */
#ifndef NK_SERVE_H
#define NK_SERVE_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "config.h"
#include "ntpserve.h"
#include "record.h"
#include "relay.h"

/* Log records on stderr: begin returns a writer holding "serve t=... event=EV";
 * add fields, then nk_serve_log_end(). Rate-limited for the per-client
 * events (refused): at most NK_SERVE_LOG_BURST a second, the rest counted
 * in the next one's suppressed= field. */
#define NK_SERVE_LOG_BURST 20
struct nk_rec_writer *nk_serve_log_begin(const char *event);
void nk_serve_log_end(struct nk_rec_writer *w);
/* 1 when a per-client record may be written now (counts the others). */
int nk_serve_log_client_ok(void);
void nk_serve_log_addr(struct nk_rec_writer *w, const char *key, const struct sockaddr *sa);
/* "ADDR:PORT" ([v6]:port) of a socket address; snprintf-like result. */
int nk_serve_fmt_addr(char *out, size_t cap, const struct sockaddr *sa);

/* A client refused by allow/deny (acl.h): a `refused reason=denied` record,
 * rate-limited like the other per-client records. */
static inline void nk_serve_log_denied(const char *transport, const struct sockaddr *sa)
{
	struct nk_rec_writer *w;

	if (!nk_serve_log_client_ok())
		return;
	w = nk_serve_log_begin("refused");
	nk_recw_str(w, "transport", transport);
	nk_serve_log_addr(w, "client", sa);
	nk_recw_str(w, "reason", "denied");
	nk_serve_log_end(w);
}

#define NK_TCP_MAX_CONN     128
#define NK_TCP_MAX_FRAMES   1024
#define NK_TCP_IDLE_MS      10000
#define NK_TCP_MAX_PENDING  4
#define NK_TCP_RELAY_TIMEOUT_MS 3000
#define NK_TCP_OUT_CAP      (2 * NK_RELAY_FRAME_MAX)
#define NK_TCP_MAX_ALLOW_ADDRS 8

struct nk_tcp_allow {
	char host[NK_CFG_HOST];
	uint16_t port;
	struct sockaddr_storage sa[NK_TCP_MAX_ALLOW_ADDRS];
	socklen_t salen[NK_TCP_MAX_ALLOW_ADDRS];
	unsigned nsa;
};

struct nk_tcp_pending {
	int used;
	uint64_t xmt;                   /* the request's transmit timestamp */
	size_t req_len;                 /* the request packet's length */
	struct sockaddr_storage to;
	socklen_t tolen;
	struct nk_socks5_addr dst;      /* as the client named it */
	uint64_t deadline;
};

struct nk_tcp_conn {
	int fd;                         /* -1: free slot */
	int udp[2];                     /* relay sockets, IPv4 / IPv6, -1 */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct nk_relay_dec dec;
	uint8_t out[NK_TCP_OUT_CAP];
	size_t out_len;
	unsigned frames;
	uint64_t idle_deadline;
	struct nk_tcp_pending pend[NK_TCP_MAX_PENDING];
	int pfd[3];                     /* indices in the pollfd array, -1 */
};

struct nk_tcp {
	int lfd[NK_CFG_MAX_TCP_LISTEN]; /* listening sockets (--tcp-listen) */
	int lpfd[NK_CFG_MAX_TCP_LISTEN];
	size_t nlfd;                    /* 0: no TCP transport */
	struct sockaddr_storage laddr[NK_CFG_MAX_TCP_LISTEN];   /* their addresses */
	socklen_t laddrlen[NK_CFG_MAX_TCP_LISTEN];              /* 0: none */
	const struct nk_acl *acl;       /* allow/deny (acl.h); NULL: everyone */
	const struct sockaddr_storage *listen; /* the UDP listen addresses */
	const socklen_t *listenlen;
	size_t nlisten;
	struct nk_tcp_allow allow[NK_CFG_MAX_ALLOW];
	size_t nallow;
	struct nk_serve_ntp *ntp;
	const char *own_name;           /* the NTS-KE Server record's name (ntp-server), or NULL */
	size_t nconn;                   /* connections open */
	uint64_t bytes_in, bytes_out, frames_local, frames_relayed, refused, malformed, evicted;
	uint64_t denied;                /* connections refused by allow/deny */
	struct nk_tcp_conn conn[NK_TCP_MAX_CONN];
};

/* Set up with nlfd listening sockets lfd[] (non-blocking; 0: no transport).
 * Resolves the allow list (before the privilege drop): 0 or -1 with e filled.
 * t->acl, when set, decides which clients' connections are taken. */
int nk_tcp_init(struct nk_tcp *t, const int *lfd, size_t nlfd, const struct nk_cfg_addr *allow,
	size_t nallow, struct nk_err *e);
/* Add the transport's descriptors to pfd[*n..cap). */
void nk_tcp_fill(struct nk_tcp *t, struct pollfd *pfd, size_t *n, size_t cap);
/* Handle the ready descriptors and the expired deadlines. */
void nk_tcp_service(struct nk_tcp *t, const struct pollfd *pfd, uint64_t now_ms);
/* ms until the next deadline (-1: none). */
int nk_tcp_timeout(const struct nk_tcp *t, uint64_t now_ms);
void nk_tcp_close_all(struct nk_tcp *t);
uint64_t nk_serve_now_ms(void);

#endif
