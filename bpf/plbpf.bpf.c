// SPDX-License-Identifier: GPL-2.0
/*
 * Which processes run a layer's patched code and which still run the stale
 * base it replaces, by device and inode, without reading /proc/PID/maps.
 *
 * The command fills "watched" (file -> layer slot, patched or stale) and
 * "layers" from the module's layers/<name>/files. Executable mappings are
 * seen as they happen (LSM mmap_file) and remembered per process in task
 * storage (LSM mmap_file, and file_mprotect for mappings made executable
 * later), which a child forked without exec inherits and exec and exit
 * clear; a task_vma iterator ("scan") finds the same in one pass over every
 * process and seeds that storage. The same storage lists the watched files
 * each process maps executable, whatever their layer's state, kept exact
 * by those hooks and the freeing of executable mappings: a task iterator
 * ("taskscan") answers from them with one visit per process, and the scan
 * iterator walks only the processes whose list it cannot vouch for (never
 * seeded, a watched mapping gone, or keys added to "watched" since).
 * Crashes (faults the kernel raised, or
 * the process's own abort) of processes mapping a layer's replacement
 * count against the layer, those of system services apart. docs/ebpf.md
 * has the whole picture.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "pl_bpf_event.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM		1
#define PROT_EXEC	0x4
#define VM_EXEC		0x00000004
#define SIGILL		4
#define SIGABRT		6
#define SIGBUS		7
#define SIGFPE		8
#define SIGSEGV		11
#define SIGSYS		31
#define SI_USER		0
#define SI_TKILL	(-6)

/* files of these filesystems wrap the real file in ->private_data */
#define PATCHLAYER_SUPER_MAGIC	0x504c4159
#define OVERLAYFS_SUPER_MAGIC	0x794c7630
/* FILESYSTEM_MAX_STACK_DEPTH (2), plus patchlayer over a stacked root */
#define PL_STACK_MAX		4

#define PL_SLOT_MASK		(PL_BPF_MAX_LAYERS - 1)

/* Per process (on its group leader): the layers whose files it mapped. */
struct pl_task {
	__u64 patched;			/* bits: slots of "layers" */
	__u64 stale;
	__u32 gen[PL_BPF_MAX_LAYERS];	/* the slot's gen when its bits were set */
	/* the list taskscan reads (struct pl_bpf_task_rec says when it holds) */
	__u32 wgen;			/* complete for this scanstate wgen; 0 never */
	__u32 dirty;			/* a watched executable mapping went away */
	__u32 walked;			/* the scan iterator's run that reset it */
	__u32 touched;			/* a run during which a hook added to it */
	__u32 n;			/* entries added; > PL_BPF_TASK_FILES: too many */
	__u32 pad;
	struct pl_bpf_inode files[PL_BPF_TASK_FILES];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PL_BPF_MAX_LAYERS * 512 * 2);	/* files per layer, base and replacement */
	__type(key, struct pl_bpf_inode);
	__type(value, struct pl_bpf_watch);
} watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PL_BPF_MAX_LAYERS);
	__type(key, __u32);
	__type(value, struct pl_bpf_layer);
} layers SEC(".maps");

/* slot -> its crash counters (struct pl_bpf_counts has why apart) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PL_BPF_MAX_LAYERS);
	__type(key, __u32);
	__type(value, struct pl_bpf_counts);
} counts SEC(".maps");

/* layer name (zero-padded) -> slot, for the module's state tracepoint */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PL_BPF_MAX_LAYERS);
	__type(key, char[PL_BPF_NAME_MAX + 8]);
	__type(value, __u32);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pl_task);
} tasks SEC(".maps");

/* a cgroup's name, for the crash watch's service test */
#define PL_CGROUP_NAME_MAX	256
#define PL_CGROUP_DEPTH		8
struct pl_scratch {
	char name[PL_CGROUP_NAME_MAX + 16];	/* room to index past a short read */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pl_bpf_scanstate);
} scanstate SEC(".maps");

/*
 * Bumped (per CPU: no shared cache line on fork and exit) by every hook
 * that may change a scan's answer: a watched file newly mapped or unmapped,
 * a process mapping one forked, exec'ed or gone, a layer's state. A
 * daemon at rest reads the sum, not every process (O(changes)).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} changes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline bool pl_stacked(struct inode *inode)
{
	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);

	return magic == PATCHLAYER_SUPER_MAGIC || magic == OVERLAYFS_SUPER_MAGIC;
}

static __always_inline bool pl_key(struct inode *inode, struct pl_bpf_inode *key)
{
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->ino = BPF_CORE_READ(inode, i_ino);
	key->pad = 0;
	return true;
}

/* The inode a mapping of FILE ends up naming, below patchlayer and overlayfs. */
static __always_inline bool pl_real_inode(struct file *file, struct pl_bpf_inode *key)
{
	for (int i = 0; i < PL_STACK_MAX && file; i++) {
		struct inode *inode = BPF_CORE_READ(file, f_inode);
		struct file *next;

		if (!pl_stacked(inode))
			return pl_key(inode, key);
		next = (struct file *)BPF_CORE_READ(file, private_data);
		/*
		 * A patchlayer file whose real file is not open yet (opened
		 * at first use, module/fs_file.c): the real inode is the one
		 * its inode wraps, unless that one is stacked too.
		 */
		if (!next && BPF_CORE_READ(inode, i_sb, s_magic) == PATCHLAYER_SUPER_MAGIC) {
			inode = (struct inode *)BPF_CORE_READ(inode, i_private);
			return inode && !pl_stacked(inode) && pl_key(inode, key);
		}
		file = next;
	}
	return false;
}

/* An event about the current task. */
static __always_inline void pl_emit(__u32 kind, __u32 slot, const struct pl_bpf_layer *l,
				    const struct pl_bpf_inode *key, int sig, int code, __u32 flags)
{
	struct pl_bpf_event *ev;
	__u64 id = bpf_get_current_pid_tgid();

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->kind = kind;
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	ev->signal = sig;
	ev->time_ns = bpf_ktime_get_boot_ns();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->ino = key ? key->ino : 0;
	ev->dev = key ? key->dev : 0;
	ev->slot = slot;
	ev->code = code;
	ev->flags = flags;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	if (l)
		__builtin_memcpy(ev->layer, l->name, sizeof(ev->layer));
	else
		__builtin_memset(ev->layer, 0, sizeof(ev->layer));
	bpf_ringbuf_submit(ev, 0);
}

/* Remembers that T's process maps SLOT's file of KIND; true the first time. */
static __always_inline bool pl_note(struct pl_task *t, __u32 slot, __u32 kind,
				    const struct pl_bpf_layer *l)
{
	__u64 bit, *mask;

	slot &= PL_SLOT_MASK;
	bit = 1ULL << slot;
	/* the slot changed hands since: what was noted is another layer's */
	if (t->gen[slot] != l->gen) {
		t->patched &= ~bit;
		t->stale &= ~bit;
		t->gen[slot] = l->gen;
	}
	mask = kind == PL_BPF_PATCHED ? &t->patched : &t->stale;
	if (*mask & bit)
		return false;
	/* threads race here at worst into a second event, never a lost bit */
	__sync_fetch_and_or(mask, bit);
	return true;
}

/* Nested programs may lose an increment, never the change: it moves anyway */
static __always_inline void pl_changed(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&changes, &zero);

	if (c)
		(*c)++;
}

static __always_inline struct pl_bpf_scanstate *pl_scanstate(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scanstate, &zero);
}

/*
 * A hook changes T's list while the scan iterator may be resetting it
 * (it does so at its first visit of the process, in any order with the
 * hook): the list is not vouched for until the next run.
 */
static __always_inline void pl_touch(struct pl_task *t)
{
	struct pl_bpf_scanstate *s = pl_scanstate();

	if (s && s->walking)
		t->touched = s->walk;
}

/* Adds KEY to T's list, once; HOOK: a hook adds it, not the scan iterator. */
static __always_inline void pl_list_add(struct pl_task *t, const struct pl_bpf_inode *key,
					bool hook)
{
	__u32 n = t->n;

	if (hook)
		pl_touch(t);
	for (__u32 i = 0; i < PL_BPF_TASK_FILES && i < n; i++)
		if (t->files[i].ino == key->ino && t->files[i].dev == key->dev)
			return;
	if (hook)
		pl_changed();
	if (n < PL_BPF_TASK_FILES)
		t->files[n] = *key;
	/* beyond PL_BPF_TASK_FILES: too many, the scan iterator answers for it */
	__sync_fetch_and_add(&t->n, 1);
	/*
	 * Two threads added at once (and one entry may have overwritten the
	 * other): whichever sees the other's count marks the list.
	 */
	if (t->n != n + 1)
		t->dirty = 1;
}

/* The watched file's layer, when that layer is active. */
static __always_inline struct pl_bpf_layer *pl_active_layer(const struct pl_bpf_watch *w)
{
	__u32 slot = w->slot;
	struct pl_bpf_layer *l;

	if (slot >= PL_BPF_MAX_LAYERS)
		return NULL;
	l = bpf_map_lookup_elem(&layers, &slot);
	return l && l->active ? l : NULL;
}

/* A new executable mapping of FILE: noted, or refused under enforcement. */
static __always_inline int pl_exec_mapping(struct file *file)
{
	struct pl_bpf_inode key;
	struct pl_bpf_watch *w;
	struct pl_bpf_layer *l;
	struct task_struct *task;
	struct pl_task *t;

	if (!pl_real_inode(file, &key))
		return 0;
	w = bpf_map_lookup_elem(&watched, &key);
	if (!w)
		return 0;
	l = pl_active_layer(w);
	if (l && w->kind == PL_BPF_STALE && l->enforce) {
		__sync_fetch_and_add(&l->denied, 1);
		pl_emit(PL_BPF_DENIED, w->slot, l, &key, 0, 0, 0);
		return -EPERM;
	}
	task = bpf_get_current_task_btf();
	t = bpf_task_storage_get(&tasks, task->group_leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return 0;
	/* whatever the layer's state: it may be activated later */
	pl_list_add(t, &key, true);
	if (l && pl_note(t, w->slot, w->kind, l))
		pl_emit(w->kind, w->slot, l, &key, 0, 0, 0);
	return 0;
}

/*
 * An executable mapping of FILE goes away, or stops being executable, in
 * the current process: when FILE is watched, its list no longer holds.
 */
static __always_inline void pl_lost_mapping(struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pl_bpf_inode key;
	struct pl_task *t;

	if (!pl_real_inode(file, &key) || !bpf_map_lookup_elem(&watched, &key))
		return;
	t = bpf_task_storage_get(&tasks, task->group_leader, 0, 0);
	if (t) {
		t->dirty = 1;
		pl_changed();
	}
}

SEC("lsm/mmap_file")
int BPF_PROG(pl_mmap_file, struct file *file, unsigned long reqprot,
	     unsigned long prot, unsigned long flags, int ret)
{
	if (ret || !file || !(prot & PROT_EXEC))
		return ret;
	return pl_exec_mapping(file);
}

/* A mapping made executable afterwards: the same, or enforcement leaks. */
SEC("lsm/file_mprotect")
int BPF_PROG(pl_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct file *file;

	if (ret)
		return ret;
	file = vma->vm_file;
	if (!file)
		return 0;
	if (vma->vm_flags & VM_EXEC) {
		if (!(prot & PROT_EXEC))
			pl_lost_mapping(file);
		return 0;
	}
	if (!(prot & PROT_EXEC))
		return 0;
	return pl_exec_mapping(file);
}

/*
 * Every VMA freed: munmap(), dlclose(), mremap() moving it, a MAP_FIXED
 * mapping over it, a merge; exit too, but the exiting task has no mm by
 * then (and exit forgets the process anyway), nor has exec's old mm.
 */
SEC("fentry/vm_area_free")
int BPF_PROG(pl_unmap, struct vm_area_struct *vma)
{
	struct task_struct *task;
	struct file *file;

	if (!(vma->vm_flags & VM_EXEC))
		return 0;
	file = vma->vm_file;
	if (!file)
		return 0;
	task = bpf_get_current_task_btf();
	if (task->mm != vma->vm_mm)
		return 0;
	pl_lost_mapping(file);
	return 0;
}

/* The old image is gone (exec) or the process is (exit): forget it. */
static __always_inline void pl_forget(struct task_struct *leader)
{
	struct pl_task *t = bpf_task_storage_get(&tasks, leader, 0, 0);

	if (!t)
		return;
	/* noted, or listed: mapped while its layer was not active yet */
	if (t->patched | t->stale | t->n) {
		pl_emit(PL_BPF_EXIT, 0, NULL, NULL, 0, 0, 0);
		pl_changed();
	}
	bpf_task_storage_delete(&tasks, leader);
}

/*
 * After the new mm is in place and before the new image is mapped: the
 * process maps nothing yet, its empty list holds for what "watched" has.
 */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(pl_exec, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pl_bpf_scanstate *s;
	struct pl_task *t;

	pl_forget(task);
	s = pl_scanstate();
	t = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t && s) {
		t->wgen = s->wgen;
		pl_touch(t);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pl_exit, struct task_struct *p)
{
	/* only once the whole thread group is dead */
	if (p->signal->live.counter)
		return 0;
	pl_forget(p->group_leader);
	return 0;
}

/*
 * A child forked without exec (a server's worker, an sshd session) maps
 * what its parent mapped: it inherits the parent's storage, which fork
 * does not copy by itself. Threads share their leader's.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(pl_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pl_task *pt, *ct;

	if (child->pid != child->tgid)
		return 0;
	pt = bpf_task_storage_get(&tasks, parent->group_leader, 0, 0);
	if (!pt)
		return 0;
	ct = bpf_task_storage_get(&tasks, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ct)
		return 0;
	__builtin_memcpy(ct, pt, sizeof(*ct));
	/* one more process mapping what its parent maps */
	if (ct->n)
		pl_changed();
	/* a copy of a list the scan iterator is still building */
	pl_touch(ct);
	return 0;
}

/*
 * A crash, not a kill: a fault the kernel raised in the process (si_code
 * > 0: SEGV_MAPERR, BUS_ADRERR, ILL_ILLOPN, FPE_INTDIV, SYS_SECCOMP, ...;
 * kill(), tgkill() and sigqueue() give SI_USER or a negative code, and
 * sigqueue() may not forge a positive one for another process), or an
 * abort the process sent itself (abort(): tgkill() of its own pid, which
 * the kernel fills in and nobody else can claim).
 */
static __always_inline bool pl_crash(struct task_struct *task, int sig,
				     struct kernel_siginfo *info)
{
	int code = BPF_CORE_READ(info, si_code);
	struct upid upid = {};
	unsigned int level;
	struct pid *pid;

	if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGSYS)
		return code > 0;
	if (sig != SIGABRT || (code != SI_TKILL && code != SI_USER))
		return false;
	/* si_pid is the sender's pid as the receiver's pid namespace numbers it */
	pid = BPF_CORE_READ(task, group_leader, thread_pid);
	level = BPF_CORE_READ(pid, level);
	if (level > 32)
		return false;
	bpf_probe_read_kernel(&upid, sizeof(upid),
			      (void *)pid + bpf_core_field_offset(struct pid, numbers) +
			      level * bpf_core_type_size(struct upid));
	return upid.nr && BPF_CORE_READ(info, _sifields._kill._pid) == upid.nr;
}

/*
 * Whether the LEN bytes at S end with the N (up to 8) bytes packed in WANT,
 * first byte lowest: no string literal, which would be a map of its own.
 */
#define PL_PACK4(a, b, c, d) \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24)
#define PL_SUFFIX_SLICE \
	(PL_PACK4('.', 's', 'l', 'i') | PL_PACK4('c', 'e', 0, 0) << 32)
#define PL_SUFFIX_SERVICE \
	(PL_PACK4('.', 's', 'e', 'r') | PL_PACK4('v', 'i', 'c', 'e') << 32)
#define PL_PREFIX_USER		PL_PACK4('u', 's', 'e', 'r')

static __always_inline bool pl_ends_with(const char *s, int len, __u64 want, int n)
{
	__u64 got = 0;

	if (len < n)
		return false;
	for (int i = 0; i < n && i < 8; i++)
		got |= (__u64)(unsigned char)s[((len - n) & (PL_CGROUP_NAME_MAX - 1)) + i] << (8 * i);
	return got == want;
}

static __always_inline bool pl_starts_with_user(const char *s)
{
	return PL_PACK4(s[0], s[1], s[2], s[3]) == PL_PREFIX_USER;
}

struct pl_svc {
	struct cgroup *cgrp;
	int level;
	int verdict;		/* 1 a system service, 0 not (yet), -1 not */
};

/* Components of the cgroup path from the top: slices, then the unit. */
static long pl_svc_level(__u32 i, void *data)
{
	struct pl_svc *c = data;
	struct cgroup *a = NULL;
	struct pl_scratch *buf;
	__u32 zero = 0;
	const char *name;
	int len;

	i++;	/* ancestors[0] is the root */
	if ((int)i > c->level)
		return 1;
	buf = bpf_map_lookup_elem(&scratch, &zero);
	if (!buf)
		return 1;
	bpf_probe_read_kernel(&a, sizeof(a), (void *)c->cgrp +
			      bpf_core_field_offset(struct cgroup, ancestors) + i * sizeof(a));
	name = BPF_CORE_READ(a, kn, name);
	len = bpf_probe_read_kernel_str(buf->name, PL_CGROUP_NAME_MAX, name);
	if (len <= 1)
		return 1;
	len--;	/* the NUL */
	c->verdict = -1;
	/* the users' slice, their managers and all they start */
	if (i == 1 && len == 10 && pl_starts_with_user(buf->name) &&
	    pl_ends_with(buf->name, len, PL_SUFFIX_SLICE, 6))
		return 1;
	if (pl_ends_with(buf->name, len, PL_SUFFIX_SLICE, 6)) {
		c->verdict = 0;
		return 0;
	}
	if (pl_ends_with(buf->name, len, PL_SUFFIX_SERVICE, 8) &&
	    !(pl_starts_with_user(buf->name) && buf->name[4] == '@'))
		c->verdict = 1;
	return 1;
}

/*
 * Whether TASK belongs to a system service: the first component of its
 * cgroup v2 path below the slices is a .service unit, and it is not under
 * user.slice nor a user manager (user@UID.service), which run whatever
 * their user starts. An unprivileged user cannot move a process into
 * another unit's cgroup (cgroup.procs of their common ancestor is root's).
 */
static __always_inline bool pl_system_service(struct task_struct *task)
{
	struct pl_svc c = {};
	struct cgroup *cgrp;

	/* a local: BPF_CORE_READ() of c.cgrp would relocate c's own field */
	cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!cgrp)
		return false;
	c.cgrp = cgrp;
	c.level = BPF_CORE_READ(cgrp, level);
	bpf_loop(PL_CGROUP_DEPTH, pl_svc_level, &c, 0);
	return c.verdict == 1;
}

struct pl_crash {
	struct pl_task *t;
	int sig;
	int code;
	bool service;
};

static long pl_crash_slot(__u32 slot, void *data)
{
	struct pl_crash *c = data;
	struct pl_bpf_counts *n;
	struct pl_bpf_layer *l;
	__u32 i = slot & PL_SLOT_MASK;
	__u32 key = i;	/* i itself stays in a register, and bounded */

	if (!(c->t->patched & (1ULL << i)))
		return 0;
	l = bpf_map_lookup_elem(&layers, &key);
	if (!l || !l->name[0] || l->gen != c->t->gen[i])
		return 0;
	/* the counters are what the daemon decides on: the events may be lost */
	n = bpf_map_lookup_elem(&counts, &key);
	if (n && n->gen == l->gen) {
		__sync_fetch_and_add(&n->crashes, 1);
		if (c->service)
			__sync_fetch_and_add(&n->service_crashes, 1);
	}
	pl_emit(PL_BPF_CRASH, i, l, NULL, c->sig, c->code, c->service ? PL_BPF_EV_SERVICE : 0);
	return 0;
}

/* Delivered with the default action: the process dies of it. */
SEC("tp_btf/signal_deliver")
int BPF_PROG(pl_signal, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	struct task_struct *task;
	struct pl_crash c = { .sig = sig };

	if (ka->sa.sa_handler)
		return 0;
	task = bpf_get_current_task_btf();
	if (!pl_crash(task, sig, info))
		return 0;
	c.t = bpf_task_storage_get(&tasks, task->group_leader, 0, 0);
	if (!c.t || !c.t->patched)
		return 0;
	c.code = BPF_CORE_READ(info, si_code);
	c.service = pl_system_service(task);
	/* bpf_loop: a plain loop here compiles to a shape 6.1's CFG check refuses */
	bpf_loop(PL_BPF_MAX_LAYERS, pl_crash_slot, &c, 0);
	return 0;
}

/*
 * The module's patchlayer_state(layer, from, to, why): a layer that stops
 * being active stops counting and loses enforcement at once, whoever
 * syncs the maps; one activated again counts again.
 */
SEC("raw_tp/patchlayer_state")
int BPF_PROG(pl_state, const char *layer, const char *from, const char *to, const char *why)
{
	char name[PL_BPF_NAME_MAX + 8] = {};
	char state[8] = {};
	struct pl_bpf_layer *l;
	__u32 *slot;
	bool active;

	bpf_probe_read_kernel_str(name, sizeof(name), layer);
	bpf_probe_read_kernel_str(state, sizeof(state), to);
	slot = bpf_map_lookup_elem(&slots, name);
	if (!slot)
		return 0;
	l = bpf_map_lookup_elem(&layers, slot);
	if (!l)
		return 0;
	active = state[0] == 'a' && state[1] == 'c' && state[2] == 't' && state[3] == 'i' &&
		 state[4] == 'v' && state[5] == 'e' && state[6] == '\0';
	l->active = active;
	if (!active)
		l->enforce = 0;
	pl_changed();
	return 0;
}

/*
 * TASK's storage, its list reset at the first visit of this run of the
 * scan iterator (user space gives each run an id): the run rebuilds it.
 */
static __always_inline struct pl_task *pl_walk_task(struct task_struct *task)
{
	struct pl_bpf_scanstate *s = pl_scanstate();
	struct pl_task *t;

	t = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t || !s || t->walked == s->walk)
		return t;
	t->walked = s->walk;
	t->wgen = s->wgen;
	t->dirty = 0;
	t->n = 0;
	return t;
}

/*
 * One record per executable mapping of a watched file of an active layer,
 * every layer in the one pass: "watched" names the layer, the file and
 * whether it is the patched or the stale one, so nothing else is emitted.
 */
SEC("iter/task_vma")
int pl_scan(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct pl_bpf_scan_rec rec;
	struct pl_bpf_inode key;
	struct pl_bpf_watch *w;
	struct pl_bpf_layer *l;
	struct pl_task *t;
	struct file *file;

	if (!task || !vma)
		return 0;
	/* threads share their leader's mappings */
	if (task->pid != task->tgid)
		return 0;
	file = vma->vm_file;
	if (!file || !(vma->vm_flags & VM_EXEC))
		return 0;
	/* every process has one: its executable */
	t = pl_walk_task(task);
	if (!pl_real_inode(file, &key))
		return 0;
	w = bpf_map_lookup_elem(&watched, &key);
	if (!w)
		return 0;
	if (t)
		pl_list_add(t, &key, false);
	l = pl_active_layer(w);
	if (!l)
		return 0;
	rec.pid = task->tgid;
	rec.slot = w->slot;
	rec.kind = w->kind;
	rec.dev = key.dev;
	rec.ino = key.ino;
	rec.file = w->file;
	rec.pad = 0;
	rec.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), task->comm);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	/* processes started before the BPF side: crash watch knows them now */
	if (t)
		pl_note(t, w->slot, w->kind, l);
	return 0;
}

/*
 * One record per process (struct pl_bpf_task_rec) and its list: one visit
 * of each process instead of one of each of its mappings.
 */
SEC("iter/task")
int pl_taskscan(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct pl_bpf_task_rec rec = {};
	struct pl_task *t;
	__u32 n;

	/* threads share their leader's list; kernel threads map nothing */
	if (!task || task->pid != task->tgid || !task->mm)
		return 0;
	rec.pid = task->tgid;
	rec.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), task->comm);
	t = bpf_task_storage_get(&tasks, task, 0, 0);
	if (t) {
		rec.wgen = t->wgen;
		rec.dirty = t->dirty;
		rec.walked = t->walked;
		rec.touched = t->touched;
		rec.n = t->n;
	}
	n = rec.n;
	if (n > PL_BPF_TASK_FILES)
		n = PL_BPF_TASK_FILES;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	if (t && n)
		bpf_seq_write(ctx->meta->seq, t->files, n * sizeof(struct pl_bpf_inode));
	return 0;
}
