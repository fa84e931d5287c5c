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

bool pl_in_health_window(const struct pl_config *c, int64_t activated_at, int64_t elapsed)
{
	/* the wall clock is for people: wrong before NTP, and it jumps */
	return activated_at > 0 && elapsed >= 0 && elapsed < (int64_t)c->health_window;
}

unsigned int pl_crashes_since(const struct pl_config *c, const struct pl_crash_count *seen,
			      const struct pl_crash_count *now)
{
	bool all = c->crash_scope == PL_CRASH_ALL;
	uint64_t was = all ? seen->all : seen->services;
	uint64_t is = all ? now->all : now->services;
	uint64_t n;

	if (!now->id)
		return 0;
	n = now->id != seen->id || is < was ? is : is - was;
	return n > PL_CONFIG_MAX_CRASHES ? PL_CONFIG_MAX_CRASHES : (unsigned int)n;
}

static bool crashed_too_often(const struct pl_config *c, const struct pl_facts *f)
{
	return f->crashes >= c->crash_threshold &&
	       pl_in_health_window(c, f->activated_at, f->window_elapsed);
}

enum pl_action pl_decide(const struct pl_config *c, const struct pl_facts *f)
{
	/* the kernel saw the base replaced or changed: retire, whatever we wanted */
	if (f->want != PL_WANT_REMOVING && f->want != PL_WANT_SUPERSEDED &&
	    f->want != PL_WANT_STALE && f->want != PL_WANT_UNKNOWN) {
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
	case PL_WANT_UNKNOWN:
		/*
		 * What it was (dropped, withdrawn?) is lost: neither loaded nor
		 * activated, nor dropped, until the administrator says.
		 */
		return PL_ACT_NONE;
	default:
		return PL_ACT_NONE;
	}
}

enum pl_restart_when pl_restarts_due(const struct pl_config *c, const struct pl_facts *f,
				     int64_t restarted_for)
{
	if (c->restart == PL_RESTART_NO || f->want != PL_WANT_ACTIVE ||
	    f->kstate != PL_K_ACTIVE || f->activated_at <= 0 ||
	    restarted_for == f->activated_at)
		return PL_RESTARTS_NONE;
	if (!pl_window_open(c, f->minute_of_day))
		return PL_RESTARTS_WAIT;
	return PL_RESTARTS_NOW;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && memcmp(s + len - n, suffix, n) == 0;
}

static bool unit_name_valid(const char *unit, size_t len)
{
	size_t i;

	if (len == 0 || len >= PL_CONFIG_UNIT_MAX || unit[0] == '.' || unit[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char ch = unit[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || ch == '.' ||
		      ch == '@' || ch == '-' || ch == '\\'))
			return false;
	}
	return memchr(unit, '.', len) != NULL;
}

enum pl_unit_verdict pl_unit_verdict(const struct pl_config *c, const char *unit,
				     const char *own_unit)
{
	size_t len;
	unsigned int i;

	if (c->restart == PL_RESTART_NO)
		return PL_UNIT_OFF;
	len = unit ? strnlen(unit, PL_CONFIG_UNIT_MAX) : 0;
	if (!unit_name_valid(unit, len))
		return PL_UNIT_INVALID;
	/* scopes hold processes systemd did not start: nothing to restart */
	if (!ends_with(unit, len, ".service"))
		return PL_UNIT_NOT_SERVICE;
	if ((own_unit && strcmp(unit, own_unit) == 0) || strcmp(unit, PL_OWN_UNIT_DEFAULT) == 0)
		return PL_UNIT_OWN;
	if (strncmp(unit, "user@", 5) == 0)
		return PL_UNIT_USER_MANAGER;
	/*
	 * "all" means the services, not the system's plumbing; a unit the
	 * administrator lists by name is restarted as asked.
	 */
	if (c->restart == PL_RESTART_ALL) {
		if (c->never_default)
			for (i = 0; pl_restart_never_default[i]; i++)
				if (pl_unit_pattern_match(pl_restart_never_default[i], unit))
					return PL_UNIT_NEVER;
		for (i = 0; i < c->n_never && i < PL_CONFIG_MAX_NEVER; i++)
			if (pl_unit_pattern_match(c->restart_never[i], unit))
				return PL_UNIT_NEVER;
		return PL_UNIT_RESTART;
	}
	for (i = 0; i < c->n_units && i < PL_CONFIG_MAX_UNITS; i++)
		if (strcmp(unit, c->restart_units[i]) == 0)
			return PL_UNIT_RESTART;
	return PL_UNIT_NOT_LISTED;
}

const char *pl_unit_verdict_why(enum pl_unit_verdict v)
{
	static const char *const why[PL_UNIT_VERDICT_COUNT] = {
		[PL_UNIT_RESTART] = "",
		[PL_UNIT_OFF] = "restart_services is no",
		[PL_UNIT_INVALID] = "not a systemd unit name",
		[PL_UNIT_NOT_SERVICE] = "not a service",
		[PL_UNIT_OWN] = "patchlayer's own unit",
		[PL_UNIT_USER_MANAGER] = "a user's service manager",
		[PL_UNIT_NOT_LISTED] = "not in restart_services",
		[PL_UNIT_NEVER] = "in restart_never",
	};

	return (unsigned int)v < PL_UNIT_VERDICT_COUNT ? why[v] : "unknown";
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
	[PL_WANT_UNKNOWN] = "unknown",
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
