// SPDX-License-Identifier: GPL-2.0
/*
 * lib/policy.c: the install window, the health window, and the daemon's
 * next step for every stored intent and kernel state that matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/policy.h"

static struct pl_config window(unsigned int start, unsigned int end)
{
	struct pl_config c;

	pl_config_defaults(&c);
	c.window_any = false;
	c.window_start = start;
	c.window_end = end;
	return c;
}

static void test_window(void **state)
{
	struct pl_config c;

	(void)state;
	pl_config_defaults(&c);
	assert_true(pl_window_open(&c, 0));
	assert_true(pl_window_open(&c, 1439));
	assert_int_equal(pl_window_wait(&c, 700), 0);

	c = window(120, 300);	/* 02:00-05:00 */
	assert_false(pl_window_open(&c, 119));
	assert_true(pl_window_open(&c, 120));
	assert_true(pl_window_open(&c, 299));
	assert_false(pl_window_open(&c, 300));
	assert_int_equal(pl_window_wait(&c, 119), 1);
	assert_int_equal(pl_window_wait(&c, 300), 1260);
	assert_int_equal(pl_window_wait(&c, 200), 0);

	c = window(1320, 240);	/* 22:00-04:00, across midnight */
	assert_true(pl_window_open(&c, 1320));
	assert_true(pl_window_open(&c, 0));
	assert_true(pl_window_open(&c, 239));
	assert_false(pl_window_open(&c, 240));
	assert_false(pl_window_open(&c, 1319));
	assert_int_equal(pl_window_wait(&c, 240), 1080);
}

static void test_health_window(void **state)
{
	struct pl_config c;

	(void)state;
	pl_config_defaults(&c);	/* 600 s */
	assert_true(pl_in_health_window(&c, 1000, 1000));
	assert_true(pl_in_health_window(&c, 1000, 1599));
	assert_false(pl_in_health_window(&c, 1000, 1600));
	assert_false(pl_in_health_window(&c, 0, 10));
	assert_false(pl_in_health_window(&c, 1000, 999));
}

static struct pl_facts facts(enum pl_want w, enum pl_kstate k)
{
	struct pl_facts f = {
		.want = w, .kstate = k, .in_store = true, .now = 10000,
		.minute_of_day = 600, .activated_at = 9990, .crashes = 0,
	};

	return f;
}

static void test_new_layer(void **state)
{
	struct pl_config c, closed = window(120, 300);
	struct pl_facts f;

	(void)state;
	pl_config_defaults(&c);
	f = facts(PL_WANT_NEW, PL_K_ABSENT);
	assert_int_equal(pl_decide(&c, &f), PL_ACT_LOAD);
	f = facts(PL_WANT_NEW, PL_K_LOADED);
	assert_int_equal(pl_decide(&c, &f), PL_ACT_SET_ACTIVE);
	assert_int_equal(pl_decide(&closed, &f), PL_ACT_SET_PENDING);
	c.auto_install = false;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_SET_PENDING);
	f = facts(PL_WANT_NEW, PL_K_ACTIVE);
	assert_int_equal(pl_decide(&c, &f), PL_ACT_SET_ACTIVE);
	f.in_store = false;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
}

static void test_pending(void **state)
{
	struct pl_config c, closed = window(120, 300);
	struct pl_facts f = facts(PL_WANT_PENDING, PL_K_LOADED);

	(void)state;
	pl_config_defaults(&c);
	assert_int_equal(pl_decide(&c, &f), PL_ACT_SET_ACTIVE);
	assert_int_equal(pl_decide(&closed, &f), PL_ACT_NONE);
	f.minute_of_day = 130;	/* the window opened */
	assert_int_equal(pl_decide(&closed, &f), PL_ACT_SET_ACTIVE);
	c.auto_install = false;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	f.kstate = PL_K_ABSENT;	/* after a reboot */
	assert_int_equal(pl_decide(&c, &f), PL_ACT_LOAD);
}

static void test_active(void **state)
{
	struct pl_config c;
	struct pl_facts f = facts(PL_WANT_ACTIVE, PL_K_ABSENT);

	(void)state;
	pl_config_defaults(&c);
	c.auto_install = false;	/* an active layer stays active: it was installed */
	assert_int_equal(pl_decide(&c, &f), PL_ACT_LOAD);
	f.kstate = PL_K_LOADED;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_ACTIVATE);
	f.kstate = PL_K_ACTIVE;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	f.crashes = 2;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	f.crashes = 3;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_WITHDRAW);
	f.now = f.activated_at + 600;	/* past the health window */
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	f.kstate = PL_K_SUPERSEDED;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_SET_SUPERSEDED);
	f.kstate = PL_K_STALE;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_SET_STALE);
}

static void test_history(void **state)
{
	static const enum pl_want history[] = {
		PL_WANT_WITHDRAWN, PL_WANT_SUPERSEDED, PL_WANT_STALE,
	};
	struct pl_config c;
	struct pl_facts f;
	size_t i;

	(void)state;
	pl_config_defaults(&c);
	for (i = 0; i < sizeof(history) / sizeof(history[0]); i++) {
		/* never loaded or activated again, whatever auto_install says */
		f = facts(history[i], PL_K_ABSENT);
		assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
		f.kstate = PL_K_ACTIVE;
		assert_int_equal(pl_decide(&c, &f), PL_ACT_DROP);
		f.kstate = PL_K_LOADED;
		assert_int_equal(pl_decide(&c, &f), PL_ACT_UNLOAD);
	}
	f = facts(PL_WANT_SUPERSEDED, PL_K_SUPERSEDED);
	assert_int_equal(pl_decide(&c, &f), PL_ACT_UNLOAD);
}

static void test_dropped_and_removing(void **state)
{
	struct pl_config c;
	struct pl_facts f = facts(PL_WANT_DROPPED, PL_K_ACTIVE);

	(void)state;
	pl_config_defaults(&c);
	assert_int_equal(pl_decide(&c, &f), PL_ACT_DROP);
	f.kstate = PL_K_LOADED;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	f.kstate = PL_K_ABSENT;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_LOAD);

	f = facts(PL_WANT_REMOVING, PL_K_ACTIVE);
	assert_int_equal(pl_decide(&c, &f), PL_ACT_DROP);
	f.kstate = PL_K_LOADED;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_UNLOAD);
	f.kstate = PL_K_SUPERSEDED;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_UNLOAD);
	f.kstate = PL_K_ABSENT;
	assert_int_equal(pl_decide(&c, &f), PL_ACT_DELETE);
}

static void test_names(void **state)
{
	int w;

	(void)state;
	for (w = 0; w < PL_WANT_COUNT; w++)
		assert_int_equal(pl_want_parse(pl_want_name((enum pl_want)w)), w);
	assert_int_equal(pl_want_parse("activ"), -1);
	assert_int_equal(pl_kstate_parse("superseded"), PL_K_SUPERSEDED);
	assert_int_equal(pl_kstate_parse("whatever"), PL_K_ABSENT);
	assert_string_equal(pl_action_name(PL_ACT_WITHDRAW), "withdraw");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_health_window),
		cmocka_unit_test(test_new_layer),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_dropped_and_removing),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
