/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The daemon's retries of a layer the kernel keeps refusing: each refusal
 * doubles the wait before the next try, from PL_BACKOFF_FIRST up to
 * PL_BACKOFF_MAX seconds, so that a refusal (and the kernel's REJECTED
 * event it causes, which wakes the daemon) never turns into a busy loop.
 * A change of what the refusal depended on (the caller's fingerprint: the
 * layer's files, the trust list, the bases, the intent) retries at once.
 * Plain C: no allocation, no I/O; times are the caller's monotonic seconds.
 */
#ifndef PL_BACKOFF_H
#define PL_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"
#include "slots.h"

#define PL_BACKOFF_FIRST	1	/* seconds before the first retry */
#define PL_BACKOFF_MAX		600	/* seconds between retries, at most */
#define PL_BACKOFF_SLOTS	256	/* layers remembered; the oldest make room */

struct pl_backoff_entry {
	struct pl_slot slot;		/* its name; stamp: the last failure, the oldest goes first */
	uint64_t fp;			/* the fingerprint the refusal was for */
	int err;			/* its errno */
	unsigned int failures;		/* in a row, with that fingerprint */
	int64_t next;			/* no retry before */
};

struct pl_backoff {
	struct pl_backoff_entry e[PL_BACKOFF_SLOTS];
};

void pl_backoff_init(struct pl_backoff *b);
/* Whether NAME may be tried at NOW with fingerprint FP. */
bool pl_backoff_may_try(struct pl_backoff *b, const char *name, uint64_t fp, int64_t now);
/*
 * Records that NAME was refused with ERR at NOW. Returns true when this is
 * to be said (logged and recorded): the first refusal, or one with another
 * error or fingerprint; false for a repetition. *DELAY: seconds until the
 * next retry.
 */
bool pl_backoff_failed(struct pl_backoff *b, const char *name, uint64_t fp, int err,
		       int64_t now, unsigned int *delay);
/* NAME worked, or is gone: forgotten. */
void pl_backoff_clear(struct pl_backoff *b, const char *name);
/*
 * Around a pass over every layer: the layers not asked about in between
 * (gone from the store) are forgotten, so that none waits for nothing.
 */
void pl_backoff_sweep_begin(struct pl_backoff *b);
void pl_backoff_sweep_end(struct pl_backoff *b);
/* NAME's entry while the kernel keeps refusing it (err: why), else NULL. */
const struct pl_backoff_entry *pl_backoff_find(const struct pl_backoff *b, const char *name);
/* Seconds from NOW until the earliest retry (0: due), -1 when none waits. */
int64_t pl_backoff_next(const struct pl_backoff *b, int64_t now);

/* FNV-1a, 64 bits: the fingerprint, built up by the caller. */
#define PL_FP_INIT 0xcbf29ce484222325ULL
uint64_t pl_fp_add(uint64_t fp, const void *data, unsigned long len);

#endif
