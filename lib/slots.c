// SPDX-License-Identifier: GPL-2.0 OR MIT
/* A small name-keyed table (slots.h). */
#include <string.h>

#include "slots.h"

void pl_slots_init(const struct pl_slots *t)
{
	memset(t->base, 0, t->size * t->n);
}

struct pl_slot *pl_slots_at(const struct pl_slots *t, unsigned int i)
{
	return (struct pl_slot *)((char *)t->base + (size_t)i * t->size);
}

static bool keepable(const struct pl_slots *t, const char *name)
{
	size_t max = t->name_max < PL_SLOT_NAME_MAX ? t->name_max : PL_SLOT_NAME_MAX;

	return name[0] && strnlen(name, max + 1) <= max;
}

struct pl_slot *pl_slots_find(const struct pl_slots *t, const char *name)
{
	unsigned int i;

	if (!keepable(t, name))
		return NULL;
	for (i = 0; i < t->n; i++) {
		struct pl_slot *s = pl_slots_at(t, i);

		if (s->name[0] && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

struct pl_slot *pl_slots_add(const struct pl_slots *t, const char *name)
{
	struct pl_slot *s = pl_slots_find(t, name), *room = NULL;
	unsigned int i;

	if (s || !keepable(t, name) || !t->n)
		return s;
	/* a free slot, else the one of the smallest stamp */
	for (i = 0; i < t->n; i++) {
		s = pl_slots_at(t, i);
		if (!s->name[0]) {
			room = s;
			break;
		}
		if (!room || s->stamp < room->stamp)
			room = s;
	}
	memset(room, 0, t->size);
	strcpy(room->name, name);
	return room;
}

void pl_slots_forget(const struct pl_slots *t, const char *name)
{
	struct pl_slot *s = pl_slots_find(t, name);

	if (s)
		memset(s, 0, t->size);
}

void pl_slots_sweep_begin(const struct pl_slots *t)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		pl_slots_at(t, i)->seen = false;
}

void pl_slots_sweep_end(const struct pl_slots *t)
{
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		struct pl_slot *s = pl_slots_at(t, i);

		if (s->name[0] && !s->seen)
			memset(s, 0, t->size);
	}
}
