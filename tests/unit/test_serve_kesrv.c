/*
 * Unit tests for nts-serve/kesrv.c, the NTS-KE listener: real loopback
 * sockets, our TLS 1.3 client in the same thread, a fake clock.
 *   - a full exchange: 8 cookies, AEAD 15, and the C2S/S2C keys inside a
 *     cookie equal the client's exporter (RFC 8915 §5.1);
 *   - a client that sends nothing is closed at the 5 s deadline;
 *   - a full table (256 slots) gives the oldest stalled slot to a newcomer;
 *   - certificate reload: the old credential lives while a connection
 *     uses it; a bad pair is refused and the current one kept.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../nts-serve/ke.c"
#include "../../nts-serve/kesrv.c"
#include "tls13_fakecert.h"

/* ---- what main.c and relay.c provide to kesrv.c -------------------------- */
static uint64_t fake_now = 1000000;
static char events[8192];
static struct nk_rec_writer logw;

uint64_t nk_serve_now_ms(void) { return fake_now; }
struct nk_rec_writer *nk_serve_log_begin(const char *event)
{
	nk_recw_begin(&logw, "serve");
	nk_recw_str(&logw, "event", event);
	return &logw;
}
void nk_serve_log_end(struct nk_rec_writer *w)
{
	/* the record's text so far (fields are appended to buf) */
	strncat(events, w->buf, sizeof events - strlen(events) - 2);
	strcat(events, "|");
}
int nk_serve_log_client_ok(void) { return 1; }
int nk_serve_fmt_addr(char *out, size_t cap, const struct sockaddr *sa)
{
	(void)sa;
	return snprintf(out, cap, "peer");
}
void nk_serve_log_addr(struct nk_rec_writer *w, const char *key, const struct sockaddr *sa)
{
	(void)w; (void)key; (void)sa;
}

/* ---- fixtures --------------------------------------------------------------- */
static struct nk_kesrv srv;
static struct nk_cookie_keys keys;
static struct nk_trust trust;
static struct nk_tls13 cli;
static char dir[64], certp[96], keyp[96];
static struct sockaddr_in laddr;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct nk_serve_ke_conf conf;
	struct nk_err e = { "" };
	socklen_t sl = sizeof laddr;
	int lfd, one = 1;
	(void)state;

	snprintf(dir, sizeof dir, "/tmp/nk-kesrv.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(certp, sizeof certp, "%s/c.pem", dir);
	snprintf(keyp, sizeof keyp, "%s/k.pem", dir);
	write_file(certp, fake_cert_pem);
	write_file(keyp, fake_key_pem);
	nk_trust_init(&trust);
	if (nk_trust_load_file(&trust, certp, &e) < 0)
		fail_msg("%s", e.msg);
	nk_cookie_keys_init(&keys, 0);
	assert_int_equal(nk_cookie_keys_rotate(&keys, 1000, NULL), 0);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&laddr, 0, sizeof laddr);
	laddr.sin_family = AF_INET;
	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&laddr, sizeof laddr), 0);
	assert_int_equal(listen(lfd, 512), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&laddr, &sl), 0);
	memset(&conf, 0, sizeof conf);
	conf.keys = &keys;
	conf.ntp_port = 4123;
	events[0] = 0;
	if (nk_kesrv_init(&srv, lfd, certp, keyp, &conf, 0, &e) < 0)
		fail_msg("%s", e.msg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nk_kesrv_close_all(&srv);
	nk_cookie_keys_wipe(&keys);
	nk_trust_free(&trust);
	unlink(certp);
	unlink(keyp);
	rmdir(dir);
	return 0;
}

/* one round of the server's loop, without waiting */
static void serve_round(void)
{
	static struct pollfd pfd[NK_KE_MAX_CONN + 1];
	size_t n = 0;

	nk_kesrv_fill(&srv, pfd, &n, sizeof pfd / sizeof pfd[0]);
	(void)poll(pfd, n, 5);
	nk_kesrv_service(&srv, pfd, fake_now);
}

static int connect_client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&laddr, sizeof laddr), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* move the client's bytes; 1 when the server closed the stream */
static int client_io(int fd)
{
	size_t n, cap;
	const unsigned char *o = nk_tls13_out(&cli, &n);
	unsigned char *p;
	ssize_t r;

	if (n > 0 && (r = send(fd, o, n, MSG_NOSIGNAL)) > 0)
		nk_tls13_out_done(&cli, (size_t)r);
	p = nk_tls13_in(&cli, &cap);
	if (cap == 0) {
		nk_tls13_process(&cli);
		return 0;
	}
	r = recv(fd, p, cap, 0);
	if (r > 0)
		nk_tls13_in_done(&cli, (size_t)r);
	return r == 0;
}

static void test_exchange(void **state)
{
	static const uint8_t req[] = {
		0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x80, 0x04, 0x00, 0x04, 0x00, 0x0f, 0x00, 0x11,
		0x80, 0x00, 0x00, 0x00
	};
	static const uint16_t offered[] = { 15, 17 };
	struct nk_tls13_config c;
	static struct nk_ntske_parser cp;
	struct nk_err e = { "" };
	struct nk_nts_keys k;
	uint8_t resp[4096], c2s[32], s2c[32];
	size_t got = 0;
	int fd, sent = 0, st = NK_NTSKE_NEED_MORE;
	(void)state;

	fd = connect_client();
	memset(&c, 0, sizeof c);
	c.server_name = "localhost";
	c.alpn = "ntske/1";
	c.alpn_required = 1;
	c.trust = &trust;
	c.time = 1893456000;
	assert_int_equal(nk_tls13_client_init(&cli, &c, &e), 0);
	for (int i = 0; i < 200 && nk_tls13_status(&cli) != NK_TLS13_CLOSED; i++) {
		long r;

		serve_round();
		client_io(fd);
		if (nk_tls13_status(&cli) == NK_TLS13_OPEN && !sent) {
			assert_int_equal(nk_tls13_write(&cli, req, sizeof req), (long)sizeof req);
			sent = 1;
		}
		while ((r = nk_tls13_read(&cli, resp + got, sizeof resp - got)) > 0)
			got += (size_t)r;
	}
	assert_int_equal(nk_tls13_status(&cli), NK_TLS13_CLOSED);    /* close_notify came */
	nk_ntske_client_init(&cp, offered, 2);
	st = nk_ntske_feed(&cp, resp, got, &e);
	assert_int_equal(st, NK_NTSKE_DONE);
	assert_int_equal(cp.u.resp.aead, 15);
	assert_int_equal(cp.u.resp.ncookies, 8);
	assert_int_equal(cp.u.resp.port, 4123);
	/* §5.1: the cookie carries the keys the client derives itself */
	assert_int_equal(nk_tls13_export(&cli, NK_SERVE_KE_LABEL, "\0\0\0\x0f\0", 5, c2s, 32), 0);
	assert_int_equal(nk_tls13_export(&cli, NK_SERVE_KE_LABEL, "\0\0\0\x0f\x01", 5, s2c, 32), 0);
	assert_int_equal(nk_cookie_open(&keys, cp.u.resp.cookie[0], cp.u.resp.cookie_len[0], &k), 0);
	assert_int_equal(k.aead, 15);
	assert_memory_equal(k.c2s, c2s, 32);
	assert_memory_equal(k.s2c, s2c, 32);
	assert_int_equal(srv.answered, 1);
	/* the server half-closed and waits for our close */
	close(fd);
	for (int i = 0; i < 10 && srv.nconn > 0; i++)
		serve_round();
	assert_int_equal(srv.nconn, 0);
	nk_ntske_parser_wipe(&cp);
	nk_tls13_wipe(&cli);
}

static void test_deadline(void **state)
{
	int fd;
	char b;
	(void)state;

	fd = connect_client();
	for (int i = 0; i < 5; i++)
		serve_round();
	assert_int_equal(srv.nconn, 1);
	fake_now += NK_KE_DEADLINE_MS - 1;
	serve_round();
	assert_int_equal(srv.nconn, 1);
	fake_now += 2;
	serve_round();
	assert_int_equal(srv.nconn, 0);
	assert_int_equal(srv.timeouts, 1);
	assert_int_equal(recv(fd, &b, 1, 0), 0);    /* closed */
	assert_non_null(strstr(events, "deadline"));
	close(fd);
}

static void test_table_full(void **state)
{
	static int fds[NK_KE_MAX_CONN + 1];
	(void)state;

	for (int i = 0; i < NK_KE_MAX_CONN; i++) {
		fds[i] = connect_client();
		fake_now += 1;
		serve_round();
	}
	for (int i = 0; i < 5; i++)
		serve_round();
	assert_int_equal(srv.nconn, NK_KE_MAX_CONN);
	/* nobody stalled yet: the newcomer waits in the backlog */
	fds[NK_KE_MAX_CONN] = connect_client();
	serve_round();
	assert_int_equal(srv.accepted, NK_KE_MAX_CONN);
	assert_int_equal(srv.evicted, 0);
	/* 1 s later every slot is stalled: the oldest gives way */
	fake_now += NK_KE_STALL_MS;
	serve_round();
	assert_int_equal(srv.accepted, NK_KE_MAX_CONN + 1);
	assert_int_equal(srv.evicted, 1);
	assert_int_equal(srv.nconn, NK_KE_MAX_CONN);
	{
		char b;

		assert_int_equal(recv(fds[0], &b, 1, 0), 0);    /* the oldest was closed */
	}
	for (int i = 0; i <= NK_KE_MAX_CONN; i++)
		close(fds[i]);
}

static void test_reload(void **state)
{
	struct nk_err e = { "" };
	int fd;
	(void)state;

	fd = connect_client();
	for (int i = 0; i < 3; i++)
		serve_round();
	assert_int_equal(srv.nconn, 1);
	assert_int_equal(srv.cur, 0);
	assert_int_equal(nk_kesrv_reload(&srv, &e), 0);
	assert_int_equal(srv.cur, 1);
	assert_int_equal(srv.cred[1].gen, 2);
	assert_true(srv.cred[0].loaded);            /* still used by the open connection */
	assert_int_equal(srv.cred[0].refs, 1);
	assert_non_null(strstr(events, "cert"));
	close(fd);
	for (int i = 0; i < 10 && srv.nconn > 0; i++)
		serve_round();
	assert_int_equal(srv.nconn, 0);
	assert_false(srv.cred[0].loaded);           /* freed with its last connection */
	/* a file that is not a key: refused, the current credential stays */
	write_file(keyp, "not a key\n");
	assert_int_equal(nk_kesrv_reload(&srv, &e), -1);
	assert_true(e.msg[0] != 0);
	assert_int_equal(srv.cur, 1);
	assert_true(srv.cred[1].loaded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	};
	return cmocka_run_group_tests_name("serve_kesrv", tests, NULL, NULL);
}
