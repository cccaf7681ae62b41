/*
 * tmpl - render parsed Mustache templates (tmpl_parse.c) with JSON data;
 * see tmpl.h.
 *
 * Names: "." is the top of the context stack; "a.b.c" finds "a" in the
 * innermost context object that has it, then "b" and "c" only inside what
 * was found (an array takes a decimal index).  Falsey, for sections and
 * inverted sections: a missing name, null, false, "", 0 and the empty
 * array; a list repeats its section once per element, any other truthy
 * value is pushed for one pass.  Interpolation: strings as they are,
 * integers in decimal, reals in the shortest form that reads back the
 * same (1.21, 1.1, 2), true and false, and nothing for null, objects and
 * arrays.
 *
 * Partials and parents are looked up once per call, by name: compiled by
 * the caller's resolver (tmpl_render_compiled), or parsed from the text of
 * the caller's loader (tmpl_render) and kept until the end; a missing one
 * is an empty template of that name.  Blocks take their replacement from
 * the outermost parent call that passes one; a replacement is rendered
 * where it is used, with the overrides of the template that wrote it.
 * Indentation (standalone partials, parents, blocks) is written before
 * each non-empty line of template text, never inside interpolated values.
 *
 * Limits keep hostile templates and data cheap: partials and parents
 * nested TMPL_DEPTH_MAX deep, anything nested TMPL_NEST_MAX deep,
 * TMPL_STEPS_MAX rendering steps, TMPL_DOCS_MAX different partials and
 * TMPL_OUT_MAX bytes of output (indentation included).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "tmpl_int.h"

#define TMPL_DEPTH_MAX 64              /* partials and parents */
#define TMPL_NEST_MAX 1024             /* sections, blocks, partials together */
#define TMPL_STEPS_MAX 4000000L        /* nodes rendered and list elements */
#define TMPL_OUT_MAX (4 * 1024 * 1024) /* bytes of output */
#define TMPL_DOCS_MAX 1024             /* different partials and parents */

struct buf {
	char *s;
	size_t len, cap;
};

/* An argument list in force: the arguments of parent node parent in d. */
struct ov {
	const struct tdoc *d;
	int parent;
	const struct ov *outer; /* the overrides in force where the parent tag is */
};

/* A partial or parent used in this rendering. */
struct used {
	size_t name;          /* offset of its name in rs.names */
	const struct tdoc *d; /* its template */
	struct tmpl *own;     /* the template, when this rendering made it */
};

struct rs {
	tmpl_loader load;      /* the text of partials and parents, or NULL: */
	tmpl_resolver resolve; /* their compiled form, or NULL: none */
	void *arg;
	enum tmpl_escape esc;
	struct tmpl_error *err;
	struct buf out, ind; /* the output; the indentation in force */
	int bol;             /* at the start of a line of template text */
	const json_t **ctx;  /* the context stack */
	size_t nctx, cctx;
	struct used *used; /* partials and parents looked up so far */
	size_t nused, cused;
	struct buf names; /* their names, each ending in a NUL */
	int depth, nest;
	long steps;
};

/* buf_add - append n bytes; -1 when out of memory */
static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->s, cap)))
			return -1;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/* out - append to the output within the size limit */
static int out(struct rs *r, const struct tdoc *d, size_t tag, const char *s, size_t n)
{
	if (n > TMPL_OUT_MAX - r->out.len) {
		tmpl_set_error(r->err, d, tag, "output larger than %d bytes", TMPL_OUT_MAX);
		return -1;
	}
	if (buf_add(&r->out, s, n)) {
		tmpl_set_error(r->err, d, tag, "out of memory");
		return -1;
	}
	return 0;
}

/* put_text - template text: indentation before each non-empty line */
static int put_text(struct rs *r, const struct tdoc *d, size_t tag, const char *s, size_t n)
{
	while (n > 0) {
		const char *nl;
		size_t k;
		if (r->bol && r->ind.len > 0 && s[0] != '\n' &&
		        !(s[0] == '\r' && n > 1 && s[1] == '\n') &&
		        out(r, d, tag, r->ind.s, r->ind.len))
			return -1;
		nl = memchr(s, '\n', n);
		k = nl ? (size_t)(nl - s) + 1 : n;
		if (out(r, d, tag, s, k))
			return -1;
		r->bol = nl != NULL;
		s += k;
		n -= k;
	}
	return 0;
}

/* put_value - an interpolated value, HTML-escaped when esc */
static int put_value(
        struct rs *r, const struct tdoc *d, size_t tag, const char *s, size_t n, int esc)
{
	size_t i, from = 0;

	if (n == 0)
		return 0;
	if (r->bol && r->ind.len > 0 && out(r, d, tag, r->ind.s, r->ind.len))
		return -1;
	r->bol = 0;
	for (i = 0; esc && i < n; i++) {
		const char *e;
		switch (s[i]) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			continue;
		}
		if (out(r, d, tag, s + from, i - from) || out(r, d, tag, e, strlen(e)))
			return -1;
		from = i + 1;
	}
	return out(r, d, tag, s + from, n - from);
}

/* fmt_real - the shortest decimal form of v that reads back as v */
static void fmt_real(double v, char *buf, size_t len)
{
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
		snprintf(buf, len, "%lld", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	for (char *p = buf; *p; p++) /* a locale's decimal comma */
		if (*p == ',')
			*p = '.';
}

/* scalar - the text of a value for interpolation; NULL when it has none */
static const char *scalar(const json_t *v, char *buf, size_t len, size_t *n)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		*n = json_string_length(v);
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fmt_real(json_real_value(v), buf, len);
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	default:
		return NULL;
	}
	*n = strlen(buf);
	return buf;
}

/* member - part p (n bytes) of a dotted name inside v, or NULL */
static const json_t *member(const json_t *v, const char *p, size_t n)
{
	size_t i, k = 0;

	if (json_is_object(v))
		return json_object_getn(v, p, n);
	if (!json_is_array(v) || n == 0 || n > 9)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return NULL;
		k = k * 10 + (size_t)(p[i] - '0');
	}
	return json_array_get(v, k);
}

/* lookup - resolve a name against the context stack; NULL when missing */
static const json_t *lookup(const struct rs *r, const char *name, size_t n)
{
	const char *dot = memchr(name, '.', n);
	size_t first = dot ? (size_t)(dot - name) : n, k;
	const json_t *v = NULL;

	if (n == 1 && name[0] == '.')
		return r->nctx ? r->ctx[r->nctx - 1] : NULL;
	for (k = r->nctx; k-- > 0 && !v;)
		if (json_is_object(r->ctx[k]))
			v = json_object_getn(r->ctx[k], name, first);
	while (v && dot) {
		const char *p = dot + 1, *e = name + n;
		dot = memchr(p, '.', (size_t)(e - p));
		v = member(v, p, (size_t)((dot ? dot : e) - p));
	}
	return v;
}

/* truthy - whether a section shows */
static int truthy(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
	case JSON_FALSE:
		return 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	default:
		return 1;
	}
}

/* push_ctx - push v onto the context stack */
static int push_ctx(struct rs *r, const struct tdoc *d, size_t tag, const json_t *v)
{
	if (r->nctx == r->cctx) {
		size_t cap = r->cctx ? r->cctx * 2 : 16;
		const json_t **p = realloc(r->ctx, cap * sizeof *p);
		if (!p) {
			tmpl_set_error(r->err, d, tag, "out of memory");
			return -1;
		}
		r->ctx = p;
		r->cctx = cap;
	}
	r->ctx[r->nctx++] = v;
	return 0;
}

/* get_doc - the partial or parent called name (an empty template when there
 * is none); NULL with the error set */
static const struct tdoc *get_doc(struct rs *r, const char *name, const struct tdoc *d, size_t tag)
{
	const struct tmpl *t = NULL;
	size_t n = strlen(name);
	struct used *u;

	for (size_t i = 0; i < r->nused; i++)
		if (strcmp(r->names.s + r->used[i].name, name) == 0)
			return r->used[i].d;
	if (r->nused == TMPL_DOCS_MAX) {
		tmpl_set_error(r->err, d, tag, "more than %d different partials", TMPL_DOCS_MAX);
		return NULL;
	}
	if (r->nused == r->cused) {
		size_t cap = r->cused ? r->cused * 2 : 8;
		struct used *p = realloc(r->used, cap * sizeof *p);
		if (!p)
			goto oom;
		r->used = p;
		r->cused = cap;
	}
	if (buf_add(&r->names, name, n + 1))
		goto oom;
	u = &r->used[r->nused];
	u->name = r->names.len - n - 1;
	u->own = NULL;
	if (r->resolve && r->resolve(name, r->arg, &t, r->err) < 0) {
		if (r->err && !r->err->msg[0])
			tmpl_set_error(r->err, d, tag, "cannot load \"%.60s\"", name);
		return NULL;
	}
	if (!t) {
		char *text = r->load ? r->load(name, r->arg) : NULL;
		if (!(u->own = tmpl_doc_new(text, text, name, r->err)))
			return NULL;
		t = u->own;
	}
	u->d = &t->doc;
	r->nused++;
	return u->d;
oom:
	tmpl_set_error(r->err, d, tag, "out of memory");
	return NULL;
}

static int render(struct rs *r, const struct tdoc *d, int i, const struct ov *ov);

/* render_in - render the whole of template t, indented by ind in d->text */
static int render_in(struct rs *r, const struct tdoc *d, const struct tnode *nd,
        const struct tdoc *t, int first, const struct ov *ov)
{
	size_t saved = r->ind.len;
	int rc;

	if (nd->in > TMPL_OUT_MAX - r->ind.len) {
		tmpl_set_error(r->err, d, nd->tag, "output larger than %d bytes", TMPL_OUT_MAX);
		return -1;
	}
	if (nd->in > 0 && buf_add(&r->ind, d->text + nd->ia, nd->in)) {
		tmpl_set_error(r->err, d, nd->tag, "out of memory");
		return -1;
	}
	rc = render(r, t, first, ov);
	r->ind.len = saved;
	return rc;
}

/* include - a partial or a parent: load, parse and render it */
static int include(struct rs *r, const struct tdoc *d, int i, const struct ov *ov)
{
	const struct tnode *nd = &d->nodes[i];
	struct ov args = {d, i, ov};
	char name[1024], buf[64];
	const char *s = d->src + nd->a;
	size_t n = nd->n;
	const struct tdoc *t;
	int rc;

	if (nd->dyn && !(s = scalar(lookup(r, s, n), buf, sizeof buf, &n)))
		return 0;
	if (n >= sizeof name || memchr(s, '\0', n))
		return 0; /* no such template */
	memcpy(name, s, n);
	name[n] = '\0';
	if (r->depth >= TMPL_DEPTH_MAX) {
		tmpl_set_error(r->err, d, nd->tag,
		        "partials nested more than %d deep (recursive partial?)", TMPL_DEPTH_MAX);
		return -1;
	}
	if (!(t = get_doc(r, name, d, nd->tag)))
		return -1;
	r->depth++;
	rc = render_in(r, d, nd, t, t->nodes[0].kid, nd->type == TN_PARENT ? &args : ov);
	r->depth--;
	return rc;
}

/* block - a {{$name}}: the outermost replacement in force, else its own content */
static int block(struct rs *r, const struct tdoc *d, int i, const struct ov *ov)
{
	const struct tnode *nd = &d->nodes[i];
	const struct ov *found = NULL;
	int arg = -1;

	for (const struct ov *o = ov; o; o = o->outer) {
		for (int k = o->d->nodes[o->parent].kid; k >= 0; k = o->d->nodes[k].next) {
			const struct tnode *b = &o->d->nodes[k];
			if (b->n == nd->n && memcmp(o->d->src + b->a, d->src + nd->a, nd->n) == 0) {
				found = o;
				arg = k;
			}
		}
	}
	if (!found)
		return render(r, d, nd->kid, ov);
	return render_in(r, d, nd, found->d, found->d->nodes[arg].kid, found->outer);
}

/* section - {{#name}} and {{^name}} */
static int section(struct rs *r, const struct tdoc *d, int i, const struct ov *ov)
{
	const struct tnode *nd = &d->nodes[i];
	const json_t *v = lookup(r, d->src + nd->a, nd->n);
	size_t k, n;
	int rc = 0;

	if (nd->type == TN_INVERTED)
		return truthy(v) ? 0 : render(r, d, nd->kid, ov);
	if (!truthy(v))
		return 0;
	n = json_is_array(v) ? json_array_size(v) : 1;
	for (k = 0; k < n && rc == 0; k++) {
		if (++r->steps > TMPL_STEPS_MAX) {
			tmpl_set_error(r->err, d, nd->tag,
			        "template too costly: more than %ld steps", TMPL_STEPS_MAX);
			return -1;
		}
		if (push_ctx(r, d, nd->tag, json_is_array(v) ? json_array_get(v, k) : v))
			return -1;
		rc = render(r, d, nd->kid, ov);
		r->nctx--;
	}
	return rc;
}

/* render - the nodes of d from i on, siblings in order */
static int render(struct rs *r, const struct tdoc *d, int i, const struct ov *ov)
{
	char buf[64];
	int rc = 0;

	if (++r->nest > TMPL_NEST_MAX) {
		tmpl_set_error(r->err, d, i >= 0 ? d->nodes[i].tag : 0,
		        "sections, blocks and partials nested more than %d deep", TMPL_NEST_MAX);
		return -1;
	}
	for (; i >= 0 && rc == 0; i = d->nodes[i].next) {
		const struct tnode *nd = &d->nodes[i];
		const char *s;
		size_t n;
		if (++r->steps > TMPL_STEPS_MAX) {
			tmpl_set_error(r->err, d, nd->tag,
			        "template too costly: more than %ld steps", TMPL_STEPS_MAX);
			rc = -1;
			break;
		}
		switch (nd->type) {
		case TN_TEXT:
			rc = put_text(r, d, nd->tag, d->text + nd->a, nd->n);
			break;
		case TN_VAR:
		case TN_RAW:
			s = scalar(lookup(r, d->src + nd->a, nd->n), buf, sizeof buf, &n);
			if (s)
				rc = put_value(r, d, nd->tag, s, n,
				        nd->type == TN_VAR && r->esc == TMPL_ESCAPE_HTML);
			break;
		case TN_SECTION:
		case TN_INVERTED:
			rc = section(r, d, i, ov);
			break;
		case TN_PARTIAL:
		case TN_PARENT:
			rc = include(r, d, i, ov);
			break;
		case TN_BLOCK:
			rc = block(r, d, i, ov);
			break;
		}
	}
	r->nest--;
	return rc;
}

/* render_top - render top with data, then release r; the result or NULL */
static char *render_top(struct rs *r, const struct tdoc *top, const json_t *data)
{
	char *res = NULL;

	if ((!data || push_ctx(r, top, 0, data) == 0) &&
	        render(r, top, top->nodes[0].kid, NULL) == 0 && out(r, top, 0, "", 0) == 0) {
		res = r->out.s;
		r->out.s = NULL;
	}
	for (size_t i = 0; i < r->nused; i++)
		tmpl_free(r->used[i].own);
	free(r->used);
	free(r->names.s);
	free(r->ctx);
	free(r->out.s);
	free(r->ind.s);
	return res;
}

/* tmpl_render - parse src and render it with data */
char *tmpl_render(const char *src, const char *srcname, const json_t *data, tmpl_loader load,
        void *arg, enum tmpl_escape esc, struct tmpl_error *err)
{
	struct rs r = {.load = load, .arg = arg, .esc = esc, .err = err, .bol = 1};
	struct tmpl *top;
	char *res;

	if (err)
		memset(err, 0, sizeof *err);
	if (!(top = tmpl_doc_new(src, NULL, srcname, err))) /* src is borrowed */
		return NULL;
	res = render_top(&r, &top->doc, data);
	tmpl_free(top);
	return res;
}

/* tmpl_render_compiled - render t with data */
char *tmpl_render_compiled(const struct tmpl *t, const json_t *data, tmpl_resolver resolve,
        void *arg, enum tmpl_escape esc, struct tmpl_error *err)
{
	struct rs r = {.resolve = resolve, .arg = arg, .esc = esc, .err = err, .bol = 1};

	if (err)
		memset(err, 0, sizeof *err);
	return render_top(&r, &t->doc, data);
}
