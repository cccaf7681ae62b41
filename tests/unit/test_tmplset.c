/*
 * test_tmplset - tmplset's cache of compiled template files: each file read
 * and compiled once for many jobs (a partial used by several templates
 * too), an edited file seen once its entry is 2 seconds old (on an
 * injected clock) and compiled again only then, missing files cached,
 * read errors not, tmplset_cache_clear forgetting everything, and errors
 * that still name FILE:LINE:COL, or every path tried.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "tmplset.h"

static time_t fake_now = 1000000;

/* fake_clock - the tests' clock for tmplset's cache */
static time_t fake_clock(void)
{
	return fake_now;
}

/* put - write text to DIR/NAME */
static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* set_render - render the job; its error in err ("" when it rendered) */
static void set_render(
        struct tmplset *out, const char *dir, const char *first, char *err, size_t errlen)
{
	struct conf c = {.templates_dir = (char *)dir};
	struct job j = {.kind = "cachetest", .locale = "en"};
	json_t *data = json_pack("{s:s}", "first", first);

	err[0] = '\0';
	if (tmplset_render(&j, &c, data, out, err, errlen) == 0)
		assert_string_equal(err, "");
	json_decref(data);
}

/* expect - the job renders with first, as subject, text and html */
static void expect(
        const char *dir, const char *first, const char *subject, const char *text, const char *html)
{
	struct tmplset t;
	char err[2048];

	set_render(&t, dir, first, err, sizeof err);
	if (*err)
		fail_msg("%s", err);
	assert_string_equal(t.subject, subject);
	assert_string_equal(t.text, text);
	if (html)
		assert_string_equal(t.html, html);
	else
		assert_null(t.html);
	tmplset_free(&t);
}

/* expect_error - the job does not render, for reason want (DIR for dir) */
static void expect_error(const char *dir, const char *want)
{
	struct tmplset t;
	char err[2048], full[2048];
	size_t o = 0;

	for (const char *at; (at = strstr(want, "DIR")) != NULL; want = at + 3)
		o += (size_t)snprintf(
		        full + o, sizeof full - o, "%.*s%s", (int)(at - want), want, dir);
	snprintf(full + o, sizeof full - o, "%s", want);
	set_render(&t, dir, "x", err, sizeof err);
	assert_string_equal(err, full);
}

/* counts - files read and compiled since *r0, *c0 */
static void counts(unsigned long r0, unsigned long c0, unsigned long reads, unsigned long compiles)
{
	unsigned long r, c;

	tmplset_cache_stats(&r, &c);
	assert_int_equal(r - r0, reads);
	assert_int_equal(c - c0, compiles);
}

static void test_tmplset_cache(void **state)
{
	char dir[] = "/tmp/test_tmpl.XXXXXX", sub[600], want[600], err[2048], first[16];
	unsigned long r0, c0;
	struct tmplset t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/cachetest", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof sub, "%s/partials", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put(dir, "cachetest/subject", "Hi {{>name}}\n");
	put(dir, "cachetest/body.txt", "Dear {{>name}},\n  {{>sig}}\n");
	put(dir, "partials/name.mustache", "{{first}}");
	put(dir, "partials/sig.mustache", "--\n{{first}}\n");
	tmplset_cache_clock(fake_clock);
	tmplset_cache_clear();
	tmplset_cache_stats(&r0, &c0);

	/* 1000 jobs: four files read and compiled once */
	for (int i = 0; i < 1000; i++) {
		snprintf(first, sizeof first, "P%d", i);
		snprintf(sub, sizeof sub, "Hi P%d", i);
		snprintf(want, sizeof want, "Dear P%d,\n  --\n  P%d\n", i, i);
		expect(dir, first, sub, want, NULL);
	}
	counts(r0, c0, 4, 4);

	/* an edit is seen once the entries are 2 s old; only it is compiled again */
	put(dir, "partials/name.mustache", "{{first}}!");
	put(dir, "cachetest/body.html", "<p>{{>name}}</p>");
	fake_now++;
	expect(dir, "A", "Hi A", "Dear A,\n  --\n  A\n", NULL);
	fake_now++;
	expect(dir, "A", "Hi A!", "Dear A!,\n  --\n  A\n", "<p>A!</p>");
	counts(r0, c0, 9, 6);
	for (int i = 0; i < 100; i++) /* name: one compiled form for three templates */
		expect(dir, "A", "Hi A!", "Dear A!,\n  --\n  A\n", "<p>A!</p>");
	counts(r0, c0, 9, 6);

	/* template errors name FILE:LINE:COL, a partial by its name; they are
	 * cached as the file is */
	put(dir, "cachetest/body.txt", "ok\n  {{#x}}\n");
	fake_now += 2;
	for (int i = 0; i < 3; i++)
		expect_error(
		        dir, "template error: DIR/cachetest/body.txt:2:3: unclosed section \"x\"");
	counts(r0, c0, 12, 7);
	put(dir, "cachetest/body.txt", "Dear {{>name}},\n  {{>sig}}\n");
	put(dir, "partials/sig.mustache", "\n {{/y}}");
	fake_now += 2;
	expect_error(dir, "template error: sig:2:2: close tag \"y\" without an open section");

	/* a read error is not cached */
	snprintf(sub, sizeof sub, "%s/partials/sig.mustache", dir);
	assert_int_equal(unlink(sub), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	fake_now += 2;
	expect_error(dir, "partial: DIR/partials/sig.mustache: not a regular file");
	assert_int_equal(rmdir(sub), 0);
	put(dir, "partials/sig.mustache", "--\n");
	expect(dir, "B", "Hi B!", "Dear B!,\n  --\n", "<p>B!</p>");

	/* tmplset_cache_clear forgets at once, missing files too */
	put(dir, "cachetest/subject", "Bye {{first}}");
	expect(dir, "C", "Hi C!", "Dear C!,\n  --\n", "<p>C!</p>");
	snprintf(sub, sizeof sub, "%s/cachetest/body.html", dir);
	assert_int_equal(unlink(sub), 0);
	tmplset_cache_clear();
	expect(dir, "C", "Bye C", "Dear C!,\n  --\n", NULL);

	/* nothing there: every path tried is named */
	snprintf(sub, sizeof sub, "%s/cachetest/subject", dir);
	assert_int_equal(unlink(sub), 0);
	fake_now += 2;
	snprintf(want, sizeof want,
	        "no template cachetest/subject (tried DIR/cachetest/en/subject, %s/cachetest/en/"
	        "subject, DIR/cachetest/subject, %s/cachetest/subject)",
	        tmplset_default_dir(), tmplset_default_dir());
	expect_error(dir, want);

	tmplset_cache_clock(NULL);
	tmplset_cache_clear();
	set_render(&t, dir, "x", err, sizeof err); /* the real clock works */
	assert_non_null(strstr(err, "no template cachetest/subject"));
	tmplset_cache_clear();
	const char *rm[] = {"cachetest/body.txt", "partials/name.mustache", "partials/sig.mustache",
	        "cachetest", "partials", ""};
	for (size_t i = 0; i < sizeof rm / sizeof *rm; i++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, rm[i]);
		assert_int_equal(remove(sub), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_tmplset_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
