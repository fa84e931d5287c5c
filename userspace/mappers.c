// SPDX-License-Identifier: GPL-2.0
/*
 * The running processes that have mapped one of a set of files for
 * execution, from /proc/PID/maps: what a dry run says would keep the old
 * code, before the layer is active and so before the BPF side counts it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect.h"
#include "services.h"

/* Whether one line of /proc/PID/maps is an executable mapping of one of PATHS. */
static bool maps_line_hits(const char *line, const char *const *paths, size_t n)
{
	char perms[8];
	int off = 0;

	/* "start-end perms offset dev inode   path" */
	if (sscanf(line, "%*s %7s %*s %*s %*s %n", perms, &off) != 1 || !off || !strchr(perms, 'x'))
		return false;
	line += off;
	while (*line == ' ')
		line++;
	for (size_t i = 0; i < n; i++)
		if (paths[i] && !strcmp(line, paths[i]))
			return true;
	return false;
}

static bool pid_maps(pid_t pid, const char *const *paths, size_t n)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	bool hit = false;
	ssize_t got;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;	/* gone, or not ours to read */
	while (!hit && (got = getline(&line, &cap, f)) > 0) {
		if (line[got - 1] == '\n')
			line[got - 1] = '\0';
		hit = maps_line_hits(line, paths, n);
	}
	fclose(f);
	free(line);
	return hit;
}

static void comm_of(pid_t pid, char *comm, size_t size)
{
	char path[64];
	ssize_t got;
	FILE *f;

	snprintf(comm, size, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	got = (ssize_t)fread(comm, 1, size - 1, f);
	fclose(f);
	if (got <= 0)
		return;
	comm[got] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

int pl_mappers(const char *const *paths, size_t n, struct pl_mapper **out, size_t *count)
{
	struct pl_mapper *m = NULL, *grown;
	struct dirent *de;
	size_t k = 0;
	DIR *d;

	*out = NULL;
	*count = 0;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid() || !pid_maps((pid_t)pid, paths, n))
			continue;
		grown = realloc(m, (k + 1) * sizeof(*m));
		if (!grown) {
			free(m);
			closedir(d);
			return -ENOMEM;
		}
		m = grown;
		memset(&m[k], 0, sizeof(m[k]));
		m[k].pid = (pid_t)pid;
		comm_of(m[k].pid, m[k].comm, sizeof(m[k].comm));
		if (pl_services_unit_of(m[k].pid, m[k].unit, sizeof(m[k].unit)) < 0)
			m[k].unit[0] = '\0';
		k++;
	}
	closedir(d);
	*out = m;
	*count = k;
	return 0;
}
