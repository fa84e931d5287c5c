// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's history of the store (<store>/.log), filtered by layer and
 * time: "patchlayer log --layer NAME --since TIME" and "show"'s history.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/logq.h"
#include "history.h"
#include "patchlayer.h"

int pl_history_each(const char *store, const char *layer, time_t since,
		    int (*fn)(const struct pl_log_line *l, const char *line, void *ctx), void *ctx)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int ret = 0;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/.log", store) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* no history yet */
	while (!ret && (got = getline(&line, &cap, f)) > 0) {
		struct pl_log_line l;

		if (line[got - 1] == '\n')
			line[--got] = '\0';
		if (pl_log_line_parse(line, (size_t)got, &l)) {
			/* another shape (a line cut by a crash): kept unless filtered */
			if (layer || since)
				continue;
			memset(&l, 0, sizeof(l));
		} else if ((layer && (strlen(layer) != l.name_len ||
				      memcmp(layer, l.name, l.name_len))) || l.when < since) {
			continue;
		}
		ret = fn(&l, line, ctx);
	}
	if (!ret && ferror(f))
		ret = -EIO;
	free(line);
	fclose(f);
	return ret;
}

void pl_history_json(struct json *j, const struct pl_log_line *l, const char *line)
{
	char stamp[32], *text;

	json_object_start(j, NULL);
	if (!l->name) {	/* unparsed: the line as it is */
		json_null(j, "time");
		json_null(j, "layer");
		json_string(j, "message", line);
		json_object_end(j);
		return;
	}
	snprintf(stamp, sizeof(stamp), "%.20s", line);
	json_string(j, "time", stamp);
	text = strndup(l->name, l->name_len);
	json_string(j, "layer", text ? text : "?");
	free(text);
	text = strndup(l->msg, l->msg_len);
	json_string(j, "message", text ? text : "?");
	free(text);
	json_object_end(j);
}

struct log_print {
	struct json j;
	bool json;
};

static int log_line(const struct pl_log_line *l, const char *line, void *ctx)
{
	struct log_print *p = ctx;

	if (p->json)
		pl_history_json(&p->j, l, line);
	else
		printf("%s\n", line);
	return 0;
}

int pl_history_cmd(const char *store, int argc, char **argv, const struct pl_opts *o)
{
	const char *layer = NULL;
	struct log_print p = { .json = o->json };
	time_t since = 0;
	int err;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--layer") && i + 1 < argc) {
			layer = argv[++i];
		} else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
			if (pl_since_parse(argv[++i], time(NULL), &since)) {
				pl_err("log --since: '%s' is not a time (e.g. \"2026-11-28 10:00\", "
				       "-1h, -2d, today)", argv[i]);
				return PL_EXIT_USAGE;
			}
		} else {
			pl_err("log: unexpected argument '%s' (--layer NAME, --since TIME)", argv[i]);
			return PL_EXIT_USAGE;
		}
	}
	if (o->json) {
		pl_json_begin(&p.j, o);
		json_array_start(&p.j, NULL);
	}
	err = pl_history_each(store, layer, since, log_line, &p);
	if (o->json) {
		json_array_end(&p.j);
		json_finish(&p.j);
	}
	if (err) {
		pl_err_sys(err, "%s/.log", store);
		return PL_EXIT_FAIL;
	}
	return PL_EXIT_OK;
}
