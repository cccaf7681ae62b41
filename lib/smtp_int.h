/*
 * smtp_int - what smtp.c (the session) and smtp_send.c (the transactions,
 * commands and replies) share; not for callers of smtp.h.
 *
 * A step is one command and its reply: smtp_begin marks "no reply read
 * yet" (response_code -1) and returns the time it started; after it,
 * response_code -1 means nothing was read (a write failed, or a local
 * failure), 0 that the read failed, else the server's code.  A failed
 * step goes to smtp_step_failed, which fills the smtp_reply and keeps the
 * session (RSET after a refused transaction step) or closes it.
 */
#ifndef SPOOLD_SMTP_INT_H
#define SPOOLD_SMTP_INT_H

#include <libetpan/libetpan.h>

#include "smtp.h"

struct smtp {
	const struct relay_conf *rc;
	mailsmtp *ms;     /* NULL when not connected */
	int ready;        /* greeting, EHLO, TLS, AUTH done: transactions may run */
	int pending;      /* PEND_GROUP: smtp_send_begin wrote MAIL, RCPT, DATA;
	                     PEND_DOT: smtp_send_start wrote a final dot; replies unread */
	int timeout;      /* seconds per wait */
	char name[300];   /* host:port */
	char group[1400]; /* the last pipelined MAIL, RCPT and DATA lines written */
};

enum { F_TLS = 1, F_TIMEOUT = 2, F_REFUSED = 4 }; /* flags of smtp_fail() */
enum { PEND_NONE, PEND_GROUP, PEND_DOT };         /* struct smtp's pending */

/* in smtp.c: */
/* smtp_reply_init - an empty reply at stage st */
void smtp_reply_init(struct smtp_reply *r, enum smtp_stage st);
/* smtp_fail - fill r with a local error at stage st and flags F_*; returns -1 */
int smtp_fail(struct smtp_reply *r, enum smtp_stage st, int flags, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* smtp_copy_reply - the session's last reply (code and text) into r at stage st */
void smtp_copy_reply(const struct smtp *s, struct smtp_reply *r, enum smtp_stage st);
/* smtp_now_ms - a monotonic clock in milliseconds */
long long smtp_now_ms(void);
/* smtp_begin - start a step: mark "no reply read yet" and return the start time */
long long smtp_begin(struct smtp *s);
/* smtp_expired - 1 when the step begun at t0 used up the timeout */
int smtp_expired(const struct smtp *s, long long t0);
/* smtp_drop - close the connection without QUIT and free the libetpan session */
void smtp_drop(struct smtp *s);
/* smtp_reset_or_drop - after a refused transaction step: RSET and keep the
 * session, or close it (421, a failed RSET, or before the session was ready) */
void smtp_reset_or_drop(struct smtp *s, int code, enum smtp_stage st);
/* smtp_step_failed - fill r for step st begun at t0; RSET or close the session; -1 */
int smtp_step_failed(struct smtp *s, struct smtp_reply *r, enum smtp_stage st, long long t0);

/* in smtp_send.c: */
/* smtp_read_reply - read one reply into the session's response fields, as
 * libetpan does; the reply code, 0 when none could be read */
int smtp_read_reply(mailsmtp *ms);
/* smtp_command - send one command line, read its reply; the reply code, 0 or -1 */
int smtp_command(mailsmtp *ms, const char *line);

#endif
