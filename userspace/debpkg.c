// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer build --from-deb: the layer of a Debian security update,
 * from the fixed packages and their bases (the installed packages, or
 * --base-deb). dpkg-deb extracts them into a private directory; every
 * library file of a fixed package that differs from its base becomes a
 * replacement, and the packages' names and versions the provenance.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debpkg.h"
#include "layer.h"
#include "patchlayer.h"
#include "run.h"

/* "Field: value" of a control paragraph TEXT, malloc'ed, or NULL. */
static char *pl_control_field(const char *text, const char *field)
{
	size_t flen = strlen(field);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, field, flen) && l[flen] == ':') {
			const char *v = l + flen + 1;

			while (*v == ' ')
				v++;
			return strndup(v, strcspn(v, "\n"));
		}
	}
	return NULL;
}

struct pl_deb_fields {
	char *package, *version, *source, *source_version;
};

static void pl_deb_fields_free(struct pl_deb_fields *f)
{
	free(f->package);
	free(f->version);
	free(f->source);
	free(f->source_version);
}

/* Package, Version and Source (which may carry its own version) of DEB. */
static int pl_deb_fields(const char *deb, struct pl_deb_fields *f)
{
	char *const argv[] = { "dpkg-deb", "--field", (char *)deb, NULL };
	char *text, *src, *paren;

	memset(f, 0, sizeof(*f));
	if (pl_run_capture(argv, &text, false))
		return -1;
	f->package = pl_control_field(text, "Package");
	f->version = pl_control_field(text, "Version");
	src = pl_control_field(text, "Source");
	free(text);
	if (!f->package || !f->version ||
	    !pl_deb_name_valid(f->package, strlen(f->package)) ||
	    !pl_deb_version_valid(f->version, strlen(f->version))) {
		pl_err("%s: no valid Package and Version fields", deb);
		free(src);
		return -1;
	}
	/* "Source: name" or "Source: name (version)" when the binary's version differs */
	if (!src)
		src = strdup(f->package);
	paren = src ? strchr(src, ' ') : NULL;
	if (paren) {
		*paren = '\0';
		if (paren[1] == '(' && paren[strlen(paren + 1)] == ')') {
			paren[strlen(paren + 1)] = '\0';
			f->source_version = strdup(paren + 2);
		}
	} else if (src) {
		f->source_version = strdup(f->version);
	}
	f->source = src;
	if (!f->source || !f->source_version ||
	    !pl_deb_name_valid(f->source, strlen(f->source)) ||
	    !pl_deb_version_valid(f->source_version, strlen(f->source_version))) {
		pl_err("%s: its Source field is not 'NAME' or 'NAME (VERSION)'", deb);
		return -1;
	}
	return 0;
}

/* "dpkg-deb -x DEB DIR": dpkg's own extraction, into our private directory. */
static int pl_deb_extract(const char *deb, const char *dir)
{
	char *const argv[] = { "dpkg-deb", "--extract", (char *)deb, (char *)dir, NULL };

	return pl_run(argv, false);
}

/* A file of a package under a library directory: its path, kind and link. */
struct pl_deb_entry {
	char *path;		/* absolute, as installed */
	mode_t type;		/* S_IFREG, S_IFLNK, other */
	char *link;		/* a symlink's target */
};

struct pl_deb_tree {
	struct pl_deb_entry *e;
	size_t n, cap;
	const char *root;	/* stripped from nftw's paths */
};

static struct pl_deb_tree *pl_tree_cur;

static int pl_tree_add(struct pl_deb_tree *t, const char *path, const char *full,
		       const struct stat *st)
{
	struct pl_deb_entry *e;

	if (S_ISDIR(st->st_mode) || !pl_target_valid(path, strlen(path)))
		return 0;	/* outside the library directories: documentation and the rest */
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct pl_deb_entry *bigger = realloc(t->e, cap * sizeof(*bigger));

		if (!bigger || cap > 65536)
			return -1;
		t->e = bigger;
		t->cap = cap;
	}
	e = &t->e[t->n];
	e->path = strdup(path);
	e->type = st->st_mode & S_IFMT;
	e->link = NULL;
	if (S_ISLNK(st->st_mode)) {
		char buf[PATH_MAX];
		ssize_t n = readlink(full, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		e->link = strdup(buf);
		if (!e->link) {
			free(e->path);
			return -1;
		}
	}
	if (!e->path)
		return -1;
	t->n++;
	return 0;
}

static int pl_tree_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	return pl_tree_add(pl_tree_cur, path + strlen(pl_tree_cur->root), path, st);
}

static int pl_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pl_deb_entry *)a)->path, ((const struct pl_deb_entry *)b)->path);
}

static void pl_tree_free(struct pl_deb_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].path);
		free(t->e[i].link);
	}
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/* Every library file of the extracted tree ROOT, sorted. */
static int pl_tree_walk(const char *root, struct pl_deb_tree *t)
{
	int err;

	t->root = root;
	pl_tree_cur = t;
	err = nftw(root, pl_tree_entry, 16, FTW_PHYS);
	pl_tree_cur = NULL;
	if (err) {
		pl_err("%s: %s", root, strerror(errno ? errno : ENOMEM));
		return -1;
	}
	if (t->n)
		qsort(t->e, t->n, sizeof(*t->e), pl_entry_cmp);
	return 0;
}

/* The installed PACKAGE of ROOT: its version and its library files. */
static int pl_installed(const char *root, const char *package, char **version,
			struct pl_deb_tree *t)
{
	char *admin = NULL, *arg = NULL, *list = NULL;
	int err = -1;

	*version = NULL;
	if (asprintf(&admin, "--admindir=%s/var/lib/dpkg", root) < 0 ||
	    asprintf(&arg, "%s", package) < 0) {
		admin = arg = NULL;
		pl_err("%s", strerror(ENOMEM));
		goto out;
	}
	{
		char *const q[] = { "dpkg-query", admin, "--showformat=${db:Status-Status} ${Version}",
				    "--show", arg, NULL };
		char *sp;

		if (pl_run_capture(q, version, false))
			goto out;
		sp = strchr(*version, ' ');
		if (strncmp(*version, "installed ", 10) || !sp) {
			pl_err("%s: %s is not installed there (%s)", root, package, *version);
			goto out;
		}
		memmove(*version, sp + 1, strlen(sp + 1) + 1);
	}
	{
		char *const q[] = { "dpkg-query", admin, "--listfiles", arg, NULL };

		if (pl_run_capture(q, &list, false))
			goto out;
	}
	t->root = root;
	for (char *l = list, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		char full[PATH_MAX];
		struct stat st;

		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (*l != '/' || snprintf(full, sizeof(full), "%s%s", root, l) >= (int)sizeof(full))
			continue;
		/* a file the package lists but the system lacks: removed by hand */
		if (lstat(full, &st) < 0)
			continue;
		if (pl_tree_add(t, l, full, &st)) {
			pl_err("%s", strerror(ENOMEM));
			goto out;
		}
	}
	if (t->n)
		qsort(t->e, t->n, sizeof(*t->e), pl_entry_cmp);
	err = 0;
out:
	if (err) {
		free(*version);
		*version = NULL;
	}
	free(admin);
	free(arg);
	free(list);
	return err;
}

/* Whether two regular files have the same bytes. */
static int pl_same_file(const char *a, const char *b)
{
	u8 da[PL_SHA256_SIZE], db[PL_SHA256_SIZE];
	uint64_t sa, sb;

	if (pl_sha256_file(a, true, da, &sa, NULL) || pl_sha256_file(b, true, db, &sb, NULL))
		return -1;
	return sa == sb && !memcmp(da, db, sizeof(da));
}

/*
 * Compares the fixed tree F with the base B: each differing regular file
 * becomes a replacement; an added, removed, retyped or relinked library
 * file is listed and makes the result -PL_EXIT_NOT_A_LAYER.
 */
static int pl_compare(struct pl_from_debs *d, const char *fixed_root,
		      const struct pl_deb_tree *f, const struct pl_deb_tree *b)
{
	size_t i = 0, j = 0, bad = 0;

	d->files = calloc(f->n ? f->n : 1, sizeof(*d->files));
	if (!d->files) {
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	while (i < f->n || j < b->n) {
		int cmp = i >= f->n ? 1 : j >= b->n ? -1 : strcmp(f->e[i].path, b->e[j].path);
		const struct pl_deb_entry *fe = i < f->n ? &f->e[i] : NULL;
		const struct pl_deb_entry *be = j < b->n ? &b->e[j] : NULL;

		if (cmp < 0) {
			pl_err("build: %s is added by the fixed package", fe->path);
			bad++;
			i++;
			continue;
		}
		if (cmp > 0) {
			pl_err("build: %s is removed by the fixed package", be->path);
			bad++;
			j++;
			continue;
		}
		i++;
		j++;
		if (fe->type != be->type) {
			pl_err("build: %s is %s in the fixed package and %s in the base", fe->path,
			       pl_file_type(fe->type), pl_file_type(be->type));
			bad++;
		} else if (fe->type == S_IFLNK) {
			/* a SONAME link: the same in both, or a rename */
			if (strcmp(fe->link, be->link)) {
				pl_err("build: %s is renamed: a symlink to %s in the base, to %s in the fixed package",
				       fe->path, be->link, fe->link);
				bad++;
			}
		} else if (fe->type != S_IFREG) {
			pl_err("build: %s is %s, not a library file", fe->path, pl_file_type(fe->type));
			bad++;
		} else {
			char *fp = pl_concat(fixed_root, fe->path, NULL);
			char *bp = pl_concat(d->base_tree, be->path, NULL);
			int same = fp && bp ? pl_same_file(fp, bp) : -1;

			if (same < 0) {
				pl_err("build: %s: cannot be read (fixed %s, base %s)", fe->path,
				       fp ? fp : "?", bp ? bp : "?");
				free(fp);
				free(bp);
				return -1;
			}
			free(bp);
			if (!same) {
				d->files[d->n_files] = pl_concat(fp, "=", fe->path);
				if (!d->files[d->n_files]) {
					free(fp);
					return -1;
				}
				d->n_files++;
			}
			free(fp);
		}
	}
	if (bad) {
		pl_err("build: %zu library file%s added, removed or renamed: the fixed package%s cannot be a layer",
		       bad, bad == 1 ? "" : "s", d->n_fixed == 1 ? "" : "s");
		return -PL_EXIT_NOT_A_LAYER;
	}
	if (!d->n_files) {
		pl_err("build: no library file differs from the base: nothing to replace");
		return -1;
	}
	return 0;
}

static int pl_pkg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pl_deb_package *)a)->name,
		      ((const struct pl_deb_package *)b)->name);
}

int pl_from_debs(struct pl_from_debs *d)
{
	const char *tmpdir = getenv("TMPDIR");
	struct pl_deb_tree ft = { 0 }, bt = { 0 };
	char *fixed_root = NULL;
	int err = -1;

	if (d->n_fixed > PL_MANIFEST_MAX_PACKAGES) {
		pl_err("build: more than %d --from-deb", PL_MANIFEST_MAX_PACKAGES);
		return -1;
	}
	/* 0700, ours: the packages' files are extracted where nobody else reaches */
	if (asprintf(&d->tmp, "%s/patchlayer-debs.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0 ||
	    !mkdtemp(d->tmp)) {
		pl_err("build: a temporary directory: %s", strerror(errno));
		free(d->tmp);
		d->tmp = NULL;
		return -1;
	}
	fixed_root = pl_concat(d->tmp, "/fixed", NULL);
	if (!fixed_root || mkdir(fixed_root, 0700))
		goto out;
	for (size_t i = 0; i < d->n_fixed; i++) {
		struct pl_deb_fields f;
		struct pl_deb_package *p = &d->pkgs[d->n_pkgs];

		if (pl_deb_fields(d->fixed[i], &f)) {
			pl_deb_fields_free(&f);
			goto out;
		}
		if (!d->source) {
			d->source = f.source;
			d->source_version = f.source_version;
			f.source = f.source_version = NULL;
		} else if (strcmp(d->source, f.source) || strcmp(d->source_version, f.source_version)) {
			pl_err("build: %s is built from %s %s, the others from %s %s: one source per layer",
			       d->fixed[i], f.source, f.source_version, d->source, d->source_version);
			pl_deb_fields_free(&f);
			goto out;
		}
		p->name = f.package;
		p->fixed = f.version;
		f.package = f.version = NULL;
		d->n_pkgs++;
		pl_deb_fields_free(&f);
		if (pl_deb_extract(d->fixed[i], fixed_root))
			goto out;
	}
	qsort(d->pkgs, d->n_pkgs, sizeof(d->pkgs[0]), pl_pkg_cmp);
	for (size_t i = 1; i < d->n_pkgs; i++) {
		if (!strcmp(d->pkgs[i].name, d->pkgs[i - 1].name)) {
			pl_err("build: %s given twice", d->pkgs[i].name);
			goto out;
		}
	}
	if (pl_tree_walk(fixed_root, &ft))
		goto out;

	if (d->n_base_debs) {
		d->base_tree = pl_concat(d->tmp, "/base", NULL);
		if (!d->base_tree || mkdir(d->base_tree, 0700))
			goto out;
		for (size_t i = 0; i < d->n_base_debs; i++) {
			struct pl_deb_fields f;
			struct pl_deb_package key = { .name = NULL }, *p;

			if (pl_deb_fields(d->base_debs[i], &f)) {
				pl_deb_fields_free(&f);
				goto out;
			}
			key.name = f.package;
			p = bsearch(&key, d->pkgs, d->n_pkgs, sizeof(*p), pl_pkg_cmp);
			if (!p || p->base) {
				pl_err("build: --base-deb %s: %s is %s", d->base_debs[i], f.package,
				       p ? "given twice" : "not among the fixed packages");
				pl_deb_fields_free(&f);
				goto out;
			}
			p->base = f.version;
			f.version = NULL;
			pl_deb_fields_free(&f);
			if (pl_deb_extract(d->base_debs[i], d->base_tree))
				goto out;
		}
		if (pl_tree_walk(d->base_tree, &bt))
			goto out;
	} else {
		d->base_tree = strdup(d->base_root ? d->base_root : "");
		if (!d->base_tree)
			goto out;
		for (size_t i = 0; i < d->n_pkgs; i++)
			if (pl_installed(d->base_tree, d->pkgs[i].name, &d->pkgs[i].base, &bt))
				goto out;
		if (bt.n)
			qsort(bt.e, bt.n, sizeof(*bt.e), pl_entry_cmp);
	}
	for (size_t i = 0; i < d->n_pkgs; i++) {
		struct pl_deb_package *p = &d->pkgs[i];

		if (!p->base) {
			pl_err("build: no --base-deb for %s", p->name);
			goto out;
		}
		/* a layer carries a fix: the same or an older version is none */
		if (pl_deb_version_cmp(p->fixed, strlen(p->fixed), p->base, strlen(p->base)) <= 0) {
			pl_err("build: %s %s is not newer than its base %s", p->name, p->fixed, p->base);
			goto out;
		}
	}
	err = pl_compare(d, fixed_root, &ft, &bt);
out:
	if (err == -1 && !fixed_root)
		pl_err("%s", strerror(ENOMEM));
	pl_tree_free(&ft);
	pl_tree_free(&bt);
	free(fixed_root);
	return err;
}

void pl_from_debs_free(struct pl_from_debs *d)
{
	if (d->tmp) {
		nftw(d->tmp, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(d->tmp);
	}
	for (size_t i = 0; i < d->n_files; i++)
		free(d->files[i]);
	free(d->files);
	free(d->base_tree);
	free(d->source);
	free(d->source_version);
	for (size_t i = 0; i < d->n_pkgs; i++) {
		free(d->pkgs[i].name);
		free(d->pkgs[i].base);
		free(d->pkgs[i].fixed);
	}
	memset(d, 0, sizeof(*d));
}
