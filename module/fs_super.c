// SPDX-License-Identifier: GPL-2.0
/*
 * The patchlayer filesystem type: mount options, the superblock and the
 * registry of mounts that /sys/kernel/patchlayer/mounts lists.
 *
 *   mount -t patchlayer -o lowerdir=/usr/lib/x86_64-linux-gnu patchlayer \
 *         /usr/lib/x86_64-linux-gnu
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/xattr.h>

#include "fs.h"
#include "patchlayer.h"

static LIST_HEAD(pl_mounts);
static DEFINE_MUTEX(pl_mounts_lock);

static struct file_system_type pl_fs_type;

/* One line per mount: the protected (lower) directory. */
ssize_t pl_mounts_show(char *buf)
{
	struct pl_fs_info *info;
	ssize_t len = 0;

	mutex_lock(&pl_mounts_lock);
	list_for_each_entry(info, &pl_mounts, node)
		len += sysfs_emit_at(buf, len, "%s\n", info->lowerdir);
	mutex_unlock(&pl_mounts_lock);
	return len;
}

static int pl_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	const struct cred *old;
	struct path real;
	int err;

	pl_real_path(dentry, &real);
	/* the base's figures and type, as the base itself reports them */
	old = pl_override_creds(dentry->d_sb);
	err = vfs_statfs(&real, buf);
	revert_creds(old);
	return err;
}

static int pl_show_options(struct seq_file *m, struct dentry *root)
{
	seq_show_option(m, "lowerdir", pl_sb_info(root->d_sb)->lowerdir);
	return 0;
}

static void pl_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	iput(pl_real_inode(inode));
	iput(pl_meta_inode(inode));
}

const struct super_operations pl_super_ops = {
	.alloc_inode = pl_alloc_inode,
	.free_inode = pl_free_inode,
	.statfs = pl_statfs,
	.show_options = pl_show_options,
	.evict_inode = pl_evict_inode,
	.drop_inode = generic_delete_inode,
};

/*
 * Every extended attribute is the base's (security.capability and, before
 * 6.2, ACLs included): a layer replaces content, its files' own xattrs are
 * never served.
 */
static int pl_xattr_get(const struct xattr_handler *handler, struct dentry *dentry,
			struct inode *inode, const char *name, void *buffer, size_t size)
{
	const struct cred *old = pl_override_creds(inode->i_sb);
	int ret;

	ret = vfs_getxattr(pl_real_idmap(inode->i_sb), pl_lower_dentry(dentry), name,
			   buffer, size);
	revert_creds(old);
	return ret;
}

static int pl_xattr_set(const struct xattr_handler *handler,
			struct pl_idmap *idmap, struct dentry *dentry,
			struct inode *inode, const char *name, const void *value,
			size_t size, int flags)
{
	struct vfsmount *mnt = pl_sb_info(inode->i_sb)->lower.mnt;
	/* changes act on the base, as every change to a protected name */
	struct dentry *real = pl_lower_dentry(dentry);
	int err;

	err = pl_change_allowed(dentry);
	if (err)
		return err;
	err = mnt_want_write(mnt);
	if (err)
		return err;
	if (value)
		err = vfs_setxattr(pl_mnt_idmap(mnt), real, name, value, size, flags);
	else
		err = vfs_removexattr(pl_mnt_idmap(mnt), real, name);
	mnt_drop_write(mnt);
	pl_copy_attr(inode);
	return err;
}

static const struct xattr_handler pl_xattr_handler = {
	.prefix = "",	/* catch all */
	.get = pl_xattr_get,
	.set = pl_xattr_set,
};

static const struct xattr_handler *pl_xattr_handlers[] = {
	&pl_xattr_handler,
	NULL,
};

struct pl_fs_context {
	char *lowerdir;
};

enum { Opt_lowerdir };

static const struct fs_parameter_spec pl_fs_params[] = {
	fsparam_string("lowerdir", Opt_lowerdir),
	{}
};

static int pl_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct pl_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, pl_fs_params, param, &result);
	if (opt < 0)
		return opt;
	if (opt == Opt_lowerdir) {
		kfree(ctx->lowerdir);
		ctx->lowerdir = param->string;
		param->string = NULL;
	}
	return 0;
}

static int pl_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct pl_fs_context *ctx = fc->fs_private;
	struct pl_fs_info *info;
	struct inode *root_inode;
	struct cred *cred;
	struct vfsmount *mnt;
	struct path lower;
	int err;

	if (!ctx->lowerdir)
		return invalfc(fc, "lowerdir= is required");
	err = kern_path(ctx->lowerdir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &lower);
	if (err) {
		errorfc(fc, "lowerdir %s: cannot be used (%d)", ctx->lowerdir, err);
		return err;
	}
	if (lower.mnt->mnt_sb->s_type == &pl_fs_type) {
		errorfc(fc, "lowerdir %s is itself a patchlayer mount", ctx->lowerdir);
		err = -ELOOP;
		goto out_put;
	}
	sb->s_stack_depth = lower.mnt->mnt_sb->s_stack_depth + 1;
	if (sb->s_stack_depth > FILESYSTEM_MAX_STACK_DEPTH) {
		errorfc(fc, "lowerdir %s: maximum filesystem stacking depth exceeded",
			ctx->lowerdir);
		err = -EINVAL;
		goto out_put;
	}

	err = -ENOMEM;
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		goto out_put;
	info->lowerdir = kstrdup(ctx->lowerdir, GFP_KERNEL);
	if (!info->lowerdir)
		goto out_free;
	cred = prepare_creds();
	if (!cred)
		goto out_free;
	/* as overlayfs: writes on a user's behalf honour quotas and reserved blocks */
	cap_lower(cred->cap_effective, CAP_SYS_RESOURCE);
	info->creator_cred = cred;
	/* private: unaffected by mount propagation, reachable once covered */
	mnt = clone_private_mount(&lower);
	if (IS_ERR(mnt)) {
		err = PTR_ERR(mnt);
		goto out_free;
	}
	info->lower.mnt = mnt;
	info->lower.dentry = dget(lower.dentry);
	INIT_LIST_HEAD(&info->node);
	sb->s_fs_info = info;	/* pl_kill_sb frees it from here on */

	sb->s_magic = PATCHLAYER_SUPER_MAGIC;
	sb->s_op = &pl_super_ops;
	sb->s_d_op = &pl_dentry_ops;
	sb->s_xattr = pl_xattr_handlers;
	sb->s_maxbytes = lower.mnt->mnt_sb->s_maxbytes;
	sb->s_time_gran = lower.mnt->mnt_sb->s_time_gran;
	sb->s_flags |= lower.mnt->mnt_sb->s_flags & SB_POSIXACL;

	root_inode = pl_get_inode(sb, d_inode(lower.dentry), d_inode(lower.dentry));
	if (IS_ERR(root_inode)) {
		err = PTR_ERR(root_inode);
		goto out_put;
	}
	sb->s_root = d_make_root(root_inode);
	if (!sb->s_root) {
		err = -ENOMEM;
		goto out_put;
	}
	sb->s_root->d_fsdata = pl_dentry_alloc(&info->lower, info->lower.dentry);
	if (!sb->s_root->d_fsdata) {
		err = -ENOMEM;
		goto out_put;	/* kill_sb puts the root and info */
	}

	mutex_lock(&pl_mounts_lock);
	list_add_tail(&info->node, &pl_mounts);
	mutex_unlock(&pl_mounts_lock);
	path_put(&lower);
	return 0;

out_free:
	if (info->creator_cred)
		put_cred(info->creator_cred);
	kfree(info->lowerdir);
	kfree(info);
out_put:
	path_put(&lower);
	return err;
}

static int pl_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, pl_fill_super);
}

static void pl_free_fc(struct fs_context *fc)
{
	struct pl_fs_context *ctx = fc->fs_private;

	kfree(ctx->lowerdir);
	kfree(ctx);
}

static const struct fs_context_operations pl_context_ops = {
	.parse_param = pl_parse_param,
	.get_tree = pl_get_tree,
	.free = pl_free_fc,
};

static int pl_init_fs_context(struct fs_context *fc)
{
	struct pl_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	fc->fs_private = ctx;
	fc->ops = &pl_context_ops;
	return 0;
}

static void pl_kill_sb(struct super_block *sb)
{
	struct pl_fs_info *info = pl_sb_info(sb);

	kill_anon_super(sb);
	if (!info)
		return;
	mutex_lock(&pl_mounts_lock);
	list_del(&info->node);
	mutex_unlock(&pl_mounts_lock);
	dput(info->lower.dentry);
	kern_unmount(info->lower.mnt);
	put_cred(info->creator_cred);
	kfree(info->lowerdir);
	kfree(info);
}

static struct file_system_type pl_fs_type = {
	.owner = THIS_MODULE,	/* a mounted patchlayer pins the module */
	.name = "patchlayer",
	.init_fs_context = pl_init_fs_context,
	.parameters = pl_fs_params,
	.kill_sb = pl_kill_sb,
};
MODULE_ALIAS_FS("patchlayer");

int __init pl_fs_init(void)
{
	int err;

	err = pl_fs_inode_init();
	if (err)
		return err;
	err = register_filesystem(&pl_fs_type);
	if (err)
		pl_fs_inode_exit();
	return err;
}

void pl_fs_exit(void)
{
	unregister_filesystem(&pl_fs_type);
	pl_fs_inode_exit();
}
