/*
 * reason - the plain-text reason file written beside a job in failed/ or
 * corrupt/ (NAME.reason.txt), for front-desk staff: who, which
 * appointment, what happened, what to do, and the raw reply last.
 * Returns malloc'ed text; free() it.
 */
#ifndef SPOOLD_REASON_H
#define SPOOLD_REASON_H

#include "job.h"

/* reason_failed - why a job is in failed/ (what: a plain sentence;
 * action: what staff should do; reply: the server's words or NULL) */
char *reason_failed(const struct job *j, const char *name, const char *what, const char *action,
	const char *reply);
/* reason_corrupt - why a file is in corrupt/ */
char *reason_corrupt(const char *name, const char *original, const char *why);

#endif
