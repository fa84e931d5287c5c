// SPDX-License-Identifier: GPL-2.0
/*
 * Inodes and dentries of the patchlayer filesystem: lookup through to the
 * lower directory, attributes and permissions from the real inode.
 */
#include <linux/fs_stack.h>
#include <linux/namei.h>
#include <linux/xattr.h>

#include "fs.h"

static const struct inode_operations pl_dir_iops;
static const struct inode_operations pl_file_iops;
static const struct inode_operations pl_symlink_iops;
static const struct inode_operations pl_special_iops;

void pl_copy_attr(struct inode *inode)
{
	struct inode *real = pl_real_inode(inode);

	fsstack_copy_attr_all(inode, real);
	fsstack_copy_inode_size(inode, real);
}

static int pl_inode_test(struct inode *inode, void *real)
{
	return pl_real_inode(inode) == real;
}

static int pl_inode_set(struct inode *inode, void *real)
{
	inode->i_private = igrab(real);
	return inode->i_private ? 0 : -ESTALE;
}

/*
 * The patchlayer inode of REAL: one per real inode, so that hard links
 * share it as they do below.
 */
struct inode *pl_get_inode(struct super_block *sb, struct inode *real)
{
	struct inode *inode;

	inode = iget5_locked(sb, (unsigned long)real, pl_inode_test, pl_inode_set, real);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	inode->i_ino = real->i_ino;
	inode->i_generation = real->i_generation;
	inode->i_mode = real->i_mode;
	switch (real->i_mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &pl_dir_iops;
		inode->i_fop = &pl_dir_ops;
		break;
	case S_IFREG:
		inode->i_op = &pl_file_iops;
		inode->i_fop = &pl_file_ops;
		break;
	case S_IFLNK:
		inode->i_op = &pl_symlink_iops;
		break;
	default:
		inode->i_op = &pl_special_iops;
		init_special_inode(inode, real->i_mode, real->i_rdev);
		break;
	}
	pl_copy_attr(inode);
	unlock_new_inode(inode);
	return inode;
}

static struct dentry *pl_lookup(struct inode *dir, struct dentry *dentry,
				unsigned int flags)
{
	struct pl_fs_info *info = pl_sb_info(dir->i_sb);
	struct dentry *real_parent = pl_real_dentry(dentry->d_parent);
	struct inode *inode = NULL;
	struct dentry *real;

	real = lookup_one_unlocked(mnt_user_ns(info->lower.mnt), dentry->d_name.name,
				   real_parent, dentry->d_name.len);
	if (IS_ERR(real))
		return ERR_CAST(real);
	if (d_really_is_positive(real)) {
		inode = pl_get_inode(dir->i_sb, d_inode(real));
		if (IS_ERR(inode)) {
			dput(real);
			return ERR_CAST(inode);
		}
	}
	/* negative too: the real dentry tells revalidation when it appears */
	dentry->d_fsdata = real;
	return d_splice_alias(inode, dentry);
}

static int pl_permission(struct user_namespace *mnt_userns, struct inode *inode, int mask)
{
	struct pl_fs_info *info = pl_sb_info(inode->i_sb);

	return inode_permission(mnt_user_ns(info->lower.mnt), pl_real_inode(inode), mask);
}

static int pl_getattr(struct user_namespace *mnt_userns, const struct path *path,
		      struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct path real;
	int err;

	pl_real_path(path->dentry, &real);
	/* the base's own answer: its device and inode numbers included */
	err = vfs_getattr(&real, stat, request_mask, flags);
	if (!err)
		pl_copy_attr(d_inode(path->dentry));
	return err;
}

static const char *pl_get_link(struct dentry *dentry, struct inode *inode,
			       struct delayed_call *done)
{
	if (!dentry)
		return ERR_PTR(-ECHILD);
	return vfs_get_link(pl_real_dentry(dentry), done);
}

static ssize_t pl_listxattr(struct dentry *dentry, char *list, size_t size)
{
	return vfs_listxattr(pl_real_dentry(dentry), list, size);
}

static const struct inode_operations pl_dir_iops = {
	.lookup = pl_lookup,
	.create = pl_create,
	.mkdir = pl_mkdir,
	.mknod = pl_mknod,
	.symlink = pl_symlink,
	.link = pl_link,
	.unlink = pl_unlink,
	.rmdir = pl_rmdir,
	.rename = pl_rename,
	.permission = pl_permission,
	.getattr = pl_getattr,
	.setattr = pl_setattr,
	.listxattr = pl_listxattr,
};

static const struct inode_operations pl_file_iops = {
	.permission = pl_permission,
	.getattr = pl_getattr,
	.setattr = pl_setattr,
	.listxattr = pl_listxattr,
};

static const struct inode_operations pl_symlink_iops = {
	.get_link = pl_get_link,
	.getattr = pl_getattr,
	.setattr = pl_setattr,
	.listxattr = pl_listxattr,
};

static const struct inode_operations pl_special_iops = {
	.permission = pl_permission,
	.getattr = pl_getattr,
	.setattr = pl_setattr,
	.listxattr = pl_listxattr,
};

/*
 * A dentry stays valid while its real dentry does: still hashed, still of
 * the same positivity, and valid to the lower filesystem itself.
 */
static int pl_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct dentry *real = pl_real_dentry(dentry);

	if (!real)
		return 1;
	if (d_unhashed(real))
		return 0;
	if (d_really_is_negative(dentry) != d_really_is_negative(real))
		return 0;
	if (d_really_is_positive(dentry) &&
	    pl_real_inode(d_inode(dentry)) != d_inode(real))
		return 0;
	if (real->d_flags & DCACHE_OP_REVALIDATE) {
		if (flags & LOOKUP_RCU)
			return -ECHILD;
		return real->d_op->d_revalidate(real, flags);
	}
	return 1;
}

/*
 * A regular file is opened on the real inode under our path; a stacked
 * lower filesystem (overlayfs, ecryptfs) finds its own dentry for that
 * inode through file_dentry(), which asks us here.
 */
static struct dentry *pl_d_real(struct dentry *dentry, const struct inode *inode)
{
	struct dentry *real;

	if (inode && d_inode(dentry) == inode)
		return dentry;
	if (!d_is_reg(dentry)) {
		if (!inode)
			return dentry;
		goto bug;
	}
	real = d_real(pl_real_dentry(dentry), inode);
	if (!inode || inode == d_inode(real))
		return real;
bug:
	WARN(1, "%s(%pd4, %s:%lu): real dentry not found\n", __func__, dentry,
	     inode ? inode->i_sb->s_id : "NULL", inode ? inode->i_ino : 0);
	return dentry;
}

static void pl_d_release(struct dentry *dentry)
{
	dput(dentry->d_fsdata);
}

const struct dentry_operations pl_dentry_ops = {
	.d_revalidate = pl_d_revalidate,
	.d_release = pl_d_release,
	.d_real = pl_d_real,
};
