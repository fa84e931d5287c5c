// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer-generator: a systemd generator (systemd.generator(7)), run at
 * boot and at every "systemctl daemon-reload". For each protected
 * directory, a drop-in for the mount unit systemd makes of the patchlayer
 * mount over it, setting LazyUnmount=yes.
 *
 * Why: the patchlayer mount over a library directory serves the libraries
 * of every process, systemd's own included, so the unmount systemd tries
 * at shutdown can only find it busy ("Failed unmounting ...", then
 * systemd-shutdown's "Failed to unmount ...: Device or resource busy").
 * Detached, as "patchlayer dir unprotect" does, it goes at once and what
 * still runs keeps what it mapped.
 *
 * The directories: those of "protect" in patchlayer.conf, resolved as the
 * daemon resolves them before it mounts, and those the module lists as
 * mounted (a directory protected by hand; every one when patchlayer.conf
 * is broken). Not one that is also the mount point of another filesystem:
 * its unit is that filesystem's too, and LazyUnmount would detach it
 * before systemd-shutdown could sync it.
 *
 * usage: patchlayer-generator NORMAL_DIR [EARLY_DIR LATE_DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/unitname.h"
#include "patchlayer.h"

#define DROPIN		"50-patchlayer.conf"
/* protect's entries and the module's mounts */
#define MAX_DIRS	(2 * PL_CONFIG_MAX_DIRS + 64)

static char dirs[MAX_DIRS][PATH_MAX];
static unsigned int n_dirs;
/* under systemd: the kernel log, which reaches the journal */
static bool to_kmsg;

/* LEVEL: syslog's, for the kernel log's "<N>" */
static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_kmsg)
		fprintf(stderr, "<%d>%s: %s\n", level, pl_prog, msg);
	else
		fprintf(stderr, "%s: %s\n", pl_prog, msg);
}

/*
 * Generators' stderr is the console, which the journal does not read:
 * systemd's own generators log to /dev/kmsg ($SYSTEMD_SCOPE since 251).
 */
static void log_to_kmsg(void)
{
	int fd;

	if (!getenv("SYSTEMD_SCOPE"))
		return;
	fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* stderr stays unbuffered: one write, one kernel log record, a message */
	if (dup2(fd, STDERR_FILENO) == STDERR_FILENO)
		to_kmsg = true;
	close(fd);
}

/* DIR as the daemon mounts it (realpath), once */
static void add_dir(const char *dir)
{
	char real[PATH_MAX];
	const char *d = realpath(dir, real) ? real : dir;

	if (d[0] != '/' || strlen(d) >= PATH_MAX)
		return;
	for (unsigned int i = 0; i < n_dirs; i++)
		if (!strcmp(dirs[i], d))
			return;
	if (n_dirs < MAX_DIRS)
		strcpy(dirs[n_dirs++], d);
}

static int add_mounted_dir(const char *dir, void *unused)
{
	(void)unused;
	add_dir(dir);
	return 0;
}

/* The directories the module has mounted */
static void add_mounted(void)
{
	pl_sysfs_each_mount(add_mounted_dir, NULL);
}

/* Another filesystem's mount point at DIR, in TABLE (fstab or mounts): its type */
static bool other_mount(const char *table, const char *dir, char *type, size_t size)
{
	struct mntent *m;
	bool found = false;
	FILE *f = setmntent(table, "re");

	if (!f)
		return false;
	while (!found && (m = getmntent(f)))
		if (!strcmp(m->mnt_dir, dir) && strcmp(m->mnt_type, "patchlayer")) {
			snprintf(type, size, "%s", m->mnt_type);
			found = true;
		}
	endmntent(f);
	return found;
}

static int write_dropin(int dirfd, const char *unit)
{
	char dir[PL_UNIT_NAME_MAX + 2];
	FILE *f;
	int fd, d;

	snprintf(dir, sizeof(dir), "%s.d", unit);
	if (mkdirat(dirfd, dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	d = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		return -errno;
	fd = openat(d, DROPIN, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	close(d);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	fprintf(f, "# %s: written by patchlayer-generator for a protected\n"
		   "# directory. The patchlayer mount serves the libraries of every\n"
		   "# process, systemd's own included: unmounted at shutdown, it could\n"
		   "# only be busy. Detached, as \"patchlayer dir unprotect\" does, what\n"
		   "# still runs keeps what it mapped.\n"
		   "[Mount]\n"
		   "LazyUnmount=yes\n", unit);
	if (ferror(f) | fclose(f))
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf = pl_config_path();
	struct pl_config_error e;
	struct pl_config cfg;
	int rc = PL_EXIT_OK, err, dirfd;

	pl_prog = "patchlayer-generator";
	if (argc != 2 && argc != 4) {
		say(3, "usage: %s NORMAL_DIR [EARLY_DIR LATE_DIR]", pl_prog);
		return PL_EXIT_USAGE;
	}
	log_to_kmsg();
	err = pl_config_load(conf, &cfg, &e);
	if (!err) {
		for (unsigned int i = 0; i < cfg.n_protect; i++)
			add_dir(cfg.protect[i]);
	} else if (err != -ENOENT) {
		char why[PL_CONFIG_PATH_MAX + 512];

		/* the daemon refuses it too, and says so; what is mounted stays covered */
		pl_config_why(conf, err, &e, why, sizeof(why));
		say(3, "%s", why);
		rc = PL_EXIT_FAIL;
	}
	add_mounted();
	if (!n_dirs)
		return rc;
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		say(3, "%s: %s", argv[1], strerror(errno));
		return PL_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < n_dirs; i++) {
		char unit[PL_UNIT_NAME_MAX], type[64];

		if (other_mount("/etc/fstab", dirs[i], type, sizeof(type)) ||
		    other_mount("/proc/self/mounts", dirs[i], type, sizeof(type))) {
			say(4, "%s: also the mount point of a %s filesystem: no drop-in, its unmount at shutdown may fail",
			    dirs[i], type);
			continue;
		}
		err = pl_unit_name_from_path(dirs[i], "mount", unit, sizeof(unit));
		if (err == -ENAMETOOLONG) {
			/* systemd hashes such a name (unit_name_hash_long()); not done here */
			say(4, "%s: its unit name is longer than 255 bytes: no drop-in", dirs[i]);
			continue;
		}
		if (err) {
			say(3, "%s: no systemd unit name: %s", dirs[i], strerror(-err));
			rc = PL_EXIT_FAIL;
			continue;
		}
		err = write_dropin(dirfd, unit);
		if (err) {
			say(3, "%s/%s.d/%s: %s", argv[1], unit, DROPIN, strerror(-err));
			rc = PL_EXIT_FAIL;
		}
	}
	close(dirfd);
	return rc;
}
