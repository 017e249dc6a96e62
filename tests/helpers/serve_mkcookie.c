/*
 * serve_mkcookie: mint an NTS session for nts-serve without NTS-KE, for
 * the tests: fresh random C2S/S2C keys, cookies sealed with the newest key
 * of an nts-serve cookie key file (lib/cookie), written as one `session`
 * record (lib/session) that nts-poll reads.
 *
 *   serve_mkcookie KEYFILE NTP_HOST:PORT [AEAD [COUNT [SOURCE]]]
 *
 * AEAD 15 (default) or 17; COUNT cookies, 1..8 (default 8).
 * With KEYFILE "-" the keys are random (cookies nobody can open: NTSN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cookie.h"
#include "session.h"
#include "util.h"

int main(int argc, char **argv)
{
	static struct nk_cookie_keys ks;
	static struct nk_session s;
	struct nk_nts_keys k;
	struct nk_err e;
	uint8_t nonce[NK_COOKIE_NONCE_LEN], c[NK_COOKIE_LEN];
	int aead = argc > 3 ? atoi(argv[3]) : 15;
	int count = argc > 4 ? atoi(argv[4]) : 8;
	const char *source = argc > 5 ? argv[5] : "nts-serve";
	char host[256];
	uint16_t port;

	if (argc < 3 || (aead != 15 && aead != 17) || count < 1 || count > 8) {
		fprintf(stderr, "usage: serve_mkcookie KEYFILE NTP_HOST:PORT [15|17 [COUNT [SOURCE]]]\n");
		return 64;
	}
	nk_cookie_keys_init(&ks, 0);
	if (strcmp(argv[1], "-") == 0) {
		if (nk_cookie_keys_rotate(&ks, time(NULL), &e) < 0) {
			fprintf(stderr, "serve_mkcookie: %s\n", e.msg);
			return 1;
		}
	} else if (nk_cookie_keys_load(&ks, argv[1], &e) <= 0) {
		fprintf(stderr, "serve_mkcookie: %s: %s\n", argv[1], ks.n ? "" : e.msg);
		return 1;
	}
	if (nk_hostport_parse(argv[2], host, sizeof host, &port, 123, &e) < 0) {
		fprintf(stderr, "serve_mkcookie: %s\n", e.msg);
		return 64;
	}
	memset(&k, 0, sizeof k);
	k.aead = aead;
	k.key_len = nk_siv_key_len(aead);
	if (nk_random(k.c2s, k.key_len) < 0 || nk_random(k.s2c, k.key_len) < 0)
		return 1;
	memset(&s, 0, sizeof s);
	snprintf(s.source, sizeof s.source, "%s", source);
	snprintf(s.ke_host, sizeof s.ke_host, "%s", host);
	s.ke_port = 4460;
	snprintf(s.ntp_host, sizeof s.ntp_host, "%s", host);
	s.ntp_port = port;
	s.aead = (uint16_t)aead;
	s.key_len = k.key_len;
	memcpy(s.c2s, k.c2s, k.key_len);
	memcpy(s.s2c, k.s2c, k.key_len);
	for (int i = 0; i < count; i++) {
		if (nk_random(nonce, sizeof nonce) < 0 || nk_cookie_seal(&ks, &k, nonce, c) < 0 ||
		    nk_session_add_cookie(&s, c, sizeof c) < 0) {
			fprintf(stderr, "serve_mkcookie: cannot mint cookie %d\n", i);
			return 1;
		}
	}
	s.ke_at = time(NULL);
	s.not_before = s.ke_at - 86400;
	s.not_after = s.ke_at + 86400 * 30;
	if (nk_session_write(&s, stdout, &e) < 0) {
		fprintf(stderr, "serve_mkcookie: %s\n", e.msg);
		return 1;
	}
	nk_session_wipe(&s);
	nk_nts_keys_wipe(&k);
	nk_cookie_keys_wipe(&ks);
	return 0;
}
