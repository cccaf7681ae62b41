/*
 * relay - the relays spoold sends through, and what replies do to them.
 *
 * The primary relay ([relay]) sends while its account is running (or
 * probing); a [fallback] relay carries the queue while the primary is
 * blocked or rate-limited.  Each has its own account state (account.h),
 * pacing history (pace.h, saved at each flush) and connection.  A verdict
 * that opens an incident saves the account state at once and alerts staff
 * once per incident, never through the account that is blocked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "log.h"
#include "msg.h"
#include "spoold.h"

/* slot_init - one relay from the configuration, state from the spool */
static void slot_init(struct daemon *d, int i, const char *name, struct relay_conf *rc)
{
	struct relay *rl = &d->relay[i];

	rl->name = name;
	rl->rc = rc;
	if (account_load(&d->sd, name, &rl->acct) < 0)
		log_warnx("state/account-%s is unreadable; starting as running", name);
	pace_init(&rl->pace, &rc->pacing);
	char pname[32];
	snprintf(pname, sizeof pname, "pace-%s", name);
	if (pace_load(&rl->pace, &d->sd, pname, pace_now_ms()) < 0)
		log_warnx("state/%s is unreadable; the pacing windows start empty", pname);
	rl->smtp = smtp_new(rc);
	if (rl->acct.state != ACCT_RUNNING)
		log_warnx("relay %s (%s:%d): account %s since %lld: %s", name, rc->host, rc->port,
		        account_state_name(rl->acct.state), (long long)rl->acct.since,
		        rl->acct.reason);
}

/* relay_setup - the primary, and the fallback when configured */
void relay_setup(struct daemon *d)
{
	slot_init(d, RELAY_PRIMARY, "relay", &d->conf.relay);
	d->nrelay = 1;
	if (d->conf.fallback.configured && d->conf.fallback.host) {
		slot_init(d, RELAY_FALLBACK, "fallback", &d->conf.fallback);
		d->nrelay = 2;
	}
}

/* relay_teardown - close, save, free */
void relay_teardown(struct daemon *d)
{
	relay_flush(d);
	for (int i = 0; i < d->nrelay; i++) {
		smtp_free(d->relay[i].smtp);
		d->relay[i].smtp = NULL;
		pace_free(&d->relay[i].pace);
	}
	d->nrelay = 0;
}

/* relay_reload - SIGHUP: new settings; new credentials deserve a try */
void relay_reload(struct daemon *d, struct conf *old)
{
	struct relay keep[2];
	int n = d->nrelay;

	(void)old;
	memcpy(keep, d->relay, sizeof keep);
	for (int i = 0; i < n; i++)
		smtp_free(keep[i].smtp);
	relay_setup(d);
	for (int i = 0; i < d->nrelay; i++) {
		struct relay *rl = &d->relay[i];
		/* The history survives a reload; the file is the same one. */
		if (i < n) {
			pace_free(&rl->pace);
			rl->pace = keep[i].pace;
			pace_set_limits(&rl->pace, &rl->rc->pacing);
		}
		const char *c = rl->acct.category;
		if (rl->acct.state == ACCT_BLOCKED &&
		        (!strcmp(c, "auth-failed") || !strcmp(c, "sender-rejected") ||
		                !strcmp(c, "tls-failed"))) {
			account_resume(&rl->acct, time(NULL));
			account_save(&d->sd, &rl->acct);
			log_info("relay %s: new configuration; trying again (was %s)", rl->name, c);
		}
	}
	for (int i = d->nrelay; i < n; i++)
		pace_free(&keep[i].pace);
}

/* relay_state_changed - spool resume (or another spoold) changed state/ */
void relay_state_changed(struct daemon *d)
{
	for (int i = 0; i < d->nrelay; i++) {
		struct relay *rl = &d->relay[i];
		struct account a;
		if (account_load(&d->sd, rl->name, &a) < 0)
			continue;
		if (a.state != rl->acct.state || a.incident != rl->acct.incident) {
			log_info("relay %s: account %s -> %s (from state/)", rl->name,
			        account_state_name(rl->acct.state), account_state_name(a.state));
			rl->acct = a;
			d->status_dirty = 1;
		}
	}
}

/* relay_pick - who may send now */
int relay_pick(struct daemon *d, int64_t now_ms, int64_t *wake_ms)
{
	time_t now = (time_t)(now_ms / 1000);

	*wake_ms = 0;
	for (int i = 0; i < d->nrelay; i++) {
		struct relay *rl = &d->relay[i];
		if (!account_can_send(&rl->acct, now)) {
			if (rl->acct.state == ACCT_RATE_LIMITED) {
				int64_t t = (int64_t)rl->acct.until * 1000;
				if (!*wake_ms || t < *wake_ms)
					*wake_ms = t;
			}
			continue; /* the fallback, if any, carries the queue */
		}
		const char *why = NULL;
		int64_t t = pace_next(&rl->pace, now_ms, &why);
		if (rl->acct.state == ACCT_SUSPECT) {
			/* The provider may be dropping what it accepts: a trickle, or nothing. */
			if (d->conf.verify.on_suspect == SUSPECT_STOP)
				continue;
			int64_t gap =
			        (int64_t)d->conf.verify.trickle_minutes * 60000 / pace_scale();
			if (rl->last_send && (int64_t)rl->last_send * 1000 + gap > t)
				t = (int64_t)rl->last_send * 1000 + gap;
		}
		if (t <= now_ms)
			return i;
		if (!*wake_ms || t < *wake_ms)
			*wake_ms = t;
		return -1; /* this relay paces itself; the fallback is not for pacing */
	}
	return -1;
}

/* relay_ahead_ok - two messages may go now, one after the other */
int relay_ahead_ok(struct daemon *d, int r, int64_t now_ms)
{
	struct relay *rl = &d->relay[r];
	const struct pacing_conf *l = &rl->pace.lim;
	const int lims[] = {l->per_minute, l->per_hour, l->per_day}, secs[] = {60, 3600, 86400};

	if (rl->acct.state != ACCT_RUNNING || l->min_gap_ms > 0 ||
	        pace_next(&rl->pace, now_ms, NULL) > now_ms)
		return 0;
	for (int i = 0; i < 3; i++)
		if (lims[i] > 0 &&
		        pace_used(&rl->pace, now_ms, pace_window_ms(secs[i])) + 2 > (size_t)lims[i])
			return 0;
	return 1;
}

/* relay_raise - alert once for the account's current incident */
void relay_raise(struct daemon *d, int r, const struct smtp_reply *rep)
{
	struct relay *rl = &d->relay[r];
	struct account *a = &rl->acct;
	char event[48];

	if (a->alerted == a->incident)
		return;
	if (a->state == ACCT_RATE_LIMITED) {
		log_warnx("relay %s: rate-limited until %lld: %s (%s)", rl->name,
		        (long long)a->until, a->reason, a->rule);
		a->alerted = a->incident; /* it ends by itself: logged, not alerted */
		account_save(&d->sd, a);
		return;
	}
	snprintf(event, sizeof event, "%s",
	        !strcmp(a->category, "account-blocked") ? "account-blocked" : a->category);
	struct alert al = {event, a->category, a->reason, a->action, "", rep ? rep->text : ""};
	log_alert("%s: category=%s relay=%s (%s:%d) incident=%u: %s What to do: %s",
	        a->state == ACCT_SUSPECT ? "provider not delivering" : "sending stopped",
	        a->category, rl->name, rl->rc->host, rl->rc->port, a->incident, a->reason,
	        a->action);
	alert_raise(&d->conf, &al);
	a->alerted = a->incident;
	account_save(&d->sd, a);
}

/* relay_note - what an attempt does to its relay */
void relay_note(struct daemon *d, int r, int ok, const struct smtp_reply *rep,
        const struct verdict *v, const char *rcpt)
{
	struct relay *rl = &d->relay[r];
	time_t now = time(NULL);

	/* The provider counts what reached it, accepted or not. */
	if (ok || rep->stage >= STAGE_MAIL) {
		pace_sent(&rl->pace, pace_now_ms());
		rl->pace_dirty = 1;
	}
	if (ok) {
		enum account_state before = rl->acct.state;
		int rejects = rl->acct.rejects;
		account_note_sent(&rl->acct, now);
		if (before != rl->acct.state || rejects) {
			account_save(&d->sd, &rl->acct);
			if (before == ACCT_PROBING)
				log_info("relay %s: the probe was accepted; sending resumes",
				        rl->name);
		}
		return;
	}
	if (v->reconnect)
		smtp_close(rl->smtp);
	int before_rejects = rl->acct.rejects;
	if (account_note(&rl->acct, v, rcpt, rep->text, now)) {
		d->status_dirty = 1;
		smtp_close(rl->smtp);
		account_save(&d->sd, &rl->acct);
		relay_raise(d, r, rep);
	} else if (rl->acct.rejects != before_rejects)
		account_save(&d->sd, &rl->acct);
}

/* relay_blocked_reason - why sending is stopped, for an expired job's reason */
const char *relay_blocked_reason(struct daemon *d)
{
	for (int i = 0; i < d->nrelay; i++)
		if (d->relay[i].acct.state == ACCT_BLOCKED ||
		        (d->relay[i].acct.state == ACCT_SUSPECT &&
		                d->conf.verify.on_suspect == SUSPECT_STOP))
			return d->relay[i].acct.reason;
	return NULL;
}

/* relay_probe - after spool resume, one message to probe_to first */
int relay_probe(struct daemon *d, int r)
{
	struct relay *rl = &d->relay[r];
	struct smtp_reply rep = {0};
	struct verdict v;
	time_t now = time(NULL);
	size_t len;

	if (rl->acct.state != ACCT_PROBING || !d->conf.probe_to)
		return 0;
	char *msg = msg_plain(rl->rc, d->conf.probe_to, "spoold: sending resumed (test message)",
	        "spoold sends this message after staff ran `spool resume`, to check that the\n"
	        "mail account can send again before the reminders go out.\n"
	        "Nothing needs to be done.\n",
	        "X-Spool-Probe: yes", NULL, now, &len);
	if (!msg)
		return 0;
	int ok = smtp_send(rl->smtp, rl->rc->from, d->conf.probe_to, msg, len, &rep) == 0;
	free(msg);
	if (ok)
		v = (struct verdict){.cat = CAT_SENT, .rule = "sent"};
	else
		reply_judge_local(&rep, time(NULL), &v);
	rl->last_send = time(NULL);
	log_info("probe relay=%s to=%s stage=%s code=%d category=%s", rl->name, d->conf.probe_to,
	        smtp_stage_name(rep.stage), rep.code, reply_category_name(v.cat));
	if (!ok && !reply_stops_account(v.cat)) {
		/* Not an account problem (the probe address, a hiccup): go on. */
		account_note_sent(&rl->acct, time(NULL));
		account_save(&d->sd, &rl->acct);
		return 1;
	}
	relay_note(d, r, ok, &rep, &v, d->conf.probe_to);
	return 1;
}

/* daemon_status - the status page, at most once a second */
int64_t daemon_status(struct daemon *d, int64_t now_ms, int force)
{
	if (!d->status_dirty && !force)
		return 0;
	if (!force && now_ms - d->status_ms < 1000)
		return d->status_ms + 1000;
	struct account acc[2];
	int per_day = d->relay[RELAY_PRIMARY].rc->pacing.per_day;
	int used = (int)pace_used(&d->relay[RELAY_PRIMARY].pace, now_ms, pace_window_ms(86400));
	for (int i = 0; i < d->nrelay; i++)
		acc[i] = d->relay[i].acct;
	if (status_write(&d->sd, &d->conf, &d->sc, acc, d->nrelay, per_day, used,
	            queue_oldest(&d->q), (time_t)(now_ms / 1000)) < 0)
		log_warn("%s: cannot write status.html/status.json/spoold.prom", d->sd.path);
	if (status_save(&d->sc, &d->sd) < 0)
		log_warn("state/status-counters: cannot save");
	d->status_ms = now_ms;
	d->status_dirty = 0;
	return 0;
}

/* relay_flush - save changed pacing histories */
void relay_flush(struct daemon *d)
{
	for (int i = 0; i < d->nrelay; i++) {
		struct relay *rl = &d->relay[i];
		char pname[32];
		if (!rl->pace_dirty)
			continue;
		snprintf(pname, sizeof pname, "pace-%s", rl->name);
		if (pace_save(&rl->pace, &d->sd, pname) < 0)
			log_warn("state/%s: cannot save the pacing history", pname);
		rl->pace_dirty = 0;
	}
}

/* relay_idle - close idle connections; when the next one will be */
time_t relay_idle(struct daemon *d, time_t now)
{
	time_t next = 0;

	for (int i = 0; i < d->nrelay; i++) {
		struct relay *rl = &d->relay[i];
		if (!smtp_is_open(rl->smtp))
			continue;
		time_t at = rl->last_send + rl->rc->idle;
		if (now >= at)
			smtp_close(rl->smtp);
		else if (!next || at < next)
			next = at;
	}
	return next;
}
