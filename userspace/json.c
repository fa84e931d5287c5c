// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>

#include "json.h"

void json_init(struct json *j, FILE *out, bool pretty)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
	j->pretty = pretty;
}

static void json_indent(struct json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

static void json_quoted(struct json *j, const char *s)
{
	fputc('"', j->out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", j->out); break;
		case '\\': fputs("\\\\", j->out); break;
		case '\n': fputs("\\n", j->out); break;
		case '\r': fputs("\\r", j->out); break;
		case '\t': fputs("\\t", j->out); break;
		case '\b': fputs("\\b", j->out); break;
		case '\f': fputs("\\f", j->out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(j->out, "\\u%04x", *p);
			else
				fputc(*p, j->out);
		}
	}
	fputc('"', j->out);
}

/* Separator, indentation and the member name, if inside an object. */
static void json_member(struct json *j, const char *name)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (j->depth > 0)
		json_indent(j);
	if (name) {
		json_quoted(j, name);
		fputs(j->pretty ? ": " : ":", j->out);
	}
}

static void json_open(struct json *j, const char *name, char bracket)
{
	json_member(j, name);
	fputc(bracket, j->out);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char bracket)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		json_indent(j);
	fputc(bracket, j->out);
}

void json_object_start(struct json *j, const char *name)
{
	json_open(j, name, '{');
}

void json_object_end(struct json *j)
{
	json_close(j, '}');
}

void json_array_start(struct json *j, const char *name)
{
	json_open(j, name, '[');
}

void json_array_end(struct json *j)
{
	json_close(j, ']');
}

void json_string(struct json *j, const char *name, const char *value)
{
	json_member(j, name);
	json_quoted(j, value);
}

void json_uint(struct json *j, const char *name, uint64_t value)
{
	json_member(j, name);
	fprintf(j->out, "%" PRIu64, value);
}

void json_int(struct json *j, const char *name, int64_t value)
{
	json_member(j, name);
	fprintf(j->out, "%" PRId64, value);
}

void json_bool(struct json *j, const char *name, bool value)
{
	json_member(j, name);
	fputs(value ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *name)
{
	json_member(j, name);
	fputs("null", j->out);
}

void json_finish(struct json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}
