/*
 * One NTS-KE exchange. The order of steps follows RFC 8915 §4:
 *   1. a TCP connection to the KE server (through SOCKS5 CONNECT with the
 *      host name when a proxy is set: the proxy resolves it, we never do);
 *   2. TLS 1.3 with ALPN "ntske/1" (§3: nothing older may be negotiated);
 *   3. the request: NextProtocol {NTPv4}, AEAD list, End of Message;
 *   4. the response, complete at End of Message (a close without
 *      close_notify after it is not an error);
 *   5. C2S/S2C keys from the TLS exporter (§5.1).
 */
#include "ke.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ntske.h"
#include "tls13.h"
#include "tlsio.h"

#define NTS_EXPORTER_LABEL "EXPORTER-network-time-security"

static int remaining_ms(double deadline)
{
	double r = deadline - nk_mono_s();
	return r <= 0 ? 0 : (int)(r * 1000) + 1;
}

struct explain_ctx {
	FILE *f;
	const char *source;
	char held[160];     /* the peer's close_notify, said after the records before it */
};

/* The TLS engine reads the server's close_notify as soon as the records
 * before it have been handed out, before they are parsed: its line is held
 * until the NTS-KE records that came first have been said (explain_flush),
 * so that --explain lists everything in the order received. */
static void tls_explain(void *arg, const char *line)
{
	struct explain_ctx *x = arg;
	if (strncmp(line, "<- alert close_notify", 21) == 0) {
		snprintf(x->held, sizeof x->held, "%s", line);
		return;
	}
	fprintf(x->f, "nts-ke: %s: TLS: %s\n", x->source, line);
}

static void explain_flush(struct explain_ctx *x)
{
	if (x->f != NULL && x->held[0]) {
		fprintf(x->f, "nts-ke: %s: TLS: %s\n", x->source, x->held);
		x->held[0] = 0;
	}
}

/* --explain: the exporter context of one direction, byte by byte */
static void explain_context(const struct ke_job *j, const uint8_t ctx[5], const char *dir)
{
	fprintf(j->explain, "nts-ke: %s:   %s context %02x %02x %02x %02x %02x = Next Protocol "
		"%02x%02x (NTPv4), AEAD %02x%02x (%u, %s), %02x (%s)\n", j->source,
		ctx[4] ? "S2C" : "C2S", ctx[0], ctx[1], ctx[2], ctx[3], ctx[4], ctx[0], ctx[1],
		ctx[2], ctx[3], (unsigned)(ctx[2] << 8 | ctx[3]),
		nk_ntske_aead_name((uint16_t)(ctx[2] << 8 | ctx[3])), ctx[4], dir);
}

/* Direct TCP connection with a deadline; every address getaddrinfo gives is tried. */
static int tcp_connect(const struct ke_job *j, double deadline, struct nk_err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int fd = -1, rc, err = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(port, sizeof port, "%u", j->port);
	rc = getaddrinfo(j->host, port, &hints, &res);
	if (rc != 0) {
		nk_errf(e, "cannot resolve %s: %s", j->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof err;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			err = errno;
			close(fd);
			fd = -1;
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, remaining_ms(deadline));
		if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err == 0)
			break;
		if (rc == 0)
			err = ETIMEDOUT;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		nk_errf(e, "cannot connect to %s port %u: %s", j->host, j->port,
			strerror(err ? err : ECONNREFUSED));
		return -1;
	}
	/* back to blocking: tlsio waits with poll() itself */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (j->explain)
		fprintf(j->explain, "nts-ke: %s: TCP connected directly to %s port %u\n",
			j->source, j->host, j->port);
	return fd;
}

static int proxy_connect(const struct ke_job *j, double deadline, struct nk_err *e)
{
	struct nk_socks5_proxy p = *j->proxy;
	struct nk_socks5_addr dst;
	int fd;

	p.timeout_ms = remaining_ms(deadline);
	if (nk_socks5_addr_set(&dst, j->host, j->port, e) < 0)
		return -1;
	if (j->explain)
		fprintf(j->explain, "nts-ke: %s: SOCKS5 CONNECT to %s port %u through %s%s "
			"(the proxy resolves the name; nothing is resolved here)\n",
			j->source, j->host, j->port, p.name,
			p.use_auth ? " with username/password" : "");
	fd = nk_socks5_connect(&p, &dst, NULL, e);
	nk_socks5_proxy_wipe(&p);
	if (fd >= 0 && j->explain)
		fprintf(j->explain, "nts-ke: %s: SOCKS5 tunnel open\n", j->source);
	return fd;
}

static int is_timeout(const struct nk_err *e)
{
	return strstr(e->msg, "timed out") != NULL || strstr(e->msg, "timeout") != NULL;
}

enum ke_fail ke_run(const struct ke_job *j, struct nk_session *s, struct nk_err *e)
{
	static struct nk_tls13 tls;           /* ~70 KiB: one per process */
	static struct nk_ntske_parser parser;
	struct nk_tls13_config cfg;
	struct explain_ctx xc = { j->explain, j->source, "" };
	uint8_t req[64], buf[4096];
	char xprefix[128];
	uint8_t ctx[5] = { 0, 0, 0, 0, 0 };  /* NextProtocol 0 | AEAD | direction */
	double deadline = nk_mono_s() + j->timeout;
	enum ke_fail fail = KE_OK;
	long n;
	int fd, st, broken = 0;

	memset(s, 0, sizeof *s);
	fd = j->proxy ? proxy_connect(j, deadline, e) : tcp_connect(j, deadline, e);
	if (fd < 0)
		return is_timeout(e) ? KE_FAIL_TIMEOUT : KE_FAIL_CONNECT;

	memset(&cfg, 0, sizeof cfg);
	cfg.server_name = j->sni ? j->sni : j->host;
	cfg.alpn = "ntske/1";
	cfg.alpn_required = 1;
	cfg.trust = j->trust;
	cfg.time = j->cert_time;
	cfg.skip_window = j->skip_window;
	if (j->explain) {
		cfg.explain = tls_explain;
		cfg.explain_arg = &xc;
	}
	if (nk_tls13_client_init(&tls, &cfg, e) < 0) {
		close(fd);
		return KE_FAIL_LOCAL;
	}
	if (nk_tlsio_handshake(&tls, fd, remaining_ms(deadline), e) < 0) {
		fail = remaining_ms(deadline) == 0 ? KE_FAIL_TIMEOUT : KE_FAIL_TLS;
		/* a transport error, or the peer's close without an alert; a
		 * verdict of either side (certificate, protocol) comes with one */
		broken = nk_tls13_status(&tls) != NK_TLS13_FAILED ||
			(tls.alert_sent < 0 && tls.alert_rcvd < 0);
		goto out;
	}

	/* §4: the request */
	n = nk_ntske_build_request(req, sizeof req, j->aead, j->naead, NULL, 0);
	if (n < 0) {
		nk_errf(e, "cannot build the NTS-KE request");
		fail = KE_FAIL_LOCAL;
		goto out;
	}
	snprintf(xprefix, sizeof xprefix, "nts-ke: %s: NTS-KE sent", j->source);
	if (j->explain)
		nk_ntske_explain(j->explain, xprefix, req, (size_t)n);
	if (nk_tlsio_write(&tls, fd, remaining_ms(deadline), req, (size_t)n, e) < 0) {
		fail = KE_FAIL_TLS;
		broken = tls.alert_rcvd < 0;
		goto out;
	}

	/* the response, up to End of Message */
	nk_ntske_client_init(&parser, j->aead, j->naead);
	parser.explain = j->explain;
	snprintf(xprefix, sizeof xprefix, "nts-ke: %s: NTS-KE received", j->source);
	parser.explain_prefix = xprefix;
	st = NK_NTSKE_NEED_MORE;
	while (st == NK_NTSKE_NEED_MORE) {
		struct nk_err re;
		int ms = remaining_ms(deadline);
		if (ms == 0) {
			nk_errf(e, "timed out after %.1f s waiting for the NTS-KE response "
				"(%zu bytes received, no End of Message)", j->timeout, parser.total);
			fail = KE_FAIL_TIMEOUT;
			goto out;
		}
		n = nk_tlsio_read(&tls, fd, ms, buf, sizeof buf, &re);
		if (n > 0) {
			st = nk_ntske_feed(&parser, buf, (size_t)n, e);
			explain_flush(&xc);
		} else {
			explain_flush(&xc);
			/* closed (with or without close_notify) or failed before End of Message */
			st = nk_ntske_end(&parser, e);
			if (st != NK_NTSKE_DONE) {
				if (n < 0 && remaining_ms(deadline) == 0) {
					nk_errf(e, "timed out after %.1f s waiting for the NTS-KE response "
						"(%zu bytes received, no End of Message)", j->timeout, parser.total);
					fail = KE_FAIL_TIMEOUT;
				} else {
					if (n < 0 && re.msg[0] && !strstr(re.msg, "closed"))
						nk_errf(e, "NTS-KE response incomplete: %s", re.msg);
					fail = KE_FAIL_NTSKE;
					/* closed or reset before End of Message, no fatal alert */
					broken = tls.alert_rcvd <= 0;
				}
				goto out;
			}
		}
	}
	if (st != NK_NTSKE_DONE) {
		fail = KE_FAIL_NTSKE;
		goto out;
	}

	/* §5.1: keys from the exporter */
	s->aead = parser.u.resp.aead;
	s->key_len = nk_siv_key_len(s->aead);
	if (s->key_len == 0) {
		nk_errf(e, "server chose AEAD %u, which this client does not implement", s->aead);
		fail = KE_FAIL_NTSKE;
		goto out;
	}
	ctx[2] = (uint8_t)(s->aead >> 8);
	ctx[3] = (uint8_t)s->aead;
	ctx[4] = 0;
	if (j->explain)
		fprintf(j->explain, "nts-ke: %s: keys from the TLS exporter (RFC 8446 §7.5), label "
			"\"%s\" (%zu octets), context of 5 octets (RFC 8915 §5.1):\n", j->source,
			NTS_EXPORTER_LABEL, strlen(NTS_EXPORTER_LABEL));
	if (nk_tls13_export(&tls, NTS_EXPORTER_LABEL, ctx, sizeof ctx, s->c2s, s->key_len) < 0) {
		nk_errf(e, "TLS exporter failed");
		fail = KE_FAIL_LOCAL;
		goto out;
	}
	if (j->explain)
		explain_context(j, ctx, "client to server");
	ctx[4] = 1;
	if (nk_tls13_export(&tls, NTS_EXPORTER_LABEL, ctx, sizeof ctx, s->s2c, s->key_len) < 0) {
		nk_errf(e, "TLS exporter failed");
		fail = KE_FAIL_LOCAL;
		goto out;
	}
	if (j->explain)
		explain_context(j, ctx, "server to client");
	if (j->explain)
		fprintf(j->explain, "nts-ke: %s: exported the client-to-server and server-to-client "
			"keys (%zu bytes each) with label \"%s\" (RFC 8915 §5.1); they protect the NTP "
			"requests and responses\n", j->source, s->key_len, NTS_EXPORTER_LABEL);

	snprintf(s->source, sizeof s->source, "%s", j->source);
	snprintf(s->ke_host, sizeof s->ke_host, "%s", j->host);
	s->ke_port = j->port;
	/* §4.1.7/§4.1.8: NTP server and port from the response, else the KE host and 123 */
	snprintf(s->ntp_host, sizeof s->ntp_host, "%s",
		parser.u.resp.has_server ? parser.u.resp.server : j->host);
	s->ntp_port = parser.u.resp.has_port ? parser.u.resp.port : 123;
	for (unsigned i = 0; i < parser.u.resp.ncookies; i++)
		nk_session_add_cookie(s, parser.u.resp.cookie[i], parser.u.resp.cookie_len[i]);
	s->not_before = tls.cert.not_before;
	s->not_after = tls.cert.not_after;
	s->ke_at = nk_time();
	nk_tlsio_close(&tls, fd, 200);
out:
	explain_flush(&xc);
	close(fd);
	nk_ntske_parser_wipe(&parser);
	nk_tls13_wipe(&tls);
	nk_wipe(buf, sizeof buf);
	if (broken && (fail == KE_FAIL_TLS || fail == KE_FAIL_NTSKE))
		fail = KE_FAIL_BROKEN;
	return fail;
}
