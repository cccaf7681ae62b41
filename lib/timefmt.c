/*
 * timefmt - RFC 3339 and RFC 5322 times.
 *
 * Owns every conversion between time_t and text in spoold.  RFC 3339
 * parsing is strict (full date-time, explicit offset) and computes UTC
 * arithmetically, so it never depends on TZ.  RFC 5322 dates use the
 * process's local zone with its real offset (tm_gmtoff), and English
 * names whatever the locale.  Nothing here allocates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

static const char *const wday_name[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon_name[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* digits - read exactly n decimal digits at *p; -1 when they are not there */
static int digits(const char **p, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	return v;
}

/* expect - consume character c at *p; 0 when it is not there */
static int expect(const char **p, char c)
{
	if (**p != c)
		return 0;
	(*p)++;
	return 1;
}

/* is_leap - Gregorian leap year */
static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* days_in_month - 28..31 */
static int days_in_month(int y, int m)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static long long days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* rfc3339_parse - parse "2026-12-01T09:30:00-06:00"; 0 ok, -1 invalid
 *
 * Accepts YYYY-MM-DD('T'|'t')hh:mm:ss[.fraction](Z|z|+hh:mm|-hh:mm) and
 * nothing else: no leading or trailing text, no second 60.  The fraction
 * is ignored.  t and offset_min may be NULL to validate only. */
int rfc3339_parse(const char *s, time_t *t, int *offset_min)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	long long secs;

	if (s == NULL)
		return -1;
	if ((y = digits(&p, 4)) < 0 || !expect(&p, '-') || (mo = digits(&p, 2)) < 0 ||
	        !expect(&p, '-') || (d = digits(&p, 2)) < 0)
		return -1;
	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if ((h = digits(&p, 2)) < 0 || !expect(&p, ':') || (mi = digits(&p, 2)) < 0 ||
	        !expect(&p, ':') || (sec = digits(&p, 2)) < 0)
		return -1;
	if (expect(&p, '.')) {
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if ((oh = digits(&p, 2)) < 0 || !expect(&p, ':') || (om = digits(&p, 2)) < 0)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -1;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	secs -= (long long)sign * (oh * 3600 + om * 60);
	if ((long long)(time_t)secs != secs)
		return -1;
	if (t != NULL)
		*t = (time_t)secs;
	if (offset_min != NULL)
		*offset_min = sign * (oh * 60 + om);
	return 0;
}

/* rfc3339_format - UTC "2026-12-01T15:30:00Z" into buf (>= TIMEFMT_MAX)
 *
 * Returns buf; on failure (buffer too small, a year outside 0000..9999)
 * buf holds the empty string. */
char *rfc3339_format(time_t t, char *buf, size_t len)
{
	struct tm tm;
	int n;

	if (buf == NULL || len == 0)
		return buf;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		buf[0] = '\0';
		return buf;
	}
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
	return buf;
}

/* timefmt_tzset - tzset() when TZ changed, else at most once a second */
void timefmt_tzset(void)
{
	static char last[256];
	static int known, unset;
	static time_t at;
	const char *tz = getenv("TZ");
	time_t now = time(NULL);

	if (known && now == at && (tz ? !unset && !strcmp(tz, last) : unset))
		return;
	tzset();
	at = now;
	unset = tz == NULL;
	/* a TZ too long to remember is simply looked at every time */
	known = !tz || strlen(tz) < sizeof last;
	if (tz && known)
		strcpy(last, tz);
}

/* rfc5322_date - "Tue, 01 Dec 2026 09:30:00 -0600" in the local zone (TZ)
 *
 * TZ is looked at on every call (timefmt_tzset), so a changed TZ takes effect.
 * Returns buf; on failure buf holds the empty string. */
char *rfc5322_date(time_t t, char *buf, size_t len)
{
	struct tm tm;
	long off, aoff;
	int n;

	if (buf == NULL || len == 0)
		return buf;
	timefmt_tzset();
	if (localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	        tm.tm_mon > 11 || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		buf[0] = '\0';
		return buf;
	}
	off = tm.tm_gmtoff;
	aoff = off < 0 ? -off : off;
	n = snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	        wday_name[tm.tm_wday], tm.tm_mday, mon_name[tm.tm_mon], tm.tm_year + 1900,
	        tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', aoff / 3600,
	        aoff % 3600 / 60);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
	return buf;
}
