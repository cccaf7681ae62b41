/*
 * cli - what the verbs of the spool program share.
 *
 * struct cli is one run of the program: the verb, the configuration, the
 * spool (opened by cli_open, closed by main) and "now".  A verb is a
 * function taking the verb's own argv (argv[0] is the verb) and returning
 * a sysexits.h code; it reports errors with cli_err, one line each.
 *
 * Helpers here: the configuration and spool, reading a job by folder and
 * name, relative and absolute times, printing text from jobs safely (no
 * terminal control characters), an aligned table, and JSON output.
 */
#ifndef SPOOL_CLI_H
#define SPOOL_CLI_H

#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "conf.h"
#include "job.h"
#include "spooldir.h"

#define CLI_ERR_MAX 512
#define CLI_TIME_MAX 80

#define CLI_SECRETS 1u /* cli_open reads the passwords too (spool test) */
#define CLI_NOSPOOL 2u /* cli_open stops before the spool */

struct cli {
	const char *verb;     /* "list", ... */
	const char *conf_opt; /* -c FILE, or NULL */
	unsigned flags;       /* CLI_SECRETS, CLI_NOSPOOL: set by the verb before cli_open */
	struct conf conf;
	struct spooldir sd;
	int conf_loaded, sd_open;
	time_t now;
};

struct verb {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *help; /* synopsis, options, example */
	const char *summary;
};

/* The verbs, one small file per group. */
int cmd_submit(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
/* status_verify_text, status_verify_json - spool status's delivery checks
 * (status_verify.c); nothing without [verify] */
void status_verify_text(struct cli *c);
json_t *status_verify_json(struct cli *c);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_retry(struct cli *c, int argc, char **argv);
int cmd_hold(struct cli *c, int argc, char **argv);
int cmd_release(struct cli *c, int argc, char **argv);
int cmd_delete(struct cli *c, int argc, char **argv);
int cmd_resume(struct cli *c, int argc, char **argv);
int cmd_test(struct cli *c, int argc, char **argv);
extern const char help_submit[], help_list[], help_status[], help_show[], help_retry[], help_hold[],
        help_release[], help_delete[], help_resume[], help_test[];

/* cli_err - "spool VERB: message" on stderr */
void cli_err(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cli_usage - a usage error: the message, a hint to --help; returns EX_USAGE */
int cli_usage(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cli_help - print the verb's help on stdout; returns EX_OK */
int cli_help(const char *text);
/* cli_badopt - the usage error for what getopt_long returned ('?' or ':') */
int cli_badopt(const struct cli *c, int ch, char **argv);

/* cli_open - load the configuration (with the passwords when c->flags has
 * CLI_SECRETS: a password file the caller may not read is explained), drop
 * privileges when root, and open the spool (unless CLI_NOSPOOL); EX_OK or
 * an exit code (EX_CONFIG for a bad or unreadable configuration) */
int cli_open(struct cli *c);
/* cli_close - close the spool, free the configuration */
void cli_close(struct cli *c);

/* cli_find - check a NAME argument (a job name, never a path: else
 * EX_USAGE) and find its folder (else EX_NOINPUT); says why; EX_OK */
int cli_find(struct cli *c, const char *name, enum folder *f);

/* cli_read_job - read and parse folder/name; 0 ok (free with job_free and
 * free(*raw) when raw is given), -1 with the reason in err and errno set
 * (ENOENT when the file is gone) */
int cli_read_job(struct cli *c, enum folder f, const char *name, struct job *j, char **raw,
        struct stat *st, char *err, size_t errlen);
/* cli_read_reason - NAME.reason.txt of the folder, or NULL; free() it */
char *cli_read_reason(struct cli *c, enum folder f, const char *name);
/* cli_reason_line - the first line of the reason file's "What happened" /
 * "What is wrong" paragraph (else its first line) into buf */
char *cli_reason_line(const char *text, char *buf, size_t len);

/* cli_duration - "40 s", "12 min", "3 h", "2 d" */
char *cli_duration(long long secs, char *buf, size_t len);
/* cli_reltime - "in 12 min", "3 h ago", "just now", "in 2 d" */
char *cli_reltime(time_t t, time_t now, char *buf, size_t len);
/* cli_when - "Tue 2026-12-01 09:30 -06:00" in the local zone (offset
 * INT_MIN) or at a fixed UTC offset in minutes */
char *cli_when(time_t t, int offset_min, char *buf, size_t len);
/* cli_appt - "Tue Dec 01 09:30" at the appointment's own offset */
char *cli_appt(time_t t, int offset_min, char *buf, size_t len);

/* cli_safe - s with control characters (C0, DEL, C1) replaced by '?' and,
 * unless keep_nl, newlines by " / "; truncated to max columns with "..."
 * (0: no limit); returns buf */
char *cli_safe(const char *s, int keep_nl, size_t max, char *buf, size_t len);
/* cli_width - columns s takes (UTF-8 code points) */
size_t cli_width(const char *s);
/* cli_term_width - the terminal's width, 0 when stdout is not a terminal */
int cli_term_width(void);

/* An aligned table of text cells, printed once complete. */
struct table {
	size_t ncol, nrows, cap;
	const char *const *head;
	char **cells; /* nrows * ncol, owned */
};
/* table_init - a table with ncol columns named head[] */
void table_init(struct table *t, size_t ncol, const char *const *head);
/* table_add - one row of ncol cells (copied; NULL prints "-"); -1 out of memory */
int table_add(struct table *t, const char *const *cells);
/* table_print - headings and rows, columns two spaces apart, the last one
 * not padded and cut to fit a terminal of width columns (0: to 60) */
void table_print(const struct table *t, FILE *fp, int width);
/* table_free - release the cells */
void table_free(struct table *t);

/* cli_json_print - one JSON value on stdout (indented, newline); steals v */
int cli_json_print(json_t *v);
/* cli_json_time - RFC 3339 (UTC) string, or null for 0 */
json_t *cli_json_time(time_t t);
/* cli_json_str - a string, or null for NULL */
json_t *cli_json_str(const char *s);

#endif
