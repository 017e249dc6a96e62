/*
 * tls_probe: a TLS 1.3 client on lib/tls13 + lib/tlsio for the interop tests.
 *
 *   tls_probe [options] HOST:PORT
 *     --ca FILE          trust anchors (PEM)
 *     --sni NAME         server name (SNI and name check); default HOST
 *     --alpn P           offer ALPN protocol P;  --alpn-required: refuse a server without it
 *     --suites LIST      e.g. 1301,1302,1303 (hex, preference order)
 *     --groups LIST      x25519,secp256r1,secp384r1 (first one gets the key share)
 *     --time UNIX        validation time (default: now); --skip-window
 *     --label L --len N  exporter label and length (default EXPORTER-network-time-security, 32)
 *     --send LINE        send LINE + "\n" and print the first line received back
 *     --write LINE       send LINE + "\n" only (no answer awaited)
 *     --key-update       send a KeyUpdate (update_requested) before --send
 *     --explain          print each handshake step to stderr
 * Prints: "suite=... group=... alpn=... sig=... hrr=0|1 not-before=... not-after=..."
 *         "exporter=HEX" and, with --send, "recv=LINE". Exit 0 on success, 1 on
 * TLS failure (the error line on stderr, with the alert), 2 on usage/connect errors.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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

static int parse_list(const char *s, uint16_t *out, size_t max, int groups)
{
	char buf[256], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof buf, "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			return -1;
		if (groups && strcmp(tok, "x25519") == 0)
			out[n++] = NK_TLS_GROUP_X25519;
		else if (groups && strcmp(tok, "secp256r1") == 0)
			out[n++] = NK_TLS_GROUP_SECP256R1;
		else if (groups && strcmp(tok, "secp384r1") == 0)
			out[n++] = NK_TLS_GROUP_SECP384R1;
		else
			out[n++] = (uint16_t)strtoul(tok, NULL, 16);
	}
	return (int)n;
}

static int connect_to(const char *host, uint16_t port)
{
	struct addrinfo hints, *res, *ai;
	char ps[8];
	int fd = -1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof ps, "%u", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static struct nk_tls13 tls;

int main(int argc, char **argv)
{
	const char *ca = NULL, *sni = NULL, *alpn = NULL, *label = "EXPORTER-network-time-security";
	const char *send_line = NULL, *target = NULL;
	int write_only = 0, alpn_req = 0, skip_window = 0, do_explain = 0, key_update = 0;
	uint16_t suites[3], groups[12];
	int ns = 0, ng = 0;
	size_t xlen = 32;
	int64_t now = (int64_t)time(NULL);
	struct nk_tls13_config cfg;
	struct nk_trust trust;
	struct nk_err e = { "" };
	char host[256];
	uint16_t port;
	int fd, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v != NULL && ++i)
		if (ARG("--ca")) ca = v;
		else if (ARG("--sni")) sni = v;
		else if (ARG("--alpn")) alpn = v;
		else if (strcmp(a, "--alpn-required") == 0) alpn_req = 1;
		else if (ARG("--suites")) ns = parse_list(v, suites, 3, 0);
		else if (ARG("--groups")) ng = parse_list(v, groups, 12, 1);
		else if (ARG("--time")) now = strtoll(v, NULL, 10);
		else if (strcmp(a, "--skip-window") == 0) skip_window = 1;
		else if (ARG("--label")) label = v;
		else if (ARG("--len")) xlen = strtoul(v, NULL, 10);
		else if (ARG("--send")) send_line = v;
		else if (ARG("--write")) { send_line = v; write_only = 1; }
		else if (strcmp(a, "--key-update") == 0) key_update = 1;
		else if (strcmp(a, "--explain") == 0) do_explain = 1;
		else if (a[0] != '-' && target == NULL) target = a;
		else {
			fprintf(stderr, "tls_probe: bad argument '%s'\n", a);
			return 2;
		}
	}
	if (target == NULL || ns < 0 || ng < 0 || xlen == 0 || xlen > 1024) {
		fprintf(stderr, "usage: tls_probe [options] HOST:PORT\n");
		return 2;
	}
	if (nk_hostport_parse(target, host, sizeof host, &port, 0, &e) < 0) {
		fprintf(stderr, "tls_probe: %s\n", e.msg);
		return 2;
	}
	nk_trust_init(&trust);
	if (nk_trust_load_file(&trust, ca ? ca : NK_SYSTEM_CA_BUNDLE, &e) < 0) {
		fprintf(stderr, "tls_probe: %s\n", e.msg);
		return 2;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.server_name = sni ? sni : host;
	cfg.alpn = alpn;
	cfg.alpn_required = alpn_req;
	cfg.trust = &trust;
	cfg.time = now;
	cfg.skip_window = skip_window;
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
	fd = connect_to(host, port);
	if (fd < 0) {
		fprintf(stderr, "tls_probe: cannot connect to %s\n", target);
		nk_trust_free(&trust);
		return 2;
	}
	if (nk_tls13_client_init(&tls, &cfg, &e) < 0 || nk_tlsio_handshake(&tls, fd, 5000, &e) < 0) {
		printf("error=%s alert-sent=%d alert-rcvd=%d\n", e.msg, tls.alert_sent, tls.alert_rcvd);
		fprintf(stderr, "tls_probe: %s\n", e.msg);
		close(fd);
		nk_tls13_wipe(&tls);
		nk_trust_free(&trust);
		return 1;
	}
	printf("suite=%s group=%s alpn=%s sig=%s hrr=%d not-before=%lld not-after=%lld\n",
		nk_tlsrec_suite_name(tls.suite), nk_tls13_group_name(tls.group),
		tls.alpn[0] ? tls.alpn : "-", nk_tlssig_name(tls.sig_scheme), tls.hrr_done,
		(long long)tls.cert.not_before, (long long)tls.cert.not_after);
	printf("subject=%s\nissuer=%s\n", tls.cert.subject, tls.cert.issuer);
	{
		unsigned char x[1024];
		char hex[2049];
		if (nk_tls13_export(&tls, label, "", 0, x, xlen) < 0) {
			fprintf(stderr, "tls_probe: exporter failed\n");
			return 1;
		}
		nk_hex_encode(hex, x, xlen);
		printf("exporter=%s\n", hex);
	}
	fflush(stdout);
	if (key_update && nk_tls13_key_update(&tls, 1) < 0) {
		fprintf(stderr, "tls_probe: KeyUpdate failed\n");
		return 1;
	}
	if (send_line != NULL) {
		char line[4096];
		size_t got = 0;
		int rc = 0;

		snprintf(line, sizeof line, "%s\n", send_line);
		if (nk_tlsio_write(&tls, fd, 5000, line, strlen(line), &e) < 0) {
			fprintf(stderr, "tls_probe: %s\n", e.msg);
			rc = 1;
		}
		while (rc == 0 && !write_only && got < sizeof line - 1) {
			long n = nk_tlsio_read(&tls, fd, 5000, line + got, sizeof line - 1 - got, &e);
			if (n <= 0) {
				if (n < 0)
					fprintf(stderr, "tls_probe: %s\n", e.msg);
				rc = n < 0 ? 1 : 0;
				break;
			}
			got += (size_t)n;
			if (memchr(line, '\n', got))
				break;
		}
		line[got] = 0;
		line[strcspn(line, "\r\n")] = 0;
		if (!write_only)
			printf("recv=%s\n", line);
		if (rc)
			return 1;
	}
	nk_tlsio_close(&tls, fd, 1000);
	close(fd);
	nk_tls13_wipe(&tls);
	nk_trust_free(&trust);
	return 0;
}
