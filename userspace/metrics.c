// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's metrics (metrics_file, docs/daemon.md "Metrics"): each
 * layer of the store with what its record, the kernel, the BPF side, the
 * retries and its manifest say, published by metrics_file.c: on each
 * change and every metrics_interval (the health timer, health.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "layer.h"
#include "metrics.h"
#include "patchlayer.h"
#include "plbpf.h"
#include "retry.h"

/* a label value: at most 255 bytes (docs/daemon.md, "Metrics") */
#define LABEL_SIZE	256

/* Room for the labels of one layer, beside its struct pl_metrics_layer. */
struct pl_metrics_labels {
	char name[PL_NAME_MAX + 1];
	char version[PL_VERSION_MAX + 1];
	/* "a,b": the packages and ids of the manifest, "a,b,+N more" when cut */
	char package[LABEL_SIZE];
	char advisory[LABEL_SIZE];
};

int pl_metrics_layer_known(struct pl_bpf *bpf, const char *name)
{
	struct pl_bpf_layer info;

	return bpf ? pl_bpf_layer(bpf, name, &info) : -ENODEV;
}

int pl_metrics_usage(const struct pl_bpf_proc *procs, size_t n, int err, const char *name,
		     long *patched, long *stale)
{
	*patched = *stale = -1;
	if (err)
		return err;
	*patched = (long)pl_bpf_count(procs, n, name, PL_BPF_PATCHED);
	*stale = (long)pl_bpf_count(procs, n, name, PL_BPF_STALE);
	return 0;
}

/*
 * Per layer, what a rewrite at rest needs without opening a file: its
 * record as last read, kept until this daemon writes it (metrics_forget())
 * or its file's stat() changes (a verb's write, by rename); its manifest's
 * labels, which do not change while it is in the store; and its hits
 * attribute held open, read again with pread() (sysfs shows a fresh value
 * at offset 0), or known absent (a layer not loaded). Dropped after the
 * daemon's steps, which load and unload layers.
 */
#define HITS_ABSENT	(-2)
/* held attributes at most: one descriptor per loaded layer, which the kernel does not bound */
#define HITS_HELD_MAX	64

static struct {
	struct kept_layer {
		char name[PL_NAME_MAX + 1];
		bool have_record, have_labels;
		struct stat st;
		struct pl_record r;
		char package[LABEL_SIZE], advisory[LABEL_SIZE];
		int hits_fd;	/* or -1 not opened yet, HITS_ABSENT */
	} *v;
	size_t n, held;
} layers;

static void layers_drop(void)
{
	for (size_t i = 0; i < layers.n; i++)
		if (layers.v[i].hits_fd >= 0)
			close(layers.v[i].hits_fd);
	free(layers.v);
	layers.v = NULL;
	layers.n = layers.held = 0;
}

void metrics_forget(const char *name)
{
	for (size_t i = 0; i < layers.n; i++)
		if (strcmp(layers.v[i].name, name) == 0)
			layers.v[i].have_record = false;
}

/* NAME's entry, added when missing; NULL when out of memory. */
static struct kept_layer *kept_layer(const char *name)
{
	struct kept_layer *k;

	for (size_t i = 0; i < layers.n; i++)
		if (strcmp(layers.v[i].name, name) == 0)
			return &layers.v[i];
	k = realloc(layers.v, (layers.n + 1) * sizeof(*k));
	if (!k)
		return NULL;
	layers.v = k;
	k += layers.n++;
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->hits_fd = -1;
	return k;
}

/*
 * The packages and advisories of the layer's manifest in the store
 * (docs/layer-format.md, "Provenance"); "" for a manifest without them.
 * Read once while the layer is kept.
 */
static void provenance(const char *name, struct pl_metrics_labels *lb)
{
	static struct pl_provenance pv;	/* 10 KiB: not on the stack */
	struct kept_layer *k = kept_layer(name);
	char dir[PATH_MAX];
	unsigned int left = 0;
	size_t i;

	if (k && k->have_labels) {
		memcpy(lb->package, k->package, sizeof(lb->package));
		memcpy(lb->advisory, k->advisory, sizeof(lb->advisory));
		return;
	}
	lb->package[0] = lb->advisory[0] = '\0';
	if (snprintf(dir, sizeof(dir), "%s/%s", cfg.store, name) >= (int)sizeof(dir) ||
	    pl_layer_provenance(dir, &pv))
		return;
	for (i = 0; i < pv.n_packages; i++)
		pl_label_join(lb->package, sizeof(lb->package), pv.packages[i].name,
			      strlen(pv.packages[i].name), &left);
	pl_label_join_end(lb->package, sizeof(lb->package), left);
	left = 0;
	for (i = 0; i < pv.n_advisories; i++)
		pl_label_join(lb->advisory, sizeof(lb->advisory), pv.advisories[i],
			      strlen(pv.advisories[i]), &left);
	pl_label_join_end(lb->advisory, sizeof(lb->advisory), left);
	if (k) {
		memcpy(k->package, lb->package, sizeof(k->package));
		memcpy(k->advisory, lb->advisory, sizeof(k->advisory));
		k->have_labels = true;
	}
}

/* record_read() of NAME, kept while its file is the one read last. */
static int record_kept(const char *name, struct pl_record *r)
{
	struct kept_layer *k;
	char path[PATH_MAX];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "%s/%s.state", cfg.store, name);
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : record_read(name, r);
	k = kept_layer(name);
	if (k && k->have_record && pl_stat_same(&k->st, &st)) {
		*r = k->r;
		return 1;
	}
	/* stat() before the read: a record replaced in between is read again next time */
	ret = record_read(name, r);
	if (ret > 0 && k) {
		k->have_record = true;
		k->st = st;
		k->r = *r;
	}
	return ret;
}

/* NAME's hits counter in the kernel; false when it cannot be read. */
static bool hits_kept(const char *name, uint64_t *hits)
{
	struct kept_layer *k = kept_layer(name);
	char path[PATH_MAX], buf[32];
	ssize_t n = -1;

	if (!k || k->hits_fd == HITS_ABSENT)
		return false;
	if (k->hits_fd < 0 && layers.held >= HITS_HELD_MAX) {
		snprintf(path, sizeof(path), "layers/%s/hits", name);
		if (pl_sysfs_read(path, buf, sizeof(buf)) < 0)
			return false;
		*hits = strtoull(buf, NULL, 10);
		return true;
	}
	/* a layer unloaded and loaded again since: its old attribute says ENODEV */
	for (int tries = 0; tries < 2 && n < 0; tries++) {
		if (k->hits_fd < 0) {
			snprintf(path, sizeof(path), "%s/layers/%s/hits", pl_sysfs_dir(), name);
			k->hits_fd = open(path, O_RDONLY | O_CLOEXEC);
			if (k->hits_fd < 0) {
				/* not loaded: looked for again after the next step */
				k->hits_fd = errno == ENOENT ? HITS_ABSENT : -1;
				return false;
			}
			layers.held++;
		}
		n = pread(k->hits_fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			close(k->hits_fd);
			k->hits_fd = -1;
			layers.held--;
		}
	}
	if (n <= 0)
		return false;
	buf[n] = '\0';
	*hits = strtoull(buf, NULL, 10);
	return true;
}

/* The names of the store's layers, in store_walk()'s (alphabetical) order. */
struct names {
	struct pl_metrics_labels *lbs;
	size_t n, cap;
};

static int add_name(const char *name, void *ctx)
{
	struct names *w = ctx;

	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		void *p = realloc(w->lbs, ncap * sizeof(*w->lbs));

		if (!p)
			return -ENOMEM;
		w->lbs = p;
		w->cap = ncap;
	}
	snprintf(w->lbs[w->n].name, sizeof(w->lbs[w->n].name), "%s", name);
	w->n++;
	return 0;
}

/*
 * The last scan's answer, kept while the BPF side counts no change that
 * could alter it: a daemon at rest rewrites its metrics every interval
 * from it, without a visit of every process (O(changes)).
 */
static struct {
	struct pl_bpf_proc *procs;
	size_t n;
	struct pl_bpf_answer_gen gen;
	bool valid;
	/*
	 * each layer's counts, counted once per answer: at 10,000 processes
	 * and 16 layers a count walks 160,000 entries
	 */
	struct kept_usage {
		char name[PL_NAME_MAX + 1];
		long patched, stale;
	} *usage;
	size_t n_usage;
} kept;

static void kept_drop(void)
{
	free(kept.procs);
	free(kept.usage);
	kept.procs = NULL;
	kept.usage = NULL;
	kept.n = kept.n_usage = 0;
	kept.valid = false;
}

/*
 * NAME's processes in the kept answer (pl_metrics_usage()), counted once
 * per answer, with whether the BPF side knows NAME: its layers come and go
 * only with the daemon's steps (pl_bpf_sync), after which
 * metrics_reconciled() makes the next rewrite scan again, dropping these.
 */
static void layer_usage(const char *name, long *patched, long *stale)
{
	struct kept_usage *k;
	size_t i;

	for (i = 0; i < kept.n_usage; i++)
		if (strcmp(kept.usage[i].name, name) == 0) {
			*patched = kept.usage[i].patched;
			*stale = kept.usage[i].stale;
			return;
		}
	pl_metrics_usage(kept.procs, kept.n, pl_metrics_layer_known(bpf, name), name, patched,
			 stale);
	k = realloc(kept.usage, (kept.n_usage + 1) * sizeof(*k));
	if (!k)
		return;
	kept.usage = k;
	k += kept.n_usage++;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->patched = *patched;
	k->stale = *stale;
}

/* One scan's answer for every layer in KEPT, scanned again only when something changed */
static int scan_all(void)
{
	struct pl_bpf_answer_gen g;
	int gen_err, err;

	if (!bpf)
		return -ENODEV;
	/* before the scan: a change during it is seen next time */
	gen_err = pl_bpf_answer_gen(bpf, &g);
	if (!gen_err && kept.valid && g.changes == kept.gen.changes && g.wgen == kept.gen.wgen)
		return 0;
	kept_drop();
	err = pl_bpf_usage(bpf, NULL, &kept.procs, &kept.n);
	if (err)
		return err;
	kept.gen = g;
	kept.valid = !gen_err;
	return 0;
}

/* What the store, the kernel, the BPF side and the manifest say of W's layers. */
static void fill(struct names *w, struct pl_metrics_layer *ls)
{
	size_t i, n = 0;
	/* one scan answers for every layer; none for no layer */
	int scan_err = w->n ? scan_all() : 0;

	for (i = 0; i < w->n; i++) {
		struct pl_metrics_labels *lb = &w->lbs[i];
		struct pl_metrics_layer *l = &ls[n];
		const struct pl_backoff_entry *e;
		struct pl_record r;

		if (record_kept(lb->name, &r) <= 0)
			continue;	/* gone meanwhile */
		if (n != i)
			w->lbs[n] = *lb;
		lb = &w->lbs[n];
		snprintf(lb->version, sizeof(lb->version), "%s", r.version);
		provenance(lb->name, lb);
		*l = (struct pl_metrics_layer){
			.name = lb->name, .version = lb->version, .package = lb->package,
			.advisory = lb->advisory, .want = r.want, .activated_at = r.activated_at,
			.crashes = r.crashes,
		};
		l->hits_known = hits_kept(lb->name, &l->hits);
		if (scan_err)
			l->patched = l->stale = -1;
		else
			layer_usage(lb->name, &l->patched, &l->stale);
		e = pl_backoff_find(&backoff, lb->name);
		if (e && e->err)
			l->refused = pl_errno_name(e->err < 0 ? -e->err : e->err);
		n++;
	}
	w->n = n;
}

static struct pl_metrics_out out;
static int64_t started, reconciled;
static int said;	/* the last error said in the log, 0 none */

void metrics_reconciled(void)
{
	if (!started)
		started = now_s();
	reconciled = now_s();
	/* the daemon's own steps (loads, unloads, syncs): scanned and read again */
	kept.valid = false;
	layers_drop();
}

void metrics_write(bool up)
{
	struct pl_metrics_daemon d = {
		.up = up, .version = PL_VERSION, .start_time = started,
		.last_reconcile = reconciled, .crash_watch = bpf != NULL,
	};
	struct names w = { 0 };
	struct pl_metrics_layer *ls;
	int err;

	out.path = cfg.metrics_file;
	out.interval = cfg.metrics_interval;
	if (!out.path[0])
		return;
	if (!started)
		started = now_s();
	/* no directory (no node_exporter): looked for again each interval only */
	if (up && said == -ENOENT && metrics_due_in() > 0)
		return;
	store_walk(add_name, &w);
	ls = calloc(w.n ? w.n : 1, sizeof(*ls));
	if (!ls) {
		free(w.lbs);
		return;
	}
	fill(&w, ls);
	/* the last write, at exit, is written whatever the last one said */
	err = pl_metrics_publish(&out, &d, ls, w.n, !up, pl_boottime_s());
	free(ls);
	free(w.lbs);
	if (err < 0 && err != said)
		dlog(err == -ENOENT ? LOG_NOTICE : LOG_WARNING, "metrics: %s: %s%s", cfg.metrics_file, strerror(-err),
		     err == -ENOENT ? " (its directory is node_exporter's: is prometheus-node-exporter installed? \"metrics_file =\" turns the metrics off)" : "");
	if (err <= 0)
		said = err;
	if (!up) {
		pl_metrics_out_free(&out);
		kept_drop();
		layers_drop();
	}
}

int64_t metrics_due_in(void)
{
	return pl_metrics_due_in(&out, pl_boottime_s());
}
