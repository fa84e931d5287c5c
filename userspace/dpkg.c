// SPDX-License-Identifier: GPL-2.0
/*
 * Which Debian package a base file belongs to, as "dpkg -S" answers, from
 * the package lists in <admindir>/info/NAME.list, read once for every path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

/* /lib and /usr/lib name one directory on a merged-/usr system. */
static bool same_file_name(const char *listed, const char *path)
{
	static const char *const merged[] = { "/lib", "/lib64", "/lib32", "/bin", "/sbin" };

	if (!strcmp(listed, path))
		return true;
	for (size_t i = 0; i < sizeof(merged) / sizeof(merged[0]); i++) {
		size_t n = strlen(merged[i]);

		if (!strncmp(listed, "/usr", 4) && !strncmp(listed + 4, merged[i], n) &&
		    listed[4 + n] == '/' && !strcmp(listed + 4, path))
			return true;
		if (!strncmp(path, "/usr", 4) && !strncmp(path + 4, merged[i], n) &&
		    path[4 + n] == '/' && !strcmp(path + 4, listed))
			return true;
	}
	return false;
}

static int owners_add(char **owner, const char *pkg, size_t len)
{
	size_t have = *owner ? strlen(*owner) : 0;
	char *grown;

	grown = realloc(*owner, have + len + 3);
	if (!grown)
		return -ENOMEM;
	if (have) {
		memcpy(grown + have, ", ", 2);
		have += 2;
	}
	memcpy(grown + have, pkg, len);
	grown[have + len] = '\0';
	*owner = grown;
	return 0;
}

int pl_dpkg_owners(const char *const *paths, size_t n, char **owners)
{
	const char *admin = getenv("DPKG_ADMINDIR");
	char dir[4096], file[4096 + 256];
	struct dirent *de;
	char *line = NULL;
	size_t cap = 0;
	int err = 0;
	DIR *d;

	for (size_t i = 0; i < n; i++)
		owners[i] = NULL;
	snprintf(dir, sizeof(dir), "%s/info", admin && *admin ? admin : "/var/lib/dpkg");
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		ssize_t got;
		FILE *f;

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".list"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		f = fopen(file, "re");
		if (!f)
			continue;	/* removed meanwhile */
		while (!err && (got = getline(&line, &cap, f)) > 0) {
			if (line[got - 1] == '\n')
				line[got - 1] = '\0';
			for (size_t i = 0; i < n; i++)
				if (paths[i] && same_file_name(line, paths[i]))
					err = owners_add(&owners[i], de->d_name, len - 5);
		}
		fclose(f);
	}
	closedir(d);
	free(line);
	return err;
}
