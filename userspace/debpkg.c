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
#include "layer.h"
#include "patchlayer.h"

extern char **environ;

#define PL_PKG_PREFIX		"patchlayer-layer-"
#define PL_PKG_LAYERS		"/usr/share/patchlayer/layers"
#define PL_CONF_PATH		"/etc/patchlayer/patchlayer.conf"
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
static int pl_run(char *const argv[], bool quiet)
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
		"Usage: %s package [-o DIR] [--name SERIES] [--deb-version VERSION]\n"
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

/* Appends "advisories and packages" words for the descriptions. */
static void pl_provenance_text(const struct pl_manifest *m, char *buf, size_t size)
{
	struct pl_manifest_package pk;
	struct pl_str id;
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->n_advisories && !pl_manifest_advisory(m, i, &id); i++)
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%.*s", i ? " " : "",
				      (int)id.len, id.s);
	for (size_t i = 0; i < m->n_packages && !pl_manifest_package(m, i, &pk); i++)
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%.*s %.*s",
				      n ? ", " : "", (int)pk.name.len, pk.name.s,
				      (int)pk.fixed.len, pk.fixed.s);
	if (n >= size && size > 4)
		strcpy(buf + size - 4, "...");
}

/* The maintainer scripts and DEBIAN/control; KIB is the installed size. */
static int pl_package_control(struct pl_package *p, const char *root, uint64_t kib,
			      const char *prov)
{
	char *path = NULL, *text = NULL;
	int len, err = -1;

	/* Depends on patchlayer only: never on, against or before the library's package */
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
		       " The signed patchlayer layer %s, version %.*s%s%s%s.\n"
		       " Installing this package hands the layer to the patchlayer daemon,\n"
		       " which verifies it and activates it as its policy allows; removing\n"
		       " the package drops and removes the layer. The library's own package\n"
		       " update supersedes the layer when it is installed.\n",
		       p->pkg, p->version, p->maintainer, (unsigned long long)kib, p->layer,
		       p->layer, (int)p->lm.m.version.len, p->lm.m.version.s,
		       *prov ? " (" : "", prov, *prov ? ")" : "");
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
	"# Generated for a fleet's own repository, not uploaded to Debian.\n"
	"%1$s: initial-upload-closes-no-bugs *\n";

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
	len = asprintf(&text, "%s (%s) stable; urgency=high\n\n"
		       "  * The patchlayer layer %s, version %.*s%s%s.\n\n"
		       " -- %s  %s\n",
		       p->pkg, p->version, p->layer, (int)p->lm.m.version.len,
		       p->lm.m.version.s, *prov ? ": " : "", prov, p->maintainer, date);
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
		char prov[1024];

		free(debian);
		pl_provenance_text(&p.lm.m, prov, sizeof(prov));
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

/* The configuration's inbox and store; 0 or -1 (said). */
static int pl_deliver_config(struct pl_deliver_conf *c)
{
	struct pl_config_error e;
	char *buf = NULL;
	size_t len = 0;
	int err;

	pl_config_defaults(&c->cfg);
	err = pl_read_file(c->path, PL_CONFIG_MAX_SIZE, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err) {
		pl_err("%s: %s", c->path, strerror(-err));
		return -1;
	}
	err = pl_config_parse(&c->cfg, buf, len, &e);
	free(buf);
	if (err) {
		pl_err("%s:%u: %s", c->path, e.line, e.reason);
		return -1;
	}
	return 0;
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
		"Usage: %s deliver [--config FILE] [--wait SECONDS] [--retire NAME] LAYERDIR\n"
		"       %s undeliver [--config FILE] NAME\n"
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

	c->path = env && *env ? env : PL_CONF_PATH;
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
