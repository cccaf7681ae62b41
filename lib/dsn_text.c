/*
 * dsn_text - the reading of bounces that are not RFC 3464 reports (and of
 * the human-readable part of a report that lacks a field).
 *
 * A non-standard bounce is a message from a mail system whose subject
 * says a message was not delivered ("Undeliverable:", "failure notice",
 * ...), or whose text does when the sender is a mail system by name (a
 * MAILER-DAEMON, postmaster or MicrosoftExchange... address, or "Mail
 * Delivery System", "Microsoft Outlook" and the like) rather than only by
 * its null Return-Path, which auto-replies share.  Auto-replies ("Automatic
 * reply:", "Out of office") and mail from people never qualify, whatever
 * their words.  Its text is then read with
 * the layouts the common systems use, first that applies:
 *   Exchange/Outlook   "... <addr> Remote Server returned '550 5.1.1 ...'"
 *   qmail, Yahoo,      a line "<addr>:" (or "<addr>: text"), then the
 *   Postfix text       diagnostic up to a blank line
 *   Exim               "The following address(es) failed:" addr, lines
 *   sendmail           "... permanent fatal errors -----" addr, "(reason: ...)"
 *   Gmail              "wasn't delivered to addr", "The response ... was:"
 *   any                X-Failed-Recipients, an address after "recipient",
 *                      "address", "delivered to"; the first line with an
 *                      enhanced status code, else a reply code
 * The status is the diagnostic's enhanced code, else "5.0.0" or "4.0.0"
 * from its reply code, else "".  The kind is DSN_DELAY when the subject or
 * the text says the message is delayed and will be retried, else
 * DSN_BOUNCE.  Every scan is linear in the text (at most DSN_TEXT_MAX);
 * the text is the plain text parts, else the HTML ones as text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn_int.h"

#define ANY(list, s) any(list, sizeof(list) / sizeof(list[0]), s)

static const char *const daemons[] = {"mailer-daemon", "mailer_daemon", "mailerdaemon",
        "mail-daemon", "postmaster", "microsoftexchange", "mail.delivery", "maildelivery"};
static const char *const system_names[] = {"mail delivery system", "mail delivery subsystem",
        "mail delivery service", "mailer-daemon", "microsoft outlook", "postmaster",
        "mail administrator", "microsoft exchange"};
static const char *const bounce_subjects[] = {"undeliverable", "undelivered mail", "returned mail",
        "delivery status notification", "failure notice", "delivery failure", "delivery failed",
        "non-delivery", "nondelivery", "not delivered", "could not be delivered",
        "delivery has failed", "mail delivery", "delayed mail", "delivery delayed",
        "warning: could not send message", "message delayed"};
static const char *const delay_subjects[] = {"(delay)", "delayed mail", "delivery delayed",
        "warning: could not send message", "message delayed", "delay notification",
        "still being retried"};
static const char *const bounce_words[] = {"remote server returned", "qmail-send program",
        "unable to deliver your message", "delivery has failed", "couldn't be delivered",
        "could not be delivered", "wasn't delivered", "was not delivered", "address(es) failed",
        "permanent fatal errors", "permanent error", "undeliverable",
        "transcript of session follows", "returned to sender", "not yet been delivered",
        "not been delivered", "delivery to the following recipient"};
static const char *const delay_words[] = {"not yet been delivered", "not been delivered yet",
        "will continue to try", "will keep trying", "will retry", "still trying",
        "delivery is delayed", "delivery delayed", "delayed mail", "will be retried",
        "still being retried"};
static const char *const give_up_words[] = {"given up", "giving up", "permanent error",
        "permanent fatal", "will not be retried", "no further attempts", "has failed",
        "could not be delivered to one or more"};
static const char *const auto_replies[] = {"automatic reply", "auto reply", "auto-reply",
        "autoreply", "auto:", "out of office", "out of the office", "away from the office",
        "vacation"};
static const char *const rcpt_markers[] = {"recipients or groups:", "following recipient",
        "following address", "could not be delivered to", "wasn't delivered to", "your message to",
        "delivered to", "recipient:", "original recipient"};

/* any - 1 when one of the n phrases occurs in s (NUL-terminated) */
static int any(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (strstr(s, list[i]))
			return 1;
	return 0;
}

/* line_end - the index after the line at s[i..n) (its '\n' included) */
static size_t line_end(const char *s, size_t n, size_t i)
{
	const char *nl = memchr(s + i, '\n', n - i);

	return nl ? (size_t)(nl - s) + 1 : n;
}

/* paragraph - s[i..) up to a blank line or a "---" line, at most max bytes, into out */
static void paragraph(const char *s, size_t n, size_t i, size_t max, char *out, size_t size)
{
	size_t j = i, e;

	while (j < n && j - i < max) {
		e = line_end(s, n, j);
		if (j > i && (s[j + strspn(s + j, " \t\r")] == '\n' || !strncmp(s + j, "---", 3)))
			break;
		j = e;
	}
	dsn_copy(out, size, s + i, j - i);
}

/* find - the position of needle (lower case) in c->ltext from i, or c->text_len */
static size_t find(const struct dsn_ctx *c, size_t i, const char *needle)
{
	const char *p = i < c->text_len ? strstr(c->ltext + i, needle) : NULL;

	return p ? (size_t)(p - c->ltext) : c->text_len;
}

/* angle_line - a line "<addr>:" from the start: 1 with the address and
 * the paragraph after the colon */
static int angle_line(const struct dsn_ctx *c, struct dsn *d)
{
	const char *s = c->text, *gt;
	size_t n = c->text_len, i = 0, j, e;

	for (; i < n; i = e) {
		e = line_end(s, n, i);
		j = i + strspn(s + i, " \t");
		if (j >= e || s[j] != '<')
			continue;
		gt = memchr(s + j, '>', e - j);
		if (!gt || gt[1] != ':' ||
		        !dsn_addr(s + j, (size_t)(gt - s) - j, NULL, d->recipient,
		                sizeof(d->recipient)))
			continue;
		paragraph(s, n, (size_t)(gt - s) + 2, 4096, d->diagnostic, sizeof(d->diagnostic));
		return 1;
	}
	return 0;
}

/* extract - the recipient, diagnostic and status the text gives, into d */
static void extract(const struct dsn_ctx *c, struct dsn *d)
{
	const char *s = c->text;
	size_t n = c->text_len, p, q, e;
	int code;

	if (s == NULL)
		n = 0;
	if ((p = find(c, 0, "remote server returned")) < n) { /* Exchange */
		q = p + strlen("remote server returned");
		q += strspn(s + q, " \t'\"");
		e = line_end(s, n, q);
		dsn_copy(d->diagnostic, sizeof(d->diagnostic), s + q, e - q);
		q = strlen(d->diagnostic);
		while (q > 0 && (d->diagnostic[q - 1] == '\'' || d->diagnostic[q - 1] == '"'))
			d->diagnostic[--q] = '\0';
		dsn_addr_last(s + (p > 600 ? p - 600 : 0), p > 600 ? 600 : p, c->from, d->recipient,
		        sizeof(d->recipient));
	} else if (n && angle_line(c, d)) {                       /* qmail, Yahoo, Postfix */
	} else if ((p = find(c, 0, "address(es) failed:")) < n) { /* Exim */
		p = line_end(s, n, p);
		p += strspn(s + p, " \t\r\n");
		e = line_end(s, n, p);
		dsn_addr(s + p, e - p, NULL, d->recipient, sizeof(d->recipient));
		paragraph(s, n, e, 4096, d->diagnostic, sizeof(d->diagnostic));
	} else if ((p = find(c, 0, "permanent fatal errors")) < n) { /* sendmail */
		p = line_end(s, n, p);
		dsn_addr(s + p, line_end(s, n, p) - p, NULL, d->recipient, sizeof(d->recipient));
		if ((q = find(c, p, "(reason:")) < n) {
			q += strlen("(reason:");
			e = line_end(s, n, q);
			dsn_copy(d->diagnostic, sizeof(d->diagnostic), s + q, e - q);
			e = strlen(d->diagnostic);
			if (e > 0 && d->diagnostic[e - 1] == ')')
				d->diagnostic[e - 1] = '\0';
		}
	} else if ((p = find(c, 0, "wasn't delivered to")) < n) { /* Gmail */
		dsn_addr(s + p, line_end(s, n, p) - p, c->from, d->recipient, sizeof(d->recipient));
		q = find(c, p, "the response from the remote server was:");
		if (q == n)
			q = find(c, p, "the response was:");
		if (q < n) {
			q = line_end(s, n, q);
			q += strspn(s + q, " \t\r\n");
			paragraph(s, n, q, 2048, d->diagnostic, sizeof(d->diagnostic));
		}
	}
	if (!d->recipient[0] && c->failed_rcpt[0])
		snprintf(d->recipient, sizeof(d->recipient), "%s", c->failed_rcpt);
	for (size_t k = 0;
	        !d->recipient[0] && n && k < sizeof(rcpt_markers) / sizeof(*rcpt_markers); k++)
		if ((p = find(c, 0, rcpt_markers[k])) < n)
			dsn_addr(s + p, n - p < 400 ? n - p : 400, c->from, d->recipient,
			        sizeof(d->recipient));
	if (!d->diagnostic[0] && n) { /* the first line with a status, else a reply code */
		for (p = 0; p < n && !dsn_status(s + p, line_end(s, n, p) - p, NULL, 0);)
			p = line_end(s, n, p);
		for (q = 0; p == n && q < n && !dsn_code(s + q, line_end(s, n, q) - q);)
			q = line_end(s, n, q);
		p = p < n ? p : q;
		if (p < n)
			dsn_copy(
			        d->diagnostic, sizeof(d->diagnostic), s + p, line_end(s, n, p) - p);
	}
	if (!dsn_status(d->diagnostic, strlen(d->diagnostic), d->status, sizeof(d->status)) &&
	        (code = dsn_code(d->diagnostic, strlen(d->diagnostic))) != 0)
		snprintf(d->status, sizeof(d->status), "%d.0.0", code / 100);
}

/* mail_system - 2 when the message comes from a mail system by name, 1
 * with only a null Return-Path (auto-replies have that too), 0 */
static int mail_system(const struct dsn_ctx *c)
{
	char name[sizeof(c->from_name)];
	size_t i;

	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
		if (!strncasecmp(c->from, daemons[i], strlen(daemons[i])))
			return 2;
	dsn_norm(name, sizeof(name), c->from_name);
	for (i = 0; i < sizeof(system_names) / sizeof(system_names[0]); i++)
		if (!strcmp(name, system_names[i]))
			return 2;
	return c->null_sender;
}

/* dsn_text_bounce - a non-standard bounce: a mail system's message whose
 * subject (or, from a mail system by name, text) says so; never an
 * auto-reply */
int dsn_text_bounce(const struct dsn_ctx *c, struct dsn *out)
{
	int sys = mail_system(c), delay;

	if (sys == 0 || ANY(auto_replies, c->lsubject))
		return 0;
	if (!ANY(bounce_subjects, c->lsubject) && (sys < 2 || !ANY(bounce_words, c->norm)))
		return 0;
	memset(out, 0, sizeof(*out));
	extract(c, out);
	delay = ANY(delay_subjects, c->lsubject) ||
	        (out->status[0] != '5' && ANY(delay_words, c->norm) &&
	                !ANY(give_up_words, c->norm));
	out->kind = delay ? DSN_DELAY : DSN_BOUNCE;
	return 1;
}

/* dsn_text_fill - what an RFC 3464 report lacks, from its text */
void dsn_text_fill(const struct dsn_ctx *c, struct dsn *out)
{
	struct dsn t;

	if (out->recipient[0] && out->status[0] && out->diagnostic[0])
		return;
	memset(&t, 0, sizeof(t));
	extract(c, &t);
	if (!out->recipient[0])
		memcpy(out->recipient, t.recipient, sizeof(t.recipient));
	if (!out->status[0])
		memcpy(out->status, t.status, sizeof(t.status));
	if (!out->diagnostic[0])
		memcpy(out->diagnostic, t.diagnostic, sizeof(t.diagnostic));
}
