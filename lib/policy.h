/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The decisions of the patchlayer daemon, pure functions of what the store
 * says a layer should be, what the kernel says it is, the clock and the
 * crash count (docs/configuration.md, "The daemon"). The daemon applies the
 * action, records the new state, and asks again until the answer is
 * PL_ACT_NONE: that is what makes a SIGKILL at any step harmless.
 */
#ifndef PL_POLICY_H
#define PL_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* What the store records for a layer: the daemon's intent. */
enum pl_want {
	PL_WANT_NEW,		/* in the store, no state file yet */
	PL_WANT_PENDING,	/* loaded, waiting for install or the window */
	PL_WANT_ACTIVE,
	PL_WANT_DROPPED,	/* loaded, dropped by the administrator */
	PL_WANT_WITHDRAWN,	/* crashed its users: unloaded, never automatic again */
	PL_WANT_SUPERSEDED,	/* its base was replaced: unloaded, history */
	PL_WANT_STALE,		/* its base no longer matches: unloaded, history */
	PL_WANT_REMOVING,	/* being deleted from the store */
	PL_WANT_UNKNOWN,	/* its state file did not parse: nothing automatic */
	PL_WANT_COUNT,
};

/* What the kernel says (layers/<name>/state), or absent. */
enum pl_kstate {
	PL_K_ABSENT,
	PL_K_LOADED,
	PL_K_ACTIVE,
	PL_K_STALE,
	PL_K_SUPERSEDED,
	PL_K_COUNT,
};

enum pl_action {
	PL_ACT_NONE,
	PL_ACT_LOAD,		/* load the store's copy */
	PL_ACT_SET_PENDING,	/* record pending (a new layer, not to activate now) */
	PL_ACT_SET_ACTIVE,	/* record active, then activate */
	PL_ACT_ACTIVATE,	/* kernel: activate */
	PL_ACT_DROP,		/* kernel: drop */
	PL_ACT_UNLOAD,		/* kernel: unload */
	PL_ACT_WITHDRAW,	/* record withdrawn (crashes), then drop and unload */
	PL_ACT_SET_SUPERSEDED,	/* record superseded, then unload */
	PL_ACT_SET_STALE,	/* record stale, then unload */
	PL_ACT_DELETE,		/* remove the layer from the store */
};

struct pl_facts {
	enum pl_want want;
	enum pl_kstate kstate;
	bool in_store;			/* its directory is in the store */
	int64_t now;			/* seconds since the epoch */
	unsigned int minute_of_day;	/* local time, for install_window */
	int64_t activated_at;		/* when the daemon activated it, 0 never */
	int64_t window_elapsed;		/* seconds of its health window (monotonic), -1 none */
	unsigned int crashes;		/* of patched processes since activated_at */
};

bool pl_window_open(const struct pl_config *c, unsigned int minute_of_day);
/* Minutes from MINUTE_OF_DAY until the window opens: 0 when open. */
unsigned int pl_window_wait(const struct pl_config *c, unsigned int minute_of_day);
/*
 * Whether crashes now still count against a layer activated at
 * ACTIVATED_AT (wall clock, 0 never) whose health window started ELAPSED
 * seconds ago on a monotonic clock (-1: not in this boot).
 */
bool pl_in_health_window(const struct pl_config *c, int64_t activated_at, int64_t elapsed);

/*
 * The BPF side's crash counters of one layer's slot, as the daemon last
 * read them. ID names the slot (the layers map's id, the slot's gen): the
 * counters only grow while it stays the same; 0 when there was no slot.
 */
struct pl_crash_count {
	uint64_t id;
	uint64_t all;
	uint64_t services;	/* of system services */
};

/*
 * Crashes that count (crash_scope) between two readings SEEN and NOW: a
 * new slot or a reloaded BPF side counted all of NOW's since. Capped at
 * PL_CONFIG_MAX_CRASHES.
 */
unsigned int pl_crashes_since(const struct pl_config *c, const struct pl_crash_count *seen,
			      const struct pl_crash_count *now);
enum pl_action pl_decide(const struct pl_config *c, const struct pl_facts *f);

/*
 * restart_services: whether the services still running a layer's old code
 * are to be restarted now, later (outside install_window: when it opens),
 * or not (restart_services = no, the layer is not active, or it was done
 * for this activation: RESTARTED_FOR is the activated_at it was done for).
 */
enum pl_restart_when {
	PL_RESTARTS_NONE,
	PL_RESTARTS_WAIT,
	PL_RESTARTS_NOW,
};

enum pl_restart_when pl_restarts_due(const struct pl_config *c, const struct pl_facts *f,
				     int64_t restarted_for);

/* The daemon's own unit when it cannot tell its own: never restarted either. */
#define PL_OWN_UNIT_DEFAULT "patchlayer.service"

/* What to do with one systemd unit whose processes run a layer's old code. */
enum pl_unit_verdict {
	PL_UNIT_RESTART,
	PL_UNIT_OFF,		/* restart_services = no */
	PL_UNIT_INVALID,	/* not a unit name systemd would give */
	PL_UNIT_NOT_SERVICE,	/* a scope (session-N.scope, init.scope), a slice */
	PL_UNIT_OWN,		/* patchlayer's own unit */
	PL_UNIT_USER_MANAGER,	/* user@UID.service: it would end a user's session */
	PL_UNIT_NOT_LISTED,	/* not in the restart_services list */
	PL_UNIT_NEVER,		/* "all", but it matches restart_never */
	PL_UNIT_VERDICT_COUNT,
};

/* OWN_UNIT: the daemon's unit, or NULL or "" when it does not run in one. */
enum pl_unit_verdict pl_unit_verdict(const struct pl_config *c, const char *unit,
				     const char *own_unit);
/* Why a unit is not restarted, for the log ("" for PL_UNIT_RESTART). */
const char *pl_unit_verdict_why(enum pl_unit_verdict v);

const char *pl_want_name(enum pl_want w);
/* -1 for an unknown name. */
int pl_want_parse(const char *s);
const char *pl_kstate_name(enum pl_kstate k);
/* PL_K_ABSENT for anything the kernel does not say. */
enum pl_kstate pl_kstate_parse(const char *s);
const char *pl_action_name(enum pl_action a);

#endif
