// SPDX-License-Identifier: GPL-2.0
/*
 * Running a helper program (dpkg-deb, dpkg-query):
 * posix_spawnp() with PATH searched, its exit status, or its stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "patchlayer.h"
#include "run.h"

extern char **environ;

/*
 * posix_spawnp() of ARGV with FA (destroyed here): the child's pid, or -1
 * (said). A helper starts with no signal blocked and every signal at its
 * default: the daemon blocks SIGTERM, SIGINT and SIGHUP for its signalfd,
 * and a blocked mask is inherited across exec, so its children (and
 * theirs) could not be stopped with SIGTERM.
 */
static pid_t pl_spawn(char *const argv[], posix_spawn_file_actions_t *fa)
{
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int err;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawnp(&pid, argv[0], fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(fa);
	if (err) {
		pl_err("%s: %s", argv[0], strerror(err));
		return -1;
	}
	return pid;
}

/* Runs ARGV, stdout to /dev/null when QUIET; 0 when it exits 0, else -1 (said). */
int pl_run(char *const argv[], bool quiet)
{
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid = pl_spawn(argv, &fa);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pl_err("%s: %s", argv[0], strerror(errno));
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		pl_err("%s failed (status %d)", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

#define PL_CAPTURE_MAX	(4 * 1024 * 1024)	/* dpkg-query -L of a big package */

/* Runs ARGV and returns its stdout (NUL-terminated, malloc'ed) in OUT. 0 or -1 (said). */
int pl_run_capture(char *const argv[], char **out, bool quiet)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int pipefd[2], status;
	pid_t pid;

	*out = NULL;
	if (!buf || pipe2(pipefd, O_CLOEXEC) < 0) {
		free(buf);
		pl_err("%s: %s", argv[0], strerror(errno ? errno : ENOMEM));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid = pl_spawn(argv, &fa);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		free(buf);
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *bigger = cap < PL_CAPTURE_MAX ? realloc(buf, cap * 2) : NULL;

			if (!bigger)
				break;	/* too much: reported below */
			buf = bigger;
			cap *= 2;
		}
		n = read(pipefd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pipefd[0]);
	buf[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (len + 1 >= cap || !WIFEXITED(status) || WEXITSTATUS(status)) {
		if (!quiet)
			pl_err("%s %s failed", argv[0], argv[1] ? argv[1] : "");
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}
