/*
 * alert - the log line, the alert command and the e-mail; see alert.h.
 *
 * The command runs as /bin/sh -c COMMAND (fork and execve): in a process
 * group of its own, with the daemon's environment plus the SPOOL_*
 * variables (any inherited ones replaced), stdin from /dev/null, stdout and
 * stderr into one pipe (the first ALERT_OUT_MAX bytes kept for the log,
 * the rest read and dropped), every other descriptor closed (the daemon
 * holds inotify, signalfd and socket descriptors), an empty signal mask
 * and every disposition default (the daemon blocks SIGTERM, SIGINT and
 * SIGHUP for its signalfd and ignores SIGPIPE).  It gets
 * alerts.command_timeout seconds; then its group gets SIGTERM, and
 * ALERT_GRACE seconds later SIGKILL.  Waiting is poll(2) on the pipe and a
 * pidfd (or ALERT_TICK ms ticks without one); nothing sleeps unbounded.
 *
 * The e-mail is msg_plain's (text/plain, UTF-8, quoted-printable), sent by
 * a session of its own on [alert_relay], never [relay]: that may be the
 * very account that is blocked.  Only the Subject and the From display
 * name (RFC 2047 encoded) carry outside text into the header; the reason,
 * action, jobs and the server's words go in the body.  The header section
 * is checked with mime_header_check before it is sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alert.h"
#include "log.h"
#include "msg.h"
#include "mime.h"
#include "pid.h"
#include "smtp.h"
#include "timefmt.h"

#define ALERT_OUT_MAX 1024 /* bytes of command output kept for the log */
#define ALERT_GRACE 2      /* seconds from SIGTERM to SIGKILL, and to give up */
#define ALERT_TICK 50      /* ms between waitpid checks without a pidfd */
#define ALERT_NVARS 6

extern char **environ;

static const char *const alert_vars[ALERT_NVARS] = {"SPOOL_EVENT", "SPOOL_CATEGORY", "SPOOL_REASON",
        "SPOOL_ACTION", "SPOOL_JOB", "SPOOL_DETAIL"};

/* nz - s, or "" for NULL */
static const char *nz(const char *s)
{
	return s ? s : "";
}

/* now_ms - the monotonic clock in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* log_value - append " key=value" to buf, quoted when asked or needed */
static void log_value(char *buf, size_t len, const char *key, const char *val, int quote)
{
	size_t o = strlen(buf);
	int n;

	quote = quote || !*val || strpbrk(val, " \t\"\\=") != NULL;
	n = snprintf(buf + o, len - o, " %s=%s", key, quote ? "\"" : "");
	if (n < 0 || (size_t)n >= len - o)
		return;
	for (o += (size_t)n; *val && o + 4 < len; val++) {
		if (*val == '"' || *val == '\\')
			buf[o++] = '\\';
		buf[o++] = *val;
	}
	if (quote)
		buf[o++] = '"';
	buf[o] = '\0';
}

/* command_env - environ without SPOOL_* variables of ours, then ours;
 * entries from *own on are malloc'ed.  NULL when out of memory. */
static char **command_env(const struct alert *a, size_t *own)
{
	const char *vals[ALERT_NVARS] = {
	        a->event, a->category, a->reason, a->action, a->job, a->detail};
	size_t n = 0, k = 0, i, v;
	char **env;

	while (environ && environ[n])
		n++;
	if (!(env = calloc(n + ALERT_NVARS + 1, sizeof *env)))
		return NULL;
	for (i = 0; i < n; i++) {
		for (v = 0; v < ALERT_NVARS; v++) {
			size_t l = strlen(alert_vars[v]);
			if (!strncmp(environ[i], alert_vars[v], l) && environ[i][l] == '=')
				break;
		}
		if (v == ALERT_NVARS)
			env[k++] = environ[i];
	}
	*own = k;
	for (v = 0; v < ALERT_NVARS; v++) {
		if (asprintf(&env[k], "%s=%s", alert_vars[v], nz(vals[v])) < 0) {
			env[k] = NULL;
			while (k > *own)
				free(env[--k]);
			free(env);
			return NULL;
		}
		k++;
	}
	return env;
}

/* spawn - /bin/sh -c COMMAND in a process group of its own, stdin
 * /dev/null, output into wfd, nothing else inherited, every signal
 * default and unblocked; the pid, or -1 with errno.  The child calls only
 * async-signal-safe functions.  Dispositions are reset with the raw
 * system call: glibc's sigaction refuses its two internal signals (32 and
 * 33), which a parent that used posix_spawn (GNU make does) left ignored,
 * and an ignored signal stays ignored across exec. */
static pid_t spawn(const char *command, char **env, int wfd)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)command, NULL};
	long maxfd = sysconf(_SC_OPEN_MAX);
	static const char dfl[128]; /* a kernel struct sigaction: SIG_DFL, no flags */
	sigset_t all, old;
	pid_t pid;
	int fd;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old); /* no handler of ours runs in the child */
	if ((pid = fork()) != 0) {
		int saved = errno;
		if (pid > 0)
			setpgid(pid, pid); /* as the child does: no race with kill(-pid) */
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = saved;
		return pid;
	}
	for (int sig = 1; sig < NSIG; sig++) /* EINVAL only for SIGKILL and SIGSTOP */
		syscall(SYS_rt_sigaction, sig, dfl, NULL, (NSIG - 1) / 8);
	/* wfd above stderr first: a daemon with 0, 1 or 2 closed got them from pipe2 */
	if ((wfd = fcntl(wfd, F_DUPFD, STDERR_FILENO + 1)) < 0 || setpgid(0, 0) < 0 ||
	        (fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, STDIN_FILENO) < 0 ||
	        dup2(wfd, STDOUT_FILENO) < 0 || dup2(wfd, STDERR_FILENO) < 0)
		_exit(127);
	if (close_range(STDERR_FILENO + 1, ~0U, 0) < 0)
		for (long i = STDERR_FILENO + 1; i < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536);
		        i++)
			close((int)i);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execve("/bin/sh", argv, env);
	(void)!write(STDERR_FILENO, "cannot run /bin/sh", 18);
	_exit(127);
}

/* drain - read what the pipe holds, keeping the first ALERT_OUT_MAX
 * bytes; 1 at end of file or error, else 0.  Bounded, so a chatty command
 * cannot keep the caller from its deadline. */
static int drain(int fd, char *out, size_t *outlen)
{
	char tmp[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n > 0) {
			size_t k = ALERT_OUT_MAX - *outlen;
			k = (size_t)n < k ? (size_t)n : k;
			memcpy(out + *outlen, tmp, k);
			*outlen += k;
		} else if (n == 0 || errno != EINTR) {
			return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
		}
	}
	return 0;
}

/* reap - wait for pid under the timeout, then SIGTERM and SIGKILL its
 * group; -1 when it timed out (or could not be reaped), else 0 with *st */
static int reap(pid_t pid, int *rfd, int secs, char *out, size_t *outlen, int *st)
{
	long long deadline = now_ms() + secs * 1000LL;
	int phase = 0, pidfd = -1;

#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	for (;;) {
		struct pollfd pf[2] = {
		        {.fd = *rfd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
		pid_t w = waitpid(pid, st, WNOHANG);
		long long left;

		if (w == pid || (w < 0 && errno != EINTR)) {
			if (w < 0)
				*st = -1; /* reaped elsewhere (SIGCHLD ignored?): status unknown */
			break;
		}
		if ((left = deadline - now_ms()) <= 0) {
			if (phase == 2)
				break; /* not even SIGKILL: leave it, say so */
			kill(-pid, phase == 0 ? SIGTERM : SIGKILL);
			deadline = now_ms() + ALERT_GRACE * 1000LL;
			phase++;
			continue;
		}
		if (pidfd < 0 && left > ALERT_TICK)
			left = ALERT_TICK;
		if (poll(pf, 2, (int)(left > 60000 ? 60000 : left)) > 0 && *rfd >= 0 &&
		        (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		        drain(*rfd, out, outlen)) {
			close(*rfd);
			*rfd = -1;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (phase > 0)
		kill(-pid, SIGKILL); /* what is left of a group that overstayed */
	return phase == 0 ? 0 : -1;
}

/* run_command - alerts.command with the alert in its environment; 0 when
 * it exits 0 in time */
static int run_command(const struct conf *c, const struct alert *a)
{
	int secs = c->alerts.command_timeout > 0 ? c->alerts.command_timeout : 30;
	char out[ALERT_OUT_MAX + 1], why[128];
	size_t outlen = 0, own = 0;
	int p[2], st = 0, late;
	char **env;
	pid_t pid;

	if (!(env = command_env(a, &own))) {
		log_warnx("alert: command not run: out of memory");
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("alert: command not run: pipe");
		pid = -1;
	} else if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 ||
	           (pid = spawn(c->alerts.command, env, p[1])) < 0) {
		log_warn("alert: command not run");
		pid = -1;
		close(p[0]);
		close(p[1]);
	}
	for (size_t i = own; env[i]; i++)
		free(env[i]);
	free(env);
	if (pid < 0)
		return -1;
	close(p[1]);
	late = reap(pid, &p[0], secs, out, &outlen, &st);
	if (p[0] >= 0) {
		drain(p[0], out, &outlen);
		close(p[0]);
	}
	while (outlen > 0 && strchr(" \t\r\n", out[outlen - 1]))
		outlen--;
	out[outlen] = '\0';
	if (late)
		snprintf(why, sizeof why, "timed out after %d s and was killed", secs);
	else if (st == -1)
		snprintf(why, sizeof why, "exit status unknown");
	else if (WIFEXITED(st))
		snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, sizeof why, "killed by signal %d (%s)", WTERMSIG(st),
		        strsignal(WTERMSIG(st)));
	if (!strcmp(why, "exit status 0")) {
		log_info("alert: command done (exit status 0)");
		return 0;
	}
	log_warnx("alert: command failed: %s%s%s", why, outlen ? ": " : "", out);
	return -1;
}

/* subject_for - "spoold: sending stopped: REASON" (the reason's first line) */
static void subject_for(const struct alert *a, char *buf, size_t len)
{
	static const char *const what[][2] = {{"account-blocked", "sending stopped"},
	        {"auth-failed", "sending stopped"}, {"sender-rejected", "sending stopped"},
	        {"tls-failed", "sending stopped"}, {"rate-limited", "sending paused"},
	        {"not-delivered", "reminders not being delivered"},
	        {"not-in-sent", "reminders not being delivered"},
	        {"verify-failed", "delivery checks cannot read the mailbox"},
	        {"provider-notice", "a warning from the e-mail provider"},
	        {"job-failed", "a message could not be sent"},
	        {"job-expired", "a message expired unsent"}};
	const char *w = *nz(a->event) ? a->event : "alert", *r = nz(a->reason);
	size_t rlen = strcspn(r, "\r\n");

	for (size_t i = 0; i < sizeof what / sizeof what[0]; i++)
		if (!strcmp(w, what[i][0]))
			w = what[i][1];
	if (rlen > 150) {
		rlen = 150;
		while (rlen > 0 && ((unsigned char)r[rlen] & 0xc0) == 0x80)
			rlen--; /* not inside a UTF-8 character */
	}
	snprintf(buf, len, "spoold: %s%s%.*s", w, rlen ? ": " : "", (int)rlen, r);
}

/* body_text - what happened, what to do, which jobs, the server's words */
static char *body_text(const struct alert *a, const char *date)
{
	char host[256] = "", *s = NULL;
	size_t len = 0;
	FILE *f;

	if (gethostname(host, sizeof host - 1) < 0 || !*host)
		snprintf(host, sizeof host, "this host");
	if (!(f = open_memstream(&s, &len)))
		return NULL;
	fprintf(f, "spoold on %s needs your attention.\n\n", host);
	fprintf(f, "What happened:\n%s\n\n", *nz(a->reason) ? a->reason : "(no reason given)");
	fprintf(f, "What to do:\n%s\n\n", *nz(a->action) ? a->action : "(nothing suggested)");
	fprintf(f, "Job(s): %s\n", *nz(a->job) ? a->job : "(none)");
	fprintf(f, "Event: %s (category %s)\n", nz(a->event), *nz(a->category) ? a->category : "-");
	fprintf(f, "When: %s\n", date);
	if (*nz(a->detail))
		fprintf(f, "\nThe server's words:\n%s\n", a->detail);
	fprintf(f, "\n-- \nspoold sends this once per incident; the log has the details.\n");
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* build_mail - the whole alert message (msg_plain); NULL with the reason in err */
static char *build_mail(
        const struct conf *c, const struct alert *a, size_t *len, char *err, size_t errlen)
{
	const struct relay_conf *rc = &c->alert_relay;
	static unsigned seq;
	char subj[256], date[TIMEFMT_MAX], why[128], extra[96], msgid[MSG_ID_MAX];
	char *body, *msg = NULL;
	const char *ev = nz(a->event);
	time_t now = time(NULL);

	*len = 0;
	if (!rc->host || !*rc->host) {
		snprintf(err, errlen, "[alert_relay] has no host");
		return NULL;
	}
	if (!addr_valid(rc->from, why, sizeof why) ||
	        !addr_valid(c->alerts.alert_to, why, sizeof why)) {
		snprintf(err, errlen, "%s is not a valid address: %s",
		        addr_valid(rc->from, NULL, 0) ? "alerts.alert_to" : "alert_relay.from",
		        why);
		return NULL;
	}
	if (!*ev || strlen(ev) > 64 ||
	        strspn(ev, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(ev))
		ev = "unknown";
	rfc5322_date(now, date, sizeof date);
	subject_for(a, subj, sizeof subj);
	snprintf(extra, sizeof extra, "X-Spool-Event: %s", ev);
	snprintf(msgid, sizeof msgid, "<spoold.alert.%lld.%ld.%u@%s>", (long long)now,
	        (long)pid_self(), ++seq, addr_domain(rc->from));
	if ((body = body_text(a, date)))
		msg = msg_plain(rc, c->alerts.alert_to, subj, body, extra, msgid, now, len);
	free(body);
	if (!msg)
		snprintf(err, errlen, "out of memory");
	else if (mime_header_check(msg, *len, err, errlen) < 0) {
		free(msg);
		msg = NULL;
		*len = 0;
	}
	return msg;
}

/* send_mail - the alert to alerts.alert_to through [alert_relay] */
static int send_mail(const struct conf *c, const struct alert *a)
{
	const char *to = c->alerts.alert_to;
	struct smtp_reply r;
	char err[256];
	struct smtp *s;
	size_t len;
	char *msg;
	int rc = 0;

	if (!(msg = build_mail(c, a, &len, err, sizeof err))) {
		log_warnx("alert: e-mail to %s not sent: %s", to, err);
		return -1;
	}
	if (!(s = smtp_new(&c->alert_relay))) {
		log_warnx("alert: e-mail to %s not sent: out of memory", to);
		free(msg);
		return -1;
	}
	memset(&r, 0, sizeof r);
	if (smtp_send(s, c->alert_relay.from, to, msg, len, &r) < 0) {
		log_warnx("alert: e-mail to %s through %s failed at %s: %s", to, smtp_relay_name(s),
		        smtp_stage_name(r.stage), r.text);
		rc = -1;
	} else {
		log_info("alert: e-mail to %s sent through %s", to, smtp_relay_name(s));
	}
	smtp_free(s);
	free(msg);
	return rc;
}

/* alert_raise - log, run the command, send the e-mail */
int alert_raise(const struct conf *c, const struct alert *a)
{
	char line[4096] = "alert";
	int rc = 0;

	log_value(line, sizeof line, "event", nz(a->event), 0);
	log_value(line, sizeof line, "category", nz(a->category), 0);
	log_value(line, sizeof line, "job", nz(a->job), 0);
	log_value(line, sizeof line, "reason", nz(a->reason), 1);
	log_value(line, sizeof line, "action", nz(a->action), 1);
	log_alert("%s", line);
	if (c->alerts.command && *c->alerts.command && run_command(c, a) < 0)
		rc = -1;
	if (c->alerts.alert_to && *c->alerts.alert_to && send_mail(c, a) < 0)
		rc = -1;
	return rc;
}
