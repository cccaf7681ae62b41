/*
 * datefmt - the appointment's date and time as templates show them.
 *
 * Everything here is in the practice's time zone (conf.timezone, an IANA
 * name such as America/Chicago; NULL: the system's zone).  Named zones
 * are converted with libical's built-in time zones (read from the
 * system's tzdata), which never touches the environment; NULL uses the
 * process's own local time (localtime_r).  The job's own UTC offset only
 * fixes the instant; the wall-clock time shown is the practice's.
 *
 * Names of days and months are written here, in English and Spanish
 * ("es" and "es-*"; every other locale is English), never taken from the
 * C library's locale.  Pure given its arguments (job, zone, locale, now).
 */
#ifndef SPOOLD_DATEFMT_H
#define SPOOLD_DATEFMT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "job.h"

#define DATEFMT_ABBR_MAX 16

/* One instant as wall-clock time in a zone. */
struct datefmt_tm {
	int year, mon, mday; /* mon 1..12 */
	int hour, min, sec;
	int wday;                    /* 0 = Sunday */
	long gmtoff;                 /* seconds east of UTC */
	char abbr[DATEFMT_ABBR_MAX]; /* "CST", "IST", "+0545" */
};

/* datefmt_spanish - 1 for the locales "es" and "es-*" */
int datefmt_spanish(const char *locale);
/* datefmt_zone_known - 1 when zone is NULL or a time zone we can convert to */
int datefmt_zone_known(const char *zone);
/* datefmt_local - t as wall-clock time in zone; 0 ok, -1 unknown zone */
int datefmt_local(time_t t, const char *zone, struct datefmt_tm *tm);
/* datefmt_rfc5322 - "Tue, 01 Dec 2026 09:30:00 -0600" in zone; "" on failure */
char *datefmt_rfc5322(time_t t, const char *zone, char *buf, size_t len);
/* datefmt_zone_name - the IANA name of zone, or of the system's zone for
 * NULL ($TZ, /etc/localtime, /etc/timezone), into buf; NULL when unknown */
const char *datefmt_zone_name(const char *zone, char *buf, size_t len);
/* datefmt_when - the templates' "when" object (date, date_short, time,
 * end_time, weekday, lead, tz_abbr, iso, is_today, is_tomorrow) for the
 * job's appointment, seen at now; *out is NULL when there is none.
 * 0 ok, -1 with the reason in err (an unknown time zone). */
int datefmt_when(const struct job *j, const char *zone, const char *locale, time_t now,
        json_t **out, char *err, size_t errlen);

#endif
