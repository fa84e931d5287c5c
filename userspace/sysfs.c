// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patchlayer.h"

/* PATCHLAYER_SYSFS lets the unit tests point at a fake tree. */
const char *pl_sysfs_dir(void)
{
	const char *dir = getenv("PATCHLAYER_SYSFS");

	return dir && *dir ? dir : "/sys/kernel/patchlayer";
}

int pl_sysfs_read(const char *name, char *buf, size_t size)
{
	char path[4096];
	ssize_t n;
	int fd, err;

	if (size == 0)
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", pl_sysfs_dir(), name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (int)n;
}

int pl_sysfs_each_mount(int (*fn)(const char *dir, void *arg), void *arg)
{
	char path[PATH_MAX + 32], line[PATH_MAX + 2];
	int rc = 0, err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/mounts", pl_sysfs_dir());
	f = fopen(path, "re");
	if (!f)
		return -errno;
	errno = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			rc = fn(line, arg);
	}
	/* the failed read's own errno (fgets() is the loop's last call) */
	err = ferror(f) ? -(errno ? errno : EIO) : 0;
	fclose(f);
	return rc ? rc : err;
}

static int same_dir(const char *dir, void *wanted)
{
	return strcmp(dir, wanted) == 0;
}

bool pl_dir_protected(const char *dir)
{
	return pl_sysfs_each_mount(same_dir, (void *)dir) == 1;
}

bool pl_module_loaded(void)
{
	struct stat st;

	return stat(pl_sysfs_dir(), &st) == 0 && S_ISDIR(st.st_mode);
}

int pl_module_missing(void)
{
	pl_err_sys(ENOENT, "module not loaded: %s", pl_sysfs_dir());
	fprintf(stderr, "hint: modprobe patchlayer\n");
	return PL_EXIT_NOMOD;
}
