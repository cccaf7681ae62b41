/*
 * reason - the plain-text reason file written beside a job in failed/,
 * hold/ or corrupt/ (NAME.reason.txt), for front-desk staff.
 *
 * A failed job's file reads, top to bottom: one headline (whose reminder
 * was not sent); "What happened:" in the caller's plain words (the
 * classifier's explanation, never protocol words); who and which
 * appointment (the patient's name, the address, the date and time in the
 * practice's time zone, the provider and the location, the job's name);
 * "What to do:" (the caller's action, then the usual steps: phone the
 * patient, fix the address in the scheduler, spool retry NAME); and last,
 * under its own heading, the mail server's words for the IT contact.
 * Text from the job or the server never brings control characters into
 * the file (CR, LF, ESC, C1 controls and invalid UTF-8 become '?' or a
 * space); the server's line breaks are kept as indented lines.
 *
 * The practice's zone: reason_set_zone (an IANA name, copied; NULL: the
 * process's local time, which spoold sets to conf.timezone through TZ).
 * Every function returns malloc'ed text (free() it), or NULL when out of
 * memory.
 */
#ifndef SPOOLD_REASON_H
#define SPOOLD_REASON_H

#include "job.h"

/* reason_set_zone - the practice's time zone for appointments in reason
 * files (copied; NULL: local time); call at start and after a reload.
 * 0 ok, -1 out of memory (the previous zone is kept) */
int reason_set_zone(const char *zone);

/* reason_failed - why a job is in failed/ or hold/ (what: a plain sentence;
 * action: what staff should do; reply: the server's words or NULL) */
char *reason_failed(const struct job *j, const char *name, const char *what, const char *action,
        const char *reply);
/* reason_corrupt - why a file is in corrupt/ */
char *reason_corrupt(const char *name, const char *original, const char *why);

#endif
