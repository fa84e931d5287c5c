// SPDX-License-Identifier: GPL-2.0
/* lib/config.c: every key, the defaults, and each reason a file is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/config.h"

/* from a heap copy of the exact length, so ASan sees any read past the end */
static int parse(struct pl_config *c, const char *text, struct pl_config_error *err)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, text, len);
	pl_config_defaults(c);
	ret = pl_config_parse(c, copy, len, err);
	free(copy);
	return ret;
}

static void test_defaults(void **state)
{
	struct pl_config c;
	struct pl_config_error err;

	(void)state;
	assert_int_equal(parse(&c, "", &err), 0);
	assert_true(c.auto_install);
	assert_true(c.window_any);
	assert_int_equal(c.n_protect, 0);
	assert_int_equal(c.n_trust, 0);
	assert_string_equal(c.inbox, "/var/lib/patchlayer/inbox");
	assert_string_equal(c.store, "/var/lib/patchlayer/layers");
	assert_int_equal(c.health_window, 600);
	assert_int_equal(c.crash_threshold, 3);
	assert_int_equal(c.crash_scope, PL_CRASH_SERVICES);
	assert_int_equal(c.restart, PL_RESTART_NO);
	assert_true(c.never_default);
	assert_int_equal(c.n_never, 0);
	assert_int_equal(c.inbox_settle, 5);
	assert_string_equal(c.metrics_file, "/var/lib/prometheus/node-exporter/patchlayer.prom");
	assert_int_equal(c.metrics_interval, 60);
}

static void test_every_key(void **state)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"  auto_install = no  \n"
		"install_window=22:30-04:15\n"
		"protect = /usr/lib/x86_64-linux-gnu\t/lib/x86_64-linux-gnu\n"
		"trust = /etc/patchlayer/vendor.der\n"
		"inbox = /srv/in\n"
		"store = /srv/store\n"
		"health_window = 2h\n"
		"crash_threshold = 7\n"
		"crash_scope = all\n"
		"restart_services = ssh.service cron.service\n"
		"restart_never = default my-*.service\n"
		"inbox_settle = 1m\n"
		"metrics_file = /run/prom/patchlayer.prom\n"
		"metrics_interval = 15s";
	struct pl_config c;
	struct pl_config_error err;

	(void)state;
	assert_int_equal(parse(&c, text, &err), 0);
	assert_false(c.auto_install);
	assert_false(c.window_any);
	assert_int_equal(c.window_start, 22 * 60 + 30);
	assert_int_equal(c.window_end, 4 * 60 + 15);
	assert_int_equal(c.n_protect, 2);
	assert_string_equal(c.protect[0], "/usr/lib/x86_64-linux-gnu");
	assert_string_equal(c.protect[1], "/lib/x86_64-linux-gnu");
	assert_int_equal(c.n_trust, 1);
	assert_string_equal(c.trust[0], "/etc/patchlayer/vendor.der");
	assert_string_equal(c.inbox, "/srv/in");
	assert_string_equal(c.store, "/srv/store");
	assert_int_equal(c.health_window, 7200);
	assert_int_equal(c.crash_threshold, 7);
	assert_int_equal(c.crash_scope, PL_CRASH_ALL);
	assert_int_equal(c.restart, PL_RESTART_LIST);
	assert_int_equal(c.n_units, 2);
	assert_string_equal(c.restart_units[1], "cron.service");
	assert_true(c.never_default);
	assert_int_equal(c.n_never, 1);
	assert_string_equal(c.restart_never[0], "my-*.service");
	assert_int_equal(c.inbox_settle, 60);
	assert_string_equal(c.metrics_file, "/run/prom/patchlayer.prom");
	assert_int_equal(c.metrics_interval, 15);
}

static void test_values(void **state)
{
	struct pl_config c;
	struct pl_config_error err;

	(void)state;
	assert_int_equal(parse(&c, "health_window = 90\n", &err), 0);
	assert_int_equal(c.health_window, 90);
	assert_int_equal(parse(&c, "health_window = 10m\n", &err), 0);
	assert_int_equal(c.health_window, 600);
	assert_int_equal(parse(&c, "health_window = 0s\n", &err), 0);
	assert_int_equal(c.health_window, 0);
	assert_int_equal(parse(&c, "crash_scope = services\n", &err), 0);
	assert_int_equal(c.crash_scope, PL_CRASH_SERVICES);
	assert_int_equal(parse(&c, "crash_scope = all\n", &err), 0);
	assert_int_equal(c.crash_scope, PL_CRASH_ALL);
	assert_int_equal(parse(&c, "restart_services = all\n", &err), 0);
	assert_int_equal(c.restart, PL_RESTART_ALL);
	assert_int_equal(parse(&c, "restart_services = no\n", &err), 0);
	assert_int_equal(c.restart, PL_RESTART_NO);
	assert_int_equal(parse(&c, "install_window =\n", &err), 0);
	assert_true(c.window_any);
	assert_int_equal(parse(&c, "install_window = 00:00-23:59\n", &err), 0);
	assert_false(c.window_any);
	assert_int_equal(parse(&c, "protect =\n", &err), 0);
	assert_int_equal(c.n_protect, 0);
	assert_int_equal(parse(&c, "protect = /\n", &err), 0);
	assert_string_equal(c.protect[0], "/");
	/* restart_never: the list replaces the default unless it names it */
	assert_int_equal(parse(&c, "restart_never = none\n", &err), 0);
	assert_false(c.never_default);
	assert_int_equal(c.n_never, 0);
	assert_int_equal(parse(&c, "restart_never = a.service *-vpn.service\n", &err), 0);
	assert_false(c.never_default);
	assert_int_equal(c.n_never, 2);
	assert_string_equal(c.restart_never[1], "*-vpn.service");
	assert_int_equal(parse(&c, "inbox_settle = 0\n", &err), 0);
	assert_int_equal(c.inbox_settle, 0);
	assert_int_equal(parse(&c, "inbox_settle = 1h\n", &err), 0);
	assert_int_equal(c.inbox_settle, 3600);
	assert_int_equal(parse(&c, "restart_never = default\n", &err), 0);
	assert_true(c.never_default);
	assert_int_equal(c.n_never, 0);
	/* metrics_file: empty turns the metrics off */
	assert_int_equal(parse(&c, "metrics_file =\n", &err), 0);
	assert_string_equal(c.metrics_file, "");
	assert_int_equal(parse(&c, "metrics_file = /x.prom\n", &err), 0);
	assert_string_equal(c.metrics_file, "/x.prom");
	assert_int_equal(parse(&c, "metrics_interval = 1h\n", &err), 0);
	assert_int_equal(c.metrics_interval, 3600);
	assert_int_equal(parse(&c, "metrics_interval = 1\n", &err), 0);
	assert_int_equal(c.metrics_interval, 1);
}

static void test_pattern(void **state)
{
	size_t i;

	(void)state;
	assert_true(pl_unit_pattern_match("dbus.service", "dbus.service"));
	assert_false(pl_unit_pattern_match("dbus.service", "dbus.servicex"));
	assert_false(pl_unit_pattern_match("dbus.service", "xdbus.service"));
	assert_true(pl_unit_pattern_match("getty@*.service", "getty@tty1.service"));
	assert_false(pl_unit_pattern_match("getty@*.service", "serial-getty@ttyS0.service"));
	assert_true(pl_unit_pattern_match("*", "anything.service"));
	assert_true(pl_unit_pattern_match("a*b*c.service", "a-b-b-c.service"));
	assert_false(pl_unit_pattern_match("a*b*c.service", "a-c.service"));
	assert_true(pl_unit_pattern_match("gdm*.service", "gdm.service"));
	assert_true(pl_unit_pattern_match("gdm*.service", "gdm3.service"));
	assert_false(pl_unit_pattern_match("x.service", ""));
	/* the built-in list: valid patterns, each one accepted by the parser */
	for (i = 0; pl_restart_never_default[i]; i++) {
		char text[PL_CONFIG_UNIT_MAX + 32];
		struct pl_config c;
		struct pl_config_error err;

		snprintf(text, sizeof(text), "restart_never = %s\n", pl_restart_never_default[i]);
		assert_int_equal(parse(&c, text, &err), 0);
	}
	assert_true(i > 20);
}

struct bad {
	const char *text;
	unsigned int line;
	const char *reason;
};

static void test_refused(void **state)
{
	static const struct bad cases[] = {
		{ "auto_install = maybe\n", 1, "expected yes or no" },
		{ "\n\nauto_instal = yes\n", 3, "unknown key" },
		{ "auto_install = yes\nauto_install = no\n", 2, "key set twice" },
		{ "auto_install yes\n", 1, "expected key = value" },
		{ " = yes\n", 1, "missing key before '='" },
		{ "auto_install = yes\r\n", 1, "carriage return (CRLF line ending?)" },
		{ "inbox = /a\x01\n", 1, "control character" },
		{ "install_window = 2:00-5:00\n", 1, "expected HH:MM-HH:MM (24-hour local time) or nothing" },
		{ "install_window = 24:00-05:00\n", 1, "expected HH:MM-HH:MM (24-hour local time) or nothing" },
		{ "install_window = 02:60-05:00\n", 1, "expected HH:MM-HH:MM (24-hour local time) or nothing" },
		{ "install_window = 02:00-02:00\n", 1, "window is empty (start equals end)" },
		{ "protect = usr/lib\n", 1, "not an absolute path" },
		{ "protect = /usr/lib/\n", 1, "path ends with '/'" },
		{ "protect = /usr//lib\n", 1, "path has an empty component" },
		{ "protect = /usr/../lib\n", 1, "path has a '.' or '..' component" },
		{ "protect = /usr/./lib\n", 1, "path has a '.' or '..' component" },
		{ "protect = /a /a\n", 1, "path listed twice" },
		{ "protect = /1 /2 /3 /4 /5 /6 /7 /8 /9 /10 /11 /12 /13 /14 /15 /16 /17\n", 1,
		  "too many paths (at most 16)" },
		{ "inbox = /a /b\n", 1, "one path expected (no blanks in paths)" },
		{ "store =\n", 1, "empty path" },
		{ "health_window = 10d\n", 1, "expected a duration: a number with s, m or h (seconds if none)" },
		{ "health_window = -1\n", 1, "expected a duration: a number with s, m or h (seconds if none)" },
		{ "health_window = 169h\n", 1, "duration longer than 7 days" },
		{ "health_window = 99999999\n", 1, "expected a duration: a number with s, m or h (seconds if none)" },
		{ "crash_threshold = 0\n", 1, "expected a number of crashes from 1 to 1000000" },
		{ "crash_threshold = 1000001\n", 1, "expected a number of crashes from 1 to 1000000" },
		{ "crash_threshold = three\n", 1, "expected a number of crashes from 1 to 1000000" },
		{ "crash_scope = user\n", 1, "expected services or all" },
		{ "crash_scope =\n", 1, "expected services or all" },
		{ "crash_scope = services all\n", 1, "expected services or all" },
		{ "crash_scope = all\ncrash_scope = all\n", 2, "key set twice" },
		{ "restart_services =\n", 1, "expected no, all or a list of systemd units" },
		{ "restart_services = ssh\n", 1, "not a systemd unit name (e.g. foo.service)" },
		{ "restart_services = a/b.service\n", 1, "not a systemd unit name" },
		{ "restart_services = a.service a.service\n", 1, "unit listed twice" },
		{ "inbox_settle = 61m\n", 1, "settle time longer than an hour" },
		{ "inbox_settle = soon\n", 1, "expected a duration: a number with s, m or h (seconds if none)" },
		{ "metrics_file = /var/lib/node-exporter/patchlayer.txt\n", 1,
		  "expected a file NAME.prom (node_exporter reads only those), or nothing" },
		{ "metrics_file = /var/lib/node-exporter/.patchlayer.prom\n", 1,
		  "expected a file NAME.prom (node_exporter reads only those), or nothing" },
		{ "metrics_file = /var/lib/node-exporter/.prom\n", 1,
		  "expected a file NAME.prom (node_exporter reads only those), or nothing" },
		{ "metrics_file = patchlayer.prom\n", 1, "not an absolute path" },
		{ "metrics_file = /a/b.prom /c.prom\n", 1, "one path expected (no blanks in paths)" },
		{ "metrics_file = /a/../b.prom\n", 1, "path has a '.' or '..' component" },
		{ "metrics_interval = 0\n", 1, "expected from 1s to 1h" },
		{ "metrics_interval = 61m\n", 1, "expected from 1s to 1h" },
		{ "metrics_interval =\n", 1, "expected a duration: a number with s, m or h (seconds if none)" },
		{ "restart_never =\n", 1, "expected none, default or a list of unit patterns" },
		{ "restart_never = default default\n", 1, "default listed twice" },
		{ "restart_never = dbus\n", 1,
		  "not a systemd unit name or pattern (e.g. foo.service, foo-*.service)" },
		{ "restart_never = *\n", 1,
		  "not a systemd unit name or pattern (e.g. foo.service, foo-*.service)" },
		{ "restart_never = a?.service\n", 1, "not a systemd unit name or pattern" },
		{ "restart_never = a.service a.service\n", 1, "unit pattern listed twice" },
		{ "inbox = /x\nstore = /x\n", 0, "inbox and store are the same directory" },
	};
	struct pl_config c;
	struct pl_config_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu: %s", i, cases[i].text);
		assert_int_equal(parse(&c, cases[i].text, &err), -EINVAL);
		assert_int_equal(err.line, cases[i].line);
		assert_string_equal(err.reason, cases[i].reason);
	}
}

static void test_nul_and_size(void **state)
{
	static const char text[] = "auto_install = yes\nin\0box = /x\n";
	static char big[PL_CONFIG_MAX_SIZE + 2];
	struct pl_config c;
	struct pl_config_error err;

	(void)state;
	pl_config_defaults(&c);
	assert_int_equal(pl_config_parse(&c, text, sizeof(text) - 1, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.reason, "NUL byte");

	memset(big, '#', sizeof(big));
	assert_int_equal(pl_config_parse(&c, big, sizeof(big), &err), -EFBIG);
	memset(big, 'x', PL_CONFIG_LINE_MAX);
	big[PL_CONFIG_LINE_MAX] = '\n';
	assert_int_equal(pl_config_parse(&c, big, PL_CONFIG_LINE_MAX + 1, &err), -EINVAL);
	assert_string_equal(err.reason, "line longer than 4095 bytes");
}

/* What config check prints parses back to the same configuration. */
static void test_format_round_trip(void **state)
{
	static const char *const texts[] = {
		"",
		"auto_install = no\ninstall_window = 22:30-04:15\n"
		"protect = /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu\n"
		"trust = /etc/a.der /etc/b.pem\ninbox = /srv/in\nstore = /srv/store\n"
		"health_window = 90\ncrash_threshold = 1000000\ncrash_scope = all\n"
		"restart_services = nginx.service foo@bar.service\n"
		"restart_never = default ssh*.service\ninbox_settle = 1h\n",
		"install_window = 00:00-00:01\nhealth_window = 7m\nrestart_services = all\n"
		"restart_never = none\ninbox_settle = 0\n",
		"restart_never = a.service\nhealth_window = 3601\n",
	};
	struct pl_config c, again;
	struct pl_config_error err;
	char buf[8192], small[16];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t n;

		assert_int_equal(parse(&c, texts[i], &err), 0);
		n = pl_config_format(&c, buf, sizeof(buf));
		assert_int_equal(n, strlen(buf));
		assert_int_equal(parse(&again, buf, &err), 0);
		assert_memory_equal(&c, &again, sizeof(c));
		/* cut short, still NUL-terminated, and the full length told */
		assert_int_equal(pl_config_format(&c, small, sizeof(small)), n);
		assert_int_equal(strlen(small), sizeof(small) - 1);
	}
	parse(&c, texts[2], &err);
	pl_config_format(&c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\ninstall_window = 00:00-00:01\n"));
	assert_non_null(strstr(buf, "\nhealth_window = 7m\n"));
	assert_non_null(strstr(buf, "\ninbox_settle = 0s\n"));
	assert_non_null(strstr(buf, "\nrestart_never = none\n"));
	parse(&c, "", &err);
	pl_config_format(&c, buf, sizeof(buf));
	assert_string_equal(buf,
		"auto_install = yes\ninstall_window = \nprotect = \ntrust = \n"
		"inbox = /var/lib/patchlayer/inbox\nstore = /var/lib/patchlayer/layers\n"
		"health_window = 10m\ncrash_threshold = 3\ncrash_scope = services\n"
		"restart_services = no\nrestart_never = default\ninbox_settle = 5s\n"
		"metrics_file = /var/lib/prometheus/node-exporter/patchlayer.prom\n"
		"metrics_interval = 1m\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
