// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping the BPF side's maps in step with the module's layers (plbpf.h):
 * all of them from sysfs (pl_bpf_sync()), or one layer as a netlink event
 * names it (pl_bpf_sync_layer()), which writes that layer's entries only.
 * Who owns an inode two layers share is plbpf_files.c's pl_bpf_owner().
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "patchlayer.h"
#include "plbpf_priv.h"

struct pl_sync_file {
	struct pl_bpf_inode file, base;
};

struct pl_sync_layer {
	pl_name_key name;
	bool active;
	int slot;
	struct pl_sync_file *files;
	size_t n_files;
};

/* layers/<name>/files: the last two fields of each line name the inodes */
static int pl_read_files(struct pl_bpf *b, const char *name, struct pl_sync_layer *l)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/layers/%s/files", pl_sysfs_dir(), name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	b->files_reads++;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct pl_sync_file *grown;

		grown = realloc(l->files, (l->n_files + 1) * sizeof(*l->files));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		l->files = grown;
		err = pl_bpf_parse_files_line(line, &l->files[l->n_files].file,
					      &l->files[l->n_files].base);
		if (err)
			break;
		l->n_files++;
	}
	free(line);
	fclose(f);
	return err;
}

bool pl_bpf_state_active(const char *name)
{
	char attr[PL_BPF_NAME_MAX + 32], state[32];

	snprintf(attr, sizeof(attr), "layers/%s/state", name);
	return pl_sysfs_read(attr, state, sizeof(state)) >= 0 && strcmp(state, "active") == 0;
}

/* The layer's state: 1 active, 0 loaded otherwise, -ENOENT not loaded. */
static int pl_layer_state(const char *name)
{
	char attr[PL_BPF_NAME_MAX + 32], state[32];
	int err;

	snprintf(attr, sizeof(attr), "layers/%s/state", name);
	err = pl_sysfs_read(attr, state, sizeof(state));
	if (err < 0)
		return err;
	return strcmp(state, "active") == 0;
}

static void pl_free_layers(struct pl_sync_layer *ls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ls[i].files);
	free(ls);
}

/* Every layer the module has loaded, with its inodes and whether it is active. */
static int pl_read_module_layers(struct pl_bpf *b, struct pl_sync_layer **out, size_t *count)
{
	struct pl_sync_layer *ls = NULL, *grown;
	char dirpath[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	int err = 0;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "%s/layers", pl_sysfs_dir());
	d = opendir(dirpath);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) > PL_BPF_NAME_MAX)
			continue;
		grown = realloc(ls, (n + 1) * sizeof(*ls));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		ls = grown;
		memset(&ls[n], 0, sizeof(ls[n]));
		strcpy(ls[n].name, de->d_name);
		ls[n].slot = -1;
		ls[n].active = pl_bpf_state_active(de->d_name);
		err = pl_read_files(b, de->d_name, &ls[n]);
		n++;
		/* a layer unloaded meanwhile is simply left out */
		if (err == -ENOENT) {
			free(ls[--n].files);
			err = 0;
		}
		if (err)
			break;
	}
	closedir(d);
	if (err) {
		pl_free_layers(ls, n);
		return err;
	}
	*out = ls;
	*count = n;
	return 0;
}

/* Frees slot I of the layers map: its layer (NAME, when not NULL) is gone. */
static int pl_slot_free(struct pl_bpf *b, __u32 i, const char *name)
{
	struct pl_bpf_layer s;

	if (bpf_map_lookup_elem(b->layers_fd, &i, &s))
		return -errno;
	/* another sync freed it, and gave it to another layer since */
	if (name && strncmp(s.name, name, sizeof(s.name)))
		return 0;
	if (s.name[0])
		bpf_map_delete_elem(b->slots_fd, s.name);
	memset(s.name, 0, sizeof(s.name));
	s.active = s.enforce = 0;
	return bpf_map_update_elem(b->layers_fd, &i, &s, BPF_ANY) ? -errno : 0;
}

/* Gives NAME a free slot of SLOTS (the layers map as read) and a new gen. */
static int pl_slot_take(struct pl_bpf *b, struct pl_bpf_layer *slots, const char *name,
			bool active, int *slot)
{
	struct pl_bpf_layer *s;
	struct pl_bpf_counts zero;
	__u32 i, gen;

	for (i = 0; i < PL_BPF_MAX_LAYERS && slots[i].name[0]; i++)
		;
	if (i == PL_BPF_MAX_LAYERS)
		return -ENOSPC;
	s = &slots[i];
	gen = s->gen + 1 ?: 1;
	memset(s, 0, sizeof(*s));
	s->gen = gen;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->active = active;
	zero = (struct pl_bpf_counts){ .gen = gen };
	*slot = (int)i;
	/* counted from zero, before BPF sees the new gen */
	if (bpf_map_update_elem(b->counts_fd, &i, &zero, BPF_ANY) ||
	    bpf_map_update_elem(b->layers_fd, &i, s, BPF_ANY) ||
	    bpf_map_update_elem(b->slots_fd, s->name, &i, BPF_ANY))
		return -errno;
	return 0;
}

/* Sets slot I's activity as the module says; a layer not active loses enforcement. */
static int pl_slot_active(struct pl_bpf *b, struct pl_bpf_layer *s, __u32 i, bool active)
{
	if (s->active == active)
		return 0;
	s->active = active;
	if (!active)
		s->enforce = 0;
	return bpf_map_update_elem(b->layers_fd, &i, s, BPF_ANY) ? -errno : 0;
}

/* Gives every loaded layer a slot, frees the slots of unloaded ones. */
static int pl_sync_slots(struct pl_bpf *b, struct pl_sync_layer *ls, size_t n)
{
	struct pl_bpf_layer slots[PL_BPF_MAX_LAYERS];
	int err = 0;

	for (__u32 i = 0; i < PL_BPF_MAX_LAYERS; i++)
		if (bpf_map_lookup_elem(b->layers_fd, &i, &slots[i]))
			return -errno;
	for (__u32 i = 0; i < PL_BPF_MAX_LAYERS; i++) {
		size_t j;

		if (!slots[i].name[0])
			continue;
		for (j = 0; j < n && strcmp(ls[j].name, slots[i].name); j++)
			;
		if (j < n) {
			ls[j].slot = (int)i;
			continue;
		}
		err = pl_slot_free(b, i, NULL);
		if (err)
			return err;
		memset(slots[i].name, 0, sizeof(slots[i].name));
	}
	for (size_t j = 0; j < n; j++) {
		int e;

		if (ls[j].slot < 0) {
			e = pl_slot_take(b, slots, ls[j].name, ls[j].active, &ls[j].slot);
			if (e == -ENOSPC) {
				err = e;
				continue;
			}
			if (e)
				return e;
			continue;
		}
		e = pl_slot_active(b, &slots[ls[j].slot], (__u32)ls[j].slot, ls[j].active);
		if (e)
			return e;
	}
	return err;
}

void pl_bpf_cache_free(struct pl_bpf *b)
{
	for (int i = 0; i < PL_BPF_MAX_LAYERS; i++) {
		free(b->cache[i].ents);
		memset(&b->cache[i], 0, sizeof(b->cache[i]));
	}
	b->cached = false;
}

/* Slot I of the cache: layer L's entries. */
static int pl_cache_set(struct pl_bpf *b, int i, const struct pl_sync_layer *l)
{
	struct pl_bpf_slot_cache *c = &b->cache[i];
	struct pl_bpf_entry *ents;
	size_t n;
	int err;

	err = pl_bpf_entries((const struct pl_bpf_inode *)l->files, l->n_files, (__u32)i,
			     &ents, &n);
	if (err)
		return err;
	free(c->ents);
	memcpy(c->name, l->name, sizeof(c->name));
	c->active = l->active;
	c->ents = ents;
	c->n = n;
	return 0;
}

/* What the cache says of KEY, written to "watched": its owner's entry, or none. */
static int pl_put(struct pl_bpf *b, const struct pl_bpf_inode *key)
{
	struct pl_bpf_watch w;

	if (pl_bpf_owner(b->cache, key, &w, NULL)) {
		if (!bpf_map_update_elem(b->watched_fd, key, &w, BPF_NOEXIST)) {
			b->added = true;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
		return bpf_map_update_elem(b->watched_fd, key, &w, BPF_ANY) ? -errno : 0;
	}
	if (bpf_map_delete_elem(b->watched_fd, key) && errno != ENOENT)
		return -errno;
	return 0;
}

/* The whole of "watched" in a few system calls (batch lookups). */
int pl_bpf_dump_watched(struct pl_bpf *b, struct pl_bpf_entry **out, size_t *count)
{
	size_t cap = 4096, n = 0;
	struct pl_bpf_inode *keys = malloc(cap * sizeof(*keys));
	struct pl_bpf_watch *vals = malloc(cap * sizeof(*vals));
	struct pl_bpf_entry *ents = NULL;
	__u64 in[2], out_batch[2];	/* a hash map's batch token: a bucket index */
	bool first = true;
	int err = 0;

	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	while (keys && vals) {
		__u32 chunk = (__u32)(cap - n);

		if (bpf_map_lookup_batch(b->watched_fd, first ? NULL : in, out_batch, keys + n,
					 vals + n, &chunk, &opts)) {
			err = errno == ENOENT ? 0 : -errno;
			n += chunk;
			break;
		}
		n += chunk;
		first = false;
		memcpy(in, out_batch, sizeof(in));
		if (cap - n < 1024) {
			struct pl_bpf_inode *k2 = realloc(keys, 2 * cap * sizeof(*keys));
			struct pl_bpf_watch *v2;

			if (k2)
				keys = k2;
			v2 = k2 ? realloc(vals, 2 * cap * sizeof(*vals)) : NULL;
			if (!v2) {
				err = -ENOMEM;
				break;
			}
			vals = v2;
			cap *= 2;
		}
	}
	if (!keys || !vals)
		err = -ENOMEM;
	if (!err) {
		ents = calloc(n + 1, sizeof(*ents));
		if (!ents)
			err = -ENOMEM;
		for (size_t i = 0; ents && i < n; i++) {
			ents[i].key = keys[i];
			ents[i].w = vals[i];
		}
	}
	free(keys);
	free(vals);
	*out = ents;
	*count = err ? 0 : n;
	return err;
}

/*
 * Makes "watched" exactly what the cache says: every key of a loaded
 * layer to its owner, nothing else; writes only what differs.
 */
static int pl_sync_watched(struct pl_bpf *b)
{
	struct pl_bpf_entry *have;
	size_t n_have;
	int err;

	err = pl_bpf_dump_watched(b, &have, &n_have);
	if (err)
		return err;
	qsort(have, n_have, sizeof(*have), pl_bpf_entry_cmp);
	for (size_t i = 0; i < n_have; i++) {
		struct pl_bpf_watch w;

		if (!pl_bpf_owner(b->cache, &have[i].key, &w, NULL))
			bpf_map_delete_elem(b->watched_fd, &have[i].key);
	}
	for (int s = 0; s < PL_BPF_MAX_LAYERS && !err; s++) {
		const struct pl_bpf_slot_cache *c = &b->cache[s];

		for (size_t i = 0; i < c->n; i++) {
			struct pl_bpf_watch w;
			struct pl_bpf_entry *h;

			/* the owner's own entry only, written once */
			if (!pl_bpf_owner(b->cache, &c->ents[i].key, &w, NULL) || w.slot != (__u32)s)
				continue;
			h = bsearch(&c->ents[i], have, n_have, sizeof(*have), pl_bpf_entry_cmp);
			if (h && !memcmp(&h->w, &w, sizeof(w)))
				continue;
			if (bpf_map_update_elem(b->watched_fd, &c->ents[i].key, &w, BPF_ANY))
				err = -errno;
			else if (!h)
				b->added = true;
		}
	}
	free(have);
	return err;
}

/*
 * Keys added to "watched": the processes' lists (plbpf.bpf.c) lack them,
 * the next scan seeds them again. After the keys, so a list completed
 * with the new wgen had them all.
 */
static int pl_bump_wgen(struct pl_bpf *b)
{
	struct pl_bpf_scanstate st;
	__u32 zero = 0;

	if (!b->added)
		return 0;
	if (bpf_map_lookup_elem(b->scanstate_fd, &zero, &st))
		return -errno;
	st.wgen = st.wgen + 1 ?: 1;
	if (bpf_map_update_elem(b->scanstate_fd, &zero, &st, BPF_ANY))
		return -errno;
	b->added = false;
	return 0;
}

int pl_bpf_sync(struct pl_bpf *b)
{
	int err;

	err = pl_bpf_lock(b);
	if (err)
		return err;
	/* a layer activated or dropped meanwhile: once more, with its new state */
	for (int attempt = 0; attempt < 5; attempt++) {
		struct pl_sync_layer *ls = NULL;
		bool moved = false;
		size_t n = 0;

		err = pl_read_module_layers(b, &ls, &n);
		if (err)
			break;
		err = pl_sync_slots(b, ls, n);
		if (!err || err == -ENOSPC) {
			int werr = 0;

			pl_bpf_cache_free(b);
			for (size_t j = 0; j < n && !werr; j++)
				if (ls[j].slot >= 0)
					werr = pl_cache_set(b, ls[j].slot, &ls[j]);
			b->cached = !werr;
			werr = werr ?: pl_sync_watched(b);
			err = err ?: werr;
		}
		for (size_t j = 0; j < n && !err; j++)
			moved |= pl_bpf_state_active(ls[j].name) != ls[j].active;
		pl_free_layers(ls, n);
		if (err || !moved)
			break;
	}
	if (err)
		pl_bpf_cache_free(b);
	/* what was added before a failure, too */
	err = pl_bump_wgen(b) ?: err;
	pl_bpf_unlock(b);
	return err;
}

/* The cache's slot of NAME, -1 when it has none. */
static int pl_cache_slot(struct pl_bpf *b, const char *name)
{
	for (int i = 0; i < PL_BPF_MAX_LAYERS; i++)
		if (b->cache[i].name[0] && !strncmp(b->cache[i].name, name, sizeof(b->cache[i].name)))
			return i;
	return -1;
}

/* Rewrites the owner of each of ENTS (shared ones only, with ONLY_SHARED). */
static int pl_put_all(struct pl_bpf *b, const struct pl_bpf_entry *ents, size_t n,
		      bool only_shared)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		struct pl_bpf_watch w;
		bool shared = false;

		if (only_shared && (!pl_bpf_owner(b->cache, &ents[i].key, &w, &shared) || !shared))
			continue;
		err = pl_put(b, &ents[i].key);
	}
	return err;
}

/* LAYER is gone: its slot freed, its entries given to others or removed. */
static int pl_layer_gone(struct pl_bpf *b, int i)
{
	struct pl_bpf_slot_cache old = b->cache[i];
	int err;

	memset(&b->cache[i], 0, sizeof(b->cache[i]));
	err = pl_put_all(b, old.ents, old.n, false);
	free(old.ents);
	return pl_slot_free(b, (__u32)i, old.name) ?: err;
}

static int pl_layer_loaded(struct pl_bpf *b, const char *layer, bool active)
{
	struct pl_bpf_layer slots[PL_BPF_MAX_LAYERS];
	struct pl_sync_layer l = { .slot = -1, .active = active };
	struct pl_bpf_slot_cache old = { 0 };
	__u32 s;
	int err;

	snprintf(l.name, sizeof(l.name), "%s", layer);
	err = pl_read_files(b, layer, &l);
	if (err)
		goto out;
	/* a slot another sync gave it already, or a new one */
	if (!bpf_map_lookup_elem(b->slots_fd, l.name, &s) && s < PL_BPF_MAX_LAYERS) {
		l.slot = (int)s;
		if (bpf_map_lookup_elem(b->layers_fd, &s, &slots[s])) {
			err = -errno;
			goto out;
		}
		err = pl_slot_active(b, &slots[s], s, active);
	} else {
		for (__u32 i = 0; i < PL_BPF_MAX_LAYERS; i++)
			if (bpf_map_lookup_elem(b->layers_fd, &i, &slots[i])) {
				err = -errno;
				goto out;
			}
		err = pl_slot_take(b, slots, layer, active, &l.slot);
	}
	if (err)
		goto out;
	/* its slot's former entries (another layer's, or its own load before) */
	old = b->cache[l.slot];
	b->cache[l.slot].ents = NULL;
	err = pl_cache_set(b, l.slot, &l);
	if (!err)
		err = pl_put_all(b, old.ents, old.n, false) ?:
		      pl_put_all(b, b->cache[l.slot].ents, b->cache[l.slot].n, false);
out:
	free(old.ents);
	free(l.files);
	return err;
}

int pl_bpf_sync_layer(struct pl_bpf *b, const char *layer, enum pl_bpf_change what)
{
	int i, state, err;

	if (!b->cached || strlen(layer) > PL_BPF_NAME_MAX)
		return pl_bpf_sync(b);
	err = pl_bpf_lock(b);
	if (err)
		return err;
	i = pl_cache_slot(b, layer);
	/* unloaded (and maybe loaded again since: its LOADED event follows) */
	if (what == PL_BPF_CHANGE_UNLOADED) {
		err = i >= 0 ? pl_layer_gone(b, i) : 0;
		i = -1;
	}
	state = pl_layer_state(layer);
	if (state < 0) {
		/* not loaded (any more): a STATE or LOADED event of a layer since gone */
		if (i >= 0)
			err = pl_layer_gone(b, i);
	} else if (what == PL_BPF_CHANGE_LOADED || i < 0) {
		err = err ?: pl_layer_loaded(b, layer, state == 1);
	} else {
		/* activated, dropped, superseded: its inodes are the same ones */
		struct pl_bpf_layer s;
		__u32 slot = (__u32)i;

		if (bpf_map_lookup_elem(b->layers_fd, &slot, &s))
			err = -errno;
		else if (strncmp(s.name, layer, sizeof(s.name)))
			err = -ESTALE;	/* another sync moved it: the cache is old */
		else
			err = pl_slot_active(b, &s, slot, state == 1);
		b->cache[i].active = state == 1;
		err = err ?: pl_put_all(b, b->cache[i].ents, b->cache[i].n, true);
	}
	err = pl_bump_wgen(b) ?: err;
	pl_bpf_unlock(b);
	/* whatever went wrong, the whole of it from sysfs once more */
	if (err && err != -ENOSPC)
		err = pl_bpf_sync(b);
	return err;
}

unsigned long pl_bpf_files_reads(const struct pl_bpf *b)
{
	return b->files_reads;
}
