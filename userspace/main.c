// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer: vendor tools, administration and the policy daemon for
 * signed security patch layers. Conventions follow iproute2 and bpftool:
 * "patchlayer [OPTIONS] COMMAND [ARGS]", -j for JSON anywhere on the line,
 * errors on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "patchlayer.h"

#ifndef PL_VERSION
#define PL_VERSION "unknown"
#endif

struct pl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, const struct pl_opts *o);
	const char *help;
};

static const struct pl_cmd pl_cmds[] = {
	{ "status", cmd_status, "status                 module, trust and loaded layers" },
	{ "monitor", cmd_monitor, "monitor [--count N]    print the module's events as they happen" },
	{ "protect", cmd_protect, "protect DIR            cover a library directory with the patchlayer filesystem" },
	{ "unprotect", cmd_unprotect, "unprotect DIR          uncover it (refused while a layer is active on it)" },
	{ "build", cmd_build, "build --name N --version V --key K --cert C -o DIR [FILE=TARGET...]\n"
			      "                         make a signed layer" },
	{ "usage", cmd_usage, "usage [--stale] [--rescan] [LAYER]\n"
			      "                         processes running each layer's patched code, and stale ones\n"
			      "                         (--stale: only those, exit 1 if any; --rescan: walk every\n"
			      "                         mapping rather than the per-process lists)" },
	{ "enforce", cmd_enforce, "enforce on|off LAYER   refuse executable mappings of the layer's stale bases" },
	{ "bpf", cmd_bpf, "bpf load|unload|status|events [--count N]\n"
			  "                         the pinned BPF side (/sys/fs/bpf/patchlayer)" },
	{ "daemon", cmd_daemon, "daemon [--config FILE]  the policy daemon: inbox, automatic install, health watch" },
	{ "install", cmd_install, "install [--dry-run] NAME\n"
				  "                         load and activate a stored layer now (--dry-run: say\n"
				  "                         what would happen: base, stale processes, restarts)" },
	{ "activate", cmd_activate, "activate [--dry-run] NAME\n"
				    "                         activate a stored layer" },
	{ "drop", cmd_drop, "drop NAME              drop a stored layer (kept loaded, not re-activated)" },
	{ "remove", cmd_remove, "remove NAME            drop, unload and delete a layer from the store" },
	{ "layers", cmd_layers, "layers                 the store: each layer's state, since, hits, patched/stale, why" },
	{ "show", cmd_show, "show LAYER             a stored layer: files, packages, signer, state, processes,\n"
			    "                         history" },
	{ "inbox", cmd_inbox, "inbox                  deliveries pending and rejected, with the reason" },
	{ "log", cmd_log, "log [--layer NAME] [--since TIME]\n"
			  "                         the daemon's history of the store" },
	{ "config", cmd_config, "config check [--config FILE]\n"
				"                         check patchlayer.conf, print the effective values" },
	{ "package", cmd_package, "package [-o DIR] [--name SERIES] [--deb-version V] LAYERDIR\n"
				  "                         make a Debian package carrying the layer" },
	{ "deliver", cmd_deliver, "deliver [--wait S] [--retire NAME] LAYERDIR\n"
				  "                         copy a layer into the daemon's inbox, whole" },
	{ "undeliver", cmd_undeliver, "undeliver NAME         take a delivered layer out of the inbox and the store" },
	{ "verify", cmd_verify, "verify [--cert C]... [--base-root DIR] [--no-base] DIR\n"
				"                         check a layer as the kernel will" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Options:\n"
		"  -j, --json     JSON output\n"
		"  -p, --pretty   indented JSON output (implies -j)\n"
		"  -V, --version  print the version and exit\n"
		"  -h, --help     print this help and exit\n"
		"\n"
		"Commands:\n", pl_prog);
	for (size_t i = 0; i < sizeof(pl_cmds) / sizeof(pl_cmds[0]); i++)
		fprintf(out, "  %s\n", pl_cmds[i].help);
	fprintf(out,
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 3 module not loaded.\n");
}

/*
 * Takes the output options out of ARGV wherever they stand, as bpftool,
 * systemctl and apt accept them after the verb too ("patchlayer status
 * -j"); what follows "--" is left alone. The verbs never see them.
 */
static int pl_take_output_opts(int argc, char **argv, struct pl_opts *o)
{
	int n = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--pretty") ||
			   !strcmp(a, "-jp") || !strcmp(a, "-pj")) {
			o->json = o->pretty = true;
		} else {
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	return n;
}

static int pl_main(int argc, char **argv, struct pl_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	argc = pl_take_output_opts(argc, argv, o);
	/* stop at the command: its own options are its own */
	while ((c = getopt_long(argc, argv, "+jpVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'p':
			o->json = o->pretty = true;
			break;
		case 'V':
			if (o->json) {
				struct json j;

				pl_json_begin(&j, o);
				json_object_start(&j, NULL);
				json_string(&j, "version", PL_VERSION);
				json_object_end(&j);
				json_finish(&j);
			} else {
				printf("%s %s\n", pl_prog, PL_VERSION);
			}
			return PL_EXIT_OK;
		case 'h':
			o->json = false;	/* help is text */
			usage(stdout);
			return PL_EXIT_OK;
		default:
			usage(stderr);
			return PL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		pl_err("no command given");
		usage(stderr);
		return PL_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(pl_cmds) / sizeof(pl_cmds[0]); i++) {
		if (strcmp(argv[optind], pl_cmds[i].name) == 0)
			return pl_cmds[i].fn(argc - optind - 1, argv + optind + 1, o);
	}
	pl_err("unknown command '%s' (see '%s --help')", argv[optind], pl_prog);
	return PL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct pl_opts o = { 0 };
	int rc;

	pl_guard_stdio();
	rc = pl_main(argc, argv, &o);
	if (o.json)
		pl_json_error(rc, &o);
	return pl_close_stdout(rc);
}
