/*
 * fuzz_tmpl - libFuzzer target for tmpl_render and compiled templates.
 *
 * The input is a template, optionally followed by a NUL byte and JSON data
 * (fixed data when there is none or it does not parse).  Odd-sized inputs
 * render with TMPL_ESCAPE_NONE, even-sized ones with TMPL_ESCAPE_HTML.
 * The loader serves fixed partials and parents, recursive ones among them,
 * and "self", the fuzzed template itself.  Checked: a result or a complete
 * error (file, line and column inside the template, message), never more
 * than 4 MiB of output, and the same result or error again from
 * tmpl_compile and tmpl_render_compiled, with the partials compiled once
 * for every input; the sanitizers and the leak checker do the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_data[] =
        "{\"name\": \"Jane <\\\"O'Neil\\\"> & co\", \"n\": 3, \"r\": 1.21, \"t\": true,"
        " \"f\": false, \"z\": null, \"e\": \"\", \"list\": [1, \"two\", {\"name\": \"x\"}, [], "
        "4.5],"
        " \"nested\": {\"a\": {\"b\": {\"c\": \"deep\"}}, \"list\": [{\"k\": 1}, {\"k\": 2}]},"
        " \"dyn\": \"a\", \"rdyn\": \"rec\", \"selfdyn\": \"self\", \"nodes\": [{\"nodes\": []}],"
        " \"text\": \"line1\\nline2\\n\", \"uni\": \"Jos\\u00e9 \\u65e5\\u672c \\ud83d\\ude00\"}";

struct ctx {
	const char *self;    /* the fuzzed template */
	struct tmpl *self_t; /* compiled when used */
};

static const char *const partials[][2] = {
        {"a", "[{{name}}|{{{name}}}]"},
        {"ind", "  {{>a}}\n{{text}}\n  {{>b}}\n"},
        {"b", "{{#list}}\n  - {{.}}\n{{/list}}\n"},
        {"rec", "{{#nodes}}<{{>rec}}>{{/nodes}}"},
        {"loop", "{{>loop}}"},
        {"twice", "x{{>twice}}{{>twice}}"},
        {"dyn", "{{>*dyn}}{{>*rdyn}}"},
        {"layout", "<h1>{{$title}}T{{/title}}</h1>\n  {{$body}}\n  body\n  {{/body}}\n"},
        {"parent", "{{$b}}default{{/b}} {{<parent}}{{$b}}x{{/b}}{{/parent}}"},
        {"child", "{{<layout}}\n{{$title}}{{name}}{{/title}}\n  {{$body}}\n    {{>ind}}\n"
                  "  {{/body}}\n{{/layout}}\n"},
        {"bad", "ok\n  {{#unclosed}}"},
        {"delims", "{{=<% %>=}}<%name%> <%#list%>.<%/list%>"},
        {NULL, NULL},
};

/* load - fixed partials, and "self" */
static char *load(const char *name, void *arg)
{
	const struct ctx *c = arg;

	if (strcmp(name, "self") == 0)
		return strdup(c->self);
	for (size_t i = 0; partials[i][0]; i++)
		if (strcmp(name, partials[i][0]) == 0)
			return strdup(partials[i][1]);
	return NULL;
}

/* The fixed partials, compiled when first used, kept for all inputs. */
static struct tmpl *compiled[sizeof partials / sizeof *partials];

/* resolve - the fixed partials and "self", compiled */
static int resolve(const char *name, void *arg, const struct tmpl **out, struct tmpl_error *err)
{
	struct ctx *c = arg;

	*out = NULL;
	if (strcmp(name, "self") == 0) {
		if (!c->self_t && !(c->self_t = tmpl_compile(c->self, "self", err)))
			return -1;
		*out = c->self_t;
		return 0;
	}
	for (size_t i = 0; partials[i][0]; i++) {
		if (strcmp(name, partials[i][0]) != 0)
			continue;
		if (!compiled[i] && !(compiled[i] = tmpl_compile(partials[i][1], name, err)))
			return -1;
		*out = compiled[i];
		return 0;
	}
	return 0;
}

/* same_again - the compiled path gives out, or err when out is NULL */
static void same_again(const char *src, const json_t *json, struct ctx *c, enum tmpl_escape esc,
        const char *out, const struct tmpl_error *err)
{
	struct tmpl_error e2;
	struct tmpl *t = tmpl_compile(src, "fuzz", &e2);
	char *again = t ? tmpl_render_compiled(t, json, resolve, c, esc, &e2) : NULL;
	int same;

	if (out)
		same = again && strcmp(out, again) == 0;
	else
		same = !again && strcmp(err->file, e2.file) == 0 && err->line == e2.line &&
		       err->col == e2.col && strcmp(err->msg, e2.msg) == 0;
	if (!same) {
		fprintf(stderr, "compiled: %s:%d:%d: %s\n", e2.file, e2.line, e2.col, e2.msg);
		abort();
	}
	free(again);
	tmpl_free(t);
	tmpl_free(c->self_t);
	c->self_t = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *src = malloc(tlen + 1), *out;
	json_t *json = NULL;
	struct tmpl_error err;
	struct ctx c;

	if (!src)
		return 0;
	memcpy(src, data, tlen);
	src[tlen] = '\0';
	if (nul)
		json = json_loadb((const char *)nul + 1, size - tlen - 1, JSON_DECODE_ANY, NULL);
	if (!json)
		json = json_loads(fixed_data, 0, NULL);
	c.self = src;
	c.self_t = NULL;
	out = tmpl_render(
	        src, "fuzz", json, load, &c, size % 2 ? TMPL_ESCAPE_NONE : TMPL_ESCAPE_HTML, &err);
	same_again(src, json, &c, size % 2 ? TMPL_ESCAPE_NONE : TMPL_ESCAPE_HTML, out, &err);
	if (out) {
		if (strlen(out) > 4 * 1024 * 1024)
			abort();
		free(out);
	} else if (err.line < 1 || err.col < 1 || !err.file[0] || !err.msg[0]) {
		fprintf(stderr, "incomplete error: %s:%d:%d: %s\n", err.file, err.line, err.col,
		        err.msg);
		abort();
	} else if (strcmp(err.file, "fuzz") == 0 && err.line == 1 && (size_t)err.col > tlen + 1) {
		fprintf(stderr, "column %d beyond the template\n", err.col);
		abort();
	}
	json_decref(json);
	free(src);
	return 0;
}
