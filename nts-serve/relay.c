/* relay: the TCP transport and relay of nts-serve (serve.h). */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

uint64_t nk_serve_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int nk_tcp_init(struct nk_tcp *t, const int *lfd, size_t nlfd, const struct nk_cfg_addr *allow,
	size_t nallow, struct nk_err *e)
{
	t->nlfd = 0;
	for (size_t i = 0; i < nlfd && i < NK_CFG_MAX_TCP_LISTEN; i++) {
		t->lfd[i] = lfd[i];
		t->lpfd[i] = -1;
		t->laddrlen[i] = sizeof t->laddr[i];
		if (getsockname(lfd[i], (struct sockaddr *)&t->laddr[i], &t->laddrlen[i]) < 0)
			t->laddrlen[i] = 0;
		t->nlfd++;
	}
	for (size_t i = t->nlfd; i < NK_CFG_MAX_TCP_LISTEN; i++)
		t->laddrlen[i] = 0;
	for (size_t i = 0; i < NK_TCP_MAX_CONN; i++) {
		t->conn[i].fd = -1;
		t->conn[i].udp[0] = t->conn[i].udp[1] = -1;
	}
	t->nallow = 0;
	for (size_t i = 0; i < nallow && i < NK_CFG_MAX_ALLOW; i++) {
		struct nk_tcp_allow *a = &t->allow[t->nallow];
		struct addrinfo hints, *res = NULL, *p;
		char port[8];
		int rc;

		memset(a, 0, sizeof *a);
		snprintf(a->host, sizeof a->host, "%s", allow[i].host);
		a->port = allow[i].port;
		snprintf(port, sizeof port, "%u", (unsigned)a->port);
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_DGRAM;
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(a->host, port, &hints, &res);
		if (rc != 0) {
			nk_errf(e, "relay-allow %s:%u: %s", a->host, (unsigned)a->port, gai_strerror(rc));
			return -1;
		}
		for (p = res; p != NULL && a->nsa < NK_TCP_MAX_ALLOW_ADDRS; p = p->ai_next) {
			if (p->ai_addrlen > sizeof a->sa[0])
				continue;
			memcpy(&a->sa[a->nsa], p->ai_addr, p->ai_addrlen);
			a->salen[a->nsa++] = p->ai_addrlen;
		}
		freeaddrinfo(res);
		t->nallow++;
	}
	return 0;
}

static void conn_close(struct nk_tcp *t, struct nk_tcp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	for (int i = 0; i < 2; i++)
		if (c->udp[i] >= 0)
			close(c->udp[i]);
	if (c->fd >= 0 && t->nconn > 0)
		t->nconn--;
	c->fd = c->udp[0] = c->udp[1] = -1;
	c->out_len = 0;
	memset(c->pend, 0, sizeof c->pend);
}

void nk_tcp_close_all(struct nk_tcp *t)
{
	for (size_t i = 0; i < NK_TCP_MAX_CONN; i++)
		if (t->conn[i].fd >= 0)
			conn_close(t, &t->conn[i]);
	for (size_t i = 0; i < t->nlfd; i++)
		close(t->lfd[i]);
	t->nlfd = 0;
}

void nk_tcp_fill(struct nk_tcp *t, struct pollfd *pfd, size_t *n, size_t cap)
{
	if (t->nlfd == 0)
		return;
	for (size_t i = 0; i < t->nlfd; i++) {
		t->lpfd[i] = -1;
		if (*n < cap) {
			pfd[*n].fd = t->lfd[i];
			pfd[*n].events = POLLIN;
			pfd[*n].revents = 0;
			t->lpfd[i] = (int)(*n)++;
		}
	}
	for (size_t i = 0; i < NK_TCP_MAX_CONN && t->nconn > 0; i++) {
		struct nk_tcp_conn *c = &t->conn[i];

		c->pfd[0] = c->pfd[1] = c->pfd[2] = -1;
		if (c->fd < 0)
			continue;
		if (*n < cap) {
			short ev = 0;

			/* read only while every answer to what we read would fit:
			 * answers are never longer than their requests */
			if (NK_TCP_OUT_CAP - c->out_len >= NK_RELAY_FRAME_MAX)
				ev |= POLLIN;
			if (c->out_len > 0)
				ev |= POLLOUT;
			pfd[*n].fd = c->fd;
			pfd[*n].events = ev;
			pfd[*n].revents = 0;
			c->pfd[0] = (int)(*n)++;
		}
		for (int k = 0; k < 2; k++) {
			if (c->udp[k] >= 0 && *n < cap) {
				pfd[*n].fd = c->udp[k];
				pfd[*n].events = POLLIN;
				pfd[*n].revents = 0;
				c->pfd[1 + k] = (int)(*n)++;
			}
		}
	}
}

int nk_tcp_timeout(const struct nk_tcp *t, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	if (t->nlfd == 0 || t->nconn == 0)
		return -1;
	for (size_t i = 0; i < NK_TCP_MAX_CONN; i++) {
		const struct nk_tcp_conn *c = &t->conn[i];

		if (c->fd < 0)
			continue;
		if (c->idle_deadline < next)
			next = c->idle_deadline;
		for (int k = 0; k < NK_TCP_MAX_PENDING; k++)
			if (c->pend[k].used && c->pend[k].deadline < next)
				next = c->pend[k].deadline;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now_ms ? 0 : (int)(next - now_ms > 60000 ? 60000 : next - now_ms);
}

static int sa_equal(const struct sockaddr *a, const struct sockaddr *b, int with_port)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr &&
			(!with_port || x->sin_port == y->sin_port);
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 &&
			(!with_port || x->sin6_port == y->sin6_port);
	}
	return 0;
}

static int sa_port(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)a)->sin_port);
	if (a->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)a)->sin6_port);
	return -1;
}

static int sa_unspecified(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr == 0;
	if (a->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr);
	return 0;
}

/* Is this address (and port) this server's? */
static int sa_is_local(const struct nk_tcp *t, const struct sockaddr_storage *ss)
{
	const struct sockaddr *s = (const struct sockaddr *)ss;
	int port = sa_port(s);

	if (sa_unspecified(s))
		return 1;
	for (size_t i = 0; i < NK_CFG_MAX_TCP_LISTEN; i++)
		if (t->laddrlen[i] > 0 && sa_equal(s, (const struct sockaddr *)&t->laddr[i], 1))
			return 1;
	for (size_t i = 0; i < t->nlisten; i++) {
		const struct sockaddr *l = (const struct sockaddr *)&t->listen[i];

		if (sa_equal(s, l, 1))
			return 1;
		/* a wildcard listen address: loopback on that port is us */
		if (sa_unspecified(l) && sa_port(l) == port &&
		    ((ss->ss_family == AF_INET && (ntohl(((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr) >> 24) == 127) ||
		     (ss->ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr))))
			return 1;
	}
	return 0;
}

/* "localhost" (RFC 6761 §6.3: always the loopback addresses), with or
 * without the final dot */
static int is_localhost(const struct nk_socks5_addr *d)
{
	static const char lh[] = "localhost";
	size_t n = d->len;

	if (n > 0 && d->a[n - 1] == '.')
		n--;
	return n == sizeof lh - 1 && strncasecmp((const char *)d->a, lh, n) == 0;
}

/* Is the frame's destination this server? Names are never resolved here
 * (a client must not make the relay query DNS): a name is this server when
 * it is one of the names it is known by (nts-serve(8), TCP TRANSPORT). */
static int is_local(const struct nk_tcp *t, const struct nk_socks5_addr *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (d->atyp == NK_SOCKS5_ATYP_DOMAIN) {
		/* an onion service cannot be reached over UDP anyway: a name
		 * ending in .onion is the one this server is published as */
		static const char onion[] = ".onion";
		size_t ol = sizeof onion - 1;

		/* the name our NTS-KE answers give for this server (ntp-server) */
		if (t->own_name != NULL && strlen(t->own_name) == d->len &&
		    strncasecmp((const char *)d->a, t->own_name, d->len) == 0)
			return 1;
		/* localhost:PORT is this server exactly when 127.0.0.1:PORT
		 * or [::1]:PORT is, as the address would be */
		if (is_localhost(d)) {
			struct nk_socks5_addr lo;

			if (nk_socks5_addr_set(&lo, "127.0.0.1", d->port, NULL) == 0 &&
			    nk_socks5_addr_to_sockaddr(&lo, &ss, &sl) == 0 && sa_is_local(t, &ss))
				return 1;
			return nk_socks5_addr_set(&lo, "::1", d->port, NULL) == 0 &&
				nk_socks5_addr_to_sockaddr(&lo, &ss, &sl) == 0 && sa_is_local(t, &ss);
		}
		return d->len > ol && strncasecmp((const char *)d->a + d->len - ol, onion, ol) == 0;
	}
	if (nk_socks5_addr_to_sockaddr(d, &ss, &sl) < 0)
		return 0;
	return sa_is_local(t, &ss);
}

/* Is the destination on the allow list? Fills the address to send to. */
static int allowed(const struct nk_tcp *t, const struct nk_socks5_addr *d,
	struct sockaddr_storage *to, socklen_t *tolen)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	for (size_t i = 0; i < t->nallow; i++) {
		const struct nk_tcp_allow *a = &t->allow[i];

		if (a->port != d->port || a->nsa == 0)
			continue;
		if (d->atyp == NK_SOCKS5_ATYP_DOMAIN) {
			if (strlen(a->host) == d->len && strncasecmp(a->host, (const char *)d->a, d->len) == 0) {
				memcpy(to, &a->sa[0], a->salen[0]);
				*tolen = a->salen[0];
				return 1;
			}
			continue;
		}
		if (nk_socks5_addr_to_sockaddr(d, &ss, &sl) < 0)
			return 0;
		for (unsigned k = 0; k < a->nsa; k++) {
			if (sa_equal((struct sockaddr *)&ss, (const struct sockaddr *)&a->sa[k], 1)) {
				memcpy(to, &ss, sl);
				*tolen = sl;
				return 1;
			}
		}
	}
	return 0;
}

static void queue_out(struct nk_tcp *t, struct nk_tcp_conn *c, const uint8_t *buf, size_t n)
{
	if (NK_TCP_OUT_CAP - c->out_len < n)
		return;         /* no room: drop (as UDP would) */
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	t->bytes_out += n;
}

static void refuse(struct nk_tcp *t, struct nk_tcp_conn *c, const char *why,
	const struct nk_socks5_addr *d)
{
	t->refused++;
	if (nk_serve_log_client_ok()) {
		struct nk_rec_writer *w = nk_serve_log_begin("refused");
		char dst[300];

		nk_recw_str(w, "transport", "tcp");
		nk_serve_log_addr(w, "client", (struct sockaddr *)&c->peer);
		if (d != NULL && nk_socks5_addr_format(dst, sizeof dst, d) > 0) {
			for (char *p = dst; *p; p++)
				if (*p == ' ' || *p == '?')
					*p = '_';
			nk_recw_str(w, "dst", dst);
		}
		nk_recw_str(w, "reason", why);
		nk_serve_log_end(w);
	}
	conn_close(t, c);
}

static void relay_frame(struct nk_tcp *t, struct nk_tcp_conn *c, const struct nk_relay_frame *f,
	const struct sockaddr_storage *to, socklen_t tolen, uint64_t now)
{
	int k = to->ss_family == AF_INET6 ? 1 : 0, slot = -1;
	struct nk_ntp_hdr h;

	if (nk_ntp_hdr_decode(&h, f->pkt, f->len, NULL) < 0 || h.mode != NK_NTP_MODE_CLIENT)
		return;         /* only client requests are relayed */
	for (int i = 0; i < NK_TCP_MAX_PENDING; i++)
		if (!c->pend[i].used) {
			slot = i;
			break;
		}
	if (slot < 0)
		return;         /* too many in flight: dropped */
	if (c->udp[k] < 0) {
		c->udp[k] = socket(k ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->udp[k] < 0)
			return;
	}
	if (sendto(c->udp[k], f->pkt, f->len, 0, (const struct sockaddr *)to, tolen) < 0)
		return;
	c->pend[slot].used = 1;
	c->pend[slot].xmt = h.xmt;
	c->pend[slot].req_len = f->len;
	memcpy(&c->pend[slot].to, to, tolen);
	c->pend[slot].tolen = tolen;
	c->pend[slot].dst = f->addr;
	c->pend[slot].deadline = now + NK_TCP_RELAY_TIMEOUT_MS;
	t->frames_relayed++;
}

static void handle_frame(struct nk_tcp *t, struct nk_tcp_conn *c, struct nk_relay_frame *f,
	size_t frame_len, uint64_t now)
{
	static uint8_t ans[NK_RELAY_NTP_MAX], frame[NK_RELAY_FRAME_MAX];
	struct sockaddr_storage to;
	socklen_t tolen;
	struct timespec rx;
	enum nk_serve_kind kind;
	struct nk_err e;
	size_t n;
	long fl;

	nk_clock_real(&rx);
	t->bytes_in += frame_len;
	if (is_local(t, &f->addr)) {
		if (t->ntp->explain) {
			fprintf(t->ntp->explain, "nts-serve: TCP frame, %zu octets, for this server\n", f->len);
			nk_ntp_explain(t->ntp->explain, "nts-serve: request: ", f->pkt, f->len, rx.tv_sec);
		}
		/* the decoder's buffer is ours until the next feed: decrypt in place */
		n = nk_serve_ntp_answer(t->ntp, (uint8_t *)f->pkt, f->len, &rx, ans, sizeof ans, &kind);
		t->frames_local++;
		if (n == 0)
			return;
		if (t->ntp->explain)
			nk_ntp_explain(t->ntp->explain, "nts-serve: answer: ", ans, n, rx.tv_sec);
		fl = nk_relay_encode(frame, sizeof frame, &f->addr, ans, n, &e);
		if (fl > 0 && (size_t)fl <= frame_len)
			queue_out(t, c, frame, (size_t)fl);
		return;
	}
	if (allowed(t, &f->addr, &to, &tolen)) {
		relay_frame(t, c, f, &to, tolen, now);
		return;
	}
	refuse(t, c, "destination-not-allowed", &f->addr);
}

static void conn_read(struct nk_tcp *t, struct nk_tcp_conn *c, uint64_t now)
{
	uint8_t buf[4096];
	size_t room = NK_TCP_OUT_CAP - c->out_len, off = 0;
	ssize_t r;

	if (room > sizeof buf)
		room = sizeof buf;
	r = recv(c->fd, buf, room, MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(t, c);
		return;
	}
	if (r < 0)
		return;
	while (off < (size_t)r && c->fd >= 0) {
		struct nk_relay_frame f;
		struct nk_err e;
		size_t used = 0;
		int rc = nk_relay_dec_feed(&c->dec, buf + off, (size_t)r - off, &used, &f, &e);

		off += used;
		if (rc < 0) {
			t->malformed++;
			refuse(t, c, "malformed-frame", NULL);
			return;
		}
		if (rc == 0)
			break;
		c->idle_deadline = now + NK_TCP_IDLE_MS;
		handle_frame(t, c, &f, 2 + (size_t)(f.pkt - c->dec.buf - 2) + f.len, now);
		if (c->fd >= 0 && ++c->frames >= NK_TCP_MAX_FRAMES) {
			refuse(t, c, "too-many-frames", NULL);
			return;
		}
		if (used == 0)
			break;
	}
}

static void conn_write(struct nk_tcp *t, struct nk_tcp_conn *c)
{
	ssize_t w = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(t, c);
		return;
	}
	memmove(c->out, c->out + w, c->out_len - (size_t)w);
	c->out_len -= (size_t)w;
}

static void relay_answer(struct nk_tcp *t, struct nk_tcp_conn *c, int k)
{
	uint8_t pkt[NK_RELAY_NTP_MAX + 1], frame[NK_RELAY_FRAME_MAX];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	struct nk_ntp_hdr h;
	struct nk_err e;
	ssize_t n;

	for (int rounds = 0; rounds < 8; rounds++) {
		fl = sizeof from;
		n = recvfrom(c->udp[k], pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (n < NK_NTP_HDR_LEN || n > NK_RELAY_NTP_MAX ||
		    nk_ntp_hdr_decode(&h, pkt, (size_t)n, NULL) < 0 || h.mode != NK_NTP_MODE_SERVER)
			continue;
		for (int i = 0; i < NK_TCP_MAX_PENDING; i++) {
			struct nk_tcp_pending *p = &c->pend[i];
			long len;

			if (!p->used || h.org != p->xmt ||
			    !sa_equal((struct sockaddr *)&from, (struct sockaddr *)&p->to, 1))
				continue;
			p->used = 0;
			/* never amplify: an answer longer than the request is dropped */
			if ((size_t)n > p->req_len)
				break;
			len = nk_relay_encode(frame, sizeof frame, &p->dst, pkt, (size_t)n, &e);
			if (len > 0)
				queue_out(t, c, frame, (size_t)len);
			break;
		}
	}
}

static void accept_conns(struct nk_tcp *t, int lfd, uint64_t now)
{
	for (int rounds = 0; rounds < 32; rounds++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		struct nk_tcp_conn *c = NULL;
		int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (t->acl != NULL && !nk_acl_allowed(t->acl, (struct sockaddr *)&peer)) {
			/* refused by allow/deny: closed unread, before it takes a slot */
			t->denied++;
			nk_serve_log_denied("tcp", (struct sockaddr *)&peer);
			close(fd);
			continue;
		}
		for (size_t i = 0; i < NK_TCP_MAX_CONN; i++)
			if (t->conn[i].fd < 0) {
				c = &t->conn[i];
				break;
			}
		if (c == NULL) {
			/* full: the connection idle longest gives way if it has
			 * been idle a second or more, so that stalled clients
			 * cannot hold every slot until their deadlines */
			struct nk_tcp_conn *old = &t->conn[0];

			for (size_t i = 1; i < NK_TCP_MAX_CONN; i++)
				if (t->conn[i].idle_deadline < old->idle_deadline)
					old = &t->conn[i];
			if (old->idle_deadline + 1000 <= now + NK_TCP_IDLE_MS) {
				conn_close(t, old);
				t->evicted++;
				c = old;
			}
		}
		if (c == NULL) {
			t->refused++;
			if (nk_serve_log_client_ok()) {
				struct nk_rec_writer *w = nk_serve_log_begin("refused");

				nk_recw_str(w, "transport", "tcp");
				nk_serve_log_addr(w, "client", (struct sockaddr *)&peer);
				nk_recw_str(w, "reason", "too-many-connections");
				nk_serve_log_end(w);
			}
			close(fd);
			continue;
		}
		c->fd = fd;
		t->nconn++;
		c->udp[0] = c->udp[1] = -1;
		memcpy(&c->peer, &peer, pl);
		c->peerlen = pl;
		nk_relay_dec_init(&c->dec);
		c->out_len = 0;
		c->frames = 0;
		c->idle_deadline = now + NK_TCP_IDLE_MS;
		memset(c->pend, 0, sizeof c->pend);
	}
}

void nk_tcp_service(struct nk_tcp *t, const struct pollfd *pfd, uint64_t now)
{
	if (t->nlfd == 0)
		return;
	for (size_t i = 0; i < NK_TCP_MAX_CONN && t->nconn > 0; i++) {
		struct nk_tcp_conn *c = &t->conn[i];

		if (c->fd < 0)
			continue;
		if (c->pfd[0] >= 0) {
			short re = pfd[c->pfd[0]].revents;

			if (re & POLLOUT)
				conn_write(t, c);
			if (c->fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR)))
				conn_read(t, c, now);
		}
		for (int k = 0; k < 2 && c->fd >= 0; k++)
			if (c->pfd[1 + k] >= 0 && (pfd[c->pfd[1 + k]].revents & POLLIN))
				relay_answer(t, c, k);
		if (c->fd >= 0 && c->out_len > 0)
			conn_write(t, c);
		if (c->fd < 0)
			continue;
		/* deadlines: a stalled or idle client cannot hold a slot */
		for (int k = 0; k < NK_TCP_MAX_PENDING; k++)
			if (c->pend[k].used && c->pend[k].deadline <= now)
				c->pend[k].used = 0;
		if (c->idle_deadline <= now)
			conn_close(t, c);
	}
	for (size_t i = 0; i < t->nlfd; i++)
		if (t->lpfd[i] >= 0 && (pfd[t->lpfd[i]].revents & POLLIN))
			accept_conns(t, t->lfd[i], now);
}
