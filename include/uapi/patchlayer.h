/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * patchlayer user-space ABI: the generic netlink family shared by the
 * module and the patchlayer command. Numbers are ABI: append, never reorder.
 */
#ifndef _UAPI_PATCHLAYER_H
#define _UAPI_PATCHLAYER_H

#define PATCHLAYER_GENL_NAME		"patchlayer"
#define PATCHLAYER_GENL_VERSION		1
#define PATCHLAYER_GENL_MCGRP_EVENTS	"events"

enum patchlayer_cmd {
	PATCHLAYER_CMD_UNSPEC,
	PATCHLAYER_CMD_GET_INFO,	/* request; the reply carries ATTR_VERSION */

	__PATCHLAYER_CMD_MAX,
};
#define PATCHLAYER_CMD_MAX (__PATCHLAYER_CMD_MAX - 1)

enum patchlayer_attr {
	PATCHLAYER_ATTR_UNSPEC,
	PATCHLAYER_ATTR_VERSION,	/* string: module version */

	__PATCHLAYER_ATTR_MAX,
};
#define PATCHLAYER_ATTR_MAX (__PATCHLAYER_ATTR_MAX - 1)

#endif /* _UAPI_PATCHLAYER_H */
