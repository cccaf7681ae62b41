/*
 * cli - helpers shared by the verbs of the spool program; see cli.h.
 *
 * Owns the order of start-up (configuration, with the passwords for spool
 * test; then, when root, the configured user; then the spool), the wording
 * of errors, and every conversion of job data to text for a terminal:
 * nothing from a job reaches the terminal without cli_safe.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "timefmt.h"
#include "utf8.h"

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* cli_verr - "spool VERB: message" */
static void cli_verr(const struct cli *c, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "spool%s%s: ", c && c->verb ? " " : "", c && c->verb ? c->verb : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* cli_err - one line on stderr */
void cli_err(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verr(c, fmt, ap);
	va_end(ap);
}

/* cli_usage - a usage error with a pointer to --help */
int cli_usage(const struct cli *c, const char *fmt, ...)
{
	char msg[CLI_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_err(c, "%s (see: spool %s --help)", msg, c && c->verb ? c->verb : "");
	return EX_USAGE;
}

/* cli_help - a verb's help text on stdout */
int cli_help(const char *text)
{
	fputs(text, stdout);
	return EX_OK;
}

/* cli_badopt - explain what getopt_long did not like */
int cli_badopt(const struct cli *c, int ch, char **argv)
{
	extern int optind, optopt;
	const char *arg = argv[optind - 1];

	if (ch == ':')
		return cli_usage(c, "option %s needs a value", arg);
	if (optopt && strncmp(arg, "--", 2))
		return cli_usage(c, "unknown option -%c", optopt);
	return cli_usage(c, "unknown option %s", arg);
}

/* drop_privileges - started as root: become the configured user */
static int drop_privileges(struct cli *c)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return EX_OK;
	pw = c->conf.user ? getpwnam(c->conf.user) : NULL;
	if (!pw) {
		cli_err(c, "%s: user \"%s\" does not exist: create it or set user =", c->conf.path,
		        c->conf.user ? c->conf.user : "");
		return EX_NOUSER;
	}
	if (pw->pw_uid == 0)
		return EX_OK;
	if (setgroups(0, NULL) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	        setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 || setuid(0) == 0) {
		cli_err(c, "cannot become user %s: %s", pw->pw_name, strerror(errno));
		return EX_OSERR;
	}
	return EX_OK;
}

/* load_secrets - the configuration again, with the passwords; a password
 * file the caller may not read is named with the way out */
static int load_secrets(struct cli *c)
{
	const struct relay_conf *r[] = {&c->conf.relay, &c->conf.fallback, &c->conf.alert_relay};
	char err[CLI_ERR_MAX];
	struct conf s;

	if (conf_load(&s, c->conf.path, err, sizeof err) == 0) {
		conf_free(&c->conf);
		c->conf = s;
		return EX_OK;
	}
	for (size_t i = 0; i < 3; i++)
		if (r[i]->password_file && access(r[i]->password_file, R_OK) < 0 &&
		        errno == EACCES) {
			cli_err(c,
			        "spool %s needs to read the account's password (%s.password_file "
			        "%s: %s): run it as root or as the spoold user (%s)",
			        c->verb, r[i]->section, r[i]->password_file, strerror(EACCES),
			        c->conf.user ? c->conf.user : "spoold");
			return EX_CONFIG;
		}
	cli_err(c, "%s", err);
	return EX_CONFIG;
}

/* cli_open - configuration (and secrets), privileges, spool (unless CLI_NOSPOOL) */
int cli_open(struct cli *c)
{
	char err[CLI_ERR_MAX];
	int rc;

	c->now = time(NULL);
	if (conf_load_nosecret(&c->conf, conf_path(c->conf_opt), err, sizeof err) < 0) {
		cli_err(c, "%s", err);
		return EX_CONFIG;
	}
	c->conf_loaded = 1;
	if ((c->flags & CLI_SECRETS) && (rc = load_secrets(c)) != EX_OK)
		return rc;
	if ((rc = drop_privileges(c)) != EX_OK)
		return rc;
	if (c->conf.timezone && setenv("TZ", c->conf.timezone, 1) == 0)
		tzset();
	if (c->flags & CLI_NOSPOOL)
		return EX_OK;
	if (spooldir_open(&c->sd, c->conf.spool_dir, 0, err, sizeof err) < 0) {
		int e = errno;
		cli_err(c, "%s", err);
		return e == ENOENT ? EX_CONFIG : e == EACCES || e == EPERM ? EX_NOPERM : EX_IOERR;
	}
	c->sd_open = 1;
	return EX_OK;
}

/* cli_close - spool and configuration */
void cli_close(struct cli *c)
{
	if (c->sd_open)
		spooldir_close(&c->sd);
	if (c->conf_loaded)
		conf_free(&c->conf);
	c->sd_open = c->conf_loaded = 0;
}

/* cli_find - a job name argument and its folder */
int cli_find(struct cli *c, const char *name, enum folder *f)
{
	char safe[64];
	int got;

	if (!spooldir_name_valid(name)) {
		cli_err(c,
		        "\"%s\" is not a job name (letters, digits and ._:,=+- only; "
		        "a name, never a path)",
		        cli_safe(name, 0, 40, safe, sizeof safe));
		return EX_USAGE;
	}
	got = spooldir_locate(&c->sd, name);
	if (got < 0) {
		cli_err(c, "%s: no such job in the spool %s", name, c->sd.path);
		return EX_NOINPUT;
	}
	*f = (enum folder)got;
	return EX_OK;
}

/* cli_read_job - read and parse folder/name */
int cli_read_job(struct cli *c, enum folder f, const char *name, struct job *j, char **raw,
        struct stat *st, char *err, size_t errlen)
{
	char *buf;
	size_t len;

	memset(j, 0, sizeof *j);
	if (raw)
		*raw = NULL;
	if (spooldir_read(&c->sd, f, name, JOB_MAX_SIZE, &buf, &len, st, err, errlen) < 0)
		return -1;
	if (job_parse(j, buf, len, err, errlen) < 0) {
		free(buf);
		errno = EINVAL;
		return -1;
	}
	if (raw)
		*raw = buf;
	else
		free(buf);
	return 0;
}

/* cli_read_reason - the reason file beside a job, or NULL */
char *cli_read_reason(struct cli *c, enum folder f, const char *name)
{
	char side[SPOOLDIR_NAME_MAX + 32], err[CLI_ERR_MAX], *buf;
	size_t len;

	snprintf(side, sizeof side, "%s%s", name, SPOOLDIR_REASON_SUFFIX);
	if (spooldir_read(&c->sd, f, side, JOB_MAX_SIZE, &buf, &len, NULL, err, sizeof err) < 0)
		return NULL;
	return buf;
}

/* cli_reason_line - the gist of a reason file in one line */
char *cli_reason_line(const char *text, char *buf, size_t len)
{
	static const char *const heads[] = {"What happened:\n", "What is wrong:\n"};
	const char *p = NULL;
	size_t n;

	for (size_t i = 0; i < 2 && !p; i++)
		if ((p = strstr(text, heads[i])))
			p += strlen(heads[i]);
	if (!p)
		p = text;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	n = strcspn(p, "\n");
	snprintf(buf, len, "%.*s", (int)n, p);
	return buf;
}

/* cli_duration - "12 min", "3 h", "2 d", "40 s" for a number of seconds */
char *cli_duration(long long secs, char *buf, size_t len)
{
	long long a = secs < 0 ? -secs : secs;

	if (a < 60)
		snprintf(buf, len, "%lld s", a);
	else if (a < 3600)
		snprintf(buf, len, "%lld min", a / 60);
	else if (a < 48 * 3600)
		snprintf(buf, len, "%lld h", a / 3600);
	else
		snprintf(buf, len, "%lld d", a / 86400);
	return buf;
}

/* cli_reltime - a time relative to now, in words a person reads at a glance */
char *cli_reltime(time_t t, time_t now, char *buf, size_t len)
{
	long long d = (long long)t - (long long)now;
	char dur[32];

	if (d > -5 && d < 5)
		snprintf(buf, len, "just now");
	else if (d > 0)
		snprintf(buf, len, "in %s", cli_duration(d, dur, sizeof dur));
	else
		snprintf(buf, len, "%s ago", cli_duration(d, dur, sizeof dur));
	return buf;
}

/* cli_when - an absolute time for people, with its offset */
char *cli_when(time_t t, int offset_min, char *buf, size_t len)
{
	struct tm tm;
	long off;
	time_t s = t;

	if (offset_min == INT_MIN) {
		if (!localtime_r(&t, &tm)) {
			snprintf(buf, len, "?");
			return buf;
		}
		off = tm.tm_gmtoff / 60;
	} else {
		off = offset_min;
		s = t + (time_t)offset_min * 60;
		if (!gmtime_r(&s, &tm)) {
			snprintf(buf, len, "?");
			return buf;
		}
	}
	snprintf(buf, len, "%s %04d-%02d-%02d %02d:%02d %c%02ld:%02ld", wday[tm.tm_wday],
	        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	        off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	return buf;
}

/* cli_appt - an appointment for a table column */
char *cli_appt(time_t t, int offset_min, char *buf, size_t len)
{
	time_t s = t + (time_t)offset_min * 60;
	struct tm tm;

	if (!gmtime_r(&s, &tm))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s %s %02d %02d:%02d", wday[tm.tm_wday], mon[tm.tm_mon],
		        tm.tm_mday, tm.tm_hour, tm.tm_min);
	return buf;
}

/* utf8_len - length of the valid UTF-8 sequence at p (NUL-terminated), 0
 * when invalid */
static size_t utf8_len(const unsigned char *p)
{
	return utf8_char(p, 4);
}

/* cli_width - display columns, counting code points */
size_t cli_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* cli_safe - text from a job made safe for a terminal, maybe shortened */
char *cli_safe(const char *s, int keep_nl, size_t max, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0, i, cols = 0, keep = max > 3 ? max - 3 : 0;

	if (len < 4) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	while (*p) {
		size_t k = utf8_len(p), rlen;
		const char *rep = NULL;

		if (*p == '\n')
			rep = keep_nl ? "\n" : " / ";
		else if (k == 0 || *p < 0x20 || *p == 0x7f ||
		         (k == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			rep = "?";
		rlen = rep ? strlen(rep) : k;
		if (o + rlen + 4 > len) {
			memcpy(buf + o, "...", 4);
			return buf;
		}
		memcpy(buf + o, rep ? rep : (const char *)p, rlen);
		o += rlen;
		p += k ? k : 1;
	}
	buf[o] = '\0';
	if (!max || cli_width(buf) <= max)
		return buf;
	/* Keep max - 3 columns and mark the cut. */
	for (i = 0; buf[i]; i++)
		if (((unsigned char)buf[i] & 0xc0) != 0x80 && cols++ == keep)
			break;
	memcpy(buf + i, "...", 4);
	return buf;
}

/* cli_term_width - columns of the terminal on stdout, or 0 */
int cli_term_width(void)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		return 0;
	return ws.ws_col;
}

/* table_init - an empty table */
void table_init(struct table *t, size_t ncol, const char *const *head)
{
	memset(t, 0, sizeof *t);
	t->ncol = ncol;
	t->head = head;
}

/* table_add - append a row, each cell made safe */
int table_add(struct table *t, const char *const *cells)
{
	char safe[1024];

	if (t->nrows == t->cap) {
		size_t n = t->cap ? t->cap * 2 : 32;
		char **v = realloc(t->cells, n * t->ncol * sizeof *v);
		if (!v)
			return -1;
		t->cells = v;
		t->cap = n;
	}
	for (size_t i = 0; i < t->ncol; i++) {
		char *s = strdup(cells[i] ? cli_safe(cells[i], 0, 0, safe, sizeof safe) : "-");
		if (!s) {
			while (i > 0)
				free(t->cells[t->nrows * t->ncol + --i]);
			return -1;
		}
		t->cells[t->nrows * t->ncol + i] = s;
	}
	t->nrows++;
	return 0;
}

/* table_row - print one row padded to the widths, the last cut to last */
static void table_row(
        const struct table *t, const char *const *cells, const size_t *w, size_t last, FILE *fp)
{
	char cut[1024];

	for (size_t i = 0; i + 1 < t->ncol; i++)
		fprintf(fp, "%s%*s", cells[i], (int)(w[i] - cli_width(cells[i]) + 2), "");
	fprintf(fp, "%s\n", cli_safe(cells[t->ncol - 1], 0, last, cut, sizeof cut));
}

/* table_print - headings and rows, aligned */
void table_print(const struct table *t, FILE *fp, int width)
{
	size_t *w = calloc(t->ncol, sizeof *w), used = 0, last = 60;

	if (!w)
		return;
	for (size_t i = 0; i < t->ncol; i++)
		w[i] = cli_width(t->head[i]);
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncol; i++) {
			size_t n = cli_width(t->cells[r * t->ncol + i]);
			if (n > w[i])
				w[i] = n;
		}
	for (size_t i = 0; i + 1 < t->ncol; i++)
		used += w[i] + 2;
	if (width > 0)
		last = (size_t)width > used + 20 ? (size_t)width - used - 1 : 20;
	table_row(t, t->head, w, last, fp);
	for (size_t r = 0; r < t->nrows; r++)
		table_row(t, (const char *const *)&t->cells[r * t->ncol], w, last, fp);
	free(w);
}

/* table_free - release every cell */
void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

/* cli_json_print - a JSON value on stdout */
int cli_json_print(json_t *v)
{
	int rc;

	if (!v)
		return EX_SOFTWARE;
	rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (rc < 0 || fputc('\n', stdout) == EOF)
		return EX_IOERR;
	return EX_OK;
}

/* cli_json_time - RFC 3339 or null */
json_t *cli_json_time(time_t t)
{
	char buf[TIMEFMT_MAX];

	if (!t || !*rfc3339_format(t, buf, sizeof buf))
		return json_null();
	return json_string(buf);
}

/* cli_json_str - a string or null */
json_t *cli_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}
