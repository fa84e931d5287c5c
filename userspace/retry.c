// SPDX-License-Identifier: GPL-2.0
/* The fingerprint of what a refused layer depends on (retry.h). */
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "retry.h"

/* entries of a layer's tree hashed, at most: the rest is not looked at */
#define PL_RETRY_WALK_MAX 4096

static uint64_t walk_fp;
static unsigned int walk_n;
static int64_t walk_newest;

static uint64_t fp_stat(uint64_t fp, const struct stat *st)
{
	const uint64_t v[] = {
		(uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_mode,
		(uint64_t)st->st_uid, (uint64_t)st->st_size,
		(uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
	};

	return pl_fp_add(fp, v, sizeof(v));
}

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	walk_fp = pl_fp_add(walk_fp, path, strlen(path) + 1);
	walk_fp = pl_fp_add(walk_fp, &type, sizeof(type));
	if (type != FTW_NS) {
		walk_fp = fp_stat(walk_fp, st);
		if (st->st_mtim.tv_sec > walk_newest)
			walk_newest = st->st_mtim.tv_sec;
		if (st->st_ctim.tv_sec > walk_newest)
			walk_newest = st->st_ctim.tv_sec;
	}
	return ++walk_n >= PL_RETRY_WALK_MAX ? FTW_STOP : FTW_CONTINUE;
}

static uint64_t fp_path(uint64_t fp, const char *path)
{
	struct stat st;

	fp = pl_fp_add(fp, path, strlen(path) + 1);
	if (stat(path, &st) == 0)
		fp = fp_stat(fp, &st);
	return fp;
}

uint64_t pl_tree_fingerprint(const char *dir, int64_t *newest)
{
	walk_fp = PL_FP_INIT;
	walk_n = 0;
	walk_newest = 0;
	nftw(dir, walk_one, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	if (newest)
		*newest = walk_newest;
	return walk_fp;
}

uint64_t pl_retry_fingerprint(const char *dir, const struct pl_config *c)
{
	unsigned int i;

	pl_tree_fingerprint(dir, NULL);
	for (i = 0; i < c->n_trust && i < PL_CONFIG_MAX_DIRS; i++)
		walk_fp = fp_path(walk_fp, c->trust[i]);
	/* a package update renames a new base into one of them */
	for (i = 0; i < c->n_protect && i < PL_CONFIG_MAX_DIRS; i++)
		walk_fp = fp_path(walk_fp, c->protect[i]);
	return walk_fp;
}

int64_t pl_boottime_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}
