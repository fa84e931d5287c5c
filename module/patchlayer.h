/* SPDX-License-Identifier: GPL-2.0 */
/* Internal interfaces between the files of patchlayer.ko. */
#ifndef _PATCHLAYER_H
#define _PATCHLAYER_H

#include <linux/init.h>

#define PATCHLAYER_VERSION "0.1.0"

int __init pl_sysfs_init(void);
void pl_sysfs_exit(void);

int __init pl_netlink_init(void);
void pl_netlink_exit(void);

#endif /* _PATCHLAYER_H */
