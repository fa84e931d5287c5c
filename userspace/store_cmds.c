// SPDX-License-Identifier: GPL-2.0
/*
 * The administrator's verbs on the daemon's store (patchlayer(8)):
 * install, activate, drop, remove (a new intent recorded, then the same
 * reconciliation as the daemon's), layers (the store's records) and log
 * (its history).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "layer.h"
#include "history.h"
#include "inspect.h"
#include "metrics.h"
#include "patchlayer.h"
#include "plbpf.h"

/*
 * Takes "--dry-run" out of ARGV wherever it stands before "--" (as the
 * output options), for install and activate; returns the new ARGC.
 */
static int take_dry_run(int argc, char **argv, bool *dry)
{
	int n = 0, i;

	*dry = false;
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--dry-run"))
			*dry = true;
		else
			argv[n++] = argv[i];
	}
	while (i < argc)
		argv[n++] = argv[i++];
	argv[n] = NULL;
	return n;
}

/* With -j, what a verb left: {"layer", "verb", "state", "kernel", "why"}. */
static void verb_said(const struct pl_opts *o, const char *what, const char *name,
		      const struct pl_record *r, bool removed)
{
	struct json j;

	if (!o->json)
		return;
	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	json_string(&j, "layer", name);
	json_string(&j, "verb", what);
	if (removed) {
		json_null(&j, "state");
		json_string(&j, "kernel", pl_kstate_name(PL_K_ABSENT));
		json_string(&j, "why", "removed from the store");
	} else {
		json_string(&j, "state", pl_want_name(r->want));
		json_string(&j, "kernel", pl_kstate_name(kstate_of(name)));
		json_string(&j, "why", r->why);
	}
	json_object_end(&j);
	json_finish(&j);
}

/* install, activate, drop, remove: a new intent, then the same reconciliation. */
static int verb(int argc, char **argv, const char *what, const struct pl_opts *o)
{
	bool dry = false;
	int rc = 0, first, lock;
	struct pl_record r;
	const char *name;
	enum pl_want want;

	if (!strcmp(what, "install") || !strcmp(what, "activate"))
		argc = take_dry_run(argc, argv, &dry);
	first = common_opts(argc, argv, &rc);
	if (first < 0)
		return rc;
	if (argc - first != 1) {
		pl_err("usage: %s layer %s%s NAME", pl_prog, what,
		       dry || !strcmp(what, "install") || !strcmp(what, "activate") ?
		       " [--dry-run]" : "");
		return PL_EXIT_USAGE;
	}
	name = argv[first];
	if (need_root(what))
		return PL_EXIT_FAIL;
	if (!pl_module_loaded())
		return pl_module_missing();
	if (dry)
		return pl_dry_run(what, name, o);
	if (!valid_name(name) || !in_store(name)) {
		pl_err_sys(ENOENT, "%s: no layer %s in the store %s", what, name, cfg.store);
		return PL_EXIT_FAIL;
	}
	lock = lock_store();
	record_read(name, &r);
	if (strcmp(what, "drop") == 0) {
		want = PL_WANT_DROPPED;
	} else if (strcmp(what, "remove") == 0) {
		want = PL_WANT_REMOVING;
	} else {
		if (strcmp(what, "activate") == 0 &&
		    (r.want == PL_WANT_SUPERSEDED || r.want == PL_WANT_STALE)) {
			pl_err("activate: %s is %s (%s)", name, pl_want_name(r.want), r.why);
			unlock_store(lock);
			return PL_EXIT_FAIL;
		}
		want = PL_WANT_ACTIVE;
		r.activated_at = now_s();
		window_start_now(&r);
		crash_baseline(name, &r);
		r.restarts[0] = '\0';
	}
	record_set(name, &r, want, "%s by the administrator", what);
	reconcile(name);
	record_read(name, &r);
	unlock_store(lock);
	if (want == PL_WANT_REMOVING) {
		if (in_store(name)) {
			pl_err("%s %s: %s", what, name, r.why);
			return PL_EXIT_FAIL;
		}
		verb_said(o, what, name, &r, true);
		return PL_EXIT_OK;
	}
	if (r.want != want || (want == PL_WANT_ACTIVE && kstate_of(name) != PL_K_ACTIVE)) {
		pl_err("%s %s: %s", what, name, r.why);
		return PL_EXIT_FAIL;
	}
	verb_said(o, what, name, &r, false);
	return PL_EXIT_OK;
}

int cmd_install(int argc, char **argv, const struct pl_opts *o)
{
	return verb(argc, argv, "install", o);
}

int cmd_activate(int argc, char **argv, const struct pl_opts *o)
{
	return verb(argc, argv, "activate", o);
}

int cmd_drop(int argc, char **argv, const struct pl_opts *o)
{
	return verb(argc, argv, "drop", o);
}

int cmd_remove(int argc, char **argv, const struct pl_opts *o)
{
	return verb(argc, argv, "remove", o);
}

struct layers_walk {
	const struct pl_opts *o;
	struct json j;
	bool started;
	/* one scan answers for every layer */
	struct pl_bpf_proc *procs;
	size_t n;
	int scan_err;
};

/* The BPF side's handle and the JSON array, once the store could be read. */
static void layers_begin(struct layers_walk *w)
{
	if (w->started)
		return;
	w->started = true;
	if (pl_bpf_loaded() && pl_bpf_open(&bpf, 0) < 0)
		bpf = NULL;
	if (bpf) {
		pl_bpf_sync(bpf);
		w->scan_err = pl_bpf_usage(bpf, NULL, &w->procs, &w->n);
	}
	if (w->o->json) {
		pl_json_begin(&w->j, w->o);
		json_array_start(&w->j, NULL);
	}
}

static int layers_one(const char *name, void *ctx)
{
	struct layers_walk *w = ctx;
	struct json *j = &w->j;
	char rel[PATH_MAX], hits[32], since[32], line[1024];
	struct pl_provenance p;
	struct pl_record r;
	long patched, stale;
	int counted;
	time_t t;
	struct tm tm;

	layers_begin(w);
	if (record_read(name, &r) <= 0)
		return 0;
	/* what the layer fixes, from its manifest in the store */
	snprintf(rel, sizeof(rel), "%s/%s", cfg.store, name);
	pl_layer_provenance(rel, &p);
	snprintf(rel, sizeof(rel), "layers/%s/hits", name);
	if (pl_sysfs_read(rel, hits, sizeof(hits)) < 0)
		strcpy(hits, "0");
	counted = pl_metrics_usage(w->procs, w->n,
				   w->scan_err ? w->scan_err : pl_metrics_layer_known(bpf, name),
				   name, &patched, &stale);
	t = (time_t)r.since;
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (w->o->json) {
		json_object_start(j, NULL);
		json_string(j, "name", name);
		json_string(j, "version", r.version);
		json_string(j, "state", pl_want_name(r.want));
		json_string(j, "kernel", pl_kstate_name(kstate_of(name)));
		json_string(j, "since", since);
		json_uint(j, "hits", strtoull(hits, NULL, 10));
		patched < 0 ? json_null(j, "patched") : json_int(j, "patched", patched);
		stale < 0 ? json_null(j, "stale") : json_int(j, "stale", stale);
		json_uint(j, "crashes", r.crashes);
		json_string(j, "why", r.why);
		json_string(j, "restarts", r.restarts);
		pl_json_provenance(j, &p);
		r.superseded_by[0] ? json_string(j, "superseded_by", r.superseded_by) :
				     json_null(j, "superseded_by");
		json_object_end(j);
	} else {
		printf("%s version \"%s\" %s since %s hits %s", name, r.version,
		       pl_want_name(r.want), since, hits);
		if (!counted)
			printf(" patched %ld stale %ld", patched, stale);
		else if (counted == -ENODEV)
			printf(" processes unknown (the BPF side is not loaded)");
		else if (counted != -ENOENT)	/* not in the kernel: nothing to count */
			printf(" processes unknown (%s)", strerror(-counted));
		if (r.crashes)
			printf(" crashes %u", r.crashes);
		printf("\n    %s\n", r.why);
		if (r.restarts[0])
			printf("    restart_services: %s\n", r.restarts);
		pl_provenance_line(&p, line, sizeof(line));
		if (line[0])
			printf("    fixes: %s\n", line);
	}
	return 0;
}

int cmd_layers(int argc, char **argv, const struct pl_opts *o)
{
	int rc = 0, first = common_opts(argc, argv, &rc), err;
	struct layers_walk w = { .o = o };

	if (first < 0)
		return rc;
	err = store_walk(layers_one, &w);
	if (err) {
		pl_err("%s: %s", cfg.store, strerror(-err));
		return PL_EXIT_FAIL;
	}
	layers_begin(&w);
	if (o->json) {
		json_array_end(&w.j);
		json_finish(&w.j);
	}
	free(w.procs);
	if (bpf)
		pl_bpf_close(bpf);
	return PL_EXIT_OK;
}

int cmd_log(int argc, char **argv, const struct pl_opts *o)
{
	char **common, **rest;
	int rc = 0, nc = 0, nr = 0, first;

	/* --config for common_opts, --layer and --since for the history */
	common = calloc((size_t)argc + 1, sizeof(*common));
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!common || !rest) {
		free(common);
		free(rest);
		pl_err_sys(ENOMEM, "log");
		return PL_EXIT_FAIL;
	}
	for (int i = 0; i < argc; i++) {
		if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) && i + 1 < argc) {
			common[nc++] = argv[i++];
			common[nc++] = argv[i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			common[nc++] = argv[i];
		} else {
			rest[nr++] = argv[i];
		}
	}
	first = common_opts(nc, common, &rc);
	if (first >= 0)
		rc = pl_history_cmd(cfg.store, nr, rest, o);
	free(common);
	free(rest);
	return rc;
}
