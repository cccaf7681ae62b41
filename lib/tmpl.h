/*
 * tmpl - Mustache, the whole specification: variables (HTML-escaped or
 * not), triple mustache and &, dotted names, the implicit iterator,
 * sections over lists, objects and booleans, inverted sections, comments,
 * partials with standalone indentation, set delimiters, and the optional
 * inheritance (blocks {{$ }}, parents {{< }}) and dynamic names ({{>* }})
 * modules.  Lambdas do not apply (data is JSON).
 *
 * The data is a jansson value (borrowed).  The result is malloc'ed; free()
 * it.  On a template error (unclosed section, mismatched close, bad
 * delimiter, ...) the result is NULL and err names the template, line and
 * column.  Pure apart from the loader or resolver; no globals.
 *
 * Two ways to render.  tmpl_render parses the text on every call and loads
 * partials and parents by name through a caller's function that returns
 * malloc'ed text (or NULL: an empty partial, as the specification says).
 * tmpl_compile parses once; tmpl_render_compiled renders the result any
 * number of times, taking partials and parents already compiled from a
 * caller's resolver (which may keep them in a cache).  A compiled template
 * does not depend on where it is used: every template starts with the
 * default delimiters, and standalone indentation, block overrides and
 * dynamic names are applied while rendering; so one compiled partial serves
 * every call site, and rendering never changes it.
 */
#ifndef SPOOLD_TMPL_H
#define SPOOLD_TMPL_H

#include <jansson.h>
#include <stddef.h>

struct tmpl_error {
	char file[256]; /* the template's name (or the partial's) */
	int line;       /* 1-based */
	int col;        /* 1-based, in bytes */
	char msg[256];  /* "unclosed section \"items\"" */
};

/* A compiled template (tmpl_compile). */
struct tmpl;

/* tmpl_loader - malloc'ed text of the partial or parent called name, or NULL */
typedef char *(*tmpl_loader)(const char *name, void *arg);
/* tmpl_resolver - the compiled partial or parent called name in *out (NULL:
 * none, an empty partial), owned by the caller and unchanged until the
 * rendering returns; 0, or -1 with err set to fail the rendering.  Called
 * at most once per name in one rendering. */
typedef int (*tmpl_resolver)(
        const char *name, void *arg, const struct tmpl **out, struct tmpl_error *err);

enum tmpl_escape {
	TMPL_ESCAPE_HTML, /* {{x}} escapes & < > " ' (the specification's default) */
	TMPL_ESCAPE_NONE, /* plain text output (subjects, text bodies): nothing escaped */
};

/* tmpl_render - render src (named srcname in errors) with data */
char *tmpl_render(const char *src, const char *srcname, const json_t *data, tmpl_loader load,
        void *arg, enum tmpl_escape esc, struct tmpl_error *err);
/* tmpl_compile - parse src (copied; named srcname in errors); NULL with err set */
struct tmpl *tmpl_compile(const char *src, const char *srcname, struct tmpl_error *err);
/* tmpl_render_compiled - render t with data, partials and parents from resolve
 * (NULL: none) */
char *tmpl_render_compiled(const struct tmpl *t, const json_t *data, tmpl_resolver resolve,
        void *arg, enum tmpl_escape esc, struct tmpl_error *err);
/* tmpl_source - the text t was compiled from */
const char *tmpl_source(const struct tmpl *t);
/* tmpl_free - release t; NULL is fine */
void tmpl_free(struct tmpl *t);
/* tmpl_error_format - "FILE:LINE:COL: MSG" into buf */
char *tmpl_error_format(const struct tmpl_error *e, char *buf, size_t len);

#endif
