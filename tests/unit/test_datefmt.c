/*
 * test_datefmt - the templates' "when" fields: half-hour and 45-minute
 * zones, both DST changes in America/Chicago, a job whose offset is not
 * the practice's, "today"/"tomorrow" at midnight in the practice's zone,
 * leads in days and weeks, English and Spanish, and Date: headers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "datefmt.h"
#include "job.h"
#include "timefmt.h"

/* when - "when" for a reminder starting at start (minutes may be 0) */
static json_t *when(
        const char *start, int minutes, const char *zone, const char *locale, const char *now)
{
	char buf[512], err[256];
	struct job j;
	json_t *w = NULL;
	time_t t;

	if (minutes)
		snprintf(buf, sizeof buf,
		        "{\"version\":1,\"id\":\"x\",\"kind\":\"reminder\",\"to\":{\"email\":"
		        "\"a@example.com\"},\"appointment\":{\"start\":\"%s\",\"minutes\":%d}}",
		        start, minutes);
	else
		snprintf(buf, sizeof buf,
		        "{\"version\":1,\"id\":\"x\",\"kind\":\"reminder\",\"to\":{\"email\":"
		        "\"a@example.com\"},\"appointment\":{\"start\":\"%s\"}}",
		        start);
	assert_int_equal(job_parse(&j, buf, strlen(buf), err, sizeof err), 0);
	assert_int_equal(rfc3339_parse(now, &t, NULL), 0);
	assert_int_equal(datefmt_when(&j, zone, locale, t, &w, err, sizeof err), 0);
	assert_non_null(w);
	job_free(&j);
	return w;
}

/* expect - w.key is the string want */
static void expect(const json_t *w, const char *key, const char *want)
{
	const char *got = json_string_value(json_object_get(w, key));

	if (!got || strcmp(got, want)) {
		print_error(
		        "when.%s: got \"%s\", want \"%s\"\n", key, got ? got : "(absent)", want);
		fail();
	}
}

static void test_english_chicago(void **state)
{
	json_t *w = when("2026-12-01T09:30:00-06:00", 30, "America/Chicago", "en",
	        "2026-11-30T10:00:00-06:00");

	(void)state;
	expect(w, "date", "Tuesday, December 1, 2026");
	expect(w, "date_short", "Tue, Dec 1");
	expect(w, "time", "9:30 AM");
	expect(w, "end_time", "10:00 AM");
	expect(w, "weekday", "Tuesday");
	expect(w, "lead", "tomorrow");
	expect(w, "tz_abbr", "CST");
	expect(w, "iso", "2026-12-01T09:30:00-06:00");
	assert_true(json_is_false(json_object_get(w, "is_today")));
	assert_true(json_is_true(json_object_get(w, "is_tomorrow")));
	json_decref(w);
}

static void test_spanish(void **state)
{
	json_t *w = when("2026-12-01T09:30:00-06:00", 30, "America/Chicago", "es",
	        "2026-11-30T10:00:00-06:00");

	(void)state;
	expect(w, "date", "martes, 1 de diciembre de 2026");
	expect(w, "date_short", "mar 1 dic");
	expect(w, "time", "9:30");
	expect(w, "end_time", "10:00");
	expect(w, "weekday", "martes");
	expect(w, "lead", "mañana");
	json_decref(w);
	w = when("2026-12-16T14:05:00-06:00", 0, "America/Chicago", "es-MX",
	        "2026-12-02T10:00:00-06:00");
	expect(w, "date", "miércoles, 16 de diciembre de 2026");
	expect(w, "date_short", "mié 16 dic");
	expect(w, "time", "14:05");
	expect(w, "lead", "en 2 semanas");
	assert_null(json_object_get(w, "end_time"));
	json_decref(w);
	w = when("2026-09-05T08:00:00-05:00", 0, "America/Chicago", "es",
	        "2026-09-02T10:00:00-05:00");
	expect(w, "date", "sábado, 5 de septiembre de 2026");
	expect(w, "date_short", "sáb 5 sept");
	expect(w, "lead", "en 3 días");
	json_decref(w);
	/* "est" and "e" are not Spanish; "es-419" is. */
	assert_false(datefmt_spanish("est"));
	assert_false(datefmt_spanish("e"));
	assert_false(datefmt_spanish(NULL));
	assert_true(datefmt_spanish("es-419"));
}

static void test_half_hour_zone(void **state)
{
	json_t *w = when("2026-12-01T15:30:00Z", 45, "Asia/Kolkata", "en", "2026-12-01T03:00:00Z");

	(void)state;
	expect(w, "time", "9:00 PM");
	expect(w, "end_time", "9:45 PM");
	expect(w, "tz_abbr", "IST");
	expect(w, "iso", "2026-12-01T21:00:00+05:30");
	expect(w, "lead", "today");
	assert_true(json_is_true(json_object_get(w, "is_today")));
	json_decref(w);
}

static void test_45_minute_zone(void **state)
{
	json_t *w = when("2026-12-01T18:30:00Z", 0, "Asia/Kathmandu", "en", "2026-11-28T12:00:00Z");

	(void)state;
	/* 18:30Z + 5:45 = 00:15 on 2 December. */
	expect(w, "date", "Wednesday, December 2, 2026");
	expect(w, "time", "12:15 AM");
	expect(w, "tz_abbr", "+0545");
	expect(w, "iso", "2026-12-02T00:15:00+05:45");
	expect(w, "lead", "in 4 days");
	json_decref(w);
}

static void test_dst_spring_forward(void **state)
{
	/* 2026-03-08: 02:00 CST becomes 03:00 CDT in Chicago. */
	json_t *w = when("2026-03-08T01:30:00-06:00", 60, "America/Chicago", "en",
	        "2026-03-07T12:00:00-06:00");

	(void)state;
	expect(w, "time", "1:30 AM");
	expect(w, "end_time", "3:30 AM");
	expect(w, "tz_abbr", "CST");
	expect(w, "iso", "2026-03-08T01:30:00-06:00");
	json_decref(w);
	w = when("2026-03-08T08:00:00Z", 0, "America/Chicago", "en", "2026-03-07T12:00:00-06:00");
	expect(w, "time", "3:00 AM");
	expect(w, "tz_abbr", "CDT");
	expect(w, "iso", "2026-03-08T03:00:00-05:00");
	json_decref(w);
}

static void test_dst_fall_back(void **state)
{
	/* 2026-11-01: 02:00 CDT becomes 01:00 CST; 1:30 happens twice. */
	json_t *w = when(
	        "2026-11-01T06:30:00Z", 60, "America/Chicago", "en", "2026-10-31T12:00:00-05:00");

	(void)state;
	expect(w, "time", "1:30 AM");
	expect(w, "end_time", "1:30 AM");
	expect(w, "tz_abbr", "CDT");
	expect(w, "iso", "2026-11-01T01:30:00-05:00");
	expect(w, "lead", "tomorrow");
	json_decref(w);
	w = when("2026-11-01T07:30:00Z", 0, "America/Chicago", "en", "2026-10-31T12:00:00-05:00");
	expect(w, "time", "1:30 AM");
	expect(w, "tz_abbr", "CST");
	expect(w, "iso", "2026-11-01T01:30:00-06:00");
	json_decref(w);
}

static void test_job_offset_differs(void **state)
{
	/* The scheduler wrote New York time; the practice is in Chicago. */
	json_t *w = when("2026-12-01T10:30:00-05:00", 30, "America/Chicago", "en",
	        "2026-11-20T10:00:00-06:00");

	(void)state;
	expect(w, "time", "9:30 AM");
	expect(w, "end_time", "10:00 AM");
	expect(w, "iso", "2026-12-01T09:30:00-06:00");
	expect(w, "lead", "in 11 days");
	json_decref(w);
	/* Written in UTC, shown in Kolkata on the next calendar day. */
	w = when("2026-12-01T20:00:00Z", 0, "Asia/Kolkata", "en", "2026-12-01T10:00:00Z");
	expect(w, "date", "Wednesday, December 2, 2026");
	expect(w, "time", "1:30 AM");
	expect(w, "lead", "tomorrow");
	json_decref(w);
}

static void test_day_boundaries(void **state)
{
	json_t *w;

	(void)state;
	/* Two minutes apart but on different calendar days: tomorrow. */
	w = when("2026-12-01T00:01:00-06:00", 0, "America/Chicago", "en",
	        "2026-11-30T23:59:00-06:00");
	expect(w, "lead", "tomorrow");
	assert_true(json_is_true(json_object_get(w, "is_tomorrow")));
	json_decref(w);
	/* Midnight exactly is the same day. */
	w = when("2026-12-01T23:59:00-06:00", 0, "America/Chicago", "en",
	        "2026-12-01T00:00:00-06:00");
	expect(w, "lead", "today");
	expect(w, "time", "11:59 PM");
	json_decref(w);
	/* The same two instants: one day in Chicago, two days in Kolkata. */
	w = when("2026-11-30T18:31:00Z", 0, "America/Chicago", "en", "2026-11-30T18:29:00Z");
	expect(w, "lead", "today");
	json_decref(w);
	w = when("2026-11-30T18:31:00Z", 0, "Asia/Kolkata", "en", "2026-11-30T18:29:00Z");
	expect(w, "lead", "tomorrow");
	expect(w, "time", "12:01 AM");
	json_decref(w);
	/* Across a DST change a day is 23 hours long and still one day. */
	w = when("2026-03-08T09:00:00-05:00", 0, "America/Chicago", "en",
	        "2026-03-07T09:30:00-06:00");
	expect(w, "lead", "tomorrow");
	json_decref(w);
	/* Noon. */
	w = when("2026-12-01T12:00:00-06:00", 0, "America/Chicago", "en",
	        "2026-11-29T12:00:00-06:00");
	expect(w, "time", "12:00 PM");
	expect(w, "lead", "in 2 days");
	json_decref(w);
}

static void test_leads(void **state)
{
	static const struct {
		const char *now, *en, *es;
	} cases[] = {
	        {"2026-11-18T09:00:00-06:00", "in 13 days", "en 13 días"},
	        {"2026-11-17T09:00:00-06:00", "in 2 weeks", "en 2 semanas"},
	        {"2026-11-11T09:00:00-06:00", "in 3 weeks", "en 3 semanas"},
	        {"2026-12-02T09:00:00-06:00", "yesterday", "ayer"},
	        {"2026-12-04T09:00:00-06:00", "3 days ago", "hace 3 días"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *w =
		        when("2026-12-01T09:30:00-06:00", 0, "America/Chicago", "en", cases[i].now);
		expect(w, "lead", cases[i].en);
		json_decref(w);
		w = when("2026-12-01T09:30:00-06:00", 0, "America/Chicago", "es", cases[i].now);
		expect(w, "lead", cases[i].es);
		json_decref(w);
	}
}

static void test_system_zone(void **state)
{
	json_t *w;

	(void)state;
	setenv("TZ", "Asia/Kolkata", 1);
	w = when("2026-12-01T15:30:00Z", 0, NULL, "en", "2026-12-01T03:00:00Z");
	expect(w, "time", "9:00 PM");
	expect(w, "tz_abbr", "IST");
	json_decref(w);
	unsetenv("TZ");
}

static void test_no_appointment_and_bad_zone(void **state)
{
	const char *recall = "{\"version\":1,\"id\":\"r\",\"kind\":\"recall\",\"to\":{\"email\":"
	                     "\"a@example.com\"}}";
	const char *remind =
	        "{\"version\":1,\"id\":\"r\",\"kind\":\"reminder\",\"to\":{\"email\":"
	        "\"a@example.com\"},\"appointment\":{\"start\":\"2026-12-01T09:30:00Z\"}}";
	char err[256];
	struct job j;
	json_t *w = json_true();

	(void)state;
	assert_int_equal(job_parse(&j, recall, strlen(recall), err, sizeof err), 0);
	assert_int_equal(datefmt_when(&j, "America/Chicago", NULL, 0, &w, err, sizeof err), 0);
	assert_null(w);
	job_free(&j);
	assert_int_equal(job_parse(&j, remind, strlen(remind), err, sizeof err), 0);
	assert_int_equal(datefmt_when(&j, "America/Chicgo", NULL, 0, &w, err, sizeof err), -1);
	assert_null(w);
	assert_non_null(strstr(err, "America/Chicgo"));
	assert_false(datefmt_zone_known("Mars/Olympus_Mons"));
	assert_true(datefmt_zone_known(NULL));
	assert_true(datefmt_zone_known("UTC"));
	job_free(&j);
}

static void test_rfc5322(void **state)
{
	char buf[TIMEFMT_MAX];
	time_t t = 1796139000; /* 2026-12-01T15:30:00Z */

	(void)state;
	assert_string_equal(datefmt_rfc5322(t, "Asia/Kolkata", buf, sizeof buf),
	        "Tue, 01 Dec 2026 21:00:00 +0530");
	assert_string_equal(datefmt_rfc5322(t, "Asia/Kathmandu", buf, sizeof buf),
	        "Tue, 01 Dec 2026 21:15:00 +0545");
	assert_string_equal(datefmt_rfc5322(t, "America/St_Johns", buf, sizeof buf),
	        "Tue, 01 Dec 2026 12:00:00 -0330");
	assert_string_equal(datefmt_rfc5322(t, "America/Chicago", buf, sizeof buf),
	        "Tue, 01 Dec 2026 09:30:00 -0600");
	assert_string_equal(
	        datefmt_rfc5322(t, "UTC", buf, sizeof buf), "Tue, 01 Dec 2026 15:30:00 +0000");
	assert_string_equal(datefmt_rfc5322(t, "Nowhere/Atall", buf, sizeof buf), "");
}

static void test_zone_name(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(datefmt_zone_name("Asia/Kolkata", buf, sizeof buf), "Asia/Kolkata");
	assert_null(datefmt_zone_name("Nowhere/Atall", buf, sizeof buf));
	setenv("TZ", ":America/Chicago", 1);
	assert_string_equal(datefmt_zone_name(NULL, buf, sizeof buf), "America/Chicago");
	setenv("TZ", "/usr/share/zoneinfo/Asia/Kathmandu", 1);
	assert_string_equal(datefmt_zone_name(NULL, buf, sizeof buf), "Asia/Kathmandu");
	unsetenv("TZ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_english_chicago),
	        cmocka_unit_test(test_spanish),
	        cmocka_unit_test(test_half_hour_zone),
	        cmocka_unit_test(test_45_minute_zone),
	        cmocka_unit_test(test_dst_spring_forward),
	        cmocka_unit_test(test_dst_fall_back),
	        cmocka_unit_test(test_job_offset_differs),
	        cmocka_unit_test(test_day_boundaries),
	        cmocka_unit_test(test_leads),
	        cmocka_unit_test(test_system_zone),
	        cmocka_unit_test(test_no_appointment_and_bad_zone),
	        cmocka_unit_test(test_rfc5322),
	        cmocka_unit_test(test_zone_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
