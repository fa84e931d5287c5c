// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer: signed security patch layers for shared libraries.
 *
 * This file only orders the start-up and tear-down of the parts; each part
 * lives in a file of its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "patchlayer.h"

static int __init patchlayer_init(void)
{
	int err;

	err = pl_sysfs_init();
	if (err)
		return err;

	err = pl_netlink_init();
	if (err)
		goto err_sysfs;

	pr_info("version %s loaded\n", PATCHLAYER_VERSION);
	return 0;

err_sysfs:
	pl_sysfs_exit();
	return err;
}

static void __exit patchlayer_exit(void)
{
	pl_netlink_exit();
	pl_sysfs_exit();
}

module_init(patchlayer_init);
module_exit(patchlayer_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The patchlayer authors");
MODULE_DESCRIPTION("Signed security patch layers for shared libraries");
MODULE_VERSION(PATCHLAYER_VERSION);
