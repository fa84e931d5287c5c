// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer: signed security patch layers for shared libraries.
 *
 * This file only orders the start-up and tear-down of the parts; each part
 * lives in a file of its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "patchlayer.h"

bool pl_require_signature = true;
module_param_named(require_signature, pl_require_signature, bool, 0444);
MODULE_PARM_DESC(require_signature,
		 "Refuse layers without a valid signature (default: 1; set at load time only)");

static int __init patchlayer_init(void)
{
	int err;

	err = pl_verify_init();
	if (err)
		return err;
	err = pl_watch_init();
	if (err)
		goto err_verify;
	err = pl_redirect_init();
	if (err)
		goto err_watch;
	err = pl_netlink_init();
	if (err)
		goto err_redirect;
	/* last: sysfs is how user space reaches everything else */
	err = pl_sysfs_init();
	if (err)
		goto err_netlink;
	err = pl_fs_init();
	if (err)
		goto err_sysfs;

	pr_info("version %s loaded%s\n", PATCHLAYER_VERSION,
		pl_require_signature ? "" : ", signatures NOT required");
	return 0;

err_sysfs:
	pl_sysfs_exit();
err_netlink:
	pl_netlink_exit();
err_redirect:
	pl_redirect_exit();
err_watch:
	pl_watch_exit();
err_verify:
	pl_verify_exit();
	return err;
}

static void __exit patchlayer_exit(void)
{
	pl_fs_exit();		/* nothing is mounted: a mount pins the module */
	pl_sysfs_exit();	/* drops and unloads every layer */
	pl_redirect_exit();	/* frees the last tables, so the layers */
	pl_watch_exit();
	pl_netlink_exit();
	pl_verify_exit();
}

module_init(patchlayer_init);
module_exit(patchlayer_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The patchlayer authors");
MODULE_DESCRIPTION("Signed security patch layers for shared libraries");
MODULE_VERSION(PATCHLAYER_VERSION);
