/* SPDX-License-Identifier: GPL-2.0 */
/* What show, inbox and the dry runs look at: packages and processes. */
#ifndef PL_INSPECT_H
#define PL_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "patchlayer.h"

/* dpkg.c */
/*
 * For each of the N PATHS, the packages whose file lists name it (or its
 * /usr-merged alias), "a, b" malloc'ed into OWNERS[i], NULL for none.
 * Reads $DPKG_ADMINDIR (default /var/lib/dpkg)/info/PACKAGE.list. 0 or -errno.
 */
int pl_dpkg_owners(const char *const *paths, size_t n, char **owners);

/* mappers.c */
struct pl_mapper {
	pid_t pid;
	char comm[64];
	char unit[256];		/* its systemd unit, "" if unknown */
};

/*
 * The processes but this one with an executable mapping of one of the N
 * PATHS (NULL entries skipped), as /proc/PID/maps names the files. 0 or
 * -errno; *OUT malloc'ed.
 */
int pl_mappers(const char *const *paths, size_t n, struct pl_mapper **out, size_t *count);

/* inspect.c */
/*
 * "install/activate --dry-run NAME": what VERB would do, whether the base
 * fits, which processes would keep the old code and which of their units
 * restart_services would restart; changes nothing. The exit code the
 * verb would have (1 when it would be refused).
 */
int pl_dry_run(const char *verb, const char *name, const struct pl_opts *o);

#endif
