// SPDX-License-Identifier: GPL-2.0
/*
 * Reconciliation: lib/policy.c's decisions applied, one step at a time,
 * until it has nothing more to do for a layer; the kernel's refusals
 * spaced out by lib/backoff.c. Every change (the inbox, a netlink event,
 * a verb, a crash count) ends here, so a kill between any two steps is
 * repaired by the next pass.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "layer.h"
#include "retry.h"

struct pl_backoff backoff;	/* the layers the kernel keeps refusing */

/* What lib/policy.c decides on: the record, the kernel, the store, the clock. */
void facts_of(const char *name, const struct pl_record *r, struct pl_facts *f)
{
	*f = (struct pl_facts){
		.want = r->want,
		.kstate = kstate_of(name),
		.in_store = in_store(name),
		.now = now_s(),
		.minute_of_day = minute_of_day(),
		.activated_at = r->activated_at,
		.window_elapsed = window_elapsed(r),
		.crashes = r->crashes,
	};
}

/* The actions that ask the kernel, which may refuse them again and again. */
static bool asks_kernel(enum pl_action a)
{
	return a == PL_ACT_LOAD || a == PL_ACT_ACTIVATE || a == PL_ACT_DROP || a == PL_ACT_UNLOAD;
}

/*
 * Runs lib/policy.c's decisions for NAME until there is nothing left to
 * do. Bounded: a kernel that keeps refusing leaves the layer as it is,
 * with the reason recorded, rather than looping. Nor is it asked again at
 * every event (its refusal is one: a REJECTED event): lib/backoff.c spaces
 * the retries out, unless what the refusal depended on has changed.
 */
void reconcile(const char *name)
{
	struct pl_record r;
	char dir[PATH_MAX];
	uint64_t fp = 0;
	int i, err;

	snprintf(dir, sizeof(dir), "%s/%s", cfg.store, name);
	for (i = 0; i < 12; i++) {
		struct pl_facts f;
		enum pl_action a;

		if (record_read(name, &r) < 0)
			return;
		if (r.bad)
			record_quarantine(name, &r);
		facts_of(name, &r, &f);
		a = pl_decide(&cfg, &f);
		if (a == PL_ACT_NONE) {
			pl_backoff_clear(&backoff, name);
			return;
		}
		if (asks_kernel(a)) {
			fp = pl_retry_fingerprint(dir, &cfg);
			fp = pl_fp_add(fp, &r.want, sizeof(r.want));
			fp = pl_fp_add(fp, &a, sizeof(a));
			if (!pl_backoff_may_try(&backoff, name, fp, pl_boottime_s()))
				return;
		}
		err = 0;
		switch (a) {
		case PL_ACT_LOAD:
			step("load", name);
			err = kernel_load(dir);
			if (err == -EEXIST)
				err = 0;	/* loaded from the inbox before its rename */
			if (!err)
				kernel_events_drain();
			break;
		case PL_ACT_SET_PENDING:
			record_set(name, &r, PL_WANT_PENDING, "%s",
				   !cfg.auto_install ? "auto_install is off: waiting for 'patchlayer install'"
						     : "outside install_window");
			break;
		case PL_ACT_SET_ACTIVE:
			r.activated_at = now_s();
			window_start_now(&r);
			crash_baseline(name, &r);
			r.restarts[0] = '\0';
			record_set(name, &r, PL_WANT_ACTIVE, "%s",
				   f.kstate == PL_K_ACTIVE ? "found active in the kernel"
							   : "installed automatically");
			break;
		case PL_ACT_ACTIVATE:
			step("activate", name);
			snprintf(dir, sizeof(dir), "layers/%s/state", name);
			err = sysfs_write(dir, "activate");
			snprintf(dir, sizeof(dir), "%s/%s", cfg.store, name);
			/* its first activation in this boot (after a reboot): watched again */
			if (!err && r.want == PL_WANT_ACTIVE && window_elapsed(&r) < 0) {
				window_start_now(&r);
				record_write(name, &r);
			}
			break;
		case PL_ACT_DROP:
			step("drop", name);
			snprintf(dir, sizeof(dir), "layers/%s/state", name);
			err = sysfs_write(dir, "drop");
			snprintf(dir, sizeof(dir), "%s/%s", cfg.store, name);
			break;
		case PL_ACT_UNLOAD:
			step("unload", name);
			err = sysfs_write("unload", name);
			if (err == -ENOENT)
				err = 0;
			break;
		case PL_ACT_WITHDRAW:
			record_set(name, &r, PL_WANT_WITHDRAWN,
				   "%u crashes of patched processes within %us of activation (crash_threshold %u)",
				   r.crashes, cfg.health_window, cfg.crash_threshold);
			break;
		case PL_ACT_SET_SUPERSEDED:
			r.superseded_by[0] = '\0';
			record_set(name, &r, PL_WANT_SUPERSEDED, "a package update replaced its base");
			supersede_record(name, &r);
			break;
		case PL_ACT_SET_STALE:
			record_set(name, &r, PL_WANT_STALE, "its base no longer matches the one it was built for");
			break;
		case PL_ACT_DELETE: {
			char cmd[PATH_MAX], st[PATH_MAX];

			step("delete", name);
			/* rename first: a half-deleted layer is never taken for one */
			snprintf(cmd, sizeof(cmd), "%s/.removed-%s", cfg.store, name);
			if (rename(dir, cmd) < 0 && errno != ENOENT)
				err = -errno;
			if (!err) {
				nftw(cmd, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
				snprintf(st, sizeof(st), "%s/%s.state", cfg.store, name);
				unlink(st);
				fsync_dir(cfg.store);
				history(LOG_NOTICE, name, &r, "removed from the store");
			}
			if (!err)
				return;
			break;
		}
		default:
			return;
		}
		if (err) {
			unsigned int delay = 0;

			/* the same refusal again: said once, not at each retry */
			if (asks_kernel(a) &&
			    !pl_backoff_failed(&backoff, name, fp, err, pl_boottime_s(), &delay))
				return;
			if (delay)
				history(LOG_ERR, name, &r, "%s failed: %s (%s); retrying in %us, then less and less often (at most every %us), or when its files, the trust list or the bases change",
					pl_action_name(a), pl_errno_name(-err), strerror(-err),
					delay, PL_BACKOFF_MAX);
			else
				history(LOG_ERR, name, &r, "%s failed: %s (%s)", pl_action_name(a),
					pl_errno_name(-err), strerror(-err));
			r.want = r.want == PL_WANT_NEW ? PL_WANT_PENDING : r.want;
			snprintf(r.why, sizeof(r.why), "%s failed: %s", pl_action_name(a), strerror(-err));
			record_write(name, &r);
			return;
		}
	}
}

static int reconcile_one(const char *name, void *ctx)
{
	(void)ctx;
	reconcile(name);
	return 0;
}

/* Every layer of the store: its directories and its state files. */
void reconcile_all(void)
{
	int err;

	pl_backoff_sweep_begin(&backoff);
	err = store_walk(reconcile_one, NULL);
	if (err)
		dlog(LOG_ERR, "%s: %s", cfg.store, strerror(-err));
	else
		pl_backoff_sweep_end(&backoff);
}
