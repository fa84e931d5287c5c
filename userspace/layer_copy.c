// SPDX-License-Identifier: GPL-2.0
/*
 * Copying a layer directory as its manifest names it (package, deliver):
 * only the manifest, its signature and each files/<target> travel, each
 * file checked against its record after the copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "patchlayer.h"

/*
 * Copies the layer described by LM from SRC into the existing, empty
 * directory DST: the manifest's exact bytes, its signature and every
 * replacement, each checked against its record. 0, or -1 (said).
 */
int pl_copy_layer(const char *src, const char *dst, const struct pl_layer_manifest *lm)
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
int pl_load_layer(const char *dir, struct pl_layer_manifest *lm)
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
