// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer deliver DIR: copies a layer into the inbox under a dot name
 * on the inbox's filesystem and renames it into place, so that the daemon
 * never sees it half-copied (docs/daemon.md, "Completeness"); with --wait,
 * waits for the daemon's decision. patchlayer undeliver NAME takes it back.
 *
 * Only what the manifest names is copied (manifest, manifest.p7s, each
 * files/<target>), each file checked against its record after the copy:
 * nothing else in the source directory travels with the layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/config.h"
#include "layer.h"
#include "patchlayer.h"

#define PL_DELIVER_WAIT_MAX	3600	/* seconds */

struct pl_deliver_conf {
	struct pl_config cfg;
	const char *path;
};

static bool pl_exists(const char *dir, const char *name, const char *suffix)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix) >= (int)sizeof(path))
		return false;
	return lstat(path, &st) == 0;
}

/* STORE/NAME.state's "state=" value into BUF ("" when none). */
static void pl_stored_state(const char *store, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX], line[256];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s.state", store, name);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "state=", 6)) {
			size_t n = strcspn(line + 6, "\n");

			if (n < size) {
				memcpy(buf, line + 6, n);
				buf[n] = '\0';
			}
			break;
		}
	}
	fclose(f);
}

/*
 * Waits up to SECONDS for the daemon to take NAME out of the inbox and to
 * decide on it; STATE gets its state in the store, "rejected", or "" when
 * the daemon did not get to it in time (it takes it when it runs).
 */
static void pl_deliver_wait(const struct pl_config *cfg, const char *name, unsigned int seconds,
			    char *state, size_t size)
{
	struct timespec start, now;
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (fd >= 0) {
		/* the inbox loses the entry, the store gets the layer and its state file */
		inotify_add_watch(fd, cfg->inbox, IN_MOVED_FROM | IN_DELETE | IN_MOVED_TO);
		inotify_add_watch(fd, cfg->store, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char ev[4096];
		long left;

		state[0] = '\0';
		if (!pl_exists(cfg->inbox, name, "")) {
			char rejected[PATH_MAX];

			snprintf(rejected, sizeof(rejected), "%s/rejected", cfg->inbox);
			pl_stored_state(cfg->store, name, state, size);
			/* "new": stored, not decided yet */
			if (*state && strcmp(state, "new"))
				break;
			if (!*state && pl_exists(rejected, name, ".reason") &&
			    !pl_exists(cfg->store, name, "")) {
				snprintf(state, size, "rejected");
				break;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long)seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
					       (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			if (!strcmp(state, "new"))
				break;
			state[0] = '\0';
			break;
		}
		/* an event, or a look every second without inotify's help */
		if (poll(&pfd, fd >= 0, left < 1000 ? (int)left : 1000) > 0)
			while (read(fd, ev, sizeof(ev)) > 0)
				;
	}
	if (fd >= 0)
		close(fd);
}

static void pl_deliver_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s layer deliver [--config FILE] [--wait SECONDS] [--retire NAME] LAYERDIR\n"
		"       %s layer undeliver [--config FILE] NAME\n"
		"\n"
		"deliver copies the layer into the daemon's inbox whole (under a dot name,\n"
		"then renamed into place). With --wait it waits that long for the daemon\n"
		"to take it; --retire removes the layer NAME once the delivered one is\n"
		"active. undeliver removes a delivered layer from the inbox and the store.\n",
		pl_prog, pl_prog);
}

static int pl_deliver_opts(int argc, char **argv, struct pl_deliver_conf *c,
			   unsigned int *wait, const char **retire)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ "retire", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int ch;

	c->path = pl_config_path();
	optind = 0;
	while ((ch = getopt_long(argc + 1, argv - 1, "+c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->path = optarg;
			break;
		case 'w':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (!wait || errno || *end || end == optarg || v < 0 || v > PL_DELIVER_WAIT_MAX) {
				pl_err("--wait '%s': seconds, 0 to %d", optarg, PL_DELIVER_WAIT_MAX);
				return -PL_EXIT_USAGE;
			}
			*wait = (unsigned int)v;
			break;
		case 'r':
			if (!retire || !pl_name_valid(optarg, strlen(optarg))) {
				pl_err("--retire '%s': a layer name is " PL_NAME_RULE, optarg);
				return -PL_EXIT_USAGE;
			}
			*retire = optarg;
			break;
		case 'h':
			pl_deliver_usage(stdout);
			return -PL_EXIT_OK - 100;
		default:
			pl_deliver_usage(stderr);
			return -PL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		pl_deliver_usage(stderr);
		return -PL_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		pl_err("needs root (the inbox and the store are root's): %s", strerror(EPERM));
		return -PL_EXIT_FAIL;
	}
	if (pl_config_read(c->path, &c->cfg))
		return -PL_EXIT_FAIL;
	return optind - 1;
}

/* Removes layer NAME from the store with "patchlayer remove". */
static int pl_remove_stored(const struct pl_deliver_conf *c, const char *name)
{
	char *argv[] = { "--config", (char *)c->path, (char *)name, NULL };
	struct pl_opts o = { 0 };

	return cmd_remove(3, argv, &o);
}

int cmd_deliver(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_deliver_conf c;
	struct pl_layer_manifest lm = { 0 };
	unsigned int wait = 0;
	const char *retire = NULL, *dir;
	char *tmp = NULL, *dst = NULL, *name = NULL, state[64] = "";
	int first, rc = PL_EXIT_FAIL;

	(void)o;
	first = pl_deliver_opts(argc, argv, &c, &wait, &retire);
	if (first < 0)
		return first == -PL_EXIT_OK - 100 ? PL_EXIT_OK : -first;
	dir = argv[first];
	if (pl_load_layer(dir, &lm))
		goto out;
	name = pl_str_dup(lm.m.name);
	if (!name || asprintf(&tmp, "%s/.%s.deliver-XXXXXX", c.cfg.inbox, name) < 0 ||
	    asprintf(&dst, "%s/%s", c.cfg.inbox, name) < 0) {
		pl_err("%s", strerror(ENOMEM));
		goto out;
	}
	/* delivered before (a reinstall, a second configure): nothing to do */
	if (pl_exists(c.cfg.store, name, "")) {
		char *stored = NULL, path[PATH_MAX];
		size_t len = 0;

		snprintf(path, sizeof(path), "%s/%s/manifest", c.cfg.store, name);
		if (pl_read_file(path, PL_MANIFEST_MAX_SIZE, &stored, &len) == 0 &&
		    len == lm.len && !memcmp(stored, lm.buf, len)) {
			free(stored);
			printf("%s: already in the store %s\n", name, c.cfg.store);
			rc = PL_EXIT_OK;
			goto retire;
		}
		free(stored);
		/* the daemon would reject it: a new version of a layer needs a new name */
		pl_err("%s: another layer of that name is in the store %s: a new version needs a new name (build --replaces)",
		       name, c.cfg.store);
		goto out;
	}
	if (pl_exists(c.cfg.inbox, name, "")) {
		printf("%s: already in the inbox %s\n", name, c.cfg.inbox);
		rc = PL_EXIT_OK;
		goto wait;
	}
	if (!mkdtemp(tmp)) {
		pl_err("%s: %s", c.cfg.inbox, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (pl_copy_layer(dir, tmp, &lm))
		goto out;
	{
		int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	/* whole or not at all: the daemon takes a renamed entry at once */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		pl_err("%s: %s", dst, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	printf("%s: delivered to %s\n", name, dst);
	rc = PL_EXIT_OK;
wait:
	/* no daemon (a chroot, an image being built): it takes the layer when it starts */
	if (!wait || !pl_daemon_running()) {
		if (wait)
			printf("%s: the daemon is not running; it takes the layer when it starts\n",
			       name);
		goto out;
	}
	pl_deliver_wait(&c.cfg, name, wait, state, sizeof(state));
	if (!*state)
		printf("%s: not taken by the daemon within %us; it will be when the daemon runs\n",
		       name, wait);
	else
		printf("%s: %s\n", name, state);
	if (!strcmp(state, "rejected")) {
		char reason[PATH_MAX];

		snprintf(reason, sizeof(reason), "%s/rejected/%s.reason", c.cfg.inbox, name);
		pl_err("%s was rejected: see %s", name, reason);
	}
retire:
	if (!retire || !pl_exists(c.cfg.store, retire, ""))
		goto out;
	pl_stored_state(c.cfg.store, name, state, sizeof(state));
	/* never leave the machine without either: the predecessor goes once the successor serves */
	if (strcmp(state, "active")) {
		printf("%s: kept, as %s is %s; remove it with 'patchlayer remove %s' once %s is active\n",
		       retire, name, *state ? state : "not stored yet", retire, name);
		goto out;
	}
	if (pl_remove_stored(&c, retire) == PL_EXIT_OK)
		printf("%s: removed, replaced by %s\n", retire, name);
	else
		pl_err("%s: could not be removed; %s is active", retire, name);
out:
	if (tmp)
		nftw(tmp, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pl_layer_manifest_free(&lm);
	free(tmp);
	free(dst);
	free(name);
	return rc;
}

int cmd_undeliver(int argc, char **argv, const struct pl_opts *o)
{
	struct pl_deliver_conf c;
	const char *name;
	int first, rc = PL_EXIT_OK;

	(void)o;
	first = pl_deliver_opts(argc, argv, &c, NULL, NULL);
	if (first < 0)
		return first == -PL_EXIT_OK - 100 ? PL_EXIT_OK : -first;
	name = argv[first];
	if (!pl_name_valid(name, strlen(name))) {
		pl_err("undeliver: '%s': a layer name is " PL_NAME_RULE, name);
		return PL_EXIT_USAGE;
	}
	/* not taken yet: the daemon must not find it later */
	if (pl_exists(c.cfg.inbox, name, "")) {
		char path[PATH_MAX], aside[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", c.cfg.inbox, name);
		snprintf(aside, sizeof(aside), "%s/.%s.undeliver-%ld", c.cfg.inbox, name,
			 (long)getpid());
		if (rename(path, aside) == 0)
			nftw(aside, pl_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (pl_exists(c.cfg.store, name, "")) {
		rc = pl_remove_stored(&c, name);
		if (rc == PL_EXIT_OK)
			printf("%s: removed from the store\n", name);
	}
	return rc;
}
