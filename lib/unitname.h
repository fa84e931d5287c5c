/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The name systemd gives the unit of a path, as "systemd-escape --path
 * --suffix=SUFFIX" prints it (systemd.unit(5), "String Escaping for
 * Inclusion in Unit Names"): the name of the mount unit systemd makes for
 * a patchlayer mount, for the drop-in patchlayer-generator writes. Plain
 * C: no allocation, no I/O.
 */
#ifndef PL_UNITNAME_H
#define PL_UNITNAME_H

#include <stddef.h>

/*
 * systemd's UNIT_NAME_MAX: a longer name (with its NUL) is not used as it
 * is; systemd 252 hashes it (unit_name_hash_long()), which is not done here.
 */
#define PL_UNIT_NAME_MAX	256

/*
 * The unit name of PATH with SUFFIX ("mount") in OUT of SIZE bytes: 0, or
 * -EINVAL (PATH not absolute, or with a ".." component), -ENAMETOOLONG (the
 * name has PL_UNIT_NAME_MAX bytes or more with its NUL, or does not fit in
 * SIZE). PATH is simplified as systemd does: repeated and trailing
 * slashes and "." components dropped; "/" is "-".
 */
int pl_unit_name_from_path(const char *path, const char *suffix, char *out, size_t size);

#endif
