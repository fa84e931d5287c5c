/* SPDX-License-Identifier: GPL-2.0 */
/* Text tables sized to their contents (table.c). */
#ifndef PL_TABLE_H
#define PL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PL_TABLE_MAX_COLS 12

struct pl_table {
	size_t ncols, nrows;
	const char *const *heads;	/* NCOLS column titles */
	const char *align;		/* per column: 'l' or 'r' */
	char **cells;			/* NROWS * NCOLS copies */
};

void pl_table_init(struct pl_table *t, size_t ncols, const char *const *heads, const char *align);
/* Adds a row of NCOLS strings (NULL prints "-"); -ENOMEM. */
int pl_table_add(struct pl_table *t, ...);
/* The heads and rows, each line after INDENT, columns two spaces apart. */
void pl_table_print(const struct pl_table *t, FILE *out, const char *indent);
void pl_table_free(struct pl_table *t);

#endif
