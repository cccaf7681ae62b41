/*
 * verify_state - what spoold's delivery checks remember between passes
 * and across restarts, in state/verify (JSON with a version, written
 * atomically like the account's state):
 *
 *   pending   sent jobs whose Message-ID is still to be found in the Sent
 *             folder: job name, Message-ID, when the provider took it
 *   inbox     INBOX's UIDVALIDITY and the highest UID already read, so
 *             ordinary mail is read once (bounces and notices are also
 *             flagged $SpooldProcessed in the mailbox)
 *   canary    the canary in flight (Message-ID, when sent), the last one
 *             declared missing (still looked for: if it arrives late the
 *             suspicion ends), messages sent since the last canary
 *   last_check, last_send: the schedule (sent since the last check: the
 *             second is the later)
 *   last_ok, error, error_since: for staff (spool status)
 *
 * The struct owns its strings; verify_state_free releases them.  Pure
 * apart from load and save.
 */
#ifndef SPOOLD_VERIFY_STATE_H
#define SPOOLD_VERIFY_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "spooldir.h"

#define VERIFY_STATE_FILE "verify"
#define VERIFY_STATE_VERSION 1

struct verify_pending {
	char *name;  /* the job in sent/ */
	char *msgid; /* "<...>" */
	time_t sent;
};

struct verify_state {
	struct verify_pending *pending;
	size_t npending, cpending;
	uint32_t inbox_validity, inbox_uid;
	char canary_id[320]; /* the canary in flight, or "" */
	time_t canary_sent;
	char missing_id[320]; /* the last canary declared missing, or "" */
	time_t missing_sent;
	unsigned since_canary; /* messages sent since the last canary */
	time_t last_canary;
	time_t last_check;
	time_t last_send;
	time_t last_ok;     /* the last pass that could read every mailbox */
	char error[512];    /* why the last pass could not, or "" */
	time_t error_since; /* when that trouble began */
};

/* verify_state_load - state/verify, or an empty state when absent; -1
 * when unreadable (the state is then empty) */
int verify_state_load(struct spooldir *sd, struct verify_state *vs);
/* verify_state_save - durable, atomic */
int verify_state_save(struct spooldir *sd, const struct verify_state *vs);
/* verify_state_add - a sent job to confirm; -1 out of memory */
int verify_state_add(struct verify_state *vs, const char *name, const char *msgid, time_t sent);
/* verify_state_drop - forget pending entry i (the order is kept) */
void verify_state_drop(struct verify_state *vs, size_t i);
/* verify_state_forget - forget the pending entry of job name, if any */
void verify_state_forget(struct verify_state *vs, const char *name);
/* verify_state_free - release everything; the state is empty after */
void verify_state_free(struct verify_state *vs);

#endif
