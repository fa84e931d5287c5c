// SPDX-License-Identifier: GPL-2.0
/* Reading sysfs attributes: bounds, newline handling, errors. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../userspace/patchlayer.h"

static char dir[PATH_MAX];

static void put(const char *name, const char *content)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/pl-sysfs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	setenv("PATCHLAYER_SYSFS", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_reads_and_strips_newline(void **state)
{
	char buf[32];

	(void)state;
	put("version", "0.1.0\n");
	assert_int_equal(pl_sysfs_read("version", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "0.1.0");
}

static void test_truncates_to_buffer(void **state)
{
	char buf[4];

	(void)state;
	put("long", "abcdefgh\n");
	assert_int_equal(pl_sysfs_read("long", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(pl_sysfs_read("long", buf, 0), -EINVAL);
}

static void test_empty_file(void **state)
{
	char buf[8] = "junk";

	(void)state;
	put("empty", "");
	assert_int_equal(pl_sysfs_read("empty", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_missing_is_enoent(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(pl_sysfs_read("nope", buf, sizeof(buf)), -ENOENT);
}

static void test_module_loaded(void **state)
{
	(void)state;
	assert_true(pl_module_loaded());
	setenv("PATCHLAYER_SYSFS", "/nonexistent/patchlayer", 1);
	assert_false(pl_module_loaded());
	assert_string_equal(pl_sysfs_dir(), "/nonexistent/patchlayer");
	unsetenv("PATCHLAYER_SYSFS");
	assert_string_equal(pl_sysfs_dir(), "/sys/kernel/patchlayer");
	setenv("PATCHLAYER_SYSFS", dir, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_strips_newline),
		cmocka_unit_test(test_truncates_to_buffer),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_missing_is_enoent),
		cmocka_unit_test(test_module_loaded),
	};

	return cmocka_run_group_tests_name("sysfs", tests, setup, teardown);
}
