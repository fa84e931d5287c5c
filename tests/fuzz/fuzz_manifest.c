// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzes the layer manifest parser (lib/manifest.c) through its two-pass
 * API. Beyond memory safety it checks what callers rely on: a manifest
 * accepted once is accepted again with the same records, every string
 * points into the input, and an accepted input is byte for byte the
 * canonical text of what was parsed (one text per meaning, so a signature
 * covers one meaning only).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/manifest.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_manifest: check failed: %s (line %d)\n", #cond, __LINE__); \
	abort(); } } while (0)

static const char *in_start;
static size_t in_len;

static int str_inside(struct pl_str s)
{
	uintptr_t b = (uintptr_t)in_start, p = (uintptr_t)s.s;

	if (s.s == NULL)
		return s.len == 0;
	return p >= b && s.len <= in_len && p - b <= in_len - s.len;
}

static int str_eq(struct pl_str a, struct pl_str b)
{
	return a.len == b.len && a.s == b.s;
}

/* The canonical text is rebuilt piece by piece and compared as it goes. */
static size_t at;

static void want(const char *s, size_t n)
{
	CHECK(n <= in_len - at);
	CHECK(memcmp(in_start + at, s, n) == 0);
	at += n;
}

static void want_cstr(const char *s)
{
	want(s, strlen(s));
}

static void want_canonical(const struct pl_manifest *m,
			   const struct pl_manifest_file *files)
{
	char hex[2 * PL_SHA256_SIZE + 1], dec[24];

	at = 0;
	want_cstr("format: " PL_MANIFEST_FORMAT "\nname: ");
	want(m->name.s, m->name.len);
	want_cstr("\nversion: ");
	want(m->version.s, m->version.len);
	want_cstr("\n");
	if (m->replaces.len) {
		want_cstr("replaces: ");
		want(m->replaces.s, m->replaces.len);
		want_cstr("\n");
	}
	if (m->source.len) {
		CHECK(pl_deb_name_valid(m->source.s, m->source.len));
		CHECK(pl_deb_version_valid(m->source_version.s, m->source_version.len));
		want_cstr("source: ");
		want(m->source.s, m->source.len);
		want_cstr(" ");
		want(m->source_version.s, m->source_version.len);
		want_cstr("\n");
	}
	CHECK(m->n_packages <= PL_MANIFEST_MAX_PACKAGES);
	for (size_t i = 0; i < m->n_packages; i++) {
		struct pl_manifest_package pk, prev;

		CHECK(pl_manifest_package(m, i, &pk) == 0);
		CHECK(str_inside(pk.name) && str_inside(pk.base) && str_inside(pk.fixed));
		CHECK(pl_deb_name_valid(pk.name.s, pk.name.len));
		/* a fix is newer than its base */
		CHECK(pl_deb_version_cmp(pk.fixed.s, pk.fixed.len, pk.base.s, pk.base.len) > 0);
		CHECK(pl_deb_version_cmp(pk.base.s, pk.base.len, pk.fixed.s, pk.fixed.len) < 0);
		if (i) {
			CHECK(pl_manifest_package(m, i - 1, &prev) == 0);
			CHECK(prev.name.len != pk.name.len ||
			      memcmp(prev.name.s, pk.name.s, pk.name.len) != 0);
		}
		want_cstr("package: ");
		want(pk.name.s, pk.name.len);
		want_cstr(" base=");
		want(pk.base.s, pk.base.len);
		want_cstr(" fixed=");
		want(pk.fixed.s, pk.fixed.len);
		want_cstr("\n");
	}
	CHECK(pl_manifest_package(m, m->n_packages, &(struct pl_manifest_package){ 0 }) == -EINVAL);
	CHECK(m->n_advisories <= PL_MANIFEST_MAX_ADVISORIES);
	for (size_t i = 0; i < m->n_advisories; i++) {
		struct pl_str id;

		CHECK(pl_manifest_advisory(m, i, &id) == 0);
		CHECK(str_inside(id) && pl_advisory_valid(id.s, id.len));
		want_cstr(i ? " " : "advisory: ");
		want(id.s, id.len);
		if (i + 1 == m->n_advisories)
			want_cstr("\n");
	}
	for (size_t i = 0; i < m->n_files; i++) {
		want_cstr("file: ");
		want(files[i].target.s, files[i].target.len);
		pl_sha256_hex(files[i].sha256, hex);
		want_cstr(" sha256=");
		want_cstr(hex);
		snprintf(dec, sizeof(dec), "%llu", (unsigned long long)files[i].size);
		want_cstr(" size=");
		want_cstr(dec);
		pl_sha256_hex(files[i].base_sha256, hex);
		want_cstr(" base=");
		want_cstr(hex);
		want_cstr("\n");
	}
	CHECK(at == in_len);
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct pl_manifest m, m2;
	struct pl_manifest_error err, err2;
	struct pl_manifest_file *files;
	int ret;

	in_start = buf;
	in_len = size;

	ret = pl_manifest_parse(buf, size, &m, NULL, 0, &err);
	CHECK(ret == 0 || ret == -EINVAL || ret == -EFBIG);
	CHECK(str_inside(m.name) && str_inside(m.version) && str_inside(m.replaces));
	/* the error struct is optional and changes nothing */
	CHECK(pl_manifest_parse(buf, size, &m2, NULL, 0, NULL) == ret);
	if (ret) {
		CHECK(err.reason != NULL);
		/* a line that exists, or 0 for the whole manifest */
		CHECK(err.line <= count_lines(buf, size) + 1);
		return 0;
	}
	CHECK(err.reason == NULL && err.line == 0);

	CHECK(pl_name_valid(m.name.s, m.name.len));
	CHECK(m.version.len >= 1 && m.version.len <= PL_VERSION_MAX);
	if (m.replaces.len) {
		CHECK(pl_name_valid(m.replaces.s, m.replaces.len));
		CHECK(m.replaces.len != m.name.len ||
		      memcmp(m.replaces.s, m.name.s, m.name.len) != 0);
	}
	CHECK(m.n_files <= PL_MANIFEST_MAX_FILES);

	/* exactly n_files records, so ASan sees any write past them */
	files = malloc(m.n_files * sizeof(*files));
	CHECK(files != NULL || m.n_files == 0);
	ret = pl_manifest_parse(buf, size, &m2, files, m.n_files, &err2);
	CHECK(ret == 0);
	CHECK(m2.n_files == m.n_files);
	CHECK(str_eq(m2.name, m.name) && str_eq(m2.version, m.version) &&
	      str_eq(m2.replaces, m.replaces));

	for (size_t i = 0; i < m.n_files; i++) {
		struct pl_str t = files[i].target;

		CHECK(str_inside(t));
		CHECK(pl_target_valid(t.s, t.len));
		CHECK(files[i].size >= 1 && files[i].size <= PL_FILE_MAX_SIZE);
		if (i > 0) {
			struct pl_str p = files[i - 1].target;
			size_t n = p.len < t.len ? p.len : t.len;
			int c = memcmp(p.s, t.s, n);

			CHECK(c < 0 || (c == 0 && p.len < t.len));
		}
	}
	want_canonical(&m, files);

	/* an array one record short must be refused, not overrun */
	if (m.n_files > 0) {
		ret = pl_manifest_parse(buf, size, &m2, files, m.n_files - 1, &err2);
		CHECK(ret == -EINVAL && err2.reason != NULL);
	}
	free(files);
	return 0;
}
