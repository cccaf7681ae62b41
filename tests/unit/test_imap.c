/*
 * test_imap - imap.c against a real Dovecot (tests/imapserver.py, started
 * once for the group on free ports of 127.0.0.1 with the test CA's
 * certificate): LOGIN with implicit TLS and with STARTTLS, a wrong password,
 * an untrusted CA, a certificate for the wrong host (a second Dovecot with
 * the wrong.example certificate); SELECT of Sent and of a missing folder;
 * Message-ID present and absent; the unprocessed messages (only new ones,
 * oldest first, fetched with BODY.PEEK[] so \Seen stays unset), marked,
 * then gone; APPEND.  A fake server forked here covers what Dovecot will
 * not do: say nothing (timeouts within timeout + 2 s, at connect, in the
 * TLS handshake and after LOGIN, and a dead session failing at once),
 * plaintext injected after STARTTLS, PREAUTH before TLS.  The Dovecot
 * tests skip when /usr/sbin/dovecot or /usr/bin/python3 is missing.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "imap.h"
#include "server_fixture.h"

#define SERVER "tests/imapserver.py"
#ifndef DOVECOT
#define DOVECOT "/usr/sbin/dovecot"
#endif
#define USER "office@example.com"
#define PASS "secret"

static pid_t dovecot = -1; /* the group's server (imapserver.py) */
static int port_starttls, port_implicit;
static char err[1024];

/* have_dovecot - Dovecot, python3 and the server script are there */
static int have_dovecot(void)
{
	return access(DOVECOT, X_OK) == 0 && access(PYTHON, X_OK) == 0 && access(SERVER, R_OK) == 0;
}

/* server_start - imapserver.py in DIR/name serving cert; its pid and ports */
static pid_t server_start(const char *name, const char *cert, int *p1, int *p2)
{
	char sdir[128], ready[160], certs[128], *s;
	pid_t pid;

	snprintf(sdir, sizeof sdir, "%s/%s", dir, name);
	snprintf(ready, sizeof ready, "%s/%s.ready", dir, name);
	snprintf(certs, sizeof certs, "%s/certs", dir);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* (imapserver.py then stops Dovecot) */
		execl(PYTHON, PYTHON, SERVER, "--dir", sdir, "--ready-file", ready, "--cert-dir",
		        certs, "--cert", cert, "--user", USER ":" PASS, "--user",
		        "inbox@example.com:" PASS, "--user", "append@example.com:" PASS,
		        (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	s = ready_wait(pid, ready, 20000);
	if (!s || sscanf(s, "%d %d", p1, p2) != 2) {
		free(s);
		server_stop(pid);
		return -1;
	}
	free(s);
	return pid;
}

/* group_setup - a directory, the test certificates, one Dovecot */
static int group_setup(void **state)
{
	char cmd[256];

	(void)state;
	if (dir_make("test_imap") < 0)
		return -1;
	if (!have_dovecot())
		return 0;
	snprintf(cmd, sizeof cmd, "sh tests/mkcerts.sh '%s/certs' >/dev/null", dir);
	if (system(cmd) != 0)
		return -1;
	dovecot = server_start("dovecot", "server", &port_starttls, &port_implicit);
	return dovecot > 0 ? 0 : -1;
}

/* group_teardown - stop Dovecot, remove the directory */
static int group_teardown(void **state)
{
	(void)state;
	server_stop(dovecot);
	return dir_remove();
}

/* conf - the group's Dovecot, the test CA, user and password */
static struct imap_conf conf(enum tls_mode tls, const char *user)
{
	struct imap_conf ic = {
	        .host = (char *)"127.0.0.1",
	        .port = tls == TLS_IMPLICIT ? port_implicit : port_starttls,
	        .tls = tls,
	        .user = (char *)user,
	        .password = (char *)PASS,
	        .timeout = 5,
	};

	ic.ca_file = strdup(path("certs/ca.crt"));
	return ic;
}

/* open_ok - imap_open that must succeed */
static struct imap *open_ok(enum tls_mode tls, const char *user)
{
	struct imap_conf ic = conf(tls, user);
	struct imap *im = imap_open(&ic, err, sizeof err);

	free(ic.ca_file);
	if (im == NULL)
		fail_msg("imap_open: %s", err);
	return im;
}

/* deliver - msg into user's folder the way a delivery agent does (flags: maildir letters) */
static void deliver(const char *user, const char *folder, const char *msg, const char *flags)
{
	char cmd[512];
	FILE *f;

	assert_non_null(f = fopen(path("msg"), "wb"));
	fputs(msg, f);
	fclose(f);
	snprintf(cmd, sizeof cmd,
	        PYTHON " " SERVER " --dir '%s/dovecot' --deliver '%s' '%s' '%s/msg' --flags '%s' "
	               ">/dev/null",
	        dir, user, folder, dir, flags);
	assert_int_equal(system(cmd), 0);
}

/* listing - imapserver.py --list of user's folder (JSON text; free it) */
static char *listing(const char *user, const char *folder)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd,
	        PYTHON " " SERVER " --dir '%s/dovecot' --list '%s' '%s' > '%s/list'", dir, user,
	        folder, dir);
	assert_int_equal(system(cmd), 0);
	return slurp(path("list"));
}

/* test_login - implicit TLS and STARTTLS, each verified; SELECT works */
static void test_login(void **state)
{
	struct imap *im;

	(void)state;
	if (dovecot <= 0)
		skip();
	im = open_ok(TLS_IMPLICIT, USER);
	assert_int_equal(imap_select(im, "INBOX", err, sizeof err), 0);
	imap_free(im);
	im = open_ok(TLS_STARTTLS, USER);
	assert_int_equal(imap_select(im, "Sent", err, sizeof err), 0);
	imap_free(im);
	/* tls = none is allowed to the loopback only (and Dovecot trusts it) */
	im = open_ok(TLS_NONE, USER);
	imap_free(im);
}

/* test_login_refused - a wrong password, an untrusted CA, port mix-ups */
static void test_login_refused(void **state)
{
	struct imap_conf ic = conf(TLS_IMPLICIT, USER);
	char want[200];

	(void)state;
	if (dovecot <= 0) {
		free(ic.ca_file);
		skip();
	}
	ic.password = (char *)"wrong";
	assert_null(imap_open(&ic, err, sizeof err));
	snprintf(want, sizeof want,
	        "cannot sign in to 127.0.0.1:%d as " USER ": [AUTHENTICATIONFAILED] ",
	        port_implicit);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got: %s", err);
	ic.tls = TLS_STARTTLS;
	ic.port = port_starttls;
	assert_null(imap_open(&ic, err, sizeof err));
	assert_non_null(strstr(err, "[AUTHENTICATIONFAILED]"));

	ic.password = (char *)PASS;
	free(ic.ca_file);
	ic.ca_file = NULL; /* the system store does not know the test CA */
	assert_null(imap_open(&ic, err, sizeof err));
	assert_non_null(strstr(err, "certificate for localhost (host 127.0.0.1) is not trusted"));
	ic.tls = TLS_IMPLICIT;
	ic.port = port_implicit;
	assert_null(imap_open(&ic, err, sizeof err));
	assert_non_null(strstr(err, "is not trusted"));

	ic = conf(TLS_IMPLICIT, USER);
	ic.port = port_starttls; /* implicit TLS to the STARTTLS port */
	assert_null(imap_open(&ic, err, sizeof err));
	assert_non_null(strstr(err, "TLS handshake with 127.0.0.1:"));
	assert_non_null(strstr(err, "143 wants tls = starttls"));
	free(ic.ca_file);
}

/* test_wrong_host - a certificate for wrong.example is refused, either way */
static void test_wrong_host(void **state)
{
	struct imap_conf ic = conf(TLS_IMPLICIT, USER);
	int p1, p2;
	pid_t pid;

	(void)state;
	if (dovecot <= 0) {
		free(ic.ca_file);
		skip();
	}
	assert_true((pid = server_start("wrong", "wrong", &p1, &p2)) > 0);
	ic.port = p2;
	assert_null(imap_open(&ic, err, sizeof err));
	if (!strstr(err, "certificate for wrong.example does not match host 127.0.0.1"))
		fail_msg("got: %s", err);
	ic.tls = TLS_STARTTLS;
	ic.port = p1;
	assert_null(imap_open(&ic, err, sizeof err));
	assert_non_null(strstr(err, "certificate for wrong.example does not match host 127.0.0.1"));
	server_stop(pid);
	free(ic.ca_file);
}

/* test_select - Sent opens; a missing folder is refused and the session lives on */
static void test_select(void **state)
{
	struct imap *im;
	char want[200];

	(void)state;
	if (dovecot <= 0)
		skip();
	im = open_ok(TLS_IMPLICIT, USER);
	assert_int_equal(imap_find_message_id(im, "<a@b>", err, sizeof err), -1);
	assert_non_null(strstr(err, "no folder is selected"));
	assert_int_equal(imap_select(im, "Nope", err, sizeof err), -1);
	snprintf(want, sizeof want,
	        "cannot open folder \"Nope\" on 127.0.0.1:%d: Mailbox doesn't exist: Nope",
	        port_implicit);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got: %s", err);
	assert_int_equal(imap_select(im, "Bad\r\nA1 LOGOUT", err, sizeof err), -1);
	assert_non_null(strstr(err, "bad IMAP folder name"));
	assert_int_equal(imap_select(im, "Sent", err, sizeof err), 0);
	/* The folder marked \Sent (RFC 6154), whatever its name. */
	char found[64];
	assert_int_equal(imap_special_folder(im, "Sent", found, sizeof found, err, sizeof err), 1);
	assert_string_equal(found, "Sent");
	assert_int_equal(
	        imap_special_folder(im, "Flagged", found, sizeof found, err, sizeof err), 0);
	assert_int_equal(
	        imap_special_folder(im, "Sent", found, 4, err, sizeof err), 0); /* no room */
	imap_free(im);
}

/* test_message_id - present, absent, a near miss, a malformed one */
static void test_message_id(void **state)
{
	struct imap *im;

	(void)state;
	if (dovecot <= 0)
		skip();
	deliver(USER, "Sent",
	        "From: office@example.com\r\nTo: jane@example.com\r\n"
	        "Message-ID: <j1.spoold@clinic.example>\r\nSubject: Reminder\r\n\r\nSee you\r\n",
	        "S");
	deliver(USER, "Sent",
	        "From: office@example.com\r\nMessage-ID: <xj2.spoold@clinic.example>\r\n"
	        "Subject: Other\r\n\r\nHello\r\n",
	        "");
	im = open_ok(TLS_STARTTLS, USER);
	assert_int_equal(imap_select(im, "Sent", err, sizeof err), 0);
	assert_int_equal(
	        imap_find_message_id(im, "<j1.spoold@clinic.example>", err, sizeof err), 1);
	assert_int_equal(
	        imap_find_message_id(im, "<j9.spoold@clinic.example>", err, sizeof err), 0);
	assert_int_equal(
	        imap_find_message_id(im, "<j2.spoold@clinic.example>", err, sizeof err), 0);
	assert_int_equal(
	        imap_find_message_id(im, "<xj2.spoold@clinic.example>", err, sizeof err), 1);
	assert_int_equal(imap_find_message_id(im, "j1\" OR ALL", err, sizeof err), -1);
	assert_non_null(strstr(err, "bad Message-ID"));
	assert_int_equal(imap_select(im, "INBOX", err, sizeof err), 0); /* still usable */
	assert_int_equal(
	        imap_find_message_id(im, "<j1.spoold@clinic.example>", err, sizeof err), 0);
	imap_free(im);
}

/* count - occurrences of needle in s */
static int count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static const char *inbox_msgs[] = {
        "From: mailer-daemon@example.net\r\nMessage-ID: <b1@example.net>\r\n"
        "Subject: Undelivered Mail\r\n\r\nbounce 1\r\n",
        "From: mailer-daemon@example.net\r\nMessage-ID: <b2@example.net>\r\n"
        "Subject: Undelivered Mail\r\n\r\nbounce 2\r\n",
        "From: notices@example.net\r\nMessage-ID: <n3@example.net>\r\n"
        "Subject: Verify your account\r\n\r\nnotice 3\r\n",
};

/* test_unprocessed - new ones only, oldest first, \Seen untouched; marked ones go */
static void test_unprocessed(void **state)
{
	struct imap_msg *m;
	struct imap *im;
	uint32_t top;
	size_t n, i;
	char *list;

	(void)state;
	if (dovecot <= 0)
		skip();
	for (i = 0; i < 3; i++)
		deliver("inbox@example.com", "INBOX", inbox_msgs[i], i == 2 ? "S" : "");
	im = open_ok(TLS_IMPLICIT, "inbox@example.com");
	assert_int_equal(imap_fetch_unprocessed(im, 0, 10, &m, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "no folder is selected"));
	assert_int_equal(imap_select(im, "INBOX", err, sizeof err), 0);
	if (imap_fetch_unprocessed(im, 0, 10, &m, &n, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(m[i].data, inbox_msgs[i]);
		assert_int_equal(m[i].len, strlen(inbox_msgs[i]));
		assert_int_equal(m[i].seen, i == 2);
		assert_int_equal(m[i].flagged, 0);
		if (i > 0)
			assert_true(m[i].uid > m[i - 1].uid);
	}
	top = m[2].uid;
	assert_non_null(list = listing("inbox@example.com", "INBOX"));
	assert_int_equal(count(list, "Seen"), 1); /* BODY.PEEK[] set no \Seen */
	free(list);

	assert_int_equal(imap_mark(im, m[0].uid, err, sizeof err), 0);
	assert_int_equal(imap_mark(im, m[1].uid, err, sizeof err), 0);
	assert_int_equal(imap_mark(im, m[1].uid, err, sizeof err), 0); /* again: harmless */
	imap_msgs_free(m, n);
	assert_int_equal(imap_fetch_unprocessed(im, 0, 10, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].uid, top);
	imap_msgs_free(m, n);
	assert_int_equal(imap_mark(im, top, err, sizeof err), 0);
	assert_int_equal(imap_fetch_unprocessed(im, 0, 10, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_null(m);
	assert_non_null(list = listing("inbox@example.com", "INBOX"));
	assert_int_equal(count(list, "$SpooldProcessed"), 3);
	assert_int_equal(count(list, "Seen"), 1);
	free(list);

	/* after_uid and max: "N:*" must not return the top UID below N */
	deliver("inbox@example.com", "INBOX", inbox_msgs[0], "");
	deliver("inbox@example.com", "INBOX", inbox_msgs[1], "");
	assert_int_equal(imap_select(im, "INBOX", err, sizeof err), 0);
	assert_int_equal(imap_fetch_unprocessed(im, top + 100, 10, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(imap_fetch_unprocessed(im, top, 1, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].data, inbox_msgs[0]);
	assert_int_equal(m[0].uid, top + 1);
	imap_msgs_free(m, n);
	assert_int_equal(imap_fetch_unprocessed(im, top + 1, 10, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].uid, top + 2);
	imap_msgs_free(m, n);
	assert_int_equal(imap_fetch_unprocessed(im, top, 0, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(imap_mark(im, 0, err, sizeof err), -1);
	imap_free(im);
}

/* test_append - stored (bare LF made CRLF), found; a missing folder is refused */
static void test_append(void **state)
{
	const char msg[] = "From: office@example.com\nMessage-ID: <canary.1@clinic.example>\n"
	                   "Subject: canary\n\ncanary body\n";
	struct imap_msg *m;
	struct imap *im;
	size_t n;

	(void)state;
	if (dovecot <= 0)
		skip();
	im = open_ok(TLS_STARTTLS, "append@example.com");
	assert_int_equal(imap_append(im, "INBOX", msg, strlen(msg), err, sizeof err), 0);
	assert_int_equal(imap_append(im, "NoSuch", msg, strlen(msg), err, sizeof err), -1);
	if (!strstr(err, "cannot store a message in folder \"NoSuch\" on 127.0.0.1:") ||
	        !strstr(err, "[TRYCREATE]"))
		fail_msg("got: %s", err);
	assert_int_equal(imap_select(im, "INBOX", err, sizeof err), 0);
	assert_int_equal(imap_find_message_id(im, "<canary.1@clinic.example>", err, sizeof err), 1);
	assert_int_equal(imap_fetch_unprocessed(im, 0, 10, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].data, "From: office@example.com\r\nMessage-ID: "
	                               "<canary.1@clinic.example>\r\nSubject: canary\r\n\r\n"
	                               "canary body\r\n");
	uint32_t first = m[0].uid;
	imap_msgs_free(m, n);
	/* A large message is read only up to IMAP_FETCH_MAX bytes. */
	size_t big = IMAP_FETCH_MAX + 50000;
	char *huge = malloc(big);
	memset(huge, 'x', big);
	memcpy(huge, "Subject: photo\r\n\r\n", 19);
	for (size_t i = 100; i + 2 < big; i += 100)
		memcpy(huge + i, "\r\n", 2);
	assert_int_equal(imap_append(im, "INBOX", huge, big, err, sizeof err), 0);
	free(huge);
	assert_int_equal(imap_fetch_unprocessed(im, first, 10, &m, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].len, IMAP_FETCH_MAX);
	assert_memory_equal(m[0].data, "Subject: photo\r\n", 16);
	imap_msgs_free(m, n);
	imap_free(im);
}

enum fake { STALL, STALL_AFTER_LOGIN, INJECT, PREAUTH };

/* fake_server - a forked server on 127.0.0.1 for one connection; its pid, *port */
static pid_t fake_server(enum fake what, int *port)
{
	char line[512], tag[64];
	int ls = listen_local(4, port), c;
	pid_t pid;
	FILE *f;

	if ((pid = fork()) != 0) {
		close(ls);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test does not kill it */
	alarm(30);
	if (what == STALL) /* the kernel completes the connection; nobody talks */
		pause();
	c = accept(ls, NULL, NULL);
	f = fdopen(c, "r+");
	fputs(what == PREAUTH ? "* PREAUTH logged in\r\n"
	                      : "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
	        f);
	fflush(f);
	while (fgets(line, sizeof line, f) && sscanf(line, "%63s", tag) == 1) {
		if (what == INJECT && strstr(line, "STARTTLS"))
			fprintf(f, "%s OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1] injected\r\n",
			        tag);
		else if (strstr(line, "LOGIN"))
			fprintf(f, "%s OK logged in\r\n", tag);
		else
			pause(); /* STALL_AFTER_LOGIN: the next command gets nothing */
		fflush(f);
	}
	pause();
	_exit(0);
}

/* fake_conf - 127.0.0.1:port, timeout 1 s */
static struct imap_conf fake_conf(enum tls_mode tls, int port)
{
	struct imap_conf ic = {.host = (char *)"127.0.0.1",
	        .port = port,
	        .tls = tls,
	        .user = (char *)USER,
	        .password = (char *)PASS,
	        .timeout = 1};

	return ic;
}

/* timed - imap_open on ic that must fail within timeout + 2 s, after the timeout */
static void timed(struct imap_conf *ic, const char *want)
{
	long long t0 = now_ms(), dt;

	assert_null(imap_open(ic, err, sizeof err));
	dt = now_ms() - t0;
	if (!strstr(err, want) || dt < 900 || dt > 3000)
		fail_msg("after %lld ms: %s", dt, err);
}

/* test_stall - a silent server: timeouts at the greeting, in the TLS
 * handshake and after LOGIN; a dead session fails at once and frees fast */
static void test_stall(void **state)
{
	struct imap_conf ic;
	struct imap *im;
	long long t0;
	int port;
	pid_t pid;

	(void)state;
	pid = fake_server(STALL, &port);
	ic = fake_conf(TLS_STARTTLS, port);
	timed(&ic, "cannot read the greeting of 127.0.0.1:");
	assert_non_null(strstr(err, ": timed out after 1 s waiting for the reply"));
	ic.tls = TLS_IMPLICIT;
	timed(&ic, "TLS handshake with 127.0.0.1:");
	assert_non_null(strstr(err, "timed out after 1 s"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	pid = fake_server(STALL_AFTER_LOGIN, &port);
	ic = fake_conf(TLS_NONE, port);
	assert_non_null(im = imap_open(&ic, err, sizeof err));
	t0 = now_ms();
	assert_int_equal(imap_select(im, "INBOX", err, sizeof err), -1);
	assert_true(now_ms() - t0 >= 900 && now_ms() - t0 < 3000);
	assert_non_null(strstr(err, "cannot open folder \"INBOX\" on 127.0.0.1:"));
	assert_non_null(strstr(err, "timed out after 1 s waiting for the reply"));
	t0 = now_ms();
	assert_int_equal(imap_select(im, "INBOX", err, sizeof err), -1);
	assert_non_null(strstr(err, "was closed after an earlier error"));
	imap_free(im);
	assert_true(now_ms() - t0 < 500); /* no LOGOUT waiting on a dead session */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* test_hostile - plaintext after STARTTLS's OK, PREAUTH before TLS */
static void test_hostile(void **state)
{
	struct imap_conf ic;
	int port;
	pid_t pid;

	(void)state;
	pid = fake_server(INJECT, &port);
	ic = fake_conf(TLS_STARTTLS, port);
	assert_null(imap_open(&ic, err, sizeof err));
	if (!strstr(err, "sent unencrypted data after its reply to STARTTLS"))
		fail_msg("got: %s", err);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pid = fake_server(PREAUTH, &port);
	ic = fake_conf(TLS_STARTTLS, port);
	assert_null(imap_open(&ic, err, sizeof err));
	assert_non_null(strstr(err, "logged us in before TLS (PREAUTH)"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* test_conf - what is refused before (or at) connecting */
static void test_conf(void **state)
{
	struct imap_conf ic = fake_conf(TLS_IMPLICIT, 1);

	(void)state;
	assert_null(imap_open(&ic, err, sizeof err));
	assert_string_equal(err, "cannot connect to 127.0.0.1:1: Connection refused");
	ic.password = NULL;
	assert_null(imap_open(&ic, err, sizeof err));
	assert_string_equal(err, "no IMAP user or password is configured for 127.0.0.1");
	ic = fake_conf(TLS_NONE, 143);
	ic.host = (char *)"imap.example.com";
	assert_null(imap_open(&ic, err, sizeof err));
	assert_string_equal(
	        err, "tls = none for imap.example.com would send the password in clear");
	ic.host = NULL;
	assert_null(imap_open(&ic, err, sizeof err));
	assert_string_equal(err, "no IMAP host is configured");
	ic = fake_conf(TLS_IMPLICIT, 993);
	ic.host = (char *)"nonexistent.invalid";
	assert_null(imap_open(&ic, err, sizeof err));
	assert_non_null(strstr(err, "cannot find the address of nonexistent.invalid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_login),
	        cmocka_unit_test(test_login_refused),
	        cmocka_unit_test(test_wrong_host),
	        cmocka_unit_test(test_select),
	        cmocka_unit_test(test_message_id),
	        cmocka_unit_test(test_unprocessed),
	        cmocka_unit_test(test_append),
	        cmocka_unit_test(test_stall),
	        cmocka_unit_test(test_hostile),
	        cmocka_unit_test(test_conf),
	};

	signal(SIGPIPE, SIG_IGN); /* the caller's duty (imap.h) */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
