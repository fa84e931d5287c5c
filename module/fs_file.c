// SPDX-License-Identifier: GPL-2.0
/*
 * Open files of the patchlayer filesystem. Each one has a file of the real
 * inode (file->private_data): reads and writes go to it, and mmap() hands
 * the VMA the real file, so mappings are of the real inode (which
 * /proc/PID/maps shows before 6.8; from 6.8 it shows ours).
 *
 * A read-only open opens its real file at first use, not at open(): most
 * opens of a library directory are probes (the dynamic loader's search,
 * stat-like open+close) that never read, and the second struct file, its
 * security hooks and its deferred fput were a third of an open+close.
 * Some opens open it at once (pl_open_now).
 */
#include <linux/file.h>
#include <linux/fs_stack.h>
#include <linux/mm.h>
#include <linux/splice.h>
#include <linux/uio.h>

#include "fs.h"
#include "patchlayer.h"
#include "trace.h"

/* Flags only the open itself uses: not for the real file. */
#define PL_OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)

/*
 * The real file shows our path (in /proc/PID/maps, for one): the private
 * lower mount is in no namespace, so its own path would not print as the
 * path the process opened. It is opened, now or later by another thread,
 * under the mounter's credentials (pl_override_creds).
 */
static struct file *pl_open_real_file(struct file *file)
{
	struct super_block *sb = file_inode(file)->i_sb;
	const struct cred *old;
	struct file *realfile;
	struct path real;

	pl_real_path(file->f_path.dentry, &real);
	old = pl_override_creds(sb);
	realfile = pl_backing_file_open(file, file->f_flags & ~PL_OPEN_ONLY_FLAGS, &real,
					pl_creds(sb));
	revert_creds(old);
	return realfile;
}

/*
 * The real file of FILE, opened now if it is not yet. Racing first uses
 * each open one; the first to publish wins and the others drop theirs.
 */
static struct file *pl_real_file(struct file *file)
{
	struct file *realfile = smp_load_acquire(&file->private_data);
	struct file *old;

	if (likely(realfile))
		return realfile;
	realfile = pl_open_real_file(file);
	if (IS_ERR(realfile))
		return realfile;
	old = cmpxchg_release(&file->private_data, NULL, realfile);
	if (old) {
		fput(realfile);
		return old;
	}
	return realfile;
}

/*
 * Whether open(2) opens the real file itself:
 * - for writing, so that open(2) takes write access (and says ETXTBSY);
 * - for O_DIRECT, so that open(2) says EINVAL where the real file has none;
 * - for a name an active or once active layer knows (redirected, or a base
 *   this process still sees): the BPF LSM's mmap_file hook runs before
 *   ->mmap and finds the mapped inode through ->private_data, so an
 *   executable mapping with no read before it would otherwise go unseen,
 *   enforcement included. A view bounded on either side means that a
 *   layer's window covers this base for someone (pl_redirect_get).
 */
static bool pl_open_now(const struct file *file, const struct pl_dentry *pd)
{
	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_DIRECT))
		return true;
	return pd->layer || pd->view_from || pd->view_to != U64_MAX;
}

static int pl_open(struct inode *inode, struct file *file)
{
	struct pl_dentry *pd = pl_dentry(file->f_path.dentry);

	if (pl_open_now(file, pd)) {
		struct file *realfile = pl_open_real_file(file);

		if (IS_ERR(realfile))
			return PTR_ERR(realfile);
		file->private_data = realfile;
	}
	if (pd->layer) {
		atomic64_inc(&pd->layer->hits);
		trace_patchlayer_redirect(pd->layer->name, pd->layer->files[pd->file].target);
	}
	return 0;
}

static int pl_release(struct inode *inode, struct file *file)
{
	if (file->private_data)
		fput(file->private_data);
	return 0;
}

static const struct cred *pl_file_creds(const struct file *file)
{
	return pl_creds(file_inode(file)->i_sb);
}

static ssize_t pl_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *realfile;

	if (!iov_iter_count(iter))
		return 0;
	realfile = pl_real_file(iocb->ki_filp);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	return pl_backing_read_iter(realfile, iter, iocb, pl_file_creds(iocb->ki_filp));
}

static ssize_t pl_write_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	/* vfs_write() wants FMODE_WRITE: the real file was opened by open(2) */
	struct file *realfile = file->private_data;
	struct inode *inode = file_inode(file);
	ssize_t ret;

	inode_lock(inode);
	ret = pl_backing_write_iter(realfile, iter, iocb, pl_file_creds(file));
	pl_copy_attr(inode);
	inode_unlock(inode);
	return ret;
}

/*
 * Not iter_file_splice_write() on our file: it would take the pipe's lock
 * and then, in our ->write_iter, the real filesystem's freeze protection,
 * the reverse of a splice into the real file (overlayfs's
 * ovl_splice_write says the same). The real file's ->splice_write under
 * its freeze protection, as ->write_iter does.
 */
static ssize_t pl_splice_write(struct pipe_inode_info *pipe, struct file *out, loff_t *ppos,
			       size_t len, unsigned int flags)
{
	/* splice wants FMODE_WRITE: the real file was opened by open(2) */
	struct file *realfile = out->private_data;
	struct inode *inode = file_inode(out);
	ssize_t ret;

	inode_lock(inode);
	pl_copy_attr(inode);
	ret = pl_backing_splice_write(pipe, realfile, out, ppos, len, flags, pl_file_creds(out));
	pl_copy_attr(inode);
	inode_unlock(inode);
	return ret;
}

static ssize_t pl_splice_read(struct file *in, loff_t *ppos, struct pipe_inode_info *pipe,
			      size_t len, unsigned int flags)
{
	struct file *realfile = pl_real_file(in);

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	return pl_backing_splice_read(realfile, in, ppos, pipe, len, flags, pl_file_creds(in));
}

/*
 * A first use here opens the real file under mmap_lock, as overlayfs does
 * for a real file that changed since open (ovl_real_file, 6.13).
 */
static int pl_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct file *realfile = pl_real_file(file);

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	if (WARN_ON(file != vma->vm_file))
		return -EIO;
	return pl_backing_mmap(realfile, vma, pl_file_creds(file));
}

static loff_t pl_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *realfile = pl_real_file(file);
	struct inode *inode = file_inode(file);
	const struct cred *old;
	loff_t ret;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	/* the real file knows holes and its own limits; our f_pos is the master */
	inode_lock(inode);
	realfile->f_pos = file->f_pos;
	old = pl_override_creds(inode->i_sb);
	ret = vfs_llseek(realfile, offset, whence);
	revert_creds(old);
	file->f_pos = realfile->f_pos;
	inode_unlock(inode);
	return ret;
}

static int pl_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct file *realfile = pl_real_file(file);
	const struct cred *old;
	int ret;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	old = override_creds(pl_file_creds(file));
	ret = vfs_fsync_range(realfile, start, end, datasync);
	revert_creds(old);
	return ret;
}

static long pl_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	const struct cred *old;
	long ret;

	/*
	 * setuid, setgid and capabilities go as the caller's change, as for a
	 * write: under the mounter's credentials (CAP_FSETID) the real
	 * filesystem would keep them.
	 */
	inode_lock(inode);
	pl_copy_attr(inode);
	ret = file_remove_privs(file);
	if (ret)
		goto out_unlock;
	/* vfs_fallocate() wants FMODE_WRITE: the real file was opened by open(2) */
	old = override_creds(pl_file_creds(file));
	ret = vfs_fallocate(file->private_data, mode, offset, len);
	revert_creds(old);
	pl_copy_attr(inode);
out_unlock:
	inode_unlock(inode);
	return ret;
}

static int pl_fadvise(struct file *file, loff_t offset, loff_t len, int advice)
{
	struct file *realfile = pl_real_file(file);
	const struct cred *old;
	int ret;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	old = override_creds(pl_file_creds(file));
	ret = vfs_fadvise(realfile, offset, len, advice);
	revert_creds(old);
	return ret;
}

const struct file_operations pl_file_ops = {
	.open = pl_open,
	.release = pl_release,
	.llseek = pl_llseek,
	.read_iter = pl_read_iter,
	.write_iter = pl_write_iter,
	.mmap = pl_mmap,
	.fsync = pl_fsync,
	.fallocate = pl_fallocate,
	.fadvise = pl_fadvise,
	.splice_read = pl_splice_read,
	.splice_write = pl_splice_write,
};

/* O_DIRECT: open(2) asks the mapping for ->direct_IO; the real file does it */
const struct address_space_operations pl_file_aops = {
	.direct_IO = noop_direct_IO,
};

/* Directories: the real directory lists itself, positions included. */

static int pl_dir_open(struct inode *inode, struct file *file)
{
	const struct cred *old;
	struct file *realfile;
	struct path real;

	/*
	 * On its real path: a stacked lower opens directories by the dentry
	 * of f_path itself, and nothing maps a directory to show its path.
	 */
	pl_real_path(file->f_path.dentry, &real);
	old = pl_override_creds(file_inode(file)->i_sb);
	realfile = dentry_open(&real, file->f_flags, pl_file_creds(file));
	revert_creds(old);

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	file->private_data = realfile;
	return 0;
}

/* A listing of the real directory, its inode numbers as stat reports them. */
struct pl_readdir {
	struct dir_context ctx;
	struct dir_context *caller;
	const struct super_block *real_sb;
	u64 view;
};

static bool pl_filldir(struct dir_context *ctx, const char *name, int namelen,
		       loff_t offset, u64 ino, unsigned int d_type)
{
	struct pl_readdir *rd = container_of(ctx, struct pl_readdir, ctx);

	if (d_type == DT_REG || d_type == DT_UNKNOWN)
		ino = pl_redirect_ino(rd->real_sb, ino, rd->view);
	return rd->caller->actor(rd->caller, name, namelen, offset, ino, d_type);
}

/* Under the mounter's credentials, as every access to the real directory. */
static int pl_iterate_shared(struct file *file, struct dir_context *ctx)
{
	struct file *realfile = file->private_data;
	struct pl_readdir rd = {
		.ctx.actor = pl_filldir,
		.caller = ctx,
		.real_sb = file_inode(realfile)->i_sb,
	};
	const struct cred *old;
	int err;

	/* the view pl_redirect_ino answers from, as lookup settles it */
	err = pl_view_settle();
	if (err)
		return err;
	rd.view = pl_view_time();
	realfile->f_pos = ctx->pos;
	old = override_creds(pl_file_creds(file));
	err = iterate_dir(realfile, &rd.ctx);
	revert_creds(old);
	ctx->pos = rd.ctx.pos;
	file->f_pos = realfile->f_pos;
	return err;
}

static int pl_dir_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	const struct cred *old;
	int ret;

	old = override_creds(pl_file_creds(file));
	ret = vfs_fsync_range(file->private_data, start, end, datasync);
	revert_creds(old);
	return ret;
}

const struct file_operations pl_dir_ops = {
	.open = pl_dir_open,
	.release = pl_release,
	.read = generic_read_dir,
	.iterate_shared = pl_iterate_shared,
	.llseek = pl_llseek,
	.fsync = pl_dir_fsync,
};
