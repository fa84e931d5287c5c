// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer-generator: a systemd generator (systemd.generator(7)), run at
 * boot and at every "systemctl daemon-reload". For each directory
 * patchlayer.conf protects, a drop-in for the mount unit systemd makes of
 * the patchlayer mount over it, setting LazyUnmount=yes.
 *
 * Why: the patchlayer mount over a library directory serves the libraries
 * of every process, systemd's own included, so the unmount systemd tries
 * at shutdown can only find it busy ("Failed unmounting ...", then
 * systemd-shutdown's "Failed to unmount ...: Device or resource busy").
 * Detached, as "patchlayer dir unprotect" does, it goes at once and what
 * still runs keeps what it mapped.
 *
 * usage: patchlayer-generator NORMAL_DIR [EARLY_DIR LATE_DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/unitname.h"
#include "patchlayer.h"

#define DROPIN "50-patchlayer.conf"

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
	fprintf(f, "# %s: written by patchlayer-generator, as patchlayer.conf\n"
		   "# protects its directory. The patchlayer mount serves the libraries of\n"
		   "# every process, systemd's own included: unmounted at shutdown, it could\n"
		   "# only be busy. Detached, as \"patchlayer dir unprotect\" does, what still\n"
		   "# runs keeps what it mapped.\n"
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
	int rc = 0, err, dirfd;

	pl_prog = "patchlayer-generator";
	if (argc != 2 && argc != 4) {
		pl_err("usage: %s NORMAL_DIR [EARLY_DIR LATE_DIR]", pl_prog);
		return PL_EXIT_USAGE;
	}
	err = pl_config_load(conf, &cfg, &e);
	/* no configuration, nothing protected */
	if (err == -ENOENT)
		return 0;
	if (err) {
		/* the daemon refuses it too, and says so */
		pl_config_say(conf, err, &e);
		return PL_EXIT_FAIL;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pl_err_sys(errno, "%s", argv[1]);
		return PL_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < cfg.n_protect; i++) {
		char unit[PL_UNIT_NAME_MAX];

		err = pl_unit_name_from_path(cfg.protect[i], "mount", unit, sizeof(unit));
		if (err) {
			pl_err_sys(err, "%s: no systemd unit name", cfg.protect[i]);
			rc = PL_EXIT_FAIL;
			continue;
		}
		err = write_dropin(dirfd, unit);
		if (err) {
			pl_err_sys(err, "%s/%s.d/%s", argv[1], unit, DROPIN);
			rc = PL_EXIT_FAIL;
		}
	}
	close(dirfd);
	return rc;
}
