// SPDX-License-Identifier: GPL-2.0
/*
 * The timed loops of scripts/bench, run in the VM. C rather than a
 * script: an interpreter's own lookups and allocations would be most of
 * what is measured.
 *
 *   plbench METRIC PASSES DIR... [-- PROG [ARG...]]
 *
 * measures METRIC on each DIR (the same directory seen through different
 * filesystems): one untimed warm-up sample per DIR, then PASSES passes, each
 * taking one sample of every DIR, back to back, in an order that rotates.
 * Under TCG on a shared host the speed drifts by tens of percent within
 * seconds; samples of the DIRs taken a fraction of a second apart see the
 * same speed, so their ratios hold where the absolute numbers do not. One
 * line per sample: "PASS DIR-INDEX NS", NS per operation:
 *
 *   open     open+close of DIR/plbench-0000... (NAMES of them)
 *   stat     stat of those names
 *   statneg  stat of as many absent names (ENOENT)
 *   readdir  a full getdents64 walk of DIR (the mean of 10)
 *   exec     fork, execve PROG ARG... with LD_LIBRARY_PATH=DIR, wait
 *   read     sequential read of DIR/plbench-big, page cache warm
 *   readcold the same right after drop_caches (untimed)
 *
 * Names are looked up relative to a descriptor of DIR: only the lookups in
 * the directory under test are timed, not the walk to it (through the test
 * VM's 9p root, the same for every DIR, and slow).
 *
 *   plbench activate STATE TARGET REPLACEMENT
 *           write "activate" to STATE, then start processes that open
 *           TARGET until one gets REPLACEMENT (same device and inode):
 *           prints the ns from the write's return to the return of that
 *           open, the number of processes it took, and the same time
 *           for a process started before the write (the cost of the
 *           fork, exec and open alone). New processes, forked and
 *           exec'ed: each process sees the layers of its program's start
 *           (docs/filesystem.md), so this process, started before, and
 *           a child it forks without exec keep the base forever.
 *   plbench sleepers N
 *           N sleeping processes: this one and N-1 forked children,
 *           which die with it; prints "ready PID" once all exist. Run from
 *           a dynamically linked build, they all map its libc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NAMES 2000
#define MAX_DIRS 8

static void die(const char *what)
{
	fprintf(stderr, "plbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long arg_long(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0) {
		fprintf(stderr, "plbench: bad number %s\n", s);
		exit(2);
	}
	return v;
}

enum metric { M_OPEN, M_STAT, M_STATNEG, M_READDIR, M_EXEC, M_READ, M_READCOLD };

static const char *const metric_names[] = {
	"open", "stat", "statneg", "readdir", "exec", "read", "readcold",
};

struct dir {
	const char *path;
	int fd;
	char *big;		/* DIR/plbench-big */
	char *ld_path;		/* LD_LIBRARY_PATH=DIR */
};

/* the names, built once: only the system calls are timed */
static char *present[NAMES], *absent[NAMES];

static void make_names(void)
{
	for (int i = 0; i < NAMES; i++)
		if (asprintf(&present[i], "plbench-%04d", i) < 0 ||
		    asprintf(&absent[i], "absent-%04d", i) < 0)
			die("asprintf");
}

static void names_pass(enum metric m, int dir)
{
	struct stat st;

	for (int i = 0; i < NAMES; i++) {
		if (m == M_OPEN) {
			int fd = openat(dir, present[i], O_RDONLY | O_CLOEXEC);

			if (fd < 0)
				die(present[i]);
			close(fd);
		} else if (m == M_STAT) {
			if (fstatat(dir, present[i], &st, 0))
				die(present[i]);
		} else if (!fstatat(dir, absent[i], &st, 0) || errno != ENOENT) {
			fprintf(stderr, "plbench: %s: present\n", absent[i]);
			exit(1);
		}
	}
}

static long readdir_pass(const char *dir)
{
	static char buf[32768];
	long entries = 0, n;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		die(dir);
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			entries++;
			off += d->d_reclen;
		}
	}
	if (n < 0)
		die("getdents64");
	close(fd);
	return entries;
}

static void exec_once(char **argv, char *ld_path)
{
	char *envp[] = { ld_path, NULL };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, 1) < 0)
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "plbench: %s failed (status 0x%x)\n", argv[0], status);
		exit(1);
	}
}

static void read_pass(const char *file)
{
	static char buf[1 << 20];
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(file);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		die("read");
	close(fd);
}

/* page cache, dentries and inodes */
static void drop_caches(void)
{
	static int quiet;
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (fd < 0)
		die("/proc/sys/vm/drop_caches");
	/* 4: the kernel logs the first write only, not each of ours */
	if (!quiet && write(fd, "4\n", 2) != 2)
		die("/proc/sys/vm/drop_caches");
	quiet = 1;
	sync();
	if (write(fd, "3\n", 2) != 2)
		die("/proc/sys/vm/drop_caches");
	close(fd);
}

/* One sample of M on D: ns per operation. */
static uint64_t sample(enum metric m, struct dir *d, char **prog)
{
	static long entries = -1;
	uint64_t t0;
	long n;

	if (m == M_READCOLD)
		drop_caches();
	t0 = now_ns();
	switch (m) {
	case M_OPEN:
	case M_STAT:
	case M_STATNEG:
		names_pass(m, d->fd);
		return (now_ns() - t0) / NAMES;
	case M_READDIR:
		for (int i = 0; i < 10; i++) {
			n = readdir_pass(d->path);
			if (entries >= 0 && n != entries) {
				fprintf(stderr, "plbench: %s has %ld entries, not %ld\n",
					d->path, n, entries);
				exit(1);
			}
			entries = n;
		}
		return (now_ns() - t0) / 10;
	case M_EXEC:
		exec_once(prog, d->ld_path);
		break;
	case M_READ:
	case M_READCOLD:
		read_pass(d->big);
		break;
	}
	return now_ns() - t0;
}

static int cmd_measure(enum metric m, int argc, char **argv)
{
	struct dir dirs[MAX_DIRS];
	char **prog = NULL;
	long passes;
	int n = 0;

	if (argc < 2)
		return 2;
	passes = arg_long(argv[0]);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			prog = argv + i + 1;
			break;
		}
		if (n == MAX_DIRS)
			return 2;
		dirs[n].path = argv[i];
		dirs[n].fd = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirs[n].fd < 0)
			die(argv[i]);
		if (asprintf(&dirs[n].big, "%s/plbench-big", argv[i]) < 0 ||
		    asprintf(&dirs[n].ld_path, "LD_LIBRARY_PATH=%s", argv[i]) < 0)
			die("asprintf");
		n++;
	}
	if (!n || (m == M_EXEC) != (prog && prog[0]))
		return 2;
	make_names();
	for (int i = 0; i < n; i++)
		sample(m, &dirs[i], prog);
	for (long p = 0; p < passes; p++) {
		for (int k = 0; k < n; k++) {
			int i = (int)((p + k) % n);

			printf("%ld %d %llu\n", p, i,
			       (unsigned long long)sample(m, &dirs[i], prog));
		}
	}
	return 0;
}

/* Whether TARGET opens as the file FILE_ST describes. */
static int opens_as(const char *target, const struct stat *want)
{
	struct stat st;
	int fd = open(target, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(target);
	if (fstat(fd, &st))
		die("fstat");
	close(fd);
	return st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/*
 * A new process opens TARGET: whether it got REPL; *WHEN is the time its
 * open returned. It execs this program: a child forked without
 * exec keeps its parent's view of the layers (docs/filesystem.md), and
 * this process started before the activation.
 */
static int child_opens_as(const char *target, const struct stat *repl, uint64_t *when)
{
	int status, pipefd[2];
	pid_t pid;

	if (pipe(pipefd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char dev[24], ino[24], fd[16];

		close(pipefd[0]);
		snprintf(dev, sizeof(dev), "%llu", (unsigned long long)repl->st_dev);
		snprintf(ino, sizeof(ino), "%llu", (unsigned long long)repl->st_ino);
		snprintf(fd, sizeof(fd), "%d", pipefd[1]);
		execl("/proc/self/exe", "plbench", "opens", target, dev, ino, fd, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], when, sizeof(*when)) != (ssize_t)sizeof(*when))
		*when = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(status) || (WEXITSTATUS(status) && WEXITSTATUS(status) != 3) || !*when) {
		fprintf(stderr, "plbench: the opening child failed (status 0x%x)\n", status);
		exit(1);
	}
	return WEXITSTATUS(status) == 0;
}

/*
 * The exec'ed child of child_opens_as(): TARGET DEV INO FD; exit 0 if
 * TARGET opens as that device and inode, 3 if not.
 */
static int cmd_opens(int argc, char **argv)
{
	struct stat repl = { 0 };
	uint64_t when;
	int got;

	if (argc != 4)
		return 2;
	repl.st_dev = (dev_t)strtoull(argv[1], NULL, 10);
	repl.st_ino = (ino_t)strtoull(argv[2], NULL, 10);
	got = opens_as(argv[0], &repl);
	when = now_ns();
	if (write((int)arg_long(argv[3]), &when, sizeof(when)) != (ssize_t)sizeof(when))
		die("write");
	return got ? 0 : 3;
}

static int cmd_activate(int argc, char **argv)
{
	static const char word[] = "activate\n";
	uint64_t t0, base, when;
	struct stat repl;
	long procs = 0;
	int fd, got;

	if (argc != 3)
		return 2;
	if (stat(argv[2], &repl))
		die(argv[2]);
	/* the target's name is cached, as it is on a running system */
	t0 = now_ns();
	if (child_opens_as(argv[1], &repl, &when)) {
		fprintf(stderr, "plbench: %s is already redirected\n", argv[1]);
		return 1;
	}
	base = when - t0;
	fd = open(argv[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(argv[0]);
	if (write(fd, word, sizeof(word) - 1) != (ssize_t)sizeof(word) - 1)
		die("activate");
	t0 = now_ns();
	close(fd);
	do {
		procs++;
		got = child_opens_as(argv[1], &repl, &when);
	} while (!got && now_ns() - t0 < 10 * 1000000000ull);
	if (!got) {
		fprintf(stderr, "plbench: %s not redirected 10 s after activation\n", argv[1]);
		return 1;
	}
	printf("%llu %ld %llu\n", (unsigned long long)(when - t0), procs,
	       (unsigned long long)base);
	return 0;
}

static int cmd_sleepers(int argc, char **argv)
{
	pid_t parent = getpid();
	long n;

	if (argc != 1)
		return 2;
	n = arg_long(argv[0]);
	for (long i = 1; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			/* killing the parent (by its pid) ends them all */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
				_exit(0);
			for (;;)
				pause();
		}
	}
	printf("ready %d\n", (int)parent);
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2) {
		const char *cmd = argv[1];

		argc -= 2;
		argv += 2;
		for (size_t m = 0; m < sizeof(metric_names) / sizeof(metric_names[0]); m++)
			if (!strcmp(cmd, metric_names[m]))
				rc = cmd_measure((enum metric)m, argc, argv);
		if (!strcmp(cmd, "activate"))
			rc = cmd_activate(argc, argv);
		else if (!strcmp(cmd, "opens"))
			rc = cmd_opens(argc, argv);
		else if (!strcmp(cmd, "sleepers"))
			rc = cmd_sleepers(argc, argv);
	}
	if (rc == 2)
		fprintf(stderr, "usage: plbench METRIC PASSES DIR... [-- PROG ARG...] | "
			"activate STATE TARGET REPLACEMENT | sleepers N (see the source)\n");
	return rc;
}
