// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's messages (dlog), and its steps: each change of the store or
 * the kernel is one numbered step, so that the kill tests can stop the
 * daemon before any of them (PATCHLAYER_DIE_AT).
 *
 * Under systemd, whose journal is then stderr's other end ($JOURNAL_STREAM
 * names it), each message goes to the journal through sd-journal with its
 * syslog priority and the fields of what it is about (LAYER=, VERSION=,
 * PACKAGE=, INBOX_ENTRY=), so that "journalctl -u patchlayer -p warning"
 * and "journalctl LAYER=NAME" find it. Anywhere else (a terminal, the VM
 * tests reading the daemon's stderr) it is one line on stderr, as always.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "daemon.h"
#include "patchlayer.h"

bool in_daemon;
long die_at = -1;	/* PATCHLAYER_DIE_AT: SIGKILL itself at that step */
static long steps;

/* Whether stderr is the journal's stream (systemd.exec(5), $JOURNAL_STREAM). */
static bool stderr_is_journal(void)
{
	static int known = -1;
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (known < 0)
		known = s && sscanf(s, "%llu:%llu", &dev, &ino) == 2 &&
			fstat(STDERR_FILENO, &st) == 0 &&
			(unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return known;
}

/* "KEY=VALUE" into IOV when VALUE is something; the count added. */
static int field(struct iovec *iov, char *buf, size_t size, const char *key, const char *value)
{
	int n;

	if (!value || !value[0])
		return 0;
	/* cut to BUF's size, as a message on stderr would be */
	n = snprintf(buf, size, "%s=%s", key, value);
	if (n < 0)
		return 0;
	iov->iov_base = buf;
	iov->iov_len = (size_t)n < size ? (size_t)n : size - 1;
	return 1;
}

static bool journal_send(int prio, const struct pl_log_about *a, const char *msg)
{
	char m[2048], p[16], layer[PL_NAME_MAX + 8], version[PL_VERSION_MAX + 16];
	char package[PL_LOG_PACKAGE_MAX + 16], entry[300];
	struct iovec iov[7];
	int n = 0;

	n += field(&iov[n], m, sizeof(m), "MESSAGE", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", prio);
	iov[n].iov_base = p;
	iov[n++].iov_len = strlen(p);
	iov[n].iov_base = (char *)"SYSLOG_IDENTIFIER=patchlayer";
	iov[n].iov_len = strlen("SYSLOG_IDENTIFIER=patchlayer");
	n++;
	if (a) {
		n += field(&iov[n], layer, sizeof(layer), "LAYER", a->layer);
		n += field(&iov[n], version, sizeof(version), "VERSION", a->version);
		n += field(&iov[n], package, sizeof(package), "PACKAGE", a->package);
		n += field(&iov[n], entry, sizeof(entry), "INBOX_ENTRY", a->entry);
	}
	return sd_journal_sendv(iov, n) >= 0;
}

void vdlog_about(int prio, const struct pl_log_about *a, const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (stderr_is_journal() && journal_send(prio, a, msg))
		return;
	fprintf(stderr, "%s: %s\n", in_daemon ? "patchlayer-daemon" : pl_prog, msg);
}

void dlog_about(int prio, const struct pl_log_about *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdlog_about(prio, a, fmt, ap);
	va_end(ap);
}

void dlog(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdlog_about(prio, NULL, fmt, ap);
	va_end(ap);
}

/*
 * A step that changes the store or the kernel. The kill tests set
 * PATCHLAYER_DIE_AT=N to have the daemon SIGKILL itself just before its
 * Nth step, as a power cut or an OOM kill would, then check the next start.
 */
void step(const char *what, const char *name)
{
	struct pl_log_about a = { .layer = name };

	steps++;
	if (in_daemon)
		dlog_about(LOG_INFO, &a, "step %ld: %s %s", steps, what, name);
	if (steps == die_at) {
		dlog_about(LOG_NOTICE, &a, "PATCHLAYER_DIE_AT=%ld: killing myself before %s %s",
			   die_at, what, name);
		raise(SIGKILL);
	}
}
