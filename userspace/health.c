// SPDX-License-Identifier: GPL-2.0
/*
 * The health watch and the BPF feed: the daemon's handle on the BPF side
 * (plbpf.c), kept in step with the kernel's layers (bpf_sync); the crash
 * counters of each layer in its health window, read at each crash event
 * and every PL_HEALTH_POLL_S seconds, counted against crash_threshold.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>

#include "daemon.h"
#include "metrics.h"
#include "patchlayer.h"
#include "plbpf.h"

struct pl_bpf *bpf;	/* the daemon's (or a verb's) handle, NULL without one */

/*
 * The BPF side's crash counters of NAME now (id 0: no slot, or no BPF
 * side), through the daemon's handle or, for a command, one of its own.
 */
void crash_count(const char *name, struct pl_crash_count *c)
{
	struct pl_bpf *b = bpf;
	struct pl_bpf_counts n;
	__u64 id;

	memset(c, 0, sizeof(*c));
	if (!b && (!pl_bpf_loaded() || pl_bpf_open(&b, 0)))
		return;
	if (!pl_bpf_counts(b, name, &n, &id)) {
		c->id = id;
		c->all = n.crashes;
		c->services = n.service_crashes;
	}
	if (b != bpf)
		pl_bpf_close(b);
}

/* A new activation: only crashes from now on count against it. */
void crash_baseline(const char *name, struct pl_record *r)
{
	r->crashes = 0;
	r->crash_for = r->activated_at;
	crash_count(name, &r->crash_seen);
}


void bpf_sync(void)
{
	if (bpf)
		pl_bpf_sync(bpf);
}


/* --- the health watch --- */

/*
 * Counts a look found grown without an event, kept one look long: the BPF
 * side counts a crash before it submits its event, and a look between the
 * two would take the crash for one whose event was lost. By the next look
 * the event has come (and counted it, naming the process) or never will.
 */
static struct pl_crash_count unexplained[PL_BPF_MAX_LAYERS];

static bool unexplained_before(const struct pl_crash_count *now)
{
	static unsigned int next;
	struct pl_crash_count *u = NULL;
	size_t i;

	for (i = 0; i < PL_BPF_MAX_LAYERS && !u; i++)
		if (unexplained[i].id == now->id)
			u = &unexplained[i];
	if (u && u->all == now->all && u->services == now->services)
		return true;
	if (!u)
		u = &unexplained[next++ % PL_BPF_MAX_LAYERS];
	*u = *now;
	return false;
}

/*
 * Counts what the BPF side's counters of NAME grew by since the last look
 * (crash_scope picks the counter), within health_window; EV, when not NULL,
 * is a crash event of NAME to name in the log. The counters, not the ring
 * buffer, decide: another consumer (patchlayer bpf events) takes events
 * from the daemon, and a full ring buffer drops them; a look without an
 * event counts growth it saw on the look before (unexplained_before).
 * Returns whether NAME is still in its health window.
 */
static bool health_look(const char *name, const struct pl_bpf_event *ev)
{
	struct pl_crash_count now;
	struct pl_record r;
	unsigned int n;
	bool in_window;

	if (record_read(name, &r) <= 0 || r.want != PL_WANT_ACTIVE)
		return false;
	in_window = pl_in_health_window(&cfg, r.activated_at, window_elapsed(&r));
	/* its window over: no crash counts any more, no counter to read */
	if (r.crash_for == r.activated_at && !in_window)
		return false;
	crash_count(name, &now);
	if (r.crash_for != r.activated_at) {
		/* activated by a version without crash_for: count from now */
		if (in_window) {
			r.crash_for = r.activated_at;
			r.crash_seen = now;
			record_write(name, &r);
		}
		return in_window;
	}
	if (!in_window || !now.id)
		return in_window;
	n = pl_crashes_since(&cfg, &r.crash_seen, &now);
	if (!n) {
		if (ev && !(ev->flags & PL_BPF_EV_SERVICE) && cfg.crash_scope == PL_CRASH_SERVICES)
			dlog_about(LOG_INFO, &(struct pl_log_about){ .layer = name, .version = r.version },
				   "%s: crash of pid %u (%.16s), signal %d: not counted, not a system service "
			     "(crash_scope = services)", name, ev->pid, ev->comm, ev->signal);
		if (memcmp(&now, &r.crash_seen, sizeof(now))) {
			r.crash_seen = now;
			record_write(name, &r);
		}
		return true;
	}
	if (!ev && !unexplained_before(&now))
		return true;
	r.crashes = r.crashes + n > PL_CONFIG_MAX_CRASHES ? PL_CONFIG_MAX_CRASHES : r.crashes + n;
	r.crash_seen = now;
	step("crash", name);
	record_write(name, &r);
	if (ev && n == 1 && (cfg.crash_scope == PL_CRASH_ALL || (ev->flags & PL_BPF_EV_SERVICE)))
		history(LOG_WARNING, name, &r, "crash %u of %u: pid %u (%.16s) killed by signal %d (%s)",
			r.crashes, cfg.crash_threshold, ev->pid, ev->comm, ev->signal,
			sigabbrev_np(ev->signal) ? sigabbrev_np(ev->signal) : "?");
	else
		history(LOG_WARNING, name, &r, "crash %u of %u: counted by the BPF side (%u new, event not received)",
			r.crashes, cfg.crash_threshold, n);
	reconcile(name);
	return true;
}

static int health_look_one(const char *name, void *ctx)
{
	*(bool *)ctx |= health_look(name, NULL);
	return 0;
}

/* health_look() of every layer of the store: whether one is in its window. */
bool health_look_all(void)
{
	bool any = false;

	if (bpf)
		store_walk(health_look_one, &any);
	return any;
}

/* A crash event: a look at its layer's counters now. */
int on_bpf_event(const struct pl_bpf_event *ev, void *ctx)
{
	char name[PL_BPF_NAME_MAX + 8];
	int fd;

	(void)ctx;
	if (ev->kind != PL_BPF_CRASH)
		return 0;
	snprintf(name, sizeof(name), "%s", ev->layer);
	if (!valid_name(name))
		return 0;
	fd = lock_store();
	health_look(name, ev);
	unlock_store(fd);
	return 0;
}

/*
 * While a layer is in its health window, a look every PL_HEALTH_POLL_S
 * seconds finds the crashes whose events the daemon did not get.
 */
void arm_health_timer(int tfd, bool on)
{
	struct itimerspec its = { 0 };
	int64_t m = metrics_due_in();

	its.it_value.tv_sec = on ? PL_HEALTH_POLL_S : 0;
	/* the metrics' rewrite every metrics_interval rides on this timer */
	if (m >= 0 && (!its.it_value.tv_sec || m < its.it_value.tv_sec))
		its.it_value.tv_sec = m < 1 ? 1 : m;
	timerfd_settime(tfd, 0, &its, NULL);
}
