// SPDX-License-Identifier: GPL-2.0
/*
 * Watching the base files of loaded layers. A package update replaces a
 * base through the protected directory, but root may also change it
 * through another mount of the same filesystem (a bind mount, a chroot's,
 * a container's), and a rename over it may land while a layer is being
 * activated. An fsnotify mark on each base inode sees such changes,
 * whichever mount they came through (not a store through a shared
 * writable mapping, which raises no event: its mtime tells at the next
 * event); redirect.c then checks the layers that serve it again. The marks reference no layer: the handler passes only
 * the inode, which the table maps to layers under RCU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/fsnotify_backend.h>
#include <linux/slab.h>

#include "compat.h"
#include "patchlayer.h"

/* a link count change (unlink, rename over), a write, a move */
#define PL_WATCH_MASK (FS_MODIFY | FS_ATTRIB | FS_MOVE_SELF | FS_DELETE_SELF)

struct pl_watch {
	struct fsnotify_mark mark;
	const struct inode *base;	/* a key only: the layer holds the inode */
};

static struct fsnotify_group *pl_watch_group;

static int pl_watch_event(struct fsnotify_mark *mark, u32 mask, struct inode *inode,
			  struct inode *dir, const struct qstr *name, u32 cookie)
{
	pl_redirect_base_changed(container_of(mark, struct pl_watch, mark)->base,
				 mask & FS_MODIFY);
	return 0;
}

static void pl_watch_free(struct fsnotify_mark *mark)
{
	kfree(container_of(mark, struct pl_watch, mark));
}

static const struct fsnotify_ops pl_watch_ops = {
	.handle_inode_event = pl_watch_event,
	.free_mark = pl_watch_free,
};

/* Marks the base of every file of LAYER; on error none stays. */
int pl_watch_layer(struct pl_layer *layer)
{
	for (size_t i = 0; i < layer->n_files; i++) {
		struct pl_layer_file *f = &layer->files[i];
		struct pl_watch *w;
		int err;

		w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
		if (!w) {
			pl_unwatch_layer(layer);
			return -ENOMEM;
		}
		fsnotify_init_mark(&w->mark, pl_watch_group);
		w->mark.mask = PL_WATCH_MASK;
		w->base = f->base;
		/* one mark per layer and base: two layers may share a base */
		err = fsnotify_add_inode_mark(&w->mark, f->base, 0);
		if (err) {
			fsnotify_put_mark(&w->mark);
			pl_unwatch_layer(layer);
			return err;
		}
		f->watch = &w->mark;
	}
	return 0;
}

void pl_unwatch_layer(struct pl_layer *layer)
{
	for (size_t i = 0; i < layer->n_files; i++) {
		struct pl_layer_file *f = &layer->files[i];

		if (!f->watch)
			continue;
		fsnotify_destroy_mark(f->watch, pl_watch_group);
		fsnotify_put_mark(f->watch);
		f->watch = NULL;
	}
}

int __init pl_watch_init(void)
{
	/* marks go when layers are freed, which dentry reclaim can do */
	pl_watch_group = fsnotify_alloc_group(&pl_watch_ops, FSNOTIFY_GROUP_DUPS |
					      PL_FSNOTIFY_GROUP_NOFS);
	return PTR_ERR_OR_ZERO(pl_watch_group);
}

/* After every layer was freed: the marks' last references go with them. */
void pl_watch_exit(void)
{
	fsnotify_wait_marks_destroyed();
	fsnotify_put_group(pl_watch_group);
}
