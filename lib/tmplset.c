/*
 * tmplset - template lookup and template data; see tmplset.h.
 *
 * Paths are built only from names that cannot climb out of a template
 * directory: the kind ([a-z0-9_-], checked by job_parse), the locale
 * ([a-z]{2,3}(-[A-Za-z0-9]{2,8})*, checked by job_parse) and partial
 * names (tmplset_partial_name_ok; a dynamic partial name may come from
 * job data).  A partial that cannot be read is an error of the message,
 * not an empty partial, except when it does not exist (the Mustache
 * specification's rule).  Files come compiled from tmplset_cache.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datefmt.h"
#include "tmpl.h"
#include "tmplset.h"
#include "tmplset_int.h"
#include "utf8.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/spoold"
#endif

#define MAX_LOCALES 8

/* Where and in which languages to look, when, the first partial error and
 * the compiled templates to free at the end. */
struct lookup {
	const char *dirs[2];
	size_t ndirs;
	char locales[MAX_LOCALES][64]; /* most specific first; "" = no locale */
	size_t nlocales;
	time_t now;
	char err[1024];
	struct tmplset_trash trash;
};

/* tmplset_default_dir - the installed templates, or $SPOOLD_TEMPLATES */
const char *tmplset_default_dir(void)
{
	const char *env = getenv("SPOOLD_TEMPLATES");

	return env && *env ? env : SHAREDIR "/templates";
}

/* pct_encode - s into buf, bytes outside keep[] and the unreserved set as
 * %XX; -1 (buf empty) when it does not fit */
static int pct_encode(const char *s, const char *keep, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 4 > len) {
			buf[0] = '\0';
			return -1;
		}
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
		        (*p > ' ' && *p < 0x7f && strchr(keep, *p))) {
			buf[o++] = (char)*p;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
	return 0;
}

/* tmplset_unsubscribe - the mailto: and https: URIs of List-Unsubscribe */
int tmplset_unsubscribe(const struct conf *c, char *mailto, size_t mlen, char *url, size_t ulen)
{
	const char *addr =
	        c->message.unsubscribe_mailto ? c->message.unsubscribe_mailto : c->relay.from;
	char enc[TMPLSET_URI_MAX];

	mailto[0] = url[0] = '\0';
	if (addr && *addr) {
		if (pct_encode(addr, "!$'*+=@", enc, sizeof enc) < 0)
			return -1;
		if ((size_t)snprintf(mailto, mlen, "mailto:%s?subject=unsubscribe", enc) >= mlen)
			return -1;
	}
	/* A URL keeps its structure; only what may not appear in one is encoded. */
	if (c->message.unsubscribe_url &&
	        pct_encode(c->message.unsubscribe_url, "!#$&'()*+,/:;=?@[]%", url, ulen) < 0)
		return -1;
	return 0;
}

/* tmplset_data - the job without "spool", plus when, unsubscribe and ics */
json_t *tmplset_data(
        const struct job *j, const struct conf *c, time_t now, int ics, char *err, size_t errlen)
{
	char mailto[TMPLSET_URI_MAX], url[TMPLSET_URI_MAX];
	json_t *data = json_deep_copy(j->root), *when = NULL;

	if (!data) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_object_del(data, "spool");
	json_object_del(data, "when");
	json_object_del(data, "unsubscribe");
	json_object_del(data, "ics");
	if (datefmt_when(j, c->timezone, j->locale, now, &when, err, errlen) < 0) {
		json_decref(data);
		return NULL;
	}
	if (when)
		json_object_set_new(data, "when", when);
	if (!strcmp(j->kind, "recall")) {
		json_t *u;
		if (tmplset_unsubscribe(c, mailto, sizeof mailto, url, sizeof url) < 0) {
			snprintf(err, errlen, "message.unsubscribe_url or _mailto is too long");
			json_decref(data);
			return NULL;
		}
		u = json_object();
		if (*mailto)
			json_object_set_new(u, "mailto", json_string(mailto));
		if (*url)
			json_object_set_new(u, "url", json_string(url));
		json_object_set_new(data, "unsubscribe", u);
	}
	if (ics)
		json_object_set_new(data, "ics", json_true());
	return data;
}

/* utf8_bad - offset of the first invalid UTF-8 sequence in s[0..n), or n */
static size_t utf8_bad(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n && (k = utf8_char(s + i, n - i)) > 0)
		i += k;
	return i;
}

/* tmplset_read_file - a whole template file, checked */
char *tmplset_read_file(const char *path, int *missing, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0, bad;
	char *buf;
	int fd;

	*missing = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			*missing = 1;
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TMPLSET_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path,
		        !S_ISREG(st.st_mode) ? "not a regular file" : "larger than 256 KiB");
		close(fd);
		return NULL;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path,
			        n < 0 ? strerror(errno) : "shorter than its size");
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (memchr(buf, '\0', got)) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(buf);
		return NULL;
	}
	if ((bad = utf8_bad((unsigned char *)buf, got)) < got) {
		snprintf(err, errlen, "%s: not UTF-8 (byte %zu)", path, bad);
		free(buf);
		return NULL;
	}
	return buf;
}

/* tmplset_partial_name_ok - a name that stays inside partials/ */
int tmplset_partial_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		            (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

/* tmplset_collapse - one line: white space runs to one space, trimmed */
char *tmplset_collapse(char *s)
{
	char *o = s;

	for (const char *p = s; *p; p++) {
		if (strchr(" \t\r\n\v\f", *p)) {
			if (o > s && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *p;
		}
	}
	while (o > s && o[-1] == ' ')
		o--;
	*o = '\0';
	return s;
}

/* lookup_init - the directories and the job's locale chain */
static void lookup_init(struct lookup *lk, const struct job *j, const struct conf *c)
{
	size_t n;

	memset(lk, 0, sizeof *lk);
	if (c->templates_dir && *c->templates_dir)
		lk->dirs[lk->ndirs++] = c->templates_dir;
	lk->dirs[lk->ndirs++] = tmplset_default_dir();
	if (j->locale && (n = strlen(j->locale)) < sizeof lk->locales[0]) {
		char loc[64], *dash;
		memcpy(loc, j->locale, n + 1);
		for (;;) {
			memcpy(lk->locales[lk->nlocales++], loc, strlen(loc) + 1);
			if (!(dash = strrchr(loc, '-')) || lk->nlocales + 1 >= MAX_LOCALES)
				break;
			*dash = '\0';
		}
	}
	lk->locales[lk->nlocales++][0] = '\0';
	lk->now = tmplset_cache_now();
}

/* find - the first existing DIR/SUB/[LOCALE/]FILE, compiled under name
 * (NULL: its path); 1 with *hit set, 0 when there is none, -1 on a read
 * error (err says which) */
static int find(struct lookup *lk, const char *sub, const char *file, const char *name,
        struct tmplset_hit *hit, char *err, size_t errlen)
{
	for (size_t l = 0; l < lk->nlocales; l++) {
		for (size_t d = 0; d < lk->ndirs; d++) {
			int rc = tmplset_cache_get(lk->dirs[d], sub, lk->locales[l], file, name,
			        lk->now, &lk->trash, hit, err, errlen);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* tried - "no template SUB/FILE (tried PATH, ...)" into err */
static void tried(
        const struct lookup *lk, const char *sub, const char *file, char *err, size_t errlen)
{
	size_t o = (size_t)snprintf(err, errlen, "no template %s/%s (tried", sub, file);

	for (size_t l = 0; l < lk->nlocales; l++) {
		for (size_t d = 0; d < lk->ndirs && o < errlen; d++) {
			const char *loc = lk->locales[l];
			o += (size_t)snprintf(err + o, errlen - o, "%s %s/%s/%s%s%s",
			        l + d ? "," : "", lk->dirs[d], sub, loc, *loc ? "/" : "", file);
		}
	}
	if (o < errlen)
		snprintf(err + o, errlen - o, ")");
}

/* resolve_partial - tmpl_resolver: partials/[LOCALE/]NAME.mustache */
static int resolve_partial(
        const char *name, void *arg, const struct tmpl **out, struct tmpl_error *te)
{
	struct lookup *lk = arg;
	char file[80], err[1024];
	struct tmplset_hit hit;
	size_t n;
	int rc;

	*out = NULL;
	if (!tmplset_partial_name_ok(name))
		return 0;
	n = strlen(name); /* at most 64 */
	memcpy(file, name, n);
	memcpy(file + n, ".mustache", sizeof ".mustache");
	rc = find(lk, "partials", file, name, &hit, err, sizeof err);
	if (rc < 0 && !*lk->err)
		snprintf(lk->err, sizeof lk->err, "%s", err);
	if (rc <= 0)
		return 0; /* an empty partial */
	if (!hit.t) {
		if (te)
			*te = hit.err;
		return -1;
	}
	*out = hit.t;
	return 0;
}

/* render_one - find FILE of the kind and render it; *out NULL when the
 * file is optional and absent */
static int render_one(struct lookup *lk, const char *kind, const char *file, int required,
        const json_t *data, enum tmpl_escape esc, char **out, char *err, size_t errlen)
{
	char where[600];
	struct tmplset_hit hit;
	struct tmpl_error te;
	int rc;

	*out = NULL;
	if ((rc = find(lk, kind, file, NULL, &hit, err, errlen)) <= 0) {
		if (rc == 0 && required)
			tried(lk, kind, file, err, errlen);
		return rc == 0 && !required ? 0 : -1;
	}
	if (hit.t)
		*out = tmpl_render_compiled(hit.t, data, resolve_partial, lk, esc, &te);
	else
		te = hit.err;
	if (!*out) {
		snprintf(err, errlen, "template error: %s",
		        tmpl_error_format(&te, where, sizeof where));
		return -1;
	}
	if (*lk->err) {
		snprintf(err, errlen, "partial: %s", lk->err);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* tmplset_render - subject, body.txt, body.html */
int tmplset_render(const struct job *j, const struct conf *c, const json_t *data,
        struct tmplset *out, char *err, size_t errlen)
{
	struct lookup lk;

	memset(out, 0, sizeof *out);
	lookup_init(&lk, j, c);
	if (render_one(&lk, j->kind, "subject", 1, data, TMPL_ESCAPE_NONE, &out->subject, err,
	            errlen) < 0 ||
	        render_one(&lk, j->kind, "body.txt", 1, data, TMPL_ESCAPE_NONE, &out->text, err,
	                errlen) < 0 ||
	        render_one(&lk, j->kind, "body.html", 0, data, TMPL_ESCAPE_HTML, &out->html, err,
	                errlen) < 0) {
		tmplset_free(out);
		tmplset_trash_free(&lk.trash);
		return -1;
	}
	tmplset_collapse(out->subject);
	tmplset_trash_free(&lk.trash);
	return 0;
}

/* tmplset_free - release the texts */
void tmplset_free(struct tmplset *t)
{
	free(t->subject);
	free(t->text);
	free(t->html);
	memset(t, 0, sizeof *t);
}
