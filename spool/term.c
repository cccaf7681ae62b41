/*
 * term - colour, width, the practice's clock and patients' names for the
 * verbs; see term.h.
 *
 * The decision to colour is taken once, at the first call of term_color,
 * from the option, stdout, NO_COLOR and TERM.  The escape sequences are
 * the plain SGR ones every terminal that is not "dumb" understands.
 * Names from jobs reach the terminal only through cli_safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "datefmt.h"
#include "term.h"

enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

static int color_mode = COLOR_AUTO;
static int color_on = -1; /* decided: 0 or 1; -1 not yet */

static const char *const sgr[] = {"", "\033[31m", "\033[32m", "\033[33m", "\033[36m", "\033[1m"};
static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* term_set_color - the --color option */
int term_set_color(const char *when)
{
	static const char *const modes[] = {"auto", "always", "never"};

	for (int i = 0; i < 3; i++)
		if (!strcmp(when, modes[i])) {
			color_mode = i;
			color_on = -1;
			return 0;
		}
	return -1;
}

/* term_color - decide once whether stdout gets colour */
int term_color(void)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (color_on >= 0)
		return color_on;
	if (color_mode != COLOR_AUTO)
		color_on = color_mode == COLOR_ALWAYS;
	else
		color_on = isatty(STDOUT_FILENO) && !(no && *no) && term && *term &&
		           strcmp(term, "dumb") != 0;
	return color_on;
}

/* term_paint - s wrapped in SGR codes, from a ring of buffers */
const char *term_paint(enum term_hue h, const char *s)
{
	static char ring[8][TERM_PAINT_MAX + 16];
	static unsigned next;
	char *buf;

	if (h == TERM_PLAIN || !term_color() || strlen(s) > TERM_PAINT_MAX)
		return s;
	buf = ring[next++ % 8];
	snprintf(buf, sizeof ring[0], "%s%s\033[0m", sgr[h], s);
	return buf;
}

/* term_folder_hue - the colour a folder's name is shown in */
enum term_hue term_folder_hue(const char *folder)
{
	static const struct {
		const char *name;
		enum term_hue h;
	} map[] = {{"new", TERM_CYAN}, {"active", TERM_CYAN}, {"deferred", TERM_YELLOW},
	        {"hold", TERM_YELLOW}, {"sent", TERM_GREEN}, {"failed", TERM_RED},
	        {"corrupt", TERM_RED}};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(folder, map[i].name))
			return map[i].h;
	return TERM_PLAIN;
}

/* term_width - the terminal's columns, else $COLUMNS, else dflt */
int term_width(int dflt)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	char *end;
	long n;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env && *env) {
		n = strtol(env, &end, 10);
		if (!*end && n >= 20 && n <= 10000)
			return (int)n;
	}
	return dflt;
}

/* term_appt - an appointment as the front desk says it */
char *term_appt(time_t t, const char *zone, char *buf, size_t len)
{
	struct datefmt_tm tm;

	if (datefmt_local(t, zone, &tm) < 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s %s %d %d:%02d %s", wday[tm.wday % 7],
		        mon[(tm.mon + 11) % 12], tm.mday, (tm.hour + 11) % 12 + 1, tm.min,
		        tm.hour < 12 ? "AM" : "PM");
	return buf;
}

/* term_clock - the time of day of an event */
char *term_clock(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		snprintf(buf, len, "??:??:??");
	else
		snprintf(buf, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

/* term_patient - the patient's name, or NULL */
const char *term_patient(const struct job *j, int raw, char *buf, size_t len)
{
	const char *first = job_get_str(j, "patient.first_name");
	const char *last = job_get_str(j, "patient.last_name");
	char both[1024];

	if ((!first || !*first) && (!last || !*last)) {
		if (!j->to_name || !*j->to_name)
			return NULL;
		snprintf(both, sizeof both, "%s", j->to_name);
	} else {
		snprintf(both, sizeof both, "%s%s%s", first ? first : "",
		        first && *first && last && *last ? " " : "", last ? last : "");
	}
	if (raw)
		snprintf(buf, len, "%s", both);
	return raw ? buf : cli_safe(both, 0, 0, buf, len);
}

/* term_sentence - the first sentence of s */
char *term_sentence(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");

	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '.' && s[i + 1] == ' ' && s[i + 2] >= 'A' && s[i + 2] <= 'Z') {
			n = i + 1;
			break;
		}
	snprintf(buf, len, "%.*s", (int)n, s);
	return buf;
}

/* term_account - an account's state in words */
const char *term_account(const struct account *a, enum term_hue *hue, char *buf, size_t len)
{
	char rel[CLI_TIME_MAX], hm[16];
	const char *who = strcmp(a->relay, "relay") ? "fallback relay " : "";

	*hue = a->state == ACCT_BLOCKED || a->state == ACCT_SUSPECT ? TERM_RED
	       : a->state == ACCT_RUNNING                           ? TERM_GREEN
	                                                            : TERM_YELLOW;
	if (a->state == ACCT_SUSPECT)
		snprintf(buf, len, "%sNOT DELIVERING: %s — %s", who,
		        *a->reason ? a->reason
		                   : "the e-mail provider is accepting reminders but not "
		                     "delivering them",
		        *a->action ? a->action : "see spool status");
	else if (a->state == ACCT_BLOCKED)
		snprintf(buf, len, "%sSTOPPED: %s — %s", who, *a->reason ? a->reason : a->category,
		        *a->action ? a->action : "see spool status");
	else if (a->state == ACCT_RATE_LIMITED && a->until)
		snprintf(buf, len, "%spaused until %.5s (%s): %s", who,
		        term_clock(a->until, hm, sizeof hm),
		        cli_reltime(a->until, time(NULL), rel, sizeof rel), a->reason);
	else if (a->state == ACCT_RATE_LIMITED)
		snprintf(buf, len, "%spaused: %s", who, a->reason);
	else if (a->state == ACCT_PROBING)
		snprintf(buf, len, "%sresuming: the next message is a test", who);
	else
		snprintf(buf, len, "%srunning again: reminders are going out", who);
	return buf;
}
