// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Strict parser of layer manifests (docs/layer-format.md). Everything it
 * reads is hostile: every length is bounded before use, nothing is
 * allocated, and the first fault stops the parse with a reason.
 *
 * Canonical form only: fixed key order, single separators, file records
 * sorted by target. Sorting makes duplicate targets detectable in one pass
 * and gives every set of records exactly one signable text.
 */
#include "manifest.h"

static const char *const pl_library_roots[] = {
	"/lib/", "/lib32/", "/lib64/", "/libx32/",
	"/usr/lib/", "/usr/lib32/", "/usr/lib64/", "/usr/libx32/",
	"/usr/local/lib/",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int pl_bytes_equal(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static size_t pl_cstr_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int pl_has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t plen = pl_cstr_len(prefix);

	return len >= plen && pl_bytes_equal(s, prefix, plen);
}

/* <0, 0, >0 as memcmp, shorter first on a common prefix */
static int pl_str_cmp(struct pl_str a, struct pl_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;

	for (size_t i = 0; i < n; i++) {
		if (a.s[i] != b.s[i])
			return (unsigned char)a.s[i] < (unsigned char)b.s[i] ? -1 : 1;
	}
	if (a.len == b.len)
		return 0;
	return a.len < b.len ? -1 : 1;
}

int pl_name_valid(const char *s, size_t len)
{
	static const char state[] = ".state";

	if (len == 0 || len > PL_NAME_MAX)
		return 0;
	/*
	 * One rule for the kernel, "patchlayer build" and the daemon's store,
	 * where a layer is the directory NAME beside the file NAME.state and
	 * dot names are the store's own: so a letter or digit first (never
	 * "." or "..", nor an option's "-"), and no ".state" at the end.
	 */
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return 0;
	if (len >= sizeof(state) - 1 &&
	    pl_bytes_equal(s + len - (sizeof(state) - 1), state, sizeof(state) - 1))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int pl_target_valid(const char *path, size_t len)
{
	size_t i, start, clen;
	int under_root = 0;

	if (len < 2 || len > PL_TARGET_MAX || path[0] != '/' || path[len - 1] == '/')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return 0;
	}
	/* every component: non-empty, not "." or "..", at most 255 bytes */
	for (start = 1; start <= len; start = i + 1) {
		for (i = start; i < len && path[i] != '/'; i++)
			;
		clen = i - start;
		if (clen == 0 || clen > PL_COMPONENT_MAX)
			return 0;
		if ((clen == 1 && path[start] == '.') ||
		    (clen == 2 && path[start] == '.' && path[start + 1] == '.'))
			return 0;
	}
	for (i = 0; i < ARRAY_LEN(pl_library_roots); i++) {
		const char *root = pl_library_roots[i];

		/* a file below the root, not the root itself */
		if (pl_has_prefix(path, len, root) && len > pl_cstr_len(root))
			under_root = 1;
	}
	return under_root;
}

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF), no controls. */
static int pl_utf8_text_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned int c = p[i], cp, need, min;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (len - i <= need)
			return 0;
		for (unsigned int k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		/* C1 controls */
		if (cp >= 0x80 && cp <= 0x9f)
			return 0;
		i += need + 1;
	}
	return 1;
}

static int pl_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int pl_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int pl_deb_name_valid(const char *s, size_t len)
{
	if (len < 2 || len > PL_DEB_NAME_MAX)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || pl_is_digit(s[0])))
		return 0;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || pl_is_digit(c) || c == '+' || c == '.' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int pl_deb_version_valid(const char *s, size_t len)
{
	size_t i, up = 0, rev = len;	/* upstream starts at up, revision at rev + 1 */

	if (len == 0 || len > PL_DEB_VERSION_MAX)
		return 0;
	for (i = 0; i < len && pl_is_digit(s[i]); i++)
		;
	if (i < len && s[i] == ':') {
		if (i == 0 || i > 9)
			return 0;
		up = i + 1;
	}
	for (i = up; i < len; i++)
		if (s[i] == '-')
			rev = i;
	if (up >= rev || !pl_is_digit(s[up]))
		return 0;
	for (i = up; i < len; i++) {
		char c = s[i];

		if (pl_is_digit(c) || pl_is_alpha(c) || c == '.' || c == '+' || c == '~')
			continue;
		if (c == '-' && i < rev)
			continue;	/* the upstream's own hyphens */
		if (c == '-' && i == rev && i + 1 < len)
			continue;
		return 0;
	}
	return 1;
}

/* dpkg's order of a character in a version's non-digit part */
static int pl_deb_order(int c)
{
	if (pl_is_digit((char)c))
		return 0;
	if (pl_is_alpha((char)c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* dpkg's verrevcmp() on counted strings */
static int pl_deb_part_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	while (i < alen || j < blen) {
		int first_diff = 0;

		while ((i < alen && !pl_is_digit(a[i])) || (j < blen && !pl_is_digit(b[j]))) {
			int ac = pl_deb_order(i < alen ? (unsigned char)a[i] : 0);
			int bc = pl_deb_order(j < blen ? (unsigned char)b[j] : 0);

			if (ac != bc)
				return ac - bc;
			i++;
			j++;
		}
		while (i < alen && a[i] == '0')
			i++;
		while (j < blen && b[j] == '0')
			j++;
		while (i < alen && pl_is_digit(a[i]) && j < blen && pl_is_digit(b[j])) {
			if (!first_diff)
				first_diff = a[i] - b[j];
			i++;
			j++;
		}
		if (i < alen && pl_is_digit(a[i]))
			return 1;
		if (j < blen && pl_is_digit(b[j]))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

struct pl_deb_version {
	u64 epoch;
	struct pl_str upstream, revision;
};

static void pl_deb_version_split(const char *s, size_t len, struct pl_deb_version *v)
{
	size_t i, up = 0, rev = len;

	v->epoch = 0;
	for (i = 0; i < len && pl_is_digit(s[i]); i++)
		v->epoch = v->epoch * 10 + (u64)(s[i] - '0');	/* at most 9 digits */
	if (i < len && s[i] == ':')
		up = i + 1;
	else
		v->epoch = 0;
	for (i = up; i < len; i++)
		if (s[i] == '-')
			rev = i;
	v->upstream.s = s + up;
	v->upstream.len = rev - up;
	v->revision.s = rev < len ? s + rev + 1 : s + len;
	v->revision.len = rev < len ? len - rev - 1 : 0;
}

int pl_deb_version_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct pl_deb_version va, vb;
	int r;

	pl_deb_version_split(a, alen, &va);
	pl_deb_version_split(b, blen, &vb);
	if (va.epoch != vb.epoch)
		return va.epoch < vb.epoch ? -1 : 1;
	r = pl_deb_part_cmp(va.upstream.s, va.upstream.len, vb.upstream.s, vb.upstream.len);
	if (r)
		return r;
	return pl_deb_part_cmp(va.revision.s, va.revision.len, vb.revision.s, vb.revision.len);
}

/* 1 to MAX decimal digits, no leading zero unless ZEROS; at S, LEN bytes */
static int pl_digits(const char *s, size_t len, size_t min, size_t max, int zeros)
{
	if (len < min || len > max || (!zeros && s[0] == '0'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!pl_is_digit(s[i]))
			return 0;
	return 1;
}

int pl_advisory_valid(const char *s, size_t len)
{
	size_t dash;

	if (len < 7 || len > PL_ADVISORY_MAX || s[3] != '-')
		return 0;
	for (dash = 4; dash < len && s[dash] != '-'; dash++)
		;
	if (dash >= len)
		return 0;
	if (pl_bytes_equal(s, "CVE", 3))
		/* CVE-YYYY-NNNN: four digits, or more without a leading zero */
		return pl_digits(s + 4, dash - 4, 4, 4, 1) && (s[4] == '1' || s[4] == '2') &&
		       (pl_digits(s + dash + 1, len - dash - 1, 4, 4, 1) ||
			pl_digits(s + dash + 1, len - dash - 1, 5, 7, 0));
	if (pl_bytes_equal(s, "DSA", 3) || pl_bytes_equal(s, "DLA", 3))
		/* DSA-5791-1: the advisory, then its revision */
		return pl_digits(s + 4, dash - 4, 1, 6, 0) &&
		       pl_digits(s + dash + 1, len - dash - 1, 1, 3, 0);
	return 0;
}

static int pl_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* upper case is not canonical */
}

static int pl_parse_sha256(const char *s, size_t len, u8 out[PL_SHA256_SIZE])
{
	if (len != 2 * PL_SHA256_SIZE)
		return 0;
	for (size_t i = 0; i < PL_SHA256_SIZE; i++) {
		int hi = pl_hex_digit(s[2 * i]), lo = pl_hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return 0;
		out[i] = (u8)(hi << 4 | lo);
	}
	return 1;
}

/*
 * Decimal without sign or leading zeros: -EINVAL unless all digits, then
 * -EFBIG past PL_FILE_MAX_SIZE, however many digits.
 */
static int pl_parse_size(const char *s, size_t len, u64 *out)
{
	u64 v = 0;
	size_t i;

	if (len == 0 || s[0] == '0')
		return -EINVAL;		/* "0" too: a library is never empty */
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	for (i = 0; i < len; i++) {
		v = v * 10 + (u64)(s[i] - '0');
		if (v > PL_FILE_MAX_SIZE)
			return -EFBIG;	/* stops long before u64 overflows */
	}
	*out = v;
	return 0;
}

void pl_sha256_hex(const u8 digest[PL_SHA256_SIZE], char out[2 * PL_SHA256_SIZE + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < PL_SHA256_SIZE; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[2 * PL_SHA256_SIZE] = '\0';
}

/* Consumes "<field>" up to the next space or the end; returns its length. */
static size_t pl_field(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] != ' ')
		i++;
	return i;
}

struct pl_parser {
	struct pl_manifest_error *err;
	unsigned int line;
};

static int pl_fail(struct pl_parser *p, int errno_val, const char *reason)
{
	if (p->err) {
		p->err->line = p->line;
		p->err->reason = reason;
	}
	return errno_val;
}

/* "/path sha256=<hex> size=<dec> base=<hex>" */
static int pl_parse_file(struct pl_parser *p, const char *s, size_t len,
			 struct pl_manifest_file *f)
{
	static const char *const keys[] = { "sha256=", "size=", "base=" };
	struct pl_str fields[3];
	size_t n, pos;
	int ret;

	n = pl_field(s, len);
	f->target.s = s;
	f->target.len = n;
	if (n > PL_TARGET_MAX)
		return pl_fail(p, -EFBIG, "target path too long");
	if (n == 0 || s[0] != '/')
		return pl_fail(p, -EINVAL, "target is not an absolute path");
	if (!pl_target_valid(s, n))
		return pl_fail(p, -EINVAL,
			       "target is not a canonical path below a library directory");
	pos = n;
	for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
		size_t klen = pl_cstr_len(keys[k]);

		if (pos >= len || s[pos] != ' ')
			return pl_fail(p, -EINVAL, "file record: missing field");
		pos++;
		if (!pl_has_prefix(s + pos, len - pos, keys[k]))
			return pl_fail(p, -EINVAL,
				       "file record: expected sha256=, size=, base= in this order");
		pos += klen;
		n = pl_field(s + pos, len - pos);
		fields[k].s = s + pos;
		fields[k].len = n;
		pos += n;
	}
	if (pos != len)
		return pl_fail(p, -EINVAL, "file record: trailing data");
	if (!pl_parse_sha256(fields[0].s, fields[0].len, f->sha256))
		return pl_fail(p, -EINVAL, "file record: sha256 is not 64 lower-case hex digits");
	ret = pl_parse_size(fields[1].s, fields[1].len, &f->size);
	if (ret == -EFBIG)
		return pl_fail(p, ret, "file record: size larger than 1 GiB");
	if (ret)
		return pl_fail(p, ret, "file record: size is not a positive decimal number");
	if (!pl_parse_sha256(fields[2].s, fields[2].len, f->base_sha256))
		return pl_fail(p, -EINVAL, "file record: base is not 64 lower-case hex digits");
	return 0;
}

/* "<srcpkg> <version>" */
static int pl_parse_source(struct pl_parser *p, const char *s, size_t len,
			   struct pl_manifest *m)
{
	size_t n = pl_field(s, len);

	if (n > PL_DEB_NAME_MAX || (n < len && len - n - 1 > PL_DEB_VERSION_MAX))
		return pl_fail(p, -EFBIG, "source: name or version longer than 128 bytes");
	if (!pl_deb_name_valid(s, n))
		return pl_fail(p, -EINVAL, "source: not a Debian package name");
	if (n >= len || !pl_deb_version_valid(s + n + 1, len - n - 1))
		return pl_fail(p, -EINVAL, "source: expected '<package> <Debian version>'");
	m->source.s = s;
	m->source.len = n;
	m->source_version.s = s + n + 1;
	m->source_version.len = len - n - 1;
	return 0;
}

/*
 * "<binpkg> base=<version> fixed=<version>", or with OUT NULL only
 * validated. The caller has bounded the line.
 */
static int pl_parse_package(struct pl_parser *p, const char *s, size_t len,
			    struct pl_manifest_package *out)
{
	static const char *const keys[] = { "base=", "fixed=" };
	struct pl_str v[2];
	size_t n = pl_field(s, len), pos;

	if (n > PL_DEB_NAME_MAX)
		return pl_fail(p, -EFBIG, "package: name longer than 128 bytes");
	if (!pl_deb_name_valid(s, n))
		return pl_fail(p, -EINVAL, "package: not a Debian package name");
	out->name.s = s;
	out->name.len = n;
	pos = n;
	for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
		if (pos >= len || s[pos] != ' ' ||
		    !pl_has_prefix(s + pos + 1, len - pos - 1, keys[k]))
			return pl_fail(p, -EINVAL,
				       "package: expected '<package> base=<version> fixed=<version>'");
		pos += 1 + pl_cstr_len(keys[k]);
		n = pl_field(s + pos, len - pos);
		if (n > PL_DEB_VERSION_MAX)
			return pl_fail(p, -EFBIG, "package: version longer than 128 bytes");
		if (!pl_deb_version_valid(s + pos, n))
			return pl_fail(p, -EINVAL, "package: not a Debian version");
		v[k].s = s + pos;
		v[k].len = n;
		pos += n;
	}
	if (pos != len)
		return pl_fail(p, -EINVAL, "package: trailing data");
	/* a layer holds a fix: what it replaces is older (a downgrade is no fix) */
	if (pl_deb_version_cmp(v[1].s, v[1].len, v[0].s, v[0].len) <= 0)
		return pl_fail(p, -EINVAL, "package: fixed version not newer than base");
	out->base = v[0];
	out->fixed = v[1];
	return 0;
}

/* "<id> <id>...": advisory ids in ascending byte order, no duplicates */
static int pl_parse_advisories(struct pl_parser *p, const char *s, size_t len,
			       struct pl_manifest *m)
{
	struct pl_str prev = { NULL, 0 }, cur;
	size_t pos = 0, n_ids = 0;

	if (len == 0)
		return pl_fail(p, -EINVAL, "advisory: no id");
	while (pos <= len) {
		cur.s = s + pos;
		cur.len = pl_field(s + pos, len - pos);
		if (n_ids >= PL_MANIFEST_MAX_ADVISORIES)
			return pl_fail(p, -EFBIG, "advisory: more than 32 ids");
		if (!pl_advisory_valid(cur.s, cur.len))
			return pl_fail(p, -EINVAL,
				       "advisory: ids are DSA-<n>-<r>, DLA-<n>-<r> or CVE-<year>-<n>, one space apart");
		if (n_ids && pl_str_cmp(prev, cur) >= 0)
			return pl_fail(p, -EINVAL, "advisory: ids not in ascending order, or repeated");
		prev = cur;
		n_ids++;
		pos += cur.len + 1;
	}
	m->advisories.s = s;
	m->advisories.len = len;
	m->n_advisories = n_ids;
	return 0;
}

enum pl_key {
	PL_KEY_FORMAT, PL_KEY_NAME, PL_KEY_VERSION, PL_KEY_REPLACES,
	PL_KEY_SOURCE, PL_KEY_PACKAGE, PL_KEY_ADVISORY, PL_KEY_FILE
};

static const char *const pl_keys[] = {
	[PL_KEY_FORMAT] = "format: ",
	[PL_KEY_NAME] = "name: ",
	[PL_KEY_VERSION] = "version: ",
	[PL_KEY_REPLACES] = "replaces: ",
	[PL_KEY_SOURCE] = "source: ",
	[PL_KEY_PACKAGE] = "package: ",
	[PL_KEY_ADVISORY] = "advisory: ",
	[PL_KEY_FILE] = "file: ",
};

int pl_manifest_package(const struct pl_manifest *m, size_t i,
			struct pl_manifest_package *out)
{
	struct pl_parser p = { .err = NULL, .line = 0 };
	const char *s = m->packages.s;
	size_t len = m->packages.len, pos = 0, plen = pl_cstr_len(pl_keys[PL_KEY_PACKAGE]);

	if (i >= m->n_packages)
		return -EINVAL;
	/* the span holds n_packages validated lines, '\n' between them */
	for (size_t k = 0; pos < len; k++) {
		size_t llen = 0;

		while (pos + llen < len && s[pos + llen] != '\n')
			llen++;
		if (k == i)
			return pl_parse_package(&p, s + pos + plen, llen - plen, out);
		pos += llen + 1;
	}
	return -EINVAL;
}

int pl_manifest_advisory(const struct pl_manifest *m, size_t i, struct pl_str *out)
{
	size_t pos = 0;

	if (i >= m->n_advisories)
		return -EINVAL;
	for (size_t k = 0; pos < m->advisories.len; k++) {
		size_t n = pl_field(m->advisories.s + pos, m->advisories.len - pos);

		if (k == i) {
			out->s = m->advisories.s + pos;
			out->len = n;
			return 0;
		}
		pos += n + 1;
	}
	return -EINVAL;
}

int pl_manifest_parse(const char *buf, size_t len, struct pl_manifest *m,
		      struct pl_manifest_file *files, size_t max_files,
		      struct pl_manifest_error *err)
{
	struct pl_parser p = { .err = err, .line = 0 };
	struct pl_manifest_file cur;
	struct pl_manifest_package pkg;
	struct pl_str prev_target = { NULL, 0 }, prev_package = { NULL, 0 };
	int next = PL_KEY_FORMAT;	/* the earliest key allowed next */
	size_t pos = 0;
	int ret;

	m->name.s = m->version.s = m->replaces.s = NULL;
	m->name.len = m->version.len = m->replaces.len = 0;
	m->source.s = m->source_version.s = m->packages.s = m->advisories.s = NULL;
	m->source.len = m->source_version.len = m->packages.len = m->advisories.len = 0;
	m->n_packages = m->n_advisories = 0;
	m->n_files = 0;
	if (err) {
		err->line = 0;
		err->reason = NULL;
	}
	if (len > PL_MANIFEST_MAX_SIZE)
		return pl_fail(&p, -EFBIG, "manifest larger than 64 KiB");
	if (len == 0)
		return pl_fail(&p, -EINVAL, "empty manifest");
	if (buf[len - 1] != '\n')
		return pl_fail(&p, -EINVAL, "manifest does not end with a newline");

	while (pos < len) {
		const char *line = buf + pos;
		size_t llen = 0, vlen;
		const char *val;
		int key = -1;

		p.line++;
		while (line[llen] != '\n')	/* the buffer ends with '\n' */
			llen++;
		pos += llen + 1;
		for (size_t i = 0; i < llen; i++) {
			if (line[i] == '\0')
				return pl_fail(&p, -EINVAL, "NUL byte");
			if (line[i] == '\r')
				return pl_fail(&p, -EINVAL, "carriage return (lines end with LF only)");
		}
		for (int k = PL_KEY_FORMAT; k <= PL_KEY_FILE; k++) {
			if (pl_has_prefix(line, llen, pl_keys[k])) {
				key = k;
				break;
			}
		}
		if (key < 0)
			return pl_fail(&p, -EINVAL, llen ? "unknown key or missing ': '" : "empty line");
		if (next == PL_KEY_FORMAT && key != PL_KEY_FORMAT)
			return pl_fail(&p, -EINVAL, "the first line must be 'format: patchlayer/1'");
		if (key < next)
			return pl_fail(&p, -EINVAL,
				       "key out of order or repeated (format, name, version, replaces, source, package, advisory, file)");
		val = line + pl_cstr_len(pl_keys[key]);
		vlen = llen - pl_cstr_len(pl_keys[key]);

		switch (key) {
		case PL_KEY_FORMAT:
			if (vlen != pl_cstr_len(PL_MANIFEST_FORMAT) ||
			    !pl_bytes_equal(val, PL_MANIFEST_FORMAT, vlen))
				return pl_fail(&p, -EINVAL, "unsupported format (expected patchlayer/1)");
			next = PL_KEY_NAME;
			break;
		case PL_KEY_NAME:
			if (vlen > PL_NAME_MAX)
				return pl_fail(&p, -EFBIG, "name longer than 64 bytes");
			if (!pl_name_valid(val, vlen))
				return pl_fail(&p, -EINVAL, "name must be " PL_NAME_RULE);
			m->name.s = val;
			m->name.len = vlen;
			next = PL_KEY_VERSION;
			break;
		case PL_KEY_VERSION:
			if (m->name.s == NULL)
				return pl_fail(&p, -EINVAL, "version before name");
			if (vlen > PL_VERSION_MAX)
				return pl_fail(&p, -EFBIG, "version longer than 64 bytes");
			if (vlen == 0 || !pl_utf8_text_valid(val, vlen))
				return pl_fail(&p, -EINVAL, "version must be 1-64 bytes of printable UTF-8");
			/* one text per version: no padding to tell apart */
			if (val[0] == ' ' || val[vlen - 1] == ' ')
				return pl_fail(&p, -EINVAL, "version starts or ends with a space");
			m->version.s = val;
			m->version.len = vlen;
			next = PL_KEY_REPLACES;
			break;
		case PL_KEY_REPLACES:
			if (m->version.s == NULL)
				return pl_fail(&p, -EINVAL, "replaces before name and version");
			if (vlen > PL_NAME_MAX)
				return pl_fail(&p, -EFBIG, "replaces longer than 64 bytes");
			if (!pl_name_valid(val, vlen))
				return pl_fail(&p, -EINVAL, "replaces must be a layer name");
			if (vlen == m->name.len && pl_bytes_equal(val, m->name.s, vlen))
				return pl_fail(&p, -EINVAL, "a layer cannot replace itself");
			m->replaces.s = val;
			m->replaces.len = vlen;
			next = PL_KEY_SOURCE;
			break;
		case PL_KEY_SOURCE:
			if (m->version.s == NULL)
				return pl_fail(&p, -EINVAL, "source before name and version");
			ret = pl_parse_source(&p, val, vlen, m);
			if (ret)
				return ret;
			next = PL_KEY_PACKAGE;
			break;
		case PL_KEY_PACKAGE:
			if (m->version.s == NULL)
				return pl_fail(&p, -EINVAL, "package before name and version");
			ret = pl_parse_package(&p, val, vlen, &pkg);
			if (ret)
				return ret;
			if (m->n_packages >= PL_MANIFEST_MAX_PACKAGES)
				return pl_fail(&p, -EFBIG, "more than 32 package lines");
			if (m->n_packages > 0 && pl_str_cmp(prev_package, pkg.name) >= 0)
				return pl_fail(&p, -EINVAL,
					       "package lines not sorted by package, or one repeated");
			if (!m->n_packages)
				m->packages.s = line;
			m->packages.len = (size_t)(line + llen - m->packages.s);
			prev_package = pkg.name;
			m->n_packages++;
			next = PL_KEY_PACKAGE;
			break;
		case PL_KEY_ADVISORY:
			if (m->version.s == NULL)
				return pl_fail(&p, -EINVAL, "advisory before name and version");
			ret = pl_parse_advisories(&p, val, vlen, m);
			if (ret)
				return ret;
			next = PL_KEY_FILE;
			break;
		case PL_KEY_FILE:
			if (m->version.s == NULL)
				return pl_fail(&p, -EINVAL, "file record before name and version");
			ret = pl_parse_file(&p, val, vlen, &cur);
			if (ret)
				return ret;
			if (m->n_files > 0) {
				int cmp = pl_str_cmp(prev_target, cur.target);

				if (cmp == 0)
					return pl_fail(&p, -EINVAL, "duplicate target");
				if (cmp > 0)
					return pl_fail(&p, -EINVAL, "file records not sorted by target");
			}
			if (m->n_files >= PL_MANIFEST_MAX_FILES)
				return pl_fail(&p, -EFBIG, "more than 512 file records");
			if (files) {
				if (m->n_files >= max_files)
					return pl_fail(&p, -EINVAL, "more file records than the first parse found");
				files[m->n_files] = cur;
			}
			prev_target = cur.target;
			m->n_files++;
			next = PL_KEY_FILE;
			break;
		}
	}
	p.line = 0;
	if (!m->name.s)
		return pl_fail(&p, -EINVAL, "missing name");
	if (!m->version.s)
		return pl_fail(&p, -EINVAL, "missing version");
	return 0;
}
