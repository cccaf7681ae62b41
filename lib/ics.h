/*
 * ics - the iCalendar event (RFC 5545) attached to appointment reminders.
 *
 * One VCALENDAR (METHOD:PUBLISH) holding the practice zone's VTIMEZONE
 * (libical's built-in zone, cut to the years around the appointment, with
 * the plain IANA name as TZID) and one VEVENT: UID, DTSTAMP, DTSTART and
 * DTEND (start + appointment.minutes; no DTEND without minutes) in that
 * zone, SUMMARY ("Appointment with PROVIDER" / "Cita con PROVIDER"),
 * LOCATION (appointment.location, else practice.address) and ORGANIZER
 * (CN = the practice's name, mailto: message.organizer, else relay.from).
 * When the zone has no IANA name (a system zone set by a POSIX TZ rule)
 * times are written in UTC instead.
 *
 * The UID names the appointment, not the message, so that a second
 * reminder for the same visit updates the calendar entry instead of
 * adding one: the job's id without a trailing "-reminder" or
 * "-reminder-WHATEVER" part (a convention of schedulers: "appt-88213-
 * reminder-24h" and "appt-88213-reminder-2h" both give "appt-88213"),
 * anything outside [A-Za-z0-9._-] percent-encoded, then "@" and the domain
 * of relay.from.
 *
 * Text from the job goes through rfc2047_clean (no control characters,
 * no bidirectional overrides) and libical's escaping; parameter values
 * lose their double quotes.  Lines end in CRLF, folded by libical.
 */
#ifndef SPOOLD_ICS_H
#define SPOOLD_ICS_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "job.h"

/* ics_uid - the event's UID into buf (see above) */
char *ics_uid(const struct job *j, const struct conf *c, char *buf, size_t len);
/* ics_event - the VCALENDAR text for the job's appointment, DTSTAMP now;
 * malloc'ed; NULL with the reason in err */
char *ics_event(const struct job *j, const struct conf *c, time_t now, char *err, size_t errlen);

#endif
