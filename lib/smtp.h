/*
 * smtp - the only module that speaks SMTP (through libetpan).
 *
 * One struct smtp is one session to one relay: connect, EHLO, STARTTLS or
 * implicit TLS with the certificate chain and host name verified (libetpan
 * checks nothing by itself), SNI, AUTH PLAIN inside TLS only, then many
 * transactions on the same connection.  Every step has a timeout
 * (relay_conf.timeout).  Each call fills a struct smtp_reply with the stage
 * reached and the server's reply verbatim (or the local error), so the
 * caller can classify it (reply.h) and record it in the job's history.
 * With a server that offers PIPELINING, MAIL, RCPT and DATA go out
 * together; the stage and reply reported are still those of the first
 * command refused.
 *
 * The session owns its libetpan objects; smtp_free releases them.  The
 * caller must ignore SIGPIPE (libetpan writes with send() without
 * MSG_NOSIGNAL).  Not thread-safe; one session per thread.
 *
 * refused is set when spoold itself refused a step before the server saw
 * it: an unsafe address (stage mail or rcpt), AUTH configured with tls =
 * none, no AUTH PLAIN/LOGIN offered, no password, a bad EHLO name.  The
 * job or the settings must change; reply_classify maps it accordingly.
 */
#ifndef SPOOLD_SMTP_H
#define SPOOLD_SMTP_H

#include <stddef.h>

#include "conf.h"

enum smtp_stage {
	STAGE_CONNECT,
	STAGE_EHLO,
	STAGE_STARTTLS,
	STAGE_AUTH,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA,
	STAGE_DATA_END,
};

struct smtp_reply {
	enum smtp_stage stage; /* where the session got to */
	int code;        /* the server's reply code; 0 when none (local error, timeout, drop) */
	int tls_error;   /* 1 when TLS negotiation or certificate verification failed */
	int timeout;     /* 1 when the step timed out */
	int refused;     /* 1 when spoold refused the step itself: retrying cannot help */
	char text[2048]; /* the reply text verbatim (lines joined by \n), or the local error */
};

struct smtp;

#define SMTP_ENVID_MAX 100 /* RFC 3461: characters of ENVID's xtext */

/* smtp_new - a session for relay rc (rc must outlive the session) */
struct smtp *smtp_new(const struct relay_conf *rc);
/* smtp_open - connect, EHLO, TLS and verification, AUTH; 0 ok, -1 with r filled */
int smtp_open(struct smtp *s, struct smtp_reply *r);
/* smtp_is_open - 1 when the session is connected and usable */
int smtp_is_open(const struct smtp *s);
/* smtp_send - one transaction; 0 when the server accepted (2xx after the
 * final dot), -1 with r filled.  Opens the session if needed.  After a
 * rejected transaction the session is reset and stays usable; after a
 * timeout or a drop it is closed. */
int smtp_send(struct smtp *s, const char *from, const char *to, const char *msg, size_t len,
        struct smtp_reply *r);
/* smtp_send_dsn - smtp_send asking for RFC 3461 delivery status
 * notifications: when envid is not NULL and the server offered DSN in its
 * EHLO reply, MAIL FROM carries RET=HDRS ENVID=<envid as xtext> and RCPT
 * TO carries NOTIFY=FAILURE,DELAY, so a bounce comes back with only the
 * headers and Original-Envelope-Id: envid.  An envid whose xtext is empty
 * or longer than SMTP_ENVID_MAX is left out (RET= and NOTIFY= still go).
 * Without DSN offered, or with envid NULL, exactly what smtp_send sends. */
int smtp_send_dsn(struct smtp *s, const char *from, const char *to, const char *envid,
        const char *msg, size_t len, struct smtp_reply *r);
/* smtp_send_start - smtp_send_dsn up to the message and its final dot,
 * written without waiting for the server's reply to the dot: 0 when
 * they went out (the session then waits for smtp_send_finish and must
 * not be used otherwise), -1 with r filled as smtp_send_dsn fills it */
int smtp_send_start(struct smtp *s, const char *from, const char *to, const char *envid,
        const char *msg, size_t len, struct smtp_reply *r);
/* smtp_send_begin - on an open session with PIPELINING and nothing
 * pending, write the MAIL, RCPT and DATA of the transaction that
 * smtp_send_start will make with the same from, to and envid, so that the
 * server answers them while the caller does other work; smtp_send_start
 * then reads their replies (and, when they show that the connection had
 * closed, makes the transaction on a new one as usual).  Otherwise it
 * does nothing: smtp_send_start does it all.  Only smtp_send_start (or
 * smtp_close, which then drops the connection: no message follows) may
 * come next on the session. */
void smtp_send_begin(struct smtp *s, const char *from, const char *to, const char *envid);
/* smtp_send_finish - the reply to smtp_send_start's final dot, with the
 * session's timeout from this call on: 0 when it is 250, else -1 with r
 * filled exactly as smtp_send_dsn fills it (a timeout or a drop here is
 * stage data-end, code 0: the server may have accepted the message) */
int smtp_send_finish(struct smtp *s, struct smtp_reply *r);
/* smtp_close - QUIT when the session is healthy, else just drop it */
void smtp_close(struct smtp *s);
/* smtp_free - close and release */
void smtp_free(struct smtp *s);
/* smtp_relay_name - "host:port" */
const char *smtp_relay_name(const struct smtp *s);
/* smtp_stage_name - "connect", "ehlo", ..., "data-end" */
const char *smtp_stage_name(enum smtp_stage st);

#endif
