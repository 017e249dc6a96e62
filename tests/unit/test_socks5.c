/* Unit tests for lib/socks5: encoders, the reply and UDP header parsers on
 * byte buffers (good and bad), reply codes in words, proxy/target parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "socks5.h"

static void test_addr_set(void **state)
{
	struct nk_socks5_addr a;
	struct nk_err e;
	char s[300], longname[300];
	(void)state;

	assert_int_equal(nk_socks5_addr_set(&a, "192.0.2.7", 123, &e), 0);
	assert_int_equal(a.atyp, NK_SOCKS5_ATYP_IPV4);
	assert_int_equal(a.len, 4);
	assert_memory_equal(a.a, "\xc0\x00\x02\x07", 4);
	assert_int_equal(nk_socks5_addr_set(&a, "2001:db8::1", 4460, &e), 0);
	assert_int_equal(a.atyp, NK_SOCKS5_ATYP_IPV6);
	assert_int_equal(a.len, 16);
	assert_int_equal(nk_socks5_addr_format(s, sizeof s, &a), 18);
	assert_string_equal(s, "[2001:db8::1]:4460");
	/* a name is never resolved: it becomes ATYP domain */
	assert_int_equal(nk_socks5_addr_set(&a, "localhost", 20200, &e), 0);
	assert_int_equal(a.atyp, NK_SOCKS5_ATYP_DOMAIN);
	assert_int_equal(a.len, 9);
	assert_memory_equal(a.a, "localhost", 9);
	nk_socks5_addr_format(s, sizeof s, &a);
	assert_string_equal(s, "localhost:20200");
	/* not literals: still names (leading zeros, incomplete dotted quad) */
	assert_int_equal(nk_socks5_addr_set(&a, "1.2.3", 1, &e), 0);
	assert_int_equal(a.atyp, NK_SOCKS5_ATYP_DOMAIN);
	/* 255 bytes ok, 256 not, empty not, space not, non-ASCII not */
	memset(longname, 'a', 255);
	longname[255] = 0;
	assert_int_equal(nk_socks5_addr_set(&a, longname, 1, &e), 0);
	assert_int_equal(a.len, 255);
	longname[255] = 'a';
	longname[256] = 0;
	assert_int_equal(nk_socks5_addr_set(&a, longname, 1, &e), -1);
	assert_non_null(strstr(e.msg, "1 to 255"));
	assert_int_equal(nk_socks5_addr_set(&a, "", 1, &e), -1);
	assert_int_equal(nk_socks5_addr_set(&a, "a b", 1, &e), -1);
	assert_int_equal(nk_socks5_addr_set(&a, "caf\xc3\xa9.example", 1, &e), -1);
	assert_int_equal(nk_socks5_addr_set(&a, "fe80::1%eth0", 1, &e), -1);
	assert_non_null(strstr(e.msg, "neither an IP address nor a host name"));
	assert_int_equal(nk_socks5_addr_set(&a, "1::2::3", 1, &e), -1);
	/* host:port forms */
	assert_int_equal(nk_socks5_addr_parse(&a, "[::1]:4460", 0, &e), 0);
	assert_int_equal(a.atyp, NK_SOCKS5_ATYP_IPV6);
	assert_int_equal(a.port, 4460);
	assert_int_equal(nk_socks5_addr_parse(&a, "time.example.org", 4460, &e), 0);
	assert_int_equal(a.port, 4460);
	assert_int_equal(nk_socks5_addr_parse(&a, "time.example.org", 0, &e), -1);
}

static void test_proxy_init(void **state)
{
	struct nk_socks5_proxy p;
	struct nk_err e;
	(void)state;

	assert_int_equal(nk_socks5_proxy_init(&p, "127.0.0.1", 9050, &e), 0);
	assert_string_equal(p.name, "127.0.0.1:9050");
	assert_int_equal(p.timeout_ms, NK_SOCKS5_DEFAULT_TIMEOUT_MS);
	assert_int_equal(p.use_auth, 0);
	assert_int_equal(nk_socks5_proxy_init(&p, "localhost", 1080, &e), 0);
	assert_string_equal(p.name, "127.0.0.1:1080");
	assert_int_equal(nk_socks5_proxy_parse(&p, "[::1]:1080", 0, &e), 0);
	assert_string_equal(p.name, "[::1]:1080");
	assert_int_equal(nk_socks5_proxy_parse(&p, "127.0.0.1", 9050, &e), 0);
	assert_string_equal(p.name, "127.0.0.1:9050");
	/* names other than localhost are refused: we never resolve */
	assert_int_equal(nk_socks5_proxy_init(&p, "proxy.example.org", 1080, &e), -1);
	assert_non_null(strstr(e.msg, "IP address or localhost"));
	assert_int_equal(nk_socks5_proxy_init(&p, "127.0.0.1", 0, &e), -1);
	assert_int_equal(nk_socks5_proxy_parse(&p, "127.0.0.1:99999", 0, &e), -1);
}

static void test_auth_and_isolation(void **state)
{
	struct nk_socks5_proxy p, q;
	struct nk_err e;
	char big[300];
	uint8_t b[600];
	(void)state;

	nk_socks5_proxy_init(&p, "127.0.0.1", 9050, &e);
	assert_int_equal(nk_socks5_set_auth(&p, "u", "pw", &e), 0);
	assert_int_equal(p.use_auth, 1);
	assert_int_equal(nk_socks5_auth_encode(b, sizeof b, p.user, p.pass, &e), 6);
	assert_memory_equal(b, "\x01\x01u\x02pw", 6);
	assert_int_equal(nk_socks5_set_auth(&p, "", "pw", &e), -1);
	assert_non_null(strstr(e.msg, "username"));
	assert_int_equal(nk_socks5_set_auth(&p, "u", "", &e), -1);
	assert_non_null(strstr(e.msg, "password"));
	memset(big, 'x', 255);
	big[255] = 0;
	assert_int_equal(nk_socks5_set_auth(&p, big, big, &e), 0);
	assert_int_equal(nk_socks5_auth_encode(b, sizeof b, p.user, p.pass, &e), 513);
	assert_int_equal(nk_socks5_auth_encode(b, 512, p.user, p.pass, &e), -1);
	big[255] = 'x';
	big[256] = 0;
	assert_int_equal(nk_socks5_set_auth(&p, big, "pw", &e), -1);
	assert_int_equal(nk_socks5_set_auth(&p, "u", big, &e), -1);

	/* isolation: fresh, well-formed, different each time */
	q = p;
	assert_int_equal(nk_socks5_isolate(&p, &e), 0);
	assert_int_equal(nk_socks5_isolate(&q, &e), 0);
	assert_int_equal(strlen(p.user), 7 + 16);
	assert_memory_equal(p.user, "ntskit-", 7);
	assert_int_equal(strlen(p.pass), 16);
	assert_int_equal(strspn(p.user + 7, "0123456789abcdef"), 16);
	assert_string_not_equal(p.user, q.user);
	assert_string_not_equal(p.pass, q.pass);
	assert_int_equal(p.use_auth, 1);
	nk_socks5_proxy_wipe(&p);
	assert_int_equal(p.use_auth, 0);
	assert_int_equal(p.user[0], 0);
}

static void test_greeting_method(void **state)
{
	uint8_t b[8];
	struct nk_err e;
	(void)state;

	assert_int_equal(nk_socks5_greeting_encode(b, sizeof b, 0), 3);
	assert_memory_equal(b, "\x05\x01\x00", 3);
	assert_int_equal(nk_socks5_greeting_encode(b, sizeof b, 1), 3);
	assert_memory_equal(b, "\x05\x01\x02", 3);
	assert_int_equal(nk_socks5_greeting_encode(b, 2, 1), -1);

	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"\x05\x00", 2, 0, &e), 0);
	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"\x05\x02", 2, 1, &e), 2);
	/* 0xFF: no acceptable methods */
	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"\x05\xff", 2, 0, &e), -1);
	assert_non_null(strstr(e.msg, "accepts none of our methods"));
	assert_non_null(strstr(e.msg, "username and password"));
	/* a method we did not offer */
	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"\x05\x02", 2, 0, &e), -1);
	assert_non_null(strstr(e.msg, "did not offer"));
	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"\x05\x00", 2, 1, &e), -1);
	/* wrong version, HTTP, short */
	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"\x04\x00", 2, 0, &e), -1);
	assert_non_null(strstr(e.msg, "version byte 0x04"));
	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"HT", 2, 0, &e), -1);
	assert_non_null(strstr(e.msg, "HTTP"));
	assert_int_equal(nk_socks5_method_parse((const uint8_t *)"\x05", 1, 0, &e), -1);
	assert_non_null(strstr(e.msg, "short"));
}

static void test_auth_parse(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(nk_socks5_auth_parse((const uint8_t *)"\x01\x00", 2, &e), 0);
	assert_int_equal(nk_socks5_auth_parse((const uint8_t *)"\x01\x01", 2, &e), -1);
	assert_non_null(strstr(e.msg, "rejected the username/password"));
	assert_int_equal(nk_socks5_auth_parse((const uint8_t *)"\x07\x00", 2, &e), -1);
	assert_non_null(strstr(e.msg, "version 0x07"));
	assert_int_equal(nk_socks5_auth_parse((const uint8_t *)"\x01", 1, &e), -1);
}

static void test_request_encode(void **state)
{
	struct nk_socks5_addr a;
	struct nk_err e;
	uint8_t b[NK_SOCKS5_MSG_MAX];
	char longname[256];
	(void)state;

	nk_socks5_addr_set(&a, "127.0.0.1", 20200, &e);
	assert_int_equal(nk_socks5_request_encode(b, sizeof b, NK_SOCKS5_CMD_CONNECT, &a, &e), 10);
	assert_memory_equal(b, "\x05\x01\x00\x01\x7f\x00\x00\x01\x4e\xe8", 10);
	nk_socks5_addr_set(&a, "::1", 443, &e);
	assert_int_equal(nk_socks5_request_encode(b, sizeof b, NK_SOCKS5_CMD_CONNECT, &a, &e), 22);
	assert_memory_equal(b, "\x05\x01\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x01\xbb", 22);
	nk_socks5_addr_set(&a, "nts.test", 4460, &e);
	assert_int_equal(nk_socks5_request_encode(b, sizeof b, NK_SOCKS5_CMD_CONNECT, &a, &e), 15);
	assert_memory_equal(b, "\x05\x01\x00\x03\x08nts.test\x11\x6c", 15);
	/* UDP ASSOCIATE with 0.0.0.0:0 */
	nk_socks5_addr_set(&a, "0.0.0.0", 0, &e);
	assert_int_equal(nk_socks5_request_encode(b, sizeof b, NK_SOCKS5_CMD_UDP, &a, &e), 10);
	assert_memory_equal(b, "\x05\x03\x00\x01\0\0\0\0\0\0", 10);
	/* longest: 255-byte name → 262 bytes exactly; one byte less room fails */
	memset(longname, 'n', 255);
	longname[255] = 0;
	nk_socks5_addr_set(&a, longname, 1, &e);
	assert_int_equal(nk_socks5_request_encode(b, sizeof b, NK_SOCKS5_CMD_CONNECT, &a, &e), 262);
	assert_int_equal(nk_socks5_request_encode(b, 261, NK_SOCKS5_CMD_CONNECT, &a, &e), -1);
	/* bad ATYP in a hand-made address */
	a.atyp = 9;
	assert_int_equal(nk_socks5_request_encode(b, sizeof b, NK_SOCKS5_CMD_CONNECT, &a, &e), -1);
}

/* Feed a reply byte by byte as the I/O layer does, checking 'need'. */
static int feed(const char *r, size_t n, uint8_t cmd, struct nk_socks5_addr *bnd,
	struct nk_err *e)
{
	size_t have = 0, need = 0;
	int k;
	while ((k = nk_socks5_reply_parse((const uint8_t *)r, have, cmd, bnd, &need, e)) == 0) {
		if (need <= have || need > n)
			return -2; /* needs more than there is: "short" */
		have = need;
	}
	return k == 1 ? (int)need : -1;
}

static void test_reply_parse_good(void **state)
{
	struct nk_socks5_addr b;
	struct nk_err e;
	char s[300];
	(void)state;

	assert_int_equal(feed("\x05\x00\x00\x01\x7f\x00\x00\x01\xe8\x3f", 10, 1, &b, &e), 10);
	nk_socks5_addr_format(s, sizeof s, &b);
	assert_string_equal(s, "127.0.0.1:59455");
	assert_int_equal(feed("\x05\x00\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x35", 22, 3, &b, &e), 22);
	nk_socks5_addr_format(s, sizeof s, &b);
	assert_string_equal(s, "[::1]:53");
	assert_int_equal(feed("\x05\x00\x00\x03\x05relay\x04\x38", 12, 3, &b, &e), 12);
	assert_int_equal(b.atyp, NK_SOCKS5_ATYP_DOMAIN);
	nk_socks5_addr_format(s, sizeof s, &b);
	assert_string_equal(s, "relay:1080");
	/* microsocks / Tor style: BND 0.0.0.0:0 */
	assert_int_equal(feed("\x05\x00\x00\x01\0\0\0\0\0\0", 10, 1, &b, &e), 10);
	/* RSV is not checked */
	assert_int_equal(feed("\x05\x00\x7f\x01\0\0\0\0\0\0", 10, 1, &b, &e), 10);
}

static void test_reply_parse_bad(void **state)
{
	struct nk_socks5_addr b;
	struct nk_err e;
	size_t need;
	(void)state;

	/* short: the I/O layer would wait for more bytes */
	assert_int_equal(nk_socks5_reply_parse((const uint8_t *)"\x05", 1, 1, &b, &need, &e), 0);
	assert_int_equal(need, 2);
	assert_int_equal(nk_socks5_reply_parse((const uint8_t *)"\x05\x00\x00", 3, 1, &b, &need, &e), 0);
	assert_int_equal(need, 4);
	assert_int_equal(nk_socks5_reply_parse((const uint8_t *)"\x05\x00\x00\x01\x7f", 5, 1, &b, &need, &e), 0);
	assert_int_equal(need, 10);
	assert_int_equal(nk_socks5_reply_parse((const uint8_t *)"\x05\x00\x00\x03", 4, 1, &b, &need, &e), 0);
	assert_int_equal(need, 5);
	/* domain length past the end of what arrived: keeps asking */
	assert_int_equal(nk_socks5_reply_parse((const uint8_t *)"\x05\x00\x00\x03\xff" "abc", 8, 1, &b, &need, &e), 0);
	assert_int_equal(need, 4 + 1 + 255 + 2);
	assert_int_equal(feed("\x05\x00\x00\x03\xff" "abc", 8, 1, &b, &e), -2);
	/* wrong version */
	assert_int_equal(feed("\x04\x5a\x00\x00\0\0\0\0", 8, 1, &b, &e), -1);
	assert_non_null(strstr(e.msg, "version byte 0x04"));
	/* garbage (HTTP) */
	assert_int_equal(feed("HTTP/1.0 400 Bad Request\r\n", 26, 1, &b, &e), -1);
	assert_non_null(strstr(e.msg, "HTTP"));
	/* bad ATYP */
	assert_int_equal(feed("\x05\x00\x00\x02\0\0\0\0\0\0", 10, 1, &b, &e), -1);
	assert_non_null(strstr(e.msg, "ATYP 0x02"));
	assert_int_equal(feed("\x05\x00\x00\x00", 4, 1, &b, &e), -1);
	/* empty domain */
	assert_int_equal(feed("\x05\x00\x00\x03\x00\x00\x00", 7, 1, &b, &e), -1);
	assert_non_null(strstr(e.msg, "empty domain"));
	/* failure codes are reported from the first two bytes */
	assert_int_equal(nk_socks5_reply_parse((const uint8_t *)"\x05\x05", 2, 1, &b, &need, &e), -1);
	assert_string_equal(e.msg, "reply 0x05: connection refused");
	/* 0x07 to UDP ASSOCIATE: the proxy does not relay UDP */
	assert_int_equal(feed("\x05\x07\x00\x01\0\0\0\0\0\0", 10, NK_SOCKS5_CMD_UDP, &b, &e), -1);
	assert_non_null(strstr(e.msg, "does not relay UDP"));
	assert_non_null(strstr(e.msg, "0x07"));
	/* 0x07 to CONNECT: just the words */
	assert_int_equal(feed("\x05\x07\x00\x01\0\0\0\0\0\0", 10, NK_SOCKS5_CMD_CONNECT, &b, &e), -1);
	assert_string_equal(e.msg, "reply 0x07: command not supported");
	/* Tor extended error */
	assert_int_equal(feed("\x05\xf0\x00\x01\0\0\0\0\0\0", 10, 1, &b, &e), -1);
	assert_string_equal(e.msg, "reply 0xf0: onion service descriptor can not be found (Tor)");
}

static void test_rep_words(void **state)
{
	static const char *want[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};
	static const char *tor[] = {
		"onion service descriptor can not be found (Tor)",
		"onion service descriptor is invalid (Tor)",
		"onion service introduction failed (Tor)",
		"onion service rendezvous failed (Tor)",
		"onion service missing client authorization (Tor)",
		"onion service wrong client authorization (Tor)",
		"onion service invalid address (Tor)",
		"onion service introduction timed out (Tor)",
	};
	unsigned i;
	(void)state;

	for (i = 0; i <= 8; i++)
		assert_string_equal(nk_socks5_rep_str((uint8_t)i), want[i]);
	for (i = 0; i < 8; i++)
		assert_string_equal(nk_socks5_rep_str((uint8_t)(0xF0 + i)), tor[i]);
	for (i = 9; i < 0xF0; i++)
		assert_string_equal(nk_socks5_rep_str((uint8_t)i), "unassigned reply code");
	for (i = 0xF8; i <= 0xFF; i++)
		assert_string_equal(nk_socks5_rep_str((uint8_t)i), "unassigned reply code");
	assert_string_equal(nk_socks5_method_str(0xFF), "no acceptable methods");
	assert_string_equal(nk_socks5_method_str(0x02), "username/password");
	assert_string_equal(nk_socks5_method_str(0x80), "private method");
	assert_string_equal(nk_socks5_cmd_str(3), "UDP ASSOCIATE");
}

static void test_udp_header(void **state)
{
	struct nk_socks5_addr a, s;
	struct nk_err e;
	uint8_t b[NK_SOCKS5_UDP_HDR_MAX + 8];
	char t[300];
	(void)state;

	nk_socks5_addr_set(&a, "127.0.0.1", 20201, &e);
	assert_int_equal(nk_socks5_udp_hdr_encode(b, sizeof b, &a, &e), 10);
	assert_memory_equal(b, "\0\0\0\x01\x7f\0\0\x01\x4e\xe9", 10);
	memcpy(b + 10, "ping", 4);
	assert_int_equal(nk_socks5_udp_hdr_parse(b, 14, &s, &e), 10);
	nk_socks5_addr_format(t, sizeof t, &s);
	assert_string_equal(t, "127.0.0.1:20201");
	/* empty payload is fine */
	assert_int_equal(nk_socks5_udp_hdr_parse(b, 10, &s, &e), 10);
	/* domain and IPv6 round trips */
	nk_socks5_addr_set(&a, "time.example", 123, &e);
	assert_int_equal(nk_socks5_udp_hdr_encode(b, sizeof b, &a, &e), 3 + 1 + 1 + 12 + 2);
	assert_int_equal(nk_socks5_udp_hdr_parse(b, 19, &s, &e), 19);
	assert_int_equal(s.atyp, NK_SOCKS5_ATYP_DOMAIN);
	assert_memory_equal(s.a, "time.example", 12);
	assert_int_equal(s.port, 123);
	nk_socks5_addr_set(&a, "fe80::2", 123, &e);
	assert_int_equal(nk_socks5_udp_hdr_encode(b, sizeof b, &a, &e), 22);
	assert_int_equal(nk_socks5_udp_hdr_parse(b, 22, &s, &e), 22);
	assert_memory_equal(s.a, a.a, 16);
	/* no room */
	assert_int_equal(nk_socks5_udp_hdr_encode(b, 21, &a, &e), -1);

	/* negative: short, FRAG != 0, bad ATYP, address past the end */
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\0", 3, &s, &e), -1);
	assert_non_null(strstr(e.msg, "too short"));
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\x01\x01\x7f\0\0\x01\0\x35", 10, &s, &e), -1);
	assert_non_null(strstr(e.msg, "FRAG 0x01"));
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\0\x05\x7f\0\0\x01\0\x35", 10, &s, &e), -1);
	assert_non_null(strstr(e.msg, "ATYP 0x05"));
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\0\x01\x7f\0\0\x01\0", 9, &s, &e), -1);
	assert_non_null(strstr(e.msg, "past the end"));
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\0\x03", 4, &s, &e), -1);
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\0\x03\x20" "abc", 8, &s, &e), -1);
	assert_non_null(strstr(e.msg, "past the end"));
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\0\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\0", 21, &s, &e), -1);
	assert_int_equal(nk_socks5_udp_hdr_parse((const uint8_t *)"\0\0\0\x03\x00\0\0", 7, &s, &e), -1);
	assert_non_null(strstr(e.msg, "empty domain"));
}

/* Every prefix and every single-byte corruption of valid messages must be
 * handled without reading past the buffer (ASan checks that). */
static void test_parsers_no_overread(void **state)
{
	static const uint8_t rep[] = "\x05\x00\x00\x03\x05relay\x04\x38";
	static const uint8_t udp[] = "\0\0\0\x03\x05relay\x04\x38" "data";
	struct nk_socks5_addr b;
	struct nk_err e;
	uint8_t buf[64];
	size_t n, i, need;
	unsigned v;
	(void)state;

	for (n = 0; n <= sizeof rep - 1; n++) {
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, rep, n);
		(void)nk_socks5_reply_parse(p, n, 1, &b, &need, &e);
		free(p);
	}
	for (n = 0; n <= sizeof udp - 1; n++) {
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, udp, n);
		(void)nk_socks5_udp_hdr_parse(p, n, &b, &e);
		free(p);
	}
	for (i = 0; i < sizeof udp - 1; i++)
		for (v = 0; v < 256; v += 17) {
			memcpy(buf, udp, sizeof udp - 1);
			buf[i] = (uint8_t)v;
			(void)nk_socks5_udp_hdr_parse(buf, sizeof udp - 1, &b, &e);
			(void)nk_socks5_reply_parse(buf, sizeof udp - 1, 3, &b, &need, &e);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_set),
		cmocka_unit_test(test_proxy_init),
		cmocka_unit_test(test_auth_and_isolation),
		cmocka_unit_test(test_greeting_method),
		cmocka_unit_test(test_auth_parse),
		cmocka_unit_test(test_request_encode),
		cmocka_unit_test(test_reply_parse_good),
		cmocka_unit_test(test_reply_parse_bad),
		cmocka_unit_test(test_rep_words),
		cmocka_unit_test(test_udp_header),
		cmocka_unit_test(test_parsers_no_overread),
	};
	return cmocka_run_group_tests_name("socks5", tests, NULL, NULL);
}
