/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PL_USERSPACE_METRICS_H
#define PL_USERSPACE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/metrics.h"

/*
 * Writes LEN bytes of TEXT to PATH atomically: a hidden temporary file in
 * the same directory (".NAME.tmp": node_exporter reads only *.prom), mode
 * 0644 whatever the umask (node_exporter runs as another user), written
 * whole, fsync'd, renamed over PATH, the directory fsync'd. A reader sees
 * the old file or the new one, never a part. 0 or -errno.
 */
int pl_metrics_write_file(const char *path, const char *text, size_t len);

/* The daemon's metrics file: what it last wrote and when it is due again. */
struct pl_metrics_out {
	const char *path;		/* "" or NULL: disabled */
	unsigned int interval;		/* seconds between rewrites of the same text */
	char *last;			/* the text last written (or tried), or NULL */
	int64_t written_at;		/* pl_boottime_s() of that write */
};

/*
 * Formats the metrics and writes them when their text changed, when
 * FORCE, or when INTERVAL has passed since the last write (the file's
 * mtime, node_textfile_mtime_seconds, then says the daemon is alive).
 * Returns 0, 1 when nothing was to be written, or -errno (retried at the
 * next change or interval).
 */
int pl_metrics_publish(struct pl_metrics_out *o, const struct pl_metrics_daemon *d,
		       const struct pl_metrics_layer *layers, size_t n, bool force, int64_t now);

/* Seconds from NOW until the next rewrite is due, -1 when disabled. */
int64_t pl_metrics_due_in(const struct pl_metrics_out *o, int64_t now);

void pl_metrics_out_free(struct pl_metrics_out *o);

struct pl_bpf;
struct pl_bpf_proc;

/* 0 when the BPF side watches NAME; -ENODEV (BPF NULL: not loaded), -ENOENT or another -errno. */
int pl_metrics_layer_known(struct pl_bpf *bpf, const char *name);

/*
 * NAME's processes in the answer of one pl_bpf_usage() scan of every layer
 * (PROCS, N). ERR: the scan's result, else pl_metrics_layer_known()'s;
 * when not 0, both are -1 and ERR is returned.
 */
int pl_metrics_usage(const struct pl_bpf_proc *procs, size_t n, int err, const char *name,
		     long *patched, long *stale);

/* The daemon's metrics_file (metrics.c): NAME's record was just written. */
void metrics_forget(const char *name);
/* The daemon's metrics_file (metrics.c): a reconciliation just ended. */
void metrics_reconciled(void);
/* Writes what changed, or all when the interval passed; UP false: the last write, at exit. */
void metrics_write(bool up);
/* Seconds until the next rewrite is due, -1 when metrics_file is off. */
int64_t metrics_due_in(void);

#endif
