// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded reads of regular files (manifests, signatures, patchlayer.conf):
 * never a FIFO or device in a file's place, never more than the caller's
 * limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "readfile.h"

int pl_open_regular(const char *path, bool nofollow, struct stat *st)
{
	/* O_NONBLOCK: a FIFO put in a file's place must not hang us */
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct stat local;
	int fd;

	if (!st)
		st = &local;
	if ((nofollow ? lstat(path, st) : stat(path, st)) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (nofollow)
		flags |= O_NOFOLLOW;
	fd = open(path, flags);
	if (fd < 0)
		/* a symlink swapped in since the lstat() */
		return errno == ELOOP && nofollow ? -EINVAL : -errno;
	/* and what we opened is what we looked at */
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int pl_read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	size_t len = 0, cap;
	struct stat st;
	char *buf;
	int fd, err = 0;

	*bufp = NULL;
	*lenp = 0;
	fd = pl_open_regular(path, false, &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	/* st_size is a hint: the file may grow or shrink while we read */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	while (buf) {
		ssize_t n;

		if (len == cap) {
			char *bigger;

			if (cap > max) {
				err = -EFBIG;
				break;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf)
		err = -ENOMEM;
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

bool pl_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}
