/* SPDX-License-Identifier: GPL-2.0 */
/* What plbpf.c and plbpf_sync.c share of a handle of the BPF side. */
#ifndef PL_PLBPF_PRIV_H
#define PL_PLBPF_PRIV_H

#include "plbpf.h"

struct pl_bpf {
	int dir_fd;		/* PL_BPF_PIN_DIR, flock()ed around changes */
	int watched_fd;
	int layers_fd;
	int counts_fd;
	int slots_fd;
	int events_fd;
	int scan_fd;
	int taskscan_fd;
	int changes_fd;		/* per-CPU count of changes to any answer */
	int scanstate_fd;
	pl_bpf_event_fn ev_cb;
	void *ev_ctx;
	/*
	 * Each slot's layer and entries as this handle last wrote them: what
	 * pl_bpf_sync_layer() changes without reading the other layers again.
	 */
	struct pl_bpf_slot_cache cache[PL_BPF_MAX_LAYERS];
	bool cached;
	unsigned long files_reads;
	bool added;		/* keys added to "watched": the lists need seeding */
};

typedef char pl_name_key[PL_BPF_NAME_MAX + 8];

int pl_bpf_lock(struct pl_bpf *b);
void pl_bpf_unlock(struct pl_bpf *b);
bool pl_bpf_state_active(const char *name);
void pl_bpf_cache_free(struct pl_bpf *b);
/* The whole of "watched", unsorted; *OUT malloc'ed. */
int pl_bpf_dump_watched(struct pl_bpf *b, struct pl_bpf_entry **out, size_t *count);

#endif /* PL_PLBPF_PRIV_H */
