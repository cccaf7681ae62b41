/*
 * verify_sent - the Sent folder part of a verify pass (verify.c): each
 * sent job's Message-ID looked up in the account's Sent folder within
 * confirm_minutes (the job's history records "confirmed" or
 * "not-confirmed"; missing ones make the account suspect, and a later one
 * found ends that), and jobs held for an unknown outcome settled by the
 * same lookup (found: sent/; absent after confirm_minutes: new/, once).
 * The IMAP session and the folder selection are the caller's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap.h"
#include "job.h"
#include "log.h"
#include "spoold.h"
#include "verify_int.h"

#define LOOKUPS_PER_PASS 500 /* Message-ID searches in one pass; the rest wait */

/* record - an event in the job's history, without an SMTP reply */
static void record(struct job *j, const char *host, const char *stage, const char *text,
        const char *category, time_t now)
{
	struct job_attempt a = {now, host, stage, 0, text, category};
	json_t *arr;

	job_add_attempt(j, &a);
	arr = json_object_get(job_spool(j), "attempts");
	json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "charged", json_false());
}

/* load_job - read and parse folder/name; 0, or -1 (logged unless gone) */
static int load_job(struct daemon *d, enum folder f, const char *name, struct job *j)
{
	char err[512], *buf;
	size_t len;

	memset(j, 0, sizeof *j);
	if (spooldir_read(&d->sd, f, name, JOB_FILE_MAX, &buf, &len, NULL, err, sizeof err) < 0) {
		if (errno != ENOENT)
			log_warnx("verify: %s/%s: %s", spooldir_folder_name(f), name, err);
		return -1;
	}
	int rc = job_parse(j, buf, len, err, sizeof err);
	free(buf);
	if (rc < 0) {
		log_warnx("verify: %s/%s: %s", spooldir_folder_name(f), name, err);
		job_free(j);
	}
	return rc;
}

/* confirm - job name was found in Sent: say so in its history */
static void confirm(struct daemon *d, const struct verify_pending *p, time_t now)
{
	const char *folder = d->sent_folder;
	char text[300], *data;
	struct job j;

	if (load_job(d, F_SENT, p->name, &j) < 0)
		return; /* bounced, deleted or pruned meanwhile */
	snprintf(text, sizeof text, "found in the Sent folder \"%s\"", folder);
	record(&j, d->conf.verify.imap.host, "sent-folder", text, "confirmed", now);
	job_spool_set_time(&j, "confirmed", now);
	if ((data = job_dump(&j)) &&
	        spooldir_write(&d->sd, F_SENT, p->name, data, strlen(data), 0) == 0)
		log_info("job=%s status=confirmed folder=\"%s\" delay=%lds msgid=%s", p->name,
		        folder, (long)(now - p->sent), p->msgid);
	free(data);
	job_free(&j);
}

/* unconfirmed - not in Sent in time: in the history; 0 when recorded */
static int unconfirmed(struct daemon *d, const struct verify_pending *p, time_t now)
{
	char text[400], *data;
	struct job j;

	if (load_job(d, F_SENT, p->name, &j) < 0)
		return -1;
	snprintf(text, sizeof text,
	        "not in the Sent folder \"%s\" %d minutes after the provider accepted it",
	        d->sent_folder, d->conf.verify.confirm_minutes);
	record(&j, d->conf.verify.imap.host, "sent-folder", text, "not-confirmed", now);
	job_spool_set_str(&j, "unconfirmed", text);
	if ((data = job_dump(&j)))
		spooldir_write(&d->sd, F_SENT, p->name, data, strlen(data), 0);
	free(data);
	job_free(&j);
	log_warnx("job=%s status=not-confirmed folder=\"%s\" msgid=%s", p->name, d->sent_folder,
	        p->msgid);
	return 0;
}

/* verify_check_sent - look the pending Message-IDs up in Sent; -1 when the
 * session broke */
int verify_check_sent(struct daemon *d, struct imap *im, time_t now)
{
	struct verify_state *vs = &d->vs;
	time_t window = verify_scaled(d->conf.verify.confirm_minutes * 60L);
	char err[512], first[SPOOLDIR_NAME_MAX + 1] = "";
	unsigned missing = 0, looked = 0;
	time_t sent_ok_since = 0; /* the latest send time confirmed in this pass */

	for (size_t i = 0; i < vs->npending && looked < LOOKUPS_PER_PASS;) {
		struct verify_pending *p = &vs->pending[i];
		int r = imap_find_message_id(im, p->msgid, err, sizeof err);
		looked++;
		if (r < 0) {
			verify_trouble(d, FAIL_ACCOUNT, err);
			return -1;
		}
		if (r == 1) {
			confirm(d, p, now);
			sent_ok_since = p->sent > sent_ok_since ? p->sent : sent_ok_since;
		} else if (now - p->sent < window) {
			i++;
			continue;
		} else if (unconfirmed(d, p, now) == 0 && !missing++)
			snprintf(first, sizeof first, "%s", p->name);
		verify_state_drop(vs, i);
	}
	if (looked >= LOOKUPS_PER_PASS)
		d->verify_more = 1;
	/* A message sent after the Sent folder fell behind is there now: it caught up. */
	struct account *a = &d->relay[RELAY_PRIMARY].acct;
	if (!missing && a->state == ACCT_SUSPECT && !strcmp(a->category, "not-in-sent") &&
	        sent_ok_since >= a->since && account_clear_suspect(a, now)) {
		account_save(&d->sd, a); /* saved before it is said */
		d->status_dirty = 1;
		log_info("relay %s: messages appear in Sent again; sending resumes at the normal "
		         "rate",
		        d->relay[RELAY_PRIMARY].name);
	}
	if (missing) {
		char reason[600], detail[600];
		snprintf(reason, sizeof reason,
		        "The e-mail provider said it accepted %u reminder%s, but %s not in the "
		        "account's Sent folder: it may be dropping the practice's mail without "
		        "telling anyone.",
		        missing, missing == 1 ? "" : "s", missing == 1 ? "it is" : "they are");
		snprintf(detail, sizeof detail,
		        "%u accepted message%s not in \"%s\" after %d minutes (first: %s)", missing,
		        missing == 1 ? "" : "s", d->sent_folder, d->conf.verify.confirm_minutes,
		        first);
		verify_suspect(d, "not-in-sent", reason,
		        "Sign in to the practice's e-mail account in a web browser and look for a "
		        "warning or a verification step; ask a few patients whether they got their "
		        "reminder; then run: spool resume",
		        detail);
	}
	return 0;
}

/* held_name - collect hold/'s job names */
static int held_name(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	char ***v = arg;
	size_t n = 0;

	(void)sd, (void)f, (void)st;
	while (*v && (*v)[n])
		n++;
	char **nv = realloc(*v, (n + 2) * sizeof *nv);
	if (!nv)
		return 1;
	nv[n] = strdup(name);
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

/* settle_one - one held job whose outcome was unknown; -1 session broke */
static int settle_one(struct daemon *d, struct imap *im, const char *name, time_t now)
{
	struct job_attempt last;
	struct job j;
	char err[512], text[400], side[SPOOLDIR_NAME_MAX + 32], *data = NULL;
	const char *mid, *folder = d->sent_folder;
	int rc = 0;

	if (load_job(d, F_HOLD, name, &j) < 0)
		return 0;
	size_t n = job_attempts(&j);
	mid = job_spool_str(&j, "message_id");
	if (!n || job_get_attempt(&j, n - 1, &last) < 0 || !last.category || !mid ||
	        strcmp(last.category, "unknown-outcome"))
		goto out; /* held by staff, or for another reason: theirs */
	int resent = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		struct job_attempt a;
		if (job_get_attempt(&j, i, &a) == 0 && a.category &&
		        !strcmp(a.category, "not-sent"))
			resent = 1;
	}
	int r = imap_find_message_id(im, mid, err, sizeof err);
	if (r < 0) {
		verify_trouble(d, FAIL_ACCOUNT, err);
		rc = -1;
		goto out;
	}
	if (r == 0 && resent)
		goto out; /* sent again once already: staff decide (its reason says how) */
	enum folder to = F_SENT;
	if (r == 1) {
		snprintf(text, sizeof text, "found in the Sent folder \"%s\": it was sent", folder);
		record(&j, d->conf.verify.imap.host, "sent-folder", text, "confirmed", now);
		job_spool_set_time(&j, "confirmed", now);
		job_spool_set_time(&j, "sent", last.when);
	} else if (now - last.when >= verify_scaled(d->conf.verify.confirm_minutes * 60L)) {
		snprintf(text, sizeof text,
		        "not in the Sent folder \"%s\" %d minutes later: it was not sent, so it is "
		        "sent again",
		        folder, d->conf.verify.confirm_minutes);
		record(&j, d->conf.verify.imap.host, "sent-folder", text, "not-sent", now);
		to = F_NEW;
	} else
		goto out; /* the Sent copy may still be on its way */
	job_spool_set_str(&j, "previous_reason", job_spool_str(&j, "reason"));
	job_spool_set_str(&j, "reason", NULL);
	if (!(data = job_dump(&j)) ||
	        spooldir_move(&d->sd, F_HOLD, to, name, data, strlen(data), 0) < 0) {
		if (errno != ENOENT)
			log_warn("verify: %s: cannot move hold/ -> %s/", name,
			        spooldir_folder_name(to));
		goto out;
	}
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_REASON_SUFFIX);
	spooldir_unlink(&d->sd, F_HOLD, side);
	log_info("job=%s status=%s settled=sent-folder folder=\"%s\" msgid=%s", name,
	        to == F_SENT ? "sent" : "resend", folder, mid);
out:
	free(data);
	job_free(&j);
	return rc;
}

/* verify_settle_held - unknown outcomes in hold/, settled by the Sent folder */
int verify_settle_held(struct daemon *d, struct imap *im, time_t now)
{
	char **names = NULL;
	int rc = 0;

	spooldir_each(&d->sd, F_HOLD, 0, held_name, &names);
	for (size_t i = 0; names && names[i]; i++) {
		if (rc == 0 && settle_one(d, im, names[i], now) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}
