/*
 * queue - spoold's in-memory index of waiting jobs.
 *
 * Two binary heaps: "ready" (due now; earliest expiry first) and "later"
 * (due in the future; earliest due first).  An entry is only a name, the
 * folder it waits in, its due time, its expiry and since when it waits (for
 * the status page, which then need not read the folders): the job itself stays
 * on disk, so 100,000 waiting jobs cost a few megabytes.  An entry can be
 * stale (a person moved the job): the claim then fails and the entry is
 * dropped.  Entries are malloc'ed; queue_pop hands one to the caller.
 */
#ifndef SPOOLD_QUEUE_H
#define SPOOLD_QUEUE_H

#include <stddef.h>
#include <time.h>

#include "spooldir.h"

struct qjob {
	time_t due;
	time_t expires;     /* 0: unknown (a file to be filed as corrupt): first */
	time_t since;       /* waiting since (new/: arrival; deferred/: first seen) */
	unsigned char from; /* enum folder: F_NEW or F_DEFERRED */
	char name[];
};

struct heap {
	struct qjob **v;
	size_t n, cap;
	int by_due;
};

struct queue {
	struct heap ready, later;
};

void queue_init(struct queue *q);
void queue_free(struct queue *q);
/* queue_add - index a job; -1 when out of memory */
int queue_add(struct queue *q, const char *name, enum folder from, time_t due, time_t expires,
        time_t since, time_t now);
/* queue_oldest - the earliest "since" of every indexed job, or 0 when none */
time_t queue_oldest(const struct queue *q);
/* queue_promote - move every job due by now from later to ready */
void queue_promote(struct queue *q, time_t now);
/* queue_peek - the ready job queue_pop would return, or NULL (still queued) */
struct qjob *queue_peek(const struct queue *q);
/* queue_pop - the ready job with the earliest expiry, or NULL; free() it */
struct qjob *queue_pop(struct queue *q);
/* queue_next_due - the earliest due time of a later job, or 0 */
time_t queue_next_due(const struct queue *q);
/* queue_size - every indexed job */
size_t queue_size(const struct queue *q);

#endif
