/*
 * spoold - the daemon's shared state; the event loop owns it.
 *
 * main.c: arguments, privileges, signals, inotify, the loop.
 * deliver.c: one job from claim to its transaction, the next one made
 *            ahead while draining; settle.c: its next folder.
 * relay.c: the relays (primary, fallback): which may send now, their
 *          account state and pacing, what a verdict does to them, alerts.
 * queue.c: the in-memory index of waiting jobs.
 * verify.c, verify_sent.c, verify_inbox.c: after the 250 ([verify]): the
 *          schedule and the canary, the Sent folder, INBOX's bounces and
 *          notices.
 */
#ifndef SPOOLD_SPOOLD_H
#define SPOOLD_SPOOLD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "account.h"
#include "conf.h"
#include "pace.h"
#include "queue.h"
#include "reply.h"
#include "smtp.h"
#include "spooldir.h"
#include "status.h"
#include "verify_state.h"

struct imap;
struct prepared;

#define RELAY_PRIMARY 0
#define RELAY_FALLBACK 1

/* One relay: its configuration, account state, pacing and connection. */
struct relay {
	const char *name;      /* "relay" or "fallback": state file names */
	struct relay_conf *rc; /* in d->conf */
	struct account acct;
	struct pace pace;
	struct smtp *smtp;
	time_t last_send; /* when the connection was last used */
	int pace_dirty;   /* pacing history to save at the next flush */
};

struct daemon {
	struct conf conf;
	struct spooldir sd;
	struct queue q;
	struct relay relay[2];
	int nrelay;  /* 1, or 2 with a [fallback] */
	char **logs; /* delivery lines waiting for spooldir_flush */
	size_t nlogs, clogs;
	unsigned unflushed;   /* jobs moved since the last flush */
	int64_t unflushed_ms; /* when the first of them moved (pace_now_ms) */
	char *failed_names;   /* jobs failed since the last alert (space-separated) */
	char failed_reason[512];
	char failed_event[32];
	unsigned nfailed;
	struct status_counters sc; /* the status page's chart and counters */
	int status_dirty;          /* something changed since the page was written */
	int64_t status_ms;         /* when the page was last written */
	struct verify_state vs;    /* [verify]'s memory (state/verify) */
	int verify_failing;        /* which mailboxes cannot be read (verify.c): alerted once */
	int verify_more;           /* INBOX had more than one pass reads */
	char sent_folder[256];     /* the Sent folder used by the last pass */
	struct prepared *ahead;    /* a job claimed and made while the previous one's
	                              final reply was awaited (deliver.c), or NULL */
	int ahead_relay;           /* the relay it was prepared for */
};

/* deliver_consider - index a job found in new/ or deferred/ */
void deliver_consider(
        struct daemon *d, enum folder f, const char *name, const struct stat *st, time_t now);
/* deliver_run - take one ready job (qj, or with qj NULL d->ahead) through
 * an attempt on relay r (or, with r < 0, only fail it when it has expired)
 * to its next folder.  With ahead set, the next ready job is claimed and
 * its message made into d->ahead while the server takes this one's: the
 * caller starts it with the next call only when relay r may still send,
 * else hands it back with deliver_put_back. */
void deliver_run(struct daemon *d, struct qjob *qj, int r, int ahead);
/* deliver_put_back - the job in d->ahead (if any) waits again in
 * deferred/, due now, not charged an attempt (as when the account stops) */
void deliver_put_back(struct daemon *d);
/* deliver_flush - make the moves durable, then write their log lines */
void deliver_flush(struct daemon *d);
/* deliver_job_alert - note a job that failed, expired or was held, for
 * the next coalesced alert */
void deliver_job_alert(struct daemon *d, const char *event, const char *name, const char *reason);

/* deliver_note - count an outcome for the status page and metrics */
void deliver_note(struct daemon *d, enum status_event ev, const char *category, int r);
/* daemon_status - rewrite the status page when due (at most once a second);
 * the time it should be written next, or 0 */
int64_t daemon_status(struct daemon *d, int64_t now_ms, int force);

/* relay_setup - relays from the configuration; accounts and pacing loaded */
void relay_setup(struct daemon *d);
/* relay_reload - after SIGHUP: new settings, state kept */
void relay_reload(struct daemon *d, struct conf *old);
/* relay_teardown - close connections, save state, free */
void relay_teardown(struct daemon *d);
/* relay_pick - the relay that may send now, or -1; *wake_ms is then when
 * one may (0: not before something changes, e.g. spool resume) */
int relay_pick(struct daemon *d, int64_t now_ms, int64_t *wake_ms);
/* relay_ahead_ok - relay r may send now and, by its account and pacing,
 * once more at once after that (running, no gap, room in every window):
 * a job may be prepared ahead */
int relay_ahead_ok(struct daemon *d, int r, int64_t now_ms);
/* relay_note - a finished attempt on relay r: pacing, account state,
 * alerts; ok when accepted */
void relay_note(struct daemon *d, int r, int ok, const struct smtp_reply *rep,
        const struct verdict *v, const char *rcpt);
/* relay_blocked_reason - a sentence when sending is stopped, else NULL */
const char *relay_blocked_reason(struct daemon *d);
/* relay_state_changed - state/ changed on disk (spool resume): reload */
void relay_state_changed(struct daemon *d);
/* relay_probe - send the probe message when an account is probing and
 * probe_to is configured; 1 when it did something */
int relay_probe(struct daemon *d, int r);
/* relay_raise - alert once for relay r's current incident (rep: the
 * server's reply, or NULL when the evidence is not an SMTP reply) */
void relay_raise(struct daemon *d, int r, const struct smtp_reply *rep);
/* relay_flush - save pacing histories that changed */
void relay_flush(struct daemon *d);
/* relay_idle - close connections idle for longer than relay.idle; the
 * earliest time one will be closed */
time_t relay_idle(struct daemon *d, time_t now);

/* deliver_write_reason - folder/NAME.reason.txt for staff */
void deliver_write_reason(struct daemon *d, enum folder f, const char *name, const char *text);

/* verify_setup - state/verify loaded (when [verify] is configured) */
void verify_setup(struct daemon *d);
/* verify_teardown - state saved, memory released */
void verify_teardown(struct daemon *d);
/* verify_sent - relay r's server accepted job name's message msgid */
void verify_sent(struct daemon *d, int r, const char *name, const char *msgid);
/* verify_wake - when the next check is due (ms since the epoch), 0: never */
int64_t verify_wake(struct daemon *d);
/* verify_run - one pass: Sent folder, held jobs, INBOX, canary */
void verify_run(struct daemon *d);
/* verify_canary - send the canary on relay r when one is due; 1 when it
 * did something */
int verify_canary(struct daemon *d, int r);
/* verify_canary_due - 1 when verify_canary would send one now */
int verify_canary_due(struct daemon *d);
/* verify_inbox - read INBOX's new messages (im has it selected): bounces
 * fail their jobs, notices block the account */
void verify_inbox(struct daemon *d, struct imap *im, time_t now);
/* verify_suspect - accepted mail is not delivered: the primary account
 * becomes suspect, alerted once */
void verify_suspect(struct daemon *d, const char *category, const char *reason, const char *action,
        const char *detail);

#endif
