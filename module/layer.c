// SPDX-License-Identifier: GPL-2.0
/*
 * The registry of loaded layers, and loading: read the manifest, verify its
 * signature, parse it, hash and hold every replacement file, hash every
 * base file, then publish the layer. Nothing is published or kept unless
 * every check passed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../include/uapi/patchlayer.h"
#include "fs.h"
#include "patchlayer.h"
#include "trace.h"

#define PL_SIGNATURE_MAX (64 * 1024)

LIST_HEAD(pl_layers);
DEFINE_MUTEX(pl_layers_lock);
/*
 * Held from a layer's removal from pl_layers until its sysfs directory is
 * gone, and around a new layer's publication: a load of the same name
 * cannot race the old directory. Taken before pl_layers_lock; never by a
 * sysfs write that kobject_del() would wait for.
 */
static DEFINE_MUTEX(pl_names_lock);

static const char *const pl_state_names[] = {
	[PL_LAYER_LOADED] = "loaded",
	[PL_LAYER_ACTIVE] = "active",
	[PL_LAYER_STALE] = "stale",
	[PL_LAYER_SUPERSEDED] = "superseded",
};

const char *pl_layer_state_name(enum pl_layer_state state)
{
	return pl_state_names[state];
}

/* Called by the kobject release once the last sysfs user is gone. */
void pl_layer_free(struct pl_layer *layer)
{
	pl_unwatch_layer(layer);	/* a load that failed late */
	for (size_t i = 0; i < layer->n_files; i++) {
		struct pl_layer_file *f = &layer->files[i];

		if (f->file) {
			allow_write_access(f->file);
			fput(f->file);
		}
		iput(f->base);
		kfree(f->target);
	}
	kvfree(layer->windows);
	kfree(layer->dir);
	kfree(layer);
}

struct pl_layer *pl_layer_find(const char *name)
{
	struct pl_layer *layer;

	lockdep_assert_held(&pl_layers_lock);
	list_for_each_entry(layer, &pl_layers, node)
		if (!strcmp(layer->name, name))
			return layer;
	return NULL;
}

/* The outcome of a load, for the errno, the tracepoint and the event. */
struct pl_verdict {
	int err;
	char reason[256];
};

static __printf(3, 4)
int pl_reject(struct pl_verdict *v, int err, const char *fmt, ...)
{
	va_list ap;

	v->err = err;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	return err;
}

static void pl_strlcpy_str(char *dst, size_t size, struct pl_str s)
{
	size_t n = min(s.len, size - 1);

	memcpy(dst, s.s, n);
	dst[n] = '\0';
}

/*
 * Reads DIR/NAME whole, up to MAX bytes, into a kvmalloc'ed buffer: what
 * kernel_read_file() does, writers denied meanwhile, but the buffer is
 * sized by user space, so failing it is a quiet ENOMEM rather than
 * vmalloc's warning. Only a regular file: -EINVAL for anything else, which
 * is never opened; -ENODATA for an empty one. The kernel_read_file LSM
 * hooks are not asked: they know reads by purpose (module, firmware,
 * policy...), a layer is none of them, and 6.12's IPE warns on
 * READING_UNKNOWN. The signature is what vets these bytes.
 */
static ssize_t pl_read_layer_file(const char *dir, const char *name,
				  size_t max, void **buf)
{
	struct file *file;
	loff_t size, pos = 0;
	char *path, *data;
	ssize_t ret;

	*buf = NULL;
	path = kasprintf(GFP_KERNEL, "%s/%s", dir, name);
	if (!path)
		return -ENOMEM;
	file = pl_open_regular(path, true);
	kfree(path);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = deny_write_access(file);
	if (ret)
		goto out_put;
	size = i_size_read(file_inode(file));
	ret = size <= 0 ? -ENODATA : size > max ? -EFBIG : 0;
	if (ret)
		goto out_allow;
	data = kvmalloc(size, GFP_KERNEL | __GFP_NOWARN);
	if (!data) {
		ret = -ENOMEM;
		goto out_allow;
	}
	while (pos < size) {
		ret = kernel_read(file, data + pos, size - pos, &pos);
		if (ret <= 0)
			break;
	}
	if (ret >= 0)
		ret = pos == size ? 0 : -EIO;
	if (ret) {
		kvfree(data);
		goto out_allow;
	}
	*buf = data;
	ret = size;
out_allow:
	allow_write_access(file);
out_put:
	fput(file);
	return ret;
}

static int pl_verify_manifest(const char *dir, const void *manifest, size_t len,
			      struct pl_verdict *v)
{
	void *sig;
	ssize_t sig_len;
	int err;

	sig_len = pl_read_layer_file(dir, "manifest.p7s", PL_SIGNATURE_MAX, &sig);
	if (sig_len == -ENOENT) {
		if (!pl_require_signature)
			return 0;
		return pl_reject(v, -EKEYREJECTED, "manifest.p7s: missing, and signatures are required");
	}
	if (sig_len == -EFBIG)
		return pl_reject(v, -EFBIG, "manifest.p7s: larger than 64 KiB");
	if (sig_len == -EINVAL)
		return pl_reject(v, -EINVAL, "manifest.p7s: not a regular file");
	if (sig_len == -ENODATA)
		return pl_reject(v, -EINVAL, "manifest.p7s: empty");
	if (sig_len < 0)
		return pl_reject(v, sig_len, "manifest.p7s: cannot be read");

	err = pl_verify_signature(manifest, len, sig, sig_len);
	kvfree(sig);
	if (err)
		return pl_reject(v, err, "manifest.p7s: signature rejected (bad, or signer not trusted)");
	return 0;
}

/* Opens, write-denies and checks one replacement, then checks its base. */
static int pl_verify_file(struct pl_layer *layer, struct pl_layer_file *f,
			  struct pl_verdict *v)
{
	u8 digest[PL_SHA256_SIZE];
	struct path base_path;
	struct inode *real;
	struct file *base;
	char *path;
	int err;

	path = kasprintf(GFP_KERNEL, "%s/files%s", layer->dir, f->target);
	if (!path)
		return pl_reject(v, -ENOMEM, "out of memory");
	f->file = pl_open_regular(path, false);
	kfree(path);
	if (IS_ERR(f->file)) {
		err = PTR_ERR(f->file);
		f->file = NULL;
		if (err == -EINVAL)
			return pl_reject(v, err, "files%s: not a regular file", f->target);
		return pl_reject(v, err, "files%s: cannot be opened", f->target);
	}
	/* nobody may change verified bytes while the layer is loaded */
	err = deny_write_access(f->file);
	if (err) {
		fput(f->file);
		f->file = NULL;
		return pl_reject(v, err, "files%s: open for writing elsewhere", f->target);
	}
	real = d_real_inode(f->file->f_path.dentry);
	f->file_dev = real->i_sb->s_dev;
	f->file_ino = real->i_ino;
	err = pl_hash_file(f->file, f->size, digest);
	if (err == -EBADMSG)
		return pl_reject(v, err, "files%s: size differs from the manifest", f->target);
	if (err)
		return pl_reject(v, err, "files%s: cannot be read", f->target);
	if (memcmp(digest, f->sha256, PL_SHA256_SIZE))
		return pl_reject(v, -EBADMSG, "files%s: sha256 differs from the manifest", f->target);

	/* the lower file itself, even where a layer already redirects it */
	err = pl_fs_lower_path(f->target, &base_path);
	if (err == -EXDEV)
		err = kern_path(f->target, 0, &base_path);
	if (err)
		return pl_reject(v, err, "base %s: cannot be opened", f->target);
	base = pl_open_path_regular(&base_path);
	path_put(&base_path);
	if (IS_ERR(base)) {
		err = PTR_ERR(base);
		if (err == -EINVAL)
			return pl_reject(v, err, "base %s: not a regular file", f->target);
		return pl_reject(v, err, "base %s: cannot be opened", f->target);
	}
	/* what activation will recognise: this inode, unchanged */
	f->base = igrab(file_inode(base));
	f->base_size = i_size_read(f->base);
	f->base_mtime = pl_inode_mtime(f->base);
	f->base_ctime = pl_inode_ctime(f->base);
	real = d_real_inode(base->f_path.dentry);
	f->base_dev = real->i_sb->s_dev;
	f->base_ino = real->i_ino;
	err = pl_hash_file(base, PL_SIZE_ANY, digest);
	fput(base);
	if (err)
		return pl_reject(v, err, "base %s: cannot be read", f->target);
	if (memcmp(digest, f->base_sha256, PL_SHA256_SIZE))
		return pl_reject(v, -ESTALE, "base %s: differs from the base the layer was built for",
				 f->target);
	return 0;
}

/* Parses MANIFEST into a new layer; sets v on failure. */
static struct pl_layer *pl_layer_from_manifest(const char *dir, const char *manifest,
					       size_t len, struct pl_verdict *v)
{
	struct pl_manifest_error perr;
	struct pl_manifest_file *mf;
	struct pl_manifest m;
	struct pl_layer *layer;
	int err;

	err = pl_manifest_parse(manifest, len, &m, NULL, 0, &perr);
	if (err) {
		if (perr.line)
			pl_reject(v, err, "manifest line %u: %s", perr.line, perr.reason);
		else
			pl_reject(v, err, "manifest: %s", perr.reason);
		return ERR_PTR(err);
	}
	mf = kvcalloc(m.n_files ?: 1, sizeof(*mf), GFP_KERNEL | __GFP_NOWARN);
	layer = kzalloc(struct_size(layer, files, m.n_files), GFP_KERNEL);
	if (!mf || !layer)
		goto err_nomem;
	layer->dir = kstrdup(dir, GFP_KERNEL);
	if (!layer->dir)
		goto err_nomem;
	err = pl_manifest_parse(manifest, len, &m, mf, m.n_files, NULL);
	if (WARN_ON_ONCE(err))	/* the same bytes parsed a moment ago */
		goto err_free;

	pl_strlcpy_str(layer->name, sizeof(layer->name), m.name);
	pl_strlcpy_str(layer->version, sizeof(layer->version), m.version);
	pl_strlcpy_str(layer->replaces, sizeof(layer->replaces), m.replaces);
	for (size_t i = 0; i < m.n_files; i++) {
		struct pl_layer_file *f = &layer->files[i];

		f->target = kmemdup_nul(mf[i].target.s, mf[i].target.len, GFP_KERNEL);
		if (!f->target)
			goto err_nomem;
		memcpy(f->sha256, mf[i].sha256, PL_SHA256_SIZE);
		memcpy(f->base_sha256, mf[i].base_sha256, PL_SHA256_SIZE);
		f->size = mf[i].size;
		layer->n_files++;
	}
	kvfree(mf);
	return layer;

err_nomem:
	err = -ENOMEM;
err_free:
	pl_reject(v, err, "out of memory");
	kvfree(mf);
	if (layer)
		pl_layer_free(layer);
	return ERR_PTR(err);
}

static int pl_check_dir(const char *dir, struct pl_verdict *v)
{
	size_t len = strlen(dir);

	if (len == 0 || dir[0] != '/')
		return pl_reject(v, -EINVAL, "the layer directory must be an absolute path");
	if (len >= PATH_MAX - PL_TARGET_MAX - sizeof("/files"))
		return pl_reject(v, -ENAMETOOLONG, "the layer directory path is too long");
	if (strpbrk(dir, "\n"))
		return pl_reject(v, -EINVAL, "newline in the layer directory path");
	return 0;
}

int pl_layer_load(const char *dir)
{
	struct pl_verdict v = { .err = 0, .reason = "verified" };
	struct pl_layer *layer = NULL;
	void *manifest = NULL;
	ssize_t len;
	int err;

	err = pl_check_dir(dir, &v);
	if (err)
		goto out;
	len = pl_read_layer_file(dir, "manifest", PL_MANIFEST_MAX_SIZE, &manifest);
	if (len < 0) {
		err = pl_reject(&v, len == -ENODATA ? -EINVAL : len, "manifest: %s",
				len == -EFBIG ? "larger than 64 KiB" :
				len == -ENODATA ? "empty" :
				len == -EINVAL ? "not a regular file" : "cannot be read");
		manifest = NULL;
		goto out;
	}
	/* the parser only ever sees bytes that passed the signature check */
	err = pl_verify_manifest(dir, manifest, len, &v);
	if (err)
		goto out;
	layer = pl_layer_from_manifest(dir, manifest, len, &v);
	if (IS_ERR(layer)) {
		err = PTR_ERR(layer);
		layer = NULL;
		goto out;
	}
	/* cheap refusal before the expensive checks; rechecked on publication */
	mutex_lock(&pl_layers_lock);
	if (pl_layer_find(layer->name))
		err = pl_reject(&v, -EEXIST, "a layer named %s is already loaded", layer->name);
	mutex_unlock(&pl_layers_lock);
	if (err)
		goto out;

	for (size_t i = 0; i < layer->n_files && !err; i++)
		err = pl_verify_file(layer, &layer->files[i], &v);
	if (err)
		goto out;
	err = pl_watch_layer(layer);
	if (err) {
		pl_reject(&v, err, "cannot watch its base files");
		goto out;
	}

	mutex_lock(&pl_names_lock);
	mutex_lock(&pl_layers_lock);
	if (pl_layer_find(layer->name)) {
		err = pl_reject(&v, -EEXIST, "a layer named %s is already loaded", layer->name);
		mutex_unlock(&pl_layers_lock);
		mutex_unlock(&pl_names_lock);
		goto out;
	}
	layer->state = PL_LAYER_LOADED;
	err = pl_layer_kobj_add(layer);
	if (err) {
		/* the failed kobject_add released the layer */
		layer = NULL;
		mutex_unlock(&pl_layers_lock);
		mutex_unlock(&pl_names_lock);
		pl_reject(&v, err, "cannot create the sysfs directory");
		goto out;
	}
	list_add_tail(&layer->node, &pl_layers);
	/* still under the lock: an unload may free the layer right after */
	trace_patchlayer_verify(dir, layer->name, 0, v.reason);
	pl_nl_notify(PATCHLAYER_EVENT_LOADED, layer->name, layer->version, dir, 0, v.reason);
	pr_info("layer %s (%s) loaded from %s\n", layer->name, layer->version, dir);
	mutex_unlock(&pl_layers_lock);
	mutex_unlock(&pl_names_lock);
	kvfree(manifest);
	return 0;

out:
	trace_patchlayer_verify(dir, layer ? layer->name : "", err, v.reason);
	pl_nl_notify(PATCHLAYER_EVENT_REJECTED, layer ? layer->name : NULL, NULL, dir, err, v.reason);
	if (layer)
		pl_layer_free(layer);
	kvfree(manifest);
	return err;
}

/* Unlinks LAYER from the registry; the caller then calls pl_layer_release. */
static void pl_layer_remove(struct pl_layer *layer)
{
	lockdep_assert_held(&pl_layers_lock);
	list_del(&layer->node);
	layer->removed = true;
	pl_nl_notify(PATCHLAYER_EVENT_UNLOADED, layer->name, layer->version, layer->dir, 0, NULL);
	pr_info("layer %s unloaded\n", layer->name);
}

/*
 * Outside pl_layers_lock: removing the sysfs directory waits for its
 * readers and writers, and a state write takes that lock.
 */
static void pl_layer_release(struct pl_layer *layer)
{
	pl_unwatch_layer(layer);
	kobject_del(&layer->kobj);
	pl_layer_put(layer);
}

int pl_layer_unload(const char *name)
{
	struct pl_layer *layer;
	int err = 0;

	mutex_lock(&pl_names_lock);
	mutex_lock(&pl_layers_lock);
	layer = pl_layer_find(name);
	if (!layer)
		err = -ENOENT;
	else if (layer->state == PL_LAYER_ACTIVE)
		err = -EBUSY;
	else if (layer->n_windows)
		/* processes started while it was active lose it now */
		err = pl_redirect_republish(layer);
	if (!err)
		pl_layer_remove(layer);
	mutex_unlock(&pl_layers_lock);
	if (!err)
		pl_layer_release(layer);
	mutex_unlock(&pl_names_lock);
	return err;
}

/* "activate" or "drop", written to layers/<name>/state. */
int pl_layer_set_state(struct pl_layer *layer, const char *word)
{
	const char *why = NULL;
	int err;

	mutex_lock(&pl_layers_lock);
	if (layer->removed)
		err = -ENOENT;
	else if (sysfs_streq(word, "activate"))
		err = pl_redirect_activate(layer, &why);
	else if (sysfs_streq(word, "drop"))
		err = pl_redirect_drop(layer, PL_LAYER_LOADED, "dropped");
	else
		err = -EINVAL;
	if (err && why)
		pr_info("layer %s not activated: %s\n", layer->name, why);
	mutex_unlock(&pl_layers_lock);
	return err;
}

void pl_layers_exit(void)
{
	struct pl_layer *layer, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&pl_layers_lock);
	list_for_each_entry_safe(layer, tmp, &pl_layers, node) {
		/* nothing is mounted any more: active layers serve nobody */
		pl_redirect_drop(layer, PL_LAYER_LOADED, "module unloaded");
		pl_layer_remove(layer);
		list_add(&layer->node, &gone);
	}
	mutex_unlock(&pl_layers_lock);
	list_for_each_entry_safe(layer, tmp, &gone, node)
		pl_layer_release(layer);
}
