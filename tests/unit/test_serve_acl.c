/* Unit tests for nts-serve/acl.h: allow/deny rules (nts-serve(8), ACCESS
 * CONTROL): the longest matching prefix decides, the later of two equally
 * specific rules wins, the default is allow without allow rules and deny
 * with them, IPv4-mapped IPv6 addresses count as IPv4. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../nts-serve/acl.h"

static struct nk_cfg_acl rules[NK_CFG_MAX_ACL];
static size_t nrules;
static struct nk_acl acl;

static void rule(int allow, const char *cidr)
{
	struct nk_err e;

	assert_int_equal(nk_cfg_parse_cidr(cidr, &rules[nrules], &e), 0);
	rules[nrules++].allow = (uint8_t)allow;
	nk_acl_init(&acl, rules, nrules);
}

static void reset(void)
{
	nrules = 0;
	nk_acl_init(&acl, rules, 0);
}

/* Whether the address (IPv4 or IPv6 literal) is let in. */
static int ok(const char *a)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, a, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		fail_msg("bad test address %s", a);
	return nk_acl_allowed(&acl, (struct sockaddr *)&ss);
}

static void test_no_rules(void **state)
{
	(void)state;
	reset();
	assert_true(ok("192.0.2.1"));
	assert_true(ok("2001:db8::1"));
}

static void test_deny_only(void **state)
{
	(void)state;
	reset();
	rule(0, "127.0.0.2");
	rule(0, "fd00::/8");
	assert_false(ok("127.0.0.2"));
	assert_true(ok("127.0.0.1"));          /* no allow rule: others allowed */
	assert_false(ok("fd12:3456::1"));
	assert_true(ok("::1"));
}

static void test_allow_means_default_deny(void **state)
{
	(void)state;
	reset();
	rule(1, "192.168.0.0/16");
	assert_true(ok("192.168.200.1"));
	assert_false(ok("192.169.0.1"));
	assert_false(ok("10.0.0.1"));
	assert_false(ok("::1"));               /* an allow rule exists: others denied */
}

static void test_longest_prefix_wins(void **state)
{
	(void)state;
	reset();
	rule(0, "192.168.1.7");                /* order does not matter between prefixes */
	rule(1, "192.168.0.0/16");
	rule(0, "192.168.1.0/24");
	rule(1, "192.168.1.128/25");
	assert_false(ok("192.168.1.7"));      /* /32 */
	assert_true(ok("192.168.1.200"));     /* /25 */
	assert_false(ok("192.168.1.100"));    /* /24 */
	assert_true(ok("192.168.2.1"));       /* /16 */
	assert_false(ok("10.1.1.1"));         /* none: an allow exists */
}

static void test_same_prefix_later_wins(void **state)
{
	(void)state;
	reset();
	rule(1, "10.0.0.0/8");
	rule(0, "10.0.0.0/8");
	assert_false(ok("10.1.2.3"));
	reset();
	rule(0, "10.0.0.0/8");
	rule(1, "10.0.0.0/8");
	assert_true(ok("10.1.2.3"));
	/* all = prefix 0 of both families; 0.0.0.0/0 the same for IPv4 */
	reset();
	rule(1, "all");
	rule(0, "0.0.0.0/0");
	assert_false(ok("192.0.2.1"));
	assert_true(ok("2001:db8::1"));
	rule(0, "::/0");
	assert_false(ok("2001:db8::1"));
}

static void test_prefix_bits(void **state)
{
	(void)state;
	reset();
	rule(1, "192.168.1.128/25");
	rule(1, "2001:db8:0:ff00::/57");
	assert_true(ok("192.168.1.128"));
	assert_true(ok("192.168.1.255"));
	assert_false(ok("192.168.1.127"));
	assert_true(ok("2001:db8:0:ff7f::1"));  /* /57: ff00..ff7f */
	assert_true(ok("2001:db8:0:ff00::1"));
	assert_false(ok("2001:db8:0:ff80::1"));
	assert_false(ok("2001:db8:0:fe80::1"));
}

static void test_families_and_mapped(void **state)
{
	(void)state;
	reset();
	rule(1, "127.0.0.0/8");
	assert_true(ok("::ffff:127.0.0.5"));   /* IPv4-mapped: checked as IPv4 */
	assert_false(ok("::ffff:10.0.0.1"));
	assert_false(ok("::127.0.0.5"));       /* not mapped: an IPv6 address */
	reset();
	rule(0, "::ffff:0:0/96");              /* IPv6 rules do not match IPv4 */
	assert_true(ok("127.0.0.1"));
	assert_true(ok("::ffff:127.0.0.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rules),
		cmocka_unit_test(test_deny_only),
		cmocka_unit_test(test_allow_means_default_deny),
		cmocka_unit_test(test_longest_prefix_wins),
		cmocka_unit_test(test_same_prefix_later_wins),
		cmocka_unit_test(test_prefix_bits),
		cmocka_unit_test(test_families_and_mapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
