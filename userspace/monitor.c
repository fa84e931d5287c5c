// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer monitor: prints the module's netlink events as they happen,
 * like "ip monitor". With -j, one JSON object per line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "../include/uapi/patchlayer.h"
#include "patchlayer.h"

static const char *const pl_event_names[] = {
	[PATCHLAYER_EVENT_LOADED] = "loaded",
	[PATCHLAYER_EVENT_UNLOADED] = "unloaded",
	[PATCHLAYER_EVENT_REJECTED] = "rejected",
	[PATCHLAYER_EVENT_STATE] = "state",
};

struct monitor {
	const struct pl_opts *o;
	long remaining;		/* events left to print, -1 for no limit */
};

static const char *pl_event_name(uint32_t ev)
{
	if (ev < sizeof(pl_event_names) / sizeof(pl_event_names[0]) && pl_event_names[ev])
		return pl_event_names[ev];
	return "unknown";
}

static const char *attr_str(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_string(tb[attr]) : NULL;
}

static int monitor_cb(struct nl_msg *msg, void *arg)
{
	static struct nla_policy policy[PATCHLAYER_ATTR_MAX + 1] = {
		[PATCHLAYER_ATTR_EVENT] = { .type = NLA_U32 },
		[PATCHLAYER_ATTR_LAYER] = { .type = NLA_STRING, .maxlen = 65 },
		[PATCHLAYER_ATTR_LAYER_VERSION] = { .type = NLA_STRING, .maxlen = 65 },
		[PATCHLAYER_ATTR_PATH] = { .type = NLA_STRING, .maxlen = 4096 },
		[PATCHLAYER_ATTR_ERRNO] = { .type = NLA_U32 },
		[PATCHLAYER_ATTR_DETAIL] = { .type = NLA_STRING, .maxlen = 1024 },
		[PATCHLAYER_ATTR_STATE] = { .type = NLA_STRING, .maxlen = 32 },
	};
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[PATCHLAYER_ATTR_MAX + 1];
	struct monitor *mon = arg;
	const char *layer, *version, *path, *detail, *state, *errname = NULL;
	uint32_t ev;

	if (gh->cmd != PATCHLAYER_CMD_EVENT ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, PATCHLAYER_ATTR_MAX, policy) < 0 ||
	    !tb[PATCHLAYER_ATTR_EVENT])
		return NL_SKIP;
	ev = nla_get_u32(tb[PATCHLAYER_ATTR_EVENT]);
	layer = attr_str(tb, PATCHLAYER_ATTR_LAYER);
	version = attr_str(tb, PATCHLAYER_ATTR_LAYER_VERSION);
	path = attr_str(tb, PATCHLAYER_ATTR_PATH);
	detail = attr_str(tb, PATCHLAYER_ATTR_DETAIL);
	state = attr_str(tb, PATCHLAYER_ATTR_STATE);
	if (tb[PATCHLAYER_ATTR_ERRNO])
		errname = strerrorname_np((int)nla_get_u32(tb[PATCHLAYER_ATTR_ERRNO]));

	if (mon->o->json) {
		struct json j;

		pl_json_line(&j);
		json_object_start(&j, NULL);
		json_string(&j, "event", pl_event_name(ev));
		layer ? json_string(&j, "layer", layer) : json_null(&j, "layer");
		version ? json_string(&j, "version", version) : json_null(&j, "version");
		path ? json_string(&j, "path", path) : json_null(&j, "path");
		state ? json_string(&j, "state", state) : json_null(&j, "state");
		errname ? json_string(&j, "errno", errname) : json_null(&j, "errno");
		detail ? json_string(&j, "detail", detail) : json_null(&j, "detail");
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("%s", pl_event_name(ev));
		if (layer)
			printf(" %s", layer);
		if (version)
			printf(" version \"%s\"", version);
		if (path)
			printf(" path %s", path);
		if (state)
			printf(" %s", state);
		if (errname)
			printf(" %s", errname);
		if (detail)
			printf(": %s", detail);
		putchar('\n');
	}
	if (mon->remaining > 0)
		mon->remaining--;
	/* a reader gone (EPIPE) or a full disk ends the watch: main says so */
	fflush(stdout);
	if (ferror(stdout))
		mon->remaining = 0;
	return NL_OK;
}

int cmd_monitor(int argc, char **argv, const struct pl_opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct monitor mon = { .o = o, .remaining = -1 };
	struct nl_sock *sk;
	char *end;
	int c, grp, err;

	optind = 0;	/* the command's own options, from argv[0] on */
	while ((c = getopt_long(argc + 1, argv - 1, "+c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			errno = 0;
			mon.remaining = strtol(optarg, &end, 10);
			if (errno || *end || mon.remaining <= 0) {
				pl_err("--count: '%s' is not a positive number", optarg);
				return PL_EXIT_USAGE;
			}
			break;
		default:
			return PL_EXIT_USAGE;
		}
	}
	if (optind != argc + 1) {
		pl_err("monitor: unexpected argument '%s'", argv[optind - 1]);
		return PL_EXIT_USAGE;
	}
	if (!pl_module_loaded())
		return pl_module_missing();

	sk = nl_socket_alloc();
	if (!sk) {
		pl_err_sys(ENOMEM, "netlink");
		return PL_EXIT_FAIL;
	}
	nl_socket_disable_seq_check(sk);
	err = genl_connect(sk);
	if (err >= 0)
		err = grp = genl_ctrl_resolve_grp(sk, PATCHLAYER_GENL_NAME,
						  PATCHLAYER_GENL_MCGRP_EVENTS);
	if (err >= 0)
		err = nl_socket_add_membership(sk, grp);
	if (err >= 0)
		err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, monitor_cb, &mon);
	if (err < 0) {
		pl_err("netlink family %s: %s", PATCHLAYER_GENL_NAME, nl_geterror(err));
		nl_socket_free(sk);
		return PL_EXIT_FAIL;
	}
	/* on stderr, so stdout has events only; tests wait for it */
	fprintf(stderr, "listening for patchlayer events\n");
	while (mon.remaining != 0) {
		err = nl_recvmsgs_default(sk);
		if (err < 0 && err != -NLE_INTR && err != -NLE_AGAIN) {
			pl_err("netlink: %s", nl_geterror(err));
			break;
		}
	}
	nl_socket_free(sk);
	return mon.remaining == 0 ? PL_EXIT_OK : PL_EXIT_FAIL;
}
