// SPDX-License-Identifier: GPL-2.0
/*
 * Inodes and dentries of the patchlayer filesystem: lookup through to the
 * lower directory, attributes and permissions from the real inode.
 */
#include <linux/fs_stack.h>
#include <linux/lockref.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "fs.h"
#include "patchlayer.h"

static struct kmem_cache *pl_dentry_cachep;
static struct kmem_cache *pl_inode_cachep;

struct inode *pl_alloc_inode(struct super_block *sb)
{
	struct pl_inode *pi = alloc_inode_sb(sb, pl_inode_cachep, GFP_KERNEL);

	if (!pi)
		return NULL;
	pi->meta = NULL;
	return &pi->vfs_inode;
}

void pl_free_inode(struct inode *inode)
{
	kmem_cache_free(pl_inode_cachep, container_of(inode, struct pl_inode, vfs_inode));
}

static void pl_inode_init_once(void *p)
{
	inode_init_once(&((struct pl_inode *)p)->vfs_inode);
}

/* Takes references on REAL and BASE. */
struct pl_dentry *pl_dentry_alloc(const struct path *real, struct dentry *base)
{
	struct pl_dentry *pd = kmem_cache_zalloc(pl_dentry_cachep, GFP_KERNEL);

	if (!pd)
		return NULL;
	pd->real = *real;
	path_get(&pd->real);
	pd->base = dget(base);
	pd->view_to = U64_MAX;
	return pd;
}

static void pl_dentry_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(pl_dentry_cachep, container_of(rcu, struct pl_dentry, rcu));
}

/*
 * The references go now; the memory after a grace period, because an
 * RCU-walk revalidation may still read it. (Dentries are RCU-freed too, so
 * reading the base dentry there is safe.)
 */
void pl_dentry_free(struct pl_dentry *pd)
{
	if (!pd)
		return;
	path_put(&pd->real);
	dput(pd->base);
	if (pd->layer)
		pl_layer_put(pd->layer);
	call_rcu(&pd->rcu, pl_dentry_free_rcu);
}

int __init pl_fs_inode_init(void)
{
	pl_dentry_cachep = KMEM_CACHE(pl_dentry, SLAB_RECLAIM_ACCOUNT);
	if (!pl_dentry_cachep)
		return -ENOMEM;
	pl_inode_cachep = kmem_cache_create("pl_inode", sizeof(struct pl_inode), 0,
					    SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					    pl_inode_init_once);
	if (!pl_inode_cachep) {
		kmem_cache_destroy(pl_dentry_cachep);
		return -ENOMEM;
	}
	return 0;
}

void pl_fs_inode_exit(void)
{
	rcu_barrier();	/* pl_dentry_free_rcu and ->free_inode callbacks */
	kmem_cache_destroy(pl_dentry_cachep);
	kmem_cache_destroy(pl_inode_cachep);
}

static const struct inode_operations pl_dir_iops;
static const struct inode_operations pl_file_iops;
static const struct inode_operations pl_symlink_iops;
static const struct inode_operations pl_special_iops;

/*
 * Mode (setuid included), owner, times and link count are the base's, so
 * that exec, permission checks and stat see the base; the size is that of
 * the content served.
 */
void pl_copy_attr(struct inode *inode)
{
	fsstack_copy_attr_all(inode, pl_meta_inode(inode));
	fsstack_copy_inode_size(inode, pl_real_inode(inode));
}

struct pl_inode_key {
	struct inode *real, *meta;
};

static int pl_inode_test(struct inode *inode, void *data)
{
	const struct pl_inode_key *key = data;

	return pl_real_inode(inode) == key->real && pl_meta_inode(inode) == key->meta;
}

static int pl_inode_set(struct inode *inode, void *data)
{
	const struct pl_inode_key *key = data;
	struct pl_inode *pi = container_of(inode, struct pl_inode, vfs_inode);

	inode->i_private = igrab(key->real);
	if (!inode->i_private)
		return -ESTALE;
	pi->meta = igrab(key->meta);
	if (!pi->meta) {
		/* under inode_hash_lock: never the last reference, the caller pins REAL */
		iput(key->real);
		inode->i_private = NULL;
		return -ESTALE;
	}
	return 0;
}

/*
 * The patchlayer inode serving REAL's content with META's metadata: one
 * per pair, so that hard links share it as they do below. META is REAL
 * unless a layer redirects the name (REAL is then its replacement).
 */
struct inode *pl_get_inode(struct super_block *sb, struct inode *real, struct inode *meta)
{
	struct pl_inode_key key = { .real = real, .meta = meta };
	struct inode *inode;

	/* by REAL alone: REAL ^ META is 0 for every name no layer redirects */
	inode = iget5_locked(sb, (unsigned long)real, pl_inode_test, pl_inode_set, &key);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	/* the identity of what is served, as stat reports it */
	inode->i_ino = real->i_ino;
	inode->i_generation = real->i_generation;
	inode->i_mode = meta->i_mode;
	pl_acl_no_cache(inode);
	switch (real->i_mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &pl_dir_iops;
		inode->i_fop = &pl_dir_ops;
		break;
	case S_IFREG:
		inode->i_op = &pl_file_iops;
		inode->i_fop = &pl_file_ops;
		inode->i_mapping->a_ops = &pl_file_aops;
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
	struct path real = { .mnt = info->lower.mnt };
	struct inode *inode = NULL;
	struct pl_dentry *pd;

	real.dentry = lookup_one_unlocked(pl_mnt_idmap(info->lower.mnt), dentry->d_name.name,
					  real_parent, dentry->d_name.len);
	if (IS_ERR(real.dentry))
		return ERR_CAST(real.dentry);
	pd = pl_dentry_alloc(&real, real.dentry);
	dput(real.dentry);
	if (!pd)
		return ERR_PTR(-ENOMEM);
	/* then the generation: a table published after it makes us look again */
	if (pl_view_settle()) {
		pl_dentry_free(pd);
		return ERR_PTR(-EINTR);
	}
	dentry->d_time = pl_redirect_generation();
	if (d_is_reg(pd->base))
		pl_redirect_get(d_inode(pd->base), pd);
	if (d_really_is_positive(pd->real.dentry)) {
		inode = pl_get_inode(dir->i_sb, d_inode(pd->real.dentry), d_inode(pd->base));
		if (IS_ERR(inode)) {
			pl_dentry_free(pd);
			return ERR_CAST(inode);
		}
	}
	/* negative too: the base tells revalidation when the name appears */
	dentry->d_fsdata = pd;
	return d_splice_alias(inode, dentry);
}

/* Resolves TARGET to its lower (base) path; -EXDEV unless on a patchlayer mount. */
int pl_fs_lower_path(const char *target, struct path *lower)
{
	struct path p;
	int err;

	err = kern_path(target, 0, &p);
	if (err)
		return err;
	if (p.dentry->d_sb->s_op != &pl_super_ops || !pl_dentry(p.dentry)) {
		path_put(&p);
		return -EXDEV;
	}
	lower->mnt = mntget(pl_sb_info(p.dentry->d_sb)->lower.mnt);
	lower->dentry = dget(pl_lower_dentry(p.dentry));
	path_put(&p);
	return 0;
}

/*
 * The caller's own access, checked with the caller's credentials on the
 * base inode, whose mode, owner and ACLs the name serves.
 */
static int pl_permission(struct pl_idmap *idmap, struct inode *inode, int mask)
{
	return inode_permission(pl_real_idmap(inode->i_sb), pl_meta_inode(inode), mask);
}

/*
 * The base's own answer; for a redirected name, the identity (device and
 * inode numbers: what is mapped, what a loader or needrestart compares),
 * size and blocks of its replacement, and nothing else of the layer's file.
 */
static int pl_getattr(struct pl_idmap *idmap, const struct path *path,
		      struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct pl_dentry *pd = pl_dentry(path->dentry);
	struct path base = { .mnt = pl_sb_info(path->dentry->d_sb)->lower.mnt,
			     .dentry = pd->base };
	const struct cred *old;
	struct kstat content;
	int err;

	old = pl_override_creds(path->dentry->d_sb);
	err = pl_vfs_getattr(&base, stat, request_mask, flags);
	if (!err && pd->layer) {
		err = pl_vfs_getattr(&pd->real, &content,
				     STATX_INO | STATX_SIZE | STATX_BLOCKS, flags);
		if (!err) {
			stat->dev = content.dev;
			stat->ino = content.ino;
			stat->size = content.size;
			stat->blocks = content.blocks;
		}
	}
	revert_creds(old);
	if (!err)
		pl_copy_attr(d_inode(path->dentry));
	return err;
}

static const char *pl_get_link(struct dentry *dentry, struct inode *inode,
			       struct delayed_call *done)
{
	const struct cred *old;
	const char *link;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	old = pl_override_creds(dentry->d_sb);
	link = vfs_get_link(pl_real_dentry(dentry), done);
	revert_creds(old);
	return link;
}

/* The base's xattrs, as getxattr reads them: never a layer file's. */
static ssize_t pl_listxattr(struct dentry *dentry, char *list, size_t size)
{
	const struct cred *old = pl_override_creds(dentry->d_sb);
	ssize_t ret;

	ret = vfs_listxattr(pl_lower_dentry(dentry), list, size);
	revert_creds(old);
	return ret;
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
	PL_ACL_IOPS
};

static const struct inode_operations pl_file_iops = {
	.permission = pl_permission,
	.getattr = pl_getattr,
	.setattr = pl_setattr,
	.listxattr = pl_listxattr,
	PL_ACL_IOPS
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
	PL_ACL_IOPS
};

/*
 * A dentry stays valid while its base does (still hashed, same inode, valid
 * to the lower filesystem) and, for a regular file, while no layer was
 * activated or dropped since it was looked up and the caller's view of the
 * layers (its start time) is one the answer holds for.
 *
 * In ref-walk as in RCU-walk the record is read under RCU: the create of a
 * name (pl_instantiate) replaces a negative dentry's record under the
 * parent's lock, which a revalidation does not take; the old record is
 * freed after a grace period, and its base may lose its last reference
 * meanwhile, so the base is pinned before the lower revalidation sleeps.
 */
static int pl_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct pl_dentry *pd;
	struct dentry *base;
	struct inode *inode;
	int ret = 1;
	u64 view;

	rcu_read_lock();
	pd = smp_load_acquire(&dentry->d_fsdata);
	if (!pd)
		goto out;
	base = pd->base;
	ret = 0;
	if (d_is_reg(base)) {
		view = pl_view_time();
		/* a change this process belongs to, not published yet: wait in lookup */
		if (pl_view_pending(view)) {
			ret = flags & LOOKUP_RCU ? -ECHILD : 0;
			goto out;
		}
		/*
		 * A name no layer serves in any view serves its base whatever
		 * changed: it is not looked up again, which would also detach
		 * what is mounted on it (the table is read after the
		 * generation, so it is at least as new).
		 */
		if ((READ_ONCE(dentry->d_time) != pl_redirect_generation() ||
		     view < pd->view_from || view >= pd->view_to) &&
		    (pd->layer || pl_redirect_known(d_inode_rcu(base))))
			goto out;
	}
	if (d_unhashed(base))
		goto out;
	/* once: an unlink may make either negative under RCU walk */
	inode = d_inode_rcu(dentry);
	if (!inode != d_really_is_negative(base))
		goto out;
	if (inode && !pd->layer && pl_real_inode(inode) != d_inode_rcu(base))
		goto out;
	ret = 1;
	if (base->d_flags & DCACHE_OP_REVALIDATE) {
		if (flags & LOOKUP_RCU) {
			ret = -ECHILD;
			goto out;
		}
		if (!lockref_get_not_dead(&base->d_lockref)) {
			ret = 0;
			goto out;
		}
		rcu_read_unlock();
		ret = base->d_op->d_revalidate(base, flags);
		dput(base);
		return ret;
	}
out:
	rcu_read_unlock();
	return ret;
}

/*
 * The real dentry of a regular file: what d_real_inode() reports (uprobes,
 * fanotify), and before 6.8, what a stacked lower filesystem (overlayfs,
 * ecryptfs) finds through file_dentry() for the real file we opened under
 * our path, when asked for the dentry of INODE.
 */
static struct dentry *pl_d_real(struct dentry *dentry, pl_d_real_arg arg)
{
	const struct inode *inode = pl_d_real_inode(arg);
	struct dentry *real;

	if (inode && d_inode(dentry) == inode)
		return dentry;
	if (!d_is_reg(dentry)) {
		if (!inode)
			return dentry;
		goto bug;
	}
	real = d_real(pl_real_dentry(dentry), arg);
	if (!inode || inode == d_inode(real))
		return real;
bug:
	WARN(1, "%s(%pd4, %s:%lu): real dentry not found\n", __func__, dentry,
	     inode ? inode->i_sb->s_id : "NULL", inode ? inode->i_ino : 0);
	return dentry;
}

static void pl_d_release(struct dentry *dentry)
{
	pl_dentry_free(dentry->d_fsdata);
}

const struct dentry_operations pl_dentry_ops = {
	.d_revalidate = pl_d_revalidate,
	.d_release = pl_d_release,
	.d_real = pl_d_real,
};
