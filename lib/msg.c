/*
 * msg - a job's Message-ID and message; see msg.h.
 *
 * The order of work: template data, templates, the calendar event, then
 * headers and parts.  The Date is the send time in the practice's zone.
 */
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datefmt.h"
#include "ics.h"
#include "mime.h"
#include "msg.h"
#include "pid.h"
#include "qp.h"
#include "rfc2047.h"
#include "timefmt.h"
#include "tmplset.h"

/* msg_wants_ics - reminders with an appointment, when message.ics is set */
int msg_wants_ics(const struct job *j, const struct conf *c)
{
	return c->message.ics && j->appt_start && !strcmp(j->kind, "reminder");
}

/* msg_build - the whole message */
char *msg_build(const struct job *j, const struct conf *c, const char *name, const char *msgid,
        time_t now, size_t *len, char *err, size_t errlen)
{
	char date[TIMEFMT_MAX], mailto[TMPLSET_URI_MAX], url[TMPLSET_URI_MAX];
	struct tmplset t = {0};
	struct mime_msg m = {0};
	char *ics = NULL, *msg = NULL;
	int want_ics = msg_wants_ics(j, c);
	json_t *data;

	*len = 0;
	if (!c->relay.from) {
		snprintf(err, errlen, "relay.from is not set in the configuration");
		return NULL;
	}
	if (!datefmt_zone_known(c->timezone)) {
		snprintf(err, errlen, "timezone \"%s\" is not a time zone this system knows",
		        c->timezone);
		return NULL;
	}
	if (!(data = tmplset_data(j, c, now, want_ics, err, errlen)))
		return NULL;
	if (tmplset_render(j, c, data, &t, err, errlen) < 0)
		goto done;
	if (want_ics && !(ics = ics_event(j, c, now, err, errlen)))
		goto done;
	m.from_name = c->relay.from_name;
	m.from = c->relay.from;
	m.to_name = j->to_name;
	m.to = j->to_email;
	m.subject = t.subject;
	m.date = datefmt_rfc5322(now, c->timezone, date, sizeof date);
	m.msgid = msgid;
	m.job = name;
	if (!strcmp(j->kind, "recall")) {
		(void)tmplset_unsubscribe(
		        c, mailto, sizeof mailto, url, sizeof url); /* fit above */
		m.unsub_mailto = mailto;
		m.unsub_url = url;
	}
	m.text = t.text;
	m.html = t.html;
	m.ics = ics;
	msg = mime_build(&m, len, err, errlen);
done:
	free(ics);
	tmplset_free(&t);
	json_decref(data);
	return msg;
}

/* msg_plain - a short plain-text message */
char *msg_plain(const struct relay_conf *rc, const char *to, const char *subject, const char *body,
        const char *extra, const char *id, time_t now, size_t *len)
{
	char date[TIMEFMT_MAX], msgid[MSG_ID_MAX], name[96], *subj, *phrase = NULL, *out = NULL;
	static unsigned seq;
	FILE *fp = open_memstream(&out, len);

	if (!fp)
		return NULL;
	snprintf(name, sizeof name, "note.%lld.%ld.%u", (long long)now, (long)pid_self(), ++seq);
	if (id)
		snprintf(msgid, sizeof msgid, "%s", id);
	else
		msg_message_id(name, rc->from, msgid, sizeof msgid);
	if (rc->from_name && *rc->from_name)
		phrase = rfc2047_phrase(rc->from_name, 6);
	fprintf(fp, "From: %s%s<%s>\r\n", phrase ? phrase : "", phrase ? " " : "",
	        rc->from ? rc->from : "");
	fprintf(fp, "To: <%s>\r\n", to);
	subj = rfc2047_text(subject, 9);
	fprintf(fp, "Subject: %s\r\n", subj ? subj : "");
	fprintf(fp, "Date: %s\r\n", rfc5322_date(now, date, sizeof date));
	fprintf(fp, "Message-ID: %s\r\n", msgid);
	fputs("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	      "Content-Transfer-Encoding: quoted-printable\r\nAuto-Submitted: auto-generated\r\n",
	        fp);
	if (extra)
		fprintf(fp, "%s\r\n", extra);
	fputs("\r\n", fp);
	size_t qlen;
	char *q = qp_encode(body, strlen(body), &qlen);
	int encoded = q != NULL;
	if (q)
		fwrite(q, 1, qlen, fp);
	free(q);
	free(subj);
	free(phrase);
	if (fclose(fp) != 0 || !encoded) {
		free(out);
		return NULL;
	}
	return out;
}
