/*
 * test_tmpl - the Mustache engine beyond the specification's suite: template
 * errors with their exact file:line:col and message, plain-text output
 * (TMPL_ESCAPE_NONE), the limits on partial recursion, nesting, cost and
 * output size, UTF-8 passing through untouched, missing partials, number
 * formatting, falsey values and the block indentation examples of
 * mustache/spec #131 and #135.  Compiled templates: the same output as
 * tmpl_render however often they and their partials are reused (the whole
 * specification's suite too), errors that still name file:line:col.
 * tmplset's cache of compiled files: test_tmplset.c.
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

/* from_object - a loader over a JSON object of name -> text */
static char *from_object(const char *name, void *arg)
{
	const char *s = json_string_value(json_object_get((json_t *)arg, name));

	return s ? strdup(s) : NULL;
}

/* render - src with JSON data and partials (JSON texts, NULL: none) */
static char *render(const char *src, const char *data, const char *partials, enum tmpl_escape esc,
        struct tmpl_error *err)
{
	json_t *d = data ? json_loads(data, JSON_DECODE_ANY, NULL) : NULL;
	json_t *p = json_loads(partials ? partials : "{}", 0, NULL);
	char *out;

	assert_true(!data || d);
	assert_non_null(p);
	out = tmpl_render(src, "t.mustache", d, from_object, p, esc, err);
	json_decref(d);
	json_decref(p);
	return out;
}

/* ok - render with HTML escaping and compare */
static void ok(const char *src, const char *data, const char *partials, const char *want)
{
	struct tmpl_error err;
	char msg[600];
	char *got = render(src, data, partials, TMPL_ESCAPE_HTML, &err);

	if (!got)
		fail_msg("%s: %s", src, tmpl_error_format(&err, msg, sizeof msg));
	assert_string_equal(got, want);
	free(got);
}

/* bad - render must fail with exactly "FILE:LINE:COL: MSG" */
static void bad(const char *src, const char *partials, const char *want)
{
	struct tmpl_error err;
	char msg[600];
	char *got = render(
	        src, "{\"x\": 1, \"l\": [1], \"name\": \"p\"}", partials, TMPL_ESCAPE_HTML, &err);

	if (got)
		fail_msg("%s: rendered \"%s\"", src, got);
	assert_string_equal(tmpl_error_format(&err, msg, sizeof msg), want);
}

static void test_errors(void **state)
{
	(void)state;
	bad("Hello\n  {{#items}}x", NULL, "t.mustache:2:3: unclosed section \"items\"");
	bad("{{^a}}\n{{#b}}{{/b}}", NULL, "t.mustache:1:1: unclosed inverted section \"a\"");
	bad("{{#a}}{{#b}}{{/a}}{{/b}}", NULL,
	        "t.mustache:1:13: close tag \"a\" does not match the open section \"b\"");
	bad("x\n\n   {{/a}}", NULL, "t.mustache:3:4: close tag \"a\" without an open section");
	bad("{{<p}}{{$a}}{{/b}}{{/p}}", NULL,
	        "t.mustache:1:13: close tag \"b\" does not match the open block \"a\"");
	bad("{{<p}}{{$a}}{{/a}}", NULL, "t.mustache:1:1: unclosed parent \"p\"");
	bad("a {{$b}}", NULL, "t.mustache:1:3: unclosed block \"b\"");
	bad("ab\ncd {{name", NULL, "t.mustache:2:4: unclosed tag: no \"}}\" after \"{{\"");
	bad("{{{name}}", NULL, "t.mustache:1:1: unclosed tag: no \"}}}\" after \"{{\"");
	bad("{{=<% %>=}}\n<%name", NULL, "t.mustache:2:1: unclosed tag: no \"%>\" after \"<%\"");
	bad("{{=<% %>=}}\n<%#a%>", NULL, "t.mustache:2:1: unclosed section \"a\"");
	bad("x {{=<% %>}}", NULL,
	        "t.mustache:1:3: bad set-delimiter tag: no '=' before the closing delimiter");
	bad("{{=<%=}}", NULL,
	        "t.mustache:1:1: bad set-delimiter tag: it needs two delimiters separated by "
	        "whitespace");
	bad("{{=<% % %>=}}", NULL,
	        "t.mustache:1:1: bad set-delimiter tag: it needs two delimiters separated by "
	        "whitespace");
	bad("{{=<=  =>=}}", NULL,
	        "t.mustache:1:1: bad set-delimiter tag: a delimiter may not contain '='");
	bad("a{{}}", NULL, "t.mustache:1:2: empty tag name");
	bad("{{  }}", NULL, "t.mustache:1:1: empty tag name");
	bad("{{#}}{{/}}", NULL, "t.mustache:1:1: empty tag name");
	bad("{{{ }}}", NULL, "t.mustache:1:1: empty tag name");
	bad("{{> }}", NULL, "t.mustache:1:1: empty tag name");
	bad("{{>* }}", NULL, "t.mustache:1:1: empty tag name");
	bad("{{first name}}", NULL,
	        "t.mustache:1:1: bad tag name \"first name\": it contains whitespace");
	/* errors inside partials name the partial, and only when it is used */
	bad("ok\n{{>p}}", "{\"p\": \"one\\n two {{#x}}\"}", "p:2:6: unclosed section \"x\"");
	bad("{{>*name}}", "{\"p\": \"{{/x}}\"}", "p:1:1: close tag \"x\" without an open section");
	bad("{{<p}}{{/p}}", "{\"p\": \"\\n\\n{{=a=}}\"}",
	        "p:3:1: bad set-delimiter tag: it needs two delimiters separated by whitespace");
	ok("{{#nothing}}{{>p}}{{/nothing}}fine", "{}", "{\"p\": \"{{#x}}\"}", "fine");
}

static void test_error_format(void **state)
{
	struct tmpl_error e = {"body.html", 12, 7, "unclosed section \"items\""};
	char buf[600], small[8];

	(void)state;
	assert_string_equal(tmpl_error_format(&e, buf, sizeof buf),
	        "body.html:12:7: unclosed section \"items\"");
	assert_string_equal(tmpl_error_format(&e, small, sizeof small), "body.ht");
}

static void test_escape_none(void **state)
{
	const char *data = "{\"x\": \"<a href=\\\"x\\\">&'</a>\"}";
	struct tmpl_error err;
	char *got;

	(void)state;
	got = render("{{x}}|{{{x}}}|{{&x}}", data, NULL, TMPL_ESCAPE_NONE, &err);
	assert_string_equal(got, "<a href=\"x\">&'</a>|<a href=\"x\">&'</a>|<a href=\"x\">&'</a>");
	free(got);
	got = render("{{x}}|{{{x}}}", data, NULL, TMPL_ESCAPE_HTML, &err);
	assert_string_equal(
	        got, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;|<a href=\"x\">&'</a>");
	free(got);
}

/* chain - partial dN includes d(N+1) until N reaches *(int *)arg */
static char *chain(const char *name, void *arg)
{
	int n = atoi(name + 1), max = *(int *)arg;
	char buf[64];

	if (n >= max)
		return strdup("end");
	snprintf(buf, sizeof buf, "{{>d%d}}", n + 1);
	return strdup(buf);
}

static void test_recursion(void **state)
{
	struct tmpl_error err;
	char msg[600];
	int max = 64;
	char *got;

	(void)state;
	got = tmpl_render("{{>d1}}", "top", NULL, chain, &max, TMPL_ESCAPE_HTML, &err);
	assert_string_equal(got, "end"); /* 64 partials nested */
	free(got);
	max = 65;
	got = tmpl_render("{{>d1}}", "top", NULL, chain, &max, TMPL_ESCAPE_HTML, &err);
	assert_null(got);
	assert_string_equal(tmpl_error_format(&err, msg, sizeof msg),
	        "d64:1:1: partials nested more than 64 deep (recursive partial?)");
	bad("a\n  {{>r}}", "{\"r\": \"x\\n{{>r}}\"}",
	        "r:2:1: partials nested more than 64 deep (recursive partial?)");
	bad("{{>r}}", "{\"r\": \"{{>r}}{{>r}}\"}",
	        "r:1:1: partials nested more than 64 deep (recursive partial?)");
	bad("{{<r}}{{/r}}", "{\"r\": \"{{<r}}{{$a}}{{/a}}{{/r}}\"}",
	        "r:1:1: partials nested more than 64 deep (recursive partial?)");
	/* a data-driven recursion ends with the data */
	ok("{{>node}}", "{\"v\": 1, \"kids\": [{\"v\": 2, \"kids\": [{\"v\": 3, \"kids\": []}]}]}",
	        "{\"node\": \"{{v}}({{#kids}}{{>node}}{{/kids}})\"}", "1(2(3()))");
	/* a block replaced by itself does not loop */
	ok("{{<p}}{{$a}}<{{$a}}x{{/a}}>{{/a}}{{/p}}", "{}", "{\"p\": \"[{{$a}}{{/a}}]\"}", "[<x>]");
}

static void test_limits(void **state)
{
	char *src, *big, *got;
	struct tmpl_error err;
	char msg[600];
	json_t *data, *list;
	size_t i;

	(void)state;
	/* nested lists: the cost limit (or the output limit) stops it */
	data = json_pack("{s:[i,i,i,i,i,i,i,i,i,i]}", "l", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	got = tmpl_render("{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}-{{/l}}{{/l}}{{/l}}"
	                  "{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}",
	        "cost", data, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_null(got);
	assert_non_null(strstr(tmpl_error_format(&err, msg, sizeof msg), "cost:1:"));
	assert_true(strstr(msg, "template too costly") || strstr(msg, "output larger than"));
	json_decref(data);

	/* output: 4 MiB at most */
	big = malloc(1001);
	memset(big, 'A', 1000);
	big[1000] = '\0';
	list = json_array();
	for (i = 0; i < 4000; i++)
		json_array_append_new(list, json_true());
	data = json_pack("{s:s,s:o}", "x", big, "l", list);
	got = tmpl_render("{{#l}}{{x}}{{/l}}", "big", data, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_non_null(got);
	assert_int_equal(strlen(got), 4000000);
	free(got);
	for (i = 0; i < 300; i++)
		json_array_append_new(list, json_true());
	got = tmpl_render("x\n {{#l}}{{x}}{{/l}}", "big", data, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_null(got);
	assert_string_equal(tmpl_error_format(&err, msg, sizeof msg),
	        "big:2:8: output larger than 4194304 bytes");
	json_decref(data);
	free(big);

	/* at most 1024 different partials in one rendering */
	list = json_array();
	for (i = 0; i < 1100; i++)
		json_array_append_new(list, json_sprintf("p%zu", i));
	data = json_pack("{s:o}", "l", list);
	got = tmpl_render(
	        "{{#l}}\n {{>*.}}\n{{/l}}", "many", data, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_null(got);
	assert_string_equal(tmpl_error_format(&err, msg, sizeof msg),
	        "many:2:2: more than 1024 different partials");
	json_decref(data);

	/* nesting deeper than the renderer allows */
	src = malloc(2000 * 12 + 1);
	src[0] = '\0';
	for (i = 0; i < 2000; i++)
		strcat(src, "{{#t}}");
	for (i = 0; i < 2000; i++)
		strcat(src, "{{/t}}");
	data = json_pack("{s:b}", "t", 1);
	got = tmpl_render(src, "deep", data, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_null(got);
	assert_string_equal(tmpl_error_format(&err, msg, sizeof msg),
	        "deep:1:6145: sections, blocks and partials nested more than 1024 deep");
	json_decref(data);
	free(src);
}

static void test_unicode(void **state)
{
	(void)state;
	ok("Olá {{name}} — 日本語 🎉 {{{name}}}\n", "{\"name\": \"José <Ñúñez> 😀\"}", NULL,
	        "Olá José &lt;Ñúñez&gt; 😀 — 日本語 🎉 José <Ñúñez> 😀\n");
	ok("{{#ñ}}{{.}}{{/ñ}}", "{\"ñ\": [\"ä\", \"€\"]}", NULL, "ä€");
	ok("«{{=« »=}}»«x»", "{\"x\": \"✓\"}", NULL, "«»✓");
}

static void test_missing_partial(void **state)
{
	struct tmpl_error err;
	char *got;

	(void)state;
	ok("[{{>nope}}]\n  {{>nope}}\n[{{>*nothing}}]", "{}", NULL, "[]\n[]");
	ok("[{{<nope}}{{$a}}x{{/a}}{{/nope}}]", "{}", NULL, "[]");
	got = tmpl_render("a{{>p}}b{{x}}", "t", NULL, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_string_equal(got, "ab"); /* no loader, no data */
	free(got);
	got = tmpl_render("", "t", NULL, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_string_equal(got, "");
	free(got);
}

static void test_values(void **state)
{
	(void)state;
	ok("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}} {{h}}",
	        "{\"a\": 1.5, \"b\": 1.10, \"c\": 2.0, \"d\": 100, \"e\": -0.25, \"f\": 1e300, "
	        "\"g\": 0.1, \"h\": -7}",
	        NULL, "1.5 1.1 2 100 -0.25 1e+300 0.1 -7");
	ok("{{t}} {{f}} [{{n}}] [{{o}}] [{{l}}]",
	        "{\"t\": true, \"f\": false, \"n\": null, \"o\": {\"a\": 1}, \"l\": [1]}", NULL,
	        "true false [] [] []");
	/* falsey: missing, null, false, "", 0, 0.0, []; truthy: the rest, {} too */
	ok("{{^m}}m{{/m}}{{^n}}n{{/n}}{{^f}}f{{/f}}{{^s}}s{{/s}}{{^z}}z{{/z}}{{^r}}r{{/r}}"
	   "{{^l}}l{{/l}}{{#o}}o{{/o}}{{#t}}t{{/t}}{{#one}}{{.}}{{/one}}",
	        "{\"n\": null, \"f\": false, \"s\": \"\", \"z\": 0, \"r\": 0.0, \"l\": [], "
	        "\"o\": {}, \"t\": \"x\", \"one\": 1}",
	        NULL, "mnfszrlot1");
	ok("{{items.1.name}} {{items.9.name}} {{#items}}{{name}}{{/items}}",
	        "{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}", NULL, "b  ab");
}

static void test_inheritance_indent(void **state)
{
	(void)state;
	/* mustache/spec #131: a block passed to a parent takes its indentation */
	ok("{{<parent}}\n        {{$block}}\n        Hello\n        {{/block}}\n{{/parent}}", "{}",
	        "{\"parent\": \"I say,\\n  {{$block}}\\n  Hi there!\\n  {{/block}}\"}",
	        "I say,\n  Hello\n");
	/* mustache/spec #135: intrinsic indentation is removed */
	ok("* a\n* b\n* {{<parent}}{{$block}}\n                {{! notice this big indent }}\n"
	   "                c{{/block}}{{/parent}}\n* d\n* e",
	        "{}", "{\"parent\": \"{{$block}}x{{/block}}\"}", "* a\n* b\n* c\n* d\n* e");
	/* a standalone partial inside an indented parent: indentations add up */
	ok("<ul>\n  {{<list}}{{$item}}\n    {{>li}}\n  {{/item}}{{/list}}\n</ul>\n",
	        "{\"items\": [\"a\", \"b\"]}",
	        "{\"list\": \"{{#items}}\\n{{$item}}\\n{{/item}}\\n{{/items}}\\n\", "
	        "\"li\": \"<li>\\n  {{.}}\\n</li>\\n\"}",
	        "<ul>\n  <li>\n    a\n  </li>\n  <li>\n    b\n  </li>\n</ul>\n");
	/* dynamic parents */
	ok("{{<*layout}}{{$body}}hi{{/body}}{{/*layout}}", "{\"layout\": \"l\"}",
	        "{\"l\": \"[{{$body}}{{/body}}]\"}", "[hi]");
}

static void test_many_nodes(void **state)
{
	char src[4096];
	size_t o;

	(void)state;
	/* the close tag adds a text node: at every size the node array grows */
	for (int n = 0; n < 140; n++) {
		o = (size_t)snprintf(src, sizeof src, "{{$b}}\n");
		for (int k = 0; k < n; k++)
			o += (size_t)snprintf(src + o, sizeof src - o, "{{x}}");
		snprintf(src + o, sizeof src - o, "end{{/b}}\n");
		char *want = malloc((size_t)n + 8);
		memset(want, '1', (size_t)n);
		strcpy(want + n, "end\n");
		ok(src, "{\"x\": 1}", NULL, want);
		free(want);
	}
}

/* Compiled partials over a JSON object of name -> text, each compiled once. */
struct pcache {
	json_t *texts;
	char *name[64];
	struct tmpl *t[64];
	size_t n;
	int compiles;
};

/* pcache_get - tmpl_resolver over a pcache */
static int pcache_get(const char *name, void *arg, const struct tmpl **out, struct tmpl_error *err)
{
	struct pcache *c = arg;
	const char *s = json_string_value(json_object_get(c->texts, name));
	struct tmpl *t;

	*out = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return *out = c->t[i], 0;
	if (!s)
		return 0;
	c->compiles++;
	if (!(t = tmpl_compile(s, name, err)))
		return -1;
	assert_true(c->n < 64);
	c->name[c->n] = strdup(name);
	c->t[c->n++] = t;
	*out = t;
	return 0;
}

/* pcache_free - release the compiled partials */
static void pcache_free(struct pcache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->name[i]);
		tmpl_free(c->t[i]);
	}
	c->n = 0;
}

/* same_as_render - t (compiled from src) renders data as tmpl_render does */
static void same_as_render(const struct tmpl *t, const char *src, const json_t *data,
        struct pcache *c, enum tmpl_escape esc, const char *want)
{
	struct tmpl_error e1, e2;
	char m1[600], m2[600];
	char *got = tmpl_render_compiled(t, data, pcache_get, c, esc, &e1);
	char *ref = tmpl_render(src, "t.mustache", data, from_object, c->texts, esc, &e2);

	if (!got || !ref)
		fail_msg("%s: %s / %s", src, got ? "" : tmpl_error_format(&e1, m1, sizeof m1),
		        ref ? "" : tmpl_error_format(&e2, m2, sizeof m2));
	assert_string_equal(got, ref);
	if (want)
		assert_string_equal(got, want);
	free(got);
	free(ref);
}

static void test_compiled(void **state)
{
	static const char *const srcs[] = {
	        /* standalone partials at two indentations, one compiled partial */
	        "{{>li}}\n    {{>li}}\n{{#items}}\n  {{>li}}\n{{/items}}",
	        /* a partial's delimiters end with it */
	        "[{{>delims}}|{{name}}|{{>delims}}]",
	        /* dynamic names: another partial for other data */
	        "{{>*which}} and {{>*which}}\n",
	        /* a parent with overrides, and its blocks' own content */
	        "{{<layout}}{{$body}}<{{name}}>{{/body}}{{/layout}}|{{<layout}}{{/layout}}",
	        /* a parent through a dynamic name inside a standalone partial */
	        "  {{>wrap}}\n",
	};
	static const char *const datas[] = {
	        "{\"name\": \"Ann & Bo\", \"items\": [1, 2], \"which\": \"li\", \"kind\": "
	        "\"layout\"}",
	        "{\"name\": \"Cy\", \"items\": [], \"which\": \"delims\", \"kind\": \"layout\"}",
	        "{\"name\": \"Di\", \"items\": [\"x\"], \"which\": \"none\"}",
	};
	struct pcache c = {0};
	struct tmpl_error err;
	json_t *data;

	(void)state;
	c.texts = json_pack("{s:s,s:s,s:s,s:s}", "li", "<{{name}}>\n- {{.}}\n", "delims",
	        "{{=<% %>=}}<%name%>{{name}}", "layout",
	        "({{$body}}default{{/body}})\n  {{$body}}x{{/body}}\n", "wrap",
	        "{{<*kind}}{{$body}}\n{{name}}\n{{/body}}{{/*kind}}");
	for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
		struct tmpl *t = tmpl_compile(srcs[i], "t.mustache", &err);
		assert_non_null(t);
		assert_string_equal(tmpl_source(t), srcs[i]);
		for (int round = 0; round < 20; round++) {
			data = json_loads(datas[round % 3], 0, NULL);
			same_as_render(t, srcs[i], data, &c, TMPL_ESCAPE_HTML, NULL);
			same_as_render(t, srcs[i], data, &c, TMPL_ESCAPE_NONE, NULL);
			json_decref(data);
		}
		tmpl_free(t);
	}
	assert_int_equal(c.compiles, 4); /* each partial compiled once for all */
	data = json_loads(datas[0], 0, NULL);
	struct tmpl *t = tmpl_compile(srcs[0], "t.mustache", &err);
	same_as_render(t, srcs[0], data, &c, TMPL_ESCAPE_HTML,
	        "<Ann &amp; Bo>\n- \n    <Ann &amp; Bo>\n    - \n  <Ann &amp; Bo>\n  - 1\n"
	        "  <Ann &amp; Bo>\n  - 2\n");
	tmpl_free(t);
	t = tmpl_compile(srcs[1], "t.mustache", &err);
	same_as_render(t, srcs[1], data, &c, TMPL_ESCAPE_NONE,
	        "[Ann & Bo{{name}}|Ann & Bo|Ann & Bo{{name}}]");
	tmpl_free(t);
	json_decref(data);
	tmpl_free(NULL);
	pcache_free(&c);
	json_decref(c.texts);
}

static void test_compiled_errors(void **state)
{
	struct pcache c = {0};
	struct tmpl_error err;
	struct tmpl *t;
	char msg[600], *got;

	(void)state;
	assert_null(tmpl_compile("a\n {{#x}}\n", "body.txt", &err));
	assert_string_equal(
	        tmpl_error_format(&err, msg, sizeof msg), "body.txt:2:2: unclosed section \"x\"");
	/* a partial's error names it, every time it is used, only when it is */
	c.texts = json_pack("{s:s}", "p", "one\n two {{/x}}");
	assert_non_null(t = tmpl_compile("{{#show}}{{>p}}{{/show}}ok", "top", &err));
	for (int i = 0; i < 3; i++) {
		json_t *data = json_pack("{s:b}", "show", i == 1);
		got = tmpl_render_compiled(t, data, pcache_get, &c, TMPL_ESCAPE_HTML, &err);
		if (i == 1) {
			assert_null(got);
			assert_string_equal(tmpl_error_format(&err, msg, sizeof msg),
			        "p:2:6: close tag \"x\" without an open section");
		} else {
			assert_string_equal(got, "ok");
		}
		free(got);
		json_decref(data);
	}
	/* no resolver: partials are empty */
	got = tmpl_render_compiled(t, NULL, NULL, NULL, TMPL_ESCAPE_HTML, &err);
	assert_string_equal(got, "ok");
	free(got);
	tmpl_free(t);
	pcache_free(&c);
	json_decref(c.texts);
}

/* run_spec - one spec file's cases, compiled; adds to *cases */
static void run_spec(const char *path, int *cases)
{
	json_t *spec = json_load_file(path, 0, NULL), *tc;
	size_t i;

	assert_non_null(spec);
	json_array_foreach(json_object_get(spec, "tests"), i, tc)
	{
		const char *src = json_string_value(json_object_get(tc, "template"));
		const char *want = json_string_value(json_object_get(tc, "expected"));
		json_t *none = json_object(), *p = json_object_get(tc, "partials");
		struct pcache c = {.texts = p ? p : none};
		struct tmpl_error err;
		struct tmpl *t = tmpl_compile(src, "template", &err);

		assert_non_null(t);
		for (int round = 0; round < 3; round++) { /* partials reused */
			char *got = tmpl_render_compiled(t, json_object_get(tc, "data"), pcache_get,
			        &c, TMPL_ESCAPE_HTML, &err);
			if (!got || strcmp(got, want) != 0)
				fail_msg("%s: %s: got \"%s\"", path,
				        json_string_value(json_object_get(tc, "name")), got);
			free(got);
		}
		tmpl_free(t);
		pcache_free(&c);
		json_decref(none);
		(*cases)++;
	}
	json_decref(spec);
}

static void test_spec_compiled(void **state)
{
	const char *dir = getenv("SPOOLD_TEST_DATA");
	char pattern[4096];
	int cases = 0;
	glob_t g;

	(void)state;
	snprintf(pattern, sizeof pattern, "%s/mustache-spec/*.json", dir ? dir : "tests/data");
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (!strstr(g.gl_pathv[i], "~lambdas"))
			run_spec(g.gl_pathv[i], &cases);
	globfree(&g);
	assert_true(cases > 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_error_format),
	        cmocka_unit_test(test_escape_none),
	        cmocka_unit_test(test_recursion),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_unicode),
	        cmocka_unit_test(test_missing_partial),
	        cmocka_unit_test(test_values),
	        cmocka_unit_test(test_inheritance_indent),
	        cmocka_unit_test(test_many_nodes),
	        cmocka_unit_test(test_compiled),
	        cmocka_unit_test(test_compiled_errors),
	        cmocka_unit_test(test_spec_compiled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
