// SPDX-License-Identifier: GPL-2.0
/* userspace/table.c: columns as wide as their widest cell, Debian versions included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../userspace/table.h"

static char *print(const struct pl_table *t)
{
	char *data = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&data, &size);

	assert_non_null(f);
	pl_table_print(t, f, "  ");
	fclose(f);
	return data;
}

static void test_debian_versions(void **state)
{
	static const char *const heads[] = { "NAME", "VERSION", "STATE", "HITS", "WHY" };
	struct pl_table t;
	char *s;

	(void)state;
	pl_table_init(&t, 5, heads, "lllrl");
	assert_int_equal(pl_table_add(&t, "zlib-fix", "1:1.2.13.dfsg-1+deb12u1", "active", "7", NULL), 0);
	assert_int_equal(pl_table_add(&t, "openssl-cve-2026-0001", "3.0.15-1~deb12u1", "stale", "12345",
				      "base changed"), 0);
	assert_int_equal(pl_table_add(&t, "é", "2.5.0-1+deb12u5", "new", "0", "-"), 0);
	s = print(&t);
	assert_string_equal(s,
		"  NAME                   VERSION                  STATE    HITS  WHY\n"
		"  zlib-fix               1:1.2.13.dfsg-1+deb12u1  active      7  -\n"
		"  openssl-cve-2026-0001  3.0.15-1~deb12u1         stale   12345  base changed\n"
		"  é                      2.5.0-1+deb12u5          new         0  -\n");
	free(s);
	pl_table_free(&t);
}

static void test_empty(void **state)
{
	static const char *const heads[] = { "A", "B" };
	struct pl_table t;
	char *s;

	(void)state;
	pl_table_init(&t, 2, heads, "rl");
	s = print(&t);
	assert_string_equal(s, "  A  B\n");
	free(s);
	pl_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_versions),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
