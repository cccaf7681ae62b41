/*
 * test_smtp_dsn - smtp_send_dsn against tests/smtpserver.py: with --dsn
 * (DSN in the EHLO reply) MAIL carries RET=HDRS and ENVID= in xtext and
 * RCPT carries NOTIFY=FAILURE,DELAY, as the server's log.jsonl records
 * them; smtp_send, an envid too long for ENVID, and a server without DSN
 * (aiosmtpd answers 555 to any parameter there) get none of them.  Skips
 * when /usr/bin/python3 or aiosmtpd is missing.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "smtp.h"
#include "server_fixture.h"

static const char msg[] = "From: clinic@example.com\r\n"
                          "To: patient@example.org\r\n"
                          "Subject: Your appointment\r\n"
                          "Message-ID: <spoold.1.test@example.com>\r\n"
                          "\r\n"
                          "See you on Monday.\r\n";

/* log_line - line n (from 1) of DIR/name/log.jsonl, parsed */
static json_t *log_line(const char *name, int n)
{
	char p[256], *s, *line;
	json_t *j = NULL;

	snprintf(p, sizeof p, "%s/%s/log.jsonl", dir, name);
	assert_non_null(s = slurp(p));
	for (line = strtok(s, "\n"); line && --n > 0; line = strtok(NULL, "\n"))
		;
	if (line)
		j = json_loads(line, 0, NULL);
	free(s);
	if (!j)
		fail_msg("no line %d in %s", n, p);
	return j;
}

/* param - member key of the log line's object member obj, or NULL */
static const char *param(json_t *j, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(j, obj), key));
}

/* rcpt_param - member key of the first recipient's parameters, or NULL */
static const char *rcpt_param(json_t *j, const char *key)
{
	json_t *a = json_object_get(j, "rcpt_params");

	assert_true(json_is_array(a) && json_array_size(a) == 1);
	return json_string_value(json_object_get(json_array_get(a, 0), key));
}

/* deliver - one transaction, through smtp_send_dsn (dsn) or smtp_send; asserts acceptance */
static void deliver(struct smtp *s, const char *to, int dsn, const char *envid)
{
	struct smtp_reply r;
	int rc = dsn ? smtp_send_dsn(s, "clinic@example.com", to, envid, msg, strlen(msg), &r)
	             : smtp_send(s, "clinic@example.com", to, msg, strlen(msg), &r);

	if (rc != 0)
		fail_msg(
		        "not sent: stage %s code %d: %s", smtp_stage_name(r.stage), r.code, r.text);
	assert_int_equal(r.stage, STAGE_DATA_END);
	assert_int_equal(r.code, 250);
}

/* session - tests/smtpserver.py [--dsn] with mbox DIR/name (*srv) and a
 * session to it through *rc; skips when python3 or aiosmtpd is missing */
static struct smtp *session(const char *name, int dsn, struct relay_conf *rc, pid_t *srv)
{
	struct smtp *s;
	int port;

	if (!have_python())
		skip();
	*srv = smtpserver_start(name, dsn, &port);
	*rc = relay(port, 10);
	assert_non_null(s = smtp_new(rc));
	return s;
}

/* setup - a fresh temporary directory; SIGPIPE ignored as smtp.h asks */
static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return dir_make("test_smtp_dsn");
}

/* teardown - remove it */
static int teardown(void **state)
{
	(void)state;
	return dir_remove();
}

/* test_dsn_offered - RET=HDRS, ENVID in xtext, NOTIFY=FAILURE,DELAY; on
 * the same connection smtp_send and a too-long envid */
static void test_dsn_offered(void **state)
{
	char longid[SMTP_ENVID_MAX + 2], maxid[SMTP_ENVID_MAX + 1];
	struct relay_conf rc;
	struct smtp *s;
	json_t *j;
	pid_t srv;

	(void)state;
	s = session("dsn", 1, &rc, &srv);
	deliver(s, "patient@example.org", 1, "20250301-0930-ab12");
	deliver(s, "two@example.org", 1, "job 7+x=y\xc3\xa9");
	deliver(s, "three@example.org", 0, NULL); /* smtp_send */
	memset(longid, 'a', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0'; /* 101 characters */
	deliver(s, "four@example.org", 1, longid);
	memset(maxid, 'b', sizeof maxid - 1);
	maxid[sizeof maxid - 1] = '\0'; /* exactly 100 */
	deliver(s, "five@example.org", 1, maxid);
	deliver(s, "six@example.org", 1, "++++++++++++++++++++++++++++++++++"); /* 102 as xtext */
	smtp_free(s);
	server_stop(srv);

	j = log_line("dsn", 1);
	assert_int_equal(json_integer_value(json_object_get(j, "conn")), 1);
	assert_string_equal(param(j, "mail_params", "RET"), "HDRS");
	assert_string_equal(param(j, "mail_params", "ENVID"), "20250301-0930-ab12");
	assert_string_equal(rcpt_param(j, "NOTIFY"), "FAILURE,DELAY");
	assert_null(rcpt_param(j, "ORCPT"));
	json_decref(j);

	j = log_line("dsn", 2);
	assert_string_equal(param(j, "mail_params", "ENVID"), "job+207+2Bx+3Dy+C3+A9");
	assert_string_equal(rcpt_param(j, "NOTIFY"), "FAILURE,DELAY");
	json_decref(j);

	j = log_line("dsn", 3); /* smtp_send: nothing, though DSN is offered */
	assert_int_equal(json_object_size(json_object_get(j, "mail_params")), 0);
	assert_null(rcpt_param(j, "NOTIFY"));
	json_decref(j);

	j = log_line("dsn", 4); /* too long: RET and NOTIFY without ENVID */
	assert_string_equal(param(j, "mail_params", "RET"), "HDRS");
	assert_null(param(j, "mail_params", "ENVID"));
	assert_string_equal(rcpt_param(j, "NOTIFY"), "FAILURE,DELAY");
	json_decref(j);

	j = log_line("dsn", 5);
	assert_string_equal(param(j, "mail_params", "ENVID"), maxid);
	json_decref(j);

	j = log_line("dsn", 6);
	assert_string_equal(param(j, "mail_params", "RET"), "HDRS");
	assert_null(param(j, "mail_params", "ENVID"));
	assert_int_equal(json_integer_value(json_object_get(j, "conn")), 1); /* one session */
	json_decref(j);
}

/* test_dsn_not_offered - no DSN in EHLO: no parameters (aiosmtpd would
 * refuse any with 555), and the log has no parameter keys */
static void test_dsn_not_offered(void **state)
{
	struct relay_conf rc;
	struct smtp *s;
	json_t *j;
	pid_t srv;

	(void)state;
	s = session("plain", 0, &rc, &srv);
	deliver(s, "patient@example.org", 1, "20250301-0930-ab12");
	deliver(s, "two@example.org", 0, NULL);
	smtp_free(s);
	server_stop(srv);

	j = log_line("plain", 1);
	assert_string_equal(
	        json_string_value(json_object_get(j, "mail_from")), "clinic@example.com");
	assert_null(json_object_get(j, "mail_params"));
	assert_null(json_object_get(j, "rcpt_params"));
	json_decref(j);
	j = log_line("plain", 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "rcpt"), 0)),
	        "two@example.org");
	json_decref(j);
}

/* test_refused_address - smtp_send_dsn checks addresses as smtp_send does */
static void test_refused_address(void **state)
{
	struct relay_conf rc = relay(1, 10);
	struct smtp_reply r;
	struct smtp *s;

	(void)state;
	assert_non_null(s = smtp_new(&rc));
	assert_int_equal(smtp_send_dsn(s, "clinic@example.com", "a>b@example.org", "x", msg,
	                         strlen(msg), &r),
	        -1);
	assert_int_equal(r.stage, STAGE_RCPT);
	assert_int_equal(r.refused, 1);
	smtp_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dsn_offered),
	        cmocka_unit_test(test_dsn_not_offered),
	        cmocka_unit_test(test_refused_address),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
