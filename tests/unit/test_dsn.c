/*
 * test_dsn - unit tests for dsn_parse and dsn_judge (lib/dsn*.c).
 *
 * 1. Every message of $SPOOLD_TEST_DATA/bounces/ (RFC 3464 reports from
 *    Postfix, Gmail, Exchange Online and sendmail; Exchange, Yahoo, qmail
 *    and Exim text bounces; a delay and a success report; each provider
 *    notice; ordinary mail that must stay DSN_NONE; a malformed report)
 *    gives exactly the fields in the table below, with LF and with CRLF
 *    line ends, and dsn_judge the category; every file is in the table.
 * 2. Cases of our own: a notice needs its sender and its subject; a bounce
 *    needs a mail system as sender; HTML-only bounces; garbage, prefixes,
 *    deep nesting and oversized messages.
 * Run: make unit (SPOOLD_TEST_DATA=tests/data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <glob.h>

#include "dsn.h"
#include "reply.h"
#include "server_fixture.h"

#define NOW ((time_t)1796040000)
#define NONE (-1) /* no category: dsn_judge answers -1 */

struct want {
	const char *file;
	enum dsn_kind kind;
	const char *message_id, *envid, *recipient, *status, *diagnostic, *notice;
	int cat;
};

static const struct want wants[] = {
        {"postfix-bounce.eml", DSN_BOUNCE,
                "<spoold.20250304-0930-r7k2.1741098600@smilesdental.example>", "20250304-0930-r7k2",
                "m.garcia@patientmail.example", "5.1.1",
                "550 5.1.1 <m.garcia@patientmail.example>: Recipient address rejected: User "
                "unknown in virtual mailbox table",
                "", CAT_RECIPIENT_INVALID},
        {"gmail-bounce.eml", DSN_BOUNCE,
                "<spoold.20250305-1015-a9f3.1741187700@smilesdental.example>", "",
                "jsmith1962@example.net", "5.1.1",
                "550-5.1.1 The email account that you tried to reach does not exist. Please "
                "try 550-5.1.1 double-checking the recipient's email address for typos or "
                "550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1 "
                "https://support.google.com/mail/?p=NoSuchUser a1si1234567pfb.123 - gsmtp",
                "", CAT_RECIPIENT_INVALID},
        {"exchange-online-ndr.eml", DSN_BOUNCE,
                "<spoold.20250310-0900-e7a1.1741611900@lakeside-pt.example>", "",
                "a.nguyen@contoso-mail.example", "5.1.10",
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
                "a.nguyen@contoso-mail.example not found by SMTP address lookup",
                "", CAT_RECIPIENT_INVALID},
        {"sendmail-bounce.eml", DSN_BOUNCE,
                "<spoold.20250308-0940-b2.1741444980@northside-vet.example>", "20250308-0940+b2",
                "k.obrien@fastmail-example.org", "5.2.2",
                "552 5.2.2 <k.obrien@fastmail-example.org>... Mailbox full", "", CAT_TRANSIENT},
        {"exchange-ndr.eml", DSN_BOUNCE,
                "<spoold.20250306-0800-c41d.1741269730@riverside-clinic.example>", "",
                "rchen@harbor-logistics.example", "5.1.1",
                "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", "", CAT_RECIPIENT_INVALID},
        {"yahoo-failure.eml", DSN_BOUNCE,
                "<spoold.20250307-0920-d5e6.1741357320@smilesdental.example>", "",
                "lwilliams@att-example.net", "5.0.0",
                "554: delivery error: dd This user doesn't have a att-example.net account "
                "(lwilliams@att-example.net) [0] - mta4017.mail.gq1.yahoo.com",
                "", CAT_RECIPIENT_INVALID},
        {"qmail-bounce.eml", DSN_BOUNCE,
                "<spoold.20250308-1140-f2c9.1741452000@lakeside-pt.example>", "",
                "dpatel@oldisp.example", "5.1.1",
                "198.51.100.7 does not like recipient. Remote host said: 550 5.1.1 "
                "<dpatel@oldisp.example>... User unknown Giving up on 198.51.100.7.",
                "", CAT_RECIPIENT_INVALID},
        {"exim-bounce.eml", DSN_BOUNCE,
                "<spoold.20250311-1012-h8j2.1741687960@brightsmile-ortho.example>", "",
                "s.kowalski@example.org", "5.1.1",
                "host mx.example.org [203.0.113.9] SMTP error from remote mail server after "
                "RCPT TO:<s.kowalski@example.org>: 550 5.1.1 <s.kowalski@example.org>: "
                "Recipient address rejected: User unknown in local recipient table",
                "", CAT_RECIPIENT_INVALID},
        {"postfix-delay.eml", DSN_DELAY,
                "<spoold.20250305-0955-k3m8.1741186500@smilesdental.example>", "20250305-0955-k3m8",
                "t.baker@slowmail.example", "4.4.1",
                "connect to mx.slowmail.example[198.51.100.80]:25: Connection timed out", "",
                CAT_TRANSIENT},
        {"postfix-success.eml", DSN_NONE,
                "<spoold.20250306-0810-p4q1.1741266630@smilesdental.example>", "20250306-0810-p4q1",
                "a.lopez@example.com", "2.0.0",
                "250 2.0.0 OK 1741266644 d2e1a72fcca58-73690e1c7c2si1234567b3a.88 - gsmtp", "",
                NONE},
        {"malformed.eml", DSN_BOUNCE, "", "broken+4 id", "", "5.1.1",
                "550 5.1.1 <lost@nowhere.example> unknown", "", CAT_RECIPIENT_INVALID},
        {"notice-zoho-blocked.eml", DSN_NOTICE, "", "", "", "", "", "zoho-outgoing-blocked", NONE},
        {"notice-microsoft-verify.eml", DSN_NOTICE, "", "", "", "", "", "microsoft-verify-account",
                NONE},
        {"notice-microsoft-blocked.eml", DSN_NOTICE, "", "", "", "", "",
                "microsoft-account-blocked", NONE},
        {"notice-google-signin-blocked.eml", DSN_NOTICE, "", "", "", "", "",
                "google-signin-blocked", NONE},
        {"notice-google-review-signin.eml", DSN_NOTICE, "", "", "", "", "", "google-signin-blocked",
                NONE},
        {"notice-google-critical.eml", DSN_NOTICE, "", "", "", "", "",
                "google-critical-security-alert", NONE},
        {"notice-google-security-alert.eml", DSN_NOTICE, "", "", "", "", "",
                "google-security-alert", NONE},
        {"notice-ses-paused.eml", DSN_NOTICE, "", "", "", "", "", "ses-sending-paused", NONE},
        {"patient-reply.eml", DSN_NONE, "", "", "", "", "", "", NONE},
        {"patient-question.eml", DSN_NONE, "", "", "", "", "", "", NONE},
        {"autoreply-ooo.eml", DSN_NONE, "", "", "", "", "", "", NONE},
};

/* crlf - s with every LF as CRLF (malloc'ed) */
static char *crlf(const char *s, size_t n, size_t *out)
{
	char *r = malloc(2 * n + 1);
	size_t i, o = 0;

	assert_non_null(r);
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			r[o++] = '\r';
		r[o++] = s[i];
	}
	*out = o;
	return r;
}

/* data_path - $SPOOLD_TEST_DATA/bounces/name */
static const char *data_path(const char *name)
{
	static char p[1024];
	const char *data = getenv("SPOOLD_TEST_DATA");

	snprintf(p, sizeof p, "%s/bounces/%s", data ? data : "tests/data", name);
	return p;
}

/* check - d against w (the file's name for messages) */
static void check(const struct want *w, const struct dsn *d, const char *how)
{
	struct verdict v;

	if (d->kind != w->kind || strcmp(d->message_id, w->message_id) ||
	        strcmp(d->envid, w->envid) || strcmp(d->recipient, w->recipient) ||
	        strcmp(d->status, w->status) || strcmp(d->diagnostic, w->diagnostic) ||
	        strcmp(d->notice, w->notice))
		fail_msg("%s (%s): kind %d mid [%s] envid [%s] rcpt [%s] status [%s] diag [%s] "
		         "notice [%s]",
		        w->file, how, d->kind, d->message_id, d->envid, d->recipient, d->status,
		        d->diagnostic, d->notice);
	if (w->kind == DSN_NOTICE) {
		assert_true(strlen(d->reason) > 20);
		assert_non_null(strstr(d->action, "run: spool resume"));
	} else {
		assert_string_equal(d->reason, "");
		assert_string_equal(d->action, "");
	}
	if (w->cat == NONE)
		assert_int_equal(dsn_judge(d, NOW, &v), -1);
	else {
		assert_int_equal(dsn_judge(d, NOW, &v), 0);
		if ((int)v.cat != w->cat)
			fail_msg("%s: dsn_judge gave %s (%s)", w->file, reply_category_name(v.cat),
			        v.rule);
	}
}

/* test_files - every sample, LF and CRLF */
static void test_files(void **state)
{
	size_t i, n, m;
	struct dsn d;
	char *s, *c;

	(void)state;
	for (i = 0; i < sizeof wants / sizeof wants[0]; i++) {
		if (!(s = slurp_len(data_path(wants[i].file), &n)))
			fail_msg("cannot read %s", data_path(wants[i].file));
		assert_int_equal(dsn_parse(s, n, &d), 0);
		check(&wants[i], &d, "LF");
		c = crlf(s, n, &m);
		assert_int_equal(dsn_parse(c, m, &d), 0);
		check(&wants[i], &d, "CRLF");
		free(c);
		free(s);
	}
}

/* test_all_listed - every file of bounces/ has its row (at least 15) */
static void test_all_listed(void **state)
{
	glob_t g;
	size_t i, k;

	(void)state;
	assert_int_equal(glob(data_path("*.eml"), 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 15);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		for (k = 0; k < sizeof wants / sizeof wants[0]; k++)
			if (!strcmp(base, wants[k].file))
				break;
		if (k == sizeof wants / sizeof wants[0])
			fail_msg("%s has no expectations in test_dsn.c", base);
	}
	globfree(&g);
}

/* parse - dsn_parse of a string; the kind */
static enum dsn_kind parse(const char *msg, struct dsn *d)
{
	assert_int_equal(dsn_parse(msg, strlen(msg), d), 0);
	return d->kind;
}

/* with - a message from "from" with subject "subject" and body "body" */
static const char *with(const char *from, const char *subject, const char *body)
{
	static char m[4096];

	snprintf(m, sizeof m,
	        "From: %s\nTo: frontdesk@smilesdental.example\nSubject: %s\n"
	        "Date: Mon, 17 Mar 2025 10:00:00 +0000\nMIME-Version: 1.0\n"
	        "Content-Type: text/plain; charset=UTF-8\n\n%s\n",
	        from, subject, body);
	return m;
}

/* test_notice_rules - sender and subject both, never a reply, never a patient */
static void test_notice_rules(void **state)
{
	const char *body = "Someone used your password. Verify your account. Unblock.";
	struct dsn d;

	(void)state;
	assert_int_equal(parse(with("Google <no-reply@accounts.google.com>",
	                               "Sign-in attempt was blocked", body),
	                         &d),
	        DSN_NOTICE);
	assert_string_equal(d.notice, "google-signin-blocked");
	/* a patient (any domain, even the provider's consumer one) */
	assert_int_equal(parse(with("Maria <maria.lopez1984@gmail.com>",
	                               "Sign-in attempt was blocked", body),
	                         &d),
	        DSN_NONE);
	assert_int_equal(
	        parse(with("Tom <tbaker77@outlook.com>", "Please verify your account", body), &d),
	        DSN_NONE);
	assert_int_equal(
	        parse(with("Jo <jo@zoho.com>", "Re: Email Outgoing Blocked", body), &d), DSN_NONE);
	/* a look-alike domain is not a subdomain */
	assert_int_equal(
	        parse(with("x <alerts@notmicrosoft.com>", "Verify your account", body), &d),
	        DSN_NONE);
	assert_int_equal(
	        parse(with("x <a@microsoft.com.evil.example>", "Verify your account", body), &d),
	        DSN_NONE);
	/* the provider, but a reply, a forward, or another subject */
	assert_int_equal(parse(with("Google <no-reply@accounts.google.com>",
	                               "Re: Sign-in attempt was blocked", body),
	                         &d),
	        DSN_NONE);
	assert_int_equal(parse(with("Staff <frontdesk@smilesdental.example>",
	                               "Fwd: Critical security alert", body),
	                         &d),
	        DSN_NONE);
	assert_int_equal(parse(with("Google <no-reply@accounts.google.com>",
	                               "Your Google Account storage is 80% full", body),
	                         &d),
	        DSN_NONE);
	/* subdomains, case and white space */
	assert_int_equal(
	        parse(with("Microsoft account team <Account-Security-NoReply@AccountProtection."
	                   "Microsoft.com>",
	                      "Please   VERIFY your\n account", body),
	                &d),
	        DSN_NOTICE);
	assert_string_equal(d.notice, "microsoft-verify-account");
	assert_string_equal(d.message_id, "");
	assert_int_equal(parse(with("AWS <no-reply-aws@amazon.com>",
	                               "Amazon SES sending paused for account 1234", body),
	                         &d),
	        DSN_NOTICE);
	assert_string_equal(d.notice, "ses-sending-paused");
	assert_int_equal(
	        parse(with("Jeff <jeff@amazon.com>", "Sending paused?", body), &d), DSN_NONE);
}

/* test_bounce_needs_mail_system - bounce words from a person are ordinary mail */
static void test_bounce_needs_mail_system(void **state)
{
	const char *body = "Sorry, we were unable to deliver your message to the following "
	                   "address.\n\n<a.b@patient.example>:\n550 5.1.1 user unknown\n";
	char m[4200];
	struct dsn d;

	(void)state;
	assert_int_equal(
	        parse(with("Ann <ann@gmail.com>", "Undelivered Mail Returned to Sender", body), &d),
	        DSN_NONE);
	assert_string_equal(d.recipient, "");
	assert_int_equal(parse(with("MAILER-DAEMON@mx.example.net", "failure notice", body), &d),
	        DSN_BOUNCE);
	assert_string_equal(d.recipient, "a.b@patient.example");
	assert_string_equal(d.status, "5.1.1");
	assert_string_equal(d.diagnostic, "550 5.1.1 user unknown");
	/* only a null Return-Path: the subject must say it, and auto-replies never do */
	snprintf(m, sizeof m, "Return-Path: <>\n%s",
	        with("Relay <notify@relay.example>", "Undeliverable: Reminder", body));
	assert_int_equal(parse(m, &d), DSN_BOUNCE);
	assert_string_equal(d.recipient, "a.b@patient.example");
	snprintf(m, sizeof m, "Return-Path: <>\n%s",
	        with("Relay <notify@relay.example>", "About your reminder", body));
	assert_int_equal(parse(m, &d), DSN_NONE);
	snprintf(m, sizeof m, "Return-Path: <>\n%s",
	        with("Ann <ann@gmail.com>", "Out of Office: Undeliverable: Reminder", body));
	assert_int_equal(parse(m, &d), DSN_NONE);
	/* a postmaster without bounce words in subject or text */
	assert_int_equal(parse(with("postmaster@clinic.example", "Mailbox quota policy",
	                               "The mailbox quota is now 5 GB."),
	                         &d),
	        DSN_NONE);
	/* a delay notice without a report: DSN_DELAY */
	assert_int_equal(parse(with("Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
	                               "Delivery Status Notification (Delay)",
	                               "Your message to x.y@slow.example has not been "
	                               "delivered yet. Gmail will retry for 46 more hours.\n"
	                               "The response was:\n451 4.3.0 Mail server temporarily "
	                               "rejected message."),
	                         &d),
	        DSN_DELAY);
	assert_string_equal(d.recipient, "x.y@slow.example");
	assert_string_equal(d.status, "4.3.0");
}

/* test_html_only - an NDR whose only text is HTML, without a report */
static void test_html_only(void **state)
{
	static const char m[] =
	        "Return-Path: <>\nFrom: postmaster@clinic.onmicrosoft.com\n"
	        "Subject: Undeliverable: Reminder\nMIME-Version: 1.0\n"
	        "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
	        "--b1\nContent-Type: text/html; charset=us-ascii\n\n"
	        "<html><body><p>Your message to <b>z.q@far.example</b> couldn&#39;t be "
	        "delivered.</p><p>z.q@far.example<br>Remote Server returned &#39;550 5.1.10 "
	        "RESOLVER.ADR.RecipientNotFound; not found&#39;<br></p></body></html>\n"
	        "--b1\nContent-Type: message/rfc822\n\nFrom: a@clinic.example\n"
	        "Message-ID: <spoold.x.1@clinic.example>\nSubject: Reminder\n\nHello\n"
	        "--b1--\n";
	struct dsn d;

	(void)state;
	assert_int_equal(parse(m, &d), DSN_BOUNCE);
	assert_string_equal(d.recipient, "z.q@far.example");
	assert_string_equal(d.status, "5.1.10");
	assert_string_equal(d.diagnostic, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found");
	assert_string_equal(d.message_id, "<spoold.x.1@clinic.example>");
}

/* test_report_blocks - the block that matters most wins; a comment after
 * the status; a base64 report; Final-Recipient when there is no Original */
static void test_report_blocks(void **state)
{
	static const char m[] =
	        "From: MAILER-DAEMON@mx.example\nSubject: Delivery Status Notification\n"
	        "MIME-Version: 1.0\n"
	        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
	        "--b\nContent-Type: text/plain\n\nSee below.\n"
	        "--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
	        /* Reporting-MTA: dns; mx.example, then a delivered block, then a failed one */
	        "UmVwb3J0aW5nLU1UQTogZG5zOyBteC5leGFtcGxlCgpGaW5hbC1SZWNpcGllbnQ6IHJmYzgyMjsg\n"
	        "b2tAcGF0aWVudC5leGFtcGxlCkFjdGlvbjogZGVsaXZlcmVkClN0YXR1czogMi4wLjAKCkZpbmFs\n"
	        "LVJlY2lwaWVudDogcmZjODIyOyA8Z29uZUBwYXRpZW50LmV4YW1wbGU+CkFjdGlvbjogZmFpbGVk\n"
	        "ClN0YXR1czogNS4xLjEgKGJhZCBkZXN0aW5hdGlvbiBtYWlsYm94IGFkZHJlc3MpCg==\n"
	        "--b--\n";
	struct dsn d;

	(void)state;
	assert_int_equal(parse(m, &d), DSN_BOUNCE);
	assert_string_equal(d.recipient, "gone@patient.example");
	assert_string_equal(d.status, "5.1.1");
	assert_string_equal(d.diagnostic, "");
	assert_string_equal(d.message_id, "");
}

/* test_garbage - bad arguments, garbage, every prefix of a report */
static void test_garbage(void **state)
{
	static const char junk[] = "\x00\xff\xfe<>@@:\n\n--\r\r\n;;;Content-Type: multipart/x";
	struct dsn d;
	size_t n, i;
	char *s;

	(void)state;
	assert_int_equal(dsn_parse(NULL, 10, &d), -1);
	assert_int_equal(d.kind, DSN_NONE);
	assert_int_equal(dsn_parse("x", 0, &d), -1);
	assert_int_equal(dsn_parse("x", 1, NULL), -1);
	assert_true(dsn_parse(junk, sizeof junk - 1, &d) >= -1);
	assert_int_equal(d.kind, DSN_NONE);
	assert_non_null(s = slurp_len(data_path("gmail-bounce.eml"), &n));
	for (i = 0; i <= n; i += 3) {
		int rc = dsn_parse(s, i, &d);
		assert_true(rc == 0 || rc == -1);
		assert_true(d.kind <= DSN_NOTICE);
	}
	free(s);
}

/* test_limits - deep nesting, many parts and an oversized message: bounded */
static void test_limits(void **state)
{
	size_t cap = 4 << 20, n = 0, i;
	char *m = malloc(cap);
	struct dsn d;
	clock_t t0;

	(void)state;
	assert_non_null(m);
	n += (size_t)snprintf(m + n, cap - n,
	        "From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\n"
	        "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (i = 1; i < 2000; i++)
		n += (size_t)snprintf(m + n, cap - n,
		        "--b%zu\nContent-Type: multipart/mixed; boundary=b%zu\n\n", i - 1, i);
	t0 = clock();
	assert_int_equal(dsn_parse(m, n, &d), 0);
	assert_true(clock() - t0 < 5 * CLOCKS_PER_SEC);

	n = (size_t)snprintf(m, cap,
	        "From: MAILER-DAEMON@mx.example\nSubject: failure notice\n\n"
	        "<big@patient.example>:\n550 5.1.1 no such user\n\n");
	while (n + 80 < cap)
		n += (size_t)snprintf(m + n, cap - n, "%s\n",
		        "padding padding padding padding padding padding padding padding");
	t0 = clock();
	assert_int_equal(dsn_parse(m, n, &d), 0);
	assert_true(clock() - t0 < 5 * CLOCKS_PER_SEC);
	assert_int_equal(d.kind, DSN_BOUNCE);
	assert_string_equal(d.recipient, "big@patient.example");
	free(m);
}

/* test_judge - the code comes from the status class; the kind when there is none */
static void test_judge(void **state)
{
	struct dsn d;
	struct verdict v;

	(void)state;
	memset(&d, 0, sizeof d);
	d.kind = DSN_BOUNCE;
	snprintf(d.diagnostic, sizeof d.diagnostic, "delivery error: mailbox is disabled");
	assert_int_equal(dsn_judge(&d, NOW, &v), 0);
	assert_int_equal(v.cat, CAT_RECIPIENT_INVALID);
	snprintf(d.status, sizeof d.status, "5.7.1");
	snprintf(d.diagnostic, sizeof d.diagnostic, "554 5.7.1 Message rejected as spam");
	assert_int_equal(dsn_judge(&d, NOW, &v), 0);
	assert_int_equal(v.cat, CAT_MESSAGE_REJECTED);
	d.kind = DSN_DELAY;
	d.status[0] = '\0';
	snprintf(d.diagnostic, sizeof d.diagnostic, "connection timed out");
	assert_int_equal(dsn_judge(&d, NOW, &v), 0);
	assert_int_equal(v.cat, CAT_TRANSIENT);
	d.kind = DSN_NOTICE;
	assert_int_equal(dsn_judge(&d, NOW, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_files),
	        cmocka_unit_test(test_all_listed),
	        cmocka_unit_test(test_notice_rules),
	        cmocka_unit_test(test_bounce_needs_mail_system),
	        cmocka_unit_test(test_html_only),
	        cmocka_unit_test(test_report_blocks),
	        cmocka_unit_test(test_garbage),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
