/*
 * test_reply - unit tests for reply.c and reply_rules.c, the
 * provider-aware classifier.
 *
 * 1. Every row of tests/data/provider-replies.tsv (a copy of
 *    shared/provider-replies.tsv: real provider replies with their
 *    categories) must be classified right; prints the score and each miss.
 * 2. Cases of our own, per rule: variants (case, line breaks, no enhanced
 *    code, the reply code kept in the text), precedence conflicts,
 *    retry-time parsing, local flags (TLS, refused, timeouts, drops).
 * 3. Properties of the table: every rule and category has a plain-English
 *    explanation and action without protocol jargon, patterns are well
 *    formed, names parse back.
 * Run: make unit (SPOOLD_TEST_DATA=tests/data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reply.h"
#include "reply_rules.h"

#define NCAT (CAT_UNKNOWN_OUTCOME + 1)
#define NOW ((time_t)1796040000) /* 2026-11-30T12:00:00Z */
#define ABS(t) (-(time_t)(t))    /* want.retry: an absolute time, not "now +" */

/* mk - a reply with the given fields */
static struct smtp_reply mk(enum smtp_stage st, int code, int tls, int timeout, int refused)
{
	struct smtp_reply r;

	memset(&r, 0, sizeof(r));
	r.stage = st;
	r.code = code;
	r.tls_error = tls;
	r.timeout = timeout;
	r.refused = refused;
	return r;
}

/* unescape - the TSV's "\n" (two characters) into line breaks, in place */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*w++ = '\n';
			s++;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/* test_provider_replies - every row of the providers' sample, all right */
static void test_provider_replies(void **state)
{
	const char *dir = getenv("SPOOLD_TEST_DATA");
	char path[1024], line[8192];
	int rows = 0, right = 0;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof path, "%s/provider-replies.tsv", dir ? dir : "tests/data");
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof line, fp)) {
		char *f[5] = {0}, *p = line;
		int n = 0, st, want;
		struct verdict v;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		while (n < 5 && p) {
			f[n++] = p;
			if ((p = strchr(p, '\t')))
				*p++ = '\0';
		}
		if (n < 4)
			fail_msg("%s: a row with %d columns: %s", path, n, line);
		unescape(f[2]);
		st = reply_stage_parse(f[0]);
		want = reply_category_parse(f[3]);
		assert_true(st >= 0);
		assert_true(want >= 0);
		reply_judge((enum smtp_stage)st, atoi(f[1]), f[2], NOW, &v);
		rows++;
		if ((int)v.cat == want)
			right++;
		else
			printf("MISS %s %s \"%s\": got %s (rule %s), want %s (%s)\n", f[0], f[1],
			        f[2], reply_category_name(v.cat), v.rule, f[3], f[4] ? f[4] : "");
	}
	fclose(fp);
	printf("provider replies: %d/%d classified correctly\n", right, rows);
	assert_true(rows >= 50);
	assert_int_equal(right, rows);
}

/* Our own cases: stage, code, text -> category and rule. */
static const struct {
	enum smtp_stage st;
	int code;
	const char *text;
	enum category want;
	const char *rule;
} cases[] = {
        /* 1. account-blocked: Gmail web login, every wording */
        {STAGE_AUTH, 534, "5.7.14 Please log in via your web browser", CAT_ACCOUNT_BLOCKED,
                "gmail-web-login"},
        {STAGE_AUTH, 534, "Please LOGIN VIA YOUR WEB BROWSER and then try again.",
                CAT_ACCOUNT_BLOCKED, "gmail-web-login"},
        {STAGE_AUTH, 534, "5.7.9 Please sign in via your web browser", CAT_ACCOUNT_BLOCKED,
                "gmail-web-login"},
        {STAGE_AUTH, 534, "5.7.9 Please log in through a browser first", CAT_ACCOUNT_BLOCKED,
                "gmail-web-login"},
        {STAGE_AUTH, 534, "5.7.14 Please log in\n5.7.14 via your\n5.7.14   web\tbrowser",
                CAT_ACCOUNT_BLOCKED, "gmail-web-login"},
        {STAGE_AUTH, 534, "534-5.7.14 Please log in via\r\n534-5.7.14 your web browser",
                CAT_ACCOUNT_BLOCKED, "gmail-web-login"},
        {STAGE_AUTH, 534, "see https://accounts.google.com/signin/continue?sarp=1",
                CAT_ACCOUNT_BLOCKED, "gmail-web-login"},
        {STAGE_MAIL, 421, "4.7.0 Log in with your web browser", CAT_ACCOUNT_BLOCKED,
                "gmail-web-login"},
        {STAGE_DATA_END, 550, "5.7.14 Trust relationship required", CAT_ACCOUNT_BLOCKED,
                "web-login"},
        /* Outlook and Microsoft 365 */
        {STAGE_DATA_END, 554, "OutboundSpamException; Actual verdict is Suspend, RefuseQuota",
                CAT_ACCOUNT_BLOCKED, "outlook-suspended"},
        {STAGE_DATA_END, 554,
                "5.2.0 OutboundSpamException: WASCL UserAction verdict is not None. Actual "
                "verdict is HipSend.",
                CAT_ACCOUNT_BLOCKED, "outlook-verify"},
        {STAGE_DATA_END, 554, "5.2.0 OutboundSpamException; WASCL UserAction verdict is not None",
                CAT_ACCOUNT_BLOCKED, "outlook-spam-block"},
        {STAGE_DATA_END, 554,
                "5.2.0 OutboundSpamException; WASCL UserAction verdict is not None. Actual "
                "verdict is RefuseQuota.",
                CAT_RATE_LIMITED, "outlook-daily-quota"},
        {STAGE_DATA_END, 550, "5.7.708 Service unavailable. Access denied, traffic not accepted",
                CAT_ACCOUNT_BLOCKED, "microsoft-restricted"},
        {STAGE_DATA_END, 550, "5.7.501 Service unavailable. Spam abuse detected from IP range.",
                CAT_ACCOUNT_BLOCKED, "microsoft-restricted"},
        {STAGE_DATA_END, 554,
                "5.2.2 mailbox full; "
                "STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionQuotaExceeded",
                CAT_ACCOUNT_BLOCKED, "sender-mailbox-full"},
        {STAGE_DATA_END, 554, "STOREDRV.Submission.Exception:SubmissionQuotaExceededException",
                CAT_RATE_LIMITED, "microsoft-recipient-quota"},
        /* other providers */
        {STAGE_MAIL, 550, "Outgoing mail blocked. Unblock at https://mail.zoho.com/UnblockMe",
                CAT_ACCOUNT_BLOCKED, "zoho-unblock"},
        {STAGE_DATA_END, 554, "Sending is paused for this account.", CAT_ACCOUNT_BLOCKED,
                "ses-paused"},
        {STAGE_AUTH, 451, "Authentication failed: Maximum credits exceeded", CAT_ACCOUNT_BLOCKED,
                "credits-exhausted"},
        {STAGE_MAIL, 421, "Please activate your account first", CAT_ACCOUNT_BLOCKED,
                "activate-account"},
        {STAGE_DATA_END, 550, "Please verify your account to continue sending", CAT_ACCOUNT_BLOCKED,
                "verify-account"},
        {STAGE_DATA_END, 550, "Your account has been suspended.", CAT_ACCOUNT_BLOCKED,
                "account-suspended"},
        {STAGE_AUTH, 525, "User Account Disabled", CAT_ACCOUNT_BLOCKED, "account-disabled"},
        {STAGE_AUTH, 535, "5.7.13 account disabled", CAT_ACCOUNT_BLOCKED, "account-disabled"},
        {STAGE_AUTH, 535, "5.7.139 Authentication unsuccessful", CAT_AUTH_FAILED,
                "bad-credentials"},
        {STAGE_CONNECT, 554, "Client host [192.0.2.1] blocked using zen.spamhaus.org",
                CAT_ACCOUNT_BLOCKED, "host-blocklisted"},
        {STAGE_EHLO, 550, "Access denied", CAT_ACCOUNT_BLOCKED, "host-refused"},
        /* blocking wins over throttling */
        {STAGE_DATA_END, 550, "5.7.14 Daily user sending limit exceeded", CAT_ACCOUNT_BLOCKED,
                "web-login"},

        /* 2. rate-limited, any code */
        {STAGE_DATA_END, 550, "5.4.5 DAILY USER SENDING QUOTA EXCEEDED", CAT_RATE_LIMITED,
                "daily-quota"},
        {STAGE_DATA_END, 450, "Daily sending quota exceeded", CAT_RATE_LIMITED, "daily-quota"},
        {STAGE_DATA, 550, "5.4.5 Daily SMTP relay limit exceeded for user", CAT_RATE_LIMITED,
                "daily-quota"},
        {STAGE_DATA_END, 550, "You have exceeded your\ndaily sending limit", CAT_RATE_LIMITED,
                "daily-quota"},
        {STAGE_RCPT, 550, "5.7.1 Daily user sending quota exceeded", CAT_RATE_LIMITED,
                "daily-quota"},
        {STAGE_DATA_END, 554, "5.1.90 You've reached your daily limit for message recipients",
                CAT_RATE_LIMITED, "microsoft-recipient-quota"},
        {STAGE_DATA_END, 432, "4.3.2 sender thread limit exceeded", CAT_RATE_LIMITED,
                "thread-limit"},
        {STAGE_CONNECT, 421, "4.7.0 Too many concurrent SMTP connections from this IP",
                CAT_RATE_LIMITED, "too-many-connections"},
        {STAGE_MAIL, 550, "Too many messages, slow down", CAT_RATE_LIMITED, "too-many-messages"},
        {STAGE_DATA_END, 421, "4.7.0 Max message per connection reached, closing", CAT_RATE_LIMITED,
                "per-connection-limit"},
        {STAGE_DATA_END, 452, "Too many messages in this connection", CAT_RATE_LIMITED,
                "per-connection-limit"},
        {STAGE_AUTH, 454, "4.7.0 Too many login attempts, please try again later.",
                CAT_RATE_LIMITED, "login-throttle"},
        {STAGE_AUTH, 535, "Too many failed login attempts", CAT_RATE_LIMITED,
                "failed-login-lockout"},
        {STAGE_DATA_END, 451, "4.7.0 Peak SMTP relay limit exceeded for customer", CAT_RATE_LIMITED,
                "sending-rate"},
        {STAGE_DATA_END, 550, "5.4.6 Unusual sending activity detected", CAT_RATE_LIMITED,
                "unusual-activity"},
        {STAGE_DATA_END, 554, "Throttling failure: Maximum sending rate exceeded.",
                CAT_RATE_LIMITED, "sending-rate"},
        {STAGE_DATA_END, 554, "Throttling failure: Daily message quota exceeded.", CAT_RATE_LIMITED,
                "daily-quota"},
        {STAGE_DATA_END, 554, "Domains are limited to 300 messages / hour", CAT_RATE_LIMITED,
                "hourly-limit"},
        {STAGE_AUTH, 534, "5.7.0 Too many bad auth attempts", CAT_RATE_LIMITED,
                "failed-login-lockout"},

        /* 3. auth-failed */
        {STAGE_AUTH, 534, "5.7.9 Application-specific password required.", CAT_AUTH_FAILED,
                "app-password-required"},
        {STAGE_AUTH, 534,
                "5.7.9 Please log in with your web browser. Application-specific password "
                "required.",
                CAT_ACCOUNT_BLOCKED, "gmail-web-login"},
        {STAGE_AUTH, 535, "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
                CAT_AUTH_FAILED, "password-sign-in-disabled"},
        {STAGE_AUTH, 535, "5.7.8 Error: authentication failed", CAT_AUTH_FAILED, "bad-credentials"},
        {STAGE_AUTH, 535, "Authentication Credentials Invalid", CAT_AUTH_FAILED, "bad-credentials"},
        {STAGE_MAIL, 530, "5.7.57 Client not authenticated to send mail.", CAT_AUTH_FAILED,
                "not-signed-in"},
        {STAGE_MAIL, 530, "5.7.0 Authentication Required", CAT_AUTH_FAILED, "sign-in-required"},
        {STAGE_RCPT, 550, "5.7.1 RESOLVER.RST.AuthRequired; authentication required",
                CAT_MESSAGE_REJECTED, "recipient-policy"},
        {STAGE_AUTH, 454, "4.7.0 Temporary authentication failure", CAT_TRANSIENT,
                "sign-in-unavailable"},
        {STAGE_AUTH, 454, "4.7.8 Authentication failed, temporarily unavailable", CAT_TRANSIENT,
                "sign-in-unavailable"},
        {STAGE_AUTH, 535, "Incorrect authentication data", CAT_AUTH_FAILED, "sign-in-refused"},

        /* 4. sender-rejected */
        {STAGE_MAIL, 553, "5.7.1 Sender address rejected: not owned by user x@example.com",
                CAT_SENDER_REJECTED, "sender-not-allowed"},
        {STAGE_DATA_END, 554, "STOREDRV.Submission.Exception:SendAsDeniedException",
                CAT_SENDER_REJECTED, "sender-not-allowed"},
        {STAGE_DATA_END, 554, "Message rejected: Email address is not verified.",
                CAT_SENDER_REJECTED, "sender-unverified"},
        {STAGE_MAIL, 550, "Free accounts are for test purposes only.", CAT_SENDER_REJECTED,
                "free-plan-test-only"},
        {STAGE_MAIL, 550, "Mailbox unavailable", CAT_SENDER_REJECTED, "sender-refused"},

        /* 5. tls-failed wins over the stage rules of AUTH and MAIL */
        {STAGE_MAIL, 530, "Must issue a STARTTLS command first", CAT_TLS_FAILED,
                "encryption-required"},
        {STAGE_AUTH, 530, "5.7.0 Must issue a STARTTLS command first", CAT_TLS_FAILED,
                "encryption-required"},
        {STAGE_DATA_END, 421, "4.7.66 TLS 1.0 and 1.1 are not supported", CAT_TLS_FAILED,
                "encryption-outdated"},
        {STAGE_AUTH, 538, "5.7.11 Encryption required for requested authentication mechanism",
                CAT_TLS_FAILED, "encryption-required"},
        {STAGE_STARTTLS, 454, "4.7.0 TLS not available due to temporary reason", CAT_TLS_FAILED,
                "encryption-refused"},

        /* 6. stage rules */
        {STAGE_RCPT, 550, "5.1.1 <x@example.com>: Recipient address rejected: User unknown",
                CAT_RECIPIENT_INVALID, "recipient-unknown"},
        {STAGE_RCPT, 550, "No such user here", CAT_RECIPIENT_INVALID, "recipient-unknown"},
        {STAGE_RCPT, 553, "5.1.3 Bad recipient address syntax", CAT_RECIPIENT_INVALID,
                "recipient-unknown"},
        {STAGE_RCPT, 556, "Recipient address has null MX", CAT_RECIPIENT_INVALID,
                "recipient-unknown"},
        {STAGE_RCPT, 550, "5.7.1 Message rejected as spam", CAT_MESSAGE_REJECTED,
                "recipient-policy"},
        {STAGE_RCPT, 552, "5.2.2 Mailbox full", CAT_TRANSIENT, "recipient-mailbox-full"},
        {STAGE_DATA_END, 552, "5.2.2 The email account that you tried to reach is over quota.",
                CAT_TRANSIENT, "recipient-mailbox-full"},
        {STAGE_RCPT, 554, "Transaction failed", CAT_RECIPIENT_INVALID, "recipient-refused"},
        {STAGE_DATA_END, 550, "5.7.26 This message fails to pass DMARC", CAT_MESSAGE_REJECTED,
                "message-unauthenticated"},
        {STAGE_DATA_END, 552, "5.3.4 Message size exceeds fixed maximum message size",
                CAT_MESSAGE_REJECTED, "message-too-large"},
        {STAGE_DATA, 554, "5.6.0 Message rejected", CAT_MESSAGE_REJECTED, "message-refused"},
        {STAGE_CONNECT, 421, "Service not available", CAT_TRANSIENT, "server-busy"},

        /* 7. the code class; replies that are not failures */
        {STAGE_DATA_END, 451, "4.3.0 Temporary server error", CAT_TRANSIENT, "temporary"},
        {STAGE_MAIL, 451, "4.3.0 Mail server temporarily rejected message.", CAT_TRANSIENT,
                "temporary"},
        {STAGE_RCPT, 450, "4.2.1 receiving mail at a rate that prevents additional messages",
                CAT_TRANSIENT, "temporary"},
        {STAGE_DATA_END, 250, "2.0.0 OK", CAT_SENT, "accepted"},
        {STAGE_RCPT, 250, "OK", CAT_TRANSIENT, "unexpected-reply"},
        {STAGE_DATA, 354, "Go ahead", CAT_TRANSIENT, "unexpected-reply"},
        {STAGE_CONNECT, 999, "weird", CAT_TRANSIENT, "unexpected-reply"},
        {STAGE_CONNECT, -5, "weird", CAT_TRANSIENT, "unexpected-reply"},
        {STAGE_DATA_END, 0, "", CAT_UNKNOWN_OUTCOME, "no-answer-after-message"},
        {STAGE_DATA, 0, "connection lost", CAT_TRANSIENT, "connection-failed"},
        {STAGE_STARTTLS, 0, "", CAT_TLS_FAILED, "encryption-no-answer"},
        {STAGE_AUTH, 535, NULL, CAT_AUTH_FAILED, "sign-in-refused"},
        /* word boundaries: 5.7.13 is not 5.7.139, nor 5.7.1 within 5.7.14 */
        {STAGE_DATA_END, 550, "5.7.1 see 5.7.130 and 15.7.13", CAT_MESSAGE_REJECTED,
                "message-refused"},
        {STAGE_DATA_END, 550, "5.7.1 logins via your web browsers", CAT_MESSAGE_REJECTED,
                "message-refused"},
};

/* test_cases - every case of our own */
static void test_cases(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct verdict v;
		reply_judge(cases[i].st, cases[i].code, cases[i].text, NOW, &v);
		if (v.cat != cases[i].want || strcmp(v.rule, cases[i].rule)) {
			printf("case %zu (%d \"%s\"): got %s/%s, want %s/%s\n", i, cases[i].code,
			        cases[i].text ? cases[i].text : "(null)",
			        reply_category_name(v.cat), v.rule,
			        reply_category_name(cases[i].want), cases[i].rule);
			bad++;
		}
		assert_non_null(v.explanation);
		assert_non_null(v.action);
	}
	printf("own cases: %zu/%zu\n", i - bad, i);
	assert_int_equal(bad, 0);
}

/* Retry times: retry is seconds after NOW, or ABS(t) for the instant t; 0 none. */
static const struct {
	enum smtp_stage st;
	int code;
	const char *text;
	time_t retry;
	int daily, one_conn, reconnect;
} retries[] = {
        {STAGE_RCPT, 421, "recipient limit exceeded, try again after Tue, 01 Dec 2026 15:04:05 GMT",
                ABS(1796137445), 0, 0, 0},
        {STAGE_RCPT, 421,
                "recipient limit exceeded, try again after Tue, 01 Dec 2026 15:04:05 -0600",
                ABS(1796159045), 0, 0, 0},
        {STAGE_RCPT, 421, "recipient limit exceeded, try again after 1 Dec 2026 15:04 +0000",
                ABS(1796137440), 0, 0, 0},
        {STAGE_RCPT, 421, "recipient limit exceeded, try again after 2026-12-01T15:04:05Z",
                ABS(1796137445), 0, 0, 0},
        {STAGE_RCPT, 421, "recipient limit exceeded, try again after 2026-12-01 09:04:05-06:00",
                ABS(1796137445), 0, 0, 0},
        {STAGE_RCPT, 421, "recipient limit exceeded, retry after Tue Dec  1 15:04:05 2026",
                ABS(1796137445), 0, 0, 0},
        {STAGE_RCPT, 421, "recipient limit exceeded, try again after 01 Dec 26 15:04:05 EST",
                ABS(1796155445), 0, 0, 0},
        {STAGE_RCPT, 421,
                "Recipient limit exceeded,\ntry again after\nTuesday, 01 December 2026 "
                "15:04:05 UTC",
                ABS(1796137445), 0, 0, 0},
        /* relative */
        {STAGE_DATA_END, 554,
                "limited to 100 messages / hour. Account will be enabled in 341 seconds", 341, 0, 0,
                0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again in 10 minutes", 600, 0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again after 2 hours", 7200, 0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limited: try again in an hour", 3600, 0, 0, 0},
        {STAGE_DATA_END, 421, "Throttled. Retry in 30s", 30, 0, 0, 0},
        {STAGE_DATA_END, 421, "Throttled. Blocked for 15 min", 900, 0, 0, 0},
        /* none given: the class's default */
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again later", 300, 0, 0, 0},
        {STAGE_AUTH, 454, "4.7.0 Too many login attempts, please try again later.", 900, 0, 0, 0},
        {STAGE_DATA_END, 550, "5.4.5 Daily user sending limit exceeded.", 86400, 1, 0, 0},
        {STAGE_DATA_END, 432, "4.3.2 sender thread limit exceeded", 60, 0, 1, 0},
        {STAGE_DATA_END, 421, "max messages per connection", 60, 0, 0, 1},
        {STAGE_DATA_END, 550, "5.4.6 Unusual sending activity detected. Please try after sometime.",
                1800, 0, 0, 0},
        /* a daily quota with a time given: the time */
        {STAGE_DATA_END, 454, "Daily message quota exceeded; try again after 2026-12-01T15:04:05Z",
                ABS(1796137445), 1, 0, 0},
        /* garbage and out of range: ignored */
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again after Tue, 32 Dec 2026 15:04:05 GMT",
                300, 0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again after 29 Feb 2027 15:04:05 GMT", 300,
                0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again after 01 Foo 2026 15:04:05 GMT", 300,
                0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again after 01 Dec 2026 25:04:05 GMT", 300,
                0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again after 01 Dec 2020 15:04:05 GMT", 300,
                0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again in 999999999 hours", 300, 0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again in 9999999999999999999 seconds", 300,
                0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again in a few minutes", 300, 0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again in 5 messages", 300, 0, 0, 0},
        {STAGE_DATA_END, 421, "Rate limit exceeded, try again after", 300, 0, 0, 0},
        /* transient: a time when given, else none; other categories: none */
        {STAGE_DATA_END, 451, "4.3.0 Temporary failure, try again in 5 minutes", 300, 0, 0, 0},
        {STAGE_DATA_END, 451, "4.3.0 Temporary failure, try again later", 0, 0, 0, 0},
        {STAGE_DATA_END, 552, "Your account has been suspended for 2 hours", 0, 0, 0, 0},
        {STAGE_DATA_END, 554, "5.6.0 Message rejected, try again in 5 minutes", 0, 0, 0, 0},
};

/* test_retry - retry times, the daily flag and the connection hints */
static void test_retry(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof retries / sizeof retries[0]; i++) {
		struct verdict v;
		time_t want = retries[i].retry < 0 ? -retries[i].retry
		              : retries[i].retry   ? NOW + retries[i].retry
		                                   : 0;
		reply_judge(retries[i].st, retries[i].code, retries[i].text, NOW, &v);
		if (v.retry_at != want)
			fail_msg("retry %zu \"%s\" (%s): got %lld, want %lld (%+lld s)", i,
			        retries[i].text, v.rule, (long long)v.retry_at, (long long)want,
			        (long long)(v.retry_at - want));
		assert_int_equal(v.daily, retries[i].daily);
		assert_int_equal(v.one_connection, retries[i].one_conn);
		assert_int_equal(v.reconnect, retries[i].reconnect);
	}
}

/* test_pure - the same input, the same verdict; the rate limit follows now */
static void test_pure(void **state)
{
	struct verdict a, b;

	(void)state;
	reply_judge(STAGE_DATA_END, 550, "5.4.5 Daily user sending limit exceeded.", NOW, &a);
	reply_judge(STAGE_DATA_END, 550, "5.4.5 Daily user sending limit exceeded.", NOW, &b);
	assert_memory_equal(&a, &b, sizeof a);
	reply_judge(STAGE_DATA_END, 550, "5.4.5 Daily user sending limit exceeded.", NOW + 10, &b);
	assert_int_equal(b.retry_at, a.retry_at + 10);
}

/* Local outcomes through reply_classify (the interface spoold uses). */
static const struct {
	enum smtp_stage st;
	int code, tls, timeout, refused;
	enum category want;
} locals[] = {
        /* connect and EHLO: 4xx and no reply retry, 5xx means the account is blocked */
        {STAGE_CONNECT, 0, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_CONNECT, 0, 0, 1, 0, CAT_TRANSIENT},
        {STAGE_CONNECT, 421, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_CONNECT, 554, 0, 0, 0, CAT_ACCOUNT_BLOCKED},
        {STAGE_EHLO, 0, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_EHLO, 450, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_EHLO, 550, 0, 0, 0, CAT_ACCOUNT_BLOCKED},
        /* TLS: any failure at STARTTLS, and any certificate problem */
        {STAGE_STARTTLS, 454, 1, 0, 0, CAT_TLS_FAILED},
        {STAGE_STARTTLS, 454, 0, 0, 0, CAT_TLS_FAILED},
        {STAGE_STARTTLS, 0, 0, 1, 0, CAT_TLS_FAILED},
        {STAGE_STARTTLS, 502, 0, 0, 0, CAT_TLS_FAILED},
        {STAGE_CONNECT, 0, 1, 0, 0, CAT_TLS_FAILED},
        {STAGE_CONNECT, 0, 1, 1, 0, CAT_TLS_FAILED},
        /* AUTH */
        {STAGE_AUTH, 535, 0, 0, 0, CAT_AUTH_FAILED},
        {STAGE_AUTH, 534, 0, 0, 0, CAT_AUTH_FAILED},
        {STAGE_AUTH, 454, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_AUTH, 0, 0, 1, 0, CAT_TRANSIENT},
        {STAGE_AUTH, 0, 0, 0, 1, CAT_AUTH_FAILED},
        /* MAIL, RCPT, DATA */
        {STAGE_MAIL, 553, 0, 0, 0, CAT_SENDER_REJECTED},
        {STAGE_MAIL, 451, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_MAIL, 0, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_MAIL, 0, 0, 0, 1, CAT_SENDER_REJECTED},
        {STAGE_RCPT, 550, 0, 0, 0, CAT_RECIPIENT_INVALID},
        {STAGE_RCPT, 450, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_RCPT, 0, 0, 1, 0, CAT_TRANSIENT},
        {STAGE_RCPT, 0, 0, 0, 1, CAT_RECIPIENT_INVALID},
        {STAGE_DATA, 554, 0, 0, 0, CAT_MESSAGE_REJECTED},
        {STAGE_DATA, 451, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_DATA, 0, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_DATA, 0, 0, 1, 0, CAT_TRANSIENT},
        {STAGE_DATA, 0, 0, 0, 1, CAT_MESSAGE_REJECTED},
        {STAGE_DATA_END, 550, 0, 0, 0, CAT_MESSAGE_REJECTED},
        {STAGE_DATA_END, 552, 0, 0, 0, CAT_MESSAGE_REJECTED},
        {STAGE_DATA_END, 451, 0, 0, 0, CAT_TRANSIENT},
        /* no reply after the final dot: the server may have the message */
        {STAGE_DATA_END, 0, 0, 0, 0, CAT_UNKNOWN_OUTCOME},
        {STAGE_DATA_END, 0, 0, 1, 0, CAT_UNKNOWN_OUTCOME},
        /* an unexpected positive reply is not a verdict, and never "sent" */
        {STAGE_MAIL, 354, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_RCPT, 250, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_DATA_END, 250, 0, 0, 0, CAT_TRANSIENT},
};

/* test_local - the local flags, through reply_classify */
static void test_local(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		struct smtp_reply r = mk(locals[i].st, locals[i].code, locals[i].tls,
		        locals[i].timeout, locals[i].refused);
		enum category got = reply_classify(&r);
		if (got != locals[i].want)
			fail_msg("local %zu (%s %d tls=%d timeout=%d refused=%d): got %s, want %s",
			        i, smtp_stage_name(locals[i].st), locals[i].code, locals[i].tls,
			        locals[i].timeout, locals[i].refused, reply_category_name(got),
			        reply_category_name(locals[i].want));
	}
}

/* test_local_text - flags win over the text; the text counts otherwise */
static void test_local_text(void **state)
{
	struct smtp_reply r = mk(STAGE_CONNECT, 0, 1, 0, 0);
	struct verdict v;

	(void)state;
	strcpy(r.text, "TLS handshake with smtp.example.com:465 failed");
	reply_judge_local(&r, NOW, &v);
	assert_string_equal(v.rule, "tls-handshake");
	r = mk(STAGE_AUTH, 0, 0, 0, 1);
	strcpy(r.text, "AUTH needs a secure connection; tls = none");
	reply_judge_local(&r, NOW, &v);
	assert_string_equal(v.rule, "refused-settings");
	r = mk(STAGE_DATA, 0, 0, 1, 0);
	strcpy(r.text, "timed out after 60 s sending the message");
	reply_judge_local(&r, NOW, &v);
	assert_string_equal(v.rule, "timeout");
	assert_int_equal(v.retry_at, 0);
	r = mk(STAGE_CONNECT, 0, 0, 0, 0);
	strcpy(r.text, "connection refused by 192.0.2.1:587");
	reply_judge_local(&r, NOW, &v);
	assert_string_equal(v.rule, "connection-failed");
	r = mk(STAGE_DATA_END, 550, 0, 0, 0);
	strcpy(r.text, "5.4.5 Daily user sending limit exceeded. For more information on Gmail\n"
	               "5.4.5 sending limits go to");
	reply_judge_local(&r, NOW, &v);
	assert_int_equal(v.cat, CAT_RATE_LIMITED);
	assert_int_equal(v.retry_at, NOW + 86400);
	/* a full, unterminated text buffer */
	r = mk(STAGE_RCPT, 550, 0, 0, 0);
	memset(r.text, 'a', sizeof r.text);
	reply_judge_local(&r, NOW, &v);
	assert_int_equal(v.cat, CAT_RECIPIENT_INVALID);
	r = mk(STAGE_DATA_END, 550, 0, 0, 0);
	strcpy(r.text, "5.7.1 Daily user sending quota exceeded");
	assert_int_equal(reply_classify(&r), CAT_RATE_LIMITED);
}

/* test_never_sent - no failed step is ever classified as sent */
static void test_never_sent(void **state)
{
	static const int codes[] = {0, 221, 250, 354, 421, 450, 451, 452, 500, 535, 550, 554, 599};
	int st, f;
	size_t i;

	(void)state;
	for (st = STAGE_CONNECT; st <= STAGE_DATA_END; st++)
		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			for (f = 0; f < 8; f++) {
				struct smtp_reply r = mk((enum smtp_stage)st, codes[i], f & 1,
				        (f >> 1) & 1, (f >> 2) & 1);
				enum category c = reply_classify(&r);
				assert_int_not_equal(c, CAT_SENT);
				assert_true((int)c >= 0 && (int)c < NCAT);
			}
}

/* test_names - unique names, as documented, and they parse back */
static void test_names(void **state)
{
	static const char *const want[NCAT] = {"sent", "account-blocked", "rate-limited",
	        "auth-failed", "sender-rejected", "recipient-invalid", "message-rejected",
	        "tls-failed", "transient", "unknown-outcome"};
	int c, st;

	(void)state;
	for (c = 0; c < NCAT; c++) {
		assert_string_equal(reply_category_name((enum category)c), want[c]);
		assert_int_equal(reply_category_parse(want[c]), c);
	}
	assert_int_equal(reply_category_parse("Rate-Limited"), CAT_RATE_LIMITED);
	assert_int_equal(reply_category_parse("rate"), -1);
	assert_int_equal(reply_category_parse(""), -1);
	assert_int_equal(reply_category_parse(NULL), -1);
	for (st = STAGE_CONNECT; st <= STAGE_DATA_END; st++)
		assert_int_equal(reply_stage_parse(smtp_stage_name((enum smtp_stage)st)), st);
	assert_int_equal(reply_stage_parse("DATA-END"), STAGE_DATA_END);
	assert_int_equal(reply_stage_parse("dataend"), -1);
	assert_int_equal(reply_stage_parse("data-end "), -1);
	assert_int_equal(reply_stage_parse(""), -1);
	assert_int_equal(reply_stage_parse(NULL), -1);
}

/* test_effects - which categories fail the job, which stop the account */
static void test_effects(void **state)
{
	int c;

	(void)state;
	for (c = 0; c < NCAT; c++) {
		int fails = c == CAT_RECIPIENT_INVALID || c == CAT_MESSAGE_REJECTED;
		int stops = c == CAT_ACCOUNT_BLOCKED || c == CAT_AUTH_FAILED ||
		            c == CAT_SENDER_REJECTED || c == CAT_TLS_FAILED ||
		            c == CAT_RATE_LIMITED;
		assert_int_equal(reply_job_fails((enum category)c), fails);
		assert_int_equal(reply_stops_account((enum category)c), stops);
		assert_false(fails && stops);
	}
}

static const char *const jargon[] = {"SMTP", "TLS", "SSL", "RCPT", "MAIL FROM", "DATA", "EHLO",
        "AUTH", "STARTTLS", "4xx", "5xx", "relay", "category", "enhanced", "status code"};

/* plain - s is staff text: a capital (or "spoold"), a final '.', no jargon */
static void plain(const char *who, const char *s)
{
	size_t n, i;

	if (!s)
		fail_msg("%s: no text", who);
	n = strlen(s);
	if (n < 15 || !((s[0] >= 'A' && s[0] <= 'Z') || !strncmp(s, "spoold ", 7)) ||
	        (s[n - 1] != '.' && strncmp(s + n - 12, "spool resume", 12)))
		fail_msg("%s: not a sentence: \"%s\"", who, s);
	for (i = 0; i < sizeof(jargon) / sizeof(jargon[0]); i++)
		if (strstr(s, jargon[i]))
			fail_msg("%s: jargon \"%s\" in \"%s\"", who, jargon[i], s);
}

/* test_explain - one plain sentence per category, no jargon, all different */
static void test_explain(void **state)
{
	int c, d;

	(void)state;
	for (c = 0; c < NCAT; c++) {
		const char *e = reply_explain((enum category)c);
		plain(reply_category_name((enum category)c), e);
		assert_null(strstr(e, ". ")); /* one sentence */
		for (d = 0; d < c; d++)
			assert_string_not_equal(e, reply_explain((enum category)d));
	}
}

/* well_formed - a pattern the matcher understands: braces balanced, not
 * nested, '*' only at the ends, lower case */
static int well_formed(const char *p)
{
	int depth = 0;

	for (const char *s = p; *s; s++) {
		if (*s == '{' && depth++)
			return 0;
		if (*s == '}' && --depth)
			return 0;
		if (*s == '*' && s != p && s[1])
			return 0;
		if (*s >= 'A' && *s <= 'Z')
			return 0;
	}
	return depth == 0;
}

/* test_table - unique ids, plain words, patterns well formed, every local
 * outcome has its rule */
static void test_table(void **state)
{
	static const char *const locals_ids[] = {"accepted", "unexpected-reply", "tls-handshake",
	        "encryption-no-answer", "refused-sender", "refused-recipient", "refused-message",
	        "refused-settings", "no-answer-after-message", "timeout", "connection-failed",
	        "temporary", "rejected"};
	size_t i, j;

	(void)state;
	assert_true(reply_nrules >= 40);
	for (i = 0; i < reply_nrules; i++) {
		const struct reply_rule *r = &reply_rules[i];
		assert_non_null(r->id);
		for (j = 0; j < i; j++)
			assert_string_not_equal(r->id, reply_rules[j].id);
		plain(r->id, r->explanation);
		plain(r->id, r->action);
		for (const char *const *p = r->text; p && *p; p++)
			if (!well_formed(*p))
				fail_msg("%s: bad pattern \"%s\"", r->id, *p);
		for (const char *const *p = r->unless; p && *p; p++)
			assert_true(well_formed(*p));
		assert_true(r->cat != CAT_RATE_LIMITED || (r->flags & RF_DAILY) || r->backoff > 0);
		assert_true(r->cat == CAT_SENT ? (r->flags & RF_LOCAL) != 0 : 1);
	}
	for (i = 0; i < sizeof locals_ids / sizeof locals_ids[0]; i++) {
		for (j = 0; j < reply_nrules; j++)
			if (!strcmp(reply_rules[j].id, locals_ids[i]))
				break;
		if (j == reply_nrules)
			fail_msg("no rule \"%s\"", locals_ids[i]);
	}
}

/* test_hostile - long, odd and binary texts never crash or misbehave */
static void test_hostile(void **state)
{
	static char big[20000];
	struct verdict v;
	int code;

	(void)state;
	memset(big, ' ', sizeof big - 1);
	memcpy(big + sizeof big - 40, "daily user sending limit", 24);
	reply_judge(STAGE_DATA_END, 550, big, NOW, &v); /* white space collapses */
	assert_int_equal(v.cat, CAT_RATE_LIMITED);
	for (size_t i = 0; i + 1 < sizeof big; i++)
		big[i] = i % 2 ? ' ' : 'x';
	memcpy(big + sizeof big - 40, "daily user sending limit", 24);
	reply_judge(STAGE_DATA_END, 550, big, NOW, &v); /* past the normalised limit: ignored */
	assert_int_equal(v.cat, CAT_MESSAGE_REJECTED);
	memset(big, '\n', sizeof big - 1);
	reply_judge(STAGE_RCPT, 550, big, NOW, &v);
	assert_int_equal(v.cat, CAT_RECIPIENT_INVALID);
	memset(big, '5', sizeof big - 1);
	reply_judge(STAGE_RCPT, 550, big, NOW, &v);
	memset(big, '{', sizeof big - 1);
	reply_judge(STAGE_RCPT, 550, big, NOW, &v);
	for (code = -1; code < 1000; code += 7)
		reply_judge(
		        (enum smtp_stage)(code & 7), code, "\xff\xfe 5.7.\n\x01 in 5 s", NOW, &v);
	reply_judge((enum smtp_stage)42, 550, "x", NOW, &v);
	assert_non_null(v.rule);
	reply_judge(STAGE_DATA_END, 421, "rate limited until 9999-12-31T23:59:59Z", NOW, &v);
	assert_int_equal(v.retry_at, NOW + 300);
	reply_judge(STAGE_DATA_END, 421, "rate limited, try again in 5 minutes", (time_t)0, &v);
	assert_int_equal(v.retry_at, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_provider_replies),
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_retry),
	        cmocka_unit_test(test_pure),
	        cmocka_unit_test(test_local),
	        cmocka_unit_test(test_local_text),
	        cmocka_unit_test(test_never_sent),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_effects),
	        cmocka_unit_test(test_explain),
	        cmocka_unit_test(test_table),
	        cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
