// SPDX-License-Identifier: GPL-2.0
/* patchlayer status: the module's state as sysfs and netlink report it. */
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>

#include "patchlayer.h"

int cmd_status(int argc, char **argv, const struct pl_opts *o)
{
	char version[64];
	struct pl_nl_info nl;
	struct json j;
	int err, nl_err;

	(void)argv;
	if (argc > 0) {
		pl_err("status takes no arguments");
		return PL_EXIT_USAGE;
	}
	if (!pl_module_loaded()) {
		if (o->json) {
			pl_json_begin(&j, o);
			json_object_start(&j, NULL);
			json_object_start(&j, "module");
			json_bool(&j, "loaded", false);
			json_object_end(&j);
			json_object_end(&j);
			json_finish(&j);
		}
		return pl_module_missing();
	}

	err = pl_sysfs_read("version", version, sizeof(version));
	if (err < 0) {
		pl_err("%s/version: %s", pl_sysfs_dir(), strerror(-err));
		return PL_EXIT_FAIL;
	}
	nl_err = pl_nl_get_info(&nl);

	if (o->json) {
		pl_json_begin(&j, o);
		json_object_start(&j, NULL);
		json_object_start(&j, "module");
		json_bool(&j, "loaded", true);
		json_string(&j, "version", version);
		json_string(&j, "sysfs", pl_sysfs_dir());
		json_object_end(&j);
		json_object_start(&j, "netlink");
		if (nl_err) {
			json_string(&j, "error", nl_geterror(nl_err));
		} else {
			json_string(&j, "family", "patchlayer");
			json_uint(&j, "family_id", (unsigned int)nl.family_id);
			json_uint(&j, "events_group", (unsigned int)nl.events_group);
			json_string(&j, "version", nl.version);
		}
		json_object_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("module:  patchlayer %s (%s)\n", version, pl_sysfs_dir());
		if (nl_err)
			printf("netlink: error: %s\n", nl_geterror(nl_err));
		else
			printf("netlink: family patchlayer id %d, events group %d\n",
			       nl.family_id, nl.events_group);
	}
	if (nl_err) {
		pl_err("netlink family %s: %s", "patchlayer", nl_geterror(nl_err));
		return PL_EXIT_FAIL;
	}
	if (strcmp(nl.version, version) != 0) {
		pl_err("sysfs reports version %s but netlink %s", version, nl.version);
		return PL_EXIT_FAIL;
	}
	return PL_EXIT_OK;
}
