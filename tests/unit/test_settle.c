// SPDX-License-Identifier: GPL-2.0
/*
 * lib/settle.c: a delivery renamed into the inbox is complete at once; one
 * written in place once its tree has been still for the settle time, each
 * change starting the wait again; file times in the future or far in the
 * past are believed no further than the settle time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/settle.h"

static struct pl_settle s;

static void test_renamed(void **state)
{
	(void)state;
	pl_settle_init(&s);
	pl_settle_renamed(&s, "fix");
	assert_int_equal(pl_settle_look(&s, "fix", 1, 0, 100, 5), 0);
	/* settle 0: the old rule, everything at once */
	assert_int_equal(pl_settle_look(&s, "other", 1, 0, 100, 0), 0);
}

static void test_in_place(void **state)
{
	(void)state;
	pl_settle_init(&s);
	/* just created (cp -r under way) */
	assert_int_equal(pl_settle_look(&s, "slow", 1, 0, 100, 5), 5);
	assert_int_equal(pl_settle_look(&s, "slow", 1, 2, 102, 5), 3);
	/* a file more: the wait starts again */
	assert_int_equal(pl_settle_look(&s, "slow", 2, 0, 104, 5), 5);
	assert_int_equal(pl_settle_look(&s, "slow", 2, 4, 108, 5), 1);
	assert_int_equal(pl_settle_look(&s, "slow", 2, 5, 109, 5), 0);
	pl_settle_forget(&s, "slow");
	/* found at start, last changed long ago (tar -x keeps old mtimes, not ctimes) */
	assert_int_equal(pl_settle_look(&s, "old", 1, 3600, 100, 5), 0);
	/* found at start, changed 2 s ago */
	assert_int_equal(pl_settle_look(&s, "new", 1, 2, 100, 5), 3);
}

static void test_clock(void **state)
{
	(void)state;
	pl_settle_init(&s);
	/* file times in the future (the clock went back): still from now */
	assert_int_equal(pl_settle_look(&s, "a", 1, -86400, 100, 5), 5);
	assert_int_equal(pl_settle_look(&s, "a", 1, -86396, 104, 5), 1);
	assert_int_equal(pl_settle_look(&s, "a", 1, -86395, 105, 5), 0);
	/* monotonic time 0 is a time like any other */
	assert_int_equal(pl_settle_look(&s, "b", 1, 0, 0, 5), 5);
	assert_int_equal(pl_settle_look(&s, "b", 1, 5, 5, 5), 0);
}

static void test_sweep_and_full(void **state)
{
	char name[PL_SETTLE_NAME_MAX + 2];
	unsigned int i;

	(void)state;
	pl_settle_init(&s);
	pl_settle_look(&s, "gone", 1, 0, 100, 5);
	pl_settle_look(&s, "kept", 1, 0, 100, 5);
	pl_settle_sweep_begin(&s);
	assert_int_equal(pl_settle_look(&s, "kept", 1, 0, 101, 5), 4);
	pl_settle_sweep_end(&s);
	/* forgotten, so looked at afresh */
	assert_int_equal(pl_settle_look(&s, "gone", 1, 0, 103, 5), 5);
	for (i = 0; i < PL_SETTLE_SLOTS + 10; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(pl_settle_look(&s, name, 1, 0, 200 + i, 5), 5);
	}
	/* too long for an entry's name: taken (and refused by take) */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(pl_settle_look(&s, name, 1, 0, 100, 5), 0);
	assert_int_equal(pl_settle_look(&s, "", 1, 0, 100, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renamed),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_sweep_and_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
