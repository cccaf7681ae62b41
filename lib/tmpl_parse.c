/*
 * tmpl_parse - the Mustache parser: tags, set delimiters, standalone lines
 * and the inheritance module's indentation rules; see tmpl_int.h.
 *
 * Standalone lines.  A section, inverted, close, comment, partial, block
 * or set-delimiter tag with only spaces and tabs around it on its line is
 * standalone: that whitespace and the line ending vanish, and a standalone
 * partial takes the whitespace before it as the indentation of each of its
 * lines.  Variables are never standalone.  Parents and blocks follow the
 * pair rules of the specification's tests (mustache/spec #130, #131):
 *
 *  - a parent pair is standalone when its opening tag has only whitespace
 *    before it on its line and its closing tag only whitespace after it:
 *    the whitespace before becomes the parent's indentation and the line
 *    ending after the closing tag vanishes.  Text inside a parent is
 *    ignored; only its blocks (the arguments) are kept;
 *  - an argument block's content starts after the line ending when its
 *    opening tag ends a line, and loses the whitespace before a closing tag
 *    that begins a line.  The whitespace that begins its first line then
 *    (the intrinsic indentation) is removed from each of its lines;
 *  - a parameter block (any block not directly inside a parent) passes
 *    the replacing content an indentation: the intrinsic indentation of its
 *    own content when both its tags are standalone, else the whitespace
 *    before its opening tag when that begins a line and its closing tag
 *    ends one.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_int.h"

#define QUOTE 60 /* bytes of a name quoted in an error */

struct frame {
	int node;           /* the container's node */
	int arg;            /* a BLOCK directly inside a PARENT */
	int open_l, open_r; /* the opening tag begins / ends its line */
	size_t outdent;     /* the outdentation to restore at the close */
	int ws_node;        /* PARENT: the text node ending in the whitespace */
	size_t ws_len;      /* before the opening tag, and its length */
	size_t ia, in;      /* PARENT, BLOCK: indentation (a range in text) */
};

struct parser {
	struct tdoc *d;
	struct tmpl_error *err;
	const char *otag, *ctag; /* the delimiters */
	size_t olen, clen;
	size_t pos;       /* where the source not yet emitted starts */
	size_t outdent;   /* whitespace removed at the start of each line */
	size_t skip;      /* whitespace still to remove on the current line */
	struct frame *st; /* open containers; st[0] is the root */
	size_t nst, cst;
};

struct tag {
	size_t t, end; /* the opening delimiter; just after the closing one */
	int sigil;     /* '#', '^', '/', '!', '>', '&', '{', '=', '<', '$' or 0 */
	int dyn;       /* '>', '<', '/': the name began with '*' */
	size_t ca, cn; /* the content after the sigil (and '*'), trimmed */
};

/* tmpl_set_error - name, line, column and message into err */
void tmpl_set_error(struct tmpl_error *err, const struct tdoc *d, size_t off, const char *fmt, ...)
{
	va_list ap;
	size_t i, bol = 0;
	int line = 1;

	if (!err)
		return;
	for (i = 0; i < off && i < d->len; i++) {
		if (d->src[i] == '\n') {
			line++;
			bol = i + 1;
		}
	}
	snprintf(err->file, sizeof err->file, "%s", d->name ? d->name : "");
	err->line = line;
	err->col = (int)(off - bol + 1);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

/* tmpl_doc_free - release what d owns */
void tmpl_doc_free(struct tdoc *d)
{
	free(d->name);
	free(d->own);
	free(d->text);
	free(d->nodes);
	memset(d, 0, sizeof *d);
}

/* oom - report an allocation failure at off; -1 */
static int oom(struct parser *P, size_t off)
{
	tmpl_set_error(P->err, P->d, off, "out of memory");
	return -1;
}

/* is_ws - whitespace inside a tag */
static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* text_add - append n bytes to d's text; -1 when out of memory */
static int text_add(struct tdoc *d, const char *s, size_t n)
{
	if (d->tlen + n + 1 > d->tcap) {
		size_t cap = d->tcap ? d->tcap : 256;
		char *p;
		while (cap < d->tlen + n + 1)
			cap *= 2;
		if (!(p = realloc(d->text, cap)))
			return -1;
		d->text = p;
		d->tcap = cap;
	}
	memcpy(d->text + d->tlen, s, n);
	d->tlen += n;
	return 0;
}

/* put_text - append src[from, to) to text, outdenting each line */
static int put_text(struct parser *P, size_t from, size_t to)
{
	const char *s = P->d->src;

	while (from < to) {
		const char *nl;
		size_t end;
		if (P->skip > 0 && (s[from] == ' ' || s[from] == '\t')) {
			P->skip--;
			from++;
			continue;
		}
		P->skip = 0;
		nl = memchr(s + from, '\n', to - from);
		end = nl ? (size_t)(nl - s) + 1 : to;
		if (text_add(P->d, s + from, end - from))
			return -1;
		if (nl)
			P->skip = P->outdent;
		from = end;
	}
	return 0;
}

/* add_node - a new last child of the innermost container; its index or -1 */
static int add_node(struct parser *P, int type, size_t tag, size_t a, size_t n)
{
	struct tdoc *d = P->d;
	struct tnode *nd, *c;
	int i;

	if (d->nnodes == d->ncap) {
		size_t cap = d->ncap ? d->ncap * 2 : 32;
		struct tnode *p;
		if (cap > INT_MAX || !(p = realloc(d->nodes, cap * sizeof *p)))
			return oom(P, tag);
		d->nodes = p;
		d->ncap = cap;
	}
	i = (int)d->nnodes++;
	nd = &d->nodes[i];
	memset(nd, 0, sizeof *nd);
	nd->type = type;
	nd->kid = nd->last = nd->next = -1;
	nd->tag = tag;
	nd->a = a;
	nd->n = n;
	if (type != TN_ROOT) {
		c = &d->nodes[P->st[P->nst - 1].node];
		if (c->last >= 0)
			d->nodes[c->last].next = i;
		else
			c->kid = i;
		c->last = i;
	}
	return i;
}

/* top - the innermost open container */
static struct frame *top(struct parser *P)
{
	return &P->st[P->nst - 1];
}

/* emit - the source text [from, to) as text of the innermost container */
static int emit(struct parser *P, size_t from, size_t to)
{
	struct tdoc *d = P->d;
	size_t start = d->tlen;
	struct tnode *c = &d->nodes[top(P)->node], *last;

	if (from >= to || c->type == TN_PARENT) /* text inside a parent is ignored */
		return 0;
	if (put_text(P, from, to))
		return oom(P, from);
	if (d->tlen == start)
		return 0;
	last = c->last >= 0 ? &d->nodes[c->last] : NULL;
	if (last && last->type == TN_TEXT && last->a + last->n == start) {
		last->n += d->tlen - start;
		return 0;
	}
	return add_node(P, TN_TEXT, from, start, d->tlen - start) < 0 ? -1 : 0;
}

/* indent - copy the whitespace src[q, t) at a line start, outdented, to
 * text; its range in *ia, *in */
static int indent(struct parser *P, size_t q, size_t t, size_t *ia, size_t *in)
{
	size_t k = t - q < P->outdent ? t - q : P->outdent;

	*ia = P->d->tlen;
	*in = t - q - k;
	return text_add(P->d, P->d->src + q + k, t - q - k) ? oom(P, t) : 0;
}

/* push - open a container for node i */
static int push(struct parser *P, int i, size_t tag)
{
	if (i < 0)
		return -1;
	if (P->nst == P->cst) {
		size_t cap = P->cst ? P->cst * 2 : 16;
		struct frame *p = realloc(P->st, cap * sizeof *p);
		if (!p)
			return oom(P, tag);
		P->st = p;
		P->cst = cap;
	}
	memset(&P->st[P->nst], 0, sizeof P->st[P->nst]);
	P->st[P->nst].node = i;
	P->st[P->nst].ws_node = -1;
	P->nst++;
	return 0;
}

/* finish - continue after the tag, or after its line when standalone */
static void finish(struct parser *P, const struct tag *g, int standalone, size_t line_end)
{
	P->pos = standalone ? line_end : g->end;
	P->skip = standalone ? P->outdent : 0;
}

/* scan_tag - read the tag at t into g; 0 ok, -1 with the error set */
static int scan_tag(struct parser *P, size_t t, struct tag *g)
{
	const char *s = P->d->src, *hit;
	size_t len = P->d->len, p = t + P->olen, e, c;

	memset(g, 0, sizeof *g);
	g->t = t;
	while (p < len && is_ws(s[p]))
		p++;
	if (p < len && strchr("#^/!>&{=<$", s[p])) /* s[p] != '\0' below len */
		g->sigil = s[p++];
	for (e = p;; e = c + 1) {
		hit = memmem(s + e, len - e, P->ctag, P->clen);
		if (!hit) {
			tmpl_set_error(P->err, P->d, t,
			        "unclosed tag: no \"%s%.*s\" after \"%.*s\"",
			        g->sigil == '{' ? "}" : "", (int)P->clen, P->ctag, (int)P->olen,
			        P->otag);
			return -1;
		}
		c = (size_t)(hit - s);
		if (g->sigil != '{' || (c > p && s[c - 1] == '}'))
			break;
	}
	g->end = c + P->clen;
	if (g->sigil == '{')
		c--;
	while (p < c && is_ws(s[p]))
		p++;
	while (c > p && is_ws(s[c - 1]))
		c--;
	if ((g->sigil == '>' || g->sigil == '<' || g->sigil == '/') && p < c && s[p] == '*') {
		g->dyn = 1;
		for (p++; p < c && is_ws(s[p]);)
			p++;
	}
	g->ca = p;
	g->cn = c - p;
	if (g->sigil == '!' || g->sigil == '=')
		return 0;
	if (g->cn == 0) {
		tmpl_set_error(P->err, P->d, t, "empty tag name");
		return -1;
	}
	for (e = p; e < c; e++) {
		if (is_ws(s[e])) {
			tmpl_set_error(P->err, P->d, t,
			        "bad tag name \"%.*s\": it contains whitespace",
			        (int)(g->cn < QUOTE ? g->cn : QUOTE), s + p);
			return -1;
		}
	}
	return 0;
}

/* set_delims - the new delimiters of a {{=open close=}} tag */
static int set_delims(struct parser *P, const struct tag *g)
{
	const char *s = P->d->src;
	size_t p = g->ca, c = g->ca + g->cn, a, b;
	const char *why = NULL;

	if (g->cn == 0 || s[c - 1] != '=')
		why = "no '=' before the closing delimiter";
	else {
		for (c--; c > p && is_ws(s[c - 1]);)
			c--;
		for (a = p; p < c && !is_ws(s[p]);)
			p++;
		P->otag = s + a;
		P->olen = p - a;
		while (p < c && is_ws(s[p]))
			p++;
		for (b = p; p < c && !is_ws(s[p]);)
			p++;
		P->ctag = s + b;
		P->clen = p - b;
		if (P->olen == 0 || P->clen == 0 || p != c)
			why = "it needs two delimiters separated by whitespace";
		else if (memchr(P->otag, '=', P->olen) || memchr(P->ctag, '=', P->clen))
			why = "a delimiter may not contain '='";
	}
	if (why) {
		tmpl_set_error(P->err, P->d, g->t, "bad set-delimiter tag: %s", why);
		return -1;
	}
	return 0;
}

/* same_name - the close tag g names the container's node */
static int same_name(const struct parser *P, const struct tnode *nd, const struct tag *g)
{
	const char *s = P->d->src;

	if (nd->dyn == g->dyn)
		return nd->n == g->cn && memcmp(s + nd->a, s + g->ca, g->cn) == 0;
	return !nd->dyn && nd->n == g->cn + 1 && s[nd->a] == '*' &&
	       memcmp(s + nd->a + 1, s + g->ca, g->cn) == 0;
}

/* what - a container's kind, for messages */
static const char *what(int type)
{
	switch (type) {
	case TN_INVERTED:
		return "inverted section";
	case TN_PARENT:
		return "parent";
	case TN_BLOCK:
		return "block";
	default:
		return "section";
	}
}

/* keep_blocks - drop every child of a parent but its blocks */
static void keep_blocks(struct tdoc *d, int parent)
{
	struct tnode *p = &d->nodes[parent];
	int i, last = -1;

	for (i = p->kid; i >= 0; i = d->nodes[i].next) {
		if (d->nodes[i].type != TN_BLOCK)
			continue;
		if (last >= 0)
			d->nodes[last].next = i;
		else
			p->kid = i;
		last = i;
	}
	if (last >= 0)
		d->nodes[last].next = -1;
	else
		p->kid = -1;
	p->last = last;
}

/* close_tag - a {{/name}} tag; L, R: it begins / ends its line */
static int close_tag(struct parser *P, const struct tag *g, size_t q, int L, int R, size_t line_end)
{
	struct frame *f = top(P);
	struct tnode *nd = &P->d->nodes[f->node];
	int sa = L && R;

	if (P->nst == 1) {
		tmpl_set_error(P->err, P->d, g->t, "close tag \"%.*s%.*s\" without an open section",
		        g->dyn, "*", (int)(g->cn < QUOTE ? g->cn : QUOTE), P->d->src + g->ca);
		return -1;
	}
	if (!same_name(P, nd, g)) {
		tmpl_set_error(P->err, P->d, g->t,
		        "close tag \"%.*s%.*s\" does not match the open %s \"%.*s%.*s\"", g->dyn,
		        "*", (int)(g->cn < QUOTE ? g->cn : QUOTE), P->d->src + g->ca,
		        what(nd->type), nd->dyn, "*", (int)(nd->n < QUOTE ? nd->n : QUOTE),
		        P->d->src + nd->a);
		return -1;
	}
	if (nd->type == TN_PARENT) {
		sa = f->open_l && R;
		if (sa) {
			if (f->ws_len)
				P->d->nodes[f->ws_node].n -= f->ws_len;
			nd->ia = f->ia;
			nd->in = f->in;
		}
		keep_blocks(P->d, f->node);
	} else if (f->arg) {
		if (emit(P, P->pos, L ? q : g->t))
			return -1;
		P->outdent = f->outdent;
		sa = 0;
	} else {
		if (emit(P, P->pos, sa ? q : g->t))
			return -1;
		nd = &P->d->nodes[f->node]; /* emit may have moved the nodes */
		if (nd->type == TN_BLOCK && R && f->open_l) {
			nd->ia = f->ia;
			nd->in = f->in;
		}
	}
	P->nst--;
	finish(P, g, sa, line_end);
	return 0;
}

/* open_block - a {{$name}} tag */
static int open_block(
        struct parser *P, const struct tag *g, size_t q, int L, int R, size_t line_end)
{
	const char *s = P->d->src;
	int arg = P->d->nodes[top(P)->node].type == TN_PARENT, sa = L && R, i;
	size_t w = line_end, saved = P->outdent;
	struct frame *f;

	if (!arg && emit(P, P->pos, sa ? q : g->t))
		return -1;
	i = add_node(P, TN_BLOCK, g->t, g->ca, g->cn);
	if (push(P, i, g->t))
		return -1;
	f = top(P);
	f->arg = arg;
	f->open_l = L;
	f->open_r = R;
	f->outdent = saved;
	while (w < P->d->len && (s[w] == ' ' || s[w] == '\t'))
		w++;
	if (arg) {
		if (R && w - line_end > P->outdent)
			P->outdent = w - line_end;
		finish(P, g, R, line_end);
		return 0;
	}
	if (sa && w - line_end > P->outdent) {
		f->ia = P->d->tlen;
		f->in = w - line_end - P->outdent;
		if (text_add(P->d, s + line_end + P->outdent, f->in))
			return oom(P, g->t);
	} else if (L && !R && indent(P, q, g->t, &f->ia, &f->in)) {
		return -1;
	}
	finish(P, g, sa, line_end);
	return 0;
}

/* open_parent - a {{<name}} tag */
static int open_parent(struct parser *P, const struct tag *g, size_t q, int L)
{
	struct frame *f;
	int i, ws;

	if (emit(P, P->pos, g->t))
		return -1;
	ws = P->d->nodes[top(P)->node].last;
	i = add_node(P, TN_PARENT, g->t, g->ca, g->cn);
	if (i < 0)
		return -1;
	P->d->nodes[i].dyn = g->dyn;
	if (push(P, i, g->t))
		return -1;
	f = top(P);
	f->open_l = L;
	if (L && indent(P, q, g->t, &f->ia, &f->in))
		return -1;
	if (L && f->in > 0 && ws >= 0 && P->d->nodes[ws].type == TN_TEXT) {
		f->ws_node = ws;
		f->ws_len = f->in;
	}
	finish(P, g, 0, 0);
	return 0;
}

/* one_tag - handle the tag g; 0 ok, -1 with the error set */
static int one_tag(struct parser *P, const struct tag *g)
{
	const char *s = P->d->src;
	size_t len = P->d->len, q = g->t, r = g->end, line_end;
	int L, R, sa, i;
	static const int types[256] = {['#'] = TN_SECTION, ['^'] = TN_INVERTED};

	while (q > P->pos && (s[q - 1] == ' ' || s[q - 1] == '\t'))
		q--;
	L = q > P->pos ? s[q - 1] == '\n' : (P->pos == 0 || s[P->pos - 1] == '\n');
	while (r < len && (s[r] == ' ' || s[r] == '\t'))
		r++;
	R = r == len || s[r] == '\n' || (s[r] == '\r' && r + 1 < len && s[r + 1] == '\n');
	line_end = r == len ? len : r + (s[r] == '\r' ? 2 : 1);
	sa = L && R;
	switch (g->sigil) {
	case '/':
		return close_tag(P, g, q, L, R, line_end);
	case '$':
		return open_block(P, g, q, L, R, line_end);
	case '<':
		return open_parent(P, g, q, L);
	case '!':
	case '=':
	case '#':
	case '^':
	case '>':
		if (emit(P, P->pos, sa ? q : g->t))
			return -1;
		if (g->sigil == '=' && set_delims(P, g))
			return -1;
		if (g->sigil == '#' || g->sigil == '^') {
			i = add_node(P, types[(unsigned char)g->sigil], g->t, g->ca, g->cn);
			if (push(P, i, g->t))
				return -1;
		} else if (g->sigil == '>') {
			if ((i = add_node(P, TN_PARTIAL, g->t, g->ca, g->cn)) < 0)
				return -1;
			P->d->nodes[i].dyn = g->dyn;
			if (sa && indent(P, q, g->t, &P->d->nodes[i].ia, &P->d->nodes[i].in))
				return -1;
		}
		finish(P, g, sa, line_end);
		return 0;
	default:
		if (emit(P, P->pos, g->t))
			return -1;
		i = add_node(P, g->sigil ? TN_RAW : TN_VAR, g->t, g->ca, g->cn);
		finish(P, g, 0, 0);
		return i < 0 ? -1 : 0;
	}
}

/* tmpl_parse - parse the whole template */
int tmpl_parse(struct tdoc *d, struct tmpl_error *err)
{
	struct parser P = {.d = d, .err = err, .otag = "{{", .ctag = "}}", .olen = 2, .clen = 2};
	struct tag g;
	const char *hit;
	int rc = -1;

	if (add_node(&P, TN_ROOT, 0, 0, 0) < 0 || push(&P, 0, 0))
		goto out;
	for (;;) {
		hit = memmem(d->src + P.pos, d->len - P.pos, P.otag, P.olen);
		if (!hit) {
			if (emit(&P, P.pos, d->len))
				goto out;
			break;
		}
		if (scan_tag(&P, (size_t)(hit - d->src), &g) || one_tag(&P, &g))
			goto out;
	}
	if (P.nst > 1) {
		const struct tnode *nd = &d->nodes[top(&P)->node];
		tmpl_set_error(err, d, nd->tag, "unclosed %s \"%.*s%.*s\"", what(nd->type), nd->dyn,
		        "*", (int)(nd->n < QUOTE ? nd->n : QUOTE), d->src + nd->a);
		goto out;
	}
	rc = 0;
out:
	free(P.st);
	return rc;
}
