// SPDX-License-Identifier: GPL-2.0
/*
 * patchlayer: vendor tools, administration and the policy daemon for
 * signed security patch layers. Conventions follow iproute2 and bpftool:
 * "patchlayer [OPTIONS] OBJECT {COMMAND | help} [ARGS]", -j for JSON
 * anywhere on the line, errors on stderr; the flat verbs of earlier
 * versions kept.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "patchlayer.h"

#ifndef PL_VERSION
#define PL_VERSION "unknown"
#endif

/* The most names one level offers: an object's commands and "help". */
#define PL_NAMES_MAX 16

struct pl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, const struct pl_opts *o);
	const char *args;	/* what follows the name, for help */
	const char *help;
};

/* An object's commands; the first is what the object alone runs. */
static const struct pl_cmd pl_layer_cmds[] = {
	{ "list", cmd_layers, "",
	  "the store: each layer's state, since, hits, patched/stale, why" },
	{ "show", cmd_show, "LAYER",
	  "a stored layer: files, packages, signer, state, processes, history" },
	{ "install", cmd_install, "[--dry-run] NAME",
	  "load and activate a stored layer now (--dry-run: say what would\n"
	  "happen: base, stale processes, restarts)" },
	{ "activate", cmd_activate, "[--dry-run] NAME", "activate a stored layer" },
	{ "drop", cmd_drop, "NAME", "drop a stored layer (kept loaded, not re-activated)" },
	{ "remove", cmd_remove, "NAME", "drop, unload and delete a layer from the store" },
	{ "usage", cmd_usage, "[--stale] [--rescan] [LAYER]",
	  "processes running each layer's patched code, and stale ones\n"
	  "(--stale: only those, exit 1 if any; --rescan: walk every\n"
	  "mapping rather than the per-process lists)" },
	{ "enforce", cmd_enforce, "on|off LAYER",
	  "refuse executable mappings of the layer's stale bases" },
	{ "build", cmd_build, "--name N --version V --key K --cert C -o DIR [FILE=TARGET...]",
	  "make a signed layer" },
	{ "verify", cmd_verify, "[--cert C]... [--base-root DIR] [--no-base] DIR",
	  "check a layer as the kernel will" },
	{ "package", cmd_package, "[-o DIR] [--name SERIES] [--deb-version V] LAYERDIR",
	  "make a Debian package carrying the layer" },
	{ "deliver", cmd_deliver, "[--wait S] [--retire NAME] LAYERDIR",
	  "copy a layer into the daemon's inbox, whole" },
	{ "undeliver", cmd_undeliver, "NAME",
	  "take a delivered layer out of the inbox and the store" },
};

static const struct pl_cmd pl_dir_cmds[] = {
	{ "list", cmd_dir_list, "", "the protected library directories" },
	{ "protect", cmd_protect, "DIR",
	  "cover a library directory with the patchlayer filesystem" },
	{ "unprotect", cmd_unprotect, "DIR",
	  "uncover it (refused while a layer is active on it)" },
};

static const struct pl_cmd pl_bpf_cmds[] = {
	{ "status", cmd_bpf_status, "", "each layer's enforcement, crashes and denials" },
	{ "load", cmd_bpf_load, "", "load and pin the BPF side (/sys/fs/bpf/patchlayer)" },
	{ "unload", cmd_bpf_unload, "", "unpin it" },
	{ "events", cmd_bpf_events, "[--count N]", "print its events as they happen" },
};

static const struct pl_cmd pl_inbox_cmds[] = {
	{ "list", cmd_inbox, "", "deliveries pending and rejected, with the reason" },
};

static const struct pl_cmd pl_log_cmds[] = {
	{ "show", cmd_log, "[--layer NAME] [--since TIME]", "the daemon's history of the store" },
};

static const struct pl_cmd pl_config_cmds[] = {
	{ "check", cmd_config_check, "[--config FILE]",
	  "check patchlayer.conf, print the effective values" },
};

#define PL_CMDS(a) a, sizeof(a) / sizeof(a[0])

/*
 * "patchlayer OBJECT COMMAND", as bpftool; status, monitor and daemon
 * stand alone (no cmds): each is about the whole of patchlayer, not one
 * kind of thing in it, and the unit and scripts start "patchlayer daemon".
 */
static const struct pl_obj {
	const char *name;
	const struct pl_cmd *cmds;
	size_t n;
	int (*fn)(int argc, char **argv, const struct pl_opts *o);
	const char *help;
} pl_objs[] = {
	{ "layer", PL_CMDS(pl_layer_cmds), NULL, "signed layers: made, checked, delivered, stored" },
	{ "dir", PL_CMDS(pl_dir_cmds), NULL, "the protected library directories" },
	{ "bpf", PL_CMDS(pl_bpf_cmds), NULL, "the pinned BPF side" },
	{ "inbox", PL_CMDS(pl_inbox_cmds), NULL, "the daemon's inbox" },
	{ "log", PL_CMDS(pl_log_cmds), NULL, "the daemon's history" },
	{ "config", PL_CMDS(pl_config_cmds), NULL, "patchlayer.conf" },
	{ "status", NULL, 0, cmd_status, "module, trust, daemon, directories and loaded layers" },
	{ "monitor", NULL, 0, cmd_monitor, "[--count N]: print the module's events as they happen" },
	{ "daemon", NULL, 0, cmd_daemon, "[--config FILE]: the policy daemon (patchlayer.service)" },
};

_Static_assert(sizeof(pl_objs) / sizeof(pl_objs[0]) < PL_NAMES_MAX, "PL_NAMES_MAX");
_Static_assert(sizeof(pl_layer_cmds) / sizeof(pl_layer_cmds[0]) < PL_NAMES_MAX, "PL_NAMES_MAX");

/* The flat verbs of earlier versions, kept for scripts: exact names only. */
static const struct {
	const char *name, *obj, *cmd;
} pl_old[] = {
	{ "layers", "layer", "list" },
	{ "show", "layer", "show" },
	{ "install", "layer", "install" },
	{ "activate", "layer", "activate" },
	{ "drop", "layer", "drop" },
	{ "remove", "layer", "remove" },
	{ "usage", "layer", "usage" },
	{ "enforce", "layer", "enforce" },
	{ "build", "layer", "build" },
	{ "verify", "layer", "verify" },
	{ "package", "layer", "package" },
	{ "deliver", "layer", "deliver" },
	{ "undeliver", "layer", "undeliver" },
	{ "protect", "dir", "protect" },
	{ "unprotect", "dir", "unprotect" },
};

/* Prints NAME's help line, the continuation lines indented under it. */
static void help_line(FILE *out, const char *name, const char *help)
{
	fprintf(out, "  %-10s ", name);
	for (const char *p = help; *p; p++) {
		fputc(*p, out);
		if (*p == '\n')
			fprintf(out, "  %-10s ", "");
	}
	fputc('\n', out);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [OPTIONS] OBJECT {COMMAND | help} [ARGS]\n"
		"       %s [OPTIONS] {status | monitor | daemon | help} [ARGS]\n"
		"\n"
		"Options (anywhere on the line):\n"
		"  -j, --json     JSON output\n"
		"  -p, --pretty   indented JSON output (implies -j)\n"
		"  -V, --version  print the version and exit\n"
		"  -h, --help     print this help and exit\n"
		"\n"
		"Objects (\"%s OBJECT help\" lists the commands, the first runs alone):\n",
		pl_prog, pl_prog, pl_prog);
	for (size_t i = 0; i < sizeof(pl_objs) / sizeof(pl_objs[0]); i++) {
		const struct pl_obj *ob = &pl_objs[i];
		int col;

		if (!ob->cmds)
			continue;
		help_line(out, ob->name, ob->help);
		col = fprintf(out, "%13s{ %s", "", ob->cmds[0].name);
		for (size_t k = 1; k <= ob->n; k++) {
			const char *name = k < ob->n ? ob->cmds[k].name : "help";

			if (col + 3 + (int)strlen(name) > 76)
				col = fprintf(out, " |\n%15s%s", "", name) - 3;
			else
				col += fprintf(out, " | %s", name);
		}
		fprintf(out, " }\n");
	}
	fprintf(out, "\nCommands:\n");
	for (size_t i = 0; i < sizeof(pl_objs) / sizeof(pl_objs[0]); i++) {
		if (!pl_objs[i].cmds)
			help_line(out, pl_objs[i].name, pl_objs[i].help);
	}
	help_line(out, "help", "this help (-h, --help)");
	fprintf(out,
		"\n"
		"Objects and commands may be shortened to any unambiguous prefix. The\n"
		"flat verbs of earlier versions (layers, show, install, protect, ...)\n"
		"still work, for scripts.\n"
		"Exit status: 0 success, 1 failure, 2 usage error, 3 module not loaded.\n");
}

static void obj_usage(FILE *out, const struct pl_obj *ob)
{
	fprintf(out, "Usage: %s [OPTIONS] %s {COMMAND | help} [ARGS]\n\nCommands:\n",
		pl_prog, ob->name);
	for (size_t k = 0; k < ob->n; k++) {
		char line[512];

		snprintf(line, sizeof(line), "%s%s%s", ob->cmds[k].args,
			 ob->cmds[k].args[0] ? "\n" : "", ob->cmds[k].help);
		help_line(out, ob->cmds[k].name, line);
	}
	help_line(out, "help", "this list");
	fprintf(out, "\n\"%s %s\" alone, or followed by options, runs \"%s %s %s\".\n",
		pl_prog, ob->name, pl_prog, ob->name, ob->cmds[0].name);
}

/*
 * Finds WORD among the N NAMES: the exact name, else the one name it is a
 * prefix of, as bpftool takes "patchlayer layer sh". -1 when none; -2,
 * the candidates said on stderr after WHAT, when more than one.
 */
static int pl_lookup(const char *word, const char *const *names, size_t n, const char *what)
{
	size_t len = strlen(word), hits = 0;
	char list[256] = "";
	int found = -1;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(word, names[i]))
			return (int)i;
	}
	for (size_t i = 0; len && i < n; i++) {
		size_t used = strlen(list);

		if (strncmp(word, names[i], len))
			continue;
		snprintf(list + used, sizeof(list) - used, "%s%s", hits ? ", " : "", names[i]);
		found = (int)i;
		hits++;
	}
	if (hits > 1) {
		pl_err("ambiguous %s '%s': %s", what, word, list);
		return -2;
	}
	return found;
}

/*
 * Runs OB's command named (or begun) by ARGV[0]; its default when ARGV
 * holds none or starts with an option.
 */
static int pl_run_obj(const struct pl_obj *ob, int argc, char **argv, struct pl_opts *o)
{
	const struct pl_cmd *cmd = &ob->cmds[0];
	const char *names[PL_NAMES_MAX];
	int k;

	if (argc > 0 && argv[0][0] != '-') {
		for (size_t i = 0; i < ob->n; i++)
			names[i] = ob->cmds[i].name;
		names[ob->n] = "help";
		k = pl_lookup(argv[0], names, ob->n + 1, "command");
		if (k == -2)
			return PL_EXIT_USAGE;
		if (k < 0) {
			pl_err("%s: unknown command '%s' (see '%s %s help')", ob->name, argv[0],
			       pl_prog, ob->name);
			return PL_EXIT_USAGE;
		}
		if ((size_t)k == ob->n) {
			o->json = false;	/* help is text */
			obj_usage(stdout, ob);
			return PL_EXIT_OK;
		}
		cmd = &ob->cmds[k];
		/* the full name, for the messages getopt makes from it */
		argv[0] = (char *)cmd->name;
		argc--;
		argv++;
	}
	return cmd->fn(argc, argv, o);
}

/* ARGV[0] is the object, the stand-alone command or a flat verb of old. */
static int pl_dispatch(int argc, char **argv, struct pl_opts *o)
{
	const size_t n = sizeof(pl_objs) / sizeof(pl_objs[0]);
	const char *names[PL_NAMES_MAX];
	const struct pl_obj *ob;
	int i;

	for (size_t k = 0; k < n; k++)
		names[k] = pl_objs[k].name;
	names[n] = "help";
	for (size_t v = 0; v < sizeof(pl_old) / sizeof(pl_old[0]); v++) {
		if (strcmp(argv[0], pl_old[v].name))
			continue;
		i = pl_lookup(pl_old[v].obj, names, n, "object");
		/* "show X" runs as "layer show X": the verb names the command */
		argv[0] = (char *)pl_old[v].cmd;
		return pl_run_obj(&pl_objs[i], argc, argv, o);
	}
	i = pl_lookup(argv[0], names, n + 1, "object or command");
	if (i == -2)
		return PL_EXIT_USAGE;
	if (i < 0) {
		pl_err("unknown command '%s' (see '%s help')", argv[0], pl_prog);
		return PL_EXIT_USAGE;
	}
	if ((size_t)i == n) {
		o->json = false;
		usage(stdout);
		return PL_EXIT_OK;
	}
	ob = &pl_objs[i];
	if (!ob->cmds)
		return ob->fn(argc - 1, argv + 1, o);
	return pl_run_obj(ob, argc - 1, argv + 1, o);
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
	return pl_dispatch(argc - optind, argv + optind, o);
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
