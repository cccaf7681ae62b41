/*
 * deliver_int - what deliver.c (a job's claim, message and transaction)
 * and settle.c (its next folder) share; not for the rest of spoold.
 */
#ifndef SPOOLD_DELIVER_INT_H
#define SPOOLD_DELIVER_INT_H

#include <time.h>

#include "job.h"
#include "spoold.h"

/* queue_log - keep a delivery line until the moves are durable */
void queue_log(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* write_reason - NAME.reason.txt beside the job in folder f (text NULL: none) */
void write_reason(struct daemon *d, enum folder f, const char *name, const char *text);
/* file_corrupt_as - not a valid job: to corrupt/ with its reason, under a
 * fresh name when rename_it is set or its own is not a job name or is taken */
void file_corrupt_as(
        struct daemon *d, enum folder from, const char *name, const char *why, int rename_it);
/* file_corrupt - to corrupt/ under its own name when it can */
void file_corrupt(struct daemon *d, enum folder from, const char *name, const char *why);
/* settle_fail - active/ -> failed/ with the reason, what to do, and the reply */
void settle_fail(struct daemon *d, struct job *j, const char *name, const char *what,
        const char *action, const char *reply);
/* settle_defer - active/ -> deferred/, due then; indexed again */
void settle_defer(struct daemon *d, struct job *j, const char *name, time_t due, time_t expires);
/* settle_sent - active/ -> sent/, then NAME.eml.gz beside it: eml when
 * staged, else msg compressed now; 0 when the job is in sent/, -1 not */
int settle_sent(struct daemon *d, struct job *j, const char *name, const char *msg, size_t len,
        struct spooldir_staged *eml);
/* settle_hold - active/ -> hold/: the outcome is unknown */
void settle_hold(struct daemon *d, struct job *j, const char *name, const char *reply);
/* put_back - active/ -> deferred/, due now, not charged: the account (or
 * the pacing) waits, not the job */
void put_back(struct daemon *d, struct job *j, const char *name, time_t expires);

#endif
