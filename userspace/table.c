// SPDX-License-Identifier: GPL-2.0
/*
 * Text tables whose columns are as wide as their widest cell: layer names
 * are up to 64 bytes and Debian versions ("1:1.2.13.dfsg-1+deb12u1") long.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void pl_table_init(struct pl_table *t, size_t ncols, const char *const *heads, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < PL_TABLE_MAX_COLS ? ncols : PL_TABLE_MAX_COLS;
	t->heads = heads;
	t->align = align;
}

int pl_table_add(struct pl_table *t, ...)
{
	char **row, **grown;
	va_list ap;

	grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*t->cells));
	if (!grown)
		return -ENOMEM;
	t->cells = grown;
	row = t->cells + t->nrows * t->ncols;
	va_start(ap, t);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = va_arg(ap, const char *);

		row[c] = strdup(s ? s : "-");
	}
	va_end(ap);
	t->nrows++;
	for (size_t c = 0; c < t->ncols; c++)
		if (!row[c])
			return -ENOMEM;	/* freed with the table */
	return 0;
}

/* Columns on a terminal: UTF-8 sequences count once. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void cell(FILE *out, const char *s, size_t w, char align, bool last)
{
	size_t pad = w - width(s);

	if (align == 'r')
		fprintf(out, "%*s%s", (int)pad, "", s);
	else if (last)
		fputs(s, out);
	else
		fprintf(out, "%s%*s", s, (int)pad, "");
}

void pl_table_print(const struct pl_table *t, FILE *out, const char *indent)
{
	size_t w[PL_TABLE_MAX_COLS];

	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = width(t->heads[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t cw = s ? width(s) : 0;

			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		fputs(indent, out);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->heads[c];

			if (c)
				fputs("  ", out);
			cell(out, s ? s : "", w[c], t->align[c], c + 1 == t->ncols);
		}
		fputc('\n', out);
	}
}

void pl_table_free(struct pl_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}
