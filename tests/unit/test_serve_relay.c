/* Unit tests for nts-serve/relay.c: which frames are local, which may be
 * relayed, and the stream handling over a socketpair (answers no larger
 * than requests, malformed and refused frames close the stream). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../nts-serve/relay.c"
#include "../../nts-serve/ntp.c"

/* the log functions live in main.c: stubs */
static struct nk_rec_writer w;
static int logged;
struct nk_rec_writer *nk_serve_log_begin(const char *event)
{
	nk_recw_begin(&w, "serve");
	nk_recw_str(&w, "event", event);
	return &w;
}
void nk_serve_log_end(struct nk_rec_writer *x) { (void)x; logged++; }
int nk_serve_log_client_ok(void) { return 1; }
void nk_serve_log_addr(struct nk_rec_writer *x, const char *k, const struct sockaddr *sa)
{ (void)x; (void)k; (void)sa; }

static struct nk_tcp t;
static struct nk_serve_ntp ntp;
static struct sockaddr_storage lss[2];
static socklen_t lsl[2];

static void v4(struct sockaddr_storage *ss, socklen_t *l, const char *ip, uint16_t port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof *ss);
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
	*l = sizeof *s;
}

static void v6(struct sockaddr_storage *ss, socklen_t *l, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s->sin6_addr);
	*l = sizeof *s;
}

static int setup(void **state)
{
	static const struct nk_cfg_addr allow[] = { { "127.0.0.2", 123 }, { "localhost", 11123 } };
	struct nk_err e;
	(void)state;
	memset(&t, 0, sizeof t);
	memset(&ntp, 0, sizeof ntp);
	ntp.max_age = 10800;
	v4(&lss[0], &lsl[0], "127.0.0.1", 123);
	v6(&lss[1], &lsl[1], "::", 4123);
	t.listen = lss;
	t.listenlen = lsl;
	t.nlisten = 2;
	t.ntp = &ntp;
	if (nk_tcp_init(&t, NULL, 0, allow, 2, &e) < 0)
		return -1;
	v4(&t.laddr[0], &t.laddrlen[0], "127.0.0.1", 4460);
	return 0;
}

static struct nk_socks5_addr addr(const char *host, uint16_t port)
{
	struct nk_socks5_addr a;

	assert_int_equal(nk_socks5_addr_set(&a, host, port, NULL), 0);
	return a;
}

static void test_local(void **state)
{
	struct nk_socks5_addr a;
	(void)state;
	a = addr("127.0.0.1", 123);   assert_true(is_local(&t, &a));   /* a listen address */
	a = addr("127.0.0.1", 124);   assert_false(is_local(&t, &a));
	a = addr("127.0.0.1", 4460);  assert_true(is_local(&t, &a));   /* the TCP address */
	a = addr("127.0.0.1", 4123);  assert_true(is_local(&t, &a));   /* loopback on a wildcard listen port */
	a = addr("::1", 4123);        assert_true(is_local(&t, &a));
	a = addr("192.0.2.1", 4123);  assert_false(is_local(&t, &a));
	a = addr("0.0.0.0", 0);       assert_true(is_local(&t, &a));
	a = addr("::", 9);            assert_true(is_local(&t, &a));
	a = addr("abcdefghij.onion", 123); assert_true(is_local(&t, &a));
	a = addr("ABC.ONION", 1);     assert_true(is_local(&t, &a));
	a = addr("time.example.org", 123); assert_false(is_local(&t, &a));
	t.own_name = "time.example.org";
	a = addr("Time.Example.ORG", 123); assert_true(is_local(&t, &a));  /* our ntp-server name */
	a = addr("time.example.org.evil", 123); assert_false(is_local(&t, &a));
	t.own_name = NULL;
	a = addr("onion", 123);       assert_false(is_local(&t, &a));
	a = addr("xonion", 123);      assert_false(is_local(&t, &a));
	/* localhost is this server exactly when its loopback address is */
	a = addr("localhost", 123);   assert_true(is_local(&t, &a));   /* 127.0.0.1:123 is a listen address */
	a = addr("LocalHost.", 4123); assert_true(is_local(&t, &a));   /* loopback on a wildcard listen port */
	a = addr("localhost", 4460);  assert_true(is_local(&t, &a));   /* the TCP address */
	a = addr("localhost", 124);   assert_false(is_local(&t, &a));
	a = addr("localhost", 11123); assert_false(is_local(&t, &a));  /* on the allow list: relayed */
	a = addr("localhostx", 123);  assert_false(is_local(&t, &a));
	a = addr("x.localhost", 123); assert_false(is_local(&t, &a));
}

static void test_allowed(void **state)
{
	struct sockaddr_storage to;
	socklen_t tl;
	struct nk_socks5_addr a;
	(void)state;
	assert_int_equal(t.nallow, 2);
	a = addr("127.0.0.2", 123);   assert_true(allowed(&t, &a, &to, &tl));
	assert_int_equal(((struct sockaddr_in *)&to)->sin_port, htons(123));
	a = addr("127.0.0.2", 124);   assert_false(allowed(&t, &a, &to, &tl));
	a = addr("127.0.0.3", 123);   assert_false(allowed(&t, &a, &to, &tl));
	a = addr("LocalHost", 11123); assert_true(allowed(&t, &a, &to, &tl));  /* by name */
	a = addr("localhost", 123);   assert_false(allowed(&t, &a, &to, &tl));
	a = addr("127.0.0.1", 11123); assert_true(allowed(&t, &a, &to, &tl));  /* by its address */
}

/* One service round: poll briefly, then service. */
static void round_trip(void)
{
	struct pollfd pfd[8];
	size_t n = 0;

	nk_tcp_fill(&t, pfd, &n, 8);
	assert_true(poll(pfd, n, 200) >= 0);
	nk_tcp_service(&t, pfd, nk_serve_now_ms());
}

static void put_conn(int fd)
{
	t.conn[0].fd = fd;
	t.conn[0].udp[0] = t.conn[0].udp[1] = -1;
	nk_relay_dec_init(&t.conn[0].dec);
	t.conn[0].out_len = 0;
	t.conn[0].frames = 0;
	t.conn[0].idle_deadline = nk_serve_now_ms() + NK_TCP_IDLE_MS;
	t.nconn = 1;
	t.lfd[0] = 99;  /* a listener is only counted; lpfd stays -1 without one */
	t.nlfd = 1;
}

static size_t mkframe(uint8_t *out, const char *host, uint16_t port)
{
	struct nk_socks5_addr a = addr(host, port);
	uint8_t pkt[48];
	struct nk_ntp_hdr h;

	memset(&h, 0, sizeof h);
	h.version = 4;
	h.mode = 3;
	h.xmt = 0x0102030405060708ULL;
	nk_ntp_hdr_encode(pkt, &h);
	return (size_t)nk_relay_encode(out, NK_RELAY_FRAME_MAX, &a, pkt, 48, NULL);
}

static void test_stream(void **state)
{
	uint8_t f[NK_RELAY_FRAME_MAX * 3], in[4096];
	size_t n, m;
	ssize_t r;
	int sv[2];
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put_conn(sv[0]);
	/* two local frames in one write, the second split */
	n = mkframe(f, "127.0.0.1", 123);
	m = mkframe(f + n, "0.0.0.0", 0);
	assert_int_equal(write(sv[1], f, n + 5), (ssize_t)(n + 5));
	round_trip();
	assert_int_equal(write(sv[1], f + n + 5, m - 5), (ssize_t)(m - 5));
	round_trip();
	round_trip();
	r = read(sv[1], in, sizeof in);
	assert_int_equal(r, (ssize_t)(n + m));  /* two answers, each as long as its request */
	assert_int_equal(in[12] & 0x3f, 0x24);   /* VN 4 mode 4 after the 12-octet header */
	assert_int_equal(t.frames_local, 2);
	assert_true(t.bytes_out <= t.bytes_in);
	/* a refused destination closes the stream */
	n = mkframe(f, "192.0.2.9", 123);
	logged = 0;
	assert_int_equal(write(sv[1], f, n), (ssize_t)n);
	round_trip();
	assert_int_equal(t.conn[0].fd, -1);
	assert_int_equal(read(sv[1], in, sizeof in), 0);
	assert_int_equal(logged, 1);
	close(sv[1]);
	/* a malformed frame closes the stream */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put_conn(sv[0]);
	assert_int_equal(write(sv[1], "\x00\x05hello", 7), 7);
	round_trip();
	assert_int_equal(t.conn[0].fd, -1);
	assert_int_equal(t.malformed, 1);
	close(sv[1]);
	/* idle deadline */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put_conn(sv[0]);
	t.conn[0].idle_deadline = nk_serve_now_ms() - 1;
	assert_int_equal(nk_tcp_timeout(&t, nk_serve_now_ms()), 0);
	round_trip();
	assert_int_equal(t.conn[0].fd, -1);
	assert_int_equal(nk_tcp_timeout(&t, nk_serve_now_ms()), -1);
	close(sv[1]);
	t.nlfd = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_stream),
	};
	return cmocka_run_group_tests_name("serve_relay", tests, setup, NULL);
}
