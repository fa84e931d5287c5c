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
	PATCHLAYER_CMD_EVENT,		/* multicast on "events"; ATTR_EVENT says which */

	__PATCHLAYER_CMD_MAX,
};
#define PATCHLAYER_CMD_MAX (__PATCHLAYER_CMD_MAX - 1)

enum patchlayer_attr {
	PATCHLAYER_ATTR_UNSPEC,
	PATCHLAYER_ATTR_VERSION,	/* string: module version */
	PATCHLAYER_ATTR_EVENT,		/* u32: enum patchlayer_event */
	PATCHLAYER_ATTR_LAYER,		/* string: layer name */
	PATCHLAYER_ATTR_LAYER_VERSION,	/* string: the layer's version */
	PATCHLAYER_ATTR_PATH,		/* string: the layer's directory */
	PATCHLAYER_ATTR_ERRNO,		/* u32: positive errno of a refusal */
	PATCHLAYER_ATTR_DETAIL,		/* string: why, for people */
	PATCHLAYER_ATTR_STATE,		/* string: the layer's new state */

	__PATCHLAYER_ATTR_MAX,
};
#define PATCHLAYER_ATTR_MAX (__PATCHLAYER_ATTR_MAX - 1)

enum patchlayer_event {
	PATCHLAYER_EVENT_UNSPEC,
	PATCHLAYER_EVENT_LOADED,	/* LAYER, LAYER_VERSION, PATH, DETAIL */
	PATCHLAYER_EVENT_UNLOADED,	/* LAYER, LAYER_VERSION, PATH */
	PATCHLAYER_EVENT_REJECTED,	/* PATH, ERRNO, DETAIL, LAYER if known */
	PATCHLAYER_EVENT_STATE,		/* LAYER, LAYER_VERSION, STATE, DETAIL */

	__PATCHLAYER_EVENT_MAX,
};
#define PATCHLAYER_EVENT_MAX (__PATCHLAYER_EVENT_MAX - 1)

#endif /* _UAPI_PATCHLAYER_H */
