/*
 * log - syslog (LOG_MAIL) or stderr logging; see log.h.
 *
 * In the foreground each line is "YYYY-mm-ddTHH:MM:SSZ ident[pid]: level: text"
 * on stderr, written with one write() so lines of several processes do not
 * interleave.  Owns only the identity string given to log_open.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pid.h"

static const char *log_ident = "spoold";
static int log_fg = 1;
static int log_dbg;

/* log_open - choose syslog or stderr */
void log_open(const char *ident, int foreground)
{
	log_ident = ident;
	log_fg = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_debug - turn debug lines on or off */
void log_set_debug(int on)
{
	log_dbg = on;
}

/* log_emit - format one line and send it where it belongs */
static void log_emit(int prio, const char *level, int err, const char *fmt, va_list ap)
{
	char msg[4096];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);

	if (n < 0)
		return;
	if (err && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
	/* Never let a control character from data split a log line. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (!log_fg) {
		syslog(prio, "%s", msg);
		return;
	}
	char line[4400], ts[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	int len = snprintf(line, sizeof line, "%s.%03ldZ %s[%ld]: %s%s\n", ts,
	        now.tv_nsec / 1000000, log_ident, (long)pid_self(), level, msg);
	if (len > (int)sizeof line - 1) {
		len = (int)sizeof line - 1;
		line[len - 1] = '\n';
	}
	ssize_t w = write(STDERR_FILENO, line, (size_t)len);
	(void)w;
}

#define LOG_BODY(prio, level, err)                                                                 \
	do {                                                                                       \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(prio, level, err, fmt, ap);                                               \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	} while (0)

/* log_info - an ordinary event */
void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, "", 0);
}

/* log_debug - only with log_set_debug(1) */
void log_debug(const char *fmt, ...)
{
	if (log_dbg)
		LOG_BODY(LOG_DEBUG, "debug: ", 0);
}

/* log_warn - a problem, with strerror(errno) appended */
void log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning: ", saved);
}

/* log_warnx - a problem, without errno */
void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning: ", 0);
}

/* log_alert - something staff must act on (LOG_ERR) */
void log_alert(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "error: ", 0);
}
