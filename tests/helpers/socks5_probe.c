/*
 * socks5_probe: test client built on lib/socks5.
 *
 *   socks5_probe [-t MS] [-u USER -p PASS | -I] [-A] PROXY connect TARGET MESSAGE
 *   socks5_probe [-t MS] [-u USER -p PASS | -I] [-A] PROXY udp     TARGET MESSAGE
 *
 * PROXY is IP:PORT (or localhost:PORT); TARGET is HOST:PORT (a name is sent
 * to the proxy unresolved). connect: sends MESSAGE over a CONNECT tunnel and
 * expects it echoed back. udp: sends MESSAGE through a UDP ASSOCIATE relay
 * and expects "echo:MESSAGE" back. -t: per-step timeout (default 5000 ms).
 * -I: Tor-style isolation credentials. -A: declare 0.0.0.0:0 in UDP
 * ASSOCIATE. Dropped datagrams are reported on stderr as "dropped: ...".
 *
 * Output: "ok ..." on stdout and exit 0; "error: ONE LINE" on stderr and
 * exit 2 for a SOCKS error; exit 3 when the echo was wrong; 64 usage.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socks5.h"

static int usage(void)
{
	fprintf(stderr, "usage: socks5_probe [-t MS] [-u USER -p PASS | -I] [-A] PROXY connect|udp TARGET MESSAGE\n");
	return 64;
}

static int do_connect(const struct nk_socks5_proxy *p, const struct nk_socks5_addr *dst,
	const char *msg, int tmo)
{
	struct nk_socks5_addr bnd;
	struct nk_err e;
	char b[1024], bs[300];
	size_t n = strlen(msg), have = 0;
	int fd;

	fd = nk_socks5_connect(p, dst, &bnd, &e);
	if (fd < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 2;
	}
	nk_socks5_addr_format(bs, sizeof bs, &bnd);
	if (write(fd, msg, n) != (ssize_t)n) {
		fprintf(stderr, "error: write: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	while (have < n && have < sizeof b - 1) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;
		if (poll(&pf, 1, tmo) <= 0)
			break;
		r = read(fd, b + have, sizeof b - 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	b[have] = 0;
	close(fd);
	if (have != n || memcmp(b, msg, n) != 0) {
		fprintf(stderr, "error: echo mismatch: sent '%s', got '%s'\n", msg, b);
		return 3;
	}
	printf("ok connect bnd=%s reply=%s\n", bs, b);
	return 0;
}

static int do_udp(const struct nk_socks5_proxy *p, const struct nk_socks5_addr *dst,
	const char *msg, int tmo)
{
	struct nk_socks5_udp u;
	struct nk_socks5_addr src;
	struct nk_err e;
	char b[2048], want[1100], ss[300];
	long r;

	if (nk_socks5_udp_open(&u, p, &e) < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 2;
	}
	fprintf(stderr, "relay %s\n", u.relay_name);
	if (nk_socks5_udp_send(&u, dst, msg, strlen(msg), &e) < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		nk_socks5_udp_close(&u);
		return 2;
	}
	while ((r = nk_socks5_udp_recv(&u, b, sizeof b - 1, &src, tmo, &e)) == NK_SOCKS5_DROPPED)
		fprintf(stderr, "dropped: %s\n", e.msg);
	nk_socks5_udp_close(&u);
	if (r < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 2;
	}
	b[r] = 0;
	snprintf(want, sizeof want, "echo:%s", msg);
	nk_socks5_addr_format(ss, sizeof ss, &src);
	if (strcmp(b, want) != 0) {
		fprintf(stderr, "error: echo mismatch: want '%s', got '%s'\n", want, b);
		return 3;
	}
	printf("ok udp relay=%s from=%s reply=%s\n", u.relay_name, ss, b);
	return 0;
}

int main(int argc, char **argv)
{
	struct nk_socks5_proxy p;
	struct nk_socks5_addr dst;
	struct nk_err e;
	const char *user = NULL, *pass = NULL;
	int c, tmo = 5000, iso = 0, any = 0, rc;

	while ((c = getopt(argc, argv, "t:u:p:IA")) != -1) {
		switch (c) {
		case 't': tmo = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'p': pass = optarg; break;
		case 'I': iso = 1; break;
		case 'A': any = 1; break;
		default: return usage();
		}
	}
	if (argc - optind != 4 || (user == NULL) != (pass == NULL) || tmo <= 0)
		return usage();
	if (nk_socks5_proxy_parse(&p, argv[optind], 0, &e) < 0 ||
	    (user != NULL && nk_socks5_set_auth(&p, user, pass, &e) < 0) ||
	    (iso && nk_socks5_isolate(&p, &e) < 0) ||
	    nk_socks5_addr_parse(&dst, argv[optind + 2], 0, &e) < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 64;
	}
	p.timeout_ms = tmo;
	p.udp_declare_any = any;
	if (iso)
		fprintf(stderr, "isolation user %s\n", p.user);
	if (strcmp(argv[optind + 1], "connect") == 0)
		rc = do_connect(&p, &dst, argv[optind + 3], tmo);
	else if (strcmp(argv[optind + 1], "udp") == 0)
		rc = do_udp(&p, &dst, argv[optind + 3], tmo);
	else
		rc = usage();
	nk_socks5_proxy_wipe(&p);
	return rc;
}
