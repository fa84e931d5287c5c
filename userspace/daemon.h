/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the daemon share (docs/architecture.md, "The daemon"):
 *
 *   daemon.c     the main loop: configuration, start-up, privileges, events, timers
 *   log.c        its messages and its numbered steps (PATCHLAYER_DIE_AT)
 *   store.c      the store: records (<name>.state), history (.log), lock, store_walk()
 *   kernel.c     the kernel interface: sysfs writes, a layer's state, trust, protect, netlink
 *   reconcile.c  lib/policy.c's decisions applied, retries spaced by lib/backoff.c
 *   inbox.c      deliveries: settle, take, reject
 *   restarts.c   restart_services: the units still running a layer's old code
 *   health.c     the BPF feed and the health watch: crash counters, withdrawal
 *   store_cmds.c the administrator's verbs on the store: install, activate, drop,
 *                remove, layers, log
 *   supersede.c  which package version superseded a layer, from dpkg's database
 *   metrics.c    the metrics for node_exporter (metrics.h: metrics_write())
 */
#ifndef PL_DAEMON_H
#define PL_DAEMON_H

#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "../lib/backoff.h"
#include "../lib/config.h"
#include "../lib/manifest.h"
#include "../lib/policy.h"
#include "../lib/settle.h"

#define PL_WHY_MAX 512
#define PL_RESTARTS_MAX 512

/* One layer's record in the store: <store>/<name>.state */
struct pl_record {
	enum pl_want want;
	int64_t since;		/* when it entered that state */
	int64_t activated_at;	/* when the daemon last activated it */
	unsigned int crashes;	/* of patched processes since activated_at */
	int64_t crash_for;	/* the activated_at crash_seen was taken for */
	struct pl_crash_count crash_seen;	/* the BPF side's counters, last read */
	int64_t restarted_for;	/* the activated_at restart_services was done for */
	char version[PL_VERSION_MAX + 1];
	char why[PL_WHY_MAX];
	char restarts[PL_RESTARTS_MAX];	/* what restart_services did, for "layers" */
	/* superseded: "PACKAGE VERSION" that replaced its base, from dpkg (supersede.c) */
	char superseded_by[PL_DEB_NAME_MAX + PL_DEB_VERSION_MAX + 2];
	/*
	 * The health window on CLOCK_BOOTTIME, not the wall clock (wrong
	 * before NTP, and it jumps): started at activation, again at the
	 * layer's first activation in each boot (window_boot: the boot_id).
	 */
	char window_boot[40];
	int64_t window_start;
	const char *bad;	/* why its state file did not parse, or NULL */
	unsigned int bad_line;
};

/* daemon.c: the configuration, and what every verb on the store parses first */
extern struct pl_config cfg;
/* Parses "[--config FILE]" and loads it; returns the index of the first operand. */
int common_opts(int argc, char **argv, int *rc);
/* Says so and returns true when not run as root. */
bool need_root(const char *verb);

/* log.c: messages with a syslog priority (LOG_ERR...), to the journal or stderr */
extern bool in_daemon;		/* messages are the daemon's, steps are said */
extern long die_at;		/* PATCHLAYER_DIE_AT */
#define PL_LOG_PACKAGE_MAX 128
/* What a message is about: the journal's fields, each left out when NULL or "". */
struct pl_log_about {
	const char *layer;	/* LAYER= */
	const char *version;	/* VERSION= */
	/* PACKAGE=: the package a layer patches, once manifests say (a hook: nothing sets it yet) */
	const char *package;
	const char *entry;	/* INBOX_ENTRY=: a delivery's name in the inbox */
};
void dlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dlog_about(int prio, const struct pl_log_about *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vdlog_about(int prio, const struct pl_log_about *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* A step that changes the store or the kernel; the kill tests stop before one. */
void step(const char *what, const char *name);

/* store.c */
int64_t now_s(void);
unsigned int minute_of_day(void);
int fsync_dir(const char *dir);
/* Writes TEXT to DIR/NAME through a temporary file, rename and fsync. */
int write_atomic(const char *dir, const char *name, const char *text);
/*
 * Appends "STAMP NAME MESSAGE" to <store>/.log, and says it with PRIO:
 * about the layer NAME (and R's version, R may be NULL), or about A.
 */
void history(int prio, const char *name, const struct pl_record *r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void history_about(int prio, const char *name, const struct pl_log_about *a, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The one rule of lib/manifest.c, pl_name_valid. */
bool valid_name(const char *name);
int record_read(const char *name, struct pl_record *r);
int record_write(const char *name, const struct pl_record *r);
void record_quarantine(const char *name, struct pl_record *r);
void record_set(const char *name, struct pl_record *r, enum pl_want want,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Whether NAME's directory is in the store. */
bool in_store(const char *name);
void window_start_now(struct pl_record *r);
int64_t window_elapsed(const struct pl_record *r);
/* The store's lock: the daemon and the verbs never reconcile at once. */
int lock_store(void);
void unlock_store(int fd);
int store_walk(int (*fn)(const char *name, void *ctx), void *ctx);

/* kernel.c */
struct nl_sock;
int sysfs_write(const char *rel, const char *text);
enum pl_kstate kstate_of(const char *name);
int kernel_load(const char *dir);
/* The trust list and the protected directories of the configuration, given to the kernel. */
void protect_and_trust(void);
struct nl_sock *kernel_events_open(bool *changed);
/* Handles the events queued on that socket now (the BPF side follows them). */
void kernel_events_drain(void);

/* reconcile.c */
extern struct pl_backoff backoff;
/* What lib/policy.c decides on: the record, the kernel, the store, the clock. */
void facts_of(const char *name, const struct pl_record *r, struct pl_facts *f);
void reconcile(const char *name);
void reconcile_all(void);

/* inbox.c */
extern struct pl_settle settle;
extern unsigned int settle_wait;	/* seconds until the next look, 0 none */
void scan_inbox(void);
/* The entries renamed into the inbox, from inotify's N bytes at BUF. */
void inbox_events(const char *buf, ssize_t n);

/* restarts.c */
void restart_services(void);

/* supersede.c */
/*
 * NAME was superseded: which package version replaced its base, from
 * dpkg's database, recorded in R (superseded_by, why) and the history;
 * an older version than the layer's fix is said to be no fix. Left for
 * later while dpkg is still unpacking it (R unchanged).
 */
void supersede_record(const char *name, struct pl_record *r);
/* supersede_record() for every superseded layer not yet recorded: dpkg's database changed. */
void supersede_record_all(void);
/* dpkg's database, watched for supersede_record_all() */
#define PL_DPKG_DIR "/var/lib/dpkg"

/* health.c */
struct pl_bpf;
struct pl_bpf_event;
extern struct pl_bpf *bpf;
#define PL_HEALTH_POLL_S 2
void crash_count(const char *name, struct pl_crash_count *c);
/* A new activation: only crashes from now on count against it. */
void crash_baseline(const char *name, struct pl_record *r);
void bpf_sync(void);
/* Whether a layer is in its health window (the health timer runs while one is). */
bool health_look_all(void);
int on_bpf_event(const struct pl_bpf_event *ev, void *ctx);
void arm_health_timer(int tfd, bool on);

#endif
