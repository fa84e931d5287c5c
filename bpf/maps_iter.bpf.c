// SPDX-License-Identifier: GPL-2.0
/*
 * task_vma iterator: one line per executable file mapping of every task,
 * "tgid major:minor inode comm", device and inode as /proc/PID/maps prints
 * them. It reads mappings by inode in one pass, without /proc/PID/maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define VM_EXEC 0x00000004
#define MINORBITS 20
#define MINORMASK ((1U << MINORBITS) - 1)

SEC("iter/task_vma")
int dump_exec_mappings(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct seq_file *seq = ctx->meta->seq;
	struct file *file;
	struct inode *inode;
	dev_t dev;

	if (!task || !vma)
		return 0;
	/* threads share their leader's mappings: list each process once */
	if (task->pid != task->tgid)
		return 0;
	file = vma->vm_file;
	if (!file || !(vma->vm_flags & VM_EXEC))
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	dev = BPF_CORE_READ(inode, i_sb, s_dev);

	BPF_SEQ_PRINTF(seq, "%d %02x:%02x %lu %s\n", task->tgid,
		       dev >> MINORBITS, dev & MINORMASK,
		       BPF_CORE_READ(inode, i_ino), task->comm);
	return 0;
}
