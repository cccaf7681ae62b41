/*
 * msg - the message for a job: headers and a plain-text body.
 *
 * The interim builder until templates land: From, To, Subject, Date,
 * Message-ID, MIME-Version, a text/plain UTF-8 quoted-printable body,
 * X-Spool-Job and Auto-Submitted.  Every header value from the job is
 * encoded (rfc2047.h) or validated; nothing from the job reaches a header
 * raw.  Lines end in CRLF.  Results are malloc'ed; free() them.
 */
#ifndef SPOOLD_MSG_H
#define SPOOLD_MSG_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "job.h"

#define MSG_ID_MAX 320

/* msg_message_id - "<spoold.NAME@domain>", stable for a job name and unique
 * across names (the name is encoded injectively into dot-atom text) */
char *msg_message_id(const char *name, const char *from, char *buf, size_t len);
/* msg_build - the whole message; *len its length */
char *msg_build(const struct job *j, const struct conf *c, const char *name,
	const char *msgid, time_t now, size_t *len);

#endif
