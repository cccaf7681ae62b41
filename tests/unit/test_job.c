/*
 * test_job - job_parse validation (exact reasons for bad jobs), unknown
 * members kept through job_dump, the spool history, the 64 KiB limit.
 *
 * JSON in the tables is written with ' for " (dq() converts); a real
 * apostrophe is written \u0027.
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
#include "timefmt.h"

#define HDR "'version':1,'id':'a1','kind':'recall'"
#define TO "'to':{'email':'jane@example.com'}"
#define OK HDR "," TO
#define REM "'version':1,'id':'a1','kind':'reminder'," TO
#define T_HINT "is not an RFC 3339 time with an offset, e.g. 2026-12-01T09:30:00-06:00"
#define LOC_RE "must match [a-z]{2,3}(-[A-Za-z0-9]{2,8})*"

struct bad {
	const char *json;
	const char *reason;
};

static const struct bad bad[] = {
        {"", "file is empty"},
        /* spoold's own member, damaged (found by fuzzing) */
        {"{" OK ",'spool':{'attempts':[{}]}}", "spool.attempts[0].time: not an RFC 3339 time"},
        {"{" OK ",'spool':{'attempts':{}}}", "spool.attempts: expected an array, got object"},
        {"{" OK ",'spool':{'attempts':[1]}}", "spool.attempts[0]: expected an object, got number"},
        {"{" OK ",'spool':{'attempts_dropped':9223372036854775805}}",
                "spool.attempts_dropped: expected a count"},
        {"   \n", "not valid JSON: unexpected token near end of file at line 2 column 0 (byte 4)"},
        {"{", "not valid JSON: string or '}' expected near end of file at line 1 column 1 (byte "
              "1)"},
        {"{'version':1,}", "not valid JSON: string or '}' expected near '}' at line 1 column 14 "
                           "(byte 14)"},
        {"{" OK "} x",
                "not valid JSON: end of file expected near 'x' at line 1 column 75 (byte 75)"},
        {"{" OK ",'id':'b'}",
                "not valid JSON: duplicate object key near '\"id\"' at line 1 column 77 "
                "(byte 77)"},
        {"{" OK ",'data':{'a':'\\u0000'}}", "not valid JSON: \\u0000 is not allowed without "
                                            "JSON_ALLOW_NUL near '\"\\u0000\"' at line 1 column 93 "
                                            "(byte 93)"},
        {"\xef\xbb\xbf{" OK "}", "not valid JSON: starts with a byte order mark (EF BB BF)"},
        {"[]", "top level: expected an object, got array"},
        {"42", "top level: expected an object, got number"},
        {"'job'", "top level: expected an object, got string"},
        {"null", "top level: expected an object, got null"},
        {"{}", "version: missing"},
        {"{'version':'1'}", "version: expected an integer, got string"},
        {"{'version':1.0}", "version: expected an integer, got 1.0"},
        {"{'version':2}", "version: 2 is not supported (this spoold reads version 1)"},
        {"{'version':0}", "version: 0 is not supported (this spoold reads version 1)"},
        {"{'version':1}", "id: missing"},
        {"{'version':1,'id':7}", "id: expected a string, got number"},
        {"{'version':1,'id':''}", "id: empty"},
        {"{'version':1,'id':'a\\nb'}", "id: contains a control character (U+000A)"},
        {"{'version':1,'id':'a\\u007fb'}", "id: contains a control character (U+007F)"},
        {"{'version':1,'id':'a1'}", "kind: missing"},
        {"{'version':1,'id':'a1','kind':null}", "kind: expected a string, got null"},
        {"{'version':1,'id':'a1','kind':'Reminder!'}",
                "kind: \"Reminder!\" must match [a-z0-9_-]{1,64}"},
        {"{'version':1,'id':'a1','kind':''}", "kind: \"\" must match [a-z0-9_-]{1,64}"},
        {"{'version':1,'id':'a1','kind':'../etc'}", "kind: \"../etc\" must match [a-z0-9_-]{1,64}"},
        {"{'version':1,'id':'a1','kind':'re\\tc'}", "kind: \"re\\tc\" must match [a-z0-9_-]{1,64}"},
        {"{" HDR "}", "to: missing"},
        {"{" HDR ",'to':'jane@example.com'}", "to: expected an object, got string"},
        {"{" HDR ",'to':{}}", "to.email: missing"},
        {"{" HDR ",'to':{'email':['jane@example.com']}}", "to.email: expected a string, got array"},
        {"{" HDR ",'to':{'email':'x@y>z'}}",
                "to.email: \"x@y>z\" is not a valid address: contains '>'"},
        {"{" HDR ",'to':{'email':'jane@example.com\\r\\nBcc: x@evil.com'}}",
                "to.email: \"jane@example.com\\r\\nBcc: x@evil.com\" is not a valid address: "
                "contains CR"},
        {"{" HDR ",'to':{'email':'Jane <jane@example.com>'}}",
                "to.email: \"Jane <jane@example.com>\" is not a valid address: contains a space"},
        {"{" HDR ",'to':{'email':'a\\'b@example.com'}}",
                "to.email: \"a\\\"b@example.com\" is not a valid address: contains '\"'"},
        {"{" HDR ",'to':{'email':'jane@localhost'}}",
                "to.email: \"jane@localhost\" is not a valid address: domain \"localhost\" has no "
                "'.'"},
        {"{" HDR ",'to':{'email':'j\\u00e9@example.com'}}",
                "to.email: \"j\xc3\xa9@example.com\" is not a valid address: non-ASCII characters "
                "are not supported (SMTPUTF8)"},
        {"{" HDR ",'to':{'email':'a@b.co','name':5}}", "to.name: expected a string, got number"},
        {"{" OK ",'patient':['Jane']}", "patient: expected an object, got array"},
        {"{" OK ",'patient':{'first_name':1}}",
                "patient.first_name: expected a string, got number"},
        {"{" OK ",'patient':{'last_name':true}}",
                "patient.last_name: expected a string, got boolean"},
        {"{" REM "}", "appointment.start: required for a reminder"},
        {"{" OK ",'appointment':'tomorrow'}", "appointment: expected an object, got string"},
        {"{" REM ",'appointment':{}}", "appointment.start: missing"},
        {"{" OK ",'appointment':{'minutes':30}}", "appointment.start: missing"},
        {"{" OK ",'appointment':{'start':5}}", "appointment.start: expected a string, got number"},
        {"{" REM ",'appointment':{'start':'2026-12-01T09:30:00'}}",
                "appointment.start: \"2026-12-01T09:30:00\" " T_HINT},
        {"{" REM ",'appointment':{'start':'2026-02-29T09:30:00-06:00'}}",
                "appointment.start: \"2026-02-29T09:30:00-06:00\" " T_HINT},
        {"{" REM ",'appointment':{'start':'2026-12-01T09:30:00Z','minutes':0}}",
                "appointment.minutes: 0 is not between 1 and 1440"},
        {"{" REM ",'appointment':{'start':'2026-12-01T09:30:00Z','minutes':1441}}",
                "appointment.minutes: 1441 is not between 1 and 1440"},
        {"{" REM ",'appointment':{'start':'2026-12-01T09:30:00Z','minutes':'30'}}",
                "appointment.minutes: expected an integer, got string"},
        {"{" REM ",'appointment':{'start':'2026-12-01T09:30:00Z','minutes':30.5}}",
                "appointment.minutes: expected an integer, got 30.5"},
        {"{" REM ",'appointment':{'start':'2026-12-01T09:30:00Z','provider':7}}",
                "appointment.provider: expected a string, got number"},
        {"{" REM ",'appointment':{'start':'2026-12-01T09:30:00Z','location':{}}}",
                "appointment.location: expected a string, got object"},
        {"{" OK ",'practice':[]}", "practice: expected an object, got array"},
        {"{" OK ",'practice':{'phone':4175550100}}",
                "practice.phone: expected a string, got number"},
        {"{" OK ",'practice':{'email':false}}", "practice.email: expected a string, got boolean"},
        {"{" OK ",'practice':{'website':true}}",
                "practice.website: expected a string, got boolean"},
        {"{'version':1,'id':null,'kind':'recall','to':{'email':'a@b.example'}}",
                "id: expected a string, got null"},
        {"{" OK ",'locale':1}", "locale: expected a string, got number"},
        {"{" OK ",'locale':'EN'}", "locale: \"EN\" " LOC_RE},
        {"{" OK ",'locale':'e'}", "locale: \"e\" " LOC_RE},
        {"{" OK ",'locale':'english'}", "locale: \"english\" " LOC_RE},
        {"{" OK ",'locale':'en-'}", "locale: \"en-\" " LOC_RE},
        {"{" OK ",'locale':'en_US'}", "locale: \"en_US\" " LOC_RE},
        {"{" OK ",'locale':'es-x'}", "locale: \"es-x\" " LOC_RE},
        {"{" OK ",'locale':'../../x'}", "locale: \"../../x\" " LOC_RE},
        {"{" OK ",'not_before':'tomorrow'}", "not_before: \"tomorrow\" " T_HINT},
        {"{" OK ",'not_before':1796139000}", "not_before: expected a string, got number"},
        {"{" OK ",'expires':'2026-12-01'}", "expires: \"2026-12-01\" " T_HINT},
        {"{" OK ",'expires':'2026-12-01 09:30:00-06:00'}",
                "expires: \"2026-12-01 09:30:00-06:00\" " T_HINT},
        {"{" OK ",'data':'x'}", "data: expected an object, got string"},
        {"{" OK ",'data':[]}", "data: expected an object, got array"},
        {"{" OK ",'spool':[]}", "spool: expected an object, got array"},
        /* the first problem in the fixed order wins */
        {"{'version':1,'id':'','kind':'X','to':5}", "id: empty"},
        {"{'kind':'X','version':1,'id':'a'}", "kind: \"X\" must match [a-z0-9_-]{1,64}"},
        {"{" HDR ",'expires':'x','to':{'email':'x'}}",
                "to.email: \"x\" is not a valid address: no '@'"},
        {NULL, NULL},
};

/* dq - s with every ' turned into " (static buffer) */
static const char *dq(const char *s)
{
	static char buf[1024];
	size_t i;

	for (i = 0; s[i] != '\0' && i < sizeof buf - 1; i++)
		buf[i] = s[i] == '\'' ? '"' : s[i];
	buf[i] = '\0';
	return buf;
}

/* is_zero - every byte of the job is zero */
static int is_zero(const struct job *j)
{
	static const struct job zero;

	return memcmp(j, &zero, sizeof *j) == 0;
}

/* expect_bad - parse buf, expecting exactly reason and a zeroed job */
static void expect_bad(const char *buf, size_t len, const char *reason)
{
	struct job j;
	char err[1024];

	memset(&j, 0xaa, sizeof j);
	strcpy(err, "(unset)");
	if (job_parse(&j, buf, len, err, sizeof err) != -1)
		fail_msg("accepted: %s", buf);
	if (strcmp(err, reason) != 0)
		fail_msg("%s\n got: %s\nwant: %s", buf, err, reason);
	assert_true(is_zero(&j));
	job_free(&j);
}

/* test_bad_table - every bad job of the table, exact reason */
static void test_bad_table(void **state)
{
	const char *s;
	size_t i;

	(void)state;
	for (i = 0; bad[i].json != NULL; i++) {
		s = dq(bad[i].json);
		expect_bad(s, strlen(s), bad[i].reason);
	}
	assert_true(i >= 40);
}

/* parse_ok - parse s, failing the test with the reason when refused */
static void parse_ok(struct job *j, const char *s, size_t len)
{
	char err[1024];

	if (job_parse(j, s, len, err, sizeof err) != 0)
		fail_msg("refused: %s\n%.300s", err, s);
}

static const char design_example[] =
        "{\n"
        "  \"version\": 1,\n"
        "  \"id\": \"appt-88213-reminder-24h\",\n"
        "  \"kind\": \"reminder\",\n"
        "  \"to\": {\"name\": \"Jane Doe\", \"email\": \"jane@example.com\"},\n"
        "  \"patient\": {\"first_name\": \"Jane\", \"last_name\": \"Doe\"},\n"
        "  \"appointment\": {\"start\": \"2026-12-01T09:30:00-06:00\", \"minutes\": 30,\n"
        "                  \"provider\": \"Dr. Michael Miller\", \"location\": \"Main St "
        "office\"},\n"
        "  \"practice\": {\"name\": \"Springfield Chiropractic\", \"phone\": \"417-555-0100\"},\n"
        "  \"locale\": \"en\",\n"
        "  \"not_before\": \"2026-11-30T08:00:00-06:00\",\n"
        "  \"expires\": \"2026-12-01T08:30:00-06:00\",\n"
        "  \"data\": {\"any\": \"extra fields for the template\"}\n"
        "}\n";

/* test_design_example - the example of DESIGN.md parses into the right fields */
static void test_design_example(void **state)
{
	struct job j;

	(void)state;
	parse_ok(&j, design_example, strlen(design_example));
	assert_string_equal(j.id, "appt-88213-reminder-24h");
	assert_string_equal(j.kind, "reminder");
	assert_string_equal(j.to_email, "jane@example.com");
	assert_string_equal(j.to_name, "Jane Doe");
	assert_string_equal(j.locale, "en");
	assert_int_equal(j.appt_start, 1796139000);
	assert_int_equal(j.appt_offset, -360);
	assert_int_equal(j.not_before, 1796139000 - 86400 - 5400);
	assert_int_equal(j.expires, 1796139000 - 3600);
	assert_string_equal(job_get_str(&j, "patient.first_name"), "Jane");
	assert_string_equal(job_get_str(&j, "appointment.provider"), "Dr. Michael Miller");
	assert_string_equal(job_get_str(&j, "data.any"), "extra fields for the template");
	assert_null(job_get_str(&j, "appointment.minutes"));
	assert_null(job_get_str(&j, "patient"));
	assert_null(job_get_str(&j, "patient.middle_name"));
	assert_null(job_get_str(&j, "id.x"));
	assert_null(job_get_str(&j, ""));
	assert_int_equal(job_attempts(&j), 0);
	assert_null(job_spool_str(&j, "message_id"));
	job_free(&j);
	assert_true(is_zero(&j));
}

/* test_minimal - a recall with only what is required; optional fields empty */
static void test_minimal(void **state)
{
	struct job j;
	const char *s = dq("{" OK "}");

	(void)state;
	parse_ok(&j, s, strlen(s));
	assert_null(j.to_name);
	assert_null(j.locale);
	assert_int_equal(j.not_before, 0);
	assert_int_equal(j.expires, 0);
	assert_int_equal(j.appt_start, 0);
	job_free(&j);
	job_free(&j); /* twice: still a no-op */
	job_free(NULL);
	s = dq("{" OK ",'locale':'es-419','appointment':{'start':'2026-12-01T21:15:00+05:45',"
	       "'minutes':1440},'to':{'email':'a@b.co'}}");
	/* "to" is a duplicate here: refused */
	expect_bad(s, strlen(s),
	        "not valid JSON: duplicate object key near '\"to\"' at line 1 column 162 (byte "
	        "162)");
	s = dq("{" OK ",'locale':'zh-Hant-TW','appointment':{'start':'2026-12-01T21:15:00+05:45',"
	       "'minutes':1440,'provider':'','location':''},'patient':{},'practice':{},"
	       "'data':{},'spool':{}}");
	parse_ok(&j, s, strlen(s));
	assert_string_equal(j.locale, "zh-Hant-TW");
	assert_int_equal(j.appt_start, 1796139000);
	assert_int_equal(j.appt_offset, 345);
	job_free(&j);
	/* null in an optional member is absent (a database NULL), and kept as written */
	s = dq("{'version':1,'id':'n1','kind':'recall','to':{'email':'a@b.co','name':null},"
	       "'locale':null,'not_before':null,'expires':null,'appointment':null,"
	       "'patient':{'first_name':null},'practice':null,'data':null,'spool':null}");
	parse_ok(&j, s, strlen(s));
	assert_null(j.to_name);
	assert_null(j.locale);
	assert_int_equal(j.not_before, 0);
	assert_int_equal(j.expires, 0);
	assert_int_equal(j.appt_start, 0);
	assert_null(job_get_str(&j, "patient.first_name"));
	char *back = job_dump(&j);
	assert_non_null(strstr(back, "\"locale\": null"));
	free(back);
	job_free(&j);
}

static const char unknown[] =
        "{\"zeta\": [1, 2.5, {\"deep\": null, \"t\": true}], \"version\": 1, \"id\": \"u1\","
        " \"kind\": \"recall\", \"to\": {\"email\": \"o\\u0027brien@example.ie\","
        " \"name\": \"Jos\xc3\xa9 \xc3\x91\xc3\xba\xc3\xb1\x65z \xe6\x97\xa5\xe6\x9c\xac\","
        " \"phone\": \"+1 417\"}, \"patient\": {\"dob\": \"1980-01-01\", \"first_name\": "
        "\"Jos\xc3\xa9\"},"
        " \"data\": {\"nested\": {\"list\": [\"a\", {\"b\": \"c\"}]}}, \"alpha\": {}}";

/* test_unknown_kept - unknown members survive dump and reparse, order and text intact */
static void test_unknown_kept(void **state)
{
	struct job j, k;
	char *d1, *d2;

	(void)state;
	parse_ok(&j, unknown, strlen(unknown));
	d1 = job_dump(&j);
	assert_non_null(d1);
	assert_int_equal(d1[strlen(d1) - 1], '\n');
	assert_true(strstr(d1, "\"zeta\"") < strstr(d1, "\"version\""));
	assert_true(strstr(d1, "\"data\"") < strstr(d1, "\"alpha\""));
	assert_non_null(strstr(d1, "\n  \"version\": 1,\n"));
	assert_non_null(strstr(d1, "\xe6\x97\xa5\xe6\x9c\xac")); /* UTF-8, not \u escapes */
	parse_ok(&k, d1, strlen(d1));
	assert_true(json_equal(j.root, k.root));
	assert_string_equal(k.to_email, "o'brien@example.ie");
	assert_string_equal(job_get_str(&k, "to.phone"), "+1 417");
	assert_string_equal(job_get_str(&k, "patient.dob"), "1980-01-01");
	assert_string_equal(job_get_str(&k, "data.nested.list.1.b"), "c");
	assert_string_equal(job_get_str(&k, "data.nested.list.0"), "a");
	assert_null(job_get_str(&k, "data.nested.list.2"));
	assert_null(job_get_str(&k, "data.nested.list.x"));
	d2 = job_dump(&k);
	assert_string_equal(d1, d2); /* stable */
	free(d1);
	free(d2);
	job_free(&j);
	job_free(&k);
	assert_null(job_dump(&j));
}

/* test_history - spool strings, times and attempts survive dump and reparse */
static void test_history(void **state)
{
	struct job j, k;
	struct job_attempt a = {0}, b;
	char *d, big[2100], buf[TIMEFMT_MAX];
	const char *s = dq("{" OK ",'spool':{'mine':'kept'}}");
	size_t i;

	(void)state;
	parse_ok(&j, s, strlen(s));
	job_spool_set_str(&j, "message_id", "<a1.123@spoold.example.com>");
	job_spool_set_time(&j, "first_seen", 1796139000);
	a.when = 1796139000;
	a.relay = "smtp.gmail.com:587";
	a.stage = "rcpt";
	a.code = 450;
	a.text = "4.2.1 try again later";
	a.category = "transient";
	job_add_attempt(&j, &a);
	a.when += 600;
	a.relay = NULL;
	a.stage = "connect";
	a.code = 0;
	a.text = "bad \xff\xfe bytes \xc3";
	a.category = "transient";
	job_add_attempt(&j, &a);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	a.text = big;
	a.stage = "data-end";
	a.code = 250;
	a.category = "sent";
	job_add_attempt(&j, &a);
	assert_int_equal(job_attempts(&j), 3);
	d = job_dump(&j);
	job_free(&j);
	assert_non_null(strstr(d, "\"spool\": {\n    \"mine\": \"kept\""));
	parse_ok(&k, d, strlen(d));
	free(d);
	assert_int_equal(job_attempts(&k), 3);
	assert_string_equal(job_spool_str(&k, "message_id"), "<a1.123@spoold.example.com>");
	assert_string_equal(job_spool_str(&k, "mine"), "kept");
	assert_int_equal(job_spool_time(&k, "first_seen"), 1796139000);
	assert_int_equal(job_spool_time(&k, "message_id"), 0);
	assert_int_equal(job_spool_time(&k, "absent"), 0);
	assert_int_equal(job_get_attempt(&k, 0, &b), 0);
	assert_int_equal(b.when, 1796139000);
	assert_string_equal(b.relay, "smtp.gmail.com:587");
	assert_string_equal(b.stage, "rcpt");
	assert_int_equal(b.code, 450);
	assert_string_equal(b.text, "4.2.1 try again later");
	assert_string_equal(b.category, "transient");
	assert_int_equal(job_get_attempt(&k, 1, &b), 0);
	assert_null(b.relay);
	assert_int_equal(b.code, 0);
	assert_string_equal(b.text, "bad \xef\xbf\xbd\xef\xbf\xbd bytes \xef\xbf\xbd");
	assert_int_equal(job_get_attempt(&k, 2, &b), 0);
	assert_int_equal(strlen(b.text), 1024);
	assert_string_equal(b.category, "sent");
	assert_int_equal(job_get_attempt(&k, 3, &b), -1);
	assert_string_equal(job_get_str(&k, "spool.attempts.0.time"),
	        rfc3339_format(1796139000, buf, sizeof buf));
	job_spool_set_time(&k, "first_seen", 0);
	job_spool_set_str(&k, "message_id", NULL);
	assert_null(job_spool_str(&k, "first_seen"));
	assert_null(job_spool_str(&k, "message_id"));
	for (i = 0; i < 5; i++)
		job_add_attempt(&k, &a);
	assert_int_equal(job_attempts(&k), 8);
	job_free(&k);
}

/* test_spool_created - spool appears on demand, "version" first; removal creates nothing */
static void test_spool_created(void **state)
{
	struct job j;
	const char *s = dq("{" OK "}");
	char *d;

	(void)state;
	parse_ok(&j, s, strlen(s));
	job_spool_set_str(&j, "x", NULL);
	job_spool_set_time(&j, "x", 0);
	assert_null(json_object_get(j.root, "spool"));
	job_spool_set_str(&j, "message_id", "<m@x.example>");
	d = job_dump(&j);
	assert_non_null(strstr(d, "\"spool\": {\n    \"version\": 1,\n    \"message_id\": "));
	assert_ptr_equal(job_spool(&j), json_object_get(j.root, "spool"));
	free(d);
	job_free(&j);
	assert_null(job_spool(&j));
	assert_null(job_spool_str(&j, "message_id"));
	assert_int_equal(job_attempts(&j), 0);
}

/* make_sized - a valid job of exactly size bytes (padded in data.pad) */
static char *make_sized(size_t size)
{
	const char *head = dq("{" OK ",'data':{'pad':'");
	size_t hl = strlen(head);
	char *s = malloc(size + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, 'p', size - hl - 3);
	memcpy(s + size - 3, "\"}}", 4);
	return s;
}

/* test_size_limit - 65536 bytes is accepted, 65537 refused */
static void test_size_limit(void **state)
{
	struct job j;
	char *s;

	(void)state;
	s = make_sized(JOB_MAX_SIZE);
	assert_int_equal(strlen(s), 65536);
	parse_ok(&j, s, strlen(s));
	job_free(&j);
	free(s);
	s = make_sized(JOB_MAX_SIZE + 1);
	expect_bad(s, strlen(s), "file is 65537 bytes; the limit is 65536");
	free(s);
	expect_bad("{}", 1 << 20, "file is 1048576 bytes; the limit is 65536");
}

/* test_dump_fits - a job whose indented form would pass the limit is dumped compact */
static void test_dump_fits(void **state)
{
	struct job j, k;
	char *s, *d;
	size_t o, i;

	(void)state;
	s = malloc(JOB_MAX_SIZE);
	assert_non_null(s);
	o = (size_t)sprintf(s, "%s", dq("{" OK ",'data':{"));
	for (i = 0; i < 5000; i++)
		o += (size_t)sprintf(s + o, "%s\"k%04zu\":1", i ? "," : "", i);
	o += (size_t)sprintf(s + o, "}}");
	parse_ok(&j, s, o);
	d = job_dump(&j);
	assert_true(strlen(d) <= JOB_MAX_SIZE);
	assert_null(strchr(d, ' '));
	parse_ok(&k, d, strlen(d));
	assert_true(json_equal(j.root, k.root));
	job_free(&j);
	job_free(&k);
	free(d);
	free(s);
}

/* test_numbers_grow - a job under the limit whose numbers jansson would
 * write back over it is refused; the same numbers in a short job are not */
static void test_numbers_grow(void **state)
{
	struct job j;
	char *s, want[128];
	size_t o, i;

	(void)state;
	s = malloc(JOB_MAX_SIZE);
	assert_non_null(s);
	o = (size_t)sprintf(s, "%s", dq("{" OK ",'data':{'n':["));
	for (i = 0; o < JOB_MAX_SIZE - 100; i++)
		o += (size_t)sprintf(s + o, "%s1e9", i ? "," : ""); /* 1000000000.0 */
	o += (size_t)sprintf(s + o, "]}}");
	assert_true(o <= JOB_MAX_SIZE);
	snprintf(want, sizeof want, "file is %zu bytes when written back; the limit is %d",
	        (size_t)strlen(dq("{" OK ",'data':{'n':[]}}")) + 12 * i + (i - 1), JOB_MAX_SIZE);
	expect_bad(s, o, want);
	o = (size_t)sprintf(
	        s, "%s", dq("{" OK ",'data':{'n':[1e9,0.1,-2.2250738585072014e-308]}}"));
	parse_ok(&j, s, o);
	job_free(&j);
	free(s);
}

/* test_history_cap - the history keeps the first and the latest attempts */
static void test_history_cap(void **state)
{
	struct job j;
	struct job_attempt a, got;
	char text[32];

	(void)state;
	parse_ok(&j, dq("{" OK "}"), strlen(dq("{" OK "}")));
	for (int i = 0; i < 60; i++) {
		snprintf(text, sizeof text, "try %d", i);
		a = (struct job_attempt){1000 + i, "h:25", "rcpt", 451, text, "transient"};
		job_add_attempt(&j, &a);
	}
	assert_int_equal(job_attempts(&j), 60);
	assert_int_equal(job_get_attempt(&j, 0, &got), 0);
	assert_string_equal(got.text, "try 0");
	assert_int_equal(job_get_attempt(&j, JOB_ATTEMPTS_KEPT - 1, &got), 0);
	assert_string_equal(got.text, "try 59");
	assert_int_equal(job_get_attempt(&j, JOB_ATTEMPTS_KEPT, &got), -1);
	job_free(&j);
}

/* test_bad_bytes - invalid UTF-8 and NUL are reported with their byte offset */
static void test_bad_bytes(void **state)
{
	char s[2048], want[2048];
	const char *bad_seq[] = {
	        "\xff", "\xc3(", "\xc0\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80", NULL};
	size_t i, off;

	(void)state;
	for (i = 0; bad_seq[i] != NULL; i++) {
		snprintf(s, sizeof s, "%s", dq("{" OK ",\n'patient':{'first_name':'Jo"));
		off = strlen(s);
		snprintf(s + off, sizeof s - off, "%s\"}}", bad_seq[i]);
		snprintf(want, sizeof want,
		        "not valid JSON: unable to decode byte 0x%02x near '\"Jo' at line 2 column "
		        "27 "
		        "(byte %zu)",
		        (unsigned char)bad_seq[i][0], off);
		expect_bad(s, strlen(s), want);
	}
	/* a raw NUL inside a string */
	off = strlen(strcpy(s, dq("{" OK ",'x':'a")));
	memcpy(s + off, "\0\"}", 3);
	snprintf(want, sizeof want,
	        "not valid JSON: control character 0x0 near '\"a' at line 1 column %zu (byte %zu)",
	        off, off);
	expect_bad(s, off + 3, want);
}

/* test_lengths - id and to.name limits in bytes, kind in characters, long values shortened */
static void test_lengths(void **state)
{
	char s[4096], v[1024], want[512];
	struct job j;

	(void)state;
	memset(v, 'i', 200);
	v[200] = '\0';
	snprintf(s, sizeof s, "{\"version\":1,\"id\":\"%s\",\"kind\":\"recall\",%s}", v, dq(TO));
	parse_ok(&j, s, strlen(s));
	job_free(&j);
	snprintf(s, sizeof s, "{\"version\":1,\"id\":\"%si\",\"kind\":\"recall\",%s}", v, dq(TO));
	expect_bad(s, strlen(s), "id: 201 bytes; the limit is 200");

	v[0] = '\0';
	while (strlen(v) < 200)
		strcat(v, "\xc3\xa9");
	snprintf(s, sizeof s, "%s,\"to\":{\"email\":\"a@b.co\",\"name\":\"%s\"}}", dq("{" HDR), v);
	parse_ok(&j, s, strlen(s));
	job_free(&j);
	snprintf(s, sizeof s, "%s,\"to\":{\"email\":\"a@b.co\",\"name\":\"%s\\u00e9\"}}",
	        dq("{" HDR), v);
	expect_bad(s, strlen(s), "to.name: 202 bytes; the limit is 200");

	memset(v, 'k', 64);
	v[64] = '\0';
	snprintf(s, sizeof s, "{\"version\":1,\"id\":\"a\",\"kind\":\"%s\",%s}", v, dq(TO));
	parse_ok(&j, s, strlen(s));
	job_free(&j);
	snprintf(s, sizeof s, "{\"version\":1,\"id\":\"a\",\"kind\":\"%sk\",%s}", v, dq(TO));
	snprintf(want, sizeof want, "kind: \"%.60s...\" must match [a-z0-9_-]{1,64}", v);
	expect_bad(s, strlen(s), want);
}

/* test_small_err - a short or absent err buffer is safe */
static void test_small_err(void **state)
{
	struct job j;
	char err[8];

	(void)state;
	assert_int_equal(job_parse(&j, "{}", 2, err, sizeof err), -1);
	assert_string_equal(err, "version");
	assert_int_equal(job_parse(&j, "{}", 2, NULL, 0), -1);
	assert_true(is_zero(&j));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_bad_table),
	        cmocka_unit_test(test_design_example),
	        cmocka_unit_test(test_minimal),
	        cmocka_unit_test(test_unknown_kept),
	        cmocka_unit_test(test_history),
	        cmocka_unit_test(test_spool_created),
	        cmocka_unit_test(test_size_limit),
	        cmocka_unit_test(test_dump_fits),
	        cmocka_unit_test(test_numbers_grow),
	        cmocka_unit_test(test_bad_bytes),
	        cmocka_unit_test(test_history_cap),
	        cmocka_unit_test(test_lengths),
	        cmocka_unit_test(test_small_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
