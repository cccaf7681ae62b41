/*
 * timefmt - RFC 3339 and RFC 5322 times.
 *
 * Parsing accepts only full RFC 3339 date-times with an explicit offset
 * ("Z" or +hh:mm / -hh:mm), as job files require.  Formatting writes into
 * caller-supplied buffers; nothing here allocates.
 */
#ifndef SPOOLD_TIMEFMT_H
#define SPOOLD_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#define TIMEFMT_MAX 64

/* rfc3339_parse - parse "2026-12-01T09:30:00-06:00"; 0 ok, -1 invalid */
int rfc3339_parse(const char *s, time_t *t, int *offset_min);
/* rfc3339_format - UTC "2026-12-01T15:30:00Z" into buf (>= TIMEFMT_MAX) */
char *rfc3339_format(time_t t, char *buf, size_t len);
/* rfc5322_date - "Tue, 01 Dec 2026 09:30:00 -0600" in the local zone of the
 * process (TZ), half-hour and 45-minute zones written correctly */
char *rfc5322_date(time_t t, char *buf, size_t len);
/* timefmt_tzset - tzset() when TZ changed since the last call, else at
 * most once a second (glibc's tzset reads the zone file's status on every
 * call; a drain formats dates for every message) */
void timefmt_tzset(void);

#endif
