/* Leap seconds (nts-adjust/leap.c): armed only on 30 June or 31 December
 * (UTC), only when an unexpired leap-seconds list has the same one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "../../nts-adjust/leap.c"

#define DEC31 1798718400.0      /* 2026-12-31T12:00:00Z */
#define JAN01 1798761600.0      /* 2027-01-01T00:00:00Z */
#define JUN30 1782820800.0      /* 2026-06-30T12:00:00Z */
#define NOV14 1700000000.0      /* 2023-11-14T22:13:20Z */
#define DEC30 (DEC31 - 86400)

static void list_with(struct nk_leap_list *l, double expires, double at, int before, int after)
{
	memset(l, 0, sizeof *l);
	l->have = 1;
	l->expires = expires;
	l->e[0].at = 1483228800.0;
	l->e[0].tai_utc = before;
	l->e[1].at = at;
	l->e[1].tai_utc = after;
	l->n = 2;
}

static void test_no_announcement(void **st)
{
	struct nk_leap_decision d;
	(void)st;
	nk_leap_decide(0, DEC31, NULL, &d);
	assert_int_equal(d.armed, 0);
	nk_leap_decide(3, DEC31, NULL, &d);
	assert_int_equal(d.armed, 0);
}

static void test_only_end_of_june_or_december(void **st)
{
	struct nk_leap_decision d;
	(void)st;
	nk_leap_decide(1, NOV14, NULL, &d);
	assert_int_equal(d.armed, 0);
	assert_non_null(strstr(d.why, "30 June or 31 December"));
	nk_leap_decide(1, DEC30, NULL, &d);
	assert_int_equal(d.armed, 0);
	nk_leap_decide(1, JAN01 + 10, NULL, &d);         /* the day after */
	assert_int_equal(d.armed, 0);
	nk_leap_decide(1, DEC31, NULL, &d);
	assert_int_equal(d.armed, 1);
	assert_true(d.at == JAN01);
	assert_non_null(strstr(d.why, "insert a leap second at 2026-12-31T23:59:60Z"));
	assert_non_null(strstr(d.why, "no leap-seconds list"));
	nk_leap_decide(2, JUN30, NULL, &d);
	assert_int_equal(d.armed, 2);
	assert_non_null(strstr(d.why, "delete a leap second at 2026-06-30T23:59:59Z"));
	/* the first and the last second of the day count */
	nk_leap_decide(1, DEC31 - 12 * 3600, NULL, &d);
	assert_int_equal(d.armed, 1);
	nk_leap_decide(1, JAN01 - 1, NULL, &d);
	assert_int_equal(d.armed, 1);
}

static void test_list_confirms_or_vetoes(void **st)
{
	struct nk_leap_list l;
	struct nk_leap_decision d;
	(void)st;
	list_with(&l, JAN01 + 365 * 86400.0, JAN01, 37, 38);
	nk_leap_decide(1, DEC31, &l, &d);
	assert_int_equal(d.armed, 1);
	assert_non_null(strstr(d.why, "confirmed by the leap-seconds list"));
	nk_leap_decide(2, DEC31, &l, &d);               /* wrong direction */
	assert_int_equal(d.armed, 0);
	nk_leap_decide(1, JUN30, &l, &d);               /* not in the list */
	assert_int_equal(d.armed, 0);
	assert_non_null(strstr(d.why, "has none there"));
	list_with(&l, JAN01 + 365 * 86400.0, JAN01, 38, 37);
	nk_leap_decide(2, DEC31, &l, &d);               /* a deletion, listed */
	assert_int_equal(d.armed, 2);
	/* an expired list is not used: the sources' majority decides */
	list_with(&l, DEC30, JAN01 - 86400 * 200, 37, 38);
	nk_leap_decide(1, DEC31, &l, &d);
	assert_int_equal(d.armed, 1);
	assert_non_null(strstr(d.why, "expired"));
}

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;
	snprintf(path, sizeof path, "/tmp/test_leap.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_list_parse(void **st)
{
	struct nk_leap_list l;
	struct nk_err e;
	char *p;
	(void)st;
	p = write_tmp("# comment\n#$\t3913697179\n#@\t3960835200\n2272060800\t10\t# 1 Jan 1972\n"
		"3692217600\t37\t# 1 Jan 2017\n#h\tdeadbeef\n");
	assert_int_equal(nk_leap_list_load(&l, p, &e), 0);
	unlink(p);
	assert_int_equal(l.have, 1);
	assert_int_equal(l.n, 2);
	assert_true(l.e[1].at == 1483228800.0);
	assert_int_equal(l.e[1].tai_utc, 37);
	assert_true(l.expires == 3960835200.0 - NK_LEAP_NTP_UNIX);
	/* malformed: the line is named, nothing is kept */
	p = write_tmp("2272060800\t10\n3692217600\tx37\n");
	assert_int_equal(nk_leap_list_load(&l, p, &e), -1);
	unlink(p);
	assert_non_null(strstr(e.msg, ":2: bad TAI-UTC"));
	assert_int_equal(l.have, 0);
	p = write_tmp("3692217600\t37\n2272060800\t10\n");
	assert_int_equal(nk_leap_list_load(&l, p, &e), -1);
	unlink(p);
	assert_non_null(strstr(e.msg, "out of order"));
	p = write_tmp("#@\tsoon\n");
	assert_int_equal(nk_leap_list_load(&l, p, &e), -1);
	unlink(p);
	assert_non_null(strstr(e.msg, "expiry"));
	assert_int_equal(nk_leap_list_load(&l, "/nonexistent/leap-seconds.list", &e), 1);
	assert_int_equal(l.have, 0);
	/* the system's list, when tzdata is installed, loads */
	if (access(NK_CFG_LEAP_LIST, R_OK) == 0) {
		assert_int_equal(nk_leap_list_load(&l, NK_CFG_LEAP_LIST, &e), 0);
		assert_true(l.n >= 28);
		assert_int_equal(l.e[l.n - 1].tai_utc, 37);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_announcement),
		cmocka_unit_test(test_only_end_of_june_or_december),
		cmocka_unit_test(test_list_confirms_or_vetoes),
		cmocka_unit_test(test_list_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
