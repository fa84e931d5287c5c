/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PL_READFILE_H
#define PL_READFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * Reads the regular file PATH whole into a malloc'ed, NUL-terminated
 * buffer (the NUL is not counted in LEN). Returns 0 or -errno: -EFBIG
 * past MAX bytes, -EINVAL if PATH is not a regular file, as the kernel's
 * kernel_read_file() does.
 */
int pl_read_file(const char *path, size_t max, char **buf, size_t *len);

/*
 * Opens PATH read-only if it is a regular file. With NOFOLLOW a final
 * symlink is not followed, as the module's pl_open_regular(). ST gets
 * what PATH is, even when that is not a regular file (then -EINVAL).
 * Returns the descriptor or -errno.
 */
int pl_open_regular(const char *path, bool nofollow, struct stat *st);

/*
 * Whether A and B are the same file unchanged: device, inode, size, and
 * modification and change times to the nanosecond (a file replaced by
 * rename, or written, in between).
 */
bool pl_stat_same(const struct stat *a, const struct stat *b);

#endif
