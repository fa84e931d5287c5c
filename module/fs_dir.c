// SPDX-License-Identifier: GPL-2.0
/*
 * Changes to a protected directory pass through to the real directory, so
 * that dpkg and apt work unchanged on it: create, mkdir, mknod, symlink,
 * link, unlink, rmdir, rename and setattr, each done by the VFS helper on
 * the real objects under the real locks.
 */
#include <linux/fs_stack.h>
#include <linux/namei.h>

#include "fs.h"
#include "patchlayer.h"

/*
 * A redirected name is read-only, its metadata too, as a write to its
 * replacement is (ETXTBSY): a change would reach the base, which the
 * layer's content stands in for, while the caller checked its permission
 * on what the name serves. So is a base that an active layer redirects
 * for processes that still see the base: it is the layer's verified base.
 */
int pl_change_allowed(struct dentry *dentry)
{
	struct pl_dentry *pd = pl_dentry(dentry);

	if (!pd || d_really_is_negative(dentry))
		return 0;
	if (pd->layer || (d_is_reg(pd->base) && pl_redirect_active(d_inode(pd->base))))
		return -ETXTBSY;
	return 0;
}

/*
 * Makes DENTRY stand for the real dentry REAL, just created or linked
 * below. Consumes the reference on REAL. A new inode is never redirected,
 * a new link to an old one may be, in some process's view.
 */
static int pl_instantiate(struct dentry *dentry, struct dentry *real)
{
	struct path real_path = { .mnt = pl_sb_info(dentry->d_sb)->lower.mnt };
	struct pl_dentry *pd, *old;
	struct inode *inode;

	/* some filesystems leave the new dentry unhashed (see overlayfs) */
	if (d_unhashed(real) || d_really_is_negative(real)) {
		struct dentry *again = lookup_one(pl_real_idmap(dentry->d_sb),
						  real->d_name.name, real->d_parent,
						  real->d_name.len);

		dput(real);
		if (IS_ERR(again))
			return PTR_ERR(again);
		if (d_really_is_negative(again)) {
			dput(again);
			return -ENOENT;
		}
		real = again;
	}
	real_path.dentry = real;
	pd = pl_dentry_alloc(&real_path, real);
	dput(real);
	if (!pd)
		return -ENOMEM;
	dentry->d_time = pl_redirect_generation();	/* then the table, as lookup */
	if (d_is_reg(pd->base))
		pl_redirect_get(d_inode(pd->base), pd);
	inode = pl_get_inode(dentry->d_sb, d_inode(pd->real.dentry), d_inode(pd->base));
	if (IS_ERR(inode)) {
		pl_dentry_free(pd);
		return PTR_ERR(inode);
	}
	/*
	 * The negative dentry's record may still be read by a revalidation
	 * (pl_d_revalidate): published with release, freed after a grace period.
	 */
	old = dentry->d_fsdata;
	smp_store_release(&dentry->d_fsdata, pd);
	pl_dentry_free(old);
	d_instantiate(dentry, inode);
	return 0;
}

enum pl_create_kind { PL_CREATE, PL_MKDIR, PL_MKNOD, PL_SYMLINK, PL_LINK };

struct pl_create_args {
	enum pl_create_kind kind;
	umode_t mode;
	dev_t rdev;
	bool excl;
	const char *symname;
	struct dentry *old;	/* PL_LINK: the existing name */
};

/* Creates the real counterpart of DENTRY in the real parent directory. */
static int pl_create_object(struct inode *dir, struct dentry *dentry,
			    const struct pl_create_args *a)
{
	struct pl_fs_info *info = pl_sb_info(dir->i_sb);
	struct pl_idmap *idmap = pl_mnt_idmap(info->lower.mnt);
	struct dentry *real_parent = pl_real_dentry(dentry->d_parent);
	struct inode *rdir = d_inode(real_parent);
	struct dentry *real;
	int err;

	err = mnt_want_write(info->lower.mnt);
	if (err)
		return err;
	inode_lock_nested(rdir, I_MUTEX_PARENT);
	real = lookup_one(idmap, dentry->d_name.name, real_parent, dentry->d_name.len);
	if (IS_ERR(real)) {
		err = PTR_ERR(real);
		goto out_unlock;
	}
	if (d_really_is_positive(real)) {
		dput(real);
		err = -EEXIST;
		goto out_unlock;
	}
	switch (a->kind) {
	case PL_CREATE:
		err = vfs_create(idmap, rdir, real, a->mode, a->excl);
		break;
	case PL_MKDIR:
		err = vfs_mkdir(idmap, rdir, real, a->mode);
		break;
	case PL_MKNOD:
		err = vfs_mknod(idmap, rdir, real, a->mode, a->rdev);
		break;
	case PL_SYMLINK:
		err = vfs_symlink(idmap, rdir, real, a->symname);
		break;
	case PL_LINK:
		err = vfs_link(pl_lower_dentry(a->old), idmap, rdir, real, NULL);
		if (!err)
			pl_copy_attr(d_inode(a->old));	/* i_nlink */
		break;
	}
	if (err)
		dput(real);
	else
		err = pl_instantiate(dentry, real);
	pl_copy_attr(dir);
out_unlock:
	inode_unlock(rdir);
	mnt_drop_write(info->lower.mnt);
	return err;
}

int pl_create(struct pl_idmap *idmap, struct inode *dir,
		     struct dentry *dentry, umode_t mode, bool excl)
{
	struct pl_create_args a = { .kind = PL_CREATE, .mode = mode, .excl = excl };

	return pl_create_object(dir, dentry, &a);
}

int pl_mkdir(struct pl_idmap *idmap, struct inode *dir,
		    struct dentry *dentry, umode_t mode)
{
	struct pl_create_args a = { .kind = PL_MKDIR, .mode = mode };

	return pl_create_object(dir, dentry, &a);
}

int pl_mknod(struct pl_idmap *idmap, struct inode *dir,
		    struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct pl_create_args a = { .kind = PL_MKNOD, .mode = mode, .rdev = rdev };

	return pl_create_object(dir, dentry, &a);
}

int pl_symlink(struct pl_idmap *idmap, struct inode *dir,
		      struct dentry *dentry, const char *symname)
{
	struct pl_create_args a = { .kind = PL_SYMLINK, .symname = symname };

	return pl_create_object(dir, dentry, &a);
}

/*
 * A link to a redirected base is allowed (dpkg links the old file as its
 * backup before renaming the new one over it): it changes no content, and
 * the new name serves what the old one does (pl_instantiate).
 */
int pl_link(struct dentry *old, struct inode *dir, struct dentry *new)
{
	struct pl_create_args a = { .kind = PL_LINK, .old = old };

	return pl_create_object(dir, new, &a);
}

/*
 * unlink and rmdir act on the lower name, looked up again under the lock.
 * A base that an active layer redirects is gone: the layer is superseded.
 */
static int pl_remove(struct inode *dir, struct dentry *dentry, bool is_dir)
{
	struct pl_fs_info *info = pl_sb_info(dir->i_sb);
	struct pl_idmap *idmap = pl_mnt_idmap(info->lower.mnt);
	struct dentry *real_parent = pl_real_dentry(dentry->d_parent);
	struct inode *rdir = d_inode(real_parent);
	struct dentry *real;
	int err;

	err = mnt_want_write(info->lower.mnt);
	if (err)
		return err;
	inode_lock_nested(rdir, I_MUTEX_PARENT);
	real = lookup_one(idmap, dentry->d_name.name, real_parent, dentry->d_name.len);
	if (IS_ERR(real)) {
		err = PTR_ERR(real);
		goto out_unlock;
	}
	if (d_really_is_negative(real)) {
		err = -ENOENT;
	} else {
		if (is_dir)
			err = vfs_rmdir(idmap, rdir, real);
		else
			err = vfs_unlink(idmap, rdir, real, NULL);
	}
	dput(real);
	pl_copy_attr(dir);
out_unlock:
	inode_unlock(rdir);
	if (!err)
		pl_copy_attr(d_inode(dentry));	/* i_nlink */
	mnt_drop_write(info->lower.mnt);
	return err;
}

int pl_unlink(struct inode *dir, struct dentry *dentry)
{
	return pl_remove(dir, dentry, false);
}

int pl_rmdir(struct inode *dir, struct dentry *dentry)
{
	return pl_remove(dir, dentry, true);
}

int pl_rename(struct pl_idmap *idmap, struct inode *old_dir,
	      struct dentry *old, struct inode *new_dir, struct dentry *new,
	      unsigned int flags)
{
	struct pl_fs_info *info = pl_sb_info(old_dir->i_sb);
	struct pl_idmap *real_idmap = pl_mnt_idmap(info->lower.mnt);
	struct dentry *real_old_parent = pl_real_dentry(old->d_parent);
	struct dentry *real_new_parent = pl_real_dentry(new->d_parent);
	struct dentry *real_old, *real_new, *trap;
	struct renamedata rd = { };
	int err;

	err = mnt_want_write(info->lower.mnt);
	if (err)
		return err;
	/* since 6.7, an error when the parents have no common ancestor */
	trap = lock_rename(real_new_parent, real_old_parent);
	if (IS_ERR(trap)) {
		err = PTR_ERR(trap);
		goto out_drop;
	}
	real_old = lookup_one(real_idmap, old->d_name.name, real_old_parent, old->d_name.len);
	if (IS_ERR(real_old)) {
		err = PTR_ERR(real_old);
		goto out_unlock;
	}
	err = -ENOENT;
	if (d_really_is_negative(real_old))
		goto out_put_old;
	real_new = lookup_one(real_idmap, new->d_name.name, real_new_parent, new->d_name.len);
	if (IS_ERR(real_new)) {
		err = PTR_ERR(real_new);
		goto out_put_old;
	}
	err = -EINVAL;		/* source is an ancestor of the target */
	if (real_old == trap)
		goto out_put;
	err = -ENOTEMPTY;	/* target is an ancestor of the source */
	if (real_new == trap)
		goto out_put;

	pl_renamedata_set_idmap(&rd, real_idmap);
	rd.old_dir = d_inode(real_old_parent);
	rd.old_dentry = real_old;
	rd.new_dir = d_inode(real_new_parent);
	rd.new_dentry = real_new;
	rd.flags = flags;
	err = vfs_rename(&rd);
	if (!err && d_really_is_positive(new) && !(flags & RENAME_EXCHANGE))
		pl_copy_attr(d_inode(new));	/* the replaced inode's i_nlink */
	pl_copy_attr(old_dir);
	pl_copy_attr(new_dir);
out_put:
	dput(real_new);
out_put_old:
	dput(real_old);
out_unlock:
	unlock_rename(real_new_parent, real_old_parent);
out_drop:
	mnt_drop_write(info->lower.mnt);
	return err;
}

int pl_setattr(struct pl_idmap *idmap, struct dentry *dentry,
		      struct iattr *attr)
{
	struct pl_fs_info *info = pl_sb_info(dentry->d_sb);
	struct dentry *real = pl_lower_dentry(dentry);	/* the base, not a replacement */
	struct inode *rinode = d_inode(real);
	unsigned int kill_priv = attr->ia_valid & ATTR_KILL_PRIV;
	int err;

	err = pl_change_allowed(dentry);
	if (err)
		return err;
	/*
	 * The capability goes in the real notify_change, as the filesystem's
	 * own: asked here, it would be removed through our xattr handler as
	 * the caller's removexattr, which needs CAP_SETFCAP (as overlayfs,
	 * which removes it under the mounter's credentials instead).
	 */
	attr->ia_valid &= ~ATTR_KILL_PRIV;
	err = setattr_prepare(idmap, dentry, attr);
	attr->ia_valid |= kill_priv;
	if (err)
		return err;
	err = mnt_want_write(info->lower.mnt);
	if (err)
		return err;
	if (attr->ia_valid & ATTR_SIZE) {
		/* a truncate is a write: refused on a write-denied inode */
		err = get_write_access(rinode);
		if (err)
			goto out_drop;
	}
	if (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr->ia_valid &= ~ATTR_MODE;
	/* ia_file is our file, unknown to the real filesystem */
	attr->ia_valid &= ~(ATTR_FILE | ATTR_OPEN);

	inode_lock(rinode);
	err = notify_change(pl_mnt_idmap(info->lower.mnt), real, attr, NULL);
	inode_unlock(rinode);
	pl_copy_attr(d_inode(dentry));
	if (attr->ia_valid & ATTR_SIZE)
		put_write_access(rinode);
out_drop:
	mnt_drop_write(info->lower.mnt);
	return err;
}
