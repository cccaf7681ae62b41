/*
 * msg - the message for a job: its Message-ID, and the whole message.
 *
 * msg_build renders the job's templates (tmplset.h) with the job's data
 * and the derived date fields (datefmt.h), adds an iCalendar event to
 * reminders when message.ics is set (ics.h), and assembles headers and
 * MIME parts (mime.h).  Every header value from the job is encoded
 * (rfc2047.h) or validated; nothing from the job reaches a header raw.
 * Lines end in CRLF.  Results are malloc'ed; free() them.
 */
#ifndef SPOOLD_MSG_H
#define SPOOLD_MSG_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "job.h"
#include "msgid.h"

#define MSG_ERR_MAX 2048 /* room for a missing template's list of paths */

/* msg_wants_ics - 1 when the job's message carries an iCalendar event */
int msg_wants_ics(const struct job *j, const struct conf *c);
/* msg_build - the whole message as sent at now, *len its length; NULL with
 * the reason in err (a missing or broken template, an unknown time zone) */
char *msg_build(const struct job *j, const struct conf *c, const char *name, const char *msgid,
        time_t now, size_t *len, char *err, size_t errlen);

/* msg_plain - a short plain-text message from relay rc's sender to to
 * (probes, tests, alerts): From, To, Subject (encoded when needed), Date,
 * Message-ID, MIME-Version, text/plain UTF-8 quoted-printable,
 * Auto-Submitted: auto-generated, plus extra (a header line without CRLF,
 * or NULL).  msgid NULL: a fresh one.  The body's lines end in LF or CRLF. */
char *msg_plain(const struct relay_conf *rc, const char *to, const char *subject, const char *body,
        const char *extra, const char *msgid, time_t now, size_t *len);

#endif
