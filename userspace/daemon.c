// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer daemon, and the administration verbs on the same store:
 * install, activate, drop, remove, status, log (docs/configuration.md).
 *
 * The store records intent (lib/policy.h, enum pl_want) in one small file
 * per layer, written with rename and fsync before the kernel is touched;
 * every change of the inbox, the kernel (netlink events) or the crash
 * counters of the BPF side runs the same reconciliation of store against kernel, step by step
 * until lib/policy.c has nothing more to do. So a SIGKILL between any two
 * steps is repaired by the next start: nothing is ever half done twice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/capability.h>

#include "../include/uapi/patchlayer.h"
#include "../lib/config.h"
#include "../lib/policy.h"
#include "../lib/settle.h"
#include "layer.h"
#include "patchlayer.h"
#include "plbpf.h"
#include "retry.h"
#include "services.h"

#define PL_CONF_DEFAULT "/etc/patchlayer/patchlayer.conf"
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

static struct pl_config cfg;
static const char *conf_path = PL_CONF_DEFAULT;
static bool in_daemon;
static long die_at = -1;	/* PATCHLAYER_DIE_AT: SIGKILL itself at that step */
static long steps;
static struct pl_bpf *bpf;
static struct pl_backoff backoff;	/* the layers the kernel keeps refusing */
static struct pl_settle settle;		/* the inbox's deliveries under way */
static unsigned int settle_wait;	/* seconds until the next look at them, 0 none */

static void dlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void dlog(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", in_daemon ? "patchlayer-daemon" : pl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * A step that changes the store or the kernel. The kill tests set
 * PATCHLAYER_DIE_AT=N to have the daemon SIGKILL itself just before its
 * Nth step, as a power cut or an OOM kill would, then check the next start.
 */
static void step(const char *what, const char *name)
{
	steps++;
	if (in_daemon)
		dlog("step %ld: %s %s", steps, what, name);
	if (steps == die_at) {
		dlog("PATCHLAYER_DIE_AT=%ld: killing myself before %s %s", die_at, what, name);
		raise(SIGKILL);
	}
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static unsigned int minute_of_day(void)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	return (unsigned int)(tm.tm_hour * 60 + tm.tm_min);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Writes TEXT to DIR/NAME through a temporary file, rename and fsync. */
static int write_atomic(const char *dir, const char *name, const char *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	size_t len = strlen(text);
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		err = errno ? -errno : -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return fsync_dir(dir);
}

/* Appends one line to <store>/.log: the history "patchlayer log" prints. */
static void history(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void history(const char *name, const char *fmt, ...)
{
	char path[PATH_MAX], msg[1024], stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dlog("%s: %s", name, msg);
	snprintf(path, sizeof(path), "%s/.log", cfg.store);
	f = fopen(path, "ae");
	if (!f)
		return;
	fprintf(f, "%s %s %s\n", stamp, name, msg);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
}

/* The one rule of lib/manifest.c: the kernel's, so every loaded layer can be stored. */
static bool valid_name(const char *name)
{
	return pl_name_valid(name, strnlen(name, PL_NAME_MAX + 1));
}

/* --- the store --- */

/* A decimal number, whole: "" or "12x" is not one. */
static bool parse_num(const char *v, bool sign, long long *out)
{
	char *end;

	if (!*v || (!sign && *v == '-'))
		return false;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return !errno && !*end;
}

/*
 * Reads NAME's record: 0 without a state file (r: new), 1 with one, or
 * -errno. A state file that does not parse (truncated, damaged, edited
 * by hand) is not taken for "new", which the daemon would load and
 * activate: r->want is PL_WANT_UNKNOWN, r->bad_line and r->bad say where
 * and why, and nothing else of it is believed.
 */
static int record_read(const char *name, struct pl_record *r)
{
	char path[PATH_MAX], line[PL_WHY_MAX + PL_RESTARTS_MAX + 32];
	const char *bad = NULL;
	unsigned int n = 0;
	bool has_state = false;
	FILE *f;
	int w;

	memset(r, 0, sizeof(*r));
	r->want = PL_WANT_NEW;
	snprintf(path, sizeof(path), "%s/%s.state", cfg.store, name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!bad && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *v = strchr(line, '=');
		long long x = 0;

		n++;
		if (len + 1 == sizeof(line) && line[len - 1] != '\n') {
			bad = "line too long";
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		if (!v) {
			bad = "expected key=value";
			break;
		}
		*v++ = '\0';
		if (strcmp(line, "state") == 0) {
			if ((w = pl_want_parse(v)) < 0)
				bad = "unknown state";
			else
				r->want = (enum pl_want)w;
			has_state = true;
		} else if (strcmp(line, "since") == 0) {
			if (!parse_num(v, false, &x))
				bad = "since: not a number";
			r->since = x;
		} else if (strcmp(line, "activated_at") == 0) {
			if (!parse_num(v, false, &x))
				bad = "activated_at: not a number";
			r->activated_at = x;
		} else if (strcmp(line, "crashes") == 0) {
			if (!parse_num(v, false, &x) || x > UINT_MAX)
				bad = "crashes: not a number";
			r->crashes = (unsigned int)x;
		} else if (strcmp(line, "crash_for") == 0) {
			if (!parse_num(v, false, &x))
				bad = "crash_for: not a number";
			r->crash_for = x;
		} else if (strcmp(line, "crash_seen") == 0) {
			if (sscanf(v, "%" SCNu64 " %" SCNu64 " %" SCNu64, &r->crash_seen.id,
				   &r->crash_seen.all, &r->crash_seen.services) != 3)
				bad = "crash_seen: not three numbers";
		} else if (strcmp(line, "restarted_for") == 0) {
			if (!parse_num(v, false, &x))
				bad = "restarted_for: not a number";
			r->restarted_for = x;
		} else if (strcmp(line, "window_start") == 0) {
			if (!parse_num(v, false, &x))
				bad = "window_start: not a number";
			r->window_start = x;
		} else if (strcmp(line, "window_boot") == 0) {
			snprintf(r->window_boot, sizeof(r->window_boot), "%s", v);
		} else if (strcmp(line, "restarts") == 0) {
			snprintf(r->restarts, sizeof(r->restarts), "%s", v);
		} else if (strcmp(line, "version") == 0) {
			snprintf(r->version, sizeof(r->version), "%s", v);
		} else if (strcmp(line, "why") == 0) {
			snprintf(r->why, sizeof(r->why), "%s", v);
		}
		/* other keys: a later version's, ignored */
	}
	if (!bad && ferror(f))
		bad = strerror(errno);
	fclose(f);
	if (!bad && !has_state) {
		bad = n ? "no state line" : "empty";
		n = 0;
	}
	if (bad) {
		char where[32] = "";

		memset(r, 0, sizeof(*r));
		r->want = PL_WANT_UNKNOWN;
		r->bad = bad;
		r->bad_line = n;
		if (n)
			snprintf(where, sizeof(where), "line %u: ", n);
		snprintf(r->why, sizeof(r->why),
			 "its state file does not parse (%s%s): nothing is done automatically until install, activate, drop or remove",
			 where, bad);
	}
	return 1;
}

static int record_write(const char *name, const struct pl_record *r);

/*
 * NAME's state file did not parse (record_read): moved aside to
 * .NAME.state.bad for the administrator, replaced by a record that says
 * "unknown", so that this is said once and nothing is done automatically.
 */
static void record_quarantine(const char *name, struct pl_record *r)
{
	char from[PATH_MAX], to[PATH_MAX], where[32] = "";

	step("quarantine", name);
	snprintf(from, sizeof(from), "%s/%s.state", cfg.store, name);
	snprintf(to, sizeof(to), "%s/.%s.state.bad", cfg.store, name);
	if (rename(from, to) < 0)
		dlog("%s: %s", from, strerror(errno));
	if (r->bad_line)
		snprintf(where, sizeof(where), "line %u: ", r->bad_line);
	r->since = now_s();
	snprintf(r->why, sizeof(r->why),
		 "its state file did not parse (%s%s; kept as .%s.state.bad): nothing is done automatically until install, activate, drop or remove",
		 where, r->bad, name);
	r->bad = NULL;
	record_write(name, r);
	history(name, "unknown: %s", r->why);
}

static int record_write(const char *name, const struct pl_record *r)
{
	char text[PL_WHY_MAX + PL_RESTARTS_MAX + 512], file[PL_NAME_MAX + 8];
	int err;

	snprintf(text, sizeof(text),
		 "state=%s\nsince=%lld\nactivated_at=%lld\ncrashes=%u\nversion=%s\nwhy=%s\n"
		 "restarted_for=%lld\nrestarts=%s\nwindow_boot=%s\nwindow_start=%lld\n"
		 "crash_for=%lld\ncrash_seen=%" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		 pl_want_name(r->want), (long long)r->since, (long long)r->activated_at,
		 r->crashes, r->version, r->why, (long long)r->restarted_for, r->restarts,
		 r->window_boot, (long long)r->window_start,
		 (long long)r->crash_for, r->crash_seen.id, r->crash_seen.all,
		 r->crash_seen.services);
	snprintf(file, sizeof(file), "%s.state", name);
	err = write_atomic(cfg.store, file, text);
	if (err)
		dlog("%s/%s: %s", cfg.store, file, strerror(-err));
	return err;
}

static void record_set(const char *name, struct pl_record *r, enum pl_want want,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void record_set(const char *name, struct pl_record *r, enum pl_want want,
		       const char *fmt, ...)
{
	va_list ap;

	step(pl_want_name(want), name);
	r->want = want;
	r->since = now_s();
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	for (char *p = r->why; *p; p++)
		if (*p == '\n')
			*p = ' ';
	record_write(name, r);
	history(name, "%s: %s", pl_want_name(want), r->why);
}

static bool in_store(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", cfg.store, name);
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* This boot's id: the health window's clock, CLOCK_BOOTTIME, is this boot's. */
static const char *boot_id(void)
{
	static char id[40];

	if (!id[0]) {
		int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, id, sizeof(id) - 1);

		if (fd >= 0)
			close(fd);
		id[n > 0 ? n : 0] = '\0';
		id[strcspn(id, "\n")] = '\0';
		if (!id[0])
			snprintf(id, sizeof(id), "unknown");
	}
	return id;
}

/* The health window of R starts now. */
static void window_start_now(struct pl_record *r)
{
	snprintf(r->window_boot, sizeof(r->window_boot), "%s", boot_id());
	r->window_start = pl_boottime_s();
}

/* Seconds since R's health window started, -1 when not in this boot. */
static int64_t window_elapsed(const struct pl_record *r)
{
	if (strcmp(r->window_boot, boot_id()) != 0)
		return -1;
	return pl_boottime_s() - r->window_start;
}

/* --- the kernel --- */

static int sysfs_write(const char *rel, const char *text)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", pl_sysfs_dir(), rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static enum pl_kstate kstate_of(const char *name)
{
	char rel[PATH_MAX], buf[64];

	snprintf(rel, sizeof(rel), "layers/%s/state", name);
	if (pl_sysfs_read(rel, buf, sizeof(buf)) < 0)
		return PL_K_ABSENT;
	return pl_kstate_parse(buf);
}

static int kernel_load(const char *dir)
{
	return sysfs_write("load", dir);
}

/* --- reconciliation --- */

/*
 * The BPF side's crash counters of NAME now (id 0: no slot, or no BPF
 * side), through the daemon's handle or, for a command, one of its own.
 */
static void crash_count(const char *name, struct pl_crash_count *c)
{
	struct pl_bpf *b = bpf;
	struct pl_bpf_counts n;
	__u64 id;

	memset(c, 0, sizeof(*c));
	if (!b && (!pl_bpf_loaded() || pl_bpf_open(&b, 0)))
		return;
	if (!pl_bpf_counts(b, name, &n, &id)) {
		c->id = id;
		c->all = n.crashes;
		c->services = n.service_crashes;
	}
	if (b != bpf)
		pl_bpf_close(b);
}

/* A new activation: only crashes from now on count against it. */
static void crash_baseline(const char *name, struct pl_record *r)
{
	r->crashes = 0;
	r->crash_for = r->activated_at;
	crash_count(name, &r->crash_seen);
}

/* What lib/policy.c decides on: the record, the kernel, the store, the clock. */
static void facts_of(const char *name, const struct pl_record *r, struct pl_facts *f)
{
	*f = (struct pl_facts){
		.want = r->want,
		.kstate = kstate_of(name),
		.in_store = in_store(name),
		.now = now_s(),
		.minute_of_day = minute_of_day(),
		.activated_at = r->activated_at,
		.window_elapsed = window_elapsed(r),
		.crashes = r->crashes,
	};
}

static void bpf_sync(void)
{
	if (bpf)
		pl_bpf_sync(bpf);
}

/* The actions that ask the kernel, which may refuse them again and again. */
static bool asks_kernel(enum pl_action a)
{
	return a == PL_ACT_LOAD || a == PL_ACT_ACTIVATE || a == PL_ACT_DROP || a == PL_ACT_UNLOAD;
}

/*
 * Runs lib/policy.c's decisions for NAME until there is nothing left to
 * do. Bounded: a kernel that keeps refusing leaves the layer as it is,
 * with the reason recorded, rather than looping. Nor is it asked again at
 * every event (its refusal is one: a REJECTED event): lib/backoff.c spaces
 * the retries out, unless what the refusal depended on has changed.
 */
static void reconcile(const char *name)
{
	struct pl_record r;
	char dir[PATH_MAX];
	uint64_t fp = 0;
	int i, err;

	snprintf(dir, sizeof(dir), "%s/%s", cfg.store, name);
	for (i = 0; i < 12; i++) {
		struct pl_facts f;
		enum pl_action a;

		if (record_read(name, &r) < 0)
			return;
		if (r.bad)
			record_quarantine(name, &r);
		facts_of(name, &r, &f);
		a = pl_decide(&cfg, &f);
		if (a == PL_ACT_NONE) {
			pl_backoff_clear(&backoff, name);
			return;
		}
		if (asks_kernel(a)) {
			fp = pl_retry_fingerprint(dir, &cfg);
			fp = pl_fp_add(fp, &r.want, sizeof(r.want));
			fp = pl_fp_add(fp, &a, sizeof(a));
			if (!pl_backoff_may_try(&backoff, name, fp, pl_boottime_s()))
				return;
		}
		err = 0;
		switch (a) {
		case PL_ACT_LOAD:
			step("load", name);
			err = kernel_load(dir);
			if (err == -EEXIST)
				err = 0;	/* loaded from the inbox before its rename */
			if (!err)
				bpf_sync();
			break;
		case PL_ACT_SET_PENDING:
			record_set(name, &r, PL_WANT_PENDING, "%s",
				   !cfg.auto_install ? "auto_install is off: waiting for 'patchlayer install'"
						     : "outside install_window");
			break;
		case PL_ACT_SET_ACTIVE:
			r.activated_at = now_s();
			window_start_now(&r);
			crash_baseline(name, &r);
			r.restarts[0] = '\0';
			record_set(name, &r, PL_WANT_ACTIVE, "%s",
				   f.kstate == PL_K_ACTIVE ? "found active in the kernel"
							   : "installed automatically");
			break;
		case PL_ACT_ACTIVATE:
			step("activate", name);
			snprintf(dir, sizeof(dir), "layers/%s/state", name);
			err = sysfs_write(dir, "activate");
			snprintf(dir, sizeof(dir), "%s/%s", cfg.store, name);
			/* its first activation in this boot (after a reboot): watched again */
			if (!err && r.want == PL_WANT_ACTIVE && window_elapsed(&r) < 0) {
				window_start_now(&r);
				record_write(name, &r);
			}
			break;
		case PL_ACT_DROP:
			step("drop", name);
			snprintf(dir, sizeof(dir), "layers/%s/state", name);
			err = sysfs_write(dir, "drop");
			snprintf(dir, sizeof(dir), "%s/%s", cfg.store, name);
			break;
		case PL_ACT_UNLOAD:
			step("unload", name);
			err = sysfs_write("unload", name);
			if (err == -ENOENT)
				err = 0;
			break;
		case PL_ACT_WITHDRAW:
			record_set(name, &r, PL_WANT_WITHDRAWN,
				   "%u crashes of patched processes within %us of activation (crash_threshold %u)",
				   r.crashes, cfg.health_window, cfg.crash_threshold);
			break;
		case PL_ACT_SET_SUPERSEDED:
			record_set(name, &r, PL_WANT_SUPERSEDED, "a package update replaced its base");
			break;
		case PL_ACT_SET_STALE:
			record_set(name, &r, PL_WANT_STALE, "its base no longer matches the one it was built for");
			break;
		case PL_ACT_DELETE: {
			char cmd[PATH_MAX], st[PATH_MAX];

			step("delete", name);
			/* rename first: a half-deleted layer is never taken for one */
			snprintf(cmd, sizeof(cmd), "%s/.removed-%s", cfg.store, name);
			if (rename(dir, cmd) < 0 && errno != ENOENT)
				err = -errno;
			if (!err) {
				pid_t pid = fork();

				if (pid == 0) {
					execlp("rm", "rm", "-rf", "--", cmd, (char *)NULL);
					_exit(127);
				}
				if (pid > 0)
					waitpid(pid, NULL, 0);
				snprintf(st, sizeof(st), "%s/%s.state", cfg.store, name);
				unlink(st);
				fsync_dir(cfg.store);
				history(name, "removed from the store");
			}
			if (!err)
				return;
			break;
		}
		default:
			return;
		}
		if (err) {
			unsigned int delay = 0;

			/* the same refusal again: said once, not at each retry */
			if (asks_kernel(a) &&
			    !pl_backoff_failed(&backoff, name, fp, err, pl_boottime_s(), &delay))
				return;
			if (delay)
				history(name, "%s failed: %s (%s); retrying in %us, then less and less often (at most every %us), or when its files, the trust list or the bases change",
					pl_action_name(a), pl_errno_name(-err), strerror(-err),
					delay, PL_BACKOFF_MAX);
			else
				history(name, "%s failed: %s (%s)", pl_action_name(a),
					pl_errno_name(-err), strerror(-err));
			r.want = r.want == PL_WANT_NEW ? PL_WANT_PENDING : r.want;
			snprintf(r.why, sizeof(r.why), "%s failed: %s", pl_action_name(a), strerror(-err));
			record_write(name, &r);
			return;
		}
	}
}

/* Every layer of the store: its directories and its state files. */
static void reconcile_all(void)
{
	struct dirent *de;
	DIR *d = opendir(cfg.store);

	if (!d) {
		dlog("%s: %s", cfg.store, strerror(errno));
		return;
	}
	pl_backoff_sweep_begin(&backoff);
	while ((de = readdir(d))) {
		char name[PL_NAME_MAX + 8];
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)PL_NAME_MAX + 1, de->d_name);
		if (len > 6 && strcmp(de->d_name + len - 6, ".state") == 0) {
			name[len - 6] = '\0';
			if (in_store(name))
				continue;	/* handled with its directory */
		}
		if (valid_name(name))
			reconcile(name);
	}
	closedir(d);
	pl_backoff_sweep_end(&backoff);
}

/* --- restart_services: the services still running a layer's old code --- */

#define PL_RESTART_UNITS_MAX 256

/* A unit with processes still running the replaced files, and one of them. */
struct stale_unit {
	char name[PL_CONFIG_UNIT_MAX];
	__u32 pid;
};

static bool restarts_unavailable;	/* said once in the daemon's log */

/* Appends to the layer's one-line summary, "..." when it is full. */
static void summary_add(char *sum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void summary_add(char *sum, const char *fmt, ...)
{
	size_t used = strlen(sum);
	va_list ap;
	int n;

	if (used + 4 >= PL_RESTARTS_MAX)
		return;
	if (used)
		used += (size_t)snprintf(sum + used, PL_RESTARTS_MAX - used, "; ");
	va_start(ap, fmt);
	n = vsnprintf(sum + used, PL_RESTARTS_MAX - used, fmt, ap);
	va_end(ap);
	if (n < 0 || used + (size_t)n >= PL_RESTARTS_MAX)
		strcpy(sum + PL_RESTARTS_MAX - 4, "...");
}

/* The units of the processes the BPF side sees running NAME's replaced files. */
static int stale_units(const char *name, struct stale_unit *units, size_t *n_units)
{
	struct pl_bpf_proc *procs = NULL;
	size_t n = 0, i, j;
	int err;

	*n_units = 0;
	pl_bpf_sync(bpf);
	err = pl_bpf_usage(bpf, name, &procs, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		char unit[PL_CONFIG_UNIT_MAX];

		if (procs[i].kind != PL_BPF_STALE)
			continue;
		/*
		 * A patchlayer command, as the "install" that just activated
		 * the layer, is about to exit: no reason to restart the unit
		 * it runs in. The daemon itself is judged as its own unit.
		 */
		if ((pid_t)procs[i].pid != getpid() &&
		    strncmp(procs[i].comm, "patchlayer", sizeof(procs[i].comm)) == 0)
			continue;
		/* gone since the scan, a kernel thread: nothing to restart */
		if (pl_services_unit_of((pid_t)procs[i].pid, unit, sizeof(unit)) < 0)
			continue;
		for (j = 0; j < *n_units; j++)
			if (strcmp(units[j].name, unit) == 0)
				break;
		if (j < *n_units || *n_units == PL_RESTART_UNITS_MAX)
			continue;
		snprintf(units[j].name, sizeof(units[j].name), "%s", unit);
		units[j].pid = procs[i].pid;
		(*n_units)++;
	}
	free(procs);
	return 0;
}

/*
 * Restarts, with try-restart, the services lib/policy.c picks among those
 * still running NAME's replaced files, then records that it was done for
 * this activation. Restart first, record after: a kill in between only
 * repeats the scan, which then finds those services patched.
 */
static void restart_stale(const char *name, struct pl_record *r, struct pl_services *sv,
			  const char *own_unit)
{
	static struct stale_unit units[PL_RESTART_UNITS_MAX];
	size_t n = 0, i;
	int err;

	r->restarts[0] = '\0';
	err = stale_units(name, units, &n);
	if (err) {
		history(name, "restart_services: cannot list the processes running its old files: %s",
			strerror(-err));
		summary_add(r->restarts, "cannot list the processes: %s", strerror(-err));
	}
	if (!err && n == 0) {
		history(name, "restart_services: no service runs its old files");
		summary_add(r->restarts, "no service ran its old files");
	}
	for (i = 0; i < n; i++) {
		enum pl_unit_verdict v = pl_unit_verdict(&cfg, units[i].name, own_unit);
		char why[256];

		if (v == PL_UNIT_INVALID) {
			/* not even printed: a cgroup name is not a unit name */
			history(name, "restart_services: kept the unit of pid %u: %s",
				units[i].pid, pl_unit_verdict_why(v));
			summary_add(r->restarts, "kept the unit of pid %u: %s", units[i].pid,
				    pl_unit_verdict_why(v));
			continue;
		}
		if (v != PL_UNIT_RESTART) {
			history(name, "restart_services: kept %s (pid %u runs its old files): %s",
				units[i].name, units[i].pid, pl_unit_verdict_why(v));
			summary_add(r->restarts, "kept %s: %s", units[i].name, pl_unit_verdict_why(v));
			continue;
		}
		err = pl_services_try_restart(sv, units[i].name, why, sizeof(why));
		if (err) {
			history(name, "restart_services: restart of %s failed: %s", units[i].name, why);
			summary_add(r->restarts, "restart of %s failed: %s", units[i].name, why);
		} else {
			history(name, "restart_services: restarted %s (pid %u ran its old files)",
				units[i].name, units[i].pid);
			summary_add(r->restarts, "restarted %s", units[i].name);
		}
	}
	r->restarted_for = r->activated_at;
	record_write(name, r);
}

/*
 * After each reconciliation: for every layer activated (by the daemon or a
 * verb) since its services were last restarted, restart them now when
 * install_window is open; otherwise the window timer brings us back.
 */
static void restart_services(void)
{
	char why[256], own[PL_CONFIG_UNIT_MAX] = "";
	struct pl_services *sv = NULL;
	struct dirent *de;
	bool tried = false;
	DIR *d;

	if (cfg.restart == PL_RESTART_NO)
		return;
	d = opendir(cfg.store);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char name[PL_NAME_MAX + 8];
		size_t len = strlen(de->d_name);
		struct pl_facts f;
		struct pl_record r;
		enum pl_restart_when when;

		if (de->d_name[0] == '.' || len <= 6 || len - 6 > PL_NAME_MAX ||
		    strcmp(de->d_name + len - 6, ".state"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 6), de->d_name);
		if (!valid_name(name) || record_read(name, &r) <= 0)
			continue;
		facts_of(name, &r, &f);
		when = pl_restarts_due(&cfg, &f, r.restarted_for);
		if (when == PL_RESTARTS_NONE)
			continue;
		if (when == PL_RESTARTS_WAIT) {
			static const char waiting[] = "waiting for install_window";

			/* said once per activation, not at every event */
			if (strcmp(r.restarts, waiting) != 0) {
				snprintf(r.restarts, sizeof(r.restarts), "%s", waiting);
				record_write(name, &r);
				history(name, "restart_services: %s", waiting);
			}
			continue;
		}
		if (!tried) {
			tried = true;
			why[0] = '\0';
			if (!bpf)
				snprintf(why, sizeof(why), "the BPF side is not loaded");
			else
				pl_services_open(&sv, why, sizeof(why));
			if (!sv && !restarts_unavailable)
				dlog("service restarts unavailable: %s", why);
			restarts_unavailable = !sv;
			if (pl_services_unit_of(0, own, sizeof(own)) < 0)
				own[0] = '\0';
		}
		if (!sv) {
			/* recorded for "layers", not retried for this activation */
			snprintf(r.restarts, sizeof(r.restarts), "unavailable: %s", why);
			r.restarted_for = r.activated_at;
			record_write(name, &r);
			continue;
		}
		restart_stale(name, &r, sv, own);
	}
	closedir(d);
	pl_services_close(sv);
}

/* --- the inbox --- */

static void reject(const char *entry, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(const char *entry, const char *fmt, ...)
{
	char rdir[PATH_MAX], from[PATH_MAX], to[PATH_MAX], reason[1024], file[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	step("reject", entry);
	snprintf(rdir, sizeof(rdir), "%s/rejected", cfg.inbox);
	mkdir(rdir, 0700);
	/* the reason first: a kill after it only repeats the rename */
	snprintf(file, sizeof(file), "%s.reason", entry);
	strncat(reason, "\n", sizeof(reason) - strlen(reason) - 1);
	write_atomic(rdir, file, reason);
	snprintf(from, sizeof(from), "%s/%s", cfg.inbox, entry);
	if ((size_t)snprintf(to, sizeof(to), "%s/%s", rdir, entry) >= sizeof(to))
		return;
	if (rename(from, to) < 0)
		dlog("%s: cannot move to %s: %s", from, rdir, strerror(errno));
	fsync_dir(cfg.inbox);
	/* one line in the log: without the file's newline */
	history(entry, "rejected: %.*s", (int)strcspn(reason, "\n"), reason);
}

static void take(const char *entry)
{
	char path[PATH_MAX], dst[PATH_MAX], rel[PATH_MAX], kpath[PATH_MAX], mpath[PATH_MAX + 16];
	struct pl_layer_manifest lm;
	char name[PL_NAME_MAX + 1];
	struct pl_record r;
	struct stat st;
	int err;

	snprintf(path, sizeof(path), "%s/%s", cfg.inbox, entry);
	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		reject(entry, "%s is %s, not a layer directory", entry, pl_file_type(st.st_mode));
		return;
	}
	if (st.st_uid != 0 || (st.st_mode & S_IWOTH)) {
		reject(entry, "not owned by root or writable by others (mode %04o, uid %u)",
		       st.st_mode & 07777, st.st_uid);
		return;
	}
	snprintf(mpath, sizeof(mpath), "%s/manifest", path);
	err = pl_layer_manifest_load(mpath, &lm);
	if (err || !lm.parsed) {
		if (lm.perr.reason)
			reject(entry, "manifest line %u: %s", lm.perr.line, lm.perr.reason);
		else
			reject(entry, "manifest: %s", strerror(err ? -err : EINVAL));
		pl_layer_manifest_free(&lm);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)lm.m.name.len, lm.m.name.s);
	record_read(name, &r);
	snprintf(r.version, sizeof(r.version), "%.*s", (int)lm.m.version.len, lm.m.version.s);
	pl_layer_manifest_free(&lm);
	if (!valid_name(name)) {
		reject(entry, "layer name '%s' cannot name a store entry", name);
		return;
	}
	if (in_store(name) || r.want != PL_WANT_NEW) {
		reject(entry, "a layer named %s is already in the store (%s)", name,
		       pl_want_name(r.want));
		return;
	}

	/* the kernel verifies it where it lies; loaded from the inbox before a kill is fine */
	snprintf(rel, sizeof(rel), "layers/%s/path", name);
	if (pl_sysfs_read(rel, kpath, sizeof(kpath)) < 0 || strcmp(kpath, path) != 0) {
		step("load", name);
		err = kernel_load(path);
		if (err) {
			reject(entry, "the kernel refused it: %s (%s)", pl_errno_name(-err), strerror(-err));
			return;
		}
	}
	snprintf(dst, sizeof(dst), "%s/%s", cfg.store, name);
	step("store", name);
	if (rename(path, dst) < 0) {
		err = -errno;
		history(name, "cannot move %s into %s: %s", path, cfg.store, strerror(-err));
		sysfs_write("unload", name);
		reject(entry, "cannot move into the store: %s", strerror(-err));
		return;
	}
	fsync_dir(cfg.store);
	fsync_dir(cfg.inbox);
	r.want = PL_WANT_NEW;
	r.since = now_s();
	snprintf(r.why, sizeof(r.why), "verified by the kernel and stored");
	record_write(name, &r);
	history(name, "version \"%s\" verified and stored", r.version);
	bpf_sync();
	reconcile(name);
}

/*
 * Seconds until ENTRY, a directory written into the inbox in place (cp -r,
 * tar -x, mv from another filesystem), is complete: 0 once its tree has
 * been still for inbox_settle seconds (lib/settle.c), or at once when it
 * was renamed into the inbox.
 */
static unsigned int unsettled(const char *entry)
{
	char path[PATH_MAX];
	struct stat st;
	int64_t newest;
	unsigned int wait;
	uint64_t fp;

	snprintf(path, sizeof(path), "%s/%s", cfg.inbox, entry);
	/* anything else is refused whole, complete or not */
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	fp = pl_tree_fingerprint(path, &newest);
	wait = pl_settle_look(&settle, entry, fp, (int64_t)time(NULL) - newest, pl_boottime_s(),
			      cfg.inbox_settle);
	if (wait && !pl_settle_said(&settle, entry))
		dlog("%s: being written (not renamed into the inbox): taken once unchanged for %us",
		     path, cfg.inbox_settle);
	return wait;
}

static void scan_inbox(void)
{
	struct dirent *de;
	DIR *d = opendir(cfg.inbox);

	if (!d) {
		dlog("%s: %s", cfg.inbox, strerror(errno));
		return;
	}
	settle_wait = 0;
	pl_settle_sweep_begin(&settle);
	while ((de = readdir(d))) {
		unsigned int wait;

		/* dot names are deliveries under way: copy, then rename into place */
		if (de->d_name[0] == '.' || strcmp(de->d_name, "rejected") == 0)
			continue;
		wait = unsettled(de->d_name);
		if (wait) {
			if (!settle_wait || wait < settle_wait)
				settle_wait = wait;
			continue;
		}
		take(de->d_name);
		pl_settle_forget(&settle, de->d_name);
	}
	closedir(d);
	pl_settle_sweep_end(&settle);
}

/* The entries renamed into the inbox, from inotify's N bytes at BUF. */
static void inbox_events(const char *buf, ssize_t n)
{
	const struct inotify_event *e;
	ssize_t off = 0;

	while (off + (ssize_t)sizeof(*e) <= n) {
		e = (const struct inotify_event *)(buf + off);
		if (off + (ssize_t)sizeof(*e) + (ssize_t)e->len > n)
			break;
		if ((e->mask & IN_MOVED_TO) && e->len && memchr(e->name, '\0', e->len))
			pl_settle_renamed(&settle, e->name);
		off += (ssize_t)sizeof(*e) + (ssize_t)e->len;
	}
}

/* --- locking: the daemon and the verbs never reconcile at once --- */

static int lock_store(void)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", cfg.store);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		dlog("%s: %s", path, strerror(errno));
		return -1;
	}
	flock(fd, LOCK_EX);
	return fd;
}

static void unlock_store(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int load_config(void)
{
	struct pl_config_error e;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int err;

	pl_config_defaults(&cfg);
	if (stat(conf_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;	/* every key at its default */
		pl_err("%s: %s", conf_path, strerror(errno));
		return -1;
	}
	/*
	 * It names the keys to trust and the directories to cover: a file
	 * someone else may write would hand them over (as sshd's StrictModes).
	 */
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		pl_err("%s: refused: writable by others than root (mode %04o, uid %u)",
		       conf_path, st.st_mode & 07777, st.st_uid);
		return -1;
	}
	err = pl_read_file(conf_path, PL_CONFIG_MAX_SIZE, &buf, &len);
	if (err) {
		pl_err("%s: %s", conf_path, strerror(-err));
		return -1;
	}
	err = pl_config_parse(&cfg, buf, len, &e);
	free(buf);
	if (err) {
		if (e.line)
			pl_err("%s:%u: %s", conf_path, e.line, e.reason);
		else
			pl_err("%s: %s", conf_path, e.reason);
		return -1;
	}
	return 0;
}

static const char *getconf(void)
{
	const char *env = getenv("PATCHLAYER_CONF");

	return env && *env ? env : PL_CONF_DEFAULT;
}

/* --- start-up --- */

static int check_dir(const char *dir, bool create)
{
	struct stat st;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		pl_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0) {
		pl_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pl_err("%s: %s", dir, strerror(ENOTDIR));
		return -1;
	}
	if ((st.st_mode & (S_IWOTH | S_IWGRP)) || st.st_uid != 0) {
		pl_err("%s: refused: writable by others than root (mode %04o, uid %u)",
		       dir, st.st_mode & 07777, st.st_uid);
		return -1;
	}
	return 0;
}

static void protect_and_trust(void)
{
	char mounts[8192];
	unsigned int i;

	for (i = 0; i < cfg.n_trust; i++) {
		char *der = NULL;
		size_t len = 0;
		int err = pl_read_file(cfg.trust[i], 4096, &der, &len);

		if (!err) {
			int fd;
			char path[PATH_MAX];

			/* one write of the DER bytes, as the ABI asks */
			snprintf(path, sizeof(path), "%s/trust", pl_sysfs_dir());
			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, der, len) != (ssize_t)len)
				err = -errno;
			if (fd >= 0)
				close(fd);
		}
		free(der);
		if (err)
			dlog("trust %s: %s", cfg.trust[i], strerror(-err));
	}
	if (pl_sysfs_read("mounts", mounts, sizeof(mounts)) < 0)
		mounts[0] = '\0';
	for (i = 0; i < cfg.n_protect; i++) {
		char line[PL_CONFIG_PATH_MAX + 2];
		pid_t pid;
		int status = 0;

		snprintf(line, sizeof(line), "%s", cfg.protect[i]);
		/* already protected: the module lists it */
		{
			char *p = mounts, *nl;
			bool found = false;

			while (*p) {
				nl = strchr(p, '\n');
				if ((nl ? (size_t)(nl - p) : strlen(p)) == strlen(line) &&
				    strncmp(p, line, strlen(line)) == 0)
					found = true;
				if (!nl)
					break;
				p = nl + 1;
			}
			if (found)
				continue;
		}
		pid = fork();
		if (pid == 0) {
			char self[PATH_MAX];
			ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

			if (n < 0)
				_exit(127);
			self[n] = '\0';
			execl(self, "patchlayer", "protect", line, (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			dlog("protect %s failed", line);
		else
			dlog("protected %s", line);
	}
}

static void drop_privileges(void)
{
	static const cap_value_t keep[] = {
		CAP_SYS_ADMIN,		/* sysfs load/unload/activate/drop, mounts */
		CAP_DAC_READ_SEARCH,	/* read layers and /proc of any process */
		CAP_BPF, CAP_PERFMON,	/* pl_bpf_sync, pl_bpf_usage */
	};
	cap_t caps = cap_init();

	if (caps && cap_set_flag(caps, CAP_PERMITTED, sizeof(keep) / sizeof(keep[0]), keep, CAP_SET) == 0 &&
	    cap_set_flag(caps, CAP_EFFECTIVE, sizeof(keep) / sizeof(keep[0]), keep, CAP_SET) == 0 &&
	    cap_set_proc(caps) == 0)
		dlog("capabilities reduced to cap_sys_admin,cap_dac_read_search,cap_bpf,cap_perfmon");
	else
		dlog("cannot reduce capabilities: %s", strerror(errno));
	if (caps)
		cap_free(caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		dlog("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
}

/* sd_notify(READY=1) by hand: one datagram to $NOTIFY_SOCKET */
static void notify_ready(void)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char msg[] = "READY=1";
	size_t len;
	int fd;

	if (!sock || (sock[0] != '/' && sock[0] != '@') || strlen(sock) >= sizeof(sa.sun_path))
		return;
	len = strlen(sock);
	memcpy(sa.sun_path, sock, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

/* --- the health watch --- */

/*
 * Counts what the BPF side's counters of NAME grew by since the last look
 * (crash_scope picks the counter), within health_window; EV, when not NULL,
 * is a crash event of NAME to name in the log. The counters, not the ring
 * buffer, decide: another consumer (patchlayer bpf events) takes events
 * from the daemon, and a full ring buffer drops them. Returns whether NAME
 * is still in its health window.
 */
static bool health_look(const char *name, const struct pl_bpf_event *ev)
{
	struct pl_crash_count now;
	struct pl_record r;
	unsigned int n;
	bool in_window;

	if (record_read(name, &r) <= 0 || r.want != PL_WANT_ACTIVE)
		return false;
	in_window = pl_in_health_window(&cfg, r.activated_at, window_elapsed(&r));
	crash_count(name, &now);
	if (r.crash_for != r.activated_at) {
		/* activated by a version without crash_for: count from now */
		if (in_window) {
			r.crash_for = r.activated_at;
			r.crash_seen = now;
			record_write(name, &r);
		}
		return in_window;
	}
	if (!in_window || !now.id)
		return in_window;
	n = pl_crashes_since(&cfg, &r.crash_seen, &now);
	if (!n) {
		if (ev && !(ev->flags & PL_BPF_EV_SERVICE) && cfg.crash_scope == PL_CRASH_SERVICES)
			dlog("%s: crash of pid %u (%.16s), signal %d: not counted, not a system service "
			     "(crash_scope = services)", name, ev->pid, ev->comm, ev->signal);
		if (memcmp(&now, &r.crash_seen, sizeof(now))) {
			r.crash_seen = now;
			record_write(name, &r);
		}
		return true;
	}
	r.crashes = r.crashes + n > PL_CONFIG_MAX_CRASHES ? PL_CONFIG_MAX_CRASHES : r.crashes + n;
	r.crash_seen = now;
	step("crash", name);
	record_write(name, &r);
	if (ev && n == 1 && (cfg.crash_scope == PL_CRASH_ALL || (ev->flags & PL_BPF_EV_SERVICE)))
		history(name, "crash %u of %u: pid %u (%.16s) killed by signal %d (%s)",
			r.crashes, cfg.crash_threshold, ev->pid, ev->comm, ev->signal,
			sigabbrev_np(ev->signal) ? sigabbrev_np(ev->signal) : "?");
	else
		history(name, "crash %u of %u: counted by the BPF side (%u new, event not received)",
			r.crashes, cfg.crash_threshold, n);
	reconcile(name);
	return true;
}

/* health_look() of every layer of the store: whether one is in its window. */
static bool health_look_all(void)
{
	bool any = false;
	struct dirent *de;
	DIR *d;

	if (!bpf)
		return false;
	d = opendir(cfg.store);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		char name[PL_NAME_MAX + 8];
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 6 || len - 6 > PL_NAME_MAX ||
		    strcmp(de->d_name + len - 6, ".state"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 6), de->d_name);
		if (valid_name(name))
			any |= health_look(name, NULL);
	}
	closedir(d);
	return any;
}

/* A crash event: a look at its layer's counters now. */
static int on_bpf_event(const struct pl_bpf_event *ev, void *ctx)
{
	char name[PL_BPF_NAME_MAX + 8];
	int fd;

	(void)ctx;
	if (ev->kind != PL_BPF_CRASH)
		return 0;
	snprintf(name, sizeof(name), "%s", ev->layer);
	if (!valid_name(name))
		return 0;
	fd = lock_store();
	health_look(name, ev);
	unlock_store(fd);
	return 0;
}

/*
 * While a layer is in its health window, a look every PL_HEALTH_POLL_S
 * seconds finds the crashes whose events the daemon did not get.
 */
#define PL_HEALTH_POLL_S 2

static void arm_health_timer(int tfd, bool on)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = on ? PL_HEALTH_POLL_S : 0;
	timerfd_settime(tfd, 0, &its, NULL);
}

static int nl_event_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(bool *)arg = true;
	return NL_OK;
}

/* Arms TFD for the next opening of install_window, if a layer waits for it. */
static void arm_window_timer(int tfd)
{
	struct itimerspec its = { 0 };
	unsigned int wait = pl_window_wait(&cfg, minute_of_day());

	if (wait > 0) {
		time_t t = time(NULL);

		/* at the start of that minute, plus a second of margin */
		its.it_value.tv_sec = (time_t)wait * 60 - t % 60 + 1;
	}
	timerfd_settime(tfd, 0, &its, NULL);
}

/*
 * Arms RFD for the earliest retry of a refused layer, or the next look at
 * a delivery under way, if one waits.
 */
static void arm_retry_timer(int rfd)
{
	struct itimerspec its = { 0 };
	int64_t wait = pl_backoff_next(&backoff, pl_boottime_s());

	if (settle_wait && (wait < 0 || settle_wait < wait))
		wait = settle_wait;

	/* a second at least: a layer due but not retried never spins */
	if (wait >= 0)
		its.it_value.tv_sec = (time_t)(wait < 1 ? 1 : wait);
	timerfd_settime(rfd, 0, &its, NULL);
}

static int cmd_daemon_run(void)
{
	struct epoll_event ev, evs[8];
	struct ring_buffer *rb = NULL;
	struct nl_sock *sk = NULL;
	sigset_t mask;
	int ep, ino, sfd, tfd, rfd, htfd, grp, err, lock;
	bool kernel_changed = false;

	in_daemon = true;
	if (!pl_module_loaded())
		return pl_module_missing();
	if (check_dir(cfg.store, true) || check_dir(cfg.inbox, true))
		return PL_EXIT_FAIL;
	if (pl_daemon_claim())
		return PL_EXIT_FAIL;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
	rfd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC);
	htfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (sfd < 0 || ep < 0 || tfd < 0 || rfd < 0 || htfd < 0 || ino < 0 ||
	    inotify_add_watch(ino, cfg.inbox, IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
		pl_err("daemon: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}

	sk = nl_socket_alloc();
	if (!sk)
		return PL_EXIT_FAIL;
	nl_socket_disable_seq_check(sk);
	err = genl_connect(sk);
	if (err >= 0)
		err = grp = genl_ctrl_resolve_grp(sk, PATCHLAYER_GENL_NAME, PATCHLAYER_GENL_MCGRP_EVENTS);
	if (err >= 0)
		err = nl_socket_add_membership(sk, grp);
	if (err >= 0)
		err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, nl_event_cb, &kernel_changed);
	if (err >= 0)
		err = nl_socket_set_nonblocking(sk);
	if (err < 0) {
		pl_err("netlink family %s: %s", PATCHLAYER_GENL_NAME, nl_geterror(err));
		return PL_EXIT_FAIL;
	}

	/* the crash watch; without it the daemon still installs, and says so */
	err = pl_bpf_open(&bpf, PL_BPF_LOAD);
	if (!err)
		err = pl_bpf_events(bpf, on_bpf_event, NULL, &rb);
	if (err) {
		dlog("health watch unavailable: BPF side: %s", strerror(-err));
		if (bpf)
			pl_bpf_close(bpf);
		bpf = NULL;
		rb = NULL;
	}

	ev.events = EPOLLIN;
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = ino;
	epoll_ctl(ep, EPOLL_CTL_ADD, ino, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = rfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev);
	ev.data.fd = htfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, htfd, &ev);
	ev.data.fd = nl_socket_get_fd(sk);
	epoll_ctl(ep, EPOLL_CTL_ADD, nl_socket_get_fd(sk), &ev);
	if (rb) {
		ev.data.fd = ring_buffer__epoll_fd(rb);
		epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}

	/*
	 * Re-protect and trust, the steps that need more than what the
	 * daemon keeps (the BPF side is loaded above); then bring the kernel
	 * to what the store says and look at the inbox with the reduced set
	 * only: nothing a delivery or the store holds is handled with more.
	 */
	protect_and_trust();
	drop_privileges();
	lock = lock_store();
	bpf_sync();
	reconcile_all();
	scan_inbox();
	unlock_store(lock);
	arm_window_timer(tfd);
	arm_retry_timer(rfd);
	dlog("ready: inbox %s, store %s, auto_install %s", cfg.inbox, cfg.store,
	     cfg.auto_install ? "yes" : "no");
	notify_ready();
	/* after READY=1: systemd is not waiting for us when we ask it to restart */
	lock = lock_store();
	restart_services();
	/* what crashed while no daemon looked */
	arm_health_timer(htfd, health_look_all());
	unlock_store(lock);

	for (;;) {
		bool inbox_changed = false, retry_due = false, health_due = false;
		int n = epoll_wait(ep, evs, 8, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP) {
					dlog("signal %d: exiting", (int)si.ssi_signo);
					goto out;
				}
				inbox_changed = kernel_changed = true;
				/* "systemctl reload": retry the refused layers now */
				pl_backoff_init(&backoff);
			} else if (fd == ino) {
				char buf[4096] __attribute__((aligned(8)));

				ssize_t len;

				while ((len = read(ino, buf, sizeof(buf))) > 0)
					inbox_events(buf, len);
				inbox_changed = true;
			} else if (fd == tfd) {
				uint64_t x;

				if (read(tfd, &x, sizeof(x)) < 0)
					x = 0;
				kernel_changed = true;
			} else if (fd == rfd) {
				uint64_t x;

				if (read(rfd, &x, sizeof(x)) < 0)
					x = 0;
				retry_due = true;
				inbox_changed = settle_wait != 0;
			} else if (fd == htfd) {
				uint64_t x;

				if (read(htfd, &x, sizeof(x)) < 0)
					x = 0;
				health_due = true;
			} else if (rb && fd == ring_buffer__epoll_fd(rb)) {
				ring_buffer__consume(rb);
			} else {
				nl_recvmsgs_default(sk);
			}
		}
		if (inbox_changed || kernel_changed || retry_due) {
			lock = lock_store();
			if (kernel_changed)
				bpf_sync();
			reconcile_all();
			if (inbox_changed)
				scan_inbox();
			restart_services();
			unlock_store(lock);
			kernel_changed = false;
			arm_window_timer(tfd);
			arm_retry_timer(rfd);
			health_due = true;	/* an activation starts a window */
		}
		if (health_due) {
			lock = lock_store();
			arm_health_timer(htfd, health_look_all());
			unlock_store(lock);
		}
	}
out:
	if (rb)
		ring_buffer__free(rb);
	if (bpf)
		pl_bpf_close(bpf);
	nl_socket_free(sk);
	return PL_EXIT_OK;
}

static bool need_root(const char *verb)
{
	if (geteuid() == 0)
		return false;
	pl_err("%s: needs root (the store %s belongs to root): %s", verb, cfg.store, strerror(EPERM));
	return true;
}

/* Parses "[--config FILE]" and loads it; returns the index of the first operand. */
static int common_opts(int argc, char **argv, int *rc)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *die = getenv("PATCHLAYER_DIE_AT");
	int c;

	if (die && *die)
		die_at = strtol(die, NULL, 10);
	conf_path = getconf();
	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "+c:", longopts, NULL)) != -1) {
		if (c == 'c') {
			conf_path = optarg;
		} else {
			*rc = PL_EXIT_USAGE;
			return -1;
		}
	}
	if (load_config()) {
		*rc = PL_EXIT_FAIL;
		return -1;
	}
	return optind - 1;
}

int cmd_daemon(int argc, char **argv, const struct pl_opts *o)
{
	int rc = 0, first = common_opts(argc, argv, &rc);

	(void)o;
	if (first < 0)
		return rc;
	if (first != argc) {
		pl_err("daemon: unexpected argument '%s'", argv[first]);
		return PL_EXIT_USAGE;
	}
	if (need_root("daemon"))
		return PL_EXIT_FAIL;
	return cmd_daemon_run();
}

/* install, activate, drop, remove: a new intent, then the same reconciliation. */
static int verb(int argc, char **argv, const char *what)
{
	int rc = 0, first = common_opts(argc, argv, &rc), lock;
	struct pl_record r;
	const char *name;
	enum pl_want want;

	if (first < 0)
		return rc;
	if (argc - first != 1) {
		pl_err("usage: %s %s NAME", pl_prog, what);
		return PL_EXIT_USAGE;
	}
	name = argv[first];
	if (need_root(what))
		return PL_EXIT_FAIL;
	if (!pl_module_loaded())
		return pl_module_missing();
	if (!valid_name(name) || !in_store(name)) {
		pl_err("%s: no layer %s in the store %s", what, name, cfg.store);
		return PL_EXIT_FAIL;
	}
	lock = lock_store();
	record_read(name, &r);
	if (strcmp(what, "drop") == 0) {
		want = PL_WANT_DROPPED;
	} else if (strcmp(what, "remove") == 0) {
		want = PL_WANT_REMOVING;
	} else {
		if (strcmp(what, "activate") == 0 &&
		    (r.want == PL_WANT_SUPERSEDED || r.want == PL_WANT_STALE)) {
			pl_err("activate: %s is %s (%s)", name, pl_want_name(r.want), r.why);
			unlock_store(lock);
			return PL_EXIT_FAIL;
		}
		want = PL_WANT_ACTIVE;
		r.activated_at = now_s();
		window_start_now(&r);
		crash_baseline(name, &r);
		r.restarts[0] = '\0';
	}
	record_set(name, &r, want, "%s by the administrator", what);
	reconcile(name);
	record_read(name, &r);
	unlock_store(lock);
	if (want == PL_WANT_REMOVING)
		return in_store(name) ? PL_EXIT_FAIL : PL_EXIT_OK;
	if (r.want != want || (want == PL_WANT_ACTIVE && kstate_of(name) != PL_K_ACTIVE)) {
		pl_err("%s %s: %s", what, name, r.why);
		return PL_EXIT_FAIL;
	}
	return PL_EXIT_OK;
}

int cmd_install(int argc, char **argv, const struct pl_opts *o)
{
	(void)o;
	return verb(argc, argv, "install");
}

int cmd_activate(int argc, char **argv, const struct pl_opts *o)
{
	(void)o;
	return verb(argc, argv, "activate");
}

int cmd_drop(int argc, char **argv, const struct pl_opts *o)
{
	(void)o;
	return verb(argc, argv, "drop");
}

int cmd_remove(int argc, char **argv, const struct pl_opts *o)
{
	(void)o;
	return verb(argc, argv, "remove");
}

/* -ENOENT: NAME is not in the kernel (history), so the BPF side has no count. */
static int usage_counts(const char *name, long *patched, long *stale)
{
	struct pl_bpf_proc *procs = NULL;
	size_t n = 0, i;
	int err;

	*patched = *stale = -1;
	if (!bpf)
		return -ENODEV;
	err = pl_bpf_usage(bpf, name, &procs, &n);
	if (err)
		return err;
	*patched = *stale = 0;
	for (i = 0; i < n; i++) {
		if (procs[i].kind == PL_BPF_PATCHED)
			(*patched)++;
		else if (procs[i].kind == PL_BPF_STALE)
			(*stale)++;
	}
	free(procs);
	return 0;
}

int cmd_layers(int argc, char **argv, const struct pl_opts *o)
{
	int rc = 0, first = common_opts(argc, argv, &rc);
	struct dirent **names = NULL;
	struct json j;
	int n, i;

	if (first < 0)
		return rc;
	n = scandir(cfg.store, &names, NULL, alphasort);
	if (n < 0) {
		pl_err("%s: %s", cfg.store, strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (pl_bpf_loaded() && pl_bpf_open(&bpf, 0) < 0)
		bpf = NULL;
	if (bpf)
		pl_bpf_sync(bpf);
	if (o->json) {
		pl_json_begin(&j, o);
		json_array_start(&j, NULL);
	}
	for (i = 0; i < n; i++) {
		const char *e = names[i]->d_name;
		size_t len = strlen(e);
		char name[PL_NAME_MAX + 1], rel[PATH_MAX], hits[32], since[32];
		struct pl_record r;
		long patched, stale;
		int counted;
		time_t t;
		struct tm tm;

		if (e[0] == '.' || len <= 6 || len - 6 > PL_NAME_MAX || strcmp(e + len - 6, ".state"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 6), e);
		if (record_read(name, &r) <= 0)
			continue;
		snprintf(rel, sizeof(rel), "layers/%s/hits", name);
		if (pl_sysfs_read(rel, hits, sizeof(hits)) < 0)
			strcpy(hits, "0");
		counted = usage_counts(name, &patched, &stale);
		t = (time_t)r.since;
		gmtime_r(&t, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (o->json) {
			json_object_start(&j, NULL);
			json_string(&j, "name", name);
			json_string(&j, "version", r.version);
			json_string(&j, "state", pl_want_name(r.want));
			json_string(&j, "kernel", pl_kstate_name(kstate_of(name)));
			json_string(&j, "since", since);
			json_uint(&j, "hits", strtoull(hits, NULL, 10));
			patched < 0 ? json_null(&j, "patched") : json_int(&j, "patched", patched);
			stale < 0 ? json_null(&j, "stale") : json_int(&j, "stale", stale);
			json_uint(&j, "crashes", r.crashes);
			json_string(&j, "why", r.why);
			json_string(&j, "restarts", r.restarts);
			json_object_end(&j);
		} else {
			printf("%s version \"%s\" %s since %s hits %s", name, r.version,
			       pl_want_name(r.want), since, hits);
			if (!counted)
				printf(" patched %ld stale %ld", patched, stale);
			else if (counted == -ENODEV)
				printf(" processes unknown (the BPF side is not loaded)");
			else if (counted != -ENOENT)	/* not in the kernel: nothing to count */
				printf(" processes unknown (%s)", strerror(-counted));
			if (r.crashes)
				printf(" crashes %u", r.crashes);
			printf("\n    %s\n", r.why);
			if (r.restarts[0])
				printf("    restart_services: %s\n", r.restarts);
		}
	}
	if (o->json) {
		json_array_end(&j);
		json_finish(&j);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (bpf)
		pl_bpf_close(bpf);
	return PL_EXIT_OK;
}

int cmd_log(int argc, char **argv, const struct pl_opts *o)
{
	int rc = 0, first = common_opts(argc, argv, &rc);
	char path[PATH_MAX], buf[4096];
	size_t n;
	FILE *f;

	(void)o;
	if (first < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/.log", cfg.store);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return PL_EXIT_OK;
		pl_err("%s: %s", path, strerror(errno));
		return PL_EXIT_FAIL;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return PL_EXIT_OK;
}
