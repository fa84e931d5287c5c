/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's hands on systemd for restart_services (docs/daemon.md):
 * which unit a process belongs to, and try-restart of a unit. Which units
 * to restart is decided in lib/policy.c; nothing here decides.
 */
#ifndef PL_SERVICES_H
#define PL_SERVICES_H

#include <stddef.h>
#include <sys/types.h>

struct pl_services;

/*
 * Connects to the service manager. 0, or a negative errno with WHY saying
 * why restarts are unavailable (not booted with systemd, no bus).
 */
int pl_services_open(struct pl_services **out, char *why, size_t len);
void pl_services_close(struct pl_services *s);

/* PID's systemd unit (a service, a scope...); 0 PID is this process. */
int pl_services_unit_of(pid_t pid, char *unit, size_t len);

/* TryRestartUnit(UNIT, "replace"): 0, or a negative errno with ERR from systemd, on one line. */
int pl_services_try_restart(struct pl_services *s, const char *unit, char *err, size_t len);

#endif
