// SPDX-License-Identifier: GPL-2.0
/*
 * lib/metrics.c and userspace/metrics.c: the text format node_exporter
 * reads (escaped label values whatever a name or version holds, snprintf's
 * contract), promtool's verdict on it when promtool is there (scripts/setup
 * puts it in build/tools), and the atomic writer: a reader looping on the
 * file while it is rewritten sees one whole text or the other, never a
 * part; the file is 0644 whatever the umask; no temporary file is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../lib/metrics.h"
#include "../../userspace/metrics.h"

static const struct pl_metrics_daemon daemon_up = {
	.up = true, .version = "0.9", .start_time = 1700000000,
	.last_reconcile = 1700000100, .crash_watch = true,
};

static struct pl_metrics_layer layer(const char *name, enum pl_want want)
{
	return (struct pl_metrics_layer){
		.name = name, .version = "1.2.3-1+deb12u1", .package = "", .advisory = "",
		.want = want, .patched = -1, .stale = -1,
	};
}

/* L active since 1700000050, with those process counts and hits */
static void active(struct pl_metrics_layer *l, long patched, long stale, uint64_t hits)
{
	l->activated_at = 1700000050;
	l->patched = patched;
	l->stale = stale;
	l->hits_known = true;
	l->hits = hits;
}

static char *format(const struct pl_metrics_daemon *d, const struct pl_metrics_layer *l, size_t n)
{
	size_t len = pl_metrics_format(NULL, 0, d, l, n);
	char *s = malloc(len + 1);

	assert_non_null(s);
	assert_int_equal(pl_metrics_format(s, len + 1, d, l, n), len);
	assert_int_equal(strlen(s), len);
	return s;
}

static void expect_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(pl_metrics_escape(buf, sizeof(buf), "a\"b\\c\nd"), 10);
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	/* control bytes and bytes that are not UTF-8 would make node_exporter drop the file */
	pl_metrics_escape(buf, sizeof(buf), "x\ty\x7f\xff\xc3(\xed\xa0\x80z");
	assert_string_equal(buf, "x?y???" "(???z");
	/* UTF-8 passes as it is */
	pl_metrics_escape(buf, sizeof(buf), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
	assert_string_equal(buf, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
	/* snprintf's contract: cut, terminated, the whole length returned */
	assert_int_equal(pl_metrics_escape(buf, 4, "\"\"\"\""), 8);
	assert_string_equal(buf, "\\\"\\");
	assert_int_equal(pl_metrics_escape(NULL, 0, NULL), 0);
}

static void test_daemon_only(void **state)
{
	struct pl_metrics_daemon d = daemon_up;
	char *t;

	(void)state;
	d.up = false;
	d.last_reconcile = 0;
	d.crash_watch = false;
	t = format(&d, NULL, 0);
	expect_line(t, "# TYPE patchlayer_daemon_up gauge");
	expect_line(t, "patchlayer_daemon_up 0");
	expect_line(t, "patchlayer_build_info{version=\"0.9\"} 1");
	expect_line(t, "patchlayer_daemon_start_time_seconds 1700000000");
	expect_line(t, "patchlayer_crash_watch_up 0");
	/* nothing about what has not happened, nor about layers */
	assert_null(strstr(t, "last_reconcile"));
	assert_null(strstr(t, "patchlayer_layer_"));
	free(t);
}

static void test_layers(void **state)
{
	struct pl_metrics_layer l[2] = { layer("zlib-fix", PL_WANT_ACTIVE),
					 layer("expat-fix", PL_WANT_STALE) };
	char *t, small[40];
	size_t len;

	(void)state;
	l[0].package = "zlib1g";
	l[0].advisory = "DSA-5000-1,CVE-2022-37434";
	active(&l[0], 3, 1, 42);
	l[0].crashes = 2;
	l[1].refused = "ESTALE";
	t = format(&daemon_up, l, 2);
#define ZL "{name=\"zlib-fix\",version=\"1.2.3-1+deb12u1\",package=\"zlib1g\",advisory=\"DSA-5000-1,CVE-2022-37434\""
#define EX "{name=\"expat-fix\",version=\"1.2.3-1+deb12u1\",package=\"\",advisory=\"\""
	expect_line(t, "patchlayer_daemon_last_reconcile_timestamp_seconds 1700000100");
	expect_line(t, "patchlayer_crash_watch_up 1");
	expect_line(t, "patchlayer_layer_state" ZL ",state=\"active\"} 1");
	expect_line(t, "patchlayer_layer_state" ZL ",state=\"withdrawn\"} 0");
	expect_line(t, "patchlayer_layer_state" EX ",state=\"stale\"} 1");
	expect_line(t, "patchlayer_layer_state" EX ",state=\"active\"} 0");
	expect_line(t, "patchlayer_layer_activation_timestamp_seconds" ZL "} 1700000050");
	expect_line(t, "patchlayer_layer_patched_processes" ZL "} 3");
	expect_line(t, "patchlayer_layer_stale_processes" ZL "} 1");
	expect_line(t, "# TYPE patchlayer_layer_crashes_total counter");
	expect_line(t, "patchlayer_layer_crashes_total" ZL "} 2");
	expect_line(t, "patchlayer_layer_crashes_total" EX "} 0");
	expect_line(t, "patchlayer_layer_hits_total" ZL "} 42");
	expect_line(t, "patchlayer_layer_refused" EX ",errno=\"ESTALE\"} 1");
	/* unknown counts and times are left out, not a wrong 0 */
	assert_null(strstr(t, "patchlayer_layer_patched_processes" EX));
	assert_null(strstr(t, "patchlayer_layer_activation_timestamp_seconds" EX));
	assert_null(strstr(t, "patchlayer_layer_hits_total" EX));
	assert_null(strstr(t, "patchlayer_layer_refused" ZL));
	/* one HELP and one TYPE per family */
	assert_null(strstr(strstr(t, "# TYPE patchlayer_layer_state ") + 1, "# TYPE patchlayer_layer_state "));
	/* cut like snprintf */
	len = pl_metrics_format(small, sizeof(small), &daemon_up, l, 2);
	assert_int_equal(len, strlen(t));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, t, sizeof(small) - 1);
	free(t);
}

/* build/unit/test_metrics -> build/tools/promtool (scripts/setup), or $PATH's */
static const char *promtool(void)
{
	static char path[PATH_MAX + 32];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(path, sizeof(path), "%s/../tools/promtool", self);
		if (access(path, X_OK) == 0)
			return path;
	}
	return system("command -v promtool >/dev/null 2>&1") == 0 ? "promtool" : NULL;
}

static void test_promtool(void **state)
{
	struct pl_metrics_layer l[3] = { layer("zlib-fix", PL_WANT_ACTIVE),
					 layer("odd", PL_WANT_PENDING),
					 layer("expat-fix", PL_WANT_WITHDRAWN) };
	char file[] = "/tmp/pl-metrics.XXXXXX", cmd[PATH_MAX * 2];
	const char *pt = promtool();
	char *t;
	int fd;

	(void)state;
	if (!pt)
		skip();
	active(&l[0], 3, 0, 7);
	l[1].version = "v\"1\\\n\xff";
	l[1].advisory = "CVE-2024-1";
	l[1].refused = "ESTALE";
	t = format(&daemon_up, l, 3);
	fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	close(fd);
	/* lint problems are printed and exit 3; a parse error exits 1 */
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s", pt, file);
	assert_int_equal(system(cmd), 0);
	unlink(file);
	free(t);
}

static void test_write_file(void **state)
{
	char dir[] = "/tmp/pl-metrics-dir.XXXXXX", path[PATH_MAX], tmp[PATH_MAX], buf[64];
	struct stat st;
	mode_t old;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/patchlayer.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s/.patchlayer.prom.tmp", dir);
	old = umask(077);
	assert_int_equal(pl_metrics_write_file(path, "a 1\n", 4), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(access(tmp, F_OK), -1);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	assert_memory_equal(buf, "a 1\n", 4);
	/* a symlink where the temporary file goes is not followed */
	assert_int_equal(symlink("/etc/passwd", tmp), 0);
	assert_int_equal(pl_metrics_write_file(path, "b 2\n", 4), -ELOOP);
	unlink(tmp);
	assert_int_equal(pl_metrics_write_file("patchlayer.prom", "x", 1), -EINVAL);
	assert_int_equal(pl_metrics_write_file("/nonexistent-dir/p.prom", "x", 1), -ENOENT);
	unlink(path);
	rmdir(dir);
}

/*
 * A reader looping on the file while it is rewritten 300 times, with two
 * texts of different lengths (the longer over a page): every read is one
 * of them whole.
 */
static void test_atomic_reader(void **state)
{
	char dir[] = "/tmp/pl-metrics-dir.XXXXXX", path[PATH_MAX];
	static char a[6000], b[100], got[8192];
	int pipefd[2], i, status;
	pid_t pid;

	(void)state;
	memset(a, 'a', sizeof(a) - 2);
	a[sizeof(a) - 2] = '\n';
	memset(b, 'b', sizeof(b) - 2);
	b[sizeof(b) - 2] = '\n';
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/patchlayer.prom", dir);
	assert_int_equal(pl_metrics_write_file(path, a, strlen(a)), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long reads = 0;

		close(pipefd[1]);
		for (;;) {
			int fd = open(path, O_RDONLY);
			ssize_t n = 0, r;
			char c;

			if (fd < 0)
				_exit(2);	/* never missing: rename replaces */
			while ((r = read(fd, got + n, sizeof(got) - (size_t)n)) > 0)
				n += r;
			close(fd);
			if (!((size_t)n == strlen(a) && !memcmp(got, a, (size_t)n)) &&
			    !((size_t)n == strlen(b) && !memcmp(got, b, (size_t)n)))
				_exit(1);
			reads++;
			/* until the writer closes the pipe */
			if (reads % 16 == 0) {
				int fl = fcntl(pipefd[0], F_GETFL);

				fcntl(pipefd[0], F_SETFL, fl | O_NONBLOCK);
				if (read(pipefd[0], &c, 1) == 0)
					_exit(reads > 16 ? 0 : 3);
			}
		}
	}
	close(pipefd[0]);
	for (i = 0; i < 300; i++) {
		const char *t = i % 2 ? a : b;

		assert_int_equal(pl_metrics_write_file(path, t, strlen(t)), 0);
	}
	close(pipefd[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(path);
	rmdir(dir);
}

static void test_publish(void **state)
{
	char dir[] = "/tmp/pl-metrics-dir.XXXXXX", path[PATH_MAX];
	struct pl_metrics_layer l = layer("zlib-fix", PL_WANT_ACTIVE);
	struct pl_metrics_out o = { .interval = 60 };
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/patchlayer.prom", dir);
	/* disabled: nothing written, nothing due */
	assert_int_equal(pl_metrics_publish(&o, &daemon_up, &l, 1, false, 100), 1);
	assert_int_equal(pl_metrics_due_in(&o, 100), -1);
	o.path = path;
	assert_int_equal(pl_metrics_due_in(&o, 100), 0);
	assert_int_equal(pl_metrics_publish(&o, &daemon_up, &l, 1, false, 100), 0);
	assert_int_equal(pl_metrics_due_in(&o, 130), 30);
	/* the same text within the interval: not written again */
	unlink(path);
	assert_int_equal(pl_metrics_publish(&o, &daemon_up, &l, 1, false, 130), 1);
	assert_int_equal(stat(path, &st), -1);
	/* a change: written at once */
	l.stale = 2;
	assert_int_equal(pl_metrics_publish(&o, &daemon_up, &l, 1, false, 131), 0);
	assert_int_equal(stat(path, &st), 0);
	/* the interval passed: written again, the same text */
	unlink(path);
	assert_int_equal(pl_metrics_publish(&o, &daemon_up, &l, 1, false, 191), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(pl_metrics_due_in(&o, 300), 0);
	/* a failed write waits for the next change or interval, not the next call */
	unlink(path);
	rmdir(dir);
	l.stale = 0;
	assert_int_equal(pl_metrics_publish(&o, &daemon_up, &l, 1, false, 200), -ENOENT);
	assert_int_equal(pl_metrics_due_in(&o, 200), 60);
	assert_int_equal(pl_metrics_publish(&o, &daemon_up, &l, 1, false, 201), 1);
	pl_metrics_out_free(&o);
}

/* A label list too long for its room is cut whole items first, and says so. */
static void test_label_join(void **state)
{
	char buf[48] = "";
	unsigned int left = 0;
	char id[24];
	unsigned int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "CVE-2024-%04u", i);
		pl_label_join(buf, sizeof(buf), id, strlen(id), &left);
	}
	assert_string_equal(buf, "CVE-2024-0000,CVE-2024-0001");
	assert_int_equal(left, 3);
	pl_label_join_end(buf, sizeof(buf), left);
	assert_string_equal(buf, "CVE-2024-0000,CVE-2024-0001,+3 more");

	/* a short one after a cut is not added: the list stays a prefix */
	pl_label_join(buf, sizeof(buf), "x", 1, &left);
	assert_int_equal(left, 4);

	/* all fit: no marker; none fits: only the marker */
	buf[0] = '\0';
	left = 0;
	pl_label_join(buf, sizeof(buf), "DSA-5000-1", 10, &left);
	pl_label_join_end(buf, sizeof(buf), left);
	assert_string_equal(buf, "DSA-5000-1");
	buf[0] = '\0';
	memset(id, 'a', sizeof(id) - 1);
	pl_label_join(buf, 20, id, sizeof(id) - 1, &left);
	pl_label_join_end(buf, 20, left);
	assert_string_equal(buf, "+1 more");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_label_join),
		cmocka_unit_test(test_daemon_only),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_atomic_reader),
		cmocka_unit_test(test_publish),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
