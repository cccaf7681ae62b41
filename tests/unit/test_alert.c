/*
 * test_alert - alert_raise: the log line; the command's environment,
 * descriptors, signal mask, process group, timeout (SIGTERM, then SIGKILL)
 * and failures; the e-mail as tests/smtpserver.py receives it (parsed by
 * Python's email package), and a relay that is not there.  The e-mail
 * tests skip when /usr/bin/python3 or aiosmtpd is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "conf.h"
#include "log.h"
#include "server_fixture.h"

static const struct alert blocked = {
        .event = "account-blocked",
        .category = "account-blocked",
        .reason = "Gmail wants a person to sign in",
        .action = "Sign in at https://mail.google.com as the practice, then run spool resume.",
        .job = "j1 j2",
        .detail = "534-5.7.9 Please log in with your web browser",
};

/* raise_logged - alert_raise with stderr (the log) captured into *log */
static int raise_logged(const struct conf *c, const struct alert *a, char **log)
{
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10), fd, rc;

	fd = open(path("log"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	rc = alert_raise(c, a);
	dup2(saved, STDERR_FILENO);
	close(saved);
	*log = slurp(path("log"));
	assert_non_null(*log);
	return rc;
}

/* command_conf - a conf with only alerts.command set */
static struct conf command_conf(const char *cmd, int timeout)
{
	struct conf c;

	memset(&c, 0, sizeof c);
	c.alerts.command = (char *)cmd;
	c.alerts.command_timeout = timeout;
	return c;
}

/* setup - a fresh temporary directory */
static int setup(void **state)
{
	(void)state;
	return dir_make("test_alert");
}

/* teardown - remove it */
static int teardown(void **state)
{
	(void)state;
	return dir_remove();
}

/* test_log_only - no channel configured: one key=value line, 0 */
static void test_log_only(void **state)
{
	struct conf c = command_conf(NULL, 0);
	struct alert a = blocked;
	char *log;

	(void)state;
	a.reason = "Gmail says \"sign in\"";
	assert_int_equal(raise_logged(&c, &a, &log), 0);
	assert_non_null(strstr(log, "error: alert event=account-blocked category=account-blocked "
	                            "job=\"j1 j2\" reason=\"Gmail says \\\"sign in\\\"\" "
	                            "action=\"Sign in at https://mail.google.com as the practice, "
	                            "then run spool resume.\"\n"));
	free(log);
}

/* test_env - exactly our SPOOL_* variables (stale ones replaced), the rest
 * inherited, values passed verbatim and never through the shell's parser */
static void test_env(void **state)
{
	char cmd[512], *env, *reason, *log, *line;
	struct alert a = blocked;
	struct conf c;
	int n = 0;

	(void)state;
	a.reason = "Gmail says \"sign in\" $HOME `id` $(id); exit 7";
	setenv("SPOOL_EVENT", "stale", 1);
	setenv("SPOOL_TEST_INHERIT", "yes", 1);
	snprintf(cmd, sizeof cmd, "env > '%s/env'; printf %%s \"$SPOOL_REASON\" > '%s/reason'", dir,
	        dir);
	c = command_conf(cmd, 10);
	assert_int_equal(raise_logged(&c, &a, &log), 0);
	unsetenv("SPOOL_EVENT");
	unsetenv("SPOOL_TEST_INHERIT");
	assert_non_null(strstr(log, "command done (exit status 0)"));
	assert_non_null(env = slurp(path("env")));
	assert_non_null(reason = slurp(path("reason")));
	assert_string_equal(reason, a.reason);
	for (line = strtok(env, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "SPOOL_", 6) != 0)
			continue;
		n++;
		if (strcmp(line, "SPOOL_EVENT=account-blocked") &&
		        strcmp(line, "SPOOL_CATEGORY=account-blocked") &&
		        strncmp(line, "SPOOL_REASON=Gmail says \"sign in\" $HOME", 39) &&
		        strcmp(line, "SPOOL_ACTION=Sign in at https://mail.google.com as the "
		                     "practice, then run spool resume.") &&
		        strcmp(line, "SPOOL_JOB=j1 j2") &&
		        strcmp(line,
		                "SPOOL_DETAIL=534-5.7.9 Please log in with your web browser") &&
		        strcmp(line, "SPOOL_TEST_INHERIT=yes"))
			fail_msg("unexpected variable %s", line);
	}
	assert_int_equal(n, 7); /* six of ours and SPOOL_TEST_INHERIT */
	free(env);
	free(reason);
	free(log);
}

/* test_failure - a non-zero exit is -1, logged with the command's output */
static void test_failure(void **state)
{
	struct conf c = command_conf("echo oops >&2; echo 'on stdout'; exit 3", 10);
	char *log;

	(void)state;
	assert_int_equal(raise_logged(&c, &blocked, &log), -1);
	assert_non_null(strstr(log, "command failed: exit status 3: oops on stdout"));
	free(log);
	c = command_conf("kill -USR1 $$", 10);
	assert_int_equal(raise_logged(&c, &blocked, &log), -1);
	assert_non_null(strstr(log, "command failed: killed by signal 10"));
	free(log);
}

/* test_chatty - a megabyte of output neither blocks the command nor the
 * log: the first kilobyte is kept */
static void test_chatty(void **state)
{
	struct conf c = command_conf("head -c 1000000 /dev/zero | tr '\\0' x; exit 1", 10);
	long long t0 = now_ms();
	char *log, *p;

	(void)state;
	assert_int_equal(raise_logged(&c, &blocked, &log), -1);
	assert_true(now_ms() - t0 < 5000);
	assert_non_null(p = strstr(log, "exit status 1: xxx"));
	assert_int_equal(strspn(p + 15, "x"), 1024);
	free(log);
}

/* pid_gone - 1 when pid has exited (gone, or a zombie nobody reaped yet) */
static int pid_gone(long pid)
{
	char p[64], *stat;
	int gone;

	snprintf(p, sizeof p, "/proc/%ld/stat", pid);
	if (!(stat = slurp(p)))
		return 1;
	gone = strstr(stat, ") Z ") != NULL;
	free(stat);
	return gone;
}

/* test_timeout - a command that outstays the timeout loses its whole
 * group, SIGTERM first; one that ignores SIGTERM gets SIGKILL 2 s later */
static void test_timeout(void **state)
{
	char cmd[256], *log, *pid;
	struct conf c;
	long long t0, dt, until;
	long p;

	(void)state;
	snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > '%s/pid'; wait", dir);
	c = command_conf(cmd, 1);
	t0 = now_ms();
	assert_int_equal(raise_logged(&c, &blocked, &log), -1);
	dt = now_ms() - t0;
	assert_true(dt >= 1000 && dt < 4000);
	assert_non_null(strstr(log, "command failed: timed out after 1 s"));
	free(log);
	assert_non_null(pid = slurp(path("pid")));
	p = atol(pid);
	free(pid);
	assert_true(p > 1);
	for (until = now_ms() + 2000; !pid_gone(p) && now_ms() < until;)
		usleep(20000);
	assert_true(pid_gone(p)); /* the grandchild went with the group */

	c = command_conf("trap '' TERM; sleep 30; sleep 30", 1);
	t0 = now_ms();
	assert_int_equal(raise_logged(&c, &blocked, &log), -1);
	dt = now_ms() - t0;
	assert_true(dt >= 2900 && dt < 4000);
	assert_non_null(strstr(log, "command failed: timed out after 1 s"));
	free(log);
}

/* test_fds - the command sees 0, 1 and 2 only (stdin /dev/null), not the
 * daemon's descriptors, even with the daemon's stdin closed; ls's own
 * directory descriptor is the 3 it lists */
static void test_fds(void **state)
{
	char cmd[256], *fds, *in, *log, *line;
	int leak[3], in0, out1, rc;
	struct conf c;

	(void)state;
	leak[0] = open("/dev/null", O_RDONLY);
	leak[1] = socket(AF_INET, SOCK_STREAM, 0);
	leak[2] = dup2(leak[0], 60);
	assert_true(leak[0] >= 0 && leak[1] >= 0 && leak[2] == 60);
	snprintf(cmd, sizeof cmd,
	        "ls /proc/self/fd > '%s/fds'; readlink /proc/self/fd/0 > '%s/in'; echo on stdout; "
	        "exit 1",
	        dir, dir);
	c = command_conf(cmd, 10);
	fflush(stdout);
	in0 = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 10);
	out1 = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 10);
	assert_true(in0 >= 0 && out1 >= 0);
	close(STDIN_FILENO); /* a daemon without stdin and stdout: pipe2 hands out 0 and 1 */
	close(STDOUT_FILENO);
	rc = raise_logged(&c, &blocked, &log);
	dup2(in0, STDIN_FILENO);
	dup2(out1, STDOUT_FILENO);
	close(in0);
	close(out1);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(log, "command failed: exit status 1: on stdout"));
	for (int i = 0; i < 3; i++)
		close(leak[i]);
	assert_non_null(fds = slurp(path("fds")));
	assert_non_null(in = slurp(path("in")));
	assert_string_equal(in, "/dev/null\n");
	for (line = strtok(fds, "\n"); line; line = strtok(NULL, "\n"))
		if (atoi(line) > 3)
			fail_msg("descriptor %s leaked into the command", line);
	free(fds);
	free(in);
	free(log);
}

/* test_signals - the daemon's blocked and ignored signals are not the
 * command's (exec: dash clears the mask of the children it forks, not its
 * own); it leads a process group of its own */
static void test_signals(void **state)
{
	char cmd[256], *st, *log, *p, *q;
	sigset_t block, old;
	struct conf c;

	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	signal(SIGUSR2, SIG_IGN);
	snprintf(cmd, sizeof cmd, "exec cat /proc/self/status > '%s/status'", dir);
	c = command_conf(cmd, 10);
	assert_int_equal(raise_logged(&c, &blocked, &log), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR2, SIG_DFL);
	assert_non_null(st = slurp(path("status")));
	assert_non_null(strstr(st, "\nSigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(st, "\nSigIgn:\t0000000000000000\n"));
	assert_non_null(p = strstr(st, "\nNSpgid:\t"));
	assert_non_null(q = strstr(st, "\nNSpid:\t"));
	assert_int_equal(atol(p + 9), atol(q + 8)); /* a group leader */
	assert_int_not_equal(atol(p + 9), (long)getpgrp());
	free(st);
	free(log);
}

/* mail_conf - alert_to through [alert_relay] at 127.0.0.1:port, no TLS */
static struct conf mail_conf(int port)
{
	struct conf c;

	memset(&c, 0, sizeof c);
	c.alerts.alert_to = (char *)"staff@clinic.example.com";
	c.alert_relay.section = "alert_relay";
	c.alert_relay.host = (char *)"127.0.0.1";
	c.alert_relay.port = port;
	c.alert_relay.tls = TLS_NONE;
	c.alert_relay.from = (char *)"spoold@clinic.example.com";
	c.alert_relay.from_name = (char *)"Zoë's Clinic";
	c.alert_relay.helo = (char *)"client.example.com";
	c.alert_relay.timeout = 10;
	c.relay.host = (char *)"never.example.com"; /* the blocked account: never used */
	return c;
}

static const char parse_py[] =
        "import email, email.policy, sys\n"
        "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n"
        "for h in ('subject', 'from', 'to', 'auto-submitted', 'x-spool-event', 'content-type',\n"
        "          'content-transfer-encoding', 'mime-version', 'bcc', 'x-evil'):\n"
        "    print(f'{h}: {m[h]}')\n"
        "print('message-id ok' if m['message-id'].startswith('<spoold.alert.') else 'bad id')\n"
        "print('date ok' if m['date'].datetime else 'bad date')\n"
        "print('defects:', sum(len(p.defects) for p in m.walk()))\n"
        "print(m.get_content(), end='')\n";

/* test_mail - the e-mail as received: decoded headers, nothing injected,
 * the body in order with the server's words last */
static void test_mail(void **state)
{
	struct alert a = blocked;
	char cmd[512], *raw, *out, *log, *hdr_end;
	int port;
	pid_t srv;
	struct conf c;
	FILE *f;

	(void)state;
	if (!have_python())
		skip();
	srv = smtpserver_start("mbox", 0, &port);
	c = mail_conf(port);
	a.reason = "Gmail wants a person to sign in — café\r\nBcc: evil@example.com";
	a.job = "j1\r\nX-Evil: yes";
	a.detail = "534-5.7.9 Please log in\r\n.\r\nMAIL FROM:<evil@example.com>\n"
	           "a line much longer than seventy-six characters, so that quoted-printable "
	           "must break it softly = here";
	assert_int_equal(raise_logged(&c, &a, &log), 0);
	server_stop(srv);
	assert_non_null(strstr(log, "e-mail to staff@clinic.example.com sent through 127.0.0.1:"));
	free(log);

	assert_non_null(raw = slurp(path("mbox/000001.eml")));
	assert_non_null(hdr_end = strstr(raw, "\r\n\r\n"));
	for (char *p = raw; *p; p++) {
		assert_true((unsigned char)*p < 0x80); /* 7bit on the wire */
		if (*p == '\n')
			assert_true(p > raw && p[-1] == '\r');
	}
	*hdr_end = '\0';
	assert_null(strstr(raw, "\nBcc:"));
	assert_null(strstr(raw, "\nX-Evil:"));
	assert_non_null(strstr(raw, "\r\nContent-Transfer-Encoding: quoted-printable"));
	*hdr_end = '\r';
	for (char *l = hdr_end + 4, *e; *l; l = e + 2) {
		assert_non_null(e = strstr(l, "\r\n"));
		assert_true(e - l <= 76);
	}
	assert_null(strstr(raw, "\r\n.")); /* nothing for the SMTP dot to see */
	free(raw);

	assert_non_null(f = fopen(path("parse.py"), "w"));
	fputs(parse_py, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, PYTHON " '%s/parse.py' '%s/mbox/000001.eml' > '%s/parsed'", dir,
	        dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_non_null(out = slurp(path("parsed")));
	assert_non_null(strstr(out, "subject: spoold: sending stopped: Gmail wants a person to "
	                            "sign in — café\n"));
	assert_non_null(strstr(out, "from: Zoë's Clinic <spoold@clinic.example.com>\n"));
	assert_non_null(strstr(out, "to: staff@clinic.example.com\n"));
	assert_non_null(strstr(out, "auto-submitted: auto-generated\n"));
	assert_non_null(strstr(out, "x-spool-event: account-blocked\n"));
	/* charset values are case-insensitive (RFC 2046): alerts use msg_plain's */
	assert_non_null(strcasestr(out, "content-type: text/plain; charset=\"UTF-8\"\n"));
	assert_non_null(strstr(out, "mime-version: 1.0\n"));
	assert_non_null(strstr(out, "bcc: None\nx-evil: None\n"));
	assert_non_null(strstr(out, "message-id ok\ndate ok\ndefects: 0\n"));
	char *what = strstr(out, "What happened:\nGmail wants a person to sign in — café\n"
	                         "Bcc: evil@example.com\n");
	char *todo = strstr(out, "What to do:\nSign in at https://mail.google.com as the "
	                         "practice, then run spool resume.\n");
	char *jobs = strstr(out, "Job(s): j1\nX-Evil: yes\n");
	char *words = strstr(out, "The server's words:\n534-5.7.9 Please log in\n.\n"
	                          "MAIL FROM:<evil@example.com>\na line much longer than "
	                          "seventy-six characters, so that quoted-printable must break "
	                          "it softly = here\n");
	assert_true(what && todo && jobs && words);
	assert_true(what < todo && todo < jobs && jobs < words);
	free(out);
}

/* test_mail_no_relay - a relay that is not there: -1, logged, returns */
static void test_mail_no_relay(void **state)
{
	struct conf c = mail_conf(1);
	char *log;

	(void)state;
	assert_int_equal(raise_logged(&c, &blocked, &log), -1);
	assert_non_null(strstr(log, "e-mail to staff@clinic.example.com through 127.0.0.1:1 "
	                            "failed at connect"));
	free(log);
	c.alerts.alert_to = (char *)"not an address";
	assert_int_equal(raise_logged(&c, &blocked, &log), -1);
	assert_non_null(strstr(log, "not sent: alerts.alert_to is not a valid address"));
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_log_only, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_failure, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_chatty, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_fds, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_signals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_mail, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_mail_no_relay, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN); /* the caller's duty (smtp.h) */
	log_open("test_alert", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
