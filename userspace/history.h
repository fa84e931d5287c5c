/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's history of the store, read and filtered (history.c). */
#ifndef PL_HISTORY_H
#define PL_HISTORY_H

#include <time.h>

#include "../lib/logq.h"
#include "patchlayer.h"

/*
 * FN(L, LINE) for each line of STORE/.log about LAYER (NULL: any) from
 * SINCE on (0: all); a line of another shape has L->name NULL and is
 * given only without a filter. Stops at FN's first non-zero return,
 * which it returns; -errno when the history cannot be read (none is 0).
 */
int pl_history_each(const char *store, const char *layer, time_t since,
		    int (*fn)(const struct pl_log_line *l, const char *line, void *ctx), void *ctx);
/* One line as {"time", "layer", "message"}. */
void pl_history_json(struct json *j, const struct pl_log_line *l, const char *line);
/* "log [--layer NAME] [--since TIME]" after the common options. */
int pl_history_cmd(const char *store, int argc, char **argv, const struct pl_opts *o);

#endif
