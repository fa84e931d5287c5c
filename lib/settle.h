/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * When an inbox delivery is complete. One renamed into the inbox is, by
 * contract (copy elsewhere, then rename). One written in place (cp -r, tar
 * -x, mv from another filesystem) is complete once its tree has not
 * changed for the settle time: the caller fingerprints the tree (names,
 * sizes, times) at each look and says how long ago, by the file times, it
 * last changed; a look that finds another fingerprint starts the wait
 * again. Plain C: no allocation, no I/O; times are the caller's monotonic
 * seconds.
 */
#ifndef PL_SETTLE_H
#define PL_SETTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "slots.h"

#define PL_SETTLE_SLOTS		256	/* deliveries under way remembered */
#define PL_SETTLE_NAME_MAX	PL_SLOT_NAME_MAX	/* of an inbox entry */

struct pl_settle_entry {
	/* its name; stamp: monotonic, when it last changed (the oldest makes room) */
	struct pl_slot slot;
	uint64_t fp;
	bool looked;		/* fp and slot.stamp are set */
	bool renamed;		/* arrived by rename: complete */
	bool said;		/* the daemon said it waits for it */
};

struct pl_settle {
	struct pl_settle_entry e[PL_SETTLE_SLOTS];
};

void pl_settle_init(struct pl_settle *s);
/* NAME was renamed into the inbox (inotify IN_MOVED_TO). */
void pl_settle_renamed(struct pl_settle *s, const char *name);
/*
 * A look at NAME at NOW: FP its tree's fingerprint, AGE how many seconds
 * ago its newest file time is (negative: in the future). Returns 0 when
 * the delivery is complete (to be taken), else the seconds to wait.
 */
unsigned int pl_settle_look(struct pl_settle *s, const char *name, uint64_t fp, int64_t age,
			    int64_t now, unsigned int settle);
/* Whether NAME's wait was said already; it is from now on. */
bool pl_settle_said(struct pl_settle *s, const char *name);
/* NAME was taken or is gone: forgotten. */
void pl_settle_forget(struct pl_settle *s, const char *name);
/* Around a scan of the inbox: the entries not looked at are forgotten. */
void pl_settle_sweep_begin(struct pl_settle *s);
void pl_settle_sweep_end(struct pl_settle *s);

#endif
