/*
 * test_mime - hostile job text through msg_build, read back with libetpan.
 *
 * Every hostile string goes into every string member of a job (to.name,
 * patient, practice, appointment, data), for a reminder with and without
 * the iCalendar event and for a recall with both unsubscribe URIs.  Each
 * message must: have only printable ASCII in its header section, CRLF
 * line ends, no line over 998 characters (and none over 78 except a lone
 * address or URI); have exactly the expected header fields and MIME
 * parts; parse with mailmime_parse; decode its Subject and To name to the
 * cleaned text; and carry the hostile text unchanged inside its parts.
 * The templates are written by the test into a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "msg.h"
#include "rfc2047.h"
#include "tmplset.h"

static char tdir[] = "/tmp/test_mime.XXXXXX";
static char long_word[1001], long_name[2101];

static const char *hostile[] = {
        "Jane\r\nBcc: victim@example.com",
        "Jane\nBcc: victim@example.com",
        "Jane\rBcc: victim@example.com",
        "Dr. <evil@example.com>, \"Quoted\" \\ Name",
        "\">< ,;: @ \\\\ \\\"",
        "=?utf-8?q?=41=42?= lookalike",
        "=?UTF-8?B?SGk=?=",
        "=?",
        "Tom \xe2\x80\xae"
        "evil\xe2\x80\xac txt.exe \xe2\x81\xa6iso\xe2\x81\xa9",
        long_word,
        long_name,
        "Jos\xc3\xa9 \xc3\x81lvarez N\xc3\xba\xc3\xb1"
        "ez",
        "\xf0\x9f\x98\x80\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
        "e\xcc\x81\xcc\x81\xcc\x81 Zalgo a\xcc\x8a\xcc\x8a",
        "line one\n.\nline three",
        ".",
        "\r\n\r\n--=_spoold_00\r\nContent-Type: text/html\r\n\r\n<script>x</script>",
        "--\n--=_spoold_\n--boundary--",
        "From here\nFrom there",
        "tab\there\fform\vvt\x7f"
        "del",
        "C1 \xc2\x85 nel \xc2\x9b csi \xe2\x80\xa8 ls \xe2\x80\xa9 ps",
        "nbsp\xc2\xa0space \xef\xbb\xbf bom",
        "   leading and trailing   ",
        "",
        "\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d\xe5\xad\x97 "
        "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9",
        "a;b,c:d\\e",
        "100% <b>bold</b> & 'single'",
        "x@y.z",
        "Subject: fake\r\nX-Evil: 1",
        "\\r\\n literally",
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

/* put_file - write text to tdir/rel, creating folders */
static void put_file(const char *rel, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tdir, rel);
	for (char *p = path + strlen(tdir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

#define ALL_FIELDS                                                                                 \
	"{{to.name}}|{{patient.first_name}}|{{patient.last_name}}|{{practice.name}}|"              \
	"{{practice.phone}}|{{practice.address}}|{{appointment.provider}}|"                        \
	"{{appointment.location}}|{{data.note}}"

static int setup(void **state)
{
	(void)state;
	memset(long_word, 'W', sizeof long_word - 1);
	for (size_t i = 0; i < sizeof long_name - 1; i++)
		long_name[i] = i % 7 == 6 ? ' ' : "Practice"[i % 7];
	if (!mkdtemp(tdir))
		return -1;
	put_file("reminder/subject", "Reminder: {{to.name}} {{practice.name}} {{when.date}}\n");
	put_file("reminder/body.txt", "Text " ALL_FIELDS "\n{{when.time}}\n");
	put_file("reminder/body.html", "<p>HTML " ALL_FIELDS "</p>\n");
	put_file("recall/subject", "{{patient.first_name}}, time for a visit\n");
	put_file("recall/body.txt", "{{> greet}}Recall " ALL_FIELDS "\n{{unsubscribe.url}}\n");
	put_file("partials/greet.mustache", "Hello {{patient.first_name}}\n");
	setenv("SPOOLD_TEMPLATES", "/nonexistent", 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* make_job - a job of kind with s in every string member; to.name only
 * when the parser's 200-byte limit allows it */
static void make_job(struct job *j, const char *kind, const char *s)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:{s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s},"
	                      " s:{s:s}, s:s}",
	        "version", 1, "id", "appt-1-reminder-24h", "kind", kind, "to", "email",
	        "jane@example.com", "patient", "first_name", s, "last_name", s, "practice", "name",
	        s, "phone", s, "address", s, "data", "note", s, "locale", "en");
	char err[256], *text;

	if (strlen(s) <= 200)
		json_object_set_new(json_object_get(o, "to"), "name", json_string(s));
	if (!strcmp(kind, "reminder"))
		json_object_set_new(o, "appointment",
		        json_pack("{s:s, s:i, s:s, s:s}", "start", "2026-12-01T09:30:00-06:00",
		                "minutes", 30, "provider", s, "location", s));
	text = json_dumps(o, 0);
	json_decref(o);
	if (job_parse(j, text, strlen(text), err, sizeof err) < 0) {
		print_error("job_parse: %s\n", err);
		fail();
	}
	free(text);
}

/* header_section - check bytes and lengths; returns its length */
static size_t header_section(const char *m, size_t len)
{
	const char *end = strstr(m, "\r\n\r\n");
	size_t hlen, line = 0;

	assert_non_null(end);
	hlen = (size_t)(end - m) + 2;
	for (size_t i = 0, start = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)m[i];
		if (c == '\r') {
			assert_true(m[i + 1] == '\n');
			size_t n = i - start;
			assert_true(n <= 998);
			if (n > 78) {
				/* Only a lone token (an address or URI) may not fold. */
				const char *sp = memchr(m + start + 1, ' ', n - 1);
				if (sp && memchr(sp + 1, ' ', (size_t)(m + i - sp - 1))) {
					print_error("header line %zu is %zu long: %.*s\n", line, n,
					        (int)n, m + start);
					fail();
				}
			}
			i++;
			start = i + 1;
			line++;
			continue;
		}
		assert_true(c != '\n');
		assert_true((c >= 32 && c < 127) || c == '\t');
	}
	assert_true(len >= 2 && m[len - 2] == '\r' && m[len - 1] == '\n');
	return hlen;
}

/* field_name - the name of a parsed header field */
static const char *field_name(const struct mailimf_field *f)
{
	switch (f->fld_type) {
	case MAILIMF_FIELD_FROM:
		return "From";
	case MAILIMF_FIELD_TO:
		return "To";
	case MAILIMF_FIELD_SUBJECT:
		return "Subject";
	case MAILIMF_FIELD_ORIG_DATE:
		return "Date";
	case MAILIMF_FIELD_MESSAGE_ID:
		return "Message-ID";
	case MAILIMF_FIELD_OPTIONAL_FIELD:
		return f->fld_data.fld_optional_field->fld_name;
	default:
		return "?";
	}
}

/* decode - an encoded header phrase as UTF-8 */
static char *decode(const char *s)
{
	size_t idx = 0;
	char *out = NULL;

	assert_int_equal(mailmime_encoded_phrase_parse("utf-8", s, strlen(s), &idx, "utf-8", &out),
	        MAILIMF_NO_ERROR);
	return out;
}

/* check_fields - exactly these header fields, in any order; Subject and To */
static void check_fields(
        struct mailimf_fields *fields, const char *const *want, const char *subject)
{
	size_t n = 0, nw = 0;
	clistiter *it;

	while (want[nw])
		nw++;
	for (it = clist_begin(fields->fld_list); it; it = clist_next(it), n++) {
		struct mailimf_field *f = clist_content(it);
		const char *name = field_name(f);
		size_t k;
		for (k = 0; k < nw && strcasecmp(want[k], name); k++)
			;
		if (k == nw) {
			print_error("unexpected header field %s\n", name);
			fail();
		}
		if (f->fld_type == MAILIMF_FIELD_SUBJECT) {
			char *got = decode(f->fld_data.fld_subject->sbj_value);
			char *exp = rfc2047_clean(subject);
			assert_string_equal(got, exp);
			free(got);
			free(exp);
		}
		if (f->fld_type == MAILIMF_FIELD_TO) {
			struct mailimf_address_list *al = f->fld_data.fld_to->to_addr_list;
			assert_int_equal(clist_count(al->ad_list), 1);
			struct mailimf_address *a = clist_content(clist_begin(al->ad_list));
			assert_int_equal(a->ad_type, MAILIMF_ADDRESS_MAILBOX);
			assert_string_equal(
			        a->ad_data.ad_mailbox->mb_addr_spec, "jane@example.com");
		}
	}
	assert_int_equal(n, nw);
}

/* check_mime_fields - the top part: MIME-Version, and a transfer
 * encoding only when it is a single part */
static void check_mime_fields(struct mailmime *top)
{
	int version = 0;

	assert_non_null(top->mm_mime_fields);
	for (clistiter *it = clist_begin(top->mm_mime_fields->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_VERSION)
			version++;
		else
			assert_true(f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING &&
			            top->mm_type == MAILMIME_SINGLE);
	}
	assert_int_equal(version, 1);
}

/* part_text - the decoded body of a single part */
static char *part_text(struct mailmime *p)
{
	size_t idx = 0, dlen;
	char *dec, *copy;
	int enc = mailmime_transfer_encoding_get(p->mm_mime_fields);

	assert_int_equal(
	        mailmime_part_parse(p->mm_data.mm_single->dt_data.dt_text.dt_data,
	                p->mm_data.mm_single->dt_data.dt_text.dt_length, &idx, enc, &dec, &dlen),
	        MAILIMF_NO_ERROR);
	copy = strndup(dec, dlen);
	mailmime_decoded_part_free(dec);
	return copy;
}

/* type_is - the part's content type is type/subtype */
static void type_is(struct mailmime *m, const char *want)
{
	char got[128];
	struct mailmime_type *t = m->mm_content_type->ct_type;
	const char *top = t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE
	                          ? (t->tp_data.tp_composite_type->ct_type ==
	                                                    MAILMIME_COMPOSITE_TYPE_MULTIPART
	                                            ? "multipart"
	                                            : "message")
	                  : t->tp_data.tp_discrete_type->dt_type == MAILMIME_DISCRETE_TYPE_TEXT
	                          ? "text"
	                          : "other";

	snprintf(got, sizeof got, "%s/%s", top, m->mm_content_type->ct_subtype);
	assert_string_equal(got, want);
}

/* nth - child i of a multipart */
static struct mailmime *nth(struct mailmime *m, int i)
{
	clistiter *it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);

	assert_int_equal(m->mm_type, MAILMIME_MULTIPLE);
	while (i-- > 0 && it)
		it = clist_next(it);
	assert_non_null(it);
	return clist_content(it);
}

/* crlf - s as the text part carries it: line ends CRLF, no white space
 * before a line end (mime.c's canonical text) */
static char *crlf(const char *s)
{
	char *o = malloc(2 * strlen(s) + 1), *p = o;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			while (p > o && (p[-1] == ' ' || p[-1] == '\t'))
				p--;
			*p++ = '\r';
			*p++ = '\n';
			if (s[i] == '\r' && s[i + 1] == '\n')
				i++;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	return o;
}

/* contains_raw - the decoded part holds s (its line ends made CRLF) */
static void contains_raw(const char *text, const char *s)
{
	char *want = crlf(s);

	if (!strstr(text, want)) {
		if (getenv("TEST_MIME_DUMP")) {
			FILE *fp = fopen(getenv("TEST_MIME_DUMP"), "w");
			fprintf(fp, "%s\n=====\n%s", want, text);
			fclose(fp);
		}
		print_error("part lacks the job text \"%.60s\"\n", s);
		fail();
	}
	free(want);
}

/* one - build, check and parse one message */
static void one(const char *kind, const char *s, int ics, int url)
{
	/* libetpan keeps MIME-Version and Content-Type apart (mm_mime_fields). */
	static const char *const base[] = {"From", "To", "Subject", "Date", "Message-ID",
	        "X-Spool-Job", "Auto-Submitted", NULL};
	const char *want[12];
	struct conf c = {0};
	struct job j;
	struct mailmime *mime = NULL, *body;
	char err[MSG_ERR_MAX], subject[4096], *m, *text;
	size_t len, idx = 0, nw = 0;
	json_t *data;

	c.relay.from = "office@springfield-chiro.example";
	c.relay.from_name = (char *)s;
	c.timezone = "Asia/Kolkata";
	c.templates_dir = tdir;
	c.message.ics = ics;
	c.message.unsubscribe_url = url ? "https://example.com/u?id=1&x=<\"y\">" : NULL;
	make_job(&j, kind, s);
	m = msg_build(&j, &c, "1764578400.M1P2Q3.host", "<spoold.x@springfield-chiro.example>",
	        1796000000, &len, err, sizeof err);
	if (!m) {
		print_error("msg_build: %s\n", err);
		fail();
	}
	assert_int_equal(strlen(m), len);
	header_section(m, len);

	while (base[nw])
		want[nw] = base[nw], nw++;
	if (!strcmp(kind, "recall"))
		want[nw++] = "List-Unsubscribe";
	if (url)
		want[nw++] = "List-Unsubscribe-Post";
	want[nw] = NULL;

	assert_int_equal(mailmime_parse(m, len, &idx, &mime), MAILIMF_NO_ERROR);
	assert_int_equal(mime->mm_type, MAILMIME_MESSAGE);
	check_mime_fields(mime->mm_data.mm_message.mm_msg_mime);
	/* The subject as the templates made it, to compare with the header. */
	data = tmplset_data(&j, &c, 1796000000, ics, err, sizeof err);
	struct tmplset t;
	assert_int_equal(tmplset_render(&j, &c, data, &t, err, sizeof err), 0);
	snprintf(subject, sizeof subject, "%s", t.subject);
	check_fields(mime->mm_data.mm_message.mm_fields, want, subject);
	body = mime->mm_data.mm_message.mm_msg_mime;
	if (!strcmp(kind, "recall")) {
		type_is(body, "text/plain");
		text = part_text(body);
	} else {
		struct mailmime *alt = ics ? nth(body, 0) : body;
		if (ics) {
			type_is(body, "multipart/mixed");
			assert_int_equal(clist_count(body->mm_data.mm_multipart.mm_mp_list), 2);
			type_is(nth(body, 1), "text/calendar");
			char *cal = part_text(nth(body, 1));
			assert_non_null(strstr(cal, "BEGIN:VEVENT\r\n"));
			assert_non_null(
			        strstr(cal, "DTSTART;TZID=Asia/Kolkata:20261201T210000\r\n"));
			free(cal);
		}
		type_is(alt, "multipart/alternative");
		assert_int_equal(clist_count(alt->mm_data.mm_multipart.mm_mp_list), 2);
		type_is(nth(alt, 0), "text/plain");
		type_is(nth(alt, 1), "text/html");
		char *html = part_text(nth(alt, 1));
		assert_null(strstr(html, "<script>"));
		free(html);
		text = part_text(nth(alt, 0));
	}
	contains_raw(text, t.text);
	if (*s)
		contains_raw(text, s);
	free(text);
	tmplset_free(&t);
	json_decref(data);
	mailmime_free(mime);
	free(m);
	job_free(&j);
}

static void test_hostile_reminder(void **state)
{
	(void)state;
	for (size_t i = 0; i < NHOSTILE; i++)
		one("reminder", hostile[i], 0, 0);
}

static void test_hostile_reminder_ics(void **state)
{
	(void)state;
	for (size_t i = 0; i < NHOSTILE; i++)
		one("reminder", hostile[i], 1, 0);
}

static void test_hostile_recall(void **state)
{
	(void)state;
	for (size_t i = 0; i < NHOSTILE; i++) {
		one("recall", hostile[i], 0, 0);
		one("recall", hostile[i], 0, 1);
	}
}

static void test_missing_template(void **state)
{
	struct conf c = {0};
	struct job j;
	char err[MSG_ERR_MAX];
	size_t len;

	(void)state;
	c.relay.from = "office@springfield-chiro.example";
	c.templates_dir = tdir;
	make_job(&j, "welcome", "x");
	assert_null(msg_build(&j, &c, "n", "<a@b>", 0, &len, err, sizeof err));
	assert_non_null(strstr(err, "no template welcome/subject"));
	assert_non_null(strstr(err, "/welcome/subject"));
	assert_non_null(strstr(err, "/nonexistent/welcome/subject"));
	job_free(&j);
}

static void test_broken_template(void **state)
{
	struct conf c = {0};
	struct job j;
	char err[MSG_ERR_MAX];
	size_t len;

	(void)state;
	put_file("broken/subject", "ok\n");
	put_file("broken/body.txt", "line\n{{#open}}never closed\n");
	c.relay.from = "office@springfield-chiro.example";
	c.templates_dir = tdir;
	make_job(&j, "broken", "x");
	assert_null(msg_build(&j, &c, "n", "<a@b>", 0, &len, err, sizeof err));
	assert_non_null(strstr(err, "broken/body.txt:"));
	job_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hostile_reminder),
	        cmocka_unit_test(test_hostile_reminder_ics),
	        cmocka_unit_test(test_hostile_recall),
	        cmocka_unit_test(test_missing_template),
	        cmocka_unit_test(test_broken_template),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
