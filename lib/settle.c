// SPDX-License-Identifier: GPL-2.0 OR MIT
/* When an inbox delivery is complete (settle.h). */
#include "settle.h"

#define TABLE(s) PL_SLOTS((s)->e, PL_SETTLE_NAME_MAX)

void pl_settle_init(struct pl_settle *s)
{
	pl_slots_init(&TABLE(s));
}

/* full: the delivery quiet the longest is looked at afresh later */
static struct pl_settle_entry *find(struct pl_settle *s, const char *name, bool add)
{
	return (struct pl_settle_entry *)(add ? pl_slots_add(&TABLE(s), name)
					      : pl_slots_find(&TABLE(s), name));
}

void pl_settle_renamed(struct pl_settle *s, const char *name)
{
	struct pl_settle_entry *e = find(s, name, true);

	if (e) {
		e->renamed = true;
		e->slot.seen = true;
	}
}

unsigned int pl_settle_look(struct pl_settle *s, const char *name, uint64_t fp, int64_t age,
			    int64_t now, unsigned int settle)
{
	struct pl_settle_entry *e;
	int64_t quiet;

	if (settle == 0)
		return 0;
	e = find(s, name, true);
	if (!e)
		return 0;	/* not a name an inbox entry has: take, and refuse it */
	e->slot.seen = true;
	if (e->renamed)
		return 0;
	if (!e->looked || e->fp != fp) {
		/*
		 * First look, or it changed: quiet since its newest file time,
		 * as far as the clock can be trusted (a time in the future
		 * counts as now; at most the settle time is credited).
		 */
		if (age < 0)
			age = 0;
		if (age > settle)
			age = settle;
		e->fp = fp;
		e->slot.stamp = now - age;
		e->looked = true;
	}
	quiet = now - e->slot.stamp;
	return quiet >= settle ? 0 : (unsigned int)(settle - quiet);
}

bool pl_settle_said(struct pl_settle *s, const char *name)
{
	struct pl_settle_entry *e = find(s, name, false);
	bool said;

	if (!e)
		return true;
	said = e->said;
	e->said = true;
	return said;
}

void pl_settle_forget(struct pl_settle *s, const char *name)
{
	pl_slots_forget(&TABLE(s), name);
}

void pl_settle_sweep_begin(struct pl_settle *s)
{
	pl_slots_sweep_begin(&TABLE(s));
}

void pl_settle_sweep_end(struct pl_settle *s)
{
	pl_slots_sweep_end(&TABLE(s));
}
