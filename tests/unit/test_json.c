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
		cmocka_unit_test(test_pretty),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
