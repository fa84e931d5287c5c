// SPDX-License-Identifier: GPL-2.0
/*
 * The redirect table: which base inodes active layers replace. Lookups
 * read it under RCU without a lock; activation and drop build a new
 * immutable table and publish it with one pointer store, then bump the
 * generation that makes cached dentries look again. No lookup ever sees
 * half a layer. Writers hold pl_layers_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "fs.h"
#include "patchlayer.h"
#include "trace.h"

/*
 * Each process sees the layers as they were when it started: a layer
 * serves a process whose start time (boottime, as task->start_boottime)
 * falls in one of its activation windows. Two libraries of one layer are
 * then patched for a process, or neither, however activations and drops
 * interleave with its loading them.
 */
struct pl_windows {		/* a layer's windows, frozen in one table */
	struct pl_layer *layer;	/* a reference */
	unsigned int n;
	struct pl_window w[];
};

struct pl_redirect {
	struct inode *base;		/* the key: a lower inode */
	const struct pl_windows *win;
	unsigned int file;
};

struct pl_redirect_table {
	struct rcu_work free_work;
	size_t n_layers;
	struct pl_windows **layers;
	/* r again, by base's inode number: what readdir reports (pl_redirect_ino) */
	const struct pl_redirect **by_ino;
	size_t n;
	struct pl_redirect r[];		/* sorted by base */
};

static struct pl_redirect_table __rcu *pl_table;
static struct workqueue_struct *pl_wq;
static atomic64_t pl_generation = ATOMIC64_INIT(1);

/*
 * A lower bound of the timestamp of the activation or drop being made,
 * until its table is published; U64_MAX when none is. A process started
 * after that timestamp belongs to the new view, which the table does not
 * show yet: answering it from the old one would let it load one library
 * as before the change and the next as after (pl_view_settle).
 */
static u64 pl_change_since = U64_MAX;

u64 pl_redirect_generation(void)
{
	return atomic64_read_acquire(&pl_generation);
}

/*
 * The time a process's view of the layers is taken at: when the program it
 * runs started. A child forked without exec runs its parent's program, with
 * its parent's libraries mapped, so it keeps its parent's view: a worker
 * forked after an activation must not add a patched library to unpatched
 * ones. Only execve renews the view. Linux records no exec time; the start
 * time of the process that last exec'd stands for it (fork and exec are
 * microseconds apart), and is never later than the exec.
 *
 * A task has not exec'd since its fork while its self_exec_id is still the
 * parent_exec_id it was forked with (a thread's exec changes it too), and
 * its parent still runs the program it had then while the parent's
 * self_exec_id is that value. A reaper (init, a subreaper) may have adopted
 * the child: the walk stops there, as it does after PL_VIEW_MAX_FORKS
 * generations (an older view never mixes, it only serves the base longer).
 */
#define PL_VIEW_MAX_FORKS 64

u64 pl_view_time(void)
{
	const struct task_struct *t = current->group_leader;
	u64 view;

	rcu_read_lock();
	for (int i = 0; i < PL_VIEW_MAX_FORKS; i++) {
		struct task_struct *p;
		struct pid *pid;

		if (READ_ONCE(t->self_exec_id) != t->parent_exec_id)
			break;
		p = rcu_dereference(t->real_parent);
		/* a parent released meanwhile has no pid any more (RCU keeps it readable) */
		pid = READ_ONCE(p->thread_pid);
		if (!pid || READ_ONCE(p->self_exec_id) != t->parent_exec_id ||
		    p->flags & PF_KTHREAD || is_child_reaper(pid) ||
		    p->signal->is_child_subreaper)
			break;
		t = READ_ONCE(p->group_leader);
	}
	view = t->start_boottime;
	rcu_read_unlock();
	return view;
}

/*
 * Whether a change of the layers that the caller's view includes is under
 * way. Read before the generation and the table: once it reads as done,
 * they are the change's.
 */
bool pl_view_pending(u64 view)
{
	return smp_load_acquire(&pl_change_since) <= view;
}

/*
 * Waits (microseconds) for the table of a change the caller's view
 * includes. Killable, so that no bug of ours can leave a process that
 * nothing can end; -EINTR then.
 */
int pl_view_settle(void)
{
	u64 view = pl_view_time();

	return wait_var_event_killable(&pl_change_since, !pl_view_pending(view));
}

/*
 * Returns the timestamp of a change of windows. A process that read
 * pl_change_since before it was set had started before it was set, so
 * before the timestamp: the old view is its own.
 */
static u64 pl_change_begin(void)
{
	lockdep_assert_held(&pl_layers_lock);
	WRITE_ONCE(pl_change_since, ktime_get_boottime_ns());
	smp_mb();
	return ktime_get_boottime_ns();
}

/* After the change's table is published, or after it failed. */
static void pl_change_end(void)
{
	smp_store_release(&pl_change_since, U64_MAX);
	/*
	 * wake_up_var() reads the wait queue without its lock: without a full
	 * barrier that read may pass the store above, miss a waiter that just
	 * queued itself and saw the old value, and leave it asleep for good.
	 */
	smp_mb();
	wake_up_var(&pl_change_since);
}

static int pl_redirect_cmp(const void *a, const void *b)
{
	const struct inode *x = ((const struct pl_redirect *)a)->base;
	const struct inode *y = ((const struct pl_redirect *)b)->base;

	return x < y ? -1 : x > y;
}

/* Whether window W serves a process whose view was taken at VIEW. */
static bool pl_window_holds(const struct pl_window *w, u64 view)
{
	return w->from <= view && view < w->to;
}

/* The first entry for BASE, or the end. */
static const struct pl_redirect *pl_table_first(const struct pl_redirect_table *t,
						const struct inode *base)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->r[mid].base < base)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &t->r[lo];
}

/*
 * What BASE serves to the calling process: if a layer's window holds its
 * start time, points PD at that layer's replacement (taking references).
 * Either way PD learns the range of start times its answer holds for.
 */
bool pl_redirect_get(const struct inode *base, struct pl_dentry *pd)
{
	const struct pl_redirect *r, *end, *chosen = NULL;
	const struct pl_redirect_table *t;
	u64 s = pl_view_time(), lo = 0, hi = U64_MAX;
	struct pl_window cw = { 0, 0 };
	struct path old = { };

	rcu_read_lock();
	t = rcu_dereference(pl_table);
	if (!t)
		goto out;
	end = t->r + t->n;
	for (r = pl_table_first(t, base); r < end && r->base == base; r++) {
		for (unsigned int i = 0; i < r->win->n; i++) {
			const struct pl_window *w = &r->win->w[i];

			if (pl_window_holds(w, s)) {
				chosen = r;
				cw = *w;
			} else if (w->to <= s) {
				lo = max(lo, w->to);
			} else {
				hi = min(hi, w->from);
			}
		}
	}
	if (chosen) {
		struct pl_layer *layer = chosen->win->layer;

		/* the table holds the layer, the layer holds its files */
		old = pd->real;		/* dput may sleep: put after the RCU section */
		pd->real = layer->files[chosen->file].file->f_path;
		path_get(&pd->real);
		pd->layer = pl_layer_get(layer);
		pd->file = chosen->file;
		lo = cw.from;
		hi = cw.to;
	}
out:
	rcu_read_unlock();
	path_put(&old);
	pd->view_from = lo;
	pd->view_to = hi;
	return chosen;
}

static int pl_redirect_ino_cmp(const void *a, const void *b)
{
	const struct inode *x = (*(const struct pl_redirect **)a)->base;
	const struct inode *y = (*(const struct pl_redirect **)b)->base;

	if (x->i_ino != y->i_ino)
		return x->i_ino < y->i_ino ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * The inode number a directory listing reports for a name whose lower
 * inode is INO on SB: what stat of the name tells the caller (pl_getattr),
 * the replacement's when a layer serves the caller that base, else INO.
 * Tools that match d_ino against st_ino (find, du, fts) must not see two
 * files where there is one. VIEW is the caller's pl_view_time(), settled.
 */
u64 pl_redirect_ino(const struct super_block *sb, u64 ino, u64 view)
{
	const struct pl_redirect_table *t;
	size_t lo = 0, hi;

	rcu_read_lock();
	t = rcu_dereference(pl_table);
	hi = t ? t->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->by_ino[mid]->base->i_ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; t && lo < t->n && t->by_ino[lo]->base->i_ino == ino; lo++) {
		const struct pl_redirect *r = t->by_ino[lo];

		if (r->base->i_sb != sb)
			continue;
		for (unsigned int i = 0; i < r->win->n; i++) {
			if (pl_window_holds(&r->win->w[i], view)) {
				ino = d_inode(r->win->layer->files[r->file].file->f_path.dentry)->i_ino;
				goto out;
			}
		}
	}
out:
	rcu_read_unlock();
	return ino;
}

/* Whether a table's copy of a layer's windows ends with an open one. */
static bool pl_windows_open(const struct pl_windows *win)
{
	return win->n && win->w[win->n - 1].to == U64_MAX;
}

/* Whether a layer in the table serves BASE: an active one, or any. */
static bool pl_redirect_has(const struct inode *base, bool active)
{
	const struct pl_redirect *r, *end;
	const struct pl_redirect_table *t;
	bool found = false;

	rcu_read_lock();
	t = rcu_dereference(pl_table);
	if (!t || !base)
		goto out;
	end = t->r + t->n;
	for (r = pl_table_first(t, base); r < end && r->base == base && !found; r++)
		found = !active || pl_windows_open(r->win);
out:
	rcu_read_unlock();
	return found;
}

/* Whether any layer in the table, active or not, serves BASE in some view. */
bool pl_redirect_known(const struct inode *base)
{
	return pl_redirect_has(base, false);
}

/* Whether an active layer redirects BASE now, whoever asks. */
bool pl_redirect_active(const struct inode *base)
{
	return pl_redirect_has(base, true);
}

static void pl_table_free(struct pl_redirect_table *t)
{
	for (size_t i = 0; i < t->n_layers; i++) {
		if (t->layers[i]) {
			pl_layer_put(t->layers[i]->layer);
			kvfree(t->layers[i]);
		}
	}
	kvfree(t->layers);
	kvfree(t->by_ino);
	kvfree(t);
}

static void pl_table_free_work(struct work_struct *work)
{
	pl_table_free(container_of(to_rcu_work(work), struct pl_redirect_table, free_work));
}

static struct pl_redirect_table *pl_current_table(void)
{
	return rcu_dereference_protected(pl_table, lockdep_is_held(&pl_layers_lock));
}

static bool pl_layer_in_table(const struct pl_layer *layer, const struct pl_layer *exclude)
{
	return layer != exclude && !layer->removed && layer->n_windows > 0;
}

/*
 * A table of every loaded layer that was ever active, but EXCLUDE, with
 * its windows as they are now. -EBUSY if two layers are active on a base.
 */
static struct pl_redirect_table *pl_table_build(struct pl_layer *exclude)
{
	struct pl_redirect_table *t;
	size_t n = 0, n_layers = 0, k = 0, l = 0;
	struct pl_layer *layer;

	lockdep_assert_held(&pl_layers_lock);
	pl_for_each_layer(layer) {
		if (pl_layer_in_table(layer, exclude)) {
			n += layer->n_files;
			n_layers++;
		}
	}
	/* a failure is the writer's ENOMEM, not a kernel splat (NOWARN) */
	t = kvzalloc(struct_size(t, r, n), GFP_KERNEL | __GFP_NOWARN);
	if (!t)
		return ERR_PTR(-ENOMEM);
	INIT_RCU_WORK(&t->free_work, pl_table_free_work);
	t->layers = kvcalloc(n_layers ?: 1, sizeof(*t->layers), GFP_KERNEL | __GFP_NOWARN);
	if (!t->layers)
		goto err_nomem;
	t->n_layers = n_layers;
	pl_for_each_layer(layer) {
		struct pl_windows *win;

		if (!pl_layer_in_table(layer, exclude))
			continue;
		win = kvmalloc(struct_size(win, w, layer->n_windows), GFP_KERNEL | __GFP_NOWARN);
		if (!win)
			goto err_nomem;
		win->layer = pl_layer_get(layer);
		win->n = layer->n_windows;
		memcpy(win->w, layer->windows, win->n * sizeof(win->w[0]));
		t->layers[l++] = win;
		for (size_t i = 0; i < layer->n_files; i++)
			t->r[k++] = (struct pl_redirect){
				.base = layer->files[i].base, .win = win, .file = i,
			};
	}
	t->n = n;
	sort(t->r, t->n, sizeof(t->r[0]), pl_redirect_cmp, NULL);
	t->by_ino = kvmalloc_array(n ?: 1, sizeof(*t->by_ino), GFP_KERNEL | __GFP_NOWARN);
	if (!t->by_ino)
		goto err_nomem;
	for (size_t i = 0; i < n; i++)
		t->by_ino[i] = &t->r[i];
	sort(t->by_ino, n, sizeof(*t->by_ino), pl_redirect_ino_cmp, NULL);
	for (size_t i = 0; i < t->n; i++) {
		unsigned int open = 0;
		size_t j;

		for (j = i; j < t->n && t->r[j].base == t->r[i].base; j++)
			open += pl_windows_open(t->r[j].win);
		if (open > 1) {
			pl_table_free(t);
			return ERR_PTR(-EBUSY);
		}
		i = j - 1;
	}
	return t;

err_nomem:
	pl_table_free(t);
	return ERR_PTR(-ENOMEM);
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

/* Builds and publishes the table without EXCLUDE (a layer being unloaded). */
int pl_redirect_republish(struct pl_layer *exclude)
{
	struct pl_redirect_table *t = pl_table_build(exclude);

	if (IS_ERR(t))
		return PTR_ERR(t);
	pl_table_publish(t);
	return 0;
}

/*
 * The edge of a window whose change is being prepared: the table is built
 * with it, before the change's timestamp is taken (pl_change_begin), so
 * that processes waiting for the publication wait for a few stores, not
 * for allocations and a sort. Nothing reads a window before its table is
 * published. Not U64_MAX, which marks the open window.
 */
#define PL_TIME_PENDING (U64_MAX - 1)

/* The table's copy of LAYER's last window. */
static struct pl_window *pl_table_last_window(struct pl_redirect_table *t,
					      const struct pl_layer *layer)
{
	for (size_t i = 0; i < t->n_layers; i++) {
		struct pl_windows *win = t->layers[i];

		if (win->layer == layer)
			return &win->w[win->n - 1];
	}
	return NULL;
}

/* Sets the edge of LAYER's last window, in the layer and in table T. */
static void pl_window_stamp(struct pl_redirect_table *t, struct pl_layer *layer,
			    bool opening, u64 now)
{
	struct pl_window *w[2] = {
		&layer->windows[layer->n_windows - 1], pl_table_last_window(t, layer),
	};

	for (int i = 0; i < ARRAY_SIZE(w); i++) {
		if (WARN_ON_ONCE(!w[i]))
			continue;
		if (opening)
			w[i]->from = now;
		else
			w[i]->to = now;
	}
}

/* Opens a window at NOW; the oldest goes when there are too many. */
static int pl_window_open(struct pl_layer *layer, u64 now)
{
	if (layer->n_windows == PL_MAX_WINDOWS) {
		memmove(layer->windows, layer->windows + 1,
			(PL_MAX_WINDOWS - 1) * sizeof(layer->windows[0]));
		layer->n_windows--;
	}
	if (!layer->windows) {
		layer->windows = kvcalloc(PL_MAX_WINDOWS, sizeof(layer->windows[0]),
					  GFP_KERNEL | __GFP_NOWARN);
		if (!layer->windows)
			return -ENOMEM;
	}
	layer->windows[layer->n_windows++] = (struct pl_window){ .from = now, .to = U64_MAX };
	return 0;
}

static bool pl_window_is_open(const struct pl_layer *layer)
{
	return layer->n_windows && layer->windows[layer->n_windows - 1].to == U64_MAX;
}

/* Whether TARGET still resolves to the lower inode verified at load, unchanged. */
static int pl_check_base(const struct pl_layer_file *f)
{
	struct timespec64 mtime, ctime;
	struct path lower;
	struct inode *inode;
	int err;

	err = pl_fs_lower_path(f->target, &lower);
	if (err)
		return err;
	inode = d_inode(lower.dentry);
	if (inode != f->base || i_size_read(inode) != f->base_size)
		err = -ESTALE;
	mtime = pl_inode_mtime(inode);
	ctime = pl_inode_ctime(inode);
	if (!timespec64_equal(&mtime, &f->base_mtime) || !timespec64_equal(&ctime, &f->base_ctime))
		err = -ESTALE;
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

static void pl_recheck_later(struct pl_layer *layer);

int pl_redirect_activate(struct pl_layer *layer, const char **why)
{
	struct pl_layer *pred = NULL;
	struct pl_redirect_table *t;
	u64 start = ktime_get_ns(), now;
	int err = 0;

	lockdep_assert_held(&pl_layers_lock);
	if (layer->state == PL_LAYER_ACTIVE)
		return 0;
	for (size_t i = 0; i < layer->n_files && !err; i++) {
		err = pl_check_base(&layer->files[i]);
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
		return err;

	if (layer->replaces[0]) {
		pred = pl_layer_find(layer->replaces);
		if (pred && !pl_window_is_open(pred))
			pred = NULL;
	}
	err = pl_window_open(layer, PL_TIME_PENDING);
	if (err) {
		*why = "out of memory";
		return err;
	}
	if (pred)
		pred->windows[pred->n_windows - 1].to = PL_TIME_PENDING;
	t = pl_table_build(NULL);
	if (IS_ERR(t)) {
		err = PTR_ERR(t);
		*why = err == -EBUSY ? "another active layer redirects one of its targets" :
				       "out of memory";
		layer->n_windows--;
		if (pred)
			pred->windows[pred->n_windows - 1].to = U64_MAX;
		return err;
	}
	/* the predecessor's window closes where the successor's opens */
	now = pl_change_begin();
	pl_window_stamp(t, layer, true, now);
	if (pred)
		pl_window_stamp(t, pred, false, now);
	pl_table_publish(t);	/* predecessor out, layer in: one publication */
	pl_change_end();
	/* a base changed since pl_check_base was not seen by the table */
	smp_mb();
	pl_recheck_later(layer);
	layer->activated_at = ktime_get_real_seconds();
	layer->activate_ns = ktime_get_ns() - start;
	if (pred)
		pl_set_state(pred, PL_LAYER_LOADED, "replaced by a cumulative layer");
	pl_set_state(layer, PL_LAYER_ACTIVE, pred ? "activated, replacing its predecessor" :
						    "activated");
	*why = NULL;
	return 0;
}

/*
 * New processes get the base; those started while the layer was active
 * keep it for what they load later, so that they never mix.
 */
int pl_redirect_drop(struct pl_layer *layer, enum pl_layer_state state, const char *why)
{
	struct pl_redirect_table *t;
	struct pl_window *w;

	lockdep_assert_held(&pl_layers_lock);
	if (layer->state != PL_LAYER_ACTIVE)
		return 0;
	w = &layer->windows[layer->n_windows - 1];
	w->to = PL_TIME_PENDING;
	t = pl_table_build(NULL);
	if (IS_ERR(t)) {
		w->to = U64_MAX;
		return PTR_ERR(t);
	}
	pl_window_stamp(t, layer, false, pl_change_begin());
	pl_table_publish(t);
	pl_change_end();
	pl_set_state(layer, state, why);
	return 0;
}

/*
 * Whether LAYER's bases are still the files it was verified against: the
 * same inode at each target (else a package update replaced or removed it:
 * superseded), not written since the layer was activated, with the same
 * size and mtime (else it was changed in place: stale). The ctime is not
 * compared: unlinking another hard link of a base changes it and nothing
 * else. Returns an error when it could not tell, to be asked again.
 */
static int pl_recheck(struct pl_layer *layer)
{
	bool written = test_and_clear_bit(PL_LAYER_BASE_WRITTEN, &layer->flags);

	for (size_t i = 0; i < layer->n_files; i++) {
		const struct pl_layer_file *f = &layer->files[i];
		struct timespec64 mtime;
		struct path lower;
		struct inode *inode;
		bool same;
		int err;

		err = pl_fs_lower_path(f->target, &lower);
		if (err == -ENOENT || (!err && d_inode(lower.dentry) != f->base)) {
			if (!err)
				path_put(&lower);
			return pl_redirect_drop(layer, PL_LAYER_SUPERSEDED,
						"a package update replaced a base file");
		}
		if (err)	/* ENOMEM, or the target's mount moved: ask again */
			return err;
		inode = d_inode(lower.dentry);
		mtime = pl_inode_mtime(inode);
		same = i_size_read(inode) == f->base_size &&
		       timespec64_equal(&mtime, &f->base_mtime);
		path_put(&lower);
		if (!same)
			written = true;
	}
	if (written)
		return pl_redirect_drop(layer, PL_LAYER_STALE, "a base file was changed in place");
	return 0;
}

static void pl_recheck_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(pl_recheck_work, pl_recheck_work_fn);

static void pl_recheck_work_fn(struct work_struct *work)
{
	struct pl_layer *layer;
	bool again = false;

	mutex_lock(&pl_layers_lock);
	pl_for_each_layer(layer) {
		if (!test_and_clear_bit(PL_LAYER_RECHECK, &layer->flags) ||
		    layer->state != PL_LAYER_ACTIVE)
			continue;
		/* no later event may come (the mark is on the replaced inode) */
		if (pl_recheck(layer)) {
			set_bit(PL_LAYER_RECHECK, &layer->flags);
			again = true;
		}
	}
	mutex_unlock(&pl_layers_lock);
	if (again)
		queue_delayed_work(pl_wq, &pl_recheck_work, HZ);
}

static void pl_recheck_later(struct pl_layer *layer)
{
	if (!test_and_set_bit(PL_LAYER_RECHECK, &layer->flags))
		mod_delayed_work(pl_wq, &pl_recheck_work, 0);
}

/*
 * Called by watch.c when the lower inode BASE changed: its link count, its
 * data (WRITTEN) or its name. The layers serving it are checked again by a worker,
 * because the caller holds filesystem locks that pl_layers_lock must not
 * nest in.
 */
void pl_redirect_base_changed(const struct inode *base, bool written)
{
	const struct pl_redirect_table *t;
	const struct pl_redirect *r;

	/*
	 * The change is done; the table is read after it. An activation
	 * publishes its table before it checks its bases again (below): one
	 * of the two sees the other.
	 */
	smp_mb();
	rcu_read_lock();
	t = rcu_dereference(pl_table);
	for (r = t ? pl_table_first(t, base) : NULL; r && r < t->r + t->n && r->base == base; r++)
		if (pl_windows_open(r->win)) {
			/* a write that restores size and mtime is a change too */
			if (written)
				set_bit(PL_LAYER_BASE_WRITTEN, &r->win->layer->flags);
			pl_recheck_later(r->win->layer);
		}
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

	/* no layer is left to ask for it again */
	cancel_delayed_work_sync(&pl_recheck_work);
	t = rcu_dereference_protected(pl_table, true);
	RCU_INIT_POINTER(pl_table, NULL);
	if (t)
		queue_rcu_work(pl_wq, &t->free_work);
	rcu_barrier();		/* the rcu_works are queued once their grace period ends */
	destroy_workqueue(pl_wq);	/* runs what is queued */
}
