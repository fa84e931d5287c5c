// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The daemon's decisions (policy.h). Each call answers one step; the
 * daemon records intent in the store before it touches the kernel, so
 * that after a crash the same question gets the same answer.
 */
#include <string.h>

#include "policy.h"

bool pl_window_open(const struct pl_config *c, unsigned int m)
{
	if (c->window_any)
		return true;
	if (c->window_start < c->window_end)
		return m >= c->window_start && m < c->window_end;
	/* across midnight, as 22:00-04:00 */
	return m >= c->window_start || m < c->window_end;
}

unsigned int pl_window_wait(const struct pl_config *c, unsigned int m)
{
	m %= 24 * 60;
	if (pl_window_open(c, m))
		return 0;
	return (c->window_start + 24 * 60 - m) % (24 * 60);
}

bool pl_in_health_window(const struct pl_config *c, int64_t activated_at, int64_t now)
{
	return activated_at > 0 && now >= activated_at &&
	       now - activated_at < (int64_t)c->health_window;
}

static bool crashed_too_often(const struct pl_config *c, const struct pl_facts *f)
{
	return f->crashes >= c->crash_threshold &&
	       pl_in_health_window(c, f->activated_at, f->now);
}

enum pl_action pl_decide(const struct pl_config *c, const struct pl_facts *f)
{
	/* the kernel saw the base replaced or changed: retire, whatever we wanted */
	if (f->want != PL_WANT_REMOVING && f->want != PL_WANT_SUPERSEDED &&
	    f->want != PL_WANT_STALE) {
		if (f->kstate == PL_K_SUPERSEDED)
			return PL_ACT_SET_SUPERSEDED;
		if (f->kstate == PL_K_STALE)
			return PL_ACT_SET_STALE;
	}

	switch (f->want) {
	case PL_WANT_NEW:
		if (!f->in_store)
			return PL_ACT_NONE;
		if (f->kstate == PL_K_ABSENT)
			return PL_ACT_LOAD;
		if (f->kstate == PL_K_ACTIVE)
			return PL_ACT_SET_ACTIVE;	/* activated out of band: adopt it */
		if (c->auto_install && pl_window_open(c, f->minute_of_day))
			return PL_ACT_SET_ACTIVE;
		return PL_ACT_SET_PENDING;
	case PL_WANT_PENDING:
		if (!f->in_store)
			return PL_ACT_NONE;
		if (f->kstate == PL_K_ABSENT)
			return PL_ACT_LOAD;
		if (f->kstate == PL_K_ACTIVE)
			return PL_ACT_SET_ACTIVE;
		if (c->auto_install && pl_window_open(c, f->minute_of_day))
			return PL_ACT_SET_ACTIVE;
		return PL_ACT_NONE;
	case PL_WANT_ACTIVE:
		if (!f->in_store)
			return PL_ACT_NONE;
		if (f->kstate == PL_K_ABSENT)
			return PL_ACT_LOAD;
		if (crashed_too_often(c, f))
			return PL_ACT_WITHDRAW;
		if (f->kstate == PL_K_LOADED)
			return PL_ACT_ACTIVATE;
		return PL_ACT_NONE;
	case PL_WANT_DROPPED:
		if (!f->in_store)
			return PL_ACT_NONE;
		if (f->kstate == PL_K_ABSENT)
			return PL_ACT_LOAD;
		if (f->kstate == PL_K_ACTIVE)
			return PL_ACT_DROP;
		return PL_ACT_NONE;
	case PL_WANT_WITHDRAWN:
	case PL_WANT_SUPERSEDED:
	case PL_WANT_STALE:
		/* history: out of the kernel, kept in the store */
		if (f->kstate == PL_K_ACTIVE)
			return PL_ACT_DROP;
		if (f->kstate != PL_K_ABSENT)
			return PL_ACT_UNLOAD;
		return PL_ACT_NONE;
	case PL_WANT_REMOVING:
		if (f->kstate == PL_K_ACTIVE)
			return PL_ACT_DROP;
		if (f->kstate != PL_K_ABSENT)
			return PL_ACT_UNLOAD;
		return PL_ACT_DELETE;
	default:
		return PL_ACT_NONE;
	}
}

static const char *const want_names[PL_WANT_COUNT] = {
	[PL_WANT_NEW] = "new",
	[PL_WANT_PENDING] = "pending",
	[PL_WANT_ACTIVE] = "active",
	[PL_WANT_DROPPED] = "dropped",
	[PL_WANT_WITHDRAWN] = "withdrawn",
	[PL_WANT_SUPERSEDED] = "superseded",
	[PL_WANT_STALE] = "stale",
	[PL_WANT_REMOVING] = "removing",
};

static const char *const kstate_names[PL_K_COUNT] = {
	[PL_K_ABSENT] = "absent",
	[PL_K_LOADED] = "loaded",
	[PL_K_ACTIVE] = "active",
	[PL_K_STALE] = "stale",
	[PL_K_SUPERSEDED] = "superseded",
};

const char *pl_want_name(enum pl_want w)
{
	return (unsigned int)w < PL_WANT_COUNT ? want_names[w] : "unknown";
}

int pl_want_parse(const char *s)
{
	int i;

	for (i = 0; i < PL_WANT_COUNT; i++)
		if (strcmp(s, want_names[i]) == 0)
			return i;
	return -1;
}

const char *pl_kstate_name(enum pl_kstate k)
{
	return (unsigned int)k < PL_K_COUNT ? kstate_names[k] : "unknown";
}

enum pl_kstate pl_kstate_parse(const char *s)
{
	int i;

	for (i = 1; i < PL_K_COUNT; i++)
		if (strcmp(s, kstate_names[i]) == 0)
			return (enum pl_kstate)i;
	return PL_K_ABSENT;
}

const char *pl_action_name(enum pl_action a)
{
	static const char *const names[] = {
		[PL_ACT_NONE] = "none",
		[PL_ACT_LOAD] = "load",
		[PL_ACT_SET_PENDING] = "pending",
		[PL_ACT_SET_ACTIVE] = "install",
		[PL_ACT_ACTIVATE] = "activate",
		[PL_ACT_DROP] = "drop",
		[PL_ACT_UNLOAD] = "unload",
		[PL_ACT_WITHDRAW] = "withdraw",
		[PL_ACT_SET_SUPERSEDED] = "supersede",
		[PL_ACT_SET_STALE] = "stale",
		[PL_ACT_DELETE] = "delete",
	};

	return (unsigned int)a < sizeof(names) / sizeof(names[0]) ? names[a] : "unknown";
}
