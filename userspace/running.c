// SPDX-License-Identifier: GPL-2.0
/*
 * Whether the daemon runs: it holds an exclusive flock() on its pid file
 * for as long as it lives, so the kernel drops the claim however the daemon
 * ends (a SIGKILL or an OOM kill leaves no stale "running" behind), and a
 * second daemon on the same machine is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "patchlayer.h"

#define PL_RUN_DIR "/run/patchlayer"
#define PL_PID_FILE PL_RUN_DIR "/daemon.pid"

static long read_pid(int fd)
{
	char buf[24];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return (end != buf && pid > 0) ? pid : 0;
}

int pl_daemon_claim(void)
{
	char buf[24];
	int fd, len;

	if (mkdir(PL_RUN_DIR, 0755) < 0 && errno != EEXIST) {
		pl_err_sys(errno, "daemon: %s", PL_RUN_DIR);
		return -1;
	}
	fd = open(PL_PID_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		pl_err_sys(errno, "daemon: %s", PL_PID_FILE);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			pl_err("daemon: already running (pid %ld, %s)", read_pid(fd), PL_PID_FILE);
		else
			pl_err_sys(errno, "daemon: %s", PL_PID_FILE);
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		pl_err_sys(errno, "daemon: %s", PL_PID_FILE);
		close(fd);
		return -1;
	}
	/* fd stays open, and locked, until the process ends */
	return 0;
}

long pl_daemon_running(void)
{
	long pid = 0;
	int fd = open(PL_PID_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		pid = read_pid(fd) ?: -1;
	close(fd);
	return pid;
}
