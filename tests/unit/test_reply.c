/*
 * test_reply - unit tests for reply.c, the plain RFC classification.
 *
 * A table of (stage, code, flags) -> category, then the properties every
 * category must have: a unique name, the right job/account effect, and a
 * plain-English explanation without protocol jargon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reply.h"

#define NCAT (CAT_UNKNOWN_OUTCOME + 1)

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

static const struct {
	enum smtp_stage st;
	int code, tls, timeout, refused;
	enum category want;
} cases[] = {
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
        {STAGE_DATA_END, 550, 0, 0, 0, CAT_MESSAGE_REJECTED},
        {STAGE_DATA_END, 552, 0, 0, 0, CAT_MESSAGE_REJECTED},
        {STAGE_DATA_END, 451, 0, 0, 0, CAT_TRANSIENT},
        /* no reply after the final dot: the server may have the message */
        {STAGE_DATA_END, 0, 0, 0, 0, CAT_UNKNOWN_OUTCOME},
        {STAGE_DATA_END, 0, 0, 1, 0, CAT_UNKNOWN_OUTCOME},
        /* an unexpected positive reply is not a verdict */
        {STAGE_MAIL, 354, 0, 0, 0, CAT_TRANSIENT},
        {STAGE_RCPT, 250, 0, 0, 0, CAT_TRANSIENT},
};

/* test_table - every case of the table */
static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_reply r = mk(cases[i].st, cases[i].code, cases[i].tls, cases[i].timeout,
		        cases[i].refused);
		enum category got = reply_classify(&r);
		if (got != cases[i].want)
			fail_msg("case %zu (%s %d tls=%d timeout=%d refused=%d): got %s, want %s",
			        i, smtp_stage_name(cases[i].st), cases[i].code, cases[i].tls,
			        cases[i].timeout, cases[i].refused, reply_category_name(got),
			        reply_category_name(cases[i].want));
	}
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

/* test_text_ignored - the plain split does not read the text */
static void test_text_ignored(void **state)
{
	struct smtp_reply r = mk(STAGE_RCPT, 550, 0, 0, 0);

	(void)state;
	strcpy(r.text, "5.7.1 Daily user sending quota exceeded");
	assert_int_equal(reply_classify(&r), CAT_RECIPIENT_INVALID);
}

/* test_names - unique names, as documented */
static void test_names(void **state)
{
	static const char *const want[NCAT] = {"sent", "account-blocked", "rate-limited",
	        "auth-failed", "sender-rejected", "recipient-invalid", "message-rejected",
	        "tls-failed", "transient", "unknown-outcome"};
	int c;

	(void)state;
	for (c = 0; c < NCAT; c++)
		assert_string_equal(reply_category_name((enum category)c), want[c]);
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
	assert_false(reply_job_fails(CAT_UNKNOWN_OUTCOME));
	assert_false(reply_stops_account(CAT_UNKNOWN_OUTCOME));
	assert_false(reply_job_fails(CAT_TRANSIENT));
	assert_false(reply_stops_account(CAT_TRANSIENT));
}

/* test_explain - one plain sentence per category, no jargon, all different */
static void test_explain(void **state)
{
	static const char *const jargon[] = {"SMTP", "TLS", "SSL", "RCPT", "MAIL FROM", "DATA",
	        "EHLO", "AUTH", "4xx", "5xx", "relay", "category"};
	int c, d;
	size_t i, n;

	(void)state;
	for (c = 0; c < NCAT; c++) {
		const char *e = reply_explain((enum category)c);
		assert_non_null(e);
		n = strlen(e);
		assert_true(n > 20);
		assert_true(e[0] >= 'A' && e[0] <= 'Z');
		assert_int_equal(e[n - 1], '.');
		assert_null(strstr(e, ". ")); /* one sentence */
		for (i = 0; i < sizeof(jargon) / sizeof(jargon[0]); i++)
			if (strstr(e, jargon[i]))
				fail_msg("%s: jargon \"%s\" in \"%s\"",
				        reply_category_name((enum category)c), jargon[i], e);
		for (d = 0; d < c; d++)
			assert_string_not_equal(e, reply_explain((enum category)d));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table),
	        cmocka_unit_test(test_never_sent),
	        cmocka_unit_test(test_text_ignored),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_effects),
	        cmocka_unit_test(test_explain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
