// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The unit name of a path (unitname.h), as systemd's unit_name_from_path(). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "unitname.h"

struct pl_out {
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct pl_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	else
		o->full = true;
	o->len++;
}

/* systemd's do_escape_char(): "\x" and two lowercase hex digits */
static void put_escaped(struct pl_out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	put(o, '\\');
	put(o, 'x');
	put(o, hex[c >> 4]);
	put(o, hex[c & 15]);
}

static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '_' || c == '.';
}

int pl_unit_name_from_path(const char *path, const char *suffix, char *out, size_t size)
{
	struct pl_out o = { .buf = out, .size = size };
	const char *p = path;
	bool first = true;

	if (size)
		out[0] = '\0';
	if (!path || path[0] != '/')
		return -EINVAL;
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (size)
				out[0] = '\0';
			return -EINVAL;
		}
		if (!first)
			put(&o, '-');
		for (size_t i = 0; i < n; i++) {
			/* no unit name begins with a dot ("/.dotdir") */
			if (plain(p[i]) && !(first && i == 0 && p[i] == '.'))
				put(&o, p[i]);
			else
				put_escaped(&o, (unsigned char)p[i]);
		}
		first = false;
		p += n;
	}
	if (first)
		put(&o, '-');
	put(&o, '.');
	for (const char *s = suffix; *s; s++)
		put(&o, *s);
	if (o.full || o.len >= PL_UNIT_NAME_MAX) {
		if (size)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	out[o.len] = '\0';
	return 0;
}
