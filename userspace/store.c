// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's store (docs/daemon.md): one directory per layer and its
 * record, <store>/<name>.state, written with rename and fsync before the
 * kernel is touched; the history, <store>/.log; the lock the daemon and
 * the verbs take; and store_walk(), the one walk of the store's layers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "daemon.h"
#include "metrics.h"
#include "retry.h"

int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

unsigned int minute_of_day(void)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	return (unsigned int)(tm.tm_hour * 60 + tm.tm_min);
}

int fsync_dir(const char *dir)
{
	return pl_fsync_dir(dir);
}

/* Writes TEXT to DIR/NAME through a temporary file, rename and fsync. */
int write_atomic(const char *dir, const char *name, const char *text)
{
	return pl_write_atomic(dir, name, text, strlen(text), 0, true);
}

/* Appends one line to <store>/.log: the history "patchlayer log" prints. */
static void vhistory(int prio, const char *name, const struct pl_log_about *a,
		     const char *fmt, va_list ap)
{
	char path[PATH_MAX], msg[1024], stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dlog_about(prio, a, "%s: %s", name, msg);
	snprintf(path, sizeof(path), "%s/.log", cfg.store);
	f = fopen(path, "ae");
	if (!f)
		return;
	fprintf(f, "%s %s %s\n", stamp, name, msg);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
}

void history_about(int prio, const char *name, const struct pl_log_about *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vhistory(prio, name, a, fmt, ap);
	va_end(ap);
}

void history(int prio, const char *name, const struct pl_record *r, const char *fmt, ...)
{
	struct pl_log_about a = { .layer = name, .version = r ? r->version : NULL };
	va_list ap;

	va_start(ap, fmt);
	vhistory(prio, name, &a, fmt, ap);
	va_end(ap);
}

/* The one rule of lib/manifest.c: the kernel's, so every loaded layer can be stored. */
bool valid_name(const char *name)
{
	return pl_name_valid(name, strnlen(name, PL_NAME_MAX + 1));
}
/* A decimal number, whole and not negative: "" or "12x" is not one. */
static bool parse_num(const char *v, long long *out)
{
	char *end;

	if (!*v || *v == '-')
		return false;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return !errno && !*end;
}

/*
 * The keys of a state file, in the order record_write() writes them:
 * where each goes in struct pl_record, how it is read, and what is said
 * when it does not parse. Keys not listed (a later version's) are ignored.
 */
enum field_kind {
	F_WANT,		/* enum pl_want, by name */
	F_TIME,		/* int64_t, a whole non-negative decimal */
	F_COUNT,	/* unsigned int, the same */
	F_CRASHES,	/* struct pl_crash_count: three numbers */
	F_TEXT,		/* char[], cut to its size */
};

#define FIELD(k, kind, member, bad) \
	{ k, kind, offsetof(struct pl_record, member), sizeof(((struct pl_record *)0)->member), bad }

static const struct field {
	const char *key;
	enum field_kind kind;
	size_t off, size;
	const char *bad;
} fields[] = {
	FIELD("state", F_WANT, want, "unknown state"),
	FIELD("since", F_TIME, since, "since: not a number"),
	FIELD("activated_at", F_TIME, activated_at, "activated_at: not a number"),
	FIELD("crashes", F_COUNT, crashes, "crashes: not a number"),
	FIELD("version", F_TEXT, version, NULL),
	FIELD("why", F_TEXT, why, NULL),
	FIELD("restarted_for", F_TIME, restarted_for, "restarted_for: not a number"),
	FIELD("restarts", F_TEXT, restarts, NULL),
	FIELD("superseded_by", F_TEXT, superseded_by, NULL),
	FIELD("window_boot", F_TEXT, window_boot, NULL),
	FIELD("window_start", F_TIME, window_start, "window_start: not a number"),
	FIELD("crash_for", F_TIME, crash_for, "crash_for: not a number"),
	FIELD("crash_seen", F_CRASHES, crash_seen, "crash_seen: not three numbers"),
};

/* Sets F of R from V: NULL, or why V is not one. */
static const char *field_parse(const struct field *f, struct pl_record *r, const char *v)
{
	void *p = (char *)r + f->off;
	struct pl_crash_count *c = p;
	long long x;
	int w;

	switch (f->kind) {
	case F_WANT:
		if ((w = pl_want_parse(v)) < 0)
			return f->bad;
		*(enum pl_want *)p = (enum pl_want)w;
		return NULL;
	case F_TIME:
		if (!parse_num(v, &x))
			return f->bad;
		*(int64_t *)p = x;
		return NULL;
	case F_COUNT:
		if (!parse_num(v, &x) || x > UINT_MAX)
			return f->bad;
		*(unsigned int *)p = (unsigned int)x;
		return NULL;
	case F_CRASHES:
		if (sscanf(v, "%" SCNu64 " %" SCNu64 " %" SCNu64, &c->id, &c->all, &c->services) != 3)
			return f->bad;
		return NULL;
	case F_TEXT:
		snprintf(p, f->size, "%s", v);
		return NULL;
	}
	return f->bad;
}

/* Appends F of R as "key=value\n" to the SIZE bytes at TEXT. */
static void field_format(const struct field *f, const struct pl_record *r, char *text, size_t size)
{
	const void *p = (const char *)r + f->off;
	const struct pl_crash_count *c = p;
	size_t used = strlen(text);

	text += used;
	size -= used;
	switch (f->kind) {
	case F_WANT:
		snprintf(text, size, "%s=%s\n", f->key, pl_want_name(*(const enum pl_want *)p));
		break;
	case F_TIME:
		snprintf(text, size, "%s=%lld\n", f->key, (long long)*(const int64_t *)p);
		break;
	case F_COUNT:
		snprintf(text, size, "%s=%u\n", f->key, *(const unsigned int *)p);
		break;
	case F_CRASHES:
		snprintf(text, size, "%s=%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", f->key,
			 c->id, c->all, c->services);
		break;
	case F_TEXT:
		snprintf(text, size, "%s=%s\n", f->key, (const char *)p);
		break;
	}
}

static const struct field *field_of(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	return NULL;
}

/*
 * Reads NAME's record: 0 without a state file (r: new), 1 with one, or
 * -errno. A state file that does not parse (truncated, damaged, edited
 * by hand) is not taken for "new", which the daemon would load and
 * activate: r->want is PL_WANT_UNKNOWN, r->bad_line and r->bad say where
 * and why, and nothing else of it is believed.
 */
int record_read(const char *name, struct pl_record *r)
{
	char path[PATH_MAX], line[PL_WHY_MAX + PL_RESTARTS_MAX + 32];
	const char *bad = NULL;
	unsigned int n = 0;
	bool has_state = false;
	FILE *file;

	memset(r, 0, sizeof(*r));
	r->want = PL_WANT_NEW;
	snprintf(path, sizeof(path), "%s/%s.state", cfg.store, name);
	file = fopen(path, "re");
	if (!file)
		return errno == ENOENT ? 0 : -errno;
	while (!bad && fgets(line, sizeof(line), file)) {
		size_t len = strlen(line);
		char *v = strchr(line, '=');
		const struct field *f;

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
		f = field_of(line);
		/* other keys: a later version's, ignored */
		if (f)
			bad = field_parse(f, r, v);
		has_state |= f && f->kind == F_WANT;
	}
	if (!bad && ferror(file))
		bad = strerror(errno);
	fclose(file);
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



/*
 * NAME's state file did not parse (record_read): moved aside to
 * .NAME.state.bad for the administrator, replaced by a record that says
 * "unknown", so that this is said once and nothing is done automatically.
 */
void record_quarantine(const char *name, struct pl_record *r)
{
	char from[PATH_MAX], to[PATH_MAX], where[32] = "";

	step("quarantine", name);
	snprintf(from, sizeof(from), "%s/%s.state", cfg.store, name);
	snprintf(to, sizeof(to), "%s/.%s.state.bad", cfg.store, name);
	if (rename(from, to) < 0)
		dlog(LOG_ERR, "%s: %s", from, strerror(errno));
	if (r->bad_line)
		snprintf(where, sizeof(where), "line %u: ", r->bad_line);
	r->since = now_s();
	snprintf(r->why, sizeof(r->why),
		 "its state file did not parse (%s%s; kept as .%s.state.bad): nothing is done automatically until install, activate, drop or remove",
		 where, r->bad, name);
	r->bad = NULL;
	record_write(name, r);
	history(LOG_WARNING, name, r, "unknown: %s", r->why);
}

int record_write(const char *name, const struct pl_record *r)
{
	char text[PL_WHY_MAX + PL_RESTARTS_MAX + 1024], file[PL_NAME_MAX + 8];
	size_t i;
	int err;

	text[0] = '\0';
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		field_format(&fields[i], r, text, sizeof(text));
	snprintf(file, sizeof(file), "%s.state", name);
	/* not from a kept copy: a rename can reuse the inode and the clock tick */
	metrics_forget(name);
	err = write_atomic(cfg.store, file, text);
	if (err)
		dlog(LOG_ERR, "%s/%s: %s", cfg.store, file, strerror(-err));
	return err;
}

void record_set(const char *name, struct pl_record *r, enum pl_want want,
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
	history(want == PL_WANT_WITHDRAWN ? LOG_WARNING : LOG_NOTICE, name, r, "%s: %s",
		pl_want_name(want), r->why);
}

bool in_store(const char *name)
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
void window_start_now(struct pl_record *r)
{
	snprintf(r->window_boot, sizeof(r->window_boot), "%s", boot_id());
	r->window_start = pl_boottime_s();
}

/* Seconds since R's health window started, -1 when not in this boot. */
int64_t window_elapsed(const struct pl_record *r)
{
	if (strcmp(r->window_boot, boot_id()) != 0)
		return -1;
	return pl_boottime_s() - r->window_start;
}
/* --- locking: the daemon and the verbs never reconcile at once --- */

int lock_store(void)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", cfg.store);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		dlog(LOG_ERR, "%s: %s", path, strerror(errno));
		return -1;
	}
	flock(fd, LOCK_EX);
	return fd;
}

void unlock_store(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int layer_entry(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* byte order, which bsearch() below needs (alphasort's strcoll may not be) */
static int name_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct dirent *const *)elem)->d_name);
}

/* Whether DE is a directory: readdir's d_type, lstat() when it cannot say. */
static bool entry_is_dir(const struct dirent *de)
{
	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return in_store(de->d_name);
}

/* Whether the walk's N entries hold a directory NAME. */
static bool walk_has_dir(struct dirent **names, int n, const char *name)
{
	struct dirent **e = bsearch(name, names, (size_t)n, sizeof(*names), name_cmp);

	return e && entry_is_dir(*e);
}

/*
 * The one walk of the store: FN(NAME, CTX) for every layer, in name order,
 * once each: a directory, or a state file whose directory is gone. Names
 * the kernel would not take (pl_name_valid) are no layers. Returns 0, the
 * first non-zero FN returned, or -errno when the store cannot be read.
 * One readdir, no stat where the filesystem gives d_type: the daemon walks
 * the store at every metrics interval.
 */
int store_walk(int (*fn)(const char *name, void *ctx), void *ctx)
{
	struct dirent **names = NULL;
	int n, i, ret = 0;

	n = scandir(cfg.store, &names, layer_entry, name_order);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		const char *e = names[i]->d_name;
		size_t len = strlen(e);
		char name[PL_NAME_MAX + 8];

		snprintf(name, sizeof(name), "%.*s", (int)PL_NAME_MAX + 1, e);
		if (len > 6 && strcmp(e + len - 6, ".state") == 0) {
			name[len - 6 < PL_NAME_MAX + 1 ? len - 6 : PL_NAME_MAX + 1] = '\0';
			if (walk_has_dir(names, n, name))
				continue;	/* handled with its directory */
		} else if (!entry_is_dir(names[i])) {
			continue;		/* neither a layer nor its record */
		}
		if (!ret && valid_name(name))
			ret = fn(name, ctx);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}
