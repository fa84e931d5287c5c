// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer usage, enforce and bpf: which processes run a layer's patched
 * code and which still run the stale base, enforcement, and the pinned BPF
 * side that answers (plbpf.h, docs/ebpf.md).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <sys/capability.h>

#include "patchlayer.h"
#include "plbpf.h"
#include "table.h"

/* Whether this process may load BPF programs at all. */
static bool have_bpf_caps(void)
{
	static const cap_value_t need[] = { CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN };
	cap_t caps = cap_get_proc();
	cap_flag_value_t v;
	bool ok = caps != NULL;

	for (size_t i = 0; ok && i < sizeof(need) / sizeof(need[0]); i++)
		ok = cap_get_flag(caps, need[i], CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
	cap_free(caps);
	return ok && geteuid() == 0;
}

/* Reports a failure of the BPF side; returns the exit status. */
static int bpf_fail(const char *what, int err)
{
	if (err == -ENODEV)
		return pl_module_missing();
	if (err == -ESTALE) {
		pl_err("%s (%s): pinned by another build of patchlayer (before an upgrade?); "
		       "'%s bpf load' or a restart of the daemon loads this one's", what,
		       PL_BPF_PIN_DIR, pl_prog);
		return PL_EXIT_FAIL;
	}
	/* the verifier refuses with EACCES too: say which it is */
	if ((err == -EPERM || err == -EACCES) && have_bpf_caps()) {
		pl_err_sys(-err, "%s (%s)", what, PL_BPF_PIN_DIR);
		fprintf(stderr, "hint: refused by the kernel (verifier or LSM); "
			"PATCHLAYER_BPF_DEBUG=1 shows libbpf's log\n");
		return PL_EXIT_FAIL;
	}
	if (err == -EPERM || err == -EACCES) {
		pl_err_sys(-err, "%s (%s)", what, PL_BPF_PIN_DIR);
		fprintf(stderr, "hint: BPF not permitted: run as root with CAP_BPF, CAP_PERFMON "
			"and CAP_SYS_ADMIN\n");
		return PL_EXIT_FAIL;
	}
	pl_err_sys(-err, "%s (%s)", what, PL_BPF_PIN_DIR);
	return PL_EXIT_FAIL;
}

/* NAME is a loaded layer: its state goes to STATE. Reports it otherwise. */
static bool layer_known(const char *name, char *state, size_t size)
{
	char attr[PL_BPF_NAME_MAX + 32];
	int err = -ENOENT;

	if (*name && strlen(name) <= PL_BPF_NAME_MAX && !strchr(name, '/') &&
	    strcmp(name, ".") && strcmp(name, "..")) {
		snprintf(attr, sizeof(attr), "layers/%s/state", name);
		err = pl_sysfs_read(attr, state, size);
	}
	if (err < 0) {
		pl_err("layer '%s': %s (%s/layers/%s; see '%s status')", name,
		       err == -ENOENT ? "not loaded" : strerror(-err), pl_sysfs_dir(), name, pl_prog);
		return false;
	}
	return true;
}

/* Opens (loading it if need be) and syncs the BPF side. */
static int bpf_ready(struct pl_bpf **b)
{
	int err = pl_bpf_open(b, PL_BPF_LOAD);

	if (err)
		return bpf_fail("BPF side", err);
	err = pl_bpf_sync(*b);
	if (err) {
		pl_bpf_close(*b);
		*b = NULL;
		if (err == -EPROTO) {
			pl_err("%s/layers/*/files: no device:inode fields (module too old?)",
			       pl_sysfs_dir());
			return PL_EXIT_FAIL;
		}
		return bpf_fail("sync with the module", err);
	}
	return PL_EXIT_OK;
}

static void cgroup_of(__u32 pid, char *buf, size_t size)
{
	char path[64], line[4096];
	FILE *f;

	snprintf(buf, size, "-");
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, size, "%s", line + 3);
			break;
		}
	}
	fclose(f);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every loaded layer's name, sorted; NULL-terminated, malloc'ed. */
static char **loaded_layers(void)
{
	char dir[4096];
	struct dirent *de;
	char **names, **grown;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/layers", pl_sysfs_dir());
	names = calloc(1, sizeof(*names));
	d = opendir(dir);
	if (!d || !names) {
		if (d)
			closedir(d);
		return names;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 2) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
		names[n] = NULL;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	return names;
}

static void free_names(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

/* Each process of LAYER and KIND once; with -j, the lines of its files it maps. */
static void print_procs(struct json *j, const struct pl_opts *o, const char *layer, __u32 kind,
			const struct pl_bpf_proc *p, size_t n)
{
	char cgroup[4096];

	if (o->json)
		json_array_start(j, pl_bpf_kind_name(kind));
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (p[i].kind != kind || strcmp(p[i].layer, layer))
			continue;
		/* sorted: the process's other files follow */
		for (k = i + 1; k < n && p[k].pid == p[i].pid && p[k].kind == kind &&
		     !strcmp(p[k].layer, layer); k++)
			;
		cgroup_of(p[i].pid, cgroup, sizeof(cgroup));
		if (o->json) {
			json_object_start(j, NULL);
			json_uint(j, "pid", p[i].pid);
			json_string(j, "comm", p[i].comm);
			json_uint(j, "cgroup_id", p[i].cgroup_id);
			json_string(j, "cgroup", cgroup);
			json_array_start(j, "files");
			for (size_t f = i; f < k; f++)
				json_uint(j, NULL, p[f].file);
			json_array_end(j);
			json_object_end(j);
		} else {
			printf("  %-8s %7u  %-16s %s\n", pl_bpf_kind_name(kind), p[i].pid,
			       p[i].comm, cgroup);
		}
		i = k - 1;
	}
	if (o->json)
		json_array_end(j);
}

int cmd_usage(int argc, char **argv, const struct pl_opts *o)
{
	static const struct option longopts[] = {
		{ "stale", no_argument, NULL, 's' },
		{ "rescan", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	enum pl_bpf_scan_mode mode = PL_BPF_SCAN_STATE;
	struct pl_bpf_scan_stats stats = { 0 };
	struct pl_bpf_proc *procs = NULL;
	char state[32], **names = NULL, *one[2] = { NULL, NULL };
	bool stale_only = false;
	size_t n = 0, stale = 0;
	struct pl_bpf *b = NULL;
	const char *layer;
	struct json j;
	int c, err, rc;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "+sr", longopts, NULL)) != -1) {
		if (c == 's')
			stale_only = true;
		else if (c == 'r')
			mode = PL_BPF_SCAN_WALK;	/* the cross-check: every mapping */
		else
			return PL_EXIT_USAGE;
	}
	if (argc + 1 - optind > 1) {
		pl_err("usage: unexpected argument '%s'", argv[optind]);
		return PL_EXIT_USAGE;
	}
	layer = optind <= argc ? argv[optind - 1] : NULL;
	if (!pl_module_loaded())
		return pl_module_missing();
	if (layer && !layer_known(layer, state, sizeof(state)))
		return PL_EXIT_FAIL;
	rc = bpf_ready(&b);
	if (rc)
		return rc;
	err = pl_bpf_usage_scan(b, layer, mode, &procs, &n, &stats);
	if (err) {
		pl_bpf_close(b);
		return bpf_fail("scan", err);
	}
	if (layer) {
		one[0] = (char *)layer;
	} else {
		names = loaded_layers();
		if (!names) {
			pl_err_sys(ENOMEM, "%s/layers", pl_sysfs_dir());
			free(procs);
			pl_bpf_close(b);
			return PL_EXIT_FAIL;
		}
	}
	if (o->json) {
		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		/* how the answer was found: per process, or by walking mappings */
		json_object_start(&j, "scan");
		json_string(&j, "mode", stats.full ? "walk" : "lists");
		json_uint(&j, "processes", stats.procs);
		json_uint(&j, "walked", stats.walked);
		json_object_end(&j);
		json_array_start(&j, "layers");
	} else if (!layer && !names[0]) {
		printf("no layers loaded\n");
	}
	for (char **l = layer ? one : names; *l; l++) {
		struct pl_bpf_layer info = { 0 };
		struct pl_bpf_counts cn = { 0 };
		char attr[PL_BPF_NAME_MAX + 32];
		__u64 cid;
		size_t np = pl_bpf_count(procs, n, *l, PL_BPF_PATCHED);
		size_t ns = pl_bpf_count(procs, n, *l, PL_BPF_STALE);

		snprintf(attr, sizeof(attr), "layers/%s/state", *l);
		if (pl_sysfs_read(attr, state, sizeof(state)) < 0)
			snprintf(state, sizeof(state), "unloaded");
		pl_bpf_layer(b, *l, &info);
		pl_bpf_counts(b, *l, &cn, &cid);
		stale += ns;
		if (o->json) {
			json_object_start(&j, NULL);
			json_string(&j, "name", *l);
			json_string(&j, "state", state);
			json_bool(&j, "enforce", info.enforce);
			json_uint(&j, "crashes", info.crashes);
			json_uint(&j, "denied", info.denied);
			json_uint(&j, "service_crashes", cn.service_crashes);
		} else {
			printf("%s (%s, enforcement %s): %zu patched, %zu stale, %llu crashes "
			       "(%llu of services), %llu denied\n", *l, state,
			       info.enforce ? "on" : "off", np, ns, (unsigned long long)info.crashes,
			       (unsigned long long)cn.service_crashes,
			       (unsigned long long)info.denied);
		}
		if (!stale_only)
			print_procs(&j, o, *l, PL_BPF_PATCHED, procs, n);
		print_procs(&j, o, *l, PL_BPF_STALE, procs, n);
		if (o->json)
			json_object_end(&j);
	}
	if (o->json) {
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	}
	free_names(names);
	free(procs);
	pl_bpf_close(b);
	/* like needrestart -b: scripts ask whether anything needs a restart */
	return stale_only && stale ? PL_EXIT_FAIL : PL_EXIT_OK;
}

int cmd_enforce(int argc, char **argv, const struct pl_opts *o)
{
	char state[32];
	struct pl_bpf *b;
	bool on;
	int err, rc;

	if (argc != 2 || (strcmp(argv[0], "on") && strcmp(argv[0], "off"))) {
		pl_err("usage: %s layer enforce on|off LAYER", pl_prog);
		return PL_EXIT_USAGE;
	}
	on = !strcmp(argv[0], "on");
	if (!pl_module_loaded())
		return pl_module_missing();
	if (!layer_known(argv[1], state, sizeof(state)))
		return PL_EXIT_FAIL;
	rc = bpf_ready(&b);
	if (rc)
		return rc;
	err = pl_bpf_enforce(b, argv[1], on);
	pl_bpf_close(b);
	if (err == -EINVAL) {
		pl_err("layer '%s' is %s, not active: enforcement applies to active layers",
		       argv[1], state);
		return PL_EXIT_FAIL;
	}
	if (err)
		return bpf_fail("enforce", err);
	if (o->json) {
		struct json j;

		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_string(&j, "layer", argv[1]);
		json_bool(&j, "enforce", on);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("enforcement %s for layer %s\n", on ? "on" : "off", argv[1]);
	}
	return PL_EXIT_OK;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

struct printer {
	const struct pl_opts *o;
	long remaining;
};

static int print_event(const struct pl_bpf_event *ev, void *ctx)
{
	struct printer *p = ctx;

	if (p->remaining == 0)
		return 1;
	if (p->o->json) {
		struct json j;

		pl_json_line(&j);
		json_object_start(&j, NULL);
		json_string(&j, "event", pl_bpf_kind_name(ev->kind));
		json_string(&j, "layer", ev->layer);
		json_uint(&j, "pid", ev->pid);
		json_uint(&j, "tid", ev->tid);
		json_string(&j, "comm", ev->comm);
		json_uint(&j, "cgroup_id", ev->cgroup_id);
		if (ev->kind == PL_BPF_CRASH) {
			json_int(&j, "signal", ev->signal);
			json_int(&j, "code", ev->code);
			json_bool(&j, "service", ev->flags & PL_BPF_EV_SERVICE);
		}
		if (ev->ino) {
			char dev[32];

			snprintf(dev, sizeof(dev), "%u:%u", PL_BPF_MAJOR(ev->dev), PL_BPF_MINOR(ev->dev));
			json_string(&j, "dev", dev);
			json_uint(&j, "ino", ev->ino);
		}
		json_uint(&j, "time_ns", ev->time_ns);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("%s layer=%s pid=%u comm=%s", pl_bpf_kind_name(ev->kind),
		       ev->layer[0] ? ev->layer : "-", ev->pid, ev->comm);
		if (ev->kind == PL_BPF_CRASH)
			printf(" signal=%d (%s) code=%d%s", ev->signal, strsignal(ev->signal),
			       ev->code, ev->flags & PL_BPF_EV_SERVICE ? " service" : "");
		if (ev->ino)
			printf(" file=%u:%u:%llu", PL_BPF_MAJOR(ev->dev), PL_BPF_MINOR(ev->dev),
			       (unsigned long long)ev->ino);
		putchar('\n');
	}
	fflush(stdout);
	if (p->remaining > 0)
		p->remaining--;
	if (ferror(stdout))
		p->remaining = 0;	/* the reader is gone: main says so */
	return p->remaining == 0;
}

static int bpf_events(int argc, char **argv, const struct pl_opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct printer p = { .o = o, .remaining = -1 };
	struct ring_buffer *rb;
	struct pl_bpf *b;
	char *end;
	int c, err, rc;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "+c:", longopts, NULL)) != -1) {
		if (c != 'c')
			return PL_EXIT_USAGE;
		errno = 0;
		p.remaining = strtol(optarg, &end, 10);
		if (errno || *end || p.remaining <= 0) {
			pl_err("--count: '%s' is not a positive number", optarg);
			return PL_EXIT_USAGE;
		}
	}
	if (optind != argc + 1) {
		pl_err("bpf events: unexpected argument '%s'", argv[optind - 1]);
		return PL_EXIT_USAGE;
	}
	if (!pl_module_loaded())
		return pl_module_missing();
	rc = bpf_ready(&b);
	if (rc)
		return rc;
	err = pl_bpf_events(b, print_event, &p, &rb);
	if (err) {
		pl_bpf_close(b);
		return bpf_fail("ring buffer", err);
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	/* on stderr, so stdout has events only; tests wait for it */
	fprintf(stderr, "listening for patchlayer BPF events\n");
	while (!stop && p.remaining != 0) {
		err = ring_buffer__poll(rb, 500);
		if (err < 0 && err != -EINTR) {
			pl_err_sys(-err, "ring buffer");
			break;
		}
	}
	ring_buffer__free(rb);
	pl_bpf_close(b);
	return p.remaining == 0 || stop ? PL_EXIT_OK : PL_EXIT_FAIL;
}

static int bpf_status(const struct pl_opts *o)
{
	static const char *const heads[] = { "LAYER", "STATE", "ENFORCE", "CRASHES", "DENIED" };
	struct pl_bpf_layer info;
	struct pl_table t;
	char **names;
	struct pl_bpf *b;
	struct json j;
	int err;

	err = pl_bpf_open(&b, 0);
	if (err == -ENOENT) {
		if (o->json) {
			pl_json_begin(&j, o);
			json_object_start(&j, NULL);
			json_bool(&j, "loaded", false);
			json_object_end(&j);
			json_finish(&j);
		} else {
			printf("BPF side: not loaded\n");
		}
		return PL_EXIT_OK;
	}
	if (err)
		return bpf_fail("BPF side", err);
	names = loaded_layers();
	if (o->json) {
		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_bool(&j, "loaded", true);
		json_string(&j, "pins", PL_BPF_PIN_DIR);
		json_array_start(&j, "layers");
	} else {
		printf("BPF side: loaded, pinned under %s\n", PL_BPF_PIN_DIR);
		pl_table_init(&t, 5, heads, "lllrr");
	}
	for (size_t i = 0; names && names[i]; i++) {
		bool synced = pl_bpf_layer(b, names[i], &info) == 0;
		struct pl_bpf_counts cn = { 0 };
		__u64 cid;

		if (synced)
			pl_bpf_counts(b, names[i], &cn, &cid);

		if (o->json) {
			json_object_start(&j, NULL);
			json_string(&j, "name", names[i]);
			json_bool(&j, "synced", synced);
			json_bool(&j, "active", synced && info.active);
			json_bool(&j, "enforce", synced && info.enforce);
			json_uint(&j, "crashes", synced ? info.crashes : 0);
			json_uint(&j, "denied", synced ? info.denied : 0);
			json_uint(&j, "service_crashes", cn.service_crashes);
			json_object_end(&j);
		} else {
			char crashes[24], denied[24];

			snprintf(crashes, sizeof(crashes), "%llu", (unsigned long long)info.crashes);
			snprintf(denied, sizeof(denied), "%llu", (unsigned long long)info.denied);
			pl_table_add(&t, names[i], !synced ? "not synced yet" :
				     info.active ? "active" : "inactive",
				     synced ? (info.enforce ? "on" : "off") : NULL,
				     synced ? crashes : NULL, synced ? denied : NULL);
		}
	}
	if (o->json) {
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else {
		if (t.nrows)
			pl_table_print(&t, stdout, "  ");
		pl_table_free(&t);
	}
	free_names(names);
	pl_bpf_close(b);
	return PL_EXIT_OK;
}

/* What bpf load and unload did: {"loaded": LOADED, "changed": CHANGED, "pin_dir": ...}. */
static int bpf_said(const struct pl_opts *o, bool loaded, bool changed, const char *text)
{
	struct json j;

	if (!o->json) {
		printf("%s\n", text);
		return PL_EXIT_OK;
	}
	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	json_bool(&j, "loaded", loaded);
	json_bool(&j, "changed", changed);
	json_string(&j, "pin_dir", PL_BPF_PIN_DIR);
	json_object_end(&j);
	json_finish(&j);
	return PL_EXIT_OK;
}

/* "bpf load", "bpf unload" and "bpf status" take no arguments. */
static int bpf_no_args(int argc, char **argv, const char *what)
{
	if (argc > 0) {
		pl_err("bpf %s: unexpected argument '%s'", what, argv[0]);
		return PL_EXIT_USAGE;
	}
	return 0;
}

int cmd_bpf_events(int argc, char **argv, const struct pl_opts *o)
{
	return bpf_events(argc, argv, o);
}

int cmd_bpf_unload(int argc, char **argv, const struct pl_opts *o)
{
	int err = bpf_no_args(argc, argv, "unload");

	if (err)
		return err;
	err = pl_bpf_unload();
	if (err == -ENOENT)
		return bpf_said(o, false, false, "BPF side: not loaded");
	if (err)
		return bpf_fail("unload", err);
	return bpf_said(o, false, true, "BPF side unloaded");
}

int cmd_bpf_status(int argc, char **argv, const struct pl_opts *o)
{
	int rc = bpf_no_args(argc, argv, "status");

	if (rc)
		return rc;
	if (!pl_module_loaded())
		return pl_module_missing();
	return bpf_status(o);
}

int cmd_bpf_load(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_bpf *b;
	bool was_loaded;
	int rc = bpf_no_args(argc, argv, "load");

	if (rc)
		return rc;
	if (!pl_module_loaded())
		return pl_module_missing();
	was_loaded = pl_bpf_loaded();
	rc = bpf_ready(&b);
	if (rc)
		return rc;
	pl_bpf_close(b);
	return bpf_said(o, true, !was_loaded, was_loaded ?
			"BPF side already loaded, pinned under " PL_BPF_PIN_DIR :
			"BPF side loaded, pinned under " PL_BPF_PIN_DIR);
}
