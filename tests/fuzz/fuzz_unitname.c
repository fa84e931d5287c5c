// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target of lib/unitname.c: any path gives a valid unit name or
 * an errno, and the name unescaped is the path simplified (systemd's
 * unit_name_path_unescape() inverts it), so two directories never share
 * a unit.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/unitname.h"

/* repeated slashes and "." components dropped; NULL for a ".." */
static char *simplify(const char *path)
{
	char *out = calloc(1, strlen(path) + 2);
	size_t len = 0;

	for (const char *p = path; *p;) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && !memcmp(p, "..", 2)) {
			free(out);
			return NULL;
		}
		if (n && !(n == 1 && *p == '.')) {
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
	}
	if (!len)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PL_UNIT_NAME_MAX], back[PL_UNIT_NAME_MAX + 1], *path, *want;
	size_t len, k = 0;
	int err;

	path = malloc(size + 1);
	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	err = pl_unit_name_from_path(path, "mount", out, sizeof(out));
	want = path[0] == '/' ? simplify(path) : NULL;
	if (err) {
		if (out[0] || (err != -EINVAL && err != -ENAMETOOLONG) ||
		    (err == -EINVAL && want))
			abort();
		goto out;
	}
	len = strlen(out);
	if (!want || len >= PL_UNIT_NAME_MAX || len < 7 || strcmp(out + len - 6, ".mount") ||
	    out[0] == '.')
		abort();
	len -= 6;
	if (len == 1 && out[0] == '-') {
		back[k++] = '/';
	} else {
		back[k++] = '/';
		for (size_t i = 0; i < len; i++) {
			char c = out[i];

			if (c == '-') {
				back[k++] = '/';
			} else if (c == '\\') {
				int hi, lo;

				if (i + 3 >= len || out[i + 1] != 'x' ||
				    (hi = hexval(out[i + 2])) < 0 || (lo = hexval(out[i + 3])) < 0)
					abort();
				back[k++] = (char)(hi << 4 | lo);
				i += 3;
			} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				   (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '.') {
				back[k++] = c;
			} else {
				abort();
			}
		}
	}
	back[k] = '\0';
	if (strcmp(back, want))
		abort();
out:
	free(want);
	free(path);
	return 0;
}
