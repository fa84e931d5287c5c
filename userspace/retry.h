/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PL_RETRY_H
#define PL_RETRY_H

#include <stdint.h>

#include "../lib/backoff.h"
#include "../lib/config.h"

/*
 * What a kernel refusal of the layer in DIR may depend on, as a
 * fingerprint (lib/backoff.h): its files (names, inodes, sizes, times), the
 * certificates of the trust key and the directories of the protect key.
 */
uint64_t pl_retry_fingerprint(const char *dir, const struct pl_config *c);
/*
 * The fingerprint of the tree at DIR alone (not following symlinks, its
 * first 4096 entries), and in *NEWEST its newest mtime or ctime (seconds
 * since the epoch).
 */
uint64_t pl_tree_fingerprint(const char *dir, int64_t *newest);
/* Seconds of CLOCK_BOOTTIME: it goes on in suspend, never jumps back. */
int64_t pl_boottime_s(void);

#endif
