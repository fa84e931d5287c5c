// SPDX-License-Identifier: GPL-2.0
/*
 * Layers as Debian packages.
 *
 * patchlayer package LAYERDIR: a patchlayer-layer-<name> package carrying
 * the signed layer unchanged under /usr/share/patchlayer/layers/<layer>/,
 * whose maintainer scripts hand it to the daemon (deliver) and remove it.
 *
 * patchlayer deliver DIR: copies a layer into the inbox under a dot name
 * on the inbox's filesystem and renames it into place, so that the daemon
 * never sees it half-copied (docs/daemon.md, "Completeness").
 *
 * Only what the manifest names is copied (manifest, manifest.p7s, each
 * files/<target>), each file checked against its record after the copy:
 * nothing else in the source directory travels with the layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "../lib/config.h"
#include "debpkg.h"
#include "layer.h"
#include "patchlayer.h"

extern char **environ;

#define PL_PKG_PREFIX		"patchlayer-layer-"
#define PL_PKG_LAYERS		"/usr/share/patchlayer/layers"
#define PL_DELIVER_WAIT_MAX	3600	/* seconds */

/*
 * Copies the layer described by LM from SRC into the existing, empty
 * directory DST: the manifest's exact bytes, its signature and every
 * replacement, each checked against its record. 0, or -1 (said).
 */
static int pl_copy_layer(const char *src, const char *dst, const struct pl_layer_manifest *lm)
{
	char *path = NULL, *sig = NULL;
	size_t sig_len;
	int err;

	if (chmod(dst, 0755) < 0) {
		pl_err("%s: %s", dst, strerror(errno));
		return -1;
	}
	path = pl_concat(dst, "/manifest", NULL);
	if (!path || pl_write_new_file(path, lm->buf, lm->len))
		goto fail;
	free(path);
	path = pl_concat(src, "/manifest.p7s", NULL);
	if (!path)
		goto fail;
	err = pl_read_file(path, PL_SIGNATURE_MAX, &sig, &sig_len);
	if (err) {
		pl_err("%s: %s", path, strerror(-err));
		goto fail;
	}
	free(path);
	path = pl_concat(dst, "/manifest.p7s", NULL);
	if (!path || pl_write_new_file(path, sig, sig_len))
		goto fail;
	for (size_t i = 0; i < lm->m.n_files; i++) {
		const struct pl_manifest_file *f = &lm->files[i];
		char *target = pl_str_dup(f->target), *from = NULL;
		u8 digest[PL_SHA256_SIZE];
		uint64_t size;
		bool reading;
		int in, out;

		free(path);
		path = target ? pl_concat(dst, "/files", target) : NULL;
		from = target ? pl_concat(src, "/files", target) : NULL;
		free(target);
		if (!path || !from) {
			free(from);
			goto fail;
		}
		if (pl_mkdirs(path, strlen(dst))) {
			free(from);
			goto fail;
		}
		/* a replacement is a regular file, never a symlink (the kernel: ELOOP) */
		in = pl_open_regular(from, true, NULL);
		if (in < 0) {
			pl_err("%s: %s", from, in == -EINVAL ? "not a regular file" : strerror(-in));
			free(from);
			goto fail;
		}
		out = pl_create(path);
		if (out < 0) {
			pl_err("%s: %s", path, strerror(-out));
			close(in);
			free(from);
			goto fail;
		}
		err = pl_copy_hash(in, out, digest, &size, &reading);
		close(in);
		err = pl_finish_file(out, err);
		if (err) {
			pl_err("%s: %s", reading ? from : path, strerror(-err));
			free(from);
			goto fail;
		}
		if (size != f->size || memcmp(digest, f->sha256, PL_SHA256_SIZE)) {
			pl_err("%s: differs from its record in the manifest (size or sha256)", from);
			free(from);
			goto fail;
		}
		free(from);
	}
	free(path);
	free(sig);
	return 0;
fail:
	if (!path)
		pl_err("%s", strerror(ENOMEM));
	free(path);
	free(sig);
	return -1;
}

/* Loads DIR/manifest; it must parse. 0 or -1 (said). */
static int pl_load_layer(const char *dir, struct pl_layer_manifest *lm)
{
	char *path = pl_concat(dir, "/manifest", NULL);
	int err;

	if (!path) {
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	err = pl_layer_manifest_load(path, lm);
	if (err && lm->buf)
		pl_err("%s line %u: %s", path, lm->perr.line, lm->perr.reason);
	else if (err)
		pl_err("%s: %s", path, strerror(-err));
	free(path);
	return err ? -1 : 0;
}

/* Runs ARGV, stdout to /dev/null when QUIET; 0 when it exits 0, else -1 (said). */
int pl_run(char *const argv[], bool quiet)
{
	posix_spawn_file_actions_t fa;
	int status, err;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		pl_err("%s: %s", argv[0], strerror(err));
		return -1;
	}
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

/* --- package --- */

struct pl_package {
	const char *layerdir, *outdir, *series, *maintainer;
	char *pkg, *version, *layer;	/* package name, its version, the layer's name */
	char *tmp;			/* the staging directory, removed at the end */
	struct pl_layer_manifest lm;
};

static void pl_package_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s layer package [-o DIR] [--name SERIES] [--deb-version VERSION]\n"
		"           [--maintainer 'NAME <EMAIL>'] LAYERDIR\n"
		"\n"
		"Makes DIR/patchlayer-layer-SERIES_VERSION_all.deb carrying the signed layer\n"
		"LAYERDIR unchanged. SERIES defaults to the layer's name, VERSION to the\n"
		"layer's version; both must be valid in Debian. Keep SERIES the same\n"
		"across a layer's versions so that each upgrades the one before.\n",
		pl_prog);
}

/* The maintainer scripts; %1$s is the layer, %2$s the package, %3$s the predecessor. */
static const char pl_postinst[] =
	"#!/bin/sh\n"
	"# %2$s: hands the layer %1$s to the patchlayer daemon, whose policy\n"
	"# (auto_install, install_window) decides when it goes active.\n"
	"set -e\n"
	"\n"
	"if [ \"$1\" = configure ]; then\n"
	"\t# copied into the inbox whole, then renamed into place; on an upgrade\n"
	"\t# the layer it replaces is removed once this one is active\n"
	"\tpatchlayer deliver --wait 120%4$s%3$s %5$s/%1$s\n"
	"fi\n"
	"\n"
	"exit 0\n";

static const char pl_prerm[] =
	"#!/bin/sh\n"
	"# %2$s: drops and removes the layer %1$s when the package goes.\n"
	"set -e\n"
	"\n"
	"if [ \"$1\" = remove ]; then\n"
	"\tpatchlayer undeliver %1$s || \\\n"
	"\t\techo \"%2$s: the layer %1$s could not be removed: see 'patchlayer layers'\" >&2\n"
	"fi\n"
	"\n"
	"exit 0\n";

static int pl_write_script(const char *dir, const char *name, const char *fmt,
			   const struct pl_package *p)
{
	char *path = pl_concat(dir, "/DEBIAN/", name), *text = NULL;
	char *pred = pl_str_dup(p->lm.m.replaces);
	int len = -1, fd, err;

	/* the layer and its predecessor are [A-Za-z0-9._-]: nothing to quote */
	if (pred)
		len = asprintf(&text, fmt, p->layer, p->pkg, pred, *pred ? " --retire " : "",
			       PL_PKG_LAYERS);
	free(pred);
	if (!path || len < 0) {
		free(path);
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	err = fd < 0 ? -errno : 0;
	if (!err && fchmod(fd, 0755) < 0)
		err = -errno;
	if (fd >= 0)
		err = pl_finish_file(fd, err ? err : pl_write_all(fd, text, (size_t)len));
	if (err)
		pl_err("%s: %s", path, strerror(-err));
	free(path);
	free(text);
	return err ? -1 : 0;
}

/* Gzip of TEXT at PATH, as "gzip -9n" (no name, no time): reproducible. */
static int pl_write_gzip(const char *path, const char *text)
{
	gzFile gz;
	int fd = pl_create(path), err = 0;

	if (fd < 0) {
		pl_err("%s: %s", path, strerror(-fd));
		return -1;
	}
	gz = gzdopen(fd, "wb9");
	if (!gz) {
		close(fd);
		pl_err("%s: %s", path, strerror(ENOMEM));
		return -1;
	}
	if (gzputs(gz, text) < 0)
		err = -EIO;
	if (gzclose(gz) != Z_OK && !err)
		err = -EIO;
	if (err)
		pl_err("%s: %s", path, strerror(-err));
	return err ? -1 : 0;
}

/*
 * TEXT wrapped at 72 columns, each line after FIRST starting with INDENT
 * and ending with a newline; malloc'ed, NULL without memory. Words
 * longer than a line stay whole.
 */
static char *pl_wrap(const char *first, const char *indent, const char *text)
{
	size_t len, col;
	char *out = NULL;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fputs(first, f);
	col = strlen(first);
	for (const char *w = text; *w; ) {
		size_t n = strcspn(w, " ");

		/* a word goes on this line if it fits, or if the line has none yet */
		if (col > strlen(indent) && col + 1 + n > 72) {
			fprintf(f, "\n%s", indent);
			col = strlen(indent);
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(w, 1, n, f);
		col += n;
		w += n;
		while (*w == ' ')
			w++;
	}
	fputc('\n', f);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The maintainer scripts and DEBIAN/control; KIB is the installed size. */
static int pl_package_control(struct pl_package *p, const char *root, uint64_t kib,
			      const char *prov)
{
	char *path = NULL, *text = NULL, *fixes = *prov ? pl_wrap(" Fixes:", " ", prov) : strdup("");
	int len = -1, err = -1;

	/* Depends on patchlayer only: never on, against or before the library's package */
	if (fixes)
		len = asprintf(&text,
		       "Package: %s\n"
		       "Version: %s\n"
		       "Architecture: all\n"
		       "Maintainer: %s\n"
		       "Installed-Size: %llu\n"
		       "Depends: patchlayer\n"
		       "Section: admin\n"
		       "Priority: optional\n"
		       "Description: patchlayer security layer %s\n"
		       " The signed patchlayer layer %s, version %.*s.\n"
		       "%s"
		       " Installing this package hands the layer to the patchlayer daemon,\n"
		       " which verifies it and activates it as its policy allows; removing\n"
		       " the package drops and removes the layer. The library's own package\n"
		       " update supersedes the layer when it is installed.\n",
		       p->pkg, p->version, p->maintainer, (unsigned long long)kib, p->layer,
		       p->layer, (int)p->lm.m.version.len, p->lm.m.version.s, fixes);
	free(fixes);
	path = pl_concat(root, "/DEBIAN/control", NULL);
	if (len < 0 || !path) {
		pl_err("%s", strerror(ENOMEM));
		goto out;
	}
	if (pl_write_new_file(path, text, (size_t)len) ||
	    pl_write_script(root, "postinst", pl_postinst, p) ||
	    pl_write_script(root, "prerm", pl_prerm, p))
		goto out;
	err = 0;
out:
	free(path);
	free(text);
	return err;
}

static const char pl_copyright[] =
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
	"Comment: A signed patchlayer layer. Its replacement libraries are those\n"
	" of the Debian packages named in the layer's manifest (under\n"
	" /usr/share/patchlayer/layers/), under their licences, as stated in\n"
	" /usr/share/doc/<package>/copyright of those packages.\n"
	"\n"
	"Files: *\n"
	"Copyright: %d the authors of the packages named in the manifest\n"
	"License: other\n"
	" See /usr/share/doc/<package>/copyright of the packages named in the\n"
	" layer's manifest.\n";

/*
 * Lintian reads the layer's libraries as if they were the package's own
 * code; they are data here.
 */
static const char pl_overrides[] =
	"# The layer's replacement libraries are data for the patchlayer daemon\n"
	"# and kernel module, which serve them over the library's own path:\n"
	"# nothing loads or links them from here. They are for the architecture\n"
	"# of the package they fix (on any other base the kernel refuses them).\n"
	"%1$s: arch-dependent-file-in-usr-share [usr/share/patchlayer/layers/*]\n"
	"%1$s: arch-independent-package-contains-binary-or-object [usr/share/patchlayer/layers/*]\n"
	"%1$s: missing-dependency-on-libc needed by usr/share/patchlayer/layers/*\n"
	"# It is the library's own packaged build, which it replaces for a while.\n"
	"%1$s: embedded-library * [usr/share/patchlayer/layers/*]\n";

/* /usr/share/doc/PKG (copyright, changelog) and the lintian overrides. */
static int pl_package_docs(struct pl_package *p, const char *root, const char *prov)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	char date[64], *doc = NULL, *path = NULL, *text = NULL;
	bool native = !strchr(p->version, '-');
	struct tm tm;
	int len, err = -1;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	doc = pl_concat(root, "/usr/share/doc/", p->pkg);
	if (!doc)
		goto nomem;
	if (pl_mkdirs(doc, strlen(root)) || (mkdir(doc, 0755) && errno != EEXIST) ||
	    chmod(doc, 0755)) {
		pl_err("%s: %s", doc, strerror(errno));
		goto out;
	}
	path = pl_concat(doc, "/copyright", NULL);
	len = asprintf(&text, pl_copyright, tm.tm_year + 1900);
	if (!path || len < 0)
		goto nomem;
	if (pl_write_new_file(path, text, (size_t)len))
		goto out;
	free(path);
	free(text);
	text = NULL;
	path = pl_concat(doc, native ? "/changelog.gz" : "/changelog.Debian.gz", NULL);
	{
		char *fixes = *prov ? pl_wrap("  * Fixes:", "    ", prov) : strdup("");

		len = fixes ? asprintf(&text, "%s (%s) stable; urgency=high\n\n"
				       "  * The patchlayer layer %s, version %.*s.\n%s\n"
				       " -- %s  %s\n",
				       p->pkg, p->version, p->layer, (int)p->lm.m.version.len,
				       p->lm.m.version.s, fixes, p->maintainer, date) : -1;
		free(fixes);
	}
	if (!path || len < 0)
		goto nomem;
	if (pl_write_gzip(path, text))
		goto out;
	free(path);
	free(text);
	text = NULL;
	path = pl_concat(root, "/usr/share/lintian/overrides/", p->pkg);
	len = asprintf(&text, pl_overrides, p->pkg);
	if (!path || len < 0)
		goto nomem;
	if (pl_mkdirs(path, strlen(root)) || pl_write_new_file(path, text, (size_t)len))
		goto out;
	err = 0;
	goto out;
nomem:
	pl_err("%s", strerror(ENOMEM));
out:
	free(doc);
	free(path);
	free(text);
	return err;
}

/* md5sums of every file under ROOT/usr (dpkg --verify reads it). */
static FILE *pl_md5_out;
static size_t pl_md5_root_len;
static uint64_t pl_md5_bytes;

static int pl_md5_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	char buf[65536];
	ssize_t n;
	int fd;

	(void)ftw;
	pl_md5_bytes += (uint64_t)(st->st_size + 1023) / 1024;
	if (flag != FTW_F)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ctx = EVP_MD_CTX_new();
	if (fd < 0 || !ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
		EVP_MD_CTX_free(ctx);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	close(fd);
	if (n < 0 || !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < mdlen; i++)
		fprintf(pl_md5_out, "%02x", md[i]);
	fprintf(pl_md5_out, "  %s\n", path + pl_md5_root_len + 1);
	return 0;
}

static int pl_md5sums(const char *root, uint64_t *kib)
{
	char *usr = pl_concat(root, "/usr", NULL), *path = pl_concat(root, "/DEBIAN/md5sums", NULL);
	int err = -1;

	if (!usr || !path)
		goto out;
	pl_md5_out = fopen(path, "wxe");
	if (!pl_md5_out)
		goto out;
	pl_md5_root_len = strlen(root);
	pl_md5_bytes = 0;
	err = nftw(usr, pl_md5_entry, 16, FTW_PHYS);
	if (fclose(pl_md5_out) && !err)
		err = -1;
	if (!err)
		err = chmod(path, 0644);
	*kib = pl_md5_bytes;
out:
	if (err)
		pl_err("%s: %s", path ? path : root, strerror(errno ? errno : ENOMEM));
	free(usr);
	free(path);
	return err ? -1 : 0;
}

static int pl_package_args(int argc, char **argv, struct pl_package *p)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "deb-version", required_argument, NULL, 'v' },
		{ "maintainer", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "+o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			p->outdir = optarg;
			break;
		case 'n':
			p->series = optarg;
			break;
		case 'v':
			p->version = optarg;
			break;
		case 'm':
			p->maintainer = optarg;
			break;
		case 'h':
			pl_package_usage(stdout);
			return PL_EXIT_OK;
		default:
			pl_package_usage(stderr);
			return PL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		pl_package_usage(stderr);
		return PL_EXIT_USAGE;
	}
	p->layerdir = argv[optind - 1];
	return -1;
}

int cmd_package(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_package p = { .outdir = ".", .maintainer = NULL };
	char *deb = NULL, *tmpdeb = NULL, *layerdst = NULL, *root = NULL;
	const char *version_arg;
	char *maint = NULL;
	uint64_t kib = 0;
	int rc;

	rc = pl_package_args(argc, argv, &p);
	if (rc >= 0)
		return rc;
	version_arg = p.version;
	p.version = NULL;
	rc = PL_EXIT_FAIL;
	/* as dch: the packager's name and address, which lintian checks */
	if (!p.maintainer) {
		const char *email = getenv("DEBEMAIL"), *full = getenv("DEBFULLNAME");

		if (!email || !*email || !full || !*full) {
			pl_err("package: --maintainer 'NAME <EMAIL>' (or DEBFULLNAME and DEBEMAIL) is needed");
			return PL_EXIT_USAGE;
		}
		if (asprintf(&maint, "%s <%s>", full, email) < 0) {
			pl_err("%s", strerror(ENOMEM));
			return PL_EXIT_FAIL;
		}
		p.maintainer = maint;
	}
	if (strpbrk(p.maintainer, "\n\r") || !strchr(p.maintainer, '<')) {
		free(maint);
		pl_err("package: --maintainer '%s': 'NAME <EMAIL>' on one line", p.maintainer);
		return PL_EXIT_USAGE;
	}
	if (pl_load_layer(p.layerdir, &p.lm))
		goto out;
	p.layer = pl_str_dup(p.lm.m.name);
	p.version = version_arg ? strdup(version_arg) : pl_str_dup(p.lm.m.version);
	if (!p.layer || !p.version ||
	    asprintf(&p.pkg, PL_PKG_PREFIX "%s", p.series ? p.series : p.layer) < 0) {
		p.pkg = NULL;
		pl_err("%s", strerror(ENOMEM));
		goto out;
	}
	if (!pl_deb_name_valid(p.pkg, strlen(p.pkg))) {
		pl_err("package: '%s' is not a Debian package name (lower-case letters, digits, '+', '-', '.'): choose one with --name",
		       p.pkg);
		rc = PL_EXIT_USAGE;
		goto out;
	}
	if (!pl_deb_version_valid(p.version, strlen(p.version))) {
		pl_err("package: '%s' is not a Debian version: give one with --deb-version", p.version);
		rc = PL_EXIT_USAGE;
		goto out;
	}
	if (asprintf(&p.tmp, "%s/.%s.tmp-XXXXXX", p.outdir, p.pkg) < 0 || !mkdtemp(p.tmp)) {
		pl_err("%s: %s", p.outdir, strerror(errno));
		free(p.tmp);
		p.tmp = NULL;
		goto out;
	}
	root = pl_concat(p.tmp, "/root", NULL);
	layerdst = root ? pl_concat(root, PL_PKG_LAYERS "/", p.layer) : NULL;
	if (!layerdst || mkdir(root, 0755) || chmod(root, 0755)) {
		pl_err("%s: %s", root ? root : p.tmp, strerror(errno ? errno : ENOMEM));
		goto out;
	}
	if (pl_mkdirs(layerdst, strlen(root)) || mkdir(layerdst, 0755) ||
	    pl_copy_layer(p.layerdir, layerdst, &p.lm))
		goto out;
	{
		char *debian = pl_concat(root, "/DEBIAN", NULL);
		int bad = !debian || mkdir(debian, 0755) || chmod(debian, 0755);
		struct pl_provenance *pv = calloc(1, sizeof(*pv));
		char prov[4096] = "";

		free(debian);
		if (pv) {
			pl_provenance_of(&p.lm.m, pv);
			pl_provenance_line(pv, prov, sizeof(prov));
			free(pv);
		}
		if (bad || pl_package_docs(&p, root, prov) || pl_md5sums(root, &kib) ||
		    pl_package_control(&p, root, kib, prov))
			goto out;
	}
	if (asprintf(&deb, "%s/%s_%s_all.deb", p.outdir, p.pkg,
		     /* the file name leaves out the epoch, as dpkg-deb's does */
		     strchr(p.version, ':') ? strchr(p.version, ':') + 1 : p.version) < 0 ||
	    asprintf(&tmpdeb, "%s/deb", p.tmp) < 0) {
		deb = tmpdeb = NULL;
		goto out;
	}
	{
		char *const cmd[] = { "dpkg-deb", "--root-owner-group", "-Zxz", "--build",
				      root, tmpdeb, NULL };

		if (pl_run(cmd, true))
			goto out;
	}
	if (rename(tmpdeb, deb) < 0) {
		pl_err("%s: %s", deb, strerror(errno));
		goto out;
	}
	if (o->json) {
		struct json j;

		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_string(&j, "deb", deb);
		json_string(&j, "package", p.pkg);
		json_string(&j, "version", p.version);
		json_string(&j, "layer", p.layer);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("%s\n", deb);
	}
	rc = PL_EXIT_OK;
out:
	if (p.tmp)
		nftw(p.tmp, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pl_layer_manifest_free(&p.lm);
	free(p.tmp);
	free(p.layer);
	free(p.version);
	free(p.pkg);
	free(root);
	free(layerdst);
	free(deb);
	free(tmpdeb);
	free(maint);
	return rc;
}

/* --- deliver, undeliver --- */

struct pl_deliver_conf {
	struct pl_config cfg;
	const char *path;
};

int pl_read_config(const char *path, struct pl_config *cfg)
{
	struct pl_config_error e;
	char *buf = NULL;
	size_t len = 0;
	int err;

	pl_config_defaults(cfg);
	err = pl_read_file(path, PL_CONFIG_MAX_SIZE, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err) {
		pl_err("%s: %s", path, strerror(-err));
		return -1;
	}
	err = pl_config_parse(cfg, buf, len, &e);
	free(buf);
	if (err) {
		pl_err("%s:%u: %s", path, e.line, e.reason);
		return -1;
	}
	return 0;
}

/* The configuration's inbox and store; 0 or -1 (said). */
static int pl_deliver_config(struct pl_deliver_conf *c)
{
	return pl_read_config(c->path, &c->cfg);
}

static bool pl_exists(const char *dir, const char *name, const char *suffix)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix) >= (int)sizeof(path))
		return false;
	return lstat(path, &st) == 0;
}

/* STORE/NAME.state's "state=" value into BUF ("" when none). */
static void pl_stored_state(const char *store, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX], line[256];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s.state", store, name);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "state=", 6)) {
			size_t n = strcspn(line + 6, "\n");

			if (n < size) {
				memcpy(buf, line + 6, n);
				buf[n] = '\0';
			}
			break;
		}
	}
	fclose(f);
}

/*
 * Waits up to SECONDS for the daemon to take NAME out of the inbox and to
 * decide on it; STATE gets its state in the store, "rejected", or "" when
 * the daemon did not get to it in time (it takes it when it runs).
 */
static void pl_deliver_wait(const struct pl_config *cfg, const char *name, unsigned int seconds,
			    char *state, size_t size)
{
	struct timespec start, now;
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (fd >= 0) {
		/* the inbox loses the entry, the store gets the layer and its state file */
		inotify_add_watch(fd, cfg->inbox, IN_MOVED_FROM | IN_DELETE | IN_MOVED_TO);
		inotify_add_watch(fd, cfg->store, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char ev[4096];
		long left;

		state[0] = '\0';
		if (!pl_exists(cfg->inbox, name, "")) {
			char rejected[PATH_MAX];

			snprintf(rejected, sizeof(rejected), "%s/rejected", cfg->inbox);
			pl_stored_state(cfg->store, name, state, size);
			/* "new": stored, not decided yet */
			if (*state && strcmp(state, "new"))
				break;
			if (!*state && pl_exists(rejected, name, ".reason") &&
			    !pl_exists(cfg->store, name, "")) {
				snprintf(state, size, "rejected");
				break;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long)seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
					       (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			if (!strcmp(state, "new"))
				break;
			state[0] = '\0';
			break;
		}
		/* an event, or a look every second without inotify's help */
		if (poll(&pfd, fd >= 0, left < 1000 ? (int)left : 1000) > 0)
			while (read(fd, ev, sizeof(ev)) > 0)
				;
	}
	if (fd >= 0)
		close(fd);
}

static void pl_deliver_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s layer deliver [--config FILE] [--wait SECONDS] [--retire NAME] LAYERDIR\n"
		"       %s layer undeliver [--config FILE] NAME\n"
		"\n"
		"deliver copies the layer into the daemon's inbox whole (under a dot name,\n"
		"then renamed into place). With --wait it waits that long for the daemon\n"
		"to take it; --retire removes the layer NAME once the delivered one is\n"
		"active. undeliver removes a delivered layer from the inbox and the store.\n",
		pl_prog, pl_prog);
}

static int pl_deliver_opts(int argc, char **argv, struct pl_deliver_conf *c,
			   unsigned int *wait, const char **retire)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ "retire", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("PATCHLAYER_CONF");
	char *end;
	long v;
	int ch;

	c->path = env && *env ? env : PL_CONF_DEFAULT_PATH;
	optind = 0;
	while ((ch = getopt_long(argc + 1, argv - 1, "+c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->path = optarg;
			break;
		case 'w':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (!wait || errno || *end || end == optarg || v < 0 || v > PL_DELIVER_WAIT_MAX) {
				pl_err("--wait '%s': seconds, 0 to %d", optarg, PL_DELIVER_WAIT_MAX);
				return -PL_EXIT_USAGE;
			}
			*wait = (unsigned int)v;
			break;
		case 'r':
			if (!retire || !pl_name_valid(optarg, strlen(optarg))) {
				pl_err("--retire '%s': a layer name is " PL_NAME_RULE, optarg);
				return -PL_EXIT_USAGE;
			}
			*retire = optarg;
			break;
		case 'h':
			pl_deliver_usage(stdout);
			return -PL_EXIT_OK - 100;
		default:
			pl_deliver_usage(stderr);
			return -PL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		pl_deliver_usage(stderr);
		return -PL_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		pl_err("needs root (the inbox and the store are root's): %s", strerror(EPERM));
		return -PL_EXIT_FAIL;
	}
	if (pl_deliver_config(c))
		return -PL_EXIT_FAIL;
	return optind - 1;
}

/* Removes layer NAME from the store with "patchlayer remove". */
static int pl_remove_stored(const struct pl_deliver_conf *c, const char *name)
{
	char *argv[] = { "--config", (char *)c->path, (char *)name, NULL };
	struct pl_opts o = { 0 };

	return cmd_remove(3, argv, &o);
}

int cmd_deliver(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_deliver_conf c;
	struct pl_layer_manifest lm = { 0 };
	unsigned int wait = 0;
	const char *retire = NULL, *dir;
	char *tmp = NULL, *dst = NULL, *name = NULL, state[64] = "";
	int first, rc = PL_EXIT_FAIL;

	(void)o;
	first = pl_deliver_opts(argc, argv, &c, &wait, &retire);
	if (first < 0)
		return first == -PL_EXIT_OK - 100 ? PL_EXIT_OK : -first;
	dir = argv[first];
	if (pl_load_layer(dir, &lm))
		goto out;
	name = pl_str_dup(lm.m.name);
	if (!name || asprintf(&tmp, "%s/.%s.deliver-XXXXXX", c.cfg.inbox, name) < 0 ||
	    asprintf(&dst, "%s/%s", c.cfg.inbox, name) < 0) {
		pl_err("%s", strerror(ENOMEM));
		goto out;
	}
	/* delivered before (a reinstall, a second configure): nothing to do */
	if (pl_exists(c.cfg.store, name, "")) {
		char *stored = NULL, path[PATH_MAX];
		size_t len = 0;

		snprintf(path, sizeof(path), "%s/%s/manifest", c.cfg.store, name);
		if (pl_read_file(path, PL_MANIFEST_MAX_SIZE, &stored, &len) == 0 &&
		    len == lm.len && !memcmp(stored, lm.buf, len)) {
			free(stored);
			printf("%s: already in the store %s\n", name, c.cfg.store);
			rc = PL_EXIT_OK;
			goto retire;
		}
		free(stored);
		/* the daemon would reject it: a new version of a layer needs a new name */
		pl_err("%s: another layer of that name is in the store %s: a new version needs a new name (build --replaces)",
		       name, c.cfg.store);
		goto out;
	}
	if (pl_exists(c.cfg.inbox, name, "")) {
		printf("%s: already in the inbox %s\n", name, c.cfg.inbox);
		rc = PL_EXIT_OK;
		goto wait;
	}
	if (!mkdtemp(tmp)) {
		pl_err("%s: %s", c.cfg.inbox, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (pl_copy_layer(dir, tmp, &lm))
		goto out;
	{
		int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	/* whole or not at all: the daemon takes a renamed entry at once */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		pl_err("%s: %s", dst, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	printf("%s: delivered to %s\n", name, dst);
	rc = PL_EXIT_OK;
wait:
	/* no daemon (a chroot, an image being built): it takes the layer when it starts */
	if (!wait || !pl_daemon_running()) {
		if (wait)
			printf("%s: the daemon is not running; it takes the layer when it starts\n",
			       name);
		goto out;
	}
	pl_deliver_wait(&c.cfg, name, wait, state, sizeof(state));
	if (!*state)
		printf("%s: not taken by the daemon within %us; it will be when the daemon runs\n",
		       name, wait);
	else
		printf("%s: %s\n", name, state);
	if (!strcmp(state, "rejected")) {
		char reason[PATH_MAX];

		snprintf(reason, sizeof(reason), "%s/rejected/%s.reason", c.cfg.inbox, name);
		pl_err("%s was rejected: see %s", name, reason);
	}
retire:
	if (!retire || !pl_exists(c.cfg.store, retire, ""))
		goto out;
	pl_stored_state(c.cfg.store, name, state, sizeof(state));
	/* never leave the machine without either: the predecessor goes once the successor serves */
	if (strcmp(state, "active")) {
		printf("%s: kept, as %s is %s; remove it with 'patchlayer remove %s' once %s is active\n",
		       retire, name, *state ? state : "not stored yet", retire, name);
		goto out;
	}
	if (pl_remove_stored(&c, retire) == PL_EXIT_OK)
		printf("%s: removed, replaced by %s\n", retire, name);
	else
		pl_err("%s: could not be removed; %s is active", retire, name);
out:
	if (tmp)
		nftw(tmp, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pl_layer_manifest_free(&lm);
	free(tmp);
	free(dst);
	free(name);
	return rc;
}

int cmd_undeliver(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_deliver_conf c;
	const char *name;
	int first, rc = PL_EXIT_OK;

	(void)o;
	first = pl_deliver_opts(argc, argv, &c, NULL, NULL);
	if (first < 0)
		return first == -PL_EXIT_OK - 100 ? PL_EXIT_OK : -first;
	name = argv[first];
	if (!pl_name_valid(name, strlen(name))) {
		pl_err("undeliver: '%s': a layer name is " PL_NAME_RULE, name);
		return PL_EXIT_USAGE;
	}
	/* not taken yet: the daemon must not find it later */
	if (pl_exists(c.cfg.inbox, name, "")) {
		char path[PATH_MAX], aside[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", c.cfg.inbox, name);
		snprintf(aside, sizeof(aside), "%s/.%s.undeliver-%ld", c.cfg.inbox, name,
			 (long)getpid());
		if (rename(path, aside) == 0)
			nftw(aside, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (pl_exists(c.cfg.store, name, "")) {
		rc = pl_remove_stored(&c, name);
		if (rc == PL_EXIT_OK)
			printf("%s: removed from the store\n", name);
	}
	return rc;
}

/* --- build --from-deb --- */

#define PL_CAPTURE_MAX	(4 * 1024 * 1024)	/* dpkg-query -L of a big package */

/* Runs ARGV and returns its stdout (NUL-terminated, malloc'ed) in OUT. 0 or -1 (said). */
int pl_run_capture(char *const argv[], char **out, bool quiet)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int pipefd[2], status, err;
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
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		free(buf);
		pl_err("%s: %s", argv[0], strerror(err));
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
