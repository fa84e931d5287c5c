// SPDX-License-Identifier: GPL-2.0
/* Error and output helpers shared by every command. */
#include <stdarg.h>
#include <stdio.h>

#include "patchlayer.h"

const char *pl_prog = "patchlayer";

void pl_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", pl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pl_json_begin(struct json *j, const struct pl_opts *o)
{
	json_init(j, stdout, o->pretty);
}
