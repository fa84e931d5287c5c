/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The daemon's metrics in Prometheus' text exposition format (version
 * 0.0.4), for node_exporter's textfile collector (metrics_file,
 * docs/configuration.md; the series are listed in docs/daemon.md).
 * Plain C: no allocation, no I/O. Every string that ends up in a label
 * value (a layer's name, version, package, advisory) is escaped, whatever
 * it holds.
 */
#ifndef PL_METRICS_H
#define PL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* One layer of the store, as the daemon sees it. */
struct pl_metrics_layer {
	const char *name;
	const char *version;
	const char *package;	/* "" until its manifest says */
	const char *advisory;	/* "" when none; several joined by ',' */
	enum pl_want want;
	int64_t activated_at;	/* seconds since the epoch, 0: never */
	long patched;		/* processes running its files, -1: unknown */
	long stale;		/* processes still running the bases, -1: unknown */
	unsigned int crashes;	/* counted against it since its activation */
	bool hits_known;
	uint64_t hits;		/* the kernel's: opens served its files */
	const char *refused;	/* errno name of the kernel's last refusal, or NULL */
};

struct pl_metrics_daemon {
	bool up;			/* false in the last write, at a clean exit */
	const char *version;		/* of the command */
	int64_t start_time;		/* seconds since the epoch */
	int64_t last_reconcile;		/* seconds since the epoch, 0: none yet */
	bool crash_watch;		/* the BPF side is loaded */
};

/*
 * Writes the text into BUF (at most SIZE bytes, NUL-terminated when SIZE
 * is not 0), as snprintf does: returns the length of the whole text, so a
 * return >= SIZE says how much room it needs.
 */
size_t pl_metrics_format(char *buf, size_t size, const struct pl_metrics_daemon *d,
			 const struct pl_metrics_layer *layers, size_t n);

/*
 * A label value escaped for the text format (backslash, double quote and
 * newline), into DST as snprintf does; a NULL S is "". Other bytes pass
 * as they are: the format is UTF-8 and a byte is never a line break.
 */
size_t pl_metrics_escape(char *dst, size_t size, const char *s);

/*
 * Appends ITEM (LEN bytes) to the ','-joined label value in BUF (SIZE
 * bytes, NUL-terminated), if it fits whole together with room for a final
 * ",+N more"; once one does not fit, none after it is added and *LEFT
 * counts them. pl_label_join_end() then says how many were left out, so a
 * dashboard never shows a cut list as whole.
 */
void pl_label_join(char *buf, size_t size, const char *item, size_t len, unsigned int *left);
void pl_label_join_end(char *buf, size_t size, unsigned int left);

#endif
