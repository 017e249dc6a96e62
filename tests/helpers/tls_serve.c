/*
 * tls_serve: a TLS 1.3 server on lib/tls13 (server role) + lib/tlsio for the
 * interop tests: serves N connections one after the other on 127.0.0.1:PORT.
 *
 *   tls_serve --cert FULLCHAIN --key KEY --port P [--count N] [--alpn P [--alpn-required]]
 *             [--suites 1301,..] [--groups x25519,..] [--explain]
 * For each connection prints "conn=K suite=... group=... alpn=... sni=... hrr=0|1
 * exporter=HEX" (exporter: EXPORTER-network-time-security, empty context, 32
 * bytes), then echoes one line back and closes with close_notify; a failed
 * handshake prints "conn=K error=..." and the server goes on.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls13.h"
#include "tlscert.h"
#include "tlsio.h"
#include "util.h"

static void explain_cb(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "explain: %s\n", line);
}

static int parse_list(const char *s, uint16_t *out, size_t max)
{
	char buf[256], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof buf, "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			return -1;
		if (strcmp(tok, "x25519") == 0)
			out[n++] = NK_TLS_GROUP_X25519;
		else if (strcmp(tok, "secp256r1") == 0)
			out[n++] = NK_TLS_GROUP_SECP256R1;
		else if (strcmp(tok, "secp384r1") == 0)
			out[n++] = NK_TLS_GROUP_SECP384R1;
		else
			out[n++] = (uint16_t)strtoul(tok, NULL, 16);
	}
	return (int)n;
}

static struct nk_tls13 tls;
static struct nk_server_cred cred;

int main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *alpn = NULL;
	int port = 0, count = 1, alpn_req = 0, do_explain = 0, ns = 0, ng = 0, one = 1, lfd;
	uint16_t suites[3], groups[3];
	struct nk_tls13_config cfg;
	struct nk_err e = { "" };
	struct sockaddr_in sa;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v != NULL && ++i)
		if (ARG("--cert")) cert = v;
		else if (ARG("--key")) key = v;
		else if (ARG("--port")) port = atoi(v);
		else if (ARG("--count")) count = atoi(v);
		else if (ARG("--alpn")) alpn = v;
		else if (strcmp(a, "--alpn-required") == 0) alpn_req = 1;
		else if (ARG("--suites")) ns = parse_list(v, suites, 3);
		else if (ARG("--groups")) ng = parse_list(v, groups, 3);
		else if (strcmp(a, "--explain") == 0) do_explain = 1;
		else {
			fprintf(stderr, "tls_serve: bad argument '%s'\n", a);
			return 2;
		}
	}
	if (!cert || !key || port <= 0 || port > 65535 || ns < 0 || ng < 0) {
		fprintf(stderr, "usage: tls_serve --cert FULLCHAIN --key KEY --port P [options]\n");
		return 2;
	}
	if (nk_server_cred_load(&cred, cert, key, &e) < 0) {
		fprintf(stderr, "tls_serve: %s\n", e.msg);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 8) < 0) {
		perror("tls_serve: bind/listen");
		return 2;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.cred = &cred;
	cfg.alpn = alpn;
	cfg.alpn_required = alpn_req;
	if (ns > 0) {
		cfg.suites = suites;
		cfg.n_suites = (size_t)ns;
	}
	if (ng > 0) {
		cfg.groups = groups;
		cfg.n_groups = (size_t)ng;
	}
	if (do_explain)
		cfg.explain = explain_cb;
	for (int k = 1; k <= count; k++) {
		int fd = accept(lfd, NULL, NULL);
		char line[1024];
		long n;

		if (fd < 0)
			continue;
		if (nk_tls13_server_init(&tls, &cfg, &e) < 0 || nk_tlsio_handshake(&tls, fd, 5000, &e) < 0) {
			printf("conn=%d error=%s alert-sent=%d alert-rcvd=%d\n", k, e.msg, tls.alert_sent, tls.alert_rcvd);
			fflush(stdout);
			close(fd);
			nk_tls13_wipe(&tls);
			continue;
		}
		{
			unsigned char x[32];
			char hex[65];
			nk_tls13_export(&tls, "EXPORTER-network-time-security", "", 0, x, 32);
			nk_hex_encode(hex, x, 32);
			printf("conn=%d suite=%s group=%s alpn=%s sni=%s hrr=%d sig=%s exporter=%s\n", k,
				nk_tlsrec_suite_name(tls.suite), nk_tls13_group_name(tls.group),
				tls.alpn[0] ? tls.alpn : "-", tls.sni[0] ? tls.sni : "-", tls.hrr_done,
				nk_tlssig_name(tls.sig_scheme), hex);
			fflush(stdout);
		}
		n = nk_tlsio_read(&tls, fd, 5000, line, sizeof line - 1, &e);
		if (n > 0) {
			nk_tlsio_write(&tls, fd, 5000, line, (size_t)n, &e);
			line[n] = 0;
			line[strcspn(line, "\r\n")] = 0;
			printf("conn=%d recv=%s\n", k, line);
			fflush(stdout);
		}
		nk_tlsio_close(&tls, fd, 1000);
		close(fd);
		nk_tls13_wipe(&tls);
	}
	close(lfd);
	nk_server_cred_free(&cred);
	return 0;
}
