/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The daemon's history (<store>/.log) as "patchlayer log" filters it:
 * one line "YYYY-MM-DDTHH:MM:SSZ NAME MESSAGE" per event, and the
 * --since times an administrator types. Plain C, no I/O.
 */
#ifndef PL_LOGQ_H
#define PL_LOGQ_H

#include <stddef.h>
#include <time.h>

struct pl_log_line {
	time_t when;		/* seconds since the epoch (the stamp is UTC) */
	const char *name;	/* into the line, NAME_LEN bytes */
	size_t name_len;
	const char *msg;	/* the rest of the line, MSG_LEN bytes */
	size_t msg_len;
};

/* Splits LEN bytes at LINE (no newline); 0, or -EINVAL for a line of another shape. */
int pl_log_line_parse(const char *line, size_t len, struct pl_log_line *out);

/*
 * A --since TIME, relative to NOW: "-90s", "-30m", "-1h", "-2d", "-1w";
 * "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (local time; a 'T' may stand for
 * the blank), "YYYY-MM-DDTHH:MM:SSZ" (UTC, as the log writes it);
 * "today" (local midnight); "@SECONDS". 0, or -EINVAL.
 */
int pl_since_parse(const char *s, time_t now, time_t *out);

#endif
