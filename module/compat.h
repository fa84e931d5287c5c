/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces that differ between the kernels patchlayer supports,
 * Debian 12's 6.1 to the 6.12 series: every difference lives here, so that
 * the rest of the module reads the same on each.
 *
 * Each wrapper is chosen by the release that changed the interface, with
 * the commit's subject, or by a probe of the kernel's headers (module/Kbuild)
 * where stable kernels backport the change. The wrappers carry a pl_ prefix:
 * a shim under the kernel's own name would collide with a backport (Debian's
 * 6.1.192 has inode_get_ctime(), for one).
 */
#ifndef _PATCHLAYER_COMPAT_H
#define _PATCHLAYER_COMPAT_H

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify_backend.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/posix_acl.h>
#include <linux/uio.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#error "patchlayer supports the Linux 6.1 to 6.12 series (docs/operators-guide.md, adding a kernel)"
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#include <linux/backing-file.h>
#endif

/*
 * "fs: port ->permission() to pass mnt_idmap" and its series (6.3): inode
 * operations and the vfs_* helpers take the mount's idmap where they took
 * its user namespace. struct pl_idmap names whichever the kernel takes.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define pl_idmap mnt_idmap
static inline struct mnt_idmap *pl_mnt_idmap(const struct vfsmount *mnt)
{
	return mnt_idmap(mnt);
}

static inline void pl_renamedata_set_idmap(struct renamedata *rd, struct mnt_idmap *idmap)
{
	rd->old_mnt_idmap = idmap;
	rd->new_mnt_idmap = idmap;
}
#else
#define pl_idmap user_namespace
static inline struct user_namespace *pl_mnt_idmap(const struct vfsmount *mnt)
{
	return mnt_user_ns(mnt);
}

static inline void pl_renamedata_set_idmap(struct renamedata *rd, struct user_namespace *idmap)
{
	rd->old_mnt_userns = idmap;
	rd->new_mnt_userns = idmap;
}
#endif

/*
 * "fs: rework getting and setting posix acls" (6.2): ACLs no longer pass
 * through the xattr handlers but through ->get_acl and ->set_acl.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define PL_HAVE_ACL_IOPS
#endif

/*
 * "fs: add ctime accessors infrastructure" (6.6) and "fs: new accessor
 * methods for atime and mtime" (6.7): i_ctime and i_mtime are no longer
 * fields.
 */
static inline struct timespec64 pl_inode_ctime(const struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return inode_get_ctime(inode);
#else
	return inode->i_ctime;
#endif
}

static inline struct timespec64 pl_inode_mtime(const struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return inode_get_mtime(inode);
#else
	return inode->i_mtime;
#endif
}

/*
 * "fs: remove the inode argument to ->d_real() method" (6.9): d_real() is
 * asked for the data or the metadata dentry, no longer for the dentry of
 * an inode. pl_d_real_arg is what ->d_real() receives; pl_d_real_inode()
 * the inode it must match, NULL where the kernel names none.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
typedef enum d_real_type pl_d_real_arg;
#define pl_d_real_inode(arg) ((const struct inode *)NULL)
#else
typedef const struct inode *pl_d_real_arg;
#define pl_d_real_inode(arg) (arg)
#endif

/*
 * "fs: Pass AT_GETATTR_NOSEC flag to getattr interface function" (6.7): the
 * VFS asked the LSMs about our path already and says so; asking them again
 * about the real path warns and fails. Before, the real path is asked as
 * any other, under the mounter's credentials.
 */
static inline int pl_vfs_getattr(const struct path *path, struct kstat *stat,
				 u32 request_mask, unsigned int flags)
{
#ifdef AT_GETATTR_NOSEC
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, request_mask, flags);
#endif
	return vfs_getattr(path, stat, request_mask, flags);
}

/*
 * vfs_path_lookup() is exported by every supported kernel, but 6.1 declares
 * it only in fs/internal.h; later kernels in <linux/namei.h> (probed,
 * module/Kbuild).
 */
#ifndef PL_HAVE_VFS_PATH_LOOKUP_DECL
int vfs_path_lookup(struct dentry *dentry, struct vfsmount *mnt, const char *name,
		    unsigned int flags, struct path *path);
#endif

/* "acl: rename get_acl() to get_inode_acl()" (6.2) */
static inline struct posix_acl *pl_get_inode_acl(struct inode *inode, int type)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return get_inode_acl(inode, type);
#else
	return get_acl(inode, type);
#endif
}

/* "tracing: Remove second parameter to __assign_str()" (6.10) */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define pl_assign_str(dst, src) __assign_str(dst)
#else
#define pl_assign_str(dst, src) __assign_str(dst, src)
#endif

/*
 * Real files. A stacking filesystem opens the file it serves under the
 * mounter's credentials and keeps them for every access to it, as
 * overlayfs does: the caller's own permission was checked on our inode,
 * and an LSM that names files by path (AppArmor) would otherwise meet the
 * private lower mount, which has no name ("disconnected path").
 *
 * 6.1 has open_with_fake_path(); "fs: use backing_file container for
 * internal files with "fake" f_path" (6.6) replaced it by
 * backing_file_open(), and "fs: prepare for stackable filesystems backing
 * file helpers" (6.8) added the read, write, splice and mmap helpers that
 * 6.12 stacking filesystems use. The 2025 series that passes the user's
 * file to backing_file_open() for the LSM backing-file hooks reached
 * stable kernels (Debian's 6.12.117), so it is probed (module/Kbuild).
 * Before 6.8 the helpers are written out here, synchronously, as 6.1's
 * overlayfs does.
 */
static inline struct file *pl_backing_file_open(struct file *user_file, int flags,
						const struct path *real,
						const struct cred *cred)
{
#if defined(PL_HAVE_BACKING_FILE_OPEN_USER_FILE)
	return backing_file_open(user_file, flags, real, cred);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return backing_file_open(&user_file->f_path, flags, real, cred);
#else
	return open_with_fake_path(&user_file->f_path, flags, d_inode(real->dentry), cred);
#endif
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define PL_BACKING_CTX(name, user, creds) \
	struct backing_file_ctx name = { .cred = (creds), .user_file = (user) }

static inline ssize_t pl_backing_read_iter(struct file *real, struct iov_iter *iter,
					   struct kiocb *iocb, const struct cred *cred)
{
	PL_BACKING_CTX(ctx, iocb->ki_filp, cred);

	return backing_file_read_iter(real, iter, iocb, iocb->ki_flags, &ctx);
}

static inline ssize_t pl_backing_write_iter(struct file *real, struct iov_iter *iter,
					    struct kiocb *iocb, const struct cred *cred)
{
	PL_BACKING_CTX(ctx, iocb->ki_filp, cred);

	return backing_file_write_iter(real, iter, iocb, iocb->ki_flags, &ctx);
}

static inline ssize_t pl_backing_splice_read(struct file *real, struct file *user,
					     loff_t *ppos, struct pipe_inode_info *pipe,
					     size_t len, unsigned int flags,
					     const struct cred *cred)
{
	PL_BACKING_CTX(ctx, user, cred);

	return backing_file_splice_read(real, ppos, pipe, len, flags, &ctx);
}

static inline ssize_t pl_backing_splice_write(struct pipe_inode_info *pipe, struct file *real,
					      struct file *user, loff_t *ppos, size_t len,
					      unsigned int flags, const struct cred *cred)
{
	PL_BACKING_CTX(ctx, user, cred);

	return backing_file_splice_write(pipe, real, ppos, len, flags, &ctx);
}

static inline int pl_backing_mmap(struct file *real, struct vm_area_struct *vma,
				  const struct cred *cred)
{
	PL_BACKING_CTX(ctx, vma->vm_file, cred);

	return backing_file_mmap(real, vma, &ctx);
}
#else
static inline rwf_t pl_iocb_to_rwf(int flags)
{
	rwf_t rwf = 0;

	if (flags & IOCB_NOWAIT)
		rwf |= RWF_NOWAIT;
	if (flags & IOCB_HIPRI)
		rwf |= RWF_HIPRI;
	if (flags & IOCB_DSYNC)
		rwf |= RWF_DSYNC;
	if (flags & IOCB_SYNC)
		rwf |= RWF_SYNC;
	return rwf;
}

/* Asynchronous requests complete synchronously here; that is allowed. */
static inline ssize_t pl_backing_read_iter(struct file *real, struct iov_iter *iter,
					   struct kiocb *iocb, const struct cred *cred)
{
	const struct cred *old;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	if ((iocb->ki_flags & IOCB_DIRECT) && !(real->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	old = override_creds(cred);
	ret = vfs_iter_read(real, iter, &iocb->ki_pos, pl_iocb_to_rwf(iocb->ki_flags));
	revert_creds(old);
	return ret;
}

static inline ssize_t pl_backing_write_iter(struct file *real, struct iov_iter *iter,
					    struct kiocb *iocb, const struct cred *cred)
{
	const struct cred *old;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	ret = file_remove_privs(iocb->ki_filp);
	if (ret)
		return ret;
	if ((iocb->ki_flags & IOCB_DIRECT) && !(real->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	old = override_creds(cred);
	/* vfs_iter_write() takes the freeze protection itself from 6.8 on */
	file_start_write(real);
	ret = vfs_iter_write(real, iter, &iocb->ki_pos, pl_iocb_to_rwf(iocb->ki_flags));
	file_end_write(real);
	revert_creds(old);
	return ret;
}

/* Through our own ->read_iter, which reads the real file as above. */
static inline ssize_t pl_backing_splice_read(struct file *real, struct file *user,
					     loff_t *ppos, struct pipe_inode_info *pipe,
					     size_t len, unsigned int flags,
					     const struct cred *cred)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return copy_splice_read(user, ppos, pipe, len, flags);
#else
	return generic_file_splice_read(user, ppos, pipe, len, flags);
#endif
}

/* As 6.1's ovl_splice_write and 6.8's backing_file_splice_write. */
static inline ssize_t pl_backing_splice_write(struct pipe_inode_info *pipe, struct file *real,
					      struct file *user, loff_t *ppos, size_t len,
					      unsigned int flags, const struct cred *cred)
{
	const struct cred *old;
	ssize_t ret;

	if (!real->f_op->splice_write)
		return -EINVAL;
	ret = file_remove_privs(user);
	if (ret)
		return ret;
	old = override_creds(cred);
	file_start_write(real);
	ret = real->f_op->splice_write(pipe, real, ppos, len, flags);
	file_end_write(real);
	revert_creds(old);
	return ret;
}

static inline int pl_backing_mmap(struct file *real, struct vm_area_struct *vma,
				  const struct cred *cred)
{
	const struct cred *old;
	int ret;

	if (!real->f_op->mmap)
		return -ENODEV;
	vma_set_file(vma, real);
	old = override_creds(cred);
	ret = call_mmap(vma->vm_file, vma);
	revert_creds(old);
	return ret;
}
#endif

/*
 * Marks are destroyed where dentry reclaim may free a layer: the group's
 * lock must not recurse into reclaim. Later kernels (6.12 here) make
 * every group so and have no flag; told by the flag's definition.
 */
#ifdef FSNOTIFY_GROUP_NOFS
#define PL_FSNOTIFY_GROUP_NOFS FSNOTIFY_GROUP_NOFS
#else
#define PL_FSNOTIFY_GROUP_NOFS 0
#endif

#endif /* _PATCHLAYER_COMPAT_H */
