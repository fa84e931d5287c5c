// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer build: a signed layer directory from replacement files.
 *
 * Every argument is checked before anything is written. The layer is then
 * written into a temporary sibling of the output directory and renamed
 * into place last, so a failure never leaves a half-built layer where a
 * loader could find it. The signature is made as the kernel's
 * scripts/sign-file.c makes module signatures, because the module checks
 * it with the same verify_pkcs7_signature().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "debpkg.h"
#include "layer.h"
#include "patchlayer.h"


struct pl_build_file {
	const char *arg;	/* FILE=TARGET as given */
	char *src;		/* FILE */
	const char *target;	/* inside arg */
	u8 sha256[PL_SHA256_SIZE];
	uint64_t size;
	u8 base[PL_SHA256_SIZE];
};

struct pl_build {
	const char *name, *version, *replaces, *key, *cert, *base_root;
	char *out;		/* -o without trailing slashes */
	struct pl_build_file *files;
	size_t n_files;
	EVP_PKEY *pkey;
	X509 *x509;
	char *tmp;		/* the directory being written; removed on failure */
	char *manifest;		/* tmp/manifest */
	char *sig;		/* tmp/manifest.p7s */
	char *signer;		/* "CN=..., serial ..." */
	struct pl_from_debs debs;	/* --from-deb, --base-deb: files and provenance */
	char **advisories;	/* --advisory, sorted */
	size_t n_advisories;
};

static void pl_build_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s layer build --name NAME --version VERSION [--replaces NAME]\n"
		"           --key KEY.pem --cert CERT.pem [--base-root DIR] -o DIR\n"
		"           [--advisory ID]... [FILE=TARGET...]\n"
		"       %s layer build --name NAME [--version VERSION] [--replaces NAME]\n"
		"           --key KEY.pem --cert CERT.pem -o DIR [--advisory ID]...\n"
		"           --from-deb FIXED.deb... (--base-deb BASE.deb... | --base-root DIR)\n"
		"\n"
		"Makes the signed layer DIR. FILE replaces the library at the absolute\n"
		"path TARGET; its base hash is taken from TARGET, or from DIR/TARGET\n"
		"with --base-root. No FILE=TARGET makes a layer without files.\n"
		"With --from-deb the layer replaces every library file of the fixed\n"
		"packages that differs from the base packages (--base-deb) or from the\n"
		"packages installed in DIR (--base-root, / for this machine); a fixed\n"
		"package that adds, removes or renames a library file is refused (exit 4).\n",
		pl_prog, pl_prog);
}

/* Why a target pl_target_valid() refused is wrong, for the message. */
static const char *pl_target_problem(const char *t)
{
	size_t len = strlen(t);

	if (len > PL_TARGET_MAX)
		return "longer than 1024 bytes";
	if (t[0] != '/')
		return "not an absolute path";
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '\\')
			return "has a space, a backslash or a non-printable character";
	if (strstr(t, "//") || strstr(t, "/./") || strstr(t, "/../") || t[len - 1] == '/' ||
	    (len >= 2 && !strcmp(t + len - 2, "/.")) || (len >= 3 && !strcmp(t + len - 3, "/..")))
		return "not canonical (empty, '.' or '..' components, or a trailing '/')";
	return "not a file below a library directory (/lib, /lib32, /lib64, /libx32, "
	       "/usr/lib, /usr/lib32, /usr/lib64, /usr/libx32, /usr/local/lib)";
}

/* The parser's reason if VERSION cannot be a manifest's version, else NULL. */
static const char *pl_version_problem(const char *version)
{
	struct pl_manifest_error perr;
	struct pl_manifest m;
	char *hdr;
	int len;

	/* a newline would smuggle a line into the manifest */
	for (const char *p = version; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "version must not contain control characters";
	len = asprintf(&hdr, "format: %s\nname: x\nversion: %s\n", PL_MANIFEST_FORMAT, version);
	if (len < 0)
		return "out of memory";
	if (!pl_manifest_parse(hdr, (size_t)len, &m, NULL, 0, &perr))
		perr.reason = NULL;
	free(hdr);
	return perr.reason;
}

static int pl_target_cmp(const void *a, const void *b)
{
	const struct pl_build_file *fa = a, *fb = b;

	/* byte order, as the parser demands */
	return strcmp(fa->target, fb->target);
}

static int pl_check_names(const struct pl_build *b)
{
	const char *why;

	if (!pl_name_valid(b->name, strlen(b->name))) {
		pl_err("build: --name '%s': a layer name is " PL_NAME_RULE,
		       b->name);
		return -1;
	}
	if (b->replaces && !pl_name_valid(b->replaces, strlen(b->replaces))) {
		pl_err("build: --replaces '%s': a layer name is " PL_NAME_RULE,
		       b->replaces);
		return -1;
	}
	if (b->replaces && !strcmp(b->replaces, b->name)) {
		pl_err("build: --replaces '%s': a layer cannot replace itself", b->replaces);
		return -1;
	}
	why = pl_version_problem(b->version);
	if (why) {
		pl_err("build: --version: %s", why);
		return -1;
	}
	return 0;
}

/* Splits every FILE=TARGET, checks the targets and sorts them. */
static int pl_check_files(struct pl_build *b)
{
	for (size_t i = 0; i < b->n_files; i++) {
		struct pl_build_file *f = &b->files[i];
		const char *eq = strchr(f->arg, '=');

		if (!eq || eq == f->arg || !eq[1]) {
			pl_err("build: '%s': expected FILE=TARGET", f->arg);
			return -1;
		}
		f->target = eq + 1;
		if (!pl_target_valid(f->target, strlen(f->target))) {
			pl_err("build: '%s': target '%s' is %s", f->arg, f->target,
			       pl_target_problem(f->target));
			return -1;
		}
		f->src = strndup(f->arg, (size_t)(eq - f->arg));
		if (!f->src) {
			pl_err("%s", strerror(ENOMEM));
			return -1;
		}
	}
	if (b->n_files > PL_MANIFEST_MAX_FILES) {
		pl_err("build: %zu files; a layer has at most %d", b->n_files,
		       PL_MANIFEST_MAX_FILES);
		return -1;
	}
	if (b->n_files)
		qsort(b->files, b->n_files, sizeof(*b->files), pl_target_cmp);
	for (size_t i = 1; i < b->n_files; i++) {
		if (!strcmp(b->files[i - 1].target, b->files[i].target)) {
			pl_err("build: target '%s' given twice ('%s' and '%s')", b->files[i].target,
			       b->files[i - 1].arg, b->files[i].arg);
			return -1;
		}
	}
	return 0;
}

/* An existing output directory is only taken over when empty. */
static int pl_check_out(const char *out)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (lstat(out, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		pl_err_sys(errno, "%s", out);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pl_err("%s: %s (and is %s)", out, strerror(EEXIST), pl_file_type(st.st_mode));
		return -1;
	}
	dir = opendir(out);
	if (!dir) {
		pl_err_sys(errno, "%s", out);
		return -1;
	}
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			err = -ENOTEMPTY;
			break;
		}
	}
	closedir(dir);
	if (err)
		pl_err("%s: %s (refusing to write a layer over it)", out, strerror(-err));
	return err ? -1 : 0;
}

/* Set when OpenSSL asks for a passphrase: we never prompt. */
static int pl_no_passphrase(char *buf, int size, int rwflag, void *encrypted)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)encrypted = true;
	return -1;
}

static int pl_load_key(struct pl_build *b)
{
	bool encrypted = false;
	size_t len;
	char *buf;
	BIO *bio;
	int err, type;

	err = pl_read_file(b->key, PL_PEM_MAX, &buf, &len);
	if (err) {
		pl_err_sys(-err, "%s", b->key);
		return -1;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	b->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, pl_no_passphrase, &encrypted) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);	/* no copy of the key outlives its use */
	free(buf);
	if (!b->pkey) {
		if (encrypted)
			pl_err("%s: the key is encrypted; give an unencrypted PEM key", b->key);
		else
			pl_err("%s: not a PEM private key (%s)", b->key, pl_ssl_reason());
		return -1;
	}
	type = EVP_PKEY_get_base_id(b->pkey);
	if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
		pl_err("%s: %s key; the kernel verifies RSA and EC signatures only", b->key,
		       OBJ_nid2sn(type));
		return -1;
	}
	return 0;
}

static int pl_load_cert(struct pl_build *b)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	int err;

	if (!certs) {
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	err = pl_load_certs(b->cert, certs);
	if (err == -EINVAL)
		pl_err("%s: no X.509 certificate in it (PEM or DER)", b->cert);
	else if (err)
		pl_err_sys(-err, "%s", b->cert);
	if (!err) {
		b->x509 = sk_X509_shift(certs);
		if (X509_check_private_key(b->x509, b->pkey) != 1) {
			pl_err("%s: the key %s does not belong to this certificate", b->cert, b->key);
			err = -EINVAL;
		}
	}
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return err ? -1 : 0;
}

/* A replacement must be a non-empty regular file of at most 1 GiB. */
static int pl_check_source(const struct pl_build_file *f)
{
	struct stat st;
	int fd;

	fd = pl_open_regular(f->src, false, &st);
	if (fd == -EINVAL) {
		pl_err("%s: not a regular file (it is %s)", f->src, pl_file_type(st.st_mode));
		return -1;
	}
	if (fd < 0) {
		pl_err_sys(-fd, "%s", f->src);
		return -1;
	}
	close(fd);
	if (st.st_size == 0) {
		pl_err("%s: empty; a replacement library is never empty", f->src);
		return -1;
	}
	if ((uint64_t)st.st_size > PL_FILE_MAX_SIZE) {
		pl_err("%s: %s (a replacement is at most 1 GiB)", f->src, strerror(EFBIG));
		return -1;
	}
	return 0;
}

/* The hash of the file TARGET now is, where the kernel will look for it. */
static int pl_hash_base(const struct pl_build *b, struct pl_build_file *f)
{
	char *path, link[256];
	struct stat st;
	uint64_t size;
	ssize_t n;
	int err;

	path = pl_concat(b->base_root ? b->base_root : "", f->target, NULL);
	if (!path) {
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	/* the module does not follow a final symlink, so neither do we */
	err = pl_sha256_file(path, true, f->base, &size, &st);
	if (err == -EINVAL && S_ISLNK(st.st_mode)) {
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		pl_err("%s: the base of %s is a symlink (to '%s'); name the file itself as the target",
		       path, f->target, link);
	} else if (err == -EINVAL) {
		pl_err("%s: the base of %s is %s, not a regular file", path, f->target,
		       pl_file_type(st.st_mode));
	} else if (err) {
		pl_err("%s: %s (the base of %s)", path, strerror(-err), f->target);
	}
	free(path);
	return err ? -1 : 0;
}

static int pl_copy_file(struct pl_build *b, struct pl_build_file *f)
{
	bool reading;
	char *dst;
	int in, out, err;

	dst = pl_concat(b->tmp, "/files", f->target);
	if (!dst) {
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	err = pl_mkdirs(dst, strlen(b->tmp) + strlen("/files"));
	if (err)
		goto out;
	in = pl_open_regular(f->src, false, NULL);
	if (in < 0) {
		pl_err_sys(-in, "%s", f->src);
		err = -1;
		goto out;
	}
	out = pl_create(dst);
	if (out < 0) {
		pl_err_sys(-out, "%s", dst);
		close(in);
		err = -1;
		goto out;
	}
	err = pl_copy_hash(in, out, f->sha256, &f->size, &reading);
	close(in);
	err = pl_finish_file(out, err);
	if (err) {
		pl_err_sys(-err, "%s", reading ? f->src : dst);
	} else if (f->size == 0) {
		/* emptied since pl_check_source() */
		pl_err("%s: empty; a replacement library is never empty", f->src);
		err = -1;
	}
out:
	free(dst);
	return err ? -1 : 0;
}

/* The canonical manifest text (docs/layer-format.md); NULL without memory. */
static char *pl_manifest_text(const struct pl_build *b, size_t *len)
{
	char *text = NULL, sha[PL_SHA256_HEX_SIZE], base[PL_SHA256_HEX_SIZE];
	FILE *out = open_memstream(&text, len);

	if (!out)
		return NULL;
	fprintf(out, "format: %s\nname: %s\nversion: %s\n", PL_MANIFEST_FORMAT, b->name,
		b->version);
	if (b->replaces)
		fprintf(out, "replaces: %s\n", b->replaces);
	if (b->debs.source)
		fprintf(out, "source: %s %s\n", b->debs.source, b->debs.source_version);
	for (size_t i = 0; i < b->debs.n_pkgs; i++)
		fprintf(out, "package: %s base=%s fixed=%s\n", b->debs.pkgs[i].name,
			b->debs.pkgs[i].base, b->debs.pkgs[i].fixed);
	for (size_t i = 0; i < b->n_advisories; i++)
		fprintf(out, "%s%s%s", i ? " " : "advisory: ", b->advisories[i],
			i + 1 == b->n_advisories ? "\n" : "");
	for (size_t i = 0; i < b->n_files; i++) {
		const struct pl_build_file *f = &b->files[i];

		pl_sha256_hex(f->sha256, sha);
		pl_sha256_hex(f->base, base);
		fprintf(out, "file: %s sha256=%s size=%llu base=%s\n", f->target, sha,
			(unsigned long long)f->size, base);
	}
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * As scripts/sign-file.c: SHA-256, no signed attributes, no certificates
 * (the kernel finds the key by issuer and serial), detached, binary.
 */
static int pl_sign(const struct pl_build *b, const char *data, size_t len,
		   char **der, size_t *der_len)
{
	BIO *in = BIO_new_mem_buf(data, (int)len), *out = BIO_new(BIO_s_mem());
	CMS_ContentInfo *cms = NULL;
	char *mem;
	long n;
	int ok;

	ok = in && out;
	if (ok)
		cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY |
			       CMS_DETACHED | CMS_STREAM);
	ok = cms &&
	     CMS_add1_signer(cms, b->x509, b->pkey, EVP_sha256(), CMS_NOCERTS | CMS_BINARY |
			     CMS_NOSMIMECAP | CMS_NOATTR) &&
	     CMS_final(cms, in, NULL, CMS_NOCERTS | CMS_BINARY) == 1 &&
	     i2d_CMS_bio_stream(out, cms, NULL, 0) == 1;
	if (ok) {
		n = BIO_get_mem_data(out, &mem);
		*der = n > 0 ? malloc((size_t)n) : NULL;
		ok = *der != NULL;
		if (ok) {
			memcpy(*der, mem, (size_t)n);
			*der_len = (size_t)n;
		}
	}
	if (!ok)
		pl_err("%s: cannot sign with %s (%s)", b->key, b->cert, pl_ssl_reason());
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	return ok ? 0 : -1;
}

/* Reads back what was written and checks it as verify would. */
static int pl_self_check(struct pl_build *b)
{
	struct pl_layer_manifest lm;
	STACK_OF(X509) *certs = NULL;
	CMS_ContentInfo *cms = NULL;
	char *der = NULL, why[512];
	size_t der_len;
	int err;

	err = pl_layer_manifest_load(b->manifest, &lm);
	if (err || lm.m.n_files != b->n_files) {
		pl_err("%s: self-check: the written manifest does not parse (line %u: %s)",
		       b->manifest, lm.perr.line,
		       lm.perr.reason ? lm.perr.reason : strerror(err ? -err : EINVAL));
		err = -1;
		goto out;
	}
	err = pl_read_file(b->sig, PL_SIGNATURE_MAX, &der, &der_len);
	if (err) {
		pl_err_sys(-err, "%s", b->sig);
		goto out;
	}
	certs = sk_X509_new_null();
	cms = pl_cms_parse(der, der_len, why, sizeof(why));
	err = cms && certs && sk_X509_push(certs, b->x509) ?
	      pl_cms_verify(cms, lm.buf, lm.len, certs, why, sizeof(why)) : -EKEYREJECTED;
	if (err) {
		pl_err("%s: self-check: %s", b->sig, why);
	} else {
		b->signer = strdup(why);
		if (!b->signer) {
			pl_err("%s", strerror(ENOMEM));
			err = -ENOMEM;
		}
	}
out:
	sk_X509_free(certs);	/* b->x509 stays ours */
	CMS_ContentInfo_free(cms);
	pl_layer_manifest_free(&lm);
	free(der);
	return err ? -1 : 0;
}

/* ".<name>.tmp-XXXXXX" next to OUT, so that the final rename() is atomic. */
static int pl_make_tmp(struct pl_build *b)
{
	const char *slash = strrchr(b->out, '/');
	int plen = slash ? (int)(slash - b->out) + 1 : 0;

	if (asprintf(&b->tmp, "%.*s.%s.tmp-XXXXXX", plen, b->out, b->out + plen) < 0) {
		b->tmp = NULL;	/* asprintf() leaves it undefined */
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	if (!mkdtemp(b->tmp)) {
		/* the directory -o is in is what is wrong */
		pl_err_sys(errno, "%.*s", plen > 1 ? plen - 1 : 1, plen ? b->out : ".");
		free(b->tmp);
		b->tmp = NULL;
		return -1;
	}
	return 0;
}

static int pl_write_layer(struct pl_build *b)
{
	char *files = NULL, *text = NULL, *der = NULL;
	size_t len, der_len;
	int err = -1;

	if (pl_make_tmp(b))
		return -1;
	files = pl_concat(b->tmp, "/files", NULL);
	b->manifest = pl_concat(b->tmp, "/manifest", NULL);
	b->sig = pl_concat(b->tmp, "/manifest.p7s", NULL);
	if (!files || !b->manifest || !b->sig) {
		pl_err("%s", strerror(ENOMEM));
		goto out;
	}
	if (mkdir(files, 0755) < 0 || chmod(files, 0755) < 0) {
		pl_err_sys(errno, "%s", files);
		goto out;
	}
	for (size_t i = 0; i < b->n_files; i++)
		if (pl_copy_file(b, &b->files[i]))
			goto out;
	text = pl_manifest_text(b, &len);
	if (!text) {
		pl_err("%s", strerror(ENOMEM));
		goto out;
	}
	if (len > PL_MANIFEST_MAX_SIZE) {
		pl_err("build: the manifest would be %zu bytes, more than 64 KiB: fewer files",
		       len);
		goto out;
	}
	if (pl_write_new_file(b->manifest, text, len) ||
	    pl_sign(b, text, len, &der, &der_len) ||
	    pl_write_new_file(b->sig, der, der_len) ||
	    pl_self_check(b))
		goto out;
	if (chmod(b->tmp, 0755) < 0 || rename(b->tmp, b->out) < 0) {
		pl_err_sys(errno, "%s", b->out);
		goto out;
	}
	free(b->tmp);
	b->tmp = NULL;
	err = 0;
out:
	free(files);
	free(text);
	free(der);
	return err;
}

static void pl_print_result(const struct pl_build *b, const struct pl_opts *o)
{
	char sha[PL_SHA256_HEX_SIZE], base[PL_SHA256_HEX_SIZE];
	struct json j;

	if (!o->json) {
		printf("%s: layer %s %s, %zu file%s, signed by %s\n", b->out, b->name, b->version,
		       b->n_files, b->n_files == 1 ? "" : "s", b->signer);
		for (size_t i = 0; i < b->n_files; i++) {
			pl_sha256_hex(b->files[i].sha256, sha);
			printf("  %s (%llu bytes, sha256 %s)\n", b->files[i].target,
			       (unsigned long long)b->files[i].size, sha);
		}
		return;
	}
	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	json_string(&j, "layer", b->out);
	json_string(&j, "name", b->name);
	json_string(&j, "version", b->version);
	if (b->replaces)
		json_string(&j, "replaces", b->replaces);
	else
		json_null(&j, "replaces");
	json_string(&j, "signer", b->signer);
	{
		/* what the written manifest says, as verify and layers print it */
		struct pl_provenance *p = calloc(1, sizeof(*p));

		if (p && !pl_layer_provenance(b->out, p))
			pl_json_provenance(&j, p);
		free(p);
	}
	json_array_start(&j, "files");
	for (size_t i = 0; i < b->n_files; i++) {
		pl_sha256_hex(b->files[i].sha256, sha);
		pl_sha256_hex(b->files[i].base, base);
		json_object_start(&j, NULL);
		json_string(&j, "target", b->files[i].target);
		json_string(&j, "sha256", sha);
		json_uint(&j, "size", b->files[i].size);
		json_string(&j, "base", base);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* Parses the options into B; returns -1 to exit with usage, 1 for --help. */
static int pl_build_args(int argc, char **argv, struct pl_build *b)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "version", required_argument, NULL, 'V' },
		{ "replaces", required_argument, NULL, 'R' },
		{ "key", required_argument, NULL, 'K' },
		{ "cert", required_argument, NULL, 'C' },
		{ "base-root", required_argument, NULL, 'B' },
		{ "output", required_argument, NULL, 'o' },
		{ "from-deb", required_argument, NULL, 'F' },
		{ "base-deb", required_argument, NULL, 'D' },
		{ "advisory", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* getopt wants the command's name in front of its arguments */
	int ac = argc + 1, c;
	char **av = argv - 1;
	const char *missing;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(ac, av, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'N': b->name = optarg; break;
		case 'V': b->version = optarg; break;
		case 'R': b->replaces = optarg; break;
		case 'K': b->key = optarg; break;
		case 'C': b->cert = optarg; break;
		case 'B': b->base_root = optarg; break;
		case 'F':
		case 'D':
		case 'A': {
			char ***v = c == 'F' ? &b->debs.fixed : c == 'D' ? &b->debs.base_debs :
				    &b->advisories;
			size_t *n = c == 'F' ? &b->debs.n_fixed : c == 'D' ? &b->debs.n_base_debs :
				    &b->n_advisories;
			char **bigger = *n < 1024 ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;

			if (!bigger) {
				pl_err("build: %s: too many", av[optind - 1]);
				return -1;
			}
			*v = bigger;
			(*v)[(*n)++] = optarg;
			break;
		}
		case 'o':
			free(b->out);
			b->out = strdup(optarg);
			if (!b->out) {
				pl_err("%s", strerror(ENOMEM));
				return -1;
			}
			break;
		case 'h': return 1;
		case ':':
			pl_err("build: %s needs an argument", av[optind - 1]);
			return -1;
		default:
			pl_err("build: unknown option '%s'", av[optind - 1]);
			return -1;
		}
	}
	/* from packages, the layer's version is the fix's by default */
	missing = !b->name ? "--name" : !b->version && !b->debs.n_fixed ? "--version" :
		  !b->key ? "--key" :
		  !b->cert ? "--cert" : !b->out ? "-o" : NULL;
	if (missing) {
		pl_err("build: %s is required", missing);
		return -1;
	}
	if (b->debs.n_fixed && (optind < ac || (!b->debs.n_base_debs == !b->base_root))) {
		pl_err("build: --from-deb takes --base-deb or --base-root (one of them), and no FILE=TARGET");
		return -1;
	}
	if (b->debs.n_base_debs && !b->debs.n_fixed) {
		pl_err("build: --base-deb needs --from-deb");
		return -1;
	}
	b->n_files = (size_t)(ac - optind);
	b->files = calloc(b->n_files ? b->n_files : 1, sizeof(*b->files));
	if (!b->files) {
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	for (size_t i = 0; i < b->n_files; i++)
		b->files[i].arg = av[optind + (int)i];
	return 0;
}

static int pl_str_cmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --advisory: DSA-, DLA- or CVE- ids, sorted, each once, at most 32. */
static int pl_check_advisories(struct pl_build *b)
{
	if (b->n_advisories > PL_MANIFEST_MAX_ADVISORIES) {
		pl_err("build: more than %d --advisory", PL_MANIFEST_MAX_ADVISORIES);
		return -1;
	}
	for (size_t i = 0; i < b->n_advisories; i++) {
		if (!pl_advisory_valid(b->advisories[i], strlen(b->advisories[i]))) {
			pl_err("build: --advisory '%s': expected DSA-<n>-<r>, DLA-<n>-<r> or CVE-<year>-<n>",
			       b->advisories[i]);
			return -1;
		}
	}
	if (b->n_advisories)
		qsort(b->advisories, b->n_advisories, sizeof(*b->advisories), pl_str_cmp_p);
	for (size_t i = 1; i < b->n_advisories; i++) {
		if (!strcmp(b->advisories[i], b->advisories[i - 1])) {
			pl_err("build: --advisory '%s' given twice", b->advisories[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * --from-deb: the replacements and provenance from the packages, as if
 * given as FILE=TARGET; the bases are then read from the extracted base
 * packages or the --base-root system.
 */
static int pl_from_debs_files(struct pl_build *b)
{
	int err;

	b->debs.base_root = b->base_root;
	err = pl_from_debs(&b->debs);
	if (err)
		return err;
	if (!b->version)
		b->version = b->debs.source_version;
	b->base_root = b->debs.base_tree;
	free(b->files);
	b->n_files = b->debs.n_files;
	b->files = calloc(b->n_files, sizeof(*b->files));
	if (!b->files) {
		pl_err("%s", strerror(ENOMEM));
		return -1;
	}
	for (size_t i = 0; i < b->n_files; i++)
		b->files[i].arg = b->debs.files[i];
	return 0;
}

/* -o names the new directory itself: not "/", ".", ".." or empty. */
static int pl_check_out_name(char *out)
{
	size_t len = strlen(out);
	const char *last;

	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	last = strrchr(out, '/');
	last = last ? last + 1 : out;
	if (!*last || !strcmp(last, ".") || !strcmp(last, "..")) {
		pl_err("build: -o '%s': name the new layer directory, not '/', '.' or '..'", out);
		return -1;
	}
	return 0;
}

static void pl_build_free(struct pl_build *b)
{
	if (b->tmp) {
		nftw(b->tmp, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(b->tmp);
	}
	for (size_t i = 0; b->files && i < b->n_files; i++)
		free(b->files[i].src);
	free(b->files);
	free(b->out);
	free(b->manifest);
	free(b->sig);
	free(b->signer);
	free(b->debs.fixed);
	free(b->debs.base_debs);
	free(b->advisories);
	pl_from_debs_free(&b->debs);
	EVP_PKEY_free(b->pkey);
	X509_free(b->x509);
}

int cmd_build(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_build b = { 0 };
	int ret = PL_EXIT_USAGE, err;

	err = pl_build_args(argc, argv, &b);
	if (err > 0) {
		pl_build_usage(stdout);
		ret = PL_EXIT_OK;
		goto out;
	}
	if (!err && b.debs.n_fixed) {
		err = pl_from_debs_files(&b);
		if (err) {
			ret = err == -PL_EXIT_NOT_A_LAYER ? PL_EXIT_NOT_A_LAYER : PL_EXIT_FAIL;
			goto out;
		}
	}
	if (err || pl_check_names(&b) || pl_check_advisories(&b) || pl_check_files(&b) ||
	    pl_check_out_name(b.out)) {
		if (err)
			pl_build_usage(stderr);
		goto out;
	}
	/* the arguments are sound: what fails now is the world */
	ret = PL_EXIT_FAIL;
	if (pl_check_out(b.out) || pl_load_key(&b) || pl_load_cert(&b))
		goto out;
	for (size_t i = 0; i < b.n_files; i++)
		if (pl_check_source(&b.files[i]) || pl_hash_base(&b, &b.files[i]))
			goto out;
	if (pl_write_layer(&b))
		goto out;
	pl_print_result(&b, o);
	ret = PL_EXIT_OK;
out:
	pl_build_free(&b);
	return ret;
}
