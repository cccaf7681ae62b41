/*
 * deliver - one job from its claim to its next folder.
 *
 * The order of events for a job: claim (rename into active/ under a
 * lock), read and validate (a bad file goes to corrupt/ with its reason),
 * expiry, not_before and idempotency checks, the message, one SMTP
 * transaction, the reply's category, and the move into sent/, deferred/
 * or failed/ with the attempt recorded in the job's history.  Moves are
 * batched (spooldir_batch); deliver_flush makes them durable and only
 * then writes their log lines, so a logged state is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "expiry.h"
#include "job.h"
#include "log.h"
#include "msg.h"
#include "reason.h"
#include "reply.h"
#include "spoold.h"
#include "timefmt.h"

/* queue_log - keep a delivery line until the moves are durable */
static void queue_log(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void queue_log(struct daemon *d, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (!line)
		return;
	if (d->nlogs == d->clogs) {
		size_t n = d->clogs ? d->clogs * 2 : 64;
		char **v = realloc(d->logs, n * sizeof *v);
		if (!v) {
			log_info("%s", line);
			free(line);
			return;
		}
		d->logs = v;
		d->clogs = n;
	}
	d->logs[d->nlogs++] = line;
}

/* deliver_flush - durable first, then the log lines */
void deliver_flush(struct daemon *d)
{
	relay_flush(d);
	if (spooldir_flush(&d->sd) < 0)
		log_warn("spool %s: sync failed", d->sd.path);
	for (size_t i = 0; i < d->nlogs; i++) {
		log_info("%s", d->logs[i]);
		free(d->logs[i]);
	}
	d->nlogs = 0;
	d->unflushed = 0;
	if (d->nfailed) {
		char reason[700];
		if (d->nfailed > 1)
			snprintf(reason, sizeof reason, "%u jobs could not be sent; the first: %s",
				d->nfailed, d->failed_reason);
		else
			snprintf(reason, sizeof reason, "%s", d->failed_reason);
		struct alert a = {d->failed_event, d->failed_event + 4, reason,
			"Look at `spool list --failed` (and --hold): each job has a reason and what "
			"to do; phone the patients whose appointments are close.",
			d->failed_names ? d->failed_names : "", ""};
		alert_raise(&d->conf, &a);
		free(d->failed_names);
		d->failed_names = NULL;
		d->nfailed = 0;
	}
}

/* deliver_job_alert - collect a failed job for one alert per flush */
void deliver_job_alert(struct daemon *d, const char *event, const char *name,
	const char *reason)
{
	size_t have = d->failed_names ? strlen(d->failed_names) : 0;

	if (!d->nfailed++) {
		snprintf(d->failed_reason, sizeof d->failed_reason, "%s", reason);
		snprintf(d->failed_event, sizeof d->failed_event, "%s", event);
	}
	if (d->nfailed > 20)
		return; /* the alert names the first twenty */
	char *n = realloc(d->failed_names, have + strlen(name) + 2);
	if (!n)
		return;
	d->failed_names = n;
	snprintf(n + have, strlen(name) + 2, "%s%s", have ? " " : "", name);
}

/* quote - a reply text made safe for one key="value" log field */
static void quote(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 3 < len; in++) {
		if (*in == '\n') {
			out[o++] = ' ';
			out[o++] = '/';
			out[o++] = ' ';
		} else
			out[o++] = *in == '"' ? '\'' : *in;
	}
	out[o] = '\0';
}

/* write_reason - NAME.reason.txt beside the job */
static void write_reason(struct daemon *d, enum folder f, const char *name, const char *text)
{
	char side[SPOOLDIR_NAME_MAX + 32];

	if (!text)
		return;
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_REASON_SUFFIX);
	if (spooldir_write(&d->sd, f, side, text, strlen(text), 0) < 0)
		log_warn("%s/%s: cannot write the reason", spooldir_folder_name(f), side);
}

/* file_corrupt - a file that is not a valid job goes to corrupt/ (under a
 * fresh name when its own is not a job name or is taken there) */
static void file_corrupt_as(struct daemon *d, enum folder from, const char *name, const char *why,
	int rename_it)
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
			log_warn("%s/%s: cannot move to corrupt/", spooldir_folder_name(from), name);
		return;
	}
	char *text = reason_corrupt(to, name, why);
	write_reason(d, F_CORRUPT, to, text);
	free(text);
	if (to != name)
		queue_log(d, "job=%s status=corrupt arrived_as=\"%s\" reason=\"%s\"", to, name,
			why);
	else
		queue_log(d, "job=%s status=corrupt reason=\"%s\"", to, why);
	deliver_note(d, STATUS_FAILED, "corrupt", -1);
}

/* file_corrupt - to corrupt/ under its own name when it can */
static void file_corrupt(struct daemon *d, enum folder from, const char *name, const char *why)
{
	file_corrupt_as(d, from, name, why, 0);
}

/* deliver_consider - read enough of a job to index it */
void deliver_consider(struct daemon *d, enum folder f, const char *name, const struct stat *st,
	time_t now)
{
	char err[512], *buf;
	struct job j = {0};
	time_t due = f == F_DEFERRED ? st->st_mtime : now, expires = 0;
	size_t len;

	if (*name == '.')
		return;
	if (S_ISREG(st->st_mode) && spooldir_name_valid(name) &&
		spooldir_read(&d->sd, f, name, JOB_FILE_MAX, &buf, &len, NULL, err, sizeof err) == 0) {
		if (job_parse(&j, buf, len, err, sizeof err) == 0) {
			time_t seen = job_spool_time(&j, "first_seen");
			expires = job_expiry(&j, seen ? seen : now, d->conf.recall_days);
		}
		job_free(&j);
		free(buf);
	} else if (S_ISREG(st->st_mode) && spooldir_name_valid(name) && errno == ENOENT) {
		return; /* gone already */
	}
	if (queue_add(&d->q, name, f, due, expires, now) < 0)
		log_warnx("%s: out of memory; it waits for the next start", name);
}

/* settle_fail - the job fails: failed/ with its reason for staff */
static void settle_fail(struct daemon *d, struct job *j, const char *name, const char *what,
	const char *action, const char *reply)
{
	char *data, *text;

	job_spool_set_str(j, "reason", what);
	job_spool_set_time(j, "next_attempt", 0);
	data = job_dump(j);
	if (!data || spooldir_move(&d->sd, F_ACTIVE, F_FAILED, name, data, strlen(data), 0) < 0) {
		log_warn("%s: cannot move to failed/", name);
		free(data);
		return;
	}
	free(data);
	text = reason_failed(j, name, what, action, reply);
	write_reason(d, F_FAILED, name, text);
	free(text);
	spooldir_dedupe_release(&d->sd, j->id, name);
}

/* settle_defer - the job waits in deferred/ until due */
static void settle_defer(struct daemon *d, struct job *j, const char *name, time_t due,
	time_t expires)
{
	char *data;

	job_spool_set_time(j, "next_attempt", due);
	data = job_dump(j);
	if (!data || spooldir_move(&d->sd, F_ACTIVE, F_DEFERRED, name, data, strlen(data), due) < 0) {
		log_warn("%s: cannot record the next attempt; leaving it as it was", name);
		/* No space to rewrite: move it unchanged so it is not stranded. */
		if (spooldir_rename(&d->sd, F_ACTIVE, F_DEFERRED, name) < 0)
			log_warn("%s: cannot move to deferred/; it returns at the next start", name);
	}
	free(data);
	if (queue_add(&d->q, name, F_DEFERRED, due, expires, time(NULL)) < 0)
		log_warnx("%s: out of memory; it waits for the next start", name);
}

/* settle_sent - the server accepted it: sent/ with the message as sent */
static int settle_sent(struct daemon *d, struct job *j, const char *name, const char *msg,
	size_t len)
{
	char side[SPOOLDIR_NAME_MAX + 32], *data;

	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_EML_SUFFIX);
	if (spooldir_write_gz(&d->sd, F_SENT, side, msg, len) < 0)
		log_warn("sent/%s: cannot keep the message as sent", side);
	data = job_dump(j);
	if (!data || spooldir_move(&d->sd, F_ACTIVE, F_SENT, name, data, strlen(data), 0) < 0) {
		log_warn("%s: sent, but cannot move to sent/", name);
		if (spooldir_rename(&d->sd, F_ACTIVE, F_SENT, name) < 0)
			log_warn("%s: cannot move to sent/ at all", name);
		free(data);
		return -1;
	}
	free(data);
	return 0;
}

/* settle_hold - the outcome is unknown: hold/ with the reason, never resent blindly */
static void settle_hold(struct daemon *d, struct job *j, const char *name, const char *reply)
{
	const char *what = "The connection broke just as the e-mail was handed over, so it may "
	                   "or may not have been delivered.  It is on hold so that the patient "
	                   "does not get it twice.";
	char action[SPOOLDIR_NAME_MAX + 160], *data, *text;

	snprintf(action, sizeof action,
	        "If the patient did not get it, send it again with: spool release %s  "
	        "(or remove it with: spool delete %s)",
	        name, name);
	job_spool_set_str(j, "reason", what);
	job_spool_set_time(j, "next_attempt", 0);
	data = job_dump(j);
	if (!data || spooldir_move(&d->sd, F_ACTIVE, F_HOLD, name, data, strlen(data), 0) < 0) {
		log_warn("%s: cannot move to hold/", name);
		free(data);
		return;
	}
	free(data);
	text = reason_failed(j, name, what, action, reply);
	write_reason(d, F_HOLD, name, text);
	free(text);
	deliver_job_alert(d, "job-held", name, what);
}

/* put_back - the account stopped: the job waits again, not charged an attempt */
static void put_back(struct daemon *d, struct job *j, const char *name, time_t expires)
{
	settle_defer(d, j, name, time(NULL), expires);
}

/* attempt - one SMTP transaction for a parsed, due job on relay r */
static void attempt(struct daemon *d, struct job *j, const char *name, time_t expires,
	time_t now, int r)
{
	struct relay *rl = &d->relay[r];
	struct smtp_reply rep = {0};
	struct verdict v;
	char msgid[MSG_ID_MAX], text[1024], merr[MSG_ERR_MAX];
	const char *mid = job_spool_str(j, "message_id");
	size_t len;
	char *msg;

	if (!mid) {
		msg_message_id(name, d->conf.relay.from, msgid, sizeof msgid);
		job_spool_set_str(j, "message_id", msgid);
		mid = job_spool_str(j, "message_id");
	}
	msg = msg_build(j, &d->conf, name, mid, now, &len, merr, sizeof merr);
	if (!msg) {
		char what[MSG_ERR_MAX + 64], act[SPOOLDIR_NAME_MAX + 96];
		snprintf(what, sizeof what, "the message could not be made: %s", merr);
		snprintf(act, sizeof act,
			"Ask your IT contact to fix the template; then run spool retry %s", name);
		settle_fail(d, j, name, what, act, NULL);
		quote(what, text, sizeof text);
		queue_log(d, "job=%s to=%s status=failed category=message text=\"%s\"", name,
			j->to_email, text);
		deliver_job_alert(d, "job-failed", name, what);
		return;
	}
	if (smtp_is_open(rl->smtp) && pace_reconnect_due(&rl->pace))
		smtp_close(rl->smtp);
	int was_open = smtp_is_open(rl->smtp);
	char envid[3 * SPOOLDIR_NAME_MAX + 16];
	/* With [verify], ask for bounces that name the job (RFC 3461). */
	int ok = smtp_send_dsn(rl->smtp, rl->rc->from, j->to_email,
			 d->conf.verify.imap.configured ? msg_envid(name, envid, sizeof envid) : NULL,
			 msg, len, &rep) == 0;
	time_t done = time(NULL);
	if (!was_open && smtp_is_open(rl->smtp))
		pace_connection_opened(&rl->pace);
	if (ok) {
		v = (struct verdict){.cat = CAT_SENT, .rule = "sent"};
	} else
		reply_judge_local(&rep, done, &v);
	rl->last_send = done;
	quote(rep.text, text, sizeof text);
	time_t seen = job_spool_time(j, "first_seen");
	int stops = !ok && reply_stops_account(v.cat);
	struct job_attempt a = {done, smtp_relay_name(rl->smtp), smtp_stage_name(rep.stage),
		rep.code, rep.text, reply_category_name(v.cat)};
	job_add_attempt(j, &a);
	if (stops) {
		/* The account's problem, not the job's: recorded, not charged. */
		json_t *arr = json_object_get(job_spool(j), "attempts");
		json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "charged",
			json_false());
	}
	queue_log(d, "job=%s to=%s relay=%s stage=%s code=%d category=%s rule=%s delay=%lds "
		     "attempts=%zu msgid=%s text=\"%s\"",
		name, j->to_email, smtp_relay_name(rl->smtp), smtp_stage_name(rep.stage), rep.code,
		reply_category_name(v.cat), v.rule ? v.rule : "-",
		(long)(done - (seen ? seen : done)), job_attempts(j), mid, text);
	relay_note(d, r, ok, &rep, &v, j->to_email);
	deliver_note(d,
		ok ? STATUS_SENT
		: (!stops && reply_job_fails(v.cat)) ? STATUS_FAILED
						     : STATUS_DEFERRED,
		reply_category_name(v.cat), r);
	if (ok) {
		job_spool_set_time(j, "sent", done);
		job_spool_set_time(j, "next_attempt", 0);
		if (r != RELAY_PRIMARY)
			job_spool_set_str(j, "relay", rl->name);
		if (settle_sent(d, j, name, msg, len) == 0)
			verify_sent(d, r, name, mid);
	} else if (stops) {
		put_back(d, j, name, expires); /* no attempt charged; the account waits */
	} else if (v.cat == CAT_UNKNOWN_OUTCOME) {
		settle_hold(d, j, name, rep.text);
	} else if (reply_job_fails(v.cat)) {
		settle_fail(d, j, name, v.explanation ? v.explanation : reply_explain(v.cat),
			v.action ? v.action : "Phone the patient.", rep.text);
		deliver_job_alert(d, "job-failed", name,
			v.explanation ? v.explanation : reply_explain(v.cat));
	} else {
		time_t next = job_backoff(done, job_attempts(j), d->conf.retry_max_minutes);
		if (v.retry_at > next)
			next = v.retry_at;
		if (next >= expires) {
			char what[1400];
			snprintf(what, sizeof what,
				"It could not be sent before it expired; the last try said: %s",
				v.explanation ? v.explanation : reply_explain(v.cat));
			job_spool_set_str(j, "category", "expired");
			settle_fail(d, j, name, what, "Phone the patient.", rep.text);
			deliver_job_alert(d, "job-expired", name, what);
		} else
			settle_defer(d, j, name, next, expires);
	}
	free(msg);
}

/* process - everything between the claim and the attempt */
static void process(struct daemon *d, struct job *j, const char *name, time_t now, int r)
{
	char other[SPOOLDIR_NAME_MAX + 2], what[1024];
	time_t seen = job_spool_time(j, "first_seen"), expires;

	if (!seen) {
		job_spool_set_time(j, "first_seen", now);
		seen = now;
	}
	expires = job_expiry(j, seen, d->conf.recall_days);
	if (!job_spool_time(j, "expires"))
		job_spool_set_time(j, "expires", expires);
	if (now >= expires) {
		char when[TIMEFMT_MAX];
		const char *blocked = relay_blocked_reason(d);
		snprintf(what, sizeof what, "It expired (%s) before it could be sent%s%s",
			rfc3339_format(expires, when, sizeof when),
			blocked ? ", because sending was stopped: " : ".", blocked ? blocked : "");
		job_spool_set_str(j, "category", "expired");
		settle_fail(d, j, name, what, "Phone the patient.", NULL);
		deliver_note(d, STATUS_FAILED, "expired", -1);
		queue_log(d, "job=%s to=%s status=failed category=expired", name, j->to_email);
		deliver_job_alert(d, "job-expired", name, what);
		return;
	}
	if (j->not_before > now) {
		settle_defer(d, j, name, j->not_before, expires);
		return;
	}
	if (!spooldir_dedupe(&d->sd, j->id, name, d->conf.dedupe_days, other, sizeof other)) {
		char *data;
		job_spool_set_str(j, "duplicate_of", other);
		data = job_dump(j);
		if (data && spooldir_move(&d->sd, F_ACTIVE, F_SENT, name, data, strlen(data), 0) == 0)
			queue_log(d, "job=%s to=%s status=duplicate id=\"%s\" duplicate_of=%s "
				     "window=%dd",
				name, j->to_email, j->id, other, d->conf.dedupe_days);
		free(data);
		return;
	}
	if (r < 0) {
		put_back(d, j, name, expires); /* no relay may send: it waits, unexpired */
		return;
	}
	attempt(d, j, name, expires, now, r);
}

/* deliver_write_reason - a reason file beside a job, for staff */
void deliver_write_reason(struct daemon *d, enum folder f, const char *name, const char *text)
{
	write_reason(d, f, name, text);
}

/* deliver_run - claim one ready job and take it to its next folder */
void deliver_run(struct daemon *d, struct qjob *qj, int r)
{
	char err[512], *buf;
	struct job j = {0};
	enum folder from = (enum folder)qj->from;
	const char *name = qj->name;
	time_t now = time(NULL);
	int lockfd;
	size_t len;

	if (!spooldir_name_valid(name)) {
		file_corrupt(d, from, name, "the file name is not a valid job name "
					    "(letters, digits and ._:,=+- only)");
		return;
	}
	if (spooldir_claim(&d->sd, from, name, &lockfd) < 0) {
		if (errno == EEXIST && lockfd >= 0) {
			char why[256];
			int other = spooldir_locate_other(&d->sd, F_ACTIVE, name);
			snprintf(why, sizeof why,
				"a job named %s already exists in %s/; every job needs a new, "
				"unique file name (the Maildir rule)",
				name, other >= 0 ? spooldir_folder_name((enum folder)other) : "?");
			file_corrupt_as(d, F_ACTIVE, name, why, 1);
			close(lockfd);
			return;
		}
		if (errno == EINVAL) {
			char why[256];
			struct stat st;
			if (fstatat(d->sd.fd[from], name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				!S_ISREG(st.st_mode)) {
				snprintf(why, sizeof why, "not a regular file (%s); it was not opened",
					S_ISLNK(st.st_mode) ? "a symbolic link"
					: S_ISFIFO(st.st_mode) ? "a FIFO"
					: S_ISDIR(st.st_mode) ? "a directory" : "a device or socket");
				file_corrupt(d, from, name, why);
			}
		}
		/* Locked: `spool hold` or another spoold is moving it right now.
		 * Look again shortly; if it is gone by then, the entry drops. */
		if (errno == EWOULDBLOCK &&
			queue_add(&d->q, name, from, now + 2, qj->expires, now) < 0)
			log_warnx("%s: out of memory; it waits for the next start", name);
		return; /* another process has it, or a person moved it */
	}
	/* the claim's descriptor is the inode now in active/: no second open */
	if (spooldir_read_fd(lockfd, JOB_FILE_MAX, &buf, &len, err, sizeof err) < 0) {
		file_corrupt(d, F_ACTIVE, name, err);
	} else {
		if (job_parse(&j, buf, len, err, sizeof err) < 0)
			file_corrupt(d, F_ACTIVE, name, err);
		else
			process(d, &j, name, now, r);
		job_free(&j);
		free(buf);
	}
	close(lockfd);
	d->unflushed++;
	d->status_dirty = 1;
}

/* deliver_note - an outcome for the page's chart and the metrics */
void deliver_note(struct daemon *d, enum status_event ev, const char *category, int r)
{
	status_note(&d->sc, ev, category, r >= 0 ? d->relay[r].name : "none", time(NULL));
	d->status_dirty = 1;
}
