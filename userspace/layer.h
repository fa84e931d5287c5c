/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layer directories (docs/layer-format.md): bounded reads, SHA-256 of
 * files, the manifest and its signature. Shared by build and verify.
 */
#ifndef PL_LAYER_H
#define PL_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ftw.h>
#include <sys/stat.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "../lib/manifest.h"
#include "json.h"
#include "readfile.h"

/* The module reads no larger signature (module/layer.c). */
#define PL_SIGNATURE_MAX	(64 * 1024)
/* Keys and certificates are small; a bound keeps a wrong path harmless. */
#define PL_PEM_MAX		(1024 * 1024)

#define PL_SHA256_HEX_SIZE	(2 * PL_SHA256_SIZE + 1)

/* SHA-256 and length of what is left to read of FD. Returns 0 or -errno. */
int pl_sha256_fd(int fd, u8 digest[PL_SHA256_SIZE], uint64_t *size);

/* pl_open_regular() then pl_sha256_fd(); ST as for pl_open_regular(). */
int pl_sha256_file(const char *path, bool nofollow, u8 digest[PL_SHA256_SIZE],
		   uint64_t *size, struct stat *st);

/*
 * Whether the file at PATH is the base F was built against: 0, -ESTALE
 * (another sha256), -ENOENT, -EINVAL (not a regular file, or a symlink),
 * or -errno; WHY says it for a message ("sha256 ..." when it fits).
 */
int pl_base_check(const struct pl_manifest_file *f, const char *path, char *why, size_t len);

/* What a file is, for messages: "a symlink", "a directory", ... */
const char *pl_file_type(mode_t mode);

/* A layer's manifest, read and parsed. */
struct pl_layer_manifest {
	char *buf;			/* the exact bytes, NULL if unread */
	size_t len;
	bool parsed;			/* m and files are valid */
	struct pl_manifest m;		/* points into buf */
	struct pl_manifest_file *files;	/* m.n_files records */
	struct pl_manifest_error perr;	/* why the parse failed */
};

/*
 * Reads and parses PATH (at most PL_MANIFEST_MAX_SIZE bytes). Returns 0,
 * -errno if it cannot be read (buf NULL), or the parser's -EINVAL/-EFBIG
 * with perr set and buf kept, so that the signature can still be checked.
 * Free with pl_layer_manifest_free() in every case.
 */
int pl_layer_manifest_load(const char *path, struct pl_layer_manifest *lm);
void pl_layer_manifest_free(struct pl_layer_manifest *lm);

/* A + B + C (C may be NULL), malloc'ed; NULL without memory. */
char *pl_concat(const char *a, const char *b, const char *c);

/* A NUL-terminated copy of S, or NULL without memory. */
char *pl_str_dup(struct pl_str s);

/* "EBADMSG" for EBADMSG. */
const char *pl_errno_name(int err);

/* The last OpenSSL error's reason, for messages; clears the error queue. */
const char *pl_ssl_reason(void);

/*
 * Reads every certificate in PATH (PEM, or one DER certificate) onto
 * CERTS. Returns 0, -errno, or -EINVAL when PATH holds none.
 */
int pl_load_certs(const char *path, STACK_OF(X509) *certs);

/* "CN=..., O=..." of NAME, malloc'ed (NULL without memory). */
char *pl_x509_name(const X509_NAME *name);

/* Lower-case hex of a serial number, malloc'ed (NULL without memory). */
char *pl_serial_hex(const ASN1_INTEGER *serial);

/*
 * Parses DER as a detached CMS/PKCS#7 signature over data of type id-data,
 * the only kind the kernel accepts for a layer. Returns the signature, or
 * NULL with the reason in WHY (WHY_SIZE bytes).
 */
CMS_ContentInfo *pl_cms_parse(const char *der, size_t len, char *why, size_t why_size);

/*
 * "issuer <name>, serial <hex>" of every signer of CMS, "; " between
 * them, malloc'ed (NULL without memory).
 */
char *pl_cms_signer_ids(CMS_ContentInfo *cms);

/*
 * Verifies CMS over the LEN bytes at DATA as the kernel will: the signer
 * must be one of CERTS, found by issuer and serial (certificates inside
 * the signature are ignored), and is not verified up to any CA because
 * the keyring is the trust. Returns 0 with the signers' "CN=..., serial
 * <hex>" in WHY, or -EKEYREJECTED with the reason in WHY.
 */
int pl_cms_verify(CMS_ContentInfo *cms, const char *data, size_t len,
		  STACK_OF(X509) *certs, char *why, size_t why_size);

/*
 * A layer's provenance (docs/layer-format.md, "Provenance") as
 * NUL-terminated copies, for layers, status, verify, the log and events.
 */
struct pl_provenance_package {
	char name[PL_DEB_NAME_MAX + 1];
	char base[PL_DEB_VERSION_MAX + 1];
	char fixed[PL_DEB_VERSION_MAX + 1];
};

struct pl_provenance {
	char source[PL_DEB_NAME_MAX + 1];		/* "" when absent */
	char source_version[PL_DEB_VERSION_MAX + 1];
	size_t n_packages;
	struct pl_provenance_package packages[PL_MANIFEST_MAX_PACKAGES];
	size_t n_advisories;
	char advisories[PL_MANIFEST_MAX_ADVISORIES][PL_ADVISORY_MAX + 1];
};

/* P from the parsed manifest M. */
void pl_provenance_of(const struct pl_manifest *m, struct pl_provenance *p);

/*
 * P from the manifest of the layer directory DIR (a stored layer:
 * STORE/NAME). Returns 0, -errno if it cannot be read, or the parser's
 * -EINVAL/-EFBIG; P is then empty.
 */
int pl_layer_provenance(const char *dir, struct pl_provenance *p);

/*
 * Adds "source": {"package", "version"} | null, "packages": [{"package",
 * "base", "fixed"}], "advisories": ["DSA-..."] to the open JSON object.
 */
void pl_json_provenance(struct json *j, const struct pl_provenance *p);

/*
 * One line for people: "expat 2.5.0-1+deb12u5: libexpat1 2.5.0-1+deb12u2
 * -> 2.5.0-1+deb12u5; DSA-5770-1 CVE-..." ("" when there is none).
 */
void pl_provenance_line(const struct pl_provenance *p, char *buf, size_t size);

/* Writing layers (build, package, deliver). All return 0 or -errno unless said. */
int pl_write_all(int fd, const void *buf, size_t len);
/* Creates PATH (which must not exist) 0644, whatever the umask; the descriptor. */
int pl_create(const char *path);
/* Flushes and closes FD: a layer must be on disk before it is renamed in. */
int pl_finish_file(int fd, int err);
/* PATH with LEN bytes of BUF, 0644; 0 or -1 (said on stderr). */
int pl_write_new_file(const char *path, const void *buf, size_t len);
/* Creates every missing directory of PATH after offset FROM, 0755; 0 or -1 (said). */
int pl_mkdirs(char *path, size_t from);
/* Copies IN to OUT, hashing what was copied; READING tells which side failed. */
int pl_copy_hash(int in, int out, u8 digest[PL_SHA256_SIZE], uint64_t *size, bool *reading);
/* nftw() callback removing every entry (FTW_DEPTH | FTW_PHYS). */
int pl_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/* Copying a layer as its manifest names it (layer_copy.c): package, deliver. */
/* Loads DIR/manifest; it must parse. 0 or -1 (said). */
int pl_load_layer(const char *dir, struct pl_layer_manifest *lm);
/*
 * Copies the layer LM of SRC into the existing, empty directory DST: the
 * manifest's exact bytes, its signature and every replacement, each
 * checked against its record. 0 or -1 (said).
 */
int pl_copy_layer(const char *src, const char *dst, const struct pl_layer_manifest *lm);

#endif
