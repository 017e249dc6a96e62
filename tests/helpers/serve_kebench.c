/*
 * serve_kebench: N complete NTS-KE exchanges (RFC 8915 §4), one after the
 * other, against one server, for tests/bench/serve.sh: TCP connect, TLS 1.3
 * handshake on lib/tls13 (ALPN ntske/1, chain checked against CAFILE for
 * NAME), request NextProtocol {0} + AEAD {15} + End, the response read to
 * its End of Message (8 cookies expected), close_notify, close.
 *
 *   serve_kebench N HOST:PORT CAFILE NAME
 *
 * Prints one line: "n=N ok=K secs=S rate=R" (R = exchanges a second of
 * wall-clock time). Exit 0 when every exchange got 8 cookies, else 1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ntske.h"
#include "tls13.h"
#include "tlscert.h"
#include "tlsio.h"
#include "util.h"

static struct nk_tls13 tls;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Count Cookie records (type 5) in a complete response; -1 when it does
 * not end with End of Message. */
static int count_cookies(const unsigned char *b, size_t n)
{
	size_t off = 0;
	int cookies = 0;

	while (off + 4 <= n) {
		unsigned type = ((unsigned)b[off] << 8 | b[off + 1]) & 0x7fff;
		size_t len = (size_t)b[off + 2] << 8 | b[off + 3];

		if (off + 4 + len > n)
			return -1;
		if (type == 5)
			cookies++;
		off += 4 + len;
		if (type == 0)
			return off == n ? cookies : -1;
	}
	return -1;
}

static int one(const struct sockaddr_in *sa, const struct nk_tls13_config *cfg)
{
	static const unsigned char req[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00,     /* NextProtocol {0} */
		0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,     /* AEAD {15} */
		0x80, 0x00, 0x00, 0x00                  /* End of Message */
	};
	unsigned char resp[4096];
	size_t got = 0;
	struct nk_err e = { "" };
	int fd, one = 1, c = -1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
		close(fd);
		return -1;
	}
	if (nk_tls13_client_init(&tls, cfg, &e) == 0 && nk_tlsio_handshake(&tls, fd, 5000, &e) == 0 &&
	    nk_tlsio_write(&tls, fd, 5000, req, sizeof req, &e) == 0) {
		for (;;) {
			long r = nk_tlsio_read(&tls, fd, 5000, resp + got, sizeof resp - got, &e);

			if (r <= 0)
				break;
			got += (size_t)r;
			c = count_cookies(resp, got);
			if (c >= 0 || got == sizeof resp)
				break;
		}
		nk_tlsio_close(&tls, fd, 1000);
	}
	if (e.msg[0] && c < 0)
		fprintf(stderr, "serve_kebench: %s\n", e.msg);
	nk_tls13_wipe(&tls);
	close(fd);
	return c;
}

int main(int argc, char **argv)
{
	struct nk_tls13_config cfg;
	struct nk_trust trust;
	struct nk_err e = { "" };
	struct sockaddr_in sa;
	char host[64], *colon;
	unsigned long n, ok = 0;
	double t0, t1;

	if (argc != 5 || (n = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: serve_kebench N HOST:PORT CAFILE NAME\n");
		return 2;
	}
	snprintf(host, sizeof host, "%s", argv[2]);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return 2;
	*colon = 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "serve_kebench: %s: want an IPv4 address\n", host);
		return 2;
	}
	nk_trust_init(&trust);
	if (nk_trust_load_file(&trust, argv[3], &e) < 0) {
		fprintf(stderr, "serve_kebench: %s\n", e.msg);
		return 2;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.server_name = argv[4];
	cfg.alpn = "ntske/1";
	cfg.alpn_required = 1;
	cfg.trust = &trust;
	cfg.time = (int64_t)time(NULL);
	t0 = now();
	for (unsigned long i = 0; i < n; i++)
		if (one(&sa, &cfg) == 8)
			ok++;
	t1 = now();
	printf("n=%lu ok=%lu secs=%.3f rate=%.1f\n", n, ok, t1 - t0, (double)n / (t1 - t0));
	nk_trust_free(&trust);
	return ok == n ? 0 : 1;
}
