#include "tlsio.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int wait_fd(int fd, short ev, int timeout_ms, struct nk_err *e)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		nk_errf(e, "TLS: poll: %s", strerror(errno));
		return -1;
	}
	if (r == 0) {
		nk_errf(e, "TLS: timed out after %d ms waiting to %s", timeout_ms,
			ev == POLLIN ? "receive" : "send");
		return -1;
	}
	return 0;
}

/* Send everything the engine has queued. */
static int flush(struct nk_tls13 *c, int fd, int timeout_ms, struct nk_err *e)
{
	for (;;) {
		size_t n;
		const unsigned char *p = nk_tls13_out(c, &n);
		ssize_t w;

		if (n == 0)
			return 0;
		if (wait_fd(fd, POLLOUT, timeout_ms, e) < 0)
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			nk_errf(e, "TLS: send: %s", strerror(errno));
			return -1;
		}
		nk_tls13_out_done(c, (size_t)w);
	}
}

/* Receive once into the engine. 0 ok, 1 EOF, -1 error. */
static int fill(struct nk_tls13 *c, int fd, int timeout_ms, struct nk_err *e)
{
	size_t cap;
	unsigned char *p = nk_tls13_in(c, &cap);
	ssize_t r;

	if (cap == 0) {
		nk_tls13_process(c);
		return 0;
	}
	if (wait_fd(fd, POLLIN, timeout_ms, e) < 0)
		return -1;
	do
		r = recv(fd, p, cap, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		nk_errf(e, "TLS: recv: %s", strerror(errno));
		return -1;
	}
	if (r == 0) {
		nk_tls13_eof(c);
		return 1;
	}
	nk_tls13_in_done(c, (size_t)r);
	return 0;
}

/*
 * After our fatal alert (RFC 8446 §6.2: the connection closes right
 * after it): a socket closed while received data are still unread makes
 * the kernel send a reset, and a reset can destroy the alert before the
 * peer reads it. So once the alert is sent, stop writing (a FIN follows
 * the alert), then read and discard what the peer still sends until it
 * closes, at most NK_TLSIO_DRAIN_MS (or the step timeout if shorter) and
 * NK_TLSIO_DRAIN_MAX bytes; the caller's close() then finds nothing
 * unread.
 */
static void alert_close(struct nk_tls13 *c, int fd, int timeout_ms)
{
	unsigned char junk[4096];
	size_t total = 0, n;
	double end;

	nk_tls13_out(c, &n);
	if (c->alert_sent <= NK_ALERT_CLOSE_NOTIFY || n > 0 || shutdown(fd, SHUT_WR) < 0)
		return;
	end = nk_mono_s() + (timeout_ms < NK_TLSIO_DRAIN_MS ? timeout_ms : NK_TLSIO_DRAIN_MS) / 1000.0;
	while (total < NK_TLSIO_DRAIN_MAX) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((end - nk_mono_s()) * 1000.0);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;     /* time is up (an EINTR ends the drain early: harmless) */
		r = recv(fd, junk, sizeof junk, MSG_DONTWAIT);
		if (r > 0)
			total += (size_t)r;
		else if (r == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			break;     /* the peer closed, or the connection is gone */
	}
}

int nk_tlsio_handshake(struct nk_tls13 *c, int fd, int timeout_ms, struct nk_err *e)
{
	for (;;) {
		enum nk_tls13_status st = nk_tls13_status(c);
		int r;

		if (flush(c, fd, timeout_ms, st == NK_TLS13_FAILED ? NULL : e) < 0 &&
		    st != NK_TLS13_FAILED)
			return -1;
		if (st == NK_TLS13_FAILED) {
			nk_errf(e, "%s", nk_tls13_error(c));
			alert_close(c, fd, timeout_ms);
			return -1;
		}
		if (st != NK_TLS13_HANDSHAKE)
			return st == NK_TLS13_OPEN ? 0 : -1;
		r = fill(c, fd, timeout_ms, e);
		if (r < 0)
			return -1;
		if (r > 0 && nk_tls13_status(c) == NK_TLS13_FAILED) {
			nk_errf(e, "%s", nk_tls13_error(c));
			return -1;
		}
	}
}

int nk_tlsio_write(struct nk_tls13 *c, int fd, int timeout_ms, const void *data, size_t len,
	struct nk_err *e)
{
	const unsigned char *p = data;

	while (len > 0) {
		long n = nk_tls13_write(c, p, len);

		if (n < 0) {
			nk_errf(e, "TLS: cannot write: %s", nk_tls13_status(c) == NK_TLS13_FAILED ?
				nk_tls13_error(c) : "connection not open");
			return -1;
		}
		p += n;
		len -= (size_t)n;
		if (flush(c, fd, timeout_ms, e) < 0)
			return -1;
	}
	return 0;
}

long nk_tlsio_read(struct nk_tls13 *c, int fd, int timeout_ms, void *buf, size_t cap,
	struct nk_err *e)
{
	for (;;) {
		long n = nk_tls13_read(c, buf, cap);
		enum nk_tls13_status st;
		int r;

		if (n > 0)
			return n;
		/* answers to KeyUpdate, alerts */
		if (flush(c, fd, timeout_ms, e) < 0)
			return -1;
		st = nk_tls13_status(c);
		if (st == NK_TLS13_FAILED) {
			nk_errf(e, "%s", nk_tls13_error(c));
			alert_close(c, fd, timeout_ms);
			return -1;
		}
		if (st == NK_TLS13_CLOSED)
			return 0;
		r = fill(c, fd, timeout_ms, e);
		if (r < 0)
			return -1;
		if (r > 0 && nk_tls13_status(c) == NK_TLS13_FAILED) {
			nk_errf(e, "%s", nk_tls13_error(c));
			return -1;
		}
	}
}

void nk_tlsio_close(struct nk_tls13 *c, int fd, int timeout_ms)
{
	nk_tls13_close(c);
	(void)flush(c, fd, timeout_ms, NULL);
}
