/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the BPF side (plbpf.bpf.c) and user space share: the ring buffer's
 * event record, and the values of the pinned maps under
 * /sys/fs/bpf/patchlayer/ (docs/ebpf.md).
 *
 * Device numbers are the kernel's dev_t (inode->i_sb->s_dev: major in the
 * top 12 bits, minor in the low 20), as BPF sees them, not glibc's
 * encoding of st_dev: build them with PL_BPF_MKDEV(major, minor).
 *
 * Layout rules: fixed-size fields only, naturally aligned, so the BPF
 * object and the command agree without BTF. Append, never reorder.
 */
#ifndef PL_BPF_EVENT_H
#define PL_BPF_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PL_BPF_NAME_MAX		64	/* = PL_NAME_MAX of lib/manifest.h */
#define PL_BPF_MAX_LAYERS	64	/* slots of the layers map */
#define PL_BPF_COMM_LEN		16

#define PL_BPF_MINORBITS	20
#define PL_BPF_MKDEV(ma, mi)	(((__u32)(ma) << PL_BPF_MINORBITS) | (__u32)(mi))
#define PL_BPF_MAJOR(dev)	((__u32)(dev) >> PL_BPF_MINORBITS)
#define PL_BPF_MINOR(dev)	((__u32)(dev) & ((1U << PL_BPF_MINORBITS) - 1))

enum pl_bpf_kind {
	PL_BPF_PATCHED = 1,	/* mapped a layer's replacement executable */
	PL_BPF_STALE = 2,	/* mapped the base a layer replaces: needs a restart */
	PL_BPF_CRASH = 3,	/* a crash (.signal, .code) while mapping the layer's code */
	PL_BPF_DENIED = 4,	/* enforcement refused an executable mapping of a stale base */
	PL_BPF_EXIT = 5,	/* a process that mapped a watched file exited */
};

/* One ring buffer record (map "events"). */
struct pl_bpf_event {
	__u32 kind;		/* enum pl_bpf_kind */
	__u32 pid;		/* the process (tgid) */
	__u32 tid;		/* the thread that mapped or got the signal */
	__s32 signal;		/* CRASH: the signal number; else 0 */
	__u64 time_ns;		/* CLOCK_BOOTTIME */
	__u64 cgroup_id;	/* cgroup v2 id (inode of its directory in /sys/fs/cgroup) */
	__u64 ino;		/* PATCHED, STALE, DENIED: the file mapped */
	__u32 dev;		/* its kernel dev_t */
	__u32 slot;		/* index in the layers map */
	char comm[PL_BPF_COMM_LEN];
	char layer[PL_BPF_NAME_MAX + 8];	/* NUL-terminated; EXIT: empty */
	__s32 code;		/* CRASH: the siginfo's si_code */
	__u32 flags;		/* CRASH: PL_BPF_EV_SERVICE */
};

/*
 * A crash of a system service's process: its cgroup v2 is a .service unit
 * of the system manager (not user@UID.service, nothing under user.slice).
 */
#define PL_BPF_EV_SERVICE	(1U << 0)

/* Key of the "watched" map: a file by device and inode. */
struct pl_bpf_inode {
	__u64 ino;
	__u32 dev;		/* kernel dev_t */
	__u32 pad;		/* zero */
};

/* Value of the "watched" map. */
struct pl_bpf_watch {
	__u32 slot;		/* the layer's index in the layers map */
	__u32 kind;		/* PL_BPF_PATCHED (a replacement) or PL_BPF_STALE (a base) */
	__u32 file;		/* its line in layers/<name>/files, from 0 */
	__u32 pad;		/* zero */
};

/* Value of the "layers" array map, one slot per loaded layer. */
struct pl_bpf_layer {
	char name[PL_BPF_NAME_MAX + 8];	/* empty: a free slot */
	__u32 gen;		/* changes whenever the slot changes hands */
	__u8 active;		/* the layer is active in the module */
	__u8 enforce;		/* refuse executable mappings of its stale bases */
	__u8 pad[2];
	__u64 crashes;		/* unused, 0: the "counts" map has them */
	__u64 denied;		/* mappings refused by enforcement */
};

/*
 * Value of the "counts" array map, one per slot of "layers": what the
 * daemon decides on. User space writes one only when it gives the slot to
 * a layer (zeros, the new gen, before the slot's "layers" entry), BPF only
 * adds to it while the gens agree, so no increment is ever overwritten.
 */
struct pl_bpf_counts {
	__u32 gen;		/* the gen of the slot they count for */
	__u32 pad;
	__u64 crashes;		/* crashes of processes mapping its replacements */
	__u64 service_crashes;	/* those of them in system services (PL_BPF_EV_SERVICE) */
};

/* Records of the scan iterator (program "scan"), one per watched mapping. */
struct pl_bpf_scan_rec {
	__u32 pid;
	__u32 slot;
	__u32 kind;		/* PL_BPF_PATCHED or PL_BPF_STALE */
	__u32 dev;
	__u64 ino;
	__u64 cgroup_id;
	char comm[PL_BPF_COMM_LEN];
	__u32 file;		/* the watched value's file: which of the layer's files */
	__u32 pad;
};

/*
 * The per-process answer (docs/ebpf.md): each process's storage lists the
 * watched files it maps executable, kept by the hooks (mmap, mprotect,
 * the freeing of an executable mapping, fork, exec) and seeded by the
 * scan iterator; a pass of the "taskscan" iterator reads them, one visit
 * per process. An entry is the file's device and inode: which layer and
 * file it is, user space reads in "watched" at the time of the scan.
 */
#define PL_BPF_TASK_FILES	32

/* Value of the one-entry "scanstate" array map. */
struct pl_bpf_scanstate {
	__u32 wgen;		/* bumped by user space after it adds keys to "watched" */
	__u32 walk;		/* the id of the scan iterator's run going on or last */
	__u32 walking;		/* a run of the scan iterator is going on */
	__u32 pad;
};

/*
 * Records of the taskscan iterator, one per process (a thread group with
 * an mm), followed by min(n, PL_BPF_TASK_FILES) struct pl_bpf_inode: its
 * list, valid when wgen is the scanstate's wgen (nothing was added to
 * "watched" since it was complete), dirty is 0 (no watched mapping went
 * away since), touched is 0 or not walked (no new mapping raced with the
 * scan iterator that seeded it) and n <= PL_BPF_TASK_FILES. Otherwise
 * only a run of the scan iterator over the process knows (and seeds it).
 */
struct pl_bpf_task_rec {
	__u32 pid;
	__u32 wgen;		/* 0: no storage, or never complete */
	__u32 dirty;
	__u32 walked;
	__u32 touched;
	__u32 n;
	__u64 cgroup_id;
	char comm[PL_BPF_COMM_LEN];
};

#endif /* PL_BPF_EVENT_H */
