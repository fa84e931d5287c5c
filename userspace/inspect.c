// SPDX-License-Identifier: GPL-2.0
/*
 * What an administrator looks at before and after acting on the store:
 * "show LAYER", "inbox", and "install/activate --dry-run" (which changes
 * nothing: no lock, no record, no sysfs write).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon.h"
#include "history.h"
#include "inspect.h"
#include "layer.h"
#include "patchlayer.h"
#include "plbpf.h"
#include "services.h"
#include "table.h"

static void stamp(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "?");
}

static void json_pstr(struct json *j, const char *name, struct pl_str v)
{
	char *s = pl_str_dup(v);

	s ? json_string(j, name, s) : json_null(j, name);
	free(s);
}

/* A stored layer: its manifest, targets and record. */
struct stored {
	const char *name;
	char dir[PATH_MAX];
	struct pl_layer_manifest lm;
	char **targets;		/* lm.m.n_files NUL-terminated copies */
	bool have_record;
	struct pl_record r;
	enum pl_kstate k;
};

static void stored_free(struct stored *s)
{
	for (size_t i = 0; s->targets && i < s->lm.m.n_files; i++)
		free(s->targets[i]);
	free(s->targets);
	pl_layer_manifest_free(&s->lm);
}

/* Reads NAME's manifest and record; says why not and returns an exit code. */
static int stored_open(const char *verb, const char *name, struct stored *s)
{
	char path[PATH_MAX + 16];
	int err;

	memset(s, 0, sizeof(*s));
	s->name = name;
	if (!valid_name(name) || !in_store(name)) {
		pl_err_sys(ENOENT, "%s: no layer %s in the store %s", verb, name, cfg.store);
		return PL_EXIT_FAIL;
	}
	snprintf(s->dir, sizeof(s->dir), "%s/%s", cfg.store, name);
	snprintf(path, sizeof(path), "%s/manifest", s->dir);
	err = pl_layer_manifest_load(path, &s->lm);
	if (err || !s->lm.parsed) {
		if (s->lm.perr.reason)
			pl_err("%s: %s:%u: %s", verb, path, s->lm.perr.line, s->lm.perr.reason);
		else
			pl_err_sys(err, "%s: %s", verb, path);
		stored_free(s);
		return PL_EXIT_FAIL;
	}
	s->targets = calloc(s->lm.m.n_files + 1, sizeof(*s->targets));
	for (size_t i = 0; s->targets && i < s->lm.m.n_files; i++) {
		s->targets[i] = pl_str_dup(s->lm.files[i].target);
		if (!s->targets[i])
			break;
	}
	if (!s->targets || (s->lm.m.n_files && !s->targets[s->lm.m.n_files - 1])) {
		pl_err_sys(ENOMEM, "%s", verb);
		stored_free(s);
		return PL_EXIT_FAIL;
	}
	s->have_record = record_read(name, &s->r) > 0;
	s->k = pl_module_loaded() ? kstate_of(name) : PL_K_ABSENT;
	return PL_EXIT_OK;
}

/* --- show --- */

/* The signer, verified against the configuration's trust certificates if it can be. */
static void signer_of(const struct stored *s, char *who, size_t size, bool *verified)
{
	char path[PATH_MAX + 16], why[1024];
	STACK_OF(X509) *certs = sk_X509_new_null();
	CMS_ContentInfo *cms = NULL;
	char *der = NULL, *ids;
	size_t len;
	int err;

	*verified = false;
	snprintf(path, sizeof(path), "%s/manifest.p7s", s->dir);
	err = pl_read_file(path, PL_SIGNATURE_MAX, &der, &len);
	if (err) {
		snprintf(who, size, "%s: %s", path, strerror(-err));
		goto out;
	}
	cms = pl_cms_parse(der, len, why, sizeof(why));
	if (!cms) {
		snprintf(who, size, "%s: %s", path, why);
		goto out;
	}
	for (unsigned int i = 0; certs && i < cfg.n_trust; i++)
		pl_load_certs(cfg.trust[i], certs);	/* a bad one is the daemon's to say */
	if (certs && sk_X509_num(certs) > 0 &&
	    !pl_cms_verify(cms, s->lm.buf, s->lm.len, certs, why, sizeof(why))) {
		*verified = true;
		snprintf(who, size, "%s", why);
		goto out;
	}
	ids = pl_cms_signer_ids(cms);
	snprintf(who, size, "%s (not verified: no certificate of the configuration's trust matches)",
		 ids ? ids : "?");
	free(ids);
out:
	CMS_ContentInfo_free(cms);
	sk_X509_pop_free(certs, X509_free);
	free(der);
}

struct show_hist {
	struct json *j;
	bool any;
};

static int show_hist_line(const struct pl_log_line *l, const char *line, void *ctx)
{
	struct show_hist *h = ctx;

	if (h->j) {
		pl_history_json(h->j, l, line);
	} else {
		if (!h->any)
			printf("history:\n");
		printf("  %.20s %.*s\n", line, (int)l->msg_len, l->msg);
	}
	h->any = true;
	return 0;
}

static void show_procs(struct json *j, const struct pl_bpf_proc *p, size_t n, __u32 kind)
{
	char unit[256];

	if (j)
		json_array_start(j, pl_bpf_kind_name(kind));
	for (size_t i = 0; i < n; i++) {
		if (p[i].kind != kind)
			continue;
		if (pl_services_unit_of((pid_t)p[i].pid, unit, sizeof(unit)) < 0)
			unit[0] = '\0';
		if (j) {
			json_object_start(j, NULL);
			json_uint(j, "pid", p[i].pid);
			json_string(j, "comm", p[i].comm);
			unit[0] ? json_string(j, "unit", unit) : json_null(j, "unit");
			json_object_end(j);
		} else {
			printf("  %-8s %7u  %-16s %s\n", pl_bpf_kind_name(kind), p[i].pid, p[i].comm,
			       unit[0] ? unit : "-");
		}
	}
	if (j)
		json_array_end(j);
}

/* Patched and stale processes, by the BPF side's scan; WHY when they cannot be told. */
static int layer_procs(const char *name, enum pl_kstate k, struct pl_bpf_proc **p, size_t *n,
		       char *why, size_t size)
{
	struct pl_bpf *b;
	int err;

	*p = NULL;
	*n = 0;
	if (k != PL_K_ACTIVE) {
		snprintf(why, size, "none: the layer is not active");
		return -ENOENT;
	}
	if (!pl_bpf_loaded()) {
		snprintf(why, size, "unknown: the BPF side is not loaded");
		return -ENODEV;
	}
	err = pl_bpf_open(&b, 0);
	if (!err)
		err = pl_bpf_sync(b);
	if (!err)
		err = pl_bpf_usage(b, name, p, n);
	if (!err || err != -ENOMEM)
		pl_bpf_close(b);
	if (err)
		snprintf(why, size, "unknown: %s", strerror(-err));
	return err;
}

int cmd_show(int argc, char **argv, const struct pl_opts *o)
{
	static const char *const heads[] = { "TARGET", "PACKAGE", "BASE", "REPLACEMENT" };
	int rc = 0, first = common_opts(argc, argv, &rc);
	char since[32], who[2 * PATH_MAX + 1100], why[256];
	struct pl_bpf_proc *procs = NULL;
	struct pl_provenance *prov;
	struct show_hist h = { 0 };
	char fixes[1024];
	struct stored s;
	char **owners = NULL;
	size_t n_procs = 0, nf;
	struct pl_table t;
	bool verified;
	struct json j;
	int perr, herr;

	if (first < 0)
		return rc;
	if (argc - first != 1) {
		pl_err("usage: %s layer show LAYER", pl_prog);
		return PL_EXIT_USAGE;
	}
	rc = stored_open("show", argv[first], &s);
	if (rc)
		return rc;
	nf = s.lm.m.n_files;
	owners = calloc(nf + 1, sizeof(*owners));
	prov = calloc(1, sizeof(*prov));
	if (!owners || !prov ||
	    pl_dpkg_owners((const char *const *)s.targets, nf, owners) == -ENOMEM) {
		pl_err_sys(ENOMEM, "show");
		free(prov);
		free(owners);
		stored_free(&s);
		return PL_EXIT_FAIL;
	}
	pl_provenance_of(&s.lm.m, prov);
	signer_of(&s, who, sizeof(who), &verified);
	stamp(s.have_record ? s.r.since : 0, since, sizeof(since));
	perr = layer_procs(s.name, s.k, &procs, &n_procs, why, sizeof(why));

	if (o->json) {
		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_string(&j, "name", s.name);
		json_string(&j, "path", s.dir);
		json_pstr(&j, "version", s.lm.m.version);
		s.lm.m.replaces.len ? json_pstr(&j, "replaces", s.lm.m.replaces) :
				      json_null(&j, "replaces");
		if (s.have_record) {
			json_string(&j, "state", pl_want_name(s.r.want));
			json_string(&j, "since", since);
			json_string(&j, "why", s.r.why);
			json_string(&j, "restarts", s.r.restarts);
		} else {
			json_null(&j, "state");
			json_null(&j, "since");
			json_null(&j, "why");
			json_null(&j, "restarts");
		}
		json_string(&j, "kernel", pl_kstate_name(s.k));
		json_object_start(&j, "signer");
		json_string(&j, "who", who);
		json_bool(&j, "verified", verified);
		json_object_end(&j);
		/* the package and advisories the layer fixes, when its manifest says */
		pl_json_provenance(&j, prov);
		json_array_start(&j, "files");
		for (size_t i = 0; i < nf; i++) {
			const struct pl_manifest_file *f = &s.lm.files[i];
			char hex[PL_SHA256_HEX_SIZE], path[PATH_MAX + PL_TARGET_MAX];

			json_object_start(&j, NULL);
			json_string(&j, "target", s.targets[i]);
			owners[i] ? json_string(&j, "package", owners[i]) : json_null(&j, "package");
			pl_sha256_hex(f->base_sha256, hex);
			json_string(&j, "base_sha256", hex);
			snprintf(path, sizeof(path), "%s/files%s", s.dir, s.targets[i]);
			json_string(&j, "replacement", path);
			pl_sha256_hex(f->sha256, hex);
			json_string(&j, "sha256", hex);
			json_uint(&j, "size", f->size);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_start(&j, "processes");
		json_bool(&j, "counted", perr == 0);
		perr ? json_string(&j, "why", why) : json_null(&j, "why");
		show_procs(&j, procs, n_procs, PL_BPF_PATCHED);
		show_procs(&j, procs, n_procs, PL_BPF_STALE);
		json_object_end(&j);
		json_array_start(&j, "history");
		h.j = &j;
	} else {
		printf("layer:    %s (%s)\n", s.name, s.dir);
		printf("version:  %.*s\n", (int)s.lm.m.version.len, s.lm.m.version.s);
		printf("replaces: %.*s\n", s.lm.m.replaces.len ? (int)s.lm.m.replaces.len : 1,
		       s.lm.m.replaces.len ? s.lm.m.replaces.s : "-");
		if (s.have_record)
			printf("state:    %s since %s: %s\n", pl_want_name(s.r.want), since, s.r.why);
		else
			printf("state:    no record yet\n");
		if (s.have_record && s.r.restarts[0])
			printf("restarts: %s\n", s.r.restarts);
		printf("kernel:   %s\n", pl_kstate_name(s.k));
		printf("signer:   %s\n", who);
		pl_provenance_line(prov, fixes, sizeof(fixes));
		printf("fixes:    %s\n", fixes[0] ? fixes : "-");
		pl_table_init(&t, 4, heads, "llll");
		for (size_t i = 0; i < nf; i++) {
			char base[20], repl[48], hex[PL_SHA256_HEX_SIZE];

			pl_sha256_hex(s.lm.files[i].base_sha256, hex);
			snprintf(base, sizeof(base), "sha256 %.12s", hex);
			pl_sha256_hex(s.lm.files[i].sha256, hex);
			snprintf(repl, sizeof(repl), "sha256 %.12s, %llu bytes", hex,
				 (unsigned long long)s.lm.files[i].size);
			pl_table_add(&t, s.targets[i], owners[i], base, repl);
		}
		pl_table_print(&t, stdout, "  ");
		pl_table_free(&t);
		if (perr) {
			printf("processes: %s\n", why);
		} else {
			size_t np = 0;

			for (size_t i = 0; i < n_procs; i++)
				np += procs[i].kind == PL_BPF_PATCHED;
			printf("processes: %zu patched, %zu stale\n", np, n_procs - np);
			show_procs(NULL, procs, n_procs, PL_BPF_PATCHED);
			show_procs(NULL, procs, n_procs, PL_BPF_STALE);
		}
	}
	herr = pl_history_each(cfg.store, s.name, 0, show_hist_line, &h);
	if (o->json) {
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else if (!h.any) {
		printf("history:  none\n");
	}
	if (herr)
		pl_err_sys(herr, "%s/.log", cfg.store);
	for (size_t i = 0; i < nf; i++)
		free(owners[i]);
	free(owners);
	free(prov);
	free(procs);
	stored_free(&s);
	return herr ? PL_EXIT_FAIL : PL_EXIT_OK;
}

/* --- inbox --- */

struct entry {
	char name[NAME_MAX + 1];
	char type[16];
	char when[32];
	char reason[PATH_MAX * 2 + 64];
};

static const char *type_of(mode_t m)
{
	return S_ISDIR(m) ? "directory" : S_ISREG(m) ? "file" : S_ISLNK(m) ? "symlink" : "other";
}

/* DIR's entries but dot files, the rejected/ directory and *.reason files, by name. */
static int entries(const char *dir, bool rejected, struct entry **out, size_t *count)
{
	struct dirent **names = NULL;
	struct entry *e;
	size_t k = 0;
	int n;

	*out = NULL;
	*count = 0;
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	e = calloc((size_t)n + 1, sizeof(*e));
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		size_t len = strlen(d);
		char path[PATH_MAX * 2];
		struct stat st;

		if (!e || d[0] == '.' || (!rejected && !strcmp(d, "rejected")) ||
		    (rejected && len > 7 && !strcmp(d + len - 7, ".reason")))
			continue;
		snprintf(e[k].name, sizeof(e[k].name), "%s", d);
		snprintf(path, sizeof(path), "%s/%s", dir, d);
		if (lstat(path, &st) == 0) {
			snprintf(e[k].type, sizeof(e[k].type), "%s", type_of(st.st_mode));
			stamp(st.st_mtime, e[k].when, sizeof(e[k].when));
		} else {
			snprintf(e[k].type, sizeof(e[k].type), "gone");
			snprintf(e[k].when, sizeof(e[k].when), "?");
		}
		if (rejected) {
			char *text = NULL;
			size_t tlen;

			/* the daemon's reason, the kernel's errno in it; one line */
			snprintf(path, sizeof(path), "%s/%s.reason", dir, d);
			if (!pl_read_file(path, sizeof(e[k].reason) - 1, &text, &tlen))
				snprintf(e[k].reason, sizeof(e[k].reason), "%.*s",
					 (int)strcspn(text, "\n"), text);
			free(text);
		}
		k++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!e)
		return -ENOMEM;
	*out = e;
	*count = k;
	return 0;
}

static void inbox_list(struct json *j, const char *title, const struct entry *e, size_t n,
		       bool rejected)
{
	static const char *const heads[] = { "NAME", "TYPE", "SINCE", "REASON" };
	struct pl_table t;

	if (j) {
		json_array_start(j, title);
		for (size_t i = 0; i < n; i++) {
			json_object_start(j, NULL);
			json_string(j, "name", e[i].name);
			json_string(j, "type", e[i].type);
			json_string(j, "since", e[i].when);
			if (rejected)
				e[i].reason[0] ? json_string(j, "reason", e[i].reason) :
						 json_null(j, "reason");
			json_object_end(j);
		}
		json_array_end(j);
		return;
	}
	printf("%s: %s\n", title, n ? "" : "none");
	if (!n)
		return;
	pl_table_init(&t, rejected ? 4 : 3, heads, "llll");
	for (size_t i = 0; i < n; i++)
		pl_table_add(&t, e[i].name, e[i].type, e[i].when,
			     e[i].reason[0] ? e[i].reason : NULL);
	pl_table_print(&t, stdout, "  ");
	pl_table_free(&t);
}

/*
 * ".NAME.state.bad" in the store: a record that did not parse, kept aside
 * by the daemon (store.c), which does nothing for NAME by itself since.
 */
static int quarantined(struct entry **out, size_t *count)
{
	struct dirent **names = NULL;
	struct entry *e;
	size_t k = 0;
	int n;

	*out = NULL;
	*count = 0;
	n = scandir(cfg.store, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	e = calloc((size_t)n + 1, sizeof(*e));
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		size_t len = strlen(d);
		char path[PATH_MAX * 2];
		struct stat st;

		if (e && d[0] == '.' && len > 11 && !strcmp(d + len - 10, ".state.bad")) {
			snprintf(e[k].name, sizeof(e[k].name), "%.*s", (int)(len - 11), d + 1);
			snprintf(e[k].type, sizeof(e[k].type), "file");
			snprintf(path, sizeof(path), "%s/%s", cfg.store, d);
			snprintf(e[k].reason, sizeof(e[k].reason), "%s: its state file did not parse",
				 path);
			if (lstat(path, &st) == 0)
				stamp(st.st_mtime, e[k].when, sizeof(e[k].when));
			else
				snprintf(e[k].when, sizeof(e[k].when), "?");
			k++;
		}
		free(names[i]);
	}
	free(names);
	if (!e)
		return -ENOMEM;
	*out = e;
	*count = k;
	return 0;
}

int cmd_inbox(int argc, char **argv, const struct pl_opts *o)
{
	int rc = 0, first = common_opts(argc, argv, &rc), err;
	struct entry *pending = NULL, *rejected = NULL, *bad = NULL;
	size_t n_pending = 0, n_rejected = 0, n_bad = 0;
	char rdir[PATH_MAX + 16];
	struct json j;

	if (first < 0)
		return rc;
	if (argc != first) {
		pl_err("inbox: unexpected argument '%s'", argv[first]);
		return PL_EXIT_USAGE;
	}
	snprintf(rdir, sizeof(rdir), "%s/rejected", cfg.inbox);
	err = entries(cfg.inbox, false, &pending, &n_pending);
	if (err) {
		pl_err_sys(err, "%s", cfg.inbox);
		return PL_EXIT_FAIL;
	}
	err = entries(rdir, true, &rejected, &n_rejected);
	if (err) {
		pl_err_sys(err, "%s", rdir);
		free(pending);
		return PL_EXIT_FAIL;
	}
	err = quarantined(&bad, &n_bad);
	if (err) {
		pl_err_sys(err, "%s", cfg.store);
		free(pending);
		free(rejected);
		return PL_EXIT_FAIL;
	}
	if (o->json) {
		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_string(&j, "inbox", cfg.inbox);
		inbox_list(&j, "pending", pending, n_pending, false);
		inbox_list(&j, "rejected", rejected, n_rejected, true);
		inbox_list(&j, "quarantined", bad, n_bad, true);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("inbox: %s\n", cfg.inbox);
		inbox_list(NULL, "pending", pending, n_pending, false);
		inbox_list(NULL, "rejected", rejected, n_rejected, true);
		if (n_bad)
			inbox_list(NULL, "quarantined", bad, n_bad, true);
	}
	free(pending);
	free(rejected);
	free(bad);
	return PL_EXIT_OK;
}

/* --- install/activate --dry-run --- */

struct unit_plan {
	char unit[256];
	enum pl_unit_verdict v;
};

int pl_dry_run(const char *verb, const char *name, const struct pl_opts *o)
{
	const char *const heads[] = { "PID", "COMMAND", "UNIT" };
	struct unit_plan *units = NULL;
	struct pl_mapper *m = NULL;
	size_t n_m = 0, n_units = 0, nf, paths_n = 0;
	char would[PL_WHY_MAX + 256], **why = NULL;
	const char **paths = NULL;
	bool fits = true, refused = false, changes = true;
	int *errs = NULL, err = 0;
	struct stored s;
	struct pl_table t;
	struct json j;
	int rc;

	rc = stored_open(verb, name, &s);
	if (rc)
		return rc;
	nf = s.lm.m.n_files;
	errs = calloc(nf + 1, sizeof(*errs));
	why = calloc(nf + 1, sizeof(*why));
	/* each target as named and as resolved: /proc/PID/maps names the file opened */
	paths = calloc(2 * nf + 1, sizeof(*paths));
	if (!errs || !why || !paths) {
		err = -ENOMEM;
		goto out;
	}
	if (!strcmp(verb, "activate") && s.have_record &&
	    (s.r.want == PL_WANT_SUPERSEDED || s.r.want == PL_WANT_STALE)) {
		snprintf(would, sizeof(would), "refuse: %s is %s (%s)", name,
			 pl_want_name(s.r.want), s.r.why);
		refused = true;
		changes = false;
	} else if (s.k == PL_K_ACTIVE) {
		snprintf(would, sizeof(would), "nothing: %s is active already", name);
		changes = false;
	} else {
		snprintf(would, sizeof(would), "%s%s", s.k == PL_K_ABSENT ? "load and " : "",
			 "activate it");
	}
	for (size_t i = 0; i < nf; i++) {
		char buf[PATH_MAX + 256];

		/* while active, the target serves the replacement: nothing to compare */
		if (s.k == PL_K_ACTIVE) {
			snprintf(buf, sizeof(buf), "served by the layer: not checked");
			errs[i] = 0;
		} else {
			errs[i] = pl_base_check(&s.lm.files[i], s.targets[i], buf, sizeof(buf));
		}
		why[i] = strdup(buf);
		if (!why[i]) {
			err = -ENOMEM;
			goto out;
		}
		if (errs[i]) {
			fits = false;
			refused = true;
		}
		paths[paths_n++] = s.targets[i];
		if (realpath(s.targets[i], buf) && strcmp(buf, s.targets[i]))
			paths[paths_n++] = strdup(buf);	/* freed below: after nf */
	}
	if (!fits)
		snprintf(would, sizeof(would), "refuse: the base does not fit (ESTALE)");
	if (changes && !refused) {
		err = pl_mappers(paths, paths_n, &m, &n_m);
		if (err)
			goto out;
	}
	units = calloc(n_m + 1, sizeof(*units));
	if (!units) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_m; i++) {
		size_t k;

		if (!m[i].unit[0])
			continue;
		for (k = 0; k < n_units && strcmp(units[k].unit, m[i].unit); k++)
			;
		if (k < n_units)
			continue;
		snprintf(units[k].unit, sizeof(units[k].unit), "%s", m[i].unit);
		units[k].v = pl_unit_verdict(&cfg, m[i].unit, PL_OWN_UNIT_DEFAULT);
		n_units++;
	}

	if (o->json) {
		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_string(&j, "layer", name);
		json_string(&j, "verb", verb);
		json_bool(&j, "dry_run", true);
		json_string(&j, "kernel", pl_kstate_name(s.k));
		s.have_record ? json_string(&j, "state", pl_want_name(s.r.want)) :
				json_null(&j, "state");
		json_string(&j, "would", would);
		json_bool(&j, "base_fits", fits);
		json_array_start(&j, "base");
		for (size_t i = 0; i < nf; i++) {
			json_object_start(&j, NULL);
			json_string(&j, "target", s.targets[i]);
			json_bool(&j, "ok", !errs[i]);
			errs[i] ? json_string(&j, "errno", pl_errno_name(-errs[i])) :
				  json_null(&j, "errno");
			json_string(&j, "detail", why[i]);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_array_start(&j, "stale");
		for (size_t i = 0; i < n_m; i++) {
			json_object_start(&j, NULL);
			json_uint(&j, "pid", (uint64_t)m[i].pid);
			json_string(&j, "comm", m[i].comm);
			m[i].unit[0] ? json_string(&j, "unit", m[i].unit) : json_null(&j, "unit");
			json_object_end(&j);
		}
		json_array_end(&j);
		json_array_start(&j, "units");
		for (size_t i = 0; i < n_units; i++) {
			json_object_start(&j, NULL);
			json_string(&j, "unit", units[i].unit);
			json_bool(&j, "restart", units[i].v == PL_UNIT_RESTART);
			units[i].v == PL_UNIT_RESTART ? json_null(&j, "why") :
				json_string(&j, "why", pl_unit_verdict_why(units[i].v));
			json_object_end(&j);
		}
		json_array_end(&j);
		json_bool(&j, "daemon_running", pl_daemon_running() != 0);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("%s %s --dry-run: would %s; nothing was changed\n", verb, name, would);
		for (size_t i = 0; i < nf; i++)
			printf("%-7s base %s: %s\n", errs[i] ? pl_errno_name(-errs[i]) : "ok",
			       s.targets[i], why[i]);
		if (n_m) {
			printf("would keep the old code until restarted:\n");
			pl_table_init(&t, 3, heads, "rll");
			for (size_t i = 0; i < n_m; i++) {
				char pid[16];

				snprintf(pid, sizeof(pid), "%d", (int)m[i].pid);
				pl_table_add(&t, pid, m[i].comm, m[i].unit[0] ? m[i].unit : NULL);
			}
			pl_table_print(&t, stdout, "  ");
			pl_table_free(&t);
		} else if (changes && !refused) {
			printf("no running process has mapped its targets: none would keep the old code\n");
		}
		for (size_t i = 0; i < n_units; i++) {
			if (units[i].v == PL_UNIT_RESTART)
				printf("would restart %s (restart_services)%s\n", units[i].unit,
				       pl_daemon_running() ? "" : ", once the daemon runs");
			else
				printf("would keep %s: %s\n", units[i].unit,
				       pl_unit_verdict_why(units[i].v));
		}
	}
out:
	if (paths) {
		/* the resolved copies are the entries that are not one of the targets */
		for (size_t i = 0; i < paths_n; i++) {
			bool target = false;

			for (size_t k = 0; k < nf && !target; k++)
				target = paths[i] == s.targets[k];
			if (!target)
				free((char *)paths[i]);
		}
	}
	for (size_t i = 0; why && i < nf; i++)
		free(why[i]);
	free(why);
	free(errs);
	free(paths);
	free(units);
	free(m);
	stored_free(&s);
	if (err) {
		pl_err_sys(err, "%s --dry-run %s", verb, name);
		return PL_EXIT_FAIL;
	}
	return refused ? PL_EXIT_FAIL : PL_EXIT_OK;
}
