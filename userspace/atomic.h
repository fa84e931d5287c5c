/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PL_ATOMIC_H
#define PL_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/* fsync of the directory DIR (a rename in it made durable). 0 or -errno. */
int pl_fsync_dir(const char *dir);

/*
 * Replaces DIR/NAME with LEN bytes of TEXT: written whole to DIR/.NAME.tmp
 * (not following a symlink there), fsync'd, renamed over DIR/NAME, DIR
 * fsync'd. A reader sees the old file or the new one, never a part. MODE:
 * the new file's, whatever the umask; 0 leaves 0644 less the umask.
 * 0 or -errno; nothing is left behind on failure.
 */
int pl_write_atomic(const char *dir, const char *name, const char *text, size_t len, mode_t mode);

#endif
