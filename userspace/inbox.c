// SPDX-License-Identifier: GPL-2.0
/*
 * The inbox (docs/daemon.md): a delivery is taken once complete (renamed
 * in, or still for inbox_settle seconds: lib/settle.c), loaded where it
 * lies so that the kernel verifies it, then renamed into the store; one
 * the kernel or the checks here refuse goes to <inbox>/rejected with a
 * .reason file.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "daemon.h"
#include "layer.h"
#include "patchlayer.h"
#include "retry.h"

struct pl_settle settle;	/* the inbox's deliveries under way */
unsigned int settle_wait;	/* seconds until the next look at them, 0 none */

/* A: the layer's name and version, once its manifest said them. */
static void reject(const char *entry, struct pl_log_about *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reject(const char *entry, struct pl_log_about *a, const char *fmt, ...)
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
		dlog(LOG_ERR, "%s: cannot move to %s: %s", from, rdir, strerror(errno));
	fsync_dir(cfg.inbox);
	/* one line in the log: without the file's newline */
	a->entry = entry;
	history_about(LOG_WARNING, entry, a, "rejected: %.*s", (int)strcspn(reason, "\n"), reason);
}

static void take(const char *entry)
{
	char path[PATH_MAX], dst[PATH_MAX], rel[PATH_MAX], kpath[PATH_MAX], mpath[PATH_MAX + 16];
	struct pl_layer_manifest lm;
	char name[PL_NAME_MAX + 1];
	struct pl_log_about about = { 0 };
	struct pl_record r;
	struct stat st;
	int err;

	snprintf(path, sizeof(path), "%s/%s", cfg.inbox, entry);
	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		reject(entry, &about, "%s is %s, not a layer directory", entry, pl_file_type(st.st_mode));
		return;
	}
	if (st.st_uid != 0 || (st.st_mode & S_IWOTH)) {
		reject(entry, &about, "not owned by root or writable by others (mode %04o, uid %u)",
		       st.st_mode & 07777, st.st_uid);
		return;
	}
	snprintf(mpath, sizeof(mpath), "%s/manifest", path);
	err = pl_layer_manifest_load(mpath, &lm);
	if (err || !lm.parsed) {
		if (lm.perr.reason)
			reject(entry, &about, "manifest line %u: %s", lm.perr.line, lm.perr.reason);
		else
			reject(entry, &about, "manifest: %s", strerror(err ? -err : EINVAL));
		pl_layer_manifest_free(&lm);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)lm.m.name.len, lm.m.name.s);
	record_read(name, &r);
	snprintf(r.version, sizeof(r.version), "%.*s", (int)lm.m.version.len, lm.m.version.s);
	pl_layer_manifest_free(&lm);
	about.version = r.version;
	if (!valid_name(name)) {
		reject(entry, &about, "layer name '%s' cannot name a store entry", name);
		return;
	}
	about.layer = name;
	if (in_store(name) || r.want != PL_WANT_NEW) {
		reject(entry, &about, "a layer named %s is already in the store (%s)", name,
		       pl_want_name(r.want));
		return;
	}

	/* the kernel verifies it where it lies; loaded from the inbox before a kill is fine */
	snprintf(rel, sizeof(rel), "layers/%s/path", name);
	if (pl_sysfs_read(rel, kpath, sizeof(kpath)) < 0 || strcmp(kpath, path) != 0) {
		step("load", name);
		err = kernel_load(path);
		if (err) {
			reject(entry, &about, "the kernel refused it: %s (%s)", pl_errno_name(-err), strerror(-err));
			return;
		}
	}
	snprintf(dst, sizeof(dst), "%s/%s", cfg.store, name);
	step("store", name);
	if (rename(path, dst) < 0) {
		err = -errno;
		history(LOG_ERR, name, &r, "cannot move %s into %s: %s", path, cfg.store, strerror(-err));
		sysfs_write("unload", name);
		reject(entry, &about, "cannot move into the store: %s", strerror(-err));
		return;
	}
	fsync_dir(cfg.store);
	fsync_dir(cfg.inbox);
	r.want = PL_WANT_NEW;
	r.since = now_s();
	snprintf(r.why, sizeof(r.why), "verified by the kernel and stored");
	record_write(name, &r);
	{
		/* the log names what the layer fixes, from its manifest */
		struct pl_provenance p;
		char fixes[1024];

		pl_layer_provenance(dst, &p);
		pl_provenance_line(&p, fixes, sizeof(fixes));
		history(LOG_NOTICE, name, &r, "version \"%s\" verified and stored%s%s", r.version,
			fixes[0] ? "; fixes " : "", fixes);
	}
	kernel_events_drain();
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
		dlog(LOG_INFO, "%s: being written (not renamed into the inbox): taken once unchanged for %us",
		     path, cfg.inbox_settle);
	return wait;
}

void scan_inbox(void)
{
	struct dirent *de;
	DIR *d = opendir(cfg.inbox);

	if (!d) {
		dlog(LOG_ERR, "%s: %s", cfg.inbox, strerror(errno));
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
void inbox_events(const char *buf, ssize_t n)
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
