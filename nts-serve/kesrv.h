/*
 * kesrv: nts-serve's NTS-KE listener (RFC 8915 §4) on the TLS 1.3 engine's
 * server role (lib/tls13, ALPN "ntske/1" required), driven from the main
 * ppoll loop. Request handling and cookies are ke.c's (nk_serve_ke_*); this
 * file moves bytes between the sockets, the TLS contexts and ke.c.
 *
 * Connections: a fixed table of NK_KE_MAX_CONN slots, allocated once at
 * start (each slot holds its struct nk_tls13, ~71 KiB: the table is ~18 MiB
 * of address space; a slot's pages become resident only once it is used,
 * and the lowest free slot is always taken, so light load touches few).
 * Accepts are non-blocking. Per connection:
 *   accept → TLS handshake → request → response → close_notify →
 *   shutdown(SHUT_WR) → the client's bytes drained until it closes
 * all within NK_KE_DEADLINE_MS of the accept; when the deadline passes the
 * connection is closed (an open channel whose request is incomplete first
 * gets Error 1 Bad Request, best effort), and logged as refused
 * reason=deadline.
 * Table full: a new connection takes the slot of the oldest connection
 * that is stalled (nothing received for NK_KE_STALL_MS and no response
 * produced yet), which is closed (logged reason=evicted); when no slot is
 * stalled the listen socket is not polled, and new connections wait in the
 * kernel's listen backlog (128) until a slot frees (at most
 * NK_KE_DEADLINE_MS).
 *
 * Credentials: loaded before the privilege drop (nk_kesrv_init). Reload
 * (nk_kesrv_reload, on SIGHUP) loads the files again into a spare slot of
 * NK_KE_MAX_CRED credential generations; on success new connections use it;
 * a connection keeps the generation it started with (reference counted),
 * and an old generation is freed when its last connection ends. On failure
 * (unreadable file, key not matching the certificate) the current one stays.
 * The paths are re-read by the unprivileged process after --user: they must
 * be readable by that user for a reload to work (documented in nts-serve(8)).
 */
#ifndef NK_SERVE_KESRV_H
#define NK_SERVE_KESRV_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "config.h"
#include "ke.h"
#include "tls13.h"
#include "tlscert.h"

#define NK_KE_MAX_CONN     256
#define NK_KE_DEADLINE_MS  5000
#define NK_KE_STALL_MS     1000
#define NK_KE_MAX_CRED     4
#define NK_KE_ALPN         "ntske/1"
#define NK_KE_MAX_LISTEN   NK_CFG_MAX_KE_LISTEN

struct nk_ke_cred {
	struct nk_server_cred c;
	int loaded;
	unsigned refs;                  /* connections using it */
	unsigned gen;                   /* 1, 2, ... in load order */
	int64_t not_before, not_after;  /* leaf validity (for the log) */
};

struct nk_ke_conn {
	int fd;                         /* -1: free */
	int pfd;                        /* index in the pollfd array, -1 */
	int phase;                      /* KE_PH_* (kesrv.c) */
	int cred;                       /* generation index */
	unsigned long id;
	uint64_t start, deadline, last_rx;
	struct sockaddr_storage peer;
	struct nk_serve_ke ke;
	uint8_t resp[NK_SERVE_KE_RESP_MAX];
	size_t resp_len, resp_off;
	struct nk_tls13 tls;
};

struct nk_kesrv {
	int lfd[NK_KE_MAX_LISTEN];      /* listening sockets (--ke-listen) */
	int lpfd[NK_KE_MAX_LISTEN];
	size_t nlfd;                    /* 0: no NTS-KE */
	struct sockaddr_storage laddr[NK_KE_MAX_LISTEN];
	socklen_t laddrlen[NK_KE_MAX_LISTEN];
	const struct nk_acl *acl;       /* allow/deny (acl.h); NULL: everyone */
	const char *cert_path, *key_path;
	struct nk_ke_cred cred[NK_KE_MAX_CRED];
	int cur;                        /* generation new connections use */
	unsigned gen;
	struct nk_serve_ke_conf conf;
	int explain;
	struct nk_ke_conn *conn;        /* NK_KE_MAX_CONN, allocated once */
	size_t nconn;
	size_t hi;                      /* slots in use are all below this index */
	unsigned long next_id;
	/* counters (stop record) */
	uint64_t accepted, answered, errors, no_aead, tls_failed, timeouts, evicted, reloads;
	uint64_t denied;                /* connections refused by allow/deny (not counted as accepted) */
};

/* Set up with lfd listening (non-blocking; -1: no NTS-KE): loads the
 * credentials, allocates the slot table. 0, or -1 with e filled. */
int nk_kesrv_init(struct nk_kesrv *s, int lfd, const char *cert, const char *key,
	const struct nk_serve_ke_conf *conf, int explain, struct nk_err *e);
/* One more listening socket (after nk_kesrv_init with one): 0, or -1 with
 * e filled (more than NK_KE_MAX_LISTEN). Connections from every listener
 * share the one slot table. s->acl, when set, decides which clients are
 * taken: the others are closed at once, unread, and counted in denied. */
int nk_kesrv_listen_add(struct nk_kesrv *s, int lfd, struct nk_err *e);
/* Re-read certificate and key (SIGHUP). 0 (logged event=reload what=cert),
 * or -1 with e filled (current credentials kept). */
int nk_kesrv_reload(struct nk_kesrv *s, struct nk_err *e);
void nk_kesrv_fill(struct nk_kesrv *s, struct pollfd *pfd, size_t *n, size_t cap);
void nk_kesrv_service(struct nk_kesrv *s, const struct pollfd *pfd, uint64_t now_ms);
/* ms until the next deadline (-1: none). */
int nk_kesrv_timeout(const struct nk_kesrv *s, uint64_t now_ms);
void nk_kesrv_close_all(struct nk_kesrv *s);
/* The leaf's window, key type of the current credential, for the log. */
const struct nk_ke_cred *nk_kesrv_current(const struct nk_kesrv *s);

#endif
