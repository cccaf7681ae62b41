/*
 * msg - the interim message builder; see msg.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "msg.h"
#include "rfc2047.h"
#include "timefmt.h"

struct mbuf {
	char *s;
	size_t len, cap;
};

/* mb_printf - append formatted text */
static void mb_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->s && b->len + (size_t)n < b->cap)
			break;
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s)
			abort();
		b->s = s;
		b->cap = cap;
	}
	b->len += (size_t)n;
}

/* msg_message_id - stable, unique, dot-atom-safe */
char *msg_message_id(const char *name, const char *from, char *buf, size_t len)
{
	const char *dom = from ? strrchr(from, '@') : NULL;
	char left[3 * 256];
	size_t o = 0;

	for (const char *p = name; *p && o + 4 < sizeof left; p++) {
		int last_dot = o > 0 && left[o - 1] == '.';
		if (*p == ':' || *p == ',' || *p == '=' || (*p == '.' && (last_dot || !p[1])))
			o += (size_t)snprintf(
			        left + o, sizeof left - o, "=%02X", (unsigned char)*p);
		else
			left[o++] = *p;
	}
	left[o] = '\0';
	snprintf(buf, len, "<spoold.%s@%s>", left, dom ? dom + 1 : "localhost");
	return buf;
}

/* qp_body - quoted-printable of UTF-8 text with LF line ends, CRLF out */
static void qp_body(struct mbuf *b, const char *text)
{
	size_t col = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n') {
			mb_printf(b, "\r\n");
			col = 0;
			continue;
		}
		int trailing_ws = (*p == ' ' || *p == '\t') && (p[1] == '\n' || !p[1]);
		int plain = *p >= 33 && *p <= 126 && *p != '=';
		size_t w = plain || ((*p == ' ' || *p == '\t') && !trailing_ws) ? 1 : 3;
		if (col + w > 75) {
			mb_printf(b, "=\r\n");
			col = 0;
		}
		if (w == 1)
			mb_printf(b, "%c", *p);
		else
			mb_printf(b, "=%02X", *p);
		col += w;
	}
	if (col)
		mb_printf(b, "\r\n");
}

/* appt_when - "2026-12-01 at 09:30" in the appointment's own offset */
static void appt_when(const struct job *j, char *buf, size_t len)
{
	time_t t = j->appt_start + (time_t)j->appt_offset * 60;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%A, %B %d, %Y at %H:%M", &tm);
}

/* body_text - the plain-text body (LF line ends) */
static char *body_text(const struct job *j)
{
	struct mbuf b = {0};
	const char *first = job_get_str(j, "patient.first_name");
	const char *practice = job_get_str(j, "practice.name");
	const char *phone = job_get_str(j, "practice.phone");
	const char *prov = job_get_str(j, "appointment.provider");
	const char *loc = job_get_str(j, "appointment.location");
	char when[96];

	mb_printf(&b, "Hello%s%s,\n\n", first ? " " : "", first ? first : "");
	if (j->appt_start) {
		appt_when(j, when, sizeof when);
		mb_printf(&b, "This is a reminder of your appointment%s%s\non %s%s%s.\n\n",
		        prov ? " with " : "", prov ? prov : "", when, loc ? ", at " : "",
		        loc ? loc : "");
	} else if (!strcmp(j->kind, "recall")) {
		mb_printf(&b, "It is time to schedule your next visit%s%s.\n\n",
		        practice ? " with " : "", practice ? practice : "");
	} else {
		mb_printf(&b, "You have a message from %s.\n\n",
		        practice ? practice : "your practice");
	}
	if (phone)
		mb_printf(&b, "To cancel or reschedule, please call %s at %s.\n",
		        practice ? practice : "us", phone);
	if (practice)
		mb_printf(&b, "\n%s\n", practice);
	return b.s;
}

/* subject_text - the interim subject line */
static void subject_text(const struct job *j, char *buf, size_t len)
{
	const char *practice = job_get_str(j, "practice.name");

	if (!strcmp(j->kind, "reminder"))
		snprintf(buf, len, "Appointment reminder%s%s", practice ? " from " : "",
		        practice ? practice : "");
	else if (!strcmp(j->kind, "recall"))
		snprintf(buf, len, "Time to schedule your next visit%s%s", practice ? " with " : "",
		        practice ? practice : "");
	else
		snprintf(buf, len, "A message from %s", practice ? practice : "your practice");
}

/* add_address - "Name: phrase <addr>" or "Name: addr" */
static void add_address(struct mbuf *b, const char *hdr, const char *name, const char *addr)
{
	char *phrase = name && *name ? rfc2047_phrase(name, strlen(hdr) + 2) : NULL;

	if (phrase && *phrase && !strchr(phrase, '\n') &&
		strlen(hdr) + strlen(phrase) + strlen(addr) + 5 <= 78)
		mb_printf(b, "%s: %s <%s>\r\n", hdr, phrase, addr);
	else if (phrase && *phrase)
		mb_printf(b, "%s: %s\r\n <%s>\r\n", hdr, phrase, addr);
	else
		mb_printf(b, "%s: <%s>\r\n", hdr, addr);
	free(phrase);
}

/* msg_build - the whole message */
char *msg_build(const struct job *j, const struct conf *c, const char *name, const char *msgid,
        time_t now, size_t *len)
{
	struct mbuf b = {0};
	char subject[512], date[TIMEFMT_MAX], *subj, *body;

	add_address(&b, "From", c->relay.from_name, c->relay.from ? c->relay.from : "");
	add_address(&b, "To", j->to_name, j->to_email);
	subject_text(j, subject, sizeof subject);
	subj = rfc2047_text(subject, 9);
	mb_printf(&b, "Subject: %s\r\n", subj);
	free(subj);
	mb_printf(&b, "Date: %s\r\n", rfc5322_date(now, date, sizeof date));
	mb_printf(&b, "Message-ID: %s\r\n", msgid);
	mb_printf(&b, "MIME-Version: 1.0\r\n");
	mb_printf(&b, "Content-Type: text/plain; charset=utf-8\r\n");
	mb_printf(&b, "Content-Transfer-Encoding: quoted-printable\r\n");
	mb_printf(&b, "X-Spool-Job: %s\r\n", name);
	mb_printf(&b, "Auto-Submitted: auto-generated\r\n\r\n");
	body = body_text(j);
	qp_body(&b, body);
	free(body);
	*len = b.len;
	return b.s;
}
