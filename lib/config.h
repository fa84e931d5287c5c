/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The parser of /etc/patchlayer/patchlayer.conf (docs/configuration.md).
 * Plain C: no allocation, no I/O; the text is hostile until parsed.
 */
#ifndef PL_CONFIG_H
#define PL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define PL_CONFIG_MAX_SIZE	(64 * 1024)	/* bytes of the whole file */
#define PL_CONFIG_LINE_MAX	4096		/* bytes of one line */
#define PL_CONFIG_PATH_MAX	1024		/* bytes of a directory, with NUL */
#define PL_CONFIG_MAX_DIRS	16		/* protect and trust entries */
#define PL_CONFIG_MAX_UNITS	32		/* restart_services entries */
#define PL_CONFIG_MAX_NEVER	32		/* restart_never patterns, besides "default" */
#define PL_CONFIG_UNIT_MAX	256		/* bytes of a unit name, with NUL */
#define PL_CONFIG_MAX_SECONDS	(7 * 24 * 3600)	/* of health_window */
#define PL_CONFIG_MAX_CRASHES	1000000

enum pl_restart_mode {
	PL_RESTART_NO,
	PL_RESTART_LIST,	/* the units in restart_units */
	PL_RESTART_ALL,
};

/* Whose crashes count against a layer (crash_scope) */
enum pl_crash_scope {
	PL_CRASH_SERVICES,	/* processes of system services (.service units) */
	PL_CRASH_ALL,		/* any process */
};

struct pl_config {
	bool auto_install;
	bool window_any;		/* install_window empty: any time */
	unsigned int window_start;	/* minutes after local midnight */
	unsigned int window_end;	/* exclusive; below start wraps midnight */
	unsigned int n_protect;
	char protect[PL_CONFIG_MAX_DIRS][PL_CONFIG_PATH_MAX];
	unsigned int n_trust;
	char trust[PL_CONFIG_MAX_DIRS][PL_CONFIG_PATH_MAX];
	char inbox[PL_CONFIG_PATH_MAX];
	char store[PL_CONFIG_PATH_MAX];
	unsigned int inbox_settle;	/* seconds a delivery written in place must be still */
	char metrics_file[PL_CONFIG_PATH_MAX];	/* node_exporter's textfile, "" for none */
	unsigned int metrics_interval;	/* seconds between rewrites of the same metrics */
	unsigned int health_window;	/* seconds */
	unsigned int crash_threshold;
	enum pl_crash_scope crash_scope;
	enum pl_restart_mode restart;
	unsigned int n_units;
	char restart_units[PL_CONFIG_MAX_UNITS][PL_CONFIG_UNIT_MAX];
	/*
	 * restart_never: the units "restart_services = all" leaves alone,
	 * patterns where '*' stands for any run of characters; "default" in
	 * the list (and the key's default) adds pl_restart_never_default.
	 */
	bool never_default;
	unsigned int n_never;
	char restart_never[PL_CONFIG_MAX_NEVER][PL_CONFIG_UNIT_MAX];
};

/*
 * The built-in restart_never list, NULL-terminated: as needrestart's
 * override_rc, what a restart would end sessions or cut the system off
 * with (the message bus, logind, display managers, gettys, the journal,
 * network managers and VPNs, rescue shells) or run again by accident.
 */
extern const char *const pl_restart_never_default[];
/* Whether UNIT matches PATTERN, '*' being any run of characters. */
bool pl_unit_pattern_match(const char *pattern, const char *unit);

struct pl_config_error {
	unsigned int line;	/* 1-based, 0 when about the whole file */
	const char *reason;	/* static string */
};

#define PL_CONFIG_DEFAULT_INBOX		"/var/lib/patchlayer/inbox"
#define PL_CONFIG_DEFAULT_STORE		"/var/lib/patchlayer/layers"
#define PL_CONFIG_DEFAULT_HEALTH_WINDOW	600
#define PL_CONFIG_DEFAULT_SETTLE	5
#define PL_CONFIG_MAX_SETTLE		3600
#define PL_CONFIG_DEFAULT_CRASHES	3
/* Debian's prometheus-node-exporter reads *.prom files of this directory */
#define PL_CONFIG_DEFAULT_METRICS	"/var/lib/prometheus/node-exporter/patchlayer.prom"
#define PL_CONFIG_DEFAULT_METRICS_INTERVAL	60
#define PL_CONFIG_MAX_METRICS_INTERVAL	3600

void pl_config_defaults(struct pl_config *c);

/*
 * Parses LEN bytes at TEXT over the defaults already in C. Returns 0, or
 * -EINVAL (-EFBIG past PL_CONFIG_MAX_SIZE) with ERR saying where and why;
 * C is then partly updated and must not be used.
 */
int pl_config_parse(struct pl_config *c, const char *text, size_t len,
		    struct pl_config_error *err);

/*
 * Writes C as the file that parses to it, one "key = value" line per
 * key, into BUF (NUL-terminated, cut at SIZE - 1 bytes). Returns the
 * length of the whole text, as snprintf does.
 */
size_t pl_config_format(const struct pl_config *c, char *buf, size_t size);

#endif
