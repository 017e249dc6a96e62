/* Unit tests for lib/relay: the TCP relay frame (nts-poll(1) "TCP RELAY FRAME"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "relay.h"

static uint8_t ntp[48];

static void mk_addr(struct nk_socks5_addr *a, const char *host, uint16_t port)
{
	assert_int_equal(nk_socks5_addr_set(a, host, port, NULL), 0);
}

/* The bytes of a frame for a domain name, written out by hand. */
static void test_encode_domain(void **state)
{
	struct nk_socks5_addr a;
	uint8_t out[200];
	struct nk_err e;
	long n;
	(void)state;
	memset(ntp, 0x24, sizeof ntp);
	mk_addr(&a, "time.example", 123);
	n = nk_relay_encode(out, sizeof out, &a, ntp, sizeof ntp, &e);
	/* LEN = 2 + 1 + 1 + 1 + 12 + 2 + 48 = 67 */
	assert_int_equal(n, 2 + 67);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 67);
	assert_memory_equal(out + 2, "\x00\x00\x00\x03\x0c" "time.example" "\x00\x7b", 19);
	assert_memory_equal(out + 21, ntp, 48);
}

static void test_encode_ipv4_ipv6(void **state)
{
	struct nk_socks5_addr a;
	uint8_t out[200];
	long n;
	(void)state;
	mk_addr(&a, "192.0.2.1", 4123);
	n = nk_relay_encode(out, sizeof out, &a, ntp, sizeof ntp, NULL);
	assert_int_equal(n, 2 + 10 + 48);
	assert_memory_equal(out, "\x00\x3a\x00\x00\x00\x01\xc0\x00\x02\x01\x10\x1b", 12);
	mk_addr(&a, "2001:db8::1", 123);
	n = nk_relay_encode(out, sizeof out, &a, ntp, sizeof ntp, NULL);
	assert_int_equal(n, 2 + 22 + 48);
	assert_int_equal(out[5], 4);
}

static void test_encode_limits(void **state)
{
	struct nk_socks5_addr a;
	static uint8_t big[NK_RELAY_NTP_MAX + 1];
	static uint8_t out[NK_RELAY_FRAME_MAX];
	struct nk_err e;
	(void)state;
	mk_addr(&a, "127.0.0.1", 123);
	assert_int_equal(nk_relay_encode(out, sizeof out, &a, big, 47, &e), -1);
	assert_non_null(strstr(e.msg, "47 octets"));
	assert_int_equal(nk_relay_encode(out, sizeof out, &a, big, sizeof big, &e), -1);
	assert_true(nk_relay_encode(out, sizeof out, &a, big, NK_RELAY_NTP_MAX, &e) > 0);
	assert_int_equal(nk_relay_encode(out, 50, &a, big, 48, &e), -1);
	assert_non_null(strstr(e.msg, "too small"));
}

/* Two frames fed one octet at a time, then all at once. */
static void test_decode_stream(void **state)
{
	struct nk_socks5_addr a, b;
	struct nk_relay_dec d;
	struct nk_relay_frame f;
	uint8_t s[400], p2[100];
	size_t n1, n2, used, off;
	int got = 0, r;
	char txt[300];
	(void)state;
	memset(p2, 0x55, sizeof p2);
	mk_addr(&a, "ntp.example.org", 123);
	mk_addr(&b, "::1", 20999);
	n1 = (size_t)nk_relay_encode(s, sizeof s, &a, ntp, sizeof ntp, NULL);
	n2 = (size_t)nk_relay_encode(s + n1, sizeof s - n1, &b, p2, sizeof p2, NULL);
	nk_relay_dec_init(&d);
	for (off = 0; off < n1 + n2; off++) {
		r = nk_relay_dec_feed(&d, s + off, 1, &used, &f, NULL);
		assert_int_equal(used, 1);
		if (r == 1) {
			got++;
			if (got == 1) {
				assert_int_equal(off, n1 - 1);
				assert_int_equal(f.len, 48);
				nk_socks5_addr_format(txt, sizeof txt, &f.addr);
				assert_string_equal(txt, "ntp.example.org:123");
			} else {
				assert_int_equal(f.len, 100);
				assert_memory_equal(f.pkt, p2, 100);
				nk_socks5_addr_format(txt, sizeof txt, &f.addr);
				assert_string_equal(txt, "[::1]:20999");
			}
		} else {
			assert_int_equal(r, 0);
		}
	}
	assert_int_equal(got, 2);
	/* all at once: the first call stops after frame 1 */
	nk_relay_dec_init(&d);
	assert_int_equal(nk_relay_dec_feed(&d, s, n1 + n2, &used, &f, NULL), 1);
	assert_int_equal(used, n1);
	assert_int_equal(nk_relay_dec_feed(&d, s + used, n1 + n2 - used, &used, &f, NULL), 1);
	assert_int_equal(used, n2);
	assert_int_equal(f.len, 100);
	/* parse of one whole frame */
	assert_int_equal(nk_relay_parse(s, n1, &f, NULL), 0);
	assert_int_equal(f.len, 48);
	assert_int_equal(nk_relay_parse(s, n1 + 1, &f, NULL), -1);
	assert_int_equal(nk_relay_parse(s, n1 - 1, &f, NULL), -1);
}

static int feed_all(const uint8_t *s, size_t n, struct nk_err *e)
{
	struct nk_relay_dec d;
	struct nk_relay_frame f;
	size_t used;
	nk_relay_dec_init(&d);
	return nk_relay_dec_feed(&d, s, n, &used, &f, e);
}

static void test_decode_errors(void **state)
{
	struct nk_socks5_addr a;
	uint8_t s[200], t[200];
	struct nk_err e;
	size_t n;
	struct nk_relay_dec d;
	struct nk_relay_frame f;
	size_t used;
	(void)state;
	mk_addr(&a, "127.0.0.1", 123);
	n = (size_t)nk_relay_encode(s, sizeof s, &a, ntp, sizeof ntp, NULL);

	/* length too short / too long: refused as soon as LEN is in */
	assert_int_equal(feed_all((const uint8_t *)"\x00\x37", 2, &e), -1);
	assert_non_null(strstr(e.msg, "too short"));
	assert_int_equal(feed_all((const uint8_t *)"\xff\xff", 2, &e), -1);
	assert_non_null(strstr(e.msg, "exceeds"));
	/* RSV */
	memcpy(t, s, n); t[3] = 1;
	assert_int_equal(feed_all(t, n, &e), -1);
	assert_non_null(strstr(e.msg, "RSV"));
	/* FRAG */
	memcpy(t, s, n); t[4] = 1;
	assert_int_equal(feed_all(t, n, &e), -1);
	assert_non_null(strstr(e.msg, "FRAG"));
	/* ATYP */
	memcpy(t, s, n); t[5] = 2;
	assert_int_equal(feed_all(t, n, &e), -1);
	/* domain whose length runs past the frame: packet too short then */
	memcpy(t, s, n); t[5] = 3; t[6] = 60;
	assert_int_equal(feed_all(t, n, &e), -1);
	/* LEN fine, but the packet is 47 octets because the header is longer */
	memcpy(t, s, n); t[5] = 3; t[6] = 7;   /* header 2+1+1+1+7+2 = 14, packet 44 */
	assert_int_equal(feed_all(t, n, &e), -1);
	assert_non_null(strstr(e.msg, "octets"));
	/* a failed decoder stays failed */
	nk_relay_dec_init(&d);
	assert_int_equal(nk_relay_dec_feed(&d, (const uint8_t *)"\x00\x01", 2, &used, &f, &e), -1);
	assert_int_equal(nk_relay_dec_feed(&d, s, n, &used, &f, &e), -1);
	assert_non_null(strstr(e.msg, "failed"));
	/* incomplete is not an error */
	assert_int_equal(feed_all(s, n - 1, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_domain),
		cmocka_unit_test(test_encode_ipv4_ipv6),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_decode_stream),
		cmocka_unit_test(test_decode_errors),
	};
	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
