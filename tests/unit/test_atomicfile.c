/* Unit tests for lib/atomicfile: mode, replacement by rename, abort. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "atomicfile.h"

static void slurp(const char *p, char *buf, size_t cap)
{
	FILE *f = fopen(p, "r");
	size_t n;
	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
}

static void test_write_replace(void **state)
{
	char dir[] = "/tmp/nk-atomic-XXXXXX", path[64], buf[64];
	struct nk_atomic a;
	struct nk_err e;
	struct stat st;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state", dir);

	assert_int_equal(nk_atomic_open(&a, path, 0600, &e), 0);
	fputs("one\n", a.f);
	assert_int_equal(nk_atomic_commit(&a, &e), 0);
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "one\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(nk_atomic_open(&a, path, 0600, &e), 0);
	fputs("two\n", a.f);
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "one\n");      /* old content until commit */
	nk_atomic_abort(&a);
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "one\n");
	assert_int_equal(access(a.tmp, F_OK), -1); /* temporary removed */

	assert_int_equal(nk_atomic_open(&a, path, 0600, &e), 0);
	fputs("three\n", a.f);
	assert_int_equal(nk_atomic_commit(&a, &e), 0);
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "three\n");
	unlink(path);
	rmdir(dir);
}

static void test_bad_dir(void **state)
{
	struct nk_atomic a;
	struct nk_err e;
	(void)state;
	assert_int_equal(nk_atomic_open(&a, "/nonexistent-dir/x/state", 0600, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent-dir/x/state"));
}

/* nk_statelock: a second descriptor on the lock file is an other program
 * as far as flock is concerned */
static void test_statelock(void **state)
{
	char dir[] = "/tmp/nk-atomic-XXXXXX", path[64], lp[80], big[1100];
	volatile sig_atomic_t stop = 0;
	struct nk_err e;
	struct stat st;
	int a, b;
	double t0;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state", dir);
	snprintf(lp, sizeof lp, "%s.lock", path);

	a = nk_statelock(path, 0, NULL, &e);
	assert_true(a >= 0);
	assert_int_equal(stat(lp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* held: wait 0 gives up at once, wait 0.2 after about 0.2 s */
	assert_int_equal(nk_statelock(path, 0, NULL, &e), -2);
	assert_non_null(strstr(e.msg, lp));
	assert_non_null(strstr(e.msg, "another program holds the lock"));
	t0 = nk_mono_s();
	assert_int_equal(nk_statelock(path, 0.2, NULL, &e), -2);
	assert_true(nk_mono_s() - t0 >= 0.19 && nk_mono_s() - t0 < 2);
	/* a stop flag already set ends a long wait at once */
	stop = 1;
	t0 = nk_mono_s();
	assert_int_equal(nk_statelock(path, 60, &stop, &e), -2);
	assert_true(nk_mono_s() - t0 < 1);
	/* released: the next one gets it */
	nk_stateunlock(a);
	b = nk_statelock(path, 0, NULL, &e);
	assert_true(b >= 0);
	nk_stateunlock(b);
	/* errors that are not contention: -1, naming the file */
	assert_int_equal(nk_statelock("/nonexistent-dir/x/state", 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent-dir/x/state.lock"));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	assert_int_equal(nk_statelock(big, 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "path too long"));
	unlink(lp);
	rmdir(dir);
}

/* a state file that cannot be parsed: moved aside, 0600, never replacing */
static void test_quarantine(void **state)
{
	char dir[] = "/tmp/nk-atomic-XXXXXX", path[64], m1[128], m2[128], buf[64];
	struct nk_err e;
	struct stat st;
	FILE *f;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state", dir);
	for (int i = 0; i < 2; i++) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(i ? "second\n" : "first\n", f);
		fclose(f);
		assert_int_equal(chmod(path, 0644), 0);
		assert_int_equal(nk_state_quarantine(path, i ? m2 : m1, sizeof m1, &e), 0);
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(stat(i ? m2 : m1, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	assert_int_equal(strncmp(m1, path, strlen(path)), 0);
	assert_int_equal(strncmp(m1 + strlen(path), ".bad-", 5), 0);
	assert_string_not_equal(m1, m2);        /* the same second: a new name */
	slurp(m1, buf, sizeof buf);
	assert_string_equal(buf, "first\n");
	slurp(m2, buf, sizeof buf);
	assert_string_equal(buf, "second\n");
	/* nothing to move: an error naming the file */
	assert_int_equal(nk_state_quarantine(path, m1, sizeof m1, &e), -1);
	assert_non_null(strstr(e.msg, path));
	unlink(m2);
	unlink(m1);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replace),
		cmocka_unit_test(test_bad_dir),
		cmocka_unit_test(test_statelock),
		cmocka_unit_test(test_quarantine),
	};
	return cmocka_run_group_tests_name("atomicfile", tests, NULL, NULL);
}
