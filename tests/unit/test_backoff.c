// SPDX-License-Identifier: GPL-2.0
/*
 * lib/backoff.c: a refused layer's retries double up to the cap, its
 * repeated refusal is said once, a change of fingerprint retries at once,
 * and a full table makes room by forgetting the oldest refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/backoff.h"

static struct pl_backoff b;

static void test_doubling(void **state)
{
	unsigned int delay, want = PL_BACKOFF_FIRST, i;
	int64_t now = 1000;

	(void)state;
	pl_backoff_init(&b);
	assert_true(pl_backoff_may_try(&b, "a", 1, now));
	assert_int_equal(pl_backoff_next(&b, now), -1);
	/* the first refusal is said; its repetitions are not */
	assert_true(pl_backoff_failed(&b, "a", 1, -EBADMSG, now, &delay));
	assert_int_equal(delay, PL_BACKOFF_FIRST);
	for (i = 0; i < 40; i++) {
		assert_false(pl_backoff_may_try(&b, "a", 1, now + delay - 1));
		assert_int_equal(pl_backoff_next(&b, now), delay);
		now += delay;
		assert_true(pl_backoff_may_try(&b, "a", 1, now));
		assert_false(pl_backoff_failed(&b, "a", 1, -EBADMSG, now, &delay));
		want = want * 2 > PL_BACKOFF_MAX ? PL_BACKOFF_MAX : want * 2;
		assert_int_equal(delay, want);
	}
	assert_int_equal(delay, PL_BACKOFF_MAX);
	/* another layer is not held back */
	assert_true(pl_backoff_may_try(&b, "b", 1, now));
	pl_backoff_clear(&b, "a");
	assert_true(pl_backoff_may_try(&b, "a", 1, now));
	assert_int_equal(pl_backoff_next(&b, now), -1);
}

static void test_change(void **state)
{
	unsigned int delay;

	(void)state;
	pl_backoff_init(&b);
	assert_true(pl_backoff_failed(&b, "a", 1, -EBADMSG, 0, &delay));
	assert_false(pl_backoff_failed(&b, "a", 1, -EBADMSG, 1, &delay));
	assert_int_equal(delay, 2);
	/* its files changed: tried at once, from the first delay again, said */
	assert_false(pl_backoff_may_try(&b, "a", 1, 2));
	assert_true(pl_backoff_may_try(&b, "a", 2, 2));
	assert_true(pl_backoff_failed(&b, "a", 2, -EBADMSG, 2, &delay));
	assert_int_equal(delay, PL_BACKOFF_FIRST);
	/* another error: said */
	assert_true(pl_backoff_failed(&b, "a", 2, -ENOENT, 3, &delay));
	assert_int_equal(delay, PL_BACKOFF_FIRST);
}

static void test_sweep(void **state)
{
	unsigned int delay;

	(void)state;
	pl_backoff_init(&b);
	pl_backoff_failed(&b, "gone", 1, -EBADMSG, 0, &delay);
	pl_backoff_failed(&b, "kept", 1, -EBADMSG, 0, &delay);
	pl_backoff_sweep_begin(&b);
	assert_false(pl_backoff_may_try(&b, "kept", 1, 0));
	pl_backoff_sweep_end(&b);
	assert_false(pl_backoff_may_try(&b, "kept", 1, 0));
	/* forgotten: nothing waits for it */
	assert_true(pl_backoff_may_try(&b, "gone", 1, 0));
	pl_backoff_clear(&b, "kept");
	assert_int_equal(pl_backoff_next(&b, 0), -1);
}

static void test_full(void **state)
{
	char name[PL_NAME_MAX + 2];
	unsigned int delay, i;

	(void)state;
	pl_backoff_init(&b);
	for (i = 0; i < PL_BACKOFF_SLOTS + 10; i++) {
		snprintf(name, sizeof(name), "l%u", i);
		assert_true(pl_backoff_failed(&b, name, 1, -EBADMSG, i, &delay));
	}
	/* the oldest made room, the newest are remembered */
	assert_true(pl_backoff_may_try(&b, "l0", 1, 0));
	snprintf(name, sizeof(name), "l%u", PL_BACKOFF_SLOTS + 9);
	assert_false(pl_backoff_may_try(&b, name, 1, PL_BACKOFF_SLOTS + 9));
	/* too long for a layer's name: not remembered, said */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_true(pl_backoff_failed(&b, name, 1, -EBADMSG, 0, &delay));
	assert_true(pl_backoff_failed(&b, name, 1, -EBADMSG, 0, &delay));
	assert_true(pl_backoff_may_try(&b, name, 1, 0));
}

static void test_fp(void **state)
{
	(void)state;
	assert_int_not_equal(pl_fp_add(PL_FP_INIT, "a", 1), pl_fp_add(PL_FP_INIT, "b", 1));
	assert_int_equal(pl_fp_add(PL_FP_INIT, "", 0), PL_FP_INIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_fp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
