// SPDX-License-Identifier: GPL-2.0
/* patchlayer status: the module's state as sysfs and netlink report it, and the daemon's. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/errno.h>

#include "../lib/config.h"
#include "layer.h"
#include "patchlayer.h"
#include "table.h"

struct layer_info {
	char name[72];
	char version[72];
	char state[32];
	char replaces[72];
	char hits[24];
	unsigned int files;
};

static int layer_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct layer_info *)a)->name, ((const struct layer_info *)b)->name);
}

/* Counts the lines of a sysfs file of any length. */
static unsigned int sysfs_count_lines(const char *name)
{
	char path[4096];
	unsigned int n = 0;
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "%s/%s", pl_sysfs_dir(), name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Reads layers/<name>/ of every loaded layer, sorted by name. */
static int read_layers(struct layer_info **out, size_t *count)
{
	char dirpath[4096], attr[256];
	struct layer_info *layers = NULL, *grown;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "%s/layers", pl_sysfs_dir());
	d = opendir(dirpath);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		struct layer_info *l;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(l->name))
			continue;
		grown = realloc(layers, (n + 1) * sizeof(*layers));
		if (!grown) {
			free(layers);
			closedir(d);
			return -1;
		}
		layers = grown;
		l = &layers[n];
		memset(l, 0, sizeof(*l));
		strcpy(l->name, de->d_name);
		/* a layer unloaded meanwhile simply reads as empty */
		snprintf(attr, sizeof(attr), "layers/%s/version", l->name);
		pl_sysfs_read(attr, l->version, sizeof(l->version));
		snprintf(attr, sizeof(attr), "layers/%s/state", l->name);
		pl_sysfs_read(attr, l->state, sizeof(l->state));
		snprintf(attr, sizeof(attr), "layers/%s/replaces", l->name);
		pl_sysfs_read(attr, l->replaces, sizeof(l->replaces));
		snprintf(attr, sizeof(attr), "layers/%s/hits", l->name);
		pl_sysfs_read(attr, l->hits, sizeof(l->hits));
		snprintf(attr, sizeof(attr), "layers/%s/files", l->name);
		l->files = sysfs_count_lines(attr);
		n++;
	}
	closedir(d);
	if (n)
		qsort(layers, n, sizeof(*layers), layer_name_cmp);
	*out = layers;
	*count = n;
	return 0;
}

static void print_layers(const struct layer_info *layers, size_t n)
{
	static const char *const heads[] = {
		"NAME", "VERSION", "STATE", "FILES", "HITS", "REPLACES",
	};
	struct pl_table t;

	pl_table_init(&t, 6, heads, "lllrrl");
	for (size_t i = 0; i < n; i++) {
		char files[16];

		snprintf(files, sizeof(files), "%u", layers[i].files);
		if (pl_table_add(&t, layers[i].name, layers[i].version, layers[i].state, files,
				 layers[i].hits, layers[i].replaces[0] ? layers[i].replaces : NULL))
			break;	/* out of memory: the rows so far */
	}
	printf("layers:\n");
	pl_table_print(&t, stdout, "  ");
	pl_table_free(&t);
}

int cmd_status(int argc, char **argv, const struct pl_opts *o)
{
	struct layer_info *layers = NULL;
	size_t n_layers = 0;
	char locked[8] = "", generation[24] = "", mounts[4096] = "";
	char version[64];
	struct pl_nl_info nl;
	struct pl_config *store = NULL;	/* where the daemon keeps the layers */
	struct json j;
	int err, nl_err;
	long daemon;

	(void)argv;
	if (argc > 0) {
		pl_err("status takes no arguments");
		return PL_EXIT_USAGE;
	}
	if (!pl_module_loaded()) {
		if (o->json) {
			pl_json_begin(&j, o);
			json_object_start(&j, NULL);
			json_object_start(&j, "module");
			json_bool(&j, "loaded", false);
			json_object_end(&j);
			json_object_end(&j);
			json_finish(&j);
		}
		return pl_module_missing();
	}

	err = pl_sysfs_read("version", version, sizeof(version));
	if (err < 0) {
		pl_err_sys(-err, "%s/version", pl_sysfs_dir());
		return PL_EXIT_FAIL;
	}
	nl_err = pl_nl_get_info(&nl);
	pl_sysfs_read("trust_locked", locked, sizeof(locked));
	pl_sysfs_read("generation", generation, sizeof(generation));
	pl_sysfs_read("mounts", mounts, sizeof(mounts));
	daemon = pl_daemon_running();
	if (read_layers(&layers, &n_layers)) {
		pl_err_sys(errno, "%s/layers", pl_sysfs_dir());
		return PL_EXIT_FAIL;
	}

	if (o->json) {
		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_object_start(&j, "module");
		json_bool(&j, "loaded", true);
		json_string(&j, "version", version);
		json_string(&j, "sysfs", pl_sysfs_dir());
		json_bool(&j, "trust_locked", locked[0] == '1');
		json_uint(&j, "generation", strtoull(generation, NULL, 10));
		json_object_end(&j);
		json_object_start(&j, "daemon");
		json_bool(&j, "running", daemon != 0);
		daemon > 0 ? json_uint(&j, "pid", (uint64_t)daemon) : json_null(&j, "pid");
		json_object_end(&j);
		json_array_start(&j, "protected");
		for (char *line = strtok(mounts, "\n"); line; line = strtok(NULL, "\n"))
			json_string(&j, NULL, line);
		json_array_end(&j);
		json_object_start(&j, "netlink");
		if (nl_err) {
			json_string(&j, "error", nl_geterror(nl_err));
		} else {
			json_string(&j, "family", "patchlayer");
			json_uint(&j, "family_id", (unsigned int)nl.family_id);
			json_uint(&j, "events_group", (unsigned int)nl.events_group);
			json_string(&j, "version", nl.version);
		}
		json_object_end(&j);
		json_array_start(&j, "layers");
		if (n_layers) {
			store = calloc(1, sizeof(*store));
			if (store && pl_config_read(pl_config_path(), store)) {
				free(store);
				store = NULL;
			}
		}
		for (size_t i = 0; i < n_layers; i++) {
			json_object_start(&j, NULL);
			json_string(&j, "name", layers[i].name);
			json_string(&j, "version", layers[i].version);
			json_string(&j, "state", layers[i].state);
			layers[i].replaces[0] ? json_string(&j, "replaces", layers[i].replaces) :
						json_null(&j, "replaces");
			json_uint(&j, "files", layers[i].files);
			json_uint(&j, "hits", strtoull(layers[i].hits, NULL, 10));
			{
				/* from the manifest where the kernel loaded it */
				struct pl_provenance *p = calloc(1, sizeof(*p));
				char attr[PL_NAME_MAX + 32], dir[4096];

				snprintf(attr, sizeof(attr), "layers/%s/path", layers[i].name);
				if (p && pl_sysfs_read(attr, dir, sizeof(dir)) > 0 &&
				    pl_layer_provenance(dir, p) == -ENOENT && store) {
					/* loaded from the inbox, then moved into the store */
					snprintf(dir, sizeof(dir), "%s/%s", store->store, layers[i].name);
					pl_layer_provenance(dir, p);
				}
				if (p)
					pl_json_provenance(&j, p);
				free(p);
			}
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
		free(store);
	} else {
		printf("module:  patchlayer %s (%s)\n", version, pl_sysfs_dir());
		if (nl_err)
			printf("netlink: error: %s\n", nl_geterror(nl_err));
		else
			printf("netlink: family patchlayer id %d, events group %d\n",
			       nl.family_id, nl.events_group);
		printf("trust:   %s\n", locked[0] == '1' ? "locked until reboot" : "open");
		if (daemon > 0)
			printf("daemon:  running (pid %ld)\n", daemon);
		else
			printf("daemon:  %s\n", daemon ? "running" : "not running");
		if (!mounts[0])
			printf("protected: none\n");
		for (char *line = strtok(mounts, "\n"); line; line = strtok(NULL, "\n"))
			printf("protected: %s\n", line);
		if (n_layers == 0)
			printf("layers:  none loaded\n");
		else
			print_layers(layers, n_layers);
	}
	free(layers);
	if (nl_err) {
		pl_err("netlink family %s: %s", "patchlayer", nl_geterror(nl_err));
		return PL_EXIT_FAIL;
	}
	if (strcmp(nl.version, version) != 0) {
		pl_err("sysfs reports version %s but netlink %s", version, nl.version);
		return PL_EXIT_FAIL;
	}
	return PL_EXIT_OK;
}
