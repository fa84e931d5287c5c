// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF side (plbpf.h): load and pin it once, or reuse its pins; keep its
 * maps in step with the module's layers; scan; stream its events.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "patchlayer.h"
#include "plbpf_priv.h"
#include "plbpf.skel.h"

/* every pin; "scan" is pinned last, so its presence means a complete load */
static const char *const pl_pins[] = {
	"watched", "layers", "counts", "slots", "tasks", "events", "scratch", "scanstate",
	"changes", "mmap_file", "mprotect", "unmap", "exec", "exit", "fork", "signal", "state", "build",
	"taskscan", "scan",
};
#define PL_PIN_COMPLETE "scan"
/*
 * "build": a one-entry array holding pl_build_id() of the patchlayer that
 * pinned the programs. The pins outlive the daemon, and so a package
 * upgrade: programs and maps of another build (another layout of the maps,
 * other fixes) are not reused but loaded again.
 */
#define PL_PIN_BUILD "build"

static int pl_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's verifier logs only help developers */
	if (!getenv("PATCHLAYER_BPF_DEBUG"))
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static void pl_pin_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", PL_BPF_PIN_DIR, name);
}

static void pl_remove_pins(void)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(pl_pins) / sizeof(pl_pins[0]); i++) {
		pl_pin_path(path, sizeof(path), pl_pins[i]);
		unlink(path);
	}
}

/* A complete load of this version: every pin (an older one lacks some) */
static bool pl_pins_complete(void)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(pl_pins) / sizeof(pl_pins[0]); i++) {
		pl_pin_path(path, sizeof(path), pl_pins[i]);
		if (access(path, F_OK))
			return false;
	}
	return true;
}

/* Whether some build's load finished: its last pin exists. */
bool pl_bpf_loaded(void)
{
	char path[PATH_MAX];

	pl_pin_path(path, sizeof(path), PL_PIN_COMPLETE);
	return access(path, F_OK) == 0;
}

static int pl_pin_link(struct bpf_link *link, const char *name)
{
	char path[PATH_MAX];

	pl_pin_path(path, sizeof(path), name);
	return bpf_link__pin(link, path);
}

/* This build's BPF object, hashed (FNV-1a): what its pins must carry. */
static uint64_t pl_build_id(void)
{
	size_t len = 0;
	const unsigned char *p = plbpf_bpf__elf_bytes(&len);
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int pl_pin_build(void)
{
	char path[PATH_MAX];
	uint64_t id = pl_build_id();
	__u32 key = 0;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pl_build", sizeof(key), sizeof(id), 1, NULL);
	if (fd < 0)
		return -errno;
	pl_pin_path(path, sizeof(path), PL_PIN_BUILD);
	err = bpf_map_update_elem(fd, &key, &id, BPF_ANY) ?: bpf_obj_pin(fd, path);
	if (err)
		err = -errno;
	close(fd);
	return err;
}

/* Whether the complete pins are this build's. */
static bool pl_pins_ours(void)
{
	char path[PATH_MAX];
	uint64_t id = 0;
	__u32 key = 0;
	int fd;
	bool ours;

	pl_pin_path(path, sizeof(path), PL_PIN_BUILD);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;	/* pinned by a build before the marker */
	ours = bpf_map_lookup_elem(fd, &key, &id) == 0 && id == pl_build_id();
	close(fd);
	return ours;
}

/* Loads, attaches and pins everything; on failure nothing stays pinned. */
static int pl_load_and_pin(void)
{
	struct plbpf_bpf *skel;
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	skel = plbpf_bpf__open();
	if (!skel)
		return -errno;
	bpf_object__for_each_map(map, skel->obj) {
		pl_pin_path(path, sizeof(path), bpf_map__name(map));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			goto out;
	}
	/* the scans run on demand, through a new iterator each time */
	bpf_program__set_autoattach(skel->progs.pl_scan, false);
	bpf_program__set_autoattach(skel->progs.pl_taskscan, false);
	err = plbpf_bpf__load(skel);
	if (err)
		goto out;
	/* the lists start incomplete (wgen 0), before any hook runs */
	err = bpf_map__update_elem(skel->maps.scanstate, &(__u32){ 0 }, sizeof(__u32),
				   &(struct pl_bpf_scanstate){ .wgen = 1 },
				   sizeof(struct pl_bpf_scanstate), BPF_ANY);
	if (err)
		goto out;
	err = plbpf_bpf__attach(skel);
	if (err)
		goto out;
	err = pl_pin_link(skel->links.pl_mmap_file, "mmap_file") ?:
	      pl_pin_link(skel->links.pl_mprotect, "mprotect") ?:
	      pl_pin_link(skel->links.pl_unmap, "unmap") ?:
	      pl_pin_link(skel->links.pl_exec, "exec") ?:
	      pl_pin_link(skel->links.pl_exit, "exit") ?:
	      pl_pin_link(skel->links.pl_fork, "fork") ?:
	      pl_pin_link(skel->links.pl_signal, "signal") ?:
	      pl_pin_link(skel->links.pl_state, "state") ?:
	      pl_pin_build();
	if (err)
		goto out;
	pl_pin_path(path, sizeof(path), "taskscan");
	err = bpf_program__pin(skel->progs.pl_taskscan, path);
	if (err)
		goto out;
	pl_pin_path(path, sizeof(path), PL_PIN_COMPLETE);
	err = bpf_program__pin(skel->progs.pl_scan, path);
out:
	plbpf_bpf__destroy(skel);
	if (err)
		pl_remove_pins();
	return err;
}

static int pl_get_pin(const char *name)
{
	char path[PATH_MAX];
	int fd;

	pl_pin_path(path, sizeof(path), name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int pl_bpf_lock(struct pl_bpf *b)
{
	return flock(b->dir_fd, LOCK_EX) ? -errno : 0;
}

void pl_bpf_unlock(struct pl_bpf *b)
{
	flock(b->dir_fd, LOCK_UN);
}

void pl_bpf_close(struct pl_bpf *b)
{
	int *fds[] = { &b->dir_fd, &b->watched_fd, &b->layers_fd, &b->counts_fd, &b->slots_fd,
		       &b->events_fd, &b->scan_fd, &b->taskscan_fd, &b->scanstate_fd, &b->changes_fd };

	if (!b)
		return;
	pl_bpf_cache_free(b);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	free(b);
}

int pl_bpf_open(struct pl_bpf **out, unsigned int flags)
{
	struct pl_bpf *b;
	int err = 0;

	*out = NULL;
	/* the programs follow the module's tracepoint: no module, no BPF side */
	if (!pl_module_loaded())
		return -ENODEV;
	libbpf_set_print(pl_libbpf_print);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->dir_fd = b->watched_fd = b->layers_fd = b->counts_fd = b->slots_fd = -1;
	b->events_fd = b->scan_fd = b->taskscan_fd = b->scanstate_fd = b->changes_fd = -1;
	if ((flags & PL_BPF_LOAD) && mkdir(PL_BPF_PIN_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	b->dir_fd = open(PL_BPF_PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->dir_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = pl_bpf_lock(b);
	if (err)
		goto fail;
	/* a finished load without this build's pins or marker: another build's */
	if (pl_bpf_loaded() && (!pl_pins_complete() || !pl_pins_ours())) {
		if (!(flags & PL_BPF_LOAD)) {
			err = -ESTALE;
		} else {
			/* its links go with their pins: the old programs are detached */
			pl_err("the BPF side pinned in %s is another build's: loading this one's",
			       PL_BPF_PIN_DIR);
			pl_remove_pins();
		}
	}
	if (!err && !pl_pins_complete()) {
		if (!(flags & PL_BPF_LOAD))
			err = -ENOENT;
		else {
			/* the remains of an interrupted load */
			pl_remove_pins();
			err = pl_load_and_pin();
		}
	}
	if (!err) {
		b->watched_fd = pl_get_pin("watched");
		b->layers_fd = pl_get_pin("layers");
		b->counts_fd = pl_get_pin("counts");
		b->slots_fd = pl_get_pin("slots");
		b->events_fd = pl_get_pin("events");
		b->scan_fd = pl_get_pin("scan");
		b->taskscan_fd = pl_get_pin("taskscan");
		b->scanstate_fd = pl_get_pin("scanstate");
		b->changes_fd = pl_get_pin("changes");
		err = b->watched_fd < 0 ? b->watched_fd : b->layers_fd < 0 ? b->layers_fd :
		      b->counts_fd < 0 ? b->counts_fd : b->slots_fd < 0 ? b->slots_fd : b->events_fd < 0 ? b->events_fd :
		      b->scan_fd < 0 ? b->scan_fd : b->taskscan_fd < 0 ? b->taskscan_fd :
		      b->scanstate_fd < 0 ? b->scanstate_fd : b->changes_fd < 0 ? b->changes_fd : 0;
	}
	pl_bpf_unlock(b);
	if (err)
		goto fail;
	*out = b;
	return 0;
fail:
	pl_bpf_close(b);
	return err;
}

int pl_bpf_unload(void)
{
	int fd = open(PL_BPF_PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!pl_pins_complete() && faccessat(fd, "watched", F_OK, 0))
		err = -ENOENT;
	/* the last reference to each link goes with its pin: detached */
	pl_remove_pins();
	if (rmdir(PL_BPF_PIN_DIR) && errno != ENOENT && !err)
		err = -errno;
	close(fd);
	return err;
}

/* ---- queries ---- */

static int pl_slot_of(struct pl_bpf *b, const char *layer, __u32 *slot)
{
	pl_name_key key = { 0 };

	if (strlen(layer) > PL_BPF_NAME_MAX)
		return -ENOENT;
	strcpy(key, layer);
	return bpf_map_lookup_elem(b->slots_fd, key, slot) ? -errno : 0;
}

/* The slot's counters, when they count for its current gen; else zeros. */
static void pl_counts_of(struct pl_bpf *b, __u32 slot, const struct pl_bpf_layer *info,
			 struct pl_bpf_counts *c)
{
	if (bpf_map_lookup_elem(b->counts_fd, &slot, c) || c->gen != info->gen)
		memset(c, 0, sizeof(*c));
}

int pl_bpf_layer(struct pl_bpf *b, const char *layer, struct pl_bpf_layer *info)
{
	struct pl_bpf_counts c;
	__u32 slot;
	int err = pl_slot_of(b, layer, &slot);

	if (err)
		return err;
	if (bpf_map_lookup_elem(b->layers_fd, &slot, info))
		return -errno;
	pl_counts_of(b, slot, info, &c);
	info->crashes = c.crashes;
	return 0;
}

int pl_bpf_counts(struct pl_bpf *b, const char *layer, struct pl_bpf_counts *c, __u64 *id)
{
	struct bpf_map_info mi = { 0 };
	struct pl_bpf_layer info;
	__u32 len = sizeof(mi);
	__u32 slot;
	int err = pl_slot_of(b, layer, &slot);

	if (err)
		return err;
	if (bpf_map_lookup_elem(b->layers_fd, &slot, &info))
		return -errno;
	/* the slot changed hands between the two lookups */
	if (strncmp(info.name, layer, sizeof(info.name)))
		return -ENOENT;
	pl_counts_of(b, slot, &info, c);
	if (bpf_obj_get_info_by_fd(b->counts_fd, &mi, &len))
		return -errno;
	*id = (__u64)mi.id << 32 | info.gen;
	return 0;
}

int pl_bpf_enforce(struct pl_bpf *b, const char *layer, bool on)
{
	struct pl_bpf_layer info;
	__u32 slot;
	int err;

	err = pl_bpf_lock(b);
	if (err)
		return err;
	err = pl_slot_of(b, layer, &slot);
	if (!err && bpf_map_lookup_elem(b->layers_fd, &slot, &info))
		err = -errno;
	if (!err && on && !info.active)
		err = -EINVAL;
	if (!err) {
		info.enforce = on;
		if (bpf_map_update_elem(b->layers_fd, &slot, &info, BPF_ANY))
			err = -errno;
	}
	/* dropped meanwhile: the tracepoint may have fired before our write */
	if (!err && on && !pl_bpf_state_active(layer)) {
		info.enforce = 0;
		info.active = 0;
		bpf_map_update_elem(b->layers_fd, &slot, &info, BPF_ANY);
		err = -EINVAL;
	}
	pl_bpf_unlock(b);
	return err;
}


/* The whole output of one run of iterator PROG_FD, over process PID alone if not 0. */
static int pl_run_iter(int prog_fd, __u32 pid, char **buf, size_t *len)
{
	union bpf_iter_link_info li = { .task.tid = pid };
	LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &li, .iter_info_len = sizeof(li));
	size_t cap = 64 * 1024, used = 0;
	int link_fd, iter_fd, err = 0;
	char *data;
	ssize_t n;

	link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, pid ? &opts : NULL);
	if (link_fd < 0)
		return -errno;
	iter_fd = bpf_iter_create(link_fd);
	if (iter_fd < 0) {
		err = -errno;
		close(link_fd);
		return err;
	}
	data = malloc(cap);
	while (data) {
		if (used == cap) {
			char *grown = realloc(data, cap * 2);

			if (!grown)
				break;
			data = grown;
			cap *= 2;
		}
		n = read(iter_fd, data + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		used += (size_t)n;
	}
	if (!data || used == cap)
		err = -ENOMEM;
	close(iter_fd);
	close(link_fd);
	if (err) {
		free(data);
		return err;
	}
	*buf = data;
	*len = used;
	return 0;
}

/*
 * The answer being built, compact: its entries (struct pl_bpf_ent) sort
 * on integers (the layer's rank among the names, kind, pid, file), each
 * naming the record of its process (comm, cgroup); the layers map as read
 * once.
 */
struct pl_pinfo {
	__u64 cgroup_id;
	char comm[PL_BPF_COMM_LEN];
};

struct pl_answer {
	struct pl_bpf_layer slots[PL_BPF_MAX_LAYERS];
	unsigned int rank[PL_BPF_MAX_LAYERS];	/* the slot's name's place, sorted */
	int slot_of[PL_BPF_MAX_LAYERS];		/* rank -> slot, -1 */
	const char *layer;		/* NULL: every layer */
	struct pl_bpf_ent *e;
	size_t n, cap;
	struct pl_pinfo *procs;
	size_t n_procs, cap_procs;
	__u32 last_pid;			/* the pid of procs[n_procs - 1] */
};

static int pl_grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 1024;
	void *grown;

	if (n < *cap)
		return 0;
	grown = reallocarray(*p, c, size);
	if (!grown)
		return -ENOMEM;
	*p = grown;
	*cap = c;
	return 0;
}

/* Each named slot's place among the names, the order of the answer. */
static void pl_answer_ranks(struct pl_answer *a)
{
	for (int i = 0; i < PL_BPF_MAX_LAYERS; i++)
		a->slot_of[i] = -1;
	for (int i = 0; i < PL_BPF_MAX_LAYERS; i++) {
		a->rank[i] = 0;
		for (int j = 0; j < PL_BPF_MAX_LAYERS; j++)
			if (a->slots[j].name[0] &&
			    (strcmp(a->slots[j].name, a->slots[i].name) < 0 ||
			     (!strcmp(a->slots[j].name, a->slots[i].name) && j < i)))
				a->rank[i]++;
		if (a->slots[i].name[0])
			a->slot_of[a->rank[i]] = i;
	}
}

/* Process PID (comm, cgroup) for the entries that follow. */
static int pl_answer_proc(struct pl_answer *a, __u32 pid, __u64 cgroup_id, const char *comm)
{
	struct pl_pinfo *p;

	/* a walk's records of one process come together */
	if (a->n_procs && a->last_pid == pid)
		return 0;
	if (pl_grow((void **)&a->procs, &a->cap_procs, a->n_procs, sizeof(*a->procs)))
		return -ENOMEM;
	p = &a->procs[a->n_procs++];
	p->cgroup_id = cgroup_id;
	memcpy(p->comm, comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	a->last_pid = pid;
	return 0;
}

/* An entry of the process last given to pl_answer_proc(). */
static int pl_answer_add(struct pl_answer *a, __u32 pid, __u32 slot, __u32 kind, __u32 file)
{
	if (slot >= PL_BPF_MAX_LAYERS || !a->slots[slot].name[0] || kind > 0xff)
		return 0;
	if (a->layer && strcmp(a->layer, a->slots[slot].name))
		return 0;
	if (pl_grow((void **)&a->e, &a->cap, a->n, sizeof(*a->e)))
		return -ENOMEM;
	a->e[a->n++] = (struct pl_bpf_ent){
		.key = (__u64)a->rank[slot] << 40 | (__u64)kind << 32 | pid,
		.file = file,
		.proc = (__u32)(a->n_procs - 1),
	};
	return 0;
}

/*
 * The sorted answer: one entry per process, layer, kind and file, the
 * layers' names after the entries in the same allocation.
 */
static int pl_answer_out(struct pl_answer *a, struct pl_bpf_proc **procs, size_t *count)
{
	char (*names)[PL_BPF_NAME_MAX + 8];
	struct pl_bpf_proc *out;
	size_t kept;
	__u32 *pos;
	int err;

	pos = malloc((a->n + 1) * sizeof(*pos));
	if (!pos)
		return -ENOMEM;
	err = pl_bpf_ent_order(a->e, a->n, pos, &kept);
	if (err < 0) {
		free(pos);
		return err;
	}
	out = calloc(1, (kept + 1) * sizeof(*out) + PL_BPF_MAX_LAYERS * sizeof(*names));
	if (!out) {
		free(pos);
		return -ENOMEM;
	}
	names = (void *)(out + kept + 1);
	for (int i = 0; i < PL_BPF_MAX_LAYERS; i++) {
		memcpy(names[i], a->slots[i].name, sizeof(names[i]));
		names[i][sizeof(names[i]) - 1] = '\0';
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct pl_bpf_ent *e = &a->e[i];
		const struct pl_pinfo *p = &a->procs[e->proc];
		/* pl_answer_add() took named slots only: each rank has one */
		int slot = a->slot_of[(e->key >> 40) % PL_BPF_MAX_LAYERS];
		struct pl_bpf_proc *o;

		assert(slot >= 0);
		if (pos[i] == PL_BPF_ENT_DUP)
			continue;
		o = &out[pos[i]];
		o->pid = (__u32)e->key;
		o->kind = (__u32)(e->key >> 32) & 0xff;
		o->file = e->file;
		o->cgroup_id = p->cgroup_id;
		memcpy(o->comm, p->comm, sizeof(o->comm));
		o->layer = names[slot];
	}
	free(pos);
	*procs = out;
	*count = kept;
	return 0;
}

/* The scan iterator's records (the mappings of active layers' files). */
static int pl_answer_walk(struct pl_answer *a, const char *data, size_t len)
{
	int err = 0;

	for (size_t off = 0; !err && off + sizeof(struct pl_bpf_scan_rec) <= len;
	     off += sizeof(struct pl_bpf_scan_rec)) {
		struct pl_bpf_scan_rec r;

		memcpy(&r, data + off, sizeof(r));
		err = pl_answer_proc(a, r.pid, r.cgroup_id, r.comm) ?:
		      pl_answer_add(a, r.pid, r.slot, r.kind, r.file);
	}
	return err;
}

/*
 * One run of the scan iterator, over process PID alone if not 0. Each run
 * has its id in "scanstate", so the programs know its first visit of a
 * process (it rebuilds the process's list) and the hooks that race with it.
 */
static int pl_walk(struct pl_bpf *b, struct pl_answer *a, __u32 pid)
{
	struct pl_bpf_scanstate st;
	__u32 zero = 0;
	size_t len = 0;
	char *data = NULL;
	int err;

	if (bpf_map_lookup_elem(b->scanstate_fd, &zero, &st))
		return -errno;
	st.walk = st.walk + 1 ?: 1;
	st.walking = 1;
	if (bpf_map_update_elem(b->scanstate_fd, &zero, &st, BPF_ANY))
		return -errno;
	err = pl_run_iter(b->scan_fd, pid, &data, &len);
	/* BPF changes only the lists, never this map: the id stays */
	st.walking = 0;
	if (bpf_map_update_elem(b->scanstate_fd, &zero, &st, BPF_ANY) && !err)
		err = -errno;
	/* gone meanwhile */
	if (pid && (err == -ENOENT || err == -ESRCH))
		return 0;
	if (!err)
		err = pl_answer_walk(a, data, len);
	free(data);
	return err;
}

/* The taskscan pass: answers from the lists that hold, the others' pids in *WALK. */
static int pl_answer_lists(struct pl_bpf *b, struct pl_answer *a, __u32 **walk, size_t *n_walk,
			   size_t *procs)
{
	struct {
		struct pl_bpf_inode key;
		const struct pl_bpf_entry *e;
	} memo[PL_BPF_TASK_FILES];
	bool memo_ok[PL_BPF_TASK_FILES] = { 0 };
	struct pl_bpf_entry *watched = NULL;
	struct pl_bpf_scanstate st;
	struct pl_bpf_task_rec rec;
	size_t len = 0, off = 0, n_watched = 0, n_files, cap = 0;
	const char *files;
	char *data = NULL;
	__u32 zero = 0;
	int err;

	*walk = NULL;
	*n_walk = *procs = 0;
	/* the generation first: keys added after it make the lists stale */
	if (bpf_map_lookup_elem(b->scanstate_fd, &zero, &st))
		return -errno;
	err = pl_bpf_dump_watched(b, &watched, &n_watched);
	if (err)
		return err;
	qsort(watched, n_watched, sizeof(*watched), pl_bpf_entry_cmp);
	err = pl_run_iter(b->taskscan_fd, 0, &data, &len);
	while (!err && pl_bpf_task_next(data, len, &off, &rec, &files, &n_files)) {
		(*procs)++;
		if (!pl_bpf_task_valid(&rec, st.wgen)) {
			if (*n_walk == cap) {
				__u32 *grown = reallocarray(*walk, cap ? 2 * cap : 256, sizeof(**walk));

				if (!grown) {
					err = -ENOMEM;
					break;
				}
				*walk = grown;
				cap = cap ? 2 * cap : 256;
			}
			(*walk)[(*n_walk)++] = rec.pid;
			continue;
		}
		if (n_files)
			err = pl_answer_proc(a, rec.pid, rec.cgroup_id, rec.comm);
		for (size_t i = 0; i < n_files && !err; i++) {
			struct pl_bpf_entry probe = { 0 };
			const struct pl_bpf_entry *e;

			memcpy(&probe.key, files + i * sizeof(probe.key), sizeof(probe.key));
			probe.key.pad = 0;
			/*
			 * Processes of one program list the same files in the
			 * same order: the look-up of the process before, if
			 * the same file is at the same place.
			 */
			if (memo_ok[i] && !memcmp(&memo[i].key, &probe.key, sizeof(probe.key))) {
				e = memo[i].e;
			} else {
				e = bsearch(&probe, watched, n_watched, sizeof(*watched),
					    pl_bpf_entry_cmp);
				memo[i].key = probe.key;
				memo[i].e = e;
				memo_ok[i] = true;
			}
			/* as the scan iterator: active layers only */
			if (!e || e->w.slot >= PL_BPF_MAX_LAYERS || !a->slots[e->w.slot].active)
				continue;
			err = pl_answer_add(a, rec.pid, e->w.slot, e->w.kind, e->w.file);
		}
	}
	free(data);
	free(watched);
	if (err) {
		free(*walk);
		*walk = NULL;
		*n_walk = 0;
	}
	return err;
}

int pl_bpf_usage_scan(struct pl_bpf *b, const char *layer, enum pl_bpf_scan_mode mode,
		      struct pl_bpf_proc **procs, size_t *count, struct pl_bpf_scan_stats *stats)
{
	struct pl_bpf_scan_stats st = { 0 };
	struct pl_answer *a;
	__u32 *walk = NULL;
	size_t n_walk = 0;
	int err;

	*procs = NULL;
	*count = 0;
	if (layer) {
		__u32 slot;

		err = pl_slot_of(b, layer, &slot);
		if (err)
			return err;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->layer = layer;
	for (__u32 i = 0; i < PL_BPF_MAX_LAYERS; i++)
		if (bpf_map_lookup_elem(b->layers_fd, &i, &a->slots[i]))
			memset(&a->slots[i], 0, sizeof(a->slots[i]));
	pl_answer_ranks(a);
	/* one scan at a time: the runs' ids, and the lists they rebuild */
	err = pl_bpf_lock(b);
	if (err)
		goto out;
	if (mode == PL_BPF_SCAN_STATE)
		err = pl_answer_lists(b, a, &walk, &n_walk, &st.procs);
	if (!err && (mode == PL_BPF_SCAN_WALK || pl_bpf_walk_all(n_walk, st.procs))) {
		/* the lists' answers too: the one pass answers for everyone */
		a->n = a->n_procs = 0;
		st.full = true;
		err = pl_walk(b, a, 0);
	} else {
		for (size_t i = 0; i < n_walk && !err; i++)
			err = pl_walk(b, a, walk[i]);
		st.walked = n_walk;
	}
	pl_bpf_unlock(b);
	if (err)
		goto out;
	err = pl_answer_out(a, procs, count);
	if (!err && stats)
		*stats = st;
out:
	free(walk);
	free(a->e);
	free(a->procs);
	free(a);
	return err;
}

int pl_bpf_answer_gen(struct pl_bpf *b, struct pl_bpf_answer_gen *g)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pl_bpf_scanstate st;
	__u32 zero = 0;
	__u64 *per_cpu;

	memset(g, 0, sizeof(*g));
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	/* the counters first: a change after them is seen next time */
	if (bpf_map_lookup_elem(b->changes_fd, &zero, per_cpu) ||
	    bpf_map_lookup_elem(b->scanstate_fd, &zero, &st)) {
		free(per_cpu);
		return -errno;
	}
	for (int i = 0; i < ncpus; i++)
		g->changes += per_cpu[i];
	g->wgen = st.wgen;
	free(per_cpu);
	return 0;
}

int pl_bpf_usage(struct pl_bpf *b, const char *layer, struct pl_bpf_proc **procs, size_t *count)
{
	return pl_bpf_usage_scan(b, layer, PL_BPF_SCAN_STATE, procs, count, NULL);
}

static int pl_on_sample(void *ctx, void *data, size_t size)
{
	struct pl_bpf *b = ctx;
	struct pl_bpf_event ev;

	if (size < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	ev.layer[sizeof(ev.layer) - 1] = '\0';
	return b->ev_cb(&ev, b->ev_ctx);
}

int pl_bpf_events(struct pl_bpf *b, pl_bpf_event_fn cb, void *ctx, struct ring_buffer **rb)
{
	b->ev_cb = cb;
	b->ev_ctx = ctx;
	*rb = ring_buffer__new(b->events_fd, pl_on_sample, b, NULL);
	return *rb ? 0 : -errno;
}

const char *pl_bpf_kind_name(__u32 kind)
{
	static const char *const names[] = {
		[PL_BPF_PATCHED] = "patched",
		[PL_BPF_STALE] = "stale",
		[PL_BPF_CRASH] = "crash",
		[PL_BPF_DENIED] = "denied",
		[PL_BPF_EXIT] = "exit",
	};

	return kind < sizeof(names) / sizeof(names[0]) && names[kind] ? names[kind] : "unknown";
}
