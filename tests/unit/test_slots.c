// SPDX-License-Identifier: GPL-2.0
/*
 * lib/slots.c: the name-keyed table of lib/backoff.c and lib/settle.c. A
 * name is found again, forgotten, swept when not seen; a full table makes
 * room in the slot of the smallest stamp; "" and names too long are never
 * kept; the caller's fields after the slot are zeroed with it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/slots.h"

struct entry {
	struct pl_slot slot;
	int value;
};

static struct entry e[4];
#define T (&PL_SLOTS(e, 8))

static struct entry *add(const char *name)
{
	return (struct entry *)pl_slots_add(T, name);
}

static void test_find_add_forget(void **state)
{
	struct entry *a, *b;

	(void)state;
	pl_slots_init(T);
	assert_null(pl_slots_find(T, "a"));
	a = add("a");
	assert_non_null(a);
	assert_string_equal(a->slot.name, "a");
	a->value = 7;
	b = add("b");
	assert_ptr_not_equal(a, b);
	/* found again, not added twice */
	assert_ptr_equal(add("a"), a);
	assert_int_equal(a->value, 7);
	assert_ptr_equal(pl_slots_find(T, "a"), &a->slot);
	pl_slots_forget(T, "a");
	assert_null(pl_slots_find(T, "a"));
	assert_int_equal(a->value, 0);
	assert_ptr_equal(pl_slots_find(T, "b"), &b->slot);
	/* nothing kept for "" or a name longer than name_max (8) */
	assert_null(add(""));
	assert_null(add("123456789"));
	assert_non_null(add("12345678"));
	assert_null(pl_slots_find(T, ""));
}

static void test_full(void **state)
{
	char name[8];
	struct entry *n;
	unsigned int i;

	(void)state;
	pl_slots_init(T);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		n = add(name);
		n->slot.stamp = 10 - (int64_t)i;	/* n3 the oldest */
		n->value = 1;
	}
	n = add("new");
	assert_non_null(n);
	assert_int_equal(n->value, 0);
	assert_int_equal(n->slot.stamp, 0);
	assert_null(pl_slots_find(T, "n3"));
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		assert_non_null(pl_slots_find(T, name));
	}
	/* "new" has stamp 0 now: it makes room next */
	add("newer");
	assert_null(pl_slots_find(T, "new"));
}

static void test_sweep(void **state)
{
	(void)state;
	pl_slots_init(T);
	add("gone");
	add("kept");
	pl_slots_sweep_begin(T);
	pl_slots_find(T, "kept")->seen = true;
	add("added")->slot.seen = true;
	pl_slots_sweep_end(T);
	assert_null(pl_slots_find(T, "gone"));
	assert_non_null(pl_slots_find(T, "kept"));
	assert_non_null(pl_slots_find(T, "added"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_add_forget),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
