/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plbpf: the BPF side of patchlayer (bpf/plbpf.bpf.c), for the command and
 * the policy daemon. Programs and maps are pinned under PL_BPF_PIN_DIR, so
 * every user shares one copy; docs/ebpf.md describes them.
 *
 *	struct pl_bpf *b;
 *	struct ring_buffer *rb;
 *
 *	err = pl_bpf_open(&b, PL_BPF_LOAD);	// load and pin, or reuse the pins
 *	err = pl_bpf_sync(b);			// after each netlink event of the module
 *	err = pl_bpf_events(b, on_event, ctx, &rb);
 *	poll() on ring_buffer__epoll_fd(rb), then ring_buffer__consume(rb):
 *	on_event() gets each struct pl_bpf_event (bpf/pl_bpf_event.h):
 *	PATCHED, STALE (a process mapped a layer's replacement or the base it
 *	replaces, once per process and layer), CRASH (.signal: a SIGSEGV,
 *	SIGBUS, SIGILL, SIGFPE or SIGSYS the kernel raised, or a SIGABRT the
 *	process sent itself, with its default, fatal action, in a process
 *	mapping the layer's replacement; .flags PL_BPF_EV_SERVICE: of a system
 *	service), DENIED (enforcement refused a mapping of a stale base), EXIT
 *	(a process that mapped a watched file). ring_buffer__free(rb) when done.
 *	The ring buffer is for display: every consumer of it takes events from
 *	the others, and it drops events when full. Decisions read the layer's
 *	counters (pl_bpf_counts()), which lose nothing.
 *	err = pl_bpf_usage(b, "zlib-fix", &procs, &n);	// one iterator scan
 *	err = pl_bpf_layer(b, "zlib-fix", &info);	// crashes, denied, enforce
 *	pl_bpf_close(b);
 *
 * Every function returns 0 or a negative errno: -ENODEV patchlayer.ko is
 * not loaded, -ENOENT no such layer is loaded (or, without PL_BPF_LOAD, the
 * BPF side is not loaded), -EPERM or -EACCES not permitted (loading needs
 * CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN; using the pins needs root),
 * -EINVAL a layer that is not active for pl_bpf_enforce(..., true).
 *
 * The BPF side follows each layer's activation and drop by itself (it
 * attaches to the module's patchlayer_state tracepoint, and so holds the
 * module: unload the BPF side before patchlayer.ko); pl_bpf_sync() adds
 * layers loaded since the last sync. Slots of the layers map are taken
 * and released only by pl_bpf_sync(), which holds PL_BPF_PIN_DIR locked.
 */
#ifndef PL_PLBPF_H
#define PL_PLBPF_H

#include <stdbool.h>
#include <stddef.h>

#include "../bpf/pl_bpf_event.h"

#define PL_BPF_PIN_DIR "/sys/fs/bpf/patchlayer"

struct pl_bpf;
struct ring_buffer;

enum {
	PL_BPF_LOAD = 1 << 0,	/* load and pin when not pinned yet */
};

/* A process running a layer's file, as one scan saw it. */
struct pl_bpf_proc {
	__u32 pid;
	__u32 kind;		/* PL_BPF_PATCHED or PL_BPF_STALE */
	__u64 cgroup_id;
	char comm[PL_BPF_COMM_LEN];
	/* NUL-terminated, in the answer's own allocation (freed with it) */
	const char *layer;
	__u32 file;		/* which: its line in layers/<name>/files, from 0 */
};

typedef int (*pl_bpf_event_fn)(const struct pl_bpf_event *ev, void *ctx);

int pl_bpf_open(struct pl_bpf **out, unsigned int flags);
void pl_bpf_close(struct pl_bpf *b);
/* Whether the pins exist. */
bool pl_bpf_loaded(void);
/* Detaches everything and removes every pin; -ENOENT when not loaded. */
int pl_bpf_unload(void);

/* Fills the layers and watched maps from /sys/kernel/patchlayer/layers. */
int pl_bpf_sync(struct pl_bpf *b);

/* What a netlink event of the module says of one layer. */
enum pl_bpf_change {
	PL_BPF_CHANGE_STATE,	/* activated, dropped, superseded, stale */
	PL_BPF_CHANGE_LOADED,	/* loaded (its files are new) */
	PL_BPF_CHANGE_UNLOADED,
};

/*
 * Brings the maps up to date with one change of one layer, as a netlink
 * event names it, after a pl_bpf_sync() of this handle: only that layer's
 * entries are written, and only LOADED reads its files from sysfs (a
 * loaded layer's inodes never change); STATE rewrites just the entries it
 * shares with another loaded layer (a base goes to the active one).
 */
int pl_bpf_sync_layer(struct pl_bpf *b, const char *layer, enum pl_bpf_change what);

/* How often this handle read a layer's files from sysfs (tests, "bpf status"). */
unsigned long pl_bpf_files_reads(const struct pl_bpf *b);

/* A ring buffer consumer of the events; the callback's non-zero return stops a poll. */
int pl_bpf_events(struct pl_bpf *b, pl_bpf_event_fn cb, void *ctx, struct ring_buffer **rb);

/*
 * Scans every process's executable mappings (task_vma iterator), every
 * layer in one pass: one entry per process, layer, kind and file, sorted
 * by layer, kind, pid, file; LAYER NULL for every layer. *procs is
 * malloc'ed (free it). Call pl_bpf_sync() first.
 */
int pl_bpf_usage(struct pl_bpf *b, const char *layer, struct pl_bpf_proc **procs, size_t *n);

/*
 * An entry of a scan's answer being built (plbpf.c): it sorts on integers,
 * the layer's rank among the names, kind, pid, then file; PROC is the
 * index of its process's record (pid, comm, cgroup).
 */
struct pl_bpf_ent {
	__u64 key;		/* rank << 40 | kind << 32 | pid */
	__u32 file;
	__u32 proc;
};

int pl_bpf_ent_cmp(const void *a, const void *b);
#define PL_BPF_ENT_DUP	0xffffffffU	/* a place: the entry repeats the one before */
/*
 * The places of the N entries of E in pl_bpf_ent_cmp()'s order, each
 * entry once: POS[i] is entry i's place among *KEPT, or PL_BPF_ENT_DUP
 * for a repeat of the entry before it (E is reordered). Without a
 * comparison sort when each process's entries come together (at most 64)
 * and the processes in ascending pid order, as the iterators visit them:
 * then 1; else E is sorted (qsort) and 0; -E2BIG past 2^32 - 1 entries.
 */
int pl_bpf_ent_order(struct pl_bpf_ent *e, size_t n, __u32 *pos, size_t *kept);

/*
 * What a scan's answer depends on: it may differ from the last one only
 * if this did change (the hooks' count of changes, "watched"'s
 * generation). Read it before the scan whose answer it keys.
 */
struct pl_bpf_answer_gen {
	__u64 changes;
	__u32 wgen;
};

int pl_bpf_answer_gen(struct pl_bpf *b, struct pl_bpf_answer_gen *g);

/* How pl_bpf_usage_scan() finds the answer. */
enum pl_bpf_scan_mode {
	/*
	 * From each process's list of watched files the hooks keep (one visit
	 * per process, the "taskscan" iterator), walking the mappings only of
	 * the processes whose list does not hold (never seeded, a watched
	 * mapping gone since, keys added to "watched" since); all of them in
	 * one task_vma pass when they are many.
	 */
	PL_BPF_SCAN_STATE,
	/* One task_vma pass over every mapping of every process (--rescan). */
	PL_BPF_SCAN_WALK,
};

struct pl_bpf_scan_stats {
	size_t procs;		/* processes the taskscan pass saw (0 for WALK) */
	size_t walked;		/* processes whose mappings a filtered pass walked */
	bool full;		/* one pass over every process's mappings answered */
};

/* pl_bpf_usage() as MODE says; STATS may be NULL. */
int pl_bpf_usage_scan(struct pl_bpf *b, const char *layer, enum pl_bpf_scan_mode mode,
		      struct pl_bpf_proc **procs, size_t *n, struct pl_bpf_scan_stats *stats);

/* The processes of PROCS (sorted as above) running LAYER's files of KIND. */
size_t pl_bpf_count(const struct pl_bpf_proc *procs, size_t n, const char *layer, __u32 kind);

/* The layer's slot: crash and denial counts, enforcement, activity. */
int pl_bpf_layer(struct pl_bpf *b, const char *layer, struct pl_bpf_layer *info);

/*
 * The layer's crash counters, and *ID naming them for as long as they only
 * grow: the counts map's id (another load of the BPF side, another id) and
 * the slot's gen (another layer, another gen).
 */
int pl_bpf_counts(struct pl_bpf *b, const char *layer, struct pl_bpf_counts *c, __u64 *id);

/* Enforcement: refuse new executable mappings of the layer's stale bases. */
int pl_bpf_enforce(struct pl_bpf *b, const char *layer, bool on);

/*
 * One line of layers/<name>/files: its last two fields, "major:minor:inode"
 * of the replacement and of the base. Modifies LINE. -EPROTO when malformed.
 */
int pl_bpf_parse_files_line(char *line, struct pl_bpf_inode *file, struct pl_bpf_inode *base);

/*
 * The watched entries of one layer, in a slot: its files' replacements
 * (PATCHED) and bases (STALE), each with its line, sorted by key, one per
 * key (plbpf_files.c, plain, unit-tested).
 */
struct pl_bpf_entry {
	struct pl_bpf_inode key;
	struct pl_bpf_watch w;
};

struct pl_bpf_slot_cache {
	char name[PL_BPF_NAME_MAX + 8];	/* empty: no layer */
	bool active;
	struct pl_bpf_entry *ents;
	size_t n;
};

/* Orders entries (or keys: the key comes first) by key alone. */
int pl_bpf_entry_cmp(const void *a, const void *b);

/* FILES[2 * i] the replacement of line i, FILES[2 * i + 1] its base. */
int pl_bpf_entries(const struct pl_bpf_inode *files, size_t n_lines, __u32 slot,
		   struct pl_bpf_entry **out, size_t *n);

/*
 * Who owns KEY among the slots of C: an active layer before an inactive
 * one, then the lowest slot. False when no slot wants it; *SHARED when
 * more than one does.
 */
bool pl_bpf_owner(const struct pl_bpf_slot_cache *c, const struct pl_bpf_inode *key,
		  struct pl_bpf_watch *w, bool *shared);

/*
 * The next record of a taskscan iterator's output BUF of LEN bytes at
 * *OFF: the process's record and its list (*FILES, *N_FILES entries, not
 * aligned: copy each out). False at the end, or at a truncated record.
 */
bool pl_bpf_task_next(const char *buf, size_t len, size_t *off, struct pl_bpf_task_rec *rec,
		      const char **files, size_t *n_files);

/* Whether REC's list is the process's whole answer, WGEN the scanstate's. */
bool pl_bpf_task_valid(const struct pl_bpf_task_rec *rec, __u32 wgen);

/*
 * Whether to walk every process's mappings in one pass rather than WALK
 * processes one filtered pass each, out of PROCS.
 */
bool pl_bpf_walk_all(size_t walk, size_t procs);

/* "patched", "stale", "crash", "denied", "exit" */
const char *pl_bpf_kind_name(__u32 kind);

#endif /* PL_PLBPF_H */
