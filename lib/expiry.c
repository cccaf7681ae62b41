/*
 * expiry - job expiry and retry times; see expiry.h.
 */
#include <stdlib.h>

#include "expiry.h"

/* job_expiry - the last moment the job is worth sending */
time_t job_expiry(const struct job *j, time_t first_seen, int recall_days)
{
	if (j->expires)
		return j->expires;
	if (j->appt_start)
		return j->appt_start;
	return first_seen + (time_t)recall_days * 86400;
}

/* job_backoff - exponential, capped, randomised */
time_t job_backoff(time_t now, size_t n, int cap_minutes)
{
	long secs = 60, cap = (long)cap_minutes * 60;

	for (size_t i = 1; i < n && secs < cap; i++)
		secs *= 2;
	if (secs > cap)
		secs = cap;
	secs = secs * 3 / 4 + random() % (secs / 2 + 1);
	return now + (secs > 0 ? secs : 1);
}
