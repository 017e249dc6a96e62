/*
 * ratelimit: per-client-address rate limiting in bounded memory, for
 * nts-serve's UDP answers (nts-serve(8), RATE LIMITING).
 *
 * A fixed table of NK_RL_SETS sets of NK_RL_WAYS entries (set-associative,
 * allocated once by the caller: struct nk_rl is NK_RL_SETS * NK_RL_WAYS *
 * 16 octets + a little, 256 KiB with the defaults), so memory never grows
 * with the number of clients. An address (IPv4: all 32 bits; IPv6: the /64
 * prefix, what one site gets) is hashed with SipHash-2-4 under a random key
 * (so nobody can aim at one set); the set holds a token bucket per address:
 * `burst` tokens, refilled at `rate` tokens a second. Each request costs a
 * token. When a set is full the least recently seen entry is reused: a
 * client forgotten that way starts again with a full bucket (the table
 * errs on the side of answering).
 *
 * nk_rl_check() says what to do with one request:
 *   NK_RL_PASS   answer it;
 *   NK_RL_KOD    over the limit for the first time in this episode: answer
 *                with a Kiss-o'-Death RATE (RFC 5905 §7.4) — no bigger than
 *                the request — and log the client once;
 *   NK_RL_DROP   still over the limit: silence.
 * An episode ends when the bucket holds a whole token again.
 */
#ifndef NK_SERVE_RATELIMIT_H
#define NK_SERVE_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define NK_RL_SETS 4096
#define NK_RL_WAYS 4

enum nk_rl_verdict { NK_RL_PASS = 0, NK_RL_KOD = 1, NK_RL_DROP = 2 };

struct nk_rl_entry {
	uint32_t tag;           /* high hash bits; 0 = empty */
	uint32_t last_ms;       /* last refill, ms (wraps after 49 days: handled) */
	uint32_t tokens;        /* in 1/1024 token units */
	uint32_t flags;         /* 1: a KoD was sent in this episode */
};

struct nk_rl {
	uint64_t k0, k1;        /* SipHash key */
	uint32_t rate_milli;    /* tokens a second, times 1000 */
	uint32_t burst;         /* bucket size, tokens */
	uint64_t passed, kods, dropped, evictions;
	struct nk_rl_entry t[NK_RL_SETS][NK_RL_WAYS];
};

/* rate: tokens a second (> 0); burst: 1..65535. 0, or -1 when the CSPRNG
 * fails or the arguments are out of range. */
int nk_rl_init(struct nk_rl *rl, double rate, unsigned burst);
/* One request from sa at now_ms (a monotonic clock in ms). */
enum nk_rl_verdict nk_rl_check(struct nk_rl *rl, const struct sockaddr *sa, uint64_t now_ms);
/* SipHash-2-4 (exposed for the unit test against the reference vectors). */
uint64_t nk_rl_siphash(uint64_t k0, uint64_t k1, const uint8_t *m, size_t len);

#endif
