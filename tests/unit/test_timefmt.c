/*
 * test_timefmt - RFC 3339 parsing and formatting, RFC 5322 dates in zones
 * with whole, half-hour and 45-minute offsets, east and west of UTC.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "timefmt.h"

struct good {
	const char *s;
	long long t;
	int off;
};

static const struct good good[] = {
        {"2026-12-01T09:30:00-06:00", 1796139000LL, -360},
        {"2026-12-01T15:30:00Z", 1796139000LL, 0},
        {"2026-12-01t15:30:00z", 1796139000LL, 0},
        {"2026-12-01T21:00:00+05:30", 1796139000LL, 330},
        {"2026-12-01T21:15:00+05:45", 1796139000LL, 345},
        {"2026-12-01T12:00:00-03:30", 1796139000LL, -210},
        {"2026-12-01T15:30:00.5Z", 1796139000LL, 0},
        {"2026-12-01T15:30:00.123456789+00:00", 1796139000LL, 0},
        {"2026-12-01T15:30:00-00:00", 1796139000LL, 0},
        {"2026-12-02T05:29:00+13:59", 1796139000LL, 839},
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1969-12-31T23:59:59Z", -1, 0},
        {"2024-02-29T00:00:00Z", 1709164800LL, 0},
        {"2000-02-29T12:00:00Z", 951825600LL, 0},
        {"0000-01-01T00:00:00Z", -62167219200LL, 0},
        {"9999-12-31T23:59:59Z", 253402300799LL, 0},
        {"2026-12-31T23:59:59+23:59", 1798761599LL - 23 * 3600 - 59 * 60, 1439},
        {NULL, 0, 0},
};

static const char *const bad[] = {
        "",
        "2026-12-01",
        "2026-12-01T09:30:00",       /* no offset */
        "2026-12-01 09:30:00Z",      /* space separator */
        "2026-12-01T09:30Z",         /* no seconds */
        "2026-12-01T09:30:00+0530",  /* offset without colon */
        "2026-12-01T09:30:00+05",    /* short offset */
        "2026-12-01T09:30:00+24:00", /* offset hour */
        "2026-12-01T09:30:00+05:60", /* offset minute */
        "2026-12-01T09:30:00.Z",     /* empty fraction */
        "2026-12-01T09:30:00ZZ",     /* trailing text */
        "2026-12-01T09:30:00Z ",
        " 2026-12-01T09:30:00Z",
        "2026-1-01T09:30:00Z",
        "26-12-01T09:30:00Z",
        "2026-13-01T09:30:00Z",
        "2026-00-01T09:30:00Z",
        "2026-12-00T09:30:00Z",
        "2026-12-32T09:30:00Z",
        "2026-04-31T09:30:00Z",
        "2026-06-31T09:30:00Z",
        "2023-02-29T09:30:00Z", /* not a leap year */
        "1900-02-29T09:30:00Z", /* divisible by 100 */
        "2100-02-29T09:30:00Z",
        "2024-02-30T09:30:00Z",
        "2026-12-01T24:00:00Z",
        "2026-12-01T09:60:00Z",
        "2026-12-01T09:30:60Z", /* leap second */
        "2026-12-01T9:30:00Z",
        "+2026-12-01T09:30:00Z",
        "2026-12-01T09:30:00UTC",
        "tomorrow",
        "2026-12-01T09:30:00\n",
        "2026-12-01T09:30:00-06:00x",
        NULL,
};

/* test_parse_good - times, offsets, fractions, leap days, extreme years */
static void test_parse_good(void **state)
{
	time_t t;
	int off, i;

	(void)state;
	for (i = 0; good[i].s != NULL; i++) {
		t = 12345;
		off = 12345;
		if (rfc3339_parse(good[i].s, &t, &off) != 0)
			fail_msg("%s refused", good[i].s);
		if ((long long)t != good[i].t || off != good[i].off)
			fail_msg("%s: got %lld %d, want %lld %d", good[i].s, (long long)t, off,
			        good[i].t, good[i].off);
	}
	assert_int_equal(rfc3339_parse("2026-12-01T09:30:00Z", NULL, NULL), 0);
}

/* test_parse_bad - every malformed or out-of-range time is refused */
static void test_parse_bad(void **state)
{
	time_t t = 7;
	int off = 7, i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		if (rfc3339_parse(bad[i], &t, &off) != -1)
			fail_msg("%s accepted", bad[i]);
	assert_int_equal(t, 7);
	assert_int_equal(off, 7);
	assert_int_equal(rfc3339_parse(NULL, &t, &off), -1);
}

/* test_parse_ignores_tz - parsing is arithmetic, TZ plays no part */
static void test_parse_ignores_tz(void **state)
{
	time_t t;

	(void)state;
	setenv("TZ", "Asia/Kathmandu", 1);
	tzset();
	assert_int_equal(rfc3339_parse("2026-12-01T09:30:00-06:00", &t, NULL), 0);
	assert_int_equal(t, 1796139000LL);
	setenv("TZ", "UTC", 1);
	tzset();
}

/* test_format - UTC output and round trips */
static void test_format(void **state)
{
	char buf[TIMEFMT_MAX], small[10];
	time_t t;
	int i;

	(void)state;
	assert_string_equal(rfc3339_format(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
	assert_string_equal(rfc3339_format(1796139000, buf, sizeof buf), "2026-12-01T15:30:00Z");
	assert_string_equal(rfc3339_format(1709164800, buf, sizeof buf), "2024-02-29T00:00:00Z");
	assert_string_equal(rfc3339_format(-1, buf, sizeof buf), "1969-12-31T23:59:59Z");
	for (i = 0; good[i].s != NULL; i++) {
		rfc3339_format((time_t)good[i].t, buf, sizeof buf);
		assert_int_equal(rfc3339_parse(buf, &t, NULL), 0);
		assert_int_equal(t, good[i].t);
	}
	assert_string_equal(rfc3339_format(0, small, sizeof small), "");
	assert_string_equal(rfc3339_format(253402300800LL, buf, sizeof buf), ""); /* year 10000 */
	assert_string_equal(rfc3339_format(-62167219201LL, buf, sizeof buf), ""); /* year -1 */
}

struct zone {
	const char *tz;
	long long t;
	const char *want;
};

static const struct zone zones[] = {
        {"UTC", 1796139000LL, "Tue, 01 Dec 2026 15:30:00 +0000"},
        {"Asia/Kolkata", 1796139000LL, "Tue, 01 Dec 2026 21:00:00 +0530"},
        {"Asia/Kathmandu", 1796139000LL, "Tue, 01 Dec 2026 21:15:00 +0545"},
        {"America/Chicago", 1796139000LL, "Tue, 01 Dec 2026 09:30:00 -0600"},
        {"America/Chicago", 1783184400LL, "Sat, 04 Jul 2026 12:00:00 -0500"},
        {"America/St_Johns", 1796139000LL, "Tue, 01 Dec 2026 12:00:00 -0330"},
        {"America/St_Johns", 1783184400LL, "Sat, 04 Jul 2026 14:30:00 -0230"},
        {"Asia/Kolkata", 951825600LL, "Tue, 29 Feb 2000 17:30:00 +0530"},
        {"UTC", 0, "Thu, 01 Jan 1970 00:00:00 +0000"},
        {"Pacific/Kiritimati", 1796139000LL, "Wed, 02 Dec 2026 05:30:00 +1400"},
        {NULL, 0, NULL},
};

/* test_rfc5322 - local time and offset per TZ, English names */
static void test_rfc5322(void **state)
{
	char buf[TIMEFMT_MAX], small[20];
	int i;

	(void)state;
	for (i = 0; zones[i].tz != NULL; i++) {
		setenv("TZ", zones[i].tz, 1);
		tzset();
		rfc5322_date((time_t)zones[i].t, buf, sizeof buf);
		if (strcmp(buf, zones[i].want) != 0)
			fail_msg("%s %lld: got <%s>, want <%s>", zones[i].tz, zones[i].t, buf,
			        zones[i].want);
	}
	assert_string_equal(rfc5322_date(0, small, sizeof small), "");
	setenv("TZ", "UTC", 1);
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_good),
	        cmocka_unit_test(test_parse_bad),
	        cmocka_unit_test(test_parse_ignores_tz),
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_rfc5322),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
