// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's metrics (metrics_file, docs/daemon.md "Metrics"): each
 * layer of the store with what the kernel, the BPF side and its manifest
 * say, written by metrics_file.c.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/backoff.h"
#include "../lib/config.h"
#include "layer.h"
#include "metrics.h"
#include "patchlayer.h"
#include "plbpf.h"

/* Room for the labels of one layer, beside its struct pl_metrics_layer. */
struct pl_metrics_labels {
	char name[PL_NAME_MAX + 1];
	char version[PL_VERSION_MAX + 1];
	/* "a,b": the packages and ids of the manifest, cut at the end */
	char package[256];
	char advisory[256];
};

/* "a,b,c" of at most SIZE - 1 bytes: the items that fit whole. */
static void join_add(char *buf, size_t size, const char *s, size_t len)
{
	size_t used = strlen(buf);

	if (used + (used ? 1 : 0) + len >= size)
		return;
	if (used)
		buf[used++] = ',';
	memcpy(buf + used, s, len);
	buf[used + len] = '\0';
}

/*
 * The packages and advisories of the layer's manifest in the store
 * (docs/layer-format.md, "Provenance"); "" for a manifest without them.
 */
static void provenance(const struct pl_config *cfg, const char *name, struct pl_metrics_labels *lb)
{
	struct pl_layer_manifest lm;
	struct pl_manifest_package pk;
	struct pl_str id;
	char path[PATH_MAX];

	lb->package[0] = lb->advisory[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s/manifest", cfg->store, name) >= (int)sizeof(path))
		return;
	if (pl_layer_manifest_load(path, &lm) == 0 && lm.parsed) {
		for (size_t i = 0; i < lm.m.n_packages && !pl_manifest_package(&lm.m, i, &pk); i++)
			join_add(lb->package, sizeof(lb->package), pk.name.s, pk.name.len);
		for (size_t i = 0; i < lm.m.n_advisories && !pl_manifest_advisory(&lm.m, i, &id); i++)
			join_add(lb->advisory, sizeof(lb->advisory), id.s, id.len);
	}
	pl_layer_manifest_free(&lm);
}

/* The BPF side's count of NAME's processes, -1 each when unknown. */
int pl_metrics_usage(struct pl_bpf *bpf, const char *name, long *patched, long *stale)
{
	struct pl_bpf_proc *procs = NULL;
	size_t n = 0, i;
	int err;

	*patched = *stale = -1;
	if (!bpf)
		return -ENODEV;
	err = pl_bpf_usage(bpf, name, &procs, &n);
	if (err)
		return err;
	*patched = *stale = 0;
	for (i = 0; i < n; i++) {
		if (procs[i].kind == PL_BPF_PATCHED)
			(*patched)++;
		else if (procs[i].kind == PL_BPF_STALE)
			(*stale)++;
	}
	free(procs);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct pl_metrics_labels *)a)->name,
		      ((const struct pl_metrics_labels *)b)->name);
}

int pl_metrics_update(struct pl_metrics_out *o, const struct pl_config *cfg, struct pl_bpf *bpf,
		      const struct pl_backoff *backoff, pl_metrics_record_fn record,
		      const struct pl_metrics_daemon *d, bool force, int64_t now)
{
	struct pl_metrics_labels *lbs = NULL;
	struct pl_metrics_layer *ls = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *dir;
	int err;

	if (!o->path || !o->path[0])
		return 1;
	dir = opendir(cfg->store);
	while (dir && (de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 6 || len - 6 > PL_NAME_MAX ||
		    strcmp(de->d_name + len - 6, ".state") ||
		    !pl_name_valid(de->d_name, len - 6))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(lbs, ncap * sizeof(*lbs));

			if (!p)
				break;
			lbs = p;
			cap = ncap;
		}
		snprintf(lbs[n].name, sizeof(lbs[n].name), "%.*s", (int)(len - 6), de->d_name);
		n++;
	}
	if (dir)
		closedir(dir);
	/* a stable order: the text changes only when a layer does */
	if (n)
		qsort(lbs, n, sizeof(*lbs), by_name);
	ls = calloc(n ? n : 1, sizeof(*ls));
	if (!ls) {
		free(lbs);
		return -ENOMEM;
	}
	for (i = 0; i < n; ) {
		struct pl_metrics_layer *l = &ls[i];
		struct pl_metrics_labels *lb = &lbs[i];
		const struct pl_backoff_entry *e;
		char rel[PATH_MAX], hits[32];

		*l = (struct pl_metrics_layer){ .name = lb->name, .version = lb->version,
						.package = lb->package, .advisory = lb->advisory };
		if (record(lb->name, l, lb->version, sizeof(lb->version)) <= 0) {
			/* gone meanwhile: the next one in its place */
			memmove(lb, lb + 1, (n - i - 1) * sizeof(*lb));
			n--;
			continue;
		}
		provenance(cfg, lb->name, lb);
		snprintf(rel, sizeof(rel), "layers/%s/hits", lb->name);
		if (pl_sysfs_read(rel, hits, sizeof(hits)) >= 0) {
			l->hits_known = true;
			l->hits = strtoull(hits, NULL, 10);
		}
		pl_metrics_usage(bpf, lb->name, &l->patched, &l->stale);
		e = backoff ? pl_backoff_find(backoff, lb->name) : NULL;
		if (e && e->err)
			l->refused = pl_errno_name(e->err < 0 ? -e->err : e->err);
		i++;
	}
	/* the labels moved: point at them again */
	for (i = 0; i < n; i++) {
		ls[i].name = lbs[i].name;
		ls[i].version = lbs[i].version;
		ls[i].package = lbs[i].package;
		ls[i].advisory = lbs[i].advisory;
	}
	err = pl_metrics_publish(o, d, ls, n, force, now);
	free(ls);
	free(lbs);
	return err;
}
