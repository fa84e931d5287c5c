// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX ACLs, where the kernel has inode operations for them (6.2 on;
 * before, they pass through the catch-all xattr handler of fs_super.c):
 * the base's, read and changed there, as xattrs are.
 */
#include <linux/fs.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

#include "fs.h"

/* Never cached in our inode: the real inode's ACL is the only one. */
void pl_acl_no_cache(struct inode *inode)
{
#ifdef CONFIG_FS_POSIX_ACL
	inode->i_acl = ACL_DONT_CACHE;
	inode->i_default_acl = ACL_DONT_CACHE;
#endif
}

#ifdef PL_HAVE_ACL_IOPS
struct posix_acl *pl_get_acl(struct pl_idmap *idmap, struct dentry *dentry, int type)
{
	const struct cred *old = pl_override_creds(dentry->d_sb);
	struct posix_acl *acl;

	acl = vfs_get_acl(pl_real_idmap(dentry->d_sb), pl_lower_dentry(dentry),
			  posix_acl_xattr_name(type));
	revert_creds(old);
	/* none is NULL to the VFS, which makes it ENODATA itself */
	return acl == ERR_PTR(-ENODATA) ? NULL : acl;
}

int pl_set_acl(struct pl_idmap *idmap, struct dentry *dentry, struct posix_acl *acl, int type)
{
	struct pl_fs_info *info = pl_sb_info(dentry->d_sb);
	struct pl_idmap *real_idmap = pl_mnt_idmap(info->lower.mnt);
	const char *name = posix_acl_xattr_name(type);
	struct dentry *base = pl_lower_dentry(dentry);
	int err;

	err = pl_change_allowed(dentry);
	if (err)
		return err;
	err = mnt_want_write(info->lower.mnt);
	if (err)
		return err;
	if (acl)
		err = vfs_set_acl(real_idmap, base, name, acl);
	else
		err = vfs_remove_acl(real_idmap, base, name);
	mnt_drop_write(info->lower.mnt);
	pl_copy_attr(d_inode(dentry));
	return err;
}
#endif
