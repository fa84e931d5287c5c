// SPDX-License-Identifier: GPL-2.0
/*
 * restart_services through libsystemd: sd_pid_get_unit() maps a process to
 * its unit (from /proc/PID/cgroup, as systemd itself does), sd-bus asks the
 * manager to TryRestartUnit(), which restarts a unit only if it is running,
 * as "systemctl try-restart" does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include "services.h"

struct pl_services {
	sd_bus *bus;
};

/*
 * The manager's private socket first, as systemctl does for root: it needs
 * no D-Bus broker (the Debian minimal system has none) and keeps working
 * while dbus.service itself restarts. systemd accepts uid 0 there; the
 * daemon stays uid 0 with CAP_SYS_ADMIN, which is what TryRestartUnit
 * checks. Then the system bus, for a manager without its private socket.
 */
static int connect_manager(sd_bus **out)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0) {
		*out = bus;
		return 0;
	}
	sd_bus_unref(bus);
	return sd_bus_open_system(out) < 0 ? r : 0;
}

int pl_services_open(struct pl_services **out, char *why, size_t len)
{
	struct pl_services *s;
	int r;

	*out = NULL;
	r = sd_booted();
	if (r <= 0) {
		snprintf(why, len, "the system was not booted with systemd");
		return r < 0 ? r : -ENOSYS;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(why, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r = connect_manager(&s->bus);
	if (r < 0) {
		snprintf(why, len, "cannot reach systemd at /run/systemd/private or the system bus: %s",
			 strerror(-r));
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void pl_services_close(struct pl_services *s)
{
	if (!s)
		return;
	sd_bus_flush_close_unref(s->bus);
	free(s);
}

int pl_services_unit_of(pid_t pid, char *unit, size_t len)
{
	char *u = NULL;
	int r = sd_pid_get_unit(pid, &u);

	if (r < 0)
		return r;
	if (strlen(u) >= len) {
		free(u);
		return -ENAMETOOLONG;
	}
	snprintf(unit, len, "%s", u);
	free(u);
	return 0;
}

int pl_services_try_restart(struct pl_services *s, const char *unit, char *err, size_t len)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r;

	/* "replace": as systemctl try-restart; returns once the job is queued */
	r = sd_bus_call_method(s->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", "TryRestartUnit",
			       &error, &reply, "ss", unit, "replace");
	if (r < 0) {
		snprintf(err, len, "%s", error.message ? error.message : strerror(-r));
		/* one line of the log and the state file: systemd's text is not ours */
		for (char *p = err; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	sd_bus_error_free(&error);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}
