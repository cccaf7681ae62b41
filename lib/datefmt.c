/*
 * datefmt - derived date fields for templates; see datefmt.h.
 *
 * A named zone is read by the C library from the system's tzdata
 * (/usr/share/zoneinfo): spoold runs with TZ set to the practice's zone,
 * so the common case is a plain localtime_r; another zone is looked up by
 * setting TZ for the call and restoring it (the programs are single
 * threaded).  Offsets, half-hour and 45-minute zones, DST and the
 * abbreviations come from tzdata itself.  (This module once used libical;
 * glibc gives identical results and keeps ICU out of the daemon's memory.)
 * The Spanish words are UTF-8 in this file.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datefmt.h"
#include "timefmt.h"

enum lang { EN, ES };

static const char *const wday_long[2][7] = {
        {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
        {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
};
static const char *const wday_short[2][7] = {
        {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
        {"dom", "lun", "mar", "mié", "jue", "vie", "sáb"},
};
static const char *const mon_long[2][12] = {
        {"January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December"},
        {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                "octubre", "noviembre", "diciembre"},
};
static const char *const mon_short[2][12] = {
        {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
        {"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
};

/* datefmt_spanish - "es" or "es-..." */
int datefmt_spanish(const char *locale)
{
	return locale && locale[0] == 'e' && locale[1] == 's' && (!locale[2] || locale[2] == '-');
}

/* zone_file_ok - an IANA name tzdata has, as a plain relative path */
static int zone_file_ok(const char *name)
{
	char path[256];
	struct stat st;

	if (!name || !*name || strlen(name) > 128 || name[0] == '/' || strstr(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		            (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
			return 0;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* datefmt_zone_known - NULL (the system's zone) or a zone tzdata has */
int datefmt_zone_known(const char *zone)
{
	return zone == NULL || zone_file_ok(zone);
}

/* local_in - t as local time in zone (TZ is set for the call, then restored) */
static int local_in(const char *zone, time_t t, struct tm *tm, char *abbr, size_t alen)
{
	const char *cur = getenv("TZ");
	char *saved = NULL;
	int ok;

	if (cur && !strcmp(cur, zone)) {
		timefmt_tzset();
		ok = localtime_r(&t, tm) != NULL;
	} else {
		if (cur && !(saved = strdup(cur)))
			return -1;
		setenv("TZ", zone, 1);
		timefmt_tzset();
		ok = localtime_r(&t, tm) != NULL;
		if (ok)
			snprintf(abbr, alen, "%s", tm->tm_zone ? tm->tm_zone : "");
		if (saved)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		timefmt_tzset();
		free(saved);
		return ok ? 0 : -1;
	}
	if (ok)
		snprintf(abbr, alen, "%s", tm->tm_zone ? tm->tm_zone : "");
	return ok ? 0 : -1;
}

/* numeric_abbr - "+0545", "-03", "UTC": how tzdata names zones without letters */
static void numeric_abbr(long off, char *buf, size_t len)
{
	int a = (int)((off < 0 ? -off : off) % 86400); /* an offset is under a day */

	if (off == 0)
		snprintf(buf, len, "UTC");
	else if (a % 3600 == 0)
		snprintf(buf, len, "%c%02d", off < 0 ? '-' : '+', a / 3600);
	else
		snprintf(buf, len, "%c%02d%02d", off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
}

/* datefmt_local - t as wall-clock time in zone */
int datefmt_local(time_t t, const char *zone, struct datefmt_tm *out)
{
	struct tm tm;
	long off;

	memset(out, 0, sizeof *out);
	if (zone == NULL) {
		timefmt_tzset();
		if (!localtime_r(&t, &tm))
			return -1;
		off = tm.tm_gmtoff;
		snprintf(out->abbr, sizeof out->abbr, "%s", tm.tm_zone ? tm.tm_zone : "");
	} else {
		if (!zone_file_ok(zone) || local_in(zone, t, &tm, out->abbr, sizeof out->abbr) < 0)
			return -1;
		off = tm.tm_gmtoff;
	}
	/* tzdata names some zones by number ("+0545"); keep that form. */
	if (!out->abbr[0])
		numeric_abbr(off, out->abbr, sizeof out->abbr);
	out->year = tm.tm_year + 1900;
	out->mon = tm.tm_mon + 1;
	out->mday = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->min = tm.tm_min;
	out->sec = tm.tm_sec;
	out->wday = tm.tm_wday;
	out->gmtoff = off;
	return 0;
}

/* datefmt_rfc5322 - the Date: header's value in zone */
char *datefmt_rfc5322(time_t t, const char *zone, char *buf, size_t len)
{
	struct datefmt_tm tm;
	long a;

	if (!buf || !len)
		return buf;
	if (datefmt_local(t, zone, &tm) < 0 || tm.year < 0 || tm.year > 9999) {
		buf[0] = '\0';
		return buf;
	}
	a = tm.gmtoff < 0 ? -tm.gmtoff : tm.gmtoff;
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", wday_short[EN][tm.wday],
	        tm.mday, mon_short[EN][tm.mon - 1], tm.year, tm.hour, tm.min, tm.sec,
	        tm.gmtoff < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
	return buf;
}

/* after_zoneinfo - "America/Chicago" from ".../zoneinfo/America/Chicago" */
static const char *after_zoneinfo(const char *path)
{
	const char *p = strstr(path, "zoneinfo/");

	return p ? p + 9 : path[0] == '/' ? NULL : path;
}

/* datefmt_zone_name - the IANA name of zone or of the system's zone */
const char *datefmt_zone_name(const char *zone, char *buf, size_t len)
{
	char link[512];
	const char *name = NULL, *env = getenv("TZ");
	ssize_t n;
	FILE *fp;

	if (zone)
		name = zone;
	else if (env && *env)
		name = after_zoneinfo(env + (*env == ':'));
	else if ((n = readlink("/etc/localtime", link, sizeof link - 1)) > 0) {
		link[n] = '\0';
		name = after_zoneinfo(link);
	} else if ((fp = fopen("/etc/timezone", "re")) != NULL) {
		if (fgets(link, sizeof link, fp)) {
			link[strcspn(link, " \t\r\n")] = '\0';
			name = link;
		}
		fclose(fp);
	}
	if (!name || !*name || !zone_file_ok(name) || strlen(name) >= len)
		return NULL;
	memmove(buf, name, strlen(name) + 1);
	return buf;
}

/* civil_day - days since 1970-01-01 of a wall-clock date */
static long long civil_day(const struct datefmt_tm *tm)
{
	long long y = tm->year - (tm->mon <= 2), era, yoe, doy;

	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (tm->mon + (tm->mon > 2 ? -3 : 9)) + 2) / 5 + tm->mday - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* clock_time - "9:30 AM" (English) or "9:30" (Spanish, 24-hour) */
static void clock_time(const struct datefmt_tm *tm, enum lang l, char *buf, size_t len)
{
	if (l == ES)
		snprintf(buf, len, "%d:%02d", tm->hour, tm->min);
	else
		snprintf(buf, len, "%d:%02d %s", tm->hour % 12 ? tm->hour % 12 : 12, tm->min,
		        tm->hour < 12 ? "AM" : "PM");
}

/* lead_text - "today", "tomorrow", "in 3 days", "in 2 weeks", and the past */
static void lead_text(long long days, enum lang l, char *buf, size_t len)
{
	long long a = days < 0 ? -days : days, n = a < 14 ? a : (a + 3) / 7;
	int weeks = a >= 14;

	if (days == 0)
		snprintf(buf, len, "%s", l == ES ? "hoy" : "today");
	else if (days == 1)
		snprintf(buf, len, "%s", l == ES ? "mañana" : "tomorrow");
	else if (days == -1)
		snprintf(buf, len, "%s", l == ES ? "ayer" : "yesterday");
	else if (l == ES)
		snprintf(buf, len, "%s %lld %s", days > 0 ? "en" : "hace", n,
		        weeks ? "semanas" : "días");
	else if (days > 0)
		snprintf(buf, len, "in %lld %s", n, weeks ? "weeks" : "days");
	else
		snprintf(buf, len, "%lld %s ago", n, weeks ? "weeks" : "days");
}

/* iso_local - RFC 3339 with the zone's offset: "2026-12-01T09:30:00-06:00" */
static void iso_local(const struct datefmt_tm *tm, char *buf, size_t len)
{
	long a = tm->gmtoff < 0 ? -tm->gmtoff : tm->gmtoff;

	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm->year, tm->mon,
	        tm->mday, tm->hour, tm->min, tm->sec, tm->gmtoff < 0 ? '-' : '+', a / 3600,
	        a % 3600 / 60);
}

/* set_str - obj.key = s */
static void set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, json_string(s));
}

/* datefmt_when - the "when" object for templates */
int datefmt_when(const struct job *j, const char *zone, const char *locale, time_t now,
        json_t **out, char *err, size_t errlen)
{
	enum lang l = datefmt_spanish(locale) ? ES : EN;
	struct datefmt_tm s, e, n;
	json_t *w, *minutes;
	long long days;
	char buf[128];

	*out = NULL;
	if (!j->appt_start)
		return 0;
	if (datefmt_local(j->appt_start, zone, &s) < 0 || datefmt_local(now, zone, &n) < 0) {
		snprintf(err, errlen,
		        "timezone \"%s\" is not a time zone this system knows "
		        "(see /usr/share/zoneinfo, e.g. America/Chicago)",
		        zone ? zone : "");
		return -1;
	}
	if (!(w = json_object()))
		return snprintf(err, errlen, "out of memory"), -1;
	if (l == ES)
		snprintf(buf, sizeof buf, "%s, %d de %s de %d", wday_long[l][s.wday], s.mday,
		        mon_long[l][s.mon - 1], s.year);
	else
		snprintf(buf, sizeof buf, "%s, %s %d, %d", wday_long[l][s.wday],
		        mon_long[l][s.mon - 1], s.mday, s.year);
	set_str(w, "date", buf);
	if (l == ES)
		snprintf(buf, sizeof buf, "%s %d %s", wday_short[l][s.wday], s.mday,
		        mon_short[l][s.mon - 1]);
	else
		snprintf(buf, sizeof buf, "%s, %s %d", wday_short[l][s.wday],
		        mon_short[l][s.mon - 1], s.mday);
	set_str(w, "date_short", buf);
	clock_time(&s, l, buf, sizeof buf);
	set_str(w, "time", buf);
	minutes = json_object_get(json_object_get(j->root, "appointment"), "minutes");
	if (json_is_integer(minutes) &&
	        datefmt_local(j->appt_start + (time_t)json_integer_value(minutes) * 60, zone, &e) ==
	                0) {
		clock_time(&e, l, buf, sizeof buf);
		set_str(w, "end_time", buf);
	}
	set_str(w, "weekday", wday_long[l][s.wday]);
	days = civil_day(&s) - civil_day(&n);
	lead_text(days, l, buf, sizeof buf);
	set_str(w, "lead", buf);
	set_str(w, "tz_abbr", s.abbr);
	iso_local(&s, buf, sizeof buf);
	set_str(w, "iso", buf);
	json_object_set_new(w, "is_today", json_boolean(days == 0));
	json_object_set_new(w, "is_tomorrow", json_boolean(days == 1));
	*out = w;
	return 0;
}
