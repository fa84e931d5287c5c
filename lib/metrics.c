// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The daemon's metrics in Prometheus' text format. Names and units as
 * Prometheus asks (https://prometheus.io/docs/practices/naming/): seconds
 * since the epoch end in _timestamp_seconds, counters in _total, one
 * gauge per state with a state label, 1 for the one a layer is in (as
 * node_exporter's node_systemd_unit_state), so that an alert is a plain
 * comparison. Every line is checked by promtool (tests/unit, tests/cli).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* An output that never writes past its end but counts all it was given. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - o->len - 1;

		memcpy(o->buf + o->len, s, n < room ? n : room);
		o->buf[o->len + (n < room ? n : room)] = '\0';
	}
	o->len += n;
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* only numbers and fixed names come through here: never cut */
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* The length of the valid UTF-8 sequence at S (of at most N bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return len;
}

/*
 * Backslash, double quote and newline escaped as the format says; other
 * control bytes and bytes that are not UTF-8 (which would make
 * node_exporter refuse the whole file) become '?'.
 */
static void put_escaped(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	while (n) {
		size_t len = utf8_len(p, n);

		if (*p == '\\')
			put(o, "\\\\", 2);
		else if (*p == '"')
			put(o, "\\\"", 2);
		else if (*p == '\n')
			put(o, "\\n", 2);
		else if (len == 0 || *p < 0x20 || *p == 0x7f)
			put(o, "?", 1);
		else
			put(o, (const char *)p, len);
		len = len ? len : 1;
		p += len;
		n -= len;
	}
}

size_t pl_metrics_escape(char *dst, size_t size, const char *s)
{
	struct out o = { dst, size, 0 };

	if (size)
		dst[0] = '\0';
	put_escaped(&o, s);
	return o.len;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	putf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of per-layer series: its HELP and TYPE come with its first sample. */
struct fam {
	const char *name, *type, *help;
	bool said;
};

/* NAME{name="...",version="...",package="...",advisory="..."[,KEY="VAL"]} VALUE */
static void layer_value(struct out *o, struct fam *f, const struct pl_metrics_layer *l,
			const char *key, const char *val, int64_t value)
{
	if (!f->said) {
		family(o, f->name, f->type, f->help);
		f->said = true;
	}
	put(o, f->name, strlen(f->name));
	put(o, "{name=\"", 7);
	put_escaped(o, l->name);
	put(o, "\",version=\"", 11);
	put_escaped(o, l->version);
	put(o, "\",package=\"", 11);
	put_escaped(o, l->package);
	put(o, "\",advisory=\"", 12);
	put_escaped(o, l->advisory);
	if (key) {
		putf(o, "\",%s=\"", key);
		put_escaped(o, val);
	}
	putf(o, "\"} %" PRId64 "\n", value);
}

size_t pl_metrics_format(char *buf, size_t size, const struct pl_metrics_daemon *d,
			 const struct pl_metrics_layer *layers, size_t n)
{
	struct fam state = { "patchlayer_layer_state", "gauge",
		"The daemon's state of each layer of its store: 1 for the state it is in, 0 for the others.", false };
	struct fam activated = { "patchlayer_layer_activation_timestamp_seconds", "gauge",
		"When the daemon last activated the layer, in seconds since the epoch.", false };
	struct fam patched = { "patchlayer_layer_patched_processes", "gauge",
		"Processes running the layer's files (known while the BPF side is loaded and the layer is in the kernel).", false };
	struct fam stale = { "patchlayer_layer_stale_processes", "gauge",
		"Processes started before the activation, still running the replaced files.", false };
	struct fam crashes = { "patchlayer_layer_crashes_total", "counter",
		"Crashes of patched processes counted against the layer (crash_scope) since its last activation.", false };
	struct fam hits = { "patchlayer_layer_hits_total", "counter",
		"Opens the kernel served from the layer's files since it was loaded.", false };
	struct fam refused = { "patchlayer_layer_refused", "gauge",
		"1 while the kernel refuses to load or activate the layer; errno says why (ESTALE: its bases are not the ones it was built for).", false };
	struct out o = { buf, size, 0 };
	size_t i;
	int w;

	if (size)
		buf[0] = '\0';
	family(&o, "patchlayer_daemon_up", "gauge",
	       "Whether the patchlayer daemon runs (0: it stopped cleanly; a daemon killed leaves 1, see node_textfile_mtime_seconds).");
	putf(&o, "patchlayer_daemon_up %d\n", d->up ? 1 : 0);
	family(&o, "patchlayer_build_info", "gauge", "The version of the patchlayer daemon, in its label.");
	put(&o, "patchlayer_build_info{version=\"", 31);
	put_escaped(&o, d->version);
	put(&o, "\"} 1\n", 5);
	family(&o, "patchlayer_daemon_start_time_seconds", "gauge",
	       "When the patchlayer daemon started, in seconds since the epoch.");
	putf(&o, "patchlayer_daemon_start_time_seconds %" PRId64 "\n", d->start_time);
	if (d->last_reconcile > 0) {
		family(&o, "patchlayer_daemon_last_reconcile_timestamp_seconds", "gauge",
		       "When the daemon last brought the kernel to what its store says, in seconds since the epoch.");
		putf(&o, "patchlayer_daemon_last_reconcile_timestamp_seconds %" PRId64 "\n",
		     d->last_reconcile);
	}
	family(&o, "patchlayer_crash_watch_up", "gauge",
	       "Whether the BPF side is loaded: patched and stale processes are counted and crashes watched.");
	putf(&o, "patchlayer_crash_watch_up %d\n", d->crash_watch ? 1 : 0);
	for (i = 0; i < n; i++) {
		for (w = 0; w < PL_WANT_COUNT; w++)
			layer_value(&o, &state, &layers[i], "state", pl_want_name((enum pl_want)w),
				    layers[i].want == (enum pl_want)w);
	}
	for (i = 0; i < n; i++)
		if (layers[i].activated_at > 0)
			layer_value(&o, &activated, &layers[i], NULL, NULL, layers[i].activated_at);
	for (i = 0; i < n; i++)
		if (layers[i].patched >= 0)
			layer_value(&o, &patched, &layers[i], NULL, NULL, layers[i].patched);
	for (i = 0; i < n; i++)
		if (layers[i].stale >= 0)
			layer_value(&o, &stale, &layers[i], NULL, NULL, layers[i].stale);
	for (i = 0; i < n; i++)
		layer_value(&o, &crashes, &layers[i], NULL, NULL, layers[i].crashes);
	for (i = 0; i < n; i++)
		if (layers[i].hits_known)
			layer_value(&o, &hits, &layers[i], NULL, NULL,
				    layers[i].hits > INT64_MAX ? INT64_MAX : (int64_t)layers[i].hits);
	for (i = 0; i < n; i++)
		if (layers[i].refused)
			layer_value(&o, &refused, &layers[i], "errno", layers[i].refused, 1);
	return o.len;
}

/* room kept for ",+4294967295 more" */
#define PL_LABEL_MORE 18

void pl_label_join(char *buf, size_t size, const char *item, size_t len, unsigned int *left)
{
	size_t used = strlen(buf);

	if (*left || size <= PL_LABEL_MORE ||
	    used + (used ? 1 : 0) + len >= size - PL_LABEL_MORE) {
		(*left)++;
		return;
	}
	if (used)
		buf[used++] = ',';
	memcpy(buf + used, item, len);
	buf[used + len] = '\0';
}

void pl_label_join_end(char *buf, size_t size, unsigned int left)
{
	size_t used = strlen(buf);

	if (left && used < size)
		snprintf(buf + used, size - used, "%s+%u more", used ? "," : "", left);
}

