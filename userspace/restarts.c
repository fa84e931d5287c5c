// SPDX-License-Identifier: GPL-2.0
/*
 * restart_services (docs/daemon.md): after an activation, the services
 * whose processes still run the layer's replaced files, as the BPF side
 * sees them, restarted with try-restart when lib/policy.c says so and
 * install_window is open. systemd is reached through services.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "plbpf.h"
#include "services.h"

#define PL_RESTART_UNITS_MAX 256

/* A unit with processes still running the replaced files, and one of them. */
struct stale_unit {
	char name[PL_CONFIG_UNIT_MAX];
	__u32 pid;
};

static bool restarts_unavailable;	/* said once in the daemon's log */

/* What restart_services() opens once, at the first layer that needs it. */
struct restart_walk {
	char why[256], own[PL_CONFIG_UNIT_MAX];
	struct pl_services *sv;
	bool tried;
	/* one scan of the BPF side answers for every layer of the pass */
	bool scanned;
	int scan_err;
	struct pl_bpf_proc *procs;
	size_t n;
	/* the units restarted in this pass, not restarted twice for two layers */
	char done[PL_RESTART_UNITS_MAX][PL_CONFIG_UNIT_MAX];
	size_t n_done;
};

/* Appends to the layer's one-line summary, "..." when it is full. */
static void summary_add(char *sum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void summary_add(char *sum, const char *fmt, ...)
{
	size_t used = strlen(sum);
	va_list ap;
	int n;

	if (used + 4 >= PL_RESTARTS_MAX)
		return;
	if (used)
		used += (size_t)snprintf(sum + used, PL_RESTARTS_MAX - used, "; ");
	va_start(ap, fmt);
	n = vsnprintf(sum + used, PL_RESTARTS_MAX - used, fmt, ap);
	va_end(ap);
	if (n < 0 || used + (size_t)n >= PL_RESTARTS_MAX)
		strcpy(sum + PL_RESTARTS_MAX - 4, "...");
}

/* The units of the processes the BPF side sees running NAME's replaced files. */
static int stale_units(struct restart_walk *w, const char *name, struct stale_unit *units,
		       size_t *n_units)
{
	const struct pl_bpf_proc *procs;
	size_t n, i, j;

	*n_units = 0;
	if (!w->scanned) {
		/* the maps follow the module's events: those of this pass's steps too */
		kernel_events_drain();
		w->scan_err = pl_bpf_usage(bpf, NULL, &w->procs, &w->n);
		w->scanned = true;
	}
	if (w->scan_err)
		return w->scan_err;
	procs = w->procs;
	n = w->n;
	for (i = 0; i < n; i++) {
		char unit[PL_CONFIG_UNIT_MAX];

		if (procs[i].kind != PL_BPF_STALE || strcmp(procs[i].layer, name))
			continue;
		/*
		 * A patchlayer command, as the "install" that just activated
		 * the layer, is about to exit: no reason to restart the unit
		 * it runs in. The daemon itself is judged as its own unit.
		 */
		if ((pid_t)procs[i].pid != getpid() &&
		    strncmp(procs[i].comm, "patchlayer", sizeof(procs[i].comm)) == 0)
			continue;
		/* gone since the scan, a kernel thread: nothing to restart */
		if (pl_services_unit_of((pid_t)procs[i].pid, unit, sizeof(unit)) < 0)
			continue;
		for (j = 0; j < *n_units; j++)
			if (strcmp(units[j].name, unit) == 0)
				break;
		if (j < *n_units || *n_units == PL_RESTART_UNITS_MAX)
			continue;
		snprintf(units[j].name, sizeof(units[j].name), "%s", unit);
		units[j].pid = procs[i].pid;
		(*n_units)++;
	}
	return 0;
}

/*
 * Restarts, with try-restart, the services lib/policy.c picks among those
 * still running NAME's replaced files, then records that it was done for
 * this activation. Restart first, record after: a kill in between only
 * repeats the scan, which then finds those services patched.
 */
static void restart_stale(struct restart_walk *w, const char *name, struct pl_record *r)
{
	static struct stale_unit units[PL_RESTART_UNITS_MAX];
	struct pl_services *sv = w->sv;
	const char *own_unit = w->own;
	size_t n = 0, i, j;
	int err;

	r->restarts[0] = '\0';
	err = stale_units(w, name, units, &n);
	if (err) {
		history(LOG_ERR, name, r, "restart_services: cannot list the processes running its old files: %s",
			strerror(-err));
		summary_add(r->restarts, "cannot list the processes: %s", strerror(-err));
	}
	if (!err && n == 0) {
		history(LOG_INFO, name, r, "restart_services: no service runs its old files");
		summary_add(r->restarts, "no service ran its old files");
	}
	for (i = 0; i < n; i++) {
		enum pl_unit_verdict v = pl_unit_verdict(&cfg, units[i].name, own_unit);
		char why[256];

		if (v == PL_UNIT_INVALID) {
			/* not even printed: a cgroup name is not a unit name */
			history(LOG_INFO, name, r, "restart_services: kept the unit of pid %u: %s",
				units[i].pid, pl_unit_verdict_why(v));
			summary_add(r->restarts, "kept the unit of pid %u: %s", units[i].pid,
				    pl_unit_verdict_why(v));
			continue;
		}
		if (v != PL_UNIT_RESTART) {
			history(LOG_INFO, name, r, "restart_services: kept %s (pid %u runs its old files): %s",
				units[i].name, units[i].pid, pl_unit_verdict_why(v));
			summary_add(r->restarts, "kept %s: %s", units[i].name, pl_unit_verdict_why(v));
			continue;
		}
		/* restarted for another layer in this pass: after the scan */
		for (j = 0; j < w->n_done && strcmp(w->done[j], units[i].name); j++)
			;
		if (j < w->n_done) {
			history(LOG_NOTICE, name, r, "restart_services: restarted %s (pid %u ran its old files)",
				units[i].name, units[i].pid);
			summary_add(r->restarts, "restarted %s", units[i].name);
			continue;
		}
		err = pl_services_try_restart(sv, units[i].name, why, sizeof(why));
		if (!err && w->n_done < PL_RESTART_UNITS_MAX)
			memcpy(w->done[w->n_done++], units[i].name, sizeof(w->done[0]));
		if (err) {
			history(LOG_ERR, name, r, "restart_services: restart of %s failed: %s", units[i].name, why);
			summary_add(r->restarts, "restart of %s failed: %s", units[i].name, why);
		} else {
			history(LOG_NOTICE, name, r, "restart_services: restarted %s (pid %u ran its old files)",
				units[i].name, units[i].pid);
			summary_add(r->restarts, "restarted %s", units[i].name);
		}
	}
	r->restarted_for = r->activated_at;
	record_write(name, r);
}

static int restart_one(const char *name, void *ctx)
{
	struct restart_walk *w = ctx;
	struct pl_facts f;
	struct pl_record r;
	enum pl_restart_when when;

	if (record_read(name, &r) <= 0)
		return 0;
	facts_of(name, &r, &f);
	when = pl_restarts_due(&cfg, &f, r.restarted_for);
	if (when == PL_RESTARTS_NONE)
		return 0;
	if (when == PL_RESTARTS_WAIT) {
		static const char waiting[] = "waiting for install_window";

		/* said once per activation, not at every event */
		if (strcmp(r.restarts, waiting) != 0) {
			snprintf(r.restarts, sizeof(r.restarts), "%s", waiting);
			record_write(name, &r);
			history(LOG_INFO, name, &r, "restart_services: %s", waiting);
		}
		return 0;
	}
	if (!w->tried) {
		w->tried = true;
		w->why[0] = '\0';
		if (!bpf)
			snprintf(w->why, sizeof(w->why), "the BPF side is not loaded");
		else
			pl_services_open(&w->sv, w->why, sizeof(w->why));
		if (!w->sv && !restarts_unavailable)
			dlog(LOG_WARNING, "service restarts unavailable: %s", w->why);
		restarts_unavailable = !w->sv;
		if (pl_services_unit_of(0, w->own, sizeof(w->own)) < 0)
			w->own[0] = '\0';
	}
	if (!w->sv) {
		/* recorded for "layers", not retried for this activation */
		snprintf(r.restarts, sizeof(r.restarts), "unavailable: %s", w->why);
		r.restarted_for = r.activated_at;
		record_write(name, &r);
		return 0;
	}
	restart_stale(w, name, &r);
	return 0;
}

/*
 * After each reconciliation: for every layer activated (by the daemon or a
 * verb) since its services were last restarted, restart them now when
 * install_window is open; otherwise the window timer brings us back.
 */
void restart_services(void)
{
	static struct restart_walk w;

	if (cfg.restart == PL_RESTART_NO)
		return;
	memset(&w, 0, sizeof(w));
	store_walk(restart_one, &w);
	pl_services_close(w.sv);
	free(w.procs);
}
