/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PL_ATOMIC_H
#define PL_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* fsync of the directory DIR (a rename in it made durable). 0 or -errno. */
int pl_fsync_dir(const char *dir);

/*
 * Replaces DIR/NAME with LEN bytes of TEXT: written whole to DIR/.NAME.tmp
 * (not following a symlink there), renamed over DIR/NAME. A reader sees the
 * old file or the new one, never a part. DURABLE: the file fsync'd before
 * the rename and DIR after it, for state that must survive a crash; a file
 * rewritten every interval anyway (the metrics) spares the disk. MODE: the
 * new file's, whatever the umask; 0 leaves 0644 less the umask. 0 or
 * -errno; nothing is left behind on failure.
 */
int pl_write_atomic(const char *dir, const char *name, const char *text, size_t len, mode_t mode,
		    bool durable);

#endif
