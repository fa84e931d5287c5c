/* SPDX-License-Identifier: GPL-2.0 */
/* A streaming JSON writer for -j output (as iproute2's json_writer). */
#ifndef PL_JSON_H
#define PL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this depth */
	bool pretty;
};

void json_init(struct json *j, FILE *out, bool pretty);
void json_object_start(struct json *j, const char *name);
void json_object_end(struct json *j);
void json_array_start(struct json *j, const char *name);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *name, const char *value);
void json_uint(struct json *j, const char *name, uint64_t value);
void json_int(struct json *j, const char *name, int64_t value);
void json_bool(struct json *j, const char *name, bool value);
void json_null(struct json *j, const char *name);
/* Ends the document with a newline. */
void json_finish(struct json *j);

#endif
