// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The daemon's retries of refused layers (backoff.h). */
#include "backoff.h"

#define TABLE(b) PL_SLOTS((b)->e, PL_NAME_MAX)

void pl_backoff_init(struct pl_backoff *b)
{
	pl_slots_init(&TABLE(b));
}

static struct pl_backoff_entry *find(struct pl_backoff *b, const char *name)
{
	return (struct pl_backoff_entry *)pl_slots_find(&TABLE(b), name);
}

const struct pl_backoff_entry *pl_backoff_find(const struct pl_backoff *b, const char *name)
{
	return find((struct pl_backoff *)b, name);
}

bool pl_backoff_may_try(struct pl_backoff *b, const char *name, uint64_t fp, int64_t now)
{
	struct pl_backoff_entry *e = find(b, name);

	if (!e)
		return true;
	e->slot.seen = true;
	return e->fp != fp || now >= e->next;
}

bool pl_backoff_failed(struct pl_backoff *b, const char *name, uint64_t fp, int err,
		       int64_t now, unsigned int *delay)
{
	struct pl_backoff_entry *e = find(b, name);
	bool say = true;
	unsigned int i, d;

	*delay = PL_BACKOFF_FIRST;
	if (!e) {
		/* a free slot, else the one refused longest ago */
		e = (struct pl_backoff_entry *)pl_slots_add(&TABLE(b), name);
		if (!e)
			return true;	/* not a layer's name: nothing to remember */
	} else if (e->fp == fp && e->err == err) {
		say = false;
	} else {
		e->failures = 0;
	}
	e->fp = fp;
	e->err = err;
	e->slot.seen = true;
	e->slot.stamp = now;
	/* 1, 2, 4 ... seconds, at most PL_BACKOFF_MAX; no overflow */
	d = PL_BACKOFF_FIRST;
	for (i = 0; i < e->failures && d < PL_BACKOFF_MAX; i++)
		d *= 2;
	if (d > PL_BACKOFF_MAX)
		d = PL_BACKOFF_MAX;
	if (e->failures < 64)
		e->failures++;
	e->next = now + d;
	*delay = d;
	return say;
}

void pl_backoff_clear(struct pl_backoff *b, const char *name)
{
	pl_slots_forget(&TABLE(b), name);
}

void pl_backoff_sweep_begin(struct pl_backoff *b)
{
	pl_slots_sweep_begin(&TABLE(b));
}

void pl_backoff_sweep_end(struct pl_backoff *b)
{
	pl_slots_sweep_end(&TABLE(b));
}

int64_t pl_backoff_next(const struct pl_backoff *b, int64_t now)
{
	int64_t best = -1;
	unsigned int i;

	for (i = 0; i < PL_BACKOFF_SLOTS; i++) {
		int64_t w;

		if (!b->e[i].slot.name[0])
			continue;
		w = b->e[i].next > now ? b->e[i].next - now : 0;
		if (best < 0 || w < best)
			best = w;
	}
	return best;
}

uint64_t pl_fp_add(uint64_t fp, const void *data, unsigned long len)
{
	const unsigned char *p = data;

	while (len--) {
		fp ^= *p++;
		fp *= 0x100000001b3ULL;
	}
	return fp;
}
