/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A small fixed table of entries keyed by name, as the daemon keeps them
 * (lib/backoff.c: refused layers; lib/settle.c: deliveries under way):
 * find, add (a free slot, else the one with the oldest stamp makes room),
 * forget, and a sweep that forgets the entries not seen since it began.
 * Each entry of the caller's array begins with a struct pl_slot. Plain C:
 * no allocation, no I/O.
 */
#ifndef PL_SLOTS_H
#define PL_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_SLOT_NAME_MAX	255	/* a file name's */

struct pl_slot {
	char name[PL_SLOT_NAME_MAX + 1];	/* "" for a free slot */
	int64_t stamp;		/* the caller's: the smallest makes room when full */
	bool seen;		/* since pl_slots_sweep_begin */
};

/* The caller's array: N entries of SIZE bytes, each one's first member a struct pl_slot. */
struct pl_slots {
	void *base;
	size_t size;
	unsigned int n;
	size_t name_max;	/* longer names are not kept: at most PL_SLOT_NAME_MAX */
};

#define PL_SLOTS(arr, max) \
	((struct pl_slots){ (arr), sizeof((arr)[0]), sizeof(arr) / sizeof((arr)[0]), (max) })

void pl_slots_init(const struct pl_slots *t);
struct pl_slot *pl_slots_at(const struct pl_slots *t, unsigned int i);
/* NAME's entry, or NULL. */
struct pl_slot *pl_slots_find(const struct pl_slots *t, const char *name);
/*
 * NAME's entry, or a new one (zeroed, but for its name) in a free slot or,
 * when full, in the slot of the smallest stamp. NULL when NAME is "" or
 * longer than name_max: nothing kept.
 */
struct pl_slot *pl_slots_add(const struct pl_slots *t, const char *name);
void pl_slots_forget(const struct pl_slots *t, const char *name);
/*
 * Around a pass over every name: the entries whose seen the caller did not
 * set in between are forgotten.
 */
void pl_slots_sweep_begin(const struct pl_slots *t);
void pl_slots_sweep_end(const struct pl_slots *t);

#endif
