// SPDX-License-Identifier: GPL-2.0
/* The -j output writer: structure, separators and string escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../userspace/json.h"

struct buf {
	char *data;
	size_t size;
	FILE *f;
	struct json j;
};

static void buf_open(struct buf *b, bool pretty)
{
	b->data = NULL;
	b->size = 0;
	b->f = open_memstream(&b->data, &b->size);
	assert_non_null(b->f);
	json_init(&b->j, b->f, pretty);
}

static void buf_expect(struct buf *b, const char *want)
{
	fclose(b->f);
	assert_string_equal(b->data, want);
	free(b->data);
}

static void test_object_members(void **state)
{
	struct buf b;

	(void)state;
	buf_open(&b, false);
	json_object_start(&b.j, NULL);
	json_string(&b.j, "name", "zlib-fix");
	json_uint(&b.j, "hits", UINT64_MAX);
	json_int(&b.j, "delta", -42);
	json_bool(&b.j, "active", true);
	json_null(&b.j, "since");
	json_object_end(&b.j);
	json_finish(&b.j);
	buf_expect(&b, "{\"name\":\"zlib-fix\",\"hits\":18446744073709551615,"
		   "\"delta\":-42,\"active\":true,\"since\":null}\n");
}

static void test_nesting_and_empty(void **state)
{
	struct buf b;

	(void)state;
	buf_open(&b, false);
	json_object_start(&b.j, NULL);
	json_array_start(&b.j, "layers");
	json_object_start(&b.j, NULL);
	json_array_start(&b.j, "files");
	json_array_end(&b.j);
	json_object_end(&b.j);
	json_object_start(&b.j, NULL);
	json_object_end(&b.j);
	json_array_end(&b.j);
	json_object_end(&b.j);
	json_finish(&b.j);
	buf_expect(&b, "{\"layers\":[{\"files\":[]},{}]}\n");
}

static void test_escaping(void **state)
{
	struct buf b;

	(void)state;
	buf_open(&b, false);
	json_object_start(&b.j, NULL);
	json_string(&b.j, "k\"ey", "a\"b\\c\nd\te\x01\x7f" "\xc3\xa9");
	json_object_end(&b.j);
	json_finish(&b.j);
	/* control bytes escaped, UTF-8 passed through unchanged */
	buf_expect(&b, "{\"k\\\"ey\":\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\xc3\xa9\"}\n");
}

/* Non-UTF-8 bytes (a renamed process, a path) never reach the document. */
static void test_invalid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\xff\xfe", "\\ufffd\\ufffd" },			/* prctl(PR_SET_NAME, "\xff\xfe") */
		{ "a\xc3", "a\\ufffd" },				/* truncated at the end */
		{ "\xc3(", "\\ufffd(" },				/* bad continuation */
		{ "\xc0\xaf", "\\ufffd\\ufffd" },			/* overlong '/' */
		{ "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd" },	/* overlong, 3 bytes */
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" },	/* a surrogate, U+D800 */
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" }, /* past U+10FFFF */
		{ "\xe2\x82", "\\ufffd\\ufffd" },			/* 3-byte form cut short */
		{ "\x80x", "\\ufffdx" },				/* a lone continuation */
		{ "\xef\xbf\xbd\xf0\x9f\x94\x92\xf4\x8f\xbf\xbf",	/* valid: kept */
		  "\xef\xbf\xbd\xf0\x9f\x94\x92\xf4\x8f\xbf\xbf" },
		{ "\x1b[31m\x7f", "\\u001b[31m\\u007f" },		/* terminal escapes */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		char *want;

		assert_true(asprintf(&want, "[\"%s\"]\n", cases[i].out) > 0);
		buf_open(&b, false);
		json_array_start(&b.j, NULL);
		json_string(&b.j, NULL, cases[i].in);
		json_array_end(&b.j);
		json_finish(&b.j);
		buf_expect(&b, want);
		free(want);
	}
}

static void test_pretty(void **state)
{
	struct buf b;

	(void)state;
	buf_open(&b, true);
	json_object_start(&b.j, NULL);
	json_object_start(&b.j, "module");
	json_bool(&b.j, "loaded", false);
	json_object_end(&b.j);
	json_array_start(&b.j, "layers");
	json_array_end(&b.j);
	json_object_end(&b.j);
	json_finish(&b.j);
	buf_expect(&b, "{\n  \"module\": {\n    \"loaded\": false\n  },\n  \"layers\": []\n}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_members),
		cmocka_unit_test(test_nesting_and_empty),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_pretty),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
