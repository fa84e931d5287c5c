// SPDX-License-Identifier: GPL-2.0
/*
 * The layer manifest parser (lib/manifest.c): what it fills in for a valid
 * manifest, and the errno, line and reason of every way it rejects one.
 * Inputs are copied to heap buffers of their exact length, so ASan flags any
 * read past the end the parser is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/manifest.h"

/* two different digests, lower-case hex */
#define H1 "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210"
#define H2 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define H1_UPPER "00112233445566778899AABBCCDDEEFF0123456789ABCDEFFEDCBA9876543210"

#define FMT "format: patchlayer/1\n"
#define HDR FMT "name: zlib-cve-2026-0001\nversion: 26.3 (a)\n"
/* a file record for target T; the header above is 3 lines */
#define REC(t) "file: " t " sha256=" H1 " size=121280 base=" H2 "\n"
#define RECF(t, fields) "file: " t " " fields "\n"
#define TARGET "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"

/* 65 bytes */
#define LONG65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Every reason lib/manifest.c gives, so the last test can tell which were never hit. */
#define R_TOO_BIG	"manifest larger than 64 KiB"
#define R_EMPTY		"empty manifest"
#define R_NO_NL		"manifest does not end with a newline"
#define R_NUL		"NUL byte"
#define R_CR		"carriage return (lines end with LF only)"
#define R_UNKNOWN	"unknown key or missing ': '"
#define R_EMPTY_LINE	"empty line"
#define R_FIRST		"the first line must be 'format: patchlayer/1'"
#define R_ORDER		"key out of order or repeated (format, name, version, replaces, source, package, advisory, file)"
#define R_FORMAT	"unsupported format (expected patchlayer/1)"
#define R_NAME_LONG	"name longer than 64 bytes"
#define R_NAME		"name must be 1-64 of [A-Za-z0-9._-], a letter or digit first, not ending in '.state'"
#define R_VER_EARLY	"version before name"
#define R_VER_LONG	"version longer than 64 bytes"
#define R_VER		"version must be 1-64 bytes of printable UTF-8"
#define R_VER_SPACE	"version starts or ends with a space"
#define R_REPL_EARLY	"replaces before name and version"
#define R_REPL_LONG	"replaces longer than 64 bytes"
#define R_REPL		"replaces must be a layer name"
#define R_REPL_SELF	"a layer cannot replace itself"
#define R_FILE_EARLY	"file record before name and version"
#define R_DUP		"duplicate target"
#define R_UNSORTED	"file records not sorted by target"
#define R_MANY		"more than 512 file records"
#define R_MORE		"more file records than the first parse found"
#define R_NO_NAME	"missing name"
#define R_NO_VER	"missing version"
#define R_T_LONG	"target path too long"
#define R_T_REL		"target is not an absolute path"
#define R_T_BAD		"target is not a canonical path below a library directory"
#define R_F_MISSING	"file record: missing field"
#define R_F_ORDER	"file record: expected sha256=, size=, base= in this order"
#define R_F_TRAILING	"file record: trailing data"
#define R_F_SHA		"file record: sha256 is not 64 lower-case hex digits"
#define R_F_SIZE_BIG	"file record: size larger than 1 GiB"
#define R_F_SIZE	"file record: size is not a positive decimal number"
#define R_F_BASE	"file record: base is not 64 lower-case hex digits"
#define R_S_LONG	"source: name or version longer than 128 bytes"
#define R_S_NAME	"source: not a Debian package name"
#define R_S_FORM	"source: expected '<package> <Debian version>'"
#define R_S_EARLY	"source before name and version"
#define R_P_LONG	"package: name longer than 128 bytes"
#define R_P_NAME	"package: not a Debian package name"
#define R_P_FORM	"package: expected '<package> base=<version> fixed=<version>'"
#define R_P_VLONG	"package: version longer than 128 bytes"
#define R_P_VER		"package: not a Debian version"
#define R_P_TRAILING	"package: trailing data"
#define R_P_OLDER	"package: fixed version not newer than base"
#define R_P_MANY	"more than 32 package lines"
#define R_P_UNSORTED	"package lines not sorted by package, or one repeated"
#define R_P_EARLY	"package before name and version"
#define R_A_NONE	"advisory: no id"
#define R_A_MANY	"advisory: more than 32 ids"
#define R_A_BAD		"advisory: ids are DSA-<n>-<r>, DLA-<n>-<r> or CVE-<year>-<n>, one space apart"
#define R_A_ORDER	"advisory: ids not in ascending order, or repeated"
#define R_A_EARLY	"advisory before name and version"

static const char *const reasons[] = {
	R_TOO_BIG, R_EMPTY, R_NO_NL, R_NUL, R_CR, R_UNKNOWN, R_EMPTY_LINE, R_FIRST,
	R_ORDER, R_FORMAT, R_NAME_LONG, R_NAME, R_VER_EARLY, R_VER_LONG, R_VER, R_VER_SPACE,
	R_REPL_EARLY, R_REPL_LONG, R_REPL, R_REPL_SELF, R_FILE_EARLY, R_DUP,
	R_UNSORTED, R_MANY, R_MORE, R_NO_NAME, R_NO_VER, R_T_LONG, R_T_REL, R_T_BAD,
	R_F_MISSING, R_F_ORDER, R_F_TRAILING, R_F_SHA, R_F_SIZE_BIG, R_F_SIZE,
	R_F_BASE, R_S_LONG, R_S_NAME, R_S_FORM, R_S_EARLY, R_P_LONG, R_P_NAME, R_P_FORM,
	R_P_VLONG, R_P_VER, R_P_TRAILING, R_P_OLDER, R_P_MANY, R_P_UNSORTED, R_P_EARLY,
	R_A_NONE, R_A_MANY, R_A_BAD, R_A_ORDER, R_A_EARLY,
};

#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

static int reason_hits[N_REASONS];

/*
 * A record takes at least 163 bytes (two 64-digit hashes), so 513 of them
 * are over 64 KiB and the manifest size check always fires first.
 */
static const char *const reasons_unreachable[] = { R_MANY };

static void reason_hit(const char *reason)
{
	for (size_t i = 0; i < N_REASONS; i++)
		if (strcmp(reasons[i], reason) == 0)
			reason_hits[i] = 1;
}

/* An exact-length heap copy: the parser must not read past LEN. */
static char *dup_exact(const char *text, size_t len)
{
	char *buf = malloc(len);

	assert_true(buf != NULL || len == 0);
	if (len)
		memcpy(buf, text, len);
	return buf;
}

static struct pl_manifest_file files_buf[PL_MANIFEST_MAX_FILES];

/*
 * Expects TEXT to fail with RET at LINE for REASON, the same without an
 * error struct and on the second pass (with an array to fill).
 */
static void expect_fail(const char *what, const char *text, size_t len,
			int ret, unsigned int line, const char *reason)
{
	char *buf = dup_exact(text, len);
	struct pl_manifest m;
	struct pl_manifest_error e = { 12345, "stale" };
	int got;

	got = pl_manifest_parse(buf, len, &m, NULL, 0, &e);
	if (got != ret || e.line != line || !e.reason || strcmp(e.reason, reason)) {
		free(buf);
		fail_msg("%s: got %d, line %u, \"%s\"; want %d, line %u, \"%s\"", what,
			 got, e.line, e.reason ? e.reason : "(null)", ret, line, reason);
	}
	reason_hit(reason);

	got = pl_manifest_parse(buf, len, &m, NULL, 0, NULL);
	if (got != ret) {
		free(buf);
		fail_msg("%s: without an error struct got %d, want %d", what, got, ret);
	}

	e.line = 12345;
	e.reason = NULL;
	got = pl_manifest_parse(buf, len, &m, files_buf, PL_MANIFEST_MAX_FILES, &e);
	if (got != ret || e.line != line || !e.reason || strcmp(e.reason, reason)) {
		free(buf);
		fail_msg("%s: second pass got %d, line %u, \"%s\"; want %d, line %u, \"%s\"",
			 what, got, e.line, e.reason ? e.reason : "(null)", ret, line, reason);
	}
	free(buf);
}

/* a string literal, which may hold NUL bytes */
#define FAIL(what, lit, ret, line, reason) \
	expect_fail(what, lit, sizeof(lit) - 1, ret, line, reason)

/* Expects TEXT to parse; returns n_files. */
static size_t expect_ok(const char *what, const char *text, size_t len)
{
	char *buf = dup_exact(text, len);
	struct pl_manifest m;
	struct pl_manifest_error e = { 12345, "stale" };
	int got;

	got = pl_manifest_parse(buf, len, &m, NULL, 0, &e);
	free(buf);
	if (got != 0)
		fail_msg("%s: got %d, line %u, \"%s\"; want success", what, got, e.line,
			 e.reason ? e.reason : "(null)");
	assert_int_equal(e.line, 0);
	assert_null(e.reason);
	return m.n_files;
}

#define OK(what, lit) expect_ok(what, lit, sizeof(lit) - 1)

static void assert_str(struct pl_str s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.s, want, s.len);
}

static void assert_hex(const u8 digest[PL_SHA256_SIZE], const char *want)
{
	char hex[2 * PL_SHA256_SIZE + 1];

	pl_sha256_hex(digest, hex);
	assert_string_equal(hex, want);
}

/* A growing manifest text, for the ones too big to write out. */
struct text {
	char *s;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, n + 1, fmt, ap);
	va_end(ap);
	t->len += n;
}

static void text_repeat(struct text *t, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		text_add(t, "%c", c);
}

/* "format", "name: a", "version: 1" then N minimal (164-byte) records */
static void text_records(struct text *t, size_t n)
{
	text_add(t, FMT "name: a\nversion: 1\n");
	for (size_t i = 0; i < n; i++)
		text_add(t, "file: /lib/%03zu sha256=" H1 " size=1 base=" H2 "\n", i);
}

static void test_full_manifest(void **state)
{
	static const char text[] =
		FMT
		"name: zlib-cve-2026-0001\n"
		"version: 26.3 (a)\n"
		"replaces: zlib-old\n"
		"file: /lib/x86_64-linux-gnu/libc.so.6 sha256=" H2 " size=1 base=" H1 "\n"
		"file: " TARGET " sha256=" H1 " size=121280 base=" H2 "\n"
		"file: /usr/local/lib/libfoo.so.3 sha256=" H1 " size=1073741824 base=" H1 "\n";
	char *buf = dup_exact(text, sizeof(text) - 1);
	struct pl_manifest m, m2;
	struct pl_manifest_file *files;
	struct pl_manifest_error e;

	(void)state;
	assert_int_equal(pl_manifest_parse(buf, sizeof(text) - 1, &m, NULL, 0, &e), 0);
	assert_int_equal(e.line, 0);
	assert_null(e.reason);
	assert_str(m.name, "zlib-cve-2026-0001");
	assert_str(m.version, "26.3 (a)");
	assert_str(m.replaces, "zlib-old");
	assert_int_equal(m.n_files, 3);
	/* the strings point into the buffer, not into copies */
	assert_ptr_equal(m.name.s, buf + strlen(FMT "name: "));

	/* second pass: exactly n_files records */
	files = malloc(m.n_files * sizeof(*files));
	assert_non_null(files);
	assert_int_equal(pl_manifest_parse(buf, sizeof(text) - 1, &m2, files, m.n_files, &e), 0);
	assert_int_equal(m2.n_files, 3);
	assert_ptr_equal(m2.name.s, m.name.s);
	assert_int_equal(m2.name.len, m.name.len);
	assert_ptr_equal(m2.version.s, m.version.s);
	assert_ptr_equal(m2.replaces.s, m.replaces.s);

	assert_str(files[0].target, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_hex(files[0].sha256, H2);
	assert_int_equal(files[0].size, 1);
	assert_hex(files[0].base_sha256, H1);

	assert_str(files[1].target, TARGET);
	assert_hex(files[1].sha256, H1);
	assert_int_equal(files[1].size, 121280);
	assert_hex(files[1].base_sha256, H2);
	/* the bytes themselves, not only their hex */
	assert_int_equal(files[1].sha256[0], 0x00);
	assert_int_equal(files[1].sha256[1], 0x11);
	assert_int_equal(files[1].sha256[15], 0xff);
	assert_int_equal(files[1].sha256[31], 0x10);
	assert_int_equal(files[1].base_sha256[0], 0x9f);
	assert_int_equal(files[1].base_sha256[31], 0x08);

	assert_str(files[2].target, "/usr/local/lib/libfoo.so.3");
	assert_int_equal(files[2].size, PL_FILE_MAX_SIZE);
	assert_hex(files[2].sha256, H1);
	assert_hex(files[2].base_sha256, H1);
	for (size_t i = 0; i < 3; i++)
		assert_true(files[i].target.s > buf && files[i].target.s < buf + sizeof(text) - 1);

	free(files);
	free(buf);
}

/* A layer without files proves signing, trust and loading on their own. */
static void test_security_test_layer(void **state)
{
	static const char text[] = FMT "name: security-test\nversion: 26.3 (a)\n";
	char *buf = dup_exact(text, sizeof(text) - 1);
	struct pl_manifest m;
	struct pl_manifest_file one;
	struct pl_manifest_error e;

	(void)state;
	assert_int_equal(pl_manifest_parse(buf, sizeof(text) - 1, &m, NULL, 0, &e), 0);
	assert_str(m.name, "security-test");
	assert_str(m.version, "26.3 (a)");
	assert_int_equal(m.replaces.len, 0);
	assert_int_equal(m.n_files, 0);
	/* a second pass with room for nothing */
	assert_int_equal(pl_manifest_parse(buf, sizeof(text) - 1, &m, &one, 0, &e), 0);
	assert_int_equal(m.n_files, 0);
	free(buf);
}

static void test_replaces_absent(void **state)
{
	static const char text[] = HDR REC(TARGET);
	char *buf = dup_exact(text, sizeof(text) - 1);
	struct pl_manifest m;
	struct pl_manifest_file f;

	(void)state;
	assert_int_equal(pl_manifest_parse(buf, sizeof(text) - 1, &m, &f, 1, NULL), 0);
	assert_int_equal(m.replaces.len, 0);
	assert_int_equal(m.n_files, 1);
	assert_str(f.target, TARGET);
	free(buf);
}

static void test_valid_edges(void **state)
{
	(void)state;
	/* byte order, a prefix before its extensions ('-' < '/' < 'a') */
	assert_int_equal(OK("sorted", HDR REC("/usr/lib/a") REC("/usr/lib/a-b")
			    REC("/usr/lib/a/b") REC("/usr/lib/ab") REC("/usr/lib/b")
			    REC("/usr/lib/~")), 6);
	/* every library root */
	assert_int_equal(OK("roots", HDR REC("/lib/a") REC("/lib32/a") REC("/lib64/a")
			    REC("/libx32/a") REC("/usr/lib/a") REC("/usr/lib32/a")
			    REC("/usr/lib64/a") REC("/usr/libx32/a")
			    REC("/usr/local/lib/a")), 9);
	OK("64-byte name", FMT "name: " LONG64 "\nversion: 1\n");
	OK("name charset", FMT "name: AZaz09._-\nversion: 1\n");
	OK("name a..", FMT "name: a..\nversion: 1\n");
	OK("64-byte replaces", HDR "replaces: " LONG64 "\n");
	OK("replaces differs in case", FMT "name: zlib\nversion: 1\nreplaces: ZLIB\n");
	/* 32 two-byte characters: 64 bytes */
	OK("64-byte UTF-8 version", FMT "name: a\nversion: "
	   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n");
	OK("64-byte ASCII version", FMT "name: a\nversion: " LONG64 "\n");
	OK("U+00A0", FMT "name: a\nversion: \xc2\xa0\n");
	OK("U+07FF", FMT "name: a\nversion: \xdf\xbf\n");
	OK("U+0800", FMT "name: a\nversion: \xe0\xa0\x80\n");
	OK("U+D7FF", FMT "name: a\nversion: \xed\x9f\xbf\n");
	OK("U+E000", FMT "name: a\nversion: \xee\x80\x80\n");
	OK("U+10000", FMT "name: a\nversion: \xf0\x90\x80\x80\n");
	OK("U+10FFFF", FMT "name: a\nversion: \xf4\x8f\xbf\xbf\n");
	OK("CJK and emoji", FMT "name: a\nversion: \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92\n");
	OK("printable ASCII", FMT "name: a\nversion: ~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}\n");
	OK("size 1 GiB", HDR RECF(TARGET, "sha256=" H1 " size=1073741824 base=" H2));
	OK("target printable ASCII", HDR REC("/usr/lib/!#$%&'()*+,-.:;<=>?@[]^_`{|}~"));
	OK("dot files", HDR REC("/usr/lib/.a/..b/..."));
}

static void test_file_limits(void **state)
{
	struct text t = { 0 };
	size_t n;

	(void)state;
	/* 399 minimal records are the most 64 KiB can hold */
	text_records(&t, 399);
	assert_int_equal(t.len, 40 + 399 * 164);
	n = expect_ok("399 records", t.s, t.len);
	assert_int_equal(n, 399);

	/* a last target 60 bytes longer makes exactly 65536 bytes, the limit */
	t.len -= 164;
	text_add(&t, "file: /lib/398");
	text_repeat(&t, 'x', 60);
	text_add(&t, " sha256=" H1 " size=1 base=" H2 "\n");
	assert_int_equal(t.len, PL_MANIFEST_MAX_SIZE);
	expect_ok("65536 bytes", t.s, t.len);

	/* one byte more */
	t.len -= 164 + 60;
	text_add(&t, "file: /lib/398");
	text_repeat(&t, 'x', 61);
	text_add(&t, " sha256=" H1 " size=1 base=" H2 "\n");
	assert_int_equal(t.len, PL_MANIFEST_MAX_SIZE + 1);
	expect_fail("65537 bytes", t.s, t.len, -EFBIG, 0, R_TOO_BIG);

	/* 513 records cannot fit in 64 KiB: EFBIG for the size */
	t.len = 0;
	text_records(&t, 513);
	expect_fail("513 records", t.s, t.len, -EFBIG, 0, R_TOO_BIG);
	free(t.s);
}

static void test_too_big(void **state)
{
	struct text t = { 0 };

	(void)state;
	/* 70 KiB; valid apart from its size, so only the size can reject it */
	text_add(&t, FMT "name: a\nversion: 1\n");
	while (t.len < 70 * 1024 - 200)
		text_add(&t, "file: /lib/%05zu sha256=" H1 " size=1 base=" H2 "\n", t.len);
	expect_fail("70 KiB", t.s, t.len, -EFBIG, 0, R_TOO_BIG);
	free(t.s);
}

static void test_second_pass_overflow(void **state)
{
	static const char text[] = HDR REC("/usr/lib/a") REC("/usr/lib/b");
	char *buf = dup_exact(text, sizeof(text) - 1);
	struct pl_manifest m;
	struct pl_manifest_error e;
	struct pl_manifest_file *one = malloc(sizeof(*one));

	(void)state;
	/* the array holds one record, the text (changed since?) has two */
	assert_int_equal(pl_manifest_parse(buf, sizeof(text) - 1, &m, one, 1, &e), -EINVAL);
	assert_int_equal(e.line, 5);
	assert_string_equal(e.reason, R_MORE);
	reason_hit(R_MORE);
	assert_str(one[0].target, "/usr/lib/a");
	free(one);
	free(buf);
}

static void test_text_errors(void **state)
{
	struct text t = { 0 };

	(void)state;
	FAIL("empty manifest", "", -EINVAL, 0, R_EMPTY);
	FAIL("no final newline", HDR "file: " TARGET, -EINVAL, 0, R_NO_NL);
	FAIL("no newline at all", "format: patchlayer/1", -EINVAL, 0, R_NO_NL);
	FAIL("CRLF", "format: patchlayer/1\r\nname: a\r\nversion: 1\r\n", -EINVAL, 1, R_CR);
	FAIL("CR in version", FMT "name: a\nversion: 1\r2\n", -EINVAL, 3, R_CR);
	FAIL("CR alone", "\r\n", -EINVAL, 1, R_CR);
	FAIL("NUL in name", FMT "name: a\0b\nversion: 1\n", -EINVAL, 2, R_NUL);
	FAIL("NUL at line end", HDR REC(TARGET) "\0\n", -EINVAL, 5, R_NUL);
	FAIL("NUL before the final newline", HDR "\0\n", -EINVAL, 4, R_NUL);
	FAIL("only a newline", "\n", -EINVAL, 1, R_EMPTY_LINE);
	FAIL("empty line in header", FMT "\nname: a\nversion: 1\n", -EINVAL, 2, R_EMPTY_LINE);
	FAIL("empty last line", HDR "\n", -EINVAL, 4, R_EMPTY_LINE);
	FAIL("empty line between records", HDR REC("/usr/lib/a") "\n" REC("/usr/lib/b"),
	     -EINVAL, 5, R_EMPTY_LINE);
	FAIL("unknown key", HDR "comment: hi\n", -EINVAL, 4, R_UNKNOWN);
	FAIL("unknown first line", "hello\n", -EINVAL, 1, R_UNKNOWN);
	FAIL("no space after colon", "format:patchlayer/1\n", -EINVAL, 1, R_UNKNOWN);
	FAIL("space before colon", FMT "name : a\nversion: 1\n", -EINVAL, 2, R_UNKNOWN);
	FAIL("no colon", FMT "name a\nversion: 1\n", -EINVAL, 2, R_UNKNOWN);
	FAIL("key without value or space", HDR "replaces:\n", -EINVAL, 4, R_UNKNOWN);
	FAIL("upper-case key", FMT "Name: a\nversion: 1\n", -EINVAL, 2, R_UNKNOWN);
	FAIL("leading space", FMT " name: a\nversion: 1\n", -EINVAL, 2, R_UNKNOWN);
	FAIL("tab separator", FMT "name:\ta\nversion: 1\n", -EINVAL, 2, R_UNKNOWN);
	FAIL("files: plural", HDR "files: " TARGET "\n", -EINVAL, 4, R_UNKNOWN);

	/* 70 KiB of junk is EFBIG before anything is looked at */
	text_repeat(&t, 'x', 70 * 1024);
	expect_fail("70 KiB junk", t.s, t.len, -EFBIG, 0, R_TOO_BIG);
	free(t.s);
}

static void test_key_errors(void **state)
{
	(void)state;
	FAIL("missing format", "name: a\nversion: 1\n", -EINVAL, 1, R_FIRST);
	FAIL("version first", "version: 1\n", -EINVAL, 1, R_FIRST);
	FAIL("file first", REC(TARGET), -EINVAL, 1, R_FIRST);
	FAIL("format second", "name: a\n" FMT "version: 1\n", -EINVAL, 1, R_FIRST);
	FAIL("format 2", "format: patchlayer/2\nname: a\nversion: 1\n", -EINVAL, 1, R_FORMAT);
	FAIL("format trailing space", "format: patchlayer/1 \nname: a\nversion: 1\n",
	     -EINVAL, 1, R_FORMAT);
	FAIL("format prefix", "format: patchlayer/\nname: a\nversion: 1\n", -EINVAL, 1, R_FORMAT);
	FAIL("format upper case", "format: PATCHLAYER/1\nname: a\nversion: 1\n",
	     -EINVAL, 1, R_FORMAT);
	FAIL("format empty", "format: \n", -EINVAL, 1, R_FORMAT);

	FAIL("format only", FMT, -EINVAL, 0, R_NO_NAME);
	FAIL("missing version", FMT "name: a\n", -EINVAL, 0, R_NO_VER);
	FAIL("version before name", FMT "version: 1\nname: a\n", -EINVAL, 2, R_VER_EARLY);
	FAIL("missing name", FMT "version: 1\n", -EINVAL, 2, R_VER_EARLY);
	FAIL("replaces before name", FMT "replaces: b\nname: a\nversion: 1\n",
	     -EINVAL, 2, R_REPL_EARLY);
	FAIL("replaces before version", FMT "name: a\nreplaces: b\nversion: 1\n",
	     -EINVAL, 3, R_REPL_EARLY);
	FAIL("file without name", FMT REC(TARGET), -EINVAL, 2, R_FILE_EARLY);
	FAIL("file before version", FMT "name: a\n" REC(TARGET) "version: 1\n",
	     -EINVAL, 3, R_FILE_EARLY);

	FAIL("repeated format", FMT FMT "name: a\nversion: 1\n", -EINVAL, 2, R_ORDER);
	FAIL("repeated name", FMT "name: a\nname: a\nversion: 1\n", -EINVAL, 3, R_ORDER);
	FAIL("repeated version", HDR "version: 26.3 (a)\n", -EINVAL, 4, R_ORDER);
	FAIL("repeated replaces", HDR "replaces: b\nreplaces: c\n", -EINVAL, 5, R_ORDER);
	FAIL("name after version", FMT "name: a\nversion: 1\nname: b\n", -EINVAL, 4, R_ORDER);
	FAIL("replaces after file", HDR REC(TARGET) "replaces: b\n", -EINVAL, 5, R_ORDER);
	FAIL("version after file", HDR REC(TARGET) "version: 2\n", -EINVAL, 5, R_ORDER);
	FAIL("format at the end", HDR FMT, -EINVAL, 4, R_ORDER);
}

static void test_name_errors(void **state)
{
	(void)state;
	FAIL("65-byte name", FMT "name: " LONG65 "\nversion: 1\n", -EFBIG, 2, R_NAME_LONG);
	FAIL("name .", FMT "name: .\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name ..", FMT "name: ..\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("empty name", FMT "name: \nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name with space", FMT "name: a b\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name with two spaces", FMT "name:  a\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name with slash", FMT "name: a/b\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name with tab", FMT "name: a\tb\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name with UTF-8", FMT "name: caf\xc3\xa9\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name with +", FMT "name: a+b\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name .a", FMT "name: .a\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name -a", FMT "name: -a\nversion: 1\n", -EINVAL, 2, R_NAME);
	FAIL("name a.state", FMT "name: a.state\nversion: 1\n", -EINVAL, 2, R_NAME);

	FAIL("65-byte replaces", HDR "replaces: " LONG65 "\n", -EFBIG, 4, R_REPL_LONG);
	FAIL("replaces ..", HDR "replaces: ..\n", -EINVAL, 4, R_REPL);
	FAIL("replaces .", HDR "replaces: .\n", -EINVAL, 4, R_REPL);
	FAIL("empty replaces", HDR "replaces: \n", -EINVAL, 4, R_REPL);
	FAIL("replaces with slash", HDR "replaces: ../x\n", -EINVAL, 4, R_REPL);
	FAIL("replaces == name", HDR "replaces: zlib-cve-2026-0001\n", -EINVAL, 4, R_REPL_SELF);
}

static void test_version_errors(void **state)
{
	static const struct {
		const char *what;
		const char *text;
	} bad[] = {
		{ "overlong / (2 bytes)", FMT "name: a\nversion: \xc0\xaf\n" },
		{ "overlong C1 lead", FMT "name: a\nversion: \xc1\xbf\n" },
		{ "overlong / (3 bytes)", FMT "name: a\nversion: \xe0\x80\xaf\n" },
		{ "overlong U+07FF (3 bytes)", FMT "name: a\nversion: \xe0\x9f\xbf\n" },
		{ "overlong / (4 bytes)", FMT "name: a\nversion: \xf0\x80\x80\xaf\n" },
		{ "overlong U+FFFF (4 bytes)", FMT "name: a\nversion: \xf0\x8f\xbf\xbf\n" },
		{ "surrogate U+D800", FMT "name: a\nversion: \xed\xa0\x80\n" },
		{ "surrogate U+DFFF", FMT "name: a\nversion: \xed\xbf\xbf\n" },
		{ "truncated at the end", FMT "name: a\nversion: 1\xe2\x82\n" },
		{ "truncated 2-byte", FMT "name: a\nversion: \xc3\n" },
		{ "truncated 4-byte", FMT "name: a\nversion: \xf0\x9f\x94\n" },
		{ "truncated in the middle", FMT "name: a\nversion: \xe2\x82x\n" },
		{ "lone continuation", FMT "name: a\nversion: \x80\n" },
		{ "C0 U+0001", FMT "name: a\nversion: 1\x01\n" },
		{ "C0 U+001F", FMT "name: a\nversion: \x1f" "1\n" },
		{ "C0 tab", FMT "name: a\nversion: 1\t2\n" },
		{ "C0 ESC", FMT "name: a\nversion: \x1b[31m\n" },
		{ "DEL", FMT "name: a\nversion: 1\x7f\n" },
		{ "C1 U+0080", FMT "name: a\nversion: \xc2\x80\n" },
		{ "C1 U+0085", FMT "name: a\nversion: \xc2\x85\n" },
		{ "C1 U+009F", FMT "name: a\nversion: \xc2\x9f\n" },
		{ "U+110000", FMT "name: a\nversion: \xf4\x90\x80\x80\n" },
		{ "F5 lead", FMT "name: a\nversion: \xf5\x80\x80\x80\n" },
		{ "5-byte form", FMT "name: a\nversion: \xf8\x88\x80\x80\x80\n" },
		{ "FF", FMT "name: a\nversion: \xff\n" },
		{ "FE", FMT "name: a\nversion: \xfe\n" },
		{ "empty", FMT "name: a\nversion: \n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_fail(bad[i].what, bad[i].text, strlen(bad[i].text), -EINVAL, 3, R_VER);
	FAIL("leading space", FMT "name: a\nversion:  1\n", -EINVAL, 3, R_VER_SPACE);
	FAIL("trailing space", FMT "name: a\nversion: 26.3 (a) \n", -EINVAL, 3, R_VER_SPACE);
	FAIL("only a space", FMT "name: a\nversion:  \n", -EINVAL, 3, R_VER_SPACE);
	FAIL("65-byte version", FMT "name: a\nversion: " LONG65 "\n", -EFBIG, 3, R_VER_LONG);
	/* 64 bytes of "é" and one more byte */
	FAIL("65-byte UTF-8 version", FMT "name: a\nversion: "
	     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x\n",
	     -EFBIG, 3, R_VER_LONG);
}

static void test_target_errors(void **state)
{
	struct text t = { 0 };

	(void)state;
	FAIL("relative", HDR REC("usr/lib/libz.so.1"), -EINVAL, 4, R_T_REL);
	FAIL("dot relative", HDR REC("./usr/lib/libz.so.1"), -EINVAL, 4, R_T_REL);
	FAIL("empty target", HDR "file:  sha256=" H1 " size=1 base=" H2 "\n", -EINVAL, 4, R_T_REL);
	FAIL("empty file line", HDR "file: \n", -EINVAL, 4, R_T_REL);
	FAIL("..", HDR REC("/usr/lib/../bin/sudo"), -EINVAL, 4, R_T_BAD);
	FAIL(".. at the end", HDR REC("/usr/lib/x/.."), -EINVAL, 4, R_T_BAD);
	FAIL(".", HDR REC("/usr/lib/./libz.so.1"), -EINVAL, 4, R_T_BAD);
	FAIL(". at the end", HDR REC("/usr/lib/x/."), -EINVAL, 4, R_T_BAD);
	FAIL("//", HDR REC("/usr/lib//libz.so.1"), -EINVAL, 4, R_T_BAD);
	FAIL("leading //", HDR REC("//usr/lib/libz.so.1"), -EINVAL, 4, R_T_BAD);
	FAIL("trailing slash", HDR REC("/usr/lib/x86_64-linux-gnu/"), -EINVAL, 4, R_T_BAD);
	FAIL("/etc/passwd", HDR REC("/etc/passwd"), -EINVAL, 4, R_T_BAD);
	FAIL("/usr/bin/sudo", HDR REC("/usr/bin/sudo"), -EINVAL, 4, R_T_BAD);
	FAIL("/usr/lib/", HDR REC("/usr/lib/"), -EINVAL, 4, R_T_BAD);
	FAIL("/usr/lib", HDR REC("/usr/lib"), -EINVAL, 4, R_T_BAD);
	FAIL("/usr/local/lib", HDR REC("/usr/local/lib"), -EINVAL, 4, R_T_BAD);
	FAIL("/usr/local/libx", HDR REC("/usr/local/libx/a"), -EINVAL, 4, R_T_BAD);
	FAIL("/libfoo", HDR REC("/libfoo/a"), -EINVAL, 4, R_T_BAD);
	FAIL("/", HDR REC("/"), -EINVAL, 4, R_T_BAD);
	FAIL("backslash", HDR REC("/usr/lib/a\\b"), -EINVAL, 4, R_T_BAD);
	FAIL("tab", HDR REC("/usr/lib/a\tb"), -EINVAL, 4, R_T_BAD);
	FAIL("DEL", HDR REC("/usr/lib/a\x7f"), -EINVAL, 4, R_T_BAD);
	FAIL("UTF-8", HDR REC("/usr/lib/caf\xc3\xa9"), -EINVAL, 4, R_T_BAD);
	FAIL("second record bad", HDR REC("/usr/lib/a") REC("/usr/lib/b/../c"),
	     -EINVAL, 5, R_T_BAD);

	/* 256-byte component */
	text_add(&t, HDR "file: /usr/lib/");
	text_repeat(&t, 'c', 256);
	text_add(&t, " sha256=" H1 " size=1 base=" H2 "\n");
	expect_fail("256-byte component", t.s, t.len, -EINVAL, 4, R_T_BAD);

	/* 1025 bytes: EFBIG, checked before anything else about the target */
	t.len = 0;
	text_add(&t, HDR "file: /usr/lib");
	for (int i = 0; i < 101; i++)
		text_add(&t, "/ccccccccc");
	text_add(&t, "/cccccc sha256=" H1 " size=1 base=" H2 "\n");
	expect_fail("1025-byte target", t.s, t.len, -EFBIG, 4, R_T_LONG);
	t.len = 0;
	text_add(&t, HDR "file: ");
	text_repeat(&t, 'c', 2000);
	text_add(&t, " sha256=" H1 " size=1 base=" H2 "\n");
	expect_fail("2000-byte relative target", t.s, t.len, -EFBIG, 4, R_T_LONG);

	/* 1024 bytes is the limit */
	t.len = 0;
	text_add(&t, HDR "file: /usr/lib");
	for (int i = 0; i < 101; i++)
		text_add(&t, "/ccccccccc");
	text_add(&t, "/ccccc sha256=" H1 " size=1 base=" H2 "\n");
	expect_ok("1024-byte target", t.s, t.len);
	free(t.s);
}

static void test_record_order_errors(void **state)
{
	(void)state;
	FAIL("duplicate target", HDR REC(TARGET) REC(TARGET), -EINVAL, 5, R_DUP);
	FAIL("duplicate with other fields", HDR REC("/usr/lib/a")
	     RECF("/usr/lib/a", "sha256=" H2 " size=2 base=" H1), -EINVAL, 5, R_DUP);
	FAIL("unsorted", HDR REC("/usr/lib/b") REC("/usr/lib/a"), -EINVAL, 5, R_UNSORTED);
	FAIL("extension before prefix", HDR REC("/usr/lib/ab") REC("/usr/lib/a"),
	     -EINVAL, 5, R_UNSORTED);
	FAIL("/usr/lib before /lib", HDR REC("/usr/lib/a") REC("/lib/a"), -EINVAL, 5, R_UNSORTED);
	FAIL("unsorted third", HDR REC("/lib/a") REC("/lib/c") REC("/lib/b"),
	     -EINVAL, 6, R_UNSORTED);
	FAIL("duplicate not adjacent is unsorted", HDR REC("/lib/a") REC("/lib/b") REC("/lib/a"),
	     -EINVAL, 6, R_UNSORTED);
}

static void test_field_errors(void **state)
{
	(void)state;
	FAIL("target only", HDR "file: " TARGET "\n", -EINVAL, 4, R_F_MISSING);
	FAIL("target and space", HDR "file: " TARGET " \n", -EINVAL, 4, R_F_ORDER);
	FAIL("no size and base", HDR RECF(TARGET, "sha256=" H1), -EINVAL, 4, R_F_MISSING);
	FAIL("no base", HDR RECF(TARGET, "sha256=" H1 " size=1"), -EINVAL, 4, R_F_MISSING);
	FAIL("size before sha256", HDR RECF(TARGET, "size=1 sha256=" H1 " base=" H2),
	     -EINVAL, 4, R_F_ORDER);
	FAIL("base before size", HDR RECF(TARGET, "sha256=" H1 " base=" H2 " size=1"),
	     -EINVAL, 4, R_F_ORDER);
	FAIL("no sha256", HDR RECF(TARGET, "size=1 base=" H2), -EINVAL, 4, R_F_ORDER);
	FAIL("two spaces", HDR RECF(TARGET, " sha256=" H1 " size=1 base=" H2),
	     -EINVAL, 4, R_F_ORDER);
	FAIL("two spaces later", HDR RECF(TARGET, "sha256=" H1 "  size=1 base=" H2),
	     -EINVAL, 4, R_F_ORDER);
	FAIL("upper-case key", HDR RECF(TARGET, "SHA256=" H1 " size=1 base=" H2),
	     -EINVAL, 4, R_F_ORDER);
	FAIL("sha256: instead of =", HDR RECF(TARGET, "sha256:" H1 " size=1 base=" H2),
	     -EINVAL, 4, R_F_ORDER);
	FAIL("space in target", HDR RECF("/usr/lib/a b", "sha256=" H1 " size=1 base=" H2),
	     -EINVAL, 4, R_F_ORDER);
	FAIL("trailing field", HDR RECF(TARGET, "sha256=" H1 " size=1 base=" H2 " mode=0644"),
	     -EINVAL, 4, R_F_TRAILING);
	FAIL("trailing space", HDR RECF(TARGET, "sha256=" H1 " size=1 base=" H2 " "),
	     -EINVAL, 4, R_F_TRAILING);
	FAIL("base repeated", HDR RECF(TARGET, "sha256=" H1 " size=1 base=" H2 " base=" H2),
	     -EINVAL, 4, R_F_TRAILING);

	FAIL("upper-case sha256", HDR RECF(TARGET, "sha256=" H1_UPPER " size=1 base=" H2),
	     -EINVAL, 4, R_F_SHA);
	FAIL("one upper-case digit", HDR RECF(TARGET, "sha256="
	     "0011223344556677889Aaabbccddeeff0123456789abcdeffedcba9876543210 size=1 base=" H2),
	     -EINVAL, 4, R_F_SHA);
	FAIL("63-digit sha256", HDR RECF(TARGET, "sha256="
	     "0011223344556677889aabbccddeeff0123456789abcdeffedcba9876543210 size=1 base=" H2),
	     -EINVAL, 4, R_F_SHA);
	FAIL("65-digit sha256", HDR RECF(TARGET, "sha256=" H1 "0 size=1 base=" H2),
	     -EINVAL, 4, R_F_SHA);
	FAIL("empty sha256", HDR RECF(TARGET, "sha256= size=1 base=" H2), -EINVAL, 4, R_F_SHA);
	FAIL("non-hex sha256", HDR RECF(TARGET, "sha256="
	     "g0112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210 size=1 base=" H2),
	     -EINVAL, 4, R_F_SHA);
	FAIL("0x sha256", HDR RECF(TARGET, "sha256=0x"
	     "112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210 size=1 base=" H2),
	     -EINVAL, 4, R_F_SHA);

	FAIL("upper-case base", HDR RECF(TARGET, "sha256=" H1 " size=1 base=" H1_UPPER),
	     -EINVAL, 4, R_F_BASE);
	FAIL("short base", HDR RECF(TARGET, "sha256=" H1 " size=1 base=abcdef"),
	     -EINVAL, 4, R_F_BASE);
	FAIL("65-digit base", HDR RECF(TARGET, "sha256=" H1 " size=1 base=" H2 "a"),
	     -EINVAL, 4, R_F_BASE);
	FAIL("empty base", HDR RECF(TARGET, "sha256=" H1 " size=1 base="), -EINVAL, 4, R_F_BASE);
	FAIL("base with a NUL", HDR RECF(TARGET, "sha256=" H1 " size=1 base=\0"),
	     -EINVAL, 4, R_NUL);
}

static void test_size_errors(void **state)
{
	static const char *const bad[] = {
		"0", "00", "01", "0123", "1a", "a", "-1", "+1", "1.5", "1e3", "0x10", "",
		"12\xc2\xb3", "1,000",
	};
	struct text t = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.len = 0;
		text_add(&t, HDR "file: " TARGET " sha256=" H1 " size=%s base=" H2 "\n", bad[i]);
		expect_fail(bad[i], t.s, t.len, -EINVAL, 4, R_F_SIZE);
	}
	FAIL("1 GiB + 1", HDR RECF(TARGET, "sha256=" H1 " size=1073741825 base=" H2),
	     -EFBIG, 4, R_F_SIZE_BIG);
	FAIL("2 GiB", HDR RECF(TARGET, "sha256=" H1 " size=2147483648 base=" H2),
	     -EFBIG, 4, R_F_SIZE_BIG);
	FAIL("UINT64_MAX", HDR RECF(TARGET, "sha256=" H1 " size=18446744073709551615 base=" H2),
	     -EFBIG, 4, R_F_SIZE_BIG);
	FAIL("UINT64_MAX + 1", HDR RECF(TARGET, "sha256=" H1 " size=18446744073709551616 base=" H2),
	     -EFBIG, 4, R_F_SIZE_BIG);
	FAIL("20 nines", HDR RECF(TARGET, "sha256=" H1 " size=99999999999999999999 base=" H2),
	     -EFBIG, 4, R_F_SIZE_BIG);
	free(t.s);
}

/*
 * docs/layer-format.md: size "over 1 GiB: EFBIG". A number too long to fit
 * in 64 bits is still a decimal over 1 GiB.
 */
static void test_size_overflow_25_digits(void **state)
{
	(void)state;
	FAIL("21 digits", HDR RECF(TARGET, "sha256=" H1 " size=100000000000000000000 base=" H2),
	     -EFBIG, 4, R_F_SIZE_BIG);
	FAIL("25 digits", HDR RECF(TARGET, "sha256=" H1 " size=1234567890123456789012345 base=" H2),
	     -EFBIG, 4, R_F_SIZE_BIG);
}

/* Not a decimal at all is EINVAL, however many digits come first. */
static void test_size_junk_after_digits(void **state)
{
	(void)state;
	FAIL("10 digits then x", HDR RECF(TARGET, "sha256=" H1 " size=9999999999x base=" H2),
	     -EINVAL, 4, R_F_SIZE);
	FAIL("11 digits then x", HDR RECF(TARGET, "sha256=" H1 " size=99999999999x base=" H2),
	     -EINVAL, 4, R_F_SIZE);
}

static void test_name_valid(void **state)
{
	(void)state;
	assert_true(pl_name_valid("a", 1));
	assert_true(pl_name_valid("zlib-cve-2026-0001", 18));
	assert_true(pl_name_valid("A.Z_a-z.0_9", 11));
	assert_true(pl_name_valid("0day", 4));
	assert_true(pl_name_valid("a.stat", 6));
	assert_true(pl_name_valid("a.state2", 8));
	assert_true(pl_name_valid("a.states", 8));
	/* the store's own names, and what looks like an option */
	assert_false(pl_name_valid("...", 3));
	assert_false(pl_name_valid(".a", 2));
	assert_false(pl_name_valid("-a", 2));
	assert_false(pl_name_valid("_a", 2));
	assert_false(pl_name_valid("a.state", 7));
	assert_false(pl_name_valid(".state", 6));
	assert_false(pl_name_valid("zlib-fix.state", 14));
	assert_true(pl_name_valid("zlib-fix.state", 8));
	assert_true(pl_name_valid(LONG64, 64));
	assert_false(pl_name_valid(LONG65, 65));
	assert_false(pl_name_valid("", 0));
	assert_false(pl_name_valid(".", 1));
	assert_false(pl_name_valid("..", 2));
	assert_false(pl_name_valid("a b", 3));
	assert_false(pl_name_valid("a/b", 3));
	assert_false(pl_name_valid("a\\b", 3));
	assert_false(pl_name_valid("a\0b", 3));
	assert_false(pl_name_valid("a\n", 2));
	assert_false(pl_name_valid("caf\xc3\xa9", 5));
	assert_false(pl_name_valid("a:b", 3));
	assert_false(pl_name_valid("a~", 2));
	/* only LEN bytes count */
	assert_true(pl_name_valid("ab/c", 2));
}

static void test_target_valid(void **state)
{
	static const char *const good[] = {
		TARGET, "/lib/a", "/lib32/a", "/lib64/a", "/libx32/a", "/usr/lib/a",
		"/usr/lib32/a", "/usr/lib64/a", "/usr/libx32/a", "/usr/local/lib/a",
		"/usr/lib/a/b/c", "/usr/lib/.a", "/usr/lib/...", "/lib/~",
	};
	static const char *const bad[] = {
		"", "/", "//", "lib/a", "usr/lib/a", "/usr/lib", "/usr/lib/", "/lib",
		"/lib/", "/usr/local/lib", "/usr/local/lib/", "/etc/passwd",
		"/usr/bin/sudo", "/usr/libexec/a", "/usr/lib64x/a", "/usr/local/bin/a",
		"/libfoo/a", "/usr/lib/a/", "/usr/lib//a", "//usr/lib/a", "/usr//lib/a",
		"/usr/lib/./a", "/usr/lib/../lib/a", "/usr/lib/a/..", "/usr/lib/a/.",
		"/./usr/lib/a", "/../usr/lib/a", "/usr/lib/a b", "/usr/lib/a\\b",
		"/usr/lib/a\tb", "/usr/lib/a\nb", "/usr/lib/\x7f", "/usr/lib/\x80",
		"/usr/lib/\xff", "/usr/lib/caf\xc3\xa9", "/opt/lib/a", "/LIB/a",
		"/usr/LIB/a",
	};
	char path[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!pl_target_valid(good[i], strlen(good[i])))
			fail_msg("\"%s\" should be valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pl_target_valid(bad[i], strlen(bad[i])))
			fail_msg("\"%s\" should be invalid", bad[i]);
	assert_false(pl_target_valid("/usr/lib/a\0b", 12));
	/* only LEN bytes count */
	assert_true(pl_target_valid("/usr/lib/a/", 10));
	assert_false(pl_target_valid("/usr/lib/a", 9));

	/* components: 255 bytes allowed, 256 not */
	strcpy(path, "/usr/lib/");
	memset(path + 9, 'c', 255);
	assert_true(pl_target_valid(path, 9 + 255));
	memset(path + 9, 'c', 256);
	assert_false(pl_target_valid(path, 9 + 256));

	/* whole path: 1024 bytes allowed, 1025 not */
	strcpy(path, "/usr/lib");
	for (size_t n = 8; n < 1024; n += 8)
		memcpy(path + n, "/ccccccc", 8);
	assert_true(pl_target_valid(path, 1024));
	path[1024] = 'c';
	assert_false(pl_target_valid(path, 1025));
}

static void test_sha256_hex(void **state)
{
	u8 d[PL_SHA256_SIZE];
	char out[2 * PL_SHA256_SIZE + 1];

	(void)state;
	for (size_t i = 0; i < PL_SHA256_SIZE; i++)
		d[i] = (u8)(i * 0x11 + 0x0f);
	memset(out, '#', sizeof(out));
	pl_sha256_hex(d, out);
	assert_string_equal(out, "0f2031425364758697a8b9cadbecfd0e1f30415263748596a7b8c9daebfc0d1e");
	for (size_t i = 0; i < PL_SHA256_SIZE; i++) {
		char want[3];

		snprintf(want, sizeof(want), "%02x", d[i]);
		assert_memory_equal(out + 2 * i, want, 2);
	}
	assert_int_equal(out[64], '\0');

	memset(d, 0, sizeof(d));
	pl_sha256_hex(d, out);
	assert_string_equal(out, "0000000000000000000000000000000000000000000000000000000000000000");
	memset(d, 0xff, sizeof(d));
	pl_sha256_hex(d, out);
	assert_string_equal(out, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");

	/* the parser's digest round-trips to the text it came from */
	{
		static const char text[] = HDR REC(TARGET);
		struct pl_manifest m;
		struct pl_manifest_file f;

		assert_int_equal(pl_manifest_parse(text, sizeof(text) - 1, &m, &f, 1, NULL), 0);
		pl_sha256_hex(f.sha256, out);
		assert_string_equal(out, H1);
		pl_sha256_hex(f.base_sha256, out);
		assert_string_equal(out, H2);
	}
}

/* Runs last: every reason the parser can give was seen above. */
/* Provenance: source, packages and advisories, all optional. */
#define PROV "source: expat 2.5.0-1+deb12u5\n" \
	"package: libexpat1 base=2.5.0-1+deb12u2 fixed=2.5.0-1+deb12u5\n" \
	"package: libexpat1-dev base=2.5.0-1+deb12u2 fixed=2.5.0-1+deb12u5\n" \
	"advisory: CVE-2024-45490 CVE-2024-50602 DSA-5770-1\n"

static void test_provenance(void **state)
{
	static const char text[] = HDR "replaces: old\n" PROV REC(TARGET);
	char *buf = dup_exact(text, sizeof(text) - 1);
	struct pl_manifest_package pk;
	struct pl_manifest m;
	struct pl_str id;

	(void)state;
	assert_int_equal(pl_manifest_parse(buf, sizeof(text) - 1, &m, NULL, 0, NULL), 0);
	assert_str(m.source, "expat");
	assert_str(m.source_version, "2.5.0-1+deb12u5");
	assert_int_equal(m.n_packages, 2);
	assert_int_equal(pl_manifest_package(&m, 0, &pk), 0);
	assert_str(pk.name, "libexpat1");
	assert_str(pk.base, "2.5.0-1+deb12u2");
	assert_str(pk.fixed, "2.5.0-1+deb12u5");
	assert_int_equal(pl_manifest_package(&m, 1, &pk), 0);
	assert_str(pk.name, "libexpat1-dev");
	assert_int_equal(pl_manifest_package(&m, 2, &pk), -EINVAL);
	assert_int_equal(m.n_advisories, 3);
	assert_int_equal(pl_manifest_advisory(&m, 0, &id), 0);
	assert_str(id, "CVE-2024-45490");
	assert_int_equal(pl_manifest_advisory(&m, 2, &id), 0);
	assert_str(id, "DSA-5770-1");
	assert_int_equal(pl_manifest_advisory(&m, 3, &id), -EINVAL);
	assert_int_equal(m.n_files, 1);
	free(buf);

	/* each alone, and none: the manifests of before still load */
	OK("source only", HDR "source: expat 2.5.0-1+deb12u5\n" REC(TARGET));
	OK("package only", HDR "package: libexpat1 base=1.0 fixed=1.0-1\n");
	OK("advisory only", HDR "advisory: DLA-3960-1\n");
	OK("epochs", HDR "package: zz base=1:9.9 fixed=2:0.1~rc1\n");
	OK("32 advisories", HDR "advisory: CVE-2024-0001 CVE-2024-0002 CVE-2024-0003 "
	   "CVE-2024-0004 CVE-2024-0005 CVE-2024-0006 CVE-2024-0007 CVE-2024-0008 "
	   "CVE-2024-0009 CVE-2024-0010 CVE-2024-0011 CVE-2024-0012 CVE-2024-0013 "
	   "CVE-2024-0014 CVE-2024-0015 CVE-2024-0016 CVE-2024-0017 CVE-2024-0018 "
	   "CVE-2024-0019 CVE-2024-0020 CVE-2024-0021 CVE-2024-0022 CVE-2024-0023 "
	   "CVE-2024-0024 CVE-2024-0025 CVE-2024-0026 CVE-2024-0027 CVE-2024-0028 "
	   "CVE-2024-0029 CVE-2024-0030 CVE-2024-0031 CVE-2024-0032\n");
}

#define V128 "1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_provenance_errors(void **state)
{
	struct text t = { 0 };

	(void)state;
	FAIL("source first", FMT "source: a 1\n", -EINVAL, 2, R_S_EARLY);
	FAIL("package first", FMT "package: ab base=1 fixed=2\n", -EINVAL, 2, R_P_EARLY);
	FAIL("advisory first", FMT "advisory: DSA-1-1\n", -EINVAL, 2, R_A_EARLY);
	FAIL("source twice", HDR "source: ab 1\nsource: ab 1\n", -EINVAL, 5, R_ORDER);
	FAIL("source after package", HDR "package: ab base=1 fixed=2\nsource: ab 1\n",
	     -EINVAL, 5, R_ORDER);
	FAIL("advisory twice", HDR "advisory: DSA-1-1\nadvisory: DSA-2-1\n", -EINVAL, 5, R_ORDER);
	FAIL("package after advisory", HDR "advisory: DSA-1-1\npackage: ab base=1 fixed=2\n",
	     -EINVAL, 5, R_ORDER);
	FAIL("replaces after source", HDR "source: ab 1\nreplaces: x\n", -EINVAL, 5, R_ORDER);
	FAIL("file before source", HDR REC(TARGET) "source: ab 1\n", -EINVAL, 5, R_ORDER);

	FAIL("source upper case", HDR "source: Expat 1\n", -EINVAL, 4, R_S_NAME);
	FAIL("source one letter", HDR "source: a 1\n", -EINVAL, 4, R_S_NAME);
	FAIL("source no version", HDR "source: expat\n", -EINVAL, 4, R_S_FORM);
	FAIL("source two spaces", HDR "source: expat  1\n", -EINVAL, 4, R_S_FORM);
	FAIL("source trailing", HDR "source: expat 1 x\n", -EINVAL, 4, R_S_FORM);
	FAIL("source version letter first", HDR "source: expat a1\n", -EINVAL, 4, R_S_FORM);
	FAIL("source long version", HDR "source: expat " V128 "1\n", -EFBIG, 4, R_S_LONG);
	OK("source 128-byte version", HDR "source: expat " V128 "\n");

	FAIL("package name", HDR "package: lib_expat base=1 fixed=2\n", -EINVAL, 4, R_P_NAME);
	FAIL("package long name", HDR "package: a" V128 " base=1 fixed=2\n", -EFBIG, 4, R_P_LONG);
	FAIL("package fields swapped", HDR "package: ab fixed=2 base=1\n", -EINVAL, 4, R_P_FORM);
	FAIL("package no fixed", HDR "package: ab base=1\n", -EINVAL, 4, R_P_FORM);
	FAIL("package positional", HDR "package: ab 1 2\n", -EINVAL, 4, R_P_FORM);
	FAIL("package bad version", HDR "package: ab base=1_0 fixed=2\n", -EINVAL, 4, R_P_VER);
	FAIL("package empty version", HDR "package: ab base= fixed=2\n", -EINVAL, 4, R_P_VER);
	FAIL("package long version", HDR "package: ab base=1 fixed=" V128 "1\n", -EFBIG, 4,
	     R_P_VLONG);
	FAIL("package trailing", HDR "package: ab base=1 fixed=2 x\n", -EINVAL, 4, R_P_TRAILING);
	FAIL("package downgrade", HDR "package: ab base=1.0-2 fixed=1.0-1\n", -EINVAL, 4,
	     R_P_OLDER);
	FAIL("package same", HDR "package: ab base=1.0 fixed=1.0-0\n", -EINVAL, 4, R_P_OLDER);
	FAIL("package tilde", HDR "package: ab base=1.0 fixed=1.0~rc1\n", -EINVAL, 4, R_P_OLDER);
	FAIL("package unsorted", HDR "package: b1 base=1 fixed=2\npackage: a1 base=1 fixed=2\n",
	     -EINVAL, 5, R_P_UNSORTED);
	FAIL("package repeated", HDR "package: a1 base=1 fixed=2\npackage: a1 base=1 fixed=3\n",
	     -EINVAL, 5, R_P_UNSORTED);
	text_add(&t, HDR);
	for (int i = 0; i < 33; i++)
		text_add(&t, "package: p%02d base=1 fixed=2\n", i);
	expect_fail("33 packages", t.s, t.len, -EFBIG, 36, R_P_MANY);
	t.len = 0;
	text_add(&t, HDR);
	for (int i = 0; i < 32; i++)
		text_add(&t, "package: p%02d base=1 fixed=2\n", i);
	expect_ok("32 packages", t.s, t.len);

	FAIL("advisory empty", HDR "advisory: \n", -EINVAL, 4, R_A_NONE);
	FAIL("advisory lower case", HDR "advisory: dsa-5770-1\n", -EINVAL, 4, R_A_BAD);
	FAIL("advisory USN", HDR "advisory: USN-1234-1\n", -EINVAL, 4, R_A_BAD);
	FAIL("advisory no revision", HDR "advisory: DSA-5770\n", -EINVAL, 4, R_A_BAD);
	FAIL("advisory leading zero", HDR "advisory: DSA-05770-1\n", -EINVAL, 4, R_A_BAD);
	FAIL("CVE short", HDR "advisory: CVE-2024-123\n", -EINVAL, 4, R_A_BAD);
	FAIL("CVE year", HDR "advisory: CVE-924-1234\n", -EINVAL, 4, R_A_BAD);
	FAIL("CVE leading zero", HDR "advisory: CVE-2024-012345\n", -EINVAL, 4, R_A_BAD);
	FAIL("advisory trailing space", HDR "advisory: DSA-1-1 \n", -EINVAL, 4, R_A_BAD);
	FAIL("advisory two spaces", HDR "advisory: CVE-2024-1234  DSA-1-1\n", -EINVAL, 4, R_A_BAD);
	FAIL("advisory comma", HDR "advisory: CVE-2024-1234,DSA-1-1\n", -EINVAL, 4, R_A_BAD);
	FAIL("advisory unsorted", HDR "advisory: DSA-1-1 CVE-2024-1234\n", -EINVAL, 4, R_A_ORDER);
	FAIL("advisory repeated", HDR "advisory: DSA-1-1 DSA-1-1\n", -EINVAL, 4, R_A_ORDER);
	t.len = 0;
	text_add(&t, HDR "advisory:");
	for (int i = 0; i < 33; i++)
		text_add(&t, " CVE-2024-%04d", i + 1000);
	text_add(&t, "\n");
	expect_fail("33 advisories", t.s, t.len, -EFBIG, 4, R_A_MANY);
	free(t.s);
}

static void test_deb_syntax(void **state)
{
	static const char *const good_versions[] = {
		"0", "1.0", "2.5.0-1+deb12u5", "1:2.3", "1:2.3-4-5", "1.0~rc1", "3.0.15-1~deb12u1",
		"1.2+dfsg-3.1", "9:1", "1a", V128,
	};
	static const char *const bad_versions[] = {
		"", "a1", "1.0-", "-1", ":1", "1:", "a:1", "0123456789:1", "1.0_1", "1 0",
		"1:2:3", "1.0-1:2", "1.0-a_b", "1.0-1~x-", "1\n", V128 "1",
	};
	static const struct { const char *a, *b; int sign; } cmp[] = {
		{ "2.5.0-1+deb12u5", "2.5.0-1+deb12u2", 1 },
		{ "2.5.0-1+deb12u10", "2.5.0-1+deb12u9", 1 },
		{ "1.0~rc1", "1.0", -1 },
		{ "1.0", "1.0-0", 0 },
		{ "1:0.1", "9.9", 1 },
		{ "1.0a", "1.0", 1 },
		{ "1.0+b1", "1.0", 1 },
		{ "1.0-1", "1.0-1", 0 },
		{ "1.01", "1.1", 0 },
		{ "1.0~~", "1.0~", -1 },
		{ "1.a", "1.+", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good_versions) / sizeof(good_versions[0]); i++)
		if (!pl_deb_version_valid(good_versions[i], strlen(good_versions[i])))
			fail_msg("'%s' refused", good_versions[i]);
	for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++)
		if (pl_deb_version_valid(bad_versions[i], strlen(bad_versions[i])))
			fail_msg("'%s' accepted", bad_versions[i]);
	for (size_t i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++) {
		int r = pl_deb_version_cmp(cmp[i].a, strlen(cmp[i].a), cmp[i].b, strlen(cmp[i].b));
		int r2 = pl_deb_version_cmp(cmp[i].b, strlen(cmp[i].b), cmp[i].a, strlen(cmp[i].a));

		if ((r > 0) - (r < 0) != cmp[i].sign || (r2 > 0) - (r2 < 0) != -cmp[i].sign)
			fail_msg("%s vs %s: %d, %d; want sign %d", cmp[i].a, cmp[i].b, r, r2,
				 cmp[i].sign);
	}
	assert_true(pl_deb_name_valid("libexpat1", 9));
	assert_true(pl_deb_name_valid("g++", 3));
	assert_true(pl_deb_name_valid("0ad", 3));
	assert_false(pl_deb_name_valid("a", 1));
	assert_false(pl_deb_name_valid("-ab", 3));
	assert_false(pl_deb_name_valid("+ab", 3));
	assert_false(pl_deb_name_valid("Ab", 2));
	assert_false(pl_deb_name_valid("a_b", 3));
	assert_true(pl_advisory_valid("DSA-5770-1", 10));
	assert_true(pl_advisory_valid("DLA-3960-12", 11));
	assert_true(pl_advisory_valid("CVE-2014-0160", 13));
	assert_true(pl_advisory_valid("CVE-2024-1234567", 16));
	assert_false(pl_advisory_valid("CVE-2024-12345678", 17));
	assert_false(pl_advisory_valid("DSA-5770-1000", 13));
	assert_false(pl_advisory_valid("DSA-1234567-1", 13));
	assert_false(pl_advisory_valid("CVE-2024-", 9));
	assert_false(pl_advisory_valid("DSA--1", 6));
}

static void test_every_reason_hit(void **state)
{
	int missing = 0;

	(void)state;
	for (size_t i = 0; i < N_REASONS; i++) {
		int unreachable = 0;

		for (size_t k = 0; k < sizeof(reasons_unreachable) / sizeof(reasons_unreachable[0]); k++)
			if (strcmp(reasons[i], reasons_unreachable[k]) == 0)
				unreachable = 1;
		if (!reason_hits[i] && !unreachable) {
			print_error("reason never hit: \"%s\"\n", reasons[i]);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_manifest),
		cmocka_unit_test(test_security_test_layer),
		cmocka_unit_test(test_replaces_absent),
		cmocka_unit_test(test_valid_edges),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_second_pass_overflow),
		cmocka_unit_test(test_text_errors),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_name_errors),
		cmocka_unit_test(test_version_errors),
		cmocka_unit_test(test_target_errors),
		cmocka_unit_test(test_record_order_errors),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_size_errors),
		cmocka_unit_test(test_size_overflow_25_digits),
		cmocka_unit_test(test_size_junk_after_digits),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_target_valid),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_provenance),
		cmocka_unit_test(test_provenance_errors),
		cmocka_unit_test(test_deb_syntax),
		cmocka_unit_test(test_every_reason_hit),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
