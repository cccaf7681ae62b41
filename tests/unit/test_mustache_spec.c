/*
 * test_mustache_spec - the official Mustache specification's own test
 * suite: every case of every $SPOOLD_TEST_DATA/mustache-spec/ JSON file
 * (core and the optional ~inheritance and ~dynamic-names modules), each
 * rendered with HTML escaping and a loader that serves the case's
 * "partials", compared byte for byte with "expected".  Lambdas do not
 * apply to JSON data, so a ~lambdas file would be skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "tmpl.h"

/* load_partial - the case's partial called name, or NULL */
static char *load_partial(const char *name, void *arg)
{
	const char *s = json_string_value(json_object_get((json_t *)arg, name));

	return s ? strdup(s) : NULL;
}

/* show - a string with its control characters visible */
static void show(const char *label, const char *s)
{
	printf("    %-9s \"", label);
	for (; s && *s; s++) {
		if (*s == '\n')
			printf("\\n");
		else if (*s == '\r')
			printf("\\r");
		else if (*s == '\t')
			printf("\\t");
		else
			putchar(*s);
	}
	printf("\"%s\n", s ? "" : " (NULL)");
}

/* run_file - every case of one spec file; adds to *pass and *fail */
static void run_file(const char *path, int *pass, int *fail)
{
	json_error_t jerr;
	json_t *spec = json_load_file(path, 0, &jerr), *tests, *t;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t i;

	if (!spec) {
		printf("%s: %s\n", path, jerr.text);
		fail_msg("cannot read %s", path);
	}
	tests = json_object_get(spec, "tests");
	assert_true(json_is_array(tests) && json_array_size(tests) > 0);
	json_array_foreach(tests, i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *tpl = json_string_value(json_object_get(t, "template"));
		const char *want = json_string_value(json_object_get(t, "expected"));
		json_t *partials = json_object_get(t, "partials"), *none = json_object();
		struct tmpl_error err;
		char msg[600];
		char *got;

		assert_non_null(tpl);
		assert_non_null(want);
		got = tmpl_render(tpl, "template", json_object_get(t, "data"), load_partial,
		        partials ? partials : none, TMPL_ESCAPE_HTML, &err);
		if (got && strcmp(got, want) == 0) {
			(*pass)++;
		} else {
			(*fail)++;
			printf("FAIL %s: %s\n", base, name);
			show("template", tpl);
			show("expected", want);
			show("got", got);
			if (!got)
				printf("    error     %s\n",
				        tmpl_error_format(&err, msg, sizeof msg));
		}
		json_decref(none);
		free(got);
	}
	json_decref(spec);
}

/* test_conformance - all files, one summary line */
static void test_conformance(void **state)
{
	const char *dir = getenv("SPOOLD_TEST_DATA");
	char pattern[4096];
	glob_t g;
	int pass = 0, fail = 0;

	(void)state;
	snprintf(pattern, sizeof pattern, "%s/mustache-spec/*.json", dir ? dir : "tests/data");
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (strstr(g.gl_pathv[i], "~lambdas")) {
			printf("skipping %s: lambdas do not apply to JSON data\n", g.gl_pathv[i]);
			continue;
		}
		run_file(g.gl_pathv[i], &pass, &fail);
	}
	globfree(&g);
	printf("mustache conformance: %d passed, %d failed\n", pass, fail);
	assert_true(pass > 0);
	assert_int_equal(fail, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_conformance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
