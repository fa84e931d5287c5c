// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's hands on patchlayer.ko: writes to /sys/kernel/patchlayer
 * (load, unload, a layer's state, trust), a layer's state as the kernel
 * says it, the directories to protect, and the netlink events that say
 * the kernel changed. Nothing here decides (lib/policy.c does).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "../include/uapi/patchlayer.h"
#include "daemon.h"
#include "layer.h"
#include "patchlayer.h"
#include "plbpf.h"
#include "run.h"

int sysfs_write(const char *rel, const char *text)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", pl_sysfs_dir(), rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

enum pl_kstate kstate_of(const char *name)
{
	char rel[PATH_MAX], buf[64];

	snprintf(rel, sizeof(rel), "layers/%s/state", name);
	if (pl_sysfs_read(rel, buf, sizeof(buf)) < 0)
		return PL_K_ABSENT;
	return pl_kstate_parse(buf);
}

int kernel_load(const char *dir)
{
	return sysfs_write("load", dir);
}

void protect_and_trust(void)
{
	char self[PATH_MAX];
	unsigned int i;
	ssize_t n;

	for (i = 0; i < cfg.n_trust; i++) {
		char *der = NULL;
		size_t len = 0;
		int err = pl_read_file(cfg.trust[i], 4096, &der, &len);

		if (!err) {
			int fd;
			char path[PATH_MAX];

			/* one write of the DER bytes, as the ABI asks */
			snprintf(path, sizeof(path), "%s/trust", pl_sysfs_dir());
			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, der, len) != (ssize_t)len)
				err = -errno;
			if (fd >= 0)
				close(fd);
		}
		free(der);
		if (err)
			dlog(LOG_ERR, "trust %s: %s", cfg.trust[i], strerror(-err));
	}
	/* protect is the command's own: the running binary, not one on PATH */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	for (i = 0; i < cfg.n_protect; i++) {
		char line[PL_CONFIG_PATH_MAX + 2];

		snprintf(line, sizeof(line), "%s", cfg.protect[i]);
		if (pl_dir_protected(line))
			continue;	/* already: the module lists it */
		if (!*self || pl_run((char *[]){ self, "protect", line, NULL }, false))
			dlog(LOG_ERR, "protect %s failed", line);
		else
			dlog(LOG_INFO, "protected %s", line);
	}
}

/*
 * The BPF side's maps follow what an event of the module names, that
 * layer only (plbpf.h): not every layer's files read again at every
 * event. Only the kernel's word counts (any local process may send to
 * this socket), and only for a layer name the store could hold.
 */
static void follow_event(struct nl_msg *msg)
{
	static struct nla_policy policy[PATCHLAYER_ATTR_MAX + 1] = {
		[PATCHLAYER_ATTR_EVENT] = { .type = NLA_U32 },
		[PATCHLAYER_ATTR_LAYER] = { .type = NLA_STRING, .maxlen = PL_NAME_MAX + 1 },
	};
	struct nlattr *tb[PATCHLAYER_ATTR_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	char name[PL_NAME_MAX + 1];
	enum pl_bpf_change what;

	if (!bpf || nlmsg_get_src(msg)->nl_pid != 0 || gh->cmd != PATCHLAYER_CMD_EVENT ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, PATCHLAYER_ATTR_MAX, policy) < 0 ||
	    !tb[PATCHLAYER_ATTR_EVENT] || !tb[PATCHLAYER_ATTR_LAYER])
		return;
	switch (nla_get_u32(tb[PATCHLAYER_ATTR_EVENT])) {
	case PATCHLAYER_EVENT_LOADED:
		what = PL_BPF_CHANGE_LOADED;
		break;
	case PATCHLAYER_EVENT_UNLOADED:
		what = PL_BPF_CHANGE_UNLOADED;
		break;
	case PATCHLAYER_EVENT_STATE:
		what = PL_BPF_CHANGE_STATE;
		break;
	default:	/* a refusal loads nothing */
		return;
	}
	nla_strlcpy(name, tb[PATCHLAYER_ATTR_LAYER], sizeof(name));
	if (valid_name(name))
		pl_bpf_sync_layer(bpf, name, what);
}

static int nl_event_cb(struct nl_msg *msg, void *arg)
{
	*(bool *)arg = true;
	follow_event(msg);
	return NL_OK;
}

static struct nl_sock *events_sk;

/*
 * The events of the daemon's own steps are queued on the socket when the
 * step returns: the maps follow them before anything reads the maps.
 */
void kernel_events_drain(void)
{
	if (events_sk)
		nl_recvmsgs_default(events_sk);
}

/*
 * A socket on the module's events group: any event sets *CHANGED (the
 * store is then reconciled whole) and updates the BPF side's maps for the
 * layer it names. NULL with the reason said on stderr.
 */
struct nl_sock *kernel_events_open(bool *changed)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err, grp;

	if (!sk)
		return NULL;
	nl_socket_disable_seq_check(sk);
	err = genl_connect(sk);
	if (err >= 0)
		err = grp = genl_ctrl_resolve_grp(sk, PATCHLAYER_GENL_NAME, PATCHLAYER_GENL_MCGRP_EVENTS);
	if (err >= 0)
		err = nl_socket_add_membership(sk, grp);
	if (err >= 0)
		err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, nl_event_cb, changed);
	if (err >= 0)
		err = nl_socket_set_nonblocking(sk);
	if (err < 0) {
		dlog(LOG_ERR, "netlink family %s: %s", PATCHLAYER_GENL_NAME, nl_geterror(err));
		nl_socket_free(sk);
		return NULL;
	}
	events_sk = sk;
	return sk;
}
