// SPDX-License-Identifier: GPL-2.0
/*
 * The inodes of one line of layers/<name>/files, who owns a watched inode
 * among the loaded layers, the taskscan iterator's records, and the
 * order of a scan's answer, for plbpf.c and plbpf_sync.c; plain and
 * unit-tested.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plbpf.h"

/* "major:minor:inode" in decimal, each part within the kernel's dev_t */
static int pl_parse_devino(const char *s, struct pl_bpf_inode *key)
{
	unsigned int ma, mi;
	unsigned long long ino;
	int end = -1;

	/* sscanf alone would take signs and blanks */
	if (strspn(s, "0123456789:") != strlen(s) ||
	    sscanf(s, "%u:%u:%llu%n", &ma, &mi, &ino, &end) != 3 || s[end] != '\0')
		return -EPROTO;
	if (ma >= 1U << (32 - PL_BPF_MINORBITS) || mi >= 1U << PL_BPF_MINORBITS)
		return -EPROTO;
	memset(key, 0, sizeof(*key));
	key->dev = PL_BPF_MKDEV(ma, mi);
	key->ino = ino;
	return 0;
}

int pl_bpf_parse_files_line(char *line, struct pl_bpf_inode *file, struct pl_bpf_inode *base)
{
	size_t len = strlen(line);
	char *b, *f;

	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	/* the last two fields: the target before them may hold anything */
	b = strrchr(line, ' ');
	if (!b)
		return -EPROTO;
	*b++ = '\0';
	f = strrchr(line, ' ');
	if (!f)
		return -EPROTO;
	*f++ = '\0';
	return pl_parse_devino(f, file) ?: pl_parse_devino(b, base);
}

static int pl_entry_cmp(const void *a, const void *b)
{
	const struct pl_bpf_entry *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	/* one key twice in a layer (a base replaced twice): its first line */
	return c ? c : (x->w.file > y->w.file) - (x->w.file < y->w.file);
}

int pl_bpf_entries(const struct pl_bpf_inode *files, size_t n_lines, __u32 slot,
		   struct pl_bpf_entry **out, size_t *n)
{
	struct pl_bpf_entry *e;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (n_lines > 1U << 20)
		return -E2BIG;
	e = calloc(2 * n_lines + 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < 2 * n_lines; i++) {
		e[i].key = files[i];
		e[i].key.pad = 0;
		e[i].w.slot = slot;
		e[i].w.kind = i % 2 ? PL_BPF_STALE : PL_BPF_PATCHED;
		e[i].w.file = (__u32)(i / 2);
	}
	qsort(e, 2 * n_lines, sizeof(*e), pl_entry_cmp);
	for (size_t i = 0; i < 2 * n_lines; i++)
		if (k == 0 || memcmp(&e[k - 1].key, &e[i].key, sizeof(e[i].key)))
			e[k++] = e[i];
	*out = e;
	*n = k;
	return 0;
}

int pl_bpf_entry_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pl_bpf_inode));
}

bool pl_bpf_owner(const struct pl_bpf_slot_cache *c, const struct pl_bpf_inode *key,
		  struct pl_bpf_watch *w, bool *shared)
{
	struct pl_bpf_entry probe = { .key = *key };
	int best = -1, wanting = 0;

	probe.key.pad = 0;
	for (int i = 0; i < PL_BPF_MAX_LAYERS; i++) {
		const struct pl_bpf_entry *e;

		if (!c[i].name[0] || !c[i].n)
			continue;
		e = bsearch(&probe, c[i].ents, c[i].n, sizeof(*e), pl_bpf_entry_cmp);
		if (!e)
			continue;
		wanting++;
		/* an active layer's claim on a shared base comes first */
		if (best < 0 || (c[i].active && !c[best].active)) {
			best = i;
			*w = e->w;
		}
	}
	if (shared)
		*shared = wanting > 1;
	return best >= 0;
}

bool pl_bpf_task_next(const char *buf, size_t len, size_t *off, struct pl_bpf_task_rec *rec,
		      const char **files, size_t *n_files)
{
	size_t n, size;

	if (*off > len || len - *off < sizeof(*rec))
		return false;
	memcpy(rec, buf + *off, sizeof(*rec));
	/* the iterator writes the list only up to its room */
	n = rec->n < PL_BPF_TASK_FILES ? rec->n : PL_BPF_TASK_FILES;
	size = n * sizeof(struct pl_bpf_inode);
	if (len - *off - sizeof(*rec) < size)
		return false;
	*files = buf + *off + sizeof(*rec);
	*n_files = n;
	*off += sizeof(*rec) + size;
	rec->comm[sizeof(rec->comm) - 1] = '\0';
	return true;
}

bool pl_bpf_task_valid(const struct pl_bpf_task_rec *rec, __u32 wgen)
{
	/* touched == walked: a hook raced with the run that seeded it */
	return rec->wgen && rec->wgen == wgen && !rec->dirty &&
	       !(rec->touched && rec->touched == rec->walked) && rec->n <= PL_BPF_TASK_FILES;
}

bool pl_bpf_walk_all(size_t walk, size_t procs)
{
	/*
	 * A filtered pass costs a link, an iterator and a read on top of the
	 * process's mappings: many processes to walk (at the first scan after
	 * the BPF side or a layer is loaded, every one) take one pass.
	 */
	return walk > 16 && walk > procs / 8;
}

int pl_bpf_ent_cmp(const void *x, const void *y)
{
	const struct pl_bpf_ent *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->file > b->file) - (a->file < b->file);
}

/* An entry's bucket in the answer's order: the layer's rank, then kind. */
#define PL_ENT_BUCKET(key)	((size_t)((key) >> 32) & ((PL_BPF_MAX_LAYERS << 8) - 1))
#define PL_ENT_BUCKETS		(PL_BPF_MAX_LAYERS << 8)
/* a process's entries sorted in place; more are a comparison sort's job */
#define PL_ENT_GROUP_MAX	64

/*
 * At 160,000 entries (10,000 processes, 16 layers) a comparison sort and
 * a sorted copy cost more than the scan: each process's few entries are
 * sorted in place, then a stable counting sort by layer and kind gives
 * each entry its place, the pid order kept within each. False when the
 * entries do not come so.
 */
static bool pl_bpf_ent_place(struct pl_bpf_ent *e, size_t n, __u32 *pos, size_t *kept)
{
	__u32 last_pid = 0;
	size_t *start;

	*kept = 0;
	for (size_t g = 0, end; g < n; g = end) {
		__u32 pid = (__u32)e[g].key;

		if (g && pid <= last_pid)
			return false;
		last_pid = pid;
		for (end = g + 1; end < n && e[end].proc == e[g].proc; end++)
			;
		if (end - g > PL_ENT_GROUP_MAX)
			return false;
		for (size_t i = g + 1; i < end; i++) {
			struct pl_bpf_ent x = e[i];
			size_t j = i;

			for (; j > g && pl_bpf_ent_cmp(&e[j - 1], &x) > 0; j--)
				e[j] = e[j - 1];
			e[j] = x;
		}
	}
	start = calloc(PL_ENT_BUCKETS, sizeof(*start));
	if (!start)
		return false;
	for (size_t i = 0; i < n; i++) {
		/* however often mapped: the same entry twice is together now */
		if (i && !pl_bpf_ent_cmp(&e[i - 1], &e[i])) {
			pos[i] = PL_BPF_ENT_DUP;
			continue;
		}
		pos[i] = 0;
		start[PL_ENT_BUCKET(e[i].key)]++;
	}
	for (size_t b = 0, sum = 0; b < PL_ENT_BUCKETS; b++) {
		size_t c = start[b];

		start[b] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++)
		if (pos[i] != PL_BPF_ENT_DUP) {
			pos[i] = (__u32)start[PL_ENT_BUCKET(e[i].key)]++;
			(*kept)++;
		}
	free(start);
	return true;
}

int pl_bpf_ent_order(struct pl_bpf_ent *e, size_t n, __u32 *pos, size_t *kept)
{
	if (n >= PL_BPF_ENT_DUP)
		return -E2BIG;
	if (pl_bpf_ent_place(e, n, pos, kept))
		return 1;
	/* processes walked one by one after the lists' answer, or many mappings */
	qsort(e, n, sizeof(*e), pl_bpf_ent_cmp);
	*kept = 0;
	for (size_t i = 0; i < n; i++)
		pos[i] = i && !pl_bpf_ent_cmp(&e[i - 1], &e[i]) ? PL_BPF_ENT_DUP : (__u32)(*kept)++;
	return 0;
}

/* Where (LAYER, KIND) sorts against entry P: the answer's order */
static int pl_bpf_proc_cmp(const struct pl_bpf_proc *p, const char *layer, __u32 kind)
{
	int c = strcmp(p->layer, layer);

	return c ? c : (p->kind > kind) - (p->kind < kind);
}

/*
 * The answer is sorted by layer name, kind and pid: the first entry of
 * (LAYER, KIND) found by bisection, then one count per pid. A daemon's
 * metrics count every layer of the answer: 16 layers, 160,000 entries.
 */
size_t pl_bpf_count(const struct pl_bpf_proc *p, size_t n, const char *layer, __u32 kind)
{
	size_t lo = 0, hi = n, c = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pl_bpf_proc_cmp(&p[mid], layer, kind) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n && !pl_bpf_proc_cmp(&p[i], layer, kind); i++)
		c += i == lo || p[i - 1].pid != p[i].pid;
	return c;
}
