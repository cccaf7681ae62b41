/*
 * watch - spool watch: what happens in the spool, as it happens.
 *
 * One line per event, for a person at the front desk or the IT contact
 * ("09:31:02  sent     Jane Doe <jane@example.com>  reminder for Tue Dec 1
 * 9:30 AM"), or with --json one object per line for a program.  Events: a
 * job queued (new/), retried or released (new/, from failed/ or hold/),
 * deferred (with the next try), held, sent, FAILED (with why), a file
 * found corrupt (when its reason file appears), and the sending account
 * STOPPED, NOT DELIVERING (suspect), paused, resuming or running again
 * (state/account-RELAY, read with account_load; printed when the state or
 * the incident changes).
 *
 * inotify watches new/ deferred/ hold/ sent/ failed/ corrupt/ and state/
 * for IN_MOVED_TO and IN_CLOSE_WRITE (a file written in place) and for
 * IN_MOVED_FROM, which is only remembered: a job rewritten in place (a
 * hidden temporary renamed over it, as spooldir_move does) arrives from
 * its own folder and is not an event; a job arriving from failed/ or
 * hold/ was retried or released.  A writer that closes its file after the
 * rename into new/ (spooldir_move) makes no second event.  Jobs are read through cli_read_job and
 * shown through cli_safe.  It runs until SIGINT or SIGTERM (a signalfd),
 * or until --count N events were printed; both exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <unistd.h>

#include "account.h"
#include "cli.h"
#include "reply.h"
#include "term.h"

int cmd_watch(struct cli *c, int argc, char **argv); /* for main.c */

const char help_watch[] =
        "usage: spool watch [--json] [--count N]\n"
        "\n"
        "Print what happens in the spool as it happens, one line per event, until\n"
        "Ctrl-C: a job queued, retried or released, deferred (with the next try),\n"
        "held, sent, FAILED (with why), a file found corrupt; and the sending account\n"
        "STOPPED (with the reason and what to do), NOT DELIVERING (the provider accepts\n"
        "reminders but they do not arrive; with what to do), paused, resuming or\n"
        "running again.\n"
        "Times are the practice's.  It works with or without spoold running.\n"
        "\n"
        "Options:\n"
        "  --json      one JSON object per line: {\"time\", \"event\" (queued, retried,\n"
        "              released, deferred, held, sent, failed, corrupt), \"folder\",\n"
        "              \"name\", \"patient\", \"to\", \"kind\", \"appointment\", \"reason\",\n"
        "              \"next_attempt\"}; or {\"time\", \"event\": \"account\", \"relay\",\n"
        "              \"state\" (running, rate-limited, blocked, probing, suspect),\n"
        "              \"since\", \"until\", \"category\", \"reason\", \"action\"};\n"
        "              times in RFC 3339, null when not known\n"
        "  --count N   exit after N events\n"
        "\n"
        "Exit status: 0 after Ctrl-C, SIGTERM or N events; 74 cannot watch; 78 config.\n"
        "\n"
        "Example:\n"
        "  spool watch\n"
        "  spool watch --json | my-dashboard\n";

#define NWATCH 7   /* the folders watched */
#define NMOVED 16  /* moves remembered to pair with their arrival */
#define NRELAY 4   /* accounts followed */
#define WORD_COL 8 /* the event word's column width */

static const int watched[NWATCH] = {
        F_NEW, F_DEFERRED, F_HOLD, F_SENT, F_FAILED, F_CORRUPT, F_STATE};

struct watch {
	struct cli *c;
	int fd, json, width;
	int quiet; /* reading the accounts as they are at the start: no events */
	int wd[NWATCH], root_wd;
	struct {
		uint32_t cookie;
		int folder;
	} moved[NMOVED];
	unsigned nmoved;
	char arrived[NMOVED][SPOOLDIR_NAME_MAX + 1]; /* the latest moved into new/ */
	unsigned narrived;
	struct account acct[NRELAY];
	int nacct;
	long left; /* events still to print; -1 no limit */
};

/* One job event. */
struct jev {
	const char *word; /* "sent", "FAILED", ... */
	enum term_hue hue;
	const char *name, *folder;
	const struct job *j; /* NULL when unreadable */
	char detail[2200], reason[1024];
	time_t next;
};

/* printed - one event out; 1 when --count is reached */
static int printed(struct watch *w)
{
	fflush(stdout);
	return w->left > 0 && --w->left == 0;
}

/* put_json - one object on one line; steals o; 1 when --count is reached */
static int put_json(struct watch *w, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	if (s)
		puts(s);
	free(s);
	return printed(w);
}

/* put_line - "09:31:02  WORD     who  detail", the detail cut to the terminal */
static void put_line(
        struct watch *w, const char *word, enum term_hue hue, const char *who, const char *detail)
{
	char clock[16], safe[1200];
	int used = 10 + WORD_COL + 1 + (int)cli_width(who) + 2;
	size_t max = w->width > used + 20 ? (size_t)(w->width - used) : 0;

	printf("%s  %s%*s %s%s%s\n", term_clock(time(NULL), clock, sizeof clock),
	        term_paint(hue, word), (int)(WORD_COL - strlen(word)), "", who, *detail ? "  " : "",
	        cli_safe(detail, 0, max, safe, sizeof safe));
}

/* put_job - one job event, as text or JSON */
static int put_job(struct watch *w, struct jev *e)
{
	char who[600], name[256], mail[300], pat[512];
	const struct job *j = e->j;

	if (w->json) {
		json_t *o = json_object();
		json_object_set_new(o, "time", cli_json_time(time(NULL)));
		json_object_set_new(
		        o, "event", json_string(!strcmp(e->word, "FAILED") ? "failed" : e->word));
		json_object_set_new(o, "folder", json_string(e->folder));
		json_object_set_new(o, "name", json_string(e->name));
		json_object_set_new(
		        o, "patient", cli_json_str(j ? term_patient(j, 1, pat, sizeof pat) : NULL));
		json_object_set_new(o, "to", cli_json_str(j ? j->to_email : NULL));
		json_object_set_new(o, "kind", cli_json_str(j ? j->kind : NULL));
		json_object_set_new(o, "appointment",
		        cli_json_str(j ? job_get_str(j, "appointment.start") : NULL));
		json_object_set_new(o, "reason", cli_json_str(*e->reason ? e->reason : NULL));
		json_object_set_new(o, "next_attempt", cli_json_time(e->next));
		return put_json(w, o);
	}
	if (!j)
		cli_safe(e->name, 0, 80, who, sizeof who);
	else if (term_patient(j, 0, name, sizeof name))
		snprintf(who, sizeof who, "%s <%s>", cli_safe(name, 0, 60, name, sizeof name),
		        cli_safe(j->to_email, 0, 80, mail, sizeof mail));
	else
		cli_safe(j->to_email, 0, 80, who, sizeof who);
	put_line(w, e->word, e->hue, who, e->detail);
	return printed(w);
}

/* for_appt - "reminder for Tue Dec 1 9:30 AM" (or the kind alone) */
static void for_appt(struct watch *w, const struct job *j, char *buf, size_t len)
{
	char appt[CLI_TIME_MAX];

	if (!j)
		snprintf(buf, len, "(the job cannot be read)");
	else if (j->appt_start)
		snprintf(buf, len, "%s for %s", j->kind,
		        term_appt(j->appt_start, w->c->conf.timezone, appt, sizeof appt));
	else
		snprintf(buf, len, "%s", j->kind);
}

/* describe - what a job's arrival in folder (from folder from, or -1) means */
static void describe(struct watch *w, int folder, int from, struct jev *e)
{
	const struct job *j = e->j;
	const char *r = j ? job_spool_str(j, "reason") : NULL;
	char rel[CLI_TIME_MAX], first[1024];
	struct job_attempt a = {0};

	if (r)
		term_sentence(r, e->reason, sizeof e->reason);
	switch (folder) {
	case F_NEW:
		e->word = from == F_FAILED ? "retried" : from == F_HOLD ? "released" : "queued";
		e->hue = TERM_CYAN;
		*e->reason = '\0';
		for_appt(w, j, e->detail, sizeof e->detail);
		return;
	case F_DEFERRED:
		e->word = "deferred";
		e->hue = TERM_YELLOW;
		if (j && job_attempts(j))
			job_get_attempt(j, job_attempts(j) - 1, &a);
		if (a.category && reply_category_parse(a.category) >= 0)
			term_sentence(
			        reply_explain((enum category)reply_category_parse(a.category)),
			        e->reason, sizeof e->reason);
		snprintf(e->detail, sizeof e->detail, "next try %s%s%s",
		        cli_reltime(e->next, time(NULL), rel, sizeof rel), *e->reason ? ": " : "",
		        e->reason);
		return;
	case F_HOLD:
		e->word = "held";
		e->hue = TERM_YELLOW;
		if (from == F_NEW || from == F_DEFERRED || !*e->reason)
			snprintf(e->reason, sizeof e->reason, "kept back by staff");
		snprintf(e->detail, sizeof e->detail, "%s", e->reason);
		return;
	case F_SENT:
		e->word = "sent";
		e->hue = TERM_GREEN;
		for_appt(w, j, first, sizeof first);
		if (j && job_spool_str(j, "duplicate_of"))
			snprintf(e->reason, sizeof e->reason, "not sent again: a duplicate of %s",
			        job_spool_str(j, "duplicate_of"));
		snprintf(e->detail, sizeof e->detail, "%s%s%s", first, *e->reason ? ": " : "",
		        e->reason);
		return;
	default:
		e->word = "FAILED";
		e->hue = TERM_RED;
		if (!*e->reason)
			snprintf(e->reason, sizeof e->reason, "see %s/%s.reason.txt", e->folder,
			        e->name);
		snprintf(e->detail, sizeof e->detail, "%s", e->reason);
	}
}

/* job_event - a job arrived in folder; 1 when --count is reached */
static int job_event(struct watch *w, int folder, int from, const char *name)
{
	struct jev e = {.name = name, .folder = spooldir_folder_name((enum folder)folder)};
	char err[CLI_ERR_MAX];
	struct stat st;
	struct job j;
	int now, rc, ok;

	ok = cli_read_job(w->c, (enum folder)folder, name, &j, NULL, &st, err, sizeof err) == 0;
	if (!ok && errno == ENOENT && (now = spooldir_locate(&w->c->sd, name)) >= 0)
		ok = !cli_read_job(w->c, (enum folder)now, name, &j, NULL, NULL, err, sizeof err);
	e.j = ok ? &j : NULL;
	e.next = ok && folder == F_DEFERRED ? st.st_mtime : 0;
	describe(w, folder, from, &e);
	rc = put_job(w, &e);
	if (ok)
		job_free(&j);
	return rc;
}

/* corrupt_event - corrupt/NAME.reason.txt appeared */
static int corrupt_event(struct watch *w, const char *side)
{
	struct jev e = {.word = "corrupt", .hue = TERM_RED, .folder = "corrupt"};
	char name[SPOOLDIR_NAME_MAX + 1], *text;

	snprintf(name, sizeof name, "%.*s", (int)(strlen(side) - strlen(SPOOLDIR_REASON_SUFFIX)),
	        side);
	e.name = name;
	if ((text = cli_read_reason(w->c, F_CORRUPT, name))) {
		cli_reason_line(text, e.reason, sizeof e.reason);
		free(text);
	}
	snprintf(e.detail, sizeof e.detail, "not a valid job: %s",
	        *e.reason ? e.reason : "see its reason file");
	return put_job(w, &e);
}

/* account_event - state/account-RELAY changed; 1 when --count is reached */
static int account_event(struct watch *w, const char *relay)
{
	struct account a, *prev = NULL;
	char text[2400], safe[2400];
	enum term_hue hue;

	for (int i = 0; i < w->nacct && !prev; i++)
		if (!strcmp(w->acct[i].relay, relay))
			prev = &w->acct[i];
	if (!prev && w->nacct < NRELAY)
		account_init(prev = &w->acct[w->nacct++], relay);
	if (!prev || account_load(&w->c->sd, relay, &a) < 0)
		return 0;
	if (a.state == prev->state && a.incident == prev->incident && a.until == prev->until)
		return 0;
	*prev = a;
	if (w->quiet)
		return 0;
	if (w->json) {
		json_t *o = json_object();
		json_object_set_new(o, "time", cli_json_time(time(NULL)));
		json_object_set_new(o, "event", json_string("account"));
		json_object_set_new(o, "relay", json_string(a.relay));
		json_object_set_new(o, "state", json_string(account_state_name(a.state)));
		json_object_set_new(o, "since", cli_json_time(a.since));
		json_object_set_new(o, "until", cli_json_time(a.until));
		json_object_set_new(o, "category", cli_json_str(*a.category ? a.category : NULL));
		json_object_set_new(o, "reason", cli_json_str(*a.reason ? a.reason : NULL));
		json_object_set_new(o, "action", cli_json_str(*a.action ? a.action : NULL));
		return put_json(w, o);
	}
	term_account(&a, &hue, text, sizeof text);
	put_line(w, "account", hue, cli_safe(text, 0, 0, safe, sizeof safe), "");
	return printed(w);
}

/* moved_from - the folder a move with this cookie left, or -1 */
static int moved_from(struct watch *w, uint32_t cookie)
{
	for (unsigned i = 0; i < NMOVED && i < w->nmoved; i++)
		if (w->moved[i].cookie == cookie)
			return w->moved[i].folder;
	return -1;
}

/* arrived - whether name was moved into new/ lately (then its writer's
 * close, which comes after the rename, is no new event); add: remember it */
static int arrived(struct watch *w, const char *name, int add)
{
	for (unsigned i = 0; !add && i < NMOVED && i < w->narrived; i++)
		if (!strcmp(w->arrived[i], name))
			return 1;
	if (add)
		snprintf(w->arrived[w->narrived++ % NMOVED], sizeof w->arrived[0], "%s", name);
	return 0;
}

/* watch_state - add the watch on state/ (once it exists); 0 or -1 */
static int watch_state(struct watch *w)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/state", w->c->sd.path);
	w->wd[NWATCH - 1] =
	        inotify_add_watch(w->fd, path, IN_MOVED_TO | IN_CLOSE_WRITE | IN_MOVED_FROM);
	if (w->wd[NWATCH - 1] < 0)
		return -1;
	if (w->c->sd.fd[F_STATE] < 0)
		w->c->sd.fd[F_STATE] =
		        openat(w->c->sd.root, "state", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

/* one_event - one inotify event; 1 when --count is reached */
static int one_event(struct watch *w, const struct inotify_event *ev)
{
	const size_t k = sizeof SPOOLDIR_REASON_SUFFIX - 1;
	int i, from, folder;
	size_t n;

	if (ev->wd == w->root_wd) { /* state/ made: watch it, and look at once */
		if (!ev->len || strcmp(ev->name, "state") || w->wd[NWATCH - 1] >= 0)
			return 0;
		return watch_state(w) == 0 ? account_event(w, "relay") : 0;
	}
	for (i = 0; i < NWATCH && w->wd[i] != ev->wd; i++)
		;
	if (i == NWATCH || !ev->len)
		return 0;
	folder = watched[i];
	if (ev->mask & IN_MOVED_FROM) {
		w->moved[w->nmoved++ % NMOVED].cookie = ev->cookie;
		w->moved[(w->nmoved - 1) % NMOVED].folder = folder;
		return 0;
	}
	if (ev->name[0] == '.')
		return 0;
	if (folder == F_STATE)
		return strncmp(ev->name, "account-", 8) ? 0 : account_event(w, ev->name + 8);
	n = strlen(ev->name);
	if (n > k && !strcmp(ev->name + n - k, SPOOLDIR_REASON_SUFFIX)) /* a side file */
		return folder == F_CORRUPT ? corrupt_event(w, ev->name) : 0;
	if (!spooldir_name_valid(ev->name) || folder == F_CORRUPT)
		return 0;
	if (ev->mask & IN_CLOSE_WRITE)
		return folder == F_NEW && !arrived(w, ev->name, 0)
		               ? job_event(w, folder, -1, ev->name)
		               : 0;
	from = moved_from(w, ev->cookie);
	if (from == folder)
		return 0; /* rewritten in place, not moved */
	if (folder == F_NEW)
		arrived(w, ev->name, 1);
	return job_event(w, folder, from, ev->name);
}

/* run - read events until a signal or --count; EX_OK or EX_IOERR */
static int run(struct watch *w, int sfd)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd p[2] = {{.fd = w->fd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			return EX_OK; /* SIGINT or SIGTERM */
		ssize_t n = p[0].revents ? read(w->fd, buf, sizeof buf) : 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			break;
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)q;
			q += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				cli_err(w->c, "too many changes at once: some were not shown");
			else if (one_event(w, ev))
				return EX_OK;
		}
	}
	cli_err(w->c, "cannot read events: %s", strerror(errno));
	return EX_IOERR;
}

/* start - the watches, the signal descriptor and the accounts as they are; EX_OK or why not */
static int start(struct watch *w, int *sfd)
{
	const uint32_t mask = IN_MOVED_TO | IN_CLOSE_WRITE | IN_MOVED_FROM;
	struct cli *c = w->c;
	char path[4096];
	sigset_t sig;

	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		cli_err(c, "inotify: %s", strerror(errno));
		return EX_OSERR;
	}
	for (int k = 0; k < NWATCH; k++) {
		snprintf(path, sizeof path, "%s/%s", c->sd.path,
		        watched[k] == F_STATE ? "state"
		                              : spooldir_folder_name((enum folder)watched[k]));
		w->wd[k] = inotify_add_watch(w->fd, path, mask);
		if (w->wd[k] < 0 && watched[k] != F_STATE) {
			cli_err(c, "cannot watch %s: %s", path, strerror(errno));
			return errno == EACCES ? EX_NOPERM : EX_IOERR;
		}
	}
	w->root_wd = w->wd[NWATCH - 1] < 0 ? inotify_add_watch(w->fd, c->sd.path,
	                                             IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
	                                   : -1;
	if (w->wd[NWATCH - 1] < 0 && w->root_wd >= 0)
		watch_state(w); /* it may have appeared meanwhile */
	w->quiet = 1;           /* the accounts as they are now are not events */
	account_event(w, "relay");
	if (c->conf.fallback.configured)
		account_event(w, "fallback");
	w->quiet = 0;
	sigemptyset(&sig);
	sigaddset(&sig, SIGINT);
	sigaddset(&sig, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &sig, NULL) < 0 ||
	        (*sfd = signalfd(-1, &sig, SFD_CLOEXEC)) < 0) {
		cli_err(c, "signals: %s", strerror(errno));
		return EX_OSERR;
	}
	return EX_OK;
}

/* cmd_watch - spool watch */
int cmd_watch(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {{"json", 0, 0, 'j'}, {"count", 1, 0, 'n'}, {0, 0, 0, 0}};
	struct watch w = {.c = c, .fd = -1, .left = -1};
	int ch, rc, sfd = -1;
	char *end;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch == 'j') {
			w.json = 1;
		} else if (ch == 'n') {
			w.left = strtol(optarg, &end, 10);
			if (*end || end == optarg || w.left < 1)
				return cli_usage(c, "--count takes a number of events, 1 or more");
		} else {
			return cli_badopt(c, ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if ((rc = cli_open(c)) != EX_OK)
		return rc;
	w.width = w.json ? 0 : cli_term_width();
	if ((rc = start(&w, &sfd)) == EX_OK) {
		cli_err(c, "watching %s (Ctrl-C to stop)", c->sd.path);
		rc = run(&w, sfd);
	}
	if (w.fd >= 0)
		close(w.fd);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
