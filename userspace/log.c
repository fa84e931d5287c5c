// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's messages (dlog), and its steps: each change of the store or
 * the kernel is one numbered step, so that the kill tests can stop the
 * daemon before any of them (PATCHLAYER_DIE_AT).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

#include "daemon.h"
#include "patchlayer.h"

bool in_daemon;
long die_at = -1;	/* PATCHLAYER_DIE_AT: SIGKILL itself at that step */
static long steps;

void dlog(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", in_daemon ? "patchlayer-daemon" : pl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * A step that changes the store or the kernel. The kill tests set
 * PATCHLAYER_DIE_AT=N to have the daemon SIGKILL itself just before its
 * Nth step, as a power cut or an OOM kill would, then check the next start.
 */
void step(const char *what, const char *name)
{
	steps++;
	if (in_daemon)
		dlog("step %ld: %s %s", steps, what, name);
	if (steps == die_at) {
		dlog("PATCHLAYER_DIE_AT=%ld: killing myself before %s %s", die_at, what, name);
		raise(SIGKILL);
	}
}
