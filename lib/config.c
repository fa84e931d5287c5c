// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The parser of patchlayer.conf: "key = value" lines, "#" comment lines,
 * blank lines. Strict: an unknown or repeated key, a bad value or a stray
 * byte refuses the whole file with its line number, so that a typo never
 * silently turns automatic installation on or a health watch off.
 */
#include <errno.h>
#include <string.h>

#include "config.h"

void pl_config_defaults(struct pl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->auto_install = true;
	c->window_any = true;
	strcpy(c->inbox, PL_CONFIG_DEFAULT_INBOX);
	strcpy(c->store, PL_CONFIG_DEFAULT_STORE);
	c->health_window = PL_CONFIG_DEFAULT_HEALTH_WINDOW;
	c->inbox_settle = PL_CONFIG_DEFAULT_SETTLE;
	strcpy(c->metrics_file, PL_CONFIG_DEFAULT_METRICS);
	c->metrics_interval = PL_CONFIG_DEFAULT_METRICS_INTERVAL;
	c->crash_threshold = PL_CONFIG_DEFAULT_CRASHES;
	c->crash_scope = PL_CRASH_SERVICES;
	c->restart = PL_RESTART_NO;
	c->never_default = true;
}

const char *const pl_restart_never_default[] = {
	"dbus.service", "dbus-*.service",
	"systemd-logind.service", "systemd-journald*.service",
	"display-manager.service", "gdm*.service", "kdm.service", "sddm.service",
	"lightdm.service", "xdm.service", "wdm.service", "nodm.service",
	"lxdm.service", "slim.service",
	"getty@*.service", "serial-getty@*.service", "autovt@*.service",
	"container-getty@*.service", "console-getty.service",
	"NetworkManager*.service", "network-manager.service", "wpa_supplicant*.service",
	"openvpn*.service", "wg-quick@*.service", "networking.service",
	"systemd-networkd.service",
	"emergency.service", "rescue.service", "rc-local.service",
	"apt-daily.service", "apt-daily-upgrade.service", "unattended-upgrades.service",
	"libvirtd.service", "lxcfs.service",
	NULL,
};

bool pl_unit_pattern_match(const char *p, const char *u)
{
	/* iterative glob with one backtrack point: linear, no recursion */
	const char *star = NULL, *resume = NULL;

	while (*u) {
		if (*p == '*') {
			star = p++;
			resume = u;
		} else if (*p == *u) {
			p++;
			u++;
		} else if (star) {
			p = star + 1;
			u = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* A value: the bytes between the '=' and the end of line, trimmed. */
struct span {
	const char *s;
	size_t len;
};

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool span_is(struct span v, const char *word)
{
	return v.len == strlen(word) && memcmp(v.s, word, v.len) == 0;
}

/* Splits V at blanks: the next word into W, false at the end. */
static bool next_word(struct span *v, struct span *w)
{
	while (v->len && is_space(*v->s)) {
		v->s++;
		v->len--;
	}
	if (!v->len)
		return false;
	w->s = v->s;
	w->len = 0;
	while (v->len && !is_space(*v->s)) {
		v->s++;
		v->len--;
		w->len++;
	}
	return true;
}

/* Absolute, without "//", "." or ".." components, no trailing '/'. */
static const char *check_path(struct span p)
{
	size_t i;

	if (p.len == 0 || p.s[0] != '/')
		return "not an absolute path";
	if (p.len >= PL_CONFIG_PATH_MAX)
		return "path too long";
	if (p.len > 1 && p.s[p.len - 1] == '/')
		return "path ends with '/'";
	for (i = 0; i < p.len; i++) {
		size_t n = 0;

		if (p.s[i] != '/')
			continue;
		while (i + 1 + n < p.len && p.s[i + 1 + n] != '/')
			n++;
		if (n == 0 && i + 1 < p.len)
			return "path has an empty component";
		if ((n == 1 && p.s[i + 1] == '.') ||
		    (n == 2 && p.s[i + 1] == '.' && p.s[i + 2] == '.'))
			return "path has a '.' or '..' component";
	}
	return NULL;
}

static void copy_span(char *dst, struct span v)
{
	memcpy(dst, v.s, v.len);
	dst[v.len] = '\0';
}

static const char *parse_path(char *dst, struct span v)
{
	struct span w, rest;
	const char *why;

	rest = v;
	if (!next_word(&rest, &w))
		return "empty path";
	if (next_word(&rest, &v))
		return "one path expected (no blanks in paths)";
	why = check_path(w);
	if (why)
		return why;
	copy_span(dst, w);
	return NULL;
}

static const char *parse_paths(char (*dst)[PL_CONFIG_PATH_MAX], unsigned int *n, struct span v)
{
	struct span w;
	const char *why;
	unsigned int i;

	*n = 0;
	while (next_word(&v, &w)) {
		if (*n == PL_CONFIG_MAX_DIRS)
			return "too many paths (at most 16)";
		why = check_path(w);
		if (why)
			return why;
		for (i = 0; i < *n; i++)
			if (strlen(dst[i]) == w.len && memcmp(dst[i], w.s, w.len) == 0)
				return "path listed twice";
		copy_span(dst[(*n)++], w);
	}
	return NULL;
}

static const char *parse_bool(bool *dst, struct span v)
{
	if (span_is(v, "yes"))
		*dst = true;
	else if (span_is(v, "no"))
		*dst = false;
	else
		return "expected yes or no";
	return NULL;
}

/* Up to 7 decimal digits, so no overflow; false on anything else. */
static bool parse_uint(const char *s, size_t len, unsigned int *out)
{
	unsigned int x = 0;
	size_t i;

	if (len == 0 || len > 7)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (unsigned int)(s[i] - '0');
	}
	*out = x;
	return true;
}

/* "HH:MM", exactly five bytes. */
static bool parse_hhmm(const char *s, unsigned int *minutes)
{
	unsigned int h, m;

	if (s[2] != ':' || !parse_uint(s, 2, &h) || !parse_uint(s + 3, 2, &m) ||
	    h > 23 || m > 59)
		return false;
	*minutes = h * 60 + m;
	return true;
}

static const char *parse_window(struct pl_config *c, struct span v)
{
	if (v.len == 0) {
		c->window_any = true;
		return NULL;
	}
	if (v.len != 11 || v.s[5] != '-' || !parse_hhmm(v.s, &c->window_start) ||
	    !parse_hhmm(v.s + 6, &c->window_end))
		return "expected HH:MM-HH:MM (24-hour local time) or nothing";
	if (c->window_start == c->window_end)
		return "window is empty (start equals end)";
	c->window_any = false;
	return NULL;
}

static const char *parse_duration(unsigned int *dst, struct span v)
{
	unsigned int n, mult = 1;
	size_t len = v.len;

	if (len && (v.s[len - 1] == 's' || v.s[len - 1] == 'm' || v.s[len - 1] == 'h')) {
		mult = v.s[len - 1] == 's' ? 1 : v.s[len - 1] == 'm' ? 60 : 3600;
		len--;
	}
	if (!parse_uint(v.s, len, &n))
		return "expected a duration: a number with s, m or h (seconds if none)";
	if ((unsigned long long)n * mult > PL_CONFIG_MAX_SECONDS)
		return "duration longer than 7 days";
	*dst = n * mult;
	return NULL;
}

static const char *parse_settle(unsigned int *dst, struct span v)
{
	const char *why = parse_duration(dst, v);

	if (!why && *dst > PL_CONFIG_MAX_SETTLE)
		return "settle time longer than an hour";
	return why;
}

/*
 * Empty: no metrics. Otherwise a path whose name node_exporter's textfile
 * collector reads (NAME.prom, not hidden: the temporary file beside it is
 * ".NAME.prom.tmp", which it skips).
 */
static const char *parse_metrics_file(char *dst, struct span v)
{
	struct span rest = v, w;
	const char *why;
	size_t i;

	if (v.len == 0) {
		dst[0] = '\0';
		return NULL;
	}
	why = parse_path(dst, v);
	if (why)
		return why;
	next_word(&rest, &w);
	for (i = w.len; i > 0 && w.s[i - 1] != '/'; i--)
		;
	if (w.len - i < 6 || w.s[i] == '.' || memcmp(w.s + w.len - 5, ".prom", 5) != 0)
		return "expected a file NAME.prom (node_exporter reads only those), or nothing";
	return NULL;
}

static const char *parse_metrics_interval(unsigned int *dst, struct span v)
{
	const char *why = parse_duration(dst, v);

	if (!why && (*dst < 1 || *dst > PL_CONFIG_MAX_METRICS_INTERVAL))
		return "expected from 1s to 1h";
	return why;
}

static const char *parse_threshold(unsigned int *dst, struct span v)
{
	unsigned int n;

	if (!parse_uint(v.s, v.len, &n) || n < 1 || n > PL_CONFIG_MAX_CRASHES)
		return "expected a number of crashes from 1 to 1000000";
	*dst = n;
	return NULL;
}

static const char *parse_scope(enum pl_crash_scope *dst, struct span v)
{
	if (span_is(v, "services"))
		*dst = PL_CRASH_SERVICES;
	else if (span_is(v, "all"))
		*dst = PL_CRASH_ALL;
	else
		return "expected services or all";
	return NULL;
}

static bool unit_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || ch == '.' ||
	       ch == '@' || ch == '-' || ch == '\\';
}

static const char *parse_restart(struct pl_config *c, struct span v)
{
	struct span w;
	unsigned int i;
	size_t k;

	c->n_units = 0;
	if (span_is(v, "no")) {
		c->restart = PL_RESTART_NO;
		return NULL;
	}
	if (span_is(v, "all")) {
		c->restart = PL_RESTART_ALL;
		return NULL;
	}
	if (v.len == 0)
		return "expected no, all or a list of systemd units";
	while (next_word(&v, &w)) {
		if (c->n_units == PL_CONFIG_MAX_UNITS)
			return "too many units (at most 32)";
		if (w.len >= PL_CONFIG_UNIT_MAX)
			return "unit name too long";
		for (k = 0; k < w.len; k++)
			if (!unit_char(w.s[k]))
				return "not a systemd unit name";
		if (!memchr(w.s, '.', w.len) || w.s[0] == '.' || w.s[0] == '-')
			return "not a systemd unit name (e.g. foo.service)";
		for (i = 0; i < c->n_units; i++)
			if (strlen(c->restart_units[i]) == w.len &&
			    memcmp(c->restart_units[i], w.s, w.len) == 0)
				return "unit listed twice";
		copy_span(c->restart_units[c->n_units++], w);
	}
	c->restart = PL_RESTART_LIST;
	return NULL;
}

static const char *parse_never(struct pl_config *c, struct span v)
{
	struct span w;
	unsigned int i;
	size_t k;
	bool star_only;

	c->never_default = false;
	c->n_never = 0;
	if (span_is(v, "none"))
		return NULL;
	if (v.len == 0)
		return "expected none, default or a list of unit patterns";
	while (next_word(&v, &w)) {
		if (span_is(w, "default")) {
			if (c->never_default)
				return "default listed twice";
			c->never_default = true;
			continue;
		}
		if (c->n_never == PL_CONFIG_MAX_NEVER)
			return "too many unit patterns (at most 32 besides default)";
		if (w.len >= PL_CONFIG_UNIT_MAX)
			return "unit pattern too long";
		star_only = true;
		for (k = 0; k < w.len; k++) {
			if (w.s[k] != '*' && !unit_char(w.s[k]))
				return "not a systemd unit name or pattern";
			if (w.s[k] != '*')
				star_only = false;
		}
		if (star_only || !memchr(w.s, '.', w.len) || w.s[0] == '.' || w.s[0] == '-')
			return "not a systemd unit name or pattern (e.g. foo.service, foo-*.service)";
		for (i = 0; i < c->n_never; i++)
			if (strlen(c->restart_never[i]) == w.len &&
			    memcmp(c->restart_never[i], w.s, w.len) == 0)
				return "unit pattern listed twice";
		copy_span(c->restart_never[c->n_never++], w);
	}
	return NULL;
}

enum key {
	K_AUTO_INSTALL,
	K_INSTALL_WINDOW,
	K_PROTECT,
	K_TRUST,
	K_INBOX,
	K_STORE,
	K_HEALTH_WINDOW,
	K_CRASH_THRESHOLD,
	K_CRASH_SCOPE,
	K_RESTART_SERVICES,
	K_RESTART_NEVER,
	K_INBOX_SETTLE,
	K_METRICS_FILE,
	K_METRICS_INTERVAL,
	K_COUNT,
};

static const char *const key_names[K_COUNT] = {
	[K_AUTO_INSTALL] = "auto_install",
	[K_INSTALL_WINDOW] = "install_window",
	[K_PROTECT] = "protect",
	[K_TRUST] = "trust",
	[K_INBOX] = "inbox",
	[K_STORE] = "store",
	[K_HEALTH_WINDOW] = "health_window",
	[K_CRASH_THRESHOLD] = "crash_threshold",
	[K_CRASH_SCOPE] = "crash_scope",
	[K_RESTART_SERVICES] = "restart_services",
	[K_RESTART_NEVER] = "restart_never",
	[K_INBOX_SETTLE] = "inbox_settle",
	[K_METRICS_FILE] = "metrics_file",
	[K_METRICS_INTERVAL] = "metrics_interval",
};

static const char *parse_value(struct pl_config *c, enum key k, struct span v)
{
	switch (k) {
	case K_AUTO_INSTALL:
		return parse_bool(&c->auto_install, v);
	case K_INSTALL_WINDOW:
		return parse_window(c, v);
	case K_PROTECT:
		return parse_paths(c->protect, &c->n_protect, v);
	case K_TRUST:
		return parse_paths(c->trust, &c->n_trust, v);
	case K_INBOX:
		return parse_path(c->inbox, v);
	case K_STORE:
		return parse_path(c->store, v);
	case K_HEALTH_WINDOW:
		return parse_duration(&c->health_window, v);
	case K_CRASH_THRESHOLD:
		return parse_threshold(&c->crash_threshold, v);
	case K_CRASH_SCOPE:
		return parse_scope(&c->crash_scope, v);
	case K_RESTART_SERVICES:
		return parse_restart(c, v);
	case K_RESTART_NEVER:
		return parse_never(c, v);
	case K_INBOX_SETTLE:
		return parse_settle(&c->inbox_settle, v);
	case K_METRICS_FILE:
		return parse_metrics_file(c->metrics_file, v);
	case K_METRICS_INTERVAL:
		return parse_metrics_interval(&c->metrics_interval, v);
	default:
		return "unknown key";
	}
}

/* One line without its newline; returns NULL or why it is refused. */
static const char *parse_line(struct pl_config *c, const char *s, size_t len, bool seen[K_COUNT])
{
	struct span key, v;
	const char *eq;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r')
			return "carriage return (CRLF line ending?)";
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return "control character";
	}
	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	if (len == 0 || s[0] == '#')
		return NULL;
	eq = memchr(s, '=', len);
	if (!eq)
		return "expected key = value";
	key.s = s;
	key.len = (size_t)(eq - s);
	while (key.len && is_space(key.s[key.len - 1]))
		key.len--;
	v.s = eq + 1;
	v.len = len - (size_t)(eq - s) - 1;
	while (v.len && is_space(*v.s)) {
		v.s++;
		v.len--;
	}
	if (key.len == 0)
		return "missing key before '='";
	for (k = 0; k < K_COUNT; k++)
		if (span_is(key, key_names[k]))
			break;
	if (k == K_COUNT)
		return "unknown key";
	if (seen[k])
		return "key set twice";
	seen[k] = true;
	return parse_value(c, (enum key)k, v);
}

int pl_config_parse(struct pl_config *c, const char *text, size_t len,
		    struct pl_config_error *err)
{
	bool seen[K_COUNT] = { false };
	unsigned int line = 0;
	size_t pos = 0;

	err->line = 0;
	err->reason = NULL;
	if (len > PL_CONFIG_MAX_SIZE) {
		err->reason = "file larger than 64 KiB";
		return -EFBIG;
	}
	if (len && memchr(text, '\0', len)) {
		err->line = 1;
		for (pos = 0; text[pos]; pos++)
			if (text[pos] == '\n')
				err->line++;
		err->reason = "NUL byte";
		return -EINVAL;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *why;

		line++;
		if (n >= PL_CONFIG_LINE_MAX)
			why = "line longer than 4095 bytes";
		else
			why = parse_line(c, text + pos, n, seen);
		if (why) {
			err->line = line;
			err->reason = why;
			return -EINVAL;
		}
		pos += n + (nl ? 1 : 0);
	}
	if (strcmp(c->inbox, c->store) == 0) {
		err->reason = "inbox and store are the same directory";
		return -EINVAL;
	}
	return 0;
}

/* Appends to BUF as snprintf would; *POS counts what the whole text needs. */
static void put(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos < size) {
		size_t room = size - *pos - 1;

		memcpy(buf + *pos, s, n < room ? n : room);
		buf[*pos + (n < room ? n : room)] = '\0';
	}
	*pos += n;
}

static void put_uint(char *buf, size_t size, size_t *pos, unsigned int x, const char *suffix)
{
	char d[16];
	int i = (int)sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + x % 10);
		x /= 10;
	} while (x && i > 0);
	put(buf, size, pos, d + i);
	put(buf, size, pos, suffix);
}

/* The largest of h, m, s that divides SECONDS, as parse_duration reads it. */
static void put_duration(char *buf, size_t size, size_t *pos, unsigned int seconds)
{
	if (seconds && seconds % 3600 == 0)
		put_uint(buf, size, pos, seconds / 3600, "h");
	else if (seconds && seconds % 60 == 0)
		put_uint(buf, size, pos, seconds / 60, "m");
	else
		put_uint(buf, size, pos, seconds, "s");
}

static void put_hhmm(char *buf, size_t size, size_t *pos, unsigned int minutes)
{
	char t[6] = { (char)('0' + minutes / 600), (char)('0' + minutes / 60 % 10), ':',
		      (char)('0' + minutes % 60 / 10), (char)('0' + minutes % 10), '\0' };

	put(buf, size, pos, t);
}

static void put_list(char *buf, size_t size, size_t *pos, const char *first,
		     const char *list, size_t stride, unsigned int n)
{
	bool sep = false;

	if (first) {
		put(buf, size, pos, first);
		sep = true;
	}
	for (unsigned int i = 0; i < n; i++, sep = true) {
		if (sep)
			put(buf, size, pos, " ");
		put(buf, size, pos, list + i * stride);
	}
}

size_t pl_config_format(const struct pl_config *c, char *buf, size_t size)
{
	size_t pos = 0;

	if (size)
		buf[0] = '\0';
	for (int k = 0; k < K_COUNT; k++) {
		put(buf, size, &pos, key_names[k]);
		put(buf, size, &pos, " = ");
		switch ((enum key)k) {
		case K_AUTO_INSTALL:
			put(buf, size, &pos, c->auto_install ? "yes" : "no");
			break;
		case K_INSTALL_WINDOW:
			if (c->window_any)
				break;
			put_hhmm(buf, size, &pos, c->window_start);
			put(buf, size, &pos, "-");
			put_hhmm(buf, size, &pos, c->window_end);
			break;
		case K_PROTECT:
			put_list(buf, size, &pos, NULL, c->protect[0], sizeof(c->protect[0]),
				 c->n_protect);
			break;
		case K_TRUST:
			put_list(buf, size, &pos, NULL, c->trust[0], sizeof(c->trust[0]), c->n_trust);
			break;
		case K_INBOX:
			put(buf, size, &pos, c->inbox);
			break;
		case K_STORE:
			put(buf, size, &pos, c->store);
			break;
		case K_HEALTH_WINDOW:
			put_duration(buf, size, &pos, c->health_window);
			break;
		case K_CRASH_THRESHOLD:
			put_uint(buf, size, &pos, c->crash_threshold, "");
			break;
		case K_CRASH_SCOPE:
			put(buf, size, &pos, c->crash_scope == PL_CRASH_ALL ? "all" : "services");
			break;
		case K_RESTART_SERVICES:
			if (c->restart == PL_RESTART_LIST)
				put_list(buf, size, &pos, NULL, c->restart_units[0],
					 sizeof(c->restart_units[0]), c->n_units);
			else
				put(buf, size, &pos, c->restart == PL_RESTART_ALL ? "all" : "no");
			break;
		case K_RESTART_NEVER:
			if (!c->never_default && !c->n_never)
				put(buf, size, &pos, "none");
			else
				put_list(buf, size, &pos, c->never_default ? "default" : NULL,
					 c->restart_never[0], sizeof(c->restart_never[0]), c->n_never);
			break;
		case K_INBOX_SETTLE:
			put_duration(buf, size, &pos, c->inbox_settle);
			break;
		case K_METRICS_FILE:
			put(buf, size, &pos, c->metrics_file);
			break;
		case K_METRICS_INTERVAL:
			put_duration(buf, size, &pos, c->metrics_interval);
			break;
		case K_COUNT:
			break;
		}
		put(buf, size, &pos, "\n");
	}
	return pos;
}
