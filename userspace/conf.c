// SPDX-License-Identifier: GPL-2.0
/*
 * Reading patchlayer.conf (the daemon's and "config check"'s), and
 * patchlayer config check [--config FILE]: the effective values.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readfile.h"
#include "patchlayer.h"

const char *pl_config_path(void)
{
	const char *env = getenv("PATCHLAYER_CONF");

	return env && *env ? env : PL_CONF_DEFAULT;
}

int pl_config_load(const char *path, struct pl_config *cfg, struct pl_config_error *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int err;

	pl_config_defaults(cfg);
	e->line = 0;
	e->reason = NULL;
	if (stat(path, &st) < 0)
		return -errno;
	/*
	 * It names the keys to trust and the directories to cover: a file
	 * someone else may write would hand them over (as sshd's StrictModes).
	 */
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		e->reason = "refused: writable by others than root";
		return -EPERM;
	}
	err = pl_read_file(path, PL_CONFIG_MAX_SIZE, &buf, &len);
	if (err)
		return err;
	err = pl_config_parse(cfg, buf, len, e);
	free(buf);
	return err;
}

int pl_config_read(const char *path, struct pl_config *cfg)
{
	struct pl_config_error e;
	int err = pl_config_load(path, cfg, &e);

	/* none: the defaults, which pl_config_load() set, as the daemon runs on */
	if (err == -ENOENT)
		return 0;
	if (err) {
		pl_config_say(path, err, &e);
		return -1;
	}
	return 0;
}

void pl_config_why(const char *path, int err, const struct pl_config_error *e,
		   char *buf, size_t len)
{
	struct stat st;

	/* a reason says more than its errno (EINVAL, EFBIG, EPERM) */
	if (e->line)
		snprintf(buf, len, "%s:%u: %s", path, e->line, e->reason);
	else if (err == -EPERM && e->reason && !stat(path, &st))
		snprintf(buf, len, "%s: %s (mode %04o, uid %u)", path, e->reason,
			 st.st_mode & 07777, st.st_uid);
	else if (e->reason)
		snprintf(buf, len, "%s: %s", path, e->reason);
	else
		snprintf(buf, len, "%s: %s", path, strerror(-err));
}

void pl_config_say(const char *path, int err, const struct pl_config_error *e)
{
	char why[PL_CONFIG_PATH_MAX + 512];

	pl_config_why(path, err, e, why, sizeof(why));
	/* the errno for -j's error document, when it is the whole reason */
	if (e->line || e->reason)
		pl_err("%s", why);
	else
		pl_err_sys(-err, "%s", path);
}

static void json_strings(struct json *j, const char *name, const char *list, size_t stride,
			 unsigned int n)
{
	json_array_start(j, name);
	for (unsigned int i = 0; i < n; i++)
		json_string(j, NULL, list + i * stride);
	json_array_end(j);
}

static void config_json(const char *path, const struct pl_config *c, const struct pl_opts *o)
{
	static const char *const restart[] = {
		[PL_RESTART_NO] = "no", [PL_RESTART_LIST] = "list", [PL_RESTART_ALL] = "all",
	};
	char window[32];
	struct json j;

	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	json_string(&j, "file", path);
	json_object_start(&j, "config");
	json_bool(&j, "auto_install", c->auto_install);
	if (c->window_any) {
		json_null(&j, "install_window");
	} else {
		snprintf(window, sizeof(window), "%02u:%02u-%02u:%02u", c->window_start / 60,
			 c->window_start % 60, c->window_end / 60, c->window_end % 60);
		json_string(&j, "install_window", window);
	}
	json_strings(&j, "protect", c->protect[0], sizeof(c->protect[0]), c->n_protect);
	json_strings(&j, "trust", c->trust[0], sizeof(c->trust[0]), c->n_trust);
	json_string(&j, "inbox", c->inbox);
	json_string(&j, "store", c->store);
	json_uint(&j, "health_window", c->health_window);
	json_uint(&j, "crash_threshold", c->crash_threshold);
	json_string(&j, "crash_scope", c->crash_scope == PL_CRASH_ALL ? "all" : "services");
	json_string(&j, "restart_services", restart[c->restart]);
	json_strings(&j, "restart_units", c->restart_units[0], sizeof(c->restart_units[0]),
		     c->n_units);
	json_bool(&j, "restart_never_default", c->never_default);
	json_strings(&j, "restart_never", c->restart_never[0], sizeof(c->restart_never[0]),
		     c->n_never);
	json_uint(&j, "inbox_settle", c->inbox_settle);
	json_object_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* An error document with the file and line besides the common members. */
static void config_json_error(const char *path, int err, const struct pl_config_error *e,
			      int rc, const struct pl_opts *o)
{
	struct json j;

	pl_json_begin(&j, o);
	json_object_start(&j, NULL);
	json_string(&j, "file", path);
	json_string(&j, "error", e->reason ? e->reason : strerror(-err));
	json_string(&j, "errno", strerrorname_np(-err) ? strerrorname_np(-err) : "?");
	e->line ? json_uint(&j, "line", e->line) : json_null(&j, "line");
	json_int(&j, "exit", rc);
	json_object_end(&j);
	json_finish(&j);
}

static int config_check(int argc, char **argv, const struct pl_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = pl_config_path();
	struct pl_config_error e;
	struct pl_config *cfg;
	int c, err, rc;

	optind = 0;	/* the command's own options, from argv[0] on */
	while ((c = getopt_long(argc + 1, argv - 1, "+c:", longopts, NULL)) != -1) {
		if (c != 'c')
			return PL_EXIT_USAGE;
		path = optarg;
	}
	if (optind != argc + 1) {
		pl_err("config check: unexpected argument '%s'", argv[optind - 1]);
		return PL_EXIT_USAGE;
	}
	cfg = malloc(sizeof(*cfg));	/* 120 KiB: not on the stack */
	if (!cfg) {
		pl_err_sys(ENOMEM, "config check");
		return PL_EXIT_FAIL;
	}
	err = pl_config_load(path, cfg, &e);
	if (err) {
		/* a missing file is told apart: the daemon would run on the defaults */
		rc = err == -ENOENT ? PL_EXIT_USAGE : PL_EXIT_FAIL;
		pl_config_say(path, err, &e);
		if (o->json)
			config_json_error(path, err, &e, rc, o);
		free(cfg);
		return rc;
	}
	if (o->json) {
		config_json(path, cfg, o);
	} else {
		char *text;
		size_t n = pl_config_format(cfg, NULL, 0);

		text = malloc(n + 1);
		if (!text) {
			free(cfg);
			pl_err_sys(ENOMEM, "config check");
			return PL_EXIT_FAIL;
		}
		pl_config_format(cfg, text, n + 1);
		printf("# %s: valid; the effective values:\n%s", path, text);
		free(text);
	}
	free(cfg);
	return PL_EXIT_OK;
}

int cmd_config_check(int argc, char **argv, const struct pl_opts *o)
{
	return config_check(argc, argv, o);
}
