/*
 * tmpl - Mustache, the whole specification: variables (HTML-escaped or
 * not), triple mustache and &, dotted names, the implicit iterator,
 * sections over lists, objects and booleans, inverted sections, comments,
 * partials with standalone indentation, set delimiters, and the optional
 * inheritance (blocks {{$ }}, parents {{< }}) and dynamic names ({{>* }})
 * modules.  Lambdas do not apply (data is JSON).
 *
 * The data is a jansson value (borrowed).  Partials and parents are
 * loaded by name through a caller's function, which returns malloc'ed
 * text (or NULL: an empty partial, as the specification says).  The
 * result is malloc'ed; free() it.  On a template error (unclosed section,
 * mismatched close, bad delimiter, ...) the result is NULL and err names
 * the template, line and column.  Pure apart from the loader; no globals.
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

/* tmpl_loader - malloc'ed text of the partial or parent called name, or NULL */
typedef char *(*tmpl_loader)(const char *name, void *arg);

enum tmpl_escape {
	TMPL_ESCAPE_HTML, /* {{x}} escapes & < > " ' (the specification's default) */
	TMPL_ESCAPE_NONE, /* plain text output (subjects, text bodies): nothing escaped */
};

/* tmpl_render - render src (named srcname in errors) with data */
char *tmpl_render(const char *src, const char *srcname, const json_t *data, tmpl_loader load,
	void *arg, enum tmpl_escape esc, struct tmpl_error *err);
/* tmpl_error_format - "FILE:LINE:COL: MSG" into buf */
char *tmpl_error_format(const struct tmpl_error *e, char *buf, size_t len);

#endif
