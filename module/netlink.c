// SPDX-License-Identifier: GPL-2.0
/*
 * The "patchlayer" generic netlink family: requests from the patchlayer
 * command and the "events" multicast group the policy daemon listens to.
 */
#include <net/genetlink.h>

#include "../include/uapi/patchlayer.h"
#include "patchlayer.h"
#include "trace.h"

static struct genl_family pl_genl_family;

static int pl_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err = -ENOMEM;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		goto out;

	hdr = genlmsg_put_reply(msg, info, &pl_genl_family, 0,
				PATCHLAYER_CMD_GET_INFO);
	if (!hdr)
		goto err_free;

	err = nla_put_string(msg, PATCHLAYER_ATTR_VERSION, PATCHLAYER_VERSION);
	if (err)
		goto err_free;

	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
	goto out;

err_free:
	nlmsg_free(msg);
out:
	trace_patchlayer_request("get_info", "", err);
	return err;
}

/* Requests carry no attributes yet; strict validation refuses any. */
static const struct nla_policy pl_genl_policy[PATCHLAYER_ATTR_MAX + 1] = {
	[PATCHLAYER_ATTR_VERSION] = { .type = NLA_REJECT },
	[PATCHLAYER_ATTR_EVENT] = { .type = NLA_REJECT },
	[PATCHLAYER_ATTR_LAYER] = { .type = NLA_REJECT },
	[PATCHLAYER_ATTR_LAYER_VERSION] = { .type = NLA_REJECT },
	[PATCHLAYER_ATTR_PATH] = { .type = NLA_REJECT },
	[PATCHLAYER_ATTR_ERRNO] = { .type = NLA_REJECT },
	[PATCHLAYER_ATTR_DETAIL] = { .type = NLA_REJECT },
	[PATCHLAYER_ATTR_STATE] = { .type = NLA_REJECT },
};

static const struct genl_small_ops pl_genl_ops[] = {
	{
		.cmd = PATCHLAYER_CMD_GET_INFO,
		.doit = pl_nl_get_info,
	},
};

static const struct genl_multicast_group pl_genl_mcgrps[] = {
	{ .name = PATCHLAYER_GENL_MCGRP_EVENTS, },
};

static struct genl_family pl_genl_family __ro_after_init = {
	.name = PATCHLAYER_GENL_NAME,
	.version = PATCHLAYER_GENL_VERSION,
	.maxattr = PATCHLAYER_ATTR_MAX,
	.policy = pl_genl_policy,
	.module = THIS_MODULE,
	.small_ops = pl_genl_ops,
	.n_small_ops = ARRAY_SIZE(pl_genl_ops),
	/* strict attribute validation for every command, none is legacy */
	.resv_start_op = PATCHLAYER_CMD_GET_INFO,
	.mcgrps = pl_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(pl_genl_mcgrps),
};

static int pl_nl_put_str(struct sk_buff *msg, int attr, const char *s)
{
	return s ? nla_put_string(msg, attr, s) : 0;
}

/*
 * Multicasts an event to the "events" group; NULL strings and a zero
 * errno are left out. Best effort: an event that cannot be built or that
 * nobody listens to is dropped, never an error for the operation it reports.
 */
static void pl_nl_send(u32 event, const char *layer, const char *version,
		       const char *path, const char *state, int err, const char *detail)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &pl_genl_family, 0, PATCHLAYER_CMD_EVENT);
	if (!hdr ||
	    nla_put_u32(msg, PATCHLAYER_ATTR_EVENT, event) ||
	    pl_nl_put_str(msg, PATCHLAYER_ATTR_LAYER, layer) ||
	    pl_nl_put_str(msg, PATCHLAYER_ATTR_LAYER_VERSION, version) ||
	    pl_nl_put_str(msg, PATCHLAYER_ATTR_PATH, path) ||
	    pl_nl_put_str(msg, PATCHLAYER_ATTR_STATE, state) ||
	    (err && nla_put_u32(msg, PATCHLAYER_ATTR_ERRNO, -err)) ||
	    pl_nl_put_str(msg, PATCHLAYER_ATTR_DETAIL, detail)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&pl_genl_family, msg, 0, 0, GFP_KERNEL);
}

/* A layer loaded, unloaded or refused. */
void pl_nl_notify(u32 event, const char *layer, const char *version,
		  const char *path, int err, const char *detail)
{
	pl_nl_send(event, layer, version, path, NULL, err, detail);
}

/* A layer changed state: activated, dropped, stale, superseded. */
void pl_nl_notify_state(struct pl_layer *layer, const char *detail)
{
	pl_nl_send(PATCHLAYER_EVENT_STATE, layer->name, layer->version, NULL,
		   pl_layer_state_name(layer->state), 0, detail);
}

int __init pl_netlink_init(void)
{
	return genl_register_family(&pl_genl_family);
}

void pl_netlink_exit(void)
{
	genl_unregister_family(&pl_genl_family);
}
