// SPDX-License-Identifier: GPL-2.0
/* The inodes of one line of layers/<name>/files, for plbpf.c; unit-tested. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "plbpf.h"

/* "major:minor:inode" in decimal, each part within the kernel's dev_t */
static int pl_parse_devino(const char *s, struct pl_bpf_inode *key)
{
	unsigned int ma, mi;
	unsigned long long ino;
	int end = -1;

	/* sscanf alone would take signs and blanks */
	if (strspn(s, "0123456789:") != strlen(s) ||
	    sscanf(s, "%u:%u:%llu%n", &ma, &mi, &ino, &end) != 3 || s[end] != '\0')
		return -EPROTO;
	if (ma >= 1U << (32 - PL_BPF_MINORBITS) || mi >= 1U << PL_BPF_MINORBITS)
		return -EPROTO;
	memset(key, 0, sizeof(*key));
	key->dev = PL_BPF_MKDEV(ma, mi);
	key->ino = ino;
	return 0;
}

int pl_bpf_parse_files_line(char *line, struct pl_bpf_inode *file, struct pl_bpf_inode *base)
{
	size_t len = strlen(line);
	char *b, *f;

	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	/* the last two fields: the target before them may hold anything */
	b = strrchr(line, ' ');
	if (!b)
		return -EPROTO;
	*b++ = '\0';
	f = strrchr(line, ' ');
	if (!f)
		return -EPROTO;
	*f++ = '\0';
	return pl_parse_devino(f, file) ?: pl_parse_devino(b, base);
}
