/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running helper programs (run.c): dpkg-deb, dpkg-query and the like.
 */
#ifndef PL_RUN_H
#define PL_RUN_H

#include <stdbool.h>

/* Runs ARGV (PATH searched), stdout to /dev/null when QUIET: 0 when it exits 0, else -1 (said). */
int pl_run(char *const argv[], bool quiet);
/*
 * The same, its stdout (at most 4 MiB) in OUT, NUL-terminated, malloc'ed;
 * QUIET: its stderr to /dev/null and a failed exit not said.
 */
int pl_run_capture(char *const argv[], char **out, bool quiet);

#endif
