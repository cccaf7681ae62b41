/*
 * tmpl_int - the parsed form of a Mustache template, shared by tmpl_parse.c
 * (which builds it) and tmpl.c (which renders it); not an API.
 *
 * A template is an array of nodes linked by index: nodes[0] is the root,
 * each container (section, inverted section, parent, block) has a first
 * and last child, and every node a next sibling (-1 ends a list).  Text
 * and indentation strings live in the template's own text buffer, already
 * trimmed for standalone lines and block outdentation; names are ranges
 * of the source, which the template keeps.  Nothing in a template depends
 * on where it is used, and rendering only reads it (struct tmpl, the
 * public compiled form, is a template owning its source; tmpl_doc.c).
 */
#ifndef SPOOLD_TMPL_INT_H
#define SPOOLD_TMPL_INT_H

#include <stddef.h>

#include "tmpl.h"

enum tnode_type {
	TN_ROOT,
	TN_TEXT,     /* literal text */
	TN_VAR,      /* {{name}}: escaped */
	TN_RAW,      /* {{{name}}}, {{&name}}: never escaped */
	TN_SECTION,  /* {{#name}} */
	TN_INVERTED, /* {{^name}} */
	TN_PARTIAL,  /* {{>name}}, {{>*name}} */
	TN_PARENT,   /* {{<name}}: its children are the argument blocks */
	TN_BLOCK,    /* {{$name}} */
};

struct tnode {
	int type;      /* enum tnode_type */
	int dyn;       /* PARTIAL, PARENT: the name is a dynamic name (a data path) */
	int kid, last; /* first and last child, -1 when none */
	int next;      /* next sibling, -1 at the end */
	size_t tag;    /* offset in src of the tag (of the text for TEXT) */
	size_t a, n;   /* TEXT: range in text; other nodes: the name in src */
	size_t ia, in; /* indentation, a range in text: PARTIAL and PARENT when
	                * standalone, BLOCK for the content that replaces it */
};

struct tdoc {
	char *name;          /* owned: srcname or the partial's name */
	char *own;           /* owned source, or NULL when src is borrowed */
	const char *src;     /* the template source */
	size_t len;          /* strlen(src) */
	char *text;          /* text and indentation, owned */
	size_t tlen, tcap;   /* used and allocated bytes of text */
	struct tnode *nodes; /* nodes[0] is the root */
	size_t nnodes, ncap; /* used and allocated nodes */
};

/* A compiled template: a parsed template that owns its source and name. */
struct tmpl {
	struct tdoc doc;
};

/* tmpl_parse - parse d->src into d's nodes; 0 ok, -1 with err set */
int tmpl_parse(struct tdoc *d, struct tmpl_error *err);
/* tmpl_doc_free - release everything d owns (not d itself) */
void tmpl_doc_free(struct tdoc *d);
/* tmpl_doc_new - parse src, named name in errors; own is src when it is
 * malloc'ed and handed over (freed on failure too), NULL when src is
 * borrowed for the template's life; NULL with err set */
struct tmpl *tmpl_doc_new(const char *src, char *own, const char *name, struct tmpl_error *err);
/* tmpl_set_error - fill err with d's name, the line and column of src
 * offset off, and the formatted message */
void tmpl_set_error(struct tmpl_error *err, const struct tdoc *d, size_t off, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif
