/*
 * spoold - the daemon's shared state; the event loop owns it.
 *
 * main.c: arguments, privileges, signals, inotify, the loop.
 * deliver.c: one job from claim to its next folder.
 * queue.c: the in-memory index of waiting jobs.
 */
#ifndef SPOOLD_SPOOLD_H
#define SPOOLD_SPOOLD_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "conf.h"
#include "queue.h"
#include "smtp.h"
#include "spooldir.h"

struct daemon {
	struct conf conf;
	struct spooldir sd;
	struct queue q;
	struct smtp *smtp;
	time_t last_send;   /* when the connection was last used */
	time_t pause_until; /* sending stopped until then (account problem) */
	int pause_minutes;  /* the current pause; doubles while problems repeat */
	int pausing;        /* an incident is open (alert once) */
	char **logs;        /* delivery lines waiting for spooldir_flush */
	size_t nlogs, clogs;
	unsigned unflushed; /* jobs moved since the last flush */
};

/* deliver_consider - index a job found in new/ or deferred/ */
void deliver_consider(struct daemon *d, enum folder f, const char *name, const struct stat *st,
	time_t now);
/* deliver_run - take one ready job through an attempt to its next folder */
void deliver_run(struct daemon *d, struct qjob *qj);
/* deliver_flush - make the moves durable, then write their log lines */
void deliver_flush(struct daemon *d);

#endif
