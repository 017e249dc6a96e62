/*
 * tls_bench: CPU cost of full TLS 1.3 client handshakes (issue 3, item 7).
 *
 *   tls_bench self N HOST:PORT CAFILE SNI
 *       N full handshakes with lib/tls13 (chain and name validated, exporter
 *       computed, close_notify sent); prints "handshakes=N cpu=SECONDS".
 *   tls_bench exec CMD ARGS...
 *       runs CMD and prints the CPU time (user+system) it used: "cpu=SECONDS"
 *       (for OpenSSL's own client, `openssl s_time -new`).
 * CPU time is getrusage()/wait4() user + system time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tls13.h"
#include "tlscert.h"
#include "tlsio.h"

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static struct nk_tls13 tls;

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
		struct rusage ru;
		int st;
		pid_t p = fork();
		if (p == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (p < 0 || wait4(p, &st, 0, &ru) < 0)
			return 2;
		printf("cpu=%.4f\n", tv(ru.ru_utime) + tv(ru.ru_stime));
		return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
	}
	if (argc == 6 && strcmp(argv[1], "self") == 0) {
		int n = atoi(argv[2]);
		char host[256];
		uint16_t port;
		struct nk_trust trust;
		struct nk_err e = { "" };
		struct sockaddr_in sa;
		struct rusage r0, r1;
		unsigned char x[32];

		if (nk_hostport_parse(argv[3], host, sizeof host, &port, 0, &e) < 0)
			return 2;
		nk_trust_init(&trust);
		if (nk_trust_load_file(&trust, argv[4], &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 2;
		}
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons(port);
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
			return 2;
		getrusage(RUSAGE_SELF, &r0);
		for (int i = 0; i < n; i++) {
			struct nk_tls13_config cfg;
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
				perror("connect");
				return 1;
			}
			memset(&cfg, 0, sizeof cfg);
			cfg.server_name = argv[5];
			cfg.trust = &trust;
			cfg.time = (int64_t)time(NULL);
			if (nk_tls13_client_init(&tls, &cfg, &e) < 0 || nk_tlsio_handshake(&tls, fd, 5000, &e) < 0) {
				fprintf(stderr, "handshake %d: %s\n", i, e.msg);
				return 1;
			}
			nk_tls13_export(&tls, "EXPORTER-network-time-security", "", 0, x, 32);
			nk_tlsio_close(&tls, fd, 1000);
			close(fd);
			nk_tls13_wipe(&tls);
		}
		getrusage(RUSAGE_SELF, &r1);
		printf("handshakes=%d cpu=%.4f\n", n,
			tv(r1.ru_utime) - tv(r0.ru_utime) + tv(r1.ru_stime) - tv(r0.ru_stime));
		nk_trust_free(&trust);
		return 0;
	}
	fprintf(stderr, "usage: tls_bench self N HOST:PORT CAFILE SNI | tls_bench exec CMD...\n");
	return 2;
}
