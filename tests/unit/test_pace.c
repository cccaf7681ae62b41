/*
 * test_pace - unit tests for pace.c: the sliding windows per minute, hour
 * and day (the exact earliest next time), a burst and the window sliding,
 * the gap with its jitter, quiet hours (through midnight, within a day,
 * on the days DST starts and ends in America/Chicago), messages per
 * connection, state/NAME saved and loaded (a restart keeps the day's
 * budget), SPOOLD_TEST_TIME_SCALE, bounded memory, and a simulation of
 * 1,000 messages sent as soon as pace_next allows.
 *
 * The clock is injected: every time is T0 (or a UTC date) plus an offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pace.h"
#include "spooldir.h"
#include "spooldir_fixture.h" /* a fresh spool for test_save_load */

#define S 1000LL
#define MIN (60 * S)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 (1767225600LL * S) /* 2026-01-01T00:00:00Z */

/* lim - these limits per minute, hour and day (0: none), no quiet hours */
static struct pacing_conf lim(int m, int h, int d)
{
	struct pacing_conf c = {.per_minute = m, .per_hour = h, .per_day = d};

	c.quiet_start = c.quiet_end = -1;
	return c;
}

/* renew - p afresh with the limits c */
static void renew(struct pace *p, const struct pacing_conf *c)
{
	pace_free(p);
	pace_init(p, c);
}

/* quiet - p afresh with quiet hours (minutes after midnight) and per_minute */
static void quiet(struct pace *p, int start, int end, int per_minute)
{
	struct pacing_conf c = lim(per_minute, 0, 0);

	c.quiet_start = start;
	c.quiet_end = end;
	renew(p, &c);
}

/* sends - n sends from t, step ms apart */
static void sends(struct pace *p, int n, int64_t t, int64_t step)
{
	for (int i = 0; i < n; i++)
		pace_sent(p, t + i * step);
}

/* utc - a UTC date and time in ms */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
	        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};

	return (int64_t)timegm(&tm) * S;
}

/* zone - set TZ for localtime_r and mktime */
static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* next_is - pace_next at now is want, for reason why (NULL: now) */
static void next_is(const struct pace *p, int64_t now, int64_t want, const char *why)
{
	const char *got = "unset";

	assert_int_equal(pace_next(p, now, &got), want);
	if (why)
		assert_string_equal(got, why);
	else
		assert_null(got);
}

/* test_windows - each window's limit gives the exact earliest next time */
static void test_windows(void **state)
{
	struct pacing_conf c = lim(0, 0, 0);
	struct pace p;

	(void)state;
	pace_init(&p, &c);
	sends(&p, 100, T0, 1);
	next_is(&p, T0 + 100, T0 + 100, NULL); /* no limits */
	assert_int_equal(p.n, 0);

	c = lim(10, 0, 0);
	renew(&p, &c);
	for (int i = 0; i < 10; i++) {
		next_is(&p, T0 + i * S, T0 + i * S, NULL);
		pace_sent(&p, T0 + i * S);
	}
	next_is(&p, T0 + 10 * S, T0 + MIN, "per_minute");
	next_is(&p, T0 + MIN, T0 + MIN, NULL);
	pace_sent(&p, T0 + MIN);
	next_is(&p, T0 + MIN, T0 + S + MIN, "per_minute");
	assert_int_equal(pace_used(&p, T0 + MIN, MIN), 10);

	c = lim(2, 3, 0);
	renew(&p, &c);
	sends(&p, 2, T0, 10 * S);
	next_is(&p, T0 + 20 * S, T0 + MIN, "per_minute");
	pace_sent(&p, T0 + MIN);
	next_is(&p, T0 + MIN, T0 + HOUR, "per_hour");
	next_is(&p, T0 + HOUR - 1, T0 + HOUR, "per_hour");
	next_is(&p, T0 + HOUR, T0 + HOUR, NULL);

	c = lim(0, 2, 4);
	renew(&p, &c);
	sends(&p, 2, T0, MIN);
	next_is(&p, T0 + 2 * MIN, T0 + HOUR, "per_hour");
	sends(&p, 2, T0 + 2 * HOUR, HOUR);
	next_is(&p, T0 + 4 * HOUR, T0 + DAY, "per_day");
	next_is(&p, T0 + DAY, T0 + DAY, NULL);
	pace_free(&p);
}

/* test_burst - a burst fills the window, which then slides one by one */
static void test_burst(void **state)
{
	struct pacing_conf c = lim(5, 0, 0);
	struct pace p;

	(void)state;
	pace_init(&p, &c);
	sends(&p, 5, T0, 10 * S);
	for (int i = 0; i < 5; i++) {
		next_is(&p, T0 + 50 * S, T0 + MIN + i * 10 * S, "per_minute");
		pace_sent(&p, T0 + MIN + i * 10 * S);
	}
	next_is(&p, T0 + 2 * MIN, T0 + 2 * MIN, NULL);
	assert_int_equal(pace_used(&p, T0 + 2 * MIN - 1, MIN), 5);
	assert_int_equal(pace_used(&p, T0 + 2 * MIN + 25 * S, MIN), 2);
	sends(&p, 5, T0 + HOUR, 0); /* all at once */
	next_is(&p, T0 + HOUR, T0 + HOUR + MIN, "per_minute");
	pace_free(&p);
}

/* test_gap - min_gap plus a jitter between 0 and 25%, chosen at each send */
static void test_gap(void **state)
{
	struct pacing_conf c = lim(0, 0, 0);
	int64_t now = T0, lo = 1 << 30, hi = 0;
	struct pace p;

	(void)state;
	c.min_gap_ms = 1000;
	srandom(1);
	pace_init(&p, &c);
	next_is(&p, now, now, NULL);
	for (int i = 0; i < 1000; i++) {
		const char *why;
		pace_sent(&p, now);
		int64_t g = pace_next(&p, now, &why) - now;
		assert_true(g >= 1000 && g <= 1250);
		assert_string_equal(why, "min_gap");
		lo = g < lo ? g : lo;
		hi = g > hi ? g : hi;
		now += g;
	}
	assert_true(lo < 1050 && hi > 1200); /* it does vary */
	next_is(&p, p.last + p.gap, p.last + p.gap, NULL);
	pace_free(&p);
}

/* test_quiet - through midnight, within a day, and pushed in by a limit */
static void test_quiet(void **state)
{
	int64_t d = utc(2026, 1, 5, 0, 0);
	struct pace p = {0};

	(void)state;
	quiet(&p, 21 * 60, 8 * 60, 0);
	next_is(&p, d + 12 * HOUR, d + 12 * HOUR, NULL);
	next_is(&p, d + 21 * HOUR - 1, d + 21 * HOUR - 1, NULL);
	next_is(&p, d + 21 * HOUR, d + DAY + 8 * HOUR, "quiet_hours");
	next_is(&p, d + 22 * HOUR + 30 * MIN, d + DAY + 8 * HOUR, "quiet_hours");
	next_is(&p, d + 3 * HOUR, d + 8 * HOUR, "quiet_hours");
	next_is(&p, d + 8 * HOUR - 1, d + 8 * HOUR, "quiet_hours");
	next_is(&p, d + 8 * HOUR, d + 8 * HOUR, NULL);

	quiet(&p, 12 * 60, 13 * 60 + 30, 1);
	next_is(&p, d + 11 * HOUR + 59 * MIN, d + 11 * HOUR + 59 * MIN, NULL);
	next_is(&p, d + 12 * HOUR + 15 * MIN, d + 13 * HOUR + 30 * MIN, "quiet_hours");
	next_is(&p, d + 13 * HOUR + 30 * MIN, d + 13 * HOUR + 30 * MIN, NULL);
	pace_sent(&p, d + 11 * HOUR + 59 * MIN + 30 * S); /* next at 12:00:30: quiet */
	next_is(&p, d + 11 * HOUR + 59 * MIN + 40 * S, d + 13 * HOUR + 30 * MIN, "quiet_hours");

	quiet(&p, 600, 600, 0); /* an empty span: never quiet */
	next_is(&p, d + 10 * HOUR, d + 10 * HOUR, NULL);
	pace_free(&p);
}

/* test_dst - quiet hours ending on the days DST starts and ends */
static void test_dst(void **state)
{
	struct pace p = {0};

	(void)state;
	zone("America/Chicago"); /* CST -6, CDT -5; 2026-03-08 02:00, 2026-11-01 02:00 */
	quiet(&p, 21 * 60, 8 * 60, 0);
	/* 22:00 CST on the 7th: 08:00 CDT on the 8th, ten hours later */
	next_is(&p, utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 13, 0), "quiet_hours");
	/* 22:00 CDT on 31 October: 08:00 CST on 1 November, eleven hours later */
	next_is(&p, utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 14, 0), "quiet_hours");
	quiet(&p, 21 * 60, 2 * 60 + 30, 0); /* no 02:30 on 8 March: 03:00 CDT */
	next_is(&p, utc(2026, 3, 8, 4, 0), utc(2026, 3, 8, 8, 0), "quiet_hours");
	quiet(&p, 21 * 60, 60 + 30, 0); /* 01:30 twice on 1 November: the first */
	next_is(&p, utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 6, 30), "quiet_hours");
	next_is(&p, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 30), NULL);
	pace_free(&p);
	zone("UTC");
}

/* test_connection - per_connection messages, then a new connection */
static void test_connection(void **state)
{
	struct pacing_conf c = lim(0, 0, 0);
	struct pace p;

	(void)state;
	c.per_connection = 3;
	pace_init(&p, &c);
	for (int i = 0; i < 3; i++) {
		assert_false(pace_reconnect_due(&p));
		pace_sent(&p, T0 + i);
	}
	assert_true(pace_reconnect_due(&p));
	pace_connection_opened(&p);
	assert_false(pace_reconnect_due(&p));
	c.per_connection = 0;
	pace_set_limits(&p, &c);
	for (int i = 0; i < 10; i++)
		pace_sent(&p, T0 + 10 + i);
	assert_false(pace_reconnect_due(&p));
	pace_free(&p);
}

/* test_save_load - a restart keeps the day's budget and drops the old */
static void test_save_load(void **state)
{
	struct pacing_conf c = lim(2, 0, 3);
	int64_t now = T0 + 30 * DAY;
	struct t *t = *state;
	struct pace p, q;
	char data[512];

	pace_init(&p, &c);
	pace_init(&q, &c);
	assert_int_equal(pace_load(&q, &t->sd, "pace-relay", now), 0); /* none yet */
	assert_int_equal(q.n, 0);
	sends(&p, 3, now - DAY - HOUR, 5 * HOUR); /* -25 h, -20 h, -15 h */
	pace_sent(&p, now - MIN);
	assert_int_equal(p.n, 3);
	assert_int_equal(pace_save(&p, &t->sd, "pace-relay"), 0);
	assert_int_equal(strncmp(content(t, F_STATE, "pace-relay"), "version 1\n", 10), 0);
	assert_int_equal(pace_load(&q, &t->sd, "pace-relay", now), 0);
	assert_int_equal(q.n, 3);
	assert_int_equal(q.last, now - MIN);
	next_is(&q, now, now - 20 * HOUR + DAY, "per_day");
	assert_int_equal(pace_load(&q, &t->sd, "pace-relay", now + 5 * HOUR), 0); /* -20 h: gone */
	assert_int_equal(q.n, 2);
	next_is(&q, now + 5 * HOUR, now + 5 * HOUR, NULL);

	/* garbage, out of order, future and old lines; no final newline */
	snprintf(data, sizeof data, "version 1\nhello\n\n-5\n%lld\n%lld\n%lld\r\n%lld\n12x\n%lld",
	        (long long)(now - 3 * HOUR), (long long)(now + 2 * MIN), (long long)(now - MIN),
	        (long long)(now - 2 * DAY), (long long)(now - HOUR));
	put(t, F_STATE, "pace-x", data);
	assert_int_equal(pace_load(&q, &t->sd, "pace-x", now), 0);
	assert_int_equal(q.n, 3);
	assert_int_equal(q.t[0], now - 3 * HOUR);
	assert_int_equal(q.t[1], now - HOUR);
	assert_int_equal(q.t[2], now - MIN);
	put(t, F_STATE, "pace-x", "version 2\n1\n");
	assert_int_equal(pace_load(&q, &t->sd, "pace-x", now), -1);
	assert_int_equal(q.n, 0);
	assert_int_equal(pace_save(&p, &t->sd, "../escape"), -1);

	/* no state/ yet: load finds nothing, save makes it */
	close(t->sd.fd[F_STATE]);
	t->sd.fd[F_STATE] = -1;
	snprintf(data, sizeof data, "%s/state", t->path);
	assert_int_equal(nftw(data, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
	assert_int_equal(pace_load(&q, &t->sd, "pace-relay", now), 0);
	assert_int_equal(q.n, 0);
	assert_int_equal(pace_save(&p, &t->sd, "pace-relay"), 0);
	assert_true(t->sd.fd[F_STATE] >= 0);
	assert_int_equal(pace_load(&q, &t->sd, "pace-relay", now), 0);
	assert_int_equal(q.n, 3);
	pace_free(&p);
	pace_free(&q);
}

/* scale_is - with SPOOLD_TEST_TIME_SCALE=v (NULL: unset), pace_scale() is want */
static void scale_is(const char *v, int64_t want)
{
	if (v)
		setenv("SPOOLD_TEST_TIME_SCALE", v, 1);
	else
		unsetenv("SPOOLD_TEST_TIME_SCALE");
	pace_scale_reset();
	assert_int_equal(pace_scale(), want);
}

/* test_scale - SPOOLD_TEST_TIME_SCALE divides the windows */
static void test_scale(void **state)
{
	struct pacing_conf c = lim(1, 0, 0);
	struct pace p;

	(void)state;
	scale_is("60", 60);
	assert_int_equal(pace_window_ms(60), 1000);
	assert_int_equal(pace_window_ms(86400), 1440000);
	pace_init(&p, &c);
	pace_sent(&p, T0);
	next_is(&p, T0, T0 + S, "per_minute");
	pace_free(&p);
	scale_is("1000000", 1000000);
	assert_int_equal(pace_window_ms(60), 1);
	scale_is("0", 1);
	scale_is("-5", 1);
	scale_is("abc", 1);
	scale_is("7x", 1);
	scale_is("", 1);
	scale_is(NULL, 1);
	assert_int_equal(pace_window_ms(3600), 3600 * S);
	assert_true(llabs(pace_now_ms() - (int64_t)time(NULL) * S) < 2 * S);
}

/* test_bounded - at most the largest limit (100,000 at most), within a day */
static void test_bounded(void **state)
{
	struct pacing_conf c = lim(0, 0, 100000);
	int64_t now = T0;
	struct pace p;

	(void)state;
	pace_init(&p, &c);
	sends(&p, 100000, now, 500);
	assert_int_equal(p.n, 100000);
	assert_true(p.cap <= 100000);
	next_is(&p, now + 100000 * 500, now + DAY, "per_day");
	now += DAY;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(pace_next(&p, now, NULL), now);
		pace_sent(&p, now);
		now = pace_next(&p, now, NULL);
	}
	assert_int_equal(p.n, 100000);
	assert_true(p.cap <= 100000);
	c.per_day = 10;
	pace_set_limits(&p, &c);
	assert_int_equal(p.n, 10);
	assert_true(p.cap <= 10);
	pace_sent(&p, now + 3 * DAY); /* the rest are older than a day */
	assert_int_equal(p.n, 1);
	c.per_day = 5000000; /* acts as 100,000 */
	pace_set_limits(&p, &c);
	sends(&p, 100050, now + 4 * DAY, 1);
	assert_int_equal(p.n, 100000);
	assert_true(p.cap <= 100000);
	pace_free(&p);
}

/* test_simulation - 1,000 messages at 10 per sliding minute, sent at once
 * when allowed: never more than 10 in any minute, and >= 90% of the rate */
static void test_simulation(void **state)
{
	struct pacing_conf c = lim(10, 0, 0);
	static int64_t sent[1000];
	int64_t now = T0;
	struct pace p;

	(void)state;
	pace_init(&p, &c);
	for (int i = 0; i < 1000; i++) {
		now = pace_next(&p, now, NULL);
		pace_sent(&p, now);
		sent[i] = now;
	}
	for (int i = 10; i < 1000; i++) /* the 11th most recent is out of the window */
		assert_true(sent[i] - sent[i - 10] >= MIN);
	double rate = 1000.0 / (double)(sent[999] - sent[0] + MIN) * MIN;
	assert_true(rate >= 9.0 && rate <= 10.0);
	pace_free(&p);
}

/* main - every test in UTC unless it says otherwise */
int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_windows),
	        cmocka_unit_test(test_burst),
	        cmocka_unit_test(test_gap),
	        cmocka_unit_test(test_quiet),
	        cmocka_unit_test(test_dst),
	        cmocka_unit_test(test_connection),
	        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
	        cmocka_unit_test(test_scale),
	        cmocka_unit_test(test_bounded),
	        cmocka_unit_test(test_simulation),
	};

	zone("UTC");
	unsetenv("SPOOLD_TEST_TIME_SCALE");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
