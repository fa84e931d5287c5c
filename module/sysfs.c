// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/patchlayer: the configuration and status interface.
 * The ABI is documented in docs/ABI/sysfs-kernel-patchlayer.
 */
#include <linux/capability.h>
#include <linux/kdev_t.h>
#include <linux/kobject.h>
#include <linux/limits.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "patchlayer.h"
#include "trace.h"

static struct kobject *pl_kobj;
struct kset *pl_layers_kset;

/*
 * Copies a written line: one trailing newline dropped, no NUL or other
 * newline inside, at most MAX bytes. Returns a kmalloc'ed string.
 */
static char *pl_copy_line(const char *buf, size_t count, size_t max)
{
	if (count && buf[count - 1] == '\n')
		count--;
	if (count == 0 || count > max)
		return ERR_PTR(count ? -ENAMETOOLONG : -EINVAL);
	if (memchr(buf, '\0', count) || memchr(buf, '\n', count))
		return ERR_PTR(-EINVAL);
	return kmemdup_nul(buf, count, GFP_KERNEL) ?: ERR_PTR(-ENOMEM);
}

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", PATCHLAYER_VERSION);
}
static struct kobj_attribute version_attr = __ATTR_RO(version);

static ssize_t load_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	char *dir = NULL;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		err = -EPERM;
	else {
		dir = pl_copy_line(buf, count, PATH_MAX - 1);
		err = IS_ERR(dir) ? PTR_ERR(dir) : pl_layer_load(dir);
	}
	trace_patchlayer_request("load", IS_ERR_OR_NULL(dir) ? "" : dir, err);
	if (!IS_ERR_OR_NULL(dir))
		kfree(dir);
	return err ?: count;
}
static struct kobj_attribute load_attr = __ATTR_WO(load);

static ssize_t unload_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	char *name;
	int err;

	if (!capable(CAP_SYS_ADMIN)) {
		err = -EPERM;
		goto out;
	}
	name = pl_copy_line(buf, count, PL_NAME_MAX);
	if (IS_ERR(name)) {
		/* an over-long name is just not a name */
		err = PTR_ERR(name) == -ENAMETOOLONG ? -EINVAL : PTR_ERR(name);
		goto out;
	}
	err = pl_name_valid(name, strlen(name)) ? pl_layer_unload(name) : -EINVAL;
	trace_patchlayer_request("unload", name, err);
	kfree(name);
	return err ?: count;
out:
	trace_patchlayer_request("unload", "", err);
	return err;
}
static struct kobj_attribute unload_attr = __ATTR_WO(unload);

/* DER bytes of one X.509 certificate, in a single write. */
static ssize_t trust_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	int err;

	if (!capable(CAP_SYS_ADMIN))
		err = -EPERM;
	else if (count == 0)
		err = -EINVAL;
	else
		err = pl_trust_add(buf, count);
	trace_patchlayer_request("trust", "", err);
	return err ?: count;
}
static struct kobj_attribute trust_attr = __ATTR_WO(trust);

static ssize_t trust_locked_show(struct kobject *kobj, struct kobj_attribute *attr,
				 char *buf)
{
	return sysfs_emit(buf, "%d\n", pl_trust_is_locked());
}

/*
 * "1" locks, "0" is accepted while unlocked: the keyring cannot be reopened
 * before reboot. Nothing else, not kstrtobool()'s yes, true or on, since
 * an irreversible switch must not be thrown by stray bytes.
 */
static ssize_t trust_locked_store(struct kobject *kobj, struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	bool lock = sysfs_streq(buf, "1");
	int err;

	if (!capable(CAP_SYS_ADMIN))
		err = -EPERM;
	else if (!lock && !sysfs_streq(buf, "0"))
		err = -EINVAL;
	else if (!lock)
		err = pl_trust_is_locked() ? -EPERM : 0;
	else {
		pl_trust_lock_forever();
		err = 0;
	}
	trace_patchlayer_request("trust_locked", "", err);
	return err ?: count;
}
static struct kobj_attribute trust_locked_attr = __ATTR_RW_MODE(trust_locked, 0644);

static ssize_t generation_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", pl_redirect_generation());
}
static struct kobj_attribute generation_attr = __ATTR_RO(generation);

static ssize_t mounts_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return pl_mounts_show(buf);
}
static struct kobj_attribute mounts_attr = __ATTR_RO(mounts);

static struct attribute *pl_attrs[] = {
	&version_attr.attr,
	&mounts_attr.attr,
	&generation_attr.attr,
	&load_attr.attr,
	&unload_attr.attr,
	&trust_attr.attr,
	&trust_locked_attr.attr,
	NULL,
};

static const struct attribute_group pl_attr_group = {
	.attrs = pl_attrs,
};

/* /sys/kernel/patchlayer/layers/<name>/ */

#define to_pl_layer(k) container_of(k, struct pl_layer, kobj)

static ssize_t state_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", pl_layer_state_name(READ_ONCE(to_pl_layer(kobj)->state)));
}

/* "activate" or "drop" */
static ssize_t state_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	struct pl_layer *layer = to_pl_layer(kobj);
	int err;

	if (!capable(CAP_SYS_ADMIN))
		err = -EPERM;
	else
		err = pl_layer_set_state(layer, buf);
	trace_patchlayer_request(sysfs_streq(buf, "activate") ? "activate" :
				 sysfs_streq(buf, "drop") ? "drop" : "state",
				 layer->name, err);
	return err ?: count;
}
static struct kobj_attribute layer_state_attr = __ATTR_RW_MODE(state, 0644);

static ssize_t activated_at_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", (long long)READ_ONCE(to_pl_layer(kobj)->activated_at));
}
static struct kobj_attribute layer_activated_at_attr = __ATTR_RO(activated_at);

static ssize_t activate_ns_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(to_pl_layer(kobj)->activate_ns));
}
static struct kobj_attribute layer_activate_ns_attr = __ATTR_RO(activate_ns);

static ssize_t hits_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(&to_pl_layer(kobj)->hits));
}
static struct kobj_attribute layer_hits_attr = __ATTR_RO(hits);

static ssize_t layer_version_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", to_pl_layer(kobj)->version);
}
static struct kobj_attribute layer_version_attr =
	__ATTR(version, 0444, layer_version_show, NULL);

static ssize_t replaces_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	const char *replaces = to_pl_layer(kobj)->replaces;

	return *replaces ? sysfs_emit(buf, "%s\n", replaces) : 0;
}
static struct kobj_attribute layer_replaces_attr = __ATTR_RO(replaces);

static ssize_t path_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", to_pl_layer(kobj)->dir);
}
static struct kobj_attribute layer_path_attr = __ATTR_RO(path);

/*
 * "files" can exceed a page (512 records), so it is a binary attribute
 * whose text is rendered for each read window.
 */
static ssize_t files_read(struct file *filp, struct kobject *kobj,
			  struct bin_attribute *attr, char *buf, loff_t off,
			  size_t count)
{
	struct pl_layer *layer = to_pl_layer(kobj);
	/* target, sha256, "verified" and two "major:minor:inode" */
	char line[PL_TARGET_MAX + 2 * PL_SHA256_SIZE + 32 + 2 * 48];
	char hex[2 * PL_SHA256_SIZE + 1];
	size_t copied = 0;
	loff_t pos = 0;

	for (size_t i = 0; i < layer->n_files && copied < count; i++) {
		const struct pl_layer_file *f = &layer->files[i];
		int n;

		pl_sha256_hex(f->sha256, hex);
		n = scnprintf(line, sizeof(line), "%s %s %s %u:%u:%lu %u:%u:%lu\n", f->target,
			      hex, "verified", MAJOR(f->file_dev), MINOR(f->file_dev),
			      f->file_ino, MAJOR(f->base_dev), MINOR(f->base_dev), f->base_ino);
		if (pos + n > off) {
			size_t skip = off > pos ? off - pos : 0;
			size_t take = min_t(size_t, n - skip, count - copied);

			memcpy(buf + copied, line + skip, take);
			copied += take;
		}
		pos += n;
	}
	return copied;
}
static BIN_ATTR_RO(files, 0);

static struct attribute *pl_layer_attrs[] = {
	&layer_state_attr.attr,
	&layer_activated_at_attr.attr,
	&layer_activate_ns_attr.attr,
	&layer_hits_attr.attr,
	&layer_version_attr.attr,
	&layer_replaces_attr.attr,
	&layer_path_attr.attr,
	NULL,
};

static struct bin_attribute *pl_layer_bin_attrs[] = {
	&bin_attr_files,
	NULL,
};

static const struct attribute_group pl_layer_group = {
	.attrs = pl_layer_attrs,
	.bin_attrs = pl_layer_bin_attrs,
};

static const struct attribute_group *pl_layer_groups[] = {
	&pl_layer_group,
	NULL,
};

static void pl_layer_release(struct kobject *kobj)
{
	pl_layer_free(to_pl_layer(kobj));
}

static struct kobj_type pl_layer_ktype = {
	.release = pl_layer_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = pl_layer_groups,
};

/* On failure the layer has been freed. */
int pl_layer_kobj_add(struct pl_layer *layer)
{
	int err;

	layer->kobj.kset = pl_layers_kset;
	err = kobject_init_and_add(&layer->kobj, &pl_layer_ktype, NULL, "%s", layer->name);
	if (err)
		kobject_put(&layer->kobj);
	return err;
}

int __init pl_sysfs_init(void)
{
	int err;

	pl_kobj = kobject_create_and_add("patchlayer", kernel_kobj);
	if (!pl_kobj)
		return -ENOMEM;

	err = sysfs_create_group(pl_kobj, &pl_attr_group);
	if (err)
		goto err_put;
	pl_layers_kset = kset_create_and_add("layers", NULL, pl_kobj);
	if (!pl_layers_kset) {
		err = -ENOMEM;
		goto err_group;
	}
	return 0;

err_group:
	sysfs_remove_group(pl_kobj, &pl_attr_group);
err_put:
	kobject_put(pl_kobj);
	pl_kobj = NULL;
	return err;
}

void pl_sysfs_exit(void)
{
	/* waits for writes in progress, so no layer can be loaded after it */
	sysfs_remove_group(pl_kobj, &pl_attr_group);
	pl_layers_exit();
	kset_unregister(pl_layers_kset);
	kobject_put(pl_kobj);
	pl_kobj = NULL;
}
