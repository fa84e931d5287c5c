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
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/posix_acl.h>
#include <linux/string.h>
#include <linux/xattr.h>
#include <linux/magic.h>

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
		mntput(f->base_mnt);
		kfree(f->target);
	}
	kvfree(layer->windows);
	kfree(layer->dir);
	kvfree(layer);
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
 * Filesystems where a verified file holds still: local ones, where every
 * write goes through this kernel's inode and so meets deny_write_access().
 * On a network filesystem (NFS, CIFS, 9p) another machine writes the
 * bytes, FUSE's daemon answers every read as it likes, overlayfs's upper
 * and lower directories are written past the overlay inode, and a cluster
 * filesystem shares its disk: the page cache reads again what was never
 * verified. Anything not named here is refused.
 */
static bool pl_fs_holds_still(const struct super_block *sb)
{
	switch (sb->s_magic) {
	case EXT4_SUPER_MAGIC:	/* ext2 and ext3 too */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
	case TMPFS_MAGIC:
	case RAMFS_MAGIC:
		return true;
	}
	return false;
}

/*
 * What the filesystem would serve from a layer file or directory beyond
 * its signed bytes must be root's and harmless: no other owner, no write
 * for group or others, no setuid or setgid file, no file capabilities and
 * no POSIX ACL. -EPERM with WHY, or another errno when it cannot be told.
 */
static int pl_check_metadata(struct dentry *dentry, const char **why)
{
	struct inode *inode = d_inode(dentry);
	umode_t mode = inode->i_mode;
	ssize_t n;

	*why = NULL;
	if (!uid_eq(inode->i_uid, GLOBAL_ROOT_UID))
		*why = "not owned by root";
	else if (mode & (S_IWGRP | S_IWOTH))
		*why = "writable by group or others";
	else if (S_ISREG(mode) && (mode & (S_ISUID | S_ISGID)))
		*why = "setuid or setgid";
	if (*why)
		return -EPERM;

	n = __vfs_getxattr(dentry, inode, XATTR_NAME_CAPS, NULL, 0);
	if (n >= 0) {
		*why = "carries file capabilities (security.capability)";
		return -EPERM;
	}
	if (n != -ENODATA && n != -EOPNOTSUPP) {
		*why = "its extended attributes cannot be read";
		return n;
	}
#ifdef CONFIG_FS_POSIX_ACL
	for (int i = 0; i < (S_ISDIR(mode) ? 2 : 1); i++) {
		struct posix_acl *acl;

		acl = pl_get_inode_acl(inode, i ? ACL_TYPE_DEFAULT : ACL_TYPE_ACCESS);
		if (IS_ERR(acl)) {
			*why = "its POSIX ACL cannot be read";
			return PTR_ERR(acl);
		}
		if (acl) {
			posix_acl_release(acl);
			*why = "carries a POSIX ACL";
			return -EPERM;
		}
	}
#endif
	return 0;
}

/*
 * Looked up beneath the layer directory as openat2() with RESOLVE_BENEATH,
 * RESOLVE_NO_SYMLINKS and RESOLVE_NO_XDEV would: the filesystem checked
 * for the directory is the one every file is on.
 */
#define PL_LOOKUP_BENEATH (LOOKUP_FOLLOW | LOOKUP_BENEATH | LOOKUP_NO_SYMLINKS | LOOKUP_NO_XDEV)

/* Sets V for a failure to look up the first LEN bytes of REL. */
static int pl_reject_lookup(struct pl_verdict *v, int err, const char *rel, int len)
{
	const char *what;

	switch (err) {
	case -ELOOP:
		what = "a symbolic link (none may be beneath a layer directory)";
		break;
	case -EXDEV:
		what = "on another mount than the layer directory";
		break;
	case -ENOENT:
		what = "does not exist";
		break;
	case -ENOTDIR:
		what = "not a directory";
		break;
	default:
		what = "cannot be looked up";
	}
	return pl_reject(v, err, "%.*s: %s", len, rel, what);
}

/*
 * Looks REL up beneath DIR one component at a time, each directory on the
 * way held to pl_check_metadata(); V says why not.
 */
static int pl_lookup_beneath(const struct path *dir, const char *rel,
			     struct path *res, struct pl_verdict *v)
{
	struct path cur = *dir, next;
	char *buf, *p, *comp;
	const char *why;
	int err = 0;

	buf = kstrdup(rel, GFP_KERNEL);
	if (!buf)
		return pl_reject(v, -ENOMEM, "out of memory");
	path_get(&cur);
	p = buf;
	while ((comp = strsep(&p, "/"))) {
		int len = comp - buf + strlen(comp);

		if (!*comp)
			continue;
		err = vfs_path_lookup(cur.dentry, cur.mnt, comp, PL_LOOKUP_BENEATH, &next);
		path_put(&cur);
		if (err) {
			pl_reject_lookup(v, err, rel, len);
			goto out;
		}
		cur = next;
		if (p && d_can_lookup(cur.dentry)) {
			err = pl_check_metadata(cur.dentry, &why);
			if (err) {
				path_put(&cur);
				pl_reject(v, err, "%.*s: %s", len, rel, why);
				goto out;
			}
		}
	}
	*res = cur;
out:
	kfree(buf);
	return err;
}

/*
 * Opens REL beneath DIR for reading: a regular file, else -EINVAL, and
 * never opened otherwise (a FIFO's open would block until a writer
 * comes); held to pl_check_metadata() as the directories on its way.
 */
static struct file *pl_open_beneath(const struct path *dir, const char *rel,
				    struct pl_verdict *v)
{
	struct file *file;
	struct path path;
	const char *why;
	int err;

	err = pl_lookup_beneath(dir, rel, &path, v);
	if (err)
		return ERR_PTR(err);
	if (!d_is_reg(path.dentry)) {
		path_put(&path);
		pl_reject(v, -EINVAL, "%s: not a regular file", rel);
		return ERR_PTR(-EINVAL);
	}
	err = pl_check_metadata(path.dentry, &why);
	if (err) {
		path_put(&path);
		pl_reject(v, err, "%s: %s", rel, why);
		return ERR_PTR(err);
	}
	file = pl_open_path_regular(&path);
	path_put(&path);
	if (IS_ERR(file))
		pl_reject(v, PTR_ERR(file), "%s: cannot be opened", rel);
	return file;
}

/*
 * Reads NAME beneath DIR whole, up to MAX bytes, into a kvmalloc'ed
 * buffer: what kernel_read_file() does, writers denied meanwhile, but the
 * buffer is sized by user space, so failing it is a quiet ENOMEM rather
 * than vmalloc's warning. An empty file is EINVAL. The kernel_read_file
 * LSM hooks are not asked: they know reads by purpose (module, firmware,
 * policy...), a layer is none of them, and 6.12's IPE warns on
 * READING_UNKNOWN. The signature is what vets these bytes.
 */
static ssize_t pl_read_layer_file(const struct path *dir, const char *name,
				  size_t max, void **buf, struct pl_verdict *v)
{
	struct file *file;
	loff_t size, pos = 0;
	char *data;
	ssize_t ret;

	*buf = NULL;
	file = pl_open_beneath(dir, name, v);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = deny_write_access(file);
	if (ret) {
		pl_reject(v, ret, "%s: open for writing elsewhere", name);
		goto out_put;
	}
	size = i_size_read(file_inode(file));
	if (size <= 0) {
		ret = pl_reject(v, -EINVAL, "%s: empty", name);
		goto out_allow;
	}
	if (size > max) {
		ret = pl_reject(v, -EFBIG, "%s: larger than %zu KiB", name, max / 1024);
		goto out_allow;
	}
	data = kvmalloc(size, GFP_KERNEL | __GFP_NOWARN);
	if (!data) {
		ret = pl_reject(v, -ENOMEM, "out of memory");
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
		pl_reject(v, ret, "%s: cannot be read", name);
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

static int pl_verify_manifest(const struct path *dir, const void *manifest, size_t len,
			      struct pl_verdict *v)
{
	void *sig;
	ssize_t sig_len;
	int err;

	sig_len = pl_read_layer_file(dir, "manifest.p7s", PL_SIGNATURE_MAX, &sig, v);
	if (sig_len == -ENOENT) {
		if (!pl_require_signature) {
			/* the lookup's refusal is not the verdict */
			v->err = 0;
			strscpy(v->reason, "verified, unsigned (require_signature=0)",
				sizeof(v->reason));
			return 0;
		}
		return pl_reject(v, -EKEYREJECTED, "manifest.p7s: missing, and signatures are required");
	}
	if (sig_len < 0)
		return sig_len;

	err = pl_verify_signature(manifest, len, sig, sig_len);
	kvfree(sig);
	if (err)
		return pl_reject(v, err, "manifest.p7s: signature rejected (bad, or signer not trusted)");
	return 0;
}

/* Opens, write-denies and checks one replacement, then checks its base. */
static int pl_verify_file(const struct path *dir, struct pl_layer_file *f,
			  struct pl_verdict *v)
{
	u8 digest[PL_SHA256_SIZE];
	struct path base_path;
	struct inode *real;
	struct file *base;
	char *rel;
	int err;

	rel = kasprintf(GFP_KERNEL, "files%s", f->target);
	if (!rel)
		return pl_reject(v, -ENOMEM, "out of memory");
	f->file = pl_open_beneath(dir, rel, v);
	kfree(rel);
	if (IS_ERR(f->file)) {
		err = PTR_ERR(f->file);
		f->file = NULL;
		return err;
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
	/* and its filesystem: a lazy umount must not leave f->base busy on it */
	f->base_mnt = mntget(base->f_path.mnt);
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
	/* some 160 bytes a file: 80 KiB for 512, too many pages to ask in a row */
	layer = kvzalloc(struct_size(layer, files, m.n_files), GFP_KERNEL);
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

/*
 * The layer directory itself, looked up as root wrote it, symlinks and
 * all: on a filesystem that holds verified bytes still, and root's.
 */
static int pl_open_dir(const char *dir, struct path *path, struct pl_verdict *v)
{
	struct super_block *sb;
	const char *why;
	int err;

	err = kern_path(dir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, path);
	if (err)
		return pl_reject(v, err, "the layer directory %s", err == -ENOENT ?
				 "does not exist" : err == -ENOTDIR ? "is not a directory" :
				 "cannot be looked up");
	sb = path->mnt->mnt_sb;
	if (!pl_fs_holds_still(sb)) {
		err = pl_reject(v, -EMEDIUMTYPE,
				"the layer directory is on %s, where verified bytes can change beneath the kernel",
				sb->s_type->name);
	} else {
		err = pl_check_metadata(path->dentry, &why);
		if (err)
			pl_reject(v, err, "the layer directory: %s", why);
	}
	if (err) {
		path_put(path);
		*path = (struct path){};	/* nothing for the caller to put */
	}
	return err;
}

/*
 * Two targets that reach one base (/lib and /usr/lib on a merged /usr):
 * the base is served by its inode, so one of them says it all, and two
 * could say different things.
 */
static int pl_check_alias(struct pl_layer *layer, size_t i, struct pl_verdict *v)
{
	for (size_t j = 0; j < i; j++)
		if (layer->files[j].base == layer->files[i].base)
			return pl_reject(v, -EINVAL, "base %s: the same file as base %s (list it once)",
					 layer->files[i].target, layer->files[j].target);
	return 0;
}

int pl_layer_load(const char *dir)
{
	struct pl_verdict v = { .err = 0, .reason = "verified" };
	struct pl_layer *layer = NULL;
	struct path dir_path = {};
	void *manifest = NULL;
	ssize_t len;
	int err;

	err = pl_check_dir(dir, &v);
	if (err)
		goto out;
	err = pl_open_dir(dir, &dir_path, &v);
	if (err)
		goto out;
	len = pl_read_layer_file(&dir_path, "manifest", PL_MANIFEST_MAX_SIZE, &manifest, &v);
	if (len < 0) {
		err = len;
		manifest = NULL;
		goto out;
	}
	/* the parser only ever sees bytes that passed the signature check */
	err = pl_verify_manifest(&dir_path, manifest, len, &v);
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

	for (size_t i = 0; i < layer->n_files && !err; i++) {
		err = pl_verify_file(&dir_path, &layer->files[i], &v);
		if (!err)
			err = pl_check_alias(layer, i, &v);
	}
	if (err)
		goto out;
	path_put(&dir_path);
	dir_path.mnt = NULL;
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
	if (dir_path.mnt)
		path_put(&dir_path);
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
