// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The daemon's retries of refused layers (backoff.h). */
#include <string.h>

#include "backoff.h"

void pl_backoff_init(struct pl_backoff *b)
{
	memset(b, 0, sizeof(*b));
}

static struct pl_backoff_entry *find(const struct pl_backoff *b, const char *name)
{
	unsigned int i;

	if (!name[0])
		return NULL;
	for (i = 0; i < PL_BACKOFF_SLOTS; i++)
		if (strncmp(b->e[i].name, name, sizeof(b->e[i].name)) == 0)
			return (struct pl_backoff_entry *)&b->e[i];
	return NULL;
}

bool pl_backoff_may_try(struct pl_backoff *b, const char *name, uint64_t fp, int64_t now)
{
	struct pl_backoff_entry *e = find(b, name);

	if (!e)
		return true;
	e->seen = true;
	return e->fp != fp || now >= e->next;
}

bool pl_backoff_failed(struct pl_backoff *b, const char *name, uint64_t fp, int err,
		       int64_t now, unsigned int *delay)
{
	struct pl_backoff_entry *e = find(b, name);
	bool say = true;
	unsigned int i, d;

	*delay = PL_BACKOFF_FIRST;
	if (strnlen(name, PL_NAME_MAX + 1) > PL_NAME_MAX)
		return true;	/* not a layer's name: nothing to remember */
	if (!e) {
		/* a free slot, else the one refused longest ago */
		e = &b->e[0];
		for (i = 0; i < PL_BACKOFF_SLOTS && e->name[0]; i++)
			if (!b->e[i].name[0] || b->e[i].last < e->last)
				e = &b->e[i];
		memset(e, 0, sizeof(*e));
		strcpy(e->name, name);
	} else if (e->fp == fp && e->err == err) {
		say = false;
	} else {
		e->failures = 0;
	}
	e->fp = fp;
	e->err = err;
	e->seen = true;
	e->last = now;
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
	struct pl_backoff_entry *e = find(b, name);

	if (e)
		memset(e, 0, sizeof(*e));
}

void pl_backoff_sweep_begin(struct pl_backoff *b)
{
	unsigned int i;

	for (i = 0; i < PL_BACKOFF_SLOTS; i++)
		b->e[i].seen = false;
}

void pl_backoff_sweep_end(struct pl_backoff *b)
{
	unsigned int i;

	for (i = 0; i < PL_BACKOFF_SLOTS; i++)
		if (b->e[i].name[0] && !b->e[i].seen)
			memset(&b->e[i], 0, sizeof(b->e[i]));
}

int64_t pl_backoff_next(const struct pl_backoff *b, int64_t now)
{
	int64_t best = -1;
	unsigned int i;

	for (i = 0; i < PL_BACKOFF_SLOTS; i++) {
		int64_t w;

		if (!b->e[i].name[0])
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
