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
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>
#include <netlink/netlink.h>
#include <sys/capability.h>

#include "daemon.h"
#include "metrics.h"
#include "layer.h"
#include "patchlayer.h"
#include "plbpf.h"
#include "retry.h"

struct pl_config cfg;
static const char *conf_path = PL_CONF_DEFAULT;

/* Reads conf_path into C as "config check" does: 0, or -1 with the reason logged. */
static int load_config(struct pl_config *c)
{
	struct pl_config_error e;
	int err = pl_config_load(conf_path, c, &e);

	if (err == -ENOENT) {
		pl_config_defaults(c);
		return 0;	/* every key at its default */
	}
	if (err) {
		char why[PL_CONFIG_PATH_MAX + 512];

		/* a verb's error is also its -j error document */
		if (!in_daemon) {
			pl_config_say(conf_path, err, &e);
			return -1;
		}
		pl_config_why(conf_path, err, &e, why, sizeof(why));
		dlog(LOG_ERR, "%s", why);
		return -1;
	}
	return 0;
}

/* --- start-up --- */

static int check_dir(const char *dir, bool create)
{
	struct stat st;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		dlog(LOG_ERR, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0) {
		dlog(LOG_ERR, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		dlog(LOG_ERR, "%s: %s", dir, strerror(ENOTDIR));
		return -1;
	}
	if ((st.st_mode & (S_IWOTH | S_IWGRP)) || st.st_uid != 0) {
		dlog(LOG_ERR, "%s: refused: writable by others than root (mode %04o, uid %u)",
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
		dlog(LOG_INFO, "capabilities reduced to cap_sys_admin,cap_dac_read_search,cap_bpf,cap_perfmon");
	else
		dlog(LOG_ERR, "cannot reduce capabilities: %s", strerror(errno));
	if (caps)
		cap_free(caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		dlog(LOG_ERR, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
}

/* What the store holds, for systemctl status (STATUS=). */
struct store_count {
	unsigned int active, pending, other;
};

static int count_one(const char *name, void *ctx)
{
	struct store_count *n = ctx;
	struct pl_record r;

	if (record_read(name, &r) < 0)
		return 0;
	if (r.want == PL_WANT_ACTIVE)
		n->active++;
	else if (r.want == PL_WANT_PENDING || r.want == PL_WANT_NEW)
		n->pending++;
	else
		n->other++;
	return 0;
}

/* STATUS= for systemd, sent when it changed; with READY=1 when READY. */
static void notify_status(bool ready)
{
	static char last[128];
	struct store_count n = { 0 };
	char status[128];

	store_walk(count_one, &n);
	snprintf(status, sizeof(status), "%u layers active, %u pending, %u withdrawn or kept out",
		 n.active, n.pending, n.other);
	if (!ready && strcmp(status, last) == 0)
		return;
	snprintf(last, sizeof(last), "%s", status);
	sd_notifyf(0, "%sSTATUS=%s", ready ? "READY=1\n" : "", status);
}

/*
 * systemctl reload (SIGHUP): patchlayer.conf read again and what it says
 * applied from now on (auto_install, install_window, health_window,
 * crash_threshold, restart_services...); a file that does not load leaves
 * the configuration in use as it is. The store, the inbox, trust and
 * protect are what the daemon set up at its start, with privileges it no
 * longer has: changed, they wait for a restart, and it says so.
 */
static void reload_config(void)
{
	static struct pl_config c;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000,
		   conf_path);
	if (load_config(&c)) {
		dlog(LOG_ERR, "%s: not reloaded: the configuration in use stays", conf_path);
		notify_status(true);
		return;
	}
	if (strcmp(c.store, cfg.store) || strcmp(c.inbox, cfg.inbox) ||
	    c.n_trust != cfg.n_trust || memcmp(c.trust, cfg.trust, sizeof(c.trust)) ||
	    c.n_protect != cfg.n_protect || memcmp(c.protect, cfg.protect, sizeof(c.protect)))
		dlog(LOG_WARNING, "%s: store, inbox, trust and protect take effect at the next start",
		     conf_path);
	memcpy(c.store, cfg.store, sizeof(c.store));
	memcpy(c.inbox, cfg.inbox, sizeof(c.inbox));
	c.n_trust = cfg.n_trust;
	memcpy(c.trust, cfg.trust, sizeof(c.trust));
	c.n_protect = cfg.n_protect;
	memcpy(c.protect, cfg.protect, sizeof(c.protect));
	cfg = c;
	dlog(LOG_NOTICE, "%s: reloaded", conf_path);
	notify_status(true);
}

/*
 * WatchdogSec= of the unit: a ping at half the interval from the main
 * loop, so that a daemon stuck anywhere stops pinging and is restarted.
 * Without it, no timer: the daemon sleeps until something happens. The
 * watchdog runs from the start on: start-up pings between its steps.
 */
static void watchdog_ping(void)
{
	sd_notify(0, "WATCHDOG=1");
}

static void arm_watchdog_timer(int wfd)
{
	struct itimerspec its = { 0 };
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
		return;
	usec /= 2;
	its.it_value.tv_sec = (time_t)(usec / 1000000);
	its.it_value.tv_nsec = (long)(usec % 1000000) * 1000;
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1000;
	its.it_interval = its.it_value;
	timerfd_settime(wfd, 0, &its, NULL);
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
	int ep, ino, dino, sfd, tfd, rfd, htfd, wfd, err, lock;
	bool kernel_changed = false, resync = false, in_window;

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
	wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (sfd < 0 || ep < 0 || tfd < 0 || rfd < 0 || htfd < 0 || wfd < 0 || ino < 0 ||
	    inotify_add_watch(ino, cfg.inbox, IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
		dlog(LOG_ERR, "daemon: %s", strerror(errno));
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

	watchdog_ping();
	/* the crash watch; without it the daemon still installs, and says so */
	err = pl_bpf_open(&bpf, PL_BPF_LOAD);
	if (!err)
		err = pl_bpf_events(bpf, on_bpf_event, NULL, &rb);
	if (err) {
		dlog(LOG_WARNING, "health watch unavailable: BPF side: %s", strerror(-err));
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
	ev.data.fd = wfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, wfd, &ev);
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
	watchdog_ping();
	protect_and_trust();
	drop_privileges();
	watchdog_ping();
	lock = lock_store();
	bpf_sync();
	reconcile_all();
	supersede_record_all();
	watchdog_ping();
	metrics_reconciled();
	scan_inbox();
	unlock_store(lock);
	arm_window_timer(tfd);
	arm_retry_timer(rfd);
	dlog(LOG_NOTICE, "ready: inbox %s, store %s, auto_install %s", cfg.inbox, cfg.store,
	     cfg.auto_install ? "yes" : "no");
	/* the store is what the kernel runs now: "systemctl start" returns */
	notify_status(true);
	arm_watchdog_timer(wfd);
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
		/* the health timer: a poll in a window, or only the metrics' interval */
		bool timer_due = false;
		/* events drained during the last pass (kernel_events_drain): at once */
		int n = epoll_wait(ep, evs, 8, kernel_changed ? 0 : -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP) {
					dlog(LOG_NOTICE, "signal %d: exiting", (int)si.ssi_signo);
					goto out;
				}
				/* "systemctl reload": the configuration again, refused layers retried now */
				reload_config();
				inbox_changed = kernel_changed = resync = true;
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
				timer_due = true;
			} else if (fd == dino) {
				char buf[4096] __attribute__((aligned(8)));

				while (read(dino, buf, sizeof(buf)) > 0)
					;
				dpkg_wrote = true;
			} else if (fd == wfd) {
				uint64_t x;

				if (read(wfd, &x, sizeof(x)) < 0)
					x = 0;
				watchdog_ping();
			} else if (rb && fd == ring_buffer__epoll_fd(rb)) {
				ring_buffer__consume(rb);
				health_due = true;	/* a crash counted: the metrics say so */
			} else {
				nl_recvmsgs_default(sk);
			}
		}
		if (inbox_changed || kernel_changed || retry_due) {
			/* events of our own steps, drained below, ask for one more look */
			kernel_changed = false;
			lock = lock_store();
			/* netlink events update the BPF side as they come: a reload, all of it */
			if (resync)
				bpf_sync();
			resync = false;
			reconcile_all();
			metrics_reconciled();
			if (inbox_changed)
				scan_inbox();
			restart_services();
			unlock_store(lock);
			arm_window_timer(tfd);
			arm_retry_timer(rfd);
			notify_status(false);
			health_due = true;	/* an activation starts a window */
		}
		if (dpkg_wrote) {
			lock = lock_store();
			supersede_record_all();
			unlock_store(lock);
		}
		if (health_due || timer_due) {
			/* events first: a crash counted from one names its process */
			if (rb)
				ring_buffer__consume(rb);
			lock = lock_store();
			/*
			 * No window was open at the last look, and nothing since
			 * (an activation, a crash event) asks for one: the timer
			 * fired for the metrics alone, at rest.
			 */
			if (health_due || in_window)
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
	conf_path = pl_config_path();
	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, "+c:", longopts, NULL)) != -1) {
		if (c == 'c') {
			conf_path = optarg;
		} else {
			*rc = PL_EXIT_USAGE;
			return -1;
		}
	}
	if (load_config(&cfg)) {
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

