/*
 * server_fixture - for the unit tests that talk to a server of their own
 * (test_alert.c, test_imap.c, test_smtp_dsn.c, test_smtp_pipe.c): a
 * temporary directory (dir) and whole files read from it, tests/smtpserver.py
 * started on a free port and stopped, a listening socket on 127.0.0.1 for a
 * server forked in the test, and the relay_conf for plain SMTP to it
 * (test_dsn.c uses slurp_len only).  Header only; every function is static
 * inline so that a test need not use them all.
 */
#ifndef SPOOLD_SERVER_FIXTURE_H
#define SPOOLD_SERVER_FIXTURE_H

/* cmocka.h (and what it needs) comes first, in the test file. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"

#ifndef PYTHON
#define PYTHON "/usr/bin/python3"
#endif
#define SMTPSERVER "tests/smtpserver.py"

static char dir[64]; /* the test's temporary directory (dir_make) */

/* now_ms - the monotonic clock in milliseconds */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dir_make - a fresh /tmp/name.XXXXXX as dir; 0, or -1 */
static inline int dir_make(const char *name)
{
	snprintf(dir, sizeof dir, "/tmp/%s.XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

/* dir_remove - remove dir and all in it; 0, or -1 */
static inline int dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* path - DIR/name in a static buffer (one at a time) */
static inline const char *path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

/* slurp_len - a whole file (/proc ones too), NUL-terminated, *len its
 * size; NULL when missing */
static inline char *slurp_len(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *s = NULL;
	size_t n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		assert_non_null(s = realloc(s, *len + 4097));
		*len += n = fread(s + *len, 1, 4096, f);
	} while (n > 0);
	s[*len] = '\0';
	fclose(f);
	return s;
}

/* slurp - a whole file, NUL-terminated; NULL when missing */
static inline char *slurp(const char *p)
{
	size_t len;

	return slurp_len(p, &len);
}

/* have_python - /usr/bin/python3 with aiosmtpd, and tests/smtpserver.py */
static inline int have_python(void)
{
	return access(PYTHON, X_OK) == 0 && access(SMTPSERVER, R_OK) == 0 &&
	       system(PYTHON " -c 'import aiosmtpd' 2>/dev/null") == 0;
}

/* ready_wait - the ready file once child pid has written it (free it);
 * NULL when the child exits first or ms pass */
static inline char *ready_wait(pid_t pid, const char *ready, long long ms)
{
	long long until = now_ms() + ms;
	char *s;

	while (!(s = slurp(ready)) && now_ms() < until && waitpid(pid, NULL, WNOHANG) == 0)
		usleep(20000);
	return s;
}

/* smtpserver_start - tests/smtpserver.py [--dsn] on a free port (*port),
 * mbox DIR/name, ready file DIR/name.ready; its pid */
static inline pid_t smtpserver_start(const char *name, int dsn, int *port)
{
	char ready[256], mbox[256], *s;
	pid_t pid;

	snprintf(ready, sizeof ready, "%s/%s.ready", dir, name);
	snprintf(mbox, sizeof mbox, "%s/%s", dir, name);
	if ((pid = fork()) == 0) {
		execl(PYTHON, PYTHON, SMTPSERVER, "--port", "0", "--ready-file", ready, "--mbox",
		        mbox, dsn ? "--dsn" : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	if (!(s = ready_wait(pid, ready, 15000)))
		fail_msg("smtpserver.py did not start");
	*port = atoi(s);
	free(s);
	return pid;
}

/* server_stop - SIGTERM and reap (nothing for pid <= 0) */
static inline void server_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* listen_local - a socket listening on 127.0.0.1 at a free port (*port) */
static inline int listen_local(int backlog, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s, backlog), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return s;
}

/* relay - plain SMTP to 127.0.0.1:port, timeout in seconds */
static inline struct relay_conf relay(int port, int timeout)
{
	struct relay_conf rc;

	memset(&rc, 0, sizeof rc);
	rc.section = "relay";
	rc.host = (char *)"127.0.0.1";
	rc.port = port;
	rc.tls = TLS_NONE;
	rc.from = (char *)"clinic@example.com";
	rc.helo = (char *)"client.example.com";
	rc.timeout = timeout;
	return rc;
}

#endif
