/*
 * reply_when - when a provider says to try again: "after/until <date>"
 * (RFC 5322/1123, ISO 8601 or asctime) or "in/after/for/wait N
 * seconds|minutes|hours|days" in a normalised reply text (reply.c).  A
 * time in the past or more than RETRY_HORIZON ahead is ignored.
 *
 * Pure: no state, no allocation, no locale and no libc time zone (dates
 * are converted with days_from_civil); safe for any input (the fuzz
 * target tests/fuzz/fuzz_reply.c reaches it through reply_judge).
 */
#include <string.h>

#include "reply_int.h"

#define RETRY_HORIZON (7 * 86400) /* retry times further ahead are ignored */

/* num - min_digits to max_digits (at most 9) digits at *s; -1 when fewer */
static long num(const char **s, int min_digits, int max_digits)
{
	long v = 0;
	int n = 0;

	while (n < max_digits && is_digit((unsigned char)**s)) {
		v = v * 10 + (*(*s)++ - '0');
		n++;
	}
	return n >= min_digits ? v : -1;
}

/* word_at - the word w (lower case) at *s, followed by a non-letter; advances */
static int word_at(const char **s, const char *w)
{
	size_t k = strlen(w);

	if (strncmp(*s, w, k) || is_alnum((unsigned char)(*s)[k]))
		return 0;
	*s += k;
	return 1;
}

/* skip - one optional character c and the spaces after it */
static void skip(const char **s, int c)
{
	if (c && **s == c)
		(*s)++;
	while (**s == ' ')
		(*s)++;
}

/* month_at - "jan".."dec" (or the full name) at *s; 1..12, 0 */
static int month_at(const char **s)
{
	static const char *const m[] = {"january", "february", "march", "april", "may", "june",
	        "july", "august", "september", "october", "november", "december"};

	for (int i = 0; i < 12; i++) {
		if (word_at(s, m[i]))
			return i + 1;
		const char *p = *s;
		if (!strncmp(p, m[i], 3) && !is_alnum((unsigned char)p[3])) {
			*s += 3;
			if (**s == '.')
				(*s)++;
			return i + 1;
		}
	}
	return 0;
}

/* weekday_at - an optional day name ("tue", "tuesday") and comma at *s */
static void weekday_at(const char **s)
{
	static const char *const d[] = {
	        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

	for (int i = 0; i < 7; i++)
		if (word_at(s, d[i]) ||
		        (!strncmp(*s, d[i], 3) && !is_alnum((unsigned char)(*s)[3]) && (*s += 3))) {
			skip(s, ',');
			return;
		}
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* clock_at - "hh:mm[:ss[.frac]]" at *s into seconds of the day; -1 */
static long clock_at(const char **s)
{
	const char *p = *s;
	long h = num(&p, 1, 2), m = -1, sec = 0;

	if (h < 0 || *p != ':')
		return -1;
	p++;
	if ((m = num(&p, 2, 2)) < 0)
		return -1;
	if (*p == ':') {
		p++;
		if ((sec = num(&p, 2, 2)) < 0)
			return -1;
		if (*p == '.' || *p == ',')
			for (p++; is_digit((unsigned char)*p); p++)
				;
	}
	if (h > 23 || m > 59 || sec > 60)
		return -1;
	*s = p;
	return h * 3600 + m * 60 + sec;
}

/* zone_at - an optional zone at *s: "+0600", "-06:00", "z", "gmt", "ut",
 * "utc", the US names of RFC 822; its offset east in seconds (none: UTC) */
static long zone_at(const char **s)
{
	static const struct {
		const char *name;
		int hours;
	} names[] = {{"gmt", 0}, {"utc", 0}, {"ut", 0}, {"z", 0}, {"est", -5}, {"edt", -4},
	        {"cst", -6}, {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7}};
	const char *p = *s;

	while (*p == ' ')
		p++;
	if ((*p == '+' || *p == '-') && is_digit((unsigned char)p[1])) {
		int sign = *p == '-' ? -1 : 1;
		const char *q = p + 1;
		long hh = num(&q, 2, 2), mm;
		if (hh < 0)
			return 0;
		if (*q == ':')
			q++;
		if ((mm = num(&q, 2, 2)) < 0 || hh > 23 || mm > 59)
			return 0;
		*s = q;
		return sign * (hh * 3600 + mm * 60);
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (word_at(&p, names[i].name)) {
			*s = p;
			return names[i].hours * 3600L;
		}
	return 0;
}

/* mk_time - the instant of a date, time of day and offset; -1 when the date is impossible */
static long long mk_time(long y, int mon, long d, long secs, long off)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (y < 1970 || y > 9999 || mon < 1 || mon > 12 || d < 1 || d > mdays[mon - 1])
		return -1;
	if (mon == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400)))
		return -1;
	return days_from_civil(y, mon, (int)d) * DAY + secs - off;
}

/* date_at - a date at s: RFC 5322/1123 ("tue, 01 dec 2026 15:04:05 gmt"),
 * ISO 8601 ("2026-12-01t15:04:05z"), asctime ("tue dec 1 15:04:05 2026");
 * the instant, or -1 */
static long long date_at(const char *s)
{
	const char *p = s;
	long y, d, secs;
	int mon;

	/* ISO 8601 */
	if ((y = num(&p, 4, 4)) >= 0 && *p == '-') {
		p++;
		long m = num(&p, 2, 2);
		if (m < 0 || *p++ != '-' || (d = num(&p, 2, 2)) < 0 || (*p != 't' && *p != ' '))
			return -1;
		p++;
		if ((secs = clock_at(&p)) < 0)
			return -1;
		return mk_time(y, (int)m, d, secs, zone_at(&p));
	}
	p = s;
	weekday_at(&p);
	if ((mon = month_at(&p))) {
		/* asctime: mon dd hh:mm:ss yyyy */
		skip(&p, 0);
		if ((d = num(&p, 1, 2)) < 0)
			return -1;
		skip(&p, 0);
		if ((secs = clock_at(&p)) < 0)
			return -1;
		const char *z = p;
		long off = zone_at(&z);
		skip(&z, 0);
		if ((y = num(&z, 4, 4)) < 0)
			return -1;
		return mk_time(y, mon, d, secs, off);
	}
	/* RFC 5322: dd mon yyyy hh:mm[:ss] zone */
	if ((d = num(&p, 1, 2)) < 0)
		return -1;
	skip(&p, '-');
	if (!(mon = month_at(&p)))
		return -1;
	skip(&p, '-');
	const char *ys = p;
	if ((y = num(&p, 2, 4)) < 0 || p - ys == 3)
		return -1;
	if (p - ys == 2)
		y += y < 50 ? 2000 : 1900;
	skip(&p, 0);
	if ((secs = clock_at(&p)) < 0)
		return -1;
	return mk_time(y, mon, d, secs, zone_at(&p));
}

/* span_at - "N unit" (or "a/an unit") at s: seconds, or -1 */
static long long span_at(const char *s)
{
	static const struct {
		const char *unit;
		long secs;
	} units[] = {{"seconds", 1}, {"second", 1}, {"secs", 1}, {"sec", 1}, {"s", 1},
	        {"minutes", 60}, {"minute", 60}, {"mins", 60}, {"min", 60}, {"m", 60},
	        {"hours", 3600}, {"hour", 3600}, {"hrs", 3600}, {"hr", 3600}, {"h", 3600},
	        {"days", DAY}, {"day", DAY}, {"d", DAY}};
	const char *p = s;
	long n;

	if (word_at(&p, "an") || word_at(&p, "a"))
		n = 1;
	else if ((n = num(&p, 1, 9)) < 0)
		return -1;
	if (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (word_at(&p, units[i].unit))
			return (long long)n * units[i].secs;
	return -1;
}

/* reply_retry_time - the first usable retry time in the normalised text t; 0 */
time_t reply_retry_time(const char *t, time_t now)
{
	static const struct {
		const char *word;
		int date, span;
	} keys[] = {{"after", 1, 1}, {"until", 1, 0}, {"till", 1, 0}, {"in", 0, 1}, {"for", 0, 1},
	        {"wait", 0, 1}};

	for (const char *s = t; *s; s++) {
		if (s > t && is_alnum((unsigned char)s[-1]))
			continue;
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			const char *p = s;
			long long at = -1, span;
			if (!word_at(&p, keys[i].word) || *p != ' ')
				continue;
			p++;
			if (keys[i].date)
				at = date_at(p);
			if (at < 0 && keys[i].span && (span = span_at(p)) >= 0)
				at = (long long)now + span;
			if (at > (long long)now && at <= (long long)now + RETRY_HORIZON)
				return (time_t)at;
		}
	}
	return 0;
}
