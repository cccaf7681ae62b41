/*
 * verify_inbox - what arrives in the sending account's INBOX about our
 * mail, read during a verify pass (verify.c):
 *
 * - a bounce (RFC 3464 report or a common non-standard one, dsn.h) that
 *   names one of our jobs by ENVID or Message-ID, and the job's recipient
 *   when it names one: the job moves from sent/ to failed/ with the
 *   bounce's reason, classified as for an SMTP reply at RCPT;
 * - a delay report: logged;
 * - a provider notice (Zoho "Email Outgoing Blocked", Microsoft "verify
 *   your account", Google's blocked sign-in, SES "sending paused"): the
 *   account is blocked although SMTP still answers 250.  Google's plain
 *   "Security alert" is weak evidence: it is alerted, nothing is stopped.
 *
 * Messages acted on are flagged $SpooldProcessed, never deleted or marked
 * \Seen; everything else (patients' replies) is left exactly as it was.
 * INBOX's UIDVALIDITY and highest UID read are kept in state/verify, so
 * each message is read once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alert.h"
#include "dsn.h"
#include "imap.h"
#include "job.h"
#include "log.h"
#include "msg.h"
#include "reason.h"
#include "spoold.h"

#define INBOX_BATCH 20     /* messages fetched at once (each up to IMAP_FETCH_MAX) */
#define INBOX_PER_PASS 200 /* messages read in one pass; the rest in the next */

/* bounce_job - the job a bounce names, into name; NULL when none of ours */
static const char *bounce_job(const struct dsn *b, char *name, size_t len)
{
	char by_env[SPOOLDIR_NAME_MAX + 1], by_id[SPOOLDIR_NAME_MAX + 1];
	const char *e = msg_envid_name(b->envid, by_env, sizeof by_env);
	const char *m = msg_message_id_name(b->message_id, by_id, sizeof by_id);

	if (e && m && strcmp(e, m)) {
		log_warnx(
		        "verify: a bounce names two jobs (ENVID %s, Message-ID %s); ignored", e, m);
		return NULL;
	}
	if (!e && !m)
		return NULL;
	snprintf(name, len, "%s", e ? e : m);
	return name;
}

/* fail_job - the bounced job: sent/ -> failed/ with the bounce's reason;
 * 0 done, 1 the job left sent/ meanwhile, -1 not filed (read it again) */
static int fail_job(struct daemon *d, struct job *j, const char *name, const struct dsn *b,
        const struct verdict *v, time_t now)
{
	char what[1200], text[1400], *data, *reason;
	const char *expl = v->explanation ? v->explanation : reply_explain(v->cat);
	struct job_attempt a = {now, "INBOX", "bounce", v->cat == CAT_TRANSIENT ? 450 : 550, text,
	        reply_category_name(v->cat)};

	snprintf(text, sizeof text, "%s%s%s", b->status, *b->status ? " " : "", b->diagnostic);
	snprintf(what, sizeof what,
	        "%s (The provider accepted the e-mail, then the patient's mail server sent it "
	        "back.)",
	        expl);
	job_add_attempt(j, &a);
	job_spool_set_str(j, "reason", what);
	job_spool_set_str(j, "category", reply_category_name(v->cat));
	job_spool_set_time(j, "bounced", now);
	if (!(data = job_dump(j))) {
		log_warnx("verify: %s: out of memory filing its bounce", name);
		return -1;
	}
	if (spooldir_move(&d->sd, F_SENT, F_FAILED, name, data, strlen(data), 0) < 0) {
		int gone = errno == ENOENT;
		if (!gone)
			log_warn("verify: %s: cannot move sent/ -> failed/", name);
		free(data);
		return gone ? 1 : -1;
	}
	free(data);
	/* The message as sent goes with it (and is removed with it). */
	char side[SPOOLDIR_NAME_MAX + 32];
	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_EML_SUFFIX);
	if (spooldir_rename(&d->sd, F_SENT, F_FAILED, side) < 0 && errno != ENOENT)
		log_warn("verify: sent/%s: cannot move to failed/", side);
	reason = reason_failed(j, name, what, v->action ? v->action : "Phone the patient.", text);
	if (reason)
		deliver_write_reason(d, F_FAILED, name, reason);
	free(reason);
	spooldir_dedupe_release(&d->sd, j->id, name);
	verify_state_forget(&d->vs, name);
	log_info("job=%s to=%s status=failed stage=bounce status_code=%s category=%s text=\"%s\"",
	        name, j->to_email, b->status, reply_category_name(v->cat), b->diagnostic);
	deliver_note(d, STATUS_FAILED, reply_category_name(v->cat), -1);
	deliver_job_alert(d, "job-failed", name, what);
	return 0;
}

/* on_bounce - a bounce or delay report; 1 when it was ours and acted on,
 * 0 when there is nothing to do, -1 when it must be read again later */
static int on_bounce(struct daemon *d, const struct dsn *b, uint32_t uid, time_t now)
{
	char name[SPOOLDIR_NAME_MAX + 1];
	struct verdict v;
	struct job j = {0};
	int f, done = 0;

	if (!bounce_job(b, name, sizeof name))
		return 0; /* the practice's own mail, or someone else's */
	if ((f = spooldir_locate(&d->sd, name)) != F_SENT) {
		log_info("verify: a %s report (uid %u) for job %s, which is %s%s; nothing to do",
		        b->kind == DSN_DELAY ? "delay" : "bounce", uid, name,
		        f < 0 ? "gone" : "in ", f < 0 ? "" : spooldir_folder_name((enum folder)f));
		return f >= 0 && f != F_NEW && f != F_DEFERRED && f != F_ACTIVE;
	}
	char err[512], *buf;
	size_t len;
	if (spooldir_read(&d->sd, F_SENT, name, JOB_FILE_MAX, &buf, &len, NULL, err, sizeof err) <
	        0) {
		if (errno == ENOENT)
			return 0; /* moved meanwhile */
		log_warnx("verify: sent/%s: %s", name, err);
		return -1;
	}
	int parsed = job_parse(&j, buf, len, err, sizeof err) == 0;
	free(buf);
	if (!parsed) {
		log_warnx("verify: sent/%s: %s", name, err);
		job_free(&j);
		return 0;
	}
	if (*b->recipient && strcasecmp(b->recipient, j.to_email)) {
		log_warnx(
		        "verify: a bounce (uid %u) names job %s but recipient %s, not %s; ignored",
		        uid, name, b->recipient, j.to_email);
	} else if (b->kind == DSN_DELAY) {
		log_info("job=%s to=%s status=delayed-report status_code=%s text=\"%s\"", name,
		        j.to_email, b->status, b->diagnostic);
		done = 1;
	} else if (dsn_judge(b, now, &v) == 0) {
		done = fail_job(d, &j, name, b, &v, now);
		done = done < 0 ? -1 : done == 0;
	}
	job_free(&j);
	return done;
}

/* on_notice - a provider notice; 1 when acted on */
static int on_notice(struct daemon *d, const struct dsn *b, uint32_t uid)
{
	struct relay *rl = &d->relay[RELAY_PRIMARY];

	log_warnx("verify: provider notice %s (uid %u): %s", b->notice, uid, b->reason);
	if (!strcmp(b->notice, "google-security-alert")) {
		/* Google sends these for many harmless sign-ins: tell staff, stop nothing. */
		struct alert a = {"provider-notice", b->notice, b->reason, b->action, "", ""};
		alert_raise(&d->conf, &a);
		return 1;
	}
	if (account_block(&rl->acct, "account-blocked", b->reason, b->action, b->notice, b->notice,
	            time(NULL))) {
		smtp_close(rl->smtp);
		if (account_save(&d->sd, &rl->acct) < 0)
			log_warn("state/account-%s: cannot save", rl->name);
		d->status_dirty = 1;
		relay_raise(d, RELAY_PRIMARY, NULL);
	}
	return 1;
}

/* verify_inbox - read what is new in INBOX, a few messages at a time */
void verify_inbox(struct daemon *d, struct imap *im, time_t now)
{
	struct verify_state *vs = &d->vs;
	uint32_t validity = imap_uidvalidity(im);
	size_t total = 0, n = INBOX_BATCH;
	char err[512];

	if (validity != vs->inbox_validity) {
		vs->inbox_validity = validity; /* UIDs from before mean nothing now */
		vs->inbox_uid = 0;
	}
	while (n == INBOX_BATCH && total < INBOX_PER_PASS) {
		struct imap_msg *m = NULL;
		if (imap_fetch_unprocessed(
		            im, vs->inbox_uid, INBOX_BATCH, &m, &n, err, sizeof err) < 0) {
			log_warnx("verify: %s", err);
			return;
		}
		for (size_t i = 0; i < n; i++) {
			struct dsn b;
			int acted = 0;
			if (dsn_parse(m[i].data, m[i].len, &b) == 0) {
				if (b.kind == DSN_BOUNCE || b.kind == DSN_DELAY)
					acted = on_bounce(d, &b, m[i].uid, now);
				else if (b.kind == DSN_NOTICE)
					acted = on_notice(d, &b, m[i].uid);
			}
			if (acted < 0) {
				/* Not filed (disk, memory): read it again at the next check. */
				log_warnx(
				        "verify: INBOX uid %u: a bounce could not be filed; it is "
				        "read again at the next check",
				        m[i].uid);
				imap_msgs_free(m, n);
				return;
			}
			if (acted && imap_mark(im, m[i].uid, err, sizeof err) < 0)
				log_warnx("verify: %s", err);
			if (m[i].uid > vs->inbox_uid)
				vs->inbox_uid = m[i].uid;
		}
		imap_msgs_free(m, n);
		total += n;
	}
	if (n == INBOX_BATCH)
		d->verify_more = 1; /* more than a pass reads: the next pass comes at once */
}
