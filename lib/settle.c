// SPDX-License-Identifier: GPL-2.0 OR MIT
/* When an inbox delivery is complete (settle.h). */
#include <string.h>

#include "settle.h"

void pl_settle_init(struct pl_settle *s)
{
	memset(s, 0, sizeof(*s));
}

static struct pl_settle_entry *find(struct pl_settle *s, const char *name, bool add)
{
	struct pl_settle_entry *free_slot = NULL, *oldest = &s->e[0];
	unsigned int i;

	if (!name[0] || strnlen(name, PL_SETTLE_NAME_MAX + 1) > PL_SETTLE_NAME_MAX)
		return NULL;
	for (i = 0; i < PL_SETTLE_SLOTS; i++) {
		if (!s->e[i].name[0]) {
			if (!free_slot)
				free_slot = &s->e[i];
			continue;
		}
		if (strcmp(s->e[i].name, name) == 0)
			return &s->e[i];
		if (s->e[i].quiet_since < oldest->quiet_since)
			oldest = &s->e[i];
	}
	if (!add)
		return NULL;
	/* full: the delivery quiet the longest is looked at afresh later */
	if (!free_slot)
		free_slot = oldest;
	memset(free_slot, 0, sizeof(*free_slot));
	strcpy(free_slot->name, name);
	return free_slot;
}

void pl_settle_renamed(struct pl_settle *s, const char *name)
{
	struct pl_settle_entry *e = find(s, name, true);

	if (e) {
		e->renamed = true;
		e->seen = true;
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
	e->seen = true;
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
		e->quiet_since = now - age;
		e->looked = true;
	}
	quiet = now - e->quiet_since;
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
	struct pl_settle_entry *e = find(s, name, false);

	if (e)
		memset(e, 0, sizeof(*e));
}

void pl_settle_sweep_begin(struct pl_settle *s)
{
	unsigned int i;

	for (i = 0; i < PL_SETTLE_SLOTS; i++)
		s->e[i].seen = false;
}

void pl_settle_sweep_end(struct pl_settle *s)
{
	unsigned int i;

	for (i = 0; i < PL_SETTLE_SLOTS; i++)
		if (s->e[i].name[0] && !s->e[i].seen)
			memset(&s->e[i], 0, sizeof(s->e[i]));
}
