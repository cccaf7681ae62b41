/*
 * smtp_send - mail transactions on an open SMTP session, and the command
 * and reply primitives that smtp.c uses for EHLO too.
 *
 * smtp_send runs one transaction on the session of smtp.c, opening it
 * first when it is not open; a rejected transaction is RSET and the
 * session kept, a timeout or a drop closes it.  It is smtp_send_start
 * (everything up to the final dot, written but its reply not read) and
 * smtp_send_finish (that reply), which a caller may also call apart to do
 * other work while the server takes the message.  smtp_send_dsn is the same
 * with RFC 3461 parameters when the server offers DSN.  When the server
 * offers PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA go out in one
 * write and their three replies are read after it: one round trip instead
 * of three.  smtp_command writes one command line and smtp_read_reply
 * reads a reply into the session's response_code and response exactly as
 * libetpan's own reader fills them (see smtp.c for why).
 *
 * How it uses libetpan, and why:
 * - DSN: mailesmtp_mail and mailesmtp_rcpt add RET=/ENVID= and NOTIFY=
 *   only when parse_ehlo saw DSN, but write ENVID verbatim: it is encoded
 *   as xtext here (RFC 3461 4.1), and kept within its 100 characters so
 *   the 512-byte command line cannot be cut.
 * - PIPELINING: libetpan only detects it.  The three commands are written
 *   here (the same lines mailesmtp_mail and mailesmtp_rcpt write) with
 *   mailstream_write and one mailstream_flush, and each reply is read with
 *   smtp_read_reply, the timeout applying to each wait.  Each reply is
 *   judged at its own stage: the first refused one is reported verbatim (a
 *   550 at RCPT is stage rcpt, not DATA's "no valid recipients"); the
 *   replies still owed are read, a DATA accepted anyway is ended with a
 *   lone dot and never followed by the message (RFC 2920, 3.1), then RSET.
 *   Without PIPELINING each command waits for its reply as before.
 *   smtp_send_begin may write the group ahead (after the last message's
 *   reply, while the caller files it); smtp_send_start then reads its
 *   replies, after checking that the group it would write is the one
 *   written (s->group), else it drops that connection, so that no message
 *   follows a group made for another, and starts on a new one.
 * - The message: mailsmtp_data_message writes it with mailstream_send_data
 *   and reads the reply at once; smtp_send_start makes the same
 *   mailstream_send_data call and flush, and smtp_send_finish reads the
 *   reply with smtp_read_reply, 250 alone being an acceptance as there.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "smtp.h"
#include "smtp_int.h"

#define MAX_REPLY 65536 /* bytes of one reply; more is treated as a broken server */

/* smtp_read_reply - read one reply into the session's response fields, as libetpan does */
int smtp_read_reply(mailsmtp *ms)
{
	int code = 0, more = 0;
	char *line;
	size_t n;

	mmap_string_assign(ms->response_buffer, "");
	do {
		/* not mailstream_read_line_remove_eol: at the end of the stream it
		 * reads the byte before its buffer (libetpan 1.9.4) */
		line = mailstream_read_line(ms->stream, ms->line_buffer);
		n = line ? ms->line_buffer->len : 0;
		if (n == 0 || line[n - 1] != '\n') { /* end of stream, or a cut line */
			code = 0;
			break;
		}
		line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		ms->line_buffer->len = n;
		if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
		        !isdigit((unsigned char)line[2]) ||
		        (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			mmap_string_append(ms->response_buffer, line);
			code = 0;
			break;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		more = line[3] == '-';
		mmap_string_append(ms->response_buffer, line[3] ? line + 4 : line + 3);
		mmap_string_append_c(ms->response_buffer, '\n');
	} while (more && ms->response_buffer->len < MAX_REPLY);
	if (more)
		code = 0;
	ms->response = ms->response_buffer->str;
	ms->response_code = code;
	return code;
}

/* smtp_command - send one command line, read its reply; the reply code, 0 or -1 */
int smtp_command(mailsmtp *ms, const char *line)
{
	ms->response_code = -1;
	if (mailstream_write(ms->stream, line, strlen(line)) < 0 ||
	        mailstream_flush(ms->stream) < 0)
		return -1;
	return smtp_read_reply(ms);
}

/* bad_address - 1 (r filled) when a is unsafe to hand to libetpan */
static int bad_address(const char *a, const char *what, enum smtp_stage st, struct smtp_reply *r)
{
	size_t i, n = a ? strlen(a) : 0;

	for (i = 0; i < n && (unsigned char)a[i] > ' ' && a[i] != 0x7f && !strchr("<>", a[i]); i++)
		;
	if (n == 0)
		smtp_fail(r, st, F_REFUSED, "the %s address is empty", what);
	else if (n > 254)
		smtp_fail(r, st, F_REFUSED, "the %s address is longer than 254 characters", what);
	else if (i < n)
		smtp_fail(r, st, F_REFUSED,
		        "the %s address contains a forbidden character (0x%02x)", what,
		        (unsigned char)a[i]);
	return n == 0 || n > 254 || i < n;
}

/* xtext - envid as RFC 3461 xtext into buf (chars outside 33..126, '+'
 * and '=' as +XX); 0 ok, -1 when it is empty or longer than ENVID's 100 */
static int xtext(const char *envid, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	unsigned char c;

	for (; *envid; envid++) {
		c = (unsigned char)*envid;
		if (c < 33 || c > 126 || c == '+' || c == '=') {
			if (n + 3 >= size)
				return -1;
			buf[n++] = '+';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		} else {
			if (n + 1 >= size)
				return -1;
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* pipe_read - read the reply to one pipelined command into the session's
 * fields; *t0 is when the wait began (for a timeout's report) */
static int pipe_read(struct smtp *s, long long *t0)
{
	*t0 = smtp_begin(s);
	return smtp_read_reply(s->ms);
}

/* pipe_refused - a refused command of a pipelined group: r holds its reply at
 * stage st; read the replies still owed for the commands sent after it (n of
 * them, DATA last), end a DATA the server accepted anyway with a lone dot
 * (RFC 2920, 3.1), then RSET, or close the session when it broke */
static int pipe_refused(struct smtp *s, struct smtp_reply *r, enum smtp_stage st, int n)
{
	long long t0;
	int code = r->code;

	while (n-- > 0 && code > 0 && code != 421) {
		code = pipe_read(s, &t0);
		if (n == 0 && code == 354)
			code = smtp_command(s->ms, ".\r\n");
	}
	if (code <= 0 || code == 421)
		smtp_drop(s);
	else
		smtp_reset_or_drop(s, r->code, st);
	return -1;
}

/* pipe_group - the MAIL FROM, RCPT TO and DATA lines into buf (the same
 * lines as mailesmtp_mail and mailesmtp_rcpt would write) */
static void pipe_group(
        char *buf, size_t size, const char *from, const char *to, int dsn, const char *xenv)
{
	snprintf(buf, size, "MAIL FROM:<%s>%s%s%s\r\nRCPT TO:<%s>%s\r\nDATA\r\n", from,
	        dsn ? " RET=HDRS" : "", dsn && xenv[0] ? " ENVID=" : "", dsn ? xenv : "", to,
	        dsn ? " NOTIFY=FAILURE,DELAY" : "");
}

/* pipe_write - the group of pipe_group in one write (RFC 2920), kept in
 * s->group; 0, or -1 with r filled and the session closed */
static int pipe_write(struct smtp *s, const char *from, const char *to, int dsn, const char *xenv,
        struct smtp_reply *r)
{
	long long t0;

	pipe_group(s->group, sizeof(s->group), from, to, dsn, xenv);
	t0 = smtp_begin(s);
	if (mailstream_write(s->ms->stream, s->group, strlen(s->group)) < 0 ||
	        mailstream_flush(s->ms->stream) < 0)
		return smtp_step_failed(s, r, STAGE_MAIL, t0);
	return 0;
}

/* pipe_replies - the three replies to pipe_write's group, each judged at
 * its own stage; 0 when DATA got 354 after MAIL and RCPT were accepted,
 * else -1 with r filled for the first refused command (its reply
 * verbatim) and the session RSET or closed */
static int pipe_replies(struct smtp *s, struct smtp_reply *r)
{
	long long t0;
	int code;

	code = pipe_read(s, &t0);
	if (code == 0 || code == 421)
		return smtp_step_failed(s, r, STAGE_MAIL, t0);
	if (code != 250) {
		smtp_copy_reply(s, r, STAGE_MAIL);
		return pipe_refused(s, r, STAGE_MAIL, 2);
	}
	code = pipe_read(s, &t0);
	if (code == 0 || code == 421)
		return smtp_step_failed(s, r, STAGE_RCPT, t0);
	if (code != 250 && code != 251) {
		smtp_copy_reply(s, r, STAGE_RCPT);
		return pipe_refused(s, r, STAGE_RCPT, 1);
	}
	code = pipe_read(s, &t0);
	if (code != 354)
		return smtp_step_failed(s, r, STAGE_DATA, t0);
	return 0;
}

/* envelope - check the addresses and make envid's xtext (empty when it
 * does not fit); 0, or -1 with r filled */
static int envelope(
        const char *from, const char *to, const char *envid, char *xenv, struct smtp_reply *r)
{
	if (bad_address(from, "sender", STAGE_MAIL, r) ||
	        bad_address(to, "recipient", STAGE_RCPT, r))
		return -1;
	/* an envid that does not fit ENVID's 100 characters is left out (the
	 * bounce still names the Message-ID); RET= and NOTIFY= still go */
	if (envid && xtext(envid, xenv, SMTP_ENVID_MAX + 1) < 0)
		xenv[0] = '\0';
	return 0;
}

/* smtp_send - one transaction without DSN parameters */
int smtp_send(struct smtp *s, const char *from, const char *to, const char *msg, size_t len,
        struct smtp_reply *r)
{
	return smtp_send_dsn(s, from, to, NULL, msg, len, r);
}

/* smtp_send_dsn - one transaction: smtp_send_start, then smtp_send_finish */
int smtp_send_dsn(struct smtp *s, const char *from, const char *to, const char *envid,
        const char *msg, size_t len, struct smtp_reply *r)
{
	if (smtp_send_start(s, from, to, envid, msg, len, r) < 0)
		return -1;
	return smtp_send_finish(s, r);
}

/* smtp_send_start - MAIL (with RET=HDRS ENVID= when the server offers DSN
 * and envid is given), RCPT (NOTIFY=FAILURE,DELAY), DATA, the message and
 * the final dot, without waiting for the dot's reply */
int smtp_send_start(struct smtp *s, const char *from, const char *to, const char *envid,
        const char *msg, size_t len, struct smtp_reply *r)
{
	char xenv[SMTP_ENVID_MAX + 1] = "";
	long long t0;
	int reused, tries, dsn = 0, pipe = 0, ret, begun = s->pending == PEND_GROUP;

	if (s->pending == PEND_DOT)
		return smtp_fail(r, STAGE_MAIL, F_REFUSED,
		        "a message on this connection still waits for its reply");
	s->pending = PEND_NONE;
	if (envelope(from, to, envid, xenv, r) < 0) {
		if (begun)
			smtp_drop(s); /* the group went out for nothing: no message follows it */
		return -1;
	}
	/* libetpan always ends the data with CRLF.CRLF: drop one line end of ours */
	if (len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n')
		len -= 2;
	else if (len >= 1 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		len -= 1;
	for (tries = 0;; tries++) {
		reused = smtp_is_open(s);
		if (!reused && smtp_open(s, r) < 0)
			return -1;
		dsn = envid && (s->ms->esmtp & MAILSMTP_ESMTP_DSN);
		if (begun) { /* smtp_send_begin wrote a group: this transaction's? */
			char group[sizeof(s->group)];
			pipe_group(group, sizeof(group), from, to, dsn, xenv);
			if (strcmp(group, s->group)) {
				smtp_drop(s); /* not followed by a message: nothing is sent */
				begun = 0;
				continue;
			}
		}
		if ((pipe = !!(s->ms->esmtp & MAILSMTP_ESMTP_PIPELINING))) {
			/* smtp_send_begin may have written the group already */
			if ((begun || pipe_write(s, from, to, dsn, xenv, r) == 0) &&
			        pipe_replies(s, r) == 0)
				break;
			begun = 0;
			if (!reused || tries > 0 || r->stage != STAGE_MAIL ||
			        (r->code != 0 && r->code != 421))
				return -1;
			continue;
		}
		t0 = smtp_begin(s);
		/* mailesmtp_mail adds RET= and ENVID= only when DSN was offered */
		ret = dsn ? mailesmtp_mail(s->ms, from, 0, xenv[0] ? xenv : NULL)
		          : mailsmtp_mail(s->ms, from);
		if (ret == MAILSMTP_NO_ERROR)
			break;
		smtp_step_failed(s, r, STAGE_MAIL, t0);
		/* a kept connection the server closed while idle: once more on a new one */
		if (!reused || tries > 0 || (r->code != 0 && r->code != 421))
			return -1;
	}
	if (!pipe) {
		t0 = smtp_begin(s);
		ret = dsn ? mailesmtp_rcpt(s->ms, to,
		                    MAILSMTP_DSN_NOTIFY_FAILURE | MAILSMTP_DSN_NOTIFY_DELAY, NULL)
		          : mailsmtp_rcpt(s->ms, to);
		if (ret != MAILSMTP_NO_ERROR)
			return smtp_step_failed(s, r, STAGE_RCPT, t0);
		t0 = smtp_begin(s);
		if (mailsmtp_data(s->ms) != MAILSMTP_NO_ERROR)
			return smtp_step_failed(s, r, STAGE_DATA, t0);
	}
	/* what mailsmtp_data_message writes (dot-stuffed, CRLF.CRLF), without its read */
	mailstream *st = s->ms->stream;
	t0 = smtp_begin(s);
	if (mailstream_send_data(st, msg, len, s->ms->progr_rate, s->ms->progr_fun) < 0 ||
	        mailstream_flush(st) < 0)
		/* the final dot did not get out: nothing can have been accepted */
		return smtp_step_failed(s, r, STAGE_DATA, t0);
	smtp_reply_init(r, STAGE_DATA_END);
	s->pending = PEND_DOT;
	return 0;
}

/* smtp_send_begin - write the pipelined group of the transaction that
 * smtp_send_start will make, on an open session whose previous message
 * is finished */
void smtp_send_begin(struct smtp *s, const char *from, const char *to, const char *envid)
{
	char xenv[SMTP_ENVID_MAX + 1] = "";
	struct smtp_reply r;

	if (s->pending || !smtp_is_open(s) || !(s->ms->esmtp & MAILSMTP_ESMTP_PIPELINING) ||
	        envelope(from, to, envid, xenv, &r) < 0)
		return; /* smtp_send_start does it all, or says what is wrong */
	/* a failed write closes the session: smtp_send_start opens a new one */
	if (pipe_write(s, from, to, envid && (s->ms->esmtp & MAILSMTP_ESMTP_DSN), xenv, &r) == 0)
		s->pending = PEND_GROUP;
}

/* smtp_send_finish - the final dot's reply, waited for with the timeout */
int smtp_send_finish(struct smtp *s, struct smtp_reply *r)
{
	long long t0;

	if (s->pending != PEND_DOT || !s->ms)
		return smtp_fail(r, STAGE_DATA_END, 0, "no message waits for its reply");
	s->pending = PEND_NONE;
	t0 = smtp_begin(s);
	/* only 250 is an acceptance, as for mailsmtp_data_message */
	if (smtp_read_reply(s->ms) != 250)
		return smtp_step_failed(s, r, STAGE_DATA_END, t0);
	smtp_copy_reply(s, r, STAGE_DATA_END);
	return 0;
}
