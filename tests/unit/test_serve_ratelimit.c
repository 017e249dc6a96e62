/* Unit tests for nts-serve/ratelimit.c: SipHash, token buckets, bounded table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../nts-serve/ratelimit.c"

static struct nk_rl rl;

static struct sockaddr_in v4(uint32_t a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof s);
	s.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(a);
	s.sin_port = htons(123);
	return s;
}

static void test_siphash(void **state)
{
	uint8_t m[15];
	uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
	(void)state;
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	/* reference vectors (SipHash paper, Appendix A; vectors.h) */
	assert_true(nk_rl_siphash(k0, k1, m, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(nk_rl_siphash(k0, k1, m, 15) == 0xa129ca6149be45e5ULL);
}

static void test_bucket(void **state)
{
	struct sockaddr_in a = v4(0x7f000002), b = v4(0x7f000003);
	uint64_t t = 1000;
	(void)state;
	assert_int_equal(nk_rl_init(&rl, 1.0, 4), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t), NK_RL_PASS);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t), NK_RL_KOD);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t), NK_RL_DROP);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t + 500), NK_RL_DROP);
	/* another address is not affected */
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&b, t), NK_RL_PASS);
	/* a second later one token is back; the next excess gets a KoD again */
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t + 1000), NK_RL_PASS);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t + 1000), NK_RL_KOD);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t + 1001), NK_RL_DROP);
	/* long idle: full bucket, no more */
	for (int i = 0; i < 4; i++)
		assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t + 100000), NK_RL_PASS);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, t + 100000), NK_RL_KOD);
	assert_true(rl.kods == 3);
	/* fractions add up: 10 requests 100 ms apart at 1/s = one more pass */
	{
		int pass = 0;

		for (int i = 1; i <= 10; i++)
			pass += nk_rl_check(&rl, (struct sockaddr *)&a, t + 100000 + i * 100) == NK_RL_PASS;
		assert_int_equal(pass, 1);
	}
	/* the 32-bit ms clock wraps: still works */
	assert_int_equal(nk_rl_init(&rl, 1.0, 2), 0);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, 0xfffffff0ULL), NK_RL_PASS);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, 0xfffffff0ULL), NK_RL_PASS);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, 0xfffffff0ULL), NK_RL_KOD);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, 0x100000000ULL + 2000), NK_RL_PASS);
	assert_int_equal(nk_rl_init(&rl, 0, 4), -1);
	assert_int_equal(nk_rl_init(&rl, 1, 0), -1);
}

static void test_ipv6_prefix(void **state)
{
	struct sockaddr_in6 a, b, c;
	(void)state;
	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2::1", &a.sin6_addr);
	b = a;
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &b.sin6_addr);   /* same /64 */
	c = a;
	inet_pton(AF_INET6, "2001:db8:1:3::1", &c.sin6_addr);        /* another /64 */
	assert_int_equal(nk_rl_init(&rl, 1.0, 2), 0);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, 5), NK_RL_PASS);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&b, 5), NK_RL_PASS);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, 5), NK_RL_KOD);
	assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&c, 5), NK_RL_PASS);
}

static void test_bounded(void **state)
{
	struct sockaddr_in a, h = v4(0x0a000001);
	unsigned kod = 0;
	(void)state;
	/* the table never grows: its size is fixed at compile time */
	assert_true(sizeof rl <= 300 * 1024);
	assert_int_equal(nk_rl_init(&rl, 1.0, 4), 0);
	/* 200 000 distinct addresses in one second: entries are reused */
	for (uint32_t i = 0; i < 200000; i++) {
		a = v4(0x7f000000 | i);
		assert_int_equal(nk_rl_check(&rl, (struct sockaddr *)&a, 50), NK_RL_PASS);
	}
	assert_true(rl.evictions >= 200000 - NK_RL_SETS * NK_RL_WAYS);
	/* one heavy client among a moderate crowd stays limited: its entry is
	 * the most recently used in its set */
	for (int i = 0; i < 100; i++) {
		a = v4(0x7f100000 | (uint32_t)i);
		nk_rl_check(&rl, (struct sockaddr *)&a, 60);
		kod += nk_rl_check(&rl, (struct sockaddr *)&h, 60) != NK_RL_PASS;
	}
	assert_true(kod >= 90);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests_name("serve_ratelimit", tests, NULL, NULL);
}
