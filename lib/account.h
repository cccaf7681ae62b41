/*
 * account - the sending account's state, persisted in state/account-RELAY.
 *
 *   running ------------------------------------------------> running
 *      | rate-limited (verdict)        until T passes: running again
 *      | account-blocked, auth-failed, sender-rejected, tls-failed,
 *      | or 3 message-rejected in a row on different recipients
 *      v
 *   blocked (category, reason, action, since) --spool resume--> probing
 *   probing: one message (probe_to, else the next job); accepted -> running,
 *            refused -> blocked again (a new incident)
 *   running/probing --a canary or Sent copy missing (verify)--> suspect
 *   suspect: the provider says 250 but does not deliver; the daemon slows
 *            to a trickle or stops ([verify] on_suspect); a later canary
 *            that arrives -> running; spool resume -> probing
 *
 * While not running nothing is sent, no job fails and none is charged an
 * attempt.  Every move into blocked or rate-limited opens a new incident
 * (a number that only grows); alerts fire once per incident (alerted).
 * The file is JSON with a version, written atomically; `spool resume`
 * writes it too, and spoold notices through inotify on state/.
 * Pure apart from account_load/account_save: time is passed in.
 */
#ifndef SPOOLD_ACCOUNT_H
#define SPOOLD_ACCOUNT_H

#include <time.h>

#include "reply.h"
#include "spooldir.h"

enum account_state { ACCT_RUNNING, ACCT_RATE_LIMITED, ACCT_BLOCKED, ACCT_PROBING, ACCT_SUSPECT };
#define ACCT_NSTATES 5

struct account {
	char relay[16]; /* "relay" or "fallback": the file's name */
	enum account_state state;
	time_t since;             /* when the current state began */
	time_t until;             /* rate-limited: when sending may resume */
	char category[32];        /* the verdict's category */
	char reason[512];         /* plain English (the verdict's explanation) */
	char action[512];         /* what staff should do */
	char reply[1024];         /* the server's words */
	char rule[64];            /* the classifier's rule */
	unsigned incident;        /* grows with every new incident */
	unsigned alerted;         /* the last incident an alert was sent for */
	int rejects;              /* message-rejected in a row */
	char reject_rcpt[3][256]; /* their recipients (different ones escalate) */
};

const char *account_state_name(enum account_state s);
/* account_init - running, for relay name */
void account_init(struct account *a, const char *relay);
/* account_load - state/account-RELAY, or running when absent; -1 unreadable */
int account_load(struct spooldir *sd, const char *relay, struct account *a);
/* account_save - durable, atomic */
int account_save(struct spooldir *sd, const struct account *a);
/* account_can_send - 1 when a message may go now (running, probing, or a
 * rate limit that has passed; the latter is moved back to running) */
int account_can_send(struct account *a, time_t now);
/* account_note - a failed attempt's verdict for recipient rcpt; 1 when it
 * opened a new incident (blocked or rate-limited), 0 otherwise */
int account_note(struct account *a, const struct verdict *v, const char *rcpt, const char *reply,
        time_t now);
/* account_note_sent - an accepted message: probing and rejects end */
void account_note_sent(struct account *a, time_t now);
/* account_suspect - evidence that accepted mail is not delivered (category
 * e.g. "not-delivered"): running or probing -> suspect, a new incident (1);
 * 0 when already suspect or stopped for another reason */
int account_suspect(struct account *a, const char *category, const char *reason, const char *action,
        const char *detail, time_t now);
/* account_block - a provider notice says the account is blocked (no SMTP
 * reply involved): -> blocked, a new incident (1); 0 when already blocked */
int account_block(struct account *a, const char *category, const char *reason, const char *action,
        const char *detail, const char *rule, time_t now);
/* account_clear_suspect - delivery proven again: suspect -> running (1) */
int account_clear_suspect(struct account *a, time_t now);
/* account_resume - staff re-verified: blocked, rate-limited or suspect -> probing */
void account_resume(struct account *a, time_t now);

#endif
