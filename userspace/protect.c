// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer protect DIR / unprotect DIR: cover a library directory with
 * the patchlayer filesystem, or uncover it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../lib/manifest.h"
#include "patchlayer.h"

/* What protect and unprotect did: {"dir": DIR, "protected": P, "changed": C}. */
static void protect_said(const struct pl_opts *o, const char *dir, bool protected, bool changed)
{
	struct json j;

	if (!o->json) {
		if (changed)
			printf("%s %s\n", protected ? "protected" : "unprotected", dir);
		return;
	}
	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	json_string(&j, "dir", dir);
	json_bool(&j, "protected", protected);
	json_bool(&j, "changed", changed);
	json_object_end(&j);
	json_finish(&j);
}

/* Prints what the kernel logged on the filesystem context FD. */
static void print_fs_log(int fd, const char *dir)
{
	char msg[512];
	ssize_t n;

	while ((n = read(fd, msg, sizeof(msg) - 1)) > 0) {
		msg[n] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		/* "e <message>": error, "w": warning, "i": information */
		pl_err("%s: %s", dir, n > 2 ? msg + 2 : msg);
	}
}

static int resolve_dir(const char *arg, char *dir)
{
	struct stat st;

	if (!realpath(arg, dir)) {
		pl_err_sys(errno, "%s", arg);
		return -1;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		pl_err_sys(ENOTDIR, "%s", arg);
		return -1;
	}
	return 0;
}

/*
 * The restrictions of the mount DIR is on, for the mount that covers it:
 * covering a nosuid, nodev or noexec directory must not lift them.
 */
static int covered_mount_attrs(const char *dir, unsigned int *attrs)
{
	struct statvfs sv;

	if (statvfs(dir, &sv)) {
		pl_err_sys(errno, "%s", dir);
		return -1;
	}
	*attrs = 0;
	if (sv.f_flag & ST_NOSUID)
		*attrs |= MOUNT_ATTR_NOSUID;
	if (sv.f_flag & ST_NODEV)
		*attrs |= MOUNT_ATTR_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		*attrs |= MOUNT_ATTR_NOEXEC;
	return 0;
}

int cmd_protect(int argc, char **argv, const struct pl_opts *o)
{
	unsigned int attrs;
	char dir[PATH_MAX];
	int fd, mfd;

	if (argc != 1) {
		pl_err("usage: %s dir protect DIR", pl_prog);
		return PL_EXIT_USAGE;
	}
	if (!pl_module_loaded())
		return pl_module_missing();
	if (resolve_dir(argv[0], dir))
		return PL_EXIT_FAIL;
	if (pl_dir_protected(dir)) {
		pl_err("%s: already protected", dir);
		protect_said(o, dir, true, false);
		return PL_EXIT_OK;
	}
	if (covered_mount_attrs(dir, &attrs))
		return PL_EXIT_FAIL;
	/* the new mount API: any path as the option value, and the kernel's reasons */
	fd = fsopen("patchlayer", FSOPEN_CLOEXEC);
	if (fd < 0) {
		pl_err_sys(errno, "fsopen patchlayer");
		return PL_EXIT_FAIL;
	}
	if (fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir", dir, 0) ||
	    fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		int err = errno;

		print_fs_log(fd, dir);
		pl_err_sys(err, "%s", dir);
		close(fd);
		return PL_EXIT_FAIL;
	}
	mfd = fsmount(fd, FSMOUNT_CLOEXEC, attrs);
	close(fd);
	if (mfd < 0 || move_mount(mfd, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH)) {
		pl_err_sys(errno, "%s", dir);
		if (mfd >= 0)
			close(mfd);
		return PL_EXIT_FAIL;
	}
	close(mfd);
	protect_said(o, dir, true, true);
	return PL_EXIT_OK;
}

/* Whether layer NAME has a target below DIR. */
static bool layer_targets_in(const char *name, const char *dir)
{
	char path[PATH_MAX + 64], line[PATH_MAX + 128];
	size_t dlen = strlen(dir);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/layers/%s/files", pl_sysfs_dir(), name);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, dir, dlen) == 0 && line[dlen] == '/';
	fclose(f);
	return found;
}

/* An active layer with a target in DIR: uncovering DIR would silently unpatch. */
static bool active_layer_in(const char *dir)
{
	char path[PATH_MAX + 32], state[32], attr[128];
	struct dirent *de;
	bool busy = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/layers", pl_sysfs_dir());
	d = opendir(path);
	if (!d)
		return false;
	while (!busy && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) > PL_NAME_MAX)
			continue;
		snprintf(attr, sizeof(attr), "layers/%s/state", de->d_name);
		if (pl_sysfs_read(attr, state, sizeof(state)) < 0 || strcmp(state, "active"))
			continue;
		if (layer_targets_in(de->d_name, dir)) {
			pl_err("layer %s is active on %s: drop it first", de->d_name, dir);
			busy = true;
		}
	}
	closedir(d);
	return busy;
}

int cmd_unprotect(int argc, char **argv, const struct pl_opts *o)
{
	char dir[PATH_MAX];

	if (argc != 1) {
		pl_err("usage: %s dir unprotect DIR", pl_prog);
		return PL_EXIT_USAGE;
	}
	if (!pl_module_loaded())
		return pl_module_missing();
	if (resolve_dir(argv[0], dir))
		return PL_EXIT_FAIL;
	if (!pl_dir_protected(dir)) {
		pl_err("%s: not protected", dir);
		return PL_EXIT_FAIL;
	}
	if (active_layer_in(dir))
		return PL_EXIT_FAIL;
	/*
	 * Detached, not unmounted: every process that mapped a library from
	 * DIR (this one included) keeps it busy until it exits.
	 */
	if (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW)) {
		pl_err_sys(errno, "%s", dir);
		return PL_EXIT_FAIL;
	}
	protect_said(o, dir, false, true);
	return PL_EXIT_OK;
}

struct dir_list {
	const struct pl_opts *o;
	struct json j;
	bool begun;
};

/* Output begins with the first directory: an unreadable list says only its error. */
static void dir_list_begin(struct dir_list *l)
{
	if (l->begun)
		return;
	l->begun = true;
	if (l->o->json) {
		pl_json_begin(&l->j, l->o);
		json_object_start(&l->j, NULL);
		json_array_start(&l->j, "protected");
	}
}

static int dir_list_one(const char *dir, void *arg)
{
	struct dir_list *l = arg;

	dir_list_begin(l);
	if (l->o->json)
		json_string(&l->j, NULL, dir);
	else
		printf("%s\n", dir);
	return 0;
}

/*
 * "dir list": the protected directories as the module lists them, one a
 * line, or {"protected": [DIR...]}.
 */
int cmd_dir_list(int argc, char **argv, const struct pl_opts *o)
{
	struct dir_list l = { .o = o };
	int err;

	if (argc > 0) {
		pl_err("dir list: unexpected argument '%s'", argv[0]);
		return PL_EXIT_USAGE;
	}
	if (!pl_module_loaded())
		return pl_module_missing();
	err = pl_sysfs_each_mount(dir_list_one, &l);
	if (!err || l.begun) {
		dir_list_begin(&l);
		if (o->json) {
			json_array_end(&l.j);
			json_object_end(&l.j);
			json_finish(&l.j);
		}
	}
	if (err) {
		pl_err_sys(-err, "%s/mounts", pl_sysfs_dir());
		return PL_EXIT_FAIL;
	}
	return PL_EXIT_OK;
}
