// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer daemon: the main loop (docs/daemon.md). Its configuration,
 * its start (protect and trust, then privileges dropped), and the events
 * it waits for: the inbox (inotify), the kernel (netlink), the BPF side's
 * crash events, signals, and its timers (install_window, retries, the
 * health watch). Each event ends in the same pass over the store:
 * reconcile.c, inbox.c, restarts.c, health.c. The parts share daemon.h.
 *
 * The store records intent (lib/policy.h, enum pl_want) in one small file
 * per layer, written with rename and fsync before the kernel is touched;
 * every change of the inbox, the kernel (netlink events) or the crash
 * counters of the BPF side runs the same reconciliation of store against kernel, step by step
 * until lib/policy.c has nothing more to do. So a SIGKILL between any two
 * steps is repaired by the next start: nothing is ever half done twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <netlink/netlink.h>
#include <sys/capability.h>

#include "daemon.h"
#include "metrics.h"
#include "layer.h"
#include "patchlayer.h"
#include "plbpf.h"
#include "retry.h"

#define PL_CONF_DEFAULT "/etc/patchlayer/patchlayer.conf"

struct pl_config cfg;
static const char *conf_path = PL_CONF_DEFAULT;

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
	int ep, ino, dino, sfd, tfd, rfd, htfd, err, lock;
	bool kernel_changed = false, in_window;

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

	sk = kernel_events_open(&kernel_changed);
	if (!sk)
		return PL_EXIT_FAIL;

	/*
	 * dpkg's database: a superseded layer names the package version
	 * that replaced its base once dpkg has recorded it (supersede.c).
	 * Without dpkg, nothing to watch.
	 */
	dino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (dino >= 0 &&
	    (inotify_add_watch(dino, PL_DPKG_DIR, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0 ||
	     inotify_add_watch(dino, PL_DPKG_DIR "/updates", IN_CLOSE_WRITE | IN_ONLYDIR) < 0)) {
		close(dino);
		dino = -1;
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
	if (dino >= 0) {
		ev.data.fd = dino;
		epoll_ctl(ep, EPOLL_CTL_ADD, dino, &ev);
	}
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
	supersede_record_all();
	metrics_reconciled();
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
	in_window = health_look_all();
	metrics_write(true);
	unlock_store(lock);
	arm_health_timer(htfd, in_window);

	for (;;) {
		bool inbox_changed = false, retry_due = false, health_due = false, dpkg_wrote = false;
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
			} else if (fd == dino) {
				char buf[4096] __attribute__((aligned(8)));

				while (read(dino, buf, sizeof(buf)) > 0)
					;
				dpkg_wrote = true;
			} else if (rb && fd == ring_buffer__epoll_fd(rb)) {
				ring_buffer__consume(rb);
				health_due = true;	/* a crash counted: the metrics say so */
			} else {
				nl_recvmsgs_default(sk);
			}
		}
		if (inbox_changed || kernel_changed || retry_due) {
			lock = lock_store();
			if (kernel_changed)
				bpf_sync();
			reconcile_all();
			metrics_reconciled();
			if (inbox_changed)
				scan_inbox();
			restart_services();
			unlock_store(lock);
			kernel_changed = false;
			arm_window_timer(tfd);
			arm_retry_timer(rfd);
			health_due = true;	/* an activation starts a window */
		}
		if (dpkg_wrote) {
			lock = lock_store();
			supersede_record_all();
			unlock_store(lock);
		}
		if (health_due) {
			lock = lock_store();
			in_window = health_look_all();
			/* after each change, and when the interval is due */
			metrics_write(true);
			unlock_store(lock);
			arm_health_timer(htfd, in_window);
		}
	}
out:
	metrics_write(false);
	if (rb)
		ring_buffer__free(rb);
	if (bpf)
		pl_bpf_close(bpf);
	nl_socket_free(sk);
	return PL_EXIT_OK;
}

bool need_root(const char *verb)
{
	if (geteuid() == 0)
		return false;
	pl_err("%s: needs root (the store %s belongs to root): %s", verb, cfg.store, strerror(EPERM));
	return true;
}

/* Parses "[--config FILE]" and loads it; returns the index of the first operand. */
int common_opts(int argc, char **argv, int *rc)
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

