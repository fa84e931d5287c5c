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

/* The BPF side's count of NAME's processes (BPF may be NULL): 0, or -errno with both -1. */
int pl_metrics_usage(struct pl_bpf *bpf, const char *name, long *patched, long *stale);
struct pl_backoff;
struct pl_config;

/*
 * What the daemon's record of NAME says: want, activated_at, crashes, and
 * its version into VERSION (SIZE bytes). Returns > 0, or <= 0 to leave
 * NAME out (no record).
 */
typedef int (*pl_metrics_record_fn)(const char *name, struct pl_metrics_layer *l,
				    char *version, size_t size);

/*
 * Every layer of the store (a NAME.state file and a valid name): RECORD's
 * facts, the kernel's hits, the BPF side's patched and stale processes (BPF
 * may be NULL), the provenance of the layer's manifest in the store and
 * BACKOFF's refusal (may be NULL); then pl_metrics_publish().
 */
int pl_metrics_update(struct pl_metrics_out *o, const struct pl_config *cfg, struct pl_bpf *bpf,
		      const struct pl_backoff *backoff, pl_metrics_record_fn record,
		      const struct pl_metrics_daemon *d, bool force, int64_t now);

#endif
