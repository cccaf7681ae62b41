/*
 * reply - what an SMTP outcome means: one category per outcome.
 *
 * Pure: a function of the reply (stage, code, text, local flags).  This is
 * the plain RFC split (4xx retry, 5xx fail, by stage); the provider-aware
 * classifier replaces its body without changing the interface.
 */
#ifndef SPOOLD_REPLY_H
#define SPOOLD_REPLY_H

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

/* reply_classify - the category of a failed step (never CAT_SENT) */
enum category reply_classify(const struct smtp_reply *r);
/* reply_category_name - "sent", "account-blocked", ... */
const char *reply_category_name(enum category c);
/* reply_job_fails - 1 when the category fails this one job (recipient-invalid, message-rejected) */
int reply_job_fails(enum category c);
/* reply_stops_account - 1 when sending must stop for every job (blocked, auth, sender, tls, rate) */
int reply_stops_account(enum category c);
/* reply_explain - a plain-English sentence for staff */
const char *reply_explain(enum category c);

#endif
