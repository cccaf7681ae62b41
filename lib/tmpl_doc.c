/*
 * tmpl_doc - compiled templates (struct tmpl, tmpl_int.h): making one from
 * text, its source, releasing it, and the text of template errors.  The
 * parsing itself is tmpl_parse.c's, the rendering tmpl.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "tmpl_int.h"

/* no_memory - an allocation failure for the template called name */
static void no_memory(struct tmpl_error *err, const char *name)
{
	if (!err)
		return;
	snprintf(err->file, sizeof err->file, "%s", name ? name : "");
	err->line = err->col = 1;
	snprintf(err->msg, sizeof err->msg, "out of memory");
}

/* tmpl_doc_new - a parsed template of src */
struct tmpl *tmpl_doc_new(const char *src, char *own, const char *name, struct tmpl_error *err)
{
	struct tmpl *t = calloc(1, sizeof *t);

	if (!t || !(t->doc.name = strdup(name ? name : ""))) {
		no_memory(err, name);
		free(own);
		free(t);
		return NULL;
	}
	t->doc.own = own;
	t->doc.src = src ? src : "";
	t->doc.len = strlen(t->doc.src);
	if (tmpl_parse(&t->doc, err) == 0)
		return t;
	tmpl_free(t);
	return NULL;
}

/* tmpl_compile - parse a copy of src */
struct tmpl *tmpl_compile(const char *src, const char *srcname, struct tmpl_error *err)
{
	char *copy = strdup(src ? src : "");

	if (err)
		memset(err, 0, sizeof *err);
	if (!copy) {
		no_memory(err, srcname);
		return NULL;
	}
	return tmpl_doc_new(copy, copy, srcname, err);
}

/* tmpl_source - the text t was compiled from */
const char *tmpl_source(const struct tmpl *t)
{
	return t->doc.src;
}

/* tmpl_free - release t and what it owns */
void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	tmpl_doc_free(&t->doc);
	free(t);
}

/* tmpl_error_format - "FILE:LINE:COL: MSG" */
char *tmpl_error_format(const struct tmpl_error *e, char *buf, size_t len)
{
	if (len > 0)
		snprintf(buf, len, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
	return buf;
}
