/*
 * deliver - one job from its claim to its next folder.
 *
 * The order of events for a job: claim (rename into active/ under a
 * lock), read and validate (a bad file goes to corrupt/ with its reason),
 * expiry, not_before and idempotency checks, the message, one SMTP
 * transaction, the reply's category, and the move into sent/, deferred/
 * or failed/ (settle.c) with the attempt recorded in the job's history.
 * Moves are batched (spooldir_batch); deliver_flush makes them durable
 * and only then writes their log lines, so a logged state is on disk.
 *
 * While draining, the work overlaps the server's: once a message's final
 * dot is out, the next ready job is claimed and its message made
 * (d->ahead) before the reply is read; once that reply is judged and the
 * relay may still send, the next job's MAIL, RCPT and DATA go out
 * (smtp_send_begin) before the last job is filed.  A job prepared ahead
 * that may not go at once (the account stopped, pacing, a signal, a
 * check due) is put back as the account's stop puts a job back: in
 * deferred/, due now, not charged; its begun commands are dropped with
 * the connection, so no message follows them.  Killed meanwhile, it is
 * in active/, where start-up recovery finds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#include "deliver_int.h"
#include "spoold.h"
#include "timefmt.h"

/* queue_log - keep a delivery line until the moves are durable */
void queue_log(struct daemon *d, const char *fmt, ...)
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
		        "Look at `spool list --failed` (and --hold): each job has a reason and "
		        "what "
		        "to do; phone the patients whose appointments are close.",
		        d->failed_names ? d->failed_names : "", ""};
		alert_raise(&d->conf, &a);
		free(d->failed_names);
		d->failed_names = NULL;
		d->nfailed = 0;
	}
}

/* deliver_job_alert - collect a failed job for one alert per flush */
void deliver_job_alert(struct daemon *d, const char *event, const char *name, const char *reason)
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

/* deliver_consider - read enough of a job to index it */
void deliver_consider(
        struct daemon *d, enum folder f, const char *name, const struct stat *st, time_t now)
{
	char err[512], *buf;
	struct job j = {0};
	time_t due = f == F_DEFERRED ? st->st_mtime : now, expires = 0, seen = 0;
	size_t len;

	if (*name == '.')
		return;
	if (S_ISREG(st->st_mode) && spooldir_name_valid(name) &&
	        spooldir_read(&d->sd, f, name, JOB_FILE_MAX, &buf, &len, NULL, err, sizeof err) ==
	                0) {
		if (job_parse(&j, buf, len, err, sizeof err) == 0) {
			seen = job_spool_time(&j, "first_seen");
			expires = job_expiry(&j, seen ? seen : now, d->conf.recall_days);
		}
		job_free(&j);
		free(buf);
	} else if (S_ISREG(st->st_mode) && spooldir_name_valid(name) && errno == ENOENT) {
		return; /* gone already */
	}
	/* waiting since: as the status page counts it (new/: arrival) */
	if (f == F_NEW || !seen)
		seen = st->st_mtime;
	if (queue_add(&d->q, name, f, due, expires, seen < now ? seen : now, now) < 0)
		log_warnx("%s: out of memory; it waits for the next start", name);
}

/* A claimed job whose message is made: it waits for its transaction. */
struct prepared {
	struct job j;
	char *buf;  /* the job's text, read through the claim */
	int lockfd; /* the claim's flock, held until the job leaves active/ */
	time_t expires, now;
	char *msg; /* the message, as it will be sent */
	int begun; /* its MAIL, RCPT and DATA went out already (smtp_send_begin) */
	size_t len;
	const char *mid;            /* the Message-ID, in j */
	struct spooldir_staged eml; /* NAME.eml.gz, staged while the server takes it */
	char name[SPOOLDIR_NAME_MAX + 1];
};

/* release - the claim's resources; the job has left active/ (or stays for recovery) */
static void release(struct daemon *d, struct prepared *p)
{
	spooldir_stage_drop(&d->sd, &p->eml);
	free(p->msg);
	job_free(&p->j);
	free(p->buf);
	close(p->lockfd);
	free(p);
	if (!d->unflushed++)
		d->unflushed_ms = pace_now_ms();
	d->status_dirty = 1;
}

/* make_message - the Message-ID and the message; NULL (the job failed) when
 * the message cannot be made */
static char *make_message(struct daemon *d, struct prepared *p)
{
	char msgid[MSG_ID_MAX], text[1024], merr[MSG_ERR_MAX];
	const char *name = p->name;
	struct job *j = &p->j;

	p->mid = job_spool_str(j, "message_id");
	if (!p->mid) {
		msg_message_id(name, d->conf.relay.from, msgid, sizeof msgid);
		job_spool_set_str(j, "message_id", msgid);
		p->mid = job_spool_str(j, "message_id");
	}
	p->msg = msg_build(j, &d->conf, name, p->mid, p->now, &p->len, merr, sizeof merr);
	if (!p->msg) {
		char what[MSG_ERR_MAX + 64], act[SPOOLDIR_NAME_MAX + 96];
		snprintf(what, sizeof what, "the message could not be made: %s", merr);
		snprintf(act, sizeof act,
		        "Ask your IT contact to fix the template; then run spool retry %s", name);
		settle_fail(d, j, name, what, act, NULL);
		quote(what, text, sizeof text);
		queue_log(d, "job=%s to=%s status=failed category=message text=\"%s\"", name,
		        j->to_email, text);
		deliver_job_alert(d, "job-failed", name, what);
	}
	return p->msg;
}

/* envid - p's ENVID (RFC 3461) in buf when [verify] reads bounces, else NULL */
static const char *envid(struct daemon *d, struct prepared *p, char *buf, size_t len)
{
	return d->conf.verify.imap.configured ? msg_envid(p->name, buf, len) : NULL;
}

/* start - hand p's message to relay r's server up to the final dot; 0 when
 * its reply is awaited, -1 with rep filled */
static int start(struct daemon *d, struct prepared *p, int r, struct smtp_reply *rep)
{
	struct relay *rl = &d->relay[r];
	char env[3 * SPOOLDIR_NAME_MAX + 16];

	if (smtp_is_open(rl->smtp) && pace_reconnect_due(&rl->pace))
		smtp_close(rl->smtp);
	int was_open = smtp_is_open(rl->smtp);
	/* With [verify], ask for bounces that name the job (RFC 3461). */
	int rc = smtp_send_start(rl->smtp, rl->rc->from, p->j.to_email,
	        envid(d, p, env, sizeof env), p->msg, p->len, rep);
	if (!was_open && smtp_is_open(rl->smtp))
		pace_connection_opened(&rl->pace);
	return rc;
}

/* begin_ahead - the job prepared ahead may go now on relay r (its account
 * and pacing, with the last reply counted, allow it; nothing else is due;
 * no signal waits): its MAIL, RCPT and DATA go out while the last job is
 * filed */
static void begin_ahead(struct daemon *d, int r)
{
	struct prepared *p = d->ahead;
	struct relay *rl = &d->relay[r];
	char env[3 * SPOOLDIR_NAME_MAX + 16];
	int64_t now_ms = pace_now_ms(), wake, verify_at = verify_wake(d);
	sigset_t set;

	if (!p || d->ahead_relay != r || relay_pick(d, now_ms, &wake) != r ||
	        pace_reconnect_due(&rl->pace) || (verify_at && verify_at <= now_ms + 1000) ||
	        verify_canary_due(d) || sigpending(&set) < 0 || sigismember(&set, SIGTERM) ||
	        sigismember(&set, SIGINT) || sigismember(&set, SIGHUP))
		return;
	smtp_send_begin(rl->smtp, rl->rc->from, p->j.to_email, envid(d, p, env, sizeof env));
	p->begun = 1;
}

/* settle - the transaction's outcome on relay r: recorded, then the job filed */
static void settle(struct daemon *d, struct prepared *p, int r, int ok, struct smtp_reply *rep)
{
	struct relay *rl = &d->relay[r];
	struct job *j = &p->j;
	const char *name = p->name, *mid = p->mid;
	struct verdict v;
	char text[1024];
	time_t done = time(NULL);

	if (ok) {
		v = (struct verdict){.cat = CAT_SENT, .rule = "sent"};
	} else
		reply_judge_local(rep, done, &v);
	rl->last_send = done;
	quote(rep->text, text, sizeof text);
	time_t seen = job_spool_time(j, "first_seen");
	int stops = !ok && reply_stops_account(v.cat);
	struct job_attempt a = {done, smtp_relay_name(rl->smtp), smtp_stage_name(rep->stage),
	        rep->code, rep->text, reply_category_name(v.cat)};
	job_add_attempt(j, &a);
	if (stops) {
		/* The account's problem, not the job's: recorded, not charged. */
		json_t *arr = json_object_get(job_spool(j), "attempts");
		json_object_set_new(
		        json_array_get(arr, json_array_size(arr) - 1), "charged", json_false());
	}
	queue_log(d,
	        "job=%s to=%s relay=%s stage=%s code=%d category=%s rule=%s delay=%lds "
	        "attempts=%zu msgid=%s text=\"%s\"",
	        name, j->to_email, smtp_relay_name(rl->smtp), smtp_stage_name(rep->stage),
	        rep->code, reply_category_name(v.cat), v.rule ? v.rule : "-",
	        (long)(done - (seen ? seen : done)), job_attempts(j), mid, text);
	relay_note(d, r, ok, rep, &v, j->to_email);
	deliver_note(d,
	        ok                                   ? STATUS_SENT
	        : (!stops && reply_job_fails(v.cat)) ? STATUS_FAILED
	                                             : STATUS_DEFERRED,
	        reply_category_name(v.cat), r);
	begin_ahead(d, r);
	if (ok) {
		job_spool_set_time(j, "sent", done);
		job_spool_set_time(j, "next_attempt", 0);
		if (r != RELAY_PRIMARY)
			job_spool_set_str(j, "relay", rl->name);
		if (settle_sent(d, j, name, p->msg, p->len, &p->eml) == 0)
			verify_sent(d, r, name, mid);
	} else if (stops) {
		put_back(d, j, name, p->expires); /* no attempt charged; the account waits */
	} else if (v.cat == CAT_UNKNOWN_OUTCOME) {
		settle_hold(d, j, name, rep->text);
	} else if (reply_job_fails(v.cat)) {
		settle_fail(d, j, name, v.explanation ? v.explanation : reply_explain(v.cat),
		        v.action ? v.action : "Phone the patient.", rep->text);
		deliver_job_alert(d, "job-failed", name,
		        v.explanation ? v.explanation : reply_explain(v.cat));
	} else {
		time_t next = job_backoff(done, job_attempts(j), d->conf.retry_max_minutes);
		if (v.retry_at > next)
			next = v.retry_at;
		if (next >= p->expires) {
			char what[1400];
			snprintf(what, sizeof what,
			        "It could not be sent before it expired; the last try said: %s",
			        v.explanation ? v.explanation : reply_explain(v.cat));
			job_spool_set_str(j, "category", "expired");
			settle_fail(d, j, name, what, "Phone the patient.", rep->text);
			deliver_job_alert(d, "job-expired", name, what);
		} else
			settle_defer(d, j, name, next, p->expires);
	}
	release(d, p);
}

/* process - everything between the claim and the transaction: 1 when the
 * job is due and its message made (in p), 0 when it was filed already */
static int process(struct daemon *d, struct prepared *p, int r)
{
	char other[SPOOLDIR_NAME_MAX + 2], what[1024];
	struct job *j = &p->j;
	const char *name = p->name;
	time_t now = p->now, seen = job_spool_time(j, "first_seen"), expires;

	if (!seen) {
		job_spool_set_time(j, "first_seen", now);
		seen = now;
	}
	expires = p->expires = job_expiry(j, seen, d->conf.recall_days);
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
		return 0;
	}
	if (j->not_before > now) {
		settle_defer(d, j, name, j->not_before, expires);
		return 0;
	}
	if (!spooldir_dedupe(&d->sd, j->id, name, d->conf.dedupe_days, other, sizeof other)) {
		char *data;
		job_spool_set_str(j, "duplicate_of", other);
		data = job_dump(j);
		if (data &&
		        spooldir_move(&d->sd, F_ACTIVE, F_SENT, name, data, strlen(data), 0) == 0)
			queue_log(d,
			        "job=%s to=%s status=duplicate id=\"%s\" duplicate_of=%s "
			        "window=%dd",
			        name, j->to_email, j->id, other, d->conf.dedupe_days);
		else /* not moved unchanged: in sent/ without duplicate_of it would look sent */
			log_warn("%s: a duplicate of %s, but it cannot be recorded; it stays in "
			         "active/ until the next start",
			        name, other);
		free(data);
		return 0;
	}
	if (r < 0) {
		put_back(d, j, name, expires); /* no relay may send: it waits, unexpired */
		return 0;
	}
	return make_message(d, p) != NULL;
}

/* claim_failed - a claim refused: a bad file to corrupt/, a locked one looked at again */
static void claim_failed(struct daemon *d, struct qjob *qj, int lockfd, time_t now)
{
	enum folder from = (enum folder)qj->from;
	const char *name = qj->name;

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
			        S_ISLNK(st.st_mode)    ? "a symbolic link"
			        : S_ISFIFO(st.st_mode) ? "a FIFO"
			        : S_ISDIR(st.st_mode)  ? "a directory"
			                               : "a device or socket");
			file_corrupt(d, from, name, why);
		}
	}
	/* Locked: `spool hold` or another spoold is moving it right now.
	 * Look again shortly; if it is gone by then, the entry drops. */
	if (errno == EWOULDBLOCK &&
	        queue_add(&d->q, name, from, now + 2, qj->expires, qj->since, now) < 0)
		log_warnx("%s: out of memory; it waits for the next start", name);
}

/* prepare - claim one ready job, check it and make its message; the job
 * ready for its transaction on relay r, or NULL when it was filed (or
 * another process has it) */
static struct prepared *prepare(struct daemon *d, struct qjob *qj, int r)
{
	char err[512];
	enum folder from = (enum folder)qj->from;
	const char *name = qj->name;
	time_t now = time(NULL);
	struct prepared *p;
	struct stat st;
	size_t len;
	int lockfd;

	if (!spooldir_name_valid(name)) {
		file_corrupt(d, from, name,
		        "the file name is not a valid job name "
		        "(letters, digits and ._:,=+- only)");
		return NULL;
	}
	if (spooldir_claim(&d->sd, from, name, &lockfd, &st) < 0) {
		claim_failed(d, qj, lockfd, now);
		return NULL; /* another process has it, or a person moved it */
	}
	p = calloc(1, sizeof *p);
	if (!p) {
		log_warnx("%s: out of memory; it returns at the next start", name);
		close(lockfd); /* left in active/, unlocked: recovery returns it */
		return NULL;
	}
	p->lockfd = lockfd;
	p->eml.fd = -1;
	p->now = now;
	snprintf(p->name, sizeof p->name, "%s", name);
	/* the claim's descriptor is the inode now in active/: no second open */
	if (spooldir_read_fd(lockfd, &st, JOB_FILE_MAX, &p->buf, &len, err, sizeof err) < 0)
		file_corrupt(d, F_ACTIVE, name, err);
	else if (job_parse(&p->j, p->buf, len, err, sizeof err) < 0)
		file_corrupt(d, F_ACTIVE, name, err);
	else if (process(d, p, r))
		return p;
	release(d, p);
	return NULL;
}

/* deliver_run - take one ready job (qj, or with qj NULL the one prepared
 * ahead) through its transaction to its next folder; with ahead set,
 * prepare the next ready job while the server takes this one's message */
void deliver_run(struct daemon *d, struct qjob *qj, int r, int ahead)
{
	struct prepared *p = qj ? prepare(d, qj, r) : d->ahead;
	struct smtp_reply rep = {0};

	if (!qj)
		d->ahead = NULL;
	if (!p)
		return;
	if (start(d, p, r, &rep) < 0) {
		settle(d, p, r, 0, &rep);
		return;
	}
	/* While the server takes it: the copy for sent/, so that its 250 is
	 * followed by renames alone (a shorter duplicate window) */
	char side[SPOOLDIR_NAME_MAX + 32];
	snprintf(side, sizeof side, "%s%s", p->name, SPOOLDIR_EML_SUFFIX);
	spooldir_stage_gz(&d->sd, F_SENT, side, p->msg, p->len, &p->eml);
	struct qjob *next = ahead && !d->ahead ? queue_pop(&d->q) : NULL;
	if (next) {
		d->ahead = prepare(d, next, r);
		d->ahead_relay = r;
		free(next);
	}
	int ok = smtp_send_finish(d->relay[r].smtp, &rep) == 0;
	settle(d, p, r, ok, &rep);
}

/* deliver_put_back - the job prepared ahead waits again in deferred/,
 * due now and not charged an attempt */
void deliver_put_back(struct daemon *d)
{
	struct prepared *p = d->ahead;

	if (!p)
		return;
	d->ahead = NULL;
	if (p->begun) /* no message follows its MAIL, RCPT and DATA: nothing is sent */
		smtp_close(d->relay[d->ahead_relay].smtp);
	put_back(d, &p->j, p->name, p->expires);
	release(d, p);
}

/* deliver_note - an outcome for the page's chart and the metrics */
void deliver_note(struct daemon *d, enum status_event ev, const char *category, int r)
{
	status_note(&d->sc, ev, category, r >= 0 ? d->relay[r].name : "none", time(NULL));
	d->status_dirty = 1;
}
