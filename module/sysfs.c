// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/patchlayer: the configuration and status interface.
 * The ABI is documented in docs/ABI/sysfs-kernel-patchlayer.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "patchlayer.h"

static struct kobject *pl_kobj;

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", PATCHLAYER_VERSION);
}
static struct kobj_attribute version_attr = __ATTR_RO(version);

static struct attribute *pl_attrs[] = {
	&version_attr.attr,
	NULL,
};

static const struct attribute_group pl_attr_group = {
	.attrs = pl_attrs,
};

int __init pl_sysfs_init(void)
{
	int err;

	pl_kobj = kobject_create_and_add("patchlayer", kernel_kobj);
	if (!pl_kobj)
		return -ENOMEM;

	err = sysfs_create_group(pl_kobj, &pl_attr_group);
	if (err) {
		kobject_put(pl_kobj);
		pl_kobj = NULL;
	}
	return err;
}

void pl_sysfs_exit(void)
{
	sysfs_remove_group(pl_kobj, &pl_attr_group);
	kobject_put(pl_kobj);
	pl_kobj = NULL;
}
