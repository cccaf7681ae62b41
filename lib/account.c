/*
 * account - the sending account's state machine; see account.h.
 *
 * The state file is state/account-RELAY, a small JSON object:
 *   {"version": 1, "state": "blocked", "since": "...", "until": null,
 *    "category": "...", "reason": "...", "action": "...", "reply": "...",
 *    "rule": "...", "incident": 3, "alerted": 3, "rejects": 0,
 *    "reject_rcpt": []}
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "pace.h"
#include "state.h"
#include "timefmt.h"

#define ACCOUNT_FILE_MAX 16384
#define ESCALATE_AFTER 3 /* message-rejected in a row on different recipients */

static const char *const state_names[ACCT_NSTATES] = {
        "running", "rate-limited", "blocked", "probing", "suspect"};

/* account_state_name - the state as staff read it */
const char *account_state_name(enum account_state s)
{
	return (unsigned)s < ACCT_NSTATES ? state_names[s] : "?";
}

/* account_init - a running account */
void account_init(struct account *a, const char *relay)
{
	memset(a, 0, sizeof *a);
	snprintf(a->relay, sizeof a->relay, "%s", relay);
	a->state = ACCT_RUNNING;
}

/* copy - a bounded string copy (NULL becomes "") */
static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* get_time - an RFC 3339 member, or 0 */
static time_t get_time(json_t *o, const char *key)
{
	time_t t = 0;
	const char *s = json_string_value(json_object_get(o, key));

	if (s && rfc3339_parse(s, &t, NULL) < 0)
		t = 0;
	return t;
}

/* file_name - state/account-RELAY */
static void file_name(const char *relay, char *buf, size_t len)
{
	snprintf(buf, len, "account-%s", relay);
}

/* account_load - the persisted state, or running */
int account_load(struct spooldir *sd, const char *relay, struct account *a)
{
	char name[64];
	json_t *o, *v;
	int r;

	account_init(a, relay);
	file_name(relay, name, sizeof name);
	if ((r = state_read(sd, name, ACCOUNT_FILE_MAX, &o)) <= 0)
		return r;
	const char *st = json_string_value(json_object_get(o, "state"));
	for (int i = 0; st && i < ACCT_NSTATES; i++)
		if (!strcmp(st, state_names[i]))
			a->state = (enum account_state)i;
	a->since = get_time(o, "since");
	a->until = get_time(o, "until");
	copy(a->category, sizeof a->category, json_string_value(json_object_get(o, "category")));
	copy(a->reason, sizeof a->reason, json_string_value(json_object_get(o, "reason")));
	copy(a->action, sizeof a->action, json_string_value(json_object_get(o, "action")));
	copy(a->reply, sizeof a->reply, json_string_value(json_object_get(o, "reply")));
	copy(a->rule, sizeof a->rule, json_string_value(json_object_get(o, "rule")));
	a->incident = (unsigned)json_integer_value(json_object_get(o, "incident"));
	a->alerted = (unsigned)json_integer_value(json_object_get(o, "alerted"));
	a->rejects = (int)json_integer_value(json_object_get(o, "rejects"));
	v = json_object_get(o, "reject_rcpt");
	for (size_t i = 0; i < json_array_size(v) && i < ESCALATE_AFTER; i++)
		copy(a->reject_rcpt[i], sizeof a->reject_rcpt[i],
		        json_string_value(json_array_get(v, i)));
	json_decref(o);
	return 0;
}

/* put_time - an RFC 3339 member, or null */
static void put_time(json_t *o, const char *key, time_t t)
{
	char buf[TIMEFMT_MAX];

	json_object_set_new(
	        o, key, t ? json_string(rfc3339_format(t, buf, sizeof buf)) : json_null());
}

/* account_save - atomic and durable */
int account_save(struct spooldir *sd, const struct account *a)
{
	char name[64];
	json_t *o = json_object(), *rc = json_array();
	int rcode;

	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "state", json_string(account_state_name(a->state)));
	put_time(o, "since", a->since);
	put_time(o, "until", a->until);
	json_object_set_new(o, "category", json_string(a->category));
	json_object_set_new(o, "reason", json_string(a->reason));
	json_object_set_new(o, "action", json_string(a->action));
	json_object_set_new(o, "reply", json_string(a->reply));
	json_object_set_new(o, "rule", json_string(a->rule));
	json_object_set_new(o, "incident", json_integer(a->incident));
	json_object_set_new(o, "alerted", json_integer(a->alerted));
	json_object_set_new(o, "rejects", json_integer(a->rejects));
	for (int i = 0; i < a->rejects && i < ESCALATE_AFTER; i++)
		json_array_append_new(rc, json_string(a->reject_rcpt[i]));
	json_object_set_new(o, "reject_rcpt", rc);
	file_name(a->relay, name, sizeof name);
	/* Durable at once: a state staff act on must survive a crash. */
	rcode = state_write(sd, name, o);
	json_decref(o);
	return rcode;
}

/* account_can_send - may a message go now? */
int account_can_send(struct account *a, time_t now)
{
	switch (a->state) {
	case ACCT_RUNNING:
	case ACCT_PROBING:
	case ACCT_SUSPECT: /* the daemon decides how slowly */
		return 1;
	case ACCT_RATE_LIMITED:
		if (now < a->until)
			return 0;
		a->state = ACCT_RUNNING;
		a->since = now;
		return 1;
	default:
		return 0;
	}
}

/* set_incident - a new incident: state, verdict, words */
static void set_incident(struct account *a, enum account_state s, const struct verdict *v,
        const char *reply, time_t now)
{
	a->state = s;
	a->since = now;
	a->incident++;
	copy(a->category, sizeof a->category, reply_category_name(v->cat));
	copy(a->reason, sizeof a->reason, v->explanation);
	copy(a->action, sizeof a->action, v->action);
	copy(a->reply, sizeof a->reply, reply);
	copy(a->rule, sizeof a->rule, v->rule);
}

/* escalates - the third message-rejected in a row, each to a different recipient */
static int escalates(struct account *a, const char *rcpt)
{
	for (int i = 0; i < a->rejects && i < ESCALATE_AFTER; i++)
		if (!strcmp(a->reject_rcpt[i], rcpt))
			return 0; /* the same patient again: not evidence about the account */
	if (a->rejects < ESCALATE_AFTER)
		copy(a->reject_rcpt[a->rejects], sizeof a->reject_rcpt[0], rcpt);
	a->rejects++;
	return a->rejects >= ESCALATE_AFTER;
}

/* account_note - feed a failed attempt's verdict */
int account_note(
        struct account *a, const struct verdict *v, const char *rcpt, const char *reply, time_t now)
{
	switch (v->cat) {
	case CAT_RATE_LIMITED: {
		int64_t scale = pace_scale();
		time_t until = v->retry_at > now ? v->retry_at : now + (v->daily ? 86400 : 300);
		until = now + (until - now + scale - 1) / scale;
		int fresh = a->state != ACCT_RATE_LIMITED;
		if (fresh)
			set_incident(a, ACCT_RATE_LIMITED, v, reply, now);
		a->until = until > a->until ? until : a->until;
		return fresh;
	}
	case CAT_ACCOUNT_BLOCKED:
	case CAT_AUTH_FAILED:
	case CAT_SENDER_REJECTED:
	case CAT_TLS_FAILED:
		if (a->state == ACCT_BLOCKED)
			return 0;
		set_incident(a, ACCT_BLOCKED, v, reply, now);
		a->until = 0;
		a->rejects = 0;
		return 1;
	case CAT_MESSAGE_REJECTED:
		if (!escalates(a, rcpt ? rcpt : ""))
			return 0;
		{
			struct verdict b = *v;
			b.cat = CAT_ACCOUNT_BLOCKED;
			b.explanation =
			        "The provider refused three different patients' messages in "
			        "a row; the account itself is probably restricted.";
			b.action =
			        "Sign in to the practice's e-mail account in a web browser and "
			        "look for a warning or a verification step; then run: spool resume";
			b.rule = "escalated-message-rejected";
			set_incident(a, ACCT_BLOCKED, &b, reply, now);
			a->rejects = 0;
			return 1;
		}
	default:
		return 0; /* transient, recipient-invalid, unknown-outcome: the job's own */
	}
}

/* account_note_sent - an accepted message */
void account_note_sent(struct account *a, time_t now)
{
	a->rejects = 0;
	if (a->state == ACCT_PROBING || a->state == ACCT_RATE_LIMITED) {
		a->state = ACCT_RUNNING;
		a->since = now;
		a->until = 0;
	}
}

/* set_words - a new incident from words rather than an SMTP verdict */
static void set_words(struct account *a, enum account_state s, const char *category,
        const char *reason, const char *action, const char *detail, const char *rule, time_t now)
{
	a->state = s;
	a->since = now;
	a->until = 0;
	a->incident++;
	a->rejects = 0;
	copy(a->category, sizeof a->category, category);
	copy(a->reason, sizeof a->reason, reason);
	copy(a->action, sizeof a->action, action);
	copy(a->reply, sizeof a->reply, detail);
	copy(a->rule, sizeof a->rule, rule);
}

/* account_suspect - accepted mail is not being delivered */
int account_suspect(struct account *a, const char *category, const char *reason, const char *action,
        const char *detail, time_t now)
{
	if (a->state != ACCT_RUNNING && a->state != ACCT_PROBING)
		return 0;
	set_words(a, ACCT_SUSPECT, category, reason, action, detail, category, now);
	return 1;
}

/* account_block - a provider notice: blocked without an SMTP refusal */
int account_block(struct account *a, const char *category, const char *reason, const char *action,
        const char *detail, const char *rule, time_t now)
{
	if (a->state == ACCT_BLOCKED)
		return 0;
	set_words(a, ACCT_BLOCKED, category, reason, action, detail, rule, now);
	return 1;
}

/* account_clear_suspect - a canary arrived: back to running */
int account_clear_suspect(struct account *a, time_t now)
{
	if (a->state != ACCT_SUSPECT)
		return 0;
	a->state = ACCT_RUNNING;
	a->since = now;
	return 1;
}

/* account_resume - staff say the account is fixed: probe it */
void account_resume(struct account *a, time_t now)
{
	if (a->state == ACCT_BLOCKED || a->state == ACCT_RATE_LIMITED || a->state == ACCT_SUSPECT) {
		a->state = ACCT_PROBING;
		a->since = now;
		a->until = 0;
		a->rejects = 0;
	}
}
