/*
 * log - one logging interface for spoold and spool.
 *
 * spoold logs to syslog (LOG_MAIL) or, in the foreground, to stderr with a
 * timestamp.  Following OpenSMTPD: log_warn appends strerror(errno),
 * log_warnx does not.  log_alert logs at LOG_ERR: things staff must see.
 * The module owns no memory the caller sees.
 */
#ifndef SPOOLD_LOG_H
#define SPOOLD_LOG_H

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_open(const char *ident, int foreground);
void log_set_debug(int on);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_alert(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
