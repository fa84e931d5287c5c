// SPDX-License-Identifier: GPL-2.0
/* lib/logq.c: the daemon's history lines and the --since times of "patchlayer log". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/logq.h"

static int line(const char *s, struct pl_log_line *l)
{
	size_t len = strlen(s);
	char *copy = malloc(len ? len : 1);	/* exact: ASan sees a read past it */
	int ret;

	memcpy(copy, s, len);
	ret = pl_log_line_parse(copy, len, l);
	if (!ret) {	/* point into S again, the copy is gone */
		l->name = s + (l->name - copy);
		l->msg = s + (l->msg - copy);
	}
	free(copy);
	return ret;
}

static void test_lines(void **state)
{
	struct pl_log_line l;

	(void)state;
	assert_int_equal(line("2026-11-28T10:00:00Z zlib-fix active: install by the administrator", &l), 0);
	assert_int_equal(l.when, 1795860000);
	assert_int_equal(l.name_len, 8);
	assert_memory_equal(l.name, "zlib-fix", 8);
	assert_int_equal(l.msg_len, strlen("active: install by the administrator"));
	assert_int_equal(line("1970-01-01T00:00:00Z x", &l), 0);
	assert_int_equal(l.when, 0);
	assert_int_equal(l.msg_len, 0);
	assert_int_equal(line("2024-02-29T23:59:59Z a b", &l), 0);
	assert_int_equal(l.when, 1709251199);
	assert_int_equal(line("2023-02-29T00:00:00Z a b", &l), -EINVAL);
	assert_int_equal(line("2026-11-28 10:00:00Z a b", &l), -EINVAL);
	assert_int_equal(line("2026-11-28T10:00:00Z ", &l), -EINVAL);
	assert_int_equal(line("2026-11-28T10:00:00Z", &l), -EINVAL);
	assert_int_equal(line("", &l), -EINVAL);
	assert_int_equal(line("2026-13-28T10:00:00Z a b", &l), -EINVAL);
	assert_int_equal(line("2026-11-28T24:00:00Z a b", &l), -EINVAL);
	assert_int_equal(line("2026-11-28T1x:00:00Z a b", &l), -EINVAL);
}

static void test_since(void **state)
{
	const time_t now = 1795860000;	/* 2026-11-28T10:00:00Z */
	time_t t;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(pl_since_parse("-1h", now, &t), 0);
	assert_int_equal(t, now - 3600);
	assert_int_equal(pl_since_parse("-90s", now, &t), 0);
	assert_int_equal(t, now - 90);
	assert_int_equal(pl_since_parse("-30m", now, &t), 0);
	assert_int_equal(t, now - 1800);
	assert_int_equal(pl_since_parse("-2d", now, &t), 0);
	assert_int_equal(t, now - 2 * 86400);
	assert_int_equal(pl_since_parse("-1w", now, &t), 0);
	assert_int_equal(t, now - 7 * 86400);
	assert_int_equal(pl_since_parse("2026-11-28 10:00", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(pl_since_parse("2026-11-28T09:59:30", now, &t), 0);
	assert_int_equal(t, now - 30);
	assert_int_equal(pl_since_parse("2026-11-28", now, &t), 0);
	assert_int_equal(t, now - 10 * 3600);
	assert_int_equal(pl_since_parse("today", now, &t), 0);
	assert_int_equal(t, now - 10 * 3600);
	assert_int_equal(pl_since_parse("2026-11-28T10:00:00Z", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(pl_since_parse("@1795860000", now, &t), 0);
	assert_int_equal(t, now);
	/* local time is local: an hour east of UTC is an hour earlier */
	setenv("TZ", "CET-1", 1);
	tzset();
	assert_int_equal(pl_since_parse("2026-11-28 10:00", now, &t), 0);
	assert_int_equal(t, now - 3600);
	assert_int_equal(pl_since_parse("2026-11-28T10:00:00Z", now, &t), 0);
	assert_int_equal(t, now);
	for (const char *const *bad = (const char *const[]){
		"", "-", "-h", "-1", "-1y", "-1234567h", "1h", "--1h", "-1.5h", "2026-11-28 10",
		"2026-11-28 25:00", "2026-02-30", "2026-11-28 10:00:00:00", "yesterday", "@",
		"@12x", "2026/11/28", "2026-11-28Z", NULL }; *bad; bad++)
		assert_int_equal(pl_since_parse(*bad, now, &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_since),
	};

	return cmocka_run_group_tests_name("logq", tests, NULL, NULL);
}
