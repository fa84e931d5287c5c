// SPDX-License-Identifier: GPL-2.0
/* Error and output helpers shared by every command. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "patchlayer.h"

const char *pl_prog = "patchlayer";

/* The last error said, for the -j error document (pl_json_error). */
static char pl_last_err[512];
static int pl_last_errno;
/* Whether the command began a JSON document on stdout. */
static bool pl_json_begun;

static void pl_verr(int err, const char *fmt, va_list ap)
{
	int n = vsnprintf(pl_last_err, sizeof(pl_last_err), fmt, ap);

	if (err && n >= 0 && (size_t)n < sizeof(pl_last_err))
		snprintf(pl_last_err + n, sizeof(pl_last_err) - n, ": %s", strerror(err));
	pl_last_errno = err;
	fprintf(stderr, "%s: %s\n", pl_prog, pl_last_err);
}

void pl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pl_verr(0, fmt, ap);
	va_end(ap);
}

void pl_err_sys(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pl_verr(err < 0 ? -err : err, fmt, ap);
	va_end(ap);
}

void pl_json_begin(struct json *j, const struct pl_opts *o)
{
	pl_json_begun = true;
	json_init(j, stdout, o->pretty);
}

void pl_json_line(struct json *j)
{
	pl_json_begun = true;
	json_init(j, stdout, false);
}

void pl_json_error(int rc, const struct pl_opts *o)
{
	const char *name = pl_last_errno ? strerrorname_np(pl_last_errno) : NULL;
	struct json j;

	if (pl_json_begun)
		return;
	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	if (rc == PL_EXIT_OK) {
		json_bool(&j, "ok", true);
	} else {
		json_string(&j, "error", pl_last_err[0] ? pl_last_err :
			    rc == PL_EXIT_USAGE ? "usage error" : "failed");
		name ? json_string(&j, "errno", name) : json_null(&j, "errno");
		json_int(&j, "exit", rc);
	}
	json_object_end(&j);
	json_finish(&j);
}

void pl_guard_stdio(void)
{
	/*
	 * A closed standard descriptor would be taken by the next open(),
	 * and output meant for stdout written into that file: hold it with
	 * /dev/null opened read-only, so that writes still fail (EBADF).
	 */
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nfd = open("/dev/null", O_RDONLY);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

int pl_close_stdout(int rc)
{
	/* as coreutils' close_stdout: output that did not arrive is a failure */
	bool failed = ferror(stdout);
	int err = errno;

	if (fflush(stdout) == EOF) {
		failed = true;
		err = errno;
	}
	if (fclose(stdout) == EOF && !failed) {
		failed = true;
		err = errno;
	}
	if (!failed)
		return rc;
	pl_err_sys(err, "write error on stdout");
	return rc == PL_EXIT_OK ? PL_EXIT_FAIL : rc;
}
