/*
 * test_status - unit tests for status*.c: the hour buckets (moving on an
 * hour, skipped hours zero, more than 48 hours all zero, a clock set back
 * a little or a lot), the counters' keys (sanitised, the table full),
 * state/status-counters saved and loaded (round trip, moved on when
 * loaded later, a damaged or foreign file read as none), spoold.prom
 * (HELP and TYPE before each metric, every sample line well-formed, label
 * values escaped, the account's state one-hot), a suspect account (the
 * provider accepts mail but does not deliver it) shown on all three views
 * with its reason and what to do, a state out of range shown as stopped,
 * and what status.html and
 * status.json show of patients at each status_detail, with a spool
 * holding failed, held and corrupt jobs that name them.  The page's
 * well-formedness and its look are tested end to end
 * (tests/e2e/test_status_page.py).
 *
 * The clock is injected: every time is T0 plus an offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <dirent.h>

#include "conf.h"
#include "status.h"
#include "spooldir_fixture.h" /* a fresh spool per test */

#define T0 ((time_t)1767225600) /* 2026-01-01T00:00:00Z, the start of an hour */
#define H ((time_t)3600)

/* root_file - a file of the spool's root (static buffer), or NULL */
static const char *root_file(struct t *t, const char *name)
{
	static char buf[1 << 20];
	FILE *fp;
	size_t n;
	char path[400];

	snprintf(path, sizeof path, "%s/%s", t->path, name);
	if (!(fp = fopen(path, "r")))
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

/* test_shift - hours passing move the buckets; skipped hours are zero */
static void test_shift(void **state)
{
	struct status_counters sc = {0};

	(void)state;
	status_note(&sc, STATUS_SENT, "sent", "relay", T0 + 10);
	status_note(&sc, STATUS_SENT, "sent", "relay", T0 + H - 1);
	status_note(&sc, STATUS_FAILED, "recipient-invalid", "relay", T0 + 20);
	assert_int_equal(sc.hour0, T0);
	assert_int_equal(sc.sent[0], 2);
	assert_int_equal(sc.failed[0], 1);

	status_note(&sc, STATUS_DEFERRED, "transient", "relay", T0 + H);
	assert_int_equal(sc.hour0, T0 + H);
	assert_int_equal(sc.sent[0], 0);
	assert_int_equal(sc.sent[1], 2);
	assert_int_equal(sc.failed[1], 1);
	assert_int_equal(sc.deferred[0], 1);

	/* Three hours later: two skipped hours in between are zero. */
	status_note(&sc, STATUS_SENT, "sent", "relay", T0 + 4 * H + 5);
	assert_int_equal(sc.hour0, T0 + 4 * H);
	assert_int_equal(sc.sent[0], 1);
	assert_int_equal(sc.sent[1] + sc.sent[2] + sc.deferred[1] + sc.deferred[2], 0);
	assert_int_equal(sc.deferred[3], 1);
	assert_int_equal(sc.sent[4], 2);

	/* The oldest bucket is the last to go. */
	status_shift(&sc, T0 + 4 * H + 43 * H);
	assert_int_equal(sc.sent[STATUS_HOURS - 1], 2);
	status_shift(&sc, T0 + 4 * H + 44 * H);
	assert_int_equal(sc.sent[STATUS_HOURS - 1], 0);
	assert_int_equal(sc.deferred[STATUS_HOURS - 1], 1); /* T0 + H */
	status_shift(&sc, T0 + 4 * H + 45 * H);
	assert_int_equal(sc.deferred[STATUS_HOURS - 1], 0);

	/* More than 48 hours: all zero; the counters for Prometheus stay. */
	status_note(&sc, STATUS_SENT, "sent", "relay", T0 + 100 * H);
	status_shift(&sc, T0 + 100 * H + 48 * H);
	for (int i = 0; i < STATUS_HOURS; i++)
		assert_int_equal(sc.sent[i] + sc.deferred[i] + sc.failed[i], 0);
	assert_int_equal(sc.hour0, T0 + 148 * H);
	assert_int_equal(sc.nkeys, 3);
}

/* test_clock_back - a clock set back a little counts into the newest hour;
 * by more than 48 hours, the buckets start afresh */
static void test_clock_back(void **state)
{
	struct status_counters sc = {0};

	(void)state;
	status_note(&sc, STATUS_SENT, "sent", "relay", T0 + 5 * H);
	status_note(&sc, STATUS_SENT, "sent", "relay", T0 + 3 * H);
	assert_int_equal(sc.hour0, T0 + 5 * H);
	assert_int_equal(sc.sent[0], 2);
	status_note(&sc, STATUS_SENT, "sent", "relay", T0 - 50 * H);
	assert_int_equal(sc.hour0, T0 - 50 * H);
	assert_int_equal(sc.sent[0], 1);
	for (int i = 1; i < STATUS_HOURS; i++)
		assert_int_equal(sc.sent[i], 0);
}

/* test_keys - "category relay" keys, sanitised; a full table counts the rest as other */
static void test_keys(void **state)
{
	struct status_counters sc = {0};
	char cat[32];

	(void)state;
	status_note(&sc, STATUS_FAILED, "bad \"cat\"\n", "re lay", T0);
	status_note(&sc, STATUS_FAILED, "", NULL, T0);
	assert_string_equal(sc.key[0], "bad__cat__ re_lay");
	assert_string_equal(sc.key[1], "none none");
	for (int i = 0; i < 100; i++) {
		snprintf(cat, sizeof cat, "cat%d", i);
		status_note(&sc, STATUS_SENT, cat, "relay", T0);
	}
	assert_int_equal(sc.nkeys, STATUS_MAX_KEYS);
	assert_string_equal(sc.key[STATUS_MAX_KEYS - 1], "other other");
	assert_int_equal(sc.count[STATUS_MAX_KEYS - 1], 100 - (STATUS_MAX_KEYS - 3));
	/* A very long category is cut, never overflowing the key. */
	status_note(&sc, STATUS_SENT, "sent", "relay", T0);
	memset(cat, 'x', sizeof cat - 1);
	cat[sizeof cat - 1] = '\0';
	struct status_counters s2 = {0};
	status_note(&s2, STATUS_SENT, cat, "a-very-long-relay-name", T0);
	assert_true(strlen(s2.key[0]) < sizeof s2.key[0]);
}

/* test_save_load - a round trip; loaded an hour later, moved on */
static void test_save_load(void **state)
{
	struct t *t = *state;
	struct status_counters sc = {0}, back;

	status_load(&back, &t->sd, T0);
	assert_int_equal(back.nkeys, 0);
	assert_int_equal(back.hour0, T0);
	for (int h = 0; h < 60; h++)
		for (int k = 0; k <= h % 4; k++)
			status_note(&sc, (enum status_event)(k % 3), k ? "transient" : "sent",
			        h % 2 ? "relay" : "fallback", T0 + h * H + k);
	assert_int_equal(status_save(&sc, &t->sd), 0);
	status_load(&back, &t->sd, T0 + 59 * H + 100);
	assert_int_equal(back.hour0, sc.hour0);
	assert_memory_equal(back.sent, sc.sent, sizeof sc.sent);
	assert_memory_equal(back.deferred, sc.deferred, sizeof sc.deferred);
	assert_memory_equal(back.failed, sc.failed, sizeof sc.failed);
	assert_int_equal(back.nkeys, 4);
	assert_int_equal(back.nkeys, sc.nkeys);
	for (int i = 0; i < sc.nkeys; i++) {
		assert_string_equal(back.key[i], sc.key[i]);
		assert_int_equal(back.count[i], sc.count[i]);
	}

	status_load(&back, &t->sd, T0 + 61 * H);
	assert_int_equal(back.hour0, T0 + 61 * H);
	assert_int_equal(back.sent[2], sc.sent[0]);
	assert_int_equal(back.deferred[3], sc.deferred[1]);
	assert_int_equal(back.sent[0] + back.sent[1], 0);
	assert_int_equal(back.nkeys, sc.nkeys);

	/* Damaged or foreign: read as no counters. */
	put(t, F_STATE, "status-counters", "spoold-status-counters 2\nhour0 1\n");
	status_load(&back, &t->sd, T0);
	assert_int_equal(back.nkeys + back.sent[0], 0);
	put(t, F_STATE, "status-counters",
	        "spoold-status-counters 1\nhour0 1767225600\nsent 1 2\n");
	status_load(&back, &t->sd, T0);
	assert_int_equal(back.sent[0] + back.sent[1], 0);
}

/* conf_for - a configuration with the given detail, the system's zone */
static struct conf conf_for(enum status_detail d)
{
	struct conf c;

	memset(&c, 0, sizeof c);
	c.status_detail = d;
	c.sent_days = 30;
	c.relay.section = "relay";
	return c;
}

/* test_prom - the Prometheus text format: HELP and TYPE first, samples
 * well-formed, label values escaped, the state one-hot */
static void test_prom(void **state)
{
	struct t *t = *state;
	struct status_counters sc = {0};
	struct account a[2];
	struct conf c = conf_for(STATUS_DETAIL_INITIALS);
	char line[512], family[128] = "";
	const char *prom;
	int samples = 0;

	account_init(&a[0], "relay");
	a[0].state = ACCT_BLOCKED;
	account_init(&a[1], "we\"ird\\re\nlay");
	status_note(&sc, STATUS_SENT, "sent", "relay", T0);
	status_note(&sc, STATUS_FAILED, "recipient-invalid", "fallback", T0);
	put(t, F_NEW, "1.a.host", job(0));
	put(t, F_DEFERRED, "1.b.host", job(0));
	age(t, F_NEW, "1.a.host", 600);
	assert_int_equal(status_write(&t->sd, &c, &sc, a, 2, 400, 17, -1, time(NULL)), 0);
	assert_non_null(prom = root_file(t, "spoold.prom"));
	assert_non_null(
	        strstr(prom, "spoold_attempts_total{category=\"sent\",relay=\"relay\"} 1\n"));
	assert_non_null(strstr(prom, "spoold_attempts_total{category=\"recipient-invalid\","
	                             "relay=\"fallback\"} 1\n"));
	assert_non_null(strstr(prom, "spoold_jobs{folder=\"new\"} 1\n"));
	assert_non_null(strstr(prom, "spoold_jobs{folder=\"corrupt\"} 0\n"));
	assert_non_null(
	        strstr(prom, "spoold_account_state{relay=\"relay\",state=\"blocked\"} 1\n"));
	assert_non_null(
	        strstr(prom, "spoold_account_state{relay=\"relay\",state=\"running\"} 0\n"));
	assert_non_null(strstr(prom, "spoold_account_blocked{relay=\"relay\"} 1\n"));
	assert_non_null(
	        strstr(prom, "spoold_account_blocked{relay=\"we\\\"ird\\\\re\\nlay\"} 0\n"));
	assert_non_null(strstr(prom, "spoold_budget_used_24h 17\n"));
	assert_non_null(strstr(prom, "spoold_budget_per_day 400\n"));
	assert_non_null(strstr(prom, "\nspoold_status_generated_timestamp_seconds "));
	assert_non_null(strstr(prom, "# TYPE spoold_attempts_total counter\n"));
	assert_non_null(strstr(prom, "# TYPE spoold_jobs gauge\n"));

	/* Every line: a comment naming the family to come, or a sample of it. */
	for (const char *p = prom; *p; p += strcspn(p, "\n") + 1) {
		size_t n = strcspn(p, "\n");
		char name[128], type[32];
		assert_true(n < sizeof line);
		memcpy(line, p, n);
		line[n] = '\0';
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line, "# HELP %127s", family), 1);
			continue;
		}
		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			assert_string_equal(name, family);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge"));
			continue;
		}
		size_t k = strspn(line, "abcdefghijklmnopqrstuvwxyz_0123456789");
		assert_true(k == strlen(family) && !strncmp(line, family, k));
		const char *v = strrchr(line, ' ');
		assert_non_null(v);
		char *end;
		strtod(v + 1, &end);
		assert_true(*end == '\0' && end > v + 1);
		if (line[k] == '{')
			assert_true(v > line + k && v[-1] == '}');
		else
			assert_true(line + k == v);
		samples++;
	}
	assert_true(samples >= 20);

	/* oldest waiting: the new/ job, 600 s (the deferred one has no first_seen
	 * and a fresh mtime) */
	assert_non_null(strstr(prom, "spoold_oldest_waiting_seconds 60"));
	/* Written atomically: no temporaries left, mode 0644. */
	struct stat st;
	char path[400];
	snprintf(path, sizeof path, "%s/status.html", t->path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	DIR *dir = opendir(t->path);
	struct dirent *de;
	assert_non_null(dir);
	while ((de = readdir(dir)))
		assert_true(de->d_name[0] != '.' || !strcmp(de->d_name, ".") ||
		            !strcmp(de->d_name, ".."));
	closedir(dir);
}

/* test_indexed - with spoold's index, new/ and deferred/ are counted, not
 * read: the oldest waiting time is the index's, whatever the files say */
static void test_indexed(void **state)
{
	struct t *t = *state;
	struct status_counters sc = {0};
	struct account a;
	struct conf c = conf_for(STATUS_DETAIL_NONE);
	time_t now = time(NULL);
	const char *prom;

	account_init(&a, "relay");
	put(t, F_NEW, "1.a.host", job(0));
	put(t, F_DEFERRED, "1.b.host", job(0));
	age(t, F_NEW, "1.a.host", 600);
	assert_int_equal(status_write(&t->sd, &c, &sc, &a, 1, 0, -1, now - 7200, now), 0);
	assert_non_null(prom = root_file(t, "spoold.prom"));
	assert_non_null(strstr(prom, "spoold_jobs{folder=\"new\"} 1\n"));
	assert_non_null(strstr(prom, "spoold_jobs{folder=\"deferred\"} 1\n"));
	assert_non_null(strstr(prom, "spoold_oldest_waiting_seconds 7200\n"));
	/* the index says none waits (both just left): nothing older shows */
	assert_int_equal(status_write(&t->sd, &c, &sc, &a, 1, 0, -1, 0, now), 0);
	assert_non_null(prom = root_file(t, "spoold.prom"));
	assert_null(strstr(prom, "spoold_oldest_waiting_seconds 600"));
	/* not known (spool status): the files are read, new/ by its mtime */
	assert_int_equal(status_write(&t->sd, &c, &sc, &a, 1, 0, -1, -1, now), 0);
	assert_non_null(prom = root_file(t, "spoold.prom"));
	assert_non_null(strstr(prom, "spoold_oldest_waiting_seconds 60"));
}

/* suspect_account - relay suspect (not delivered), with reason, action and what was found */
static void suspect_account(struct account *a)
{
	account_init(a, "relay");
	assert_int_equal(account_suspect(a, "not-delivered",
	                         "Your e-mail provider is accepting reminders but not delivering "
	                         "them <b>.",
	                         "Sign in to the account and look for a warning, then run: "
	                         "spool resume",
	                         "canary <c1@spoold> not in INBOX after 30 minutes", T0),
	        1);
}

/* test_suspect - a suspect account on the page, in the JSON and in spoold.prom */
static void test_suspect(void **state)
{
	struct t *t = *state;
	struct status_counters sc = {0};
	struct account a[2];
	struct conf c = conf_for(STATUS_DETAIL_INITIALS);
	char *html, *js, *prom;

	suspect_account(&a[0]);
	account_init(&a[1], "fallback");
	assert_int_equal(status_write(&t->sd, &c, &sc, a, 2, 0, -1, -1, T0 + 60), 0);
	html = strdup(root_file(t, "status.html"));
	js = strdup(root_file(t, "status.json"));
	prom = strdup(root_file(t, "spoold.prom"));

	assert_non_null(strstr(html, "<title>NOT DELIVERING: reminder e-mails"));
	assert_non_null(strstr(html, "<section class=\"state suspect\""));
	assert_non_null(strstr(html, "<span class=\"big\">NOT DELIVERING</span>"));
	assert_non_null(strstr(html, "Your e-mail provider is accepting reminders but "
	                             "<strong>not</strong> delivering them."));
	assert_non_null(strstr(html, "only one reminder goes out every 10 minutes"));
	assert_non_null(strstr(html, "<strong>Why:</strong> Your e-mail provider is accepting "
	                             "reminders but not delivering them &lt;b&gt;."));
	assert_non_null(strstr(html, "<div class=\"todo\"><strong>What to do:</strong> Sign in "
	                             "to the account and look for a warning, then run: spool "
	                             "resume</div>"));
	assert_non_null(strstr(html, "Not delivering since "));
	assert_non_null(strstr(html, "Account state: suspect (not-delivered)."));
	assert_non_null(strstr(html, ".suspect .big{"));
	assert_null(strstr(html, "<b>"));

	assert_non_null(strstr(js, "\"state\": \"suspect\""));
	assert_non_null(strstr(js, "\"category\": \"not-delivered\""));
	assert_non_null(strstr(js, "\"reason\": \"Your e-mail provider is accepting reminders"));
	assert_non_null(strstr(js, "\"action\": \"Sign in to the account"));

	assert_non_null(
	        strstr(prom, "spoold_account_state{relay=\"relay\",state=\"suspect\"} 1\n"));
	assert_non_null(
	        strstr(prom, "spoold_account_state{relay=\"relay\",state=\"blocked\"} 0\n"));
	assert_non_null(
	        strstr(prom, "spoold_account_state{relay=\"fallback\",state=\"suspect\"} 0\n"));
	assert_non_null(strstr(prom, "# TYPE spoold_account_suspect gauge\n"));
	assert_non_null(strstr(prom, "spoold_account_suspect{relay=\"relay\"} 1\n"));
	assert_non_null(strstr(prom, "spoold_account_suspect{relay=\"fallback\"} 0\n"));
	assert_non_null(strstr(prom, "spoold_account_blocked{relay=\"relay\"} 0\n"));
	free(html);
	free(js);
	free(prom);

	/* on_suspect = stop: nothing goes out; no trickle promised */
	c.verify.on_suspect = SUSPECT_STOP;
	assert_int_equal(status_write(&t->sd, &c, &sc, a, 1, 0, -1, -1, T0 + 60), 0);
	html = strdup(root_file(t, "status.html"));
	assert_non_null(strstr(html, "Sending has stopped until a check message arrives again"));
	assert_null(strstr(html, "every 10 minutes"));
	free(html);

	/* a trickle of another pace */
	c.verify.on_suspect = SUSPECT_SLOW;
	c.verify.trickle_minutes = 25;
	assert_int_equal(status_write(&t->sd, &c, &sc, a, 1, 0, -1, -1, T0 + 60), 0);
	assert_non_null(strstr(root_file(t, "status.html"), "every 25 minutes"));

	/* no reason or action: the page still says what to do */
	a[0].reason[0] = a[0].action[0] = '\0';
	assert_int_equal(status_write(&t->sd, &c, &sc, a, 1, 0, -1, -1, T0 + 60), 0);
	assert_non_null(strstr(root_file(t, "status.html"),
	        "<strong>What to do:</strong> Ask your IT contact to check with the e-mail "
	        "provider"));

	/* a state from a newer file (out of range) is shown as stopped */
	a[0].state = (enum account_state)(ACCT_NSTATES + 2);
	assert_int_equal(status_write(&t->sd, &c, &sc, a, 1, 0, -1, -1, T0 + 60), 0);
	assert_non_null(strstr(root_file(t, "status.html"), "<title>STOPPED: reminder e-mails"));
}

/* A failed job for Jane Doe, a held one for Robert Roe (unknown outcome),
 * a corrupt file quoting an address, with reason files naming them. */
static const char jane_job[] =
        "{\"version\":1,\"id\":\"appt-1\",\"kind\":\"reminder\","
        "\"to\":{\"name\":\"Jane Doe\",\"email\":\"jane.doe@example.com\"},"
        "\"patient\":{\"first_name\":\"Jane\",\"last_name\":\"Doe\"},"
        "\"appointment\":{\"start\":\"2026-12-01T09:30:00-06:00\",\"minutes\":30},"
        "\"spool\":{\"version\":1,\"reason\":\"The address <jane.doe@example.com> does not "
        "exist <script>x</script>\",\"attempts\":[{\"time\":\"2026-01-01T00:00:00Z\","
        "\"relay\":\"smtp:587\",\"stage\":\"rcpt\",\"code\":550,\"text\":\"no\","
        "\"category\":\"recipient-invalid\"}]}}";
static const char jane_reason[] =
        "The reminder for Jane Doe was NOT sent.\n\nWhat happened:\n  The address does not "
        "exist.\n\nPatient:      Jane Doe\nE-mail:       jane.doe@example.com\n\nWhat to do:\n"
        "  Ask Jane Doe for her address.\n  - If the appointment is soon, phone the patient.\n";
static const char robert_job[] =
        "{\"version\":1,\"id\":\"appt-2\",\"kind\":\"reminder\","
        "\"to\":{\"name\":\"Robert Q. Roe\",\"email\":\"bob@example.org\"},"
        "\"appointment\":{\"start\":\"2026-12-02T10:00:00-06:00\",\"minutes\":30},"
        "\"spool\":{\"version\":1,\"reason\":\"The connection broke; Robert may have it.\","
        "\"attempts\":[{\"time\":\"2026-01-01T00:00:00Z\",\"category\":\"unknown-outcome\"}]}}";
static const char corrupt_reason[] =
        "This file is not a valid job, so nothing was sent.\n\nWhat is wrong:\n"
        "  to.email: \"maria@@example\" is not a valid address\n\nWhat to do:\n"
        "  Tell whoever maintains it.\n";

/* spool_with_patients - the three problem jobs */
static void spool_with_patients(struct t *t)
{
	put(t, F_FAILED, "100.jane.host", jane_job);
	put(t, F_FAILED, "100.jane.host.reason.txt", jane_reason);
	put(t, F_HOLD, "100.bob.host", robert_job);
	put(t, F_CORRUPT, "100.bad.host", "{\"to\":{\"email\":\"maria@@example\"}}");
	put(t, F_CORRUPT, "100.bad.host.reason.txt", corrupt_reason);
	age(t, F_FAILED, "100.jane.host", 10);
	age(t, F_HOLD, "100.bob.host", 20);
	age(t, F_CORRUPT, "100.bad.host", 30);
}

/* write_views - status_write at detail d; the page and the JSON into buffers */
static void write_views(struct t *t, enum status_detail d, char **html, char **js)
{
	struct status_counters sc = {0};
	struct account a;
	struct conf c = conf_for(d);

	account_init(&a, "relay");
	assert_int_equal(status_write(&t->sd, &c, &sc, &a, 1, 0, -1, -1, time(NULL)), 0);
	*html = strdup(root_file(t, "status.html"));
	*js = strdup(root_file(t, "status.json"));
}

/* test_detail_full - names, addresses, appointments; still escaped */
static void test_detail_full(void **state)
{
	struct t *t = *state;
	char *html, *js;

	spool_with_patients(t);
	write_views(t, STATUS_DETAIL_FULL, &html, &js);
	assert_non_null(strstr(html, "Jane Doe"));
	assert_non_null(strstr(html, "jane.doe@example.com"));
	assert_non_null(strstr(html, "Robert Q. Roe"));
	assert_non_null(strstr(html, "maria@@example"));
	assert_non_null(strstr(html, "Appointment "));
	assert_non_null(strstr(html, "&lt;script&gt;x&lt;/script&gt;"));
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(js, "\"email\": \"jane.doe@example.com\""));
	assert_non_null(strstr(js, "\"appointment\": \"2026-12-01T15:30:00Z\""));
	assert_non_null(strstr(js, "\"problems_total\": 3"));
	free(html);
	free(js);
}

/* no_patient - nothing naming the patients or their addresses in s */
static void no_patient(const char *s)
{
	static const char *const never[] = {
	        "jane.doe", "Jane", "Doe", "bob@", "Robert", "Roe", "maria", "@example"};

	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
		if (strstr(s, never[i])) {
			fprintf(stderr, "found \"%s\" in:\n%s\n", never[i], s);
			fail();
		}
}

/* test_detail_initials - "J. D." and the appointment, no name, no address */
static void test_detail_initials(void **state)
{
	struct t *t = *state;
	char *html, *js;

	spool_with_patients(t);
	write_views(t, STATUS_DETAIL_INITIALS, &html, &js);
	no_patient(html);
	no_patient(js);
	assert_non_null(strstr(html, "J. D."));
	assert_non_null(strstr(html, "R. R."));
	assert_non_null(strstr(html, "Appointment "));
	/* the reason's sentence, cut, and what to do */
	assert_non_null(strstr(html, "The address &lt;(address)&gt; does not exist"));
	assert_non_null(strstr(html, "Ask (patient) for her address."));
	assert_non_null(strstr(html, "The connection broke; (patient) may have it."));
	assert_non_null(strstr(html, "(problem: to.email)"));
	assert_non_null(strstr(js, "\"initials\": \"J. D.\""));
	assert_non_null(strstr(js, "\"appointment\": \"2026-12-01T15:30:00Z\""));
	free(html);
	free(js);
}

/* test_detail_none - nothing about patients at all */
static void test_detail_none(void **state)
{
	struct t *t = *state;
	char *html, *js;

	spool_with_patients(t);
	write_views(t, STATUS_DETAIL_NONE, &html, &js);
	no_patient(html);
	no_patient(js);
	assert_null(strstr(html, "J. D."));
	assert_null(strstr(html, "R. R."));
	assert_null(strstr(html, "Appointment "));
	assert_null(strstr(js, "\"appointment\""));
	assert_null(strstr(js, "\"patient\""));
	assert_non_null(strstr(html, "100.jane.host"));
	assert_non_null(strstr(html, "Wrong e-mail address"));
	assert_non_null(strstr(js, "\"category\": \"recipient-invalid\""));
	free(html);
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_shift),
	        cmocka_unit_test(test_clock_back),
	        cmocka_unit_test(test_keys),
	        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_prom, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_indexed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_suspect, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_detail_full, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_detail_initials, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_detail_none, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
