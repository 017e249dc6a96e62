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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replace),
		cmocka_unit_test(test_bad_dir),
	};
	return cmocka_run_group_tests_name("atomicfile", tests, NULL, NULL);
}
