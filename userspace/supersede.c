// SPDX-License-Identifier: GPL-2.0
/*
 * Which package version superseded a layer: when the kernel reports that
 * a base was replaced, dpkg's database says which package owns the base
 * now (dpkg-query --search) and at which version (dpkg-query --show).
 * Compared with the layer's own "package:" line (docs/layer-format.md,
 * "Provenance"): a version older than the fix is a downgrade, no fix, and
 * the record and the history say so.
 *
 * The kernel's event comes while dpkg is unpacking (the new file renamed
 * into place), before dpkg records the new version: then the package is
 * "half-installed" and the answer waits for dpkg's next write to its
 * database, which the daemon watches (PL_DPKG_DIR).
 *
 * Nor is its database asked while dpkg holds its lock: dpkg-query reads
 * the status file and then the journal (updates/) without the lock, and
 * a checkpoint of dpkg's between the two (the status file replaced, the
 * journal emptied) shows the status from before dpkg's run: the base's
 * old version, recorded for good. The lock's release closes its file,
 * which the daemon's watch sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "run.h"
#include "layer.h"

/*
 * The package owning TARGET and its version: 0, -EAGAIN while dpkg is
 * unpacking it, -ENOENT when no package owns TARGET.
 */
static int base_owner(const char *target, char *pkg, size_t pkg_size, char *ver, size_t ver_size)
{
	char *const search[] = { "dpkg-query", "--search", (char *)target, NULL };
	char *out = NULL, *line, *next, *colon, *comma, *sp;
	int err = -ENOENT;

	if (pl_run_capture(search, &out, true))
		return -ENOENT;
	/* "libexpat1:amd64: /lib/x86_64-linux-gnu/libexpat.so.1.8.10"; diversions first */
	for (line = out; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "diversion ", 10) == 0)
			continue;
		colon = strstr(line, ": ");
		comma = strchr(line, ',');
		if (!colon || (comma && comma < colon))
			continue;	/* "a, b: path": a shared path tells no single owner */
		*colon = '\0';
		snprintf(pkg, pkg_size, "%s", line);
		err = 0;
		break;
	}
	free(out);
	if (err)
		return err;
	{
		char *const show[] = { "dpkg-query", "--show",
				       "--showformat=${db:Status-Status} ${Version}", pkg, NULL };

		if (pl_run_capture(show, &out, true))
			return -ENOENT;
	}
	sp = strchr(out, ' ');
	if (!sp || !strncmp(out, "half-installed ", 15) || !strncmp(out, "not-installed ", 14)) {
		free(out);
		return -EAGAIN;	/* dpkg is at it: its next write tells */
	}
	snprintf(ver, ver_size, "%s", sp + 1);
	free(out);
	return 0;
}

/* Whether dpkg holds its database lock (as dpkg's own modstatdb_is_locked() asks). */
static bool dpkg_locked(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(PL_DPKG_DIR "/lock", O_RDONLY | O_CLOEXEC);
	bool locked;

	if (fd < 0)
		return false;	/* no dpkg, or never run: nothing to wait for */
	locked = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return locked;
}

/* Whether dpkg's status file is the one BEFORE was taken of: no checkpoint since. */
static bool dpkg_status_same(const struct stat *before)
{
	struct stat now;

	return stat(PL_DPKG_DIR "/status", &now) == 0 && pl_stat_same(&now, before);
}

/* "/lib/X" and "/usr/lib/X" are one file on a merged /usr; dpkg knows the packaged one. */
static int base_owner_any(const char *target, char *pkg, size_t pkg_size, char *ver, size_t ver_size)
{
	char other[PATH_MAX];
	int err = base_owner(target, pkg, pkg_size, ver, ver_size);

	if (err != -ENOENT)
		return err;
	if (!strncmp(target, "/usr/lib/", 9))
		snprintf(other, sizeof(other), "%s", target + 4);
	else if (!strncmp(target, "/lib/", 5))
		snprintf(other, sizeof(other), "/usr%s", target);
	else
		return err;
	return base_owner(other, pkg, pkg_size, ver, ver_size);
}

void supersede_record(const char *name, struct pl_record *r)
{
	char mpath[PATH_MAX], pkg[PL_DEB_NAME_MAX + 32], ver[PL_DEB_VERSION_MAX + 1];
	struct pl_provenance *p = NULL;
	struct pl_log_about about;
	struct pl_layer_manifest lm;
	const char *fixed = NULL;
	struct stat before;
	bool have_status;
	int err = -ENOENT;

	if (r->want != PL_WANT_SUPERSEDED || r->superseded_by[0])
		return;
	if (dpkg_locked())
		return;	/* dpkg at work: asked again when it writes or lets go */
	/* none: no dpkg, whose queries then fail (no owner) */
	have_status = stat(PL_DPKG_DIR "/status", &before) == 0;
	if (snprintf(mpath, sizeof(mpath), "%s/%s/manifest", cfg.store, name) >= (int)sizeof(mpath))
		return;
	if (pl_layer_manifest_load(mpath, &lm)) {
		pl_layer_manifest_free(&lm);
		return;
	}
	/* the first base a package owns names the package that replaced it */
	for (size_t i = 0; i < lm.m.n_files && err == -ENOENT; i++) {
		char *target = pl_str_dup(lm.files[i].target);

		if (target)
			err = base_owner_any(target, pkg, sizeof(pkg), ver, sizeof(ver));
		free(target);
	}
	/*
	 * dpkg started again while we asked (apt lets go of the lock between
	 * its dpkg runs): the answer may be torn, a failed query taken for
	 * "no owner"; the next event asks again.
	 */
	if (dpkg_locked() || (have_status && !dpkg_status_same(&before))) {
		pl_layer_manifest_free(&lm);
		return;
	}
	if (err) {
		if (err == -ENOENT)
			snprintf(r->superseded_by, sizeof(r->superseded_by), "-");
		pl_layer_manifest_free(&lm);
		if (err == -ENOENT)
			record_write(name, r);	/* no package owns its bases: nothing to wait for */
		return;
	}
	pkg[strcspn(pkg, ":")] = '\0';	/* the architecture qualifier */
	about = (struct pl_log_about){ .layer = name, .version = r->version, .package = pkg };
	p = calloc(1, sizeof(*p));
	if (p) {
		pl_provenance_of(&lm.m, p);
		for (size_t i = 0; i < p->n_packages; i++)
			if (!strcmp(p->packages[i].name, pkg))
				fixed = p->packages[i].fixed;
	}
	if (snprintf(r->superseded_by, sizeof(r->superseded_by), "%s %s", pkg, ver) >=
	    (int)sizeof(r->superseded_by))
		r->superseded_by[sizeof(r->superseded_by) - 2] = '.';	/* cut, never empty */
	if (fixed && pl_deb_version_cmp(ver, strlen(ver), fixed, strlen(fixed)) < 0) {
		snprintf(r->why, sizeof(r->why),
			 "%s %s replaced its base, older than the fix %s: a downgrade is not a fix",
			 pkg, ver, fixed);
		history_about(LOG_WARNING, name, &about,
			      "superseded by %s %s, older than the fix %s: a downgrade is not a fix",
			      pkg, ver, fixed);
	} else {
		snprintf(r->why, sizeof(r->why), "a package update replaced its base: %s %s%s",
			 pkg, ver, fixed ? "" : " (the layer names no version of it)");
		history_about(LOG_NOTICE, name, &about, "superseded by %s %s", pkg, ver);
	}
	record_write(name, r);
	free(p);
	pl_layer_manifest_free(&lm);
}

static int supersede_one(const char *name, void *ctx)
{
	struct pl_record r;

	(void)ctx;
	if (record_read(name, &r) > 0)
		supersede_record(name, &r);
	return 0;
}

void supersede_record_all(void)
{
	store_walk(supersede_one, NULL);
}
