// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics file for node_exporter's textfile collector (metrics_file,
 * docs/configuration.md): lib/metrics.c formats, this writes, atomically,
 * only when the text changed or the interval passed. No daemon state:
 * unit-tested (tests/unit/test_metrics.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "metrics.h"

int pl_metrics_write_file(const char *path, const char *text, size_t len)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (!slash || slash == path || !slash[1] || (size_t)(slash - path) >= sizeof(dir))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/*
	 * the daemon's umask is 0077; node_exporter reads as its own user. Not
	 * fsync'd: rewritten every interval, lost to a crash only until then
	 */
	return pl_write_atomic(dir, slash + 1, text, len, 0644, false);
}

int pl_metrics_publish(struct pl_metrics_out *o, const struct pl_metrics_daemon *d,
		       const struct pl_metrics_layer *layers, size_t n, bool force, int64_t now)
{
	size_t len;
	char *text;
	int err;

	if (!o->path || !o->path[0])
		return 1;
	len = pl_metrics_format(NULL, 0, d, layers, n);
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	pl_metrics_format(text, len + 1, d, layers, n);
	if (!force && o->last && strcmp(o->last, text) == 0 &&
	    now - o->written_at < (int64_t)o->interval) {
		free(text);
		return 1;
	}
	/* a failed write is retried at the next change or interval, not at once */
	err = pl_metrics_write_file(o->path, text, len);
	free(o->last);
	o->last = text;
	o->written_at = now;
	return err;
}

int64_t pl_metrics_due_in(const struct pl_metrics_out *o, int64_t now)
{
	int64_t left;

	if (!o->path || !o->path[0])
		return -1;
	if (!o->last)
		return 0;
	left = o->written_at + (int64_t)o->interval - now;
	return left < 0 ? 0 : left;
}

void pl_metrics_out_free(struct pl_metrics_out *o)
{
	free(o->last);
	o->last = NULL;
}
