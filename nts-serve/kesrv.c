/* kesrv: the NTS-KE listener of nts-serve (kesrv.h, RFC 8915 §4). */
#include "kesrv.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve.h"

/* After a fatal alert, how long a connection is kept to read (and discard)
 * what the client still sends, so that its close sends no reset that could
 * destroy the alert (RFC 8446 §6.2); the deadline still bounds it. */
#define KE_ALERT_DRAIN_MS 1000

/* Connection phases. */
enum {
	KE_PH_TLS = 0,   /* handshake, then the request (RFC 8915 §4) */
	KE_PH_CLOSING,   /* response and close_notify queued: flushing */
	KE_PH_DRAIN      /* our side shut down: reading until the client closes */
};

/* ---- credentials --------------------------------------------------------- */

/* The leaf's validity window, for the start record and the warnings: read
 * from the certificate as it is (a self-signed leaf with CA:TRUE, which no
 * client would accept, still has a window to report). */
static void leaf_window(struct nk_ke_cred *k)
{
	struct nk_err e;

	if (nk_cert_window(k->c.chain[0].data, k->c.chain[0].data_len, &k->not_before,
			&k->not_after, &e) < 0)
		k->not_before = k->not_after = 0;
}

static int cred_load(struct nk_kesrv *s, int slot, struct nk_err *e)
{
	struct nk_ke_cred *k = &s->cred[slot];

	memset(k, 0, sizeof *k);
	if (nk_server_cred_load(&k->c, s->cert_path, s->key_path, e) < 0)
		return -1;
	k->loaded = 1;
	k->gen = ++s->gen;
	leaf_window(k);
	return 0;
}

static void cred_release(struct nk_kesrv *s, int slot)
{
	struct nk_ke_cred *k = &s->cred[slot];

	if (k->refs > 0)
		k->refs--;
	if (k->refs == 0 && slot != s->cur && k->loaded) {
		nk_server_cred_free(&k->c);
		k->loaded = 0;
	}
}

const struct nk_ke_cred *nk_kesrv_current(const struct nk_kesrv *s)
{
	return &s->cred[s->cur];
}

static void log_cred(struct nk_rec_writer *w, const struct nk_ke_cred *k)
{
	nk_recw_str(w, "cert-key", k->c.key.key_type == BR_KEYTYPE_RSA ? "rsa" : "ec");
	nk_recw_u64(w, "chain", k->c.chain_len);
	nk_recw_i64(w, "not-before", k->not_before);
	nk_recw_i64(w, "not-after", k->not_after);
	nk_recw_u64(w, "cert-gen", k->gen);
}

int nk_kesrv_init(struct nk_kesrv *s, int lfd, const char *cert, const char *key,
	const struct nk_serve_ke_conf *conf, int explain, struct nk_err *e)
{
	memset(s, 0, sizeof *s);
	if (lfd < 0)
		return 0;
	if (cert == NULL || key == NULL || !cert[0] || !key[0]) {
		nk_errf(e, "--ke-listen needs --cert FULLCHAIN.pem and --key PRIVKEY.pem");
		return -1;
	}
	s->cert_path = cert;
	s->key_path = key;
	s->conf = *conf;
	s->explain = explain;
	if (cred_load(s, 0, e) < 0)
		return -1;
	s->cur = 0;
	/* the slot table: allocated once (set-up), never per connection */
	s->conn = calloc(NK_KE_MAX_CONN, sizeof *s->conn);
	if (s->conn == NULL) {
		nk_server_cred_free(&s->cred[0].c);
		nk_errf(e, "NTS-KE: cannot allocate %d connection slots", NK_KE_MAX_CONN);
		return -1;
	}
	for (size_t i = 0; i < NK_KE_MAX_CONN; i++) {
		s->conn[i].fd = -1;
		s->conn[i].pfd = -1;
	}
	return nk_kesrv_listen_add(s, lfd, e);
}

int nk_kesrv_listen_add(struct nk_kesrv *s, int lfd, struct nk_err *e)
{
	size_t i = s->nlfd;

	if (s->conn == NULL || i == NK_KE_MAX_LISTEN) {
		nk_errf(e, "NTS-KE: at most %d listen addresses", NK_KE_MAX_LISTEN);
		return -1;
	}
	s->lfd[i] = lfd;
	s->lpfd[i] = -1;
	s->laddrlen[i] = sizeof s->laddr[i];
	if (getsockname(lfd, (struct sockaddr *)&s->laddr[i], &s->laddrlen[i]) < 0)
		s->laddrlen[i] = 0;
	s->nlfd++;
	return 0;
}

int nk_kesrv_reload(struct nk_kesrv *s, struct nk_err *e)
{
	int slot = -1;
	struct nk_rec_writer *w;

	if (s->nlfd == 0)
		return 0;
	/* a spare generation: unused, or loaded but no longer referenced */
	for (int i = 0; i < NK_KE_MAX_CRED; i++) {
		if (i == s->cur)
			continue;
		if (s->cred[i].loaded && s->cred[i].refs == 0) {
			nk_server_cred_free(&s->cred[i].c);
			s->cred[i].loaded = 0;
		}
		if (!s->cred[i].loaded && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		nk_errf(e, "certificate reload: %d older certificates still in use by connections; try again in %d s",
			NK_KE_MAX_CRED - 1, NK_KE_DEADLINE_MS / 1000);
		return -1;
	}
	if (cred_load(s, slot, e) < 0)
		return -1;
	{
		int old = s->cur;

		s->cur = slot;
		if (s->cred[old].refs == 0) {
			nk_server_cred_free(&s->cred[old].c);
			s->cred[old].loaded = 0;
		}
	}
	s->reloads++;
	w = nk_serve_log_begin("reload");
	nk_recw_str(w, "what", "cert");
	log_cred(w, &s->cred[s->cur]);
	nk_serve_log_end(w);
	return 0;
}

/* ---- connections --------------------------------------------------------- */

static void explain_tls(void *arg, const char *line)
{
	const struct nk_ke_conn *c = arg;

	fprintf(stderr, "nts-serve: KE #%lu TLS: %s\n", c->id, line);
}

static void say(const struct nk_kesrv *s, const struct nk_ke_conn *c, const char *what)
{
	if (s->explain)
		fprintf(stderr, "nts-serve: KE #%lu %s\n", c->id, what);
}

static void log_refused(const struct nk_ke_conn *c, const char *reason, const char *err)
{
	struct nk_rec_writer *w;
	char m[200];
	size_t i;

	if (!nk_serve_log_client_ok())
		return;
	w = nk_serve_log_begin("refused");
	nk_recw_str(w, "transport", "ke");
	nk_serve_log_addr(w, "client", (const struct sockaddr *)&c->peer);
	nk_recw_str(w, "reason", reason);
	if (err && err[0]) {
		for (i = 0; err[i] && i < sizeof m - 1; i++)
			m[i] = (err[i] == ' ' || (unsigned char)err[i] < 0x20) ? '_' : err[i];
		m[i] = 0;
		nk_recw_str(w, "error", m);
	}
	nk_serve_log_end(w);
}

static void conn_close(struct nk_kesrv *s, struct nk_ke_conn *c)
{
	if (c->fd < 0)
		return;
	say(s, c, "closed");
	close(c->fd);
	c->fd = -1;
	c->pfd = -1;
	nk_tls13_wipe(&c->tls);
	nk_serve_ke_wipe(&c->ke);
	nk_wipe(c->resp, sizeof c->resp);
	c->resp_len = c->resp_off = 0;
	cred_release(s, c->cred);
	if (s->nconn > 0)
		s->nconn--;
	while (s->hi > 0 && s->conn[s->hi - 1].fd < 0)
		s->hi--;
}

/* RFC 8915 §5.1: the keys come from the TLS exporter (RFC 8446 §7.5). */
static int exporter(void *arg, const char *label, const uint8_t *context, size_t context_len,
	uint8_t *out, size_t out_len)
{
	struct nk_ke_conn *c = arg;

	return nk_tls13_export(&c->tls, label, context, context_len, out, out_len);
}

/* A response (or Error record) of n octets is in c->resp: count it. */
static void got_response(struct nk_kesrv *s, struct nk_ke_conn *c, long n)
{
	c->resp_len = (size_t)n;
	c->resp_off = 0;
	if (c->ke.error_code >= 0) {
		char why[64];

		s->errors++;
		snprintf(why, sizeof why, "Error record %d sent", c->ke.error_code);
		say(s, c, why);
		log_refused(c, c->ke.error_code == 0 ? "unrecognised-critical-record" :
			c->ke.error_code == 1 ? "bad-request" : "internal-error", NULL);
	} else if (c->ke.aead == 0) {
		s->no_aead++;
		say(s, c, "no AEAD in common: empty AEAD record, no cookies");
		log_refused(c, "no-common-aead", NULL);
	} else {
		s->answered++;
	}
}

/* Advance one connection as far as its socket allows. */
static void conn_step(struct nk_kesrv *s, struct nk_ke_conn *c, uint64_t now_ms)
{
	for (int guard = 0; guard < 256 && c->fd >= 0; guard++) {
		enum nk_tls13_status st;
		int progress = 0;
		size_t n;
		const unsigned char *p = nk_tls13_out(&c->tls, &n);

		/* 1. send what the engine has queued */
		if (n > 0) {
			ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0) {
				nk_tls13_out_done(&c->tls, (size_t)w);
				progress = 1;
			} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				log_refused(c, "send-failed", strerror(errno));
				conn_close(s, c);
				return;
			}
		}
		nk_tls13_out(&c->tls, &n);
		st = nk_tls13_status(&c->tls);
		if (st == NK_TLS13_FAILED) {
			/* the alert is flushed above when the socket takes it;
			 * then, as after a response, half-close and drain (below),
			 * for at most KE_ALERT_DRAIN_MS: closing with the client's
			 * bytes unread would reset the connection and could
			 * destroy the alert */
			if (c->phase == KE_PH_TLS) {
				s->tls_failed++;
				say(s, c, nk_tls13_error(&c->tls));
				log_refused(c, "tls", nk_tls13_error(&c->tls));
				c->phase = KE_PH_CLOSING;
				if (c->deadline > now_ms + KE_ALERT_DRAIN_MS)
					c->deadline = now_ms + KE_ALERT_DRAIN_MS;
			}
			if (n > 0) {
				if (progress)
					continue;
				return;         /* POLLOUT, within the deadline */
			}
		}
		if (c->phase == KE_PH_CLOSING && n == 0) {
			/* everything sent: half-close, then wait for the client's
			 * close (closing with its bytes unread would reset the
			 * connection and could destroy the response in flight) */
			shutdown(c->fd, SHUT_WR);
			c->phase = KE_PH_DRAIN;
			say(s, c, st == NK_TLS13_FAILED ? "alert sent; waiting for the client to close" :
				"response and close_notify sent; waiting for the client to close");
		}
		if (c->phase == KE_PH_DRAIN) {
			uint8_t junk[2048];

			/* bounded per wake-up; the deadline bounds the whole */
			for (int k = 0; k < 32; k++) {
				ssize_t r = recv(c->fd, junk, sizeof junk, MSG_DONTWAIT);

				if (r > 0)
					continue;
				if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
					return;
				conn_close(s, c);
				return;
			}
			return;
		}
		/* 2. the response, then close_notify (RFC 8915 §4: one exchange) */
		if (c->resp_len > 0 && c->phase == KE_PH_TLS) {
			/* also after the client's close_notify: it closes only the
			 * client's side (RFC 8446 §6.1) */
			if (st == NK_TLS13_OPEN || st == NK_TLS13_CLOSED) {
				long w = nk_tls13_write(&c->tls, c->resp + c->resp_off, c->resp_len - c->resp_off);

				if (w > 0) {
					c->resp_off += (size_t)w;
					progress = 1;
				}
				if (c->resp_off == c->resp_len) {
					nk_tls13_close(&c->tls);
					c->phase = KE_PH_CLOSING;
					progress = 1;
				}
			} else {
				conn_close(s, c);
				return;
			}
		}
		/* 3. decrypted request bytes to ke.c */
		if (st == NK_TLS13_OPEN && c->phase == KE_PH_TLS && !c->ke.done) {
			uint8_t buf[2048];
			long r = nk_tls13_read(&c->tls, buf, sizeof buf);

			if (r > 0) {
				struct nk_err e = { "" };
				long m = nk_serve_ke_feed(&c->ke, &s->conf, buf, (size_t)r, exporter, c,
					c->resp, sizeof c->resp, &e);

				nk_wipe(buf, sizeof buf);
				if (m > 0) {
					if (e.msg[0])
						say(s, c, e.msg);
					got_response(s, c, m);
				} else if (m < 0) {
					log_refused(c, "ke", e.msg);
					conn_close(s, c);
					return;
				}
				progress = 1;
			}
		}
		/* the client's close_notify before End of Message: Error 1 */
		if (st == NK_TLS13_CLOSED && c->phase == KE_PH_TLS && !c->ke.done) {
			struct nk_err e = { "" };
			long m = nk_serve_ke_eof(&c->ke, c->resp, sizeof c->resp, &e);

			say(s, c, "client sent close_notify before End of Message");
			if (m > 0) {
				got_response(s, c, m);
				continue;
			}
			conn_close(s, c);
			return;
		}
		/* 4. receive */
		if (c->phase == KE_PH_TLS) {
			size_t cap;
			unsigned char *q = nk_tls13_in(&c->tls, &cap);

			if (cap == 0) {
				enum nk_tls13_status before = st;

				if (nk_tls13_process(&c->tls) != before)
					progress = 1;
			} else {
				ssize_t r = recv(c->fd, q, cap, MSG_DONTWAIT);

				if (r > 0) {
					nk_tls13_in_done(&c->tls, (size_t)r);
					c->last_rx = now_ms;
					progress = 1;
				} else if (r == 0) {
					/* the client closed its side */
					if (st == NK_TLS13_OPEN && !c->ke.done) {
						struct nk_err e = { "" };
						long m = nk_serve_ke_eof(&c->ke, c->resp, sizeof c->resp, &e);

						say(s, c, "client closed before End of Message");
						if (m > 0) {
							got_response(s, c, m);
							continue;
						}
					}
					if (st == NK_TLS13_HANDSHAKE) {
						nk_tls13_eof(&c->tls);
						s->tls_failed++;
						log_refused(c, "tls", nk_tls13_error(&c->tls));
					}
					conn_close(s, c);
					return;
				} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
					conn_close(s, c);
					return;
				}
			}
		}
		if (!progress)
			return;
	}
}

static struct nk_ke_conn *free_slot(struct nk_kesrv *s, uint64_t now_ms)
{
	struct nk_ke_conn *victim = NULL;

	for (size_t i = 0; i < NK_KE_MAX_CONN; i++)
		if (s->conn[i].fd < 0)
			return &s->conn[i];
	/* full: the oldest stalled connection gives way */
	for (size_t i = 0; i < NK_KE_MAX_CONN; i++) {
		struct nk_ke_conn *c = &s->conn[i];

		if (c->resp_len == 0 && now_ms - c->last_rx >= NK_KE_STALL_MS &&
		    (victim == NULL || c->start < victim->start))
			victim = c;
	}
	if (victim != NULL) {
		s->evicted++;
		log_refused(victim, "evicted", NULL);
		say(s, victim, "evicted: the table is full and this connection is stalled");
		conn_close(s, victim);
	}
	return victim;
}

static int any_stalled(const struct nk_kesrv *s, uint64_t now_ms)
{
	if (s->nconn < NK_KE_MAX_CONN)
		return 1;       /* a free slot */
	for (size_t i = 0; i < NK_KE_MAX_CONN; i++) {
		const struct nk_ke_conn *c = &s->conn[i];

		if (c->fd < 0 || (c->resp_len == 0 && now_ms - c->last_rx >= NK_KE_STALL_MS))
			return 1;
	}
	return 0;
}

static void accept_some(struct nk_kesrv *s, int lfd, uint64_t now_ms)
{
	for (int k = 0; k < 64; k++) {
		struct nk_ke_conn *c;
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		struct nk_tls13_config tc;
		struct nk_err e = { "" };
		int fd, one = 1;

		if (s->nconn == NK_KE_MAX_CONN && !any_stalled(s, now_ms))
			return;         /* the rest wait in the listen backlog */
		fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (s->acl != NULL && !nk_acl_allowed(s->acl, (struct sockaddr *)&peer)) {
			/* refused by allow/deny: closed unread, before it takes a slot */
			s->denied++;
			nk_serve_log_denied("ke", (struct sockaddr *)&peer);
			close(fd);
			continue;
		}
		c = free_slot(s, now_ms);
		if (c == NULL) {
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = fd;
		c->pfd = -1;
		c->phase = KE_PH_TLS;
		if ((size_t)(c - s->conn) + 1 > s->hi)
			s->hi = (size_t)(c - s->conn) + 1;
		c->id = ++s->next_id;
		c->peer = peer;
		c->start = c->last_rx = now_ms;
		c->deadline = now_ms + NK_KE_DEADLINE_MS;
		c->resp_len = c->resp_off = 0;
		c->cred = s->cur;
		s->cred[s->cur].refs++;
		s->nconn++;
		s->accepted++;
		nk_serve_ke_init(&c->ke, &s->conf);
		nk_serve_ke_set_id(&c->ke, c->id);
		memset(&tc, 0, sizeof tc);
		tc.cred = &s->cred[s->cur].c;
		tc.alpn = NK_KE_ALPN;
		tc.alpn_required = 1;   /* RFC 8915 §4 */
		if (s->explain) {
			char a[80] = "?", line[160];

			tc.explain = explain_tls;
			tc.explain_arg = c;
			nk_serve_fmt_addr(a, sizeof a, (struct sockaddr *)&peer);
			snprintf(line, sizeof line, "accepted from %s (slot %zu of %d, certificate generation %u, deadline %d ms)",
				a, (size_t)(c - s->conn), NK_KE_MAX_CONN, s->cred[s->cur].gen, NK_KE_DEADLINE_MS);
			say(s, c, line);
		}
		if (nk_tls13_server_init(&c->tls, &tc, &e) < 0) {
			log_refused(c, "tls-init", e.msg);
			conn_close(s, c);
			continue;
		}
	}
}

void nk_kesrv_fill(struct nk_kesrv *s, struct pollfd *pfd, size_t *n, size_t cap)
{
	uint64_t now = nk_serve_now_ms();

	if (s->nlfd == 0)
		return;
	for (size_t i = 0; i < s->nlfd; i++) {
		s->lpfd[i] = -1;
		if (*n < cap && (s->nconn < NK_KE_MAX_CONN || any_stalled(s, now))) {
			pfd[*n].fd = s->lfd[i];
			pfd[*n].events = POLLIN;
			pfd[*n].revents = 0;
			s->lpfd[i] = (int)(*n)++;
		}
	}
	for (size_t i = 0; i < s->hi; i++) {
		struct nk_ke_conn *c = &s->conn[i];
		size_t out, room;

		c->pfd = -1;
		if (c->fd < 0 || *n >= cap)
			continue;
		nk_tls13_out(&c->tls, &out);
		nk_tls13_in(&c->tls, &room);
		pfd[*n].fd = c->fd;
		pfd[*n].events = (short)((out > 0 ? POLLOUT : 0) |
			(c->phase == KE_PH_DRAIN || (c->phase == KE_PH_TLS && room > 0) ? POLLIN : 0));
		pfd[*n].revents = 0;
		c->pfd = (int)(*n)++;
	}
}

void nk_kesrv_service(struct nk_kesrv *s, const struct pollfd *pfd, uint64_t now_ms)
{
	if (s->nlfd == 0)
		return;
	for (size_t i = 0; i < s->hi; i++) {
		struct nk_ke_conn *c = &s->conn[i];

		if (c->fd < 0)
			continue;
		if (c->pfd >= 0 && pfd[c->pfd].revents)
			conn_step(s, c, now_ms);
		if (c->fd >= 0 && now_ms >= c->deadline) {
			/* the deadline: an open channel without a complete request
			 * gets Error 1 (Bad Request), best effort, then the close */
			if (c->phase == KE_PH_TLS && nk_tls13_status(&c->tls) == NK_TLS13_OPEN &&
			    !c->ke.done) {
				struct nk_err e;
				long m = nk_serve_ke_eof(&c->ke, c->resp, sizeof c->resp, &e);

				if (m > 0 && nk_tls13_write(&c->tls, c->resp, (size_t)m) == m) {
					size_t n;
					const unsigned char *p;

					nk_tls13_close(&c->tls);
					p = nk_tls13_out(&c->tls, &n);
					if (n > 0)
						(void)send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
				}
			}
			if (c->phase == KE_PH_TLS) {
				s->timeouts++;
				log_refused(c, "deadline", NULL);
			}
			say(s, c, "deadline passed");
			conn_close(s, c);
		}
	}
	for (size_t i = 0; i < s->nlfd; i++)
		if (s->lpfd[i] >= 0 && (pfd[s->lpfd[i]].revents & POLLIN))
			accept_some(s, s->lfd[i], now_ms);
	/* new connections may have data already (the ClientHello) */
	for (size_t i = 0; i < s->hi; i++) {
		struct nk_ke_conn *c = &s->conn[i];

		if (c->fd >= 0 && c->pfd < 0)
			conn_step(s, c, now_ms);
	}
}

int nk_kesrv_timeout(const struct nk_kesrv *s, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	if (s->nlfd == 0 || s->nconn == 0)
		return -1;
	for (size_t i = 0; i < s->hi; i++) {
		const struct nk_ke_conn *c = &s->conn[i];

		if (c->fd < 0)
			continue;
		if (c->deadline < next)
			next = c->deadline;
		/* a full table polls the listen socket again once one is stalled */
		if (s->nconn == NK_KE_MAX_CONN && c->resp_len == 0 && c->last_rx + NK_KE_STALL_MS < next)
			next = c->last_rx + NK_KE_STALL_MS;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now_ms ? 0 : (int)(next - now_ms > 60000 ? 60000 : next - now_ms);
}

void nk_kesrv_close_all(struct nk_kesrv *s)
{
	if (s->conn != NULL) {
		for (size_t i = 0; i < NK_KE_MAX_CONN; i++)
			conn_close(s, &s->conn[i]);
		free(s->conn);
		s->conn = NULL;
	}
	for (int i = 0; i < NK_KE_MAX_CRED; i++)
		if (s->cred[i].loaded) {
			nk_server_cred_free(&s->cred[i].c);
			s->cred[i].loaded = 0;
		}
	for (size_t i = 0; i < s->nlfd; i++)
		close(s->lfd[i]);
	s->nlfd = 0;
}
