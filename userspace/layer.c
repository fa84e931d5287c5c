// SPDX-License-Identifier: GPL-2.0
/*
 * Layer directories, shared by build and verify: bounded reads, SHA-256 of
 * files, the manifest through lib/manifest.c, and the CMS signature as
 * verify_pkcs7_signature() in the kernel sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "layer.h"
#include "patchlayer.h"

#define PL_HASH_CHUNK (64 * 1024)

/*
 * Hashes IN up to its end, copying it to OUT when OUT >= 0; more than MAX
 * bytes is -EFBIG. *READING: the error was IN's (else OUT's or the hash's).
 */
static int hash_stream(int in, int out, uint64_t max, u8 digest[PL_SHA256_SIZE],
		       uint64_t *size, bool *reading)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *buf = malloc(PL_HASH_CHUNK);
	uint64_t total = 0;
	int err = 0;

	*reading = false;
	if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, buf, PL_HASH_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (n < 0) {
			err = -errno;
			*reading = true;
			break;
		}
		total += (uint64_t)n;
		if (total > max) {
			err = -EFBIG;
			*reading = true;
			break;
		}
		if (out >= 0) {
			err = pl_write_all(out, buf, (size_t)n);
			if (err)
				break;
		}
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			err = -EIO;
			break;
		}
	}
	if (!err && !EVP_DigestFinal_ex(ctx, digest, NULL))
		err = -EIO;
	*size = total;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return err;
}

int pl_sha256_fd(int fd, u8 digest[PL_SHA256_SIZE], uint64_t *size)
{
	bool reading;

	return hash_stream(fd, -1, UINT64_MAX, digest, size, &reading);
}

int pl_sha256_file(const char *path, bool nofollow, u8 digest[PL_SHA256_SIZE],
		   uint64_t *size, struct stat *st)
{
	int fd, err;

	fd = pl_open_regular(path, nofollow, st);
	if (fd < 0)
		return fd;
	err = pl_sha256_fd(fd, digest, size);
	close(fd);
	return err;
}

const char *pl_file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:	return "a regular file";
	case S_IFLNK:	return "a symlink";
	case S_IFDIR:	return "a directory";
	case S_IFIFO:	return "a FIFO";
	case S_IFSOCK:	return "a socket";
	case S_IFCHR:	return "a character device";
	case S_IFBLK:	return "a block device";
	default:	return "of unknown type";
	}
}

int pl_layer_manifest_load(const char *path, struct pl_layer_manifest *lm)
{
	int err;

	memset(lm, 0, sizeof(*lm));
	err = pl_read_file(path, PL_MANIFEST_MAX_SIZE, &lm->buf, &lm->len);
	if (err)
		return err;
	/* the parser's two passes: count, then fill an array of that size */
	err = pl_manifest_parse(lm->buf, lm->len, &lm->m, NULL, 0, &lm->perr);
	if (err)
		return err;
	lm->files = calloc(lm->m.n_files ? lm->m.n_files : 1, sizeof(*lm->files));
	if (!lm->files)
		return -ENOMEM;
	err = pl_manifest_parse(lm->buf, lm->len, &lm->m, lm->files, lm->m.n_files,
				&lm->perr);
	if (err)
		return err;
	lm->parsed = true;
	return 0;
}

void pl_layer_manifest_free(struct pl_layer_manifest *lm)
{
	free(lm->files);
	free(lm->buf);
	memset(lm, 0, sizeof(*lm));
}

char *pl_concat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
	char *s = malloc(la + lb + lc + 1);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c ? c : "", lc);
	s[la + lb + lc] = '\0';
	return s;
}

char *pl_str_dup(struct pl_str s)
{
	return strndup(s.s ? s.s : "", s.len);
}

const char *pl_errno_name(int err)
{
	static char unknown[24];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(unknown, sizeof(unknown), "errno %d", err);
	return unknown;
}

const char *pl_ssl_reason(void)
{
	static char why[128];
	/* the earliest error is the cause, the later ones its callers */
	unsigned long e = ERR_get_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	if (reason)
		snprintf(why, sizeof(why), "%s", reason);
	else if (e)
		snprintf(why, sizeof(why), "OpenSSL error %#lx", e);
	else
		snprintf(why, sizeof(why), "unknown error");
	ERR_clear_error();
	return why;
}

int pl_load_certs(const char *path, STACK_OF(X509) *certs)
{
	const unsigned char *der;
	X509 *cert;
	size_t len;
	char *buf;
	BIO *bio;
	int err, n = 0;

	err = pl_read_file(path, PL_PEM_MAX, &buf, &len);
	if (err)
		return err;
	bio = BIO_new_mem_buf(buf, (int)len);
	while (bio && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (!sk_X509_push(certs, cert)) {
			X509_free(cert);
			break;
		}
		n++;
	}
	BIO_free(bio);
	/* the module's trust file takes DER: accept the same file here */
	der = (const unsigned char *)buf;
	if (n == 0 && (cert = d2i_X509(NULL, &der, (long)len))) {
		if (sk_X509_push(certs, cert))
			n++;
		else
			X509_free(cert);
	}
	ERR_clear_error();	/* the end of the PEM data is an "error" */
	free(buf);
	return n ? 0 : -EINVAL;
}

/* What a memory BIO holds, as a malloc'ed string; frees the BIO. */
static char *pl_bio_string(BIO *bio)
{
	char *data, *s = NULL;
	long len;

	if (!bio)
		return NULL;
	len = BIO_get_mem_data(bio, &data);
	if (len >= 0)
		s = strndup(data, (size_t)len);
	BIO_free(bio);
	return s;
}

char *pl_x509_name(const X509_NAME *name)
{
	/* "CN=x, O=y" in the certificate's order; non-ASCII escaped */
	unsigned long flags = XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ;
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio && X509_NAME_print_ex(bio, name, 0, flags) < 0) {
		BIO_free(bio);
		return NULL;
	}
	return pl_bio_string(bio);
}

char *pl_serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, *s;

	BN_free(bn);
	if (!hex)
		return NULL;
	s = strdup(hex);
	OPENSSL_free(hex);
	for (char *p = s; p && *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

CMS_ContentInfo *pl_cms_parse(const char *der, size_t len, char *why, size_t why_size)
{
	const unsigned char *p = (const unsigned char *)der;
	STACK_OF(CMS_SignerInfo) *sinfos;
	CMS_ContentInfo *cms;
	ASN1_OCTET_STRING **content;
	const char *fault = NULL;

	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (!cms) {
		snprintf(why, why_size, "manifest.p7s is not a DER CMS/PKCS#7 signature (%s)",
			 pl_ssl_reason());
		return NULL;
	}
	content = CMS_get0_content(cms);
	sinfos = CMS_get0_SignerInfos(cms);
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		fault = "manifest.p7s is CMS but not SignedData";
	else if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data)
		fault = "manifest.p7s signs content that is not of type id-data";
	else if (content && *content)
		/* the kernel refuses data supplied twice */
		fault = "manifest.p7s embeds its content; the signature must be detached";
	else if (sk_CMS_SignerInfo_num(sinfos) <= 0)
		fault = "manifest.p7s has no signer";
	if (fault) {
		snprintf(why, why_size, "%s", fault);
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	return cms;
}

/* Appends "issuer <name>, serial <hex>" (or the key id) of SI to OUT. */
static void pl_print_signer_id(FILE *out, CMS_SignerInfo *si)
{
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;
	char *name, *hex;

	if (!CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &serial)) {
		fputs("unknown signer", out);
		return;
	}
	if (keyid) {
		fputs("subject key id ", out);
		for (int i = 0; i < ASN1_STRING_length(keyid); i++)
			fprintf(out, "%02x", ASN1_STRING_get0_data(keyid)[i]);
		return;
	}
	name = pl_x509_name(issuer);
	hex = pl_serial_hex(serial);
	fprintf(out, "issuer %s, serial %s", name ? name : "?", hex ? hex : "?");
	free(name);
	free(hex);
}

char *pl_cms_signer_ids(CMS_ContentInfo *cms)
{
	STACK_OF(CMS_SignerInfo) *sinfos = CMS_get0_SignerInfos(cms);
	char *s = NULL;
	size_t size;
	FILE *out = open_memstream(&s, &size);

	if (!out)
		return NULL;
	for (int i = 0; i < sk_CMS_SignerInfo_num(sinfos); i++) {
		if (i)
			fputs("; ", out);
		pl_print_signer_id(out, sk_CMS_SignerInfo_value(sinfos, i));
	}
	if (fclose(out)) {
		free(s);
		return NULL;
	}
	return s;
}

/* "CN=..., serial <hex>" of every signer CMS_verify() matched. */
static void pl_print_signers(CMS_ContentInfo *cms, char *buf, size_t size)
{
	STACK_OF(X509) *signers = CMS_get0_signers(cms);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < sk_X509_num(signers) && used < size; i++) {
		X509 *x = sk_X509_value(signers, i);
		char *name = pl_x509_name(X509_get_subject_name(x));
		char *hex = pl_serial_hex(X509_get0_serialNumber(x));
		int n = snprintf(buf + used, size - used, "%s%s, serial %s", i ? "; " : "",
				 name ? name : "?", hex ? hex : "?");

		used += n > 0 ? (size_t)n : 0;
		free(name);
		free(hex);
	}
	sk_X509_free(signers);	/* the certificates belong to CMS */
}

int pl_cms_verify(CMS_ContentInfo *cms, const char *data, size_t len,
		  STACK_OF(X509) *certs, char *why, size_t why_size)
{
	/*
	 * NOINTERN: like the kernel, find the signer among the trusted
	 * certificates only, never among those the signature carries.
	 * NO_SIGNER_CERT_VERIFY: the keyring is the trust, not a CA chain.
	 */
	unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_NOINTERN |
			     CMS_NO_SIGNER_CERT_VERIFY;
	BIO *in = BIO_new_mem_buf(data, (int)len);
	bool unknown = false, bad = false;
	unsigned long e;
	char *ids;
	int ok;

	ok = in && CMS_verify(cms, certs, NULL, in, NULL, flags) == 1;
	BIO_free(in);
	if (ok) {
		ERR_clear_error();
		pl_print_signers(cms, why, why_size);
		return 0;
	}
	/* the cause is deep in the queue, CMS's verdict on top */
	while ((e = ERR_get_error())) {
		if (ERR_GET_LIB(e) != ERR_LIB_CMS)
			continue;
		unknown |= ERR_GET_REASON(e) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND;
		bad |= ERR_GET_REASON(e) == CMS_R_VERIFICATION_FAILURE ||
		       ERR_GET_REASON(e) == CMS_R_CONTENT_VERIFY_ERROR;
	}
	ids = pl_cms_signer_ids(cms);
	if (unknown)
		snprintf(why, why_size, "unknown signer (%s): not one of the given certificates",
			 ids ? ids : "?");
	else if (bad)
		snprintf(why, why_size,
			 "bad signature by %s: the manifest is not the one that was signed",
			 ids ? ids : "?");
	else
		snprintf(why, why_size, "signature by %s rejected", ids ? ids : "?");
	free(ids);
	ERR_clear_error();
	return -EKEYREJECTED;
}

int pl_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates PATH (which must not exist) 0644, whatever the umask. */
int pl_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Flushes and closes FD: a layer must be on disk before it is renamed in. */
int pl_finish_file(int fd, int err)
{
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int pl_write_new_file(const char *path, const void *buf, size_t len)
{
	int fd = pl_create(path), err;

	if (fd < 0) {
		pl_err_sys(-fd, "%s", path);
		return -1;
	}
	err = pl_finish_file(fd, pl_write_all(fd, buf, len));
	if (err)
		pl_err_sys(-err, "%s", path);
	return err ? -1 : 0;
}

/* Creates every missing directory of PATH after offset FROM, 0755. */
int pl_mkdirs(char *path, size_t from)
{
	for (char *p = path + from; (p = strchr(p + 1, '/')); ) {
		int err = 0;

		*p = '\0';
		if (mkdir(path, 0755) == 0) {
			if (chmod(path, 0755) < 0)	/* not what the umask left */
				err = -errno;
		} else if (errno != EEXIST) {
			err = -errno;
		}
		if (err)
			pl_err_sys(-err, "%s", path);
		*p = '/';
		if (err)
			return -1;
	}
	return 0;
}

/*
 * Copies IN to OUT and hashes what was copied: the manifest then describes
 * the bytes in the layer even if the source changes meanwhile.
 */
int pl_copy_hash(int in, int out, u8 digest[PL_SHA256_SIZE], uint64_t *size,
			bool *reading)
{
	return hash_stream(in, out, PL_FILE_MAX_SIZE, digest, size, reading);
}

int pl_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void pl_str_copy(char *dst, size_t size, struct pl_str s)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;

	memcpy(dst, s.s ? s.s : "", n);
	dst[n] = '\0';
}

void pl_provenance_of(const struct pl_manifest *m, struct pl_provenance *p)
{
	struct pl_manifest_package pk;
	struct pl_str id;

	memset(p, 0, sizeof(*p));
	pl_str_copy(p->source, sizeof(p->source), m->source);
	pl_str_copy(p->source_version, sizeof(p->source_version), m->source_version);
	for (size_t i = 0; i < m->n_packages && i < PL_MANIFEST_MAX_PACKAGES; i++) {
		struct pl_provenance_package *d = &p->packages[p->n_packages];

		if (pl_manifest_package(m, i, &pk))
			break;
		pl_str_copy(d->name, sizeof(d->name), pk.name);
		pl_str_copy(d->base, sizeof(d->base), pk.base);
		pl_str_copy(d->fixed, sizeof(d->fixed), pk.fixed);
		p->n_packages++;
	}
	for (size_t i = 0; i < m->n_advisories && i < PL_MANIFEST_MAX_ADVISORIES; i++) {
		if (pl_manifest_advisory(m, i, &id))
			break;
		pl_str_copy(p->advisories[p->n_advisories++], sizeof(p->advisories[0]), id);
	}
}

int pl_layer_provenance(const char *dir, struct pl_provenance *p)
{
	struct pl_layer_manifest lm;
	char *path = pl_concat(dir, "/manifest", NULL);
	int err;

	memset(p, 0, sizeof(*p));
	if (!path)
		return -ENOMEM;
	err = pl_layer_manifest_load(path, &lm);
	free(path);
	if (!err)
		pl_provenance_of(&lm.m, p);
	pl_layer_manifest_free(&lm);
	return err;
}

void pl_json_provenance(struct json *j, const struct pl_provenance *p)
{
	if (p->source[0]) {
		json_object_start(j, "source");
		json_string(j, "package", p->source);
		json_string(j, "version", p->source_version);
		json_object_end(j);
	} else {
		json_null(j, "source");
	}
	json_array_start(j, "packages");
	for (size_t i = 0; i < p->n_packages; i++) {
		json_object_start(j, NULL);
		json_string(j, "package", p->packages[i].name);
		json_string(j, "base", p->packages[i].base);
		json_string(j, "fixed", p->packages[i].fixed);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_start(j, "advisories");
	for (size_t i = 0; i < p->n_advisories; i++)
		json_string(j, NULL, p->advisories[i]);
	json_array_end(j);
}

void pl_provenance_line(const struct pl_provenance *p, char *buf, size_t size)
{
	size_t n = 0;

#define PL_ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
	buf[0] = '\0';
	if (p->source[0])
		PL_ADD("%s %s", p->source, p->source_version);
	for (size_t i = 0; i < p->n_packages; i++)
		PL_ADD("%s%s %s -> %s", i ? ", " : n ? ": " : "", p->packages[i].name,
		       p->packages[i].base, p->packages[i].fixed);
	for (size_t i = 0; i < p->n_advisories; i++)
		PL_ADD("%s%s", i ? " " : n ? "; " : "", p->advisories[i]);
#undef PL_ADD
	if (n >= size && size > 4)
		strcpy(buf + size - 4, "...");
}

int pl_base_check(const struct pl_manifest_file *f, const char *path, char *why, size_t len)
{
	char want[PL_SHA256_HEX_SIZE], got[PL_SHA256_HEX_SIZE];
	u8 digest[PL_SHA256_SIZE];
	struct stat st;
	uint64_t size;
	int err;

	pl_sha256_hex(f->base_sha256, want);
	err = pl_sha256_file(path, true, digest, &size, &st);
	pl_sha256_hex(digest, got);
	if (err == -EINVAL) {
		snprintf(why, len, "%s is %s, not a regular file", path, pl_file_type(st.st_mode));
	} else if (err == -ENOENT) {
		snprintf(why, len, "%s is missing: nothing to patch", path);
	} else if (err) {
		snprintf(why, len, "%s: %s", path, strerror(-err));
	} else if (memcmp(digest, f->base_sha256, PL_SHA256_SIZE)) {
		snprintf(why, len, "sha256 mismatch (manifest %s, %s %s): "
			 "the layer was built against another version", want, path, got);
		err = -ESTALE;
	} else {
		snprintf(why, len, "sha256 %s", got);
	}
	return err;
}
