/*
 * verify - what happened after the provider said 250 ([verify]).
 *
 * A 250 is not delivery: providers accept and then drop a blocked
 * account's mail without telling anyone (notes/providers.md, "Accepted,
 * then dropped").  A pass, run on a schedule (check_minutes) and once
 * sending has been quiet for burst_seconds, reads the account over IMAP:
 *
 * - Sent (providers that file SMTP submissions there: confirm_sent): each
 *   sent job's Message-ID must appear within confirm_minutes.  Found: the
 *   job's history records "confirmed".  Missing: the history records
 *   "not-confirmed" and the account becomes suspect (one alert); a message
 *   sent after that and found in Sent ends the suspicion.
 * - hold/: a job held because the connection broke after the final dot
 *   (unknown outcome) is settled by the same lookup: found means it was
 *   sent (hold/ -> sent/), absent after confirm_minutes means it was not
 *   (hold/ -> new/, sent again).  Only once: a job held again after that
 *   stays for staff, so a provider that never files cannot make spoold
 *   send a patient the same reminder over and over.
 * - INBOX: bounces and provider notices (verify_inbox.c).
 * - The canary: every canary_every messages, or canary_minutes while
 *   sending, a message to canary_to, a mailbox on another provider read
 *   through [canary]; not there after canary_wait minutes: the account
 *   becomes suspect ("the provider accepts mail but does not deliver it"),
 *   alerted once; sending slows to a trickle or stops (on_suspect).  A
 *   canary that arrives later ends the suspicion.
 *
 * This file: the schedule, the pass, the canary and suspicion;
 * verify_sent.c the Sent folder and hold/; verify_inbox.c INBOX.
 *
 * Passes run in the daemon's loop, between messages; every IMAP step has
 * the configured timeout, so a stalled server delays sending by at most
 * that.  Durations are divided by SPOOLD_TEST_TIME_SCALE (pace.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "alert.h"
#include "imap.h"
#include "job.h"
#include "log.h"
#include "msg.h"
#include "pace.h"
#include "pid.h"
#include "reason.h"
#include "spoold.h"
#include "timefmt.h"
#include "verify_int.h"

/* verify_scaled - seconds of configuration, divided by the test time scale */
time_t verify_scaled(long seconds)
{
	long s = seconds / (long)pace_scale();
	return s > 0 ? s : 1;
}

/* on - is [verify] configured? */
static int on(const struct daemon *d)
{
	return d->conf.verify.imap.configured;
}

/* verify_setup - load state/verify */
void verify_setup(struct daemon *d)
{
	if (!on(d))
		return;
	if (verify_state_load(&d->sd, &d->vs) < 0)
		log_warnx("state/verify: unreadable; the delivery checks start afresh");
	log_info("verify: %s:%d user=%s sent_folder=%s%s%s confirm_sent=%s canary_to=%s",
	        d->conf.verify.imap.host, d->conf.verify.imap.port, d->conf.verify.imap.user,
	        d->conf.verify.sent_folder_auto ? "\\Sent, else \"" : "\"",
	        d->conf.verify.sent_folder, "\"", d->conf.verify.confirm_sent ? "yes" : "no",
	        d->conf.verify.canary_to ? d->conf.verify.canary_to : "-");
}

/* save - state/verify now */
static void save(struct daemon *d)
{
	if (verify_state_save(&d->sd, &d->vs) < 0)
		log_warn("state/verify: cannot save");
}

/* verify_teardown - save and release */
void verify_teardown(struct daemon *d)
{
	if (on(d))
		save(d);
	verify_state_free(&d->vs);
}

/* verify_sent - a message the relay accepted */
void verify_sent(struct daemon *d, int r, const char *name, const char *msgid)
{
	time_t now = time(NULL);

	if (!on(d) || r != RELAY_PRIMARY)
		return;
	d->vs.last_send = now;
	d->vs.since_canary++;
	if (d->conf.verify.confirm_sent && verify_state_add(&d->vs, name, msgid, now) < 0)
		log_warnx("%s: out of memory; it will not be looked for in Sent", name);
}

/* verify_wake - the next time a pass is due */
int64_t verify_wake(struct daemon *d)
{
	const struct verify_conf *vc = &d->conf.verify;
	struct verify_state *vs = &d->vs;
	time_t due[4] = {0}, t;

	if (!on(d))
		return 0;
	if (d->verify_more)
		return 1;
	t = vs->last_check + verify_scaled(vc->check_minutes * 60L);
	if (d->verify_failing)
		return (int64_t)t * 1000;    /* what is overdue waits for the next scheduled try */
	if (vs->last_send >= vs->last_check) /* sent since (or during) the last check */
		due[0] = vs->last_send + verify_scaled(vc->burst_seconds);
	if (*vs->canary_id)
		due[1] = vs->canary_sent + verify_scaled(vc->canary_wait * 60L);
	if (vs->npending)
		due[2] = vs->pending[0].sent + verify_scaled(vc->confirm_minutes * 60L);
	for (size_t i = 0; i < sizeof due / sizeof due[0]; i++)
		if (due[i] && due[i] < t)
			t = due[i];
	return (int64_t)t * 1000;
}

/* canary_due - is a canary due now (by count, or by time while sending)? */
static int canary_due(struct daemon *d, time_t now)
{
	const struct verify_conf *vc = &d->conf.verify;
	struct verify_state *vs = &d->vs;

	if (!vc->canary_to || *vs->canary_id || !vs->since_canary)
		return 0;
	return vs->since_canary >= (unsigned)vc->canary_every ||
	       now >= vs->last_canary + verify_scaled(vc->canary_minutes * 60L);
}

/* verify_canary_due - a canary would go now */
int verify_canary_due(struct daemon *d)
{
	return on(d) && canary_due(d, time(NULL));
}

/* verify_canary - send the canary through the primary account */
int verify_canary(struct daemon *d, int r)
{
	const struct verify_conf *vc = &d->conf.verify;
	struct relay *rl = &d->relay[r];
	struct smtp_reply rep = {0};
	struct verdict v;
	time_t now = time(NULL);
	char msgid[MSG_ID_MAX], body[600];
	const char *dom;
	size_t len;

	if (!on(d) || r != RELAY_PRIMARY || !canary_due(d, now))
		return 0;
	dom = rl->rc->from ? strrchr(rl->rc->from, '@') : NULL;
	snprintf(msgid, sizeof msgid, "<spoold-canary.%lld.%ld.%u@%s>", (long long)now,
	        (long)pid_self(), d->vs.since_canary, dom ? dom + 1 : "localhost");
	snprintf(body, sizeof body,
	        "spoold sends this message now and then to %s, a mailbox the practice\n"
	        "controls, to check that the mail account's provider really delivers what\n"
	        "it accepts.  It may be deleted; please do not reply.\n",
	        vc->canary_to);
	char *msg = msg_plain(rl->rc, vc->canary_to, "spoold delivery check", body,
	        "X-Spool-Canary: yes", msgid, now, &len);
	if (!msg)
		return 0;
	int ok = smtp_send(rl->smtp, rl->rc->from, vc->canary_to, msg, len, &rep) == 0;
	free(msg);
	rl->last_send = time(NULL);
	if (ok)
		v = (struct verdict){.cat = CAT_SENT, .rule = "sent"};
	else
		reply_judge_local(&rep, rl->last_send, &v);
	log_info("canary relay=%s to=%s stage=%s code=%d category=%s msgid=%s", rl->name,
	        vc->canary_to, smtp_stage_name(rep.stage), rep.code, reply_category_name(v.cat),
	        msgid);
	d->vs.last_canary = now;
	if (ok) {
		snprintf(d->vs.canary_id, sizeof d->vs.canary_id, "%s", msgid);
		d->vs.canary_sent = now;
		d->vs.since_canary = 0;
		save(d);
	}
	relay_note(d, r, ok, &rep, &v, vc->canary_to);
	return 1;
}

/* verify_suspect - the primary account is suspect; alert once */
void verify_suspect(struct daemon *d, const char *category, const char *reason, const char *action,
        const char *detail)
{
	struct relay *rl = &d->relay[RELAY_PRIMARY];

	log_warnx("verify: %s: %s", category, detail);
	if (!account_suspect(&rl->acct, category, reason, action, detail, time(NULL)))
		return;
	if (account_save(&d->sd, &rl->acct) < 0)
		log_warn("state/account-%s: cannot save", rl->name);
	d->status_dirty = 1;
	relay_raise(d, RELAY_PRIMARY, NULL);
}

/* open_account - an IMAP session to a [verify] or [canary] account; NULL
 * with the reason ("[verify] cannot sign in ...") in err */
static struct imap *open_account(const struct imap_account_conf *ac, char *err, size_t errlen)
{
	struct imap_conf ic = {
	        ac->host, ac->port, ac->tls, ac->ca_file, ac->user, ac->password, ac->timeout};
	char why[512];
	struct imap *im = imap_open(&ic, why, sizeof why);

	if (!im)
		snprintf(err, errlen, "[%s] %s", ac->section, why);
	return im;
}

/* verify_trouble - the mailbox cannot be read: logged always, alerted once */
void verify_trouble(struct daemon *d, int which, const char *what)
{
	log_warnx("verify: %s", what);
	if (!*d->vs.error)
		d->vs.error_since = time(NULL);
	snprintf(d->vs.error, sizeof d->vs.error, "%s", what);
	if (d->verify_failing & which)
		return;
	d->verify_failing |= which;
	struct alert a = {"verify-failed", "verify-failed",
	        "spoold cannot read the practice's mailbox to check that reminders are delivered.",
	        "Check the [verify] and [canary] sections of the configuration (host, user, "
	        "password_file, folder names) and that the password still works.",
	        "", what};
	alert_raise(&d->conf, &a);
}

/* check_account - the pass over [verify]'s mailbox */
static void check_account(struct daemon *d, time_t now)
{
	const struct verify_conf *vc = &d->conf.verify;
	char err[600];
	struct imap *im = open_account(&vc->imap, err, sizeof err);

	if (!im) {
		verify_trouble(d, FAIL_ACCOUNT, err);
		return;
	}
	int ok = 1;
	snprintf(d->sent_folder, sizeof d->sent_folder, "%s", vc->sent_folder);
	if (vc->confirm_sent && vc->sent_folder_auto) {
		/* The folder marked \Sent: its name depends on the account's language. */
		char found[sizeof d->sent_folder];
		int r = imap_special_folder(im, "Sent", found, sizeof found, err, sizeof err);
		if (r == 1)
			snprintf(d->sent_folder, sizeof d->sent_folder, "%s", found);
		else if (r < 0)
			log_warnx("verify: %s; trying \"%s\"", err, vc->sent_folder);
	}
	if (vc->confirm_sent) {
		if (imap_select(im, d->sent_folder, err, sizeof err) < 0) {
			verify_trouble(d, FAIL_ACCOUNT, err);
			ok = 0;
		} else if (verify_check_sent(d, im, now) < 0 || verify_settle_held(d, im, now) < 0)
			ok = 0;
	}
	if (imap_select(im, vc->imap.folder, err, sizeof err) < 0) {
		verify_trouble(d, FAIL_ACCOUNT, err);
		ok = 0;
	} else
		verify_inbox(d, im, now);
	imap_free(im);
	if (ok && (d->verify_failing & FAIL_ACCOUNT)) {
		log_info("verify: the mailbox can be read again");
		d->verify_failing &= ~FAIL_ACCOUNT;
	}
}

/* canary_arrived - the canary was found: the suspicion it raised ends */
static void canary_arrived(struct daemon *d, const char *id, time_t sent, time_t now)
{
	struct relay *rl = &d->relay[RELAY_PRIMARY];

	log_info("canary msgid=%s arrived in %s after %lds", id, d->conf.verify.canary_to,
	        (long)(now - sent));
	if (!strcmp(rl->acct.category, "not-delivered") && account_clear_suspect(&rl->acct, now)) {
		account_save(&d->sd, &rl->acct); /* saved before it is said */
		d->status_dirty = 1;
		log_info("relay %s: the canary arrived; sending resumes at the normal rate",
		        rl->name);
	}
}

/* check_canary - look for the canary in its own mailbox */
static void check_canary(struct daemon *d, time_t now)
{
	const struct verify_conf *vc = &d->conf.verify;
	struct verify_state *vs = &d->vs;
	char err[600];
	int r = 0;

	if (!*vs->canary_id && !*vs->missing_id)
		return;
	struct imap *im = open_account(&vc->canary, err, sizeof err);
	if (!im) {
		verify_trouble(d, FAIL_CANARY, err);
		return;
	}
	if (imap_select(im, vc->canary.folder, err, sizeof err) < 0) {
		verify_trouble(d, FAIL_CANARY, err);
		imap_free(im);
		return;
	}
	if (*vs->missing_id &&
	        (r = imap_find_message_id(im, vs->missing_id, err, sizeof err)) == 1) {
		canary_arrived(d, vs->missing_id, vs->missing_sent, now);
		*vs->missing_id = '\0';
		vs->missing_sent = 0;
	}
	if (*vs->canary_id) {
		r = imap_find_message_id(im, vs->canary_id, err, sizeof err);
		if (r == 1) {
			canary_arrived(d, vs->canary_id, vs->canary_sent, now);
			*vs->canary_id = '\0';
			vs->canary_sent = 0;
		} else if (r == 0 &&
		           now >= vs->canary_sent + verify_scaled(vc->canary_wait * 60L)) {
			char reason[600], detail[700], when[TIMEFMT_MAX];
			snprintf(reason, sizeof reason,
			        "The e-mail provider accepts the practice's mail but does not "
			        "deliver "
			        "it: a test message to %s, a mailbox the practice controls, has "
			        "not "
			        "arrived %d minutes after the provider accepted it.",
			        vc->canary_to, vc->canary_wait);
			snprintf(detail, sizeof detail,
			        "canary %s accepted %s, not in %s's %s after %ld s", vs->canary_id,
			        rfc3339_format(vs->canary_sent, when, sizeof when), vc->canary_to,
			        vc->canary.folder, (long)(now - vs->canary_sent));
			snprintf(vs->missing_id, sizeof vs->missing_id, "%s", vs->canary_id);
			vs->missing_sent = vs->canary_sent;
			*vs->canary_id = '\0';
			vs->canary_sent = 0;
			verify_suspect(d, "not-delivered", reason,
			        "Sign in to the practice's e-mail account in a web browser and "
			        "look for "
			        "a warning or a verification step; phone the patients whose "
			        "appointments "
			        "are soonest; then run: spool resume",
			        detail);
		} else if (r < 0)
			verify_trouble(d, FAIL_CANARY, err);
	}
	if (r >= 0 && (d->verify_failing & FAIL_CANARY)) {
		log_info("verify: the canary's mailbox can be read again");
		d->verify_failing &= ~FAIL_CANARY;
	}
	imap_free(im);
}

/* verify_run - one pass */
void verify_run(struct daemon *d)
{
	time_t now = time(NULL);

	if (!on(d))
		return;
	d->verify_more = 0;
	/* Few moves, each reported as it happens: durable one by one. */
	spooldir_batch(&d->sd, 0);
	check_account(d, now);
	check_canary(d, now);
	spooldir_batch(&d->sd, 1);
	d->vs.last_check = now;
	if (!d->verify_failing) {
		d->vs.last_ok = now;
		*d->vs.error = '\0';
		d->vs.error_since = 0;
	}
	save(d);
}
