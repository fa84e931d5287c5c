// SPDX-License-Identifier: GPL-2.0
/*
 * lib/unitname.c: the names "systemd-escape --path --suffix=mount" prints
 * (systemd 252, checked by hand), and the paths systemd refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/unitname.h"

static void expect(const char *path, const char *name)
{
	char out[PL_UNIT_NAME_MAX];

	assert_int_equal(pl_unit_name_from_path(path, "mount", out, sizeof(out)), 0);
	assert_string_equal(out, name);
}

static void expect_err(const char *path, size_t size, int err)
{
	char out[PL_UNIT_NAME_MAX];

	assert_int_equal(pl_unit_name_from_path(path, "mount", out, size), err);
	if (size)
		assert_string_equal(out, "");
}

static void test_names(void **state)
{
	(void)state;
	expect("/usr/lib/x86_64-linux-gnu", "usr-lib-x86_64\\x2dlinux\\x2dgnu.mount");
	expect("/", "-.mount");
	expect("//", "-.mount");
	expect("/./.", "-.mount");
	expect("//usr//lib/", "usr-lib.mount");
	expect("/a/./b", "a-b.mount");
	expect("/.hidden", "\\x2ehidden.mount");
	/* only the name's first character may not be a dot */
	expect("/x/.y", "x-.y.mount");
	expect("/a b", "a\\x20b.mount");
	expect("/\xc3\xbc", "\\xc3\\xbc.mount");
	expect("/a\\b", "a\\x5cb.mount");
	expect("/a-b", "a\\x2db.mount");
	expect("/A:Z_0.9", "A:Z_0.9.mount");
	expect("/...", "\\x2e...mount");
}

static void test_refused(void **state)
{
	char name[300];

	(void)state;
	expect_err("", PL_UNIT_NAME_MAX, -EINVAL);
	expect_err("usr/lib", PL_UNIT_NAME_MAX, -EINVAL);
	expect_err("/usr/../lib", PL_UNIT_NAME_MAX, -EINVAL);
	expect_err("/..", PL_UNIT_NAME_MAX, -EINVAL);
	assert_int_equal(pl_unit_name_from_path(NULL, "mount", name, sizeof(name)), -EINVAL);
	/* "..." and "..x" are names, not the parent */
	expect("/..x", "\\x2e.x.mount");
	/* 255 bytes is a name, 256 is not (systemd's UNIT_NAME_MAX) */
	name[0] = '/';
	memset(name + 1, 'a', 249);
	name[250] = '\0';
	assert_int_equal(pl_unit_name_from_path(name, "mount", name + 260, 0), -ENAMETOOLONG);
	{
		char out[PL_UNIT_NAME_MAX];

		assert_int_equal(pl_unit_name_from_path(name, "mount", out, sizeof(out)), 0);
		assert_int_equal(strlen(out), 255);
		name[250] = 'a';
		name[251] = '\0';
		expect_err(name, sizeof(out), -ENAMETOOLONG);
		/* escaping counts: 64 characters to escape are 256 bytes */
		memset(name + 1, '-', 63);
		name[64] = '\0';
		expect_err(name, sizeof(out), -ENAMETOOLONG);
		/* a buffer too small for a valid name */
		expect_err("/usr/lib", 9, -ENAMETOOLONG);
		expect_err("/usr/lib", 0, -ENAMETOOLONG);
		assert_int_equal(pl_unit_name_from_path("/usr/lib", "mount", out, 14), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
