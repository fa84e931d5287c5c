/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the parts of the patchlayer command. */
#ifndef PL_PATCHLAYER_H
#define PL_PATCHLAYER_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/config.h"
#include "json.h"

#define PL_CONF_DEFAULT "/etc/patchlayer/patchlayer.conf"

/* Exit codes, documented in patchlayer(8). */
enum {
	PL_EXIT_OK = 0,
	PL_EXIT_FAIL = 1,	/* the operation failed */
	PL_EXIT_USAGE = 2,	/* bad command line */
	PL_EXIT_NOMOD = 3,	/* patchlayer.ko is not loaded */
};

struct pl_opts {
	bool json;
	bool pretty;
};

extern const char *pl_prog;

/* Prints "patchlayer: <message>" to stderr. */
void pl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, ending in ": strerror(ERR)" (ERR positive or negative). */
void pl_err_sys(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts the JSON document on stdout, honouring -p. */
void pl_json_begin(struct json *j, const struct pl_opts *o);
/* Starts one line of a JSON Lines stream (monitor, bpf events) on stdout. */
void pl_json_line(struct json *j);
/*
 * With -j, a command that ended without a document prints one:
 * {"error": LAST MESSAGE, "errno": NAME or null, "exit": RC}, or
 * {"ok": true} when it succeeded. Nothing if it printed its own.
 */
void pl_json_error(int rc, const struct pl_opts *o);
/* Keeps fds 0-2 taken so a closed stdout is not reused by open(). */
void pl_guard_stdio(void);
/* Flushes and closes stdout: RC, or PL_EXIT_FAIL if output was lost. */
int pl_close_stdout(int rc);

/* sysfs.c */
const char *pl_sysfs_dir(void);
/*
 * Reads the sysfs attribute NAME (relative to pl_sysfs_dir()) into BUF,
 * without the trailing newline. Returns the length or -errno.
 */
int pl_sysfs_read(const char *name, char *buf, size_t size);
/*
 * FN(DIR, ARG) for each directory the module has mounted (its "mounts"
 * attribute, one a line) until FN returns nonzero: FN's value, 0, or
 * -errno when the attribute cannot be read.
 */
int pl_sysfs_each_mount(int (*fn)(const char *dir, void *arg), void *arg);
/* Whether DIR is a protected directory, as the module lists them. */
bool pl_dir_protected(const char *dir);
bool pl_module_loaded(void);
/* Reports a missing module with the modprobe hint; returns PL_EXIT_NOMOD. */
int pl_module_missing(void);

/* nl.c */
struct pl_nl_info {
	int family_id;
	int events_group;
	char version[32];
};
/* Returns 0 or a negative libnl error code (see nl_geterror()). */
int pl_nl_get_info(struct pl_nl_info *info);

/* conf.c */
/* --config's default: $PATCHLAYER_CONF, else PL_CONF_DEFAULT. */
const char *pl_config_path(void);
/*
 * Reads PATH over the defaults into CFG: 0, or -errno with E saying where
 * and why when it says more than the errno (a line, a mode refused).
 */
int pl_config_load(const char *path, struct pl_config *cfg, struct pl_config_error *e);
/*
 * pl_config_load() for a command that needs only the daemon's directories
 * (deliver, status): the defaults when PATH does not exist; 0 or -1 (said).
 */
int pl_config_read(const char *path, struct pl_config *cfg);
/* pl_config_load()'s error as one line: "FILE:LINE: reason", "FILE: strerror". */
void pl_config_why(const char *path, int err, const struct pl_config_error *e,
		   char *buf, size_t len);
/* The same on stderr. */
void pl_config_say(const char *path, int err, const struct pl_config_error *e);

/* Commands. */
/*
 * The daemon's claim on /run/patchlayer/daemon.pid (running.c): 0, or -1
 * when another daemon holds it or it cannot be made (said on stderr).
 */
int pl_daemon_claim(void);
/* The running daemon's pid, -1 if it runs but its pid is unknown, 0 if none. */
long pl_daemon_running(void);

int cmd_status(int argc, char **argv, const struct pl_opts *o);
int cmd_build(int argc, char **argv, const struct pl_opts *o);
int cmd_verify(int argc, char **argv, const struct pl_opts *o);
int cmd_monitor(int argc, char **argv, const struct pl_opts *o);
int cmd_protect(int argc, char **argv, const struct pl_opts *o);
int cmd_unprotect(int argc, char **argv, const struct pl_opts *o);
int cmd_dir_list(int argc, char **argv, const struct pl_opts *o);
int cmd_daemon(int argc, char **argv, const struct pl_opts *o);
int cmd_install(int argc, char **argv, const struct pl_opts *o);
int cmd_activate(int argc, char **argv, const struct pl_opts *o);
int cmd_drop(int argc, char **argv, const struct pl_opts *o);
int cmd_remove(int argc, char **argv, const struct pl_opts *o);
int cmd_layers(int argc, char **argv, const struct pl_opts *o);
int cmd_log(int argc, char **argv, const struct pl_opts *o);
int cmd_show(int argc, char **argv, const struct pl_opts *o);
int cmd_inbox(int argc, char **argv, const struct pl_opts *o);
int cmd_usage(int argc, char **argv, const struct pl_opts *o);
int cmd_enforce(int argc, char **argv, const struct pl_opts *o);
int cmd_config_check(int argc, char **argv, const struct pl_opts *o);
int cmd_bpf_load(int argc, char **argv, const struct pl_opts *o);
int cmd_bpf_unload(int argc, char **argv, const struct pl_opts *o);
int cmd_bpf_status(int argc, char **argv, const struct pl_opts *o);
int cmd_bpf_events(int argc, char **argv, const struct pl_opts *o);
int cmd_package(int argc, char **argv, const struct pl_opts *o);
int cmd_deliver(int argc, char **argv, const struct pl_opts *o);
int cmd_undeliver(int argc, char **argv, const struct pl_opts *o);

#endif
