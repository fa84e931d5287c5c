// SPDX-License-Identifier: GPL-2.0
/*
 * The redirect table: which base inodes active layers replace. Lookups
 * read it under RCU without a lock; activation and drop build a new
 * immutable table and publish it with one pointer store, then bump the
 * generation that makes cached dentries look again. No lookup ever sees
 * half a layer. Writers hold pl_layers_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bsearch.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "fs.h"
#include "patchlayer.h"
#include "trace.h"

struct pl_redirect {
	struct inode *base;		/* the key: a lower inode */
	struct pl_layer *layer;		/* a reference per entry */
	unsigned int file;
};

struct pl_redirect_table {
	struct rcu_work free_work;
	size_t n;
	struct pl_redirect r[];		/* sorted by base */
};

static struct pl_redirect_table __rcu *pl_table;
static struct workqueue_struct *pl_wq;
static atomic64_t pl_generation = ATOMIC64_INIT(1);

u64 pl_redirect_generation(void)
{
	return atomic64_read_acquire(&pl_generation);
}

static int pl_redirect_cmp(const void *a, const void *b)
{
	const struct inode *x = ((const struct pl_redirect *)a)->base;
	const struct inode *y = ((const struct pl_redirect *)b)->base;

	return x < y ? -1 : x > y;
}

static const struct pl_redirect *pl_table_find(const struct pl_redirect_table *t,
					       const struct inode *base)
{
	struct pl_redirect key = { .base = (struct inode *)base };

	if (!t)
		return NULL;
	return bsearch(&key, t->r, t->n, sizeof(key), pl_redirect_cmp);
}

/*
 * If an active layer redirects BASE, points PD at its replacement and
 * takes references on both. The whole decision reads one table.
 */
bool pl_redirect_get(const struct inode *base, struct pl_dentry *pd)
{
	const struct pl_redirect *r;
	bool found = false;

	rcu_read_lock();
	r = pl_table_find(rcu_dereference(pl_table), base);
	if (r) {
		/* the table holds the layer, the layer holds its files */
		path_put(&pd->real);
		pd->real = r->layer->files[r->file].file->f_path;
		path_get(&pd->real);
		pd->layer = pl_layer_get(r->layer);
		pd->file = r->file;
		found = true;
	}
	rcu_read_unlock();
	return found;
}

static void pl_table_free_work(struct work_struct *work)
{
	struct pl_redirect_table *t =
		container_of(to_rcu_work(work), struct pl_redirect_table, free_work);

	for (size_t i = 0; i < t->n; i++)
		pl_layer_put(t->r[i].layer);
	kvfree(t);
}

static struct pl_redirect_table *pl_current_table(void)
{
	return rcu_dereference_protected(pl_table, lockdep_is_held(&pl_layers_lock));
}

/*
 * The current table without the entries of DROP_A and DROP_B, plus the
 * entries of ADD (whose bases are in BASES). -EBUSY if a base would be
 * redirected twice.
 */
static struct pl_redirect_table *pl_table_build(struct pl_layer *drop_a,
						struct pl_layer *drop_b,
						struct pl_layer *add,
						struct inode **bases)
{
	struct pl_redirect_table *old = pl_current_table(), *t;
	size_t n = add ? add->n_files : 0, k = 0;

	for (size_t i = 0; old && i < old->n; i++)
		if (old->r[i].layer != drop_a && old->r[i].layer != drop_b)
			n++;
	t = kvzalloc(struct_size(t, r, n), GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	for (size_t i = 0; old && i < old->n; i++)
		if (old->r[i].layer != drop_a && old->r[i].layer != drop_b)
			t->r[k++] = old->r[i];
	for (size_t i = 0; add && i < add->n_files; i++)
		t->r[k++] = (struct pl_redirect){ .base = bases[i], .layer = add, .file = i };
	t->n = n;
	sort(t->r, t->n, sizeof(t->r[0]), pl_redirect_cmp, NULL);
	for (size_t i = 1; i < t->n; i++) {
		if (t->r[i].base == t->r[i - 1].base) {
			kvfree(t);
			return ERR_PTR(-EBUSY);
		}
	}
	for (size_t i = 0; i < t->n; i++)
		pl_layer_get(t->r[i].layer);
	INIT_RCU_WORK(&t->free_work, pl_table_free_work);
	return t;
}

static void pl_table_publish(struct pl_redirect_table *t)
{
	struct pl_redirect_table *old = pl_current_table();

	rcu_assign_pointer(pl_table, t);
	/* after the table: a reader seeing the new generation sees the table */
	atomic64_inc_return_release(&pl_generation);
	if (old)
		queue_rcu_work(pl_wq, &old->free_work);
}

/* The lower inode TARGET resolves to now, if it is still the one verified. */
static int pl_check_base(const struct pl_layer_file *f, struct inode **base)
{
	struct path lower;
	struct inode *inode;
	int err;

	err = pl_fs_lower_path(f->target, &lower);
	if (err)
		return err;
	inode = d_inode(lower.dentry);
	if (inode != f->base || i_size_read(inode) != f->base_size ||
	    !timespec64_equal(&inode->i_mtime, &f->base_mtime) ||
	    !timespec64_equal(&inode->i_ctime, &f->base_ctime))
		err = -ESTALE;
	*base = inode;
	path_put(&lower);	/* the layer holds the base inode */
	return err;
}

static void pl_set_state(struct pl_layer *layer, enum pl_layer_state state,
			 const char *why)
{
	enum pl_layer_state old = layer->state;

	layer->state = state;
	trace_patchlayer_state(layer->name, pl_layer_state_name(old),
			       pl_layer_state_name(state), why);
	pl_nl_notify_state(layer, why);
}

int pl_redirect_activate(struct pl_layer *layer, const char **why)
{
	struct pl_layer *pred = NULL;
	struct pl_redirect_table *t;
	struct inode **bases;
	u64 start = ktime_get_ns();
	int err = 0;

	lockdep_assert_held(&pl_layers_lock);
	if (layer->state == PL_LAYER_ACTIVE)
		return 0;
	bases = kvcalloc(layer->n_files ?: 1, sizeof(*bases), GFP_KERNEL);
	if (!bases)
		return -ENOMEM;
	for (size_t i = 0; i < layer->n_files && !err; i++) {
		err = pl_check_base(&layer->files[i], &bases[i]);
		if (err == -EXDEV)
			*why = "a target's directory is not protected";
		else if (err == -ESTALE)
			*why = "a base file changed since the layer was verified";
		else if (err)
			*why = "a target cannot be resolved";
	}
	if (err == -ESTALE)
		pl_set_state(layer, PL_LAYER_STALE, *why);
	if (err)
		goto out;

	if (layer->replaces[0]) {
		pred = pl_layer_find(layer->replaces);
		if (pred && pred->state != PL_LAYER_ACTIVE)
			pred = NULL;
	}
	t = pl_table_build(layer, pred, layer, bases);
	if (IS_ERR(t)) {
		err = PTR_ERR(t);
		*why = err == -EBUSY ? "another active layer redirects one of its targets" :
				       "out of memory";
		goto out;
	}
	pl_table_publish(t);	/* predecessor out, layer in: one publication */
	layer->activated_at = ktime_get_real_seconds();
	layer->activate_ns = ktime_get_ns() - start;
	if (pred)
		pl_set_state(pred, PL_LAYER_LOADED, "replaced by a cumulative layer");
	pl_set_state(layer, PL_LAYER_ACTIVE, pred ? "activated, replacing its predecessor" :
						    "activated");
	*why = NULL;
out:
	kvfree(bases);
	return err;
}

int pl_redirect_drop(struct pl_layer *layer, enum pl_layer_state state, const char *why)
{
	struct pl_redirect_table *t;

	lockdep_assert_held(&pl_layers_lock);
	if (layer->state != PL_LAYER_ACTIVE)
		return 0;
	t = pl_table_build(layer, NULL, NULL, NULL);
	if (IS_ERR(t))
		return PTR_ERR(t);
	pl_table_publish(t);
	pl_set_state(layer, state, why);
	return 0;
}

static void pl_supersede_work_fn(struct work_struct *work)
{
	pl_layers_supersede_pending();
}
static DECLARE_WORK(pl_supersede_work, pl_supersede_work_fn);

/*
 * Called by the filesystem after a rename or unlink replaced or removed
 * the lower inode BASE. The layer redirecting it is superseded by the
 * regular update: marked now, dropped by a worker, because the caller
 * holds filesystem locks that pl_layers_lock must not nest in.
 */
void pl_redirect_base_gone(const struct inode *base)
{
	const struct pl_redirect *r;

	rcu_read_lock();
	r = pl_table_find(rcu_dereference(pl_table), base);
	if (r && !test_and_set_bit(PL_LAYER_SUPERSEDE_PENDING, &r->layer->flags))
		queue_work(pl_wq, &pl_supersede_work);
	rcu_read_unlock();
}

int __init pl_redirect_init(void)
{
	pl_wq = alloc_workqueue("patchlayer", WQ_UNBOUND, 0);
	return pl_wq ? 0 : -ENOMEM;
}

/* After every layer was dropped and unloaded: only freeing is left. */
void pl_redirect_exit(void)
{
	struct pl_redirect_table *t;

	t = rcu_dereference_protected(pl_table, true);
	RCU_INIT_POINTER(pl_table, NULL);
	if (t)
		queue_rcu_work(pl_wq, &t->free_work);
	rcu_barrier();		/* the rcu_works are queued once their grace period ends */
	destroy_workqueue(pl_wq);	/* runs what is queued */
}
