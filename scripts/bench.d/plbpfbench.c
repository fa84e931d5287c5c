// SPDX-License-Identifier: GPL-2.0
/*
 * The timed parts of "scripts/bench --bpf" (docs/performance.md):
 *   plbpfbench spawn N LIB...  dlopen each LIB, then fork N children that
 *                              sleep, in a process group of their own
 *                              (printed)
 *   plbpfbench scan ROUNDS TABLE
 *                              per round, back to back: one run of the
 *                              pinned scan iterator, and one parse of every
 *                              /proc/PID/maps, each giving the answer for
 *                              every layer of TABLE at once: the set of
 *                              (process, layer, patched|stale). TABLE has
 *                              one line per identity a mapping of a layer's
 *                              file may show in /proc/PID/maps:
 *                              "LAYER patched|stale MAJ:MIN INODE" (hex
 *                              device numbers, as maps prints them).
 *                              Prints "scan_iter|scan_proc ROUND NS PROCS
 *                              ANSWERS" and "scan_diff ROUND 0 DIFFERENT"
 *                              (entries in one answer and not the other)
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

#include <bpf/bpf.h>

#include "../../bpf/pl_bpf_event.h"

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

/* The layers map: slot -> index in layer_names (-1: not in the table). */
static void slot_names(int layers_fd, int *slot_layer)
{
	for (__u32 i = 0; i < MAX_LAYERS; i++) {
		struct pl_bpf_layer l;

		slot_layer[i] = -1;
		if (bpf_map_lookup_elem(layers_fd, &i, &l) || !l.name[0])
			continue;
		l.name[sizeof(l.name) - 1] = '\0';
		for (unsigned int j = 0; j < n_layer_names; j++)
			if (!strcmp(layer_names[j], l.name))
				slot_layer[i] = (int)j;
	}
}

/* Every layer's answer from one run of the iterator. */
static size_t scan_iter(int prog_fd, int layers_fd, struct answers *s)
{
	static char buf[1 << 20];
	int link_fd, iter_fd, slot_layer[MAX_LAYERS];
	ssize_t n, off = 0;

	slot_names(layers_fd, slot_layer);
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
			if (r.slot < MAX_LAYERS && slot_layer[r.slot] >= 0)
				add(s, r.pid, (unsigned int)slot_layer[r.slot], r.kind);
		}
		memmove(buf, buf + whole, off - whole);
		off -= whole;
	}
	close(iter_fd);
	close(link_fd);
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
		int prog_fd = bpf_obj_get("/sys/fs/bpf/patchlayer/scan");
		int layers_fd = bpf_obj_get("/sys/fs/bpf/patchlayer/layers");

		if (prog_fd < 0 || layers_fd < 0)
			return perror("/sys/fs/bpf/patchlayer"), 1;
		read_table(argv[3]);
		for (int r = 0; r < atoi(argv[2]); r++) {
			struct answers a = { 0 }, b = { 0 };
			unsigned long long t0 = now_ns();
			size_t pa = scan_iter(prog_fd, layers_fd, &a);
			unsigned long long t1 = now_ns();
			size_t pb = scan_proc(&b);
			unsigned long long t2 = now_ns();

			printf("scan_iter %d %llu %zu %zu\nscan_proc %d %llu %zu %zu\n"
			       "scan_diff %d 0 %zu\n", r, t1 - t0, pa, a.n, r, t2 - t1, pb, b.n,
			       r, differ(&a, &b));
			fflush(stdout);
			free(a.a);
			free(b.a);
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
	fprintf(stderr, "usage: plbpfbench spawn N LIB... | scan ROUNDS TABLE | dlopen N LIB\n");
	return 2;
}
