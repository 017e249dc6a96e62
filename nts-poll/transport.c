/*
 * transport: UDP direct, SOCKS5 UDP ASSOCIATE, or the TCP relay frame
 * (see transport.h and nts-poll(1) TRANSPORTS).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

static int remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
		(deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms < 0)
		return 0;
	return ms > 3600000 ? 3600000 : (int)ms;
}

/* Resolve and connect. Only reached without a proxy, or with --direct. */
static int connect_direct(const char *host, uint16_t port, int type, int timeout_ms,
	char *peer, size_t peer_cap, struct nk_err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char ps[8], hs[64];   /* a numeric address (NI_NUMERICHOST) */
	int fd = -1, rc, err = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(ps, sizeof ps, "%u", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc != 0) {
		nk_errf(e, "%s: cannot resolve: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t sl = sizeof err;
			if (poll(&p, 1, timeout_ms) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err == 0)
				break;
			if (err == 0)
				err = ETIMEDOUT;
		} else {
			err = errno;
		}
		close(fd);
		fd = -1;
	}
	if (fd >= 0) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, hs, sizeof hs, NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(hs, sizeof hs, "?");
		if (ai->ai_family == AF_INET6)
			snprintf(peer, peer_cap, "[%s]:%u", hs, port);
		else
			snprintf(peer, peer_cap, "%s:%u", hs, port);
		/* blocking from now on: we poll() before every read */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	} else {
		nk_errf(e, "%s port %u: cannot connect: %s", host, port, strerror(err ? err : EHOSTUNREACH));
	}
	freeaddrinfo(res);
	return fd;
}

static int open_udp(struct tp *t, const struct tp_conf *c, const char *host, uint16_t port,
	struct nk_err *e)
{
	t->kind = TP_UDP;
	t->fd = connect_direct(host, port, SOCK_DGRAM, c->timeout_ms, t->peer, sizeof t->peer, e);
	if (t->fd < 0)
		return TP_ERR;
	if (c->explain)
		fprintf(c->explain, "nts-poll: %s: transport udp: NTP over UDP directly to %s "
			"(the server sees this machine's address)\n", c->source, t->peer);
	return 0;
}

int tp_open(struct tp *t, const struct tp_conf *c, const char *host, uint16_t port,
	struct nk_err *e)
{
	memset(t, 0, sizeof *t);
	t->fd = -1;
	t->u.tcp = t->u.udp = -1;
	if (nk_socks5_addr_set(&t->dst, host, port, e) < 0)
		return TP_ERR;

	if (c->relay_host != NULL) {
		struct nk_socks5_addr ra;
		char rn[300];
		t->kind = TP_RELAY;
		nk_relay_dec_init(&t->dec);
		if (c->proxy != NULL) {
			/* the relay by name through the proxy: no resolver here */
			if (nk_socks5_addr_set(&ra, c->relay_host, c->relay_port, e) < 0)
				return TP_ERR;
			t->fd = nk_socks5_connect(c->proxy, &ra, NULL, e);
			if (t->fd < 0)
				return TP_ERR;
			nk_socks5_addr_format(rn, sizeof rn, &ra);
			snprintf(t->peer, sizeof t->peer, "relay %s via SOCKS5 proxy %s", rn, c->proxy->name);
			t->tor = c->isolated;
		} else {
			t->fd = connect_direct(c->relay_host, c->relay_port, SOCK_STREAM, c->timeout_ms,
				rn, sizeof rn, e);
			if (t->fd < 0) {
				struct nk_err e2 = *e;
				nk_errf(e, "relay: %s", e2.msg);
				return TP_ERR;
			}
			snprintf(t->peer, sizeof t->peer, "relay %s", rn);
		}
		if (c->explain) {
			char dn[300];
			nk_socks5_addr_format(dn, sizeof dn, &t->dst);
			fprintf(c->explain, "nts-poll: %s: transport %s: NTP packets framed on TCP "
				"(2-octet length, RFC 1928 UDP header naming %s, the packet) to %s%s\n",
				c->source, tp_via(t), dn, t->peer,
				t->tor ? " on its own isolation login (its own Tor circuit)" : "");
		}
		return 0;
	}

	if (c->proxy != NULL) {
		t->kind = TP_SOCKS5_UDP;
		if (nk_socks5_udp_open(&t->u, c->proxy, e) < 0) {
			if (strstr(e->msg, "does not relay UDP") == NULL)
				return TP_ERR;
			if (c->direct) {
				fprintf(stderr, "nts-poll: %s: SOCKS5 proxy %s refuses UDP ASSOCIATE "
					"(reply 0x07); --direct/direct = yes: sending NTP directly, "
					"NOT through the proxy\n", c->source, c->proxy->name);
				return open_udp(t, c, host, port, e);
			}
			nk_errf(e, "SOCKS5 proxy %s does not carry UDP (UDP ASSOCIATE answered 0x07 "
				"command not supported, as Tor does): use --relay HOST:PORT (NTP over TCP "
				"through the proxy to an nts-serve relay) or --direct (NTP without the proxy, "
				"not anonymous)", c->proxy->name);
			return TP_NOUDP;
		}
		{
			char dn[300];
			nk_socks5_addr_format(dn, sizeof dn, &t->dst);
			snprintf(t->peer, sizeof t->peer, "%s via SOCKS5 proxy %s (UDP relay %s)", dn,
				c->proxy->name, t->u.relay_name);
			if (c->explain)
				fprintf(c->explain, "nts-poll: %s: transport socks5-udp: UDP ASSOCIATE at %s, "
					"datagrams to its relay %s, the server named %s in each "
					"RFC 1928 header (%s)\n", c->source, c->proxy->name, t->u.relay_name, dn,
					t->dst.atyp == NK_SOCKS5_ATYP_DOMAIN ? "the proxy resolves the name" :
					"an IP address");
		}
		return 0;
	}
	return open_udp(t, c, host, port, e);
}

static int write_all(int fd, const uint8_t *p, size_t n, struct nk_err *e)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			nk_errf(e, "send: %s", strerror(errno));
			return TP_ERR;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int tp_send(struct tp *t, const uint8_t *pkt, size_t len, struct nk_err *e)
{
	switch (t->kind) {
	case TP_UDP:
		if (send(t->fd, pkt, len, 0) != (ssize_t)len) {
			nk_errf(e, "send to %s: %s", t->peer, strerror(errno));
			return TP_ERR;
		}
		return 0;
	case TP_SOCKS5_UDP:
		return nk_socks5_udp_send(&t->u, &t->dst, pkt, len, e) < 0 ? TP_ERR : 0;
	case TP_RELAY: {
		long n = nk_relay_encode(t->fbuf, sizeof t->fbuf, &t->dst, pkt, len, e);
		if (n < 0)
			return TP_ERR;
		if (write_all(t->fd, t->fbuf, (size_t)n, e) < 0) {
			struct nk_err e2 = *e;
			nk_errf(e, "%s: %s", t->peer, e2.msg);
			return TP_ERR;
		}
		t->sent++;
		return 0;
	}
	}
	return TP_ERR;
}

/* The relay closed the stream. The frame protocol carries no reason: a
 * relay closes the stream on a destination it refuses (nts-serve(8), TCP
 * TRANSPORT), so a frame left unanswered is the likely cause. */
static void relay_closed(const struct tp *t, struct nk_err *e)
{
	char dn[300];

	if (t->dec.have) {
		nk_errf(e, "%s closed the stream in the middle of a frame", t->peer);
		return;
	}
	if (t->sent <= t->answered) {
		nk_errf(e, "%s closed the stream", t->peer);
		return;
	}
	nk_socks5_addr_format(dn, sizeof dn, &t->dst);
	nk_errf(e, "%s closed the stream after our frame for %s, unanswered: does it refuse "
		"that destination? (its log says why: serve event=refused)", t->peer, dn);
}

long tp_recv(struct tp *t, uint8_t *buf, size_t cap, const struct timespec *deadline,
	struct timespec *rx, struct nk_err *e)
{
	int ms;

	for (;;) {
		ms = remaining_ms(deadline);
		if (t->kind == TP_SOCKS5_UDP) {
			long n;
			if (ms == 0)
				return TP_TIMEOUT;
			n = nk_socks5_udp_recv(&t->u, buf, cap, NULL, ms, e);
			clock_gettime(CLOCK_REALTIME, rx);
			if (n == NK_SOCKS5_DROPPED)
				return TP_DROPPED;
			if (n < 0)
				return remaining_ms(deadline) == 0 ? TP_TIMEOUT : TP_ERR;
			return n;
		}
		if (t->kind == TP_RELAY && t->roff < t->rlen) {
			struct nk_relay_frame f;
			size_t used;
			int r = nk_relay_dec_feed(&t->dec, t->rbuf + t->roff, t->rlen - t->roff, &used, &f, e);
			t->roff += used;
			if (r < 0) {
				struct nk_err e2 = *e;
				nk_errf(e, "%s: %s", t->peer, e2.msg);
				return TP_ERR;
			}
			if (r == 1) {
				clock_gettime(CLOCK_REALTIME, rx);
				if (f.len > cap) {
					nk_errf(e, "%s: frame of %zu octets dropped", t->peer, f.len);
					return TP_DROPPED;
				}
				memcpy(buf, f.pkt, f.len);
				t->answered++;
				return (long)f.len;
			}
			continue;
		}
		{
			struct pollfd p = { .fd = t->fd, .events = POLLIN };
			ssize_t n;
			int r = poll(&p, 1, ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				nk_errf(e, "poll: %s", strerror(errno));
				return TP_ERR;
			}
			if (r == 0)
				return TP_TIMEOUT;
			if (t->kind == TP_UDP) {
				n = recv(t->fd, buf, cap, MSG_TRUNC);
				clock_gettime(CLOCK_REALTIME, rx);
				if (n < 0) {
					if (errno == EINTR || errno == EAGAIN)
						continue;
					nk_errf(e, "receive from %s: %s", t->peer, strerror(errno));
					return TP_ERR;
				}
				if ((size_t)n > cap) {
					nk_errf(e, "datagram of %zd octets from %s dropped (too long)", n, t->peer);
					return TP_DROPPED;
				}
				return n;
			}
			n = recv(t->fd, t->rbuf, sizeof t->rbuf, 0);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				nk_errf(e, "%s: %s", t->peer, strerror(errno));
				return TP_ERR;
			}
			if (n == 0) {
				relay_closed(t, e);
				return TP_ERR;
			}
			t->rlen = (size_t)n;
			t->roff = 0;
		}
	}
}

void tp_close(struct tp *t)
{
	if (t->kind == TP_SOCKS5_UDP)
		nk_socks5_udp_close(&t->u);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

const char *tp_via(const struct tp *t)
{
	switch (t->kind) {
	case TP_UDP: return "udp";
	case TP_SOCKS5_UDP: return "socks5-udp";
	case TP_RELAY: return t->tor ? "tor" : "tcp-relay";
	}
	return "?";
}
