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

struct pl_manifest {
	struct pl_str name;
	struct pl_str version;
	struct pl_str replaces;		/* len 0 when absent */
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

/* Lower-case hex of a SHA-256 digest; OUT holds 65 bytes. */
void pl_sha256_hex(const u8 digest[PL_SHA256_SIZE], char out[2 * PL_SHA256_SIZE + 1]);

#endif /* PL_MANIFEST_H */
