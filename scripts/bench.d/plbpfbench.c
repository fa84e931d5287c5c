// SPDX-License-Identifier: GPL-2.0
/*
 * The timed parts of "scripts/bench --bpf" (docs/performance.md):
 *   plbpfbench spawn N LIB...  dlopen each LIB, then fork N children that
 *                              sleep, in a process group of their own
 *                              (printed)
 *   plbpfbench scan ROUNDS TABLE
 *                              per round, back to back: the answer from
 *                              the per-process lists (pl_bpf_usage_scan(),
 *                              what patchlayer usage and the daemon do),
 *                              one run of the scan iterator over every
 *                              mapping (usage --rescan), and one parse of
 *                              every /proc/PID/maps, each giving the answer
 *                              for every layer of TABLE at once: the set of
 *                              (process, layer, patched|stale). TABLE has
 *                              one line per identity a mapping of a layer's
 *                              file may show in /proc/PID/maps:
 *                              "LAYER patched|stale MAJ:MIN INODE" (hex
 *                              device numbers, as maps prints them).
 *                              Prints "scan_lists|scan_iter|scan_proc ROUND
 *                              NS PROCS ANSWERS", "scan_walked ROUND 0
 *                              WALKED FULL" (processes the lists' scan
 *                              walked; 1: it walked every one) and
 *                              "scan_diff ROUND 0 DIFFERENT DIFFERENT_ITER"
 *                              (entries in the lists' answer, and in the
 *                              iterator's, and not in the parse's, or the
 *                              other way round)
 *   plbpfbench dlopen N LIB    N dlopen(RTLD_NOW)+dlclose of LIB; prints
 *                              the mean ns per pair
 *
 * Why both identities: up to 6.7, /proc/PID/maps prints the real file's
 * device and inode (the tmpfs of a replacement, the base's filesystem), as
 * layers/<name>/files names them; from 6.8 on it prints the inode of the
 * stacking filesystem that served the file (file_user_inode()): the
 * patchlayer mount's device, with the real inode's number. A parse that
 * looks for the first alone finds no process on 6.12.
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

#include "plbpf.h"

#define MAX_IDS 1024
#define MAX_LAYERS PL_BPF_MAX_LAYERS

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int spawn(int n, char **libs, int n_libs)
{
	for (int i = 0; i < n_libs; i++)
		if (!dlopen(libs[i], RTLD_NOW)) {
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

/* One entry of an answer: a process runs a layer's patched or stale code. */
struct answer {
	unsigned int pid;
	unsigned int layer;	/* index in layer_names */
	unsigned int kind;
};

struct id {
	char dev[16];		/* "maj:min" as maps prints it */
	unsigned long long ino;
	unsigned int layer, kind;
};

static char layer_names[MAX_LAYERS][PL_BPF_NAME_MAX + 8];
static unsigned int n_layer_names;
static struct id ids[MAX_IDS];
static unsigned int n_ids;

static unsigned int layer_index(const char *name)
{
	for (unsigned int i = 0; i < n_layer_names; i++)
		if (!strcmp(layer_names[i], name))
			return i;
	if (n_layer_names == MAX_LAYERS) {
		fprintf(stderr, "too many layers\n");
		exit(1);
	}
	snprintf(layer_names[n_layer_names], sizeof(layer_names[0]), "%s", name);
	return n_layer_names++;
}

static void read_table(const char *path)
{
	char name[PL_BPF_NAME_MAX + 8], kind[16], dev[16];
	unsigned long long ino;
	FILE *f = fopen(path, "re");

	if (!f) {
		perror(path);
		exit(1);
	}
	while (n_ids < MAX_IDS && fscanf(f, "%71s %15s %15s %llu", name, kind, dev, &ino) == 4) {
		struct id *e = &ids[n_ids++];

		snprintf(e->dev, sizeof(e->dev), "%s", dev);
		e->ino = ino;
		e->layer = layer_index(name);
		e->kind = strcmp(kind, "patched") ? PL_BPF_STALE : PL_BPF_PATCHED;
	}
	fclose(f);
}

struct answers {
	struct answer *a;
	size_t n, cap;
};

static void add(struct answers *s, unsigned int pid, unsigned int layer, unsigned int kind)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->a = realloc(s->a, s->cap * sizeof(*s->a));
		if (!s->a) {
			perror("realloc");
			exit(1);
		}
	}
	s->a[s->n++] = (struct answer){ pid, layer, kind };
}

static int answer_cmp(const void *x, const void *y)
{
	const struct answer *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->layer != b->layer)
		return a->layer < b->layer ? -1 : 1;
	return (a->kind > b->kind) - (a->kind < b->kind);
}

/* Sorted, one entry each; returns the number of distinct processes. */
static size_t settle(struct answers *s)
{
	size_t k = 0, procs = 0;

	qsort(s->a, s->n, sizeof(*s->a), answer_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (k && !answer_cmp(&s->a[k - 1], &s->a[i]))
			continue;
		procs += !k || s->a[k - 1].pid != s->a[i].pid;
		s->a[k++] = s->a[i];
	}
	s->n = k;
	return procs;
}

/*
 * Every layer's answer from one scan of the BPF side, as MODE says: the
 * time (*NS) is that of the scan alone, whose answer comes sorted, one
 * entry per process, layer, kind and file, as patchlayer usage has it;
 * the same answer in this program's form is made after.
 */
static size_t scan_bpf(struct pl_bpf *b, enum pl_bpf_scan_mode mode, struct answers *s,
		       struct pl_bpf_scan_stats *st, unsigned long long *ns)
{
	unsigned long long t0 = now_ns();
	struct pl_bpf_proc *p;
	size_t n;
	int err = pl_bpf_usage_scan(b, NULL, mode, &p, &n, st);

	*ns = now_ns() - t0;
	if (err) {
		fprintf(stderr, "scan: %s\n", strerror(-err));
		exit(1);
	}
	for (size_t i = 0, j = 0; i < n; i++) {
		/* sorted by layer: the name changes seldom */
		if (i == 0 || strcmp(p[i].layer, p[i - 1].layer))
			for (j = 0; j < n_layer_names && strcmp(layer_names[j], p[i].layer); j++)
				;
		if (j < n_layer_names)
			add(s, p[i].pid, j, p[i].kind);
	}
	free(p);
	return settle(s);
}

/* The same answer from every /proc/PID/maps, in C. */
static size_t scan_proc(struct answers *s)
{
	char path[300], line[4096];
	struct dirent *de;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		unsigned int pid;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid = (unsigned int)strtoul(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%s/maps", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char perms[8], mdev[16];
			unsigned long long mino;

			if (sscanf(line, "%*s %7s %*s %15s %llu", perms, mdev, &mino) != 3 ||
			    perms[2] != 'x' || !mino)
				continue;
			for (unsigned int i = 0; i < n_ids; i++)
				if (ids[i].ino == mino && !strcmp(ids[i].dev, mdev))
					add(s, pid, ids[i].layer, ids[i].kind);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return settle(s);
}

/* Entries in one sorted answer and not in the other. */
static size_t differ(const struct answers *a, const struct answers *b)
{
	size_t i = 0, j = 0, d = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : answer_cmp(&a->a[i], &b->a[j]);

		d += c != 0;
		i += c <= 0;
		j += c >= 0;
	}
	return d;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "spawn"))
		return spawn(atoi(argv[2]), argv + 3, argc - 3);
	if (argc == 4 && !strcmp(argv[1], "scan")) {
		struct pl_bpf *bpf;
		int err = pl_bpf_open(&bpf, 0);

		/* the maps in step with the module once, as the daemon keeps them */
		err = err ?: pl_bpf_sync(bpf);
		if (err)
			return fprintf(stderr, "BPF side: %s\n", strerror(-err)), 1;
		read_table(argv[3]);
		for (int r = 0; r < atoi(argv[2]); r++) {
			struct answers l = { 0 }, a = { 0 }, b = { 0 };
			struct pl_bpf_scan_stats st;
			unsigned long long tl, ti, t0;
			size_t pl = scan_bpf(bpf, PL_BPF_SCAN_STATE, &l, &st, &tl);
			size_t pa = scan_bpf(bpf, PL_BPF_SCAN_WALK, &a, NULL, &ti);
			size_t pb;

			t0 = now_ns();
			pb = scan_proc(&b);
			printf("scan_lists %d %llu %zu %zu\nscan_walked %d 0 %zu %d\n"
			       "scan_iter %d %llu %zu %zu\nscan_proc %d %llu %zu %zu\n"
			       "scan_diff %d 0 %zu %zu\n", r, tl, pl, l.n, r, st.walked,
			       st.full, r, ti, pa, a.n, r, now_ns() - t0, pb, b.n,
			       r, differ(&l, &b), differ(&a, &b));
			fflush(stdout);
			free(l.a);
			free(a.a);
			free(b.a);
		}
		pl_bpf_close(bpf);
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
	fprintf(stderr, "usage: plbpfbench spawn N LIB... | scan ROUNDS TABLE | dlopen N LIB\n");
	return 2;
}
