/* Unit tests for lib/config: defaults, every section and key, the shipped
 * example, and many bad files; every error must read "FILE:LINE: ..." with
 * the right line and name the section and key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <ini.h>
#include <cmocka.h>

#include "config.h"

static struct nk_config cfg;
static char path[64];

/* Write 'text' (len bytes) to a temp file, load it. */
static int load_n(const char *text, size_t len, struct nk_err *e)
{
	int fd, r;

	snprintf(path, sizeof path, "/tmp/nk-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	e->msg[0] = 0;
	r = nk_cfg_load(&cfg, path, e);
	unlink(path);
	return r;
}

static int load(const char *text, struct nk_err *e)
{
	return load_n(text, strlen(text), e);
}

/* The file must be rejected with "PATH:LINE: " + a message containing want. */
static void bad_n(const char *text, size_t len, unsigned line, const char *want)
{
	struct nk_err e;
	char prefix[96];
	int r = load_n(text, len, &e);

	snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
	if (r != -1 || strncmp(e.msg, prefix, strlen(prefix)) != 0 || strstr(e.msg, want) == NULL) {
		print_error("config:\n%s\n-> r=%d msg='%s'\nwanted '%s' + '%s'\n", text, r, e.msg, prefix, want);
		fail();
	}
}
#define BAD(text, line, want) bad_n(text, strlen(text), line, want)

static void test_defaults(void **state)
{
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_int_equal(cfg.nsources, 0);
	assert_int_equal(cfg.proxy.set, 0);
	assert_int_equal(cfg.proxy.isolate, -1);
	assert_true(cfg.ke.timeout == 10);
	assert_int_equal(cfg.poll.count, 4);
	assert_int_equal(cfg.poll.circuits, 0);   /* auto */
	assert_true(cfg.poll.spacing == 2);
	assert_true(cfg.poll.interval == 0);
	assert_true(cfg.poll.timeout == 5);
	assert_int_equal(cfg.select.min_agree, 1);
	assert_true(cfg.select.max_distance == 1.5);
	assert_true(cfg.adjust.step_threshold == 0.128);
	assert_true(cfg.adjust.panic_single == 1000);
	assert_true(isinf(cfg.adjust.panic_startup_forward));
	assert_true(cfg.adjust.panic_startup_backward == 86400);
	assert_true(isinf(cfg.adjust.panic_accumulated));
	assert_int_equal(cfg.serve.nlisten, 0);
}

static void test_full(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF# every key\r\n"
		"; semicolon comment\n"
		"[proxy]\n"
		"socks5 = localhost:1080\n"
		"user=alice\n"
		"password = s3cr;et=x\n"
		"isolate = no\n"
		"direct = yes\n"
		"relay = relay.example.onion:4461\n"
		"\n"
		"  [source a]  \n"
		"  address = 192.0.2.1\n"
		"ke-port = 4461\n"
		"ntp-port = 1123\n"
		"aead = 15, AEAD_AES_SIV_CMAC_512,16\n"
		"ca = /etc/ssl/my ca.pem\n"
		"name = nts.example.org\n"
		"[source b.example]\n"
		"[source v6]\n"
		"address = [2001:db8::1]\n"
		"[source v6b]\n"
		"address = 2001:db8::2\n"
		"circuits = 8\n"
		"[ke]\n"
		"timeout = 1500ms\n"
		"state = /var/lib/ntskit/ke.state\n"
		"[poll]\n"
		"count = 8\n"
		"circuits = 3\n"
		"spacing = 0.5\n"
		"interval = 1m\n"
		"timeout = 2s\n"
		"[select]\n"
		"min-agree = 3\n"
		"max-distance = 0.25s\n"
		"[adjust]\n"
		"step-threshold = 0.5\n"
		"panic-single = inf\n"
		"panic-startup-forward = 1h\n"
		"panic-startup-backward = 1d\n"
		"panic-accumulated = 0\n"
		"status = /run/ntskit/status\n"
		"state = /var/lib/ntskit/adjust.state\n"
		"[serve]\n"
		"listen = 0.0.0.0\n"
		"listen = [::]:1123\n"
		"listen : 127.0.0.2:123\n"
		"ke-listen = [::]\n"
		"cert = /etc/letsencrypt/live/x/fullchain.pem\n"
		"key = /etc/letsencrypt/live/x/privkey.pem\n"
		"cookie-keys = /var/lib/ntskit/cookie.keys\n"
		"tcp-listen = 0.0.0.0:4461\n"
		"relay-allow = time.cloudflare.com\n"
		"relay-allow = 162.159.200.1:123\n"
		"status = /run/ntskit/status\n"
		"user = ntskit";            /* no final newline */
	struct nk_err e;
	(void)state;

	assert_int_equal(load(text, &e), 0);
	assert_string_equal(cfg.path, path);
	assert_int_equal(cfg.proxy.set, 1);
	assert_string_equal(cfg.proxy.socks5.host, "localhost");
	assert_int_equal(cfg.proxy.socks5.port, 1080);
	assert_string_equal(cfg.proxy.user, "alice");
	assert_string_equal(cfg.proxy.pass, "s3cr;et=x");      /* no inline comments */
	assert_int_equal(cfg.proxy.isolate, 0);
	assert_int_equal(cfg.proxy.direct, 1);
	assert_string_equal(cfg.proxy.relay.host, "relay.example.onion");
	assert_int_equal(cfg.proxy.relay.port, 4461);

	assert_int_equal(cfg.nsources, 4);
	assert_string_equal(cfg.source[0].name, "a");
	assert_string_equal(cfg.source[0].address, "192.0.2.1");
	assert_int_equal(cfg.source[0].ke_port, 4461);
	assert_int_equal(cfg.source[0].ntp_port, 1123);
	assert_int_equal(cfg.source[0].naead, 3);
	assert_int_equal(cfg.source[0].aead[0], 15);
	assert_int_equal(cfg.source[0].aead[1], 17);
	assert_int_equal(cfg.source[0].aead[2], 16);
	assert_string_equal(cfg.source[0].ca, "/etc/ssl/my ca.pem");
	assert_string_equal(cfg.source[0].sni, "nts.example.org");
	assert_int_equal(cfg.source[0].line, 11);
	assert_string_equal(cfg.source[1].name, "b.example");
	assert_string_equal(cfg.source[1].address, "b.example");   /* default: the name */
	assert_int_equal(cfg.source[1].ke_port, 4460);
	assert_int_equal(cfg.source[1].ntp_port, 0);
	assert_int_equal(cfg.source[1].naead, 0);
	assert_string_equal(cfg.source[1].sni, "");
	assert_string_equal(cfg.source[2].address, "2001:db8::1");
	assert_string_equal(cfg.source[3].address, "2001:db8::2");
	assert_ptr_equal(nk_cfg_source_find(&cfg, "b.example"), &cfg.source[1]);
	assert_null(nk_cfg_source_find(&cfg, "nope"));

	assert_true(cfg.ke.timeout == 1.5);
	assert_string_equal(cfg.ke.state, "/var/lib/ntskit/ke.state");
	assert_int_equal(cfg.poll.count, 8);
	assert_int_equal(cfg.poll.circuits, 3);
	assert_int_equal(cfg.source[3].circuits, 8);
	assert_int_equal(cfg.source[2].circuits, 0);
	assert_true(cfg.poll.spacing == 0.5);
	assert_true(cfg.poll.interval == 60);
	assert_true(cfg.poll.timeout == 2);
	assert_int_equal(cfg.select.min_agree, 3);
	assert_true(cfg.select.max_distance == 0.25);
	assert_true(cfg.adjust.step_threshold == 0.5);
	assert_true(isinf(cfg.adjust.panic_single));
	assert_true(cfg.adjust.panic_startup_forward == 3600);
	assert_true(cfg.adjust.panic_startup_backward == 86400);
	assert_true(isinf(cfg.adjust.panic_accumulated));      /* ntpd-rs: 0 disables */
	assert_string_equal(cfg.adjust.status_file, "/run/ntskit/status");
	assert_string_equal(cfg.adjust.state_file, "/var/lib/ntskit/adjust.state");

	assert_int_equal(cfg.serve.nlisten, 3);
	assert_string_equal(cfg.serve.listen[0].host, "0.0.0.0");
	assert_int_equal(cfg.serve.listen[0].port, 123);
	assert_string_equal(cfg.serve.listen[1].host, "::");
	assert_int_equal(cfg.serve.listen[1].port, 1123);
	assert_string_equal(cfg.serve.listen[2].host, "127.0.0.2");
	assert_string_equal(cfg.serve.ke_listen[0].host, "::");
	assert_int_equal(cfg.serve.ke_listen[0].port, 4460);
	assert_string_equal(cfg.serve.cert, "/etc/letsencrypt/live/x/fullchain.pem");
	assert_string_equal(cfg.serve.key, "/etc/letsencrypt/live/x/privkey.pem");
	assert_string_equal(cfg.serve.cookie_keys, "/var/lib/ntskit/cookie.keys");
	assert_string_equal(cfg.serve.tcp_listen[0].host, "0.0.0.0");
	assert_int_equal(cfg.serve.tcp_listen[0].port, 4461);
	assert_int_equal(cfg.serve.nrelay_allow, 2);
	assert_string_equal(cfg.serve.relay_allow[0].host, "time.cloudflare.com");
	assert_int_equal(cfg.serve.relay_allow[0].port, 123);
	assert_string_equal(cfg.serve.status_file, "/run/ntskit/status");
	assert_string_equal(cfg.serve.user, "ntskit");
}

/* The shipped example expresses the write-up's setup and loads cleanly. */
static void test_serve_ntp_names(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(load("[serve]\nntp-server = ntp.example.org\nntp-port = 11123\n", &e), 0);
	assert_string_equal(cfg.serve.ntp_server, "ntp.example.org");
	assert_int_equal(cfg.serve.ntp_port, 11123);
	BAD("[serve]\nntp-server = ntp.example.org:123\n", 2, "ntp-server");
	BAD("[serve]\nntp-port = 0\n", 2, "ntp-port");
}

/* Several NTS-KE and TCP listen addresses, IPv4 and IPv6 together (issue 14
 * item 10): repeatable like listen, duplicates and the 9th refused. */
static void test_serve_listen_lists(void **state)
{
	struct nk_err e;
	char t[1024];
	size_t n;
	(void)state;
	assert_int_equal(load("[serve]\nke-listen = 0.0.0.0\nke-listen = [::]:4461\n"
		"tcp-listen = 127.0.0.1:4123\ntcp-listen = [::1]:4123\n", &e), 0);
	assert_int_equal(cfg.serve.nke_listen, 2);
	assert_string_equal(cfg.serve.ke_listen[0].host, "0.0.0.0");
	assert_int_equal(cfg.serve.ke_listen[0].port, 4460);
	assert_string_equal(cfg.serve.ke_listen[1].host, "::");
	assert_int_equal(cfg.serve.ke_listen[1].port, 4461);
	assert_int_equal(cfg.serve.ntcp_listen, 2);
	assert_string_equal(cfg.serve.tcp_listen[1].host, "::1");
	assert_int_equal(cfg.serve.tcp_listen[1].port, 4123);
	BAD("[serve]\nke-listen = 127.0.0.1\nke-listen = 127.0.0.1:4460\n", 3,
		"[serve] ke-listen: '127.0.0.1:4460' listed twice");
	BAD("[serve]\ntcp-listen = [::1]:1\ntcp-listen = [::1]:1\n", 3, "[serve] tcp-listen: '[::1]:1' listed twice");
	BAD("[serve]\nke-listen = ke.example.org\n", 2, "[serve] ke-listen: 'ke.example.org': must be an IP address");
	n = (size_t)snprintf(t, sizeof t, "[serve]\n");
	for (int i = 1; i <= 9; i++)
		n += (size_t)snprintf(t + n, sizeof t - n, "ke-listen = 127.0.0.%d\n", i);
	BAD(t, 10, "[serve] ke-listen: more than 8 listen addresses");
	n = (size_t)snprintf(t, sizeof t, "[serve]\n");
	for (int i = 1; i <= 9; i++)
		n += (size_t)snprintf(t + n, sizeof t - n, "tcp-listen = 127.0.0.%d:4123\n", i);
	BAD(t, 10, "[serve] tcp-listen: more than 8 listen addresses");
	/* flags: nk_cfg_set adds */
	assert_int_equal(load("[serve]\nke-listen = 0.0.0.0\nke-listen = [::]:4461\n", &e), 0);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "ke-listen", "[::1]", &e), 0);
	assert_int_equal(cfg.serve.nke_listen, 3);
}

/* The [serve] numbers that were command-line only (issue 14 item 12): each
 * key, its default, its range, and the same range through nk_cfg_set (the
 * path nts-serve's flags take). */
static void test_serve_numbers(void **state)
{
	struct nk_err e;
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_true(cfg.serve.rate == 2);
	assert_int_equal(cfg.serve.burst, 16);
	assert_true(cfg.serve.status_max_age == 10800);
	assert_true(cfg.serve.rotate == 86400);
	assert_int_equal(cfg.serve.keep, 7);
	assert_int_equal(cfg.serve.nacl, 0);
	assert_int_equal(load("[serve]\nrate = 0.5\nburst = 4\nstatus-max-age = 1h\nrotate = 12h\nkeep = 3\n", &e), 0);
	assert_true(cfg.serve.rate == 0.5);
	assert_int_equal(cfg.serve.burst, 4);
	assert_true(cfg.serve.status_max_age == 3600);
	assert_true(cfg.serve.rotate == 43200);
	assert_int_equal(cfg.serve.keep, 3);
}

static void test_serve_rate(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(load("[serve]\nrate = 1000000\n", &e), 0);
	assert_true(cfg.serve.rate == 1e6);
	assert_int_equal(load("[serve]\nrate = 0.001\n", &e), 0);
	BAD("[serve]\nrate = 0\n", 2, "[serve] rate: '0': must be a number from 0.001 to 1e+06");
	BAD("[serve]\nrate = 1000001\n", 2, "[serve] rate: '1000001': must be a number from 0.001 to 1e+06");
	BAD("[serve]\nrate = nan\n", 2, "[serve] rate: 'nan'");
	BAD("[serve]\nrate = 0x10\n", 2, "[serve] rate: '0x10'");
	BAD("[serve]\nrate = -1\n", 2, "[serve] rate: '-1'");
	BAD("[serve]\nrate = 1\nrate = 2\n", 3, "[serve] rate: given twice");
	assert_int_equal(nk_cfg_set(&cfg, "serve", "rate", "7.5", &e), 0);
	assert_true(cfg.serve.rate == 7.5);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "rate", "0", &e), -1);
	assert_string_equal(e.msg, "[serve] rate: '0': must be a number from 0.001 to 1e+06");
}

static void test_serve_burst(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(load("[serve]\nburst = 65535\n", &e), 0);
	assert_int_equal(cfg.serve.burst, 65535);
	BAD("[serve]\nburst = 0\n", 2, "[serve] burst: '0': must be a whole number from 1 to 65535");
	BAD("[serve]\nburst = 65536\n", 2, "[serve] burst: '65536': must be a whole number from 1 to 65535");
	BAD("[serve]\nburst = 1.5\n", 2, "[serve] burst: '1.5'");
	assert_int_equal(nk_cfg_set(&cfg, "serve", "burst", "1", &e), 0);
	assert_int_equal(cfg.serve.burst, 1);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "burst", "x", &e), -1);
	assert_string_equal(e.msg, "[serve] burst: 'x': must be a whole number from 1 to 65535");
}

static void test_serve_status_max_age(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(load("[serve]\nstatus-max-age = 0\n", &e), 0);
	assert_true(cfg.serve.status_max_age == 0);
	assert_int_equal(load("[serve]\nstatus-max-age = 90m\n", &e), 0);
	assert_true(cfg.serve.status_max_age == 5400);
	BAD("[serve]\nstatus-max-age = -1\n", 2, "[serve] status-max-age: '-1': not a duration");
	BAD("[serve]\nstatus-max-age = inf\n", 2, "[serve] status-max-age: 'inf': not a duration");
	assert_int_equal(nk_cfg_set(&cfg, "serve", "status-max-age", "2h", &e), 0);
	assert_true(cfg.serve.status_max_age == 7200);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "status-max-age", "1y", &e), -1);
	assert_non_null(strstr(e.msg, "[serve] status-max-age: '1y': not a duration"));
}

static void test_serve_rotate(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(load("[serve]\nrotate = 0\n", &e), 0);
	assert_true(cfg.serve.rotate == 0);        /* never: follow the key file */
	assert_int_equal(load("[serve]\nrotate = 1d\n", &e), 0);
	assert_true(cfg.serve.rotate == 86400);
	BAD("[serve]\nrotate = soon\n", 2, "[serve] rotate: 'soon': not a duration");
	assert_int_equal(nk_cfg_set(&cfg, "serve", "rotate", "30s", &e), 0);
	assert_true(cfg.serve.rotate == 30);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "rotate", "", &e), -1);
	assert_string_equal(e.msg, "[serve] rotate: empty value");
}

static void test_serve_keep(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(load("[serve]\nkeep = 16\n", &e), 0);
	assert_int_equal(cfg.serve.keep, 16);
	BAD("[serve]\nkeep = 0\n", 2, "[serve] keep: '0': must be a whole number from 1 to 16");
	BAD("[serve]\nkeep = 17\n", 2, "[serve] keep: '17': must be a whole number from 1 to 16");
	assert_int_equal(nk_cfg_set(&cfg, "serve", "keep", "1", &e), 0);
	assert_int_equal(cfg.serve.keep, 1);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "keep", "99", &e), -1);
	assert_string_equal(e.msg, "[serve] keep: '99': must be a whole number from 1 to 16");
}

/* allow / deny (issue 14 item 11): CIDR blocks in order, "all". */
static void test_serve_allow_deny(void **state)
{
	struct nk_err e;
	struct nk_cfg_acl r;
	(void)state;
	assert_int_equal(load("[serve]\nallow = 192.168.0.0/16\ndeny = 192.168.7.7\nallow = fd00::/8\n"
		"deny = all\nallow = 0.0.0.0/0\n", &e), 0);
	assert_int_equal(cfg.serve.nacl, 5);
	assert_int_equal(cfg.serve.acl[0].allow, 1);
	assert_int_equal(cfg.serve.acl[0].family, 4);
	assert_int_equal(cfg.serve.acl[0].prefix, 16);
	assert_int_equal(cfg.serve.acl[0].addr[0], 192);
	assert_int_equal(cfg.serve.acl[0].addr[1], 168);
	assert_int_equal(cfg.serve.acl[1].allow, 0);
	assert_int_equal(cfg.serve.acl[1].prefix, 32);
	assert_int_equal(cfg.serve.acl[1].addr[3], 7);
	assert_int_equal(cfg.serve.acl[2].family, 6);
	assert_int_equal(cfg.serve.acl[2].prefix, 8);
	assert_int_equal(cfg.serve.acl[2].addr[0], 0xfd);
	assert_int_equal(cfg.serve.acl[3].family, 0);
	assert_int_equal(cfg.serve.acl[3].prefix, 0);
	assert_int_equal(cfg.serve.acl[3].allow, 0);
	assert_int_equal(cfg.serve.acl[4].family, 4);
	assert_int_equal(cfg.serve.acl[4].prefix, 0);
	BAD("[serve]\nallow = 10.0.0.1/8\n", 2,
		"[serve] allow: '10.0.0.1/8': address bits set beyond the /8 prefix (give the network address)");
	BAD("[serve]\ndeny = 10.0.0.0/33\n", 2, "[serve] deny: '10.0.0.0/33': prefix length must be a number from 0 to 32");
	BAD("[serve]\ndeny = ::/129\n", 2, "[serve] deny: '::/129': prefix length must be a number from 0 to 128");
	BAD("[serve]\nallow = 10.0.0.0/\n", 2, "[serve] allow: '10.0.0.0/': prefix length");
	BAD("[serve]\nallow = 10.0.0.0/+8\n", 2, "[serve] allow: '10.0.0.0/+8': prefix length");
	BAD("[serve]\nallow = lan.example.org\n", 2, "[serve] allow: 'lan.example.org': want all, or an IPv4 or IPv6 address");
	BAD("[serve]\nallow = [::1]\n", 2, "[serve] allow: '[::1]': want all");
	BAD("[serve]\nallow = /8\n", 2, "[serve] allow: '/8': want all");
	assert_int_equal(nk_cfg_parse_cidr("::ffff:0:0/96", &r, &e), 0);
	assert_int_equal(r.prefix, 96);
	assert_int_equal(nk_cfg_parse_cidr("2001:db8::1", &r, &e), 0);
	assert_int_equal(r.prefix, 128);
	assert_int_equal(nk_cfg_parse_cidr("0.0.0.0/0", &r, &e), 0);
	/* flags add in order */
	assert_int_equal(load("[serve]\nallow = 192.168.0.0/16\ndeny = 192.168.7.7\nallow = fd00::/8\n"
		"deny = all\nallow = 0.0.0.0/0\n", &e), 0);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "deny", "127.0.0.2", &e), 0);
	assert_int_equal(cfg.serve.nacl, 6);
	assert_int_equal(cfg.serve.acl[5].allow, 0);
	assert_int_equal(nk_cfg_set(&cfg, "serve", "allow", "127.0.0.0/7", &e), -1);
	assert_non_null(strstr(e.msg, "[serve] allow: '127.0.0.0/7': address bits set"));
}

/* Every command-line setting of every tool is a key (issue 14 item 12):
 * the keys the other tools lacked, each with its default, its range, and
 * the same range through nk_cfg_set (the path the tools' flags take). */
static void test_ke_lock_wait(void **state)
{
	struct nk_err e;
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_true(cfg.ke.lock_wait == 120);
	assert_int_equal(load("[ke]\nlock-wait = 0\n", &e), 0);
	assert_true(cfg.ke.lock_wait == 0);
	assert_int_equal(load("[ke]\nlock-wait = 2m\n", &e), 0);
	assert_true(cfg.ke.lock_wait == 120);
	BAD("[ke]\nlock-wait = -1\n", 2, "[ke] lock-wait: '-1': not a duration");
	assert_int_equal(nk_cfg_set(&cfg, "ke", "lock-wait", "0.5", &e), 0);
	assert_true(cfg.ke.lock_wait == 0.5);
	assert_int_equal(nk_cfg_set(&cfg, "ke", "lock-wait", "soon", &e), -1);
	assert_non_null(strstr(e.msg, "[ke] lock-wait: 'soon': not a duration"));
}

static void test_ke_cert_time(void **state)
{
	struct nk_err e;
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_string_equal(cfg.ke.cert_time, "now");
	assert_int_equal(load("[ke]\ncert-time = skip-window\n", &e), 0);
	assert_string_equal(cfg.ke.cert_time, "skip-window");
	assert_int_equal(load("[ke]\ncert-time = 1700000000\n", &e), 0);
	assert_string_equal(cfg.ke.cert_time, "1700000000");
	BAD("[ke]\ncert-time = yesterday\n", 2, "[ke] cert-time: 'yesterday' is not now, skip-window or Unix seconds");
	BAD("[ke]\ncert-time = -5\n", 2, "[ke] cert-time: '-5' is not now");
	BAD("[ke]\ncert-time = 99999999999999999999\n", 2, "[ke] cert-time: '99999999999999999999' is not now");
	assert_int_equal(nk_cfg_set(&cfg, "ke", "cert-time", "now", &e), 0);
	assert_string_equal(cfg.ke.cert_time, "now");
	assert_int_equal(nk_cfg_set(&cfg, "ke", "cert-time", "+1", &e), -1);
	assert_string_equal(e.msg, "[ke] cert-time: '+1' is not now, skip-window or Unix seconds");
}

static void test_poll_lock_wait(void **state)
{
	struct nk_err e;
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_true(cfg.poll.lock_wait == 120);
	assert_int_equal(load("[poll]\nlock-wait = 10s\n", &e), 0);
	assert_true(cfg.poll.lock_wait == 10);
	BAD("[poll]\nlock-wait = inf\n", 2, "[poll] lock-wait: 'inf': not a duration");
	assert_int_equal(nk_cfg_set(&cfg, "poll", "lock-wait", "0", &e), 0);
	assert_true(cfg.poll.lock_wait == 0);
	assert_int_equal(nk_cfg_set(&cfg, "poll", "lock-wait", "x", &e), -1);
}

static void test_poll_state(void **state)
{
	struct nk_err e;
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_string_equal(cfg.poll.state, "");
	assert_int_equal(load("[poll]\nstate = /var/lib/ntskit/sessions\n", &e), 0);
	assert_string_equal(cfg.poll.state, "/var/lib/ntskit/sessions");
	BAD("[poll]\nstate = a\nstate = b\n", 3, "[poll] state: given twice");
	assert_int_equal(nk_cfg_set(&cfg, "poll", "state", "/tmp/s", &e), 0);
	assert_string_equal(cfg.poll.state, "/tmp/s");
}

static void test_select_round_gap_stream(void **state)
{
	struct nk_err e;
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_true(cfg.select.round_gap == 10);
	assert_int_equal(cfg.select.stream, 0);
	assert_int_equal(load("[select]\nround-gap = 1d\nstream = yes\n", &e), 0);
	assert_true(cfg.select.round_gap == 86400);
	assert_int_equal(cfg.select.stream, 1);
	BAD("[select]\nround-gap = 0\n", 2, "[select] round-gap: '0': must be more than 0");
	BAD("[select]\nround-gap = 86401\n", 2, "[select] round-gap: '86401': must be more than 0 and at most 1 day");
	BAD("[select]\nstream = maybe\n", 2, "[select] stream: 'maybe': must be yes or no");
	assert_int_equal(nk_cfg_set(&cfg, "select", "round-gap", "0.5", &e), 0);
	assert_true(cfg.select.round_gap == 0.5);
	assert_int_equal(nk_cfg_set(&cfg, "select", "round-gap", "2d", &e), -1);
	assert_string_equal(e.msg, "[select] round-gap: '2d': must be more than 0 and at most 1 day");
	assert_true(cfg.select.round_gap == 0.5);  /* a refused value changes nothing */
}

static void test_adjust_stream_dry_run(void **state)
{
	struct nk_err e;
	(void)state;
	nk_cfg_defaults(&cfg);
	assert_int_equal(cfg.adjust.stream, 0);
	assert_int_equal(cfg.adjust.dry_run, 0);
	assert_int_equal(load("[adjust]\nstream = on\ndry-run = yes\n", &e), 0);
	assert_int_equal(cfg.adjust.stream, 1);
	assert_int_equal(cfg.adjust.dry_run, 1);
	assert_int_equal(load("[adjust]\nstream = no\ndry-run = false\n", &e), 0);
	assert_int_equal(cfg.adjust.stream, 0);
	assert_int_equal(cfg.adjust.dry_run, 0);
	BAD("[adjust]\ndry-run = 2\n", 2, "[adjust] dry-run: '2': must be yes or no");
	BAD("[adjust]\nstream = \xc3\xa9\n", 2, "[adjust] stream: '\xc3\xa9': must be yes or no");
}

static void test_example(void **state)
{
	struct nk_err e;
	static const char *names[] = { "time.cloudflare.com", "nts.netnod.se", "ptbtime1.ptb.de",
		"ntppool1.time.nl", "nts.teambelgium.net" };
	(void)state;

	if (nk_cfg_load(&cfg, "scripts/ntskit.conf.example", &e) != 0) {
		print_error("%s\n", e.msg);
		fail();
	}
	assert_int_equal(cfg.nsources, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(cfg.source[i].address, names[i]);
		assert_int_equal(cfg.source[i].ke_port, 4460);
	}
	assert_int_equal(cfg.select.min_agree, 3);
	assert_true(cfg.adjust.panic_single == 1800);
	assert_true(isinf(cfg.adjust.panic_startup_forward));
	assert_true(cfg.adjust.panic_startup_backward == 1800);
	assert_true(cfg.adjust.panic_accumulated == 1800);
	assert_int_equal(cfg.proxy.set, 1);
	assert_string_equal(cfg.proxy.socks5.host, "127.0.0.1");
	assert_int_equal(cfg.proxy.socks5.port, 9050);
	assert_int_equal(cfg.proxy.isolate, -1);
	assert_int_equal(nk_cfg_isolate(&cfg.proxy), 1);        /* auto, Tor port */
	cfg.proxy.socks5.port = 1080;
	assert_int_equal(nk_cfg_isolate(&cfg.proxy), 0);
	cfg.proxy.isolate = 1;
	assert_int_equal(nk_cfg_isolate(&cfg.proxy), 1);
	cfg.proxy.socks5.port = 9150;
	cfg.proxy.isolate = 0;
	assert_int_equal(nk_cfg_isolate(&cfg.proxy), 0);
	assert_true(cfg.serve.nlisten >= 5);
	assert_string_equal(cfg.serve.listen[0].host, "127.0.0.1");
	assert_string_equal(cfg.serve.listen[1].host, "::1");
}

static void test_bad_syntax(void **state)
{
	char big[NK_CFG_MAX_LINE + 64];
	(void)state;
	BAD("[proxy]\nsocks5\n", 2, "expected 'key = value'");
	BAD("[proxy\n", 1, "section header without ']'");
	BAD("[proxy] x\n", 1, "text after the section header");
	BAD("[proxy]\nsocks5 = 127.0.0.1:9050\n[nope]\n", 3, "[nope]: unknown section");
	BAD("[Proxy]\n", 1, "unknown section");
	BAD("[ proxy ]\n", 1, "unknown section");
	BAD("[proxy]\n[ke]\n[proxy]\n", 3, "[proxy]: section given twice (first on line 1)");
	BAD("socks5 = 127.0.0.1:9050\n", 1, "key 'socks5' outside any section");
	BAD("[proxy]\nsocks = 127.0.0.1:9050\n", 2, "[proxy]: unknown key 'socks'");
	BAD("[ke]\n\n\ntimeout = 1\nstate = /x\ntimeout = 2\n", 6, "[ke] timeout: given twice (first on line 4)");
	BAD("[ke]\ntimeout =\n", 2, "[ke] timeout: empty value");
	BAD("[ke]\ntimeout = 1 ; comment\n", 2, "[ke] timeout: '1 ; comment': not a duration");
	BAD("[ke]\nstate = a\x01" "b\n", 2, "control byte 0x01 at column 10");
	BAD("[ke]\nstate = a\rb\n", 2, "control byte 0x0d");
	BAD("[ke]\nstate = \xc0\xaf\n", 2, "invalid UTF-8");
	BAD("[ke]\nstate = \xed\xa0\x80\n", 2, "invalid UTF-8");
	bad_n("[ke]\nstate = a\0b\n", 17, 2, "NUL byte at column 10");
	BAD("[source" "0123456789012345678901234567890123456789012345]\n", 1, "section name longer than 49");
	memset(big, 'x', sizeof big);
	memcpy(big, "[ke]\nstate = /", 14);
	big[NK_CFG_MAX_LINE + 10] = '\n';
	big[NK_CFG_MAX_LINE + 11] = 0;
	BAD(big, 2, "line longer than 4096 bytes");
	/* exactly at the limit is fine (then the path is too long, a different error) */
	memset(big, 'x', sizeof big);
	memcpy(big, "[ke]\nstate = /", 14);
	big[5 + NK_CFG_MAX_LINE] = '\n';
	big[6 + NK_CFG_MAX_LINE] = 0;
	BAD(big, 2, "[ke] state: longer than 1023 bytes");
}

static void test_bad_sources(void **state)
{
	char many[64 * 40];
	size_t n = 0;
	(void)state;
	BAD("[source]\n", 1, "a source needs a name");
	BAD("[source ]\n", 1, "a source needs a name");
	BAD("[sourcex]\n", 1, "unknown section");
	BAD("[source a b]\n", 1, "bad source name");
	BAD("[source a/b]\n", 1, "bad source name");
	BAD("[source a]\naddress = x.org\n[source b]\n[source a]\n", 4,
		"[source a]: duplicate source name (first on line 1)");
	BAD("[source a]\naddress = x.org:4460\n", 2, "[source a] address: 'x.org:4460': give the host only (the port goes in ke-port)");
	BAD("[source a]\naddress = [::1]:4460\n", 2, "[source a] address: '[::1]:4460': give the host only");
	BAD("[source a]\naddress = bad..name\n", 2, "[source a] address: 'bad..name': empty label");
	BAD("[source a]\naddress = 999.1.1.1\n", 2, "[source a] address: '999.1.1.1': not a valid IPv4 address");
	BAD("[source a]\naddress = 1:2:3:4:5:6:7:8:9\n", 2, "not a valid IPv6 address");
	BAD("[source a]\naddress = a b\n", 2, "invalid character in host name");
	BAD("[source a]\nke-port = 0\n", 2, "[source a] ke-port: '0': must be a whole number from 1 to 65535");
	BAD("[source a]\nke-port = 65536\n", 2, "[source a] ke-port: '65536'");
	BAD("[source a]\nke-port = -1\n", 2, "[source a] ke-port: '-1'");
	BAD("[source a]\nntp-port = 12x\n", 2, "[source a] ntp-port: '12x'");
	BAD("[source a]\naead = 15,99\n", 2, "[source a] aead: '99': unknown AEAD algorithm");
	BAD("[source a]\naead = AEAD_FOO\n", 2, "[source a] aead: 'AEAD_FOO': unknown AEAD");
	BAD("[source a]\naead = 15,,17\n", 2, "[source a] aead: '15,,17': empty entry");
	BAD("[source a]\naead = 15,\n", 2, "empty entry");
	BAD("[source a]\naead = 15,15\n", 2, "[source a] aead: '15,15': AEAD algorithm 15 listed twice");
	BAD("[source a]\naead = 15 17\n", 2, "separated by ','");
	/* known but not implemented: refused here as by nts-ke --aead (one rule) */
	BAD("[source a]\naead = 15,16,17,30,31\n", 2, "[source a] aead: '30': AEAD_AES_128_GCM_SIV is not implemented");
	BAD("[source a]\naead = 31\n", 2, "'31': AEAD_AES_256_GCM_SIV is not implemented");
	BAD("[source a]\nname = 192.0.2.1\n", 2, "[source a] name: '192.0.2.1': must be a host name, not an IP address");
	BAD("[source a]\nbogus = 1\n", 2, "[source a]: unknown key 'bogus'");
	BAD("[source a]\nsocks5 = 1.2.3.4:5\n", 2, "[source a]: unknown key 'socks5'");
	BAD("[ke]\n[source a..b]\n", 2, "[source a..b]: no address, and the name is not a host name");
	n = 0;
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "[source s%d]\n", i);
	BAD(many, 33, "[source s32]: more than 32 sources");
}

/* [sync]: nts-sync's record log (log, log-max with k/M, log-keep) */
static void test_sync_log(void **state)
{
	struct nk_err e;

	(void)state;
	nk_cfg_defaults(&cfg);
	assert_string_equal(cfg.sync.log, "");
	assert_int_equal(cfg.sync.log_max, 1024 * 1024);
	assert_int_equal(cfg.sync.log_keep, 3);
	assert_int_equal(load("[sync]\nlog = /var/log/ntskit/records.log\nlog-max = 64k\nlog-keep = 5\n", &e), 0);
	assert_string_equal(cfg.sync.log, "/var/log/ntskit/records.log");
	assert_int_equal(cfg.sync.log_max, 64 * 1024);
	assert_int_equal(cfg.sync.log_keep, 5);
	assert_int_equal(load("[sync]\nlog-max = 1024M\n", &e), 0);
	assert_int_equal(cfg.sync.log_max, 1024ULL * 1024 * 1024);
	assert_int_equal(load("[sync]\nlog-max = 1024\n", &e), 0);
	assert_int_equal(cfg.sync.log_max, 1024);
	BAD("[sync]\nlog-max = 1023\n", 2, "[sync] log-max: '1023': must be a size from 1024 bytes to 1024 M");
	BAD("[sync]\nlog-max = 1025M\n", 2, "[sync] log-max: '1025M'");
	BAD("[sync]\nlog-max = 1G\n", 2, "[sync] log-max: '1G'");
	BAD("[sync]\nlog-max = k\n", 2, "[sync] log-max: 'k'");
	BAD("[sync]\nlog-max = -1k\n", 2, "[sync] log-max: '-1k'");
	BAD("[sync]\nlog-max = 18014398509481984k\n", 2, "[sync] log-max");
	BAD("[sync]\nlog-keep = 0\n", 2, "[sync] log-keep: '0': must be a whole number from 1 to 100");
	BAD("[sync]\nlog-keep = 101\n", 2, "[sync] log-keep");
	BAD("[sync]\nlogfile = x\n", 2, "[sync]: unknown key 'logfile'");
}

static void test_bad_values(void **state)
{
	(void)state;
	/* proxy */
	BAD("[proxy]\nsocks5 = 127.0.0.1:99999\n", 2, "[proxy] socks5: '127.0.0.1:99999': port must be a number from 1 to 65535");
	BAD("[proxy]\nsocks5 = 127.0.0.1:\n", 2, "[proxy] socks5:");
	BAD("[proxy]\nsocks5 = [::1\n", 2, "[proxy] socks5: '[::1': missing ']'");
	BAD("[proxy]\nsocks5 = 300.0.0.1:9050\n", 2, "not a valid IPv4 address");
	BAD("[proxy]\nsocks5 = 127.0.0.1:9050\nisolate = maybe\n", 3, "[proxy] isolate: 'maybe': must be auto, yes or no");
	BAD("[proxy]\nsocks5 = 127.0.0.1:9050\ndirect = sure\n", 3, "[proxy] direct: 'sure': must be yes or no");
	BAD("[proxy]\nsocks5 = 127.0.0.1:9050\nrelay = relay.onion\n", 3, "[proxy] relay: 'relay.onion': missing ':PORT'");
	BAD("[ke]\n[proxy]\nuser = a\npassword = b\n", 2, "[proxy]: user, password, isolate and relay need socks5");
	BAD("[proxy]\nsocks5 = 127.0.0.1:9050\nuser = a\n", 1, "[proxy]: give both user and password");
	BAD("[proxy]\nsocks5 = 127.0.0.1:9050\nisolate = yes\nuser = a\npassword = b\n", 1,
		"[proxy]: isolate = yes makes a fresh user");
	/* durations */
	BAD("[ke]\ntimeout = 0\n", 2, "[ke] timeout: '0': must be more than 0");
	BAD("[ke]\ntimeout = -1\n", 2, "[ke] timeout: '-1': not a duration");
	BAD("[ke]\ntimeout = nan\n", 2, "[ke] timeout: 'nan': not a duration");
	BAD("[ke]\ntimeout = inf\n", 2, "[ke] timeout: 'inf': not a duration");
	BAD("[ke]\ntimeout = 1e3\n", 2, "not a duration");
	BAD("[ke]\ntimeout = 10 s\n", 2, "not a duration");
	BAD("[ke]\ntimeout = 10sec\n", 2, "not a duration");
	BAD("[ke]\ntimeout = .5\n", 2, "not a duration");
	BAD("[ke]\ntimeout = 5.\n", 2, "not a duration");
	BAD("[ke]\ntimeout = 0x10\n", 2, "not a duration");
	BAD("[adjust]\npanic-single = -inf\n", 2, "[adjust] panic-single: '-inf': not a duration");
	BAD("[adjust]\npanic-single = INF\n", 2, "[adjust] panic-single: 'INF': not a duration");
	BAD("[adjust]\npanic-single = NaN\n", 2, "not a duration");
	BAD("[adjust]\npanic-accumulated = -5\n", 2, "[adjust] panic-accumulated");
	BAD("[adjust]\npanic-startup = 10\npanic-startup-forward = 5\n", 3,
		"[adjust] panic-startup-forward: give either panic-startup or");
	BAD("[adjust]\npanic-startup-backward = 10\npanic-startup = 5\n", 3, "[adjust] panic-startup: give either");
	/* numbers */
	BAD("[poll]\ncount = 0\n", 2, "[poll] count: '0': must be a whole number from 1 to 1000");
	BAD("[poll]\ncount = 1001\n", 2, "[poll] count");
	BAD("[poll]\ncount = 3.5\n", 2, "[poll] count");
	BAD("[poll]\ncircuits = 0\n", 2, "[poll] circuits: '0': must be a whole number from 1 to 8");
	BAD("[poll]\ncircuits = 9\n", 2, "[poll] circuits");
	BAD("[poll]\ncircuits = yes\n", 2, "[poll] circuits");
	BAD("[source a]\ncircuits = auto\n", 2, "[source a] circuits: 'auto': must be a whole number from 1 to 8");
	BAD("[source a]\ncircuits = 9\n", 2, "[source a] circuits");
	/* up to the 64 sources nts-select combines, as --min-agree (one range) */
	BAD("[select]\nmin-agree = 0\n", 2, "[select] min-agree: '0': must be a whole number from 1 to 64");
	BAD("[select]\nmin-agree = 65\n", 2, "[select] min-agree");
	BAD("[select]\nmax-distance = 0\n", 2, "[select] max-distance: '0': must be more than 0");
	/* serve */
	BAD("[serve]\nlisten = ntp.example.org:123\n", 2, "[serve] listen: 'ntp.example.org:123': must be an IP address");
	BAD("[serve]\nlisten = 0.0.0.0:0\n", 2, "[serve] listen: '0.0.0.0:0': port must be");
	BAD("[serve]\nlisten = 127.0.0.1\nlisten = 127.0.0.1:123\n", 3, "[serve] listen: '127.0.0.1:123' listed twice");
	BAD("[serve]\nke-listen = 1.2.3.4.5\n", 2, "[serve] ke-listen:");
	BAD("[serve]\ntcp-listen = 0.0.0.0\n", 2, "[serve] tcp-listen: '0.0.0.0': missing ':PORT'");
	BAD("[serve]\nrelay-allow = bad host:123\n", 2, "[serve] relay-allow: 'bad host:123': invalid character");
	BAD("[serve]\ncert = a\ncert = b\n", 3, "[serve] cert: given twice (first on line 2)");
	BAD("[serve]\nuser = 0123456789012345678901234567890123456789012345678901234567890123456789\n", 2,
		"[serve] user: longer than 63 bytes");
	{
		char t[64 * 32];
		size_t n = (size_t)snprintf(t, sizeof t, "[serve]\n");
		for (int i = 0; i < 17; i++)
			n += (size_t)snprintf(t + n, sizeof t - n, "listen = 127.0.0.%d\n", i + 1);
		BAD(t, 18, "[serve] listen: more than 16 listen addresses");
	}
}

static void test_parsers(void **state)
{
	struct nk_err e;
	struct nk_cfg_addr a;
	uint16_t ids[NK_CFG_MAX_AEAD];
	size_t n;
	double d;
	(void)state;

	assert_int_equal(nk_cfg_parse_duration("250ms", 0, &d, &e), 0);
	assert_true(fabs(d - 0.25) < 1e-12);
	assert_int_equal(nk_cfg_parse_duration("2d", 0, &d, &e), 0);
	assert_true(d == 172800);
	assert_int_equal(nk_cfg_parse_duration("1.5h", 0, &d, &e), 0);
	assert_true(d == 5400);
	assert_int_equal(nk_cfg_parse_duration("0", 0, &d, &e), 0);
	assert_true(d == 0);
	assert_int_equal(nk_cfg_parse_duration("inf", 1, &d, &e), 0);
	assert_true(isinf(d) && d > 0);
	assert_int_equal(nk_cfg_parse_duration("inf", 0, &d, &e), -1);
	assert_int_equal(nk_cfg_parse_duration("", 1, &d, &e), -1);
	assert_int_equal(nk_cfg_parse_duration("1s1", 1, &d, &e), -1);
	{
		char huge[400];
		memset(huge, '9', 330);
		huge[330] = 0;
		assert_int_equal(nk_cfg_parse_duration(huge, 1, &d, &e), -1);
		memset(huge, '9', 40);
		strcpy(huge + 40, "d");
		assert_int_equal(nk_cfg_parse_duration(huge, 1, &d, &e), 0);
	}
	assert_int_equal(nk_cfg_parse_bool("yes"), 1);
	assert_int_equal(nk_cfg_parse_bool("off"), 0);
	assert_int_equal(nk_cfg_parse_bool("Yes"), -1);

	assert_int_equal(nk_cfg_parse_addr("[fe80::1]:123", 0, &a, &e), 0);
	assert_string_equal(a.host, "fe80::1");
	assert_int_equal(nk_cfg_parse_addr("::1", 123, &a, &e), 0);
	assert_int_equal(a.port, 123);
	assert_int_equal(nk_cfg_parse_addr("x.onion", 0, &a, &e), -1);
	assert_non_null(strstr(e.msg, "missing ':PORT'"));
	assert_int_equal(nk_cfg_parse_addr("under_score.example:1", 0, &a, &e), 0);
	assert_int_equal(nk_cfg_parse_addr("-:1", 0, &a, &e), 0);   /* odd, but a legal label shape */
	assert_int_equal(nk_cfg_parse_addr(".a:1", 0, &a, &e), -1);

	assert_int_equal(nk_cfg_parse_aead_list("AEAD_AES_SIV_CMAC_512,15", ids, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 17);
	assert_int_equal(ids[1], 15);
	assert_int_equal(nk_cfg_parse_aead_list("AEAD_AES_128_GCM_SIV,15", ids, &n, &e), -1);
	assert_non_null(strstr(e.msg, "AEAD_AES_128_GCM_SIV is not implemented"));
	assert_int_equal(nk_cfg_parse_aead_list("0", ids, &n, &e), -1);
	assert_int_equal(nk_cfg_parse_aead_list("", ids, &n, &e), -1);
	assert_int_equal(nk_cfg_parse_aead_list("aead_aes_siv_cmac_256", ids, &n, &e), -1);
	assert_string_equal(nk_cfg_aead_name(15), "AEAD_AES_SIV_CMAC_256");
	assert_null(nk_cfg_aead_name(1));
}

/* Flags override the file: nk_cfg_set after nk_cfg_load. */
static void test_set(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(load("[select]\nmin-agree = 3\n[source a]\n", &e), 0);
	assert_int_equal(nk_cfg_set(&cfg, "select", "min-agree", "2", &e), 0);
	assert_int_equal(cfg.select.min_agree, 2);
	assert_int_equal(nk_cfg_set(&cfg, "select", "min-agree", "4", &e), 0);   /* again: overrides */
	assert_int_equal(cfg.select.min_agree, 4);
	assert_int_equal(nk_cfg_set(&cfg, "source a", "ke-port", "4461", &e), 0);
	assert_int_equal(cfg.nsources, 1);
	assert_int_equal(cfg.source[0].ke_port, 4461);
	assert_int_equal(nk_cfg_set(&cfg, "source new.example", "aead", "15", &e), 0);
	assert_int_equal(cfg.nsources, 2);
	assert_string_equal(cfg.source[1].address, "new.example");
	assert_int_equal(nk_cfg_set(&cfg, "proxy", "socks5", "127.0.0.1:9150", &e), 0);
	assert_int_equal(cfg.proxy.set, 1);
	assert_int_equal(nk_cfg_set(&cfg, "select", "min-agree", "x", &e), -1);
	assert_string_equal(e.msg, "[select] min-agree: 'x': must be a whole number from 1 to 64");
	assert_int_equal(nk_cfg_set(&cfg, "nope", "x", "1", &e), -1);
	assert_non_null(strstr(e.msg, "[nope]: unknown section"));
	assert_int_equal(nk_cfg_set(&cfg, "ke", "nope", "1", &e), -1);
	assert_string_equal(e.msg, "[ke]: unknown key 'nope'");
}

/* [poll] spacing, interval, timeout: one range each, the same for the file
 * and for nts-poll's flags (which go through nk_cfg_set), at the edges */
static void test_poll_spans(void **state)
{
	static const struct { const char *key, *v; int ok; double want; } c[] = {
		{ "spacing", "0", 1, 0 }, { "spacing", "86400", 1, 86400 }, { "spacing", "1d", 1, 86400 },
		{ "spacing", "86400.001", 0, 0 }, { "spacing", "2d", 0, 0 },
		{ "interval", "0", 1, 0 }, { "interval", "365d", 1, 31536000 },
		{ "interval", "31536000.5", 0, 0 }, { "interval", "366d", 0, 0 },
		{ "timeout", "0.001", 1, 0.001 }, { "timeout", "600", 1, 600 }, { "timeout", "10m", 1, 600 },
		{ "timeout", "0", 0, 0 }, { "timeout", "600.001", 0, 0 }, { "timeout", "11m", 0, 0 },
	};
	struct nk_err e;
	char text[80], want[120];
	(void)state;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		const char *say = c[i].key[0] == 's' ? "must be at most 1 day" :
			c[i].key[0] == 'i' ? "must be at most 365 days" : "must be more than 0 and at most 600 s";
		double got;

		nk_cfg_defaults(&cfg);
		snprintf(want, sizeof want, "[poll] %s: '%s': %s", c[i].key, c[i].v, say);
		assert_int_equal(nk_cfg_set(&cfg, "poll", c[i].key, c[i].v, &e), c[i].ok ? 0 : -1);
		if (!c[i].ok) {
			assert_string_equal(e.msg, want);
		} else {
			got = c[i].key[0] == 's' ? cfg.poll.spacing : c[i].key[0] == 'i' ? cfg.poll.interval : cfg.poll.timeout;
			assert_true(got == c[i].want);
		}
		/* the file: the same verdict, the same message after "PATH:LINE: " */
		snprintf(text, sizeof text, "[poll]\n%s = %s\n", c[i].key, c[i].v);
		if (c[i].ok)
			assert_int_equal(load(text, &e), 0);
		else
			BAD(text, 2, want);
	}
}

static void test_missing_file(void **state)
{
	struct nk_err e;
	(void)state;
	assert_int_equal(nk_cfg_load(&cfg, "/nonexistent/ntskit.conf", &e), -1);
	assert_string_equal(e.msg, "/nonexistent/ntskit.conf: No such file or directory");
	/* an empty file is fine: all defaults */
	assert_int_equal(load("", &e), 0);
	assert_int_equal(cfg.nsources, 0);
	/* inih's globals are restored after the call */
	assert_int_equal(ini_max_line, 200);
	assert_true(ini_allow_multiline);
	assert_true(ini_allow_inline_comments);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_serve_ntp_names),
		cmocka_unit_test(test_serve_listen_lists),
		cmocka_unit_test(test_serve_numbers),
		cmocka_unit_test(test_serve_rate),
		cmocka_unit_test(test_serve_burst),
		cmocka_unit_test(test_serve_status_max_age),
		cmocka_unit_test(test_serve_rotate),
		cmocka_unit_test(test_serve_keep),
		cmocka_unit_test(test_serve_allow_deny),
		cmocka_unit_test(test_ke_lock_wait),
		cmocka_unit_test(test_ke_cert_time),
		cmocka_unit_test(test_poll_lock_wait),
		cmocka_unit_test(test_poll_state),
		cmocka_unit_test(test_select_round_gap_stream),
		cmocka_unit_test(test_adjust_stream_dry_run),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_bad_sources),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_sync_log),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_poll_spans),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
