/*
 * status - spool status and spool resume: is mail going out?
 *
 * status answers the front desk's first question.  It prints the state of
 * the sending account (state/account-relay) and, when a fallback relay is
 * configured, of the fallback's (state/account-fallback) in plain words,
 * today's sends against the daily limit (state/pace-relay, the last 24 h),
 * then the counts per folder, the oldest waiting job and the next attempt.
 * Its exit status is EX_UNAVAILABLE while an account is blocked or suspect
 * (the provider accepts mail but does not deliver it), so a monitoring
 * check needs no parsing.
 *
 * resume is what staff run once they have re-verified the account with
 * the provider: a blocked, rate-limited or suspect account moves to probing
 * (account_resume) and its state file is rewritten, durably.  spoold sees
 * the change through inotify on state/ (or at its next start): it sends
 * one message as a probe and either runs again or stops with a new alert.
 *
 * Both work on the spool directly (lib/account, lib/pace); text from the
 * state files (the server's words) reaches the terminal only via cli_safe.
 *
 * status --write-page writes the status page (status.html, status.json,
 * spoold.prom) from the same inputs spoold uses (lib/status): the
 * accounts, state/status-counters and state/pace-relay.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "account.h"
#include "cli.h"
#include "pace.h"
#include "status.h"
#include "term.h"

const char help_status[] =
        "usage: spool status [--json | --write-page]\n"
        "\n"
        "Is mail going out?  The state of the sending account (and of the fallback\n"
        "relay's, when one is configured): running; paused until a time the provider\n"
        "set (rate-limited); STOPPED with the reason and what to do (blocked); NOT\n"
        "DELIVERING (suspect: the provider accepts reminders but they do not arrive,\n"
        "so spoold sends only a trickle or nothing while it checks) with what was\n"
        "found and what to do; or resuming (the next message is a test).  Then today's\n"
        "sends against the daily limit (the last 24 h), the counts per folder, the\n"
        "oldest waiting job (new, deferred, hold) and its age, and the next attempt\n"
        "(the earliest deferred job).\n"
        "\n"
        "Options:\n"
        "  --json   {\"folders\": {\"tmp\": N, \"new\": N, ...},\n"
        "            \"oldest_waiting\": {\"name\", \"folder\", \"age_seconds\"} or null,\n"
        "            \"next_attempt\": RFC 3339 or null,\n"
        "            \"account\": {\"relay\": ACCOUNT, \"fallback\": ACCOUNT (only when\n"
        "                        configured)},\n"
        "            \"budget\": {\"per_day\": N, \"used_24h\": N} (both null without a\n"
        "                       daily limit; used_24h null when unreadable)}\n"
        "           ACCOUNT is {\"state\" (running, rate-limited, blocked, probing,\n"
        "            suspect), \"since\", \"until\", \"category\", \"reason\", \"action\",\n"
        "            \"reply\" (suspect: what the delivery check found), \"incident\"};\n"
        "            times in RFC 3339, null when not set\n"
        "  --write-page\n"
        "           print nothing, but (re)write the status page in the spool:\n"
        "           status.html (for the front desk; patient data as status_detail\n"
        "           allows), status.json and spoold.prom (Prometheus), as spoold\n"
        "           does whenever something changes; from the accounts' states,\n"
        "           state/status-counters and state/pace-relay.  For tests, or to\n"
        "           refresh the page while spoold is stopped (run it as root or as\n"
        "           the spoold user)\n"
        "\n"
        "Exit status: 0 sending (running, resuming or paused by a rate limit);\n"
        "  69 an account is blocked or suspect (the provider accepts reminders but\n"
        "  does not deliver them): a person must act (for monitoring: alert on 69);\n"
        "  74 or 77 a state file could not be read; 78 configuration.\n"
        "  With --write-page: 0 written (whatever the state); 73 or 77 not written.\n"
        "\n"
        "Example:\n"
        "  spool status\n"
        "  spool status >/dev/null || echo \"reminders are not going out\"\n"
        "  spool status --write-page\n";

const char help_resume[] =
        "usage: spool resume [--json]\n"
        "\n"
        "Start sending again after the account was stopped (blocked), paused (rate-\n"
        "limited) or held back because mail was not being delivered (suspect), once\n"
        "you have done what spool status says (for example signed in to the account\n"
        "in a web browser and completed the provider's check, or confirmed with the\n"
        "provider that mail is delivered again).  spoold first sends one test message\n"
        "(to probe_to, or the next reminder); if the provider accepts it, sending runs\n"
        "as before; if it still refuses, sending stops again and you are alerted.  The\n"
        "delivery checks ([verify]) go on: if mail still does not arrive, sending is\n"
        "held back again.  Applies to the relay and the fallback.\n"
        "No daemon is needed: a running spoold notices at once, a stopped one at its\n"
        "next start.  Run it as root or as the spoold user.\n"
        "\n"
        "Options:\n"
        "  --json   {\"resumed\": [\"relay\", \"fallback\"] (those that were stopped,\n"
        "            paused or suspect),\n"
        "            \"account\": {\"relay\": ACCOUNT, \"fallback\": ACCOUNT}} as in\n"
        "           spool status --json, after the change\n"
        "\n"
        "Exit status: 0 done (also when nothing was stopped); 73 or 77 the state\n"
        "  could not be written; 74 it could not be read; 78 configuration.\n"
        "\n"
        "Example:\n"
        "  spool resume\n";

/* One account as status and resume show it. */
struct acct {
	const char *label; /* "Sending", "Fallback" */
	const struct relay_conf *rc;
	struct account a;
	int ok;  /* the state file could be read */
	int err; /* errno when not */
};

/* What status counts in one pass over the folders. */
struct scan {
	struct cli *c;
	size_t count[F_COUNT];
	char oldest[SPOOLDIR_NAME_MAX + 1], next[SPOOLDIR_NAME_MAX + 1];
	enum folder oldest_f;
	time_t oldest_t, next_t;
};

/* load_accounts - the relay's account and, when configured, the fallback's; how many */
static size_t load_accounts(struct cli *c, struct acct *v)
{
	size_t n = 0;

	memset(v, 0, 2 * sizeof *v);
	v[n].label = "Sending";
	v[n++].rc = &c->conf.relay;
	if (c->conf.fallback.configured) {
		v[n].label = "Fallback";
		v[n++].rc = &c->conf.fallback;
	}
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		v[i].ok = account_load(&c->sd, v[i].rc->section, &v[i].a) == 0;
		v[i].err = v[i].ok ? 0 : errno ? errno : EINVAL;
	}
	return n;
}

/* clock_time - "14:05" today, "Tue 02 Dec 14:05" another day (local time) */
static char *clock_time(time_t t, time_t now, char *buf, size_t len)
{
	struct tm a, b;

	if (!localtime_r(&t, &a) || !localtime_r(&now, &b))
		snprintf(buf, len, "?");
	else
		strftime(buf, len,
		        a.tm_yday == b.tm_yday && a.tm_year == b.tm_year ? "%H:%M"
		                                                         : "%a %d %b %H:%M",
		        &a);
	return buf;
}

/* print_words - "  LABEL TEXT" when text is not empty, made safe */
static void print_words(const char *label, const char *text)
{
	char safe[2048];

	if (text && *text)
		printf("  %s %s\n", label, cli_safe(text, 0, 0, safe, sizeof safe));
}

/* print_suspect - a suspect account: what spoold does meanwhile */
static void print_suspect(struct cli *c, const struct account *a)
{
	char rel[CLI_TIME_MAX], when[CLI_TIME_MAX];

	if (a->since)
		printf("  Noticed %s (%s). ", cli_reltime(a->since, c->now, rel, sizeof rel),
		        cli_when(a->since, INT_MIN, when, sizeof when));
	else
		printf("  ");
	if (c->conf.verify.on_suspect == SUSPECT_STOP)
		printf("spoold has stopped sending until a check message arrives again or you run "
		       "spool resume; waiting reminders are kept.\n");
	else
		printf("While it checks, spoold sends only one message every %d minutes; once a "
		       "check message arrives again, sending runs as before by itself.\n",
		        c->conf.verify.trickle_minutes > 0 ? c->conf.verify.trickle_minutes : 10);
}

/* print_account - one account's state in plain words */
static void print_account(struct cli *c, const struct acct *x)
{
	const struct account *a = &x->a;
	char rel[CLI_TIME_MAX], when[CLI_TIME_MAX], hm[CLI_TIME_MAX], why[1024];
	const char *word =
	        term_paint(TERM_YELLOW, a->state == ACCT_PROBING ? "resuming" : "paused");

	if (!x->ok) {
		printf("%s: unknown (cannot read %s/state/account-%s: %s)\n", x->label, c->sd.path,
		        x->rc->section, strerror(x->err));
		return;
	}
	cli_safe(*a->reason                 ? a->reason
	         : a->state == ACCT_SUSPECT ? "Your e-mail provider is accepting reminders but "
	                                      "not delivering them."
	                                    : "the provider refused to send",
	        0, 0, why, sizeof why);
	switch (a->state) {
	case ACCT_RUNNING:
		printf("%s: %s\n", x->label, term_paint(TERM_GREEN, "running"));
		return;
	case ACCT_PROBING:
		printf("%s: %s: the next message is a test (%s%s)\n", x->label, word,
		        c->conf.probe_to ? "to " : "the next reminder waiting",
		        c->conf.probe_to ? c->conf.probe_to : "");
		printf("  Resumed %s; if the provider accepts it, sending runs as before; if not, "
		       "sending stops again and you are alerted.\n",
		        cli_reltime(a->since, c->now, rel, sizeof rel));
		return;
	case ACCT_RATE_LIMITED:
		if (!a->until)
			printf("%s: %s — %s\n", x->label, word, why);
		else if (a->until > c->now)
			printf("%s: %s until %s (%s) because the provider asked: %s\n", x->label,
			        word, clock_time(a->until, c->now, hm, sizeof hm),
			        cli_reltime(a->until, c->now, rel, sizeof rel), why);
		else
			printf("%s: %s until %s (that time has passed: sending resumes "
			       "with the next message) — %s\n",
			        x->label, word, clock_time(a->until, c->now, hm, sizeof hm), why);
		break;
	case ACCT_BLOCKED:
		printf("%s: %s — %s\n", x->label, term_paint(TERM_RED, "STOPPED"), why);
		if (a->since)
			printf("  Stopped %s (%s).\n",
			        cli_reltime(a->since, c->now, rel, sizeof rel),
			        cli_when(a->since, INT_MIN, when, sizeof when));
		break;
	case ACCT_SUSPECT:
		printf("%s: %s — %s\n", x->label, term_paint(TERM_RED, "NOT DELIVERING"), why);
		print_suspect(c, a);
		print_words("What to do:",
		        *a->action ? a->action
		                   : "Check with your e-mail provider that mail from the account "
		                     "is delivered (look for a warning in its inbox), then run: "
		                     "spool resume");
		print_words("What was found:", a->reply);
		return;
	}
	print_words("What to do:", a->action);
	print_words("The server said:", a->reply);
}

/* str_or_null - a JSON string, null when empty */
static json_t *str_or_null(const char *s)
{
	return cli_json_str(s && *s ? s : NULL);
}

/* account_json - one account with stable keys */
static json_t *account_json(const struct acct *x)
{
	const struct account *a = &x->a;
	json_t *o = json_object();

	json_object_set_new(
	        o, "state", json_string(x->ok ? account_state_name(a->state) : "unknown"));
	json_object_set_new(o, "since", cli_json_time(x->ok ? a->since : 0));
	json_object_set_new(o, "until", cli_json_time(x->ok ? a->until : 0));
	json_object_set_new(o, "category", str_or_null(x->ok ? a->category : NULL));
	json_object_set_new(o, "reason", str_or_null(x->ok ? a->reason : NULL));
	json_object_set_new(o, "action", str_or_null(x->ok ? a->action : NULL));
	json_object_set_new(o, "reply", str_or_null(x->ok ? a->reply : NULL));
	json_object_set_new(o, "incident", x->ok ? json_integer(a->incident) : json_null());
	return o;
}

/* accounts_json - {"relay": ..., "fallback": ...} */
static json_t *accounts_json(const struct acct *v, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, v[i].rc->section, account_json(&v[i]));
	return o;
}

/* accounts_rc - EX_UNAVAILABLE when one is blocked or suspect, else why one was unreadable */
static int accounts_rc(struct cli *c, const struct acct *v, size_t n)
{
	int rc = EX_OK;

	for (size_t i = 0; i < n; i++) {
		if (v[i].ok && (v[i].a.state == ACCT_BLOCKED || v[i].a.state == ACCT_SUSPECT))
			return EX_UNAVAILABLE;
		if (!v[i].ok) {
			cli_err(c, "cannot read %s/state/account-%s: %s", c->sd.path,
			        v[i].rc->section, strerror(v[i].err));
			rc = v[i].err == EACCES ? EX_NOPERM : EX_IOERR;
		}
	}
	return rc;
}

/* budget_used - messages sent through the relay in the last 24 h; -1 not
 * known (no daily limit: spoold then keeps no day's worth of send times) or
 * unreadable (-2) */
static long long budget_used(struct cli *c)
{
	struct pace p;
	int64_t now = pace_now_ms();
	long long used;

	if (c->conf.relay.pacing.per_day <= 0)
		return -1;
	if (c->sd.fd[F_STATE] < 0)
		return 0; /* spoold has not started yet: nothing sent */
	pace_init(&p, &c->conf.relay.pacing);
	errno = 0;
	if (pace_load(&p, &c->sd, "pace-relay", now) < 0) {
		pace_free(&p);
		return errno == ENOENT ? 0 : -2;
	}
	used = (long long)pace_used(&p, now, pace_window_ms(86400));
	pace_free(&p);
	return used;
}

/* since - when a waiting job started waiting: first seen, else its mtime */
static time_t since(struct cli *c, enum folder f, const char *name, const struct stat *st)
{
	char err[CLI_ERR_MAX];
	struct job j;
	time_t t = st->st_mtime;

	if (cli_read_job(c, f, name, &j, NULL, NULL, err, sizeof err) == 0) {
		if (job_spool_time(&j, "first_seen"))
			t = job_spool_time(&j, "first_seen");
		job_free(&j);
	}
	return t < c->now ? t : c->now;
}

/* scan_one - spooldir_each callback: count a job, keep the oldest waiting and next deferred */
static int scan_one(
        struct spooldir *sd, enum folder f, const char *name, const struct stat *st, void *arg)
{
	struct scan *s = arg;

	(void)sd;
	s->count[f]++;
	if (f == F_NEW || f == F_DEFERRED || f == F_HOLD) {
		time_t t = since(s->c, f, name, st);
		if (!*s->oldest || t < s->oldest_t ||
		        (t == s->oldest_t &&
		                (f < s->oldest_f ||
		                        (f == s->oldest_f && strcmp(name, s->oldest) < 0)))) {
			snprintf(s->oldest, sizeof s->oldest, "%s", name);
			s->oldest_f = f;
			s->oldest_t = t;
		}
	}
	if (f == F_DEFERRED && (!*s->next || st->st_mtime < s->next_t ||
	                               (st->st_mtime == s->next_t && strcmp(name, s->next) < 0))) {
		snprintf(s->next, sizeof s->next, "%s", name);
		s->next_t = st->st_mtime;
	}
	return 0;
}

/* status_json - everything as one object */
static int status_json(
        struct cli *c, const struct scan *s, const struct acct *v, size_t n, long long used)
{
	json_t *o = json_object(), *f = json_object(), *w = json_null(), *b = json_object();
	int per_day = c->conf.relay.pacing.per_day;

	for (int i = 0; i < F_COUNT; i++)
		json_object_set_new(f, spooldir_folder_name((enum folder)i),
		        json_integer((json_int_t)s->count[i]));
	json_object_set_new(o, "folders", f);
	if (*s->oldest) {
		w = json_object();
		json_object_set_new(w, "name", json_string(s->oldest));
		json_object_set_new(w, "folder", json_string(spooldir_folder_name(s->oldest_f)));
		json_object_set_new(w, "age_seconds", json_integer(c->now - s->oldest_t));
	}
	json_object_set_new(o, "oldest_waiting", w);
	json_object_set_new(o, "next_attempt", cli_json_time(*s->next ? s->next_t : 0));
	json_object_set_new(o, "account", accounts_json(v, n));
	json_object_set_new(b, "per_day", per_day > 0 ? json_integer(per_day) : json_null());
	json_object_set_new(b, "used_24h", used >= 0 ? json_integer(used) : json_null());
	json_object_set_new(o, "budget", b);
	json_object_set_new(o, "verify", status_verify_json(c));
	return cli_json_print(o);
}

/* status_text - everything for people */
static void status_text(
        struct cli *c, const struct scan *s, const struct acct *v, size_t n, long long used)
{
	char rel[CLI_TIME_MAX], abs[CLI_TIME_MAX];
	int per_day = c->conf.relay.pacing.per_day;

	for (size_t i = 0; i < n; i++)
		print_account(c, &v[i]);
	if (per_day <= 0)
		printf("Today: no daily limit set ([pacing] per_day), so sends are not counted\n");
	else if (used < 0)
		printf("Today: unknown (cannot read %s/state/pace-relay)\n", c->sd.path);
	else
		printf("Today: %lld of %d sent (last 24 h)\n", used, per_day);
	status_verify_text(c);
	printf("\nSpool: %s\n\nFolders:\n", c->sd.path);
	for (int i = 0; i < F_COUNT; i++)
		printf("  %-9s %6zu\n", spooldir_folder_name((enum folder)i), s->count[i]);
	if (*s->oldest)
		printf("\nOldest waiting:  %s (%s/, waiting %s)\n", s->oldest,
		        spooldir_folder_name(s->oldest_f),
		        cli_duration(c->now - s->oldest_t, rel, sizeof rel));
	else
		printf("\nOldest waiting:  none\n");
	if (*s->next)
		printf("Next attempt:    %s, %s (%s)\n",
		        cli_reltime(s->next_t, c->now, rel, sizeof rel),
		        cli_when(s->next_t, INT_MIN, abs, sizeof abs), s->next);
	else
		printf("Next attempt:    none deferred\n");
}

/* json_only_opts - the options of a verb whose only option is --json; -1 on a usage error */
static int json_only_opts(struct cli *c, int argc, char **argv, int *rc)
{
	static const struct option lo[] = {{"json", 0, 0, 'j'}, {0, 0, 0, 0}};
	int ch, json = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch != 'j') {
			*rc = cli_badopt(c, ch, argv);
			return -1;
		}
		json = 1;
	}
	if (optind < argc) {
		*rc = cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	return json;
}

/* write_page - spool status --write-page: status_write with what spoold would pass */
static int write_page(struct cli *c)
{
	struct status_counters sc;
	struct account acc[2];
	struct acct v[2];
	size_t n = load_accounts(c, v);
	long long used = budget_used(c);
	int per_day = c->conf.relay.pacing.per_day;

	for (size_t i = 0; i < n; i++) {
		if (!v[i].ok) {
			cli_err(c, "cannot read %s/state/account-%s: %s", c->sd.path,
			        v[i].rc->section, strerror(v[i].err));
			return v[i].err == EACCES ? EX_NOPERM : EX_IOERR;
		}
		acc[i] = v[i].a;
	}
	status_load(&sc, &c->sd, c->now);
	if (status_write(&c->sd, &c->conf, &sc, acc, (int)n, per_day > 0 ? per_day : 0,
	            used >= 0 ? (int)used : -1, -1, c->now) < 0) {
		int e = errno;
		cli_err(c, "cannot write the status page in %s: %s", c->sd.path, strerror(e));
		return e == EACCES || e == EPERM ? EX_NOPERM : EX_CANTCREAT;
	}
	return EX_OK;
}

/* status_opts - --json and --write-page; -1 on a usage error */
static int status_opts(struct cli *c, int argc, char **argv, int *json, int *page, int *rc)
{
	static const struct option lo[] = {
	        {"json", 0, 0, 'j'}, {"write-page", 0, 0, 'w'}, {0, 0, 0, 0}};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch != 'j' && ch != 'w') {
			*rc = cli_badopt(c, ch, argv);
			return -1;
		}
		*(ch == 'j' ? json : page) = 1;
	}
	if (optind < argc) {
		*rc = cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (*json && *page) {
		*rc = cli_usage(c, "--json and --write-page do not go together");
		return -1;
	}
	return 0;
}

/* cmd_status - spool status */
int cmd_status(struct cli *c, int argc, char **argv)
{
	struct scan s = {.c = c};
	struct acct v[2];
	size_t n;
	long long used;
	int json = 0, page = 0, rc, arc;

	if (status_opts(c, argc, argv, &json, &page, &rc) < 0)
		return rc;
	if ((rc = cli_open(c)) != EX_OK)
		return rc;
	if (page)
		return write_page(c);
	for (int f = 0; f < F_COUNT; f++)
		if (spooldir_each(&c->sd, (enum folder)f, 0, scan_one, &s) != 0) {
			cli_err(c, "cannot read %s/%s: %s", c->sd.path,
			        spooldir_folder_name((enum folder)f), strerror(errno));
			return EX_IOERR;
		}
	n = load_accounts(c, v);
	used = budget_used(c);
	if (json)
		rc = status_json(c, &s, v, n, used);
	else
		status_text(c, &s, v, n, used);
	arc = accounts_rc(c, v, n);
	return rc != EX_OK ? rc : arc;
}

/* print_resumed - what resume did to one account, given as it was before */
static void print_resumed(struct cli *c, const struct relay_conf *rc, const struct account *a)
{
	char rel[CLI_TIME_MAX], why[1024];

	if (rc == &c->conf.fallback)
		printf("Fallback relay (%s):\n", rc->host ? rc->host : "?");
	cli_safe(*a->reason ? a->reason : a->category, 0, 0, why, sizeof why);
	printf("Sending was %s %s: %s\n",
	        a->state == ACCT_BLOCKED   ? "stopped"
	        : a->state == ACCT_SUSPECT ? "held back (mail was not being delivered)"
	                                   : "paused",
	        cli_reltime(a->since, c->now, rel, sizeof rel), why);
	printf("Sending will resume: spoold first sends one test message (%s%s); if the "
	       "provider still refuses, sending stops again and you will be alerted.\n",
	        c->conf.probe_to ? "to " : "the next reminder",
	        c->conf.probe_to ? c->conf.probe_to : "");
	if (a->state == ACCT_SUSPECT)
		printf("The delivery checks go on: if mail still does not arrive, sending is held "
		       "back again and you will be alerted.\n");
}

/* resume_one - one stopped, paused or suspect account to probing, saved durably; EX_OK or why not
 */
static int resume_one(struct cli *c, struct account *a)
{
	account_resume(a, c->now);
	if (account_save(&c->sd, a) < 0) {
		int e = errno;
		cli_err(c,
		        "cannot write %s/state/account-%s: %s (run spool resume as root or as the "
		        "spoold user)",
		        c->sd.path, a->relay, strerror(e));
		return e == EACCES || e == EPERM ? EX_NOPERM : EX_CANTCREAT;
	}
	return EX_OK;
}

/* cmd_resume - spool resume */
int cmd_resume(struct cli *c, int argc, char **argv)
{
	struct acct v[2];
	json_t *o, *resumed;
	size_t n, done = 0, probing = 0;
	int json, rc, r;

	if ((json = json_only_opts(c, argc, argv, &rc)) < 0 || (rc = cli_open(c)) != EX_OK)
		return rc;
	n = load_accounts(c, v);
	resumed = json_array();
	for (size_t i = 0; i < n; i++) {
		struct account before = v[i].a;
		if (!v[i].ok) {
			cli_err(c, "cannot read %s/state/account-%s: %s", c->sd.path,
			        v[i].rc->section, strerror(v[i].err));
			rc = v[i].err == EACCES ? EX_NOPERM : EX_IOERR;
			continue;
		}
		probing += v[i].a.state == ACCT_PROBING;
		if (v[i].a.state != ACCT_BLOCKED && v[i].a.state != ACCT_RATE_LIMITED &&
		        v[i].a.state != ACCT_SUSPECT)
			continue;
		if ((r = resume_one(c, &v[i].a)) != EX_OK) {
			rc = r;
			continue;
		}
		if (!json)
			print_resumed(c, v[i].rc, &before);
		json_array_append_new(resumed, json_string(v[i].rc->section));
		done++;
	}
	if (json) {
		o = json_object();
		json_object_set_new(o, "resumed", resumed);
		json_object_set_new(o, "account", accounts_json(v, n));
		r = cli_json_print(o);
		return rc != EX_OK ? rc : r;
	}
	json_decref(resumed);
	if (done)
		printf("(spoold notices this at once; if it is not running, at its next start.)\n");
	else if (rc == EX_OK && probing)
		printf("Nothing to resume: sending is already resuming (the next message is a "
		       "test).\n");
	else if (rc == EX_OK)
		printf("Nothing to resume: sending is running.\n");
	return rc;
}
