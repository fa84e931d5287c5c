/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The layer manifest parser, shared by patchlayer.ko and the patchlayer
 * command. Plain C: no libc, no kernel API, no allocation. The format is
 * specified in docs/layer-format.md.
 */
#ifndef PL_MANIFEST_H
#define PL_MANIFEST_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint64_t u64;
#endif

#define PL_MANIFEST_MAX_SIZE	(64 * 1024)	/* bytes, larger is EFBIG */
#define PL_MANIFEST_MAX_FILES	512
#define PL_NAME_MAX		64
#define PL_VERSION_MAX		64		/* bytes of UTF-8 */
#define PL_TARGET_MAX		1024		/* bytes of a target path */
#define PL_COMPONENT_MAX	255
#define PL_FILE_MAX_SIZE	(1ULL << 30)	/* a replacement, larger is EFBIG */
#define PL_SHA256_SIZE		32

#define PL_MANIFEST_FORMAT	"patchlayer/1"

/* Provenance (docs/layer-format.md, "Provenance"): optional, bounded. */
#define PL_DEB_NAME_MAX		128	/* a Debian package name */
#define PL_DEB_VERSION_MAX	128	/* a Debian version */
#define PL_MANIFEST_MAX_PACKAGES 32
#define PL_MANIFEST_MAX_ADVISORIES 32
#define PL_ADVISORY_MAX		24	/* "CVE-2024-1234567" and the like */

/* A string inside the manifest buffer; not NUL-terminated. */
struct pl_str {
	const char *s;
	size_t len;
};

struct pl_manifest_file {
	struct pl_str target;		/* absolute path of the base file */
	u8 sha256[PL_SHA256_SIZE];	/* of the replacement */
	u64 size;			/* of the replacement */
	u8 base_sha256[PL_SHA256_SIZE];	/* of the base it was built against */
};

/* A "package:" line: a binary package, the version fixed and its base. */
struct pl_manifest_package {
	struct pl_str name;
	struct pl_str base;		/* the exact version the layer applies to */
	struct pl_str fixed;		/* the version whose files the layer holds */
};

struct pl_manifest {
	struct pl_str name;
	struct pl_str version;
	struct pl_str replaces;		/* len 0 when absent */
	struct pl_str source;		/* source package, len 0 when absent */
	struct pl_str source_version;
	/*
	 * The "package:" lines, validated, as one span of the buffer (kept
	 * small for the kernel's stack): read them with pl_manifest_package().
	 */
	struct pl_str packages;
	size_t n_packages;
	struct pl_str advisories;	/* the ids, one space apart; len 0 when absent */
	size_t n_advisories;
	size_t n_files;
};

struct pl_manifest_error {
	unsigned int line;	/* 1-based, 0 when not about a line */
	const char *reason;	/* static string */
};

/*
 * Parses and validates LEN bytes at BUF. File records are stored in FILES
 * when it is not NULL (it must hold MAX_FILES); call once with FILES NULL
 * to learn n_files, then again to fill an array of that size.
 * Returns 0, -EINVAL (malformed) or -EFBIG (a size limit); ERR, if not NULL,
 * then says where and why.
 */
int pl_manifest_parse(const char *buf, size_t len, struct pl_manifest *m,
		      struct pl_manifest_file *files, size_t max_files,
		      struct pl_manifest_error *err);

/*
 * Whether S is a valid layer name: 1-64 of [A-Za-z0-9._-], the first a
 * letter or digit, not ending in ".state" (PL_NAME_RULE). The one rule of
 * the kernel, "patchlayer build" and the daemon's store.
 */
#define PL_NAME_RULE "1-64 of [A-Za-z0-9._-], a letter or digit first, not ending in '.state'"
int pl_name_valid(const char *s, size_t len);

/*
 * Whether PATH is an acceptable target: absolute, canonical (no empty, "."
 * or ".." components, no trailing slash), printable ASCII without spaces or
 * backslashes, and below one of the library directories a layer may patch.
 */
int pl_target_valid(const char *path, size_t len);

/*
 * The Debian syntax (deb-version(7), Debian Policy 5.6.1 and 5.6.12),
 * bounded: a package name is 2-128 of [a-z0-9+.-], a lower-case letter or
 * digit first; a version [EPOCH:]UPSTREAM[-REVISION], at most 128 bytes,
 * EPOCH 1-9 digits, UPSTREAM a digit first then [A-Za-z0-9.+~-] (a hyphen
 * only when there is a revision), REVISION [A-Za-z0-9.+~]; no colon past
 * the epoch.
 */
int pl_deb_name_valid(const char *s, size_t len);
int pl_deb_version_valid(const char *s, size_t len);

/*
 * Compares two valid Debian versions as dpkg --compare-versions does:
 * <0, 0, >0.
 */
int pl_deb_version_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Whether S is an advisory id: DSA-N-R, DLA-N-R or CVE-YYYY-N. */
int pl_advisory_valid(const char *s, size_t len);

/*
 * The Ith (0-based) "package:" line of a parsed manifest M into OUT.
 * Returns 0, or -EINVAL past the last.
 */
int pl_manifest_package(const struct pl_manifest *m, size_t i,
			struct pl_manifest_package *out);

/* The Ith advisory id of M into OUT. Returns 0, or -EINVAL past the last. */
int pl_manifest_advisory(const struct pl_manifest *m, size_t i, struct pl_str *out);

/* Lower-case hex of a SHA-256 digest; OUT holds 65 bytes. */
void pl_sha256_hex(const u8 digest[PL_SHA256_SIZE], char out[2 * PL_SHA256_SIZE + 1]);

#endif /* PL_MANIFEST_H */
