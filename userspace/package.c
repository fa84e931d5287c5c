// SPDX-License-Identifier: GPL-2.0
/*
 * Layers as Debian packages.
 *
 * patchlayer package LAYERDIR: a patchlayer-layer-<name> package carrying
 * the signed layer unchanged under /usr/share/patchlayer/layers/<layer>/,
 * whose maintainer scripts hand it to the daemon (deliver) and remove it.
 * Only what the manifest names travels (pl_copy_layer()).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "layer.h"
#include "patchlayer.h"
#include "run.h"

#define PL_PKG_PREFIX		"patchlayer-layer-"
#define PL_PKG_LAYERS		"/usr/share/patchlayer/layers"

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
