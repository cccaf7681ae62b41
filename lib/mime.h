/*
 * mime - the message as it goes on the wire: headers and MIME parts.
 *
 * The top-level headers are written here (libetpan writes address fields
 * raw and half-hour zones wrong): From, To, Subject, Date, Message-ID,
 * X-Spool-Job, Auto-Submitted, List-Unsubscribe (+ List-Unsubscribe-Post
 * with an https URL, RFC 8058), MIME-Version.  Text from the job reaches a
 * header only through rfc2047.h; addresses are checked with addr_valid.
 * The body is built with libetpan's mailmime API: text/plain alone, or
 * multipart/alternative (text/plain, text/html), each UTF-8 and
 * quoted-printable; with an iCalendar event, multipart/mixed of that and a
 * base64 text/calendar; method=PUBLISH part named appointment.ics.  Text
 * parts are canonical: line ends CRLF (a CR or LF alone included), no
 * space or tab before a line end, a line end at the end.
 * Boundaries contain "=_", which neither quoted-printable nor base64 can
 * produce, so no content can end a part.  Lines end in CRLF; the message
 * ends with CRLF; the header section is checked before it is returned
 * (ASCII only, no bare CR or LF, lines of at most 998 characters).
 */
#ifndef SPOOLD_MIME_H
#define SPOOLD_MIME_H

#include <stddef.h>

/* What one message is made of; every string UTF-8, NULL where optional. */
struct mime_msg {
	const char *from_name;    /* display name of From, or NULL */
	const char *from;         /* From address (required) */
	const char *to_name;      /* display name of To, or NULL */
	const char *to;           /* To address (required) */
	const char *subject;      /* one line */
	const char *date;         /* an RFC 5322 date */
	const char *msgid;        /* "<...>" */
	const char *job;          /* X-Spool-Job: the job's name */
	const char *unsub_mailto; /* a mailto: URI for List-Unsubscribe, or NULL */
	const char *unsub_url;    /* an https: URI for List-Unsubscribe, or NULL */
	const char *text;         /* the text/plain body (required) */
	const char *html;         /* the text/html body, or NULL */
	const char *ics;          /* the text/calendar part, or NULL */
};

/* mime_build - the whole message, malloc'ed, *len its length; NULL with
 * the reason in err */
char *mime_build(const struct mime_msg *m, size_t *len, char *err, size_t errlen);
/* mime_header_check - 0 when the header section of msg is clean (printable
 * ASCII, CRLF line ends, folded lines start with white space, no line over
 * 998); else -1 with what is wrong in err */
int mime_header_check(const char *msg, size_t len, char *err, size_t errlen);

#endif
