// SPDX-License-Identifier: GPL-2.0
/*
 * Verification of layers: the .patchlayer keyring that root fills through
 * /sys/kernel/patchlayer/trust, the detached PKCS#7 signature over the
 * manifest, and the SHA-256 of replacement and base files.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <crypto/public_key.h>
#include <keys/asymmetric-type.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/key.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/verification.h>

#include "patchlayer.h"

static struct key *pl_keyring;
static struct crypto_shash *pl_sha256_tfm;
static DEFINE_MUTEX(pl_trust_lock);
static bool pl_trust_locked;

/*
 * Whether the kernel's own trusted keys (built-in, secondary and, where
 * configured, the machine keyring of MOK keys linked to it) also sign
 * layers. Off unless the administrator asks: Debian's built-in key signs
 * kernels and never a layer, and a MOK key's private half often lies on
 * disk (DKMS keeps /var/lib/dkms/mok.key), where root could sign any layer
 * with it. Fixed once trust is locked, as the keyring is.
 */
static bool pl_trust_system_keyrings;

static int pl_trust_system_set(const char *val, const struct kernel_param *kp)
{
	int err;

	/* modprobe's parameters come before the module is live */
	if (THIS_MODULE->state == MODULE_STATE_LIVE && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	mutex_lock(&pl_trust_lock);
	err = pl_trust_locked ? -EPERM : param_set_bool(val, kp);
	mutex_unlock(&pl_trust_lock);
	return err;
}

static const struct kernel_param_ops pl_trust_system_ops = {
	.set = pl_trust_system_set,
	.get = param_get_bool,
};
module_param_cb(trust_system_keyrings, &pl_trust_system_ops, &pl_trust_system_keyrings, 0644);
MODULE_PARM_DESC(trust_system_keyrings,
		 "Also accept layers signed by the kernel's built-in, secondary and machine (MOK) keys (default: no; fixed once trust_locked is 1)");

/* Whether two asymmetric keys hold the same public key. */
static bool pl_same_public_key(const struct key *a, const struct key *b)
{
	const struct public_key *x = asymmetric_key_public_key(a);
	const struct public_key *y = asymmetric_key_public_key(b);

	return x && y && x->keylen == y->keylen && !memcmp(x->key, y->key, x->keylen) &&
	       !strcmp(x->pkey_algo, y->pkey_algo);
}

/* 1 when FOUND holds CERT's public key, else -EEXIST; drops FOUND. */
static int pl_trusted_same(struct key *found, const struct key *cert)
{
	int ret = pl_same_public_key(found, cert) ? 1 : -EEXIST;

	key_put(found);
	return ret;
}

/*
 * Whether a trusted key already answers to one of CERT's names: its
 * description, or an identifier a signature names its signer by (issuer
 * and serial, subject key identifier). 1 when that is CERT's public key
 * anyway, -EEXIST when another key does (CERT would shadow it in the
 * lookups of verification), 0 when none does.
 */
static int pl_trusted_as(const struct key *cert)
{
	const struct asymmetric_key_ids *ids = asymmetric_key_ids(cert);
	key_ref_t ref;
	struct key *found;
	int ret = 0;

	ref = keyring_search(make_key_ref(pl_keyring, 1), &key_type_asymmetric,
			     cert->description, false);
	if (!IS_ERR(ref))
		ret = pl_trusted_same(key_ref_to_ptr(ref), cert);
	else if (PTR_ERR(ref) != -EAGAIN)
		return PTR_ERR(ref);
	for (int i = 0; i < 2 && ids && ret >= 0; i++) {
		if (!ids->id[i])
			continue;
		found = find_asymmetric_key(pl_keyring, ids->id[i], NULL, NULL, false);
		if (!IS_ERR(found))
			ret = pl_trusted_same(found, cert);
		else if (PTR_ERR(found) != -ENOKEY)
			return PTR_ERR(found);
	}
	return ret;
}

/*
 * Adds the certificate DER to .patchlayer. Trust only grows: an asymmetric
 * key has no update method, so key_create_or_update() on .patchlayer itself
 * would let a different certificate with the same description (subject and
 * key identifier) silently displace a trusted one, and one with other
 * names but a trusted key's identifiers would shadow it. The certificate
 * is parsed into a scratch keyring first, and linked only if no trusted
 * key answers to any of its names; the same key again succeeds, another
 * is refused with EEXIST.
 */
int pl_trust_add(const void *der, size_t len)
{
	struct key *scratch, *cert;
	key_ref_t key;
	int err = 0;

	mutex_lock(&pl_trust_lock);
	if (pl_trust_locked) {
		err = -EPERM;
		goto out;
	}
	scratch = keyring_alloc(".patchlayer-new", GLOBAL_ROOT_UID, GLOBAL_ROOT_GID,
				current_cred(), KEY_POS_ALL & ~KEY_POS_SETATTR,
				KEY_ALLOC_NOT_IN_QUOTA, NULL, NULL);
	if (IS_ERR(scratch)) {
		err = PTR_ERR(scratch);
		goto out;
	}
	key = key_create_or_update(make_key_ref(scratch, 1), "asymmetric",
				   NULL, der, len,
				   (KEY_POS_ALL & ~KEY_POS_SETATTR) |
				   KEY_USR_VIEW | KEY_USR_READ,
				   KEY_ALLOC_NOT_IN_QUOTA);
	if (IS_ERR(key)) {
		err = PTR_ERR(key);
		/* anything the X.509 parser refuses is "not a certificate" */
		if (err == -EBADMSG || err == -ENOPKG || err == -EKEYREJECTED)
			err = -EINVAL;
		goto out_scratch;
	}
	cert = key_ref_to_ptr(key);
	err = pl_trusted_as(cert);
	if (!err) {
		err = key_link(pl_keyring, cert);
		if (!err)
			pr_info("trusted key %08x\n", key_serial(cert));
	} else if (err == 1) {
		err = 0;	/* the same key again changes nothing */
	}
	key_ref_put(key);
out_scratch:
	key_revoke(scratch);
	key_put(scratch);
out:
	mutex_unlock(&pl_trust_lock);
	return err;
}

/*
 * Closing the keyring lasts until reboot: the module pins itself, so an
 * unload and reload cannot reopen it.
 */
void pl_trust_lock_forever(void)
{
	mutex_lock(&pl_trust_lock);
	if (!pl_trust_locked) {
		pl_trust_locked = true;
		__module_get(THIS_MODULE);
		pr_info("trust keyring closed until reboot; the kernel's own keys %s\n",
			pl_trust_system_keyrings ? "also sign layers" : "do not sign layers");
	}
	mutex_unlock(&pl_trust_lock);
}

bool pl_trust_is_locked(void)
{
	return READ_ONCE(pl_trust_locked);
}

/*
 * The signer must be in .patchlayer, or, with trust_system_keyrings, in the
 * kernel's own trusted keys (built-in and secondary, with the machine
 * keyring linked there, as for modules). Every verification failure,
 * malformed DER included, is EKEYREJECTED to the caller.
 */
int pl_verify_signature(const void *data, size_t len, const void *sig, size_t sig_len)
{
	int err;

	err = verify_pkcs7_signature(data, len, sig, sig_len, pl_keyring,
				     VERIFYING_UNSPECIFIED_SIGNATURE, NULL, NULL);
	if (err == -ENOKEY && READ_ONCE(pl_trust_system_keyrings))
		err = verify_pkcs7_signature(data, len, sig, sig_len,
					     VERIFY_USE_SECONDARY_KEYRING,
					     VERIFYING_UNSPECIFIED_SIGNATURE,
					     NULL, NULL);
	if (err && err != -ENOMEM)
		err = -EKEYREJECTED;
	return err;
}

/* Opens PATH for reading, only a regular file: never a FIFO, even for a moment. */
struct file *pl_open_path_regular(const struct path *path)
{
	if (!d_is_reg(path->dentry))
		return ERR_PTR(-EINVAL);
	return dentry_open(path, O_RDONLY | O_LARGEFILE, current_cred());
}

#define PL_HASH_CHUNK (16 * 1024)

/*
 * SHA-256 of FILE. Unless SIZE is PL_SIZE_ANY the file must be exactly
 * SIZE bytes long, else -EBADMSG: a file that changes under us is not the
 * file that was signed.
 */
int pl_hash_file(struct file *file, u64 size, u8 digest[PL_SHA256_SIZE])
{
	SHASH_DESC_ON_STACK(desc, pl_sha256_tfm);
	loff_t pos = 0;
	void *buf;
	ssize_t n;
	int err;

	if (size != PL_SIZE_ANY && i_size_read(file_inode(file)) != size)
		return -EBADMSG;
	buf = kmalloc(PL_HASH_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	desc->tfm = pl_sha256_tfm;
	err = crypto_shash_init(desc);
	while (!err) {
		n = kernel_read(file, buf, PL_HASH_CHUNK, &pos);
		if (n <= 0) {
			err = n;
			break;
		}
		if (size != PL_SIZE_ANY && pos > size) {
			err = -EBADMSG;
			break;
		}
		err = crypto_shash_update(desc, buf, n);
		if (fatal_signal_pending(current))
			err = -EINTR;
		cond_resched();
	}
	if (!err && size != PL_SIZE_ANY && pos != size)
		err = -EBADMSG;
	if (!err)
		err = crypto_shash_final(desc, digest);
	shash_desc_zero(desc);
	kfree(buf);
	return err;
}

int __init pl_verify_init(void)
{
	pl_sha256_tfm = crypto_alloc_shash("sha256", 0, 0);
	if (IS_ERR(pl_sha256_tfm))
		return PTR_ERR(pl_sha256_tfm);

	/* user space may look, only the module adds (no KEY_USR_WRITE) */
	pl_keyring = keyring_alloc(".patchlayer", GLOBAL_ROOT_UID, GLOBAL_ROOT_GID,
				   current_cred(),
				   (KEY_POS_ALL & ~KEY_POS_SETATTR) |
				   KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH,
				   KEY_ALLOC_NOT_IN_QUOTA, NULL, NULL);
	if (IS_ERR(pl_keyring)) {
		crypto_free_shash(pl_sha256_tfm);
		return PTR_ERR(pl_keyring);
	}
	return 0;
}

void pl_verify_exit(void)
{
	key_revoke(pl_keyring);
	key_put(pl_keyring);
	crypto_free_shash(pl_sha256_tfm);
}
