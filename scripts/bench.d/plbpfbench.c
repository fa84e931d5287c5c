// SPDX-License-Identifier: GPL-2.0
/*
 * The timed parts of "scripts/bench --bpf" (docs/performance.md):
 *   plbpfbench spawn N LIB    dlopen LIB, then fork N children that sleep,
 *                             in a process group of their own (printed)
 *   plbpfbench scan ROUNDS DEV INO
 *                             per round, back to back: one run of the
 *                             pinned scan iterator, and one parse of every
 *                             /proc/PID/maps looking for executable
 *                             mappings of DEV ("maj:min" as maps prints
 *                             it) INO; "scan_iter|scan_proc ROUND NS PROCS"
 *   plbpfbench dlopen N LIB   N dlopen(RTLD_NOW)+dlclose of LIB; prints
 *                             the mean ns per pair
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../../bpf/pl_bpf_event.h"

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int spawn(int n, const char *lib)
{
	if (!dlopen(lib, RTLD_NOW)) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	if (setpgid(0, 0))
		return perror("setpgid"), 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return perror("fork"), 1;
		if (pid == 0) {
			/* the caller reads the group id up to end of file */
			int null = open("/dev/null", O_WRONLY);

			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			for (;;)
				pause();
		}
	}
	printf("%d\n", (int)getpgid(0));
	return 0;
}

/* Processes with a matching mapping, counted as the iterator reports them. */
static int scan_iter(int prog_fd)
{
	static char buf[1 << 20];
	int link_fd, iter_fd, procs = 0;
	__u32 last = 0;
	ssize_t n, off = 0;

	link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, NULL);
	iter_fd = link_fd < 0 ? -1 : bpf_iter_create(link_fd);
	if (iter_fd < 0) {
		perror("iterator");
		exit(1);
	}
	while ((n = read(iter_fd, buf + off, sizeof(buf) - off)) > 0) {
		off += n;
		/* whole records only; keep a partial one for the next read */
		ssize_t whole = off - off % (ssize_t)sizeof(struct pl_bpf_scan_rec);

		for (ssize_t i = 0; i < whole; i += sizeof(struct pl_bpf_scan_rec)) {
			struct pl_bpf_scan_rec r;

			memcpy(&r, buf + i, sizeof(r));
			procs += r.pid != last;
			last = r.pid;
		}
		memmove(buf, buf + whole, off - whole);
		off -= whole;
	}
	close(iter_fd);
	close(link_fd);
	return procs;
}

static int scan_proc(const char *dev, unsigned long long ino)
{
	char path[300], line[4096];
	struct dirent *de;
	int procs = 0;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		char perms[8], mdev[16];
		unsigned long long mino;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/maps", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%*s %7s %*s %15s %llu", perms, mdev, &mino) == 3 &&
			    perms[2] == 'x' && mino == ino && !strcmp(mdev, dev)) {
				procs++;
				break;
			}
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return procs;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "spawn"))
		return spawn(atoi(argv[2]), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "scan")) {
		int prog_fd = bpf_obj_get("/sys/fs/bpf/patchlayer/scan");
		unsigned long long ino = strtoull(argv[4], NULL, 10);

		if (prog_fd < 0)
			return perror("/sys/fs/bpf/patchlayer/scan"), 1;
		for (int r = 0; r < atoi(argv[2]); r++) {
			unsigned long long t0 = now_ns();
			int a = scan_iter(prog_fd);
			unsigned long long t1 = now_ns();
			int b = scan_proc(argv[3], ino);
			unsigned long long t2 = now_ns();

			printf("scan_iter %d %llu %d\nscan_proc %d %llu %d\n", r, t1 - t0, a,
			       r, t2 - t1, b);
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "dlopen")) {
		int n = atoi(argv[2]);
		unsigned long long t0 = now_ns();

		for (int i = 0; i < n; i++) {
			void *h = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);

			if (!h) {
				fprintf(stderr, "%s\n", dlerror());
				return 1;
			}
			dlclose(h);
		}
		printf("%llu\n", (now_ns() - t0) / (n ? n : 1));
		return 0;
	}
	fprintf(stderr, "usage: plbpfbench spawn N LIB | scan ROUNDS DEV INO | dlopen N LIB\n");
	return 2;
}
