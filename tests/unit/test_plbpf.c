// SPDX-License-Identifier: GPL-2.0
/* The inodes of layers/<name>/files lines, as the BPF side reads them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../userspace/plbpf.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text, struct pl_bpf_inode *file, struct pl_bpf_inode *base)
{
	char line[512];

	snprintf(line, sizeof(line), "%s", text);
	return pl_bpf_parse_files_line(line, file, base);
}

static void test_line(void **state)
{
	struct pl_bpf_inode file, base;

	(void)state;
	assert_int_equal(parse("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13 " SHA
			       " verified 0:33:11 254:1:667217\n", &file, &base), 0);
	assert_int_equal(file.dev, PL_BPF_MKDEV(0, 33));
	assert_int_equal(file.ino, 11);
	assert_int_equal(file.pad, 0);
	assert_int_equal(base.dev, (254U << 20) | 1);
	assert_int_equal(base.ino, 667217);
	/* the kernel's dev_t: 12 bits of major, 20 of minor */
	assert_int_equal(PL_BPF_MAJOR(base.dev), 254);
	assert_int_equal(PL_BPF_MINOR(base.dev), 1);
}

static void test_limits(void **state)
{
	struct pl_bpf_inode file, base;

	(void)state;
	assert_int_equal(parse("/t " SHA " verified 4095:1048575:18446744073709551615 1:2:3",
			       &file, &base), 0);
	assert_int_equal(file.dev, 0xffffffffU);
	assert_int_equal(file.ino, UINT64_MAX);
	assert_int_equal(parse("/t " SHA " verified 4096:0:1 1:2:3", &file, &base), -EPROTO);
	assert_int_equal(parse("/t " SHA " verified 0:1048576:1 1:2:3", &file, &base), -EPROTO);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"/t " SHA " verified",			/* a module without the fields */
		"/t " SHA " verified 1:2:3",
		"/t " SHA " verified 1:2:3 1:2",
		"/t " SHA " verified 1:2:3 1:2:3:4",
		"/t " SHA " verified 1:2:x 1:2:3",
		"/t " SHA " verified -1:2:3 1:2:3",
		"/t " SHA " verified +1:2:3 1:2:3",
		"/t " SHA " verified 1:2:3 1:2:3 ",
		"/t " SHA " verified 1::3 1:2:3",
		"1:2:3 1:2:3",
	};
	struct pl_bpf_inode file, base;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &file, &base) != -EPROTO)
			fail_msg("accepted: '%s'", bad[i]);
	}
}

static void test_target_with_spaces(void **state)
{
	struct pl_bpf_inode file, base;

	(void)state;
	assert_int_equal(parse("/a b/c " SHA " verified 8:1:2 8:1:3", &file, &base), 0);
	assert_int_equal(file.ino, 2);
	assert_int_equal(base.ino, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_target_with_spaces),
	};

	return cmocka_run_group_tests_name("plbpf", tests, NULL, NULL);
}
