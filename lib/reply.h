/*
 * reply - what an SMTP outcome means: one category per outcome, and a
 * verdict with the details spoold and the staff need.
 *
 * Pure: a function of the reply (stage, code, text, local flags) and of
 * "now" (for retry times); no state, no allocation.  Provider text is read
 * first, then the stage, then the code class, in the order of precedence
 * of the providers' notes (account-blocked > rate-limited > auth-failed >
 * sender-rejected > tls-failed > stage rules > transient/unknown-outcome).
 * The phrases, and the explanation and action for each, are data in
 * reply_rules.c; reply.c holds the logic (text normalisation, matching,
 * retry times).
 *
 * Use: reply_judge_local(&r, time(NULL), &v) for what smtp.c returned, or
 * reply_judge(stage, code, text, now, &v) for a reply given as parts (the
 * spool classify verb, tests).  reply_classify is the category alone.
 */
#ifndef SPOOLD_REPLY_H
#define SPOOLD_REPLY_H

#include <time.h>

#include "smtp.h"

enum category {
	CAT_SENT,
	CAT_ACCOUNT_BLOCKED,
	CAT_RATE_LIMITED,
	CAT_AUTH_FAILED,
	CAT_SENDER_REJECTED,
	CAT_RECIPIENT_INVALID,
	CAT_MESSAGE_REJECTED,
	CAT_TLS_FAILED,
	CAT_TRANSIENT,
	CAT_UNKNOWN_OUTCOME,
};

struct verdict {
	enum category cat;
	time_t retry_at;    /* when sending may resume or the job be retried; 0: not given / not
	                       applicable */
	int daily;          /* a daily quota: wait for the rolling 24 h */
	int one_connection; /* the provider wants a single connection (sender thread limit) */
	int reconnect;      /* the provider wants a new connection (max messages per connection) */
	const char *explanation; /* plain English for front-desk staff, static */
	const char *action;      /* what staff should do, static */
	const char *rule;        /* short id of the rule that matched, for logs and tests, static */
};

/* reply_judge - a pure function of (stage, code, text, now): the verdict.
 * code 0 is "no reply" (a drop or timeout); text may be NULL.  A 2xx at
 * data-end is CAT_SENT; any other 2xx/3xx is not a verdict (transient). */
void reply_judge(enum smtp_stage stage, int code, const char *text, time_t now, struct verdict *v);
/* reply_judge_local - the same for a struct smtp_reply (also uses tls_error/timeout/refused) */
void reply_judge_local(const struct smtp_reply *r, time_t now, struct verdict *v);
/* reply_stage_parse - "connect" ... "data-end" -> stage; -1 when unknown */
int reply_stage_parse(const char *s);
/* reply_category_parse - name -> category; -1 */
int reply_category_parse(const char *s);

/* reply_classify - the category of a failed step (never CAT_SENT) */
enum category reply_classify(const struct smtp_reply *r);
/* reply_category_name - "sent", "account-blocked", ... */
const char *reply_category_name(enum category c);
/* reply_job_fails - 1 when the category fails this one job (recipient-invalid, message-rejected) */
int reply_job_fails(enum category c);
/* reply_stops_account - 1 when sending must stop for every job (blocked, auth, sender, tls, rate)
 */
int reply_stops_account(enum category c);
/* reply_explain - a plain-English sentence for staff */
const char *reply_explain(enum category c);

#endif
