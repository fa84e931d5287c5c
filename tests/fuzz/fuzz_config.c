// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target of lib/config.c: any bytes parse or are refused with a
 * line and a reason, and what parses satisfies the documented bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_config c;
	struct pl_config_error err;
	unsigned int i;

	pl_config_defaults(&c);
	if (pl_config_parse(&c, (const char *)data, size, &err) != 0) {
		if (!err.reason)
			abort();
		return 0;
	}
	if (c.n_protect > PL_CONFIG_MAX_DIRS || c.n_trust > PL_CONFIG_MAX_DIRS ||
	    c.n_units > PL_CONFIG_MAX_UNITS || c.crash_threshold < 1 ||
	    c.health_window > PL_CONFIG_MAX_SECONDS || c.inbox[0] != '/' || c.store[0] != '/')
		abort();
	if (!c.window_any && (c.window_start >= 1440 || c.window_end >= 1440 ||
			      c.window_start == c.window_end))
		abort();
	for (i = 0; i < c.n_protect; i++)
		if (c.protect[i][0] != '/' || strlen(c.protect[i]) >= PL_CONFIG_PATH_MAX)
			abort();
	return 0;
}
