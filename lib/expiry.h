/*
 * expiry - when a job stops being worth sending, and when to try again.
 * Pure functions of the job and the configuration.
 */
#ifndef SPOOLD_EXPIRY_H
#define SPOOLD_EXPIRY_H

#include <time.h>

#include "job.h"

/* job_expiry - the job's expires, else its appointment's start, else
 * first_seen + recall_days */
time_t job_expiry(const struct job *j, time_t first_seen, int recall_days);
/* job_backoff - the next attempt after the n-th transient failure:
 * 1, 2, 4, ... minutes, capped at cap_minutes, +-25% random */
time_t job_backoff(time_t now, size_t n, int cap_minutes);

#endif
