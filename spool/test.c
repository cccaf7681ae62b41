/*
 * test - spool test: the "Test Email" button, done right.
 *
 * Usage: spool test [--to ADDR] [--relay | --fallback | --alert-relay] [--json]
 *
 * Connects to one configured relay exactly as spoold does (lib/smtp:
 * STARTTLS or implicit TLS with the certificate and host name verified,
 * AUTH inside TLS), sends one short plain-text message, and says in plain
 * English what happened: accepted, or which step failed (connecting,
 * securing the connection, signing in, sending), the classifier's
 * explanation and action (lib/reply), and the server's own words last.
 *
 * The message is msg_plain's (the same as spoold's probe), not a template,
 * its header section checked with mime_header_check.  Nothing touches the spool: no job, no pacing
 * count, no change to the account's state (the state is only read, to remind staff to run spool
 * resume when a stopped account now works).  The passwords are read with the configuration
 * (CLI_SECRETS), before privileges are dropped.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "account.h"
#include "addr.h"
#include "cli.h"
#include "mime.h"
#include "msg.h"
#include "reply.h"
#include "smtp.h"
#include "timefmt.h"

#define TEST_SUBJECT "spoold test message"

const char help_test[] =
        "usage: spool test [--to ADDR] [--relay | --fallback | --alert-relay] [--json]\n"
        "\n"
        "The \"Test Email\" button: connect to the mail server exactly as spoold does\n"
        "(verified TLS, sign in with the account's password), send one short test\n"
        "message, and say in plain English what happened: accepted, or which step\n"
        "failed (connecting, securing the connection, signing in, sending), what it\n"
        "means, what to do, and the server's own words.\n"
        "\n"
        "The message goes to ADDR; by default to the practice's own address (from of\n"
        "the relay tested; with --alert-relay, alerts.alert_to when set).  It does not\n"
        "touch the spool, is not counted against the pacing limits, and does not change\n"
        "the account's state: when a stopped account works again, run spool resume.\n"
        "When spool status says NOT DELIVERING (the provider accepts mail but it does\n"
        "not arrive), an accepted test proves nothing by itself: check that it arrived\n"
        "in ADDR's inbox, then run spool resume.\n"
        "It reads the account's password: run it as root or as the spoold user.\n"
        "\n"
        "Options:\n"
        "  --to ADDR       send the test message to ADDR\n"
        "  --relay         test [relay], the practice's account (the default)\n"
        "  --fallback      test [fallback]\n"
        "  --alert-relay   test [alert_relay], the relay that carries alerts\n"
        "  --json          {\"accepted\": true or false, \"relay\": \"host:port\", \"to\",\n"
        "                   \"stage\", \"code\", \"category\", \"explanation\", \"action\",\n"
        "                   \"reply\"}\n"
        "\n"
        "Exit status: 0 accepted; 64 usage; 67 the server says ADDR does not exist;\n"
        "  69 the account or the server refused (blocked, signing in failed, TLS,\n"
        "  sender not allowed); 75 try again later (connection refused, timeout, rate\n"
        "  limit); 78 configuration (no such relay, no host, password not readable).\n"
        "\n"
        "Example:\n"
        "  spool test\n"
        "  spool test --to frontdesk@springfield-chiro.example --fallback\n";

/* pick_relay - the relay section to test, or NULL (said why) */
static const struct relay_conf *pick_relay(struct cli *c, int which)
{
	const struct relay_conf *rc = which == 'f'   ? &c->conf.fallback
	                              : which == 'a' ? &c->conf.alert_relay
	                                             : &c->conf.relay;

	if (rc != &c->conf.relay && !rc->configured) {
		cli_err(c, "%s: there is no [%s] section to test", c->conf.path, rc->section);
		return NULL;
	}
	if (!rc->host) {
		cli_err(c, "%s: [%s] has no host: set host = (or profile =) there", c->conf.path,
		        rc->section);
		return NULL;
	}
	if (!rc->from) {
		cli_err(c, "%s: [%s] has no from address: set from = in [relay]", c->conf.path,
		        rc->section);
		return NULL;
	}
	return rc;
}

/* host_name - this machine's name, letters, digits, '.' and '-' only */
static void host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0)
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	for (char *p = buf; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *p))
			*p = '-';
}

/* build - the test message (msg_plain), malloc'ed; NULL with why in err */
static char *build(struct cli *c, const struct relay_conf *rc, const char *to, const char *msgid,
        size_t *len, char *err, size_t errlen)
{
	char host[256], *body = NULL, *msg;

	host_name(host, sizeof host);
	if (asprintf(&body,
	            "This is a test message from spoold, the appointment reminder spool.\n"
	            "\n"
	            "It was sent by the command \"spool test\" on %s through the\n"
	            "[%s] relay %s:%d, as %s, to check that this account can send.\n"
	            "It is not a reminder and contains no patient information.\n"
	            "Nothing needs to be done; you may delete it.\n",
	            host, rc->section, rc->host, rc->port, rc->from) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	msg = msg_plain(rc, to, TEST_SUBJECT, body, NULL, msgid, c->now, len);
	free(body);
	if (!msg) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mime_header_check(msg, *len, err, errlen) < 0) {
		free(msg);
		return NULL;
	}
	return msg;
}

/* step - what spoold was doing when the session failed, for people */
static const char *step(const struct smtp_reply *r)
{
	if (r->tls_error || r->stage == STAGE_STARTTLS)
		return "securing the connection to";
	switch (r->stage) {
	case STAGE_CONNECT:
	case STAGE_EHLO:
		return "connecting to";
	case STAGE_AUTH:
		return "signing in to";
	default:
		return "sending through";
	}
}

/* exit_code - sysexits for a failed test */
static int exit_code(const struct smtp_reply *r, const struct verdict *v)
{
	if (r->refused && r->stage != STAGE_RCPT && v->cat != CAT_TLS_FAILED)
		return EX_CONFIG; /* spoold refused the step itself: the settings must change */
	switch (v->cat) {
	case CAT_TRANSIENT:
	case CAT_UNKNOWN_OUTCOME:
	case CAT_RATE_LIMITED:
		return EX_TEMPFAIL;
	case CAT_RECIPIENT_INVALID:
		return EX_NOUSER;
	default:
		return EX_UNAVAILABLE;
	}
}

/* server_words - the reply for people: "CODE line" per line, or the local error */
static void server_words(const struct smtp_reply *r)
{
	char safe[sizeof r->text * 2];
	const char *p = cli_safe(r->text, 1, 0, safe, sizeof safe);

	if (!r->code) {
		printf("Details: %s\n", *p ? cli_safe(r->text, 0, 0, safe, sizeof safe) : "none");
		return;
	}
	printf("The server said:\n");
	while (*p) {
		size_t n = strcspn(p, "\n");
		printf("  %d %.*s\n", r->code, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* stopped_hint - after an accepted test to addr: remind staff when spoold still holds back */
static void stopped_hint(struct cli *c, const struct relay_conf *rc, const char *to)
{
	char err[CLI_ERR_MAX], rel[CLI_TIME_MAX];
	struct account a;

	if (rc == &c->conf.alert_relay ||
	        spooldir_open(&c->sd, c->conf.spool_dir, 0, err, sizeof err) < 0)
		return;
	c->sd_open = 1;
	if (account_load(&c->sd, rc->section, &a) == 0 &&
	        (a.state == ACCT_BLOCKED || a.state == ACCT_RATE_LIMITED))
		printf("spoold still has sending through [%s] %s (since %s); the account works "
		       "now, so run: spool resume\n",
		        rc->section, a.state == ACCT_BLOCKED ? "stopped" : "paused",
		        cli_reltime(a.since, c->now, rel, sizeof rel));
	else if (a.state == ACCT_SUSPECT)
		printf("spoold has held back sending through [%s] since %s because the provider "
		       "was accepting reminders but not delivering them: an accepted test does not "
		       "prove delivery. Check that the test message arrived at %s; if it did, run: "
		       "spool resume\n",
		        rc->section, cli_reltime(a.since, c->now, rel, sizeof rel), to);
}

/* report_json - the outcome with stable keys */
static int report_json(int ok, const char *relay, const char *to, const struct smtp_reply *r,
        const struct verdict *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "accepted", json_boolean(ok));
	json_object_set_new(o, "relay", json_string(relay));
	json_object_set_new(o, "to", json_string(to));
	json_object_set_new(o, "stage", json_string(smtp_stage_name(r->stage)));
	json_object_set_new(o, "code", json_integer(r->code));
	json_object_set_new(o, "category", json_string(reply_category_name(v->cat)));
	json_object_set_new(o, "explanation", cli_json_str(ok ? NULL : v->explanation));
	json_object_set_new(o, "action", cli_json_str(ok ? NULL : v->action));
	json_object_set_new(o, "reply", json_string(r->text));
	return cli_json_print(o);
}

/* send_test - one session, one message; the exit status */
static int send_test(struct cli *c, const struct relay_conf *rc, const char *to, int json)
{
	char name[64], msgid[512], err[CLI_ERR_MAX], relay[300];
	struct smtp_reply r = {0};
	struct verdict v;
	struct smtp *s;
	size_t len;
	char *msg;
	int ok, rc_exit;

	snprintf(name, sizeof name, "test.%lld.%ld", (long long)c->now, (long)getpid());
	msg_message_id(name, rc->from, msgid, sizeof msgid);
	if (!(msg = build(c, rc, to, msgid, &len, err, sizeof err))) {
		cli_err(c, "cannot make the test message: %s", err);
		return EX_CONFIG;
	}
	if (!(s = smtp_new(rc))) {
		free(msg);
		cli_err(c, "out of memory");
		return EX_OSERR;
	}
	signal(SIGPIPE, SIG_IGN);
	ok = smtp_send(s, rc->from, to, msg, len, &r) == 0;
	snprintf(relay, sizeof relay, "%s", smtp_relay_name(s));
	smtp_free(s);
	free(msg);
	reply_judge_local(&r, time(NULL), &v);
	if (ok)
		v.cat = CAT_SENT;
	if (v.cat == CAT_RECIPIENT_INVALID) { /* not a patient's address: the test's own */
		v.explanation = "The server says the address the test message was sent to does "
		                "not exist or does not take e-mail.";
		v.action = "Check the address (--to ADDR, else from in the relay's section) and "
		           "run spool test again.";
	}
	rc_exit = ok ? EX_OK : exit_code(&r, &v);
	if (json) {
		int jrc = report_json(ok, relay, to, &r, &v);
		return jrc != EX_OK ? jrc : rc_exit;
	}
	if (ok) {
		printf("The test message was accepted by %s for %s. (This proves the account can "
		       "send; check the inbox of %s to confirm delivery.)\n",
		        relay, to, to);
		printf("Subject: " TEST_SUBJECT "; Message-ID: %s\n", msgid);
		stopped_hint(c, rc, to);
		return EX_OK;
	}
	printf("The test message was NOT sent: %s %s failed.\n", step(&r), relay);
	printf("What happened: %s\n", v.explanation ? v.explanation : reply_explain(v.cat));
	if (v.action)
		printf("What to do: %s\n", v.action);
	server_words(&r);
	return rc_exit;
}

/* cmd_test - spool test */
int cmd_test(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {{"to", 1, 0, 't'}, {"relay", 0, 0, 'r'},
	        {"fallback", 0, 0, 'f'}, {"alert-relay", 0, 0, 'a'}, {"json", 0, 0, 'j'},
	        {0, 0, 0, 0}};
	const struct relay_conf *rc;
	const char *to = NULL;
	char why[128];
	int ch, json = 0, which = 0, rc_open;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch == 't')
			to = optarg;
		else if (ch == 'j')
			json = 1;
		else if (ch == 'r' || ch == 'f' || ch == 'a') {
			if (which && which != ch)
				return cli_usage(c, "one of --relay, --fallback, --alert-relay");
			which = ch;
		} else
			return cli_badopt(c, ch, argv);
	}
	if (optind < argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (to && !addr_valid(to, why, sizeof why))
		return cli_usage(c, "--to: not one e-mail address: %s", why);
	c->flags |= CLI_SECRETS | CLI_NOSPOOL;
	if ((rc_open = cli_open(c)) != EX_OK)
		return rc_open;
	if (!(rc = pick_relay(c, which)))
		return EX_CONFIG;
	if (!to)
		to = which == 'a' && c->conf.alerts.alert_to ? c->conf.alerts.alert_to : rc->from;
	return send_test(c, rc, to, json);
}
