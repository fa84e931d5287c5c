// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The daemon's history lines and --since times (logq.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "logq.h"

/* N decimal digits at S; false if any is not one. */
static bool digits(const char *s, size_t n, int *out)
{
	int x = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*out = x;
	return true;
}

/* Days from 1970-01-01 to Y-M-D in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" at S (10 bytes), into TM's date fields, checked. */
static bool parse_date(const char *s, struct tm *tm)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
	    !digits(s + 8, 2, &d) || y < 1970 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap(y)))
		return false;
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	return true;
}

/* "HH:MM" or "HH:MM:SS" at S, LEN bytes. */
static bool parse_clock(const char *s, size_t len, struct tm *tm)
{
	int h, mi, sec = 0;

	if ((len != 5 && len != 8) || s[2] != ':' || !digits(s, 2, &h) ||
	    !digits(s + 3, 2, &mi) || h > 23 || mi > 59)
		return false;
	if (len == 8 && (s[5] != ':' || !digits(s + 6, 2, &sec) || sec > 60))
		return false;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = sec;
	return true;
}

static time_t utc_of(const struct tm *tm)
{
	return (time_t)(days_from_civil(tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday) * 86400 +
			tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec);
}

int pl_log_line_parse(const char *line, size_t len, struct pl_log_line *out)
{
	struct tm tm = { 0 };
	const char *sp;

	/* 2026-11-28T10:00:00Z NAME ... */
	if (len < 22 || line[10] != 'T' || line[19] != 'Z' || line[20] != ' ' ||
	    !parse_date(line, &tm) || !parse_clock(line + 11, 8, &tm))
		return -EINVAL;
	out->when = utc_of(&tm);
	out->name = line + 21;
	sp = memchr(out->name, ' ', len - 21);
	out->name_len = sp ? (size_t)(sp - out->name) : len - 21;
	if (out->name_len == 0)
		return -EINVAL;
	out->msg = sp ? sp + 1 : line + len;
	out->msg_len = (size_t)(line + len - out->msg);
	return 0;
}

int pl_since_parse(const char *s, time_t now, time_t *out)
{
	size_t len = strlen(s);
	struct tm tm = { 0 };
	time_t t;

	if (len >= 3 && s[0] == '-') {
		static const struct { char unit; int64_t mult; } units[] = {
			{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
		};
		int n;

		/* at most 6 digits: years of weeks, never an overflow */
		if (len > 8 || !digits(s + 1, len - 2, &n))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (s[len - 1] == units[i].unit) {
				*out = now - (time_t)(n * units[i].mult);
				return 0;
			}
		}
		return -EINVAL;
	}
	if (len >= 2 && len <= 12 && s[0] == '@') {
		int64_t x = 0;

		for (size_t i = 1; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -EINVAL;
			x = x * 10 + (s[i] - '0');
		}
		*out = (time_t)x;
		return 0;
	}
	if (!strcmp(s, "today")) {
		if (!localtime_r(&now, &tm))
			return -EINVAL;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	} else if (len == 20 && s[10] == 'T' && s[19] == 'Z') {
		if (!parse_date(s, &tm) || !parse_clock(s + 11, 8, &tm))
			return -EINVAL;
		*out = utc_of(&tm);
		return 0;
	} else if (len == 10) {
		if (!parse_date(s, &tm))
			return -EINVAL;
	} else if ((len == 16 || len == 19) && (s[10] == ' ' || s[10] == 'T')) {
		if (!parse_date(s, &tm) || !parse_clock(s + 11, len - 11, &tm))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	tm.tm_isdst = -1;	/* local time: mktime knows whether DST applies */
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t;
	return 0;
}
