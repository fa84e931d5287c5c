/* SPDX-License-Identifier: GPL-2.0 */
/* Internal interfaces between the files of patchlayer.ko. */
#ifndef _PATCHLAYER_H
#define _PATCHLAYER_H

#include <linux/init.h>
#include <linux/kobject.h>
#include <linux/path.h>
#include <linux/list.h>
#include <linux/types.h>

#include "../lib/manifest.h"

#define PATCHLAYER_VERSION "0.1.0"

extern bool pl_require_signature;

/* sysfs.c */
int __init pl_sysfs_init(void);
void pl_sysfs_exit(void);
extern struct kset *pl_layers_kset;

/* netlink.c */
int __init pl_netlink_init(void);
void pl_netlink_exit(void);
void pl_nl_notify(u32 event, const char *layer, const char *version,
		  const char *path, int err, const char *detail);
struct pl_layer;
void pl_nl_notify_state(struct pl_layer *layer, const char *detail);

/* fs_super.c */
int __init pl_fs_init(void);
void pl_fs_exit(void);
ssize_t pl_mounts_show(char *buf);

/* verify.c */
#define PL_SIZE_ANY U64_MAX
int __init pl_verify_init(void);
void pl_verify_exit(void);
int pl_trust_add(const void *der, size_t len);
void pl_trust_lock_forever(void);
bool pl_trust_is_locked(void);
int pl_verify_signature(const void *data, size_t len, const void *sig, size_t sig_len);
struct file *pl_open_path_regular(const struct path *path);
int pl_hash_file(struct file *file, u64 size, u8 digest[PL_SHA256_SIZE]);

/* layer.c: the registry of loaded layers */
enum pl_layer_state {
	PL_LAYER_LOADED,
	PL_LAYER_ACTIVE,
	PL_LAYER_STALE,
	PL_LAYER_SUPERSEDED,
};

struct pl_layer_file {
	char *target;
	u8 sha256[PL_SHA256_SIZE];
	u8 base_sha256[PL_SHA256_SIZE];
	u64 size;
	struct file *file;	/* held open and write-denied while loaded */
	/* the lower base as verified: activation refuses any other */
	struct inode *base;
	struct vfsmount *base_mnt;	/* holds base's superblock */
	loff_t base_size;
	struct timespec64 base_mtime;
	struct timespec64 base_ctime;
	struct fsnotify_mark *watch;	/* on base: watch.c */
	/* what mappings name (after overlayfs and the like): BPF matches these */
	dev_t file_dev, base_dev;
	unsigned long file_ino, base_ino;
};

/* bits in pl_layer.flags */
#define PL_LAYER_RECHECK 0	/* its bases may have changed */
#define PL_LAYER_BASE_WRITTEN 1	/* one was written while it was active */

/* A span of process start times (boottime ns) a layer serves; to is open at U64_MAX. */
struct pl_window {
	u64 from, to;
};
#define PL_MAX_WINDOWS 1024	/* per layer; the oldest go first */

struct pl_layer {
	struct kobject kobj;	/* /sys/kernel/patchlayer/layers/<name> */
	struct list_head node;	/* in pl_layers, under pl_layers_lock */
	char name[PL_NAME_MAX + 1];
	char version[PL_VERSION_MAX + 1];
	char replaces[PL_NAME_MAX + 1];
	char *dir;
	enum pl_layer_state state;	/* under pl_layers_lock */
	bool removed;			/* unloaded, waiting for sysfs users */
	unsigned long flags;
	time64_t activated_at;
	u64 activate_ns;
	struct pl_window *windows;	/* under pl_layers_lock */
	unsigned int n_windows;
	atomic64_t hits;		/* redirected opens */
	size_t n_files;
	struct pl_layer_file files[];
};

extern struct mutex pl_layers_lock;
extern struct list_head pl_layers;
#define pl_for_each_layer(layer) list_for_each_entry(layer, &pl_layers, node)

static inline struct pl_layer *pl_layer_get(struct pl_layer *layer)
{
	kobject_get(&layer->kobj);
	return layer;
}

static inline void pl_layer_put(struct pl_layer *layer)
{
	kobject_put(&layer->kobj);
}

struct pl_layer *pl_layer_find(const char *name);
int pl_layer_set_state(struct pl_layer *layer, const char *word);
int pl_layer_load(const char *dir);
void pl_layer_free(struct pl_layer *layer);
int pl_layer_kobj_add(struct pl_layer *layer);
int pl_layer_unload(const char *name);
const char *pl_layer_state_name(enum pl_layer_state state);
void pl_layers_exit(void);

/* watch.c */
int __init pl_watch_init(void);
void pl_watch_exit(void);
int pl_watch_layer(struct pl_layer *layer);
void pl_unwatch_layer(struct pl_layer *layer);

/* redirect.c */
struct pl_dentry;
u64 pl_redirect_generation(void);
bool pl_redirect_get(const struct inode *base, struct pl_dentry *pd);
bool pl_redirect_known(const struct inode *base);
bool pl_redirect_active(const struct inode *base);
u64 pl_redirect_ino(const struct super_block *sb, u64 ino, u64 view);
u64 pl_view_time(void);
bool pl_view_pending(u64 view);
int pl_view_settle(void);
int pl_redirect_republish(struct pl_layer *exclude);
int pl_redirect_activate(struct pl_layer *layer, const char **why);
int pl_redirect_drop(struct pl_layer *layer, enum pl_layer_state state, const char *why);
void pl_redirect_base_changed(const struct inode *base, bool written);
int __init pl_redirect_init(void);
void pl_redirect_exit(void);

#endif /* _PATCHLAYER_H */
