/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The patchlayer filesystem: a directory mounted over itself, served
 * through to the directory underneath (the lower), modelled on overlayfs's
 * passthrough of files.
 *
 * Every patchlayer dentry knows the real file it serves and the lower
 * (base) dentry of its name (struct pl_dentry in d_fsdata): the two are
 * the same unless an active layer redirects the name to its replacement.
 * Every patchlayer inode wraps the real inode it serves the content of
 * (i_private) and the base inode it serves the metadata of (struct
 * pl_inode): the same but for a redirected name, whose layer replaces
 * content only. Hard links share one inode as on the lower. Files are
 * opened on the real inode and mmap() hands the VMA the real file, as
 * overlayfs does.
 */
#ifndef _PATCHLAYER_FS_H
#define _PATCHLAYER_FS_H

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mount.h>
#include <linux/path.h>

#include "compat.h"

#define PATCHLAYER_SUPER_MAGIC 0x504c4159	/* "PLAY" */

struct pl_fs_info {
	struct path lower;		/* a private clone of the lower mount */
	char *lowerdir;			/* as given at mount time */
	struct list_head node;		/* in the mount registry */
	const struct cred *creator_cred;	/* the mounter's: see pl_override_creds */
};

static inline struct pl_fs_info *pl_sb_info(const struct super_block *sb)
{
	return sb->s_fs_info;
}

/*
 * Real objects are read under the mounter's credentials, as overlayfs
 * does (module/compat.h says why). The caller's own access is checked on
 * our inode first (pl_permission); changes to the base keep the caller's.
 */
static inline const struct cred *pl_creds(const struct super_block *sb)
{
	return pl_sb_info(sb)->creator_cred;
}

static inline const struct cred *pl_override_creds(const struct super_block *sb)
{
	return override_creds(pl_creds(sb));
}

static inline struct pl_idmap *pl_real_idmap(const struct super_block *sb)
{
	return pl_mnt_idmap(pl_sb_info(sb)->lower.mnt);
}

struct pl_layer;

struct pl_dentry {
	struct rcu_head rcu;		/* RCU-walk may read it after d_release */
	struct path real;		/* what the name serves */
	struct dentry *base;		/* the lower dentry of the name */
	struct pl_layer *layer;		/* the redirecting layer, or NULL */
	unsigned int file;		/* its file record, when redirected */
	/* the process start times this answer holds for (pl_redirect_get) */
	u64 view_from, view_to;
};

static inline struct pl_dentry *pl_dentry(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

/* The real dentry whose content DENTRY serves. */
static inline struct dentry *pl_real_dentry(const struct dentry *dentry)
{
	return pl_dentry(dentry)->real.dentry;
}

/* The lower dentry of DENTRY's name: what changes to the name act on. */
static inline struct dentry *pl_lower_dentry(const struct dentry *dentry)
{
	return pl_dentry(dentry)->base;
}

struct pl_inode {
	struct inode *meta;	/* the base: mode, owner, times, xattrs, ACLs */
	struct inode vfs_inode;	/* i_private: the real inode, the content */
};

static inline struct inode *pl_real_inode(const struct inode *inode)
{
	return inode->i_private;
}

/*
 * The inode whose metadata INODE serves: the base's, never a layer file's
 * (a layer directory is untrusted; the signature covers content only).
 */
static inline struct inode *pl_meta_inode(const struct inode *inode)
{
	return container_of(inode, struct pl_inode, vfs_inode)->meta;
}

/* The real path whose content DENTRY serves; no reference taken. */
static inline void pl_real_path(const struct dentry *dentry, struct path *path)
{
	*path = pl_dentry(dentry)->real;
}

extern const struct dentry_operations pl_dentry_ops;
extern const struct super_operations pl_super_ops;
int __init pl_fs_inode_init(void);
void pl_fs_inode_exit(void);
extern const struct file_operations pl_file_ops;
extern const struct file_operations pl_dir_ops;
extern const struct address_space_operations pl_file_aops;

struct inode *pl_get_inode(struct super_block *sb, struct inode *real, struct inode *meta);
struct inode *pl_alloc_inode(struct super_block *sb);
void pl_free_inode(struct inode *inode);
void pl_copy_attr(struct inode *inode);
struct pl_dentry *pl_dentry_alloc(const struct path *real, struct dentry *base);
void pl_dentry_free(struct pl_dentry *pd);
int pl_change_allowed(struct dentry *dentry);
/* Resolves a target path to its lower base; -EXDEV if not on a patchlayer mount. */
int pl_fs_lower_path(const char *target, struct path *lower);

/* fs_dir.c: changes, passed through to the real directory */
int pl_create(struct pl_idmap *idmap, struct inode *dir,
	      struct dentry *dentry, umode_t mode, bool excl);
int pl_mkdir(struct pl_idmap *idmap, struct inode *dir,
	     struct dentry *dentry, umode_t mode);
int pl_mknod(struct pl_idmap *idmap, struct inode *dir,
	     struct dentry *dentry, umode_t mode, dev_t rdev);
int pl_symlink(struct pl_idmap *idmap, struct inode *dir,
	       struct dentry *dentry, const char *symname);
int pl_link(struct dentry *old, struct inode *dir, struct dentry *new);
int pl_unlink(struct inode *dir, struct dentry *dentry);
int pl_rmdir(struct inode *dir, struct dentry *dentry);
int pl_rename(struct pl_idmap *idmap, struct inode *old_dir,
	      struct dentry *old, struct inode *new_dir, struct dentry *new,
	      unsigned int flags);
int pl_setattr(struct pl_idmap *idmap, struct dentry *dentry,
	       struct iattr *attr);

/* fs_acl.c: POSIX ACLs, where they have inode operations of their own */
void pl_acl_no_cache(struct inode *inode);
#ifdef PL_HAVE_ACL_IOPS
struct posix_acl *pl_get_acl(struct pl_idmap *idmap, struct dentry *dentry, int type);
int pl_set_acl(struct pl_idmap *idmap, struct dentry *dentry, struct posix_acl *acl, int type);
#define PL_ACL_IOPS .get_acl = pl_get_acl, .set_acl = pl_set_acl,
#else
#define PL_ACL_IOPS
#endif

#endif /* _PATCHLAYER_FS_H */
