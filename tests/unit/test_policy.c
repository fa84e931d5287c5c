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
	/* seconds of the monotonic clock since the window started */
	assert_true(pl_in_health_window(&c, 1000, 0));
	assert_true(pl_in_health_window(&c, 1000, 599));
	assert_false(pl_in_health_window(&c, 1000, 600));
	assert_false(pl_in_health_window(&c, 0, 10));
	/* not started in this boot */
	assert_false(pl_in_health_window(&c, 1000, -1));
	/* the wall clock does not matter: before NTP, activated "in 1970" */
	assert_true(pl_in_health_window(&c, 1, 10));
}

static void test_crashes_since(void **state)
{
	struct pl_config c;
	struct pl_crash_count seen = { .id = 7, .all = 5, .services = 2 };
	struct pl_crash_count now = { .id = 7, .all = 9, .services = 3 };
	struct pl_crash_count none = { 0 };
	struct pl_crash_count huge = { .id = 8, .all = UINT64_MAX, .services = UINT64_MAX };

	(void)state;
	pl_config_defaults(&c);	/* crash_scope = services */
	assert_int_equal(pl_crashes_since(&c, &seen, &now), 1);
	assert_int_equal(pl_crashes_since(&c, &seen, &seen), 0);
	c.crash_scope = PL_CRASH_ALL;
	assert_int_equal(pl_crashes_since(&c, &seen, &now), 4);
	/* another slot, or the BPF side loaded again: all of its count is new */
	now.id = 8;
	assert_int_equal(pl_crashes_since(&c, &seen, &now), 9);
	/* a counter below the last reading: not the same counter */
	now.id = 7;
	now.all = 1;
	assert_int_equal(pl_crashes_since(&c, &seen, &now), 1);
	/* no slot now: nothing to count */
	assert_int_equal(pl_crashes_since(&c, &seen, &none), 0);
	/* no slot then: the new slot's every crash */
	now.all = 3;
	assert_int_equal(pl_crashes_since(&c, &none, &now), 3);
	assert_int_equal(pl_crashes_since(&c, &seen, &huge), 1000000);
}

static struct pl_facts facts(enum pl_want w, enum pl_kstate k)
{
	struct pl_facts f = {
		.want = w, .kstate = k, .in_store = true, .now = 10000,
		.minute_of_day = 600, .activated_at = 9990, .window_elapsed = 10, .crashes = 0,
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
	f.window_elapsed = 600;	/* past the health window */
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	f.window_elapsed = -1;	/* activated in another boot, not yet in this one */
	assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	f.window_elapsed = 10;
	f.now = f.activated_at + 100000;	/* the wall clock jumped */
	assert_int_equal(pl_decide(&c, &f), PL_ACT_WITHDRAW);
	f.window_elapsed = 600;
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

/* a state file that did not parse: nothing automatic, whatever the kernel says */
static void test_unknown(void **state)
{
	static const enum pl_kstate ks[] = {
		PL_K_ABSENT, PL_K_LOADED, PL_K_ACTIVE, PL_K_STALE, PL_K_SUPERSEDED,
	};
	struct pl_config c;
	struct pl_facts f;
	size_t i;

	(void)state;
	pl_config_defaults(&c);	/* auto_install = yes, any time */
	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		f = facts(PL_WANT_UNKNOWN, ks[i]);
		assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
		f.crashes = 100;
		f.activated_at = f.now - 1;
		assert_int_equal(pl_decide(&c, &f), PL_ACT_NONE);
	}
	c.restart = PL_RESTART_ALL;
	f = facts(PL_WANT_UNKNOWN, PL_K_ACTIVE);
	f.activated_at = f.now - 1;
	assert_int_equal(pl_restarts_due(&c, &f, 0), PL_RESTARTS_NONE);
	assert_int_equal(pl_want_parse("unknown"), PL_WANT_UNKNOWN);
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

static struct pl_config restart_config(const char *text)
{
	struct pl_config_error err;
	struct pl_config c;

	pl_config_defaults(&c);
	assert_int_equal(pl_config_parse(&c, text, strlen(text), &err), 0);
	return c;
}

static void test_restarts_due(void **state)
{
	struct pl_config off = restart_config("restart_services = no\n");
	struct pl_config all = restart_config("restart_services = all\n");
	struct pl_config night = restart_config("restart_services = a.service\n"
						"install_window = 02:00-05:00\n");
	struct pl_facts f = facts(PL_WANT_ACTIVE, PL_K_ACTIVE);

	(void)state;
	assert_int_equal(pl_restarts_due(&off, &f, 0), PL_RESTARTS_NONE);
	assert_int_equal(pl_restarts_due(&all, &f, 0), PL_RESTARTS_NOW);
	/* once per activation: done for this one, due again after the next */
	assert_int_equal(pl_restarts_due(&all, &f, f.activated_at), PL_RESTARTS_NONE);
	f.activated_at += 100;
	assert_int_equal(pl_restarts_due(&all, &f, f.activated_at - 100), PL_RESTARTS_NOW);
	/* outside the window: later, when it opens, not never */
	assert_int_equal(pl_restarts_due(&night, &f, 0), PL_RESTARTS_WAIT);
	f.minute_of_day = 121;
	assert_int_equal(pl_restarts_due(&night, &f, 0), PL_RESTARTS_NOW);
	/* only for a layer that is active, in the store and in the kernel */
	f.kstate = PL_K_LOADED;
	assert_int_equal(pl_restarts_due(&all, &f, 0), PL_RESTARTS_NONE);
	f = facts(PL_WANT_DROPPED, PL_K_ACTIVE);
	assert_int_equal(pl_restarts_due(&all, &f, 0), PL_RESTARTS_NONE);
	f = facts(PL_WANT_WITHDRAWN, PL_K_ABSENT);
	assert_int_equal(pl_restarts_due(&all, &f, 0), PL_RESTARTS_NONE);
	f = facts(PL_WANT_ACTIVE, PL_K_ACTIVE);
	f.activated_at = 0;	/* never activated by the daemon or a verb */
	assert_int_equal(pl_restarts_due(&all, &f, 0), PL_RESTARTS_NONE);
}

/* "all" leaves the system's plumbing alone, as needrestart does */
static void test_restart_never(void **state)
{
	struct pl_config all = restart_config("restart_services = all\n");
	struct pl_config none = restart_config("restart_services = all\nrestart_never = none\n");
	struct pl_config mine = restart_config("restart_services = all\n"
					       "restart_never = default db-*.service\n");
	struct pl_config only = restart_config("restart_services = all\n"
					       "restart_never = db-*.service\n");
	struct pl_config list = restart_config("restart_services = dbus.service nginx.service\n");
	static const char *const never[] = {
		"dbus.service", "systemd-logind.service", "gdm.service", "gdm3.service",
		"sddm.service", "lightdm.service", "getty@tty1.service",
		"serial-getty@ttyS0.service", "systemd-journald.service",
		"NetworkManager.service", "wpa_supplicant.service", "openvpn@vpn.service",
		"display-manager.service", "emergency.service", "rescue.service",
		"unattended-upgrades.service",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		print_message("%s\n", never[i]);
		assert_int_equal(pl_unit_verdict(&all, never[i], NULL), PL_UNIT_NEVER);
		assert_int_equal(pl_unit_verdict(&mine, never[i], NULL), PL_UNIT_NEVER);
		assert_int_equal(pl_unit_verdict(&none, never[i], NULL), PL_UNIT_RESTART);
		assert_int_equal(pl_unit_verdict(&only, never[i], NULL), PL_UNIT_RESTART);
	}
	assert_int_equal(pl_unit_verdict(&all, "nginx.service", NULL), PL_UNIT_RESTART);
	assert_int_equal(pl_unit_verdict(&all, "cron.service", NULL), PL_UNIT_RESTART);
	assert_int_equal(pl_unit_verdict(&all, "db-main.service", NULL), PL_UNIT_RESTART);
	assert_int_equal(pl_unit_verdict(&mine, "db-main.service", NULL), PL_UNIT_NEVER);
	assert_int_equal(pl_unit_verdict(&only, "db-main.service", NULL), PL_UNIT_NEVER);
	/* named by the administrator: restarted as asked */
	assert_int_equal(pl_unit_verdict(&list, "dbus.service", NULL), PL_UNIT_RESTART);
	/* and never patchlayer itself or a user's manager, whatever the list */
	assert_int_equal(pl_unit_verdict(&none, "patchlayer.service", NULL), PL_UNIT_OWN);
	assert_int_equal(pl_unit_verdict(&none, "user@1000.service", NULL), PL_UNIT_USER_MANAGER);
}

static void test_unit_verdict(void **state)
{
	struct pl_config off = restart_config("restart_services = no\n");
	struct pl_config all = restart_config("restart_services = all\n");
	struct pl_config list = restart_config("restart_services = nginx.service getty@tty1.service "
					       "session-2.scope user@0.service\n");
	char huge[PL_CONFIG_UNIT_MAX + 10];

	(void)state;
	assert_int_equal(pl_unit_verdict(&off, "nginx.service", NULL), PL_UNIT_OFF);
	assert_int_equal(pl_unit_verdict(&all, "nginx.service", NULL), PL_UNIT_RESTART);
	assert_int_equal(pl_unit_verdict(&all, "cron.service", "patchlayer.service"), PL_UNIT_RESTART);
	assert_int_equal(pl_unit_verdict(&list, "nginx.service", NULL), PL_UNIT_RESTART);
	assert_int_equal(pl_unit_verdict(&list, "getty@tty1.service", NULL), PL_UNIT_RESTART);
	assert_int_equal(pl_unit_verdict(&list, "cron.service", NULL), PL_UNIT_NOT_LISTED);
	assert_int_equal(pl_unit_verdict(&list, "nginx2.service", NULL), PL_UNIT_NOT_LISTED);
	assert_int_equal(pl_unit_verdict(&list, "nginx.servic", NULL), PL_UNIT_NOT_SERVICE);

	/* never patchlayer itself, under whatever name it runs */
	assert_int_equal(pl_unit_verdict(&all, "patchlayer.service", NULL), PL_UNIT_OWN);
	assert_int_equal(pl_unit_verdict(&all, "patchlayer.service", ""), PL_UNIT_OWN);
	assert_int_equal(pl_unit_verdict(&all, "pl-daemon.service", "pl-daemon.service"), PL_UNIT_OWN);
	assert_int_equal(pl_unit_verdict(&list, "nginx.service", "nginx.service"), PL_UNIT_OWN);

	/* scopes and slices, even listed: systemd did not start those processes */
	assert_int_equal(pl_unit_verdict(&all, "init.scope", NULL), PL_UNIT_NOT_SERVICE);
	assert_int_equal(pl_unit_verdict(&list, "session-2.scope", NULL), PL_UNIT_NOT_SERVICE);
	assert_int_equal(pl_unit_verdict(&all, "system.slice", NULL), PL_UNIT_NOT_SERVICE);
	assert_int_equal(pl_unit_verdict(&all, ".service", NULL), PL_UNIT_INVALID);
	assert_int_equal(pl_unit_verdict(&all, "service", NULL), PL_UNIT_INVALID);
	/* a user's manager: restarting it ends the session */
	assert_int_equal(pl_unit_verdict(&all, "user@1000.service", NULL), PL_UNIT_USER_MANAGER);
	assert_int_equal(pl_unit_verdict(&list, "user@0.service", NULL), PL_UNIT_USER_MANAGER);

	/* what systemd says is hostile too */
	assert_int_equal(pl_unit_verdict(&all, NULL, NULL), PL_UNIT_INVALID);
	assert_int_equal(pl_unit_verdict(&all, "", NULL), PL_UNIT_INVALID);
	assert_int_equal(pl_unit_verdict(&all, "a/b.service", NULL), PL_UNIT_INVALID);
	assert_int_equal(pl_unit_verdict(&all, "-x.service", NULL), PL_UNIT_INVALID);
	assert_int_equal(pl_unit_verdict(&all, "a b.service", NULL), PL_UNIT_INVALID);
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge + sizeof(huge) - 9, ".service", 8);
	assert_int_equal(pl_unit_verdict(&all, huge, NULL), PL_UNIT_INVALID);

	assert_string_equal(pl_unit_verdict_why(PL_UNIT_NOT_LISTED), "not in restart_services");
	assert_string_equal(pl_unit_verdict_why(PL_UNIT_NEVER), "in restart_never");
	assert_string_equal(pl_unit_verdict_why(PL_UNIT_RESTART), "");
	assert_string_equal(pl_unit_verdict_why(PL_UNIT_VERDICT_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_health_window),
		cmocka_unit_test(test_crashes_since),
		cmocka_unit_test(test_new_layer),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_dropped_and_removing),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_restarts_due),
		cmocka_unit_test(test_unit_verdict),
		cmocka_unit_test(test_restart_never),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
