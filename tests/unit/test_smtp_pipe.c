/*
 * test_smtp_pipe - smtp_send_dsn with PIPELINING (RFC 2920) against a
 * scripted server forked here: MAIL FROM, RCPT TO and DATA arrive in one
 * group (the server answers none of them before it has all three, so an
 * unpipelined client would time out); a refusal at MAIL or RCPT is reported
 * at that stage with its reply verbatim, no message follows it (a DATA the
 * server accepted anyway is ended with a lone dot), the session is RSET and
 * the next transaction goes on the same connection; DSN parameters are
 * written as libetpan writes them.  smtp_send_start returns with the final
 * dot's reply unread (the server holds it back until the test lets it go)
 * and smtp_send_finish reads it; a drop or a timeout there is stage
 * data-end with no code: the server may have the message.  A group that
 * smtp_send_begin wrote ahead is answered to smtp_send_start; closed
 * instead, or begun for another envelope, no message follows it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "smtp.h"
#include "server_fixture.h"

static const char msg[] = "From: clinic@example.com\r\n"
                          "To: patient@example.org\r\n"
                          "Subject: Your appointment\r\n"
                          "\r\n"
                          "See you on Monday.\r\n";

/* How the forked server answers. */
struct script {
	const char *mail; /* reply to MAIL FROM */
	const char *rcpt; /* reply to RCPT TO */
	const char *data; /* reply to DATA */
	const char *dot;  /* reply after the message (or a lone dot) */
	int dsn;          /* offer DSN */
	int hold;         /* first message: 1 answer the dot once go[] has a byte,
	                     2 close the connection instead of answering */
};

static int logfd = -1;       /* the server writes what it read here (a pipe) */
static int go[2] = {-1, -1}; /* the test lets the held reply go (a pipe) */

/* read_line - one line from fd (without CRLF) into buf; -1 at the end */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			if (n > 0 && buf[n - 1] == '\r')
				n--;
			buf[n] = '\0';
			return 0;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	return -1;
}

/* say - write a reply line (CRLF added) */
static void say(int fd, const char *line)
{
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\r\n", 2) < 0)
		_exit(3);
}

/* note - log what the server saw: one line per event */
static void note(const char *what, const char *line)
{
	char out[1200];
	int n = snprintf(out, sizeof out, "%s %s\n", what, line);

	if (write(logfd, out, (size_t)n) < 0)
		_exit(3);
}

/* serve - the scripted server on one connection, two transactions at most */
static void serve(int c, const struct script *sc)
{
	char line[1024], rcpt[1024], data[1024];

	say(c, "220 pipe.test ESMTP");
	if (read_line(c, line, sizeof line) < 0)
		return;
	say(c, sc->dsn ? "250-pipe.test\r\n250-PIPELINING\r\n250 DSN"
	               : "250-pipe.test\r\n250 PIPELINING");
	for (int t = 0; t < 2; t++) {
		if (read_line(c, line, sizeof line) < 0 || strncmp(line, "MAIL", 4))
			return;
		note("mail", line);
		/* all three before any reply: a client waiting for 250 hangs */
		if (read_line(c, rcpt, sizeof rcpt) < 0 || read_line(c, data, sizeof data) < 0)
			return;
		note("rcpt", rcpt);
		note("data", data);
		say(c, t ? "250 2.1.0 Ok" : sc->mail);
		say(c, t ? "250 2.1.5 Ok" : sc->rcpt);
		const char *dr = t ? "354 go ahead" : sc->data;
		say(c, dr);
		if (!strncmp(dr, "354", 3)) {
			int lines = 0, rc;
			while ((rc = read_line(c, line, sizeof line)) == 0 && strcmp(line, "."))
				lines++;
			if (rc < 0)
				return; /* the client went: no message */
			snprintf(line, sizeof line, "%d", lines);
			note("body", line);
			char g;
			if (!t && (sc->hold == 2 || (sc->hold == 1 && read(go[0], &g, 1) != 1)))
				return;
			say(c, t ? "250 2.0.0 Ok: queued" : sc->dot);
		}
		if (!t && strncmp(sc->dot, "250", 3) == 0 && !strncmp(sc->data, "354", 3) &&
		        !strncmp(sc->rcpt, "250", 3) && !strncmp(sc->mail, "250", 3))
			continue; /* accepted: no RSET expected */
		if (!t) {
			if (read_line(c, line, sizeof line) < 0)
				return;
			note("after", line);
			say(c, "250 2.0.0 Ok");
		}
	}
	if (read_line(c, line, sizeof line) == 0)
		note("end", line);
}

/* server_start - fork the server on a free port; *log is the read end of its log */
static pid_t server_start(const struct script *sc, int *port, int *log)
{
	int s = listen_local(1, port), p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (go[1] >= 0)
			close(go[1]);
		logfd = p[1];
		alarm(20);
		int c = accept(s, NULL, NULL);
		if (c >= 0)
			serve(c, sc);
		_exit(0);
	}
	assert_true(pid > 0);
	close(s);
	close(p[1]);
	if (go[0] >= 0)
		close(go[0]);
	go[0] = -1;
	*log = p[0];
	return pid;
}

/* server_log - everything the server noted, once it has exited */
static char *server_log(pid_t pid, int log)
{
	static char buf[16384];
	size_t n = 0;
	ssize_t r;

	while (n + 1 < sizeof buf && (r = read(log, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(log);
	waitpid(pid, NULL, 0);
	return buf;
}

/* first_part - the log of the first transaction only (up to the second MAIL) */
static char *first_part(char *log)
{
	char *second = strstr(log + 1, "\nmail ");

	if (second)
		second[1] = '\0';
	return log;
}

/* run - one refused (or accepted) transaction, then one accepted on the same
 * session; the server's log */
static char *run(const struct script *sc, const char *envid, struct smtp_reply *first)
{
	struct smtp_reply r2;
	int port, log;
	pid_t pid = server_start(sc, &port, &log);
	struct relay_conf rc = relay(port, 3);
	struct smtp *s = smtp_new(&rc);

	assert_non_null(s);
	smtp_send_dsn(s, rc.from, "patient@example.org", envid, msg, sizeof msg - 1, first);
	assert_int_equal(smtp_send(s, rc.from, "patient@example.org", msg, sizeof msg - 1, &r2), 0);
	assert_int_equal(r2.stage, STAGE_DATA_END);
	assert_int_equal(r2.code, 250);
	smtp_free(s);
	return server_log(pid, log);
}

/* test_accepted - both transactions accepted, pipelined */
static void test_accepted(void **state)
{
	struct script sc = {
	        "250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead", "250 2.0.0 Ok: queued", 0, 0};
	struct smtp_reply r;
	char *log;

	(void)state;
	log = run(&sc, NULL, &r);
	assert_int_equal(r.stage, STAGE_DATA_END);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text, "2.0.0 Ok: queued");
	assert_non_null(strstr(log, "mail MAIL FROM:<clinic@example.com>\n"
	                            "rcpt RCPT TO:<patient@example.org>\ndata DATA\nbody 5\n"));
	assert_null(strstr(log, "after "));
}

/* test_rcpt_refused - 550 at RCPT: stage rcpt, its text; no message; RSET */
static void test_rcpt_refused(void **state)
{
	struct script sc = {"250 2.1.0 Ok",
	        "550-5.1.1 <patient@example.org>: Recipient address rejected:\r\n"
	        "550 5.1.1 User unknown in virtual mailbox table",
	        "554 5.5.1 Error: no valid recipients", "", 0, 0};
	struct smtp_reply r;
	char *log;

	(void)state;
	log = run(&sc, NULL, &r);
	assert_int_equal(r.stage, STAGE_RCPT);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.text, "5.1.1 <patient@example.org>: Recipient address rejected:\n"
	                            "5.1.1 User unknown in virtual mailbox table");
	assert_false(r.timeout);
	assert_null(strstr(first_part(log), "body "));
	assert_non_null(strstr(log, "after RSET\n"));
}

/* test_rcpt_refused_data_354 - DATA accepted after a refused RCPT: a lone dot, then RSET */
static void test_rcpt_refused_data_354(void **state)
{
	struct script sc = {"250 2.1.0 Ok", "450 4.2.0 <patient@example.org>: try later",
	        "354 go ahead", "554 5.5.1 no valid recipients", 0, 0};
	struct smtp_reply r;
	char *log;

	(void)state;
	log = run(&sc, NULL, &r);
	assert_int_equal(r.stage, STAGE_RCPT);
	assert_int_equal(r.code, 450);
	assert_string_equal(r.text, "4.2.0 <patient@example.org>: try later");
	assert_non_null(strstr(log, "body 0\nafter RSET\n")); /* the dot alone, no message */
}

/* test_mail_refused - 553 at MAIL: stage mail with MAIL's text, not RCPT's 503 */
static void test_mail_refused(void **state)
{
	struct script sc = {"553 5.7.1 Sender address rejected: not owned by user",
	        "503 5.5.1 Error: need MAIL command", "503 5.5.1 Error: need RCPT command", "", 0,
	        0};
	struct smtp_reply r;
	char *log;

	(void)state;
	log = run(&sc, NULL, &r);
	assert_int_equal(r.stage, STAGE_MAIL);
	assert_int_equal(r.code, 553);
	assert_string_equal(r.text, "5.7.1 Sender address rejected: not owned by user");
	assert_null(strstr(first_part(log), "body "));
	assert_non_null(strstr(log, "after RSET\n"));
}

/* test_data_refused - 554 at DATA after accepted MAIL and RCPT: stage data */
static void test_data_refused(void **state)
{
	struct script sc = {
	        "250 2.1.0 Ok", "250 2.1.5 Ok", "554 5.7.1 Blocked by policy", "", 0, 0};
	struct smtp_reply r;
	char *log;

	(void)state;
	log = run(&sc, NULL, &r);
	assert_int_equal(r.stage, STAGE_DATA);
	assert_int_equal(r.code, 554);
	assert_string_equal(r.text, "5.7.1 Blocked by policy");
	assert_null(strstr(first_part(log), "body "));
	assert_non_null(strstr(log, "after RSET\n"));
}

/* test_dsn_pipelined - DSN offered: the pipelined lines carry RET=, ENVID= and NOTIFY= */
static void test_dsn_pipelined(void **state)
{
	struct script sc = {"250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead", "250 2.0.0 Ok", 1, 0};
	struct smtp_reply r;
	char *log;

	(void)state;
	log = run(&sc, "job 1+x", &r);
	assert_int_equal(r.stage, STAGE_DATA_END);
	assert_non_null(strstr(log, "mail MAIL FROM:<clinic@example.com> RET=HDRS "
	                            "ENVID=job+201+2Bx\n"
	                            "rcpt RCPT TO:<patient@example.org> NOTIFY=FAILURE,DELAY\n"));
	/* smtp_send on the same session: no parameters */
	assert_non_null(strstr(log, "mail MAIL FROM:<clinic@example.com>\n"));
}

/* A session against the forked server, for start, finish and begin. */
struct sess {
	struct relay_conf rc;
	struct smtp *s;
	pid_t pid;
	int log;
};

/* connect_to - fork the server with script sc and make a session for it */
static void connect_to(struct sess *x, const struct script *sc)
{
	int port;

	assert_int_equal(pipe(go), 0);
	x->pid = server_start(sc, &port, &x->log);
	x->rc = relay(port, 3);
	x->s = smtp_new(&x->rc);
	assert_non_null(x->s);
}

/* done - free the session and let a held server go; the server's log */
static char *done(struct sess *x)
{
	smtp_free(x->s);
	close(go[1]);
	go[1] = -1;
	return server_log(x->pid, x->log);
}

/* held - the first transaction started against a server that holds (or
 * drops) the final dot's reply */
static void held(struct sess *x, int hold)
{
	struct script sc = {
	        "250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead", "250 2.0.0 Ok: queued", 0, hold};
	struct smtp_reply r;

	connect_to(x, &sc);
	/* a start that waited for the dot's reply would time out here */
	assert_int_equal(smtp_send_start(x->s, x->rc.from, "patient@example.org", NULL, msg,
	                         sizeof msg - 1, &r),
	        0);
}

/* test_start_finish - the dot's reply is read by finish; the session goes on */
static void test_start_finish(void **state)
{
	struct smtp_reply r;
	struct sess x;

	(void)state;
	held(&x, 1);
	/* nothing else may use the session meanwhile */
	assert_int_equal(
	        smtp_send(x.s, x.rc.from, "patient@example.org", msg, sizeof msg - 1, &r), -1);
	assert_true(r.refused);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(smtp_send_finish(x.s, &r), 0);
	assert_int_equal(r.stage, STAGE_DATA_END);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text, "2.0.0 Ok: queued");
	assert_int_equal(smtp_send_finish(x.s, &r), -1); /* nothing left to read */
	assert_int_equal(
	        smtp_send(x.s, x.rc.from, "patient@example.org", msg, sizeof msg - 1, &r), 0);
	char *text = done(&x);
	assert_non_null(strstr(text, "data DATA\nbody 5\nmail "));
	assert_null(strstr(text, "after "));
}

/* no_reply - the dot's reply does not come (hold as in struct script):
 * stage data-end, no code, the server may have the message */
static void no_reply(int hold, int timeout)
{
	struct smtp_reply r;
	struct sess x;

	held(&x, hold);
	assert_int_equal(smtp_send_finish(x.s, &r), -1);
	assert_int_equal(r.stage, STAGE_DATA_END);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.timeout, timeout);
	assert_non_null(strstr(r.text, "the server may have accepted the message"));
	assert_false(smtp_is_open(x.s));
	done(&x);
}

/* test_finish_drop - the connection closes instead of the dot's reply */
static void test_finish_drop(void **state)
{
	(void)state;
	no_reply(2, 0);
}

/* test_finish_timeout - no reply within the timeout, counted from finish */
static void test_finish_timeout(void **state)
{
	(void)state;
	no_reply(1, 1);
}

/* count - how often needle occurs in hay */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* begun - one accepted transaction, then the next one's group written
 * ahead (to rcpt_to) */
static void begun(struct sess *x, const char *rcpt_to)
{
	struct script sc = {
	        "250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead", "250 2.0.0 Ok: queued", 0, 0};
	struct smtp_reply r;

	connect_to(x, &sc);
	assert_int_equal(
	        smtp_send(x->s, x->rc.from, "patient@example.org", msg, sizeof msg - 1, &r), 0);
	smtp_send_begin(x->s, x->rc.from, rcpt_to, NULL);
}

/* start_begun - begun, then start for patient@example.org: its result */
static int start_begun(struct sess *x, const char *rcpt_to, struct smtp_reply *r)
{
	begun(x, rcpt_to);
	return smtp_send_start(
	        x->s, x->rc.from, "patient@example.org", NULL, msg, sizeof msg - 1, r);
}

/* test_begin_then_start - start reads the begun group's replies, writes no second group */
static void test_begin_then_start(void **state)
{
	struct smtp_reply r;
	struct sess x;

	(void)state;
	assert_int_equal(start_begun(&x, "patient@example.org", &r), 0);
	assert_int_equal(smtp_send_finish(x.s, &r), 0);
	assert_int_equal(r.code, 250);
	char *text = done(&x);
	assert_int_equal(count(text, "mail MAIL"), 2);
	assert_int_equal(count(text, "body 5\n"), 2); /* a repeated group would be body lines */
}

/* test_begin_then_close - a begun group closed: the connection drops, no
 * message, no QUIT */
static void test_begin_then_close(void **state)
{
	struct sess x;

	(void)state;
	begun(&x, "patient@example.org");
	smtp_close(x.s);
	assert_false(smtp_is_open(x.s));
	char *text = done(&x);
	assert_int_equal(count(text, "mail MAIL"), 2);
	assert_int_equal(count(text, "body "), 1);
	assert_null(strstr(text, "QUIT"));
}

/* test_begin_other_envelope - start for another recipient than the begun
 * group's: that connection is dropped without a message and a new one
 * opened (this server takes only one: it fails) */
static void test_begin_other_envelope(void **state)
{
	struct smtp_reply r;
	struct sess x;

	(void)state;
	assert_int_equal(start_begun(&x, "other@example.org", &r), -1);
	assert_true(r.stage <= STAGE_EHLO);
	char *text = done(&x);
	assert_non_null(strstr(text, "rcpt RCPT TO:<other@example.org>\n"));
	assert_int_equal(count(text, "body "), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_accepted),
	        cmocka_unit_test(test_rcpt_refused),
	        cmocka_unit_test(test_rcpt_refused_data_354),
	        cmocka_unit_test(test_mail_refused),
	        cmocka_unit_test(test_data_refused),
	        cmocka_unit_test(test_dsn_pipelined),
	        cmocka_unit_test(test_start_finish),
	        cmocka_unit_test(test_finish_drop),
	        cmocka_unit_test(test_finish_timeout),
	        cmocka_unit_test(test_begin_then_start),
	        cmocka_unit_test(test_begin_then_close),
	        cmocka_unit_test(test_begin_other_envelope),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
