/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Debian packages (debpkg.c): what "build --from-deb" takes from them.
 */
#ifndef PL_DEBPKG_H
#define PL_DEBPKG_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/manifest.h"

/* Exit status of build when the fixed packages cannot make a layer. */
#define PL_EXIT_NOT_A_LAYER	4

struct pl_deb_package {
	char *name, *base, *fixed;
};

struct pl_from_debs {
	/* in */
	char **fixed;			/* --from-deb */
	size_t n_fixed;
	char **base_debs;		/* --base-deb */
	size_t n_base_debs;
	const char *base_root;		/* --base-root, when no --base-deb */
	/* out */
	char *tmp;			/* private extraction directory */
	char *base_tree;		/* where the bases are: tmp/base or base_root */
	char **files;			/* "REPLACEMENT=TARGET", as build's arguments */
	size_t n_files;
	char *source, *source_version;
	struct pl_deb_package pkgs[PL_MANIFEST_MAX_PACKAGES];
	size_t n_pkgs;
};

/*
 * Extracts the packages into a private directory and compares each fixed
 * package's files under the library directories with its base. Returns 0
 * with the replacements and the provenance, -1 on a failure (said), or
 * -PL_EXIT_NOT_A_LAYER when a library file is added, removed or renamed
 * (each listed on stderr).
 */
int pl_from_debs(struct pl_from_debs *d);
void pl_from_debs_free(struct pl_from_debs *d);

#endif
