// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer verify: checks a layer directory as patchlayer.ko will load
 * it, with the errno the kernel would return for each fault. The kernel
 * stops at the first fault; verify goes on and explains every one, so that
 * one run tells a vendor all that is wrong with a layer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "layer.h"
#include "patchlayer.h"

struct pl_check {
	const char *check;	/* "manifest", "signature", "file", "base" */
	char *target;		/* NULL unless about one file */
	char *subject;		/* what the text line names */
	int err;		/* 0 when ok */
	bool skipped;		/* not checked, and said why */
	char *detail;
};

struct pl_verify {
	const char *dir, *base_root;
	bool no_base;
	STACK_OF(X509) *certs;	/* NULL without --cert */
	/*
	 * What the signature came to: "verified" (by a --cert certificate),
	 * "not checked (no --cert)", "not checked (no manifest)", "missing"
	 * or "invalid". Only "verified" lets the JSON "ok" be true.
	 */
	const char *sig_state;
	struct pl_layer_manifest lm;
	struct pl_check *checks;
	size_t n_checks, cap;
};

static void pl_verify_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s layer verify [--cert CERT.pem]... [--base-root DIR] [--no-base] LAYER\n"
		"\n"
		"Checks the layer directory LAYER as the kernel will load it and reports\n"
		"every fault with the errno the kernel would return. The signer must be\n"
		"one of the --cert certificates; without --cert it is named, not checked.\n"
		"Base files are read from their target paths, from DIR/TARGET with\n"
		"--base-root, or not at all with --no-base.\n",
		pl_prog);
}

static __attribute__((noreturn)) void pl_oom(void)
{
	pl_err("%s", strerror(ENOMEM));
	exit(PL_EXIT_FAIL);
}

/* Records one check; ERR 0 is a pass. */
static __attribute__((format(printf, 7, 8)))
void pl_check_add(struct pl_verify *v, const char *check, const char *target,
		  const char *subject, int err, bool skipped, const char *fmt, ...)
{
	struct pl_check *c;
	va_list ap;
	int n;

	if (v->n_checks == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		struct pl_check *more = reallocarray(v->checks, cap, sizeof(*more));

		if (!more)
			pl_oom();
		v->checks = more;
		v->cap = cap;
	}
	c = &v->checks[v->n_checks];
	c->check = check;
	c->target = target ? strdup(target) : NULL;
	c->subject = strdup(subject);
	c->err = err;
	c->skipped = skipped;
	va_start(ap, fmt);
	n = vasprintf(&c->detail, fmt, ap);
	va_end(ap);
	if (n < 0 || !c->subject || (target && !c->target))
		pl_oom();
	v->n_checks++;
}

static void pl_verify_manifest(struct pl_verify *v, const char *path)
{
	struct pl_layer_manifest *lm = &v->lm;
	struct pl_manifest_error *perr = &lm->perr;
	struct stat st;
	int err;

	err = -pl_layer_manifest_load(path, lm);
	if (err == ENOMEM)
		pl_oom();
	if (!lm->buf) {
		if (err == EFBIG && stat(path, &st) == 0)
			pl_check_add(v, "manifest", NULL, "manifest", err, false,
				     "%lld bytes; a manifest is at most 64 KiB",
				     (long long)st.st_size);
		else if (err == EINVAL && stat(path, &st) == 0)
			pl_check_add(v, "manifest", NULL, "manifest", err, false,
				     "is %s, not a regular file", pl_file_type(st.st_mode));
		else if (err == ENOENT)
			pl_check_add(v, "manifest", NULL, "manifest", err, false, "%s is missing",
				     path);
		else
			pl_check_add(v, "manifest", NULL, "manifest", err, false, "%s: %s",
				     path, strerror(err));
	} else if (!lm->parsed && perr->line) {
		pl_check_add(v, "manifest", NULL, "manifest", err, false, "line %u: %s",
			     perr->line, perr->reason);
	} else if (!lm->parsed) {
		pl_check_add(v, "manifest", NULL, "manifest", err, false, "%s", perr->reason);
	} else {
		pl_check_add(v, "manifest", NULL, "manifest", 0, false,
			     "%.*s %.*s%s%.*s, %zu file%s", (int)lm->m.name.len, lm->m.name.s,
			     (int)lm->m.version.len, lm->m.version.s,
			     lm->m.replaces.len ? ", replaces " : "",
			     (int)lm->m.replaces.len, lm->m.replaces.s ? lm->m.replaces.s : "",
			     lm->m.n_files, lm->m.n_files == 1 ? "" : "s");
	}
}

/* Checks SIG over the manifest bytes with --cert, or names the signer. */
static void pl_verify_cms(struct pl_verify *v, const char *sig, size_t sig_len)
{
	CMS_ContentInfo *cms;
	char why[1024], *ids;
	int err;

	cms = pl_cms_parse(sig, sig_len, why, sizeof(why));
	v->sig_state = "invalid";
	if (!cms) {
		pl_check_add(v, "signature", NULL, "signature", EKEYREJECTED, false, "%s", why);
		return;
	}
	if (!v->lm.buf) {
		v->sig_state = "not checked (no manifest)";
		pl_check_add(v, "signature", NULL, "signature", 0, true,
			     "not checked: there is no manifest to check it against");
	} else if (!v->certs) {
		v->sig_state = "not checked (no --cert)";
		ids = pl_cms_signer_ids(cms);
		pl_check_add(v, "signature", NULL, "signature", 0, true,
			     "signer not checked (no --cert): %s", ids ? ids : "?");
		free(ids);
	} else {
		err = pl_cms_verify(cms, v->lm.buf, v->lm.len, v->certs, why, sizeof(why));
		if (err)
			pl_check_add(v, "signature", NULL, "signature", -err, false, "%s", why);
		else
			pl_check_add(v, "signature", NULL, "signature", 0, false, "signer: %s",
				     why);
		if (!err)
			v->sig_state = "verified";
	}
	CMS_ContentInfo_free(cms);
}

static void pl_verify_signature(struct pl_verify *v)
{
	char *path, *sig;
	size_t len;
	int err;

	path = pl_concat(v->dir, "/manifest.p7s", NULL);
	if (!path)
		pl_oom();
	err = pl_read_file(path, PL_SIGNATURE_MAX, &sig, &len);
	v->sig_state = err == -ENOENT ? "missing" : "invalid";
	if (err == -ENOENT)
		/* the module's errno when signatures are required, as they should be */
		pl_check_add(v, "signature", NULL, "signature", EKEYREJECTED, false,
			     "%s is missing: the layer is not signed", path);
	else if (err == -EFBIG)
		pl_check_add(v, "signature", NULL, "signature", EFBIG, false,
			     "%s is larger than 64 KiB", path);
	else if (err)
		pl_check_add(v, "signature", NULL, "signature", -err, false, "%s: %s", path,
			     strerror(-err));
	else
		pl_verify_cms(v, sig, len);
	if (!err)
		free(sig);
	free(path);
}

/* The replacement DIR/files/TARGET against its record. */
static void pl_verify_file(struct pl_verify *v, const struct pl_manifest_file *f,
			   const char *target)
{
	char want[PL_SHA256_HEX_SIZE], got[PL_SHA256_HEX_SIZE], *path, *subject;
	u8 digest[PL_SHA256_SIZE];
	struct stat st;
	uint64_t size;
	int fd, err;

	path = pl_concat(v->dir, "/files", target);
	subject = pl_concat("files", target, NULL);
	if (!path || !subject)
		pl_oom();
	pl_sha256_hex(f->sha256, want);
	/* as the module: no symlink followed, nothing but a file opened */
	fd = pl_open_regular(path, true, &st);
	if (fd == -EINVAL && S_ISLNK(st.st_mode)) {
		pl_check_add(v, "file", target, subject, ELOOP, false,
			     "is a symlink (none may be beneath a layer directory)");
		goto out;
	}
	if (fd == -EINVAL) {
		pl_check_add(v, "file", target, subject, EINVAL, false,
			     "is %s, not a regular file", pl_file_type(st.st_mode));
		goto out;
	}
	if (fd == -ENOENT) {
		pl_check_add(v, "file", target, subject, ENOENT, false, "%s is missing", path);
		goto out;
	}
	if (fd < 0) {
		pl_check_add(v, "file", target, subject, -fd, false, "%s: %s", path,
			     strerror(-fd));
		goto out;
	}
	if ((uint64_t)st.st_size != f->size) {
		pl_check_add(v, "file", target, subject, EBADMSG, false,
			     "size mismatch (manifest %llu, file %llu bytes)",
			     (unsigned long long)f->size, (unsigned long long)st.st_size);
		close(fd);
		goto out;
	}
	err = pl_sha256_fd(fd, digest, &size);
	close(fd);
	if (err == -ENOMEM)
		pl_oom();
	pl_sha256_hex(digest, got);
	if (err)
		pl_check_add(v, "file", target, subject, -err, false, "%s: %s", path,
			     strerror(-err));
	else if (size != f->size)
		pl_check_add(v, "file", target, subject, EBADMSG, false,
			     "changed while read (manifest %llu, read %llu bytes)",
			     (unsigned long long)f->size, (unsigned long long)size);
	else if (memcmp(digest, f->sha256, PL_SHA256_SIZE))
		pl_check_add(v, "file", target, subject, EBADMSG, false,
			     "sha256 mismatch (manifest %s, file %s)", want, got);
	else
		pl_check_add(v, "file", target, subject, 0, false, "sha256 %s, %llu bytes",
			     got, (unsigned long long)size);
out:
	free(subject);
	free(path);
}

/* The base file TARGET names now, against the one the layer was built for. */
static void pl_verify_base(struct pl_verify *v, const struct pl_manifest_file *f,
			   const char *target)
{
	char why[PATH_MAX + 256], *path, *subject;
	int err;

	path = pl_concat(v->base_root ? v->base_root : "", target, NULL);
	subject = pl_concat("base ", target, NULL);
	if (!path || !subject)
		pl_oom();
	err = pl_base_check(f, path, why, sizeof(why));
	if (err == -ENOMEM)
		pl_oom();
	pl_check_add(v, "base", target, subject, -err, false, "%s", why);
	free(subject);
	free(path);
}

static void pl_verify_files(struct pl_verify *v)
{
	const struct pl_layer_manifest *lm = &v->lm;

	if (!lm->parsed)
		return;
	for (size_t i = 0; i < lm->m.n_files; i++) {
		const struct pl_manifest_file *f = &lm->files[i];
		char *target = pl_str_dup(f->target);

		if (!target)
			pl_oom();
		pl_verify_file(v, f, target);
		if (!v->no_base)
			pl_verify_base(v, f, target);
		free(target);
	}
	if (v->no_base && lm->m.n_files)
		pl_check_add(v, "base", NULL, "base", 0, true, "not checked (--no-base)");
}

static size_t pl_failures(const struct pl_verify *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n_checks; i++)
		n += v->checks[i].err != 0;
	return n;
}

static void pl_print_text(const struct pl_verify *v)
{
	for (size_t i = 0; i < v->n_checks; i++) {
		const struct pl_check *c = &v->checks[i];

		if (c->err)
			printf("%-7s %s: %s\n", pl_errno_name(c->err), c->subject, c->detail);
		else if (c->skipped)
			printf("%-7s %s: %s\n", "skip", c->subject, c->detail);
		else
			printf("%-7s %s (%s)\n", "ok", c->subject, c->detail);
	}
}

static void pl_json_str(struct json *j, const char *name, struct pl_str s, bool have)
{
	char *dup;

	if (!have) {
		json_null(j, name);
		return;
	}
	dup = pl_str_dup(s);
	if (!dup)
		pl_oom();
	json_string(j, name, dup);
	free(dup);
}

static void pl_print_json(const struct pl_verify *v, const struct pl_opts *o)
{
	const struct pl_layer_manifest *lm = &v->lm;
	struct json j;

	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	json_string(&j, "layer", v->dir);
	pl_json_str(&j, "name", lm->m.name, lm->parsed);
	pl_json_str(&j, "version", lm->m.version, lm->parsed);
	{
		struct pl_provenance *p = calloc(1, sizeof(*p));

		if (!p)
			pl_oom();
		if (lm->parsed)
			pl_provenance_of(&lm->m, p);
		pl_json_provenance(&j, p);
		free(p);
	}
	/* true only for a layer a trust anchor (--cert) vouches for */
	json_bool(&j, "ok", pl_failures(v) == 0 && !strcmp(v->sig_state, "verified"));
	json_string(&j, "signature", v->sig_state);
	json_uint(&j, "failed", pl_failures(v));
	json_array_start(&j, "checks");
	for (size_t i = 0; i < v->n_checks; i++) {
		const struct pl_check *c = &v->checks[i];

		json_object_start(&j, NULL);
		json_string(&j, "check", c->check);
		if (c->target)
			json_string(&j, "target", c->target);
		else
			json_null(&j, "target");
		json_bool(&j, "ok", c->err == 0);
		if (c->err)
			json_string(&j, "errno", pl_errno_name(c->err));
		else
			json_null(&j, "errno");
		json_bool(&j, "skipped", c->skipped);
		json_string(&j, "detail", c->detail);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static int pl_add_cert(struct pl_verify *v, const char *path)
{
	int err;

	if (!v->certs)
		v->certs = sk_X509_new_null();
	if (!v->certs)
		pl_oom();
	err = pl_load_certs(path, v->certs);
	if (err == -EINVAL)
		pl_err("%s: no X.509 certificate in it (PEM or DER)", path);
	else if (err)
		pl_err_sys(-err, "%s", path);
	return err;
}

/* Returns 0 to go on, -1 for --help, or an exit status. */
static int pl_verify_args(int argc, char **argv, struct pl_verify *v)
{
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'C' },
		{ "base-root", required_argument, NULL, 'B' },
		{ "no-base", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* getopt wants the command's name in front of its arguments */
	int ac = argc + 1, c;
	char **av = argv - 1;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(ac, av, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			if (pl_add_cert(v, optarg))
				return PL_EXIT_FAIL;
			break;
		case 'B': v->base_root = optarg; break;
		case 'N': v->no_base = true; break;
		case 'h': return -1;
		case ':':
			pl_err("verify: %s needs an argument", av[optind - 1]);
			return PL_EXIT_USAGE;
		default:
			pl_err("verify: unknown option '%s'", av[optind - 1]);
			return PL_EXIT_USAGE;
		}
	}
	if (v->no_base && v->base_root) {
		pl_err("verify: --base-root and --no-base contradict each other");
		return PL_EXIT_USAGE;
	}
	if (ac - optind != 1) {
		pl_err("verify: expected one layer directory");
		return PL_EXIT_USAGE;
	}
	v->dir = av[optind];
	return 0;
}

static void pl_verify_free(struct pl_verify *v)
{
	for (size_t i = 0; i < v->n_checks; i++) {
		free(v->checks[i].target);
		free(v->checks[i].subject);
		free(v->checks[i].detail);
	}
	free(v->checks);
	pl_layer_manifest_free(&v->lm);
	sk_X509_pop_free(v->certs, X509_free);
}

int cmd_verify(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_verify v = { .sig_state = "missing" };
	char *manifest;
	size_t failed;
	int ret;

	ret = pl_verify_args(argc, argv, &v);
	if (ret < 0)
		pl_verify_usage(stdout);
	else if (ret == PL_EXIT_USAGE)
		pl_verify_usage(stderr);
	if (ret) {
		pl_verify_free(&v);
		return ret < 0 ? PL_EXIT_OK : ret;
	}
	manifest = pl_concat(v.dir, "/manifest", NULL);
	if (!manifest)
		pl_oom();
	pl_verify_manifest(&v, manifest);
	free(manifest);
	pl_verify_signature(&v);
	pl_verify_files(&v);

	if (o->json)
		pl_print_json(&v, o);
	else
		pl_print_text(&v);
	failed = pl_failures(&v);
	if (failed)
		pl_err("%s: %zu of %zu checks failed", v.dir, failed, v.n_checks);
	else if (!v.certs)
		/* exit 0 says only that nothing failed: no trust anchor vouched */
		pl_err("%s: the signature was not checked against a trust anchor (no --cert)",
		       v.dir);
	pl_verify_free(&v);
	ERR_clear_error();
	return failed ? PL_EXIT_FAIL : PL_EXIT_OK;
}
