/*
 * settle - where a job goes next, for deliver.c: failed/, deferred/,
 * sent/, hold/, corrupt/, each with what staff need (NAME.reason.txt, the
 * message as sent, the history).  The moves are batched: deliver_flush
 * makes them durable before their log lines are written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver_int.h"
#include "job.h"
#include "log.h"
#include "reason.h"
#include "spoold.h"

/* write_reason - NAME.reason.txt beside the job */
void write_reason(struct daemon *d, enum folder f, const char *name, const char *text)
{
	char side[SPOOLDIR_NAME_MAX + 32];

	if (!text)
		return;
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_REASON_SUFFIX);
	if (spooldir_write(&d->sd, f, side, text, strlen(text), 0) < 0)
		log_warn("%s/%s: cannot write the reason", spooldir_folder_name(f), side);
}

/* file_corrupt_as - a file that is not a valid job goes to corrupt/ (under
 * a fresh name when asked, or when its own is not a job name or is taken) */
void file_corrupt_as(
        struct daemon *d, enum folder from, const char *name, const char *why, int rename_it)
{
	char fresh[SPOOLDIR_NAME_MAX + 1];
	const char *to = name;

	if (rename_it || !spooldir_name_valid(name))
		to = spooldir_newname(fresh, sizeof fresh);
	while (renameat2(d->sd.fd[from], name, d->sd.fd[F_CORRUPT], to, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST && to == name) {
			to = spooldir_newname(fresh, sizeof fresh);
			continue;
		}
		if (errno != ENOENT)
			log_warn(
			        "%s/%s: cannot move to corrupt/", spooldir_folder_name(from), name);
		return;
	}
	char *text = reason_corrupt(to, name, why);
	write_reason(d, F_CORRUPT, to, text);
	free(text);
	if (to != name)
		queue_log(
		        d, "job=%s status=corrupt arrived_as=\"%s\" reason=\"%s\"", to, name, why);
	else
		queue_log(d, "job=%s status=corrupt reason=\"%s\"", to, why);
	deliver_note(d, STATUS_FAILED, "corrupt", -1);
}

/* file_corrupt - to corrupt/ under its own name when it can */
void file_corrupt(struct daemon *d, enum folder from, const char *name, const char *why)
{
	file_corrupt_as(d, from, name, why, 0);
}

/* file_job - the job rewritten (its history) and moved from active/ to
 * folder to, with mtime as spooldir_move takes it; when the disk refuses
 * the rewrite it moves unchanged, so that it is not stranded in active/
 * until a restart.  0 in folder to (rewritten or not), -1 still in
 * active/; every failure is logged. */
static int file_job(struct daemon *d, struct job *j, const char *name, enum folder to, time_t mtime)
{
	const char *folder = spooldir_folder_name(to);
	char *data = job_dump(j);
	int rc = 0;

	if (!data || spooldir_move(&d->sd, F_ACTIVE, to, name, data, strlen(data), mtime) < 0) {
		log_warn("%s: cannot record its history; moving it to %s/ as it was", name, folder);
		if ((rc = spooldir_rename(&d->sd, F_ACTIVE, to, name)) < 0)
			log_warn("%s: cannot move to %s/; it returns at the next start", name,
			        folder);
	}
	free(data);
	return rc;
}

/* file_reasoned - active/ -> folder to (failed/ or hold/), no attempt
 * planned, with NAME.reason.txt for staff; 0 or -1 */
static int file_reasoned(struct daemon *d, struct job *j, const char *name, enum folder to,
        const char *what, const char *action, const char *reply)
{
	char *text;

	job_spool_set_str(j, "reason", what);
	job_spool_set_time(j, "next_attempt", 0);
	if (file_job(d, j, name, to, 0) < 0)
		return -1;
	text = reason_failed(j, name, what, action, reply);
	write_reason(d, to, name, text);
	free(text);
	return 0;
}

/* settle_fail - the job fails: failed/ with its reason for staff */
void settle_fail(struct daemon *d, struct job *j, const char *name, const char *what,
        const char *action, const char *reply)
{
	if (file_reasoned(d, j, name, F_FAILED, what, action, reply) == 0)
		spooldir_dedupe_release(&d->sd, j->id, name);
}

/* settle_defer - the job waits in deferred/ until due */
void settle_defer(struct daemon *d, struct job *j, const char *name, time_t due, time_t expires)
{
	job_spool_set_time(j, "next_attempt", due);
	time_t now = time(NULL), seen = job_spool_time(j, "first_seen");
	file_job(d, j, name, F_DEFERRED, due);
	if (queue_add(&d->q, name, F_DEFERRED, due, expires, seen && seen < now ? seen : now, now) <
	        0)
		log_warnx("%s: out of memory; it waits for the next start", name);
}

/* settle_sent - the server accepted it: sent/, then the message as sent
 * beside it.  The job moves first: from the server's 250 to this rename a
 * kill -9 means the message goes again at restart (the duplicate window,
 * kept to renames: the copy was staged while the server took it); killed
 * just after, start-up recovery puts the staged copy in place.  0 when
 * the job is in sent/ (its history recorded or not), -1 still in active/. */
int settle_sent(struct daemon *d, struct job *j, const char *name, const char *msg, size_t len,
        struct spooldir_staged *eml)
{
	char side[SPOOLDIR_NAME_MAX + 32];

	if (file_job(d, j, name, F_SENT, 0) < 0)
		return -1;
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_EML_SUFFIX);
	if (eml->fd >= 0 ? spooldir_stage_commit(&d->sd, eml)
	                 : spooldir_write_gz(&d->sd, F_SENT, side, msg, len))
		log_warn("sent/%s: cannot keep the message as sent", side);
	return 0;
}

/* settle_hold - the outcome is unknown: hold/ with the reason, never resent blindly */
void settle_hold(struct daemon *d, struct job *j, const char *name, const char *reply)
{
	const char *what = "The connection broke just as the e-mail was handed over, so it may "
	                   "or may not have been delivered.  It is on hold so that the patient "
	                   "does not get it twice.";
	char action[2 * SPOOLDIR_NAME_MAX + 160];

	snprintf(action, sizeof action,
	        "If the patient did not get it, send it again with: spool release %s  "
	        "(or remove it with: spool delete %s)",
	        name, name);
	if (file_reasoned(d, j, name, F_HOLD, what, action, reply) == 0)
		deliver_job_alert(d, "job-held", name, what);
	else /* staff hear of it: at the next start it would go again */
		deliver_job_alert(d, "job-held", name,
		        "The connection broke just as the e-mail was handed over, and the disk "
		        "refused to put it on hold: it stays in active/ and is sent again when "
		        "spoold next starts, unless someone removes it first.");
}

/* put_back - the account stopped: the job waits again, not charged an attempt */
void put_back(struct daemon *d, struct job *j, const char *name, time_t expires)
{
	settle_defer(d, j, name, time(NULL), expires);
}

/* deliver_write_reason - a reason file beside a job, for staff */
void deliver_write_reason(struct daemon *d, enum folder f, const char *name, const char *text)
{
	write_reason(d, f, name, text);
}
