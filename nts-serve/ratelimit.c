/* ratelimit: per-address token buckets in a fixed table (ratelimit.h). */
#include "ratelimit.h"

#include <netinet/in.h>
#include <string.h>

#include "util.h"

#define TOK_ONE 1024u

/* SipHash-2-4 (Aumasson, Bernstein), 64-bit output. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t nk_rl_siphash(uint64_t k0, uint64_t k1, const uint8_t *m, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56, mi;
	size_t i, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		mi = le64(m + i);
		v3 ^= mi;
		SIPROUND; SIPROUND;
		v0 ^= mi;
	}
	for (size_t j = 0; j < len % 8; j++)
		b |= (uint64_t)m[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND; SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int nk_rl_init(struct nk_rl *rl, double rate, unsigned burst)
{
	uint64_t k[2];

	if (!(rate > 0 && rate <= 1e6) || burst == 0 || burst > 65535)
		return -1;
	memset(rl, 0, sizeof *rl);
	if (nk_random(k, sizeof k) < 0)
		return -1;
	rl->k0 = k[0];
	rl->k1 = k[1];
	rl->rate_milli = (uint32_t)(rate * 1000 + 0.5);
	if (rl->rate_milli == 0)
		rl->rate_milli = 1;
	rl->burst = burst;
	return 0;
}

enum nk_rl_verdict nk_rl_check(struct nk_rl *rl, const struct sockaddr *sa, uint64_t now_ms)
{
	uint8_t m[17];
	size_t mlen;
	uint64_t h;
	uint32_t tag, now = (uint32_t)now_ms, cap = rl->burst * TOK_ONE;
	struct nk_rl_entry *set, *e = NULL, *lru;

	/* the key: family, then the IPv4 address or the IPv6 /64 */
	if (sa->sa_family == AF_INET) {
		m[0] = 4;
		memcpy(m + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		mlen = 5;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			m[0] = 4;
			memcpy(m + 1, a->s6_addr + 12, 4);
			mlen = 5;
		} else {
			m[0] = 6;
			memcpy(m + 1, a->s6_addr, 8);
			mlen = 9;
		}
	} else {
		m[0] = 0;
		mlen = 1;
	}
	h = nk_rl_siphash(rl->k0, rl->k1, m, mlen);
	set = rl->t[h % NK_RL_SETS];
	tag = (uint32_t)(h >> 32) | 1;  /* never 0 (= empty) */
	lru = &set[0];
	for (unsigned i = 0; i < NK_RL_WAYS; i++) {
		if (set[i].tag == tag) {
			e = &set[i];
			break;
		}
		if (set[i].tag == 0) {
			if (lru->tag != 0)
				lru = &set[i];
		} else if (lru->tag != 0 && (uint32_t)(now - set[i].last_ms) > (uint32_t)(now - lru->last_ms)) {
			lru = &set[i];
		}
	}
	if (e == NULL) {
		if (lru->tag != 0)
			rl->evictions++;
		e = lru;
		e->tag = tag;
		e->tokens = cap;
		e->last_ms = now;
		e->flags = 0;
	} else {
		/* refill: elapsed ms * tokens/s; elapsed capped so no overflow */
		uint32_t dt = now - e->last_ms;
		uint64_t add;

		if (dt > 3600000u)
			dt = 3600000u;
		add = (uint64_t)dt * rl->rate_milli * TOK_ONE / 1000000u;
		if (add > 0) {
			e->tokens = (uint64_t)e->tokens + add >= cap ? cap : e->tokens + (uint32_t)add;
			/* advance by the time the added tokens stand for, so that
			 * fractions are not lost between close requests */
			e->last_ms = e->tokens == cap ? now
				: e->last_ms + (uint32_t)(add * 1000000u / ((uint64_t)rl->rate_milli * TOK_ONE));
		}
	}
	if (e->tokens >= TOK_ONE) {
		e->tokens -= TOK_ONE;
		e->flags = 0;
		rl->passed++;
		return NK_RL_PASS;
	}
	if (!(e->flags & 1)) {
		e->flags |= 1;
		rl->kods++;
		return NK_RL_KOD;
	}
	rl->dropped++;
	return NK_RL_DROP;
}
