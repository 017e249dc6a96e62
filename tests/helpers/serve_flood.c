/*
 * serve_flood: a bounded flood of NTP and NTS requests at nts-serve from
 * many loopback source addresses, for tests/integration/serve_abuse.sh.
 *
 *   serve_flood HOST PORT SOURCES PER [SESSIONFILE [nts]]
 *
 * SOURCES source addresses 127.1.0.1, 127.1.0.2, ... (127.0.0.0/8 is all
 * loopback on Linux), each sending PER requests back to back, in batches
 * of 128 sources (paced: 16 requests a millisecond at most); after each
 * batch the answers are collected for up to 300 ms (until 100 ms pass
 * without one).
 * Requests rotate through: plain NTP (48 octets), NTS with 0..3
 * placeholders (SESSIONFILE's keys and first cookie), NTS with a broken
 * authenticator, NTS with a cookie nobody can open, and junk (mode 4);
 * with "nts" after the session file, only valid NTS requests without
 * placeholders (for CPU comparisons, e.g. with chrony).
 * Every answer is matched to its request by the origin timestamp and
 * checked: never longer than the request. Prints one line:
 *   requests=N bytes-out=N answers=N bytes-in=N ntp=N nts=N rate=N ntsn=N
 *   larger=N max-ratio=R
 * (larger: answers longer than their request; must be 0). Exit 0, or 1
 * on setup errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nts.h"
#include "record.h"
#include "session.h"

#define BATCH 128
#define MAXPER 64

struct req {
	uint64_t org;
	size_t len;
	int sock;
	int answered;
};

static struct req reqs[BATCH * MAXPER];
static struct nk_session sess;
static int have_sess, nts_only;

static int load_session(const char *path)
{
	static struct nk_rec_reader rd;
	struct nk_rec rec;
	struct nk_err e;
	FILE *f = fopen(path, "r");
	int rc;

	if (f == NULL)
		return -1;
	nk_rec_reader_init(&rd, f, path);
	while ((rc = nk_rec_read(&rd, &rec, &e)) == 1)
		if (strcmp(rec.type, "session") == 0 && nk_session_from_rec(&sess, &rec, &e) == 0) {
			fclose(f);
			return 0;
		}
	fclose(f);
	fprintf(stderr, "serve_flood: %s: no session (%s)\n", path, rc < 0 ? e.msg : "empty");
	return -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst;
	struct nk_nts_keys k;
	unsigned long sources, per;
	uint64_t requests = 0, bout = 0, answers = 0, bin = 0, ntp = 0, nts = 0, rate = 0, ntsn = 0, larger = 0;
	double maxr = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: serve_flood HOST PORT SOURCES PER [SESSIONFILE]\n");
		return 1;
	}
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
		return 1;
	sources = strtoul(argv[3], NULL, 10);
	per = strtoul(argv[4], NULL, 10);
	if (sources < 1 || sources > 60000 || per < 1 || per > MAXPER)
		return 1;
	if (argc > 5) {
		if (load_session(argv[5]) < 0)
			return 1;
		have_sess = 1;
		nts_only = argc > 6 && strcmp(argv[6], "nts") == 0;
		memset(&k, 0, sizeof k);
		k.aead = sess.aead;
		k.key_len = sess.key_len;
		memcpy(k.c2s, sess.c2s, sess.key_len);
		memcpy(k.s2c, sess.s2c, sess.key_len);
	}
	for (unsigned long b0 = 0; b0 < sources; b0 += BATCH) {
		int socks[BATCH];
		struct pollfd pfd[BATCH];
		unsigned nb = 0, nr = 0;
		struct timespec t0, t;

		for (unsigned long i = b0; i < sources && nb < BATCH; i++, nb++) {
			struct sockaddr_in src;
			unsigned long a = i + 1;

			memset(&src, 0, sizeof src);
			src.sin_family = AF_INET;
			src.sin_addr.s_addr = htonl(0x7f010000u | (uint32_t)(a & 0xffff));
			socks[nb] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
			if (socks[nb] < 0 || bind(socks[nb], (struct sockaddr *)&src, sizeof src) < 0) {
				perror("serve_flood: socket/bind");
				return 1;
			}
			pfd[nb].fd = socks[nb];
			pfd[nb].events = POLLIN;
		}
		for (unsigned long j = 0; j < per; j++) {
			for (unsigned s = 0; s < nb; s++) {
				uint8_t pkt[2048];
				struct nk_nts_client_state st;
				struct nk_err e;
				long len = 0;
				unsigned kind = (unsigned)((j + s) % 6);
				struct req *r = &reqs[nr];

				if (!have_sess && kind != 5)
					kind = 0;
				if (nts_only)
					kind = 2;
				if (kind == 0 || kind == 5) {
					nk_ntp_ts xmt;

					nk_ntp_client_hdr(pkt, 0, &xmt, &e);
					if (kind == 5)
						pkt[0] = 0x24;  /* mode 4: junk for a server */
					len = 48;
					r->org = xmt;
				} else {
					unsigned ph = kind == 1 ? (unsigned)(j % 4) : 0;
					const uint8_t *c = sess.cookie[0];
					size_t cl = sess.cookie_len[0];
					uint8_t junk[256];

					if (kind == 4) {    /* a cookie nobody can open */
						memset(junk, 0x5a, cl);
						c = junk;
					}
					len = nk_nts_client_request(pkt, sizeof pkt, &k, c, cl, ph, 0, &st, &e);
					if (len <= 0) {
						fprintf(stderr, "serve_flood: %s\n", e.msg);
						return 1;
					}
					if (kind == 3)
						pkt[len - 1] ^= 1;      /* broken authenticator */
					r->org = st.org;
				}
				r->len = (size_t)len;
				r->sock = s;
				r->answered = 0;
				nr++;
				if (sendto(socks[s], pkt, (size_t)len, 0, (struct sockaddr *)&dst, sizeof dst) == len) {
					requests++;
					bout += (uint64_t)len;
				}
				if (requests % 16 == 0)
					usleep(1000);   /* pace: the point is the rate limit, not the socket buffer */
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			long ms;

			clock_gettime(CLOCK_MONOTONIC, &t);
			ms = 300 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
			/* until 300 ms have passed or nothing came for 100 ms */
			if (ms <= 0 || poll(pfd, nb, ms < 100 ? (int)ms : 100) <= 0)
				break;
			for (unsigned s = 0; s < nb; s++) {
				uint8_t in[4096];
				ssize_t n;

				if (!(pfd[s].revents & POLLIN))
					continue;
				while ((n = recv(socks[s], in, sizeof in, 0)) > 0) {
					struct nk_ntp_hdr h;
					struct req *r = NULL;

					answers++;
					bin += (uint64_t)n;
					if (nk_ntp_hdr_decode(&h, in, (size_t)n, NULL) < 0)
						continue;
					for (unsigned q = 0; q < nr; q++)
						if (reqs[q].sock == (int)s && reqs[q].org == h.org && !reqs[q].answered) {
							r = &reqs[q];
							break;
						}
					if (r == NULL) {
						larger++;       /* unmatched answers count as violations */
						continue;
					}
					r->answered = 1;
					if ((size_t)n > r->len)
						larger++;
					if ((double)n / (double)r->len > maxr)
						maxr = (double)n / (double)r->len;
					if (h.stratum == 0 && memcmp(h.refid, "RATE", 4) == 0)
						rate++;
					else if (h.stratum == 0 && memcmp(h.refid, "NTSN", 4) == 0)
						ntsn++;
					else if ((size_t)n > 48)
						nts++;
					else
						ntp++;
				}
			}
		}
		for (unsigned s = 0; s < nb; s++)
			close(socks[s]);
	}
	printf("requests=%llu bytes-out=%llu answers=%llu bytes-in=%llu ntp=%llu nts=%llu rate=%llu ntsn=%llu larger=%llu max-ratio=%.3f\n",
		(unsigned long long)requests, (unsigned long long)bout, (unsigned long long)answers,
		(unsigned long long)bin, (unsigned long long)ntp, (unsigned long long)nts,
		(unsigned long long)rate, (unsigned long long)ntsn, (unsigned long long)larger, maxr);
	return 0;
}
