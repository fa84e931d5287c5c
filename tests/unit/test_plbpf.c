// SPDX-License-Identifier: GPL-2.0
/* The inodes of layers/<name>/files lines, as the BPF side reads them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../userspace/plbpf.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text, struct pl_bpf_inode *file, struct pl_bpf_inode *base)
{
	char line[512];

	snprintf(line, sizeof(line), "%s", text);
	return pl_bpf_parse_files_line(line, file, base);
}

static void test_line(void **state)
{
	struct pl_bpf_inode file, base;

	(void)state;
	assert_int_equal(parse("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13 " SHA
			       " verified 0:33:11 254:1:667217\n", &file, &base), 0);
	assert_int_equal(file.dev, PL_BPF_MKDEV(0, 33));
	assert_int_equal(file.ino, 11);
	assert_int_equal(file.pad, 0);
	assert_int_equal(base.dev, (254U << 20) | 1);
	assert_int_equal(base.ino, 667217);
	/* the kernel's dev_t: 12 bits of major, 20 of minor */
	assert_int_equal(PL_BPF_MAJOR(base.dev), 254);
	assert_int_equal(PL_BPF_MINOR(base.dev), 1);
}

static void test_limits(void **state)
{
	struct pl_bpf_inode file, base;

	(void)state;
	assert_int_equal(parse("/t " SHA " verified 4095:1048575:18446744073709551615 1:2:3",
			       &file, &base), 0);
	assert_int_equal(file.dev, 0xffffffffU);
	assert_int_equal(file.ino, UINT64_MAX);
	assert_int_equal(parse("/t " SHA " verified 4096:0:1 1:2:3", &file, &base), -EPROTO);
	assert_int_equal(parse("/t " SHA " verified 0:1048576:1 1:2:3", &file, &base), -EPROTO);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"/t " SHA " verified",			/* a module without the fields */
		"/t " SHA " verified 1:2:3",
		"/t " SHA " verified 1:2:3 1:2",
		"/t " SHA " verified 1:2:3 1:2:3:4",
		"/t " SHA " verified 1:2:x 1:2:3",
		"/t " SHA " verified -1:2:3 1:2:3",
		"/t " SHA " verified +1:2:3 1:2:3",
		"/t " SHA " verified 1:2:3 1:2:3 ",
		"/t " SHA " verified 1::3 1:2:3",
		"1:2:3 1:2:3",
	};
	struct pl_bpf_inode file, base;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &file, &base) != -EPROTO)
			fail_msg("accepted: '%s'", bad[i]);
	}
}

static void test_target_with_spaces(void **state)
{
	struct pl_bpf_inode file, base;

	(void)state;
	assert_int_equal(parse("/a b/c " SHA " verified 8:1:2 8:1:3", &file, &base), 0);
	assert_int_equal(file.ino, 2);
	assert_int_equal(base.ino, 3);
}

#include <stdlib.h>

static struct pl_bpf_inode ino(__u32 dev, __u64 n)
{
	return (struct pl_bpf_inode){ .ino = n, .dev = dev };
}

static const struct pl_bpf_entry *find(const struct pl_bpf_entry *e, size_t n,
				       struct pl_bpf_inode key)
{
	return bsearch(&key, e, n, sizeof(*e), pl_bpf_entry_cmp);
}

/* A layer's entries: each key once, sorted, its first line; replacements patched. */
static void test_entries(void **state)
{
	struct pl_bpf_inode files[] = {
		ino(7, 30), ino(8, 300),	/* line 0 */
		ino(7, 10), ino(8, 100),	/* line 1 */
		ino(7, 20), ino(8, 100),	/* line 2: the base of line 1 again */
	};
	const struct pl_bpf_entry *f;
	struct pl_bpf_entry *e;
	size_t n;

	(void)state;
	assert_int_equal(pl_bpf_entries(files, 3, 5, &e, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 1; i < n; i++)
		assert_true(pl_bpf_entry_cmp(&e[i - 1], &e[i]) < 0);
	f = find(e, n, ino(7, 10));
	assert_non_null(f);
	assert_int_equal(f->w.kind, PL_BPF_PATCHED);
	assert_int_equal(f->w.file, 1);
	assert_int_equal(f->w.slot, 5);
	f = find(e, n, ino(8, 100));
	assert_non_null(f);
	assert_int_equal(f->w.kind, PL_BPF_STALE);
	assert_int_equal(f->w.file, 1);
	f = find(e, n, ino(8, 300));
	assert_non_null(f);
	assert_int_equal(f->w.file, 0);
	free(e);
	assert_int_equal(pl_bpf_entries(files, 0, 0, &e, &n), 0);
	assert_int_equal(n, 0);
	free(e);
}

/* A base two loaded layers share belongs to the active one, else the lowest slot. */
static void test_owner(void **state)
{
	static struct pl_bpf_slot_cache c[PL_BPF_MAX_LAYERS];
	struct pl_bpf_inode a[] = { ino(7, 1), ino(8, 100) };
	struct pl_bpf_inode b[] = { ino(7, 2), ino(8, 100) };
	struct pl_bpf_inode k = ino(8, 100), lone = ino(7, 2), none = ino(9, 9);
	struct pl_bpf_watch w;
	bool shared;

	(void)state;
	strcpy(c[3].name, "old");
	strcpy(c[9].name, "new");
	assert_int_equal(pl_bpf_entries(a, 1, 3, &c[3].ents, &c[3].n), 0);
	assert_int_equal(pl_bpf_entries(b, 1, 9, &c[9].ents, &c[9].n), 0);
	assert_true(pl_bpf_owner(c, &k, &w, &shared));
	assert_true(shared);
	assert_int_equal(w.slot, 3);
	c[9].active = true;
	assert_true(pl_bpf_owner(c, &k, &w, &shared));
	assert_int_equal(w.slot, 9);
	assert_int_equal(w.kind, PL_BPF_STALE);
	assert_true(pl_bpf_owner(c, &lone, &w, &shared));
	assert_false(shared);
	assert_int_equal(w.slot, 9);
	assert_int_equal(w.kind, PL_BPF_PATCHED);
	assert_false(pl_bpf_owner(c, &none, &w, &shared));
	/* a freed slot wants nothing */
	c[9].name[0] = '\0';
	assert_true(pl_bpf_owner(c, &k, &w, &shared));
	assert_false(shared);
	assert_int_equal(w.slot, 3);
	free(c[3].ents);
	free(c[9].ents);
}

/* The taskscan iterator's output: records, each followed by its list. */
static void test_task_records(void **state)
{
	char buf[3 * sizeof(struct pl_bpf_task_rec) + 40 * sizeof(struct pl_bpf_inode)];
	struct pl_bpf_task_rec r = { .pid = 7, .wgen = 3, .n = 2 }, got;
	struct pl_bpf_inode k = { .ino = 11, .dev = 5 };
	size_t off = 0, len = 0, n;
	const char *files;

	(void)state;
	memset(r.comm, 'x', sizeof(r.comm));	/* unterminated */
	memcpy(buf, &r, sizeof(r));
	len += sizeof(r);
	memcpy(buf + len, &k, sizeof(k));
	k.ino = 12;
	memcpy(buf + len + sizeof(k), &k, sizeof(k));
	len += 2 * sizeof(k);
	/* no storage: no list */
	r = (struct pl_bpf_task_rec){ .pid = 8 };
	memcpy(buf + len, &r, sizeof(r));
	len += sizeof(r);
	/* too many: the iterator writes PL_BPF_TASK_FILES of them */
	r = (struct pl_bpf_task_rec){ .pid = 9, .wgen = 3, .n = PL_BPF_TASK_FILES + 5 };
	memcpy(buf + len, &r, sizeof(r));
	len += sizeof(r);
	memset(buf + len, 0, PL_BPF_TASK_FILES * sizeof(k));
	len += PL_BPF_TASK_FILES * sizeof(k);

	assert_true(pl_bpf_task_next(buf, len, &off, &got, &files, &n));
	assert_int_equal(got.pid, 7);
	assert_int_equal(n, 2);
	assert_int_equal(got.comm[sizeof(got.comm) - 1], '\0');
	memcpy(&k, files + sizeof(k), sizeof(k));
	assert_int_equal(k.ino, 12);
	assert_true(pl_bpf_task_valid(&got, 3));
	assert_false(pl_bpf_task_valid(&got, 4));	/* keys added since */
	assert_true(pl_bpf_task_next(buf, len, &off, &got, &files, &n));
	assert_int_equal(got.pid, 8);
	assert_int_equal(n, 0);
	assert_false(pl_bpf_task_valid(&got, 3));	/* never seeded */
	assert_true(pl_bpf_task_next(buf, len, &off, &got, &files, &n));
	assert_int_equal(got.pid, 9);
	assert_int_equal(n, PL_BPF_TASK_FILES);
	assert_false(pl_bpf_task_valid(&got, 3));	/* more than it holds */
	assert_int_equal(off, len);
	assert_false(pl_bpf_task_next(buf, len, &off, &got, &files, &n));

	/* truncated: in the record, in its list */
	off = 0;
	assert_false(pl_bpf_task_next(buf, sizeof(r) - 1, &off, &got, &files, &n));
	assert_false(pl_bpf_task_next(buf, sizeof(r) + sizeof(k), &off, &got, &files, &n));
	assert_int_equal(off, 0);
	off = len + 1;
	assert_false(pl_bpf_task_next(buf, len, &off, &got, &files, &n));
}

static void test_task_valid(void **state)
{
	struct pl_bpf_task_rec r = { .wgen = 2, .walked = 5, .n = PL_BPF_TASK_FILES };

	(void)state;
	assert_true(pl_bpf_task_valid(&r, 2));
	r.dirty = 1;			/* a watched mapping went away */
	assert_false(pl_bpf_task_valid(&r, 2));
	r.dirty = 0;
	r.touched = 5;			/* a hook raced with the run that seeded it */
	assert_false(pl_bpf_task_valid(&r, 2));
	r.touched = 4;			/* with an earlier run */
	assert_true(pl_bpf_task_valid(&r, 2));
	r.walked = 0;			/* exec's empty list, a hook during a run */
	assert_true(pl_bpf_task_valid(&r, 2));
	r.wgen = 0;
	assert_false(pl_bpf_task_valid(&r, 0));
}

static void test_walk_all(void **state)
{
	(void)state;
	assert_false(pl_bpf_walk_all(0, 0));
	assert_false(pl_bpf_walk_all(16, 20));
	assert_true(pl_bpf_walk_all(17, 20));
	assert_false(pl_bpf_walk_all(100, 10000));
	assert_true(pl_bpf_walk_all(10000, 10000));
}

/* ENTS: N entries of NPROC processes, ascending pids, random layers, kinds, files */
static struct pl_bpf_ent *random_answer(size_t nproc, size_t per_max, size_t *n)
{
	struct pl_bpf_ent *e = malloc((nproc * per_max + 1) * sizeof(*e));
	__u32 pid = 1;

	*n = 0;
	assert_non_null(e);
	for (size_t p = 0; p < nproc; p++) {
		size_t k = (size_t)rand() % (per_max + 1);

		pid += 1 + (__u32)(rand() % 50);
		for (size_t i = 0; i < k; i++)
			e[(*n)++] = (struct pl_bpf_ent){
				.key = (__u64)(rand() % 16) << 40 | (__u64)(1 + rand() % 2) << 32 | pid,
				.file = (__u32)(rand() % 4),
				.proc = (__u32)p,
			};
	}
	return e;
}

/* E's N entries placed by pl_bpf_ent_order() are the qsort'ed WANT, each once */
static void check_order(struct pl_bpf_ent *e, size_t n, int want_rc)
{
	struct pl_bpf_ent *want = malloc((n + 1) * sizeof(*want));
	struct pl_bpf_ent *got = calloc(n + 1, sizeof(*got));
	__u32 *pos = malloc((n + 1) * sizeof(*pos));
	size_t kept, k = 0;

	assert_non_null(want);
	assert_non_null(got);
	assert_non_null(pos);
	memcpy(want, e, n * sizeof(*e));
	qsort(want, n, sizeof(*want), pl_bpf_ent_cmp);
	/* each entry once, however often mapped */
	for (size_t i = 0; i < n; i++)
		if (!k || pl_bpf_ent_cmp(&want[k - 1], &want[i]))
			want[k++] = want[i];
	assert_int_equal(pl_bpf_ent_order(e, n, pos, &kept), want_rc);
	assert_int_equal(kept, k);
	for (size_t i = 0; i < n; i++) {
		if (pos[i] == PL_BPF_ENT_DUP) {
			assert_true(i > 0);
			assert_int_equal(pl_bpf_ent_cmp(&e[i - 1], &e[i]), 0);
			continue;
		}
		assert_true(pos[i] < kept);
		/* every place taken once (no entry has key 0 here) */
		assert_int_equal(got[pos[i]].key, 0);
		got[pos[i]] = e[i];
	}
	for (size_t i = 0; i < k; i++)
		assert_int_equal(pl_bpf_ent_cmp(&got[i], &want[i]), 0);
	free(want);
	free(got);
	free(pos);
}

static void test_ent_order(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 50; round++) {
		size_t n;
		struct pl_bpf_ent *e = random_answer(1 + (size_t)round * 20, 1 + (size_t)round % 40, &n);

		check_order(e, n, 1);
		free(e);
	}
}

/* Entries not in the iterators' order: sorted all the same, by qsort */
static void test_ent_order_fallback(void **state)
{
	struct pl_bpf_ent *e = calloc(200, sizeof(*e));

	(void)state;
	assert_non_null(e);
	/* a pid below the one before: processes walked after the lists' answer */
	e[0] = (struct pl_bpf_ent){ .key = 1ULL << 40 | 5, .proc = 0 };
	e[1] = (struct pl_bpf_ent){ .key = 3, .proc = 1 };
	e[2] = (struct pl_bpf_ent){ .key = 1ULL << 40 | 3, .proc = 1 };
	check_order(e, 3, 0);
	/* the same pid again, apart, with a repeat */
	e[0] = (struct pl_bpf_ent){ .key = 5, .file = 1, .proc = 0 };
	e[1] = (struct pl_bpf_ent){ .key = 6, .proc = 1 };
	e[2] = (struct pl_bpf_ent){ .key = 5, .file = 1, .proc = 2 };
	e[3] = (struct pl_bpf_ent){ .key = 5, .proc = 2 };
	check_order(e, 4, 0);
	/* a process with more than 64 entries, twice each */
	for (int i = 0; i < 140; i++)
		e[i] = (struct pl_bpf_ent){ .key = 9, .file = (__u32)(70 - i / 2), .proc = 0 };
	check_order(e, 140, 0);
	/* 64 are placed without qsort */
	for (int i = 0; i < 64; i++)
		e[i] = (struct pl_bpf_ent){ .key = 9, .file = (__u32)(70 - i), .proc = 0 };
	check_order(e, 64, 1);
	check_order(e, 0, 1);
	free(e);
}

/* pl_bpf_count() as it was, a linear pass: the reference */
static size_t count_linear(const struct pl_bpf_proc *p, size_t n, const char *layer, __u32 kind)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += p[i].kind == kind && !strcmp(p[i].layer, layer) &&
		     (i == 0 || p[i - 1].pid != p[i].pid || p[i - 1].kind != kind ||
		      strcmp(p[i - 1].layer, layer));
	return c;
}

static int proc_cmp(const void *x, const void *y)
{
	const struct pl_bpf_proc *a = x, *b = y;
	int c = strcmp(a->layer, b->layer);

	if (c)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->file > b->file) - (a->file < b->file);
}

static void test_count(void **state)
{
	static const char *const names[] = { "a", "b-fix", "b-fixes", "zlib-fix" };
	struct pl_bpf_proc p[600];

	(void)state;
	srand(11);
	for (int round = 0; round < 40; round++) {
		size_t n = (size_t)rand() % 600;

		for (size_t i = 0; i < n; i++)
			p[i] = (struct pl_bpf_proc){
				.pid = 1 + (__u32)(rand() % 40),
				.kind = rand() % 2 ? PL_BPF_PATCHED : PL_BPF_STALE,
				.file = (__u32)(rand() % 3),
				.layer = names[rand() % 3],
			};
		qsort(p, n, sizeof(p[0]), proc_cmp);
		for (size_t l = 0; l < 4; l++)
			for (__u32 kind = PL_BPF_PATCHED; kind <= PL_BPF_STALE; kind++)
				assert_int_equal(pl_bpf_count(p, n, names[l], kind),
						 count_linear(p, n, names[l], kind));
	}
	assert_int_equal(pl_bpf_count(p, 0, "a", PL_BPF_PATCHED), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_target_with_spaces),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_task_records),
		cmocka_unit_test(test_task_valid),
		cmocka_unit_test(test_walk_all),
		cmocka_unit_test(test_ent_order),
		cmocka_unit_test(test_ent_order_fallback),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests_name("plbpf", tests, NULL, NULL);
}
