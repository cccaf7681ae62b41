/*
 * alert - telling staff, once per incident: syslog at LOG_ERR, the alert
 * command run with the details in its environment (SPOOL_EVENT,
 * SPOOL_CATEGORY, SPOOL_REASON, SPOOL_ACTION, SPOOL_JOB, SPOOL_DETAIL)
 * under a timeout, and an e-mail to alerts.alert_to through [alert_relay],
 * never through the account that is blocked.  Deciding WHEN to alert (once per incident)
 * is the caller's (account.h); this module only delivers.
 */
#ifndef SPOOLD_ALERT_H
#define SPOOLD_ALERT_H

#include "conf.h"

struct alert {
	const char *event;    /* account-blocked, auth-failed, sender-rejected, tls-failed,
	                         rate-limited, not-delivered, not-in-sent (suspect),
	                         verify-failed, provider-notice, job-failed, job-expired */
	const char *category; /* the reply category, or "expired" */
	const char *reason;   /* plain English */
	const char *action;   /* what staff should do */
	const char *job;      /* the job's name (or names, space-separated), or "" */
	const char *detail;   /* the server's words, or "" (e-mail and SPOOL_DETAIL;
	                         not in the log line) */
};

/* alert_raise - log, run the command, send the e-mail; 0 when every
 * configured channel worked, -1 otherwise (each failure is logged) */
int alert_raise(const struct conf *c, const struct alert *a);

#endif
