/*
 * test_reason - the reason files staff read: the order of the sections
 * (what happened first, the server's words last), the appointment in the
 * practice's zone (a job written at -06:00 shown in Asia/Kolkata), the
 * usual steps (phone, address, spool retry) without repeating the
 * caller's action, and no control characters from job or server text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "job.h"
#include "reason.h"

#define NAME "1764578400.M123456P45Q1.host"
#define WHAT "The patient's e-mail address was refused; it may be mistyped or closed."
#define ACTION "Check the patient's e-mail address in your scheduling software."
#define REPLY "550 5.1.1 <nobody@example.com>: Recipient address rejected"

/* parse - a job from JSON text (the members after "to", with "kind", given by rest) */
static void parse(struct job *j, const char *rest)
{
	char buf[4096], err[256];

	snprintf(buf, sizeof buf,
	        "{\"version\":1,\"id\":\"appt-1\","
	        "\"to\":{\"name\":\"Jane Doe\",\"email\":\"jane@example.com\"}%s}",
	        rest);
	if (job_parse(j, buf, strlen(buf), err, sizeof err) < 0) {
		print_error("job_parse: %s\n", err);
		fail();
	}
}

/* jane - the usual reminder, at -06:00 */
static void jane(struct job *j, const char *spool)
{
	char rest[2048];

	snprintf(rest, sizeof rest,
	        ",\"kind\":\"reminder\",\"patient\":{\"first_name\":\"Jane\",\"last_name\":\"Doe\"}"
	        ","
	        "\"appointment\":{\"start\":\"2026-12-01T09:30:00-06:00\",\"minutes\":30,"
	        "\"provider\":\"Dr. Michael Miller\",\"location\":\"Main St office\"}%s%s",
	        spool ? ",\"spool\":" : "", spool ? spool : "");
	parse(j, rest);
}

/* at - the offset of needle in text; fails when absent */
static size_t at(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);

	if (!p) {
		print_error("missing \"%s\" in:\n%s\n", needle, text);
		fail();
	}
	return (size_t)(p - text);
}

/* count - how often needle occurs in text */
static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* assert_clean - no control characters but newlines, no C1 controls, no bidi
 * overrides, valid line structure */
static void assert_clean(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;

	for (size_t i = 0; p[i]; i++) {
		if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f ||
		        (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] < 0xa0) ||
		        (p[i] == 0xe2 && p[i + 1] == 0x80 && p[i + 2] == 0xae)) {
			print_error("control byte 0x%02x at %zu in:\n%s\n", p[i], i, text);
			fail();
		}
	}
}

static void test_order(void **state)
{
	struct job j;
	char *t;

	(void)state;
	assert_int_equal(reason_set_zone("America/Chicago"), 0);
	jane(&j, NULL);
	t = reason_failed(&j, NAME, WHAT, ACTION, REPLY);
	assert_non_null(t);
	assert_int_equal(at(t, "The reminder for Jane Doe was NOT sent."), 0);
	assert_true(at(t, "What happened:\n  " WHAT "\n") < at(t, "Patient:      Jane Doe\n"));
	assert_true(at(t, "Patient:") < at(t, "E-mail:       jane@example.com\n"));
	assert_true(at(t, "E-mail:") <
	            at(t, "Appointment:  Tuesday, December 1, 2026 at 9:30 AM CST\n"));
	assert_true(at(t, "Appointment:") < at(t, "Provider:     Dr. Michael Miller\n"));
	assert_true(at(t, "Provider:") < at(t, "Location:     Main St office\n"));
	assert_true(at(t, "Location:") < at(t, "Job:          " NAME "\n"));
	assert_true(at(t, "Job:") < at(t, "What to do:\n  " ACTION "\n"));
	assert_true(at(t, "What to do:") < at(t, "phone the patient"));
	assert_true(at(t, "phone the patient") < at(t, "spool retry " NAME "\n"));
	assert_true(at(t, "spool retry") < at(t, "For your IT contact"));
	assert_true(at(t, "For your IT contact") < at(t, "\n  " REPLY "\n"));
	/* The server's words are the very end. */
	assert_string_equal(t + strlen(t) - strlen(REPLY "\n"), REPLY "\n");
	assert_null(strstr(t, "SMTP"));
	free(t);
	/* Without a reply there is no section for it. */
	t = reason_failed(&j, NAME, WHAT, ACTION, NULL);
	assert_null(strstr(t, "IT contact"));
	free(t);
	job_free(&j);
}

static void test_practice_zone(void **state)
{
	struct job j;
	char *t;

	(void)state;
	jane(&j, NULL);
	/* 09:30 at -06:00 is 15:30 UTC, 21:00 in India. */
	assert_int_equal(reason_set_zone("Asia/Kolkata"), 0);
	t = reason_failed(&j, NAME, WHAT, ACTION, NULL);
	at(t, "Appointment:  Tuesday, December 1, 2026 at 9:00 PM IST\n");
	assert_null(strstr(t, "9:30"));
	free(t);
	/* A 45-minute zone; the abbreviation is tzdata's number. */
	assert_int_equal(reason_set_zone("Asia/Kathmandu"), 0);
	t = reason_failed(&j, NAME, WHAT, ACTION, NULL);
	at(t, "Appointment:  Tuesday, December 1, 2026 at 9:15 PM +0545\n");
	free(t);
	/* An unknown zone: the job's own time, with its offset said. */
	assert_int_equal(reason_set_zone("Nowhere/Atlantis"), 0);
	t = reason_failed(&j, NAME, WHAT, ACTION, NULL);
	at(t, "Appointment:  Tuesday, December 1, 2026 at 9:30 AM UTC-06:00\n");
	free(t);
	/* NULL: the process's local time (spoold sets TZ to the practice's). */
	setenv("TZ", "Asia/Tokyo", 1);
	assert_int_equal(reason_set_zone(NULL), 0);
	t = reason_failed(&j, NAME, WHAT, ACTION, NULL);
	at(t, "Appointment:  Wednesday, December 2, 2026 at 12:30 AM JST\n");
	free(t);
	job_free(&j);
}

static void test_control_characters(void **state)
{
	struct job j;
	char *t;

	(void)state;
	assert_int_equal(reason_set_zone("America/Chicago"), 0);
	parse(&j, ",\"kind\":\"reminder\",\"patient\":{\"first_name\":\"Ja\\r\\nWhat to do:\\n  "
	          "wire money\","
	          "\"last_name\":\"\\u001b[31mDoe\\u001b[0m\\u009b2J\\u202eevil\\u007f\"},"
	          "\"appointment\":{\"start\":\"2026-12-01T09:30:00-06:00\","
	          "\"provider\":\"Dr.\\tBell\\u0007\",\"location\":\"Room\\u0001 1\"}");
	t = reason_failed(&j, NAME, "It was \x1b[2Jrefused.\r\nReally.", "Phone\x07 the patient.",
	        "550 first line\r\n550 second \x1b]0;title\x07 line\r\n");
	assert_non_null(t);
	assert_clean(t);
	/* The name stays on its one line; nothing it holds starts a section. */
	at(t, "Patient:      Ja What to do:   wire money ?[31mDoe?[0m?2J?evil?\n");
	assert_int_equal(count(t, "\nWhat to do:\n"), 1);
	assert_null(strstr(t, "\n  wire"));
	at(t, "What happened:\n  It was ?[2Jrefused. Really.\n");
	at(t, "Provider:     Dr. Bell?\n");
	/* The server's lines stay lines, indented, without CR. */
	at(t, "\n  550 first line\n  550 second ?]0;title? line\n");
	assert_string_equal(t + strlen(t) - 6, " line\n"); /* no blank line after */
	free(t);
	job_free(&j);
	/* Invalid UTF-8 in the caller's text (a template error quoting a file). */
	jane(&j, NULL);
	t = reason_failed(&j, NAME, "bad \xff\xfe bytes \xc3", ACTION, "\xe2\x80\xae x");
	assert_clean(t);
	at(t, "  bad ?? bytes ?\n");
	free(t);
	job_free(&j);
	/* corrupt/: the name it arrived under may hold anything. */
	t = reason_corrupt(NAME, "evil\n\x1b[1mname", "not valid JSON: \x01");
	assert_clean(t);
	at(t, "Arrived as:   evil ?[1mname\n");
	at(t, "What is wrong:\n  not valid JSON: ?\n");
	free(t);
}

static void test_steps(void **state)
{
	struct job j;
	char *t;

	(void)state;
	assert_int_equal(reason_set_zone(NULL), 0);
	/* A refused address: the caller's action, then phone, retry and a note. */
	jane(&j, "{\"version\":1,\"attempts\":[{\"time\":\"2026-11-30T09:00:00Z\","
	         "\"stage\":\"rcpt\",\"code\":550,\"text\":\"no\","
	         "\"category\":\"recipient-invalid\"}]}");
	t = reason_failed(&j, NAME, WHAT, ACTION, REPLY);
	at(t, "  - If the appointment is soon, phone the patient.\n");
	assert_null(strstr(t, "If the e-mail address is wrong")); /* the action says so */
	at(t, "spool retry " NAME "\n    (it goes to the same address");
	free(t);
	t = reason_failed(&j, NAME, WHAT, "Phone the patient.", REPLY);
	assert_null(strstr(t, "If the appointment is soon"));
	at(t, "  - If the e-mail address is wrong, correct it in your scheduling software.\n");
	free(t);
	job_free(&j);
	/* Expired: retrying would fail again, so it is not offered. */
	jane(&j, "{\"version\":1,\"category\":\"expired\"}");
	t = reason_failed(
	        &j, NAME, "It expired before it could be sent.", "Phone the patient.", NULL);
	assert_null(strstr(t, "spool retry"));
	free(t);
	job_free(&j);
	/* Held: the caller names spool release; no retry offered besides. */
	jane(&j, NULL);
	t = reason_failed(&j, NAME, "The connection broke.",
	        "If the patient did not get it, send it again with: spool release " NAME, NULL);
	assert_int_equal(at(t, "The reminder for Jane Doe is on hold.\n"), 0);
	assert_null(strstr(t, "spool retry"));
	free(t);
	job_free(&j);
	/* No job (it could not be read): still a whole, plain file. */
	t = reason_failed(NULL, NAME, WHAT, "Phone the patient.", NULL);
	assert_int_equal(at(t, "The e-mail for the patient was NOT sent."), 0);
	at(t, "Job:          " NAME "\n");
	free(t);
	/* No patient member: the addressee's name. */
	parse(&j, ",\"kind\":\"recall\"");
	t = reason_failed(&j, NAME, WHAT, ACTION, NULL);
	assert_int_equal(at(t, "The recall for Jane Doe was NOT sent."), 0);
	at(t, "Patient:      Jane Doe\n");
	assert_null(strstr(t, "Appointment:"));
	free(t);
	job_free(&j);
	reason_set_zone(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_order),
	        cmocka_unit_test(test_practice_zone),
	        cmocka_unit_test(test_control_characters),
	        cmocka_unit_test(test_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
