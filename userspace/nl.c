// SPDX-License-Identifier: GPL-2.0
/* Requests to the module's "patchlayer" generic netlink family (libnl-genl). */
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "../include/uapi/patchlayer.h"
#include "patchlayer.h"

static int pl_nl_info_cb(struct nl_msg *msg, void *arg)
{
	static struct nla_policy policy[PATCHLAYER_ATTR_MAX + 1] = {
		[PATCHLAYER_ATTR_VERSION] = { .type = NLA_STRING, .maxlen = 32 },
	};
	struct nlattr *tb[PATCHLAYER_ATTR_MAX + 1];
	struct pl_nl_info *info = arg;
	int err;

	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, PATCHLAYER_ATTR_MAX, policy);
	if (err < 0)
		return NL_STOP;
	if (tb[PATCHLAYER_ATTR_VERSION])
		nla_strlcpy(info->version, tb[PATCHLAYER_ATTR_VERSION],
			    sizeof(info->version));
	return NL_OK;
}

/* Returns 0 or a negative libnl error code (see nl_geterror()). */
int pl_nl_get_info(struct pl_nl_info *info)
{
	struct nl_sock *sk;
	struct nl_msg *msg = NULL;
	int err;

	memset(info, 0, sizeof(*info));
	sk = nl_socket_alloc();
	if (!sk)
		return -NLE_NOMEM;
	err = genl_connect(sk);
	if (err < 0)
		goto out;

	info->family_id = genl_ctrl_resolve(sk, PATCHLAYER_GENL_NAME);
	if (info->family_id < 0) {
		err = info->family_id;
		goto out;
	}
	info->events_group = genl_ctrl_resolve_grp(sk, PATCHLAYER_GENL_NAME,
						   PATCHLAYER_GENL_MCGRP_EVENTS);
	if (info->events_group < 0) {
		err = info->events_group;
		goto out;
	}

	msg = nlmsg_alloc();
	if (!msg) {
		err = -NLE_NOMEM;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, info->family_id, 0, 0,
			 PATCHLAYER_CMD_GET_INFO, PATCHLAYER_GENL_VERSION)) {
		err = -NLE_NOMEM;
		goto out;
	}
	err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, pl_nl_info_cb, info);
	if (err < 0)
		goto out;
	err = nl_send_sync(sk, msg);	/* sends, waits for the ACK, frees msg */
	msg = NULL;
	if (err >= 0 && !info->version[0])
		err = -NLE_MSG_TRUNC;
out:
	nlmsg_free(msg);
	nl_socket_free(sk);
	return err < 0 ? err : 0;
}
